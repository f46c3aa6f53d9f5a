//! Shape checks for the strings an account is made of: URLs, handles, ids, keys.
//!
//! Hand-written rather than a URL crate because the rules are narrow (absolute
//! http(s)/ws(s) addresses with a host) and the error must say which rule failed
//! without echoing values that may be secret (webhook URLs carry their token).

/// The parts of an absolute URL that the checks look at. Scheme and host are lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Url<'a> {
    pub scheme: String,
    /// Lowercased; an IPv6 address keeps its brackets (`[::1]`).
    pub host: String,
    pub port: Option<u16>,
    /// Empty or starting with `/`.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub fragment: Option<&'a str>,
}

/// Why a string is not a usable URL. The messages never contain the string itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UrlProblem {
    NotAbsolute,
    Whitespace,
    UserInfo,
    NoHost,
    BadHost,
    BadPort,
}

impl UrlProblem {
    pub fn describe(self) -> &'static str {
        match self {
            UrlProblem::NotAbsolute => {
                "it is not an absolute URL (write it with its scheme, e.g. https://)"
            }
            UrlProblem::Whitespace => "it contains spaces or control characters",
            UrlProblem::UserInfo => {
                "it contains a user name or password (user@host); give credentials through --token-stdin instead"
            }
            UrlProblem::NoHost => "it has no host name",
            UrlProblem::BadHost => {
                "its host is not a valid name (letters, digits, '-' and '.'; write international names in their xn-- form)"
            }
            UrlProblem::BadPort => "its port is not a number from 1 to 65535",
        }
    }
}

impl<'a> Url<'a> {
    pub fn parse(s: &'a str) -> Result<Url<'a>, UrlProblem> {
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlProblem::Whitespace);
        }
        let (scheme, rest) = s.split_once("://").ok_or(UrlProblem::NotAbsolute)?;
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(UrlProblem::NotAbsolute);
        }
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, after) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(UrlProblem::UserInfo);
        }
        let (after, fragment) = match after.split_once('#') {
            Some((a, f)) => (a, Some(f)),
            None => (after, None),
        };
        let (path, query) = match after.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (after, None),
        };
        let (host, port) = split_host_port(authority)?;
        Ok(Url {
            scheme: scheme.to_ascii_lowercase(),
            host,
            port,
            path,
            query,
            fragment,
        })
    }

    /// Hosts where plain http/ws is fine: the machine itself (tests, dev servers).
    pub fn is_local(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
    }

    /// `scheme://host[:port]path`, with the path's trailing slashes removed.
    pub fn normalised(&self) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!(
            "{}://{}{}{}",
            self.scheme,
            self.host,
            port,
            self.path.trim_end_matches('/')
        )
    }

    /// The non-empty segments of the path.
    pub fn segments(&self) -> Vec<&'a str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>), UrlProblem> {
    if authority.is_empty() {
        return Err(UrlProblem::NoHost);
    }
    let (host, port) = if let Some(inside) = authority.strip_prefix('[') {
        let (addr, after) = inside.split_once(']').ok_or(UrlProblem::BadHost)?;
        if addr.is_empty()
            || !addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(UrlProblem::BadHost);
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(UrlProblem::BadPort)?),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if !is_host_name(host) {
            return Err(if host.is_empty() {
                UrlProblem::NoHost
            } else {
                UrlProblem::BadHost
            });
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.chars().all(|c| c.is_ascii_digit()) => Some(n),
            _ => return Err(UrlProblem::BadPort),
        },
    };
    Ok((host, port))
}

/// A DNS name or IPv4 address: dot-separated labels of letters, digits and inner '-'.
pub(super) fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A Bluesky handle (`me.bsky.social`: a domain with at least two labels whose last
/// label starts with a letter) or a DID the PDS accepts as an identifier.
pub(super) fn is_bluesky_identifier(s: &str) -> bool {
    if let Some(id) = s.strip_prefix("did:plc:") {
        // did:plc identifiers are 24 characters of lowercase base32.
        return id.len() == 24 && id.chars().all(|c| matches!(c, 'a'..='z' | '2'..='7'));
    }
    if let Some(host) = s.strip_prefix("did:web:") {
        // A port is percent-encoded in did:web (localhost%3A2583).
        let name = host.split_once("%3A").map_or(host, |(h, _)| h);
        return is_host_name(name);
    }
    is_host_name(s)
        && s.contains('.')
        && s.rsplit('.')
            .next()
            .is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// The path of a Discord webhook URL: `/api[/vN]/webhooks/<id>/<token>` on Discord,
/// any prefix before `webhooks/<id>/<token>` on a local test server.
pub(super) fn is_discord_webhook(url: &Url<'_>) -> bool {
    let host_ok = if url.is_local() {
        matches!(url.scheme.as_str(), "http" | "https")
    } else {
        url.scheme == "https"
            && url.port.is_none()
            && matches!(
                url.host.as_str(),
                "discord.com"
                    | "discordapp.com"
                    | "ptb.discord.com"
                    | "canary.discord.com"
                    | "ptb.discordapp.com"
                    | "canary.discordapp.com"
            )
    };
    let segments = url.segments();
    let Some(tail_start) = segments.len().checked_sub(3) else {
        return false;
    };
    let (prefix, tail) = segments.split_at(tail_start);
    let tail_ok = tail[0] == "webhooks"
        && is_digits(tail[1])
        && !tail[2].is_empty()
        && tail[2]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    let prefix_ok = url.is_local()
        || match prefix {
            ["api"] => true,
            ["api", version] => version.strip_prefix('v').is_some_and(is_digits),
            _ => false,
        };
    host_ok && tail_ok && prefix_ok && url.fragment.is_none()
}

/// A Slack incoming webhook: `https://hooks.slack.com/services/T…/B…/…`, or a local
/// test server whose path ends in `services/<team>/<bot>/<secret>`.
pub(super) fn is_slack_webhook(url: &Url<'_>) -> bool {
    let segments = url.segments();
    let Some(tail_start) = segments.len().checked_sub(4) else {
        return false;
    };
    let (prefix, tail) = segments.split_at(tail_start);
    let tail_ok = tail[0] == "services" && tail[1..].iter().all(|s| is_slack_id_part(s));
    if url.is_local() {
        return matches!(url.scheme.as_str(), "http" | "https") && tail_ok;
    }
    url.scheme == "https"
        && url.host == "hooks.slack.com"
        && url.port.is_none()
        && prefix.is_empty()
        && tail_ok
        && tail[1].starts_with('T')
        && tail[2].starts_with('B')
        && url.query.is_none()
        && url.fragment.is_none()
}

fn is_slack_id_part(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())
}

pub(super) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// A Nostr secret key: 64 hex characters, or NIP-19 `nsec1…` bech32 with a valid checksum.
pub(super) fn is_nostr_secret_key(s: &str) -> bool {
    if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    // Bech32 forbids mixed case; an all-upper key is valid and checks the same as lower.
    if s != lower && s != s.to_ascii_uppercase() {
        return false;
    }
    // "nsec1" + 52 data characters (32 bytes) + 6 checksum characters.
    lower.len() == 63
        && lower
            .strip_prefix("nsec1")
            .is_some_and(|data| bech32_checksum_ok("nsec", data))
}

const BECH32_CHARSET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// BIP-173 checksum: polymod over the expanded human-readable part and the data must be 1.
fn bech32_checksum_ok(hrp: &str, data: &str) -> bool {
    let mut values: Vec<u8> = hrp.bytes().map(|b| b >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|b| b & 31));
    for c in data.chars() {
        match BECH32_CHARSET.find(c) {
            // The charset has 32 entries, so the index always fits in 5 bits.
            Some(i) => values.push(i as u8),
            None => return false,
        }
    }
    bech32_polymod(&values) == 1
}

fn bech32_polymod(values: &[u8]) -> u32 {
    const GENERATOR: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk: u32 = 1;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_parts() {
        // scheme, host, port, path
        type Parts = (&'static str, &'static str, Option<u16>, &'static str);
        let cases: [(&str, Result<Parts, UrlProblem>); 12] = [
            (
                "https://Fosstodon.org/",
                Ok(("https", "fosstodon.org", None, "/")),
            ),
            (
                "HTTP://localhost:8080/api",
                Ok(("http", "localhost", Some(8080), "/api")),
            ),
            ("http://[::1]:3000", Ok(("http", "[::1]", Some(3000), ""))),
            (
                "wss://relay.damus.io",
                Ok(("wss", "relay.damus.io", None, "")),
            ),
            ("fosstodon.org", Err(UrlProblem::NotAbsolute)),
            ("https://", Err(UrlProblem::NoHost)),
            ("https://user:pw@host.example", Err(UrlProblem::UserInfo)),
            ("https://host.example:0", Err(UrlProblem::BadPort)),
            ("https://host.example:99999", Err(UrlProblem::BadPort)),
            ("https://host.example:+80", Err(UrlProblem::BadPort)),
            ("https://bad_host.example", Err(UrlProblem::BadHost)),
            ("https://host .example", Err(UrlProblem::Whitespace)),
        ];
        for (input, want) in cases {
            let got = Url::parse(input).map(|u| (u.scheme, u.host, u.port, u.path));
            let want = want.map(|(s, h, p, path)| (s.to_owned(), h.to_owned(), p, path));
            assert_eq!(got, want, "parsing {input:?}");
        }
    }

    #[test]
    fn normalised_drops_trailing_slashes_and_lowercases() {
        let cases = [
            ("https://Mastodon.Social/", "https://mastodon.social"),
            ("https://example.com/api//", "https://example.com/api"),
            ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ];
        for (input, want) in cases {
            let got = Url::parse(input).map(|u| u.normalised());
            assert_eq!(got.as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn bluesky_identifiers() {
        let cases = [
            ("me.bsky.social", true),
            ("alice.example.com", true),
            ("did:plc:ewvi7nxzyoun6zhxrhs64oiz", true),
            ("did:web:example.com", true),
            ("did:web:localhost%3A2583", true),
            ("me", false),
            ("me.123", false),
            ("did:plc:short", false),
            ("did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ", false),
            ("-me.bsky.social", false),
            ("me..bsky.social", false),
        ];
        for (input, want) in cases {
            assert_eq!(is_bluesky_identifier(input), want, "{input}");
        }
    }

    #[test]
    fn discord_webhooks() {
        let cases = [
            ("https://discord.com/api/webhooks/123456/abc-DEF_1", true),
            ("https://discordapp.com/api/webhooks/123456/abc", true),
            ("https://discord.com/api/v10/webhooks/123456/abc", true),
            (
                "https://discord.com/api/webhooks/123456/abc?thread_id=9",
                true,
            ),
            ("http://127.0.0.1:4000/api/webhooks/1/tok", true),
            ("http://localhost:4000/webhooks/1/tok", true),
            ("http://discord.com/api/webhooks/123456/abc", false),
            ("https://evil.example/api/webhooks/123456/abc", false),
            ("https://discord.com/api/webhooks/abc/abc", false),
            ("https://discord.com/api/webhooks/123456", false),
            ("https://discord.com/webhooks/123456/abc", false),
            ("https://discord.com/api/vX/webhooks/1/abc", false),
        ];
        for (input, want) in cases {
            let got = Url::parse(input).is_ok_and(|u| is_discord_webhook(&u));
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn slack_webhooks() {
        let cases = [
            ("https://hooks.slack.com/services/T000/B000/XXXX", true),
            ("http://localhost:5000/services/T1/B2/abc", true),
            ("http://127.0.0.1:5000/slack/services/T1/B2/abc", true),
            ("https://hooks.slack.com/services/X000/B000/XXXX", false),
            ("https://hooks.slack.com/services/T000/B000", false),
            ("https://slack.com/services/T000/B000/XXXX", false),
            ("http://hooks.slack.com/services/T000/B000/XXXX", false),
        ];
        for (input, want) in cases {
            let got = Url::parse(input).is_ok_and(|u| is_slack_webhook(&u));
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn nostr_secret_keys() {
        // The NIP-19 example key, in bech32 and hex.
        let nsec = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5";
        let hex = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa";
        let cases = [
            (nsec.to_owned(), true),
            (nsec.to_ascii_uppercase(), true),
            (hex.to_owned(), true),
            (hex.to_ascii_uppercase(), true),
            // One character changed: the checksum catches the typo.
            (nsec.replace("vl029", "vl028"), false),
            (nsec[..62].to_owned(), false),
            (format!("{}b", &nsec[..62]), false),
            (nsec.replacen("nsec1v", "nsec1V", 1), false),
            (nsec.replace("nsec1", "npub1"), false),
            (hex[..63].to_owned(), false),
            (format!("{}g", &hex[..63]), false),
        ];
        for (input, want) in cases {
            assert_eq!(is_nostr_secret_key(&input), want, "{input}");
        }
    }
}
