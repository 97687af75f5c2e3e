//! Fixed vectors written by the reference's Python stack (`cryptography.fernet` and
//! `lz4.frame` 4.4.5, `json.dumps(separators=(",", ":"), ensure_ascii=False)`), decoded
//! by our codec. Generated once; the tokens are hard-coded.

use openrouter_pipe::artifacts::codec::{
    compact_json, decode_plaintext, encode_plaintext, fernet_key, Codec, CodecConfig, FLAG_LZ4,
    FLAG_PLAIN,
};
use serde_json::{json, Value};

const PASSPHRASE: &str = "interop-passphrase";

/// `f.encrypt(b"\x00" + json.dumps(SMALL, ...).encode())`
const PY_TOKEN_PLAIN: &str = "gAAAAABrATWwJbkeUegerChfJkS_jxqHpSHPN2t2hBsq7trQrjYOpISZQ5GKZKYOGlILVfDx8sNBdVs_budjpfLsa0ZpqlhEVmfqEclcds44jRMRlxYVdWErq7QdQMJCCLJLBwvjrDjdufbo0VriYnXOvhLue9AoD6VZ73Oe1HZBY1cqwVHJ-gsPTMZ0vQzEjc8V95ETi0fpm8lqo77RUNxWp1fTZC4Mg8apJGiqIG76jXlG64NmopqBm0ZU1HLZ_-hJRQz7aBxB";
/// The body Python wrote inside `PY_TOKEN_PLAIN`.
const PY_BODY_PLAIN: &str = r#"{"type":"reasoning","id":"rs_01","summary":[{"type":"summary_text","text":"Plan ✓ — naïve"}],"content":[],"encrypted_content":"opaque=="}"#;
/// `f.encrypt(b"\x01" + lz4.frame.compress(json.dumps(BIG, ...).encode()))`
const PY_TOKEN_LZ4: &str = "gAAAAABrATWwb8BLqr61ea3EA4zN1qIlRRPGl85RSZHz5_fG3Y2ZbuQZDMV10mkQcx_B5B7wu8zc5x_YGKq54I_Go88NBrzP_lU3QPTn08AUfafpLUBvOYpVV0_fkaSTfJYDj3GAG5nvXHLrfSabdlnt6ho-I89Z6ttmapuiYG1rmyuHRZ8GBm2Nsi4PShRF6rARejc3_8z6ZiEcfKN4wXvMoFuJ_MJMJFHerkUrHtUG9_MFJjB7gNlhCV1ypxC3CaJ9pOQdEYXouuApiLR-S3QW00DzVWsFXw==";

fn small_item() -> Value {
    json!({
        "type": "reasoning",
        "id": "rs_01",
        "summary": [{"type": "summary_text", "text": "Plan ✓ — naïve"}],
        "content": [],
        "encrypted_content": "opaque=="
    })
}

fn big_item() -> Value {
    json!({
        "type": "function_call_output",
        "call_id": "call_7",
        "output": "row 1: ok\n".repeat(120),
        "status": "completed",
        "id": "01J2VVZBDQTP1ZQJ8DSN"
    })
}

fn codec() -> Codec {
    Codec::new(CodecConfig {
        key: PASSPHRASE.into(),
        ..CodecConfig::default()
    })
}

#[test]
fn python_plain_token_decodes() {
    let c = codec();
    assert_eq!(c.decrypt_token(PY_TOKEN_PLAIN).unwrap(), small_item());
    // As a stored row: the envelope the reference writes.
    let envelope = json!({"ciphertext": PY_TOKEN_PLAIN, "enc_v": 1}).to_string();
    assert_eq!(c.decode(&envelope, true).unwrap(), small_item());
    // Byte level: header 0x00 followed by exactly Python's body.
    let f = fernet::Fernet::new(&fernet_key(PASSPHRASE)).unwrap();
    let plain = f.decrypt(PY_TOKEN_PLAIN).unwrap();
    assert_eq!(plain[0], FLAG_PLAIN);
    assert_eq!(&plain[1..], PY_BODY_PLAIN.as_bytes());
    assert_eq!(decode_plaintext(&plain).unwrap(), small_item());
}

#[test]
fn python_lz4_token_decodes() {
    let c = codec();
    assert_eq!(c.decrypt_token(PY_TOKEN_LZ4).unwrap(), big_item());
    let f = fernet::Fernet::new(&fernet_key(PASSPHRASE)).unwrap();
    let plain = f.decrypt(PY_TOKEN_LZ4).unwrap();
    assert_eq!(plain[0], FLAG_LZ4);
    assert_eq!(&plain[1..5], &[0x04, 0x22, 0x4D, 0x18], "LZ4 frame magic");
}

#[test]
fn wrong_passphrase_is_an_error_not_a_panic() {
    let other = Codec::new(CodecConfig {
        key: "not-the-passphrase".into(),
        ..CodecConfig::default()
    });
    assert!(other.decrypt_token(PY_TOKEN_PLAIN).is_err());
    assert!(other.decrypt_token(PY_TOKEN_LZ4).is_err());
}

#[test]
fn compact_json_is_byte_identical_to_python() {
    // json.dumps(d, separators=(",", ":"), ensure_ascii=False) with d's keys in this
    // (sorted) order; serde_json orders keys alphabetically.
    let item = json!({
        "arguments": "{\"city\":\"Zürich\"}",
        "call_id": "call_1",
        "n": [1, 2.5, -3, null, true, false, 0.001, 123456789012u64],
        "s": "tab\there \"q\" back\\ ctl\u{1}\u{1f} del\u{7f} emoji😀 nbsp\u{a0} ls\u{2028}",
        "type": "function_call"
    });
    let python = "{\"arguments\":\"{\\\"city\\\":\\\"Zürich\\\"}\",\"call_id\":\"call_1\",\"n\":[1,2.5,-3,null,true,false,0.001,123456789012],\"s\":\"tab\\there \\\"q\\\" back\\\\ ctl\\u0001\\u001f del\u{7f} emoji😀 nbsp\u{a0} ls\u{2028}\",\"type\":\"function_call\"}";
    assert_eq!(compact_json(&item), python);
    // And the Fernet plaintext is header + those bytes.
    let plain = encode_plaintext(&item, false, 0);
    assert_eq!(plain[0], FLAG_PLAIN);
    assert_eq!(&plain[1..], python.as_bytes());
}

#[test]
fn our_tokens_round_trip_through_our_decoder() {
    let c = codec();
    for item in [small_item(), big_item()] {
        let token = c.encrypt_item(&item).unwrap();
        assert!(token.starts_with("gAAAAA"));
        assert!(token.len().is_multiple_of(4), "padded base64url");
        assert_eq!(c.decrypt_token(&token).unwrap(), item);
    }
}
