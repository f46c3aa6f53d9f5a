//! The client's address behind reverse proxies. Only when the connection's peer is one of
//! the trusted proxies are `Forwarded` (RFC 7239) or, without it, `X-Forwarded-For` read;
//! the client is then the rightmost hop that is not itself a trusted proxy (the hops to
//! its left were written by the client or by proxies we do not know, so anyone could have
//! put anything there). From any other peer the headers are ignored: the peer is the
//! client. IP allowlists, address lockouts, rate limits and the log use this address.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address, from the peer's and the forwarding headers.
pub fn client_address(peer: IpAddr, trusted: &[IpNet], headers: &HeaderMap) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    // From the right: skip our own proxies; the first other hop is the client.
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !is_trusted(*ip, trusted) {
                    break;
                }
            }
            // An obfuscated or unreadable hop: the proxy to its right is what we know.
            None => break,
        }
    }
    client
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// An IPv4 address a dual-stack socket reports as `::ffff:a.b.c.d`, as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The hops the headers name, left (the first client) to right (the last proxy); `None`
/// for a hop that is not an address. `Forwarded` wins when present.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| node(value.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().ok())
        .flat_map(|v| match v {
            Some(text) => text.split(',').map(|hop| node(hop.trim())).collect(),
            None => vec![None],
        })
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:443`.
fn node(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok())
        })
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Headers = &'static [(&'static str, &'static str)];

    fn headers(pairs: Headers) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop_from_a_trusted_peer_only() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let proxy = ip("10.0.0.5");
        let outsider = ip("203.0.113.9");
        let cases: &[(IpAddr, Headers, &str)] = &[
            // No headers: the peer.
            (proxy, &[], "10.0.0.5"),
            // An untrusted peer's headers are ignored.
            (outsider, &[("x-forwarded-for", "1.2.3.4")], "203.0.113.9"),
            (outsider, &[("forwarded", "for=1.2.3.4")], "203.0.113.9"),
            // A trusted peer: the rightmost hop.
            (
                proxy,
                &[("x-forwarded-for", "198.51.100.7")],
                "198.51.100.7",
            ),
            // A spoofed leftmost hop is passed over.
            (
                proxy,
                &[("x-forwarded-for", "6.6.6.6, 198.51.100.7")],
                "198.51.100.7",
            ),
            // Our own proxies in the chain are skipped.
            (
                proxy,
                &[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.1.1")],
                "198.51.100.7",
            ),
            // Several header lines read as one list.
            (
                proxy,
                &[
                    ("x-forwarded-for", "6.6.6.6"),
                    ("x-forwarded-for", "198.51.100.7:5555"),
                ],
                "198.51.100.7",
            ),
            // Every hop trusted: the leftmost.
            (
                proxy,
                &[("x-forwarded-for", "10.2.2.2, 10.3.3.3")],
                "10.2.2.2",
            ),
            // Garbage stops at the proxy that wrote it.
            (proxy, &[("x-forwarded-for", "6.6.6.6, junk")], "10.0.0.5"),
            // Forwarded (RFC 7239), quoted IPv6 with a port, and it wins over XFF.
            (
                proxy,
                &[
                    (
                        "forwarded",
                        "for=6.6.6.6;proto=https, for=\"[2001:db8:cafe::17]:4711\";by=10.0.0.5",
                    ),
                    ("x-forwarded-for", "198.51.100.7"),
                ],
                "2001:db8:cafe::17",
            ),
            (proxy, &[("forwarded", "For=192.0.2.60:80")], "192.0.2.60"),
            (proxy, &[("forwarded", "for=_hidden")], "10.0.0.5"),
            // A dual-stack socket's mapped address is trusted as IPv4.
            (
                ip("::ffff:10.0.0.5"),
                &[("x-forwarded-for", "198.51.100.7")],
                "198.51.100.7",
            ),
        ];
        for (peer, given, expected) in cases {
            assert_eq!(
                client_address(*peer, &trusted, &headers(given)),
                ip(expected),
                "{peer} {given:?}"
            );
        }
        // Without trusted proxies nothing is believed.
        assert_eq!(
            client_address(proxy, &[], &headers(&[("x-forwarded-for", "1.2.3.4")])),
            proxy
        );
    }
}
