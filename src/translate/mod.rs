//! Request translation: Open WebUI's chat-completions body → OpenRouter Responses body.
//! It knows nothing of stored artifacts: the engine hands it the conversation replayed.

mod anthropic;
mod body;
mod chat_completions;
mod context;
pub(crate) mod messages;
mod options;
mod reasoning;

pub use body::{build, Outbound};
pub use chat_completions::to_chat_completions;
pub use context::TranslateContext;
pub use messages::to_input;
#[cfg(test)]
pub(crate) use options::chat_only as chat_only_options;
