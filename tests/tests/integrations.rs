//! The server's integrations from the CLI (issue 14): `postctl webhooks` and `postctl
//! triggers` over a device's session, against a real `postctl-server` process on a free
//! loopback port. Deliveries reach a receiver in the tests crate (`FakeWebhook`) that checks
//! each Standard Webhooks signature with its own HMAC, not the server's signing code; a
//! GitHub release is signed here with the `hmac` crate as GitHub signs it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Env;
use hmac::{KeyInit, Mac};
use postctl_tests::fakes::{FakeWebhook, ReceivedWebhook};
use serde_json::{Value, json};

const PASSWORD: &[u8] = b"correct horse battery staple\n";

fn server_bin() -> PathBuf {
    let path = common::postctl_bin().with_file_name("postctl-server");
    assert!(
        path.exists(),
        "{} does not exist: build it with `cargo build -p postctl-server`, or run `cargo test --workspace`",
        path.display()
    );
    path
}

/// A `postctl-server serve` that may send webhooks to loopback receivers; killed when
/// dropped.
struct Server {
    child: Child,
    base: String,
    data: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let data = tempfile::Builder::new()
            .prefix("postctl-integrations-")
            .tempdir()
            .expect("a data dir");
        let mut child = Command::new(server_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .env_remove("POSTCTL_SERVER_DATABASE_URL")
            .env("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("postctl-server starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let address = rest.split_whitespace().next().unwrap_or_default();
                    let _ = tx.send(address.to_string());
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("postctl-server says where it listens");
        Server {
            child,
            base: format!("http://{address}"),
            data,
        }
    }

    fn add_user(&self, name: &str) {
        let mut child = Command::new(server_bin())
            .args(["user", "add", name, "--password-stdin", "--data"])
            .arg(self.data.path())
            .env_remove("POSTCTL_SERVER_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("postctl-server runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(PASSWORD)
            .expect("stdin");
        let out = child.wait_with_output().expect("user add finishes");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// One HTTP/1.1 request: the status and the body as JSON.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
        let address = self.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to the server");
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        write!(
            stream,
            "{head}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The session token a device keeps in its secret store.
fn token(env: &Env) -> String {
    let text = std::fs::read_to_string(env.secrets_path()).expect("secrets.toml");
    let start = text.find("pss_").expect("a session token in secrets.toml");
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Waits until the receiver has `n` deliveries.
fn wait_for(receiver: &FakeWebhook, n: usize) -> Vec<ReceivedWebhook> {
    let started = Instant::now();
    loop {
        let seen = receiver.deliveries();
        if seen.len() >= n {
            return seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} of {n} deliveries arrived",
            seen.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn body_of(delivery: &ReceivedWebhook) -> Value {
    serde_json::from_slice(&delivery.body).expect("a JSON body")
}

fn github_signature(secret: &str, body: &str) -> String {
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("a key");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[test]
fn webhooks_from_the_cli_reach_a_receiver_signed() {
    let server = Server::start();
    server.add_user("alice");
    let env = Env::new();
    env.ok_full(
        &["login", &server.base, "--user", "alice", "--password-stdin"],
        Some(PASSWORD),
        &[],
    );
    let receiver = FakeWebhook::start();
    let url = receiver.url("/hooks/postctl");

    // Bad input: a clear refusal, exit 2, nothing made.
    let run = env.fails(&["webhooks", "add", &url, "--events", "post.nope"], 2);
    assert!(
        run.stderr.contains("post.published"),
        "names the event types: {}",
        run.stderr
    );
    assert_eq!(env.json(&["webhooks", "list", "--json"]), json!([]));

    let made = env.json(&[
        "webhooks",
        "add",
        &url,
        "--events",
        "post.scheduled,post.published",
        "--json",
    ]);
    let id = made["id"].as_str().expect("id").to_string();
    let secret = made["secret"]
        .as_str()
        .expect("the secret, once")
        .to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let human = env.ok(&["webhooks", "list"]);
    assert!(human.stdout.contains(&id), "{}", human.stdout);
    assert!(human.stdout.contains("post.scheduled,post.published"));
    let listed = env.ok(&["webhooks", "list", "--json"]);
    assert!(!listed.stdout.contains(&secret), "the secret is shown once");
    assert_eq!(listed.json()[0]["url"], url.as_str());

    // A ping, verified by the receiver's own HMAC.
    env.ok(&["webhooks", "ping", &id]);
    let seen = wait_for(&receiver, 1);
    seen[0].verify(&secret).expect("the ping is signed");
    assert_eq!(body_of(&seen[0])["type"], "ping");
    assert!(seen[0].verify(&format!("{secret}x")).is_err());

    let deliveries = env.json(&["webhooks", "deliveries", &id, "--json"]);
    let delivery = deliveries[0]["id"]
        .as_str()
        .expect("delivery id")
        .to_string();
    assert_eq!(deliveries[0]["event_type"], "ping");
    let table = env.ok(&["webhooks", "deliveries", &id]);
    assert!(table.stdout.contains(&delivery), "{}", table.stdout);

    // Redelivered: the same event under a new webhook-id.
    let again = env.json(&["webhooks", "redeliver", &delivery, "--json"]);
    assert_eq!(again["redelivery_of"], delivery.as_str());
    let seen = wait_for(&receiver, 2);
    seen[1].verify(&secret).expect("the redelivery is signed");
    assert_ne!(seen[1].header("webhook-id"), seen[0].header("webhook-id"));
    assert_eq!(seen[1].body, seen[0].body);
    let run = env.fails(
        &[
            "webhooks",
            "redeliver",
            "0193a1b2-0000-7000-8000-000000000000",
        ],
        2,
    );
    assert!(run.stderr.contains("no delivery"), "{}", run.stderr);

    // A trigger: a GitHub release becomes a post, whose post.scheduled reaches the receiver.
    let session = token(&env);
    let (status, account) = server.send(
        "POST",
        "/api/v1/accounts",
        &[("Authorization", &format!("Bearer {session}"))],
        &json!({
            "name": "masto", "network": "mastodon", "base_url": "https://social.example.test",
            "credentials": { "token": "a-mastodon-token" },
        })
        .to_string(),
    );
    assert_eq!(status, 201, "{account}");
    let run = env.fails(
        &[
            "triggers",
            "add",
            "github",
            "--template",
            "nope",
            "--to",
            "masto",
        ],
        2,
    );
    assert!(run.stderr.contains("no template"), "{}", run.stderr);
    let trigger = env.json(&[
        "triggers",
        "add",
        "github",
        "--template",
        "release",
        "--to",
        "masto",
        "--json",
    ]);
    let trigger_id = trigger["id"].as_str().expect("id").to_string();
    let github_secret = trigger["secret"].as_str().expect("secret").to_string();
    let trigger_url = trigger["url"].as_str().expect("url").to_string();
    assert_eq!(
        trigger_url,
        format!("{}/api/v1/triggers/github/{trigger_id}", server.base)
    );
    let listed = env.ok(&["triggers", "list", "--json"]);
    assert!(!listed.stdout.contains(&github_secret));
    assert_eq!(listed.json()[0]["accounts"], json!(["masto"]));
    let release = json!({
        "action": "published",
        "release": {
            "id": 170_001, "tag_name": "v3.1.0", "name": "v3.1.0", "draft": false,
            "prerelease": false, "body": "Fixes.",
            "html_url": "https://github.com/octo-org/hello-world/releases/tag/v3.1.0",
            "published_at": "2026-12-06T10:05:00Z",
        },
        "repository": {
            "name": "hello-world", "full_name": "octo-org/hello-world",
            "html_url": "https://github.com/octo-org/hello-world",
        },
        "sender": { "login": "octocat" },
    })
    .to_string();
    let path = trigger_url.trim_start_matches(&server.base).to_string();
    let signature = github_signature(&github_secret, &release);
    let headers = [
        ("X-GitHub-Event", "release"),
        ("X-Hub-Signature-256", signature.as_str()),
    ];
    let (status, post) = server.send("POST", &path, &headers, &release);
    assert_eq!(status, 201, "{post}");
    let (status, again) = server.send("POST", &path, &headers, &release);
    assert_eq!((status, &again["duplicate"]), (200, &json!(true)));
    let seen = wait_for(&receiver, 3);
    seen[2].verify(&secret).expect("post.scheduled is signed");
    let event = body_of(&seen[2]);
    assert_eq!(event["type"], "post.scheduled");
    assert_eq!(event["data"]["post"]["id"], post["id"]);
    assert_eq!(
        event["data"]["post"]["body"],
        "hello-world v3.1.0 is out 🎉\n\nhttps://github.com/octo-org/hello-world/releases/tag/v3.1.0"
    );
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(receiver.deliveries().len(), 3, "one event for one release");

    env.ok(&["triggers", "remove", &trigger_id]);
    assert_eq!(env.json(&["triggers", "list", "--json"]), json!([]));
    env.ok(&["webhooks", "remove", &id]);
    assert_eq!(env.json(&["webhooks", "list", "--json"]), json!([]));
    env.fails(&["webhooks", "remove", &id], 2);
}

#[test]
fn integrations_need_a_linked_server() {
    let env = Env::new();
    let run = env.fails(&["webhooks", "list"], 2);
    assert!(run.stderr.contains("postctl login URL"), "{}", run.stderr);
    let run = env.fails(&["triggers", "list"], 2);
    assert!(run.stderr.contains("postctl login URL"), "{}", run.stderr);
}
