//! Open WebUI's file storage through the host port: files read in chunks and inlined as
//! base64, copies kept, and Open WebUI's own upload limit.
//!
//! A file is described first (its size refuses an oversized one unread), then read
//! `IMAGE_UPLOAD_CHUNK_BYTES` at a time (a multiple of 3, so the chunks' base64 joins
//! into one valid string); at no point is more than the limit held.

use std::time::Duration;

use serde_json::{json, Value};

use super::Intake;
use crate::engine::host::{Host, HostCall};
use crate::engine::sink::Sink;
use crate::intake::normalize_mime;
use crate::valves::StorageUser;

/// How long one storage call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Storing a large copy may take longer.
const STORE_TIMEOUT: Duration = Duration::from_secs(120);
/// Chunks are never smaller than this.
const MIN_CHUNK: u64 = 64 * 1024;

/// An Open WebUI file, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StoredFile {
    pub(super) name: String,
    pub(super) mime: String,
    pub(super) base64: String,
}

/// The chunk size: at least 64 KiB, at most the limit, rounded down to a multiple of 3.
pub(super) fn chunk_len(configured: u64, limit: u64) -> u64 {
    let len = configured.min(limit).max(MIN_CHUNK);
    len - len % 3
}

impl<S: Sink, H: Host> Intake<'_, S, H> {
    /// Reads Open WebUI file `id` (at most `limit` bytes) as base64; the error is a short
    /// reason for a status line.
    pub(super) async fn read_owui(&mut self, id: &str, limit: u64) -> Result<StoredFile, String> {
        let info = self
            .host
            .call(HostCall::FileInfo(json!({"id": id})), CALL_TIMEOUT)
            .await
            .map_err(|_| "Open WebUI file unavailable".to_string())?;
        let size = info.get("size").and_then(Value::as_u64).unwrap_or(0);
        if size == 0 {
            return Err("the file is empty".into());
        }
        if size > limit {
            return Err(format!(
                "the file is larger than the {} MB limit",
                limit.div_ceil(1024 * 1024)
            ));
        }
        let mut mime = normalize_mime(info.get("mime").and_then(Value::as_str).unwrap_or(""));
        if mime.is_empty() {
            mime = "application/octet-stream".into();
        }
        let name = info
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let step = chunk_len(self.settings.chunk_bytes, limit);
        // Room for the `data:<mime>;base64,` prefix too: the part is made in place.
        let mut base64 = String::with_capacity(size.div_ceil(3) as usize * 4 + 32 + mime.len());
        let mut offset = 0u64;
        loop {
            let args = json!({"id": id, "offset": offset, "length": step});
            let chunk = self
                .host
                .call(HostCall::FileChunk(args), CALL_TIMEOUT)
                .await
                .map_err(|_| "Open WebUI file unavailable".to_string())?;
            let read = chunk.get("bytes").and_then(Value::as_u64).unwrap_or(0);
            let eof = chunk.get("eof").and_then(Value::as_bool).unwrap_or(true);
            let text = chunk.get("base64").and_then(Value::as_str).unwrap_or("");
            offset += read;
            if offset > limit {
                return Err("the file grew past the limit while it was read".into());
            }
            if !eof && (read != step || read == 0) {
                return Err("the file could not be read in full".into());
            }
            base64.push_str(text);
            if eof {
                break;
            }
        }
        if offset == 0 {
            return Err("the file is empty".into());
        }
        Ok(StoredFile { name, mime, base64 })
    }

    /// Keeps a copy in Open WebUI's storage (see [`store_file`]).
    pub(super) async fn store(&mut self, name: &str, mime: &str, base64: &str) -> Option<String> {
        store_file(self.host, &self.settings.storage_user, name, mime, base64).await
    }

    /// Open WebUI's upload limit in MB (if set) and whether retrieval is on; asked once.
    pub(super) async fn owui_limits(&mut self) -> (Option<u64>, bool) {
        if let Some(known) = self.owui_limits {
            return known;
        }
        let answer = self
            .host
            .call(HostCall::FileLimits(json!({})), CALL_TIMEOUT)
            .await;
        let limits = match answer {
            Ok(v) => (
                v.get("file_max_size_mb").and_then(Value::as_u64),
                v.get("retrieval").and_then(Value::as_bool).unwrap_or(true),
            ),
            Err(_) => (None, false),
        };
        self.owui_limits = Some(limits);
        limits
    }
}

/// Keeps a copy in Open WebUI's storage, owned by the chat user (or `user` when the
/// request has none); its `/api/v1/files/<id>/content` link, or `None` when storage is
/// not available (logged by the host, not shown).
pub(crate) async fn store_file<H: Host>(
    host: &H,
    user: &StorageUser,
    name: &str,
    mime: &str,
    base64: &str,
) -> Option<String> {
    let args = json!({
        "name": name,
        "mime": mime,
        "base64": base64,
        "fallback_user": {"email": user.email, "name": user.name, "role": user.role},
    });
    let answer = host
        .call(HostCall::FileStore(args), STORE_TIMEOUT)
        .await
        .ok()?;
    answer.get("url").and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod chunk_tests {
    use super::chunk_len;

    #[test]
    fn chunks_are_multiples_of_three_within_bounds() {
        assert_eq!(chunk_len(1_048_576, 50 << 20), 1_048_575);
        assert_eq!(chunk_len(10, 50 << 20), 65_535);
        assert_eq!(chunk_len(8 << 20, 100_000), 99_999);
    }
}
