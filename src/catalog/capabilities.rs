//! What Open WebUI should show each model as able to do (its capability checkboxes).

use serde_json::{json, Value};

use super::model::Model;

fn has(list: &[String], wanted: &str) -> bool {
    list.iter().any(|m| m.eq_ignore_ascii_case(wanted))
}

fn priced(model: &Model, key: &str) -> bool {
    match model.pricing.get(key) {
        Some(Value::String(s)) => s.trim().parse::<f64>().is_ok_and(|p| p > 0.0),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|p| p > 0.0),
        _ => false,
    }
}

/// Open WebUI `meta.capabilities` for a catalog model.
///
/// File upload stays on for every model (Open WebUI otherwise blocks attachments
/// entirely, and OpenRouter parses PDFs for models without native file input).
pub fn capabilities(model: &Model) -> Value {
    let input = &model.architecture.input_modalities;
    let output = &model.architecture.output_modalities;
    json!({
        "vision": has(input, "image") || has(input, "video"),
        "file_upload": true,
        "web_search": priced(model, "web_search"),
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
