//! The prompts postctl sends and how it reads the answers. Pure: no network, no clock.
//!
//! Every prompt carries the brand voice (tone, audience, words to use and avoid, hashtags,
//! emoji, language) and the length the networks allow, counted the way they count. Drafts
//! come back as plain text, several variants separated by a line holding only
//! [`SEPARATOR`].

use std::fmt::Write as _;

use super::Prompt;
use crate::content::voice::{EmojiPolicy, HashtagPolicy, Voice};
use crate::network::Network;
use crate::platforms;
use crate::text::Counting;

/// The line between two variants in an answer.
pub const SEPARATOR: &str = "%%%";

/// The most variants one request asks for.
pub const MAX_VARIANTS: usize = 10;

/// What to write drafts about.
#[derive(Debug, Clone, Copy)]
pub struct Brief<'a> {
    /// What the user asked for: "announce the v2 release".
    pub request: &'a str,
    /// Material to draw from: a release's notes, a file.
    pub source: Option<&'a str>,
    pub voice: Option<(&'a str, &'a Voice)>,
    /// The networks the drafts are for.
    pub networks: &'a [Network],
    pub variants: usize,
}

/// The prompt for `brief`'s variants.
pub fn drafts(brief: &Brief<'_>) -> Prompt {
    let mut user = brief.request.trim().to_string();
    let variants = brief.variants.clamp(1, MAX_VARIANTS);
    if variants == 1 {
        user += "\n\nWrite one post.";
    } else {
        let _ = write!(
            user,
            "\n\nWrite {variants} different variants of the post, each complete on its own. Put a line containing only {SEPARATOR} between two variants."
        );
    }
    if let Some(source) = brief.source.filter(|s| !s.trim().is_empty()) {
        let _ = write!(
            user,
            "\n\nDraw on this material:\n<material>\n{}\n</material>",
            source.trim()
        );
    }
    Prompt {
        system: system(brief.voice, brief.networks),
        user,
    }
}

/// The prompt to shorten `text`, which measured `length` where `network` allows `max`.
pub fn shorten(
    text: &str,
    voice: Option<(&str, &Voice)>,
    network: Network,
    length: usize,
    max: usize,
) -> Prompt {
    // Aim under the limit: the model counts characters only roughly.
    let aim = max * 9 / 10;
    let user = format!(
        "This post is {length} characters long, but {} allows at most {max}. Rewrite it in at most {aim} characters. Keep its meaning, its links and its hashtags; cut words, not facts. Answer with the post only.\n\n<post>\n{}\n</post>",
        network.display_name(),
        text.trim()
    );
    Prompt {
        system: system(voice, &[network]),
        user,
    }
}

/// The prompt to rewrite `text` for `network`, with the user's extra `instruction`.
pub fn rewrite(
    text: &str,
    voice: Option<(&str, &Voice)>,
    network: Network,
    instruction: Option<&str>,
) -> Prompt {
    let mut user = format!(
        "Rewrite this post for {}. {}",
        network.display_name(),
        habits(network)
    );
    if let Some(instruction) = instruction.map(str::trim).filter(|i| !i.is_empty()) {
        let _ = write!(user, " Also: {instruction}");
    }
    let _ = write!(
        user,
        " Keep its facts and links. Answer with the post only.\n\n<post>\n{}\n</post>",
        text.trim()
    );
    Prompt {
        system: system(voice, &[network]),
        user,
    }
}

/// The prompt for up to `count` hashtags for `text`.
pub fn hashtags(
    text: &str,
    voice: Option<(&str, &Voice)>,
    networks: &[Network],
    count: usize,
) -> Prompt {
    let user = format!(
        "Suggest up to {count} hashtags for this post, the most useful first: tags people on {} follow or search for, not words already made into hashtags in the post. Answer with the hashtags only, one per line, each starting with #.\n\n<post>\n{}\n</post>",
        if networks.is_empty() {
            "social networks".to_string()
        } else {
            network_names(networks)
        },
        text.trim()
    );
    Prompt {
        system: system(voice, networks),
        user,
    }
}

/// The system prompt: the role, the output rules, the length and the voice.
fn system(voice: Option<(&str, &Voice)>, networks: &[Network]) -> String {
    let mut out = String::from(
        "You write social media posts. Answer with the posts themselves: no preamble, no titles, no numbering, no notes, no quotation marks around a post. Write plain text: links as bare URLs, no Markdown headings, tables or code blocks.",
    );
    if !networks.is_empty() {
        let _ = write!(out, "\n\nThe posts go to {}.", network_names(networks));
    }
    if let Some((network, max)) = strictest(networks) {
        let _ = write!(
            out,
            " Each post must be at most {max} characters long ({}).",
            counting_note(network, max)
        );
    }
    if let Some((name, voice)) = voice {
        out += &voice_rules(name, voice);
    }
    out
}

/// The networks' names, "Mastodon, Bluesky and Discord".
fn network_names(networks: &[Network]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for network in networks {
        if !names.contains(&network.display_name()) {
            names.push(network.display_name());
        }
    }
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The network with the smallest limit among `networks`, and that limit.
pub fn strictest(networks: &[Network]) -> Option<(Network, usize)> {
    networks
        .iter()
        .filter_map(|&n| platforms::defaults(n).map(|l| (n, l.limit.max)))
        .min_by_key(|&(_, max)| max)
}

/// How the strictest network counts, in words a model can follow.
fn counting_note(network: Network, max: usize) -> String {
    let counting = platforms::defaults(network).map(|l| l.limit.counting);
    let how = match counting {
        Some(Counting::Mastodon) => "every link counts as 23 characters",
        Some(Counting::XWeighted) => {
            "every link counts as 23 characters, and emoji and CJK characters count as 2"
        }
        Some(Counting::Utf8Bytes) => "counted in bytes",
        Some(Counting::EmojiBytes) => "an emoji counts as 4 characters or more (its UTF-8 bytes)",
        _ => "an emoji counts as one character",
    };
    format!("{}'s limit of {max}; {how}", network.display_name())
}

/// What a post on `network` usually looks like.
fn habits(network: Network) -> &'static str {
    match network {
        Network::Bluesky => {
            "Bluesky posts are short and conversational; at most 300 characters, few or no hashtags."
        }
        Network::Mastodon => {
            "Mastodon posts are friendly and plain; hashtags go at the end in CamelCase (#RustLang) so screen readers read them well."
        }
        Network::X => {
            "Posts on X are short and punchy; at most 280 characters, one or two hashtags."
        }
        Network::Threads => "Threads posts are casual and short; at most 500 characters.",
        Network::Linkedin => {
            "LinkedIn posts are professional: a strong first line, short paragraphs, a clear takeaway."
        }
        Network::Telegram => {
            "Telegram channel posts can be longer, with a bold first line and short paragraphs."
        }
        Network::Discord | Network::Slack | Network::Matrix => {
            "Chat announcements lead with what changed and why it matters, in a few short lines."
        }
        Network::Reddit => "Reddit posts are plain and informative, never salesy.",
        Network::Vk
        | Network::Instagram
        | Network::Facebook
        | Network::Nostr
        | Network::Devto
        | Network::Webhook => "Keep it clear and direct.",
    }
}

/// The voice as rules for the model.
fn voice_rules(name: &str, voice: &Voice) -> String {
    let mut out = format!("\n\nWrite in the brand voice {name:?}:");
    let mut rule = |text: String| {
        out.push_str("\n- ");
        out.push_str(&text);
    };
    if let Some(tone) = &voice.tone {
        rule(format!("Tone: {tone}."));
    }
    if let Some(audience) = &voice.audience {
        rule(format!("Audience: {audience}."));
    }
    if !voice.use_words.is_empty() {
        rule(format!(
            "Use these words where they fit: {}.",
            voice.use_words.join(", ")
        ));
    }
    if !voice.avoid.is_empty() {
        rule(format!(
            "Never use these words: {}.",
            voice.avoid.join(", ")
        ));
    }
    match voice.hashtag_policy {
        HashtagPolicy::Required if !voice.hashtags.is_empty() => {
            rule(format!(
                "Every post includes all of these hashtags: {}.",
                voice.hashtags.join(" ")
            ));
        }
        HashtagPolicy::None => rule("Use no hashtags at all.".into()),
        _ if !voice.hashtags.is_empty() => {
            rule(format!(
                "Hashtags, if any, come from: {}.",
                voice.hashtags.join(" ")
            ));
        }
        _ => {}
    }
    match voice.emoji {
        EmojiPolicy::None => rule("Use no emoji.".into()),
        EmojiPolicy::Max(n) => rule(format!("Use at most {n} emoji.")),
        EmojiPolicy::Allow => {}
    }
    if let Some(language) = &voice.language {
        rule(format!("Write in the language with the tag {language}."));
    }
    out
}

/// The variants in an answer: split at [`SEPARATOR`] lines, each trimmed, with a leading
/// "Variant 2:" line and quotes around the whole post removed; empty ones dropped.
pub fn split_variants(answer: &str) -> Vec<String> {
    let mut variants = Vec::new();
    let mut current = String::new();
    for line in answer.lines() {
        if line.trim() == SEPARATOR {
            variants.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    variants.push(current);
    variants
        .into_iter()
        .map(|v| clean(&v))
        .filter(|v| !v.is_empty())
        .collect()
}

fn clean(variant: &str) -> String {
    let mut text = variant.trim();
    if let Some((first, rest)) = text.split_once('\n')
        && is_label(first)
    {
        text = rest.trim();
    }
    let quoted = |open: char, close: char| {
        let once = if open == close {
            text.matches(open).count() == 2
        } else {
            text.matches(open).count() == 1 && text.matches(close).count() == 1
        };
        text.starts_with(open) && text.ends_with(close) && text.chars().count() > 2 && once
    };
    if quoted('"', '"') || quoted('\u{201c}', '\u{201d}') {
        let mut chars = text.chars();
        chars.next();
        chars.next_back();
        return chars.as_str().trim().to_string();
    }
    text.to_string()
}

/// "Variant 2:", "**Option 1**", "2." alone on a line.
fn is_label(line: &str) -> bool {
    let words: String = line
        .trim()
        .trim_matches(|c: char| c == '*' || c == '#' || c == ':' || c == '.' || c.is_whitespace())
        .to_ascii_lowercase();
    let rest = words
        .strip_prefix("variant")
        .or_else(|| words.strip_prefix("option"))
        .or_else(|| words.strip_prefix("version"))
        .unwrap_or(&words)
        .trim();
    !rest.is_empty() && rest.len() <= 3 && rest.chars().all(|c| c.is_ascii_digit())
}

/// The hashtags in an answer, at most `max`, each `#word` once (any case), in order.
pub fn parse_hashtags(answer: &str, max: usize) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for line in answer.lines() {
        let line = line
            .trim()
            .trim_start_matches(|c: char| {
                c == '-' || c == '*' || c == '•' || c.is_ascii_digit() || c == '.' || c == ')'
            })
            .trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        let candidates: Vec<&str> = if words.iter().any(|w| w.starts_with('#')) {
            words.into_iter().filter(|w| w.starts_with('#')).collect()
        } else if words.len() == 1 {
            // A bare word on its own line: the model forgot the '#'.
            words
        } else {
            Vec::new()
        };
        for word in candidates {
            let body: String = word
                .trim_start_matches('#')
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if body.is_empty() || body.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let tag = format!("#{body}");
            if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                tags.push(tag);
            }
        }
    }
    tags.truncate(max);
    tags
}

#[cfg(test)]
mod tests;
