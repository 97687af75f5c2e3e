//! Engine of the Open WebUI pipe for OpenRouter's Responses API.
//!
//! The core (everything but [`bindings`]) is plain Rust, testable with `cargo test`
//! and no Python; `bindings` is the one thin PyO3 layer.

// Unit tests link the dev-dependencies too, so the check applies to the library build.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod artifacts;
pub mod bindings;
pub mod catalog;
pub mod emit;
pub mod engine;
pub mod errors;
pub mod http;
pub mod ids;
pub mod logsink;
pub mod runtime;
pub mod sse;
pub mod stream;
pub mod time;
pub mod translate;
pub mod valves;
