//! What the pipe adds to each request it sends: limits, transforms, web search,
//! Anthropic specifics, and which Open WebUI identifiers are passed on.

use super::raw::Raw;

/// What the pipe adds to each request it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundSettings {
    /// Send `max_output_tokens` (the request's limit, capped by the catalog's); off sends none.
    pub use_model_max_output_tokens: bool,
    /// OpenRouter's `middle-out` transform unless the request chose its own.
    pub auto_context_trimming: bool,
    /// Results per web search; `None` leaves it to OpenRouter.
    pub web_search_max_results: Option<i64>,
    /// Options for Claude models.
    pub anthropic: AnthropicSettings,
    /// Which Open WebUI ids are passed on.
    pub identifiers: IdentifierSettings,
}

/// Claude-only request options.
#[derive(Debug, Clone, PartialEq)]
pub struct AnthropicSettings {
    /// Mark the system prompt and recent user messages cacheable.
    pub prompt_caching: bool,
    /// `5m` or `1h`.
    pub prompt_cache_ttl: &'static str,
    /// Send the beta header that lets Claude think between tool calls.
    pub interleaved_thinking: bool,
}

/// Which Open WebUI identifiers are sent to OpenRouter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdentifierSettings {
    /// `SEND_END_USER_ID`: the user id as `user` and in metadata.
    pub end_user_id: bool,
    /// `SEND_SESSION_ID`: the session id as `session_id` and in metadata.
    pub session_id: bool,
    /// `SEND_CHAT_ID`: the chat id in metadata.
    pub chat_id: bool,
    /// `SEND_MESSAGE_ID`: the message id in metadata.
    pub message_id: bool,
}

impl OutboundSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        Self {
            use_model_max_output_tokens: raw.bool("USE_MODEL_MAX_OUTPUT_TOKENS"),
            auto_context_trimming: raw.bool("AUTO_CONTEXT_TRIMMING"),
            web_search_max_results: raw.optional_int("WEB_SEARCH_MAX_RESULTS"),
            anthropic: AnthropicSettings {
                prompt_caching: raw.bool("ENABLE_ANTHROPIC_PROMPT_CACHING"),
                prompt_cache_ttl: match raw.choice("ANTHROPIC_PROMPT_CACHE_TTL").as_str() {
                    "1h" => "1h",
                    _ => "5m",
                },
                interleaved_thinking: raw.bool("ENABLE_ANTHROPIC_INTERLEAVED_THINKING"),
            },
            identifiers: IdentifierSettings {
                end_user_id: raw.bool("SEND_END_USER_ID"),
                session_id: raw.bool("SEND_SESSION_ID"),
                chat_id: raw.bool("SEND_CHAT_ID"),
                message_id: raw.bool("SEND_MESSAGE_ID"),
            },
        }
    }
}
