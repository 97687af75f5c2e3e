//! Tool definitions as the model is offered them: Open WebUI's tool specs (its `__tools__`
//! registry and Direct Tool Servers) and the tools a request or filter already carries
//! (Chat Completions or Responses shaped) become one de-duplicated Responses `tools` list.
//! Pure functions: the engine decides when tools apply, this only shapes them.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::strict::strictify;

/// A tool with no declared parameters takes none.
fn empty_parameters() -> Value {
    json!({"type": "object", "properties": {}})
}

/// A non-blank string field.
fn text_field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// A schema that declares something, else the empty one (absent, `null`, `{}` or junk).
fn parameters_or_empty(map: &Map<String, Value>) -> Value {
    match map.get("parameters") {
        Some(Value::Object(p)) if !p.is_empty() => Value::Object(p.clone()),
        _ => empty_parameters(),
    }
}

/// One Responses function tool. With `strict: Some(true)` the schema is strictified so
/// the provider's strict mode accepts it; `None` leaves `strict` out.
fn function_tool(
    name: &str,
    description: Option<&str>,
    parameters: Value,
    strict: Option<bool>,
) -> Map<String, Value> {
    let mut tool = Map::new();
    tool.insert("type".into(), json!("function"));
    tool.insert("name".into(), json!(name));
    if let Some(description) = description {
        tool.insert("description".into(), json!(description));
    }
    let parameters = if strict == Some(true) {
        strictify(&parameters)
    } else {
        parameters
    };
    tool.insert("parameters".into(), parameters);
    if let Some(strict) = strict {
        tool.insert("strict".into(), json!(strict));
    }
    tool
}

/// An Open WebUI tool spec (`{"name", "description", "parameters"}`, as in
/// `__tools__[name]["spec"]` and a Direct Tool Server's `specs`) as a Responses function
/// tool: the description defaults to the name, missing parameters to an empty object, and
/// with `strict` the schema is strictified and marked `"strict": true`. `None` when the
/// spec has no non-empty string name.
pub fn from_owui_spec(spec: &Value, strict: bool) -> Option<Value> {
    convert_owui_spec(spec, strict).ok()
}

fn convert_owui_spec(spec: &Value, strict: bool) -> Result<Value, &'static str> {
    let spec = spec.as_object().ok_or("tool spec that is not an object")?;
    let name = text_field(spec, "name").ok_or("tool spec without a name")?;
    let description = text_field(spec, "description").unwrap_or(name);
    let tool = function_tool(
        name,
        Some(description),
        parameters_or_empty(spec),
        strict.then_some(true),
    );
    Ok(Value::Object(tool))
}

/// A tool the request already carries, as a Responses tool. Function tools may be Chat
/// Completions shaped (`{"type":"function","function":{…}}`) or Responses shaped (flat);
/// a tool's own boolean `strict` wins, otherwise `strict` decides (strictified schema,
/// `"strict": true`). Fields a flat tool has beyond the function's own (such as
/// `defer_loading`) are kept. Other tool types (`web_search`, …) pass through unchanged.
/// `None` for anything without a string `type`, and for function tools without a name.
pub fn from_chat_tool(tool: &Value, strict: bool) -> Option<Value> {
    convert_tool(tool, strict).ok()
}

/// The fields a function tool's definition is rebuilt from; the rest of a flat tool is kept.
const FUNCTION_FIELDS: [&str; 5] = ["type", "name", "description", "parameters", "strict"];

fn convert_tool(tool: &Value, strict: bool) -> Result<Value, &'static str> {
    let map = tool.as_object().ok_or("tool that is not an object")?;
    let kind = text_field(map, "type").ok_or("tool without a type")?;
    if kind != "function" {
        return Ok(tool.clone());
    }
    let (definition, flat) = match map.get("function") {
        Some(Value::Object(function)) => (function, false),
        _ => (map, true),
    };
    let name = text_field(definition, "name").ok_or("function tool without a name")?;
    let declared = definition.get("strict").and_then(Value::as_bool);
    let mut converted = function_tool(
        name,
        text_field(definition, "description"),
        parameters_or_empty(definition),
        declared.or(strict.then_some(true)),
    );
    if flat {
        for (key, value) in map {
            if !FUNCTION_FIELDS.contains(&key.as_str()) {
                converted.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(Value::Object(converted))
}

/// Which definitions count as the same tool: function tools by name, others by type.
fn identity(tool: &Value) -> Option<(String, Option<String>)> {
    let map = tool.as_object()?;
    let kind = text_field(map, "type")?;
    let name = (kind == "function").then(|| {
        let definition = match map.get("function") {
            Some(Value::Object(function)) => function,
            _ => map,
        };
        definition
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    Some((kind.to_owned(), name.flatten()))
}

/// One definition per tool, as the reference pipe does: the last definition of a name
/// (function tools) or type (other tools) wins but keeps the position where that tool
/// first appeared; entries without a type are dropped.
pub fn dedupe(tools: Vec<Value>) -> Vec<Value> {
    let mut kept: Vec<Value> = Vec::with_capacity(tools.len());
    let mut position: HashMap<(String, Option<String>), usize> = HashMap::new();
    for tool in tools {
        let Some(key) = identity(&tool) else {
            continue;
        };
        match position.get(&key) {
            Some(&at) => kept[at] = tool,
            None => {
                position.insert(key, kept.len());
                kept.push(tool);
            }
        }
    }
    kept
}

/// The `tools` of one request and what was left out of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assembled {
    /// Responses tools, de-duplicated, registry tools first.
    pub tools: Vec<Value>,
    /// One line per malformed entry, for the log.
    pub skipped: Vec<String>,
}

/// The request's tools: Open WebUI specs (`registry_specs`: `__tools__` and Direct Tool
/// Servers) first, strictified when `strict`, then `extra_tools` (Chat Completions or
/// Responses shaped, e.g. the body's `tools` or a filter's `extra_tools`), converted but
/// sent as their author wrote them (never strictified: a schema strict mode rejects would
/// fail the request), and de-duplicated, so a later definition of a name replaces an
/// earlier one in place.
pub fn assemble(registry_specs: &[Value], extra_tools: &[Value], strict: bool) -> Assembled {
    assemble_with(registry_specs, extra_tools, strict, false)
}

/// The tools Open WebUI puts in the body for its own tool loop (`Open-WebUI` mode): its
/// own tools in the Chat Completions shape, strictified like registry specs.
pub fn assemble_owui_tools(tools: &[Value], strict: bool) -> Assembled {
    assemble_with(&[], tools, strict, strict)
}

fn assemble_with(
    registry_specs: &[Value],
    extra_tools: &[Value],
    strict: bool,
    extras_strict: bool,
) -> Assembled {
    let mut tools = Vec::with_capacity(registry_specs.len() + extra_tools.len());
    let mut skipped = Vec::new();
    for (at, spec) in registry_specs.iter().enumerate() {
        match convert_owui_spec(spec, strict) {
            Ok(tool) => tools.push(tool),
            Err(why) => skipped.push(format!("{why} skipped (registry entry {})", at + 1)),
        }
    }
    for (at, tool) in extra_tools.iter().enumerate() {
        match convert_tool(tool, extras_strict) {
            Ok(tool) => tools.push(tool),
            Err(why) => skipped.push(format!("{why} skipped (extra tool {})", at + 1)),
        }
    }
    Assembled {
        tools: dedupe(tools),
        skipped,
    }
}

/// A Responses function tool as a Chat Completions tool
/// (`{"type":"function","function":{name, description?, parameters?, strict?}}`), for the
/// Chat Completions endpoint. `None` for other tool types, which that endpoint does not
/// take as tools, and for function tools without a name. Chat-shaped input is accepted.
pub fn to_chat_tool(tool: &Value) -> Option<Value> {
    let map = tool.as_object()?;
    if text_field(map, "type")? != "function" {
        return None;
    }
    let definition = match map.get("function") {
        Some(Value::Object(function)) => function,
        _ => map,
    };
    let name = text_field(definition, "name")?;
    let mut function = Map::new();
    function.insert("name".into(), json!(name));
    for key in ["description", "parameters", "strict"] {
        if let Some(value) = definition.get(key).filter(|v| !v.is_null()) {
            function.insert(key.into(), value.clone());
        }
    }
    Some(json!({"type": "function", "function": function}))
}

#[cfg(test)]
#[path = "specs_tests.rs"]
mod tests;
