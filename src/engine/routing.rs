//! Which OpenRouter API an answer's rounds go to, and the one-shot fallbacks that change
//! a rejected request before it is sent again. Policy only: [`super::turn`] sends.
//!
//! The endpoint is chosen once per answer (`ENDPOINTS` valves; tasks always use the
//! Responses API). A round that got no answer may then be changed and sent again, each
//! fallback at most once per answer and only because nothing was shown yet:
//! * a model whose provider rejects the Responses API moves to Chat Completions
//!   (`AUTO_FALLBACK_CHAT_COMPLETIONS`), and stays there for the answer's later rounds;
//! * a reasoning effort the model does not support becomes the nearest supported one;
//! * Gemini's "include_thoughts is only enabled when thinking is enabled" drops reasoning;
//! * an Anthropic rejection of `cache_control` drops the prompt-cache breakpoints.
//!
//! The adjustments are kept here and applied to each round's body when it is sent, so
//! the tool loop's later rounds carry them too.

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::http::UpstreamError;
use crate::translate::{to_chat_completions, Outbound};
use crate::valves::{Endpoint, Settings};

/// Effort levels from least to most thinking (OpenRouter's `reasoning.effort`).
const EFFORT_ORDER: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh"];

/// The route of one answer and the fallbacks it used.
#[derive(Debug, Default)]
pub struct Routing {
    auto_fallback: bool,
    // One answer's task only; a mutex because the answer's future moves between threads.
    changes: Mutex<Changes>,
}

#[derive(Debug, Default)]
struct Changes {
    endpoint: Endpoint,
    fell_back: bool,
    effort: Option<String>,
    effort_tried: bool,
    no_thinking: bool,
    no_cache_control: bool,
}

impl Routing {
    /// The route for an answer on `model_id` (OpenRouter's id). Tasks (titles, tags)
    /// always use the Responses API, as the valve says.
    pub fn for_answer(settings: &Settings, model_id: &str, task: bool) -> Self {
        let endpoints = &settings.endpoints;
        let (endpoint, auto_fallback) = if task {
            (Endpoint::Responses, false)
        } else {
            (endpoints.choose(model_id), endpoints.auto_fallback)
        };
        Self {
            auto_fallback,
            changes: Mutex::new(Changes {
                endpoint,
                ..Changes::default()
            }),
        }
    }

    /// A fixed route with no automatic fallback to another endpoint.
    pub fn fixed(endpoint: Endpoint) -> Self {
        Self {
            auto_fallback: false,
            changes: Mutex::new(Changes {
                endpoint,
                ..Changes::default()
            }),
        }
    }

    /// Where the next round goes.
    pub fn endpoint(&self) -> Endpoint {
        self.changes().endpoint
    }

    fn changes(&self) -> MutexGuard<'_, Changes> {
        self.changes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The JSON text to send for `outbound` on the current endpoint, with the
    /// fallbacks' changes applied.
    pub fn body_for(&self, outbound: &Outbound) -> String {
        let changes = self.changes();
        let body = adjusted(&changes, &outbound.body);
        match changes.endpoint {
            Endpoint::Responses => body.to_string(),
            Endpoint::ChatCompletions => {
                let mut chat = to_chat_completions(&body);
                if let Some(obj) = chat.as_object_mut() {
                    for (k, v) in &outbound.chat_only {
                        obj.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                chat.to_string()
            }
        }
    }
}

/// `body` with the fallbacks' changes applied.
fn adjusted<'b>(changes: &Changes, body: &'b Value) -> Cow<'b, Value> {
    if changes.effort.is_none() && !changes.no_thinking && !changes.no_cache_control {
        return Cow::Borrowed(body);
    }
    let mut body = body.clone();
    if let Some(obj) = body.as_object_mut() {
        if changes.no_thinking {
            obj.remove("reasoning");
            obj.remove("thinking_config");
            obj.insert("include_reasoning".into(), Value::Bool(false));
        } else if let Some(effort) = &changes.effort {
            if let Some(reasoning) = obj.get_mut("reasoning").and_then(Value::as_object_mut) {
                reasoning.insert("effort".into(), Value::String(effort.clone()));
            }
        }
        if changes.no_cache_control {
            strip_cache_control(&mut body);
        }
    }
    Cow::Owned(body)
}

impl Routing {
    /// After a round failed before anything was shown: changes the route or the request
    /// when a fallback applies (each at most once) and returns the status line to show
    /// while it is sent again; `None` leaves the failure to the retry policy.
    pub fn recover(&self, failure: &UpstreamError, outbound: &Outbound) -> Option<String> {
        let UpstreamError::Status { status, body, .. } = failure else {
            return None;
        };
        let error = ErrorText::read(body);
        let mut changes = self.changes();
        if changes.endpoint == Endpoint::Responses
            && self.auto_fallback
            && !changes.fell_back
            && error.says_responses_unsupported()
        {
            changes.fell_back = true;
            changes.endpoint = Endpoint::ChatCompletions;
            return Some(
                "This model does not take the Responses API; retrying through Chat Completions…"
                    .into(),
            );
        }
        if !(400..500).contains(status) {
            return None;
        }
        let current = adjusted(&changes, &outbound.body).into_owned();
        let effort = current
            .pointer("/reasoning/effort")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let (Some(asked), false) = (effort, changes.effort_tried) {
            if let Some(supported) = error.supported_efforts() {
                changes.effort_tried = true;
                if let Some(chosen) = nearest_effort(&asked, &supported) {
                    if chosen != asked {
                        changes.effort = Some(chosen.clone());
                        return Some(format!(
                            "Adjusting reasoning effort from '{asked}' to '{chosen}' \
                             (model doesn't support '{asked}')…"
                        ));
                    }
                }
            }
        }
        let thinks = ["reasoning", "include_reasoning", "thinking_config"]
            .iter()
            .any(|k| current.get(*k).is_some_and(|v| !v.is_null()));
        if thinks && !changes.no_thinking && error.says_thinking_mismatch() {
            changes.no_thinking = true;
            return Some(
                "Retrying without reasoning (the provider rejected the thinking settings)…".into(),
            );
        }
        if !changes.no_cache_control
            && is_anthropic(&current)
            && has_cache_control(&current)
            && error.mentions_cache_control()
        {
            changes.no_cache_control = true;
            return Some(
                "Retrying without prompt-cache breakpoints (the provider rejected them)…".into(),
            );
        }
        None
    }
}

/// What an error body says, lower-cased: every message and `raw` text in it, and codes.
struct ErrorText {
    text: String,
    codes: Vec<String>,
}

impl ErrorText {
    fn read(body: &str) -> Self {
        let mut text = body.to_ascii_lowercase();
        let mut codes = Vec::new();
        if let Ok(json) = serde_json::from_str::<Value>(body) {
            let error = json.get("error").unwrap_or(&json);
            for code in [error.get("code"), error.pointer("/availability/code")]
                .into_iter()
                .flatten()
            {
                match code {
                    Value::String(s) => codes.push(s.to_ascii_lowercase()),
                    Value::Number(n) => codes.push(n.to_string()),
                    _ => {}
                }
            }
            // `metadata.raw` is usually the provider's JSON as a string: read it as text
            // too, so its quotes are not escaped.
            if let Some(raw) = error.pointer("/metadata/raw").and_then(Value::as_str) {
                text.push('\n');
                text.push_str(&raw.to_ascii_lowercase());
                if let Ok(inner) = serde_json::from_str::<Value>(raw) {
                    let inner = inner.get("error").unwrap_or(&inner);
                    if let Some(code) = inner.get("code").and_then(Value::as_str) {
                        codes.push(code.to_ascii_lowercase());
                    }
                }
            }
        }
        Self { text, codes }
    }

    /// The reference's test for a provider without the Responses API, plus OpenRouter's
    /// documented `wrong_endpoint` availability code.
    fn says_responses_unsupported(&self) -> bool {
        const CODES: &[&str] = &[
            "unsupported_endpoint",
            "unsupported_feature",
            "endpoint_not_supported",
            "responses_not_supported",
            "wrong_endpoint",
        ];
        if self.codes.iter().any(|c| CODES.contains(&c.as_str())) {
            return true;
        }
        let t = &self.text;
        t.contains("response")
            && (["not supported", "unsupported", "does not support"]
                .iter()
                .any(|p| t.contains(p))
                || t.contains("chat/completions")
                || t.contains("chat completions")
                || t.contains("openai-responses-v1")
                || t.contains("xai-responses-v1"))
            && !t.contains("response_format")
    }

    /// The efforts listed in "Supported values are: 'low', 'medium'." when the error is
    /// about `reasoning.effort`.
    fn supported_efforts(&self) -> Option<Vec<String>> {
        let t = &self.text;
        if !(t.contains("reasoning.effort") || t.contains("reasoning_effort")) {
            return None;
        }
        let at = t.find("supported values are")?;
        let rest = &t[at..];
        let end = rest.find(['.', '\n']).unwrap_or(rest.len());
        let values: Vec<String> = rest[..end]
            .split(['\'', '"', '`', '\\'])
            .skip(1)
            .step_by(2)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty() && !v.contains(' '))
            .collect();
        (!values.is_empty()).then_some(values)
    }

    fn says_thinking_mismatch(&self) -> bool {
        self.text
            .contains("include_thoughts is only enabled when thinking is enabled")
    }

    fn mentions_cache_control(&self) -> bool {
        self.text.contains("cache_control") || self.text.contains("cache control")
    }
}

/// The supported effort nearest to `asked`: the same one, else the next higher one,
/// else the highest; a level outside the known order takes the first supported value.
pub fn nearest_effort(asked: &str, supported: &[String]) -> Option<String> {
    if supported.iter().any(|s| s == asked) {
        return Some(asked.to_owned());
    }
    let rank = |e: &str| EFFORT_ORDER.iter().position(|x| *x == e);
    let mut ranked: Vec<(usize, &String)> = supported
        .iter()
        .filter_map(|s| rank(s).map(|r| (r, s)))
        .collect();
    let (Some(wanted), false) = (rank(asked), ranked.is_empty()) else {
        return supported.first().cloned();
    };
    ranked.sort();
    ranked
        .iter()
        .find(|(r, _)| *r >= wanted)
        .or(ranked.last())
        .map(|(_, s)| (*s).clone())
}

fn is_anthropic(body: &Value) -> bool {
    let model = body.get("model").and_then(Value::as_str).unwrap_or("");
    let model = model.to_ascii_lowercase();
    model.starts_with("anthropic/") || model.starts_with("anthropic.")
}

fn has_cache_control(v: &Value) -> bool {
    match v {
        Value::Object(map) => {
            map.contains_key("cache_control") || map.values().any(has_cache_control)
        }
        Value::Array(items) => items.iter().any(has_cache_control),
        _ => false,
    }
}

fn strip_cache_control(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("cache_control");
            map.values_mut().for_each(strip_cache_control);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_cache_control),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
