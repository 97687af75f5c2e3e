//! The intake stage against an in-memory stand-in for Open WebUI's storage: what the
//! model receives for each block type, the limits, and the status lines a user reads.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use super::*;
use crate::engine::host::{HostCall, HostError};
use crate::engine::sink::CollectSink;
use crate::valves::Settings;

/// Serves files by id and keeps what it is asked to store; counts chunk reads.
#[derive(Default)]
struct StorageHost {
    files: HashMap<String, (String, Vec<u8>)>,
    stored: Mutex<Vec<Value>>,
    chunk_reads: Mutex<Vec<u64>>,
}

impl StorageHost {
    fn with(id: &str, mime: &str, bytes: Vec<u8>) -> Self {
        let mut host = Self::default();
        host.files.insert(id.into(), (mime.into(), bytes));
        host
    }
}

impl Host for StorageHost {
    async fn call(&self, call: HostCall, _timeout: Duration) -> Result<Value, HostError> {
        match call {
            HostCall::FileInfo(args) => {
                let id = args["id"].as_str().unwrap_or("");
                let (mime, bytes) = self
                    .files
                    .get(id)
                    .ok_or(HostError::Failed("no such file".into()))?;
                Ok(json!({"name": format!("{id}.bin"), "mime": mime, "size": bytes.len()}))
            }
            HostCall::FileChunk(args) => {
                let (_, bytes) = &self.files[args["id"].as_str().unwrap()];
                let offset = args["offset"].as_u64().unwrap() as usize;
                let length = args["length"].as_u64().unwrap() as usize;
                self.chunk_reads.lock().unwrap().push(length as u64);
                let end = (offset + length).min(bytes.len());
                let part = &bytes[offset.min(end)..end];
                Ok(json!({
                    "base64": base64::engine::general_purpose::STANDARD.encode(part),
                    "bytes": part.len(),
                    "eof": end >= bytes.len(),
                }))
            }
            HostCall::FileStore(args) => {
                self.stored.lock().unwrap().push(args);
                Ok(json!({"id": "new", "url": "/api/v1/files/new/content"}))
            }
            HostCall::FileLimits(_) => Ok(json!({"file_max_size_mb": null, "retrieval": true})),
            other => Err(HostError::Unavailable(other.op().into())),
        }
    }
}

fn settings(pairs: Value) -> FileSettings {
    let Value::Object(map) = pairs else {
        unreachable!()
    };
    Settings::new(map).files
}

const ALL: Accepts = Accepts {
    images: true,
    files: true,
    audio: true,
    video: true,
};

async fn run(
    messages: Value,
    files: Value,
    s: &FileSettings,
    accepts: Accepts,
    host: &StorageHost,
) -> (Vec<Value>, Vec<String>) {
    let mut sink = CollectSink::default();
    let out = prepare(
        messages.as_array().unwrap().clone(),
        files.as_array().unwrap(),
        s,
        accepts,
        host,
        &mut sink,
    )
    .await;
    let lines = sink
        .events
        .iter()
        .map(|e| {
            e.pointer("/data/description")
                .or_else(|| e.pointer("/data/content"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    (out, lines)
}

fn user(content: Value) -> Value {
    json!([{"role": "user", "content": content}])
}

const PNG: &str = "data:image/png;base64,iVBORw0KGgo=";

#[tokio::test]
async fn an_inline_image_is_sent_and_kept_in_storage() {
    let host = StorageHost::default();
    let (out, lines) = run(user(json!([{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": PNG, "detail": "high"}}])), json!([]), &settings(json!({})), ALL, &host).await;
    assert_eq!(
        out[0]["content"][1],
        json!({"type": "input_image", "image_url": PNG, "detail": "high"})
    );
    assert_eq!(lines, vec![StatusText::IMAGE_BASE64_SAVED]);
    assert_eq!(host.stored.lock().unwrap()[0]["mime"], "image/png");
}

#[tokio::test]
async fn an_open_webui_image_is_read_in_chunks_and_inlined() {
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let host = StorageHost::with("img1", "image/jpg", bytes.clone());
    let s = settings(json!({"IMAGE_UPLOAD_CHUNK_BYTES": 65536}));
    let (out, _) = run(
        user(json!([{"type": "image_url", "image_url": {"url": "/api/v1/files/img1/content"}}])),
        json!([]),
        &s,
        ALL,
        &host,
    )
    .await;
    let expected = format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    assert_eq!(out[0]["content"][0]["image_url"], json!(expected));
    assert_eq!(
        host.chunk_reads.lock().unwrap().len(),
        4,
        "200 000 bytes in 65 535-byte chunks"
    );
}

#[tokio::test]
async fn a_missing_or_oversized_file_is_skipped_with_a_status() {
    let host = StorageHost::with("big", "image/png", vec![1; 2 * 1024 * 1024]);
    let s = settings(json!({"BASE64_MAX_SIZE_MB": 1}));
    let (out, lines) = run(
        user(json!([
            {"type": "image_url", "image_url": {"url": "/api/v1/files/gone/content"}},
            {"type": "image_url", "image_url": {"url": "/api/v1/files/big/content"}},
            {"type": "text", "text": "hi"}
        ])),
        json!([]),
        &s,
        ALL,
        &host,
    )
    .await;
    assert_eq!(out[0]["content"], json!([{"type": "text", "text": "hi"}]));
    assert_eq!(
        lines,
        vec![
            StatusText::image_unavailable("gone"),
            StatusText::image_unavailable("big")
        ]
    );
    assert!(
        host.chunk_reads.lock().unwrap().is_empty(),
        "the oversized file is refused unread"
    );
}

#[tokio::test]
async fn images_beyond_the_limit_and_on_blind_models_are_dropped_with_a_status() {
    let host = StorageHost::default();
    let s = settings(json!({"MAX_INPUT_IMAGES_PER_REQUEST": 2, "SAVE_FILE_DATA_CONTENT": false}));
    let three = json!([{"type": "image_url", "image_url": PNG}, {"type": "image_url", "image_url": PNG}, {"type": "image_url", "image_url": PNG}]);
    let (out, lines) = run(user(three.clone()), json!([]), &s, ALL, &host).await;
    assert_eq!(out[0]["content"].as_array().unwrap().len(), 2);
    assert_eq!(lines, vec!["Dropped 1 extra image; limit is 2."]);
    let blind = Accepts {
        images: false,
        ..ALL
    };
    let (out, lines) = run(user(three), json!([]), &s, blind, &host).await;
    assert_eq!(out[0]["content"], json!([]));
    assert_eq!(lines, vec![StatusText::NO_VISION]);
}

#[tokio::test]
async fn the_previous_assistant_image_goes_with_a_follow_up_unless_turned_off() {
    let host = StorageHost::with("gen", "image/png", vec![7; 30]);
    let messages = json!([
        {"role": "user", "content": "draw a cat"},
        {"role": "assistant", "content": "Here: ![cat](/api/v1/files/gen/content)"},
        {"role": "user", "content": [{"type": "text", "text": "make it bluer"}]}
    ]);
    let (out, _) = run(
        messages.clone(),
        json!([]),
        &settings(json!({})),
        ALL,
        &host,
    )
    .await;
    assert_eq!(out[2]["content"][0]["type"], "input_image");
    assert_eq!(out[2]["content"][1]["text"], "make it bluer");
    let off = settings(json!({"IMAGE_INPUT_SELECTION": "user_turn_only"}));
    let (out, _) = run(messages, json!([]), &off, ALL, &host).await;
    assert_eq!(out[2]["content"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_plain_text_follow_up_from_the_chat_box_gets_the_previous_image_too() {
    let host = StorageHost::with("gen", "image/png", vec![7; 30]);
    let messages = json!([
        {"role": "user", "content": "draw a cat"},
        {"role": "assistant", "content": "Here: ![cat](/api/v1/files/gen/content)"},
        {"role": "user", "content": "make it bluer"}
    ]);
    let (out, _) = run(
        messages.clone(),
        json!([]),
        &settings(json!({})),
        ALL,
        &host,
    )
    .await;
    assert_eq!(out[2]["content"][0]["type"], "input_image");
    assert_eq!(
        out[2]["content"][1],
        json!({"type": "input_text", "text": "make it bluer"})
    );
    let off = settings(json!({"IMAGE_INPUT_SELECTION": "user_turn_only"}));
    let (out, _) = run(messages, json!([]), &off, ALL, &host).await;
    assert_eq!(out[2]["content"], "make it bluer");
}

#[tokio::test]
async fn images_of_earlier_user_turns_are_not_resent() {
    let host = StorageHost::default();
    let messages = json!([
        {"role": "user", "content": [{"type": "image_url", "image_url": PNG}]},
        {"role": "assistant", "content": "A dot."},
        {"role": "user", "content": [{"type": "text", "text": "and now?"}]}
    ]);
    let (out, _) = run(messages, json!([]), &settings(json!({})), ALL, &host).await;
    assert_eq!(out[0]["content"], json!([]));
}

#[tokio::test]
async fn attached_files_become_input_files_on_the_last_message() {
    let host = StorageHost::with("pdf1", "application/pdf", b"%PDF-1.4 hello".to_vec());
    let files = json!([
        {"type": "file", "id": "pdf1", "name": "report.pdf"},
        {"type": "image", "id": "img", "url": "/api/v1/files/img/content"}
    ]);
    let (out, _) = run(
        json!([{"role": "user", "content": "summarise"}]),
        files.clone(),
        &settings(json!({})),
        ALL,
        &host,
    )
    .await;
    let parts = out[0]["content"].as_array().unwrap();
    assert_eq!(parts[0], json!({"type": "input_text", "text": "summarise"}));
    assert_eq!(parts[1]["type"], "input_file");
    assert_eq!(parts[1]["filename"], "pdf1.bin");
    assert!(parts[1]["file_data"]
        .as_str()
        .unwrap()
        .starts_with("data:application/pdf;base64,JVBER"));
    assert_eq!(
        parts.len(),
        2,
        "images in __files__ are already in the message"
    );
    let no_files = Accepts {
        files: false,
        ..ALL
    };
    let (out, lines) = run(
        json!([{"role": "user", "content": "summarise"}]),
        files,
        &settings(json!({})),
        no_files,
        &host,
    )
    .await;
    assert_eq!(out[0]["content"].as_array().unwrap().len(), 1);
    assert_eq!(lines, vec![StatusText::NO_FILES]);
}

#[tokio::test]
async fn inline_files_are_guarded_and_kept() {
    let host = StorageHost::default();
    let block = json!({"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}});
    let (out, lines) = run(
        user(json!([block])),
        json!([]),
        &settings(json!({})),
        ALL,
        &host,
    )
    .await;
    assert_eq!(
        out[0]["content"][0],
        json!({"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"})
    );
    assert_eq!(lines, vec![StatusText::FILE_BASE64_SAVED]);
    let bad = json!({"type": "input_file", "filename": "b.pdf", "file_data": "data:application/pdf;base64,@@@@"});
    let (out, lines) = run(
        user(json!([bad])),
        json!([]),
        &settings(json!({})),
        ALL,
        &host,
    )
    .await;
    assert_eq!(out[0]["content"], json!([]));
    assert_eq!(
        lines,
        vec!["Skipping file b.pdf: its data is not valid base64."]
    );
}

#[tokio::test]
async fn audio_is_base64_wav_or_mp3_and_links_are_refused() {
    let host = StorageHost::default();
    let (out, lines) = run(
        user(json!([
            {"type": "input_audio", "input_audio": {"data": "UklG RgAA", "format": "wav"}},
            {"type": "audio", "data": "data:audio/x-wav;base64,UklGRgAA"},
            {"type": "audio", "data": "https://example.com/a.mp3"},
            {"type": "audio", "data": "data:image/png;base64,AAAA"}
        ])),
        json!([]),
        &settings(json!({})),
        ALL,
        &host,
    )
    .await;
    assert_eq!(
        out[0]["content"][0],
        json!({"type": "input_audio", "input_audio": {"data": "UklGRgAA", "format": "wav"}})
    );
    assert_eq!(out[0]["content"][1]["input_audio"]["format"], "wav");
    assert_eq!(out[0]["content"].as_array().unwrap().len(), 2);
    assert_eq!(
        lines,
        vec![
            "Skipping audio: audio must be sent as base64 data, not a link.",
            "Skipping audio: its data is not audio.",
        ]
    );
}

#[tokio::test]
async fn videos_are_size_checked_and_their_links_vetted() {
    let host = StorageHost::default();
    let s = settings(json!({"VIDEO_MAX_SIZE_MB": 1}));
    let big = format!("data:video/mp4;base64,{}", "A".repeat(2 * 1024 * 1024));
    let (out, lines) = run(
        user(json!([
            {"type": "video_url", "video_url": {"url": big}},
            {"type": "video_url", "video_url": "data:video/mp4;base64,AAAA"},
            {"type": "video", "url": "https://youtu.be/dQw4w9WgXcQ"},
            {"type": "video_url", "video_url": {"url": "https://127.0.0.1/v.mp4"}}
        ])),
        json!([]),
        &s,
        ALL,
        &host,
    )
    .await;
    let parts = out[0]["content"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(
        parts[0],
        json!({"type": "input_video", "video_url": "data:video/mp4;base64,AAAA"})
    );
    assert_eq!(parts[1]["video_url"], "https://youtu.be/dQw4w9WgXcQ");
    assert_eq!(lines[0], "Video too large (~1.5MB, max: 1MB)");
    assert!(lines.contains(&StatusText::VIDEO_BASE64.to_string()));
    assert!(lines.contains(&StatusText::VIDEO_YOUTUBE.to_string()));
    assert!(lines.contains(&StatusText::VIDEO_BLOCKED.to_string()));
}

#[tokio::test]
async fn private_image_links_are_refused_before_any_connection() {
    let host = StorageHost::default();
    let (out, lines) = run(
        user(json!([{"type": "image_url", "image_url": "https://10.0.0.1/x.png"}])),
        json!([]),
        &settings(json!({})),
        ALL,
        &host,
    )
    .await;
    assert_eq!(out[0]["content"], json!([]));
    assert!(
        lines[0].starts_with("Skipping an image: the address is"),
        "{lines:?}"
    );
}

#[test]
fn retry_waits_double_and_honour_the_server() {
    let s = settings(
        json!({"REMOTE_DOWNLOAD_INITIAL_RETRY_DELAY_SECONDS": 2, "REMOTE_DOWNLOAD_MAX_RETRY_TIME_SECONDS": 5}),
    );
    assert_eq!(download::wait_before(&s, 1, None), Duration::from_secs(2));
    assert_eq!(download::wait_before(&s, 2, None), Duration::from_secs(4));
    assert_eq!(download::wait_before(&s, 3, None), Duration::from_secs(5));
    assert_eq!(
        download::wait_before(&s, 1, Some(Duration::from_secs(3))),
        Duration::from_secs(3)
    );
}

#[test]
fn the_remote_limit_follows_open_webui_as_the_reference_does() {
    let default = settings(json!({}));
    assert_eq!(default.remote_limit_mb(None, true), 50);
    assert_eq!(default.remote_limit_mb(Some(100), true), 100);
    assert_eq!(default.remote_limit_mb(Some(20), true), 20);
    assert_eq!(default.remote_limit_mb(Some(20), false), 50);
    let ten = settings(json!({"REMOTE_FILE_MAX_SIZE_MB": 10}));
    assert_eq!(ten.remote_limit_mb(Some(100), true), 10);
}

#[tokio::test]
async fn inline_data_given_as_a_file_url_is_sent_as_file_data_and_kept() {
    let host = StorageHost::default();
    let pdf = "data:application/pdf;base64,JVBERi0xLjQK";
    let (out, lines) = run(
        user(json!([{"type": "file", "file": {"filename": "a.pdf", "file_url": pdf}}])),
        json!([]),
        &settings(json!({})),
        ALL,
        &host,
    )
    .await;
    assert_eq!(
        out[0]["content"][0],
        json!({"type": "input_file", "filename": "a.pdf", "file_data": pdf})
    );
    assert_eq!(lines, vec![StatusText::FILE_BASE64_SAVED]);
    assert_eq!(host.stored.lock().unwrap()[0]["name"], "a.pdf");
}
