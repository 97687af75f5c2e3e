//! Normalisation of stored Responses items, before they are persisted and before they
//! are replayed (missing ids and statuses filled in, loose shapes made regular).

use serde_json::{json, Map, Value};

use super::codec::compact_json;
use crate::ids::new_id;

/// Item types that are never sent back to the model: they are results of server-side or
/// local tools that the Responses API does not accept as input.
pub const NON_REPLAYABLE_TYPES: [&str; 4] = [
    "image_generation_call",
    "web_search_call",
    "file_search_call",
    "local_shell_call",
];

/// True for the item types in [`NON_REPLAYABLE_TYPES`] (case-insensitive).
pub fn is_non_replayable(item_type: &str) -> bool {
    NON_REPLAYABLE_TYPES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(item_type))
}

/// The normalised form of `item`, or `None` when it cannot be used (not an object, no
/// string `type`, or a function call without a name or arguments).
///
/// * `function_call_output`: `id`, `call_id` (new ids) and `status` (`completed`)
///   filled in; `output` becomes a string (`""` for null, compact JSON for non-strings).
/// * `function_call`: needs a `name` and non-null `arguments` (non-strings become
///   compact JSON); `id`, `call_id`, `status` filled in.
/// * `reasoning`: `content` becomes a list (a non-empty scalar becomes one
///   `reasoning_text` part); `summary` becomes a list; `id`, `status` filled in.
/// * the non-replayable tool calls: `id`, `status` filled in; `file_search_call.queries`
///   a list, `web_search_call.action` an object.
/// * anything else: unchanged.
pub fn normalize_item(item: &Value) -> Option<Value> {
    let obj = item.as_object()?;
    let item_type = obj.get("type")?.as_str()?.to_ascii_lowercase();
    let mut m = obj.clone();
    match item_type.as_str() {
        "function_call_output" => {
            fill_default(&mut m, "id", new_id);
            fill_default(&mut m, "status", || "completed".into());
            fill_default(&mut m, "call_id", new_id);
            let output = match m.get("output") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => compact_json(other),
            };
            m.insert("output".into(), Value::String(output));
        }
        "function_call" => {
            if !is_truthy(m.get("name")) {
                return None;
            }
            let arguments = match m.get("arguments") {
                None | Some(Value::Null) => return None,
                Some(Value::String(s)) => s.clone(),
                Some(other) => compact_json(other),
            };
            m.insert("arguments".into(), Value::String(arguments));
            fill_default(&mut m, "call_id", new_id);
            fill_default(&mut m, "id", new_id);
            fill_default(&mut m, "status", || "completed".into());
        }
        "reasoning" => {
            let content = match m.get("content") {
                Some(Value::Array(a)) => Value::Array(a.clone()),
                Some(v) if is_truthy(Some(v)) => {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => compact_json(other),
                    };
                    json!([{"type": "reasoning_text", "text": text}])
                }
                _ => json!([]),
            };
            m.insert("content".into(), content);
            let summary = match m.get("summary") {
                Some(Value::Array(a)) => Value::Array(a.clone()),
                Some(v) if is_truthy(Some(v)) => Value::Array(vec![v.clone()]),
                _ => json!([]),
            };
            m.insert("summary".into(), summary);
            fill_default(&mut m, "id", new_id);
            fill_default(&mut m, "status", || "completed".into());
        }
        t if is_non_replayable(t) => {
            fill_default(&mut m, "id", new_id);
            fill_default(&mut m, "status", || "completed".into());
            if t == "file_search_call" && !matches!(m.get("queries"), Some(Value::Array(_))) {
                m.insert("queries".into(), json!([]));
            }
            if t == "web_search_call" && !matches!(m.get("action"), Some(Value::Object(_))) {
                m.insert("action".into(), json!({}));
            }
        }
        _ => {}
    }
    Some(Value::Object(m))
}

/// Sets `key` when it is missing, null or an empty (or blank) string.
fn fill_default(m: &mut Map<String, Value>, key: &str, make: impl FnOnce() -> String) {
    let missing = match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    };
    if missing {
        m.insert(key.into(), Value::String(make()));
    }
}

/// Python-style truthiness of a JSON value.
fn is_truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::is_valid_id;

    #[test]
    fn rejects_unusable_items() {
        assert_eq!(normalize_item(&json!("x")), None);
        assert_eq!(normalize_item(&json!({"id": "a"})), None);
        assert_eq!(normalize_item(&json!({"type": 3})), None);
        assert_eq!(
            normalize_item(&json!({"type": "function_call", "arguments": "{}"})),
            None
        );
        assert_eq!(
            normalize_item(&json!({"type": "function_call", "name": "f"})),
            None
        );
        assert_eq!(
            normalize_item(&json!({"type": "function_call", "name": "f", "arguments": null})),
            None
        );
    }

    #[test]
    fn function_call_defaults() {
        let n =
            normalize_item(&json!({"type": "function_call", "name": "f", "arguments": {"a": 1}}))
                .unwrap();
        assert_eq!(n["arguments"], "{\"a\":1}");
        assert!(is_valid_id(n["call_id"].as_str().unwrap()));
        assert!(is_valid_id(n["id"].as_str().unwrap()));
        assert_eq!(n["status"], "completed");
        let kept = normalize_item(&json!({"type": "function_call", "name": "f", "arguments": "{}", "call_id": "call_1", "id": "fc_1", "status": "in_progress"})).unwrap();
        assert_eq!(kept["call_id"], "call_1");
        assert_eq!(kept["id"], "fc_1");
        assert_eq!(kept["status"], "in_progress");
    }

    #[test]
    fn function_call_output_defaults() {
        let n = normalize_item(
            &json!({"type": "function_call_output", "call_id": "c", "output": null}),
        )
        .unwrap();
        assert_eq!(n["output"], "");
        assert_eq!(n["status"], "completed");
        assert_eq!(n["call_id"], "c");
        assert!(is_valid_id(n["id"].as_str().unwrap()));
        let n = normalize_item(&json!({"type": "function_call_output", "output": {"temp": 21}}))
            .unwrap();
        assert_eq!(n["output"], "{\"temp\":21}");
        assert!(is_valid_id(n["call_id"].as_str().unwrap()));
        let n = normalize_item(&json!({"type": "function_call_output", "output": 5})).unwrap();
        assert_eq!(n["output"], "5");
    }

    #[test]
    fn reasoning_shapes() {
        let n = normalize_item(&json!({"type": "reasoning", "content": "thought", "summary": "s", "encrypted_content": "gAAA"})).unwrap();
        assert_eq!(
            n["content"],
            json!([{"type": "reasoning_text", "text": "thought"}])
        );
        assert_eq!(n["summary"], json!(["s"]));
        assert_eq!(n["encrypted_content"], "gAAA");
        assert_eq!(n["status"], "completed");
        let n = normalize_item(
            &json!({"type": "reasoning", "id": "rs_1", "content": "", "summary": null}),
        )
        .unwrap();
        assert_eq!(n["content"], json!([]));
        assert_eq!(n["summary"], json!([]));
        assert_eq!(n["id"], "rs_1");
        let parts = json!([{"type": "summary_text", "text": "a"}]);
        let n = normalize_item(
            &json!({"type": "reasoning", "summary": parts.clone(), "content": parts.clone()}),
        )
        .unwrap();
        assert_eq!(n["summary"], parts);
        assert_eq!(n["content"], parts);
    }

    #[test]
    fn tool_call_shapes_and_passthrough() {
        let n = normalize_item(&json!({"type": "file_search_call", "queries": "q"})).unwrap();
        assert_eq!(n["queries"], json!([]));
        let n = normalize_item(&json!({"type": "web_search_call", "action": "search"})).unwrap();
        assert_eq!(n["action"], json!({}));
        assert_eq!(n["status"], "completed");
        let other = json!({"type": "mcp_call", "x": [1]});
        assert_eq!(normalize_item(&other), Some(other));
        assert!(is_non_replayable("Web_Search_Call"));
        assert!(!is_non_replayable("function_call"));
    }
}
