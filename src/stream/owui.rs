//! [`Emit`] → the item a pipe yields to Open WebUI.
//!
//! Each item is a ready SSE line (`data: {...}`). Open WebUI passes strings that start
//! with `data:` through verbatim, so serialisation happens once, here in Rust, instead
//! of Python building a dict per token and Open WebUI dumping it to JSON again.

use serde_json::{json, Value};

use crate::emit::Emit;

/// Serialises an emit, or `None` for emits that never reach Open WebUI
/// (function calls are engine-internal, log lines go to the Python log).
pub fn item(emit: &Emit) -> Option<String> {
    let payload = match emit {
        Emit::Content(text) => delta_chunk("content", text),
        Emit::Reasoning(text) => delta_chunk("reasoning_content", text),
        Emit::Status {
            description,
            done,
            extra,
        } => {
            let mut data = extra.clone();
            data.insert("description".into(), json!(description));
            data.insert("done".into(), json!(done));
            event("status", Value::Object(data))
        }
        Emit::Source(data) => event("source", data.clone()),
        Emit::Usage(usage) => json!({"usage": usage}),
        Emit::ToolCall { index, call } => json!({
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"tool_calls": [{
                "index": index,
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }]}, "finish_reason": null}],
        }),
        Emit::Notification { level, content } => event(
            "notification",
            json!({"type": level.as_str(), "content": content}),
        ),
        Emit::FunctionCall(_)
        | Emit::Log { .. }
        | Emit::ItemStarted { .. }
        | Emit::ItemDone { .. } => return None,
    };
    Some(format!("data: {payload}"))
}

fn delta_chunk(field: &str, text: &str) -> Value {
    json!({
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {field: text}, "finish_reason": null}],
    })
}

fn event(kind: &str, data: Value) -> Value {
    json!({"event": {"type": kind, "data": data}})
}

/// The `event` dict an emit becomes when sent through `__event_emitter__` directly
/// (non-streaming requests), or `None` for emits that only make sense in a stream.
pub fn emitter_event(emit: &Emit) -> Option<Value> {
    match item(emit)?.strip_prefix("data: ") {
        Some(text) => serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("event").cloned()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::NoticeLevel;

    fn parse(item: &str) -> Value {
        serde_json::from_str(item.strip_prefix("data: ").unwrap()).unwrap()
    }

    #[test]
    fn content_and_reasoning_become_chat_chunks() {
        let c = parse(&item(&Emit::Content("héllo \"x\"".into())).unwrap());
        assert_eq!(c["choices"][0]["delta"]["content"], "héllo \"x\"");
        let r = parse(&item(&Emit::Reasoning("hmm".into())).unwrap());
        assert_eq!(r["choices"][0]["delta"]["reasoning_content"], "hmm");
    }

    #[test]
    fn status_source_notification_become_events() {
        let s = parse(&item(&Emit::status("Searching", false)).unwrap());
        assert_eq!(
            s["event"],
            json!({"type": "status", "data": {"description": "Searching", "done": false}})
        );
        let n = Emit::Notification {
            level: NoticeLevel::Warning,
            content: "x".into(),
        };
        assert_eq!(
            parse(&item(&n).unwrap())["event"]["data"]["type"],
            "warning"
        );
        assert_eq!(
            emitter_event(&Emit::Source(json!({"a": 1}))).unwrap()["type"],
            "source"
        );
        assert!(emitter_event(&Emit::Content("x".into())).is_none());
    }

    #[test]
    fn usage_is_a_top_level_field() {
        let u = parse(&item(&Emit::Usage(json!({"prompt_tokens": 3}))).unwrap());
        assert_eq!(u["usage"]["prompt_tokens"], 3);
    }
}
