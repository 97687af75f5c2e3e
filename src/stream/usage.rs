//! Token usage: the object Open WebUI stores, and the final status line users read.

use std::time::Duration;

use serde_json::{Map, Value};

/// Open WebUI reads Chat-Completions names (`prompt_tokens`, `completion_tokens`,
/// `total_tokens`) to show usage; OpenRouter's Responses usage uses `input_tokens` and
/// `output_tokens`. The result carries both, plus every OpenRouter extra untouched
/// (`cost`, `is_byok`, `cost_details`, `*_tokens_details`, `server_tool_use_details`, …).
pub fn owui_usage(raw: &Value) -> Option<Value> {
    let raw = raw.as_object()?;
    let mut out: Map<String, Value> = raw.clone();
    let input = raw.get("input_tokens").and_then(Value::as_u64);
    let output = raw.get("output_tokens").and_then(Value::as_u64);
    if let Some(i) = input {
        out.insert("prompt_tokens".into(), i.into());
    }
    if let Some(o) = output {
        out.insert("completion_tokens".into(), o.into());
    }
    let total = raw
        .get("total_tokens")
        .and_then(Value::as_u64)
        .or_else(|| Some(input? + output?));
    if let Some(t) = total {
        out.insert("total_tokens".into(), t.into());
    }
    Some(Value::Object(out))
}

/// The usage of two upstream rounds of one answer added up: every number is summed
/// (tokens, cost, nested details); other values (`is_byok`) keep the later round's.
pub fn add(total: &Value, round: &Value) -> Value {
    match (total, round) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = a.clone();
            for (key, value) in b {
                let summed = match out.get(key) {
                    Some(existing) => add(existing, value),
                    None => value.clone(),
                };
                out.insert(key.clone(), summed);
            }
            Value::Object(out)
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_u64(), b.as_u64()) {
            (Some(x), Some(y)) => Value::from(x.saturating_add(y)),
            _ => Value::from(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)),
        },
        (_, round) => round.clone(),
    }
}

fn get_u64(usage: &Value, path: &[&str]) -> Option<u64> {
    let mut v = usage;
    for key in path {
        v = v.get(key)?;
    }
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

/// `%.6f` with trailing zeros (and a bare dot) removed: 0.0123450 → "0.012345".
/// A positive cost below the display precision reads "<0.000001" rather than "0".
pub fn format_cost(cost: f64) -> String {
    let s = format!("{cost:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "0" && cost > 0.0 {
        "<0.000001".to_owned()
    } else {
        s.to_owned()
    }
}

/// The detailed final status (`SHOW_FINAL_USAGE_STATUS`), e.g.
/// `Time: 3.21s  20.0 tps | Cost $0.012345 | Total tokens: 160 (Input: 120, Output: 40, Cached: 20, Reasoning: 5)`.
/// `generation` is how long the model was producing output, used for tokens per second.
/// Segments whose values are unknown are left out.
pub fn usage_status_line(usage: Option<&Value>, elapsed: Duration, generation: Duration) -> String {
    let null = Value::Null;
    let usage = usage.unwrap_or(&null);
    let input = get_u64(usage, &["input_tokens"]);
    let output = get_u64(usage, &["output_tokens"]);
    let total = get_u64(usage, &["total_tokens"]).or_else(|| Some(input? + output?));

    // The speed shares the time's segment, two spaces apart, as in the reference pipe.
    let mut time = format!("Time: {:.2}s", elapsed.as_secs_f64());
    let secs = generation.as_secs_f64();
    // Below a tenth of a second the rate says more about buffering than about the model.
    if let Some(tokens) = output.or(total).filter(|_| secs >= 0.1) {
        let tps = tokens as f64 / secs;
        if tps > 0.0 {
            time.push_str(&format!("  {tps:.1} tps"));
        }
    }
    let mut segments = vec![time];

    if let Some(cost) = usage.get("cost").and_then(Value::as_f64) {
        if cost > 0.0 {
            segments.push(format!("Cost ${}", format_cost(cost)));
        }
    }

    let mut details = Vec::new();
    if let Some(i) = input {
        details.push(format!("Input: {i}"));
    }
    if let Some(o) = output {
        details.push(format!("Output: {o}"));
    }
    let cached = get_u64(usage, &["input_tokens_details", "cached_tokens"]);
    if let Some(c) = cached.filter(|c| *c > 0) {
        details.push(format!("Cached: {c}"));
    }
    let reasoning = get_u64(usage, &["output_tokens_details", "reasoning_tokens"]);
    if let Some(r) = reasoning.filter(|r| *r > 0) {
        details.push(format!("Reasoning: {r}"));
    }
    match (total, details.is_empty()) {
        (Some(t), true) => segments.push(format!("Total tokens: {t}")),
        (Some(t), false) => segments.push(format!("Total tokens: {t} ({})", details.join(", "))),
        (None, false) => segments.push(format!("Tokens: {}", details.join(", "))),
        (None, true) => {}
    }
    segments.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rounds_of_one_answer_add_up() {
        let first = json!({"input_tokens": 100, "output_tokens": 10, "total_tokens": 110,
            "cost": 0.25, "is_byok": false, "output_tokens_details": {"reasoning_tokens": 4}});
        let second = json!({"input_tokens": 150, "output_tokens": 20, "total_tokens": 170,
            "cost": 0.5, "is_byok": true, "input_tokens_details": {"cached_tokens": 90}});
        let sum = add(&first, &second);
        assert_eq!(sum["input_tokens"], 250);
        assert_eq!(sum["output_tokens"], 30);
        assert_eq!(sum["total_tokens"], 280);
        assert_eq!(sum["cost"], 0.75);
        assert_eq!(sum["is_byok"], true);
        assert_eq!(sum["output_tokens_details"]["reasoning_tokens"], 4);
        assert_eq!(sum["input_tokens_details"]["cached_tokens"], 90);
        assert_eq!(owui_usage(&sum).unwrap()["prompt_tokens"], 250);
    }

    #[test]
    fn usage_gets_chat_names_and_keeps_extras() {
        let raw = json!({"input_tokens":14,"output_tokens":12,"total_tokens":26,"cost":0.0000111,
            "is_byok":false,"input_tokens_details":{"cached_tokens":3},
            "output_tokens_details":{"reasoning_tokens":2},"cost_details":{"x":1}});
        let u = owui_usage(&raw).unwrap();
        assert_eq!(u["prompt_tokens"], 14);
        assert_eq!(u["completion_tokens"], 12);
        assert_eq!(u["total_tokens"], 26);
        assert_eq!(u["input_tokens"], 14);
        assert_eq!(u["cost"], 0.0000111);
        assert_eq!(u["is_byok"], false);
        assert_eq!(u["input_tokens_details"]["cached_tokens"], 3);
        assert_eq!(u["output_tokens_details"]["reasoning_tokens"], 2);
        assert_eq!(u["cost_details"]["x"], 1);
        let no_total = owui_usage(&json!({"input_tokens":1,"output_tokens":2})).unwrap();
        assert_eq!(no_total["total_tokens"], 3);
        assert_eq!(owui_usage(&Value::Null), None);
    }

    #[test]
    fn reference_example_line() {
        let usage = json!({"input_tokens":120,"output_tokens":40,"total_tokens":160,"cost":0.012345,
            "input_tokens_details":{"cached_tokens":20},"output_tokens_details":{"reasoning_tokens":5}});
        let line = usage_status_line(
            Some(&usage),
            Duration::from_millis(3210),
            Duration::from_secs(2),
        );
        assert_eq!(
            line,
            "Time: 3.21s  20.0 tps | Cost $0.012345 | Total tokens: 160 (Input: 120, Output: 40, Cached: 20, Reasoning: 5)"
        );
    }

    #[test]
    fn unknown_segments_are_omitted() {
        let line = usage_status_line(None, Duration::from_millis(1500), Duration::ZERO);
        assert_eq!(line, "Time: 1.50s");
        let zero_cost = json!({"input_tokens":4,"output_tokens":0,"cost":0,
            "input_tokens_details":{"cached_tokens":0}});
        let line = usage_status_line(
            Some(&zero_cost),
            Duration::from_secs(1),
            Duration::from_secs(1),
        );
        assert_eq!(line, "Time: 1.00s | Total tokens: 4 (Input: 4, Output: 0)");
    }

    #[test]
    fn cost_formatting() {
        assert_eq!(format_cost(0.0000306), "0.000031");
        assert_eq!(format_cost(0.0125), "0.0125");
        assert_eq!(format_cost(2.0), "2");
        assert_eq!(format_cost(0.0000001), "<0.000001");
    }
}
