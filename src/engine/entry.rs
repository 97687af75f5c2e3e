//! Entry points taking the request exactly as the Python layer serialised it. Parsing
//! happens here, on a tokio thread, so a huge chat body never stalls Python's event loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::chat::{run, Outcome};
use super::host::{ChannelHost, Outgoing};
use super::notices;
use super::request::ChatRequest;
use super::sink::{send_all, CollectSink, OnSend, Sink, StreamSink};
use crate::emit::LogLevel;
use crate::logsink;
use crate::runtime::pace::Urgent;
use crate::sessionlog::{self, RequestLog};
use crate::stream::coalesce::Coalescer;
use crate::valves::{LogSettings, Settings};

/// The coalescing policy the valves ask for.
pub fn coalescer(settings: &Settings) -> Coalescer {
    Coalescer::new(
        settings.stream.coalesce_window,
        settings.stream.coalesce_max_chars,
    )
}

/// Streams the answer to `request_json` into `tx` as ready SSE lines; host calls go
/// through the same channel. `on_send` runs after items were queued; `first_token` is
/// held until the first token.
pub fn stream(
    request_json: String,
    tx: mpsc::Sender<Outgoing>,
    on_send: OnSend,
    first_token: Urgent,
) -> impl std::future::Future<Output = Outcome> + Send {
    let accepted = Instant::now();
    async move {
        let host = ChannelHost::new(tx.clone(), on_send.clone());
        let parsed = ChatRequest::from_json(&request_json);
        drop(request_json); // attachments make it large; the parsed request holds the same
        match parsed {
            Ok(request) => {
                let settings = request.settings();
                let log = request_log(&request, &settings, accepted);
                let mut sink = StreamSink::new(tx, coalescer(&settings), on_send, first_token);
                let answer = guarded(run(&request, &settings, &mut sink, &host));
                match sessionlog::scope(log, answer).await {
                    Some(outcome) => outcome,
                    None => internal_failure(&request, &settings, &mut sink).await,
                }
            }
            Err(why) => unreadable_stream(why, tx, on_send, first_token).await,
        }
    }
}

/// `answer`, or `None` when it panicked. A panic is a bug, but the user still gets the
/// internal-error card with the request's ids, and the worker keeps running.
async fn guarded(answer: impl std::future::Future<Output = Outcome>) -> Option<Outcome> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(answer)
        .catch_unwind()
        .await
        .ok()
}

/// The answer stopped in a panic: the internal-error card (the operator's
/// `INTERNAL_ERROR_TEMPLATE` when set) ends it. The panicked future was dropped, so its
/// admission slot and artifact session are released already.
async fn internal_failure<S: Sink>(
    request: &ChatRequest,
    settings: &Settings,
    sink: &mut S,
) -> Outcome {
    logsink::log(LogLevel::Error, "internal error while answering (panic)");
    let style = super::cards::card_style(request, settings);
    let model = request.model_suffix();
    send_all(sink, crate::errors::internal_failure_emits(&model, &style)).await;
    let _ = sink.flush().await;
    Outcome::Failed
}

/// The log context of `request` (#14): its ids, level and archive; the admin's level
/// becomes the level of lines outside any request.
fn request_log(request: &ChatRequest, settings: &Settings, accepted: Instant) -> Arc<RequestLog> {
    logsink::set_process_threshold(LogSettings::process_threshold(&request.system_valves));
    Arc::new(RequestLog::new(request, settings, accepted))
}

async fn unreadable_stream(
    why: String,
    tx: mpsc::Sender<Outgoing>,
    on_send: OnSend,
    first_token: Urgent,
) -> Outcome {
    let no_window = Coalescer::new(Duration::ZERO, 1);
    let mut sink = StreamSink::new(tx, no_window, on_send, first_token);
    send_all(&mut sink, notices::unreadable_request(&why)).await;
    Outcome::Failed
}

/// The complete answer to `request_json`. With a `host`, a chat's events reach Open
/// WebUI while it runs; background tasks (titles, tags) never send any.
pub fn complete(
    request_json: String,
    host: Option<ChannelHost>,
) -> impl std::future::Future<Output = (CollectSink, Outcome)> + Send {
    let accepted = Instant::now();
    complete_accepted(request_json, host, accepted)
}

async fn complete_accepted(
    request_json: String,
    host: Option<ChannelHost>,
    accepted: Instant,
) -> (CollectSink, Outcome) {
    let parsed = ChatRequest::from_json(&request_json);
    drop(request_json);
    let request = match parsed {
        Ok(request) => request,
        Err(why) => {
            let mut sink = CollectSink::default();
            send_all(&mut sink, notices::unreadable_request(&why)).await;
            return (sink, Outcome::Failed);
        }
    };
    let host = host.filter(|_| request.task.is_none());
    let mut sink = match &host {
        Some(host) => CollectSink::live(host.clone()),
        None => CollectSink::default(),
    };
    let settings = request.settings();
    let log = request_log(&request, &settings, accepted);
    let answer = guarded(run(&request, &settings, &mut sink, &host));
    let outcome = match sessionlog::scope(log, answer).await {
        Some(outcome) => outcome,
        None => internal_failure(&request, &settings, &mut sink).await,
    };
    (sink, outcome)
}
