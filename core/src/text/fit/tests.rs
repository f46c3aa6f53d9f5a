use super::fit;
use crate::text::count::{Counting, TextLimit};
use crate::text::render::Format;

const FAMILY: &str = "\u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"; // 25 bytes

fn limit(max: usize, counting: Counting) -> TextLimit {
    TextLimit { max, counting }
}

#[test]
fn lengths_as_each_network_measures_them() {
    let url = "https://example.com/a/very/long/path/that/goes/on"; // 49 characters
    let with_url = format!("Read {url}"); // 5 + 49
    let cases: &[(&str, Format, Counting, usize)] = &[
        // Telegram counts what its HTML shows: "<b>bold</b>" is 4.
        ("**bold**", Format::TelegramHtml, Counting::CodePoints, 4),
        // "a &lt; b &amp; c" shows as "a < b & c": 9.
        ("a < b & c", Format::TelegramHtml, Counting::CodePoints, 9),
        // A link shows its text only: "docs".
        (
            "[docs](https://example.com/docs)",
            Format::TelegramHtml,
            Counting::CodePoints,
            4,
        ),
        // Discord counts its Markdown as sent: 8.
        ("**bold**", Format::DiscordMarkdown, Counting::CodePoints, 8),
        // Slack counts the mrkdwn as sent: "*bold*" is 6, "&amp;" 5.
        ("**bold** &", Format::SlackMrkdwn, Counting::CodePoints, 12),
        // Mastodon and X: the URL is 23, plus "Read ".
        (&with_url, Format::Plain, Counting::Mastodon, 28),
        (&with_url, Format::Plain, Counting::XWeighted, 28),
        // Bluesky counts the URL in full.
        (&with_url, Format::Bluesky, Counting::Graphemes, 54),
        // …but a Markdown link shows only its text: "Read docs".
        (
            "Read [docs](https://example.com/docs)",
            Format::Bluesky,
            Counting::Graphemes,
            9,
        ),
        // Plain text spells the link out: "docs (" + 24 + ")" = 31.
        (
            "[docs](https://example.com/docs)",
            Format::Plain,
            Counting::Graphemes,
            31,
        ),
        // Matrix: body "hi" (2) and formatted_body "<strong>hi</strong>" (19).
        ("**hi**", Format::MatrixHtml, Counting::Utf8Bytes, 21),
    ];
    for (markdown, format, counting, expected) in cases {
        let measured = fit(markdown, limit(1000, *counting), *format);
        assert_eq!(
            measured.length, *expected,
            "{format:?} {counting:?} of {markdown:?}"
        );
    }
}

#[test]
fn fits_up_to_the_limit_and_not_beyond() {
    let cases: &[(&str, usize, Counting, Format, bool)] = &[
        ("abcde", 5, Counting::Graphemes, Format::Plain, true),
        ("abcdef", 5, Counting::Graphemes, Format::Plain, false),
        (
            "**abcd**",
            4,
            Counting::CodePoints,
            Format::TelegramHtml,
            true,
        ),
        (
            "**abcd**",
            4,
            Counting::CodePoints,
            Format::DiscordMarkdown,
            false,
        ),
        ("日本語", 6, Counting::XWeighted, Format::Plain, true),
        ("日本語", 5, Counting::XWeighted, Format::Plain, false),
        ("", 0, Counting::Graphemes, Format::Plain, true),
    ];
    for &(markdown, max, counting, format, fits) in cases {
        let result = fit(markdown, limit(max, counting), format);
        assert_eq!(
            result.fits, fits,
            "{markdown:?} in {max} {counting:?} as {format:?}: {result:?}"
        );
        assert_eq!(result.max, max);
        assert_eq!(result.counting, counting);
    }
}

#[test]
fn bluesky_bytes_cap_applies_besides_graphemes() {
    // 120 families: 120 graphemes, 3000 bytes, exactly at the cap.
    let at_cap = FAMILY.repeat(120);
    let result = fit(&at_cap, limit(300, Counting::Graphemes), Format::Bluesky);
    assert_eq!((result.length, result.fits), (120, true));
    // 121 families: 121 graphemes, far under 300, but 3025 bytes.
    let over = FAMILY.repeat(121);
    let result = fit(&over, limit(300, Counting::Graphemes), Format::Bluesky);
    assert_eq!((result.length, result.fits), (121, false));
    // Code points have no byte cap.
    let result = fit(&over, limit(1000, Counting::CodePoints), Format::Plain);
    assert!(result.fits);
}
