//! Engine of the Open WebUI pipe for OpenRouter's Responses API.
//!
//! The product is the Python extension `openrouter_pipe._native`, defined in the private
//! `bindings` module (the one thin PyO3 layer). Everything else is plain Rust, testable
//! with `cargo test` and no Python.
//!
//! The public surface is curated: modules stay private behind the re-exports below, and
//! what is public is what the integration tests, benches and examples drive on its own.
//!
//! * [`engine`]: one chat answer: the request ([`engine::ChatRequest`]), one upstream
//!   round ([`engine::run_turn`]), the sinks, the host port, history replay.
//! * [`translate`]: Open WebUI's chat-completions body → the Responses request body.
//! * [`sse`] and [`stream`]: response bytes → SSE frames → [`Emit`]s → Open WebUI items.
//! * [`tools`]: the tool definitions a model is offered (Open WebUI specs → Responses
//!   tools, the strict-schema transform), free of I/O.
//! * [`catalog`]: OpenRouter's model catalog, cached process-wide.
//! * [`artifacts`]: reasoning and tool items stored between turns, byte-compatible with
//!   the reference pipe's rows.
//! * [`errors`]: the error cards a user sees.
//! * [`fetch`]: SSRF-safe URL vetting and the guarded download (no private networks).
//! * [`intake`]: the Sans-IO rules of file, image, audio and video intake (data URLs,
//!   size guards, Open WebUI file links, status texts).
//! * [`valves`]: the typed settings built from the admin and user valves.
//! * At the root: the output vocabulary ([`Emit`]) every layer produces or consumes, and
//!   the typed failure of one upstream request ([`UpstreamError`]).

// Unit tests link the dev-dependencies too, so the check applies to the library build.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![warn(missing_docs)]

pub mod artifacts;
pub mod catalog;
pub mod engine;
pub mod errors;
pub mod fetch;
pub mod intake;
pub mod scaleout;
pub mod sse;
pub mod stream;
pub mod tools;
pub mod translate;
pub mod valves;

mod bindings;
mod emit;
mod http;
mod ids;
mod logsink;
mod runtime;
pub mod sessionlog;
mod time;

pub use emit::{Emit, FunctionCall, LogLevel, NoticeLevel};
pub use http::{StatusClass, UpstreamError};
