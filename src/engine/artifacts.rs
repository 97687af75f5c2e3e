//! Artifacts of one request, the storage side: opening the store (behind the breaker),
//! fetching what earlier turns stored, queueing the items this answer produces and
//! persisting them (and deleting replay-once reasoning) at the end. Where their markers
//! go is [`super::placement`]'s; how history is rebuilt is [`super::history`]'s.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::artifact_store;
use super::placement::MarkerPlacement;
use super::request::ChatRequest;
use crate::artifacts::{
    normalize_item, should_persist, ArtifactStore, NewArtifact, ReasoningRetention, ReplaySettings,
};
use crate::emit::{Emit, LogLevel};
use crate::logsink;
use crate::valves::Settings;

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
    placement: MarkerPlacement,
    pending: Vec<NewArtifact>,
    to_delete: Vec<String>,
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
        // In Open-WebUI tool mode Open WebUI keeps the calls and results itself.
        let pipeline_tools = settings.tools.mode == crate::valves::ToolMode::Pipeline;
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
            persist_tools: settings.persist_tools && pipeline_tools,
            replay: ReplaySettings {
                retention,
                tool_output_retention_turns: settings.tool_output_retention_turns,
            },
            placement: MarkerPlacement::default(),
            pending: Vec::new(),
            to_delete: Vec::new(),
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
        match crate::sessionlog::spawn_blocking(move || {
            artifact_store::get_or_open(config, schedule)
        })
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

    /// The rules stored items are replayed by (valves of this request).
    pub fn replay_settings(&self) -> ReplaySettings {
        self.replay
    }

    /// Fetches the stored items with these marker ids (the ones found are returned).
    /// Without a store, or when the read fails, there are none and the answer goes on.
    pub async fn fetch(&mut self, ids: Vec<String>) -> HashMap<String, Value> {
        let Some(store) = self.store.clone() else {
            return HashMap::new();
        };
        if ids.is_empty() {
            return HashMap::new();
        }
        let chat_id = self.chat_id.clone();
        match crate::sessionlog::spawn_blocking(move || store.fetch(&chat_id, None, &ids)).await {
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
                return fetched.items;
            }
            Ok(Err(e)) => {
                self.failed(&format!("cannot read stored artifacts: {e}"));
            }
            Err(_) => self.failed("the artifact read task failed"),
        }
        HashMap::new()
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

    /// Passes emits through, turning item boundaries into marker lines and queued rows.
    pub fn intercept(&mut self, emit: Emit) -> Vec<Emit> {
        match emit {
            Emit::Content(text) => {
                let mut out = self.placement.text(&text);
                out.push(Emit::Content(text));
                out
            }
            Emit::ItemStarted { key, item_type } => {
                if self.persists(&item_type) {
                    self.placement.item_started(key);
                }
                Vec::new()
            }
            Emit::ItemDone { key, item } => {
                let Some(item) = self.storable(&item) else {
                    return Vec::new();
                };
                let placed = self.placement.item_done(&key);
                self.queue(placed.id, item);
                placed.emits
            }
            other => vec![other],
        }
    }

    /// Records an item the engine produced itself (a tool's `function_call_output`):
    /// queued for storage like a streamed item, its marker placed at this point of the
    /// answer. Returns what to emit (nothing when the item is not stored).
    pub fn record_engine_item(&mut self, item: &Value) -> Vec<Emit> {
        let Some(item) = self.storable(item) else {
            return Vec::new();
        };
        let placed = self.placement.engine_item();
        self.queue(placed.id, item);
        placed.emits
    }

    /// The normalised item when this session stores items of its type.
    fn storable(&self, item: &Value) -> Option<Value> {
        let item_type = item.get("type").and_then(Value::as_str).unwrap_or("");
        if !self.persists(item_type) {
            return None;
        }
        normalize_item(item)
    }

    fn queue(&mut self, id: String, item: Value) {
        self.pending.push(NewArtifact {
            id: Some(id),
            chat_id: self.chat_id.clone(),
            message_id: self.message_id.clone(),
            model_id: self.model_id.clone(),
            item,
        });
    }

    /// Markers that could not be placed inside a code block, placed at the end.
    pub fn closing_markers(&mut self) -> Vec<Emit> {
        self.placement.closing()
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
        let result = crate::sessionlog::spawn_blocking(move || {
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
