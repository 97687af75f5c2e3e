//! Card behaviour on synthetic bodies (the fixture bodies are covered in
//! `tests/stream_fixtures.rs`).

use super::*;
use serde_json::json;

fn ctx() -> ErrorContext {
    ErrorContext {
        model_label: "OpenAI: GPT-4o mini".into(),
        model_id: "openai/gpt-4o-mini".into(),
        ..ErrorContext::default()
    }
}

fn card_of(emits: &[Emit]) -> &str {
    match &emits[0] {
        Emit::Content(c) => c,
        other => panic!("first emit should be the card, got {other:?}"),
    }
}

fn error_id_of(card: &str) -> &str {
    let at = card.find("**Error ID:** `").expect("error id line") + "**Error ID:** `".len();
    &card[at..at + 16]
}

#[test]
fn http_error_order_and_shared_error_id() {
    let body = r#"{"error":{"message":"No auth credentials found","code":401}}"#;
    let emits = http_error_emits(401, &[], body, &ctx());
    assert_eq!(emits.len(), 3);
    let card = card_of(&emits);
    assert!(card.starts_with("\n\n### 🔐 Authentication failed"));
    assert!(card.contains("No auth credentials found"));
    assert!(card.contains("**API_KEY** valve"));
    assert_eq!(emits[1], Emit::status(PROVIDER_ERROR_STATUS, true));
    let id = error_id_of(card);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    match &emits[2] {
        Emit::Log { level, message } => {
            assert_eq!(*level, LogLevel::Warning);
            assert!(
                message.starts_with(&format!(
                    "[{id}] OpenRouter rejected the request: status=401"
                )),
                "{message}"
            );
        }
        other => panic!("expected log, got {other:?}"),
    }
}

#[test]
fn secrets_never_reach_card_or_log() {
    let key = "sk-or-v1-deadbeefdeadbeefdeadbeefdeadbeef";
    let body = json!({"error":{"message":format!("Invalid key {key}"),"code":401,
        "metadata":{"raw":format!("{{\"error\":{{\"message\":\"Authorization: Bearer {key}\"}}}}")}}})
    .to_string();
    let emits = http_error_emits(401, &[], &body, &ctx());
    for e in &emits {
        let text = format!("{e:?}");
        assert!(!text.contains("deadbeef"), "secret leaked in {text}");
    }
    let html = format!("<html><body>Authorization: Bearer {key}</body></html>");
    let emits = http_error_emits(502, &[], &html, &ctx());
    assert!(!format!("{emits:?}").contains("deadbeef"));
    let emits = transport_error_emits(&format!("proxy said Bearer {key}"), false, &ctx());
    assert!(!format!("{emits:?}").contains("deadbeef"));
}

#[test]
fn empty_and_plain_text_bodies() {
    let emits = http_error_emits(502, &[], "", &ctx());
    let card = card_of(&emits);
    assert!(card.contains("Provider or service error"));
    assert!(card.contains("502 Bad Gateway"));
    assert!(!card.contains("Response body"));

    let emits = http_error_emits(500, &[], "upstream exploded", &ctx());
    let card = card_of(&emits);
    assert!(card.contains("**Response body:**"));
    assert!(card.contains("upstream exploded"));
}

#[test]
fn huge_bodies_are_truncated() {
    let body = "x".repeat(100_000);
    let emits = http_error_emits(500, &[], &body, &ctx());
    let card = card_of(&emits);
    assert!(card.len() < 4000, "card is {} bytes", card.len());
    assert!(card.contains("truncated, 100000 bytes total"));
}

#[test]
fn html_bodies_show_their_title_and_text() {
    let page = "<!DOCTYPE html><html><head><title>504 Gateway Time-out</title></head>\
                <body><h1>Gateway</h1><script>evil()</script></body></html>";
    let card = card_of(&http_error_emits(504, &[], page, &ctx())).to_owned();
    assert!(card.contains("**Message:** 504 Gateway Time-out"));
    assert!(!card.contains("<script"));
    assert!(!card.contains("evil()"));
}

#[test]
fn retry_after_header_forms() {
    let h = |v: &str| vec![("Retry-After".to_string(), v.to_string())];
    let card = card_of(&http_error_emits(429, &h("20"), "{}", &ctx())).to_owned();
    assert!(card.contains("**Retry after:** 20 seconds"), "{card}");
    assert!(card.contains("Try again after 20 seconds."));
    let date = "Fri, 02 Jan 2026 00:00:00 GMT";
    let r = parse::report_from_http(429, &h(date), "", &ctx());
    assert!(r.retry_after.unwrap().seconds.is_some());
    let reset = vec![("x-ratelimit-reset".to_string(), "1767312000000".to_string())];
    let r = parse::report_from_http(429, &reset, "", &ctx());
    assert_eq!(r.retry_after.unwrap().reset_at, Some(1_767_312_000));
}

#[test]
fn string_codes_and_missing_error_object() {
    let body = r#"{"error":{"code":"invalid_prompt","message":"Bad prompt"},"metadata":null}"#;
    let card = card_of(&http_error_emits(400, &[], body, &ctx())).to_owned();
    assert!(card.contains("could not process your request"));
    assert!(card.contains("`invalid_prompt`"));
    let body = r#"{"message":"flat message"}"#;
    let card = card_of(&http_error_emits(400, &[], body, &ctx())).to_owned();
    assert!(card.contains("flat message"));
}

#[test]
fn transport_cards() {
    let emits = transport_error_emits("connection refused", false, &ctx());
    let card = card_of(&emits);
    assert!(card.contains("Could not reach OpenRouter"));
    assert!(card.contains("connection refused"));
    assert_eq!(emits[1], Emit::status(TRANSPORT_ERROR_STATUS, true));
    let emits = transport_error_emits("deadline elapsed", true, &ctx());
    assert!(card_of(&emits).contains("did not answer in time"));
}

#[test]
fn stream_error_shapes() {
    let flat = json!({"type":"error","code":"rate_limit_exceeded","message":"Rate limit exceeded","param":null});
    let e = stream_error(&flat, false, &ctx());
    assert_eq!(e.report.code.as_deref(), Some("rate_limit_exceeded"));
    assert_eq!(e.report.message.as_deref(), Some("Rate limit exceeded"));
    assert_eq!(e.report.error_type, None);
    assert!(e.report.retryable);

    let nested = json!({"type":"error","error":{"code":"invalid_prompt","message":"nope"}});
    let e = stream_error(&nested, false, &ctx());
    assert_eq!(e.report.message.as_deref(), Some("nope"));
    assert!(!e.report.retryable);
    match &e.card {
        Emit::Content(c) => assert!(c.contains("Try again, or pick another model.")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stream_error_before_any_text_does_not_speak_of_the_text_above() {
    let event = json!({"type":"error","error":{"code":"server_error","message":"boom"}});
    let card = |before_any_text| match stream_error(&event, before_any_text, &ctx()).card {
        Emit::Content(c) => c,
        other => panic!("{other:?}"),
    };
    assert!(card(false).contains("the text above is incomplete"));
    let first = card(true);
    assert!(first.contains("before writing any answer"), "{first}");
    assert!(!first.contains("text above"), "{first}");
}

#[test]
fn card_fence_survives_backticks_in_raw_body() {
    let emits = http_error_emits(500, &[], "a ``` b ```` c", &ctx());
    assert!(card_of(&emits).contains("`````text\n"));
}

#[test]
fn every_built_in_card_says_when_it_happened_in_utc() {
    let mut report = ErrorReport::new(ErrorKind::ServiceError);
    report.at = 1_764_633_600; // 2025-12-02 00:00 UTC
    let card = card::render(&report, &Default::default());
    assert!(card.contains("- **Time:** 2025-12-02 00:00 UTC"), "{card}");
}

#[test]
fn a_pipe_failure_does_not_blame_openrouter_on_the_built_in_card() {
    let emits = internal_failure_emits("openai/gpt-4o-mini", &Default::default());
    let card: String = emits
        .iter()
        .filter_map(|e| match e {
            Emit::Content(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    assert!(card.contains("The pipe failed while answering"), "{card}");
    assert!(
        !card.contains("Unexpected answer from OpenRouter"),
        "{card}"
    );
    let mut unusable = ErrorReport::new(ErrorKind::Internal);
    unusable.message = Some("not JSON".into());
    let card = card::render(&unusable, &Default::default());
    assert!(card.contains("Unexpected answer from OpenRouter"), "{card}");
}
