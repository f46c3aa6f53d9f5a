use crate::content::changelog::{Release, section};
use crate::content::template::{RELEASE_TEMPLATE_NAME, Variables, builtin};
use crate::text::{Counting, Format, TextLimit, fit};

use super::*;

fn caps(max: usize, counting: Counting, format: Format) -> Capabilities {
    Capabilities {
        limit: TextLimit { max, counting },
        format,
        max_media: 4,
        max_image_bytes: 1_000_000,
        threads: true,
        idempotency: crate::platforms::Idempotency::None,
    }
}

fn mastodon() -> Capabilities {
    caps(500, Counting::Mastodon, Format::Plain)
}
fn bluesky() -> Capabilities {
    caps(300, Counting::Graphemes, Format::Bluesky)
}
fn x() -> Capabilities {
    caps(280, Counting::XWeighted, Format::Plain)
}
fn telegram() -> Capabilities {
    caps(4096, Counting::CodePoints, Format::TelegramHtml)
}

/// Long enough that Bluesky (URLs in full) keeps fewer items than X (URLs count 23).
const LINK: &str = "https://github.com/acme/widget/compare/v1.1.0...v1.2.0?diff=split&w=1#files_bucket_of_the_release_page";

fn release(summary: &str, notes: &str, link: Option<&str>) -> Release {
    Release {
        version: "1.2.0".into(),
        date: Some("2026-11-20".into()),
        title: "1.2.0 - 2026-11-20".into(),
        body_markdown: notes.into(),
        summary: summary.into(),
        link: link.map(String::from),
        project: Some("widget".into()),
    }
}

fn long_notes(items: usize) -> String {
    (1..=items)
        .map(|i| format!("- Change number {i}: a fairly long description of what changed and why it matters to users"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn what_each_network_gets() {
    let notes = long_notes(12);
    let three = long_notes(3);
    let full = release(&three, &notes, Some(LINK));
    let full_output = format!("Widget 1.2.0 is out 🎉\n\n{notes}\n\n{LINK}");
    let short_output = format!("Widget 1.2.0 is out 🎉\n\n- Templates\n\n{LINK}");
    let two = long_notes(2);
    let one = long_notes(1);
    type Case = (&'static str, Release, String, Capabilities, String);
    let cases: Vec<Case> = vec![
        (
            "fits: the template output as it is",
            full.clone(),
            short_output.clone(),
            mastodon(),
            short_output.clone(),
        ),
        (
            "long notes on Telegram still fit",
            full.clone(),
            full_output.clone(),
            telegram(),
            full_output.clone(),
        ),
        (
            "long notes on Mastodon: headline, summary, link",
            full.clone(),
            full_output.clone(),
            mastodon(),
            format!("Widget 1.2.0 is out 🎉\n\n{three}\n\n{LINK}"),
        ),
        (
            "on Bluesky (300, the URL in full): one item",
            full.clone(),
            full_output.clone(),
            bluesky(),
            format!("Widget 1.2.0 is out 🎉\n\n{one}\n\n{LINK}"),
        ),
        (
            "on X (280, the URL counts 23): two items",
            full.clone(),
            full_output.clone(),
            x(),
            format!("Widget 1.2.0 is out 🎉\n\n{two}\n\n{LINK}"),
        ),
        (
            "no link: the summary alone",
            release(&three, &notes, None),
            format!("Widget 1.2.0 is out 🎉\n\n{notes}"),
            mastodon(),
            format!("Widget 1.2.0 is out 🎉\n\n{three}"),
        ),
        (
            "output that starts with the notes: the title is the headline",
            full.clone(),
            format!("{notes}\n\n{LINK}"),
            mastodon(),
            format!("1.2.0 - 2026-11-20\n\n{three}\n\n{LINK}"),
        ),
    ];
    for (what, release, output, caps, expected) in cases {
        let got = fit_for(&release, &output, &caps);
        assert_eq!(got, expected, "{what}");
        assert!(
            fit(&got, caps.limit, caps.format).fits,
            "{what}: does not fit"
        );
    }
}

#[test]
fn an_item_too_long_for_any_network_is_cut_at_a_word_and_the_link_kept() {
    let item = format!("- {}", "word ".repeat(200).trim());
    let release = release(&item, &item, Some(LINK));
    let output = format!("Widget 1.2.0 is out\n\n{item}\n\n{LINK}");
    for caps in [mastodon(), bluesky(), x()] {
        let got = fit_for(&release, &output, &caps);
        assert!(fit(&got, caps.limit, caps.format).fits, "{got}");
        assert!(
            got.starts_with("Widget 1.2.0 is out\n\n- word word"),
            "{got}"
        );
        assert!(got.ends_with(&format!("word…\n\n{LINK}")), "{got}");
        // As long as it can be: one more word would not fit.
        let longer = got.replacen("word…", "word word…", 1);
        assert!(!fit(&longer, caps.limit, caps.format).fits, "{got}");
    }
}

#[test]
fn when_nothing_else_fits_the_first_thread_part() {
    let headline = "H".repeat(400);
    let release = release("", "", None);
    let output = format!("{headline}\n\nmore");
    let got = fit_for(&release, &output, &bluesky());
    assert!(fit(&got, bluesky().limit, bluesky().format).fits, "{got}");
    assert!(!got.is_empty());
}

#[test]
fn the_built_in_template_through_announcement() {
    let text = include_str!("../changelog/fixtures/keep-a-changelog.md");
    let release = section(text, None).expect("section");
    let template = builtin(RELEASE_TEMPLATE_NAME).expect("builtin");
    let user = Variables::layered(&["name=postctl".to_string()], None, []).expect("vars");
    let got = announcement(
        &release,
        &template,
        Network::Mastodon,
        &mastodon(),
        user.clone(),
    )
    .expect("announce");
    assert!(
        got.starts_with("postctl 1.2.0 is out 🎉\n\n- Templates:"),
        "{got}"
    );
    assert!(
        got.ends_with("https://github.com/postctl/postctl/compare/v1.1.1...v1.2.0"),
        "{got}"
    );
    let short =
        announcement(&release, &template, Network::Bluesky, &bluesky(), user).expect("announce");
    assert!(
        fit(&short, bluesky().limit, bluesky().format).fits,
        "{short}"
    );
    assert!(short.starts_with("postctl 1.2.0 is out 🎉"), "{short}");
    assert!(short.ends_with("compare/v1.1.1...v1.2.0"), "{short}");
    let err = announcement(
        &release,
        &Template::new("custom", "{{ codename }}", []).expect("template"),
        Network::Bluesky,
        &bluesky(),
        Variables::default(),
    )
    .expect_err("missing");
    assert!(err.to_string().contains("--var codename=VALUE"), "{err}");
}

#[test]
fn the_project_comes_from_github_repository() {
    let lookup = |value: &'static str| {
        move |name: &str| (name == "GITHUB_REPOSITORY").then(|| value.to_string())
    };
    assert_eq!(
        project_from_env(lookup("acme/widget")).as_deref(),
        Some("widget")
    );
    assert_eq!(project_from_env(lookup("")), None);
    assert_eq!(project_from_env(|_| None), None);
}
