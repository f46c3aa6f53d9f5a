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

use crate::fixture::{ACCOUNTS, add_accounts, posts_csv};

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
    std::fs::write(&csv, posts_csv(posts, 31 * 24 * 60)).map_err(|e| e.to_string())?;

    let mut report = format!("postctl benchmark: {posts} posts over {ACCOUNTS} accounts\n");
    let version = time_runs(30, || {
        run_postctl(binary, work.path(), "unused", &["--version"])
    })?;
    line(&mut report, "postctl --version", &version, "< 5 ms");

    let mut imports = Vec::new();
    let mut last_db = work.path().join("unused");
    for round in 0..3 {
        let data = work.path().join(format!("data{round}"));
        let data_arg = data.to_string_lossy().into_owned();
        add_accounts(|args| run_postctl(binary, Path::new("."), &data_arg, args))?;
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
