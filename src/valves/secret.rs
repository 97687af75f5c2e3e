//! Secret valve values stored in Open WebUI's encrypted form (`encrypted:<fernet token>`,
//! keyed from `WEBUI_SECRET_KEY`), as the reference pipe wrote them, keep working.

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

const PREFIX: &str = "encrypted:";

/// The Fernet key Open WebUI-style encryption derives from a secret:
/// `urlsafe_b64(sha256(secret))`.
pub fn fernet_key(secret: &str) -> String {
    URL_SAFE.encode(Sha256::digest(secret.as_bytes()))
}

/// The plain value of a secret valve. Plain values pass through; `encrypted:` values
/// are decrypted with `secret` (normally `WEBUI_SECRET_KEY`). `None` when the value is
/// encrypted but cannot be decrypted (no secret, wrong secret, damaged token).
pub fn reveal(value: &str, secret: Option<&str>) -> Option<String> {
    let Some(token) = value.strip_prefix(PREFIX) else {
        return Some(value.to_string());
    };
    let secret = secret?;
    let key = (secret.to_string(), token.trim().to_string());
    if let Some(plain) = revealed().get(&key) {
        return Some(plain.clone());
    }
    let fernet = fernet::Fernet::new(&fernet_key(secret))?;
    let plain = String::from_utf8(fernet.decrypt(&key.1).ok()?).ok()?;
    let mut memo = revealed();
    if memo.len() >= REVEALED_LIMIT {
        memo.clear();
    }
    memo.insert(key, plain.clone());
    Some(plain)
}

/// Decrypted values by (secret, token). Every request reads its secret valves, and one
/// Fernet decryption (HMAC-SHA256 and AES) was about 10,000 instructions of the ~1.5
/// million a short chat costs; a token's plain value never changes. Bounded so that
/// valves re-sealed again and again cannot grow it.
const REVEALED_LIMIT: usize = 64;

fn revealed() -> std::sync::MutexGuard<'static, HashMap<(String, String), String>> {
    static REVEALED: OnceLock<Mutex<HashMap<(String, String), String>>> = OnceLock::new();
    REVEALED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Encrypts a value the way Open WebUI-era valves stored it (the tests' way to make one).
#[cfg(test)]
pub fn conceal(value: &str, secret: &str) -> String {
    let fernet = fernet::Fernet::new(&fernet_key(secret)).expect("derived key is valid");
    format!("{PREFIX}{}", fernet.encrypt(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_failures() {
        let stored = conceal("sk-or-v1-abc", "webui-secret");
        assert!(stored.starts_with("encrypted:gAAAAA"));
        assert_eq!(
            reveal(&stored, Some("webui-secret")).as_deref(),
            Some("sk-or-v1-abc")
        );
        assert_eq!(
            reveal(&stored, Some("webui-secret")).as_deref(),
            Some("sk-or-v1-abc"),
            "again, from the memo"
        );
        assert_eq!(
            reveal(&stored, Some("other")),
            None,
            "the memo is per secret"
        );
        assert_eq!(reveal(&stored, None), None);
        assert_eq!(reveal("plain", None).as_deref(), Some("plain"));
    }

    #[test]
    fn key_matches_pythons_recipe() {
        // base64.urlsafe_b64encode(hashlib.sha256(b"secret").digest())
        assert_eq!(
            fernet_key("secret"),
            "K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols="
        );
    }
}
