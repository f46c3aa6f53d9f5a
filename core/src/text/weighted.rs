//! X's weighted length (twitter-text configuration v3).
//!
//! The text is NFC-normalised first, so a decomposed "é" weighs what the composed one
//! does. Every URL weighs 23. An emoji, however many code points it is made of (ZWJ
//! families, skin tones, flags, keycaps), weighs 2. Every other code point weighs 1 in
//! the ranges below and 2 elsewhere, so CJK, Hangul and most symbols weigh 2.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use super::urls::{URL_LENGTH, UrlScope, find_urls};

/// Code points that weigh 1 (`scale` 100, `weight` 100 in twitter-text's v3 config).
const LIGHT_RANGES: [(char, char); 4] = [
    ('\u{0000}', '\u{10FF}'),
    ('\u{2000}', '\u{200D}'),
    ('\u{2010}', '\u{201F}'),
    ('\u{2032}', '\u{2037}'),
];

/// What an emoji sequence and a code point outside [`LIGHT_RANGES`] weigh.
const HEAVY: usize = 2;

/// The weighted length X compares with its 280 limit.
pub(super) fn x_length(text: &str) -> usize {
    let text: String = text.nfc().collect();
    let mut length = 0;
    let mut pos = 0;
    for url in find_urls(&text, UrlScope::AlsoBareDomains) {
        length += text_weight(&text[pos..url.start]) + URL_LENGTH;
        pos = url.end;
    }
    length + text_weight(&text[pos..])
}

fn text_weight(text: &str) -> usize {
    text.graphemes(true).map(grapheme_weight).sum()
}

fn grapheme_weight(grapheme: &str) -> usize {
    let several_code_points = grapheme.chars().nth(1).is_some();
    if several_code_points && is_emoji_sequence(grapheme) {
        HEAVY
    } else {
        grapheme.chars().map(char_weight).sum()
    }
}

fn char_weight(c: char) -> usize {
    if LIGHT_RANGES
        .iter()
        .any(|&(low, high)| (low..=high).contains(&c))
    {
        1
    } else {
        HEAVY
    }
}

/// Whether a grapheme cluster is an emoji: a sequence of several code points that is one
/// (see [`is_emoji_sequence`]), or a single pictographic code point. An approximation of
/// Unicode's emoji properties that errs towards counting a symbol as an emoji.
pub(super) fn is_emoji(grapheme: &str) -> bool {
    let mut chars = grapheme.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => is_pictographic(c),
        (Some(_), Some(_)) => is_emoji_sequence(grapheme),
        _ => false,
    }
}

/// Whether a grapheme cluster of several code points is one emoji to twitter-text.
/// Grapheme segmentation already keeps a whole ZWJ family, a skin-toned hand, a flag's
/// two regional indicators and a keycap together; this says whether the cluster is an
/// emoji rather than, say, a letter with combining marks (which is weighed per code point).
fn is_emoji_sequence(grapheme: &str) -> bool {
    grapheme.chars().next().is_some_and(is_pictographic)
        || grapheme.chars().any(|c| {
            matches!(c,
                '\u{FE0F}'                       // emoji presentation selector
                | '\u{20E3}'                     // combining enclosing keycap
                | '\u{1F1E6}'..='\u{1F1FF}'      // regional indicators (flags)
                | '\u{1F3FB}'..='\u{1F3FF}'      // skin tone modifiers
                | '\u{E0020}'..='\u{E007F}'      // tags (subdivision flags)
            )
        })
}

/// An approximation of Unicode's Extended_Pictographic property: the blocks emoji
/// live in, and the older symbols that have emoji forms.
fn is_pictographic(c: char) -> bool {
    matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2190}'..='\u{21FF}'
        | '\u{2300}'..='\u{23FF}'
        | '\u{24C2}'
        | '\u{25A0}'..='\u{27BF}'
        | '\u{2900}'..='\u{297F}'
        | '\u{2B00}'..='\u{2BFF}'
        | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}'
        | '\u{1F000}'..='\u{1FAFF}'
        | '\u{1FC00}'..='\u{1FFFD}'
    )
}
