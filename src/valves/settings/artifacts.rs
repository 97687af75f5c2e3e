//! How reasoning and tool results are kept, encoded and written, and the process-wide
//! breaker and cleanup that guard the store (both follow these values as they change).

use super::raw::{Raw, SecretValve};
use crate::artifacts::breaker::BreakerLimits;
use crate::artifacts::store::CleanupSchedule;
use crate::artifacts::{ReasoningRetention, ReplaySettings};

/// Storing reasoning and tool items between turns.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactSettings {
    /// How long reasoning is kept and replayed (`PERSIST_REASONING_TOKENS`).
    pub reasoning_retention: ReasoningRetention,
    /// Whether tool calls and results are stored for later turns (`PERSIST_TOOL_RESULTS`).
    pub persist_tools: bool,
    /// Recent turns whose tool results are replayed in full; 0 means always in full.
    pub tool_output_retention_turns: usize,
    /// `ARTIFACT_DB_PATH` when set; otherwise the request's default location is used.
    pub db_path: Option<String>,
    /// `ARTIFACT_DATABASE_URL`: a database chosen explicitly (may hold a password).
    database_url: SecretValve,
    encryption_key: SecretValve,
    /// With a key, encrypt every item rather than only reasoning (`ENCRYPT_ALL`).
    pub encrypt_all: bool,
    /// Compress encrypted items with LZ4 when that makes them smaller.
    pub compression: bool,
    /// Items smaller than this are not compressed.
    pub min_compress_bytes: usize,
    /// Items written to the database in one transaction.
    pub batch_size: usize,
    /// When the per-user breaker stops database access.
    pub breaker: BreakerLimits,
    /// When old rows are deleted.
    pub cleanup: CleanupSchedule,
}

impl ArtifactSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        let db_path = raw.str("ARTIFACT_DB_PATH").trim().to_string();
        Self {
            reasoning_retention: raw
                .choice("PERSIST_REASONING_TOKENS")
                .parse()
                .unwrap_or_default(),
            persist_tools: raw.bool("PERSIST_TOOL_RESULTS"),
            tool_output_retention_turns: raw.int("TOOL_OUTPUT_RETENTION_TURNS").max(0) as usize,
            db_path: Some(db_path).filter(|p| !p.is_empty()),
            database_url: raw.secret("ARTIFACT_DATABASE_URL"),
            encryption_key: raw.secret("ARTIFACT_ENCRYPTION_KEY"),
            encrypt_all: raw.bool("ENCRYPT_ALL"),
            compression: raw.bool("ENABLE_LZ4_COMPRESSION"),
            min_compress_bytes: raw.int("MIN_COMPRESS_BYTES").max(0) as usize,
            batch_size: raw.int("DB_BATCH_SIZE").max(1) as usize,
            breaker: super::admission::breaker_limits(raw),
            cleanup: CleanupSchedule {
                days: raw.int("ARTIFACT_CLEANUP_DAYS").clamp(1, u32::MAX as i64) as u32,
                interval_hours: raw.float("ARTIFACT_CLEANUP_INTERVAL_HOURS"),
            },
        }
    }

    /// Every artifact valve at its declared default.
    pub fn declared() -> Self {
        Self::read(&Raw(&serde_json::Map::new()))
    }

    /// `ARTIFACT_DATABASE_URL` in plain text (it may hold a password: never log it;
    /// parse it and log the redacted form); empty follows Open WebUI.
    pub fn database_url(&self) -> String {
        self.database_url.reveal()
    }

    /// The passphrase that encrypts stored items; empty stores them unencrypted.
    pub fn encryption_key(&self) -> String {
        self.encryption_key.reveal()
    }
}

impl Default for ReplaySettings {
    /// The declared defaults of `PERSIST_REASONING_TOKENS` and `TOOL_OUTPUT_RETENTION_TURNS`.
    fn default() -> Self {
        let declared = ArtifactSettings::declared();
        Self {
            retention: declared.reasoning_retention,
            tool_output_retention_turns: declared.tool_output_retention_turns,
        }
    }
}
