//! A deliberate internal failure for tests of the internal-error card: without it no
//! real input reaches a panic (that would be a bug to fix), so the path from a panic to
//! the `INTERNAL_ERROR_TEMPLATE` card could not be tested against the built wheel.
//!
//! Inert in production: it acts only when the Open WebUI process was started with
//! `OPENROUTER_PIPE_TEST_PANIC_MODEL` set, and then only for requests whose model id
//! contains that text. No valve, body field or user input can turn it on.

use super::request::ChatRequest;

/// The environment variable naming the model whose requests panic.
const PANIC_MODEL_ENV: &str = "OPENROUTER_PIPE_TEST_PANIC_MODEL";

/// Panics when the test hook names this request's model.
pub fn panic_if_asked(req: &ChatRequest) {
    let Some(needle) = std::env::var_os(PANIC_MODEL_ENV) else {
        return;
    };
    let needle = needle.to_string_lossy();
    if !needle.is_empty() && req.model_suffix().contains(needle.as_ref()) {
        panic!("{PANIC_MODEL_ENV} asked for a panic while answering");
    }
}
