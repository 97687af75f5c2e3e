//! When a round that got no answer is sent again: the policy, apart from the sending.
//! Connection failures, timeouts, 408, 425, 429 and 5xx are retried (nothing of the
//! round was shown yet, so nothing is duplicated), with exponential backoff and jitter,
//! or the server's own `Retry-After`, within a time budget for the whole answer. Other
//! 4xx are final at once.

use std::time::Duration;

use crate::http::{StatusClass, UpstreamError};
use crate::ids::random_unit;

/// Attempts per round, the first included.
pub const ATTEMPTS: u32 = 3;
/// First backoff; each further one doubles, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(4);
/// No retry starts once the answer has run this long (waits included), so a slow
/// failure (a timeout) is not repeated for minutes.
pub const BUDGET: Duration = Duration::from_secs(60);

/// The wait before attempt `attempt + 1` after `failure` in attempt `attempt` (1-based),
/// `elapsed` into the answer; `None` means the failure is final.
pub fn next_wait(failure: &UpstreamError, attempt: u32, elapsed: Duration) -> Option<Duration> {
    if !failure.retryable() || attempt >= ATTEMPTS {
        return None;
    }
    let wait = match failure.retry_delay() {
        Some(asked) => asked,
        None => {
            let backoff = BASE_BACKOFF
                .saturating_mul(1 << (attempt - 1).min(8))
                .min(MAX_BACKOFF);
            backoff.mul_f64(0.8 + 0.4 * random_unit())
        }
    };
    (elapsed + wait < BUDGET).then_some(wait)
}

/// The status line shown while waiting.
pub fn waiting_line(failure: &UpstreamError, wait: Duration) -> String {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    match failure.status_class() {
        StatusClass::Throttled => {
            format!("Rate limited by the provider, retrying in {seconds} s…")
        }
        StatusClass::Transport => {
            format!("Could not reach OpenRouter, retrying in {seconds} s…")
        }
        _ => format!("OpenRouter had a problem, retrying in {seconds} s…"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, headers: Vec<(String, String)>) -> UpstreamError {
        UpstreamError::Status {
            status: code,
            headers,
            body: String::new(),
        }
    }

    #[test]
    fn transient_failures_are_retried_twice_with_growing_waits() {
        let failure = status(503, Vec::new());
        let first = next_wait(&failure, 1, Duration::ZERO).unwrap();
        let second = next_wait(&failure, 2, Duration::ZERO).unwrap();
        assert!(first >= Duration::from_millis(400) && first <= Duration::from_millis(600));
        assert!(second >= Duration::from_millis(800) && second <= Duration::from_millis(1200));
        assert_eq!(next_wait(&failure, 3, Duration::ZERO), None);
        let lost = UpstreamError::Transport {
            detail: "connection refused".into(),
            timed_out: false,
        };
        assert!(next_wait(&lost, 1, Duration::ZERO).is_some());
    }

    #[test]
    fn client_errors_are_final_and_the_budget_is_kept() {
        for code in [400, 401, 402, 403, 404, 413] {
            assert_eq!(
                next_wait(&status(code, Vec::new()), 1, Duration::ZERO),
                None
            );
        }
        let failure = status(502, Vec::new());
        assert_eq!(next_wait(&failure, 1, BUDGET), None);
    }

    #[test]
    fn the_servers_retry_after_is_honoured_and_named() {
        let failure = status(429, vec![("retry-after".into(), "3".into())]);
        let wait = next_wait(&failure, 1, Duration::ZERO).unwrap();
        assert_eq!(wait, Duration::from_secs(3));
        assert_eq!(
            waiting_line(&failure, wait),
            "Rate limited by the provider, retrying in 3 s…"
        );
        let too_long = status(429, vec![("retry-after".into(), "600".into())]);
        assert_eq!(next_wait(&too_long, 1, Duration::ZERO), None);
    }
}
