//! The one place error cards are rendered (markdown), plus the matching log line.
//!
//! A card says, in this order: what happened in plain words (heading + one sentence), the
//! facts (provider message, model, status, retry time, error id), the raw body when it
//! was unreadable, and what to do next. Values come from [`ErrorReport::values`] so an
//! operator template can later replace this layout without touching the parsing.

use super::report::{ErrorKind, ErrorReport};
use super::style::CardTemplates;

/// Heading, one-sentence explanation and advice for a report.
pub fn texts(r: &ErrorReport) -> (String, String, String) {
    let subject = r.subject();
    let retry = r
        .retry_after
        .as_ref()
        .filter(|ra| ra.is_pending())
        .and_then(|ra| ra.describe())
        .map_or_else(
            || "Wait a moment and try again.".to_owned(),
            |w| format!("Try again after {w}."),
        );
    let (heading, explain, hint): (String, &str, String) = match r.kind {
        ErrorKind::BadRequest => (
            format!("🚫 {subject} could not process your request"),
            "The request was rejected as invalid.",
            "Check the message and attachments, or try another model.".into(),
        ),
        ErrorKind::ContextTooLong => (
            format!("🚫 {subject} could not process your request"),
            "The conversation is longer than this model's context window.",
            "Start a new chat, remove large attachments, or pick a model with a larger context window.".into(),
        ),
        ErrorKind::Authentication => (
            "🔐 Authentication failed".into(),
            "OpenRouter did not accept the API key (it may be missing, mistyped, revoked or deleted).",
            "An administrator should check the **API_KEY** valve of this pipe (Admin Panel → Functions → Valves) \
             or the `OPENROUTER_API_KEY` environment variable. Keys are managed at https://openrouter.ai/keys."
                .into(),
        ),
        ErrorKind::InsufficientCredits => (
            "💳 Insufficient credits".into(),
            "The OpenRouter account, or this key's spending limit, does not cover this request.",
            "Add credits at https://openrouter.ai/settings/credits, or ask for a shorter answer.".into(),
        ),
        ErrorKind::Moderation => (
            "🛡️ Your request was flagged by moderation".into(),
            "The provider requires moderation for this model and flagged the input.",
            "Rephrase the flagged part and try again, or pick another model.".into(),
        ),
        ErrorKind::Forbidden => (
            "⛔ Access denied".into(),
            "OpenRouter refused this request (a guardrail, a key limit or missing permissions).",
            "Ask an administrator to check the key's limits and guardrails.".into(),
        ),
        ErrorKind::NotFound => (
            "🔍 Model not found".into(),
            "OpenRouter has no available endpoint for this model with the requested features.",
            "Choose another model, or ask an administrator to refresh the model list.".into(),
        ),
        ErrorKind::Timeout => (
            "🕒 The request timed out".into(),
            "OpenRouter or the provider took too long to answer.",
            "Try again; a shorter prompt or answer may help.".into(),
        ),
        ErrorKind::PayloadTooLarge => (
            "📦 The request is too large".into(),
            "The message with its history and attachments exceeds what OpenRouter accepts.",
            "Remove large attachments or start a new chat.".into(),
        ),
        ErrorKind::RateLimited => (
            "⏸️ Rate limit reached".into(),
            "Too many requests were sent in a short time.",
            retry,
        ),
        ErrorKind::ServiceError => (
            "🔴 Provider or service error".into(),
            "OpenRouter or the model provider had a problem answering. This is not caused by your request.",
            if r.retry_after.is_some() { retry } else { "Try again in a moment, or pick another model.".into() },
        ),
        ErrorKind::Network => (
            "🔌 Could not reach OpenRouter".into(),
            "The connection to OpenRouter failed before any answer arrived.",
            "Try again. If it keeps failing, an administrator should check the server's network, DNS and \
             proxy settings, and https://status.openrouter.ai."
                .into(),
        ),
        ErrorKind::NetworkTimeout => (
            "⏱️ OpenRouter did not answer in time".into(),
            "No answer arrived within the configured timeout.",
            "Try again. If it keeps happening, check https://status.openrouter.ai or raise the HTTP timeout valves."
                .into(),
        ),
        ErrorKind::Interrupted => (
            "⚠️ The answer was interrupted".into(),
            "The connection closed before the response was complete, so the text above may be cut off.",
            "Try again to get a complete answer.".into(),
        ),
        ErrorKind::Internal if r.pipe_fault => (
            "⚠️ The pipe failed while answering".into(),
            "Something went wrong inside the pipe, not at OpenRouter, so the answer stopped here.",
            "Try again. If it keeps happening, an administrator should look up the error ID in the \
             server log."
                .into(),
        ),
        ErrorKind::Internal => (
            "⚠️ Unexpected answer from OpenRouter".into(),
            "The pipe received an answer it could not use, so there is nothing to show.",
            "Try again. If it keeps happening, an administrator should check the logs for the error ID and \
             any gateway or proxy between Open WebUI and OpenRouter."
                .into(),
        ),
        ErrorKind::ModelRestricted => (
            "🚫 Model not enabled".into(),
            "This model is not enabled for this pipe.",
            "Choose one of the models in the model selector, or ask your administrator to add it to `MODEL_ID`.".into(),
        ),
        ErrorKind::StreamFailure => (
            format!("⚠️ {subject} stopped with an error"),
            if r.before_any_text {
                "The provider reported an error before writing any answer."
            } else {
                "The provider reported an error while writing the answer; the text above is incomplete."
            },
            if r.retryable {
                "This is usually temporary: try again in a moment.".into()
            } else {
                "Try again, or pick another model.".into()
            },
        ),
        ErrorKind::Busy => (
            "⏳ The server is busy".into(),
            "Too many chats are being answered right now and the waiting line is full, so this one was not sent.",
            "Try again in a moment.".into(),
        ),
        ErrorKind::UserPaused => (
            match r.retry_after.as_ref().and_then(|ra| ra.seconds) {
                Some(s) => format!("⏸️ Paused for {s} s after repeated failures"),
                None => "⏸️ Paused after repeated failures".into(),
            },
            "Your last requests failed repeatedly, so new ones are not sent for a short while. This one was not sent.",
            retry,
        ),
    };
    (heading, explain.to_owned(), hint)
}

/// The HTTP reason phrase of the statuses OpenRouter uses, or empty.
pub(super) fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        524 => "Timeout",
        529 => "Overloaded",
        _ => "",
    }
}

/// Inline code that cannot be broken by backticks in the value.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

/// A fenced block longer than any backtick run inside `body`.
fn fenced(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{body}\n{fence}")
}

/// The built-in markdown card; the support contacts of `templates` are listed when set.
pub fn render(r: &ErrorReport, templates: &CardTemplates) -> String {
    let v = r.values();
    let (heading, explain, hint) = texts(r);
    let mut out = format!("### {heading}\n\n{explain}\n");
    let mut facts: Vec<String> = Vec::new();
    if let Some(m) = v.get("message") {
        facts.push(format!("- **Message:** {m}"));
    }
    if let Some(m) = v.get("provider_message") {
        facts.push(format!("- **Provider message:** {m}"));
    }
    if let Some(p) = v.get("provider") {
        facts.push(format!("- **Provider:** {p}"));
    }
    if let Some(m) = v.get("model") {
        facts.push(format!("- **Model:** {m}"));
    }
    if let Some(s) = r.status {
        facts.push(
            format!("- **Status:** {s} {}", reason_phrase(s))
                .trim_end()
                .to_owned(),
        );
    }
    if let Some(c) = v
        .get("code")
        .filter(|c| r.status.map(|s| s.to_string()).as_ref() != Some(*c))
    {
        facts.push(format!("- **Code:** {}", code(c)));
    }
    if let Some(t) = v.get("error_type").filter(|t| v.get("code") != Some(*t)) {
        facts.push(format!("- **Error type:** {}", code(t)));
    }
    if let Some(w) = v.get("retry_after") {
        facts.push(format!("- **Retry after:** {w}"));
    }
    if let Some(l) = v.get("rate_limit") {
        facts.push(format!("- **Rate limit:** {l}"));
    }
    if let Some(m) = v.get("moderation_reasons") {
        facts.push(format!("- **Moderation reasons:** {m}"));
    }
    if let Some(f) = v.get("flagged_input") {
        facts.push(format!("- **Flagged text:** “{f}”"));
    }
    if let Some(d) = v.get("detail") {
        facts.push(format!("- **Details:** {d}"));
    }
    if let Some(q) = v.get("request_id") {
        facts.push(format!("- **Request ID:** {}", code(q)));
    }
    facts.push(format!(
        "- **Error ID:** {} (mention it when reporting this problem)",
        code(&r.error_id)
    ));
    facts.push(format!("- **Time:** {}", crate::time::format_utc(r.at)));
    if !templates.support_email.is_empty() {
        facts.push(format!("- **Support:** {}", templates.support_email));
    }
    if !templates.support_url.is_empty() {
        facts.push(format!("- **Support page:** {}", templates.support_url));
    }
    out.push('\n');
    out.push_str(&facts.join("\n"));
    out.push('\n');
    if let Some(raw) = v.get("raw") {
        out.push_str("\n**Response body:**\n\n");
        out.push_str(&fenced(raw));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&hint);
    out
}

/// The log line carrying the error id; `what` starts the sentence
/// ("OpenRouter rejected the request").
pub fn log_line(r: &ErrorReport, what: &str) -> String {
    let v = r.values();
    let mut line = format!("[{}] {what}:", r.error_id);
    for key in [
        "status",
        "kind",
        "code",
        "error_type",
        "provider",
        "model_id",
        "request_id",
    ] {
        if let Some(val) = v.get(key) {
            line.push_str(&format!(" {key}={val}"));
        }
    }
    for key in ["message", "provider_message", "detail", "retry_after"] {
        if let Some(val) = v.get(key) {
            line.push_str(&format!(" {key}={val:?}"));
        }
    }
    line
}
