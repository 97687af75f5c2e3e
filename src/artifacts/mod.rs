//! Durable artifact store: reasoning items and tool calls kept between turns.
//!
//! Open WebUI sends only the visible text of earlier assistant messages back to the
//! pipe, but reasoning models need their reasoning items (`encrypted_content`) and tool
//! calls replayed. The pipe stores those items itself, in a SQLite file of its own, and
//! leaves hidden marker lines (`[<id>]: #`) in the assistant text. On the next turn the
//! markers are found, the items fetched, and the history rebuilt in true order.
//!
//! * [`ids`]: 20-character Crockford ids (the marker ids).
//! * [`markers`]: writing, finding, splitting on and stripping marker lines.
//! * [`codec`]: payload encoding (Fernet + optional LZ4), compatible with the reference.
//! * [`store`]: [`ArtifactStore`] over one SQLite file (WAL, two-process safe).
//! * [`breaker`]: per-user breaker that pauses database access after repeated failures.
//! * [`normalize`]: normalisation of stored items.
//! * [`policy`]: what is stored ([`should_persist`]) and reasoning retention.
//! * [`replay`]: history reconstruction for one assistant message.

pub mod breaker;
pub mod codec;
pub mod ids;
pub mod markers;
pub mod normalize;
pub mod policy;
pub mod replay;
pub mod store;

pub use breaker::Breaker;
pub use codec::{Codec, CodecConfig, CodecError};
pub use ids::new_id;
pub use normalize::normalize_item;
pub use policy::{should_persist, ReasoningRetention};
pub use replay::{replay_message, Replay, ReplayNote, ReplaySettings, TurnWindow, Turns};
pub use store::{next_cleanup_delay, ArtifactStore, Fetched, NewArtifact, StoreConfig, StoreError};
