//! Ids the crate makes: artifact ids and error ids, and the random source behind them.
//!
//! An artifact id is 20 upper-case Crockford base32 characters. The first 16 characters carry the low 80 bits of the Unix time in nanoseconds
//! (big-endian, 5 bits per character), the last 4 carry 20 random bits. The layout
//! matches the reference pipe, so ids written by either implementation look alike and
//! sort roughly by creation time.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Crockford's base32 alphabet (no I, L, O, U).
pub const CROCKFORD_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Length of an id.
pub const ID_LEN: usize = 20;
/// Characters that encode the time part.
pub const ID_TIME_LEN: usize = 16;
/// Characters that encode the random part.
pub const ID_RANDOM_LEN: usize = 4;

const TIME_MASK: u128 = (1u128 << 80) - 1;

/// Encodes the low `5 * width` bits of `value` as `width` Crockford characters,
/// most significant first (zero-padded on the left).
pub fn encode_crockford(value: u128, width: usize) -> String {
    let mut out = vec![b'0'; width];
    let mut v = value;
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD_ALPHABET[(v & 31) as usize];
        v >>= 5;
    }
    // Every byte comes from the ASCII alphabet.
    String::from_utf8(out).unwrap_or_default()
}

/// Builds an id from its two parts: `time_ns` (only the low 80 bits are used) and
/// `random` (only the low 20 bits are used).
pub fn id_from_parts(time_ns: u128, random: u32) -> String {
    let mut id = encode_crockford(time_ns & TIME_MASK, ID_TIME_LEN);
    id.push_str(&encode_crockford(
        u128::from(random & 0xF_FFFF),
        ID_RANDOM_LEN,
    ));
    id
}

/// A new id from the current time and 20 bits from the operating system's random source.
pub fn new_id() -> String {
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    id_from_parts(now_ns, (random_bits() & 0xF_FFFF) as u32)
}

/// True when `s` is exactly 20 characters of the upper-case Crockford alphabet.
pub fn is_valid_id(s: &str) -> bool {
    s.len() == ID_LEN && s.bytes().all(is_crockford_byte)
}

/// True for a byte of the upper-case Crockford alphabet.
pub fn is_crockford_byte(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'A'..=b'H' | b'J' | b'K' | b'M' | b'N' | b'P'..=b'T' | b'V'..=b'Z')
}

/// 16 lowercase hex characters that tie a card shown to a user to the matching log line.
/// Not a secret, only unique: std's randomly keyed SipHash over time and a counter.
pub fn new_error_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(nanos);
    h.write_usize(std::process::id() as usize);
    format!("{:016x}", h.finish())
}

/// 80 bits from a cryptographically seeded generator (the `ulid` crate's randomness).
pub(crate) fn random_bits() -> u128 {
    ulid::Ulid::generate().random()
}

/// A uniform number in `[0, 1)`.
pub fn random_unit() -> f64 {
    // 53 random bits give every representable step of an f64 mantissa.
    let bits = (random_bits() >> 27) as u64 & ((1u64 << 53) - 1);
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_reference() {
        assert_eq!(encode_crockford(31, 2), "0Z");
        assert_eq!(encode_crockford(32, 2), "10");
        assert_eq!(encode_crockford(0, 4), "0000");
        // Only the low 5*width bits count.
        assert_eq!(encode_crockford(32, 1), "0");
    }

    #[test]
    fn parts_land_where_expected() {
        let id = id_from_parts(1, 0xF_FFFF);
        assert_eq!(id, "0000000000000001ZZZZ");
        // Bits above 80 of the time and above 20 of the random part are dropped.
        let id = id_from_parts((1u128 << 80) | 2, 0x10_0001);
        assert_eq!(id, "00000000000000020001");
        assert_eq!(id_from_parts(TIME_MASK, 0), "ZZZZZZZZZZZZZZZZ0000");
    }

    #[test]
    fn new_ids_are_valid_distinct_and_time_ordered() {
        let mut prev = String::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let id = new_id();
            assert!(is_valid_id(&id), "{id}");
            assert!(seen.insert(id.clone()), "duplicate {id}");
            // The time part never goes backwards on one thread.
            assert!(
                id[..ID_TIME_LEN] >= prev[..prev.len().min(ID_TIME_LEN)],
                "{id} < {prev}"
            );
            prev = id;
        }
    }

    #[test]
    fn validity() {
        assert!(is_valid_id("01J2VVZBDQTP1ZQJ8DSN"));
        assert!(!is_valid_id("01J2VVZBDQTP1ZQJ8DS")); // 19
        assert!(!is_valid_id("01J2VVZBDQTP1ZQJ8DSNN")); // 21
        assert!(!is_valid_id("01j2vvzbdqtp1zqj8dsn")); // lower case
        assert!(!is_valid_id("01J2VVZBDQTP1ZQJ8DSI")); // I is not Crockford
        assert!(!is_valid_id("01J2VVZBDQTP1ZQJ8DSU"));
        for &b in CROCKFORD_ALPHABET {
            assert!(is_crockford_byte(b));
        }
        assert_eq!((0u8..=255).filter(|&b| is_crockford_byte(b)).count(), 32);
    }

    #[test]
    fn error_ids_are_16_hex_and_distinct() {
        let a = new_error_id();
        let b = new_error_id();
        assert_eq!(a.len(), 16);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn random_unit_is_in_range() {
        for _ in 0..1000 {
            let u = random_unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
