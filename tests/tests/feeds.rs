//! `postctl feeds` (issue 14) against real `postctl-server` processes and a feed server in
//! the tests crate (`FakeFeed`, which answers conditional GETs with 304): RSS and Atom
//! items that appear after the first poll become one post each through the template, a
//! 304 changes nothing, an item that comes back under a new id is not posted again, a
//! malformed feed is the feed's last error, and two processes polling one feed post each
//! item once.

mod common;

use std::time::Duration;

use common::server::{MAKER_SETTINGS, Server, device, token};
use common::{Env, wait_for};
use postctl_tests::fakes::{FakeFeed, FeedEntry};
use serde_json::{Value, json};

/// A server with alice, her device, an account `masto` and a template `blog`.
fn setup() -> (Server, Env, String) {
    let server = Server::start_with(MAKER_SETTINGS);
    server.add_user("alice", &[]);
    let env = device(&server, "alice");
    let session = token(&env);
    server.add_mastodon(
        &session,
        "masto",
        "https://social.example.test",
        "a-mastodon-token",
    );
    server.put_template(
        &session,
        "blog",
        "New: {{ title }} ({{ feed.title }})\n\n{{ link }}",
    );
    (server, env, session)
}

/// The workspace's post bodies, oldest first.
fn bodies(server: &Server, session: &str) -> Vec<String> {
    let (status, page) = server.get("/api/v1/posts?limit=100", session);
    assert_eq!(status, 200, "{page}");
    let mut bodies: Vec<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["body"].as_str().unwrap_or_default().to_string())
        .collect();
    bodies.reverse();
    bodies
}

fn feeds(env: &Env) -> Value {
    env.json(&["feeds", "list", "--json"])
}

fn add(env: &Env, url: &str) -> String {
    let made = env.json(&[
        "feeds",
        "add",
        url,
        "--to",
        "masto",
        "--template",
        "blog",
        "--json",
    ]);
    made["id"].as_str().expect("id").to_string()
}

/// Waits until the feed has been read once (its items then are history).
fn wait_first_poll(env: &Env) {
    wait_for(Duration::from_secs(30), "the first poll", || {
        !feeds(env)[0]["last_polled_at"].is_null()
    });
}

#[test]
fn rss_items_become_one_post_each() {
    let (server, env, session) = setup();
    let feed = FakeFeed::start();
    let old = FeedEntry::new("post-1", "Hello world", "https://blog.example.test/1");
    feed.set_rss(std::slice::from_ref(&old));

    // Bad input: a clear refusal, exit 2, nothing made.
    let run = env.fails(
        &[
            "feeds",
            "add",
            &feed.url(),
            "--to",
            "masto",
            "--template",
            "nope",
        ],
        2,
    );
    assert!(run.stderr.contains("no template"), "{}", run.stderr);
    let run = env.fails(
        &[
            "feeds",
            "add",
            "not a url",
            "--to",
            "masto",
            "--template",
            "blog",
        ],
        2,
    );
    assert!(run.stderr.contains("not a URL"), "{}", run.stderr);
    assert_eq!(feeds(&env), json!([]));

    let id = add(&env, &feed.url());
    wait_first_poll(&env);
    assert_eq!(feeds(&env)[0]["last_error"], Value::Null);
    // What was there when the feed was added is not news.
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(bodies(&server, &session).is_empty());
    // Unchanged: conditional GETs answered 304, still nothing.
    wait_for(Duration::from_secs(30), "a 304", || {
        feed.not_modified() >= 1
    });
    assert!(feed.conditional() >= 1);

    let new = FeedEntry::new("post-2", "Fast & small", "https://blog.example.test/2");
    feed.set_rss(&[new.clone(), old.clone()]);
    wait_for(Duration::from_secs(30), "the new item's post", || {
        !bodies(&server, &session).is_empty()
    });
    assert_eq!(
        bodies(&server, &session),
        vec!["New: Fast & small (Octo blog)\n\nhttps://blog.example.test/2".to_string()]
    );

    // The same items under new ids (links unchanged), and then one more: one post more.
    let renamed = |e: &FeedEntry| FeedEntry {
        id: Some(format!("{}-v2", e.id.as_deref().unwrap_or_default())),
        ..e.clone()
    };
    feed.set_rss(&[renamed(&new), renamed(&old)]);
    let requests = feed.requests();
    wait_for(Duration::from_secs(30), "two more polls", || {
        feed.requests() >= requests + 2
    });
    assert_eq!(
        bodies(&server, &session).len(),
        1,
        "no repost of a renamed item"
    );
    let third = FeedEntry::new("post-3", "Third", "https://blog.example.test/3");
    feed.set_rss(&[third, renamed(&new), renamed(&old)]);
    wait_for(Duration::from_secs(30), "the third item's post", || {
        bodies(&server, &session).len() == 2
    });
    let requests = feed.requests();
    wait_for(Duration::from_secs(30), "two more polls", || {
        feed.requests() >= requests + 2
    });
    assert_eq!(bodies(&server, &session).len(), 2);

    let human = env.ok(&["feeds", "list"]);
    assert!(human.stdout.contains(&id), "{}", human.stdout);
    assert!(human.stdout.contains("masto"), "{}", human.stdout);
    env.ok(&["feeds", "remove", &id]);
    assert_eq!(feeds(&env), json!([]));
    env.fails(&["feeds", "remove", &id], 2);
}

#[test]
fn atom_entries_become_posts_and_a_malformed_feed_is_its_last_error() {
    let (server, env, session) = setup();
    let feed = FakeFeed::start();
    let first = FeedEntry::new("urn:uuid:1", "v1.0", "https://example.test/v1.0");
    feed.set_atom(std::slice::from_ref(&first));
    add(&env, &feed.url());
    wait_first_poll(&env);
    let second = FeedEntry::new("urn:uuid:2", "v1.1", "https://example.test/v1.1");
    feed.set_atom(&[second.clone(), first.clone()]);
    wait_for(Duration::from_secs(30), "the entry's post", || {
        !bodies(&server, &session).is_empty()
    });
    assert_eq!(
        bodies(&server, &session),
        vec!["New: v1.1 (Octo releases)\n\nhttps://example.test/v1.1".to_string()]
    );

    // Broken XML: the feed says why, the server goes on.
    feed.set(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>",
        "application/atom+xml",
    );
    wait_for(Duration::from_secs(30), "the error", || {
        !feeds(&env)[0]["last_error"].is_null()
    });
    let error = feeds(&env)[0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("not an RSS or Atom feed"), "{error}");
    let human = env.ok(&["feeds", "list"]);
    assert!(
        human.stdout.contains("not an RSS or Atom feed"),
        "{}",
        human.stdout
    );
    // An HTML page is no feed either.
    feed.set("<html><body>Moved</body></html>", "text/html");
    wait_for(Duration::from_secs(30), "the error", || {
        feeds(&env)[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("<html>"))
    });
    // Mended, with one more entry: the error goes, the entry posts, the old ones do not.
    let third = FeedEntry::new("urn:uuid:3", "v1.2", "https://example.test/v1.2");
    feed.set_atom(&[third, second, first]);
    wait_for(Duration::from_secs(30), "the mended feed's post", || {
        bodies(&server, &session).len() == 2
    });
    wait_for(Duration::from_secs(30), "the error to clear", || {
        feeds(&env)[0]["last_error"].is_null()
    });
    assert_eq!(bodies(&server, &session).len(), 2);
}

#[test]
fn two_processes_post_each_item_once() {
    let (server, env, session) = setup();
    let second = server.another(MAKER_SETTINGS);
    let feed = FakeFeed::start();
    let mut entries = vec![FeedEntry::new("0", "Item 0", "https://blog.example.test/0")];
    feed.set_rss(&entries);
    add(&env, &feed.url());
    wait_first_poll(&env);
    for n in 1..=10 {
        entries.insert(
            0,
            FeedEntry::new(
                &n.to_string(),
                &format!("Item {n}"),
                &format!("https://blog.example.test/{n}"),
            ),
        );
        feed.set_rss(&entries);
        std::thread::sleep(Duration::from_millis(300));
    }
    wait_for(Duration::from_secs(30), "ten posts", || {
        bodies(&server, &session).len() >= 10
    });
    // More polls from both processes: still one post per item.
    let requests = feed.requests();
    wait_for(Duration::from_secs(30), "more polls", || {
        feed.requests() >= requests + 4
    });
    let made = bodies(&server, &session);
    assert_eq!(made.len(), 10, "{made:#?}");
    for n in 1..=10 {
        let expected = format!("New: Item {n} (Octo blog)\n\nhttps://blog.example.test/{n}");
        assert_eq!(
            made.iter().filter(|b| **b == expected).count(),
            1,
            "{made:#?}"
        );
    }
    drop(second);
}

#[test]
fn feeds_need_a_linked_server() {
    let env = Env::new();
    let run = env.fails(&["feeds", "list"], 2);
    assert!(run.stderr.contains("postctl login URL"), "{}", run.stderr);
}
