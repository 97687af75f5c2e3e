//! Whether OpenRouter has refused the configured API key (HTTP 401), so chats can be
//! answered at once with the authentication card instead of each waiting for its own
//! slow failure. A refusal is remembered per gateway and key (a fingerprint, never the
//! key itself) until the key valve changes or a later catalog check passes; it is checked
//! again at most every [`RECHECK_AFTER`], and never while the catalog backs off.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::registry;
use crate::valves::Settings;

/// The shortest time a refused key is trusted to stay refused before it is checked again.
pub const RECHECK_AFTER: Duration = Duration::from_secs(10);

struct Refusal {
    base_url: String,
    key: u64,
    message: Option<String>,
    recheck_at: Instant,
}

static REFUSED: Mutex<Option<Refusal>> = Mutex::new(None);

fn fingerprint(api_key: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    api_key.hash(&mut hasher);
    hasher.finish()
}

fn lock() -> std::sync::MutexGuard<'static, Option<Refusal>> {
    REFUSED.lock().unwrap_or_else(|p| p.into_inner())
}

/// OpenRouter answered 401 to `api_key` at `base_url`; `message` is what it said.
pub fn mark_refused(base_url: &str, api_key: &str, message: Option<String>) {
    if api_key.is_empty() {
        return;
    }
    *lock() = Some(Refusal {
        base_url: base_url.to_owned(),
        key: fingerprint(api_key),
        message,
        recheck_at: Instant::now() + RECHECK_AFTER,
    });
}

/// A request with `api_key` at `base_url` got an answer: the key works.
pub fn mark_accepted(base_url: &str, api_key: &str) {
    let mut refused = lock();
    if refused
        .as_ref()
        .is_some_and(|r| r.base_url == base_url && r.key == fingerprint(api_key))
    {
        *refused = None;
    }
}

/// `Some(message)` when these settings' key is known to be refused (checking again
/// first when a check is due); `None` when it may work.
pub async fn refused(settings: &Settings) -> Option<Option<String>> {
    let base_url = &settings.connection.base_url;
    let api_key = settings.connection.api_key();
    let due = {
        let refused = lock();
        let r = refused
            .as_ref()
            .filter(|r| r.base_url == *base_url && r.key == fingerprint(&api_key))?;
        if Instant::now() < r.recheck_at || registry::in_backoff(base_url) {
            return Some(r.message.clone());
        }
        true
    };
    if due {
        let _ = registry::refetch(settings).await;
    }
    let refused = lock();
    refused
        .as_ref()
        .filter(|r| r.base_url == *base_url && r.key == fingerprint(&api_key))
        .map(|r| r.message.clone())
}
