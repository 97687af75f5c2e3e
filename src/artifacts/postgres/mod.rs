//! The PostgreSQL artifact storage: the reference pipe's own table in a PostgreSQL
//! database (usually Open WebUI's), so rows the Python pipe wrote there replay with no
//! migration and every worker and node sees the same history.
//!
//! Layout as SQLAlchemy creates it on PostgreSQL for the reference's model: `VARCHAR(n)`
//! strings, `payload JSON`, `is_encrypted BOOLEAN`, `created_at TIMESTAMP WITHOUT TIME
//! ZONE` holding naive UTC, the primary key on `id`, indexes `ix_<table>_chat_id` and
//! `ix_<table>_message_id`. The schema is created with `IF NOT EXISTS` under a
//! transaction-scoped advisory lock, so workers starting at once do not race. Writes name
//! their columns and skip ids already stored (`ON CONFLICT DO NOTHING`), so a table with
//! extra columns, or another pipe version writing the same table, is fine.
//!
//! Async and pooled ([`pool`]); an operation that finds the server gone is retried on a
//! fresh connection a few times (every statement is idempotent), then reports
//! [`StoreError::Unavailable`].

mod import;
mod pool;
pub mod target;
mod tls;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::codec::{Codec, CodecConfig};
use super::storage::{ArtifactStorage, StoreFuture};
use super::store::{format_utc, table_name, Fetched, NewArtifact, StoreError, WallClock};
use crate::ids::new_id;
pub use import::import_rows;
use pool::{error_text, Pool, Pooled};
pub use pool::{ACQUIRE_TIMEOUT, POOL_SIZE, STATEMENT_TIMEOUT};
pub use target::{is_postgres_url, OwuiDatabase, PgHost, PgTarget, SslMode, TargetError};

/// Waits before the retries of an operation that lost its connection: 3.5 s in all, far
/// longer than a PostgreSQL restart takes (measured on this machine under load:
/// `pg_ctl stop -m fast` then `pg_ctl start -w` of a test cluster, 0.22 s).
const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_millis(1000),
    Duration::from_millis(2250),
];

/// Where and how a PostgreSQL storage keeps its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// The server and database.
    pub target: PgTarget,
    /// The pipe id (table name fragment and part of the key hash).
    pub pipe_id: String,
    /// Encryption and compression settings.
    pub codec: CodecConfig,
    /// Rows per statement (`DB_BATCH_SIZE`, at least 1).
    pub batch_size: usize,
}

struct Sql {
    insert: String,
    select: String,
    select_msg: String,
    touch: String,
    touch_msg: String,
    delete: String,
    cleanup: String,
    count: String,
}

impl Sql {
    fn new(table: &str) -> Self {
        let t = quote(table);
        let ids = "id = ANY($2::varchar[])";
        Self {
            insert: format!(
                "INSERT INTO {t} (id, chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at) \
                 SELECT r.id, r.chat_id, r.message_id, r.model_id, r.item_type, r.payload::json, r.is_encrypted, $8::text::timestamp \
                 FROM UNNEST($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::text[], $7::bool[]) \
                 AS r(id, chat_id, message_id, model_id, item_type, payload, is_encrypted) \
                 ON CONFLICT (id) DO NOTHING"
            ),
            select: format!(
                "SELECT id, payload::text, is_encrypted FROM {t} WHERE chat_id = $1::varchar AND {ids}"
            ),
            select_msg: format!(
                "SELECT id, payload::text, is_encrypted FROM {t} WHERE chat_id = $1::varchar AND {ids} AND message_id = $3::varchar"
            ),
            touch: format!(
                "UPDATE {t} SET created_at = $3::text::timestamp WHERE chat_id = $1::varchar AND {ids}"
            ),
            touch_msg: format!(
                "UPDATE {t} SET created_at = $3::text::timestamp WHERE chat_id = $1::varchar AND {ids} AND message_id = $4::varchar"
            ),
            delete: format!("DELETE FROM {t} WHERE id = ANY($1::varchar[])"),
            cleanup: format!("DELETE FROM {t} WHERE created_at < $1::text::timestamp"),
            count: format!("SELECT COUNT(*) FROM {t}"),
        }
    }
}

/// An identifier in double quotes (the names come from [`table_name`]: `[a-z0-9_]` only).
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// The artifact table of one pipe id and key in one PostgreSQL database.
pub struct PgStorage {
    config: PgConfig,
    table: String,
    codec: Codec,
    clock: WallClock,
    sql: Sql,
    pool: Pool,
}

impl fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStorage")
            .field("target", &self.config.target)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl PgStorage {
    /// Connects and creates the table and its indexes when they are missing.
    pub async fn open(config: PgConfig) -> Result<Self, StoreError> {
        Self::open_with_clock(config, Arc::new(SystemTime::now)).await
    }

    /// [`PgStorage::open`] with a custom clock for `created_at`.
    pub async fn open_with_clock(
        mut config: PgConfig,
        clock: WallClock,
    ) -> Result<Self, StoreError> {
        config.batch_size = config.batch_size.max(1);
        let table = table_name(&config.pipe_id, &config.codec.key);
        let storage = Self {
            pool: Pool::new(config.target.clone())?,
            codec: Codec::new(config.codec.clone()),
            sql: Sql::new(&table),
            table,
            config,
            clock,
        };
        let mut conn = storage.pool.get().await?;
        match create_schema(&mut conn, &storage.table).await {
            Ok(()) => {}
            Err(e) => {
                conn.discard();
                return Err(storage.error(&e));
            }
        }
        drop(conn);
        Ok(storage)
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &PgConfig {
        &self.config
    }

    fn error(&self, e: &tokio_postgres::Error) -> StoreError {
        pool::classify(e, self.config.target.scrub(&error_text(e)))
    }

    /// Runs `op` on a pooled connection, retrying on a fresh one while the server is
    /// unreachable. `op` must be idempotent.
    async fn with_retry(&self, op: &Op<'_>) -> Result<Outcome, StoreError> {
        let mut attempt = 0;
        loop {
            let result = match self.pool.get().await {
                Ok(mut conn) => {
                    let limit = STATEMENT_TIMEOUT + Duration::from_secs(2);
                    match tokio::time::timeout(limit, self.run(&mut conn, op)).await {
                        Ok(Ok(v)) => return Ok(v),
                        Ok(Err(e)) => {
                            let err = self.error(&e);
                            if matches!(err, StoreError::Unavailable(_))
                                || conn.client().is_closed()
                            {
                                conn.discard();
                                self.pool.clear_idle();
                            }
                            Err(err)
                        }
                        Err(_) => {
                            conn.discard();
                            Err(StoreError::Unavailable(format!(
                                "no answer from {} within {limit:?}",
                                self.config.target.redacted()
                            )))
                        }
                    }
                }
                Err(e) => Err(e),
            };
            match result {
                Err(StoreError::Unavailable(_)) if attempt < RETRY_DELAYS.len() => {
                    tokio::time::sleep(RETRY_DELAYS[attempt]).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn persist_rows(&self, rows: Vec<NewArtifact>) -> Result<Vec<String>, StoreError> {
        let rows: Vec<NewArtifact> = rows
            .into_iter()
            .filter(|r| !r.chat_id.is_empty() && !r.message_id.is_empty() && r.item.is_object())
            .map(|mut r| {
                r.id = Some(r.id.filter(|s| !s.is_empty()).unwrap_or_else(new_id));
                r
            })
            .collect();
        let ids: Vec<String> = rows.iter().filter_map(|r| r.id.clone()).collect();
        if rows.is_empty() {
            return Ok(ids);
        }
        let created_at = format_utc((self.clock)());
        let batches: Vec<Column> = rows
            .chunks(self.config.batch_size)
            .map(|chunk| {
                let mut c = Column {
                    id: Vec::new(),
                    chat: Vec::new(),
                    message: Vec::new(),
                    model: Vec::new(),
                    kind: Vec::new(),
                    payload: Vec::new(),
                    encrypted: Vec::new(),
                };
                for r in chunk {
                    let encoded = self.codec.encode(&r.item);
                    c.id.push(r.id.clone().unwrap_or_default());
                    c.chat.push(r.chat_id.clone());
                    c.message.push(r.message_id.clone());
                    c.model.push(r.model_id.clone());
                    c.kind.push(
                        r.item
                            .get("type")
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty())
                            .unwrap_or("unknown")
                            .to_string(),
                    );
                    c.payload.push(encoded.payload);
                    c.encrypted.push(encoded.is_encrypted);
                }
                c
            })
            .collect();
        // One statement per batch (each its own transaction); a retry re-sends only the
        // batches not yet acknowledged, and ids already stored are skipped anyway.
        for batch in &batches {
            self.with_retry(&Op::Insert(batch, &created_at)).await?;
        }
        Ok(ids)
    }

    async fn fetch_rows(
        &self,
        chat_id: String,
        message_id: Option<String>,
        ids: Vec<String>,
    ) -> Result<Fetched, StoreError> {
        let mut out = Fetched::default();
        if chat_id.is_empty() || ids.is_empty() {
            return Ok(out);
        }
        let message_id = message_id.filter(|m| !m.is_empty());
        let rows = self
            .with_retry(&Op::Select {
                chat_id: &chat_id,
                message_id: message_id.as_deref(),
                ids: &ids,
            })
            .await?
            .rows();
        let found = super::store::decode_rows(&self.codec, rows, &mut out);
        if !found.is_empty() {
            if let Err(e) = self.touch(&chat_id, message_id.as_deref(), &found).await {
                out.touch_error = Some(e);
            }
        }
        Ok(out)
    }

    /// Refreshes `created_at` of rows just read; best effort: one attempt, no retry.
    async fn touch(
        &self,
        chat_id: &str,
        message_id: Option<&str>,
        ids: &[String],
    ) -> Result<(), StoreError> {
        let now = format_utc((self.clock)());
        let mut conn = self.pool.get().await?;
        let result = async {
            match message_id {
                Some(m) => {
                    let stmt = conn.statement(&self.sql.touch_msg).await?;
                    conn.client()
                        .execute(&stmt, &[&chat_id, &ids, &now, &m])
                        .await
                }
                None => {
                    let stmt = conn.statement(&self.sql.touch).await?;
                    conn.client().execute(&stmt, &[&chat_id, &ids, &now]).await
                }
            }
        }
        .await;
        result.map(|_| ()).map_err(|e| {
            let err = self.error(&e);
            conn.discard();
            err
        })
    }

    async fn execute_count(&self, op: Op<'_>) -> Result<usize, StoreError> {
        Ok(self.with_retry(&op).await?.count())
    }

    /// One attempt of `op` on `conn`.
    async fn run(
        &self,
        conn: &mut pool::Conn,
        op: &Op<'_>,
    ) -> Result<Outcome, tokio_postgres::Error> {
        match op {
            Op::Insert(batch, created_at) => {
                let stmt = conn.statement(&self.sql.insert).await?;
                let n = conn
                    .client()
                    .execute(
                        &stmt,
                        &[
                            &batch.id,
                            &batch.chat,
                            &batch.message,
                            &batch.model,
                            &batch.kind,
                            &batch.payload,
                            &batch.encrypted,
                            created_at,
                        ],
                    )
                    .await?;
                Ok(Outcome::Count(n))
            }
            Op::Select {
                chat_id,
                message_id,
                ids,
            } => {
                let rows = match message_id {
                    Some(m) => {
                        let stmt = conn.statement(&self.sql.select_msg).await?;
                        conn.client().query(&stmt, &[chat_id, ids, m]).await?
                    }
                    None => {
                        let stmt = conn.statement(&self.sql.select).await?;
                        conn.client().query(&stmt, &[chat_id, ids]).await?
                    }
                };
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push((
                        r.try_get::<_, String>(0)?,
                        r.try_get::<_, Option<String>>(1)?
                            .unwrap_or_else(|| "null".into()),
                        r.try_get::<_, Option<bool>>(2)?.unwrap_or(false),
                    ));
                }
                Ok(Outcome::Rows(out))
            }
            Op::Delete(ids) => {
                let stmt = conn.statement(&self.sql.delete).await?;
                Ok(Outcome::Count(conn.client().execute(&stmt, &[ids]).await?))
            }
            Op::Cleanup(cutoff) => {
                let stmt = conn.statement(&self.sql.cleanup).await?;
                Ok(Outcome::Count(
                    conn.client().execute(&stmt, &[cutoff]).await?,
                ))
            }
            Op::Count => {
                let stmt = conn.statement(&self.sql.count).await?;
                let row = conn.client().query_one(&stmt, &[]).await?;
                Ok(Outcome::Count(row.try_get::<_, i64>(0)?.max(0) as u64))
            }
        }
    }
}

/// The columns of one batch of rows, as the insert statement takes them.
struct Column {
    id: Vec<String>,
    chat: Vec<String>,
    message: Vec<String>,
    model: Vec<Option<String>>,
    kind: Vec<String>,
    payload: Vec<String>,
    encrypted: Vec<bool>,
}

/// One idempotent database operation (what a retry sends again).
enum Op<'a> {
    Insert(&'a Column, &'a String),
    Select {
        chat_id: &'a String,
        message_id: Option<&'a str>,
        ids: &'a Vec<String>,
    },
    Delete(&'a Vec<String>),
    Cleanup(&'a String),
    Count,
}

enum Outcome {
    Count(u64),
    Rows(Vec<(String, String, bool)>),
}

impl Outcome {
    fn count(self) -> usize {
        match self {
            Self::Count(n) => n as usize,
            Self::Rows(r) => r.len(),
        }
    }

    fn rows(self) -> Vec<(String, String, bool)> {
        match self {
            Self::Rows(r) => r,
            Self::Count(_) => Vec::new(),
        }
    }
}

async fn create_schema(conn: &mut Pooled<'_>, table: &str) -> Result<(), tokio_postgres::Error> {
    let digest = Sha256::digest(format!("openrouter_pipe schema {table}").as_bytes());
    let lock_key = i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let t = quote(table);
    let ddl = format!(
        "CREATE TABLE IF NOT EXISTS {t} (
            id VARCHAR(20) NOT NULL,
            chat_id VARCHAR(64) NOT NULL,
            message_id VARCHAR(64) NOT NULL,
            model_id VARCHAR(128),
            item_type VARCHAR(64) NOT NULL,
            payload JSON NOT NULL,
            is_encrypted BOOLEAN NOT NULL,
            created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
            PRIMARY KEY (id)
         );
         CREATE INDEX IF NOT EXISTS {} ON {t} (chat_id);
         CREATE INDEX IF NOT EXISTS {} ON {t} (message_id);",
        quote(&format!("ix_{table}_chat_id")),
        quote(&format!("ix_{table}_message_id")),
    );
    let tx = conn.client().transaction().await?;
    // Several workers opening at once queue here instead of racing on the catalog.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key])
        .await?;
    tx.batch_execute(&ddl).await?;
    tx.commit().await
}

impl ArtifactStorage for PgStorage {
    fn persist(&self, rows: Vec<NewArtifact>) -> StoreFuture<'_, Vec<String>> {
        Box::pin(self.persist_rows(rows))
    }

    fn fetch(
        &self,
        chat_id: String,
        message_id: Option<String>,
        ids: Vec<String>,
    ) -> StoreFuture<'_, Fetched> {
        Box::pin(self.fetch_rows(chat_id, message_id, ids))
    }

    fn delete(&self, ids: Vec<String>) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            if ids.is_empty() {
                return Ok(0);
            }
            self.execute_count(Op::Delete(&ids)).await
        })
    }

    fn cleanup(&self, older_than_days: u32, now: SystemTime) -> StoreFuture<'_, usize> {
        let cutoff = now
            .checked_sub(Duration::from_secs(u64::from(older_than_days) * 86_400))
            .unwrap_or(UNIX_EPOCH);
        let cutoff = format_utc(cutoff);
        Box::pin(async move { self.execute_count(Op::Cleanup(&cutoff)).await })
    }

    fn count(&self) -> StoreFuture<'_, usize> {
        Box::pin(async move { self.execute_count(Op::Count).await })
    }

    fn table_name(&self) -> &str {
        &self.table
    }

    fn location(&self) -> String {
        self.config.target.redacted()
    }
}
