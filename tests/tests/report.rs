//! End to end: `postctl report` and `postctl stats export` over a history collected from
//! the fakes with the clock pinned by POSTCTL_NOW, checked against the numbers the fakes
//! gave; the HTML report opened in headless Chromium, kept off the network.
//!
//! The seeded history, in hours from [`common::NOW`] (a Friday, 11:00 in Berlin), the
//! fakes' clocks moved along:
//! - hour 0 and 1: posts A and B to Mastodon, Bluesky and Telegram (the previous week);
//! - hours 2, 26, 50, 74, 98, 122 and 146: collections, a day apart (A and B read each
//!   time, the accounts' followers and members too);
//! - hours 168, 169, 170: posts C, D, E (the week reported on);
//! - hours 171, 195 and 200: collections (C, D, E read each time; A, B and the accounts at
//!   171 and 195, a day apart);
//! - hour 201: the report, `--period 7d`: from hour 33 to hour 201. C, D and E are in it,
//!   read last at ages 32, 31, 30; A and B are in the previous period, as read at hour 26,
//!   the last reading before that period ended (they were read six times more since).

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use common::browser;
use common::networks::{Fake, Net};
use common::{Env, NOW, Run};
use postctl_tests::fakes::growth::{
    LIKES_PER_HOUR, QUOTES_PER_HOUR, REPLIES_PER_HOUR, REPOSTS_PER_HOUR, followers, grown,
};
use serde_json::Value;

fn at(hour: i64) -> String {
    (NOW.parse::<DateTime<Utc>>().expect("NOW") + Duration::hours(hour)).to_rfc3339()
}

struct Seeded {
    _fakes: Vec<Fake>,
    env: Env,
    /// Posts A and B, then C, D and E.
    posts: Vec<String>,
}

impl Seeded {
    /// Runs postctl with the clock at `hour`.
    fn run(&self, hour: i64, args: &[&str]) -> Run {
        self.env.run_full(args, None, &[("POSTCTL_NOW", &at(hour))])
    }

    /// `report ARGS` at hour 201, which must succeed.
    fn report(&self, args: &[&str]) -> Run {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        let run = self.run(201, &all);
        assert_eq!(run.code, 0, "{}", run.all_output());
        run
    }
}

fn seed() -> Seeded {
    let masto = Fake::start(Net::Mastodon);
    let bsky = Fake::start(Net::Bluesky);
    let tg = Fake::start(Net::Telegram);
    let env = Env::with_fakes([&masto, &bsky, &tg]);
    let mut seeded = Seeded {
        env,
        posts: Vec::new(),
        _fakes: Vec::new(),
    };
    let hour = |h: u64| {
        masto.mastodon().set_hour(h);
        bsky.bluesky().set_hour(h);
    };
    let publish = |seeded: &Seeded, h: u64, text: &str| -> String {
        hour(h);
        let run = seeded.run(h as i64, &["--json", "post", text, "--to", "masto,bsky,tg"]);
        assert_eq!(run.code, 0, "{}", run.all_output());
        run.json()["post_id"].as_str().expect("post_id").to_string()
    };
    let collect = |seeded: &Seeded, h: u64| {
        hour(h);
        let mut run = seeded.run(h as i64, &["stats", "collect", "--quiet"]);
        // On a loaded machine a fake can answer too slowly; what was read is kept and a
        // second run at the same hour reads the rest (the fakes' clocks have not moved).
        if run.code == 1 {
            run = seeded.run(h as i64, &["stats", "collect", "--quiet"]);
        }
        assert_eq!(run.code, 0, "hour {h}: {}", run.all_output());
    };
    let a = publish(&seeded, 0, "Post A: the launch");
    let b = publish(&seeded, 1, "Post B: | a pipe & <markup>");
    for h in [2, 26, 50, 74, 98, 122, 146] {
        collect(&seeded, h);
    }
    let c = publish(&seeded, 168, "Post C: week two");
    let d = publish(&seeded, 169, "Post D");
    let e = publish(&seeded, 170, "Post E");
    for h in [171, 195, 200] {
        collect(&seeded, h);
    }
    seeded.posts = vec![a, b, c, d, e];
    seeded._fakes = vec![masto, bsky, tg];
    seeded
}

fn account<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

/// What Mastodon's fake gives a post `age` hours old.
fn masto_counters(age: u64) -> Value {
    serde_json::json!({
        "likes": grown(LIKES_PER_HOUR, age),
        "reposts": grown(REPOSTS_PER_HOUR, age),
        "replies": grown(REPLIES_PER_HOUR, age),
        "quotes": grown(QUOTES_PER_HOUR, age),
    })
}

fn engagement_of(ages: &[u64]) -> u64 {
    ages.iter()
        .map(|&age| {
            grown(LIKES_PER_HOUR, age)
                + grown(REPOSTS_PER_HOUR, age)
                + grown(REPLIES_PER_HOUR, age)
                + grown(QUOTES_PER_HOUR, age)
        })
        .sum()
}

#[test]
fn the_report_counts_the_periods_posts_as_read_before_each_period_ended() {
    let seeded = seed();
    let report = seeded
        .report(&["--period", "7d", "--format", "json"])
        .json();
    let masto = account(&report, "masto");
    let ids: Vec<&str> = masto["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .map(|p| p["post_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        ids,
        seeded.posts[2..]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for (post, age) in masto["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .zip([32, 31, 30])
    {
        assert_eq!(post["counters"], masto_counters(age), "{post}");
        assert_eq!(post["engagement"], engagement_of(&[age]), "{post}");
    }
    assert_eq!(masto["totals"]["posts"], 3);
    assert_eq!(masto["totals"]["engagement"], engagement_of(&[32, 31, 30]));
    assert_eq!(
        masto["totals"]["counters"]["likes"],
        grown(LIKES_PER_HOUR, 32 + 31 + 30)
    );
    // The previous week's posts as read at hour 26, not as read at hour 200.
    assert_eq!(masto["previous_totals"]["posts"], 2);
    assert_eq!(
        masto["previous_totals"]["engagement"],
        engagement_of(&[26, 25])
    );
    // Top posts: the oldest post of the week has the most.
    let top: Vec<&str> = masto["top_posts"]
        .as_array()
        .expect("top")
        .iter()
        .map(|p| p["post_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(top, ids);
    // Followers: from the reading before the period (hour 26) to the last in it (195).
    let audience = &masto["audience"];
    assert_eq!(audience["counter"], "followers");
    assert_eq!(audience["end"], followers(195));
    assert_eq!(audience["change"], (followers(195) - followers(26)) as i64);
    assert_eq!(
        audience["previous_change"],
        (followers(26) - followers(2)) as i64
    );
    let points: Vec<u64> = audience["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p[1].as_u64().expect("a count"))
        .collect();
    assert_eq!(points, [50, 74, 98, 122, 146, 171, 195].map(followers));
    // The heat map, as `insights` reads the history: posts at least two days old at the
    // end of the period (A and B, Friday 11:00 and 12:00 in Berlin), by their latest
    // engagement per 100 followers when they went out (44: the first reading, at hour 2).
    let grid = &masto["best_times"];
    let cells = &grid["cells"];
    assert_eq!(grid["measure"], "rate", "{grid}");
    assert_eq!(cells[4][11]["posts"], 1, "{cells}");
    assert_eq!(cells[4][12]["posts"], 1);
    assert_eq!(cells[4][13]["posts"], 0, "post E is too young to compare");
    let rate = cells[4][11]["value"].as_f64().expect("a value");
    let expected = engagement_of(&[195]) as f64 * 100.0 / followers(2) as f64;
    assert!((rate - expected).abs() < 1e-9, "{rate} {expected}");
    assert_eq!(cells[0][11]["value"], Value::Null);

    // Telegram: reactions are counted from the bot's updates (none arrived: a counted
    // zero, read from Telegram, not a missing counter); members counted (a real zero change).
    let tg = account(&report, "tg");
    assert_eq!(tg["totals"]["posts"], 3);
    assert_eq!(tg["totals"]["engagement"], 0, "{tg}");
    assert!(
        tg["posts"][0]["counters"]
            .as_object()
            .is_some_and(|c| c.is_empty()),
        "{tg}"
    );
    assert!(tg["collection"]["posts_not_provided"].is_null(), "{tg}");
    assert_eq!(tg["audience"]["counter"], "members");
    assert_eq!(tg["audience"]["change"], 0);
    let networks: Vec<&str> = report["networks"]
        .as_array()
        .expect("networks")
        .iter()
        .map(|n| n["network"].as_str().unwrap_or_default())
        .collect();
    // In the accounts' order (by name): bsky, masto, tg.
    assert_eq!(networks, ["bluesky", "mastodon", "telegram"]);
    let mastodon = &report["networks"][1];
    assert!(
        mastodon["never_given"]
            .as_str()
            .is_some_and(|n| n.contains("views")),
        "{mastodon}"
    );
    assert_eq!(
        mastodon["last_collected"]
            .as_str()
            .and_then(|t| t.parse::<DateTime<Utc>>().ok())
            .map(|t| t.format("%Y-%m-%dT%H").to_string()),
        Some(
            at(200)
                .parse::<DateTime<Utc>>()
                .expect("time")
                .format("%Y-%m-%dT%H")
                .to_string()
        )
    );

    // --account and days: the previous week alone (Berlin's 20th to 26th: hours -11 to
    // 157), as it was read by its end (hour 146).
    let week = seeded
        .report(&[
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-26",
            "--account",
            "masto",
            "--json",
        ])
        .json();
    let accounts = week["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["totals"]["posts"], 2);
    assert_eq!(
        accounts[0]["totals"]["engagement"],
        engagement_of(&[146, 145])
    );
    assert_eq!(week["period"]["from"], "2026-11-19T23:00:00Z");
    assert_eq!(week["period"]["to"], "2026-11-26T23:00:00Z");
}

#[test]
fn markdown_and_csv_show_the_seeded_numbers_and_say_what_is_not_provided() {
    let seeded = seed();
    let md = seeded.report(&["--period", "7d"]).stdout;
    assert!(md.starts_with("# Social media report: "), "{md}");
    let summary = md
        .lines()
        .find(|l| l.starts_with("| masto |"))
        .unwrap_or_default();
    let (now, before) = (engagement_of(&[32, 31, 30]), engagement_of(&[26, 25]));
    let percent = ((now as f64 - before as f64) * 100.0 / before as f64).round();
    assert_eq!(
        summary,
        format!(
            "| masto | Mastodon | 3 | {now} | {before} | +{percent}% | {} followers | +{} |",
            followers(195),
            followers(195) - followers(26)
        ),
        "{md}"
    );
    let tg = md
        .lines()
        .find(|l| l.starts_with("| tg |"))
        .unwrap_or_default();
    assert!(
        tg.starts_with("| tg | Telegram | 3 | 0 | 0 | - | 42 members | 0 |"),
        "{md}"
    );
    assert!(md.contains(&format!(
        "| Likes | {} | {} |",
        grown(LIKES_PER_HOUR, 93),
        grown(LIKES_PER_HOUR, 51)
    )));
    assert!(
        md.contains("### Top posts\n\n1. Post C: week two — engagement "),
        "{md}"
    );
    assert!(
        md.contains("- **Telegram** (tg): never gives views, likes, reposts and replies"),
        "{md}"
    );
    assert!(
        md.contains("(the Bot API has no view counter); reactions are counted from updates"),
        "{md}"
    );
    assert!(!md.contains("likes 0"), "{md}");
    // A title's pipe does not break a table (post B is in the previous week's report).
    let previous = seeded
        .report(&[
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-26",
            "--account",
            "masto",
        ])
        .stdout;
    assert!(
        previous.contains("Post B: \\| a pipe & <markup>"),
        "{previous}"
    );

    let csv = seeded.report(&["--period", "7d", "--format", "csv"]).stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "account,network,post_id,published,title,url,standing,engagement,likes,reposts,replies,quotes,bookmarks"
    );
    // Three posts on each of three accounts.
    assert_eq!(lines.len(), 1 + 9, "{csv}");
    let c = lines
        .iter()
        .find(|l| l.starts_with(&format!("masto,mastodon,{},", seeded.posts[2])))
        .unwrap_or_else(|| panic!("{csv}"));
    let fields: Vec<&str> = c.split(',').collect();
    assert_eq!(fields[4], "Post C: week two");
    assert!(fields[5].starts_with("http://127.0.0.1:"), "{c}");
    assert_eq!(fields[6], "read");
    assert_eq!(fields[7], engagement_of(&[32]).to_string());
    assert_eq!(fields[8], grown(LIKES_PER_HOUR, 32).to_string());
    assert_eq!(fields[12], "", "Mastodon gives no bookmarks: empty, not 0");
    let tg = lines
        .iter()
        .find(|l| l.starts_with("tg,telegram,"))
        .unwrap_or_else(|| panic!("{csv}"));
    // Read, and no reaction counted: a zero Telegram gave, and no counter it never gives.
    assert!(tg.ends_with(",read,0,,,,,"), "{tg}");
}

#[test]
fn stats_export_streams_snapshots_and_rollups_as_csv_and_json() {
    let seeded = seed();
    let env = &seeded.env;
    let snapshots = env
        .ok(&["stats", "export", "snapshots", "--format", "csv"])
        .stdout;
    let lines: Vec<&str> = snapshots.lines().collect();
    assert_eq!(lines[0], "at,day,account,network,post_id,counter,value");
    // A and B read nine times (2 to 195), C, D and E three times; four counters each on
    // Mastodon, five on Bluesky (bookmarks too). Telegram gives no post counters: no line.
    let readings = 2 * 9 + 3 * 3;
    assert_eq!(lines.len(), 1 + readings * 4 + readings * 5, "{snapshots}");
    let a_at_26 = format!(
        "{},,masto,mastodon,{},likes,{}",
        at(26)
            .parse::<DateTime<Utc>>()
            .expect("time")
            .format("%Y-%m-%dT%H:%M"),
        seeded.posts[0],
        grown(LIKES_PER_HOUR, 26)
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&a_at_26[..16]) && l.ends_with(&a_at_26[16..])),
        "{a_at_26} in {snapshots}"
    );
    assert!(!snapshots.contains("telegram"), "{snapshots}");

    let daily = env.json(&["stats", "export", "daily", "--account", "masto"]);
    let rows = daily.as_array().expect("an array");
    // A and B: a roll-up on each of the nine days read; C, D, E: on two (the 27th, 28th).
    assert_eq!(rows.len(), 2 * 9 + 3 * 2, "{daily}");
    assert!(rows.iter().all(|r| r["account"] == "masto"));
    let last_of_a = rows
        .iter()
        .rfind(|r| r["post_id"] == seeded.posts[0].as_str())
        .expect("A");
    assert_eq!(last_of_a["counters"], masto_counters(195));
    assert_eq!(last_of_a["day"], "2026-11-28");

    let accounts = env
        .ok(&["stats", "export", "accounts", "--format", "csv"])
        .stdout;
    assert!(
        accounts
            .lines()
            .any(|l| l.contains(",2026-11-28,masto,mastodon,,followers,")
                && l.ends_with(&format!(",{}", followers(195)))),
        "{accounts}"
    );
    assert!(
        accounts
            .lines()
            .any(|l| l.contains(",tg,telegram,,members,42")),
        "{accounts}"
    );

    // -o: the same bytes, in a file.
    let path = env.root().join("snapshots.csv");
    let run = env.ok(&[
        "stats",
        "export",
        "snapshots",
        "--format",
        "csv",
        "-o",
        path.to_str().expect("path"),
    ]);
    assert_eq!(std::fs::read_to_string(&path).expect("written"), snapshots);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("readings written to"), "{}", run.stderr);
}

#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let seeded = seed();
    let env = &seeded.env;
    let out = env.root().join("report.md");
    let out_arg = out.to_str().expect("path");
    std::fs::write(&out, "the old report").expect("write");
    let before = env.dump();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "report",
                "--from",
                "2026-11-26",
                "--to",
                "2026-11-20",
                "-o",
                out_arg,
            ],
            "is after --to",
        ),
        (
            &["report", "--account", "nobody", "-o", out_arg],
            "no account named \"nobody\"",
        ),
        (
            &["report", "--format", "pdf", "-o", out_arg],
            "invalid value 'pdf'",
        ),
        (
            &["report", "--period", "a month", "-o", out_arg],
            "7d, 2w, 30d or 48h",
        ),
        (
            &[
                "report",
                "--from",
                "26.11.2026",
                "--to",
                "2026-11-30",
                "-o",
                out_arg,
            ],
            "YYYY-MM-DD",
        ),
        (&["report", "--from", "2026-11-20", "-o", out_arg], "--to"),
        (
            &[
                "report",
                "--period",
                "7d",
                "--from",
                "2026-11-20",
                "--to",
                "2026-11-21",
            ],
            "cannot be used with",
        ),
        (
            &[
                "stats",
                "export",
                "snapshots",
                "--account",
                "nobody",
                "-o",
                out_arg,
            ],
            "no account named \"nobody\"",
        ),
        (
            &["stats", "export", "everything"],
            "invalid value 'everything'",
        ),
    ];
    for (args, says) in cases {
        let run = env.fails(args, 2);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    assert_eq!(
        std::fs::read_to_string(&out).expect("kept"),
        "the old report"
    );
    assert_eq!(env.dump(), before);
    // A directory that does not exist: a clear error, no temp file left behind.
    let missing = env.root().join("no-such-dir").join("report.md");
    let run = env.fails(&["report", "-o", missing.to_str().expect("path")], 1);
    assert!(run.stderr.contains("no-such-dir"), "{}", run.stderr);
    // -o replaces the old file whole.
    seeded.report(&["--period", "7d", "-o", out_arg]);
    let written = std::fs::read_to_string(&out).expect("written");
    assert!(written.starts_with("# Social media report"), "{written}");
    let leftovers: Vec<_> = std::fs::read_dir(env.root())
        .expect("root")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_html_report_is_one_file_that_names_no_address() {
    let seeded = seed();
    let html = seeded
        .report(&["--period", "7d", "--format", "html"])
        .stdout;
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    for chart in ["followers", "engagement", "best-times"] {
        assert!(
            html.contains(&format!("<figure data-chart=\"{chart}\"><svg")),
            "no {chart} chart"
        );
    }
    let lower = html.to_lowercase();
    for reference in [
        "http:", "https:", "//", "src=", "href=", "url(", "@import", "<script", "<link", "<iframe",
        "<object", "<embed",
    ] {
        assert!(
            !lower.contains(reference),
            "the report refers to something outside it: {reference:?} at {:?}",
            lower
                .find(reference)
                .map(|i| &html[i.saturating_sub(80)..(i + 80).min(html.len())])
        );
    }
    // Titles are escaped, not markup.
    let previous = seeded
        .report(&[
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-26",
            "--format",
            "html",
        ])
        .stdout;
    assert!(
        previous.contains("Post B: | a pipe &amp; &lt;markup&gt;"),
        "{previous}"
    );
}

#[test]
fn the_html_report_renders_its_charts_in_headless_chromium() {
    let Some(chromium) =
        browser::Chromium::find("the_html_report_renders_its_charts_in_headless_chromium")
    else {
        return;
    };
    let seeded = seed();
    let path = seeded.env.root().join("report.html");
    // One account: one chart of each kind on the page.
    seeded.report(&[
        "--account",
        "masto",
        "--period",
        "7d",
        "--format",
        "html",
        "-o",
        path.to_str().expect("path"),
    ]);
    let (width, height) = (1000, 2400);
    let shot = chromium.screenshot(&path, width, height);
    let png = browser::Png::decode(&shot);
    assert_eq!(
        (png.width, png.height),
        (width, height),
        "the size asked for"
    );
    assert!(
        png.distinct_colors() > 50,
        "blank: {} colours",
        png.distinct_colors()
    );
    // Each chart drew in its own colours over a real area of the page, and that area is
    // not of one colour: the followers line (with its axes and labels), the engagement
    // bars, and the heat map's grid of empty hours with the best hour, darkest, inside it.
    let followers = png.region_of(colors::FOLLOWERS, 12);
    let bars = png.region_of(colors::ENGAGEMENT, 12);
    let grid = png.region_of(colors::HEAT_EMPTY, 0);
    for (name, region) in [
        ("followers", &followers),
        ("engagement", &bars),
        ("heat map", &grid),
    ] {
        let region = region.unwrap_or_else(|| panic!("no {name} chart on the screenshot"));
        assert!(
            region.pixels > 100 && region.width() > 100 && region.height() > 50,
            "{name}: {region:?}"
        );
        assert!(
            png.colors_in(&region) > 3,
            "{name}: its region is uniform: {region:?}"
        );
    }
    let (f, b, g) = (followers.expect("f"), bars.expect("b"), grid.expect("g"));
    let best = png.region_of(colors::HEAT_HIGH, 12).expect("the best hour");
    assert!(
        g.left <= best.left
            && best.right <= g.right
            && g.top <= best.top
            && best.bottom <= g.bottom,
        "the best hour {best:?} is not in the grid {g:?}"
    );
    // The charts come in the page's order: followers, engagement, heat map.
    assert!(f.top < b.top && b.top < g.top, "{f:?} {b:?} {g:?}");
    // `POSTCTL_REPORT_SCREENSHOT=docs/report.png` keeps it (the README's picture).
    if let Ok(keep) = std::env::var("POSTCTL_REPORT_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("keep the screenshot");
    }
}

/// The charts' colours, as `core/src/analytics/report/charts.rs` sets them (the tests do not
/// import postctl's types; these are the page's design, written down twice on purpose).
mod colors {
    pub const FOLLOWERS: [u8; 3] = [0x15, 0x65, 0xc0];
    pub const ENGAGEMENT: [u8; 3] = [0xef, 0x6c, 0x00];
    pub const HEAT_HIGH: [u8; 3] = [0x1b, 0x5e, 0x20];
    pub const HEAT_EMPTY: [u8; 3] = [0xec, 0xef, 0xf4];
}
