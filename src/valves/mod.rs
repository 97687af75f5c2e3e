//! Valves: the single declaration of every setting, and the typed settings of a request.

pub(crate) mod export;
mod merge;
mod numbers;
mod secret;
pub(crate) mod settings;
mod spec;
mod table;

#[cfg(test)]
mod status_tests;

pub use merge::{merge, INHERIT};
pub use settings::RedisSettings;
pub use settings::{
    AnthropicSettings, ArtifactSettings, CatalogSettings, ConnectionSettings, Endpoint,
    EndpointSettings, IdentifierSettings, OutboundSettings, ReasoningSettings, Settings,
    StreamSettings, ThinkingMode, ToolMode, ToolSettings,
};
pub use settings::{ArchiveCompression, ArchiveFormat, ArchiveSettings, LogSettings, LogThreshold};
pub use settings::{FileSettings, ImageSelection, StorageUser};
