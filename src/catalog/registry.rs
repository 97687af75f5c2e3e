//! The process-wide model catalog: one cache shared by every pipe instance in a
//! worker, refreshed by one task at a time, serving the last good copy when OpenRouter
//! is down, and backing off exponentially after failures.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::key_check;
use super::model::{parse_catalog, Model};
use crate::emit::LogLevel;
use crate::http;
use crate::logsink;
use crate::valves::Settings;

#[derive(Clone)]
struct Snapshot {
    base_url: String,
    models: Arc<Vec<Model>>,
    fetched_at: Instant,
}

#[derive(Default)]
struct State {
    snapshot: Option<Snapshot>,
    /// The gateway the failure counters below belong to.
    failing_base_url: Option<String>,
    failures: u32,
    retry_after: Option<Instant>,
    last_error: Option<String>,
}

static STATE: Mutex<State> = Mutex::new(State {
    snapshot: None,
    failing_base_url: None,
    failures: 0,
    retry_after: None,
    last_error: None,
});
static REFRESH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Why no catalog could be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogError {
    /// No API key is set (neither the valve nor `OPENROUTER_API_KEY`).
    MissingApiKey,
    /// The catalog could not be fetched or read, and none is cached; the text says why.
    Unavailable(String),
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CatalogError::MissingApiKey => write!(
                f,
                "no OpenRouter API key: set the API_KEY valve or the OPENROUTER_API_KEY environment variable"
            ),
            CatalogError::Unavailable(why) => write!(f, "OpenRouter model catalog unavailable: {why}"),
        }
    }
}

/// How long a fetched catalog (and the icon map that goes with it) stays fresh.
pub fn refresh_period(settings: &Settings) -> Duration {
    settings.catalog.refresh_period
}

fn lock() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

fn cached(base_url: &str) -> Option<Snapshot> {
    lock().snapshot.clone().filter(|s| s.base_url == base_url)
}

/// The catalog for these settings: fresh from cache, stale from cache while a
/// background refresh runs, or fetched now when nothing is cached.
pub async fn models(settings: &Settings) -> Result<Arc<Vec<Model>>, CatalogError> {
    let base_url = settings.connection.base_url.clone();
    let period = refresh_period(settings);
    if let Some(snap) = cached(&base_url) {
        if snap.fetched_at.elapsed() < period {
            return Ok(snap.models);
        }
        if !in_backoff(&base_url) {
            let settings = settings.clone();
            crate::runtime::spawn(async move {
                let _ = refresh(&settings).await;
            });
        }
        return Ok(snap.models);
    }
    refresh(settings).await
}

/// Whether refreshing the catalog at `base_url` waits out a backoff after failures.
pub(super) fn in_backoff(base_url: &str) -> bool {
    let state = lock();
    state.failing_base_url.as_deref() == Some(base_url)
        && state.retry_after.is_some_and(|t| Instant::now() < t)
}

/// Fetches the catalog again now (unless it backs off, or another task just did).
pub(super) async fn refetch(settings: &Settings) -> Result<Arc<Vec<Model>>, CatalogError> {
    refresh(settings).await
}

/// Fetches the catalog unless another task already did while this one waited.
async fn refresh(settings: &Settings) -> Result<Arc<Vec<Model>>, CatalogError> {
    let base_url = settings.connection.base_url.clone();
    let started = Instant::now();
    let _guard = REFRESH.lock().await;
    if let Some(snap) = cached(&base_url) {
        if snap.fetched_at >= started {
            return Ok(snap.models);
        }
    }
    let api_key = settings.connection.api_key();
    if api_key.is_empty() {
        return Err(CatalogError::MissingApiKey);
    }
    if in_backoff(&base_url) {
        let state = lock();
        return match &state.snapshot {
            Some(s) if s.base_url == base_url => Ok(s.models.clone()),
            _ => Err(CatalogError::Unavailable(
                state
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "refresh failed".into()),
            )),
        };
    }
    match fetch(settings, &base_url, &api_key).await {
        Ok(models) => {
            let models = Arc::new(models);
            let mut state = lock();
            state.snapshot = Some(Snapshot {
                base_url,
                models: models.clone(),
                fetched_at: Instant::now(),
            });
            if state.failing_base_url.as_deref() == Some(base_url_of(&state)) {
                state.failures = 0;
                state.retry_after = None;
                state.last_error = None;
                state.failing_base_url = None;
            }
            Ok(models)
        }
        Err(why) => {
            let mut state = lock();
            if state.failing_base_url.as_deref() != Some(base_url.as_str()) {
                state.failing_base_url = Some(base_url.clone());
                state.failures = 0;
            }
            state.failures = state.failures.saturating_add(1);
            // 5, 10, 20, 40, 80, 160 s, never longer than the refresh period.
            let backoff = Duration::from_secs(5u64 << (state.failures - 1).min(5))
                .min(refresh_period(settings));
            state.retry_after = Some(Instant::now() + backoff);
            state.last_error = Some(why.clone());
            let stale = state.snapshot.clone().filter(|s| s.base_url == base_url);
            drop(state);
            match stale {
                Some(snap) => {
                    logsink::log(
                        LogLevel::Warning,
                        format!(
                            "Catalog refresh failed ({why}); serving {} cached OpenRouter model(s); next try in {}s",
                            snap.models.len(),
                            backoff.as_secs()
                        ),
                    );
                    Ok(snap.models)
                }
                None => Err(CatalogError::Unavailable(why)),
            }
        }
    }
}

/// The catalog from another worker of the deployment (through Redis) when one fetched it
/// within the refresh period, else from OpenRouter (then shared with the others).
async fn fetch(settings: &Settings, base_url: &str, api_key: &str) -> Result<Vec<Model>, String> {
    let mut shared = crate::scaleout::shared_catalog::Shared::new(
        base_url,
        api_key,
        refresh_period(settings),
        settings.redis.cache_enabled,
    )
    .await;
    if let Some(body) = shared.cached_or_wait().await {
        if let Ok((models, _)) = parse_catalog(&body) {
            if !models.is_empty() {
                return Ok(models);
            }
        }
    }
    let fetched = fetch_from_openrouter(settings, base_url, api_key).await;
    match &fetched {
        Ok((_, body)) => shared.store(body).await,
        Err(_) => shared.give_up().await,
    }
    fetched.map(|(models, _)| models)
}

async fn fetch_from_openrouter(
    settings: &Settings,
    base_url: &str,
    api_key: &str,
) -> Result<(Vec<Model>, bytes::Bytes), String> {
    let client = http::client(http::Timeouts::from_settings(settings));
    let response = client
        .get(format!("{base_url}/models"))
        .headers(http::request_headers(settings, api_key, false))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| http::describe_error(&e))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| http::describe_error(&e))?;
    if status.as_u16() == 401 {
        key_check::mark_refused(base_url, api_key, refusal_message(&body));
    }
    if !status.is_success() {
        let snippet: String = String::from_utf8_lossy(&body).chars().take(300).collect();
        return Err(crate::errors::redact::redact(&format!(
            "HTTP {status}: {snippet}"
        )));
    }
    key_check::mark_accepted(base_url, api_key);
    let (models, skipped) = parse_catalog(&body)?;
    if models.is_empty() {
        // An empty list is a broken answer, not a catalog: the last good one is kept.
        return Err("OpenRouter returned an empty model list".into());
    }
    if skipped > 0 {
        logsink::log(
            LogLevel::Warning,
            format!("Skipped {skipped} malformed catalog entries"),
        );
    }
    Ok((models, body))
}

/// OpenRouter's `error.message` of a 401 body, redacted.
fn refusal_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = value.pointer("/error/message")?.as_str()?;
    Some(crate::errors::redact::redact(message)).filter(|m| !m.trim().is_empty())
}

fn base_url_of(state: &State) -> &str {
    state.snapshot.as_ref().map_or("", |s| s.base_url.as_str())
}

/// Finds the catalog model behind an Open WebUI model id suffix (`openai.gpt-4o-mini`).
pub fn resolve<'a>(models: &'a [Model], owui_suffix: &str) -> Option<&'a Model> {
    models
        .iter()
        .find(|m| m.owui_id() == owui_suffix)
        .or_else(|| models.iter().find(|m| m.id == owui_suffix))
        .or_else(|| {
            models
                .iter()
                .find(|m| m.owui_id().eq_ignore_ascii_case(owui_suffix))
        })
}

/// Makes the cached catalog look expired, so the next call refreshes it in the
/// background (tests; an admin action could use it too).
pub fn expire() {
    let mut state = lock();
    if let Some(snapshot) = state.snapshot.as_mut() {
        let now = Instant::now();
        snapshot.fetched_at = [86_400 * 7, 3_600, 600]
            .iter()
            .find_map(|secs| now.checked_sub(Duration::from_secs(*secs)))
            .unwrap_or(snapshot.fetched_at);
    }
    state.retry_after = None;
}
