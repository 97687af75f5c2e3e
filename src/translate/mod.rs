//! Request translation: Open WebUI's chat-completions body → OpenRouter Responses body.

pub mod body;
pub mod messages;
