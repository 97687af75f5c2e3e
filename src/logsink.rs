//! Log lines produced on tokio threads, handed to Python's `logging` by the bindings.
//!
//! Rust never writes to stderr itself: Open WebUI admins read one log stream, filtered
//! by Python's logging configuration. Lines wait in a bounded queue until the Python
//! layer drains them (after each request and each catalog refresh).

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::emit::LogLevel;

const CAPACITY: usize = 2_000;

static QUEUE: Mutex<VecDeque<(LogLevel, String)>> = Mutex::new(VecDeque::new());

/// Queues a log line; the oldest line is dropped when the queue is full.
pub fn log(level: LogLevel, message: impl Into<String>) {
    let mut queue = QUEUE.lock().unwrap_or_else(|p| p.into_inner());
    if queue.len() >= CAPACITY {
        queue.pop_front();
    }
    queue.push_back((level, crate::errors::redact::redact(&message.into())));
}

/// Takes every queued line, oldest first.
pub fn drain() -> Vec<(LogLevel, String)> {
    let mut queue = QUEUE.lock().unwrap_or_else(|p| p.into_inner());
    queue.drain(..).collect()
}
