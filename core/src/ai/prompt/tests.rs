use super::*;

fn voice() -> Voice {
    Voice {
        tone: Some("warm, precise".into()),
        audience: Some("Rust developers".into()),
        use_words: vec!["fast".into()],
        avoid: vec!["synergy".into(), "revolutionary".into()],
        hashtags: vec!["#RustLang".into()],
        hashtag_policy: HashtagPolicy::Required,
        emoji: EmojiPolicy::Max(1),
        language: Some("en-GB".into()),
    }
}

#[test]
fn the_draft_prompt_carries_voice_length_variants_and_material() {
    let voice = voice();
    let prompt = drafts(&Brief {
        request: "announce the v2 release",
        source: Some("## [2.0.0]\n- Faster sync"),
        voice: Some(("brand", &voice)),
        networks: &[Network::Mastodon, Network::Bluesky, Network::Discord],
        variants: 3,
    });
    for needle in [
        "Mastodon, Bluesky and Discord",
        "at most 300 characters",
        "Bluesky's limit of 300",
        "warm, precise",
        "Rust developers",
        "Never use these words: synergy, revolutionary",
        "all of these hashtags: #RustLang",
        "at most 1 emoji",
        "en-GB",
    ] {
        assert!(
            prompt.system.contains(needle),
            "{needle:?} not in {}",
            prompt.system
        );
    }
    for needle in [
        "announce the v2 release",
        "3 different variants",
        SEPARATOR,
        "Faster sync",
    ] {
        assert!(
            prompt.user.contains(needle),
            "{needle:?} not in {}",
            prompt.user
        );
    }
}

#[test]
fn one_variant_asks_for_no_separator_and_no_networks_no_length() {
    let prompt = drafts(&Brief {
        request: "hello",
        source: None,
        voice: None,
        networks: &[],
        variants: 1,
    });
    assert!(!prompt.user.contains(SEPARATOR));
    assert!(!prompt.system.contains("at most"));
    assert!(!prompt.user.contains("<material>"));
}

#[test]
fn shorten_aims_under_the_limit() {
    let prompt = shorten("long text", None, Network::Bluesky, 340, 300);
    assert!(prompt.user.contains("340 characters"));
    assert!(prompt.user.contains("at most 300"));
    assert!(prompt.user.contains("at most 270"));
    assert!(prompt.user.contains("long text"));
}

#[test]
fn rewrite_names_the_network_and_the_instruction() {
    let prompt = rewrite("text", None, Network::Bluesky, Some("be playful"));
    assert!(prompt.user.contains("for Bluesky"));
    assert!(prompt.user.contains("be playful"));
    assert!(prompt.system.contains("at most 300"));
}

#[test]
fn variants_are_split_and_cleaned() {
    let cases: [(&str, &[&str]); 6] = [
        ("one\n%%%\ntwo\n%%%\nthree", &["one", "two", "three"]),
        ("one\n  %%%  \n\n%%%\ntwo\n", &["one", "two"]),
        (
            "Variant 1:\nfirst post\n%%%\n**Variant 2**\nsecond",
            &["first post", "second"],
        ),
        (
            "\"quoted post\"\n%%%\n\u{201c}curly\u{201d}",
            &["quoted post", "curly"],
        ),
        ("\"two\" quotes \"inside\"", &["\"two\" quotes \"inside\""]),
        ("multi\nline\n\npost", &["multi\nline\n\npost"]),
    ];
    for (answer, expected) in cases {
        assert_eq!(split_variants(answer), expected, "{answer:?}");
    }
}

#[test]
fn hashtags_are_read_from_lines_and_deduplicated() {
    let cases: [(&str, usize, &[&str]); 5] = [
        (
            "#RustLang\n#OpenSource\n#CLI",
            5,
            &["#RustLang", "#OpenSource", "#CLI"],
        ),
        ("- #rust, #Rust\n1. #sqlite!", 5, &["#rust", "#sqlite"]),
        ("Here are some: #a #b #c", 2, &["#a", "#b"]),
        (
            "selfhosted\nnot a tag line\n#2024\n#day_1",
            5,
            &["#selfhosted", "#day_1"],
        ),
        ("#café #日本", 5, &["#café", "#日本"]),
    ];
    for (answer, max, expected) in cases {
        assert_eq!(parse_hashtags(answer, max), expected, "{answer:?}");
    }
}

#[test]
fn strictest_ignores_networks_without_a_known_limit() {
    assert_eq!(
        strictest(&[Network::Telegram, Network::Linkedin, Network::X]),
        Some((Network::X, 280))
    );
    assert_eq!(strictest(&[Network::Linkedin]), None);
}
