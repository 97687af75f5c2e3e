//! The PyO3 layer: `openrouter_pipe._native`. Thin on purpose — it parses what Python
//! hands over, starts engine work on the fork-safe runtime, and converts results back.

mod host;
mod stream;
mod waker;

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::mpsc;

use crate::emit::{Emit, LogLevel};
use crate::engine;
use crate::runtime::{self, ForkSafe};
use crate::stream::owui;
use crate::valves::Settings;
use crate::{catalog, logsink};

pub use host::HostRequest;
pub use stream::{ChatStream, Completion, CompletionSlot, Ready};

use crate::engine::host::Outgoing;

/// Items buffered between the engine and Python before the engine waits.
const CHANNEL_CAPACITY: usize = 512;

/// Every valve declaration as JSON (the single source of truth for the pydantic models).
#[pyfunction]
fn valve_specs() -> String {
    crate::valves::export::valves_json()
}

/// `vendor/model` → `vendor.model`, as model ids appear in Open WebUI.
#[pyfunction]
fn sanitize_model_id(model_id: &str) -> String {
    catalog::sanitize_model_id(model_id)
}

/// Called from Python's `atexit`: results are no longer handed to the interpreter that is
/// about to exit (see [`runtime::close_for_exit`]). The GIL is released meanwhile, so a
/// hand-over already under way can finish.
#[pyfunction]
fn close_for_exit(py: Python<'_>) {
    py.detach(|| runtime::close_for_exit(std::time::Duration::from_millis(250)));
}

/// A Python line about the request `request_id`: tagged, filtered by that request's
/// `LOG_LEVEL` and archived with it. `False` when that request is not under way (the
/// caller logs the line itself).
#[pyfunction]
fn request_log(request_id: &str, level: &str, module: &str, lineno: u32, message: &str) -> bool {
    crate::sessionlog::live::log_from_python(request_id, level, module, lineno, message)
}

/// Log lines queued by the engine: `[(level, message)]`, oldest first.
#[pyfunction]
fn drain_logs() -> Vec<(&'static str, String)> {
    logsink::drain()
        .into_iter()
        .map(|(level, msg)| (level.as_str(), msg))
        .collect()
}

/// One model for Open WebUI's selector and model entry.
#[pyclass(module = "openrouter_pipe._native", frozen, get_all)]
pub struct ModelEntry {
    /// `vendor.model`, as Open WebUI shows it after the Function id.
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Open WebUI's capability flags, as JSON text.
    pub capabilities_json: String,
    pub icon_url: Option<String>,
    /// What the pipe may send for this model (`function_calling`, `web_search_tool`, …),
    /// as JSON text; `{}` when the catalog no longer has it.
    pub features_json: String,
}

impl ModelEntry {
    /// The listed model, with the engine-side features of its catalog entry.
    fn new(m: engine::models::Listed, catalog: &[catalog::Model]) -> Self {
        let features = catalog::resolve(catalog, &m.id)
            .map(catalog::capabilities::features)
            .unwrap_or_else(|| serde_json::json!({}));
        Self {
            id: m.id,
            name: m.name,
            description: m.description,
            capabilities_json: m.capabilities.to_string(),
            icon_url: m.icon_url,
            features_json: features.to_string(),
        }
    }
}

/// The models to list: awaitable of `([ModelEntry], error)`; the last good catalog is
/// served during outages.
#[pyfunction]
fn list_models(py: Python<'_>, valves_json: String) -> PyResult<Bound<'_, PyAny>> {
    let settings = Settings::from_json(&valves_json);
    let urgent = runtime::pace::Urgent::new();
    pyo3_async_runtimes::generic::future_into_py::<ForkSafe, _, _>(py, async move {
        let join = runtime::spawn(async move {
            let _urgent = urgent;
            match engine::models::list(&settings).await {
                Ok(list) => {
                    // The list came from this cached catalog, so this does not fetch again.
                    let catalog = catalog::models(&settings).await.unwrap_or_default();
                    let entries = list.into_iter().map(|m| ModelEntry::new(m, &catalog));
                    (entries.collect(), None)
                }
                Err(err) => (Vec::<ModelEntry>::new(), Some(err.to_string())),
            }
        });
        join.await
            .map_err(|e| PyValueError::new_err(format!("catalog task failed: {e}")))
    })
}

/// Fetches the catalog in the background (when a key is set), so the first model list
/// or chat after start does not wait for it. Returns at once; parsing happens on tokio.
#[pyfunction]
fn warm_catalog(valves_json: String) {
    runtime::spawn(async move {
        engine::models::warm(&Settings::from_json(&valves_json)).await;
    });
}

/// Records the deployment (Redis and worker settings the Python side read from the
/// environment) and returns whether Redis will be used; warnings for an incomplete
/// multi-worker set-up go to the log queue. Unreadable JSON means no Redis.
#[pyfunction]
fn configure_deployment(deployment_json: String) -> bool {
    match serde_json::from_str::<crate::scaleout::Deployment>(&deployment_json) {
        Ok(deployment) => crate::scaleout::configure(&deployment),
        Err(e) => {
            crate::logsink::log(
                crate::LogLevel::Warning,
                format!("Unreadable deployment settings ({e}); Redis is not used"),
            );
            false
        }
    }
}

/// How an answer is delivered to Python.
struct Delivery {
    tx: mpsc::Sender<Outgoing>,
    on_send: engine::sink::OnSend,
    wake: Arc<waker::WakeState>,
    completion: CompletionSlot,
}

impl Delivery {
    fn new() -> (Self, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let wake = Arc::new(waker::WakeState::default());
        let on_send: engine::sink::OnSend = {
            let wake = wake.clone();
            Arc::new(move || wake.fire())
        };
        let delivery = Self {
            tx,
            on_send,
            wake,
            completion: Arc::default(),
        };
        (delivery, rx)
    }

    fn host(&self) -> engine::host::ChannelHost {
        engine::host::ChannelHost::new(self.tx.clone(), self.on_send.clone())
    }

    /// Runs `work` on the engine; the stream ends when it does. A panic becomes a
    /// visible message (a line, or the completion's text), never a silent end.
    fn start<F>(self, rx: mpsc::Receiver<Outgoing>, collect: bool, work: F) -> ChatStream
    where
        F: std::future::Future<Output = Option<Completion>> + Send + 'static,
    {
        let work = runtime::spawn(work);
        let abort = work.abort_handle();
        let Delivery {
            tx,
            wake,
            completion,
            ..
        } = self;
        let slot = completion.clone();
        let done_wake = wake.clone();
        runtime::spawn(async move {
            let result = match work.await {
                Ok(result) => result,
                Err(err) => {
                    // Reached by a panic outside the answer's own guard (reading the
                    // request, building its settings): the built-in internal-error card.
                    // A cancelled answer's text is never read; it keeps the plain notice.
                    let card = if err.is_panic() {
                        engine::notices::internal_failure_before_settings()
                    } else {
                        vec![engine::notices::internal_error()]
                    };
                    if err.is_panic() {
                        logsink::log(LogLevel::Error, "internal error while answering (panic)");
                        for emit in &card {
                            match emit {
                                Emit::Log { level, message } => {
                                    logsink::log(*level, message.clone())
                                }
                                _ if collect => {}
                                other => {
                                    if let Some(item) = owui::item(other) {
                                        let _ = tx.send(Outgoing::Line(item)).await;
                                    }
                                }
                            }
                        }
                    }
                    collect.then(|| Completion {
                        text: card
                            .iter()
                            .filter_map(|emit| match emit {
                                Emit::Content(text) => Some(text.as_str()),
                                _ => None,
                            })
                            .collect::<String>()
                            .trim_start()
                            .to_string(),
                        usage_json: None,
                        answered: false,
                    })
                }
            };
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = result;
            drop(tx);
            done_wake.fire();
        });
        ChatStream::new(rx, abort, wake, completion)
    }
}

/// Starts an answer and returns its [`ChatStream`] at once; the request is parsed on a
/// tokio thread, never on the caller's event loop. `collect` runs a complete answer
/// (`stream: false`, tasks): no lines, only host calls, then a [`Completion`].
#[pyfunction]
#[pyo3(signature = (request_json, collect = false, blobs = Vec::new()))]
fn start_chat(
    request_json: pyo3::pybacked::PyBackedStr,
    collect: bool,
    blobs: Vec<pyo3::pybacked::PyBackedStr>,
) -> ChatStream {
    // Borrowed from Python's str objects (no copy of a request carrying a 50 MB
    // attachment); the engine drops them right after parsing.
    let request_json = engine::entry::WithBlobs {
        json: request_json,
        blobs,
    };
    let (delivery, rx) = Delivery::new();
    if collect {
        let host = delivery.host();
        let urgent = runtime::pace::Urgent::new();
        return delivery.start(rx, true, async move {
            let _urgent = urgent;
            let (sink, outcome) = engine::entry::complete(request_json, Some(host)).await;
            Some(Completion {
                text: sink.text,
                usage_json: sink.usage.map(|u| u.to_string()),
                answered: outcome == engine::Outcome::Answered,
            })
        });
    }
    let first_token = runtime::pace::Urgent::new();
    let (tx, on_send) = (delivery.tx.clone(), delivery.on_send.clone());
    delivery.start(rx, false, async move {
        engine::entry::stream(request_json, tx, on_send, first_token).await;
        None
    })
}

/// Runs the host calls of `plan_json` (a JSON array of `{op, args, timeout}`) through a
/// session like an answer's: the self-check of the port. Each outcome is one JSON line
/// of answer text (a content line when streamed, the completion's text when collected).
#[pyfunction]
#[pyo3(signature = (plan_json, collect = false))]
fn probe_host(plan_json: String, collect: bool) -> ChatStream {
    let (delivery, rx) = Delivery::new();
    let host = delivery.host();
    let (tx, on_send) = (delivery.tx.clone(), delivery.on_send.clone());
    delivery.start(rx, collect, async move {
        let mut text = String::new();
        for line in engine::probe::run(&plan_json, &host).await {
            let line = format!("{line}\n");
            if !collect {
                if let Some(item) = owui::item(&Emit::Content(line.clone())) {
                    if tx.send(Outgoing::Line(item)).await.is_err() {
                        return None;
                    }
                    on_send();
                }
            }
            text.push_str(&line);
        }
        collect.then_some(Completion {
            text,
            usage_json: None,
            answered: true,
        })
    })
}

/// Tokens of the streams that became ready (see [`waker`]).
#[pyfunction]
fn take_ready() -> Vec<u64> {
    waker::take_ready()
}

/// Copies artifact rows (`rows_json`: a JSON array of rows) into `table` of the SQLite
/// file at `path`, or of the PostgreSQL database when `path` is a `postgresql://` URL;
/// returns how many were new. Blocking: for the command line, not for Open WebUI's event
/// loop. Errors never show the database password.
#[pyfunction]
fn import_artifact_rows(
    py: Python<'_>,
    path: String,
    table: String,
    rows_json: String,
) -> PyResult<usize> {
    py.detach(move || {
        let rows: Vec<crate::artifacts::import::RawRow> = serde_json::from_str(&rows_json)
            .map_err(|e| PyValueError::new_err(format!("bad rows: {e}")))?;
        if crate::artifacts::postgres::is_postgres_url(&path) {
            let target = crate::artifacts::postgres::PgTarget::parse(&path)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            return crate::runtime::handle()
                .block_on(crate::artifacts::postgres::import_rows(
                    &target, &table, &rows,
                ))
                .map_err(|e| PyValueError::new_err(e.to_string()));
        }
        crate::artifacts::import::import_rows(std::path::Path::new(&path), &table, &rows)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    })
}

#[pymodule(gil_used = false)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(valve_specs, m)?)?;
    m.add_function(wrap_pyfunction!(sanitize_model_id, m)?)?;
    m.add_function(wrap_pyfunction!(drain_logs, m)?)?;
    m.add_function(wrap_pyfunction!(close_for_exit, m)?)?;
    m.add_function(wrap_pyfunction!(request_log, m)?)?;
    m.add_function(wrap_pyfunction!(list_models, m)?)?;
    m.add_function(wrap_pyfunction!(warm_catalog, m)?)?;
    m.add_function(wrap_pyfunction!(configure_deployment, m)?)?;
    m.add_function(wrap_pyfunction!(start_chat, m)?)?;
    m.add_function(wrap_pyfunction!(take_ready, m)?)?;
    m.add_function(wrap_pyfunction!(probe_host, m)?)?;
    m.add_function(wrap_pyfunction!(import_artifact_rows, m)?)?;
    m.add_class::<ChatStream>()?;
    m.add_class::<Ready>()?;
    m.add_class::<HostRequest>()?;
    m.add_class::<Completion>()?;
    m.add_class::<ModelEntry>()?;
    Ok(())
}
