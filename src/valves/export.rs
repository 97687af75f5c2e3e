//! The valve declarations as JSON, for the Python layer that builds the pydantic
//! `Valves`/`UserValves` models and for the generated docs table.

use serde_json::{json, Value};

use super::spec::{DefaultValue, ValveSpec, ValveType};
use super::table::VALVES;

fn type_name(ty: ValveType) -> &'static str {
    match ty {
        ValveType::Str => "str",
        ValveType::Secret => "secret",
        ValveType::Bool => "bool",
        ValveType::Int => "int",
        ValveType::Float => "float",
        ValveType::OptionalInt => "optional_int",
        ValveType::Choice(_) => "choice",
    }
}

fn default_json(default: DefaultValue) -> (Value, Value) {
    match default {
        DefaultValue::Str(s) => (json!(s), Value::Null),
        DefaultValue::Bool(b) => (json!(b), Value::Null),
        DefaultValue::Int(i) => (json!(i), Value::Null),
        DefaultValue::Float(f) => (json!(f), Value::Null),
        DefaultValue::Null => (Value::Null, Value::Null),
        DefaultValue::Env { var, fallback } => (json!(fallback), json!(var)),
    }
}

fn spec_json(spec: &ValveSpec) -> Value {
    let (default, env) = default_json(spec.default);
    let choices = match spec.ty {
        ValveType::Choice(c) => json!(c),
        _ => Value::Null,
    };
    json!({
        "name": spec.name,
        "type": type_name(spec.ty),
        "choices": choices,
        "default": default,
        "default_env": env,
        "min": spec.min,
        "max": spec.max,
        "description": spec.description,
        "user_title": spec.user_title,
    })
}

/// Every valve, in declaration order, as a JSON array.
pub fn valves_json() -> String {
    Value::Array(VALVES.iter().map(spec_json).collect()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lists_every_valve_with_its_env_default() {
        let all: Vec<Value> = serde_json::from_str(&valves_json()).unwrap();
        assert_eq!(all.len(), VALVES.len());
        let key = all.iter().find(|v| v["name"] == "API_KEY").unwrap();
        assert_eq!(key["type"], "secret");
        assert_eq!(key["default_env"], "OPENROUTER_API_KEY");
    }
}
