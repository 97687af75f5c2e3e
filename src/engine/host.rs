//! The engine's port to its host (the Python layer inside Open WebUI).
//!
//! Some work can only be done by Python: calling Open WebUI's tools, asking the browser
//! through `__event_call__`, sending an event through `__event_emitter__`, reading Open
//! WebUI's file storage. The engine asks for it with a [`HostCall`] and awaits the
//! answer. A call travels on the same ordered channel as the answer's SSE lines
//! ([`Outgoing`]), so Python learns of it on the same wake-up, and the answer comes back
//! on a oneshot channel; no Python object is touched on a tokio thread. Python bounds
//! every call with `asyncio.wait_for`; the engine bounds it again (plus a grace period),
//! so a host that never answers cannot hold an answer open.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// Called after items were queued for Python (the bindings wake its event loop with it).
pub type OnSend = std::sync::Arc<dyn Fn() + Send + Sync>;

/// Extra time the engine waits beyond a call's own timeout, for Python's answer to
/// that timeout to arrive.
const GRACE: Duration = Duration::from_secs(1);

/// What the engine asks the host to do.
#[derive(Debug, Clone, PartialEq)]
pub enum HostCall {
    /// Send one event (status, source, notification) through `__event_emitter__`.
    Emit(Value),
    /// Ask the user's browser through `__event_call__` and return its answer.
    EventCall(Value),
    /// Return the value unchanged: the self-check of the port (`probe_host`).
    Echo(Value),
    /// Run one of the chat's tools: `{"name", "call_id", "arguments", "kind"}`; the
    /// answer is the tool's result.
    Tool(Value),
    /// Describe an Open WebUI file the chat user may read: `{"id"}` →
    /// `{"name", "mime", "size"}`; fails when it is missing, not theirs or its bytes are gone.
    FileInfo(Value),
    /// Read part of that file: `{"id", "offset", "length"}` → `{"base64", "bytes", "eof"}`.
    FileChunk(Value),
    /// Keep a copy in Open WebUI's storage, owned by the chat user or the fallback storage
    /// user: `{"name", "mime", "base64", "fallback_user": {"email", "name", "role"}}` →
    /// `{"id", "url"}`. The `base64` text travels beside the JSON arguments (the call's
    /// payload), so it is neither serialised nor parsed.
    FileStore(Value),
    /// Open WebUI's own upload limits: `{}` → `{"file_max_size_mb", "retrieval"}`.
    FileLimits(Value),
}

impl HostCall {
    /// The operation name Python dispatches on.
    pub fn op(&self) -> &'static str {
        match self {
            HostCall::Emit(_) => "emit",
            HostCall::EventCall(_) => "event_call",
            HostCall::Echo(_) => "echo",
            HostCall::Tool(_) => "tool",
            HostCall::FileInfo(_) => "file_info",
            HostCall::FileChunk(_) => "file_chunk",
            HostCall::FileStore(_) => "file_store",
            HostCall::FileLimits(_) => "file_limits",
        }
    }

    /// The arguments, and the large text that travels beside them (a stored file's base64).
    fn into_parts(self) -> (Value, Option<String>) {
        let payload_key = matches!(self, HostCall::FileStore(_)).then_some("base64");
        let mut args = self.into_args();
        let payload = payload_key
            .and_then(|key| args.as_object_mut()?.remove(key))
            .and_then(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            });
        (args, payload)
    }

    fn into_args(self) -> Value {
        match self {
            HostCall::Emit(v)
            | HostCall::EventCall(v)
            | HostCall::Echo(v)
            | HostCall::Tool(v)
            | HostCall::FileInfo(v)
            | HostCall::FileChunk(v)
            | HostCall::FileStore(v)
            | HostCall::FileLimits(v) => v,
        }
    }
}

/// Why a host call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// This host cannot do it (no emitter in a background task, no host in Rust tests).
    Unavailable(String),
    /// No answer within the call's timeout.
    Timeout,
    /// The Python side raised; the message is for logs and for the model, not a traceback.
    Failed(String),
    /// The answer ended (closed or cancelled) while the call was in flight.
    Cancelled,
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostError::Unavailable(why) => write!(f, "not available here: {why}"),
            HostError::Timeout => f.write_str("no answer in time"),
            HostError::Failed(why) => write!(f, "failed: {why}"),
            HostError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for HostError {}

/// Something that can run host calls for one answer.
pub trait Host: Send + Sync {
    /// Runs `call`, giving the host at most `timeout`.
    fn call(
        &self,
        call: HostCall,
        timeout: Duration,
    ) -> impl Future<Output = Result<Value, HostError>> + Send;
}

/// A host that can do nothing: Rust tests, and answers without a Python session.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHost;

impl Host for NoHost {
    async fn call(&self, call: HostCall, _timeout: Duration) -> Result<Value, HostError> {
        Err(HostError::Unavailable(format!("no host for {}", call.op())))
    }
}

/// A host that may be missing (`None` answers every call with `Unavailable`).
impl<H: Host> Host for Option<H> {
    async fn call(&self, call: HostCall, timeout: Duration) -> Result<Value, HostError> {
        match self {
            Some(host) => host.call(call, timeout).await,
            None => NoHost.call(call, timeout).await,
        }
    }
}

/// What flows from the engine to Python for one answer, in order.
#[derive(Debug)]
pub enum Outgoing {
    /// A ready SSE line for Open WebUI.
    Line(String),
    /// Work for the host.
    Call(PendingCall),
}

/// A host call waiting for Python to run it.
#[derive(Debug)]
pub struct PendingCall {
    pub op: &'static str,
    /// The arguments as JSON text (Python parses them once).
    pub args: String,
    /// Large text beside the arguments (a stored file's base64), taken by Python only
    /// when it uses it.
    pub payload: Option<String>,
    pub timeout: Duration,
    pub reply: oneshot::Sender<Result<Value, HostError>>,
}

/// The host on the far side of an answer's channel: the Python session relaying it.
#[derive(Clone)]
pub struct ChannelHost {
    tx: mpsc::Sender<Outgoing>,
    on_send: OnSend,
}

impl ChannelHost {
    pub fn new(tx: mpsc::Sender<Outgoing>, on_send: OnSend) -> Self {
        Self { tx, on_send }
    }
}

impl Host for ChannelHost {
    async fn call(&self, call: HostCall, timeout: Duration) -> Result<Value, HostError> {
        let (reply, answer) = oneshot::channel();
        let op = call.op();
        let (args, payload) = call.into_parts();
        let pending = PendingCall {
            op,
            args: args.to_string(),
            payload,
            timeout,
            reply,
        };
        if self.tx.send(Outgoing::Call(pending)).await.is_err() {
            return Err(HostError::Cancelled);
        }
        (self.on_send)();
        match tokio::time::timeout(timeout + GRACE, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(HostError::Cancelled),
            Err(_) => Err(HostError::Timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn host() -> (ChannelHost, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(8);
        (ChannelHost::new(tx, Arc::new(|| {})), rx)
    }

    #[tokio::test]
    async fn a_call_is_answered_through_its_reply_channel() {
        let (host, mut rx) = host();
        let python = tokio::spawn(async move {
            let Some(Outgoing::Call(call)) = rx.recv().await else {
                panic!("expected a call");
            };
            assert_eq!(call.op, "echo");
            let args: Value = serde_json::from_str(&call.args).unwrap();
            call.reply.send(Ok(args)).unwrap();
        });
        let answer = host
            .call(HostCall::Echo(json!({"n": 1})), Duration::from_secs(1))
            .await;
        assert_eq!(answer, Ok(json!({"n": 1})));
        python.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_host_times_out_after_the_grace_period() {
        let (host, _rx) = host();
        let started = tokio::time::Instant::now();
        let answer = host
            .call(HostCall::EventCall(json!({})), Duration::from_secs(2))
            .await;
        assert_eq!(answer, Err(HostError::Timeout));
        assert_eq!(started.elapsed(), Duration::from_secs(2) + GRACE);
    }

    #[tokio::test]
    async fn a_dropped_call_or_a_closed_session_is_a_cancellation() {
        let (host, mut rx) = host();
        let python = tokio::spawn(async move {
            drop(rx.recv().await); // the session ended without answering
        });
        let answer = host
            .call(HostCall::Emit(json!({})), Duration::from_secs(5))
            .await;
        assert_eq!(answer, Err(HostError::Cancelled));
        python.await.unwrap();
        let (host, rx) = super::tests::host();
        drop(rx);
        let answer = host
            .call(HostCall::Emit(json!({})), Duration::from_secs(5))
            .await;
        assert_eq!(answer, Err(HostError::Cancelled));
    }

    #[tokio::test]
    async fn no_host_says_so() {
        let answer = NoHost
            .call(HostCall::EventCall(json!({})), Duration::from_secs(1))
            .await;
        assert!(matches!(answer, Err(HostError::Unavailable(_))));
    }
}
