//! Why this exists (#14): the Python layer logs about a request too (a tool that failed, a
//! host call that timed out), and those lines belong in that request's archive and under
//! its `LOG_LEVEL`, like the engine's. Requests under way are found here by the id Python
//! chose for them, so the Python layer hands its lines to the engine instead of tagging
//! them itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::RequestLog;
use crate::emit::LogLevel;

fn registry() -> &'static Mutex<HashMap<String, Weak<RequestLog>>> {
    static LIVE: OnceLock<Mutex<HashMap<String, Weak<RequestLog>>>> = OnceLock::new();
    LIVE.get_or_init(Mutex::default)
}

/// Keeps a request findable while it runs.
pub struct Live(String);

impl Drop for Live {
    fn drop(&mut self) {
        let mut live = registry().lock().unwrap_or_else(|p| p.into_inner());
        live.remove(&self.0);
    }
}

/// Makes `log` findable by its request id until the returned guard drops.
pub fn enter(log: &Arc<RequestLog>) -> Live {
    let id = log.request_id().to_string();
    let mut live = registry().lock().unwrap_or_else(|p| p.into_inner());
    live.insert(id.clone(), Arc::downgrade(log));
    Live(id)
}

/// The Python modules whose lines are named in archives; any other is `python`.
fn python_module(name: &str) -> &'static str {
    const KNOWN: [&str; 7] = [
        "openrouter_pipe.core",
        "openrouter_pipe.host",
        "openrouter_pipe.tools",
        "openrouter_pipe.files",
        "openrouter_pipe.relay",
        "openrouter_pipe.model_sync",
        "openrouter_pipe.native_function_calling",
    ];
    KNOWN.into_iter().find(|k| *k == name).unwrap_or("python")
}

/// Hands a Python line to the request `request_id` (tagged, filtered by its level and
/// archived as the engine's lines are); `false` when no such request is under way, so the
/// caller logs the line itself.
pub fn log_from_python(
    request_id: &str,
    level: &str,
    module: &str,
    lineno: u32,
    message: &str,
) -> bool {
    let found = {
        let live = registry().lock().unwrap_or_else(|p| p.into_inner());
        live.get(request_id).and_then(Weak::upgrade)
    };
    match found {
        Some(log) => {
            log.log_at(
                LogLevel::from_name(level),
                python_module(module),
                lineno,
                message,
            );
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_modules_are_read_from_python_names() {
        assert_eq!(LogLevel::from_name("DEBUG"), LogLevel::Debug);
        assert_eq!(LogLevel::from_name("WARNING"), LogLevel::Warning);
        assert_eq!(LogLevel::from_name("CRITICAL"), LogLevel::Error);
        assert_eq!(
            python_module("openrouter_pipe.host"),
            "openrouter_pipe.host"
        );
        assert_eq!(python_module("somewhere.else"), "python");
    }

    #[test]
    fn a_line_for_a_request_not_under_way_is_left_to_the_caller() {
        assert!(!log_from_python("NO-SUCH-REQUEST-1", "INFO", "x", 1, "hi"));
    }
}
