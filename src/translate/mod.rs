//! Request translation: Open WebUI's chat-completions body → OpenRouter Responses body.

pub mod anthropic;
pub mod body;
pub mod context;
pub mod history;
pub mod messages;
pub mod options;
pub mod reasoning;

pub use body::{build, Outbound};
pub use context::TranslateContext;
pub use history::History;
