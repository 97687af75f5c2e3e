//! Randomised fuzzing of `vet_url`: mutated hostile links and random text must never
//! panic, and whatever is accepted must point at a public host.
//!
//! Exists as the fuzz target of issue #11 without needing `cargo fuzz`: a seeded
//! generator mutates the hostile corpus's shapes (and plain noise) and checks the
//! invariant on every accepted link. The quick test runs on every `cargo test`; the
//! ignored one runs 1,000,000 inputs:
//! `cargo test --release --test ssrf_fuzz -- --ignored --nocapture`.

use std::net::IpAddr;

use openrouter_pipe::fetch::{is_forbidden, vet_url, UrlPolicy, VettedHost};

const SEEDS: &[&str] = &[
    "https://example.com/a.png",
    "http://127.0.0.1:8080/",
    "https://[::ffff:127.0.0.1]/",
    "http://0x7f.1/",
    "http://2130706433/",
    "https://user:pass@example.com/",
    "http://%31%32%37.0.0.1/",
    "https://[fe80::1%25eth0]/",
    "https://cdn.example.net./img?x=1#y",
    "https://8.8.8.8/",
    "https://[2001:4860:4860::8888]:443/",
    "http://localhost./",
    "https://xn--bcher-kva.example/",
];

/// Pieces that tend to change how a URL parses.
const PIECES: &[&str] = &[
    ".",
    ":",
    "/",
    "//",
    "\\",
    "@",
    "%",
    "%25",
    "%2e",
    "[",
    "]",
    "::",
    "0x",
    "0",
    "00",
    "1",
    "127",
    "255",
    "256",
    "4294967295",
    "ffff",
    "::ffff:",
    "?",
    "#",
    " ",
    "\t",
    "\n",
    "\u{3002}",
    "\u{ff0e}",
    "\u{ff11}",
    "\u{200b}",
    "\u{0}",
    "localhost",
    "local",
    "xn--",
    "-",
    "a",
    "é",
    "http:",
    "https:",
    "HTTP://",
    "10.0.0.1",
    "169.254.169.254",
    "64:ff9b::",
    "2002:",
    "fd00::",
];

/// xorshift64*: deterministic, dependency-free, good enough to spread inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng) -> String {
    if rng.below(10) == 0 {
        // Plain noise: random scalar values.
        let len = rng.below(40);
        return (0..len)
            .filter_map(|_| char::from_u32((rng.next() % 0x3000) as u32))
            .collect();
    }
    let mut text: Vec<char> = SEEDS[rng.below(SEEDS.len())].chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(text.len() + 1);
        match rng.below(4) {
            0 => {
                let piece = PIECES[rng.below(PIECES.len())];
                text.splice(at..at, piece.chars());
            }
            1 if at < text.len() => {
                text.remove(at);
            }
            2 if at < text.len() => {
                text[at] = char::from_u32(32 + (rng.next() % 95) as u32).unwrap_or('x');
            }
            _ => {
                let digits = (rng.next() % 1000).to_string();
                text.splice(at..at, digits.chars());
            }
        }
    }
    text.into_iter().collect()
}

/// Names a public link may never use, stated independently of the vetting code.
fn looks_local(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    !name.contains('.')
        || name.ends_with('.')
        || matches!(
            last,
            "localhost" | "local" | "internal" | "lan" | "test" | "invalid"
        )
        || name.split('.').any(str::is_empty)
}

/// Run `count` inputs; returns how many were accepted.
fn run(count: u64, seed: u64) -> u64 {
    let policy = UrlPolicy {
        allow_insecure_http: true,
        ..UrlPolicy::default()
    };
    let mut rng = Rng(seed);
    let mut accepted = 0;
    for _ in 0..count {
        let input = mutate(&mut rng);
        let Ok(vetted) = vet_url(&input, &policy) else {
            continue;
        };
        accepted += 1;
        let url = vetted.url();
        assert!(
            matches!(url.scheme(), "http" | "https"),
            "{input:?} -> {url}"
        );
        assert!(
            url.username().is_empty() && url.password().is_none(),
            "{input:?}"
        );
        match vetted.host() {
            VettedHost::Ip(ip) => {
                assert_eq!(is_forbidden(*ip), None, "{input:?} -> {ip}");
            }
            VettedHost::Name(name) => {
                assert!(name.parse::<IpAddr>().is_err(), "{input:?} -> {name}");
                assert!(!looks_local(name), "{input:?} -> {name}");
                assert_eq!(
                    url.host_str().map(|h| h.trim_end_matches('.')),
                    Some(name.as_str())
                );
            }
        }
    }
    accepted
}

#[test]
fn twenty_thousand_mutated_links_never_panic_and_accept_only_public_hosts() {
    let accepted = run(20_000, 0x5eed_0011);
    assert!(accepted > 0, "the generator never produced a valid link");
}

#[test]
#[ignore = "one million inputs; run with --release --ignored"]
fn a_million_mutated_links_never_panic_and_accept_only_public_hosts() {
    let count = 1_000_000;
    let started = std::time::Instant::now();
    let accepted = run(count, 0x0dd_ba11);
    eprintln!(
        "vet_url fuzz: {count} inputs, {accepted} accepted, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
