//! Tests of the Responses → Chat Completions body translation: what a provider on the
//! Chat Completions route is asked for must match what the Responses route asks for.

use serde_json::{json, Value};

use super::{reasoning_details, to_chat_completions};

fn responses_body() -> Value {
    json!({
        "model": "anthropic/claude-sonnet-4.5",
        "models": ["openai/gpt-4o-mini", "google/gemini-2.5-flash"],
        "stream": true,
        "instructions": "Be brief.",
        "max_output_tokens": 300,
        "temperature": 0.2,
        "reasoning": {"effort": "high", "enabled": true},
        "plugins": [{"id": "web", "max_results": 3}],
        "transforms": ["middle-out"],
        "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}, "strict": true}, "verbosity": "low"},
        "tools": [
            {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}, "strict": true},
            {"type": "openrouter:web_search"}
        ],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "input": [
            {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "You are helpful."}]},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "Weather in Paris?", "cache_control": {"type": "ephemeral", "ttl": "5m"}},
                {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "original"},
                {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,BBBB"}
            ]},
            {"type": "reasoning", "id": "rs_1", "format": "anthropic-claude-v1", "summary": [],
             "content": [{"type": "reasoning_text", "text": "Need a tool."}], "signature": "sig"},
            {"type": "function_call", "call_id": "call_a", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call", "call_id": "call_b", "name": "get_time", "arguments": ""},
            {"type": "function_call_output", "call_id": "call_a", "output": "sunny"},
            {"type": "function_call_output", "call_id": "call_b", "output": {"hour": 9}},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "It is sunny."}]}
        ]
    })
}

#[test]
fn options_are_renamed_or_copied() {
    let chat = to_chat_completions(&responses_body());
    assert_eq!(chat["model"], "anthropic/claude-sonnet-4.5");
    assert_eq!(
        chat["models"],
        json!(["openai/gpt-4o-mini", "google/gemini-2.5-flash"])
    );
    assert_eq!(chat["stream"], true);
    assert_eq!(chat["stream_options"], json!({"include_usage": true}));
    assert_eq!(chat["usage"], json!({"include": true}));
    assert_eq!(chat["max_tokens"], 300);
    assert_eq!(chat["temperature"], 0.2);
    assert_eq!(
        chat["reasoning"],
        json!({"effort": "high", "enabled": true})
    );
    assert_eq!(chat["plugins"], json!([{"id": "web", "max_results": 3}]));
    assert_eq!(chat["transforms"], json!(["middle-out"]));
    assert_eq!(chat["verbosity"], "low");
    assert_eq!(
        chat["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}})
    );
    for gone in ["input", "instructions", "max_output_tokens", "text"] {
        assert!(chat.get(gone).is_none(), "{gone} must not be sent");
    }
}

#[test]
fn tools_are_nested_and_server_tools_pass_through() {
    let chat = to_chat_completions(&responses_body());
    assert_eq!(
        chat["tools"],
        json!([
            {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}, "strict": true}},
            {"type": "openrouter:web_search"}
        ])
    );
    assert_eq!(
        chat["tool_choice"],
        json!({"type": "function", "function": {"name": "get_weather"}})
    );
}

#[test]
fn input_items_become_messages() {
    let chat = to_chat_completions(&responses_body());
    let messages = chat["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(
        messages[0]["content"],
        json!([{"type": "text", "text": "Be brief.\n\n"}, {"type": "text", "text": "You are helpful."}])
    );
    assert_eq!(
        messages[1]["content"],
        json!([
            {"type": "text", "text": "Weather in Paris?", "cache_control": {"type": "ephemeral", "ttl": "5m"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,BBBB"}}
        ])
    );
    // Both calls of the round share one assistant message, which carries the signed thinking.
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["content"], Value::Null);
    assert_eq!(
        messages[2]["tool_calls"],
        json!([
            {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
        ])
    );
    assert_eq!(
        messages[2]["reasoning_details"],
        json!([{"type": "reasoning.text", "text": "Need a tool.", "signature": "sig", "format": "anthropic-claude-v1", "index": 0}])
    );
    assert_eq!(
        messages[3],
        json!({"role": "tool", "tool_call_id": "call_a", "content": "sunny"})
    );
    assert_eq!(
        messages[4],
        json!({"role": "tool", "tool_call_id": "call_b", "content": "{\"hour\":9}"})
    );
    assert_eq!(
        messages[5],
        json!({"role": "assistant", "content": "It is sunny."})
    );
    assert_eq!(messages.len(), 6);
}

#[test]
fn instructions_without_a_system_message_lead_the_conversation() {
    let chat = to_chat_completions(&json!({
        "model": "m", "instructions": "Rules.", "input": "hello", "stream": false
    }));
    assert_eq!(
        chat["messages"],
        json!([{"role": "system", "content": "Rules."}, {"role": "user", "content": "hello"}])
    );
    assert!(chat.get("stream_options").is_none());
}

#[test]
fn reasoning_items_keep_only_what_a_provider_can_verify() {
    let unsigned =
        json!({"type": "reasoning", "content": [{"type": "reasoning_text", "text": "x"}]});
    assert!(reasoning_details(&unsigned).is_empty());
    let openai = json!({
        "type": "reasoning", "id": "rs_9", "format": "openai-responses-v1",
        "summary": [{"type": "summary_text", "text": "Plan"}], "encrypted_content": "gAAA"
    });
    assert_eq!(
        reasoning_details(&openai),
        vec![
            json!({"type": "reasoning.summary", "summary": "Plan", "format": "openai-responses-v1", "index": 0}),
            json!({"type": "reasoning.encrypted", "data": "gAAA", "id": "rs_9", "format": "openai-responses-v1", "index": 1}),
        ]
    );
}
