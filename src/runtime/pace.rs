//! Batching the engine's network wake-ups while answers stream.
//!
//! At a model's pace (~100 deltas/s per answer), every delta is its own TCP segment,
//! and a worker asleep in `epoll_wait` is woken for each one: a context switch, an
//! `epoll_wait`, a read and the task hand-offs, repeated 5,000 times a second for 50
//! answers. That costs far more than handling the delta itself. Deltas are held by the
//! coalescer for its window anyway, so while answers stream an idle worker naps (see
//! [`before_park`]) and one `epoll_wait` collects every segment that arrived meanwhile.
//!
//! Latency stays where users notice it: a request that has not shown its first token
//! (or a model list, or a non-streamed answer) holds an [`Urgent`] guard, which wakes
//! napping workers and stops naps, so the first token is not delayed. Once the newest
//! such request has waited [`FRESH`] (a reasoning model thinking silently), naps resume
//! but last at most [`STALE_NAP`]: its first token may then arrive up to 10 ms late,
//! 1% of what it already waited, and the other answers keep most of the saving.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The longest nap, in ms; `OPENROUTER_PIPE_BATCH_MS` lowers it (0 turns naps off).
const MAX_NAP_MS: usize = 50;
const DEFAULT_NAP_MS: usize = 40;

/// How long urgent work stops naps completely.
pub const FRESH: Duration = Duration::from_secs(1);
/// The longest nap while urgent work older than [`FRESH`] is pending.
pub const STALE_NAP: Duration = Duration::from_millis(10);

static URGENT: AtomicUsize = AtomicUsize::new(0);
/// When the newest urgent work started, in ns since [`epoch`].
static NEWEST_URGENT: AtomicU64 = AtomicU64::new(0);
/// Live streamed answers by coalescing window in ms (longer windows count as the longest nap).
static STREAMS_BY_WINDOW: [AtomicUsize; MAX_NAP_MS + 1] =
    [const { AtomicUsize::new(0) }; MAX_NAP_MS + 1];
static GATE: Mutex<()> = Mutex::new(());
static WAKE: Condvar = Condvar::new();

fn nap_limit_ms() -> usize {
    static LIMIT: OnceLock<usize> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("OPENROUTER_PIPE_BATCH_MS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map_or(DEFAULT_NAP_MS, |ms| ms.min(MAX_NAP_MS))
    })
}

/// How long an idle worker may nap now: never while no answer streams, never longer
/// than the shortest coalescing window of a live answer (so no answer's text waits
/// longer than its window asked for), and not at all, or briefly, while urgent work is
/// pending (see the module docs).
pub fn nap() -> Duration {
    let shortest = STREAMS_BY_WINDOW
        .iter()
        .position(|count| count.load(Ordering::SeqCst) > 0);
    let Some(window_ms) = shortest else {
        return Duration::ZERO;
    };
    let nap = Duration::from_millis(window_ms.min(nap_limit_ms()) as u64);
    if URGENT.load(Ordering::SeqCst) == 0 {
        return nap;
    }
    let newest = Duration::from_nanos(NEWEST_URGENT.load(Ordering::SeqCst));
    nap_while_urgent(nap, since_epoch(Instant::now()).saturating_sub(newest))
}

/// The nap allowed while urgent work is pending, the newest of it `age` old.
fn nap_while_urgent(nap: Duration, age: Duration) -> Duration {
    if age < FRESH {
        Duration::ZERO
    } else {
        nap.min(STALE_NAP)
    }
}

/// The pacing clock's origin: the first time it is read.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn since_epoch(at: Instant) -> Duration {
    at.saturating_duration_since(epoch())
}

/// When text held until `deadline` should actually go out: a napping runtime wakes at
/// most one nap late, so the text is sent on the last wake-up before its deadline.
pub fn due(deadline: Instant) -> Instant {
    deadline.checked_sub(nap()).unwrap_or(deadline)
}

/// Held while some work must not wait for a nap (a first token, a model list, a
/// non-streamed answer).
#[must_use]
pub struct Urgent(());

impl Urgent {
    pub fn new() -> Self {
        let started = since_epoch(Instant::now()).as_nanos() as u64;
        NEWEST_URGENT.fetch_max(started, Ordering::SeqCst);
        URGENT.fetch_add(1, Ordering::SeqCst);
        // Taking the lock orders this with a worker that checked the count and is
        // about to wait, so the notification cannot be lost.
        drop(GATE.lock().unwrap_or_else(|p| p.into_inner()));
        WAKE.notify_all();
        Self(())
    }
}

impl Default for Urgent {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Urgent {
    fn drop(&mut self) {
        release(&URGENT);
    }
}

/// Decrements without wrapping: a guard taken before a fork may be dropped after the
/// child reset the counts.
fn release(count: &AtomicUsize) {
    let _ = count.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
}

/// Held for the life of a streamed answer with its coalescing window: naps only pay
/// while answers stream, and only as long as their windows allow.
#[must_use]
pub struct Streaming {
    bucket: usize,
}

impl Streaming {
    pub fn new(window: Duration) -> Self {
        let bucket = (window.as_millis() as usize).min(MAX_NAP_MS);
        let current = nap();
        STREAMS_BY_WINDOW[bucket].fetch_add(1, Ordering::SeqCst);
        if !current.is_zero() && (bucket as u128) < current.as_millis() {
            // A shorter window than a worker may be napping for: cut the nap short.
            drop(GATE.lock().unwrap_or_else(|p| p.into_inner()));
            WAKE.notify_all();
        }
        Self { bucket }
    }
}

/// Whether an answer with this window must register at once rather than when it first
/// holds text: a window shorter than the longest nap must shorten naps from the start.
pub fn registers_at_once(window: Duration) -> bool {
    (window.as_millis() as usize) < nap_limit_ms()
}

impl Drop for Streaming {
    fn drop(&mut self) {
        release(&STREAMS_BY_WINDOW[self.bucket]);
    }
}

/// Forgets every registration: a forked child inherits the parent's counts but none of
/// the requests behind them (called when a process builds its own runtime).
pub fn reset_after_fork() {
    URGENT.store(0, Ordering::SeqCst);
    for count in &STREAMS_BY_WINDOW {
        count.store(0, Ordering::SeqCst);
    }
}

/// Called by each worker just before it parks (tokio's `on_thread_park`).
///
/// Naps end on a shared grid of `nap()` steps, and only the first worker to wake at a
/// grid point goes on to park on the I/O driver; the others nap until the next point.
/// Workers napping out of step would take turns waiting in `epoll_wait` and be woken
/// for single segments again.
pub fn before_park() {
    loop {
        let step = nap();
        if step.is_zero() {
            return;
        }
        let now = Instant::now();
        let (rest, point) = next_step(now, step);
        let gate = GATE.lock().unwrap_or_else(|p| p.into_inner());
        let (_gate, waited) = WAKE
            .wait_timeout_while(gate, rest, |_| nap() >= step)
            .unwrap_or_else(|p| p.into_inner());
        if !waited.timed_out() || LAST_TURN.fetch_max(point, Ordering::SeqCst) < point {
            return;
        }
    }
}

/// The grid point (ns since the pacing epoch) whose turn a worker last took.
static LAST_TURN: AtomicU64 = AtomicU64::new(0);

/// Time from `now` to the next multiple of `step` since the pacing epoch, and that
/// point in ns since the epoch.
fn next_step(now: Instant, step: Duration) -> (Duration, u64) {
    let step_ns = step.as_nanos().max(1) as u64;
    let since = since_epoch(now).as_nanos() as u64;
    let point = (since / step_ns + 1) * step_ns;
    (Duration::from_nanos(point - since), point)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counters are process-wide; these tests must not overlap.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn naps_follow_the_shortest_window_and_stop_for_urgent_work() {
        let _serial = SERIAL.lock().unwrap();
        if nap() != Duration::ZERO {
            return; // another test module streams right now
        }
        let slow = Streaming::new(Duration::from_secs(1));
        assert_eq!(nap(), Duration::from_millis(nap_limit_ms() as u64));
        let fast = Streaming::new(Duration::from_millis(15));
        assert_eq!(nap(), Duration::from_millis(15.min(nap_limit_ms()) as u64));
        let urgent = Urgent::new();
        assert_eq!(nap(), Duration::ZERO);
        let deadline = Instant::now() + Duration::from_millis(100);
        assert_eq!(due(deadline), deadline);
        drop(urgent);
        drop(fast);
        drop(slow);
        assert_eq!(nap(), Duration::ZERO);
    }

    #[test]
    fn urgent_work_stops_naps_at_first_then_allows_short_ones() {
        let forty = Duration::from_millis(40);
        assert_eq!(nap_while_urgent(forty, Duration::ZERO), Duration::ZERO);
        assert_eq!(nap_while_urgent(forty, FRESH / 2), Duration::ZERO);
        assert_eq!(nap_while_urgent(forty, FRESH), STALE_NAP);
        let five = Duration::from_millis(5);
        assert_eq!(nap_while_urgent(five, FRESH * 30), five);
    }

    #[test]
    fn naps_end_on_a_shared_grid() {
        let step = Duration::from_millis(40);
        let _ = next_step(Instant::now(), step); // the epoch is set on first use
        let now = Instant::now();
        let (rest, point) = next_step(now, step);
        assert!(rest <= step && !rest.is_zero());
        let (rest_later, same) = next_step(now + rest / 2, step);
        assert_eq!(
            same, point,
            "workers napping at different times wake together"
        );
        assert_eq!(rest_later, rest - rest / 2);
        let (_, next) = next_step(now + rest, step);
        assert_eq!(next, point + step.as_nanos() as u64);
    }

    #[test]
    fn a_napping_worker_wakes_when_urgent_work_arrives() {
        let _serial = SERIAL.lock().unwrap();
        let streaming = Streaming::new(Duration::from_secs(1));
        let napper = std::thread::spawn(|| {
            let start = Instant::now();
            let gate = GATE.lock().unwrap();
            let _ = WAKE.wait_timeout_while(gate, Duration::from_secs(5), |_| !nap().is_zero());
            start.elapsed()
        });
        std::thread::sleep(Duration::from_millis(50));
        let urgent = Urgent::new();
        let napped = napper.join().unwrap();
        assert!(napped < Duration::from_secs(1), "napped {napped:?}");
        drop(urgent);
        drop(streaming);
    }
}
