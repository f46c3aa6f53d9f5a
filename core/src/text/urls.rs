//! Finding URLs in text the way the networks do.
//!
//! Mastodon and X count a URL as 23 whatever its length, and Bluesky needs a link facet
//! for each, so all three must agree with the servers on where a URL starts and ends.
//! The rules follow twitter-text (which Mastodon's validator also uses): a URL starts
//! after a non-word character, has a host with a top-level domain, and its path ends on
//! a character that cannot be sentence punctuation (`example.com/a.` ends before the dot).

use std::ops::Range;

/// Which URLs to recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlScope {
    /// `http://` and `https://` URLs only (Mastodon, Bluesky, Markdown).
    WithScheme,
    /// Also bare domains such as `example.com` or `www.example.de/x`, which X shortens to
    /// t.co links as well.
    AlsoBareDomains,
}

/// Every URL t.co wraps is counted as this many characters (`transformedURLLength`,
/// and Mastodon's `characters_reserved_per_url`).
pub(crate) const URL_LENGTH: usize = 23;

/// Byte ranges of the URLs in `text`, in order, not overlapping.
pub(crate) fn find_urls(text: &str, scope: UrlScope) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        let Some(c) = rest.chars().next() else { break };
        let previous = text[..pos].chars().next_back();
        if let Some(end) = url_at(text, pos, previous, scope) {
            found.push(pos..end);
            pos = end;
        } else {
            pos += c.len_utf8();
        }
    }
    found
}

/// The end of a URL starting at `start`, if one does.
fn url_at(text: &str, start: usize, previous: Option<char>, scope: UrlScope) -> Option<usize> {
    // twitter-text: a URL may not follow a word character, `@`, `$` or `#`
    // ("x@https://…" and "#https…" are not links).
    if previous.is_some_and(|p| p.is_alphanumeric() || matches!(p, '@' | '$' | '#' | '＠' | '＃'))
    {
        return None;
    }
    let rest = &text[start..];
    let scheme_len = scheme_len(rest);
    // twitter-text starts a URL without a scheme only at a word's start, not after `-_./`.
    if scheme_len == 0
        && (scope == UrlScope::WithScheme
            || previous.is_some_and(|p| matches!(p, '-' | '_' | '.' | '/'))
            || !rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
    {
        return None;
    }
    let host_start = start + scheme_len;
    let host_end = host_start + host_len(&text[host_start..]);
    let host = &text[host_start..host_end];
    let (mut end, has_path) = after_host(text, host_end);
    let valid = if scheme_len > 0 {
        valid_host(host)
    } else {
        valid_bare_domain(host, has_path)
    };
    if !valid {
        return None;
    }
    if has_path {
        end = trim_url_end(text, host_end, end);
    }
    Some(end)
}

/// Length of a leading `http://` or `https://`, in any case; 0 if there is none.
fn scheme_len(s: &str) -> usize {
    ["https://", "http://"]
        .into_iter()
        .find(|scheme| {
            s.get(..scheme.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
        })
        .map_or(0, str::len)
}

/// Length of the host name at the start of `s`, without trailing dots or dashes
/// ("see example.com." ends the host before the full stop).
fn host_len(s: &str) -> usize {
    let run = s
        .char_indices()
        .find(|&(_, c)| !is_host_char(c))
        .map_or(s.len(), |(i, _)| i);
    s[..run].trim_end_matches(['.', '-', '_']).len()
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || is_latin_or_cyrillic_letter(c)
}

/// Where the URL ends after the host (an optional port, then a path, query or
/// fragment), and whether there was a path.
fn after_host(text: &str, host_end: usize) -> (usize, bool) {
    let mut end = host_end;
    let rest = &text[end..];
    if let Some(port) = rest.strip_prefix(':') {
        let digits = port.len() - port.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    let rest = &text[end..];
    if !rest.starts_with(['/', '?', '#']) {
        return (end, false);
    }
    let path = rest
        .char_indices()
        .find(|&(_, c)| !is_path_char(c))
        .map_or(rest.len(), |(i, _)| i);
    (end + path, true)
}

/// Characters twitter-text accepts inside a path or query. CJK and other scripts end a
/// URL ("https://example.com/a日本" links only ".../a"), so they are counted as text.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!*';:=+,.$/%#[]-_~|&@?()".contains(c)
        || c == '\u{2013}'
        || is_latin_or_cyrillic_letter(c)
}

/// Characters a URL may end on; anything else at the end is taken as punctuation of
/// the sentence around it.
fn is_path_end_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "=_#/-+&".contains(c) || is_latin_or_cyrillic_letter(c)
}

/// Drops trailing punctuation from a URL, keeping a `)` that closes a `(` inside it
/// (Wikipedia's `Rust_(programming_language)`).
fn trim_url_end(text: &str, path_start: usize, mut end: usize) -> usize {
    while end > path_start {
        let url = &text[..end];
        let Some(last) = url.chars().next_back() else {
            break;
        };
        if is_path_end_char(last) {
            break;
        }
        if last == ')' {
            let url = &text[path_start..end];
            if url.matches('(').count() >= url.matches(')').count() {
                break;
            }
        }
        end -= last.len_utf8();
    }
    end
}

fn is_latin_or_cyrillic_letter(c: char) -> bool {
    matches!(c, '\u{00C0}'..='\u{00D6}' | '\u{00D8}'..='\u{00F6}' | '\u{00F8}'..='\u{024F}' | '\u{0400}'..='\u{04FF}')
}

/// A host after `http(s)://`: at least two labels and a top-level domain of letters
/// (`localhost` and `127.0.0.1` are not links to twitter-text or Mastodon either).
fn valid_host(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| !label.is_empty())
        && labels.last().is_some_and(|tld| valid_tld(tld))
}

fn valid_tld(tld: &str) -> bool {
    let lower = tld.to_ascii_lowercase();
    lower.starts_with("xn--") || (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
}

/// A domain written without a scheme, which X still turns into a t.co link: one whose
/// top-level domain is a generic one, or a country code one with a subdomain or a path
/// (twitter-text does not link a bare "example.de" but does link "www.example.de").
fn valid_bare_domain(host: &str, has_path: bool) -> bool {
    if !host.is_ascii() || !valid_host(host) {
        return false;
    }
    let labels = host.split('.').count();
    let tld = host
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if GENERIC_TLDS.contains(&tld.as_str()) {
        return true;
    }
    tld.len() == 2 && (has_path || labels >= 3)
}

/// The generic top-level domains common enough in posts to matter. twitter-text knows
/// them all; a rarer one written without `https://` is counted as text on X, which
/// under-counts it by at most the difference from 23.
const GENERIC_TLDS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "app", "dev",
    "page", "blog", "news", "xyz", "online", "site", "website", "tech", "store", "shop", "cloud",
    "art", "design", "social", "network", "media", "live", "email", "link", "club", "space",
    "world", "today", "life", "one", "top", "wiki", "agency",
];

#[cfg(test)]
mod tests;
