//! Status lines for the provider's native web search (`web_search_call` items).
//!
//! Users see the search progress in Open WebUI's status area: "Searching the web…",
//! then the query (rendered as a chip via `action: web_search_queries_generated`), then
//! "Read N sources" with the URL list (`action: web_search`, done).

use serde_json::{json, Map, Value};

use crate::emit::Emit;

fn status(description: String, done: bool, extra: Value) -> Emit {
    let extra = match extra {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Emit::Status {
        description,
        done,
        extra,
    }
}

fn field<'a>(action: Option<&'a Value>, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| action?.get(*n)?.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The search opened a page: "Opening <site>" (the page's host, else its title or URL).
fn open_page(action: Option<&Value>) -> Emit {
    let url = field(action, &["url"]);
    let title = field(action, &["title"]);
    let host = url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_owned));
    let shown = host.as_deref().or(title).or(url);
    let description = match shown {
        Some(s) => format!("Opening {s}"),
        None => "Opening page".to_owned(),
    };
    status(
        description,
        false,
        json!({"action": "open_page", "title": title, "host": host, "url": url}),
    )
}

/// The search looked for something inside a page: "Searching for <text>".
fn find_in_page(action: Option<&Value>) -> Emit {
    let needle = field(action, &["needle", "pattern", "query", "text"]);
    let description = match needle {
        Some(n) => format!("Searching for “{n}”"),
        None => "Searching within page".to_owned(),
    };
    status(
        description,
        false,
        json!({"action": "find_in_page", "needle": needle, "url": field(action, &["url"])}),
    )
}

/// The key of the one search a route without search items is shown to have made.
const CITED_SEARCH: &str = "cited-search";

#[derive(Debug, Default)]
pub struct WebSearch {
    /// Keys of search calls already announced / finished.
    started: Vec<String>,
    finished: Vec<String>,
    /// A search finished without listing its sources; cited URLs stand in at the end.
    awaiting_sources: bool,
    read_emitted: bool,
}

impl WebSearch {
    /// A search call began (`output_item.added` or `web_search_call.in_progress`).
    pub fn started(&mut self, key: &str, out: &mut Vec<Emit>) {
        if self.started.iter().any(|k| k == key) {
            return;
        }
        self.started.push(key.to_owned());
        out.push(status(
            "Searching the web…".into(),
            false,
            json!({"action": "web_search"}),
        ));
    }

    /// A search call finished: show its query, and its sources when it lists them.
    pub fn finished(&mut self, key: &str, item: &Value, out: &mut Vec<Emit>) {
        if self.finished.iter().any(|k| k == key) {
            return;
        }
        self.started(key, out);
        self.finished.push(key.to_owned());
        let action = item.get("action");
        match action.and_then(|a| a.get("type")).and_then(Value::as_str) {
            Some("open_page") => return out.push(open_page(action)),
            Some("find_in_page") => return out.push(find_in_page(action)),
            _ => {}
        }
        let query = action
            .and_then(|a| a.get("query"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|q| !q.is_empty());
        if let Some(q) = query {
            out.push(status(
                format!("Searched the web for “{q}”"),
                false,
                json!({"action": "web_search_queries_generated", "queries": [q]}),
            ));
        }
        let urls: Vec<&str> = action
            .and_then(|a| a.get("sources"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("url").and_then(Value::as_str))
            .collect();
        if urls.is_empty() {
            self.awaiting_sources = true;
        } else {
            self.read(&urls, out);
        }
    }

    /// A search known only from its citations (Chat Completions has no search items):
    /// "Searching the web…" now, and the cited URLs as its sources at the end.
    pub fn seen_in_citations(&mut self, out: &mut Vec<Emit>) {
        self.started(CITED_SEARCH, out);
        if !self.read_emitted {
            self.awaiting_sources = true;
        }
    }

    fn read(&mut self, urls: &[&str], out: &mut Vec<Emit>) {
        let n = urls.len();
        let noun = if n == 1 { "source" } else { "sources" };
        out.push(status(
            format!("Read {n} {noun}"),
            true,
            json!({"action": "web_search", "urls": urls}),
        ));
        self.read_emitted = true;
        self.awaiting_sources = false;
    }

    /// End of the response: a search whose sources were never listed reports the cited
    /// URLs instead.
    pub fn close(&mut self, cited: &[String], out: &mut Vec<Emit>) {
        if self.awaiting_sources && !cited.is_empty() {
            let urls: Vec<&str> = cited.iter().map(String::as_str).collect();
            self.read(&urls, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(item: Value) -> Vec<(String, Map<String, Value>)> {
        let mut out = Vec::new();
        WebSearch::default().finished("ws_1", &item, &mut out);
        out.into_iter()
            .filter_map(|e| match e {
                Emit::Status {
                    description, extra, ..
                } => Some((description, extra)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn opening_a_page_names_its_site() {
        let s = shown(json!({"type": "web_search_call", "action":
            {"type": "open_page", "url": "https://docs.example.org/guide?x=1"}}));
        assert_eq!(s[0].0, "Searching the web…");
        assert_eq!(s[1].0, "Opening docs.example.org");
        assert_eq!(s[1].1["action"], "open_page");
        assert_eq!(s[1].1["url"], "https://docs.example.org/guide?x=1");
        assert_eq!(s.len(), 2, "no sources line for a page visit");
        let bare = shown(json!({"action": {"type": "open_page"}}));
        assert_eq!(bare[1].0, "Opening page");
    }

    #[test]
    fn finding_in_a_page_names_what_it_looks_for() {
        let s = shown(json!({"action":
            {"type": "find_in_page", "pattern": "release date", "url": "https://a.example/"}}));
        assert_eq!(s[1].0, "Searching for “release date”");
        assert_eq!(s[1].1["needle"], "release date");
        let bare = shown(json!({"action": {"type": "find_in_page"}}));
        assert_eq!(bare[1].0, "Searching within page");
    }
}
