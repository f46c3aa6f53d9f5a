//! The server's integrations from the CLI (issue 14): `postctl webhooks` and `postctl
//! triggers` over a device's session, against a real `postctl-server` process on a free
//! loopback port. Deliveries reach a receiver in the tests crate (`FakeWebhook`) that checks
//! each Standard Webhooks signature with its own HMAC, not the server's signing code; a
//! GitHub release is signed here with the `hmac` crate as GitHub signs it.

mod common;

use std::time::{Duration, Instant};

use common::Env;
use common::server::{PASSWORD, Server, github_signature, token};
use postctl_tests::fakes::{FakeWebhook, ReceivedWebhook};
use serde_json::{Value, json};

/// Waits until the receiver has `n` deliveries.
fn wait_for(receiver: &FakeWebhook, n: usize) -> Vec<ReceivedWebhook> {
    let started = Instant::now();
    loop {
        let seen = receiver.deliveries();
        if seen.len() >= n {
            return seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} of {n} deliveries arrived",
            seen.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn body_of(delivery: &ReceivedWebhook) -> Value {
    serde_json::from_slice(&delivery.body).expect("a JSON body")
}

#[test]
fn webhooks_from_the_cli_reach_a_receiver_signed() {
    let server = Server::start_with(&[("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS", "true")]);
    server.add_user("alice", &[]);
    let env = Env::new();
    env.ok_full(
        &["login", &server.base, "--user", "alice", "--password-stdin"],
        Some(PASSWORD),
        &[],
    );
    let receiver = FakeWebhook::start();
    let url = receiver.url("/hooks/postctl");

    // Bad input: a clear refusal, exit 2, nothing made.
    let run = env.fails(&["webhooks", "add", &url, "--events", "post.nope"], 2);
    assert!(
        run.stderr.contains("post.published"),
        "names the event types: {}",
        run.stderr
    );
    assert_eq!(env.json(&["webhooks", "list", "--json"]), json!([]));

    let made = env.json(&[
        "webhooks",
        "add",
        &url,
        "--events",
        "post.scheduled,post.published",
        "--json",
    ]);
    let id = made["id"].as_str().expect("id").to_string();
    let secret = made["secret"]
        .as_str()
        .expect("the secret, once")
        .to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let human = env.ok(&["webhooks", "list"]);
    assert!(human.stdout.contains(&id), "{}", human.stdout);
    assert!(human.stdout.contains("post.scheduled,post.published"));
    let listed = env.ok(&["webhooks", "list", "--json"]);
    assert!(!listed.stdout.contains(&secret), "the secret is shown once");
    assert_eq!(listed.json()[0]["url"], url.as_str());

    // A ping, verified by the receiver's own HMAC.
    env.ok(&["webhooks", "ping", &id]);
    let seen = wait_for(&receiver, 1);
    seen[0].verify(&secret).expect("the ping is signed");
    assert_eq!(body_of(&seen[0])["type"], "ping");
    assert!(seen[0].verify(&format!("{secret}x")).is_err());

    let deliveries = env.json(&["webhooks", "deliveries", &id, "--json"]);
    let delivery = deliveries[0]["id"]
        .as_str()
        .expect("delivery id")
        .to_string();
    assert_eq!(deliveries[0]["event_type"], "ping");
    let table = env.ok(&["webhooks", "deliveries", &id]);
    assert!(table.stdout.contains(&delivery), "{}", table.stdout);

    // Redelivered: the same event under a new webhook-id.
    let again = env.json(&["webhooks", "redeliver", &delivery, "--json"]);
    assert_eq!(again["redelivery_of"], delivery.as_str());
    let seen = wait_for(&receiver, 2);
    seen[1].verify(&secret).expect("the redelivery is signed");
    assert_ne!(seen[1].header("webhook-id"), seen[0].header("webhook-id"));
    assert_eq!(seen[1].body, seen[0].body);
    let run = env.fails(
        &[
            "webhooks",
            "redeliver",
            "0193a1b2-0000-7000-8000-000000000000",
        ],
        2,
    );
    assert!(run.stderr.contains("no delivery"), "{}", run.stderr);

    // Disabled by hand, the endpoint gets no ping; enabled again, it is listed so.
    let off = env.json(&["webhooks", "disable", &id, "--json"]);
    assert_eq!(off["enabled"], false, "{off}");
    let listed = env.ok(&["webhooks", "list"]);
    assert!(listed.stdout.contains("disabled"), "{}", listed.stdout);
    let run = env.run(&["webhooks", "ping", &id]);
    assert_ne!(run.code, 0, "a ping to a disabled endpoint");
    assert!(run.stderr.contains("disabled"), "{}", run.stderr);
    let on = env.ok(&["webhooks", "enable", &id]);
    assert!(on.stderr.contains("enabled again"), "{}", on.stderr);
    assert_eq!(
        env.json(&["webhooks", "list", "--json"])[0]["enabled"],
        true
    );
    assert_eq!(
        receiver.deliveries().len(),
        2,
        "nothing sent while disabled"
    );

    // A trigger: a GitHub release becomes a post, whose post.scheduled reaches the receiver.
    let session = token(&env);
    let (status, account) = server.request(
        "POST",
        "/api/v1/accounts",
        &[("Authorization", &format!("Bearer {session}"))],
        &json!({
            "name": "masto", "network": "mastodon", "base_url": "https://social.example.test",
            "credentials": { "token": "a-mastodon-token" },
        })
        .to_string(),
    );
    assert_eq!(status, 201, "{account}");
    let run = env.fails(
        &[
            "triggers",
            "add",
            "github",
            "--template",
            "nope",
            "--to",
            "masto",
        ],
        2,
    );
    assert!(run.stderr.contains("no template"), "{}", run.stderr);
    let trigger = env.json(&[
        "triggers",
        "add",
        "github",
        "--template",
        "release",
        "--to",
        "masto",
        "--json",
    ]);
    let trigger_id = trigger["id"].as_str().expect("id").to_string();
    let github_secret = trigger["secret"].as_str().expect("secret").to_string();
    let trigger_url = trigger["url"].as_str().expect("url").to_string();
    assert_eq!(
        trigger_url,
        format!("{}/api/v1/triggers/github/{trigger_id}", server.base)
    );
    let listed = env.ok(&["triggers", "list", "--json"]);
    assert!(!listed.stdout.contains(&github_secret));
    assert_eq!(listed.json()[0]["accounts"], json!(["masto"]));
    let release = json!({
        "action": "published",
        "release": {
            "id": 170_001, "tag_name": "v3.1.0", "name": "v3.1.0", "draft": false,
            "prerelease": false, "body": "Fixes.",
            "html_url": "https://github.com/octo-org/hello-world/releases/tag/v3.1.0",
            "published_at": "2026-12-06T10:05:00Z",
        },
        "repository": {
            "name": "hello-world", "full_name": "octo-org/hello-world",
            "html_url": "https://github.com/octo-org/hello-world",
        },
        "sender": { "login": "octocat" },
    })
    .to_string();
    let path = trigger_url.trim_start_matches(&server.base).to_string();
    let signature = github_signature(&github_secret, &release);
    let headers = [
        ("X-GitHub-Event", "release"),
        ("X-Hub-Signature-256", signature.as_str()),
    ];
    let (status, post) = server.request("POST", &path, &headers, &release);
    assert_eq!(status, 201, "{post}");
    let (status, again) = server.request("POST", &path, &headers, &release);
    assert_eq!((status, &again["duplicate"]), (200, &json!(true)));
    let seen = wait_for(&receiver, 3);
    seen[2].verify(&secret).expect("post.scheduled is signed");
    let event = body_of(&seen[2]);
    assert_eq!(event["type"], "post.scheduled");
    assert_eq!(event["data"]["post"]["id"], post["id"]);
    assert_eq!(
        event["data"]["post"]["body"],
        "hello-world v3.1.0 is out 🎉\n\nhttps://github.com/octo-org/hello-world/releases/tag/v3.1.0"
    );
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(receiver.deliveries().len(), 3, "one event for one release");

    env.ok(&["triggers", "remove", &trigger_id]);
    assert_eq!(env.json(&["triggers", "list", "--json"]), json!([]));
    env.ok(&["webhooks", "remove", &id]);
    assert_eq!(env.json(&["webhooks", "list", "--json"]), json!([]));
    env.fails(&["webhooks", "remove", &id], 2);
}

#[test]
fn integrations_need_a_linked_server() {
    let env = Env::new();
    let run = env.fails(&["webhooks", "list"], 2);
    assert!(run.stderr.contains("postctl login URL"), "{}", run.stderr);
    let run = env.fails(&["triggers", "list"], 2);
    assert!(run.stderr.contains("postctl login URL"), "{}", run.stderr);
}
