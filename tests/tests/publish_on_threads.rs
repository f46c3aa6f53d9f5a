//! End to end: publishing to Threads through the fake Threads API (`FakeThreads`):
//! text, a long text as a thread of replies, the 500-character limit
//! with emoji counted as UTF-8 bytes, images and carousels through the fake S3 bucket, the
//! container flow interrupted (a lost answer, a killed process) with no duplicate, each
//! class of error, delete, and metrics.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::networks::{add_threads, long_text, set_host, status_target, write_config};
use common::{Env, PNG_3X2, Run};
use postctl_tests::fakes::threads::{Fault, Step, ThreadsCounts};
use postctl_tests::fakes::{FakeS3, FakeThreads};
use serde_json::Value;

/// An environment with the account `threads` on the fake, and (when `host`) the fake S3
/// bucket as the media host.
fn setup(host: bool) -> (FakeThreads, FakeS3, Env) {
    let fake = FakeThreads::start();
    let s3 = FakeS3::start();
    let env = Env::new();
    // A lost answer is given up after one second; retries come quickly.
    write_config(
        &env,
        "",
        "request_timeout_seconds = 1\nlease_seconds = 5\nmax_retry_delay_seconds = 1",
    );
    add_threads(&env, &fake);
    if host {
        set_host(&env, &s3, FakeS3::SECRET_KEY);
    }
    (fake, s3, env)
}

fn post(env: &Env, args: &[&str]) -> (Run, String, Value) {
    let mut all = vec!["--json", "post"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    let out = run.json();
    let post_id = out["post_id"].as_str().unwrap_or_default().to_string();
    (run, post_id, out["targets"][0].clone())
}

fn published(fake: &FakeThreads) -> Vec<postctl_tests::fakes::threads::Post> {
    fake.posts().into_iter().filter(|p| !p.deleted).collect()
}

#[test]
fn a_text_post_is_a_text_container_published_once() {
    let (fake, _s3, env) = setup(false);
    let (run, _, target) = post(&env, &["Hello from postctl", "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = published(&fake);
    assert_eq!(posts.len(), 1);
    assert_eq!(
        (posts[0].media_type.as_str(), posts[0].text.as_str()),
        ("TEXT", "Hello from postctl")
    );
    assert_eq!(
        target["urls"][0].as_str(),
        Some(posts[0].permalink.as_str()),
        "{target}"
    );
    // The container was ready before it was published.
    let log = fake.log();
    let status = log.iter().position(|l| l.starts_with("GET /1790"));
    let publish = log.iter().position(|l| l.ends_with("/threads_publish"));
    assert!(status.is_some() && status < publish, "{log:?}");
    assert!(!run.all_output().contains(FakeThreads::TOKEN));
}

#[test]
fn a_long_text_becomes_a_thread_each_part_replying_to_the_one_before() {
    let (fake, _s3, env) = setup(false);
    let text = long_text(20);
    let (run, _, target) = post(&env, &[&text, "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = published(&fake);
    assert!(posts.len() >= 3, "{} parts", posts.len());
    assert_eq!(posts[0].reply_to, None);
    for pair in posts.windows(2) {
        assert_eq!(pair[1].reply_to.as_deref(), Some(pair[0].id.as_str()));
    }
    for part in &posts {
        assert!(part.text.chars().count() <= 500, "{}", part.text);
    }
}

#[test]
fn an_emoji_counts_its_utf8_bytes_against_the_500_limit() {
    let (fake, _s3, env) = setup(false);
    // 125 party poppers are 500 bytes: one post. 130 are 520: over, though 130 characters.
    let fits = "🎉".repeat(125);
    let over = "🎉 ".repeat(130);
    let checked = env.run(&["--json", "check", &over, "--to", "threads"]);
    let out = checked.all_output();
    assert!(out.contains("520") || out.contains("649"), "{out}");
    let (run, _, target) = post(&env, &[&fits, "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    assert_eq!(published(&fake).len(), 1);
    let (run, _, target) = post(&env, &[&over, "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    // The fake refuses anything over 500 bytes of emoji: two parts got through.
    assert_eq!(published(&fake).len(), 3);
}

#[test]
fn an_image_goes_through_the_bucket_with_its_alt_text_and_a_carousel_is_one_post() {
    let (fake, s3, env) = setup(true);
    let a = env.file("a.png", PNG_3X2);
    let b = env.file("b.png", PNG_3X2);
    let (a, b) = (
        a.to_str().unwrap_or_default(),
        b.to_str().unwrap_or_default(),
    );
    let (run, _, target) = post(
        &env,
        &[
            "One chart",
            "--to",
            "threads",
            "--media",
            a,
            "--alt",
            "a chart",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let (run, _, target) = post(
        &env,
        &[
            "Two charts",
            "--to",
            "threads",
            "--media",
            a,
            "--alt",
            "first",
            "--media",
            b,
            "--alt",
            "second",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = published(&fake);
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].media_type, "IMAGE");
    assert_eq!(
        posts[0].images,
        vec![(PNG_3X2.to_vec(), Some("a chart".to_string()))]
    );
    assert_eq!(posts[1].media_type, "CAROUSEL");
    let alts: Vec<_> = posts[1].images.iter().map(|(_, alt)| alt.clone()).collect();
    assert_eq!(alts, [Some("first".into()), Some("second".into())]);
    assert!(s3.objects().is_empty(), "{:?}", s3.objects());
}

#[test]
fn an_image_without_a_media_host_is_refused_before_anything_is_stored() {
    let (fake, _s3, env) = setup(false);
    let image = env.file("c.png", PNG_3X2);
    let posted = env.fails(
        &[
            "post",
            "Pic",
            "--to",
            "threads",
            "--media",
            image.to_str().unwrap_or_default(),
        ],
        2,
    );
    assert!(
        posted.stderr.contains("postctl media host set --endpoint"),
        "{}",
        posted.all_output()
    );
    assert_eq!(env.count("SELECT count(*) FROM posts"), 0);
    assert!(fake.log().is_empty());
}

#[test]
fn a_lost_answer_to_threads_publish_is_checked_on_the_container_never_published_again() {
    let (fake, _s3, env) = setup(false);
    fake.fail_next(Step::Publish, Fault::LoseAnswer(Duration::from_secs(3)));
    let (run, _, target) = post(&env, &["Exactly once", "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = published(&fake);
    assert_eq!(posts.len(), 1);
    assert_eq!(fake.containers().len(), 1, "no second container");
    assert_eq!(
        target["urls"][0].as_str(),
        Some(posts[0].permalink.as_str())
    );
    let publishes = fake
        .log()
        .iter()
        .filter(|l| l.ends_with("/threads_publish"))
        .count();
    assert_eq!(publishes, 1, "{:?}", fake.log());
}

#[test]
fn a_lost_answer_to_a_reply_is_found_among_the_replies() {
    let (fake, _s3, env) = setup(false);
    // The first part publishes; the second's answer is lost.
    fake.fail_next(Step::Publish, Fault::LoseAnswer(Duration::ZERO));
    fake.fail_next(Step::Publish, Fault::LoseAnswer(Duration::from_secs(3)));
    let text = long_text(12);
    let (run, _, target) = post(&env, &[&text, "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = published(&fake);
    let texts: Vec<_> = posts.iter().map(|p| p.text.clone()).collect();
    let mut unique = texts.clone();
    unique.dedup();
    assert_eq!(texts, unique, "no part twice");
    assert!(
        fake.log().iter().any(|l| l.ends_with("/replies")),
        "{:?}",
        fake.log()
    );
}

#[test]
fn a_lost_answer_to_the_container_makes_a_new_one_and_posts_once() {
    let (fake, _s3, env) = setup(false);
    fake.fail_next(Step::Container, Fault::LoseAnswer(Duration::from_secs(3)));
    let (run, _, target) = post(&env, &["Once", "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    assert_eq!(published(&fake).len(), 1);
    assert_eq!(fake.containers().len(), 2, "the first is left unpublished");
}

#[test]
fn a_process_killed_while_publishing_is_checked_by_the_next_run_and_posts_once() {
    let fake = FakeThreads::start();
    let env = Env::new();
    write_config(
        &env,
        "",
        "request_timeout_seconds = 3\nlease_seconds = 4\nmax_retry_delay_seconds = 1",
    );
    add_threads(&env, &fake);
    // Threads publishes, and the answer never comes back before the process dies.
    fake.fail_next(Step::Publish, Fault::LoseAnswer(Duration::from_secs(30)));
    let mut child = env
        .command(&["post", "Killed mid-publish", "--to", "threads"], &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start postctl post");
    let started = Instant::now();
    while !fake.log().iter().any(|l| l.ends_with("/threads_publish")) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            fake.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL postctl");
    let _ = child.wait();
    assert_eq!(published(&fake).len(), 1, "Threads holds the post");
    // Once the dead process's lease is over, the next run checks the noted container.
    let later = common::networks::pinned_time(10);
    let run = env.run_full(&["run-due"], None, &[("POSTCTL_NOW", &later)]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let post_id = env
        .db()
        .query_row("SELECT id FROM posts", [], |r| r.get::<_, String>(0))
        .expect("the post");
    let status = status_target(&env, &post_id, "threads");
    assert_eq!(status["state"], "published", "{status}");
    assert_eq!(published(&fake).len(), 1, "never published twice");
    assert_eq!(fake.containers().len(), 1);
}

#[test]
fn a_transient_error_on_publish_publishes_the_same_container_after_checking_it() {
    let (fake, _s3, env) = setup(false);
    fake.fail_next(Step::Publish, Fault::transient());
    let (run, _, target) = post(&env, &["Second try", "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    assert_eq!(published(&fake).len(), 1);
    assert_eq!(
        fake.containers().len(),
        1,
        "the noted container is published"
    );
}

#[test]
fn an_expired_token_needs_a_new_one() {
    let (fake, _s3, env) = setup(false);
    fake.fail_next(Step::Quota, Fault::expired_token());
    let (run, _, target) = post(&env, &["Token", "--to", "threads"]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("new long-lived Threads token"), "{error}");
    assert!(fake.containers().is_empty());
}

#[test]
fn throttling_waits_as_the_usage_header_says() {
    let (fake, _s3, env) = setup(false);
    fake.fail_next(Step::Container, Fault::throttled(17, 7));
    let (run, post_id, target) = post(&env, &["Later", "--to", "threads", "--wait", "0"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("rate limiting"), "{error}");
    let status = status_target(&env, &post_id, "threads");
    assert_eq!(status["state"], "waiting_retry", "{status}");
    let time = |value: &Value| {
        chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap_or_default())
            .map(|t| t.timestamp())
            .unwrap_or(0)
    };
    let wait = time(&status["next_attempt"]) - time(&status["attempts"][0]["ended"]);
    assert!((360..=430).contains(&wait), "waits {wait} s: {status}");
    assert!(published(&fake).is_empty());
}

#[test]
fn a_refused_post_fails_for_good() {
    let (fake, _s3, env) = setup(false);
    fake.fail_next(Step::Container, Fault::invalid());
    let (run, _, target) = post(&env, &["Refused", "--to", "threads"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(target["state"], "failed", "{target}");
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("Threads refused the post"), "{error}");
    assert!(published(&fake).is_empty());
}

#[test]
fn a_used_up_publishing_quota_is_read_and_waited_for() {
    let (fake, _s3, env) = setup(false);
    fake.set_quota(250, 250);
    let (run, _, target) = post(&env, &["Quota", "--to", "threads", "--wait", "0"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("250 of 250 posts in 24 h"), "{error}");
    assert!(fake.containers().is_empty());
}

#[test]
fn unpublish_deletes_every_part_of_a_thread() {
    let (fake, _s3, env) = setup(false);
    let text = long_text(12);
    let (run, post_id, _) = post(&env, &[&text, "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let parts = published(&fake).len();
    assert!(parts >= 2);
    let run = env.run(&["unpublish", &post_id, "--yes"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(published(&fake).is_empty());
    let deletes = fake
        .log()
        .iter()
        .filter(|l| l.starts_with("DELETE /"))
        .count();
    assert_eq!(deletes, parts);
}

#[test]
fn stats_read_the_post_insights_and_the_followers() {
    let (fake, _s3, env) = setup(false);
    let (run, post_id, _) = post(&env, &["Counted", "--to", "threads"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let id = published(&fake)[0].id.clone();
    fake.set_counts(
        &id,
        ThreadsCounts {
            views: 120,
            likes: 9,
            replies: 2,
            reposts: 3,
            quotes: 1,
        },
    );
    fake.set_followers(42);
    let entry = common::networks::collect_an_hour_later(&env, "threads");
    assert_eq!(entry["posts_counted"], 1, "{entry}");
    assert_eq!(entry["account_figures"]["followers"], 42, "{entry}");
    let counters = common::networks::stats_counters(&env, &post_id, "threads");
    assert_eq!(
        counters,
        serde_json::json!({"views": 120, "likes": 9, "replies": 2, "reposts": 3, "quotes": 1}),
    );
}
