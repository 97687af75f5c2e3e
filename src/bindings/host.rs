//! Host calls as Python sees them: a [`HostRequest`] handed out by a
//! [`super::ChatStream`] in order with its lines, answered once with `resolve` or `fail`.
//! Answering only sends on a oneshot channel; nothing waits and no tokio thread touches
//! Python.

use std::sync::Mutex;

use pyo3::prelude::*;
use serde_json::Value;

use crate::engine::host::{HostError, PendingCall};

/// A call from the engine for the Python host to run.
#[pyclass(module = "openrouter_pipe._native", frozen)]
pub struct HostRequest {
    op: &'static str,
    args: String,
    payload: Mutex<Option<String>>,
    timeout: f64,
    reply: Mutex<Option<tokio::sync::oneshot::Sender<Result<Value, HostError>>>>,
}

impl HostRequest {
    pub fn new(call: PendingCall) -> Self {
        Self {
            op: call.op,
            args: call.args,
            payload: Mutex::new(call.payload),
            timeout: call.timeout.as_secs_f64(),
            reply: Mutex::new(Some(call.reply)),
        }
    }

    fn answer(&self, result: Result<Value, HostError>) -> bool {
        // A payload nobody took (storage unavailable) is freed now, not when Python
        // collects this object: the engine goes on as soon as it has the answer.
        drop(
            self.payload
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        let sender = self.reply.lock().unwrap_or_else(|p| p.into_inner()).take();
        match sender {
            Some(sender) => sender.send(result).is_ok(),
            None => false,
        }
    }
}

#[pymethods]
impl HostRequest {
    /// The operation: `emit`, `event_call` or `echo`.
    #[getter]
    fn op(&self) -> &'static str {
        self.op
    }

    /// The arguments as JSON text.
    #[getter]
    fn args(&self) -> &str {
        &self.args
    }

    /// Whether the call carries a payload (a stored file's base64) beside its arguments.
    #[getter]
    fn has_payload(&self) -> bool {
        self.payload
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Takes the payload as ASCII bytes (once; `None` afterwards): the engine's copy is
    /// freed as Python's is made.
    fn take_payload<'py>(&self, py: Python<'py>) -> Option<Bound<'py, pyo3::types::PyBytes>> {
        let payload = self
            .payload
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()?;
        Some(pyo3::types::PyBytes::new(py, payload.as_bytes()))
    }

    /// Seconds the host may take.
    #[getter]
    fn timeout(&self) -> f64 {
        self.timeout
    }

    /// Answers with a JSON document; false when the engine no longer waits (the answer
    /// ended, or the engine gave up) or the call was answered already. Text that is not
    /// JSON is passed on as a string.
    fn resolve(&self, result_json: &str) -> bool {
        let value = serde_json::from_str(result_json).unwrap_or_else(|_| Value::from(result_json));
        self.answer(Ok(value))
    }

    /// Reports a failure: `kind` is `timeout`, `unavailable`, `cancelled` or anything
    /// else for an error raised by the host; `message` is for logs and the model.
    fn fail(&self, kind: &str, message: &str) -> bool {
        let error = match kind {
            "timeout" => HostError::Timeout,
            "unavailable" => HostError::Unavailable(message.to_string()),
            "cancelled" => HostError::Cancelled,
            _ => HostError::Failed(message.to_string()),
        };
        self.answer(Err(error))
    }
}
