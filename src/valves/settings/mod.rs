//! The typed settings one request runs with, built once from the merged system and user
//! valves. Each concern has its own struct; callers read fields, never valve names, and
//! every default and bound comes from the declaration (see [`super::numbers`]).

mod admission;
mod artifacts;
mod cards;
mod catalog;
mod connection;
mod endpoints;
mod files;
mod logging;
mod outbound;
mod raw;
mod reasoning;
mod redis;
mod stream;
mod tools;

use serde_json::{Map, Value};

pub use admission::AdmissionSettings;
pub use artifacts::ArtifactSettings;
pub use catalog::CatalogSettings;
pub use connection::ConnectionSettings;
pub use endpoints::{Endpoint, EndpointSettings};
pub use files::{FileSettings, ImageSelection, StorageUser};
pub use logging::{ArchiveCompression, ArchiveFormat, ArchiveSettings, LogSettings, LogThreshold};
pub use outbound::{AnthropicSettings, IdentifierSettings, OutboundSettings};
pub use reasoning::ReasoningSettings;
pub use redis::RedisSettings;
pub use stream::{StreamSettings, ThinkingMode};
pub use tools::{ToolMode, ToolSettings};

use raw::Raw;

/// Every setting of one request, grouped by the part of the engine that reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Reaching OpenRouter.
    pub connection: ConnectionSettings,
    /// The model list.
    pub catalog: CatalogSettings,
    /// How much thinking is asked for.
    pub reasoning: ReasoningSettings,
    /// What goes into each request.
    pub outbound: OutboundSettings,
    /// Stored reasoning and tool items.
    pub artifacts: ArtifactSettings,
    /// How the answer is streamed to Open WebUI.
    pub stream: StreamSettings,
    /// Running the tools a model calls.
    pub tools: ToolSettings,
    /// Which OpenRouter API chats are sent to.
    pub endpoints: EndpointSettings,
    /// Files, images, audio and video in chats.
    pub files: FileSettings,
    /// The operator's error-card templates and support contacts.
    pub cards: crate::errors::CardTemplates,
    /// How many requests run at once, and the per-user request breaker.
    pub admission: AdmissionSettings,
    /// The request's log level and session-log archive.
    pub logging: LogSettings,
    /// Redis's write-behind cache and cost snapshots (multi-worker deployments).
    pub redis: RedisSettings,
}

impl Settings {
    /// Reads every concern from merged valve values (see [`super::merge()`]).
    pub fn new(values: Map<String, Value>) -> Self {
        let raw = Raw(&values);
        Self {
            connection: ConnectionSettings::read(&raw),
            catalog: CatalogSettings::read(&raw),
            reasoning: ReasoningSettings::read(&raw),
            outbound: OutboundSettings::read(&raw),
            artifacts: ArtifactSettings::read(&raw),
            stream: StreamSettings::read(&raw),
            tools: ToolSettings::read(&raw),
            endpoints: EndpointSettings::read(&raw),
            files: FileSettings::read(&raw),
            cards: cards::read(&raw),
            admission: AdmissionSettings::read(&raw),
            logging: LogSettings::read(&raw),
            redis: RedisSettings::read(&raw),
        }
    }

    /// From the valves JSON the Python layer sends; anything but an object means defaults.
    pub fn from_json(text: &str) -> Self {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Self::new(map),
            _ => Self::default(),
        }
    }
}

impl Default for Settings {
    /// Every valve at its declared default.
    fn default() -> Self {
        Self::new(Map::new())
    }
}

#[cfg(test)]
mod tests;
