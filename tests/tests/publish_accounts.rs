//! End to end: `postctl accounts check` asks each network's fake whether the credentials
//! are good, without posting anything.

#[macro_use]
mod common;

use common::Env;
use common::networks::{Fake, Net, assert_no_secret};

/// Who each fake says the credentials belong to.
fn identity(fake: &Fake) -> String {
    let host = fake.base_url().trim_start_matches("http://").to_string();
    match fake.net {
        Net::Mastodon => format!("@me@{}", host.split(':').next().unwrap_or_default()),
        Net::Bluesky => "@me.bsky.social".into(),
        Net::Telegram => "@postctl_test_bot".into(),
        Net::DiscordWebhook => "webhook \"postctl\"".into(),
        Net::DiscordBot => "bot @postctl-test".into(),
        Net::SlackWebhook => "incoming webhook (not verifiable without posting)".into(),
        Net::SlackBot => "bot @postctl in postctl-test".into(),
        Net::Matrix => "@postctl:fake.matrix".into(),
        Net::Webhook => format!("webhook to {host}"),
    }
}

fn check(net: Net) {
    let fake = Fake::start(net);
    let env = Env::with_fakes([&fake]);
    let good = env.run(&["--json", "accounts", "check", net.account()]);
    assert_eq!(good.code, 0, "{net:?}: {}", good.all_output());
    let rows = good.json();
    assert_eq!(rows[0]["name"], net.account());
    assert_eq!(rows[0]["ok"], true, "{rows}");
    assert_eq!(rows[0]["identity"], identity(&fake), "{net:?}");
    assert!(
        fake.posts().is_empty(),
        "{net:?}: checking posted something"
    );
    if !net.verifiable() {
        return;
    }
    assert!(!fake.requests().is_empty(), "{net:?} was not asked");

    fake.revoke();
    let bad = env.run(&["--json", "accounts", "check"]);
    assert_eq!(bad.code, 4, "{net:?}: {}", bad.all_output());
    let rows = bad.json();
    assert_eq!(rows[0]["ok"], false, "{rows}");
    assert_eq!(rows[0]["auth"], true, "{rows}");
    let error = rows[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("postctl accounts add"), "{net:?}: {error}");
    assert!(bad.stderr.contains("add them again"), "{}", bad.stderr);

    let table = env.run(&["accounts", "check"]);
    assert_eq!(table.code, 4);
    let line = table
        .stdout
        .lines()
        .find(|l| l.starts_with(net.account()))
        .unwrap_or_else(|| panic!("no row for {}:\n{}", net.account(), table.stdout));
    assert!(line.contains("failed"), "{line}");
    assert_no_secret(&env, &[&good, &bad, &table], &[&fake]);
}

every_network!(check);

#[test]
fn one_bad_account_among_good_ones_fails_the_check_and_names_it() {
    let masto = Fake::start(Net::Mastodon);
    let tg = Fake::start(Net::Telegram);
    let env = Env::with_fakes([&masto, &tg]);
    tg.revoke();
    let run = env.run(&["--json", "accounts", "check"]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    let rows = run.json();
    let by_name = |name: &str| {
        rows.as_array()
            .and_then(|r| r.iter().find(|row| row["name"] == name))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_name("masto")["ok"], true);
    assert_eq!(by_name("tg")["ok"], false);
    assert!(run.stderr.contains("1 account(s) failed"), "{}", run.stderr);
}

/// `accounts rm` of a Bluesky account deletes the session postctl kept for it (its access
/// and refresh tokens), not just the app password.
#[test]
fn removing_a_bluesky_account_removes_its_session() {
    let bsky = Fake::start(Net::Bluesky);
    let env = Env::with_fakes([&bsky]);
    env.ok(&["post", "hello", "--to", "bsky"]);
    let secrets = std::fs::read_to_string(env.secrets_path()).expect("secrets.toml");
    assert!(secrets.contains("refreshJwt"), "no session was kept");
    env.ok(&["accounts", "rm", "bsky"]);
    let left = std::fs::read_to_string(env.secrets_path()).unwrap_or_default();
    assert!(!left.contains("refreshJwt"), "the session stayed: {left}");
    assert!(!left.contains("accessJwt"), "the session stayed: {left}");
}

/// A session's key in the secret store is not one an account can have: an account named
/// `bsky--session` keeps its own token while `bsky` logs in.
#[test]
fn a_session_never_overwrites_another_accounts_secret() {
    let bsky = Fake::start(Net::Bluesky);
    let masto = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&bsky]);
    masto.add_named(&env, "bsky--session", &masto.secret());
    env.ok(&["post", "one", "--to", "bsky"]);
    let run = env.run(&["post", "two", "--to", "bsky--session"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(masto.posts().len(), 1);
}
