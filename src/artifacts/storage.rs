//! The one storage interface the engine uses for every artifact operation.
//!
//! [`ArtifactStorage`] is async and object-safe: the engine holds an
//! `Arc<dyn ArtifactStorage>` and never knows which database is behind it. Backends:
//! [`SqliteStorage`] (the embedded default; its blocking calls run on tokio's blocking
//! pool) and, in `postgres`, the PostgreSQL store. Layers that add policy wrap the
//! interface, not a backend: [`Guarded`] puts the per-user [`Breaker`] in front of any
//! storage, so every backend (and any layer between, such as a write-behind cache) is
//! guarded the same way.
//!
//! Every backend keeps the reference pipe's table layout and encoding, so the rows of
//! one are rows of the other.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use super::breaker::Breaker;
use super::store::{ArtifactStore, Fetched, NewArtifact, StoreError};

/// What every storage operation returns: a future the engine awaits.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Persist, fetch, delete, clean up and count the artifact rows of one pipe id and key.
///
/// Implementations never block the caller's thread and never panic; every failure is a
/// [`StoreError`]. The semantics match [`ArtifactStore`]'s methods of the same name.
pub trait ArtifactStorage: Send + Sync + fmt::Debug {
    /// Stores `rows` (`DB_BATCH_SIZE` per transaction) and returns their ids in input
    /// order; invalid rows are left out and an id already stored counts as stored.
    fn persist(&self, rows: Vec<NewArtifact>) -> StoreFuture<'_, Vec<String>>;

    /// The stored items among `ids` of `chat_id` (and `message_id` when given); found
    /// rows get their age refreshed (best effort, reported in [`Fetched::touch_error`]).
    fn fetch(
        &self,
        chat_id: String,
        message_id: Option<String>,
        ids: Vec<String>,
    ) -> StoreFuture<'_, Fetched>;

    /// Deletes the rows with these ids; returns how many were deleted.
    fn delete(&self, ids: Vec<String>) -> StoreFuture<'_, usize>;

    /// Deletes rows unused for more than `older_than_days` days before `now`.
    fn cleanup(&self, older_than_days: u32, now: SystemTime) -> StoreFuture<'_, usize>;

    /// Number of rows in this storage's table.
    fn count(&self) -> StoreFuture<'_, usize>;

    /// The table the rows live in (`response_items_<fragment>_<hash>`).
    fn table_name(&self) -> &str;

    /// Where the rows live, safe for logs (no password).
    fn location(&self) -> String;
}

/// The SQLite backend: an [`ArtifactStore`] whose blocking calls run on the blocking pool.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    store: Arc<ArtifactStore>,
}

impl SqliteStorage {
    /// Wraps an open store.
    pub fn new(store: Arc<ArtifactStore>) -> Self {
        Self { store }
    }

    /// The store underneath (its configuration identifies it).
    pub fn store(&self) -> &Arc<ArtifactStore> {
        &self.store
    }

    fn run<T, F>(&self, op: F) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&ArtifactStore) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        Box::pin(async move {
            // Lines logged by the blocking work stay in the request's session log.
            crate::sessionlog::spawn_blocking(move || op(&store))
                .await
                .unwrap_or_else(|e| Err(StoreError::Unavailable(format!("store task failed: {e}"))))
        })
    }
}

impl ArtifactStorage for SqliteStorage {
    fn persist(&self, rows: Vec<NewArtifact>) -> StoreFuture<'_, Vec<String>> {
        self.run(move |s| s.persist(&rows))
    }

    fn fetch(
        &self,
        chat_id: String,
        message_id: Option<String>,
        ids: Vec<String>,
    ) -> StoreFuture<'_, Fetched> {
        self.run(move |s| s.fetch(&chat_id, message_id.as_deref(), &ids))
    }

    fn delete(&self, ids: Vec<String>) -> StoreFuture<'_, usize> {
        self.run(move |s| s.delete(&ids))
    }

    fn cleanup(&self, older_than_days: u32, now: SystemTime) -> StoreFuture<'_, usize> {
        self.run(move |s| s.cleanup(older_than_days, now))
    }

    fn count(&self) -> StoreFuture<'_, usize> {
        self.run(|s| s.count())
    }

    fn table_name(&self) -> &str {
        self.store.table_name()
    }

    fn location(&self) -> String {
        format!("sqlite:{}", self.store.path().display())
    }
}

/// Any storage behind one user's breaker: while the breaker is open every operation
/// fails at once with [`StoreError::Unavailable`] (the database is not touched); each
/// outcome is counted (a success closes the breaker, a failure counts towards opening it).
#[derive(Debug, Clone)]
pub struct Guarded<'b> {
    inner: Arc<dyn ArtifactStorage>,
    breaker: &'b Breaker,
    user_id: String,
}

/// Why a guarded operation did not run.
pub const BREAKER_OPEN: &str = "skipped after repeated database errors";

impl<'b> Guarded<'b> {
    /// `inner` guarded by `breaker` for `user_id`.
    pub fn new(inner: Arc<dyn ArtifactStorage>, breaker: &'b Breaker, user_id: &str) -> Self {
        Self {
            inner,
            breaker,
            user_id: user_id.to_string(),
        }
    }

    /// True while the breaker lets this user's operations run.
    pub fn allows(&self) -> bool {
        self.breaker.allows(&self.user_id)
    }

    fn guard<'a, T: Send + 'a>(&'a self, op: StoreFuture<'a, T>) -> StoreFuture<'a, T> {
        if !self.allows() {
            drop(op);
            return Box::pin(async { Err(StoreError::Unavailable(BREAKER_OPEN.into())) });
        }
        Box::pin(async move {
            let result = op.await;
            match &result {
                Ok(_) => self.breaker.record_success(&self.user_id),
                Err(_) => self.breaker.record_failure(&self.user_id),
            }
            result
        })
    }
}

impl ArtifactStorage for Guarded<'_> {
    fn persist(&self, rows: Vec<NewArtifact>) -> StoreFuture<'_, Vec<String>> {
        self.guard(self.inner.persist(rows))
    }

    fn fetch(
        &self,
        chat_id: String,
        message_id: Option<String>,
        ids: Vec<String>,
    ) -> StoreFuture<'_, Fetched> {
        self.guard(self.inner.fetch(chat_id, message_id, ids))
    }

    fn delete(&self, ids: Vec<String>) -> StoreFuture<'_, usize> {
        self.guard(self.inner.delete(ids))
    }

    fn cleanup(&self, older_than_days: u32, now: SystemTime) -> StoreFuture<'_, usize> {
        self.guard(self.inner.cleanup(older_than_days, now))
    }

    fn count(&self) -> StoreFuture<'_, usize> {
        self.guard(self.inner.count())
    }

    fn table_name(&self) -> &str {
        self.inner.table_name()
    }

    fn location(&self) -> String {
        self.inner.location()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A storage whose every operation fails, counting the calls that reached it.
    #[derive(Debug, Default)]
    struct Down {
        calls: AtomicUsize,
    }

    impl Down {
        fn fail<T: Send + 'static>(&self) -> StoreFuture<'_, T> {
            Box::pin(async move {
                self.calls.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::Unavailable("connection refused".into()))
            })
        }
    }

    impl ArtifactStorage for Down {
        fn persist(&self, _: Vec<NewArtifact>) -> StoreFuture<'_, Vec<String>> {
            self.fail()
        }
        fn fetch(&self, _: String, _: Option<String>, _: Vec<String>) -> StoreFuture<'_, Fetched> {
            self.fail()
        }
        fn delete(&self, _: Vec<String>) -> StoreFuture<'_, usize> {
            self.fail()
        }
        fn cleanup(&self, _: u32, _: SystemTime) -> StoreFuture<'_, usize> {
            self.fail()
        }
        fn count(&self) -> StoreFuture<'_, usize> {
            self.fail()
        }
        fn table_name(&self) -> &str {
            "response_items_t_00000000"
        }
        fn location(&self) -> String {
            "down".into()
        }
    }

    #[tokio::test]
    async fn the_breaker_in_front_of_any_storage_stops_calling_it_after_repeated_failures() {
        let down = Arc::new(Down::default());
        let breaker = Breaker::new(2, Duration::from_secs(60));
        let alice = Guarded::new(down.clone(), &breaker, "alice");
        assert!(alice.count().await.is_err());
        assert!(alice
            .fetch("c".into(), None, vec!["x".into()])
            .await
            .is_err());
        assert_eq!(down.calls.load(Ordering::SeqCst), 2);
        let skipped = alice.persist(Vec::new()).await.unwrap_err();
        assert_eq!(skipped, StoreError::Unavailable(BREAKER_OPEN.into()));
        assert_eq!(
            down.calls.load(Ordering::SeqCst),
            2,
            "not called while open"
        );
        let bob = Guarded::new(down.clone(), &breaker, "bob");
        assert!(bob.delete(vec!["x".into()]).await.is_err());
        assert_eq!(
            down.calls.load(Ordering::SeqCst),
            3,
            "other users still reach it"
        );
        assert_eq!(alice.table_name(), "response_items_t_00000000");
    }
}
