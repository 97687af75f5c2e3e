//! One answer's items, streamed and engine-made, stored through the artifact session,
//! then replayed by the engine on the next turn in the order they happened.
mod common;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use openrouter_pipe::artifacts::markers;
use openrouter_pipe::engine::history;
use openrouter_pipe::engine::ArtifactSession;
use openrouter_pipe::engine::ChatRequest;
use openrouter_pipe::Emit;
use serde_json::{json, Value};

struct TmpDir(PathBuf);

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tmp_dir() -> TmpDir {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("engine-history-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    TmpDir(dir)
}

fn request(dir: &TmpDir, message_id: &str) -> ChatRequest {
    ChatRequest {
        body: json!({"model": "openrouter.openai.gpt-4o"}),
        pipe_id: "openrouter".into(),
        user_id: Some("user-1".into()),
        chat_id: Some("chat-1".into()),
        message_id: Some(message_id.into()),
        artifact_db_path: Some(dir.0.join("artifacts.db").display().to_string()),
        ..ChatRequest::default()
    }
}

/// The answer text the user sees (markers included, as Open WebUI stores it).
fn text_of(emits: Vec<Emit>, answer: &mut String) {
    for emit in emits {
        if let Emit::Content(text) = emit {
            answer.push_str(&text);
        }
    }
}

fn kinds(input: &[Value]) -> Vec<String> {
    input
        .iter()
        .map(|item| match item["type"].as_str().unwrap_or("") {
            "message" => {
                let role = item["role"].as_str().unwrap_or("");
                let text = item["content"][0]["text"].as_str().unwrap_or("");
                format!("{role}:{text}")
            }
            other => other.to_string(),
        })
        .collect()
}

#[test]
fn streamed_and_engine_made_items_replay_in_the_order_they_happened() {
    let dir = tmp_dir();
    let rt = common::runtime();
    let answer = rt.block_on(async {
        let req = request(&dir, "msg-1");
        let settings = req.settings();
        let mut session = ArtifactSession::open(&req, &settings).await;
        assert!(session.take_notices().is_empty(), "the store opens");
        let mut answer = String::new();
        for emit in [
            Emit::Content("Let me look.".into()),
            Emit::ItemDone {
                key: "fc_1".into(),
                item: json!({"type": "function_call", "call_id": "call_1",
                             "name": "look", "arguments": "{}"}),
            },
        ] {
            text_of(session.intercept(emit), &mut answer);
        }
        let output = json!({"type": "function_call_output", "call_id": "call_1",
                            "output": "a cat"});
        text_of(session.record_engine_item(&output), &mut answer);
        text_of(
            session.intercept(Emit::Content("It is a cat.".into())),
            &mut answer,
        );
        text_of(session.closing_markers(), &mut answer);
        session.finish(&settings, true).await;
        answer
    });
    assert_eq!(markers::marker_ids(&answer).len(), 2, "{answer}");
    assert_eq!(markers::strip(&answer), "Let me look.\n\nIt is a cat.");

    let messages = vec![
        json!({"role": "user", "content": "What is it?"}),
        json!({"role": "assistant", "content": answer}),
        json!({"role": "user", "content": "Sure?"}),
    ];
    let replayed = rt.block_on(async {
        let req = request(&dir, "msg-2");
        let settings = req.settings();
        let mut session = ArtifactSession::open(&req, &settings).await;
        history::replay(messages.clone(), &mut session).await
    });
    assert_eq!(
        kinds(&replayed.input),
        vec![
            "user:What is it?",
            "assistant:Let me look.",
            "function_call",
            "function_call_output",
            "assistant:It is a cat.",
            "user:Sure?",
        ]
    );
    assert!(replayed.reasoning_to_delete.is_empty());
}

#[test]
fn without_a_saved_chat_nothing_is_stored_and_markers_are_only_stripped() {
    let dir = tmp_dir();
    let rt = common::runtime();
    let mut req = request(&dir, "msg-1");
    req.chat_id = None;
    let settings = req.settings();
    let marked = markers::append_markers("Visible", &["01J2VVZBDQTP1ZQJ8DSN"]);
    let messages = vec![json!({"role": "assistant", "content": marked})];
    let (emits, replayed) = rt.block_on(async {
        let mut session = ArtifactSession::open(&req, &settings).await;
        let output = json!({"type": "function_call_output", "call_id": "c", "output": "x"});
        let emits = session.record_engine_item(&output);
        (emits, history::replay(messages.clone(), &mut session).await)
    });
    assert!(emits.is_empty(), "no store, no marker");
    assert_eq!(kinds(&replayed.input), vec!["assistant:Visible"]);
}
