//! What an admin sees from the typed settings: declared defaults when nothing is set,
//! out-of-range values held to the declared bounds, and the user's choices applied.

use std::time::Duration;

use serde_json::{json, Value};

use super::Settings;
use super::ThinkingMode;
use crate::artifacts::ReasoningRetention;

fn settings(v: Value) -> Settings {
    Settings::new(v.as_object().unwrap().clone())
}

#[test]
fn nothing_set_means_the_declared_defaults() {
    let s = Settings::default();
    assert_eq!(s.connection.connect_timeout, Duration::from_secs(10));
    assert_eq!(s.connection.read_idle_timeout, Duration::from_secs(300));
    assert_eq!(s.connection.total_timeout, None);
    assert_eq!(s.stream.thinking_mode, ThinkingMode::OpenWebUi);
    assert_eq!(s.stream.coalesce_window, Duration::from_millis(40));
    assert_eq!(s.stream.coalesce_max_chars, 4096);
    assert_eq!(s.artifacts.batch_size, 10);
    assert_eq!(s.artifacts.cleanup.days, 90);
    assert_eq!(s.artifacts.cleanup.interval_hours, 1.0);
    assert_eq!(s.artifacts.breaker.max_failures, 5);
    assert_eq!(s.artifacts.breaker.window, Duration::from_secs(60));
    assert_eq!(
        s.artifacts.reasoning_retention,
        ReasoningRetention::Conversation
    );
    assert_eq!(s.artifacts.db_path, None);
    assert_eq!(s.catalog.refresh_period, Duration::from_secs(3600));
    assert_eq!(s.catalog.model_id, "auto");
    assert_eq!(s.outbound.web_search_max_results, Some(3));
    assert_eq!(s.reasoning.gemini_thinking_budget, 1024);
    assert_eq!(s.reasoning.effort, "medium");
}

#[test]
fn batch_size_and_cleanup_days_follow_the_declared_bounds() {
    // These used to be clamped to 1–1000 and 1–3650 at the reading site, unlike the form.
    let s = settings(json!({"DB_BATCH_SIZE": 500, "ARTIFACT_CLEANUP_DAYS": 3000}));
    assert_eq!(s.artifacts.batch_size, 20);
    assert_eq!(s.artifacts.cleanup.days, 365);
    let s = settings(json!({"DB_BATCH_SIZE": 1, "ARTIFACT_CLEANUP_DAYS": 0}));
    assert_eq!(s.artifacts.batch_size, 5);
    assert_eq!(s.artifacts.cleanup.days, 1);
}

#[test]
fn other_numbers_outside_their_bounds_are_held_to_them() {
    let s = settings(json!({
        "STREAM_COALESCE_WINDOW_MS": 5000,
        "STREAM_COALESCE_MAX_CHARS": 0,
        "MODEL_CATALOG_REFRESH_SECONDS": 5,
        "BREAKER_MAX_FAILURES": 500,
        "BREAKER_WINDOW_SECONDS": 1,
        "WEB_SEARCH_MAX_RESULTS": 40,
        "GEMINI_THINKING_BUDGET": 1_000_000,
        "HTTP_CONNECT_TIMEOUT_SECONDS": 0,
    }));
    assert_eq!(s.stream.coalesce_window, Duration::from_millis(1000));
    assert_eq!(s.stream.coalesce_max_chars, 1);
    assert_eq!(s.catalog.refresh_period, Duration::from_secs(60));
    assert_eq!(s.artifacts.breaker.max_failures, 50);
    assert_eq!(s.artifacts.breaker.window, Duration::from_secs(5));
    assert_eq!(s.outbound.web_search_max_results, Some(10));
    assert_eq!(s.reasoning.gemini_thinking_budget, 65_536);
    assert_eq!(s.connection.connect_timeout, Duration::from_secs(1));
}

#[test]
fn empty_optional_numbers_stay_empty() {
    let s = settings(json!({"WEB_SEARCH_MAX_RESULTS": null, "HTTP_TOTAL_TIMEOUT_SECONDS": 120}));
    assert_eq!(s.outbound.web_search_max_results, None);
    assert_eq!(s.connection.total_timeout, Some(Duration::from_secs(120)));
}

#[test]
fn a_value_that_is_not_one_of_the_choices_means_the_declared_default() {
    let s = settings(json!({
        "REASONING_EFFORT": "extreme",
        "THINKING_OUTPUT_MODE": "sideways",
        "PERSIST_REASONING_TOKENS": "forever",
        "ANTHROPIC_PROMPT_CACHE_TTL": "1h",
    }));
    assert_eq!(s.reasoning.effort, "medium");
    assert_eq!(s.stream.thinking_mode, ThinkingMode::OpenWebUi);
    assert_eq!(
        s.artifacts.reasoning_retention,
        ReasoningRetention::Conversation
    );
    assert_eq!(s.outbound.anthropic.prompt_cache_ttl, "1h");
}

#[test]
fn base_url_loses_trailing_slash_and_blank_means_openrouter() {
    let s = settings(json!({"BASE_URL": " http://x/api/v1/ "}));
    assert_eq!(s.connection.base_url, "http://x/api/v1");
    let s = settings(json!({"BASE_URL": "  "}));
    assert_eq!(s.connection.base_url, "https://openrouter.ai/api/v1");
}

#[test]
fn merged_user_choices_reach_their_concern() {
    let system =
        json!({"THINKING_OUTPUT_MODE": "both", "PERSIST_REASONING_TOKENS": "conversation"});
    let user = json!({"THINKING_OUTPUT_MODE": "status", "PERSIST_REASONING_TOKENS": "next_reply"});
    let merged = crate::valves::merge(system.as_object().unwrap(), user.as_object());
    let s = Settings::new(merged);
    assert_eq!(s.stream.thinking_mode, ThinkingMode::Status);
    assert_eq!(
        s.artifacts.reasoning_retention,
        ReasoningRetention::NextReply
    );
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let s = settings(
        json!({"API_KEY": "sk-or-very-secret", "ARTIFACT_ENCRYPTION_KEY": "hunter2hunter2"}),
    );
    let printed = format!("{s:?}");
    assert!(
        !printed.contains("very-secret") && !printed.contains("hunter2"),
        "{printed}"
    );
    assert_eq!(s.connection.api_key(), "sk-or-very-secret");
    assert_eq!(s.artifacts.encryption_key(), "hunter2hunter2");
}

#[test]
fn the_store_layers_defaults_agree_with_the_declarations() {
    // The artifact layer keeps its own defaults so it needs no import of the valves.
    let declared = super::ArtifactSettings::declared();
    let codec = crate::artifacts::CodecConfig::default();
    assert_eq!(codec.encrypt_all, declared.encrypt_all);
    assert_eq!(codec.compression, declared.compression);
    assert_eq!(codec.min_compress_bytes, declared.min_compress_bytes);
    assert_eq!(
        crate::artifacts::store::DEFAULT_BATCH_SIZE,
        declared.batch_size
    );
}
