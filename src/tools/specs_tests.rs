//! The tools list a model is offered, built from the shapes Open WebUI and filters hand
//! the pipe, including the broken ones.

use serde_json::{json, Value};

use super::{assemble, assemble_owui_tools, dedupe, from_chat_tool, from_owui_spec, to_chat_tool};

fn weather_spec() -> Value {
    json!({
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city"],
        },
    })
}

#[test]
fn an_open_webui_spec_becomes_a_function_tool_with_its_schema_as_written() {
    let tool = from_owui_spec(&weather_spec(), false).unwrap();
    assert_eq!(
        tool,
        json!({
            "type": "function",
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": weather_spec()["parameters"],
        })
    );
}

#[test]
fn in_strict_mode_the_spec_schema_is_strictified_and_marked_strict() {
    let tool = from_owui_spec(&weather_spec(), true).unwrap();
    assert_eq!(tool["strict"], json!(true));
    assert_eq!(tool["parameters"]["required"], json!(["city", "unit"]));
    assert_eq!(tool["parameters"]["additionalProperties"], json!(false));
    assert_eq!(
        tool["parameters"]["properties"]["unit"]["type"],
        json!(["string", "null"])
    );
}

#[test]
fn a_spec_without_description_or_parameters_gets_the_name_and_an_empty_schema() {
    for spec in [
        json!({"name": "get_current_timestamp"}),
        json!({"name": "get_current_timestamp", "description": "", "parameters": {}}),
        json!({"name": "get_current_timestamp", "description": 5, "parameters": null}),
    ] {
        let tool = from_owui_spec(&spec, false).unwrap();
        assert_eq!(
            tool["description"],
            json!("get_current_timestamp"),
            "{spec}"
        );
        assert_eq!(
            tool["parameters"],
            json!({"type": "object", "properties": {}}),
            "{spec}"
        );
    }
}

#[test]
fn specs_without_a_usable_name_are_refused() {
    for spec in [
        json!({"description": "no name"}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": 42}),
        json!("get_weather"),
        json!(null),
    ] {
        assert_eq!(from_owui_spec(&spec, true), None, "{spec}");
    }
}

#[test]
fn a_chat_completions_tool_becomes_the_flat_responses_shape() {
    let chat = json!({"type": "function", "function": weather_spec()});
    let tool = from_chat_tool(&chat, false).unwrap();
    assert_eq!(tool, from_owui_spec(&weather_spec(), false).unwrap());
}

#[test]
fn a_tools_own_strict_flag_wins_over_the_setting() {
    let mut relaxed = weather_spec();
    relaxed["strict"] = json!(false);
    let tool = from_chat_tool(&json!({"type": "function", "function": relaxed}), true).unwrap();
    assert_eq!(tool["strict"], json!(false));
    assert_eq!(tool["parameters"], weather_spec()["parameters"]);

    let mut strict = weather_spec();
    strict["strict"] = json!(true);
    let tool = from_chat_tool(&json!({"type": "function", "function": strict}), false).unwrap();
    assert_eq!(tool["strict"], json!(true));
    assert_eq!(tool["parameters"]["additionalProperties"], json!(false));
}

#[test]
fn without_its_own_flag_a_request_tool_follows_the_setting() {
    let chat = json!({"type": "function", "function": weather_spec()});
    assert!(from_chat_tool(&chat, false)
        .unwrap()
        .get("strict")
        .is_none());
    let tool = from_chat_tool(&chat, true).unwrap();
    assert_eq!(tool["strict"], json!(true));
    assert_eq!(tool["parameters"]["required"], json!(["city", "unit"]));
}

#[test]
fn a_responses_shaped_tool_keeps_its_extra_fields() {
    let flat = json!({
        "type": "function",
        "name": "search_docs",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
        "strict": null,
        "defer_loading": true,
    });
    let tool = from_chat_tool(&flat, false).unwrap();
    assert_eq!(
        tool,
        json!({
            "type": "function",
            "name": "search_docs",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            "defer_loading": true,
        })
    );
}

#[test]
fn other_tool_types_pass_through_unchanged() {
    for tool in [
        json!({"type": "web_search"}),
        json!({"type": "openrouter:tool_search", "max_results": 3}),
    ] {
        assert_eq!(from_chat_tool(&tool, true), Some(tool.clone()));
    }
}

#[test]
fn junk_request_tools_are_refused() {
    for junk in [
        json!(null),
        json!("get_weather"),
        json!({"function": {"name": "untyped"}}),
        json!({"type": 3}),
        json!({"type": ""}),
        json!({"type": "function"}),
        json!({"type": "function", "function": {"description": "nameless"}}),
        json!({"type": "function", "function": "get_weather"}),
    ] {
        assert_eq!(from_chat_tool(&junk, false), None, "{junk}");
    }
}

fn function(name: &str, description: &str) -> Value {
    json!({"type": "function", "name": name, "description": description})
}

#[test]
fn dedupe_keeps_the_last_definition_at_the_first_position() {
    let tools = vec![
        function("alpha", "first alpha"),
        function("beta", "beta"),
        json!({"type": "web_search", "max_results": 1}),
        function("alpha", "second alpha"),
        json!({"type": "web_search", "max_results": 5}),
    ];
    assert_eq!(
        dedupe(tools),
        vec![
            function("alpha", "second alpha"),
            function("beta", "beta"),
            json!({"type": "web_search", "max_results": 5}),
        ]
    );
}

#[test]
fn dedupe_drops_entries_without_a_type_and_matches_chat_shaped_names() {
    let tools = vec![
        json!({"name": "untyped"}),
        json!("not a tool"),
        json!({"type": "function", "function": {"name": "alpha"}}),
        function("alpha", "flat alpha"),
    ];
    assert_eq!(dedupe(tools), vec![function("alpha", "flat alpha")]);
}

#[test]
fn assembled_tools_put_registry_tools_first_and_let_later_definitions_replace_earlier() {
    let registry = [
        json!({"name": "alpha", "description": "registry alpha"}),
        json!({"name": "search", "description": "registry search"}),
    ];
    let extras = [
        json!({"type": "function", "function": {"name": "gamma"}}),
        json!({"type": "function", "function": {"name": "alpha", "description": "extra alpha"}}),
    ];
    let assembled = assemble(&registry, &extras, false);
    let names: Vec<&str> = assembled
        .tools
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "search", "gamma"]);
    assert_eq!(assembled.tools[0]["description"], json!("extra alpha"));
    assert!(assembled.skipped.is_empty());
}

#[test]
fn extra_tools_are_sent_as_written_even_with_strict_tool_calling() {
    let loose = json!({"type": "object", "properties": {"q": {"type": "string"}}});
    let extras = [
        json!({"type": "function", "function": {"name": "lookup", "parameters": loose}}),
        json!({"type": "function", "function": {"name": "pinned", "strict": true,
               "parameters": {"type": "object", "properties": {}}}}),
    ];
    let assembled = assemble(&[weather_spec()], &extras, true);
    assert_eq!(
        assembled.tools[0]["strict"], true,
        "the registry's tool is strictified"
    );
    assert!(
        assembled.tools[1].get("strict").is_none(),
        "{}",
        assembled.tools[1]
    );
    assert_eq!(assembled.tools[1]["parameters"], loose);
    assert_eq!(
        assembled.tools[2]["strict"], true,
        "a tool's own strict stays"
    );
    // Open WebUI's own tools, handed over in the body for its tool loop, are strictified.
    let owui = assemble_owui_tools(&extras[..1], true);
    assert_eq!(owui.tools[0]["strict"], true);
}

#[test]
fn a_tool_defined_by_the_registry_and_the_request_is_offered_once() {
    let registry = [json!({"name": "search"})];
    let extras = [json!({"type": "function", "function": {"name": "search"}})];
    assert_eq!(assemble(&registry, &extras, true).tools.len(), 1);
}

#[test]
fn malformed_entries_are_skipped_with_a_line_each_for_the_log() {
    let registry = [json!({"description": "nameless"}), json!(7), weather_spec()];
    let extras = [
        json!({"name": "untyped"}),
        json!({"type": "function", "function": {}}),
    ];
    let assembled = assemble(&registry, &extras, true);
    assert_eq!(assembled.tools.len(), 1);
    assert_eq!(
        assembled.skipped,
        [
            "tool spec without a name skipped (registry entry 1)",
            "tool spec that is not an object skipped (registry entry 2)",
            "tool without a type skipped (extra tool 1)",
            "function tool without a name skipped (extra tool 2)",
        ]
    );
}

#[test]
fn a_responses_function_tool_converts_back_to_the_chat_completions_shape() {
    let tool = from_owui_spec(&weather_spec(), true).unwrap();
    let chat = to_chat_tool(&tool).unwrap();
    assert_eq!(chat["type"], json!("function"));
    assert_eq!(chat["function"]["name"], json!("get_weather"));
    assert_eq!(
        chat["function"]["description"],
        json!("Current weather for a city")
    );
    assert_eq!(chat["function"]["parameters"], tool["parameters"]);
    assert_eq!(chat["function"]["strict"], json!(true));
    assert_eq!(from_chat_tool(&chat, false), Some(tool));
}

#[test]
fn only_named_function_tools_convert_to_the_chat_completions_shape() {
    assert_eq!(
        to_chat_tool(&json!({"type": "function", "name": "ping", "strict": null})),
        Some(json!({"type": "function", "function": {"name": "ping"}}))
    );
    let chat = json!({"type": "function", "function": {"name": "ping"}});
    assert_eq!(to_chat_tool(&chat), Some(chat.clone()));
    for other in [
        json!({"type": "web_search"}),
        json!({"type": "function"}),
        json!({"name": "ping"}),
        json!([]),
    ] {
        assert_eq!(to_chat_tool(&other), None, "{other}");
    }
}
