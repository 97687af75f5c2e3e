//! Sans-IO vetting of a URL before anything is downloaded from it.
//!
//! Exists because the `url` crate, like browsers, silently repairs hostile spellings
//! (`0x7f.1` becomes `127.0.0.1`, `%31%32%37.0.0.1` is decoded, tabs are dropped,
//! backslashes become slashes). A repaired spelling is a sign of a trick, so the raw
//! text is checked first and refused when it is not already in its plain form; only
//! then is the parsed URL classified. DNS answers are checked later (`resolve.rs`).

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

use super::ip::is_forbidden;

/// Longest URL accepted; longer text is refused before parsing.
pub const MAX_URL_LEN: usize = 8 * 1024;

/// What the download settings allow (`ENABLE_SSRF_PROTECTION`, `ALLOW_INSECURE_HTTP`,
/// `ALLOW_INSECURE_HTTP_HOSTS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Plain `http://` to any host (otherwise https only).
    pub allow_insecure_http: bool,
    /// Hosts (names or IP literals, case-insensitive) that may be reached over plain http.
    pub insecure_http_hosts: Vec<String>,
    /// Refuse internal addresses and local names. When off, only the URL's shape is
    /// checked (scheme, userinfo, control characters, https rule).
    pub protection: bool,
}

impl Default for UrlPolicy {
    /// https only, protection on.
    fn default() -> Self {
        Self {
            allow_insecure_http: false,
            insecure_http_hosts: Vec::new(),
            protection: true,
        }
    }
}

impl Refusal {
    /// Whether the link points into a private network (a local name, a forbidden
    /// address, or a name that resolves to one), rather than being malformed.
    pub fn is_private_address(&self) -> bool {
        matches!(
            self,
            Refusal::LocalName | Refusal::ForbiddenAddress(_) | Refusal::ResolvesToForbidden(_)
        )
    }
}

/// Why a URL (or a host's DNS answer) was refused; `Display` is a short reason a user
/// can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Empty text.
    Empty,
    /// Longer than [`MAX_URL_LEN`].
    TooLong,
    /// A control character, whitespace or backslash anywhere in the text.
    HiddenCharacters,
    /// Not `http` or `https`.
    UnsupportedScheme,
    /// Plain http to a host that is not allowed it.
    InsecureHttp,
    /// `user:pass@` before the host.
    Userinfo,
    /// No host, an empty label, or a shape the parser rejects.
    Malformed,
    /// A port that is not a number from 1 to 65535.
    BadPort,
    /// `%` in the host: percent-encoding would be decoded silently.
    EncodedHost,
    /// An IPv4 address not written as four plain decimal numbers.
    NonCanonicalIpv4,
    /// A name that only has a meaning inside a local network (`localhost`, `*.internal`, …).
    LocalName,
    /// An IP literal (or an IP a name resolves to) that is forbidden; the reason from
    /// [`super::ip::is_forbidden`].
    ForbiddenAddress(&'static str),
    /// A name whose DNS answers include a forbidden address.
    ResolvesToForbidden(&'static str),
    /// The name could not be resolved, or resolved to nothing.
    UnresolvableHost,
    /// More redirects than allowed.
    TooManyRedirects(u32),
    /// A redirect without a usable `Location`.
    BadRedirect,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Empty => f.write_str("the link is empty"),
            Refusal::TooLong => f.write_str("the link is too long"),
            Refusal::HiddenCharacters => {
                f.write_str("the link contains spaces, control characters or backslashes")
            }
            Refusal::UnsupportedScheme => f.write_str("only http and https links are accepted"),
            Refusal::InsecureHttp => f.write_str("only https links are accepted"),
            Refusal::Userinfo => f.write_str("links with a user name or password are not accepted"),
            Refusal::Malformed => f.write_str("the link is not a valid web address"),
            Refusal::BadPort => f.write_str("the link's port is not valid"),
            Refusal::EncodedHost => f.write_str("the link's host name is percent-encoded"),
            Refusal::NonCanonicalIpv4 => {
                f.write_str("the link's IP address is written in an unusual form")
            }
            Refusal::LocalName => f.write_str("the host name only exists on a local network"),
            Refusal::ForbiddenAddress(reason) => write!(f, "the address is {reason}"),
            Refusal::ResolvesToForbidden(reason) => {
                write!(f, "the host name points to an address that is {reason}")
            }
            Refusal::UnresolvableHost => f.write_str("the host name could not be resolved"),
            Refusal::TooManyRedirects(limit) => write!(f, "more than {limit} redirects"),
            Refusal::BadRedirect => f.write_str("a redirect did not say where to go"),
        }
    }
}

impl std::error::Error for Refusal {}

/// The host of a vetted URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VettedHost {
    /// An IP literal, already classified.
    Ip(IpAddr),
    /// A DNS name (lower-case, no trailing dot), still to be resolved and checked.
    Name(String),
}

/// A URL that passed [`vet_url`]: its parsed form and its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VettedUrl {
    url: Url,
    host: VettedHost,
    port: u16,
}

impl VettedUrl {
    /// The parsed URL (what is requested).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The host, an IP literal or a name.
    pub fn host(&self) -> &VettedHost {
        &self.host
    }

    /// The port that will be connected to (the scheme's default when none is written).
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Name suffixes that never denote a public host (RFC 6761, RFC 8375, common private
/// zones and cloud metadata names).
const LOCAL_SUFFIXES: &[&str] = &[
    "localhost",
    "local",
    "localdomain",
    "internal",
    "intranet",
    "lan",
    "home",
    "corp",
    "private",
    "home.arpa",
    "in-addr.arpa",
    "ip6.arpa",
    "test",
    "invalid",
    "example",
    "onion",
];

/// Check `raw` against `policy`; a URL that passes may be downloaded once its name's
/// DNS answers have been checked too.
pub fn vet_url(raw: &str, policy: &UrlPolicy) -> Result<VettedUrl, Refusal> {
    if raw.is_empty() {
        return Err(Refusal::Empty);
    }
    if raw.len() > MAX_URL_LEN {
        return Err(Refusal::TooLong);
    }
    if raw
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(Refusal::HiddenCharacters);
    }
    let (scheme, rest) = raw.split_once(':').ok_or(Refusal::Malformed)?;
    let https = if scheme.eq_ignore_ascii_case("https") {
        true
    } else if scheme.eq_ignore_ascii_case("http") {
        false
    } else {
        return Err(Refusal::UnsupportedScheme);
    };
    // `http:host` and `http:/host` are repaired by the parser; a real link has `//`.
    let rest = rest.strip_prefix("//").ok_or(Refusal::Malformed)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(Refusal::Userinfo);
    }
    let (raw_host, raw_port) = split_authority(authority)?;
    if raw_host.is_empty() {
        return Err(Refusal::Malformed);
    }
    if raw_host.contains('%') {
        return Err(Refusal::EncodedHost);
    }
    if let Some(port) = raw_port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
            return Err(Refusal::BadPort);
        }
        if !matches!(port.parse::<u32>(), Ok(1..=65535)) {
            return Err(Refusal::BadPort);
        }
    }

    let url = Url::parse(raw).map_err(|_| Refusal::Malformed)?;
    let port = url.port_or_known_default().ok_or(Refusal::Malformed)?;
    let host = match url.host().ok_or(Refusal::Malformed)? {
        Host::Ipv4(v4) => {
            // Only the plain dotted-quad spelling is accepted: decimal, octal, hex,
            // short forms, trailing dots and look-alike digits are all repaired by the
            // parser into some address, which is the trick.
            if raw_host != v4.to_string() {
                return Err(Refusal::NonCanonicalIpv4);
            }
            VettedHost::Ip(IpAddr::V4(v4))
        }
        Host::Ipv6(v6) => VettedHost::Ip(IpAddr::V6(v6)),
        Host::Domain(name) => VettedHost::Name(vet_name(name, policy)?),
    };
    if let (VettedHost::Ip(ip), true) = (&host, policy.protection) {
        if let Some(reason) = is_forbidden(*ip) {
            return Err(Refusal::ForbiddenAddress(reason));
        }
    }
    if !https && !insecure_http_allowed(&host, policy) {
        return Err(Refusal::InsecureHttp);
    }
    Ok(VettedUrl { url, host, port })
}

/// `host[:port]` or `[v6][:port]` from the raw authority.
fn split_authority(authority: &str) -> Result<(&str, Option<&str>), Refusal> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (inside, after) = bracketed.split_once(']').ok_or(Refusal::Malformed)?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(Refusal::Malformed)?),
        };
        return Ok((inside, port));
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

/// A DNS name as the parser normalised it: no empty labels, nothing local.
fn vet_name(name: &str, policy: &UrlPolicy) -> Result<String, Refusal> {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if name.is_empty() || name.split('.').any(str::is_empty) {
        return Err(Refusal::Malformed);
    }
    if !policy.protection {
        return Ok(name);
    }
    // A single label is resolved through the search domains of the local network.
    if !name.contains('.') {
        return Err(Refusal::LocalName);
    }
    let local = LOCAL_SUFFIXES.iter().any(|suffix| {
        name == *suffix
            || name
                .strip_suffix(suffix)
                .is_some_and(|head| head.ends_with('.'))
    });
    if local {
        return Err(Refusal::LocalName);
    }
    Ok(name)
}

fn insecure_http_allowed(host: &VettedHost, policy: &UrlPolicy) -> bool {
    if policy.allow_insecure_http {
        return true;
    }
    let text = match host {
        VettedHost::Ip(ip) => ip.to_string(),
        VettedHost::Name(name) => name.clone(),
    };
    policy.insecure_http_hosts.iter().any(|allowed| {
        let allowed = allowed.trim().trim_start_matches('[').trim_end_matches(']');
        let allowed = allowed.strip_suffix('.').unwrap_or(allowed);
        match (allowed.parse::<IpAddr>(), host) {
            (Ok(ip), VettedHost::Ip(own)) => ip == *own,
            _ => allowed.eq_ignore_ascii_case(&text),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_https_link_is_accepted() {
        let vetted = vet_url("https://Example.com/a.png?x=1", &UrlPolicy::default()).unwrap();
        assert_eq!(vetted.host(), &VettedHost::Name("example.com".into()));
        assert_eq!(vetted.port(), 443);
    }

    #[test]
    fn plain_http_needs_the_host_on_the_allowlist() {
        let mut policy = UrlPolicy::default();
        assert_eq!(
            vet_url("http://example.com/", &policy),
            Err(Refusal::InsecureHttp)
        );
        policy.insecure_http_hosts = vec!["EXAMPLE.com".into()];
        assert!(vet_url("http://example.com/", &policy).is_ok());
        assert_eq!(
            vet_url("http://example.org/", &policy),
            Err(Refusal::InsecureHttp)
        );
    }

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(
            Refusal::ForbiddenAddress("on a private network").to_string(),
            "the address is on a private network"
        );
        assert_eq!(
            Refusal::InsecureHttp.to_string(),
            "only https links are accepted"
        );
    }
}
