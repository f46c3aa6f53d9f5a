//! Link cards: the Open Graph tags of a linked page, for an `app.bsky.embed.external`.
//!
//! Everything here is best effort: a page that is slow, not HTML, too big or without tags
//! gives no card, and the post goes out without one.
//!
//! The link comes from the post's text, which may come from anyone (a changelog, a
//! template, a pull request), so the fetch must not be a way into the machine's own
//! network: addresses that are not public (loopback, private ranges, link-local, cloud
//! metadata at 169.254.169.254, ...) are refused after DNS resolution, for the first
//! request and for every redirect. The check also rules out proxies, which would resolve
//! the name themselves, so cards are fetched directly. Tests that serve pages on loopback
//! set `POSTCTL_ALLOW_PRIVATE_FETCH=1`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use reqwest::Url;

/// How long the page (and then its image) may take.
pub(super) const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Open Graph tags are in the head; no need to read a whole long page.
const MAX_PAGE_BYTES: usize = 512 * 1024;
const MAX_TITLE_CHARS: usize = 300;
const MAX_DESCRIPTION_CHARS: usize = 1000;
/// Pages move (http to https, a bare domain to www); a chain longer than this is not a
/// page worth a card.
const MAX_REDIRECTS: usize = 5;

/// The environment variable that lets link cards be fetched from loopback and private
/// addresses: for tests, whose pages are served on 127.0.0.1.
pub const ALLOW_PRIVATE_FETCH_ENV: &str = "POSTCTL_ALLOW_PRIVATE_FETCH";

/// What a page says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct OpenGraph {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Absolute, resolved against the page's address.
    pub image: Option<String>,
}

/// A downloaded image for the card's thumbnail.
#[derive(Debug)]
pub(super) struct Thumb {
    pub bytes: Vec<u8>,
    pub mime: String,
}

/// Fetches linked pages and their images with a client of its own: no credentials, no
/// proxy, redirects followed across hosts, and only public addresses.
pub(super) struct Fetcher {
    client: Option<reqwest::Client>,
    timeout: Duration,
    allow_private: bool,
}

impl Fetcher {
    /// The fetcher for posts: private addresses refused unless
    /// `POSTCTL_ALLOW_PRIVATE_FETCH=1`.
    pub fn from_env() -> Fetcher {
        let allow = std::env::var(ALLOW_PRIVATE_FETCH_ENV).is_ok_and(|v| v.trim() == "1");
        Fetcher::new(FETCH_TIMEOUT, allow)
    }

    /// A fetcher whose requests give up after `timeout`. Without a client (it could not be
    /// built), there are no cards.
    pub fn new(timeout: Duration, allow_private: bool) -> Fetcher {
        Fetcher::build(timeout, allow_private, |builder| builder)
    }

    /// A fetcher that refuses private addresses, except that `host` is taken to be at
    /// `address` (on loopback): for tests of what happens after the first page.
    #[cfg(test)]
    pub fn pinned(timeout: Duration, host: &str, address: SocketAddr) -> Fetcher {
        Fetcher::build(timeout, false, |builder| builder.resolve(host, address))
    }

    fn build(
        timeout: Duration,
        allow_private: bool,
        adjust: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> Fetcher {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("postctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .timeout(timeout)
            .no_proxy()
            .referer(false)
            .redirect(redirects(allow_private));
        if !allow_private {
            builder = builder.dns_resolver(PublicOnly);
        }
        Fetcher {
            client: adjust(builder).build().ok(),
            timeout,
            allow_private,
        }
    }

    /// Fetches `uri` and reads its Open Graph tags; `None` when there is no usable card.
    pub async fn page(&self, uri: &str) -> Option<OpenGraph> {
        let accept = Some("text/html,application/xhtml+xml");
        let (response, content_type) = self.get(uri, accept).await?;
        if !content_type.contains("html") {
            return None;
        }
        let page_url = response.url().clone();
        let body = read_capped(response, MAX_PAGE_BYTES, false).await?;
        let og = parse(&String::from_utf8_lossy(&body), &page_url);
        (og.title.is_some() || og.description.is_some()).then_some(og)
    }

    /// Downloads the card's image when it is an image no larger than `max_bytes`.
    pub async fn thumb(&self, uri: &str, max_bytes: usize) -> Option<Thumb> {
        let (response, mime) = self.get(uri, None).await?;
        if !mime.starts_with("image/") {
            return None;
        }
        if response
            .content_length()
            .is_some_and(|n| n > max_bytes as u64)
        {
            return None;
        }
        let bytes = read_capped(response, max_bytes, true).await?;
        Some(Thumb { bytes, mime })
    }

    /// A successful answer to a GET of `uri`, which must be an http(s) address that is
    /// not a private one written as an IP (names are checked when they resolve), with the
    /// answer's media type.
    async fn get(&self, uri: &str, accept: Option<&str>) -> Option<(reqwest::Response, String)> {
        let url = Url::parse(uri)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .filter(|u| self.allow_private || !names_private_ip(u))?;
        let mut request = self.client.as_ref()?.get(url).timeout(self.timeout);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let response = request.send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let mime = content_type(&response);
        Some((response, mime))
    }
}

/// Redirects: followed to any http(s) host, at most [`MAX_REDIRECTS`], never to a private
/// address written as an IP (a resolved name is checked by [`PublicOnly`]).
fn redirects(allow_private: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let url = attempt.url();
        if attempt.previous().len() > MAX_REDIRECTS
            || !matches!(url.scheme(), "http" | "https")
            || (!allow_private && names_private_ip(url))
        {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// Whether `url`'s host is an IP address that is not public. IP hosts are connected to
/// without resolving, so [`PublicOnly`] never sees them.
fn names_private_ip(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return true;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| !is_public(ip))
}

/// A resolver that keeps only public addresses: a name that resolves to none is an error,
/// so no connection is made to loopback or the local network whatever the DNS says.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            type Failure = Box<dyn std::error::Error + Send + Sync>;
            let found: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(addrs) => addrs.filter(|addr| is_public(addr.ip())).collect(),
                Err(e) => return Err(Box::new(e) as Failure),
            };
            if found.is_empty() {
                return Err(Failure::from(format!("{host} has no public address")));
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` is an address on the public internet: not loopback, private (RFC 1918,
/// unique local), link-local (cloud metadata services), shared (carrier NAT),
/// unspecified, broadcast, multicast, documentation, benchmarking or reserved.
pub(super) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = ip.segments();
            let unique_local = segments[0] & 0xfe00 == 0xfc00;
            let link_local = segments[0] & 0xffc0 == 0xfe80;
            let documentation = segments[0] == 0x2001 && segments[1] == 0x0db8;
            // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
            let nat64 = segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
            if nat64 {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || unique_local
                || link_local
                || documentation)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    let this_network = a == 0;
    let protocol_assignments = a == 192 && b == 0 && c == 0;
    let benchmarking = a == 198 && (b == 18 || b == 19);
    let reserved = a >= 240;
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || shared
        || this_network
        || protocol_assignments
        || benchmarking
        || reserved)
}

/// The media type without parameters, lowercase.
fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Reads at most `max` bytes. With `whole`, a longer body gives `None` (a cut image is
/// useless); without, the start is kept (the head of a page is enough).
async fn read_capped(mut response: reqwest::Response, max: usize, whole: bool) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        body.extend_from_slice(&chunk);
        if body.len() > max {
            if whole {
                return None;
            }
            body.truncate(max);
            break;
        }
    }
    Some(body)
}

/// Reads the `og:title`, `og:description` and `og:image` meta tags of an HTML page.
pub(super) fn parse(html: &str, page: &Url) -> OpenGraph {
    let mut og = OpenGraph::default();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<meta") {
        let start = at + found + "<meta".len();
        let Some(len) = lower[start..].find('>') else {
            break;
        };
        let attributes = attributes(&html[start..start + len]);
        at = start + len;
        let get = |name: &str| {
            attributes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(property) = get("property").or_else(|| get("name")) else {
            continue;
        };
        let Some(content) = get("content").map(|c| decode_entities(c).trim().to_string()) else {
            continue;
        };
        if content.is_empty() {
            continue;
        }
        match property.to_ascii_lowercase().as_str() {
            "og:title" if og.title.is_none() => og.title = Some(cut(&content, MAX_TITLE_CHARS)),
            "og:description" if og.description.is_none() => {
                og.description = Some(cut(&content, MAX_DESCRIPTION_CHARS));
            }
            "og:image" | "og:image:url" | "og:image:secure_url" if og.image.is_none() => {
                og.image = page
                    .join(&content)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .map(String::from);
            }
            _ => {}
        }
    }
    og
}

/// The attributes of one tag (the text between its name and `>`): lowercase names,
/// values with their quotes removed.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = tag;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        let name_len = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        if name_len == 0 {
            return found;
        }
        let name = rest[..name_len].to_ascii_lowercase();
        rest = rest[name_len..].trim_start();
        let Some(after_eq) = rest.strip_prefix('=') else {
            found.push((name, String::new()));
            continue;
        };
        rest = after_eq.trim_start();
        let value = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let inner = &rest[1..];
                let end = inner.find(quote).unwrap_or(inner.len());
                rest = inner.get(end + 1..).unwrap_or_default();
                &inner[..end]
            }
            _ => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let value = &rest[..end];
                rest = &rest[end..];
                value
            }
        };
        found.push((name, value.to_string()));
    }
}

/// Replaces the character references that appear in attribute values.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn cut(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", s[..end].trim_end()),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://example.com/blog/post").expect("url")
    }

    #[test]
    fn open_graph_tags_are_read_in_any_attribute_style() {
        let cases = [
            (
                r#"<head><meta property="og:title" content="Shipped v1.2"><meta property="og:description" content="What&#39;s new &amp; fixed"><meta property="og:image" content="/img/card.png"></head>"#,
                OpenGraph {
                    title: Some("Shipped v1.2".into()),
                    description: Some("What's new & fixed".into()),
                    image: Some("https://example.com/img/card.png".into()),
                },
            ),
            (
                "<META content='Reversed order' PROPERTY='og:title' /><meta name=og:description content=unquoted>",
                OpenGraph {
                    title: Some("Reversed order".into()),
                    description: Some("unquoted".into()),
                    image: None,
                },
            ),
            (
                r#"<meta property="og:title" content=""><meta name="description" content="not og"><title>Plain</title>"#,
                OpenGraph::default(),
            ),
            (
                r#"<meta property="og:image" content="javascript:alert(1)"><meta property="og:title" content="&#x1F389; party">"#,
                OpenGraph {
                    title: Some("🎉 party".into()),
                    description: None,
                    image: None,
                },
            ),
            (
                "<meta property=\"og:title\" content=\"cut off",
                OpenGraph::default(),
            ),
        ];
        for (html, want) in cases {
            assert_eq!(parse(html, &page()), want, "{html}");
        }
    }

    #[test]
    fn entities_decode_and_stray_ampersands_stay() {
        let cases = [
            ("a &amp; b", "a & b"),
            ("&lt;tag&gt;", "<tag>"),
            ("AT&T", "AT&T"),
            ("&#233;t&#xE9;", "été"),
            ("&unknown; &", "&unknown; &"),
        ];
        for (input, want) in cases {
            assert_eq!(decode_entities(input), want, "{input}");
        }
    }

    #[test]
    fn only_public_addresses_are_public() {
        let cases = [
            ("93.184.216.34", true),
            ("1.1.1.1", true),
            ("2606:4700:4700::1111", true),
            ("127.0.0.1", false),
            ("127.8.9.10", false),
            ("10.0.0.1", false),
            ("172.16.5.4", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
            ("198.18.0.1", false),
            ("::1", false),
            ("::", false),
            ("fc00::1", false),
            ("fd12:3456::1", false),
            ("fe80::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::a00:1", false),
            ("2001:db8::1", false),
        ];
        for (ip, want) in cases {
            let ip: IpAddr = ip.parse().expect("an address");
            assert_eq!(is_public(ip), want, "{ip}");
        }
    }

    #[test]
    fn urls_naming_private_ips_are_caught_before_any_lookup() {
        let cases = [
            ("http://127.0.0.1:8080/page", true),
            ("http://[::1]/page", true),
            ("http://169.254.169.254/latest/meta-data/", true),
            ("https://example.com/page", false),
            ("https://93.184.216.34/page", false),
        ];
        for (url, want) in cases {
            let url = Url::parse(url).expect("url");
            assert_eq!(names_private_ip(&url), want, "{url}");
        }
    }

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        assert_eq!(cut("ééééé", 3), "ééé…");
        assert_eq!(cut("short", 10), "short");
    }
}
