//! Artifacts of one request: hidden markers placed where reasoning and tool items
//! happened, their persistence at the end of the answer, and the fetch that lets the
//! history of earlier turns be replayed.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::artifact_store;
use super::request::ChatRequest;
use crate::artifacts::{
    ids, markers, normalize_item, should_persist, ArtifactStore, NewArtifact, ReasoningRetention,
    ReplaySettings,
};
use crate::logsink;
use crate::stream::emit::{Emit, LogLevel};
use crate::translate::History;
use crate::valves::Settings;

/// Where the answer text stands, enough to place a marker line correctly.
#[derive(Debug, Default)]
struct TextShape {
    tail: String,
    at_line_start: bool,
    in_fence: bool,
    seen: bool,
}

impl TextShape {
    fn feed(&mut self, text: &str) {
        for line in text.split_inclusive('\n') {
            if (self.at_line_start || !self.seen) && line.trim_start().starts_with("```") {
                self.in_fence = !self.in_fence;
            }
            self.seen = true;
            self.at_line_start = line.ends_with('\n');
        }
        let keep: String = self.tail.chars().chain(text.chars()).collect();
        let start = keep.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
        self.tail = keep[start..].to_string();
    }
}

/// Per-request artifact state.
pub struct ArtifactSession {
    store: Option<Arc<ArtifactStore>>,
    chat_id: String,
    message_id: String,
    model_id: Option<String>,
    user_id: String,
    retention: ReasoningRetention,
    persist_tools: bool,
    replay: ReplaySettings,
    started: HashMap<String, String>,
    pending: Vec<NewArtifact>,
    deferred_markers: Vec<String>,
    to_delete: Vec<String>,
    shape: TextShape,
    notices: Vec<Emit>,
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl ArtifactSession {
    /// Opens the store for this chat. Without a saved chat (API calls, tasks) or when the
    /// database is unavailable, the session does nothing and the answer goes on.
    pub async fn open(req: &ChatRequest, settings: &Settings) -> Self {
        let settings = &settings.artifacts;
        let retention = settings.reasoning_retention;
        let mut session = Self {
            store: None,
            chat_id: non_empty(&req.chat_id).unwrap_or_default(),
            message_id: non_empty(&req.message_id).unwrap_or_default(),
            model_id: req
                .body
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string),
            user_id: non_empty(&req.user_id).unwrap_or_else(|| "anonymous".into()),
            retention,
            persist_tools: settings.persist_tools,
            replay: ReplaySettings {
                retention,
                tool_output_retention_turns: settings.tool_output_retention_turns,
            },
            started: HashMap::new(),
            pending: Vec::new(),
            deferred_markers: Vec::new(),
            to_delete: Vec::new(),
            shape: TextShape::default(),
            notices: Vec::new(),
        };
        let path = settings
            .db_path
            .clone()
            .or_else(|| non_empty(&req.artifact_db_path));
        let (Some(path), false) = (path, session.chat_id.is_empty() || req.task.is_some()) else {
            return session;
        };
        let breaker = artifact_store::breaker(settings.breaker);
        if !breaker.allows(&session.user_id) {
            session.unavailable("skipped after repeated database errors");
            return session;
        }
        let config = artifact_store::config(settings, &path, &req.pipe_id);
        if let Some(store) = artifact_store::cached(&config, settings.cleanup) {
            session.store = Some(store); // the common case: no trip to a blocking thread
            return session;
        }
        let schedule = settings.cleanup;
        match tokio::task::spawn_blocking(move || artifact_store::get_or_open(config, schedule))
            .await
        {
            Ok(Ok(store)) => session.store = Some(store),
            Ok(Err(e)) => {
                breaker.record_failure(&session.user_id);
                session.unavailable(&format!("cannot open the artifact database: {e}"));
            }
            Err(_) => session.unavailable("the artifact database task failed"),
        }
        session
    }

    fn unavailable(&mut self, why: &str) {
        logsink::log(
            LogLevel::Warning,
            format!("Artifact persistence off for this answer: {why}"),
        );
        if self.notices.is_empty() {
            self.notices.push(Emit::status(
                "⚠️ Stored reasoning and tool results are unavailable right now; answering without them",
                false,
            ));
        }
    }

    /// Warnings to show before the answer (a database that could not be used).
    pub fn take_notices(&mut self) -> Vec<Emit> {
        std::mem::take(&mut self.notices)
    }

    /// Fetches every artifact the conversation's assistant messages point to.
    pub async fn history(&mut self, messages: &[Value]) -> History {
        let mut history = History {
            items: HashMap::new(),
            settings: self.replay,
        };
        let Some(store) = self.store.clone() else {
            return history;
        };
        let wanted: Vec<String> = messages
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
            .filter_map(|m| m.get("content").and_then(Value::as_str))
            .flat_map(|text| markers::marker_ids(text).into_iter().map(str::to_string))
            .collect();
        if wanted.is_empty() {
            return history;
        }
        let chat_id = self.chat_id.clone();
        match tokio::task::spawn_blocking(move || store.fetch(&chat_id, None, &wanted)).await {
            Ok(Ok(fetched)) => {
                if !fetched.undecodable.is_empty() {
                    logsink::log(
                        LogLevel::Warning,
                        format!(
                            "{} stored artifact(s) could not be decrypted; skipped",
                            fetched.undecodable.len()
                        ),
                    );
                }
                history.items = fetched.items;
            }
            Ok(Err(e)) => {
                self.failed(&format!("cannot read stored artifacts: {e}"));
            }
            Err(_) => self.failed("the artifact read task failed"),
        }
        history
    }

    fn failed(&mut self, why: &str) {
        self.unavailable(why);
        self.store = None;
    }

    /// Replayed reasoning to delete after a successful answer (`next_reply`).
    pub fn delete_after_success(&mut self, ids: Vec<String>) {
        self.to_delete.extend(ids);
    }

    fn persists(&self, item_type: &str) -> bool {
        self.store.is_some()
            && !self.message_id.is_empty()
            && should_persist(item_type, self.retention, self.persist_tools)
    }

    fn marker(&mut self, id: String) -> Vec<Emit> {
        if self.shape.in_fence {
            self.deferred_markers.push(id);
            return Vec::new();
        }
        let text = markers::marker_insertion(&self.shape.tail, &[id]);
        self.shape.feed(&text);
        vec![Emit::Content(text)]
    }

    /// Passes emits through, turning item boundaries into marker lines and queued rows.
    pub fn intercept(&mut self, emit: Emit) -> Vec<Emit> {
        match emit {
            Emit::Content(text) => {
                self.shape.feed(&text);
                vec![Emit::Content(text)]
            }
            Emit::ItemStarted { key, item_type } => {
                if !self.persists(&item_type) {
                    return Vec::new();
                }
                let id = ids::new_id();
                self.started.insert(key, id.clone());
                self.marker(id)
            }
            Emit::ItemDone { key, item } => {
                let item_type = item.get("type").and_then(Value::as_str).unwrap_or("");
                if !self.persists(item_type) {
                    return Vec::new();
                }
                let Some(item) = normalize_item(&item) else {
                    return Vec::new();
                };
                let (id, marker) = match self.started.remove(&key) {
                    Some(id) => (id, Vec::new()),
                    None => {
                        let id = ids::new_id();
                        (id.clone(), self.marker(id))
                    }
                };
                self.pending.push(NewArtifact {
                    id: Some(id),
                    chat_id: self.chat_id.clone(),
                    message_id: self.message_id.clone(),
                    model_id: self.model_id.clone(),
                    item,
                });
                marker
            }
            other => vec![other],
        }
    }

    /// Markers that could not be placed inside a code block, placed at the end.
    pub fn closing_markers(&mut self) -> Vec<Emit> {
        let ids = std::mem::take(&mut self.deferred_markers);
        if ids.is_empty() {
            return Vec::new();
        }
        let text = markers::marker_insertion(&self.shape.tail, &ids);
        self.shape.feed(&text);
        vec![Emit::Content(text)]
    }

    /// Persists the queued artifacts and, after a successful answer, deletes the
    /// reasoning that was only to be replayed once. Failures are logged and counted by the
    /// breaker; the answer itself is already complete.
    pub async fn finish(mut self, settings: &Settings, answered: bool) {
        let Some(store) = self.store.take() else {
            return;
        };
        let pending = std::mem::take(&mut self.pending);
        let to_delete = if answered && self.retention == ReasoningRetention::NextReply {
            std::mem::take(&mut self.to_delete)
        } else {
            Vec::new()
        };
        if pending.is_empty() && to_delete.is_empty() {
            return;
        }
        let breaker = artifact_store::breaker(settings.artifacts.breaker);
        let user = self.user_id.clone();
        let result = tokio::task::spawn_blocking(move || {
            let stored = if pending.is_empty() {
                Ok(Vec::new())
            } else {
                store.persist(&pending)
            };
            if stored.is_ok() && !to_delete.is_empty() {
                store.delete(&to_delete).map(|_| stored.unwrap_or_default())
            } else {
                stored
            }
        })
        .await;
        match result {
            Ok(Ok(_)) => breaker.record_success(&user),
            Ok(Err(e)) => {
                breaker.record_failure(&user);
                logsink::log(LogLevel::Warning, format!("Artifact persist failed: {e}"));
            }
            Err(_) => logsink::log(LogLevel::Warning, "Artifact persist task failed"),
        }
    }
}
