//! Reading OpenRouter error bodies, headers and in-stream error events into an
//! [`ErrorReport`]. Bodies are untrusted: JSON or not, empty, huge, HTML; codes are numbers
//! or strings; `metadata.raw` is a JSON string, an object or plain text.

use serde_json::Value;

use super::redact::{html_text, html_title, inline, looks_like_html, redact, truncate};
use super::report::{ErrorKind, ErrorReport, RetryAfter};
use super::ErrorContext;
use crate::time::{parse_http_date, unix_now};

/// Longest raw body text shown on a card.
pub const RAW_EXCERPT_MAX: usize = 2048;
/// Longest single message shown inline.
const MESSAGE_MAX: usize = 1000;

/// Canonical codes for which a later retry of the same request can succeed.
const RETRYABLE_CODES: &[&str] = &[
    "server_error",
    "timeout",
    "rate_limit_exceeded",
    "provider_overloaded",
    "provider_unavailable",
    "temporarily_unavailable",
];

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn clean(s: &str) -> String {
    inline(&redact(s), MESSAGE_MAX)
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// `X-RateLimit-Reset` is observed in Unix milliseconds; small values are taken as seconds.
fn reset_secs(v: &str) -> Option<u64> {
    let n: u64 = v.trim().parse().ok()?;
    Some(if n >= 100_000_000_000 { n / 1000 } else { n })
}

/// When the server says a request may be tried again (headers, then the error body).
pub fn retry_after(headers: &[(String, String)], error: Option<&Value>) -> Option<RetryAfter> {
    let meta = error.and_then(|e| e.get("metadata"));
    let meta_headers = meta.and_then(|m| m.get("headers"));
    let mut r = RetryAfter::default();
    if let Some(h) = header(headers, "retry-after") {
        match h.parse::<f64>() {
            Ok(s) if s >= 0.0 => r.seconds = Some(s.ceil() as u64),
            _ => r.seconds = parse_http_date(h).map(|at| at.saturating_sub(unix_now())),
        }
    }
    if r.seconds.is_none() {
        let candidates = [
            error.and_then(|e| e.pointer("/availability/retry_after")),
            meta.and_then(|m| m.get("retry_after_seconds")),
            meta.and_then(|m| m.get("retry_after")),
        ];
        r.seconds = candidates
            .into_iter()
            .flatten()
            .find_map(|v| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok()))
            .filter(|s| *s >= 0.0)
            .map(|s| s.ceil() as u64);
    }
    let reset = header(headers, "x-ratelimit-reset")
        .map(str::to_owned)
        .or_else(|| {
            let obj = meta_headers?.as_object()?;
            let (_, v) = obj
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-ratelimit-reset"))?;
            text(Some(v))
        });
    r.reset_at = reset.as_deref().and_then(reset_secs);
    (r.seconds.is_some() || r.reset_at.is_some()).then_some(r)
}

fn rate_limit(headers: &[(String, String)], error: Option<&Value>) -> Option<String> {
    let meta = error.and_then(|e| e.get("metadata"));
    let from_meta = |name: &str| {
        let obj = meta?.get("headers")?.as_object()?;
        text(
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v),
        )
    };
    let get = |name: &str| {
        header(headers, name)
            .map(str::to_owned)
            .or_else(|| from_meta(name))
    };
    let mut parts = Vec::new();
    if let Some(limit) = get("x-ratelimit-limit") {
        parts.push(format!("{} requests", clean(&limit)));
    }
    if let Some(rem) = get("x-ratelimit-remaining") {
        parts.push(format!("{} remaining", clean(&rem)));
    }
    if let Some(src) = text(meta.and_then(|m| m.get("limit_source"))) {
        parts.push(format!("source: {}", clean(&src)));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Upstream message, type and request id out of `metadata.raw` (JSON string, object or
/// plain text).
fn upstream(raw: &Value) -> (Option<String>, Option<String>, Option<String>) {
    let parsed;
    let obj = match raw {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => {
                parsed = v;
                &parsed
            }
            _ => return (text(Some(raw)), None, None),
        },
        Value::Object(_) => raw,
        _ => return (None, None, None),
    };
    let err = obj.get("error").filter(|e| e.is_object());
    let message = text(err.and_then(|e| e.get("message")))
        .or_else(|| text(obj.get("message")))
        .or_else(|| text(obj.get("error")));
    let kind =
        text(err.and_then(|e| e.get("type"))).or_else(|| text(err.and_then(|e| e.get("code"))));
    let request_id =
        text(obj.get("request_id")).or_else(|| text(err.and_then(|e| e.get("request_id"))));
    (message, kind, request_id)
}

/// `value` as indented JSON for a fenced block on a card, redacted and shortened.
fn pretty(value: &Value) -> String {
    let json = serde_json::to_string_pretty(value).unwrap_or_default();
    truncate(&redact(&json), RAW_EXCERPT_MAX)
}

/// The reference's rarer metadata: `rate_limit_type`, the 402's `required_cost` and
/// `account_balance`, and the metadata and provider error as JSON blocks.
fn apply_metadata(r: &mut ErrorReport, meta: Option<&Value>) {
    let Some(meta) = meta.filter(|m| m.as_object().is_some_and(|o| !o.is_empty())) else {
        return;
    };
    let field = |names: &[&str]| names.iter().find_map(|n| text(meta.get(*n)));
    let facts = [
        ("rate_limit_type", field(&["rate_limit_type", "limit_type"])),
        ("required_cost", field(&["required_cost", "estimated_cost"])),
        ("account_balance", field(&["account_balance", "balance"])),
    ];
    for (name, value) in facts {
        if let Some(v) = value {
            r.extras.insert(name, clean(&v));
        }
    }
    r.extras.insert("metadata_json", pretty(meta));
    let raw = match meta.get("raw") {
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .map(|v| pretty(&v))
            .or_else(|| {
                (!s.trim().is_empty()).then(|| truncate(&redact(s.trim()), RAW_EXCERPT_MAX))
            }),
        Some(v @ (Value::Object(_) | Value::Array(_))) => Some(pretty(v)),
        _ => None,
    };
    if let Some(raw) = raw {
        r.extras.insert("provider_raw_json", raw);
    }
}

/// Fills the report from an OpenRouter `error` object (HTTP body or stream event).
pub fn apply_error_object(r: &mut ErrorReport, error: &Value) {
    r.message = text(error.get("message"))
        .map(|m| clean(&m))
        .or(r.message.take());
    r.code = text(error.get("code")).map(|c| clean(&c)).or(r.code.take());
    let meta = error.get("metadata");
    apply_metadata(r, meta);
    let err_type = text(error.get("error_type"))
        .or_else(|| text(meta.and_then(|m| m.get("error_type"))))
        .or_else(|| text(error.get("type")));
    if let Some(t) = err_type.filter(|t| t != "error") {
        r.error_type = Some(clean(&t));
    }
    if let Some(p) = text(
        meta.and_then(|m| m.get("provider_name"))
            .or(error.get("provider")),
    ) {
        r.provider = Some(clean(&p));
    }
    if let Some(raw) = meta.and_then(|m| m.get("raw")) {
        let (msg, kind, req) = upstream(raw);
        if let Some(m) = msg
            .map(|m| clean(&m))
            .filter(|m| Some(m) != r.message.as_ref())
        {
            r.provider_message = Some(m);
        }
        if r.error_type.is_none() {
            r.error_type = kind.map(|k| clean(&k));
        }
        r.request_id = r.request_id.take().or(req.map(|q| clean(&q)));
    }
    if let Some(req) = text(meta.and_then(|m| m.get("request_id"))) {
        r.request_id = Some(clean(&req));
    }
    if let Some(reasons) = meta
        .and_then(|m| m.get("reasons"))
        .and_then(Value::as_array)
    {
        r.moderation_reasons = reasons
            .iter()
            .filter_map(|v| text(Some(v)))
            .map(|s| clean(&s))
            .collect();
    }
    if let Some(flagged) = text(meta.and_then(|m| m.get("flagged_input"))) {
        r.flagged_input = Some(clean(&flagged));
    }
    let slug = text(meta.and_then(|m| m.get("model_slug")));
    if let (Some(slug), true) = (slug, r.model_id.is_empty()) {
        r.model_id = clean(&slug);
    }
    let retryable_flag = error
        .pointer("/availability/retryable")
        .and_then(Value::as_bool);
    let code_retryable = [&r.code, &r.error_type]
        .into_iter()
        .flatten()
        .any(|c| RETRYABLE_CODES.contains(&c.as_str()));
    r.retryable = r.retryable || retryable_flag.unwrap_or(false) || code_retryable;
}

fn mentions_context_overflow(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    [
        "context length",
        "context window",
        "middle-out",
        "prompt is too long",
        "too many tokens",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// Report for an HTTP error response received before the stream started.
pub fn report_from_http(
    status: u16,
    headers: &[(String, String)],
    body: &str,
    ctx: &ErrorContext,
) -> ErrorReport {
    let mut r = ErrorReport::new(ErrorKind::from_status(status));
    r.status = Some(status);
    r.model_label = ctx.model_label.clone();
    r.model_id = ctx.model_id.clone();
    r.retryable = matches!(status, 408 | 429 | 500..=599);

    let json = serde_json::from_str::<Value>(body.trim()).ok();
    let error = json.as_ref().and_then(|j| match j.get("error") {
        Some(e @ Value::Object(_)) => Some(e),
        _ => None,
    });
    match (&json, error) {
        (_, Some(err)) => apply_error_object(&mut r, err),
        (Some(j), None) => {
            r.message = text(j.get("message"))
                .or_else(|| text(j.get("error")))
                .or_else(|| text(j.get("detail")))
                .map(|m| clean(&m));
            if r.message.is_none() && !body.trim().is_empty() {
                r.raw_excerpt = Some(truncate(&redact(body.trim()), RAW_EXCERPT_MAX));
            }
        }
        (None, None) if looks_like_html(body) => {
            r.message = html_title(body).map(|t| clean(&t));
            let visible = html_text(body);
            if !visible.is_empty() {
                r.raw_excerpt = Some(truncate(&redact(&visible), RAW_EXCERPT_MAX));
            }
        }
        (None, None) => {
            if !body.trim().is_empty() {
                r.raw_excerpt = Some(truncate(&redact(body.trim()), RAW_EXCERPT_MAX));
            }
        }
    }
    if let Some(req) = json.as_ref().and_then(|j| text(j.get("request_id"))) {
        r.request_id = r.request_id.take().or(Some(clean(&req)));
    }
    r.retry_after = retry_after(headers, error);
    if status == 429 || r.retry_after.is_some() {
        r.rate_limit = rate_limit(headers, error);
    }
    if let Some(scope) = header(headers, "x-ratelimit-scope").filter(|s| !s.is_empty()) {
        r.extras
            .entry("rate_limit_type")
            .or_insert_with(|| clean(scope));
    }

    let all_text = format!(
        "{} {}",
        r.message.as_deref().unwrap_or(""),
        r.provider_message.as_deref().unwrap_or("")
    );
    if status == 403 && (!r.moderation_reasons.is_empty() || r.flagged_input.is_some()) {
        r.kind = ErrorKind::Moderation;
    } else if r.kind == ErrorKind::BadRequest && mentions_context_overflow(&all_text) {
        r.kind = ErrorKind::ContextTooLong;
    }
    r
}

/// Report for an error that arrived inside the stream (`response.failed`, `error`,
/// `response.error`, or any event with an `error` object). `event` is the whole event.
pub fn report_from_stream_event(event: &Value, ctx: &ErrorContext) -> ErrorReport {
    let mut r = ErrorReport::new(ErrorKind::StreamFailure);
    r.model_label = ctx.model_label.clone();
    r.model_id = ctx.model_id.clone();
    let response = event.get("response").filter(|v| v.is_object());
    let error = event.get("error").filter(|e| e.is_object()).or_else(|| {
        response
            .and_then(|resp| resp.get("error"))
            .filter(|e| e.is_object())
    });
    match error {
        Some(err) => apply_error_object(&mut r, err),
        None => apply_error_object(&mut r, event), // flat `{"type":"error","code","message"}`
    }
    if let Some(t) = response.and_then(|resp| text(resp.get("error_type"))) {
        r.error_type = Some(clean(&t));
    }
    if let Some(t) = text(event.get("error_type")) {
        r.error_type = Some(clean(&t));
    }
    if r.model_id.is_empty() {
        if let Some(m) = response.and_then(|resp| text(resp.get("model"))) {
            r.model_id = clean(&m);
        }
    }
    if r.provider.is_none() {
        let p = text(event.get("provider"))
            .or_else(|| response.and_then(|resp| text(resp.get("provider"))));
        r.provider = p.map(|p| clean(&p));
    }
    let id = response
        .and_then(|resp| text(resp.get("id")))
        .or_else(|| text(event.get("response_id")));
    r.request_id = r.request_id.take().or(id.map(|i| clean(&i)));
    let retryable = [&r.code, &r.error_type]
        .into_iter()
        .flatten()
        .any(|c| RETRYABLE_CODES.contains(&c.as_str()));
    r.retryable = r.retryable || retryable;
    if let Some(status) = r.code.as_deref().and_then(|c| c.parse::<u16>().ok()) {
        if (400..600).contains(&status) {
            r.status = Some(status);
        }
    }
    apply_stream_facts(&mut r, event, response);
    r
}

/// What the reference's templates say about the failing chunk: its id and time, the
/// provider and model that streamed it, and the provider's own finish reason. A Chat
/// Completions chunk arrives here inside the Responses-shaped event as
/// `response.chat_chunk`.
fn apply_stream_facts(r: &mut ErrorReport, event: &Value, response: Option<&Value>) {
    let chunk = response
        .and_then(|resp| resp.get("chat_chunk"))
        .filter(|c| c.is_object())
        .unwrap_or(event);
    let choice = chunk.pointer("/choices/0");
    let pick = |places: &[Option<&Value>]| places.iter().find_map(|v| text(*v)).map(|s| clean(&s));
    let facts = [
        (
            "native_finish_reason",
            pick(&[
                choice.and_then(|c| c.get("native_finish_reason")),
                choice.and_then(|c| c.get("finish_reason")),
            ]),
        ),
        ("error_chunk_id", pick(&[chunk.get("id")])),
        (
            "error_chunk_created",
            pick(&[
                chunk.get("created"),
                response.and_then(|resp| resp.get("created_at")),
            ]),
        ),
        (
            "streaming_provider",
            pick(&[chunk.get("provider")]).or_else(|| r.provider.clone()),
        ),
        (
            "streaming_model",
            pick(&[
                chunk.get("model"),
                response.and_then(|resp| resp.get("model")),
            ]),
        ),
        ("is_streaming_error", Some("true".to_owned())),
    ];
    for (name, value) in facts {
        if let Some(v) = value {
            r.extras.insert(name, v);
        }
    }
    if !r.extras.contains_key("metadata_json") {
        let mut meta = serde_json::json!({"stream_event_type": event.get("type")});
        if let Some(status) = response.and_then(|resp| resp.get("status")) {
            meta["response_status"] = status.clone();
        }
        r.extras.insert("metadata_json", pretty(&meta));
    }
}
