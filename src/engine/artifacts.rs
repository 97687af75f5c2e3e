//! Artifacts of one request, the storage side: opening the storage (behind the breaker),
//! fetching what earlier turns stored, queueing the items this answer produces and
//! persisting them (and deleting replay-once reasoning) at the end. Where their markers
//! go is [`super::placement`]'s; how history is rebuilt is [`super::history`]'s.

use std::collections::HashMap;

use serde_json::Value;

use super::placement::MarkerPlacement;
use super::request::ChatRequest;
use super::{artifact_location, artifact_store};
use crate::artifacts::{
    normalize_item, should_persist, ArtifactStorage, Guarded, NewArtifact, ReasoningRetention,
    ReplaySettings, StoreError,
};
use crate::emit::{Emit, LogLevel};
use crate::logsink;
use crate::valves::Settings;

/// Per-request artifact state.
pub struct ArtifactSession {
    store: Option<Guarded<'static>>,
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
        crate::scaleout::follow(crate::scaleout::FlushOptions::from_settings(settings));
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
        if session.chat_id.is_empty() || req.task.is_some() {
            return session;
        }
        let location = match artifact_location::choose(
            &settings.database_url(),
            settings.db_path.as_deref(),
            req.owui_database.as_ref(),
            req.artifact_db_path.as_deref(),
        ) {
            Ok(Some(location)) => location,
            Ok(None) => return session,
            Err(e) => {
                session.unavailable(&e.to_string());
                return session;
            }
        };
        let breaker = artifact_store::breaker(settings.breaker);
        if !breaker.allows(&session.user_id) {
            session.unavailable(crate::artifacts::BREAKER_OPEN);
            return session;
        }
        let config = artifact_store::config(settings, location, &req.pipe_id);
        let storage = match artifact_store::cached(&config, settings.cleanup) {
            Some(storage) => Ok(storage), // the common case: nothing to await
            None => artifact_store::get_or_open(config, settings.cleanup).await,
        };
        match storage {
            Ok(storage) => session.store = Some(Guarded::new(storage, breaker, &session.user_id)),
            Err(e) => {
                breaker.record_failure(&session.user_id);
                session.unavailable(&format!("cannot open the artifact database: {e}"));
            }
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
        let Some(store) = self.store.as_ref() else {
            return HashMap::new();
        };
        if ids.is_empty() {
            return HashMap::new();
        }
        match store.fetch(self.chat_id.clone(), None, ids).await {
            Ok(fetched) => {
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
            Err(e) => self.failed(&format!("cannot read stored artifacts: {e}")),
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
        // Follow the latest breaker limits; `store` counts the outcomes.
        artifact_store::breaker(settings.artifacts.breaker);
        let result = persist_then_delete(&store, pending, to_delete).await;
        if let Err(e) = result {
            logsink::log(LogLevel::Warning, format!("Artifact persist failed: {e}"));
        }
    }
}

/// Stores `pending`, then (only when that worked) deletes `to_delete`.
async fn persist_then_delete(
    store: &dyn ArtifactStorage,
    pending: Vec<NewArtifact>,
    to_delete: Vec<String>,
) -> Result<(), StoreError> {
    if !pending.is_empty() {
        store.persist(pending).await?;
    }
    if !to_delete.is_empty() {
        store.delete(to_delete).await?;
    }
    Ok(())
}
