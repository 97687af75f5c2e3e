//! Keeps secrets out of logs and error messages.

/// Replaces anything that looks like an OpenRouter key (`sk-or-…`) or a bearer token
/// with a fixed placeholder.
pub fn redact(text: &str) -> String {
    if !text.contains("sk-") && !text.to_ascii_lowercase().contains("bearer ") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let lower = rest.to_ascii_lowercase();
        let key_at = rest.find("sk-");
        let bearer_at = lower.find("bearer ");
        let (at, skip) = match (key_at, bearer_at) {
            (Some(k), Some(b)) if b < k => (b, "bearer ".len()),
            (Some(k), _) => (k, 0),
            (None, Some(b)) => (b, "bearer ".len()),
            (None, None) => {
                out.push_str(rest);
                break;
            }
        };
        out.push_str(&rest[..at + skip]);
        let token_start = at + skip;
        let token_len = rest[token_start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | ')' | '`'))
            .unwrap_or(rest.len() - token_start);
        if token_len > 0 {
            out.push_str("[redacted]");
        }
        rest = &rest[token_start + token_len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn keys_and_bearer_tokens_are_removed() {
        let s = redact("key sk-or-v1-abc123 and Authorization: Bearer xyz.789, ok");
        assert!(!s.contains("abc123") && !s.contains("xyz.789"), "{s}");
        assert!(s.contains("ok"));
    }

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(redact("nothing secret here"), "nothing secret here");
    }
}
