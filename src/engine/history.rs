//! The conversation as the model gets it: Open WebUI's `messages` become Responses
//! `input` items, and assistant messages whose text carries markers become the
//! reasoning and tool items stored for them, in the order they happened.
//!
//! Marker lines are for the pipe, never for the model: every text that is converted
//! plainly loses them here, so translation never sees one.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use super::artifacts::ArtifactSession;
use crate::artifacts::{markers, replay_message, ReplaySettings, Turns};
use crate::emit::LogLevel;
use crate::logsink;
use crate::tools::output::without_tool_blocks;
use crate::translate::messages::{into_input, tool_call_items};

/// The replayed conversation and what replay decided.
#[derive(Debug, Default, PartialEq)]
pub struct Replayed {
    /// The Responses `input` items, in conversation order.
    pub input: Vec<Value>,
    /// Replayed reasoning ids to delete after a successful answer (`next_reply`).
    pub reasoning_to_delete: Vec<String>,
}

/// Fetches what the conversation's markers point to (through the session's store) and
/// replays it. Without a store every marked message is replayed as its visible text.
pub async fn replay(messages: Vec<Value>, session: &mut ArtifactSession) -> Replayed {
    let stored = session.fetch(marker_ids(&messages)).await;
    replay_with(messages, &stored, &session.replay_settings())
}

/// The marker ids of every assistant message, in order (duplicates kept).
fn marker_ids(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
        .filter_map(|m| m.get("content").and_then(Value::as_str))
        .flat_map(|text| markers::marker_ids(text).into_iter().map(str::to_string))
        .collect()
}

/// Replays `messages` against the `stored` items (Sans-IO).
/// The messages are taken by value: a user's attachments move into the input.
fn replay_with(
    messages: Vec<Value>,
    stored: &HashMap<String, Value>,
    settings: &ReplaySettings,
) -> Replayed {
    let turns = Turns::of(&messages);
    let mut out = Replayed::default();
    for (position, message) in messages.into_iter().enumerate() {
        let message = changed(without_blocks(&message)).unwrap_or(message);
        if let Some(text) = marked_assistant_text(&message) {
            let replay = replay_message(text, stored, turns.window(position), settings);
            for note in replay.notes.iter().filter(|n| n.is_warning()) {
                logsink::log(LogLevel::Debug, format!("Replay: {note}"));
            }
            out.input.extend(replay.items);
            out.reasoning_to_delete.extend(replay.reasoning_to_delete);
            out.input.extend(tool_call_items(&message));
            continue;
        }
        let visible = changed(without_markers(&message)).unwrap_or(message);
        out.input.extend(into_input(vec![visible]));
    }
    out
}

/// The rewritten message, or `None` when nothing changed (the caller keeps its own).
fn changed(message: Cow<'_, Value>) -> Option<Value> {
    match message {
        Cow::Owned(m) => Some(m),
        Cow::Borrowed(_) => None,
    }
}

/// An assistant message without the tool blocks shown to the user (borrowed when it has
/// none).
fn without_blocks(message: &Value) -> Cow<'_, Value> {
    let Some(text) = message.get("content").and_then(Value::as_str) else {
        return Cow::Borrowed(message);
    };
    if message.get("role").and_then(Value::as_str) != Some("assistant") {
        return Cow::Borrowed(message);
    }
    match without_tool_blocks(text) {
        Cow::Borrowed(_) => Cow::Borrowed(message),
        Cow::Owned(stripped) => {
            let mut owned = message.clone();
            owned["content"] = Value::String(stripped);
            Cow::Owned(owned)
        }
    }
}

/// The text of an assistant message (any role but the known others) with markers.
fn marked_assistant_text(message: &Value) -> Option<&str> {
    let msg = message.as_object()?;
    let role = msg.get("role").and_then(Value::as_str).unwrap_or("").trim();
    if matches!(role, "" | "system" | "developer" | "user" | "tool") {
        return None;
    }
    let text = msg.get("content").and_then(Value::as_str)?;
    markers::has_markers(text).then_some(text)
}

/// `message` with marker lines taken out of its texts (borrowed when it has none): the
/// string content, string parts, and the `text` / `content` of object parts.
fn without_markers(message: &Value) -> Cow<'_, Value> {
    let Some(content) = message.get("content") else {
        return Cow::Borrowed(message);
    };
    if !has_marked_text(content) {
        return Cow::Borrowed(message);
    }
    let mut owned = message.clone();
    if let Some(content) = owned.get_mut("content") {
        strip_texts(content);
    }
    Cow::Owned(owned)
}

fn has_marked_text(content: &Value) -> bool {
    match content {
        Value::String(s) => markers::has_markers(s),
        Value::Array(parts) => parts.iter().any(has_marked_text),
        Value::Object(part) => ["text", "content"]
            .iter()
            .filter_map(|k| part.get(*k).and_then(Value::as_str))
            .any(markers::has_markers),
        _ => false,
    }
}

fn strip_texts(content: &mut Value) {
    match content {
        Value::String(s) => *s = markers::strip(s),
        Value::Array(parts) => parts.iter_mut().for_each(strip_texts),
        Value::Object(part) => {
            for key in ["text", "content"] {
                if let Some(Value::String(s)) = part.get_mut(key) {
                    *s = markers::strip(s);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::artifacts::markers::append_markers;
    use crate::artifacts::ReasoningRetention;

    const R: &str = "01J2VVZBDQTP1ZQJ8DSN";
    const C: &str = "01J2VVZBDQTP1ZQJ8DSP";

    fn reasoning() -> Value {
        json!({"type": "reasoning", "id": "rs_1", "summary": [],
               "encrypted_content": "gAAAA-secret"})
    }

    fn settings(retention: ReasoningRetention) -> ReplaySettings {
        ReplaySettings {
            retention,
            ..ReplaySettings::default()
        }
    }

    fn kinds(input: &[Value]) -> Vec<&str> {
        input
            .iter()
            .map(|i| i["type"].as_str().unwrap_or(""))
            .collect()
    }

    #[test]
    fn marker_ids_come_from_assistant_messages_only() {
        let messages = vec![
            json!({"role": "user", "content": format!("[{R}]: #")}),
            json!({"role": "assistant", "content": append_markers("Hi", &[R, C])}),
        ];
        assert_eq!(marker_ids(&messages), vec![R, C]);
    }

    #[test]
    fn a_marked_answer_is_replayed_with_its_stored_items_and_tool_calls() {
        let messages = vec![
            json!({"role": "user", "content": "Q"}),
            json!({"role": "assistant", "content": format!("[{R}]: #\n\nThe answer"),
                   "tool_calls": [{"id": "call_1", "function": {"name": "look", "arguments": "{}"}}]}),
            json!({"role": "user", "content": "Again"}),
        ];
        let stored = HashMap::from([(R.to_string(), reasoning())]);
        let replayed = replay_with(
            messages.clone(),
            &stored,
            &settings(ReasoningRetention::NextReply),
        );
        assert_eq!(
            kinds(&replayed.input),
            vec![
                "message",
                "reasoning",
                "message",
                "function_call",
                "message"
            ]
        );
        assert_eq!(replayed.input[2]["content"][0]["text"], "The answer");
        assert_eq!(replayed.reasoning_to_delete, vec![R.to_string()]);
    }

    #[test]
    fn without_stored_items_a_marked_answer_is_its_visible_text() {
        let messages = vec![json!({"role": "assistant",
                                    "content": append_markers("Only text", &[R])})];
        let replayed = replay_with(
            messages.clone(),
            &HashMap::new(),
            &ReplaySettings::default(),
        );
        assert_eq!(kinds(&replayed.input), vec!["message"]);
        assert_eq!(replayed.input[0]["content"][0]["text"], "Only text");
        assert!(replayed.reasoning_to_delete.is_empty());
    }

    #[test]
    fn markers_never_reach_the_model_from_other_messages() {
        let marked = append_markers("Visible", &[R]);
        let messages = vec![
            json!({"role": "system", "content": marked}),
            json!({"role": "user", "content": [{"type": "text", "text": marked}]}),
            json!({"role": "tool", "tool_call_id": "call_1", "content": marked}),
        ];
        let replayed = replay_with(
            messages.clone(),
            &HashMap::new(),
            &ReplaySettings::default(),
        );
        let text = serde_json::to_string(&replayed.input).unwrap();
        assert!(!text.contains(R), "{text}");
        assert_eq!(replayed.input[0]["content"][0]["text"], "Visible");
        assert_eq!(replayed.input[1]["content"][0]["text"], "Visible");
        assert_eq!(replayed.input[2]["output"], "Visible");
    }

    #[test]
    fn messages_without_markers_convert_as_translate_does() {
        let messages = vec![
            json!({"role": "system", "content": "  keep  "}),
            json!({"role": "user", "content": "Hi"}),
            json!({"role": "assistant", "content": "Hello"}),
        ];
        let replayed = replay_with(
            messages.clone(),
            &HashMap::new(),
            &ReplaySettings::default(),
        );
        assert_eq!(
            replayed.input,
            crate::translate::messages::to_input(&messages)
        );
        assert!(matches!(without_markers(&messages[0]), Cow::Borrowed(_)));
    }
}
