//! The outbound `/responses` request body, built from Open WebUI's chat body.
//!
//! Only fields OpenRouter's Responses endpoint understands, and that the target model
//! supports, are sent (an explicit allowlist); everything else is dropped.

use serde_json::{json, Map, Value};

use super::context::TranslateContext;
use super::messages::to_input_with;
use super::{anthropic, options, reasoning};

/// A ready request: the JSON body and any extra headers it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    pub body: Value,
    pub headers: Vec<(String, String)>,
    /// Replayed reasoning to delete after a successful answer (`next_reply`).
    pub reasoning_to_delete: Vec<String>,
}

/// Builds the request for `ctx.model_id` from the chat-completions body.
pub fn build(chat_body: &Value, ctx: &TranslateContext) -> Outbound {
    let empty = Vec::new();
    let messages = chat_body
        .get("messages")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let converted = to_input_with(messages, ctx.history);
    let mut input = converted.input;
    anthropic::cache_breakpoints(ctx, &mut input);
    let mut body = Map::new();
    body.insert("model".into(), json!(ctx.model_id));
    body.insert("input".into(), Value::Array(input));
    body.insert("stream".into(), json!(ctx.stream));
    options::sampling(chat_body, ctx, &mut body);
    options::output_limit(chat_body, ctx, &mut body);
    reasoning::apply(chat_body, ctx, &mut body);
    options::context_trimming(chat_body, ctx, &mut body);
    options::structured_output(chat_body, ctx, &mut body);
    options::web_plugin(ctx, &mut body);
    options::identifiers(ctx, &mut body);
    Outbound {
        body: Value::Object(body),
        headers: anthropic::extra_headers(ctx),
        reasoning_to_delete: converted.reasoning_to_delete,
    }
}
