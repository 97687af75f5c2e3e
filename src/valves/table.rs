//! Every valve the pipe understands, in the order Open WebUI shows them.
//! Names, types and defaults follow the reference pipe so admins keep their configuration.

use super::spec::{DefaultValue as D, ValveSpec, ValveType as T};

const fn valve(
    name: &'static str,
    ty: T,
    default: D,
    description: &'static str,
) -> ValveSpec {
    ValveSpec {
        name,
        ty,
        default,
        min: None,
        max: None,
        description,
        user_title: None,
    }
}

const fn ranged(
    name: &'static str,
    ty: T,
    default: D,
    min: Option<f64>,
    max: Option<f64>,
    description: &'static str,
) -> ValveSpec {
    ValveSpec {
        name,
        ty,
        default,
        min,
        max,
        description,
        user_title: None,
    }
}

const fn user(spec: ValveSpec, title: &'static str) -> ValveSpec {
    ValveSpec {
        user_title: Some(title),
        ..spec
    }
}

pub const REASONING_EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh"];

pub static VALVES: &[ValveSpec] = &[
    valve(
        "BASE_URL",
        T::Str,
        D::Env { var: "OPENROUTER_API_BASE_URL", fallback: "https://openrouter.ai/api/v1" },
        "OpenRouter API base URL. Change it only to go through a gateway or proxy.",
    ),
    valve(
        "API_KEY",
        T::Secret,
        D::Env { var: "OPENROUTER_API_KEY", fallback: "" },
        "Your OpenRouter API key (sk-or-…). Falls back to the OPENROUTER_API_KEY environment variable.",
    ),
    ranged(
        "HTTP_CONNECT_TIMEOUT_SECONDS",
        T::Int,
        D::Int(10),
        Some(1.0),
        None,
        "Seconds to wait for a connection to OpenRouter.",
    ),
    user(
        valve(
            "THINKING_OUTPUT_MODE",
            T::Choice(&["open_webui", "status", "both"]),
            D::Str("open_webui"),
            "Where live reasoning appears: Open WebUI's Thinking block, status lines, or both.",
        ),
        "Thinking output",
    ),
    // (the remaining declarations follow)
];
