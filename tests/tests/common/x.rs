//! Signing in to the fake X as a browser would, for the tests of sign-in and of
//! publishing to X.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::Env;
use postctl_tests::fakes::{FakeServer, FakeX};

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn callback(port: u16) -> String {
    format!("http://127.0.0.1:{port}/callback")
}

/// What a browser gets for a GET of `url` (http://127.0.0.1 only): status and Location.
pub fn browse(url: &str) -> (u16, Option<String>) {
    let rest = url.strip_prefix("http://").expect("an http:// address");
    let (host, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = answer.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v.trim().to_string())
    });
    (status, location)
}

/// postctl running a sign-in, its stderr read line by line on a thread.
pub struct Signing {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Signing {
    pub fn start(env: &Env, args: &[&str], stdin: Stdio) -> Signing {
        let mut child = env
            .command(args, &[])
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start postctl");
        let stderr: ChildStderr = child.stderr.take().expect("stderr");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Signing {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line of stderr containing `what`.
    pub fn line_with(&mut self, what: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("postctl never said {what:?}; it said {:?}", self.seen));
            self.seen.push(line.clone());
            if line.contains(what) {
                return line;
            }
        }
    }

    /// The authorize address postctl printed.
    pub fn authorize_url(&mut self) -> String {
        self.address_with("/i/oauth2/authorize")
    }

    /// The address postctl printed that contains `path` (another network's authorize
    /// endpoint).
    pub fn address_with(&mut self, path: &str) -> String {
        self.line_with(path).trim().to_string()
    }

    /// Waits for the exit; returns the code and everything said on stderr.
    pub fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().expect("wait for postctl");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        let said = self.seen.join("\n");
        assert!(!said.contains("panicked"), "{said}");
        (status.code().unwrap_or(-1), said)
    }
}

pub fn fake_x(port: u16, secret: Option<&str>) -> FakeX {
    let fake = FakeX::start();
    fake.configure(|c| {
        c.redirect_uris = vec![callback(port)];
        c.client_secret = secret.map(str::to_string);
    });
    fake
}

pub fn add_args(fake: &FakeX, port: &str) -> Vec<String> {
    [
        "accounts",
        "add",
        "x",
        "--name",
        "me-x",
        "--client-id",
        FakeX::CLIENT_ID,
        "--base-url",
        &fake.base_url(),
        "--no-browser",
        "--redirect-port",
        port,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `postctl accounts reauth ACCOUNT` with the browser played: the authorize address is
/// followed to the loopback listener. Returns the exit code and what postctl said.
#[allow(dead_code)]
pub fn reauth(env: &Env, account: &str, port: u16) -> (i32, String) {
    let port = port.to_string();
    let args = [
        "accounts",
        "reauth",
        account,
        "--no-browser",
        "--redirect-port",
        &port,
    ];
    let mut signing = Signing::start(env, &args, Stdio::null());
    let url = signing.authorize_url();
    browse(&browse(&url).1.expect("a redirect"));
    signing.finish()
}

/// Runs `args` (a sign-in), writes `stdin` to it, plays the browser at the authorize
/// address containing `path` (following the redirect to postctl's listener); returns the
/// exit code and what postctl said.
#[allow(dead_code)]
pub fn sign_in_as_browser(
    env: &Env,
    args: &[&str],
    stdin: Option<&[u8]>,
    path: &str,
) -> (i32, String) {
    let mut signing = Signing::start(
        env,
        args,
        if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        },
    );
    if let (Some(bytes), Some(mut pipe)) = (stdin, signing.child.stdin.take()) {
        pipe.write_all(bytes).expect("write to postctl");
    }
    let url = signing.address_with(path);
    let (status, location) = browse(&url);
    assert_eq!(status, 302, "{url}");
    browse(&location.expect("a redirect"));
    signing.finish()
}

pub fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The stored token set of `account`, as the secrets file keeps it.
pub fn stored_tokens(env: &Env, account: &str) -> serde_json::Value {
    let file = std::fs::read_to_string(env.secrets_path()).expect("the secrets file");
    let table: toml::Table = toml::from_str(&file).expect("a TOML secrets file");
    let text = table
        .get("accounts")
        .and_then(|accounts| accounts.get(account))
        .and_then(|secret| secret.as_str())
        .unwrap_or_else(|| panic!("no secret for {account} in {file}"));
    serde_json::from_str(text).expect("a JSON token set")
}

/// Adds `me-x` through a whole sign-in with an access token that is about to expire (a
/// minute: postctl refreshes within 15 minutes of expiry), then makes the fake hand out
/// two-hour tokens again; returns the fake and its redirect port.
pub fn signed_in_account(env: &Env) -> (FakeX, u16) {
    let port = free_port();
    let fake = fake_x(port, None);
    fake.configure(|c| c.access_lifetime = Duration::from_secs(60));
    let args = add_args(&fake, &port.to_string());
    let mut signing = Signing::start(env, &strs(&args), Stdio::null());
    let url = signing.authorize_url();
    browse(&browse(&url).1.expect("a redirect"));
    let (code, said) = signing.finish();
    assert_eq!(code, 0, "{said}");
    fake.configure(|c| c.access_lifetime = Duration::from_secs(2 * 60 * 60));
    (fake, port)
}
