//! How the pipe runs the tools a model calls: who runs them (the pipe or Open WebUI),
//! how many rounds, how many at once, and how long each may take.

use std::time::Duration;

use super::raw::Raw;

/// Who runs the tools a model calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolMode {
    /// The pipe runs them and continues the answer with their results.
    Pipeline,
    /// The pipe streams the calls as `delta.tool_calls`; Open WebUI runs them and calls
    /// the pipe again with `role: tool` messages.
    OpenWebUi,
}

/// Running the tools a model calls.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSettings {
    /// Who runs them (`TOOL_EXECUTION_MODE`).
    pub mode: ToolMode,
    /// Send tool schemas in strict mode (the strict-schema transform).
    pub strict: bool,
    /// Most upstream rounds that may end in tool calls within one answer.
    pub max_rounds: usize,
    /// Markdown appended when `max_rounds` is reached; empty uses the built-in note.
    pub limit_template: String,
    /// Most calls running at once within one request.
    pub parallel_per_request: usize,
    /// Most calls running at once across all requests.
    pub parallel_global: usize,
    /// Most independent calls of one tool run as one batch.
    pub batch_cap: usize,
    /// One attempt of one call.
    pub call_timeout: Duration,
    /// A whole batch; never below `call_timeout`.
    pub batch_timeout: Duration,
    /// No call finishing for this long cancels the rest.
    pub idle_timeout: Option<Duration>,
}

impl ToolSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        let call_timeout = secs(raw.int("TOOL_TIMEOUT_SECONDS"));
        Self {
            mode: match raw.choice("TOOL_EXECUTION_MODE").as_str() {
                "Open-WebUI" => ToolMode::OpenWebUi,
                _ => ToolMode::Pipeline,
            },
            strict: raw.bool("ENABLE_STRICT_TOOL_CALLING"),
            max_rounds: raw.int("MAX_FUNCTION_CALL_LOOPS").max(1) as usize,
            limit_template: raw.str("MAX_FUNCTION_CALL_LOOPS_REACHED_TEMPLATE"),
            parallel_per_request: raw.int("MAX_PARALLEL_TOOLS_PER_REQUEST").max(1) as usize,
            parallel_global: raw.int("MAX_PARALLEL_TOOLS_GLOBAL").max(1) as usize,
            batch_cap: raw.int("TOOL_BATCH_CAP").max(1) as usize,
            call_timeout,
            batch_timeout: secs(raw.int("TOOL_BATCH_TIMEOUT_SECONDS")).max(call_timeout),
            idle_timeout: raw
                .optional_int("TOOL_IDLE_TIMEOUT_SECONDS")
                .filter(|s| *s > 0)
                .map(secs),
        }
    }
}

fn secs(value: i64) -> Duration {
    Duration::from_secs(value.max(1) as u64)
}
