//! The guarded connect: resolve once, check every answer, connect only to those.
//!
//! Exists so that a download can never reach an internal address, not even by DNS
//! rebinding (a name that answers with a public address when checked and a private one
//! when connected). The name is resolved exactly once per hop with `lookup_host`; the
//! checked addresses are handed to a one-hop reqwest client with
//! `ClientBuilder::resolve_to_addrs`, whose own resolver refuses every other name, so
//! reqwest has no lookup of its own to make. A per-hop client was chosen over a
//! custom connector because it keeps the checked addresses visible to the caller
//! (and to tests) and reuses reqwest's TLS and HTTP handling unchanged; downloads are
//! rare, so the client's construction cost does not matter. Proxies are disabled: a
//! proxy would resolve the name again, on its own side.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::ip::is_forbidden;
use super::limits::FetchLimits;
use super::redirect::{is_redirect, next_hop};
use super::vet::{vet_url, Refusal, UrlPolicy, VettedHost, VettedUrl};

/// Sans-IO: the DNS answers for a name are usable only if there is at least one and
/// none is forbidden.
pub fn check_answers(answers: &[SocketAddr]) -> Result<(), Refusal> {
    if answers.is_empty() {
        return Err(Refusal::UnresolvableHost);
    }
    match answers.iter().find_map(|addr| is_forbidden(addr.ip())) {
        Some(reason) => Err(Refusal::ResolvesToForbidden(reason)),
        None => Ok(()),
    }
}

/// The addresses `url` may be connected to: its IP literal, or every answer of one DNS
/// lookup, all checked (unless `policy.protection` is off). A lookup failure refuses.
pub async fn resolve_checked(
    url: &VettedUrl,
    policy: &UrlPolicy,
) -> Result<Vec<SocketAddr>, Refusal> {
    let answers: Vec<SocketAddr> = match url.host() {
        VettedHost::Ip(ip) => vec![SocketAddr::new(*ip, url.port())],
        VettedHost::Name(name) => tokio::net::lookup_host((name.as_str(), url.port()))
            .await
            .map_err(|_| Refusal::UnresolvableHost)?
            .collect(),
    };
    if answers.is_empty() {
        return Err(Refusal::UnresolvableHost);
    }
    if policy.protection {
        check_answers(&answers)?;
    }
    Ok(answers)
}

/// A resolver for reqwest that never looks anything up: the only names a pinned client
/// may reach are those given to `resolve_to_addrs`.
struct NoLookups;

impl reqwest::dns::Resolve for NoLookups {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async {
            Err::<reqwest::dns::Addrs, _>(
                "lookups outside the checked addresses are refused".into(),
            )
        })
    }
}

/// A one-hop client that connects to `url`'s host only at `addrs`: no redirects
/// followed, no proxy, no DNS lookups of its own.
pub fn pinned_client(
    url: &VettedUrl,
    addrs: &[SocketAddr],
    limits: &FetchLimits,
) -> Result<reqwest::Client, FetchError> {
    let mut builder = crate::http::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(NoLookups))
        .connect_timeout(limits.connect_timeout)
        .pool_max_idle_per_host(0)
        .user_agent(concat!("openrouter-pipe/", env!("CARGO_PKG_VERSION")));
    if let (VettedHost::Name(_), Some(exact)) = (url.host(), url.url().host_str()) {
        // The key is the host exactly as the request will carry it (a trailing dot kept).
        builder = builder.resolve_to_addrs(exact, addrs);
    }
    builder
        .build()
        .map_err(|err| FetchError::Transport(crate::http::describe_error(&err)))
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The body, at most `max_bytes` long.
    pub bytes: Bytes,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The URL the body came from, after redirects.
    pub final_url: String,
}

/// Why a guarded download produced nothing; `Display` is a short reason a user can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The URL, a redirect target or a DNS answer was refused before connecting.
    Refused(Refusal),
    /// The server answered with a status that is neither success nor a redirect.
    Status(u16),
    /// A status worth retrying (408, 425, 429, 5xx) whose `Retry-After` said when.
    StatusRetryAfter(u16, std::time::Duration),
    /// The body is larger than allowed (announced or counted); the limit in bytes.
    TooLarge(u64),
    /// The time budget ran out.
    TimedOut,
    /// The connection or the transfer failed.
    Transport(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Refused(refusal) => write!(f, "refused: {refusal}"),
            FetchError::Status(status) | FetchError::StatusRetryAfter(status, _) => {
                write!(f, "the server answered HTTP {status}")
            }
            FetchError::TooLarge(limit) => {
                write!(
                    f,
                    "the file is larger than {} MB",
                    limit.div_ceil(1024 * 1024)
                )
            }
            FetchError::TimedOut => f.write_str("the download took too long"),
            FetchError::Transport(text) => write!(f, "the download failed: {text}"),
        }
    }
}

impl std::error::Error for FetchError {}

impl From<Refusal> for FetchError {
    fn from(refusal: Refusal) -> Self {
        FetchError::Refused(refusal)
    }
}

/// Download `raw` with every hop vetted, resolved once and checked, following at most
/// `limits.max_redirects` redirects, within `limits.time_budget` and `limits.max_bytes`.
pub async fn guarded_get(
    raw: &str,
    policy: &UrlPolicy,
    limits: &FetchLimits,
) -> Result<Fetched, FetchError> {
    // Vetting the first link is instant and refusals must not wait for the budget.
    let first = vet_url(raw, policy)?;
    tokio::time::timeout(limits.time_budget, follow(first, policy, limits))
        .await
        .unwrap_or(Err(FetchError::TimedOut))
}

async fn follow(
    mut current: VettedUrl,
    policy: &UrlPolicy,
    limits: &FetchLimits,
) -> Result<Fetched, FetchError> {
    let mut hops_taken = 0;
    loop {
        let addrs = resolve_checked(&current, policy).await?;
        let client = pinned_client(&current, &addrs, limits)?;
        let response = client
            .get(current.url().clone())
            .send()
            .await
            .map_err(|err| FetchError::Transport(crate::http::describe_error(&err)))?;
        let status = response.status().as_u16();
        if is_redirect(status) {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok());
            current = next_hop(&current, location, hops_taken, limits.max_redirects, policy)?;
            hops_taken += 1;
            continue;
        }
        if !response.status().is_success() {
            return Err(status_error(status, response.headers()));
        }
        return read_capped(response, current, limits.max_bytes).await;
    }
}

/// A failed status, with the server's `Retry-After` when the status is worth retrying.
fn status_error(status: u16, headers: &reqwest::header::HeaderMap) -> FetchError {
    let retryable = crate::errors::transient_status(status);
    let after = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .filter(|_| retryable)
        .and_then(|value| {
            let pairs = [("retry-after".to_string(), value.to_string())];
            crate::errors::parse::retry_after(&pairs, None)?.seconds
        });
    match after {
        Some(seconds) => {
            FetchError::StatusRetryAfter(status, std::time::Duration::from_secs(seconds))
        }
        None => FetchError::Status(status),
    }
}

async fn read_capped(
    mut response: reqwest::Response,
    from: VettedUrl,
    max_bytes: u64,
) -> Result<Fetched, FetchError> {
    if response.content_length().is_some_and(|len| len > max_bytes) {
        return Err(FetchError::TooLarge(max_bytes));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut body = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| FetchError::Transport(crate::http::describe_error(&err)))?
    {
        if body.len() as u64 + chunk.len() as u64 > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        bytes: body.freeze(),
        content_type,
        final_url: from.as_str().to_owned(),
    })
}
