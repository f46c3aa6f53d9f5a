use super::*;
use crate::config::default_config_text;

fn brand() -> Voice {
    Voice::default()
        .changed(VoiceChange {
            tone: Some("friendly, plain".into()),
            audience: Some("developers".into()),
            use_words: Some(vec!["ship".into(), "release".into()]),
            avoid: Some(vec!["synergy".into(), "circle  back".into()]),
            hashtags: Some("#rust cli".into()),
            hashtag_policy: Some(HashtagPolicy::Required),
            emoji: Some(EmojiPolicy::Max(2)),
            language: Some("en-GB".into()),
        })
        .expect("voice")
}

#[test]
fn a_change_is_applied_and_checked() {
    let voice = brand();
    assert_eq!(voice.avoid, ["synergy", "circle back"]);
    assert_eq!(voice.hashtags, ["#rust", "#cli"]);
    // Fields not given keep their values; an empty text clears; a list replaces.
    let changed = voice
        .changed(VoiceChange {
            tone: Some(String::new()),
            avoid: Some(vec!["leverage".into()]),
            ..VoiceChange::default()
        })
        .expect("change");
    assert_eq!(changed.tone, None);
    assert_eq!(changed.avoid, ["leverage"]);
    assert_eq!(changed.hashtags, voice.hashtags);
    assert_eq!(changed.emoji, EmojiPolicy::Max(2));

    type Case = (VoiceChange, VoiceError);
    let cases: Vec<Case> = vec![
        (
            VoiceChange {
                hashtag_policy: Some(HashtagPolicy::Required),
                ..VoiceChange::default()
            },
            VoiceError::RequiredWithoutHashtags,
        ),
        (
            VoiceChange {
                hashtags: Some("#ok #not-ok".into()),
                ..VoiceChange::default()
            },
            VoiceError::BadHashtag("#not-ok".into()),
        ),
        (
            VoiceChange {
                hashtags: Some("#2026".into()),
                ..VoiceChange::default()
            },
            VoiceError::BadHashtag("#2026".into()),
        ),
        (
            VoiceChange {
                language: Some("english please".into()),
                ..VoiceChange::default()
            },
            VoiceError::BadLanguage("english please".into()),
        ),
        (
            VoiceChange {
                avoid: Some(vec!["ok".into(), " ".into()]),
                ..VoiceChange::default()
            },
            VoiceError::EmptyWord("avoid"),
        ),
    ];
    for (change, expected) in cases {
        assert_eq!(
            Voice::default().changed(change.clone()),
            Err(expected),
            "{change:?}"
        );
    }
}

#[test]
fn policies_parse_and_print() {
    for (text, policy) in [
        ("allow", EmojiPolicy::Allow),
        ("none", EmojiPolicy::None),
        ("max:0", EmojiPolicy::None),
        ("max:3", EmojiPolicy::Max(3)),
        ("MAX: 2", EmojiPolicy::Max(2)),
    ] {
        assert_eq!(text.parse::<EmojiPolicy>(), Ok(policy), "{text}");
    }
    for bad in ["some", "max:", "max:-1", "max:x", ""] {
        assert!(bad.parse::<EmojiPolicy>().is_err(), "{bad}");
    }
    assert_eq!(EmojiPolicy::Max(4).to_string(), "max:4");
    assert_eq!(
        "Required".parse::<HashtagPolicy>(),
        Ok(HashtagPolicy::Required)
    );
    assert!("sometimes".parse::<HashtagPolicy>().is_err());
    for name in ["brand", "a", "docs-team_2"] {
        assert_eq!(validate_name(name), Ok(()), "{name}");
    }
    for name in ["", "Brand", "a b", "-x"] {
        assert!(validate_name(name).is_err(), "{name}");
    }
}

#[test]
fn setting_a_voice_keeps_the_rest_of_the_file() {
    let original = default_config_text("Europe/Berlin");
    let updated = set_in_toml(&original, "brand", &brand()).expect("set");
    assert!(
        updated.starts_with(&original),
        "the original text, comments included, is untouched:\n{updated}"
    );
    assert!(updated.contains("[voices.brand]\n"), "{updated}");
    assert!(!updated.contains("[voices]\n"), "{updated}");
    let config: Config = toml::from_str(&updated).expect("parse");
    assert_eq!(config.voices.get("brand"), Some(&brand()));
    assert_eq!(config.timezone.as_deref(), Some("Europe/Berlin"));
    let (removed, _) = remove_from_toml(&updated, "brand").expect("rm");
    assert_eq!(
        removed, original,
        "removing it gives the original file back"
    );
}

#[test]
fn updating_a_voice_keeps_its_place_its_comments_and_the_other_voices() {
    let original = "\
timezone = \"UTC\"

# The voice for the blog.
[voices.blog]
tone = \"long-form\"

# Our main voice.
[voices.brand]
tone = \"old\"   # written by hand
avoid = [\"synergy\"]

[publish]
retry_window_minutes = 10
";
    let quiet = Voice {
        tone: Some("new".into()),
        emoji: EmojiPolicy::None,
        ..Voice::default()
    };
    let updated = set_in_toml(original, "brand", &quiet).expect("set");
    let expected = "\
timezone = \"UTC\"

# The voice for the blog.
[voices.blog]
tone = \"long-form\"

# Our main voice.
[voices.brand]
tone = \"new\"   # written by hand
emoji = \"none\"

[publish]
retry_window_minutes = 10
";
    assert_eq!(updated, expected);
    let (removed, was_there) = remove_from_toml(&updated, "brand").expect("rm");
    assert!(was_there);
    assert!(!removed.contains("brand"), "{removed}");
    assert!(
        removed.contains("# Our main voice.\n\n[publish]"),
        "the comment above the removed table is kept:\n{removed}"
    );
    assert!(
        removed.contains("# The voice for the blog.\n[voices.blog]"),
        "{removed}"
    );
    let (last, _) = remove_from_toml(&removed, "blog").expect("rm");
    assert!(!last.contains("voices"), "{last}");
    assert!(last.contains("retry_window_minutes = 10"), "{last}");
    assert!(
        !remove_from_toml(&last, "blog").expect("rm").1,
        "nothing to remove"
    );
}

#[test]
fn inline_voices_become_tables() {
    let original = "voices = { brand = { tone = \"x\" } }\n";
    let updated = set_in_toml(original, "brand", &brand()).expect("set");
    let config: Config = toml::from_str(&updated).expect("parse");
    assert_eq!(config.voices.get("brand"), Some(&brand()));
    let err = set_in_toml("voices = 3\n", "brand", &brand()).expect_err("not a table");
    assert!(
        err.to_string().contains("`voices` must be a table"),
        "{err}"
    );
    let err = set_in_toml("[voices\n", "brand", &brand()).expect_err("not TOML");
    assert!(matches!(err, VoiceError::Config { .. }), "{err}");
}

#[test]
fn the_file_is_written_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("new/config.toml");
    write_voice(&path, "brand", &brand()).expect("write");
    let config = Config::load(&path, |_| None).expect("load");
    assert_eq!(config.voices.get("brand"), Some(&brand()));
    assert_eq!(find(&config, "brand"), Ok(&brand()));
    let err = find(&config, "blog").expect_err("missing");
    assert!(err.to_string().contains("the voices are brand"), "{err}");
    assert!(remove_voice(&path, "brand").expect("rm"));
    assert!(!remove_voice(&path, "brand").expect("rm"));
    let config = Config::load(&path, |_| None).expect("load");
    assert!(config.voices.is_empty());
    assert!(
        find(&config, "brand")
            .expect_err("none")
            .to_string()
            .contains("there are none yet")
    );
    let err = write_voice(&path, "Bad Name", &brand()).expect_err("name");
    assert!(err.to_string().contains("not a valid voice name"), "{err}");
    std::fs::write(&path, "[voices.brand]\ntone = \"x\"\ncolour = \"red\"\n").expect("write");
    let err = Config::load(&path, |_| None).expect_err("unknown key");
    assert!(err.to_string().contains("colour"), "{err}");
}
