//! `postctl inbox` against a real `postctl-server`: the server's notifications for the
//! signed-in user, listed (all or unread, as a table or JSON) and marked read, one or all.
//! Notifications come from a real event: a post scheduled through the API, which the
//! user chose to hear of in the app.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Env;
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

/// A `postctl-server serve` on a free port of 127.0.0.1; killed when dropped.
struct Server {
    child: Child,
    base: String,
    data: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let data = tempfile::Builder::new()
            .prefix("postctl-inbox-server-")
            .tempdir()
            .expect("a data dir");
        let mut child = Command::new(server_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .env_remove("POSTCTL_SERVER_DATABASE_URL")
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
            .expect("write");
        let out = child.wait_with_output().expect("user add finishes");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A request with a bearer token and a JSON body: the status and the body as JSON.
    fn send(&self, method: &str, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let body = body.to_string();
        let address = self.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to the server");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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

#[test]
fn the_inbox_lists_the_servers_notifications_and_marks_them_read() {
    let server = Server::start();
    server.add_user("alice");
    let env = Env::new();
    // Not linked yet: says how to sign in.
    let unlinked = env.fails(&["inbox"], 2);
    assert!(
        unlinked.stderr.contains("postctl login"),
        "{}",
        unlinked.stderr
    );
    env.ok_full(
        &["login", &server.base, "--user", "alice", "--password-stdin"],
        Some(PASSWORD),
        &[],
    );
    let session = token(&env);
    let empty = env.ok(&["inbox"]);
    assert!(
        empty.stderr.contains("No notifications."),
        "{}",
        empty.stderr
    );

    // alice chooses to hear of scheduled posts in the app, then schedules three.
    let (status, prefs) = server.send(
        "PUT",
        "/api/v1/notifications/preferences",
        &session,
        &json!({"events": {"post.scheduled": ["inapp"]}}),
    );
    assert_eq!(status, 200, "{prefs}");
    for title in ["First", "Second", "Third"] {
        let (status, post) = server.send(
            "POST",
            "/api/v1/posts",
            &session,
            &json!({"body": format!("{title} post"), "title": title, "at": "2031-01-01T09:00:00Z"}),
        );
        assert_eq!(status, 201, "{post}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let items = loop {
        let items = env.json(&["inbox", "--json"]);
        if items.as_array().map(Vec::len) == Some(3) {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "the notifications did not come: {items}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let items = items.as_array().expect("a list").clone();
    assert_eq!(items[0]["event_type"], "post.scheduled");
    assert_eq!(items[0]["title"], "[alice] Scheduled: “Third”");
    assert!(items.iter().all(|i| i["read"] == false));

    let table = env.ok(&["inbox"]);
    assert!(
        table.stdout.contains("[alice] Scheduled: “First”"),
        "{}",
        table.stdout
    );
    assert_eq!(
        table.stdout.matches("post.scheduled").count(),
        3,
        "{}",
        table.stdout
    );
    assert!(table.stderr.contains("3 unread"), "{}", table.stderr);

    let first = items[2]["id"].as_str().expect("id").to_string();
    let read = env.ok(&["inbox", "read", &first]);
    assert!(
        read.stderr.contains(&format!("Marked {first} read.")),
        "{}",
        read.stderr
    );
    let again = env.ok(&["inbox", "read", &first]);
    assert!(
        again.stderr.contains("was read already"),
        "{}",
        again.stderr
    );
    let unread = env.json(&["inbox", "--unread", "--json"]);
    assert_eq!(unread.as_array().map(Vec::len), Some(2), "{unread}");
    assert!(
        unread
            .as_array()
            .expect("list")
            .iter()
            .all(|i| i["id"] != first.as_str())
    );

    let missing = env.fails(
        &["inbox", "read", "0190f0e0-0000-7000-8000-00000000dead"],
        2,
    );
    assert!(
        missing.stderr.contains("no notification"),
        "{}",
        missing.stderr
    );
    let both = env.fails(&["inbox", "read", &first, "--all"], 2);
    assert!(both.stderr.contains("--all"), "{}", both.stderr);

    let all = env.json(&["inbox", "read", "--all", "--json"]);
    assert_eq!(all["marked"], 2);
    let none = env.ok(&["inbox", "--unread"]);
    assert!(
        none.stderr.contains("No unread notifications."),
        "{}",
        none.stderr
    );
    let limited = env.json(&["inbox", "--limit", "1", "--json"]);
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
}
