//! What lets several Open WebUI workers (and nodes) act as one deployment through
//! Open WebUI's own Redis: the write-behind queue and cache in front of the artifact
//! storage, the cost snapshots billing pipelines read, and the shared model catalog.
//!
//! * [`activation`]: whether Redis is used, decided from the environment the Python
//!   side reads (the reference pipe's rules), with its warnings for an incomplete set-up.
//! * [`RedisLink`]: one connection (a reconnecting manager with timeouts) to one Redis,
//!   with its health: switched off after repeated flush failures, back when Redis is.
//! * [`WriteBehind`]: an [`crate::artifacts::ArtifactStorage`] that queues writes in
//!   Redis and caches items there, flushed to the wrapped storage by whichever worker
//!   holds the flush lease; an entry leaves Redis only after the database committed it.
//! * [`costs`]: one usage record per model call (`COSTS_REDIS_DUMP`).
//! * [`shared_catalog`]: one `/models` fetch per refresh period for the deployment.

pub mod activation;
pub mod costs;
mod link;
mod redis_tls;
pub mod shared_catalog;
mod write_behind;

pub use activation::{Activation, Deployment};
pub use link::{RedisFault, RedisLink};
pub use write_behind::{follow, FlushError, FlushOptions, FlushReport, WriteBehind, FLUSH_CHANNEL};

use std::sync::{Arc, Mutex};

use crate::emit::LogLevel;
use crate::logsink;

/// The deployment's activation and its link, set once per process by the Python side.
struct Process {
    activation: Activation,
    link: Option<Arc<RedisLink>>,
}

static PROCESS: Mutex<Option<Process>> = Mutex::new(None);

/// Records the deployment this process runs in and logs what is incomplete about it.
/// Called by the Python side when a pipe is created; a repeat with the same values is
/// a no-op. Returns whether Redis will be used.
pub fn configure(deployment: &Deployment) -> bool {
    let activation = activation::decide(deployment);
    let mut slot = PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    if slot.as_ref().is_some_and(|p| p.activation == activation) {
        return matches!(activation, Activation::Active { .. });
    }
    let link = match &activation {
        Activation::Active { url } => match RedisLink::new(url) {
            Ok(link) => {
                let _ = link.connection(); // starts connecting now, in the background
                logsink::log(
                    LogLevel::Info,
                    format!(
                        "Redis write-behind and cache on ({}): several workers share one queue",
                        link.display_url()
                    ),
                );
                Some(link)
            }
            Err(e) => {
                logsink::log(LogLevel::Warning, format!("Redis cache disabled ({e})"));
                None
            }
        },
        Activation::Off { warnings } => {
            for warning in warnings {
                logsink::log(LogLevel::Warning, warning.clone());
            }
            None
        }
    };
    let active = link.is_some();
    *slot = Some(Process { activation, link });
    active
}

/// The process's Redis link when the deployment uses Redis and `ENABLE_REDIS_CACHE` is
/// on; `None` otherwise (single worker, no Redis, or switched off by the valve).
pub fn process_link(cache_enabled: bool) -> Option<Arc<RedisLink>> {
    if !cache_enabled {
        return None;
    }
    let slot = PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    slot.as_ref().and_then(|p| p.link.clone())
}

/// The Redis namespace of a pipe id (`<pipe id, lower-cased>`), as the reference uses.
pub fn namespace(pipe_id: &str) -> String {
    let id = pipe_id.trim();
    if id.is_empty() {
        "openrouter".into()
    } else {
        id.to_lowercase()
    }
}

/// `storage` behind the deployment's Redis when it has one (see [`WriteBehind`]);
/// unchanged otherwise.
pub fn wrap(
    storage: Arc<dyn crate::artifacts::ArtifactStorage>,
    pipe_id: &str,
    codec: crate::artifacts::CodecConfig,
) -> Arc<dyn crate::artifacts::ArtifactStorage> {
    match process_link(true) {
        Some(link) => Arc::new(WriteBehind::following_latest(
            storage,
            link,
            &namespace(pipe_id),
            codec,
        )),
        None => storage,
    }
}
