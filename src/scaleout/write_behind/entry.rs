//! The row format of the write-behind queue and cache: the reference pipe's JSON entry
//! (`id`, `chat_id`, `message_id`, `model_id`, `item_type`, `payload`, `is_encrypted`),
//! with the payload already encoded, so encrypted items stay encrypted in Redis.

use serde_json::{json, Value};

use crate::artifacts::{Codec, NewArtifact};

/// The queue/cache entry of one row, in the reference's format.
pub(super) fn entry(id: &str, row: &NewArtifact, codec: &Codec) -> String {
    let encoded = codec.encode(&row.item);
    let payload: Value =
        serde_json::from_str(&encoded.payload).unwrap_or_else(|_| row.item.clone());
    json!({
        "id": id,
        "chat_id": row.chat_id,
        "message_id": row.message_id,
        "model_id": row.model_id,
        "item_type": item_type(&row.item),
        "payload": payload,
        "is_encrypted": encoded.is_encrypted,
    })
    .to_string()
}

fn item_type(item: &Value) -> &str {
    item.get("type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or("unknown")
}

/// A queue entry read back: the row, decoded; `None` when it is not one.
pub(super) fn parse_entry(raw: &str, codec: &Codec) -> Option<(String, NewArtifact)> {
    parse(raw, codec, true)
}

/// [`parse_entry`] for cache entries, which may lack a message id (it is then empty).
pub(super) fn parse_entry_lenient(raw: &str, codec: &Codec) -> Option<(String, NewArtifact)> {
    parse(raw, codec, false)
}

fn parse(raw: &str, codec: &Codec, needs_message_id: bool) -> Option<(String, NewArtifact)> {
    let value: Value = serde_json::from_str(raw).ok()?;
    let obj = value.as_object()?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let id = text("id").filter(|i| !i.is_empty())?;
    let chat_id = text("chat_id").filter(|c| !c.is_empty())?;
    let message_id = text("message_id").unwrap_or_default();
    if needs_message_id && message_id.is_empty() {
        return None;
    }
    let payload = obj.get("payload")?;
    let is_encrypted = obj
        .get("is_encrypted")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || payload.get("ciphertext").is_some();
    let item = codec.decode(&payload.to_string(), is_encrypted).ok()?;
    if !item.is_object() {
        return None;
    }
    Some((
        id.clone(),
        NewArtifact {
            id: Some(id),
            chat_id,
            message_id,
            model_id: text("model_id"),
            item,
        },
    ))
}
