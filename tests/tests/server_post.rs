//! `postctl post` on a linked database (issue 13): the post goes to the server, which
//! publishes it, and the command waits for the server's result and prints it as the
//! local `post` does. A server that cannot be reached leaves the post queued for the next
//! sync; an account the server lacks is refused before anything is stored. `postctl
//! list` shows the server's results.

mod common;

use std::time::{Duration, Instant};

use common::Env;
use common::server::{Server, device};
use postctl_tests::fakes::mastodon::FakeMastodon;
use serde_json::Value;

/// A command on the real clock, as the server's.
fn live(env: &Env, args: &[&str]) -> common::Run {
    let now = chrono::Utc::now().to_rfc3339();
    env.run_full(args, None, &[("POSTCTL_NOW", now.as_str())])
}

fn ok(run: common::Run) -> common::Run {
    assert_eq!(
        run.code, 0,
        "postctl {:?} failed:\n{}\n{}",
        run.args, run.stdout, run.stderr
    );
    run
}

/// A laptop signed in to `server` with the account masto on `mastodon`, pushed.
fn laptop(server: &Server, mastodon: &FakeMastodon) -> Env {
    server.add_user("alice", &[]);
    let laptop = device(server, "alice");
    laptop.add_mastodon_on("masto", mastodon);
    laptop.ok(&["accounts", "push", "masto"]);
    laptop
}

fn wait_for_posts(mastodon: &FakeMastodon, count: usize) {
    let started = Instant::now();
    while mastodon.posts().len() < count {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not publish: the fake has {} of {count} posts",
            mastodon.posts().len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The posts of `list --json`, by id.
fn listed(env: &Env, id: &str) -> Value {
    let all = ok(live(env, &["--json", "list", "--all"])).json();
    all.as_array()
        .and_then(|posts| posts.iter().find(|p| p["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("post {id} in {all}"))
}

#[test]
fn post_on_a_linked_database_is_published_once_by_the_server_and_prints_its_url() {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    let laptop = laptop(&server, &mastodon);

    let run = ok(live(
        &laptop,
        &["post", "Sent through the server", "--to", "masto"],
    ));
    assert_eq!(mastodon.posts().len(), 1, "published once");
    assert!(mastodon.posts()[0].text.contains("Sent through the server"));
    let line = run.stdout.trim();
    assert!(
        line.starts_with("published  masto  http"),
        "the local post's line, with the network's URL: {line}"
    );
    let url = line.rsplit(' ').next().unwrap_or_default().to_string();

    // `--json` has the local post's shape, and the server's URL.
    let json = ok(live(
        &laptop,
        &["--json", "post", "Again, as JSON", "--to", "masto"],
    ))
    .json();
    assert_eq!(mastodon.posts().len(), 2, "{json}");
    let id = json["post_id"].as_str().expect("post_id").to_string();
    assert_eq!(json["post_ids"], serde_json::json!([id]), "{json}");
    assert_eq!(json["targets"][0]["account"], "masto", "{json}");
    assert_eq!(json["targets"][0]["state"], "published", "{json}");
    assert!(
        json["targets"][0]["urls"][0]
            .as_str()
            .is_some_and(|u| u.starts_with("http") && u != url),
        "{json}"
    );

    // The listing shows the server's result, marked as the server's.
    let table = ok(live(&laptop, &["list", "--all"])).stdout;
    let row = table
        .lines()
        .find(|l| l.contains("Again, as JSON"))
        .unwrap_or_else(|| panic!("the post in {table}"));
    assert!(row.contains("published (server)"), "{table}");
    let post = listed(&laptop, &id);
    assert_eq!(post["published_by"], "server", "{post}");
    assert_eq!(post["targets"][0]["state"], "published", "{post}");
    assert_eq!(post["server_targets"][0]["state"], "published", "{post}");
    assert!(post["server_targets"][0]["url"].is_string(), "{post}");

    // --wait 0 returns once the server has the post; the server publishes it anyway.
    let run = ok(live(
        &laptop,
        &["post", "No waiting", "--to", "masto", "--wait", "0"],
    ));
    assert!(run.stderr.contains("sent to the server"), "{}", run.stderr);
    wait_for_posts(&mastodon, 3);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(mastodon.posts().len(), 3, "published twice");
}

#[test]
fn a_post_made_while_the_server_is_down_waits_for_the_next_sync() {
    let mastodon = FakeMastodon::start();
    let mut server = Server::start();
    let laptop = laptop(&server, &mastodon);
    ok(live(&laptop, &["sync"]));

    server.stop();
    let run = live(&laptop, &["post", "Written on the train", "--to", "masto"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot be reached")
            && run.stderr.contains("waits to be sent")
            && run.stderr.contains("postctl sync"),
        "{}",
        run.stderr
    );
    let posts = ok(live(&laptop, &["--json", "list", "--all"])).json();
    let id = posts[0]["id"]
        .as_str()
        .expect("the queued post")
        .to_string();
    assert_eq!(posts[0]["targets"][0]["state"], "scheduled", "{posts}");
    let status = ok(live(&laptop, &["--json", "sync", "status"])).json();
    assert_eq!(status["pending"]["posts"], 1, "{status}");
    assert!(mastodon.posts().is_empty());

    // Back online: a sync sends it and the server publishes it, once.
    server.restart();
    ok(live(&laptop, &["sync"]));
    wait_for_posts(&mastodon, 1);
    assert!(mastodon.posts()[0].text.contains("Written on the train"));
    let started = Instant::now();
    loop {
        ok(live(&laptop, &["sync"]));
        if listed(&laptop, &id)["targets"][0]["state"] == "published" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "never shown");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(mastodon.posts().len(), 1);
}

#[test]
fn a_post_to_an_account_the_server_lacks_is_refused_and_nothing_is_stored() {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    let laptop = laptop(&server, &mastodon);
    laptop.add_mastodon_on("other", &mastodon);

    let now = chrono::Utc::now().to_rfc3339();
    let refused = laptop.fails_full(
        &["post", "Nowhere to go", "--to", "masto,other"],
        None,
        &[("POSTCTL_NOW", now.as_str())],
        2,
    );
    assert!(
        refused
            .stderr
            .contains("account other is not on the server")
            && refused.stderr.contains("postctl accounts push other")
            && refused.stderr.contains("nothing was stored"),
        "{}",
        refused.stderr
    );
    assert!(mastodon.posts().is_empty());
}
