//! A real `postctl-server serve` for end-to-end tests of the CLI and the dashboard against
//! a server: on a free port of 127.0.0.1 with its own data dir, killed when dropped; its
//! users made with its own `user add`, and plain HTTP/1.1 calls for what a test sets up on
//! the server directly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::Env;

/// The password every test user gets.
pub const PASSWORD: &[u8] = b"correct horse battery staple\n";

/// `postctl-server`, built beside `postctl` (`cargo build -p postctl-server`).
pub fn server_bin() -> PathBuf {
    let path = super::postctl_bin().with_file_name("postctl-server");
    assert!(
        path.exists(),
        "{} does not exist: build it with `cargo build -p postctl-server`, or run `cargo test --workspace`",
        path.display()
    );
    path
}

pub struct Server {
    child: Child,
    pub base: String,
    /// The data dir: deleted when the server that made it is dropped.
    dir: PathBuf,
    _data: Option<tempfile::TempDir>,
    /// The settings it was started with, for [`Server::restart`].
    env: Vec<(String, String)>,
}

/// Starts `postctl-server serve` on `listen` with `data`; its child and address.
fn serve(data: &std::path::Path, listen: &str, env: &[(String, String)]) -> (Child, String) {
    let mut child = Command::new(server_bin())
        .args(["serve", "--listen", listen, "--data"])
        .arg(data)
        .env_remove("POSTCTL_SERVER_DATABASE_URL")
        .envs(env.iter().map(|(k, v)| (k, v)))
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
    (child, address)
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// A server with more settings in its environment (`POSTCTL_SERVER_…`).
    pub fn start_with(env: &[(&str, &str)]) -> Server {
        let data = tempfile::Builder::new()
            .prefix("postctl-test-server-")
            .tempdir()
            .expect("a data dir");
        let mut server = Server::on(data.path().to_path_buf(), env);
        server._data = Some(data);
        server
    }

    /// A second `serve` process on this one's data dir (its SQLite database), as several
    /// processes share a database; it does not delete the dir.
    pub fn another(&self, env: &[(&str, &str)]) -> Server {
        Server::on(self.dir.clone(), env)
    }

    fn on(dir: PathBuf, env: &[(&str, &str)]) -> Server {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (child, address) = serve(&dir, "127.0.0.1:0", &env);
        Server {
            child,
            base: format!("http://{address}"),
            dir,
            _data: None,
            env,
        }
    }

    /// Starts the server again after [`Server::stop`] (or a kill), on the same address
    /// and data dir.
    pub fn restart(&mut self) {
        self.stop();
        let listen = self.base.trim_start_matches("http://").to_string();
        let (child, _) = serve(&self.dir, &listen, &self.env);
        self.child = child;
    }

    /// The server's process id (to send it a signal).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Adds a user with `postctl-server user add NAME --password-stdin EXTRA…`.
    pub fn add_user(&self, name: &str, extra: &[&str]) {
        let (ok, out) = self.cli(
            &[&["user", "add", name, "--password-stdin"], extra].concat(),
            PASSWORD,
        );
        assert!(ok, "user add {name}: {out}");
    }

    /// Runs `postctl-server ARGS --data DIR` with `stdin`: success and stdout + stderr.
    pub fn cli(&self, args: &[&str], stdin: &[u8]) -> (bool, String) {
        let mut child = Command::new(server_bin())
            .args(args)
            .arg("--data")
            .arg(&self.dir)
            .env_remove("POSTCTL_SERVER_DATABASE_URL")
            // The settings of its `serve` (a PostgreSQL URL, the key, a bucket).
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("postctl-server runs");
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin).expect("stdin");
        }
        let out = child.wait_with_output().expect("postctl-server finishes");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// GET `path` with a bearer token: the status and the body as JSON.
    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.send("GET", path, token, "")
    }

    /// A request with a bearer token and a JSON body: the status and the body as JSON.
    pub fn send(&self, method: &str, path: &str, token: &str, body: &str) -> (u16, Value) {
        let authorization = format!("Bearer {token}");
        self.request(method, path, &[("Authorization", &authorization)], body)
    }

    /// One HTTP/1.1 request with `headers` and a JSON body: the status and the body as
    /// JSON (`Null` when empty, the text itself when it is not JSON).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Value) {
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
        let json = if body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).unwrap_or(Value::String(body.to_string()))
        };
        (status, json)
    }

    /// [`send`](Self::send) that must succeed (a 2xx status): the body as JSON.
    pub fn ok(&self, method: &str, path: &str, token: &str, body: Value) -> Value {
        let (status, answer) = self.send(method, path, token, &body.to_string());
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    /// `PUT /api/v1/media/{sha256}` with a file's bytes, as the README's curl does: the
    /// status.
    pub fn upload(&self, token: &str, bytes: &[u8]) -> u16 {
        let address = self.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to the server");
        write!(
            stream,
            "PUT /api/v1/media/{} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            sha256_hex(bytes),
            bytes.len()
        )
        .expect("send");
        stream.write_all(bytes).expect("send the file");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status")
    }

    /// A Mastodon account `name` at `base_url` with `token` (`POST /api/v1/accounts`): its
    /// JSON.
    pub fn add_mastodon(&self, session: &str, name: &str, base_url: &str, token: &str) -> Value {
        self.ok(
            "POST",
            "/api/v1/accounts",
            session,
            serde_json::json!({
                "name": name, "network": "mastodon", "base_url": base_url,
                "credentials": { "token": token },
            }),
        )
    }

    /// The workspace's template `name` (`PUT /api/v1/templates/{name}`).
    pub fn put_template(&self, session: &str, name: &str, body: &str) {
        self.ok(
            "PUT",
            &format!("/api/v1/templates/{name}"),
            session,
            serde_json::json!({ "body": body }),
        );
    }

    /// The server's data dir (its SQLite database is `server.sqlite3` there).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Stops the server (also when dropped).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Settings for tests of the posts a server makes itself: feeds polled every second,
/// webhooks to loopback allowed, and nothing published (the posts are what they look at).
pub const MAKER_SETTINGS: &[(&str, &str)] = &[
    ("POSTCTL_SERVER_FEED_POLL_SECONDS", "1"),
    ("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS", "true"),
    ("POSTCTL_SERVER_PUBLISH", "false"),
];

/// GitHub's `X-Hub-Signature-256` of `body` under the webhook's `secret`: `sha256=` and
/// the HMAC-SHA256 in hex.
pub fn github_signature(secret: &str, body: &str) -> String {
    use hmac::{KeyInit, Mac as _};
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

/// A 1x1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A file's SHA-256 in lowercase hex: its address in the media store.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A postctl data dir signed in to `server` as `user`.
pub fn device(server: &Server, user: &str) -> Env {
    let env = Env::new();
    env.ok_full(
        &["login", &server.base, "--user", user, "--password-stdin"],
        Some(PASSWORD),
        &[],
    );
    env
}

/// The session token a device keeps in its secret store.
pub fn token(env: &Env) -> String {
    let text = std::fs::read_to_string(env.secrets_path()).expect("secrets.toml");
    let start = text.find("pss_").expect("a session token in secrets.toml");
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}
