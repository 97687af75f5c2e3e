//! How far one download may go: hops, bytes and time.
//!
//! Exists to keep the policy numbers apart from the mechanism in `resolve.rs`, so the
//! download code can build them from valves (`REMOTE_FILE_MAX_SIZE_MB`, timeouts) and
//! tests can shrink them.

use std::time::Duration;

/// The bounds of one guarded download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Redirects followed at most; one more is refused.
    pub max_redirects: u32,
    /// Largest body accepted, in bytes (a larger `Content-Length` is refused unread).
    pub max_bytes: u64,
    /// The whole download, every hop included, must finish within this.
    pub time_budget: Duration,
    /// One TCP (and TLS) connection attempt may take at most this.
    pub connect_timeout: Duration,
}

impl Default for FetchLimits {
    /// 3 redirects, 50 MiB, 60 s overall, 10 s per connection attempt.
    fn default() -> Self {
        Self {
            max_redirects: 3,
            max_bytes: 50 * 1024 * 1024,
            time_budget: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }
}
