//! `data:` URLs and inline base64: parsed without decoding, sized from their length.
//!
//! Exists because a 500 MB paste must be refused before anything is decoded or copied:
//! the decoded size is estimated from the base64 length (`len × 3 / 4`), compared with
//! the limit, and only then is the text checked character by character (never decoded:
//! the provider receives the same base64).

use std::fmt;

use super::blocks::normalize_mime;

/// A `data:<mime>;base64,<payload>` URL, borrowed from the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataUrl<'a> {
    /// Lower-cased, `image/jpg` spelled `image/jpeg`; empty when the URL names none.
    pub mime: String,
    /// The base64 payload, exactly as given.
    pub base64: &'a str,
}

/// Why inline data was refused; `Display` is a short reason a user can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataUrlError {
    /// Not `data:…;base64,…`.
    NotBase64DataUrl,
    /// Larger than allowed: the estimated decoded size and the limit, in bytes.
    TooLarge {
        /// `len × 3 / 4` of the payload.
        estimated: u64,
        /// The limit it exceeds.
        limit: u64,
    },
    /// Characters outside the base64 alphabet, or wrong padding or length.
    InvalidBase64,
    /// Nothing after the comma.
    Empty,
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

impl fmt::Display for DataUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataUrlError::NotBase64DataUrl => f.write_str("it is not a base64 data URL"),
            DataUrlError::TooLarge { estimated, limit } => write!(
                f,
                "it is too large (~{}, the limit is {})",
                megabytes(*estimated),
                megabytes(*limit)
            ),
            DataUrlError::InvalidBase64 => f.write_str("its data is not valid base64"),
            DataUrlError::Empty => f.write_str("it is empty"),
        }
    }
}

impl std::error::Error for DataUrlError {}

/// The decoded size `len` base64 characters stand for, estimated as the reference does.
pub fn estimated_decoded_len(len: usize) -> u64 {
    (len as u64).saturating_mul(3) / 4
}

/// Checks inline base64 against `limit` (decoded bytes), then its alphabet and padding
/// (standard alphabet; the URL-safe one is accepted too). Nothing is decoded.
pub fn guard_base64(base64: &str, limit: u64) -> Result<(), DataUrlError> {
    let estimated = estimated_decoded_len(base64.len());
    if estimated > limit {
        return Err(DataUrlError::TooLarge { estimated, limit });
    }
    if base64.is_empty() {
        return Err(DataUrlError::Empty);
    }
    if valid_base64(base64.as_bytes()) {
        Ok(())
    } else {
        Err(DataUrlError::InvalidBase64)
    }
}

fn valid_base64(text: &[u8]) -> bool {
    let body_len = text.iter().rev().take_while(|&&b| b == b'=').count();
    if body_len > 2 {
        return false;
    }
    let body = &text[..text.len() - body_len];
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    if !body.iter().all(alphabet) {
        return false;
    }
    match (body.len() % 4, body_len) {
        (0, 0) => true,
        (1, _) => false,
        // Unpadded tails are accepted; padded ones must complete the quantum.
        (rem, 0) => rem >= 2,
        (rem, pad) => rem + pad == 4,
    }
}

/// Splits a `data:` URL (scheme case-insensitive) and guards its payload against
/// `limit`. The MIME type is normalised; the payload is borrowed, not decoded.
pub fn parse_data_url(text: &str, limit: u64) -> Result<DataUrl<'_>, DataUrlError> {
    let trimmed = text.trim();
    let rest = match trimmed.get(..5) {
        Some(scheme) if scheme.eq_ignore_ascii_case("data:") => &trimmed[5..],
        _ => return Err(DataUrlError::NotBase64DataUrl),
    };
    let Some((header, payload)) = rest.split_once(',') else {
        return Err(DataUrlError::NotBase64DataUrl);
    };
    let mut params = header.split(';');
    let mime = params.next().unwrap_or("");
    if !params.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
        return Err(DataUrlError::NotBase64DataUrl);
    }
    guard_base64(payload, limit)?;
    Ok(DataUrl {
        mime: normalize_mime(mime),
        base64: payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_url_is_split_and_its_mime_normalised() {
        let url = parse_data_url("DATA:Image/JPG;base64,AAAA", 100).unwrap();
        assert_eq!(url.mime, "image/jpeg");
        assert_eq!(url.base64, "AAAA");
    }

    #[test]
    fn size_is_checked_before_the_alphabet() {
        let huge = "!".repeat(4000);
        let err = guard_base64(&huge, 1000).unwrap_err();
        assert_eq!(
            err,
            DataUrlError::TooLarge {
                estimated: 3000,
                limit: 1000
            }
        );
    }

    #[test]
    fn padding_and_alphabet_are_strict() {
        for good in ["AAAA", "AAA=", "AA==", "AAA", "AA", "ab-_"] {
            assert_eq!(guard_base64(good, 100), Ok(()), "{good}");
        }
        for bad in ["A", "A===", "AA=A", "AAAA=", "AA AA", "AA\nAA", "é"] {
            assert_eq!(
                guard_base64(bad, 100),
                Err(DataUrlError::InvalidBase64),
                "{bad}"
            );
        }
        assert_eq!(guard_base64("", 100), Err(DataUrlError::Empty));
    }

    #[test]
    fn shapes_that_are_not_base64_data_urls() {
        for text in [
            "",
            "data:",
            "data:image/png,AAAA",
            "http://x/y.png",
            "data:image/png;base64",
        ] {
            assert_eq!(
                parse_data_url(text, 100),
                Err(DataUrlError::NotBase64DataUrl),
                "{text}"
            );
        }
    }
}
