//! The model list Open WebUI shows: the catalog narrowed to the admin's `MODEL_ID`,
//! with names, descriptions, capabilities and icons, sorted by name. Policy lives here,
//! not in the PyO3 layer, which only converts the result.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::catalog::{self, CatalogError, Model};
use crate::emit::LogLevel;
use crate::logsink;
use crate::valves::Settings;

/// One model as Open WebUI lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// `vendor.model` (Open WebUI prefixes the Function id).
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub capabilities: Value,
    pub icon_url: Option<String>,
}

/// The models to list, or why there are none (no key and nothing cached).
pub async fn list(settings: &Settings) -> Result<Vec<Listed>, CatalogError> {
    let (models, icons) = models_and_icons(settings).await?;
    Ok(select(settings, &models, &icons))
}

/// Fetches the catalog (and icons) ahead of the first request when a key is set.
pub async fn warm(settings: &Settings) {
    if !settings.connection.api_key().is_empty() {
        let _ = models_and_icons(settings).await;
    }
}

/// The catalog, and the icon map when model images are synced (both cached).
async fn models_and_icons(
    settings: &Settings,
) -> Result<(Arc<Vec<Model>>, catalog::icons::Icons), CatalogError> {
    let models = catalog::models(settings).await?;
    let icons = if settings.catalog.update_model_images {
        catalog::icons::icons(settings).await
    } else {
        Default::default()
    };
    Ok((models, icons))
}

fn select(settings: &Settings, models: &[Model], icons: &HashMap<String, String>) -> Vec<Listed> {
    let (chosen, missing) = catalog::select::select(&settings.catalog.model_id, models);
    if !missing.is_empty() {
        logsink::log(
            LogLevel::Warning,
            format!(
                "MODEL_ID entries not in the catalog: {}",
                missing.join(", ")
            ),
        );
    }
    let mut list: Vec<Listed> = chosen
        .iter()
        .map(|m| Listed {
            id: m.owui_id(),
            name: m.display_name().to_string(),
            description: m.description.clone().filter(|d| !d.trim().is_empty()),
            capabilities: catalog::capabilities::capabilities(m),
            icon_url: icons.get(&m.id).cloned(),
        })
        .collect();
    list.sort_by_cached_key(|entry| entry.name.to_lowercase());
    list
}
