//! End to end: each error class on every network's fake, injected with the fakes' chaos
//! settings (seeded): rejected credentials (exit 4), refused posts (exit 3), rate limits
//! (published after the wait the network asks for), and unknown outcomes, which become
//! `uncertain` where a retry could post twice and are retried safely where it cannot.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::Env;
use common::networks::{
    Fake, Net, SEED, assert_no_secret, failing_first, failing_first_with, status_target,
    write_config,
};
use postctl_tests::fakes::{ChaosConfig, Failure};
use serde_json::Value;

/// An environment with `fake`'s account. Bluesky logs in once here (`accounts check`
/// keeps the session), so that the post's first write is the post itself.
fn env_with(fake: &Fake) -> Env {
    let env = Env::with_fakes([fake]);
    if fake.net == Net::Bluesky {
        env.ok(&["accounts", "check", "bsky"]);
    }
    env
}

fn post_json(env: &Env, net: Net, text: &str) -> (common::Run, String, Value) {
    let run = env.run(&["--json", "post", text, "--to", net.account()]);
    let out = run.json();
    let post_id = out["post_id"].as_str().expect("post_id").to_string();
    let target = out["targets"][0].clone();
    (run, post_id, target)
}

fn auth(net: Net) {
    let fake = Fake::start(net);
    let env = env_with(&fake);
    fake.revoke();
    let (run, post_id, target) = post_json(&env, net, "Credentials, please");
    assert_eq!(run.code, 4, "{net:?}: {}", run.all_output());
    assert_eq!(target["state"], "failed", "{net:?}");
    let error = target["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("postctl accounts add"),
        "{net:?}: the error should say how to give new credentials: {error}"
    );
    assert!(
        run.stderr.contains("credentials")
            && run.stderr.contains(&format!("postctl retry {post_id}")),
        "{net:?}: {}",
        run.stderr
    );
    if net != Net::Webhook {
        // (The webhook receiver records every delivery, the refused one too.)
        assert!(
            fake.live_posts().is_empty(),
            "{net:?} posted with bad credentials"
        );
    }
    let status = status_target(&env, &post_id, net.account());
    assert_eq!(status["state"], "failed");
    assert_eq!(status["attempt_count"], 1, "auth errors are not retried");
    assert_no_secret(&env, &[&run], &[&fake]);
}

every_network!(auth);

/// The validation failure each network answers with.
fn refusal(net: Net) -> StatusCode {
    match net {
        Net::Mastodon | Net::Webhook => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn permanent(net: Net) {
    let fake = Fake::start(net);
    let env = env_with(&fake);
    fake.chaos().set(ChaosConfig {
        writes_only: true,
        server_status: refusal(net),
        ..ChaosConfig::failing(1.0, &[Failure::ServerError], SEED)
    });
    let writes_before = fake.writes().len();
    let (run, post_id, target) = post_json(&env, net, "Refused for good");
    assert_eq!(run.code, 3, "{net:?}: {}", run.all_output());
    assert_eq!(target["state"], "failed", "{net:?}");
    assert!(target["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(fake.live_posts().is_empty() || net == Net::Webhook);
    assert_eq!(
        fake.writes().len() - writes_before,
        1,
        "{net:?}: a refused post is not sent again: {:?}",
        fake.writes()
    );
    let status = status_target(&env, &post_id, net.account());
    assert_eq!(status["state"], "failed");
    let attempt = &status["attempts"][0];
    assert_eq!(attempt["outcome"], "failed");
    assert_eq!(attempt["http_status"], refusal(net).as_u16());
    assert!(
        run.stderr.contains(&format!("postctl status {post_id}")),
        "{}",
        run.stderr
    );
    assert_no_secret(&env, &[&run], &[&fake]);
}

every_network!(permanent);

/// A 429 asking for 2 s: longer than the first backoff (0.8 to 1.2 s), so a retry that
/// comes after 2 s read the network's own signal (Retry-After, `retry_after`,
/// `retry_after_ms`, a reset header).
fn rate_limited(net: Net) {
    let fake = Fake::start(net);
    let env = env_with(&fake);
    let started = Instant::now();
    let config = ChaosConfig {
        retry_after: Duration::from_secs(2),
        ..ChaosConfig::failing(1.0, &[Failure::RateLimited], SEED)
    };
    let (run, post_id, target) =
        failing_first_with(&fake, config, 1, || post_json(&env, net, "Patience"));
    assert_eq!(run.code, 0, "{net:?}: {}", run.all_output());
    assert_eq!(target["state"], "published", "{net:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{net:?}: the retry did not wait the 2 s the network asked for ({:?})",
        started.elapsed()
    );
    assert_eq!(fake.chaos().counts().rate_limited, 1);
    assert_eq!(fake.live_posts().len(), 1, "{net:?}");
    let status = status_target(&env, &post_id, net.account());
    assert_eq!(status["state"], "published");
    let outcomes: Vec<(Value, Value)> = status["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| (a["outcome"].clone(), a["http_status"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Value::from("retry"), Value::from(429)),
            (Value::from("published"), Value::Null)
        ],
        "{net:?}"
    );
    assert_no_secret(&env, &[&run], &[&fake]);
}

every_network!(rate_limited);

#[test]
fn a_retry_later_than_post_wait_is_left_to_run_due() {
    let fake = Fake::start(Net::Mastodon);
    let env = env_with(&fake);
    fake.chaos().set(ChaosConfig {
        writes_only: true,
        ..ChaosConfig::failing(1.0, &[Failure::RateLimited], SEED)
    });
    let started = Instant::now();
    let run = env.run(&["--json", "post", "Not now", "--to", "masto", "--wait", "0"]);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "--wait 0 waited"
    );
    assert_eq!(run.code, 3, "{}", run.all_output());
    let out = run.json();
    let target = &out["targets"][0];
    assert_eq!(target["state"], "waiting_retry", "{out}");
    assert!(target["next_attempt"].is_string(), "{out}");
    assert!(fake.posts().is_empty());

    // The next `run-due` (its clock starts at POSTCTL_NOW again) waits out the rest of the
    // network's wait, within its --wait, and publishes.
    fake.chaos().off();
    let later = env.ok(&["--json", "run-due", "--wait", "30"]);
    assert!(
        later.stderr.contains("masto: waits until"),
        "{}",
        later.stderr
    );
    assert_eq!(
        later.json()["outcomes"][0]["state"],
        "published",
        "{}",
        later.stdout
    );
    assert_eq!(fake.posts().len(), 1);
}

/// The network took the post and then answered 503: postctl cannot know, and on a
/// network without idempotency it must not guess.
fn uncertain(net: Net) {
    let fake = Fake::start(net);
    let env = env_with(&fake);
    let (run, post_id, target) = failing_first(&fake, Failure::FailAfterCreate, 1, || {
        post_json(&env, net, "Did it go out?")
    });
    assert_eq!(run.code, 3, "{net:?}: {}", run.all_output());
    assert_eq!(target["state"], "uncertain", "{net:?}");
    let error = target["error"].as_str().unwrap_or_default();
    assert!(error.contains("no way to retry safely"), "{net:?}: {error}");
    assert_eq!(fake.posts().len(), 1, "{net:?}: posted exactly once");
    assert_eq!(
        fake.writes().len(),
        1,
        "{net:?}: never sent again: {:?}",
        fake.writes()
    );

    // Nothing retries it on its own.
    env.ok(&["run-due", "--wait", "0"]);
    assert_eq!(
        fake.posts().len(),
        1,
        "{net:?}: run-due retried an uncertain target"
    );
    assert_eq!(
        status_target(&env, &post_id, net.account())["state"],
        "uncertain"
    );

    let url = "https://example.org/found-it";
    env.ok(&["resolve", &post_id, "--published", url]);
    let status = status_target(&env, &post_id, net.account());
    assert_eq!(status["state"], "published", "{status}");
    assert_eq!(status["parts"][0]["url"], url);
    assert_eq!(status["last_error"], Value::Null);
    env.ok(&["run-due", "--wait", "0"]);
    assert_eq!(fake.posts().len(), 1);
    assert_no_secret(&env, &[&run], &[&fake]);
}

per_network!(uncertain:
    telegram => Net::Telegram,
    discord_webhook => Net::DiscordWebhook,
    slack_webhook => Net::SlackWebhook,
    slack_bot => Net::SlackBot,
    webhook => Net::Webhook,
);

/// The answer comes after postctl's request timeout (1 s here, 3 s answers).
fn uncertain_after_timeout(net: Net) {
    let fake = Fake::start(net);
    let env = env_with(&fake);
    write_config(&env, "", "request_timeout_seconds = 1");
    let started = Instant::now();
    let (run, _, target) = failing_first(&fake, Failure::Slow, 1, || {
        post_json(&env, net, "Slow network")
    });
    assert_eq!(run.code, 3, "{net:?}: {}", run.all_output());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout was not 1 s"
    );
    assert_eq!(target["state"], "uncertain", "{net:?}");
    assert!(
        target["error"]
            .as_str()
            .unwrap_or_default()
            .contains("timed out"),
        "{target}"
    );
    assert_eq!(fake.posts().len(), 1, "{net:?}: posted exactly once");
    assert_no_secret(&env, &[&run], &[&fake]);
}

per_network!(uncertain_after_timeout:
    telegram => Net::Telegram,
    slack_bot => Net::SlackBot,
    webhook => Net::Webhook,
);

#[test]
fn an_uncertain_post_resolved_as_not_published_is_published_again() {
    let fake = Fake::start(Net::Telegram);
    let env = env_with(&fake);
    let (run, post_id, _) = failing_first(&fake, Failure::FailAfterCreate, 1, || {
        post_json(&env, Net::Telegram, "Second chance")
    });
    assert_eq!(run.code, 3, "{}", run.all_output());
    let resolved = env.ok(&["resolve", &post_id, "--not-published"]);
    assert!(resolved.stderr.contains("due again"), "{}", resolved.stderr);
    assert_eq!(status_target(&env, &post_id, "tg")["state"], "scheduled");
    let run = env.ok(&["--json", "run-due"]);
    assert_eq!(
        run.json()["outcomes"][0]["state"],
        "published",
        "{}",
        run.stdout
    );
    assert_eq!(
        fake.posts().len(),
        2,
        "the user said the first did not go out"
    );
    let status = status_target(&env, &post_id, "tg");
    assert_eq!(status["state"], "published");
    assert_eq!(
        status["parts"][0]["url"].as_str(),
        fake.posts()[1].url.as_deref()
    );
}

#[test]
fn an_uncertain_target_says_how_to_resolve_it() {
    let fake = Fake::start(Net::Telegram);
    let env = env_with(&fake);
    let (run, post_id, target) = failing_first(&fake, Failure::FailAfterCreate, 1, || {
        post_json(&env, Net::Telegram, "Did it go out?")
    });
    assert_eq!(run.code, 3, "{}", run.all_output());
    let error = target["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("postctl resolve {post_id}")),
        "{error}"
    );
    assert!(!error.contains("will retry"), "it will not: {error}");
}

#[test]
fn resolve_refuses_a_post_with_nothing_uncertain() {
    let fake = Fake::start(Net::Mastodon);
    let env = env_with(&fake);
    let (run, post_id, _) = post_json(&env, Net::Mastodon, "Fine");
    assert_eq!(run.code, 0);
    let refused = env.fails(
        &["resolve", &post_id, "--published", "https://x.example"],
        2,
    );
    assert!(
        refused.stderr.contains("no uncertain target"),
        "{}",
        refused.stderr
    );
}

/// The same unknown outcome where the network has idempotency: retried with the same key,
/// published exactly once.
fn idempotent(net: Net) {
    let fake = Fake::start(net);
    let env = env_with(&fake);
    let (run, post_id, target) = failing_first(&fake, Failure::FailAfterCreate, 1, || {
        post_json(&env, net, "Exactly once")
    });
    assert_eq!(run.code, 0, "{net:?}: {}", run.all_output());
    assert_eq!(target["state"], "published", "{net:?}");
    let posts = fake.posts();
    assert_eq!(posts.len(), 1, "{net:?} holds it twice: {posts:#?}");
    assert!(posts[0].idempotency_key.is_some(), "{net:?} got no key");
    assert_eq!(fake.chaos().counts().failed_after_create, 1);
    let status = status_target(&env, &post_id, net.account());
    assert_eq!(status["state"], "published");
    assert_eq!(status["parts"].as_array().map(Vec::len), Some(1));
    assert_no_secret(&env, &[&run], &[&fake]);
}

per_network!(idempotent:
    mastodon => Net::Mastodon,
    bluesky => Net::Bluesky,
    discord_bot => Net::DiscordBot,
    matrix => Net::Matrix,
);

/// A timeout on an idempotent network: the retry carries the same key and the network
/// answers with the post it already made.
fn idempotent_after_timeout(net: Net) {
    let fake = Fake::start(net);
    let env = env_with(&fake);
    write_config(&env, "", "request_timeout_seconds = 1");
    let (run, _, target) = failing_first(&fake, Failure::Slow, 1, || {
        post_json(&env, net, "Slow but once")
    });
    assert_eq!(run.code, 0, "{net:?}: {}", run.all_output());
    assert_eq!(target["state"], "published");
    let posts = fake.posts();
    assert_eq!(posts.len(), 1, "{net:?} holds it twice");
    let keys: Vec<_> = fake.writes().iter().map(|w| w.path.clone()).collect();
    assert!(keys.len() >= 2, "{net:?} was not retried: {keys:?}");
    assert_no_secret(&env, &[&run], &[&fake]);
}

per_network!(idempotent_after_timeout:
    mastodon => Net::Mastodon,
    discord_bot => Net::DiscordBot,
    matrix => Net::Matrix,
);
