//! Reads one valve of the merged map by name, for the settings structs of this module
//! only: everything outside reads typed fields. Missing or mistyped values fall back to
//! the declared default, and numbers go through the declaration's clamp.

use serde_json::{Map, Value};

use crate::valves::secret;
use crate::valves::spec::{DefaultValue, ValveSpec, ValveType};

pub(super) struct Raw<'a>(pub(super) &'a Map<String, Value>);

fn spec(name: &str) -> &'static ValveSpec {
    ValveSpec::find(name).unwrap_or_else(|| panic!("{name} is not a declared valve"))
}

impl Raw<'_> {
    pub(super) fn str(&self, name: &str) -> String {
        match self.0.get(name) {
            Some(Value::String(s)) => s.clone(),
            _ => match spec(name).default {
                DefaultValue::Str(s) => s.to_string(),
                DefaultValue::Env { var, fallback } => std::env::var(var)
                    .ok()
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| fallback.to_string()),
                _ => String::new(),
            },
        }
    }

    /// A choice valve's value; its declared default when the stored one is not a choice.
    pub(super) fn choice(&self, name: &str) -> String {
        let value = self.str(name);
        match spec(name).ty {
            ValveType::Choice(choices) if choices.contains(&value.as_str()) => value,
            ValveType::Choice(_) => Raw(&Map::new()).str(name),
            other => panic!("{name} is a {other:?} valve, not a choice"),
        }
    }

    pub(super) fn bool(&self, name: &str) -> bool {
        match self.0.get(name) {
            Some(Value::Bool(b)) => *b,
            _ => spec(name).default == DefaultValue::Bool(true),
        }
    }

    /// A required integer valve, within its bounds.
    pub(super) fn int(&self, name: &str) -> i64 {
        let spec = spec(name);
        spec.int_value(self.0.get(name))
            .unwrap_or_else(|| panic!("{name} has no integer default"))
    }

    /// An integer valve that may be left empty, within its bounds.
    pub(super) fn optional_int(&self, name: &str) -> Option<i64> {
        spec(name).int_value(self.0.get(name))
    }

    pub(super) fn float(&self, name: &str) -> f64 {
        spec(name).float_value(self.0.get(name))
    }

    pub(super) fn secret(&self, name: &'static str) -> SecretValve {
        SecretValve {
            name,
            stored: self.str(name),
        }
    }
}

/// A secret valve as stored, revealed only where it is used, so a value that cannot be
/// decrypted is reported when it matters and never printed by `Debug`.
#[derive(Clone, PartialEq)]
pub struct SecretValve {
    name: &'static str,
    stored: String,
}

impl std::fmt::Debug for SecretValve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValve({}, {} chars)", self.name, self.stored.len())
    }
}

impl SecretValve {
    /// The plain value (decrypting Open WebUI's `encrypted:` form), trimmed; empty, with
    /// a warning in the log, when it cannot be decrypted.
    pub fn reveal(&self) -> String {
        let webui_secret = std::env::var("WEBUI_SECRET_KEY")
            .ok()
            .filter(|s| !s.is_empty());
        match secret::reveal(self.stored.trim(), webui_secret.as_deref()) {
            Some(plain) => plain.trim().to_string(),
            None => {
                crate::logsink::log(
                    crate::emit::LogLevel::Warning,
                    format!(
                        "{} is stored encrypted but cannot be decrypted with this server's WEBUI_SECRET_KEY; ignoring it",
                        self.name
                    ),
                );
                String::new()
            }
        }
    }
}
