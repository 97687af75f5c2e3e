//! Model icons for Open WebUI's model entries, from OpenRouter's (unofficial) frontend
//! catalog: the provider icon of each model's top endpoint, inlined as a `data:` URL
//! where it can be fetched (`icon_inline`). Best effort: any failure just means no icons
//! (or links instead of pictures), and they are fetched only when `UPDATE_MODEL_IMAGES`
//! is on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::emit::LogLevel;
use crate::http;
use crate::logsink;
use crate::valves::Settings;

pub type Icons = Arc<HashMap<String, String>>;

static CACHE: Mutex<Option<(String, Instant, Icons)>> = Mutex::new(None);
static REFRESH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `https://openrouter.ai/api/v1` → (`https://openrouter.ai/api/frontend/models`,
/// `https://openrouter.ai`).
fn frontend_urls(base_url: &str) -> Option<(String, String)> {
    let api_root = base_url.trim_end_matches('/').trim_end_matches("/v1");
    let scheme_end = base_url.find("://")? + 3;
    let host_end = base_url[scheme_end..]
        .find('/')
        .map_or(base_url.len(), |i| scheme_end + i);
    Some((
        format!("{api_root}/frontend/models"),
        base_url[..host_end].to_string(),
    ))
}

/// Makes an icon reference absolute; `None` for anything that is not a web image URL.
fn absolute(icon: &str, site: &str) -> Option<String> {
    let icon = icon.trim();
    if icon.is_empty() {
        return None;
    }
    let url = if let Some(rest) = icon.strip_prefix("//") {
        format!("https://{rest}")
    } else if icon.starts_with('/') {
        format!("{site}{icon}")
    } else if icon.starts_with("http://") || icon.starts_with("https://") {
        icon.to_string()
    } else if icon.starts_with("data:") {
        return None;
    } else {
        format!("{site}/{icon}")
    };
    Some(url)
}

fn icon_of(entry: &Value) -> Option<&str> {
    let from_endpoint = entry
        .get("endpoint")
        .and_then(|e| e.get("provider_info"))
        .and_then(|p| p.get("icon"));
    let icon = from_endpoint.or_else(|| entry.get("icon"))?;
    icon.as_str()
        .or_else(|| icon.get("url").and_then(Value::as_str))
}

/// Slug → absolute icon URL, from a frontend catalog body (`{"data":[…]}` or
/// `{"data":{"models":[…]}}`).
pub fn parse_icons(body: &[u8], site: &str) -> HashMap<String, String> {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return HashMap::new();
    };
    let data = doc.get("data");
    let entries = data
        .and_then(Value::as_array)
        .or_else(|| data.and_then(|d| d.get("models")).and_then(Value::as_array));
    let mut icons = HashMap::new();
    for entry in entries.into_iter().flatten() {
        let Some(url) = icon_of(entry).and_then(|i| absolute(i, site)) else {
            continue;
        };
        let slugs = [
            entry.get("slug"),
            entry
                .get("endpoint")
                .and_then(|e| e.get("model_variant_slug")),
        ];
        for slug in slugs.into_iter().flatten().filter_map(Value::as_str) {
            icons.entry(slug.to_string()).or_insert_with(|| url.clone());
        }
    }
    icons
}

/// The icon map for this gateway, refreshed with the catalog's period.
pub async fn icons(settings: &Settings) -> Icons {
    let base_url = settings.connection.base_url.clone();
    let period = super::registry::refresh_period(settings);
    let cached = || {
        let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .as_ref()
            .filter(|(url, at, _)| *url == base_url && at.elapsed() < period)
            .map(|(_, _, icons)| icons.clone())
    };
    if let Some(icons) = cached() {
        return icons;
    }
    // One refresh at a time (the warm-up and the first model list often race): the
    // others wait for it and take its result.
    let _refreshing = REFRESH.lock().await;
    if let Some(icons) = cached() {
        return icons;
    }
    let Some((frontend, site)) = frontend_urls(&base_url) else {
        return Icons::default();
    };
    let client = http::client(http::Timeouts::from_settings(settings));
    let fetched = async {
        let response = client
            .get(&frontend)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let links = parse_icons(&response.bytes().await.ok()?, &site);
        Some(super::icon_inline::inline(links, &site, &client).await)
    }
    .await;
    let icons = Arc::new(fetched.unwrap_or_else(|| {
        logsink::log(
            LogLevel::Debug,
            "OpenRouter frontend catalog unavailable; model icons skipped",
        );
        HashMap::new()
    }));
    *CACHE.lock().unwrap_or_else(|p| p.into_inner()) =
        Some((base_url, Instant::now(), icons.clone()));
    icons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_icons_become_absolute_urls() {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/openrouter/frontend_models.json"
        ))
        .unwrap();
        let icons = parse_icons(&body, "https://openrouter.ai");
        assert_eq!(
            icons["openai/gpt-4.1"],
            "https://openrouter.ai/images/icons/OpenAI.svg"
        );
        assert!(icons.len() >= 3);
    }

    #[test]
    fn urls_are_derived_from_the_base_url() {
        let (frontend, site) = frontend_urls("https://openrouter.ai/api/v1").unwrap();
        assert_eq!(frontend, "https://openrouter.ai/api/frontend/models");
        assert_eq!(site, "https://openrouter.ai");
        assert_eq!(
            absolute("//cdn.x/i.png", &site).unwrap(),
            "https://cdn.x/i.png"
        );
        assert_eq!(absolute("data:image/svg+xml;base64,AA", &site), None);
    }
}
