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

/// Where the hook panics: `answer` (the default) inside the answer, `start` before the
/// request's settings are built (outside the answer's own guard).
const PANIC_AT_ENV: &str = "OPENROUTER_PIPE_TEST_PANIC_AT";

/// Where in a request the hook may panic.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Before the settings are built.
    Start,
    /// While answering.
    Answer,
}

/// Panics when the test hook names this request's model and this stage.
pub fn panic_if_asked(req: &ChatRequest, stage: Stage) {
    let Some(needle) = std::env::var_os(PANIC_MODEL_ENV) else {
        return;
    };
    let asked = match std::env::var(PANIC_AT_ENV).as_deref() {
        Ok("start") => Stage::Start,
        _ => Stage::Answer,
    };
    let needle = needle.to_string_lossy();
    if asked == stage && !needle.is_empty() && req.model_suffix().contains(needle.as_ref()) {
        panic!("{PANIC_MODEL_ENV} asked for a panic while answering");
    }
}
