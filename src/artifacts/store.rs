//! The durable artifact store: one table in a SQLite file owned by the Rust side.
//!
//! The file is opened by bundled SQLite in this crate only. Never point it at Open
//! WebUI's `webui.db`: two SQLite copies in one process break each other's locks.
//!
//! The table layout matches the reference pipe (name recipe, columns, indexes,
//! `created_at` as naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff`, which is what SQLAlchemy
//! writes and reads on SQLite). The file runs in WAL mode with a busy timeout, so two
//! Open WebUI worker processes can write it at the same time.
//!
//! Every method is synchronous; the engine reaches them through
//! [`super::storage::SqliteStorage`], which runs them on the blocking pool. Failures are
//! returned as [`StoreError`] (the one error of every storage backend), never panics.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, ErrorCode, OpenFlags, TransactionBehavior};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::codec::{Codec, CodecConfig, CodecError};
use crate::ids::new_id;

/// Default wait for a lock held by another connection or process.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait of the touch-on-read update (it is best effort).
const TOUCH_BUSY_TIMEOUT: Duration = Duration::from_millis(250);
/// Idle connections kept for reuse.
const MAX_IDLE_CONNECTIONS: usize = 4;
/// Longest table-name fragment taken from the pipe id.
const MAX_FRAGMENT_LEN: usize = 62;

/// Source of the wall-clock time used for `created_at` (injectable for tests).
pub type WallClock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// Another connection or process held the lock for longer than the busy timeout.
    Busy(String),
    /// The file is not a SQLite database, or is damaged.
    Corrupt(String),
    /// The file or its directory cannot be created or written.
    Unwritable(String),
    /// Any other file-system error.
    Io(String),
    /// Any other SQLite error.
    Sqlite(String),
    /// The database cannot be reached right now (server down, connect or statement
    /// timeout, no free connection, a breaker that is open); worth retrying later.
    Unavailable(String),
    /// Any other PostgreSQL error (the server answered but refused the statement).
    Postgres(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy(m) => write!(f, "artifact database is locked: {m}"),
            Self::Corrupt(m) => write!(f, "artifact database is damaged: {m}"),
            Self::Unwritable(m) => write!(f, "artifact database is not writable: {m}"),
            Self::Io(m) => write!(f, "artifact database I/O error: {m}"),
            Self::Sqlite(m) => write!(f, "artifact database error: {m}"),
            Self::Unavailable(m) => write!(f, "artifact database unavailable: {m}"),
            Self::Postgres(m) => write!(f, "artifact database (PostgreSQL) error: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let text = e.to_string();
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Busy(text),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Self::Corrupt(text),
            Some(
                ErrorCode::ReadOnly
                | ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied
                | ErrorCode::DiskFull,
            ) => Self::Unwritable(text),
            Some(ErrorCode::SystemIoFailure) => Self::Io(text),
            _ => Self::Sqlite(text),
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::PermissionDenied | K::ReadOnlyFilesystem | K::NotADirectory | K::StorageFull => {
                Self::Unwritable(e.to_string())
            }
            _ => Self::Io(e.to_string()),
        }
    }
}

/// Where and how the store keeps its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The SQLite file (its parent directories are created).
    pub path: PathBuf,
    /// The pipe id (table name fragment and part of the key hash).
    pub pipe_id: String,
    /// Encryption and compression settings.
    pub codec: CodecConfig,
    /// Rows per transaction (`DB_BATCH_SIZE`, at least 1).
    pub batch_size: usize,
    /// How long to wait for another writer's lock.
    pub busy_timeout: Duration,
}

/// Rows per transaction unless configured: `DB_BATCH_SIZE`'s declared default (the
/// settings tests check that the two agree).
pub const DEFAULT_BATCH_SIZE: usize = 10;

impl StoreConfig {
    /// Where to keep rows and how to encode them, with the default batch size and lock wait.
    pub fn new(path: impl Into<PathBuf>, pipe_id: impl Into<String>, codec: CodecConfig) -> Self {
        Self {
            path: path.into(),
            pipe_id: pipe_id.into(),
            codec,
            batch_size: DEFAULT_BATCH_SIZE,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
        }
    }
}

/// One artifact to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewArtifact {
    /// The marker id; `None` assigns a new one.
    pub id: Option<String>,
    /// The Open WebUI chat the item belongs to.
    pub chat_id: String,
    /// The assistant message whose text carries the marker.
    pub message_id: String,
    /// The Open WebUI model id (`<pipe>.<model>`).
    pub model_id: Option<String>,
    /// The (normalised) Responses item; must be a JSON object.
    pub item: Value,
}

/// The result of [`ArtifactStore::fetch`].
#[derive(Debug, Default)]
pub struct Fetched {
    /// Decoded items by id.
    pub items: HashMap<String, Value>,
    /// Rows found but not decodable (wrong key, damaged payload): skipped.
    pub undecodable: Vec<(String, CodecError)>,
    /// The refresh of `created_at` failed (the read itself succeeded).
    pub touch_error: Option<StoreError>,
}

/// `pipe_id` made safe as a table-name fragment: lower case, `[a-z0-9_]` only, no
/// leading or trailing `_`, at most 62 characters, `pipe` when nothing is left.
pub fn sanitize_table_fragment(pipe_id: &str) -> String {
    let mapped: String = pipe_id
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches('_');
    if trimmed.is_empty() {
        return "pipe".into();
    }
    // Only ASCII is left, so byte slicing is character slicing.
    let cut = trimmed[..trimmed.len().min(MAX_FRAGMENT_LEN)].trim_end_matches('_');
    if cut.is_empty() {
        "pipe".into()
    } else {
        cut.to_string()
    }
}

/// The table name for `pipe_id` and an encryption passphrase:
/// `response_items_<fragment>_<sha256(key + pipe_id)[:8]>`. A new key gives a new table.
pub fn table_name(pipe_id: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{}{}", key.trim(), pipe_id).as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "response_items_{}_{}",
        sanitize_table_fragment(pipe_id),
        hex
    )
}

/// `t` as naive UTC text with microseconds (`2024-05-01 12:00:00.000000`), the format
/// SQLAlchemy uses for `DateTime` columns on SQLite. Times before 1970 give the epoch.
pub fn format_utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = crate::time::civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// When old rows are deleted: rows unused for `days`, looked for every `interval_hours`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanupSchedule {
    /// Rows not read or written for this many days are deleted.
    pub days: u32,
    /// Hours between two cleanup passes (before jitter).
    pub interval_hours: f64,
}

/// Delay before the next periodic cleanup: the interval plus a uniform jitter of up to
/// `min(600 s, 25 % of the interval)`. `rng` returns a number in `[0, 1)`.
pub fn next_cleanup_delay(interval_hours: f64, rng: impl FnOnce() -> f64) -> Duration {
    let interval = if interval_hours.is_finite() && interval_hours > 0.0 {
        interval_hours * 3600.0
    } else {
        0.0
    };
    let max_jitter = (interval * 0.25).min(600.0);
    let u = rng();
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Duration::from_secs_f64(interval + u * max_jitter)
}

struct Sql {
    insert: String,
    select: String,
    select_msg: String,
    touch: String,
    touch_msg: String,
    delete: String,
    cleanup: String,
}

impl Sql {
    fn new(table: &str) -> Self {
        let t = format!("\"{table}\"");
        let ids = "id IN (SELECT value FROM json_each(?2))";
        Self {
            insert: format!(
                "INSERT OR IGNORE INTO {t} (id, chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ),
            select: format!("SELECT id, payload, is_encrypted FROM {t} WHERE chat_id = ?1 AND {ids}"),
            select_msg: format!(
                "SELECT id, payload, is_encrypted FROM {t} WHERE chat_id = ?1 AND {ids} AND message_id = ?3"
            ),
            touch: format!("UPDATE {t} SET created_at = ?3 WHERE chat_id = ?1 AND {ids}"),
            touch_msg: format!(
                "UPDATE {t} SET created_at = ?3 WHERE chat_id = ?1 AND {ids} AND message_id = ?4"
            ),
            delete: format!("DELETE FROM {t} WHERE id IN (SELECT value FROM json_each(?1))"),
            cleanup: format!("DELETE FROM {t} WHERE created_at < ?1"),
        }
    }
}

/// The artifact table of one pipe id and key in one SQLite file.
pub struct ArtifactStore {
    config: StoreConfig,
    table: String,
    codec: Codec,
    clock: WallClock,
    sql: Sql,
    idle: Mutex<Vec<Connection>>,
}

impl fmt::Debug for ArtifactStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArtifactStore")
            .field("path", &self.config.path)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl ArtifactStore {
    /// Opens (creating when needed) the file, its directory, the table and its indexes.
    pub fn open(config: StoreConfig) -> Result<Self, StoreError> {
        Self::open_with_clock(config, Arc::new(SystemTime::now))
    }

    /// [`ArtifactStore::open`] with a custom clock for `created_at`.
    pub fn open_with_clock(mut config: StoreConfig, clock: WallClock) -> Result<Self, StoreError> {
        config.batch_size = config.batch_size.max(1);
        if let Some(parent) = config.path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| dir_error(parent, e))?;
            }
        }
        let table = table_name(&config.pipe_id, &config.codec.key);
        let store = Self {
            codec: Codec::new(config.codec.clone()),
            sql: Sql::new(&table),
            table,
            config,
            clock,
            idle: Mutex::new(Vec::new()),
        };
        let conn = store.connect()?;
        with_busy_retry(|| create_schema(&conn, &store.table))?;
        store.release(conn);
        Ok(store)
    }

    /// The configuration the store was opened with (a changed one needs a new store).
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The table this store reads and writes.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    /// Stores `rows`, `batch_size` rows per transaction, and returns their ids in input
    /// order. Rows without a chat id or message id, or whose item is not an object, are
    /// left out. An id that is already stored counts as stored (the row is not changed).
    /// On error, batches committed before the failure stay stored.
    pub fn persist(&self, rows: &[NewArtifact]) -> Result<Vec<String>, StoreError> {
        struct Prepared<'a> {
            id: String,
            row: &'a NewArtifact,
            item_type: &'a str,
            payload: String,
            is_encrypted: bool,
        }
        let prepared: Vec<Prepared<'_>> = rows
            .iter()
            .filter(|r| !r.chat_id.is_empty() && !r.message_id.is_empty() && r.item.is_object())
            .map(|row| {
                let encoded = self.codec.encode(&row.item);
                let item_type = row
                    .item
                    .get("type")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .unwrap_or("unknown");
                Prepared {
                    id: row
                        .id
                        .clone()
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(new_id),
                    row,
                    item_type,
                    payload: encoded.payload,
                    is_encrypted: encoded.is_encrypted,
                }
            })
            .collect();
        if prepared.is_empty() {
            return Ok(Vec::new());
        }
        let created_at = format_utc((self.clock)());
        let mut conn = self.connect()?;
        let result = (|| {
            for chunk in prepared.chunks(self.config.batch_size) {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                {
                    let mut stmt = tx.prepare_cached(&self.sql.insert)?;
                    for p in chunk {
                        stmt.execute(params![
                            p.id,
                            p.row.chat_id,
                            p.row.message_id,
                            p.row.model_id,
                            p.item_type,
                            p.payload,
                            p.is_encrypted,
                            created_at,
                        ])?;
                    }
                }
                tx.commit()?;
            }
            Ok::<_, rusqlite::Error>(())
        })();
        self.finish(conn, result)?;
        Ok(prepared.into_iter().map(|p| p.id).collect())
    }

    /// The stored items among `ids` that belong to `chat_id` (and to `message_id` when
    /// given). Found rows get `created_at` refreshed, so cleanup counts from the last
    /// use; a failure of that refresh is reported in [`Fetched::touch_error`] and never
    /// fails the read.
    pub fn fetch<S: AsRef<str>>(
        &self,
        chat_id: &str,
        message_id: Option<&str>,
        ids: &[S],
    ) -> Result<Fetched, StoreError> {
        let mut out = Fetched::default();
        if chat_id.is_empty() || ids.is_empty() {
            return Ok(out);
        }
        let ids_json = json_array(ids.iter().map(AsRef::as_ref));
        let message_id = message_id.filter(|m| !m.is_empty());
        let conn = self.connect()?;
        let rows = (|| {
            let mut stmt;
            let mut rows = match message_id {
                Some(m) => {
                    stmt = conn.prepare_cached(&self.sql.select_msg)?;
                    stmt.query(params![chat_id, ids_json, m])?
                }
                None => {
                    stmt = conn.prepare_cached(&self.sql.select)?;
                    stmt.query(params![chat_id, ids_json])?
                }
            };
            let mut found = Vec::new();
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let payload: String = match r.get_ref(1)? {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                    rusqlite::types::ValueRef::Null => "null".into(),
                    rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                    rusqlite::types::ValueRef::Real(f) => f.to_string(),
                };
                let is_encrypted: bool = r.get::<_, Option<bool>>(2)?.unwrap_or(false);
                found.push((id, payload, is_encrypted));
            }
            Ok::<_, rusqlite::Error>(found)
        })();
        // On error the connection is dropped, not pooled.
        let rows = rows?;
        let found_ids = decode_rows(&self.codec, rows, &mut out);
        if !found_ids.is_empty() {
            if let Err(e) = self.touch(&conn, chat_id, message_id, &found_ids) {
                out.touch_error = Some(e.into());
            }
        }
        self.release(conn);
        Ok(out)
    }

    fn touch(
        &self,
        conn: &Connection,
        chat_id: &str,
        message_id: Option<&str>,
        ids: &[String],
    ) -> rusqlite::Result<()> {
        let now = format_utc((self.clock)());
        let ids_json = json_array(ids.iter().map(String::as_str));
        conn.busy_timeout(TOUCH_BUSY_TIMEOUT.min(self.config.busy_timeout))?;
        let result = match message_id {
            Some(m) => conn
                .prepare_cached(&self.sql.touch_msg)
                .and_then(|mut s| s.execute(params![chat_id, ids_json, now, m])),
            None => conn
                .prepare_cached(&self.sql.touch)
                .and_then(|mut s| s.execute(params![chat_id, ids_json, now])),
        };
        conn.busy_timeout(self.config.busy_timeout)?;
        result.map(|_| ())
    }

    /// Deletes the rows with these ids; returns how many were deleted.
    pub fn delete<S: AsRef<str>>(&self, ids: &[S]) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ids_json = json_array(ids.iter().map(AsRef::as_ref));
        let conn = self.connect()?;
        let result = conn
            .prepare_cached(&self.sql.delete)
            .and_then(|mut s| s.execute(params![ids_json]));
        self.finish(conn, result)
    }

    /// Deletes rows whose `created_at` (last write or read) is more than
    /// `older_than_days` days before `now`; returns how many were deleted. Only this
    /// store's table is cleaned.
    pub fn cleanup(&self, older_than_days: u32, now: SystemTime) -> Result<usize, StoreError> {
        let cutoff = now
            .checked_sub(Duration::from_secs(u64::from(older_than_days) * 86_400))
            .unwrap_or(UNIX_EPOCH);
        let cutoff = format_utc(cutoff);
        let conn = self.connect()?;
        let result = conn
            .prepare_cached(&self.sql.cleanup)
            .and_then(|mut s| s.execute(params![cutoff]));
        self.finish(conn, result)
    }

    /// Number of rows in this store's table.
    pub fn count(&self) -> Result<usize, StoreError> {
        let conn = self.connect()?;
        let result = conn.query_row(
            &format!("SELECT COUNT(*) FROM \"{}\"", self.table),
            [],
            |r| r.get::<_, i64>(0),
        );
        self.finish(conn, result).map(|n| n.max(0) as usize)
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.config.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| match StoreError::from(e) {
            StoreError::Unwritable(m) => {
                StoreError::Unwritable(format!("{}: {m}", self.config.path.display()))
            }
            other => other,
        })?;
        conn.busy_timeout(self.config.busy_timeout)?;
        with_busy_retry(|| {
            conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
                .map(|_| ())
        })?;
        conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(conn)
    }

    /// Returns a healthy connection to the pool, or drops it after an error (it may be
    /// in a bad state, for example inside an unfinished transaction).
    fn finish<T>(&self, conn: Connection, result: rusqlite::Result<T>) -> Result<T, StoreError> {
        match result {
            Ok(v) => {
                self.release(conn);
                Ok(v)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn release(&self, conn: Connection) {
        if !conn.is_autocommit() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_CONNECTIONS {
            idle.push(conn);
        }
    }
}

/// Any failure to create the file's directory (permission, read-only file system, a
/// path component that is a regular file) means the store cannot be written there.
fn dir_error(dir: &Path, e: std::io::Error) -> StoreError {
    StoreError::Unwritable(format!("cannot create directory {}: {e}", dir.display()))
}

/// Decodes fetched `(id, payload, is_encrypted)` rows into `out` (undecodable ones are
/// listed, not fatal) and returns the ids that decoded, in row order. Shared by every
/// backend, so a row reads the same whichever database it came from.
pub(crate) fn decode_rows(
    codec: &Codec,
    rows: Vec<(String, String, bool)>,
    out: &mut Fetched,
) -> Vec<String> {
    let mut found = Vec::with_capacity(rows.len());
    for (id, payload, is_encrypted) in rows {
        match codec.decode(&payload, is_encrypted) {
            Ok(v) => {
                found.push(id.clone());
                out.items.insert(id, v);
            }
            Err(e) => out.undecodable.push((id, e)),
        }
    }
    found
}

pub(crate) fn create_schema(conn: &Connection, table: &str) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         CREATE TABLE IF NOT EXISTS \"{table}\" (
            id VARCHAR(20) NOT NULL,
            chat_id VARCHAR(64) NOT NULL,
            message_id VARCHAR(64) NOT NULL,
            model_id VARCHAR(128),
            item_type VARCHAR(64) NOT NULL,
            payload JSON NOT NULL,
            is_encrypted BOOLEAN NOT NULL,
            created_at DATETIME NOT NULL,
            PRIMARY KEY (id)
         );
         CREATE INDEX IF NOT EXISTS \"ix_{table}_chat_id\" ON \"{table}\" (chat_id);
         CREATE INDEX IF NOT EXISTS \"ix_{table}_message_id\" ON \"{table}\" (message_id);
         COMMIT;"
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK;");
    })
}

/// Retries `op` a few times when the file is busy beyond the busy handler (for example
/// two processes switching a new file to WAL at the same moment).
fn with_busy_retry(mut op: impl FnMut() -> rusqlite::Result<()>) -> rusqlite::Result<()> {
    let mut attempt = 0;
    loop {
        match op() {
            Err(e)
                if attempt < 3
                    && matches!(
                        e.sqlite_error_code(),
                        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                    ) =>
            {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(20 << attempt));
            }
            other => return other,
        }
    }
}

fn json_array<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    Value::Array(ids.map(|s| Value::String(s.to_string())).collect()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_sanitising() {
        assert_eq!(sanitize_table_fragment("Model-Name!@#"), "model_name");
        assert_eq!(
            sanitize_table_fragment("open_webui_openrouter_pipe"),
            "open_webui_openrouter_pipe"
        );
        assert_eq!(sanitize_table_fragment("__"), "pipe");
        assert_eq!(sanitize_table_fragment(""), "pipe");
        assert_eq!(sanitize_table_fragment("demo.plugin"), "demo_plugin");
        assert_eq!(sanitize_table_fragment("Ünï"), "n");
        let long = format!("{}_{}", "a".repeat(61), "b".repeat(10));
        assert_eq!(sanitize_table_fragment(&long), "a".repeat(61));
    }

    #[test]
    fn table_name_recipe() {
        // hashlib.sha256(("" + "open_webui_openrouter_pipe").encode()).hexdigest()[:8]
        let expected_no_key = {
            let d = Sha256::digest(b"open_webui_openrouter_pipe");
            format!("{:02x}{:02x}{:02x}{:02x}", d[0], d[1], d[2], d[3])
        };
        assert_eq!(
            table_name("open_webui_openrouter_pipe", ""),
            format!("response_items_open_webui_openrouter_pipe_{expected_no_key}")
        );
        assert_ne!(table_name("p", "k1"), table_name("p", "k2"));
        assert_eq!(table_name("p", " k1 "), table_name("p", "k1"));
    }

    #[test]
    fn utc_format_is_sqlalchemy_style() {
        assert_eq!(format_utc(UNIX_EPOCH), "1970-01-01 00:00:00.000000");
        let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(format_utc(t), "2023-11-14 22:13:20.123456");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(format_utc(leap), "2000-02-29 00:00:00.000000");
        let end = UNIX_EPOCH + Duration::from_secs(4_102_444_799); // 2099-12-31 23:59:59
        assert_eq!(format_utc(end), "2099-12-31 23:59:59.000000");
    }

    #[test]
    fn cleanup_delay_jitter() {
        assert_eq!(next_cleanup_delay(1.0, || 0.0), Duration::from_secs(3600));
        assert_eq!(next_cleanup_delay(1.0, || 0.5), Duration::from_secs(3900));
        // 25 % of 0.5 h is 450 s (less than 600 s).
        assert_eq!(
            next_cleanup_delay(0.5, || 1.0),
            Duration::from_secs(1800 + 450)
        );
        assert_eq!(
            next_cleanup_delay(24.0, || 1.0),
            Duration::from_secs(86_400 + 600)
        );
        assert_eq!(next_cleanup_delay(-1.0, || 0.7), Duration::ZERO);
        assert_eq!(
            next_cleanup_delay(1.0, || f64::NAN),
            Duration::from_secs(3600)
        );
    }
}
