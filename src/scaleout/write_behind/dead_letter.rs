//! Entries of the Redis queue the flusher cannot read (not JSON, missing fields, a
//! payload that does not decode) are not thrown away: they are moved to `<ns>:dead`, the
//! newest [`DEAD_LETTER_CAP`] kept, so an operator can see what a misbehaving writer (an
//! older node, a hand-edited queue) put there. They never block the rows behind them.

use redis::aio::ConnectionManager;

/// Most entries kept in the dead-letter list (the oldest are trimmed).
pub const DEAD_LETTER_CAP: isize = 1000;

/// Appends `entries` to `key` and trims it to the newest [`DEAD_LETTER_CAP`], in one
/// `MULTI`.
pub async fn keep(
    conn: &mut ConnectionManager,
    key: &str,
    entries: &[&[u8]],
) -> redis::RedisResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    redis::pipe()
        .atomic()
        .rpush(key, entries)
        .ignore()
        .ltrim(key, -DEAD_LETTER_CAP, -1)
        .ignore()
        .query_async(conn)
        .await
}
