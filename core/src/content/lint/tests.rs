use super::*;
use crate::content::voice::VoiceChange;

fn voice(change: VoiceChange) -> Voice {
    Voice::default().changed(change).expect("voice")
}

fn avoid(words: &[&str]) -> Voice {
    voice(VoiceChange {
        avoid: Some(words.iter().map(|w| w.to_string()).collect()),
        ..VoiceChange::default()
    })
}

/// (rule, level, line, column) of each finding.
fn summary(report: &Report) -> Vec<(&'static str, Level, Option<usize>, Option<usize>)> {
    report
        .findings
        .iter()
        .map(|f| (f.rule, f.level, f.line, f.column))
        .collect()
}

#[test]
fn avoided_words_are_found_as_whole_words_with_their_position() {
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(usize, usize)],
    );
    let cases: &[Case] = &[
        ("We love synergy.", &["synergy"], &[(1, 9)]),
        ("SYNERGY and Synergy", &["synergy"], &[(1, 1), (1, 13)]),
        ("synergies are fine", &["synergy"], &[]),
        ("a synergy's worth", &["synergy"], &[(1, 3)]),
        (
            "first line\nlet's circle\n  back soon",
            &["circle back"],
            &[(2, 7)],
        ),
        ("no circles back", &["circle back"], &[]),
        ("see https://example.com/leverage-guide", &["leverage"], &[]),
        ("(leverage) it", &["leverage"], &[(1, 2)]),
        ("Ünïcode naïve wörds: naïve", &["naïve"], &[(1, 9), (1, 22)]),
        ("emoji 🎉 then synergy", &["synergy"], &[(1, 14)]),
        (
            "two words: leverage, synergy",
            &["synergy", "leverage"],
            &[(1, 12), (1, 22)],
        ),
    ];
    for (text, words, positions) in cases {
        let report = lint(text, Some(("brand", &avoid(words))), &[]);
        let got: Vec<(usize, usize)> = report
            .findings
            .iter()
            .map(|f| (f.line.unwrap_or(0), f.column.unwrap_or(0)))
            .collect();
        assert_eq!(got, *positions, "{text:?}");
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.rule == "avoid" && f.level == Level::Error)
        );
        assert_eq!(report.passed(), positions.is_empty(), "{text:?}");
    }
    let report = lint(
        "We LOVE Synergy",
        Some(("brand", &avoid(&["synergy"]))),
        &[],
    );
    assert_eq!(
        report.findings[0].message,
        "\"Synergy\": the brand voice avoids this word; reword it"
    );
}

#[test]
fn hashtag_and_emoji_policies() {
    let required = voice(VoiceChange {
        hashtags: Some("#rust #cli".into()),
        hashtag_policy: Some(HashtagPolicy::Required),
        ..VoiceChange::default()
    });
    let no_tags = voice(VoiceChange {
        hashtag_policy: Some(HashtagPolicy::None),
        ..VoiceChange::default()
    });
    let no_emoji = voice(VoiceChange {
        emoji: Some(EmojiPolicy::None),
        ..VoiceChange::default()
    });
    let two_emoji = voice(VoiceChange {
        emoji: Some(EmojiPolicy::Max(2)),
        ..VoiceChange::default()
    });
    type Expected = &'static [(&'static str, Option<usize>, Option<usize>)];
    let cases: Vec<(&str, &Voice, &str, Expected)> = vec![
        (
            "all required tags",
            &required,
            "Shipped #Rust and #cli",
            &[],
        ),
        (
            "one required tag missing",
            &required,
            "Shipped #rust",
            &[("hashtag-required", None, None)],
        ),
        (
            "a tag inside a URL or a heading is not a tag",
            &required,
            "# Heading\nhttps://x.y/#rust and C# and &#35; and #123",
            &[
                ("hashtag-required", None, None),
                ("hashtag-required", None, None),
            ],
        ),
        (
            "no tags, none given",
            &no_tags,
            "Plain text, issue #42",
            &[],
        ),
        (
            "no tags: each one found",
            &no_tags,
            "Launch #today\nwith #friends",
            &[
                ("hashtag-none", Some(1), Some(8)),
                ("hashtag-none", Some(2), Some(6)),
            ],
        ),
        (
            "no emoji, none given",
            &no_emoji,
            "Plain ✓ text ★ © 2026",
            &[],
        ),
        (
            "no emoji: each one, flags and ZWJ sequences count once",
            &no_emoji,
            "Out 🎉\n🇩🇪 and 👩‍👩‍👧 ❤️ ✨",
            &[
                ("emoji", Some(1), Some(5)),
                ("emoji", Some(2), Some(1)),
                ("emoji", Some(2), Some(7)),
                ("emoji", Some(2), Some(9)),
                ("emoji", Some(2), Some(11)),
            ],
        ),
        ("two emoji allowed", &two_emoji, "🎉 🚀", &[]),
        (
            "three emoji, two allowed: found at the third",
            &two_emoji,
            "🎉 🚀 go ✨",
            &[("emoji", Some(1), Some(8))],
        ),
    ];
    for (what, voice, text, expected) in cases {
        let report = lint(text, Some(("brand", voice)), &[]);
        let got: Vec<(&str, Option<usize>, Option<usize>)> = report
            .findings
            .iter()
            .map(|f| (f.rule, f.line, f.column))
            .collect();
        assert_eq!(got, expected, "{what}");
        assert_eq!(report.errors, expected.len(), "{what}");
    }
    let report = lint("🎉 🚀 go ✨", Some(("brand", &two_emoji)), &[]);
    assert_eq!(
        report.findings[0].message,
        "3 emoji (🎉 🚀 ✨): the brand voice allows at most 2; remove 1"
    );
    let report = lint("Shipped", Some(("brand", &required)), &[]);
    assert_eq!(
        report.findings[0].message,
        "#rust is missing: the brand voice requires #rust #cli; add it"
    );
}

#[test]
fn preferred_words_warn_only_when_none_appear() {
    let prefers = voice(VoiceChange {
        use_words: Some(vec!["ship".into(), "release".into()]),
        ..VoiceChange::default()
    });
    let report = lint("We ship today", Some(("brand", &prefers)), &[]);
    assert!(report.findings.is_empty());
    let report = lint("We launch today", Some(("brand", &prefers)), &[]);
    assert_eq!(summary(&report), [("use", Level::Warning, None, None)]);
    assert!(report.passed(), "a warning does not fail");
    assert_eq!(report.warnings, 1);
}

#[test]
fn lengths_per_network_counted_their_way() {
    let to = |account: &str, network| Destination {
        account: account.into(),
        network,
        capabilities: None,
    };
    let destinations = [
        to("masto", Network::Mastodon),
        to("bsky", Network::Bluesky),
        to("x", Network::X),
        to("dc", Network::Discord),
        to("tg", Network::Telegram),
        to("vk", Network::Vk),
        to("li", Network::Linkedin),
    ];
    // 280 graphemes plus a 60-character URL: 280 + 23 on Mastodon and X, 341 on Bluesky.
    let url = format!("https://example.com/{}", "a".repeat(40));
    let text = format!("{} {url}", "word ".repeat(56).trim_end());
    let report = lint(&text, None, &destinations);
    let lengths: Vec<(&str, usize, usize, bool, usize)> = report
        .lengths
        .iter()
        .map(|l| (l.account.as_str(), l.length, l.max, l.fits, l.parts))
        .collect();
    assert_eq!(
        lengths,
        [
            ("masto", 303, 500, true, 1),
            ("bsky", 340, 300, false, 2),
            ("x", 303, 280, false, 2),
            ("dc", 340, 2000, true, 1),
            ("tg", 340, 4096, true, 1),
            ("vk", 340, 16_384, true, 1),
        ]
    );
    assert_eq!(report.unchecked, ["li"]);
    assert_eq!(
        summary(&report),
        [
            ("length", Level::Warning, None, None),
            ("length", Level::Warning, None, None)
        ]
    );
    assert!(report.passed(), "a thread is a warning");
    assert_eq!(
        report.findings[0].message,
        "bsky (Bluesky): 340 characters, over the limit of 300; it would be posted as a thread of 2 (shorten it to post it whole)"
    );
    let long = "x ".repeat(1100);
    let report = lint(&long, None, &[to("dc", Network::Discord)]);
    assert_eq!(summary(&report), [("length", Level::Error, None, None)]);
    assert!(
        report.findings[0]
            .message
            .contains("Discord webhooks cannot thread")
    );
    assert!(!report.passed());
}

#[test]
fn errors_come_before_warnings() {
    let both = voice(VoiceChange {
        avoid: Some(vec!["synergy".into()]),
        use_words: Some(vec!["ship".into()]),
        ..VoiceChange::default()
    });
    let report = lint("Synergy!", Some(("brand", &both)), &[]);
    assert_eq!(
        summary(&report),
        [
            ("avoid", Level::Error, Some(1), Some(1)),
            ("use", Level::Warning, None, None)
        ]
    );
    assert_eq!((report.errors, report.warnings), (1, 1));
    assert_eq!(report.voice.as_deref(), Some("brand"));
}

#[test]
fn an_accounts_own_limits_count_before_its_networks_defaults() {
    let instance = crate::platforms::defaults(Network::Mastodon).map(|caps| Capabilities {
        limit: crate::text::TextLimit {
            max: 1000,
            ..caps.limit
        },
        ..caps
    });
    let text = "a".repeat(600);
    let destinations = [
        Destination {
            account: "big".into(),
            network: Network::Mastodon,
            capabilities: instance,
        },
        Destination {
            account: "usual".into(),
            network: Network::Mastodon,
            capabilities: None,
        },
    ];
    let report = lint(&text, None, &destinations);
    let lengths: Vec<(&str, usize, bool)> = report
        .lengths
        .iter()
        .map(|l| (l.account.as_str(), l.max, l.fits))
        .collect();
    assert_eq!(lengths, [("big", 1000, true), ("usual", 500, false)]);
}
