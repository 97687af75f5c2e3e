//! Why this file exists: the request-scoped log level (`LOG_LEVEL`, admin and user) and
//! the encrypted session-log archive settings (`SESSION_LOG_*`) of one request (#14).

use std::time::Duration;

use serde_json::{Map, Value};

use super::raw::{Raw, SecretValve};
use crate::emit::LogLevel;

/// The lowest level written to Open WebUI's log for a request; `Silent` is `CRITICAL`
/// (the engine writes nothing that severe, so nothing reaches the console).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogThreshold {
    /// Everything, down to the outbound request and every non-delta upstream event.
    Debug,
    /// Routine events and above.
    Info,
    /// Problems only.
    Warning,
    /// Failures only.
    Error,
    /// Nothing (`CRITICAL`).
    Silent,
}

impl LogThreshold {
    /// Whether a line of `level` passes.
    pub fn passes(self, level: LogLevel) -> bool {
        let rank = match level {
            LogLevel::Debug => Self::Debug,
            LogLevel::Info => Self::Info,
            LogLevel::Warning => Self::Warning,
            LogLevel::Error => Self::Error,
        };
        rank >= self
    }

    fn parse(name: &str) -> Self {
        match name {
            "DEBUG" => Self::Debug,
            "WARNING" => Self::Warning,
            "ERROR" => Self::Error,
            "CRITICAL" => Self::Silent,
            _ => Self::Info,
        }
    }
}

/// Which members an archive holds (`SESSION_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// `logs.jsonl` only.
    Jsonl,
    /// `logs.txt` only.
    Text,
    /// Both members.
    Both,
}

impl ArchiveFormat {
    /// The valve's spelling, recorded in `meta.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jsonl => "jsonl",
            Self::Text => "text",
            Self::Both => "both",
        }
    }
}

/// The compression inside an archive (`SESSION_LOG_ZIP_COMPRESSION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveCompression {
    /// No compression.
    Stored,
    /// Deflate.
    Deflated,
    /// Bzip2.
    Bzip2,
    /// LZMA.
    Lzma,
}

/// The session-log archive of each chat request.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveSettings {
    /// `SESSION_LOG_STORE_ENABLED`.
    pub enabled: bool,
    /// Base folder; relative paths start at the server's working directory.
    pub dir: String,
    password: SecretValve,
    /// Archives older than this are deleted.
    pub retention: Duration,
    /// How often old archives are looked for.
    pub cleanup_interval: Duration,
    /// Compression of the members.
    pub compression: ArchiveCompression,
    /// Level for deflated and bzip2 only (`None` for the others or when empty).
    pub compress_level: Option<i64>,
    /// Most records kept for one request; the oldest are dropped first.
    pub max_lines: usize,
    /// Which members are written.
    pub format: ArchiveFormat,
}

impl ArchiveSettings {
    /// The zip password, decrypted; empty means no archive.
    pub fn password(&self) -> String {
        self.password.reveal()
    }
}

/// Logging of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    /// The request's console threshold (the user's `LOG_LEVEL`, else the admin's).
    pub threshold: LogThreshold,
    /// The archive.
    pub archive: ArchiveSettings,
}

fn threshold(raw: &Raw) -> LogThreshold {
    LogThreshold::parse(&raw.choice("LOG_LEVEL"))
}

impl LogSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        let compression = match raw.choice("SESSION_LOG_ZIP_COMPRESSION").as_str() {
            "stored" => ArchiveCompression::Stored,
            "deflated" => ArchiveCompression::Deflated,
            "bzip2" => ArchiveCompression::Bzip2,
            _ => ArchiveCompression::Lzma,
        };
        let compress_level = match compression {
            ArchiveCompression::Deflated | ArchiveCompression::Bzip2 => {
                raw.optional_int("SESSION_LOG_ZIP_COMPRESSLEVEL")
            }
            _ => None,
        };
        Self {
            threshold: threshold(raw),
            archive: ArchiveSettings {
                enabled: raw.bool("SESSION_LOG_STORE_ENABLED"),
                dir: raw.str("SESSION_LOG_DIR").trim().to_string(),
                password: raw.secret("SESSION_LOG_ZIP_PASSWORD"),
                retention: Duration::from_secs(
                    raw.int("SESSION_LOG_RETENTION_DAYS").max(1) as u64 * 86_400,
                ),
                cleanup_interval: Duration::from_secs(
                    raw.int("SESSION_LOG_CLEANUP_INTERVAL_SECONDS").max(60) as u64,
                ),
                compression,
                compress_level,
                max_lines: raw.int("SESSION_LOG_MAX_LINES").max(1) as usize,
                format: match raw.choice("SESSION_LOG_FORMAT").as_str() {
                    "text" => ArchiveFormat::Text,
                    "both" => ArchiveFormat::Both,
                    _ => ArchiveFormat::Jsonl,
                },
            },
        }
    }

    /// The admin's threshold alone (system valves, no user valves): the level of lines
    /// written outside any request (catalog refreshes, warm-up).
    pub fn process_threshold(system_valves: &Map<String, Value>) -> LogThreshold {
        threshold(&Raw(system_valves))
    }

    /// The threshold from `GLOBAL_LOG_LEVEL` (or INFO) before any valves were seen.
    pub fn environment_threshold() -> LogThreshold {
        Self::process_threshold(&Map::new())
    }
}
