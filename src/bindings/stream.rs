//! The Python async iterator over a streaming answer.
//!
//! Each `__anext__` returns a *batch* (a list of ready SSE lines) so crossing into
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

use super::waker::WakeState;
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

/// A running answer. Dropping it (or `close()`) aborts the upstream request.
#[pyclass(module = "openrouter_pipe._native")]
pub struct ChatStream {
    rx: Arc<Mutex<mpsc::Receiver<String>>>,
    abort: AbortHandle,
    wake: Arc<WakeState>,
}

impl ChatStream {
    pub fn new(rx: mpsc::Receiver<String>, abort: AbortHandle, wake: Arc<WakeState>) -> Self {
        Self {
            rx: Arc::new(Mutex::new(rx)),
            abort,
            wake,
        }
    }

    /// Everything queued now, up to [`MAX_BATCH`]; `None` once the stream has ended.
    fn drain(&self) -> Option<Vec<String>> {
        let Ok(mut rx) = self.rx.try_lock() else {
            return Some(Vec::new());
        };
        let mut batch = Vec::new();
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    return if batch.is_empty() { None } else { Some(batch) };
                }
            }
        }
        Some(batch)
    }
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

#[pymethods]
impl ChatStream {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.drain() {
            Some(batch) if !batch.is_empty() => return ready(py, batch.into_py_any(py)?),
            None => return Err(PyStopAsyncIteration::new_err(())),
            Some(_) => {}
        }
        let rx = self.rx.clone();
        pyo3_async_runtimes::generic::future_into_py::<ForkSafe, _, _>(py, async move {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(first) => {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(item) => batch.push(item),
                            Err(_) => break,
                        }
                    }
                    Ok(batch)
                }
                None => Err(PyStopAsyncIteration::new_err(())),
            }
        })
    }

    /// The items queued right now (`[]` when none yet), or `None` once the answer ended.
    /// Never blocks: with `[]`, call [`arm`](Self::arm) and wait for the wake-up.
    fn next_batch(&self) -> Option<Vec<String>> {
        self.drain()
    }

    /// Asks to be woken through `fd` with `token` when items arrive or the answer ends.
    /// Returns false when there is already something to read (then nothing is armed).
    fn arm(&self, fd: i32, token: u64) -> bool {
        self.wake.arm(fd, token);
        let has_news = match self.rx.try_lock() {
            Ok(rx) => !rx.is_empty() || rx.is_closed(),
            Err(_) => true,
        };
        if has_news && self.wake.disarm() {
            return false;
        }
        true
    }

    /// Stops the answer and closes the upstream connection.
    fn close(&self) {
        self.abort.abort();
    }

    /// Async form of [`close`](Self::close), for `contextlib.aclosing`.
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.abort.abort();
        ready(py, py.None())
    }
}
