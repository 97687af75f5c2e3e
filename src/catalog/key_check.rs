//! Whether OpenRouter has refused the configured API key (HTTP 401), so chats can be
//! answered at once with the authentication card instead of each waiting for its own
//! slow failure. A refusal is remembered per gateway and key (a fingerprint, never the
//! key itself) until the key valve changes or a later catalog check passes; it is checked
//! again at most every [`RECHECK_AFTER`], and never while the catalog backs off.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::registry;
use crate::valves::Settings;

/// The shortest time a refused key is trusted to stay refused before it is checked again.
pub const RECHECK_AFTER: Duration = Duration::from_secs(10);

/// At most this many refused keys are remembered (a bound, not a working limit).
const REMEMBERED: usize = 64;

struct Refusal {
    message: Option<String>,
    recheck_at: Instant,
}

/// Refusals by gateway and key fingerprint.
type Refusals = HashMap<(String, u64), Refusal>;

static REFUSED: Mutex<Option<Refusals>> = Mutex::new(None);

fn id(base_url: &str, api_key: &str) -> (String, u64) {
    let mut hasher = DefaultHasher::new();
    api_key.hash(&mut hasher);
    (base_url.to_owned(), hasher.finish())
}

fn with<T>(f: impl FnOnce(&mut Refusals) -> T) -> T {
    let mut guard = REFUSED.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(HashMap::new))
}

/// OpenRouter answered 401 to `api_key` at `base_url`; `message` is what it said.
pub fn mark_refused(base_url: &str, api_key: &str, message: Option<String>) {
    if api_key.is_empty() {
        return;
    }
    with(|refused| {
        if refused.len() >= REMEMBERED {
            refused.clear();
        }
        refused.insert(
            id(base_url, api_key),
            Refusal {
                message,
                recheck_at: Instant::now() + RECHECK_AFTER,
            },
        );
    });
}

/// A request with `api_key` at `base_url` got an answer: the key works.
pub fn mark_accepted(base_url: &str, api_key: &str) {
    with(|refused| refused.remove(&id(base_url, api_key)));
}

/// `Some(message)` when these settings' key is known to be refused (checking again
/// first when a check is due); `None` when it may work.
pub async fn refused(settings: &Settings) -> Option<Option<String>> {
    let base_url = &settings.connection.base_url;
    let key = id(base_url, &settings.connection.api_key());
    let (message, due) = with(|refused| {
        refused
            .get(&key)
            .map(|r| (r.message.clone(), Instant::now() >= r.recheck_at))
    })?;
    if !due || registry::in_backoff(base_url) {
        return Some(message);
    }
    let _ = registry::refetch(settings).await;
    with(|refused| refused.get(&key).map(|r| r.message.clone()))
}
