//! Remote links, downloaded in Rust through `fetch::guarded_get` (SSRF-checked, pinned,
//! redirects re-checked), with retries: a lost connection, a timeout, HTTP 408, 425, 429
//! and 5xx are tried again after a doubling wait, or the server's `Retry-After` when it
//! asks for longer, as long as the retries stay within `REMOTE_DOWNLOAD_MAX_RETRY_TIME_SECONDS`.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::Intake;
use crate::engine::host::Host;
use crate::engine::sink::Sink;
use crate::fetch::{guarded_get, FetchError, FetchLimits};
use crate::intake::normalize_mime;
use crate::valves::FileSettings;

/// Whether another attempt may help, and how long the server asked us to wait.
fn retry_hint(err: &FetchError) -> Option<Option<Duration>> {
    match err {
        FetchError::StatusRetryAfter(_, after) => Some(Some(*after)),
        FetchError::Status(status) => crate::errors::transient_status(*status).then_some(None),
        FetchError::Transport(_) | FetchError::TimedOut => Some(None),
        FetchError::Refused(_) | FetchError::TooLarge(_) => None,
    }
}

/// The wait before retry number `retry` (1-based): the initial delay doubled each time,
/// capped at the retry time, or the server's wait when longer.
pub(super) fn wait_before(
    settings: &FileSettings,
    retry: u32,
    server: Option<Duration>,
) -> Duration {
    let doubled = settings
        .download_initial_delay
        .saturating_mul(1u32 << (retry - 1).min(16));
    let backoff = doubled.min(settings.download_max_retry_time);
    server.map_or(backoff, |s| s.max(backoff))
}

impl<S: Sink, H: Host> Intake<'_, S, H> {
    /// Downloads `url`: its MIME type and bytes, or why not.
    pub(super) async fn download(&mut self, url: &str) -> Result<(String, Bytes), FetchError> {
        let (owui_mb, retrieval) = self.owui_limits().await;
        let limit_mb = self.settings.remote_limit_mb(owui_mb, retrieval);
        let limits = FetchLimits {
            max_bytes: limit_mb * 1024 * 1024,
            ..FetchLimits::default()
        };
        let started = Instant::now();
        let mut retry = 0;
        loop {
            let err = match guarded_get(url, &self.settings.url_policy, &limits).await {
                Ok(fetched) => {
                    let mime = normalize_mime(fetched.content_type.as_deref().unwrap_or(""));
                    let mime = if mime.is_empty() {
                        "application/octet-stream".into()
                    } else {
                        mime
                    };
                    return Ok((mime, fetched.bytes));
                }
                Err(err) => err,
            };
            retry += 1;
            let Some(server_wait) = retry_hint(&err) else {
                return Err(err);
            };
            if retry > self.settings.download_retries {
                return Err(err);
            }
            let wait = wait_before(self.settings, retry, server_wait);
            if started.elapsed() + wait > self.settings.download_max_retry_time {
                return Err(err);
            }
            self.status(format!(
                "Download failed ({err}); retrying in {} s (attempt {} of {})",
                wait.as_secs().max(1),
                retry + 1,
                self.settings.download_retries + 1
            ))
            .await;
            let _ = self.sink.flush().await;
            tokio::time::sleep(wait).await;
        }
    }
}
