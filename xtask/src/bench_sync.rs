//! `cargo xtask bench sync`: sync with a local `postctl-server` (issue 13's Performance
//! section), with real processes on a fresh SQLite server:
//!
//! - a device pushing 10,000 posts (imported from the benchmark CSV, over its 10 accounts);
//! - a new device's first sync of that workspace (a snapshot), with where it spent its
//!   time: the requests' round trips, reading their JSON, applying pages (`postctl sync
//!   --json` reports its `timings`);
//! - a sync with nothing to do: the request itself as the client timed it, and the whole
//!   `postctl sync` process;
//! - a change on one device seen in the other's database while both run `postctl daemon`.
//!
//! Prints the numbers; asserts nothing. `POSTCTL_BENCH_BINARY` and `POSTCTL_BENCH_SERVER`
//! name prebuilt binaries (a debug build, to check the benchmark runs); otherwise both are
//! built in release mode.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::fixture::{add_accounts, write_posts_csv};

const POSTS: usize = 10_000;
const PASSWORD: &str = "a long bench password";
/// No-op syncs measured, and changes carried between two daemons.
const NOOP_RUNS: usize = 30;
const LIVE_RUNS: usize = 10;

pub fn run(root: &Path) -> Result<(), String> {
    let (postctl, server_bin) = binaries(root)?;
    let work = tempfile::Builder::new()
        .prefix("postctl-bench-sync-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let server = Server::start(&server_bin, &work.path().join("server"))?;
    server.cli(&["user", "add", "bench", "--password-stdin"], PASSWORD)?;

    let mut report = format!(
        "postctl sync benchmark: {POSTS} posts, a local postctl-server on SQLite, {} cores, load average {}\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );

    // Device A: the posts, pushed.
    let a = Device::new(&postctl, &work.path().join("a"));
    add_accounts(|args| a.run(args).map(|_| ()))?;
    let csv = work.path().join("posts.csv");
    write_posts_csv(&csv, POSTS, 31 * 24 * 60)?;
    a.run(&["import", &csv.to_string_lossy()])?;
    a.login(&server.base)?;
    eprintln!("pushing {POSTS} posts...");
    let (wall, pushed) = a.sync()?;
    line(
        &mut report,
        &format!("push of {POSTS} posts"),
        wall,
        &pushed,
    );

    // Device B: the first sync of the workspace.
    let b = Device::new(&postctl, &work.path().join("b"));
    b.login(&server.base)?;
    eprintln!("first sync of a new device...");
    let (wall, first) = b.sync()?;
    line(
        &mut report,
        &format!("first sync of {POSTS} posts (new device)"),
        wall,
        &first,
    );
    let pulled = b.count_posts()?;
    if pulled != POSTS {
        return Err(format!("the new device holds {pulled} posts, not {POSTS}"));
    }
    let pages = first["snapshot_pages"].as_u64().unwrap_or(0);
    if pages > 0 {
        let t = &first["timings"];
        let per = |key: &str| t[key].as_f64().unwrap_or(0.0) / pages as f64;
        let _ = writeln!(
            report,
            "  per snapshot page ({pages} pages): http {:.1} ms, json {:.1} ms, apply {:.1} ms",
            per("http_ms"),
            per("json_ms"),
            per("apply_ms")
        );
    }

    // Nothing to do: one round trip.
    eprintln!("syncing with nothing to do...");
    let mut http = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..NOOP_RUNS {
        let (wall, answer) = b.sync()?;
        let t = &answer["timings"];
        let requests = t["requests"].as_u64().unwrap_or(0);
        if requests != 1 {
            return Err(format!(
                "a sync with nothing to do made {requests} requests: {answer}"
            ));
        }
        http.push(Duration::from_secs_f64(
            t["http_ms"].as_f64().unwrap_or(0.0) / 1000.0,
        ));
        whole.push(wall);
    }
    crate::bench::line(
        &mut report,
        "no-op sync: the request (in the client)",
        &http,
        "< 20 ms",
    );
    crate::bench::line(
        &mut report,
        "no-op sync: the whole `postctl sync`",
        &whole,
        "-",
    );

    // Both devices online: a change on A, seen in B's database.
    eprintln!("a change carried between two daemons...");
    let daemon_a = a.daemon()?;
    let daemon_b = b.daemon()?;
    std::thread::sleep(Duration::from_secs(3));
    let mut seen = Vec::new();
    for n in 0..LIVE_RUNS {
        let text = format!("Live change {n} from device A");
        let started = Instant::now();
        a.run(&["draft", "new", &text])?;
        loop {
            if b.has_body(&text)? {
                seen.push(started.elapsed());
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("device B did not see {text:?} in 30 s"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Changes a user makes are apart in time; so are these.
        std::thread::sleep(Duration::from_millis(700));
    }
    drop(daemon_a);
    drop(daemon_b);
    crate::bench::line(
        &mut report,
        "a change on A seen on B (two daemons)",
        &seen,
        "< 2 s",
    );
    print!("{report}");
    Ok(())
}

/// One line for a measured `postctl sync`: the whole process and its `timings`.
fn line(report: &mut String, what: &str, wall: Duration, answer: &serde_json::Value) {
    let t = &answer["timings"];
    let ms = |key: &str| t[key].as_f64().unwrap_or(0.0);
    let _ = writeln!(
        report,
        "{what:<40} {:>8.0} ms   (in the sync: {} requests, http {:.0} ms, json {:.0} ms, apply {:.0} ms, push local {:.0} ms, total {:.0} ms)",
        wall.as_secs_f64() * 1000.0,
        t["requests"],
        ms("http_ms"),
        ms("json_ms"),
        ms("apply_ms"),
        ms("push_local_ms"),
        ms("total_ms"),
    );
}

/// The one-minute load average, to say how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// `postctl` and `postctl-server`: the named prebuilt ones, else this tree's release build.
fn binaries(root: &Path) -> Result<(PathBuf, PathBuf), String> {
    let named = (
        std::env::var_os("POSTCTL_BENCH_BINARY"),
        std::env::var_os("POSTCTL_BENCH_SERVER"),
    );
    if let (Some(postctl), Some(server)) = named {
        return Ok((PathBuf::from(postctl), PathBuf::from(server)));
    }
    eprintln!("building postctl and postctl-server (release)...");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "postctl-cli",
            "-p",
            "postctl-server",
        ])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the release build failed".into());
    }
    let release = crate::bench::target_dir(root).join("release");
    Ok((release.join("postctl"), release.join("postctl-server")))
}

/// A postctl data dir.
struct Device {
    binary: PathBuf,
    data: PathBuf,
}

impl Device {
    fn new(binary: &Path, data: &Path) -> Device {
        Device {
            binary: binary.to_path_buf(),
            data: data.to_path_buf(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("POSTCTL_DATA_DIR", &self.data)
            .env("POSTCTL_CONFIG", self.data.join("config.toml"))
            .env("POSTCTL_TZ", "Europe/Berlin")
            .env("POSTCTL_SECRET_STORE", "file")
            .env_remove("POSTCTL_DB")
            .env_remove("POSTCTL_NOW");
        command
    }

    /// Runs postctl to its end; its stdout.
    fn run(&self, args: &[&str]) -> Result<String, String> {
        self.run_with(args, "")
    }

    fn run_with(&self, args: &[&str], stdin: &str) -> Result<String, String> {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        if let Some(mut input) = child.stdin.take() {
            input
                .write_all(stdin.as_bytes())
                .map_err(|e| e.to_string())?;
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "postctl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn login(&self, base: &str) -> Result<(), String> {
        self.run_with(
            &["login", base, "--user", "bench", "--password-stdin"],
            &format!("{PASSWORD}\n"),
        )
        .map(|_| ())
    }

    /// `postctl --json sync`: the whole process's time and its answer.
    fn sync(&self) -> Result<(Duration, serde_json::Value), String> {
        let started = Instant::now();
        let out = self.run(&["--json", "sync"])?;
        let wall = started.elapsed();
        let answer = serde_json::from_str(&out).map_err(|e| format!("sync --json: {e}: {out}"))?;
        Ok((wall, answer))
    }

    fn daemon(&self) -> Result<Daemon, String> {
        let child = self
            .command(&["daemon"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start postctl daemon: {e}"))?;
        Ok(Daemon(child))
    }

    fn db(&self) -> Result<rusqlite::Connection, String> {
        let db = rusqlite::Connection::open_with_flags(
            self.data.join("postctl.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(|e| e.to_string())?;
        db.busy_timeout(Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        Ok(db)
    }

    fn count_posts(&self) -> Result<usize, String> {
        self.db()?
            .query_row("SELECT count(*) FROM posts", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| e.to_string())
    }

    fn has_body(&self, body: &str) -> Result<bool, String> {
        self.db()?
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM posts WHERE body = ?1)",
                [body],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())
    }
}

/// A `postctl daemon`, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `postctl-server serve` on a free loopback port; killed when dropped.
struct Server {
    binary: PathBuf,
    data: PathBuf,
    child: Child,
    base: String,
}

impl Server {
    fn start(binary: &Path, data: &Path) -> Result<Server, String> {
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--log-level",
                "info",
                "--data",
            ])
            .arg(data)
            .env_remove("POSTCTL_SERVER_DATABASE_URL")
            .env("POSTCTL_SERVER_RATE_LIMIT", "1000000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start postctl-server: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| "postctl-server did not say where it listens".to_string())?;
        Ok(Server {
            binary: binary.to_path_buf(),
            data: data.to_path_buf(),
            child,
            base: format!("http://{address}"),
        })
    }

    /// `postctl-server ARGS --data DIR` with `password` on stdin.
    fn cli(&self, args: &[&str], password: &str) -> Result<(), String> {
        let mut child = Command::new(&self.binary)
            .args(args)
            .arg("--data")
            .arg(&self.data)
            .env_remove("POSTCTL_SERVER_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run postctl-server: {e}"))?;
        if let Some(mut input) = child.stdin.take() {
            writeln!(input, "{password}").map_err(|e| e.to_string())?;
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "postctl-server {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
