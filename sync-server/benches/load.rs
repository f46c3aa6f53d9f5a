//! The server under load: `cargo bench -p postctl-server --bench load [-- --clients N
//! --seconds S --rate R --targets T]`. Starts the optimised `postctl-server` on SQLite, then
//! on a private PostgreSQL cluster when one can be started, and measures:
//!
//! - requests per second and the p50/p99 latency of creating posts, listing them and
//!   getting one, with N concurrent clients (closed loop: each sends its next request when
//!   the last is answered), each over its own keep-alive connection, for S seconds each;
//! - the p50/p99 latency of a mix (7 gets, 1 list, 1 create, 1 schedule in 10) sent at a
//!   steady R requests per second (open loop: a request's latency counts from when it was
//!   due to be sent, so a slow answer cannot hide the requests queued behind it);
//! - the server's resident memory idle, and with T scheduled targets (on 100 accounts).
//!
//! `--only create|list|get` runs that closed-loop scenario alone (to profile it).
//!
//! The load generator runs on the same machine as the server and shares its cores: the
//! numbers are a floor.

#[path = "../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_postctl-server");

struct Options {
    clients: usize,
    seconds: u64,
    rate: u32,
    targets: usize,
    /// Only this closed-loop scenario (`--only create|list|get`): no mix, no memory.
    only: Option<Scenario>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        clients: 16,
        seconds: 5,
        rate: 1000,
        targets: 100_000,
        only: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).ok_or(format!("{} needs a value", args[i]));
        match args[i].as_str() {
            "--clients" => {
                options.clients = value()?.parse().map_err(|_| "--clients N")?;
                i += 2;
            }
            "--seconds" => {
                options.seconds = value()?.parse().map_err(|_| "--seconds S")?;
                i += 2;
            }
            "--rate" => {
                options.rate = value()?.parse().map_err(|_| "--rate R")?;
                i += 2;
            }
            "--targets" => {
                options.targets = value()?.parse().map_err(|_| "--targets T")?;
                i += 2;
            }
            "--only" => {
                options.only = Some(match value()?.as_str() {
                    "create" => Scenario::Create,
                    "list" => Scenario::List,
                    "get" => Scenario::Get,
                    other => return Err(format!("--only create|list|get, not {other}")),
                });
                i += 2;
            }
            // cargo bench passes --bench to every bench target.
            "--bench" => i += 1,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.clients == 0 || options.clients > 1000 || !(1..=300).contains(&options.seconds) {
        return Err("--clients 1..1000 and --seconds 1..300".into());
    }
    if !(1..=100_000).contains(&options.rate) || options.targets > 10_000_000 {
        return Err("--rate 1..100000 and --targets 0..10000000".into());
    }
    Ok(options)
}

struct Server {
    child: Child,
    base: String,
    data: tempfile::TempDir,
    database_url: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Server {
    fn start(database_url: Option<String>) -> Server {
        let data = tempfile::tempdir().expect("a data dir");
        let listen = format!("127.0.0.1:{}", free_port());
        let mut command = Command::new(BIN);
        command
            .args([
                "serve",
                "--log-level",
                "warn",
                "--listen",
                &listen,
                "--data",
            ])
            .arg(data.path())
            .env_remove("POSTCTL_SERVER_DATABASE_URL")
            // Every request is counted (on PostgreSQL, in the database) but none refused.
            .env("POSTCTL_SERVER_RATE_LIMIT", "10000000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = &database_url {
            command.args(["--database-url", url]);
        }
        let child = command.spawn().expect("postctl-server starts");
        let server = Server {
            child,
            base: format!("http://{listen}"),
            data,
            database_url,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&listen).is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The server process's resident set (Linux: `VmRSS` in /proc), in KiB.
    fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    fn cli(&self, args: &[&str], stdin: &str) -> String {
        use std::io::Write;
        let mut command = Command::new(BIN);
        command
            .args(args)
            .arg("--data")
            .arg(self.data.path())
            .env_remove("POSTCTL_SERVER_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = &self.database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command.spawn().expect("postctl-server runs");
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).expect("stdin");
        }
        let out = child.wait_with_output().expect("finishes");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

#[derive(Clone, Copy)]
enum Scenario {
    Create,
    List,
    Get,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Create => "POST /api/v1/posts",
            Scenario::List => "GET /api/v1/posts?limit=50",
            Scenario::Get => "GET /api/v1/posts/{id}",
        }
    }
}

struct Outcome {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// One closed-loop client on its own keep-alive connection, speaking HTTP/1.1 directly: a
/// general HTTP client spends about as much CPU per request as the server does, and here it
/// shares the server's two cores, so the lean client lets the numbers show the server.
async fn client(
    address: String,
    key: String,
    scenario: Scenario,
    post_id: String,
    until: Instant,
) -> (Vec<Duration>, usize) {
    use tokio::io::AsyncWriteExt;
    let mut latencies = Vec::new();
    let mut errors = 0;
    let Ok(stream) = tokio::net::TcpStream::connect(&address).await else {
        return (latencies, 1);
    };
    let _ = stream.set_nodelay(true);
    let mut connection = tokio::io::BufReader::new(stream);
    let mut n = 0u64;
    while Instant::now() < until && latencies.len() < 1_000_000 {
        n += 1;
        let request = match scenario {
            Scenario::Create => {
                let body =
                    json!({ "body": format!("load test post {n}"), "title": "bench" }).to_string();
                format!(
                    "POST /api/v1/posts HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            }
            Scenario::List => format!(
                "GET /api/v1/posts?limit=50 HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\r\n"
            ),
            Scenario::Get => format!(
                "GET /api/v1/posts/{post_id} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\r\n"
            ),
        };
        let started = Instant::now();
        let answered = match connection.get_mut().write_all(request.as_bytes()).await {
            Ok(()) => read_answer(&mut connection).await,
            Err(_) => None,
        };
        latencies.push(started.elapsed());
        match answered {
            Some(status) if (200..300).contains(&status) => {}
            Some(_) => errors += 1,
            // The connection is gone: nothing more to measure on it.
            None => {
                errors += 1;
                break;
            }
        }
    }
    (latencies, errors)
}

/// Reads one HTTP/1.1 answer with a `Content-Length` body; its status, or `None` when the
/// connection broke or the answer was not one this client reads.
async fn read_answer(connection: &mut tokio::io::BufReader<tokio::net::TcpStream>) -> Option<u16> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let mut line = String::new();
    connection.read_line(&mut line).await.ok()?;
    let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut length = None;
    loop {
        line.clear();
        if connection.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    connection.read_exact(&mut body).await.ok()?;
    Some(status)
}

async fn measure(
    server: &Server,
    key: &str,
    post_id: &str,
    scenario: Scenario,
    options: &Options,
) -> Outcome {
    let started = Instant::now();
    let until = started + Duration::from_secs(options.seconds);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut tasks = Vec::new();
    for _ in 0..options.clients {
        tasks.push(tokio::spawn(client(
            address.clone(),
            key.to_string(),
            scenario,
            post_id.to_string(),
            until,
        )));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.expect("a client");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Outcome {
        requests: latencies.len(),
        errors,
        elapsed,
        latencies,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn run_on(label: &str, server: Server, options: &Options) {
    server.cli(
        &["user", "add", "bench", "--password-stdin"],
        "a long bench password\n",
    );
    let key = server.cli(
        &[
            "key",
            "create",
            "--user",
            "bench",
            "--scope",
            "posts:read,posts:write,publish,accounts:write",
        ],
        "",
    );
    let http = postctl_core::tls::client_builder()
        .build()
        .expect("a client");
    // Some posts to list and one to get, before the clock starts.
    let mut post_id = String::new();
    for i in 0..100 {
        let post: Value = http
            .post(format!("{}/api/v1/posts", server.base))
            .bearer_auth(&key)
            .json(&json!({ "body": format!("seed post {i}") }))
            .send()
            .await
            .expect("seed")
            .json()
            .await
            .expect("json");
        post_id = post["id"].as_str().expect("an id").to_string();
    }
    let idle_rss = server.resident_kib();
    let scenarios = match options.only {
        Some(only) => vec![only],
        None => vec![Scenario::Create, Scenario::List, Scenario::Get],
    };
    for scenario in scenarios {
        let outcome = measure(&server, &key, &post_id, scenario, options).await;
        println!(
            "{label:<10} {:<28} {:>4} clients  {:>8.0} req/s  p50 {:>9}  p99 {:>9}  ({} requests, {} errors)",
            scenario.name(),
            options.clients,
            outcome.requests as f64 / outcome.elapsed.as_secs_f64(),
            ms(percentile(&outcome.latencies, 50.0)),
            ms(percentile(&outcome.latencies, 99.0)),
            outcome.requests,
            outcome.errors,
        );
    }
    if options.only.is_some() {
        return;
    }
    let accounts = add_accounts(&http, &server, &key, 100).await;
    let drafts = drafts(&http, &server, &key, &accounts[0], options).await;
    let outcome = mix(&server, &key, &post_id, &drafts, options).await;
    println!(
        "{label:<10} {:<28} {:>4} req/s    {:>8.0} req/s  p50 {:>9}  p99 {:>9}  ({} requests, {} errors)",
        "mix 7 get:1 list:1 create:1 schedule",
        options.rate,
        outcome.requests as f64 / outcome.elapsed.as_secs_f64(),
        ms(percentile(&outcome.latencies, 50.0)),
        ms(percentile(&outcome.latencies, 99.0)),
        outcome.requests,
        outcome.errors,
    );
    let started = Instant::now();
    let scheduled = schedule_targets(&http, &server, &key, &accounts, options.targets).await;
    let loaded = started.elapsed();
    // Let the publisher's first look at the new targets settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "{label:<10} resident memory: {} idle (after start), {} after the runs above with {scheduled} scheduled targets (made in {:.1} s)",
        kib(idle_rss),
        kib(server.resident_kib()),
        loaded.as_secs_f64(),
    );
}

fn kib(k: Option<u64>) -> String {
    k.map_or("unknown".into(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

/// `count` accounts on a network nobody will reach: their targets are scheduled years
/// ahead.
async fn add_accounts(
    http: &reqwest::Client,
    server: &Server,
    key: &str,
    count: usize,
) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..count {
        let name = format!("bench{i}");
        let response = http
            .post(format!("{}/api/v1/accounts", server.base))
            .bearer_auth(key)
            .json(&json!({
                "name": name,
                "network": "mastodon",
                "base_url": "https://mastodon.invalid",
                "credentials": { "token": "bench-token-not-used" },
            }))
            .send()
            .await
            .expect("an account");
        assert!(
            response.status().is_success(),
            "adding an account: {}",
            response.text().await.unwrap_or_default()
        );
        names.push(name);
    }
    names
}

/// Draft posts on one account, for the mix's schedules to schedule.
async fn drafts(
    http: &reqwest::Client,
    server: &Server,
    key: &str,
    account: &str,
    options: &Options,
) -> Vec<String> {
    let needed = (options.rate as u64 * options.seconds / 10 + 10) as usize;
    let mut ids = Vec::with_capacity(needed);
    for i in 0..needed {
        let post: Value = http
            .post(format!("{}/api/v1/posts", server.base))
            .bearer_auth(key)
            .json(&json!({ "body": format!("draft {i}"), "accounts": [account] }))
            .send()
            .await
            .expect("a draft")
            .json()
            .await
            .expect("json");
        ids.push(post["id"].as_str().expect("an id").to_string());
    }
    ids
}

/// Posts on every account, scheduled years ahead, until `targets` targets wait.
async fn schedule_targets(
    http: &reqwest::Client,
    server: &Server,
    key: &str,
    accounts: &[String],
    targets: usize,
) -> usize {
    let mut made = 0;
    let mut i = 0;
    while made < targets {
        let on: Vec<&String> = accounts.iter().take(targets - made).collect();
        let response = http
            .post(format!("{}/api/v1/posts", server.base))
            .bearer_auth(key)
            .json(&json!({
                "body": format!("scheduled {i}"),
                "accounts": on,
                "at": format!("2031-01-{:02}T09:{:02}:00Z", 1 + i % 28, i % 60),
            }))
            .send()
            .await
            .expect("a scheduled post");
        assert!(
            response.status().is_success(),
            "scheduling: {}",
            response.text().await.unwrap_or_default()
        );
        made += on.len();
        i += 1;
    }
    made
}

/// The mix at a steady rate: request `n` is due at `start + n / rate`, sent then (on its
/// own task, so a slow answer holds up nothing) and timed from then.
async fn mix(
    server: &Server,
    key: &str,
    post_id: &str,
    drafts: &[String],
    options: &Options,
) -> Outcome {
    let http = postctl_core::tls::client_builder()
        .build()
        .expect("a client");
    let total = options.rate as u64 * options.seconds;
    let interval = Duration::from_secs_f64(1.0 / f64::from(options.rate));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut drafts = drafts.iter();
    for n in 0..total {
        let due = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        let base = &server.base;
        let request = match n % 10 {
            0 => http
                .post(format!("{base}/api/v1/posts"))
                .json(&json!({ "body": format!("mix post {n}") })),
            1 => match drafts.next() {
                Some(id) => http
                    .post(format!("{base}/api/v1/posts/{id}/schedule"))
                    .json(&json!({ "at": "2031-06-01T09:00:00Z" })),
                None => http.get(format!("{base}/api/v1/posts/{post_id}")),
            },
            2 => http.get(format!("{base}/api/v1/posts?limit=50")),
            _ => http.get(format!("{base}/api/v1/posts/{post_id}")),
        }
        .bearer_auth(key);
        tasks.spawn(async move {
            let ok = match request.send().await {
                Ok(response) => {
                    let good = response.status().is_success();
                    good && response.bytes().await.is_ok()
                }
                Err(_) => false,
            };
            (due.elapsed(), ok)
        });
    }
    let mut latencies = Vec::with_capacity(total as usize);
    let mut errors = 0;
    while let Some(done) = tasks.join_next().await {
        let (latency, ok) = done.expect("a request");
        latencies.push(latency);
        errors += usize::from(!ok);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Outcome {
        requests: latencies.len(),
        errors,
        elapsed,
        latencies,
    }
}

fn main() -> std::process::ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("load: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "postctl-server under load: {} clients, {} s per scenario, {cores} cores shared with the load generator",
        options.clients, options.seconds
    );
    runtime.block_on(run_on("sqlite", Server::start(None), &options));
    match pg::Postgres::start("bench_load") {
        Some(cluster) => {
            runtime.block_on(run_on(
                "postgres",
                Server::start(Some(cluster.database())),
                &options,
            ));
            drop(cluster);
        }
        None => println!("postgres   (skipped: no PostgreSQL here)"),
    }
    std::process::ExitCode::SUCCESS
}
