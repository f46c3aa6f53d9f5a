//! Checking a draft before it goes out: against a brand voice, and against each network's
//! length.
//!
//! | Rule               | Level   | When                                                           |
//! |--------------------|---------|----------------------------------------------------------------|
//! | `avoid`            | error   | a word or phrase the voice avoids (whole words, any case; not inside URLs) |
//! | `use`              | warning | none of the voice's preferred words appear                     |
//! | `hashtag-required` | error   | `hashtag_policy = "required"` and one of the voice's hashtags is missing |
//! | `hashtag-none`     | error   | `hashtag_policy = "none"` and the draft has a hashtag          |
//! | `emoji`            | error   | `emoji = "none"` and the draft has one, or more than `max:N`   |
//! | `length`           | warning | over a network's limit where it would become a thread          |
//! | `length`           | error   | over the limit of a network without threads (Discord, Slack webhooks) |
//!
//! Lengths are counted with [`crate::text::fit()`], the way the publisher counts, against
//! each destination's limits: the account's own when the caller knows them (a Mastodon
//! instance's, once postctl has read them; a Discord bot's threads), else the network's
//! defaults from [`platforms::defaults`], the ones the adapters publish with.

use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

use super::voice::{EmojiPolicy, HashtagPolicy, Voice};
use crate::network::Network;
use crate::platforms::{self, Capabilities};
use crate::text::{Counting, fit, split};

/// How serious a finding is: an error fails the lint (exit 1), a warning does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Error,
}

/// One thing lint found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub level: Level,
    /// The rule's name, from the table in the module docs.
    pub rule: &'static str,
    pub message: String,
    /// 1-based line and column (in displayed characters) of the spot in the draft, when
    /// there is one.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The account a length finding is about.
    pub account: Option<String>,
}

/// Where the draft would go: an account and its network.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub account: String,
    pub network: Network,
    /// The account's own limits where they are known ([`crate::publish::preview::capabilities`]:
    /// its settings, its server's limits); `None` counts with the network's defaults.
    pub capabilities: Option<Capabilities>,
}

/// The length of the draft on one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Length {
    pub account: String,
    pub network: Network,
    pub length: usize,
    pub max: usize,
    /// "characters" or "bytes".
    pub unit: &'static str,
    pub fits: bool,
    /// How many posts a thread would take (1 when it fits).
    pub parts: usize,
}

/// Everything lint found about one draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The voice checked against, if any.
    pub voice: Option<String>,
    /// Errors first, then warnings; each group in the order of the draft.
    pub findings: Vec<Finding>,
    pub lengths: Vec<Length>,
    /// Destinations whose network has no known default limit (not checked).
    pub unchecked: Vec<String>,
    pub errors: usize,
    pub warnings: usize,
}

impl Report {
    /// Whether nothing at error level was found.
    pub fn passed(&self) -> bool {
        self.errors == 0
    }
}

/// Lints `text` (Markdown) against `voice` (its name and settings) and the limits of
/// `destinations`.
pub fn lint(text: &str, voice: Option<(&str, &Voice)>, destinations: &[Destination]) -> Report {
    let text = text.replace("\r\n", "\n");
    let mut findings = Vec::new();
    if let Some((name, voice)) = voice {
        findings.extend(voice_findings(&text, name, voice));
    }
    let mut lengths = Vec::new();
    let mut unchecked = Vec::new();
    for destination in destinations {
        let Some(limit) = destination
            .capabilities
            .or_else(|| platforms::defaults(destination.network))
        else {
            unchecked.push(destination.account.clone());
            continue;
        };
        let (length, finding) = length_of(&text, destination, limit);
        lengths.push(length);
        findings.extend(finding);
    }
    // Stable: errors first, each group keeps the draft's order.
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    Report {
        voice: voice.map(|(name, _)| name.to_string()),
        warnings: findings.len() - errors,
        errors,
        findings,
        lengths,
        unchecked,
    }
}

fn voice_findings(text: &str, name: &str, voice: &Voice) -> Vec<Finding> {
    let mut findings = Vec::new();
    let at = |level, rule, message, (line, column): (usize, usize)| Finding {
        level,
        rule,
        message,
        line: Some(line),
        column: Some(column),
        account: None,
    };
    let mut avoided: Vec<(usize, Finding)> = Vec::new();
    for word in &voice.avoid {
        for start in find_word(text, word) {
            avoided.push((
                start,
                at(
                    Level::Error,
                    "avoid",
                    format!(
                        "{:?}: the {name} voice avoids this word; reword it",
                        &text[start..start + matched_len(text, start, word)]
                    ),
                    position(text, start),
                ),
            ));
        }
    }
    avoided.sort_by_key(|(start, _)| *start);
    findings.extend(avoided.into_iter().map(|(_, f)| f));

    if !voice.use_words.is_empty()
        && voice
            .use_words
            .iter()
            .all(|w| find_word(text, w).is_empty())
    {
        findings.push(Finding {
            level: Level::Warning,
            rule: "use",
            message: format!(
                "none of the {name} voice's words appear: {}",
                voice.use_words.join(", ")
            ),
            line: None,
            column: None,
            account: None,
        });
    }

    let tags = hashtags(text);
    match voice.hashtag_policy {
        HashtagPolicy::Required => {
            for wanted in &voice.hashtags {
                let wanted = normalize_tag(wanted);
                if !tags
                    .iter()
                    .any(|(_, tag)| tag.to_lowercase() == wanted.to_lowercase())
                {
                    findings.push(Finding {
                        level: Level::Error,
                        rule: "hashtag-required",
                        message: format!(
                            "{wanted} is missing: the {name} voice requires {}; add it",
                            voice
                                .hashtags
                                .iter()
                                .map(|t| normalize_tag(t))
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                        line: None,
                        column: None,
                        account: None,
                    });
                }
            }
        }
        HashtagPolicy::None => {
            for (start, tag) in &tags {
                findings.push(at(
                    Level::Error,
                    "hashtag-none",
                    format!("{tag}: the {name} voice uses no hashtags; remove it"),
                    position(text, *start),
                ));
            }
        }
        HashtagPolicy::Optional => {}
    }

    let emoji = emoji(text);
    match voice.emoji {
        EmojiPolicy::Allow => {}
        EmojiPolicy::None => {
            for (start, grapheme) in &emoji {
                findings.push(at(
                    Level::Error,
                    "emoji",
                    format!("{grapheme}: the {name} voice uses no emoji; remove it"),
                    position(text, *start),
                ));
            }
        }
        EmojiPolicy::Max(max) => {
            if let Some((start, _)) = emoji.get(max as usize) {
                let all: Vec<&str> = emoji.iter().map(|(_, g)| *g).collect();
                findings.push(at(
                    Level::Error,
                    "emoji",
                    format!(
                        "{} emoji ({}): the {name} voice allows at most {max}; remove {}",
                        all.len(),
                        all.join(" "),
                        all.len() - max as usize
                    ),
                    position(text, *start),
                ));
            }
        }
    }
    findings
}

fn length_of(
    text: &str,
    destination: &Destination,
    limit: Capabilities,
) -> (Length, Option<Finding>) {
    let measured = fit(text, limit.limit, limit.format);
    let unit = match limit.limit.counting {
        Counting::Utf8Bytes => "bytes",
        _ => "characters",
    };
    let parts = if measured.fits {
        1
    } else {
        split(text, limit.limit, limit.format, false).len()
    };
    let network = destination.network.display_name();
    let finding = (!measured.fits).then(|| {
        let over = format!(
            "{} ({network}): {} {unit}, over the limit of {}",
            destination.account, measured.length, measured.max
        );
        let (level, message) = if limit.threads {
            (
                Level::Warning,
                format!(
                    "{over}; it would be posted as a thread of {parts} (shorten it to post it whole)"
                ),
            )
        } else {
            (
                Level::Error,
                format!("{over}, and {network} webhooks cannot thread; shorten it"),
            )
        };
        Finding {
            level,
            rule: "length",
            message,
            line: None,
            column: None,
            account: Some(destination.account.clone()),
        }
    });
    (
        Length {
            account: destination.account.clone(),
            network: destination.network,
            length: measured.length,
            max: measured.max,
            unit,
            fits: measured.fits,
            parts,
        },
        finding,
    )
}

/// 1-based (line, column) of byte offset `at`; columns count characters as they are
/// displayed (grapheme clusters: a flag or a family emoji is one).
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..at].graphemes(true).count() + 1)
}

/// Byte offsets where `phrase` occurs as whole words, in any case, with any run of
/// whitespace matching a space, outside URLs.
fn find_word(text: &str, phrase: &str) -> Vec<usize> {
    let phrase: Vec<char> = phrase
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    if phrase.is_empty() {
        return Vec::new();
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut found = Vec::new();
    for i in 0..chars.len() {
        let after_word = i > 0 && chars[i - 1].1.is_alphanumeric();
        if after_word {
            continue;
        }
        let Some(end) = match_at(&chars, i, &phrase) else {
            continue;
        };
        let before_word = chars.get(end).is_some_and(|(_, c)| c.is_alphanumeric());
        if !before_word && !inside_url(text, chars[i].0) {
            found.push(chars[i].0);
        }
    }
    found
}

/// The index just after `phrase` matched at `chars[i..]`, if it does.
fn match_at(chars: &[(usize, char)], mut i: usize, phrase: &[char]) -> Option<usize> {
    for &p in phrase {
        if p == ' ' {
            if !chars.get(i).is_some_and(|(_, c)| c.is_whitespace()) {
                return None;
            }
            while chars.get(i).is_some_and(|(_, c)| c.is_whitespace()) {
                i += 1;
            }
            continue;
        }
        let (_, c) = chars.get(i)?;
        if !(*c == p || c.to_lowercase().eq(p.to_lowercase())) {
            return None;
        }
        i += 1;
    }
    Some(i)
}

/// The byte length of the match of `phrase` at `start` (for quoting it as written).
fn matched_len(text: &str, start: usize, phrase: &str) -> usize {
    let phrase: Vec<char> = phrase
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    let chars: Vec<(usize, char)> = text[start..].char_indices().collect();
    match match_at(&chars, 0, &phrase) {
        Some(end) => chars.get(end).map_or(text.len() - start, |(at, _)| *at),
        None => 0,
    }
}

/// Whether byte `at` is inside a whitespace-delimited http(s) URL.
fn inside_url(text: &str, at: usize) -> bool {
    let token_start = text[..at].rfind(char::is_whitespace).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    let token = &text[token_start..];
    let token = token.trim_start_matches(['(', '<', '[']);
    token.starts_with("http://") || token.starts_with("https://")
}

/// Hashtags in `text` with their byte offsets: `#` not after a word character or `&`,
/// then letters, digits or `_`, not only digits; none inside URLs, none in a heading's `# `.
fn hashtags(text: &str) -> Vec<(usize, String)> {
    let mut tags = Vec::new();
    for (at, _) in text.match_indices('#') {
        let previous = text[..at].chars().next_back();
        if previous.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '&' | '#')) {
            continue;
        }
        let word: String = text[at + 1..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if word.is_empty() || word.chars().all(|c| c.is_ascii_digit()) || inside_url(text, at) {
            continue;
        }
        tags.push((at, format!("#{word}")));
    }
    tags
}

fn normalize_tag(tag: &str) -> String {
    if tag.starts_with('#') {
        tag.to_string()
    } else {
        format!("#{tag}")
    }
}

/// The emoji in `text` (grapheme clusters) with their byte offsets. An emoji is a cluster
/// with a pictograph (U+1F000 to U+1FAFF, which includes flags), an emoji presentation
/// selector (U+FE0F), a keycap (U+20E3), or one of the symbols shown as emoji by default.
fn emoji(text: &str) -> Vec<(usize, &str)> {
    text.grapheme_indices(true)
        .filter(|(_, g)| g.chars().any(is_emoji_char))
        .collect()
}

fn is_emoji_char(c: char) -> bool {
    let c = c as u32;
    matches!(c, 0x1F000..=0x1FAFF | 0xFE0F | 0x20E3) || EMOJI_PRESENTATION_BMP.contains(&c)
}

/// Code points below U+10000 with `Emoji_Presentation=Yes` (Unicode emoji-data.txt).
const EMOJI_PRESENTATION_BMP: &[u32] = &[
    0x231A, 0x231B, 0x23E9, 0x23EA, 0x23EB, 0x23EC, 0x23F0, 0x23F3, 0x25FD, 0x25FE, 0x2614, 0x2615,
    0x2648, 0x2649, 0x264A, 0x264B, 0x264C, 0x264D, 0x264E, 0x264F, 0x2650, 0x2651, 0x2652, 0x2653,
    0x267F, 0x2693, 0x26A1, 0x26AA, 0x26AB, 0x26BD, 0x26BE, 0x26C4, 0x26C5, 0x26CE, 0x26D4, 0x26EA,
    0x26F2, 0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705, 0x270A, 0x270B, 0x2728, 0x274C, 0x274E, 0x2753,
    0x2754, 0x2755, 0x2757, 0x2795, 0x2796, 0x2797, 0x27B0, 0x27BF, 0x2B1B, 0x2B1C, 0x2B50, 0x2B55,
];

#[cfg(test)]
mod tests;
