//! Moving posts in and out: JSON and CSV export that import reads back, all-or-nothing
//! import with the bad row and column named, and an iCalendar export read back by a
//! parser postctl did not write (the `icalendar` and `rrule` crates).

mod common;

use std::collections::BTreeMap;

use common::{Env, PNG_3X2, utc_ms};
use serde_json::{Value, json};

/// A mix of posts: a draft with awkward text, a group post, another zone, a weekly rule,
/// and a cancelled one.
fn sample_posts(env: &Env) {
    env.ok(&[
        "draft",
        "new",
        "A draft, with \"quotes\", commas\nand a second line",
        "--to",
        "masto",
        "--title",
        "Draft title",
        "--label",
        "alpha",
        "--label",
        "beta",
    ]);
    env.schedule("Berlin morning", "masto,bsky", "2026-12-01 09:00");
    env.ok(&[
        "schedule",
        "New York morning",
        "--to",
        "masto",
        "--at",
        "2026-12-01 09:00",
        "--tz",
        "America/New_York",
    ]);
    env.schedule("Summer post", "bsky", "2027-07-01 09:00");
    env.ok(&[
        "schedule",
        "Twice a week",
        "--to",
        "bsky",
        "--every",
        "mon,wed 09:00",
    ]);
    let cancelled = env.schedule("Called off", "masto", "2026-12-24 09:00");
    env.ok(&["cancel", &cancelled]);
}

/// What a user would call the same post in two databases: everything but ids and clocks.
fn comparable(export: &Value) -> BTreeMap<String, Value> {
    export
        .as_array()
        .expect("export is an array")
        .iter()
        .map(|p| {
            let at = p["at"].as_str().map(utc_ms);
            let states: Vec<&Value> = p["targets"]
                .as_array()
                .expect("targets")
                .iter()
                .map(|t| &t["state"])
                .collect();
            (
                p["text"].as_str().expect("text").to_string(),
                json!({
                    "at_utc_ms": at,
                    "tz": p["tz"],
                    "every": p["every"],
                    "to": p["to"],
                    "title": p["title"],
                    "labels": p["labels"],
                    "target_states": states,
                }),
            )
        })
        .collect()
}

/// `postctl export --format json` of `env`, as [`comparable`] posts.
fn exported(env: &Env) -> BTreeMap<String, Value> {
    let export = env.ok(&["export", "--format", "json"]).stdout;
    comparable(&serde_json::from_str(&export).expect("export is JSON"))
}

/// Imports `contents`, as a file called `name`, into a new database with the same accounts
/// and exports it again, as [`comparable`] posts.
fn imported_into_a_new_database(name: &str, contents: &str) -> BTreeMap<String, Value> {
    let copy = Env::with_accounts();
    let file = copy.file(name, contents);
    copy.ok(&["import", file.to_str().expect("utf-8 path")]);
    exported(&copy)
}

#[test]
fn json_export_imports_back_into_a_new_database() {
    let source = Env::with_accounts();
    sample_posts(&source);
    let exported = source.ok(&["export", "--format", "json"]).stdout;
    let original = comparable(&serde_json::from_str(&exported).expect("export is JSON"));
    assert_eq!(original.len(), 6, "{original:#?}");

    let again = imported_into_a_new_database("posts.json", &exported);
    // A cancelled post comes back as scheduled at most; every other post is identical.
    let without_cancelled = |m: &BTreeMap<String, Value>| {
        let mut m = m.clone();
        m.remove("Called off");
        m
    };
    assert_eq!(without_cancelled(&again), without_cancelled(&original));
}

#[test]
fn csv_export_imports_back_into_a_new_database() {
    let source = Env::with_accounts();
    sample_posts(&source);
    let csv = source.ok(&["export", "--format", "csv"]).stdout;
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.contains("text") && h.contains("at")),
        "{csv}"
    );
    let mut original = exported(&source);
    let mut again = imported_into_a_new_database("posts.csv", &csv);
    original.remove("Called off");
    again.remove("Called off");
    assert_eq!(again, original);
}

#[test]
fn a_csv_of_three_rows_is_imported() {
    let env = Env::with_accounts();
    let file = env.file(
        "posts.csv",
        "text,to,at,tz,every,title,labels\n\
         First,masto,2026-12-01 09:00,,,,\n\
         \"Second, with a comma\",masto bsky,2026-12-02 18:30,America/New_York,,Second title,news launch\n\
         Third,bsky,,,\"mon,wed 09:00\",,\n",
    );
    let oplog_before = env.count("SELECT count(*) FROM oplog");
    let run = env.ok(&["import", file.to_str().expect("utf-8 path")]);
    assert!(run.stderr.contains('3'), "{}", run.stderr);

    let posts = env.json(&["list"]);
    let by_text = |text: &str| -> Value {
        posts
            .as_array()
            .expect("array")
            .iter()
            .find(|p| p["body"] == text)
            .cloned()
            .unwrap_or_else(|| panic!("{text} not imported: {posts:#}"))
    };
    let first = by_text("First");
    assert_eq!(
        env.due_ms(first["id"].as_str().expect("id")),
        [Some(utc_ms("2026-12-01T08:00:00Z"))]
    );
    let second = by_text("Second, with a comma");
    // 18:30 EST is 23:30 UTC.
    let due = utc_ms("2026-12-02T23:30:00Z");
    assert_eq!(
        env.due_ms(second["id"].as_str().expect("id")),
        [Some(due), Some(due)]
    );
    assert_eq!(second["tz"], "America/New_York");
    assert_eq!(second["title"], "Second title");
    assert_eq!(second["labels"], json!(["news", "launch"]));
    let third = by_text("Third");
    assert_eq!(third["schedule"]["kind"], "every");
    // The next Monday or Wednesday 09:00 after Fri 2026-11-20 is Mon 2026-11-23.
    assert_eq!(
        env.due_ms(third["id"].as_str().expect("id")),
        [Some(utc_ms("2026-11-23T08:00:00Z"))]
    );
    assert!(env.count("SELECT count(*) FROM oplog") > oplog_before);
}

/// One bad row: nothing imported, exit 2, the place and the column named.
#[test]
fn an_import_with_one_bad_row_imports_nothing() {
    let env = Env::with_accounts();
    env.ok(&["draft", "new", "Already here", "--to", "masto"]);
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "bad-time.csv",
            "text,to,at\nOne,masto,2026-12-01 09:00\nTwo,masto,2026-12-02 09:00\nThree,masto,2026-12-03 25:99\n",
            "line 4",
            "\"at\"",
        ),
        (
            "unknown-account.csv",
            "text,to,at\nOne,masto,2026-12-01 09:00\nTwo,nobody,2026-12-02 09:00\nThree,bsky,2026-12-03 09:00\n",
            "line 3",
            "\"to\"",
        ),
        (
            "unknown-column.csv",
            "text,to,at,colour\nOne,masto,2026-12-01 09:00,red\n",
            "line 1",
            "\"colour\"",
        ),
        (
            "bad-zone.csv",
            "text,to,at,tz\nOne,masto,2026-12-01 09:00,Mars/Olympus\n",
            "line 2",
            "\"tz\"",
        ),
        (
            "past.csv",
            "text,to,at\nOne,masto,2026-12-01 09:00\nOld,masto,2020-01-01 09:00\n",
            "line 3",
            "--allow-past",
        ),
        (
            "empty-text.csv",
            "text,to,at\nOne,masto,2026-12-01 09:00\n,masto,2026-12-02 09:00\n",
            "line 3",
            "\"text\"",
        ),
        (
            "multi-line.csv",
            "text,to,at\n\"Two\nlines\",masto,2026-12-01 09:00\nBad,masto,someday\n",
            "line 4",
            "\"at\"",
        ),
        (
            "bad-item.json",
            r#"[{"text":"One","to":"masto","at":"2026-12-01 09:00"},{"text":"Two","to":["masto"],"at":"whenever"}]"#,
            "item 2",
            "\"at\"",
        ),
        (
            "unknown-key.json",
            r#"[{"text":"One","to":"masto","colour":"red"}]"#,
            "item 1",
            "\"colour\"",
        ),
    ];
    for (name, contents, place, column) in cases {
        let file = env.file(name, contents);
        let run = env.fails(&["import", file.to_str().expect("utf-8 path")], 2);
        assert!(run.stderr.contains(name), "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(place),
            "{name}: expected {place:?} in {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(column),
            "{name}: expected {column:?} in {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("nothing was imported"),
            "{name}: {}",
            run.stderr
        );
        // --dry-run reports the same problem.
        let run = env.fails(
            &["import", "--dry-run", file.to_str().expect("utf-8 path")],
            2,
        );
        assert!(
            run.stderr.contains(place),
            "{name} --dry-run: {}",
            run.stderr
        );
    }
}

#[test]
fn dry_run_checks_every_row_and_imports_nothing() {
    let env = Env::with_accounts();
    let file = env.file(
        "posts.csv",
        "text,to,at\nOne,masto,2026-12-01 09:00\nTwo,bsky,2026-12-02 09:00\nThree,masto,\n",
    );
    let before = env.dump();
    let run = env.ok(&["import", "--dry-run", file.to_str().expect("utf-8 path")]);
    assert!(
        run.stderr.contains('3') && run.stderr.contains("dry-run"),
        "{}",
        run.stderr
    );
    assert_eq!(before, env.dump(), "--dry-run changed the database");
    // The real run then imports them.
    env.ok(&["import", file.to_str().expect("utf-8 path")]);
    assert_eq!(
        env.count("SELECT count(*) FROM posts WHERE deleted_ms IS NULL"),
        3
    );
}

#[test]
fn attachments_survive_a_json_round_trip() {
    let env = Env::with_accounts();
    let png = env.file("shot.png", PNG_3X2);
    env.ok(&[
        "draft",
        "new",
        "With a picture",
        "--to",
        "masto",
        "--media",
        png.to_str().expect("utf-8 path"),
        "--alt",
        "a red square",
    ]);
    let exported = env.file("posts.json", env.ok(&["export", "--format", "json"]).stdout);
    // The same data dir (the media is there), a second database.
    let other_db = env.data_dir().join("other.db");
    let other = other_db.to_str().expect("utf-8 path");
    env.ok(&["--db", other, "init"]);
    env.ok_full(
        &[
            "--db",
            other,
            "accounts",
            "add",
            "mastodon",
            "--name",
            "masto",
            "--instance",
            "https://social.example.org",
            "--token-stdin",
        ],
        Some(b"other-token\n"),
        &[],
    );
    let run = env.run(&[
        "--db",
        other,
        "import",
        exported.to_str().expect("utf-8 path"),
    ]);
    if run.code == 0 {
        let posts = env.json(&["--db", other, "list"]);
        assert_eq!(posts[0]["media"][0]["alt"], "a red square", "{posts:#}");
    } else {
        // Refusing is acceptable too, if it says which item and why.
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains("item 1") && run.stderr.contains("attachments"),
            "{}",
            run.stderr
        );
    }
}

/// Every post id of `env`, with its text, from a JSON export.
fn ids_and_texts(env: &Env) -> BTreeMap<String, String> {
    let export: Value =
        serde_json::from_str(&env.ok(&["export", "--format", "json"]).stdout).expect("JSON");
    export
        .as_array()
        .expect("array")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id").to_string(),
                p["text"].as_str().expect("text").to_string(),
            )
        })
        .collect()
}

#[test]
fn importing_an_export_again_duplicates_nothing_and_says_so() {
    for format in ["json", "csv"] {
        let env = Env::with_accounts();
        sample_posts(&env);
        let before = ids_and_texts(&env);
        let dump = env.dump();
        let export = env.ok(&["export", "--format", format]).stdout;
        let file = env.file(&format!("posts.{format}"), &export);
        let run = env.ok(&["import", file.to_str().expect("utf-8 path")]);
        assert_eq!(ids_and_texts(&env), before, "{format}: {}", run.stderr);
        assert_eq!(env.dump(), dump, "{format}: nothing changed");
        for id in before.keys() {
            assert!(
                run.stderr.contains(&format!("skipped post {id} (same id)")),
                "{format}: {id} not named in\n{}",
                run.stderr
            );
        }
        assert!(
            run.stderr.contains("imported 0 posts") && run.stderr.contains("skipped 6"),
            "{format}: {}",
            run.stderr
        );
        let json = env.json(&["import", file.to_str().expect("utf-8 path")]);
        assert_eq!(json["imported"], 0, "{json}");
        assert_eq!(
            json["skipped"].as_array().expect("skipped").len(),
            6,
            "{json}"
        );
    }
}

#[test]
fn an_edited_export_updates_its_post_under_the_same_id() {
    let env = Env::with_accounts();
    sample_posts(&env);
    let before = ids_and_texts(&env);
    let export = env.ok(&["export", "--format", "json"]).stdout;
    let edited = export.replace("\"Berlin morning\"", "\"Berlin morning, edited\"");
    assert_ne!(edited, export);
    let (id, _) = before
        .iter()
        .find(|(_, text)| *text == "Berlin morning")
        .expect("the Berlin post");
    let file = env.file("posts.json", &edited);
    let run = env.ok(&["import", file.to_str().expect("utf-8 path")]);
    assert!(
        run.stderr.contains(&format!("updated post {id}")),
        "{}",
        run.stderr
    );
    let after = ids_and_texts(&env);
    assert_eq!(after.len(), before.len(), "no post added");
    assert_eq!(after[id], "Berlin morning, edited");
    assert_eq!(env.target_states(id), ["scheduled", "scheduled"]);
}

#[test]
fn ids_survive_an_export_and_an_import_into_a_new_database() {
    for format in ["json", "csv"] {
        let source = Env::with_accounts();
        sample_posts(&source);
        let export = source.ok(&["export", "--format", format]).stdout;
        let copy = Env::with_accounts();
        let file = copy.file(&format!("posts.{format}"), &export);
        copy.ok(&["import", file.to_str().expect("utf-8 path")]);
        assert_eq!(ids_and_texts(&copy), ids_and_texts(&source), "{format}");
    }
}

#[test]
fn an_import_refuses_a_malformed_or_repeated_id() {
    let env = Env::with_accounts();
    let bad = env.file("bad.csv", "id,text\nnot-an-id,Hello\n");
    let run = env.fails(&["import", bad.to_str().expect("utf-8 path")], 2);
    assert!(
        run.stderr.contains("line 2") && run.stderr.contains("\"id\""),
        "{}",
        run.stderr
    );
    let id = "0190aaaa-0000-7000-8000-000000000001";
    let twice = env.file("twice.csv", format!("id,text\n{id},One\n{id},Two\n"));
    let run = env.fails(&["import", twice.to_str().expect("utf-8 path")], 2);
    assert!(
        run.stderr.contains("line 3") && run.stderr.contains("line 2"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_csv_export_has_media_alt_text_and_a_state_for_drafts() {
    let env = Env::with_accounts();
    let png = env.file("shot.png", PNG_3X2);
    env.ok(&[
        "draft",
        "new",
        "With a picture",
        "--to",
        "masto",
        "--media",
        png.to_str().expect("utf-8 path"),
        "--alt",
        "a red square",
    ]);
    env.ok(&["draft", "new", "No accounts yet"]);
    let csv = env.ok(&["export", "--format", "csv"]).stdout;
    // No field of these two posts holds a comma or a quote: plain splitting reads them.
    let mut lines = csv.lines().map(|l| l.split(',').collect::<Vec<&str>>());
    let header = lines.next().expect("header");
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name} column in {header:?}"))
    };
    let rows: Vec<Vec<&str>> = lines.collect();
    assert_eq!(rows.len(), 2, "{csv}");
    let picture = rows
        .iter()
        .find(|r| r[column("text")] == "With a picture")
        .expect("the post with media");
    assert!(picture[column("media")].ends_with(".png"), "{picture:?}");
    assert_eq!(picture[column("alt")], "a red square");
    for row in &rows {
        assert_eq!(row[column("state")], "draft", "{row:?}");
    }

    // The same data dir (the media is there), a second database: media and alt come back.
    let other_db = env.data_dir().join("other.db");
    let other = other_db.to_str().expect("utf-8 path");
    env.ok(&["--db", other, "init"]);
    env.ok_full(
        &[
            "--db",
            other,
            "accounts",
            "add",
            "mastodon",
            "--name",
            "masto",
            "--instance",
            "https://social.example.org",
            "--token-stdin",
        ],
        Some(b"other-token\n"),
        &[],
    );
    let file = env.file("posts.csv", &csv);
    env.ok(&["--db", other, "import", file.to_str().expect("utf-8 path")]);
    let posts = env.json(&["--db", other, "list"]);
    let picture = posts
        .as_array()
        .expect("array")
        .iter()
        .find(|p| p["body"] == "With a picture")
        .expect("imported");
    assert_eq!(picture["media"][0]["alt"], "a red square", "{posts:#}");
    assert_eq!(picture["media"][0]["mime"], "image/png", "{posts:#}");
}

#[test]
fn the_json_export_is_every_post_in_listing_order() {
    let env = Env::with_accounts();
    sample_posts(&env);
    let export: Value =
        serde_json::from_str(&env.ok(&["export", "--format", "json"]).stdout).expect("JSON");
    let listed = env.json(&["list", "--all"]);
    let export_ids: Vec<&str> = export
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(export_ids, common::ids(&listed));
    let empty = Env::with_accounts();
    assert_eq!(empty.ok(&["export", "--format", "json"]).stdout, "[]\n");
    assert_eq!(
        empty
            .ok(&["export", "--format", "csv"])
            .stdout
            .lines()
            .count(),
        1,
        "a header only"
    );
}

// ---------------------------------------------------------------- iCalendar

/// Reads an .ics file with the `icalendar` crate (a parser postctl did not write) and
/// returns, per VEVENT: the UID, the summary, the TZID, DTSTART in UTC as the parser resolves
/// it (the TZID as an IANA zone), DTSTART in UTC through the file's own VTIMEZONE, the
/// RRULE's BYDAY, and for each instant in `after` the first occurrence at or after it, as
/// the `rrule` crate expands the rule in local time and the file's own VTIMEZONE places it.
fn read_ics(ics: &str, after: &[&str]) -> Vec<Value> {
    use icalendar::{Component, EventLike};

    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded)
        .unwrap_or_else(|e| panic!("icalendar could not read postctl's export: {e}\n{ics}"));
    let components: Vec<icalendar::CalendarComponent> =
        calendar.components.into_iter().map(Into::into).collect();
    let own_zones: BTreeMap<String, OwnZone> = components
        .iter()
        .filter_map(|c| match c {
            icalendar::CalendarComponent::Other(zone) if zone.component_kind() == "VTIMEZONE" => {
                let tzid = zone.property_value("TZID").expect("VTIMEZONE has a TZID");
                Some((tzid.to_string(), OwnZone::read(zone)))
            }
            _ => None,
        })
        .collect();
    let after: Vec<chrono::DateTime<chrono::Utc>> = after
        .iter()
        .map(|a| a.parse().expect("an RFC 3339 instant"))
        .collect();

    let mut events = Vec::new();
    for event in components.iter().filter_map(|c| c.as_event()) {
        let start = event
            .properties()
            .get("DTSTART")
            .expect("VEVENT has a DTSTART");
        let tzid = start.params().get("TZID").map(|p| p.value().to_string());
        let (utc, utc_own_zone, local) = match event.get_start().expect("DTSTART parses") {
            icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(utc)) => {
                (utc, utc, None)
            }
            icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::WithTimezone {
                date_time,
                tzid,
            }) => {
                let zone: chrono_tz::Tz = tzid.parse().expect("an IANA zone");
                let by_name = date_time
                    .and_local_timezone(zone)
                    .earliest()
                    .expect("a local time that exists")
                    .to_utc();
                let own = own_zones
                    .get(&tzid)
                    .unwrap_or_else(|| panic!("no VTIMEZONE for {tzid}\n{ics}"));
                (by_name, own.to_utc(date_time), Some((date_time, own)))
            }
            other => panic!("postctl writes DTSTART in UTC or with a TZID, not {other:?}"),
        };
        let rule = event
            .properties()
            .get("RRULE")
            .map(|p| p.value().to_string());
        let byday: Vec<String> = rule
            .iter()
            .flat_map(|r| r.split(';'))
            .filter_map(|part| part.strip_prefix("BYDAY="))
            .flat_map(|days| days.split(','))
            .map(str::to_string)
            .collect();
        let mut occurrences = Vec::new();
        if let Some(rule) = &rule {
            // The parser's own recurrence set must accept the rule as written...
            event.get_recurrence().expect("the RRULE parses");
            // ...and the rule, expanded in local wall-clock time, is placed by the file's own
            // VTIMEZONE (UTC stands in for a floating clock here).
            let (wall, own) = local.expect("a recurring event has a zoned DTSTART");
            let floating = format!("DTSTART:{}Z\nRRULE:{rule}", wall.format("%Y%m%dT%H%M%S"));
            let set: rrule::RRuleSet = floating.parse().expect("rrule reads the rule");
            for instant in &after {
                let next = set
                    .clone()
                    .all(2_000)
                    .dates
                    .into_iter()
                    .map(|d| own.to_utc(d.naive_utc()))
                    .find(|d| d >= instant);
                occurrences.push(next.map(|d| d.to_rfc3339()));
            }
        }
        events.push(json!({
            "uid": event.get_uid(),
            "summary": event.get_summary(),
            "tzid": tzid,
            "utc": utc.to_rfc3339(),
            "utc_own_zone": utc_own_zone.to_rfc3339(),
            "byday": byday,
            "occurrences": occurrences,
        }));
    }
    events
}

/// A VTIMEZONE as the file describes it: each observance's onset (in UTC) and the offset
/// from then on. Independent of the zone database, so a wrong VTIMEZONE shows.
struct OwnZone {
    /// (onset in UTC, offset from UTC after it), by onset.
    onsets: Vec<(chrono::DateTime<chrono::Utc>, chrono::TimeDelta)>,
}

impl OwnZone {
    fn read(zone: &impl icalendar::Component) -> OwnZone {
        use icalendar::Component;
        let offset = |text: &str| {
            let sign = if text.starts_with('-') { -1 } else { 1 };
            let digits = text.trim_start_matches(['+', '-']);
            let hours: i64 = digits[..2].parse().expect("offset hours");
            let minutes: i64 = digits[2..4].parse().expect("offset minutes");
            chrono::TimeDelta::minutes(sign * (hours * 60 + minutes))
        };
        let mut onsets = Vec::new();
        for observance in zone.components() {
            let kind = observance.component_kind();
            assert!(kind == "STANDARD" || kind == "DAYLIGHT", "{kind}");
            let from = offset(
                observance
                    .property_value("TZOFFSETFROM")
                    .expect("TZOFFSETFROM"),
            );
            let to = offset(observance.property_value("TZOFFSETTO").expect("TZOFFSETTO"));
            let start = observance.property_value("DTSTART").expect("DTSTART");
            let mut locals = vec![
                chrono::NaiveDateTime::parse_from_str(start, "%Y%m%dT%H%M%S")
                    .expect("a local DTSTART"),
            ];
            if let Some(rule) = observance.property_value("RRULE") {
                let set: rrule::RRuleSet = format!("DTSTART:{start}Z\nRRULE:{rule}")
                    .parse()
                    .expect("rrule reads the observance's rule");
                locals = set.all(500).dates.iter().map(|d| d.naive_utc()).collect();
            }
            // An onset is written in the local time in force before it.
            onsets.extend(locals.into_iter().map(|l| (l.and_utc() - from, to)));
        }
        onsets.sort();
        assert!(!onsets.is_empty(), "a VTIMEZONE with no observance");
        OwnZone { onsets }
    }

    fn offset_at(&self, instant: chrono::DateTime<chrono::Utc>) -> chrono::TimeDelta {
        self.onsets
            .iter()
            .rev()
            .find(|(onset, _)| *onset <= instant)
            .unwrap_or(&self.onsets[0])
            .1
    }

    /// The instant of a local time: of the offsets this zone uses, the one in force at the
    /// instant it gives; the earlier instant where a local time happens twice (RFC 5545).
    fn to_utc(&self, local: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
        let mut offsets: Vec<chrono::TimeDelta> = self.onsets.iter().map(|o| o.1).collect();
        offsets.sort();
        offsets.dedup();
        offsets
            .into_iter()
            .map(|offset| local.and_utc() - offset)
            .filter(|instant| self.offset_at(*instant) == local.and_utc() - *instant)
            .min()
            .unwrap_or_else(|| panic!("{local} does not exist in this VTIMEZONE"))
    }
}

#[test]
fn the_ics_export_reads_back_with_the_right_instants_zones_and_rules() {
    let env = Env::with_accounts();
    sample_posts(&env);
    let ics = env.ok(&["export", "--format", "ics"]).stdout;
    // First occurrences on or after a winter and a summer day, across the spring change.
    let events = read_ics(&ics, &["2027-01-01T00:00:00Z", "2027-03-29T00:00:00Z"]);

    // What the database holds for every post that should be in a calendar.
    let conn = env.db();
    let mut stmt = conn
        .prepare(
            "SELECT p.id, p.body, p.tz, p.due_ms, p.rule FROM posts p
             WHERE p.deleted_ms IS NULL AND p.due_ms IS NOT NULL
               AND EXISTS (SELECT 1 FROM targets t WHERE t.post_id = p.id AND t.state = 'scheduled')",
        )
        .expect("prepare");
    let scheduled: Vec<(String, String, String, i64, Option<String>)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(scheduled.len(), 4, "{scheduled:?}");
    assert_eq!(
        events.len(),
        scheduled.len(),
        "drafts and cancelled posts stay out: {events:#?}"
    );

    for (id, body, tz, due_ms, rule) in &scheduled {
        let event = events
            .iter()
            .find(|e| {
                e["uid"]
                    .as_str()
                    .is_some_and(|u| u.starts_with(id.as_str()))
            })
            .unwrap_or_else(|| panic!("no VEVENT for {body} ({id}) in\n{ics}"));
        assert_eq!(event["tzid"], tz.as_str(), "{body}");
        assert_eq!(
            utc_ms(event["utc"].as_str().expect("utc")),
            *due_ms,
            "{body}: parser's DTSTART"
        );
        assert_eq!(
            utc_ms(event["utc_own_zone"].as_str().expect("utc")),
            *due_ms,
            "{body}: DTSTART through the file's own VTIMEZONE"
        );
        match rule {
            Some(_) => {
                assert_eq!(event["byday"], json!(["MO", "WE"]), "{body}");
                // 09:00 Berlin: CET in January, CEST after 2027-03-28.
                assert_eq!(
                    event["occurrences"],
                    json!(["2027-01-04T08:00:00+00:00", "2027-03-29T07:00:00+00:00"]),
                    "{body}"
                );
            }
            None => assert_eq!(event["byday"], json!([]), "{body}"),
        }
    }
    let summer = events
        .iter()
        .find(|e| e["summary"] == "Summer post")
        .expect("summer post");
    assert_eq!(summer["utc"], "2027-07-01T07:00:00+00:00", "09:00 CEST");
    let new_york = events
        .iter()
        .find(|e| e["summary"] == "New York morning")
        .expect("NY post");
    assert_eq!(new_york["tzid"], "America/New_York");
    assert_eq!(new_york["utc"], "2026-12-01T14:00:00+00:00", "09:00 EST");
}

#[test]
fn the_ics_export_keeps_the_later_of_two_equal_local_times() {
    let env = Env::with_accounts();
    env.ok(&[
        "schedule",
        "Second 02:30",
        "--to",
        "masto",
        "--at",
        "2027-10-31 02:30",
        "--later",
    ]);
    let ics = env.ok(&["export", "--format", "ics"]).stdout;
    let events = read_ics(&ics, &[]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["utc"], "2027-10-31T01:30:00+00:00", "{ics}");
    assert_eq!(
        events[0]["utc_own_zone"], "2027-10-31T01:30:00+00:00",
        "{ics}"
    );
}

/// The SUMMARY of each event, read from the file's own lines (unfolded as RFC 5545 says).
fn summaries(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .lines()
        .filter_map(|l| l.strip_prefix("SUMMARY:"))
        .map(|s| s.replace("\\,", ",").replace("\\;", ";"))
        .collect()
}

#[test]
fn ics_titles_are_plain_text_cut_at_a_word_with_an_ellipsis() {
    let env = Env::with_accounts();
    env.schedule(
        "**Big news**: we shipped [version 2](https://example.com/v2) of the launch notes tool today, with much more",
        "masto",
        "2026-12-01 09:00",
    );
    env.schedule("Short *one*", "masto", "2026-12-02 09:00");
    let ics = env.ok(&["export", "--format", "ics"]).stdout;
    let titles = summaries(&ics);
    assert_eq!(titles.len(), 2, "{ics}");
    let long = &titles[0];
    assert!(!long.contains('*') && !long.contains("]("), "{long}");
    assert!(long.starts_with("Big news: we shipped version 2"), "{long}");
    assert!(long.ends_with('…'), "{long}");
    assert!(long.chars().count() <= 70, "{long}");
    let words = long.trim_end_matches('…');
    let plain = "Big news: we shipped version 2 (https://example.com/v2) of the launch notes tool today, with much more";
    assert!(plain.starts_with(words), "{long}");
    assert_eq!(
        plain[words.len()..].chars().next(),
        Some(' '),
        "cut at a word boundary: {long}"
    );
    assert_eq!(titles[1], "Short one");
}
