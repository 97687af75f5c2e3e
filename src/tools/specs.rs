//! TEMPORARY minimal tool-definition conversion, replaced by the tool-specs branch.

use serde_json::{json, Value};

pub struct Assembled {
    pub tools: Vec<Value>,
    pub skipped: Vec<String>,
}

pub fn assemble(registry_specs: &[Value], extra_tools: &[Value], _strict: bool) -> Assembled {
    let mut tools = Vec::new();
    for spec in registry_specs {
        if let Some(name) = spec.get("name").and_then(Value::as_str) {
            tools.push(json!({"type":"function","name":name,
                "description": spec.get("description").cloned().unwrap_or(json!(name)),
                "parameters": spec.get("parameters").cloned().unwrap_or(json!({"type":"object","properties":{}}))}));
        }
    }
    for tool in extra_tools {
        let f = tool.get("function").unwrap_or(tool);
        if let Some(name) = f.get("name").and_then(Value::as_str) {
            tools.push(json!({"type":"function","name":name,
                "description": f.get("description").cloned().unwrap_or(json!(name)),
                "parameters": f.get("parameters").cloned().unwrap_or(json!({"type":"object","properties":{}}))}));
        }
    }
    Assembled {
        tools,
        skipped: Vec::new(),
    }
}
