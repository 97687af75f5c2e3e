//! User-facing error cards.
//!
//! Every failure ends the answer with a readable markdown card (what happened, the
//! provider's words, what to do, an error id) plus a done status and a log line carrying
//! the same error id, so an administrator can find the log entry from a user's screenshot.
//! Secrets never appear: every provider text is redacted before display or logging.

mod card;
pub(crate) mod parse;
pub(crate) mod redact;
mod report;
mod style;
mod template;

use serde_json::Value;

use crate::emit::{Emit, LogLevel};

pub use report::{ErrorKind, ErrorReport, RetryAfter};
pub use style::{
    placeholder_values, request_values, CardClass, CardStyle, CardTemplates, Rendered,
    RequestFacts, PLACEHOLDERS,
};
pub use template::{
    render as render_template, TemplateError, MAX_OUTPUT_CHARS, MAX_TEMPLATE_CHARS,
};

/// Context that makes an error card specific.
#[derive(Debug, Clone, Default)]
pub struct ErrorContext {
    /// Display label of the model ("OpenAI: GPT-4o mini"), or empty.
    pub model_label: String,
    /// The OpenRouter model id requested ("openai/gpt-4o-mini").
    pub model_id: String,
    /// The operator's templates and the request's facts cards may show.
    pub style: CardStyle,
}

/// Status shown when the provider or OpenRouter rejected the request.
pub const PROVIDER_ERROR_STATUS: &str = "Encountered a provider error. See details below.";
/// Status shown when OpenRouter could not be reached.
pub const TRANSPORT_ERROR_STATUS: &str = "Could not reach OpenRouter. See details below.";
/// Status shown when the stream broke off.
pub const INTERRUPTED_STATUS: &str = "The answer was interrupted. See details below.";

/// The three emits of one error, kept apart so a caller can put other emits (usage)
/// between the card and the closing status.
#[derive(Debug, Clone)]
pub struct ErrorEmits {
    /// `Content("\n\n" + card)`: the blank line separates the card from partial text.
    pub card: Emit,
    /// A done status line.
    pub status: Emit,
    /// Warning-level log line with the error id.
    pub log: Emit,
    /// The facts the card was rendered from.
    pub report: ErrorReport,
}

impl ErrorEmits {
    /// Renders `report` as a card (the operator's template for its class under `style`,
    /// else the built-in card), a done status reading `status`, and a log line about
    /// `log_what`.
    pub fn new(report: ErrorReport, status: &str, log_what: &str, style: &CardStyle) -> Self {
        let shown = style.card(&report, || card::render(&report, style.templates()));
        let mut log = card::log_line(&report, log_what);
        if let Some(problem) = &shown.problem {
            log.push_str(&format!(
                " (the {} template was not used: {problem}; the built-in card was shown)",
                report.kind.as_str()
            ));
        }
        Self {
            card: Emit::Content(format!("\n\n{}", shown.markdown)),
            status: Emit::status(status, true),
            log: Emit::log(LogLevel::Warning, log),
            report,
        }
    }

    /// Card first (the user reads it where the answer would be), then status, then log.
    pub fn into_vec(self) -> Vec<Emit> {
        vec![self.card, self.status, self.log]
    }
}

/// Whether an HTTP status says the same request may succeed later (408, 425, 429, 5xx):
/// the one list the upstream retry policy, file downloads and failure events share.
pub fn transient_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429 | 500..=599)
}

/// HTTP error before the stream started: returns the emits that end the answer with a
/// readable card (markdown content, a done status, a log line carrying the error id).
pub fn http_error_emits(
    status: u16,
    headers: &[(String, String)],
    body: &str,
    ctx: &ErrorContext,
) -> Vec<Emit> {
    let report = parse::report_from_http(status, headers, body, ctx);
    ErrorEmits::new(
        report,
        PROVIDER_ERROR_STATUS,
        "OpenRouter rejected the request",
        &ctx.style,
    )
    .into_vec()
}

/// Transport failure before any byte arrived (connect refused, DNS, TLS, timeout).
pub fn transport_error_emits(detail: &str, timed_out: bool, ctx: &ErrorContext) -> Vec<Emit> {
    let kind = if timed_out {
        ErrorKind::NetworkTimeout
    } else {
        ErrorKind::Network
    };
    let mut report = ErrorReport::new(kind);
    report.model_label = ctx.model_label.clone();
    report.model_id = ctx.model_id.clone();
    report.retryable = true;
    report.detail = non_empty_detail(detail);
    ErrorEmits::new(
        report,
        TRANSPORT_ERROR_STATUS,
        "OpenRouter request failed",
        &ctx.style,
    )
    .into_vec()
}

/// An error reported inside a stream (`response.failed`, `error`, `response.error`, any
/// event with an `error` object). `event` is the whole parsed event; `before_any_text`
/// when no answer text was shown before it.
pub fn stream_error(event: &Value, before_any_text: bool, ctx: &ErrorContext) -> ErrorEmits {
    let mut report = parse::report_from_stream_event(event, ctx);
    report.before_any_text = before_any_text;
    ErrorEmits::new(
        report,
        PROVIDER_ERROR_STATUS,
        "OpenRouter stream failed",
        &ctx.style,
    )
}

/// The stream ended before the response finished (EOF or a transport error mid-way).
pub fn interrupted(detail: Option<&str>, ctx: &ErrorContext) -> ErrorEmits {
    let mut report = ErrorReport::new(ErrorKind::Interrupted);
    report.model_label = ctx.model_label.clone();
    report.model_id = ctx.model_id.clone();
    report.retryable = true;
    report.detail = detail.and_then(non_empty_detail);
    ErrorEmits::new(
        report,
        INTERRUPTED_STATUS,
        "OpenRouter stream interrupted",
        &ctx.style,
    )
}

/// Status shown when this worker turned a request away or paused it before sending.
pub const NOT_SENT_STATUS: &str = "Not sent. See details below.";

/// Every slot is taken and `queued` requests already wait (the waiting line is full).
pub fn busy_emits(in_flight: usize, queued: usize, style: &CardStyle) -> Vec<Emit> {
    let mut report = ErrorReport::new(ErrorKind::Busy);
    report.status = Some(503);
    report.retryable = true;
    report.detail = Some(format!(
        "{in_flight} requests in progress, {queued} waiting"
    ));
    ErrorEmits::new(
        report,
        NOT_SENT_STATUS,
        "Request refused, worker busy",
        style,
    )
    .into_vec()
}

/// The pipe itself failed while answering (a bug caught as a panic): the internal-error
/// card, through `INTERNAL_ERROR_TEMPLATE` when the operator set one.
pub fn internal_failure_emits(model_id: &str, style: &CardStyle) -> Vec<Emit> {
    let mut report = ErrorReport::new(ErrorKind::Internal);
    report.model_id = model_id.to_owned();
    report.retryable = true;
    report.pipe_fault = true;
    report.detail = Some("The pipe failed while preparing this answer (internal error).".into());
    ErrorEmits::new(
        report,
        "Internal error",
        "Answer stopped by an internal error",
        style,
    )
    .into_vec()
}

/// The user's request breaker is open for `wait` more.
pub fn paused_emits(wait: std::time::Duration, ctx: &ErrorContext) -> Vec<Emit> {
    let mut report = ErrorReport::new(ErrorKind::UserPaused);
    report.model_label = ctx.model_label.clone();
    report.model_id = ctx.model_id.clone();
    report.retryable = true;
    report.retry_after = Some(RetryAfter {
        seconds: Some(wait.as_secs_f64().ceil().max(1.0) as u64),
        reset_at: None,
    });
    ErrorEmits::new(
        report,
        NOT_SENT_STATUS,
        "Request paused after repeated failures",
        &ctx.style,
    )
    .into_vec()
}

/// OpenRouter refused this API key (HTTP 401) when the model catalog was last checked;
/// `message` is what it said. Nothing was sent this time.
pub fn key_rejected_emits(message: Option<&str>, ctx: &ErrorContext) -> Vec<Emit> {
    let mut report = ErrorReport::new(ErrorKind::Authentication);
    report.model_label = ctx.model_label.clone();
    report.model_id = ctx.model_id.clone();
    report.status = Some(401);
    report.message = message.and_then(non_empty_detail);
    report.detail = Some(
        "OpenRouter refused this key at its last check; the request was not sent again".into(),
    );
    ErrorEmits::new(
        report,
        PROVIDER_ERROR_STATUS,
        "Request refused, API key rejected",
        &ctx.style,
    )
    .into_vec()
}

fn non_empty_detail(detail: &str) -> Option<String> {
    let d = redact::inline(&redact::redact(detail), 500);
    (!d.is_empty()).then_some(d)
}

#[cfg(test)]
mod tests;
