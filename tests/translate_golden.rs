//! Golden files: for every model class in the catalog fixture, the capability table
//! and the exact outbound `/responses` request built for one representative chat.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test translate_golden`.

use std::path::PathBuf;

use openrouter_pipe::catalog::{capabilities, features, parse_catalog, Model};
use openrouter_pipe::translate::{build, to_input, TranslateContext};
use openrouter_pipe::valves::Settings;
use serde_json::{json, Map, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn chat_body() -> Value {
    json!({
        "model": "openrouter.x",
        "stream": true,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "First question"},
            {"role": "assistant", "content": "First answer"},
            {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}
        ],
        "temperature": 0.7,
        "top_k": 40,
        "max_tokens": 500,
        "reasoning_effort": "high",
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
        "metadata": {"client": "ignored"},
        "tools": [],
        "stream_options": {"include_usage": true}
    })
}

/// The chat's messages as input items (these carry no markers, so nothing to replay).
/// A request context for `model` with no user, session, chat or message ids.
fn context<'a>(
    settings: &'a Settings,
    model: &'a Model,
    features: &'a Map<String, Value>,
    stream: bool,
    task: bool,
    owned: bool,
) -> TranslateContext<'a> {
    TranslateContext {
        settings,
        model: Some(model),
        model_id: &model.id,
        stream,
        task,
        owned,
        features,
        user_id: None,
        session_id: None,
        chat_id: None,
        message_id: None,
    }
}

fn input(chat: &Value) -> Vec<Value> {
    to_input(chat["messages"].as_array().unwrap())
}

/// The fake catalog's models (`fixtures/openrouter/models.json`).
fn fixture_models() -> Vec<Model> {
    let body = std::fs::read(root().join("fixtures/openrouter/models.json")).unwrap();
    parse_catalog(&body).unwrap().0
}

fn settings() -> Settings {
    let values = json!({
        "USE_MODEL_MAX_OUTPUT_TOKENS": true,
        "SEND_END_USER_ID": true,
        "SEND_CHAT_ID": true,
        "REASONING_EFFORT": "medium",
        "REASONING_SUMMARY_MODE": "auto",
        "ENABLE_REASONING": true,
        "AUTO_CONTEXT_TRIMMING": true,
        "WEB_SEARCH_MAX_RESULTS": 3,
        "GEMINI_THINKING_BUDGET": 1024,
        "GEMINI_THINKING_LEVEL": "auto",
        "ENABLE_ANTHROPIC_PROMPT_CACHING": true,
        "ANTHROPIC_PROMPT_CACHE_TTL": "5m",
        "ENABLE_ANTHROPIC_INTERLEAVED_THINKING": true
    });
    Settings::new(values.as_object().unwrap().clone())
}

fn check(name: &str, actual: &Value) {
    let path = root().join("tests/golden").join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() || !path.exists() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        expected,
        "golden file {} differs (UPDATE_GOLDEN=1 to accept)",
        path.display()
    );
}

#[test]
fn every_catalog_model_class_has_its_capabilities_and_request() {
    let models = fixture_models();
    let settings = settings();
    let mut features_on = Map::new();
    features_on.insert("openrouter_web_search".into(), json!(true));
    let mut table = Map::new();
    for model in &models {
        table.insert(
            model.id.clone(),
            json!({"capabilities": capabilities(model), "features": features(model)}),
        );
        let ctx = TranslateContext {
            settings: &settings,
            model: Some(model),
            model_id: &model.id,
            stream: true,
            task: false,
            owned: true,
            features: &features_on,
            user_id: Some("user-42"),
            session_id: Some("sid-1"),
            chat_id: Some("chat-7"),
            message_id: Some("msg-9"),
        };
        let out = build(&chat_body(), input(&chat_body()), &ctx);
        let name = format!("request_{}", model.id.replace(['/', ':'], "_"));
        check(&name, &json!({"body": out.body, "headers": out.headers}));
    }
    check("capabilities", &Value::Object(table));
}

#[test]
fn task_requests_use_the_task_effort_and_no_extras() {
    let models = fixture_models();
    let model = models.iter().find(|m| m.id == "openai/o4-mini").unwrap();
    let settings = settings();
    let features = Map::new();
    let ctx = context(&settings, model, &features, false, true, true);
    let mut chat = chat_body();
    chat.as_object_mut().unwrap().remove("reasoning_effort");
    let out = build(&chat, input(&chat), &ctx);
    assert_eq!(out.body["reasoning"]["effort"], "low");
    assert!(out.body.get("plugins").is_none());
    assert!(out.headers.is_empty());
}

#[test]
fn only_the_openrouter_search_toggle_sends_the_web_plugin() {
    let models = fixture_models();
    let model = models.iter().find(|m| m.id == "openai/gpt-4.1").unwrap();
    let settings = settings();
    let plugins = |flag: &str| {
        let mut features = Map::new();
        features.insert(flag.into(), json!(true));
        let ctx = context(&settings, model, &features, true, false, true);
        build(&chat_body(), input(&chat_body()), &ctx)
            .body
            .get("plugins")
            .cloned()
    };
    // Open WebUI's own web search runs through its builtin tool, never OpenRouter's plugin.
    assert_eq!(plugins("web_search"), None);
    let web = plugins("openrouter_web_search").expect("the toggle asks for the plugin");
    assert_eq!(web[0]["id"], "web");
}

#[test]
fn a_models_custom_parameters_can_turn_search_off_add_plugins_and_list_fallbacks() {
    let models = fixture_models();
    let model = models.iter().find(|m| m.id == "openai/gpt-4.1").unwrap();
    let settings = settings();
    let mut features = Map::new();
    features.insert("openrouter_web_search".into(), json!(true));
    let ctx = context(&settings, model, &features, true, false, true);
    let send = |extra: Value| {
        let mut chat = chat_body();
        for (k, v) in extra.as_object().unwrap() {
            chat[k] = v.clone();
        }
        build(&chat, input(&chat), &ctx).body
    };
    let parser = json!({"id": "file-parser", "pdf": {"engine": "pdf-text"}});
    let body = send(json!({"plugins": [parser.clone()]}));
    assert_eq!(body["plugins"][0], parser);
    assert_eq!(body["plugins"][1]["id"], "web");
    for off in [json!(true), json!("true"), json!("ON"), json!(1)] {
        let body = send(
            json!({"disable_native_websearch": off, "plugins": [parser.clone(), {"id": "web"}]}),
        );
        assert_eq!(body["plugins"], json!([parser.clone()]), "{off}");
        assert!(body.get("disable_native_websearch").is_none());
    }
    let body = send(json!({"disable_native_web_search": "1"}));
    assert!(
        body.get("plugins").is_none(),
        "the alias works, and no empty list is sent"
    );
    let body = send(json!({"disable_native_websearch": "no"}));
    assert_eq!(body["plugins"][0]["id"], "web");
    let body = send(json!({"models": "anthropic/claude-3.5-sonnet, openai/gpt-4o,,openai/gpt-4o"}));
    assert_eq!(
        body["models"],
        json!(["anthropic/claude-3.5-sonnet", "openai/gpt-4o"])
    );
}

#[test]
fn a_task_on_an_owned_model_uses_the_task_effort_and_another_model_keeps_the_normal_one() {
    let models = fixture_models();
    let model = models.iter().find(|m| m.id == "openai/o4-mini").unwrap();
    let settings = settings();
    let features = Map::new();
    let effort = |owned: bool, requested: Option<&str>| {
        let ctx = TranslateContext {
            settings: &settings,
            model: Some(model),
            model_id: &model.id,
            stream: false,
            task: true,
            owned,
            features: &features,
            user_id: None,
            session_id: None,
            chat_id: None,
            message_id: None,
        };
        let mut chat = chat_body();
        match requested {
            Some(e) => chat["reasoning_effort"] = json!(e),
            None => {
                chat.as_object_mut().unwrap().remove("reasoning_effort");
            }
        }
        build(&chat, input(&chat), &ctx).body["reasoning"]["effort"].clone()
    };
    assert_eq!(
        effort(true, Some("high")),
        "low",
        "the task valve wins over the body"
    );
    assert_eq!(effort(false, Some("high")), "high");
    assert_eq!(effort(false, None), json!(settings.reasoning.effort));
}

/// The outbound body for one chat body on `model_id`, as a normal (non-task) chat.
fn built_for(model_id: &str, settings: &Settings, chat: &Value) -> Value {
    let models = fixture_models();
    let model = models.iter().find(|m| m.id == model_id).unwrap();
    let features = Map::new();
    let ctx = context(settings, model, &features, true, false, true);
    build(chat, input(chat), &ctx).body
}

#[test]
fn the_requests_own_reasoning_settings_are_kept_and_the_valves_fill_in_the_rest() {
    let settings = settings();
    let mut chat = chat_body();
    chat.as_object_mut().unwrap().remove("reasoning_effort");
    chat["reasoning"] = json!({"exclude": true, "summary": "detailed", "bogus": 1});
    let body = built_for("openai/o4-mini", &settings, &chat);
    assert_eq!(
        body["reasoning"],
        json!({"exclude": true, "summary": "detailed", "effort": "medium", "enabled": true})
    );
    chat["reasoning"] = json!({"effort": "low"});
    let body = built_for("openai/o4-mini", &settings, &chat);
    assert_eq!(
        body["reasoning"]["effort"], "low",
        "the request's effort wins"
    );
    assert_eq!(body["reasoning"]["summary"], "auto");
    chat["reasoning"] = json!({"max_tokens": 2000});
    let body = built_for("anthropic/claude-sonnet-4.5", &settings, &chat);
    assert_eq!(body["reasoning"]["max_tokens"], 2000);
    assert!(
        body["reasoning"].get("effort").is_none(),
        "a budget stands instead of an effort: {}",
        body["reasoning"]
    );

    let mut off = settings.clone();
    off.reasoning.enabled = false;
    chat["reasoning"] = json!({"effort": "high"});
    let body = built_for("openai/o4-mini", &off, &chat);
    assert_eq!(
        body["reasoning"],
        json!({"effort": "high"}),
        "kept without the valve"
    );
    chat.as_object_mut().unwrap().remove("reasoning");
    assert!(built_for("openai/o4-mini", &off, &chat)
        .get("reasoning")
        .is_none());
}

#[test]
fn verbosity_and_a_responses_style_text_format_reach_the_request() {
    let settings = settings();
    let mut chat = chat_body();
    chat["verbosity"] = json!("Low");
    let body = built_for("openai/gpt-4.1", &settings, &chat);
    assert_eq!(body["text"]["verbosity"], "low");
    assert_eq!(body["text"]["format"]["name"], "answer");
    chat["text"] = json!({"verbosity": "high", "format": {"type": "json_object"}});
    let body = built_for("openai/gpt-4.1", &settings, &chat);
    assert_eq!(
        body["text"],
        json!({"format": {"type": "json_object"}, "verbosity": "high"}),
        "the request's own text.format wins over response_format"
    );
    chat["text"] = json!({"verbosity": "loud", "format": {"type": "json_schema"}});
    let body = built_for("openai/gpt-4.1", &settings, &chat);
    assert_eq!(
        body["text"]["format"]["name"], "answer",
        "an invalid format is ignored"
    );
    assert!(body["text"].get("verbosity").is_none(), "not a level");
}
