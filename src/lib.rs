//! Engine of the Open WebUI pipe for OpenRouter's Responses API.
//!
//! The core (everything but [`bindings`]) is plain Rust, testable with `cargo test`
//! and no Python; `bindings` is the one thin PyO3 layer.

pub mod artifacts;
pub mod bindings;
pub mod catalog;
pub mod engine;
pub mod errors;
pub mod http;
pub mod logsink;
pub mod runtime;
pub mod sse;
pub mod stream;
pub mod translate;
pub mod valves;
