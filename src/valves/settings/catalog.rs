//! Which models are offered and how often their list is fetched again.

use std::time::Duration;

use super::raw::Raw;

/// Which models are offered, and how fresh their list is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogSettings {
    /// `auto` or a comma-separated list of OpenRouter model ids.
    pub model_id: String,
    /// How long a fetched catalog (and its icon map) stays fresh.
    pub refresh_period: Duration,
    /// Whether model icons are looked up for Open WebUI (the Python model sync reads the
    /// other `UPDATE_MODEL_*` valves itself).
    pub update_model_images: bool,
}

impl CatalogSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        Self {
            model_id: raw.str("MODEL_ID"),
            refresh_period: Duration::from_secs(
                raw.int("MODEL_CATALOG_REFRESH_SECONDS").max(0) as u64
            ),
            update_model_images: raw.bool("UPDATE_MODEL_IMAGES"),
        }
    }
}
