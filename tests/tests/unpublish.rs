//! End to end: `postctl unpublish` deletes every part of a published post from its network.

#[macro_use]
mod common;

use common::Env;
use common::networks::{Fake, Net, long_text};

fn published_thread(net: Net) -> (Fake, Env, String) {
    let fake = Fake::start(net);
    let env = Env::with_fakes([&fake]);
    // Three paragraphs of about 220 characters: a thread on Mastodon (500).
    let paragraph = long_text(4);
    let text = [paragraph.as_str(); 3].join("\n\n");
    let run = env.run(&["--json", "post", &text, "--to", net.account()]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let post_id = run.json()["post_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (fake, env, post_id)
}

#[test]
fn every_part_of_a_thread_is_deleted_and_the_target_withdrawn() {
    let (fake, env, post_id) = published_thread(Net::Mastodon);
    let parts = fake.live_posts().len();
    assert!(parts >= 2, "expected a thread, got {parts} part(s)");
    let run = env.run(&["--json", "unpublish", &post_id, "--yes"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(run.json()[0]["deleted_parts"], parts, "{}", run.stdout);
    assert!(fake.live_posts().is_empty(), "parts left on the network");
    let status = env.json(&["status", &post_id]);
    assert_eq!(status["targets"][0]["state"], "cancelled", "{status}");
    // Nothing published any more: a second unpublish has nothing to do.
    env.fails(&["unpublish", &post_id, "--yes"], 2);
}

#[test]
fn without_a_terminal_it_asks_for_yes_and_deletes_nothing() {
    let (fake, env, post_id) = published_thread(Net::Mastodon);
    let before = fake.live_posts().len();
    let refused = env.fails(&["unpublish", &post_id], 2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(fake.live_posts().len(), before);
}

#[test]
fn a_network_that_cannot_delete_is_reported_and_the_target_kept() {
    let (fake, env, post_id) = published_thread(Net::Webhook);
    let run = env.run(&["unpublish", &post_id, "--yes"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(run.stderr.contains("cannot delete"), "{}", run.stderr);
    let status = env.json(&["status", &post_id]);
    assert_eq!(status["targets"][0]["state"], "published", "{status}");
    drop(fake);
}
