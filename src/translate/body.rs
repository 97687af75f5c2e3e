//! The outbound `/responses` request body, built from Open WebUI's chat body.
//!
//! Only fields OpenRouter's Responses endpoint understands are sent (an explicit
//! allowlist); everything else Open WebUI or clients add is dropped.

use serde_json::{json, Map, Value};

use super::messages::to_input;

/// Sampling fields copied through when they hold a number (numeric strings are accepted).
const NUMERIC_FIELDS: &[&str] = &["temperature", "top_p", "top_k"];

/// Builds the `/responses` body for `model_id` (an OpenRouter id such as `openai/gpt-4o`).
pub fn build(chat_body: &Value, model_id: &str, stream: bool) -> Value {
    let empty = Vec::new();
    let messages = chat_body
        .get("messages")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let mut body = Map::new();
    body.insert("model".into(), json!(model_id));
    body.insert("input".into(), Value::Array(to_input(messages)));
    body.insert("stream".into(), json!(stream));
    for field in NUMERIC_FIELDS {
        if let Some(n) = chat_body.get(*field).and_then(number) {
            body.insert((*field).into(), json!(n));
        }
    }
    Value::Object(body)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_dropped_and_sampling_kept() {
        let chat = json!({
            "model": "openrouter.openai.gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "temperature": "0.5",
            "top_p": "x",
            "metadata": {"a": 1},
            "tools": [],
            "stream_options": {"include_usage": true}
        });
        let body = build(&chat, "openai/gpt-4o-mini", true);
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["input", "model", "stream", "temperature"]);
        assert_eq!(body["temperature"], 0.5);
    }
}
