//! Process-wide artifact stores (one per file and configuration), the per-user DB
//! breaker, and the periodic cleanup of each store.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use crate::artifacts::{
    ids, next_cleanup_delay, ArtifactStore, Breaker, CodecConfig, StoreConfig, StoreError,
};
use crate::logsink;
use crate::stream::emit::LogLevel;
use crate::valves::Settings;

static STORES: Mutex<Vec<Arc<ArtifactStore>>> = Mutex::new(Vec::new());
static BREAKER: OnceLock<Breaker> = OnceLock::new();

/// The per-user breaker guarding the artifact database.
pub fn breaker(settings: &Settings) -> &'static Breaker {
    BREAKER.get_or_init(|| {
        let failures = settings
            .int("BREAKER_MAX_FAILURES")
            .unwrap_or(5)
            .clamp(1, 50) as usize;
        let window = settings
            .int("BREAKER_WINDOW_SECONDS")
            .unwrap_or(60)
            .clamp(5, 900) as u64;
        Breaker::new(failures, Duration::from_secs(window))
    })
}

/// The store configuration the valves ask for, at `path`.
pub fn config(settings: &Settings, path: &str, pipe_id: &str) -> StoreConfig {
    let codec = CodecConfig {
        key: settings
            .secret("ARTIFACT_ENCRYPTION_KEY")
            .trim()
            .to_string(),
        encrypt_all: settings.bool("ENCRYPT_ALL"),
        compression: settings.bool("ENABLE_LZ4_COMPRESSION"),
        min_compress_bytes: settings.int("MIN_COMPRESS_BYTES").unwrap_or(0).max(0) as usize,
    };
    let mut config = StoreConfig::new(path, pipe_id, codec);
    config.batch_size = settings.int("DB_BATCH_SIZE").unwrap_or(10).clamp(1, 1000) as usize;
    config
}

/// The store for `config` if it is already open, without blocking: `None` when it is
/// not open yet or another thread is opening a store right now.
pub fn cached(config: &StoreConfig) -> Option<Arc<ArtifactStore>> {
    let stores = STORES.try_lock().ok()?;
    stores.iter().find(|s| s.config() == config).cloned()
}

/// The open store for `config`, opening it (blocking) on first use. Opening starts the
/// store's cleanup loop.
pub fn get_or_open(
    config: StoreConfig,
    settings: &Settings,
) -> Result<Arc<ArtifactStore>, StoreError> {
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(store) = stores.iter().find(|s| s.config() == &config) {
        return Ok(store.clone());
    }
    let store = Arc::new(ArtifactStore::open(config)?);
    stores
        .retain(|s| s.config().path != store.config().path || s.table_name() != store.table_name());
    stores.push(store.clone());
    spawn_cleanup(Arc::downgrade(&store), settings);
    Ok(store)
}

/// Deletes rows older than `ARTIFACT_CLEANUP_DAYS` (age refreshed on every read) right
/// away and then every `ARTIFACT_CLEANUP_INTERVAL_HOURS`, with jitter so several workers
/// sharing the file do not all clean at once. Stops when the store is dropped.
fn spawn_cleanup(store: std::sync::Weak<ArtifactStore>, settings: &Settings) {
    let days = settings
        .int("ARTIFACT_CLEANUP_DAYS")
        .unwrap_or(90)
        .clamp(1, 3650) as u32;
    let hours = settings
        .float("ARTIFACT_CLEANUP_INTERVAL_HOURS")
        .unwrap_or(1.0)
        .clamp(0.5, 24.0);
    crate::runtime::spawn(async move {
        loop {
            let Some(live) = store.upgrade() else { return };
            let result =
                tokio::task::spawn_blocking(move || live.cleanup(days, SystemTime::now())).await;
            match result {
                Ok(Ok(0)) | Err(_) => {}
                Ok(Ok(n)) => logsink::log(
                    LogLevel::Info,
                    format!("Artifact cleanup removed {n} old row(s)"),
                ),
                Ok(Err(e)) => {
                    logsink::log(LogLevel::Warning, format!("Artifact cleanup failed: {e}"))
                }
            }
            tokio::time::sleep(next_cleanup_delay(hours, ids::random_unit)).await;
        }
    });
}
