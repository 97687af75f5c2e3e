//! Process-wide artifact storages (one per database and configuration), the per-user
//! DB breaker, and the periodic cleanup of each storage. Both the breaker and the
//! cleanup follow the valves of the latest request, so an admin's change applies
//! without a restart. The engine only ever sees `Arc<dyn ArtifactStorage>`; which
//! backend serves a [`StorageConfig`] is decided here.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::artifact_location::Location;
use crate::artifacts::postgres::{PgConfig, PgStorage};
use crate::artifacts::{
    next_cleanup_delay, ArtifactStorage, ArtifactStore, Breaker, BreakerLimits, CleanupSchedule,
    CodecConfig, SqliteStorage, StoreConfig, StoreError,
};
use crate::emit::LogLevel;
use crate::ids;
use crate::logsink;
use crate::valves::settings::ArtifactSettings;

/// Which database holds the rows, and how they are encoded: what identifies one storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// The pipe's own SQLite file.
    Sqlite(StoreConfig),
    /// A PostgreSQL database.
    Postgres(PgConfig),
}

impl StorageConfig {
    /// Two configurations naming the same table of the same database (only one of
    /// them is kept open).
    fn same_table(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Sqlite(a), Self::Sqlite(b)) => {
                a.path == b.path
                    && crate::artifacts::table_name(&a.pipe_id, &a.codec.key)
                        == crate::artifacts::table_name(&b.pipe_id, &b.codec.key)
            }
            (Self::Postgres(a), Self::Postgres(b)) => {
                a.target == b.target
                    && crate::artifacts::table_name(&a.pipe_id, &a.codec.key)
                        == crate::artifacts::table_name(&b.pipe_id, &b.codec.key)
            }
            _ => false,
        }
    }

    /// A network database is not tried again for [`REOPEN_AFTER`] after a failed open, so
    /// requests during an outage do not each wait for a connect timeout.
    fn remembers_failures(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// How long a database that could not be opened is left alone before the next request
/// tries again (an outage costs one connect attempt per 30 s, not one per request).
pub const REOPEN_AFTER: Duration = Duration::from_secs(30);

/// An open storage and the schedule its cleanup loop follows.
struct OpenStore {
    config: StorageConfig,
    storage: Arc<dyn ArtifactStorage>,
    schedule: watch::Sender<CleanupSchedule>,
}

impl OpenStore {
    fn follow(&self, schedule: CleanupSchedule) -> Arc<dyn ArtifactStorage> {
        self.schedule.send_if_modified(|current| {
            let changed = *current != schedule;
            *current = schedule;
            changed
        });
        self.storage.clone()
    }
}

// An async mutex: opening a storage awaits (a blocking-pool task, a network connect)
// while it is held, so two requests never open the same database twice.
static STORES: tokio::sync::Mutex<Registry> = tokio::sync::Mutex::const_new(Registry {
    open: Vec::new(),
    failed: Vec::new(),
});

struct Registry {
    open: Vec<OpenStore>,
    /// Configurations whose last open failed, when, and why.
    failed: Vec<(StorageConfig, Instant, StoreError)>,
}
static BREAKER: OnceLock<Breaker> = OnceLock::new();

/// The per-user breaker guarding the artifact database, with `limits` from now on.
pub fn breaker(limits: BreakerLimits) -> &'static Breaker {
    Breaker::shared(&BREAKER, limits)
}

/// The codec the valves ask for.
fn codec(settings: &ArtifactSettings) -> CodecConfig {
    CodecConfig {
        key: settings.encryption_key(),
        encrypt_all: settings.encrypt_all,
        compression: settings.compression,
        min_compress_bytes: settings.min_compress_bytes,
    }
}

/// The storage configuration the valves ask for, at `location`.
pub fn config(settings: &ArtifactSettings, location: Location, pipe_id: &str) -> StorageConfig {
    match location {
        Location::Sqlite(path) => {
            let mut config = StoreConfig::new(path, pipe_id, codec(settings));
            config.batch_size = settings.batch_size;
            StorageConfig::Sqlite(config)
        }
        Location::Postgres(target) => StorageConfig::Postgres(PgConfig {
            target: *target,
            pipe_id: pipe_id.to_string(),
            codec: codec(settings),
            batch_size: settings.batch_size.max(1),
        }),
    }
}

/// The storage for `config` if it is already open, without waiting: `None` when it is
/// not open yet or another task is opening a storage right now. Its cleanup follows
/// `schedule` from now on.
pub fn cached(
    config: &StorageConfig,
    schedule: CleanupSchedule,
) -> Option<Arc<dyn ArtifactStorage>> {
    let stores = STORES.try_lock().ok()?;
    let open = stores.open.iter().find(|s| &s.config == config)?;
    Some(open.follow(schedule))
}

/// The open storage for `config`, opening it on first use. Opening starts the
/// storage's cleanup loop, which follows `schedule` (and later ones) from then on.
pub async fn get_or_open(
    config: StorageConfig,
    schedule: CleanupSchedule,
) -> Result<Arc<dyn ArtifactStorage>, StoreError> {
    let mut stores = STORES.lock().await;
    if let Some(open) = stores.open.iter().find(|s| s.config == config) {
        return Ok(open.follow(schedule));
    }
    stores
        .failed
        .retain(|(_, at, _)| at.elapsed() < REOPEN_AFTER);
    if let Some((_, at, e)) = stores.failed.iter().find(|(c, _, _)| c == &config) {
        let wait = REOPEN_AFTER.saturating_sub(at.elapsed()).as_secs().max(1);
        return Err(StoreError::Unavailable(format!(
            "{e} (next attempt in {wait} s)"
        )));
    }
    let storage = match open(config.clone()).await {
        Ok(storage) => storage,
        Err(e) => {
            if config.remembers_failures() {
                stores.failed.push((config, Instant::now(), e.clone()));
            }
            return Err(e);
        }
    };
    // With Redis in use, writes queue there and any worker flushes them (#13).
    let storage = match &config {
        StorageConfig::Sqlite(c) => crate::scaleout::wrap(storage, &c.pipe_id, c.codec.clone()),
        StorageConfig::Postgres(c) => crate::scaleout::wrap(storage, &c.pipe_id, c.codec.clone()),
    };
    stores.open.retain(|s| !s.config.same_table(&config));
    let (sender, receiver) = watch::channel(schedule);
    stores.open.push(OpenStore {
        config,
        storage: storage.clone(),
        schedule: sender,
    });
    spawn_cleanup(Arc::downgrade(&storage), receiver);
    Ok(storage)
}

/// Opens the backend `config` names.
async fn open(config: StorageConfig) -> Result<Arc<dyn ArtifactStorage>, StoreError> {
    match config {
        StorageConfig::Sqlite(config) => {
            let store = crate::sessionlog::spawn_blocking(move || ArtifactStore::open(config))
                .await
                .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))??;
            Ok(Arc::new(SqliteStorage::new(Arc::new(store))))
        }
        StorageConfig::Postgres(config) => {
            let target = config.target.redacted();
            let storage = PgStorage::open(config).await?;
            logsink::log(
                LogLevel::Info,
                format!("Artifact table ready: {} in {target}", storage.table_name()),
            );
            Ok(Arc::new(storage))
        }
    }
}

/// Deletes rows older than `ARTIFACT_CLEANUP_DAYS` (age refreshed on every read) right
/// away and then every `ARTIFACT_CLEANUP_INTERVAL_HOURS`, with jitter so several workers
/// sharing the file do not all clean at once. Stops when the store is dropped.
fn spawn_cleanup(
    storage: std::sync::Weak<dyn ArtifactStorage>,
    schedule: watch::Receiver<CleanupSchedule>,
) {
    crate::runtime::spawn(cleanup_loop(schedule, move |days| {
        let storage = storage.clone();
        async move {
            let Some(live) = storage.upgrade() else {
                return false;
            };
            match live.cleanup(days, SystemTime::now()).await {
                Ok(0) => {}
                Ok(n) => logsink::log(
                    LogLevel::Info,
                    format!("Artifact cleanup removed {n} old row(s)"),
                ),
                Err(e) => logsink::log(LogLevel::Warning, format!("Artifact cleanup failed: {e}")),
            }
            true
        }
    }));
}

/// Runs `pass` with the current retention in days right away, again after each
/// interval, and at once when the schedule changes (so a shorter retention or interval
/// takes effect without waiting out the old interval). Ends when `pass` returns false.
async fn cleanup_loop<F, Fut>(mut schedule: watch::Receiver<CleanupSchedule>, mut pass: F)
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = bool>,
{
    loop {
        let current = *schedule.borrow_and_update();
        if !pass(current.days).await {
            return;
        }
        let delay = next_cleanup_delay(current.interval_hours, ids::random_unit);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            changed = schedule.changed() => {
                if changed.is_err() {
                    // Nobody can change it any more: keep the last schedule.
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn schedule(days: u32, interval_hours: f64) -> CleanupSchedule {
        CleanupSchedule {
            days,
            interval_hours,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn cleanup_follows_a_changed_schedule_without_a_restart() {
        let (sender, receiver) = watch::channel(schedule(90, 24.0));
        let (passes_tx, mut passes) = tokio::sync::mpsc::unbounded_channel();
        let looping = tokio::spawn(cleanup_loop(receiver, move |days| {
            let _ = passes_tx.send(days);
            async { true }
        }));
        assert_eq!(passes.recv().await, Some(90), "a pass right away");
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(
            passes.try_recv().is_err(),
            "nothing within the 24 h interval"
        );
        sender.send_replace(schedule(7, 1.0));
        assert_eq!(passes.recv().await, Some(7), "the new retention, at once");
        let before = tokio::time::Instant::now();
        assert_eq!(passes.recv().await, Some(7));
        let waited = before.elapsed();
        assert!(
            waited >= Duration::from_secs(3600) && waited <= Duration::from_secs(3600 + 600),
            "then every hour (plus jitter), not every 24 h: {waited:?}"
        );
        looping.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn cleanup_stops_when_the_store_is_gone() {
        let (_sender, receiver) = watch::channel(schedule(90, 1.0));
        cleanup_loop(receiver, |_| async { false }).await;
    }
}
