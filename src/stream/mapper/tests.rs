//! Mapper behaviour on hand-written event sequences (the fixtures are covered in
//! `tests/stream_fixtures.rs`).

use std::time::Duration;

use serde_json::{json, Value};

use super::super::clock::{Clock, ManualClock};
use super::*;
use crate::emit::{Emit, LogLevel};

fn mapper(opts: MapperOptions) -> (ResponseMapper, ManualClock) {
    let (clock, handle) = Clock::manual();
    (ResponseMapper::with_clock(opts, clock), handle)
}

fn feed(m: &mut ResponseMapper, events: &[Value]) -> Vec<Emit> {
    let mut out = Vec::new();
    for e in events {
        m.on_data(&e.to_string(), &mut out);
    }
    out
}

fn text_of(out: &[Emit]) -> String {
    out.iter()
        .filter_map(|e| match e {
            Emit::Content(c) => Some(c.as_str()),
            _ => None,
        })
        .collect()
}

fn reasoning_of(out: &[Emit]) -> String {
    out.iter()
        .filter_map(|e| match e {
            Emit::Reasoning(c) => Some(c.as_str()),
            _ => None,
        })
        .collect()
}

fn delta(text: &str) -> Value {
    json!({"type":"response.output_text.delta","item_id":"m","output_index":0,"delta":text})
}

fn completed() -> Value {
    json!({"type":"response.completed","response":{"id":"gen-1","status":"completed","output":[],
        "usage":{"input_tokens":10,"output_tokens":20,"total_tokens":30,"cost":0.5}}})
}

#[test]
fn lone_surrogates_in_reasoning_are_rejoined_per_kind() {
    let (mut m, _) = mapper(MapperOptions::default());
    let mut out = Vec::new();
    let r1 = r#"{"type":"response.reasoning_text.delta","item_id":"r","delta":"think \ud83e"}"#;
    let t1 = r#"{"type":"response.output_text.delta","item_id":"m","delta":"say \ud83d"}"#;
    let r2 = r#"{"type":"response.reasoning_text.delta","item_id":"r","delta":"\udd14 done"}"#;
    let t2 = r#"{"type":"response.output_text.delta","item_id":"m","delta":"\ude00!"}"#;
    for d in [r1, t1, r2, t2] {
        m.on_data(d, &mut out);
    }
    assert_eq!(reasoning_of(&out), "think 🤔 done");
    assert_eq!(text_of(&out), "say 😀!");
}

#[test]
fn a_surrogate_left_dangling_becomes_a_replacement_character() {
    let (mut m, _) = mapper(MapperOptions::default());
    let mut out = Vec::new();
    m.on_data(
        r#"{"type":"response.output_text.delta","item_id":"m","delta":"end \ud83d"}"#,
        &mut out,
    );
    m.finish(None, &mut out);
    assert!(text_of(&out).starts_with("end \u{FFFD}"));
}

#[test]
fn unknown_types_are_logged_once_each() {
    let (mut m, _) = mapper(MapperOptions::default());
    let ev = json!({"type":"response.future_thing","x":1});
    let other = json!({"type":"response.other_thing"});
    let out = feed(&mut m, &[ev.clone(), ev, other]);
    let logs: Vec<_> = out
        .iter()
        .filter(|e| {
            matches!(
                e,
                Emit::Log {
                    level: LogLevel::Debug,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(logs.len(), 2);
    assert_eq!(m.termination, Termination::Open);
}

#[test]
fn unreadable_payloads_warn_a_few_times_and_continue() {
    let (mut m, _) = mapper(MapperOptions::default());
    let mut out = Vec::new();
    for _ in 0..10 {
        assert!(!m.on_data("{not json", &mut out));
    }
    m.on_data(&delta("ok").to_string(), &mut out);
    let warns = out
        .iter()
        .filter(|e| {
            matches!(
                e,
                Emit::Log {
                    level: LogLevel::Warning,
                    ..
                }
            )
        })
        .count();
    assert_eq!(warns, 3);
    assert_eq!(text_of(&out), "ok");
}

#[test]
fn any_event_with_an_error_object_fails_the_stream() {
    for ev in [
        json!({"type":"response.output_text.delta","delta":"","error":{"code":"server_error","message":"boom"}}),
        json!({"type":"response.error","error":{"code":"server_error","message":"boom"}}),
        json!({"type":"error","error":{"code":"server_error","message":"boom"}}),
        json!({"type":"response.in_progress","response":{"status":"failed","error":{"message":"boom"}}}),
    ] {
        let (mut m, _) = mapper(MapperOptions::default());
        let mut out = feed(&mut m, &[delta("partial"), ev.clone()]);
        assert_eq!(m.termination, Termination::Failed, "{ev}");
        m.finish(None, &mut out);
        let text = text_of(&out);
        assert!(text.starts_with("partial\n\n### "), "{text}");
        assert!(text.contains("boom"), "{text}");
    }
}

#[test]
fn events_after_the_terminal_event_are_ignored() {
    let (mut m, _) = mapper(MapperOptions::default());
    let mut out = Vec::new();
    assert!(m.on_data(&completed().to_string(), &mut out));
    assert!(m.on_data(&delta("late").to_string(), &mut out));
    m.finish(None, &mut out);
    let n = out.len();
    m.finish(None, &mut out);
    assert_eq!(out.len(), n, "finish twice emits nothing more");
    assert_eq!(text_of(&out), "");
}

#[test]
fn response_done_is_completion() {
    let (mut m, _) = mapper(MapperOptions::default());
    let done = json!({"type":"response.done","response":{"status":"completed","usage":{"input_tokens":1,"output_tokens":2}}});
    let mut out = feed(&mut m, &[delta("hi"), done]);
    m.finish(None, &mut out);
    assert_eq!(m.termination, Termination::Completed);
    assert!(out
        .iter()
        .any(|e| matches!(e, Emit::Usage(u) if u["total_tokens"] == 3)));
}

#[test]
fn docs_sample_content_part_deltas_show_once() {
    let (mut m, _) = mapper(MapperOptions::default());
    let events = [
        json!({"type":"response.output_item.added","output_index":0,"item":{"type":"message","id":"msg_abc","content":[]}}),
        json!({"type":"response.content_part.delta","output_index":0,"content_index":0,"delta":"Once"}),
        json!({"type":"response.content_part.delta","output_index":0,"content_index":0,"delta":" upon"}),
        json!({"type":"response.output_item.done","output_index":0,"item":{"type":"message","id":"msg_abc",
            "content":[{"type":"output_text","text":"Once upon"}]}}),
    ];
    let mut out = feed(&mut m, &events);
    m.finish(None, &mut out);
    assert_eq!(text_of(&out), "Once upon");
    assert_eq!(m.termination, Termination::Completed);
}

#[test]
fn snapshot_only_message_and_reasoning_are_shown() {
    let (mut m, _) = mapper(MapperOptions::default());
    let events = [
        json!({"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","id":"rs",
            "summary":[{"type":"summary_text","text":"Plan."}],"encrypted_content":"gAAA"}}),
        json!({"type":"response.output_item.done","output_index":1,"item":{"type":"message","id":"m",
            "content":[{"type":"output_text","text":"Answer.","annotations":[
                {"type":"url_citation","url":"https://a.example/x?utm_source=openai","title":"A"}]}]}}),
        json!({"type":"response.completed","response":{"status":"completed","output":[
            {"type":"reasoning","id":"rs","summary":[{"type":"summary_text","text":"Plan."}],"encrypted_content":"gAAA"},
            {"type":"message","id":"m","content":[{"type":"output_text","text":"Answer.","annotations":[
                {"type":"url_citation","url":"https://a.example/x","title":"A"},
                {"type":"url_citation","url":"https://b.example/","title":"B"}]}]}]}}),
    ];
    let out = feed(&mut m, &events);
    assert_eq!(reasoning_of(&out), "Plan.");
    assert_eq!(text_of(&out), "Answer.");
    let urls: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            Emit::Source(s) => s["source"]["url"].as_str(),
            _ => None,
        })
        .collect();
    assert_eq!(urls, ["https://a.example/x", "https://b.example/"]);
    assert_eq!(m.output_items.len(), 1);
}

#[test]
fn reasoning_snapshots_after_deltas_add_only_missing_text() {
    let (mut m, _) = mapper(MapperOptions::default());
    let events = [
        json!({"type":"response.output_item.added","output_index":0,"item":{"type":"reasoning","id":"rs"}}),
        json!({"type":"response.reasoning.delta","delta":"Step one"}),
        json!({"type":"response.reasoning_text.done","item_id":"rs","content_index":0,"text":"Step one and two"}),
        json!({"type":"response.content_part.done","item_id":"rs","content_index":0,
            "part":{"type":"reasoning_text","text":"Step one and two"}}),
    ];
    let out = feed(&mut m, &events);
    assert_eq!(reasoning_of(&out), "Step one and two");
}

#[test]
fn call_without_call_id_or_item_done_is_emitted_at_finish() {
    let (mut m, _) = mapper(MapperOptions::default());
    let events = [
        json!({"type":"response.function_call_arguments.delta","item_id":"fc","output_index":0,"delta":"{\"q\":"}),
        json!({"type":"response.function_call_arguments.delta","item_id":"fc","output_index":0,"delta":"1}"}),
        json!({"type":"response.function_call_arguments.done","item_id":"fc","output_index":0,"name":"lookup"}),
        json!({"type":"response.completed","response":{"status":"completed"}}),
    ];
    let mut out = feed(&mut m, &events);
    assert!(!out.iter().any(|e| matches!(e, Emit::FunctionCall(_))));
    m.finish(None, &mut out);
    let call = out
        .iter()
        .find_map(|e| match e {
            Emit::FunctionCall(c) => Some(c.clone()),
            _ => None,
        })
        .expect("call emitted at finish");
    assert_eq!(
        (call.name.as_str(), call.arguments.as_str()),
        ("lookup", "{\"q\":1}")
    );
    assert_eq!(call.call_id, "fc");
}

#[test]
fn web_search_without_listed_sources_reads_the_citations() {
    let (mut m, _) = mapper(MapperOptions::default());
    let events = [
        json!({"type":"response.output_item.added","output_index":0,"item":{"type":"web_search_call","id":"ws"}}),
        json!({"type":"response.output_item.done","output_index":0,"item":{"type":"web_search_call","id":"ws",
            "action":{"type":"search","query":"q"}}}),
        json!({"type":"response.output_text.annotation.added","annotation":{"type":"url_citation","url":"https://x.org"}}),
        delta("text"),
    ];
    let mut out = feed(&mut m, &events);
    m.finish(None, &mut out);
    let read = out.iter().find_map(|e| match e {
        Emit::Status {
            description,
            done: true,
            extra,
        } if description == "Read 1 source" => Some(extra.clone()),
        _ => None,
    });
    assert_eq!(read.expect("read status")["urls"], json!(["https://x.org"]));
}

#[test]
fn content_filter_note() {
    let (mut m, _) = mapper(MapperOptions::default());
    let inc = json!({"type":"response.incomplete","response":{"status":"incomplete",
        "incomplete_details":{"reason":"content_filter"}}});
    let mut out = feed(&mut m, &[delta("Some"), inc]);
    m.finish(None, &mut out);
    assert_eq!(
        m.termination,
        Termination::Incomplete("content_filter".into())
    );
    assert!(text_of(&out).ends_with("cut short by the provider's content filter."));
}

#[test]
fn final_status_variants() {
    // Usage line with tokens per second from the generation time.
    let opts = MapperOptions {
        show_final_usage: true,
        ..MapperOptions::default()
    };
    let (mut m, clock) = mapper(opts);
    clock.advance(Duration::from_millis(500));
    let mut out = feed(&mut m, &[delta("a")]);
    clock.advance(Duration::from_millis(1500));
    out.extend(feed(&mut m, &[delta("b"), completed()]));
    clock.advance(Duration::from_millis(210));
    m.finish(None, &mut out);
    assert_eq!(
        out.last(),
        Some(&Emit::status(
            "Time: 2.21s  10.0 tps | Cost $0.5 | Total tokens: 30 (Input: 10, Output: 20)",
            true
        ))
    );

    // Without the usage line: how long the answer took, reasoning or not.
    let (mut m, clock) = mapper(MapperOptions::default());
    clock.advance(Duration::from_millis(3400));
    let mut out = feed(
        &mut m,
        &[json!({"type":"response.reasoning_text.delta","item_id":"r","delta":"hmm"})],
    );
    clock.advance(Duration::from_secs(5));
    out.extend(feed(&mut m, &[delta("x"), completed()]));
    m.finish(None, &mut out);
    assert_eq!(
        out.last(),
        Some(&Emit::status("Thought for 8.4 seconds", true))
    );
    let (mut m, clock) = mapper(MapperOptions::default());
    clock.advance(Duration::from_millis(1200));
    let mut out = feed(&mut m, &[delta("x"), completed()]);
    m.finish(None, &mut out);
    assert_eq!(
        out.last(),
        Some(&Emit::status("Thought for 1.2 seconds", true))
    );

    // A later round of a tool loop: time and speed are the whole answer's.
    let opts = MapperOptions {
        show_final_usage: true,
        elapsed_before: Duration::from_secs(3),
        usage_before: Some(json!({"input_tokens": 5, "output_tokens": 10, "total_tokens": 15})),
        ..MapperOptions::default()
    };
    let (mut m, clock) = mapper(opts);
    clock.advance(Duration::from_millis(1000));
    let mut out = feed(&mut m, &[delta("a"), completed()]);
    m.finish(None, &mut out);
    assert_eq!(
        out.last(),
        Some(&Emit::status(
            "Time: 4.00s  7.5 tps | Cost $0.5 | Total tokens: 45 (Input: 15, Output: 30)",
            true
        ))
    );
}

#[test]
fn status_mode_throttles_by_time() {
    let opts = MapperOptions {
        thinking_mode: ThinkingMode::Status,
        ..MapperOptions::default()
    };
    let (mut m, clock) = mapper(opts);
    let r = |d: &str| json!({"type":"response.reasoning_text.delta","item_id":"r","delta":d});
    let mut out = feed(&mut m, &[r("Looking at the"), r(" question")]);
    let shown = out
        .iter()
        .filter(|e| matches!(e, Emit::Status { .. }))
        .count();
    assert_eq!(shown, 1, "the first 12+ chars are shown at once: {out:?}");
    out.clear();
    out.extend(feed(&mut m, &[r(" and its context")]));
    assert!(out.is_empty(), "too soon for another line: {out:?}");
    clock.advance(Duration::from_millis(800));
    out.extend(feed(&mut m, &[r(" more")]));
    assert_eq!(
        out,
        vec![Emit::status("question and its context more", false)]
    );
    assert!(reasoning_of(&out).is_empty());
}

#[test]
fn transport_error_after_terminal_event_is_not_an_interruption() {
    let (mut m, _) = mapper(MapperOptions::default());
    let mut out = feed(&mut m, &[delta("done"), completed()]);
    m.finish(Some("connection reset"), &mut out);
    assert_eq!(m.termination, Termination::Completed);
    assert_eq!(text_of(&out), "done");
}

#[test]
fn unlisted_reasoning_event_names_are_still_reasoning() {
    let (mut m, _) = mapper(MapperOptions::default());
    let events = [
        json!({"type":"response.reasoning_details.delta","item_id":"r","delta":"Hmm, "}),
        json!({"type":"response.reasoning_details.done","item_id":"r","text":"Hmm, okay."}),
    ];
    let out = feed(&mut m, &events);
    assert_eq!(reasoning_of(&out), "Hmm, okay.");
    assert!(!out.iter().any(|e| matches!(e, Emit::Log { .. })));
}

#[test]
fn transient_failure_codes_are_read_wherever_providers_put_them() {
    let cases = [
        (
            json!({"type":"error","code":"rate_limit_exceeded","message":"slow down"}),
            Some(429),
        ),
        (
            json!({"type":"error","error":{"code":502,"message":"x"}}),
            Some(502),
        ),
        (
            json!({"type":"error","error":{"code":"503","message":"x"}}),
            Some(503),
        ),
        (
            json!({"type":"error","error":{"code":"x","metadata":{"error_type":"provider_overloaded"}}}),
            Some(503),
        ),
        (
            json!({"type":"response.failed","response":{"status":"failed","error":{"code":"server_error"}}}),
            Some(500),
        ),
        (
            json!({"type":"error","error":{"code":"invalid_prompt","message":"no"}}),
            None,
        ),
        (
            json!({"type":"error","error":{"code":400,"message":"no"}}),
            None,
        ),
        (
            json!({"type":"response.failed","response":{"status":"failed","error":{"message":"no code"}}}),
            None,
        ),
    ];
    for (event, want) in cases {
        let (mut m, _) = mapper(MapperOptions::default());
        feed(&mut m, std::slice::from_ref(&event));
        let got = m.retryable_failure();
        assert_eq!(got.as_ref().map(|(status, _)| *status), want, "{event}");
        if let Some((_, error)) = got {
            assert!(
                error.is_object(),
                "{event}: the error object travels with the status"
            );
        }
    }
    let (mut m, _) = mapper(MapperOptions::default());
    feed(&mut m, &[completed()]);
    assert_eq!(
        m.retryable_failure(),
        None,
        "a completed answer is no failure"
    );
}

#[test]
fn an_image_item_says_it_is_generating_once_and_is_handed_on_once() {
    const IMAGES: &str = include_str!("../../../fixtures/openrouter/stream_image_generation.sse");
    let (mut m, _) = mapper(MapperOptions::default());
    let mut out = Vec::new();
    for line in IMAGES.lines().filter_map(|l| l.strip_prefix("data: ")) {
        if line != "[DONE]" {
            m.on_data(line, &mut out);
        }
    }
    m.finish(None, &mut out);
    assert_eq!(text_of(&out), "Here is a red square.");
    let generating = out
        .iter()
        .filter(|e| matches!(e, Emit::Status { description, .. } if description == "Generating an image…"))
        .count();
    assert_eq!(generating, 1);
    let images: Vec<&Value> = out
        .iter()
        .filter_map(|e| match e {
            Emit::ItemDone { item, .. } if item["type"] == "image_generation_call" => Some(item),
            _ => None,
        })
        .collect();
    assert_eq!(images.len(), 1, "the completed response repeats the item");
    assert!(images[0]["result"].as_str().unwrap().starts_with("iVBOR"));
    assert!(
        !out.iter().any(|e| matches!(e, Emit::Log { .. })),
        "no event is unknown"
    );
}

#[test]
fn stored_usage_counts_rounds_and_tool_calls_over_the_answer() {
    let opts = MapperOptions {
        usage_before: Some(json!({"input_tokens": 5, "turn_count": 1, "function_call_count": 2})),
        ..MapperOptions::default()
    };
    let (mut m, _) = mapper(opts);
    let mut out = feed(&mut m, &[delta("done"), completed()]);
    m.finish(None, &mut out);
    let usage = out
        .iter()
        .find_map(|e| match e {
            Emit::Usage(u) => Some(u.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(usage["turn_count"], 2);
    assert_eq!(usage["function_call_count"], 2);
    assert_eq!(usage["input_tokens"], 15);
    assert_eq!(
        m.usage.as_ref().unwrap()["turn_count"],
        1,
        "the round's own count"
    );
}

#[test]
fn text_without_reasoning_first_says_it_is_responding_once() {
    let statuses = |out: &[Emit]| -> Vec<String> {
        out.iter()
            .filter_map(|e| match e {
                Emit::Status { description, .. } => Some(description.clone()),
                _ => None,
            })
            .collect()
    };
    let (mut m, _) = mapper(MapperOptions::default());
    let out = feed(&mut m, &[delta("a"), delta("b")]);
    assert_eq!(statuses(&out), [RESPONDING]);
    let (mut m, _) = mapper(MapperOptions::default());
    let out = feed(
        &mut m,
        &[
            json!({"type":"response.reasoning_text.delta","item_id":"r","delta":"hmm"}),
            delta("a"),
        ],
    );
    assert!(!statuses(&out).iter().any(|s| s == RESPONDING), "{out:?}");
}
