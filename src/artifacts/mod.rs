//! Durable artifact store: reasoning items and tool calls kept between turns.
//!
//! Open WebUI sends only the visible text of earlier assistant messages back to the
//! pipe, but reasoning models need their reasoning items (`encrypted_content`) and tool
//! calls replayed. The pipe stores those items itself (in a SQLite file of its own, or in
//! PostgreSQL when Open WebUI runs there), and
//! leaves hidden marker lines (`[<id>]: #`) in the assistant text. On the next turn the
//! markers are found, the items fetched, and the history rebuilt in true order.
//!
//! * [`new_id`] / [`is_valid_id`]: 20-character Crockford ids (the marker ids).
//! * [`markers`]: writing, finding, splitting on and stripping marker lines.
//! * [`codec`]: payload encoding (Fernet + optional LZ4), compatible with the reference.
//! * [`ArtifactStorage`]: the one async storage interface the engine uses
//!   (`Arc<dyn ArtifactStorage>`), with [`SqliteStorage`] over an [`ArtifactStore`]
//!   (one SQLite file, WAL, two-process safe) and [`Guarded`] (the breaker in front of
//!   any storage).
//! * [`postgres`]: the same table in a PostgreSQL database (usually Open WebUI's), pooled,
//!   TLS by `sslmode`, every URL form Open WebUI accepts (passwords redacted).
//! * [`Breaker`]: per-user breaker that pauses database access after repeated failures.
//! * Inside the crate: normalisation of stored items, what is stored
//!   (`should_persist`), and [`ReasoningRetention`].
//! * [`replay_message`]: history reconstruction for one assistant message.

//! # How the engine uses it
//!
//! 1. Per request, build a [`StoreConfig`] from the valves (the file path, the pipe id,
//!    [`CodecConfig`] from `ARTIFACT_ENCRYPTION_KEY` / `ENCRYPT_ALL` /
//!    `ENABLE_LZ4_COMPRESSION` / `MIN_COMPRESS_BYTES`, `DB_BATCH_SIZE`). Keep one
//!    `Arc<dyn ArtifactStorage>` per configuration and open a new one only when the wanted
//!    configuration differs (a new key means a new table); wrap it in [`Guarded`] for
//!    the user of the request. Every call returns a future; none blocks.
//! 2. History: collect [`markers::marker_ids`] of every assistant message, fetch them all
//!    at once with `storage.fetch(chat_id, None, ids).await`,
//!    then for assistant message `i` call
//!    `replay_message(text, &fetched.items, Turns::of(&messages).window(i), &settings)`
//!    and splice its `items` into `input[]`. Log the notes; keep `reasoning_to_delete`.
//! 3. While the answer streams, for each finished output item with
//!    `should_persist(type, retention, persist_tool_results)`: normalise it
//!    (`normalize_item`), give it an id ([`new_id`]), emit
//!    [`markers::marker_insertion`]`(text_so_far, &[id])` as one content delta at that
//!    point of the answer (true order), and queue a [`NewArtifact`] with that id. Persist
//!    the queue at the end (`storage.persist`).
//! 4. After a successful answer with `next_reply` retention, `storage.delete` the
//!    `reasoning_to_delete` ids.
//! 5. Periodically: `storage.cleanup(ARTIFACT_CLEANUP_DAYS, SystemTime::now())`, then sleep
//!    `next_cleanup_delay(ARTIFACT_CLEANUP_INTERVAL_HOURS, ids::random_unit)`.
//! 6. Anything shown as plain text (titles, task prompts) goes through
//!    [`markers::strip`].

pub(crate) mod breaker;
pub mod codec;
pub(crate) mod import;
pub mod markers;
mod normalize;
mod policy;
pub mod postgres;
mod replay;
mod storage;
pub(crate) mod store;

pub use crate::ids::{is_valid_id, new_id};
pub use breaker::{Breaker, BreakerLimits};
pub use codec::{Codec, CodecConfig, CodecError};
pub(crate) use normalize::normalize_item;
pub(crate) use policy::should_persist;
pub use policy::ReasoningRetention;
pub use replay::{replay_message, Replay, ReplayNote, ReplaySettings, TurnWindow, Turns};
pub use storage::{ArtifactStorage, Guarded, SqliteStorage, StoreFuture, BREAKER_OPEN};
pub(crate) use store::next_cleanup_delay;
pub use store::{
    format_utc, table_name, ArtifactStore, CleanupSchedule, Fetched, NewArtifact, StoreConfig,
    StoreError,
};
