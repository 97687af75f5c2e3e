//! How many upstream requests one worker process runs and queues, and when a user whose
//! requests keep failing is paused. Read per request; the process-wide queue and breaker
//! follow these values as they change (no restart).

use std::time::Duration;

use super::raw::Raw;
use crate::artifacts::breaker::BreakerLimits;

/// Admission control and the per-user request breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionSettings {
    /// Requests sent to OpenRouter at the same time (`MAX_CONCURRENT_REQUESTS`).
    pub max_concurrent: usize,
    /// Requests waiting for a free slot before further ones are told the server is busy
    /// (`MAX_QUEUED_REQUESTS`; 0 means none wait).
    pub max_queued: usize,
    /// When a user's requests are paused after repeated failures.
    pub request_breaker: BreakerLimits,
}

impl AdmissionSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        Self {
            max_concurrent: raw.int("MAX_CONCURRENT_REQUESTS").max(1) as usize,
            max_queued: raw.int("MAX_QUEUED_REQUESTS").max(0) as usize,
            request_breaker: breaker_limits(raw),
        }
    }
}

/// The limits every per-user breaker shares (requests, database, tool types).
pub(super) fn breaker_limits(raw: &Raw) -> BreakerLimits {
    BreakerLimits {
        max_failures: raw.int("BREAKER_MAX_FAILURES").max(1) as usize,
        window: Duration::from_secs(raw.int("BREAKER_WINDOW_SECONDS").max(0) as u64),
        history: raw.int("BREAKER_HISTORY_SIZE").max(1) as usize,
    }
}
