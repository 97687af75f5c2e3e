//! How the pipe reaches OpenRouter: where, with which key, under which timeouts.

use std::time::Duration;

use super::raw::{Raw, SecretValve};

/// Used when `BASE_URL` is blank.
const OPENROUTER_API: &str = "https://openrouter.ai/api/v1";

/// Reaching OpenRouter: where, with which key, under which timeouts.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionSettings {
    /// The API base URL without a trailing slash.
    pub base_url: String,
    api_key: SecretValve,
    /// `HTTP_REFERER_OVERRIDE`, trimmed; checked where the header is built.
    pub referer_override: String,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest silence allowed between two reads of a response body.
    pub read_idle_timeout: Duration,
    /// Overall deadline for one request, when the admin set one.
    pub total_timeout: Option<Duration>,
}

fn seconds(n: i64) -> Duration {
    Duration::from_secs(n.max(0) as u64)
}

impl ConnectionSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        let url = raw.str("BASE_URL");
        let url = url.trim().trim_end_matches('/');
        Self {
            base_url: if url.is_empty() { OPENROUTER_API } else { url }.to_string(),
            api_key: raw.secret("API_KEY"),
            referer_override: raw.str("HTTP_REFERER_OVERRIDE").trim().to_string(),
            connect_timeout: seconds(raw.int("HTTP_CONNECT_TIMEOUT_SECONDS")),
            read_idle_timeout: seconds(raw.int("HTTP_SOCK_READ_SECONDS")),
            total_timeout: raw.optional_int("HTTP_TOTAL_TIMEOUT_SECONDS").map(seconds),
        }
    }

    /// The OpenRouter API key: the valve, else `OPENROUTER_API_KEY`.
    pub fn api_key(&self) -> String {
        let key = self.api_key.reveal();
        if key.is_empty() {
            std::env::var("OPENROUTER_API_KEY")
                .map(|k| k.trim().to_string())
                .unwrap_or_default()
        } else {
            key
        }
    }
}
