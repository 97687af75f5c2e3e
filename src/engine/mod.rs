//! Orchestration of one request: settings, model, history replay, translation, the rounds
//! of upstream requests, and the port to the Python host.

mod artifact_store;
pub mod artifacts;
pub mod chat;
pub mod entry;
pub mod history;
pub mod host;
pub mod models;
pub mod notices;
mod placement;
pub mod probe;
pub mod request;
pub mod sink;
pub mod target;
pub mod tool_offer;
mod tool_rounds;
pub mod tool_runner;
pub mod turn;

pub use chat::{run, Outcome};
pub use host::{Host, HostCall, HostError, NoHost};
pub use request::ChatRequest;
pub use sink::{CollectSink, Sink, StreamSink};
pub use turn::{run_turn, TurnInput, TurnResult};
