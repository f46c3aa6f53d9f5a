//! `cargo xtask bench drain`: how fast `postctl-server` processes sharing one PostgreSQL
//! drain 1,000 due targets (Mastodon accounts on the `fake-networks` fake, answering in
//! 20 ms), with 1 process and with 3, over 10 accounts and over 200.
//!
//! An account's targets go out one after another (in order, under its rate limits), so
//! over 10 accounts no number of processes sends more than 10 at a time. Over 200, one
//! process is held back by its own means (its pool of database connections, its share of
//! the cores), which more processes add to.
//!
//! Each round gets a fresh database on a private PostgreSQL cluster: the accounts and the
//! posts (all due at one time, [`LEAD`] ahead) are made through the API of a process that
//! does not publish (`POSTCTL_SERVER_PUBLISH=false`), which is then stopped; the publishing
//! processes are started before the due time; the clock runs from the due time until
//! `/metrics` counts 1,000 published targets. Prints the times, how busy the machine's
//! cores were meanwhile (from `/proc/stat`: at 100% more processes cannot go faster), and
//! the CPU time the servers, PostgreSQL and the fake spent (from `/proc/PID/stat`);
//! asserts nothing. `--accounts 10,200 --processes 1,3 --rounds 3` (the defaults) choose
//! what is measured.
//!
//! `POSTCTL_BENCH_SERVER` and `POSTCTL_BENCH_FAKES` name prebuilt binaries (a debug build,
//! to check the benchmark runs); otherwise both are built in release mode.

#[path = "../../sync-server/tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::bench_publish::{Fakes, build_fakes};

const TARGETS: usize = 1_000;
/// How far ahead the posts are due: time to make them all (the API takes no past time).
const LEAD: Duration = Duration::from_secs(20);
/// Every process of one database seals with one key (32 bytes, base64).
const KEY: &str = "cG9zdGN0bC1iZW5jaC1rZXktMzItYnl0ZXMtbG9uZyE=";

/// What is measured: each account count with each process count, so many rounds each.
pub struct Shape {
    accounts: Vec<usize>,
    processes: Vec<usize>,
    rounds: usize,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            accounts: vec![10, 200],
            processes: vec![1, 3],
            rounds: 3,
        }
    }
}

impl Shape {
    /// `--accounts 10,200 --processes 1,3 --rounds 3`, each optional.
    pub fn parse(args: &[&str]) -> Result<Shape, String> {
        let mut shape = Shape::default();
        let list = |value: &str| -> Result<Vec<usize>, String> {
            value
                .split(',')
                .map(|n| match n.trim().parse() {
                    Ok(n) if (1..=TARGETS).contains(&n) => Ok(n),
                    _ => Err(format!(
                        "expected numbers from 1 to {TARGETS}, got {value:?}"
                    )),
                })
                .collect()
        };
        for pair in args.chunks(2) {
            match pair {
                ["--accounts", value] => shape.accounts = list(value)?,
                ["--processes", value] => shape.processes = list(value)?,
                ["--rounds", value] => {
                    shape.rounds = *list(value)?.first().ok_or("--rounds N")?;
                }
                _ => {
                    return Err(format!(
                        "bench drain takes --accounts N,N --processes N,N --rounds N, not {pair:?}"
                    ));
                }
            }
        }
        Ok(shape)
    }
}

pub fn run(root: &Path, shape: &Shape) -> Result<(), String> {
    let server = server_binary(root)?;
    let fakes = Fakes::start(&build_fakes(root)?, 20, false)?;
    let base_url = fakes.field("mastodon", "base_url")?;
    let token = fakes.field("mastodon", "token")?;
    let pg = pg::Postgres::start("bench drain")
        .ok_or("PostgreSQL is needed (initdb and pg_ctl on PATH or in /usr/lib/postgresql)")?;
    let mastodon = Mastodon {
        base_url: &base_url,
        token: &token,
    };
    let mut report = String::new();
    for &accounts in &shape.accounts {
        report.push_str(&format!(
            "postctl-server drain: {TARGETS} due targets over {accounts} Mastodon accounts, the fake answering in 20 ms, PostgreSQL\n"
        ));
        let mut times = Vec::new();
        for &processes in &shape.processes {
            let mut samples = Vec::new();
            for round in 0..shape.rounds {
                samples.push(drain_once(
                    &server, &pg, &mastodon, accounts, processes, round,
                )?);
            }
            samples.sort_by_key(|s| s.elapsed);
            let median = &samples[samples.len() / 2];
            report.push_str(&format!(
                "  {processes} process(es): median {:.2} s of {} rounds ({:.0} targets/s), the cores {:.0}% busy; CPU {}\n",
                median.elapsed.as_secs_f64(),
                samples.len(),
                TARGETS as f64 / median.elapsed.as_secs_f64(),
                median.busy * 100.0,
                median.cpu.describe(),
            ));
            times.push(median.elapsed);
        }
        if let [one, three] = times[..] {
            report.push_str(&format!(
                "  {} processes take {:.0}% of the time {} takes ({:.2}x as fast)\n",
                shape.processes[1],
                100.0 * three.as_secs_f64() / one.as_secs_f64(),
                shape.processes[0],
                one.as_secs_f64() / three.as_secs_f64()
            ));
        }
    }
    print!("{report}");
    Ok(())
}

/// Where the fake Mastodon listens, and the token it takes.
struct Mastodon<'a> {
    base_url: &'a str,
    token: &'a str,
}

/// One round's figures.
struct Sample {
    /// From the due time until every target was published.
    elapsed: Duration,
    /// The share of that time the machine's cores were busy.
    busy: f64,
    /// Where their time went.
    cpu: CpuByProgram,
}

/// One round on a fresh database.
fn drain_once(
    server: &Path,
    pg: &pg::Postgres,
    mastodon: &Mastodon,
    accounts: usize,
    processes: usize,
    round: usize,
) -> Result<Sample, String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let database = pg.database();
    // A whole second: the API reads the time to the second.
    let due = std::time::UNIX_EPOCH
        + Duration::from_secs(
            (std::time::SystemTime::now() + LEAD)
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        );
    prepare(
        server,
        work.path(),
        &database,
        mastodon,
        accounts,
        round,
        due,
    )?;
    let servers: Vec<Server> = (0..processes)
        .map(|n| Server::start(server, &work.path().join(format!("p{n}")), &database, &[]))
        .collect::<Result<_, _>>()?;
    let wait = due
        .duration_since(std::time::SystemTime::now())
        .map_err(|_| format!("making the posts took longer than {LEAD:?}"))?;
    std::thread::sleep(wait);
    let (started, cpu, programs) = (Instant::now(), cpu_times(), program_ticks());
    wait_published(&servers[0], Duration::from_secs(600))?;
    let elapsed = started.elapsed();
    let busy = match (cpu, cpu_times()) {
        (Some((busy0, all0)), Some((busy1, all1))) if all1 > all0 => {
            (busy1 - busy0) as f64 / (all1 - all0) as f64
        }
        _ => f64::NAN,
    };
    Ok(Sample {
        elapsed,
        busy,
        cpu: CpuByProgram::between(&programs, &program_ticks()),
    })
}

/// The machine's CPU time so far, busy and in all, in clock ticks (the `cpu` line of
/// `/proc/stat`: idle and iowait are the idle part); `None` where there is no such file.
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let all: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((all - idle, all))
}

/// The programs whose CPU time a round reports; the rest is "other".
const PROGRAMS: [&str; 3] = ["postctl-server", "postgres", "fake-networks"];

/// Each running process's CPU time so far (user and system, in clock ticks), by pid, with
/// its program's name (`/proc/PID/stat`; empty where there is no /proc).
fn program_ticks() -> std::collections::HashMap<u32, (String, u64)> {
    let mut ticks = std::collections::HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return ticks;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "PID (NAME) STATE ..." with utime and stime the 14th and 15th fields; the name
        // may hold spaces, so the fields are counted after its closing parenthesis.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let time = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        if let (Some(user), Some(system)) = (time(11), time(12)) {
            ticks.insert(pid, (name, user + system));
        }
    }
    ticks
}

/// CPU seconds spent in a round by each of [`PROGRAMS`] and by the rest of the machine
/// (processes that ended meanwhile are not counted).
struct CpuByProgram {
    seconds: Vec<(&'static str, f64)>,
}

impl CpuByProgram {
    fn between(
        before: &std::collections::HashMap<u32, (String, u64)>,
        after: &std::collections::HashMap<u32, (String, u64)>,
    ) -> CpuByProgram {
        // Linux counts these in USER_HZ, 100 a second on every architecture it runs on.
        const TICKS_PER_SECOND: f64 = 100.0;
        let mut seconds: Vec<(&'static str, f64)> = PROGRAMS
            .iter()
            .map(|p| (*p, 0.0))
            .chain([("other", 0.0)])
            .collect();
        for (pid, (name, now)) in after {
            let then = before
                .get(pid)
                .filter(|(n, _)| n == name)
                .map_or(0, |(_, t)| *t);
            let spent = now.saturating_sub(then) as f64 / TICKS_PER_SECOND;
            let slot = PROGRAMS
                .iter()
                .position(|p| p == name)
                .unwrap_or(PROGRAMS.len());
            seconds[slot].1 += spent;
        }
        CpuByProgram { seconds }
    }

    fn describe(&self) -> String {
        self.seconds
            .iter()
            .map(|(program, s)| format!("{program} {s:.2} s"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn server_binary(root: &Path) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("POSTCTL_BENCH_SERVER") {
        return Ok(PathBuf::from(path));
    }
    eprintln!("building postctl-server (release)...");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "postctl-server"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the release build of postctl-server failed".into());
    }
    Ok(crate::bench::target_dir(root).join("release/postctl-server"))
}

/// A user, a key, the accounts and the due posts, made by a process that does not publish.
fn prepare(
    binary: &Path,
    work: &Path,
    database: &str,
    mastodon: &Mastodon,
    account_count: usize,
    round: usize,
    due: std::time::SystemTime,
) -> Result<(), String> {
    let data = work.join("setup");
    let setup = Server::start(
        binary,
        &data,
        database,
        &[("POSTCTL_SERVER_PUBLISH", "false")],
    )?;
    cli(
        binary,
        &data,
        database,
        &["user", "add", "bench", "--password-stdin"],
        b"a long bench password\n",
    )?;
    let key = cli(
        binary,
        &data,
        database,
        &[
            "key",
            "create",
            "--user",
            "bench",
            "--workspace",
            "bench",
            "--scope",
            "posts:write,accounts:write",
        ],
        b"",
    )?;
    let key = key.trim();
    let mut accounts = Vec::new();
    for n in 0..account_count {
        let body = format!(
            r#"{{"name":"acc{n}","network":"mastodon","base_url":"{}","credentials":{{"token":"{}"}}}}"#,
            mastodon.base_url, mastodon.token
        );
        let answer = setup.request("POST", "/api/v1/accounts", key, &body)?;
        let id = field(&answer, "id").ok_or_else(|| format!("no account id in {answer}"))?;
        accounts.push(id);
    }
    let due = rfc3339(due);
    for i in 0..TARGETS {
        let body = format!(
            r#"{{"body":"Drain post {i} of round {round}: the weekly notes","accounts":["{}"],"at":"{due}"}}"#,
            accounts[i % account_count]
        );
        setup.request("POST", "/api/v1/posts", key, &body)?;
    }
    Ok(())
}

/// `at` as RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SSZ`), to the second.
fn rfc3339(at: std::time::SystemTime) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// Waits until the server's `/metrics` counts every target published.
fn wait_published(server: &Server, limit: Duration) -> Result<(), String> {
    let started = Instant::now();
    let wanted = format!("postctl_server_targets{{state=\"published\"}} {TARGETS}");
    loop {
        let metrics = server.request("GET", "/metrics", "", "")?;
        if metrics.lines().any(|l| l.trim() == wanted) {
            return Ok(());
        }
        if started.elapsed() > limit {
            return Err(format!("not all published after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cli(
    binary: &Path,
    data: &Path,
    database: &str,
    args: &[&str],
    stdin: &[u8],
) -> Result<String, String> {
    let mut child = command(binary, data, database)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run postctl-server: {e}"))?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "postctl-server {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn command(binary: &Path, data: &Path, database: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("--data")
        .arg(data)
        .env("POSTCTL_SERVER_DATABASE_URL", database)
        .env("POSTCTL_SERVER_KEY", KEY)
        .env("POSTCTL_SERVER_RATE_LIMIT", "1000000")
        .env_remove("POSTCTL_SERVER_PUBLISH");
    command
}

/// A `postctl-server serve` on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(
        binary: &Path,
        data: &Path,
        database: &str,
        env: &[(&str, &str)],
    ) -> Result<Server, String> {
        let mut child = command(binary, data, database)
            .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "info"])
            .envs(env.iter().copied())
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
        Ok(Server { child, address })
    }

    /// One HTTP/1.1 request; the answer's body.
    fn request(&self, method: &str, path: &str, key: &str, body: &str) -> Result<String, String> {
        let mut stream = TcpStream::connect(&self.address).map_err(|e| e.to_string())?;
        let auth = if key.is_empty() {
            String::new()
        } else {
            format!("Authorization: Bearer {key}\r\n")
        };
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        )
        .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .map_err(|e| e.to_string())?;
        let (head, body) = answer.split_once("\r\n\r\n").ok_or("not an HTTP answer")?;
        let status = head.split_whitespace().nth(1).unwrap_or_default();
        if !status.starts_with('2') {
            return Err(format!("{method} {path}: {status} {body}"));
        }
        Ok(body.to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A string field of a flat JSON object, as the API writes it (`"id":"…"`).
fn field(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = json[start..].find('"')? + start;
    Some(json[start..end].to_string())
}
