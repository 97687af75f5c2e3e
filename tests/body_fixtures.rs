//! Non-streaming bodies and pre-stream HTTP error fixtures: what the user sees.

mod common;

use common::*;
use openrouter_pipe::errors::{http_error_emits, ErrorContext};
use openrouter_pipe::stream::Clock;
use openrouter_pipe::stream::{ResponseMapper, Termination};
use openrouter_pipe::{Emit, LogLevel};
use serde_json::json;

#[test]
fn non_streaming_text_body() {
    let (clock, _h) = Clock::manual();
    let mut m = ResponseMapper::with_clock(options(), clock);
    let mut out = Vec::new();
    m.on_complete_body(&fixture_text("nonstream_response.json"), &mut out);
    assert_eq!(
        out[0],
        Emit::Content("The capital of France is Paris.".into())
    );
    assert_eq!(usages(&out)[0]["total_tokens"], 22);
    assert_eq!(m.termination, Termination::Completed);
    assert_eq!(tail_kinds(&out, 2), ["usage", "status"]);
    assert_eq!(
        last_status(&out).0,
        "Time: 0.00s | Cost $0.000007 | Total tokens: 22 (Input: 14, Output: 8)"
    );
}

#[test]
fn non_streaming_function_call_body() {
    let (clock, _h) = Clock::manual();
    let mut m = ResponseMapper::with_clock(options(), clock);
    let mut out = Vec::new();
    m.on_complete_body(&fixture_text("nonstream_function_call.json"), &mut out);
    assert_eq!(
        reasoning(&out),
        "**Choosing a tool**\n\nThe user wants live weather, so call get_weather."
    );
    let c = calls(&out);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].call_id, "call_Pq4Rs8Tu2Vw6Xy0Za3Bc7De1");
    assert_eq!(
        c[0].arguments,
        "{\"location\":\"Boston, MA\",\"unit\":\"fahrenheit\"}"
    );
    assert_eq!(m.output_items.len(), 2);
    assert_eq!(m.output_items[0]["type"], "reasoning");
    assert_eq!(m.output_items[1]["type"], "function_call");
    assert!(last_status(&out).0.contains("Reasoning: 64"));
}

#[test]
fn non_streaming_error_bodies_end_with_a_card() {
    let mut m = ResponseMapper::new(options());
    let mut out = Vec::new();
    m.on_complete_body(&fixture_text("error_402.json"), &mut out);
    assert_eq!(m.termination, Termination::Failed);
    assert!(content(&out).contains("Insufficient credits"));

    let mut m = ResponseMapper::new(options());
    let mut out = Vec::new();
    let failed = json!({"id":"gen-1","status":"failed","model":"x/y","output":[],
        "error":{"code":"server_error","message":"Upstream died"},"error_type":"provider_unavailable"});
    m.on_complete_body(&failed.to_string(), &mut out);
    assert_eq!(m.termination, Termination::Failed);
    assert!(content(&out).contains("Upstream died"));
    assert!(content(&out).contains("`provider_unavailable`"));

    let mut m = ResponseMapper::new(options());
    let mut out = Vec::new();
    m.on_complete_body("<html>oops</html>", &mut out);
    assert_eq!(m.termination, Termination::Failed);
    assert!(content(&out).contains("not valid JSON"));
}

fn headers_of(name: &str) -> Vec<(String, String)> {
    let path = format!("{}/fixtures/openrouter/{name}", env!("CARGO_MANIFEST_DIR"));
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[test]
fn error_fixture_cards() {
    let cases: &[(&str, u16, &[&str])] = &[
        (
            "error_400",
            400,
            &[
                "Anthropic could not process your request",
                "prompt is too long: 1048921 tokens > 1000000 maximum",
                "req_011CXa7Pq2Rm9Tz4Wn8Kb3Vd",
            ],
        ),
        (
            "error_400_context_length",
            400,
            &[
                "could not process your request",
                "maximum context length is 128000 tokens",
                "context window",
            ],
        ),
        (
            "error_401",
            401,
            &[
                "Authentication failed",
                "No auth credentials found",
                "**API_KEY** valve",
            ],
        ),
        (
            "error_401_user_not_found",
            401,
            &["Authentication failed", "User not found."],
        ),
        (
            "error_402",
            402,
            &["Insufficient credits", "can only afford 3919"],
        ),
        (
            "error_403_moderation",
            403,
            &[
                "flagged by moderation",
                "**Moderation reasons:** violence",
                "**Provider:** OpenAI",
                "at most 100 chars",
            ],
        ),
        (
            "error_408",
            408,
            &[
                "The request timed out",
                "Operation timed out. Please try again later.",
            ],
        ),
        (
            "error_429",
            429,
            &[
                "Rate limit reached",
                "free-models-per-day",
                "2026-01-02 00:00 UTC",
                "50 requests, 0 remaining",
            ],
        ),
        (
            "error_502",
            502,
            &[
                "Provider or service error",
                "**Provider:** Example Host",
                "upstream connect error or disconnect/reset before headers",
            ],
        ),
        (
            "error_503",
            503,
            &[
                "Provider or service error",
                "No allowed providers are available",
                "**Retry after:** 20 seconds",
            ],
        ),
    ];
    let ctx = ErrorContext {
        model_label: "Anthropic: Claude Sonnet 4.5".into(),
        model_id: "anthropic/claude-sonnet-4.5".into(),
        ..ErrorContext::default()
    };
    for (name, status, needles) in cases {
        let body = fixture_text(&format!("{name}.json"));
        let headers = headers_of(&format!("{name}.headers.txt"));
        let emits = http_error_emits(*status, &headers, &body, &ctx);
        let Emit::Content(card) = &emits[0] else {
            panic!("{name}: card first")
        };
        for n in *needles {
            assert!(card.contains(n), "{name}: card lacks {n:?}:\n{card}");
        }
        assert!(card.contains(&format!("**Status:** {status}")), "{name}");
        assert!(
            !card.contains("sk-or-") && !card.to_lowercase().contains("bearer"),
            "{name}"
        );
        assert!(!card.contains("Traceback"), "{name}");
        assert_eq!(
            emits[1],
            Emit::status("Encountered a provider error. See details below.", true)
        );
        let Emit::Log { level, message } = &emits[2] else {
            panic!("{name}: log third")
        };
        assert_eq!(*level, LogLevel::Warning);
        let id = &message[1..17];
        assert!(
            id.chars().all(|c| c.is_ascii_hexdigit()),
            "{name}: {message}"
        );
        assert!(card.contains(&format!("**Error ID:** `{id}`")), "{name}");
        assert!(
            message.contains(&format!("OpenRouter rejected the request: status={status}")),
            "{name}: {message}"
        );
    }
}
