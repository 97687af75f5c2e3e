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

/// The request as the bindings hand it over, parsed (and dropped) on a tokio thread.
pub trait RequestSource: Send + 'static {
    /// The parsed request, or why it is unreadable.
    fn parse(self) -> Result<ChatRequest, String>;
}

impl RequestSource for String {
    fn parse(self) -> Result<ChatRequest, String> {
        ChatRequest::from_json(&self)
    }
}

/// JSON whose large strings travel beside it (`blobs`): Python's `json.dumps` would copy
/// a 50 MB attachment twice (its chunk, then the joined text). Each lifted string stands
/// in the JSON as `"\u0000orp-blob:<index>:<length>\u0000"` and is put back after parsing.
pub struct WithBlobs<T, B> {
    /// The request JSON.
    pub json: T,
    /// The lifted strings, by index.
    pub blobs: Vec<B>,
}

impl<T, B> RequestSource for WithBlobs<T, B>
where
    T: AsRef<str> + Send + 'static,
    B: AsRef<str> + Send + 'static,
{
    fn parse(self) -> Result<ChatRequest, String> {
        let mut request = ChatRequest::from_json(self.json.as_ref())?;
        drop(self.json);
        if !self.blobs.is_empty() {
            restore_blobs(&mut request.body, &self.blobs);
        }
        Ok(request)
    }
}

/// Puts lifted strings back where their placeholders stand (a placeholder naming no blob
/// of that length stays as it is).
fn restore_blobs<B: AsRef<str>>(value: &mut serde_json::Value, blobs: &[B]) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            let Some(inner) = text
                .strip_prefix("\u{0}orp-blob:")
                .and_then(|t| t.strip_suffix('\u{0}'))
            else {
                return;
            };
            let Some((index, length)) = inner.split_once(':') else {
                return;
            };
            let (Ok(index), Ok(length)) = (index.parse::<usize>(), length.parse::<usize>()) else {
                return;
            };
            if let Some(blob) = blobs.get(index).map(AsRef::as_ref) {
                if blob.chars().count() == length {
                    *text = blob.to_owned();
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| restore_blobs(v, blobs)),
        Value::Object(map) => map.values_mut().for_each(|v| restore_blobs(v, blobs)),
        _ => {}
    }
}

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
    request_json: impl RequestSource,
    tx: mpsc::Sender<Outgoing>,
    on_send: OnSend,
    first_token: Urgent,
) -> impl std::future::Future<Output = Outcome> + Send {
    let accepted = Instant::now();
    async move {
        let host = ChannelHost::new(tx.clone(), on_send.clone());
        let parsed = request_json.parse(); // consumed: attachments make it large
        match parsed {
            Ok(mut request) => {
                request.detach_messages();
                super::fault_hook::panic_if_asked(&request, super::fault_hook::Stage::Start);
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
///
/// The answer is boxed and wrapped without an `async fn` of its own: an `async fn` would
/// keep the argument and the awaited copy side by side, and the chat's task held 39 KB
/// of future state, moved with `memcpy` on every spawn (now a few hundred bytes).
fn guarded(
    answer: impl std::future::Future<Output = Outcome> + Send,
) -> impl std::future::Future<Output = Option<Outcome>> + Send {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(Box::pin(answer))
        .catch_unwind()
        .map(Result::ok)
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
    request_json: impl RequestSource,
    host: Option<ChannelHost>,
) -> impl std::future::Future<Output = (CollectSink, Outcome)> + Send {
    let accepted = Instant::now();
    complete_accepted(request_json, host, accepted)
}

async fn complete_accepted(
    request_json: impl RequestSource,
    host: Option<ChannelHost>,
    accepted: Instant,
) -> (CollectSink, Outcome) {
    let parsed = request_json.parse();
    let mut request = match parsed {
        Ok(request) => request,
        Err(why) => {
            let mut sink = CollectSink::default();
            send_all(&mut sink, notices::unreadable_request(&why)).await;
            return (sink, Outcome::Failed);
        }
    };
    request.detach_messages();
    let host = host.filter(|_| request.task.is_none());
    let mut sink = match &host {
        Some(host) => CollectSink::live(host.clone()),
        None => CollectSink::default(),
    };
    super::fault_hook::panic_if_asked(&request, super::fault_hook::Stage::Start);
    let settings = request.settings();
    let log = request_log(&request, &settings, accepted);
    let answer = guarded(run(&request, &settings, &mut sink, &host));
    let outcome = match sessionlog::scope(log, answer).await {
        Some(outcome) => outcome,
        None => internal_failure(&request, &settings, &mut sink).await,
    };
    if outcome == Outcome::Answered {
        sink.finish_answered().await;
    }
    (sink, outcome)
}

#[cfg(test)]
mod blob_tests {
    use super::{RequestSource, WithBlobs};

    #[test]
    fn lifted_strings_are_put_back_and_a_forged_placeholder_stays_as_it_is() {
        let big = "QUJD".repeat(8);
        let json = r#"{"body":{"messages":[{"role":"user","content":[
            {"type":"file","file":{"file_data":"\u0000orp-blob:0:32\u0000"}},
            {"type":"text","text":"\u0000orp-blob:0:31\u0000"},
            {"type":"text","text":"\u0000orp-blob:7:32\u0000"}]}]}}"#;
        let request = WithBlobs {
            json: json.to_string(),
            blobs: vec![big.clone()],
        }
        .parse()
        .unwrap();
        let content = &request.body["messages"][0]["content"];
        assert_eq!(content[0]["file"]["file_data"], big.as_str());
        assert_eq!(
            content[1]["text"], "\u{0}orp-blob:0:31\u{0}",
            "wrong length"
        );
        assert_eq!(
            content[2]["text"], "\u{0}orp-blob:7:32\u{0}",
            "no such blob"
        );
    }
}
