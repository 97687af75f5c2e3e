//! Why this file exists: the bytes of one session-log archive, an AES-256 (WinZip AE-2)
//! encrypted zip with the reference pipe's members: `meta.json`, and `logs.jsonl` and/or
//! `logs.txt`. Built in memory; the writer puts it on disk atomically. LZMA archives are
//! written by [`super::lzma_zip`] (the zip crate cannot compress LZMA), the others by the
//! zip crate.

use std::io::{Cursor, Write};

use serde_json::{json, Value};
use zip::write::FileOptions;
use zip::{AesMode, CompressionMethod, DateTime, ZipWriter};

use super::lzma_zip::{self, Member};
use super::record::{iso_utc, Record, Stamp};
use crate::valves::{ArchiveCompression, ArchiveFormat};

/// What goes into one archive.
#[derive(Debug, Clone)]
pub struct ArchiveContent {
    /// The request's ids, unsanitised.
    pub stamp: Stamp,
    /// Every captured record, oldest first.
    pub records: Vec<Record>,
    /// Records dropped because `SESSION_LOG_MAX_LINES` was reached.
    pub dropped: usize,
    /// The request's timing breakdown (`meta.json`'s `timing`).
    pub timing: Value,
    /// When the archive was made (seconds since the epoch).
    pub created: f64,
}

/// How the members are packed.
#[derive(Debug, Clone, Copy)]
pub struct Packing {
    /// Which log members.
    pub format: ArchiveFormat,
    /// Their compression.
    pub compression: ArchiveCompression,
    /// The level, for deflated and bzip2.
    pub level: Option<i64>,
}

/// The zip crate's method for the other compressions.
fn method(compression: ArchiveCompression) -> CompressionMethod {
    match compression {
        ArchiveCompression::Stored => CompressionMethod::Stored,
        ArchiveCompression::Bzip2 => CompressionMethod::Bzip2,
        ArchiveCompression::Deflated => CompressionMethod::Deflated,
        ArchiveCompression::Lzma => CompressionMethod::Lzma,
    }
}

/// The LZMA preset (the reference ignores a level for LZMA). 1, not Python's 6: building a
/// request's archive (400 records, ~110 KB of logs) took 28 ms at 6 and 6.5 ms at 1
/// (deflated: 4.2 ms; `cargo bench -- session_archive`), and logs compress well either way.
const LZMA_PRESET: u32 = 1;

/// `meta.json`: `created_at`, the original `ids`, `request_id`, `log_format`, plus the
/// timing breakdown and the count of records dropped at the cap.
pub fn meta(content: &ArchiveContent, format: ArchiveFormat) -> Value {
    let s = &content.stamp;
    json!({
        "created_at": iso_utc(content.created),
        "ids": {
            "user_id": s.user_id,
            "session_id": s.session_id,
            "chat_id": s.chat_id,
            "message_id": s.message_id,
        },
        "request_id": s.request_id,
        "log_format": format.as_str(),
        "records": content.records.len(),
        "records_dropped": content.dropped,
        "timing": content.timing,
    })
}

/// `logs.jsonl`: one compact JSON object per record, ending with a newline.
pub fn jsonl(content: &ArchiveContent) -> String {
    let mut out = String::new();
    for record in &content.records {
        out.push_str(&record.jsonl(&content.stamp));
        out.push('\n');
    }
    out
}

/// `logs.txt`: one entry per record.
pub fn text(content: &ArchiveContent) -> String {
    let mut out = String::new();
    for record in &content.records {
        out.push_str(&record.text(&content.stamp));
        out.push('\n');
    }
    out
}

/// The encrypted zip's bytes.
pub fn build(
    content: &ArchiveContent,
    packing: Packing,
    password: &str,
) -> Result<Vec<u8>, String> {
    let mut members: Vec<(&str, String)> = Vec::with_capacity(3);
    let meta = serde_json::to_string_pretty(&meta(content, packing.format)).unwrap_or_default();
    members.push(("meta.json", meta));
    if matches!(packing.format, ArchiveFormat::Jsonl | ArchiveFormat::Both) {
        members.push(("logs.jsonl", jsonl(content)));
    }
    if matches!(packing.format, ArchiveFormat::Text | ArchiveFormat::Both) {
        members.push(("logs.txt", text(content)));
    }
    let time = zip_time(content.created);
    if packing.compression == ArchiveCompression::Lzma {
        let members: Vec<Member<'_>> = members
            .iter()
            .map(|(name, body)| Member {
                name,
                data: body.as_bytes(),
            })
            .collect();
        let dos_time = (time.timepart(), time.datepart());
        return lzma_zip::build(&members, password, LZMA_PRESET, dos_time)
            .map_err(|e| e.to_string());
    }
    let method = method(packing.compression);
    let level = match method {
        CompressionMethod::Deflated | CompressionMethod::Bzip2 => packing.level,
        _ => None,
    };
    let options = FileOptions::<()>::default()
        .compression_method(method)
        .compression_level(level)
        .last_modified_time(time)
        .unix_permissions(0o600)
        .with_aes_encryption(AesMode::Aes256, password);
    let written = (|| -> zip::result::ZipResult<Vec<u8>> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body) in members {
            zip.start_file(name, options)?;
            zip.write_all(body.as_bytes())?;
        }
        Ok(zip.finish()?.into_inner())
    })();
    written.map_err(|e| e.to_string())
}

fn zip_time(created: f64) -> DateTime {
    let t = crate::time::UtcParts::of(created.max(0.0) as i64);
    DateTime::from_date_and_time(
        t.year.clamp(1980, 2107) as u16,
        t.month as u8,
        t.day as u8,
        t.hour as u8,
        t.minute as u8,
        t.second as u8,
    )
    .unwrap_or_default()
}
