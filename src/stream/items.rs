//! Output items of one response: which are open, function-call arguments, and the
//! finished items kept for replay.
//!
//! Items are identified by `item_id` (falling back to `output_index`), never by arrival
//! order: a reasoning item's `output_item.done` can arrive after a later item's.

use serde_json::Value;

use crate::emit::FunctionCall;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Message,
    Reasoning,
    FunctionCall,
    WebSearch,
    Other,
}

impl ItemKind {
    pub fn of(item: &Value) -> Self {
        match item.get("type").and_then(Value::as_str).unwrap_or("") {
            "message" => Self::Message,
            "reasoning" => Self::Reasoning,
            "function_call" => Self::FunctionCall,
            "web_search_call" | "openrouter:web_search" => Self::WebSearch,
            _ => Self::Other,
        }
    }
}

/// The id of an item, or a stand-in built from its position.
pub fn item_key(item: &Value, output_index: Option<u64>) -> String {
    match item.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => index_key(output_index),
    }
}

fn index_key(output_index: Option<u64>) -> String {
    format!("#{}", output_index.unwrap_or(u64::MAX))
}

#[derive(Debug)]
struct Tracked {
    id: String,
    output_index: Option<u64>,
    kind: ItemKind,
    done: bool,
}

#[derive(Debug, Default)]
struct CallState {
    item_id: String,
    output_index: Option<u64>,
    call_id: Option<String>,
    name: Option<String>,
    /// Raw concatenation of `function_call_arguments.delta` fragments.
    streamed: String,
    /// `function_call_arguments.done.arguments`, preferred over `streamed`.
    done_args: Option<String>,
    emitted: bool,
}

impl CallState {
    fn take_call(&mut self) -> FunctionCall {
        self.emitted = true;
        FunctionCall {
            item_id: self.item_id.clone(),
            call_id: self.call_id.clone().unwrap_or_else(|| self.item_id.clone()),
            name: self.name.clone().unwrap_or_default(),
            arguments: self
                .done_args
                .clone()
                .unwrap_or_else(|| self.streamed.clone()),
        }
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[derive(Debug, Default)]
pub struct ItemTracker {
    tracked: Vec<Tracked>,
    calls: Vec<CallState>,
    /// `(output_index, id)` of each captured item, parallel to the mapper's `output_items`.
    captured: Vec<(u64, String)>,
}

impl ItemTracker {
    fn track(&mut self, id: &str, output_index: Option<u64>, kind: ItemKind) -> &mut Tracked {
        match self.tracked.iter().rposition(|t| t.id == id) {
            Some(i) => &mut self.tracked[i],
            None => {
                self.tracked.push(Tracked {
                    id: id.to_owned(),
                    output_index,
                    kind,
                    done: false,
                });
                self.tracked.last_mut().expect("just pushed")
            }
        }
    }

    /// `output_item.added`. Returns the item's kind and key.
    pub fn added(&mut self, output_index: Option<u64>, item: &Value) -> (ItemKind, String) {
        let kind = ItemKind::of(item);
        let id = item_key(item, output_index);
        self.track(&id, output_index, kind);
        if kind == ItemKind::FunctionCall {
            let call = self.call(&id, output_index);
            call.call_id = call.call_id.take().or_else(|| str_field(item, "call_id"));
            call.name = call.name.take().or_else(|| str_field(item, "name"));
        }
        (kind, id)
    }

    /// `output_item.done` (or an item of the final response). Returns kind, key and
    /// whether this is the first time the item completed.
    pub fn done(&mut self, output_index: Option<u64>, item: &Value) -> (ItemKind, String, bool) {
        let kind = ItemKind::of(item);
        let id = item_key(item, output_index);
        let t = self.track(&id, output_index, kind);
        let first = !t.done;
        t.done = true;
        (kind, id, first)
    }

    /// The key of the item at `output_index`, for events that carry no `item_id`.
    pub fn id_for_index(&self, output_index: Option<u64>) -> Option<&str> {
        let idx = output_index?;
        self.tracked
            .iter()
            .rev()
            .find(|t| t.output_index == Some(idx))
            .map(|t| t.id.as_str())
    }

    /// Resolves the key of the item an event refers to.
    pub fn resolve(&self, item_id: Option<&str>, output_index: Option<u64>) -> String {
        match item_id.filter(|s| !s.is_empty()) {
            Some(id) => id.to_owned(),
            None => self
                .id_for_index(output_index)
                .map_or_else(|| index_key(output_index), str::to_owned),
        }
    }

    pub fn open_count(&self) -> usize {
        self.tracked.iter().filter(|t| !t.done).count()
    }

    pub fn completed_count(&self) -> usize {
        self.tracked.iter().filter(|t| t.done).count()
    }

    /// At least one message item, and every message item reached `output_item.done`.
    pub fn messages_done(&self) -> bool {
        let mut messages = self.tracked.iter().filter(|t| t.kind == ItemKind::Message);
        let mut any = false;
        let all = messages.all(|t| {
            any = true;
            t.done
        });
        any && all
    }

    fn call(&mut self, id: &str, output_index: Option<u64>) -> &mut CallState {
        match self.calls.iter().position(|c| c.item_id == id) {
            Some(i) => &mut self.calls[i],
            None => {
                self.calls.push(CallState {
                    item_id: id.to_owned(),
                    output_index,
                    ..CallState::default()
                });
                self.calls.last_mut().expect("just pushed")
            }
        }
    }

    /// `function_call_arguments.delta`: fragments are raw text, not JSON on their own.
    pub fn call_args_delta(&mut self, key: &str, output_index: Option<u64>, delta: &str) {
        self.call(key, output_index).streamed.push_str(delta);
    }

    /// `function_call_arguments.done`. Emits the call now if its `call_id` is known;
    /// otherwise the item's `output_item.done` will.
    pub fn call_args_done(
        &mut self,
        key: &str,
        output_index: Option<u64>,
        name: Option<&str>,
        arguments: Option<&str>,
    ) -> Option<FunctionCall> {
        let call = self.call(key, output_index);
        if let Some(a) = arguments {
            call.done_args = Some(a.to_owned());
        } else if call.done_args.is_none() {
            call.done_args = Some(call.streamed.clone());
        }
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            call.name = Some(n.to_owned());
        }
        (!call.emitted && call.call_id.is_some()).then(|| call.take_call())
    }

    /// A finished `function_call` item: emits the call unless it already was.
    pub fn call_item_done(
        &mut self,
        key: &str,
        output_index: Option<u64>,
        item: &Value,
    ) -> Option<FunctionCall> {
        let call = self.call(key, output_index);
        if call.emitted {
            return None;
        }
        call.call_id = call.call_id.take().or_else(|| str_field(item, "call_id"));
        call.name = call.name.take().or_else(|| str_field(item, "name"));
        if call.done_args.is_none() {
            call.done_args = item
                .get("arguments")
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty())
                .map(str::to_owned);
        }
        Some(call.take_call())
    }

    /// Calls whose arguments finished but that were never emitted (no `call_id` and no
    /// `output_item.done` before the stream ended), in output order.
    pub fn pending_calls(&mut self) -> Vec<FunctionCall> {
        let mut ready: Vec<&mut CallState> = self
            .calls
            .iter_mut()
            .filter(|c| !c.emitted && c.done_args.is_some())
            .collect();
        ready.sort_by_key(|c| c.output_index);
        ready.into_iter().map(CallState::take_call).collect()
    }

    /// Keeps a finished non-message item for replay, ordered by `output_index`; a later
    /// copy of the same item replaces the earlier one in place.
    pub fn capture(
        &mut self,
        items: &mut Vec<Value>,
        key: &str,
        output_index: Option<u64>,
        item: &Value,
    ) {
        if let Some(i) = self.captured.iter().position(|(_, id)| id == key) {
            items[i] = item.clone();
            return;
        }
        let idx = output_index.unwrap_or(u64::MAX);
        let at = self.captured.partition_point(|(o, _)| *o <= idx);
        self.captured.insert(at, (idx, key.to_owned()));
        items.insert(at, item.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn calls_prefer_the_done_arguments_and_emit_once() {
        let mut t = ItemTracker::default();
        let item =
            json!({"id":"fc","type":"function_call","call_id":"call_1","name":"f","arguments":""});
        t.added(Some(0), &item);
        t.call_args_delta("fc", Some(0), "{\"a\":");
        t.call_args_delta("fc", Some(0), "1}");
        let call = t
            .call_args_done("fc", Some(0), None, Some("{\"a\": 1}"))
            .unwrap();
        assert_eq!(call.arguments, "{\"a\": 1}");
        assert_eq!(call.call_id, "call_1");
        assert_eq!(call.name, "f");
        assert_eq!(t.call_item_done("fc", Some(0), &item), None);
        assert!(t.pending_calls().is_empty());
    }

    #[test]
    fn calls_without_call_id_wait_for_the_item() {
        let mut t = ItemTracker::default();
        t.call_args_delta("fc", Some(2), "{}");
        assert_eq!(t.call_args_done("fc", Some(2), Some("g"), None), None);
        let done =
            json!({"id":"fc","type":"function_call","call_id":"c9","name":"g","arguments":"{}"});
        let call = t.call_item_done("fc", Some(2), &done).unwrap();
        assert_eq!(
            (call.call_id.as_str(), call.arguments.as_str()),
            ("c9", "{}")
        );
    }

    #[test]
    fn capture_orders_by_output_index_not_arrival() {
        let mut t = ItemTracker::default();
        let mut items = Vec::new();
        t.capture(&mut items, "fc", Some(1), &json!({"id":"fc"}));
        t.capture(&mut items, "rs", Some(0), &json!({"id":"rs"}));
        t.capture(&mut items, "rs", Some(0), &json!({"id":"rs","v":2}));
        assert_eq!(items, vec![json!({"id":"rs","v":2}), json!({"id":"fc"})]);
    }

    #[test]
    fn open_and_done_bookkeeping() {
        let mut t = ItemTracker::default();
        let msg = json!({"id":"m","type":"message"});
        let rs = json!({"id":"r","type":"reasoning"});
        t.added(Some(0), &rs);
        t.added(Some(1), &msg);
        assert!(!t.messages_done());
        assert_eq!(t.done(Some(1), &msg), (ItemKind::Message, "m".into(), true));
        assert!(t.messages_done());
        assert_eq!(t.open_count(), 1);
        assert_eq!(t.resolve(None, Some(0)), "r");
        assert!(!t.done(Some(1), &msg).2);
    }
}
