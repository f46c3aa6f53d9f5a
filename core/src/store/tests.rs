//! The store against real database files.

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::model::{Schedule, TargetState};
use crate::network::{AccountSettings, Network};

fn settings() -> AccountSettings {
    AccountSettings {
        base_url: Some("https://example.org".into()),
        handle: None,
        settings: serde_json::json!({}),
    }
}

fn post_to(accounts: &[&crate::model::Account], due: Option<DateTime<Utc>>) -> NewPost {
    NewPost {
        body: "Hello world".into(),
        title: None,
        labels: vec![],
        media: vec![],
        tz: "Europe/Berlin".into(),
        schedule: if due.is_some() {
            Schedule::At
        } else {
            Schedule::None
        },
        thread: Default::default(),
        targets: accounts
            .iter()
            .map(|a| NewTarget {
                account_id: a.id.clone(),
                due,
            })
            .collect(),
    }
}

#[test]
fn targets_keep_the_order_the_user_named_the_accounts_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    let first = store
        .add_account("first", Network::Mastodon, &settings(), "env:A")
        .expect("account");
    let second = store
        .add_account("second", Network::Mastodon, &settings(), "env:B")
        .expect("account");
    let id = store
        .create_post(&post_to(&[&second, &first], None))
        .expect("post");
    let names: Vec<String> = store
        .post(&id)
        .expect("post")
        .targets
        .into_iter()
        .map(|t| t.account)
        .collect();
    assert_eq!(names, ["second", "first"]);
}

#[test]
fn listings_put_scheduled_posts_by_time_and_drafts_last() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    let account = store
        .add_account("masto", Network::Mastodon, &settings(), "env:A")
        .expect("account");
    let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
    let draft = store
        .create_post(&post_to(&[&account], None))
        .expect("draft");
    let later = store
        .create_post(&post_to(&[&account], Some(t0 + Duration::hours(2))))
        .expect("later");
    let sooner = store
        .create_post(&post_to(&[&account], Some(t0)))
        .expect("sooner");
    let ids = |store: &Store, filter| -> Vec<String> {
        store
            .posts(&filter)
            .expect("list")
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    assert_eq!(
        ids(&store, ListFilter::All),
        [sooner.as_str(), &later, &draft]
    );
    assert_eq!(ids(&store, ListFilter::Upcoming), [sooner.as_str(), &later]);
    assert_eq!(ids(&store, ListFilter::Drafts), [draft.as_str()]);
    store.cancel_post(&sooner).expect("cancel");
    assert_eq!(ids(&store, ListFilter::Upcoming), [later.as_str()]);
    let post = store.post(&sooner).expect("post");
    assert_eq!(post.targets[0].state, TargetState::Cancelled);
}

#[test]
fn a_database_from_a_newer_postctl_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.db");
    drop(Store::open(&path).expect("open"));
    let conn = Connection::open(&path).expect("raw open");
    conn.pragma_update(None, "user_version", 99).expect("bump");
    drop(conn);
    let err = Store::open(&path).expect_err("newer");
    assert!(matches!(err, Error::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("upgrade postctl"), "{err}");
}

#[test]
fn concurrent_writers_on_one_file_lose_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.db");
    let mut store = Store::open(&path).expect("open");
    let account = store
        .add_account("masto", Network::Mastodon, &settings(), "env:A")
        .expect("account");
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            let account = account.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).expect("open");
                for _ in 0..25 {
                    store
                        .create_post(&post_to(&[&account], None))
                        .expect("write under contention");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer");
    }
    assert_eq!(store.posts(&ListFilter::All).expect("list").len(), 100);
    let created = store
        .operations_since(0)
        .expect("oplog")
        .into_iter()
        .filter(|op| op.entity == "post" && op.field == "created")
        .count();
    assert_eq!(created, 100);
}

#[test]
fn split_post_moves_targets_to_a_new_post_with_its_own_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    let masto = store
        .add_account("masto", Network::Mastodon, &settings(), "env:A")
        .expect("account");
    let bsky = store
        .add_account("bsky", Network::Bluesky, &settings(), "env:B")
        .expect("account");
    let due = Utc
        .with_ymd_and_hms(2030, 1, 2, 9, 0, 0)
        .single()
        .expect("time");
    let mut post = post_to(&[&masto, &bsky], Some(due));
    post.labels = vec!["launch".into()];
    let id = store.create_post(&post).expect("post");

    let new_id = store
        .split_post(&id, std::slice::from_ref(&bsky.id), "Short for Bluesky")
        .expect("split");

    let moved = store.post(&new_id).expect("new post");
    assert_eq!(moved.body, "Short for Bluesky");
    assert_eq!(moved.labels, ["launch"]);
    assert_eq!(moved.due, Some(due));
    assert_eq!(moved.schedule, Schedule::At);
    let states: Vec<(String, TargetState)> = moved
        .targets
        .iter()
        .map(|t| (t.account.clone(), t.state))
        .collect();
    assert_eq!(states, [("bsky".to_string(), TargetState::Scheduled)]);

    let original = store.post(&id).expect("original");
    assert_eq!(original.body, "Hello world");
    let pending: Vec<&str> = original
        .targets
        .iter()
        .filter(|t| t.state == TargetState::Scheduled)
        .map(|t| t.account.as_str())
        .collect();
    assert_eq!(
        pending,
        ["masto"],
        "bsky no longer goes out with the original"
    );

    // A target already gone cannot move, and nothing changes.
    let err = store.split_post(&id, std::slice::from_ref(&bsky.id), "again");
    assert!(err.is_err());
    assert_eq!(store.posts(&ListFilter::All).expect("posts").len(), 2);
}
