//! Which card a failure gets: the built-in one, or the operator's template for its class.
//!
//! It exists so the mapping from failure kinds to template valves lives in one place
//! ([`CardClass::of`]), and so every card, wherever it is rendered (before the stream, in
//! the stream mapper, for refused models), is rendered the same way from the same values
//! ([`placeholder_values`]). A template that is empty, broken or renders to nothing gives
//! the built-in card, never an empty answer; the reason goes to the log line.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::redact::redact;
use super::report::{ErrorKind, ErrorReport};
use super::template;
use crate::time::format_iso_utc;

/// The template valve a failure is rendered with. One variant per valve; new failure
/// kinds are mapped in [`CardClass::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CardClass {
    /// `OPENROUTER_ERROR_TEMPLATE`: 400, 403, 404, moderation, context overflow, errors
    /// reported inside the stream, and anything without a class of its own.
    OpenRouter,
    /// `AUTHENTICATION_ERROR_TEMPLATE`: 401.
    Authentication,
    /// `INSUFFICIENT_CREDITS_TEMPLATE`: 402.
    InsufficientCredits,
    /// `RATE_LIMIT_TEMPLATE`: 429.
    RateLimit,
    /// `SERVER_TIMEOUT_TEMPLATE`: 408.
    ServerTimeout,
    /// `PAYLOAD_TOO_LARGE_TEMPLATE`: 413.
    PayloadTooLarge,
    /// `SERVICE_ERROR_TEMPLATE`: 5xx.
    Service,
    /// `NETWORK_TIMEOUT_TEMPLATE`: no answer within the timeout.
    NetworkTimeout,
    /// `CONNECTION_ERROR_TEMPLATE`: OpenRouter could not be reached.
    Connection,
    /// `STREAM_INTERRUPTED_TEMPLATE`: the stream ended before the response finished.
    StreamInterrupted,
    /// `INTERNAL_ERROR_TEMPLATE`: the pipe could not use what it received.
    Internal,
    /// `MODEL_RESTRICTED_TEMPLATE`: the model is outside the admin's selection.
    ModelRestricted,
    /// `SERVER_BUSY_TEMPLATE`: this worker did not send the request: every slot and
    /// place in line taken, or the user's requests paused after repeated failures.
    ServerBusy,
}

impl CardClass {
    /// The one mapping from failure kinds to template valves.
    pub fn of(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::BadRequest
            | ErrorKind::ContextTooLong
            | ErrorKind::Moderation
            | ErrorKind::Forbidden
            | ErrorKind::NotFound
            | ErrorKind::StreamFailure => Self::OpenRouter,
            ErrorKind::Authentication => Self::Authentication,
            ErrorKind::InsufficientCredits => Self::InsufficientCredits,
            ErrorKind::RateLimited => Self::RateLimit,
            ErrorKind::Timeout => Self::ServerTimeout,
            ErrorKind::PayloadTooLarge => Self::PayloadTooLarge,
            ErrorKind::ServiceError => Self::Service,
            ErrorKind::NetworkTimeout => Self::NetworkTimeout,
            ErrorKind::Network => Self::Connection,
            ErrorKind::Interrupted => Self::StreamInterrupted,
            ErrorKind::Internal => Self::Internal,
            ErrorKind::ModelRestricted => Self::ModelRestricted,
            ErrorKind::Busy | ErrorKind::UserPaused => Self::ServerBusy,
        }
    }
}

/// The operator's wording: a template per class (absent = built-in card) and the support
/// contacts every card may show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardTemplates {
    by_class: BTreeMap<CardClass, String>,
    /// `SUPPORT_EMAIL`, trimmed; empty leaves it out.
    pub support_email: String,
    /// `SUPPORT_URL`, trimmed; empty leaves it out.
    pub support_url: String,
}

impl CardTemplates {
    /// No templates yet (every class shows its built-in card), with these support contacts.
    pub fn with_support(support_email: String, support_url: String) -> Self {
        Self {
            support_email,
            support_url,
            ..Self::default()
        }
    }

    /// Uses `text` for `class`; a blank text keeps the built-in card.
    pub fn set(&mut self, class: CardClass, text: String) {
        if text.trim().is_empty() {
            self.by_class.remove(&class);
        } else {
            self.by_class.insert(class, text);
        }
    }

    /// The operator's template for `class`, if any.
    pub fn get(&self, class: CardClass) -> Option<&str> {
        self.by_class.get(&class).map(String::as_str)
    }
}

/// Facts about the request a card may mention.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFacts {
    /// Open WebUI's session id.
    pub session_id: String,
    /// Open WebUI's user id.
    pub user_id: String,
    /// Open WebUI's chat id.
    pub chat_id: String,
    /// Open WebUI's message id.
    pub message_id: String,
    /// The URL requests go to (`<BASE_URL>/responses`).
    pub endpoint: String,
    /// The request timeout in seconds (the total one when set, else the idle read one).
    pub timeout_seconds: Option<u64>,
}

/// How one request renders its cards. Cheap to clone (shared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardStyle(Arc<(CardTemplates, RequestFacts)>);

impl CardStyle {
    /// The style of a request with these templates and facts.
    pub fn new(templates: CardTemplates, facts: RequestFacts) -> Self {
        Self(Arc::new((templates, facts)))
    }

    /// The operator's templates and support contacts.
    pub fn templates(&self) -> &CardTemplates {
        &self.0 .0
    }

    /// The request's facts.
    pub fn facts(&self) -> &RequestFacts {
        &self.0 .1
    }

    /// The card for `report`: its class's template rendered with the report's values, or
    /// `built_in` when there is no template or it cannot be used (then the second value
    /// says why, for the log).
    pub fn card(&self, report: &ErrorReport, built_in: impl FnOnce() -> String) -> Rendered {
        let Some(text) = self.templates().get(CardClass::of(report.kind)) else {
            return Rendered {
                markdown: built_in(),
                problem: None,
            };
        };
        match template::render(text, &placeholder_values(report, self)) {
            // The operator's own text is redacted too: a key pasted into a template
            // must not reach every user.
            Ok(markdown) if !markdown.trim().is_empty() => Rendered {
                markdown: redact(&markdown),
                problem: None,
            },
            Ok(_) => Rendered {
                markdown: built_in(),
                problem: Some("the template rendered to nothing".into()),
            },
            Err(e) => Rendered {
                markdown: built_in(),
                problem: Some(e.to_string()),
            },
        }
    }
}

/// A rendered card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The markdown shown.
    pub markdown: String,
    /// Why the operator's template was not used, when one was set.
    pub problem: Option<String>,
}

/// Every placeholder a template may use, with what it holds. A name not listed here stays
/// in the card as written; a listed one without a value drops its line.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("error_id", "16 hex characters, also in the log line"),
    (
        "timestamp",
        "when the failure happened, UTC ISO-8601 (`2026-01-02T03:04:05Z`)",
    ),
    (
        "kind",
        "the failure kind (`rate_limited`, `network_timeout`, …)",
    ),
    ("status", "the HTTP status (`429`)"),
    ("status_code", "same as `status`"),
    (
        "reason",
        "the HTTP reason phrase for 5xx (`Bad Gateway`), else the most specific message",
    ),
    ("code", "OpenRouter's `error.code`"),
    ("openrouter_code", "`error.code`, else the HTTP status"),
    ("error_type", "OpenRouter's or the provider's error type; on failures no provider described: `connection_error`, `timeout`, `stream_interrupted` or `internal_error`"),
    ("upstream_type", "OpenRouter's or the provider's error type only"),
    ("message", "OpenRouter's `error.message`"),
    ("openrouter_message", "same as `message`"),
    (
        "provider_message",
        "the provider's own message, when it differs",
    ),
    ("upstream_message", "same as `provider_message`"),
    (
        "detail",
        "the most specific message: the provider's, else OpenRouter's, else the transport's",
    ),
    (
        "sanitized_detail",
        "`detail` with backticks escaped, for use inside inline code",
    ),
    ("provider", "the provider OpenRouter routed to"),
    (
        "heading",
        "who failed, as the reference writes it: `<provider>: <model>`, else whichever is known, else `OpenRouter`",
    ),
    ("subject", "who failed: the provider, else the model, else `OpenRouter`"),
    (
        "model",
        "the model as users know it (`OpenAI: GPT-4o mini (`openai/gpt-4o-mini`)`)",
    ),
    ("model_label", "the model's display name"),
    ("model_id", "the OpenRouter model id"),
    ("model_identifier", "same as `model_id`"),
    ("requested_model", "same as `model_id`"),
    ("request_id", "OpenRouter's or the provider's request id"),
    (
        "request_id_reference",
        "`Request reference: `<request id>`` when there is one",
    ),
    ("retry_after", "when to try again, in words (`20 seconds`)"),
    ("retry_after_seconds", "the wait in seconds (`20`)"),
    (
        "rate_limit",
        "the limit and what remains (`50 requests, 0 remaining`)",
    ),
    ("moderation_reasons", "why moderation flagged the input, one `- reason` line each"),
    ("flagged_input", "the flagged part of the input"),
    ("flagged_excerpt", "same as `flagged_input`"),
    (
        "raw",
        "the response body when it was not a readable error (shortened)",
    ),
    ("raw_body", "same as `raw`"),
    (
        "timeout_seconds",
        "the request timeout in seconds (total, else idle read)",
    ),
    ("endpoint", "the URL requests go to"),
    ("session_id", "Open WebUI's session id"),
    ("user_id", "Open WebUI's user id"),
    ("chat_id", "Open WebUI's chat id"),
    ("message_id", "Open WebUI's message id"),
    ("support_email", "the `SUPPORT_EMAIL` valve"),
    ("support_url", "the `SUPPORT_URL` valve"),
    (
        "restriction_reasons",
        "what refused the model (`MODEL_ID valve`)",
    ),
    ("model_id_filter", "the `MODEL_ID` valve"),
];

/// The HTTP reason phrase, for the 5xx card ("Server Error" for the ones without a name).
fn server_reason(status: u16) -> Option<&'static str> {
    if !(500..=599).contains(&status) {
        return None;
    }
    Some(match super::card::reason_phrase(status) {
        "" => "Server Error",
        phrase => phrase,
    })
}

/// What every template may mention whatever failed: the time, the request's ids and the
/// support contacts (the `MAX_FUNCTION_CALL_LOOPS_REACHED_TEMPLATE` note uses these too).
pub fn request_values(style: &CardStyle, at: u64) -> BTreeMap<&'static str, String> {
    let facts = style.facts();
    let templates = style.templates();
    BTreeMap::from([
        ("timestamp", format_iso_utc(at)),
        ("session_id", facts.session_id.clone()),
        ("user_id", facts.user_id.clone()),
        ("chat_id", facts.chat_id.clone()),
        ("message_id", facts.message_id.clone()),
        ("support_email", templates.support_email.clone()),
        ("support_url", templates.support_url.clone()),
    ])
}

/// The substitution table for `report` under `style`: every name of [`PLACEHOLDERS`],
/// empty when the fact is unknown.
pub fn placeholder_values(
    report: &ErrorReport,
    style: &CardStyle,
) -> BTreeMap<&'static str, String> {
    let mut out: BTreeMap<&'static str, String> = PLACEHOLDERS
        .iter()
        .map(|(k, _)| (*k, String::new()))
        .collect();
    let known = report
        .values()
        .into_iter()
        .chain(request_values(style, report.at));
    for (k, v) in known {
        if let Some(slot) = out.get_mut(k) {
            *slot = v;
        }
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let detail = [&report.provider_message, &report.message, &report.detail]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default();
    let status = report.status.map(|s| s.to_string()).unwrap_or_default();
    let facts = style.facts();
    let restriction = report.restriction.clone().unwrap_or_default();
    let derived = [
        ("status_code", status.clone()),
        (
            "reason",
            report
                .status
                .and_then(server_reason)
                .map_or_else(|| detail.clone(), str::to_owned),
        ),
        ("openrouter_code", report.code.clone().unwrap_or(status)),
        ("upstream_type", text(&report.error_type)),
        ("openrouter_message", text(&report.message)),
        ("upstream_message", text(&report.provider_message)),
        ("sanitized_detail", detail.replace('`', "\\`")),
        ("detail", detail),
        ("heading", reference_heading(report)),
        (
            "moderation_reasons",
            report
                .moderation_reasons
                .iter()
                .map(|r| format!("- {r}"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("model_identifier", report.model_id.clone()),
        ("requested_model", report.model_id.clone()),
        (
            "request_id_reference",
            report
                .request_id
                .as_ref()
                .map(|id| format!("Request reference: `{}`", id.replace('`', "'")))
                .unwrap_or_default(),
        ),
        ("flagged_excerpt", text(&report.flagged_input)),
        ("raw_body", text(&report.raw_excerpt)),
        (
            "timeout_seconds",
            facts
                .timeout_seconds
                .map(|s| s.to_string())
                .unwrap_or_default(),
        ),
        ("endpoint", facts.endpoint.clone()),
        ("restriction_reasons", restriction.0),
        ("model_id_filter", restriction.1),
    ];
    out.extend(derived);
    out
}

/// `{heading}` as the reference pipe builds it: "<provider>: <model>" when both are
/// known, else whichever is, else "OpenRouter".
fn reference_heading(report: &ErrorReport) -> String {
    let provider = report.provider.as_deref().map(str::trim).unwrap_or("");
    let label = [report.model_label.trim(), report.model_id.trim()]
        .into_iter()
        .find(|l| !l.is_empty())
        .unwrap_or("");
    match (provider, label) {
        ("", "") => "OpenRouter".to_owned(),
        (p, "") => p.to_owned(),
        ("", l) => l.to_owned(),
        (p, l) => format!("{p}: {l}"),
    }
}

#[cfg(test)]
mod tests;
