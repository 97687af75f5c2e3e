//! Reasoning text: streaming without repeats, and the optional status-line digest.
//!
//! Providers send reasoning as deltas *and* as snapshots of the same text
//! (`…text.done`, `…part.done`, `content_part.done`, the reasoning item's
//! `output_item.done`). Users must see each sentence once, so the tracker remembers what
//! was shown per item and per part and turns every snapshot into "only what is missing".
//! Parts of one item (several summaries) and separate reasoning items are separated by a
//! blank line so headings like `**Computing the difference**` start their own paragraph.

use std::time::Duration;

use serde_json::Value;

/// Which part of a reasoning item a piece of text belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKey {
    /// `summary_index` of `reasoning_summary_*` events / `item.summary[i]`.
    Summary(u64),
    /// `content_index` of `reasoning_text.*` events / `item.content[i]`.
    Content(u64),
}

/// A delta at least this long that repeats everything shown for its part is treated as a
/// cumulative re-send. Shorter prefixes are too likely to be genuine repeats ("*" then "**").
const CUMULATIVE_MIN_LEN: usize = 8;

#[derive(Debug)]
struct ItemText {
    key: String,
    parts: Vec<(PartKey, String)>,
}

impl ItemText {
    fn part(&mut self, part: PartKey) -> &mut String {
        match self.parts.iter().rposition(|(k, _)| *k == part) {
            Some(i) => &mut self.parts[i].1,
            None => {
                self.parts.push((part, String::new()));
                &mut self.parts.last_mut().expect("just pushed").1
            }
        }
    }
}

/// Per-item memory of the reasoning already shown.
#[derive(Debug, Default)]
pub struct ReasoningTracker {
    items: Vec<ItemText>,
    /// Everything shown so far, across items, separators included.
    pub full: String,
}

impl ReasoningTracker {
    fn item(&mut self, key: &str) -> &mut ItemText {
        match self.items.iter().rposition(|i| i.key == key) {
            Some(i) => &mut self.items[i],
            None => {
                self.items.push(ItemText {
                    key: key.to_owned(),
                    parts: Vec::new(),
                });
                self.items.last_mut().expect("just pushed")
            }
        }
    }

    /// Appends `new` (non-empty) to the part and to `full`; returns the text to show,
    /// prefixed by a paragraph break when it opens a new part after earlier reasoning.
    fn append(&mut self, key: &str, part: PartKey, new: &str) -> String {
        let opens_part = self.item(key).part(part).is_empty();
        let mut shown = String::with_capacity(new.len() + 2);
        if opens_part && !self.full.is_empty() && !self.full.ends_with("\n\n") {
            shown.push_str(if self.full.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            });
        }
        shown.push_str(new);
        self.item(key).part(part).push_str(new);
        self.full.push_str(&shown);
        shown
    }

    /// A reasoning delta. Returns what to show (None when it only repeats shown text).
    pub fn delta(&mut self, key: &str, part: PartKey, text: &str) -> Option<String> {
        if text.is_empty() {
            return None;
        }
        let shown = self.item(key).part(part);
        let new = if shown.len() >= CUMULATIVE_MIN_LEN && text.starts_with(shown.as_str()) {
            &text[shown.len()..]
        } else {
            text
        };
        if new.is_empty() {
            return None;
        }
        Some(self.append(key, part, new))
    }

    /// The complete text of one part. Shows only what the deltas did not already show;
    /// a snapshot that disagrees with what was shown is not repeated (it would duplicate).
    pub fn snapshot(&mut self, key: &str, part: PartKey, text: &str) -> Option<String> {
        if text.is_empty() {
            return None;
        }
        let shown = self.item(key).part(part);
        let new = if shown.is_empty() {
            text
        } else {
            text.strip_prefix(shown.as_str())?
        };
        if new.is_empty() {
            return None;
        }
        Some(self.append(key, part, new))
    }

    /// A finished reasoning item (`output_item.done` or a non-streamed response): its
    /// `summary[]` and `content[]` texts are reconciled part by part.
    pub fn item_snapshot(&mut self, key: &str, item: &Value) -> Option<String> {
        let mut shown = String::new();
        for (field, make) in [
            ("summary", PartKey::Summary as fn(u64) -> PartKey),
            ("content", PartKey::Content as fn(u64) -> PartKey),
        ] {
            let Some(parts) = item.get(field).and_then(Value::as_array) else {
                continue;
            };
            for (i, part) in parts.iter().enumerate() {
                if let Some(text) = part.get("text").and_then(Value::as_str) {
                    if let Some(s) = self.snapshot(key, make(i as u64), text) {
                        shown.push_str(&s);
                    }
                }
            }
        }
        (!shown.is_empty()).then_some(shown)
    }
}

/// Turns streamed reasoning into occasional one-line statuses (`THINKING_OUTPUT_MODE`
/// `status`/`both`): a status per finished sentence, per 160 characters, or after 0.75 s
/// once 12 characters are waiting, so the line moves without flickering.
#[derive(Debug, Default)]
pub struct StatusThrottle {
    buf: String,
    last_emit: Option<Duration>,
}

const STATUS_MAX_CHARS: usize = 160;
const STATUS_MIN_CHARS: usize = 12;
const STATUS_MIN_GAP: Duration = Duration::from_millis(750);

impl StatusThrottle {
    /// Adds shown reasoning; returns a status description when one is due.
    pub fn feed(&mut self, delta: &str, now: Duration) -> Option<String> {
        self.buf.push_str(delta);
        let sentence_end = delta.trim_end().ends_with(['.', '!', '?', ':'].as_slice());
        let chars = self.buf.chars().count();
        let waited = self
            .last_emit
            .is_none_or(|last| now.saturating_sub(last) >= STATUS_MIN_GAP);
        if sentence_end || chars >= STATUS_MAX_CHARS || (chars >= STATUS_MIN_CHARS && waited) {
            let line = self.take();
            if line.is_some() {
                self.last_emit = Some(now);
            }
            return line;
        }
        None
    }

    /// Whatever is still buffered (end of a reasoning part or of the stream).
    pub fn flush(&mut self) -> Option<String> {
        self.take()
    }

    fn take(&mut self) -> Option<String> {
        let line = status_line(&self.buf);
        self.buf.clear();
        line
    }
}

/// One display line: markdown bold markers dropped, whitespace runs collapsed.
fn status_line(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for word in text.replace("**", "").split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snapshots_never_repeat_streamed_text() {
        let mut t = ReasoningTracker::default();
        let p0 = PartKey::Summary(0);
        assert_eq!(t.delta("rs", p0, "Hello ").as_deref(), Some("Hello "));
        assert_eq!(t.delta("rs", p0, "world").as_deref(), Some("world"));
        assert_eq!(t.snapshot("rs", p0, "Hello world"), None);
        assert_eq!(t.snapshot("rs", p0, "Hello world!").as_deref(), Some("!"));
        assert_eq!(t.snapshot("rs", p0, "Something else"), None);
        assert_eq!(t.full, "Hello world!");
    }

    #[test]
    fn parts_and_items_are_separated_by_a_blank_line() {
        let mut t = ReasoningTracker::default();
        t.delta("rs", PartKey::Summary(0), "First.");
        let second = t.delta("rs", PartKey::Summary(1), "Second.");
        assert_eq!(second.as_deref(), Some("\n\nSecond."));
        let item = json!({"summary":[{"text":"First."},{"text":"Second."}]});
        assert_eq!(t.item_snapshot("rs", &item), None);
        let other = t.snapshot("rs2", PartKey::Content(0), "Third.");
        assert_eq!(other.as_deref(), Some("\n\nThird."));
        assert_eq!(t.full, "First.\n\nSecond.\n\nThird.");
    }

    #[test]
    fn snapshot_only_item_is_shown_once() {
        let mut t = ReasoningTracker::default();
        let item = json!({"content":[{"type":"reasoning_text","text":"Raw thought"}]});
        assert_eq!(t.item_snapshot("rs", &item).as_deref(), Some("Raw thought"));
        assert_eq!(t.item_snapshot("rs", &item), None);
    }

    #[test]
    fn cumulative_deltas_are_reduced_to_their_new_suffix() {
        let mut t = ReasoningTracker::default();
        let p = PartKey::Content(0);
        t.delta("rs", p, "Thinking about it");
        let d = t.delta("rs", p, "Thinking about it carefully");
        assert_eq!(d.as_deref(), Some(" carefully"));
        // Short repeats are genuine text, not re-sends.
        let mut t = ReasoningTracker::default();
        t.delta("rs", p, "*");
        assert_eq!(t.delta("rs", p, "**").as_deref(), Some("**"));
    }

    #[test]
    fn throttle_emits_on_sentence_end_length_and_time() {
        let mut s = StatusThrottle::default();
        let t0 = Duration::ZERO;
        assert_eq!(s.feed("**Plan**\n\nI will", t0), Some("Plan I will".into()));
        assert_eq!(s.feed(" check", t0), None);
        assert_eq!(s.feed(" the year.", t0), Some("check the year.".into()));
        assert_eq!(s.feed(" more words here", Duration::from_millis(100)), None);
        assert_eq!(
            s.feed(" x", Duration::from_millis(900)),
            Some("more words here x".into())
        );
        let long = "a".repeat(170);
        assert!(s.feed(&long, Duration::from_millis(901)).is_some());
        s.feed("tail", Duration::from_millis(902));
        assert_eq!(s.flush(), Some("tail".into()));
        assert_eq!(s.flush(), None);
    }
}
