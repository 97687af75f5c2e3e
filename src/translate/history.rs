//! Replay of earlier turns: assistant messages whose text carries artifact markers
//! become the stored reasoning and tool items, in the order they happened.

use std::collections::HashMap;

use serde_json::Value;

use crate::artifacts::ReplaySettings;

/// Fetched artifacts for this conversation and the rules to replay them by.
#[derive(Debug, Default)]
pub struct History {
    pub items: HashMap<String, Value>,
    pub settings: ReplaySettings,
}
