//! Time source of the mapper.
//!
//! The mapper measures elapsed time (status throttling, "Time: 3.21s", tokens per second).
//! Tests replace the wall clock by a manual one so that output does not depend on how fast
//! the test machine runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Elapsed time since the clock was made: the wall clock, or a manual one in tests.
#[derive(Debug, Clone)]
pub struct Clock {
    origin: Instant,
    manual: Option<Arc<AtomicU64>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::real()
    }
}

impl Clock {
    /// The wall clock, measured from now.
    pub fn real() -> Self {
        Self {
            origin: Instant::now(),
            manual: None,
        }
    }

    /// A clock that only moves when [`ManualClock::advance`] is called on the handle.
    pub fn manual() -> (Self, ManualClock) {
        let micros = Arc::new(AtomicU64::new(0));
        (
            Self {
                origin: Instant::now(),
                manual: Some(micros.clone()),
            },
            ManualClock(micros),
        )
    }

    /// Time since the clock was created.
    pub fn now(&self) -> Duration {
        match &self.manual {
            Some(m) => Duration::from_micros(m.load(Ordering::Relaxed)),
            None => self.origin.elapsed(),
        }
    }
}

/// Test handle of a manual [`Clock`].
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_micros() as u64, Ordering::Relaxed);
    }
}
