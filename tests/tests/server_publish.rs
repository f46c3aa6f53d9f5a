//! The server publishes (issue 12, "Publishing on the server"): a real `postctl-server
//! serve` process, a fake Mastodon and a webhook receiver. An account is added through the
//! API with the fake's base URL, a post created and scheduled with the API, and the server's
//! own publisher sends it: the fake holds it, `GET /api/v1/posts/{id}` shows it published
//! with its URL and attempts, and the receiver gets `post.published`. On SQLite and on
//! PostgreSQL; then three processes on one PostgreSQL share 1,000 due targets while one of
//! them is killed and restarted.

mod common;
#[path = "../../sync-server/tests/common/pg.rs"]
mod pg;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::wait_for;
use postctl_tests::fakes::anthropic::FakeAnthropic;
use postctl_tests::fakes::llm::Reply;
use postctl_tests::fakes::mastodon::FakeMastodon;
use postctl_tests::fakes::webhook::FakeWebhook;
use postctl_tests::fakes::x::FakeX;
use postctl_tests::fakes::{FakeServer, RateLimit};
use serde_json::{Value, json};

/// `postctl-server`, built beside `postctl` (`cargo build -p postctl-server`).
fn server_bin() -> PathBuf {
    let path = common::postctl_bin().with_file_name("postctl-server");
    assert!(
        path.exists(),
        "{} does not exist: build it with `cargo build -p postctl-server`, or run `cargo test --workspace`",
        path.display()
    );
    path
}

/// A `postctl-server serve` on a free port of 127.0.0.1; killed when dropped.
struct Server {
    child: Child,
    base: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

/// The environment every server of a test shares: its database and its key.
struct Setup {
    data: tempfile::TempDir,
    database_url: Option<String>,
    key: String,
}

impl Setup {
    fn new(database_url: Option<String>) -> Setup {
        Setup {
            data: tempfile::Builder::new()
                .prefix("postctl-publish-server-")
                .tempdir()
                .expect("a data dir"),
            database_url,
            // 32 bytes, base64: every process of one database seals with one key.
            key: "cG9zdGN0bC10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE=".into(),
        }
    }

    fn command(&self, data: &Path) -> Command {
        let mut command = Command::new(server_bin());
        command
            .arg("--data")
            .arg(data)
            .env("POSTCTL_SERVER_KEY", &self.key)
            .env("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS", "true")
            .env("POSTCTL_SERVER_RATE_LIMIT", "100000")
            .env_remove("POSTCTL_SERVER_PUBLISH");
        match &self.database_url {
            Some(url) => command.env("POSTCTL_SERVER_DATABASE_URL", url),
            None => command.env_remove("POSTCTL_SERVER_DATABASE_URL"),
        };
        command
    }

    /// Starts `serve` (each process with a data dir of its own under the test's).
    fn serve(&self, name: &str, env: &[(&str, &str)]) -> Server {
        let data = self.data.path().join(name);
        let mut command = self.command(&data);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("postctl-server starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let keep = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let address = rest.split_whitespace().next().unwrap_or_default();
                    let _ = tx.send(address.to_string());
                }
                if let Ok(mut log) = keep.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("postctl-server says where it listens");
        Server {
            child,
            base: format!("http://{address}"),
            log,
        }
    }

    /// Runs `postctl-server ARGS` on the first process's data dir: stdout, after success.
    fn cli(&self, args: &[&str], stdin: &[u8]) -> String {
        let mut child = self
            .command(&self.data.path().join("one"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("postctl-server runs");
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin).expect("stdin");
        }
        let out = child.wait_with_output().expect("postctl-server finishes");
        assert!(
            out.status.success(),
            "postctl-server {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A user with a workspace of their own, and a key with every scope the test needs.
    fn user_key(&self) -> String {
        self.cli(
            &["user", "add", "ada", "--password-stdin", "--admin"],
            b"a long password\n",
        );
        self.cli(
            &[
                "key",
                "create",
                "--user",
                "ada",
                "--workspace",
                "ada",
                "--scope",
                "posts:read,posts:write,publish,accounts:read,accounts:write,webhooks:write",
            ],
            b"",
        )
        .trim()
        .to_string()
    }
}

impl Server {
    /// A request with a bearer token and a JSON body: the status and the body as JSON.
    fn send(&self, method: &str, path: &str, token: &str, body: &Value) -> (u16, Value) {
        self.send_with(method, path, token, body, None)
    }

    /// [`Server::send`] with an `Idempotency-Key` when `idempotency` is given.
    fn send_with(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: &Value,
        idempotency: Option<&str>,
    ) -> (u16, Value) {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let address = self.base.trim_start_matches("http://");
        let idempotency = idempotency
            .map(|k| format!("Idempotency-Key: {k}\r\n"))
            .unwrap_or_default();
        let mut stream = TcpStream::connect(address).expect("connect to the server");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             {idempotency}Content-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// GET `path` without a token: the body as text.
    fn text(&self, path: &str) -> String {
        let address = self.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to the server");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        answer
    }

    fn ok(&self, method: &str, path: &str, token: &str, body: Value) -> Value {
        let (status, answer) = self.send(method, path, token, &body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The walkthrough of the README's "Run a server": account, post, schedule, published.
fn publishes_a_scheduled_post(setup: &Setup) {
    let mastodon = FakeMastodon::start();
    let receiver = FakeWebhook::start();
    let server = setup.serve("one", &[]);
    let key = setup.user_key();
    let hook = server.ok(
        "POST",
        "/api/v1/webhooks",
        &key,
        json!({"url": receiver.url("/hooks"), "events": ["post.published"]}),
    );
    assert!(hook["id"].is_string(), "{hook}");
    let account = server.ok(
        "POST",
        "/api/v1/accounts",
        &key,
        json!({
            "name": "masto",
            "network": "mastodon",
            "base_url": mastodon.base_url(),
            "credentials": {"token": FakeMastodon::TOKEN},
        }),
    );
    let post = server.ok(
        "POST",
        "/api/v1/posts",
        &key,
        json!({"body": "Hello from the server", "accounts": [account["id"]]}),
    );
    let id = post["id"].as_str().expect("a post id").to_string();
    assert!(mastodon.posts().is_empty(), "a draft was published");
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    server.ok(
        "POST",
        &format!("/api/v1/posts/{id}/schedule"),
        &key,
        json!({"at": soon}),
    );
    wait_for(Duration::from_secs(30), "the fake to hold the post", || {
        !mastodon.posts().is_empty()
    });
    let sent = mastodon.posts();
    assert_eq!(sent.len(), 1, "published once");
    assert!(
        sent[0].text.contains("Hello from the server"),
        "{:?}",
        sent[0]
    );
    let mut shown = Value::Null;
    wait_for(
        Duration::from_secs(10),
        "the post to show published",
        || {
            shown = server.ok("GET", &format!("/api/v1/posts/{id}"), &key, Value::Null);
            shown["targets"][0]["state"] == "published"
        },
    );
    let target = &shown["targets"][0];
    assert_eq!(target["attempt_count"], 1, "{shown}");
    let url = target["parts"][0]["url"].as_str().expect("a URL");
    assert_eq!(Some(url), sent[0].url.as_deref(), "{shown}");
    let attempts = server.ok(
        "GET",
        &format!("/api/v1/posts/{id}/attempts"),
        &key,
        Value::Null,
    );
    assert!(
        attempts.to_string().contains("\"published\""),
        "the attempt is logged: {attempts}"
    );
    wait_for(
        Duration::from_secs(30),
        "post.published at the receiver",
        || {
            receiver.deliveries().iter().any(|d| {
                let body: Value = serde_json::from_slice(&d.body).unwrap_or_default();
                body["type"] == "post.published"
                    && body["data"]["post_id"] == id.as_str()
                    && body["data"]["urls"][0] == url
            })
        },
    );
    let metrics = server.text("/metrics");
    for line in [
        "postctl_server_publish_outcomes_total{network=\"mastodon\",outcome=\"published\"} 1",
        "postctl_server_targets{state=\"published\"} 1",
        "postctl_server_publish_lag_seconds_count 1",
    ] {
        assert!(
            metrics.contains(line),
            "{line} is not in /metrics:\n{metrics}"
        );
    }
    let log = server.log();
    assert!(
        !log.contains(FakeMastodon::TOKEN),
        "the token reached the log"
    );
}

#[test]
fn the_server_publishes_a_scheduled_post_on_sqlite() {
    publishes_a_scheduled_post(&Setup::new(None));
}

#[test]
fn the_server_publishes_a_scheduled_post_on_postgres() {
    let Some(pg) = pg::Postgres::start("the_server_publishes_a_scheduled_post_on_postgres") else {
        return;
    };
    publishes_a_scheduled_post(&Setup::new(Some(pg.database())));
}

#[test]
fn an_api_only_node_does_not_publish() {
    let setup = Setup::new(None);
    let mastodon = FakeMastodon::start();
    let server = setup.serve("one", &[("POSTCTL_SERVER_PUBLISH", "false")]);
    let key = setup.user_key();
    let account = server.ok(
        "POST",
        "/api/v1/accounts",
        &key,
        json!({
            "name": "masto",
            "network": "mastodon",
            "base_url": mastodon.base_url(),
            "credentials": {"token": FakeMastodon::TOKEN},
        }),
    );
    let now = chrono::Utc::now().to_rfc3339();
    let post = server.ok(
        "POST",
        "/api/v1/posts",
        &key,
        json!({"body": "Stays", "accounts": [account["id"]], "at": now}),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(mastodon.posts().is_empty(), "an API-only node published");
    let shown = server.ok(
        "GET",
        &format!("/api/v1/posts/{}", post["id"].as_str().unwrap_or_default()),
        &key,
        Value::Null,
    );
    assert_eq!(shown["targets"][0]["state"], "scheduled", "{shown}");
    assert!(server.log().contains("not publishing"), "{}", server.log());
}

/// Three processes on one PostgreSQL publish 1,000 due targets while one is SIGKILLed and
/// restarted several times: every target ends published or (where the killed process may
/// have sent it) uncertain, and Mastodon, which recognises a part sent again under its
/// Idempotency-Key, never holds one twice.
#[test]
fn three_processes_share_one_database_through_kills() {
    let Some(pg) = pg::Postgres::start("three_processes_share_one_database_through_kills") else {
        return;
    };
    let setup = Setup::new(Some(pg.database()));
    let mastodon = FakeMastodon::start();
    // Each answer takes 200 ms, so the kills land while parts are on their way.
    mastodon.chaos().set_latency(Duration::from_millis(200));
    let lease = [("POSTCTL_SERVER_PUBLISH_LEASE_SECONDS", "5")];
    let mut servers = vec![
        setup.serve("one", &lease),
        setup.serve("two", &lease),
        setup.serve("three", &lease),
    ];
    let key = setup.user_key();
    // Twenty accounts (the engine sends one account's posts one after another).
    let mut accounts = Vec::new();
    for n in 0..20 {
        let token = format!("token-{n}");
        mastodon.add_token(&token, &format!("user{n}"));
        let account = servers[0].ok(
            "POST",
            "/api/v1/accounts",
            &key,
            json!({
                "name": format!("masto{n}"),
                "network": "mastodon",
                "base_url": mastodon.base_url(),
                "credentials": {"token": token},
            }),
        );
        accounts.push(account["id"].clone());
    }
    // 1,000 targets due in a few seconds: 50 posts on the 20 accounts each.
    let due_at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let due = due_at.to_rfc3339();
    let mut posts = Vec::new();
    for n in 0..50 {
        let post = servers[n % 3].ok(
            "POST",
            "/api/v1/posts",
            &key,
            json!({"body": format!("Post {n}"), "accounts": accounts, "at": due}),
        );
        posts.push(post["id"].as_str().expect("id").to_string());
    }
    // Kill the first process and start it again, several times, while they publish.
    let started = Instant::now();
    let due_in = (due_at - chrono::Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(due_in);
    // All 1,000 are claimed at once (20 a process per account); the first kill lands while
    // the first process sends its share, the later ones while a restarted process sends
    // what it took over after a lease ran out (5 s).
    let mut killed_at = Duration::ZERO;
    for at in [2_500, 8_000, 13_600, 19_200] {
        let at = Duration::from_millis(at);
        std::thread::sleep(at.saturating_sub(killed_at));
        killed_at = at;
        servers[0].kill();
        servers[0] = setup.serve("one", &lease);
    }
    let states = |server: &Server| -> HashMap<String, usize> {
        let mut count = HashMap::new();
        for id in &posts {
            let shown = server.ok("GET", &format!("/api/v1/posts/{id}"), &key, Value::Null);
            for t in shown["targets"].as_array().expect("targets") {
                *count
                    .entry(t["state"].as_str().unwrap_or_default().to_string())
                    .or_insert(0) += 1;
            }
        }
        count
    };
    // The processes run with a 5-second lease: what a killed process held is taken over
    // 5 seconds after it was killed.
    let mut last = HashMap::new();
    let limit = Duration::from_secs(50);
    let waited = Instant::now();
    while waited.elapsed() < limit {
        last = states(&servers[1]);
        let settled = last.get("published").copied().unwrap_or(0)
            + last.get("uncertain").copied().unwrap_or(0);
        if settled == 1_000 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let published = last.get("published").copied().unwrap_or(0);
    let uncertain = last.get("uncertain").copied().unwrap_or(0);
    assert_eq!(
        published + uncertain,
        1_000,
        "every target is published, or uncertain where a killed process may have sent it: {last:?}"
    );
    let sent = mastodon.posts();
    let interrupted: usize = posts
        .iter()
        .map(|id| {
            let attempts = servers[1].ok(
                "GET",
                &format!("/api/v1/posts/{id}/attempts"),
                &key,
                Value::Null,
            );
            attempts.to_string().matches("\"interrupted\"").count()
        })
        .sum();
    eprintln!(
        "after {:?}: {last:?}, {} on the fake, {interrupted} sends interrupted by a kill",
        started.elapsed(),
        sent.len()
    );
    let mut per_target: HashMap<(String, String), usize> = HashMap::new();
    for p in &sent {
        *per_target
            .entry((p.channel.clone(), p.text.clone()))
            .or_insert(0) += 1;
    }
    let twice: Vec<_> = per_target.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "posted twice: {twice:?}");
    assert!(
        sent.len() >= published && sent.len() <= published + uncertain,
        "the fake holds every published target and at most the uncertain ones: {last:?}, {} on the fake",
        sent.len()
    );
    for server in &servers {
        assert!(!server.log().contains("token-1"), "a token reached the log");
    }
}

impl Setup {
    /// Another key of `ada` in her workspace, with `scopes` (comma-separated).
    fn key_with(&self, scopes: &str) -> String {
        self.cli(
            &[
                "key",
                "create",
                "--user",
                "ada",
                "--workspace",
                "ada",
                "--scope",
                scopes,
            ],
            b"",
        )
        .trim()
        .to_string()
    }
}

/// An account on `mastodon`, and a post the server published there: (account id, post id).
fn published_post(server: &Server, key: &str, mastodon: &FakeMastodon) -> (String, String) {
    let account = server.ok(
        "POST",
        "/api/v1/accounts",
        key,
        json!({
            "name": "masto",
            "network": "mastodon",
            "base_url": mastodon.base_url(),
            "credentials": {"token": FakeMastodon::TOKEN},
        }),
    );
    let account = account["id"].as_str().expect("an account id").to_string();
    let now = chrono::Utc::now().to_rfc3339();
    let post = server.ok(
        "POST",
        "/api/v1/posts",
        key,
        json!({"body": "Soon gone", "accounts": [account], "at": now}),
    );
    let id = post["id"].as_str().expect("a post id").to_string();
    wait_for(Duration::from_secs(30), "the post to be published", || {
        let shown = server.ok("GET", &format!("/api/v1/posts/{id}"), key, Value::Null);
        shown["targets"][0]["state"] == "published"
    });
    (account, id)
}

/// A network that says "wait" (Mastodon's quota spent: 429 and `X-RateLimit-Reset`) holds
/// the account, and `/metrics` shows the wait: one account, one target waiting.
#[test]
fn a_rate_limit_wait_shows_in_metrics() {
    let setup = Setup::new(None);
    let mastodon = FakeMastodon::start();
    let server = setup.serve("one", &[]);
    let key = setup.user_key();
    let (account, _) = published_post(&server, &key, &mastodon);
    let waits = |metrics: &str| {
        [
            "postctl_server_rate_limit_waiting_accounts 1",
            "postctl_server_rate_limit_waiting_targets 1",
        ]
        .iter()
        .all(|line| metrics.contains(line))
    };
    assert!(!waits(&server.text("/metrics")), "a wait before any 429");
    // No request is let through for two minutes: the next post is told to wait.
    mastodon.set_rate_limit(RateLimit::new(0, Duration::from_secs(120)));
    server.ok(
        "POST",
        "/api/v1/posts",
        &key,
        json!({"body": "Told to wait", "accounts": [account], "at": chrono::Utc::now().to_rfc3339()}),
    );
    wait_for(Duration::from_secs(30), "the wait in /metrics", || {
        waits(&server.text("/metrics"))
    });
    assert_eq!(mastodon.posts().len(), 1, "sent while told to wait");
}

/// `POST /api/v1/posts/{id}/unpublish` deletes the published status on the network through
/// the adapter and cancels the target; a second one has nothing to delete.
fn unpublishes_a_post(setup: &Setup) {
    let mastodon = FakeMastodon::start();
    let server = setup.serve("one", &[]);
    let key = setup.user_key();
    let (_, id) = published_post(&server, &key, &mastodon);
    assert!(!mastodon.posts()[0].deleted);
    let path = format!("/api/v1/posts/{id}/unpublish");
    let (status, answer) = server.send_with("POST", &path, &key, &Value::Null, Some("gone-1"));
    assert_eq!(status, 200, "{answer}");
    // A client that retries with the same Idempotency-Key gets the first answer again,
    // not "already unpublished".
    let replayed = server.send_with("POST", &path, &key, &Value::Null, Some("gone-1"));
    assert_eq!(
        replayed,
        (200, answer.clone()),
        "the first answer, replayed"
    );
    assert_eq!(answer["complete"], true, "{answer}");
    assert_eq!(
        answer["unpublished"],
        json!([{"account": "masto", "deleted_parts": 1}]),
        "{answer}"
    );
    assert_eq!(answer["targets"][0]["state"], "cancelled", "{answer}");
    let sent = mastodon.posts();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].deleted, "the status is still on the network");
    let (status, again) = server.send("POST", &path, &key, &Value::Null);
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["type"], "urn:postctl:problem:illegal-transition");
    // Only with `publish`: a key without it is refused, and nothing is deleted.
    let reader = setup.key_with("posts:read");
    let (status, _) = server.send("POST", &path, &reader, &Value::Null);
    assert_eq!(status, 403);
}

#[test]
fn unpublish_deletes_from_the_network_on_sqlite() {
    unpublishes_a_post(&Setup::new(None));
}

#[test]
fn unpublish_deletes_from_the_network_on_postgres() {
    let Some(pg) = pg::Postgres::start("unpublish_deletes_from_the_network_on_postgres") else {
        return;
    };
    unpublishes_a_post(&Setup::new(Some(pg.database())));
}

/// `POST /api/v1/accounts/{id}/check` asks the network; a revoked token holds the account
/// (`needs_reauth`), the held account's scheduled posts wait instead of failing, and a
/// check that passes again frees them.
#[test]
fn an_account_check_asks_the_network_and_holds_a_refused_account() {
    let setup = Setup::new(None);
    let mastodon = FakeMastodon::start();
    let server = setup.serve("one", &[]);
    let key = setup.user_key();
    let (account, _) = published_post(&server, &key, &mastodon);
    let path = format!("/api/v1/accounts/{account}/check");
    let checked = server.ok("POST", &path, &key, Value::Null);
    assert_eq!(checked["ok"], true, "{checked}");
    assert!(
        checked["identity"]
            .as_str()
            .is_some_and(|i| i.contains("me")),
        "{checked}"
    );
    assert_eq!(checked["needs_reauth"], Value::Null, "{checked}");
    mastodon.revoke_token(FakeMastodon::TOKEN);
    let refused = server.ok("POST", &path, &key, Value::Null);
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["auth"], true, "{refused}");
    assert!(refused["needs_reauth"].is_string(), "{refused}");
    // Held: a post due now is not sent (and not failed) while the account needs sign-in.
    let now = chrono::Utc::now().to_rfc3339();
    let post = server.ok(
        "POST",
        "/api/v1/posts",
        &key,
        json!({"body": "Held", "accounts": [account], "at": now}),
    );
    std::thread::sleep(Duration::from_secs(2));
    let shown = server.ok(
        "GET",
        &format!("/api/v1/posts/{}", post["id"].as_str().unwrap_or_default()),
        &key,
        Value::Null,
    );
    assert_eq!(shown["targets"][0]["state"], "scheduled", "{shown}");
    // The token works again: a passing check frees the account, and the post goes out.
    mastodon.add_token(FakeMastodon::TOKEN, "me");
    let again = server.ok("POST", &path, &key, Value::Null);
    assert_eq!(again["ok"], true, "{again}");
    assert_eq!(again["needs_reauth"], Value::Null, "{again}");
    wait_for(Duration::from_secs(30), "the held post to go out", || {
        mastodon.posts().iter().any(|p| p.text.contains("Held"))
    });
    let (status, _) = server.send(
        "POST",
        "/api/v1/accounts/0193a1b2-0000-7000-8000-000000000000/check",
        &key,
        &Value::Null,
    );
    assert_eq!(status, 404);
    assert!(!server.log().contains(FakeMastodon::TOKEN));
}

/// `POST /api/v1/generate` asks the workspace's model with the workspace's key (set by an
/// admin with `PUT /api/v1/ai`, sealed, never shown), and answers the variants measured
/// for the accounts' networks.
#[test]
fn generate_asks_the_workspace_model_with_its_key() {
    let setup = Setup::new(None);
    let model = FakeAnthropic::start();
    let mastodon = FakeMastodon::start();
    let server = setup.serve("one", &[]);
    let key = setup.user_key();
    let admin = setup.key_with("admin,posts:write");
    let (status, none) = server.send(
        "POST",
        "/api/v1/generate",
        &key,
        &json!({"brief": "announce v2"}),
    );
    assert_eq!(status, 409, "{none}");
    assert_eq!(none["type"], "urn:postctl:problem:ai-not-configured");
    // Setting the model is for admins (`admin` scope).
    let settings = json!({
        "provider": "anthropic",
        "model": FakeAnthropic::MODEL,
        "base_url": model.base_url(),
        "key": FakeAnthropic::KEY,
    });
    let (status, _) = server.send("PUT", "/api/v1/ai", &key, &settings);
    assert_eq!(status, 403);
    let set = server.ok("PUT", "/api/v1/ai", &admin, settings);
    assert_eq!(set["key"], "set", "{set}");
    let shown = server.ok("GET", "/api/v1/ai", &admin, Value::Null);
    assert!(!shown.to_string().contains(FakeAnthropic::KEY), "{shown}");
    server.ok(
        "POST",
        "/api/v1/accounts",
        &key,
        json!({
            "name": "masto",
            "network": "mastodon",
            "base_url": mastodon.base_url(),
            "credentials": {"token": FakeMastodon::TOKEN},
        }),
    );
    let long = "x".repeat(600);
    model.push(Reply::Text(format!("Version 2 is out!\n%%%\n{long}")));
    let ask = json!({"brief": "announce v2", "accounts": ["masto"], "variants": 2});
    let (status, generated) =
        server.send_with("POST", "/api/v1/generate", &key, &ask, Some("draft-1"));
    assert_eq!(status, 200, "{generated}");
    let asked_once = model.requests().len();
    // A retry with the same Idempotency-Key is answered from the first: the model is not
    // asked (or paid) twice.
    let replayed = server.send_with("POST", "/api/v1/generate", &key, &ask, Some("draft-1"));
    assert_eq!(
        replayed,
        (200, generated.clone()),
        "the first drafts, replayed"
    );
    assert_eq!(
        model.requests().len(),
        asked_once,
        "the model was asked again"
    );
    assert_eq!(generated["model"], FakeAnthropic::MODEL, "{generated}");
    let drafts = generated["drafts"].as_array().expect("drafts");
    assert_eq!(drafts.len(), 2, "{generated}");
    assert_eq!(drafts[0]["text"], "Version 2 is out!");
    assert_eq!(drafts[0]["fits"][0]["fits"], true, "{generated}");
    assert_eq!(drafts[1]["fits"][0]["fits"], false, "{generated}");
    assert_eq!(drafts[1]["fits"][0]["max"], 500, "{generated}");
    let asked = model.requests();
    let request = asked.last().expect("the model was asked");
    assert!(
        request
            .headers
            .iter()
            .any(|(name, value)| name == "x-api-key" && value == FakeAnthropic::KEY),
        "{:?}",
        request.headers
    );
    assert!(
        request.body.to_string().contains("announce v2"),
        "{}",
        request.body
    );
    // A key the provider refuses: 502 model-error, the key in no answer or log.
    server.ok(
        "PUT",
        "/api/v1/ai",
        &admin,
        json!({
            "model": FakeAnthropic::MODEL,
            "base_url": model.base_url(),
            "key": "sk-ant-wrong-key-0000",
        }),
    );
    let (status, refused) = server.send(
        "POST",
        "/api/v1/generate",
        &key,
        &json!({"brief": "announce v2"}),
    );
    assert_eq!(status, 502, "{refused}");
    assert_eq!(refused["type"], "urn:postctl:problem:model-error");
    assert!(!refused.to_string().contains("sk-ant-wrong-key-0000"));
    // The database and its write-ahead log, as they are on disk.
    let mut database = Vec::new();
    for file in ["server.sqlite3", "server.sqlite3-wal"] {
        if let Ok(bytes) = std::fs::read(setup.data.path().join("one").join(file)) {
            database.extend(bytes);
        }
    }
    assert!(!database.is_empty(), "no database file");
    let clear = |secret: &str| {
        database
            .windows(secret.len())
            .any(|w| w == secret.as_bytes())
    };
    assert!(!clear(FakeAnthropic::KEY) && !clear("sk-ant-wrong-key-0000"));
    assert!(!server.log().contains("sk-ant-wrong-key-0000"));
}

/// The refresh-token grants X was asked for, and whether each was granted.
fn refreshes(fake: &FakeX) -> Vec<bool> {
    fake.token_requests()
        .into_iter()
        .filter(|(grant, _)| grant == "refresh_token")
        .map(|(_, granted)| granted)
        .collect()
}

/// An X account signed in locally (tokens about to expire) and added to the server with
/// its tokens and client id: (the fake, the account's id, the tokens as added).
fn x_account(server: &Server, key: &str) -> (FakeX, String, Value) {
    let env = common::Env::new();
    let (fake, _) = common::x::signed_in_account(&env);
    let tokens = common::x::stored_tokens(&env, "me-x");
    let account = server.ok(
        "POST",
        "/api/v1/accounts",
        key,
        json!({
            "name": "me-x",
            "network": "x",
            "base_url": fake.base_url(),
            "settings": {"client_id": FakeX::CLIENT_ID},
            "credentials": {"token": tokens.to_string()},
        }),
    );
    assert_eq!(
        account["settings"]["client_id"],
        FakeX::CLIENT_ID,
        "{account}"
    );
    let id = account["id"].as_str().expect("an account id").to_string();
    (fake, id, tokens)
}

/// What is on disk of the SQLite database under `dir`.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for file in ["server.sqlite3", "server.sqlite3-wal"] {
        if let Ok(more) = std::fs::read(dir.join(file)) {
            bytes.extend(more);
        }
    }
    bytes
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// The server refreshes an X account's expiring token once before it publishes, under
/// the account's lock, and keeps the new tokens sealed; a refresh X refuses holds the
/// account and is counted in `/metrics`.
#[test]
fn the_server_refreshes_an_expiring_token_before_it_publishes() {
    let setup = Setup::new(None);
    let server = setup.serve("one", &[]);
    let key = setup.user_key();
    let (fake, account, tokens) = x_account(&server, &key);
    let old_access = tokens["access_token"].as_str().expect("an access token");
    // The new tokens live a minute too: the next adapter made refreshes again.
    fake.configure(|c| c.access_lifetime = Duration::from_secs(60));
    let now = chrono::Utc::now().to_rfc3339();
    server.ok(
        "POST",
        "/api/v1/posts",
        &key,
        json!({"body": "Fresh tokens", "accounts": [account], "at": now}),
    );
    wait_for(Duration::from_secs(30), "the post on X", || {
        !fake.posts().is_empty()
    });
    assert_eq!(refreshes(&fake), [true], "refreshed once");
    let sent = fake.posts();
    let auth = sent[0].auth.clone().unwrap_or_default();
    let new_access = auth.trim_start_matches("Bearer ").to_string();
    assert_ne!(new_access, old_access, "published with the old token");
    assert!(fake.access_token_works(&new_access));
    let on_disk = database_bytes(&setup.data.path().join("one"));
    assert!(!on_disk.is_empty());
    assert!(
        !holds(&on_disk, &new_access) && !holds(&on_disk, old_access),
        "a token is in the database in clear"
    );
    // X forgets the app: the next refresh is refused, the account held, the failure counted.
    fake.revoke();
    let checked = server.ok(
        "POST",
        &format!("/api/v1/accounts/{account}/check"),
        &key,
        Value::Null,
    );
    assert_eq!(checked["ok"], false, "{checked}");
    assert_eq!(checked["auth"], true, "{checked}");
    assert!(checked["needs_reauth"].is_string(), "{checked}");
    assert_eq!(refreshes(&fake), [true, false]);
    let metrics = server.text("/metrics");
    let line = "postctl_server_token_refresh_failures_total{network=\"x\",reason=\"refused\"} 1";
    assert!(
        metrics.contains(line),
        "{line} is not in /metrics:\n{metrics}"
    );
    assert!(
        !server.log().contains(&new_access),
        "a token reached the log"
    );
}

/// Two processes on one PostgreSQL that need one account's expiring token at once:
/// X (which spends a refresh token when it answers) is asked once, and both work.
#[test]
fn two_processes_never_refresh_one_token_twice() {
    let Some(pg) = pg::Postgres::start("two_processes_never_refresh_one_token_twice") else {
        return;
    };
    let setup = Setup::new(Some(pg.database()));
    let quiet = [("POSTCTL_SERVER_PUBLISH", "false")];
    let one = setup.serve("one", &quiet);
    let two = setup.serve("two", &quiet);
    let key = setup.user_key();
    let (fake, account, _) = x_account(&one, &key);
    let path = format!("/api/v1/accounts/{account}/check");
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| one.ok("POST", &path, &key, Value::Null));
        let b = scope.spawn(|| two.ok("POST", &path, &key, Value::Null));
        (a.join().expect("one"), b.join().expect("two"))
    });
    assert_eq!(
        (&a["ok"], &b["ok"]),
        (&json!(true), &json!(true)),
        "{a} {b}"
    );
    assert_eq!(refreshes(&fake), [true], "one refresh for both processes");
}

/// The post's counters as `GET /api/v1/posts/{id}/metrics` shows them, once every target
/// has a reading.
fn collected(server: &Server, key: &str, id: &str) -> Value {
    let path = format!("/api/v1/posts/{id}/metrics");
    let mut shown = Value::Null;
    wait_for(Duration::from_secs(30), "the post's counters", || {
        shown = server.ok("GET", &path, key, Value::Null);
        shown["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|t| !t["latest"].is_null()))
    });
    shown
}

/// A post the server published has its counters read from the network by the server
/// (Mastodon's status counts) and shown by `GET /api/v1/posts/{id}/metrics`, to a key
/// with `analytics:read` only.
fn collects_a_published_posts_counters(setup: &Setup) {
    let mastodon = FakeMastodon::start();
    let server = setup.serve("one", &[]);
    let key = setup.user_key();
    let (account, id) = published_post(&server, &key, &mastodon);
    let reader = setup.key_with("analytics:read");
    let shown = collected(&server, &reader, &id);
    assert_eq!(shown["post_id"], json!(id), "{shown}");
    let target = &shown["items"][0];
    assert_eq!(
        (
            &target["account_id"],
            &target["account"],
            &target["network"]
        ),
        (&json!(account), &json!("masto"), &json!("mastodon")),
        "{shown}"
    );
    let counters = &target["latest"]["counters"];
    for name in ["likes", "reposts", "replies"] {
        assert!(counters[name].is_u64(), "no {name} in {shown}");
    }
    assert_eq!(
        target["readings"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );
    assert_eq!(target["readings"][0], target["latest"], "{shown}");
    // The account's figures are read too (daily), shown to the same key.
    let path = format!("/api/v1/accounts/{account}/metrics");
    let mut figures = Value::Null;
    wait_for(Duration::from_secs(30), "the account's figures", || {
        figures = server.ok("GET", &path, &reader, Value::Null);
        !figures["latest"].is_null()
    });
    assert_eq!(figures["account"], "masto", "{figures}");
    assert!(
        figures["latest"]["counters"]["followers"].is_u64(),
        "{figures}"
    );
    let (status, _) = server.send("GET", &path, &key, &Value::Null);
    assert_eq!(status, 403, "analytics:read is what it takes");
    let metrics = server.text("/metrics");
    for line in [
        "postctl_server_analytics_readings_total{subject=\"post\",outcome=\"counted\"} 1",
        "postctl_server_analytics_readings_total{subject=\"account\",outcome=\"counted\"} 1",
    ] {
        assert!(
            metrics.contains(line),
            "{line} is not in /metrics:\n{metrics}"
        );
    }
    // Read once: the next reading is an hour away.
    std::thread::sleep(Duration::from_secs(2));
    let status = mastodon.posts()[0].id.clone();
    assert_eq!(mastodon.status_reads().get(&status), Some(&1));
    // `analytics:read` is what it takes; another post is not found.
    let (status, _) = server.send(
        "GET",
        &format!("/api/v1/posts/{id}/metrics"),
        &key,
        &Value::Null,
    );
    assert_eq!(status, 403);
    let (status, _) = server.send("GET", "/api/v1/posts/nope/metrics", &reader, &Value::Null);
    assert_eq!(status, 404);
}

#[test]
fn the_server_collects_a_published_posts_counters_on_sqlite() {
    collects_a_published_posts_counters(&Setup::new(None));
}

#[test]
fn the_server_collects_a_published_posts_counters_on_postgres() {
    let Some(pg) =
        pg::Postgres::start("the_server_collects_a_published_posts_counters_on_postgres")
    else {
        return;
    };
    collects_a_published_posts_counters(&Setup::new(Some(pg.database())));
}

/// Two processes on one PostgreSQL publish 30 posts and read their counters: each status
/// is read once, whichever process read it (the fake counts the reads).
#[test]
fn two_processes_never_read_one_target_twice() {
    let Some(pg) = pg::Postgres::start("two_processes_never_read_one_target_twice") else {
        return;
    };
    let setup = Setup::new(Some(pg.database()));
    let mastodon = FakeMastodon::start();
    // Slow answers, so both processes are reading at the same time.
    mastodon.chaos().set_latency(Duration::from_millis(50));
    let one = setup.serve("one", &[]);
    let two = setup.serve("two", &[]);
    let key = setup.user_key();
    let reader = setup.key_with("analytics:read");
    let mut accounts = Vec::new();
    for n in 0..3 {
        let token = format!("token-{n}");
        mastodon.add_token(&token, &format!("user{n}"));
        let account = one.ok(
            "POST",
            "/api/v1/accounts",
            &key,
            json!({
                "name": format!("masto{n}"),
                "network": "mastodon",
                "base_url": mastodon.base_url(),
                "credentials": {"token": token},
            }),
        );
        accounts.push(account["id"].clone());
    }
    let now = chrono::Utc::now().to_rfc3339();
    let posts: Vec<String> = (0..10)
        .map(|n| {
            let post = [&one, &two][n % 2].ok(
                "POST",
                "/api/v1/posts",
                &key,
                json!({"body": format!("Counted {n}"), "accounts": accounts, "at": now}),
            );
            post["id"].as_str().expect("id").to_string()
        })
        .collect();
    for id in &posts {
        collected([&one, &two][id.len() % 2], &reader, id);
    }
    // A few more rounds of both collectors: nothing is due again within the hour.
    std::thread::sleep(Duration::from_secs(3));
    let reads = mastodon.status_reads();
    assert_eq!(reads.len(), 30, "{reads:?}");
    let twice: Vec<_> = reads.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "read more than once: {twice:?}");
    for (name, server) in [("one", &one), ("two", &two)] {
        let rounds = server.log().matches("read the counters of").count();
        eprintln!("process {name} collected in {rounds} round(s)");
    }
}
