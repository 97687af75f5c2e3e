//! End-to-end behaviour on the OpenRouter fixtures: SSE bytes → parser → mapper → emits.
//!
//! Every `.sse` fixture is checked for what a user would see (answer text, reasoning,
//! sources, statuses, usage, how it ended), and for identical output however the body is
//! split into reads and whichever line ending (LF, CRLF, CR) frames it.

mod common;

use common::*;
use openrouter_pipe::sse::{SseFrame, SseParser};
use openrouter_pipe::stream::Clock;
use openrouter_pipe::stream::{MapperOptions, ResponseMapper, Termination};
use openrouter_pipe::valves::ThinkingMode;
use openrouter_pipe::{Emit, LogLevel};
use proptest::prelude::*;
use serde_json::{json, Value};

const SSE_FIXTURES: &[&str] = &[
    "stream_text.sse",
    "stream_reasoning.sse",
    "stream_reasoning_text.sse",
    "stream_tool_call.sse",
    "stream_web_search.sse",
    "stream_error_midstream.sse",
    "stream_error_event_midstream.sse",
    "stream_incomplete.sse",
    "stream_unicode.sse",
];

/// The fixture with its LF line ends rewritten (JSON payloads hold no raw newlines).
fn framed(body: &[u8], eol: &str) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec()).unwrap();
    text.replace('\n', eol).into_bytes()
}

struct Run {
    emits: Vec<Emit>,
    mapper: ResponseMapper,
}

/// Feeds `body` cut at `cuts` (sorted offsets) the way the engine will: stop at `[DONE]`,
/// then `finish`. The manual clock never moves, so times are stable.
fn run_with(
    body: &[u8],
    cuts: &[usize],
    opts: MapperOptions,
    transport_error: Option<&str>,
) -> Run {
    let (clock, _handle) = Clock::manual();
    let mut mapper = ResponseMapper::with_clock(opts, clock);
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    let mut emits = Vec::new();
    let mut done = false;
    let mut start = 0;
    let ends = cuts.iter().copied().chain(std::iter::once(body.len()));
    for end in ends {
        if done || end < start {
            continue;
        }
        parser.push(&body[start..end], &mut frames);
        start = end;
        for frame in frames.drain(..) {
            match frame {
                SseFrame::Data(d) if !done => {
                    mapper.on_data(&d, &mut emits);
                }
                _ => done = true,
            }
        }
    }
    if !done {
        parser.finish(&mut frames);
        for frame in frames.drain(..) {
            if let SseFrame::Data(d) = frame {
                mapper.on_data(&d, &mut emits);
            }
        }
    }
    mapper.finish(transport_error, &mut emits);
    Run { emits, mapper }
}

fn run(name: &str) -> Run {
    run_with(&fixture(name), &[], options(), None)
}

/// Error ids are random; replace them so two runs compare equal.
fn normalized(emits: &[Emit]) -> Vec<Emit> {
    let ids: Vec<String> = emits
        .iter()
        .filter_map(|e| match e {
            Emit::Log { message, .. } if message.starts_with('[') => {
                message.get(1..17).map(str::to_owned)
            }
            _ => None,
        })
        .collect();
    let fix = |s: &str| {
        ids.iter().fold(s.to_owned(), |acc, id| {
            acc.replace(id.as_str(), "<error-id>")
        })
    };
    emits
        .iter()
        .map(|e| match e {
            Emit::Content(c) => Emit::Content(fix(c)),
            Emit::Log { level, message } => Emit::Log {
                level: *level,
                message: fix(message),
            },
            other => other.clone(),
        })
        .collect()
}

/// The tail of the emits: the last `n` variants' names, to check closing order.

#[test]
fn text_stream() {
    let r = run("stream_text.sse");
    assert_eq!(
        content(&r.emits),
        "Hello! Rust makes fast, safe software fun to write."
    );
    assert_eq!(
        r.mapper.text,
        "Hello! Rust makes fast, safe software fun to write."
    );
    assert_eq!(reasoning(&r.emits), "");
    assert_eq!(r.mapper.termination, Termination::Completed);
    let usage = usages(&r.emits);
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0]["prompt_tokens"], 14);
    assert_eq!(usage[0]["completion_tokens"], 12);
    assert_eq!(usage[0]["total_tokens"], 26);
    assert_eq!(usage[0]["cost"], 0.0000093);
    assert_eq!(r.mapper.usage.as_ref().unwrap()["input_tokens"], 14);
    assert_eq!(
        last_status(&r.emits),
        (
            "Time: 0.00s | Cost $0.000009 | Total tokens: 26 (Input: 14, Output: 12)".into(),
            true
        )
    );
    assert_eq!(tail_kinds(&r.emits, 2), ["usage", "status"]);
    assert_eq!(
        r.mapper.response_id.as_deref(),
        Some("gen-1767225600-Qx7Lm2Rt9Vb4Nc8Pz1Kd")
    );
    assert!(
        r.mapper.output_items.is_empty(),
        "message items are not kept for replay"
    );
    // One Content per delta: nothing is buffered or repeated.
    assert_eq!(
        r.emits
            .iter()
            .filter(|e| matches!(e, Emit::Content(_)))
            .count(),
        12
    );
}

#[test]
fn reasoning_summary_stream() {
    let r = run("stream_reasoning.sse");
    assert_eq!(
        reasoning(&r.emits),
        "**Determining the current year**\n\nThe question is whether 1995 was 30 years ago. I need the current year to compare.\n\n**Computing the difference**\n\n2025 minus 1995 is 30, so the answer is yes for 2025."
    );
    assert_eq!(r.mapper.reasoning_text(), reasoning(&r.emits));
    assert_eq!(
        content(&r.emits),
        "Yes. In 2025, 1995 was exactly 30 years ago."
    );
    // The reasoning item finished after the message, and is still the one kept.
    assert_eq!(r.mapper.output_items.len(), 1);
    let item = &r.mapper.output_items[0];
    assert_eq!(item["type"], "reasoning");
    assert_eq!(item["format"], "openai-responses-v1");
    assert!(item["encrypted_content"]
        .as_str()
        .unwrap()
        .starts_with("gAAAA"));
    assert_eq!(
        usages(&r.emits)[0]["output_tokens_details"]["reasoning_tokens"],
        192
    );
    assert_eq!(r.mapper.termination, Termination::Completed);
    let line = last_status(&r.emits).0;
    assert!(line.contains("Reasoning: 192"), "{line}");
    assert!(line.contains("Cost $0.000965"), "{line}");
}

#[test]
fn raw_reasoning_text_stream() {
    let r = run("stream_reasoning_text.sse");
    assert_eq!(
        reasoning(&r.emits),
        "The user wants a haiku about compilers. 5-7-5 syllables: \"Tokens fall like rain\" is 5. Then a 7-syllable line about parsing, then 5 for the binary."
    );
    assert_eq!(
        content(&r.emits),
        "Tokens fall like rain\nParsers weave the tangled trees\nBinary wakes up"
    );
    let item = &r.mapper.output_items[0];
    assert_eq!(item["format"], "anthropic-claude-v1");
    assert!(item["signature"].as_str().unwrap().starts_with("EpgC"));
    assert_eq!(r.mapper.termination, Termination::Completed);
    assert_eq!(usages(&r.emits)[0]["completion_tokens"], 96);
}

#[test]
fn tool_call_stream() {
    let r = run("stream_tool_call.sse");
    let c = calls(&r.emits);
    assert_eq!(c.len(), 1, "exactly one call");
    assert_eq!(c[0].item_id, "fc_tmp_r2m8w5k1qz");
    assert_eq!(c[0].call_id, "call_Xk3Lm9Qp2Rt7Vw4Yz8Ab1Cd");
    assert_eq!(c[0].name, "get_weather");
    let args: Value = serde_json::from_str(&c[0].arguments).unwrap();
    assert_eq!(
        args,
        json!({"location":"San Francisco, CA","unit":"fahrenheit","details":"include \"feels like\""})
    );
    assert_eq!(r.mapper.function_calls.len(), 1);
    assert_eq!(r.mapper.output_items.len(), 1);
    assert_eq!(r.mapper.output_items[0]["status"], "completed");
    assert_eq!(content(&r.emits), "");
    assert_eq!(r.mapper.termination, Termination::Completed);
}

#[test]
fn web_search_stream() {
    let r = run("stream_web_search.sse");
    assert_eq!(
        content(&r.emits),
        "Rust 1.85.0 was released on February 20, 2025 and stabilized the Rust 2024 edition. Async closures also became stable in that release."
    );
    let s = sources(&r.emits);
    assert_eq!(
        s.len(),
        2,
        "annotations repeated in 4 places still give 2 sources"
    );
    assert_eq!(
        *s[0],
        json!({"source":{"name":"blog.rust-lang.org","url":"https://blog.rust-lang.org/2025/02/20/Rust-1.85.0/"},
               "document":["The Rust team is happy to announce a new version of Rust, 1.85.0. This stabilizes the 2024 edition as well."],
               "metadata":[{"source":"https://blog.rust-lang.org/2025/02/20/Rust-1.85.0/","name":"Announcing Rust 1.85.0 and Rust 2024"}]})
    );
    assert_eq!(
        s[1]["source"]["url"],
        "https://doc.rust-lang.org/edition-guide/rust-2024/index.html"
    );
    let st = statuses(&r.emits);
    assert_eq!(st[0], ("Searching the web…".into(), false));
    assert_eq!(
        st[1],
        (
            "Searched the web for “Rust 1.85 release date 2024 edition”".into(),
            false
        )
    );
    assert_eq!(st[2], ("Read 2 sources".into(), true));
    let read = r.emits.iter().find_map(|e| match e {
        Emit::Status {
            description, extra, ..
        } if description == "Read 2 sources" => Some(extra.clone()),
        _ => None,
    });
    assert_eq!(read.unwrap()["urls"].as_array().unwrap().len(), 2);
    assert_eq!(
        usages(&r.emits)[0]["server_tool_use_details"]["web_search_requests"],
        1
    );
    assert_eq!(r.mapper.output_items[0]["type"], "web_search_call");
    assert!(last_status(&r.emits).0.contains("Cost $0.013934"));
}

/// The closing shape of every fixture: how it ended, what closed it, in which order.
#[test]
fn every_fixture_ends_as_a_user_expects() {
    use Termination::*;
    // (fixture, termination, sources, has usage, closing emits, final status contains)
    type Case = (
        &'static str,
        Termination,
        usize,
        bool,
        &'static [&'static str],
        &'static str,
    );
    let cases: &[Case] = &[
        (
            "stream_text.sse",
            Completed,
            0,
            true,
            &["usage", "status"],
            "Total tokens: 26",
        ),
        (
            "stream_reasoning.sse",
            Completed,
            0,
            true,
            &["usage", "status"],
            "Total tokens: 235",
        ),
        (
            "stream_reasoning_text.sse",
            Completed,
            0,
            true,
            &["usage", "status"],
            "Total tokens: 134",
        ),
        (
            "stream_tool_call.sse",
            Completed,
            0,
            true,
            &["item_done", "usage", "status"],
            "Total tokens: 123",
        ),
        (
            "stream_web_search.sse",
            Completed,
            2,
            true,
            &["usage", "status"],
            "Total tokens: 1874",
        ),
        (
            "stream_error_midstream.sse",
            Failed,
            0,
            false,
            &["content", "status", "log"],
            "provider error",
        ),
        (
            "stream_error_event_midstream.sse",
            Failed,
            0,
            false,
            &["content", "status", "log"],
            "provider error",
        ),
        (
            "stream_incomplete.sse",
            Incomplete("max_output_tokens".into()),
            0,
            true,
            &["content", "usage", "status"],
            "Total tokens: 29",
        ),
        (
            "stream_unicode.sse",
            Completed,
            0,
            true,
            &["usage", "status"],
            "Total tokens: 66",
        ),
    ];
    assert_eq!(cases.len(), SSE_FIXTURES.len());
    for (name, termination, n_sources, has_usage, tail, status_part) in cases {
        let r = run(name);
        assert_eq!(&r.mapper.termination, termination, "{name}");
        assert_eq!(sources(&r.emits).len(), *n_sources, "{name}");
        assert_eq!(usages(&r.emits).len(), usize::from(*has_usage), "{name}");
        assert_eq!(tail_kinds(&r.emits, tail.len()), *tail, "{name}");
        let (line, done) = last_status(&r.emits);
        assert!(done && line.contains(status_part), "{name}: {line}");
        assert_eq!(
            r.mapper.text,
            content(&r.emits),
            "{name}: text mirrors the content emits"
        );
        let statuses_after_final = r
            .emits
            .iter()
            .rev()
            .take_while(|e| !matches!(e, Emit::Status { .. }))
            .count();
        assert!(
            statuses_after_final <= 1,
            "{name}: the final status closes the answer"
        );
    }
}

fn assert_card(text: &str, partial: &str, needles: &[&str]) {
    assert!(text.starts_with(partial), "partial text kept: {text}");
    let card = &text[partial.len()..];
    assert!(
        card.starts_with("\n\n### "),
        "card follows a blank line: {card}"
    );
    for n in needles {
        assert!(card.contains(n), "card lacks {n:?}: {card}");
    }
    assert!(card.contains("**Error ID:** `"));
}

fn error_log(emits: &[Emit]) -> &str {
    emits
        .iter()
        .find_map(|e| match e {
            Emit::Log {
                level: LogLevel::Warning,
                message,
            } => Some(message.as_str()),
            _ => None,
        })
        .expect("warning log with error id")
}

#[test]
fn midstream_response_failed() {
    let r = run("stream_error_midstream.sse");
    assert_eq!(r.mapper.termination, Termination::Failed);
    let text = content(&r.emits);
    assert_card(
        &text,
        "Here is the first part of a long answer",
        &[
            "stopped with an error",
            "Provider disconnected unexpectedly",
            "`server_error`",
            "try again in a moment",
        ],
    );
    assert_eq!(r.mapper.text, text);
    assert!(usages(&r.emits).is_empty(), "usage was null");
    assert_eq!(
        last_status(&r.emits),
        (
            "Encountered a provider error. See details below.".into(),
            true
        )
    );
    assert_eq!(tail_kinds(&r.emits, 3), ["content", "status", "log"]);
    let log = error_log(&r.emits);
    let id = &log[1..17];
    assert!(
        text.contains(&format!("`{id}`")),
        "card and log share the error id"
    );
}

#[test]
fn midstream_flat_error_event() {
    let r = run("stream_error_event_midstream.sse");
    assert_eq!(r.mapper.termination, Termination::Failed);
    assert_card(
        &content(&r.emits),
        "Partial output before",
        &["Rate limit exceeded", "`rate_limit_exceeded`"],
    );
    assert!(error_log(&r.emits).contains("OpenRouter stream failed"));
}

#[test]
fn incomplete_stream_keeps_text_and_explains() {
    let r = run("stream_incomplete.sse");
    assert_eq!(
        r.mapper.termination,
        Termination::Incomplete("max_output_tokens".into())
    );
    assert_eq!(
        content(&r.emits),
        "Once upon a time, in a small village nestled between two rolling hills, there\n\n> ⚠️ The answer was cut short: the model reached its output token limit (`max_output_tokens`)."
    );
    assert_eq!(usages(&r.emits)[0]["completion_tokens"], 16);
    assert_eq!(tail_kinds(&r.emits, 3), ["content", "usage", "status"]);
    assert!(last_status(&r.emits).1);
}

const UNICODE_TEXT: &str = "你好，世界！ Grinning: 😀 and 👩\u{200d}💻. Cafe\u{301}, naïve; 日本語テキスト, 한국어, العربية; flag 🇯🇵.";

#[test]
fn unicode_stream_rejoins_split_surrogates() {
    let r = run("stream_unicode.sse");
    assert_eq!(content(&r.emits), UNICODE_TEXT);
    assert!(!r.mapper.text.contains('\u{FFFD}'));
    assert_eq!(r.mapper.termination, Termination::Completed);
}

#[test]
fn unicode_stream_at_the_documented_split_points() {
    let splits: Value =
        serde_json::from_slice(&fixture("stream_unicode.byte_splits.json")).unwrap();
    let cuts: Vec<usize> = splits["split_at_byte_offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let r = run_with(&fixture("stream_unicode.sse"), &cuts, options(), None);
    assert_eq!(content(&r.emits), UNICODE_TEXT);
}

#[test]
fn every_fixture_is_split_and_framing_invariant() {
    for name in SSE_FIXTURES {
        let body = fixture(name);
        let reference = normalized(&run_with(&body, &[], options(), None).emits);
        for eol in ["\n", "\r\n", "\r"] {
            let framed_body = framed(&body, eol);
            let whole = normalized(&run_with(&framed_body, &[], options(), None).emits);
            assert_eq!(whole, reference, "{name} framed with {eol:?}");
            let every_byte: Vec<usize> = (1..framed_body.len()).collect();
            let bytewise = normalized(&run_with(&framed_body, &every_byte, options(), None).emits);
            assert_eq!(bytewise, reference, "{name} byte by byte with {eol:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn any_split_of_any_fixture_gives_identical_output(
        which in 0..SSE_FIXTURES.len(),
        eol in 0..3usize,
        raw_cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let name = SSE_FIXTURES[which];
        let body = framed(&fixture(name), ["\n", "\r\n", "\r"][eol]);
        let mut cuts: Vec<usize> = raw_cuts.iter().map(|i| i.index(body.len())).collect();
        cuts.sort_unstable();
        let reference = normalized(&run_with(&body, &[], options(), None).emits);
        let split = normalized(&run_with(&body, &cuts, options(), None).emits);
        prop_assert_eq!(split, reference, "{} cut at {:?}", name, cuts);
    }
}

/// The stream up to (not including) the first event whose JSON contains `marker`.
fn cut_before(name: &str, marker: &str) -> Vec<u8> {
    let text = fixture_text(name);
    let at = text.find(marker).expect("marker");
    let frame_start = text[..at].rfind("data: ").unwrap();
    text.as_bytes()[..frame_start].to_vec()
}

#[test]
fn eof_after_finished_message_counts_as_completed() {
    let body = cut_before("stream_text.sse", "\"type\":\"response.completed\"");
    let r = run_with(&body, &[], options(), None);
    assert_eq!(r.mapper.termination, Termination::Completed);
    assert_eq!(
        content(&r.emits),
        "Hello! Rust makes fast, safe software fun to write."
    );
    assert!(usages(&r.emits).is_empty());
    assert_eq!(last_status(&r.emits), ("Time: 0.00s".into(), true));
}

#[test]
fn eof_mid_answer_is_an_interrupted_card() {
    let body = cut_before("stream_text.sse", "\"delta\":\" software\"");
    let r = run_with(&body, &[], options(), None);
    assert_eq!(r.mapper.termination, Termination::Interrupted);
    assert_card(
        &content(&r.emits),
        "Hello! Rust makes fast, safe",
        &["The answer was interrupted"],
    );
    assert_eq!(
        last_status(&r.emits),
        (
            "The answer was interrupted. See details below.".into(),
            true
        )
    );
}

#[test]
fn transport_error_mid_stream_keeps_partial_text() {
    let body = cut_before("stream_reasoning.sse", "\"delta\":\" 2025\"");
    let r = run_with(&body, &[], options(), Some("connection reset by peer"));
    assert_eq!(r.mapper.termination, Termination::Interrupted);
    assert_card(
        &content(&r.emits),
        "Yes. In",
        &["interrupted", "connection reset by peer"],
    );
    assert!(r.mapper.reasoning_text().ends_with("yes for 2025."));
}

#[test]
fn truncated_body_without_any_event_is_interrupted() {
    let r = run_with(b": OPENROUTER PROCESSING\n\n", &[], options(), None);
    assert_eq!(r.mapper.termination, Termination::Interrupted);
    assert!(content(&r.emits).contains("The answer was interrupted"));
}

#[test]
fn status_only_thinking_mode() {
    let opts = MapperOptions {
        thinking_mode: ThinkingMode::Status,
        show_final_usage: false,
        ..options()
    };
    let r = run_with(&fixture("stream_reasoning.sse"), &[], opts, None);
    assert_eq!(reasoning(&r.emits), "", "no reasoning box in status mode");
    let lines: Vec<String> = statuses(&r.emits)
        .into_iter()
        .filter(|s| !s.1)
        .map(|s| s.0)
        .collect();
    assert!(lines.len() >= 2, "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains("**")), "{lines:?}");
    let joined = lines.join(" ");
    assert!(
        joined.contains("I need the current year to compare."),
        "{joined}"
    );
    assert!(
        joined.contains("so the answer is yes for 2025."),
        "{joined}"
    );
    assert_eq!(
        last_status(&r.emits),
        ("Thought for 0.0 seconds".into(), true)
    );
}

#[test]
fn both_thinking_mode_shows_box_and_statuses() {
    let opts = MapperOptions {
        thinking_mode: ThinkingMode::Both,
        ..options()
    };
    let r = run_with(&fixture("stream_reasoning_text.sse"), &[], opts, None);
    assert!(reasoning(&r.emits).starts_with("The user wants a haiku"));
    assert!(statuses(&r.emits)
        .iter()
        .any(|(d, done)| !done && d.contains("haiku")));
}

#[test]
fn a_midstream_card_names_the_model_asked_for_not_the_one_in_the_response() {
    let opts = MapperOptions {
        model_label: "OpenAI: GPT-4o-mini".into(),
        model_id: "openai/gpt-4o-mini".into(),
        ..options()
    };
    let r = run_with(&fixture("stream_error_midstream.sse"), &[], opts, None);
    let text = content(&r.emits);
    assert!(text.contains("openai/gpt-4o-mini"), "{text}");
    assert!(
        !text.contains("anthropic/claude-sonnet-4.5"),
        "the response's model is not the label's: {text}"
    );
}
