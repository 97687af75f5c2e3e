//! One `/models` fetch per refresh period for the whole deployment, not one per worker:
//! when Redis is in use, the raw catalog body is kept at `openrouter:catalog:<hash>`
//! (hash of the base URL and key, so two keys or gateways never share a list) for the
//! refresh period. A worker whose own copy expired reads that first; when it is missing,
//! one worker takes a short lease and fetches, the others wait briefly for its body
//! (and fetch themselves if it does not come). Without Redis nothing changes: each
//! worker fetches for itself.

use std::time::Duration;

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use crate::emit::LogLevel;
use crate::logsink;

/// How long the fetching worker may hold the lease (a fetch times out at 60 s).
const LEASE: Duration = Duration::from_secs(60);
/// How long the other workers wait for its body before fetching themselves.
const WAIT_FOR_PEER: Duration = Duration::from_secs(10);
/// How long the very first model list waits for the worker's first Redis connection.
const FIRST_CONNECT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(100);

/// The shared catalog slot of one gateway and key; inert without Redis.
pub struct Shared {
    conn: Option<ConnectionManager>,
    key: String,
    period: Duration,
    token: String,
}

impl Shared {
    /// The slot for `base_url` and `api_key`, kept `period` long; `cache_enabled` is
    /// `ENABLE_REDIS_CACHE`.
    pub async fn new(base_url: &str, api_key: &str, period: Duration, cache_enabled: bool) -> Self {
        let digest = Sha256::digest(format!("{base_url}\n{api_key}").as_bytes());
        let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            conn: match super::process_link(cache_enabled) {
                Some(link) => link.connection_soon(FIRST_CONNECT).await,
                None => None,
            },
            key: format!("openrouter:catalog:{hash}"),
            period,
            token: crate::ids::new_id(),
        }
    }

    /// Whether Redis backs this slot.
    pub fn is_shared(&self) -> bool {
        self.conn.is_some()
    }

    async fn body(&self, conn: &mut ConnectionManager) -> Option<Vec<u8>> {
        let body: Result<Option<Vec<u8>>, _> =
            redis::cmd("GET").arg(&self.key).query_async(conn).await;
        body.ok().flatten().filter(|b| !b.is_empty())
    }

    /// A body another worker fetched within the period, waiting for one being fetched
    /// right now; `None` means this worker should fetch (and then [`Self::store`]).
    pub async fn cached_or_wait(&mut self) -> Option<Vec<u8>> {
        let mut conn = self.conn.clone()?;
        if let Some(body) = self.body(&mut conn).await {
            return Some(body);
        }
        let lock = format!("{}:lock", self.key);
        let deadline = tokio::time::Instant::now() + WAIT_FOR_PEER;
        loop {
            let taken: Result<Option<String>, _> = redis::cmd("SET")
                .arg(&lock)
                .arg(&self.token)
                .arg("NX")
                .arg("EX")
                .arg(LEASE.as_secs())
                .query_async(&mut conn)
                .await;
            match taken {
                Ok(Some(_)) => return None, // this worker fetches
                Ok(None) => {}
                Err(_) => return None,
            }
            tokio::time::sleep(POLL).await;
            if let Some(body) = self.body(&mut conn).await {
                return Some(body);
            }
            if tokio::time::Instant::now() >= deadline {
                logsink::log(
                    LogLevel::Debug,
                    "No catalog from another worker in time; fetching it here",
                );
                return None;
            }
        }
    }

    /// Shares a good body for the rest of the period and releases the lease.
    pub async fn store(&self, body: &[u8]) {
        let Some(mut conn) = self.conn.clone() else {
            return;
        };
        let lock = format!("{}:lock", self.key);
        let stored: Result<(), _> = redis::pipe()
            .set_ex(&self.key, body, self.period.as_secs().max(1))
            .ignore()
            .del(&lock)
            .ignore()
            .query_async(&mut conn)
            .await;
        if let Err(e) = stored {
            logsink::log(
                LogLevel::Debug,
                format!("Catalog not shared through Redis: {e}"),
            );
        }
    }

    /// Releases the lease after a failed fetch, so another worker may try.
    pub async fn give_up(&self) {
        let Some(mut conn) = self.conn.clone() else {
            return;
        };
        let lock = format!("{}:lock", self.key);
        let _: Result<(), _> = redis::cmd("DEL").arg(&lock).query_async(&mut conn).await;
    }
}
