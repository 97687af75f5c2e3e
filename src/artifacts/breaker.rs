//! Per-user circuit breaker for database access.
//!
//! A user's breaker opens once `max_failures` failures fall within the last `window`;
//! it closes by itself when enough of them have aged out of the window, and at once on
//! [`Breaker::record_success`]. While it is open the engine skips persistence and
//! replay for that user (with a warning) instead of hammering a dead database. Its
//! limits can change while it runs ([`Breaker::reconfigure`]); counted failures stay.
//! The same mechanism guards tool types and, per user, requests to OpenRouter.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When a breaker opens: `max_failures` failures within `window`, of the last `history`
/// remembered (from the valves `BREAKER_MAX_FAILURES`, `BREAKER_WINDOW_SECONDS` and
/// `BREAKER_HISTORY_SIZE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerLimits {
    /// Failures within `window` that open the breaker (at least 1).
    pub max_failures: usize,
    /// How far back failures count.
    pub window: Duration,
    /// Failures remembered per user (the newest); below `max_failures` it never opens.
    pub history: usize,
}

/// Source of the current instant (injectable for tests).
pub type MonotonicClock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Sliding-window breaker keyed by user id. Cheap to share behind an `Arc`.
pub struct Breaker {
    clock: MonotonicClock,
    state: Mutex<State>,
}

struct State {
    limits: BreakerLimits,
    failures: HashMap<String, VecDeque<Instant>>,
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("limits", &self.limits())
            .finish_non_exhaustive()
    }
}

impl Breaker {
    /// A breaker that opens after `max_failures` (at least 1) failures within `window`.
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self::with_clock(max_failures, window, Arc::new(Instant::now))
    }

    /// Like [`Breaker::new`], reading the time from `clock` (tests move it by hand).
    pub fn with_clock(max_failures: usize, window: Duration, clock: MonotonicClock) -> Self {
        let limits = BreakerLimits {
            max_failures: max_failures.max(1),
            window,
            history: MAX_REMEMBERED,
        };
        Self {
            clock,
            state: Mutex::new(State {
                limits,
                failures: HashMap::new(),
            }),
        }
    }

    /// The limits it applies now.
    pub fn limits(&self) -> BreakerLimits {
        self.lock().limits
    }

    /// The process-wide breaker kept in `cell`, created with `limits` on first use and
    /// following later changes of them (so valve edits apply without a restart).
    pub fn shared(
        cell: &'static std::sync::OnceLock<Breaker>,
        limits: BreakerLimits,
    ) -> &'static Breaker {
        let breaker = cell.get_or_init(|| {
            let breaker = Breaker::new(limits.max_failures, limits.window);
            breaker.reconfigure(limits);
            breaker
        });
        if breaker.limits() != limits {
            breaker.reconfigure(limits);
        }
        breaker
    }

    /// Applies new limits from now on, keeping the failures already counted.
    pub fn reconfigure(&self, limits: BreakerLimits) {
        self.lock().limits = BreakerLimits {
            max_failures: limits.max_failures.max(1),
            history: limits.history.clamp(1, MAX_REMEMBERED),
            ..limits
        };
    }

    /// True when `user_id`'s operations may run. An empty user id is always allowed
    /// (and its failures are not counted).
    pub fn allows(&self, user_id: &str) -> bool {
        if user_id.is_empty() {
            return true;
        }
        let now = (self.clock)();
        let mut state = self.lock();
        let limits = state.limits;
        let Some(q) = state.failures.get_mut(user_id) else {
            return true;
        };
        evict(q, now, limits.window);
        let open = q.len() >= limits.max_failures;
        if q.is_empty() {
            state.failures.remove(user_id);
        }
        !open
    }

    /// Counts one failure for `user_id`.
    pub fn record_failure(&self, user_id: &str) {
        if user_id.is_empty() {
            return;
        }
        let now = (self.clock)();
        let mut state = self.lock();
        let limits = state.limits;
        let q = state.failures.entry(user_id.to_string()).or_default();
        evict(q, now, limits.window);
        q.push_back(now);
        while q.len() > limits.history {
            q.pop_front();
        }
    }

    /// How long `user_id` stays blocked: `None` while operations may run, else the time
    /// until enough failures have aged out of the window for it to close by itself.
    pub fn blocked_for(&self, user_id: &str) -> Option<Duration> {
        if user_id.is_empty() {
            return None;
        }
        let now = (self.clock)();
        let mut state = self.lock();
        let limits = state.limits;
        let q = state.failures.get_mut(user_id)?;
        evict(q, now, limits.window);
        if q.len() < limits.max_failures {
            return None;
        }
        // It closes once the failure at this position has left the window.
        let closing = q[q.len() - limits.max_failures];
        Some((closing + limits.window).saturating_duration_since(now))
    }

    /// Forgets `user_id`'s failures (the operation succeeded).
    pub fn record_success(&self, user_id: &str) {
        self.lock().failures.remove(user_id);
    }

    /// Runs `op` unless the breaker is open for `user_id`; records its outcome.
    /// Returns `None` when the breaker was open and `op` was skipped.
    pub fn run<T, E>(
        &self,
        user_id: &str,
        op: impl FnOnce() -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        if !self.allows(user_id) {
            return None;
        }
        let result = op();
        match &result {
            Ok(_) => self.record_success(user_id),
            Err(_) => self.record_failure(user_id),
        }
        Some(result)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The most failures kept per user: `BREAKER_HISTORY_SIZE`'s upper bound, and what a
/// breaker made without limits from the valves remembers.
const MAX_REMEMBERED: usize = 200;

fn evict(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while let Some(&first) = q.front() {
        if now.saturating_duration_since(first) > window {
            q.pop_front();
        } else {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn fake_clock() -> (MonotonicClock, Arc<AtomicU64>) {
        let base = Instant::now();
        let offset_ms = Arc::new(AtomicU64::new(0));
        let o = offset_ms.clone();
        (
            Arc::new(move || base + Duration::from_millis(o.load(Ordering::SeqCst))),
            offset_ms,
        )
    }

    #[test]
    fn opens_after_n_failures_and_closes_after_the_window() {
        let (clock, t) = fake_clock();
        let b = Breaker::with_clock(3, Duration::from_secs(60), clock);
        assert!(b.allows("u"));
        b.record_failure("u");
        t.store(10_000, Ordering::SeqCst);
        b.record_failure("u");
        assert!(b.allows("u"));
        t.store(20_000, Ordering::SeqCst);
        b.record_failure("u");
        assert!(!b.allows("u"), "3 failures within 60 s open it");
        assert!(b.allows("other"), "per user");
        // 61 s after the first failure only two remain in the window: closed again.
        t.store(61_000, Ordering::SeqCst);
        assert!(b.allows("u"));
        b.record_failure("u");
        assert!(!b.allows("u"));
        t.store(200_000, Ordering::SeqCst);
        assert!(b.allows("u"));
    }

    #[test]
    fn old_failures_do_not_add_up() {
        let (clock, t) = fake_clock();
        let b = Breaker::with_clock(2, Duration::from_secs(10), clock);
        for i in 0..10 {
            t.store(i * 11_000, Ordering::SeqCst);
            b.record_failure("u");
            assert!(
                b.allows("u"),
                "one failure every 11 s never opens a 2-in-10 s breaker"
            );
        }
    }

    #[test]
    fn success_resets_and_empty_user_is_never_blocked() {
        let b = Breaker::new(1, Duration::from_secs(60));
        b.record_failure("u");
        assert!(!b.allows("u"));
        b.record_success("u");
        assert!(b.allows("u"));
        b.record_failure("");
        assert!(b.allows(""));
    }

    #[test]
    fn run_skips_while_open_and_records_outcomes() {
        let b = Breaker::new(2, Duration::from_secs(60));
        assert_eq!(b.run("u", || Err::<(), _>("boom")), Some(Err("boom")));
        assert_eq!(b.run("u", || Err::<(), _>("boom")), Some(Err("boom")));
        let mut ran = false;
        assert_eq!(
            b.run("u", || {
                ran = true;
                Ok::<_, ()>(1)
            }),
            None
        );
        assert!(!ran);
        b.record_success("u");
        assert_eq!(b.run("u", || Ok::<_, ()>(1)), Some(Ok(1)));
    }

    #[test]
    fn changed_limits_apply_at_once_and_keep_the_counted_failures() {
        let (clock, t) = fake_clock();
        let b = Breaker::with_clock(5, Duration::from_secs(60), clock);
        for _ in 0..3 {
            b.record_failure("u");
        }
        assert!(b.allows("u"), "3 of 5");
        b.reconfigure(BreakerLimits {
            max_failures: 3,
            window: Duration::from_secs(60),
            history: 5,
        });
        assert!(
            !b.allows("u"),
            "the lower limit counts the failures already seen"
        );
        b.reconfigure(BreakerLimits {
            max_failures: 3,
            window: Duration::from_secs(10),
            history: 5,
        });
        t.store(11_000, Ordering::SeqCst);
        assert!(b.allows("u"), "the shorter window lets them age out");
        b.reconfigure(BreakerLimits {
            max_failures: 0,
            window: Duration::from_secs(10),
            history: 0,
        });
        assert_eq!(b.limits().max_failures, 1);
        assert_eq!(b.limits().history, 1);
    }

    #[test]
    fn a_short_history_never_opens_and_blocked_for_says_when_it_closes() {
        let (clock, t) = fake_clock();
        let b = Breaker::with_clock(3, Duration::from_secs(60), clock);
        b.reconfigure(BreakerLimits {
            max_failures: 3,
            window: Duration::from_secs(60),
            history: 2,
        });
        for _ in 0..5 {
            b.record_failure("u");
        }
        assert!(b.allows("u"), "only 2 remembered, 3 needed");
        b.reconfigure(BreakerLimits {
            max_failures: 2,
            window: Duration::from_secs(60),
            history: 4,
        });
        assert_eq!(b.blocked_for("u"), Some(Duration::from_secs(60)));
        t.store(10_000, Ordering::SeqCst);
        b.record_failure("u");
        // Three remembered (0 s, 0 s, 10 s): open until the second 0 s failure ages out.
        assert_eq!(b.blocked_for("u"), Some(Duration::from_secs(50)));
        t.store(60_001, Ordering::SeqCst);
        assert_eq!(b.blocked_for("u"), None);
        assert_eq!(b.blocked_for("other"), None);
    }
}
