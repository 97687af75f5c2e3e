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
    /// The model as Open WebUI named it, without the Function's prefix
    /// (`openai.gpt-4o-mini`).
    pub normalized_model_id: String,
    /// The model's context window in tokens, from the catalog.
    pub context_window: Option<u64>,
    /// The most tokens the model's provider writes in one answer, from the catalog.
    pub max_output_tokens: Option<u64>,
}

/// How one request renders its cards. Cheap to clone (shared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardStyle(Arc<(CardTemplates, RequestFacts)>);

impl CardStyle {
    /// The style of a request with these templates and facts.
    pub fn new(templates: CardTemplates, facts: RequestFacts) -> Self {
        Self(Arc::new((templates, facts)))
    }

    /// The same style with the request's model facts filled in, once the model is known.
    pub fn with_model(&self, context_window: Option<u64>, max_output_tokens: Option<u64>) -> Self {
        let mut facts = self.facts().clone();
        facts.context_window = context_window;
        facts.max_output_tokens = max_output_tokens;
        Self::new(self.templates().clone(), facts)
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
    ("api_model_id", "same as `model_id`"),
    (
        "normalized_model_id",
        "the model as Open WebUI named it, without the Function's prefix (`openai.gpt-4o-mini`)",
    ),
    (
        "include_model_limits",
        "`true` when the message is about the context window and a limit is known, else empty",
    ),
    (
        "context_limit_tokens",
        "the model's context window (`200,000`), only with `include_model_limits`",
    ),
    (
        "max_output_tokens",
        "the model's most output tokens (`4,096`), only with `include_model_limits`",
    ),
    (
        "diagnostics",
        "`- **Context window**: N tokens` and `- **Max output tokens**: N tokens` lines, when known",
    ),
    ("rate_limit_type", "which limit was hit (`X-RateLimit-Scope` or the error's `rate_limit_type`)"),
    ("required_cost", "what the request would cost, from a 402's metadata"),
    ("account_balance", "the account's balance, from a 402's metadata"),
    ("metadata_json", "the error's `metadata` as indented JSON"),
    ("provider_raw_json", "the provider's own error (`metadata.raw`) as indented JSON"),
    ("native_finish_reason", "the provider's finish reason on a failed stream chunk"),
    ("error_chunk_id", "the id of the stream chunk that carried the error"),
    ("error_chunk_created", "that chunk's `created` time"),
    ("streaming_provider", "the provider that streamed the failing chunk"),
    ("streaming_model", "the model that streamed the failing chunk"),
    ("is_streaming_error", "`true` when the error arrived inside the stream, else empty"),
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
        ("api_model_id", report.model_id.clone()),
        ("normalized_model_id", facts.normalized_model_id.clone()),
    ];
    out.extend(derived);
    out.extend(model_limits(report, facts));
    for (k, v) in &report.extras {
        if let Some(slot) = out.get_mut(k) {
            slot.clone_from(v);
        }
    }
    out
}

/// The reference's model-limit placeholders: `diagnostics` whenever a limit is known, the
/// numbers themselves only when the failure is about the context window.
fn model_limits(report: &ErrorReport, facts: &RequestFacts) -> Vec<(&'static str, String)> {
    let limits = [
        ("Context window", facts.context_window),
        ("Max output tokens", facts.max_output_tokens),
    ];
    let diagnostics = limits
        .iter()
        .filter_map(|(name, n)| n.map(|n| format!("- **{name}**: {} tokens", thousands(n))))
        .collect::<Vec<_>>()
        .join("\n");
    let about_context = report.kind == ErrorKind::ContextTooLong
        || [&report.message, &report.provider_message, &report.detail]
            .into_iter()
            .flatten()
            .any(|m| m.to_ascii_lowercase().contains("or use the \"middle-out\""));
    let include = about_context && limits.iter().any(|(_, n)| n.is_some());
    let shown = |n: Option<u64>| n.filter(|_| include).map(thousands).unwrap_or_default();
    vec![
        ("diagnostics", diagnostics),
        (
            "include_model_limits",
            if include {
                "true".into()
            } else {
                String::new()
            },
        ),
        ("context_limit_tokens", shown(facts.context_window)),
        ("max_output_tokens", shown(facts.max_output_tokens)),
    ]
}

/// `200000` as `200,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
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
