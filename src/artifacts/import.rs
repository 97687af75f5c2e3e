//! Bulk import of rows written by the reference Python pipe (its `response_items_*`
//! tables in Open WebUI's database), so chats started there keep their reasoning and
//! tool context. Rows are copied as stored (payloads stay encrypted); the table name
//! is kept, since it already encodes the pipe id and the encryption key.

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags};
use serde::Deserialize;

use super::store::{create_schema, StoreError};

/// One row as the reference stored it.
#[derive(Debug, Clone, Deserialize)]
pub struct RawRow {
    pub id: String,
    pub chat_id: String,
    pub message_id: String,
    #[serde(default)]
    pub model_id: Option<String>,
    pub item_type: String,
    /// The payload column as JSON text.
    pub payload: String,
    pub is_encrypted: bool,
    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC).
    pub created_at: String,
}

/// Whether `table` is a reference artifact table name (and safe to use in SQL).
pub fn is_artifact_table(table: &str) -> bool {
    table.strip_prefix("response_items_").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }) && table.len() <= 128
}

/// Inserts `rows` into `table` of the SQLite file at `path` (created when missing);
/// rows whose id already exists are left alone, so importing twice changes nothing.
/// Returns how many rows were new.
pub fn import_rows(path: &Path, table: &str, rows: &[RawRow]) -> Result<usize, StoreError> {
    if !is_artifact_table(table) {
        return Err(StoreError::Io(format!(
            "not an artifact table name: {table:?}"
        )));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::Unwritable(format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))?;
    create_schema(&conn, table)?;
    let tx = conn.transaction()?;
    let mut added = 0;
    {
        let mut insert = tx.prepare(&format!(
            "INSERT OR IGNORE INTO \"{table}\" \
             (id, chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))?;
        for row in rows {
            added += insert.execute(params![
                row.id,
                row.chat_id,
                row.message_id,
                row.model_id,
                row.item_type,
                row.payload,
                row.is_encrypted,
                row.created_at,
            ])?;
        }
    }
    tx.commit()?;
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> RawRow {
        RawRow {
            id: id.into(),
            chat_id: "c".into(),
            message_id: "m".into(),
            model_id: Some("openrouter.x".into()),
            item_type: "reasoning".into(),
            payload: r#"{"type":"reasoning","summary":[]}"#.into(),
            is_encrypted: false,
            created_at: "2026-01-01 00:00:00.000000".into(),
        }
    }

    #[test]
    fn import_is_idempotent_and_rejects_odd_table_names() {
        let dir = std::env::temp_dir().join(format!("orp-import-{}", std::process::id()));
        let path = dir.join("a.db");
        let table = "response_items_openrouter_1a2b3c4d";
        assert_eq!(import_rows(&path, table, &[row("A"), row("B")]).unwrap(), 2);
        assert_eq!(import_rows(&path, table, &[row("A"), row("C")]).unwrap(), 1);
        assert!(import_rows(&path, "users; drop table x", &[row("A")]).is_err());
        assert!(!is_artifact_table("response_items_"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
