//! The hostile URL corpus (issue #11): every link below must be refused, and a counting
//! loopback server proves that no refused download ever opened a connection.
//!
//! Traffic goes only to the loopback servers this file starts; every private-range
//! vector is refused before any connection attempt.

#[path = "loopback_server/mod.rs"]
mod loopback_server;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use loopback_server::LoopbackServer;
use openrouter_pipe::fetch::{
    check_answers, guarded_get, is_forbidden, next_hop, resolve_checked, vet_url, FetchError,
    FetchLimits, Refusal, UrlPolicy, VettedHost,
};
use proptest::prelude::*;

/// Links written with `{p}` where the counting server's port goes.
const CORPUS: &[&str] = &[
    // Schemes other than http(s), and no scheme.
    "file:///etc/passwd",
    "ftp://example.com/x",
    "gopher://127.0.0.1:{p}/_GET",
    "data:text/plain,hi",
    "javascript:alert(1)",
    "dict://127.0.0.1:{p}/",
    "ws://example.com/",
    "//example.com/x",
    // Userinfo and other authority tricks.
    "https://user:pass@example.com/",
    "https://example.com@127.0.0.1:{p}/",
    "https://127.0.0.1:{p}@example.com/",
    "http://example.com\\@127.0.0.1:{p}/",
    "http:\\\\127.0.0.1:{p}\\",
    "http://127.0.0.1:{p}/ ",
    " http://127.0.0.1:{p}/",
    "http://127.0.0.1\t:{p}/",
    "http://exa\nmple.com/",
    "http://127.0.0.1:{p}/\0",
    "http:///path",
    "http://:{p}/",
    "https:example.com",
    "https:/example.com",
    "http://example.com:0/",
    "http://example.com:99999/",
    "http://example.com:+80/",
    // Loopback, unspecified and localhost in every spelling.
    "http://127.0.0.1:{p}/",
    "http://127.1.2.3:{p}/",
    "http://localhost:{p}/",
    "http://localhost.:{p}/",
    "http://LOCALHOST:{p}/",
    "http://foo.localhost:{p}/",
    "HTTP://127.0.0.1:{p}/",
    "hTtPs://127.0.0.1:{p}/",
    "http://[::1]:{p}/",
    "http://[0:0:0:0:0:0:0:1]:{p}/",
    "http://0/",
    "http://0.0.0.0:{p}/",
    "http://[::]:{p}/",
    // Non-canonical IPv4: decimal, octal, hex, short forms, trailing dot, look-alikes.
    "http://2130706433:{p}/",
    "http://0177.0.0.1:{p}/",
    "http://0x7f.1:{p}/",
    "http://0x7f000001:{p}/",
    "http://127.1:{p}/",
    "http://127.0.1:{p}/",
    "http://127.0.0.1.:{p}/",
    "http://0x7f.0x0.0x0.0x1:{p}/",
    "http://017700000001:{p}/",
    "http://127\u{3002}0\u{3002}0\u{3002}1:{p}/",
    "http://\u{ff11}\u{ff12}\u{ff17}.0.0.1:{p}/",
    "http://3232235521/",
    "http://8.8.8.8./",
    "http://0x08.0x08.0x08.0x08/",
    // Percent-encoding in the host.
    "http://%31%32%37.0.0.1:{p}/",
    "http://127.0.0.1%2523:{p}/",
    "http://127.0.0.1%00.example.com/",
    "http://[fe80::1%25eth0]/",
    "http://%6c%6f%63%61%6c%68%6f%73%74:{p}/",
    // Private, link-local, metadata, CGNAT, multicast, broadcast, reserved, special.
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.0.1/",
    "http://100.64.0.1/",
    "http://100.100.100.200/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://192.0.2.1/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://198.18.0.1/",
    "http://198.19.255.255/",
    "http://192.0.0.8/",
    // IPv6 forms.
    "http://[fd00::1]/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
    "http://[::ffff:127.0.0.1]:{p}/",
    "http://[::ffff:7f00:1]:{p}/",
    "http://[::ffff:8.8.8.8]/",
    "http://[::127.0.0.1]:{p}/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[64:ff9b::10.0.0.1]/",
    "http://[64:ff9b:1::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:c0a8:101::1]/",
    "http://[2001::1]/",
    "http://[100::1]/",
    "http://[fd00:ec2::254]/",
    // Names that only exist on a local network, and broken names.
    "http://metadata.google.internal/",
    "http://printer.local/",
    "http://intranet/",
    "http://router.home.arpa/",
    "http://example.com../",
];

/// The most permissive setting a deployment can choose with protection on: plain
/// http allowed everywhere, so what is refused is refused for the SSRF reason.
fn permissive_http() -> UrlPolicy {
    UrlPolicy {
        allow_insecure_http: true,
        ..UrlPolicy::default()
    }
}

fn with_port(vector: &str, port: u16) -> String {
    vector.replace("{p}", &port.to_string())
}

#[test]
fn the_corpus_is_large_enough() {
    assert!(CORPUS.len() >= 60, "{} vectors", CORPUS.len());
}

#[test]
fn every_vector_is_refused_by_vetting_alone() {
    for policy in [permissive_http(), UrlPolicy::default()] {
        for vector in CORPUS {
            let link = with_port(vector, 8080);
            assert!(
                vet_url(&link, &policy).is_err(),
                "accepted {link:?} under {policy:?}"
            );
        }
    }
}

#[tokio::test]
async fn no_refused_download_reaches_the_counting_server() {
    let target = LoopbackServer::redirecting_to("http://127.0.0.1:1/").await;
    let limits = FetchLimits::default();
    for vector in CORPUS {
        let link = with_port(vector, target.port);
        let outcome = guarded_get(&link, &permissive_http(), &limits).await;
        assert!(
            matches!(outcome, Err(FetchError::Refused(_))),
            "{link:?} gave {outcome:?}"
        );
    }
    assert_eq!(target.connections(), 0, "a refused link reached the server");
}

#[tokio::test]
async fn a_loopback_server_that_redirects_to_loopback_is_refused_at_the_first_hop() {
    let second = LoopbackServer::redirecting_to("http://127.0.0.1:1/").await;
    let first = LoopbackServer::redirecting_to(&format!("http://127.0.0.1:{}/", second.port)).await;
    let outcome = guarded_get(
        &format!("http://127.0.0.1:{}/start", first.port),
        &permissive_http(),
        &FetchLimits::default(),
    )
    .await;
    assert_eq!(
        outcome,
        Err(FetchError::Refused(Refusal::ForbiddenAddress(
            "a loopback address"
        )))
    );
    assert_eq!(first.connections() + second.connections(), 0);
}

#[test]
fn refusals_name_the_reason_a_user_can_read() {
    let reason = |link: &str| vet_url(link, &permissive_http()).unwrap_err().to_string();
    assert_eq!(
        reason("http://192.168.1.1/"),
        "the address is on a private network"
    );
    assert_eq!(
        reason("https://169.254.169.254/"),
        "the address is a cloud metadata address"
    );
    assert_eq!(
        reason("ftp://example.com/"),
        "only http and https links are accepted"
    );
    assert_eq!(
        vet_url("http://example.com/", &UrlPolicy::default())
            .unwrap_err()
            .to_string(),
        "only https links are accepted"
    );
}

#[test]
fn a_name_with_one_private_answer_among_public_ones_is_refused() {
    let answers: Vec<SocketAddr> = ["8.8.8.8:443", "10.0.0.7:443", "1.1.1.1:443"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    assert_eq!(
        check_answers(&answers),
        Err(Refusal::ResolvesToForbidden("on a private network"))
    );
    let mixed_families: Vec<SocketAddr> = ["[2606:4700::1111]:443", "[fd12::1]:443"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    assert!(check_answers(&mixed_families).is_err());
    assert_eq!(check_answers(&[]), Err(Refusal::UnresolvableHost));
    assert!(check_answers(&["8.8.8.8:443".parse().unwrap()]).is_ok());
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_even_if_vetting_let_it_through() {
    // Vetting with protection off lets `localhost` through; the DNS check still refuses.
    let unprotected = UrlPolicy {
        protection: false,
        ..permissive_http()
    };
    let vetted = vet_url("http://localhost:9/", &unprotected).expect("shape is fine");
    assert_eq!(vetted.host(), &VettedHost::Name("localhost".into()));
    assert_eq!(
        resolve_checked(&vetted, &permissive_http()).await,
        Err(Refusal::ResolvesToForbidden("a loopback address"))
    );
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_refused() {
    let vetted = vet_url(
        "https://does-not-exist.invalid./",
        &UrlPolicy {
            protection: false,
            ..UrlPolicy::default()
        },
    )
    .expect("shape is fine");
    assert_eq!(
        resolve_checked(&vetted, &UrlPolicy::default()).await,
        Err(Refusal::UnresolvableHost)
    );
}

#[test]
fn every_redirect_target_is_vetted_again() {
    let policy = UrlPolicy::default();
    let start = vet_url("https://example.com/a/b.png", &policy).unwrap();
    for location in [
        "http://127.0.0.1/",
        "https://127.0.0.1/",
        "//127.0.0.1/x",
        "//[::1]/x",
        "https://[::ffff:10.0.0.1]/",
        "https://0x7f.1/",
        "https://169.254.169.254/latest/meta-data/",
        "http://example.com/b.png",
        "file:///etc/passwd",
        "https://user@example.com/",
        "https://localhost./",
        "https://example.com\\@10.0.0.1/",
        "/path\twith-tab",
        "",
    ] {
        assert!(
            next_hop(&start, Some(location), 0, 3, &policy).is_err(),
            "followed {location:?}"
        );
    }
    assert_eq!(
        next_hop(&start, None, 0, 3, &policy),
        Err(Refusal::BadRedirect)
    );
    let same_host = next_hop(&start, Some("../c.png"), 0, 3, &policy).unwrap();
    assert_eq!(same_host.as_str(), "https://example.com/c.png");
}

#[test]
fn a_redirect_chain_stops_after_the_allowed_hops_and_at_the_first_bad_target() {
    let policy = UrlPolicy::default();
    let mut current = vet_url("https://one.example.com/", &policy).unwrap();
    for (hop, next) in [
        "https://two.example.net/",
        "https://three.example.org/",
        "/four",
    ]
    .iter()
    .enumerate()
    {
        current = next_hop(&current, Some(next), hop as u32, 3, &policy).unwrap();
    }
    assert_eq!(current.as_str(), "https://three.example.org/four");
    assert_eq!(
        next_hop(&current, Some("https://five.example.com/"), 3, 3, &policy),
        Err(Refusal::TooManyRedirects(3))
    );
    let public = vet_url("https://cdn.example.net/", &policy).unwrap();
    assert_eq!(
        next_hop(&public, Some("https://10.1.2.3/"), 1, 3, &policy),
        Err(Refusal::ForbiddenAddress("on a private network"))
    );
}

/// An independent, octet-by-octet statement of the forbidden IPv4 ranges.
fn forbidden_by_table(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..=127).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..=31).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 192 && b == 88 && c == 99)
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224
        || ip == Ipv4Addr::new(100, 100, 100, 200)
}

/// Addresses spread over every interesting range, plus arbitrary ones.
fn interesting_v4() -> impl Strategy<Value = Ipv4Addr> {
    let near = |a: u8, b: u8| (Just(a), Just(b), any::<u8>(), any::<u8>());
    prop_oneof![
        any::<u32>().prop_map(Ipv4Addr::from),
        near(100, 64).prop_flat_map(|(a, _, c, d)| {
            (60u8..132).prop_map(move |b| Ipv4Addr::new(a, b, c, d))
        }),
        near(172, 16).prop_flat_map(|(a, _, c, d)| {
            (10u8..40).prop_map(move |b| Ipv4Addr::new(a, b, c, d))
        }),
        near(198, 18).prop_flat_map(|(a, _, c, d)| {
            (16u8..21).prop_map(move |b| Ipv4Addr::new(a, b, c, d))
        }),
        (
            prop::sample::select(vec![0u8, 2, 1, 3, 99, 100, 113]),
            any::<u8>()
        )
            .prop_flat_map(|(c, d)| prop::sample::select(vec![
                (192u8, 0u8),
                (198, 51),
                (203, 0),
                (192, 88)
            ])
            .prop_map(move |(a, b)| Ipv4Addr::new(a, b, c, d))),
        (220u8..=255, any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(a, b, c, d)| Ipv4Addr::new(a, b, c, d)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn ipv4_classification_matches_the_reference_table(ip in interesting_v4()) {
        prop_assert_eq!(is_forbidden(IpAddr::V4(ip)).is_some(), forbidden_by_table(ip), "{}", ip);
    }

    #[test]
    fn mapped_and_compatible_ipv6_are_always_refused(ip in any::<u32>().prop_map(Ipv4Addr::from)) {
        prop_assert!(is_forbidden(IpAddr::V6(ip.to_ipv6_mapped())).is_some());
        prop_assert!(is_forbidden(IpAddr::V6(ip.to_ipv6_compatible())).is_some());
    }

    #[test]
    fn nat64_and_6to4_follow_the_embedded_ipv4(ip in interesting_v4()) {
        let [a, b, c, d] = ip.octets();
        let nat64 = std::net::Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0,
            u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
        let six_to_four = std::net::Ipv6Addr::new(0x2002,
            u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]), 0, 0, 0, 0, 1);
        prop_assert_eq!(is_forbidden(IpAddr::V6(nat64)).is_some(), forbidden_by_table(ip));
        prop_assert_eq!(is_forbidden(IpAddr::V6(six_to_four)).is_some(), forbidden_by_table(ip));
    }

    #[test]
    fn a_dotted_quad_link_is_accepted_exactly_when_its_address_is_public(ip in interesting_v4()) {
        let accepted = vet_url(&format!("https://{ip}/x.png"), &UrlPolicy::default()).is_ok();
        prop_assert_eq!(accepted, !forbidden_by_table(ip), "{}", ip);
    }
}
