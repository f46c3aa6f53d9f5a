//! A `postctl-server serve` process on a free loopback port, killed when dropped, and
//! the same binary's other commands run against its database.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_postctl-server"))
}

pub struct Server {
    child: Child,
    pub base: String,
    pub data: TempDir,
    pub database_url: Option<String>,
    /// Everything the server wrote to stderr so far.
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts a server on the embedded SQLite database (no URL) or on PostgreSQL.
    pub fn start(database_url: Option<String>) -> Server {
        Server::start_with(database_url, &[])
    }

    /// [`start`](Self::start) with environment variables (`POSTCTL_SERVER_*` settings).
    pub fn start_with(database_url: Option<String>, env: &[(&str, &str)]) -> Server {
        let data = tempfile::tempdir().expect("a data dir");
        let mut command = Command::new(bin());
        command.envs(env.iter().copied());
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .env_remove("POSTCTL_SERVER_DATABASE_URL")
            .env_remove("POSTCTL_SERVER_LISTEN")
            .env_remove("POSTCTL_SERVER_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(url) = &database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command.spawn().expect("postctl-server starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let address = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = tx.send(address);
                }
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "postctl-server did not start listening: {}",
                    log.lock().map(|l| l.clone()).unwrap_or_default()
                )
            });
        Server {
            child,
            base: format!("http://{address}"),
            data,
            database_url,
            log,
        }
    }

    /// The setup token the server printed, waiting a moment for the line.
    pub fn setup_token(&self) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log.lock().map(|l| l.clone()).unwrap_or_default();
            if let Some(start) = log.find("pst_") {
                let token: String = log[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                return Some(token);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Runs `postctl-server ARGS` against this server's database, with `stdin`.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = Command::new(bin());
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
            input.write_all(stdin.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("postctl-server finishes")
    }

    /// `cli`, requiring success; returns stdout.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.cli(args, stdin);
        assert!(
            out.status.success(),
            "postctl-server {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds a user (in `workspace` with `role`, or with a workspace of their own) and
    /// returns a key of theirs with `scopes`.
    pub fn user_with_key(
        &self,
        name: &str,
        workspace: Option<(&str, &str)>,
        scopes: &str,
    ) -> String {
        let mut args = vec!["user", "add", name, "--password-stdin"];
        if let Some((ws, role)) = workspace {
            args.extend(["--workspace", ws, "--role", role]);
        }
        self.ok(&args, "a long password\n");
        self.key(
            name,
            workspace.map(|(ws, _)| ws).unwrap_or(name),
            scopes,
            &[],
        )
    }

    /// A new key of `user` in `workspace`.
    pub fn key(&self, user: &str, workspace: &str, scopes: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "key",
            "create",
            "--user",
            user,
            "--workspace",
            workspace,
            "--scope",
            scopes,
        ];
        args.extend(extra);
        self.ok(&args, "").trim().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
