//! Waking Python's event loop without the GIL.
//!
//! When a stream's queue is empty, Python arms it with a token and a pipe descriptor
//! watched by its event loop (`loop.add_reader`). The engine, after queueing items,
//! records the token as ready and writes one byte to the pipe; the loop's reader
//! callback takes the ready tokens and resolves the matching futures. No tokio thread
//! ever takes the GIL, and no task or thread is started per item (the generic bridge
//! costs ~50 µs of CPU per hand-off; this path costs a pipe write and a loop wake-up).

use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Mutex;

static READY: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// Takes the tokens of every stream that became ready since the last call.
pub fn take_ready() -> Vec<u64> {
    std::mem::take(&mut *READY.lock().unwrap_or_else(|p| p.into_inner()))
}

fn signal(fd: i32, token: u64) {
    READY.lock().unwrap_or_else(|p| p.into_inner()).push(token);
    if fd >= 0 {
        // The descriptor belongs to Python; borrow it without closing it. A full pipe
        // (EAGAIN) is fine: unread bytes already guarantee a wake-up that takes all tokens.
        // A byte is written for every token (not only the first one queued): a token left
        // behind by an event loop that is gone must not swallow the next loop's wake-up.
        let file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
        let _ = (&*file).write(&[1]);
    }
}

/// The wake-up registration of one stream.
#[derive(Debug)]
pub struct WakeState {
    armed: AtomicBool,
    fd: AtomicI32,
    token: AtomicU64,
}

impl Default for WakeState {
    fn default() -> Self {
        Self {
            armed: AtomicBool::new(false),
            fd: AtomicI32::new(-1),
            token: AtomicU64::new(0),
        }
    }
}

impl WakeState {
    /// Python will wait: remember how to wake it.
    pub fn arm(&self, fd: i32, token: u64) {
        self.fd.store(fd, Ordering::SeqCst);
        self.token.store(token, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Python no longer waits (it found data after arming).
    pub fn disarm(&self) -> bool {
        self.armed.swap(false, Ordering::SeqCst)
    }

    /// Something arrived (or the stream ended): wake Python if it waits.
    pub fn fire(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            signal(
                self.fd.load(Ordering::SeqCst),
                self.token.load(Ordering::SeqCst),
            );
        }
    }
}
