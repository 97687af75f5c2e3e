//! Process-wide artifact stores (one per file and configuration), the per-user DB
//! breaker, and the periodic cleanup of each store. Both the breaker and the cleanup
//! follow the valves of the latest request, so an admin's change applies without a
//! restart.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use tokio::sync::watch;

use crate::artifacts::{
    next_cleanup_delay, ArtifactStore, Breaker, BreakerLimits, CleanupSchedule, CodecConfig,
    StoreConfig, StoreError,
};
use crate::emit::LogLevel;
use crate::ids;
use crate::logsink;
use crate::valves::settings::ArtifactSettings;

/// An open store and the schedule its cleanup loop follows.
struct OpenStore {
    store: Arc<ArtifactStore>,
    schedule: watch::Sender<CleanupSchedule>,
}

impl OpenStore {
    fn follow(&self, schedule: CleanupSchedule) -> Arc<ArtifactStore> {
        self.schedule.send_if_modified(|current| {
            let changed = *current != schedule;
            *current = schedule;
            changed
        });
        self.store.clone()
    }
}

static STORES: Mutex<Vec<OpenStore>> = Mutex::new(Vec::new());
static BREAKER: OnceLock<Breaker> = OnceLock::new();

/// The per-user breaker guarding the artifact database, with `limits` from now on.
pub fn breaker(limits: BreakerLimits) -> &'static Breaker {
    Breaker::shared(&BREAKER, limits)
}

/// The store configuration the valves ask for, at `path`.
pub fn config(settings: &ArtifactSettings, path: &str, pipe_id: &str) -> StoreConfig {
    let codec = CodecConfig {
        key: settings.encryption_key(),
        encrypt_all: settings.encrypt_all,
        compression: settings.compression,
        min_compress_bytes: settings.min_compress_bytes,
    };
    let mut config = StoreConfig::new(path, pipe_id, codec);
    config.batch_size = settings.batch_size;
    config
}

/// The store for `config` if it is already open, without blocking: `None` when it is
/// not open yet or another thread is opening a store right now. Its cleanup follows
/// `schedule` from now on.
pub fn cached(config: &StoreConfig, schedule: CleanupSchedule) -> Option<Arc<ArtifactStore>> {
    let stores = STORES.try_lock().ok()?;
    let open = stores.iter().find(|s| s.store.config() == config)?;
    Some(open.follow(schedule))
}

/// The open store for `config`, opening it (blocking) on first use. Opening starts the
/// store's cleanup loop, which follows `schedule` (and later ones) from then on.
pub fn get_or_open(
    config: StoreConfig,
    schedule: CleanupSchedule,
) -> Result<Arc<ArtifactStore>, StoreError> {
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(open) = stores.iter().find(|s| s.store.config() == &config) {
        return Ok(open.follow(schedule));
    }
    let store = Arc::new(ArtifactStore::open(config)?);
    stores.retain(|s| {
        s.store.config().path != store.config().path || s.store.table_name() != store.table_name()
    });
    let (sender, receiver) = watch::channel(schedule);
    stores.push(OpenStore {
        store: store.clone(),
        schedule: sender,
    });
    spawn_cleanup(Arc::downgrade(&store), receiver);
    Ok(store)
}

/// Deletes rows older than `ARTIFACT_CLEANUP_DAYS` (age refreshed on every read) right
/// away and then every `ARTIFACT_CLEANUP_INTERVAL_HOURS`, with jitter so several workers
/// sharing the file do not all clean at once. Stops when the store is dropped.
fn spawn_cleanup(
    store: std::sync::Weak<ArtifactStore>,
    schedule: watch::Receiver<CleanupSchedule>,
) {
    crate::runtime::spawn(cleanup_loop(schedule, move |days| {
        let store = store.clone();
        async move {
            let Some(live) = store.upgrade() else {
                return false;
            };
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
