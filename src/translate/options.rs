//! Request options besides messages and reasoning: sampling, output limits, context
//! trimming, structured output, the web plugin and the identifier valves.

use serde_json::{json, Map, Value};

use super::context::TranslateContext;

/// OpenRouter's limits for `metadata` (pairs, key and value length) and ids.
const MAX_METADATA_VALUE: usize = 512;
const MAX_ID: usize = 128;

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Bool(_) => None,
        other => number(other).map(|f| f.round() as i64),
    }
}

/// `temperature`, `top_p`, `top_k`, penalties: copied when the model accepts them.
pub fn sampling(chat_body: &Value, ctx: &TranslateContext, body: &mut Map<String, Value>) {
    for field in [
        "temperature",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
    ] {
        if let Some(n) = chat_body.get(field).and_then(number) {
            if ctx.supports(field) {
                body.insert(field.into(), json!(n));
            }
        }
    }
    if let Some(k) = chat_body.get("top_k").and_then(integer) {
        if ctx.supports("top_k") {
            body.insert("top_k".into(), json!(k));
        }
    }
}

/// The options of the chat body that the Responses endpoint does not take but Chat
/// Completions does, kept as the request gave them (whole numbers rounded), for a chat
/// that goes to `/chat/completions`. Nothing is checked against the model: OpenRouter
/// ignores what a provider does not support.
pub fn chat_only(chat_body: &Value) -> Map<String, Value> {
    const AS_GIVEN: [&str; 12] = [
        "stop",
        "min_p",
        "top_a",
        "repetition_penalty",
        "logit_bias",
        "logprobs",
        "structured_outputs",
        "web_search_options",
        "provider",
        "route",
        "modalities",
        "image_config",
    ];
    let mut out = Map::new();
    for key in AS_GIVEN {
        if let Some(v) = chat_body.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    for key in ["seed", "top_logprobs"] {
        if let Some(n) = chat_body.get(key).and_then(integer) {
            out.insert(key.into(), json!(n));
        }
    }
    out
}

/// `max_output_tokens`: with `USE_MODEL_MAX_OUTPUT_TOKENS`, the request's own limit or
/// else the model's maximum from the catalog; without it, no limit is sent (OpenRouter
/// then uses the model's own default and answers are not cut short by Open WebUI's
/// task defaults).
pub fn output_limit(chat_body: &Value, ctx: &TranslateContext, body: &mut Map<String, Value>) {
    if !ctx.settings.outbound.use_model_max_output_tokens {
        return;
    }
    let requested = ["max_output_tokens", "max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|f| chat_body.get(*f).and_then(integer))
        .filter(|n| *n > 0);
    let catalog = ctx.model.and_then(|m| m.top_provider.max_completion_tokens);
    let limit = match (requested, catalog) {
        (Some(r), Some(c)) => Some((r as u64).min(c)),
        (Some(r), None) => Some(r as u64),
        (None, c) => c,
    };
    if let Some(limit) = limit {
        body.insert("max_output_tokens".into(), json!(limit));
    }
}

/// `transforms: ["middle-out"]` unless the request chose its own transforms.
pub fn context_trimming(chat_body: &Value, ctx: &TranslateContext, body: &mut Map<String, Value>) {
    match chat_body.get("transforms") {
        Some(Value::Array(list)) => {
            body.insert("transforms".into(), Value::Array(list.clone()));
        }
        _ if ctx.settings.outbound.auto_context_trimming => {
            body.insert("transforms".into(), json!(["middle-out"]));
        }
        _ => {}
    }
}

/// `text` of the Responses request: the request's own valid `text.format`, else its
/// `response_format` (chat form) converted, when the model takes structured output; and
/// `verbosity` (`text.verbosity`, else the chat-style `verbosity`) when it is a level.
pub fn structured_output(chat_body: &Value, ctx: &TranslateContext, body: &mut Map<String, Value>) {
    let mut text = Map::new();
    // A Responses-style `text` in the request: its valid `format` wins over
    // `response_format`, as in the reference pipe.
    let given = chat_body.get("text").and_then(Value::as_object);
    let given_format = given
        .and_then(|t| t.get("format"))
        .and_then(Value::as_object)
        .and_then(valid_text_format);
    let structured = ctx.supports("response_format") || ctx.supports("structured_outputs");
    let format = match given_format {
        Some(f) => Some(f),
        None => chat_body
            .get("response_format")
            .and_then(Value::as_object)
            .and_then(response_format_to_text),
    };
    if let Some(format) = format.filter(|_| structured) {
        text.insert("format".into(), format);
    }
    let verbosity = given
        .and_then(|t| t.get("verbosity"))
        .or_else(|| chat_body.get("verbosity"))
        .and_then(Value::as_str)
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| matches!(v.as_str(), "low" | "medium" | "high"));
    if let Some(v) = verbosity {
        text.insert("verbosity".into(), json!(v));
    }
    if !text.is_empty() {
        body.insert("text".into(), Value::Object(text));
    }
}

/// A Responses `text.format` as given, when it is one OpenRouter takes.
fn valid_text_format(format: &Map<String, Value>) -> Option<Value> {
    match format.get("type").and_then(Value::as_str)? {
        "text" | "json_object" => Some(Value::Object(format.clone())),
        "json_schema" => {
            let named = format
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.trim().is_empty());
            (named && format.get("schema").is_some_and(Value::is_object))
                .then(|| Value::Object(format.clone()))
        }
        _ => None,
    }
}

/// A Chat Completions `response_format` in the Responses `text.format` form.
fn response_format_to_text(format: &Map<String, Value>) -> Option<Value> {
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Some(json!({"type": "text"})),
        Some("json_object") => Some(json!({"type": "json_object"})),
        Some("json_schema") => {
            let spec = format.get("json_schema").and_then(Value::as_object);
            let name = spec
                .and_then(|s| s.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let schema = spec.and_then(|s| s.get("schema")).filter(|s| s.is_object());
            match schema {
                Some(schema) if !name.is_empty() => {
                    let mut out = json!({"type": "json_schema", "name": name, "schema": schema});
                    for key in ["description", "strict"] {
                        if let Some(v) = spec.and_then(|s| s.get(key)).filter(|v| !v.is_null()) {
                            out[key] = v.clone();
                        }
                    }
                    Some(out)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether OpenRouter offers web search for this model (the catalog prices it).
pub fn model_has_web_search(ctx: &TranslateContext) -> bool {
    ctx.model
        .is_some_and(|m| m.pricing.get("web_search").is_some_and(|p| !p.is_null()))
}

/// The request's own `plugins` (objects with an `id`, e.g. a model's custom `file-parser`
/// settings), plus the OpenRouter `web` plugin when the chat's "OpenRouter Search" toggle
/// is on (`features.openrouter_web_search`, set by that filter) and the model supports it
/// (never with `minimal` effort, which providers reject together with search). Open
/// WebUI's own `features.web_search` is its own search and never turns the plugin on.
/// A model's custom parameter `disable_native_websearch` (or `disable_native_web_search`)
/// set to a true value removes every `web` plugin, as in the reference pipe.
pub fn web_plugin(chat_body: &Value, ctx: &TranslateContext, body: &mut Map<String, Value>) {
    let mut plugins: Vec<Value> = chat_body
        .get("plugins")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| {
            p.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| !id.is_empty())
        })
        .cloned()
        .collect();
    let disabled = web_search_disabled(chat_body);
    let is_web = |p: &Value| p.get("id").and_then(Value::as_str) == Some("web");
    if disabled {
        plugins.retain(|p| !is_web(p));
    } else if wants_web_plugin(ctx, body) && !plugins.iter().any(is_web) {
        let mut plugin = json!({"id": "web"});
        if let Some(n) = ctx.settings.outbound.web_search_max_results {
            plugin["max_results"] = json!(n);
        }
        plugins.push(plugin);
    }
    if !plugins.is_empty() {
        body.insert("plugins".into(), Value::Array(plugins));
    }
}

fn wants_web_plugin(ctx: &TranslateContext, body: &Map<String, Value>) -> bool {
    if !ctx.feature("openrouter_web_search") || ctx.task || !model_has_web_search(ctx) {
        return false;
    }
    let effort = body
        .get("reasoning")
        .and_then(|r| r.get("effort"))
        .and_then(Value::as_str)
        .unwrap_or("");
    effort != "minimal"
}

/// `disable_native_websearch` (the alias is read only when the key is absent or null):
/// `true`, a non-zero number, or `true`/`1`/`yes`/`on` in any case.
fn web_search_disabled(chat_body: &Value) -> bool {
    let value = match chat_body.get("disable_native_websearch") {
        Some(v) if !v.is_null() => v,
        _ => match chat_body.get("disable_native_web_search") {
            Some(v) => v,
            None => return false,
        },
    };
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        ),
        _ => false,
    }
}

fn usable_id(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.chars().count() <= MAX_ID)
        .map(str::to_string)
}

fn truncate(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

/// `user`, `session_id` and `metadata` from the identifier valves, within OpenRouter's
/// limits. Whatever the client sent in those fields is never forwarded.
pub fn identifiers(ctx: &TranslateContext, body: &mut Map<String, Value>) {
    let send = ctx.settings.outbound.identifiers;
    let mut metadata = Map::new();
    if send.end_user_id {
        if let Some(user) = usable_id(ctx.user_id) {
            body.insert("user".into(), json!(user));
            metadata.insert("user_id".into(), json!(user));
        }
    }
    if send.session_id {
        if let Some(session) = usable_id(ctx.session_id) {
            body.insert("session_id".into(), json!(session));
            metadata.insert("session_id".into(), json!(session));
        }
    }
    if send.chat_id {
        if let Some(chat) = ctx.chat_id.map(str::trim).filter(|c| !c.is_empty()) {
            metadata.insert("chat_id".into(), json!(truncate(chat, MAX_METADATA_VALUE)));
        }
    }
    if send.message_id {
        if let Some(message) = ctx.message_id.map(str::trim).filter(|m| !m.is_empty()) {
            metadata.insert(
                "message_id".into(),
                json!(truncate(message, MAX_METADATA_VALUE)),
            );
        }
    }
    if !metadata.is_empty() {
        body.insert("metadata".into(), Value::Object(metadata));
    }
}

/// OpenRouter's model fallback list: the body's `models` (strings or one comma-separated
/// string, tried in order after `model` when it fails), plus a comma-separated `model_fallback` as the reference pipe
/// accepts it. Blank and repeated entries are dropped; nothing is sent when none remain.
pub fn model_fallbacks(chat_body: &Value, body: &mut Map<String, Value>) {
    let listed = chat_body
        .get("models")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    // A model's custom parameter arrives as text: `models` may be comma-separated too.
    let listed_csv = chat_body
        .get("models")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',');
    let csv = chat_body
        .get("model_fallback")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',');
    let mut models: Vec<String> = Vec::new();
    for model in listed
        .chain(listed_csv)
        .chain(csv)
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        if !models.iter().any(|m| m == model) {
            models.push(model.to_string());
        }
    }
    if !models.is_empty() {
        body.insert("models".into(), json!(models));
    }
}
