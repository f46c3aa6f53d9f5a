//! End to end: publishing to Instagram through the fake Graph API (`FakeInstagram`,
//!), with images given to it through the fake S3 bucket (`FakeS3`), which
//! checks each presigned URL's SigV4 signature and expiry: an image post with alt text, a
//! carousel, the container flow interrupted after each step with no duplicate, each class
//! of error, the publishing quota, and the refusals made before anything is stored.

#[macro_use]
mod common;

use std::time::Duration;

use common::networks::{add_instagram, set_host, status_target, write_config};
use common::{Env, PNG_3X2, Run};
use postctl_tests::fakes::instagram::{Fault, Step};
use postctl_tests::fakes::{FakeInstagram, FakeS3};
use serde_json::Value;

/// An environment with the account `insta` on the fake, and (when `host`) the fake S3
/// bucket as the media host, its secret key given on stdin.
fn setup(host: bool) -> (FakeInstagram, FakeS3, Env) {
    let fake = FakeInstagram::start();
    let s3 = FakeS3::start();
    let env = Env::new();
    // A lost answer is given up after one second; retries come quickly.
    write_config(
        &env,
        "",
        "request_timeout_seconds = 1\nlease_seconds = 5\nmax_retry_delay_seconds = 1",
    );
    add_instagram(&env, &fake);
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

fn image_post(env: &Env, caption: &str, extra: &[&str]) -> (Run, String, Value) {
    let image = env.file("chart.png", PNG_3X2);
    let image = image.to_str().unwrap_or_default().to_owned();
    let mut args = vec![
        caption,
        "--to",
        "insta",
        "--media",
        image.as_str(),
        "--alt",
        "a small chart",
    ];
    args.extend_from_slice(extra);
    post(env, &args)
}

#[test]
fn an_image_post_goes_through_the_bucket_with_its_alt_text_and_leaves_nothing_there() {
    let (fake, s3, env) = setup(true);
    let (run, _, target) = image_post(&env, "Weekly numbers #stats", &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let media = fake.media();
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].caption, "Weekly numbers #stats");
    assert_eq!(
        media[0].images,
        vec![(PNG_3X2.to_vec(), Some("a small chart".to_string()))]
    );
    assert_eq!(
        target["urls"][0].as_str(),
        Some(media[0].permalink.as_str()),
        "{target}"
    );
    // Instagram fetched it through a URL valid for an hour; then it was removed.
    let log = s3.log();
    let fetched: Vec<_> = log.iter().filter(|r| r.method == "GET").collect();
    assert_eq!(fetched.len(), 1, "{log:?}");
    assert_eq!(
        (fetched[0].status, fetched[0].expires),
        (200, Some(3600)),
        "{log:?}"
    );
    assert!(s3.objects().is_empty(), "{:?}", s3.objects());
    assert!(
        log.iter().any(|r| r.method == "DELETE" && r.status == 204),
        "{log:?}"
    );
    // The secret key is in the secret store, not in config.toml.
    let config = std::fs::read_to_string(env.config_path()).unwrap_or_default();
    assert!(
        config.contains("[media.host]") && !config.contains(FakeS3::SECRET_KEY),
        "{config}"
    );
    assert!(!run.all_output().contains(FakeInstagram::TOKEN));
}

#[test]
fn a_carousel_is_one_post_of_child_containers_each_with_its_alt_text() {
    let (fake, _s3, env) = setup(true);
    let a = env.file("a.png", PNG_3X2);
    let b = env.file("b.png", PNG_3X2);
    let (a, b) = (
        a.to_str().unwrap_or_default(),
        b.to_str().unwrap_or_default(),
    );
    let (run, _, target) = post(
        &env,
        &[
            "Two charts",
            "--to",
            "insta",
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
    let media = fake.media();
    assert_eq!(media.len(), 1);
    let alts: Vec<_> = media[0].images.iter().map(|(_, alt)| alt.clone()).collect();
    assert_eq!(
        alts,
        [Some("first".to_string()), Some("second".to_string())]
    );
    let containers = fake.containers();
    assert_eq!(containers.iter().filter(|c| c.carousel_item).count(), 2);
    let parent = containers
        .iter()
        .find(|c| !c.children.is_empty())
        .expect("a parent container");
    assert_eq!(parent.caption.as_deref(), Some("Two charts"));
}

#[test]
fn a_lost_answer_to_the_container_makes_a_new_one_and_posts_once() {
    let (fake, _s3, env) = setup(true);
    fake.fail_next(Step::Container, Fault::LoseAnswer(Duration::from_secs(3)));
    let (run, _, target) = image_post(&env, "Once", &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    assert_eq!(fake.media().len(), 1);
    assert_eq!(
        fake.containers().len(),
        2,
        "the first container is left unpublished"
    );
}

#[test]
fn a_lost_answer_to_media_publish_is_checked_on_the_container_never_published_again() {
    let (fake, _s3, env) = setup(true);
    fake.fail_next(Step::Publish, Fault::LoseAnswer(Duration::from_secs(3)));
    let (run, _, target) = image_post(&env, "Exactly once", &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let media = fake.media();
    assert_eq!(media.len(), 1);
    assert_eq!(fake.containers().len(), 1, "no second container");
    assert_eq!(
        target["urls"][0].as_str(),
        Some(media[0].permalink.as_str()),
        "{target}"
    );
    let publishes = fake
        .log()
        .iter()
        .filter(|l| l.ends_with("/media_publish"))
        .count();
    assert_eq!(publishes, 1, "{:?}", fake.log());
}

#[test]
fn a_transient_error_on_media_publish_publishes_the_same_container_after_checking_it() {
    let (fake, _s3, env) = setup(true);
    fake.fail_next(
        Step::Publish,
        Fault::Error {
            http: 500,
            code: 2,
            subcode: None,
            transient: true,
            regain_minutes: None,
        },
    );
    let (run, _, target) = image_post(&env, "Second try", &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    assert_eq!(fake.media().len(), 1);
    assert_eq!(
        fake.containers().len(),
        1,
        "the noted container is published"
    );
    let log = fake.log();
    let status_reads = log.iter().filter(|l| l.starts_with("GET /179")).count();
    assert!(
        status_reads >= 2,
        "the container was checked before publishing again: {log:?}"
    );
}

#[test]
fn a_container_still_processing_is_polled_until_finished() {
    let (fake, _s3, env) = setup(true);
    fake.set_processing_polls(2);
    let (run, _, target) = image_post(&env, "Slow", &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    assert_eq!(fake.media().len(), 1);
}

#[test]
fn an_expired_token_needs_a_new_one() {
    let (fake, _s3, env) = setup(true);
    fake.fail_next(
        Step::Quota,
        Fault::Error {
            http: 400,
            code: 190,
            subcode: None,
            transient: false,
            regain_minutes: None,
        },
    );
    let (run, _, target) = image_post(&env, "Token", &[]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("new long-lived token"), "{error}");
    assert!(fake.media().is_empty());
}

#[test]
fn throttling_waits_as_the_usage_header_says() {
    for code in [4, 17, 32, 613] {
        let (fake, _s3, env) = setup(true);
        fake.fail_next(
            Step::Container,
            Fault::Error {
                http: 400,
                code,
                subcode: None,
                transient: true,
                regain_minutes: Some(7),
            },
        );
        let (run, post_id, target) = image_post(&env, "Later", &["--wait", "0"]);
        assert_eq!(run.code, 3, "{code}: {}", run.all_output());
        let error = target["error"].as_str().unwrap_or_default();
        assert!(error.contains("rate limiting"), "{code}: {error}");
        let status = status_target(&env, &post_id, "insta");
        assert_eq!(status["state"], "waiting_retry", "{code}: {status}");
        // Measured from the attempt's end on the commands' own (pinned) clock.
        let time = |value: &Value| {
            chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap_or_default())
                .map(|t| t.timestamp())
                .unwrap_or(0)
        };
        let wait = time(&status["next_attempt"]) - time(&status["attempts"][0]["ended"]);
        assert!(
            (360..=430).contains(&wait),
            "{code}: waits {wait} s: {status}"
        );
        assert!(fake.media().is_empty());
    }
}

#[test]
fn any_other_error_fails_the_post_for_good() {
    let (fake, _s3, env) = setup(true);
    fake.fail_next(
        Step::Container,
        Fault::Error {
            http: 400,
            code: 100,
            subcode: Some(2207004),
            transient: false,
            regain_minutes: None,
        },
    );
    let (run, _, target) = image_post(&env, "Too big", &[]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(target["state"], "failed", "{target}");
    assert!(
        target["error"]
            .as_str()
            .unwrap_or_default()
            .contains("too large"),
        "{target}"
    );
}

#[test]
fn a_used_up_publishing_quota_is_read_from_the_api_and_waited_for() {
    let (fake, _s3, env) = setup(true);
    fake.set_quota(25, 25);
    let (run, _, target) = image_post(&env, "Quota", &["--wait", "0"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("25 of 25 posts in 24 h"), "{error}");
    assert!(
        fake.containers().is_empty(),
        "nothing is created past the quota"
    );
}

#[test]
fn a_wrong_bucket_secret_fails_before_instagram_is_asked() {
    let (fake, s3, env) = setup(false);
    set_host(&env, &s3, "not-the-secret-key");
    let (run, _, target) = image_post(&env, "Signed?", &[]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(target["state"], "failed", "{target}");
    let error = target["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("media host") && error.contains("403"),
        "{error}"
    );
    assert!(!error.contains("not-the-secret-key"), "{error}");
    assert!(fake.containers().is_empty());
    assert!(s3.objects().is_empty());
}

#[test]
fn a_text_only_post_is_refused_before_anything_is_stored() {
    let (fake, _s3, env) = setup(true);
    let checked = env.fails(&["check", "Just words", "--to", "insta"], 2);
    assert!(
        checked.stderr.contains("need at least one image"),
        "{}",
        checked.all_output()
    );
    let posted = env.fails(&["post", "Just words", "--to", "insta"], 2);
    assert!(
        posted.stderr.contains("need at least one image"),
        "{}",
        posted.all_output()
    );
    assert_eq!(env.count("SELECT count(*) FROM posts"), 0);
    assert!(fake.log().is_empty());
    let image = env.file("c.png", PNG_3X2);
    env.ok(&[
        "check",
        "Just words",
        "--to",
        "insta",
        "--media",
        image.to_str().unwrap_or_default(),
    ]);
}

#[test]
fn an_image_post_without_a_media_host_is_refused_with_the_setting_to_add() {
    let (fake, _s3, env) = setup(false);
    let image = env.file("c.png", PNG_3X2);
    let image = image.to_str().unwrap_or_default();
    let posted = env.fails(&["post", "Pic", "--to", "insta", "--media", image], 2);
    assert!(
        posted.stderr.contains("postctl media host set --endpoint"),
        "{}",
        posted.all_output()
    );
    let at = common::networks::real_time(3600);
    let scheduled = env.fails(
        &[
            "schedule", "Pic", "--to", "insta", "--media", image, "--at", &at,
        ],
        2,
    );
    assert!(
        scheduled.stderr.contains("[media.host]"),
        "{}",
        scheduled.all_output()
    );
    assert_eq!(env.count("SELECT count(*) FROM posts"), 0);
    assert!(fake.log().is_empty());
}

#[test]
fn unpublish_says_instagram_cannot_delete_through_the_api() {
    let (fake, _s3, env) = setup(true);
    let (run, post_id, _) = image_post(&env, "Stays", &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let run = env.run(&["unpublish", &post_id, "--yes"]);
    assert_ne!(run.code, 0, "{}", run.all_output());
    assert!(
        run.all_output().contains("no way to delete"),
        "{}",
        run.all_output()
    );
    assert_eq!(fake.media().len(), 1);
}
