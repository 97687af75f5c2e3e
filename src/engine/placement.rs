//! Where a marker line goes in the streamed answer.
//!
//! Every stored item leaves a hidden marker line at the point of the answer where it
//! happened, so the next turn can replay it in true order. A started item's marker waits
//! until the next answer text (or the item's end, whichever comes first): a marker is
//! answer text, and Open WebUI 0.12.4 files reasoning that arrives after any answer text
//! as already finished ("Thought for less than a second" while the model still thinks,
//! `duration: 0` saved). OpenRouter ends a reasoning item only after the message that
//! followed it, so waiting for the end alone would put the marker after the text it
//! preceded. An item that never ends leaves no marker (nothing was stored). A marker line must follow a
//! blank line, and never lands inside a code fence (it would show as text): those wait
//! and are placed when the answer ends. This module only places; what is stored, and
//! whether at all, is the artifact session's business ([`super::artifacts`]).

use std::collections::HashMap;

use crate::artifacts::markers;
use crate::emit::Emit;
use crate::ids;

/// Where the answer text stands, enough to place a marker line correctly.
#[derive(Debug, Default)]
struct TextShape {
    /// The last few characters, enough for [`markers::marker_insertion`] to tell
    /// whether a blank line is needed first.
    tail: String,
    at_line_start: bool,
    in_fence: bool,
    seen: bool,
}

impl TextShape {
    fn feed(&mut self, text: &str) {
        for line in text.split_inclusive('\n') {
            if (self.at_line_start || !self.seen) && line.trim_start().starts_with("```") {
                self.in_fence = !self.in_fence;
            }
            self.seen = true;
            self.at_line_start = line.ends_with('\n');
        }
        let keep: String = self.tail.chars().chain(text.chars()).collect();
        let start = keep.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
        self.tail = keep[start..].to_string();
    }
}

/// An item's marker id and what to emit now to place it (nothing when the item's
/// marker was placed earlier, or waits for the end of a code fence).
#[derive(Debug)]
pub struct Placed {
    pub id: String,
    pub emits: Vec<Emit>,
}

/// Marker placement for one answer.
#[derive(Debug, Default)]
pub struct MarkerPlacement {
    shape: TextShape,
    /// Stream keys of started items, and their marker ids.
    started: HashMap<String, String>,
    /// Markers of started items, not placed yet: they go before the next answer text.
    waiting: Vec<String>,
    deferred: Vec<String>,
}

impl MarkerPlacement {
    /// Answer text on its way to the user; returns the markers that must go before it.
    pub fn text(&mut self, text: &str) -> Vec<Emit> {
        if text.is_empty() {
            return Vec::new();
        }
        let waiting = std::mem::take(&mut self.waiting);
        let mut emits = Vec::new();
        for id in waiting {
            emits.extend(self.place(id));
        }
        self.shape.feed(text);
        emits
    }

    /// A streamed item began: its marker waits for the next answer text or its end.
    pub fn item_started(&mut self, key: String) {
        let id = ids::new_id();
        self.started.insert(key, id.clone());
        self.waiting.push(id);
    }

    /// A streamed item is complete: it keeps the marker placed since it started, is
    /// placed here when it still waits, or gets one here when its start was not seen.
    pub fn item_done(&mut self, key: &str) -> Placed {
        let Some(id) = self.started.remove(key) else {
            return self.engine_item();
        };
        match self.waiting.iter().position(|w| *w == id) {
            Some(at) => {
                self.waiting.remove(at);
                let emits = self.place(id.clone());
                Placed { id, emits }
            }
            None => Placed {
                id,
                emits: Vec::new(),
            },
        }
    }

    /// An item the engine produced itself (a tool's `function_call_output`): its
    /// marker goes at this point of the answer.
    pub fn engine_item(&mut self) -> Placed {
        let id = ids::new_id();
        let emits = self.place(id.clone());
        Placed { id, emits }
    }

    /// Markers that waited for a code fence to close, placed at the end of the answer.
    pub fn closing(&mut self) -> Vec<Emit> {
        let ids = std::mem::take(&mut self.deferred);
        self.insert(&ids)
    }

    fn place(&mut self, id: String) -> Vec<Emit> {
        if self.shape.in_fence {
            self.deferred.push(id);
            return Vec::new();
        }
        self.insert(&[id])
    }

    fn insert(&mut self, ids: &[String]) -> Vec<Emit> {
        if ids.is_empty() {
            return Vec::new();
        }
        let text = markers::marker_insertion(&self.shape.tail, ids);
        self.shape.feed(&text);
        vec![Emit::Content(text)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(emits: &[Emit]) -> String {
        emits
            .iter()
            .map(|e| match e {
                Emit::Content(t) => t.as_str(),
                other => panic!("unexpected emit {other:?}"),
            })
            .collect()
    }

    /// Streams `text` as answer text, keeping the whole answer in `out`.
    fn answer(placement: &mut MarkerPlacement, text: &str, out: &mut String) {
        out.push_str(&text_of(&placement.text(text)));
        out.push_str(text);
    }

    #[test]
    fn a_marker_after_text_starts_after_a_blank_line() {
        let mut placement = MarkerPlacement::default();
        let mut out = String::new();
        answer(&mut placement, "Hello", &mut out);
        let placed = placement.engine_item();
        let marker = text_of(&placed.emits);
        assert_eq!(
            marker,
            format!("\n\n{}\n\n", markers::marker_line(&placed.id))
        );
        out.push_str(&marker);
        answer(&mut placement, "after", &mut out);
        assert_eq!(markers::marker_ids(&out), vec![placed.id.as_str()]);
        assert_eq!(markers::strip(&out), "Hello\n\nafter");
    }

    #[test]
    fn a_started_item_is_marked_before_the_next_text_not_at_its_start() {
        let mut placement = MarkerPlacement::default();
        let mut out = String::new();
        placement.item_started("r1".into());
        assert!(out.is_empty(), "nothing shows while the item streams");
        answer(&mut placement, "The answer.", &mut out);
        let done = placement.item_done("r1");
        assert!(done.emits.is_empty(), "placed once");
        assert_eq!(markers::marker_ids(&out), vec![done.id.as_str()]);
        assert!(out.ends_with("]: #\n\nThe answer."), "{out:?}");
    }

    #[test]
    fn a_started_item_that_ends_before_any_text_is_marked_at_its_end() {
        let mut placement = MarkerPlacement::default();
        placement.item_started("r1".into());
        let done = placement.item_done("r1");
        assert_eq!(
            markers::marker_ids(&text_of(&done.emits)),
            vec![done.id.as_str()]
        );
        assert!(placement.text("after").is_empty());
    }

    #[test]
    fn an_item_that_never_ends_leaves_no_marker() {
        let mut placement = MarkerPlacement::default();
        placement.item_started("cut-off".into());
        assert!(placement.closing().is_empty());
    }

    #[test]
    fn an_item_done_without_its_start_is_placed_then() {
        let mut placement = MarkerPlacement::default();
        placement.text("text\n");
        let done = placement.item_done("never-started");
        assert_eq!(
            markers::marker_ids(&text_of(&done.emits)),
            vec![done.id.as_str()]
        );
    }

    #[test]
    fn markers_inside_a_code_fence_wait_for_the_end() {
        let mut placement = MarkerPlacement::default();
        placement.text("Look:\n```rust\nfn main() {}\n");
        let inside = placement.engine_item();
        assert!(inside.emits.is_empty());
        placement.item_started("t1".into());
        assert!(placement.text("more code\n").is_empty());
        placement.text("```\n");
        let closing = text_of(&placement.closing());
        let started = placement.item_done("t1").id;
        assert_eq!(
            markers::marker_ids(&closing),
            vec![inside.id.as_str(), started.as_str()]
        );
        assert!(placement.closing().is_empty(), "placed once");
    }

    #[test]
    fn a_fence_opened_mid_line_is_no_fence() {
        let mut placement = MarkerPlacement::default();
        placement.text("say ```not a fence\n");
        assert_eq!(placement.engine_item().emits.len(), 1);
    }

    #[test]
    fn a_closed_fence_lets_markers_through_again() {
        let mut placement = MarkerPlacement::default();
        placement.text("```\ncode\n```\n");
        assert_eq!(placement.engine_item().emits.len(), 1);
        assert!(placement.closing().is_empty());
    }

    #[test]
    fn the_shape_follows_multibyte_text() {
        let mut placement = MarkerPlacement::default();
        placement.text("héllo wörld ✓\n\n");
        let placed = placement.engine_item();
        assert_eq!(
            text_of(&placed.emits),
            format!("{}\n\n", markers::marker_line(&placed.id))
        );
    }
}
