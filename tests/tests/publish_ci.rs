//! End to end: publishing from CI, with no `init` and no database, accounts given only in
//! the environment (`POSTCTL_ACCOUNT_<NAME>=network:url` plus `_TOKEN`, `_CHAT`...).

mod common;

use common::Env;
use common::networks::{Fake, Net, SEED, assert_no_secret};
use postctl_tests::fakes::{ChaosConfig, Failure, FakeMastodon, FakeTelegram};

const RELEASE: &str = "# v1.2\n\n**Shipped** v1.2: faster sync & fewer bugs.";

/// A bare environment (no config, no database) with `masto` and `tg` in env vars.
fn ci(masto: &Fake, tg: &Fake, tg_token: &str) -> Env {
    let env = Env::bare_with(&[
        (
            "POSTCTL_ACCOUNT_MASTO",
            &format!("mastodon:{}", masto.base_url()),
        ),
        ("POSTCTL_ACCOUNT_MASTO_TOKEN", FakeMastodon::TOKEN),
        ("POSTCTL_ACCOUNT_TG", &format!("telegram:{}", tg.base_url())),
        ("POSTCTL_ACCOUNT_TG_CHAT", "@postctl_test"),
        ("POSTCTL_ACCOUNT_TG_TOKEN", tg_token),
    ]);
    env.file("RELEASE.md", RELEASE);
    env
}

fn post(env: &Env) -> common::Run {
    env.run(&["post", "--file", "RELEASE.md", "--to", "masto,tg", "--json"])
}

fn assert_nothing_stored(env: &Env) {
    assert!(
        !env.db_path().exists(),
        "CI publishing created {}",
        env.db_path().display()
    );
    assert!(
        !env.config_path().exists(),
        "CI publishing wrote a config file"
    );
}

#[test]
fn env_accounts_publish_without_init_and_print_json() {
    let masto = Fake::start(Net::Mastodon);
    let tg = Fake::start(Net::Telegram);
    let env = ci(&masto, &tg, FakeTelegram::TOKEN);
    let run = post(&env);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let out = run.json();
    let targets = out["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 2, "{out}");
    let m = &masto.posts()[0];
    let t = &tg.posts()[0];
    assert_eq!(m.text, "v1.2\n\nShipped v1.2: faster sync & fewer bugs.");
    assert_eq!(
        t.formatted.as_deref(),
        Some("<b>v1.2</b>\n\n<b>Shipped</b> v1.2: faster sync &amp; fewer bugs.")
    );
    for (target, account, url) in [
        (&targets[0], "masto", m.url.clone()),
        (&targets[1], "tg", t.url.clone()),
    ] {
        assert_eq!(target["account"], account);
        assert_eq!(target["state"], "published");
        assert_eq!(target["urls"][0].as_str(), url.as_deref(), "{account}");
    }
    assert_nothing_stored(&env);
    assert_no_secret(&env, &[&run], &[&masto, &tg]);
}

#[test]
fn one_rejected_token_exits_4_and_the_other_still_publishes() {
    let masto = Fake::start(Net::Mastodon);
    let tg = Fake::start(Net::Telegram);
    let env = ci(&masto, &tg, "123456:WRONG-token");
    let run = post(&env);
    assert_eq!(run.code, 4, "{}", run.all_output());
    let out = run.json();
    assert_eq!(out["targets"][0]["state"], "published");
    assert_eq!(out["targets"][1]["state"], "failed");
    let error = out["targets"][1]["error"].as_str().unwrap_or_default();
    assert!(error.contains("bot token was rejected"), "{error}");
    assert!(run.stderr.starts_with("error:"), "{}", run.stderr);
    assert_eq!(masto.posts().len(), 1);
    assert!(tg.posts().is_empty());
    assert!(
        !run.all_output().contains("WRONG-token"),
        "{}",
        run.all_output()
    );
    assert_nothing_stored(&env);
    assert_no_secret(&env, &[&run], &[&masto]);
}

#[test]
fn a_missing_token_is_an_error_that_names_the_variable() {
    let masto = Fake::start(Net::Mastodon);
    let tg = Fake::start(Net::Telegram);
    let mut env = ci(&masto, &tg, FakeTelegram::TOKEN);
    env.unset("POSTCTL_ACCOUNT_TG_TOKEN");
    let run = post(&env);
    assert_eq!(run.code, 4, "{}", run.all_output());
    let out = run.json();
    assert_eq!(out["targets"][1]["state"], "failed");
    let error = out["targets"][1]["error"].as_str().unwrap_or_default();
    assert!(error.contains("POSTCTL_ACCOUNT_TG_TOKEN"), "{error}");
    assert!(tg.requests().is_empty(), "nothing to send without a token");
    assert_no_secret(&env, &[&run], &[&masto]);
}

#[test]
fn one_network_refusing_the_post_exits_3() {
    let masto = Fake::start(Net::Mastodon);
    let tg = Fake::start(Net::Telegram);
    masto.chaos().set(ChaosConfig {
        writes_only: true,
        server_status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        ..ChaosConfig::failing(1.0, &[Failure::ServerError], SEED)
    });
    let env = ci(&masto, &tg, FakeTelegram::TOKEN);
    let run = post(&env);
    assert_eq!(run.code, 3, "{}", run.all_output());
    let out = run.json();
    assert_eq!(out["targets"][0]["state"], "failed");
    assert!(
        out["targets"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("422")),
        "{out}"
    );
    assert_eq!(out["targets"][1]["state"], "published");
    assert_eq!(tg.posts().len(), 1);
    assert!(
        run.stderr.contains("not every target was published"),
        "{}",
        run.stderr
    );
    assert_nothing_stored(&env);
    assert_no_secret(&env, &[&run], &[&masto, &tg]);
}

/// Every file under `dir`, for "nothing was written" checks.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// A Bluesky login in CI makes a session (access and refresh tokens): it lives in memory for
/// the run, and no secrets file appears, with or without a database of the user's.
#[test]
fn a_bluesky_session_in_ci_mode_is_never_written_to_disk() {
    let bsky = Fake::start(Net::Bluesky);
    let vars = [
        (
            "POSTCTL_ACCOUNT_BSKY",
            format!("bluesky:{}", bsky.base_url()),
        ),
        (
            "POSTCTL_ACCOUNT_BSKY_HANDLE",
            postctl_tests::fakes::FakeBluesky::HANDLE.to_string(),
        ),
        ("POSTCTL_ACCOUNT_BSKY_TOKEN", bsky.secret()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for env in [Env::bare_with(&vars), Env::new_with(&vars)] {
        let before = files_under(&env.data_dir());
        let run = env.run(&["post", "shipped", "--to", "bsky", "--json"]);
        assert_eq!(run.code, 0, "{}", run.all_output());
        assert!(!env.secrets_path().exists(), "a secrets file was written");
        let written: Vec<_> = files_under(&env.data_dir())
            .into_iter()
            .filter(|f| !before.contains(f) && !f.to_string_lossy().contains("postctl.db"))
            .collect();
        assert!(written.is_empty(), "CI mode wrote {written:?}");
    }
    assert_eq!(bsky.bluesky().session_creates(), 2, "one login per run");
    assert_eq!(bsky.posts().len(), 2);
}
