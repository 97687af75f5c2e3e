//! Which tools a request offers the model. In `Pipeline` mode they are the chat's
//! runnable tools (Open WebUI's `__tools__`, direct tool servers) plus `extra_tools`
//! added by filters; in `Open-WebUI` mode they are `body.tools`, which Open WebUI runs
//! itself. Tasks and models without function calling get none.

use serde_json::{json, Value};

use super::request::ChatRequest;
use super::target::Target;
use crate::tools::specs;
use crate::translate::Outbound;
use crate::valves::{ToolMode, ToolSettings};

/// Adds `tools` (and the chat's `tool_choice` / `parallel_tool_calls`) to `outbound`;
/// returns the names offered, empty when none were.
pub fn attach(
    outbound: &mut Outbound,
    req: &ChatRequest,
    target: &Target,
    settings: &ToolSettings,
) -> Vec<String> {
    if req.task.is_some() || !calls_functions(target) {
        return Vec::new();
    }
    let list = |key: &str| {
        req.body
            .get(key)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let assembled = match settings.mode {
        ToolMode::Pipeline => {
            let registry: Vec<Value> = req
                .tools
                .iter()
                .filter(|t| t.runnable)
                .map(|t| t.spec.clone())
                .collect();
            specs::assemble(&registry, list("extra_tools"), settings.strict)
        }
        // Open WebUI collects streamed calls only; a complete answer has no way to hand
        // them over, so it gets no tools.
        ToolMode::OpenWebUi if !req.wants_stream() => return Vec::new(),
        ToolMode::OpenWebUi => specs::assemble_owui_tools(list("tools"), settings.strict),
    };
    for why in &assembled.skipped {
        crate::logsink::log(crate::emit::LogLevel::Warning, why.clone());
    }
    if assembled.tools.is_empty() {
        return Vec::new();
    }
    let names = assembled
        .tools
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    let Some(body) = outbound.body.as_object_mut() else {
        return Vec::new();
    };
    body.insert("tools".into(), Value::Array(assembled.tools));
    if let Some(choice) = req.body.get("tool_choice").and_then(tool_choice) {
        body.insert("tool_choice".into(), choice);
    }
    if let Some(parallel) = req
        .body
        .get("parallel_tool_calls")
        .filter(|v| v.is_boolean())
    {
        body.insert("parallel_tool_calls".into(), parallel.clone());
    }
    names
}

/// Whether the catalog says the model takes tools (unknown models get none, as a
/// request with tools to a model without them fails at OpenRouter).
fn calls_functions(target: &Target) -> bool {
    target
        .model
        .as_ref()
        .is_some_and(|m| m.supports("tools") || m.supports("tool_choice"))
}

/// Chat Completions' `tool_choice` in the Responses shape.
fn tool_choice(choice: &Value) -> Option<Value> {
    match choice {
        Value::String(s) if matches!(s.as_str(), "auto" | "none" | "required") => {
            Some(choice.clone())
        }
        Value::Object(map) => {
            let name = map
                .get("name")
                .or_else(|| map.get("function").and_then(|f| f.get("name")))
                .and_then(Value::as_str)?;
            Some(json!({"type": "function", "name": name}))
        }
        _ => None,
    }
}
