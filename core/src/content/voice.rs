//! Brand voices: how a project or brand writes, kept in config.toml as `[voices.NAME]`.
//!
//! ```toml
//! [voices.brand]
//! tone = "friendly, plain, no hype"
//! audience = "developers who self-host"
//! use = ["ship", "release"]
//! avoid = ["synergy", "leverage", "revolutionary"]
//! hashtags = ["#rust", "#cli"]
//! hashtag_policy = "required"   # required | optional | none
//! emoji = "max:2"               # allow | none | max:N
//! language = "en"
//! ```
//!
//! `postctl voice set` edits that table in place with `toml_edit`, so the rest of the file
//! (comments, order, the user's other settings) stays exactly as it was. [`crate::content::lint`]
//! checks drafts against a voice; tone, audience and language guide writing (and AI drafting),
//! they are not linted.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml_edit::{Array, DocumentMut, Item, Table, value};

use crate::config::Config;
use crate::error::{Error, Result};

/// One brand voice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Voice {
    pub tone: Option<String>,
    pub audience: Option<String>,
    /// Words and phrases the voice prefers.
    #[serde(rename = "use")]
    pub use_words: Vec<String>,
    /// Words and phrases the voice never uses; a draft containing one fails lint.
    pub avoid: Vec<String>,
    /// The voice's hashtags, each starting with `#`.
    pub hashtags: Vec<String>,
    pub hashtag_policy: HashtagPolicy,
    pub emoji: EmojiPolicy,
    /// A BCP 47 language tag: "en", "en-GB", "pt-BR".
    pub language: Option<String>,
}

/// What a draft must do with hashtags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashtagPolicy {
    /// Every one of the voice's hashtags must be in the draft.
    Required,
    /// Hashtags are up to the writer.
    #[default]
    Optional,
    /// No hashtags at all.
    None,
}

impl HashtagPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            HashtagPolicy::Required => "required",
            HashtagPolicy::Optional => "optional",
            HashtagPolicy::None => "none",
        }
    }
}

impl FromStr for HashtagPolicy {
    type Err = VoiceError;
    fn from_str(s: &str) -> Result<Self, VoiceError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "required" => Ok(HashtagPolicy::Required),
            "optional" => Ok(HashtagPolicy::Optional),
            "none" => Ok(HashtagPolicy::None),
            _ => Err(VoiceError::BadHashtagPolicy(s.into())),
        }
    }
}

/// How many emoji a draft may have. Written "allow", "none" or "max:N".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmojiPolicy {
    #[default]
    Allow,
    None,
    Max(u32),
}

impl fmt::Display for EmojiPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmojiPolicy::Allow => f.write_str("allow"),
            EmojiPolicy::None => f.write_str("none"),
            EmojiPolicy::Max(n) => write!(f, "max:{n}"),
        }
    }
}

impl FromStr for EmojiPolicy {
    type Err = VoiceError;
    fn from_str(s: &str) -> Result<Self, VoiceError> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "allow" => Ok(EmojiPolicy::Allow),
            "none" | "max:0" => Ok(EmojiPolicy::None),
            _ => lower
                .strip_prefix("max:")
                .and_then(|n| n.trim().parse().ok())
                .map(EmojiPolicy::Max)
                .ok_or_else(|| VoiceError::BadEmojiPolicy(s.into())),
        }
    }
}

impl Serialize for EmojiPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EmojiPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A wrong value for a voice. All are the user's to fix (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoiceError {
    #[error(
        "{0:?} is not a valid voice name: use 1 to 32 lowercase letters, digits, '-' or '_', starting with a letter or digit"
    )]
    BadName(String),
    #[error("--hashtag-policy {0:?}: use required, optional or none")]
    BadHashtagPolicy(String),
    #[error("--emoji {0:?}: use allow, none, or max:N (e.g. max:2)")]
    BadEmojiPolicy(String),
    #[error(
        "{0:?} is not a hashtag: a hashtag is # followed by letters, digits or _ (and not only digits), e.g. \"#rust #cli\""
    )]
    BadHashtag(String),
    #[error("--language {0:?} is not a language tag; use e.g. en, en-GB, pt-BR")]
    BadLanguage(String),
    #[error(
        "hashtag policy `required` needs the hashtags to require: add --hashtags \"#a #b\", or use --hashtag-policy optional"
    )]
    RequiredWithoutHashtags,
    #[error("an empty word in --{0}; give the word or phrase, e.g. --{0} \"circle back\"")]
    EmptyWord(&'static str),
    #[error(
        "no voice named {name:?}; {}",
        if known.is_empty() { "there are none yet: create one with `postctl voice set NAME --tone ...`".to_string() } else { format!("the voices are {} (see `postctl voice list`)", known.join(", ")) }
    )]
    NotFound { name: String, known: Vec<String> },
    #[error("config file {path}: {detail}; fix the file, then run the command again")]
    Config { path: String, detail: String },
}

impl From<VoiceError> for Error {
    fn from(e: VoiceError) -> Self {
        match e {
            VoiceError::Config { path, detail } => Error::Config {
                path: path.into(),
                detail,
            },
            other => Error::Invalid(other.to_string()),
        }
    }
}

/// Changes to a voice from `postctl voice set`; `None` leaves a field as it is, an empty
/// text clears it, a list replaces the whole list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoiceChange {
    pub tone: Option<String>,
    pub audience: Option<String>,
    pub use_words: Option<Vec<String>>,
    pub avoid: Option<Vec<String>>,
    /// Hashtags as typed: "#a #b", "a, b" (a `#` is added where missing).
    pub hashtags: Option<String>,
    pub hashtag_policy: Option<HashtagPolicy>,
    pub emoji: Option<EmojiPolicy>,
    pub language: Option<String>,
}

impl Voice {
    /// `self` with `change` applied and checked.
    pub fn changed(&self, change: VoiceChange) -> Result<Voice, VoiceError> {
        let text = |given: Option<String>, old: &Option<String>| match given {
            Some(t) if t.trim().is_empty() => None,
            Some(t) => Some(t.trim().to_string()),
            None => old.clone(),
        };
        let voice = Voice {
            tone: text(change.tone, &self.tone),
            audience: text(change.audience, &self.audience),
            use_words: match change.use_words {
                Some(words) => words_list(words, "use")?,
                None => self.use_words.clone(),
            },
            avoid: match change.avoid {
                Some(words) => words_list(words, "avoid")?,
                None => self.avoid.clone(),
            },
            hashtags: match change.hashtags {
                Some(typed) => parse_hashtags(&typed)?,
                None => self.hashtags.clone(),
            },
            hashtag_policy: change.hashtag_policy.unwrap_or(self.hashtag_policy),
            emoji: change.emoji.unwrap_or(self.emoji),
            language: text(change.language, &self.language),
        };
        if let Some(language) = voice.language.as_ref().filter(|l| !is_language_tag(l)) {
            return Err(VoiceError::BadLanguage(language.clone()));
        }
        if voice.hashtag_policy == HashtagPolicy::Required && voice.hashtags.is_empty() {
            return Err(VoiceError::RequiredWithoutHashtags);
        }
        Ok(voice)
    }
}

/// Checks a voice name (the rules of account names).
pub fn validate_name(name: &str) -> Result<(), VoiceError> {
    if crate::network::is_valid_name(name) {
        Ok(())
    } else {
        Err(VoiceError::BadName(name.into()))
    }
}

/// Trimmed, without duplicates (ignoring case), none empty.
fn words_list(words: Vec<String>, flag: &'static str) -> Result<Vec<String>, VoiceError> {
    let mut out: Vec<String> = Vec::new();
    for word in words {
        let word = word.split_whitespace().collect::<Vec<_>>().join(" ");
        if word.is_empty() {
            return Err(VoiceError::EmptyWord(flag));
        }
        if !out.iter().any(|w| w.to_lowercase() == word.to_lowercase()) {
            out.push(word);
        }
    }
    Ok(out)
}

/// "#a #b", "a, b" or "#a,#b" as `["#a", "#b"]`.
pub fn parse_hashtags(typed: &str) -> Result<Vec<String>, VoiceError> {
    let mut tags: Vec<String> = Vec::new();
    for raw in typed.split(|c: char| c == ',' || c.is_whitespace()) {
        if raw.is_empty() {
            continue;
        }
        let tag = if raw.starts_with('#') {
            raw.to_string()
        } else {
            format!("#{raw}")
        };
        let word = &tag[1..];
        let valid = !word.is_empty()
            && word.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !word.chars().all(|c| c.is_ascii_digit());
        if !valid {
            return Err(VoiceError::BadHashtag(raw.into()));
        }
        if !tags.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// A BCP 47 shape: a 2 or 3 letter language, then subtags of 1 to 8 letters or digits.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split(['-', '_']);
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The voice `name` from the config, or an error listing the voices there are.
pub fn find<'a>(config: &'a Config, name: &str) -> Result<&'a Voice, VoiceError> {
    config.voices.get(name).ok_or_else(|| VoiceError::NotFound {
        name: name.into(),
        known: config.voices.keys().cloned().collect(),
    })
}

/// `text` (a config.toml) with `[voices.NAME]` set to `voice`. Everything else in the file,
/// comments included, is kept; an existing table keeps its place and the comments above it.
pub fn set_in_toml(text: &str, name: &str, voice: &Voice) -> Result<String, VoiceError> {
    let mut doc = parse_document(text)?;
    // Comments after the last table belong to the end of the file, not to a table: a new
    // table goes after them (else `# retry_window_minutes = 30` would end up in it).
    let trailing = doc.trailing().as_str().unwrap_or("").to_string();
    let voices = voices_table(&mut doc)?;
    let is_new = !voices.get(name).is_some_and(Item::is_table);
    if is_new {
        // A new voice, or one written inline (`brand = { tone = "…" }`): a table of its own.
        let mut table = Table::new();
        if let Some(inline) = voices.get(name).and_then(Item::as_inline_table) {
            table = inline.clone().into_table();
        }
        if !trailing.trim().is_empty() {
            table
                .decor_mut()
                .set_prefix(format!("{}\n\n", trailing.trim_end()));
        } else if !text.trim().is_empty() {
            table.decor_mut().set_prefix("\n");
        }
        voices.insert(name, Item::Table(table));
    }
    let list = |items: &[String]| {
        let mut array = Array::new();
        for item in items {
            array.push(item.as_str());
        }
        value(array)
    };
    let fields: [(&str, Option<Item>); 8] = [
        ("tone", voice.tone.as_deref().map(value)),
        ("audience", voice.audience.as_deref().map(value)),
        (
            "use",
            (!voice.use_words.is_empty()).then(|| list(&voice.use_words)),
        ),
        (
            "avoid",
            (!voice.avoid.is_empty()).then(|| list(&voice.avoid)),
        ),
        (
            "hashtags",
            (!voice.hashtags.is_empty()).then(|| list(&voice.hashtags)),
        ),
        (
            "hashtag_policy",
            (voice.hashtag_policy != HashtagPolicy::default())
                .then(|| value(voice.hashtag_policy.as_str())),
        ),
        (
            "emoji",
            (voice.emoji != EmojiPolicy::default()).then(|| value(voice.emoji.to_string())),
        ),
        ("language", voice.language.as_deref().map(value)),
    ];
    if is_new && !trailing.trim().is_empty() {
        doc.set_trailing("");
    }
    let Some(table) = doc
        .get_mut("voices")
        .and_then(|v| v.get_mut(name))
        .and_then(Item::as_table_mut)
    else {
        return Err(config_error(format!("voices.{name} is not a table")));
    };
    for (key, item) in fields {
        match item {
            Some(mut item) => {
                // Keep a comment written after the old value (`tone = "x"  # why`).
                let old_decor = table
                    .get(key)
                    .and_then(Item::as_value)
                    .map(|v| v.decor().clone());
                if let (Some(decor), Some(new)) = (old_decor, item.as_value_mut()) {
                    *new.decor_mut() = decor;
                }
                table[key] = item;
            }
            None => {
                table.remove(key);
            }
        }
    }
    Ok(doc.to_string())
}

/// `text` without `[voices.NAME]`, and whether it was there. Comments written above the
/// table are kept: they go to the table that followed it, or to the end of the file (where
/// [`set_in_toml`] found them when the table was added last).
pub fn remove_from_toml(text: &str, name: &str) -> Result<(String, bool), VoiceError> {
    let mut doc = parse_document(text)?;
    let Some(voices) = doc.get_mut("voices").and_then(Item::as_table_like_mut) else {
        return Ok((text.to_string(), false));
    };
    let Some(removed) = voices.remove(name) else {
        return Ok((text.to_string(), false));
    };
    if voices.is_empty() {
        doc.remove("voices");
    }
    if let Item::Table(table) = &removed {
        let prefix = table
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string();
        if prefix.contains('#') {
            keep_comments(&mut doc, table.position(), &prefix);
        }
    }
    Ok((doc.to_string(), true))
}

/// Puts `comments` above the first table after `position`, or at the end of the file.
fn keep_comments(doc: &mut DocumentMut, position: Option<isize>, comments: &str) {
    let mut tables = Vec::new();
    table_positions(doc.as_table(), &mut Vec::new(), &mut tables);
    let next = tables
        .into_iter()
        .filter(|(p, _)| position.is_none_or(|removed| *p > removed))
        .min_by_key(|(p, _)| *p);
    if let Some((_, path)) = next {
        let mut table = doc.as_table_mut();
        for key in &path {
            match table.get_mut(key).and_then(Item::as_table_mut) {
                Some(inner) => table = inner,
                None => return,
            }
        }
        let own = table
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("\n")
            .to_string();
        table
            .decor_mut()
            .set_prefix(format!("{}\n{}", comments.trim_end(), own));
        return;
    }
    let trailing = doc.trailing().as_str().unwrap_or("").to_string();
    doc.set_trailing(format!("{}\n{trailing}", comments.trim_end()));
}

/// The position and key path of every table written with a header, at any depth.
fn table_positions(table: &Table, path: &mut Vec<String>, out: &mut Vec<(isize, Vec<String>)>) {
    for (key, item) in table.iter() {
        if let Item::Table(inner) = item {
            path.push(key.to_string());
            if let Some(position) = inner.position().filter(|_| !inner.is_implicit()) {
                out.push((position, path.clone()));
            }
            table_positions(inner, path, out);
            path.pop();
        }
    }
}

fn parse_document(text: &str) -> Result<DocumentMut, VoiceError> {
    text.parse::<DocumentMut>()
        .map_err(|e| config_error(e.to_string().trim().replace('\n', " ")))
}

fn config_error(detail: String) -> VoiceError {
    VoiceError::Config {
        path: "config.toml".into(),
        detail,
    }
}

/// The `voices` table, made if missing (implicit, so the file shows only `[voices.NAME]`).
fn voices_table(doc: &mut DocumentMut) -> Result<&mut Table, VoiceError> {
    if let Some(inline) = doc.get("voices").and_then(Item::as_inline_table) {
        let table = inline.clone().into_table();
        doc.insert("voices", Item::Table(table));
    }
    if doc.get("voices").is_none() {
        let mut table = Table::new();
        table.set_implicit(true);
        doc.insert("voices", Item::Table(table));
    }
    doc.get_mut("voices")
        .and_then(Item::as_table_mut)
        .ok_or_else(|| config_error("`voices` must be a table of voices ([voices.NAME])".into()))
}

/// Sets voice `name` in the config file at `path` (created if missing), keeping the rest of
/// the file. The result is checked by reading it back before it replaces the file, which is
/// written atomically.
pub fn write_voice(path: &Path, name: &str, voice: &Voice) -> Result<()> {
    validate_name(name)?;
    crate::config::edit_file(
        path,
        |text| set_in_toml(text, name, voice).map_err(|e| with_path(e, path)),
        |parsed| {
            if parsed.voices.get(name) == Some(voice) {
                Ok(())
            } else {
                Err(Error::Config {
                    path: path.to_path_buf(),
                    detail: format!("voices.{name} did not read back as written"),
                })
            }
        },
    )
}

/// Removes voice `name` from the config file; returns whether it was there.
pub fn remove_voice(path: &Path, name: &str) -> Result<bool> {
    let mut removed = false;
    crate::config::edit_file(
        path,
        |text| {
            let (updated, was_there) =
                remove_from_toml(text, name).map_err(|e| with_path(e, path))?;
            removed = was_there;
            Ok(updated)
        },
        |_| Ok(()),
    )?;
    Ok(removed)
}

fn with_path(e: VoiceError, path: &Path) -> Error {
    match e {
        VoiceError::Config { detail, .. } => Error::Config {
            path: path.to_path_buf(),
            detail,
        },
        other => other.into(),
    }
}

#[cfg(test)]
mod tests;
