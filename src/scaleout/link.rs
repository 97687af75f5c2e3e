//! One Redis, reached through a reconnecting connection manager with short timeouts, and
//! its health. Nothing here waits on the request path: a link that is not connected yet
//! (or was switched off) says so at once and connects again in the background, at most
//! every [`PROBE_EVERY`], so answers go straight to the database meanwhile and Redis
//! coming back is picked up without a restart.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::emit::LogLevel;
use crate::logsink;

/// Longest wait for a connection or a reply. Redis answers in well under a millisecond
/// on a LAN; a Redis that takes longer is treated as down and the database used instead.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// The reference's PING budget when connecting.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a link that is down or switched off tries again.
pub const PROBE_EVERY: Duration = Duration::from_secs(10);

/// Why a Redis operation failed (the text never carries the URL's password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisFault(pub String);

impl fmt::Display for RedisFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedisFault {}

impl From<redis::RedisError> for RedisFault {
    fn from(e: redis::RedisError) -> Self {
        Self(crate::errors::redact::redact(&e.to_string()))
    }
}

/// A Redis URL with its password hidden.
pub fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unreadable Redis URL>".into(),
    }
}

/// One Redis and what is known about its health.
pub struct RedisLink {
    client: redis::Client,
    shown_url: String,
    connection: Mutex<Option<ConnectionManager>>,
    connecting: AtomicBool,
    last_attempt: Mutex<Option<Instant>>,
    switched_off: AtomicBool,
    flush_failures: AtomicU32,
}

impl fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLink")
            .field("url", &self.shown_url)
            .finish_non_exhaustive()
    }
}

impl RedisLink {
    /// A link to `url` (`redis://`, `rediss://`, `unix://`); not connected yet. A
    /// `rediss://` URL may carry redis-py's TLS parameters (see `redis_tls`).
    pub fn new(url: &str) -> Result<Arc<Self>, RedisFault> {
        // TLS needs a crypto provider installed before redis-rs builds its config.
        crate::http::install_crypto_provider();
        let unreadable =
            |e: String| RedisFault(format!("unreadable REDIS_URL {}: {e}", display_url(url)));
        let (cleaned, tls) = super::redis_tls::split(url);
        let client = if tls.is_custom() {
            let certificates = super::redis_tls::certificates(&tls).map_err(unreadable)?;
            redis::Client::build_with_tls(cleaned.as_str(), certificates)
        } else {
            redis::Client::open(cleaned.as_str())
        }
        .map_err(|e| unreadable(e.to_string()))?;
        Ok(Arc::new(Self {
            client,
            shown_url: display_url(url),
            connection: Mutex::new(None),
            connecting: AtomicBool::new(false),
            last_attempt: Mutex::new(None),
            switched_off: AtomicBool::new(false),
            flush_failures: AtomicU32::new(0),
        }))
    }

    /// The URL, safe for logs.
    pub fn display_url(&self) -> &str {
        &self.shown_url
    }

    /// The client, for connections of their own (pub/sub).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// Connects now (PING within 5 s) and switches the link on; what background
    /// reconnects run, and what tests call to start connected.
    pub async fn connect(&self) -> Result<(), RedisFault> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let attempt = async {
            let mut manager = self
                .client
                .get_connection_manager_with_config(config)
                .await?;
            let _: String = redis::cmd("PING").query_async(&mut manager).await?;
            Ok::<_, redis::RedisError>(manager)
        };
        let manager = tokio::time::timeout(CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| RedisFault("no answer to PING within 5 s".into()))??;
        *self.connection.lock().unwrap_or_else(|p| p.into_inner()) = Some(manager);
        self.flush_failures.store(0, Ordering::SeqCst);
        if self.switched_off.swap(false, Ordering::SeqCst) {
            logsink::log(
                LogLevel::Warning,
                format!(
                    "Redis at {} answers again: write-behind and cache are back on",
                    self.shown_url
                ),
            );
        }
        Ok(())
    }

    /// A connection when the link is up; otherwise `None` at once, and (at most every
    /// [`PROBE_EVERY`]) a background attempt to connect again.
    pub fn connection(self: &Arc<Self>) -> Option<ConnectionManager> {
        if !self.switched_off.load(Ordering::SeqCst) {
            if let Some(c) = self
                .connection
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
            {
                return Some(c);
            }
        }
        self.probe_later();
        None
    }

    /// [`Self::connection`], but while the first connection attempt is still under way
    /// waits up to `wait` for it (a model list may; an answer never does).
    pub async fn connection_soon(self: &Arc<Self>, wait: Duration) -> Option<ConnectionManager> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(c) = self.connection() {
                return Some(c);
            }
            if !self.connecting.load(Ordering::SeqCst) || Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn probe_later(self: &Arc<Self>) {
        {
            let mut last = self.last_attempt.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < PROBE_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        if self.connecting.swap(true, Ordering::SeqCst) {
            return;
        }
        let link = self.clone();
        crate::runtime::spawn(async move {
            if let Err(e) = link.connect().await {
                logsink::log(
                    LogLevel::Warning,
                    format!(
                        "Redis cache disabled ({e}); retrying in {}s",
                        PROBE_EVERY.as_secs()
                    ),
                );
            }
            link.connecting.store(false, Ordering::SeqCst);
        });
    }

    /// Whether write-behind is switched off after repeated flush failures.
    pub fn is_switched_off(&self) -> bool {
        self.switched_off.load(Ordering::SeqCst)
    }

    /// A flush that reached Redis without an error.
    pub fn flush_succeeded(&self) {
        self.flush_failures.store(0, Ordering::SeqCst);
    }

    /// A flush that failed on Redis's side; at `limit` consecutive ones the link is
    /// switched off (writes go straight to the database) until a probe reconnects.
    pub fn flush_failed(&self, limit: u32) {
        let failures = self.flush_failures.fetch_add(1, Ordering::SeqCst) + 1;
        if failures >= limit.max(1) && !self.switched_off.swap(true, Ordering::SeqCst) {
            *self.connection.lock().unwrap_or_else(|p| p.into_inner()) = None;
            *self.last_attempt.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            logsink::log(
                LogLevel::Error,
                format!(
                    "🚨 Disabling Redis cache after {failures} consecutive flush failures. Falling back to direct DB writes."
                ),
            );
        }
    }
}
