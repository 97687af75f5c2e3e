//! The function calls of one round, prepared for running: arguments parsed (a call whose
//! arguments do not parse is answered with the reason, never run), and grouped into
//! batches of independent calls of the same tool. A call that depends on another (it
//! names a dependency key, or quotes another call's id) runs alone, after every call
//! before it has finished.

use serde_json::{Map, Value};

use crate::emit::FunctionCall;

/// Argument keys with which a model says a call must not run together with others.
const DEPENDENCY_KEYS: [&str; 4] = ["depends_on", "_depends_on", "sequential", "no_batch"];

/// One call ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedCall {
    /// Position in the round's calls (outputs keep this order).
    pub index: usize,
    pub call: FunctionCall,
    pub arguments: Map<String, Value>,
}

/// Arguments as a JSON object (or a Python dict literal). An empty string is an empty
/// object (models send it for tools without parameters); anything else that is not an
/// object is an error for the model to read.
pub fn parse_arguments(raw: &str) -> Result<Map<String, Value>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(other) => Err(format!(
            "expected a JSON object of arguments, got {}",
            kind(&other)
        )),
        // A Python dict literal, as some models write; the reference pipe reads these
        // with `ast.literal_eval`.
        Err(e) => match super::py_literal::parse(text) {
            Some(Value::Object(map)) => Ok(map),
            _ => Err(format!("the arguments are not valid JSON ({e})")),
        },
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Calls that run together: same tool, independent of each other. `after_previous`
/// means every earlier group must finish first.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub name: String,
    pub calls: Vec<PreparedCall>,
    pub after_previous: bool,
}

/// Groups `calls` (in order) into batches of at most `cap` calls.
pub fn plan_batches(calls: Vec<PreparedCall>, cap: usize) -> Vec<Batch> {
    let ids: Vec<String> = calls.iter().map(|c| c.call.call_id.clone()).collect();
    let mut batches: Vec<Batch> = Vec::new();
    for (position, call) in calls.into_iter().enumerate() {
        let dependent = has_dependency_key(&call.arguments)
            || ids[..position]
                .iter()
                .any(|id| !id.is_empty() && mentions(&call.arguments, id));
        if dependent {
            batches.push(Batch {
                name: call.call.name.clone(),
                calls: vec![call],
                after_previous: true,
            });
            continue;
        }
        match batches.last_mut() {
            Some(last)
                if !last.after_previous
                    && last.name == call.call.name
                    && last.calls.len() < cap.max(1) =>
            {
                last.calls.push(call)
            }
            _ => batches.push(Batch {
                name: call.call.name.clone(),
                calls: vec![call],
                after_previous: false,
            }),
        }
    }
    batches
}

fn has_dependency_key(arguments: &Map<String, Value>) -> bool {
    DEPENDENCY_KEYS.iter().any(|k| arguments.contains_key(*k))
}

/// Whether any string in `arguments` (keys or values, at any depth) contains `needle`.
fn mentions(arguments: &Map<String, Value>, needle: &str) -> bool {
    fn walk(value: &Value, needle: &str) -> bool {
        match value {
            Value::String(s) => s.contains(needle),
            Value::Array(items) => items.iter().any(|v| walk(v, needle)),
            Value::Object(map) => map
                .iter()
                .any(|(k, v)| k.contains(needle) || walk(v, needle)),
            _ => false,
        }
    }
    arguments
        .iter()
        .any(|(k, v)| k.contains(needle) || walk(v, needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(index: usize, name: &str, args: Value) -> PreparedCall {
        PreparedCall {
            index,
            call: FunctionCall {
                item_id: format!("fc_{index}"),
                call_id: format!("call_{index}"),
                name: name.into(),
                arguments: args.to_string(),
            },
            arguments: args.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn arguments_parse_or_say_why_not() {
        assert_eq!(parse_arguments("").unwrap(), Map::new());
        assert_eq!(parse_arguments(" null ").unwrap(), Map::new());
        assert_eq!(
            parse_arguments(r#"{"q": "cats"}"#).unwrap()["q"],
            json!("cats")
        );
        let err = parse_arguments("{\"q\": ").unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
        let err = parse_arguments("[1, 2]").unwrap_err();
        assert!(err.contains("got an array"), "{err}");
        assert_eq!(
            parse_arguments("{'q': 'cats', 'safe': True}").unwrap(),
            json!({"q": "cats", "safe": true})
                .as_object()
                .unwrap()
                .clone(),
            "a Python dict literal is read as the reference reads it"
        );
        let err = parse_arguments("{'q': print('x')}").unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
    }

    #[test]
    fn same_tool_calls_batch_up_to_the_cap_and_others_split() {
        let calls = vec![
            call(0, "search", json!({"q": "a"})),
            call(1, "search", json!({"q": "b"})),
            call(2, "search", json!({"q": "c"})),
            call(3, "fetch", json!({"url": "x"})),
            call(4, "search", json!({"q": "d"})),
        ];
        let batches = plan_batches(calls, 2);
        let shape: Vec<(String, Vec<usize>)> = batches
            .iter()
            .map(|b| (b.name.clone(), b.calls.iter().map(|c| c.index).collect()))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("search".into(), vec![0, 1]),
                ("search".into(), vec![2]),
                ("fetch".into(), vec![3]),
                ("search".into(), vec![4]),
            ]
        );
        assert!(batches.iter().all(|b| !b.after_previous));
    }

    #[test]
    fn dependent_calls_run_alone_after_the_rest() {
        let calls = vec![
            call(0, "search", json!({"q": "a"})),
            call(1, "search", json!({"q": "use call_0"})),
            call(2, "search", json!({"q": "c", "sequential": true})),
            call(3, "search", json!({"q": "d"})),
        ];
        let batches = plan_batches(calls, 4);
        let flags: Vec<(Vec<usize>, bool)> = batches
            .iter()
            .map(|b| (b.calls.iter().map(|c| c.index).collect(), b.after_previous))
            .collect();
        assert_eq!(
            flags,
            vec![
                (vec![0], false),
                (vec![1], true),
                (vec![2], true),
                (vec![3], false),
            ]
        );
    }
}
