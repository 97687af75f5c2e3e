//! Responses API stream events -> [`Emit`]s.
//!
//! One [`ResponseMapper`] per `/responses` request. It is fed every SSE `data` payload in
//! order ([`ResponseMapper::on_data`]) and closes the answer in [`ResponseMapper::finish`].
//! Its state is keyed by item id / output index, never by arrival order, and nothing in
//! it depends on how the body was split into network reads.

mod nonstream;
mod terminal;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use super::citations::Citations;
use super::clock::Clock;
use super::event::{parse_event, Event};
use super::items::{ItemKind, ItemTracker};
use super::json::SurrogateCarry;
use super::reasoning::{PartKey, ReasoningTracker, StatusThrottle};
use super::web_search::WebSearch;
use crate::emit::{Emit, FunctionCall, LogLevel};
use crate::errors::CardStyle;
use crate::valves::settings::ThinkingMode;

/// Per-request options for the mapper.
#[derive(Debug, Clone, Default)]
pub struct MapperOptions {
    /// Where live reasoning is shown.
    pub thinking_mode: ThinkingMode,
    /// `SHOW_FINAL_USAGE_STATUS`: detailed usage line, else "Thought for N seconds".
    pub show_final_usage: bool,
    /// Display label of the model, used in error cards ("OpenAI: GPT-4o mini").
    pub model_label: String,
    /// The OpenRouter id of the model asked for, shown beside the label in error cards
    /// (the one in the response can name another model, e.g. after a `models` fallback).
    pub model_id: String,
    /// Usage of the answer's earlier upstream rounds (tool loop, retries), added to this
    /// round's in the usage stored with the message and in the final status line.
    pub usage_before: Option<Value>,
    /// How long the answer had run when this round started (earlier rounds, tools): the
    /// final status line's time and speed are the whole answer's.
    pub elapsed_before: Duration,
    /// The engine runs the tools this round calls and sends another round: a round that
    /// ends in function calls leaves the usage and the final status line to the last one.
    pub defer_final_on_calls: bool,
    /// How error cards are rendered (the operator's templates, the request's facts).
    pub card_style: CardStyle,
}

/// How the stream ended, as far as the mapper can tell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Termination {
    /// Still reading.
    #[default]
    Open,
    /// `response.completed`: the answer is whole.
    Completed,
    /// `response.incomplete` (e.g. max_output_tokens).
    Incomplete(String),
    /// Provider failure (response.failed / error event); the card was emitted.
    Failed,
    /// EOF or a broken connection before a terminal event, with unfinished items.
    Interrupted,
}

/// The status shown when the answer's text starts without any reasoning first.
pub const RESPONDING: &str = "Responding to the user…";
/// The status an answer opens with, before the model's first event (reference §7.5).
pub const THINKING: &str = "Thinking…";

/// How many unreadable payloads are logged before going quiet.
const MAX_PARSE_WARNINGS: u32 = 3;

/// Stateful translator for one `/responses` stream.
#[derive(Debug, Default)]
pub struct ResponseMapper {
    /// The options it was made with.
    pub options: MapperOptions,
    /// Everything emitted as [`Emit::Content`]: the answer, plus any closing note or card.
    pub text: String,
    /// How the stream has ended so far.
    pub termination: Termination,
    /// `usage` of the terminal event as OpenRouter sent it, plus (once the round is
    /// finished) `turn_count: 1` and the round's `function_call_count`.
    pub usage: Option<Value>,
    /// Finished non-message output items (reasoning with `encrypted_content`/`signature`,
    /// `function_call`, `web_search_call`, …) ordered by `output_index`, for replay.
    pub output_items: Vec<Value>,
    /// Function calls emitted so far, in emission order.
    pub function_calls: Vec<FunctionCall>,
    /// `response.id` (the generation id), once seen.
    pub response_id: Option<String>,
    /// The model OpenRouter routed to (`response.model`), once seen.
    pub model: Option<String>,
    /// Time source; tests swap in [`Clock::manual`].
    pub clock: Clock,
    reasoning: ReasoningTracker,
    throttle: StatusThrottle,
    citations: Citations,
    items: ItemTracker,
    web: WebSearch,
    text_carry: SurrogateCarry,
    reasoning_carry: SurrogateCarry,
    /// Message items that streamed text; `text_without_id` when a delta had no item id.
    text_items: Vec<String>,
    text_without_id: bool,
    /// The reasoning item currently streaming, for events that name no item.
    active_reasoning: Option<String>,
    /// Terminal error event kept until `finish` renders its card.
    failure: Option<Value>,
    unknown_types: HashSet<String>,
    /// Image items whose "Generating an image…" status was shown.
    images_generating: HashSet<String>,
    /// "Responding to the user…" was shown (once, when text starts without reasoning).
    responding_shown: bool,
    parse_warnings: u32,
    /// Clock readings: first reasoning, last reasoning, last generated token.
    reasoning_span: Option<(Duration, Duration)>,
    last_activity: Option<Duration>,
    finished: bool,
}

impl ResponseMapper {
    /// A mapper for one stream, on the wall clock.
    pub fn new(options: MapperOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }

    /// Same as [`ResponseMapper::new`] with an explicit time source.
    pub fn with_clock(options: MapperOptions, clock: Clock) -> Self {
        Self {
            options,
            clock,
            ..Self::default()
        }
    }

    /// All reasoning shown so far (parts separated by blank lines).
    pub fn reasoning_text(&self) -> &str {
        &self.reasoning.full
    }

    /// Distinct cited URLs, in the order their sources were emitted.
    pub fn cited_urls(&self) -> &[String] {
        &self.citations.urls
    }

    /// A web search shown by its first URL citation, for a route without search items
    /// (Chat Completions): the same statuses as a search call whose sources are not listed.
    pub fn web_search_from_citations(&mut self, out: &mut Vec<Emit>) {
        self.web.seen_in_citations(out);
    }

    /// Handles the `data` payload of one SSE event. Returns true once a terminal event was seen.
    pub fn on_data(&mut self, data: &str, out: &mut Vec<Emit>) -> bool {
        if self.termination != Termination::Open || self.finished {
            return true;
        }
        let mut scratch = String::new();
        let Some(parsed) = parse_event(data, &mut scratch) else {
            self.unreadable(data, out);
            return false;
        };
        let (ev, repaired) = (parsed.event, parsed.repaired);
        match ev.kind() {
            // `content_part.delta` is the docs sample's name for a text delta.
            "response.output_text.delta"
            | "response.refusal.delta"
            | "response.content_part.delta" => self.text_delta(&ev, repaired, out),
            "response.reasoning_text.delta"
            | "response.reasoning_summary_text.delta"
            | "response.reasoning.delta" => self.reasoning_delta(&ev, repaired, out),
            "response.function_call_arguments.delta" => {
                let key = self.items.resolve(ev.item_id.as_deref(), ev.output_index);
                let delta = ev.delta.as_deref().unwrap_or("");
                let delta = if repaired {
                    super::json::scrub_str(delta)
                } else {
                    Cow::Borrowed(delta)
                };
                self.items.call_args_delta(&key, ev.output_index, &delta);
            }
            "response.function_call_arguments.done" => {
                let key = self.items.resolve(ev.item_id.as_deref(), ev.output_index);
                let call = self.items.call_args_done(
                    &key,
                    ev.output_index,
                    ev.name.as_deref(),
                    ev.arguments.as_deref(),
                );
                self.push_calls(call, out);
            }
            "response.output_text.annotation.added" => {
                if let Some(ann) = &ev.annotation {
                    if let Some(src) = self.citations.annotation(ann) {
                        out.push(Emit::Source(src));
                    }
                }
            }
            "response.output_item.added" => self.item_added(&ev, out),
            "response.output_item.done" => {
                if let Some(item) = &ev.item {
                    self.item_done(ev.output_index, item, out);
                }
            }
            "response.content_part.added" | "response.content_part.done" => {
                self.content_part(&ev, out)
            }
            "response.reasoning_summary_part.added"
            | "response.reasoning_summary_part.done"
            | "response.reasoning_summary_text.done"
            | "response.reasoning_text.done"
            | "response.reasoning.done" => self.reasoning_snapshot(&ev, out),
            "response.output_text.done" => {
                if let Some(text) = ev.text.as_deref() {
                    self.text_snapshot(ev.item_id.as_deref(), text, out);
                }
            }
            "response.image_generation_call.in_progress"
            | "response.image_generation_call.generating" => {
                let key = self.items.resolve(ev.item_id.as_deref(), ev.output_index);
                self.generating_image(&key, out);
            }
            "response.web_search_call.in_progress" | "response.web_search_call.searching" => {
                let key = self.items.resolve(ev.item_id.as_deref(), ev.output_index);
                self.web.started(&key, out);
            }
            "response.completed"
            | "response.done"
            | "response.incomplete"
            | "response.failed"
            | "response.error"
            | "error" => return self.terminal(&ev, out),
            "response.created" | "response.in_progress" | "response.queued" => {
                self.response_meta(ev.response.as_ref());
            }
            // Progress markers whose information also arrives in item events.
            "response.web_search_call.completed"
            | "response.image_generation_call.partial_image"
            | "response.image_generation_call.completed"
            | "response.output_text.annotation.done"
            | "response.refusal.done"
            | "response.debug" => {}
            // Any other reasoning event name (providers invent variants): deltas
            // stream, anything else reconciles as a snapshot.
            other if other.starts_with("response.reasoning") => {
                if other.ends_with(".delta") {
                    self.reasoning_delta(&ev, repaired, out)
                } else {
                    self.reasoning_snapshot(&ev, out)
                }
            }
            other => self.unknown(other, out),
        }
        if ev.error.as_ref().is_some_and(Value::is_object) || response_failed(&ev) {
            return self.terminal(&ev, out);
        }
        false
    }

    fn text_delta(&mut self, ev: &Event, repaired: bool, out: &mut Vec<Emit>) {
        let Some(delta) = ev.delta.as_deref() else {
            return;
        };
        let shown = self.text_carry.apply(delta, repaired);
        if shown.is_empty() {
            return;
        }
        let id = match ev.item_id.as_deref() {
            Some(id) => Some(id),
            None => self.items.id_for_index(ev.output_index),
        };
        match id {
            Some(id) => {
                if self.text_items.last().map(String::as_str) != Some(id)
                    && !self.text_items.iter().any(|t| t == id)
                {
                    self.text_items.push(id.to_owned());
                }
            }
            None => self.text_without_id = true,
        }
        if !self.responding_shown && self.reasoning_span.is_none() {
            self.responding_shown = true;
            out.push(Emit::status(RESPONDING, false));
        }
        self.last_activity = Some(self.clock.now());
        self.text.push_str(&shown);
        out.push(Emit::Content(shown.into_owned()));
    }

    /// The reasoning item an event belongs to.
    fn reasoning_key<'e>(&self, ev: &'e Event) -> Cow<'e, str> {
        if let Some(id) = ev.item_id.as_deref().filter(|s| !s.is_empty()) {
            return Cow::Borrowed(id);
        }
        if let Some(id) = self.items.id_for_index(ev.output_index) {
            return Cow::Owned(id.to_owned());
        }
        Cow::Owned(
            self.active_reasoning
                .clone()
                .unwrap_or_else(|| "__reasoning__".to_owned()),
        )
    }

    fn reasoning_delta(&mut self, ev: &Event, repaired: bool, out: &mut Vec<Emit>) {
        let Some(delta) = ev.delta.as_deref().or(ev.text.as_deref()) else {
            return;
        };
        let part = if ev.kind() == "response.reasoning_summary_text.delta" {
            PartKey::Summary(ev.summary_index.unwrap_or(0))
        } else {
            PartKey::Content(ev.content_index.unwrap_or(0))
        };
        let delta = self.reasoning_carry.apply(delta, repaired);
        let key = self.reasoning_key(ev);
        if let Some(shown) = self.reasoning.delta(&key, part, &delta) {
            self.show_reasoning(shown, out);
        }
    }

    fn reasoning_snapshot(&mut self, ev: &Event, out: &mut Vec<Emit>) {
        let part_text = ev
            .part
            .as_ref()
            .and_then(|p| p.get("text"))
            .and_then(Value::as_str);
        if let Some(text) = ev.text.as_deref().or(part_text) {
            let part = match ev.summary_index {
                Some(i) if ev.kind().contains("summary") => PartKey::Summary(i),
                _ if ev.kind().contains("summary") => PartKey::Summary(0),
                _ => PartKey::Content(ev.content_index.unwrap_or(0)),
            };
            let key = self.reasoning_key(ev);
            if let Some(shown) = self.reasoning.snapshot(&key, part, text) {
                self.show_reasoning(shown, out);
            }
        }
        if ev.kind().ends_with(".done") {
            self.flush_reasoning_status(out);
        }
    }

    fn content_part(&mut self, ev: &Event, out: &mut Vec<Emit>) {
        let Some(part) = &ev.part else {
            return;
        };
        match part.get("type").and_then(Value::as_str) {
            Some("reasoning_text" | "summary_text" | "reasoning_summary_text") => {
                self.reasoning_snapshot(ev, out)
            }
            Some("output_text") if ev.kind() == "response.content_part.done" => {
                let mut found = Vec::new();
                self.citations.collect_part_sources(part, &mut found);
                out.extend(found.into_iter().map(Emit::Source));
            }
            _ => {}
        }
    }

    pub(super) fn show_reasoning(&mut self, shown: String, out: &mut Vec<Emit>) {
        let now = self.clock.now();
        self.reasoning_span = Some(match self.reasoning_span {
            Some((first, _)) => (first, now),
            None => (now, now),
        });
        self.last_activity = Some(now);
        let mode = self.options.thinking_mode;
        if mode.shows_status() {
            if let Some(line) = self.throttle.feed(&shown, now) {
                out.push(Emit::status(line, false));
            }
        }
        if mode.shows_box() {
            out.push(Emit::Reasoning(shown));
        }
    }

    fn flush_reasoning_status(&mut self, out: &mut Vec<Emit>) {
        if self.options.thinking_mode.shows_status() {
            if let Some(line) = self.throttle.flush() {
                out.push(Emit::status(line, false));
            }
        }
    }

    /// Shows a message snapshot only when no delta streamed any text for that item
    /// (providers that skip deltas); otherwise the deltas already showed it.
    fn text_snapshot(&mut self, item_id: Option<&str>, text: &str, out: &mut Vec<Emit>) {
        if text.is_empty() || self.text_without_id {
            return;
        }
        if let Some(id) = item_id {
            if self.text_items.iter().any(|t| t == id) {
                return;
            }
            self.text_items.push(id.to_owned());
        } else if !self.text.is_empty() {
            return;
        }
        let mut shown = String::with_capacity(text.len() + 2);
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            shown.push_str("\n\n");
        }
        shown.push_str(text);
        self.last_activity = Some(self.clock.now());
        self.text.push_str(&shown);
        out.push(Emit::Content(shown));
    }

    fn item_added(&mut self, ev: &Event, out: &mut Vec<Emit>) {
        let Some(item) = &ev.item else {
            return;
        };
        let (kind, key) = self.items.added(ev.output_index, item);
        if kind != ItemKind::Message {
            out.push(Emit::ItemStarted {
                key: key.clone(),
                item_type: item_type(item),
            });
        }
        match kind {
            ItemKind::Reasoning => self.active_reasoning = Some(key),
            ItemKind::WebSearch => self.web.started(&key, out),
            _ if item_type(item) == "image_generation_call" => self.generating_image(&key, out),
            _ => {}
        }
    }

    /// Generating an image takes a while: say so once per image item. The image itself
    /// is shown by the engine when the item is done (it may need storage first).
    fn generating_image(&mut self, key: &str, out: &mut Vec<Emit>) {
        if self.images_generating.len() < 64 && self.images_generating.insert(key.to_owned()) {
            out.push(Emit::status(
                crate::intake::StatusText::GENERATING_IMAGE,
                false,
            ));
        }
    }

    /// A finished item, from `output_item.done` or from the final response's `output`.
    pub(super) fn item_done(
        &mut self,
        output_index: Option<u64>,
        item: &Value,
        out: &mut Vec<Emit>,
    ) {
        let (kind, key, first) = self.items.done(output_index, item);
        // After the last of the item's reasoning: its marker is answer text, and answer
        // text ends Open WebUI's thinking box.
        let mut done = (kind != ItemKind::Message && first).then(|| Emit::ItemDone {
            key: key.clone(),
            item: item.clone(),
        });
        if kind != ItemKind::Reasoning {
            out.extend(done.take());
        }
        match kind {
            ItemKind::Message => {
                let content = item.get("content");
                let text: String = content
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|part| part.get("text").or_else(|| part.get("refusal")))
                    .filter_map(Value::as_str)
                    .collect();
                self.text_snapshot(Some(&key), &text, out);
                let sources = self.citations.sources_in_message_content(content);
                out.extend(sources.into_iter().map(Emit::Source));
                return;
            }
            ItemKind::Reasoning => {
                if let Some(shown) = self.reasoning.item_snapshot(&key, item) {
                    self.show_reasoning(shown, out);
                }
                self.flush_reasoning_status(out);
                out.extend(done.take());
                if self.active_reasoning.as_deref() == Some(key.as_str()) {
                    self.active_reasoning = None;
                }
            }
            ItemKind::FunctionCall => {
                let call = self.items.call_item_done(&key, output_index, item);
                self.push_calls(call, out);
            }
            ItemKind::WebSearch => self.web.finished(&key, item, out),
            ItemKind::Other => {}
        }
        self.items
            .capture(&mut self.output_items, &key, output_index, item);
    }

    pub(super) fn push_calls(
        &mut self,
        calls: impl IntoIterator<Item = FunctionCall>,
        out: &mut Vec<Emit>,
    ) {
        for call in calls {
            self.function_calls.push(call.clone());
            out.push(Emit::FunctionCall(call));
        }
    }

    pub(super) fn response_meta(&mut self, response: Option<&Value>) {
        let Some(resp) = response else {
            return;
        };
        if let Some(id) = resp.get("id").and_then(Value::as_str) {
            self.response_id = Some(id.to_owned());
        }
        if let Some(model) = resp.get("model").and_then(Value::as_str) {
            self.model = Some(model.to_owned());
        }
    }

    fn unknown(&mut self, kind: &str, out: &mut Vec<Emit>) {
        if self.unknown_types.len() < 64 && self.unknown_types.insert(kind.to_owned()) {
            out.push(Emit::log(
                LogLevel::Debug,
                format!("Ignoring OpenRouter stream event type {kind:?}"),
            ));
        }
    }

    fn unreadable(&mut self, data: &str, out: &mut Vec<Emit>) {
        if self.parse_warnings < MAX_PARSE_WARNINGS {
            self.parse_warnings += 1;
            let head = crate::errors::redact::truncate(&crate::errors::redact::redact(data), 200);
            out.push(Emit::log(
                LogLevel::Warning,
                format!("Skipping an unreadable OpenRouter stream event: {head}"),
            ));
        }
    }
}

fn response_failed(ev: &Event) -> bool {
    ev.response
        .as_ref()
        .and_then(|r| r.get("status"))
        .and_then(Value::as_str)
        == Some("failed")
}

fn item_type(item: &Value) -> String {
    item.get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string()
}
