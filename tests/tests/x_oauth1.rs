//! `postctl accounts add x --oauth1`: the four OAuth 1.0a keys from stdin or a variable,
//! and every request to X signed with HMAC-SHA1, which the fake X recomputes (method,
//! address, query, nonce, timestamp) before it answers.

mod common;

use common::Env;
use postctl_tests::fakes::{FakeServer, FakeX, OAuth1Keys};

const KEYS: &str = "xck-consumer-key xcs-consumer-secret 123-xat-access-token xats-token-secret";

fn keys() -> OAuth1Keys {
    OAuth1Keys {
        consumer_key: "xck-consumer-key".into(),
        consumer_secret: "xcs-consumer-secret".into(),
        access_token: "123-xat-access-token".into(),
        access_token_secret: "xats-token-secret".into(),
    }
}

fn fake_x() -> FakeX {
    let fake = FakeX::start();
    fake.configure(|c| c.oauth1 = Some(keys()));
    fake
}

fn add(env: &Env, fake: &FakeX, keys: &str) -> common::Run {
    env.run_full(
        &[
            "accounts",
            "add",
            "x",
            "--name",
            "me-x",
            "--oauth1",
            "--token-stdin",
            "--base-url",
            &fake.base_url(),
        ],
        Some(format!("{keys}\n").as_bytes()),
        &[],
    )
}

#[test]
fn every_request_is_signed_with_the_four_keys_and_x_verifies_it() {
    let env = Env::new();
    let fake = fake_x();
    let added = add(&env, &fake, KEYS);
    assert_eq!(added.code, 0, "{}", added.all_output());
    env.ok(&["accounts", "check", "me-x"]);
    // An image: the chunked upload, and STATUS polls whose query is signed too.
    fake.configure(|c| c.media_processing_polls = 2);
    let image = env.file("chart.png", common::PNG_3X2).display().to_string();
    let run = env.run(&[
        "post",
        "Signed the old way",
        "--to",
        "me-x",
        "--media",
        &image,
    ]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0]
            .auth
            .as_deref()
            .is_some_and(|a| a.contains("oauth1-verified:")),
        "{:?}",
        posts[0].auth
    );
    // users/me twice (check, post's lookup-free path: once), initialize, append, finalize,
    // two STATUS polls, the post: every one verified.
    assert!(fake.signed_requests() >= 7, "{}", fake.signed_requests());
    let all = format!("{}{}{:?}", run.all_output(), added.all_output(), env.dump());
    for secret in [
        "xcs-consumer-secret",
        "xats-token-secret",
        "123-xat-access-token",
    ] {
        assert!(!all.contains(secret), "{secret} leaked");
    }
    assert_eq!(
        env.json(&["accounts", "list"])[0]["settings"]["auth"],
        "oauth1"
    );
}

#[test]
fn keys_in_a_variable_are_read_when_publishing() {
    let env = Env::new();
    let fake = fake_x();
    let added = env.run_full(
        &[
            "accounts",
            "add",
            "x",
            "--name",
            "me-x",
            "--oauth1",
            "--token-env",
            "X_OAUTH1_KEYS",
            "--base-url",
            &fake.base_url(),
        ],
        None,
        &[("X_OAUTH1_KEYS", KEYS)],
    );
    assert_eq!(added.code, 0, "{}", added.all_output());
    let run = env.run_full(
        &["post", "From CI", "--to", "me-x"],
        None,
        &[("X_OAUTH1_KEYS", KEYS)],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(fake.posts().len(), 1);
}

#[test]
fn keys_x_does_not_accept_are_refused_with_what_to_do() {
    let env = Env::new();
    let fake = fake_x();
    let wrong = "xck-consumer-key xcs-WRONG-secret 123-xat-access-token xats-token-secret";
    assert_eq!(add(&env, &fake, wrong).code, 0);
    let run = env.run(&["post", "Refused", "--to", "me-x"]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    assert!(
        run.all_output().contains("Keys and tokens page"),
        "{}",
        run.all_output()
    );
    assert!(
        !run.all_output().contains("xcs-WRONG-secret"),
        "{}",
        run.all_output()
    );
    assert!(fake.posts().is_empty());
    assert_eq!(fake.signed_requests(), 0);
}

#[test]
fn anything_but_four_keys_is_refused_and_nothing_is_stored() {
    let env = Env::new();
    let fake = fake_x();
    let before = env.dump();
    let run = add(&env, &fake, "only three keys");
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("four keys on one line"),
        "{}",
        run.stderr
    );
    assert!(!run.all_output().contains("three"), "{}", run.all_output());
    let masto = env.run_full(
        &[
            "accounts",
            "add",
            "mastodon",
            "--name",
            "m",
            "--instance",
            "https://example.social",
            "--oauth1",
            "--token-stdin",
        ],
        Some(b"token\n"),
        &[],
    );
    assert_eq!(masto.code, 2, "{}", masto.all_output());
    assert!(
        masto.stderr.contains("--oauth1 is for X only"),
        "{}",
        masto.stderr
    );
    assert_eq!(format!("{:?}", env.dump()), format!("{before:?}"));
    assert!(!env.secrets_path().exists());
}
