//! Entry points taking the request exactly as the Python layer serialised it. Parsing
//! happens here, on a tokio thread, so a huge chat body never stalls Python's event loop.

use std::time::Duration;

use tokio::sync::mpsc;

use super::chat::{run, Outcome};
use super::host::{ChannelHost, Outgoing};
use super::notices;
use super::request::ChatRequest;
use super::sink::{send_all, CollectSink, OnSend, StreamSink};
use crate::runtime::pace::Urgent;
use crate::stream::coalesce::Coalescer;
use crate::valves::Settings;

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
pub async fn stream(
    request_json: String,
    tx: mpsc::Sender<Outgoing>,
    on_send: OnSend,
    first_token: Urgent,
) -> Outcome {
    let host = ChannelHost::new(tx.clone(), on_send.clone());
    let parsed = ChatRequest::from_json(&request_json);
    drop(request_json); // attachments make it large; the parsed request holds the same
    match parsed {
        Ok(request) => {
            let settings = request.settings();
            let mut sink = StreamSink::new(tx, coalescer(&settings), on_send, first_token);
            run(&request, &settings, &mut sink, &host).await
        }
        Err(why) => {
            let no_window = Coalescer::new(Duration::ZERO, 1);
            let mut sink = StreamSink::new(tx, no_window, on_send, first_token);
            send_all(&mut sink, notices::unreadable_request(&why)).await;
            Outcome::Failed
        }
    }
}

/// The complete answer to `request_json`. With a `host`, a chat's events reach Open
/// WebUI while it runs; background tasks (titles, tags) never send any.
pub async fn complete(request_json: String, host: Option<ChannelHost>) -> (CollectSink, Outcome) {
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
    let outcome = run(&request, &request.settings(), &mut sink, &host).await;
    (sink, outcome)
}
