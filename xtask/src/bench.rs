//! `cargo xtask bench`: postctl measured as a user runs it, on 10,000 and on 100,000 posts
//! (or N with `--posts N`).
//!
//! Builds the release binary, then measures whole processes, their wall time and their peak
//! memory (max RSS, from wait4): `--version`, `import` of N rows, every listing, calendar
//! and search command, and export on the imported database; and reports the database size
//! and the oplog's share of it; then publishing against the fake networks
//! ([`crate::bench_publish`]). Prints the numbers; it asserts nothing (timings do not
//! belong in tests).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::bench_rss::{self, Sample};
use crate::fixture::{ACCOUNTS, add_accounts, write_posts_csv};

/// A fixed clock, so every run schedules the same instants.
const NOW: &str = "2026-12-01T00:00:00Z";

/// Which parts of the benchmark to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    All,
    /// Only the CLI on N posts.
    Cli,
    /// Only publishing against the fake networks.
    Publish,
    /// Only `postctl post` to each fake network.
    Post,
}

/// Runs the benchmark at each size in `sizes`, then publishing. `POSTCTL_BENCH_BINARY`
/// measures another build (e.g. an older one, to compare) instead of building this one.
pub fn run(root: &Path, sizes: &[usize], parts: Parts) -> Result<(), String> {
    let binary = postctl_binary(root)?;
    if matches!(parts, Parts::All | Parts::Cli) {
        let mut report = String::new();
        for &posts in sizes {
            report += &run_cli(&binary, posts)?;
            report += "\n";
        }
        print!("{report}");
    }
    match parts {
        Parts::Cli => Ok(()),
        Parts::Post => crate::bench_publish::run(root, &binary, true),
        Parts::All | Parts::Publish => crate::bench_publish::run(root, &binary, false),
    }
}

/// The postctl to measure: `POSTCTL_BENCH_BINARY`, else this tree's release build.
pub fn postctl_binary(root: &Path) -> Result<PathBuf, String> {
    match std::env::var_os("POSTCTL_BENCH_BINARY") {
        Some(binary) => Ok(PathBuf::from(binary)),
        None => build_postctl(root),
    }
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

/// The CLI at `posts` posts: import, every listing, calendar and search command, export,
/// and the database's size. Each line: median and slowest wall time, and the largest peak
/// memory (max RSS) of the runs.
fn run_cli(binary: &Path, posts: usize) -> Result<String, String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let csv = work.path().join("posts.csv");
    write_posts_csv(&csv, posts, 31 * 24 * 60)?;
    eprintln!("benchmarking {posts} posts...");

    let mut report = format!("postctl benchmark: {posts} posts over {ACCOUNTS} accounts\n");
    let unused = work.path().join("unused");
    // Linux carries the spawning process's peak memory into the child's max RSS: what a
    // process that does nothing shows is the floor of every figure below.
    let floor = samples(5, || {
        bench_rss::measure(Command::new("true").stdout(Stdio::null()))
    })?;
    measured(
        &mut report,
        "(floor: `true`, the measuring's own)",
        &floor,
        "-",
    );
    let version = samples(30, || measure(binary, work.path(), &unused, &["--version"]))?;
    measured(&mut report, "postctl --version", &version, "< 5 ms");

    // Three imports into fresh databases (one at large sizes: it takes a while).
    let rounds = if posts > 20_000 { 1 } else { 3 };
    let mut imports = Vec::new();
    let mut data = unused.clone();
    for round in 0..rounds {
        data = work.path().join(format!("data{round}"));
        let data_arg = data.to_string_lossy().into_owned();
        add_accounts(|args| run_postctl(binary, Path::new("."), &data_arg, args))?;
        let csv_arg = csv.to_string_lossy().into_owned();
        imports.push(measure(binary, work.path(), &data, &["import", &csv_arg])?);
    }
    measured(
        &mut report,
        &format!("postctl import ({posts} rows)"),
        &imports,
        "< 2 s per 10,000",
    );

    // Every listing, calendar and search: under 50 ms and 30 MB.
    let last = (posts.max(1) - 1).to_string();
    let commands: [(&str, Vec<&str>); 9] = [
        ("list --upcoming", vec!["list", "--upcoming"]),
        (
            "list --upcoming --json",
            vec!["--json", "list", "--upcoming"],
        ),
        ("list --drafts", vec!["list", "--drafts"]),
        ("list --failed", vec!["list", "--failed"]),
        ("search (one hit)", vec!["search", &last]),
        ("search (every post matches)", vec!["search", "launch"]),
        (
            "calendar --month 2027-01",
            vec!["calendar", "--month", "2027-01"],
        ),
        (
            "calendar --week 2027-01-04",
            vec!["calendar", "--week", "2027-01-04"],
        ),
        (
            "calendar --month 2026-12 (empty)",
            vec!["calendar", "--month", "2026-12"],
        ),
    ];
    for (what, args) in &commands {
        let runs = samples(20, || measure(binary, work.path(), &data, args))?;
        measured(
            &mut report,
            &format!("postctl {what}"),
            &runs,
            "< 50 ms, < 30 MB",
        );
    }
    for format in ["json", "csv", "ics"] {
        let runs = samples(3, || {
            measure(binary, work.path(), &data, &["export", "--format", format])
        })?;
        measured(
            &mut report,
            &format!("postctl export --format {format}"),
            &runs,
            "memory flat",
        );
    }

    let size = database_size(&data);
    let oplog = oplog_bytes(&data, work.path())?;
    let _ = writeln!(
        report,
        "{:<40} {:>8.1} MB, of which the oplog {:.1} MB ({:.0}%)   target < 120 MB at 100,000",
        "database size (db + wal)",
        size as f64 / 1_000_000.0,
        oplog as f64 / 1_000_000.0,
        oplog as f64 * 100.0 / size.max(1) as f64
    );
    Ok(report)
}

/// The bytes of the database files in `data`.
fn database_size(data: &Path) -> u64 {
    ["postctl.db", "postctl.db-wal", "postctl.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(data.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// What the oplog takes of the database in `data`: the size of a vacuumed copy, less the
/// size of a vacuumed copy without the oplog.
fn oplog_bytes(data: &Path, work: &Path) -> Result<u64, String> {
    let copy = work.join("copy.db");
    let vacuumed = |drop_oplog: bool| -> Result<u64, String> {
        let _ = std::fs::remove_file(&copy);
        let conn =
            rusqlite::Connection::open(data.join("postctl.db")).map_err(|e| e.to_string())?;
        conn.execute("VACUUM INTO ?1", [copy.to_string_lossy()])
            .map_err(|e| e.to_string())?;
        if drop_oplog {
            let copy_conn = rusqlite::Connection::open(&copy).map_err(|e| e.to_string())?;
            copy_conn
                .execute_batch("DROP TABLE oplog; VACUUM;")
                .map_err(|e| e.to_string())?;
        }
        std::fs::metadata(&copy)
            .map(|m| m.len())
            .map_err(|e| e.to_string())
    };
    let whole = vacuumed(false)?;
    let without = vacuumed(true)?;
    Ok(whole.saturating_sub(without))
}

/// One postctl command, measured (its output discarded).
fn measure(binary: &Path, cwd: &Path, data: &Path, args: &[&str]) -> Result<Sample, String> {
    let mut command = postctl_command(binary, cwd, data, args);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    bench_rss::measure(&mut command).map_err(|e| {
        // Run it again for its message.
        let output = postctl_command(binary, cwd, data, args).output();
        let stderr = output
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        format!("postctl {} failed ({e}): {stderr}", args.join(" "))
    })
}

fn samples(
    runs: usize,
    mut f: impl FnMut() -> Result<Sample, String>,
) -> Result<Vec<Sample>, String> {
    (0..runs).map(|_| f()).collect()
}

/// A report line: median and slowest wall time, and the largest max RSS of `samples`.
fn measured(report: &mut String, what: &str, samples: &[Sample], target: &str) {
    let walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    let mut sorted = walls.clone();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    let rss = samples.iter().map(|s| s.max_rss_kb).max().unwrap_or(0);
    let _ = writeln!(
        report,
        "{what:<40} median {:>8.1} ms   max {:>8.1} ms   {:>6.1} MB   ({} runs)   target {target}",
        median.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
        rss as f64 / 1024.0,
        samples.len()
    );
}

fn postctl_command(binary: &Path, cwd: &Path, data: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command
        .args(args)
        .current_dir(cwd)
        .env("POSTCTL_DATA_DIR", data)
        .env("POSTCTL_CONFIG", data.join("config.toml"))
        .env("POSTCTL_NOW", NOW)
        .env("POSTCTL_TZ", "Europe/Berlin")
        .env("POSTCTL_SECRET_STORE", "file")
        .env_remove("BENCH_TOKEN")
        .stdin(Stdio::null());
    command
}

fn run_postctl(binary: &Path, cwd: &Path, data: &str, args: &[&str]) -> Result<(), String> {
    let output = postctl_command(binary, cwd, Path::new(data), args)
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

/// A report line: the median, the 90th percentile and the slowest of `samples`.
pub fn line(report: &mut String, what: &str, samples: &[Duration], target: &str) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let p90 = sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)];
    let max = sorted[sorted.len() - 1];
    let _ = writeln!(
        report,
        "{what:<40} median {:>8.1} ms   p90 {:>8.1} ms   max {:>8.1} ms   ({} runs)   target {target}",
        median.as_secs_f64() * 1000.0,
        p90.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
        samples.len()
    );
}
