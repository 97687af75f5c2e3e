//! Request translation: Open WebUI's chat-completions body → OpenRouter Responses body.
//! It knows nothing of stored artifacts: the engine hands it the conversation replayed.

mod anthropic;
mod body;
mod context;
pub(crate) mod messages;
mod options;
mod reasoning;

pub use body::{build, Outbound};
pub use context::TranslateContext;
pub use messages::to_input;
