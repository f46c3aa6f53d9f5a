//! Sync in the background (issue 13): two data dirs of the real `postctl`, each running
//! `postctl daemon`, and a real `postctl-server`. A post written on one device reaches the
//! other without any `postctl sync`; the daemons say in one line when the server goes away,
//! and catch up when it is back. The dashboard's status bar is in `tui_sync.rs`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Env;
use common::server::{Server, device};

/// A running `postctl daemon`, its stderr collected line by line; killed when dropped.
struct Daemon {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    fn start(env: &Env) -> Daemon {
        let mut child = env
            .command(&["daemon"], &[])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the daemon");
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                lines.lock().expect("the log").push(line);
            }
        });
        Daemon { child, log }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().expect("the log").clone()
    }

    /// Waits until a line of the log contains `needle`; the log so far.
    fn wait_for(&self, needle: &str, within: Duration) -> Vec<String> {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.iter().any(|l| l.contains(needle)) {
                return log;
            }
            assert!(
                start.elapsed() < within,
                "no {needle:?} in the daemon's log within {within:?}:\n{}",
                log.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bodies of a device's live posts.
fn bodies(env: &Env) -> Vec<String> {
    let list = env.json(&["list", "--all"]);
    let mut bodies: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["body"].as_str().expect("a body").to_string())
        .collect();
    bodies.sort();
    bodies
}

/// Waits until `env` holds a post with `body`; how long that took.
fn wait_for_post(env: &Env, body: &str, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if bodies(env).iter().any(|b| b == body) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{body:?} did not arrive within {within:?}: {:?}",
            bodies(env)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A device on the real clock (the daemons' intervals are real time).
fn live_device(server: &Server, user: &str) -> Env {
    let mut env = device(server, user);
    env.unset("POSTCTL_NOW");
    env
}

#[test]
fn a_post_written_on_one_device_reaches_the_other_through_the_daemons() {
    let mut server = Server::start();
    server.add_user("alice", &[]);
    let a = live_device(&server, "alice");
    let b = live_device(&server, "alice");
    let on_a = Daemon::start(&a);
    let _on_b = Daemon::start(&b);

    a.ok(&["draft", "new", "Written on A"]);
    let took = wait_for_post(&b, "Written on A", Duration::from_secs(10));
    eprintln!("A to B through the daemons: {took:?}");
    b.ok(&["draft", "new", "Written on B"]);
    wait_for_post(&a, "Written on B", Duration::from_secs(10));
    assert_eq!(bodies(&a), bodies(&b));
    for env in [&a, &b] {
        let status = env.json(&["sync", "status"]);
        assert_eq!(status["pending"]["operations"], 0, "{status}");
        assert!(status["last_sync"].is_string(), "{status}");
    }

    // The server goes away: each daemon says so once, in one line, and keeps the edit
    // made meanwhile pending.
    server.stop();
    a.ok(&["draft", "new", "Written offline"]);
    let log = on_a.wait_for("offline since", Duration::from_secs(10));
    let offline: Vec<&String> = log.iter().filter(|l| l.contains("offline")).collect();
    assert_eq!(offline.len(), 1, "said once: {log:?}");
    assert!(
        offline[0].starts_with("postctl daemon: sync: offline since")
            && offline[0].contains("cannot reach the server"),
        "{log:?}"
    );
    let status = a.json(&["sync", "status"]);
    assert_eq!(status["pending"]["posts"], 1, "{status}");

    // Back: the backoff (1 s, 2 s, 4 s…) finds it, and the post reaches B.
    server.restart();
    wait_for_post(&b, "Written offline", Duration::from_secs(20));
    on_a.wait_for("the server answers again", Duration::from_secs(5));
    let status = a.json(&["sync", "status"]);
    assert_eq!(status["pending"]["operations"], 0, "{status}");
}

#[test]
fn a_daemon_on_a_database_that_is_not_linked_does_not_sync() {
    let mut env = Env::new();
    env.unset("POSTCTL_NOW");
    env.ok(&["draft", "new", "Stays here"]);
    let daemon = Daemon::start(&env);
    daemon.wait_for("postctl daemon: publishing from", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(3));
    let log = daemon.log();
    assert!(
        !log.iter().any(|l| l.contains("sync")),
        "nothing about sync: {log:?}"
    );
    let linked = env.fails(&["sync", "status"], 2);
    assert!(linked.stderr.contains("not linked"), "{}", linked.stderr);
}
