//! `cargo xtask bench-tui`: the dashboard on 10,000 and on 100,000 posts (or N with
//! `--posts N`), in a real terminal.
//!
//! Builds the release binary, imports N posts around a pinned clock (so the calendar's
//! month is full), then runs `postctl tui` in a tmux server of its own at 120x40 and
//! measures:
//! - the first frame: in the process (open, read, draw; from its log) and as seen from
//!   outside (spawn until the calendar is on tmux's screen);
//! - each redraw after a key (the dashboard logs event-to-frame times at exit), over
//!   calendar, week, queue and activity navigation;
//! - peak memory (VmHWM) once the first frame is on screen, and after the key tour;
//! - CPU while idle: utime + stime from /proc over 5 seconds with no input.
//!
//! Prints the numbers; asserts nothing (timings do not belong in tests). Needs tmux.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fixture::{ACCOUNTS, add_accounts, write_posts_csv};

const NOW: &str = "2026-12-01T09:00:00Z";
const IDLE: Duration = Duration::from_secs(5);

pub fn run(root: &Path, sizes: &[usize]) -> Result<(), String> {
    if !Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err(
            "tmux is needed to run the dashboard in a terminal; install it (apt-get install tmux)"
                .into(),
        );
    }
    let binary = match std::env::var_os("POSTCTL_BENCH_BINARY") {
        Some(binary) => PathBuf::from(binary),
        None => build(root)?,
    };
    let mut report = String::new();
    for &posts in sizes {
        report += &run_one(&binary, posts)?;
        report += "\n";
    }
    print!("{report}");
    Ok(())
}

/// Builds the release binary; its path.
fn build(root: &Path) -> Result<PathBuf, String> {
    eprintln!("building postctl (release)...");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "postctl-cli"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the release build failed".into());
    }
    Ok(crate::bench::target_dir(root).join("release/postctl"))
}

/// The dashboard on `posts` posts; the report.
fn run_one(binary: &Path, posts: usize) -> Result<String, String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let data = work.path().join("data");
    eprintln!("importing {posts} posts...");
    setup(binary, work.path(), &data, posts)?;

    let tmux = Tmux::new(work.path())?;
    let started = Instant::now();
    tmux.start(binary, &data, 120, 40)?;
    tmux.wait_for("1 Calendar", Duration::from_secs(30))?;
    let seen = started.elapsed();
    let pid = tmux.pane_pid()?;
    // The peak so far: the first frame (and perhaps the activity backlog after it).
    let first_peak = peak_rss_kb(pid)?;

    // Idle: no input for a while; the dashboard only polls the database.
    std::thread::sleep(Duration::from_secs(1));
    let before = cpu_ticks(pid)?;
    std::thread::sleep(IDLE);
    let idle_ticks = cpu_ticks(pid)?.saturating_sub(before);

    // Redraws: a tour of the views, one key at a time.
    let mut keys: Vec<&str> = Vec::new();
    keys.extend(["Right"; 30]);
    keys.extend(["Down"; 10]);
    keys.extend(["Tab"; 10]);
    keys.extend([
        "]", "[", "w", "Right", "Right", "w", "Enter", "Down", "Down", "Escape",
    ]);
    keys.extend(["2"]);
    keys.extend(["Down"; 30]);
    keys.extend([
        "Tab", "Tab", "Tab", "Tab", "4", "Down", "Down", "3", "1", "?", "?",
    ]);
    for key in &keys {
        tmux.keys(key)?;
        // Slower than a repeat key: each key is its own frame.
        std::thread::sleep(Duration::from_millis(40));
    }
    let tour_peak = peak_rss_kb(pid)?;
    tmux.keys("q")?;
    tmux.wait_for_exit(Duration::from_secs(10))?;

    let log = std::fs::read_to_string(data.join("tui.log"))
        .map_err(|e| format!("cannot read the dashboard's log: {e}"))?;
    let first = log
        .lines()
        .rev()
        .find_map(|l| {
            l.split_once("first frame after ")
                .map(|(_, rest)| rest.to_string())
        })
        .unwrap_or_else(|| "(not logged)".into());
    let redraws = log
        .lines()
        .rev()
        .find_map(|l| l.split_once("redraws: ").map(|(_, rest)| rest.to_string()))
        .unwrap_or_else(|| "(not logged)".into());
    let found = |what: &str| {
        log.lines()
            .find_map(|l| l.split_once(what).map(|(_, rest)| rest.to_string()))
            .unwrap_or_default()
    };
    let loaded = found(" loaded ");
    let backlog = found(" read ");
    let hz = clock_ticks_per_second();
    let idle_ms = idle_ticks as f64 * 1000.0 / hz;

    let mut report =
        format!("postctl tui benchmark: {posts} posts over {ACCOUNTS} accounts, 120x40\n");
    let _ = writeln!(
        report,
        "{:<34} {first:<40} target < 150 ms",
        "first frame (in the process)"
    );
    let _ = writeln!(
        report,
        "{:<34} {:<40}",
        "  of which the database read", loaded
    );
    let _ = writeln!(
        report,
        "{:<34} {:<40} (includes tmux's own polling)",
        "first frame (seen on tmux's screen)",
        format!("{:.1} ms", seen.as_secs_f64() * 1000.0)
    );
    let _ = writeln!(
        report,
        "{:<34} {:<40}",
        "  then the activity backlog", backlog
    );
    let _ = writeln!(report, "{:<34} target < 5 ms", "keys sent, one frame each");
    let _ = writeln!(report, "  {redraws}");
    let _ = writeln!(
        report,
        "{:<34} {:<40} target < 50 MB",
        "peak memory at the first frame",
        format!("{:.1} MB", first_peak as f64 / 1024.0)
    );
    let _ = writeln!(
        report,
        "{:<34} {:<40}",
        "peak memory after the key tour",
        format!("{:.1} MB", tour_peak as f64 / 1024.0)
    );
    let _ = writeln!(
        report,
        "{:<34} {:<40} target near 0",
        format!("CPU while idle for {} s", IDLE.as_secs()),
        format!(
            "{idle_ms:.0} ms ({:.2}%)",
            idle_ms / IDLE.as_secs_f64() / 10.0
        )
    );
    Ok(report)
}

/// A live process's peak resident memory so far (VmHWM), in kilobytes.
fn peak_rss_kb(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status"))
}

fn setup(binary: &Path, work: &Path, data: &Path, posts: usize) -> Result<(), String> {
    add_accounts(|args| postctl(binary, data, args))?;
    // From two weeks before the pinned clock (09:00), 37 minutes apart: about 39 posts a
    // day, the current month full.
    let file = work.join("posts.csv");
    write_posts_csv(&file, posts, 9 * 60 - 14 * 24 * 60)?;
    postctl(
        binary,
        data,
        &["import", &file.to_string_lossy(), "--allow-past"],
    )
}

fn env_vars(data: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("POSTCTL_DATA_DIR", data.display().to_string()),
        (
            "POSTCTL_CONFIG",
            data.join("config.toml").display().to_string(),
        ),
        ("POSTCTL_NOW", NOW.to_string()),
        ("POSTCTL_TZ", "Europe/Berlin".to_string()),
        ("POSTCTL_SECRET_STORE", "file".to_string()),
    ]
}

fn postctl(binary: &Path, data: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new(binary)
        .args(args)
        .envs(env_vars(data))
        .env_remove("BENCH_TOKEN")
        .stdin(Stdio::null())
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

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("cannot read /proc/{pid}/stat: {e}"))?;
    // The command name is in parentheses and may hold spaces; fields follow the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After the name: state is field 3 of stat(5), so utime (14) and stime (15) are 11, 12 here.
    Ok(field(11) + field(12))
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0)
}

/// A tmux server of the benchmark's own.
struct Tmux {
    socket: String,
    config: String,
}

impl Tmux {
    fn new(work: &Path) -> Result<Tmux, String> {
        let config = work.join("tmux.conf");
        std::fs::write(&config, "set -g remain-on-exit on\n").map_err(|e| e.to_string())?;
        Ok(Tmux {
            socket: format!("postctl-bench-{}", std::process::id()),
            config: config.display().to_string(),
        })
    }

    fn tmux(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "-f", &self.config])
            .args(args)
            .output()
            .map_err(|e| format!("tmux: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "tmux {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn start(&self, binary: &Path, data: &Path, width: u16, height: u16) -> Result<(), String> {
        let vars: Vec<String> = env_vars(data)
            .into_iter()
            .map(|(k, v)| format!("{k}='{v}'"))
            .collect();
        let shell = format!(
            "exec env {} TERM=xterm-256color '{}' tui",
            vars.join(" "),
            binary.display()
        );
        self.tmux(&[
            "new-session",
            "-d",
            "-s",
            "bench",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            &shell,
        ])
        .map(|_| ())
    }

    fn keys(&self, key: &str) -> Result<(), String> {
        self.tmux(&["send-keys", "-t", "bench", key]).map(|_| ())
    }

    fn pane_pid(&self) -> Result<u32, String> {
        self.tmux(&["display-message", "-p", "-t", "bench", "#{pane_pid}"])?
            .trim()
            .parse()
            .map_err(|e| format!("pane pid: {e}"))
    }

    fn wait_for(&self, text: &str, within: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if self
                .tmux(&["capture-pane", "-p", "-t", "bench"])?
                .contains(text)
            {
                return Ok(());
            }
            if started.elapsed() > within {
                return Err(format!(
                    "the dashboard did not show {text:?} within {within:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn wait_for_exit(&self, within: Duration) -> Result<(), String> {
        let started = Instant::now();
        while self
            .tmux(&["display-message", "-p", "-t", "bench", "#{pane_dead}"])?
            .trim()
            != "1"
        {
            if started.elapsed() > within {
                return Err("the dashboard did not quit".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}
