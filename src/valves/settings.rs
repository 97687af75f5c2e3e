//! The typed settings one request runs with: system valves merged with the user's.

use serde_json::{Map, Value};

use super::spec::{DefaultValue, ValveSpec, ValveType};
use super::table::VALVES;
use crate::stream::mapper::ThinkingMode;

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

/// Read-only view over merged valve values with typed getters that fall back to the
/// declared default when a value is missing or of the wrong type.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: Map<String, Value>,
}

impl Settings {
    pub fn new(values: Map<String, Value>) -> Self {
        Self { values }
    }

    pub fn from_json(text: &str) -> Self {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Self::new(map),
            _ => Self::default(),
        }
    }

    fn spec(name: &str) -> Option<&'static ValveSpec> {
        ValveSpec::find(name)
    }

    pub fn str(&self, name: &str) -> String {
        match self.values.get(name) {
            Some(Value::String(s)) => s.clone(),
            _ => match Self::spec(name).map(|s| s.default) {
                Some(DefaultValue::Str(s)) => s.to_string(),
                Some(DefaultValue::Env { var, fallback }) => std::env::var(var)
                    .ok()
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| fallback.to_string()),
                _ => String::new(),
            },
        }
    }

    pub fn bool(&self, name: &str) -> bool {
        match self.values.get(name) {
            Some(Value::Bool(b)) => *b,
            _ => matches!(
                Self::spec(name).map(|s| s.default),
                Some(DefaultValue::Bool(true))
            ),
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.values.get(name) {
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Some(Value::Null) => None,
            _ => match Self::spec(name).map(|s| s.default) {
                Some(DefaultValue::Int(i)) => Some(i),
                _ => None,
            },
        }
    }

    pub fn float(&self, name: &str) -> Option<f64> {
        match self.values.get(name) {
            Some(Value::Number(n)) => n.as_f64(),
            _ => match Self::spec(name).map(|s| s.default) {
                Some(DefaultValue::Float(f)) => Some(f),
                Some(DefaultValue::Int(i)) => Some(i as f64),
                _ => None,
            },
        }
    }

    /// The plain value of a secret valve (decrypting Open WebUI's `encrypted:` form);
    /// empty, with a warning in the log, when it cannot be decrypted.
    pub fn secret(&self, name: &str) -> String {
        let raw = self.str(name);
        let webui_secret = std::env::var("WEBUI_SECRET_KEY")
            .ok()
            .filter(|s| !s.is_empty());
        match super::secret::reveal(raw.trim(), webui_secret.as_deref()) {
            Some(plain) => plain,
            None => {
                crate::logsink::log(
                    crate::stream::emit::LogLevel::Warning,
                    format!("{name} is stored encrypted but cannot be decrypted with this server's WEBUI_SECRET_KEY; ignoring it"),
                );
                String::new()
            }
        }
    }

    /// The OpenRouter API key: the valve, else `OPENROUTER_API_KEY`.
    pub fn api_key(&self) -> String {
        let key = self.secret("API_KEY").trim().to_string();
        if key.is_empty() {
            std::env::var("OPENROUTER_API_KEY")
                .map(|k| k.trim().to_string())
                .unwrap_or_default()
        } else {
            key
        }
    }

    /// The API base URL without a trailing slash.
    pub fn base_url(&self) -> String {
        let url = self.str("BASE_URL");
        let url = url.trim().trim_end_matches('/');
        if url.is_empty() {
            "https://openrouter.ai/api/v1".to_string()
        } else {
            url.to_string()
        }
    }

    pub fn thinking_mode(&self) -> ThinkingMode {
        match self.str("THINKING_OUTPUT_MODE").as_str() {
            "status" => ThinkingMode::Status,
            "both" => ThinkingMode::Both,
            _ => ThinkingMode::OpenWebUi,
        }
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

    #[test]
    fn missing_values_fall_back_to_declared_defaults() {
        let s = Settings::default();
        assert_eq!(s.thinking_mode(), ThinkingMode::OpenWebUi);
        assert_eq!(s.int("HTTP_CONNECT_TIMEOUT_SECONDS"), Some(10));
    }

    #[test]
    fn base_url_loses_trailing_slash() {
        let s = Settings::new(obj(json!({"BASE_URL": " http://x/api/v1/ "})));
        assert_eq!(s.base_url(), "http://x/api/v1");
    }
}
