//! Orchestration of one request: settings, model, history replay, translation, the rounds
//! of upstream requests, and the port to the Python host.

mod admission;
mod artifact_location;
mod artifact_store;
mod artifacts;
mod cards;
mod chat;
pub(crate) mod entry;
mod fault_hook;
mod gate;
pub mod history;
pub(crate) mod host;
mod images;
mod intake;
pub(crate) mod models;
pub(crate) mod notices;
mod placement;
pub(crate) mod probe;
mod request;
mod retry;
mod round_mapper;
mod routing;
pub(crate) mod sink;
mod target;
pub(crate) mod tool_offer;
mod tool_rounds;
pub(crate) mod tool_runner;
mod turn;

pub use artifacts::ArtifactSession;
pub use chat::{run, Outcome};
pub use host::{Host, HostCall, HostError, NoHost};
pub use request::ChatRequest;
pub use routing::{nearest_effort, Routing};
pub use sink::{CollectSink, Sink};
pub use turn::{run_turn, TurnInput, TurnResult};
