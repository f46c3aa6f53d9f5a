//! The store and the process around it: damaged, newer, foreign and locked databases, two
//! writers at once, commands that need no database, exit codes, colour, no prompts, and
//! a bad config file.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::Env;
use rusqlite::Connection;

const CORRUPT: &[u8] =
    b"This is a text file, not a database. It has been here for years and is long enough.\n";

/// An environment where postctl has not run yet, whose database file holds [`CORRUPT`].
fn with_corrupt_database() -> Env {
    let env = Env::bare();
    std::fs::create_dir_all(env.data_dir()).expect("data dir");
    std::fs::write(env.db_path(), CORRUPT).expect("write garbage");
    env
}

/// An environment where postctl has not run yet, whose database another program made by
/// running `sql`.
fn with_database_made_by(sql: &str) -> Env {
    let env = Env::bare();
    std::fs::create_dir_all(env.data_dir()).expect("data dir");
    let conn = Connection::open(env.db_path()).expect("create");
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("make a database with {sql}: {e}"));
    env
}

#[test]
fn a_corrupt_database_is_reported_not_panicked_on_and_left_alone() {
    let env = with_corrupt_database();
    for args in [
        &["list"][..],
        &["draft", "new", "hello"],
        &["accounts", "list"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.starts_with("error:"), "{}", run.stderr);
        assert!(
            run.stderr.contains(&env.db_path().display().to_string()),
            "names the file: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("move it aside"),
            "says what to do: {}",
            run.stderr
        );
        assert_eq!(
            std::fs::read(env.db_path()).expect("read"),
            CORRUPT,
            "{args:?} wrote to the damaged file"
        );
    }
}

#[test]
fn a_database_from_a_newer_postctl_is_refused() {
    let env = Env::with_accounts();
    env.ok(&["draft", "new", "Written by this version", "--to", "masto"]);
    env.db()
        .pragma_update(None, "user_version", 999)
        .expect("set user_version");
    let before = env.dump();
    for args in [&["list"][..], &["draft", "new", "x", "--to", "masto"]] {
        let run = env.run(args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains("newer") && run.stderr.contains("upgrade"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("999"), "{}", run.stderr);
    }
    assert_eq!(before, env.dump(), "the newer database was changed");
}

#[test]
fn a_newer_database_is_not_modified_at_all() {
    let env = with_database_made_by(
        "PRAGMA journal_mode = DELETE; CREATE TABLE future_things (x); PRAGMA user_version = 999;",
    );
    let bytes = std::fs::read(env.db_path()).expect("read");
    let run = env.run(&["list"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        std::fs::read(env.db_path()).expect("read"),
        bytes,
        "the refused file was rewritten"
    );
}

#[test]
fn a_database_of_another_program_is_refused_and_left_alone() {
    let env = with_database_made_by(
        "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT); INSERT INTO moz_places (url) VALUES ('https://example.org');",
    );
    let before = env.dump();
    let run = env.run(&["list"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("not a postctl database"),
        "{}",
        run.stderr
    );
    assert_eq!(
        before,
        env.dump(),
        "postctl changed another program's database"
    );
}

#[test]
fn a_locked_database_is_waited_for() {
    let env = Env::with_accounts();
    let mut conn = env.db();
    let lock = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
        .expect("take the write lock");
    let mut child = env
        .command(
            &["draft", "new", "Waited for the lock", "--to", "masto"],
            &[],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start postctl");
    std::thread::sleep(Duration::from_secs(1));
    // While the lock is held the write cannot have finished, successfully or not.
    let early = child.try_wait().expect("poll postctl");
    lock.commit().expect("release the lock");
    let output = child.wait_with_output().expect("wait for postctl");
    assert!(
        early.is_none(),
        "postctl exited while the database was locked: {output:?}"
    );
    assert!(
        output.status.success(),
        "postctl gave up on the lock: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        env.count("SELECT count(*) FROM posts WHERE body = 'Waited for the lock'"),
        1
    );
}

/// Two writer processes at once, `per_writer` drafts each; asserts every command succeeded
/// and every draft arrived exactly once.
fn write_concurrently(env: &Env, per_writer: i64) {
    std::thread::scope(|scope| {
        for writer in ["a", "b"] {
            scope.spawn(move || {
                for n in 0..per_writer {
                    let run = env.run(&["draft", "new", &format!("writer {writer} post {n}")]);
                    assert_eq!(run.code, 0, "writer {writer} post {n}: {}", run.stderr);
                }
            });
        }
    });
    assert_eq!(
        env.count("SELECT count(DISTINCT id) FROM posts"),
        2 * per_writer
    );
    for writer in ["a", "b"] {
        for n in 0..per_writer {
            let body = format!("writer {writer} post {n}");
            let found: i64 = env
                .db()
                .query_row("SELECT count(*) FROM posts WHERE body = ?1", [&body], |r| {
                    r.get(0)
                })
                .expect("count");
            assert_eq!(found, 1, "{body}");
        }
    }
    assert!(env.count("SELECT count(*) FROM oplog WHERE entity = 'post'") >= 2 * per_writer);
    let integrity: String = env
        .db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    assert_eq!(integrity, "ok");
}

#[test]
fn two_processes_writing_at_once_lose_nothing() {
    let env = Env::new();
    write_concurrently(&env, 25);
    assert_eq!(env.count("SELECT count(*) FROM posts"), 50);
}

#[test]
fn two_processes_creating_the_database_at_once_lose_nothing() {
    // No `init`: both writers race to create and migrate the database.
    // The race is narrow: try it on several new databases.
    for _ in 0..20 {
        let env = Env::bare();
        write_concurrently(&env, 2);
    }
}

#[test]
fn version_completions_and_help_need_no_database() {
    // A damaged database proves these commands do not even open it.
    let env = with_corrupt_database();

    let version = env.ok(&["--version"]).stdout;
    assert!(
        version.starts_with("postctl ") && version.trim().len() > "postctl ".len(),
        "{version}"
    );

    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef postctl"),
        ("fish", "complete -c postctl"),
    ] {
        let script = env.ok(&["completions", shell]).stdout;
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("schedule") && script.contains("reschedule"),
            "{shell} completes subcommands"
        );
    }
    let run = env.run(&["completions", "tcsh"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("tcsh"), "{}", run.stderr);

    let codes = env.ok(&["help", "exit-codes"]).stdout;
    for (code, word) in [
        ("0", "success"),
        ("1", "error"),
        ("2", "usage"),
        ("3", "not published"),
        ("4", "authentication"),
    ] {
        assert!(
            codes
                .lines()
                .any(|l| l.trim_start().starts_with(code) && l.contains(word)),
            "exit code {code} ({word}) missing from\n{codes}"
        );
    }
    let times = env.ok(&["help", "times"]).stdout;
    assert!(
        times.contains("--earlier") && times.contains("--allow-past"),
        "{times}"
    );
    let after = std::fs::read(env.db_path()).expect("read");
    assert!(after == CORRUPT, "the damaged database was written to");

    // With no data dir at all, nothing is created.
    let fresh = Env::bare();
    fresh.ok(&["--version"]);
    fresh.ok(&["completions", "bash"]);
    fresh.ok(&["help", "exit-codes"]);
    assert!(
        !fresh.data_dir().exists(),
        "--version/completions/help created the data dir"
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::with_accounts();
    for args in [
        &["no-such-command"][..],
        &["schedule", "x", "--to", "masto"],
        &["draft", "new", "x", "--no-such-flag"],
        &["export", "--format", "xml"],
    ] {
        let run = env.fails(args, 2);
        assert!(!run.stderr.trim().is_empty(), "{args:?}");
    }
    let run = env.fails_full(&["list"], None, &[("POSTCTL_NOW", "yesterday")], 2);
    assert!(run.stderr.contains("POSTCTL_NOW"), "{}", run.stderr);
}

#[test]
fn no_color_means_no_escape_codes() {
    let mut env = Env::with_accounts();
    let id = env.schedule("Coloured?", "masto", "2026-12-01 09:00");
    let commands: [&[&str]; 5] = [
        &["list"],
        &["draft", "show", &id],
        &["accounts", "list"],
        &["calendar", "--month", "2026-12"],
        &["group", "list"],
    ];
    // CLICOLOR_FORCE alone colours output even into a pipe: the check below can fail.
    env.unset("NO_COLOR");
    let forced: String = commands
        .iter()
        .map(|args| {
            env.ok_full(args, None, &[("CLICOLOR_FORCE", "1")])
                .all_output()
        })
        .collect();
    assert!(
        forced.contains('\u{1b}'),
        "CLICOLOR_FORCE=1 should colour: {forced}"
    );

    for args in commands {
        let run = env.ok_full(args, None, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
        assert!(
            !run.all_output().contains('\u{1b}'),
            "{args:?} coloured despite NO_COLOR:\n{}",
            run.all_output()
        );
        // Without a terminal and without forcing, no colour either.
        let run = env.ok(args);
        assert!(
            !run.all_output().contains('\u{1b}'),
            "{args:?} coloured a pipe:\n{}",
            run.all_output()
        );
    }
    let run = env.run_full(
        &["draft", "show", "ffffffff"],
        None,
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
}

#[test]
fn nothing_prompts_when_stdin_is_not_a_terminal() {
    let env = Env::with_accounts();
    // No secret piped in: an error that says how to pipe it, not a prompt.
    let run = env.fails(
        &[
            "accounts",
            "add",
            "mastodon",
            "--name",
            "m2",
            "--instance",
            "https://fosstodon.org",
            "--token-stdin",
        ],
        2,
    );
    assert!(run.stderr.contains("--token-stdin <"), "{}", run.stderr);
    // No $EDITOR: an error that says to set it.
    let run = env.fails(&["draft", "new", "-e"], 2);
    assert!(run.stderr.contains("EDITOR"), "{}", run.stderr);
    // Text from an empty stdin.
    let run = env.fails(&["draft", "new", "-", "--to", "masto"], 2);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
}

#[test]
fn a_config_file_with_an_unknown_key_is_a_clear_error() {
    let env = Env::with_accounts();
    std::fs::write(
        env.config_path(),
        "timezone = \"Europe/Berlin\"\ncolour = \"red\"\n",
    )
    .expect("write config");
    let run = env.fails(&["list"], 1);
    assert!(
        run.stderr.contains("colour"),
        "names the key: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&env.config_path().display().to_string()),
        "names the file: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("timezone"),
        "lists the known keys: {}",
        run.stderr
    );

    std::fs::write(
        env.config_path(),
        "timezone = \"Europe/Berlin\"\ndefault_to = [\"masto\"]\n",
    )
    .expect("write config");
    let id = env.ok(&["draft", "new", "To the default"]).id();
    assert_eq!(
        env.target_states(&id),
        ["draft"],
        "default_to from the config is used"
    );
}

#[test]
fn init_writes_a_commented_private_config_and_keeps_an_existing_one() {
    let env = Env::bare();
    env.ok(&["init", "--tz", "America/New_York"]);
    let config = std::fs::read_to_string(env.config_path()).expect("config written");
    assert!(
        config.contains("timezone = \"America/New_York\""),
        "{config}"
    );
    assert!(
        config.lines().any(|l| l.starts_with('#')),
        "commented: {config}"
    );
    assert!(env.db_path().exists());

    std::fs::write(env.config_path(), "timezone = \"Asia/Tokyo\"\n").expect("edit config");
    env.ok(&["init", "--tz", "Europe/Berlin"]);
    assert_eq!(
        std::fs::read_to_string(env.config_path()).expect("read"),
        "timezone = \"Asia/Tokyo\"\n"
    );
    env.ok(&["init", "--tz", "Europe/Berlin", "--force"]);
    assert!(
        std::fs::read_to_string(env.config_path())
            .expect("read")
            .contains("Europe/Berlin")
    );
    let run = env.fails(&["init", "--tz", "Mars/Olympus", "--force"], 2);
    assert!(run.stderr.contains("Mars/Olympus"), "{}", run.stderr);
}
