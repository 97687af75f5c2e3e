//! Helpers shared by the fixture tests: reading fixtures and picking emits apart.
#![allow(dead_code)]

pub mod certs;
pub mod fake;
pub mod pg;

use openrouter_pipe::stream::MapperOptions;
use openrouter_pipe::valves::ThinkingMode;
use openrouter_pipe::{Emit, FunctionCall};
use serde_json::Value;

/// A loopback port nothing listens on right now, for a server a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/openrouter/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

/// A small multi-threaded runtime for tests that drive the engine's async entry points.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

pub fn options() -> MapperOptions {
    MapperOptions {
        thinking_mode: ThinkingMode::OpenWebUi,
        show_final_usage: true,
        model_label: "Test Model".into(),
        model_id: String::new(),
        usage_before: None,
        elapsed_before: Default::default(),
        defer_final_on_calls: false,
        card_style: Default::default(),
    }
}

pub fn content(emits: &[Emit]) -> String {
    emits
        .iter()
        .filter_map(|e| match e {
            Emit::Content(c) => Some(c.as_str()),
            _ => None,
        })
        .collect()
}

pub fn reasoning(emits: &[Emit]) -> String {
    emits
        .iter()
        .filter_map(|e| match e {
            Emit::Reasoning(c) => Some(c.as_str()),
            _ => None,
        })
        .collect()
}

pub fn sources(emits: &[Emit]) -> Vec<&Value> {
    emits
        .iter()
        .filter_map(|e| match e {
            Emit::Source(v) => Some(v),
            _ => None,
        })
        .collect()
}

pub fn usages(emits: &[Emit]) -> Vec<&Value> {
    emits
        .iter()
        .filter_map(|e| match e {
            Emit::Usage(v) => Some(v),
            _ => None,
        })
        .collect()
}

pub fn calls(emits: &[Emit]) -> Vec<&FunctionCall> {
    emits
        .iter()
        .filter_map(|e| match e {
            Emit::FunctionCall(c) => Some(c),
            _ => None,
        })
        .collect()
}

pub fn statuses(emits: &[Emit]) -> Vec<(String, bool)> {
    emits
        .iter()
        .filter_map(|e| match e {
            Emit::Status {
                description, done, ..
            } => Some((description.clone(), *done)),
            _ => None,
        })
        .collect()
}

pub fn last_status(emits: &[Emit]) -> (String, bool) {
    statuses(emits).pop().expect("a final status")
}

pub fn tail_kinds(emits: &[Emit], n: usize) -> Vec<&'static str> {
    emits[emits.len().saturating_sub(n)..]
        .iter()
        .map(|e| match e {
            Emit::Content(_) => "content",
            Emit::Reasoning(_) => "reasoning",
            Emit::Status { .. } => "status",
            Emit::Source(_) => "source",
            Emit::Usage(_) => "usage",
            Emit::Notification { .. } => "notification",
            Emit::FunctionCall(_) => "call",
            Emit::ToolCall { .. } => "tool_call",
            Emit::Log { .. } => "log",
            Emit::ItemStarted { .. } => "item_started",
            Emit::ItemDone { .. } => "item_done",
        })
        .collect()
}
