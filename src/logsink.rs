//! Log lines produced on tokio threads, handed to Python's `logging` by the bindings.
//!
//! Rust never writes to stderr itself: Open WebUI admins read one log stream, filtered
//! by Python's logging configuration. Lines wait in a bounded queue until the Python
//! layer drains them (after each request and each catalog refresh).
//!
//! Inside a chat request (see [`crate::sessionlog`]) a line is tagged with the request's
//! ids, filtered by that request's `LOG_LEVEL` and captured for its archive; outside one,
//! the admin's `LOG_LEVEL` (last seen) filters it. Callers with costly messages check
//! [`enabled`] (or use [`log_with`]) so a filtered line is never formatted.

use std::collections::VecDeque;
use std::panic::Location;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use crate::emit::LogLevel;
use crate::sessionlog;
use crate::valves::{LogSettings, LogThreshold};

const CAPACITY: usize = 2_000;

static QUEUE: Mutex<VecDeque<(LogLevel, String)>> = Mutex::new(VecDeque::new());

/// The admin's threshold for lines outside any request; `UNSET` until first read.
static PROCESS_THRESHOLD: AtomicU8 = AtomicU8::new(UNSET);
const UNSET: u8 = u8::MAX;

fn encode(t: LogThreshold) -> u8 {
    t as u8
}

fn process_threshold() -> LogThreshold {
    let thresholds = [
        LogThreshold::Debug,
        LogThreshold::Info,
        LogThreshold::Warning,
        LogThreshold::Error,
        LogThreshold::Silent,
    ];
    match PROCESS_THRESHOLD.load(Ordering::Relaxed) {
        UNSET => {
            let t = LogSettings::environment_threshold();
            PROCESS_THRESHOLD.store(encode(t), Ordering::Relaxed);
            t
        }
        n => thresholds[usize::from(n).min(4)],
    }
}

/// Sets the threshold of lines written outside any request (the admin's `LOG_LEVEL`).
pub fn set_process_threshold(threshold: LogThreshold) {
    PROCESS_THRESHOLD.store(encode(threshold), Ordering::Relaxed);
}

/// Whether a line of `level` would go anywhere from here (checked before formatting).
pub fn enabled(level: LogLevel) -> bool {
    sessionlog::with_current(|log| log.wants(level))
        .unwrap_or_else(|| process_threshold().passes(level))
}

/// Logs a line (redacted, tagged and filtered as the module says).
#[track_caller]
pub fn log(level: LogLevel, message: impl Into<String>) {
    let at = Location::caller();
    let message = message.into();
    let handled = sessionlog::with_current(|log| log.log(level, &message, at));
    if handled.is_none() && process_threshold().passes(level) {
        push(level, crate::errors::redact::redact(&message));
    }
}

/// Logs the line `message()` makes, only when it would go anywhere.
#[track_caller]
pub fn log_with(level: LogLevel, message: impl FnOnce() -> String) {
    if enabled(level) {
        log(level, message());
    }
}

/// Queues a finished line for Python; the oldest line is dropped when the queue is full.
pub(crate) fn push(level: LogLevel, line: String) {
    let mut queue = QUEUE.lock().unwrap_or_else(|p| p.into_inner());
    if queue.len() >= CAPACITY {
        queue.pop_front();
    }
    queue.push_back((level, line));
}

/// Takes every queued line, oldest first.
pub fn drain() -> Vec<(LogLevel, String)> {
    let mut queue = QUEUE.lock().unwrap_or_else(|p| p.into_inner());
    queue.drain(..).collect()
}
