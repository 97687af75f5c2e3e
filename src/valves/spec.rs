//! The shape of one valve declaration. The declarations themselves live in
//! [`super::table`]; everything else (the shim's pydantic models, the docs table,
//! the typed [`super::Settings`]) is derived from them.

/// The value type of a valve, as Open WebUI's valve form shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValveType {
    Str,
    /// A string rendered as a password field; may arrive in Open WebUI's encrypted form.
    Secret,
    Bool,
    Int,
    Float,
    /// An integer that may be left empty (`None`).
    OptionalInt,
    /// One of a fixed list of strings.
    Choice(&'static [&'static str]),
}

/// Where a valve's default comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    Str(&'static str),
    Bool(bool),
    Int(i64),
    Float(f64),
    /// No value (`None`); only for [`ValveType::OptionalInt`].
    Null,
    /// The environment variable `var` (whitespace stripped) when set and non-empty,
    /// else `fallback`. For [`ValveType::Choice`] valves the value is upper/lower-cased to
    /// match a choice, and `fallback` is used when it matches none.
    Env {
        var: &'static str,
        fallback: &'static str,
    },
}

/// Whether a valve does anything today. An admin must be able to tell from the form
/// and from `docs/valves.md`; the valve-status test keeps this honest against the code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValveStatus {
    /// Read by the engine (or by the Python layer) and changes what it does.
    Live,
    /// Declared for the feature that will read it, but read nowhere yet. The text says
    /// what it waits for, as a clause after "until", naming the issue: "the pipe runs
    /// tools itself (issue #10)".
    Planned(&'static str),
    /// Accepted so stored configurations of the reference pipe keep loading, but its job
    /// does not exist in this engine's design. The text says why, as a clause.
    Compat(&'static str),
}

/// One valve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValveSpec {
    pub name: &'static str,
    pub ty: ValveType,
    pub default: DefaultValue,
    /// Inclusive lower bound (pydantic `ge`), for numbers.
    pub min: Option<f64>,
    /// Inclusive upper bound (pydantic `le`), for numbers.
    pub max: Option<f64>,
    /// Help text shown under the field in Open WebUI.
    pub description: &'static str,
    /// `Some(title)` when users may override this valve in their own settings
    /// (a `UserValves` field with that title and the default "inherit").
    pub user_title: Option<&'static str>,
    /// Whether the valve does anything yet; see [`ValveStatus`].
    pub status: ValveStatus,
}

impl ValveSpec {
    /// The help text an admin sees: the description, preceded by a clear notice when the
    /// valve does nothing today.
    pub fn admin_description(&self) -> String {
        match self.status {
            ValveStatus::Live => self.description.to_string(),
            ValveStatus::Planned(until) => format!(
                "{PLANNED_PREFIX} does nothing until {until}. Planned: {}",
                self.description
            ),
            ValveStatus::Compat(why) => format!(
                "{COMPAT_PREFIX} {why}. In the reference pipe: {}",
                self.description
            ),
        }
    }
}

/// How the help text of a [`ValveStatus::Planned`] valve starts.
pub const PLANNED_PREFIX: &str = "Not active yet:";
/// How the help text of a [`ValveStatus::Compat`] valve starts.
pub const COMPAT_PREFIX: &str = "Accepted for compatibility, no effect:";
