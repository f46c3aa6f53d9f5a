//! End to end: `postctl stats collect` over a simulated week against fakes whose
//! engagement grows by the hour, with the clock pinned by POSTCTL_NOW for each run; then
//! what `postctl stats` prints. Publishing goes by the real clock, so the simulated week
//! starts when the posts went out.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use common::networks::{Fake, Net, add_instagram, set_host};
use common::{Env, Run};
use postctl_tests::fakes::growth::{
    LIKES_PER_HOUR, QUOTES_PER_HOUR, REPLIES_PER_HOUR, REPOSTS_PER_HOUR, followers, grown,
};
use postctl_tests::fakes::instagram::IgCounts;
use postctl_tests::fakes::{
    FakeInstagram, FakeS3, FakeServer, FakeTelegram, FakeVk, RateLimit, VkCounts, XCounts,
};
use serde_json::Value;

/// Publishes `text` to `to` now and returns the post's id.
fn publish(env: &Env, text: &str, to: &str) -> String {
    let run = env.run(&["--json", "post", text, "--to", to]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    run.json()["post_id"].as_str().expect("post_id").to_string()
}

/// When the last of the posts went out, from `stats --json`, plus a minute: hour 0 of the
/// simulated week.
fn start_of_week(env: &Env) -> DateTime<Utc> {
    let rows = env.json(&["stats", "--since", "1d"]);
    let latest = rows["posts"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            r["published"]
                .as_str()
                .expect("published")
                .parse::<DateTime<Utc>>()
                .expect("time")
        })
        .max()
        .expect("published posts");
    latest + chrono::Duration::minutes(1)
}

fn at(start: DateTime<Utc>, hour: u64) -> String {
    (start + chrono::Duration::hours(hour as i64)).to_rfc3339()
}

/// `stats collect --json` with the clock at `now`.
fn collect(env: &Env, now: &str, more: &[&str]) -> Run {
    let mut args = vec!["--json", "stats", "collect"];
    args.extend_from_slice(more);
    env.run_full(&args, None, &[("POSTCTL_NOW", now)])
}

fn of<'a>(collected: &'a Value, account: &str) -> &'a Value {
    collected
        .as_array()
        .expect("one entry per account")
        .iter()
        .find(|c| c["account"] == account)
        .unwrap_or_else(|| panic!("no entry for {account} in {collected}"))
}

fn count(db: &rusqlite::Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |row| row.get(0)).expect(sql)
}

fn set_config(env: &Env, from: &str, to: &str) {
    let path = env.config_path();
    let text = std::fs::read_to_string(&path).expect("config");
    assert!(text.contains(from), "{text}");
    std::fs::write(&path, text.replace(from, to)).expect("write config");
}

#[test]
fn a_simulated_week_reads_each_post_on_schedule_and_keeps_its_history() {
    let masto = Fake::start(Net::Mastodon);
    let bsky = Fake::start(Net::Bluesky);
    let env = Env::with_fakes([&masto, &bsky]);
    set_config(
        &env,
        "# keep_snapshots_days = 90",
        "keep_snapshots_days = 3",
    );
    // Three posts, made an hour apart on the networks' clocks, so their engagement differs.
    let mut posts = Vec::new();
    for (hour, text) in ["First post", "Second post", "Third post"]
        .iter()
        .enumerate()
    {
        masto.mastodon().set_hour(hour as u64);
        bsky.bluesky().set_hour(hour as u64);
        posts.push(publish(&env, text, "masto,bsky"));
    }
    let statuses: Vec<String> = masto
        .mastodon()
        .posts()
        .iter()
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(statuses.len(), 3);
    let start = start_of_week(&env);

    let mut masto_reads = Vec::new();
    let mut bsky_reads = Vec::new();
    let mut account_reads = Vec::new();
    let mut warnings = Vec::new();
    let mut deleted_at = None;
    for hour in 0..=168u64 {
        // The networks' clock runs two hours ahead of the week's: the first post is two
        // hours old at hour 0 on them.
        masto.mastodon().set_hour(hour + 2);
        bsky.bluesky().set_hour(hour + 2);
        if hour == 30 {
            masto.mastodon().delete_on_network(&statuses[2]);
        }
        if hour == 100 {
            masto.mastodon().configure(|c| c.quotes_count = false);
        }
        let run = collect(&env, &at(start, hour), &[]);
        assert_eq!(run.code, 0, "hour {hour}: {}", run.all_output());
        let collected = run.json();
        let m = of(&collected, "masto");
        let b = of(&collected, "bsky");
        if m["posts_counted"].as_u64() > Some(0) || m["posts_deleted"].as_u64() > Some(0) {
            masto_reads.push((hour, m["posts_counted"].as_u64().unwrap_or(0)));
        }
        if m["posts_deleted"] == 1 {
            deleted_at = Some(hour);
        }
        if b["posts_counted"].as_u64() > Some(0) {
            assert_eq!(b["posts_counted"], 3, "hour {hour}: {b}");
            bsky_reads.push(hour);
        }
        if let Some(figures) = m.get("account_figures") {
            assert_eq!(figures["followers"], followers(hour + 2), "hour {hour}");
            account_reads.push(hour);
        }
        warnings.extend(
            run.stderr
                .lines()
                .filter(|l| l.contains("no longer gives"))
                .map(|l| (hour, l.to_string())),
        );
    }

    // Hourly for 48 hours, then daily at the hour of the last hourly reading.
    let expected_hours: Vec<u64> = (0..48).chain([71, 95, 119, 143, 167]).collect();
    assert_eq!(bsky_reads, expected_hours);
    let masto_hours: Vec<u64> = masto_reads.iter().map(|(h, _)| *h).collect();
    assert_eq!(masto_hours, expected_hours);
    // The status deleted at hour 30 is reported once and never asked again.
    assert_eq!(deleted_at, Some(30));
    for (hour, counted) in &masto_reads {
        let expected = if *hour < 30 { 3 } else { 2 };
        assert_eq!(*counted, expected, "hour {hour}");
    }
    let status_reads = |id: &str| {
        masto
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path == format!("/api/v1/statuses/{id}"))
            .count()
    };
    assert_eq!(status_reads(&statuses[0]), expected_hours.len());
    assert_eq!(
        status_reads(&statuses[2]),
        31,
        "asked up to and including hour 30"
    );
    // Bluesky is asked for the three posts at once.
    let get_posts = bsky
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/xrpc/app.bsky.feed.getPosts"))
        .count();
    assert_eq!(get_posts, expected_hours.len());
    // Account figures daily.
    assert_eq!(account_reads, vec![0, 24, 48, 72, 96, 120, 144, 168]);
    // quotes_count stopped at hour 100: said once, at the next reading.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].0, 119, "{warnings:?}");
    assert!(warnings[0].1.contains("`quotes`"), "{warnings:?}");

    // Roll-ups: one per post and local day with a reading (Berlin is UTC+1 in winter),
    // kept; raw readings only for the last 3 days.
    let berlin = FixedOffset::east_opt(3600).expect("offset");
    let days = |hours: &[u64]| -> usize {
        hours
            .iter()
            .map(|h| {
                (start + chrono::Duration::hours(*h as i64))
                    .with_timezone(&berlin)
                    .date_naive()
            })
            .collect::<BTreeSet<_>>()
            .len()
    };
    let before_deletion: Vec<u64> = (0..30).collect();
    let db = env.db();
    let daily = count(&db, "SELECT count(*) FROM metric_daily");
    let expected_daily = 5 * days(&expected_hours) + days(&before_deletion);
    assert_eq!(daily as usize, expected_daily);
    // Readings at hours 119, 143 and 167 are within 3 days of hour 168: 5 live targets.
    assert_eq!(count(&db, "SELECT count(*) FROM metric_snapshots"), 5 * 3);
    assert_eq!(
        count(&db, "SELECT count(*) FROM account_daily") as usize,
        2 * days(&[0, 24, 48, 72, 96, 120, 144, 168])
    );

    // The numbers `stats` prints: the first post was 169 hours old at its last reading.
    let age = 167 + 2;
    let shown = env.run_full(
        &["stats", &posts[0]],
        None,
        &[("POSTCTL_NOW", &at(start, 168))],
    );
    assert_eq!(shown.code, 0, "{}", shown.all_output());
    let masto_line = format!(
        "likes {}  reposts {}  replies {}",
        grown(LIKES_PER_HOUR, age),
        grown(REPOSTS_PER_HOUR, age),
        grown(REPLIES_PER_HOUR, age)
    );
    let bsky_line = format!(
        "likes {}  reposts {}  replies {}  quotes {}  bookmarks 0",
        grown(LIKES_PER_HOUR, age),
        grown(REPOSTS_PER_HOUR, age),
        grown(REPLIES_PER_HOUR, age),
        grown(QUOTES_PER_HOUR, age)
    );
    assert!(
        shown
            .stdout
            .contains(&format!("counters:   {masto_line}\n")),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains(&bsky_line), "{}", shown.stdout);
    assert!(shown.stdout.contains("curve:      ▁"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains("never given: views"),
        "{}",
        shown.stdout
    );

    let one = env.json(&["stats", &posts[0]]);
    let masto_target = one["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["account"] == "masto")
        .expect("masto");
    // The curve: daily roll-ups before the raw readings kept, then those readings.
    let curve = masto_target["curve"].as_array().expect("curve");
    let kept_from = start + chrono::Duration::hours(119);
    let rolled_days: BTreeSet<_> = expected_hours
        .iter()
        .map(|h| start + chrono::Duration::hours(*h as i64))
        .filter(|t| *t < kept_from)
        .map(|t| t.with_timezone(&berlin).date_naive())
        .collect();
    assert_eq!(curve.len(), rolled_days.len() + 3, "{curve:?}");
    let engagement: Vec<u64> = curve
        .iter()
        .map(|p| p["engagement"].as_u64().expect("engagement"))
        .collect();
    assert!(
        engagement.windows(2).all(|w| w[0] <= w[1]),
        "{engagement:?}"
    );

    // The table: most engagement first; the deleted status says so.
    let table = env.run_full(
        &["--json", "stats", "--account", "masto", "--sort", "replies"],
        None,
        &[("POSTCTL_NOW", &at(start, 168))],
    );
    let rows = table.json();
    let masto_figures = &rows["accounts"][0];
    assert_eq!(masto_figures["account"], "masto");
    assert_eq!(masto_figures["figures"]["followers"], followers(168 + 2));
    assert_eq!(
        masto_figures["daily"].as_array().map(Vec::len),
        Some(days(&[0, 24, 48, 72, 96, 120, 144, 168]))
    );
    let rows = rows["posts"].as_array().expect("rows");
    let order: Vec<&str> = rows
        .iter()
        .map(|r| r["post_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(order, [&posts[0], &posts[1], &posts[2]].map(String::as_str));
    assert_eq!(rows[2]["standing"], "deleted");
    assert_eq!(rows[2]["counters"]["replies"], grown(REPLIES_PER_HOUR, 29));
    let text = env.run_full(&["stats"], None, &[("POSTCTL_NOW", &at(start, 168))]);
    assert_eq!(text.code, 0, "{}", text.all_output());
    let first_row = text.stdout.lines().nth(1).unwrap_or_default();
    assert!(first_row.contains("bsky"), "{}", text.stdout);
    assert!(text.stdout.contains("deleted"), "{}", text.stdout);
    assert!(
        text.stderr.contains("Mastodon: never gives views"),
        "{}",
        text.stderr
    );
    let figures_line = text
        .stdout
        .lines()
        .find(|l| l.starts_with("masto "))
        .unwrap_or_default();
    assert!(
        figures_line.contains(&format!("{}  ", followers(170))) && figures_line.contains("n/a"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_rate_limit_ends_the_accounts_run_and_the_next_run_reads_it() {
    let masto = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&masto]);
    for text in ["One", "Two", "Three"] {
        publish(&env, text, "masto");
    }
    let start = start_of_week(&env);
    masto
        .mastodon()
        .set_rate_limit(RateLimit::new(2, Duration::from_secs(3)));
    let limited = collect(&env, &at(start, 1), &[]);
    assert_eq!(limited.code, 1, "{}", limited.all_output());
    assert!(limited.stderr.contains("rate limit"), "{}", limited.stderr);
    assert!(
        masto.requests().iter().any(|r| r.status == Some(429)),
        "the fake never limited"
    );
    let db = env.db();
    assert_eq!(count(&db, "SELECT count(*) FROM metric_snapshots"), 0);
    drop(db);
    std::thread::sleep(Duration::from_millis(3500));
    masto.mastodon().set_rate_limit(RateLimit::generous());
    let read = collect(&env, &at(start, 1), &[]);
    assert_eq!(read.code, 0, "{}", read.all_output());
    assert_eq!(of(&read.json(), "masto")["posts_counted"], 3);
}

#[test]
fn a_webhook_reports_nothing_and_says_so() {
    let hook = Fake::start(Net::Webhook);
    let env = Env::with_fakes([&hook]);
    publish(&env, "Hello", "hook");
    let start = start_of_week(&env);
    let run = collect(&env, &at(start, 0), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let collected = run.json();
    let hook_entry = of(&collected, "hook");
    assert!(
        hook_entry["posts_not_provided"]
            .as_str()
            .is_some_and(|w| w.contains("webhook")),
        "{hook_entry}"
    );
    assert_eq!(hook_entry["posts_counted"], 0);
    let rows = env.json(&["stats"]);
    for row in rows["posts"].as_array().expect("rows") {
        assert_eq!(row["engagement"], Value::Null, "never a fake zero: {row}");
        assert_eq!(row["standing"], "not provided", "{row}");
    }
}

/// The Telegram post's message id in the fake channel.
fn telegram_message(tg: &Fake) -> i64 {
    tg.posts()
        .last()
        .expect("a message in the channel")
        .id
        .parse()
        .expect("message id")
}

fn reactions_of(env: &Env, post: &str, now: &str) -> Value {
    let run = env.run_full(&["--json", "stats", post], None, &[("POSTCTL_NOW", now)]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    run.json()["targets"][0].clone()
}

#[test]
fn telegram_reaction_counts_arrive_as_updates_read_once_and_views_are_said_missing() {
    let tg = Fake::start(Net::Telegram);
    let env = Env::with_fakes([&tg]);
    let post = publish(&env, "Hello channel", "tg");
    let message = telegram_message(&tg);
    let start = start_of_week(&env);
    // Before postctl first asks for reaction updates, Telegram sends none.
    tg.telegram().react(message, &[("👍", 1)]);
    assert_eq!(tg.telegram().pending_updates(), 0);

    let run = collect(&env, &at(start, 0), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let entry = of(&run.json(), "tg").clone();
    assert_eq!(entry["posts_counted"], 1, "{entry}");
    assert_eq!(entry["account_figures"]["members"], followers(0), "{entry}");
    let shown = reactions_of(&env, &post, &at(start, 0));
    assert_eq!(shown["counters"], counters(&[]), "{shown}");

    // People react; each change pushes the message's whole set.
    tg.telegram().react(message, &[("👍", 3), ("🔥", 1)]);
    tg.telegram().react(message, &[("👍", 5), ("🔥", 1)]);
    assert_eq!(tg.telegram().pending_updates(), 2);
    let run = collect(&env, &at(start, 1), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let shown = reactions_of(&env, &post, &at(start, 1));
    assert_eq!(
        shown["counters"],
        counters(&[("reaction:👍", 5), ("reaction:🔥", 1)]),
        "{shown}"
    );
    assert_eq!(shown["engagement"], 6, "{shown}");
    assert_eq!(shown["curve"].as_array().map(Vec::len), Some(2), "{shown}");

    // The next run asks past what was kept: Telegram forgets those updates, and the
    // counts stay as they were.
    let run = collect(&env, &at(start, 2), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(tg.telegram().pending_updates(), 0);
    let db = rusqlite::Connection::open(env.db_path()).expect("db");
    let next: i64 = db
        .query_row("SELECT next_offset FROM update_sources", [], |r| r.get(0))
        .expect("offset kept");
    assert!(next > 700_000_001, "{next}");
    let shown = reactions_of(&env, &post, &at(start, 2));
    assert_eq!(shown["engagement"], 6, "{shown}");

    let text = env.run_full(&["stats", &post], None, &[("POSTCTL_NOW", &at(start, 2))]);
    assert!(text.stdout.contains("reaction:👍 5"), "{}", text.stdout);
    assert!(
        text.stdout.contains(
            "never given: views, likes, reposts and replies (the Bot API has no view counter)"
        ),
        "{}",
        text.stdout
    );
    let table = env.run_full(&["stats"], None, &[("POSTCTL_NOW", &at(start, 2))]);
    assert!(
        table.stderr.contains("Telegram: never gives views"),
        "{}",
        table.all_output()
    );
}

#[test]
fn telegram_without_admin_rights_or_with_a_webhook_says_why_and_leaves_the_webhook() {
    let tg = Fake::start(Net::Telegram);
    let env = Env::with_fakes([&tg]);
    publish(&env, "Hello channel", "tg");
    let start = start_of_week(&env);

    tg.telegram().configure(|c| c.admin_of.clear());
    let run = collect(&env, &at(start, 0), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let entry = of(&run.json(), "tg").clone();
    assert!(
        entry["posts_not_provided"]
            .as_str()
            .is_some_and(|w| w.contains("administrator of the channel")),
        "{entry}"
    );
    let rows = env.json(&["stats"]);
    assert_eq!(rows["posts"][0]["engagement"], Value::Null, "{rows}");
    assert_eq!(rows["posts"][0]["standing"], "not provided", "{rows}");

    tg.telegram()
        .configure(|c| c.admin_of.push(FakeTelegram::CHANNEL));
    // Another program of the user's receives the bot's updates.
    tg.telegram()
        .set_webhook("https://example.invalid/bot-updates");
    let run = collect(&env, &at(start, 1), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let entry = of(&run.json(), "tg").clone();
    assert!(
        entry["posts_not_provided"]
            .as_str()
            .is_some_and(|w| w.contains("webhook") && w.contains("does not remove")),
        "{entry}"
    );
    assert!(
        tg.telegram().webhook().is_some()
            && !tg
                .requests()
                .iter()
                .any(|r| r.path.contains("deleteWebhook")),
        "postctl left the webhook alone"
    );
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let env = Env::new();
    let before = env.dump();
    let run = env.fails(&["stats", "collect", "--since", "a week"], 2);
    assert!(run.stderr.contains("90m, 48h, 7d or 2w"), "{}", run.stderr);
    env.fails(&["stats", "--since", "7y"], 2);
    let run = env.fails(&["stats", "collect", "--account", "nobody"], 2);
    assert!(run.stderr.contains("nobody"), "{}", run.stderr);
    assert_eq!(env.dump(), before);
}

/// Stops the daemon however the test ends.
struct DaemonGuard(Option<std::process::Child>);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        if let Some(mut daemon) = self.0.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

#[test]
fn the_daemon_collects_in_the_background() {
    let masto = Fake::start(Net::Mastodon);
    let mut env = Env::with_fakes([&masto]);
    publish(&env, "Counted by the daemon", "masto");
    // The daemon goes by the real clock.
    env.unset("POSTCTL_NOW");
    let mut guard = DaemonGuard(Some(
        env.command(&["daemon"], &[])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the daemon"),
    ));
    let started = std::time::Instant::now();
    let read = loop {
        let db = env.db();
        let snapshots = count(&db, "SELECT count(*) FROM metric_snapshots");
        let accounts = count(&db, "SELECT count(*) FROM account_daily");
        if snapshots == 1 && accounts == 1 {
            break true;
        }
        if started.elapsed() > Duration::from_secs(10) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let daemon = guard.0.take().expect("the daemon");
    let pid = daemon.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let output = daemon.wait_with_output().expect("daemon output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(read, "the daemon read no counters within 10 s: {stderr}");
    assert!(stderr.contains("postctl daemon: stopped"), "{stderr}");
}

#[test]
fn a_post_bluesky_has_not_indexed_yet_is_asked_again_and_a_deleted_one_is_not() {
    let bsky = Fake::start(Net::Bluesky);
    let env = Env::with_fakes([&bsky]);
    bsky.bluesky().configure(|c| c.index_delay_hours = 1);
    publish(&env, "Fresh", "bsky");
    publish(&env, "Gone soon", "bsky");
    let records = bsky.bluesky().posts();
    bsky.bluesky().delete_on_network(&records[1].id);
    let start = start_of_week(&env);
    let first = collect(&env, &at(start, 0), &[]);
    assert_eq!(first.code, 0, "{}", first.all_output());
    let entry = of(&first.json(), "bsky").clone();
    assert_eq!(
        (
            &entry["posts_counted"],
            &entry["posts_pending"],
            &entry["posts_deleted"]
        ),
        (&Value::from(0), &Value::from(1), &Value::from(1)),
        "{entry}"
    );
    bsky.bluesky().set_hour(1);
    let second = collect(&env, &at(start, 0), &["--account", "bsky"]);
    let entry = of(&second.json(), "bsky").clone();
    // Not due by the schedule, yet read: it was never read before.
    assert_eq!(entry["posts_counted"], 1, "{entry}");
    assert_eq!(entry["posts_deleted"], 0, "{entry}");
    let asked: Vec<String> = bsky
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/xrpc/app.bsky.feed.getPosts"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(asked.len(), 2);
    let deleted_uri = records[1].id.replace(':', "%3A").replace('/', "%2F");
    assert!(asked[0].contains(&deleted_uri), "{asked:?}");
    assert!(
        !asked[1].contains(&deleted_uri),
        "the deleted post was asked again: {asked:?}"
    );
}

/// The row of `stats --json` for `post` on `account`.
fn row(rows: &Value, post: &str, account: &str) -> Value {
    rows["posts"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["post_id"] == post && r["account"] == account)
        .unwrap_or_else(|| panic!("no row for {post} on {account} in {rows}"))
        .clone()
}

fn counters(pairs: &[(&str, u64)]) -> Value {
    pairs
        .iter()
        .map(|(name, n)| (name.to_string(), Value::from(*n)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[test]
fn x_gives_public_metrics_with_impressions_as_views_and_reports_deleted_posts() {
    let env = Env::new();
    let (fake, _) = common::x::signed_in_account(&env);
    fake.configure(|c| c.followers = 321);
    let kept = publish(&env, "Counted on X", "me-x");
    let gone = publish(&env, "Deleted on X", "me-x");
    let posts = fake.posts();
    fake.set_counts(
        &posts[0].id,
        XCounts {
            likes: 5,
            retweets: 3,
            replies: 2,
            quotes: 1,
            bookmarks: 4,
            impressions: 900,
        },
    );
    fake.delete_on_network(&posts[1].id);
    let start = start_of_week(&env);
    let run = collect(&env, &at(start, 0), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let entry = of(&run.json(), "me-x").clone();
    assert_eq!(entry["posts_counted"], 1, "{entry}");
    assert_eq!(entry["posts_deleted"], 1, "{entry}");
    assert_eq!(entry["account_figures"]["followers"], 321, "{entry}");
    // Both posts in one request.
    let reads: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/2/tweets?"))
        .map(|r| r.path)
        .collect();
    assert_eq!(reads.len(), 1, "{reads:?}");
    // In either order: every command's clock starts at the same pinned moment.
    assert!(
        reads[0].contains(&format!("{}%2C{}", posts[0].id, posts[1].id))
            || reads[0].contains(&format!("{}%2C{}", posts[1].id, posts[0].id)),
        "{reads:?}"
    );
    let rows = env.json(&["stats"]);
    let counted = row(&rows, &kept, "me-x");
    assert_eq!(
        counted["counters"],
        counters(&[
            ("likes", 5),
            ("reposts", 3),
            ("replies", 2),
            ("quotes", 1),
            ("bookmarks", 4),
            ("views", 900),
        ]),
        "{counted}"
    );
    assert_eq!(
        counted["engagement"], 11,
        "views are not engagement: {counted}"
    );
    assert_eq!(counted["deleted"], Value::Null, "{counted}");
    let deleted = row(&rows, &gone, "me-x");
    assert!(deleted["deleted"].is_string(), "{deleted}");
    let shown = env.run_full(&["stats", &kept], None, &[("POSTCTL_NOW", &at(start, 0))]);
    assert!(
        shown.stdout.contains("bookmarks 4  views 900"),
        "{}",
        shown.stdout
    );
}

/// `postctl accounts add vk` for the fake's wall `owner`, the token on stdin.
fn add_vk(env: &Env, fake: &FakeVk, name: &str, owner: &str, extra: &[&str]) {
    let base = fake.base_url();
    let mut args = vec![
        "accounts",
        "add",
        "vk",
        "--name",
        name,
        "--base-url",
        &base,
        "--owner-id",
        owner,
    ];
    args.extend_from_slice(extra);
    args.push("--token-stdin");
    let run = env.run_full(&args, Some(format!("{}\n", FakeVk::TOKEN).as_bytes()), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
}

#[test]
fn vk_gives_likes_reposts_comments_and_views_members_and_followers() {
    let fake = FakeVk::start();
    fake.configure(|c| {
        c.followers = 55;
        c.groups[0].members = 777;
    });
    let env = Env::new();
    let community = format!("-{}", FakeVk::GROUP_ID);
    add_vk(&env, &fake, "vk", &community, &["--from-group"]);
    add_vk(&env, &fake, "vkme", &FakeVk::USER_ID.to_string(), &[]);
    let kept = publish(&env, "Counted on VK", "vk,vkme");
    let gone = publish(&env, "Deleted on VK", "vk");
    let posts = fake.posts();
    let on = |wall: &str, text: &str| {
        posts
            .iter()
            .find(|p| p.channel == wall && p.text == text)
            .unwrap_or_else(|| panic!("no {text:?} on {wall}: {posts:?}"))
            .id
            .clone()
    };
    let (community_post, user_post) = (
        on(&community, "Counted on VK"),
        on(&FakeVk::USER_ID.to_string(), "Counted on VK"),
    );
    let deleted_post = on(&community, "Deleted on VK");
    let counts = |likes, reposts, comments, views| VkCounts {
        likes,
        reposts,
        comments,
        views,
    };
    fake.set_counts(&community_post, counts(7, 2, 3, 1500));
    fake.set_counts(&user_post, counts(1, 0, 0, 40));
    fake.delete_on_network(&deleted_post);
    let start = start_of_week(&env);
    let run = collect(&env, &at(start, 0), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let collected = run.json();
    let entry = of(&collected, "vk").clone();
    assert_eq!(entry["posts_counted"], 1, "{entry}");
    assert_eq!(entry["posts_deleted"], 1, "{entry}");
    assert_eq!(
        entry["account_figures"],
        counters(&[("members", 777)]),
        "{entry}"
    );
    let mine = of(&collected, "vkme").clone();
    assert_eq!(mine["posts_counted"], 1, "{mine}");
    assert_eq!(
        mine["account_figures"],
        counters(&[("followers", 55)]),
        "{mine}"
    );
    // The community's two posts in one request.
    let asked: Vec<String> = fake
        .calls_of("wall.getById")
        .iter()
        .map(|p| p["posts"].as_str().unwrap_or_default().to_string())
        .collect();
    // In either order: every command's clock starts at the same pinned moment.
    let (a, b) = (
        format!("{community}_{community_post}"),
        format!("{community}_{deleted_post}"),
    );
    assert!(
        asked.contains(&format!("{a},{b}")) || asked.contains(&format!("{b},{a}")),
        "{asked:?}"
    );
    let rows = env.json(&["stats"]);
    let counted = row(&rows, &kept, "vk");
    assert_eq!(
        counted["counters"],
        counters(&[
            ("likes", 7),
            ("reposts", 2),
            ("replies", 3),
            ("views", 1500)
        ]),
        "{counted}"
    );
    assert_eq!(counted["engagement"], 12, "{counted}");
    assert_eq!(
        row(&rows, &kept, "vkme")["counters"],
        counters(&[("likes", 1), ("reposts", 0), ("replies", 0), ("views", 40)])
    );
    let deleted = row(&rows, &gone, "vk");
    assert!(deleted["deleted"].is_string(), "{deleted}");
}

#[test]
fn instagram_gives_its_insights_waits_for_missing_ones_and_drops_a_retired_metric() {
    let fake = FakeInstagram::start();
    let s3 = FakeS3::start();
    let env = Env::new();
    add_instagram(&env, &fake);
    set_host(&env, &s3, FakeS3::SECRET_KEY);
    fake.set_followers(1200, 80);
    let image = env.file("chart.png", common::PNG_3X2);
    let image = image.to_str().expect("path").to_owned();
    let publish_image = |caption: &str| {
        let run = env.run(&[
            "--json", "post", caption, "--to", "insta", "--media", &image, "--alt", "a chart",
        ]);
        assert_eq!(run.code, 0, "{}", run.all_output());
        run.json()["post_id"].as_str().expect("post_id").to_string()
    };
    let kept = publish_image("Counted on Instagram");
    let waiting = publish_image("No insights yet");
    let gone = publish_image("Deleted on Instagram");
    let media = fake.media();
    assert_eq!(media.len(), 3);
    fake.set_counts(
        &media[0].id,
        IgCounts {
            views: 900,
            reach: 700,
            likes: 40,
            comments: 6,
            shares: 3,
            saved: 5,
        },
    );
    fake.delete_on_network(&media[2].id);
    let start = start_of_week(&env);
    let run = collect(&env, &at(start, 0), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let entry = of(&run.json(), "insta").clone();
    assert_eq!(entry["posts_counted"], 1, "{entry}");
    assert_eq!(entry["posts_pending"], 1, "{entry}");
    assert_eq!(entry["posts_deleted"], 1, "{entry}");
    assert_eq!(
        entry["account_figures"],
        counters(&[("followers", 1200), ("following", 80), ("posts", 2)]),
        "{entry}"
    );
    let asked = fake
        .log()
        .into_iter()
        .filter(|r| r.ends_with("/insights"))
        .count();
    assert_eq!(asked, 3, "one insights request per media");
    let rows = env.json(&["stats"]);
    let counted = row(&rows, &kept, "insta");
    assert_eq!(
        counted["counters"],
        counters(&[
            ("likes", 40),
            ("replies", 6),
            ("shares", 3),
            ("bookmarks", 5),
            ("views", 900),
            ("reach", 700),
            ("interactions", 54),
        ]),
        "{counted}"
    );
    assert_eq!(
        counted["engagement"], 49,
        "likes, comments and shares; saves, views, reach and Instagram's total are not: {counted}"
    );
    let pending = row(&rows, &waiting, "insta");
    assert_eq!(pending["counters"], Value::Null, "not zeros: {pending}");
    assert_eq!(pending["deleted"], Value::Null, "{pending}");
    let deleted = row(&rows, &gone, "insta");
    assert!(deleted["deleted"].is_string(), "{deleted}");

    // Meta retires `views`: the next reading leaves it out and says so once.
    fake.retire_metric("views");
    let run = collect(&env, &at(start, 1), &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let entry = of(&run.json(), "insta").clone();
    assert_eq!(entry["posts_counted"], 1, "{entry}");
    let warnings = entry["warnings"].to_string();
    assert!(warnings.contains("no longer gives `views`"), "{entry}");
    let counted = row(&env.json(&["stats"]), &kept, "insta");
    assert_eq!(counted["counters"]["views"], Value::Null, "{counted}");
    assert_eq!(counted["counters"]["likes"], 40, "{counted}");
}
