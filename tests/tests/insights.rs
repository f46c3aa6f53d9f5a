//! End to end: `postctl insights` and `postctl queue slots suggest` over twelve simulated
//! weeks. Each post is published with the clock pinned (POSTCTL_NOW) at its time, the
//! fakes' counters are read by `stats collect` (twice: mid-way and at the end), and the
//! numbers insights print are checked against what the fakes gave.
//!
//! Every Mastodon status is born at the fake's hour 0 and read at its hour 48, so its
//! engagement is 48 hours' worth (likes 3, boosts 2, replies 1, quotes 1 an hour: 336)
//! times its appeal (`FakeMastodon::set_appeal`): Tuesdays at 09:00 Berlin do better
//! (appeal 3 and 4) than Thursdays at 17:00 (1 and 2), and one Wednesday post goes viral.

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use common::Env;
use common::networks::{Fake, Net};
use postctl_tests::fakes::growth::followers;
use serde_json::Value;

/// Engagement of a status of appeal 1 read at 48 hours: 48 × (3 + 2 + 1 + 1).
const ONE: u64 = 336;
/// The fake's hour at the mid-way reading, and at the end.
const MID_HOUR: u64 = 10;
const END_HOUR: u64 = 48;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("time")
}

/// Where the simulated history ends: Monday 2027-02-15 10:00 UTC.
fn end() -> DateTime<Utc> {
    utc("2027-02-15T10:00:00Z")
}

/// The mid-way collection: Tuesday 2027-01-05 12:00 UTC, before the 30-day period.
fn mid() -> DateTime<Utc> {
    utc("2027-01-05T12:00:00Z")
}

struct Posted {
    id: String,
    published: DateTime<Utc>,
    appeal: u64,
}

impl Posted {
    fn engagement(&self) -> u64 {
        ONE * self.appeal
    }
}

/// Twelve weeks of Mastodon posts from Tuesday 2026-11-24 (after the environment's
/// NOW): Tuesdays 08:00 UTC (09:00 Berlin) appeal 3 and 4, Thursdays 16:00 UTC (17:00)
/// appeal 1 and 2; a viral Wednesday (appeal 20) on 2027-01-27; a post 5 hours before
/// the end (appeal 9), too young to compare.
fn plan() -> Vec<(DateTime<Utc>, u64)> {
    let tuesday = utc("2026-11-24T08:00:00Z");
    let mut plan = Vec::new();
    for week in 0..12 {
        let start = tuesday + Duration::weeks(week);
        plan.push((start, if week % 2 == 0 { 3 } else { 4 }));
        plan.push((
            start + Duration::days(2) + Duration::hours(8),
            if week % 2 == 0 { 1 } else { 2 },
        ));
    }
    plan.push((utc("2027-01-27T11:00:00Z"), 20));
    plan.push((end() - Duration::hours(5), 9));
    plan.sort();
    plan
}

fn run_at(env: &Env, at: DateTime<Utc>, args: &[&str]) -> common::Run {
    env.run_full(args, None, &[("POSTCTL_NOW", &at.to_rfc3339())])
}

fn json_at(env: &Env, at: DateTime<Utc>, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = run_at(env, at, &all);
    assert_eq!(run.code, 0, "{args:?}: {}", run.all_output());
    run.json()
}

fn publish(env: &Env, at: DateTime<Utc>, text: &str, to: &str) -> String {
    json_at(env, at, &["post", text, "--to", to])["post_id"]
        .as_str()
        .expect("post_id")
        .to_string()
}

fn collect(env: &Env, at: DateTime<Utc>, masto: &Fake, bsky: &Fake, hour: u64) {
    masto.mastodon().set_hour(hour);
    bsky.bluesky().set_hour(hour);
    let run = run_at(env, at, &["stats", "collect"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    // Statuses published later are born at hour 0 again.
    masto.mastodon().set_hour(0);
    bsky.bluesky().set_hour(0);
}

struct History {
    masto: Fake,
    _bsky: Fake,
    _tg: Fake,
    env: Env,
    posts: Vec<Posted>,
}

/// The simulated history, collected at [`mid`] and at [`end`]; Bluesky has two posts,
/// Telegram one.
fn history() -> History {
    let masto = Fake::start(Net::Mastodon);
    let bsky = Fake::start(Net::Bluesky);
    let tg = Fake::start(Net::Telegram);
    let env = Env::with_fakes([&masto, &bsky, &tg]);
    let mut posts = Vec::new();
    let mut collected_mid = false;
    for (i, (at, appeal)) in plan().into_iter().enumerate() {
        if !collected_mid && at > mid() {
            collect(&env, mid(), &masto, &bsky, MID_HOUR);
            collected_mid = true;
        }
        let id = publish(&env, at, &format!("Post number {i}"), "masto");
        let status = masto
            .mastodon()
            .posts()
            .last()
            .expect("a status")
            .id
            .clone();
        masto.mastodon().set_appeal(&status, appeal);
        posts.push(Posted {
            id,
            published: at,
            appeal,
        });
        if i < 2 {
            publish(&env, at + Duration::minutes(1), "On Bluesky", "bsky");
        }
        if i == 0 {
            publish(&env, at + Duration::minutes(2), "On Telegram", "tg");
        }
    }
    collect(&env, end(), &masto, &bsky, END_HOUR);
    History {
        masto,
        _bsky: bsky,
        _tg: tg,
        env,
        posts,
    }
}

fn account<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

fn mean(values: &[u64]) -> f64 {
    values.iter().sum::<u64>() as f64 / values.len() as f64
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-6)
}

#[test]
fn insights_over_twelve_weeks_say_when_to_post_and_what_stood_out() {
    let h = history();
    let env = &h.env;
    let report = json_at(env, end(), &["insights"]);
    let masto = account(&report, "masto");
    let period_from = end() - Duration::days(30);
    let settled = |p: &Posted| p.published <= end() - Duration::hours(48);
    let in_period: Vec<&Posted> = h
        .posts
        .iter()
        .filter(|p| p.published >= period_from)
        .collect();
    assert_eq!(masto["posts"], in_period.len(), "{masto}");
    assert_eq!(masto["zone"], "Europe/Berlin");

    // Top posts: the viral one, then the young one, then the best Tuesdays.
    let mut expected_top: Vec<&Posted> = in_period.clone();
    expected_top.sort_by_key(|p| {
        (
            std::cmp::Reverse(p.engagement()),
            std::cmp::Reverse(p.published),
        )
    });
    let top: Vec<(String, u64)> = masto["top_posts"]
        .as_array()
        .expect("top")
        .iter()
        .map(|p| {
            (
                p["post_id"].as_str().unwrap_or_default().to_string(),
                p["engagement"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = expected_top
        .iter()
        .take(5)
        .map(|p| (p.id.clone(), p.engagement()))
        .collect();
    assert_eq!(top, expected);
    assert_eq!(top[0].1, 20 * ONE);

    // Followers: the fake's count at the mid-way reading (before the period) to the end.
    let growth = &masto["growth"];
    assert_eq!(growth["counter"], "followers");
    assert_eq!(growth["start"], followers(MID_HOUR));
    assert_eq!(growth["end"], followers(END_HOUR));
    assert_eq!(growth["change"], END_HOUR - MID_HOUR);

    // Outliers among the period's compared posts: the viral one, far above.
    let compared: Vec<u64> = in_period
        .iter()
        .filter(|p| settled(p))
        .map(|p| p.engagement())
        .collect();
    let mut sorted = compared.clone();
    sorted.sort_unstable();
    let median = if sorted.len().is_multiple_of(2) {
        (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) as f64 / 2.0
    } else {
        sorted[sorted.len() / 2] as f64
    };
    let outliers = &masto["outliers"];
    assert!(close(&outliers["median"], median), "{outliers}");
    assert_eq!(outliers["posts"], compared.len());
    let viral = h.posts.iter().find(|p| p.appeal == 20).expect("viral");
    let above: Vec<&str> = outliers["above"]
        .as_array()
        .expect("above")
        .iter()
        .map(|o| o["post"]["post_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(above, [viral.id.as_str()]);
    assert_eq!(outliers["below"].as_array().map(Vec::len), Some(0));

    // The trend: the mean engagement of compared posts against the 30 days before.
    let previous: Vec<u64> = h
        .posts
        .iter()
        .filter(|p| p.published >= period_from - Duration::days(30) && p.published < period_from)
        .map(Posted::engagement)
        .collect();
    let trend = &masto["trend"];
    assert!(
        close(&trend["current"]["per_post"], mean(&compared)),
        "{trend}"
    );
    assert!(
        close(&trend["previous"]["per_post"], mean(&previous)),
        "{trend}"
    );
    assert_eq!(trend["current"]["compared"], compared.len());
    assert_eq!(trend["current"]["posts"], in_period.len());
    let change = (mean(&compared) - mean(&previous)) * 100.0 / mean(&previous);
    assert!(close(&trend["change_percent"], change), "{trend}");
    assert_eq!(trend["direction"], "up");

    // Best times, in Berlin: Tuesdays 09:00 lead; every post read its audience at the
    // mid-way reading (the last before it, or the first after).
    let times = &masto["best_times"];
    let all_compared = h.posts.iter().filter(|p| settled(p)).count();
    assert_eq!(times["posts"], all_compared);
    assert_eq!(masto["measure"], "engagement per 100 followers");
    let audience = followers(MID_HOUR) as f64;
    let tuesdays: Vec<u64> = h
        .posts
        .iter()
        .filter(|p| p.published.format("%a %H").to_string() == "Tue 08")
        .map(Posted::engagement)
        .collect();
    assert_eq!(tuesdays.len(), 12);
    let best = &times["slots"][0];
    assert_eq!(best["label"], "Tue 09:00", "{times}");
    assert_eq!(best["weekday"], "tue");
    assert_eq!(best["hour"], 9);
    assert_eq!(best["posts"], 12);
    assert!(
        close(&best["value"], mean(&tuesdays) * 100.0 / audience),
        "{best}"
    );
    assert_eq!(best["certainty"], "fairly_sure", "{times}");
    assert_eq!(times["slots"][1]["label"], "Thu 17:00");
    assert_eq!(times["slots"][1]["certainty"], "no_clear_difference");
    // The grid the heat maps draw: Tuesday (row 1), 09:00 (column 9).
    assert_eq!(times["grid"]["zone"], "Europe/Berlin");
    assert_eq!(times["grid"]["cells"][1][9]["posts"], 12);
    assert!(close(
        &times["grid"]["cells"][1][9]["value"],
        mean(&tuesdays) * 100.0 / audience
    ));
    assert_eq!(times["grid"]["cells"][1][8]["posts"], 0);
    // Read at the end (the pinned clock runs on from there while a command runs).
    let read: DateTime<Utc> = masto["collection"]["posts_last_read"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("posts_last_read");
    assert!(
        read >= end() && read < end() + Duration::minutes(1),
        "{read}"
    );

    // Bluesky: two posts, not enough. Telegram counts reactions only (from the bot's
    // updates; nobody reacted here) and says what it never gives.
    let bsky = account(&report, "bsky");
    assert!(
        bsky["best_times"]["statement"]
            .as_str()
            .is_some_and(|s| s.starts_with("not enough data yet: 2 posts")),
        "{bsky}"
    );
    assert_eq!(
        bsky["best_times"]["slots"].as_array().map(Vec::len),
        Some(0)
    );
    let tg = account(&report, "tg");
    assert!(tg["collection"]["posts_not_provided"].is_null(), "{tg}");
    assert!(
        tg["never_given"]
            .as_str()
            .is_some_and(|n| n.contains("no view counter")),
        "{tg}"
    );

    // The same numbers, as people read them.
    let text = run_at(env, end(), &["insights", "--account", "masto"]);
    assert_eq!(text.code, 0, "{}", text.all_output());
    let out = &text.stdout;
    assert!(out.starts_with("masto (Mastodon)"), "{out}");
    assert!(!out.contains("bsky"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let line = |start: &str| -> String {
        lines
            .iter()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?} in\n{out}"))
            .to_string()
    };
    assert!(
        line("followers:").contains(&format!(
            "{} -> {} (+{}, +{:.1}%)",
            followers(MID_HOUR),
            followers(END_HOUR),
            END_HOUR - MID_HOUR,
            (END_HOUR - MID_HOUR) as f64 * 100.0 / followers(MID_HOUR) as f64
        )),
        "{out}"
    );
    assert!(
        line("best times:").contains(&format!(
            "fairly sure of 1 slot (from {all_compared} posts) over the last year"
        )),
        "{out}"
    );
    let tuesday_line = line("Tue 09:00");
    assert!(
        tuesday_line.contains(&format!(
            "{:.1}  (12 posts",
            mean(&tuesdays) * 100.0 / audience
        )) && tuesday_line.ends_with("fairly sure"),
        "{out}"
    );
    assert!(
        line("trend:").contains(&format!("up {:.0}%", change)),
        "{out}"
    );
    assert!(
        line("far above:").contains(&format!("({})", 20 * ONE)),
        "{out}"
    );
    assert!(line("never given:").contains("views"), "{out}");

    let all = run_at(env, end(), &["insights"]);
    assert_eq!(all.code, 0, "{}", all.all_output());
    assert!(
        all.stdout
            .contains("not enough data yet: 2 posts old enough to compare"),
        "{}",
        all.stdout
    );
    assert!(
        all.stdout.contains(
            "never given: views, likes, reposts and replies (the Bot API has no view counter)"
        ),
        "{}",
        all.stdout
    );

    // A shorter period: the 7 days before the end hold the last Tuesday and Thursday and
    // the young post.
    let week = json_at(
        env,
        end(),
        &["insights", "--account", "masto", "--since", "7d"],
    );
    assert_eq!(week["accounts"].as_array().map(Vec::len), Some(1));
    assert_eq!(week["accounts"][0]["posts"], 3);
    assert_eq!(
        week["accounts"][0]["best_times"]["slots"][0]["label"],
        "Tue 09:00"
    );
    let _ = &h.masto;
}

#[test]
fn slot_suggestions_come_from_the_best_times_and_apply_says_what_changed() {
    let h = history();
    let env = &h.env;
    let db_slots = |account: &str| -> Option<(String, String)> {
        env.db()
            .query_row(
                "SELECT s.rules, s.tz FROM slots s JOIN accounts a ON a.id = s.account_id WHERE a.name = ?1",
                [account],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .ok()
    };
    run_at(
        env,
        end(),
        &["queue", "slots", "set", "masto", "mon,wed 12:00"],
    );
    assert_eq!(
        db_slots("masto"),
        Some(("mon,wed 12:00".into(), "Europe/Berlin".into()))
    );

    // Proposed, not set.
    let proposed = json_at(env, end(), &["queue", "slots", "suggest", "masto"]);
    assert_eq!(proposed["rules"], "tue 09:00", "{proposed}");
    assert_eq!(proposed["applied"], false);
    assert_eq!(proposed["suggested"][0]["slot"], "Tue 09:00");
    assert_eq!(proposed["suggested"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        db_slots("masto"),
        Some(("mon,wed 12:00".into(), "Europe/Berlin".into()))
    );
    let text = run_at(
        env,
        end(),
        &["queue", "slots", "suggest", "masto", "--count", "5"],
    );
    assert_eq!(text.code, 0, "{}", text.all_output());
    assert!(text.stdout.contains("Tue 09:00"), "{}", text.stdout);
    assert!(
        text.stderr
            .contains("set them with `postctl queue slots suggest masto --apply`"),
        "{}",
        text.stderr
    );

    // Applied: the old times go, the new one comes, and `queue slots list` shows it.
    let applied = run_at(
        env,
        end(),
        &["queue", "slots", "suggest", "masto", "--apply"],
    );
    assert_eq!(applied.code, 0, "{}", applied.all_output());
    assert!(
        applied.stderr.contains(
            "masto: slots were \"mon,wed 12:00\" (Europe/Berlin), now \"tue 09:00\" (Europe/Berlin); added Tue 09:00; removed Mon 12:00, Wed 12:00"
        ),
        "{}",
        applied.stderr
    );
    assert_eq!(
        db_slots("masto"),
        Some(("tue 09:00".into(), "Europe/Berlin".into()))
    );
    let listed = json_at(env, end(), &["queue", "slots", "list"]);
    let masto = listed
        .as_array()
        .expect("slots")
        .iter()
        .find(|s| s["account"] == "masto")
        .expect("masto's slots");
    assert_eq!(masto["rules"], "tue 09:00");
    // The next free slot: Tuesday 2027-02-16 09:00 Berlin.
    assert_eq!(masto["next_free"][0], "2027-02-16T08:00:00Z");
    let again = run_at(
        env,
        end(),
        &["queue", "slots", "suggest", "masto", "--apply"],
    );
    assert!(again.stderr.contains("nothing changed"), "{}", again.stderr);

    // Not enough data: said, and nothing changes.
    let oplog = |env: &Env| -> i64 {
        env.db()
            .query_row("SELECT count(*) FROM oplog", [], |row| row.get(0))
            .expect("oplog")
    };
    let before = oplog(env);
    let thin = run_at(
        env,
        end(),
        &["queue", "slots", "suggest", "bsky", "--apply"],
    );
    assert_eq!(thin.code, 0, "{}", thin.all_output());
    assert!(
        thin.stderr
            .contains("bsky: not enough data yet: 2 posts old enough to compare")
            && thin.stderr.contains("the queue slots are unchanged"),
        "{}",
        thin.stderr
    );
    assert_eq!(db_slots("bsky"), None);
    let thin_json = json_at(
        env,
        end(),
        &["queue", "slots", "suggest", "bsky", "--apply"],
    );
    assert_eq!(thin_json["applied"], false);
    assert_eq!(thin_json["rules"], Value::Null);
    assert_eq!(oplog(env), before);

    // Linked to a server whose workspace has masto: --apply replaces the server's slots
    // (it had none), and this database's, and says where. The times still come from this
    // database's analytics, as `stats` reads them.
    let server = common::server::Server::start_with(&[("POSTCTL_SERVER_PUBLISH", "false")]);
    server.add_user("alice", &[]);
    env.ok_full(
        &["login", &server.base, "--user", "alice", "--password-stdin"],
        Some(common::server::PASSWORD),
        &[],
    );
    env.ok(&["accounts", "push", "masto"]);
    let on_server = run_at(
        env,
        end(),
        &["queue", "slots", "suggest", "masto", "--apply"],
    );
    assert_eq!(on_server.code, 0, "{}", on_server.all_output());
    assert!(
        on_server.stderr.contains(&format!(
            "masto: slots were none, now \"tue 09:00\" (Europe/Berlin) on the server {} and here",
            server.base
        )),
        "{}",
        on_server.stderr
    );
    let session = common::server::token(env);
    let (status, slots) = server.get("/api/v1/accounts/masto/queue", &session);
    assert_eq!(status, 200, "{slots}");
    assert_eq!(
        (slots["rules"].as_str(), slots["tz"].as_str()),
        (Some("tue 09:00"), Some("Europe/Berlin"))
    );
}

#[test]
fn bad_accounts_and_spans_are_usage_errors_that_change_nothing() {
    let masto = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&masto]);
    let oplog = || -> i64 {
        env.db()
            .query_row("SELECT count(*) FROM oplog", [], |row| row.get(0))
            .expect("oplog")
    };
    let before = oplog();
    let cases: &[(&[&str], &str)] = &[
        (&["insights", "--account", "nope"], "nope"),
        (&["insights", "--since", "3x"], "is not a span"),
        (&["insights", "--period", "0d"], "is not a span"),
        (&["insights", "--since", "400d"], "a year at most"),
        (&["queue", "slots", "suggest", "nope"], "nope"),
        (
            &["queue", "slots", "suggest", "masto", "--count", "0"],
            "--count",
        ),
    ];
    for (args, says) in cases {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.all_output());
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    assert_eq!(oplog(), before);
    // An account with nothing collected yet: said, not guessed.
    let fresh = env.run(&["insights", "--account", "masto"]);
    assert_eq!(fresh.code, 0, "{}", fresh.all_output());
    assert!(
        fresh
            .stdout
            .contains("nothing collected yet: run `postctl stats collect`"),
        "{}",
        fresh.stdout
    );
    let none = env.run(&["queue", "slots", "suggest", "masto"]);
    assert_eq!(none.code, 0, "{}", none.all_output());
    assert!(
        none.stderr.contains("masto: not enough data yet: 0 posts"),
        "{}",
        none.stderr
    );
}
