//! Which OpenRouter model a request goes to: the catalog entry for the model Open WebUI
//! names, the admin's `MODEL_ID` selection, and a best guess when the catalog is down.

use super::notices;
use super::request::{guess_openrouter_id, ChatRequest};
use crate::catalog::{self, CatalogError, Model};
use crate::emit::{Emit, LogLevel};
use crate::errors::CardStyle;
use crate::valves::Settings;

/// The model a request goes to.
pub struct Target {
    /// OpenRouter id (`openai/gpt-4o-mini`).
    pub id: String,
    /// Display label for cards and statuses.
    pub label: String,
    /// The catalog entry, unless the catalog could not be consulted or lacks the model.
    pub model: Option<Model>,
    /// The admin's `MODEL_ID` selection includes it (only a background task can go to a
    /// model outside it; it then keeps the normal reasoning effort).
    pub owned: bool,
}

impl Target {
    fn guessed(id: String) -> Self {
        Self {
            label: id.clone(),
            id,
            model: None,
            owned: true,
        }
    }
}

/// Resolves the request's model, or the emits that refuse it.
pub async fn resolve(
    req: &ChatRequest,
    settings: &Settings,
    style: &CardStyle,
) -> Result<Target, Vec<Emit>> {
    let suffix = req.model_suffix();
    if suffix.is_empty() {
        return Err(notices::no_model());
    }
    match catalog::models(settings).await {
        Ok(models) => match catalog::resolve(&models, &suffix) {
            Some(model) => {
                let owned = allowed(settings, &models, model);
                if req.task.is_none() && !owned {
                    return Err(super::cards::model_not_enabled(
                        model.display_name(),
                        &model.id,
                        settings,
                        style,
                    ));
                }
                Ok(Target {
                    id: model.id.clone(),
                    label: model.display_name().to_string(),
                    model: Some(model.clone()),
                    owned,
                })
            }
            None => {
                let guess = guess_openrouter_id(&suffix);
                crate::logsink::log(
                    LogLevel::Warning,
                    format!("Model '{suffix}' is not in the OpenRouter catalog; sending it as '{guess}'"),
                );
                Ok(Target::guessed(guess))
            }
        },
        Err(CatalogError::MissingApiKey) => Err(notices::missing_api_key()),
        Err(CatalogError::Unavailable(why)) => {
            let guess = guess_openrouter_id(&suffix);
            crate::logsink::log(
                LogLevel::Warning,
                format!("Catalog unavailable ({why}); sending the request to '{guess}' anyway"),
            );
            Ok(Target::guessed(guess))
        }
    }
}

/// `MODEL_ID` applies to requests too, not only to the model list: a model an admin did
/// not enable cannot be reached through the API either. Background tasks are exempt (Open
/// WebUI may send them to any model).
fn allowed(settings: &Settings, models: &[Model], model: &Model) -> bool {
    let (chosen, _) = catalog::select::select(&settings.catalog.model_id, models);
    chosen.len() == models.len() || chosen.iter().any(|m| m.id == model.id)
}
