//! User-facing error cards. STUB: the signatures are the contract.

use super::stream::emit::Emit;

/// Context that makes an error card specific.
#[derive(Debug, Clone, Default)]
pub struct ErrorContext {
    /// Display label of the model ("OpenAI: GPT-4o mini"), or empty.
    pub model_label: String,
    /// The OpenRouter model id requested ("openai/gpt-4o-mini").
    pub model_id: String,
}

/// HTTP error before the stream started: returns the emits that end the answer with a
/// readable card (markdown content, a done status, a log line carrying the error id).
pub fn http_error_emits(
    status: u16,
    headers: &[(String, String)],
    body: &str,
    ctx: &ErrorContext,
) -> Vec<Emit> {
    let _ = (status, headers, body, ctx);
    todo!("http error card")
}

/// Transport failure before any byte arrived (connect refused, DNS, TLS, timeout).
pub fn transport_error_emits(detail: &str, timed_out: bool, ctx: &ErrorContext) -> Vec<Emit> {
    let _ = (detail, timed_out, ctx);
    todo!("transport error card")
}
