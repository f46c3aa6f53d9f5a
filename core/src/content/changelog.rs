//! Release notes: one version's section of a CHANGELOG, or a GitHub `release` event.
//!
//! [`section`] reads the common Markdown changelog styles:
//!
//! | Style                | Release heading                                                          |
//! |----------------------|--------------------------------------------------------------------------|
//! | Keep a Changelog     | `## [1.2.0] - 2026-11-20`, links at the bottom: `[1.2.0]: https://…`     |
//! | conventional-changelog | `## [1.2.0](https://github.com/o/r/compare/v1.1.0...v1.2.0) (2026-11-20)`, and `# 1.2.0 (…)` / `# [1.2.0](…)` for minor releases, `###` for patches (standard-version) |
//! | cargo-release        | `## [Unreleased] - ReleaseDate` above `## [1.2.0] - 2026-11-20`, `<!-- next-header -->` markers |
//! | Changesets and plain | `## 1.2.0`, `## v1.2.0 (2026-11-20)`, `## Version 1.2.0`                 |
//!
//! A release heading is any heading (levels 1 to 3) that starts with a version (optionally in
//! brackets or a link, after an optional `v`, `Version` or `Release`) or with `Unreleased`. Its
//! section runs to the next release heading, or to a heading that is not a release and is not
//! deeper than it ("## Older versions"). Headings inside fenced code blocks do not count.
//! Link reference definitions and HTML comments are left out of the notes.
//!
//! The summary is the section's first [`SUMMARY_ITEMS`] top-level list items (nested items,
//! commit hashes and links, "closes #9", "by @user in URL" left out), or its first paragraph
//! when it has no list.

use serde::Serialize;
use serde_json::{Map, Value};

use super::template::Variables;

/// How many list items a summary keeps.
pub const SUMMARY_ITEMS: usize = 3;

/// One release's notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// "1.2.0": as in the heading or the tag, without a leading `v`; "Unreleased" for that section.
    pub version: String,
    /// YYYY-MM-DD, when the heading or the event has one.
    pub date: Option<String>,
    /// The heading as a reader sees it ("1.2.0 - 2026-11-20"), or the GitHub release's name.
    pub title: String,
    /// The section's Markdown, without its heading.
    pub body_markdown: String,
    /// The first list items ("- a\n- b\n- c"), or the first paragraph.
    pub summary: String,
    /// The compare or release page, when the changelog or the event gives one.
    pub link: Option<String>,
    /// The project's name, when known (a GitHub event's repository).
    pub project: Option<String>,
}

/// Why no release notes could be read. All are the user's to fix (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangelogError {
    #[error(
        "no release sections found; expected headings such as `## [1.2.0] - 2026-11-20` (Keep a Changelog) or `## [1.2.0](https://github.com/o/r/compare/v1.1.0...v1.2.0) (2026-11-20)` (conventional-changelog)"
    )]
    NoReleases,
    #[error(
        "the changelog has only an Unreleased section; release a version first (a heading such as `## [1.2.0] - 2026-11-20`), or pick it with --version unreleased"
    )]
    OnlyUnreleased,
    #[error(
        "version {wanted} is not in the changelog; it has {}",
        list_versions(found)
    )]
    VersionNotFound { wanted: String, found: Vec<String> },
    #[error("GitHub event: {0}")]
    GitHubEvent(String),
}

impl From<ChangelogError> for crate::error::Error {
    fn from(e: ChangelogError) -> Self {
        crate::error::Error::Invalid(e.to_string())
    }
}

fn list_versions(found: &[String]) -> String {
    if found.is_empty() {
        "no released versions".into()
    } else {
        found.join(", ")
    }
}

impl Release {
    /// The template variables for this release, under `user`'s (a `--var` wins over the
    /// release's own value): `version`, `date`, `title`, `summary`, `notes` (the whole
    /// section), `link` and `name` (the project). Absent values are empty strings, so a
    /// template can test them with `{% if link %}`.
    pub fn variables(&self, user: Variables) -> Variables {
        let text = |v: &Option<String>| Value::String(v.clone().unwrap_or_default());
        let mut defaults = Map::new();
        defaults.insert("version".into(), Value::String(self.version.clone()));
        defaults.insert("date".into(), text(&self.date));
        defaults.insert("title".into(), Value::String(self.title.clone()));
        defaults.insert("summary".into(), Value::String(self.summary.clone()));
        defaults.insert("notes".into(), Value::String(self.body_markdown.clone()));
        defaults.insert("link".into(), text(&self.link));
        defaults.insert("name".into(), text(&self.project));
        user.with_defaults(defaults)
    }
}

/// A release heading as read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Heading {
    level: usize,
    /// `None` for Unreleased.
    version: Option<String>,
    date: Option<String>,
    title: String,
    /// The label to look up in link reference definitions ("1.2.0", "v1.2.0", "Unreleased").
    label: String,
    link: Option<String>,
    yanked: bool,
}

/// The section of `version` (a leading `v` is ignored, `unreleased` picks that section), or
/// with `None` the latest released one: the first section that is not Unreleased or yanked.
pub fn section(text: &str, version: Option<&str>) -> Result<Release, ChangelogError> {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let sections = find_sections(&lines);
    if sections.is_empty() {
        return Err(ChangelogError::NoReleases);
    }
    let released = || sections.iter().filter(|(h, _)| h.version.is_some());
    let chosen = match version {
        None => released()
            .find(|(h, _)| !h.yanked)
            .ok_or(ChangelogError::OnlyUnreleased)?,
        Some(wanted) if wanted.trim().eq_ignore_ascii_case("unreleased") => sections
            .iter()
            .find(|(h, _)| h.version.is_none())
            .ok_or_else(|| ChangelogError::VersionNotFound {
                wanted: wanted.trim().into(),
                found: released().filter_map(|(h, _)| h.version.clone()).collect(),
            })?,
        Some(wanted) => {
            let wanted = strip_v(wanted.trim());
            released()
                .find(|(h, _)| h.version.as_deref() == Some(wanted))
                .ok_or_else(|| ChangelogError::VersionNotFound {
                    wanted: wanted.into(),
                    found: released().filter_map(|(h, _)| h.version.clone()).collect(),
                })?
        }
    };
    let (heading, body) = chosen;
    let body = clean_body(body);
    let link = heading
        .link
        .clone()
        .or_else(|| reference_link(&lines, &heading.label))
        .or_else(|| {
            heading
                .version
                .as_ref()
                .and_then(|v| reference_link(&lines, v))
        })
        .or_else(|| {
            heading
                .version
                .as_ref()
                .and_then(|v| reference_link(&lines, &format!("v{v}")))
        });
    Ok(Release {
        version: heading
            .version
            .clone()
            .unwrap_or_else(|| "Unreleased".into()),
        date: heading.date.clone(),
        title: heading.title.clone(),
        summary: summarize(&body),
        body_markdown: body,
        link,
        project: None,
    })
}

/// The release sections in order: each heading with its lines.
fn find_sections<'a>(lines: &[&'a str]) -> Vec<(Heading, Vec<&'a str>)> {
    let mut sections: Vec<(Heading, Vec<&'a str>)> = Vec::new();
    let mut open = false;
    let mut fence: Option<&str> = None;
    for line in lines {
        if let Some(marker) = fence {
            if line.trim_start().starts_with(marker) {
                fence = None;
            }
        } else if let Some(marker) = ["```", "~~~"]
            .into_iter()
            .find(|m| line.trim_start().starts_with(m))
        {
            fence = Some(marker);
        } else if let Some((level, text)) = atx_heading(line) {
            if let Some(heading) = parse_heading(level, text) {
                sections.push((heading, Vec::new()));
                open = true;
                continue;
            }
            // "## Older versions" ends the section above; "### Added" belongs to it.
            if sections.last().is_some_and(|(h, _)| level <= h.level) {
                open = false;
            }
        }
        if open && let Some((_, body)) = sections.last_mut() {
            body.push(line);
        }
    }
    sections
}

/// `(level, text)` of an ATX heading of level 1 to 3 (`## text ##`).
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let line = &line[indent..];
    let level = line.len() - line.trim_start_matches('#').len();
    if !(1..=3).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim_end();
    Some((level, text))
}

/// Reads a heading's text as a release heading, or `None` for any other heading.
fn parse_heading(level: usize, text: &str) -> Option<Heading> {
    let mut rest = text;
    for prefix in ["version ", "release "] {
        if rest.len() >= prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix) {
            rest = rest[prefix.len()..].trim_start();
        }
    }
    // The label: `[1.2.0]`, `[1.2.0](url)`, or the first word.
    let (label, link, after) = if let Some(inner) = rest.strip_prefix('[') {
        let close = inner.find(']')?;
        let label = &inner[..close];
        let after = &inner[close + 1..];
        match after.strip_prefix('(') {
            Some(url_part) => {
                let end = url_part.find(')')?;
                let url = url_part[..end].trim();
                (label, Some(url.to_string()), &url_part[end + 1..])
            }
            None => (label, None, after),
        }
    } else {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        (&rest[..end], None, &rest[end..])
    };
    let label = label.trim();
    let version = if label.eq_ignore_ascii_case("unreleased") {
        None
    } else {
        Some(parse_version(label)?.to_string())
    };
    let date = find_date(after);
    let yanked = after.to_ascii_uppercase().contains("[YANKED]");
    let title = format!("{}{}", strip_v(label), after.trim_end())
        .trim()
        .to_string();
    let title = if version.is_none() {
        "Unreleased".to_string()
    } else {
        title
    };
    Some(Heading {
        level,
        version,
        date,
        title,
        label: label.to_string(),
        link,
        yanked,
    })
}

/// "1.2.0" out of "1.2.0" or "v1.2.0": digits, a dot, digits, then any pre-release or build
/// suffix; `None` when `label` is not a version.
fn parse_version(label: &str) -> Option<&str> {
    let version = strip_v(label);
    let core_end = version
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(version.len());
    let core = &version[..core_end];
    let parts: Vec<&str> = core.split('.').collect();
    let valid_core = parts.len() >= 2 && parts.iter().all(|p| !p.is_empty());
    let suffix = &version[core_end..];
    let valid_suffix = suffix.is_empty()
        || (suffix.starts_with(['-', '+'])
            && suffix.len() > 1
            && suffix[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')));
    (valid_core && valid_suffix).then_some(version)
}

fn strip_v(label: &str) -> &str {
    match label.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => label,
    }
}

/// The first YYYY-MM-DD in `text`.
fn find_date(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(9)).find_map(|i| {
        let candidate = &bytes[i..i + 10];
        let shape = candidate.iter().enumerate().all(|(j, b)| match j {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
        let bounded = (i == 0 || !bytes[i - 1].is_ascii_digit())
            && bytes.get(i + 10).is_none_or(|b| !b.is_ascii_digit());
        (shape && bounded).then(|| String::from_utf8_lossy(candidate).into_owned())
    })
}

/// The URL of the link reference definition `[label]: URL` (labels match case-insensitively).
fn reference_link(lines: &[&str], label: &str) -> Option<String> {
    lines.iter().find_map(|line| {
        let (found, url) = link_definition(line)?;
        found.eq_ignore_ascii_case(label).then(|| url.to_string())
    })
}

/// `("1.2.0", "https://…")` for a line `[1.2.0]: https://…`.
fn link_definition(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim().strip_prefix('[')?;
    let (label, after) = rest.split_once("]:")?;
    let url = after.split_whitespace().next()?;
    Some((label.trim(), url.trim_matches(['<', '>'])))
}

/// The section's lines without link definitions and comments, blank runs squeezed, trimmed.
fn clean_body(lines: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in lines {
        let trimmed = line.trim();
        let comment = trimmed.starts_with("<!--") && trimmed.ends_with("-->");
        if comment || link_definition(line).is_some() {
            continue;
        }
        if trimmed.is_empty() && out.last().is_none_or(|l| l.trim().is_empty()) {
            continue;
        }
        out.push(line.trim_end());
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// The first top-level list items, cleaned, as "- item" lines; or the first paragraph.
pub fn summarize(body: &str) -> String {
    let items = list_items(body);
    if !items.is_empty() {
        let mut unique: Vec<&String> = Vec::new();
        for item in &items {
            // A breaking change is often listed twice (under BREAKING CHANGES and Features).
            if !unique.contains(&item) {
                unique.push(item);
            }
        }
        return unique
            .iter()
            .take(SUMMARY_ITEMS)
            .map(|item| format!("- {item}"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    body.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .map(|p| {
            p.lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Top-level list items, with their continuation lines joined, cleaned.
fn list_items(body: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut in_item = false;
    for line in body.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            in_item = false;
            continue;
        }
        if let Some(text) = list_marker(trimmed) {
            if indent < 2 {
                items.push(text.to_string());
                in_item = true;
            } else {
                // A nested item: the summary keeps the top level only.
                in_item = false;
            }
        } else if in_item && indent >= 1 && !trimmed.starts_with('#') {
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(trimmed);
            }
        } else {
            in_item = false;
        }
    }
    items
        .into_iter()
        .map(|item| clean_item(&item))
        .filter(|item| !item.is_empty())
        .collect()
}

/// The text after a list marker (`- `, `* `, `+ `, `1. `, `1) `).
fn list_marker(line: &str) -> Option<&str> {
    if let Some(rest) = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))
        .or_else(|| line.strip_prefix("+ "))
    {
        return Some(rest.trim());
    }
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    line[digits..]
        .strip_prefix(". ")
        .or_else(|| line[digits..].strip_prefix(") "))
        .map(str::trim)
}

/// Removes what a reader of a post does not need: commit hashes and links, issue links at the
/// end ("([#12](…))", ", closes [#9](…)"), GitHub's " by @user in https://…/pull/12", and
/// Changesets' leading "abc1234: " or "[#77](…) [`abc1234`](…) Thanks [@ann](…)! - ".
fn clean_item(item: &str) -> String {
    let mut text = item.trim().to_string();
    // Changesets: "1a2b3c4: Add templates".
    if let Some((hash, rest)) = text.split_once(": ")
        && is_hash(hash)
    {
        text = rest.to_string();
    }
    // Changesets' GitHub format: "[#77](…) [`d4e5f60`](…) Thanks [@ann](…)! - Add X".
    if let Some(at) = text.find("Thanks [@")
        && let Some(dash) = text[at..].find("! - ")
    {
        text = text[at + dash + 4..].to_string();
    }
    // GitHub's generated notes: "Add templates by @ann in https://github.com/o/r/pull/12".
    if let Some(at) = text.rfind(" by @")
        && text[at..].contains(" in http")
    {
        text.truncate(at);
    }
    loop {
        let before = text.len();
        let trimmed = text.trim_end().trim_end_matches([',', ';']).trim_end();
        text = trimmed.to_string();
        // ", closes [#9](url)" / "closes #9"
        for word in [", closes ", " closes ", ", fixes ", " fixes "] {
            if let Some(at) = text.rfind(word)
                && text[at + word.len()..]
                    .split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .all(|s| s.starts_with("[#") || s.starts_with('#'))
            {
                text.truncate(at);
            }
        }
        // "([abc1234](https://…/commit/abc1234))" or "([#12](https://…/issues/12))"
        if text.ends_with("))")
            && let Some(open) = text.rfind(" ([")
        {
            let inner = &text[open + 3..];
            let label = inner.split(']').next().unwrap_or("");
            if is_hash(label) || label.starts_with('#') {
                text.truncate(open);
            }
        }
        if text.len() == before {
            break;
        }
    }
    text.trim().to_string()
}

fn is_hash(text: &str) -> bool {
    let text = text.trim_matches('`');
    (7..=40).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// The release in a GitHub `release` event payload (the file at `$GITHUB_EVENT_PATH`):
/// `release.tag_name` (required), `name`, `body`, `html_url`, `published_at`, and the
/// repository's name as the project.
///
/// The version is the tag without a leading `v`, and for monorepo tags such as
/// `cli@1.2.0` or `cli-v1.2.0`, the part after the `@` or `-v`.
pub fn from_github_event(json: &str) -> Result<Release, ChangelogError> {
    let event: Value = serde_json::from_str(json).map_err(|e| {
        ChangelogError::GitHubEvent(format!(
            "not JSON ({e}); $GITHUB_EVENT_PATH should name the event payload file GitHub Actions writes"
        ))
    })?;
    let Some(release) = event.get("release").filter(|r| r.is_object()) else {
        return Err(ChangelogError::GitHubEvent(
            "the payload has no `release` object: the workflow was not started by a release event (use `on: release: types: [published]`), or give the notes as a CHANGELOG file instead".into(),
        ));
    };
    let text = |value: Option<&Value>| {
        value
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let tag = text(release.get("tag_name")).ok_or_else(|| {
        ChangelogError::GitHubEvent(
            "the release has no `tag_name`; is this a release event payload?".into(),
        )
    })?;
    let body = release
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or("")
        .replace("\r\n", "\n");
    let body = clean_body(&body.lines().collect::<Vec<_>>());
    let date = text(release.get("published_at"))
        .or_else(|| text(release.get("created_at")))
        .and_then(|t| find_date(&t));
    Ok(Release {
        version: version_from_tag(&tag).to_string(),
        date,
        title: text(release.get("name")).unwrap_or_else(|| tag.clone()),
        summary: summarize_github(&body),
        body_markdown: body,
        link: text(release.get("html_url")),
        project: text(event.get("repository").and_then(|r| r.get("name"))),
    })
}

/// GitHub's generated notes end with "**Full Changelog**: URL" and list new contributors;
/// neither belongs in a summary.
fn summarize_github(body: &str) -> String {
    let kept: Vec<&str> = body
        .lines()
        .take_while(|l| !l.trim_start().starts_with("## New Contributors"))
        .filter(|l| !l.trim_start().starts_with("**Full Changelog**"))
        .collect();
    summarize(&kept.join("\n"))
}

fn version_from_tag(tag: &str) -> &str {
    let tag = tag.strip_prefix("refs/tags/").unwrap_or(tag);
    if let Some((_, version)) = tag.rsplit_once('@') {
        return strip_v(version);
    }
    if let Some((_, version)) = tag.rsplit_once("-v")
        && parse_version(version).is_some()
    {
        return version;
    }
    strip_v(tag)
}

#[cfg(test)]
mod tests;
