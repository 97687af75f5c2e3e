//! Chat Completions chunks give the same emits, results and stored items as the
//! Responses stream would: text, reasoning, citations, usage, tool calls, error cards.

use serde_json::{json, Value};

use super::{usage_to_responses, ChatCompletionsMapper};
use crate::emit::Emit;
use crate::sse::{SseFrame, SseParser};
use crate::stream::mapper::{MapperOptions, Termination};

const TEXT: &str = include_str!("../../../fixtures/openrouter/chat_stream_text.sse");
const TOOLS: &str = include_str!("../../../fixtures/openrouter/chat_stream_tool_call.sse");
const ERROR: &str = include_str!("../../../fixtures/openrouter/chat_stream_error_midstream.sse");
const LENGTH: &str = include_str!("../../../fixtures/openrouter/chat_stream_length.sse");
const NONSTREAM: &str = include_str!("../../../fixtures/openrouter/chat_nonstream_response.json");

fn options() -> MapperOptions {
    MapperOptions {
        show_final_usage: true,
        model_label: "Test model".into(),
        model_id: String::new(),
        ..MapperOptions::default()
    }
}

/// Runs a whole SSE body through the mapper the way the engine does.
fn run(body: &str, options: MapperOptions) -> (ChatCompletionsMapper, Vec<Emit>) {
    let mut mapper = ChatCompletionsMapper::new(options);
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    let mut out = Vec::new();
    parser.push(body.as_bytes(), &mut frames);
    parser.finish(&mut frames);
    for frame in frames {
        match frame {
            SseFrame::Data(data) => {
                if mapper.on_data(&data, &mut out) {
                    break;
                }
            }
            SseFrame::Done => {
                mapper.on_done();
                break;
            }
        }
    }
    mapper.finish(None, &mut out);
    (mapper, out)
}

fn content(out: &[Emit]) -> String {
    out.iter()
        .filter_map(|e| match e {
            Emit::Content(c) => Some(c.as_str()),
            _ => None,
        })
        .collect()
}

fn reasoning(out: &[Emit]) -> String {
    out.iter()
        .filter_map(|e| match e {
            Emit::Reasoning(c) => Some(c.as_str()),
            _ => None,
        })
        .collect()
}

fn usage(out: &[Emit]) -> Option<Value> {
    out.iter().find_map(|e| match e {
        Emit::Usage(u) => Some(u.clone()),
        _ => None,
    })
}

fn last_status(out: &[Emit]) -> (String, bool) {
    out.iter()
        .rev()
        .find_map(|e| match e {
            Emit::Status {
                description, done, ..
            } => Some((description.clone(), *done)),
            _ => None,
        })
        .expect("a status")
}

#[test]
fn streamed_text_reasoning_citations_and_usage() {
    let (mapper, out) = run(TEXT, options());
    assert_eq!(content(&out), "Paris is the capital of France.");
    // `reasoning` and `reasoning_details` say the same thing: shown once.
    assert_eq!(reasoning(&out), "The user asks about Paris.");
    let sources: Vec<&Value> = out
        .iter()
        .filter_map(|e| match e {
            Emit::Source(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(sources.len(), 1);
    assert_eq!(
        sources[0]["source"]["url"],
        "https://en.wikipedia.org/wiki/Paris"
    );
    let usage = usage(&out).expect("usage");
    assert_eq!(usage["prompt_tokens"], 42);
    assert_eq!(usage["completion_tokens"], 18);
    assert_eq!(usage["input_tokens_details"]["cached_tokens"], 10);
    assert_eq!(usage["cost"], 0.000612);
    let (line, done) = last_status(&out);
    assert!(done && line.contains("Total tokens: 60"), "{line}");
    assert_eq!(mapper.inner.termination, Termination::Completed);
    assert_eq!(
        mapper.inner.response_id.as_deref(),
        Some("gen-1767226300-Ch4tC0mpl3t10nsAbCd")
    );
}

#[test]
fn signed_reasoning_is_kept_as_a_replayable_item() {
    let (mapper, _) = run(TEXT, options());
    let items = &mapper.inner.output_items;
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item["type"], "reasoning");
    assert_eq!(item["signature"], "EqMBCkYIBxgCKkBsig");
    assert_eq!(item["format"], "anthropic-claude-v1");
    assert_eq!(
        item["content"],
        json!([{"type": "reasoning_text", "text": "The user asks about Paris."}])
    );
}

#[test]
fn tool_call_fragments_become_function_calls() {
    let (mapper, out) = run(TOOLS, options());
    let calls: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            Emit::FunctionCall(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].call_id, "call_weather_1");
    assert_eq!(calls[0].name, "get_weather");
    assert_eq!(calls[0].arguments, r#"{"city":"Paris"}"#);
    // An empty id gets a unique one, and missing arguments mean an empty object.
    assert!(
        calls[1].call_id.starts_with("call_1_"),
        "{}",
        calls[1].call_id
    );
    assert_eq!(calls[1].name, "get_time");
    assert_eq!(calls[1].arguments, "{}");
    assert_eq!(mapper.inner.function_calls.len(), 2);
    let kinds: Vec<&str> = mapper
        .inner
        .output_items
        .iter()
        .filter_map(|i| i["type"].as_str())
        .collect();
    assert_eq!(kinds, ["function_call", "function_call"]);
    assert_eq!(mapper.inner.output_items[0]["call_id"], "call_weather_1");
    assert_eq!(usage(&out).unwrap()["total_tokens"], 100);
}

#[test]
fn a_round_of_calls_can_defer_its_final_status() {
    let (_, out) = run(
        TOOLS,
        MapperOptions {
            defer_final_on_calls: true,
            ..options()
        },
    );
    assert!(usage(&out).is_none());
    assert!(!out
        .iter()
        .any(|e| matches!(e, Emit::Status { done: true, .. })));
}

#[test]
fn an_error_chunk_keeps_the_text_and_ends_with_a_card() {
    let (mapper, out) = run(ERROR, options());
    let text = content(&out);
    assert!(
        text.starts_with("Here is the first part of an answer"),
        "{text}"
    );
    assert!(
        text.contains("Provider disconnected unexpectedly"),
        "{text}"
    );
    assert!(text.contains("Error ID"), "{text}");
    assert_eq!(mapper.inner.termination, Termination::Failed);
}

#[test]
fn a_length_finish_says_the_answer_was_cut_short() {
    let (mapper, out) = run(LENGTH, options());
    assert!(content(&out).contains("output token limit"));
    assert_eq!(
        mapper.inner.termination,
        Termination::Incomplete("max_output_tokens".into())
    );
}

#[test]
fn a_stream_cut_before_its_end_is_interrupted() {
    let cut = &TEXT[..TEXT.find("Paris is the capital").unwrap_or(TEXT.len() / 2)];
    let cut = &cut[..cut.rfind("\n\n").unwrap() + 2];
    let mut mapper = ChatCompletionsMapper::new(options());
    let mut parser = SseParser::new();
    let (mut frames, mut out) = (Vec::new(), Vec::new());
    parser.push(cut.as_bytes(), &mut frames);
    for frame in frames {
        if let SseFrame::Data(data) = frame {
            mapper.on_data(&data, &mut out);
        }
    }
    mapper.finish(None, &mut out);
    assert_eq!(mapper.inner.termination, Termination::Interrupted);
}

#[test]
fn a_whole_document_maps_like_a_stream() {
    let mut mapper = ChatCompletionsMapper::new(options());
    let mut out = Vec::new();
    mapper.on_complete_body(NONSTREAM, &mut out);
    assert_eq!(content(&out), "Let me check.");
    assert_eq!(reasoning(&out), "Need the weather.");
    assert_eq!(mapper.inner.function_calls.len(), 1);
    assert_eq!(mapper.inner.function_calls[0].call_id, "call_w");
    assert!(out.iter().any(|e| matches!(e, Emit::Source(_))));
    let reasoning_item = &mapper.inner.output_items[0];
    assert_eq!(reasoning_item["id"], "rs_0abc123");
    assert_eq!(reasoning_item["encrypted_content"], "gAAAAABencrypted");
    assert_eq!(usage(&out).unwrap()["prompt_tokens"], 30);
}

#[test]
fn an_error_envelope_with_a_success_status_is_a_card() {
    let mut mapper = ChatCompletionsMapper::new(options());
    let mut out = Vec::new();
    let body = r#"{"error":{"code":502,"message":"Upstream overloaded"}}"#;
    mapper.on_complete_body(body, &mut out);
    assert!(content(&out).contains("Error ID"));
    assert_eq!(mapper.inner.termination, Termination::Failed);
}

#[test]
fn usage_names_and_cost_keys_follow_the_responses_api() {
    let usage = usage_to_responses(&json!({
        "prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7,
        "completion_tokens_details": {"reasoning_tokens": 1},
        "cost": 0.1,
        "cost_details": {"upstream_inference_prompt_cost": 0.04, "upstream_inference_completions_cost": 0.06},
        "server_tool_use": {"web_search_requests": 1}
    }));
    assert_eq!(
        usage,
        json!({
            "input_tokens": 3, "output_tokens": 4, "total_tokens": 7,
            "output_tokens_details": {"reasoning_tokens": 1},
            "cost": 0.1,
            "cost_details": {"upstream_inference_input_cost": 0.04, "upstream_inference_output_cost": 0.06},
            "server_tool_use_details": {"web_search_requests": 1}
        })
    );
}

#[test]
fn an_openai_summary_keeps_the_encrypted_entrys_id_for_replay() {
    let chunk = |details: Value| {
        json!({"id": "gen-2", "model": "openai/gpt-5-mini", "object": "chat.completion.chunk",
               "choices": [{"index": 0, "delta": {"reasoning_details": details}, "finish_reason": null}]})
        .to_string()
    };
    let fmt = "openai-responses-v1";
    let mut mapper = ChatCompletionsMapper::new(options());
    let mut out = Vec::new();
    for part in ["Plan", " the answer."] {
        let data = chunk(
            json!([{"type": "reasoning.summary", "summary": part, "format": fmt, "index": 0}]),
        );
        mapper.on_data(&data, &mut out);
    }
    let encrypted = json!([{"type": "reasoning.encrypted", "data": "gAAAAB", "id": "rs_42", "format": fmt, "index": 0}]);
    mapper.on_data(&chunk(encrypted), &mut out);
    mapper.on_done();
    mapper.finish(None, &mut out);
    assert_eq!(reasoning(&out), "Plan the answer.");
    let item = &mapper.inner.output_items[0];
    assert_eq!(item["id"], "rs_42");
    assert_eq!(item["encrypted_content"], "gAAAAB");
    assert_eq!(
        item["summary"],
        json!([{"type": "summary_text", "text": "Plan the answer."}])
    );
    let stored = out.iter().find_map(|e| match e {
        Emit::ItemDone { item, .. } => Some(item.clone()),
        _ => None,
    });
    assert_eq!(stored.unwrap()["id"], "rs_42");
}

#[test]
fn a_cited_answer_shows_the_web_search_statuses_with_its_sources() {
    let statuses = |out: &[Emit]| -> Vec<(String, bool, Value)> {
        out.iter()
            .filter_map(|e| match e {
                Emit::Status {
                    description,
                    done,
                    extra,
                } => Some((description.clone(), *done, Value::Object(extra.clone()))),
                _ => None,
            })
            .collect()
    };
    let (_, out) = run(TEXT, options());
    let seen = statuses(&out);
    let names: Vec<&str> = seen.iter().map(|(d, _, _)| d.as_str()).collect();
    let searching = names.iter().position(|d| *d == "Searching the web…");
    let read = names.iter().position(|d| *d == "Read 1 source");
    assert!(
        matches!((searching, read), (Some(s), Some(r)) if s < r),
        "{names:?}"
    );
    let (_, done, extra) = &seen[read.unwrap()];
    assert!(*done);
    assert_eq!(
        extra["urls"],
        json!(["https://en.wikipedia.org/wiki/Paris"])
    );
    // The usage line still closes the status area.
    assert!(
        names.last().unwrap().contains("Total tokens: 60"),
        "{names:?}"
    );

    // An answer without citations shows no search.
    let (_, out) = run(TOOLS, options());
    assert!(!statuses(&out).iter().any(|(d, _, _)| d.contains("web")));

    // The non-streamed body says the same.
    let doc = json!({"id": "gen-1", "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "Paris.", "annotations": [
            {"type": "url_citation", "url_citation": {"url": "https://a.example/p", "title": "A"}},
            {"type": "url_citation", "url_citation": {"url": "https://b.example/q", "title": "B"}}]}}]});
    let mut mapper = ChatCompletionsMapper::new(options());
    let mut out = Vec::new();
    mapper.on_complete_body(&doc.to_string(), &mut out);
    mapper.finish(None, &mut out);
    let seen = statuses(&out);
    let read = seen
        .iter()
        .find(|(d, _, _)| d == "Read 2 sources")
        .expect("sources");
    assert_eq!(
        read.2["urls"],
        json!(["https://a.example/p", "https://b.example/q"])
    );
}

#[test]
fn generated_images_become_one_image_item_each_for_the_engine_to_show() {
    const IMAGES: &str =
        include_str!("../../../fixtures/openrouter/chat_stream_image_generation.sse");
    const WHOLE: &str =
        include_str!("../../../fixtures/openrouter/chat_nonstream_image_generation.json");
    let images = |out: &[Emit]| -> Vec<Value> {
        out.iter()
            .filter_map(|e| match e {
                Emit::ItemDone { item, .. } if item["type"] == "image_generation_call" => {
                    Some(item["result"][0]["image_url"]["url"].clone())
                }
                _ => None,
            })
            .collect()
    };
    let (mapper, streamed) = run(IMAGES, options());
    assert_eq!(content(&streamed), "Here is a red square.");
    assert_eq!(mapper.inner.termination, Termination::Completed);
    let shown = images(&streamed);
    assert_eq!(shown.len(), 1);
    assert!(shown[0]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,iVBOR"));
    let mut whole = ChatCompletionsMapper::new(options());
    let mut out = Vec::new();
    whole.on_complete_body(WHOLE, &mut out);
    assert_eq!(content(&out), "Here is a red square.");
    assert_eq!(images(&out), shown);
}
