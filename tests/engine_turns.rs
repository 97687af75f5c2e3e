//! The turn is the engine's unit: `run_turn` driven twice against the fake OpenRouter,
//! as the tool loop will drive it, with a typed `UpstreamError` for a round that got no
//! answer, and usage added up over rounds.
mod common;

use common::fake::Fake;
use openrouter_pipe::engine::{run_turn, CollectSink, Routing, TurnInput};
use openrouter_pipe::stream::add_usage;
use openrouter_pipe::stream::Termination;
use openrouter_pipe::translate::Outbound;
use openrouter_pipe::valves::{Endpoint, Settings};
use openrouter_pipe::{StatusClass, UpstreamError};
use serde_json::json;

fn settings(fake: &Fake) -> Settings {
    let values = json!({"API_KEY": "sk-or-test-key", "BASE_URL": fake.base_url});
    Settings::new(values.as_object().unwrap().clone())
}

fn outbound(text: &str, stream: bool) -> Outbound {
    Outbound::new(json!({
        "model": "openai/gpt-4o-mini",
        "stream": stream,
        "input": [{"type": "message", "role": "user",
                   "content": [{"type": "input_text", "text": text}]}],
    }))
}

#[test]
fn two_rounds_each_answer_and_their_usage_adds_up() {
    let fake = Fake::start();
    let settings = settings(&fake);
    common::runtime().block_on(async {
        let mut total = None;
        for (round, (text, stream)) in [("first round", true), ("second round", false)]
            .into_iter()
            .enumerate()
        {
            let outbound = outbound(text, stream);
            let mut options = common::options();
            options.usage_before = total.clone();
            let input = TurnInput {
                settings: &settings,
                outbound: &outbound,
                streaming: stream,
                mapper: options,
                routing: &Routing::fixed(Endpoint::Responses),
            };
            let mut sink = CollectSink::default();
            let result = run_turn(&input, &mut sink).await.expect("an answer");
            assert_eq!(result.termination, Termination::Completed, "round {round}");
            assert!(result.answered());
            assert!(
                sink.text.contains(&format!("Echo: {text}")),
                "{}",
                sink.text
            );
            assert!(result.response_id.is_some());
            let round_usage = result.usage.clone().expect("usage");
            let shown = sink.usage.clone().expect("usage emitted");
            total = Some(match total {
                Some(before) => {
                    let sum = add_usage(&before, &round_usage);
                    // The usage shown after the second round is both rounds' together.
                    assert_eq!(shown["input_tokens"], sum["input_tokens"]);
                    assert!(sum["input_tokens"].as_u64() > round_usage["input_tokens"].as_u64());
                    sum
                }
                None => round_usage,
            });
        }
    });
    assert_eq!(fake.requests().matches("\"/api/v1/responses\"").count(), 2);
}

#[test]
fn a_rejected_round_is_a_typed_error_with_nothing_shown() {
    let fake = Fake::start();
    fake.enqueue(r#"{"error": 429, "headers": {"Retry-After": "4"}}"#);
    fake.enqueue(r#"{"error": 400}"#);
    let settings = settings(&fake);
    common::runtime().block_on(async {
        let outbound = outbound("hi", true);
        let input = TurnInput {
            settings: &settings,
            outbound: &outbound,
            streaming: true,
            mapper: common::options(),
            routing: &Routing::fixed(Endpoint::Responses),
        };
        let mut sink = CollectSink::default();
        let throttled = run_turn(&input, &mut sink).await.unwrap_err();
        assert_eq!(throttled.status_class(), StatusClass::Throttled);
        assert!(throttled.retryable());
        assert_eq!(
            throttled.retry_delay(),
            Some(std::time::Duration::from_secs(4))
        );
        let bad = run_turn(&input, &mut sink).await.unwrap_err();
        assert!(matches!(bad, UpstreamError::Status { status: 400, .. }));
        assert!(!bad.retryable());
        assert!(
            sink.text.is_empty() && sink.events.is_empty(),
            "no card yet"
        );
    });
}

#[test]
fn an_unreachable_server_is_a_retryable_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let values = json!({"API_KEY": "k", "BASE_URL": format!("http://127.0.0.1:{port}/api/v1")});
    let settings = Settings::new(values.as_object().unwrap().clone());
    common::runtime().block_on(async {
        let outbound = outbound("hi", false);
        let input = TurnInput {
            settings: &settings,
            outbound: &outbound,
            streaming: false,
            mapper: common::options(),
            routing: &Routing::fixed(Endpoint::Responses),
        };
        let err = run_turn(&input, &mut CollectSink::default())
            .await
            .unwrap_err();
        assert_eq!(err.status_class(), StatusClass::Transport);
        assert!(err.retryable());
    });
}

#[test]
fn a_chat_completions_round_answers_streamed_and_whole() {
    let fake = Fake::start();
    let settings = settings(&fake);
    common::runtime().block_on(async {
        for stream in [true, false] {
            let outbound = outbound("over chat completions", stream);
            let input = TurnInput {
                settings: &settings,
                outbound: &outbound,
                streaming: stream,
                mapper: common::options(),
                routing: &Routing::fixed(Endpoint::ChatCompletions),
            };
            let mut sink = CollectSink::default();
            let result = run_turn(&input, &mut sink).await.expect("an answer");
            assert_eq!(
                result.termination,
                Termination::Completed,
                "stream {stream}"
            );
            assert!(
                sink.text.contains("Echo: over chat completions"),
                "{}",
                sink.text
            );
            assert!(result.usage.unwrap()["input_tokens"].as_u64().unwrap() > 0);
        }
        let log = fake.requests();
        assert_eq!(log.matches("/api/v1/chat/completions").count(), 2, "{log}");
        assert!(!log.contains("/api/v1/responses"));
    });
}

#[test]
fn a_model_without_the_responses_api_is_sent_to_chat_completions_before_anything_shows() {
    let fake = Fake::start();
    let settings = settings(&fake);
    fake.enqueue(r#"{"responses_unsupported": true}"#);
    common::runtime().block_on(async {
        let outbound = outbound("fall back", true);
        let routing = Routing::for_answer(&settings, "openai/gpt-4o-mini", false);
        let input = TurnInput {
            settings: &settings,
            outbound: &outbound,
            streaming: true,
            mapper: common::options(),
            routing: &routing,
        };
        let mut sink = CollectSink::default();
        let result = run_turn(&input, &mut sink).await.expect("an answer");
        assert!(result.answered());
        assert_eq!(
            sink.text.matches("Echo: fall back").count(),
            1,
            "{}",
            sink.text
        );
        assert!(!sink.text.contains("Error"), "{}", sink.text);
        assert_eq!(routing.endpoint(), Endpoint::ChatCompletions);
    });
}
