//! How a user's valves override the system valves: only the user-overridable ones, only
//! with a real value, converted to the valve's type.

use serde_json::{Map, Value};

use super::spec::{ValveSpec, ValveType};
use super::table::VALVES;

/// The value a user valve holds when it should follow the system valve.
pub const INHERIT: &str = "inherit";

/// Merges the user's valves over the system valves.
///
/// A user value overrides only when it is present, not null and not `"inherit"`, and
/// only for valves declared user-overridable. Unknown keys are ignored.
pub fn merge(system: &Map<String, Value>, user: Option<&Map<String, Value>>) -> Map<String, Value> {
    let mut merged = system.clone();
    let Some(user) = user else { return merged };
    for spec in VALVES.iter().filter(|v| v.user_title.is_some()) {
        match user.get(spec.name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.eq_ignore_ascii_case(INHERIT) || s.is_empty() => {}
            Some(value) => {
                if let Some(v) = coerce(spec, value) {
                    merged.insert(spec.name.to_string(), v);
                }
            }
        }
    }
    merged
}

/// Converts a loosely typed value (e.g. `"true"`, `"5"`) into the valve's type; `None`
/// when it cannot be, so a bad value falls back to the system value instead of failing.
fn coerce(spec: &ValveSpec, value: &Value) -> Option<Value> {
    match (spec.ty, value) {
        (ValveType::Bool, Value::Bool(_)) => Some(value.clone()),
        (ValveType::Bool, Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => Some(Value::Bool(true)),
            "false" | "off" | "no" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        (ValveType::Choice(choices), Value::String(s)) => choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(s))
            .map(|c| Value::String((*c).to_string())),
        (ValveType::Int | ValveType::OptionalInt, Value::Number(n)) if n.is_i64() => {
            Some(value.clone())
        }
        (ValveType::Float, Value::Number(_)) => Some(value.clone()),
        (ValveType::Str | ValveType::Secret, Value::String(_)) => Some(value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn inherit_and_null_keep_the_system_value() {
        let system = obj(json!({"THINKING_OUTPUT_MODE": "both"}));
        let user = obj(json!({"THINKING_OUTPUT_MODE": "inherit"}));
        assert_eq!(merge(&system, Some(&user))["THINKING_OUTPUT_MODE"], "both");
        let user = obj(json!({"THINKING_OUTPUT_MODE": null}));
        assert_eq!(merge(&system, Some(&user))["THINKING_OUTPUT_MODE"], "both");
    }

    #[test]
    fn explicit_user_value_wins_and_bad_values_do_not_drop_the_others() {
        let system = obj(json!({"THINKING_OUTPUT_MODE": "both", "API_KEY": "sys"}));
        let user = obj(json!({"THINKING_OUTPUT_MODE": "STATUS", "API_KEY": "user-cannot-set"}));
        let merged = merge(&system, Some(&user));
        assert_eq!(merged["THINKING_OUTPUT_MODE"], "status");
        assert_eq!(merged["API_KEY"], "sys");
    }
}
