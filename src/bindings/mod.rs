//! The PyO3 layer: `openrouter_pipe._native`. Thin on purpose — it parses what Python
//! hands over, starts engine work on the fork-safe runtime, and converts results back.

mod stream;
mod waker;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::mpsc;

use crate::engine;
use crate::runtime::{self, ForkSafe};
use crate::stream::emit::{Emit, LogLevel};
use crate::stream::owui;
use crate::valves::Settings;
use crate::{catalog, logsink};

pub use stream::{ChatStream, Ready};

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

/// Log lines queued by the engine: `[(level, message)]`, oldest first.
#[pyfunction]
fn drain_logs() -> Vec<(&'static str, String)> {
    logsink::drain()
        .into_iter()
        .map(|(level, msg)| (level.as_str(), msg))
        .collect()
}

/// One model for Open WebUI: `(id, name, description, capabilities_json, icon_url)`.
type ModelEntry = (String, String, Option<String>, String, Option<String>);

/// The models to list: awaitable of
/// `([(id, name, description, capabilities_json, icon_url)], error)`.
#[pyfunction]
fn list_models(py: Python<'_>, valves_json: String) -> PyResult<Bound<'_, PyAny>> {
    let settings = Settings::from_json(&valves_json);
    let urgent = runtime::pace::Urgent::new();
    pyo3_async_runtimes::generic::future_into_py::<ForkSafe, _, _>(py, async move {
        let join = runtime::spawn(async move {
            let _urgent = urgent;
            match models_and_icons(&settings).await {
                Ok((models, icons)) => (select_entries(&settings, &models, &icons), None),
                Err(err) => (Vec::new(), Some(err.to_string())),
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
        let settings = Settings::from_json(&valves_json);
        if settings.api_key().is_empty() {
            return;
        }
        let _ = models_and_icons(&settings).await;
    });
}

/// The catalog, and the icon map when model images are synced (both cached).
async fn models_and_icons(
    settings: &Settings,
) -> Result<(std::sync::Arc<Vec<catalog::Model>>, catalog::icons::Icons), catalog::CatalogError> {
    let models = catalog::models(settings).await?;
    let icons = if settings.bool("UPDATE_MODEL_IMAGES") {
        catalog::icons::icons(settings).await
    } else {
        Default::default()
    };
    Ok((models, icons))
}

fn select_entries(
    settings: &Settings,
    models: &[catalog::Model],
    icons: &std::collections::HashMap<String, String>,
) -> Vec<ModelEntry> {
    let (chosen, missing) = catalog::select::select(&settings.str("MODEL_ID"), models);
    if !missing.is_empty() {
        logsink::log(
            LogLevel::Warning,
            format!(
                "MODEL_ID entries not in the catalog: {}",
                missing.join(", ")
            ),
        );
    }
    let mut list: Vec<ModelEntry> = chosen
        .iter()
        .map(|m| {
            (
                m.owui_id(),
                m.display_name().to_string(),
                m.description.clone().filter(|d| !d.trim().is_empty()),
                catalog::capabilities::capabilities(m).to_string(),
                icons.get(&m.id).cloned(),
            )
        })
        .collect();
    list.sort_by_cached_key(|entry| entry.1.to_lowercase());
    list
}

/// Starts a streaming answer; returns the [`ChatStream`] at once. The request is parsed
/// on a tokio thread, never on the caller's event loop.
#[pyfunction]
fn start_chat(request_json: String) -> ChatStream {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let wake = std::sync::Arc::new(waker::WakeState::default());
    let on_send: engine::sink::OnSend = {
        let wake = wake.clone();
        std::sync::Arc::new(move || wake.fire())
    };
    let first_token = runtime::pace::Urgent::new();
    let work = runtime::spawn(engine::entry::stream(
        request_json,
        tx.clone(),
        on_send,
        first_token,
    ));
    let abort = work.abort_handle();
    let done_wake = wake.clone();
    runtime::spawn(async move {
        if matches!(work.await, Err(err) if err.is_panic()) {
            logsink::log(
                LogLevel::Error,
                "internal error while streaming an answer (panic)",
            );
            if let Some(item) = owui::item(&engine::notices::internal_error()) {
                let _ = tx.send(item).await;
            }
        }
        drop(tx);
        done_wake.fire();
    });
    ChatStream::new(rx, abort, wake)
}

/// Tokens of the streams that became ready (see [`waker`]).
#[pyfunction]
fn take_ready() -> Vec<u64> {
    waker::take_ready()
}

/// Runs a complete (non-streaming) answer: awaitable of
/// `(text, events_json, usage_json, answered)`.
#[pyfunction]
fn complete_chat(py: Python<'_>, request_json: String) -> PyResult<Bound<'_, PyAny>> {
    let urgent = runtime::pace::Urgent::new();
    pyo3_async_runtimes::generic::future_into_py::<ForkSafe, _, _>(py, async move {
        let answer = runtime::spawn(async move {
            let _urgent = urgent;
            engine::entry::complete(request_json).await
        });
        match answer.await {
            Ok((sink, outcome)) => Ok((
                sink.text,
                serde_json::Value::Array(sink.events).to_string(),
                sink.usage.map(|u| u.to_string()),
                outcome == engine::Outcome::Answered,
            )),
            Err(_) => {
                logsink::log(LogLevel::Error, "internal error while completing an answer");
                let text = match engine::notices::internal_error() {
                    Emit::Content(text) => text.trim_start().to_string(),
                    _ => String::new(),
                };
                Ok((text, "[]".to_string(), None, false))
            }
        }
    })
}

/// Copies reference-pipe artifact rows (`rows_json`: a JSON array of rows) into `table`
/// of the SQLite file at `path`; returns how many were new. Blocking: for the command
/// line, not for Open WebUI's event loop.
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
    m.add_function(wrap_pyfunction!(list_models, m)?)?;
    m.add_function(wrap_pyfunction!(warm_catalog, m)?)?;
    m.add_function(wrap_pyfunction!(start_chat, m)?)?;
    m.add_function(wrap_pyfunction!(take_ready, m)?)?;
    m.add_function(wrap_pyfunction!(complete_chat, m)?)?;
    m.add_function(wrap_pyfunction!(import_artifact_rows, m)?)?;
    m.add_class::<ChatStream>()?;
    m.add_class::<Ready>()?;
    Ok(())
}
