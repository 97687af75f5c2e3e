//! One request to OpenRouter's `/responses`, and what can go wrong with it as a value.
//!
//! The transport only reports facts ([`UpstreamError`]): whether the server was reached,
//! its status, headers and (capped) body. Whether a failure is retried, falls back to
//! another model or becomes the card the user reads is the engine's decision, taken
//! before anything is rendered.

use std::time::Duration;

use crate::errors::parse::retry_after;
use crate::errors::RetryAfter;
use crate::valves::Settings;

use super::body::read_capped;

/// Largest error body read into memory (error pages can be huge).
const MAX_ERROR_BODY: usize = 256 * 1024;

/// How a failed request failed, in the terms a retry policy needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// No HTTP answer at all (refused, DNS, TLS, timeout before headers).
    Transport,
    /// 408 or 429: the server asks to slow down or try again.
    Throttled,
    /// Another 4xx: the request itself is wrong, retrying changes nothing.
    Client,
    /// 5xx (and 425 Too Early): the server's trouble, often transient.
    Server,
}

/// A request to OpenRouter that got no usable answer.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamError {
    /// The server was not reached or did not answer in time. `detail` is redacted.
    Transport {
        /// What went wrong, for the card and the log.
        detail: String,
        /// Whether a timeout (connect, idle read or total) ended it.
        timed_out: bool,
    },
    /// The server answered with a non-success status.
    Status {
        /// The HTTP status code.
        status: u16,
        /// Response headers except `set-cookie`.
        headers: Vec<(String, String)>,
        /// At most 256 KiB of the body, lossy UTF-8.
        body: String,
    },
}

impl UpstreamError {
    /// A transport failure from the HTTP client's error.
    pub(crate) fn from_reqwest(err: &reqwest::Error) -> Self {
        UpstreamError::Transport {
            detail: super::describe_error(err),
            timed_out: err.is_timeout(),
        }
    }

    /// Which kind of failure this is, for deciding whether to retry.
    pub fn status_class(&self) -> StatusClass {
        match self {
            UpstreamError::Transport { .. } => StatusClass::Transport,
            UpstreamError::Status { status, .. } => match status {
                s if !crate::errors::transient_status(*s) => StatusClass::Client,
                408 | 429 => StatusClass::Throttled,
                _ => StatusClass::Server,
            },
        }
    }

    /// Whether the same request may succeed if sent again: connection failures,
    /// timeouts, 408, 425, 429 and 5xx.
    pub fn retryable(&self) -> bool {
        self.status_class() != StatusClass::Client
    }

    /// The server's own word on when to try again (`Retry-After`, rate-limit reset,
    /// or the same facts inside the error body).
    pub fn retry_after(&self) -> Option<RetryAfter> {
        match self {
            UpstreamError::Transport { .. } => None,
            UpstreamError::Status { headers, body, .. } => {
                let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
                let error = parsed.as_ref().and_then(|v| v.get("error"));
                retry_after(headers, error)
            }
        }
    }

    /// [`retry_after`](Self::retry_after) as a wait from now, when there is one.
    pub fn retry_delay(&self) -> Option<Duration> {
        let after = self.retry_after()?;
        if let Some(seconds) = after.seconds {
            return Some(Duration::from_secs(seconds));
        }
        let now = crate::time::unix_now();
        after
            .reset_at
            .map(|at| Duration::from_secs(at.saturating_sub(now)))
    }
}

/// Sends `body` to `<BASE_URL>/responses` with the pipe's headers plus `extra_headers`.
/// A success status returns the response for its body to be read; anything else is
/// an [`UpstreamError`] with the error body already read (capped).
pub async fn post_responses(
    settings: &Settings,
    body: String,
    extra_headers: &[(String, String)],
    streaming: bool,
) -> Result<reqwest::Response, UpstreamError> {
    post_json(settings, "responses", body, extra_headers, streaming).await
}

/// The same as [`post_responses`], to `<BASE_URL>/chat/completions`.
pub async fn post_chat_completions(
    settings: &Settings,
    body: String,
    extra_headers: &[(String, String)],
    streaming: bool,
) -> Result<reqwest::Response, UpstreamError> {
    post_json(settings, "chat/completions", body, extra_headers, streaming).await
}

async fn post_json(
    settings: &Settings,
    path: &str,
    body: String,
    extra_headers: &[(String, String)],
    streaming: bool,
) -> Result<reqwest::Response, UpstreamError> {
    let client = super::client(super::Timeouts::from_settings(settings));
    let mut request = client
        .post(format!("{}/{path}", settings.connection.base_url))
        .headers(super::request_headers(
            settings,
            &settings.connection.api_key(),
            streaming,
        ))
        .body(body);
    for (name, value) in extra_headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if let Some(total) = settings.connection.total_timeout {
        request = request.timeout(total);
    }
    let response = request
        .send()
        .await
        .map_err(|e| UpstreamError::from_reqwest(&e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = header_pairs(response.headers());
    let body = read_capped(response, MAX_ERROR_BODY).await;
    Err(UpstreamError::Status {
        status: status.as_u16(),
        headers,
        body,
    })
}

fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str() != "set-cookie")
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, headers: &[(&str, &str)], body: &str) -> UpstreamError {
        UpstreamError::Status {
            status: code,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        }
    }

    #[test]
    fn failures_are_classified_for_a_retry_policy() {
        let refused = UpstreamError::Transport {
            detail: "connection refused".into(),
            timed_out: false,
        };
        assert!(refused.retryable());
        assert_eq!(refused.status_class(), StatusClass::Transport);
        for code in [408, 425, 429, 500, 502, 503, 504] {
            assert!(status(code, &[], "").retryable(), "{code}");
        }
        for code in [400, 401, 402, 403, 404, 413, 422] {
            assert!(!status(code, &[], "").retryable(), "{code}");
            assert_eq!(status(code, &[], "").status_class(), StatusClass::Client);
        }
        assert_eq!(status(429, &[], "").status_class(), StatusClass::Throttled);
        assert_eq!(status(503, &[], "").status_class(), StatusClass::Server);
    }

    #[test]
    fn retry_after_comes_from_headers_or_the_error_body() {
        let e = status(429, &[("Retry-After", "7")], "");
        assert_eq!(e.retry_delay(), Some(Duration::from_secs(7)));
        let e = status(
            429,
            &[],
            r#"{"error":{"code":429,"message":"slow down","metadata":{"retry_after_seconds":3}}}"#,
        );
        assert_eq!(e.retry_delay(), Some(Duration::from_secs(3)));
        assert_eq!(status(500, &[], "<html>").retry_delay(), None);
    }
}
