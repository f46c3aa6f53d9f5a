//! End to end: a Facebook Page through the fake Graph API (`FakeFacebook`): `accounts add`
//! choosing the Page from the user's Pages and keeping only its Page token, text with a
//! link, photos, a long text, delete, each class of error, a lost answer found on the Page
//! instead of posted twice, the usage header pacing the account, and metrics.

#[macro_use]
mod common;

use std::time::Duration;

use common::networks::{add_facebook, status_target, write_config};
use common::{Env, PNG_3X2, Run};
use postctl_tests::fakes::FakeFacebook;
use postctl_tests::fakes::facebook::{Fault, Step};
use serde_json::Value;

fn setup() -> (FakeFacebook, Env) {
    let fake = FakeFacebook::start();
    let env = Env::new();
    write_config(
        &env,
        "",
        "request_timeout_seconds = 1\nlease_seconds = 5\nmax_retry_delay_seconds = 1",
    );
    add_facebook(&env, &fake);
    (fake, env)
}

fn post(env: &Env, args: &[&str]) -> (Run, String, Value) {
    let mut all = vec!["--json", "post"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    let out = run.json();
    let post_id = out["post_id"].as_str().unwrap_or_default().to_string();
    (run, post_id, out["targets"][0].clone())
}

fn live(fake: &FakeFacebook) -> Vec<postctl_tests::fakes::facebook::FbPost> {
    fake.posts().into_iter().filter(|p| !p.deleted).collect()
}

fn add(env: &Env, fake: &FakeFacebook, token: &str, more: &[&str]) -> Run {
    let base = fake.base_url();
    let mut args = vec![
        "--json",
        "accounts",
        "add",
        "facebook",
        "--name",
        "fb",
        "--base-url",
        &base,
        "--token-stdin",
    ];
    args.extend_from_slice(more);
    env.run_full(&args, Some(format!("{token}\n").as_bytes()), &[])
}

#[test]
fn accounts_add_lists_the_users_pages_and_keeps_only_the_chosen_pages_token() {
    let fake = FakeFacebook::start();
    let env = Env::new();
    let added = add_facebook(&env, &fake);
    assert!(
        added.stderr.contains("postctl test page"),
        "{}",
        added.all_output()
    );
    assert!(fake.log().iter().any(|l| l == "GET /me/accounts"));
    // The Page token is kept, in the secret store; the user token nowhere.
    let secrets = std::fs::read_to_string(env.secrets_path()).unwrap_or_default();
    assert!(secrets.contains(FakeFacebook::PAGE_TOKEN), "the Page token");
    assert!(!secrets.contains(FakeFacebook::USER_TOKEN), "{secrets}");
    let dump = format!("{:?}", env.dump());
    assert!(!dump.contains(FakeFacebook::PAGE_TOKEN) && !dump.contains(FakeFacebook::USER_TOKEN));
    let accounts = env.json(&["accounts", "list"]).to_string();
    assert!(accounts.contains(FakeFacebook::PAGE_ID), "{accounts}");
    assert!(!accounts.contains("EAAfake"), "{accounts}");
    // It posts with the Page token.
    let (run, _, target) = post(&env, &["Hello, Page", "--to", "fb"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    assert!(!run.all_output().contains("EAAfake"));
}

#[test]
fn several_pages_need_page_id_and_nothing_is_stored_until_one_is_chosen() {
    let fake = FakeFacebook::start();
    fake.add_page(
        "104000000000002",
        "second page",
        "EAAfake-page-token-second",
        &["CREATE_CONTENT"],
    );
    let env = Env::new();
    let refused = add(&env, &fake, FakeFacebook::USER_TOKEN, &[]);
    assert_eq!(refused.code, 2, "{}", refused.all_output());
    assert!(
        refused.stderr.contains("--page-id")
            && refused.stderr.contains("104000000000002  second page"),
        "{}",
        refused.all_output()
    );
    assert!(!refused.all_output().contains("EAAfake"));
    assert_eq!(env.count("SELECT count(*) FROM accounts"), 0);
    assert!(
        !env.secrets_path().exists() || {
            let s = std::fs::read_to_string(env.secrets_path()).unwrap_or_default();
            !s.contains("EAAfake")
        }
    );
    let unknown = add(&env, &fake, FakeFacebook::USER_TOKEN, &["--page-id", "999"]);
    assert_eq!(unknown.code, 2, "{}", unknown.all_output());
    let chosen = add(
        &env,
        &fake,
        FakeFacebook::USER_TOKEN,
        &["--page-id", "104000000000002"],
    );
    assert_eq!(chosen.code, 0, "{}", chosen.all_output());
    let secrets = std::fs::read_to_string(env.secrets_path()).unwrap_or_default();
    assert!(secrets.contains("EAAfake-page-token-second"));
}

#[test]
fn a_page_token_given_directly_with_page_id_is_kept_as_it_is() {
    let fake = FakeFacebook::start();
    let env = Env::new();
    let added = add(
        &env,
        &fake,
        FakeFacebook::PAGE_TOKEN,
        &["--page-id", FakeFacebook::PAGE_ID],
    );
    assert_eq!(added.code, 0, "{}", added.all_output());
    let (run, _, target) = post(&env, &["Direct token", "--to", "fb"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    // Without --page-id, a Page token cannot choose a Page.
    let env = Env::new();
    let refused = add(&env, &fake, FakeFacebook::PAGE_TOKEN, &[]);
    assert_eq!(refused.code, 2, "{}", refused.all_output());
    assert!(refused.stderr.contains("not a Facebook user token"));
}

#[test]
fn a_rejected_user_token_adds_nothing_and_says_so() {
    let fake = FakeFacebook::start();
    let env = Env::new();
    let refused = add(&env, &fake, "EAAnot-a-token", &[]);
    assert_eq!(refused.code, 4, "{}", refused.all_output());
    assert!(!refused.all_output().contains("EAAnot-a-token"));
    assert_eq!(env.count("SELECT count(*) FROM accounts"), 0);
}

#[test]
fn a_text_with_a_link_is_one_post_with_its_card() {
    let (fake, env) = setup();
    let (run, _, target) = post(
        &env,
        &["New release: https://example.org/notes", "--to", "fb"],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = live(&fake);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].message, "New release: https://example.org/notes");
    assert_eq!(posts[0].link.as_deref(), Some("https://example.org/notes"));
    assert!(posts[0].id.starts_with(FakeFacebook::PAGE_ID));
    let url = target["urls"][0].as_str().unwrap_or_default();
    assert!(url.starts_with("https://www.facebook.com/"), "{target}");
}

#[test]
fn a_long_text_goes_whole_in_one_post() {
    let (fake, env) = setup();
    let text = common::networks::long_text(120);
    assert!(text.chars().count() > 5000);
    let (run, _, target) = post(&env, &[&text, "--to", "fb"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = live(&fake);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].message.trim(), text.trim());
}

#[test]
fn a_photo_is_one_post_and_several_are_attached_to_one() {
    let (fake, env) = setup();
    let a = env.file("a.png", PNG_3X2);
    let b = env.file("b.png", PNG_3X2);
    let (a, b) = (
        a.to_str().unwrap_or_default(),
        b.to_str().unwrap_or_default(),
    );
    let (run, _, target) = post(
        &env,
        &["One photo", "--to", "fb", "--media", a, "--alt", "a chart"],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let (run, _, target) = post(
        &env,
        &["Two photos", "--to", "fb", "--media", a, "--media", b],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = live(&fake);
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].photos.len(), 1);
    assert_eq!(posts[1].photos.len(), 2);
    assert_eq!(posts[1].message, "Two photos");
    let photos = fake.photos();
    assert_eq!(photos.len(), 3);
    assert!(photos.iter().all(|p| p.bytes == PNG_3X2 && p.published));
    assert_eq!(photos[0].alt.as_deref(), Some("a chart"));
}

#[test]
fn unpublish_deletes_the_post() {
    let (fake, env) = setup();
    let (run, post_id, _) = post(&env, &["Short-lived", "--to", "fb"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let run = env.run(&["unpublish", &post_id, "--yes"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(live(&fake).is_empty());
    assert_eq!(fake.posts().len(), 1);
}

#[test]
fn an_expired_page_token_needs_a_new_one() {
    let (fake, env) = setup();
    fake.fail_next(Step::Feed, Fault::expired_token());
    let (run, _, target) = post(&env, &["Token", "--to", "fb"]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("new Page access token"), "{error}");
    assert!(live(&fake).is_empty());
}

#[test]
fn throttling_waits_as_the_usage_header_says() {
    let (fake, env) = setup();
    fake.fail_next(Step::Feed, Fault::throttled(32, 7));
    let (run, post_id, target) = post(&env, &["Later", "--to", "fb", "--wait", "0"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("rate limiting"), "{error}");
    let status = status_target(&env, &post_id, "fb");
    assert_eq!(status["state"], "waiting_retry", "{status}");
    let wait = seconds(&status["next_attempt"]) - seconds(&status["attempts"][0]["ended"]);
    assert!((360..=430).contains(&wait), "waits {wait} s: {status}");
    assert!(live(&fake).is_empty());
}

#[test]
fn a_used_up_allowance_in_the_usage_header_holds_the_next_post() {
    let (fake, env) = setup();
    fake.set_usage(100, 9);
    let (run, _, target) = post(&env, &["Last call", "--to", "fb"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let (run, post_id, _) = post(&env, &["Held", "--to", "fb", "--wait", "0"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    let status = status_target(&env, &post_id, "fb");
    let until = seconds(&status["account_waits_until"]);
    let due = seconds(&status["due"]);
    assert!((480..=600).contains(&(until - due)), "{status}");
    assert_eq!(live(&fake).len(), 1, "the second post was not sent");
}

#[test]
fn a_refused_post_fails_for_good() {
    let (fake, env) = setup();
    fake.fail_next(Step::Feed, Fault::invalid());
    let (run, _, target) = post(&env, &["Refused", "--to", "fb"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(target["state"], "failed", "{target}");
    assert!(live(&fake).is_empty());
}

#[test]
fn a_transient_error_on_an_upload_is_retried() {
    let (fake, env) = setup();
    fake.fail_next(Step::Photo, Fault::transient());
    let a = env.file("a.png", PNG_3X2);
    let a = a.to_str().unwrap_or_default();
    let (run, _, target) = post(&env, &["Two", "--to", "fb", "--media", a, "--media", a]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    assert_eq!(live(&fake).len(), 1);
}

#[test]
fn a_lost_answer_is_found_on_the_page_and_not_posted_again() {
    let (fake, env) = setup();
    fake.fail_next(Step::Feed, Fault::LoseAnswer(Duration::from_secs(3)));
    let (run, _, target) = post(&env, &["Exactly once", "--to", "fb"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(target["state"], "published", "{target}");
    let posts = live(&fake);
    assert_eq!(posts.len(), 1);
    assert!(
        target["urls"][0]
            .as_str()
            .is_some_and(|u| u.ends_with(posts[0].id.split('_').nth(1).unwrap_or("?"))),
        "{target}"
    );
}

#[test]
fn a_server_error_on_the_post_that_is_not_on_the_page_is_uncertain_never_resent() {
    let (fake, env) = setup();
    fake.fail_next(Step::Feed, Fault::transient());
    let (run, _, target) = post(&env, &["Maybe", "--to", "fb"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(target["state"], "uncertain", "{target}");
    let error = target["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("not among the Page's latest posts"),
        "{error}"
    );
    let feeds = fake.log().iter().filter(|l| l.ends_with("/feed")).count();
    assert_eq!(feeds, 2, "one post, one lookup: {:?}", fake.log());
    assert!(live(&fake).is_empty());
}

#[test]
fn stats_read_reactions_comments_shares_and_followers() {
    let (fake, env) = setup();
    let (run, post_id, _) = post(&env, &["Counted", "--to", "fb"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let id = live(&fake)[0].id.clone();
    fake.set_counts(&id, 11, 4, 2);
    fake.set_followers(300);
    let entry = common::networks::collect_an_hour_later(&env, "fb");
    assert_eq!(entry["posts_counted"], 1, "{entry}");
    assert_eq!(entry["account_figures"]["followers"], 300, "{entry}");
    let counters = common::networks::stats_counters(&env, &post_id, "fb");
    assert_eq!(
        counters,
        serde_json::json!({"likes": 11, "replies": 4, "shares": 2})
    );
}

fn seconds(value: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap_or_default())
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

#[test]
fn one_post_goes_to_threads_and_the_page_at_once() {
    let (fake, env) = setup();
    let threads = postctl_tests::fakes::FakeThreads::start();
    common::networks::add_threads(&env, &threads);
    let run = env.run(&["--json", "post", "Everywhere at once", "--to", "threads,fb"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let states: Vec<_> = run.json()["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| t["state"].clone())
        .collect();
    assert_eq!(states, ["published", "published"]);
    assert_eq!(live(&fake)[0].message, "Everywhere at once");
    assert_eq!(threads.posts()[0].text, "Everywhere at once");
}
