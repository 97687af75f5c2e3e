//! Everything known about one failure, as plain values.
//!
//! Cards are rendered from an [`ErrorReport`] in one place ([`super::card`]). Keeping the
//! facts separate from the markdown lets the later operator-editable templates substitute
//! the same named values ([`ErrorReport::values`]) into their own text.

use std::collections::BTreeMap;

use crate::time::{format_utc, human_duration, unix_now};

/// What went wrong, in the terms the card explains to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400/422 and other unexplained 4xx.
    BadRequest,
    /// 400 whose message says the conversation exceeds the context window.
    ContextTooLong,
    /// 401.
    Authentication,
    /// 402.
    InsufficientCredits,
    /// 403 with moderation metadata.
    Moderation,
    /// 403 without moderation metadata (guardrail, key limit, permissions).
    Forbidden,
    /// 404.
    NotFound,
    /// 408.
    Timeout,
    /// 413.
    PayloadTooLarge,
    /// 429.
    RateLimited,
    /// 5xx.
    ServiceError,
    /// Connection failure before any answer (DNS, refused, TLS).
    Network,
    /// No answer from OpenRouter within the configured timeout.
    NetworkTimeout,
    /// The stream ended (EOF or transport error) before the response finished.
    Interrupted,
    /// The provider reported an error inside the stream.
    StreamFailure,
    /// The pipe could not use what OpenRouter sent (a success status with a body that is
    /// not a readable answer).
    Internal,
    /// The model is outside the admin's `MODEL_ID` selection; nothing was sent.
    ModelRestricted,
    /// Every slot of this worker is taken and its waiting line is full; nothing was sent.
    Busy,
    /// This user's requests failed repeatedly, so new ones are paused; nothing was sent.
    UserPaused,
}

impl ErrorKind {
    /// The kind an HTTP status stands for before its body is read.
    pub fn from_status(status: u16) -> Self {
        match status {
            401 => Self::Authentication,
            402 => Self::InsufficientCredits,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            408 => Self::Timeout,
            413 => Self::PayloadTooLarge,
            429 => Self::RateLimited,
            500..=599 => Self::ServiceError,
            _ => Self::BadRequest,
        }
    }

    /// Stable name for logs and templates.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::ContextTooLong => "context_too_long",
            Self::Authentication => "authentication",
            Self::InsufficientCredits => "insufficient_credits",
            Self::Moderation => "moderation",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Timeout => "timeout",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::ServiceError => "service_error",
            Self::Network => "network",
            Self::NetworkTimeout => "network_timeout",
            Self::Interrupted => "interrupted",
            Self::StreamFailure => "stream_failure",
            Self::Internal => "internal",
            Self::ModelRestricted => "model_restricted",
            Self::Busy => "busy",
            Self::UserPaused => "user_paused",
        }
    }
}

impl ErrorKind {
    /// `{error_type}` of a failure no provider described (the reference fills in the
    /// exception's class there), so a template that shows it is never left empty.
    pub fn own_error_type(self) -> Option<&'static str> {
        match self {
            Self::Network => Some("connection_error"),
            Self::NetworkTimeout => Some("timeout"),
            Self::Interrupted => Some("stream_interrupted"),
            Self::Internal => Some("internal_error"),
            _ => None,
        }
    }
}

/// When the user may try again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryAfter {
    /// Relative wait in seconds (`Retry-After: 20`, availability `retry_after`).
    pub seconds: Option<u64>,
    /// Absolute reset time in Unix seconds (`X-RateLimit-Reset`, HTTP-date `Retry-After`).
    pub reset_at: Option<u64>,
}

impl RetryAfter {
    /// Whether there is still something to wait for (a reset time in the past is not).
    pub fn is_pending(&self) -> bool {
        self.seconds.is_some() || self.reset_at.is_some_and(|at| at > unix_now())
    }

    /// "20 seconds", "2026-01-02 00:00 UTC (in about 3 hours)".
    pub fn describe(&self) -> Option<String> {
        if let Some(s) = self.seconds {
            return Some(human_duration(s));
        }
        let at = self.reset_at?;
        let now = unix_now();
        Some(if at > now {
            format!("{} (in {})", format_utc(at), human_duration(at - now))
        } else {
            format_utc(at)
        })
    }
}

/// The facts behind one error card. All strings are already redacted of secrets.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    /// What went wrong.
    pub kind: ErrorKind,
    /// 16 hex chars shown on the card and in the log line.
    pub error_id: String,
    /// The HTTP status, for failures that had one.
    pub status: Option<u16>,
    /// `error.code` (number or string) as text.
    pub code: Option<String>,
    /// OpenRouter's canonical `error_type` or the upstream error type.
    pub error_type: Option<String>,
    /// OpenRouter's `error.message`.
    pub message: Option<String>,
    /// The upstream provider's own message (from `metadata.raw`), when it differs.
    pub provider_message: Option<String>,
    /// The provider OpenRouter routed to (`provider_name`), when it says.
    pub provider: Option<String>,
    /// Display label of the model ("OpenAI: GPT-4o mini").
    pub model_label: String,
    /// OpenRouter model id ("openai/gpt-4o-mini").
    pub model_id: String,
    /// OpenRouter's or the provider's request id, for a support request.
    pub request_id: Option<String>,
    /// When trying again makes sense (`Retry-After` or the error body).
    pub retry_after: Option<RetryAfter>,
    /// "50 requests, 0 remaining" and where the limit comes from.
    pub rate_limit: Option<String>,
    /// Why moderation flagged the input.
    pub moderation_reasons: Vec<String>,
    /// The part of the input moderation flagged.
    pub flagged_input: Option<String>,
    /// Raw body text when it was not a readable JSON error (truncated, redacted).
    pub raw_excerpt: Option<String>,
    /// Transport detail ("connection reset by peer").
    pub detail: Option<String>,
    /// Whether retrying the same request later may succeed.
    pub retryable: bool,
    /// An in-stream error that came before any answer text (the card then does not speak
    /// of "the text above").
    pub before_any_text: bool,
    /// The pipe itself failed (a bug caught while answering), not OpenRouter's answer
    /// (`Internal` only: the card then does not blame OpenRouter).
    pub pipe_fault: bool,
    /// When it happened (Unix seconds).
    pub at: u64,
    /// What refused the model and the selection it applied (`ModelRestricted` only).
    pub restriction: Option<(String, String)>,
    /// Rarer facts the reference pipe's templates name, by placeholder name
    /// (`rate_limit_type`, `required_cost`, `metadata_json`, `native_finish_reason`, …);
    /// redacted and shortened like every other value.
    pub extras: BTreeMap<&'static str, String>,
}

impl ErrorReport {
    /// An empty report of `kind` with a fresh error id.
    pub fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            error_id: crate::ids::new_error_id(),
            status: None,
            code: None,
            error_type: None,
            message: None,
            provider_message: None,
            provider: None,
            model_label: String::new(),
            model_id: String::new(),
            request_id: None,
            retry_after: None,
            rate_limit: None,
            moderation_reasons: Vec::new(),
            flagged_input: None,
            raw_excerpt: None,
            detail: None,
            retryable: false,
            before_any_text: false,
            pipe_fault: false,
            at: unix_now(),
            restriction: None,
            extras: BTreeMap::new(),
        }
    }

    /// The model as users know it: "OpenAI: GPT-4o mini (`openai/gpt-4o-mini`)".
    pub fn model_display(&self) -> Option<String> {
        match (self.model_label.trim(), self.model_id.trim()) {
            ("", "") => None,
            (label, "") => Some(label.to_owned()),
            ("", id) => Some(format!("`{id}`")),
            (label, id) if label == id => Some(format!("`{id}`")),
            (label, id) => Some(format!("{label} (`{id}`)")),
        }
    }

    /// Who failed, for headings: the provider, else the model, else OpenRouter.
    pub fn subject(&self) -> String {
        let label = self.model_label.trim();
        self.provider
            .clone()
            .filter(|p| !p.trim().is_empty())
            .or_else(|| (!label.is_empty()).then(|| label.to_owned()))
            .or_else(|| (!self.model_id.is_empty()).then(|| self.model_id.clone()))
            .unwrap_or_else(|| "OpenRouter".to_owned())
    }

    /// Every fact as a named text value (absent facts are absent keys). This is the
    /// substitution table for operator templates; the default card uses the same names.
    pub fn values(&self) -> BTreeMap<&'static str, String> {
        let mut v = BTreeMap::new();
        let mut put = |k: &'static str, val: Option<String>| {
            if let Some(val) = val.filter(|s| !s.is_empty()) {
                v.insert(k, val);
            }
        };
        put("kind", Some(self.kind.as_str().to_owned()));
        put("error_id", Some(self.error_id.clone()));
        put("status", self.status.map(|s| s.to_string()));
        put("code", self.code.clone());
        put(
            "error_type",
            self.error_type
                .clone()
                .or_else(|| self.kind.own_error_type().map(str::to_owned)),
        );
        put("message", self.message.clone());
        put("provider_message", self.provider_message.clone());
        put("provider", self.provider.clone());
        put("subject", Some(self.subject()));
        put("model", self.model_display());
        put("model_label", Some(self.model_label.clone()));
        put("model_id", Some(self.model_id.clone()));
        put("request_id", self.request_id.clone());
        put(
            "retry_after",
            self.retry_after.as_ref().and_then(RetryAfter::describe),
        );
        put(
            "retry_after_seconds",
            self.retry_after
                .as_ref()
                .and_then(|r| r.seconds)
                .map(|s| s.to_string()),
        );
        put("rate_limit", self.rate_limit.clone());
        put(
            "moderation_reasons",
            Some(self.moderation_reasons.join(", ")),
        );
        put("flagged_input", self.flagged_input.clone());
        put("raw", self.raw_excerpt.clone());
        put("detail", self.detail.clone());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_skip_unknown_facts() {
        let mut r = ErrorReport::new(ErrorKind::RateLimited);
        r.status = Some(429);
        r.retry_after = Some(RetryAfter {
            seconds: Some(20),
            reset_at: None,
        });
        let v = r.values();
        assert_eq!(v["status"], "429");
        assert_eq!(v["retry_after"], "20 seconds");
        assert_eq!(v["subject"], "OpenRouter");
        assert!(!v.contains_key("provider"));
        assert!(!v.contains_key("model"));
        assert_eq!(v["error_id"].len(), 16);
    }

    #[test]
    fn model_display_and_subject() {
        let mut r = ErrorReport::new(ErrorKind::BadRequest);
        r.model_label = "OpenAI: GPT-4o mini".into();
        r.model_id = "openai/gpt-4o-mini".into();
        assert_eq!(
            r.model_display().unwrap(),
            "OpenAI: GPT-4o mini (`openai/gpt-4o-mini`)"
        );
        assert_eq!(r.subject(), "OpenAI: GPT-4o mini");
        r.provider = Some("Anthropic".into());
        assert_eq!(r.subject(), "Anthropic");
    }
}
