//! The Redis write-behind layer against a real `redis-server` (Debian's, started here on
//! a loopback port and killed at the end) and the SQLite backend: queued rows reach the
//! database exactly once whatever happens to the flushing worker or to Redis. Skips with
//! a message only when `redis-server` is not installed (CI installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use openrouter_pipe::artifacts::{
    ArtifactStorage, ArtifactStore, CodecConfig, Fetched, NewArtifact, SqliteStorage, StoreConfig,
    StoreError, StoreFuture,
};
use openrouter_pipe::scaleout::{FlushError, FlushOptions, RedisLink, WriteBehind};
use serde_json::json;

const CHILD_ENV: &str = "WRITE_BEHIND_CHILD";

struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
    aof: bool,
}

impl RedisServer {
    /// A throw-away server; `aof` keeps its data across a restart (fsync on every write).
    fn start(aof: bool) -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("SKIPPED: redis-server is not installed (apt-get install redis-server)");
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "wb-redis-{}-{}",
            std::process::id(),
            common::free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let port = common::free_port();
        let child = Self::spawn(port, &dir, aof);
        let server = Self {
            child,
            port,
            dir,
            aof,
        };
        server.wait_ready();
        Some(server)
    }

    fn spawn(port: u16, dir: &Path, aof: bool) -> Child {
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--dir", dir.to_str().unwrap()]);
        if aof {
            cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            cmd.args(["--appendonly", "no"]);
        }
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts")
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(self.port, &self.dir, self.aof);
        self.wait_ready();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn codec() -> CodecConfig {
    CodecConfig {
        key: "write-behind-test-key".into(),
        encrypt_all: true,
        compression: true,
        min_compress_bytes: 0,
    }
}

fn sqlite(path: &Path) -> Arc<dyn ArtifactStorage> {
    let mut config = StoreConfig::new(path, "openrouter", codec());
    config.batch_size = 10;
    Arc::new(SqliteStorage::new(Arc::new(
        ArtifactStore::open(config).unwrap(),
    )))
}

fn rows(chat: &str, n: usize) -> Vec<NewArtifact> {
    (0..n)
        .map(|i| NewArtifact {
            id: Some(openrouter_pipe::artifacts::new_id()),
            chat_id: chat.into(),
            message_id: format!("msg-{i}"),
            model_id: Some("openrouter.openai.o3".into()),
            item: json!({"type": "reasoning", "id": format!("rs_{i}"), "summary": [{"type": "summary_text", "text": format!("step {i}")}]}),
        })
        .collect()
}

fn options(lease: Duration) -> FlushOptions {
    FlushOptions {
        batch_size: 10,
        lease,
        ..FlushOptions::default()
    }
}

async fn link(url: &str) -> Arc<RedisLink> {
    let link = RedisLink::new(url).unwrap();
    link.connect().await.unwrap();
    link
}

async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn llen(url: &str, key: &str) -> usize {
    let mut c = redis_conn(url).await;
    redis::cmd("LLEN")
        .arg(key)
        .query_async(&mut c)
        .await
        .unwrap()
}

async fn stored_ids(storage: &Arc<dyn ArtifactStorage>, chat: &str, ids: &[String]) -> usize {
    storage
        .fetch(chat.into(), None, ids.to_vec())
        .await
        .unwrap()
        .items
        .len()
}

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wb-db-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("artifacts.db")
}

#[tokio::test]
async fn queued_rows_are_replayed_from_redis_at_once_and_reach_the_database_in_batches() {
    let Some(server) = RedisServer::start(false) else {
        return;
    };
    let db = sqlite(&temp_db("basic"));
    let wb = WriteBehind::without_flusher(
        db.clone(),
        link(&server.url()).await,
        "openrouter",
        codec(),
        options(Duration::from_secs(30)),
    );
    let ids = wb.persist(rows("chat-a", 25)).await.unwrap();
    assert_eq!(ids.len(), 25);
    assert_eq!(
        db.count().await.unwrap(),
        0,
        "nothing written before a flush"
    );
    assert_eq!(llen(&server.url(), "openrouter:pending").await, 25);
    // The next turn replays from the cache before any flush.
    let replayed = wb.fetch("chat-a".into(), None, ids.clone()).await.unwrap();
    assert_eq!(replayed.items.len(), 25);
    assert_eq!(replayed.items[&ids[3]]["summary"][0]["text"], "step 3");
    // Encrypted items stay encrypted in Redis.
    let mut c = redis_conn(&server.url()).await;
    let cached: String = redis::cmd("GET")
        .arg(format!("openrouter:artifact:chat-a:{}", ids[0]))
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(!cached.contains("step 0") && cached.contains("ciphertext"));
    let report = wb.flush().await.unwrap();
    assert_eq!(
        (report.written, report.batches),
        (25, 3),
        "batches of DB_BATCH_SIZE"
    );
    assert_eq!(db.count().await.unwrap(), 25);
    assert_eq!(llen(&server.url(), "openrouter:pending").await, 0);
    assert_eq!(llen(&server.url(), "openrouter:processing").await, 0);
    // A row of another chat is not served from this chat's cache.
    assert!(wb
        .fetch("chat-b".into(), None, ids.clone())
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test]
async fn two_workers_flushing_at_once_store_every_row_once() {
    let Some(server) = RedisServer::start(false) else {
        return;
    };
    let path = temp_db("two");
    let (db_a, db_b) = (sqlite(&path), sqlite(&path));
    let a = WriteBehind::without_flusher(
        db_a.clone(),
        link(&server.url()).await,
        "openrouter",
        codec(),
        options(Duration::from_secs(30)),
    );
    let b = WriteBehind::without_flusher(
        db_b,
        link(&server.url()).await,
        "openrouter",
        codec(),
        options(Duration::from_secs(30)),
    );
    let mut all = Vec::new();
    for round in 0..20 {
        let (x, y) = tokio::join!(a.persist(rows("chat", 5)), b.persist(rows("chat", 5)));
        all.extend(x.unwrap());
        all.extend(y.unwrap());
        if round % 3 == 0 {
            let (fa, fb) = tokio::join!(a.flush(), b.flush());
            fa.unwrap();
            fb.unwrap();
        }
    }
    // Both keep flushing at once until the queue is empty; one of each pair usually
    // finds the other's lease and skips.
    let deadline = Instant::now() + Duration::from_secs(20);
    while a.backlog().await != Some(0) {
        assert!(Instant::now() < deadline, "the queue never emptied");
        let (fa, fb) = tokio::join!(a.flush(), b.flush());
        fa.unwrap();
        fb.unwrap();
    }
    assert_eq!(all.len(), 200);
    assert_eq!(
        db_a.count().await.unwrap(),
        200,
        "every row stored exactly once"
    );
    assert_eq!(stored_ids(&db_a, "chat", &all).await, 200);
}

#[tokio::test]
async fn malformed_entries_in_the_queue_go_to_the_dead_letter_list_not_fatal() {
    let Some(server) = RedisServer::start(false) else {
        return;
    };
    let db = sqlite(&temp_db("malformed"));
    let wb = WriteBehind::without_flusher(
        db.clone(),
        link(&server.url()).await,
        "openrouter",
        codec(),
        options(Duration::from_secs(30)),
    );
    let good = wb.persist(rows("chat", 3)).await.unwrap();
    let mut c = redis_conn(&server.url()).await;
    for junk in ["not json", "[1]", "{\"id\":\"x\"}", "\u{0}\u{ff}"] {
        let _: () = redis::cmd("RPUSH")
            .arg("openrouter:pending")
            .arg(junk)
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let more = wb.persist(rows("chat", 2)).await.unwrap();
    let report = wb.flush().await.unwrap();
    assert_eq!((report.written, report.malformed), (5, 4));
    assert_eq!(db.count().await.unwrap(), 5);
    assert_eq!(stored_ids(&db, "chat", &[good, more].concat()).await, 5);
    assert_eq!(llen(&server.url(), "openrouter:pending").await, 0);
    let dead: Vec<Vec<u8>> = redis::cmd("LRANGE")
        .arg("openrouter:dead")
        .arg(0)
        .arg(-1)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(
        dead,
        ["not json", "[1]", "{\"id\":\"x\"}", "\u{0}\u{ff}"]
            .map(|j| j.as_bytes().to_vec())
            .to_vec(),
        "kept in the dead-letter list, in order"
    );
}

#[tokio::test]
async fn a_database_that_is_down_keeps_the_rows_queued_until_it_is_back() {
    let Some(server) = RedisServer::start(false) else {
        return;
    };
    let db = sqlite(&temp_db("dbdown"));
    let down = Arc::new(Switchable {
        inner: db.clone(),
        down: AtomicBool::new(true),
        on_persist: None,
        calls: AtomicUsize::new(0),
    });
    let wb = WriteBehind::without_flusher(
        down.clone(),
        link(&server.url()).await,
        "openrouter",
        codec(),
        options(Duration::from_secs(30)),
    );
    let ids = wb.persist(rows("chat", 12)).await.unwrap();
    assert!(matches!(wb.flush().await, Err(FlushError::Database(_))));
    assert_eq!(wb.backlog().await, Some(12), "nothing left Redis");
    down.down.store(false, Ordering::SeqCst);
    wb.flush().await.unwrap();
    assert_eq!(stored_ids(&db, "chat", &ids).await, 12);
    assert_eq!(wb.backlog().await, Some(0));
}

#[tokio::test]
async fn redis_stopped_and_restarted_mid_flush_loses_nothing() {
    let Some(mut server) = RedisServer::start(true) else {
        return;
    };
    let url = server.url();
    let db = sqlite(&temp_db("restart"));
    let stop_now = Arc::new(AtomicBool::new(false));
    let hook = stop_now.clone();
    let port = server.port;
    // Redis dies while the first batch is being written to the database.
    let storage = Arc::new(Switchable {
        inner: db.clone(),
        down: AtomicBool::new(false),
        on_persist: Some(Box::new(move || {
            if !hook.swap(true, Ordering::SeqCst) {
                let _ = Command::new("redis-cli")
                    .args(["-p", &port.to_string(), "shutdown", "nosave"])
                    .output();
            }
        })),
        calls: AtomicUsize::new(0),
    });
    let wb = WriteBehind::without_flusher(
        storage,
        link(&url).await,
        "openrouter",
        codec(),
        options(Duration::from_secs(2)),
    );
    let first = wb.persist(rows("chat", 15)).await.unwrap();
    let flushed = wb.flush().await;
    assert!(matches!(flushed, Err(FlushError::Redis(_))), "{flushed:?}");
    // While Redis is down, an answer's rows go straight to the database.
    let _ = server.child.wait();
    let during = wb.persist(rows("chat", 5)).await.unwrap();
    assert_eq!(stored_ids(&db, "chat", &during).await, 5);
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match wb.flush().await {
            Ok(r) if !r.skipped && wb.backlog().await == Some(0) => break,
            _ => {
                assert!(Instant::now() < deadline, "Redis did not come back");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    assert_eq!(stored_ids(&db, "chat", &first).await, 15);
    assert_eq!(db.count().await.unwrap(), 20, "no row twice");
}

/// Run by `a_worker_killed_mid_flush_loses_nothing` in a child process: takes the lease,
/// claims a batch and hangs in the database write until it is killed.
#[tokio::test]
async fn child_flusher_that_hangs_in_the_database() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let marker = PathBuf::from(std::env::var("WRITE_BEHIND_MARKER").unwrap());
    let hang = Arc::new(Hang { marker });
    let wb = WriteBehind::without_flusher(
        hang,
        link(&url).await,
        "openrouter",
        codec(),
        options(Duration::from_secs(2)),
    );
    let _ = wb.flush().await;
    unreachable!("the parent kills this process mid-flush");
}

#[tokio::test]
async fn a_worker_killed_mid_flush_loses_nothing() {
    let Some(server) = RedisServer::start(false) else {
        return;
    };
    let db = sqlite(&temp_db("kill"));
    let wb = WriteBehind::without_flusher(
        db.clone(),
        link(&server.url()).await,
        "openrouter",
        codec(),
        options(Duration::from_secs(2)),
    );
    let ids = wb.persist(rows("chat", 25)).await.unwrap();
    let marker = std::env::temp_dir().join(format!("wb-marker-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_flusher_that_hangs_in_the_database",
            "--nocapture",
        ])
        .env(CHILD_ENV, server.url())
        .env("WRITE_BEHIND_MARKER", &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !marker.exists() {
        assert!(
            Instant::now() < deadline,
            "the child never started its flush"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        llen(&server.url(), "openrouter:processing").await,
        10,
        "a batch in flight"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(wb.flush().await.unwrap().skipped, "its lease still holds");
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let report = wb.flush().await.unwrap();
    assert_eq!(report.written, 25, "the dead worker's batch, then the rest");
    assert_eq!(stored_ids(&db, "chat", &ids).await, 25);
    assert_eq!(wb.backlog().await, Some(0));
    let _ = std::fs::remove_file(&marker);
}

#[tokio::test]
async fn with_redis_down_from_the_start_writes_and_reads_go_to_the_database() {
    let db = sqlite(&temp_db("noredis"));
    let url = format!("redis://127.0.0.1:{}/0", common::free_port());
    let wb = WriteBehind::without_flusher(
        db.clone(),
        RedisLink::new(&url).unwrap(),
        "openrouter",
        codec(),
        options(Duration::from_secs(2)),
    );
    let ids = wb.persist(rows("chat", 4)).await.unwrap();
    assert_eq!(db.count().await.unwrap(), 4);
    assert_eq!(
        wb.fetch("chat".into(), None, ids)
            .await
            .unwrap()
            .items
            .len(),
        4
    );
}

#[tokio::test]
async fn deleted_rows_are_neither_served_from_the_cache_nor_flushed_back() {
    let Some(server) = RedisServer::start(false) else {
        return;
    };
    let db = sqlite(&temp_db("delete"));
    let wb = WriteBehind::without_flusher(
        db.clone(),
        link(&server.url()).await,
        "openrouter",
        codec(),
        options(Duration::from_secs(30)),
    );
    let ids = wb.persist(rows("chat", 3)).await.unwrap();
    wb.delete(vec![ids[0].clone()]).await.unwrap();
    let left = wb.fetch("chat".into(), None, ids.clone()).await.unwrap();
    assert_eq!(left.items.len(), 2);
    assert!(!left.items.contains_key(&ids[0]));
    wb.flush().await.unwrap();
    assert_eq!(db.count().await.unwrap(), 2);
}

/// A storage whose writes can fail on demand, and run a hook first.
struct Switchable {
    inner: Arc<dyn ArtifactStorage>,
    down: AtomicBool,
    on_persist: Option<Box<dyn Fn() + Send + Sync>>,
    calls: AtomicUsize,
}

impl std::fmt::Debug for Switchable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Switchable")
    }
}

impl ArtifactStorage for Switchable {
    fn persist(&self, rows: Vec<NewArtifact>) -> StoreFuture<'_, Vec<String>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(hook) = &self.on_persist {
            hook();
        }
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(StoreError::Unavailable("database down".into())) });
        }
        self.inner.persist(rows)
    }
    fn fetch(&self, c: String, m: Option<String>, ids: Vec<String>) -> StoreFuture<'_, Fetched> {
        self.inner.fetch(c, m, ids)
    }
    fn delete(&self, ids: Vec<String>) -> StoreFuture<'_, usize> {
        self.inner.delete(ids)
    }
    fn cleanup(&self, days: u32, now: SystemTime) -> StoreFuture<'_, usize> {
        self.inner.cleanup(days, now)
    }
    fn count(&self) -> StoreFuture<'_, usize> {
        self.inner.count()
    }
    fn table_name(&self) -> &str {
        self.inner.table_name()
    }
    fn location(&self) -> String {
        "switchable".into()
    }
}

/// A storage whose writes never finish (after leaving a marker file).
#[derive(Debug)]
struct Hang {
    marker: PathBuf,
}

impl ArtifactStorage for Hang {
    fn persist(&self, _: Vec<NewArtifact>) -> StoreFuture<'_, Vec<String>> {
        std::fs::write(&self.marker, b"claimed").unwrap();
        Box::pin(std::future::pending())
    }
    fn fetch(&self, _: String, _: Option<String>, _: Vec<String>) -> StoreFuture<'_, Fetched> {
        Box::pin(std::future::pending())
    }
    fn delete(&self, _: Vec<String>) -> StoreFuture<'_, usize> {
        Box::pin(std::future::pending())
    }
    fn cleanup(&self, _: u32, _: SystemTime) -> StoreFuture<'_, usize> {
        Box::pin(std::future::pending())
    }
    fn count(&self) -> StoreFuture<'_, usize> {
        Box::pin(std::future::pending())
    }
    fn table_name(&self) -> &str {
        "response_items_openrouter_00000000"
    }
    fn location(&self) -> String {
        "hang".into()
    }
}
