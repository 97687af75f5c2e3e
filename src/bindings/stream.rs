//! The Python side of a running answer: its SSE lines, the host calls the engine makes
//! while it runs (in order with the lines), and a complete answer's result.
//!
//! Each read returns a *batch* (a list of ready SSE lines) so crossing into
//! Python costs once per batch, not once per token. When items are already waiting,
//! `__anext__` returns a pre-completed awaitable ([`Ready`]) instead of scheduling an
//! asyncio future through tokio (~30 µs each); only an empty queue takes the slow path.

use std::sync::Arc;

use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, Mutex};
use tokio::task::AbortHandle;

use super::host::HostRequest;
use super::waker::WakeState;
use crate::engine::host::{Outgoing, PendingCall};
use crate::runtime::ForkSafe;

/// Upper bound of items handed over in one batch.
const MAX_BATCH: usize = 1024;

/// An awaitable that is already finished: `await ready` returns its value at once.
#[pyclass(module = "openrouter_pipe._native")]
pub struct Ready {
    value: Option<Py<PyAny>>,
}

#[pymethods]
impl Ready {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = self.value.take().unwrap_or_else(|| py.None());
        Err(PyStopIteration::new_err((value,)))
    }

    fn send(&mut self, py: Python<'_>, _value: Py<PyAny>) -> PyResult<Py<PyAny>> {
        self.__next__(py)
    }
}

fn ready(py: Python<'_>, value: Py<PyAny>) -> PyResult<Bound<'_, PyAny>> {
    Bound::new(py, Ready { value: Some(value) }).map(Bound::into_any)
}

/// The engine's end of an answer, as the stream reads it.
struct Inbox {
    rx: mpsc::Receiver<Outgoing>,
    /// A host call read while lines were being batched: it goes out after them.
    stashed: Option<PendingCall>,
}

/// What one read hands to Python.
enum Next {
    Lines(Vec<String>),
    Call(PendingCall),
    Ended,
}

impl Next {
    fn into_py(self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match self {
            Next::Lines(lines) => Ok(Some(lines.into_py_any(py)?)),
            Next::Call(call) => Ok(Some(Py::new(py, HostRequest::new(call))?.into_any())),
            Next::Ended => Ok(None),
        }
    }
}

/// The generic path's result, converted where pyo3 converts it (never `Ended`).
impl<'py> IntoPyObject<'py> for Next {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self
            .into_py(py)?
            .unwrap_or_else(|| py.None())
            .into_bound(py))
    }
}

impl Inbox {
    /// Everything queued now up to [`MAX_BATCH`] lines, or the next host call.
    fn take(&mut self) -> Next {
        if let Some(call) = self.stashed.take() {
            return Next::Call(call);
        }
        let mut batch = Vec::new();
        while batch.len() < MAX_BATCH {
            match self.rx.try_recv() {
                Ok(Outgoing::Line(line)) => batch.push(line),
                Ok(Outgoing::Call(call)) if batch.is_empty() => return Next::Call(call),
                Ok(Outgoing::Call(call)) => {
                    self.stashed = Some(call);
                    break;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) if batch.is_empty() => return Next::Ended,
                Err(TryRecvError::Disconnected) => break,
            }
        }
        Next::Lines(batch)
    }

    fn has_news(&self) -> bool {
        self.stashed.is_some() || !self.rx.is_empty() || self.rx.is_closed()
    }
}

/// The result of a complete (non-streaming) answer or task.
#[pyclass(module = "openrouter_pipe._native", frozen, get_all)]
#[derive(Clone)]
pub struct Completion {
    /// The answer's text (or the card explaining a failure).
    pub text: String,
    /// Usage as stored with the message, as JSON text.
    pub usage_json: Option<String>,
    /// False when `text` explains a failure instead of answering.
    pub answered: bool,
}

/// Where a complete answer's result is left for Python.
pub type CompletionSlot = Arc<std::sync::Mutex<Option<Completion>>>;

/// A running answer: its lines and host calls in order, and for a complete answer its
/// [`Completion`] at the end. Dropping it (or `close()`) aborts the upstream request.
#[pyclass(module = "openrouter_pipe._native")]
pub struct ChatStream {
    inbox: Arc<Mutex<Inbox>>,
    abort: AbortHandle,
    wake: Arc<WakeState>,
    completion: CompletionSlot,
}

impl ChatStream {
    pub fn new(
        rx: mpsc::Receiver<Outgoing>,
        abort: AbortHandle,
        wake: Arc<WakeState>,
        completion: CompletionSlot,
    ) -> Self {
        Self {
            inbox: Arc::new(Mutex::new(Inbox { rx, stashed: None })),
            abort,
            wake,
            completion,
        }
    }

    fn drain(&self) -> Next {
        match self.inbox.try_lock() {
            Ok(mut inbox) => inbox.take(),
            Err(_) => Next::Lines(Vec::new()),
        }
    }
}

impl ChatStream {
    /// Aborts the answer. The stream is disarmed first: the engine's last wake-up after
    /// the abort must not write to a descriptor whose event loop may be gone (and whose
    /// number may already belong to another file).
    fn stop(&self) {
        self.wake.disarm();
        self.abort.abort();
    }
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        self.stop();
    }
}

#[pymethods]
impl ChatStream {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next batch of lines, or a [`HostRequest`]; the generic (slower) path.
    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.drain() {
            Next::Lines(batch) if batch.is_empty() => {}
            Next::Ended => return Err(PyStopAsyncIteration::new_err(())),
            ready_now => {
                let value = ready_now.into_py(py)?.expect("not ended");
                return ready(py, value);
            }
        }
        let inbox = self.inbox.clone();
        pyo3_async_runtimes::generic::future_into_py::<ForkSafe, _, _>(py, async move {
            let mut inbox = inbox.lock().await;
            let next = match inbox.rx.recv().await {
                None => Next::Ended,
                Some(Outgoing::Call(call)) => Next::Call(call),
                Some(Outgoing::Line(first)) => match inbox.take() {
                    Next::Lines(mut rest) => {
                        rest.insert(0, first);
                        Next::Lines(rest)
                    }
                    Next::Call(call) => {
                        inbox.stashed = Some(call);
                        Next::Lines(vec![first])
                    }
                    Next::Ended => Next::Lines(vec![first]),
                },
            };
            match next {
                Next::Ended => Err(PyStopAsyncIteration::new_err(())),
                other => Ok(other),
            }
        })
    }

    /// The lines queued right now (`[]` when none yet), a [`HostRequest`] to run, or
    /// `None` once the answer ended. Never blocks: with `[]`, call [`arm`](Self::arm)
    /// and wait for the wake-up.
    fn next_batch(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.drain().into_py(py)
    }

    /// Asks to be woken through `fd` with `token` when items arrive or the answer ends.
    /// Returns false when there is already something to read (then nothing is armed).
    fn arm(&self, fd: i32, token: u64) -> bool {
        self.wake.arm(fd, token);
        let has_news = match self.inbox.try_lock() {
            Ok(inbox) => inbox.has_news(),
            Err(_) => true,
        };
        if has_news && self.wake.disarm() {
            return false;
        }
        true
    }

    /// The result of a complete answer, once the stream has ended (`None` before, and
    /// always for a streamed answer).
    fn completion(&self) -> Option<Completion> {
        self.completion
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops the answer and closes the upstream connection.
    fn close(&self) {
        self.stop();
    }

    /// Async form of [`close`](Self::close), for `contextlib.aclosing`.
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.stop();
        ready(py, py.None())
    }
}
