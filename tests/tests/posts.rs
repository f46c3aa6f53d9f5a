//! Posts from the shell: drafts (text, stdin, media, $EDITOR), schedules (zones, daylight
//! saving, the past, weekly rules), reschedule and cancel, id prefixes, lists, search,
//! the text calendar, groups and the queue.

mod common;

use common::{Env, PNG_3X2, ids, utc_ms};
use serde_json::Value;

fn show(env: &Env, id: &str) -> Value {
    env.json(&["draft", "show", id])
}

// ---------------------------------------------------------------- drafts

#[test]
fn a_draft_from_an_argument_or_stdin_is_stored_as_written() {
    let env = Env::with_accounts();
    let oplog_before = env.count("SELECT count(*) FROM oplog");

    let id = env
        .ok(&["draft", "new", "Hello world", "--to", "masto,bsky"])
        .id();
    let post = show(&env, &id);
    assert_eq!(post["body"], "Hello world");
    let accounts: Vec<&str> = post["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["account"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(accounts, ["masto", "bsky"]);
    assert_eq!(env.target_states(&id), ["draft", "draft"]);
    assert_eq!(env.due_ms(&id), [None, None]);

    let text = "From a pipe\n\nwith a second paragraph and ünïcödé\n";
    let id2 = env
        .ok_full(
            &["draft", "new", "-", "--to", "masto"],
            Some(text.as_bytes()),
            &[],
        )
        .id();
    assert_eq!(show(&env, &id2)["body"], text.trim_end());

    assert!(
        env.count("SELECT count(*) FROM oplog") >= oplog_before + 2,
        "every change is appended to the oplog"
    );
    let drafts = ids(&env.json(&["draft", "list"]));
    assert_eq!(drafts.len(), 2);
    assert!(drafts.contains(&id) && drafts.contains(&id2), "{drafts:?}");
}

#[test]
fn a_draft_with_an_image_keeps_the_file_and_its_alt_text() {
    let env = Env::with_accounts();
    let png = env.file("shots/settings.png", PNG_3X2);
    let post = env.json(&[
        "draft",
        "new",
        "New settings page",
        "--to",
        "masto",
        "--media",
        png.to_str().expect("utf-8 path"),
        "--alt",
        "the new settings page",
    ]);
    let media = &post["media"][0];
    assert_eq!(media["mime"], "image/png");
    assert_eq!(media["width"], 3);
    assert_eq!(media["height"], 2);
    assert_eq!(media["alt"], "the new settings page");
    assert_eq!(media["size"], PNG_3X2.len());

    // The file is copied into the data dir under its hash, private, byte for byte.
    let sha = media["sha256"].as_str().expect("sha256");
    let stored = env.data_dir().join("media").join(format!("{sha}.png"));
    assert_eq!(std::fs::read(&stored).expect("stored media"), PNG_3X2);
    assert_eq!(
        env.count("SELECT count(*) FROM post_media WHERE alt = 'the new settings page'"),
        1
    );
}

#[test]
fn missing_or_unsupported_media_is_refused() {
    let env = Env::with_accounts();
    let text = env.file("notes.txt", "just text");
    let fake = env.file("fake.png", "not really a png");
    let png = env.file("shot.png", PNG_3X2);
    // `draft new x --to masto --media FILE [more]`, refused as a usage error.
    let refused = |media: &std::path::Path, more: &[&str]| {
        let media = media.to_str().expect("utf-8 path");
        let mut args = vec!["draft", "new", "x", "--to", "masto", "--media", media];
        args.extend_from_slice(more);
        env.fails(&args, 2)
    };

    let run = refused(&text, &[]);
    assert!(
        run.stderr.contains("notes.txt") && run.stderr.contains("PNG"),
        "{}",
        run.stderr
    );

    let run = refused(&fake, &[]);
    assert!(
        run.stderr.contains("fake.png") && run.stderr.contains("unsupported"),
        "{}",
        run.stderr
    );

    let run = refused(&env.root().join("missing.png"), &[]);
    assert!(
        run.stderr.contains("missing.png") && run.stderr.contains("no such file"),
        "{}",
        run.stderr
    );

    let run = refused(&png, &["--alt", "a", "--alt", "b"]);
    assert!(run.stderr.contains("--alt"), "{}", run.stderr);
}

#[test]
fn draft_show_edit_and_rm() {
    let env = Env::with_accounts();
    let id = env
        .ok(&[
            "draft",
            "new",
            "First text",
            "--to",
            "masto",
            "--title",
            "Launch",
            "--label",
            "release",
        ])
        .id();
    let shown = env.ok(&["draft", "show", &id]).stdout;
    assert!(
        shown.contains(&id) && shown.contains("First text") && shown.contains("Launch"),
        "{shown}"
    );

    env.ok(&["draft", "edit", &id, "Second text", "--to", "bsky"]);
    let post = show(&env, &id);
    assert_eq!(post["body"], "Second text");
    assert_eq!(post["title"], "Launch", "fields not given are kept");
    let accounts: Vec<&Value> = post["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| &t["account"])
        .collect();
    assert_eq!(accounts, [&Value::from("bsky")]);

    env.ok(&["draft", "rm", &id]);
    let run = env.fails(&["draft", "show", &id], 2);
    assert!(run.stderr.contains("no post"), "{}", run.stderr);
    assert!(ids(&env.json(&["draft", "list"])).is_empty());
    // Soft-deleted: the row stays for history.
    assert_eq!(
        env.count(&format!(
            "SELECT count(*) FROM posts WHERE id = '{id}' AND deleted_ms IS NOT NULL"
        )),
        1
    );
}

#[test]
fn an_empty_draft_is_refused() {
    let env = Env::with_accounts();
    let run = env.fails(&["draft", "new", "--to", "masto"], 2);
    assert!(run.stderr.contains("-e"), "{}", run.stderr);
    let run = env.fails(&["draft", "new", "   ", "--to", "masto"], 2);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
    let run = env.fails_full(&["draft", "new", "-"], Some(b"  \n\n"), &[], 2);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
}

/// A fake $EDITOR: saves what postctl gave it to `seen.md`, then writes `replacement`.
fn editor(env: &Env, replacement: &str) -> String {
    let seen = env.root().join("seen.md");
    let script = env.script(
        "fake-editor.sh",
        &format!(
            "cp \"$1\" '{}'\ncat > \"$1\" <<'POSTCTL_EOF'\n{replacement}POSTCTL_EOF\n",
            seen.display()
        ),
    );
    script.display().to_string()
}

#[test]
fn draft_new_in_the_editor_reads_the_front_matter() {
    let env = Env::with_accounts();
    let editor = editor(
        &env,
        "---\nto: masto, bsky\nat: 2026-12-01 09:00\ntitle: From the editor\nlabels: launch news\n---\nWritten in the *editor*.\n",
    );
    let run = env.ok_full(
        &["draft", "new", "-e", "--json"],
        None,
        &[("EDITOR", &editor)],
    );
    let post = run.json();
    let id = post["id"].as_str().expect("id");
    assert_eq!(post["body"], "Written in the *editor*.");
    assert_eq!(post["title"], "From the editor");
    assert_eq!(post["labels"], serde_json::json!(["launch", "news"]));
    // 09:00 in Berlin in December is 08:00 UTC.
    let due = utc_ms("2026-12-01T08:00:00Z");
    assert_eq!(env.due_ms(id), [Some(due), Some(due)]);
    assert_eq!(env.target_states(id), ["scheduled", "scheduled"]);

    let template = std::fs::read_to_string(env.root().join("seen.md")).expect("the editor ran");
    assert!(
        template.starts_with("---\n") && template.contains("\nto:"),
        "{template}"
    );
}

#[test]
fn draft_edit_opens_the_post_in_the_editor() {
    let env = Env::with_accounts();
    let id = env
        .ok(&[
            "draft",
            "new",
            "Original body",
            "--to",
            "masto",
            "--label",
            "old",
        ])
        .id();
    let editor = editor(
        &env,
        "---\nto: bsky\nlabels: new fresh\n---\nRewritten body\n",
    );
    env.ok_full(&["draft", "edit", &id], None, &[("EDITOR", &editor)]);

    let seen = std::fs::read_to_string(env.root().join("seen.md")).expect("the editor ran");
    assert!(
        seen.contains("Original body") && seen.contains("masto") && seen.contains("old"),
        "{seen}"
    );

    let post = show(&env, &id);
    assert_eq!(post["body"], "Rewritten body");
    assert_eq!(post["labels"], serde_json::json!(["new", "fresh"]));
    let live: Vec<&str> = post["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["state"] != "cancelled")
        .map(|t| t["account"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(live, ["bsky"]);
}

#[test]
fn a_failing_editor_or_bad_front_matter_saves_nothing() {
    let env = Env::with_accounts();
    let failing = env.script("failing-editor.sh", "exit 3\n");
    let failing = failing.display().to_string();
    let run = env.fails_full(&["draft", "new", "-e"], None, &[("EDITOR", &failing)], 1);
    assert!(run.stderr.contains("nothing was saved"), "{}", run.stderr);

    let bad = editor(&env, "---\ncolour: red\n---\nHello\n");
    let run = env.fails_full(&["draft", "new", "-e"], None, &[("EDITOR", &bad)], 2);
    assert!(run.stderr.contains("colour"), "{}", run.stderr);

    let unknown = editor(&env, "---\nto: nobody\n---\nHello\n");
    let run = env.fails_full(&["draft", "new", "-e"], None, &[("EDITOR", &unknown)], 2);
    assert!(run.stderr.contains("nobody"), "{}", run.stderr);
}

// ---------------------------------------------------------------- schedules

#[test]
fn schedule_a_draft_tomorrow_morning() {
    let env = Env::with_accounts();
    let id = env.ok(&["draft", "new", "Tomorrow", "--to", "masto"]).id();
    env.ok(&["schedule", &id, "--at", "tomorrow 09:00"]);
    // Now is Fri 2026-11-20 11:00 in Berlin; tomorrow 09:00 CET is 08:00 UTC.
    assert_eq!(env.due_ms(&id), [Some(utc_ms("2026-11-21T08:00:00Z"))]);
    assert_eq!(env.target_states(&id), ["scheduled"]);
}

#[test]
fn schedule_new_text_to_a_group() {
    let env = Env::with_accounts();
    env.ok(&["group", "set", "release", "masto", "bsky"]);
    let id = env.schedule("Shipped v1.2", "release", "2026-12-01 09:00");
    let due = utc_ms("2026-12-01T08:00:00Z");
    assert_eq!(env.due_ms(&id), [Some(due), Some(due)]);
    assert_eq!(env.target_states(&id), ["scheduled", "scheduled"]);
    assert_eq!(show(&env, &id)["body"], "Shipped v1.2");
}

#[test]
fn schedule_in_another_zone() {
    let env = Env::with_accounts();
    let id = env
        .ok(&[
            "schedule",
            "New York morning",
            "--to",
            "masto",
            "--at",
            "2026-12-01 09:00",
            "--tz",
            "America/New_York",
        ])
        .id();
    // EST is UTC-5.
    assert_eq!(env.due_ms(&id), [Some(utc_ms("2026-12-01T14:00:00Z"))]);
    assert_eq!(show(&env, &id)["tz"], "America/New_York");
}

#[test]
fn a_time_in_the_spring_forward_gap_is_refused_with_the_valid_times() {
    let env = Env::with_accounts();
    // Europe/Berlin skips 02:00-03:00 on 2027-03-28.
    let run = env.fails(
        &[
            "schedule",
            "Gap",
            "--to",
            "masto",
            "--at",
            "2027-03-28 02:30",
        ],
        2,
    );
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(
        run.stderr.contains("01:59") && run.stderr.contains("03:00"),
        "{}",
        run.stderr
    );
    // America/New_York skips 02:00-03:00 on 2027-03-14.
    let run = env.fails(
        &[
            "schedule",
            "Gap",
            "--to",
            "masto",
            "--at",
            "2027-03-14 02:30",
            "--tz",
            "America/New_York",
        ],
        2,
    );
    assert!(run.stderr.contains("03:00"), "{}", run.stderr);
}

#[test]
fn a_time_in_the_fall_back_overlap_needs_earlier_or_later() {
    let env = Env::with_accounts();
    // Europe/Berlin shows 02:30 twice on 2027-10-31: at 00:30 UTC (CEST) and 01:30 UTC (CET).
    let at = ["--to", "masto", "--at", "2027-10-31 02:30"];
    let mut args = vec!["schedule", "Twice"];
    args.extend_from_slice(&at);
    let run = env.fails(&args, 2);
    assert!(
        run.stderr.contains("--earlier") && run.stderr.contains("--later"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("00:30 UTC") && run.stderr.contains("01:30 UTC"),
        "{}",
        run.stderr
    );

    let mut earlier = args.clone();
    earlier.push("--earlier");
    let first = env.ok(&earlier).id();
    let mut later = args.clone();
    later.push("--later");
    let second = env.ok(&later).id();
    assert_eq!(env.due_ms(&first), [Some(utc_ms("2027-10-31T00:30:00Z"))]);
    assert_eq!(env.due_ms(&second), [Some(utc_ms("2027-10-31T01:30:00Z"))]);

    // An RFC 3339 offset says which one, too.
    let third = env.schedule("Offset", "masto", "2027-10-31T02:30:00+01:00");
    assert_eq!(env.due_ms(&third), [Some(utc_ms("2027-10-31T01:30:00Z"))]);
}

#[test]
fn a_time_in_the_past_needs_allow_past() {
    let env = Env::with_accounts();
    let run = env.fails(
        &[
            "schedule",
            "Late",
            "--to",
            "masto",
            "--at",
            "2026-11-20 09:00",
        ],
        2,
    );
    assert!(
        run.stderr.contains("past") && run.stderr.contains("--allow-past"),
        "{}",
        run.stderr
    );
    let id = env
        .ok(&[
            "schedule",
            "Late",
            "--to",
            "masto",
            "--at",
            "2026-11-20 09:00",
            "--allow-past",
        ])
        .id();
    assert_eq!(env.due_ms(&id), [Some(utc_ms("2026-11-20T08:00:00Z"))]);
}

#[test]
fn bad_times_zones_and_destinations_are_usage_errors() {
    let env = Env::with_accounts();
    let cases: &[(&[&str], &str)] = &[
        (&["--to", "masto", "--at", "blursday 9am"], "blursday"),
        (&["--to", "masto", "--at", "2026-12-01 25:00"], "25:00"),
        (
            &[
                "--to",
                "masto",
                "--at",
                "2026-12-01 09:00",
                "--tz",
                "Mars/Olympus",
            ],
            "Mars/Olympus",
        ),
        (&["--to", "nobody", "--at", "2026-12-01 09:00"], "nobody"),
        (
            &["--to", "masto,ghost-group", "--at", "2026-12-01 09:00"],
            "ghost-group",
        ),
        (&["--to", "masto", "--every", "funday 09:00"], "funday"),
        (&["--at", "2026-12-01 09:00"], "--to"),
    ];
    for (args, named) in cases {
        let mut full = vec!["schedule", "Text"];
        full.extend_from_slice(args);
        let run = env.fails(&full, 2);
        assert!(run.stderr.contains(named), "{args:?}: {}", run.stderr);
    }
    let run = env.fails(&["draft", "new", "x", "--to", "nobody"], 2);
    assert!(
        run.stderr.contains("nobody") && run.stderr.contains("accounts list"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_weekly_rule_is_scheduled_at_its_next_occurrence() {
    let env = Env::with_accounts();
    let id = env
        .ok(&[
            "schedule",
            "Twice a week",
            "--to",
            "masto",
            "--every",
            "mon,wed 09:00",
        ])
        .id();
    // Now is Friday 2026-11-20: the next one is Monday 2026-11-23 09:00 CET.
    assert_eq!(env.due_ms(&id), [Some(utc_ms("2026-11-23T08:00:00Z"))]);
    assert_eq!(
        env.count(&format!("SELECT count(*) FROM posts WHERE id = '{id}' AND schedule = 'every' AND rule IS NOT NULL")),
        1
    );

    // Across the spring change the wall-clock time stays 09:00, now CEST.
    let mut env = env;
    env.set("POSTCTL_NOW", "2027-03-27T10:00:00Z");
    let id = env
        .ok(&[
            "schedule",
            "After DST",
            "--to",
            "masto",
            "--every",
            "mon 09:00",
        ])
        .id();
    assert_eq!(env.due_ms(&id), [Some(utc_ms("2027-03-29T07:00:00Z"))]);
}

#[test]
fn reschedule_and_cancel() {
    let env = Env::with_accounts();
    let id = env.schedule("Move me", "masto,bsky", "2026-12-01 09:00");
    env.ok(&["reschedule", &id, "--at", "2026-12-02 10:30"]);
    let due = utc_ms("2026-12-02T09:30:00Z");
    assert_eq!(env.due_ms(&id), [Some(due), Some(due)]);

    env.ok(&["reschedule", &id, "--every", "tue 08:30"]);
    // The first Tuesday after Fri 2026-11-20 is 2026-11-24.
    let due = utc_ms("2026-11-24T07:30:00Z");
    assert_eq!(env.due_ms(&id), [Some(due), Some(due)]);

    let run = env.fails(&["reschedule", &id, "--at", "not a time"], 2);
    assert!(run.stderr.contains("not a time"), "{}", run.stderr);
    env.fails(&["reschedule", "ffffffff", "--at", "2026-12-02 10:30"], 2);

    env.ok(&["cancel", &id]);
    assert_eq!(env.target_states(&id), ["cancelled", "cancelled"]);
    assert!(!ids(&env.json(&["list", "--upcoming"])).contains(&id));
}

#[test]
fn cancel_is_all_or_nothing() {
    let env = Env::with_accounts();
    let id = env.schedule("Keep me", "masto", "2026-12-01 09:00");
    let run = env.fails(&["cancel", &id, "ffffffff"], 2);
    assert!(run.stderr.contains("ffffffff"), "{}", run.stderr);
    assert_eq!(env.target_states(&id), ["scheduled"]);
}

#[test]
fn posts_are_found_by_full_id_short_id_or_unambiguous_prefix() {
    let env = Env::with_accounts();
    let first = env
        .ok(&["draft", "new", "Alpha post", "--to", "masto"])
        .id();
    let second = env.ok(&["draft", "new", "Beta post", "--to", "masto"]).id();

    assert_eq!(show(&env, &first)["body"], "Alpha post");

    // The short id that `list` shows works as an id.
    let list = env.ok(&["draft", "list"]).stdout;
    let short = list
        .lines()
        .find(|l| l.contains("Alpha post"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no Alpha post in\n{list}"))
        .to_string();
    assert!(
        short.len() < first.len() && first.starts_with(&short),
        "{short} vs {first}"
    );
    assert_eq!(show(&env, &short)["id"], first.as_str());

    // The shared beginning of both ids is ambiguous.
    let common: String = first
        .chars()
        .zip(second.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    assert!(!common.is_empty());
    let run = env.fails(&["draft", "show", &common], 2);
    assert!(
        run.stderr.contains("matches 2 posts") && run.stderr.contains("type more"),
        "{}",
        run.stderr
    );
    // One more character than the shared part picks exactly one.
    let unique = &second[..common.len() + 1];
    assert_eq!(show(&env, unique)["body"], "Beta post");

    // `schedule` takes the short id as that post, not as the text of a new one.
    env.ok(&["schedule", unique, "--at", "2026-12-01 09:00"]);
    assert_eq!(env.due_ms(&second), [Some(utc_ms("2026-12-01T08:00:00Z"))]);
    assert_eq!(env.count("SELECT count(*) FROM posts"), 2);
    let run = env.fails(&["schedule", &common, "--at", "2026-12-01 09:00"], 2);
    assert!(run.stderr.contains("type more"), "{}", run.stderr);

    let run = env.fails(&["draft", "show", "ffff0000"], 2);
    assert!(
        run.stderr.contains("no post") && run.stderr.contains("ffff0000"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- lists

#[test]
fn list_filters_drafts_upcoming_and_failed() {
    let env = Env::with_accounts();
    let draft = env.ok(&["draft", "new", "A draft", "--to", "masto"]).id();
    let later = env.schedule("Later", "masto", "2026-12-05 09:00");
    let sooner = env.schedule("Sooner", "bsky", "2026-12-01 09:00");
    let cancelled = env.schedule("Cancelled", "masto", "2026-12-02 09:00");
    env.ok(&["cancel", &cancelled]);
    let failed = env.schedule("Failed", "masto", "2026-12-03 09:00");
    // Publishing is not built yet: record a failure as a publisher would.
    env.db()
        .execute(
            "UPDATE targets SET state = 'failed', last_error = 'HTTP 422: too long' WHERE post_id = ?1",
            [&failed],
        )
        .expect("mark the target failed");

    assert_eq!(
        ids(&env.json(&["list", "--upcoming"])),
        [sooner.clone(), later.clone()],
        "soonest first"
    );
    assert_eq!(ids(&env.json(&["list", "--drafts"])), [draft.as_str()]);
    let failed_list = env.json(&["list", "--failed"]);
    assert_eq!(ids(&failed_list), [failed.as_str()]);
    assert_eq!(
        failed_list[0]["targets"][0]["last_error"],
        "HTTP 422: too long"
    );

    let all = ids(&env.json(&["list"]));
    for id in [&draft, &later, &sooner, &failed] {
        assert!(all.contains(id), "{id} missing from list: {all:?}");
    }

    let text = env.ok(&["list", "--upcoming"]).stdout;
    let (sooner_at, later_at) = (text.find("Sooner"), text.find("Later"));
    assert!(
        sooner_at.is_some() && later_at.is_some() && sooner_at < later_at,
        "{text}"
    );
    assert!(!text.contains("A draft"), "{text}");
}

#[test]
fn search_finds_words_prefixes_and_survives_punctuation() {
    let env = Env::with_accounts();
    let launch = env
        .ok(&[
            "draft",
            "new",
            "We \"launch\" the state-of-the-art release on Monday",
        ])
        .id();
    let notes = env
        .ok(&[
            "draft",
            "new",
            "Release notes for v1.2",
            "--title",
            "Changelog",
        ])
        .id();
    let gone = env.ok(&["draft", "new", "A deleted launch"]).id();
    env.ok(&["draft", "rm", &gone]);

    let found = |query: &[&str]| {
        let mut args = vec!["search"];
        args.extend_from_slice(query);
        let mut got = ids(&env.json(&args));
        got.sort();
        got
    };
    assert_eq!(
        found(&["launch"]),
        [launch.as_str()],
        "a word, not a deleted post"
    );
    assert_eq!(found(&["laun"]), [launch.as_str()], "a prefix");
    let mut both = vec![launch.clone(), notes.clone()];
    both.sort();
    assert_eq!(found(&["release"]), both);
    assert_eq!(
        found(&["release", "notes"]),
        [notes.as_str()],
        "all words must match"
    );
    assert_eq!(
        found(&["changelog"]),
        [notes.as_str()],
        "titles are searched"
    );
    assert!(found(&["nothing-like-this"]).is_empty());

    for query in [
        "\"", "-", "\"launch", "launch\"", "state-of", "(", "*", "NOT", "a:b", "'",
    ] {
        let run = env.run(&["search", "--", query]);
        assert_eq!(run.code, 0, "search {query:?}: {}", run.stderr);
    }
    assert_eq!(found(&["--", "\"launch"]), [launch.as_str()]);
    assert_eq!(found(&["state-of"]), [launch]);
}

#[test]
fn calendar_shows_posts_on_their_local_day() {
    let env = Env::with_accounts();
    env.schedule("Morning post", "masto", "2026-12-01 09:00");
    // 00:30 in Berlin on the 2nd is still the 1st in UTC: it belongs on the 2nd.
    env.schedule("Just after midnight", "masto", "2026-12-02 00:30");
    env.schedule("Next week", "bsky", "2026-12-09 12:00");

    let month = env.json(&["calendar", "--month", "2026-12"]);
    let day = |date: &str| -> Vec<String> {
        month["days"]
            .as_array()
            .expect("days")
            .iter()
            .filter(|d| d["date"] == date)
            .flat_map(|d| d["posts"].as_array().cloned().unwrap_or_default())
            .map(|p| p["text"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(day("2026-12-01"), ["Morning post"]);
    assert_eq!(day("2026-12-02"), ["Just after midnight"]);
    assert_eq!(day("2026-12-09"), ["Next week"]);

    // In UTC the late post moves to the 1st.
    let utc = env.json(&["calendar", "--month", "2026-12", "--tz", "UTC"]);
    let first_utc: Vec<&str> = utc["days"]
        .as_array()
        .expect("days")
        .iter()
        .filter(|d| d["date"] == "2026-12-01")
        .flat_map(|d| d["posts"].as_array().expect("posts").iter())
        .map(|p| p["text"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(first_utc.len(), 2, "{utc:#}");

    // The text calendar lists each post under its day.
    let text = env.ok(&["calendar", "--month", "2026-12"]).stdout;
    assert_eq!(
        post_day(&text, "Just after midnight").as_deref(),
        Some("Wed 02 Dec"),
        "{text}"
    );
    assert_eq!(
        post_day(&text, "Morning post").as_deref(),
        Some("Tue 01 Dec"),
        "{text}"
    );

    let week = env.ok(&["calendar", "--week", "2026-12-01"]).stdout;
    assert!(
        week.contains("Morning post") && week.contains("Just after midnight"),
        "{week}"
    );
    assert!(!week.contains("Next week"), "{week}");
    let week = env.ok(&["calendar", "--week", "2026-12-10"]).stdout;
    assert_eq!(
        post_day(&week, "Next week").as_deref(),
        Some("Wed 09 Dec"),
        "{week}"
    );
    assert!(!week.contains("Morning post"), "{week}");

    // With no month given, the calendar shows the month of the (pinned) clock.
    let mut env = env;
    env.set("POSTCTL_NOW", "2026-12-15T10:00:00Z");
    let this_month = env.ok(&["calendar"]).stdout;
    assert!(
        this_month.starts_with("December 2026") && this_month.contains("Morning post"),
        "{this_month}"
    );

    env.fails(&["calendar", "--month", "2026-13"], 2);
    env.fails(&["calendar", "--week", "2026-02-30"], 2);
}

/// The day heading (an unindented line like "Tue 01 Dec") above the line that mentions `text`.
fn post_day(calendar: &str, text: &str) -> Option<String> {
    let mut heading = None;
    for line in calendar.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let is_heading = !line.starts_with(' ')
            && words.len() == 3
            && ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&words[0]);
        if is_heading {
            heading = Some(words.join(" "));
        } else if line.contains(text) {
            return heading;
        }
    }
    None
}

#[test]
fn a_recurring_post_keeps_its_wall_clock_time_in_the_calendar_across_dst() {
    let mut env = Env::with_accounts();
    env.set("POSTCTL_NOW", "2027-03-01T10:00:00Z");
    env.ok(&[
        "schedule",
        "Weekly",
        "--to",
        "masto",
        "--every",
        "mon 09:00",
    ]);
    let march = env.json(&["calendar", "--month", "2027-03"]);
    let instants: Vec<(String, String, String)> = march["days"]
        .as_array()
        .expect("days")
        .iter()
        .flat_map(|d| {
            d["posts"].as_array().expect("posts").iter().map(move |p| {
                (
                    d["date"].as_str().unwrap_or_default().to_string(),
                    p["local"].as_str().unwrap_or_default().to_string(),
                    p["at"].as_str().unwrap_or_default().to_string(),
                )
            })
        })
        .collect();
    let mondays = ["2027-03-08", "2027-03-15", "2027-03-22", "2027-03-29"];
    assert_eq!(
        instants.iter().map(|i| i.0.as_str()).collect::<Vec<_>>(),
        mondays,
        "{march:#}"
    );
    assert!(instants.iter().all(|i| i.1 == "09:00"), "{instants:?}");
    // 09:00 CET before the change is 08:00 UTC; 09:00 CEST after it is 07:00 UTC.
    assert_eq!(utc_ms(&instants[2].2), utc_ms("2027-03-22T08:00:00Z"));
    assert_eq!(utc_ms(&instants[3].2), utc_ms("2027-03-29T07:00:00Z"));
}

// ---------------------------------------------------------------- groups and the queue

#[test]
fn groups_are_set_listed_replaced_and_removed() {
    let env = Env::with_accounts();
    env.ok(&["group", "set", "release", "masto", "bsky"]);
    let groups = env.json(&["group", "list"]);
    assert_eq!(
        groups,
        serde_json::json!([{"name": "release", "accounts": ["masto", "bsky"]}])
    );

    env.ok(&["group", "set", "release", "bsky"]);
    assert_eq!(
        env.json(&["group", "list"])[0]["accounts"],
        serde_json::json!(["bsky"])
    );

    let run = env.fails(&["group", "set", "team", "masto", "nobody"], 2);
    assert!(run.stderr.contains("nobody"), "{}", run.stderr);
    let run = env.fails(&["group", "set", "masto", "bsky"], 2);
    assert!(run.stderr.contains("account name"), "{}", run.stderr);

    env.ok(&["group", "rm", "release"]);
    assert_eq!(env.json(&["group", "list"]), serde_json::json!([]));
    let run = env.fails(&["group", "rm", "release"], 2);
    assert!(run.stderr.contains("release"), "{}", run.stderr);
    env.fails(
        &[
            "schedule",
            "x",
            "--to",
            "release",
            "--at",
            "2026-12-01 09:00",
        ],
        2,
    );
}

#[test]
fn queue_add_takes_the_next_free_slots_in_order() {
    let env = Env::with_accounts();
    env.ok(&[
        "queue",
        "slots",
        "set",
        "masto",
        "mon-fri 09:00,13:00,17:30",
    ]);
    // Now is Fri 11:00 in Berlin: 13:00 and 17:30 today, then Monday 09:00.
    let expected = [
        "2026-11-20T12:00:00Z",
        "2026-11-20T16:30:00Z",
        "2026-11-23T08:00:00Z",
    ];
    for (n, when) in expected.iter().enumerate() {
        let id = env
            .ok(&["queue", "add", &format!("Tip {n}"), "--to", "masto"])
            .id();
        assert_eq!(env.due_ms(&id), [Some(utc_ms(when))], "queue add #{n}");
    }

    // A cancelled post frees its slot for the next one.
    let first = env.json(&["list", "--upcoming"])[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.ok(&["cancel", &first]);
    let id = env
        .ok(&["queue", "add", "Into the freed slot", "--to", "masto"])
        .id();
    assert_eq!(env.due_ms(&id), [Some(utc_ms("2026-11-20T12:00:00Z"))]);

    let run = env.fails(&["queue", "add", "No slots", "--to", "bsky"], 2);
    assert!(
        run.stderr.contains("queue slots set bsky"),
        "{}",
        run.stderr
    );
    let run = env.fails(&["queue", "slots", "set", "masto", "funday 25:00"], 2);
    assert!(run.stderr.contains("funday"), "{}", run.stderr);
    env.fails(&["queue", "slots", "set", "nobody", "mon 09:00"], 2);
}
