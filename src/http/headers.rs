//! Headers sent with every OpenRouter request (authentication and app attribution).

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};

use crate::valves::Settings;

/// Shown as the app name on OpenRouter's activity pages.
pub const TITLE: &str = "Open WebUI OpenRouter Pipe";
/// Attribution URL used unless `HTTP_REFERER_OVERRIDE` holds a full http(s) URL.
pub const DEFAULT_REFERER: &str = "https://pypi.org/project/openrouter-pipe/";

/// The `HTTP-Referer` to send, and whether the override valve was ignored as invalid.
pub fn referer(settings: &Settings) -> (String, bool) {
    let custom = settings.connection.referer_override.as_str();
    if custom.is_empty() {
        return (DEFAULT_REFERER.to_string(), false);
    }
    let lower = custom.to_ascii_lowercase();
    if (lower.starts_with("http://") || lower.starts_with("https://")) && custom.len() > 8 {
        (custom.to_string(), false)
    } else {
        (DEFAULT_REFERER.to_string(), true)
    }
}

/// Authorization, content type, attribution and (when streaming) `Accept`.
pub fn request_headers(settings: &Settings, api_key: &str, streaming: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {api_key}")) {
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if streaming {
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
    }
    headers.insert("X-Title", HeaderValue::from_static(TITLE));
    headers.insert("X-OpenRouter-Title", HeaderValue::from_static(TITLE));
    let (referer, _) = referer(settings);
    if let Ok(value) = HeaderValue::from_str(&referer) {
        headers.insert("HTTP-Referer", value);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(v: serde_json::Value) -> Settings {
        Settings::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn referer_override_must_be_a_full_url() {
        let s = settings(json!({"HTTP_REFERER_OVERRIDE": "example.com"}));
        assert_eq!(referer(&s), (DEFAULT_REFERER.to_string(), true));
        let s = settings(json!({"HTTP_REFERER_OVERRIDE": "https://chat.example.com/"}));
        assert_eq!(
            referer(&s),
            ("https://chat.example.com/".to_string(), false)
        );
    }

    #[test]
    fn authorization_header_is_marked_sensitive() {
        let h = request_headers(&Settings::default(), "sk-or-secret", true);
        assert!(h.get(AUTHORIZATION).unwrap().is_sensitive());
        assert_eq!(h.get(ACCEPT).unwrap(), "text/event-stream");
    }
}
