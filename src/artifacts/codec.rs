//! Payload encoding of stored artifacts, byte-compatible with the reference pipe.
//!
//! Encrypted rows hold `{"ciphertext": "<Fernet token>", "enc_v": 1}`. The Fernet
//! plaintext is one header byte followed by a body:
//!
//! * `0x00`: the body is the item as compact JSON (`,` and `:` separators, non-ASCII
//!   characters written as UTF-8, not escaped);
//! * `0x01`: the body is that JSON compressed as an LZ4 frame (magic `04 22 4D 18`).
//!
//! Compression is used only when enabled, when the JSON is at least
//! `min_compress_bytes` long (0 means any size), and when the frame is strictly
//! smaller than the JSON. The Fernet key is `urlsafe_b64(sha256(passphrase))`.
//! Unencrypted rows hold the item's JSON directly, with no header and no compression.
//!
//! Decoding never panics: every malformed input gives a [`CodecError`].

use std::fmt;
use std::io::{Read, Write};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Header byte: plain compact JSON follows.
pub const FLAG_PLAIN: u8 = 0x00;
/// Header byte: an LZ4 frame of the compact JSON follows.
pub const FLAG_LZ4: u8 = 0x01;
/// `enc_v` written in the envelope of encrypted rows.
pub const ENCRYPTED_PAYLOAD_VERSION: u64 = 1;
/// Decompressed bodies larger than this are refused (a corrupt or hostile frame must not
/// exhaust memory).
pub const MAX_DECOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;

/// Settings of the encoding (from the valves `ARTIFACT_ENCRYPTION_KEY`, `ENCRYPT_ALL`,
/// `ENABLE_LZ4_COMPRESSION`, `MIN_COMPRESS_BYTES`).
#[derive(Clone, PartialEq, Eq)]
pub struct CodecConfig {
    /// Passphrase; surrounding whitespace is ignored; empty means no encryption.
    pub key: String,
    /// With a key: encrypt every item (true) or only reasoning (false).
    pub encrypt_all: bool,
    /// Compress encrypted bodies with LZ4 when that makes them smaller.
    pub compression: bool,
    /// Smallest JSON body (bytes) worth compressing; 0 means any size.
    pub min_compress_bytes: usize,
}

impl Default for CodecConfig {
    /// No key, and the defaults the valves declare (`ENCRYPT_ALL`, `ENABLE_LZ4_COMPRESSION`,
    /// `MIN_COMPRESS_BYTES`); the settings tests check that the two agree, so this layer
    /// needs no import of the valves.
    fn default() -> Self {
        Self {
            key: String::new(),
            encrypt_all: true,
            compression: true,
            min_compress_bytes: 0,
        }
    }
}

impl fmt::Debug for CodecConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodecConfig")
            .field(
                "key",
                &if self.key.trim().is_empty() {
                    ""
                } else {
                    "<set>"
                },
            )
            .field("encrypt_all", &self.encrypt_all)
            .field("compression", &self.compression)
            .field("min_compress_bytes", &self.min_compress_bytes)
            .finish()
    }
}

/// Why a payload could not be decoded (or, rarely, encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The row is encrypted but no key is configured.
    NoKey,
    /// The envelope has neither a `ciphertext` string nor is itself a token string.
    MissingCiphertext,
    /// Wrong key, tampered or truncated token.
    InvalidToken,
    /// The header byte is neither 0 nor 1 (for example a legacy header-less body).
    InvalidFlag(u8),
    /// The LZ4 frame is damaged or too large.
    Decompress(String),
    /// The body (or the stored column) is not valid JSON.
    Json(String),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoKey => f.write_str("payload is encrypted but no encryption key is set"),
            Self::MissingCiphertext => f.write_str("encrypted payload has no ciphertext"),
            Self::InvalidToken => f.write_str("unable to decrypt payload (invalid token)"),
            Self::InvalidFlag(b) => write!(f, "invalid artifact payload flag: {b}"),
            Self::Decompress(e) => write!(f, "LZ4 decompression failed: {e}"),
            Self::Json(e) => write!(f, "payload is not valid JSON: {e}"),
        }
    }
}

impl std::error::Error for CodecError {}

/// The value stored in the `payload` column and its `is_encrypted` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// JSON text of the column.
    pub payload: String,
    /// Whether `payload` holds a Fernet token (the row's `is_encrypted` column).
    pub is_encrypted: bool,
}

/// Encoder/decoder for one configuration (the Fernet key is derived once).
#[derive(Clone)]
pub struct Codec {
    config: CodecConfig,
    fernet: Option<fernet::Fernet>,
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("config", &self.config)
            .finish()
    }
}

/// The Fernet key derived from a passphrase: `urlsafe_b64(sha256(passphrase))`.
pub fn fernet_key(passphrase: &str) -> String {
    let digest = Sha256::digest(passphrase.as_bytes());
    base64::engine::general_purpose::URL_SAFE.encode(digest)
}

/// Compact JSON as Python's `json.dumps(v, separators=(",", ":"), ensure_ascii=False)`
/// writes it (key order is the map's order).
pub fn compact_json(value: &Value) -> String {
    // Serialising a `Value` cannot fail: its keys are strings and it holds no NaN.
    serde_json::to_string(value).unwrap_or_default()
}

/// Header byte + body, as fed to Fernet.
pub fn encode_plaintext(item: &Value, compression: bool, min_compress_bytes: usize) -> Vec<u8> {
    let body = compact_json(item).into_bytes();
    if compression && (min_compress_bytes == 0 || body.len() >= min_compress_bytes) {
        if let Some(frame) = lz4_frame(&body) {
            if frame.len() < body.len() {
                let mut out = Vec::with_capacity(frame.len() + 1);
                out.push(FLAG_LZ4);
                out.extend_from_slice(&frame);
                return out;
            }
        }
    }
    let mut out = Vec::with_capacity(body.len() + 1);
    out.push(FLAG_PLAIN);
    out.extend_from_slice(&body);
    out
}

/// Parses a Fernet plaintext (header byte + body). A plaintext of at most one byte is
/// taken as a header-less body, as the reference does.
pub fn decode_plaintext(plain: &[u8]) -> Result<Value, CodecError> {
    if plain.len() <= 1 {
        return parse_json(plain);
    }
    match plain[0] {
        FLAG_PLAIN => parse_json(&plain[1..]),
        FLAG_LZ4 => parse_json(&lz4_unframe(&plain[1..])?),
        other => Err(CodecError::InvalidFlag(other)),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, CodecError> {
    serde_json::from_slice(body).map_err(|e| CodecError::Json(e.to_string()))
}

fn lz4_frame(body: &[u8]) -> Option<Vec<u8>> {
    use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};
    // The same frame options python-lz4's `lz4.frame.compress` uses by default.
    let info = FrameInfo::new()
        .block_size(BlockSize::Max64KB)
        .block_mode(BlockMode::Linked)
        .content_size(Some(body.len() as u64));
    let mut enc = FrameEncoder::with_frame_info(info, Vec::with_capacity(body.len() / 2 + 32));
    enc.write_all(body).ok()?;
    enc.finish().ok()
}

fn lz4_unframe(frame: &[u8]) -> Result<Vec<u8>, CodecError> {
    let dec = lz4_flex::frame::FrameDecoder::new(frame);
    let mut out = Vec::with_capacity(frame.len() * 3);
    dec.take(MAX_DECOMPRESSED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| CodecError::Decompress(e.to_string()))?;
    if out.len() as u64 > MAX_DECOMPRESSED_BYTES {
        return Err(CodecError::Decompress(format!(
            "decompressed body exceeds {MAX_DECOMPRESSED_BYTES} bytes"
        )));
    }
    Ok(out)
}

impl Codec {
    /// A codec for `config`; a blank key means nothing is encrypted.
    pub fn new(config: CodecConfig) -> Self {
        let key = config.key.trim();
        let fernet = if key.is_empty() {
            None
        } else {
            fernet::Fernet::new(&fernet_key(key))
        };
        Self { config, fernet }
    }

    /// The configuration this codec was made from.
    pub fn config(&self) -> &CodecConfig {
        &self.config
    }

    /// True when a key is configured.
    pub fn has_key(&self) -> bool {
        self.fernet.is_some()
    }

    /// Whether items of `item_type` are stored encrypted.
    pub fn should_encrypt(&self, item_type: &str) -> bool {
        self.fernet.is_some()
            && (self.config.encrypt_all || item_type.eq_ignore_ascii_case("reasoning"))
    }

    /// The Fernet token of `item` (header + optionally compressed body). `None` when no
    /// key is configured.
    pub fn encrypt_item(&self, item: &Value) -> Option<String> {
        let fernet = self.fernet.as_ref()?;
        let plain = encode_plaintext(
            item,
            self.config.compression,
            self.config.min_compress_bytes,
        );
        Some(fernet.encrypt(&plain))
    }

    /// Decrypts a Fernet token and parses its plaintext.
    pub fn decrypt_token(&self, token: &str) -> Result<Value, CodecError> {
        let fernet = self.fernet.as_ref().ok_or(CodecError::NoKey)?;
        let plain = fernet
            .decrypt(token.trim())
            .map_err(|_| CodecError::InvalidToken)?;
        decode_plaintext(&plain)
    }

    /// The column value for `item` (the item's `type` decides encryption when
    /// `encrypt_all` is off).
    pub fn encode(&self, item: &Value) -> Encoded {
        let item_type = item.get("type").and_then(Value::as_str).unwrap_or("");
        if self.should_encrypt(item_type) {
            if let Some(token) = self.encrypt_item(item) {
                return Encoded {
                    payload: envelope(&token),
                    is_encrypted: true,
                };
            }
        }
        Encoded {
            payload: compact_json(item),
            is_encrypted: false,
        }
    }

    /// The item stored in a `payload` column. Encrypted rows accept the envelope
    /// `{"ciphertext": token, ...}` or a bare JSON string token.
    pub fn decode(&self, payload: &str, is_encrypted: bool) -> Result<Value, CodecError> {
        let stored: Value = parse_json(payload.as_bytes())?;
        if !is_encrypted {
            return Ok(stored);
        }
        let token = match &stored {
            Value::String(s) => s.as_str(),
            Value::Object(m) => m
                .get("ciphertext")
                .and_then(Value::as_str)
                .ok_or(CodecError::MissingCiphertext)?,
            _ => return Err(CodecError::MissingCiphertext),
        };
        self.decrypt_token(token)
    }
}

fn envelope(token: &str) -> String {
    // The token is base64url (no characters that need escaping).
    format!("{{\"ciphertext\":\"{token}\",\"enc_v\":{ENCRYPTED_PAYLOAD_VERSION}}}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codec(key: &str, encrypt_all: bool) -> Codec {
        Codec::new(CodecConfig {
            key: key.into(),
            encrypt_all,
            compression: true,
            min_compress_bytes: 0,
        })
    }

    #[test]
    fn fernet_key_matches_python() {
        // base64.urlsafe_b64encode(hashlib.sha256(b"secret").digest())
        assert_eq!(
            fernet_key("secret"),
            "K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols="
        );
    }

    #[test]
    fn compact_json_matches_python_dumps() {
        let v = json!({"a": [1, 2.5, null, true], "b": "é \"q\" \n\u{1}", "c": {}});
        assert_eq!(
            compact_json(&v),
            "{\"a\":[1,2.5,null,true],\"b\":\"é \\\"q\\\" \\n\\u0001\",\"c\":{}}"
        );
    }

    #[test]
    fn small_bodies_stay_plain_large_ones_compress() {
        let small = json!({"type": "reasoning"});
        let p = encode_plaintext(&small, true, 0);
        assert_eq!(p[0], FLAG_PLAIN);
        assert_eq!(&p[1..], compact_json(&small).as_bytes());

        let big = json!({"type": "function_call_output", "output": "abc ".repeat(500)});
        let p = encode_plaintext(&big, true, 0);
        assert_eq!(p[0], FLAG_LZ4);
        assert_eq!(&p[1..5], &[0x04, 0x22, 0x4D, 0x18]);
        assert!(p.len() < compact_json(&big).len());
        assert_eq!(decode_plaintext(&p).unwrap(), big);

        // Below the threshold or with compression off: plain.
        assert_eq!(encode_plaintext(&big, true, 1_000_000)[0], FLAG_PLAIN);
        assert_eq!(encode_plaintext(&big, false, 0)[0], FLAG_PLAIN);
    }

    #[test]
    fn encrypts_reasoning_only_unless_encrypt_all() {
        let reasoning = json!({"type": "Reasoning", "encrypted_content": "x"});
        let call = json!({"type": "function_call", "name": "f", "arguments": "{}"});
        let c = codec("k", false);
        assert!(c.encode(&reasoning).is_encrypted);
        let plain = c.encode(&call);
        assert!(!plain.is_encrypted);
        assert_eq!(plain.payload, compact_json(&call));
        assert!(codec("k", true).encode(&call).is_encrypted);
        // No key (blank counts as none): nothing is encrypted.
        assert!(!codec("  ", true).encode(&reasoning).is_encrypted);
    }

    #[test]
    fn round_trips_and_envelope_shape() {
        let c = codec(" my key ", true);
        let item = json!({"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "ünïcödé ✓"}]});
        let enc = c.encode(&item);
        let env: Value = serde_json::from_str(&enc.payload).unwrap();
        assert_eq!(env["enc_v"], 1);
        assert!(env["ciphertext"].as_str().unwrap().starts_with("gAAAAA"));
        assert_eq!(c.decode(&enc.payload, true).unwrap(), item);
        // The key is trimmed.
        assert_eq!(
            codec("my key", true).decode(&enc.payload, true).unwrap(),
            item
        );
        // A bare token string is accepted too.
        let bare = serde_json::to_string(&env["ciphertext"]).unwrap();
        assert_eq!(c.decode(&bare, true).unwrap(), item);
    }

    #[test]
    fn decode_errors_are_values() {
        let c = codec("k", true);
        let enc = c.encode(&json!({"type": "reasoning"}));
        assert_eq!(
            codec("other", true).decode(&enc.payload, true),
            Err(CodecError::InvalidToken)
        );
        assert_eq!(
            codec("", true).decode(&enc.payload, true),
            Err(CodecError::NoKey)
        );
        assert_eq!(
            c.decode("{\"enc_v\":1}", true),
            Err(CodecError::MissingCiphertext)
        );
        assert_eq!(c.decode("[1]", true), Err(CodecError::MissingCiphertext));
        assert!(matches!(
            c.decode("not json", false),
            Err(CodecError::Json(_))
        ));
        assert_eq!(
            c.decode("{\"ciphertext\":\"gAAAAAgarbage\"}", true),
            Err(CodecError::InvalidToken)
        );
        // Legacy header-less JSON is refused, as in the reference.
        let f = fernet::Fernet::new(&fernet_key("k")).unwrap();
        let legacy = f.encrypt(b"{\"type\":\"reasoning\"}");
        assert_eq!(c.decrypt_token(&legacy), Err(CodecError::InvalidFlag(b'{')));
        // A damaged LZ4 frame.
        let broken = f.encrypt(&[FLAG_LZ4, 0x04, 0x22, 0x4D, 0x18, 0xFF, 0xFF]);
        assert!(matches!(
            c.decrypt_token(&broken),
            Err(CodecError::Decompress(_))
        ));
        // One byte: the whole plaintext is the body.
        assert_eq!(c.decrypt_token(&f.encrypt(b"7")), Ok(json!(7)));
        assert!(matches!(
            c.decrypt_token(&f.encrypt(b"")),
            Err(CodecError::Json(_))
        ));
        assert!(matches!(
            c.decrypt_token(&f.encrypt(&[FLAG_PLAIN, b'{'])),
            Err(CodecError::Json(_))
        ));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = codec("super-secret-passphrase", true);
        assert!(!format!("{c:?}").contains("super-secret"));
    }
}
