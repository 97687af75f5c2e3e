//! Engine micro-benchmarks (criterion, no Python, no network).
//!
//!   CARGO_TARGET_DIR=/work/target-bench cargo bench --bench engine            # full
//!   CARGO_TARGET_DIR=/work/target-bench cargo bench --bench engine -- --quick # smoke
//!
//! Groups (throughput is reported per SSE event, per model or per message):
//!
//! * `sse_parse`: `SseParser` alone over each `fixtures/openrouter/*.sse` and a synthesised
//!   2,000-delta stream, fed in 4 KiB reads.
//! * `stream_pipeline`: parse, `ResponseMapper`, `Coalescer`, `owui::item`, i.e. all the Rust
//!   work between a network read and the string handed to Python, with coalescing on (40 ms
//!   window, simulated clock: one event per 10 µs, so a whole burst merges) and off (window 0:
//!   one item per delta).
//! * `catalog`: `parse_catalog` of a 400-model `/models` body and `resolve` of the last model
//!   in it (what every chat request does once).
//! * `translate`: `ChatRequest::from_json` + settings + `to_input` + `translate::body::build` (+ serialising
//!   the outbound body) for a 200-message chat, to an OpenAI and an Anthropic model (the latter
//!   adds cache breakpoints).
//! * `session_archive`: `sessionlog::archive::build` of one request's archive (400 records, both
//!   log members, about 110 KB of logs) per compression: the background writer's CPU per request
//!   with `SESSION_LOG_STORE_ENABLED` (AES key derivation included).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};

use openrouter_pipe::catalog::{parse_catalog, resolve};
use openrouter_pipe::engine::ChatRequest;
use openrouter_pipe::sessionlog::archive::{self, ArchiveContent, Packing};
use openrouter_pipe::sessionlog::record::{Record, Stamp};
use openrouter_pipe::sse::{SseFrame, SseParser};
use openrouter_pipe::stream::{owui_item, Coalescer, MapperOptions, ResponseMapper};
use openrouter_pipe::translate::{build, to_input, TranslateContext};
use openrouter_pipe::valves::Settings;
use openrouter_pipe::valves::{ArchiveCompression, ArchiveFormat};
use openrouter_pipe::{Emit, LogLevel};

/// Size of one simulated network read.
const READ: usize = 4096;
/// Deltas in the synthesised stream (the same shape `fake_openrouter` sends for `synth=2000`).
const SYNTH_DELTAS: usize = 2000;
const CATALOG_MODELS: usize = 400;
const CHAT_MESSAGES: usize = 200;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/openrouter")
}

/// Every `*.sse` fixture, sorted by name.
fn sse_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures/openrouter")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sse"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// A `/responses` stream of `n` `response.output_text.delta` events framed like OpenRouter's
/// (keep-alive comment, lifecycle events, deltas with `logprobs` and `sequence_number`, `[DONE]`).
fn synth_stream(n: usize) -> Vec<u8> {
    let id = "gen-1767225600-benchbenchbenchbench";
    let msg = "msg_tmp_benchbench01";
    let response = |status: &str, output: Value, usage: Value| {
        json!({"id": id, "object": "response", "created_at": 1767225600, "model": "openai/gpt-4o-mini",
               "status": status, "output": output, "error": null, "incomplete_details": null,
               "usage": usage, "tools": [], "tool_choice": "auto", "parallel_tool_calls": true,
               "store": false, "background": false})
    };
    let text: String = (0..n).map(|i| format!("tok{i} ")).collect();
    let mut seq = 0usize;
    let mut out = String::from(": OPENROUTER PROCESSING\n\n");
    let mut push = |out: &mut String, mut event: Value| {
        event["sequence_number"] = json!(seq);
        seq += 1;
        out.push_str("data: ");
        out.push_str(&event.to_string());
        out.push_str("\n\n");
    };
    push(
        &mut out,
        json!({"type": "response.created", "response": response("in_progress", json!([]), Value::Null)}),
    );
    push(
        &mut out,
        json!({"type": "response.in_progress", "response": response("in_progress", json!([]), Value::Null)}),
    );
    push(
        &mut out,
        json!({"type": "response.output_item.added", "output_index": 0,
        "item": {"id": msg, "type": "message", "role": "assistant", "status": "in_progress", "content": []}}),
    );
    push(
        &mut out,
        json!({"type": "response.content_part.added", "output_index": 0, "item_id": msg,
        "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
    );
    for i in 0..n {
        push(
            &mut out,
            json!({"type": "response.output_text.delta", "output_index": 0, "item_id": msg,
            "content_index": 0, "delta": format!("tok{i} "), "logprobs": []}),
        );
    }
    let item = json!({"id": msg, "type": "message", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}]});
    push(
        &mut out,
        json!({"type": "response.output_text.done", "output_index": 0, "item_id": msg,
        "content_index": 0, "text": text, "logprobs": []}),
    );
    push(
        &mut out,
        json!({"type": "response.content_part.done", "output_index": 0, "item_id": msg,
        "content_index": 0, "part": {"type": "output_text", "text": text, "annotations": []}}),
    );
    push(
        &mut out,
        json!({"type": "response.output_item.done", "output_index": 0, "item": item.clone()}),
    );
    let usage = json!({"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": n, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": n + 12, "cost": 0.0012, "is_byok": false});
    push(
        &mut out,
        json!({"type": "response.completed", "response": response("completed", json!([item]), usage)}),
    );
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

/// Number of SSE events (`data:` frames, `[DONE]` included) in a body: the throughput unit.
fn count_events(body: &[u8]) -> u64 {
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    for chunk in body.chunks(READ) {
        parser.push(chunk, &mut frames);
    }
    parser.finish(&mut frames);
    frames.len() as u64
}

fn parse_only(body: &[u8], frames: &mut Vec<SseFrame>) -> usize {
    let mut parser = SseParser::new();
    let mut n = 0;
    for chunk in body.chunks(READ) {
        parser.push(chunk, frames);
        n += frames.len();
        frames.clear();
    }
    parser.finish(frames);
    n += frames.len();
    frames.clear();
    n
}

/// What `engine::chat::pump_stream` + `StreamSink` do per read, minus the channel:
/// parse, map, coalesce, serialise. Returns (items, bytes of items).
fn pipeline(body: &[u8], window: Duration) -> (usize, usize) {
    let mut parser = SseParser::new();
    let mut mapper = ResponseMapper::new(MapperOptions {
        model_label: "OpenAI: GPT-4o-mini".into(),
        model_id: "openai/gpt-4o-mini".into(),
        ..MapperOptions::default()
    });
    let mut coalescer = Coalescer::new(window, 4096);
    let mut frames = Vec::new();
    let mut emits: Vec<Emit> = Vec::new();
    let mut ready: Vec<Emit> = Vec::new();
    let t0 = Instant::now();
    let mut tick = 0u64;
    let (mut items, mut bytes) = (0usize, 0usize);
    let mut drain = |ready: &mut Vec<Emit>| {
        for emit in ready.drain(..) {
            if let Some(line) = owui_item(&emit) {
                items += 1;
                bytes += black_box(line).len();
            }
        }
    };
    let mut done = false;
    let chunks: Vec<&[u8]> = body.chunks(READ).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        parser.push(chunk, &mut frames);
        if i + 1 == chunks.len() {
            parser.finish(&mut frames);
        }
        for frame in frames.drain(..) {
            match frame {
                SseFrame::Data(data) if !done => {
                    mapper.on_data(&data, &mut emits);
                }
                SseFrame::Data(_) => {}
                SseFrame::Done => done = true,
            }
            tick += 10;
            let now = t0 + Duration::from_micros(tick);
            for emit in emits.drain(..) {
                coalescer.push(emit, now, &mut ready);
            }
            drain(&mut ready);
        }
    }
    mapper.finish(None, &mut emits);
    let now = t0 + Duration::from_micros(tick + 1);
    for emit in emits.drain(..) {
        coalescer.push(emit, now, &mut ready);
    }
    coalescer.flush(now, &mut ready);
    drain(&mut ready);
    (items, bytes)
}

fn stream_inputs() -> Vec<(String, Vec<u8>)> {
    let mut inputs = sse_fixtures();
    inputs.push((
        format!("synth_{SYNTH_DELTAS}_deltas"),
        synth_stream(SYNTH_DELTAS),
    ));
    inputs
}

fn bench_sse(c: &mut Criterion) {
    let mut group = c.benchmark_group("sse_parse");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for (name, body) in stream_inputs() {
        group.throughput(Throughput::Elements(count_events(&body)));
        let mut frames = Vec::new();
        group.bench_with_input(BenchmarkId::from_parameter(&name), &body, |b, body| {
            b.iter(|| parse_only(black_box(body), &mut frames))
        });
    }
    group.finish();
}

fn bench_pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream_pipeline");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for (name, body) in stream_inputs() {
        group.throughput(Throughput::Elements(count_events(&body)));
        for (label, window) in [
            ("coalesce_40ms", Duration::from_millis(40)),
            ("coalesce_off", Duration::ZERO),
        ] {
            group.bench_with_input(BenchmarkId::new(label, &name), &body, |b, body| {
                b.iter(|| pipeline(black_box(body), window))
            });
        }
    }
    group.finish();
    // One-off summary of what each input turns into (items handed to Python).
    for (name, body) in stream_inputs() {
        let on = pipeline(&body, Duration::from_millis(40));
        let off = pipeline(&body, Duration::ZERO);
        eprintln!(
            "stream_pipeline/{name}: {} events -> {} items coalesced ({} bytes), {} items uncoalesced",
            count_events(&body),
            on.0,
            on.1,
            off.0
        );
    }
}

/// A 400-model `/models` body: the fixture's entries cloned round-robin with fresh ids.
fn catalog_body(n: usize) -> Vec<u8> {
    let raw = std::fs::read(fixtures_dir().join("models.json")).unwrap();
    let base: Value = serde_json::from_slice(&raw).unwrap();
    let entries = base["data"].as_array().unwrap();
    let data: Vec<Value> = (0..n)
        .map(|i| {
            let mut m = entries[i % entries.len()].clone();
            let id = m["id"].as_str().unwrap().to_string();
            let new_id = format!("{id}-bench{i:03}");
            m["id"] = json!(new_id);
            m["canonical_slug"] = json!(new_id);
            m["name"] = json!(format!("{} (bench {i})", m["name"].as_str().unwrap_or("")));
            m
        })
        .collect();
    serde_json::to_vec(&json!({"data": data})).unwrap()
}

fn bench_catalog(c: &mut Criterion) {
    let body = catalog_body(CATALOG_MODELS);
    let mut group = c.benchmark_group("catalog");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(CATALOG_MODELS as u64));
    group.bench_function(
        format!("parse_{CATALOG_MODELS}_models_{}KiB", body.len() / 1024),
        |b| {
            b.iter(|| {
                let (models, skipped) = parse_catalog(black_box(&body)).unwrap();
                assert_eq!(skipped, 0);
                models
            })
        },
    );
    let (models, _) = parse_catalog(&body).unwrap();
    let last = models.last().unwrap().owui_id();
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("resolve_last_of_{CATALOG_MODELS}"), |b| {
        b.iter(|| resolve(black_box(&models), black_box(&last)).map(|m| m.id.len()))
    });
    group.finish();
}

/// An Open WebUI chat body of `n` messages: a system prompt, then user / assistant turns with
/// an image part every 10th user turn and a tool call + tool result every 20th assistant turn.
fn chat_body(n: usize) -> Value {
    let para = "The quick brown fox jumps over the lazy dog while the benchmark keeps counting. ";
    let mut messages = vec![json!({"role": "system", "content": para.repeat(4)})];
    let mut i = 1;
    while messages.len() < n {
        if i % 2 == 1 {
            let content = if i % 20 == 1 {
                json!([{"type": "text", "text": para.repeat(3)},
                       {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "auto"}}])
            } else {
                json!(para.repeat(3))
            };
            messages.push(json!({"role": "user", "content": content}));
        } else if i % 40 == 0 && messages.len() + 2 <= n {
            let call = format!("call_{i}");
            messages.push(json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": call, "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"fox\"}"}}]}));
            messages.push(json!({"role": "tool", "tool_call_id": call, "content": para}));
        } else {
            messages.push(json!({"role": "assistant", "content": para.repeat(5)}));
        }
        i += 1;
    }
    messages.truncate(n);
    json!({"model": "openrouter.openai.gpt-4o-mini", "stream": true, "messages": messages,
           "temperature": 0.7, "top_p": "0.9", "metadata": {"chat_id": "c1"}, "stream_options": {"include_usage": true}})
}

fn bench_translate(c: &mut Criterion) {
    let chat = chat_body(CHAT_MESSAGES);
    let request_json = json!({
        "body": chat, "system_valves": {"API_KEY": "sk-or-bench", "BASE_URL": "http://127.0.0.1:9/api/v1"},
        "user_valves": null, "pipe_id": "openrouter", "user_id": "u1", "chat_id": "c1",
        "message_id": "m1", "session_id": "s1", "task": null, "features": {}
    })
    .to_string();
    let raw = std::fs::read(fixtures_dir().join("models.json")).unwrap();
    let (catalog, _) = parse_catalog(&raw).unwrap();
    let mut group = c.benchmark_group("translate");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(CHAT_MESSAGES as u64));
    // The whole per-request path on the Rust side: parse what Python hands over, settings,
    // translation against the catalog entry, and the outbound body as text.
    let translate = |request_json: &str, model_id: &str, serialise: bool| {
        let req = ChatRequest::from_json(request_json).unwrap();
        let settings: Settings = req.settings();
        let model = catalog.iter().find(|m| m.id == model_id);
        let ctx = TranslateContext {
            settings: &settings,
            model,
            model_id,
            stream: req.wants_stream(),
            task: req.task.is_some(),
            owned: true,
            features: &req.features,
            user_id: req.user_id.as_deref(),
            session_id: req.session_id.as_deref(),
            chat_id: req.chat_id.as_deref(),
            message_id: req.message_id.as_deref(),
        };
        let messages = req.body["messages"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        let out = build(&req.body, to_input(messages), &ctx);
        if serialise {
            out.body.to_string().len()
        } else {
            out.headers.len()
        }
    };
    for model_id in ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4.5"] {
        let short = model_id.split('/').nth(1).unwrap();
        group.bench_function(
            format!(
                "from_json_build_{CHAT_MESSAGES}_messages_{}KiB/{short}",
                request_json.len() / 1024
            ),
            |b| b.iter(|| translate(black_box(&request_json), model_id, false)),
        );
        group.bench_function(
            format!("from_json_build_serialise_{CHAT_MESSAGES}_messages/{short}"),
            |b| b.iter(|| translate(black_box(&request_json), model_id, true)),
        );
    }
    group.finish();
}

fn archive_content() -> ArchiveContent {
    let records = (0..400)
        .map(|i| {
            let message = match i % 4 {
                0 => format!("OpenRouter payload: {{\"type\":\"response.output_item.done\",\"output_index\":{i},\"item\":{{\"id\":\"msg_{i:08}\",\"type\":\"message\"}}}}"),
                1 => format!("Tool get_weather finished in {} ms", i * 3),
                2 => "OpenRouter request headers: Authorization: Bearer [redacted], Accept: text/event-stream".to_string(),
                _ => format!("Artifact persisted: chat=chat-1 message=msg-1 item={i}"),
            };
            Record::now(LogLevel::Debug, "engine/turn", 120 + i, message)
        })
        .collect();
    ArchiveContent {
        stamp: Stamp {
            request_id: "0123456789abcdef0123".into(),
            user_id: "user-1".into(),
            session_id: "sess-1".into(),
            chat_id: "chat-1".into(),
            message_id: "msg-1".into(),
        },
        records,
        dropped: 0,
        timing: json!({"upstream_ms": 812.5, "ttft_ms": 240.0}),
        created: 1_767_225_600.5,
    }
}

fn bench_archive(c: &mut Criterion) {
    let content = archive_content();
    let mut group = c.benchmark_group("session_archive");
    group.sample_size(20);
    for (name, compression) in [
        ("stored", ArchiveCompression::Stored),
        ("deflated", ArchiveCompression::Deflated),
        ("lzma", ArchiveCompression::Lzma),
    ] {
        let packing = Packing {
            format: ArchiveFormat::Both,
            compression,
            level: None,
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                archive::build(black_box(&content), packing, "pw")
                    .unwrap()
                    .len()
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_sse,
    bench_pipeline,
    bench_catalog,
    bench_translate,
    bench_archive
);
criterion_main!(benches);
