use super::split;
use crate::text::count::{Counting, TextLimit};
use crate::text::fit::fit;
use crate::text::render::{Format, render};

const FAMILY: &str = "\u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"; // 25 bytes

fn graphemes(max: usize) -> TextLimit {
    TextLimit {
        max,
        counting: Counting::Graphemes,
    }
}

/// Each case: the source, the limit, the format, numbered, and the parts worked out by
/// hand from the rules (best boundary first, then as much as fits).
#[test]
fn splits_at_the_best_boundary_that_fits() {
    let cases: &[(&str, TextLimit, Format, bool, &[&str])] = &[
        // Fits: one part, trimmed, never numbered.
        (
            "Short post.",
            graphemes(280),
            Format::Plain,
            true,
            &["Short post."],
        ),
        (
            "  Short post.  \n",
            graphemes(11),
            Format::Plain,
            false,
            &["Short post."],
        ),
        // Paragraphs (16 and 17 graphemes; 35 together).
        (
            "First paragraph.\n\nSecond paragraph.",
            graphemes(20),
            Format::Plain,
            false,
            &["First paragraph.", "Second paragraph."],
        ),
        // A paragraph break is taken even when a fuller part could be cut by words;
        // the long paragraph (30) is then cut by words.
        (
            "One.\n\nTwo three four five six seven.",
            graphemes(20),
            Format::Plain,
            false,
            &["One.", "Two three four five", "six seven."],
        ),
        // A sentence end before a fuller word break: not "It works. Ship it".
        (
            "It works. Ship it now please",
            graphemes(20),
            Format::Plain,
            false,
            &["It works.", "Ship it now please"],
        ),
        // Sentence ends behind quotes and emphasis.
        (
            "**Done.** Next one here",
            graphemes(15),
            Format::Plain,
            false,
            &["**Done.**", "Next one here"],
        ),
        // CJK sentences have no space after "。".
        (
            "これは文です。次の文です。",
            graphemes(8),
            Format::Plain,
            false,
            &["これは文です。", "次の文です。"],
        ),
        // Lines of a list, never cut right after a marker: "• one\n• two" is 11.
        (
            "- one\n- two\n- three",
            graphemes(12),
            Format::Plain,
            false,
            &["- one\n- two", "- three"],
        ),
        (
            "1. one\n2. two\n3. three",
            graphemes(13),
            Format::Plain,
            false,
            &["1. one\n2. two", "3. three"],
        ),
        // Words; the second part is exactly 11.
        (
            "alpha beta gamma delta",
            graphemes(11),
            Format::Plain,
            false,
            &["alpha beta", "gamma delta"],
        ),
        // Exactly at the limit fits; one under does not.
        (
            "abcde fghij",
            graphemes(11),
            Format::Plain,
            false,
            &["abcde fghij"],
        ),
        (
            "abcde fghij",
            graphemes(10),
            Format::Plain,
            false,
            &["abcde", "fghij"],
        ),
        // Graphemes only for a word longer than a part.
        (
            "abcdefghij",
            graphemes(4),
            Format::Plain,
            false,
            &["abcd", "efgh", "ij"],
        ),
        (
            "hi abcdefghij",
            graphemes(4),
            Format::Plain,
            false,
            &["hi", "abcd", "efgh", "ij"],
        ),
        // A family emoji is one grapheme and is never cut.
        (
            "👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦",
            graphemes(2),
            Format::Plain,
            false,
            &["👩‍👩‍👧‍👦👩‍👩‍👧‍👦", "👩‍👩‍👧‍👦"],
        ),
        // A URL (34) stays whole: the part before it ends at "this" (9), and the URL
        // starts the next part, which is exactly 40.
        (
            "Read this https://example.com/some/long/path today",
            graphemes(40),
            Format::Plain,
            false,
            &["Read this", "https://example.com/some/long/path today"],
        ),
        // …unless the URL alone does not fit.
        (
            "https://example.com/abcdefgh",
            graphemes(20),
            Format::Plain,
            false,
            &["https://example.com/", "abcdefgh"],
        ),
        // Mastodon counts the URL as 23: 5 + 23 = 28 fits in 30.
        (
            "Look https://example.com/a/very/long/path/that/goes/on",
            TextLimit {
                max: 30,
                counting: Counting::Mastodon,
            },
            Format::Plain,
            false,
            &["Look https://example.com/a/very/long/path/that/goes/on"],
        ),
        // Telegram counts the visible text: "abcd efgh" is 9.
        (
            "**abcd** **efgh**",
            TextLimit {
                max: 9,
                counting: Counting::CodePoints,
            },
            Format::TelegramHtml,
            false,
            &["**abcd** **efgh**"],
        ),
        (
            "**abcd** **efgh**",
            TextLimit {
                max: 4,
                counting: Counting::CodePoints,
            },
            Format::TelegramHtml,
            false,
            &["**abcd**", "**efgh**"],
        ),
        // Not inside a Markdown link's text while a space outside it will do: Bluesky
        // shows "Intro text read notes end"; "Intro text [read" would fit but breaks the link.
        (
            "Intro text [read notes](https://example.com/n) end",
            graphemes(20),
            Format::Bluesky,
            false,
            &["Intro text", "[read notes](https://example.com/n) end"],
        ),
        // X: 150 CJK characters weigh 300; 140 fill a post.
        (
            &"日本語".repeat(50),
            TextLimit {
                max: 280,
                counting: Counting::XWeighted,
            },
            Format::Plain,
            false,
            &[&"日本語".repeat(50)[..420], &"日本語".repeat(50)[420..]],
        ),
        // Blank lines between paragraphs never make an empty part.
        (
            "a\n\n\n\nb",
            graphemes(1),
            Format::Plain,
            false,
            &["a", "b"],
        ),
        // Numbered: "First paragraph. 1/2" is 20, "Second paragraph. 2/2" 21.
        (
            "First paragraph.\n\nSecond paragraph.",
            graphemes(21),
            Format::Plain,
            true,
            &["First paragraph. 1/2", "Second paragraph. 2/2"],
        ),
        // The number after a closing code fence goes on its own paragraph:
        // "let a = 1;\n\n1/2" is 15.
        (
            "```\nlet a = 1;\n```\n\nThen more.",
            graphemes(15),
            Format::Plain,
            true,
            &["```\nlet a = 1;\n```\n\n1/2", "Then more. 2/2"],
        ),
        // Nothing to post.
        ("", graphemes(10), Format::Plain, true, &[]),
        (" \n\n ", graphemes(10), Format::Plain, false, &[]),
    ];
    for (source, limit, format, numbered, expected) in cases {
        let parts = split(source, *limit, *format, *numbered);
        assert_eq!(
            parts, *expected,
            "{source:?} in {limit:?} as {format:?}, numbered {numbered}"
        );
    }
}

#[test]
fn numbering_width_counts_when_there_are_ten_parts_or_more() {
    // 24 one-letter words in 7: with " 9/9" reserved a part holds "a a" (12 parts),
    // too many for one digit; with " 99/99" reserved it holds "a": 24 parts.
    let source = vec!["a"; 24].join(" ");
    let limit = graphemes(7);
    let parts = split(&source, limit, Format::Plain, true);
    assert_eq!(parts.len(), 24);
    assert_eq!(parts[0], "a 1/24");
    assert_eq!(parts[23], "a 24/24");
    for part in &parts {
        assert!(fit(part, limit, Format::Plain).fits, "{part:?}");
    }
}

#[test]
fn bluesky_parts_stay_under_the_byte_cap() {
    // 150 families: 150 graphemes, well under 300, but 3750 bytes; 120 make 3000.
    let source = FAMILY.repeat(150);
    let parts = split(&source, graphemes(300), Format::Bluesky, false);
    assert_eq!(parts, [FAMILY.repeat(120), FAMILY.repeat(30)]);
}

#[test]
fn every_part_fits_is_trimmed_and_rejoins_to_the_source() {
    let source = "# Release 1.2\n\nThis release adds **threads** for Bluesky and Mastodon, and \
        fixes a crash when a [very long link text that goes on](https://example.com/notes/1.2) \
        was posted. It also counts 👩‍👩‍👧‍👦 right.\n\n- faster start\n- smaller binary\n- \
        https://example.com/a/long/url/kept/whole\n\nThanks \
        @alice.bsky.social and #rust folks! 日本語のテキストも正しく数えます。次の文。";
    let networks = [
        (
            TextLimit {
                max: 60,
                counting: Counting::XWeighted,
            },
            Format::Plain,
        ),
        (
            TextLimit {
                max: 60,
                counting: Counting::Mastodon,
            },
            Format::Plain,
        ),
        (
            TextLimit {
                max: 60,
                counting: Counting::Graphemes,
            },
            Format::Bluesky,
        ),
        (
            TextLimit {
                max: 60,
                counting: Counting::CodePoints,
            },
            Format::TelegramHtml,
        ),
        (
            TextLimit {
                max: 60,
                counting: Counting::CodePoints,
            },
            Format::DiscordMarkdown,
        ),
        (
            TextLimit {
                max: 80,
                counting: Counting::CodePoints,
            },
            Format::SlackMrkdwn,
        ),
        (
            TextLimit {
                max: 200,
                counting: Counting::Utf8Bytes,
            },
            Format::MatrixHtml,
        ),
    ];
    // Parts may be cut without a space (CJK), so compare everything but whitespace.
    let letters = |text: &str| {
        text.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
    };
    for (limit, format) in networks {
        for numbered in [false, true] {
            let parts = split(source, limit, format, numbered);
            assert!(parts.len() > 1, "{format:?} should need a thread");
            for part in &parts {
                assert!(!part.is_empty());
                assert_eq!(part.trim(), part);
                let measured = fit(part, limit, format);
                assert!(
                    measured.fits,
                    "{format:?}: {part:?} renders as {:?}: {measured:?}",
                    render(part, format).text
                );
            }
            if !numbered {
                assert_eq!(
                    letters(&parts.concat()),
                    letters(source),
                    "{format:?} lost or changed text"
                );
            }
            let url = "https://example.com/a/long/url/kept/whole";
            assert!(
                parts.iter().any(|part| part.contains(url)),
                "{format:?} cut the URL: {parts:#?}"
            );
        }
    }
}
