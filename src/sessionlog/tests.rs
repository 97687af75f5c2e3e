//! Unit tests of the session-log module: hostile ids stay inside the folder, archives
//! decrypt only with their password and hold the reference's members, the writer drops on
//! a full queue, cleanup removes old archives and empty folders, and a request's context
//! filters, tags, redacts and captures its lines.

use std::io::{Cursor, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Map, Value};

use super::archive::{self, ArchiveContent, Packing};
use super::record::{event_type, Record, Stamp};
use super::writer::{self, archive_path, sanitize_component, Job, Writer};
use super::{cleanup, RequestLog};
use crate::emit::{Emit, LogLevel};
use crate::engine::ChatRequest;
use crate::valves::{ArchiveCompression, ArchiveFormat, Settings};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "orp-sessionlog-{name}-{}-{}",
        std::process::id(),
        crate::ids::new_id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stamp() -> Stamp {
    Stamp {
        request_id: "req1".into(),
        user_id: "user-1".into(),
        session_id: "sess-1".into(),
        chat_id: "chat-1".into(),
        message_id: "msg-1".into(),
    }
}

fn content(messages: &[&str]) -> ArchiveContent {
    ArchiveContent {
        stamp: stamp(),
        records: messages
            .iter()
            .map(|m| Record::now(LogLevel::Info, "engine/turn", 7, m.to_string()))
            .collect(),
        dropped: 0,
        timing: json!({"upstream_ms": 1.0}),
        created: 1_767_225_600.5,
    }
}

fn read_member(bytes: &[u8], name: &str, password: &str) -> zip::result::ZipResult<String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))?;
    let mut file = zip.by_name_decrypt(name, password.as_bytes())?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

#[test]
fn hostile_ids_never_leave_the_folder() {
    for (hostile, fallback) in [
        ("..", "user"),
        ("../../etc/passwd", "etc_passwd"),
        ("/etc/shadow", "etc_shadow"),
        ("a\0b", "a_b"),
        ("", "user"),
        ("...", "user"),
        ("C:\\Windows", "C_Windows"),
        ("ok.id-1_x", "ok.id-1_x"),
    ] {
        assert_eq!(sanitize_component(hostile, "user"), fallback, "{hostile:?}");
    }
    assert_eq!(sanitize_component(&"a".repeat(300), "user").len(), 128);
    let base = PathBuf::from("/srv/logs");
    let path = archive_path(&base, "../..", "/abs", "../../../x\0");
    assert_eq!(path, PathBuf::from("/srv/logs/user/abs/x.zip"));
}

#[test]
fn archive_opens_only_with_its_password_and_holds_the_members() {
    let packing = Packing {
        format: ArchiveFormat::Both,
        compression: ArchiveCompression::Deflated,
        level: Some(9),
    };
    let bytes = archive::build(&content(&["first", "Tool run"]), packing, "pw-123").unwrap();
    let meta: Value =
        serde_json::from_str(&read_member(&bytes, "meta.json", "pw-123").unwrap()).unwrap();
    assert_eq!(meta["ids"]["chat_id"], "chat-1");
    assert_eq!(meta["request_id"], "req1");
    assert_eq!(meta["log_format"], "both");
    assert_eq!(meta["created_at"], "2026-01-01T00:00:00.500000+00:00");
    let jsonl = read_member(&bytes, "logs.jsonl", "pw-123").unwrap();
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(jsonl.ends_with('\n'));
    for key in [
        "ts",
        "level",
        "logger",
        "request_id",
        "user_id",
        "session_id",
        "chat_id",
        "message_id",
        "event_type",
        "module",
        "func",
        "lineno",
        "message",
    ] {
        assert!(lines[0].get(key).is_some(), "{key} missing");
    }
    assert_eq!(lines[1]["event_type"], "pipe.tools");
    let text = read_member(&bytes, "logs.txt", "pw-123").unwrap();
    assert!(text.contains("[INFO] [user=user-1] first"), "{text}");
    assert!(read_member(&bytes, "logs.jsonl", "wrong").is_err());
    let mut zip = zip::ZipArchive::new(Cursor::new(&bytes[..])).unwrap();
    assert!(
        zip.by_name("logs.jsonl").is_err(),
        "opened without a password"
    );
    assert!(!bytes.windows(5).any(|w| w == b"first"), "stored in clear");
}

#[test]
fn every_compression_writes_a_readable_archive() {
    for compression in [
        ArchiveCompression::Stored,
        ArchiveCompression::Deflated,
        ArchiveCompression::Bzip2,
        ArchiveCompression::Lzma,
    ] {
        let packing = Packing {
            format: ArchiveFormat::Jsonl,
            compression,
            level: None,
        };
        let bytes = archive::build(&content(&["hello"]), packing, "pw").unwrap();
        assert!(read_member(&bytes, "logs.jsonl", "pw")
            .unwrap()
            .contains("hello"));
        assert!(read_member(&bytes, "logs.txt", "pw").is_err(), "jsonl only");
    }
}

fn job(base: PathBuf) -> Job {
    Job {
        base,
        content: content(&["hello"]),
        packing: Packing {
            format: ArchiveFormat::Jsonl,
            compression: ArchiveCompression::Stored,
            level: None,
        },
        password: "pw".into(),
        retention: Duration::from_secs(86_400),
        cleanup_interval: Duration::from_secs(3600),
    }
}

#[test]
fn writer_puts_the_archive_in_place_and_leaves_no_temporary_file() {
    let base = temp_dir("write");
    let path = writer::write(&job(base.clone())).unwrap();
    assert_eq!(path, base.join("user-1/chat-1/msg-1.zip"));
    let bytes = std::fs::read(&path).unwrap();
    assert!(read_member(&bytes, "logs.jsonl", "pw")
        .unwrap()
        .contains("hello"));
    assert!(!base.join("user-1/chat-1/msg-1.zip.tmp").exists());
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn unwritable_folder_is_an_error_not_a_panic() {
    let base = temp_dir("blocked");
    // A file where the user folder should be: nothing can be created under it.
    std::fs::write(base.join("user-1"), b"not a folder").unwrap();
    assert!(writer::write(&job(base.clone())).is_err());
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn full_queue_drops_the_archive() {
    let (writer, _rx) = Writer::detached(1);
    assert!(writer.submit(job(PathBuf::from("/nonexistent"))));
    assert!(!writer.submit(job(PathBuf::from("/nonexistent"))));
}

#[test]
fn cleanup_removes_old_archives_and_empty_folders() {
    let base = temp_dir("cleanup");
    let old = base.join("u/c/old.zip");
    let new = base.join("u/c2/new.zip");
    for p in [&old, &new] {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"zip").unwrap();
    }
    let later = SystemTime::now() + Duration::from_secs(3 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&new)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let swept = cleanup::sweep(&base, Duration::from_secs(2 * 86_400), later);
    assert_eq!(swept.archives, 1);
    assert_eq!(swept.folders, 1, "only u/c was left empty");
    assert!(!old.exists() && !base.join("u/c").exists());
    assert!(new.exists());
    let swept = cleanup::sweep(
        &base,
        Duration::from_secs(1),
        later + Duration::from_secs(10),
    );
    assert_eq!(swept.archives, 1);
    assert!(!base.exists(), "the emptied base folder goes too");
}

#[test]
fn event_types_follow_the_reference() {
    assert_eq!(
        event_type("OpenRouter request headers: a"),
        "openrouter.request.headers"
    );
    assert_eq!(
        event_type("OpenRouter request payload: {}"),
        "openrouter.request.payload"
    );
    assert_eq!(event_type("OpenRouter payload: {}"), "openrouter.sse.event");
    assert_eq!(event_type("Skipping tool"), "pipe.tools");
    assert_eq!(event_type("anything"), "pipe");
}

fn request(archive: bool, level: &str) -> (ChatRequest, Settings) {
    let mut valves = Map::new();
    valves.insert("LOG_LEVEL".into(), json!(level));
    valves.insert("API_KEY".into(), json!("plain-api-key-value"));
    valves.insert("SESSION_LOG_STORE_ENABLED".into(), json!(archive));
    valves.insert(
        "SESSION_LOG_ZIP_PASSWORD".into(),
        json!("zip-password-value"),
    );
    let req = ChatRequest {
        user_id: Some("u1".into()),
        chat_id: Some("c1".into()),
        message_id: Some("m1".into()),
        session_id: Some("s1".into()),
        system_valves: valves.clone(),
        ..ChatRequest::default()
    };
    (req, Settings::new(valves))
}

#[test]
fn a_request_filters_tags_redacts_and_captures_its_lines() {
    let (req, settings) = request(true, "WARNING");
    let log = Arc::new(RequestLog::new(&req, &settings, Instant::now()));
    assert!(log.archives());
    assert!(log.wants(LogLevel::Debug), "captured for the archive");
    let here = std::panic::Location::caller();
    crate::logsink::drain();
    log.log(
        LogLevel::Debug,
        "key plain-api-key-value and zip-password-value",
        here,
    );
    log.log(
        LogLevel::Warning,
        "[0123456789abcdef] OpenRouter failed",
        here,
    );
    log.log(LogLevel::Warning, "after the card", here);
    let console: Vec<String> = crate::logsink::drain()
        .into_iter()
        .map(|(_, line)| line)
        .filter(|line| line.contains(log.request_id()))
        .collect();
    assert_eq!(
        console.len(),
        2,
        "DEBUG filtered from the console: {console:?}"
    );
    assert!(console[0].starts_with(&format!(
        "[request={} user=u1 chat=c1 message=m1",
        log.request_id()
    )));
    assert!(
        console[1].contains("error=0123456789abcdef]"),
        "{console:?}"
    );
    let state = log.lock();
    assert_eq!(state.records.len(), 3);
    assert_eq!(state.records[0].message, "key [redacted] and [redacted]");
}

#[test]
fn no_archive_for_tasks_missing_ids_or_when_off() {
    let (mut req, settings) = request(true, "INFO");
    req.task = Some("title_generation".into());
    assert!(!RequestLog::new(&req, &settings, Instant::now()).archives());
    let (mut req, settings) = request(true, "INFO");
    req.session_id = None;
    assert!(!RequestLog::new(&req, &settings, Instant::now()).archives());
    let (req, settings) = request(false, "INFO");
    let log = RequestLog::new(&req, &settings, Instant::now());
    assert!(!log.archives());
    assert!(
        !log.wants(LogLevel::Debug),
        "INFO without an archive skips DEBUG"
    );
}

#[tokio::test]
async fn a_filtered_line_is_never_formatted() {
    let (req, settings) = request(false, "INFO");
    let log = Arc::new(RequestLog::new(&req, &settings, Instant::now()));
    super::scope(log, async {
        assert!(!crate::logsink::enabled(LogLevel::Debug));
        crate::logsink::log_with(LogLevel::Debug, || {
            unreachable!("formatted a filtered line")
        });
        assert!(crate::logsink::enabled(LogLevel::Info));
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_request_still_leaves_its_archive() {
    let base = temp_dir("cancel");
    let (mut req, mut settings) = request(true, "INFO");
    req.message_id = Some("cancelled".into());
    settings.logging.archive.dir = base.to_string_lossy().into_owned();
    let log = Arc::new(RequestLog::new(&req, &settings, Instant::now()));
    let work = super::scope(log, async {
        crate::logsink::log(LogLevel::Info, "started");
        std::future::pending::<()>().await;
    });
    let aborted = tokio::time::timeout(Duration::from_millis(50), work).await;
    assert!(aborted.is_err(), "the request never ends by itself");
    let path = base.join("u1/c1/cancelled.zip");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "no archive for the cancelled request"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let bytes = std::fs::read(&path).unwrap();
    assert!(read_member(&bytes, "logs.jsonl", "zip-password-value")
        .unwrap()
        .contains("started"));
    std::fs::remove_dir_all(base).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_of_tasks_and_blocking_work_a_request_spawns_are_its_lines() {
    let (req, settings) = request(true, "INFO");
    let log = Arc::new(RequestLog::new(&req, &settings, Instant::now()));
    let request_id = log.request_id().to_string();
    crate::logsink::drain();
    // `CURRENT.scope` rather than `scope`: the records stay here instead of going to a zip.
    super::CURRENT
        .scope(log.clone(), async {
            super::spawn(async {
                crate::logsink::log(LogLevel::Info, "from a spawned task");
            })
            .await
            .unwrap();
            super::spawn_blocking(|| {
                crate::logsink::log(LogLevel::Info, "from a blocking thread");
            })
            .await
            .unwrap();
            // A plain tokio task has no context: the helpers are what carries it.
            tokio::spawn(async { crate::logsink::log(LogLevel::Info, "untagged") })
                .await
                .unwrap();
        })
        .await;
    let tagged: Vec<String> = crate::logsink::drain()
        .into_iter()
        .map(|(_, line)| line)
        .filter(|line| line.starts_with(&format!("[request={request_id} ")))
        .collect();
    assert_eq!(tagged.len(), 2, "{tagged:?}");
    assert!(tagged[0].ends_with("from a spawned task"));
    assert!(tagged[1].ends_with("from a blocking thread"));
    let captured: Vec<String> = log
        .lock()
        .records
        .iter()
        .map(|r| r.message.clone())
        .collect();
    assert_eq!(captured, ["from a spawned task", "from a blocking thread"]);
}

#[tokio::test]
async fn an_error_card_of_an_archived_request_cites_its_session_log() {
    let (req, settings) = request(true, "INFO");
    let log = Arc::new(RequestLog::new(&req, &settings, Instant::now()));
    let card_line = Emit::log(
        LogLevel::Warning,
        "[0123456789abcdef] OpenRouter rejected the request",
    );
    super::CURRENT
        .scope(log.clone(), async {
            crate::logsink::log(LogLevel::Debug, "OpenRouter request payload: secret body");
            crate::logsink::log(LogLevel::Info, "key plain-api-key-value in a line");
            assert_eq!(
                super::card_error_id(&Emit::log(LogLevel::Warning, "no id")),
                None
            );
            let id = super::card_error_id(&card_line).expect("an error card's line");
            crate::logsink::log(
                LogLevel::Warning,
                "[0123456789abcdef] OpenRouter rejected the request",
            );
            let Some(Emit::Source(source)) = super::card_citation(&id) else {
                panic!("no citation");
            };
            assert_eq!(source["source"]["name"], "Session log 0123456789abcdef");
            assert_eq!(source["metadata"][0]["archive"], "u1/c1/m1.zip");
            let document = source["document"][0].as_str().unwrap();
            assert!(document.contains(&format!("Request: {}", log.request_id())));
            assert!(document.contains("[INFO] [user=u1] key [redacted] in a line"));
            assert!(document
                .trim_end()
                .ends_with("OpenRouter rejected the request"));
            assert!(
                !document.contains("secret body"),
                "DEBUG lines stay in the archive"
            );
            assert!(!document.contains("plain-api-key-value"));
        })
        .await;
    let (req, settings) = request(false, "INFO");
    let without = Arc::new(RequestLog::new(&req, &settings, Instant::now()));
    super::CURRENT
        .scope(without, async {
            assert_eq!(
                super::card_error_id(&card_line),
                None,
                "archives off: no citation"
            );
        })
        .await;
}
