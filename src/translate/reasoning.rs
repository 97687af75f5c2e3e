//! How much thinking to ask for: `reasoning` for models that take it, the legacy
//! `include_reasoning` flag for those that only know that, and Gemini's thinking
//! level (Gemini 3) or budget (Gemini 2.5) expressed in OpenRouter's `reasoning` form.

use serde_json::{json, Map, Value};

use super::context::TranslateContext;

/// Effort levels from least to most thinking.
pub const EFFORT_ORDER: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh"];

/// Applies the reasoning preferences to `body`.
pub fn apply(chat_body: &Value, ctx: &TranslateContext, body: &mut Map<String, Value>) {
    let settings = &ctx.settings.reasoning;
    // A task on one of this pipe's models always uses the task effort (as the reference
    // does); a task on another model keeps the normal preferences.
    let task_effort = ctx.task && ctx.owned;
    let given = given_reasoning(chat_body);
    if !settings.enabled && !task_effort {
        // The admin asks for nothing; a request that asks for reasoning itself keeps it.
        if !given.is_empty() && ctx.supports("reasoning") {
            body.insert("reasoning".into(), Value::Object(given));
        }
        return;
    }
    let requested = given
        .get("effort")
        .or_else(|| chat_body.get("reasoning_effort"))
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| EFFORT_ORDER.contains(&s.as_str()));
    let effort = if task_effort {
        settings.task_effort.clone()
    } else {
        requested.unwrap_or_else(|| settings.effort.clone())
    };
    if let Some(family) = gemini_family(ctx.model_id) {
        apply_gemini(family, &effort, ctx, body);
        return;
    }
    if ctx.supports("reasoning") {
        let effort = supported_effort(&effort, ctx);
        // The request's own settings (a budget, `exclude`, a summary) are kept; the
        // admin's fill in what it leaves out. A token budget stands instead of an effort.
        let mut reasoning = given;
        if task_effort || !reasoning.contains_key("max_tokens") {
            reasoning.insert("effort".into(), json!(effort));
        }
        let summary = &settings.summary_mode;
        if summary != "disabled" && !summary.is_empty() && effort != "none" && !ctx.task {
            reasoning.entry("summary").or_insert_with(|| json!(summary));
        }
        if task_effort || !reasoning.contains_key("enabled") {
            reasoning.insert("enabled".into(), json!(effort != "none"));
        }
        body.insert("reasoning".into(), Value::Object(reasoning));
    } else if ctx.model.is_some_and(|m| m.supports("include_reasoning")) {
        body.insert(
            "include_reasoning".into(),
            json!(!(matches!(effort.as_str(), "none" | "") || (ctx.task && effort == "minimal"))),
        );
    }
}

/// The request's own `reasoning` object, with only the keys OpenRouter reads.
fn given_reasoning(chat_body: &Value) -> Map<String, Value> {
    const KEYS: [&str; 5] = ["effort", "max_tokens", "exclude", "enabled", "summary"];
    chat_body
        .get("reasoning")
        .and_then(Value::as_object)
        .map(|r| {
            r.iter()
                .filter(|(k, v)| KEYS.contains(&k.as_str()) && !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The requested effort, moved to the nearest level the model lists as supported
/// (the next higher one, else the highest), so the provider never rejects it.
fn supported_effort(effort: &str, ctx: &TranslateContext) -> String {
    let Some(levels) = ctx
        .model
        .and_then(|m| m.reasoning.as_ref())
        .and_then(|r| r.supported_efforts.as_ref())
        .filter(|l| !l.is_empty())
    else {
        return effort.to_string();
    };
    if levels.iter().any(|l| l == effort) {
        return effort.to_string();
    }
    let rank = |e: &str| EFFORT_ORDER.iter().position(|x| *x == e);
    let Some(wanted) = rank(effort) else {
        return levels[0].clone();
    };
    let mut ranked: Vec<(usize, &String)> = levels
        .iter()
        .filter_map(|l| rank(l).map(|r| (r, l)))
        .collect();
    ranked.sort();
    ranked
        .iter()
        .find(|(r, _)| *r >= wanted)
        .or(ranked.last())
        .map_or_else(|| levels[0].clone(), |(_, l)| (*l).clone())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gemini {
    Three,
    TwoFive,
}

fn gemini_family(model_id: &str) -> Option<Gemini> {
    let id = model_id.to_ascii_lowercase().replace('/', ".");
    if id.starts_with("google.gemini-3") {
        Some(Gemini::Three)
    } else if id.starts_with("google.gemini-2.5") {
        Some(Gemini::TwoFive)
    } else {
        None
    }
}

fn apply_gemini(
    family: Gemini,
    effort: &str,
    ctx: &TranslateContext,
    body: &mut Map<String, Value>,
) {
    if effort == "none" {
        return;
    }
    let reasoning = match family {
        Gemini::Three => {
            let level = match ctx.settings.reasoning.gemini_thinking_level.as_str() {
                "low" => "low",
                "high" => "high",
                _ if matches!(effort, "minimal" | "low") => "low",
                _ => "high",
            };
            json!({"effort": level, "enabled": true})
        }
        Gemini::TwoFive => {
            let base = ctx.settings.reasoning.gemini_thinking_budget;
            let scale = match effort {
                "minimal" => 0.25,
                "low" => 0.5,
                "high" => 2.0,
                "xhigh" => 4.0,
                _ => 1.0,
            };
            let budget = if base <= 0 {
                0
            } else {
                ((base as f64 * scale).round() as i64).max(1)
            };
            json!({"max_tokens": budget, "enabled": budget > 0})
        }
    };
    body.insert("reasoning".into(), reasoning);
}
