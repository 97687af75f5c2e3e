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

/// Base64 runs of inline data longer than this are shortened in logged bodies.
const KEPT_INLINE: usize = 64;

/// `text` with the payload of every inline `…;base64,` run longer than 64 characters cut
/// to its first 64 and a count: a logged request with a 50 MB attachment stays a short
/// line (and a small archive), and the attachment never reaches a log.
pub fn elide_inline_data(text: &str) -> std::borrow::Cow<'_, str> {
    const MARK: &str = ";base64,";
    if !text.contains(MARK) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(64 * 1024));
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        let start = at + MARK.len();
        out.push_str(&rest[..start]);
        let run = rest[start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            .count();
        if run > KEPT_INLINE {
            out.push_str(&rest[start..start + KEPT_INLINE]);
            out.push_str(&format!("…[{} more base64 characters]", run - KEPT_INLINE));
        } else {
            out.push_str(&rest[start..start + run]);
        }
        rest = &rest[start + run..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod elide_tests {
    use super::elide_inline_data;

    #[test]
    fn long_inline_data_is_cut_and_counted_short_data_and_plain_text_are_kept() {
        let long = "A".repeat(1000);
        let text =
            format!(r#"{{"a":"data:image/png;base64,{long}","b":"data:x;base64,QUJD","c":1}}"#);
        let cut = elide_inline_data(&text);
        assert!(cut.len() < 200, "{cut}");
        assert!(cut.contains(&format!(
            "base64,{}…[936 more base64 characters]\"",
            "A".repeat(64)
        )));
        assert!(cut.contains(r#""b":"data:x;base64,QUJD","c":1}"#));
        assert!(matches!(
            elide_inline_data("no data"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
