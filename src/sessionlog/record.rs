//! Why this file exists: one captured log record of a request and the two forms it takes
//! inside a session-log archive (`logs.jsonl` lines and `logs.txt` lines), with the
//! reference pipe's field names so its users' tooling reads our archives.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::emit::LogLevel;
use crate::time::UtcParts;

/// One log line of a request, as captured (already redacted).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Seconds since the Unix epoch, with fractions.
    pub created: f64,
    /// Severity.
    pub level: LogLevel,
    /// The engine file that wrote it (`engine/turn`).
    pub module: &'static str,
    /// The line in that file.
    pub lineno: u32,
    /// The text.
    pub message: String,
}

/// The ids an archive's records are stamped with (from the request, not the record).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stamp {
    /// This request's id (one per `pipe()` call).
    pub request_id: String,
    /// Open WebUI user.
    pub user_id: String,
    /// Browser session.
    pub session_id: String,
    /// Chat.
    pub chat_id: String,
    /// Assistant message.
    pub message_id: String,
}

/// The logger name the records carry.
pub const LOGGER: &str = "openrouter_pipe";

impl Record {
    /// A record made now.
    pub fn now(level: LogLevel, module: &'static str, lineno: u32, message: String) -> Self {
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Self {
            created,
            level,
            module,
            lineno,
            message,
        }
    }

    /// The reference's `event_type`, from the message's opening words.
    pub fn event_type(&self) -> &'static str {
        event_type(&self.message)
    }

    /// One `logs.jsonl` line (no newline).
    pub fn jsonl(&self, stamp: &Stamp) -> String {
        let value: Value = json!({
            "ts": iso_millis(self.created),
            "level": self.level.as_str(),
            "logger": LOGGER,
            "request_id": stamp.request_id,
            "user_id": stamp.user_id,
            "session_id": stamp.session_id,
            "chat_id": stamp.chat_id,
            "message_id": stamp.message_id,
            "event_type": self.event_type(),
            "module": self.module,
            "func": self.module.rsplit('/').next().unwrap_or(self.module),
            "lineno": self.lineno,
            "message": self.message,
        });
        value.to_string()
    }

    /// One `logs.txt` entry: `YYYY-MM-DD HH:MM:SS,mmm [LEVEL] [user=<id>] <message>` (UTC;
    /// a multi-line message stays multi-line).
    pub fn text(&self, stamp: &Stamp) -> String {
        let (date, time, millis) = civil_parts(self.created);
        format!(
            "{date} {time},{millis:03} [{}] [user={}] {}",
            self.level.as_str(),
            stamp.user_id,
            self.message
        )
    }
}

/// `openrouter.request.headers`, `openrouter.request.payload`, `openrouter.sse.event`,
/// `pipe.tools` or `pipe`, as the reference derives them.
pub fn event_type(message: &str) -> &'static str {
    if message.starts_with("OpenRouter request headers:") {
        "openrouter.request.headers"
    } else if message.starts_with("OpenRouter request payload:") {
        "openrouter.request.payload"
    } else if message.starts_with("OpenRouter payload:") {
        "openrouter.sse.event"
    } else if message.starts_with("Tool ")
        || message.starts_with('🔧')
        || message.starts_with("Skipping ")
    {
        "pipe.tools"
    } else {
        "pipe"
    }
}

fn civil_parts(created: f64) -> (String, String, u32) {
    let millis_total = (created * 1000.0).max(0.0) as i64;
    let t = UtcParts::of(millis_total.div_euclid(1000));
    (t.date(), t.time(), millis_total.rem_euclid(1000) as u32)
}

/// `2026-01-02T03:04:05.678Z`.
pub fn iso_millis(created: f64) -> String {
    let (date, time, millis) = civil_parts(created);
    format!("{date}T{time}.{millis:03}Z")
}

/// `2026-01-02T03:04:05.678901+00:00`, the form of `meta.json`'s `created_at`.
pub fn iso_utc(created: f64) -> String {
    let (date, time, _) = civil_parts(created);
    let micros = ((created.fract() * 1_000_000.0) as u32).min(999_999);
    format!("{date}T{time}.{micros:06}+00:00")
}
