//! The guarded download's mechanism: redirects, hop limit, size cap, time budget and
//! the pinned connection, exercised against loopback servers this file starts.
//!
//! Loopback is forbidden with protection on, so these tests switch protection off and
//! allow plain http to `127.0.0.1` only: what they show is that the mechanism follows
//! its limits, and that the shape checks (https rule, hop count) still hold per hop.

#[path = "loopback_server/mod.rs"]
mod loopback_server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use loopback_server::{LoopbackServer, Reply};
use openrouter_pipe::fetch::{
    guarded_get, pinned_client, vet_url, FetchError, FetchLimits, Fetched, Refusal, UrlPolicy,
};

fn loopback_http_only() -> UrlPolicy {
    UrlPolicy {
        allow_insecure_http: false,
        insecure_http_hosts: vec!["127.0.0.1".into()],
        protection: false,
    }
}

fn small_limits() -> FetchLimits {
    FetchLimits {
        max_redirects: 3,
        max_bytes: 1024,
        time_budget: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
    }
}

fn answer(head: &str, body: &[u8]) -> Reply {
    let mut bytes = format!("{head}\r\nConnection: close\r\n\r\n").into_bytes();
    bytes.extend_from_slice(body);
    Reply::Fixed(bytes)
}

/// `guarded_get` of the root of a loopback server, under the tests' policy and limits.
async fn get_from(port: u16) -> Result<Fetched, FetchError> {
    guarded_get(
        &format!("http://127.0.0.1:{port}/"),
        &loopback_http_only(),
        &small_limits(),
    )
    .await
}

async fn png_server() -> LoopbackServer {
    LoopbackServer::start(answer(
        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 5",
        b"hello",
    ))
    .await
}

#[tokio::test]
async fn a_file_is_downloaded_after_a_redirect() {
    let file = png_server().await;
    let hop =
        LoopbackServer::redirecting_to(&format!("http://127.0.0.1:{}/a.png", file.port)).await;
    let fetched = guarded_get(
        &format!("http://127.0.0.1:{}/start", hop.port),
        &loopback_http_only(),
        &small_limits(),
    )
    .await
    .expect("downloaded");
    assert_eq!(&fetched.bytes[..], b"hello");
    assert_eq!(fetched.content_type.as_deref(), Some("image/png"));
    assert_eq!(
        fetched.final_url,
        format!("http://127.0.0.1:{}/a.png", file.port)
    );
    assert_eq!((hop.connections(), file.connections()), (1, 1));
}

#[tokio::test]
async fn a_redirect_to_a_host_not_allowed_plain_http_is_not_followed() {
    let file = png_server().await;
    let hop =
        LoopbackServer::redirecting_to(&format!("http://localhost:{}/a.png", file.port)).await;
    let outcome = get_from(hop.port).await;
    assert_eq!(outcome, Err(FetchError::Refused(Refusal::InsecureHttp)));
    assert_eq!(file.connections(), 0);
}

#[tokio::test]
async fn a_redirect_loop_stops_after_three_hops() {
    // The server redirects to itself: the first request plus three followed hops.
    let looping = LoopbackServer::redirecting_to("/again").await;
    let outcome = get_from(looping.port).await;
    assert_eq!(
        outcome,
        Err(FetchError::Refused(Refusal::TooManyRedirects(3)))
    );
    assert_eq!(looping.connections(), 4);
}

#[tokio::test]
async fn an_announced_size_over_the_cap_is_refused() {
    let big = LoopbackServer::start(answer(
        "HTTP/1.1 200 OK\r\nContent-Length: 4096",
        &[0; 4096],
    ))
    .await;
    let outcome = get_from(big.port).await;
    assert_eq!(outcome, Err(FetchError::TooLarge(1024)));
}

#[tokio::test]
async fn an_unannounced_body_over_the_cap_is_cut_off() {
    let big = LoopbackServer::start(answer("HTTP/1.1 200 OK", &[0; 4096])).await;
    let outcome = get_from(big.port).await;
    assert_eq!(outcome, Err(FetchError::TooLarge(1024)));
}

#[tokio::test]
async fn a_content_length_that_lies_is_a_failure_not_a_short_file() {
    let liar =
        LoopbackServer::start(answer("HTTP/1.1 200 OK\r\nContent-Length: 900", b"short")).await;
    let outcome = get_from(liar.port).await;
    assert!(
        matches!(outcome, Err(FetchError::Transport(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_server_that_drips_bytes_forever_runs_out_of_time() {
    let drip = LoopbackServer::start(Reply::Drip).await;
    let limits = FetchLimits {
        max_bytes: 10 * 1024 * 1024,
        time_budget: Duration::from_millis(800),
        ..small_limits()
    };
    let started = Instant::now();
    let outcome = guarded_get(
        &format!("http://127.0.0.1:{}/", drip.port),
        &loopback_http_only(),
        &limits,
    )
    .await;
    assert_eq!(outcome, Err(FetchError::TimedOut));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        FetchError::TimedOut.to_string(),
        "the download took too long"
    );
}

#[tokio::test]
async fn an_error_status_is_reported() {
    let missing =
        LoopbackServer::start(answer("HTTP/1.1 404 Not Found\r\nContent-Length: 0", b"")).await;
    let outcome = get_from(missing.port).await;
    assert_eq!(outcome, Err(FetchError::Status(404)));
}

#[tokio::test]
async fn a_name_is_resolved_once_and_connected_to_at_the_checked_address() {
    // `example.com` is pinned to the loopback server: the client makes no lookup of its
    // own, so the request lands where the pin says and nowhere else.
    let file = png_server().await;
    let policy = UrlPolicy {
        insecure_http_hosts: vec!["example.com".into()],
        ..loopback_http_only()
    };
    let vetted = vet_url(&format!("http://example.com.:{}/a.png", file.port), &policy).unwrap();
    let pinned: SocketAddr = format!("127.0.0.1:{}", file.port).parse().unwrap();
    let client = pinned_client(&vetted, &[pinned], &small_limits()).unwrap();
    let body = client
        .get(vetted.url().clone())
        .send()
        .await
        .expect("reached the pinned address")
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], b"hello");
    assert_eq!(file.connections(), 1);

    // Any other name through the same client has nothing to resolve with.
    let other = client
        .get(format!("http://example.org:{}/", file.port))
        .send()
        .await;
    assert!(other.is_err());
    assert_eq!(file.connections(), 1);
}

#[tokio::test]
async fn a_retryable_status_keeps_the_servers_retry_after() {
    let busy = LoopbackServer::start(answer(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 0",
        b"",
    ))
    .await;
    let outcome = get_from(busy.port).await;
    assert_eq!(
        outcome,
        Err(FetchError::StatusRetryAfter(503, Duration::from_secs(7)))
    );
    let gone = LoopbackServer::start(answer(
        "HTTP/1.1 404 Not Found\r\nRetry-After: 7\r\nContent-Length: 0",
        b"",
    ))
    .await;
    assert_eq!(get_from(gone.port).await, Err(FetchError::Status(404)));
}
