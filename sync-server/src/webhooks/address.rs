//! Where webhooks may go. A URL whose host is or resolves to a loopback, private,
//! link-local, multicast or unspecified address is refused when an endpoint is made, and
//! each attempt resolves the host again through [`CheckedResolver`], which hands the HTTP
//! client only addresses that pass, so the connection goes to an address that was checked
//! (a name that resolved to a public address yesterday and to 127.0.0.1 today is
//! refused). The setting `allow_private_webhooks` lifts both checks (receivers on the
//! same machine or network, and tests).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why an address may not receive webhooks, or `None` when it may.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // 100.64.0.0/10 is carrier-grade NAT: another customer's private network.
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || a >= 240 {
        Some("reserved")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if segments[0] & 0xffc0 == 0xfe80 || segments[0] & 0xffc0 == 0xfec0 {
        Some("link-local")
    } else if segments[0] & 0xfe00 == 0xfc00 {
        Some("private")
    } else if let Some(v4) = ip.to_ipv4_mapped() {
        forbidden_v4(v4)
    } else if segments[..6] == [0; 6] || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // IPv4-compatible and NAT64 addresses reach the IPv4 address inside.
        forbidden_v4(Ipv4Addr::new(
            (segments[6] >> 8) as u8,
            segments[6] as u8,
            (segments[7] >> 8) as u8,
            segments[7] as u8,
        ))
    } else {
        None
    }
}

/// Reads and checks an endpoint's URL: http or https, a host, no user name or password
/// in it, and (unless `allow_private`) a host that resolves only to addresses that may
/// receive webhooks. The error says what to change.
pub async fn check_url(text: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim())
        .map_err(|e| format!("{text:?} is not a URL ({e}); write it as https://host/path"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the URL's scheme is {:?}; webhooks are sent over https:// (or http://)",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the URL holds a user name or password; leave them out: receivers verify the \
             signature instead"
                .into(),
        );
    }
    if text.len() > 2000 {
        return Err("the URL is longer than 2000 characters".into());
    }
    let host = url
        .host_str()
        .ok_or_else(|| "the URL has no host".to_string())?
        .to_string();
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses = resolve(&host, port).await.map_err(|e| {
        format!("{host} does not resolve ({e}); check the URL, or try again when its DNS works")
    })?;
    if let Some((ip, kind)) = addresses
        .iter()
        .find_map(|a| forbidden(a.ip()).map(|kind| (a.ip(), kind)))
    {
        return Err(refusal(&host, ip, kind));
    }
    Ok(url)
}

fn refusal(host: &str, ip: IpAddr, kind: &str) -> String {
    format!(
        "{host} resolves to {ip}, a {kind} address; webhooks go only to public addresses \
         unless the server's allow_private_webhooks setting (POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS) \
         is on"
    )
}

async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    // An address in brackets (IPv6) or plain is not looked up.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let found: Vec<SocketAddr> = tokio::net::lookup_host((bare, port)).await?.collect();
    if found.is_empty() {
        return Err(std::io::Error::other("no addresses"));
    }
    Ok(found)
}

/// The check at send time for a URL whose host is an address (the HTTP client does not
/// ask the resolver for those).
pub fn check_literal(url: &reqwest::Url, allow_private: bool) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let Some(ip) = url.host_str().and_then(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok()
    }) else {
        return Ok(());
    };
    match forbidden(ip) {
        Some(kind) => Err(refusal(&ip.to_string(), ip, kind)),
        None => Ok(()),
    }
}

/// The HTTP client's resolver for webhooks: the system's lookup, keeping only the
/// addresses that may receive webhooks, and failing when none is left.
#[derive(Debug, Clone, Copy)]
pub struct CheckedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = resolve(&host, 0).await?;
            let refused = found
                .iter()
                .find_map(|a| forbidden(a.ip()).map(|kind| (a.ip(), kind)));
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allow_private || forbidden(a.ip()).is_none())
                .collect();
            match (allowed.is_empty(), refused) {
                (true, Some((ip, kind))) => Err(refusal(&host, ip, kind).into()),
                (true, None) => Err(format!("{host} has no addresses").into()),
                (false, _) => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    #[test]
    fn addresses_are_sorted_into_public_and_not() {
        let cases: &[(&str, Option<&str>)] = &[
            ("93.184.215.14", None),
            ("8.8.8.8", None),
            ("2606:4700::1111", None),
            ("127.0.0.1", Some("loopback")),
            ("127.45.3.2", Some("loopback")),
            ("::1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.32.0.1", None),
            ("192.168.1.1", Some("private")),
            ("100.64.0.1", Some("private")),
            ("fd00::1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("fe80::1", Some("link-local")),
            ("224.0.0.1", Some("multicast")),
            ("ff02::1", Some("multicast")),
            ("0.0.0.0", Some("unspecified")),
            ("0.1.2.3", Some("unspecified")),
            ("::", Some("unspecified")),
            ("255.255.255.255", Some("reserved")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private")),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::a9fe:a9fe", Some("link-local")),
        ];
        for (text, expected) in cases {
            let ip: IpAddr = text.parse().expect("an address");
            assert_eq!(forbidden(ip), *expected, "{text}");
        }
    }

    #[tokio::test]
    async fn urls_to_private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost:9/hook",
            "https://[::1]/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.7/",
        ] {
            let err = check_url(url, false).await.expect_err(url);
            assert!(err.contains("allow_private_webhooks"), "{url}: {err}");
            assert!(check_url(url, true).await.is_ok(), "{url} allowed");
        }
        for (url, says) in [
            ("ftp://example.com/", "scheme"),
            ("https://user:pw@example.com/", "password"),
            ("not a url", "not a URL"),
        ] {
            let err = check_url(url, true).await.expect_err(url);
            assert!(err.contains(says), "{url}: {err}");
        }
    }

    #[tokio::test]
    async fn the_resolver_keeps_private_addresses_from_the_client() {
        let refusing = CheckedResolver {
            allow_private: false,
        };
        let name: reqwest::dns::Name = "localhost".parse().expect("name");
        let err = match refusing.resolve(name).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("loopback"), "{err}");
        let allowing = CheckedResolver {
            allow_private: true,
        };
        let name: reqwest::dns::Name = "localhost".parse().expect("name");
        let found: Vec<SocketAddr> = allowing.resolve(name).await.expect("resolves").collect();
        assert!(found.iter().all(|a| a.ip().is_loopback()), "{found:?}");
        let literal = reqwest::Url::parse("http://127.0.0.1:8080/").expect("url");
        assert!(check_literal(&literal, false).is_err());
        assert!(check_literal(&literal, true).is_ok());
    }
}
