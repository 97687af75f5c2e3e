//! Why this file exists: archives are deleted after `SESSION_LOG_RETENTION_DAYS`. Every
//! folder an archive went to in this process is swept by one background thread every
//! `SESSION_LOG_CLEANUP_INTERVAL_SECONDS` (a folder's first sweep when it is first seen), and folders left
//! empty are removed. Errors are logged, never raised.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::emit::LogLevel;
use crate::logsink;

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Archives deleted.
    pub archives: usize,
    /// Empty folders removed.
    pub folders: usize,
}

/// Deletes every `*.zip` under `base` last modified before `now - retention`, then every
/// folder left empty, bottom-up, `base` included.
pub fn sweep(base: &Path, retention: Duration, now: SystemTime) -> Swept {
    let cutoff = now.checked_sub(retention).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut swept = Swept::default();
    sweep_dir(base, cutoff, &mut swept);
    swept
}

/// Returns whether `dir` is empty afterwards (and so was removed).
fn sweep_dir(dir: &Path, cutoff: SystemTime, swept: &mut Swept) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut left = 0usize;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            left += 1;
            continue;
        };
        if kind.is_dir() {
            if !sweep_dir(&path, cutoff, swept) {
                left += 1;
            }
            continue;
        }
        let old = path.extension().is_some_and(|e| e == "zip")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified < cutoff);
        if old && fs::remove_file(&path).is_ok() {
            swept.archives += 1;
        } else {
            left += 1;
        }
    }
    if left == 0 && fs::remove_dir(dir).is_ok() {
        swept.folders += 1;
        return true;
    }
    false
}

struct Registered {
    retention: Duration,
    interval: Duration,
}

static FOLDERS: Mutex<Option<(u32, HashMap<PathBuf, Registered>)>> = Mutex::new(None);

/// Remembers `base` for the sweeps with the latest settings; starts the sweeping thread
/// on the first folder of this process.
pub fn register(base: &Path, retention: Duration, interval: Duration) {
    let pid = std::process::id();
    let mut folders = FOLDERS.lock().unwrap_or_else(|p| p.into_inner());
    let start = folders.as_ref().is_none_or(|(owner, _)| *owner != pid);
    if start {
        *folders = Some((pid, HashMap::new()));
    }
    let mut first_seen = false;
    if let Some((_, map)) = folders.as_mut() {
        first_seen = map
            .insert(
                base.to_path_buf(),
                Registered {
                    retention,
                    interval,
                },
            )
            .is_none();
    }
    drop(folders);
    // A folder seen for the first time is swept at once (the thread's own first pass
    // may already be behind it).
    if first_seen && !start {
        sweep(base, retention, SystemTime::now());
    }
    if start {
        let spawned = std::thread::Builder::new()
            .name("openrouter-session-log-cleanup".into())
            .spawn(run);
        if let Err(e) = spawned {
            logsink::log(
                LogLevel::Warning,
                format!("Session log cleanup could not start: {e}"),
            );
        }
    }
}

fn run() {
    loop {
        let jobs: Vec<(PathBuf, Duration, Duration)> = {
            let folders = FOLDERS.lock().unwrap_or_else(|p| p.into_inner());
            match folders.as_ref() {
                Some((_, map)) => map
                    .iter()
                    .map(|(p, r)| (p.clone(), r.retention, r.interval))
                    .collect(),
                None => Vec::new(),
            }
        };
        let mut next = Duration::from_secs(3600);
        for (base, retention, interval) in jobs {
            let swept = sweep(&base, retention, SystemTime::now());
            if swept.archives > 0 {
                logsink::log(
                    LogLevel::Info,
                    format!(
                        "Session log cleanup removed {} archive(s) and {} empty folder(s) under {}",
                        swept.archives,
                        swept.folders,
                        base.display()
                    ),
                );
            }
            next = next.min(interval);
        }
        std::thread::sleep(next.max(Duration::from_secs(60)));
    }
}
