//! Bluesky facets: the links, mentions and hashtags in a post's text.
//!
//! The Bluesky server detects nothing: without a facet a URL is plain, unclickable text.
//! Detection follows the Bluesky app's own rules (`@atproto/api` RichText), so a post
//! looks the same as one written there. Offsets are UTF-8 bytes, end exclusive.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::urls::{UrlScope, find_urls};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Facet {
    pub byte_start: usize,
    pub byte_end: usize,
    pub feature: FacetFeature,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FacetFeature {
    Link {
        uri: String,
    },
    /// The handle without `@`, lower-cased; the adapter resolves it to a DID.
    Mention {
        handle: String,
    },
    /// The tag without `#`.
    Tag {
        tag: String,
    },
}

/// `app.bsky.richtext.facet#tag`: at most 64 graphemes and 640 bytes.
const MAX_TAG_GRAPHEMES: usize = 64;
const MAX_TAG_BYTES: usize = 640;

/// The facets of `text`, sorted and not overlapping: the Markdown links the renderer
/// recorded first, then URLs, mentions and tags found in the text outside them.
pub(super) fn detect(text: &str, markdown_links: Vec<(Range<usize>, String)>) -> Vec<Facet> {
    let mut facets: Vec<Facet> = markdown_links
        .into_iter()
        .map(|(range, uri)| facet(range, FacetFeature::Link { uri }))
        .collect();
    let found = find_urls(text, UrlScope::WithScheme)
        .into_iter()
        .map(|range| {
            let uri = text[range.clone()].to_owned();
            facet(range, FacetFeature::Link { uri })
        })
        .chain(mentions(text))
        .chain(tags(text));
    for candidate in found {
        let overlaps = facets.iter().any(|taken| {
            taken.byte_start < candidate.byte_end && candidate.byte_start < taken.byte_end
        });
        if !overlaps {
            facets.push(candidate);
        }
    }
    facets.sort_by_key(|facet| facet.byte_start);
    facets
}

fn facet(range: Range<usize>, feature: FacetFeature) -> Facet {
    Facet {
        byte_start: range.start,
        byte_end: range.end,
        feature,
    }
}

/// `@handle.domain` after the start, a space or `(`; the handle must be a domain name
/// ("@alice" and Mastodon's "@alice@example.social" are not Bluesky mentions).
fn mentions(text: &str) -> Vec<Facet> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        if !text[..at]
            .chars()
            .next_back()
            .is_none_or(|p| p.is_whitespace() || p == '(')
        {
            continue;
        }
        let rest = &text[at + 1..];
        let run = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .map_or(rest.len(), |(i, _)| i);
        // The pattern ends at a word boundary: trailing dots and dashes are punctuation.
        let handle = rest[..run].trim_end_matches(['.', '-']);
        if is_handle(handle) {
            let end = at + 1 + handle.len();
            found.push(facet(
                at..end,
                FacetFeature::Mention {
                    handle: handle.to_ascii_lowercase(),
                },
            ));
        }
    }
    found
}

/// A handle is a domain name: two or more labels of letters, digits and inner dashes,
/// the last one starting with a letter.
fn is_handle(handle: &str) -> bool {
    let labels: Vec<&str> = handle.split('.').collect();
    handle.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len()) && !label.starts_with('-') && !label.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// `#tag` (or `＃tag`) after the start or a space. The tag runs to the next space, must
/// hold something besides digits and punctuation ("#1" is not a tag), and loses its
/// trailing punctuation ("#rust," tags "rust").
fn tags(text: &str) -> Vec<Facet> {
    let mut found = Vec::new();
    for (hash, sign) in text.match_indices(['#', '＃']) {
        if !text[..hash]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace)
        {
            continue;
        }
        let body_start = hash + sign.len();
        let rest = &text[body_start..];
        // "#️⃣" is the keycap emoji, not a tag.
        if rest.starts_with(['\u{FE0F}', '\u{20E3}']) {
            continue;
        }
        let run = rest
            .char_indices()
            .find(|&(_, c)| c.is_whitespace() || is_tag_breaker(c))
            .map_or(rest.len(), |(i, _)| i);
        let tag = rest[..run].trim_end_matches(is_punctuation);
        let has_substance = tag
            .chars()
            .any(|c| !c.is_ascii_digit() && !is_punctuation(c));
        if has_substance
            && tag.len() <= MAX_TAG_BYTES
            && tag.graphemes(true).count() <= MAX_TAG_GRAPHEMES
        {
            let end = body_start + tag.len();
            found.push(facet(
                hash..end,
                FacetFeature::Tag {
                    tag: tag.to_owned(),
                },
            ));
        }
    }
    found
}

/// Invisible characters that end a tag in the Bluesky app: soft hyphen, word joiner,
/// hair and zero-width spaces, ZWNJ, ZWJ, and the enclosing keycap.
fn is_tag_breaker(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{2060}' | '\u{200A}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{20E2}'
    )
}

/// Unicode's punctuation (`\p{P}`), which unlike `char::is_ascii_punctuation` leaves out
/// symbols such as `$`, `+`, `<`, `^`, `|` and `~`, and covers the common non-ASCII marks.
fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return matches!(
            c,
            '!' | '"'
                | '#'
                | '%'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | ','
                | '-'
                | '.'
                | '/'
                | ':'
                | ';'
                | '?'
                | '@'
                | '['
                | '\\'
                | ']'
                | '_'
                | '{'
                | '}'
        );
    }
    matches!(c,
        '¡' | '§' | '«' | '¶' | '·' | '»' | '¿'
        | '\u{055A}'..='\u{055F}' | '\u{0589}' | '\u{05BE}' | '\u{060C}' | '\u{061B}' | '\u{061F}'
        | '\u{06D4}' | '\u{0964}' | '\u{0965}'
        | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205E}'
        | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{3014}'..='\u{301F}'
        | '\u{FF01}'..='\u{FF03}' | '\u{FF05}'..='\u{FF0A}' | '\u{FF0C}'..='\u{FF0F}'
        | '\u{FF1A}' | '\u{FF1B}' | '\u{FF1F}' | '\u{FF20}' | '\u{FF3B}'..='\u{FF3D}' | '\u{FF3F}'
        | '\u{FF5B}' | '\u{FF5D}' | '\u{FF5F}'..='\u{FF65}'
    )
}

#[cfg(test)]
mod tests;
