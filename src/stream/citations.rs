//! `url_citation` annotations → Open WebUI `source` events, one per distinct URL.
//!
//! The same annotation arrives up to four times (`annotation.added`, `content_part.done`,
//! the message's `output_item.done`, `response.completed`), and some providers send it
//! only in the final snapshots. Deduplicating by cleaned URL shows each source once
//! whichever copy comes first.

use std::collections::HashSet;

use serde_json::{json, Value};

#[derive(Debug, Default)]
pub struct Citations {
    seen: HashSet<String>,
    /// Distinct cited URLs, in the order they were first seen.
    pub urls: Vec<String>,
}

impl Citations {
    /// The `source` event data for one annotation, or None if it is not a new URL citation.
    pub fn annotation(&mut self, ann: &Value) -> Option<Value> {
        if ann.get("type").and_then(Value::as_str) != Some("url_citation") {
            return None;
        }
        // Chat-style annotations nest the fields under `url_citation`.
        let fields = ann
            .get("url_citation")
            .filter(|v| v.is_object())
            .unwrap_or(ann);
        let url = clean_url(fields.get("url").and_then(Value::as_str)?);
        if url.is_empty() || !self.seen.insert(url.clone()) {
            return None;
        }
        let title = non_empty(fields.get("title"));
        let excerpt = non_empty(fields.get("content"));
        let name = host(&url)
            .or_else(|| title.map(str::to_owned))
            .unwrap_or_else(|| url.clone());
        let document = excerpt.or(title).unwrap_or(&url).to_owned();
        let source = json!({
            "source": {"name": name, "url": url},
            "document": [document],
            "metadata": [{"source": url, "name": title.unwrap_or(&url)}],
        });
        self.urls.push(url);
        Some(source)
    }

    /// Sources from the `annotations` of every part in a message item's `content` array.
    pub fn sources_in_message_content(&mut self, content: Option<&Value>) -> Vec<Value> {
        let mut found = Vec::new();
        for part in content.and_then(Value::as_array).into_iter().flatten() {
            self.collect_part_sources(part, &mut found);
        }
        found
    }

    /// Sources from the `annotations` of one content part.
    pub fn collect_part_sources(&mut self, part: &Value, found: &mut Vec<Value>) {
        let anns = part.get("annotations").and_then(Value::as_array);
        for ann in anns.into_iter().flatten() {
            found.extend(self.annotation(ann));
        }
    }
}

fn non_empty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Trims the URL and drops the tracking suffix OpenAI's search appends.
pub fn clean_url(url: &str) -> String {
    let url = url.trim();
    for suffix in ["?utm_source=openai", "&utm_source=openai"] {
        if let Some(stripped) = url.strip_suffix(suffix) {
            return stripped.to_owned();
        }
    }
    url.to_owned()
}

/// Lower-cased host without a leading `www.` (only that exact prefix).
pub fn host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = host.split(':').next()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").map(str::to_owned).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_source_per_url_with_open_webui_shape() {
        let mut c = Citations::default();
        let ann = json!({"type":"url_citation","url":"https://www.Example.com/a?utm_source=openai",
            "title":"A page","start_index":0,"end_index":3,"content":"Excerpt text"});
        let src = c.annotation(&ann).unwrap();
        assert_eq!(
            src,
            json!({"source":{"name":"example.com","url":"https://www.Example.com/a"},
                   "document":["Excerpt text"],
                   "metadata":[{"source":"https://www.Example.com/a","name":"A page"}]})
        );
        let again = json!({"type":"url_citation","url":"https://www.Example.com/a"});
        assert_eq!(c.annotation(&again), None);
        assert_eq!(c.urls, vec!["https://www.Example.com/a"]);
    }

    #[test]
    fn nested_and_non_url_annotations() {
        let mut c = Citations::default();
        let nested =
            json!({"type":"url_citation","url_citation":{"url":"https://web.dev/x","title":"T"}});
        let src = c.annotation(&nested).unwrap();
        assert_eq!(src["source"]["name"], "web.dev");
        assert_eq!(src["document"], json!(["T"]));
        assert_eq!(
            c.annotation(&json!({"type":"file_citation","file_id":"f"})),
            None
        );
    }

    #[test]
    fn host_edge_cases() {
        assert_eq!(
            host("https://user@WWW.a.org:8080/p").as_deref(),
            Some("a.org")
        );
        assert_eq!(host("https://wwwx.org").as_deref(), Some("wwwx.org"));
        assert_eq!(host("nonsense").as_deref(), Some("nonsense"));
        assert_eq!(host("https:///x"), None);
    }
}
