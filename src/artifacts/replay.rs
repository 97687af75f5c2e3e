//! History reconstruction: an assistant message's text plus its stored artifacts become
//! Responses `input[]` items, in the order they really happened.
//!
//! Text segments become assistant `output_text` messages; each marker becomes its
//! stored item (reasoning, function call, function call output, ...). Markers written by
//! the reference pipe all sit after the text; they still replay, after the text.
//!
//! Nothing here is fatal: a marker whose artifact is missing, an item that cannot be
//! sent back, or a function call without its output (or the reverse) is skipped and
//! reported as a [`ReplayNote`] for the log.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::{json, Value};

use super::markers::{split, Segment};
use super::normalize::{is_non_replayable, normalize_item};
use super::policy::ReasoningRetention;

/// Tool outputs shorter than this are never pruned (characters).
pub const PRUNE_MIN_CHARS: usize = 800;
/// Characters kept from the start of a pruned output.
pub const PRUNE_HEAD_CHARS: usize = 256;
/// Characters kept from the end of a pruned output.
pub const PRUNE_TAIL_CHARS: usize = 128;

/// Replay settings (from the valves; `Default` is their declared defaults, implemented
/// beside the settings so that this layer does not depend on the valves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySettings {
    /// `PERSIST_REASONING_TOKENS`.
    pub retention: ReasoningRetention,
    /// `TOOL_OUTPUT_RETENTION_TURNS`: tool outputs of assistant messages older than this
    /// many turns are shortened; 0 keeps every output whole.
    pub tool_output_retention_turns: usize,
}

/// Turn indexes of a chat-completions `messages` list.
///
/// A `user` message that follows a non-user message starts a new turn (consecutive user
/// messages share one); an `assistant` message belongs to the current turn (turn 0 when
/// no user message came first); other roles take the current turn, or none before the
/// first turn.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Turns {
    /// One entry per message.
    pub indexes: Vec<Option<usize>>,
    /// Highest turn index + 1 (0 when there is none).
    pub total: usize,
}

impl Turns {
    /// Numbers the turns of `messages` by the rule above.
    pub fn of(messages: &[Value]) -> Self {
        let mut indexes = Vec::with_capacity(messages.len());
        let mut current: Option<usize> = None;
        let mut last_dialog_user = false;
        let mut total = 0usize;
        for msg in messages {
            let role = msg
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase();
            let idx = match role.as_str() {
                "user" => {
                    if !last_dialog_user {
                        current = Some(current.map_or(0, |c| c + 1));
                    }
                    last_dialog_user = true;
                    current
                }
                "assistant" => {
                    current = Some(current.unwrap_or(0));
                    last_dialog_user = false;
                    current
                }
                _ => current,
            };
            if let Some(i) = idx {
                total = total.max(i + 1);
            }
            indexes.push(idx);
        }
        Self { indexes, total }
    }

    /// Where message `position` sits, for [`replay_message`].
    pub fn window(&self, position: usize) -> TurnWindow {
        TurnWindow {
            turn_index: self.indexes.get(position).copied().flatten(),
            total_turns: self.total,
        }
    }
}

/// A message's turn and the conversation's number of turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TurnWindow {
    /// The message's turn, `None` for a message before the first turn.
    pub turn_index: Option<usize>,
    /// How many turns the conversation has.
    pub total_turns: usize,
}

impl TurnWindow {
    /// True when the message is outside the last `retention_turns` turns
    /// (never when `retention_turns` is 0).
    pub fn is_old(&self, retention_turns: usize) -> bool {
        if retention_turns == 0 || self.total_turns <= retention_turns {
            return false;
        }
        let prune_before = self.total_turns - retention_turns;
        self.turn_index.is_some_and(|t| t < prune_before)
    }
}

/// Something skipped or changed during replay, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayNote {
    /// The marker's artifact was not found (deleted, cleaned up, undecryptable, or never
    /// stored).
    Missing {
        /// The marker id.
        id: String,
    },
    /// The stored item is not a usable Responses item.
    Invalid {
        /// The marker id.
        id: String,
    },
    /// A tool call the Responses API does not take as input.
    NotReplayable {
        /// The marker id.
        id: String,
        /// The stored item's `type`.
        item_type: String,
    },
    /// A function call without its output, or an output without its call, in this
    /// message.
    Orphaned {
        /// The marker id.
        id: String,
        /// `function_call` or `function_call_output`.
        item_type: String,
        /// The `call_id` that has no partner.
        call_id: String,
    },
    /// The marker appeared more than once; only its first occurrence is replayed.
    Duplicate {
        /// The marker id.
        id: String,
    },
    /// An old tool output was shortened.
    Pruned {
        /// The marker id.
        id: String,
        /// Characters cut from the output.
        removed_chars: usize,
    },
}

impl ReplayNote {
    /// True for notes worth a warning (the others are routine, debug level).
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Self::Missing { .. } | Self::Invalid { .. } | Self::Orphaned { .. }
        )
    }
}

impl fmt::Display for ReplayNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { id } => write!(f, "missing artifact {id}; skipped"),
            Self::Invalid { id } => write!(f, "artifact {id} is not a usable item; skipped"),
            Self::NotReplayable { id, item_type } => {
                write!(f, "artifact {id} ({item_type}) cannot be sent back; skipped")
            }
            Self::Orphaned { id, item_type, call_id } => write!(
                f,
                "orphaned {item_type} {id} (call_id {call_id:?}) has no partner in this message; skipped"
            ),
            Self::Duplicate { id } => write!(f, "marker {id} repeated; replayed once"),
            Self::Pruned { id, removed_chars } => {
                write!(f, "pruned tool output {id}: removed {removed_chars} chars")
            }
        }
    }
}

/// The replayed items of one assistant message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replay {
    /// Responses `input[]` items, in true order.
    pub items: Vec<Value>,
    /// With [`ReasoningRetention::NextReply`]: ids of the reasoning rows replayed here,
    /// to delete once the next answer has completed successfully.
    pub reasoning_to_delete: Vec<String>,
    /// What was skipped or changed.
    pub notes: Vec<ReplayNote>,
}

/// The assistant `output_text` message for `text`.
pub fn assistant_text_item(text: &str) -> Value {
    json!({
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    })
}

/// Replays one assistant message: `text` as stored by Open WebUI (with marker lines),
/// `artifacts` as fetched (it may hold other messages' artifacts too; only this text's
/// markers are used), `turn` from [`Turns::window`].
///
/// Text without markers is replayed whole (unchanged; nothing when empty). With markers,
/// each non-blank text segment is replayed trimmed.
pub fn replay_message(
    text: &str,
    artifacts: &HashMap<String, Value>,
    turn: TurnWindow,
    settings: &ReplaySettings,
) -> Replay {
    let mut out = Replay::default();
    let segments = split(text);
    if !segments.iter().any(|s| matches!(s, Segment::Marker(_))) {
        if !text.is_empty() {
            out.items.push(assistant_text_item(text));
        }
        return out;
    }

    // Pass 1: resolve and normalise each marker once.
    enum Entry<'t> {
        Text(&'t str),
        Item {
            id: &'t str,
            item: Value,
            kind: Kind,
            call_id: String,
        },
    }
    let mut entries = Vec::with_capacity(segments.len());
    let mut seen: HashSet<&str> = HashSet::new();
    for segment in segments {
        let id = match segment {
            Segment::Text(t) => {
                entries.push(Entry::Text(t));
                continue;
            }
            Segment::Marker(id) => id,
        };
        if !seen.insert(id) {
            out.notes.push(ReplayNote::Duplicate { id: id.into() });
            continue;
        }
        let Some(raw) = artifacts.get(id) else {
            out.notes.push(ReplayNote::Missing { id: id.into() });
            continue;
        };
        let Some(item) = normalize_item(raw) else {
            out.notes.push(ReplayNote::Invalid { id: id.into() });
            continue;
        };
        let item_type = item_type_of(&item);
        if is_non_replayable(item_type) {
            out.notes.push(ReplayNote::NotReplayable {
                id: id.into(),
                item_type: item_type.into(),
            });
            continue;
        }
        let kind = Kind::of(item_type);
        // Pairing uses the stored call id (a generated default pairs with nothing).
        let call_id = raw_call_id(raw).to_string();
        entries.push(Entry::Item {
            id,
            item,
            kind,
            call_id,
        });
    }

    // Call ids with both a call and an output among this message's usable items.
    let mut calls = HashSet::new();
    let mut outputs = HashSet::new();
    for e in &entries {
        if let Entry::Item { kind, call_id, .. } = e {
            if call_id.is_empty() {
                continue;
            }
            match kind {
                Kind::Call => calls.insert(call_id.as_str()),
                Kind::Output => outputs.insert(call_id.as_str()),
                _ => false,
            };
        }
    }
    let paired: HashSet<&str> = calls.intersection(&outputs).copied().collect();

    // Pass 2: emit in order. An output stored before its call (the reference could
    // misalign them) waits until its call has been emitted.
    let prune = turn.is_old(settings.tool_output_retention_turns);
    let mut emitted_calls: HashSet<&str> = HashSet::new();
    let mut waiting: HashMap<&str, Vec<Value>> = HashMap::new();
    for e in &entries {
        let (id, item, kind, call_id) = match e {
            Entry::Text(t) => {
                let t = t.trim();
                if !t.is_empty() {
                    out.items.push(assistant_text_item(t));
                }
                continue;
            }
            Entry::Item {
                id,
                item,
                kind,
                call_id,
            } => (*id, item, *kind, call_id.as_str()),
        };
        let mut item = item.clone();
        match kind {
            Kind::Call | Kind::Output if !paired.contains(call_id) => {
                out.notes.push(ReplayNote::Orphaned {
                    id: id.into(),
                    item_type: item_type_of(&item).into(),
                    call_id: call_id.into(),
                });
            }
            Kind::Call => {
                out.items.push(item);
                emitted_calls.insert(call_id);
                if let Some(outs) = waiting.remove(call_id) {
                    out.items.extend(outs);
                }
            }
            Kind::Output => {
                if prune {
                    if let Some(removed) =
                        prune_tool_output(&mut item, settings.tool_output_retention_turns)
                    {
                        out.notes.push(ReplayNote::Pruned {
                            id: id.into(),
                            removed_chars: removed,
                        });
                    }
                }
                if emitted_calls.contains(call_id) {
                    out.items.push(item);
                } else {
                    waiting.entry(call_id).or_default().push(item);
                }
            }
            Kind::Reasoning => {
                if settings.retention == ReasoningRetention::NextReply {
                    out.reasoning_to_delete.push(id.to_string());
                }
                out.items.push(item);
            }
            Kind::Other => out.items.push(item),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reasoning,
    Call,
    Output,
    Other,
}

impl Kind {
    fn of(item_type: &str) -> Self {
        if item_type.eq_ignore_ascii_case("reasoning") {
            Self::Reasoning
        } else if item_type.eq_ignore_ascii_case("function_call") {
            Self::Call
        } else if item_type.eq_ignore_ascii_case("function_call_output") {
            Self::Output
        } else {
            Self::Other
        }
    }
}

fn item_type_of(item: &Value) -> &str {
    item.get("type").and_then(Value::as_str).unwrap_or("")
}

fn raw_call_id(item: &Value) -> &str {
    item.get("call_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
}

/// Shortens a long `function_call_output` of an old turn: the first 256 and last 128
/// characters are kept around a note. Returns the number of characters removed, or
/// `None` when nothing changed (not an output, shorter than 800 characters).
pub fn prune_tool_output(item: &mut Value, retention_turns: usize) -> Option<usize> {
    if !item_type_of(item).eq_ignore_ascii_case("function_call_output") {
        return None;
    }
    let text = match item.get("output")? {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        other => super::codec::compact_json(other),
    };
    let pruned = pruned_text(&text, retention_turns)?;
    item["output"] = Value::String(pruned.0);
    Some(pruned.1)
}

/// The pruned form of `text` and the number of characters removed.
pub fn pruned_text(text: &str, retention_turns: usize) -> Option<(String, usize)> {
    let len = text.chars().count();
    if len < PRUNE_MIN_CHARS {
        return None;
    }
    let head_end = text
        .char_indices()
        .nth(PRUNE_HEAD_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let tail_start = text
        .char_indices()
        .nth(len.saturating_sub(PRUNE_TAIL_CHARS))
        .map_or(text.len(), |(i, _)| i);
    let head = text[..head_end].trim_end();
    let tail = text[tail_start..].trim_start();
    let removed = len - head.chars().count() - tail.chars().count();
    if removed == 0 {
        return None;
    }
    let note = format!(
        "...\n[tool output pruned: removed {removed} char{}, older than {retention_turns} turn{}]\n...",
        if removed == 1 { "" } else { "s" },
        if retention_turns == 1 { "" } else { "s" },
    );
    let joined = [head, note.as_str(), tail]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Some((joined, removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(roles: &[&str]) -> Vec<Value> {
        roles
            .iter()
            .map(|r| json!({"role": r, "content": ""}))
            .collect()
    }

    #[test]
    fn turn_indexes_follow_the_reference_rules() {
        let t = Turns::of(&msgs(&[
            "system",
            "user",
            "user",
            "assistant",
            "tool",
            "user",
            "assistant",
        ]));
        assert_eq!(
            t.indexes,
            vec![None, Some(0), Some(0), Some(0), Some(0), Some(1), Some(1)]
        );
        assert_eq!(t.total, 2);
        // An assistant before any user message is turn 0; the first user starts turn 1.
        let t = Turns::of(&msgs(&["assistant", "user", "assistant", "user"]));
        assert_eq!(t.indexes, vec![Some(0), Some(1), Some(1), Some(2)]);
        assert_eq!(t.total, 3);
        assert_eq!(Turns::of(&[]).total, 0);
        assert_eq!(Turns::of(&msgs(&["system"])).total, 0);
    }

    #[test]
    fn old_turn_window() {
        let w = |i, n| TurnWindow {
            turn_index: Some(i),
            total_turns: n,
        };
        assert!(!w(0, 10).is_old(10));
        assert!(w(0, 11).is_old(10));
        assert!(!w(1, 11).is_old(10));
        assert!(!w(0, 100).is_old(0), "0 disables pruning");
        assert!(!TurnWindow {
            turn_index: None,
            total_turns: 50
        }
        .is_old(1));
    }

    #[test]
    fn pruned_text_matches_the_reference_layout() {
        let text = format!("{}{}{}", "h".repeat(256), "m".repeat(500), "t".repeat(128));
        let (p, removed) = pruned_text(&text, 3).unwrap();
        assert_eq!(removed, 500);
        assert_eq!(
            p,
            format!(
                "{}\n...\n[tool output pruned: removed 500 chars, older than 3 turns]\n...\n{}",
                "h".repeat(256),
                "t".repeat(128)
            )
        );
        assert!(pruned_text(&"x".repeat(799), 3).is_none());
        // Characters, not bytes; whitespace at the cut is trimmed and counted as removed.
        let text = format!(
            "{}  {}  {}",
            "é".repeat(254),
            "ü".repeat(420),
            "ø".repeat(126)
        );
        let (p, removed) = pruned_text(&text, 1).unwrap();
        assert_eq!(removed, 424);
        assert!(p.starts_with(&"é".repeat(254)));
        assert!(p.contains("removed 424 chars, older than 1 turn]"));
        assert!(p.ends_with(&"ø".repeat(126)));
    }
}
