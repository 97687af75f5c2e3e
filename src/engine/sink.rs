//! Where a request's emits go: a live stream to Open WebUI, or a collected answer.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use super::host::{ChannelHost, Host, HostCall, HostError, Outgoing};
use crate::emit::Emit;
use crate::logsink;
use crate::runtime::pace::{self, Streaming, Urgent};
use crate::stream::coalesce::Coalescer;
use crate::stream::owui;

/// Receives the emits of one request.
pub trait Sink: Send {
    /// Takes one emit; returns false once nobody is listening any more (the user
    /// closed the chat), which ends the request.
    fn send(&mut self, emit: Emit) -> impl std::future::Future<Output = bool> + Send;
    /// When held text must be flushed at the latest.
    fn deadline(&self) -> Option<Instant> {
        None
    }
    /// Flushes held text (called at the deadline and at the end).
    fn flush(&mut self) -> impl std::future::Future<Output = bool> + Send;
    /// The answer waits for the model again (tools are running, a new round starts):
    /// keep the engine's wake-ups prompt until its next token, as for the first one.
    fn await_next_token(&mut self) {}
    /// The answer's opening status ("Thinking…"): a live stream shows it only when the
    /// model has shown nothing within [`OPENING_DELAY`], then the [`WAITING_STATUSES`]
    /// while it still shows nothing; anything else sent first replaces them.
    fn opening(&mut self, emit: Emit) -> impl std::future::Future<Output = bool> + Send {
        self.send(emit)
    }
}

/// How long a live answer waits for the model's first event before the opening status
/// is shown. A fast model's answer never pays the extra wake-up of Python's event loop
/// it costs (about 0.1 ms of CPU per request, `bench/stream_load.py`).
pub const OPENING_DELAY: Duration = Duration::from_millis(300);

/// What a live answer shows while a slow model has still shown nothing, after the
/// opening status, and when (from the start of the answer), as the reference pipe does.
pub const WAITING_STATUSES: [(&str, Duration); 4] = [
    ("Reading the user's question…", Duration::from_millis(1500)),
    ("Gathering my thoughts…", Duration::from_millis(4000)),
    ("Exploring possible responses…", Duration::from_millis(6000)),
    ("Building a plan…", Duration::from_millis(7000)),
];

pub use super::host::OnSend;

/// Sends every emit in order; false once nobody listens any more.
pub async fn send_all<S: Sink>(sink: &mut S, emits: Vec<Emit>) -> bool {
    for emit in emits {
        if !sink.send(emit).await {
            return false;
        }
    }
    true
}

/// Streams serialised items to the Python iterator through a bounded channel,
/// coalescing text on the way.
pub struct StreamSink {
    tx: mpsc::Sender<Outgoing>,
    coalescer: Coalescer,
    ready: Vec<Emit>,
    on_send: OnSend,
    /// Keeps the engine's wake-ups prompt until the first token has been sent.
    first_token: Option<Urgent>,
    /// Taken once text is first held back, i.e. once deltas arrive faster than the
    /// window: only then can batched reads help (a short answer never lets workers nap).
    /// Answers with a window shorter than the longest nap take it at once.
    streaming: Option<Streaming>,
    /// The opening status and the waiting statuses after it, each with when it is due,
    /// until something else is sent.
    opening: VecDeque<(Emit, Instant)>,
}

impl StreamSink {
    /// `first_token` is taken before the request is spawned, so a napping worker
    /// starts it at once (see [`crate::runtime::pace`]).
    pub fn new(
        tx: mpsc::Sender<Outgoing>,
        coalescer: Coalescer,
        on_send: OnSend,
        first_token: Urgent,
    ) -> Self {
        Self {
            tx,
            ready: Vec::new(),
            on_send,
            streaming: pace::registers_at_once(coalescer.window())
                .then(|| Streaming::new(coalescer.window())),
            coalescer,
            first_token: Some(first_token),
            opening: VecDeque::new(),
        }
    }

    /// Forwards what the coalescer released; wakes the reader only when something was
    /// queued (a wake-up per held delta would cost the event loop more than it saves).
    async fn drain_ready(&mut self) -> bool {
        if self.ready.is_empty() {
            return true;
        }
        let sent = self.forward().await;
        (self.on_send)();
        sent
    }

    async fn forward(&mut self) -> bool {
        for emit in self.ready.drain(..) {
            if let Emit::Log { level, message } = emit {
                logsink::log(level, message);
                continue;
            }
            if matches!(emit, Emit::Content(_) | Emit::Reasoning(_)) {
                self.first_token = None;
            }
            if let Some(item) = owui::item(&emit) {
                if self.tx.send(Outgoing::Line(item)).await.is_err() {
                    return false;
                }
            }
        }
        true
    }
}

impl Sink for StreamSink {
    async fn send(&mut self, emit: Emit) -> bool {
        if !matches!(emit, Emit::Log { .. }) {
            self.opening.clear();
        }
        self.coalescer.set_read_delay(pace::nap());
        self.coalescer.push(emit, Instant::now(), &mut self.ready);
        if self.streaming.is_none() && self.coalescer.deadline().is_some() {
            self.streaming = Some(Streaming::new(self.coalescer.window()));
        }
        self.drain_ready().await
    }

    fn deadline(&self) -> Option<Instant> {
        let held = self.opening.front().map(|(_, due)| *due);
        match (self.coalescer.deadline(), held) {
            (Some(text), Some(opening)) => Some(text.min(opening)),
            (text, opening) => text.or(opening),
        }
    }

    fn await_next_token(&mut self) {
        if self.first_token.is_none() {
            self.first_token = Some(Urgent::new());
        }
    }

    async fn flush(&mut self) -> bool {
        let now = Instant::now();
        while self.opening.front().is_some_and(|(_, due)| *due <= now) {
            if let Some((emit, _)) = self.opening.pop_front() {
                self.coalescer.push(emit, now, &mut self.ready);
            }
        }
        self.coalescer.flush(now, &mut self.ready);
        self.drain_ready().await
    }

    async fn opening(&mut self, emit: Emit) -> bool {
        let start = Instant::now();
        self.opening.clear();
        self.opening.push_back((emit, start + OPENING_DELAY));
        for (text, after) in WAITING_STATUSES {
            self.opening
                .push_back((Emit::status(text, false), start + after));
        }
        true
    }
}

/// How long one live event may take to reach `__event_emitter__`.
const EMIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Collects a complete answer for `stream: false` requests and background tasks.
/// With a host, events (statuses, sources, notifications) reach `__event_emitter__`
/// while the answer runs, so a user sees "Searching the web…" when it happens; without
/// one (Rust tests) they are collected in `events`.
#[derive(Default)]
pub struct CollectSink {
    /// The answer text (every content delta, in order).
    pub text: String,
    /// Events that had no live emitter to go to.
    pub events: Vec<Value>,
    /// The last usage the answer reported.
    pub usage: Option<Value>,
    live: Option<ChannelHost>,
}

impl CollectSink {
    /// A sink that sends events through `host` as they happen.
    pub(crate) fn live(host: ChannelHost) -> Self {
        Self {
            live: Some(host),
            ..Self::default()
        }
    }

    /// The reference's closing event of a complete answer that succeeded:
    /// `chat:completion` with the text (markers removed) and the answer's usage, so Open
    /// WebUI shows the usage of a `stream: false` chat as it does for a streamed one.
    pub(crate) async fn finish_answered(&mut self) {
        if self.live.is_none() {
            return;
        }
        let mut data = serde_json::json!({
            "done": true,
            "content": crate::artifacts::markers::strip(&self.text),
        });
        if let Some(usage) = &self.usage {
            data["usage"] = usage.clone();
        }
        self.event(serde_json::json!({"type": "chat:completion", "data": data}))
            .await;
    }

    async fn event(&mut self, event: Value) {
        let Some(host) = &self.live else {
            self.events.push(event);
            return;
        };
        match host.call(HostCall::Emit(event), EMIT_TIMEOUT).await {
            Ok(_) => {}
            Err(HostError::Unavailable(_)) => self.live = None, // no emitter: stop asking
            Err(err) => logsink::log(
                crate::emit::LogLevel::Debug,
                format!("A status event was not delivered ({err})"),
            ),
        }
    }
}

impl Sink for CollectSink {
    async fn send(&mut self, emit: Emit) -> bool {
        match &emit {
            Emit::Content(text) => self.text.push_str(text),
            Emit::Usage(usage) => self.usage = Some(usage.clone()),
            Emit::Log { level, message } => logsink::log(*level, message.clone()),
            _ => {
                if let Some(event) = owui::emitter_event(&emit) {
                    self.event(event).await;
                }
            }
        }
        true
    }

    async fn flush(&mut self) -> bool {
        true
    }
}
