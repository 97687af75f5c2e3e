//! The tokio runtime that drives every request, safe across `fork()`.
//!
//! A tokio runtime does not survive `fork()`: the child inherits its data but none of
//! its worker threads, so every future hangs (gunicorn `--preload`, Celery prefork,
//! `multiprocessing` "fork"). The runtime is therefore created lazily and keyed by the
//! process id; a child builds its own on first use and deliberately leaks the parent's
//! (dropping it would try to join threads that do not exist in the child).

use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pyo3_async_runtimes::generic::{ContextExt, JoinError, Runtime as GenericRuntime};
use pyo3_async_runtimes::TaskLocals;
use tokio::runtime::{Builder, Handle, Runtime};

pub mod pace;

static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The current process's runtime handle, building the runtime on first use.
pub fn handle() -> Handle {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, rt)) = *slot {
        if owner == pid {
            return rt.handle().clone();
        }
    }
    if slot.is_some() {
        pace::reset_after_fork();
    }
    let runtime = Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .thread_name("openrouter-pipe")
        .on_thread_park(pace::before_park)
        .enable_all()
        .build()
        .expect("cannot start the tokio runtime");
    let leaked: &'static Runtime = Box::leak(Box::new(runtime));
    *slot = Some((pid, leaked));
    leaked.handle().clone()
}

/// Two workers are plenty for I/O-bound streaming; more only adds contention with
/// Open WebUI's own threads. `OPENROUTER_PIPE_WORKER_THREADS` overrides it.
fn worker_threads() -> usize {
    std::env::var("OPENROUTER_PIPE_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &usize| *n > 0 && *n <= 64)
        .unwrap_or(2)
}

/// Spawns a future on the current process's runtime, boxed: a chat's future is tens of
/// KiB, and tokio moves an unboxed future through several frames into its task cell
/// (callgrind: about 80,000 instructions of `memcpy` per chat before it was boxed).
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    handle().spawn(Box::pin(fut))
}

/// Set when the interpreter is about to be torn down (Python's `atexit`). A tokio thread
/// that attaches to a finalizing interpreter aborts the whole process ("PyGILState_Release:
/// thread state must be current"), which a worker exiting with an answer still pending
/// did in CI (measured: about 1 run in 30 of 40 pending calls then exit); so from then on
/// a result that would be handed to Python is dropped instead.
static EXITING: AtomicBool = AtomicBool::new(false);
/// Hand-overs to Python under way, which [`close_for_exit`] lets finish.
static HANDING_OVER: AtomicUsize = AtomicUsize::new(0);

/// Stops handing results to Python before the interpreter exits: waits up to `wait` for
/// polls already under way (the caller has released the GIL they may need).
pub fn close_for_exit(wait: Duration) {
    EXITING.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + wait;
    while HANDING_OVER.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Marker type plugging [`handle`] into pyo3-async-runtimes' generic bridge.
pub struct ForkSafe;

/// Wrapper so the foreign `JoinError` trait can be implemented for tokio's error.
pub struct TaskJoinError(tokio::task::JoinError);

impl JoinError for TaskJoinError {
    fn is_panic(&self) -> bool {
        self.0.is_panic()
    }
    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0.into_panic()
    }
}

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl GenericRuntime for ForkSafe {
    type JoinError = TaskJoinError;
    type JoinHandle = Pin<Box<dyn Future<Output = Result<(), TaskJoinError>> + Send>>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let join = handle().spawn(Box::pin(fut));
        Box::pin(async move { join.await.map_err(TaskJoinError) })
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        // The bridge hands every result to Python here (the only place a tokio thread
        // attaches to the interpreter), so this is where exiting is checked.
        let join = handle().spawn_blocking(move || {
            HANDING_OVER.fetch_add(1, Ordering::SeqCst);
            if !EXITING.load(Ordering::SeqCst) {
                f();
            }
            HANDING_OVER.fetch_sub(1, Ordering::SeqCst);
        });
        Box::pin(async move { join.await.map_err(TaskJoinError) })
    }
}

impl ContextExt for ForkSafe {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_process_reuses_one_runtime() {
        let a = handle().spawn(async { 1 + 1 });
        let b = handle();
        assert_eq!(b.block_on(a).unwrap(), 2);
        let first = RUNTIME
            .lock()
            .unwrap()
            .map(|(pid, rt)| (pid, rt as *const Runtime));
        let _ = handle();
        let second = RUNTIME
            .lock()
            .unwrap()
            .map(|(pid, rt)| (pid, rt as *const Runtime));
        assert_eq!(first, second);
    }
}
