//! Request translation: Open WebUI's chat-completions body → OpenRouter Responses body.
//! It knows nothing of stored artifacts: the engine hands it the conversation replayed.

pub mod anthropic;
pub mod body;
pub mod context;
pub mod messages;
pub mod options;
pub mod reasoning;

pub use body::{build, Outbound};
pub use context::TranslateContext;
pub use messages::to_input;
