//! End to end: a network that is down for everyone (issue 12). A fake Mastodon answers 503
//! to every post from two accounts; after three failures from both, postctl takes the
//! instance as down: the posts wait without spending their retries, one probe at a time
//! tests the network, the user is told when it goes down and comes back, `status` and
//! `accounts check` say since when and when the next probe is, and publishing resumes in
//! order once it answers.
//!
//! This test runs on the real clock (POSTCTL_NOW unset): the probe times are real waits.

mod common;

use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::Env;
use common::networks::{Fake, HOOK_KEY, Net, real_time, status_target, write_config};
use postctl_tests::fakes::{ChaosConfig, Failure};
use serde_json::Value;

/// The first probe waits this long after the circuit opens; the next one twice as long.
const PROBE_SECONDS: i64 = 3;

fn attempts(env: &Env, post: &str, account: &str) -> (String, u64, usize) {
    let target = status_target(env, post, account);
    (
        target["state"].as_str().unwrap_or_default().to_string(),
        target["attempt_count"].as_u64().unwrap_or_default(),
        target["attempts"].as_array().map_or(0, Vec::len),
    )
}

fn next_probe(env: &Env, post: &str) -> DateTime<Utc> {
    let status = env.json(&["status", post]);
    let probe = status["networks_down"][0]["next_probe"]
        .as_str()
        .unwrap_or_else(|| panic!("no network down in {status}"));
    probe.parse().expect("an RFC 3339 time")
}

fn sleep_until(at: DateTime<Utc>) {
    let wait = (at - Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(wait + Duration::from_millis(300));
}

fn texts(fake: &Fake) -> Vec<String> {
    fake.posts().into_iter().map(|p| p.text).collect()
}

#[test]
fn a_network_down_for_everyone_waits_probes_once_and_resumes_in_order() {
    let fake = Fake::start(Net::Mastodon);
    let alerts = Fake::start(Net::Webhook);
    let mut env = Env::new();
    env.unset("POSTCTL_NOW");
    fake.add_named(&env, "masto", &fake.secret());
    fake.mastodon().add_token("second-token", "second");
    fake.add_named(&env, "masto2", "second-token");
    alerts.add_named(&env, "alerts", HOOK_KEY);
    write_config(
        &env,
        r#"notify = ["alerts"]"#,
        &format!("outage_probe_seconds = {PROBE_SECONDS}\nmax_retry_delay_seconds = 1"),
    );
    let schedule = |text: &str, to: &str, offset: i64| {
        env.ok(&[
            "schedule",
            text,
            "--to",
            to,
            "--at",
            &real_time(offset),
            "--allow-past",
        ])
        .id()
    };
    let first = schedule("First", "masto", -30);
    let second = schedule("Second", "masto2", -20);
    let third = schedule("Third", "masto", -10);
    let posts = [(&first, "masto"), (&second, "masto2"), (&third, "masto")];

    // Down for everyone: every post gets a 503.
    fake.chaos().set(ChaosConfig {
        writes_only: true,
        ..ChaosConfig::failing(1.0, &[Failure::ServerError], 7)
    });
    let down = env.run(&["run-due", "--wait", "0"]);
    assert!(
        down.stderr.contains("is down for everyone since"),
        "{}",
        down.all_output()
    );
    assert_eq!(
        fake.writes().len(),
        3,
        "each post tried once before the circuit opened"
    );
    // Nothing goes before the first probe, and nothing is counted.
    let quiet = env.run(&["--json", "run-due", "--wait", "0"]);
    assert_eq!(
        quiet.json()["outcomes"],
        Value::Array(vec![]),
        "{}",
        quiet.all_output()
    );
    assert_eq!(
        fake.writes().len(),
        3,
        "a post went out while the network was down"
    );
    for (post, account) in posts {
        let (state, count, _) = attempts(&env, post, account);
        assert_eq!((state.as_str(), count), ("waiting_retry", 1), "{account}");
    }
    let told: Vec<String> = alerts.posts().into_iter().map(|p| p.text).collect();
    assert!(
        told.iter().any(|t| t.contains(&format!(
            "Mastodon at {} is down for everyone since",
            fake.base_url()
        ))),
        "{told:?}"
    );

    // `status` and `accounts check` say since when, and when the next probe is.
    let status = env.ok(&["status", &second]);
    assert!(
        status.stdout.contains("network down: Mastodon at")
            && status.stdout.contains("; next probe at "),
        "{}",
        status.stdout
    );
    let checked = env.json(&["accounts", "check"]);
    let rows = checked.as_array().expect("rows");
    let down_of = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .map(|r| r["network_down"].clone())
            .unwrap_or(Value::Null)
    };
    assert!(down_of("masto")["down_since"].is_string(), "{checked}");
    assert!(down_of("masto2")["next_probe"].is_string(), "{checked}");
    assert_eq!(
        down_of("alerts"),
        Value::Null,
        "another network is not down"
    );

    // `post` to an account on the down network sends nothing, says why, and exits 3; the
    // post waits with the others.
    let meanwhile = env.run(&["post", "Meanwhile", "--to", "masto2"]);
    assert_eq!(meanwhile.code, 3, "{}", meanwhile.all_output());
    assert!(
        meanwhile.stderr.contains("masto2: Mastodon at")
            && meanwhile
                .stderr
                .contains("wait(s) for a network that is down for everyone"),
        "{}",
        meanwhile.stderr
    );
    assert_eq!(
        fake.writes().len(),
        3,
        "`post` sent to a network that is down"
    );

    // At the probe time two publishers run at once: one probe goes, and fails.
    sleep_until(next_probe(&env, &first));
    let racers: Vec<_> = (0..2)
        .map(|_| {
            env.command(&["run-due", "--wait", "0"], &[])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start run-due")
        })
        .collect();
    let said: Vec<String> = racers
        .into_iter()
        .map(|racer| {
            let out = racer.wait_with_output().expect("run-due ends");
            String::from_utf8_lossy(&out.stderr).into_owned()
        })
        .collect();
    assert_eq!(fake.writes().len(), 4, "exactly one probe: {said:?}");
    let (state, count, logged) = attempts(&env, &first, "masto");
    assert_eq!(
        (state.as_str(), count, logged),
        ("waiting_retry", 1, 2),
        "the probe is the earliest post; its failure is logged and spends no retry"
    );
    for (post, account) in &posts[1..] {
        assert_eq!(attempts(&env, post, account).1, 1, "{account}");
    }

    // The network answers again: the next probe goes through, and everything follows in
    // order (run-due waits for the probe time itself).
    fake.chaos().set(ChaosConfig::default());
    let back = env.run(&["run-due", "--wait", "30"]);
    assert_eq!(back.code, 0, "{}", back.all_output());
    assert!(back.stderr.contains("answers again"), "{}", back.stderr);
    let sent = texts(&fake);
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(sent[0], "First", "the probe went first: {sent:?}");
    let on = |account: &str| -> Vec<String> {
        fake.posts()
            .into_iter()
            .filter(|p| p.channel == account)
            .map(|p| p.text)
            .collect()
    };
    assert_eq!(
        on("second"),
        ["Second", "Meanwhile"],
        "one account's posts in their order"
    );
    assert_eq!(on(&fake.posts()[0].channel), ["First", "Third"]);
    for (post, account) in posts {
        assert_eq!(attempts(&env, post, account).0, "published", "{account}");
    }
    let status = env.json(&["status", &first]);
    assert_eq!(status["networks_down"], Value::Array(vec![]), "{status}");
    let told: Vec<String> = alerts.posts().into_iter().map(|p| p.text).collect();
    assert!(told.iter().any(|t| t.contains("answers again")), "{told:?}");
}
