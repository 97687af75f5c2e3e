//! Redis's part in a multi-worker deployment: the write-behind cache of stored items and
//! the cost snapshots. Whether Redis is used at all is decided from the environment
//! (`crate::scaleout::activation`); these valves say what it does once it is.

use std::time::Duration;

use super::raw::Raw;

/// What Redis does for stored items and usage records.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisSettings {
    /// Queue item writes and cache items in Redis when the deployment has it.
    pub cache_enabled: bool,
    /// How long a cached item stays in Redis.
    pub cache_ttl: Duration,
    /// Queued writes (waiting plus being flushed) above which a warning is logged.
    pub pending_warn_threshold: usize,
    /// Consecutive failed flushes after which Redis is switched off for writes.
    pub flush_failure_limit: u32,
    /// Write a usage record per model call for billing pipelines.
    pub costs_dump: bool,
    /// How long a usage record stays in Redis.
    pub costs_ttl: Duration,
}

impl RedisSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        Self {
            cache_enabled: raw.bool("ENABLE_REDIS_CACHE"),
            cache_ttl: Duration::from_secs(raw.int("REDIS_CACHE_TTL_SECONDS").max(1) as u64),
            pending_warn_threshold: raw.int("REDIS_PENDING_WARN_THRESHOLD").max(1) as usize,
            flush_failure_limit: raw.int("REDIS_FLUSH_FAILURE_LIMIT").max(1) as u32,
            costs_dump: raw.bool("COSTS_REDIS_DUMP"),
            costs_ttl: Duration::from_secs(raw.int("COSTS_REDIS_TTL_SECONDS").max(1) as u64),
        }
    }
}
