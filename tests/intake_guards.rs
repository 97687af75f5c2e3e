//! Property tests of the inline-data guards (issue #11): whatever text arrives, the
//! data-URL parser and the base64 guard never panic, accept exactly what a decoder accepts,
//! and refuse anything over the limit from its length alone.
//!
//! Exists because a user can paste anything into a chat: these guards run before any
//! decoding, so their verdicts must match a real base64 decoder and their size estimate
//! must never let an oversized payload through.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use openrouter_pipe::intake::{estimated_decoded_len, guard_base64, parse_data_url, DataUrlError};
use proptest::prelude::*;

const BIG: u64 = 1 << 30;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encoded_bytes_are_accepted_and_borrowed_unchanged(bytes in prop::collection::vec(any::<u8>(), 1..600), mime in "[a-z]{1,8}/[a-z0-9.+-]{1,12}") {
        let b64 = STANDARD.encode(&bytes);
        let url = format!("data:{mime};base64,{b64}");
        let parsed = parse_data_url(&url, BIG).unwrap();
        prop_assert_eq!(parsed.base64, b64.as_str());
        prop_assert_eq!(parsed.mime, mime);
        prop_assert!(estimated_decoded_len(b64.len()) >= bytes.len() as u64);
    }

    #[test]
    fn whatever_the_guard_accepts_decodes(text in "[A-Za-z0-9+/=_\\-]{0,64}|\\PC{0,64}") {
        match guard_base64(&text, BIG) {
            Ok(()) => prop_assert!(lenient_decodes(&text), "{:?} accepted but undecodable", text),
            Err(DataUrlError::Empty) => prop_assert!(text.is_empty()),
            Err(_) => {}
        }
    }

    #[test]
    fn the_limit_is_decided_by_length_alone(len in 0usize..20_000, limit in 0u64..15_000) {
        let text = "@".repeat(len);
        let verdict = guard_base64(&text, limit);
        let too_large = (len as u64) * 3 / 4 > limit;
        prop_assert_eq!(matches!(verdict, Err(DataUrlError::TooLarge { .. })), too_large);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}", limit in 0u64..1000) {
        let _ = parse_data_url(&text, limit);
        let _ = parse_data_url(&format!("data:{text}"), limit);
        let _ = guard_base64(&text, limit);
    }
}

/// A decoder as lenient as providers are: standard or URL-safe alphabet, padding optional,
/// non-zero trailing bits ignored (the guard checks shape, not those bits).
fn lenient_decodes(text: &str) -> bool {
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let normalised = text.replace('-', "+").replace('_', "/");
    lenient.decode(normalised).is_ok()
}
