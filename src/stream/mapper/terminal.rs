//! How a response ends: terminal events, the end-of-body policy, and the closing emits
//! (truncation note or error card, usage, final status line).

use serde_json::{json, Map, Value};

use super::super::event::Event;
use super::super::usage::{owui_usage, usage_status_line};
use super::{ResponseMapper, Termination};
use crate::emit::Emit;
use crate::errors::{self, ErrorContext, ErrorEmits};

/// The visible note appended when `response.incomplete` cut the answer short.
pub fn incomplete_note(reason: &str) -> String {
    match reason {
        "max_output_tokens" | "max_tokens" | "length" => "\n\n> ⚠️ The answer was cut short: the model reached its output token limit (`max_output_tokens`).".to_owned(),
        "content_filter" => "\n\n> ⚠️ The answer was cut short by the provider's content filter.".to_owned(),
        "" | "unknown" => "\n\n> ⚠️ The answer was cut short before it finished.".to_owned(),
        other => format!("\n\n> ⚠️ The answer was cut short (reason: `{}`).", other.replace('`', "'")),
    }
}

impl ResponseMapper {
    /// A terminal event (`response.completed`/`done`/`incomplete`/`failed`, an `error`
    /// event, or any event carrying an error). Records how the response ended; the
    /// closing emits come from [`ResponseMapper::finish`].
    pub(super) fn terminal(&mut self, ev: &Event, out: &mut Vec<Emit>) -> bool {
        let kind = ev.kind();
        let response = ev.response.as_ref().filter(|r| r.is_object());
        self.response_meta(response);
        if let Some(u) = response
            .and_then(|r| r.get("usage"))
            .filter(|u| u.is_object())
        {
            self.usage = Some(u.clone());
        }
        if let Some(output) = response
            .and_then(|r| r.get("output"))
            .and_then(Value::as_array)
        {
            self.sweep_output(output, out);
        }
        let status = response
            .and_then(|r| r.get("status"))
            .and_then(Value::as_str);
        let error_object = ev.error.as_ref().is_some_and(Value::is_object)
            || response
                .and_then(|r| r.get("error"))
                .is_some_and(Value::is_object)
                && status == Some("failed");
        let failed = matches!(kind, "response.failed" | "response.error" | "error")
            || status == Some("failed")
            || error_object;
        self.termination = if failed {
            self.failure = Some(failure_value(ev));
            Termination::Failed
        } else if kind == "response.incomplete" || status == Some("incomplete") {
            let reason = response
                .and_then(|r| r.pointer("/incomplete_details/reason"))
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            Termination::Incomplete(reason.to_owned())
        } else {
            Termination::Completed
        };
        true
    }

    /// Reconciles the final `output` array: sources and calls that only appear there,
    /// items that never got their own `output_item.done`, text never streamed.
    pub(super) fn sweep_output(&mut self, output: &[Value], out: &mut Vec<Emit>) {
        for (i, item) in output.iter().enumerate() {
            self.item_done(Some(i as u64), item, out);
        }
    }

    /// Whether a body that ended without a terminal event still holds a whole answer:
    /// every message item finished, or nothing is left open and something was produced.
    fn looks_complete(&self) -> bool {
        self.items.messages_done()
            || (self.items.open_count() == 0
                && (!self.text.is_empty() || self.items.completed_count() > 0))
    }

    /// The body ended (after `[DONE]`, or at EOF without it, or with a transport error
    /// described by `transport_error`). Emits what closes the answer: final status line,
    /// usage, truncation notes or an "interrupted" card.
    ///
    /// Order: closing content (note or card), then `Usage`, then the final status (and
    /// for errors the log line with the error id). Calling it twice does nothing.
    pub fn finish(&mut self, transport_error: Option<&str>, out: &mut Vec<Emit>) {
        if self.finished {
            return;
        }
        self.finished = true;
        if let Some(r) = self.text_carry.flush() {
            self.text.push_str(r);
            out.push(Emit::Content(r.to_owned()));
        }
        if let Some(r) = self.reasoning_carry.flush() {
            self.show_reasoning(r.to_owned(), out);
        }
        self.flush_reasoning_status(out);
        if self.termination == Termination::Open {
            self.termination = if transport_error.is_none() && self.looks_complete() {
                Termination::Completed
            } else {
                Termination::Interrupted
            };
        }
        if matches!(
            self.termination,
            Termination::Completed | Termination::Incomplete(_)
        ) {
            let calls = self.items.pending_calls();
            self.push_calls(calls, out);
        }
        let cited = self.citations.urls.clone();
        self.web.close(&cited, out);
        self.count_round();

        let answer_usage = self.answer_usage();
        let usage = answer_usage.as_ref().and_then(owui_usage).map(Emit::Usage);
        let ctx = ErrorContext {
            model_label: self.options.model_label.clone(),
            model_id: self.requested_model(),
            style: self.options.card_style.clone(),
        };
        match self.termination.clone() {
            Termination::Completed
                if self.options.defer_final_on_calls && !self.function_calls.is_empty() => {}
            Termination::Completed | Termination::Open => {
                out.extend(usage);
                out.push(self.final_status());
            }
            Termination::Incomplete(reason) => {
                let note = incomplete_note(&reason);
                self.text.push_str(&note);
                out.push(Emit::Content(note));
                out.extend(usage);
                out.push(self.final_status());
            }
            Termination::Failed => {
                let failure = self.failure.clone().unwrap_or(Value::Null);
                let emits = errors::stream_error(&failure, self.text.trim().is_empty(), &ctx);
                self.close_with_error(emits, usage, out);
            }
            Termination::Interrupted => {
                let emits = errors::interrupted(transport_error, &ctx);
                self.close_with_error(emits, usage, out);
            }
        }
    }

    /// A failure that arrived as the stream's answer (an `error` event or a failed
    /// response) with a code that says trying again may help: its HTTP-like status and
    /// its error object. The turn retries such a stream like the same HTTP status when
    /// nothing of it was shown yet.
    pub fn retryable_failure(&self) -> Option<(u16, Value)> {
        if self.termination != Termination::Failed {
            return None;
        }
        let failure = self.failure.as_ref()?;
        let status = retryable_status(failure)?;
        let error = failure
            .get("error")
            .filter(|e| e.is_object())
            .or_else(|| failure.pointer("/response/error").filter(|e| e.is_object()))
            .cloned()
            .unwrap_or_else(|| {
                let mut flat = Map::new();
                for key in ["code", "message", "provider"] {
                    if let Some(v) = failure.get(key) {
                        flat.insert(key.to_owned(), v.clone());
                    }
                }
                Value::Object(flat)
            });
        Some((status, error))
    }

    fn close_with_error(&mut self, emits: ErrorEmits, usage: Option<Emit>, out: &mut Vec<Emit>) {
        if let Emit::Content(card) = &emits.card {
            self.text.push_str(card);
        }
        out.push(emits.card);
        out.extend(usage);
        out.push(emits.status);
        out.push(emits.log);
    }

    /// This round's usage plus the earlier rounds' of the same answer.
    /// The model a card names: the one asked for, else the one the response reports.
    pub(super) fn requested_model(&self) -> String {
        if self.options.model_id.is_empty() {
            self.model.clone().unwrap_or_default()
        } else {
            self.options.model_id.clone()
        }
    }

    /// Stamps this round's usage with `turn_count: 1` and its `function_call_count`, as the
    /// reference pipe does: summed over rounds, the stored usage says how many upstream
    /// rounds and tool calls the answer took.
    fn count_round(&mut self) {
        let calls = self.function_calls.len();
        if let Some(Value::Object(usage)) = self.usage.as_mut() {
            if !usage.is_empty() && !usage.contains_key("turn_count") {
                usage.insert("turn_count".into(), 1.into());
                usage.insert("function_call_count".into(), calls.into());
            }
        }
    }

    fn answer_usage(&self) -> Option<Value> {
        match (&self.options.usage_before, &self.usage) {
            (Some(before), Some(now)) => Some(crate::stream::usage::add(before, now)),
            (before, now) => now.clone().or_else(|| before.clone()),
        }
    }

    /// The last status line of a successful (or truncated) answer. Open WebUI keeps a
    /// spinner until a status with `done: true` arrives, so there is always one. Times
    /// count the whole answer (earlier rounds and tools included), as its usage does.
    fn final_status(&self) -> Emit {
        let before = self.options.elapsed_before;
        let now = before + self.clock.now();
        if self.options.show_final_usage {
            let generation = self.last_activity.map_or(now, |last| before + last);
            return Emit::status(
                usage_status_line(self.answer_usage().as_ref(), now, generation),
                true,
            );
        }
        Emit::status(
            format!("Thought for {:.1} seconds", now.as_secs_f64()),
            true,
        )
    }
}

/// The failing event as JSON for the error report (built from the parsed fields, so an
/// event that needed the lone-surrogate repair is reported too).
fn failure_value(ev: &Event) -> Value {
    let mut v = json!({"type": ev.kind()});
    let obj = v.as_object_mut().expect("object literal");
    let mut put = |k: &str, val: Option<Value>| {
        if let Some(val) = val.filter(|x| !x.is_null()) {
            obj.insert(k.to_owned(), val);
        }
    };
    put("error", ev.error.clone());
    put("response", ev.response.clone());
    put("code", ev.code.clone());
    put("message", ev.message.as_deref().map(Value::from));
    put("provider", ev.provider.clone());
    v
}

/// The status a failure event stands for when it is one worth retrying: a numeric code
/// of 408, 425, 429 or 5xx (as a number or a numeric string), or one of the names the
/// spec gives transient failures, read from the places providers put them.
fn retryable_status(failure: &Value) -> Option<u16> {
    const PLACES: [&str; 7] = [
        "/error/code",
        "/code",
        "/response/error/code",
        "/error/type",
        "/error/metadata/error_type",
        "/response/error_type",
        "/response/error/type",
    ];
    PLACES
        .iter()
        .filter_map(|place| failure.pointer(place))
        .find_map(status_of_code)
        .filter(|status| errors::transient_status(*status))
}

fn status_of_code(code: &Value) -> Option<u16> {
    if let Some(n) = code.as_u64() {
        return u16::try_from(n).ok();
    }
    let text = code.as_str()?.trim();
    if let Ok(n) = text.parse::<u16>() {
        return Some(n);
    }
    match text.to_ascii_lowercase().as_str() {
        "rate_limit_exceeded" | "rate_limited" | "too_many_requests" => Some(429),
        "timeout" | "request_timeout" => Some(408),
        "server_error" | "internal_error" | "internal_server_error" => Some(500),
        "provider_unavailable" | "bad_gateway" | "upstream_error" => Some(502),
        "provider_overloaded" | "overloaded" | "overloaded_error" | "service_unavailable" => {
            Some(503)
        }
        "gateway_timeout" => Some(504),
        _ => None,
    }
}
