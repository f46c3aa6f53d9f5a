//! `cargo xtask bench`: postctl measured as a user runs it, on N posts (default 10,000).
//!
//! Builds the release binary, then times whole processes: `--version`, `import` of N rows,
//! `list --upcoming` and `calendar --month` on the imported database, and reports the
//! database size; then publishing against the fake networks ([`crate::bench_publish`]).
//! Prints the numbers; it asserts nothing (timings do not belong in tests).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 10;
/// A fixed clock, so every run schedules the same instants.
const NOW: &str = "2026-12-01T00:00:00Z";

/// Which parts of the benchmark to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    All,
    /// Only publishing against the fake networks.
    Publish,
}

pub fn run(root: &Path, posts: usize, parts: Parts) -> Result<(), String> {
    let binary = build_postctl(root)?;
    if parts == Parts::All {
        run_cli(&binary, posts)?;
    }
    crate::bench_publish::run(root, &binary)
}

/// Builds the release binary; its path.
fn build_postctl(root: &Path) -> Result<PathBuf, String> {
    eprintln!("building postctl (release)...");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "postctl-cli"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the release build failed".into());
    }
    Ok(target_dir(root).join("release/postctl"))
}

/// Cargo's target directory: `$CARGO_TARGET_DIR`, else `target/` in the workspace.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn run_cli(binary: &Path, posts: usize) -> Result<(), String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let csv = work.path().join("posts.csv");
    std::fs::write(&csv, posts_csv(posts)).map_err(|e| e.to_string())?;

    let mut report = format!("postctl benchmark: {posts} posts over {ACCOUNTS} accounts\n");
    let version = time_runs(30, || {
        run_postctl(binary, work.path(), "unused", &["--version"])
    })?;
    line(&mut report, "postctl --version", &version, "< 5 ms");

    let mut imports = Vec::new();
    let mut last_db = work.path().join("unused");
    for round in 0..3 {
        let data = work.path().join(format!("data{round}"));
        setup_accounts(binary, &data)?;
        let csv_arg = csv.to_string_lossy().into_owned();
        imports.push(timed(|| {
            run_postctl(
                binary,
                work.path(),
                &data.to_string_lossy(),
                &["import", &csv_arg],
            )
        })?);
        last_db = data;
    }
    line(
        &mut report,
        &format!("postctl import ({posts} rows)"),
        &imports,
        "< 2 s",
    );

    let data = last_db.to_string_lossy().into_owned();
    let upcoming = time_runs(20, || {
        run_postctl(binary, work.path(), &data, &["list", "--upcoming"])
    })?;
    line(&mut report, "postctl list --upcoming", &upcoming, "< 50 ms");
    let calendar = time_runs(20, || {
        run_postctl(
            binary,
            work.path(),
            &data,
            &["calendar", "--month", "2027-01"],
        )
    })?;
    line(
        &mut report,
        "postctl calendar --month 2027-01",
        &calendar,
        "< 50 ms",
    );

    let size: u64 = ["postctl.db", "postctl.db-wal", "postctl.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(last_db.join(f)).ok())
        .map(|m| m.len())
        .sum();
    let _ = writeln!(
        report,
        "{:<40} {:>10.1} MB                 target < 20 MB",
        "database size (db + wal)",
        size as f64 / 1_000_000.0
    );
    print!("{report}");
    Ok(())
}

fn posts_csv(posts: usize) -> String {
    let mut out = String::from("text,to,at,tz,labels\n");
    for i in 0..posts {
        // Spread over the coming months, 37 minutes apart, on every account in turn.
        let minutes = 60 * 24 * 31 + i as i64 * 37;
        let at = chrono_at(minutes);
        let _ = writeln!(
            out,
            "\"Post {i}: shipping the launch notes, part {i}, with a link https://example.com/{i}\",acc{},{at},Europe/Berlin,bench",
            i % ACCOUNTS
        );
    }
    out
}

/// "YYYY-MM-DD HH:MM" `minutes` after NOW, in UTC, computed without a date library.
fn chrono_at(minutes: i64) -> String {
    let days_from_civil = |y: i64, m: i64, d: i64| {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    };
    let total = days_from_civil(2026, 12, 1) * 1440 + minutes;
    let (days, minute) = (total.div_euclid(1440), total.rem_euclid(1440));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // The zone column says Europe/Berlin; these are read as Berlin wall-clock times.
    // 02:xx on DST days can be a gap or an overlap, so keep minutes away from 02:00-03:00.
    let hour = minute / 60;
    let hour = if hour == 2 { 4 } else { hour };
    format!("{y:04}-{m:02}-{d:02} {hour:02}:{:02}", minute % 60)
}

fn setup_accounts(binary: &Path, data: &Path) -> Result<(), String> {
    let data = data.to_string_lossy().into_owned();
    for i in 0..ACCOUNTS {
        let name = format!("acc{i}");
        let instance = format!("https://m{i}.example.org");
        run_postctl(
            binary,
            Path::new("."),
            &data,
            &[
                "accounts",
                "add",
                "mastodon",
                "--name",
                &name,
                "--instance",
                &instance,
                "--token-env",
                "BENCH_TOKEN",
            ],
        )?;
    }
    Ok(())
}

fn run_postctl(binary: &Path, cwd: &Path, data: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(binary)
        .args(args)
        .current_dir(cwd)
        .env("POSTCTL_DATA_DIR", data)
        .env("POSTCTL_CONFIG", Path::new(data).join("config.toml"))
        .env("POSTCTL_NOW", NOW)
        .env("POSTCTL_TZ", "Europe/Berlin")
        .env("POSTCTL_SECRET_STORE", "file")
        .env_remove("BENCH_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !output.status.success() {
        return Err(format!(
            "postctl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

fn timed(f: impl FnOnce() -> Result<(), String>) -> Result<Duration, String> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

fn time_runs(
    runs: usize,
    mut f: impl FnMut() -> Result<(), String>,
) -> Result<Vec<Duration>, String> {
    (0..runs).map(|_| timed(&mut f)).collect()
}

/// A report line: the median and the slowest of `samples`.
pub fn line(report: &mut String, what: &str, samples: &[Duration], target: &str) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    let _ = writeln!(
        report,
        "{what:<40} median {:>8.1} ms   max {:>8.1} ms   ({} runs)   target {target}",
        median.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
        samples.len()
    );
}
