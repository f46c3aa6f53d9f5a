//! End to end: publishing to VK through the fake VK API (`FakeVk`), written from
//! VK's API documentation: a community wall and a person's wall, a long text as a post and its
//! comments, a photo through the upload server, unpublishing, every class of VK error
//! (all answered with HTTP 200), VK's `guid` after an interrupted send, and `accounts
//! check`.

#[macro_use]
mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::networks::{SEED, long_text, real_time, status_target, write_config};
use common::{Env, PNG_3X2, Run};
use postctl_tests::fakes::{ChaosConfig, Failure, FakeServer, FakeVk, ReceivedPost};
use serde_json::Value;

const COMMUNITY: &str = "-123456";

/// `postctl accounts add vk` for the fake, with `extra` flags, the token on stdin.
fn add(env: &Env, fake: &FakeVk, name: &str, owner: &str, extra: &[&str]) -> Run {
    let base = fake.base_url();
    let mut args = vec![
        "accounts",
        "add",
        "vk",
        "--name",
        name,
        "--base-url",
        base.as_str(),
        "--owner-id",
        owner,
    ];
    args.extend_from_slice(extra);
    args.push("--token-stdin");
    env.run_full(&args, Some(format!("{}\n", FakeVk::TOKEN).as_bytes()), &[])
}

/// An environment with the community account `vk`, posting as the community.
fn community() -> (FakeVk, Env) {
    let fake = FakeVk::start();
    let env = Env::new();
    let added = add(&env, &fake, "vk", COMMUNITY, &["--from-group"]);
    assert_eq!(added.code, 0, "{}", added.all_output());
    (fake, env)
}

fn post(env: &Env, args: &[&str]) -> (Run, String, Value) {
    let mut all = vec!["--json", "post"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    let out = run.json();
    let post_id = out["post_id"].as_str().expect("post_id").to_string();
    let target = out["targets"][0].clone();
    (run, post_id, target)
}

/// Runs `run` while every call to `fake` fails with `kind`, until one failure was
/// injected: "this request fails, its retry goes through".
fn failing_first<T>(fake: &FakeVk, kind: Failure, times: u64, run: impl FnOnce() -> T) -> T {
    let chaos = fake.chaos();
    chaos.set(ChaosConfig::failing(1.0, &[kind], SEED));
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if chaos.counts().injected() >= times {
                    chaos.off();
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let result = run();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        result
    })
}

fn live(fake: &FakeVk) -> Vec<ReceivedPost> {
    fake.posts().into_iter().filter(|p| !p.deleted).collect()
}

/// Neither the output nor the database holds the token.
fn assert_no_token(env: &Env, runs: &[&Run]) {
    for run in runs {
        assert!(
            !run.all_output().contains(FakeVk::TOKEN),
            "the token is in the output of {:?}",
            run.args
        );
    }
    for path in [env.db_path(), env.wal_path()] {
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(FakeVk::TOKEN),
                "the token is in {}",
                path.display()
            );
        }
    }
}

#[test]
fn a_post_goes_to_the_community_wall_as_the_community() {
    let (fake, env) = community();
    let (run, post_id, target) = post(
        &env,
        &["Release 1.4 is out: https://example.org/1.4", "--to", "vk"],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    let wall_post = &posts[0];
    assert_eq!(wall_post.channel, COMMUNITY);
    assert_eq!(
        wall_post.text,
        "Release 1.4 is out: https://example.org/1.4"
    );
    assert_eq!(wall_post.raw["from_group"], true);
    assert_eq!(wall_post.raw["params"]["v"], "5.199");
    assert_eq!(
        wall_post.raw["params"]["attachments"], "https://example.org/1.4",
        "the link is attached"
    );
    let guid = wall_post.idempotency_key.clone().expect("a guid");
    assert!(guid.ends_with("-0"), "the first part's guid: {guid}");
    let status = status_target(&env, &post_id, "vk");
    assert_eq!(
        status["parts"][0]["url"].as_str(),
        Some(format!("https://vk.com/wall{COMMUNITY}_{}", wall_post.id).as_str()),
        "{status}"
    );
    assert_no_token(&env, &[&run]);
}

#[test]
fn a_person_posts_on_their_own_wall_and_from_group_is_refused_there() {
    let fake = FakeVk::start();
    let env = Env::new();
    let user = FakeVk::USER_ID.to_string();
    let before = env.dump();
    let refused = add(&env, &fake, "me", &user, &["--from-group"]);
    assert_eq!(refused.code, 2, "{}", refused.all_output());
    assert!(
        refused.stderr.contains("--from-group") && refused.stderr.contains("negative"),
        "{}",
        refused.stderr
    );
    assert_eq!(env.dump(), before, "a refused account changes nothing");
    assert!(add(&env, &fake, "me", &user, &[]).code == 0);
    let (run, _, target) = post(&env, &["Hello from my wall", "--to", "me"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published");
    let posts = fake.posts();
    assert_eq!(posts[0].channel, user);
    assert_eq!(posts[0].raw["params"].get("from_group"), None);
}

#[test]
fn a_long_text_becomes_a_post_and_comments_on_it() {
    let (fake, env) = community();
    // About 58 characters a sentence: over 16,384 characters, so two or more parts.
    let text = long_text(400);
    let (run, post_id, target) = post(&env, &[&text, "--to", "vk"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published");
    let posts = fake.posts();
    assert!(posts.len() >= 2, "{} part(s)", posts.len());
    let first = &posts[0];
    assert_eq!(first.reply_to, None);
    for comment in &posts[1..] {
        assert_eq!(comment.raw["kind"], "comment");
        assert_eq!(
            comment.reply_to.as_deref(),
            Some(first.id.as_str()),
            "every follow-up is a comment on the post"
        );
        assert_eq!(comment.raw["from_group"], true);
    }
    assert!(posts.iter().all(|p| p.text.chars().count() <= 16_384));
    let joined: String = posts
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains("Sentence 1 of") && joined.contains("Sentence 400 of"));
    let guids: Vec<_> = posts.iter().map(|p| p.idempotency_key.clone()).collect();
    let mut unique = guids.clone();
    unique.dedup();
    assert_eq!(unique.len(), guids.len(), "a guid per part: {guids:?}");
    let status = status_target(&env, &post_id, "vk");
    assert_eq!(status["parts"].as_array().map(Vec::len), Some(posts.len()));
}

#[test]
fn a_photo_goes_through_the_upload_server_with_its_alt_text() {
    let (fake, env) = community();
    env.file("chart.png", PNG_3X2);
    let (run, _, target) = post(
        &env,
        &[
            "Weekly downloads",
            "--media",
            "chart.png",
            "--alt",
            "a rising line",
            "--to",
            "vk",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published");
    assert_eq!(
        fake.methods(),
        [
            "photos.getWallUploadServer",
            "photos.saveWallPhoto",
            "wall.post"
        ]
    );
    assert_eq!(
        fake.calls_of("photos.getWallUploadServer")[0]["group_id"],
        "123456"
    );
    let posts = fake.posts();
    assert_eq!(posts[0].media.len(), 1);
    assert_eq!(posts[0].media[0].mime, "image/png");
    assert_eq!(posts[0].media[0].alt.as_deref(), Some("a rising line"));
    assert!(
        posts[0].raw["params"]["attachments"]
            .as_str()
            .is_some_and(|a| a.starts_with("photo-123456_")),
        "{}",
        posts[0].raw
    );
}

#[test]
fn unpublish_deletes_the_comments_then_the_post() {
    let (fake, env) = community();
    let (run, post_id, _) = post(&env, &[&long_text(400), "--to", "vk"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let parts = live(&fake).len();
    assert!(parts >= 2);
    let gone = env.run(&["--json", "unpublish", &post_id, "--yes"]);
    assert_eq!(gone.code, 0, "{}", gone.all_output());
    assert_eq!(gone.json()[0]["deleted_parts"], parts, "{}", gone.stdout);
    assert!(live(&fake).is_empty(), "parts left on the wall");
    let methods = fake.methods();
    assert_eq!(methods.last().map(String::as_str), Some("wall.delete"));
    assert_eq!(
        methods
            .iter()
            .filter(|m| *m == "wall.deleteComment")
            .count(),
        parts - 1
    );
    assert_eq!(status_target(&env, &post_id, "vk")["state"], "cancelled");
}

#[test]
fn too_many_requests_per_second_is_waited_out_and_published() {
    let (fake, env) = community();
    fake.fail_next("wall.post", 6);
    let started = Instant::now();
    let (run, post_id, target) = post(&env, &["Patience", "--to", "vk"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the retry did not wait the second VK's error 6 asks for"
    );
    assert_eq!(fake.posts().len(), 1);
    let status = status_target(&env, &post_id, "vk");
    let outcomes: Vec<&str> = status["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter_map(|a| a["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["retry", "published"]);
}

#[test]
fn the_fakes_per_second_cap_answers_error_6_and_postctl_paces_itself() {
    let (fake, env) = community();
    fake.set_rate_limit(postctl_tests::fakes::RateLimit::new(
        1,
        Duration::from_secs(1),
    ));
    let (run, _, target) = post(&env, &[&long_text(400), "--to", "vk"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let parts = fake.posts();
    assert!(parts.len() >= 2);
    assert_eq!(
        parts.iter().filter(|p| p.reply_to.is_some()).count(),
        parts.len() - 1
    );
}

#[test]
fn flood_control_and_the_daily_quota_wait_as_vk_asks() {
    for (code, says) in [(9, "Flood control"), (29, "daily quota")] {
        let (fake, env) = community();
        fake.fail_next("wall.post", code);
        let (run, post_id, target) = post(&env, &["Later", "--to", "vk", "--wait", "0"]);
        assert_eq!(run.code, 3, "{code}: {}", run.all_output());
        let error = target["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{code}: {error}");
        assert!(fake.posts().is_empty());
        let status = status_target(&env, &post_id, "vk");
        match code {
            // 15 minutes: inside the 30-minute retry window.
            9 => {
                assert_eq!(status["state"], "waiting_retry", "{status}");
                let next = status["next_attempt"].as_str().unwrap_or_default();
                let next = chrono::DateTime::parse_from_rfc3339(next).expect("a time");
                // Against the commands' clock, which starts at common::NOW.
                let wait_ms = next.timestamp_millis() - common::now_ms();
                assert!(wait_ms > 14 * 60_000, "{wait_ms} ms");
            }
            // A day: past the retry window, so it fails and says why.
            _ => {
                assert_eq!(status["state"], "failed", "{status}");
                assert!(error.contains("retry window"), "{error}");
            }
        }
    }
}

#[test]
fn a_captcha_holds_the_post_and_says_what_to_do() {
    let (fake, env) = community();
    fake.fail_next("wall.post", 14);
    let (run, post_id, target) = post(&env, &["Am I a robot?", "--to", "vk"]);
    // Not published (3), not a credentials problem (4): the token is fine.
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(target["state"], "failed");
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("VK wants a captcha solved"), "{error}");
    assert!(
        !run.all_output().contains("credentials rejected"),
        "{}",
        run.all_output()
    );
    assert!(error.contains("vk.com in a browser"), "{error}");
    assert!(
        run.all_output().contains("then run `postctl retry`"),
        "{}",
        run.all_output()
    );
    assert!(
        run.stderr.contains(&format!("postctl status {post_id}")),
        "{}",
        run.stderr
    );
    assert!(fake.posts().is_empty());
    assert_eq!(
        status_target(&env, &post_id, "vk")["attempt_count"],
        1,
        "not retried on its own"
    );

    // The user solved it on vk.com: a retry publishes.
    let retried = env.run(&["retry", &post_id, "--wait", "30"]);
    assert_eq!(retried.code, 0, "{}", retried.all_output());
    assert_eq!(status_target(&env, &post_id, "vk")["state"], "published");
    assert_eq!(fake.posts().len(), 1);
    assert_no_token(&env, &[&run, &retried]);
}

#[test]
fn validation_required_says_to_confirm_the_account() {
    let (fake, env) = community();
    fake.fail_next("wall.post", 17);
    let (run, _, target) = post(&env, &["Who is it?", "--to", "vk"]);
    // Not published (3), not a credentials problem (4): the token is fine.
    assert_eq!(run.code, 3, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("confirm it is them (validation required"),
        "{error}"
    );
    assert!(error.contains("complete the check VK shows"), "{error}");
    assert!(
        !run.all_output().contains("credentials rejected"),
        "{}",
        run.all_output()
    );
    assert!(
        !error.contains("security_check"),
        "the validation link VK sent is not shown: {error}"
    );
}

#[test]
fn permanent_refusals_fail_at_once_and_say_why() {
    let cases = [
        (15, "denied"),
        (100, "invalid"),
        (203, "admin or editor"),
        (214, "add posts"),
        (219, "advertising"),
        (220, "too many recipients"),
        (222, "forbids links"),
        (224, "advertising"),
    ];
    for (code, says) in cases {
        let (fake, env) = community();
        fake.fail_next("wall.post", code);
        let (run, post_id, target) = post(&env, &["No", "--to", "vk"]);
        assert_eq!(run.code, 3, "{code}: {}", run.all_output());
        assert_eq!(target["state"], "failed", "{code}");
        let error = target["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{code}: {error}");
        assert!(
            error.contains(&format!("VK error {code}")),
            "{code}: {error}"
        );
        assert_eq!(
            fake.calls_of("wall.post").len(),
            1,
            "{code}: not sent again"
        );
        assert_eq!(status_target(&env, &post_id, "vk")["attempt_count"], 1);
    }
}

#[test]
fn a_revoked_token_needs_new_credentials() {
    let (fake, env) = community();
    fake.configure(|c| c.token = "vk1.a.rotated".into());
    let (run, _, target) = post(&env, &["Hello?", "--to", "vk"]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("postctl accounts add vk"), "{error}");
    assert!(
        error.contains("--from-group"),
        "the hint keeps the account's settings: {error}"
    );
    assert_no_token(&env, &[&run]);
}

#[test]
fn an_internal_error_after_the_post_was_made_is_uncertain_never_resent() {
    let (fake, env) = community();
    let (run, post_id, target) = failing_first(&fake, Failure::FailAfterCreate, 1, || {
        post(&env, &["Did it go out?", "--to", "vk"])
    });
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(target["state"], "uncertain", "{target}");
    assert_eq!(fake.posts().len(), 1);
    env.ok(&["run-due", "--wait", "0"]);
    assert_eq!(
        fake.calls_of("wall.post").len(),
        1,
        "nothing retries it on its own"
    );
    assert_eq!(status_target(&env, &post_id, "vk")["state"], "uncertain");
}

/// The fake took the post and dropped the connection before answering. postctl cannot
/// know, so the target is `uncertain`; when the user answers "not published", the resend
/// carries the same `guid`, and VK answers with the post it already has.
#[test]
fn the_guid_keeps_a_resend_after_a_lost_answer_from_posting_twice() {
    let (fake, env) = community();
    let (run, post_id, target) = failing_first(&fake, Failure::DroppedAfterCreate, 1, || {
        post(&env, &["Exactly once", "--to", "vk"])
    });
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(target["state"], "uncertain", "{target}");
    assert_eq!(fake.posts().len(), 1);

    env.ok(&["resolve", &post_id, "--not-published"]);
    let again = env.ok(&["--json", "run-due"]);
    assert_eq!(
        again.json()["outcomes"][0]["state"],
        "published",
        "{}",
        again.stdout
    );
    let calls = fake.calls_of("wall.post");
    assert_eq!(calls.len(), 2, "sent twice");
    assert_eq!(calls[0]["guid"], calls[1]["guid"], "with the same guid");
    assert_eq!(
        fake.posts().len(),
        1,
        "VK recognised the guid: no duplicate"
    );
    let status = status_target(&env, &post_id, "vk");
    assert_eq!(
        status["parts"][0]["url"].as_str(),
        fake.posts()[0].url.as_deref()
    );
}

/// A `postctl daemon` child, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The daemon SIGKILLed while its wall.post waits for VK's answer (the post exists): the
/// next run finds the part cut off and makes the target `uncertain` (VK's guid has no
/// documented window); resolved as not published, it goes out again with the same guid
/// and the wall still holds one post.
#[test]
fn a_daemon_killed_mid_send_leaves_one_post_on_the_wall() {
    let (fake, mut env) = community();
    // On the real clock: the killed daemon's claim runs out for the next process as it
    // would for a user (with POSTCTL_NOW each process starts its clock there again).
    env.unset("POSTCTL_NOW");
    write_config(&env, "", "lease_seconds = 1\nrequest_timeout_seconds = 3");
    fake.chaos().set(ChaosConfig {
        slow: Duration::from_secs(8),
        writes_only: true,
        ..ChaosConfig::failing(1.0, &[Failure::Slow], SEED)
    });
    let post_id = env.schedule("Killed mid-send", "vk", &real_time(1));
    let mut daemon = Daemon(
        env.command(&["daemon"], &[])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postctl daemon"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.posts().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fake.posts().len(), 1, "the daemon did not send in 20 s");
    daemon.0.kill().expect("SIGKILL the daemon");
    daemon.0.wait().expect("reap the daemon");
    fake.chaos().off();

    // The lease (4 s: the request timeout and a second) runs out, then run-due takes over.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Exits 3 once the target is uncertain.
        env.run(&["run-due", "--wait", "0"]);
        let state = status_target(&env, &post_id, "vk")["state"].clone();
        if state == "uncertain" || Instant::now() > deadline {
            assert_eq!(state, "uncertain");
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let error = status_target(&env, &post_id, "vk")["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("postctl stopped while sending"), "{error}");
    assert_eq!(fake.calls_of("wall.post").len(), 1, "not resent on its own");

    env.ok(&["resolve", &post_id, "--not-published"]);
    env.ok(&["run-due", "--wait", "0"]);
    assert_eq!(status_target(&env, &post_id, "vk")["state"], "published");
    let calls = fake.calls_of("wall.post");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["guid"], calls[1]["guid"]);
    assert_eq!(fake.posts().len(), 1, "one post on the wall");
}

#[test]
fn accounts_check_names_the_wall_and_catches_a_bad_token() {
    let (fake, env) = community();
    let user = FakeVk::USER_ID.to_string();
    assert_eq!(add(&env, &fake, "me", &user, &[]).code, 0);
    let good = env.run(&["--json", "accounts", "check"]);
    assert_eq!(good.code, 0, "{}", good.all_output());
    let rows = good.json();
    let identity = |name: &str| {
        rows.as_array()
            .and_then(|r| r.iter().find(|row| row["name"] == name))
            .map(|row| row["identity"].clone())
            .unwrap_or_default()
    };
    assert_eq!(
        identity("vk"),
        "community postctl test community (vk.com/postctl_test)"
    );
    assert_eq!(identity("me"), "Anna Tester (vk.com/id4242)");
    assert!(fake.posts().is_empty());

    fake.configure(|c| c.token = "vk1.a.revoked".into());
    let bad = env.run(&["--json", "accounts", "check", "vk"]);
    assert_eq!(bad.code, 4, "{}", bad.all_output());
    let rows = bad.json();
    assert_eq!(rows[0]["ok"], false);
    assert_eq!(rows[0]["auth"], true);
    assert!(
        rows[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("postctl accounts add vk")),
        "{rows}"
    );
    assert_no_token(&env, &[&good, &bad]);
}

/// The first part's fate was unknown; the user found it on the wall and gave its link. The
/// rest of the text then goes out as comments on that post.
#[test]
fn a_thread_resolved_by_the_posts_link_continues_as_comments_on_it() {
    let (fake, env) = community();
    let (run, post_id, target) = failing_first(&fake, Failure::FailAfterCreate, 1, || {
        post(&env, &[&long_text(400), "--to", "vk"])
    });
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(target["state"], "uncertain", "{target}");
    let first = fake.posts()[0].clone();
    let link = first.url.clone().expect("the post's link");
    env.ok(&["resolve", &post_id, "--published", &link]);
    let more = env.ok(&["--json", "run-due"]);
    assert_eq!(
        more.json()["outcomes"][0]["state"],
        "published",
        "{}",
        more.stdout
    );
    let posts = fake.posts();
    assert!(posts.len() >= 2);
    assert_eq!(
        fake.calls_of("wall.post").len(),
        1,
        "the post is not made again"
    );
    for comment in &posts[1..] {
        assert_eq!(comment.reply_to.as_deref(), Some(first.id.as_str()));
    }
}
