//! The already-built Responses request body, rewritten for `POST /chat/completions`.
//!
//! The pipe always builds a Responses body first (`super::build`, the tool offer, tool
//! rounds, fallback adjustments); a chat sent through Chat Completions is that same
//! body translated here, so both routes ask for the same thing. Pure: JSON in, JSON out.
//!
//! Mapping (OpenRouter's two skins of one API): `instructions` → a leading system
//! message; `input` items → `messages` (`function_call` → assistant `tool_calls`,
//! `function_call_output` → role `tool`, `reasoning` items → `reasoning_details` of the
//! next assistant message); flat function tools → nested ones; `max_output_tokens` →
//! `max_tokens`; `text.format` → `response_format`; `text.verbosity` → `verbosity`.
//! `model`, `models`, `plugins`, `provider`, identifiers, sampling and `reasoning` are
//! copied as they are.

use serde_json::{json, Map, Value};

/// Fields copied unchanged when present.
const COPIED: &[&str] = &[
    "model",
    "models",
    "user",
    "session_id",
    "metadata",
    "plugins",
    "provider",
    "route",
    "debug",
    "transforms",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "top_a",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "repetition_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "reasoning",
    "include_reasoning",
    "reasoning_effort",
    "verbosity",
    "web_search_options",
    "parallel_tool_calls",
    "modalities",
    "image_config",
];

/// The Chat Completions body for a Responses body.
pub fn to_chat_completions(responses: &Value) -> Value {
    let mut out = Map::new();
    let Some(src) = responses.as_object() else {
        return Value::Object(out);
    };
    for key in COPIED {
        if let Some(v) = src.get(*key).filter(|v| !v.is_null()) {
            out.insert((*key).into(), v.clone());
        }
    }
    let stream = src.get("stream").and_then(Value::as_bool).unwrap_or(false);
    out.insert("stream".into(), json!(stream));
    if stream {
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    out.insert("usage".into(), json!({"include": true}));
    if let Some(n) = src.get("max_output_tokens").filter(|v| v.is_number()) {
        out.insert("max_tokens".into(), n.clone());
    }
    if let Some(text) = src.get("text").and_then(Value::as_object) {
        if let Some(format) = text.get("format").and_then(response_format) {
            out.insert("response_format".into(), format);
        }
        if let Some(v) = text.get("verbosity").filter(|v| v.is_string()) {
            out.entry("verbosity").or_insert_with(|| v.clone());
        }
    }
    if let Some(tools) = src.get("tools").and_then(Value::as_array) {
        let tools: Vec<Value> = tools.iter().filter_map(tool).collect();
        if !tools.is_empty() {
            out.insert("tools".into(), Value::Array(tools));
        }
    }
    if let Some(choice) = src.get("tool_choice") {
        out.insert("tool_choice".into(), tool_choice(choice));
    }
    let mut messages = to_messages(src.get("input"));
    if let Some(instructions) = src
        .get("instructions")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        prepend_instructions(&mut messages, instructions);
    }
    out.insert("messages".into(), Value::Array(messages));
    Value::Object(out)
}

/// `text.format` (flat) → `response_format` (the schema nested under `json_schema`).
fn response_format(format: &Value) -> Option<Value> {
    match format.get("type").and_then(Value::as_str)? {
        "text" => Some(json!({"type": "text"})),
        "json_object" => Some(json!({"type": "json_object"})),
        "json_schema" => {
            let mut spec = Map::new();
            for key in ["name", "schema", "strict", "description"] {
                if let Some(v) = format.get(key).filter(|v| !v.is_null()) {
                    spec.insert(key.into(), v.clone());
                }
            }
            Some(json!({"type": "json_schema", "json_schema": spec}))
        }
        _ => None,
    }
}

/// A flat Responses function tool → `{type: function, function: {…}}`; server tools
/// (`openrouter:*`, `web_search*`) pass through unchanged.
fn tool(tool: &Value) -> Option<Value> {
    let kind = tool.get("type").and_then(Value::as_str)?;
    if kind != "function" {
        return Some(tool.clone());
    }
    if tool.get("function").is_some_and(Value::is_object) {
        return Some(tool.clone());
    }
    let name = tool.get("name").and_then(Value::as_str)?;
    let mut function = Map::new();
    function.insert("name".into(), json!(name));
    for key in ["description", "parameters", "strict"] {
        if let Some(v) = tool.get(key).filter(|v| !v.is_null()) {
            function.insert(key.into(), v.clone());
        }
    }
    Some(json!({"type": "function", "function": function}))
}

fn tool_choice(choice: &Value) -> Value {
    match (
        choice.get("type").and_then(Value::as_str),
        choice.get("name").and_then(Value::as_str),
    ) {
        (Some("function"), Some(name)) => json!({"type": "function", "function": {"name": name}}),
        _ => choice.clone(),
    }
}

fn prepend_instructions(messages: &mut Vec<Value>, instructions: &str) {
    if let Some(first) = messages
        .first_mut()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("system"))
    {
        match first.get_mut("content") {
            Some(Value::String(text)) => *text = format!("{instructions}\n\n{text}"),
            Some(Value::Array(parts)) => parts.insert(
                0,
                json!({"type": "text", "text": format!("{instructions}\n\n")}),
            ),
            _ => first["content"] = json!(instructions),
        }
        return;
    }
    messages.insert(0, json!({"role": "system", "content": instructions}));
}

/// Responses `input` → Chat Completions `messages`.
pub fn to_messages(input: Option<&Value>) -> Vec<Value> {
    let items = match input {
        Some(Value::String(text)) => return vec![json!({"role": "user", "content": text})],
        Some(Value::Array(items)) => items,
        _ => return Vec::new(),
    };
    let mut messages: Vec<Value> = Vec::with_capacity(items.len());
    // Reasoning items wait for the assistant message they belong to.
    let mut details: Vec<Value> = Vec::new();
    // Whether the last message is an assistant message that later calls may join.
    let mut open_assistant = false;
    for item in items {
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message");
        match kind {
            "message" => {
                let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
                let mut message = json!({"role": role});
                message["content"] = if role == "assistant" {
                    assistant_content(item.get("content"))
                } else {
                    content(item.get("content"))
                };
                if role == "assistant" {
                    attach_details(&mut message, &mut details);
                }
                for key in ["annotations", "reasoning_details"] {
                    if let Some(v) = item.get(key).filter(|v| !v.is_null()) {
                        message[key] = v.clone();
                    }
                }
                open_assistant = role == "assistant";
                messages.push(message);
            }
            "function_call" => {
                let call = json!({
                    "id": item.get("call_id").and_then(Value::as_str).unwrap_or(""),
                    "type": "function",
                    "function": {
                        "name": item.get("name").and_then(Value::as_str).unwrap_or(""),
                        "arguments": arguments(item.get("arguments")),
                    },
                });
                match messages.last_mut().filter(|_| open_assistant) {
                    Some(last) => {
                        attach_details(last, &mut details);
                        match last.get_mut("tool_calls").and_then(Value::as_array_mut) {
                            Some(calls) => calls.push(call),
                            None => last["tool_calls"] = json!([call]),
                        }
                    }
                    None => {
                        let mut message =
                            json!({"role": "assistant", "content": null, "tool_calls": [call]});
                        attach_details(&mut message, &mut details);
                        messages.push(message);
                        open_assistant = true;
                    }
                }
            }
            "function_call_output" => {
                let output = match item.get("output") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": item.get("call_id").and_then(Value::as_str).unwrap_or(""),
                    "content": output,
                }));
                open_assistant = false;
            }
            "reasoning" => details.extend(reasoning_details(item)),
            _ => {}
        }
    }
    messages
}

fn attach_details(message: &mut Value, details: &mut Vec<Value>) {
    if details.is_empty() {
        return;
    }
    let taken = std::mem::take(details);
    match message
        .get_mut("reasoning_details")
        .and_then(Value::as_array_mut)
    {
        Some(existing) => existing.extend(taken),
        None => message["reasoning_details"] = Value::Array(taken),
    }
}

/// A Responses `reasoning` item as Chat Completions `reasoning_details` entries, so a
/// provider gets its signed or encrypted thinking back. Unsigned reasoning text is
/// left out (Anthropic and Gemini reject it).
pub fn reasoning_details(item: &Value) -> Vec<Value> {
    let format = item.get("format").and_then(Value::as_str);
    let id = item.get("id").and_then(Value::as_str);
    let mut out = Vec::new();
    let mut push = |mut entry: Value| {
        if let Some(f) = format {
            entry["format"] = json!(f);
        }
        entry["index"] = json!(out.len());
        out.push(entry);
    };
    let summary: String = texts(item.get("summary"));
    if !summary.is_empty() {
        push(json!({"type": "reasoning.summary", "summary": summary}));
    }
    let text: String = texts(item.get("content"));
    if let Some(signature) = item.get("signature").and_then(Value::as_str) {
        push(json!({"type": "reasoning.text", "text": text, "signature": signature}));
    }
    if let Some(data) = item.get("encrypted_content").and_then(Value::as_str) {
        let mut entry = json!({"type": "reasoning.encrypted", "data": data});
        if let Some(id) = id {
            entry["id"] = json!(id);
        }
        push(entry);
    }
    out
}

fn texts(parts: Option<&Value>) -> String {
    parts
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn arguments(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::Null) | None => "{}".into(),
        Some(Value::String(_)) => "{}".into(),
        Some(other) => other.to_string(),
    }
}

/// Assistant text as one string (what every provider accepts for earlier answers).
fn assistant_content(content: Option<&Value>) -> Value {
    match content {
        Some(Value::String(s)) => json!(s),
        Some(Value::Array(parts)) => {
            let text: String = parts
                .iter()
                .filter_map(|p| p.get("text").or_else(|| p.get("refusal")))
                .filter_map(Value::as_str)
                .collect();
            json!(text)
        }
        _ => json!(""),
    }
}

/// User, system and developer content: a string stays one; parts are renamed.
fn content(content: Option<&Value>) -> Value {
    match content {
        Some(Value::String(s)) => json!(s),
        Some(Value::Array(parts)) => Value::Array(parts.iter().filter_map(part).collect()),
        _ => json!(""),
    }
}

fn part(part: &Value) -> Option<Value> {
    let kind = part.get("type").and_then(Value::as_str)?;
    match kind {
        "input_text" | "output_text" | "text" => {
            let mut out = json!({"type": "text", "text": part.get("text").and_then(Value::as_str).unwrap_or("")});
            if let Some(cc) = part.get("cache_control").filter(|v| !v.is_null()) {
                out["cache_control"] = cc.clone();
            }
            Some(out)
        }
        "input_image" => {
            let url = part
                .get("image_url")
                .and_then(|u| u.as_str().or_else(|| u.get("url")?.as_str()))?;
            let mut image = json!({"url": url});
            if let Some(detail) = part
                .get("detail")
                .and_then(Value::as_str)
                .filter(|d| matches!(*d, "auto" | "low" | "high"))
            {
                image["detail"] = json!(detail);
            }
            Some(json!({"type": "image_url", "image_url": image}))
        }
        "input_file" => {
            let mut file = Map::new();
            if let Some(name) = part.get("filename").filter(|v| v.is_string()) {
                file.insert("filename".into(), name.clone());
            }
            let data = part
                .get("file_data")
                .or_else(|| part.get("file_url"))
                .filter(|v| v.is_string())?;
            file.insert("file_data".into(), data.clone());
            Some(json!({"type": "file", "file": file}))
        }
        "image_url" | "input_audio" | "video_url" | "file" => Some(part.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
