//! Why this file exists: archives are written off the chat's path. A bounded queue feeds
//! one background thread per process; a full queue drops that archive with a warning, a
//! failed write (read-only or full disk) leaves a warning and no partial file, and nothing
//! here can fail a chat.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::Duration;

use super::archive::{self, ArchiveContent, Packing};
use super::cleanup;
use crate::emit::LogLevel;
use crate::logsink;

/// How many archives may wait for the writer (the reference's queue size).
pub const QUEUE_CAPACITY: usize = 500;

/// One archive to write.
pub struct Job {
    /// The base folder (`SESSION_LOG_DIR`, `~` expanded).
    pub base: PathBuf,
    /// What goes in.
    pub content: ArchiveContent,
    /// How it is packed.
    pub packing: Packing,
    /// The zip password (never written anywhere but into the encryption).
    pub password: String,
    /// `SESSION_LOG_RETENTION_DAYS` in seconds, for the cleanup of `base`.
    pub retention: Duration,
    /// `SESSION_LOG_CLEANUP_INTERVAL_SECONDS`.
    pub cleanup_interval: Duration,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({})", self.base.display())
    }
}

/// A path component that cannot leave its folder: runs of characters outside
/// `[0-9A-Za-z._-]` become `_`, leading and trailing `._-` go, at most 128 characters,
/// `fallback` when nothing is left (so `..`, `/`, absolute paths and NUL never escape).
pub fn sanitize_component(value: &str, fallback: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut in_run = false;
    for c in value.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    let trimmed: String = out
        .trim_matches(|c| matches!(c, '.' | '_' | '-'))
        .chars()
        .take(128)
        .collect();
    if trimmed.is_empty() {
        fallback.to_string()
    } else {
        trimmed
    }
}

/// `<base>/<user>/<chat>/<message>.zip`, each component sanitised.
pub fn archive_path(base: &Path, user_id: &str, chat_id: &str, message_id: &str) -> PathBuf {
    base.join(sanitize_component(user_id, "user"))
        .join(sanitize_component(chat_id, "chat"))
        .join(format!("{}.zip", sanitize_component(message_id, "message")))
}

/// `~` and `~/…` start at `$HOME`, as the reference's `expanduser`.
pub fn expand_home(dir: &str) -> PathBuf {
    match (dir.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(dir),
    }
}

/// Writes one archive: into `<message>.zip.tmp`, then renamed into place, so a reader
/// never sees half an archive. The temporary file is removed on failure.
pub fn write(job: &Job) -> Result<PathBuf, String> {
    let s = &job.content.stamp;
    let path = archive_path(&job.base, &s.user_id, &s.chat_id, &s.message_id);
    let bytes = archive::build(&job.content, job.packing, &job.password)
        .map_err(|e| format!("could not build the archive: {e}"))?;
    let parent = path.parent().unwrap_or(&job.base);
    fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let tmp = path.with_extension("zip.tmp");
    let result = write_private(&tmp, &bytes).and_then(|()| fs::rename(&tmp, &path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(format!("{}: {e}", path.display()));
    }
    Ok(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The process's queue to its writer thread; a forked child starts its own.
pub struct Writer {
    tx: SyncSender<Job>,
}

impl Writer {
    /// A writer whose thread runs `handle` for each job.
    pub fn start(capacity: usize, handle: fn(Job)) -> Self {
        let (tx, rx) = sync_channel::<Job>(capacity);
        let spawned = std::thread::Builder::new()
            .name("openrouter-session-log-writer".into())
            .spawn(move || run(rx, handle));
        if let Err(e) = spawned {
            logsink::log(
                LogLevel::Warning,
                format!("Session log writer could not start: {e}"),
            );
        }
        Self { tx }
    }

    /// A queue nobody reads (tests of the full-queue path).
    #[cfg(test)]
    pub fn detached(capacity: usize) -> (Self, Receiver<Job>) {
        let (tx, rx) = sync_channel::<Job>(capacity);
        (Self { tx }, rx)
    }

    /// Queues `job` without waiting; `false` (and a warning) when the queue is full or
    /// the thread is gone, and the archive is dropped.
    pub fn submit(&self, job: Job) -> bool {
        let (chat, message) = (
            job.content.stamp.chat_id.clone(),
            job.content.stamp.message_id.clone(),
        );
        match self.tx.try_send(job) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                logsink::log(
                    LogLevel::Warning,
                    format!("Session log archive queue is full; dropping archive for chat_id={chat} message_id={message}"),
                );
                false
            }
            Err(TrySendError::Disconnected(_)) => {
                logsink::log(
                    LogLevel::Warning,
                    format!("Session log writer is not running; dropping archive for chat_id={chat} message_id={message}"),
                );
                false
            }
        }
    }
}

fn run(rx: Receiver<Job>, handle: fn(Job)) {
    while let Ok(job) = rx.recv() {
        handle(job);
    }
}

/// What the process's writer does with a job: write it, register its folder for
/// cleanup, warn on failure.
pub fn write_and_register(job: Job) {
    cleanup::register(&job.base, job.retention, job.cleanup_interval);
    if let Err(why) = write(&job) {
        logsink::log(
            LogLevel::Warning,
            format!("Session log archive not written: {why}"),
        );
    }
}

static PROCESS_WRITER: Mutex<Option<(u32, Writer)>> = Mutex::new(None);

/// Queues `job` on this process's writer, starting it on first use.
pub fn submit(job: Job) -> bool {
    let pid = std::process::id();
    let mut slot = PROCESS_WRITER.lock().unwrap_or_else(|p| p.into_inner());
    if slot.as_ref().is_none_or(|(owner, _)| *owner != pid) {
        *slot = Some((pid, Writer::start(QUEUE_CAPACITY, write_and_register)));
    }
    slot.as_ref().is_some_and(|(_, writer)| writer.submit(job))
}
