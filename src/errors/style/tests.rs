//! Which template each failure uses, what the values hold, and the fallbacks to the
//! built-in card.

use super::*;
use crate::errors::{ErrorContext, RetryAfter};

fn style_with(class: CardClass, text: &str) -> CardStyle {
    let mut templates = CardTemplates::with_support("help@example.com".into(), String::new());
    templates.set(class, text.into());
    CardStyle::new(
        templates,
        RequestFacts {
            session_id: "sess-1".into(),
            user_id: "user-1".into(),
            endpoint: "https://openrouter.ai/api/v1/responses".into(),
            timeout_seconds: Some(30),
            ..RequestFacts::default()
        },
    )
}

fn report(kind: ErrorKind) -> ErrorReport {
    let mut r = ErrorReport::new(kind);
    r.model_label = "OpenAI: GPT-4o mini".into();
    r.model_id = "openai/gpt-4o-mini".into();
    r.at = 1_767_322_245; // 2026-01-02T02:50:45Z
    r
}

#[test]
fn every_kind_has_exactly_one_class() {
    use ErrorKind::*;
    let expected = [
        (BadRequest, CardClass::OpenRouter),
        (ContextTooLong, CardClass::OpenRouter),
        (Moderation, CardClass::OpenRouter),
        (Forbidden, CardClass::OpenRouter),
        (NotFound, CardClass::OpenRouter),
        (StreamFailure, CardClass::OpenRouter),
        (Authentication, CardClass::Authentication),
        (InsufficientCredits, CardClass::InsufficientCredits),
        (RateLimited, CardClass::RateLimit),
        (Timeout, CardClass::ServerTimeout),
        (PayloadTooLarge, CardClass::PayloadTooLarge),
        (ServiceError, CardClass::Service),
        (NetworkTimeout, CardClass::NetworkTimeout),
        (Network, CardClass::Connection),
        (Interrupted, CardClass::StreamInterrupted),
        (Internal, CardClass::Internal),
        (ModelRestricted, CardClass::ModelRestricted),
    ];
    for (kind, class) in expected {
        assert_eq!(CardClass::of(kind), class, "{kind:?}");
    }
}

#[test]
fn a_template_replaces_the_built_in_card_for_its_class_only() {
    let style = style_with(
        CardClass::RateLimit,
        "Slow down. Retry in {retry_after_seconds}s. Ref {error_id}.",
    );
    let mut r = report(ErrorKind::RateLimited);
    r.retry_after = Some(RetryAfter {
        seconds: Some(20),
        reset_at: None,
    });
    let shown = style.card(&r, || "BUILT-IN".into());
    assert_eq!(
        shown.markdown,
        format!("Slow down. Retry in 20s. Ref {}.", r.error_id)
    );
    assert_eq!(shown.problem, None);
    let other = style.card(&report(ErrorKind::Authentication), || "BUILT-IN".into());
    assert_eq!(other.markdown, "BUILT-IN");
}

#[test]
fn request_context_and_support_fill_the_generic_placeholders() {
    let style = style_with(
        CardClass::NetworkTimeout,
        "{{#if timeout_seconds}}No answer within {timeout_seconds}s from {endpoint}.{{/if}}\n\
         Time: {timestamp}\nSession: {session_id} / user {user_id}\nChat: {chat_id}\n\
         {{#if support_email}}Mail {support_email}{{/if}}\n{{#if support_url}}Visit {support_url}{{/if}}",
    );
    let shown = style.card(&report(ErrorKind::NetworkTimeout), String::new);
    assert_eq!(
        shown.markdown,
        "No answer within 30s from https://openrouter.ai/api/v1/responses.\n\
         Time: 2026-01-02T02:50:45Z\nSession: sess-1 / user user-1\nMail help@example.com"
    );
}

#[test]
fn heading_and_moderation_reasons_take_the_reference_shapes() {
    let style = style_with(CardClass::OpenRouter, "{heading}\n{moderation_reasons}");
    let mut r = report(ErrorKind::Moderation);
    r.status = Some(403);
    r.provider = Some("Anthropic".into());
    r.model_label = String::new();
    r.model_id = "anthropic/claude-3".into();
    r.moderation_reasons = vec!["content_policy".into(), "self_harm".into()];
    let shown = style.card(&r, String::new);
    assert_eq!(
        shown.markdown,
        "Anthropic: anthropic/claude-3\n- content_policy\n- self_harm"
    );
}

#[test]
fn reference_names_are_accepted() {
    let style = style_with(
        CardClass::Service,
        "{status_code} {reason} | {openrouter_code} | {detail} | {sanitized_detail} | {heading} | {model_identifier}",
    );
    let mut r = report(ErrorKind::ServiceError);
    r.status = Some(502);
    r.message = Some("upstream `down`".into());
    let shown = style.card(&r, String::new);
    assert_eq!(
        shown.markdown,
        "502 Bad Gateway | 502 | upstream `down` | upstream \\`down\\` | OpenAI: GPT-4o mini | openai/gpt-4o-mini"
    );
}

#[test]
fn broken_or_empty_templates_fall_back_to_the_built_in_card() {
    for text in [
        "{{#if message}}never closed",
        "{{/if}}",
        "{{#if provider}}{provider}{{/if}}",
    ] {
        let style = style_with(CardClass::OpenRouter, text);
        let shown = style.card(&report(ErrorKind::BadRequest), || "BUILT-IN".into());
        assert_eq!(shown.markdown, "BUILT-IN", "{text}");
        assert!(shown.problem.is_some(), "{text}");
    }
}

#[test]
fn a_key_in_a_template_or_a_value_never_reaches_the_card() {
    let key = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let style = style_with(
        CardClass::OpenRouter,
        &format!("Key {key}\nDetail: {{detail}}"),
    );
    let mut r = report(ErrorKind::BadRequest);
    r.message = Some(format!("bad key {key}"));
    let shown = style.card(&r, String::new);
    assert!(!shown.markdown.contains(key), "{}", shown.markdown);
}

#[test]
fn error_emits_log_why_a_template_was_not_used() {
    let ctx = ErrorContext {
        style: style_with(CardClass::Authentication, "{{#if x}}open"),
        ..ErrorContext::default()
    };
    let emits = crate::errors::http_error_emits(401, &[], "", &ctx);
    let crate::emit::Emit::Content(card) = &emits[0] else {
        panic!("card first")
    };
    assert!(card.contains("Authentication failed"), "{card}");
    assert!(card.contains("- **Support:** help@example.com"), "{card}");
    let crate::emit::Emit::Log { message, .. } = &emits[2] else {
        panic!("log last")
    };
    assert!(
        message.contains("authentication template was not used"),
        "{message}"
    );
}

#[test]
fn every_placeholder_is_documented() {
    let doc = include_str!("../../../docs/error-templates.md");
    for (name, _) in PLACEHOLDERS {
        assert!(
            doc.contains(&format!("`{{{name}}}`")),
            "docs/error-templates.md lacks {{{name}}}"
        );
    }
}

#[test]
fn a_402_template_shows_the_cost_and_balance_from_the_error_metadata() {
    let style = style_with(
        CardClass::InsufficientCredits,
        "Credits\n**Estimated cost:** ${required_cost}\n**Current balance:** ${account_balance}",
    );
    let body = r#"{"error":{"code":402,"message":"Insufficient credits",
        "metadata":{"required_cost":0.5,"account_balance":"0.25"}}}"#;
    let ctx = ErrorContext::default();
    let r = crate::errors::parse::report_from_http(402, &[], body, &ctx);
    let shown = style.card(&r, || "BUILT-IN".into());
    assert_eq!(
        shown.markdown,
        "Credits\n**Estimated cost:** $0.5\n**Current balance:** $0.25"
    );
}

#[test]
fn a_429_template_names_the_limit_type_from_the_scope_header() {
    let style = style_with(
        CardClass::RateLimit,
        "Wait {retry_after_seconds}s\nLimit type: {rate_limit_type}",
    );
    let headers = vec![
        ("Retry-After".to_owned(), "60".to_owned()),
        ("X-RateLimit-Scope".to_owned(), "user".to_owned()),
    ];
    let r = crate::errors::parse::report_from_http(
        429,
        &headers,
        r#"{"error":{"code":429,"message":"slow"}}"#,
        &ErrorContext::default(),
    );
    assert_eq!(
        style.card(&r, || "BUILT-IN".into()).markdown,
        "Wait 60s\nLimit type: user"
    );
}

#[test]
fn metadata_and_the_provider_raw_error_render_as_json_blocks() {
    let style = style_with(
        CardClass::OpenRouter,
        "Meta:\n{metadata_json}\nRaw:\n{provider_raw_json}\nGone: {native_finish_reason}",
    );
    let body = r#"{"error":{"code":400,"message":"bad",
        "metadata":{"provider_name":"Anthropic","raw":{"error":{"type":"invalid_request_error","message":"no"}}}}}"#;
    let r = crate::errors::parse::report_from_http(400, &[], body, &ErrorContext::default());
    let md = style.card(&r, || "BUILT-IN".into()).markdown;
    assert!(md.contains("\"provider_name\": \"Anthropic\""), "{md}");
    assert!(
        md.contains("Raw:\n{\n  \"error\": {\n    \"message\": \"no\""),
        "{md}"
    );
    assert!(
        !md.contains("Gone"),
        "an HTTP error has no finish reason: {md}"
    );
}

#[test]
fn model_limits_appear_only_when_the_failure_is_about_the_context_window() {
    let style = style_with(
        CardClass::OpenRouter,
        "{{#if include_model_limits}}Limits: {context_limit_tokens} / {max_output_tokens}{{/if}}\n{diagnostics}\nModel {api_model_id} ({normalized_model_id})",
    )
    .with_model(Some(200_000), Some(4096));
    let about_context = r#"{"error":{"code":400,"message":"This endpoint's maximum context length is 200000 tokens. Please reduce the length of the messages, or use the \"middle-out\" transform"}}"#;
    let r =
        crate::errors::parse::report_from_http(400, &[], about_context, &ErrorContext::default());
    let md = style.card(&r, || "BUILT-IN".into()).markdown;
    assert!(md.starts_with("Limits: 200,000 / 4,096\n"), "{md}");
    assert!(
        md.contains("- **Context window**: 200,000 tokens\n- **Max output tokens**: 4,096 tokens"),
        "{md}"
    );
    let other = crate::errors::parse::report_from_http(
        400,
        &[],
        r#"{"error":{"code":400,"message":"bad"}}"#,
        &ErrorContext::default(),
    );
    let md = style.card(&other, || "BUILT-IN".into()).markdown;
    assert!(!md.contains("Limits"), "{md}");
    assert!(md.contains("- **Context window**: 200,000 tokens"), "{md}");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1_000), "1,000");
    assert_eq!(thousands(1_234_567), "1,234,567");
}

#[test]
fn a_failed_chat_chunk_gives_its_id_time_model_and_finish_reason() {
    let style = style_with(
        CardClass::OpenRouter,
        "{{#if is_streaming_error}}stream{{/if}} {error_chunk_id} {error_chunk_created} {streaming_provider} {streaming_model} {native_finish_reason}",
    );
    let event = serde_json::json!({
        "type": "response.failed",
        "response": {"status": "failed", "error": {"code": 502, "message": "upstream died"},
            "chat_chunk": {"id": "gen-1", "created": 1767322245, "provider": "Groq",
                "model": "meta/llama", "choices": [{"finish_reason": "error", "native_finish_reason": "server_error"}]}}
    });
    let r = crate::errors::parse::report_from_stream_event(&event, &ErrorContext::default());
    assert_eq!(
        style.card(&r, || "BUILT-IN".into()).markdown,
        "stream gen-1 1767322245 Groq meta/llama server_error"
    );
}
