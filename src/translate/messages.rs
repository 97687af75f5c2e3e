//! Chat-completions `messages[]` → Responses `input[]`, message by message.
//!
//! Plain conversion only: the engine replays stored items for earlier answers and hands
//! over texts that are already meant for the model (`engine::history`).

use serde_json::{json, Map, Value};

/// Converts Open WebUI's chat messages into Responses input items.
///
/// System and developer prompts keep their text exactly; user messages keep their
/// text and image parts; assistant text becomes `output_text`; assistant tool calls
/// and tool results become `function_call` / `function_call_output` items so a tool
/// conversation replays faithfully. Messages without a role are skipped.
pub fn to_input(messages: &[Value]) -> Vec<Value> {
    into_input(messages.to_vec())
}

/// [`to_input`] for messages the caller gives up: user parts (attachments of many
/// megabytes) are moved into the input items instead of copied.
pub fn into_input(messages: Vec<Value>) -> Vec<Value> {
    let mut input = Vec::with_capacity(messages.len());
    for mut message in messages {
        let Some(msg) = message.as_object_mut() else {
            continue;
        };
        let role = msg.get("role").and_then(Value::as_str).unwrap_or("").trim();
        match role {
            "" => {}
            "system" | "developer" => {
                let parts = text_parts(msg.get("content"), "input_text");
                if !parts.is_empty() {
                    input.push(json!({"type": "message", "role": role, "content": parts}));
                }
            }
            "user" => input.push(json!({
                "type": "message",
                "role": "user",
                "content": user_parts(msg.get_mut("content").map(Value::take)),
            })),
            "tool" => {
                let call_id = msg
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !call_id.is_empty() {
                    input.push(json!({
                        "type": "function_call_output",
                        "call_id": call_id,
                        "output": plain_text(msg.get("content")),
                    }));
                }
            }
            _ => push_assistant(msg, &mut input),
        }
    }
    input
}

fn push_assistant(msg: &Map<String, Value>, input: &mut Vec<Value>) {
    let text = plain_text(msg.get("content"));
    if !text.trim().is_empty() {
        input.push(json!({
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text}],
        }));
    }
    push_tool_calls(msg, input);
}

/// The `function_call` items of an assistant message's `tool_calls`, for a message
/// whose text the engine replays itself.
pub fn tool_call_items(message: &Value) -> Vec<Value> {
    let mut items = Vec::new();
    if let Some(msg) = message.as_object() {
        push_tool_calls(msg, &mut items);
    }
    items
}

fn push_tool_calls(msg: &Map<String, Value>, input: &mut Vec<Value>) {
    let calls = msg.get("tool_calls").and_then(Value::as_array);
    for call in calls.into_iter().flatten() {
        let function = call.get("function").unwrap_or(call);
        let name = function.get("name").and_then(Value::as_str).unwrap_or("");
        let call_id = call.get("id").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() || call_id.is_empty() {
            continue;
        }
        let arguments = match function.get("arguments") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "{}".to_string(),
            Some(other) => other.to_string(),
        };
        input.push(json!({
            "type": "function_call",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        }));
    }
}

/// Text blocks of a system/developer message, one per string part.
fn text_parts(content: Option<&Value>, kind: &str) -> Vec<Value> {
    let block = |text: &str| json!({"type": kind, "text": text});
    match content {
        Some(Value::String(s)) if !s.is_empty() => vec![block(s)],
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(part_text)
            .filter(|t| !t.is_empty())
            .map(block)
            .collect(),
        Some(Value::Object(o)) => part_text(&Value::Object(o.clone()))
            .filter(|t| !t.is_empty())
            .map(block)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

fn part_text(part: &Value) -> Option<&str> {
    match part {
        Value::String(s) => Some(s),
        Value::Object(o) => o
            .get("text")
            .or_else(|| o.get("content"))
            .and_then(Value::as_str),
        _ => None,
    }
}

/// User content: text → `input_text`, `image_url` → `input_image`; the file, audio and
/// video parts the intake stage produced pass through unchanged (moved, not copied).
fn user_parts(content: Option<Value>) -> Vec<Value> {
    match content {
        Some(Value::String(s)) => vec![json!({"type": "input_text", "text": s})],
        Some(Value::Array(parts)) => parts.into_iter().filter_map(user_part).collect(),
        _ => Vec::new(),
    }
}

fn user_part(mut part: Value) -> Option<Value> {
    if let Value::String(s) = part {
        return Some(json!({"type": "input_text", "text": s}));
    }
    let kind = part.get("type").and_then(Value::as_str).unwrap_or("text");
    match kind {
        "text" | "input_text" => part_text(&part).map(|t| json!({"type": "input_text", "text": t})),
        "image_url" | "input_image" => {
            let detail = image_detail(&part).to_owned();
            let url = match part.get_mut("image_url").map(Value::take) {
                Some(Value::String(s)) => s,
                Some(Value::Object(mut o)) => match o.remove("url") {
                    Some(Value::String(s)) => s,
                    _ => return None,
                },
                _ => return None,
            };
            Some(json!({"type": "input_image", "image_url": url, "detail": detail}))
        }
        // Already Responses parts: the intake stage (`engine::intake`) made them.
        "input_file" | "input_audio" | "input_video" => Some(part),
        _ => None,
    }
}

/// An image part's `detail` (inside `image_url` or beside it), `auto` when unset.
fn image_detail(part: &Value) -> &str {
    part.get("image_url")
        .and_then(|i| i.get("detail"))
        .or_else(|| part.get("detail"))
        .and_then(Value::as_str)
        .unwrap_or("auto")
}

/// The plain text of a message's content (string, or the text parts joined by newlines).
fn plain_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(part_text)
            .collect::<Vec<_>>()
            .join("\n"),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn giving_the_messages_up_converts_them_the_same_way() {
        let messages = vec![
            json!({"role": "system", "content": "Be brief."}),
            json!({"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
                {"type": "image_url", "image_url": "https://example.com/a.png"},
                {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"},
                {"type": "unknown"}
            ]}),
            json!({"role": "user", "content": "plain"}),
            json!({"role": "assistant", "content": "A cat."}),
        ];
        assert_eq!(into_input(messages.clone()), to_input(&messages));
    }

    #[test]
    fn roles_map_to_responses_items() {
        let messages = vec![
            json!({"role": "system", "content": "Be brief."}),
            json!({"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
            ]}),
            json!({"role": "assistant", "content": "A cat.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "look", "arguments": "{\"x\":1}"}}
            ]}),
            json!({"role": "tool", "tool_call_id": "call_1", "content": "ok"}),
            json!({"content": "no role"}),
        ];
        let input = to_input(&messages);
        assert_eq!(input.len(), 5);
        assert_eq!(
            input[0]["content"][0],
            json!({"type": "input_text", "text": "Be brief."})
        );
        assert_eq!(input[1]["content"][1]["type"], "input_image");
        assert_eq!(input[2]["content"][0]["type"], "output_text");
        assert_eq!(input[3]["type"], "function_call");
        assert_eq!(
            input[4],
            json!({"type": "function_call_output", "call_id": "call_1", "output": "ok"})
        );
    }

    #[test]
    fn tool_calls_of_a_message_become_function_calls_alone() {
        let message = json!({"role": "assistant", "content": "shown elsewhere", "tool_calls": [
            {"id": "call_1", "function": {"name": "look", "arguments": {"x": 1}}},
            {"id": "", "function": {"name": "nameless"}},
            {"id": "call_2", "function": {"name": "bare"}}
        ]});
        assert_eq!(
            tool_call_items(&message),
            vec![
                json!({"type": "function_call", "call_id": "call_1", "name": "look",
                       "arguments": "{\"x\":1}"}),
                json!({"type": "function_call", "call_id": "call_2", "name": "bare",
                       "arguments": "{}"}),
            ]
        );
    }

    #[test]
    fn empty_system_prompt_is_dropped_but_whitespace_is_kept_verbatim() {
        let input = to_input(&[
            json!({"role": "system", "content": ""}),
            json!({"role": "system", "content": "  keep  "}),
        ]);
        assert_eq!(input.len(), 1);
        assert_eq!(input[0]["content"][0]["text"], "  keep  ");
    }
}
