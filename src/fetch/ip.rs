//! Which IP addresses a download may never reach.
//!
//! Exists so that one table decides "is this address inside somebody's network?" for
//! both IP-literal URLs and every DNS answer. The rules are stricter than Python's
//! `ipaddress` flags the reference pipe used: carrier-grade NAT space, cloud metadata
//! addresses, every IPv6 form that embeds an IPv4 address, and IPv6 outside the global
//! unicast block are refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` must not be contacted, or `None` when it is an ordinary public address.
///
/// The reason reads after "the address is …", e.g. "on a private network".
pub fn is_forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

/// An IPv4 range as (first address, prefix length, reason), checked in order: the
/// specific entries (metadata, broadcast) come before the ranges that contain them.
const V4_RULES: &[([u8; 4], u8, &str)] = &[
    ([169, 254, 169, 254], 32, "a cloud metadata address"),
    ([100, 100, 100, 200], 32, "a cloud metadata address"),
    ([255, 255, 255, 255], 32, "the broadcast address"),
    ([0, 0, 0, 0], 32, "unspecified"),
    ([0, 0, 0, 0], 8, "on \"this network\" (0.0.0.0/8)"),
    ([10, 0, 0, 0], 8, "on a private network"),
    ([100, 64, 0, 0], 10, "in carrier-grade NAT space"),
    ([127, 0, 0, 0], 8, "a loopback address"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "on a private network"),
    ([192, 0, 0, 0], 24, "reserved for IETF protocol assignments"),
    ([192, 0, 2, 0], 24, "reserved for documentation"),
    ([192, 88, 99, 0], 24, "a 6to4 relay address"),
    ([192, 168, 0, 0], 16, "on a private network"),
    ([198, 18, 0, 0], 15, "reserved for benchmarking"),
    ([198, 51, 100, 0], 24, "reserved for documentation"),
    ([203, 0, 113, 0], 24, "reserved for documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved"),
];

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(ip);
    V4_RULES.iter().find_map(|(first, prefix, reason)| {
        let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
        (bits & mask == u32::from_be_bytes(*first) & mask).then_some(*reason)
    })
}

/// An IPv6 range as (first address, prefix length, reason), checked in order.
const V6_RULES: &[(u128, u8, &str)] = &[
    (
        0xfd00_0ec2_0000_0000_0000_0000_0000_0254,
        128,
        "a cloud metadata address",
    ),
    (0, 128, "unspecified"),
    (1, 128, "a loopback address"),
    (
        0x0000_0000_0000_0000_0000_ffff_0000_0000,
        96,
        "an IPv4-mapped address",
    ),
    (
        0x0000_0000_0000_0000_ffff_0000_0000_0000,
        96,
        "an IPv4-translated address",
    ),
    (0, 96, "an IPv4-compatible address"),
    (
        0x0064_ff9b_0001_0000_0000_0000_0000_0000,
        48,
        "a local-use NAT64 address",
    ),
    (
        0x0100_0000_0000_0000_0000_0000_0000_0000,
        64,
        "a discard-only address",
    ),
    (
        0x2001_0000_0000_0000_0000_0000_0000_0000,
        32,
        "a Teredo tunnel address",
    ),
    (
        0x2001_0002_0000_0000_0000_0000_0000_0000,
        48,
        "reserved for benchmarking",
    ),
    (
        0x2001_0db8_0000_0000_0000_0000_0000_0000,
        32,
        "reserved for documentation",
    ),
    (
        0x2001_0000_0000_0000_0000_0000_0000_0000,
        23,
        "reserved for IETF protocol assignments",
    ),
    (
        0x3fff_0000_0000_0000_0000_0000_0000_0000,
        20,
        "reserved for documentation",
    ),
    (
        0xfc00_0000_0000_0000_0000_0000_0000_0000,
        7,
        "on a unique-local network",
    ),
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10, "link-local"),
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10, "site-local"),
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8, "multicast"),
];

const NAT64_WELL_KNOWN: u128 = 0x0064_ff9b_0000_0000_0000_0000_0000_0000;
const SIX_TO_FOUR: u128 = 0x2002_0000_0000_0000_0000_0000_0000_0000;
const GLOBAL_UNICAST: u128 = 0x2000_0000_0000_0000_0000_0000_0000_0000;

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    let in_prefix = |first: u128, prefix: u8| {
        let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
        bits & mask == first & mask
    };
    if let Some(reason) = V6_RULES
        .iter()
        .find_map(|(first, prefix, reason)| in_prefix(*first, *prefix).then_some(*reason))
    {
        return Some(reason);
    }
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they embed:
    // they are as forbidden as that address.
    if in_prefix(NAT64_WELL_KNOWN, 96) {
        let embedded = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
        return forbidden_v4(embedded).map(|_| "a NAT64 address of a forbidden IPv4 address");
    }
    if in_prefix(SIX_TO_FOUR, 16) {
        let embedded = Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32);
        return forbidden_v4(embedded).map(|_| "a 6to4 address of a forbidden IPv4 address");
    }
    // Everything outside 2000::/3 (global unicast) is unassigned or special-purpose.
    if !in_prefix(GLOBAL_UNICAST, 3) {
        return Some("reserved");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> Option<&'static str> {
        is_forbidden(text.parse().expect("test address"))
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ok in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(reason(ok), None, "{ok}");
        }
    }

    #[test]
    fn internal_addresses_are_refused_with_their_reason() {
        assert_eq!(reason("10.1.2.3"), Some("on a private network"));
        assert_eq!(reason("169.254.169.254"), Some("a cloud metadata address"));
        assert_eq!(reason("fd00:ec2::254"), Some("a cloud metadata address"));
        assert_eq!(reason("100.100.100.200"), Some("a cloud metadata address"));
        assert_eq!(reason("100.64.0.1"), Some("in carrier-grade NAT space"));
        assert_eq!(reason("::ffff:8.8.8.8"), Some("an IPv4-mapped address"));
        assert_eq!(reason("::127.0.0.1"), Some("an IPv4-compatible address"));
        assert_eq!(
            reason("64:ff9b::7f00:1"),
            Some("a NAT64 address of a forbidden IPv4 address")
        );
        assert_eq!(
            reason("2002:a00:1::"),
            Some("a 6to4 address of a forbidden IPv4 address")
        );
        assert_eq!(reason("2001::1"), Some("a Teredo tunnel address"));
        assert_eq!(reason("4000::1"), Some("reserved"));
    }
}
