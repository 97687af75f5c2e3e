//! Anthropic specifics: prompt-cache breakpoints and the interleaved-thinking beta.

use serde_json::{json, Value};

use super::context::TranslateContext;

pub const INTERLEAVED_THINKING_BETA: &str = "interleaved-thinking-2025-05-14";

/// Marks the last text block of the last system prompt and of the last three user
/// messages with `cache_control`, so long conversations are billed at cache rates.
pub fn cache_breakpoints(ctx: &TranslateContext, input: &mut [Value]) {
    if !ctx.is_anthropic() || !ctx.settings.outbound.anthropic.prompt_caching {
        return;
    }
    let ttl = ctx.settings.outbound.anthropic.prompt_cache_ttl;
    let role_of = |item: &Value| {
        item.get("role")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut targets: Vec<usize> = Vec::new();
    if let Some(i) = input
        .iter()
        .rposition(|m| matches!(role_of(m).as_str(), "system" | "developer"))
    {
        targets.push(i);
    }
    targets.extend(
        input
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, m)| role_of(m) == "user")
            .take(3)
            .map(|(i, _)| i),
    );
    for index in targets {
        let Some(parts) = input[index]
            .get_mut("content")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        let last_text = parts.iter_mut().rev().find(|p| {
            p.get("type").and_then(Value::as_str) == Some("input_text")
                && p.get("text")
                    .and_then(Value::as_str)
                    .is_some_and(|t| !t.is_empty())
        });
        if let Some(part) = last_text {
            match part.get_mut("cache_control") {
                Some(Value::Object(existing)) => {
                    existing.entry("ttl").or_insert_with(|| json!(ttl));
                }
                _ => part["cache_control"] = json!({"type": "ephemeral", "ttl": ttl}),
            }
        }
    }
}

/// Extra headers for the request (`x-anthropic-beta` for Claude's interleaved thinking
/// on streamed requests).
pub fn extra_headers(ctx: &TranslateContext) -> Vec<(String, String)> {
    if ctx.is_anthropic()
        && ctx.stream
        && !ctx.task
        && ctx.settings.outbound.anthropic.interleaved_thinking
    {
        vec![("x-anthropic-beta".into(), INTERLEAVED_THINKING_BETA.into())]
    } else {
        Vec::new()
    }
}
