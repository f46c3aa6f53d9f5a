//! An isolated postctl environment for end-to-end tests: a temporary directory with its own
//! config, data dir and database, a pinned clock and zone, and the real `postctl` binary
//! run as a child process with a clean environment.
//!
//! Each integration test file uses a different part of this module.
#![allow(dead_code)]

pub mod browser;
#[macro_use]
pub mod networks;
pub mod server;
pub mod terminal;
pub mod x;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rusqlite::{Connection, OpenFlags, types::ValueRef};
use serde_json::Value;
use tempfile::TempDir;

/// Waits until `done` holds, looking every 100 ms; fails naming `what` after `limit`.
pub fn wait_for(limit: std::time::Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Where every command's clock starts (POSTCTL_NOW; it runs on from there): Friday
/// 2026-11-20, 11:00 in Berlin (10:00 UTC).
pub const NOW: &str = "2026-11-20T10:00:00Z";

/// [`NOW`] in milliseconds since the epoch: what every command's clock reads as it starts
/// (it runs on from there), for times written into the database by hand.
#[allow(dead_code)]
pub fn now_ms() -> i64 {
    chrono::DateTime::parse_from_rfc3339(NOW)
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}
/// The zone of the environment unless a test says otherwise.
pub const TZ: &str = "Europe/Berlin";

/// A tiny valid PNG, 3 x 2 pixels.
pub const PNG_3X2: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0x12, 0x16, 0xf1,
    0x4d, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x41, 0x0c, 0x70, 0x16, 0x00, 0x41, 0xd2, 0x05, 0xfb, 0x87, 0xf0, 0xb9, 0x48, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The `postctl` binary that `cargo test --workspace` built next to the test executables.
pub fn postctl_bin() -> PathBuf {
    let path = assert_cmd::cargo::cargo_bin("postctl");
    assert!(
        path.exists(),
        "{} does not exist: build it first with `cargo build -p postctl-cli`, or run `cargo test --workspace`",
        path.display()
    );
    path
}

/// UTC unix milliseconds of an RFC 3339 time, for comparing with what the store holds.
pub fn utc_ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("bad RFC 3339 time {rfc3339:?} in the test: {e}"))
        .timestamp_millis()
}

/// The result of one `postctl` run.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of {:?} is not JSON ({e}):\n{}",
                self.args, self.stdout
            )
        })
    }

    /// The id printed on stdout (draft new, schedule, queue add without --json).
    pub fn id(&self) -> String {
        let id = self.stdout.trim().to_string();
        assert!(
            id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
            "expected a post id on stdout of {:?}, got {:?}",
            self.args,
            self.stdout
        );
        id
    }

    /// stdout and stderr together, for "is this string anywhere" checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Every table of a database, row by row, plus its schema version: two equal dumps mean
/// nothing in the database changed.
#[derive(Debug, PartialEq, Eq)]
pub struct Dump {
    pub user_version: i64,
    pub tables: BTreeMap<String, Vec<String>>,
}

impl Dump {
    pub fn rows(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, Vec::len)
    }
}

/// One isolated environment: config, data dir, database, clock and zone of its own.
pub struct Env {
    root: TempDir,
    vars: Vec<(String, String)>,
}

impl Env {
    /// An environment whose database exists (created by `postctl init`).
    pub fn new() -> Env {
        Env::new_with(&[])
    }

    /// Like [`Env::new`], with extra or replaced environment variables.
    pub fn new_with(vars: &[(&str, &str)]) -> Env {
        let env = Env::bare_with(vars);
        env.ok(&["init", "--tz", TZ]);
        assert!(
            env.db_path().exists(),
            "postctl init did not create {}",
            env.db_path().display()
        );
        env
    }

    /// An environment where postctl has not run yet: no config, no database.
    pub fn bare() -> Env {
        Env::bare_with(&[])
    }

    pub fn bare_with(vars: &[(&str, &str)]) -> Env {
        let root = tempfile::Builder::new()
            .prefix("postctl-e2e-")
            .tempdir()
            .expect("create a temporary directory");
        let data_dir = root.path().join("data");
        let config = root.path().join("config").join("config.toml");
        let mut env = Env {
            root,
            vars: vec![
                ("POSTCTL_DATA_DIR".into(), data_dir.display().to_string()),
                ("POSTCTL_CONFIG".into(), config.display().to_string()),
                ("POSTCTL_SECRET_STORE".into(), "file".into()),
                ("POSTCTL_TZ".into(), TZ.into()),
                ("POSTCTL_NOW".into(), NOW.into()),
                ("NO_COLOR".into(), "1".into()),
            ],
        };
        for (key, value) in vars {
            env.set(key, value);
        }
        env
    }

    /// The variables every run gets.
    #[allow(dead_code)]
    pub fn vars(&self) -> &[(String, String)] {
        &self.vars
    }

    /// Sets (or replaces) an environment variable of every later run.
    pub fn set(&mut self, key: &str, value: &str) {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value.to_string()));
    }

    /// Removes an environment variable from every later run.
    pub fn unset(&mut self, key: &str) {
        self.vars.retain(|(k, _)| k != key);
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir().join("postctl.db")
    }

    pub fn wal_path(&self) -> PathBuf {
        self.data_dir().join("postctl.db-wal")
    }

    pub fn secrets_path(&self) -> PathBuf {
        self.data_dir().join("secrets.toml")
    }

    pub fn config_path(&self) -> PathBuf {
        self.root().join("config").join("config.toml")
    }

    /// Writes a file into the environment's directory and returns its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the file's directory");
        }
        std::fs::write(&path, contents).expect("write a test file");
        path
    }

    /// A `postctl` command with only this environment's variables (no HOME, no XDG_*, no
    /// EDITOR, no colour forcing from the caller's shell); PATH is kept so `sh` is found.
    pub fn command(&self, args: &[&str], extra: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(postctl_bin());
        cmd.args(args).current_dir(self.root()).env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (key, value) in &self.vars {
            cmd.env(key, value);
        }
        for (key, value) in extra {
            cmd.env(key, value);
        }
        cmd
    }

    /// Runs postctl with stdin null.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_full(args, None, &[])
    }

    /// Runs postctl with `stdin` piped in (None: stdin is null) and extra env vars.
    pub fn run_full(&self, args: &[&str], stdin: Option<&[u8]>, extra: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args, extra);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().expect("start postctl");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            // postctl may exit before reading everything; that is for the test to judge.
            let _ = pipe.write_all(input);
        }
        let output = child.wait_with_output().expect("wait for postctl");
        let run = Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(
            !run.stderr.contains("panicked"),
            "postctl panicked on {:?}:\n{}",
            run.args,
            run.stderr
        );
        run
    }

    /// Runs postctl and asserts it succeeded.
    pub fn ok(&self, args: &[&str]) -> Run {
        self.ok_full(args, None, &[])
    }

    pub fn ok_full(&self, args: &[&str], stdin: Option<&[u8]>, extra: &[(&str, &str)]) -> Run {
        let run = self.run_full(args, stdin, extra);
        assert_eq!(
            run.code, 0,
            "postctl {:?} failed:\n{}\n{}",
            run.args, run.stdout, run.stderr
        );
        run
    }

    /// Runs postctl with `--json` (given first, as a global flag, so it is never taken
    /// for an argument after `--`) and returns stdout parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.ok(&all).json()
    }

    /// Runs a command that must fail with `code`, print an error, and leave the database
    /// exactly as it was. Returns the run so the caller can check the message.
    pub fn fails(&self, args: &[&str], code: i32) -> Run {
        self.fails_full(args, None, &[], code)
    }

    pub fn fails_full(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        extra: &[(&str, &str)],
        code: i32,
    ) -> Run {
        let before = self.dump();
        let run = self.run_full(args, stdin, extra);
        assert_eq!(
            run.code, code,
            "postctl {:?} should exit {code}; stdout:\n{}\nstderr:\n{}",
            run.args, run.stdout, run.stderr
        );
        assert!(
            run.stderr.trim_start().starts_with("error:"),
            "postctl {:?} should explain the failure on stderr, got:\n{}",
            run.args,
            run.stderr
        );
        assert!(
            run.stdout.trim().is_empty(),
            "a failed command should print no data; postctl {:?} printed:\n{}",
            run.args,
            run.stdout
        );
        assert_eq!(
            before,
            self.dump(),
            "postctl {:?} failed but changed the database",
            run.args
        );
        run
    }

    /// Opens the database for reading what postctl stored.
    pub fn db(&self) -> Connection {
        Connection::open_with_flags(
            self.db_path(),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .unwrap_or_else(|e| panic!("open {}: {e}", self.db_path().display()))
    }

    /// One integer from the database.
    pub fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |row| row.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Every table, every row; empty when there is no database file.
    pub fn dump(&self) -> Dump {
        if !self.db_path().exists() {
            return Dump {
                user_version: -1,
                tables: BTreeMap::new(),
            };
        }
        let conn = self.db();
        let user_version = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("read user_version");
        let names: Vec<String> = {
            let mut stmt = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .expect("list tables");
            stmt.query_map([], |row| row.get(0))
                .expect("list tables")
                .collect::<Result<_, _>>()
                .expect("list tables")
        };
        let mut tables = BTreeMap::new();
        for name in names {
            let sql = format!("SELECT * FROM \"{}\"", name.replace('"', "\"\""));
            let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let columns = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |row| {
                    let cells: Vec<String> = (0..columns)
                        .map(|i| match row.get_ref(i) {
                            Ok(ValueRef::Null) => "NULL".to_string(),
                            Ok(ValueRef::Integer(v)) => v.to_string(),
                            Ok(ValueRef::Real(v)) => v.to_string(),
                            Ok(ValueRef::Text(v)) => format!("{:?}", String::from_utf8_lossy(v)),
                            Ok(ValueRef::Blob(v)) => format!("{v:02x?}"),
                            Err(e) => format!("<{e}>"),
                        })
                        .collect();
                    Ok(cells.join(" | "))
                })
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            rows.sort();
            tables.insert(name, rows);
        }
        Dump {
            user_version,
            tables,
        }
    }

    /// The due times (UTC ms) of a post's targets, in target order.
    pub fn due_ms(&self, post_id: &str) -> Vec<Option<i64>> {
        let conn = self.db();
        let mut stmt = conn
            .prepare("SELECT due_ms FROM targets WHERE post_id = ?1 ORDER BY position")
            .expect("prepare");
        stmt.query_map([post_id], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    /// The states of a post's targets, in target order.
    pub fn target_states(&self, post_id: &str) -> Vec<String> {
        let conn = self.db();
        let mut stmt = conn
            .prepare("SELECT state FROM targets WHERE post_id = ?1 ORDER BY position")
            .expect("prepare");
        stmt.query_map([post_id], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    /// Schedules a new post of `text` to `to` (accounts and groups, comma-separated) at `at`
    /// as `--at` reads it ("2026-12-01 09:00" is in the environment's zone); asserts it
    /// succeeded and returns the post's id.
    pub fn schedule(&self, text: &str, to: &str, at: &str) -> String {
        self.ok(&["schedule", text, "--to", to, "--at", at]).id()
    }

    /// Adds a Mastodon account `name` whose token is `token` (piped on stdin).
    pub fn add_mastodon(&self, name: &str, token: &str) -> Run {
        self.ok_full(
            &[
                "accounts",
                "add",
                "mastodon",
                "--name",
                name,
                "--instance",
                "https://social.example.org",
                "--token-stdin",
            ],
            Some(format!("{token}\n").as_bytes()),
            &[],
        )
    }

    /// Adds a Mastodon account `name` on the fake Mastodon `fake`, with the token it takes.
    pub fn add_mastodon_on(
        &self,
        name: &str,
        fake: &postctl_tests::fakes::mastodon::FakeMastodon,
    ) -> Run {
        use postctl_tests::fakes::FakeServer as _;
        self.ok_full(
            &[
                "accounts",
                "add",
                "mastodon",
                "--name",
                name,
                "--instance",
                &fake.base_url(),
                "--token-stdin",
            ],
            Some(format!("{}\n", postctl_tests::fakes::mastodon::FakeMastodon::TOKEN).as_bytes()),
            &[],
        )
    }

    /// Adds a Bluesky account `name` whose app password is `password`.
    pub fn add_bluesky(&self, name: &str, password: &str) -> Run {
        self.ok_full(
            &[
                "accounts",
                "add",
                "bluesky",
                "--name",
                name,
                "--handle",
                "me.bsky.social",
                "--app-password-stdin",
            ],
            Some(format!("{password}\n").as_bytes()),
            &[],
        )
    }

    /// An environment with two accounts, `masto` and `bsky`.
    pub fn with_accounts() -> Env {
        let env = Env::new();
        env.add_mastodon("masto", "masto-token");
        env.add_bluesky("bsky", "bsky-app-password");
        env
    }

    /// Writes an executable shell script, e.g. a fake $EDITOR.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.file(name, format!("#!/bin/sh\nset -e\n{body}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("make the script executable");
        path
    }
}

/// The `id` fields of a JSON array of posts.
pub fn ids(posts: &Value) -> Vec<String> {
    posts
        .as_array()
        .unwrap_or_else(|| panic!("expected a JSON array, got {posts}"))
        .iter()
        .map(|p| p["id"].as_str().expect("post id").to_string())
        .collect()
}
