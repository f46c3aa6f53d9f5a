//! End to end: scheduled posts published by `run-due` and by the daemon, missed ones
//! reported, and failures told to the user through a configured notification account.
//!
//! Every command's clock, the engine's included, starts at POSTCTL_NOW (`common::NOW`) and
//! runs on from there, so these tests schedule at times relative to it; the daemon's test
//! runs on the real clock instead, to measure how late it publishes.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::Env;
use common::networks::{
    Fake, HOOK_KEY, Net, SEED, pinned_time, real_time, status_target, write_config,
};
use postctl_tests::fakes::{ChaosConfig, Failure};
use serde_json::Value;

fn schedule(env: &Env, text: &str, at: &str) -> String {
    env.ok(&[
        "schedule",
        text,
        "--to",
        "masto",
        "--at",
        at,
        "--allow-past",
    ])
    .id()
}

/// The text of each notification the alerts webhook received.
fn notifications(alerts: &Fake) -> Vec<String> {
    alerts.posts().into_iter().map(|p| p.text).collect()
}

/// An environment with `fake`'s account, and `alerts` (a webhook) as its notification
/// account; `publish` is the config's `[publish]` section.
fn with_alerts(fake: &Fake, alerts: &Fake, publish: &str) -> Env {
    let env = Env::with_fakes([fake]);
    alerts.add_named(&env, "alerts", HOOK_KEY);
    write_config(&env, r#"notify = ["alerts"]"#, publish);
    env
}

#[test]
fn run_due_publishes_what_is_due_and_nothing_else() {
    let fake = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&fake]);
    let first = schedule(&env, "Due a moment ago", &pinned_time(-5));
    let second = schedule(&env, "Due just now", &pinned_time(-1));
    let later = schedule(&env, "Due tomorrow", &pinned_time(86_400));
    let run = env.ok(&["--json", "run-due"]);
    let report = run.json();
    let outcomes = report["outcomes"].as_array().expect("outcomes");
    assert_eq!(outcomes.len(), 2, "{report}");
    assert!(
        outcomes.iter().all(|o| o["state"] == "published"),
        "{report}"
    );
    assert_eq!(report["missed"], Value::Array(vec![]));
    let texts: Vec<String> = fake.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["Due a moment ago", "Due just now"], "oldest first");
    for id in [&first, &second] {
        assert_eq!(status_target(&env, id, "masto")["state"], "published");
    }
    assert_eq!(status_target(&env, &later, "masto")["state"], "scheduled");

    let again = env.ok(&["run-due"]);
    assert!(again.stderr.contains("nothing was due"), "{}", again.stderr);
    assert_eq!(
        fake.posts().len(),
        2,
        "a second run publishes nothing twice"
    );
    let quiet = env.ok(&["run-due", "--quiet"]);
    assert_eq!(quiet.all_output().trim(), "");
}

#[test]
fn a_post_due_beyond_the_late_limit_is_missed_and_reported() {
    let masto = Fake::start(Net::Mastodon);
    let alerts = Fake::start(Net::Webhook);
    let env = with_alerts(&masto, &alerts, "late_limit_minutes = 1");
    let old = schedule(&env, "Ten minutes late", &pinned_time(-600));
    let fresh = schedule(&env, "Only a little late", &pinned_time(-20));

    let run = env.run(&["run-due"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(
        run.stdout.contains("missed  masto  was due")
            && run.stdout.contains(&format!("postctl retry {old}")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("published  masto"), "{}", run.stdout);
    let texts: Vec<String> = masto.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["Only a little late"]);
    assert_eq!(status_target(&env, &old, "masto")["state"], "missed");
    assert_eq!(status_target(&env, &fresh, "masto")["state"], "published");

    let told = notifications(&alerts);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains("missed on masto") && told[0].contains(&format!("postctl retry {old}")),
        "{}",
        told[0]
    );

    // The user decides to publish it after all.
    env.ok(&["retry", &old]);
    env.ok(&["run-due"]);
    assert_eq!(masto.posts().len(), 2);
    assert_eq!(status_target(&env, &old, "masto")["state"], "published");
}

#[test]
fn a_failed_post_is_notified_once_and_a_good_one_not_at_all() {
    let masto = Fake::start(Net::Mastodon);
    let alerts = Fake::start(Net::Webhook);
    let env = with_alerts(&masto, &alerts, "");
    let good = env.run(&["post", "All fine", "--to", "masto"]);
    assert_eq!(good.code, 0, "{}", good.all_output());
    assert!(notifications(&alerts).is_empty());

    masto.chaos().set(ChaosConfig {
        writes_only: true,
        server_status: StatusCode::UNPROCESSABLE_ENTITY,
        ..ChaosConfig::failing(1.0, &[Failure::ServerError], SEED)
    });
    let bad = env.run(&["--json", "post", "Refused", "--to", "masto"]);
    assert_eq!(bad.code, 3, "{}", bad.all_output());
    let post_id = bad.json()["post_id"].as_str().expect("post_id").to_string();
    let told = notifications(&alerts);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].starts_with("postctl: 1 post(s) need your attention"),
        "{}",
        told[0]
    );
    assert!(
        told[0].contains("failed on masto")
            && told[0].contains("422")
            && told[0].contains(&format!("postctl status {post_id}")),
        "{}",
        told[0]
    );
    let delivery = &alerts.webhook().deliveries()[0];
    assert_eq!(delivery.verify(HOOK_KEY), Ok(()));
}

#[test]
fn an_uncertain_post_is_notified() {
    let tg = Fake::start(Net::Telegram);
    let alerts = Fake::start(Net::Webhook);
    let env = with_alerts(&tg, &alerts, "");
    tg.chaos().set(ChaosConfig {
        writes_only: true,
        ..ChaosConfig::failing(1.0, &[Failure::FailAfterCreate], SEED)
    });
    let run = env.run(&["post", "Maybe out", "--to", "tg"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    let told = notifications(&alerts);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("uncertain on tg"), "{}", told[0]);
    assert!(told[0].contains("postctl status"), "{}", told[0]);
}

/// The daemon's process, killed when a failed assertion would leave it running.
struct DaemonGuard(Option<Child>);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        if let Some(mut daemon) = self.0.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

#[test]
fn the_daemon_publishes_a_post_scheduled_by_another_process_and_stops_on_sigterm() {
    let fake = Fake::start(Net::Mastodon);
    let mut env = Env::with_fakes([&fake]);
    // On the real clock: how late it publishes is measured against it.
    env.unset("POSTCTL_NOW");
    let mut guard = DaemonGuard(Some(
        env.command(&["daemon"], &[])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the daemon"),
    ));

    let due = real_time(1);
    let id = schedule(&env, "Published by the daemon", &due);
    let posts = fake.wait_for_posts(1, Duration::from_secs(10));
    let published_at = chrono::Utc::now();
    let due_at = chrono::DateTime::parse_from_rfc3339(&due).expect("due");
    assert_eq!(posts.len(), 1, "the daemon did not publish within 10 s");
    assert_eq!(posts[0].text, "Published by the daemon");
    assert!(
        published_at.signed_duration_since(due_at) < chrono::Duration::seconds(3),
        "published {} after its due time",
        published_at.signed_duration_since(due_at)
    );

    let pid = guard.0.as_ref().map(Child::id).expect("the daemon");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let stopping = Instant::now();
    let exit = loop {
        let daemon = guard.0.as_mut().expect("the daemon");
        if let Some(exit) = daemon.try_wait().expect("wait for the daemon") {
            break exit;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(5),
            "the daemon did not stop within 5 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let daemon = guard.0.take().expect("the daemon");
    let output = daemon.wait_with_output().expect("daemon output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(exit.code(), Some(0), "{stderr}");
    assert!(stopping.elapsed() < Duration::from_secs(2), "slow to stop");
    assert!(stderr.contains("postctl daemon: stopped"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status_target(&env, &id, "masto")["state"], "published");
    assert_eq!(fake.posts().len(), 1);
}

/// POSTCTL_NOW is the clock of every command, `run-due` included: a post is due when the
/// pinned clock says so, not when the real one does (which here is weeks after it).
#[test]
fn run_due_goes_by_postctl_now() {
    let fake = Fake::start(Net::Mastodon);
    let mut env = Env::with_fakes([&fake]);
    env.set("POSTCTL_NOW", "2026-11-20T09:00:00Z");
    let id = schedule(&env, "Due at noon", "2026-11-20T12:00:00Z");

    env.set("POSTCTL_NOW", "2026-11-20T11:59:00Z");
    let early = env.ok(&["run-due", "--wait", "0"]);
    assert!(early.stderr.contains("nothing was due"), "{}", early.stderr);
    assert!(fake.posts().is_empty(), "published before its time");
    assert_eq!(status_target(&env, &id, "masto")["state"], "scheduled");

    env.set("POSTCTL_NOW", "2026-11-20T12:00:30Z");
    let due = env.ok(&["--json", "run-due", "--wait", "0"]);
    let report = due.json();
    assert_eq!(report["outcomes"][0]["state"], "published", "{report}");
    assert_eq!(report["missed"], Value::Array(vec![]), "{report}");
    let texts: Vec<String> = fake.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["Due at noon"]);
    assert_eq!(status_target(&env, &id, "masto")["state"], "published");
}

/// A 429 with `Retry-After` in one run leaves the account's wait in the database; a later `run-due` finds
/// nothing due because of it. Without room in --wait it says which account waits until
/// when and exits 3; with room, it waits the limit out and publishes.
#[test]
fn run_due_waits_out_an_accounts_rate_limit_within_wait() {
    let fake = Fake::start(Net::SlackBot);
    let env = Env::with_fakes([&fake]);
    let config = ChaosConfig {
        retry_after: Duration::from_secs(3),
        ..ChaosConfig::failing(1.0, &[Failure::RateLimited], SEED)
    };
    let first = common::networks::failing_first_with(&fake, config, 1, || {
        env.run(&["post", "After the limit", "--to", "slbot", "--wait", "0"])
    });
    assert_eq!(first.code, 3, "{}", first.all_output());
    assert!(fake.posts().is_empty());

    let now = env.run(&["run-due", "--wait", "0"]);
    assert_eq!(now.code, 3, "{}", now.all_output());
    assert!(
        now.stderr.contains("slbot: waits until 2026-11-20 11:00:0")
            && now.stderr.contains("as the network asked"),
        "{}",
        now.stderr
    );
    assert!(!now.stderr.contains("nothing was due"), "{}", now.stderr);
    assert!(fake.posts().is_empty(), "sent into the rate limit");

    let started = Instant::now();
    let waited = env.run(&["run-due", "--wait", "30"]);
    assert_eq!(waited.code, 0, "{}", waited.all_output());
    assert!(
        waited.stderr.contains("slbot: waits until"),
        "{}",
        waited.stderr
    );
    assert!(
        waited.stdout.contains("published  slbot"),
        "{}",
        waited.stdout
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "did not wait for the limit"
    );
    let texts: Vec<String> = fake.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["After the limit"]);
}
