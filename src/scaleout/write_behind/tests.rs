use super::*;
use serde_json::json;

fn codec(key: &str) -> Codec {
    Codec::new(CodecConfig {
        key: key.into(),
        encrypt_all: false,
        compression: true,
        min_compress_bytes: 0,
    })
}

fn row(item: Value) -> NewArtifact {
    NewArtifact {
        id: Some("01ARZ3NDEKTSV4RRFFQ6".into()),
        chat_id: "chat-1".into(),
        message_id: "msg-1".into(),
        model_id: Some("openrouter.openai.o3".into()),
        item,
    }
}

#[test]
fn a_queued_reasoning_item_is_encrypted_in_redis_and_reads_back_whole() {
    let codec = codec("a-long-enough-secret");
    let item = json!({"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "secret plan"}]});
    let text = entry("01ARZ3NDEKTSV4RRFFQ6", &row(item.clone()), &codec);
    assert!(
        !text.contains("secret plan"),
        "plain text reached Redis: {text}"
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["item_type"], "reasoning");
    assert_eq!(value["is_encrypted"], true);
    assert!(value["payload"]["ciphertext"].is_string());
    let (id, back) = parse_entry(&text, &codec).unwrap();
    assert_eq!(id, "01ARZ3NDEKTSV4RRFFQ6");
    assert_eq!(back, row(item));
}

#[test]
fn entries_that_are_not_rows_are_refused() {
    let codec = codec("");
    for raw in [
        "not json",
        "[1,2]",
        "{\"id\": \"x\"}",
        "{\"id\": \"x\", \"chat_id\": \"c\", \"message_id\": \"m\", \"payload\": 5}",
        "{\"id\": \"x\", \"chat_id\": \"c\", \"message_id\": \"m\", \"payload\": {\"ciphertext\": \"bad\"}, \"is_encrypted\": true}",
    ] {
        assert!(parse_entry(raw, &codec).is_none(), "{raw}");
    }
}
