//! One Responses stream event, parsed once into borrowed fields.
//!
//! The mapper sees up to a million events per second, most of them small text deltas.
//! Parsing into a `serde_json::Value` would build a map per event; instead only the fields
//! the mapper reads are kept, strings borrow from the SSE payload when they contain no
//! escapes, and everything else (`logprobs`, `sequence_number`, …) is skipped.
//!
//! Every field is optional and tolerant of the wrong JSON type (a field of an unexpected
//! type reads as absent): a surprising payload must never make us drop the event.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::json::{repair_lone_surrogates, scrub_str, scrub_value};

type Str<'a> = Option<Cow<'a, str>>;

#[derive(Debug, Default, Deserialize)]
pub struct Event<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "lenient_str")]
    pub kind: Str<'a>,
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub delta: Str<'a>,
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub text: Str<'a>,
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub arguments: Str<'a>,
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub item_id: Str<'a>,
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub name: Str<'a>,
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub message: Str<'a>,
    #[serde(default, deserialize_with = "lenient_index")]
    pub output_index: Option<u64>,
    #[serde(default, deserialize_with = "lenient_index")]
    pub content_index: Option<u64>,
    #[serde(default, deserialize_with = "lenient_index")]
    pub summary_index: Option<u64>,
    #[serde(default)]
    pub part: Option<Value>,
    #[serde(default)]
    pub item: Option<Value>,
    #[serde(default)]
    pub response: Option<Value>,
    #[serde(default)]
    pub annotation: Option<Value>,
    #[serde(default)]
    pub error: Option<Value>,
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(default)]
    pub provider: Option<Value>,
}

/// A parsed event and whether it needed the lone-surrogate repair (then its `delta` may
/// hold stand-ins for [`super::json::SurrogateCarry`]; all other strings were scrubbed).
#[derive(Debug)]
pub struct Parsed<'a> {
    pub event: Event<'a>,
    pub repaired: bool,
}

impl Event<'_> {
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("")
    }
}

/// Parses one SSE `data` payload. `scratch` holds the repaired text when the payload had
/// lone surrogate escapes. `None` means the payload is not a JSON object at all.
pub fn parse_event<'a>(data: &'a str, scratch: &'a mut String) -> Option<Parsed<'a>> {
    if let Ok(event) = serde_json::from_str::<Event<'a>>(data) {
        return Some(Parsed {
            event,
            repaired: false,
        });
    }
    if !repair_lone_surrogates(data, scratch) {
        return None;
    }
    let fixed: &'a String = scratch;
    let mut event = serde_json::from_str::<Event<'a>>(fixed).ok()?;
    for s in [
        &mut event.kind,
        &mut event.text,
        &mut event.arguments,
        &mut event.item_id,
        &mut event.name,
        &mut event.message,
    ]
    .into_iter()
    .flatten()
    {
        if let Cow::Owned(clean) = scrub_str(s) {
            *s = Cow::Owned(clean);
        }
    }
    for v in [
        &mut event.part,
        &mut event.item,
        &mut event.response,
        &mut event.annotation,
        &mut event.error,
        &mut event.code,
        &mut event.provider,
    ]
    .into_iter()
    .flatten()
    {
        scrub_value(v);
    }
    Some(Parsed {
        event,
        repaired: true,
    })
}

/// Visitor methods that read any other JSON shape (booleans, null, arrays, objects)
/// as "no value" instead of failing the whole event.
macro_rules! other_shapes_are_none {
    ($de:lifetime) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<$de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<$de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}

fn lenient_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        other_shapes_are_none!('de);
    }
    d.deserialize_any(V)
}

fn lenient_index<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an index")
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(u64::try_from(v).ok())
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            let ok = v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e15;
            Ok(ok.then_some(v as u64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
        other_shapes_are_none!('de);
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_borrows_and_ignores_unknown_fields() {
        let data = r#"{"type":"response.output_text.delta","output_index":1,"item_id":"m","content_index":0,"delta":"Hi","logprobs":[{"x":1}],"sequence_number":4}"#;
        let mut scratch = String::new();
        let p = parse_event(data, &mut scratch).unwrap();
        assert!(!p.repaired);
        assert_eq!(p.event.kind(), "response.output_text.delta");
        assert!(matches!(p.event.delta, Some(Cow::Borrowed("Hi"))));
        assert_eq!(p.event.output_index, Some(1));
    }

    #[test]
    fn wrong_types_read_as_absent() {
        let data = r#"{"type":"x","delta":{"a":[1]},"output_index":"3","item_id":7,"error":null}"#;
        let mut scratch = String::new();
        let p = parse_event(data, &mut scratch).unwrap();
        assert_eq!(p.event.delta, None);
        assert_eq!(p.event.item_id, None);
        assert_eq!(p.event.output_index, Some(3));
        assert_eq!(p.event.error, None);
    }

    #[test]
    fn lone_surrogate_event_is_repaired_not_dropped() {
        let data = r#"{"type":"response.output_text.delta","delta":"\ud83d","text":"\ude00"}"#;
        let mut scratch = String::new();
        let p = parse_event(data, &mut scratch).unwrap();
        assert!(p.repaired);
        assert_eq!(p.event.text.as_deref(), Some("\u{FFFD}"));
        assert_ne!(
            p.event.delta.as_deref(),
            Some("\u{FFFD}"),
            "delta keeps its stand-in"
        );
    }

    #[test]
    fn garbage_is_none() {
        let mut scratch = String::new();
        assert!(parse_event("not json", &mut scratch).is_none());
        assert!(parse_event(r#"{"type":"x""#, &mut scratch).is_none());
    }
}
