//! Entry points taking the request exactly as the Python layer serialised it. Parsing
//! happens here, on a tokio thread, so a huge chat body never stalls Python's event loop.

use std::time::Duration;

use tokio::sync::mpsc;

use super::chat::{run, Outcome};
use super::notices;
use super::request::ChatRequest;
use super::sink::{CollectSink, OnSend, Sink, StreamSink};
use crate::runtime::pace::Urgent;
use crate::stream::coalesce::Coalescer;
use crate::valves::Settings;

/// The coalescing policy the valves ask for.
pub fn coalescer(settings: &Settings) -> Coalescer {
    let window = settings
        .int("STREAM_COALESCE_WINDOW_MS")
        .unwrap_or(40)
        .clamp(0, 1000) as u64;
    let max_chars = settings
        .int("STREAM_COALESCE_MAX_CHARS")
        .unwrap_or(4096)
        .max(1) as usize;
    Coalescer::new(Duration::from_millis(window), max_chars)
}

/// Streams the answer to `request_json` into `tx` as ready SSE lines.
/// `on_send` runs after items were queued; `first_token` is held until the first token.
pub async fn stream(
    request_json: String,
    tx: mpsc::Sender<String>,
    on_send: OnSend,
    first_token: Urgent,
) -> Outcome {
    match ChatRequest::from_json(&request_json) {
        Ok(request) => {
            let coalescer = coalescer(&request.settings());
            let mut sink = StreamSink::new(tx, coalescer, on_send, first_token);
            run(&request, &mut sink).await
        }
        Err(why) => {
            let no_window = Coalescer::new(Duration::ZERO, 1);
            let mut sink = StreamSink::new(tx, no_window, on_send, first_token);
            for emit in notices::unreadable_request(&why) {
                sink.send(emit).await;
            }
            Outcome::Failed
        }
    }
}

/// The complete answer to `request_json`.
pub async fn complete(request_json: String) -> (CollectSink, Outcome) {
    let mut sink = CollectSink::default();
    let outcome = match ChatRequest::from_json(&request_json) {
        Ok(request) => run(&request, &mut sink).await,
        Err(why) => {
            for emit in notices::unreadable_request(&why) {
                sink.send(emit).await;
            }
            Outcome::Failed
        }
    };
    (sink, outcome)
}
