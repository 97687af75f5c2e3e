//! Incremental Server-Sent Events parser (WHATWG rules) fed with raw network reads.
//! STUB: implemented by the streaming work; the signatures are the contract.

/// One dispatched SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseFrame {
    /// The joined `data:` lines of one event (never empty).
    Data(String),
    /// The `data: [DONE]` sentinel.
    Done,
}

/// Feeds on arbitrary byte chunks (splits anywhere, even inside UTF-8 sequences or
/// between CR and LF) and yields complete events.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `chunk` and pushes every event it completes onto `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseFrame>) {
        self.buf.extend_from_slice(chunk);
        let _ = out;
        todo!("SSE parser")
    }

    /// End of input: dispatches nothing incomplete (a trailing unterminated event is dropped
    /// unless it is a complete `data:` line set, per spec §8 of the OpenRouter notes).
    pub fn finish(&mut self, out: &mut Vec<SseFrame>) {
        let _ = out;
        todo!("SSE parser finish")
    }
}
