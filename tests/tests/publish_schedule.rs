//! End to end: scheduled posts published by `run-due` and by the daemon, missed ones
//! reported, and failures told to the user through a configured notification account.
//!
//! `--at` is read against the pinned POSTCTL_NOW, but the engine runs on the real clock,
//! so these tests schedule at real times (RFC 3339) computed here.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::Env;
use common::networks::{Fake, HOOK_KEY, Net, SEED, real_time, status_target, write_config};
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
    let first = schedule(&env, "Due a moment ago", &real_time(-5));
    let second = schedule(&env, "Due just now", &real_time(-1));
    let later = schedule(&env, "Due tomorrow", &real_time(86_400));
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
    let old = schedule(&env, "Ten minutes late", &real_time(-600));
    let fresh = schedule(&env, "Only a little late", &real_time(-20));

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
    let env = Env::with_fakes([&fake]);
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
