//! End to end: the CLI's manners (issue 9 §4, §4b): one exit-code rule for a text that
//! cannot go out, plain words for networks postctl cannot publish to yet, CI accounts in
//! every command that reads accounts, and messages that say what they mean.

mod common;

use common::Env;
use common::networks::{Fake, Net, fail_writes, failing_first, pinned_time};
use postctl_tests::fakes::{Failure, FakeMastodon};

/// Adds a LinkedIn account: a network postctl keeps accounts for but cannot publish to yet.
fn add_linkedin(env: &Env) -> common::Run {
    env.ok_full(
        &[
            "accounts",
            "add",
            "linkedin",
            "--name",
            "me-li",
            "--author",
            "urn:li:person:AbC123xyz",
            "--token-stdin",
        ],
        Some(b"li-token\n"),
        &[],
    )
}

#[test]
fn a_text_that_cannot_go_out_exits_2_from_check_dry_run_and_post() {
    let masto = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&masto]);
    let long = common::networks::long_text(12);
    let never = ["--to", "masto", "--thread", "never"];
    let with = |first: &[&str]| -> Vec<String> {
        first
            .iter()
            .chain(never.iter())
            .map(|s| s.to_string())
            .collect()
    };
    for args in [
        with(&["check", &long]),
        with(&["--json", "check", &long]),
        with(&["post", &long, "--dry-run"]),
        with(&["--json", "post", &long, "--dry-run"]),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.all_output());
        assert!(
            run.stderr.contains("masto cannot take this text"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // The JSON is still printed, for scripts that want the details.
    let json = env.run(
        &with(&["--json", "check", &long])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(
        json.json()[0]["error"].as_str().is_some(),
        "{}",
        json.stdout
    );

    // Publishing it for real is refused up front: nothing sent, nothing stored.
    let run = env.fails(
        &with(&["post", &long])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        2,
    );
    assert!(run.stderr.contains("--thread auto"), "{}", run.stderr);
    assert!(masto.writes().is_empty(), "{:?}", masto.requests());
}

#[test]
fn networks_that_cannot_publish_yet_are_named_at_add_schedule_check_and_dry_run() {
    let env = Env::new();
    let add = add_linkedin(&env);
    assert!(
        add.stderr.contains("LinkedIn is not publishable yet"),
        "accounts add: {}",
        add.stderr
    );
    let scheduled = env.ok(&[
        "schedule",
        "Hello",
        "--to",
        "me-li",
        "--at",
        "2026-12-01 09:00",
    ]);
    assert!(
        scheduled.stderr.contains("LinkedIn is not publishable yet"),
        "schedule: {}",
        scheduled.stderr
    );
    env.ok(&["queue", "slots", "set", "me-li", "mon-fri 09:00"]);
    let queued = env.ok(&["queue", "add", "Queued", "--to", "me-li"]);
    assert!(
        queued.stderr.contains("LinkedIn is not publishable yet"),
        "queue add: {}",
        queued.stderr
    );
    let check = env.run(&["check", "Hello", "--to", "me-li"]);
    assert_eq!(check.code, 2, "{}", check.all_output());
    assert!(
        check
            .stdout
            .contains("me-li (linkedin): not publishable yet"),
        "{}",
        check.stdout
    );
    assert!(!check.stdout.contains("0/0"), "{}", check.stdout);
    let dry = env.run(&["post", "Hello", "--to", "me-li", "--dry-run"]);
    assert_eq!(dry.code, 2, "{}", dry.all_output());
    env.file(
        "CHANGELOG.md",
        "# Changelog\n\n## [1.2.0] - 2026-11-20\n\n### Added\n- Threads\n",
    );
    let release = env.run(&[
        "post",
        "--release",
        "CHANGELOG.md",
        "--to",
        "me-li",
        "--dry-run",
    ]);
    assert_eq!(release.code, 2, "{}", release.all_output());
}

#[test]
fn check_lists_each_part_with_its_start() {
    let masto = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&masto]);
    let long = common::networks::long_text(12);
    let run = env.ok(&["check", &long, "--to", "masto"]);
    let parts: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("part "))
        .collect();
    assert!(parts.len() >= 2, "{}", run.stdout);
    for line in parts {
        assert!(
            !line.trim_end().ends_with(':'),
            "nothing after the colon: {line:?}"
        );
    }
}

#[test]
fn ci_accounts_work_in_check_and_lint_without_creating_a_database() {
    let masto = Fake::start(Net::Mastodon);
    let env = Env::bare_with(&[
        (
            "POSTCTL_ACCOUNT_MASTO",
            &format!("mastodon:{}", masto.base_url()),
        ),
        ("POSTCTL_ACCOUNT_MASTO_TOKEN", "ci-token"),
    ]);
    let check = env.ok(&["check", "Shipped v1.2", "--to", "masto"]);
    assert_eq!(check.stdout.trim(), "masto (mastodon): 12/500 fits");
    env.file("NOTES.md", "Shipped v1.2");
    let lint = env.ok(&["--json", "lint", "--file", "NOTES.md", "--to", "masto"]);
    let lengths = &lint.json()["lengths"];
    assert_eq!(lengths[0]["account"], "masto", "{}", lint.stdout);
    assert_eq!(lengths[0]["fits"], true, "{}", lint.stdout);
    assert!(!env.db_path().exists(), "check or lint created a database");
}

#[test]
fn generate_shows_its_heading_once_across_retries() {
    use postctl_tests::fakes::{FakeAnthropic, Reply};
    let fake = FakeAnthropic::start();
    let mut env = Env::with_accounts();
    env.set("ANTHROPIC_BASE_URL", &fake.base_url());
    env.set("ANTHROPIC_API_KEY", FakeAnthropic::KEY);
    env.ok(&["ai", "set", "--model", FakeAnthropic::MODEL]);
    fake.push(Reply::RateLimited {
        retry_after_secs: 0,
    });
    fake.push(Reply::RateLimited {
        retry_after_secs: 0,
    });
    fake.push(Reply::Text("The finished draft.".into()));
    let run = env.ok(&["generate", "announce it", "--to", "masto"]);
    let headings = run.stderr.lines().filter(|l| l.starts_with("── ")).count();
    assert_eq!(headings, 1, "{}", run.stderr);
    assert!(run.stderr.contains("trying again"), "{}", run.stderr);
}

/// A CI environment (no init, no database) with `masto` on `fake`.
fn ci_env(fake: &Fake, token: &str) -> Env {
    Env::bare_with(&[
        (
            "POSTCTL_ACCOUNT_MASTO",
            &format!("mastodon:{}", fake.base_url()),
        ),
        ("POSTCTL_ACCOUNT_MASTO_TOKEN", token),
    ])
}

#[test]
fn ci_waits_out_retries_with_progress_and_never_ends_waiting() {
    let masto = Fake::start(Net::Mastodon);
    let env = ci_env(&masto, FakeMastodon::TOKEN);
    let run = failing_first(&masto, Failure::ServerError, 2, || {
        env.run(&["post", "Hello from CI", "--to", "masto", "--wait", "0"])
    });
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stdout.starts_with("published  masto"), "{}", run.stdout);
    assert!(
        run.stderr.contains("masto: waiting until"),
        "{}",
        run.stderr
    );
    assert!(
        !run.all_output().contains("waiting_retry"),
        "{}",
        run.all_output()
    );
    assert_eq!(masto.posts().len(), 1);
    assert!(!env.db_path().exists());
}

#[test]
fn ci_advice_never_points_at_the_temporary_database() {
    let masto = Fake::start(Net::Mastodon);
    let env = ci_env(&masto, "a-revoked-token");
    let run = env.run(&["post", "Hello from CI", "--to", "masto"]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    for advice in [
        "postctl status",
        "postctl retry",
        "postctl accounts",
        "postctl resolve",
    ] {
        assert!(
            !run.all_output().contains(advice),
            "{advice}: {}",
            run.all_output()
        );
    }
    assert!(
        run.stderr.contains("POSTCTL_ACCOUNT_<NAME>_TOKEN"),
        "{}",
        run.stderr
    );
}

/// The time a message gives, to the second in the environment's zone.
fn assert_moment_in_zone(text: &str) {
    assert!(!text.contains(" UTC"), "a time in UTC: {text}");
    let has_moment = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(3)
        .any(|w| {
            w[0].len() == 10
                && w[1].len() == 8
                && w[1].chars().filter(|c| *c == ':').count() == 2
                && matches!(w[2].trim_end_matches([',', ';', ')']), "CET" | "CEST")
        });
    assert!(has_moment, "no YYYY-MM-DD HH:MM:SS CET time in: {text}");
}

#[test]
fn run_due_says_what_it_waits_for_and_exits_3_while_targets_wait_to_retry() {
    let masto = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&masto]);
    let id = env.schedule("Due a moment ago", "masto", &pinned_time(-5));
    fail_writes(&masto, Failure::ServerError);
    let run = env.run(&["run-due", "--wait", "2"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(
        run.stderr.contains("masto: waiting until"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("left waiting to retry: masto at"),
        "{}",
        run.stderr
    );
    let last = run.stderr.lines().last().unwrap_or_default();
    assert_moment_in_zone(last);
    assert_eq!(env.target_states(&id), ["waiting_retry"]);

    // `retry --wait` publishes it now instead of leaving it to the daemon.
    masto.chaos().off();
    let retried = env.run(&["retry", &id, "--wait", "30"]);
    assert_eq!(retried.code, 0, "{}", retried.all_output());
    assert!(
        retried.stdout.starts_with("published  masto"),
        "{}",
        retried.stdout
    );
    assert_eq!(env.target_states(&id), ["published"]);
}

#[test]
fn the_systemd_unit_carries_the_variables_token_env_accounts_need() {
    let env = Env::new();
    env.ok(&[
        "accounts",
        "add",
        "telegram",
        "--name",
        "tg",
        "--chat",
        "@newschannel",
        "--token-env",
        "TG_BOT_TOKEN",
    ]);
    let unit = env.ok(&["daemon", "--print-unit"]).stdout;
    assert!(unit.contains("TG_BOT_TOKEN"), "{unit}");
    assert!(
        unit.lines().any(|l| l.starts_with("EnvironmentFile=")),
        "{unit}"
    );
    let bare = Env::new();
    let unit = bare.ok(&["daemon", "--print-unit"]).stdout;
    assert!(!unit.contains("EnvironmentFile="), "{unit}");
}

#[test]
fn a_server_that_cannot_be_reached_is_not_called_a_credential_problem() {
    let env = Env::new();
    env.ok_full(
        &[
            "accounts",
            "add",
            "mastodon",
            "--name",
            "gone",
            "--instance",
            "http://127.0.0.1:9",
            "--token-stdin",
        ],
        Some(b"a-token\n"),
        &[],
    );
    let run = env.run(&["accounts", "check", "gone"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(
        run.stderr.contains("could not be checked"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("new credentials"), "{}", run.stderr);
}

#[test]
fn cancel_twice_reschedule_after_cancel_and_rm_of_a_scheduled_post_are_refused() {
    let env = Env::with_accounts();
    let id = env.schedule("Cancel me", "masto", "2026-12-01 09:00");
    env.ok(&["cancel", &id]);
    let again = env.fails(&["cancel", &id], 2);
    assert!(
        again.stderr.contains("already cancelled"),
        "{}",
        again.stderr
    );
    let moved = env.fails(&["reschedule", &id, "--at", "2026-12-02 09:00"], 2);
    assert!(
        moved.stderr.contains("postctl schedule"),
        "{}",
        moved.stderr
    );
    assert_eq!(env.target_states(&id), ["cancelled"]);
    // Scheduling it again is deliberate, and said.
    let back = env.ok(&["schedule", &id, "--at", "2026-12-02 09:00"]);
    assert!(
        back.stderr.contains("had been cancelled"),
        "{}",
        back.stderr
    );

    let scheduled = env.schedule("Keep me", "masto", "2026-12-01 09:00");
    let rm = env.fails(&["draft", "rm", &scheduled], 2);
    assert!(rm.stderr.contains("--yes"), "{}", rm.stderr);
    env.ok(&["draft", "rm", &scheduled, "--yes"]);
    let draft = env.ok(&["draft", "new", "Just a draft"]).id();
    env.ok(&["draft", "rm", &draft]);
}

#[test]
fn a_cancelled_recurring_post_shows_no_next_time() {
    let env = Env::with_accounts();
    let id = env
        .ok(&[
            "schedule",
            "Weekly",
            "--to",
            "masto",
            "--every",
            "mon 09:00",
        ])
        .id();
    assert!(env.ok(&["draft", "show", &id]).stdout.contains("next "));
    env.ok(&["cancel", &id]);
    let shown = env.ok(&["draft", "show", &id]).stdout;
    assert!(shown.contains("no next time"), "{shown}");
    assert!(!shown.contains("next Mon"), "{shown}");
}

#[test]
fn the_confirmation_shows_the_time_in_the_zone_it_was_written_in_too() {
    let env = Env::with_accounts();
    let run = env.ok(&[
        "schedule",
        "From New York",
        "--to",
        "masto",
        "--at",
        "2026-12-01 09:00",
        "--tz",
        "America/New_York",
    ]);
    assert!(
        run.stderr.contains(
            "scheduled for Tue 2026-12-01 15:00 CET (Tue 2026-12-01 09:00 EST in America/New_York)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn draft_edit_shows_and_changes_media_alt_text_and_time() {
    let env = Env::with_accounts();
    env.file("shot.png", common::PNG_3X2);
    let id = env
        .ok(&[
            "schedule",
            "With a picture",
            "--to",
            "masto",
            "--at",
            "2026-12-01 09:00",
            "--media",
            "shot.png",
            "--alt",
            "the old alt",
        ])
        .id();
    let editor = env.script(
        "editor.sh",
        "cp \"$1\" shown.md\nsed -i -e 's/^alt: .*/alt: the new alt/' -e 's/^at: .*/at: 2026-12-02 10:00/' \"$1\"\n",
    );
    env.ok_full(
        &["draft", "edit", &id],
        None,
        &[("EDITOR", editor.to_str().expect("utf-8 path"))],
    );
    let shown = std::fs::read_to_string(env.root().join("shown.md")).expect("the editor ran");
    assert!(shown.contains("alt: the old alt"), "{shown}");
    assert!(shown.contains("at: 2026-12-01 09:00"), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("media: ") && l.ends_with(".png")),
        "{shown}"
    );
    let post = env.json(&["draft", "show", &id]);
    assert_eq!(post["media"][0]["alt"], "the new alt", "{post}");
    assert_eq!(post["media"][0]["file_name"], "shot.png", "{post}");
    assert_eq!(post["due"], "2026-12-02T09:00:00Z", "{post}");
}

#[test]
fn messages_say_what_they_mean() {
    let env = Env::with_accounts();
    let run = env.fails(&["schedule", "x", "--to", "masto", "--at", "25:00"], 2);
    assert!(
        run.stderr.contains("\"25:00\" is not a time of day"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("in \"25:00\""), "{}", run.stderr);
    let run = env.fails(
        &["schedule", "x", "--to", "masto", "--at", "2027-02-30 09:00"],
        2,
    );
    assert!(
        run.stderr.contains("February 2027 has 28 days"),
        "{}",
        run.stderr
    );

    let run = env.fails(&["draft", "new"], 2);
    assert!(
        run.stderr.contains("-e") && run.stderr.contains(" - "),
        "{}",
        run.stderr
    );

    let help = env.ok(&["help", "schedule"]).stdout;
    assert!(help.contains("Usage: postctl schedule"), "{help}");

    let codes = env.ok(&["help", "exit-codes"]).stdout;
    let three = codes
        .lines()
        .find(|l| l.trim_start().starts_with('3'))
        .unwrap_or_default();
    assert!(three.contains("not published"), "{codes}");
    assert!(codes.contains("waiting to retry"), "{codes}");
    assert!(codes.contains("post --dry-run"), "{codes}");
}

#[test]
fn an_ambiguous_prefix_does_not_list_fewer_posts_than_it_counts() {
    let env = Env::with_accounts();
    let ids: Vec<String> = (0..5)
        .map(|i| env.ok(&["draft", "new", &format!("Draft {i}")]).id())
        .collect();
    let prefix = &ids[0][..4];
    assert!(ids.iter().all(|id| id.starts_with(prefix)), "{ids:?}");
    let run = env.fails(&["draft", "show", prefix], 2);
    assert!(run.stderr.contains("matches 5 posts"), "{}", run.stderr);
    assert!(run.stderr.contains("and 2 more"), "{}", run.stderr);
}

/// The keys of the first object of a pretty-printed JSON array, in order.
fn first_keys(json: &str) -> Vec<String> {
    json.lines()
        .skip_while(|l| l.trim() != "{")
        .skip(1)
        .take_while(|l| l.trim() != "}" && l.trim() != "},")
        .filter(|l| l.starts_with("    \"") && !l.starts_with("     "))
        .filter_map(|l| l.trim().split('"').nth(1).map(String::from))
        .collect()
}

#[test]
fn search_and_list_give_a_posts_keys_in_the_same_order() {
    let env = Env::with_accounts();
    env.schedule("Findable launch post", "masto", "2026-12-01 09:00");
    let list = first_keys(&env.ok(&["--json", "list"]).stdout);
    let mut search = first_keys(&env.ok(&["--json", "search", "findable"]).stdout);
    assert_eq!(search.first().map(String::as_str), Some("kind"));
    search.remove(0);
    assert!(list.len() > 5, "{list:?}");
    assert_eq!(search, list);
}

#[test]
fn the_calendar_lines_up_rows_with_several_accounts() {
    let env = Env::with_accounts();
    env.schedule("Both accounts", "masto,bsky", "2026-12-01 09:00");
    env.schedule("One account", "masto", "2026-12-01 10:00");
    let text = env.ok(&["calendar", "--month", "2026-12"]).stdout;
    let column = |needle: &str| {
        text.lines()
            .find_map(|l| l.find(needle).map(|at| l[..at].chars().count()))
            .unwrap_or_else(|| panic!("{needle} not in\n{text}"))
    };
    assert_eq!(column("Both accounts"), column("One account"), "{text}");
}

#[test]
fn discord_webhook_accounts_say_where_they_publish() {
    let dc = Fake::start(Net::DiscordWebhook);
    let env = Env::with_fakes([&dc]);
    let list = env.ok(&["accounts", "list"]).stdout;
    let row = list
        .lines()
        .find(|l| l.starts_with(Net::DiscordWebhook.account()))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(row.contains("webhook"), "{row}");
}

#[test]
fn the_keyring_notice_is_given_once() {
    let mut env = Env::new();
    env.set("POSTCTL_SECRET_STORE", "auto");
    let first = env.add_mastodon("one", "token-one");
    let second = env.add_mastodon("two", "token-two");
    // On Linux the tests' clean environment has no D-Bus session, so no Secret Service:
    // the notice must come, once. Elsewhere an OS keyring may answer, and then no notice.
    if cfg!(target_os = "linux") {
        assert!(
            first.stderr.contains("no OS keyring here"),
            "{}",
            first.stderr
        );
    }
    if first.stderr.contains("no OS keyring here") {
        assert!(
            !second.stderr.contains("no OS keyring here"),
            "{}",
            second.stderr
        );
    }
}

/// Runs `script` in a POSIX shell in `env`'s directory, with `postctl` on PATH.
fn shell(env: &Env, script: &str) -> std::process::Output {
    let bin = common::postctl_bin();
    let dir = bin.parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .current_dir(env.root())
        .env_clear();
    for (key, value) in env.vars() {
        cmd.env(key, value);
    }
    cmd.env("PATH", path).output().expect("run sh")
}

/// The add-again hint of a credential error works pasted: it keeps the server and the
/// settings (`kept`: the flags and values it must carry, as a shell reads them), and a shell
/// does not mangle them.
fn hint_works_pasted(net: Net, kept: impl Fn(&Fake) -> Vec<(&'static str, String)>) {
    let fake = Fake::start(net);
    let env = Env::with_fakes([&fake]);
    fake.revoke();
    let run = env.run(&["--json", "accounts", "check", net.account()]);
    assert_eq!(run.code, 4, "{net:?}: {}", run.all_output());
    let error = run.json()[0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let hint = error
        .split('`')
        .find(|part| part.starts_with("postctl accounts rm"))
        .unwrap_or_else(|| panic!("{net:?}: no add-again command in {error}"));
    assert!(!hint.contains("..."), "{net:?}: {hint}");
    let file = hint.rsplit("< ").next().unwrap_or_default().trim();
    env.file(file, "a-new-secret\n");
    let out = shell(&env, hint);
    assert!(
        out.status.success(),
        "{net:?}: {hint}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let accounts = env.json(&["accounts", "list"]);
    let stored = accounts[0].to_string();
    for (flag, value) in kept(&fake) {
        assert!(hint.contains(flag), "{net:?}: {hint} lacks {flag}");
        assert!(stored.contains(&value), "{net:?}: {value} lost: {stored}");
    }
}

#[test]
fn a_bluesky_hint_keeps_its_pds() {
    hint_works_pasted(Net::Bluesky, |fake| vec![("--pds", fake.base_url())]);
}

#[test]
fn a_matrix_hint_keeps_its_homeserver_and_quotes_its_room() {
    hint_works_pasted(Net::Matrix, |fake| {
        vec![
            ("--homeserver", fake.base_url()),
            ("--room '!", "!postctlroom:fake.matrix".to_string()),
        ]
    });
}

#[test]
fn run_due_against_an_unreachable_server_says_so_and_exits_3() {
    let env = Env::new();
    env.ok_full(
        &[
            "accounts",
            "add",
            "mastodon",
            "--name",
            "gone",
            "--instance",
            "http://127.0.0.1:9",
            "--token-stdin",
        ],
        Some(b"a-token\n"),
        &[],
    );
    env.schedule("Nobody will see this", "gone", &pinned_time(-5));
    let run = env.run(&["run-due", "--wait", "2"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(run.stderr.contains("gone: waiting until"), "{}", run.stderr);
    assert!(
        run.stderr.contains("left waiting to retry"),
        "{}",
        run.stderr
    );
}
