//! Tool arguments some models write as a Python literal instead of JSON
//! (`{'city': 'Paris', 'metric': True}`): the reference pipe falls back to
//! `ast.literal_eval` for them, so a call it would run runs here too. Only literals:
//! dicts, lists, tuples, strings (either quote, the usual escapes), numbers, `True`,
//! `False`, `None`. Anything else (names, calls, operators) is not a literal.

use serde_json::{Map, Number, Value};

/// The value of `text` as a Python literal, or `None` when it is not one.
pub fn parse(text: &str) -> Option<Value> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.space();
    (p.at == p.s.len()).then_some(v)
}

/// Nesting deeper than this is refused (a hostile argument string cannot exhaust the
/// stack).
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'{' => self.nested(|p| p.dict()),
            b'[' => self.nested(|p| p.sequence(b'[', b']')),
            b'(' => self.nested(|p| p.sequence(b'(', b')')),
            b'\'' | b'"' => self.string().map(Value::String),
            b'-' | b'+' | b'.' | b'0'..=b'9' => self.number(),
            _ => self.word(),
        }
    }

    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Option<Value>) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn dict(&mut self) -> Option<Value> {
        self.eat(b'{');
        let mut map = Map::new();
        loop {
            if self.eat(b'}') {
                return Some(Value::Object(map));
            }
            let key = match self.value()? {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => if b { "True" } else { "False" }.to_owned(),
                _ => return None,
            };
            if !self.eat(b':') {
                return None;
            }
            map.insert(key, self.value()?);
            if !self.eat(b',') {
                return self.eat(b'}').then_some(Value::Object(map));
            }
        }
    }

    fn sequence(&mut self, open: u8, close: u8) -> Option<Value> {
        self.eat(open);
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(Value::Array(items));
            }
            items.push(self.value()?);
            if !self.eat(b',') {
                return self.eat(close).then_some(Value::Array(items));
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        let quote = self.s[self.at];
        self.at += 1;
        let mut out = Vec::new();
        while let Some(&b) = self.s.get(self.at) {
            self.at += 1;
            match b {
                _ if b == quote => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.at)?;
                    self.at += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'0' => out.push(0),
                        b'u' => {
                            let hex =
                                std::str::from_utf8(self.s.get(self.at..self.at + 4)?).ok()?;
                            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                            self.at += 4;
                            out.extend_from_slice(c.to_string().as_bytes());
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                b'\n' => return None,
                _ => out.push(b),
            }
        }
        None
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        while self.s.get(self.at).is_some_and(|b| {
            b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'_')
        }) {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.at])
            .ok()?
            .replace('_', "");
        if let Ok(i) = text.parse::<i64>() {
            return Some(Value::Number(i.into()));
        }
        Number::from_f64(text.parse::<f64>().ok()?).map(Value::Number)
    }

    fn word(&mut self) -> Option<Value> {
        let start = self.at;
        while self.s.get(self.at).is_some_and(u8::is_ascii_alphabetic) {
            self.at += 1;
        }
        match &self.s[start..self.at] {
            b"True" => Some(Value::Bool(true)),
            b"False" => Some(Value::Bool(false)),
            b"None" => Some(Value::Null),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_json::json;

    #[test]
    fn python_literals_become_json() {
        assert_eq!(
            parse("{'city': 'Paris', 'days': 3, 'metric': True, 'note': None}"),
            Some(json!({"city": "Paris", "days": 3, "metric": true, "note": null}))
        );
        assert_eq!(
            parse(r#"{"q": 'it\'s', 'tags': ('a', "b",), 'x': -1.5e2}"#),
            Some(json!({"q": "it's", "tags": ["a", "b"], "x": -150.0}))
        );
        assert_eq!(
            parse("{'a': {'b': [1, 2, {}]}}"),
            Some(json!({"a": {"b": [1, 2, {}]}}))
        );
    }

    #[test]
    fn anything_that_is_not_a_literal_is_refused() {
        for text in [
            "{'a': open('x')}",
            "{'a': 1",
            "{'a' 1}",
            "{'a': 1} trailing",
            "__import__('os')",
            "{'a': 'unterminated}",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(parse(&deep), None);
    }
}
