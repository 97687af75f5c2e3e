//! Admission control, the mechanism: at most `concurrent` requests of this worker
//! process hold a slot at once, at most `queued` more wait for one (first come, first
//! served), and anything beyond that is refused at once. Background tasks (titles,
//! tags) take their turn in the same line but never hold more than a quarter of the
//! slots, so a burst of them cannot starve chats. The limits follow the valves while
//! the line runs: raising them admits waiters at once; lowering them lets requests
//! that hold a slot finish and admits no one until the count is below the new limit.
//!
//! Nothing here blocks a thread: waiting is a future, and dropping it (the chat was
//! cancelled) leaves the line at once; dropping a [`Permit`] frees its slot for the
//! next waiter. What to tell the user is decided by the caller ([`super::gate`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::oneshot;

/// Which kind of request asks for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// A chat answer (streamed or not).
    Chat,
    /// An Open WebUI background task (title, tags, follow-ups).
    Task,
}

/// How many requests run and wait at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests holding a slot at once (at least 1).
    pub concurrent: usize,
    /// Requests waiting for a slot; 0 means none wait.
    pub queued: usize,
}

impl Limits {
    /// Tasks may hold at most a quarter of the slots (at least one).
    pub fn task_slots(&self) -> usize {
        (self.concurrent / 4).max(1)
    }
}

/// The answer to asking for a slot.
pub enum Entry {
    /// A slot was free.
    Admitted(Permit),
    /// In line; await [`Queued::admitted`].
    Queued(Queued),
    /// Every slot is taken and the line is full.
    Busy {
        /// Requests holding a slot.
        in_flight: usize,
        /// Requests waiting.
        queued: usize,
    },
}

/// One process's slots and waiting line.
pub struct Admission {
    state: Mutex<State>,
}

struct State {
    limits: Limits,
    in_flight: usize,
    tasks_in_flight: usize,
    next_id: u64,
    waiting: VecDeque<Waiter>,
}

struct Waiter {
    id: u64,
    lane: Lane,
    since: Instant,
    grant: oneshot::Sender<Permit>,
}

/// A held slot; dropping it frees the slot for the next waiter.
pub struct Permit {
    admission: Arc<Admission>,
    lane: Lane,
    waited: Duration,
}

impl Permit {
    /// How long the request waited in line (zero when a slot was free).
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.admission.release(self.lane);
    }
}

/// A place in line. Dropping it leaves the line at once.
pub struct Queued {
    admission: Arc<Admission>,
    id: u64,
    grant: oneshot::Receiver<Permit>,
}

impl Queued {
    /// Waits for a slot. `None` only if the grant went missing, which cannot happen
    /// while this future holds the place (the caller answers it as busy).
    pub async fn admitted(mut self) -> Option<Permit> {
        (&mut self.grant).await.ok()
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        let mut state = self.admission.lock();
        if let Some(at) = state.waiting.iter().position(|w| w.id == self.id) {
            state.waiting.remove(at);
        }
    }
}

impl Admission {
    /// An empty line with these limits.
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                limits: normalised(limits),
                in_flight: 0,
                tasks_in_flight: 0,
                next_id: 0,
                waiting: VecDeque::new(),
            }),
        })
    }

    /// The process-wide line, following `limits` as they change.
    pub fn shared(limits: Limits) -> Arc<Self> {
        static SHARED: OnceLock<Arc<Admission>> = OnceLock::new();
        let admission = SHARED.get_or_init(|| Admission::new(limits)).clone();
        admission.reconfigure(limits);
        admission
    }

    /// Applies new limits; waiters that now fit are admitted at once. Waiters beyond a
    /// smaller line keep their place (they were promised one).
    pub fn reconfigure(self: &Arc<Self>, limits: Limits) {
        let grants = {
            let mut state = self.lock();
            let limits = normalised(limits);
            if state.limits == limits {
                return;
            }
            state.limits = limits;
            self.dispatch(&mut state)
        };
        hand_out(grants);
    }

    /// Asks for a slot for a request of `lane`.
    pub fn enter(self: &Arc<Self>, lane: Lane) -> Entry {
        let mut state = self.lock();
        // Waiters that could start were admitted when the state last changed, so a new
        // request that can start jumps no one who could.
        if state.can_start(lane) {
            state.take(lane);
            return Entry::Admitted(Permit {
                admission: self.clone(),
                lane,
                waited: Duration::ZERO,
            });
        }
        if state.waiting.len() >= state.limits.queued {
            return Entry::Busy {
                in_flight: state.in_flight,
                queued: state.waiting.len(),
            };
        }
        let (tx, rx) = oneshot::channel();
        let id = state.next_id;
        state.next_id += 1;
        state.waiting.push_back(Waiter {
            id,
            lane,
            since: Instant::now(),
            grant: tx,
        });
        Entry::Queued(Queued {
            admission: self.clone(),
            id,
            grant: rx,
        })
    }

    /// `(holding a slot, waiting)` right now.
    #[cfg(test)]
    pub fn load(&self) -> (usize, usize) {
        let state = self.lock();
        (state.in_flight, state.waiting.len())
    }

    fn release(self: &Arc<Self>, lane: Lane) {
        let grants = {
            let mut state = self.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
            if lane == Lane::Task {
                state.tasks_in_flight = state.tasks_in_flight.saturating_sub(1);
            }
            self.dispatch(&mut state)
        };
        hand_out(grants);
    }

    /// Takes the slots that can be handed out now, in line order; sent after unlocking.
    fn dispatch(self: &Arc<Self>, state: &mut State) -> Vec<(oneshot::Sender<Permit>, Permit)> {
        let mut grants = Vec::new();
        let mut at = 0;
        while at < state.waiting.len() && state.in_flight < state.limits.concurrent {
            let lane = state.waiting[at].lane;
            if !state.can_start(lane) {
                at += 1;
                continue;
            }
            let Some(waiter) = state.waiting.remove(at) else {
                break;
            };
            state.take(lane);
            let permit = Permit {
                admission: self.clone(),
                lane,
                waited: waiter.since.elapsed(),
            };
            grants.push((waiter.grant, permit));
        }
        grants
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn can_start(&self, lane: Lane) -> bool {
        self.in_flight < self.limits.concurrent
            && (lane == Lane::Chat || self.tasks_in_flight < self.limits.task_slots())
    }

    fn take(&mut self, lane: Lane) {
        self.in_flight += 1;
        if lane == Lane::Task {
            self.tasks_in_flight += 1;
        }
    }
}

/// Sends granted permits; one whose waiter just left is dropped, which frees its slot
/// for the next in line (outside the lock, so this may recurse once per departed waiter).
fn hand_out(grants: Vec<(oneshot::Sender<Permit>, Permit)>) {
    for (tx, permit) in grants {
        if let Err(unwanted) = tx.send(permit) {
            drop(unwanted);
        }
    }
}

fn normalised(limits: Limits) -> Limits {
    Limits {
        concurrent: limits.concurrent.max(1),
        queued: limits.queued,
    }
}

#[cfg(test)]
mod tests;
