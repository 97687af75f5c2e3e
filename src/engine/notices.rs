//! Messages for problems found before anything is sent to OpenRouter.

use crate::emit::{Emit, LogLevel};

/// No API key in the valve nor in the environment.
pub fn missing_api_key() -> Vec<Emit> {
    vec![
        Emit::Content(
            "### 🔑 OpenRouter API key missing\n\n\
             This model cannot answer until an administrator sets the **API_KEY** valve \
             (Admin Panel → Functions → OpenRouter → Valves) or the `OPENROUTER_API_KEY` \
             environment variable of the Open WebUI server."
                .into(),
        ),
        Emit::status("OpenRouter API key missing", true),
        Emit::log(
            LogLevel::Warning,
            "Chat refused: no OpenRouter API key configured",
        ),
    ]
}

/// The request named no model.
pub fn no_model() -> Vec<Emit> {
    vec![
        Emit::Content(
            "### ⚠️ No model selected\n\nChoose an OpenRouter model and try again.".into(),
        ),
        Emit::status("No model selected", true),
    ]
}

/// The Python layer handed over something that is not a chat request.
pub fn unreadable_request(why: &str) -> Vec<Emit> {
    vec![
        Emit::Content(
            "### ⚠️ Unreadable request\n\nThis chat request could not be read. Please retry."
                .into(),
        ),
        Emit::status("Unreadable request", true),
        Emit::log(LogLevel::Warning, format!("Chat request rejected: {why}")),
    ]
}

/// The internal-error card for a panic before the request's own settings existed
/// (reading the request, building its settings): the built-in `INTERNAL_ERROR_TEMPLATE`
/// card, with an error id and timestamp like every other card. The operator's template
/// cannot be had there, since building the settings is what may have failed. Should
/// building the default settings panic too, the plain notice stands in.
pub fn internal_failure_before_settings() -> Vec<Emit> {
    std::panic::catch_unwind(|| {
        let settings = crate::valves::Settings::new(serde_json::Map::new());
        let style = crate::errors::CardStyle::new(settings.cards.clone(), Default::default());
        crate::errors::internal_failure_emits("", &style)
    })
    .unwrap_or_else(|_| vec![internal_error()])
}

/// The engine itself failed (a bug); said plainly instead of an empty answer.
pub fn internal_error() -> Emit {
    Emit::Content(
        "\n\n### ⚠️ Unexpected error\n\nThe answer stopped because of an internal error. \
         Please retry; if it keeps happening, ask your administrator to check the logs."
            .into(),
    )
}

/// The built-in note for a model outside the admin's `MODEL_ID` selection (the admin's
/// template replaces it, see `cards::model_not_enabled`).
pub fn model_not_enabled_note(label: &str) -> String {
    format!(
        "### 🚫 Model not enabled\n\n**{label}** is not enabled for this pipe. \
         Choose one of the models in the model selector, or ask your administrator to add it to `MODEL_ID`."
    )
}
