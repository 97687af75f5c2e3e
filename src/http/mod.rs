//! The HTTP client that talks to OpenRouter.
//!
//! Like the runtime, the client is keyed by process id: pooled connections belong to
//! the runtime that opened them, so a forked child must not reuse the parent's pool.

pub mod body;
mod headers;
pub mod upstream;

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::Mutex;
use std::time::Duration;

pub use headers::{referer, request_headers};
pub use upstream::{post_chat_completions, post_responses, StatusClass, UpstreamError};

use crate::valves::Settings;

/// Timeouts that shape a client; clients are reused per distinct set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeouts {
    pub connect: Duration,
    /// Longest silence allowed between two reads of a response body.
    pub read_idle: Duration,
}

impl Timeouts {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            connect: settings.connection.connect_timeout,
            read_idle: settings.connection.read_idle_timeout,
        }
    }
}

static CLIENTS: Mutex<Option<(u32, HashMap<Timeouts, reqwest::Client>)>> = Mutex::new(None);

/// A pooled client for this process and these timeouts.
pub fn client(timeouts: Timeouts) -> reqwest::Client {
    let pid = std::process::id();
    let mut slot = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
    if slot.as_ref().map(|(owner, _)| *owner) != Some(pid) {
        *slot = Some((pid, HashMap::new()));
    }
    let (_, clients) = slot.as_mut().expect("just set");
    clients
        .entry(timeouts)
        .or_insert_with(|| build(timeouts))
        .clone()
}

/// Installs ring as the process's TLS crypto provider (once; a provider another crate
/// installed first is kept). The HTTP and Redis clients call this before building their
/// TLS configs (PostgreSQL's names ring itself).
pub fn install_crypto_provider() {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        // Err means another crate in the process installed one first; that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client builder whose TLS uses the `ring` provider. reqwest is built without a
/// provider of its own (`rustls-no-provider`), so every client starts here.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

fn build(timeouts: Timeouts) -> reqwest::Client {
    client_builder()
        .connect_timeout(timeouts.connect)
        .read_timeout(timeouts.read_idle)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .user_agent(concat!("openrouter-pipe/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| client_builder().build().unwrap_or_default())
}

/// A transport failure described for humans: reqwest's own message hides the cause
/// (TLS, DNS, refused), so the whole `source()` chain is walked. Secrets are redacted.
pub fn describe_error(err: &reqwest::Error) -> String {
    let mut parts = vec![strip_url(&err.to_string())];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    crate::errors::redact::redact(&parts.join(": "))
}

/// reqwest puts the full URL in its messages; query strings could carry secrets.
fn strip_url(text: &str) -> String {
    match text.find('?') {
        Some(at) => {
            let end = text[at..].find([' ', ')']).map_or(text.len(), |e| at + e);
            format!("{}{}", &text[..at], &text[end..])
        }
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tls_tests {
    /// reqwest has no TLS provider of its own in this build: a client built any other way
    /// than through `client_builder` would panic on the first chat.
    #[test]
    fn clients_get_the_ring_tls_provider() {
        let client = super::client_builder().build();
        assert!(client.is_ok(), "{client:?}");
        let provider =
            rustls::crypto::CryptoProvider::get_default().expect("a process-wide provider");
        assert!(!provider.cipher_suites.is_empty());
        assert!(super::client(super::Timeouts {
            connect: std::time::Duration::from_secs(1),
            read_idle: std::time::Duration::from_secs(1),
        })
        .get("https://127.0.0.1:9/")
        .build()
        .is_ok());
    }
}
