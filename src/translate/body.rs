//! The outbound `/responses` request body, built from Open WebUI's chat body.
//!
//! Only fields OpenRouter's Responses endpoint understands, and that the target model
//! supports, are sent (an explicit allowlist); everything else is dropped. The
//! conversation arrives already converted (`input`): where it came from is the engine's
//! business.

use serde_json::{json, Map, Value};

use super::context::TranslateContext;
use super::{anthropic, options, reasoning};

/// A ready request: the JSON body and any extra headers it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// The JSON body for `POST /responses`.
    pub body: Value,
    /// Headers the body needs (Anthropic beta flags), beside the usual ones.
    pub headers: Vec<(String, String)>,
    /// The request's options that only Chat Completions takes (`stop`, `seed`,
    /// `logit_bias`, …): added when the chat goes to `/chat/completions`.
    pub chat_only: Map<String, Value>,
}

impl Outbound {
    /// A request with this body and nothing else.
    pub fn new(body: Value) -> Self {
        Self {
            body,
            headers: Vec::new(),
            chat_only: Map::new(),
        }
    }
}

/// Builds the request for `ctx.model_id` from the chat-completions body's options and
/// the conversation as Responses `input` items (its `messages` are not read here).
pub fn build(chat_body: &Value, mut input: Vec<Value>, ctx: &TranslateContext) -> Outbound {
    anthropic::cache_breakpoints(ctx, &mut input);
    let mut body = Map::new();
    body.insert("model".into(), json!(ctx.model_id));
    body.insert("input".into(), Value::Array(input));
    body.insert("stream".into(), json!(ctx.stream));
    options::model_fallbacks(chat_body, &mut body);
    options::sampling(chat_body, ctx, &mut body);
    options::output_limit(chat_body, ctx, &mut body);
    reasoning::apply(chat_body, ctx, &mut body);
    options::context_trimming(chat_body, ctx, &mut body);
    options::structured_output(chat_body, ctx, &mut body);
    options::web_plugin(chat_body, ctx, &mut body);
    options::identifiers(ctx, &mut body);
    Outbound {
        body: Value::Object(body),
        headers: anthropic::extra_headers(ctx),
        chat_only: options::chat_only(chat_body),
    }
}
