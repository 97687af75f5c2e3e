//! One upstream round: send a translated request to `/responses` (or, when the answer's
//! [`Routing`] says so, `/chat/completions`) and turn the answer (event stream or whole
//! document) into emits for a [`Sink`]. The answer loop in
//! [`super::chat`] calls it once per round; a round that got no answer returns the
//! [`UpstreamError`] unrendered, so the loop can retry, fall back or show a card.

use std::time::Instant;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::time::sleep_until;

use super::round_mapper::RoundMapper;
use super::routing::Routing;
use super::sink::{send_all, Sink};
use crate::emit::{Emit, FunctionCall, LogLevel};
use crate::http::body::{collect_capped, is_blank, is_document, read_capped, release_connection};
use crate::http::{self, UpstreamError};
use crate::logsink;
use crate::runtime::pace;
use crate::sse::{SseFrame, SseParser};
use crate::stream::mapper::{MapperOptions, Termination};
use crate::translate::Outbound;
use crate::valves::{Endpoint, Settings};

/// Largest non-streaming body read into memory.
const MAX_JSON_BODY: usize = 64 * 1024 * 1024;

/// What one round sends.
pub struct TurnInput<'a> {
    /// The request's settings (connection, timeouts).
    pub settings: &'a Settings,
    /// The translated request to send.
    pub outbound: &'a Outbound,
    /// An event stream (`stream: true`) or one JSON document.
    pub streaming: bool,
    /// How the answer is mapped (thinking mode, usage of earlier rounds).
    pub mapper: MapperOptions,
    /// Which API the round goes to, and the fallbacks the answer already used.
    pub routing: &'a Routing,
}

/// What one round produced, beyond the emits already sent.
#[derive(Debug, Clone, Default)]
pub struct TurnResult {
    /// How the round ended.
    pub termination: Termination,
    /// Function calls the model asked for, in the order they finished.
    pub function_calls: Vec<FunctionCall>,
    /// Finished non-message output items (reasoning, function calls, web searches).
    pub output_items: Vec<Value>,
    /// This round's usage exactly as OpenRouter reported it.
    pub usage: Option<Value>,
    /// The generation id (`response.id`).
    pub response_id: Option<String>,
    /// The visible text this round added to the answer.
    pub text: String,
}

impl TurnResult {
    /// Whether the model answered (possibly cut short by its output limit).
    pub fn answered(&self) -> bool {
        matches!(
            self.termination,
            Termination::Completed | Termination::Incomplete(_)
        )
    }
}

/// Runs one round. Emits reach `sink` as they are mapped; an error the mapper renders
/// (a failure inside the stream, an interrupted stream) is part of the answer and ends in
/// `termination`. `Err` means nothing was shown yet.
pub async fn run_turn<S: Sink>(
    input: &TurnInput<'_>,
    sink: &mut S,
) -> Result<TurnResult, UpstreamError> {
    let response = loop {
        let endpoint = input.routing.endpoint();
        let body = input.routing.body_for(input.outbound);
        let headers = &input.outbound.headers;
        log_outbound(input, endpoint, &body);
        let send = async {
            match endpoint {
                Endpoint::Responses => {
                    http::post_responses(input.settings, body, headers, input.streaming).await
                }
                Endpoint::ChatCompletions => {
                    http::post_chat_completions(input.settings, body, headers, input.streaming)
                        .await
                }
            }
        };
        let sent = until_answered(send, sink).await;
        match sent {
            Ok(response) => break (response, endpoint),
            // Each fallback applies at most once, so this loop ends.
            Err(failure) => match input.routing.recover(&failure, input.outbound) {
                Some(line) => {
                    if !sink.send(Emit::status(line, false)).await {
                        return Err(failure);
                    }
                    let _ = sink.flush().await;
                }
                None => return Err(failure),
            },
        }
    };
    let (response, endpoint) = response;
    let mut mapper = RoundMapper::new(endpoint, input.mapper.clone());
    if input.streaming {
        if let Some(failure) = pump_stream(response, &mut mapper, sink).await {
            return Err(failure);
        }
    } else {
        let text = read_capped(response, MAX_JSON_BODY).await;
        logsink::log_with(LogLevel::Debug, || {
            format!("OpenRouter payload: {}", logsink::elide_inline_data(&text))
        });
        let mut emits = Vec::new();
        mapper.on_complete_body(&text, &mut emits);
        if let Some(failure) = retry_instead(&mapper) {
            return Err(failure);
        }
        send_all(sink, emits).await;
    }
    let mapper = mapper.into_results();
    Ok(TurnResult {
        termination: mapper.termination,
        function_calls: mapper.function_calls,
        output_items: mapper.output_items,
        usage: mapper.usage,
        response_id: mapper.response_id,
        text: mapper.text,
    })
}

/// Waits for the response's head while keeping the sink's deadlines: a model (or a
/// provider queue) that takes seconds to answer at all still gets its opening and waiting
/// statuses on time, not all at once when the first byte arrives.
async fn until_answered<S: Sink, T>(send: impl std::future::Future<Output = T>, sink: &mut S) -> T {
    tokio::pin!(send);
    loop {
        let Some(deadline) = sink.deadline() else {
            return send.await;
        };
        tokio::select! {
            sent = &mut send => return sent,
            _ = sleep_until(deadline.into()) => {
                // Nobody listening any more: the answer ends at its next send.
                let _ = sink.flush().await;
            }
        }
    }
}

/// Reads the SSE body, feeding the mapper and flushing coalesced text on time.
///
/// A stream (or a document sent instead of one) that fails with a retryable code before
/// anything visible was sent is not rendered: its failure comes back as the
/// [`UpstreamError`] the same HTTP status would have been, so the answer loop retries it
/// (or shows that status's card).
async fn pump_stream<S: Sink>(
    response: reqwest::Response,
    mapper: &mut RoundMapper,
    sink: &mut S,
) -> Option<UpstreamError> {
    let mut body = response.bytes_stream();
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    let mut emits = Vec::new();
    // Whether the connection task got one turn to hand over frames it already holds
    // before held text is flushed (so a batch read after a nap goes out as one chunk).
    let mut drained = false;
    // Whether the body was checked for being a whole document instead of an event stream.
    let mut sniffed = false;
    // Checked once per round: a filtered-out event costs one comparison.
    let debug = logsink::enabled(LogLevel::Debug);
    // Whether text, reasoning, a source or a call already reached the sink.
    let mut shown = false;
    loop {
        let next = match sink.deadline() {
            Some(deadline) => tokio::select! {
                biased;
                next = body.next() => next,
                _ = until(pace::due(deadline)) => {
                    if !drained {
                        drained = true;
                        tokio::task::yield_now().await;
                        continue;
                    }
                    drained = false;
                    if !sink.flush().await { return None; }
                    continue;
                }
            },
            None => body.next().await,
        };
        drained = false;
        let mut ended = false;
        let mut transport_error = None;
        match next {
            Some(Ok(bytes)) if !sniffed && !is_blank(&bytes) => {
                sniffed = true;
                if is_document(&bytes) {
                    let text = collect_capped(&mut body, bytes.to_vec(), MAX_JSON_BODY).await;
                    mapper.on_complete_body(&text, &mut emits);
                    if let Some(failure) = retry_instead(mapper) {
                        return Some(failure);
                    }
                    send_all(sink, emits).await;
                    return None;
                }
                parser.push(&bytes, &mut frames)
            }
            Some(Ok(bytes)) => parser.push(&bytes, &mut frames),
            Some(Err(err)) => {
                transport_error = Some(http::describe_error(&err));
                ended = true;
            }
            None => {
                parser.finish(&mut frames);
                ended = true;
            }
        }
        let mut done = false;
        let mut terminal = false;
        for frame in frames.drain(..) {
            match frame {
                SseFrame::Data(data) if !done && !terminal => {
                    if debug && !is_delta(&data) {
                        logsink::log(
                            LogLevel::Debug,
                            format!("OpenRouter payload: {}", logsink::elide_inline_data(&data)),
                        );
                    }
                    terminal = mapper.on_data(&data, &mut emits);
                }
                SseFrame::Data(_) => {}
                SseFrame::Done => {
                    done = true;
                    mapper.on_done();
                }
            }
        }
        if terminal && !shown && !emits.iter().any(is_visible) {
            if let Some(failure) = retry_instead(mapper) {
                if !ended {
                    release_connection(body).await;
                }
                return Some(failure);
            }
        }
        if done || ended || terminal {
            mapper.finish(transport_error.as_deref(), &mut emits);
            send_all(sink, emits).await;
            if !ended {
                release_connection(body).await;
            }
            return None;
        }
        shown = shown || emits.iter().any(is_visible);
        if !send_all(sink, std::mem::take(&mut emits)).await {
            return None;
        }
    }
}

/// The round's failure as the HTTP status it stands for, when that status is worth
/// retrying: the caller drops the round's unsent emits and returns it instead.
fn retry_instead(mapper: &RoundMapper) -> Option<UpstreamError> {
    let (status, error) = mapper.retryable_failure()?;
    Some(UpstreamError::Status {
        status,
        headers: Vec::new(),
        body: serde_json::json!({ "error": error }).to_string(),
    })
}

/// Whether the user sees this emit (or its marker) in the answer: what a retry would
/// show a second time.
fn is_visible(emit: &Emit) -> bool {
    !matches!(
        emit,
        Emit::Status { .. } | Emit::Usage(_) | Emit::Log { .. } | Emit::Notification { .. }
    )
}

/// Resolves at `due`. A time already reached resolves at once: a tokio timer rounds up
/// to its next millisecond tick, which a napping runtime only sees a whole nap later.
async fn until(due: Instant) {
    if due > Instant::now() {
        sleep_until(due.into()).await;
    }
}

/// At DEBUG: the outbound headers and body (#14), secrets redacted by the log sink.
fn log_outbound(input: &TurnInput<'_>, endpoint: Endpoint, body: &str) {
    if !logsink::enabled(LogLevel::Debug) {
        return;
    }
    let usual = http::request_headers(input.settings, "[redacted]", input.streaming);
    let headers: Vec<String> = usual
        .iter()
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("?")))
        .chain(
            input
                .outbound
                .headers
                .iter()
                .map(|(name, value)| format!("{name}: {value}")),
        )
        .collect();
    logsink::log(
        LogLevel::Debug,
        format!("OpenRouter request headers: {}", headers.join(", ")),
    );
    logsink::log(
        LogLevel::Debug,
        format!(
            "OpenRouter request payload: {endpoint:?} {}",
            logsink::elide_inline_data(body)
        ),
    );
}

/// Whether an event is a text or argument delta (`response.….delta`, or a Chat Completions
/// chunk's `"delta":{…}`), which DEBUG skips.
fn is_delta(data: &str) -> bool {
    let head = &data.as_bytes()[..data.len().min(160)];
    head.windows(7).any(|w| w == b".delta\"") || head.windows(9).any(|w| w == b"\"delta\":{")
}
