//! End to end: publishing never lies (issue 9). A part whose fate is unknown is never
//! forgotten and never sent again outside its network's idempotency; rate-limit waits
//! outlive the process that heard them; every attempt is logged; messages say what
//! postctl really does, with the network's own reason.
//!
//! Where a test needs a publisher that died mid-send, it writes what such a publisher
//! leaves in the database (a claim that ran out with a part in flight), as a SIGKILL would.

#[macro_use]
mod common;

use std::time::Duration;

use common::Env;
use common::networks::{Fake, Net, failing_first, failing_first_with, long_text, status_target};
use postctl_tests::fakes::{ChaosConfig, Failure};
use serde_json::Value;

use common::now_ms;

/// Schedules `text` to `net`'s account an hour after the commands' clock starts
/// (`common::NOW`) and returns the post id; nothing is due yet.
fn scheduled(env: &Env, net: Net, text: &str) -> String {
    env.schedule(text, net.account(), &common::networks::pinned_time(3_600))
}

/// Leaves the post's target as a publisher killed while sending part `part` leaves it:
/// claimed by a process that is gone, its claim run out, the part first sent
/// `sent_ago_s` seconds ago.
fn killed_mid_send(env: &Env, post_id: &str, part: i64, sent_ago_s: i64) {
    let now = now_ms();
    env.db()
        .execute(
            "UPDATE targets SET state = 'publishing', lease_owner = 'killed', lease_expires_ms = ?2,
                in_flight = ?3, first_attempt_ms = ?4, due_ms = ?4
             WHERE post_id = ?1",
            rusqlite::params![post_id, now - 1_000, part, now - sent_ago_s * 1_000],
        )
        .expect("leave a killed publisher's claim");
    // When the part was first sent; an older postctl did not record it.
    let _ = env.db().execute(
        "UPDATE targets SET in_flight_ms = ?2 WHERE post_id = ?1",
        rusqlite::params![post_id, now - sent_ago_s * 1_000],
    );
}

fn attempts(status: &Value) -> Vec<Value> {
    status["attempts"].as_array().cloned().unwrap_or_default()
}

/// Mastodon keeps an Idempotency-Key for about an hour: a part cut off two hours ago
/// cannot be sent again safely, so it is `uncertain` and the network gets nothing.
#[test]
fn a_part_interrupted_past_the_networks_window_is_uncertain_not_sent_again() {
    let fake = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&fake]);
    let post_id = scheduled(&env, Net::Mastodon, "Cut off long ago");
    killed_mid_send(&env, &post_id, 0, 2 * 3_600);
    let run = env.run(&["--json", "run-due", "--wait", "0"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    let status = status_target(&env, &post_id, "masto");
    assert_eq!(status["state"], "uncertain", "{status}");
    let error = status["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("only for 55 minutes") && error.contains("postctl resolve"),
        "{error}"
    );
    assert!(fake.posts().is_empty(), "sent again: {:?}", fake.posts());
}

/// Inside the window the same part is sent again under the same key, once; the attempt
/// the killed publisher could not log is logged.
#[test]
fn a_part_interrupted_inside_the_window_is_sent_again_and_the_interruption_logged() {
    let fake = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&fake]);
    let post_id = scheduled(&env, Net::Mastodon, "Cut off a moment ago");
    killed_mid_send(&env, &post_id, 0, 60);
    env.ok(&["run-due", "--wait", "0"]);
    let status = status_target(&env, &post_id, "masto");
    assert_eq!(status["state"], "published", "{status}");
    assert_eq!(fake.posts().len(), 1);
    let outcomes: Vec<String> = attempts(&status)
        .iter()
        .map(|a| a["outcome"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(outcomes, ["interrupted", "published"], "{status}");
}

/// While the claim of a publisher that may have died still holds, `status` says what
/// postctl waits for.
#[test]
fn status_says_what_a_claimed_target_waits_for() {
    let fake = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&fake]);
    let post_id = scheduled(&env, Net::Mastodon, "Held");
    killed_mid_send(&env, &post_id, 0, 10);
    env.db()
        .execute(
            "UPDATE targets SET lease_expires_ms = ?1",
            [now_ms() + 90_000],
        )
        .expect("a claim that still holds");
    let shown = env.ok(&["status", &post_id]).stdout;
    assert!(
        shown.contains("claimed:") && shown.contains("part 1 was on its way"),
        "{shown}"
    );
    assert!(
        shown.contains("postctl takes the target over then"),
        "{shown}"
    );
}

/// After a crash mid-send on a network without idempotency, an account that cannot be
/// made ready (its secret is gone) must not make the interrupted part forgettable: the
/// target is `uncertain`, and `retry` cannot post it a second time.
#[test]
fn an_interrupted_send_stays_uncertain_when_the_account_cannot_be_prepared() {
    let fake = Fake::start(Net::Telegram);
    let env = Env::with_fakes([&fake]);
    let post_id = scheduled(&env, Net::Telegram, "Sent or not?");
    killed_mid_send(&env, &post_id, 0, 5);
    let secrets = std::fs::read(env.secrets_path()).expect("the secrets file");
    std::fs::remove_file(env.secrets_path()).expect("lose the secret");
    env.run(&["run-due", "--wait", "0"]);
    let status = status_target(&env, &post_id, "tg");
    assert_eq!(status["state"], "uncertain", "{status}");
    std::fs::write(env.secrets_path(), secrets).expect("the secret is back");
    env.run(&["retry", &post_id]);
    env.run(&["run-due", "--wait", "0"]);
    assert!(fake.posts().is_empty(), "posted again: {:?}", fake.posts());
    assert_eq!(status_target(&env, &post_id, "tg")["state"], "uncertain");
}

/// A stored record of parts that cannot be read is an error: part 1 is not sent again.
#[test]
fn unreadable_parts_are_an_error_not_a_fresh_start() {
    let fake = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&fake]);
    let post_id = scheduled(&env, Net::Mastodon, "Half a thread");
    env.db()
        .execute(
            "UPDATE targets SET parts = '[{\"id\": \"1\"', due_ms = ?2 WHERE post_id = ?1",
            rusqlite::params![post_id, now_ms() - 1_000],
        )
        .expect("break the record");
    let run = env.run(&["run-due", "--wait", "0"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    let status = status_target(&env, &post_id, "masto");
    assert_eq!(status["state"], "uncertain", "{status}");
    assert!(
        status["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot be read"),
        "{status}"
    );
    assert!(fake.posts().is_empty(), "{:?}", fake.posts());
}

/// No answer at all (nothing listens at the instance's address) is an attempt too.
#[test]
fn an_attempt_that_could_not_connect_is_logged() {
    let fake = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&fake]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    env.db()
        .execute("UPDATE accounts SET base_url = ?1", [&address])
        .expect("point the account at a closed port");
    let run = env.run(&[
        "--json",
        "post",
        "Anyone there?",
        "--to",
        "masto",
        "--wait",
        "0",
    ]);
    let post_id = run.json()["post_id"].as_str().expect("post_id").to_string();
    let status = status_target(&env, &post_id, "masto");
    let logged = attempts(&status);
    assert!(
        logged.iter().any(|a| a["error"]
            .as_str()
            .unwrap_or_default()
            .contains("could not connect")),
        "{status}"
    );
}

/// A Telegram 500 on a network without idempotency: one message, in the target and its
/// attempt alike, that says postctl will not retry it, with Telegram's reason.
#[test]
fn a_server_error_says_one_true_thing_with_the_networks_reason() {
    let fake = Fake::start(Net::Telegram);
    let env = Env::with_fakes([&fake]);
    let run = failing_first(&fake, Failure::ServerError, 1, || {
        env.run(&[
            "--json",
            "post",
            "Five hundred",
            "--to",
            "tg",
            "--wait",
            "0",
        ])
    });
    let post_id = run.json()["post_id"].as_str().expect("post_id").to_string();
    let status = status_target(&env, &post_id, "tg");
    assert_eq!(status["state"], "uncertain", "{status}");
    let target_error = status["last_error"].as_str().unwrap_or_default();
    let logged = attempts(&status);
    let attempt_error = logged
        .last()
        .and_then(|a| a["error"].as_str())
        .unwrap_or_default();
    for error in [target_error, attempt_error] {
        assert!(error.contains("will not retry"), "{error}");
        assert!(!error.contains("will retry"), "{error}");
        assert!(error.contains("Service Unavailable"), "{error}");
    }
}

/// A 429 asks the account to wait 4 s. A second `postctl post` meanwhile (a new process)
/// does not send into the window, and when the wait is over the older post goes first.
#[test]
fn a_rate_limit_wait_outlives_the_process_and_keeps_the_order() {
    let fake = Fake::start(Net::Mastodon);
    let mut env = Env::with_fakes([&fake]);
    // On the real clock: time passes between the processes, as it does for a user. (With
    // POSTCTL_NOW each command starts its clock there again, so two `post`s in a row are
    // not ordered by when they ran.)
    env.unset("POSTCTL_NOW");
    let config = ChaosConfig {
        retry_after: Duration::from_secs(4),
        ..ChaosConfig::failing(1.0, &[Failure::RateLimited], common::networks::SEED)
    };
    let older = failing_first_with(&fake, config, 1, || {
        env.run(&["--json", "post", "Older", "--to", "masto", "--wait", "0"])
    });
    assert_eq!(
        older.json()["targets"][0]["state"],
        "waiting_retry",
        "{}",
        older.stdout
    );
    let newer = env.run(&["--json", "post", "Newer", "--to", "masto", "--wait", "0"]);
    assert_eq!(
        newer.json()["targets"][0]["state"],
        "waiting_retry",
        "{}",
        newer.stdout
    );
    assert!(
        fake.posts().is_empty(),
        "sent into the window: {:?}",
        fake.posts()
    );
    let newer_id = newer.json()["post_id"].as_str().expect("id").to_string();
    let shown = env.ok(&["status", &newer_id]).stdout;
    assert!(
        shown.contains("the network asked masto to wait until"),
        "{shown}"
    );

    // Both wait for the same moment; one run waits for it and publishes both.
    let until: i64 = env.count("SELECT max(next_attempt_ms) FROM targets");
    let wait = u64::try_from(until - chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    assert!(wait < 10_000, "the network asked for 4 s, not {wait} ms");
    env.ok(&["run-due", "--wait", "10"]);
    let texts: Vec<String> = fake.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["Older", "Newer"]);
}

/// `resolve --published URL` on a thread resolves the part whose fate was unknown; the
/// rest of the thread is then sent, replying to it.
#[test]
fn resolving_one_part_of_a_thread_continues_the_thread() {
    let fake = Fake::start(Net::Telegram);
    let env = Env::with_fakes([&fake]);
    let text = long_text(Net::Telegram.limit() * 5 / 2 / 58);
    env.file("long.md", &text);
    let run = failing_first(&fake, Failure::FailAfterCreate, 1, || {
        env.run(&[
            "--json", "post", "--file", "long.md", "--to", "tg", "--wait", "0",
        ])
    });
    let post_id = run.json()["post_id"].as_str().expect("post_id").to_string();
    assert_eq!(status_target(&env, &post_id, "tg")["state"], "uncertain");
    let first = fake
        .posts()
        .first()
        .cloned()
        .expect("part 1 reached Telegram");
    let url = format!("https://t.me/c/1234567890/{}", first.id);
    let resolved = env.ok(&["resolve", &post_id, "--published", &url]);
    assert!(
        resolved.stderr.contains("the thread continues"),
        "{}",
        resolved.stderr
    );
    env.ok(&["run-due", "--wait", "0"]);
    let status = status_target(&env, &post_id, "tg");
    assert_eq!(status["state"], "published", "{status}");
    let posts = fake.posts();
    assert_eq!(posts.len(), 3, "{posts:#?}");
    assert_eq!(posts[1].reply_to.as_deref(), Some(first.id.as_str()));
    assert_eq!(status["parts"][0]["url"], url.as_str());
}

/// A part that takes longer than the lease (here two uploads and the status, 2.5 s each,
/// against a 4 s lease) keeps its claim while it is on its way: another publisher that
/// looks meanwhile finds nothing to take over, and the part is recorded by the publisher
/// that sent it.
#[test]
fn a_slow_part_keeps_its_claim_while_on_its_way() {
    let fake = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&fake]);
    common::networks::write_config(&env, "", "lease_seconds = 4\nrequest_timeout_seconds = 3");
    env.file("a.png", common::PNG_3X2);
    // Another file: bytes after the end of a PNG are not part of the image.
    env.file("b.png", [common::PNG_3X2, b"second"].concat());
    fake.chaos().set_latency(Duration::from_millis(2_500));
    let args = [
        "--json",
        "post",
        "Slow going",
        "--to",
        "masto",
        "--media",
        "a.png",
        "--alt",
        "A",
        "--media",
        "b.png",
        "--alt",
        "B",
        "--wait",
        "0",
    ];
    let post = env
        .command(&args, &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start postctl post");
    // Once the status itself is on its way, the part has outlived one lease.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while fake.requests().iter().all(|r| r.path != "/api/v1/statuses") {
        assert!(
            std::time::Instant::now() < deadline,
            "the status never left"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let other = env.run(&["--json", "run-due", "--wait", "0"]);
    let taken = other.json()["outcomes"].as_array().map_or(0, Vec::len);
    assert_eq!(taken, 0, "another publisher took it over: {}", other.stdout);
    let done = post.wait_with_output().expect("postctl post");
    let out: Value = serde_json::from_slice(&done.stdout).expect("JSON");
    assert_eq!(out["targets"][0]["state"], "published", "{out}");
    assert_eq!(fake.posts().len(), 1);
}
