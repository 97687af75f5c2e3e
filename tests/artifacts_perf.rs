//! Throughput figures, run by hand:
//! `cargo test --release --test artifacts_perf -- --ignored --nocapture`

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use openrouter_pipe::artifacts::markers::{marker_ids, marker_insertion};
use openrouter_pipe::artifacts::new_id;
use openrouter_pipe::artifacts::CodecConfig;
use openrouter_pipe::artifacts::{replay_message, ReplaySettings, TurnWindow};
use openrouter_pipe::artifacts::{ArtifactStore, NewArtifact, StoreConfig};
use serde_json::{json, Value};

fn item(i: usize) -> Value {
    match i % 3 {
        0 => json!({"type": "reasoning", "id": format!("rs_{i}"), "status": "completed",
                    "summary": [{"type": "summary_text", "text": format!("**Planning step {i}** I will look up the data and compare it.")}],
                    "content": [], "encrypted_content": format!("gAAAAAB{}", "QmFzZTY0IGVuY3J5cHRlZCByZWFzb25pbmc".repeat(30))}),
        1 => {
            json!({"type": "function_call", "id": format!("fc_{i}"), "call_id": format!("call_{i}"),
                    "name": "search_documents", "arguments": format!("{{\"query\":\"quarterly report {i}\",\"limit\":5}}"),
                    "status": "completed"})
        }
        _ => {
            json!({"type": "function_call_output", "id": format!("fco_{i}"), "call_id": format!("call_{}", i - 1),
                    "output": format!("{{\"results\":[{}]}}", (0..5).map(|k| format!("{{\"title\":\"Doc {k}\",\"snippet\":\"Revenue grew {k}% year over year in region {i}.\"}}")).collect::<Vec<_>>().join(",")),
                    "status": "completed"})
        }
    }
}

#[test]
#[ignore]
fn throughput() {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("artifacts-perf-{nanos}"));
    let mut cfg = StoreConfig::new(
        dir.join("perf.db"),
        "open_webui_openrouter_pipe",
        CodecConfig {
            key: "a long enough passphrase".into(),
            ..CodecConfig::default()
        },
    );
    cfg.batch_size = 10; // DB_BATCH_SIZE default
    let store = ArtifactStore::open(cfg).unwrap();

    const N: usize = 20_000;
    let rows: Vec<NewArtifact> = (0..N)
        .map(|i| NewArtifact {
            id: None,
            chat_id: format!("chat-{}", i / 200),
            message_id: format!("msg-{}", i / 20),
            model_id: Some("pipe.openai.o4-mini".into()),
            item: item(i),
        })
        .collect();
    let avg_json: usize = rows.iter().map(|r| r.item.to_string().len()).sum::<usize>() / N;

    // Encoding alone (JSON + LZ4 + Fernet), no database.
    let codec = openrouter_pipe::artifacts::Codec::new(store.config().codec.clone());
    let t = Instant::now();
    let bytes: usize = rows
        .iter()
        .map(|r| codec.encode(&r.item).payload.len())
        .sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "encode only: {:.0} items/s (avg stored {} B)",
        N as f64 / secs,
        bytes / N
    );

    // One persist call per answer-sized group (20 rows: 2 transactions of 10).
    let t = Instant::now();
    let mut ids = Vec::with_capacity(N);
    for chunk in rows.chunks(20) {
        ids.extend(store.persist(chunk).unwrap());
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "persist: {N} rows (avg item JSON {avg_json} B, encrypted + LZ4), DB_BATCH_SIZE 10: {:.0} rows/s ({secs:.2} s)",
        N as f64 / secs
    );

    // One big call (same 10-row transactions).
    let more: Vec<NewArtifact> = rows
        .iter()
        .map(|r| NewArtifact {
            id: None,
            ..r.clone()
        })
        .collect();
    let t = Instant::now();
    store.persist(&more).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "persist: {N} rows in one call: {:.0} rows/s",
        N as f64 / secs
    );

    // Fetch per chat (200 ids each) with touch-on-read.
    let t = Instant::now();
    let mut got = 0;
    for (c, chunk) in ids.chunks(200).enumerate() {
        let f = store.fetch(&format!("chat-{c}"), None, chunk).unwrap();
        assert!(f.undecodable.is_empty() && f.touch_error.is_none());
        got += f.items.len();
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(got, N);
    println!(
        "fetch: {N} rows in 100 chats (200 ids per call, with touch): {:.0} rows/s",
        N as f64 / secs
    );

    // Replay of one message with 400 artifacts.
    let mut text = String::new();
    let mut artifacts = HashMap::new();
    for i in 0..400 {
        let id = new_id();
        if i % 4 == 0 {
            text += "Some visible text between the tool calls.";
        }
        text += &marker_insertion(&text, &[&id]);
        artifacts.insert(id, item(i));
    }
    assert_eq!(marker_ids(&text).len(), 400);
    let window = TurnWindow {
        turn_index: Some(0),
        total_turns: 1,
    };
    let settings = ReplaySettings::default();
    let mut best = f64::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        let r = replay_message(&text, &artifacts, window, &settings);
        best = best.min(t.elapsed().as_secs_f64());
        assert!(r.items.len() >= 399);
    }
    println!(
        "replay: 400 artifacts in {:.3} ms (best of 20)",
        best * 1000.0
    );
    let _ = std::fs::remove_dir_all(dir);
}
