//! One chat request as the Python layer hands it over.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::valves::{merge, Settings};

/// What `pipe()` received, reduced to what the engine needs.
#[derive(Debug, Clone, Default, Deserialize)]
// A key the Python layer misspells is an error ("Unreadable request"), not a silent
// default: both sides ship in one wheel, so they must agree exactly.
#[serde(default, deny_unknown_fields)]
pub struct ChatRequest {
    /// Open WebUI's chat-completions body.
    pub body: Value,
    /// The Function's valves (`Valves.model_dump()`).
    pub system_valves: Map<String, Value>,
    /// The user's valves (`UserValves.model_dump()`), if any.
    pub user_valves: Option<Map<String, Value>>,
    /// The Function id the admin chose (`openrouter`), derived by the Python layer.
    pub pipe_id: String,
    /// The Open WebUI user (`__user__["id"]`).
    pub user_id: Option<String>,
    /// The user's e-mail address (cost snapshots).
    pub user_email: Option<String>,
    /// The user's display name (cost snapshots).
    pub user_name: Option<String>,
    /// The chat (`__chat_id__`), when Open WebUI gives one.
    pub chat_id: Option<String>,
    /// The assistant message being written (`__message_id__`).
    pub message_id: Option<String>,
    /// The browser session (`__session_id__`).
    pub session_id: Option<String>,
    /// The id the Python layer gave this request, so its own log lines carry the same
    /// `request=` tag as the engine's; the engine makes one when absent or unusable.
    pub request_id: Option<String>,
    /// Open WebUI background task (`title_generation`, …) or `None` for a chat turn.
    pub task: Option<String>,
    /// `__metadata__["features"]`: the chat's toggles (web search, …).
    pub features: Map<String, Value>,
    /// The tools of this chat the pipe may offer the model (`__tools__`, direct tool
    /// servers), described by the Python layer, which keeps their callables.
    pub tools: Vec<ToolEntry>,
    /// The request's attached Open WebUI files (`__files__`): `{"type", "id", "name", …}`.
    pub files: Vec<Value>,
    /// Open WebUI's own addresses (`http://host:port`: the request's base URL and
    /// `WEBUI_URL`): a full link to one of its files there is read as the file itself.
    pub webui_origins: Vec<String>,
    /// Default location of the artifact database (`<DATA_DIR>/openrouter_pipe/artifacts.db`),
    /// used unless the `ARTIFACT_DB_PATH` valve names one.
    pub artifact_db_path: Option<String>,
    /// Open WebUI's own database settings (`DATABASE_URL`, `DATABASE_*`): artifacts go to
    /// its PostgreSQL database when it runs on one and no valve says otherwise.
    pub owui_database: Option<crate::artifacts::postgres::OwuiDatabase>,
    /// The body's messages, moved out of `body` by [`ChatRequest::detach_messages`] so
    /// intake can move large attachments into their parts instead of copying them.
    #[serde(skip)]
    pub detached: Detached,
}

/// Messages taken out of the body once; cloning a request clones them.
#[derive(Debug, Default)]
pub struct Detached(std::sync::Mutex<Option<Vec<Value>>>);

impl Clone for Detached {
    fn clone(&self) -> Self {
        let inner = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Self(std::sync::Mutex::new(inner))
    }
}

/// One tool of the chat, as the Python layer describes it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ToolEntry {
    /// The name the model calls it by.
    pub name: String,
    /// Open WebUI's spec: `{"name", "description", "parameters"}`.
    pub spec: Value,
    /// Open WebUI's tool type (`builtin`, `mcp`, `direct`, or empty for a local tool):
    /// breakers count failures per user and type.
    pub kind: String,
    /// Whether the Python layer can run it here (a callable, or a browser to ask).
    pub runnable: bool,
}

impl ChatRequest {
    /// Parses the JSON the bindings receive; a malformed document becomes an error
    /// the caller shows to the user.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("malformed request: {e}"))
    }

    /// Moves the body's `messages` aside (the entry points own the request; everything
    /// after reads it by reference). A 50 MB inline attachment is then held once.
    pub fn detach_messages(&mut self) {
        if let Some(Value::Array(messages)) =
            self.body.as_object_mut().and_then(|b| b.remove("messages"))
        {
            *self.detached.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(messages);
        }
    }

    /// The chat's messages, owned: the detached ones (taken, once), else a copy of the
    /// body's (requests built without the entry points, as in tests).
    pub fn take_messages(&self) -> Vec<Value> {
        let detached = self
            .detached
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        detached.unwrap_or_else(|| {
            self.body
                .get("messages")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
    }

    /// The typed settings of this request (system valves merged with the user's); built
    /// once per request by the entry points and passed down.
    pub fn settings(&self) -> Settings {
        Settings::new(merge(&self.system_valves, self.user_valves.as_ref()))
    }

    /// Whether Open WebUI asked for a streamed answer (`stream: true` in the body).
    pub fn wants_stream(&self) -> bool {
        self.body
            .get("stream")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The part of Open WebUI's model id after the Function id: `openrouter.openai.gpt-4o`
    /// → `openai.gpt-4o`. The Function id is whatever precedes the first dot, which is
    /// how Open WebUI itself routes the request to this Function.
    pub fn model_suffix(&self) -> String {
        let model = self
            .body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        if model.contains('/') {
            return model.to_string();
        }
        match model.split_once('.') {
            Some((_, rest)) => rest.to_string(),
            None => model.to_string(),
        }
    }
}

/// Best guess of the OpenRouter id when the catalog cannot be consulted:
/// `vendor.model.name` → `vendor/model.name`.
pub fn guess_openrouter_id(suffix: &str) -> String {
    if suffix.contains('/') {
        return suffix.to_string();
    }
    match suffix.split_once('.') {
        Some((vendor, model)) => format!("{vendor}/{model}"),
        None => suffix.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn model_suffix_drops_the_function_id() {
        let req = ChatRequest {
            body: json!({"model": "openrouter.openai.gpt-4.1"}),
            pipe_id: "openrouter".into(),
            ..Default::default()
        };
        assert_eq!(req.model_suffix(), "openai.gpt-4.1");
        assert_eq!(guess_openrouter_id(&req.model_suffix()), "openai/gpt-4.1");
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        assert!(ChatRequest::from_json("{not json").is_err());
        assert!(ChatRequest::from_json("{}").is_ok());
        assert!(ChatRequest::from_json(r#"{"chatid": "x"}"#).is_err());
    }
}
