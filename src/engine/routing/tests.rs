//! Tests of endpoint choice and the one-shot fallbacks: which API a model's chat goes
//! to, and how a rejected request is changed (once) before it is sent again.

use serde_json::{json, Map, Value};

use super::{nearest_effort, Routing};
use crate::http::UpstreamError;
use crate::translate::Outbound;
use crate::valves::{Endpoint, Settings};

const UNSUPPORTED: &str =
    include_str!("../../../fixtures/openrouter/error_400_responses_unsupported.json");
const EFFORT: &str = include_str!("../../../fixtures/openrouter/error_400_reasoning_effort.json");
const CACHE: &str = include_str!("../../../fixtures/openrouter/error_400_cache_control.json");
const THINKING: &str = include_str!("../../../fixtures/openrouter/error_400_thinking.json");
const CONTEXT: &str = include_str!("../../../fixtures/openrouter/error_400_context_length.json");

fn settings(valves: Value) -> Settings {
    match valves {
        Value::Object(map) => Settings::new(map),
        _ => Settings::new(Map::new()),
    }
}

fn rejected(status: u16, body: &str) -> UpstreamError {
    UpstreamError::Status {
        status,
        headers: Vec::new(),
        body: body.into(),
    }
}

fn outbound(body: Value) -> Outbound {
    Outbound::new(body)
}

fn sent(routing: &Routing, out: &Outbound) -> Value {
    serde_json::from_str(&routing.body_for(out)).unwrap()
}

#[test]
fn patterns_choose_the_endpoint_and_the_responses_list_wins() {
    let s = settings(json!({
        "FORCE_CHAT_COMPLETIONS_MODELS": "anthropic/*, mistralai/mistral-?",
        "FORCE_RESPONSES_MODELS": "anthropic/claude-opus*",
    }));
    let route = |model: &str| Routing::for_answer(&s, model, false).endpoint();
    assert_eq!(
        route("anthropic/claude-sonnet-4.5"),
        Endpoint::ChatCompletions
    );
    assert_eq!(
        route("Anthropic/Claude-Sonnet-4.5"),
        Endpoint::ChatCompletions
    );
    assert_eq!(
        route("anthropic.claude-sonnet-4.5"),
        Endpoint::ChatCompletions
    );
    assert_eq!(route("anthropic/claude-opus-4.1"), Endpoint::Responses);
    assert_eq!(route("mistralai/mistral-7"), Endpoint::ChatCompletions);
    assert_eq!(route("mistralai/mistral-70"), Endpoint::Responses);
    assert_eq!(route("openai/gpt-4o-mini"), Endpoint::Responses);
}

#[test]
fn a_pattern_for_a_model_covers_its_dated_snapshots() {
    let s = settings(json!({"FORCE_CHAT_COMPLETIONS_MODELS": "openai/gpt-4o, x/y-1"}));
    let route = |model: &str| Routing::for_answer(&s, model, false).endpoint();
    assert_eq!(route("openai/gpt-4o-2024-11-20"), Endpoint::ChatCompletions);
    assert_eq!(route("openai/gpt-4o-20241120"), Endpoint::ChatCompletions);
    assert_eq!(route("openai/gpt-4o"), Endpoint::ChatCompletions);
    assert_eq!(route("openai/gpt-4o-mini"), Endpoint::Responses);
    assert_eq!(
        route("openai/gpt-4o-2024-1-20"),
        Endpoint::Responses,
        "not a date"
    );
    assert_eq!(route("x/y-1-12345678"), Endpoint::ChatCompletions);
}

#[test]
fn the_default_endpoint_applies_to_chats_but_never_to_tasks() {
    let s = settings(json!({"DEFAULT_LLM_ENDPOINT": "chat_completions"}));
    assert_eq!(
        Routing::for_answer(&s, "openai/gpt-4o", false).endpoint(),
        Endpoint::ChatCompletions
    );
    assert_eq!(
        Routing::for_answer(&s, "openai/gpt-4o", true).endpoint(),
        Endpoint::Responses
    );
}

#[test]
fn the_chat_completions_body_is_the_translated_responses_body() {
    let routing = Routing::fixed(Endpoint::ChatCompletions);
    let out = outbound(json!({"model": "m", "input": "hi", "stream": true}));
    let body = sent(&routing, &out);
    assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
    assert!(body.get("input").is_none());
}

#[test]
fn responses_unsupported_falls_back_once_when_allowed() {
    let s = Settings::default();
    let routing = Routing::for_answer(&s, "fake/chat-only", false);
    let out = outbound(json!({"model": "fake/chat-only", "input": "hi"}));
    let line = routing.recover(&rejected(400, UNSUPPORTED), &out).unwrap();
    assert!(line.contains("Chat Completions"), "{line}");
    assert_eq!(routing.endpoint(), Endpoint::ChatCompletions);
    assert_eq!(routing.recover(&rejected(400, UNSUPPORTED), &out), None);

    let off = settings(json!({"AUTO_FALLBACK_CHAT_COMPLETIONS": false}));
    let routing = Routing::for_answer(&off, "fake/chat-only", false);
    assert_eq!(routing.recover(&rejected(400, UNSUPPORTED), &out), None);
    assert_eq!(routing.endpoint(), Endpoint::Responses);
}

#[test]
fn the_reference_wording_and_codes_count_as_responses_unsupported() {
    let out = outbound(json!({"model": "m"}));
    for body in [
        r#"{"error":{"code":400,"message":"This model does not support the Responses API."}}"#,
        r#"{"error":{"code":"responses_not_supported","message":"nope"}}"#,
        r#"{"error":{"code":400,"message":"Use chat/completions for this response"}}"#,
    ] {
        let routing = Routing::for_answer(&Settings::default(), "m", false);
        assert!(
            routing.recover(&rejected(400, body), &out).is_some(),
            "{body}"
        );
    }
    for body in [
        CONTEXT,
        r#"{"error":{"code":400,"message":"response_format json_schema is unsupported"}}"#,
    ] {
        let routing = Routing::for_answer(&Settings::default(), "m", false);
        assert_eq!(routing.recover(&rejected(400, body), &out), None, "{body}");
    }
}

#[test]
fn an_unsupported_effort_is_moved_to_the_nearest_supported_one() {
    let routing = Routing::fixed(Endpoint::Responses);
    let out = outbound(json!({"model": "openai/o3", "reasoning": {"effort": "xhigh"}}));
    let line = routing.recover(&rejected(400, EFFORT), &out).unwrap();
    assert_eq!(
        line,
        "Adjusting reasoning effort from 'xhigh' to 'high' (model doesn't support 'xhigh')…"
    );
    assert_eq!(sent(&routing, &out)["reasoning"]["effort"], "high");
    // Once only: a second rejection is left to the retry policy.
    assert_eq!(routing.recover(&rejected(400, EFFORT), &out), None);
}

#[test]
fn nearest_effort_follows_the_reference_order() {
    let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        nearest_effort("medium", &list(&["low", "medium"])).as_deref(),
        Some("medium")
    );
    assert_eq!(
        nearest_effort("minimal", &list(&["low", "high"])).as_deref(),
        Some("low")
    );
    assert_eq!(
        nearest_effort("medium", &list(&["low", "high"])).as_deref(),
        Some("high")
    );
    assert_eq!(
        nearest_effort("xhigh", &list(&["low", "high"])).as_deref(),
        Some("high")
    );
    assert_eq!(
        nearest_effort("odd", &list(&["low", "high"])).as_deref(),
        Some("low")
    );
}

#[test]
fn the_thinking_mismatch_drops_reasoning() {
    let routing = Routing::fixed(Endpoint::Responses);
    let out =
        outbound(json!({"model": "google/gemini-2.5-flash", "reasoning": {"max_tokens": 1024}}));
    assert!(routing.recover(&rejected(400, THINKING), &out).is_some());
    let body = sent(&routing, &out);
    assert!(body.get("reasoning").is_none());
    assert_eq!(body["include_reasoning"], false);
}

#[test]
fn an_anthropic_cache_control_rejection_drops_the_breakpoints() {
    let routing = Routing::fixed(Endpoint::Responses);
    let body = json!({"model": "anthropic/claude-sonnet-4.5", "input": [
        {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]});
    let out = outbound(body);
    assert!(routing.recover(&rejected(400, CACHE), &out).is_some());
    assert!(!routing.body_for(&out).contains("cache_control"));
    // Other models, or errors about something else, are not changed.
    let other = outbound(json!({"model": "openai/gpt-4o", "input": [{"cache_control": {}}]}));
    assert_eq!(
        Routing::fixed(Endpoint::Responses).recover(&rejected(400, CACHE), &other),
        None
    );
    let routing = Routing::fixed(Endpoint::Responses);
    assert_eq!(routing.recover(&rejected(400, CONTEXT), &out), None);
}

#[test]
fn server_errors_and_transport_failures_are_left_to_the_retry_policy() {
    let routing = Routing::for_answer(&Settings::default(), "m", false);
    let out = outbound(json!({"model": "m", "reasoning": {"effort": "high"}}));
    assert_eq!(routing.recover(&rejected(503, "{}"), &out), None);
    let lost = UpstreamError::Transport {
        detail: "connection refused".into(),
        timed_out: false,
    };
    assert_eq!(routing.recover(&lost, &out), None);
}

#[test]
fn chat_only_options_are_added_on_the_chat_completions_route_only() {
    let chat_body = json!({"stop": ["END"], "seed": 7.4, "logit_bias": {"50256": -100},
        "provider": {"order": ["groq"]}, "temperature": 0.2});
    let mut out = outbound(json!({"model": "openai/gpt-4o-mini", "stream": true, "input": []}));
    out.chat_only = crate::translate::chat_only_options(&chat_body);
    let responses = sent(&Routing::fixed(Endpoint::Responses), &out);
    assert!(responses.get("stop").is_none() && responses.get("seed").is_none());
    let chat = sent(&Routing::fixed(Endpoint::ChatCompletions), &out);
    assert_eq!(chat["stop"], json!(["END"]));
    assert_eq!(chat["seed"], 7);
    assert_eq!(chat["logit_bias"], json!({"50256": -100}));
    assert_eq!(chat["provider"], json!({"order": ["groq"]}));
    assert!(
        chat.get("temperature").is_none(),
        "sampling comes from the Responses body"
    );
}
