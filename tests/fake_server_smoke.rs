//! Checks that the shared fake-OpenRouter helper (tests/common/fake.rs) works.
mod common;

use common::fake::Fake;

#[test]
fn fake_server_starts_and_records() {
    let fake = Fake::start();
    assert!(fake.base_url.ends_with("/api/v1"));
    fake.enqueue(r#"{"fixture": "stream_text.sse"}"#);
    let (status, body) = fake.call("GET", "/health", None);
    assert_eq!(status, 200);
    assert!(body.contains("\"ok\": true"), "{body}");
    let (status, _) = fake.call(
        "POST",
        "/api/v1/responses",
        Some(r#"{"model":"openai/gpt-4o-mini","input":"hi","stream":true}"#),
    );
    assert_eq!(status, 401); // no bearer token: rejected before any plan is used
    assert!(fake.requests().contains("\"path\": \"/api/v1/responses\""));
    assert!(fake.stats().contains("\"plans_queued\": 1"));
}
