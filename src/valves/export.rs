//! The valve declarations as JSON, for the Python layer that builds the pydantic
//! `Valves`/`UserValves` models and for the generated docs table.

use serde_json::{json, Value};

use super::spec::{DefaultValue, ValveSpec, ValveStatus, ValveType};
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

/// `(status, note)`: the status name and what a planned valve waits for or why a
/// compat valve has no effect.
fn status_json(status: ValveStatus) -> (&'static str, Option<&'static str>) {
    match status {
        ValveStatus::Live => ("live", None),
        ValveStatus::Planned(until) => ("planned", Some(until)),
        ValveStatus::Compat(why) => ("compat", Some(why)),
    }
}

fn spec_json(spec: &ValveSpec) -> Value {
    let (status, status_note) = status_json(spec.status);
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
        "description": spec.admin_description(),
        "user_title": spec.user_title,
        "status": status,
        "status_note": status_note,
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
        assert_eq!(key["status"], "live");
        assert_eq!(key["status_note"], Value::Null);
    }

    #[test]
    fn inactive_valves_say_so_in_the_exported_description() {
        assert!(
            VALVES
                .iter()
                .all(|v| !matches!(v.status, ValveStatus::Planned(_))),
            "every declared valve works: none is planned"
        );
        let planned = spec_json(&ValveSpec {
            status: ValveStatus::Planned("the feature lands (issue #99)"),
            ..VALVES[0]
        });
        assert_eq!(planned["status"], "planned");
        let text = planned["description"].as_str().unwrap();
        assert!(
            text.starts_with("Not active yet: does nothing until the feature lands (issue #99)"),
            "{text}"
        );
        let all: Vec<Value> = serde_json::from_str(&valves_json()).unwrap();
        let by_name = |name: &str| all.iter().find(|v| v["name"] == name).unwrap().clone();
        let compat = by_name("SSE_WORKERS_PER_REQUEST");
        assert_eq!(compat["status"], "compat");
        let text = compat["description"].as_str().unwrap();
        assert!(
            text.starts_with("Accepted for compatibility, no effect: "),
            "{text}"
        );
        assert!(text.contains(compat["status_note"].as_str().unwrap()));
    }
}
