//! Sans-IO: where a redirect may lead.
//!
//! Exists because every redirect target is a new, untrusted URL: it is vetted exactly
//! like the first one (and its name resolved and checked again by the caller), and the
//! number of hops is bounded. Keeping this free of I/O lets tests walk hostile redirect
//! chains without a network.

use super::vet::{vet_url, Refusal, UrlPolicy, VettedUrl};

/// The status codes that carry a `Location` to follow.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The next URL after `current` answered with `location`, when `hops_taken` redirects
/// were already followed and at most `max_redirects` are allowed.
///
/// A relative `location` is resolved against `current`; the result is vetted as a fresh
/// link, so a redirect can neither reach an internal address nor drop from https to
/// plain http unless `policy` allows that host.
pub fn next_hop(
    current: &VettedUrl,
    location: Option<&str>,
    hops_taken: u32,
    max_redirects: u32,
    policy: &UrlPolicy,
) -> Result<VettedUrl, Refusal> {
    if hops_taken >= max_redirects {
        return Err(Refusal::TooManyRedirects(max_redirects));
    }
    let location = location.ok_or(Refusal::BadRedirect)?;
    if location.is_empty() {
        return Err(Refusal::BadRedirect);
    }
    // The raw text must pass the same character checks before any joining repairs it.
    if location
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(Refusal::HiddenCharacters);
    }
    if has_scheme(location) {
        return vet_url(location, policy);
    }
    if location.starts_with("//") {
        return vet_url(&format!("{}:{location}", current.url().scheme()), policy);
    }
    // A path on the same host: the host is the vetted one, only the path changes.
    let joined = current
        .url()
        .join(location)
        .map_err(|_| Refusal::BadRedirect)?;
    vet_url(joined.as_str(), policy)
}

/// `scheme:` at the start (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
fn has_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}
