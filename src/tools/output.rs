//! What a finished call gives back: the `function_call_output` item the next round sends
//! to the model, and the collapsible block Open WebUI shows in the message. Both are
//! built from the same text, capped so one huge tool result cannot blow up the context.

use serde_json::{json, Value};

use crate::emit::FunctionCall;
use crate::ids::new_id;

/// Longest tool output sent back to the model, in characters (~12k tokens). Longer
/// results are cut with a note saying how much was left out.
pub const MAX_OUTPUT_CHARS: usize = 50_000;

/// Longest result shown in the message's tool block, in characters; the model still gets
/// up to [`MAX_OUTPUT_CHARS`].
pub const MAX_SHOWN_CHARS: usize = 2_000;

/// The text of a tool's answer: strings as they are, `null` as nothing, anything else as
/// compact JSON.
pub fn result_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `text` cut to `max` characters, with a note when something was cut.
pub fn capped(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => {
            let left_out = text[cut..].chars().count();
            format!(
                "{}\n[… output truncated: {left_out} more characters]",
                &text[..cut]
            )
        }
    }
}

/// The item that answers `call`. Failures are told in the text: OpenRouter accepts no
/// status but `completed` here.
pub fn output_item(call: &FunctionCall, text: &str) -> Value {
    json!({
        "type": "function_call_output",
        "id": new_id(),
        "status": "completed",
        "call_id": if call.call_id.is_empty() { new_id() } else { call.call_id.clone() },
        "output": capped(text, MAX_OUTPUT_CHARS),
    })
}

/// The `function_call` item of `call`, as the next round sends it back.
pub fn call_item(call: &FunctionCall) -> Value {
    json!({
        "type": "function_call",
        "id": call.item_id,
        "call_id": call.call_id,
        "name": call.name,
        "arguments": call.arguments,
        "status": "completed",
    })
}

/// Open WebUI's collapsible tool-call block for one executed call (its markdown renderer
/// shows `<details type="tool_calls">` as "Tool Executed" with the name, arguments and
/// result). Attribute values are HTML-escaped JSON, as Open WebUI writes them itself.
pub fn tool_block(call: &FunctionCall, result: &str) -> String {
    let arguments = escape(&Value::String(call.arguments.clone()).to_string());
    let shown = escape(&Value::String(capped(result, MAX_SHOWN_CHARS)).to_string());
    format!(
        "\n<details type=\"tool_calls\" done=\"true\" id=\"{}\" name=\"{}\" arguments=\"{}\" result=\"{}\" files=\"\" embeds=\"\">\n<summary>Tool Executed</summary>\n</details>\n",
        escape(&call.call_id),
        escape(&call.name),
        arguments,
        shown,
    )
}

/// `text` without the tool blocks of [`tool_block`]: they are for the user to read, the
/// model gets the calls and results themselves (replayed from storage).
pub fn without_tool_blocks(text: &str) -> std::borrow::Cow<'_, str> {
    const OPEN: &str = "<details type=\"tool_calls\"";
    const CLOSE: &str = "</details>";
    if !text.contains(OPEN) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let Some(end) = rest[start..].find(CLOSE) else {
            break;
        };
        let head = &rest[..start];
        out.push_str(head.strip_suffix('\n').unwrap_or(head));
        rest = &rest[start + end + CLOSE.len()..];
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// HTML attribute escaping (`&`, `<`, `>`, `"`, `'`), and newlines kept out of the line.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '\n' => out.push_str("&#10;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> FunctionCall {
        FunctionCall {
            item_id: "fc_1".into(),
            call_id: "call_1".into(),
            name: "search".into(),
            arguments: r#"{"q":"<b>cats</b>"}"#.into(),
        }
    }

    #[test]
    fn results_become_text() {
        assert_eq!(result_text(&json!("plain")), "plain");
        assert_eq!(result_text(&Value::Null), "");
        assert_eq!(result_text(&json!({"a": [1, 2]})), r#"{"a":[1,2]}"#);
    }

    #[test]
    fn long_outputs_are_cut_with_a_note_on_a_char_boundary() {
        let text = "é".repeat(10);
        assert_eq!(capped(&text, 10), text);
        let cut = capped(&text, 4);
        assert!(cut.starts_with("éééé\n"), "{cut}");
        assert!(cut.ends_with("6 more characters]"), "{cut}");
        let item = output_item(&call(), &"x".repeat(MAX_OUTPUT_CHARS + 5));
        assert!(item["output"]
            .as_str()
            .unwrap()
            .ends_with("5 more characters]"));
        assert_eq!(item["call_id"], "call_1");
        assert_eq!(item["status"], "completed");
    }

    #[test]
    fn blocks_come_out_of_replayed_text_and_the_text_around_stays() {
        let text = format!(
            "Let me look.{}{}Found it.",
            tool_block(&call(), "a"),
            tool_block(&call(), "b")
        );
        assert_eq!(without_tool_blocks(&text), "Let me look.Found it.");
        assert!(matches!(
            without_tool_blocks("plain <details>x</details>"),
            std::borrow::Cow::Borrowed(_)
        ));
        let unclosed = "a <details type=\"tool_calls\" done=\"true\"";
        assert_eq!(without_tool_blocks(unclosed), unclosed);
    }

    #[test]
    fn the_block_escapes_what_the_model_and_the_tool_wrote() {
        let block = tool_block(&call(), "it's <ok>\n\"done\"");
        assert!(block.contains(r#"name="search""#));
        assert!(block.contains("&lt;b&gt;cats&lt;/b&gt;"));
        assert!(!block.contains("<b>"));
        assert!(block.contains("it&#x27;s &lt;ok&gt;"));
        assert_eq!(block.matches('\n').count(), 4, "one line per tag: {block}");
    }
}
