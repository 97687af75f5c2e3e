//! What passes from one tool round to the next: the round's own output (its text,
//! reasoning and function calls, in the order the model produced them) goes back into the
//! next request's input, and the note shown when the round limit stops the loop.

use std::time::Duration;

use serde_json::{json, Value};

use super::turn::TurnResult;
use crate::emit::{Emit, NoticeLevel};
use crate::errors::{self, CardStyle};
use crate::stream::usage::{owui_usage, usage_status_line};
use crate::tools::output::call_item;
use crate::valves::Settings;

/// The round's output as input items for the next round: the assistant's text first,
/// then its reasoning and function calls in output order (reasoning items carry their
/// encrypted content, so reasoning models keep their chain of thought).
pub fn round_items(round: &TurnResult) -> Vec<Value> {
    let mut items = Vec::new();
    if !round.text.trim().is_empty() {
        items.push(json!({
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": round.text}],
        }));
    }
    let mut calls_seen = false;
    for item in &round.output_items {
        match item.get("type").and_then(Value::as_str) {
            Some("reasoning") => items.push(item.clone()),
            Some("function_call") => {
                calls_seen = true;
                items.push(item.clone());
            }
            _ => {}
        }
    }
    if !calls_seen {
        items.extend(round.function_calls.iter().map(call_item));
    }
    items
}

/// The built-in note for an answer stopped at the round limit.
const LIMIT_NOTE: &str = "### 🧰 Tool step limit reached\n\n\
The model kept calling tools and reached the limit of tool rounds for one answer, so it \
stopped here.\n\n**Current limit:** `{max_function_call_loops}`\n\n\
Ask an admin to raise `MAX_FUNCTION_CALL_LOOPS` (25–50 suits most work), or split the \
request into smaller steps.";

/// What closes an answer stopped at the round limit: a toast, the note (the admin's
/// template when set) and the usage of every round.
pub fn limit_reached(
    settings: &Settings,
    style: &CardStyle,
    usage: Option<&Value>,
    elapsed: Duration,
) -> Vec<Emit> {
    let limit = settings.tools.max_rounds;
    let built_in = || LIMIT_NOTE.replace("{max_function_call_loops}", &limit.to_string());
    let note = if settings.tools.limit_template.trim().is_empty() {
        built_in()
    } else {
        // The same template language as the error cards; one that cannot be used
        // gives the built-in note.
        let mut values = errors::request_values(style, crate::time::unix_now());
        values.insert("max_function_call_loops", limit.to_string());
        match errors::render_template(&settings.tools.limit_template, &values) {
            Ok(text) if !text.trim().is_empty() => errors::redact::redact(&text),
            _ => built_in(),
        }
    };
    let mut emits = vec![
        Emit::Notification {
            level: NoticeLevel::Warning,
            content: format!(
                "Tool step limit reached (MAX_FUNCTION_CALL_LOOPS={limit}). Increase the limit or simplify the request to continue."
            ),
        },
        Emit::Content(format!("\n\n{note}")),
    ];
    emits.extend(usage.and_then(owui_usage).map(Emit::Usage));
    let line = if settings.stream.show_final_usage {
        usage_status_line(usage, elapsed, elapsed)
    } else {
        "Tool step limit reached".to_string()
    };
    emits.push(Emit::status(line, true));
    emits
}

#[cfg(test)]
mod tests;
