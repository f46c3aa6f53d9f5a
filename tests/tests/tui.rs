//! The dashboard in a real terminal: the `postctl` binary run under tmux, driven with
//! send-keys and read with capture-pane. It writes a draft, schedules it, finds it in the
//! calendar, moves it to the next day, and the new time is in the database. A post
//! scheduled from the CLI meanwhile shows up without a restart.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Env, postctl_bin, utc_ms};

/// A tmux server of our own (its own socket), killed when the test ends.
struct Tmux {
    socket: String,
    config: String,
}

impl Tmux {
    fn start(env: &Env, width: u16, height: u16) -> Tmux {
        let available = Command::new("tmux").arg("-V").output();
        assert!(
            available.is_ok_and(|o| o.status.success()),
            "tmux is not installed; install it (apt-get install tmux; .ci/run does) to run this test"
        );
        // One server per test: tests run in parallel in one process.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "postctl-tui-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        // Keep the pane after postctl exits, to read its last screen and know it exited.
        let config = env.file("tmux.conf", "set -g remain-on-exit on\n");
        let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
        // The environment's own variables, as every `Env::run` gets them, and a terminal.
        let terminal = [
            ("TERM".to_string(), "xterm-256color".to_string()),
            (
                "PATH".to_string(),
                std::env::var("PATH").unwrap_or_default(),
            ),
        ];
        let assignments: Vec<String> = env
            .vars()
            .iter()
            .chain(&terminal)
            .map(|(key, value)| format!("{key}={}", quote(value)))
            .collect();
        // With no arguments on a terminal, postctl opens the dashboard.
        let shell = format!(
            "cd {} && exec env -i {} {}",
            quote(&env.root().display().to_string()),
            assignments.join(" "),
            quote(&postctl_bin().display().to_string())
        );
        let tmux = Tmux {
            socket,
            config: config.display().to_string(),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "tui",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            &shell,
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "-f", &self.config])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tmux {args:?}: {e}"));
        assert!(
            output.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "tui"]).stdout).into_owned()
    }

    /// Named keys ("Enter", "Tab", "Right", "C-s"), one send each, with a pause so the
    /// terminal never reads Esc and the next key as one Alt chord.
    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "tui", key]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Text, typed literally.
    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "tui", "-l", text]);
        std::thread::sleep(Duration::from_millis(60));
    }

    /// Waits until the screen shows every one of `needles`; panics with the screen if not.
    fn wait_for(&self, needles: &[&str], within: Duration) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            if started.elapsed() > within {
                panic!("waited {within:?} for {needles:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether postctl has exited (the pane stays, dead, for its last screen).
    fn exited(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "tui", "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    fn wait_for_exit(&self, within: Duration) {
        let started = Instant::now();
        while !self.exited() {
            assert!(
                started.elapsed() < within,
                "postctl did not quit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn due_of(env: &Env, body: &str) -> (i64, Vec<i64>) {
    let conn = env.db();
    let (id, due): (String, i64) = conn
        .query_row(
            "SELECT id, due_ms FROM posts WHERE body = ?1 AND deleted_ms IS NULL",
            [body],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("the post {body:?} is not in the database: {e}"));
    let targets = env
        .due_ms(&id)
        .into_iter()
        .map(|d| d.unwrap_or(-1))
        .collect();
    (due, targets)
}

#[test]
fn write_schedule_see_and_move_a_post_in_the_real_terminal() {
    let env = Env::with_accounts();
    let tmux = Tmux::start(&env, 100, 30);
    let long = Duration::from_secs(15);
    let quick = Duration::from_secs(5);
    tmux.wait_for(&["November 2026", "1 Calendar"], long);

    // A draft to masto (accounts are listed by name: bsky, masto).
    tmux.keys(&["n"]);
    tmux.wait_for(&["New post", "[ ] masto"], quick);
    tmux.text("Launch notes from tmux");
    tmux.keys(&["Tab", "Right", "Space"]);
    tmux.wait_for(&["[x] masto", "Mastodon"], quick);
    tmux.keys(&["C-s"]);
    tmux.wait_for(&["saved a new draft"], quick);
    let drafts = env.json(&["list", "--drafts"]);
    assert_eq!(drafts.as_array().map(Vec::len), Some(1), "{drafts}");

    // Scheduled from the queue's drafts, at a time typed as the CLI takes it.
    tmux.keys(&["2", "Tab"]);
    tmux.wait_for(&["Drafts", "Launch notes from tmux"], quick);
    tmux.keys(&["s"]);
    tmux.wait_for(&["Schedule 1 post at"], quick);
    tmux.text("tomorrow 09:00");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["scheduled 1 post for Sat 2026-11-21 09:00 CET"], quick);
    assert_eq!(
        due_of(&env, "Launch notes from tmux"),
        (
            utc_ms("2026-11-21T08:00:00Z"),
            vec![utc_ms("2026-11-21T08:00:00Z")]
        )
    );

    // In the calendar on Saturday the 21st.
    tmux.keys(&["1", "t", "Right"]);
    let screen = tmux.wait_for(&["Sat 21 Nov · 1 post", "Launch notes from tmux"], quick);
    assert!(screen.contains("09:00"), "{screen}");

    // Picked up, moved a day on, dropped.
    tmux.keys(&["m", "Right"]);
    tmux.wait_for(&["moving", "→ Sun 22 Nov"], quick);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["moved", "Sun 22 Nov · 1 post"], quick);
    assert_eq!(
        due_of(&env, "Launch notes from tmux"),
        (
            utc_ms("2026-11-22T08:00:00Z"),
            vec![utc_ms("2026-11-22T08:00:00Z")]
        ),
        "the move is in the database, still 09:00 in Berlin"
    );

    // The CLI schedules a post on the same day: the dashboard shows it within a second.
    env.schedule("Posted from the shell", "bsky", "2026-11-22 12:00");
    tmux.wait_for(
        &["Sun 22 Nov · 2 posts", "Posted from the shell"],
        Duration::from_secs(2),
    );

    // Undo puts the moved post back on the 21st.
    tmux.keys(&["u"]);
    tmux.wait_for(&["undid the move"], quick);
    assert_eq!(
        due_of(&env, "Launch notes from tmux").0,
        utc_ms("2026-11-21T08:00:00Z")
    );

    tmux.keys(&["q"]);
    tmux.wait_for_exit(quick);
    let log = std::fs::read_to_string(env.data_dir().join("tui.log")).unwrap_or_default();
    assert!(
        log.contains("first frame"),
        "the dashboard logs to its file:\n{log}"
    );
    assert!(!Path::new(&env.root().join("tui.log")).exists());
}

#[test]
fn ctrl_c_quits_from_compose_and_bare_postctl_without_a_terminal_prints_help() {
    let env = Env::with_accounts();
    let tmux = Tmux::start(&env, 80, 24);
    tmux.wait_for(&["November 2026"], Duration::from_secs(15));
    tmux.keys(&["n"]);
    tmux.wait_for(&["New post"], Duration::from_secs(5));
    tmux.text("q is text here");
    tmux.keys(&["C-c"]);
    tmux.wait_for_exit(Duration::from_secs(5));
    // The terminal is given back: the alternate screen is gone.
    let screen = tmux.screen();
    assert!(!screen.contains("New post"), "{screen}");
    // Nothing was saved.
    assert_eq!(env.count("SELECT count(*) FROM posts"), 0);

    // Without a terminal, `postctl` alone still prints the help and exits 2, and
    // `postctl tui` says it needs one.
    let bare = env.run(&[]);
    assert_eq!(bare.code, 2, "{}", bare.all_output());
    assert!(bare.all_output().contains("Usage"), "{}", bare.all_output());
    let tui = env.run(&["tui"]);
    assert_eq!(tui.code, 2, "{}", tui.all_output());
    assert!(tui.stderr.contains("needs a terminal"), "{}", tui.stderr);
}
