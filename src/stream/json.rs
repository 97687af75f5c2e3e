//! Lenient JSON for stream events: lone UTF-16 surrogate escapes.
//!
//! Some upstreams cut a delta between the two halves of a surrogate pair and escape each
//! half on its own: one event carries `"\ud83d"`, the next `"\ude00 and "`. Strict parsers
//! (`serde_json` included) reject both events, which would silently drop text. We rewrite
//! each *lone* surrogate escape into a stand-in character before parsing, then either
//! rejoin the halves across deltas ([`SurrogateCarry`]) or turn them into U+FFFD.
//!
//! The stand-ins live at the very top of Supplementary Private Use Area-B
//! (`U+10F800 + (unit - 0xD800)`, 2048 code points up to U+10FFFF). They are only
//! interpreted in events that went through the repair path, i.e. events a strict parser
//! refused, so a model legitimately printing those private-use characters is unaffected
//! everywhere else.

use std::borrow::Cow;

use serde_json::Value;

const STANDIN_BASE: u32 = 0x10_F800;

fn is_high(unit: u16) -> bool {
    (0xD800..=0xDBFF).contains(&unit)
}

fn is_low(unit: u16) -> bool {
    (0xDC00..=0xDFFF).contains(&unit)
}

fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = bytes.get(at..at + 4)?;
    let mut value = 0u16;
    for &d in digits {
        let v = (d as char).to_digit(16)?;
        value = value << 4 | v as u16;
    }
    Some(value)
}

fn standin(unit: u16) -> char {
    char::from_u32(STANDIN_BASE + u32::from(unit - 0xD800)).unwrap_or('\u{FFFD}')
}

/// The surrogate code unit a stand-in character represents.
fn standin_unit(c: char) -> Option<u16> {
    let v = c as u32;
    (v >= STANDIN_BASE).then(|| (v - STANDIN_BASE + 0xD800) as u16)
}

/// Copies `src` into `out`, replacing every escape of a lone surrogate (`\uD83D` not
/// followed by a low-surrogate escape, or a low one with no high before it) by its
/// stand-in character. Valid pairs are left alone. Returns whether anything changed.
pub fn repair_lone_surrogates(src: &str, out: &mut String) -> bool {
    out.clear();
    let bytes = src.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    let mut changed = false;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'\\') {
        let p = i + off;
        if bytes.get(p + 1) != Some(&b'u') {
            i = (p + 2).min(bytes.len()); // skips `\\`, `\"`, … (ASCII escapes)
            continue;
        }
        let Some(unit) = hex4(bytes, p + 2) else {
            i = p + 2;
            continue;
        };
        i = p + 6;
        if is_high(unit) {
            let paired = bytes.get(p + 6) == Some(&b'\\')
                && bytes.get(p + 7) == Some(&b'u')
                && hex4(bytes, p + 8).is_some_and(is_low);
            if paired {
                i = p + 12;
                continue;
            }
        } else if !is_low(unit) {
            continue;
        }
        out.push_str(&src[copied..p]);
        out.push(standin(unit));
        copied = p + 6;
        changed = true;
    }
    out.push_str(&src[copied..]);
    changed
}

/// Replaces stand-ins by U+FFFD in a string that will not be rejoined with anything.
pub fn scrub_str(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| standin_unit(c).is_some()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if standin_unit(c).is_some() {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// [`scrub_str`] over every string (keys included) of a JSON value.
pub fn scrub_value(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = scrub_str(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_value),
        Value::Object(map) => {
            let dirty = map.keys().any(|k| matches!(scrub_str(k), Cow::Owned(_)));
            if dirty {
                let old = std::mem::take(map);
                for (k, mut v) in old {
                    scrub_value(&mut v);
                    map.insert(scrub_str(&k).into_owned(), v);
                }
            } else {
                map.values_mut().for_each(scrub_value);
            }
        }
        _ => {}
    }
}

/// Rejoins a high surrogate that ended one delta with the low surrogate that starts the
/// next delta of the same stream (answer text or reasoning keep separate carries).
#[derive(Debug, Default, Clone)]
pub struct SurrogateCarry {
    pending_high: Option<u16>,
}

impl SurrogateCarry {
    /// Text to show for `delta`. `repaired` says whether the event went through
    /// [`repair_lone_surrogates`]; only then can it hold stand-ins. Borrowed in the
    /// common case (nothing pending, nothing repaired).
    pub fn apply<'s>(&mut self, delta: &'s str, repaired: bool) -> Cow<'s, str> {
        if !repaired {
            return match self.pending_high.take() {
                None => Cow::Borrowed(delta),
                Some(_) => Cow::Owned(format!("\u{FFFD}{delta}")),
            };
        }
        let mut out = String::with_capacity(delta.len() + 4);
        let mut chars = delta.chars().peekable();
        if let Some(high) = self.pending_high.take() {
            match chars.peek().copied().and_then(standin_unit) {
                Some(low) if is_low(low) => {
                    chars.next();
                    out.push(combine(high, low));
                }
                _ => out.push('\u{FFFD}'),
            }
        }
        while let Some(c) = chars.next() {
            match standin_unit(c) {
                None => out.push(c),
                Some(unit) if is_high(unit) => match chars.peek().copied().and_then(standin_unit) {
                    Some(low) if is_low(low) => {
                        chars.next();
                        out.push(combine(unit, low));
                    }
                    None if chars.peek().is_none() => self.pending_high = Some(unit),
                    _ => out.push('\u{FFFD}'),
                },
                Some(_) => out.push('\u{FFFD}'),
            }
        }
        Cow::Owned(out)
    }

    /// The stream of this kind ended: a still-pending half becomes U+FFFD.
    pub fn flush(&mut self) -> Option<&'static str> {
        self.pending_high.take().map(|_| "\u{FFFD}")
    }

    /// Whether a high surrogate is held, waiting for its low half.
    #[cfg(test)]
    pub fn is_pending(&self) -> bool {
        self.pending_high.is_some()
    }
}

fn combine(high: u16, low: u16) -> char {
    let code = 0x1_0000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
    char::from_u32(code).unwrap_or('\u{FFFD}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(src: &str) -> (String, bool) {
        let mut out = String::new();
        let changed = repair_lone_surrogates(src, &mut out);
        (out, changed)
    }

    #[test]
    fn strict_parser_rejects_what_we_repair() {
        assert!(serde_json::from_str::<Value>(r#""\ud83d""#).is_err());
        assert!(serde_json::from_str::<Value>(r#""\ude00 and ""#).is_err());
        let (fixed, changed) = repaired(r#"{"delta":"\ud83d"}"#);
        assert!(changed);
        assert!(serde_json::from_str::<Value>(&fixed).is_ok());
    }

    #[test]
    fn valid_pairs_and_other_escapes_are_untouched() {
        let src = r#"{"a":"\ud83d\ude00 \\ud83d \u00e9 \" \n"}"#;
        let (fixed, changed) = repaired(src);
        assert!(!changed);
        assert_eq!(fixed, src);
    }

    #[test]
    fn escaped_backslash_before_u_is_not_an_escape() {
        let (_, changed) = repaired(r#""\\ud83d""#);
        assert!(!changed);
    }

    #[test]
    fn non_ascii_after_backslash_does_not_panic() {
        let (_, changed) = repaired("\"\\é\\u12\"");
        assert!(!changed);
    }

    fn decode(src: &str) -> String {
        let (fixed, _) = repaired(src);
        serde_json::from_str::<String>(&fixed).unwrap()
    }

    #[test]
    fn carry_rejoins_split_pair_across_deltas() {
        let mut carry = SurrogateCarry::default();
        let a = decode(r#""x\ud83d""#);
        let b = decode(r#""\ude00 and ""#);
        let mut shown = carry.apply(&a, true).into_owned();
        assert!(carry.is_pending());
        shown += &carry.apply(&b, true);
        assert_eq!(shown, "x😀 and ");
        assert_eq!(carry.flush(), None);
    }

    #[test]
    fn unpaired_halves_become_replacement_characters() {
        let mut carry = SurrogateCarry::default();
        let a = decode(r#""\ud83d""#);
        let mut shown = carry.apply(&a, true).into_owned();
        shown += &carry.apply("plain", false);
        assert_eq!(shown, "\u{FFFD}plain");

        let lone_low = decode(r#""\ude00!""#);
        assert_eq!(carry.apply(&lone_low, true), "\u{FFFD}!");

        let mid = decode(r#""a\ud83db""#);
        assert_eq!(carry.apply(&mid, true), "a\u{FFFD}b");

        let tail = decode(r#""end\ud83d""#);
        assert_eq!(carry.apply(&tail, true), "end");
        assert_eq!(carry.flush(), Some("\u{FFFD}"));
    }

    #[test]
    fn scrub_replaces_standins_everywhere() {
        let (fixed, _) = repaired(r#"{"k":["\ud83d"],"\ude00":1}"#);
        let mut v: Value = serde_json::from_str(&fixed).unwrap();
        scrub_value(&mut v);
        assert_eq!(v, serde_json::json!({"k":["\u{FFFD}"],"\u{FFFD}":1}));
    }
}
