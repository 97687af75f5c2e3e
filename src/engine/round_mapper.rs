//! The mapper of one round, for whichever API the round went to: the Responses mapper
//! itself, or the Chat Completions mapper that restates chunks as Responses events.
//! [`super::turn`] drives either through this one type.

use crate::emit::Emit;
use crate::stream::mapper::{MapperOptions, ResponseMapper};
use crate::stream::ChatCompletionsMapper;
use crate::valves::Endpoint;

/// A round's mapper. One lives per round inside the answer's future, so the variants'
/// sizes differing by a few hundred bytes costs nothing worth a heap allocation.
#[allow(clippy::large_enum_variant)]
pub enum RoundMapper {
    /// `/responses` events.
    Responses(ResponseMapper),
    /// `/chat/completions` chunks.
    ChatCompletions(ChatCompletionsMapper),
}

impl RoundMapper {
    /// The mapper for a round sent to `endpoint`.
    pub fn new(endpoint: Endpoint, options: MapperOptions) -> Self {
        match endpoint {
            Endpoint::Responses => Self::Responses(ResponseMapper::new(options)),
            Endpoint::ChatCompletions => Self::ChatCompletions(ChatCompletionsMapper::new(options)),
        }
    }

    /// One SSE `data` payload; true once the answer ended.
    pub fn on_data(&mut self, data: &str, out: &mut Vec<Emit>) -> bool {
        match self {
            Self::Responses(m) => m.on_data(data, out),
            Self::ChatCompletions(m) => m.on_data(data, out),
        }
    }

    /// `data: [DONE]` was read.
    pub fn on_done(&mut self) {
        if let Self::ChatCompletions(m) = self {
            m.on_done();
        }
    }

    /// The body ended, possibly with a transport error.
    pub fn finish(&mut self, transport_error: Option<&str>, out: &mut Vec<Emit>) {
        match self {
            Self::Responses(m) => m.finish(transport_error, out),
            Self::ChatCompletions(m) => m.finish(transport_error, out),
        }
    }

    /// A whole JSON answer (`stream: false`, or a document where a stream was asked).
    pub fn on_complete_body(&mut self, body: &str, out: &mut Vec<Emit>) {
        match self {
            Self::Responses(m) => m.on_complete_body(body, out),
            Self::ChatCompletions(m) => m.on_complete_body(body, out),
        }
    }

    /// The round's failure when it is worth retrying (see
    /// [`ResponseMapper::retryable_failure`]).
    pub fn retryable_failure(&self) -> Option<(u16, serde_json::Value)> {
        match self {
            Self::Responses(m) => m.retryable_failure(),
            Self::ChatCompletions(m) => m.inner.retryable_failure(),
        }
    }

    /// The Responses mapper holding the round's results.
    pub fn into_results(self) -> ResponseMapper {
        match self {
            Self::Responses(m) => m,
            Self::ChatCompletions(m) => m.inner,
        }
    }
}
