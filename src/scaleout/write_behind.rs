//! The write-behind layer: an [`ArtifactStorage`] that wraps any other (SQLite,
//! PostgreSQL) and puts Redis in front of it, as the reference pipe does, without its
//! ways of losing rows.
//!
//! * **Writes** are queued: each row (already encoded, so encrypted items stay encrypted
//!   in Redis) is `RPUSH`ed to `<ns>:pending` and cached at `<ns>:artifact:<chat>:<id>`
//!   for `REDIS_CACHE_TTL_SECONDS`, in one `MULTI`, and `db-flush` is published. When
//!   Redis is not usable the rows go straight to the wrapped storage.
//! * **Flushes** are run by whichever worker takes the lease `<ns>:flush_lock` (a token,
//!   `SET NX PX`). Under the lease a Lua script moves up to `DB_BATCH_SIZE` entries from
//!   `<ns>:pending` to `<ns>:processing` (only when that is empty: entries left there by
//!   a worker that died or failed are retried first) and returns them; they are written
//!   to the database, and only then does a second script delete `<ns>:processing`, and
//!   only while the lease is still this worker's. A worker killed mid-flush therefore
//!   loses nothing: its lease runs out and the next flusher writes the same entries
//!   again, which stores each once (the id is the primary key). A database failure
//!   leaves them in `<ns>:processing` for the next flush.
//! * **Reads** look in the cache first (`MGET`), then the database for the rest, and
//!   cache what the database returned.
//!
//! Malformed queue entries are skipped with a warning. Flushes are woken by `db-flush`
//! and by a timer ([`FlushOptions::interval`], 10 s as in the reference), which also
//! warns when more than `REDIS_PENDING_WARN_THRESHOLD` entries wait.

mod dead_letter;
mod entry;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde_json::Value;

use super::link::RedisLink;
use crate::artifacts::{
    ArtifactStorage, Codec, CodecConfig, Fetched, NewArtifact, StoreError, StoreFuture,
};
use crate::emit::LogLevel;
use crate::logsink;
use entry::{entry, parse_entry, parse_entry_lenient};

/// The pub/sub channel that wakes flushers (the reference's, shared by every pipe).
pub const FLUSH_CHANNEL: &str = "db-flush";

/// Batches one trigger may flush before yielding to the next trigger.
const MAX_BATCHES_PER_TRIGGER: usize = 1_000;

// KEYS: lock, processing, pending. ARGV: token, batch size, lease ms.
const CLAIM: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if redis.call('LLEN', KEYS[2]) == 0 then
  for i = 1, tonumber(ARGV[2]) do
    local v = redis.call('LPOP', KEYS[3])
    if not v then break end
    redis.call('RPUSH', KEYS[2], v)
  end
end
return redis.call('LRANGE', KEYS[2], 0, -1)
";

// KEYS: lock, processing. ARGV: token.
const ACK: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
return 1
";

// KEYS: lock. ARGV: token.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// How flushing behaves; the valves of the latest request update it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlushOptions {
    /// Whether writes and reads go through Redis at all (`ENABLE_REDIS_CACHE`); when
    /// off, the storage passes every call to the one it wraps (queued rows still flush).
    pub enabled: bool,
    /// Entries written per database transaction (`DB_BATCH_SIZE`).
    pub batch_size: usize,
    /// How long cached items stay in Redis (`REDIS_CACHE_TTL_SECONDS`).
    pub cache_ttl: Duration,
    /// How long a flusher's lease lasts; renewed with every batch.
    pub lease: Duration,
    /// The timer between flushes when no `db-flush` message comes.
    pub interval: Duration,
    /// Waiting entries above which a warning is logged (`REDIS_PENDING_WARN_THRESHOLD`).
    pub pending_warn_threshold: usize,
    /// Consecutive Redis errors of flushes that switch Redis off (`REDIS_FLUSH_FAILURE_LIMIT`).
    pub flush_failure_limit: u32,
}

impl FlushOptions {
    /// The options a request's valves ask for.
    pub fn from_settings(settings: &crate::valves::Settings) -> Self {
        let redis = &settings.redis;
        Self {
            enabled: redis.cache_enabled,
            batch_size: settings.artifacts.batch_size,
            cache_ttl: redis.cache_ttl,
            pending_warn_threshold: redis.pending_warn_threshold,
            flush_failure_limit: redis.flush_failure_limit,
            ..Self::default()
        }
    }
}

// The valves of the latest request, which storages opened by the engine follow.
static LATEST: Mutex<Option<FlushOptions>> = Mutex::new(None);

/// Storages opened with [`WriteBehind::following_latest`] use `options` from now on.
pub fn follow(options: FlushOptions) {
    *LATEST.lock().unwrap_or_else(|p| p.into_inner()) = Some(options);
}

impl Default for FlushOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            batch_size: crate::artifacts::store::DEFAULT_BATCH_SIZE,
            cache_ttl: Duration::from_secs(600),
            // Longer than any one batch write takes (a statement times out before it).
            lease: Duration::from_secs(30),
            interval: Duration::from_secs(10),
            pending_warn_threshold: 100,
            flush_failure_limit: 5,
        }
    }
}

/// What one flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Another worker held the lease; nothing was done.
    pub skipped: bool,
    /// Rows the database committed.
    pub written: usize,
    /// Entries dropped because they were not rows.
    pub malformed: usize,
    /// Batches written.
    pub batches: usize,
}

/// Why a flush stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlushError {
    /// Redis failed (counts towards `REDIS_FLUSH_FAILURE_LIMIT`).
    Redis(String),
    /// The database failed; the entries stay queued.
    Database(StoreError),
}

impl std::fmt::Display for FlushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Redis(m) => write!(f, "Redis error: {m}"),
            Self::Database(e) => write!(f, "{e}"),
        }
    }
}

impl From<redis::RedisError> for FlushError {
    fn from(e: redis::RedisError) -> Self {
        Self::Redis(super::RedisFault::from(e).0)
    }
}

struct Keys {
    pending: String,
    processing: String,
    dead: String,
    lock: String,
    ns: String,
}

impl Keys {
    fn new(ns: &str) -> Self {
        Self {
            pending: format!("{ns}:pending"),
            processing: format!("{ns}:processing"),
            dead: format!("{ns}:dead"),
            lock: format!("{ns}:flush_lock"),
            ns: ns.to_string(),
        }
    }

    fn artifact(&self, chat_id: &str, id: &str) -> String {
        format!("{}:artifact:{chat_id}:{id}", self.ns)
    }

    fn deleted(&self, id: &str) -> String {
        format!("{}:deleted:{id}", self.ns)
    }
}

struct Core {
    inner: Arc<dyn ArtifactStorage>,
    link: Arc<RedisLink>,
    keys: Keys,
    codec: Codec,
    options: Mutex<FlushOptions>,
    follows_latest: bool,
}

/// The write-behind storage (see the module comment).
#[derive(Clone)]
pub struct WriteBehind {
    core: Arc<Core>,
}

impl std::fmt::Debug for WriteBehind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBehind")
            .field("namespace", &self.core.keys.ns)
            .field("inner", &self.core.inner)
            .finish_non_exhaustive()
    }
}

fn new_token() -> String {
    format!(
        "{:016x}{}",
        (crate::ids::random_unit() * u64::MAX as f64) as u64,
        crate::ids::new_id()
    )
}

impl WriteBehind {
    /// `inner` behind Redis at `link`, in namespace `ns`, rows encoded with `codec`. Starts
    /// this storage's flusher (pub/sub plus timer), which stops when the storage is dropped.
    pub fn new(
        inner: Arc<dyn ArtifactStorage>,
        link: Arc<RedisLink>,
        ns: &str,
        codec: CodecConfig,
        options: FlushOptions,
    ) -> Self {
        let storage = Self::without_flusher(inner, link, ns, codec, options);
        crate::runtime::spawn(flusher(Arc::downgrade(&storage.core)));
        storage
    }

    /// [`Self::new`] whose options follow the latest request's valves ([`follow`]).
    pub fn following_latest(
        inner: Arc<dyn ArtifactStorage>,
        link: Arc<RedisLink>,
        ns: &str,
        codec: CodecConfig,
    ) -> Self {
        let options = LATEST
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default();
        let mut storage = Self::without_flusher(inner, link, ns, codec, options);
        if let Some(core) = Arc::get_mut(&mut storage.core) {
            core.follows_latest = true;
        }
        crate::runtime::spawn(flusher(Arc::downgrade(&storage.core)));
        storage
    }

    /// The same storage with no flusher of its own (tests drive [`Self::flush`]).
    pub fn without_flusher(
        inner: Arc<dyn ArtifactStorage>,
        link: Arc<RedisLink>,
        ns: &str,
        codec: CodecConfig,
        options: FlushOptions,
    ) -> Self {
        Self {
            core: Arc::new(Core {
                inner,
                link,
                keys: Keys::new(ns),
                codec: Codec::new(codec),
                options: Mutex::new(options),
                follows_latest: false,
            }),
        }
    }

    /// Flushing follows `options` from now on (the latest request's valves).
    pub fn set_options(&self, options: FlushOptions) {
        *self.core.options.lock().unwrap_or_else(|p| p.into_inner()) = options;
    }

    /// The storage underneath.
    pub fn inner(&self) -> &Arc<dyn ArtifactStorage> {
        &self.core.inner
    }

    /// Flushes queued rows to the database now, batch after batch until the queue is
    /// empty, unless another worker holds the lease.
    pub async fn flush(&self) -> Result<FlushReport, FlushError> {
        self.core.flush().await
    }

    /// Entries waiting (queued plus being flushed); `None` when Redis is not usable.
    pub async fn backlog(&self) -> Option<usize> {
        self.core.backlog().await.ok()
    }
}

impl Core {
    fn options(&self) -> FlushOptions {
        if self.follows_latest {
            if let Some(latest) = LATEST.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                return latest;
            }
        }
        self.options
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Redis for queueing and caching: `None` when it is down, switched off, or the
    /// valve turns it off (then the wrapped storage is used directly).
    fn connection(&self) -> Option<ConnectionManager> {
        if !self.options().enabled {
            return None;
        }
        self.link.connection()
    }

    /// Redis for flushing: queued rows still reach the database after the valve is off.
    fn flush_connection(&self) -> Option<ConnectionManager> {
        self.link.connection()
    }

    async fn backlog(&self) -> Result<usize, FlushError> {
        let mut conn = self
            .flush_connection()
            .ok_or_else(|| FlushError::Redis("not connected".into()))?;
        let (pending, processing): (usize, usize) = redis::pipe()
            .llen(&self.keys.pending)
            .llen(&self.keys.processing)
            .query_async(&mut conn)
            .await?;
        Ok(pending + processing)
    }

    async fn flush(&self) -> Result<FlushReport, FlushError> {
        let mut report = FlushReport::default();
        let Some(mut conn) = self.flush_connection() else {
            return Err(FlushError::Redis("not connected".into()));
        };
        let options = self.options();
        let lease_ms = options.lease.as_millis().max(1) as u64;
        let token = new_token();
        let taken: Option<String> = redis::cmd("SET")
            .arg(&self.keys.lock)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(lease_ms)
            .query_async(&mut conn)
            .await?;
        if taken.is_none() {
            report.skipped = true;
            return Ok(report);
        }
        let result = self
            .flush_batches(&mut conn, &token, &options, &mut report)
            .await;
        let released: Result<i64, _> = redis::Script::new(RELEASE)
            .key(&self.keys.lock)
            .arg(&token)
            .invoke_async(&mut conn)
            .await;
        match released {
            Ok(1) => {}
            Ok(other) => logsink::log(
                LogLevel::Debug,
                format!(
                    "Redis flush lock was not released (result={other}, key={}); its lease ran out",
                    self.keys.lock
                ),
            ),
            Err(e) => logsink::log(
                LogLevel::Debug,
                format!("Redis flush lock release failed: {e}"),
            ),
        }
        result.map(|()| report)
    }

    async fn flush_batches(
        &self,
        conn: &mut ConnectionManager,
        token: &str,
        options: &FlushOptions,
        report: &mut FlushReport,
    ) -> Result<(), FlushError> {
        let claim = redis::Script::new(CLAIM);
        let ack = redis::Script::new(ACK);
        for _ in 0..MAX_BATCHES_PER_TRIGGER {
            let claimed: Option<Vec<Vec<u8>>> = claim
                .key(&self.keys.lock)
                .key(&self.keys.processing)
                .key(&self.keys.pending)
                .arg(token)
                .arg(options.batch_size.max(1))
                .arg(options.lease.as_millis().max(1) as u64)
                .invoke_async(conn)
                .await?;
            let Some(entries) = claimed else {
                return Ok(()); // the lease ran out: another worker carries on
            };
            if entries.is_empty() {
                return Ok(());
            }
            let mut rows = Vec::with_capacity(entries.len());
            let mut unreadable: Vec<&[u8]> = Vec::new();
            for raw in &entries {
                match std::str::from_utf8(raw)
                    .ok()
                    .and_then(|text| parse_entry(text, &self.codec))
                {
                    Some((_, row)) => rows.push(row),
                    None => unreadable.push(raw),
                }
            }
            let malformed = unreadable.len();
            if malformed > 0 {
                dead_letter::keep(conn, &self.keys.dead, &unreadable).await?;
                logsink::log(
                    LogLevel::Warning,
                    format!(
                        "Moved {malformed} malformed artifact(s) from the Redis queue {} to {}                          (kept for inspection, newest {})",
                        self.keys.pending,
                        self.keys.dead,
                        dead_letter::DEAD_LETTER_CAP
                    ),
                );
            }
            self.drop_deleted(conn, &mut rows).await?;
            if !rows.is_empty() {
                let started = Instant::now();
                let stored = self
                    .inner
                    .persist(rows)
                    .await
                    .map_err(FlushError::Database)?;
                logsink::log(
                    LogLevel::Debug,
                    format!(
                        "Flushed {} queued artifact(s) to the database in {} ms",
                        stored.len(),
                        started.elapsed().as_millis()
                    ),
                );
                report.written += stored.len();
            }
            report.malformed += malformed;
            report.batches += 1;
            let acked: i64 = ack
                .key(&self.keys.lock)
                .key(&self.keys.processing)
                .arg(token)
                .invoke_async(conn)
                .await?;
            if acked != 1 {
                return Ok(()); // committed, but the lease is gone: the next flusher re-writes (idempotent)
            }
        }
        Ok(())
    }

    /// Leaves out rows deleted (`next_reply` reasoning) while they were still queued.
    async fn drop_deleted(
        &self,
        conn: &mut ConnectionManager,
        rows: &mut Vec<NewArtifact>,
    ) -> Result<(), FlushError> {
        if rows.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = rows
            .iter()
            .map(|r| self.keys.deleted(r.id.as_deref().unwrap_or_default()))
            .collect();
        let tombstones: Vec<Option<String>> =
            redis::cmd("MGET").arg(&keys).query_async(conn).await?;
        let mut marks = tombstones.into_iter();
        rows.retain(|_| marks.next().flatten().is_none());
        Ok(())
    }

    /// Queues `rows`; `Err` when Redis failed (the caller writes them directly).
    async fn enqueue(
        &self,
        conn: &mut ConnectionManager,
        rows: &[(String, NewArtifact)],
    ) -> Result<(), redis::RedisError> {
        let ttl = self.options().cache_ttl.as_secs().max(1);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (id, row) in rows {
            let text = entry(id, row, &self.codec);
            pipe.rpush(&self.keys.pending, &text).ignore();
            pipe.set_ex(self.keys.artifact(&row.chat_id, id), &text, ttl)
                .ignore();
        }
        pipe.publish(FLUSH_CHANNEL, "flush").ignore();
        pipe.query_async::<()>(conn).await
    }

    async fn cache(
        &self,
        conn: &mut ConnectionManager,
        chat_id: &str,
        items: &HashMap<String, Value>,
    ) {
        if items.is_empty() {
            return;
        }
        let ttl = self.options().cache_ttl.as_secs().max(1);
        let mut pipe = redis::pipe();
        for (id, item) in items {
            // The message id is not returned by a fetch; a cached row carries an empty one,
            // which a message-scoped read does not trust (it asks the database).
            let row = NewArtifact {
                id: Some(id.clone()),
                chat_id: chat_id.to_string(),
                message_id: String::new(),
                model_id: None,
                item: item.clone(),
            };
            pipe.set_ex(
                self.keys.artifact(chat_id, id),
                entry(id, &row, &self.codec),
                ttl,
            )
            .ignore();
        }
        if let Err(e) = pipe.query_async::<()>(conn).await {
            logsink::log(LogLevel::Debug, format!("Redis cache write failed: {e}"));
        }
    }

    async fn cached(
        &self,
        conn: &mut ConnectionManager,
        chat_id: &str,
        message_id: Option<&str>,
        ids: &[String],
    ) -> Result<HashMap<String, Value>, redis::RedisError> {
        let mut keys: Vec<String> = ids
            .iter()
            .map(|id| self.keys.artifact(chat_id, id))
            .collect();
        keys.extend(ids.iter().map(|id| self.keys.deleted(id)));
        let mut values: Vec<Option<String>> =
            redis::cmd("MGET").arg(&keys).query_async(conn).await?;
        let tombstones = values.split_off(ids.len());
        let mut found = HashMap::new();
        for ((id, value), tombstone) in ids.iter().zip(values).zip(tombstones) {
            if tombstone.is_some() {
                continue;
            }
            let Some((_, row)) = value
                .as_deref()
                .and_then(|v| parse_entry_lenient(v, &self.codec))
            else {
                continue;
            };
            if row.chat_id != chat_id || message_id.is_some_and(|m| row.message_id != m) {
                continue;
            }
            found.insert(id.clone(), row.item);
        }
        Ok(found)
    }
}

impl ArtifactStorage for WriteBehind {
    fn persist(&self, rows: Vec<NewArtifact>) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            let core = &self.core;
            let Some(mut conn) = core.connection() else {
                return core.inner.persist(rows).await;
            };
            let rows: Vec<NewArtifact> = rows
                .into_iter()
                .filter(|r| !r.chat_id.is_empty() && !r.message_id.is_empty() && r.item.is_object())
                .collect();
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let rows: Vec<(String, NewArtifact)> = rows
                .into_iter()
                .map(|mut row| {
                    let id = row
                        .id
                        .clone()
                        .filter(|i| !i.is_empty())
                        .unwrap_or_else(crate::ids::new_id);
                    row.id = Some(id.clone());
                    (id, row)
                })
                .collect();
            match core.enqueue(&mut conn, &rows).await {
                Ok(()) => Ok(rows.into_iter().map(|(id, _)| id).collect()),
                Err(e) => {
                    logsink::log(
                        LogLevel::Warning,
                        format!(
                            "Redis enqueue failed, falling back to direct DB write: {}",
                            super::RedisFault::from(e)
                        ),
                    );
                    core.inner
                        .persist(rows.into_iter().map(|(_, row)| row).collect())
                        .await
                }
            }
        })
    }

    fn fetch(
        &self,
        chat_id: String,
        message_id: Option<String>,
        ids: Vec<String>,
    ) -> StoreFuture<'_, Fetched> {
        Box::pin(async move {
            let core = &self.core;
            if chat_id.is_empty() || ids.is_empty() {
                return Ok(Fetched::default());
            }
            let Some(mut conn) = core.connection() else {
                return core.inner.fetch(chat_id, message_id, ids).await;
            };
            let hits = match core
                .cached(&mut conn, &chat_id, message_id.as_deref(), &ids)
                .await
            {
                Ok(hits) => hits,
                Err(e) => {
                    logsink::log(LogLevel::Debug, format!("Redis cache read failed: {e}"));
                    HashMap::new()
                }
            };
            let missing: Vec<String> = ids
                .into_iter()
                .filter(|id| !hits.contains_key(id))
                .collect();
            if missing.is_empty() {
                return Ok(Fetched {
                    items: hits,
                    ..Fetched::default()
                });
            }
            let mut fetched = core
                .inner
                .fetch(chat_id.clone(), message_id, missing)
                .await?;
            core.cache(&mut conn, &chat_id, &fetched.items).await;
            fetched.items.extend(hits);
            Ok(fetched)
        })
    }

    fn delete(&self, ids: Vec<String>) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            if let Some(mut conn) = self.core.connection() {
                // A tombstone per id (for as long as a cached copy may live) hides cached
                // copies and keeps a row still queued from being flushed back.
                let ttl = self.core.options().cache_ttl.as_secs().max(1);
                let mut pipe = redis::pipe();
                for id in &ids {
                    pipe.set_ex(self.core.keys.deleted(id), 1, ttl).ignore();
                }
                if let Err(e) = pipe.query_async::<()>(&mut conn).await {
                    logsink::log(
                        LogLevel::Debug,
                        format!("Redis tombstones not written: {e}"),
                    );
                }
            }
            self.core.inner.delete(ids).await
        })
    }

    fn cleanup(&self, older_than_days: u32, now: SystemTime) -> StoreFuture<'_, usize> {
        self.core.inner.cleanup(older_than_days, now)
    }

    fn count(&self) -> StoreFuture<'_, usize> {
        self.core.inner.count()
    }

    fn table_name(&self) -> &str {
        self.core.inner.table_name()
    }

    fn location(&self) -> String {
        format!(
            "{} via Redis {}",
            self.core.inner.location(),
            self.core.link.display_url()
        )
    }
}

/// Flushes on every `db-flush` message and every interval, warns about a backed-up
/// queue, and counts Redis failures; ends when the storage is dropped.
async fn flusher(core: Weak<Core>) {
    let mut messages = None;
    loop {
        let Some(live) = core.upgrade() else { return };
        let interval = live.options().interval;
        if messages.is_none() && !live.link.is_switched_off() {
            messages = subscribe(live.link.client()).await;
        }
        drop(live);
        let woken_by_message = match messages.as_mut() {
            Some(stream) => tokio::select! {
                message = stream.next() => {
                    if message.is_none() {
                        logsink::log(LogLevel::Warning, "Redis pub/sub listener stopped (falling back to timer)");
                        messages = None;
                    }
                    true
                }
                _ = tokio::time::sleep(interval) => false,
            },
            None => {
                tokio::time::sleep(interval).await;
                false
            }
        };
        let Some(live) = core.upgrade() else { return };
        if live.link.is_switched_off() || live.flush_connection().is_none() {
            continue;
        }
        let options = live.options();
        if !woken_by_message {
            match live.backlog().await {
                Ok(n) if n > options.pending_warn_threshold => logsink::log(
                    LogLevel::Warning,
                    format!(
                        "⚠️ Redis pending queue backed up: {n} items (threshold: {})",
                        options.pending_warn_threshold
                    ),
                ),
                _ => {}
            }
        }
        match live.flush().await {
            Ok(_) => live.link.flush_succeeded(),
            Err(FlushError::Redis(e)) => {
                logsink::log(LogLevel::Warning, format!("Redis flush failed: {e}"));
                live.link.flush_failed(options.flush_failure_limit);
            }
            Err(FlushError::Database(e)) => logsink::log(
                LogLevel::Warning,
                format!("Queued artifacts stay in Redis; the database write failed: {e}"),
            ),
        }
    }
}

async fn subscribe(client: &redis::Client) -> Option<redis::aio::PubSubStream> {
    let attempt = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(FLUSH_CHANNEL).await?;
        Ok::<_, redis::RedisError>(pubsub.into_on_message())
    };
    match tokio::time::timeout(super::link::COMMAND_TIMEOUT, attempt).await {
        Ok(Ok(stream)) => Some(stream),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
