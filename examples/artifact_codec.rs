//! Test-only bridge to the artifact codec and store, for the Python interop tests
//! (`pytests/test_artifact_interop.py`).
//!
//! Reads one JSON request (or an array of them) from stdin and prints the response
//! (or an array of responses) as JSON:
//!
//! * `{"op": "encode", "key", "item", "encrypt_all"?, "compression"?, "min_compress_bytes"?}`
//!   → `{"payload": <column text>, "is_encrypted": bool}`
//! * `{"op": "decode", "key", "stored": <column text>, "is_encrypted"?: true}`
//!   → `{"item": ...}` or `{"error": "..."}`
//! * `{"op": "table_name", "pipe_id", "key"}` → `{"table": "..."}`
//! * `{"op": "persist", "path", "pipe_id", "key", "rows": [{"chat_id", "message_id", "model_id"?, "item"}]}`
//!   → `{"ids": [...], "table": "..."}`
//! * `{"op": "fetch", "path", "pipe_id", "key", "chat_id", "message_id"?, "ids": [...]}`
//!   → `{"items": {id: item}, "undecodable": [id, ...]}`

use std::io::Read;

use openrouter_pipe::artifacts::{table_name, ArtifactStore, NewArtifact, StoreConfig};
use openrouter_pipe::artifacts::{Codec, CodecConfig};
use serde_json::{json, Value};

fn str_field<'a>(req: &'a Value, name: &str) -> &'a str {
    req.get(name).and_then(Value::as_str).unwrap_or("")
}

fn codec_config(req: &Value) -> CodecConfig {
    CodecConfig {
        key: str_field(req, "key").to_string(),
        encrypt_all: req
            .get("encrypt_all")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        compression: req
            .get("compression")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        min_compress_bytes: req
            .get("min_compress_bytes")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize,
    }
}

fn open_store(req: &Value) -> Result<ArtifactStore, String> {
    ArtifactStore::open(StoreConfig::new(
        str_field(req, "path"),
        str_field(req, "pipe_id"),
        codec_config(req),
    ))
    .map_err(|e| e.to_string())
}

fn handle(req: &Value) -> Value {
    match str_field(req, "op") {
        "encode" => {
            let enc = Codec::new(codec_config(req)).encode(req.get("item").unwrap_or(&Value::Null));
            json!({"payload": enc.payload, "is_encrypted": enc.is_encrypted})
        }
        "decode" => {
            let is_encrypted = req
                .get("is_encrypted")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            match Codec::new(codec_config(req)).decode(str_field(req, "stored"), is_encrypted) {
                Ok(item) => json!({"item": item}),
                Err(e) => json!({"error": e.to_string()}),
            }
        }
        "table_name" => {
            json!({"table": table_name(str_field(req, "pipe_id"), str_field(req, "key"))})
        }
        "persist" => {
            let store = match open_store(req) {
                Ok(s) => s,
                Err(e) => return json!({"error": e}),
            };
            let rows: Vec<NewArtifact> = req
                .get("rows")
                .and_then(Value::as_array)
                .map(|rows| {
                    rows.iter()
                        .map(|r| NewArtifact {
                            id: r.get("id").and_then(Value::as_str).map(String::from),
                            chat_id: str_field(r, "chat_id").into(),
                            message_id: str_field(r, "message_id").into(),
                            model_id: r.get("model_id").and_then(Value::as_str).map(String::from),
                            item: r.get("item").cloned().unwrap_or(Value::Null),
                        })
                        .collect()
                })
                .unwrap_or_default();
            match store.persist(&rows) {
                Ok(ids) => json!({"ids": ids, "table": store.table_name()}),
                Err(e) => json!({"error": e.to_string()}),
            }
        }
        "fetch" => {
            let store = match open_store(req) {
                Ok(s) => s,
                Err(e) => return json!({"error": e}),
            };
            let ids: Vec<String> = req
                .get("ids")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            let message_id = req.get("message_id").and_then(Value::as_str);
            match store.fetch(str_field(req, "chat_id"), message_id, &ids) {
                Ok(f) => json!({
                    "items": f.items,
                    "undecodable": f.undecodable.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                }),
                Err(e) => json!({"error": e.to_string()}),
            }
        }
        other => json!({"error": format!("unknown op {other:?}")}),
    }
}

fn main() {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        println!("{}", json!({"error": format!("cannot read stdin: {e}")}));
        std::process::exit(2);
    }
    let request: Value = match serde_json::from_str(&input) {
        Ok(v) => v,
        Err(e) => {
            println!("{}", json!({"error": format!("invalid JSON request: {e}")}));
            std::process::exit(2);
        }
    };
    let response = match &request {
        Value::Array(reqs) => Value::Array(reqs.iter().map(handle).collect()),
        one => handle(one),
    };
    println!("{response}");
}
