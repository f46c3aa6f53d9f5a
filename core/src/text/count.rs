//! Measuring a text the way each network does.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::urls::{URL_LENGTH, UrlScope, find_urls};
use super::weighted;

/// How a network measures a post's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Counting {
    /// Mastodon: grapheme clusters; every http(s) URL counts 23; a mention @user@domain counts as @user.
    Mastodon,
    /// Bluesky: grapheme clusters, URLs in full (also enforce its 3000-byte cap via `max_bytes`).
    Graphemes,
    /// X: twitter-text v3 weighted (NFC first; ranges U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F, U+2032-U+2037 weigh 1, others 2; URL = 23; an emoji sequence (ZWJ, skin tone, flags, keycaps) = 2).
    XWeighted,
    /// Telegram (after entity parsing), Discord: Unicode code points.
    CodePoints,
    /// Matrix: UTF-8 bytes (the event size).
    Utf8Bytes,
    /// Threads: characters (code points), except that "emojis are counted as the number of
    /// UTF-8 bytes" (Meta's documentation): a 4-byte emoji costs 4, a ZWJ family all its
    /// bytes.
    EmojiBytes,
}

impl Counting {
    /// A cap in UTF-8 bytes that applies on top of `max`: Bluesky's `text` is at most
    /// 300 graphemes *and* 3000 bytes, and 300 ZWJ family emoji would be 7500 bytes.
    /// [`fit`](super::fit()) and [`split`](super::split()) enforce it.
    pub fn max_bytes(self) -> Option<usize> {
        match self {
            Counting::Graphemes => Some(BLUESKY_MAX_BYTES),
            Counting::Mastodon
            | Counting::XWeighted
            | Counting::CodePoints
            | Counting::Utf8Bytes
            | Counting::EmojiBytes => None,
        }
    }
}

/// `maxLength` of `app.bsky.feed.post#text`, in UTF-8 bytes.
const BLUESKY_MAX_BYTES: usize = 3000;

/// A network's limit on a post's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TextLimit {
    pub max: usize,
    pub counting: Counting,
}

/// The length of `text` as the network measures it. `text` is what the network receives
/// (`render(..).text`); for Telegram HTML use [`measure`](super::measure()), which counts
/// only the visible text as Telegram does.
pub fn count(text: &str, counting: Counting) -> usize {
    match counting {
        Counting::Mastodon => mastodon_length(text),
        Counting::Graphemes => text.graphemes(true).count(),
        Counting::XWeighted => weighted::x_length(text),
        Counting::CodePoints => text.chars().count(),
        Counting::Utf8Bytes => text.len(),
        Counting::EmojiBytes => text
            .graphemes(true)
            .map(|g| {
                if weighted::is_emoji(g) {
                    g.len()
                } else {
                    g.chars().count()
                }
            })
            .sum(),
    }
}

/// Mastodon's `StatusLengthValidator`: graphemes, with every URL replaced by 23
/// characters and every mention by its `@username` (the `@domain` is free).
fn mastodon_length(text: &str) -> usize {
    let urls = find_urls(text, UrlScope::WithScheme);
    let mut replaced: Vec<(Range<usize>, usize)> =
        urls.iter().map(|url| (url.clone(), URL_LENGTH)).collect();
    for domain in mention_domains(text) {
        if !urls
            .iter()
            .any(|url| url.start < domain.end && domain.start < url.end)
        {
            replaced.push((domain, 0));
        }
    }
    replaced.sort_by_key(|(range, _)| range.start);

    let mut length = 0;
    let mut pos = 0;
    for (range, counted_as) in replaced {
        length += text[pos..range.start].graphemes(true).count() + counted_as;
        pos = range.end;
    }
    length + text[pos..].graphemes(true).count()
}

/// Byte ranges of the `@domain` parts of `@user@domain` mentions, as Mastodon's
/// `MENTION_RE` finds them: `@` not after a word character, `=` or `/`; a username of
/// `[a-z0-9_]` with inner `.` and `-`; a domain of word characters, `.` and `-`.
fn mention_domains(text: &str) -> Vec<Range<usize>> {
    let mut domains = Vec::new();
    for (at, _) in text.match_indices('@') {
        let previous = text[..at].chars().next_back();
        if previous.is_some_and(|p| is_word_char(p) || p == '=' || p == '/') {
            continue;
        }
        let user_start = at + 1;
        let user_len = trimmed_run(&text[user_start..], |c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
        });
        if user_len == 0
            || !text[user_start..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let domain_at = user_start + user_len;
        if !text[domain_at..].starts_with('@') {
            continue;
        }
        let domain_len = trimmed_run(&text[domain_at + 1..], |c| {
            is_word_char(c) || matches!(c, '.' | '-')
        });
        if domain_len > 0 {
            domains.push(domain_at..domain_at + 1 + domain_len);
        }
    }
    domains
}

/// Length of the leading run of `s` matching `allowed`, without trailing `.` and `-`
/// (the username and domain patterns both end on a word character).
fn trimmed_run(s: &str, allowed: impl Fn(char) -> bool) -> usize {
    let run = s
        .char_indices()
        .find(|&(_, c)| !allowed(c))
        .map_or(s.len(), |(i, _)| i);
    s[..run].trim_end_matches(['.', '-']).len()
}

/// Ruby's `[[:word:]]`: letters, marks, digits and connector punctuation.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests;
