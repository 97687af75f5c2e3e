//! Orchestration of one request: settings, model, translation, transport, mapping.

mod artifact_store;
pub mod artifacts;
pub mod chat;
pub mod entry;
pub mod notices;
pub mod request;
pub mod sink;

pub use chat::{run, Outcome};
pub use request::ChatRequest;
pub use sink::{CollectSink, Sink, StreamSink};
