//! ArtifactStore against real SQLite files: round trips of every artifact type, key
//! rotation, touch-on-read and cleanup with a fake clock, locked / corrupt / read-only
//! databases, the breaker, and two OS processes writing the same file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use openrouter_pipe::artifacts::Breaker;
use openrouter_pipe::artifacts::CodecConfig;
use openrouter_pipe::artifacts::{
    format_utc, table_name, ArtifactStore, NewArtifact, StoreConfig, StoreError,
};
use openrouter_pipe::artifacts::{is_valid_id, new_id};
use serde_json::{json, Value};

// ---------- helpers

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!(
            "artifacts-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn keyed(key: &str, encrypt_all: bool) -> CodecConfig {
    CodecConfig {
        key: key.into(),
        encrypt_all,
        compression: true,
        min_compress_bytes: 0,
    }
}

fn config(path: &Path, codec: CodecConfig) -> StoreConfig {
    let mut c = StoreConfig::new(path, "open_webui_openrouter_pipe", codec);
    c.busy_timeout = Duration::from_millis(200);
    c
}

fn row(chat: &str, msg: &str, item: Value) -> NewArtifact {
    NewArtifact {
        id: None,
        chat_id: chat.into(),
        message_id: msg.into(),
        model_id: Some("open_webui_openrouter_pipe.openai.o4-mini".into()),
        item,
    }
}

/// A settable wall clock.
fn fake_clock(
    start: SystemTime,
) -> (
    Arc<dyn Fn() -> SystemTime + Send + Sync>,
    Arc<Mutex<SystemTime>>,
) {
    let now = Arc::new(Mutex::new(start));
    let n = now.clone();
    (Arc::new(move || *n.lock().unwrap()), now)
}

const DAY: Duration = Duration::from_secs(86_400);

fn every_artifact_type() -> Vec<Value> {
    vec![
        json!({"type": "reasoning", "id": "rs_1", "status": "completed",
               "summary": [{"type": "summary_text", "text": "Plan: look it up ✓"}],
               "content": [], "encrypted_content": "gAAAAB".to_string() + &"Zm9v".repeat(300)}),
        json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "weather",
               "arguments": "{\"city\":\"Zürich\"}", "status": "completed"}),
        json!({"type": "function_call_output", "id": "fco_1", "call_id": "call_1",
               "output": "temperature: 21 °C\n".repeat(200), "status": "completed"}),
        json!({"type": "web_search_call", "id": "ws_1", "status": "completed",
               "action": {"type": "search", "query": "rust"}}),
        json!({"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": ["a"]}),
        json!({"type": "image_generation_call", "id": "ig_1", "status": "completed",
               "result": "iVBORw0KGgo".repeat(100)}),
        json!({"type": "local_shell_call", "id": "ls_1", "status": "completed",
               "action": {"type": "exec", "command": ["ls"]}}),
        json!({"type": "mcp_call", "id": "mcp_1", "server_label": "x", "name": "y",
               "arguments": "{}", "output": "ok"}),
        json!({"type": "custom_tool_call", "id": "ct_1", "call_id": "c9", "input": "raw\u{0}text"}),
    ]
}

/// chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at
type Columns = (String, String, String, String, String, bool, String);

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

// ---------- round trips

#[test]
fn every_artifact_type_round_trips_under_every_encoding() {
    let dir = TempDir::new("roundtrip");
    let codecs = [
        ("none", CodecConfig::default(), false),
        ("all", keyed("a passphrase of some length", true), true),
        ("reasoning-only", keyed("k", false), true),
        (
            "no-compression",
            CodecConfig {
                compression: false,
                ..keyed("k2", true)
            },
            true,
        ),
        (
            "high-threshold",
            CodecConfig {
                min_compress_bytes: 1 << 20,
                ..keyed("k3", true)
            },
            true,
        ),
    ];
    for (name, codec, has_key) in codecs {
        let encrypt_all = codec.encrypt_all;
        let path = dir.path().join(format!("{name}.db"));
        let store = ArtifactStore::open(config(&path, codec)).unwrap();
        let items = every_artifact_type();
        let rows: Vec<_> = items
            .iter()
            .map(|i| row("chat-1", "msg-1", i.clone()))
            .collect();
        let ids = store.persist(&rows).unwrap();
        assert_eq!(ids.len(), items.len(), "{name}");
        assert!(ids.iter().all(|id| is_valid_id(id)), "{name}");

        let fetched = store.fetch("chat-1", Some("msg-1"), &ids).unwrap();
        assert!(
            fetched.undecodable.is_empty(),
            "{name}: {:?}",
            fetched.undecodable
        );
        assert!(fetched.touch_error.is_none());
        for (id, item) in ids.iter().zip(&items) {
            assert_eq!(&fetched.items[id], item, "{name}: {}", item["type"]);
        }

        // What is in the columns.
        let conn = raw(&path);
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id, chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at FROM \"{}\"",
                store.table_name()
            ))
            .unwrap();
        let cols: HashMap<String, Columns> = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ),
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (id, item) in ids.iter().zip(&items) {
            let (chat, msg, model, item_type, payload, enc, created) = &cols[id];
            assert_eq!((chat.as_str(), msg.as_str()), ("chat-1", "msg-1"));
            assert_eq!(model, "open_webui_openrouter_pipe.openai.o4-mini");
            assert_eq!(item_type, item["type"].as_str().unwrap());
            let expect_enc = has_key && (encrypt_all || item_type == "reasoning");
            assert_eq!(*enc, expect_enc, "{name}: {item_type}");
            let stored: Value = serde_json::from_str(payload).unwrap();
            if expect_enc {
                assert_eq!(stored["enc_v"], 1);
                assert!(stored["ciphertext"].as_str().unwrap().starts_with("gAAAAA"));
            } else {
                assert_eq!(&stored, item);
            }
            // Naive UTC "YYYY-MM-DD HH:MM:SS.ffffff".
            assert_eq!(created.len(), 26, "{created}");
            assert_eq!(&created[10..11], " ");
            assert_eq!(&created[19..20], ".");
        }
    }
}

#[test]
fn schema_matches_the_reference_layout() {
    let dir = TempDir::new("schema");
    let path = dir.path().join("nested/deeper/artifacts.db");
    let store = ArtifactStore::open(config(&path, keyed("k", true))).unwrap();
    assert!(path.exists(), "parent directories are created");
    assert_eq!(
        store.table_name(),
        table_name("open_webui_openrouter_pipe", "k")
    );
    let conn = raw(&path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let cols: Vec<(String, String, bool, bool)> = conn
        .prepare(&format!("PRAGMA table_info(\"{}\")", store.table_name()))
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, i64>(5)? > 0))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let names: Vec<_> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "chat_id",
            "message_id",
            "model_id",
            "item_type",
            "payload",
            "is_encrypted",
            "created_at"
        ]
    );
    assert!(cols[0].3, "id is the primary key");
    assert!(!cols[3].2, "model_id is nullable");
    assert!(cols
        .iter()
        .filter(|c| c.0 != "model_id")
        .all(|c| c.2 || c.3));
    let mut idx: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    idx.sort();
    let t = store.table_name();
    assert_eq!(
        idx,
        [format!("ix_{t}_chat_id"), format!("ix_{t}_message_id")]
    );
    // Opening again is harmless.
    ArtifactStore::open(config(&path, keyed("k", true))).unwrap();
}

#[test]
fn fetch_is_scoped_to_chat_and_message() {
    let dir = TempDir::new("scope");
    let store =
        ArtifactStore::open(config(&dir.path().join("a.db"), CodecConfig::default())).unwrap();
    let ids = store
        .persist(&[row("chat-1", "msg-1", json!({"type": "reasoning"}))])
        .unwrap();
    assert_eq!(
        store
            .fetch("chat-1", Some("msg-1"), &ids)
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(store.fetch("chat-1", None, &ids).unwrap().items.len(), 1);
    assert_eq!(
        store.fetch("chat-1", Some(""), &ids).unwrap().items.len(),
        1
    );
    assert!(store
        .fetch("chat-1", Some("msg-2"), &ids)
        .unwrap()
        .items
        .is_empty());
    assert!(store.fetch("chat-2", None, &ids).unwrap().items.is_empty());
    assert!(store.fetch("", None, &ids).unwrap().items.is_empty());
    assert!(store
        .fetch::<&str>("chat-1", None, &[])
        .unwrap()
        .items
        .is_empty());
    // Unknown ids are simply absent.
    let f = store
        .fetch("chat-1", None, &[ids[0].clone(), new_id()])
        .unwrap();
    assert_eq!(f.items.len(), 1);
}

#[test]
fn invalid_rows_are_left_out_and_duplicates_count_as_stored() {
    let dir = TempDir::new("dupes");
    let store = ArtifactStore::open(config(&dir.path().join("a.db"), keyed("k", true))).unwrap();
    let fixed = new_id();
    let mut first = row("c", "m", json!({"type": "reasoning", "summary": ["first"]}));
    first.id = Some(fixed.clone());
    let mut again = row(
        "c",
        "m",
        json!({"type": "reasoning", "summary": ["second"]}),
    );
    again.id = Some(fixed.clone());
    let ids = store
        .persist(&[
            first,
            row("", "m", json!({"type": "reasoning"})),
            row("c", "", json!({"type": "reasoning"})),
            row("c", "m", json!("not an object")),
            row("c", "m", json!({"no_type": true})),
        ])
        .unwrap();
    assert_eq!(
        ids.len(),
        2,
        "rows without chat/message id or non-objects are skipped"
    );
    assert_eq!(ids[0], fixed);
    assert_eq!(store.persist(&[again]).unwrap(), vec![fixed.clone()]);
    assert_eq!(store.count().unwrap(), 2);
    let f = store
        .fetch("c", None, std::slice::from_ref(&fixed))
        .unwrap();
    assert_eq!(
        f.items[&fixed]["summary"],
        json!(["first"]),
        "the stored row is not replaced"
    );
    // The item without a type is stored as "unknown".
    let t: String = raw(store.path())
        .query_row(
            &format!(
                "SELECT item_type FROM \"{}\" WHERE id = ?1",
                store.table_name()
            ),
            [&ids[1]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(t, "unknown");
}

#[test]
fn many_rows_in_small_batches() {
    let dir = TempDir::new("batches");
    let mut cfg = config(&dir.path().join("a.db"), keyed("k", true));
    cfg.batch_size = 7;
    let store = ArtifactStore::open(cfg).unwrap();
    let rows: Vec<_> = (0..100)
        .map(|i| row("c", "m", json!({"type": "function_call_output", "call_id": format!("c{i}"), "output": i.to_string()})))
        .collect();
    let ids = store.persist(&rows).unwrap();
    assert_eq!(ids.len(), 100);
    let f = store.fetch("c", Some("m"), &ids).unwrap();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            f.items[id]["output"],
            i.to_string(),
            "order of ids = order of rows"
        );
    }
}

// ---------- key rotation

#[test]
fn a_new_key_gives_a_new_table_and_old_rows_become_unreachable() {
    let dir = TempDir::new("rotation");
    let path = dir.path().join("a.db");
    let old = ArtifactStore::open(config(&path, keyed("old key", true))).unwrap();
    let ids = old
        .persist(&[row(
            "c",
            "m",
            json!({"type": "reasoning", "encrypted_content": "x"}),
        )])
        .unwrap();

    let new = ArtifactStore::open(config(&path, keyed("new key", true))).unwrap();
    assert_ne!(new.table_name(), old.table_name());
    let f = new.fetch("c", Some("m"), &ids).unwrap();
    assert!(
        f.items.is_empty() && f.undecodable.is_empty(),
        "unreachable, no crash"
    );
    assert_eq!(new.count().unwrap(), 0);
    // Removing the key also switches table.
    let none = ArtifactStore::open(config(&path, CodecConfig::default())).unwrap();
    assert!(none.fetch("c", None, &ids).unwrap().items.is_empty());
    // The old table is untouched: going back to the old key finds the rows again.
    let back = ArtifactStore::open(config(&path, keyed("old key", true))).unwrap();
    assert_eq!(back.fetch("c", None, &ids).unwrap().items.len(), 1);
}

#[test]
fn toggling_encrypt_all_keeps_every_row_readable() {
    let dir = TempDir::new("toggle");
    let path = dir.path().join("a.db");
    let call = json!({"type": "function_call", "name": "f", "arguments": "{}", "call_id": "c"});
    let a = ArtifactStore::open(config(&path, keyed("k", false))).unwrap();
    let plain_ids = a.persist(&[row("c", "m", call.clone())]).unwrap();
    let b = ArtifactStore::open(config(&path, keyed("k", true))).unwrap();
    assert_eq!(a.table_name(), b.table_name());
    let enc_ids = b.persist(&[row("c", "m", call.clone())]).unwrap();
    let all: Vec<String> = plain_ids.into_iter().chain(enc_ids).collect();
    for store in [&a, &b] {
        let f = store.fetch("c", None, &all).unwrap();
        assert_eq!(f.items.len(), 2);
        assert!(f.items.values().all(|v| v == &call));
    }
}

#[test]
fn damaged_rows_are_skipped_and_reported() {
    let dir = TempDir::new("damaged");
    let path = dir.path().join("a.db");
    let store = ArtifactStore::open(config(&path, keyed("k", true))).unwrap();
    let ids = store
        .persist(&[
            row("c", "m", json!({"type": "reasoning", "n": 1})),
            row("c", "m", json!({"type": "reasoning", "n": 2})),
        ])
        .unwrap();
    raw(&path)
        .execute(
            &format!("UPDATE \"{}\" SET payload = '{{\"ciphertext\":\"gAAAAAtampered\",\"enc_v\":1}}' WHERE id = ?1", store.table_name()),
            [&ids[1]],
        )
        .unwrap();
    let f = store.fetch("c", None, &ids).unwrap();
    assert_eq!(f.items.len(), 1);
    assert_eq!(f.items[&ids[0]]["n"], 1);
    assert_eq!(f.undecodable.len(), 1);
    assert_eq!(f.undecodable[0].0, ids[1]);
}

// ---------- touch on read, cleanup, delete

#[test]
fn cleanup_deletes_rows_unused_for_the_retention_period() {
    let dir = TempDir::new("cleanup");
    let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let (clock, now) = fake_clock(t0);
    let store =
        ArtifactStore::open_with_clock(config(&dir.path().join("a.db"), keyed("k", true)), clock)
            .unwrap();

    let old = store
        .persist(&[row("c", "m1", json!({"type": "reasoning", "n": "old"}))])
        .unwrap();
    let read = store
        .persist(&[row("c", "m1", json!({"type": "reasoning", "n": "read"}))])
        .unwrap();
    *now.lock().unwrap() = t0 + 50 * DAY;
    let newer = store
        .persist(&[row("c", "m2", json!({"type": "reasoning", "n": "newer"}))])
        .unwrap();

    // Day 60: `read` is replayed, which refreshes its created_at.
    *now.lock().unwrap() = t0 + 60 * DAY;
    let f = store.fetch("c", Some("m1"), &read).unwrap();
    assert_eq!(f.items.len(), 1);
    assert!(f.touch_error.is_none());
    let created: String = raw(store.path())
        .query_row(
            &format!(
                "SELECT created_at FROM \"{}\" WHERE id = ?1",
                store.table_name()
            ),
            [&read[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(created, format_utc(t0 + 60 * DAY));

    // Day 100 with 90 days retention: only `old` (unused since day 0) goes.
    assert_eq!(store.cleanup(90, t0 + 100 * DAY).unwrap(), 1);
    let all: Vec<String> = [&old, &read, &newer].iter().map(|v| v[0].clone()).collect();
    let f = store.fetch("c", None, &all).unwrap();
    assert!(!f.items.contains_key(&old[0]));
    assert!(f.items.contains_key(&read[0]) && f.items.contains_key(&newer[0]));

    // Nothing left older than 90 days at day 140; at day 200 everything goes.
    *now.lock().unwrap() = t0 + 100 * DAY; // (the fetch above touched them at day 100)
    assert_eq!(store.cleanup(90, t0 + 140 * DAY).unwrap(), 0);
    assert_eq!(store.cleanup(90, t0 + 200 * DAY).unwrap(), 2);
    assert_eq!(store.count().unwrap(), 0);
}

#[test]
fn delete_removes_only_the_given_ids() {
    let dir = TempDir::new("delete");
    let store =
        ArtifactStore::open(config(&dir.path().join("a.db"), CodecConfig::default())).unwrap();
    let ids = store
        .persist(&[
            row("c", "m", json!({"type": "reasoning"})),
            row(
                "c",
                "m",
                json!({"type": "function_call", "name": "f", "arguments": "{}"}),
            ),
        ])
        .unwrap();
    assert_eq!(store.delete(&[ids[0].clone(), new_id()]).unwrap(), 1);
    assert_eq!(store.delete::<String>(&[]).unwrap(), 0);
    let f = store.fetch("c", None, &ids).unwrap();
    assert_eq!(f.items.keys().collect::<Vec<_>>(), vec![&ids[1]]);
}

// ---------- failures

#[test]
fn locked_database_gives_busy_errors_reads_still_work_and_the_breaker_opens() {
    let dir = TempDir::new("locked");
    let path = dir.path().join("a.db");
    let store = ArtifactStore::open(config(&path, keyed("k", true))).unwrap();
    let ids = store
        .persist(&[row("c", "m", json!({"type": "reasoning", "n": 1}))])
        .unwrap();

    let locker = raw(&path);
    locker.execute_batch("BEGIN EXCLUSIVE;").unwrap();

    let started = Instant::now();
    let err = store
        .persist(&[row("c", "m", json!({"type": "reasoning"}))])
        .unwrap_err();
    assert!(matches!(err, StoreError::Busy(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "gives up after the busy timeout"
    );
    assert!(store.delete(&ids).is_err());
    assert!(store.cleanup(0, SystemTime::now()).is_err());

    // WAL readers are not blocked: replay still gets its artifacts; only the touch fails.
    let f = store.fetch("c", None, &ids).unwrap();
    assert_eq!(f.items.len(), 1);
    assert!(
        matches!(f.touch_error, Some(StoreError::Busy(_))),
        "{:?}",
        f.touch_error
    );

    // A store for a new table cannot be created while the lock is held.
    let err = ArtifactStore::open(config(&path, keyed("another key", true))).unwrap_err();
    assert!(matches!(err, StoreError::Busy(_)), "{err:?}");

    // The engine's breaker: after 2 failures the store is not even tried.
    let base = Instant::now();
    let offset = Arc::new(AtomicU64::new(0));
    let o = offset.clone();
    let breaker = Breaker::with_clock(
        2,
        Duration::from_secs(60),
        Arc::new(move || base + Duration::from_secs(o.load(Ordering::SeqCst))),
    );
    let persist = || store.persist(&[row("c", "m", json!({"type": "reasoning"}))]);
    assert!(matches!(
        breaker.run("user-1", persist),
        Some(Err(StoreError::Busy(_)))
    ));
    assert!(matches!(
        breaker.run("user-1", persist),
        Some(Err(StoreError::Busy(_)))
    ));
    let t = Instant::now();
    assert!(
        breaker.run("user-1", persist).is_none(),
        "skipped while open"
    );
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "no waiting on the dead database"
    );

    // Lock released and the window passed: the breaker closes, writes work again.
    locker.execute_batch("COMMIT;").unwrap();
    offset.store(61, Ordering::SeqCst);
    let ok = breaker
        .run("user-1", persist)
        .expect("breaker closed")
        .unwrap();
    assert_eq!(ok.len(), 1);
    assert_eq!(store.count().unwrap(), 2);
}

#[test]
fn corrupt_file_gives_corrupt_errors() {
    let dir = TempDir::new("corrupt");
    let path = dir.path().join("a.db");
    std::fs::write(
        &path,
        b"this is not a database, just garbage bytes ".repeat(200),
    )
    .unwrap();
    let err = ArtifactStore::open(config(&path, keyed("k", true))).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("damaged"));

    // A file damaged after it was opened: errors, never a panic.
    let path2 = dir.path().join("b.db");
    let store = ArtifactStore::open(config(&path2, CodecConfig::default())).unwrap();
    store
        .persist(&[row("c", "m", json!({"type": "reasoning"}))])
        .unwrap();
    drop(store);
    let _ = std::fs::remove_file(dir.path().join("b.db-wal"));
    let _ = std::fs::remove_file(dir.path().join("b.db-shm"));
    let mut bytes = std::fs::read(&path2).unwrap();
    for b in bytes.iter_mut().skip(100) {
        *b = 0xA5;
    }
    std::fs::write(&path2, bytes).unwrap();
    match ArtifactStore::open(config(&path2, CodecConfig::default())) {
        Err(e) => assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}"),
        Ok(store) => {
            assert!(store
                .persist(&[row("c", "m", json!({"type": "reasoning"}))])
                .is_err());
            assert!(store.fetch("c", None, &[new_id()]).is_err());
        }
    }
}

const READONLY_CHILD_ENV: &str = "ARTIFACTS_READONLY_CHILD_DIR";

/// The checks of `read_only_directory_gives_unwritable_errors`; as root they run in a
/// child process with an unprivileged uid, since root ignores directory permissions.
fn read_only_checks(dir: &Path) {
    let err = ArtifactStore::open(config(&dir.join("artifacts.db"), keyed("k", true))).unwrap_err();
    assert!(matches!(err, StoreError::Unwritable(_)), "{err:?}");
    let err =
        ArtifactStore::open(config(&dir.join("sub/artifacts.db"), keyed("k", true))).unwrap_err();
    assert!(matches!(err, StoreError::Unwritable(_)), "{err:?}");
}

#[test]
fn read_only_directory_child() {
    // Entry point of the unprivileged child process; does nothing in a normal run.
    if let Ok(dir) = std::env::var(READONLY_CHILD_ENV) {
        read_only_checks(Path::new(&dir));
    }
}

#[test]
fn read_only_directory_gives_unwritable_errors() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("readonly");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();

    let root = std::fs::write(ro.join("probe"), b"x").is_ok();
    if !root {
        read_only_checks(&ro);
    } else {
        use std::os::unix::process::CommandExt;
        // A copy of this test binary where the unprivileged user can run it (the target
        // directory may sit in root's private home).
        let exe = dir.path().join("test-binary");
        std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::process::Command::new(&exe)
            .args(["--exact", "read_only_directory_child", "--test-threads=1"])
            .env(READONLY_CHILD_ENV, &ro)
            .uid(65534)
            .gid(65534)
            .output();
        match out {
            // The unprivileged user cannot run the binary (for example a shared library
            // under a private home): only the check below runs.
            Err(e) => eprintln!("read-only directory check skipped: {e}"),
            Ok(o) if o.status.code() == Some(127) || o.status.code() == Some(126) => {
                eprintln!(
                    "read-only directory check skipped: {}",
                    String::from_utf8_lossy(&o.stderr)
                )
            }
            Ok(o) => {
                let stdout = String::from_utf8_lossy(&o.stdout);
                assert!(
                    o.status.success() && stdout.contains("1 passed"),
                    "read-only checks failed in the unprivileged child:\n{stdout}\n{}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }

    // Also without privileges to drop: a path under a regular file cannot be created.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err =
        ArtifactStore::open(config(&file.join("artifacts.db"), keyed("k", true))).unwrap_err();
    assert!(matches!(err, StoreError::Unwritable(_)), "{err:?}");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

// ---------- two processes

const WRITER_CHILD_ENV: &str = "ARTIFACTS_WRITER_CHILD";
const ROWS_PER_PROCESS: usize = 1500;

fn write_rows(path: &Path, tag: &str) -> Vec<String> {
    let mut cfg = config(path, keyed("shared key", true));
    cfg.busy_timeout = Duration::from_secs(10);
    let store = ArtifactStore::open(cfg).unwrap();
    let mut ids = Vec::with_capacity(ROWS_PER_PROCESS);
    // Many small persists (as the engine does) interleave with the other process.
    for chunk in 0..ROWS_PER_PROCESS / 15 {
        let rows: Vec<_> = (0..15)
            .map(|i| {
                row(
                    "chat-shared",
                    &format!("{tag}-{chunk}"),
                    json!({"type": "function_call_output", "call_id": format!("{tag}-{chunk}-{i}"), "output": "x".repeat(300)}),
                )
            })
            .collect();
        ids.extend(store.persist(&rows).unwrap());
        if chunk % 10 == 0 {
            // Reads (with their touch) happen at the same time as the other's writes.
            store
                .fetch("chat-shared", None, &ids[ids.len() - 15..])
                .unwrap();
        }
    }
    ids
}

#[test]
fn two_process_writer_child() {
    // Entry point of the child writer processes; does nothing in a normal run.
    if let Ok(spec) = std::env::var(WRITER_CHILD_ENV) {
        let (path, tag) = spec.split_once('|').unwrap();
        let ids = write_rows(Path::new(path), tag);
        assert_eq!(ids.len(), ROWS_PER_PROCESS);
    }
}

#[test]
fn two_processes_write_the_same_file_without_losing_rows() {
    let dir = TempDir::new("twoproc");
    let path = dir.path().join("shared.db");
    let spawn = |tag: &str| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "two_process_writer_child", "--test-threads=1"])
            .env(WRITER_CHILD_ENV, format!("{}|{tag}", path.display()))
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // Both children start on a fresh file (racing to create the table and switch to WAL).
    let mut a = spawn("a");
    let mut b = spawn("b");
    assert!(a.wait().unwrap().success(), "child a failed");
    assert!(b.wait().unwrap().success(), "child b failed");

    let store = ArtifactStore::open(config(&path, keyed("shared key", true))).unwrap();
    assert_eq!(store.count().unwrap(), 2 * ROWS_PER_PROCESS);
    let conn = raw(&path);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let per_tag: Vec<(String, i64)> = conn
        .prepare(&format!(
            "SELECT substr(message_id, 1, 1), COUNT(*) FROM \"{}\" GROUP BY 1 ORDER BY 1",
            store.table_name()
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let n = ROWS_PER_PROCESS as i64;
    assert_eq!(per_tag, vec![("a".to_string(), n), ("b".to_string(), n)]);
}

// ---------- use from the engine's tokio runtime

#[test]
fn shared_between_threads_through_spawn_blocking() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ArtifactStore>();
    assert_send_sync::<Breaker>();

    let dir = TempDir::new("threads");
    // Eight writers on two cores: the 200 ms of the other tests is too short when the
    // machine is busy (a writer was seen waiting longer); the product's default is 5 s.
    let mut cfg = config(&dir.path().join("a.db"), keyed("k", true));
    cfg.busy_timeout = Duration::from_secs(5);
    let store = Arc::new(ArtifactStore::open(cfg).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let total = rt.block_on(async {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let store = store.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                let mut n = 0;
                for i in 0..50 {
                    let chat = format!("chat-{t}");
                    let ids = store
                        .persist(&[
                            row(&chat, "m", json!({"type": "function_call", "name": "f", "arguments": "{}", "call_id": format!("{t}-{i}")})),
                            row(&chat, "m", json!({"type": "function_call_output", "call_id": format!("{t}-{i}"), "output": "ok"})),
                        ])
                        .unwrap();
                    n += store.fetch(&chat, Some("m"), &ids).unwrap().items.len();
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    assert_eq!(total, 8 * 50 * 2);
    assert_eq!(store.count().unwrap(), 800);
}
