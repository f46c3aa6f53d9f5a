use super::*;

const KEEP_A_CHANGELOG: &str = include_str!("fixtures/keep-a-changelog.md");
const CONVENTIONAL: &str = include_str!("fixtures/conventional-changelog.md");
const RELEASE_PLEASE: &str = include_str!("fixtures/release-please.md");
const CARGO_RELEASE: &str = include_str!("fixtures/cargo-release.md");
const CHANGESETS: &str = include_str!("fixtures/changesets.md");
const GITHUB_EVENT: &str = include_str!("fixtures/github-release-event.json");

struct Expected {
    version: &'static str,
    date: Option<&'static str>,
    title: &'static str,
    link: Option<&'static str>,
    summary: &'static str,
    body_starts: &'static str,
    body_ends: &'static str,
}

#[test]
fn sections_of_real_world_changelogs() {
    let cases: Vec<(&str, &str, Option<&str>, Expected)> = vec![
        (
            "keep a changelog, latest skips Unreleased",
            KEEP_A_CHANGELOG,
            None,
            Expected {
                version: "1.2.0",
                date: Some("2026-11-20"),
                title: "1.2.0 - 2026-11-20",
                link: Some("https://github.com/postctl/postctl/compare/v1.1.1...v1.2.0"),
                summary: "- Templates: `template add|list|show|rm|render` with minijinja, strict undefined variables and per-network variants.\n- Release notes from CHANGELOG.md and GitHub release events.\n- Brand voice and `postctl lint`.",
                body_starts: "### Added\n- Templates:",
                body_ends: "- `accounts rm` removes the secret before the row.",
            },
        ),
        (
            "keep a changelog, a yanked version asked for by name, with a v",
            KEEP_A_CHANGELOG,
            Some("v1.1.1"),
            Expected {
                version: "1.1.1",
                date: Some("2026-10-02"),
                title: "1.1.1 - 2026-10-02 [YANKED]",
                link: Some("https://github.com/postctl/postctl/compare/v1.1.0...v1.1.1"),
                summary: "- A crash on empty drafts.",
                body_starts: "### Fixed",
                body_ends: "- A crash on empty drafts.",
            },
        ),
        (
            "keep a changelog, nested items are left out of the summary",
            KEEP_A_CHANGELOG,
            Some("1.1.0"),
            Expected {
                version: "1.1.0",
                date: Some("2026-09-15"),
                title: "1.1.0 - 2026-09-15",
                link: Some("https://github.com/postctl/postctl/compare/v1.0.0...v1.1.0"),
                summary: "- Publishing to Mastodon, Bluesky, Telegram, Discord, Slack and Matrix.\n- The daemon.",
                body_starts: "### Added\n\n- Publishing",
                body_ends: "- The daemon.",
            },
        ),
        (
            "keep a changelog, no list: the first paragraph; the link definitions are not notes",
            KEEP_A_CHANGELOG,
            Some("1.0.0"),
            Expected {
                version: "1.0.0",
                date: Some("2026-06-01"),
                title: "1.0.0 - 2026-06-01",
                link: Some("https://github.com/postctl/postctl/releases/tag/v1.0.0"),
                summary: "First release: drafts, schedules, the queue and the calendar.",
                body_starts: "First release",
                body_ends: "Everything lives in one SQLite file.",
            },
        ),
        (
            "keep a changelog, unreleased on request",
            KEEP_A_CHANGELOG,
            Some("unreleased"),
            Expected {
                version: "Unreleased",
                date: None,
                title: "Unreleased",
                link: Some("https://github.com/postctl/postctl/compare/v1.2.0...HEAD"),
                summary: "- AI drafting with `postctl generate`.",
                body_starts: "### Added",
                body_ends: "- AI drafting with `postctl generate`.",
            },
        ),
        (
            "conventional-changelog: `#` for a minor release, commit links and closes left out",
            CONVENTIONAL,
            None,
            Expected {
                version: "1.2.0",
                date: Some("2026-11-20"),
                title: "1.2.0 (2026-11-20)",
                link: Some("https://github.com/acme/widget/compare/v1.1.1...v1.2.0"),
                summary: "- **parser:** accept tabs in front matter\n- **cli:** add the lint command\n- templates with per-network variants",
                body_starts: "### Bug Fixes\n\n* **parser:**",
                body_ends: "* **cli:** `check` is now `lint --lengths`.",
            },
        ),
        (
            "conventional-changelog: `##` for a patch release",
            CONVENTIONAL,
            Some("1.1.1"),
            Expected {
                version: "1.1.1",
                date: Some("2026-10-02"),
                title: "1.1.1 (2026-10-02)",
                link: Some("https://github.com/acme/widget/compare/v1.1.0...v1.1.1"),
                summary: "- crash on empty input",
                body_starts: "### Bug Fixes",
                body_ends: "/commit/0a1b2c3d4e5f60718293a4b5c6d7e8f901234567))",
            },
        ),
        (
            "conventional-changelog without a repository: `# 1.1.0 (date)`",
            CONVENTIONAL,
            Some("1.1.0"),
            Expected {
                version: "1.1.0",
                date: Some("2026-09-15"),
                title: "1.1.0 (2026-09-15)",
                link: None,
                summary: "- first public release",
                body_starts: "### Features",
                body_ends: "12345678))",
            },
        ),
        (
            "release-please",
            RELEASE_PLEASE,
            None,
            Expected {
                version: "2.0.0",
                date: Some("2026-11-20"),
                title: "2.0.0 (2026-11-20)",
                link: Some("https://github.com/acme/widget/compare/widget-v1.9.0...widget-v2.0.0"),
                summary: "- drop Node 18",
                body_starts: "### ⚠ BREAKING CHANGES",
                body_ends: "cafe1234cafe1234cafe1234cafe1234cafe1234))",
            },
        ),
        (
            "cargo-release: the Unreleased - ReleaseDate marker is skipped",
            CARGO_RELEASE,
            None,
            Expected {
                version: "0.4.2",
                date: Some("2026-11-20"),
                title: "0.4.2 - 2026-11-20",
                link: Some("https://github.com/acme/tool/compare/v0.4.1...v0.4.2"),
                summary: "- Don't panic on an empty `Cargo.toml`\n- Respect `--no-verify` for workspaces\n- `--allow-branch` takes globs",
                body_starts: "### Fixes",
                body_ends: "- `--allow-branch` takes globs",
            },
        ),
        (
            "cargo-release: the last section stops before the next-url marker",
            CARGO_RELEASE,
            Some("0.4.1"),
            Expected {
                version: "0.4.1",
                date: Some("2026-08-08"),
                title: "0.4.1 - 2026-08-08",
                link: Some("https://github.com/acme/tool/compare/v0.4.0...v0.4.1"),
                summary: "- Typo in help",
                body_starts: "### Fixes",
                body_ends: "- Typo in help",
            },
        ),
        (
            "changesets: bare versions, commit prefixes removed",
            CHANGESETS,
            None,
            Expected {
                version: "3.1.0",
                date: None,
                title: "3.1.0",
                link: None,
                summary: "- Add the `--voice` flag to `lint`\n- Templates can have per-network variants\n- Updated dependencies [5c1a2b3]",
                body_starts: "### Minor Changes",
                body_ends: "  - @acme/core@2.0.1",
            },
        ),
        (
            "changesets: a heading inside a code block is not a release",
            CHANGESETS,
            Some("3.0.0"),
            Expected {
                version: "3.0.0",
                date: None,
                title: "3.0.0",
                link: None,
                summary: "- Drop the v1 API",
                body_starts: "### Major Changes",
                body_ends: "```",
            },
        ),
    ];
    for (what, text, version, expected) in cases {
        let release = section(text, version).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(release.version, expected.version, "{what}");
        assert_eq!(release.date.as_deref(), expected.date, "{what}");
        assert_eq!(release.title, expected.title, "{what}");
        assert_eq!(release.link.as_deref(), expected.link, "{what}");
        assert_eq!(release.summary, expected.summary, "{what}");
        assert!(
            release.body_markdown.starts_with(expected.body_starts),
            "{what}: body starts {:?}",
            release.body_markdown
        );
        assert!(
            release.body_markdown.ends_with(expected.body_ends),
            "{what}: body ends {:?}",
            release.body_markdown
        );
        assert!(!release.body_markdown.contains("<!--"), "{what}");
        assert!(!release.body_markdown.contains("]: https://"), "{what}");
        assert!(!release.body_markdown.contains("\n\n\n"), "{what}");
        assert_eq!(release.project, None);
    }
}

#[test]
fn windows_line_endings_read_the_same() {
    let crlf = KEEP_A_CHANGELOG.replace('\n', "\r\n");
    assert_eq!(section(&crlf, None), section(KEEP_A_CHANGELOG, None));
}

#[test]
fn the_next_non_release_heading_ends_the_last_section() {
    let text = "## [1.0.0] - 2026-01-01\n- one\n\n## Older releases\nSee the wiki.\n";
    let release = section(text, None).expect("section");
    assert_eq!(release.body_markdown, "- one");
}

#[test]
fn errors_say_what_was_found() {
    let err = section(KEEP_A_CHANGELOG, Some("9.9.9")).expect_err("missing");
    assert_eq!(
        err,
        ChangelogError::VersionNotFound {
            wanted: "9.9.9".into(),
            found: vec![
                "1.2.0".into(),
                "1.1.1".into(),
                "1.1.0".into(),
                "1.0.0".into()
            ],
        }
    );
    assert_eq!(
        err.to_string(),
        "version 9.9.9 is not in the changelog; it has 1.2.0, 1.1.1, 1.1.0, 1.0.0"
    );
    let only_unreleased = "# Changelog\n\n## [Unreleased]\n\n### Added\n- Things\n";
    assert_eq!(
        section(only_unreleased, None),
        Err(ChangelogError::OnlyUnreleased)
    );
    assert!(
        section(only_unreleased, Some("1.0.0"))
            .expect_err("none")
            .to_string()
            .contains("it has no released versions")
    );
    for text in ["", "# Notes\n\nNothing here.\n", "## Changes\n- a\n"] {
        assert_eq!(
            section(text, None),
            Err(ChangelogError::NoReleases),
            "{text:?}"
        );
    }
    assert!(
        ChangelogError::NoReleases
            .to_string()
            .contains("## [1.2.0] - 2026-11-20")
    );
}

#[test]
fn headings_that_are_and_are_not_releases() {
    /// (heading text, (version, date) when it is a release heading)
    type Case<'a> = (&'a str, Option<(Option<&'a str>, Option<&'a str>)>);
    let cases: &[Case<'_>] = &[
        (
            "[1.2.0] - 2026-11-20",
            Some((Some("1.2.0"), Some("2026-11-20"))),
        ),
        (
            "[v1.2.0] – 2026-11-20",
            Some((Some("1.2.0"), Some("2026-11-20"))),
        ),
        ("1.2.0", Some((Some("1.2.0"), None))),
        (
            "v2.0.0-rc.1 (2026-11-20)",
            Some((Some("2.0.0-rc.1"), Some("2026-11-20"))),
        ),
        ("Version 1.2", Some((Some("1.2"), None))),
        ("Release v3.0.0", Some((Some("3.0.0"), None))),
        ("2026.11.20", Some((Some("2026.11.20"), None))),
        ("[Unreleased] - ReleaseDate", Some((None, None))),
        ("Unreleased", Some((None, None))),
        ("Changelog", None),
        ("Added", None),
        ("1", None),
        ("1.", None),
        ("1.2.x", None),
        ("Release notes", None),
        ("[Docs](https://example.com)", None),
    ];
    for (text, expected) in cases {
        let got = parse_heading(2, text).map(|h| (h.version, h.date));
        let expected = expected.map(|(v, d)| (v.map(String::from), d.map(String::from)));
        assert_eq!(got, expected, "{text}");
    }
}

#[test]
fn summaries_clean_commit_noise() {
    let cases = [
        ("* fix ([abc1234](https://x/commit/abc1234))", "fix"),
        (
            "* fix ([#12](https://x/issues/12)) ([abc1234](https://x/c))",
            "fix",
        ),
        (
            "* fix ([abc1234](https://x/c)), closes [#9](https://x/9) [#10](https://x/10)",
            "fix",
        ),
        ("- Add X by @ann in https://github.com/o/r/pull/1", "Add X"),
        ("- 0123abc: Add Y", "Add Y"),
        (
            "- Keep (this) and [links](https://a.b)",
            "Keep (this) and [links](https://a.b)",
        ),
        ("- Mention closes the door", "Mention closes the door"),
        ("1. Numbered", "Numbered"),
    ];
    for (body, expected) in cases {
        assert_eq!(summarize(body), format!("- {expected}"), "{body}");
    }
    assert_eq!(summarize(""), "");
    assert_eq!(
        summarize("### Added\n\nJust a sentence\nover two lines.\n\nSecond."),
        "Just a sentence over two lines."
    );
}

#[test]
fn a_github_release_event() {
    let release = from_github_event(GITHUB_EVENT).expect("event");
    assert_eq!(release.version, "1.2.0");
    assert_eq!(release.title, "Widget 1.2.0: templates");
    assert_eq!(release.date.as_deref(), Some("2026-11-20"));
    assert_eq!(
        release.link.as_deref(),
        Some("https://github.com/acme/widget/releases/tag/v1.2.0")
    );
    assert_eq!(release.project.as_deref(), Some("widget"));
    assert_eq!(
        release.summary,
        "- Add templates\n- Lint drafts against a brand voice\n- Fix the calendar in DST"
    );
    assert!(
        release
            .body_markdown
            .starts_with("## What's Changed\n* Add templates")
    );
    assert!(release.body_markdown.ends_with("compare/v1.1.0...v1.2.0"));
    assert!(!release.body_markdown.contains('\r'));
}

#[test]
fn github_events_that_are_not_releases_are_explained() {
    let cases = [
        ("not json", "not JSON"),
        (
            "{\"action\": \"opened\", \"pull_request\": {}}",
            "no `release` object",
        ),
        ("{\"release\": {\"name\": \"x\"}}", "no `tag_name`"),
        ("{\"release\": \"v1\"}", "no `release` object"),
    ];
    for (json, part) in cases {
        let err = from_github_event(json).expect_err(json);
        assert!(err.to_string().contains(part), "{json}: {err}");
    }
    let minimal = from_github_event("{\"release\": {\"tag_name\": \"cli@2.1.0\", \"body\": null}}")
        .expect("minimal");
    assert_eq!(minimal.version, "2.1.0");
    assert_eq!(minimal.title, "cli@2.1.0");
    assert_eq!(minimal.summary, "");
    assert_eq!(minimal.link, None);
    for (tag, version) in [
        ("v1.0.0", "1.0.0"),
        ("1.0.0", "1.0.0"),
        ("widget-v2.0.0", "2.0.0"),
        ("@acme/widget@3.1.0", "3.1.0"),
        ("refs/tags/v4.0.0", "4.0.0"),
        ("nightly", "nightly"),
    ] {
        assert_eq!(version_from_tag(tag), version, "{tag}");
    }
}

#[test]
fn release_variables_are_under_the_users() {
    let release = section(KEEP_A_CHANGELOG, None).expect("section");
    let user = Variables::layered(
        &["name=postctl".into(), "link=https://x.y".into()],
        None,
        [],
    )
    .expect("vars");
    let vars = release.variables(user);
    let json = vars.as_json();
    assert_eq!(json["name"], "postctl");
    assert_eq!(json["link"], "https://x.y", "a --var wins");
    assert_eq!(json["version"], "1.2.0");
    assert_eq!(json["date"], "2026-11-20");
    assert!(
        json["notes"]
            .as_str()
            .is_some_and(|n| n.starts_with("### Added"))
    );
    let bare = section(CHANGESETS, None)
        .expect("section")
        .variables(Variables::default());
    assert_eq!(bare.as_json()["link"], "");
    assert_eq!(bare.as_json()["name"], "");
}
