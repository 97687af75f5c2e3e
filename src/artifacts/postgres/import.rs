//! Bulk copy of stored rows into a PostgreSQL artifact table, as they are (payloads stay
//! encoded, `created_at` is kept): what the migration command uses to move a SQLite
//! artifact file (ours or the reference's) into the database every node shares. Rows
//! whose id is already there are left alone, so a re-run copies nothing twice.

use super::pool::{error_text, Pool};
use super::{create_schema, quote, PgTarget};
use crate::artifacts::import::{is_artifact_table, RawRow};
use crate::artifacts::store::StoreError;

/// Rows per statement.
const CHUNK: usize = 500;

/// Copies `rows` into `table` (created when missing); returns how many were new.
pub async fn import_rows(
    target: &PgTarget,
    table: &str,
    rows: &[RawRow],
) -> Result<usize, StoreError> {
    if !is_artifact_table(table) {
        return Err(StoreError::Io(format!(
            "not an artifact table name: {table:?}"
        )));
    }
    let pool = Pool::new(target.clone())?;
    let mut conn = pool.get().await?;
    let failed =
        |e: tokio_postgres::Error| super::pool::classify(&e, target.scrub(&error_text(&e)));
    create_schema(&mut conn, table).await.map_err(failed)?;
    let insert = format!(
        "INSERT INTO {} (id, chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at) \
         SELECT r.id, r.chat_id, r.message_id, r.model_id, r.item_type, r.payload::json, r.is_encrypted, r.created_at::timestamp \
         FROM UNNEST($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::text[], $7::bool[], $8::text[]) \
         AS r(id, chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at) \
         ON CONFLICT (id) DO NOTHING",
        quote(table)
    );
    let stmt = conn.statement(&insert).await.map_err(failed)?;
    let mut added = 0;
    for chunk in rows.chunks(CHUNK) {
        let col = |f: fn(&RawRow) -> String| chunk.iter().map(f).collect::<Vec<String>>();
        let models: Vec<Option<String>> = chunk.iter().map(|r| r.model_id.clone()).collect();
        let encrypted: Vec<bool> = chunk.iter().map(|r| r.is_encrypted).collect();
        let n = conn
            .client()
            .execute(
                &stmt,
                &[
                    &col(|r| r.id.clone()),
                    &col(|r| r.chat_id.clone()),
                    &col(|r| r.message_id.clone()),
                    &models,
                    &col(|r| r.item_type.clone()),
                    &col(|r| r.payload.clone()),
                    &encrypted,
                    &col(|r| r.created_at.clone()),
                ],
            )
            .await
            .map_err(failed)?;
        added += n as usize;
    }
    Ok(added)
}
