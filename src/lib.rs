//! Engine of the Open WebUI pipe for OpenRouter's Responses API.
//!
//! The core (everything but [`bindings`]) is plain Rust, testable with `cargo test`
//! and no Python; `bindings` is the one thin PyO3 layer.

pub mod errors;
pub mod sse;
pub mod stream;
pub mod valves;
