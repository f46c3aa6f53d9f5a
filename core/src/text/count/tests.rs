use super::{Counting, count};

const FAMILY: &str = "\u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"; // 👩‍👩‍👧‍👦
const THUMBS_MEDIUM: &str = "\u{1F44D}\u{1F3FD}"; // 👍🏽
const FLAG_DE: &str = "\u{1F1E9}\u{1F1EA}"; // 🇩🇪
const KEYCAP_ONE: &str = "1\u{FE0F}\u{20E3}"; // 1️⃣
const E_COMBINING: &str = "e\u{301}"; // é as e + COMBINING ACUTE ACCENT
/// 49 characters: "https://" (8) + "example.com" (11) + "/a/very/long/path/that/goes/on" (30).
const LONG_URL: &str = "https://example.com/a/very/long/path/that/goes/on";

/// One row per text: its length in graphemes, code points, UTF-8 bytes, X weight and
/// Mastodon characters, each worked out by hand.
struct Row {
    text: &'static str,
    graphemes: usize,
    code_points: usize,
    bytes: usize,
    x: usize,
    mastodon: usize,
}

#[test]
fn lengths_per_network() {
    let rows = [
        Row {
            text: "hello",
            graphemes: 5,
            code_points: 5,
            bytes: 5,
            x: 5,
            mastodon: 5,
        },
        Row {
            text: "",
            graphemes: 0,
            code_points: 0,
            bytes: 0,
            x: 0,
            mastodon: 0,
        },
        // ZWJ family: 4 people + 3 ZWJ = 7 code points; 4×4 + 3×3 = 25 bytes.
        Row {
            text: FAMILY,
            graphemes: 1,
            code_points: 7,
            bytes: 25,
            x: 2,
            mastodon: 1,
        },
        // Skin tone: 2 code points of 4 bytes.
        Row {
            text: THUMBS_MEDIUM,
            graphemes: 1,
            code_points: 2,
            bytes: 8,
            x: 2,
            mastodon: 1,
        },
        // Flag: two regional indicators of 4 bytes.
        Row {
            text: FLAG_DE,
            graphemes: 1,
            code_points: 2,
            bytes: 8,
            x: 2,
            mastodon: 1,
        },
        // Keycap: '1' (1 byte) + U+FE0F (3) + U+20E3 (3). Per code point X would say 5.
        Row {
            text: KEYCAP_ONE,
            graphemes: 1,
            code_points: 3,
            bytes: 7,
            x: 2,
            mastodon: 1,
        },
        // CJK: 3 bytes each, weight 2 each.
        Row {
            text: "日本語",
            graphemes: 3,
            code_points: 3,
            bytes: 9,
            x: 6,
            mastodon: 3,
        },
        // Hangul is outside the light ranges too.
        Row {
            text: "한국",
            graphemes: 2,
            code_points: 2,
            bytes: 6,
            x: 4,
            mastodon: 2,
        },
        // Cyrillic (U+04xx) and the em dash (U+2014) weigh 1.
        Row {
            text: "Привет—",
            graphemes: 7,
            code_points: 7,
            bytes: 15,
            x: 7,
            mastodon: 7,
        },
        // Combining mark: NFC composes it to U+00E9, which weighs 1 on X.
        Row {
            text: E_COMBINING,
            graphemes: 1,
            code_points: 2,
            bytes: 3,
            x: 1,
            mastodon: 1,
        },
        // Text around an emoji.
        Row {
            text: "hi 👩‍👩‍👧‍👦!",
            graphemes: 5,
            code_points: 11,
            bytes: 29,
            x: 6,
            mastodon: 5,
        },
        // A URL counts 23 on X and Mastodon, in full elsewhere.
        Row {
            text: LONG_URL,
            graphemes: 49,
            code_points: 49,
            bytes: 49,
            x: 23,
            mastodon: 23,
        },
        // "Read " (5) + URL + " now" (4).
        Row {
            text: "Read https://example.com/a/very/long/path/that/goes/on now",
            graphemes: 58,
            code_points: 58,
            bytes: 58,
            x: 32,
            mastodon: 32,
        },
        // A short URL is still 23: "https://t.co" is 12 characters.
        Row {
            text: "https://t.co",
            graphemes: 12,
            code_points: 12,
            bytes: 12,
            x: 23,
            mastodon: 23,
        },
        // The full stop after a URL is text: 4 + 23 + 1.
        Row {
            text: "see https://example.com.",
            graphemes: 24,
            code_points: 24,
            bytes: 24,
            x: 28,
            mastodon: 28,
        },
        // A bare domain is a link on X only.
        Row {
            text: "example.com",
            graphemes: 11,
            code_points: 11,
            bytes: 11,
            x: 23,
            mastodon: 11,
        },
        // Mastodon does not count a mention's domain: "@alice".
        Row {
            text: "@alice@example.social",
            graphemes: 21,
            code_points: 21,
            bytes: 21,
            x: 21,
            mastodon: 6,
        },
        // "hi " + "@alice" + "!".
        Row {
            text: "hi @alice@example.social!",
            graphemes: 25,
            code_points: 25,
            bytes: 25,
            x: 25,
            mastodon: 10,
        },
        // An e-mail address is not a mention.
        Row {
            text: "bob@example.com",
            graphemes: 15,
            code_points: 15,
            bytes: 15,
            x: 15,
            mastodon: 15,
        },
    ];
    for row in rows {
        let text = row.text;
        assert_eq!(
            count(text, Counting::Graphemes),
            row.graphemes,
            "graphemes of {text:?}"
        );
        assert_eq!(
            count(text, Counting::CodePoints),
            row.code_points,
            "code points of {text:?}"
        );
        assert_eq!(
            count(text, Counting::Utf8Bytes),
            row.bytes,
            "bytes of {text:?}"
        );
        assert_eq!(
            count(text, Counting::XWeighted),
            row.x,
            "X weight of {text:?}"
        );
        assert_eq!(
            count(text, Counting::Mastodon),
            row.mastodon,
            "Mastodon length of {text:?}"
        );
    }
}

#[test]
fn x_weights_a_280_character_limit_the_way_x_does() {
    // 140 CJK characters fill an X post; 141 do not.
    assert_eq!(count(&"字".repeat(140), Counting::XWeighted), 280);
    assert_eq!(count(&"字".repeat(141), Counting::XWeighted), 282);
    // 140 family emoji weigh 280, though they are 980 code points.
    assert_eq!(count(&FAMILY.repeat(140), Counting::XWeighted), 280);
    // Two URLs and the space between them: 23 + 1 + 23.
    assert_eq!(
        count(
            "https://a.example.com/x https://b.example.org/y",
            Counting::XWeighted
        ),
        47
    );
}

#[test]
fn mastodon_mentions() {
    let cases = [
        ("@alice", 6),
        ("@alice@example.social", 6),
        // The domain ends on a word character: the full stop is text.
        ("@alice@example.social.", 7),
        // Inside a URL the @ is part of the URL: 23.
        ("https://example.social/@alice@example.social", 23),
        // After '=' or a word character it is not a mention.
        ("x=@alice@example.social", 23),
        ("me@alice@example.social", 23),
    ];
    for (text, expected) in cases {
        assert_eq!(count(text, Counting::Mastodon), expected, "{text:?}");
    }
}

#[test]
fn threads_counts_characters_and_an_emoji_as_its_utf8_bytes() {
    let cases = [
        ("hello", 5),
        // Accented letters and CJK are one character each.
        ("café 字", 6),
        // A 4-byte emoji costs 4; a heart with its presentation selector 3 + 3.
        ("🎉", 4),
        ("ok 🎉", 7),
        ("❤️", 6),
        // A ZWJ family: all 25 of its bytes.
        (FAMILY, FAMILY.len()),
        // A flag: two regional indicators, 8 bytes.
        ("🇫🇷", 8),
        // A letter with a combining accent is still characters.
        ("e\u{301}", 2),
    ];
    for (text, expected) in cases {
        assert_eq!(count(text, Counting::EmojiBytes), expected, "{text:?}");
    }
    // 500 characters fill a Threads post; 125 party poppers do too.
    assert_eq!(count(&"a".repeat(500), Counting::EmojiBytes), 500);
    assert_eq!(count(&"🎉".repeat(125), Counting::EmojiBytes), 500);
}
