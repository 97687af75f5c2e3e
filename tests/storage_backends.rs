//! One behaviour suite run against both storage backends through the engine's interface
//! (`Arc<dyn ArtifactStorage>`): SQLite files and a real PostgreSQL cluster started here.
//! Then what only PostgreSQL has: the reference's table layout, rows written the way
//! the Python pipe writes them replaying, a reference table with extra columns, workers
//! creating the schema at once, a server that is down or restarted under load, and the
//! password kept out of every error.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::pg::PgCluster;
use openrouter_pipe::artifacts::postgres::{PgConfig, PgStorage, PgTarget};
use openrouter_pipe::artifacts::{
    table_name, ArtifactStorage, ArtifactStore, CodecConfig, NewArtifact, SqliteStorage,
    StoreConfig, StoreError,
};
use serde_json::{json, Value};

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn keyed(key: &str) -> CodecConfig {
    CodecConfig {
        key: key.into(),
        encrypt_all: true,
        compression: true,
        min_compress_bytes: 0,
    }
}

fn row(chat: &str, msg: &str, item: Value) -> NewArtifact {
    NewArtifact {
        id: None,
        chat_id: chat.into(),
        message_id: msg.into(),
        model_id: Some("openrouter.openai/o3".into()),
        item,
    }
}

fn items() -> Vec<Value> {
    vec![
        json!({"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"ünïcode ✓"}],"encrypted_content":"gAAA=="}),
        json!({"type":"function_call","id":"fc_1","call_id":"call_1","name":"lookup","arguments":"{\"q\":1}","status":"completed"}),
        json!({"type":"function_call_output","id":"fo_1","call_id":"call_1","output":"x".repeat(5000),"status":"completed"}),
        json!({"type":"file_search_call","id":"fs_1","queries":["a"],"status":"completed"}),
    ]
}

/// A clock the test moves by hand.
fn manual_clock() -> (Clock, Arc<AtomicU64>) {
    let secs = Arc::new(AtomicU64::new(1_800_000_000));
    let s = secs.clone();
    let clock: Clock = Arc::new(move || UNIX_EPOCH + Duration::from_secs(s.load(Ordering::SeqCst)));
    (clock, secs)
}

/// Opens a storage of one backend for a pipe id, key and batch size, with a clock.
type Opener<'a> = dyn Fn(&str, CodecConfig, usize, Clock) -> Arc<dyn ArtifactStorage> + 'a;

/// The behaviour every backend shares.
async fn suite(open: &Opener<'_>) {
    let (clock, now) = manual_clock();
    // Round trips of every item type, plain and encrypted; ids in input order.
    for (pipe, codec) in [("plain", CodecConfig::default()), ("enc", keyed("k"))] {
        let s = open(pipe, codec.clone(), 10, clock.clone());
        let rows: Vec<NewArtifact> = items().into_iter().map(|i| row("chat", "m1", i)).collect();
        let ids = s.persist(rows).await.unwrap();
        assert_eq!(ids.len(), 4);
        let got = s.fetch("chat".into(), None, ids.clone()).await.unwrap();
        assert!(got.undecodable.is_empty() && got.touch_error.is_none());
        for (id, item) in ids.iter().zip(items()) {
            assert_eq!(got.items[id], item, "{pipe}");
        }
        assert_eq!(s.count().await.unwrap(), 4);
        assert!(s
            .table_name()
            .starts_with(&format!("response_items_{pipe}_")));
        assert_eq!(s.table_name(), table_name(pipe, &codec.key));
    }
    // Scoped to chat and message; invalid rows left out; a known id counts as stored.
    let s = open("scope", CodecConfig::default(), 2, clock.clone());
    let mut fixed = row("c1", "m1", json!({"type":"reasoning","n":1}));
    fixed.id = Some("01ARZ3NDEKTSV4RRFFQ6".into());
    let mut invalid = vec![
        row("", "m", json!({"type":"x"})),
        row("c", "", json!({"type":"x"})),
        row("c", "m", json!("not an object")),
    ];
    invalid.push(fixed.clone());
    let ids = s.persist(invalid).await.unwrap();
    assert_eq!(ids, ["01ARZ3NDEKTSV4RRFFQ6"]);
    let mut changed = fixed.clone();
    changed.item = json!({"type":"reasoning","n":2});
    assert_eq!(
        s.persist(vec![changed]).await.unwrap(),
        ["01ARZ3NDEKTSV4RRFFQ6"]
    );
    let other = s
        .persist(vec![row("c2", "m2", json!({"type":"reasoning"}))])
        .await
        .unwrap();
    let all = vec!["01ARZ3NDEKTSV4RRFFQ6".to_string(), other[0].clone()];
    let got = s.fetch("c1".into(), None, all.clone()).await.unwrap();
    assert_eq!(got.items.len(), 1, "other chats' rows are not returned");
    assert_eq!(
        got.items["01ARZ3NDEKTSV4RRFFQ6"]["n"], 1,
        "the first write is kept"
    );
    assert!(s
        .fetch("c1".into(), Some("m9".into()), all.clone())
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        s.fetch("c1".into(), Some("m1".into()), all.clone())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(s
        .fetch(String::new(), None, all.clone())
        .await
        .unwrap()
        .items
        .is_empty());
    // Many rows in small batches.
    let many: Vec<NewArtifact> = (0..25)
        .map(|i| row("c3", "m", json!({"type":"reasoning","i":i})))
        .collect();
    let ids = s.persist(many).await.unwrap();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 25);
    assert_eq!(
        s.fetch("c3".into(), None, ids.clone())
            .await
            .unwrap()
            .items
            .len(),
        25
    );
    assert_eq!(s.count().await.unwrap(), 27);
    // Delete only the given ids.
    assert_eq!(s.delete(ids[..5].to_vec()).await.unwrap(), 5);
    assert_eq!(s.delete(Vec::new()).await.unwrap(), 0);
    assert_eq!(s.count().await.unwrap(), 22);
    // Cleanup counts from the last use: a read refreshes the age.
    let s = open("cleanup", CodecConfig::default(), 10, clock.clone());
    let old = s
        .persist(vec![row("c", "m", json!({"type":"reasoning"}))])
        .await
        .unwrap();
    let used = s
        .persist(vec![row("c", "m", json!({"type":"reasoning"}))])
        .await
        .unwrap();
    now.fetch_add(20 * 86_400, Ordering::SeqCst);
    s.fetch("c".into(), None, used.clone()).await.unwrap();
    now.fetch_add(15 * 86_400, Ordering::SeqCst);
    let removed = s.cleanup(30, clock()).await.unwrap();
    assert_eq!(removed, 1, "only the row unused for 35 days");
    assert!(s
        .fetch("c".into(), None, old)
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        s.fetch("c".into(), None, used).await.unwrap().items.len(),
        1
    );
    // A new key is a new table: the old rows are unreachable, not unreadable.
    let a = open("rotate", keyed("old"), 10, clock.clone());
    let ids = a
        .persist(vec![row("c", "m", json!({"type":"reasoning"}))])
        .await
        .unwrap();
    let b = open("rotate", keyed("new"), 10, clock.clone());
    assert_ne!(a.table_name(), b.table_name());
    let got = b.fetch("c".into(), None, ids).await.unwrap();
    assert!(got.items.is_empty() && got.undecodable.is_empty());
}

#[test]
fn sqlite_passes_the_backend_suite() {
    let dir = std::env::temp_dir().join(format!("orp-suite-{}", std::process::id()));
    let path = dir.join("artifacts.db");
    rt().block_on(suite(&|pipe, codec, batch, clock| {
        let mut c = StoreConfig::new(&path, pipe, codec);
        c.batch_size = batch;
        let store = ArtifactStore::open_with_clock(c, clock).unwrap();
        Arc::new(SqliteStorage::new(Arc::new(store)))
    }));
    let _ = std::fs::remove_dir_all(dir);
}

fn pg_config(url: &str, pipe: &str, codec: CodecConfig, batch: usize) -> PgConfig {
    PgConfig {
        target: PgTarget::parse(url).unwrap(),
        pipe_id: pipe.into(),
        codec,
        batch_size: batch,
    }
}

#[test]
fn postgresql_passes_the_backend_suite_and_keeps_the_reference_layout() {
    let Some(pg) = PgCluster::start("suite") else {
        return;
    };
    let url = pg.url();
    let rt = rt();
    let handle = rt.handle().clone();
    rt.block_on(suite(&|pipe, codec, batch, clock| {
        let c = pg_config(&url, pipe, codec, batch);
        let s =
            tokio::task::block_in_place(|| handle.block_on(PgStorage::open_with_clock(c, clock)));
        Arc::new(s.unwrap())
    }));
    // The reference's layout, as SQLAlchemy creates it on PostgreSQL.
    let table = table_name("plain", "");
    let columns = pg.psql(&format!(
        "SELECT string_agg(column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') || ' ' || is_nullable, ', ' ORDER BY ordinal_position) \
         FROM information_schema.columns WHERE table_name = '{table}'"
    ));
    assert_eq!(
        columns,
        "id character varying(20) NO, chat_id character varying(64) NO, message_id character varying(64) NO, \
         model_id character varying(128) YES, item_type character varying(64) NO, payload json NO, \
         is_encrypted boolean NO, created_at timestamp without time zone NO"
    );
    let indexes = pg.psql(&format!(
        "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE tablename = '{table}'"
    ));
    assert_eq!(
        indexes,
        format!("ix_{table}_chat_id ix_{table}_message_id {table}_pkey")
    );
    // created_at is naive UTC (the test clock's instant), as SQLAlchemy's utcnow writes it.
    let stamp = pg.psql(&format!("SELECT min(created_at)::text FROM \"{table}\""));
    assert_eq!(stamp, "2027-01-15 08:00:00");
    // Payloads are JSON the reference reads: `{"ciphertext", "enc_v"}` when encrypted.
    let enc = table_name("enc", "k");
    let kind = pg.psql(&format!(
        "SELECT DISTINCT json_typeof(payload) || ' ' || (payload->>'enc_v') FROM \"{enc}\""
    ));
    assert_eq!(kind, "object 1");
}

/// `f.encrypt(b"\x00" + json.dumps(item, separators=(",", ":")).encode())` by the
/// reference's Python stack (the vector of `artifacts_interop.rs`), key below.
const PY_TOKEN: &str = "gAAAAABrATWwJbkeUegerChfJkS_jxqHpSHPN2t2hBsq7trQrjYOpISZQ5GKZKYOGlILVfDx8sNBdVs_budjpfLsa0ZpqlhEVmfqEclcds44jRMRlxYVdWErq7QdQMJCCLJLBwvjrDjdufbo0VriYnXOvhLue9AoD6VZ73Oe1HZBY1cqwVHJ-gsPTMZ0vQzEjc8V95ETi0fpm8lqo77RUNxWp1fTZC4Mg8apJGiqIG76jXlG64NmopqBm0ZU1HLZ_-hJRQz7aBxB";
const PY_KEY: &str = "interop-passphrase";

#[test]
fn reference_rows_and_tables_on_postgresql_replay_without_migration() {
    let Some(pg) = PgCluster::start("reference") else {
        return;
    };
    let url = pg.url();
    let table = table_name("openrouter", PY_KEY);
    // The table as the reference's SQLAlchemy model made it, plus a column a newer
    // version added, and rows the way psycopg writes them (json.dumps with spaces).
    pg.psql(&format!(
        "CREATE TABLE \"{table}\" (id VARCHAR(20) NOT NULL, chat_id VARCHAR(64) NOT NULL, \
         message_id VARCHAR(64) NOT NULL, model_id VARCHAR(128), item_type VARCHAR(64) NOT NULL, \
         payload JSON NOT NULL, is_encrypted BOOLEAN NOT NULL, created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, \
         extra_note TEXT, PRIMARY KEY (id)); \
         CREATE INDEX \"ix_{table}_chat_id\" ON \"{table}\" (chat_id); \
         CREATE INDEX \"ix_{table}_message_id\" ON \"{table}\" (message_id); \
         INSERT INTO \"{table}\" VALUES \
         ('01JREF00000000000001', 'chat-1', 'msg-1', 'openrouter.openai/o3', 'reasoning', \
          '{{\"ciphertext\": \"{PY_TOKEN}\", \"enc_v\": 1}}', true, '2026-11-01 10:00:00.123456', NULL), \
         ('01JREF00000000000002', 'chat-1', 'msg-1', 'openrouter.openai/o3', 'function_call', \
          '{{\"type\": \"function_call\", \"call_id\": \"call_1\", \"name\": \"f\", \"arguments\": \"{{}}\"}}', false, '2026-11-01 10:00:00', 'x');"
    ));
    rt().block_on(async {
        let s = PgStorage::open(pg_config(&url, "openrouter", keyed(PY_KEY), 10))
            .await
            .unwrap();
        let ids = vec![
            "01JREF00000000000001".to_string(),
            "01JREF00000000000002".to_string(),
        ];
        let got = s
            .fetch("chat-1".into(), Some("msg-1".into()), ids.clone())
            .await
            .unwrap();
        assert!(got.undecodable.is_empty(), "{:?}", got.undecodable);
        assert_eq!(got.items[&ids[0]]["type"], "reasoning");
        assert_eq!(got.items[&ids[0]]["encrypted_content"], "opaque==");
        assert_eq!(got.items[&ids[1]]["call_id"], "call_1");
        // Our rows go into the same table next to the reference's extra column.
        let ours = s
            .persist(vec![row("chat-1", "msg-2", json!({"type":"reasoning"}))])
            .await
            .unwrap();
        assert_eq!(
            s.fetch("chat-1".into(), None, ours)
                .await
                .unwrap()
                .items
                .len(),
            1
        );
        assert_eq!(s.count().await.unwrap(), 3);
    });
    let touched = pg.psql(&format!(
        "SELECT count(*) FROM \"{table}\" WHERE created_at > '2026-11-02'"
    ));
    assert_eq!(touched, "3", "reads refresh the reference rows' age too");
}

#[test]
fn workers_creating_the_schema_at_once_all_succeed() {
    let Some(pg) = PgCluster::start("race") else {
        return;
    };
    let url = pg.url();
    rt().block_on(async {
        let opens = (0..8).map(|i| {
            let c = pg_config(&url, "race", keyed("k"), 10);
            tokio::spawn(async move {
                let s = PgStorage::open(c).await?;
                s.persist(vec![row(
                    "c",
                    &format!("m{i}"),
                    json!({"type":"reasoning"}),
                )])
                .await
            })
        });
        for o in futures_util::future::join_all(opens).await {
            assert_eq!(o.unwrap().unwrap().len(), 1);
        }
    });
    assert_eq!(
        pg.psql(&format!(
            "SELECT count(*) FROM \"{}\"",
            table_name("race", "k")
        )),
        "8"
    );
}

#[test]
fn a_server_that_is_down_or_restarted_loses_no_accepted_rows_and_no_password() {
    let Some(pg) = PgCluster::start("faults") else {
        return;
    };
    let secret = "s3cr3t-Passw0rd";
    let rt = rt();
    // Down at start: a quick Unavailable, the password in no message.
    pg.stop();
    let started = Instant::now();
    let url = format!(
        "postgresql://postgres:{secret}@127.0.0.1:{}/postgres?connect_timeout=2",
        pg.port
    );
    let err = rt
        .block_on(PgStorage::open(pg_config(&url, "faults", keyed("k"), 5)))
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("postgres:***@127.0.0.1"), "{shown}");
    }
    pg.start_again();
    // Restarted under load: every persist that returned Ok is stored.
    let storage = Arc::new(
        rt.block_on(PgStorage::open(pg_config(&url, "faults", keyed("k"), 5)))
            .unwrap(),
    );
    let accepted = rt.block_on(async {
        let writers = (0..6).map(|w| {
            let s = storage.clone();
            tokio::spawn(async move {
                let mut ok = Vec::new();
                let mut failed = 0;
                let mut slowest = Duration::ZERO;
                for i in 0..40 {
                    let rows = (0..3)
                        .map(|j| {
                            row(
                                &format!("chat-{w}"),
                                &format!("m{i}"),
                                json!({"type":"reasoning","j":j}),
                            )
                        })
                        .collect();
                    let began = Instant::now();
                    let result = s.persist(rows).await;
                    slowest = slowest.max(began.elapsed());
                    match result {
                        Ok(ids) => ok.push((format!("chat-{w}"), ids)),
                        Err(e) => {
                            eprintln!("persist failed during the restart: {e}");
                            failed += 1
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                (ok, failed, slowest)
            })
        });
        let all = tokio::spawn(futures_util::future::join_all(writers));
        tokio::time::sleep(Duration::from_millis(150)).await;
        tokio::task::block_in_place(|| {
            pg.stop();
            std::thread::sleep(Duration::from_millis(300));
            pg.start_again();
        });
        all.await.unwrap()
    });
    let mut expected = 0;
    let mut failed = 0;
    let mut slowest = Duration::ZERO;
    rt.block_on(async {
        for result in accepted {
            let (ok, f, slow) = result.unwrap();
            failed += f;
            slowest = slowest.max(slow);
            for (chat, ids) in ok {
                expected += ids.len();
                let got = storage.fetch(chat, None, ids.clone()).await.unwrap();
                assert_eq!(got.items.len(), ids.len(), "an accepted row is missing");
            }
        }
    });
    assert!(
        slowest >= Duration::from_millis(250),
        "the restart hit the writes: {slowest:?}"
    );
    assert_eq!(
        failed, 0,
        "a restart shorter than the retries loses no write at all"
    );
    assert_eq!(expected, 6 * 40 * 3);
    assert_eq!(rt.block_on(storage.count()).unwrap(), expected);
}

#[test]
fn tls_follows_sslmode() {
    let Some((pg, ca)) = PgCluster::start_tls("tls") else {
        return;
    };
    let ca = ca.display().to_string();
    let rt = rt();
    let open = |host: &str, query: &str, n: usize| {
        let url = format!(
            "postgresql://postgres@{host}:{}/postgres?connect_timeout=3&{query}",
            pg.port
        );
        let mut c = pg_config(&url, "tls", CodecConfig::default(), 10);
        c.target.application_name = format!("orp-tls-{n}");
        rt.block_on(async {
            let s = PgStorage::open(c).await?;
            s.count().await.map(|_| s)
        })
    };
    let uses_tls = |n: usize| {
        pg.psql(&format!(
            "SELECT bool_or(s.ssl)::text FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'orp-tls-{n}'"
        ))
    };
    for (n, (host, query, tls)) in [
        ("127.0.0.1", "sslmode=disable".to_string(), "false"),
        ("127.0.0.1", "sslmode=prefer".to_string(), "true"),
        ("127.0.0.1", "sslmode=require".to_string(), "true"),
        (
            "127.0.0.1",
            format!("sslmode=verify-ca&sslrootcert={ca}"),
            "true",
        ),
        (
            "localhost",
            format!("sslmode=verify-full&sslrootcert={ca}"),
            "true",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let storage = open(host, &query, n).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(uses_tls(n), tls, "{query}");
        drop(storage);
    }
    // The certificate names localhost, not 127.0.0.1; and no system CA signed it.
    let wrong_name = open(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
        90,
    );
    assert!(
        matches!(wrong_name, Err(StoreError::Unavailable(_))),
        "{wrong_name:?}"
    );
    let unknown_ca = open("localhost", "sslmode=verify-full", 91);
    assert!(unknown_ca.is_err(), "a certificate no trusted CA signed");
}

#[test]
fn a_client_certificate_named_in_the_url_logs_in() {
    let Some((pg, ca)) = PgCluster::start_tls_with("tls-client", true) else {
        return;
    };
    let dir = ca.parent().unwrap().to_path_buf();
    let rt = rt();
    let open = |query: String| {
        let url = format!(
            "postgresql://certuser@localhost:{}/postgres?connect_timeout=3&sslmode=verify-full&sslrootcert={}{query}",
            pg.port,
            ca.display()
        );
        let c = pg_config(&url, "tlsclient", CodecConfig::default(), 10);
        rt.block_on(async {
            let s = PgStorage::open(c).await?;
            s.count().await.map(|_| s)
        })
    };
    let cert = dir.join("client.crt").display().to_string();
    let key = dir.join("client.key").display().to_string();
    open(format!("&sslcert={cert}&sslkey={key}")).expect("the certificate logs in");
    let without = open(String::new());
    assert!(
        without.is_err(),
        "certuser needs a certificate: {without:?}"
    );
    let unreadable = open("&sslcert=/nonexistent/client.crt".to_string());
    match unreadable {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("sslcert"), "{why}"),
        other => panic!("{other:?}"),
    }
}
