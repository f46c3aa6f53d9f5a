use super::{Facet, FacetFeature};
use crate::text::render::{Format, render};

const FAMILY: &str = "\u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"; // 25 bytes

fn link(byte_start: usize, byte_end: usize, uri: &str) -> Facet {
    Facet {
        byte_start,
        byte_end,
        feature: FacetFeature::Link {
            uri: uri.to_owned(),
        },
    }
}

fn mention(byte_start: usize, byte_end: usize, handle: &str) -> Facet {
    Facet {
        byte_start,
        byte_end,
        feature: FacetFeature::Mention {
            handle: handle.to_owned(),
        },
    }
}

fn tag(byte_start: usize, byte_end: usize, tag: &str) -> Facet {
    Facet {
        byte_start,
        byte_end,
        feature: FacetFeature::Tag {
            tag: tag.to_owned(),
        },
    }
}

/// Facets of Bluesky texts with no Markdown in them, so `text` is the input and the
/// byte offsets can be counted on it.
#[test]
fn facets_in_byte_offsets() {
    let family_text = format!("{FAMILY} @alice.bsky.social #rust");
    let cases: Vec<(&str, Vec<Facet>)> = vec![
        // "🎉" is 4 bytes, the space 1: the URL starts at byte 5, not at UTF-16 unit 3.
        (
            "🎉 https://example.com",
            vec![link(5, 24, "https://example.com")],
        ),
        (
            "é https://example.com",
            vec![link(3, 22, "https://example.com")],
        ),
        // 25 + 1 = 26; "@alice.bsky.social" is 18 bytes; then 1 space.
        (
            family_text.as_str(),
            vec![mention(26, 44, "alice.bsky.social"), tag(45, 50, "rust")],
        ),
        ("日本語 #日本", vec![tag(10, 17, "日本")]),
        (
            "see https://example.com/a.",
            vec![link(4, 25, "https://example.com/a")],
        ),
    ];
    for (text, expected) in cases {
        let rendered = render(text, Format::Bluesky);
        assert_eq!(rendered.text, text, "text unchanged");
        assert_eq!(rendered.facets, expected, "facets of {text:?}");
    }
}

#[test]
fn mentions() {
    let cases: Vec<(&str, Vec<Facet>)> = vec![
        (
            "@alice.bsky.social",
            vec![mention(0, 18, "alice.bsky.social")],
        ),
        (
            "hi @Alice.example.com!",
            vec![mention(3, 21, "alice.example.com")],
        ),
        (
            "(@alice.bsky.social)",
            vec![mention(1, 19, "alice.bsky.social")],
        ),
        // The trailing full stop ends the sentence, not the handle.
        (
            "thanks @alice.bsky.social.",
            vec![mention(7, 25, "alice.bsky.social")],
        ),
        // Not handles: no domain, a Mastodon address, an e-mail, a numeric TLD, dashes.
        ("@alice", vec![]),
        ("@alice@example.social", vec![]),
        ("bob@example.com", vec![]),
        ("@host.123", vec![]),
        ("@-bad-.example.com", vec![]),
    ];
    for (text, expected) in cases {
        assert_eq!(render(text, Format::Bluesky).facets, expected, "{text:?}");
    }
}

#[test]
fn hashtags() {
    let long = "a".repeat(65);
    let long_text = format!("#{long}");
    let cases: Vec<(&str, Vec<Facet>)> = vec![
        ("#rust", vec![tag(0, 5, "rust")]),
        ("I like #rust, a lot", vec![tag(7, 12, "rust")]),
        ("#rust!!!", vec![tag(0, 5, "rust")]),
        ("#100DaysOfCode", vec![tag(0, 14, "100DaysOfCode")]),
        ("#c++ is fine", vec![tag(0, 4, "c++")]),
        ("#tag#two", vec![tag(0, 8, "tag#two")]),
        ("＃日本", vec![tag(0, 9, "日本")]),
        // Pure digits or punctuation are not tags.
        ("#123", vec![]),
        ("#1.5", vec![]),
        ("#!!", vec![]),
        // Only after a space or the start.
        ("a#b", vec![]),
        // The keycap emoji "#️⃣" is not a tag.
        ("#\u{FE0F}\u{20E3}", vec![]),
        // Inside a URL the # is the URL's fragment.
        (
            "https://example.com/#anchor",
            vec![link(0, 27, "https://example.com/#anchor")],
        ),
        // A tag is at most 64 graphemes.
        (long_text.as_str(), vec![]),
    ];
    for (text, expected) in cases {
        assert_eq!(render(text, Format::Bluesky).facets, expected, "{text:?}");
    }
}

#[test]
fn facets_come_sorted_and_never_overlap() {
    let text = "#one https://example.com/#two @a.example.com [#three](https://example.org)";
    let facets = render(text, Format::Bluesky).facets;
    let kinds: Vec<&str> = facets
        .iter()
        .map(|facet| match &facet.feature {
            FacetFeature::Link { .. } => "link",
            FacetFeature::Mention { .. } => "mention",
            FacetFeature::Tag { .. } => "tag",
        })
        .collect();
    // The Markdown link's text "#three" is a link, not also a tag.
    assert_eq!(kinds, ["tag", "link", "mention", "link"]);
    for pair in facets.windows(2) {
        assert!(pair[0].byte_end <= pair[1].byte_start, "{pair:?}");
    }
}

#[test]
fn facets_serialize_as_tagged_features() -> Result<(), serde_json::Error> {
    let json = serde_json::to_value(vec![
        link(0, 4, "https://e.com"),
        mention(5, 9, "a.bc"),
        tag(10, 12, "x"),
    ])?;
    assert_eq!(
        json,
        serde_json::json!([
            {"byte_start": 0, "byte_end": 4, "feature": {"type": "link", "uri": "https://e.com"}},
            {"byte_start": 5, "byte_end": 9, "feature": {"type": "mention", "handle": "a.bc"}},
            {"byte_start": 10, "byte_end": 12, "feature": {"type": "tag", "tag": "x"}},
        ])
    );
    Ok(())
}
