//! Responses API stream events -> [`Emit`]s. STUB: the signatures are the contract.

use super::emit::Emit;

/// Where live reasoning is shown (`THINKING_OUTPUT_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThinkingMode {
    #[default]
    OpenWebUi,
    Status,
    Both,
}

/// Per-request options for the mapper.
#[derive(Debug, Clone, Default)]
pub struct MapperOptions {
    pub thinking_mode: ThinkingMode,
    /// `SHOW_FINAL_USAGE_STATUS`: detailed usage line, else "Thought for N seconds".
    pub show_final_usage: bool,
    /// Display label of the model, used in error cards ("OpenAI: GPT-4o mini").
    pub model_label: String,
}

/// How the stream ended, as far as the mapper can tell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Termination {
    /// Still reading.
    #[default]
    Open,
    Completed,
    /// `response.incomplete` (e.g. max_output_tokens).
    Incomplete(String),
    /// Provider failure (response.failed / error event); the card was emitted.
    Failed,
    /// EOF or a broken connection before a terminal event, with unfinished items.
    Interrupted,
}

/// Stateful translator for one `/responses` stream.
#[derive(Debug, Default)]
pub struct ResponseMapper {
    pub options: MapperOptions,
    pub text: String,
    pub termination: Termination,
}

impl ResponseMapper {
    pub fn new(options: MapperOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }

    /// Handles the `data` payload of one SSE event. Returns true once a terminal event was seen.
    pub fn on_data(&mut self, data: &str, out: &mut Vec<Emit>) -> bool {
        let _ = (data, out);
        todo!("mapper")
    }

    /// The body ended (after `[DONE]`, or at EOF without it, or with a transport error
    /// described by `transport_error`). Emits what closes the answer: final status line,
    /// usage, truncation notes or an "interrupted" card.
    pub fn finish(&mut self, transport_error: Option<&str>, out: &mut Vec<Emit>) {
        let _ = (transport_error, out);
        todo!("mapper finish")
    }

    /// Maps a complete non-streaming `/responses` JSON body to the same emits a stream
    /// of it would have produced (text, reasoning, sources, usage, final status).
    pub fn on_complete_body(&mut self, body: &str, out: &mut Vec<Emit>) {
        let _ = (body, out);
        todo!("mapper non-stream")
    }
}
