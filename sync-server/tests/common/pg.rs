//! A private PostgreSQL cluster for one test: `initdb` into a temporary directory, started
//! with `pg_ctl` on a free loopback port, stopped (by its data directory) when dropped.
//!
//! The binaries are found on PATH or in Debian's `/usr/lib/postgresql/<major>/bin`. When
//! they are missing, [`Postgres::start`] prints a loud SKIP and returns `None`; with
//! `CI=true` it fails instead, so CI cannot pass without running these tests. PostgreSQL
//! refuses to run as root: as root, the cluster runs as the `postgres` user.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub struct Postgres {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    run_as: Option<String>,
    databases: std::sync::atomic::AtomicU32,
}

fn find_bin() -> Option<PathBuf> {
    // On PATH there may be links to a few of the programs only: the folder the link to
    // initdb points into holds them all (createdb too).
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("initdb"))
            .find(|initdb| initdb.is_file())
    });
    if let Some(bin) = on_path
        .and_then(|initdb| std::fs::canonicalize(initdb).ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
        .filter(|bin| bin.join("pg_ctl").is_file() && bin.join("createdb").is_file())
    {
        return Some(bin);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            let complete = ["initdb", "pg_ctl", "createdb"]
                .iter()
                .all(|p| bin.join(p).is_file());
            complete.then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn skip(test: &str, why: &str) -> Option<Postgres> {
    let message = format!(
        "SKIP {test}: PostgreSQL is not available ({why}); install it (Debian: apt-get install postgresql) to run the PostgreSQL tests"
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}. With CI=true a skipped PostgreSQL test is a failure.");
    }
    eprintln!("\n{}\n!!! {message}\n{}\n", "!".repeat(78), "!".repeat(78));
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn id_of(user: &str, flag: &str) -> Option<u32> {
    let out = Command::new("id").args([flag, user]).output().ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

impl Postgres {
    /// Starts a cluster, or says loudly why it cannot (see the module documentation).
    pub fn start(test: &str) -> Option<Postgres> {
        let Some(bin) = find_bin() else {
            return skip(
                test,
                "no initdb and pg_ctl on PATH or in /usr/lib/postgresql/*/bin",
            );
        };
        let root = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        let dir = tempfile::Builder::new()
            .prefix("postctl-pg-")
            .tempdir()
            .expect("a temporary directory");
        let run_as = if root {
            let (Some(uid), Some(gid)) = (id_of("postgres", "-u"), id_of("postgres", "-g")) else {
                return skip(
                    test,
                    "running as root and there is no `postgres` user to run it as",
                );
            };
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("chown the cluster's directory");
            Some("postgres".to_string())
        } else {
            None
        };
        let mut pg = Postgres {
            dir,
            bin,
            port: 0,
            run_as,
            databases: std::sync::atomic::AtomicU32::new(0),
        };
        let initdb = pg.run(
            "initdb",
            &[
                "-D",
                &pg.data().to_string_lossy(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        // Another process may take the free port between our check and the start: retry.
        for _ in 0..5 {
            pg.port = free_port();
            let options = format!(
                "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                pg.port,
                pg.dir.path().display()
            );
            let started = pg.run(
                "pg_ctl",
                &[
                    "-D",
                    &pg.data().to_string_lossy(),
                    "-l",
                    &pg.dir.path().join("log").to_string_lossy(),
                    "-o",
                    &options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            );
            if started.status.success() {
                return Some(pg);
            }
        }
        let log = std::fs::read_to_string(pg.dir.path().join("log")).unwrap_or_default();
        panic!("PostgreSQL did not start: {log}");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        command
            .args(args)
            .current_dir(Path::new("/"))
            .output()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", path.display()))
    }

    /// Creates a new, empty database and returns its URL.
    pub fn database(&self) -> String {
        let n = self
            .databases
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("postctl_{n}");
        let port = self.port.to_string();
        let out = self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", &name],
        );
        assert!(
            out.status.success(),
            "createdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}
