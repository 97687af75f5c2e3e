//! Making untrusted error text safe to show and to log.
//!
//! Provider messages and raw bodies can echo request headers back (a misconfigured proxy
//! page, a debugging upstream). Whatever we display or log goes through [`redact`] first so
//! an API key or `Authorization` value never reaches the chat or the log files.

/// Replaces OpenRouter/OpenAI-style keys (`sk-or-v1-…`, `sk-…`) and `Bearer <token>` values.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let key = find_key(rest);
        let bearer = find_ci(rest, "bearer ");
        let next = match (key, bearer) {
            (Some(k), Some(b)) => Some(k.min(b)),
            (k, b) => k.or(b),
        };
        let Some(at) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if Some(at) == bearer {
            let token_start = "bearer ".len();
            let spaces = tail[token_start..].len() - tail[token_start..].trim_start().len();
            let after = &tail[token_start + spaces..];
            let token_len = token_chars(after);
            out.push_str(&tail[..token_start]);
            out.push_str("[redacted]");
            rest = &after[token_len..];
        } else {
            let len = token_chars(tail);
            out.push_str("sk-[redacted]");
            rest = &tail[len..];
        }
    }
}

/// Position of the first `sk-` token long enough to be a key (and not part of a word).
fn find_key(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(off) = text[from..].find("sk-") {
        let at = from + off;
        let word_start = at == 0 || !is_token_byte(bytes[at - 1]);
        if word_start && token_chars(&text[at..]) >= 20 {
            return Some(at);
        }
        from = at + 3;
    }
    None
}

fn find_ci(text: &str, needle: &str) -> Option<usize> {
    let hay = text.as_bytes();
    let n = needle.as_bytes();
    (0..hay.len().saturating_sub(n.len() - 1))
        .find(|&i| hay[i..i + n.len()].eq_ignore_ascii_case(n))
}

fn starts_with_ci(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/' | b'=')
}

fn token_chars(text: &str) -> usize {
    text.bytes().take_while(|&b| is_token_byte(b)).count()
}

/// At most `max` bytes (cut on a character boundary), with a note when something was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes total]", &text[..end], text.len())
}

/// One line for inline display: whitespace collapsed, `<` neutralised so no HTML tag
/// can open (Open WebUI's markdown renders some raw HTML), length bounded.
pub fn inline(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let safe = collapsed.replace('<', "&lt;");
    truncate(&safe, max)
}

/// Whether a body is an HTML page (gateway error pages, captive portals).
pub fn looks_like_html(body: &str) -> bool {
    let head = body.trim_start();
    let head = &head[..head.len().min(256)];
    let lower = head.to_ascii_lowercase();
    lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.contains("<head")
}

/// The `<title>` of an HTML page, if any.
pub fn html_title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let title = body.get(open_end..close)?.trim();
    (!title.is_empty()).then(|| title.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Visible text of an HTML page: tags, scripts and styles removed, whitespace collapsed.
pub fn html_text(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    let mut skip_until: Option<&str> = None;
    while !rest.is_empty() {
        if let Some(end_tag) = skip_until {
            match find_ci(rest, end_tag) {
                Some(i) => rest = &rest[i..],
                None => break,
            }
            skip_until = None;
        }
        match rest.find('<') {
            Some(lt) => {
                out.push_str(&rest[..lt]);
                out.push(' ');
                let tag = &rest[lt..];
                if starts_with_ci(tag, "<script") {
                    skip_until = Some("</script");
                } else if starts_with_ci(tag, "<style") {
                    skip_until = Some("</style");
                }
                rest = match tag.find('>') {
                    Some(gt) => &tag[gt + 1..],
                    None => "",
                };
            }
            None => {
                out.push_str(rest);
                rest = "";
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_bearer_tokens_are_redacted() {
        let key = "sk-or-v1-0123456789abcdef0123456789abcdef";
        let text = format!("bad key {key}, header Authorization: Bearer {key} and BEARER abc.def");
        let out = redact(&text);
        assert!(!out.contains("0123456789abcdef"), "{out}");
        assert!(!out.contains("abc.def"), "{out}");
        assert!(out.contains("sk-[redacted]"));
        assert!(out.contains("Bearer [redacted]"));
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "task-sk-1 is short; disk-space ok; sk- alone";
        assert_eq!(redact(text), text);
        assert_eq!(redact("ünïcödé sk-"), "ünïcödé sk-");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let s = "é".repeat(10);
        let t = truncate(&s, 5);
        assert!(t.starts_with("éé"));
        assert!(t.contains("20 bytes total"));
        assert_eq!(truncate("short", 10), "short");
    }

    #[test]
    fn html_pages_are_reduced_to_text() {
        let page = "<!DOCTYPE html><html><head><title> 502 Bad\n Gateway </title><style>p{x:1}</style></head>\
                    <body><script>var a=1;</script><h1>Bad gateway</h1><p>cloudflare</p></body></html>";
        assert!(looks_like_html(page));
        assert_eq!(html_title(page).as_deref(), Some("502 Bad Gateway"));
        assert_eq!(html_text(page), "502 Bad Gateway Bad gateway cloudflare");
        assert!(!looks_like_html("{\"error\":1}"));
    }

    #[test]
    fn inline_neutralises_html() {
        assert_eq!(inline("a <b>\n c > d", 100), "a &lt;b> c > d");
    }
}
