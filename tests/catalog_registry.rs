//! The shared catalog cache against the fake OpenRouter: one fetch for many callers,
//! the last good catalog when refreshes fail, and backoff instead of hammering.

mod common;

use common::fake::Fake;
use openrouter_pipe::catalog;
use openrouter_pipe::valves::Settings;
use serde_json::json;

fn settings(base_url: &str) -> Settings {
    Settings::new(
        json!({"API_KEY": "sk-or-test", "BASE_URL": base_url})
            .as_object()
            .unwrap()
            .clone(),
    )
}

fn catalog_fetches(fake: &Fake) -> usize {
    let requests: serde_json::Value = serde_json::from_str(&fake.requests()).unwrap();
    requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/api/v1/models")
        .count()
}

#[test]
fn cache_is_shared_survives_outages_and_backs_off() {
    let fake = Fake::start();
    let settings = settings(&fake.base_url);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    // 50 concurrent callers with a cold cache: one request upstream.
    let counts = rt.block_on(async {
        let calls = (0..50).map(|_| {
            let s = settings.clone();
            tokio::spawn(async move { catalog::models(&s).await.map(|m| m.len()) })
        });
        let mut counts = Vec::new();
        for call in calls {
            counts.push(call.await.unwrap().unwrap());
        }
        counts
    });
    assert!(counts.iter().all(|n| *n == 13), "{counts:?}");
    assert_eq!(catalog_fetches(&fake), 1, "thundering herd");

    // OpenRouter goes down and the cache expires: the last good catalog is served.
    fake.set_models(r#"{"error": 503}"#);
    catalog::expire();
    let served = rt.block_on(catalog::models(&settings)).unwrap();
    assert_eq!(served.len(), 13);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(catalog_fetches(&fake), 2, "one background refresh attempt");

    // While backing off, further calls do not hit OpenRouter again.
    for _ in 0..5 {
        assert_eq!(rt.block_on(catalog::models(&settings)).unwrap().len(), 13);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(catalog_fetches(&fake), 2, "refreshes must back off");

    // A different gateway with no cache and a failing catalog: a clear error.
    let other = Fake::start();
    other.set_models(r#"{"error": 503}"#);
    let err = rt
        .block_on(catalog::models(&self::settings(&other.base_url)))
        .unwrap_err();
    assert!(err.to_string().contains("503"), "{err}");

    // An empty list is not a catalog: the last good one is kept, and it counts as a
    // failed refresh (backing off).
    let fresh = Fake::start();
    let fresh_settings = self::settings(&fresh.base_url);
    assert_eq!(
        rt.block_on(catalog::models(&fresh_settings)).unwrap().len(),
        13
    );
    fresh.set_models(r#"{"data": []}"#);
    catalog::expire();
    assert_eq!(
        rt.block_on(catalog::models(&fresh_settings)).unwrap().len(),
        13
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        rt.block_on(catalog::models(&fresh_settings)).unwrap().len(),
        13
    );
    assert_eq!(catalog_fetches(&fresh), 2, "one refresh, then backing off");

    // No key at all: said plainly.
    let no_key = Settings::new(
        json!({"API_KEY": "", "BASE_URL": "http://127.0.0.1:9/api/v1"})
            .as_object()
            .unwrap()
            .clone(),
    );
    if std::env::var("OPENROUTER_API_KEY").is_err() {
        let err = rt.block_on(catalog::models(&no_key)).unwrap_err();
        assert!(err.to_string().contains("API key"), "{err}");
    }
}
