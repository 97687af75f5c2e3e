//! Chat Completions chunks (and the non-streaming JSON) -> [`Emit`]s.
//!
//! A chat sent through `POST /chat/completions` must look exactly like one sent through
//! `/responses`: the same text, reasoning, citations, usage line, function calls for
//! the tool loop, error cards, and the same output items stored for replay. So this
//! mapper does not produce emits itself: it restates each chunk as the Responses
//! events it stands for and feeds them to a [`ResponseMapper`], the only producer of
//! emits. Tool-call fragments are assembled by `index`; `reasoning_details` are merged
//! by type and index into one reasoning item; usage keys are renamed
//! (`prompt_tokens` → `input_tokens`, …); finish reasons and error chunks become the
//! Responses terminal events.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::mapper::{MapperOptions, ResponseMapper};
use crate::emit::Emit;

/// Stateful translator for one `/chat/completions` answer.
#[derive(Debug, Default)]
pub struct ChatCompletionsMapper {
    /// The Responses mapper that produces every emit and holds the round's results.
    pub inner: ResponseMapper,
    started: bool,
    response_id: Option<String>,
    model: Option<String>,
    next_index: u64,
    message: Option<(String, u64)>,
    reasoning: Option<Reasoning>,
    calls: BTreeMap<u64, Call>,
    usage: Option<Value>,
    finish_reason: Option<String>,
    done: bool,
    ended: bool,
}

#[derive(Debug, Default)]
struct Reasoning {
    id: String,
    output_index: u64,
    text: String,
    summary: String,
    signature: Option<String>,
    encrypted: Option<String>,
    /// The provider's id for the encrypted entry (OpenAI's `rs_…`), when it came after
    /// the item was opened under another id; the stored item carries it.
    provider_id: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Default)]
struct Call {
    item_id: String,
    call_id: String,
    name: String,
    arguments: String,
    output_index: u64,
}

impl ChatCompletionsMapper {
    /// A mapper for one answer.
    pub fn new(options: MapperOptions) -> Self {
        Self::wrap(ResponseMapper::new(options))
    }

    /// Maps onto an existing Responses mapper (tests give it a manual clock).
    pub fn wrap(inner: ResponseMapper) -> Self {
        Self {
            inner,
            ..Self::default()
        }
    }

    /// Handles one SSE `data` payload. True once the answer ended (an error chunk).
    pub fn on_data(&mut self, data: &str, out: &mut Vec<Emit>) -> bool {
        if self.ended {
            return true;
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            // The Responses mapper logs unreadable payloads the same way.
            return self.inner.on_data(data, out);
        };
        self.meta(&chunk, out);
        if let Some(error) = chunk.get("error").filter(|e| e.is_object()) {
            self.fail(error.clone(), &chunk, out);
            return true;
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(usage_to_responses(usage));
        }
        let choice = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first());
        if let Some(choice) = choice {
            if let Some(error) = choice.get("error").filter(|e| e.is_object()) {
                self.fail(error.clone(), &chunk, out);
                return true;
            }
            let delta = choice
                .get("delta")
                .or_else(|| choice.get("message"))
                .unwrap_or(&Value::Null);
            self.delta(delta, out);
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.finish_reason = Some(reason.to_owned());
            }
        }
        false
    }

    /// `data: [DONE]`: the stream ended normally.
    pub fn on_done(&mut self) {
        self.done = true;
    }

    /// The body ended; closes the answer like a Responses terminal event would.
    pub fn finish(&mut self, transport_error: Option<&str>, out: &mut Vec<Emit>) {
        if !self.ended && transport_error.is_none() && (self.done || self.finish_reason.is_some()) {
            self.complete(out);
        }
        self.ended = true;
        self.inner.finish(transport_error, out);
    }

    /// Maps a complete non-streaming Chat Completions body.
    pub fn on_complete_body(&mut self, body: &str, out: &mut Vec<Emit>) {
        let parsed = serde_json::from_str::<Value>(body.trim())
            .ok()
            .filter(Value::is_object);
        let Some(doc) = parsed else {
            return self.inner.on_complete_body(body, out);
        };
        let choice = doc
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first());
        let Some(choice) = choice else {
            // A bare error envelope (or nothing usable): the Responses mapper renders it.
            return self.inner.on_complete_body(body, out);
        };
        let message = choice.get("message").unwrap_or(&Value::Null);
        let mut output = Vec::new();
        if let Some(item) = reasoning_item_from(message) {
            output.push(item);
        }
        let text = message
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .or_else(|| message.get("refusal").and_then(Value::as_str))
            .unwrap_or("");
        let annotations = message
            .get("annotations")
            .cloned()
            .unwrap_or_else(|| json!([]));
        if annotations
            .as_array()
            .is_some_and(|a| a.iter().any(is_url_citation))
        {
            self.inner.web_search_from_citations(out);
        }
        if !text.is_empty() || annotations.as_array().is_some_and(|a| !a.is_empty()) {
            output.push(json!({
                "id": format!("msg_{}", crate::ids::new_id()),
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": annotations}],
            }));
        }
        if let Some(images) = images_of(message) {
            output.push(image_item(images));
        }
        let calls = message.get("tool_calls").and_then(Value::as_array);
        for (i, call) in calls.into_iter().flatten().enumerate() {
            let function = call.get("function").unwrap_or(&Value::Null);
            let arguments = match function.get("arguments") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                Some(Value::String(_)) | Some(Value::Null) | None => "{}".to_owned(),
                Some(other) => other.to_string(),
            };
            let call_id = call
                .get("id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map_or_else(|| fresh_call_id(i as u64), str::to_owned);
            output.push(json!({
                "type": "function_call",
                "id": format!("fc_{}", crate::ids::new_id()),
                "call_id": call_id,
                "name": function.get("name").and_then(Value::as_str).unwrap_or(""),
                "arguments": arguments,
                "status": "completed",
            }));
        }
        let reason = choice.get("finish_reason").and_then(Value::as_str);
        let mut response = json!({
            "id": doc.get("id").cloned().unwrap_or(Value::Null),
            "object": "response",
            "model": doc.get("model").cloned().unwrap_or(Value::Null),
            "output": output,
        });
        if let Some(usage) = doc.get("usage").filter(|u| u.is_object()) {
            response["usage"] = usage_to_responses(usage);
        }
        if let Some(error) = choice
            .get("error")
            .or_else(|| doc.get("error"))
            .filter(|e| e.is_object())
        {
            response["status"] = json!("failed");
            response["error"] = error_for_responses(error);
        } else if let Some(incomplete) = reason.and_then(incomplete_reason) {
            response["status"] = json!("incomplete");
            response["incomplete_details"] = json!({"reason": incomplete});
        } else {
            response["status"] = json!("completed");
        }
        self.ended = true;
        self.inner.on_complete_body(&response.to_string(), out);
    }

    fn feed(&mut self, event: Value, out: &mut Vec<Emit>) {
        self.inner.on_data(&event.to_string(), out);
    }

    fn meta(&mut self, chunk: &Value, out: &mut Vec<Emit>) {
        if self.response_id.is_none() {
            self.response_id = chunk.get("id").and_then(Value::as_str).map(str::to_owned);
        }
        if self.model.is_none() {
            self.model = chunk
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        if !self.started {
            self.started = true;
            let response = self.response_stub("in_progress");
            self.feed(
                json!({"type": "response.created", "response": response}),
                out,
            );
        }
    }

    fn response_stub(&self, status: &str) -> Value {
        json!({
            "id": self.response_id,
            "object": "response",
            "model": self.model,
            "status": status,
        })
    }

    fn take_index(&mut self) -> u64 {
        self.next_index += 1;
        self.next_index - 1
    }

    fn delta(&mut self, delta: &Value, out: &mut Vec<Emit>) {
        match delta.get("reasoning_details").and_then(Value::as_array) {
            Some(details) if !details.is_empty() => {
                for detail in details {
                    self.reasoning_detail(detail, out);
                }
            }
            _ => {
                let plain = delta
                    .get("reasoning")
                    .or_else(|| delta.get("reasoning_content"))
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty());
                if let Some(text) = plain {
                    self.reasoning_text(text, out);
                }
            }
        }
        let text = delta
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .or_else(|| delta.get("refusal").and_then(Value::as_str));
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            let (id, index) = self.message_item(out);
            self.feed(
                json!({"type": "response.output_text.delta", "item_id": id,
                       "output_index": index, "content_index": 0, "delta": text}),
                out,
            );
        }
        if let Some(annotations) = delta.get("annotations").and_then(Value::as_array) {
            for annotation in annotations {
                if is_url_citation(annotation) {
                    self.inner.web_search_from_citations(out);
                }
                let (id, index) = self.message_item(out);
                self.feed(
                    json!({"type": "response.output_text.annotation.added", "item_id": id,
                           "output_index": index, "annotation": annotation}),
                    out,
                );
            }
        }
        if let Some(fragments) = delta.get("tool_calls").and_then(Value::as_array) {
            for fragment in fragments {
                self.tool_call_fragment(fragment, out);
            }
        }
        if let Some(images) = images_of(delta) {
            let index = self.take_index();
            self.feed(
                json!({"type": "response.output_item.done", "output_index": index,
                       "item": image_item(images)}),
                out,
            );
        }
    }

    fn message_item(&mut self, out: &mut Vec<Emit>) -> (String, u64) {
        if let Some(item) = &self.message {
            return item.clone();
        }
        let id = format!("msg_{}", crate::ids::new_id());
        let index = self.take_index();
        self.feed(
            json!({"type": "response.output_item.added", "output_index": index,
                   "item": {"id": id, "type": "message", "role": "assistant",
                            "status": "in_progress", "content": []}}),
            out,
        );
        self.message = Some((id.clone(), index));
        (id, index)
    }

    fn reasoning_item(&mut self, out: &mut Vec<Emit>) -> (String, u64) {
        self.reasoning_item_with(None, out)
    }

    /// The answer's reasoning item, opened on first use under the provider's id when
    /// the first detail names one (OpenAI's `rs_…`, needed when it is sent back).
    fn reasoning_item_with(
        &mut self,
        given_id: Option<&str>,
        out: &mut Vec<Emit>,
    ) -> (String, u64) {
        if let Some(r) = &self.reasoning {
            return (r.id.clone(), r.output_index);
        }
        let id = given_id
            .filter(|i| !i.is_empty())
            .map_or_else(|| format!("rs_{}", crate::ids::new_id()), str::to_owned);
        let index = self.take_index();
        self.feed(
            json!({"type": "response.output_item.added", "output_index": index,
                   "item": {"id": id, "type": "reasoning", "status": "in_progress",
                            "summary": [], "content": []}}),
            out,
        );
        self.reasoning = Some(Reasoning {
            id: id.clone(),
            output_index: index,
            ..Reasoning::default()
        });
        (id, index)
    }

    fn reasoning_text(&mut self, text: &str, out: &mut Vec<Emit>) {
        let (id, index) = self.reasoning_item(out);
        if let Some(r) = self.reasoning.as_mut() {
            r.text.push_str(text);
        }
        self.feed(
            json!({"type": "response.reasoning_text.delta", "item_id": id,
                   "output_index": index, "content_index": 0, "delta": text}),
            out,
        );
    }

    fn reasoning_detail(&mut self, detail: &Value, out: &mut Vec<Emit>) {
        let kind = detail.get("type").and_then(Value::as_str).unwrap_or("");
        let given_id = detail.get("id").and_then(Value::as_str);
        let (id, index) = self.reasoning_item_with(given_id, out);
        let mut summary_delta = None;
        let mut text_delta = None;
        if let Some(r) = self.reasoning.as_mut() {
            if let Some(format) = detail.get("format").and_then(Value::as_str) {
                r.format.get_or_insert_with(|| format.to_owned());
            }
            if let Some(signature) = detail.get("signature").and_then(Value::as_str) {
                r.signature = Some(signature.to_owned());
            }
            let field = |name: &str| {
                detail
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
            };
            match kind {
                "reasoning.text" => text_delta = field("text"),
                "reasoning.summary" => {
                    summary_delta = field("summary");
                    if let Some(text) = &summary_delta {
                        r.summary.push_str(text);
                    }
                }
                "reasoning.encrypted" => {
                    if let Some(data) = field("data") {
                        r.encrypted.get_or_insert_with(String::new).push_str(&data);
                    }
                    if let Some(rid) = given_id.filter(|i| !i.is_empty() && *i != r.id) {
                        r.provider_id = Some(rid.to_owned());
                    }
                }
                _ => {}
            }
        }
        if let Some(text) = text_delta {
            self.reasoning_text(&text, out);
        }
        if let Some(text) = summary_delta {
            self.feed(
                json!({"type": "response.reasoning_summary_text.delta", "item_id": id,
                       "output_index": index, "summary_index": 0, "delta": text}),
                out,
            );
        }
    }

    fn tool_call_fragment(&mut self, fragment: &Value, out: &mut Vec<Emit>) {
        let position = fragment
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(self.calls.len() as u64);
        if !self.calls.contains_key(&position) {
            let taken: Vec<&str> = self.calls.values().map(|c| c.call_id.as_str()).collect();
            let call_id = fragment
                .get("id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty() && !taken.contains(id))
                .map_or_else(|| fresh_call_id(position), str::to_owned);
            let name = fragment
                .pointer("/function/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let call = Call {
                item_id: format!("fc_{}", crate::ids::new_id()),
                call_id,
                name,
                arguments: String::new(),
                output_index: self.take_index(),
            };
            self.feed(
                json!({"type": "response.output_item.added", "output_index": call.output_index,
                       "item": {"type": "function_call", "id": call.item_id,
                                "call_id": call.call_id, "name": call.name,
                                "arguments": "", "status": "in_progress"}}),
                out,
            );
            self.calls.insert(position, call);
        }
        let call = self.calls.get_mut(&position).expect("just inserted");
        if call.name.is_empty() {
            if let Some(name) = fragment.pointer("/function/name").and_then(Value::as_str) {
                call.name = name.to_owned();
            }
        }
        if let Some(args) = fragment
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
        {
            call.arguments.push_str(args);
        }
    }

    /// Closes the open items and sends the terminal event.
    fn complete(&mut self, out: &mut Vec<Emit>) {
        self.close_items(out);
        let mut response = self.response_stub("completed");
        if let Some(usage) = self.usage.clone() {
            response["usage"] = usage;
        }
        let incomplete = self.finish_reason.as_deref().and_then(incomplete_reason);
        let kind = match incomplete {
            Some(reason) => {
                response["status"] = json!("incomplete");
                response["incomplete_details"] = json!({"reason": reason});
                "response.incomplete"
            }
            None => "response.completed",
        };
        self.feed(json!({"type": kind, "response": response}), out);
    }

    fn close_items(&mut self, out: &mut Vec<Emit>) {
        if let Some(r) = self.reasoning.take() {
            let item = r.item();
            let first_new = out.len();
            self.feed(
                json!({"type": "response.output_item.done", "output_index": r.output_index,
                       "item": item}),
                out,
            );
            if let Some(provider_id) = &r.provider_id {
                // The item keeps its key for the markers, and is stored under the id
                // the provider needs to see again.
                let rename = |item: &mut Value| {
                    if item.get("id").and_then(Value::as_str) == Some(r.id.as_str()) {
                        item["id"] = json!(provider_id);
                    }
                };
                for emit in &mut out[first_new..] {
                    if let Emit::ItemDone { item, .. } = emit {
                        rename(item);
                    }
                }
                self.inner.output_items.iter_mut().for_each(rename);
            }
        }
        if let Some((id, index)) = self.message.clone() {
            let text = self.inner.text.clone();
            self.feed(
                json!({"type": "response.output_item.done", "output_index": index,
                       "item": {"id": id, "type": "message", "role": "assistant",
                                "status": "completed",
                                "content": [{"type": "output_text", "text": text,
                                             "annotations": []}]}}),
                out,
            );
        }
        for call in std::mem::take(&mut self.calls).into_values() {
            let arguments = if call.arguments.trim().is_empty() {
                "{}".to_owned()
            } else {
                call.arguments
            };
            self.feed(
                json!({"type": "response.output_item.done", "output_index": call.output_index,
                       "item": {"type": "function_call", "id": call.item_id,
                                "call_id": call.call_id, "name": call.name,
                                "arguments": arguments, "status": "completed"}}),
                out,
            );
        }
    }

    /// An error chunk: what was shown stays, and the card follows it. The chunk's own
    /// facts (id, time, provider, model, finish reasons) ride along for the card.
    fn fail(&mut self, error: Value, chunk: &Value, out: &mut Vec<Emit>) {
        let mut response = self.response_stub("failed");
        response["error"] = error_for_responses(&error);
        let mut facts = json!({});
        for key in ["id", "created", "provider", "model", "choices"] {
            if let Some(v) = chunk.get(key) {
                facts[key] = v.clone();
            }
        }
        response["chat_chunk"] = facts;
        if let Some(usage) = self.usage.clone() {
            response["usage"] = usage;
        }
        self.ended = true;
        self.feed(
            json!({"type": "response.failed", "response": response}),
            out,
        );
    }
}

impl Reasoning {
    /// The Responses `reasoning` item, as a Responses stream would have finished it.
    fn item(&self) -> Value {
        let mut item = json!({"id": self.id, "type": "reasoning", "status": "completed"});
        item["summary"] = if self.summary.is_empty() {
            json!([])
        } else {
            json!([{"type": "summary_text", "text": self.summary}])
        };
        if !self.text.is_empty() {
            item["content"] = json!([{"type": "reasoning_text", "text": self.text}]);
        }
        if let Some(signature) = &self.signature {
            item["signature"] = json!(signature);
        }
        if let Some(data) = &self.encrypted {
            item["encrypted_content"] = json!(data);
        }
        if let Some(format) = &self.format {
            item["format"] = json!(format);
        }
        item
    }
}

/// The reasoning of a non-streaming message as one Responses `reasoning` item.
fn reasoning_item_from(message: &Value) -> Option<Value> {
    let mut r = Reasoning {
        id: format!("rs_{}", crate::ids::new_id()),
        ..Reasoning::default()
    };
    match message.get("reasoning_details").and_then(Value::as_array) {
        Some(details) if !details.is_empty() => {
            for detail in details {
                if let Some(format) = detail.get("format").and_then(Value::as_str) {
                    r.format.get_or_insert_with(|| format.to_owned());
                }
                if let Some(signature) = detail.get("signature").and_then(Value::as_str) {
                    r.signature = Some(signature.to_owned());
                }
                match detail.get("type").and_then(Value::as_str) {
                    Some("reasoning.text") => {
                        r.text
                            .push_str(detail.get("text").and_then(Value::as_str).unwrap_or(""));
                    }
                    Some("reasoning.summary") => {
                        r.summary
                            .push_str(detail.get("summary").and_then(Value::as_str).unwrap_or(""));
                    }
                    Some("reasoning.encrypted") => {
                        if let Some(data) = detail.get("data").and_then(Value::as_str) {
                            r.encrypted.get_or_insert_with(String::new).push_str(data);
                        }
                        if let Some(id) = detail.get("id").and_then(Value::as_str) {
                            r.id = id.to_owned();
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {
            r.text = message
                .get("reasoning")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
        }
    }
    let empty = r.text.is_empty() && r.summary.is_empty() && r.encrypted.is_none();
    (!empty).then(|| r.item())
}

/// A delta's or message's generated images (`images: [{type: image_url, image_url: {url}}]`).
fn images_of(message: &Value) -> Option<&Value> {
    message
        .get("images")
        .filter(|i| i.as_array().is_some_and(|a| !a.is_empty()))
}

/// The Responses item Chat Completions' images stand for; the engine shows it.
fn image_item(images: &Value) -> Value {
    json!({
        "type": "image_generation_call",
        "id": format!("ig_{}", crate::ids::new_id()),
        "status": "completed",
        "result": images,
    })
}

fn fresh_call_id(position: u64) -> String {
    format!("call_{position}_{}", crate::ids::new_id())
}

/// Finish reasons that mean the answer was cut short.
fn incomplete_reason(reason: &str) -> Option<&'static str> {
    match reason {
        "length" => Some("max_output_tokens"),
        "content_filter" => Some("content_filter"),
        _ => None,
    }
}

/// A Chat Completions error object in the shape the Responses error reader expects
/// (`error_type` lives in `metadata` on the chat skin).
fn error_for_responses(error: &Value) -> Value {
    let mut out = error.clone();
    if let (Some(obj), Some(kind)) = (
        out.as_object_mut(),
        error.pointer("/metadata/error_type").cloned(),
    ) {
        obj.entry("error_type").or_insert(kind);
    }
    out
}

/// Chat Completions usage under Responses names, so the stored usage and the usage
/// line read the same on both routes. Unknown keys are kept as they are.
pub fn usage_to_responses(usage: &Value) -> Value {
    let Some(src) = usage.as_object() else {
        return usage.clone();
    };
    let mut out = Map::new();
    for (key, value) in src {
        let (name, value) = match key.as_str() {
            "prompt_tokens" => ("input_tokens", value.clone()),
            "completion_tokens" => ("output_tokens", value.clone()),
            "prompt_tokens_details" => ("input_tokens_details", value.clone()),
            "completion_tokens_details" => ("output_tokens_details", value.clone()),
            "server_tool_use" => ("server_tool_use_details", value.clone()),
            "cost_details" => ("cost_details", cost_details(value)),
            other => (other, value.clone()),
        };
        out.entry(name.to_owned()).or_insert(value);
    }
    Value::Object(out)
}

fn cost_details(details: &Value) -> Value {
    let Some(src) = details.as_object() else {
        return details.clone();
    };
    let renamed = src.iter().map(|(k, v)| {
        let name = match k.as_str() {
            "upstream_inference_prompt_cost" => "upstream_inference_input_cost",
            "upstream_inference_completions_cost" => "upstream_inference_output_cost",
            other => other,
        };
        (name.to_owned(), v.clone())
    });
    Value::Object(renamed.collect())
}

/// A web-search citation (`url_citation`), as opposed to a file annotation.
fn is_url_citation(annotation: &Value) -> bool {
    annotation.get("type").and_then(Value::as_str) == Some("url_citation")
}

#[cfg(test)]
mod tests;
