//! Why this module exists (#14): an operator must find one request in Open WebUI's log and,
//! with archives on, read everything it logged. Each chat request runs inside a
//! [`RequestLog`] (a tokio task-local set by the entry points): every engine log line is
//! tagged with the request, user, chat and message ids (and the error id once a card
//! carries one), filtered by that request's `LOG_LEVEL` before anything is formatted, and,
//! when the request gets an archive, captured at every level for its encrypted zip.

pub mod archive;
pub mod cleanup;
pub mod live;
mod lzma_zip;
pub mod record;
pub mod timing;
pub mod writer;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use crate::emit::{Emit, LogLevel};
use crate::engine::ChatRequest;
use crate::valves::{LogThreshold, Settings};
use archive::{ArchiveContent, Packing};
use record::{Record, Stamp};
use timing::{Phase, Timing};

tokio::task_local! {
    static CURRENT: Arc<RequestLog>;
}

/// Where the archive of a request goes, when it gets one.
struct ArchivePlan {
    base: std::path::PathBuf,
    packing: Packing,
    password: String,
    max_lines: usize,
    retention: std::time::Duration,
    cleanup_interval: std::time::Duration,
}

#[derive(Default)]
struct State {
    error_id: Option<String>,
    records: VecDeque<Record>,
    dropped: usize,
    timing: Option<Timing>,
    archived: bool,
}

/// The log context of one chat request.
pub struct RequestLog {
    stamp: Stamp,
    threshold: LogThreshold,
    /// Values that must never be logged (API key, encryption key, zip password).
    secrets: Vec<String>,
    archive: Option<ArchivePlan>,
    first_token_seen: AtomicBool,
    state: Mutex<State>,
}

static WARNED_NO_PASSWORD: AtomicBool = AtomicBool::new(false);
static WARNED_NO_DIR: AtomicBool = AtomicBool::new(false);

fn warn_once(flag: &AtomicBool, message: &str) {
    if !flag.swap(true, Ordering::Relaxed) {
        crate::logsink::log(LogLevel::Warning, message);
    }
}

fn id(value: &Option<String>) -> String {
    value.as_deref().unwrap_or("").trim().to_string()
}

/// A request id from Python is used only when it is short and plain (letters, digits,
/// `-`, `_`), since it goes into every log line and the archive's `meta.json`.
fn usable_request_id(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl RequestLog {
    /// The context of `req`, accepted by the engine at `accepted`.
    pub fn new(req: &ChatRequest, settings: &Settings, accepted: Instant) -> Self {
        let stamp = Stamp {
            request_id: req
                .request_id
                .as_deref()
                .filter(|id| usable_request_id(id))
                .map_or_else(crate::ids::new_id, str::to_owned),
            user_id: id(&req.user_id),
            session_id: id(&req.session_id),
            chat_id: id(&req.chat_id),
            message_id: id(&req.message_id),
        };
        let archive = Self::plan(req, &stamp, settings);
        let mut secrets = vec![
            settings.connection.api_key(),
            settings.artifacts.encryption_key(),
        ];
        if let Some(plan) = &archive {
            secrets.push(plan.password.clone());
        }
        secrets.retain(|s| s.len() >= 4);
        Self {
            stamp,
            threshold: settings.logging.threshold,
            secrets,
            archive,
            first_token_seen: AtomicBool::new(false),
            state: Mutex::new(State {
                timing: Some(Timing::new(accepted)),
                ..State::default()
            }),
        }
    }

    /// An archive only for chat requests with every id, when the valves allow it; a
    /// missing password or folder is said once per process.
    fn plan(req: &ChatRequest, stamp: &Stamp, settings: &Settings) -> Option<ArchivePlan> {
        let a = &settings.logging.archive;
        if !a.enabled || req.task.is_some() {
            return None;
        }
        let ids = [
            &stamp.user_id,
            &stamp.session_id,
            &stamp.chat_id,
            &stamp.message_id,
        ];
        if ids.iter().any(|i| i.is_empty()) {
            return None;
        }
        if a.dir.is_empty() {
            warn_once(&WARNED_NO_DIR, "Session log storage is enabled but SESSION_LOG_DIR is empty; no archives are written");
            return None;
        }
        let password = a.password();
        if password.is_empty() {
            warn_once(&WARNED_NO_PASSWORD, "Session log storage is enabled but SESSION_LOG_ZIP_PASSWORD is empty; no archives are written");
            return None;
        }
        Some(ArchivePlan {
            base: writer::expand_home(&a.dir),
            packing: Packing {
                format: a.format,
                compression: a.compression,
                level: a.compress_level,
            },
            password,
            max_lines: a.max_lines,
            retention: a.retention,
            cleanup_interval: a.cleanup_interval,
        })
    }

    /// This request's id.
    pub fn request_id(&self) -> &str {
        &self.stamp.request_id
    }

    /// Whether this request gets an archive.
    pub fn archives(&self) -> bool {
        self.archive.is_some()
    }

    /// Whether a line of `level` goes anywhere (the console or the archive).
    pub fn wants(&self, level: LogLevel) -> bool {
        self.archive.is_some() || self.threshold.passes(level)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes the request's secrets from `message` (after the generic key redaction).
    fn redact(&self, message: &str) -> String {
        let mut text = crate::errors::redact::redact(message);
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[redacted]");
            }
        }
        text
    }

    /// `[request=… user=… chat=… message=… error=…]`, what every console line starts with.
    fn tag(&self, error_id: Option<&str>) -> String {
        let or_dash = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
            }
        };
        let s = &self.stamp;
        let mut tag = format!(
            "[request={} user={} chat={} message={}",
            s.request_id,
            or_dash(&s.user_id),
            or_dash(&s.chat_id),
            or_dash(&s.message_id)
        );
        if let Some(e) = error_id {
            tag.push_str(" error=");
            tag.push_str(e);
        }
        tag.push(']');
        tag
    }

    /// Takes one line of this request.
    pub fn log(&self, level: LogLevel, message: &str, at: &'static Location<'static>) {
        self.log_at(level, module_of(at.file()), at.line(), message);
    }

    /// Takes one line of this request, from `module` at `lineno` (a Python module's lines).
    pub fn log_at(&self, level: LogLevel, module: &'static str, lineno: u32, message: &str) {
        let console = self.threshold.passes(level);
        let capture = self.archive.as_ref().map(|p| p.max_lines);
        if !console && capture.is_none() {
            return;
        }
        let message = self.redact(message);
        let mut state = self.lock();
        if let Some(error_id) = error_id_of(&message) {
            state.error_id = Some(error_id.to_string());
        }
        if console {
            let line = format!("{} {message}", self.tag(state.error_id.as_deref()));
            crate::logsink::push(level, line);
        }
        if let Some(max) = capture {
            if state.records.len() >= max {
                state.records.pop_front();
                state.dropped += 1;
            }
            state
                .records
                .push_back(Record::now(level, module, lineno, message));
        }
    }

    /// Adds `took` to `phase`.
    pub fn add_time(&self, phase: Phase, took: std::time::Duration) {
        if let Some(t) = self.lock().timing.as_mut() {
            t.add(phase, took);
        }
    }

    fn note_first_token(&self) {
        if self.first_token_seen.load(Ordering::Relaxed)
            || self.first_token_seen.swap(true, Ordering::Relaxed)
        {
            return;
        }
        if let Some(t) = self.lock().timing.as_mut() {
            t.first_token.get_or_insert_with(Instant::now);
        }
    }

    fn note_output_tokens(&self, tokens: u64) {
        if let Some(t) = self.lock().timing.as_mut() {
            t.output_tokens = Some(tokens);
        }
    }

    /// The timing breakdown so far.
    pub fn timing_json(&self) -> Value {
        self.lock()
            .timing
            .as_ref()
            .map_or(Value::Null, |t| t.json(Instant::now()))
    }

    /// Hands the archive to the writer (once; a request with no records gets none).
    /// Called when the request ends, however it ends (answered, failed, cancelled).
    pub fn finish(&self) {
        let Some(plan) = &self.archive else {
            return;
        };
        let content = {
            let mut state = self.lock();
            if state.archived || state.records.is_empty() {
                return;
            }
            state.archived = true;
            ArchiveContent {
                stamp: self.stamp.clone(),
                records: state.records.drain(..).collect(),
                dropped: state.dropped,
                timing: state
                    .timing
                    .as_ref()
                    .map_or(Value::Null, |t| t.json(Instant::now())),
                created: record::Record::now(LogLevel::Debug, "", 0, String::new()).created,
            }
        };
        writer::submit(writer::Job {
            base: plan.base.clone(),
            content,
            packing: plan.packing,
            password: plan.password.clone(),
            retention: plan.retention,
            cleanup_interval: plan.cleanup_interval,
        });
    }
}

/// How many of the request's latest lines (INFO and above) an error card's citation shows.
const CITED_LINES: usize = 20;

impl RequestLog {
    /// The source an error card carries when its request keeps an archive (#14): the error
    /// and request ids, where the archive will be (under `SESSION_LOG_DIR`), and the
    /// request's latest lines at INFO and above, redacted as every line is. DEBUG lines
    /// (outbound bodies, upstream events) stay in the archive, for the operator only.
    pub fn card_citation(&self, error_id: &str) -> Option<Emit> {
        self.archive.as_ref()?;
        let s = &self.stamp;
        let archive = writer::archive_path(
            std::path::Path::new(""),
            &s.user_id,
            &s.chat_id,
            &s.message_id,
        );
        let archive = archive.to_string_lossy().into_owned();
        let lines: Vec<String> = {
            let state = self.lock();
            let mut recent: Vec<String> = state
                .records
                .iter()
                .rev()
                .filter(|r| r.level >= LogLevel::Info)
                .take(CITED_LINES)
                .map(|r| r.text(&self.stamp))
                .collect();
            recent.reverse();
            recent
        };
        let name = format!("Session log {error_id}");
        let document = format!(
            "Error ID: {error_id}\nRequest: {}\nSession log archive: {archive} (in the server's SESSION_LOG_DIR)\n\n{}",
            s.request_id,
            lines.join("\n")
        );
        Some(Emit::Source(serde_json::json!({
            "source": {"id": format!("session-log-{error_id}"), "name": name},
            "document": [document],
            "metadata": [{
                "source": name,
                "name": name,
                "error_id": error_id,
                "request_id": s.request_id,
                "archive": archive,
            }],
        })))
    }
}

/// The error id of an error card's log line (`[<error id>] …`), when the current request
/// keeps an archive (so a citation follows the line).
pub fn card_error_id(emit: &Emit) -> Option<String> {
    let Emit::Log { message, .. } = emit else {
        return None;
    };
    let error_id = error_id_of(message)?;
    with_current(RequestLog::archives)
        .unwrap_or(false)
        .then(|| error_id.to_string())
}

/// The current request's citation for the card with `error_id` (see
/// [`RequestLog::card_citation`]).
pub fn card_citation(error_id: &str) -> Option<Emit> {
    with_current(|log| log.card_citation(error_id)).flatten()
}

/// The error id a card's log line starts with: `[0123456789abcdef] …`.
fn error_id_of(message: &str) -> Option<&str> {
    let id = message.strip_prefix('[')?.get(..16)?;
    (message.as_bytes().get(17) == Some(&b']') && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(id)
}

/// `src/engine/turn.rs` → `engine/turn`.
fn module_of(file: &'static str) -> &'static str {
    let file = file.rsplit_once("src/").map_or(file, |(_, rest)| rest);
    file.strip_suffix(".rs").unwrap_or(file)
}

/// Ends the archive when dropped: the request future finished or was aborted.
pub struct FinishOnDrop(pub Arc<RequestLog>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Runs `work` inside `log`'s context; the archive is handed over when it ends or is
/// dropped.
pub async fn scope<F: std::future::Future>(log: Arc<RequestLog>, work: F) -> F::Output {
    let _live = live::enter(&log);
    let _finish = FinishOnDrop(log.clone());
    CURRENT.scope(log, work).await
}

/// Runs `f` with the current request's context, if this task has one.
pub fn with_current<R>(f: impl FnOnce(&RequestLog) -> R) -> Option<R> {
    CURRENT.try_with(|log| f(log)).ok()
}

/// Spawns `work` as its own task inside the current request's log context (if any), so
/// its lines are tagged and archived with the request that started it.
pub fn spawn<F>(work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match CURRENT.try_with(Arc::clone) {
        Ok(log) => tokio::spawn(CURRENT.scope(log, work)),
        Err(_) => tokio::spawn(work),
    }
}

/// Runs `work` on a blocking thread (database calls) inside the current request's log
/// context (if any).
pub fn spawn_blocking<F, R>(work: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match CURRENT.try_with(Arc::clone) {
        Ok(log) => tokio::task::spawn_blocking(move || CURRENT.sync_scope(log, work)),
        Err(_) => tokio::task::spawn_blocking(work),
    }
}

/// Times one phase of the current request until dropped.
pub struct PhaseTimer {
    phase: Phase,
    since: Instant,
}

impl Drop for PhaseTimer {
    fn drop(&mut self) {
        let took = self.since.elapsed();
        with_current(|log| log.add_time(self.phase, took));
    }
}

/// Starts timing `phase` of the current request.
pub fn phase(phase: Phase) -> PhaseTimer {
    PhaseTimer {
        phase,
        since: Instant::now(),
    }
}

/// Notes the first text or reasoning of the current request.
pub fn note_emit(emit: &Emit) {
    if matches!(emit, Emit::Content(_) | Emit::Reasoning(_)) {
        with_current(|log| log.note_first_token());
    }
}

/// Notes the answer's usage so far (`output_tokens`).
pub fn note_usage(usage: Option<&Value>) {
    if let Some(tokens) = usage
        .and_then(|u| u.get("output_tokens"))
        .and_then(Value::as_u64)
    {
        with_current(|log| log.note_output_tokens(tokens));
    }
}
