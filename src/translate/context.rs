//! Everything request translation needs to know besides the chat body itself.

use serde_json::{Map, Value};

use crate::catalog::Model;
use crate::valves::Settings;

/// Per-request inputs of [`super::body::build`].
pub struct TranslateContext<'a> {
    /// The request's settings.
    pub settings: &'a Settings,
    /// The catalog entry of the target model, when the catalog is available.
    pub model: Option<&'a Model>,
    /// The OpenRouter model id to send (`openai/gpt-4o`).
    pub model_id: &'a str,
    /// Whether to ask for a streamed answer.
    pub stream: bool,
    /// True for Open WebUI's background tasks (title, tags, follow-ups).
    pub task: bool,
    /// The model is in the admin's `MODEL_ID` selection (a task may run on another one,
    /// which then keeps the normal reasoning effort instead of the task effort).
    pub owned: bool,
    /// `__metadata__["features"]` (`web_search`, `openrouter_web_search`, …).
    pub features: &'a Map<String, Value>,
    /// The Open WebUI user, sent only when `SEND_END_USER_ID` is on.
    pub user_id: Option<&'a str>,
    /// The browser session, sent only when `SEND_SESSION_ID` is on.
    pub session_id: Option<&'a str>,
    /// The chat, sent as metadata only when `SEND_CHAT_ID` is on.
    pub chat_id: Option<&'a str>,
    /// The message, sent as metadata only when `SEND_MESSAGE_ID` is on.
    pub message_id: Option<&'a str>,
}

impl TranslateContext<'_> {
    /// Whether the model accepts `parameter`; unknown models are given the benefit
    /// of the doubt (the catalog may be unavailable).
    pub fn supports(&self, parameter: &str) -> bool {
        self.model.is_none_or(|m| m.supports(parameter))
    }

    /// Whether the target is a Claude model (Anthropic-only options apply).
    pub fn is_anthropic(&self) -> bool {
        let id = self.model_id.to_ascii_lowercase();
        id.starts_with("anthropic/") || id.starts_with("anthropic.")
    }

    /// Whether the chat turned feature `name` on (a true bool, or `"true"`, `"1"`, `"on"`, `"yes"`, or a non-zero number).
    pub fn feature(&self, name: &str) -> bool {
        match self.features.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => {
                matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "on" | "yes")
            }
            Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
            _ => false,
        }
    }
}
