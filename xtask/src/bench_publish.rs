//! `cargo xtask bench`, publishing part: postctl against the fake networks (the
//! `fake-networks` binary of the tests crate, run as a child process on 127.0.0.1).
//!
//! - drain: 1,000 due targets over 10 accounts, the fakes answering in 20 ms, published by
//!   one `postctl run-due`;
//! - due-to-arrival: with `postctl daemon` running, how late each of 100 posts reaches the
//!   fake after its due time (the fake reports when it stored each post);
//! - `postctl post` to one Mastodon fake, the whole process (median and p90 of 100 runs) and
//!   its round trips; then to each other network's fake (30 runs each; X signed with
//!   OAuth 1.0a keys, Instagram with a 2 x 2 image from the fake bucket, Threads and a
//!   Facebook Page with text);
//! - the daemon's resident memory with 100,000 scheduled targets (and its CPU while idle).
//!
//! Prints the numbers next to the targets of issue 3; asserts nothing.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::bench::line;
use crate::fixture::ACCOUNTS;

/// Every part, or (`only_post`) the `postctl post` runs alone.
pub fn run(root: &Path, postctl: &Path, only_post: bool) -> Result<(), String> {
    let fakes_binary = build_fakes(root)?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let bench = Bench {
        postctl: postctl.to_path_buf(),
        fakes: fakes_binary,
        work: work.path().to_path_buf(),
    };

    let mut report = String::from("postctl publishing benchmark (fake networks on 127.0.0.1)\n");
    if !only_post {
        eprintln!("drain: 1,000 due targets...");
        bench.drain(&mut report)?;
        eprintln!("daemon: due time to arrival...");
        bench.due_to_arrival(&mut report)?;
    }
    eprintln!("post: one Mastodon fake...");
    bench.post(&mut report)?;
    eprintln!("post: each other network's fake...");
    bench.post_each(&mut report)?;
    if !only_post {
        eprintln!("daemon: memory with 100,000 scheduled targets...");
        bench.daemon_memory(&mut report)?;
    }
    print!("{report}");
    Ok(())
}

struct Bench {
    postctl: PathBuf,
    fakes: PathBuf,
    work: PathBuf,
}

impl Bench {
    /// (a) 1,000 due targets over 10 accounts, fakes answering in 20 ms: one `run-due`.
    fn drain(&self, report: &mut String) -> Result<(), String> {
        let fakes = Fakes::start(&self.fakes, 20, false)?;
        let mut samples = Vec::new();
        for round in 0..3 {
            let home = self.home(&format!("drain{round}"), &fakes, ACCOUNTS)?;
            let due = unix_ms() - 60_000;
            let rows = (0..1_000).map(|i| {
                (
                    format!("Drain post {i} of round {round}: the weekly notes"),
                    format!("acc{}", i % ACCOUNTS),
                    due,
                )
            });
            home.import(rows)?;
            let started = Instant::now();
            let output = home.postctl(&["--json", "run-due", "--wait", "0"], None)?;
            samples.push(started.elapsed());
            let published = output.matches("\"state\": \"published\"").count();
            if published != 1_000 {
                return Err(format!(
                    "run-due published {published} of 1,000 targets:\n{output}"
                ));
            }
        }
        line(
            report,
            "run-due: 1,000 due, 10 accounts, 20 ms",
            &samples,
            "< 5 s",
        );
        Ok(())
    }

    /// (b) With the daemon running, how late posts reach the fake after their due time.
    fn due_to_arrival(&self, report: &mut String) -> Result<(), String> {
        const POSTS: usize = 100;
        let fakes = Fakes::start(&self.fakes, 0, true)?;
        let home = self.home("latency", &fakes, ACCOUNTS)?;
        let daemon = Daemon::start(&home)?;
        // Due from 2 s from now, 50 ms apart: the daemon sees the import first.
        let first = unix_ms() + 2_000;
        let rows: Vec<(String, String, i64)> = (0..POSTS)
            .map(|i| {
                (
                    format!("Latency post {i}: due and sent"),
                    format!("acc{}", i % ACCOUNTS),
                    first + 50 * i as i64,
                )
            })
            .collect();
        home.import(rows.iter().cloned())?;
        let due: HashMap<&str, i64> = rows.iter().map(|(t, _, at)| (t.as_str(), *at)).collect();
        let deadline = Instant::now() + Duration::from_secs(30);
        let arrivals = loop {
            let arrivals = fakes.arrivals();
            if arrivals.len() >= POSTS || Instant::now() > deadline {
                break arrivals;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let rss = daemon.rss_kb();
        daemon.stop()?;
        let mut delays: Vec<Duration> = arrivals
            .iter()
            .filter_map(|(text, at)| {
                let due = due.get(text.as_str())?;
                Some(Duration::from_millis((at - due).max(0) as u64))
            })
            .collect();
        if delays.len() != POSTS {
            return Err(format!(
                "only {} of {POSTS} posts reached the fake within 30 s",
                delays.len()
            ));
        }
        delays.sort();
        let p50 = delays[POSTS / 2];
        let p99 = delays[POSTS * 99 / 100 - 1];
        let _ = writeln!(
            report,
            "{:<40} p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>6.1} ms   ({POSTS} posts)   target p99 < 1 s",
            "daemon: due -> request at the fake",
            ms(p50),
            ms(p99),
            ms(delays[POSTS - 1])
        );
        if let Some(kb) = rss {
            let _ = writeln!(
                report,
                "{:<40} {:>8.1} MB   (after publishing {POSTS} posts)",
                "daemon RSS, after publishing",
                kb as f64 / 1024.0
            );
        }
        Ok(())
    }

    /// (c) `postctl post` to one Mastodon fake: the whole process, from spawn to exit, and
    /// how many requests each run makes (the instance's limits are cached for a day, so
    /// after the first run, one).
    fn post(&self, report: &mut String) -> Result<(), String> {
        const RUNS: u64 = 100;
        let fakes = Fakes::start(&self.fakes, 0, true)?;
        let home = self.home("post", &fakes, 1)?;
        home.postctl(&["post", "Warming up the page cache", "--to", "acc0"], None)?;
        let before = fakes.requests("mastodon")?;
        let mut samples = Vec::new();
        for i in 0..RUNS {
            let text = format!("Shipped v1.{i} with the new scheduler https://example.com/v1.{i}");
            let started = Instant::now();
            home.postctl(&["post", &text, "--to", "acc0"], None)?;
            samples.push(started.elapsed());
        }
        let after = fakes.requests("mastodon")?;
        line(
            report,
            "postctl post (one Mastodon fake)",
            &samples,
            "< 10 ms",
        );
        let _ = writeln!(
            report,
            "{:<40} {:>8.2} requests per run   ({RUNS} runs)   target 1",
            "postctl post: round trips",
            (after - before) as f64 / RUNS as f64
        );
        Ok(())
    }

    /// (c') `postctl post` to each other network's fake, the whole process, with the
    /// requests each run makes.
    fn post_each(&self, report: &mut String) -> Result<(), String> {
        const RUNS: u64 = 30;
        let fakes = Fakes::start(&self.fakes, 0, true)?;
        let image = self.work.join("bench.png");
        std::fs::write(&image, tiny_png()?).map_err(|e| e.to_string())?;
        let image = image.to_string_lossy().into_owned();
        for network in [
            "bluesky",
            "telegram",
            "discord",
            "slack",
            "matrix",
            "webhook",
            "vk",
            "x",
            "instagram",
            "threads",
            "facebook",
        ] {
            let home = Home {
                postctl: self.postctl.clone(),
                dir: self.work.join(format!("post-{network}")),
            };
            std::fs::create_dir_all(&home.dir).map_err(|e| e.to_string())?;
            std::fs::write(home.dir.join("config.toml"), "timezone = \"UTC\"\n")
                .map_err(|e| e.to_string())?;
            let (flags, secret) = account_flags(&fakes, network)?;
            let mut args = vec!["accounts", "add", network, "--name", "acc"];
            args.extend(flags.iter().map(String::as_str));
            args.push("--token-stdin");
            home.postctl(&args, Some(&format!("{secret}\n")))?;
            // Instagram posts need an image, which it fetches from the media host.
            let mut media: Vec<&str> = Vec::new();
            if network == "instagram" {
                set_media_host(&home, &fakes)?;
                media = vec!["--media", &image];
            }
            let mut warm = vec!["post", "Warming up the page cache", "--to", "acc"];
            warm.extend(&media);
            home.postctl(&warm, None)?;
            let before = fakes.requests(network)?;
            let mut samples = Vec::new();
            for i in 0..RUNS {
                let text =
                    format!("Shipped v2.{i} with the new scheduler https://example.com/v2.{i}");
                let mut args = vec!["post", text.as_str(), "--to", "acc"];
                args.extend(&media);
                let started = Instant::now();
                home.postctl(&args, None)?;
                samples.push(started.elapsed());
            }
            let after = fakes.requests(network)?;
            line(
                report,
                &format!("postctl post ({network} fake)"),
                &samples,
                "-",
            );
            let _ = writeln!(
                report,
                "{:<40} {:>8.2} requests per run",
                "",
                (after - before) as f64 / RUNS as f64
            );
        }
        Ok(())
    }

    /// (d) The daemon's resident memory with 100,000 targets scheduled in the future, and
    /// its CPU time while it waits for them.
    fn daemon_memory(&self, report: &mut String) -> Result<(), String> {
        const TARGETS: usize = 100_000;
        let fakes = Fakes::start(&self.fakes, 0, false)?;
        let home = self.home("memory", &fakes, ACCOUNTS)?;
        // Five minutes apart from 30 days on: nothing comes due during the measurement.
        let first = unix_ms() + 30 * 86_400_000;
        let rows = (0..TARGETS).map(|i| {
            (
                format!("Scheduled post {i}: the notes for the week, with https://example.com/{i}"),
                format!("acc{}", i % ACCOUNTS),
                first + 300_000 * i as i64,
            )
        });
        let started = Instant::now();
        home.import(rows)?;
        let import = started.elapsed();
        let daemon = Daemon::start(&home)?;
        std::thread::sleep(Duration::from_secs(2));
        let cpu_before = daemon.cpu_ticks();
        let mut peak_rss = 0;
        for _ in 0..20 {
            peak_rss = peak_rss.max(daemon.rss_kb().unwrap_or(0));
            std::thread::sleep(Duration::from_millis(100));
        }
        let cpu = daemon.cpu_ticks().zip(cpu_before).map(|(a, b)| a - b);
        let hwm = daemon.status_kb("VmHWM:");
        daemon.stop()?;
        let _ = writeln!(
            report,
            "{:<40} {:>8.1} MB   peak (VmHWM) {:>5.1} MB   ({TARGETS} targets)   target < 30 MB",
            "daemon RSS, 100,000 scheduled",
            peak_rss as f64 / 1024.0,
            hwm.unwrap_or(0) as f64 / 1024.0
        );
        if let Some(ticks) = cpu {
            let _ = writeln!(
                report,
                "{:<40} {:>8} ms of CPU over 2 s",
                "daemon idle CPU",
                ticks * 10
            );
        }
        let _ = writeln!(
            report,
            "{:<40} {:>8.1} s    (information)",
            format!("import ({TARGETS} rows)"),
            import.as_secs_f64()
        );
        Ok(())
    }

    /// A fresh data dir and config with `accounts` Mastodon accounts on the fake.
    fn home(&self, name: &str, fakes: &Fakes, accounts: usize) -> Result<Home, String> {
        let home = Home {
            postctl: self.postctl.clone(),
            dir: self.work.join(name),
        };
        std::fs::create_dir_all(&home.dir).map_err(|e| e.to_string())?;
        std::fs::write(home.dir.join("config.toml"), "timezone = \"UTC\"\n")
            .map_err(|e| e.to_string())?;
        let instance = fakes.field("mastodon", "base_url")?;
        let token = fakes.field("mastodon", "token")?;
        for i in 0..accounts {
            let name = format!("acc{i}");
            home.postctl(
                &[
                    "accounts",
                    "add",
                    "mastodon",
                    "--name",
                    &name,
                    "--instance",
                    &instance,
                    "--token-stdin",
                ],
                Some(&format!("{token}\n")),
            )?;
        }
        Ok(home)
    }
}

/// The `accounts add` flags for the fake of `network` (by its startup line), and the
/// secret to give on stdin.
pub(crate) fn account_flags(fakes: &Fakes, network: &str) -> Result<(Vec<String>, String), String> {
    let field = |key: &str| fakes.field(network, key);
    let base = field("base_url")?;
    Ok(match network {
        "bluesky" => (
            vec!["--pds".into(), base, "--handle".into(), field("handle")?],
            field("app_password")?,
        ),
        "telegram" => (
            vec!["--api-url".into(), base, "--chat".into(), field("chat")?],
            field("token")?,
        ),
        "discord" => (
            vec![
                "--base-url".into(),
                format!("{base}/api/v10"),
                "--channel".into(),
                field("channel_id")?,
            ],
            field("bot_token")?,
        ),
        "slack" => (
            vec![
                "--base-url".into(),
                format!("{base}/api"),
                "--channel".into(),
                field("channel")?,
            ],
            field("bot_token")?,
        ),
        "matrix" => (
            vec![
                "--homeserver".into(),
                base,
                "--room".into(),
                field("room_id")?,
            ],
            field("token")?,
        ),
        "webhook" => (
            vec!["--base-url".into(), field("url")?],
            "bench-signing-key".into(),
        ),
        "vk" => (
            vec![
                "--base-url".into(),
                base,
                "--owner-id".into(),
                field("owner_id")?,
                "--from-group".into(),
            ],
            field("token")?,
        ),
        "x" => (
            vec!["--oauth1".into(), "--base-url".into(), base],
            field("oauth1_keys")?,
        ),
        "instagram" | "threads" => (
            vec![
                "--base-url".into(),
                base,
                "--user-id".into(),
                field("user_id")?,
            ],
            field("token")?,
        ),
        "facebook" => (
            vec![
                "--base-url".into(),
                base,
                "--page-id".into(),
                field("page_id")?,
            ],
            field("page_token")?,
        ),
        other => return Err(format!("no account flags for the {other} fake")),
    })
}

/// `postctl media host set` to the fake bucket of fake-networks.
fn set_media_host(home: &Home, fakes: &Fakes) -> Result<(), String> {
    let field = |key: &str| fakes.field("s3", key);
    let (endpoint, bucket, region, key) = (
        field("base_url")?,
        field("bucket")?,
        field("region")?,
        field("access_key_id")?,
    );
    let args = [
        "media",
        "host",
        "set",
        "--endpoint",
        &endpoint,
        "--bucket",
        &bucket,
        "--region",
        &region,
        "--access-key-id",
        &key,
        "--secret-stdin",
    ];
    home.postctl(&args, Some(&field("secret_key")?))?;
    Ok(())
}

/// A 2 x 2 PNG, for the posts that need an image.
fn tiny_png() -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, 2, 2);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&[200; 12])
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Builds the `fake-networks` binary of the tests crate (release); its path.
/// `POSTCTL_BENCH_FAKES` (a fake-networks built otherwise, e.g. in debug to check the
/// benchmark runs) is used as it is.
pub(crate) fn build_fakes(root: &Path) -> Result<PathBuf, String> {
    if let Some(fakes) = std::env::var_os("POSTCTL_BENCH_FAKES") {
        return Ok(PathBuf::from(fakes));
    }
    eprintln!("building fake-networks (release)...");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "postctl-tests",
            "--bin",
            "fake-networks",
        ])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the release build of fake-networks failed".into());
    }
    Ok(crate::bench::target_dir(root).join("release/fake-networks"))
}

/// One postctl data dir and config, with the clock and zone of a user (no POSTCTL_NOW).
pub(crate) struct Home {
    pub(crate) postctl: PathBuf,
    pub(crate) dir: PathBuf,
}

impl Home {
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.postctl);
        command
            .args(args)
            .current_dir(&self.dir)
            .env("POSTCTL_DATA_DIR", self.dir.join("data"))
            .env("POSTCTL_CONFIG", self.dir.join("config.toml"))
            .env("POSTCTL_SECRET_STORE", "file")
            .env("POSTCTL_TZ", "UTC")
            .env("NO_COLOR", "1")
            .env_remove("POSTCTL_NOW")
            .env_remove("POSTCTL_DB");
        command
    }

    /// Runs postctl to the end; its stdout, or an error with its stderr.
    pub(crate) fn postctl(&self, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
        self.postctl_with(args, stdin, &[])
    }

    /// [`Home::postctl`] with more environment variables (e.g. `POSTCTL_NOW`).
    pub(crate) fn postctl_with(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, String)],
    ) -> Result<String, String> {
        let mut command = self.command(args);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.postctl.display()))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes())
                .map_err(|e| format!("cannot write to postctl: {e}"))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| format!("postctl {}: {e}", args.join(" ")))?;
        if !output.status.success() {
            return Err(format!(
                "postctl {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Imports posts given as (text, account, due in unix ms).
    pub(crate) fn import(
        &self,
        rows: impl Iterator<Item = (String, String, i64)>,
    ) -> Result<(), String> {
        let mut csv = String::from("text,to,at\n");
        for (text, account, due) in rows {
            let _ = writeln!(csv, "\"{text}\",{account},{}", rfc3339(due));
        }
        let file = self.dir.join("posts.csv");
        std::fs::write(&file, csv).map_err(|e| e.to_string())?;
        self.postctl(&["import", "--allow-past", &file.to_string_lossy()], None)
            .map(|_| ())
    }
}

/// `postctl daemon` as a child process; killed if still running when dropped.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(home: &Home) -> Result<Daemon, String> {
        let mut child = home
            .command(&["daemon"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start postctl daemon: {e}"))?;
        // It says so on stderr once it is publishing.
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let mut lines = BufReader::new(stderr).lines();
        match lines.next() {
            Some(Ok(line)) if line.contains("publishing from") => {}
            other => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("postctl daemon did not start: {other:?}"));
            }
        }
        // Keep draining its stderr so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Daemon { child })
    }

    fn status_kb(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    fn rss_kb(&self) -> Option<u64> {
        self.status_kb("VmRSS:")
    }

    /// User plus system CPU time, in clock ticks (10 ms on Linux).
    fn cpu_ticks(&self) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // The fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some(utime + stime)
    }

    /// SIGTERM, then waits for a clean exit.
    fn stop(mut self) -> Result<(), String> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("postctl daemon exited with {status} on SIGTERM"))
                };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("postctl daemon did not stop within 10 s of SIGTERM".into())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `fake-networks` child: its startup lines by network, and (with `--report-posts`)
/// the lines it reports as posts and requests arrive.
pub(crate) struct Fakes {
    child: Child,
    networks: HashMap<String, String>,
    posts: Arc<Mutex<Vec<String>>>,
}

impl Fakes {
    pub(crate) fn start(
        binary: &Path,
        latency_ms: u64,
        report_posts: bool,
    ) -> Result<Fakes, String> {
        let mut command = Command::new(binary);
        command.args(["--latency-ms", &latency_ms.to_string()]);
        if report_posts {
            command.arg("--report-posts");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let mut fakes = Fakes {
            child,
            networks: HashMap::new(),
            posts: Arc::default(),
        };
        let mut lines = BufReader::new(stdout).lines();
        // Its startup lines end with the AI providers' (the last is OpenAI's).
        while !fakes.networks.contains_key("openai") {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                other => return Err(format!("fake-networks stopped early: {other:?}")),
            };
            let network = field(&line, "network").ok_or("a fake-networks line without network")?;
            fakes.networks.insert(network, line);
        }
        let posts = Arc::clone(&fakes.posts);
        std::thread::spawn(move || collect(lines, &posts));
        Ok(fakes)
    }

    /// A field of a network's startup line.
    pub(crate) fn field(&self, network: &str, key: &str) -> Result<String, String> {
        self.networks
            .get(network)
            .and_then(|line| field(line, key))
            .ok_or_else(|| format!("fake-networks printed no {key} for {network}"))
    }

    /// How many requests the fake for `network` has answered so far, once its count has
    /// stood still for 100 ms (the fakes report it as it changes, every millisecond).
    pub(crate) fn requests(&self, network: &str) -> Result<u64, String> {
        let latest = || -> Option<u64> {
            let lines = self.posts.lock().ok()?;
            lines
                .iter()
                .rev()
                .filter(|line| field(line, "event").as_deref() == Some("requests"))
                .find(|line| field(line, "network").as_deref() == Some(network))
                .and_then(|line| field(line, "requests")?.parse().ok())
        };
        let mut seen = latest();
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let now = latest();
            if now == seen {
                return now
                    .ok_or_else(|| format!("fake-networks reported no requests to {network}"));
            }
            seen = now;
        }
    }

    /// The posts reported so far: (text, unix ms when the fake stored it).
    fn arrivals(&self) -> Vec<(String, i64)> {
        let posts = self.posts.lock().map(|p| p.clone()).unwrap_or_default();
        posts
            .iter()
            .filter_map(|line| {
                let at = field(line, "unix_ms")?.parse().ok()?;
                Some((field(line, "text")?, at))
            })
            .collect()
    }
}

impl Drop for Fakes {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(lines: std::io::Lines<BufReader<ChildStdout>>, posts: &Mutex<Vec<String>>) {
    for line in lines.map_while(Result::ok) {
        if let Ok(mut posts) = posts.lock() {
            posts.push(line);
        }
    }
}

/// A string or number field of one of the flat one-line JSON objects fake-networks prints
/// (our own texts and URLs: no escapes in them).
fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[start..];
    match rest.strip_prefix('"') {
        Some(text) => text.find('"').map(|end| text[..end].to_string()),
        None => {
            let end = rest.find([',', '}']).unwrap_or(rest.len());
            Some(rest[..end].trim().to_string())
        }
    }
}

pub(crate) fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `unix_ms` as an RFC 3339 UTC time with milliseconds (days to civil date after Howard
/// Hinnant's algorithm; xtask has no date library).
pub(crate) fn rfc3339(unix_ms: i64) -> String {
    let (days, ms_of_day) = (
        unix_ms.div_euclid(86_400_000),
        unix_ms.rem_euclid(86_400_000),
    );
    let (y, m, d) = crate::fixture::civil_from_days(days);
    let (h, min, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_fields() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_699_433_123), "2026-11-26T13:23:53.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        let line = r#"{"event":"post","network":"mastodon","text":"Hi there","unix_ms":17}"#;
        assert_eq!(field(line, "text").as_deref(), Some("Hi there"));
        assert_eq!(field(line, "unix_ms").as_deref(), Some("17"));
        assert_eq!(field(line, "nope"), None);
    }
}
