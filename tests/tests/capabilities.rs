//! End to end: what each account can take is known without its secret (`check` counts with
//! the network's limits when the secret is not at hand), and a Mastodon instance's own
//! limits are read at most once a day and then known to `check` and `lint` too.

#[macro_use]
mod common;

use common::Env;
use common::networks::{Fake, Net};

/// Adds a Telegram channel and a Discord bot whose tokens come from environment
/// variables that are set only while adding them.
fn env_with_env_var_accounts() -> Env {
    let env = Env::new();
    env.ok_full(
        &[
            "accounts",
            "add",
            "telegram",
            "--name",
            "tg",
            "--chat",
            "@mychannel",
            "--token-env",
            "TG_BOT_TOKEN",
        ],
        None,
        &[("TG_BOT_TOKEN", "123456:telegram-test-token")],
    );
    env.ok_full(
        &[
            "accounts",
            "add",
            "discord",
            "--name",
            "dcbot",
            "--channel",
            "123456789012345678",
            "--token-env",
            "DISCORD_BOT_TOKEN",
        ],
        None,
        &[("DISCORD_BOT_TOKEN", "discord-bot-test-token")],
    );
    env
}

#[test]
fn check_counts_with_the_networks_limits_when_the_secret_is_not_set() {
    let env = env_with_env_var_accounts();
    let run = env.ok(&["check", "Shipped v1.2", "--to", "tg,dcbot"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "tg (telegram): 12/4096 fits",
            "dcbot (discord): 12/2000 fits"
        ],
        "{}",
        run.all_output()
    );

    // Over Discord's 2,000: a bot (unlike a webhook) can thread, known from the account's
    // settings alone.
    let long = common::networks::long_text(36);
    let length = long.chars().count();
    let run = env.ok(&["--json", "check", &long, "--to", "dcbot"]);
    let previews = run.json();
    assert_eq!(previews[0]["length"], length, "{previews}");
    assert_eq!(previews[0]["max"], 2000, "{previews}");
    assert!(previews[0]["error"].is_null(), "{previews}");
    assert_eq!(previews[0]["parts"].as_array().map(Vec::len), Some(2));

    // `lint` agrees: a thread is a warning for a bot, not an error.
    let draft = env.file("long.md", &long);
    let draft = draft.to_str().expect("a UTF-8 path");
    let report = env.json(&["lint", "--file", draft, "--to", "dcbot"]);
    assert_eq!(report["lengths"][0]["parts"], 2, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
}

#[test]
fn post_reads_the_instance_limits_once_a_day_and_check_knows_them() {
    let fake = Fake::start(Net::Mastodon);
    fake.mastodon().configure(|c| c.max_characters = 1000);
    let env = Env::with_fakes([&fake]);
    let instance_reads = || {
        fake.requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/v2/instance"))
            .count()
    };

    // Before any post, `check` knows only Mastodon's default.
    let text = "a".repeat(600);
    let run = env.ok(&["check", &text, "--to", "masto"]);
    assert!(
        run.stdout.starts_with("masto (mastodon): 600/500 "),
        "{}",
        run.stdout
    );
    assert_eq!(instance_reads(), 0, "check must not ask the instance");

    env.ok(&["post", "First of the day", "--to", "masto"]);
    env.ok(&["post", "Second of the day", "--to", "masto"]);
    assert_eq!(
        instance_reads(),
        1,
        "two posts within a day read the instance's limits once: {:?}",
        fake.requests()
    );
    assert_eq!(fake.posts().len(), 2);

    // What the instance said is known offline now.
    let run = env.ok(&["check", &text, "--to", "masto"]);
    assert_eq!(run.stdout.trim(), "masto (mastodon): 600/1000 fits");
    let draft = env.file("draft.md", &text);
    let draft = draft.to_str().expect("a UTF-8 path");
    let report = env.json(&["lint", "--file", draft, "--to", "masto"]);
    assert_eq!(report["lengths"][0]["max"], 1000, "{report}");
    assert_eq!(report["lengths"][0]["fits"], true, "{report}");
    assert_eq!(instance_reads(), 1);

    // A day later the limits are read again.
    let two_days_ago = common::now_ms() - 2 * 86_400_000;
    let changed = env
        .db()
        .execute("UPDATE server_limits SET read_ms = ?1", [two_days_ago])
        .expect("age the stored limits");
    assert_eq!(changed, 1);
    env.ok(&["post", "The next day", "--to", "masto"]);
    assert_eq!(instance_reads(), 2);
}
