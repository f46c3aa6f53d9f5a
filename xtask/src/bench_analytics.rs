//! `cargo xtask bench analytics`: collecting what the networks say, and answering from a
//! year of it, against the fake networks (the `fake-networks` binary of the tests crate).
//!
//! - collect: N published posts over ten accounts (five VK communities, five Bluesky), the
//!   fakes answering in 20 ms, read once by one `postctl stats collect`; how long it takes
//!   and how many requests it makes per post (VK's `wall.getById` and Bluesky's `getPosts`
//!   take many posts a request). Mastodon, which reads one status a request within 300
//!   requests per 5 minutes, could not read 1,000 posts an account in a minute at all.
//! - a year: N posts published over 365 simulated days (`POSTCTL_NOW` moved on through
//!   the year, `run-due` at four hours a day), collected once a simulated day as the
//!   schedule asks (hourly-due posts read at each run, then daily, then weekly to 90 days);
//!   then the answers over that history (`stats`, `insights`, `report`), each the whole
//!   process, and what the year added to the database.
//!
//! Prints the numbers next to the targets of issue 11; asserts nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::bench::line;
use crate::bench_publish::{Fakes, Home, account_flags, build_fakes, rfc3339, unix_ms};

/// VK accounts `vk0`..., and as many Bluesky accounts `bsky0`...
const PER_NETWORK: usize = 5;
/// The simulated year starts here (UTC): 2025-12-01.
const YEAR_START_MS: i64 = 1_764_547_200_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The hours (UTC) posts are due at and `run-due` runs at, each day.
const SLOT_HOURS: [i64; 4] = [8, 12, 17, 21];

pub fn run(root: &Path, postctl: &Path, posts: usize) -> Result<(), String> {
    let fakes = build_fakes(root)?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let bench = Bench {
        postctl: postctl.to_path_buf(),
        fakes,
        work: work.path().to_path_buf(),
        posts,
    };
    let mut report = String::from("postctl analytics benchmark (fake networks on 127.0.0.1)\n");
    eprintln!("collect: {posts} posts, fakes answering in 20 ms...");
    bench.collect(&mut report)?;
    eprintln!("a year: {posts} posts published and collected over 365 simulated days...");
    bench.year(&mut report)?;
    print!("{report}");
    Ok(())
}

struct Bench {
    postctl: PathBuf,
    fakes: PathBuf,
    work: PathBuf,
    posts: usize,
}

impl Bench {
    /// One `stats collect` of every post, right after publishing them all.
    fn collect(&self, report: &mut String) -> Result<(), String> {
        let fakes = Fakes::start(&self.fakes, 20, true)?;
        let home = self.home("collect", &fakes)?;
        let accounts = account_names();
        let due = unix_ms() - 60_000;
        let rows = (0..self.posts).map(|i| {
            (
                format!("Collected post {i}: the weekly notes"),
                accounts[i % accounts.len()].clone(),
                due,
            )
        });
        home.import(rows)?;
        let started = Instant::now();
        home.postctl(&["run-due", "--wait", "0"], None)?;
        let publish = started.elapsed();
        let before = requests(&fakes)?;
        let started = Instant::now();
        let output = home.postctl(&["--json", "stats", "collect"], None)?;
        let collect = started.elapsed();
        let after = requests(&fakes)?;
        let counted = sum_field(&output, "posts_counted");
        if counted != self.posts as u64 {
            return Err(format!(
                "stats collect counted {counted} of {} posts:\n{output}",
                self.posts
            ));
        }
        line(
            report,
            &format!("stats collect: {} posts, 10 accounts", self.posts),
            &[collect],
            "< 60 s",
        );
        for (network, (before, after)) in ["vk", "bluesky"].iter().zip(before.iter().zip(after)) {
            let _ = writeln!(
                report,
                "{:<40} {:>8} requests for {} posts ({:.2} per post)",
                format!("  {network}"),
                after - before,
                self.posts / 2,
                (after - before) as f64 / (self.posts / 2) as f64
            );
        }
        let _ = writeln!(
            report,
            "{:<40} {:>8.1} s    (information: run-due publishing them first)",
            "run-due",
            publish.as_secs_f64()
        );
        Ok(())
    }

    /// A year of publishing and daily collection, then the answers over it.
    fn year(&self, report: &mut String) -> Result<(), String> {
        let fakes = Fakes::start(&self.fakes, 0, false)?;
        let home = self.home("year", &fakes)?;
        let accounts = account_names();
        let rows: Vec<(String, String, i64)> = (0..self.posts)
            .map(|i| {
                // Spread evenly over the 365 days.
                let day = (i * 365 / self.posts.max(1)) as i64;
                let slot = SLOT_HOURS[i % SLOT_HOURS.len()];
                // Minutes into the slot's hour, so a run at the hour's end takes them all.
                let minute = (i * 7 % 50) as i64;
                (
                    format!("Year post {i}: what we shipped on day {day}"),
                    accounts[i % accounts.len()].clone(),
                    YEAR_START_MS + day * DAY_MS + slot * HOUR_MS + minute * 60_000,
                )
            })
            .collect();
        let last_day = rows.iter().map(|r| r.2).max().unwrap_or(YEAR_START_MS);
        let days = (last_day - YEAR_START_MS) / DAY_MS + 1;
        let db = home.dir.join("data/postctl.db");
        run_at(&home, YEAR_START_MS - DAY_MS, &["accounts", "list"])?;
        let empty = database_bytes(&db);
        import_at(&home, YEAR_START_MS - HOUR_MS, &rows)?;
        let imported = database_bytes(&db);

        let started = Instant::now();
        let mut collect_time = Duration::ZERO;
        for day in 0..days {
            let midnight = YEAR_START_MS + day * DAY_MS;
            for hour in SLOT_HOURS {
                run_at(
                    &home,
                    midnight + hour * HOUR_MS + 55 * 60_000,
                    &["run-due", "--wait", "0"],
                )?;
            }
            let collected = Instant::now();
            run_at(&home, midnight + 23 * HOUR_MS, &["stats", "collect"])?;
            collect_time += collected.elapsed();
        }
        let simulated = started.elapsed();
        let grown = database_bytes(&db);

        let now = YEAR_START_MS + days * DAY_MS;
        let post = first_post_id(&home, now)?;
        let _ = writeln!(
            report,
            "{:<40} {:>8.1} s    ({days} days: run-due 4x a day, stats collect daily; collecting {:.1} s)",
            "a simulated year",
            simulated.as_secs_f64(),
            collect_time.as_secs_f64()
        );
        for (what, args) in [
            ("stats (recent posts)", vec!["stats"]),
            ("stats --since 365d", vec!["stats", "--since", "365d"]),
            ("stats ID (one post's curve)", vec!["stats", post.as_str()]),
            ("insights (every account, 30 days)", vec!["insights"]),
            (
                "insights --period 365d",
                vec!["insights", "--period", "365d"],
            ),
            (
                "report --format md (30 days)",
                vec!["report", "--format", "md"],
            ),
            (
                "report --format md --period 365d",
                vec!["report", "--format", "md", "--period", "365d"],
            ),
            (
                "report --format html (30 days)",
                vec!["report", "--format", "html"],
            ),
        ] {
            let mut samples = Vec::new();
            for _ in 0..10 {
                let started = Instant::now();
                run_at(&home, now, &args)?;
                samples.push(started.elapsed());
            }
            line(report, what, &samples, "< 200 ms");
        }
        let counts = metric_rows(&db)?;
        let _ = writeln!(
            report,
            "{:<40} {:>8.1} MB   (empty {:.1} MB, after import {:.1} MB; the year added {:.1} MB)",
            "database after the year",
            mb(grown),
            mb(empty),
            mb(imported),
            mb(grown.saturating_sub(imported))
        );
        let _ = writeln!(report, "{:<40} {counts}", "  analytics rows");
        Ok(())
    }

    /// A fresh data dir with the five VK and five Bluesky accounts on the fakes.
    fn home(&self, name: &str, fakes: &Fakes) -> Result<Home, String> {
        let home = Home {
            postctl: self.postctl.clone(),
            dir: self.work.join(name),
        };
        std::fs::create_dir_all(&home.dir).map_err(|e| e.to_string())?;
        std::fs::write(home.dir.join("config.toml"), "timezone = \"UTC\"\n")
            .map_err(|e| e.to_string())?;
        for i in 0..PER_NETWORK {
            for (network, name) in [("vk", format!("vk{i}")), ("bluesky", format!("bsky{i}"))] {
                let (flags, secret) = account_flags(fakes, network)?;
                let mut args = vec!["accounts", "add", network, "--name", &name];
                args.extend(flags.iter().map(String::as_str));
                args.push("--token-stdin");
                run_at_with(
                    &home,
                    YEAR_START_MS - DAY_MS,
                    &args,
                    Some(&format!("{secret}\n")),
                )?;
            }
        }
        Ok(home)
    }
}

/// `vk0`, `bsky0`, `vk1`, ...: posts taken in turn alternate between the networks.
fn account_names() -> Vec<String> {
    (0..PER_NETWORK)
        .flat_map(|i| [format!("vk{i}"), format!("bsky{i}")])
        .collect()
}

/// The requests the VK and the Bluesky fake have answered so far.
fn requests(fakes: &Fakes) -> Result<[u64; 2], String> {
    Ok([fakes.requests("vk")?, fakes.requests("bluesky")?])
}

/// Runs postctl with its clock at `now_ms`; its stdout.
fn run_at(home: &Home, now_ms: i64, args: &[&str]) -> Result<String, String> {
    run_at_with(home, now_ms, args, None)
}

fn run_at_with(
    home: &Home,
    now_ms: i64,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, String> {
    home.postctl_with(args, stdin, &[("POSTCTL_NOW", rfc3339(now_ms))])
}

/// Imports (text, account, due) rows with the clock at `now_ms`.
fn import_at(home: &Home, now_ms: i64, rows: &[(String, String, i64)]) -> Result<(), String> {
    let mut csv = String::from("text,to,at\n");
    for (text, account, due) in rows {
        let _ = writeln!(csv, "\"{text}\",{account},{}", rfc3339(*due));
    }
    let file = home.dir.join("posts.csv");
    std::fs::write(&file, csv).map_err(|e| e.to_string())?;
    run_at(home, now_ms, &["import", &file.to_string_lossy()]).map(|_| ())
}

/// The id of the first post `list --published` shows.
fn first_post_id(home: &Home, now_ms: i64) -> Result<String, String> {
    let output = run_at(home, now_ms, &["--json", "list", "--limit", "1"])?;
    let start = output
        .find("\"id\": \"")
        .ok_or_else(|| format!("no post id in `list --json`:\n{output}"))?
        + 7;
    let end = output[start..]
        .find('"')
        .ok_or("an unterminated post id in `list --json`")?;
    Ok(output[start..start + end].to_string())
}

/// The sum of a numeric field over postctl's pretty JSON output.
fn sum_field(json: &str, key: &str) -> u64 {
    let needle = format!("\"{key}\": ");
    json.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &json[at + needle.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse::<u64>().ok()
        })
        .sum()
}

/// The database and its write-ahead log, in bytes.
fn database_bytes(db: &Path) -> u64 {
    let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    size(db.to_path_buf()) + size(db.with_extension("db-wal"))
}

/// Row counts of the analytics tables.
fn metric_rows(db: &Path) -> Result<String, String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for table in ["metric_snapshots", "metric_daily", "account_daily"] {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(|e| format!("{table}: {e}"))?;
        let _ = write!(out, "{table} {n}   ");
    }
    Ok(out)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}
