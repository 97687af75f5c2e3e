//! What Open WebUI should show each model as able to do (its capability checkboxes).

use serde_json::{json, Value};

use super::model::Model;

fn has(list: &[String], wanted: &str) -> bool {
    list.iter().any(|m| m.eq_ignore_ascii_case(wanted))
}

/// Open WebUI `meta.capabilities` for a catalog model.
///
/// File upload stays on for every model (Open WebUI otherwise blocks attachments
/// entirely, and OpenRouter parses PDFs for models without native file input). Web search
/// is on for every model too, as in the reference pipe: it is Open WebUI's own search (its
/// toggle in the chat box), which works with any model; OpenRouter's search has its own
/// toggle (the "OpenRouter Search" filter) where the catalog prices it.
pub fn capabilities(model: &Model) -> Value {
    let input = &model.architecture.input_modalities;
    let output = &model.architecture.output_modalities;
    json!({
        "vision": has(input, "image") || has(input, "video"),
        "file_upload": true,
        "web_search": true,
        "image_generation": has(output, "image"),
        "code_interpreter": true,
        "citations": true,
        "status_updates": true,
        "usage": true,
    })
}

/// Engine-side features: what the pipe may send for this model.
pub fn features(model: &Model) -> Value {
    let input = &model.architecture.input_modalities;
    json!({
        "function_calling": model.supports("tools") || model.supports("tool_choice"),
        "reasoning": model.supports("reasoning"),
        "reasoning_summary": model.supports("include_reasoning"),
        "web_search_tool": model.pricing.get("web_search").is_some_and(|p| !p.is_null()),
        "image_output": has(&model.architecture.output_modalities, "image"),
        "vision": has(input, "image"),
        "audio_input": has(input, "audio"),
        "video_input": has(input, "video"),
        "file_input": has(input, "file"),
    })
}
