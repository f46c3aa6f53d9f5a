//! `cargo xtask bench-tui`: the dashboard on 10,000 and on 100,000 posts (or N with
//! `--posts N`), in a real terminal.
//!
//! Builds the release binary, imports N posts around a pinned clock (so the calendar's
//! month is full), then runs `postctl tui` in a pseudo-terminal of its own at 120x40, read through a VT100
//! screen parser, and
//! measures:
//! - the first frame: in the process (open, read, draw; from its log) and as seen from
//!   outside (spawn until the calendar is on the screen);
//! - each redraw after a key (the dashboard logs event-to-frame times at exit), over
//!   calendar, week, queue and activity navigation;
//! - peak memory (VmHWM) once the first frame is on screen, and after the key tour;
//! - CPU while idle: utime + stime from /proc over 5 seconds with no input.
//!
//! Prints the numbers; asserts nothing (timings do not belong in tests).

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize};

use crate::fixture::{ACCOUNTS, add_accounts, write_posts_csv};

const NOW: &str = "2026-12-01T09:00:00Z";
const IDLE: Duration = Duration::from_secs(5);

pub fn run(root: &Path, sizes: &[usize]) -> Result<(), String> {
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

    let started = Instant::now();
    let mut term = Terminal::start(binary, &data, 120, 40)?;
    term.wait_for("1 Calendar", Duration::from_secs(30))?;
    let seen = started.elapsed();
    let pid = term.pane_pid()?;
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
        term.keys(key)?;
        // Slower than a repeat key: each key is its own frame.
        std::thread::sleep(Duration::from_millis(40));
    }
    let tour_peak = peak_rss_kb(pid)?;
    term.keys("q")?;
    term.wait_for_exit(Duration::from_secs(10))?;

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
        "{:<34} {:<40} (includes the reader's polling)",
        "first frame (seen on the screen)",
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

/// `postctl tui` in a pseudo-terminal of the benchmark's own, and the screen it draws.
struct Terminal {
    screen: Arc<Mutex<vt100::Parser>>,
    keyboard: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Terminal {
    fn start(binary: &Path, data: &Path, width: u16, height: u16) -> Result<Terminal, String> {
        let pair = portable_pty::native_pty_system()
            .openpty(PtySize {
                rows: height,
                cols: width,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| format!("cannot open a pseudo-terminal: {e}"))?;
        let mut command = CommandBuilder::new(binary);
        command.arg("tui");
        command.env("TERM", "xterm-256color");
        for (key, value) in env_vars(data) {
            command.env(key, value);
        }
        let child = pair
            .slave
            .spawn_command(command)
            .map_err(|e| format!("cannot start postctl: {e}"))?;
        drop(pair.slave);
        let size = |n: u16| NonZeroU16::new(n).ok_or("a terminal needs rows and columns");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            size(height)?,
            size(width)?,
            0,
        )));
        let keyboard = pair.master.take_writer().map_err(|e| e.to_string())?;
        let mut output = pair.master.try_clone_reader().map_err(|e| e.to_string())?;
        let parser = Arc::clone(&screen);
        std::thread::spawn(move || {
            // The master end lives as long as the child can write.
            let _master = pair.master;
            let mut buffer = [0u8; 16384];
            while let Ok(read) = output.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                if let Ok(mut parser) = parser.lock() {
                    parser.process(&buffer[..read]);
                }
            }
        });
        Ok(Terminal {
            screen,
            keyboard,
            child,
        })
    }

    fn keys(&mut self, key: &str) -> Result<(), String> {
        let bytes: &[u8] = match key {
            "Enter" => b"\r",
            "Tab" => b"\t",
            "Escape" => b"\x1b",
            "Right" => b"\x1b[C",
            "Left" => b"\x1b[D",
            "Up" => b"\x1b[A",
            "Down" => b"\x1b[B",
            other if other.chars().count() == 1 => other.as_bytes(),
            other => return Err(format!("the benchmark does not know the key {other:?}")),
        };
        self.keyboard
            .write_all(bytes)
            .and_then(|()| self.keyboard.flush())
            .map_err(|e| format!("cannot type into the terminal: {e}"))
    }

    fn pane_pid(&self) -> Result<u32, String> {
        self.child
            .process_id()
            .ok_or_else(|| "postctl has no process id".to_string())
    }

    fn wait_for(&self, text: &str, within: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let shown = self
                .screen
                .lock()
                .map(|parser| parser.screen().contents().contains(text))
                .unwrap_or(false);
            if shown {
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

    fn wait_for_exit(&mut self, within: Duration) -> Result<(), String> {
        let started = Instant::now();
        while self.child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if started.elapsed() > within {
                return Err("the dashboard did not quit".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
