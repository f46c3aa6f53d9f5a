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

/// A linked database never publishes its posts: what the server reports decides whether
/// one is still upcoming, or needs the user.
#[test]
fn the_servers_reports_decide_upcoming_and_failed_posts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    let account = store
        .add_account("masto", Network::Mastodon, &settings(), "env:A")
        .expect("account");
    let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
    let [published, failed, held, unreported] = [0, 1, 2, 3].map(|h| {
        store
            .create_post(&post_to(&[&account], Some(t0 + Duration::hours(h))))
            .expect("post")
    });
    let report = |post: &str, state: &str| crate::sync::client::PublishedTarget {
        post: post.to_string(),
        account: "masto".into(),
        network: "mastodon".into(),
        state: state.into(),
        due_ms: None,
        url: None,
        attempt_count: 1,
        last_error: None,
        updated_ms: 1,
    };
    store
        .save_server_targets(
            &[
                report(&published, "published"),
                report(&failed, "failed"),
                report(&held, "awaiting_approval"),
            ],
            1,
        )
        .expect("save");
    let ids = |filter| -> Vec<String> {
        store
            .posts(&filter)
            .expect("list")
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    assert_eq!(ids(ListFilter::Upcoming), [held.as_str(), &unreported]);
    assert_eq!(ids(ListFilter::Failed), [failed.as_str()]);
    assert_eq!(store.count_posts(&ListFilter::Upcoming).expect("count"), 2);
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

#[test]
fn a_listing_streams_in_order_and_stops_at_its_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    let account = store
        .add_account("masto", Network::Mastodon, &settings(), "env:A")
        .expect("account");
    let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
    for i in [3, 1, 2] {
        store
            .create_post(&post_to(&[&account], Some(t0 + Duration::hours(i))))
            .expect("scheduled");
    }
    for _ in 0..2 {
        store
            .create_post(&post_to(&[&account], None))
            .expect("draft");
    }
    let all: Vec<String> = store
        .posts(&ListFilter::All)
        .expect("posts")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(all.len(), 5);
    for limit in [1, 3, 4, 5, 9] {
        let mut streamed = Vec::new();
        store
            .each_post(&ListFilter::All, Some(limit), |post| {
                streamed.push(post.id);
                Ok(())
            })
            .expect("each");
        assert_eq!(streamed, all[..limit.min(5)], "limit {limit}");
    }
    assert_eq!(store.count_posts(&ListFilter::All).expect("count"), 5);
    assert_eq!(store.count_posts(&ListFilter::Drafts).expect("count"), 2);
    // An error from the caller stops the listing and comes back.
    let mut seen = 0;
    let stopped = store.each_post(&ListFilter::All, None, |_| {
        seen += 1;
        Err(Error::Invalid("stop".into()))
    });
    assert!(matches!(stopped, Err(Error::Invalid(_))), "{stopped:?}");
    assert_eq!(seen, 1);
}

#[test]
fn short_ids_are_unique_among_every_post_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    // Ids chosen to share long prefixes, as an import keeps them.
    let ids = [
        "0190aaaa-0000-7000-8000-000000000001",
        "0190aaaa-0000-7000-8000-000000000002",
        "0190aaaa-1000-7000-8000-000000000003",
        "0190bbbb-0000-7000-8000-000000000004",
        "0290cccc-0000-7000-8000-000000000005",
    ];
    let post = post_to(&[], None);
    let writes: Vec<ImportWrite<'_>> = ids
        .iter()
        .map(|id| ImportWrite::Create {
            id: Some(id),
            post: &post,
        })
        .collect();
    store.import_posts(&writes).expect("import");
    let short = short_ids(&store, &ids).expect("short ids");
    for id in ids {
        let shortest = (8..=id.len())
            .map(|len| &id[..len])
            .find(|prefix| ids.iter().filter(|o| o.starts_with(prefix)).count() == 1)
            .expect("a unique prefix");
        assert_eq!(short[id], shortest, "{id}");
        assert_eq!(store.resolve_post_id(&short[id]).expect("resolves"), id);
    }
}

#[test]
fn a_bulk_import_leaves_the_file_packed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    let accounts: Vec<_> = (0..4)
        .map(|i| {
            store
                .add_account(&format!("a{i}"), Network::Mastodon, &settings(), "env:A")
                .expect("account")
        })
        .collect();
    let start = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
    let posts: Vec<NewPost> = (0..posts::BULK_IMPORT)
        .map(|i| {
            let due = start + Duration::minutes(37 * i as i64);
            let mut post = post_to(&[&accounts[i % accounts.len()]], Some(due));
            post.body = format!("Post {i}: the launch notes, part {i}");
            post
        })
        .collect();
    let writes: Vec<ImportWrite<'_>> = posts
        .iter()
        .map(|post| ImportWrite::Create { id: None, post })
        .collect();
    store.import_posts(&writes).expect("import");
    let pages = |store: &Store| -> i64 {
        store
            .conn()
            .query_row("PRAGMA page_count", [], |row| row.get(0))
            .expect("page count")
    };
    // Packed already: rewriting the file again gains nothing (unpacked, it gains 5%).
    let imported = pages(&store);
    store.conn().execute_batch("VACUUM").expect("vacuum");
    assert_eq!(
        pages(&store),
        imported,
        "the import left index pages half full"
    );
}

#[test]
fn the_oplog_does_not_hold_post_texts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    let account = store
        .add_account("masto", Network::Mastodon, &settings(), "env:A")
        .expect("account");
    let mut post = post_to(&[&account], None);
    post.body = "The first text, written once".into();
    let id = store.create_post(&post).expect("post");
    let first_entries = store.operations_since(0).expect("oplog").len();
    let change = PostChange {
        body: Some("The second text, written once".into()),
        title: Some(Some("A title written once".into())),
        ..PostChange::default()
    };
    store.update_post(&id, &change, None).expect("edit");
    let operations = store.operations_since(0).expect("oplog");
    // The account's entry and the post's: its target is in the post's entry.
    assert_eq!(first_entries, 2, "{operations:?}");
    let fields: Vec<&str> = operations.iter().map(|op| op.field.as_str()).collect();
    assert!(
        fields.contains(&"created") && fields.contains(&"body"),
        "{fields:?}"
    );
    for op in &operations {
        let value = op.value.as_deref().unwrap_or("");
        assert!(!value.contains("written once"), "{op:?}");
    }
    assert_eq!(
        store.post(&id).expect("post").body,
        "The second text, written once"
    );
}

/// A database from before the oplog stopped copying texts: the migration drops the copies
/// and the file shrinks.
#[test]
fn the_migration_drops_texts_from_the_oplog_and_shrinks_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.db");
    let text = "A long post text that the oplog used to hold a second time. ".repeat(20);
    {
        let mut store = Store::open(&path).expect("open");
        let account = store
            .add_account("masto", Network::Mastodon, &settings(), "env:A")
            .expect("account");
        let due = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
        let mut post = post_to(&[&account], Some(due));
        post.body = text.clone();
        let posts = vec![post; 500];
        let ids = store.create_posts(&posts).expect("posts");
        // What the previous version wrote: the text, title and labels again in each new
        // post's entry, an entry per new target, an index by entity; and its version.
        let conn = store.conn();
        conn.execute(
            "UPDATE oplog SET value = json_set(value, '$.body', ?1, '$.title', 'A title',
                                               '$.labels', json('[\"launch\"]'))
             WHERE entity = 'post' AND field = 'created'",
            [&text],
        )
        .expect("old created");
        conn.execute(
            "INSERT INTO oplog (at_ms, device, entity, entity_id, field, value)
             SELECT o.at_ms, o.device, 'target', t.id, 'created',
                    json_object('post', t.post_id, 'account', t.account_id, 'state', t.state)
             FROM oplog o JOIN targets t ON t.post_id = o.entity_id
             WHERE o.entity = 'post' AND o.field = 'created'",
            [],
        )
        .expect("old target entries");
        conn.execute_batch("CREATE INDEX oplog_by_entity ON oplog(entity, entity_id)")
            .expect("old index");
        conn.execute(
            "INSERT INTO oplog (at_ms, device, entity, entity_id, field, value)
             VALUES (0, 'd', 'post', ?1, 'body', json_quote(?2))",
            rusqlite::params![ids[0], text],
        )
        .expect("old body edit");
        conn.execute_batch(
            "DROP INDEX posts_by_schedule_due; DROP INDEX targets_by_state_account;
             DROP INDEX posts_upcoming; DROP TRIGGER targets_pending_insert;
             DROP TRIGGER targets_pending_delete; DROP TRIGGER targets_pending_update;
             ALTER TABLE posts DROP COLUMN pending;
             ALTER TABLE accounts DROP COLUMN needs_sign_in; DROP TABLE sign_in_locks;
             ALTER TABLE targets DROP COLUMN in_flight_stage;
             DROP TABLE metric_snapshots; DROP TABLE metric_daily; DROP TABLE metric_targets;
             DROP TABLE account_daily; DROP TABLE metric_accounts;
             DROP TABLE update_sources; DROP TABLE pushed_reactions;
             DROP TABLE sync_link; DROP TABLE sync_conflicts; DROP INDEX oplog_post_fields;
             DROP TABLE circuits; DROP TABLE sync_held;
             ALTER TABLE posts DROP COLUMN target_names; DROP TABLE sync_server_accounts;
             DROP TABLE server_targets;",
        )
        .expect("old schema");
        // The version before migration 7 (later migrations are undone above; 9 only
        // rewrites triggers and removes removed posts from search, of which there are none).
        conn.pragma_update(None, "user_version", 6)
            .expect("old version");
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .expect("checkpoint");
    }
    let before = std::fs::metadata(&path).expect("size").len();
    let store = Store::open(&path).expect("migrate");
    let after = std::fs::metadata(&path).expect("size").len();
    // At least half of what the 500 copies took is given back.
    let copies = 500 * text.len() as u64;
    assert!(
        after + copies / 2 < before,
        "{before} bytes before, {after} after"
    );
    let operations = store.operations_since(0).expect("oplog");
    assert!(
        operations
            .iter()
            .all(|op| !op.value.as_deref().unwrap_or("").contains("oplog used to")),
        "texts left in the oplog"
    );
    assert_eq!(
        operations.len(),
        1 + 500 + 1,
        "the account, one entry per post, the edit"
    );
    let created = operations
        .iter()
        .find(|op| op.entity == "post" && op.field == "created")
        .and_then(|op| op.value.as_deref())
        .expect("a new post's entry");
    let created: serde_json::Value = serde_json::from_str(created).expect("JSON");
    assert_eq!(created["chars"], text.chars().count());
    assert!(
        created.get("title").is_none() && created.get("labels").is_none(),
        "{created}"
    );
    assert_eq!(
        created["accounts"].as_array().map(Vec::len),
        Some(1),
        "{created}"
    );
    let body_edit = operations
        .iter()
        .find(|op| op.field == "body")
        .expect("the body edit stays");
    assert_eq!(
        body_edit.value.as_deref(),
        Some(format!("{{\"chars\":{}}}", text.chars().count()).as_str())
    );
    assert_eq!(store.posts(&ListFilter::All).expect("posts").len(), 500);
    // Each post's targets still to publish were counted.
    assert_eq!(
        store.count_posts(&ListFilter::Upcoming).expect("count"),
        500
    );
    assert_eq!(store.posts(&ListFilter::All).expect("posts")[0].body, text);
}

/// `pending`, which the upcoming listing reads, follows every change of a target's state.
#[test]
fn the_upcoming_listing_follows_every_target_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    let a = store
        .add_account("a", Network::Mastodon, &settings(), "env:A")
        .expect("account");
    let b = store
        .add_account("b", Network::Mastodon, &settings(), "env:B")
        .expect("account");
    let t0 = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
    let upcoming = |store: &Store| -> Vec<String> {
        let listed: Vec<String> = store
            .posts(&ListFilter::Upcoming)
            .expect("upcoming")
            .into_iter()
            .map(|p| p.id)
            .collect();
        // What the targets say, asked directly (the migration's triggers spell the set out;
        // this holds them to it).
        let mut stmt = store
            .conn()
            .prepare(&format!(
                "SELECT p.id FROM posts p WHERE p.deleted_ms IS NULL AND EXISTS (
                     SELECT 1 FROM targets t WHERE t.post_id = p.id AND t.state IN {})
                 ORDER BY p.due_ms, p.seq",
                *super::states::PENDING
            ))
            .expect("prepare");
        let truth: Vec<String> = stmt
            .query_map([], |row| row.get(0))
            .and_then(|rows| rows.collect())
            .expect("truth");
        assert_eq!(listed, truth);
        assert_eq!(
            store.count_posts(&ListFilter::Upcoming).expect("count"),
            truth.len()
        );
        listed
    };
    let both = store
        .create_post(&post_to(&[&a, &b], Some(t0)))
        .expect("post");
    let draft = store.create_post(&post_to(&[&a], None)).expect("draft");
    assert_eq!(upcoming(&store), [both.as_str()]);

    // One account removed, then the other cancelled: nothing pending.
    let only_b = PostChange {
        accounts: Some(vec![b.id.clone()]),
        ..PostChange::default()
    };
    store.update_post(&both, &only_b, None).expect("edit");
    assert_eq!(upcoming(&store), [both.as_str()]);
    store.cancel_post(&both).expect("cancel");
    assert!(upcoming(&store).is_empty());

    // Scheduled again, and the draft scheduled too; a new account added.
    let at = |due| ScheduleChange {
        schedule: Schedule::At,
        due,
        tz: "UTC".into(),
        per_account: Default::default(),
    };
    store
        .update_post(&both, &PostChange::default(), Some(&at(t0)))
        .expect("reschedule");
    store
        .update_post(
            &draft,
            &PostChange::default(),
            Some(&at(t0 + Duration::hours(1))),
        )
        .expect("schedule the draft");
    let with_a = PostChange {
        accounts: Some(vec![b.id.clone(), a.id.clone()]),
        ..PostChange::default()
    };
    store.update_post(&both, &with_a, None).expect("add a");
    assert_eq!(upcoming(&store), [both.as_str(), draft.as_str()]);

    // Published by the publisher (its own statements), and removed.
    store
        .conn()
        .execute(
            "UPDATE targets SET state = 'published' WHERE post_id = ?1",
            [&draft],
        )
        .expect("published");
    assert_eq!(upcoming(&store), [both.as_str()]);
    store.delete_post(&both).expect("delete");
    assert!(upcoming(&store).is_empty());
}

/// Search indexes live posts only, so it counts its matches in the index: a removed
/// post leaves it, an edit moves it, and a database from before migration 9 loses the
/// removed posts it still indexed.
#[test]
fn search_counts_live_posts_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.db");
    let search = ListFilter::Search("launch".into());
    let found = |store: &Store| -> (usize, Vec<String>) {
        let listed = store
            .posts(&search)
            .expect("search")
            .into_iter()
            .map(|p| p.id)
            .collect();
        (store.count_posts(&search).expect("count"), listed)
    };
    let ids = {
        let mut store = Store::open(&path).expect("open");
        let account = store
            .add_account("masto", Network::Mastodon, &settings(), "env:A")
            .expect("account");
        let due = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
        let mut post = post_to(&[&account], Some(due));
        post.body = "The launch notes".into();
        let ids = store.create_posts(&vec![post; 6]).expect("posts");
        store.delete_post(&ids[0]).expect("removed");
        let edit = |body: &str| PostChange {
            body: Some(body.into()),
            ..PostChange::default()
        };
        store
            .update_post(&ids[1], &edit("The weather"), None)
            .expect("edited away");
        store
            .update_post(&ids[2], &edit("The launch, rewritten"), None)
            .expect("edited");
        let (count, listed) = found(&store);
        assert_eq!(count, 4);
        assert_eq!(listed, ids[2..]);
        // What the previous version left: the removed post still indexed (and no later
        // migration).
        store
            .conn()
            .execute_batch(
                "DROP TRIGGER posts_fts_update;
                 INSERT INTO posts_fts(rowid, title, body, labels)
                     SELECT seq, title, body, labels FROM posts WHERE deleted_ms IS NOT NULL;
                 CREATE TRIGGER posts_fts_update AFTER UPDATE OF title, body, labels ON posts
                 BEGIN SELECT 1; END;
                 ALTER TABLE targets DROP COLUMN in_flight_stage;
                 DROP TABLE metric_snapshots;
                 DROP TABLE metric_daily;
                 DROP TABLE metric_targets;
                 DROP TABLE account_daily;
                 DROP TABLE metric_accounts;
                 DROP TABLE update_sources;
                 DROP TABLE pushed_reactions;
                 DROP TABLE sync_link;
                 DROP TABLE sync_conflicts;
                 DROP INDEX oplog_post_fields;
                 DROP TABLE circuits;
                 DROP TABLE sync_held;
                 ALTER TABLE posts DROP COLUMN target_names;
                 DROP TABLE sync_server_accounts;
                 DROP TABLE server_targets;
                 PRAGMA user_version = 8;",
            )
            .expect("old version");
        assert_eq!(found(&store).0, 5, "the old index counts the removed post");
        ids
    };
    let store = Store::open(&path).expect("migrate");
    let (count, listed) = found(&store);
    assert_eq!(count, 4);
    assert_eq!(listed, ids[2..]);
    let integrity: String = store
        .conn()
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity");
    assert_eq!(integrity, "ok");
}

/// A clock started at a given moment (`POSTCTL_NOW`) starts again in every process: the
/// store moves it on to the last change it recorded, so a command that starts after a
/// slower one never reads a time before what that one wrote.
#[test]
fn a_started_clock_is_moved_on_to_the_last_recorded_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.db");
    let start = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
    let later = start + Duration::minutes(10);
    {
        let mut store = Store::open(&path).expect("open");
        store.set_clock(Clock::starting_at(later));
        store
            .add_account("masto", Network::Mastodon, &settings(), "env:A")
            .expect("account");
    }
    let mut store = Store::open(&path).expect("reopen");
    store.set_clock(Clock::starting_at(start));
    let now = store.clock().now();
    assert!(
        now >= later,
        "{now} is before the change written at {later}"
    );
    assert!(now - later < Duration::seconds(5), "{now}");
    // A database with nothing recorded leaves the clock where it was started.
    let mut empty = Store::open(&dir.path().join("e.db")).expect("empty");
    empty.set_clock(Clock::starting_at(start));
    assert!((empty.clock().now() - start).abs() < Duration::seconds(5));
}

#[test]
fn a_sync_passes_over_what_other_devices_wrote_once() {
    use crate::sync::{Field, Operation, Version};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("p.db")).expect("open");
    let secret = crate::secrets::SecretRef::env("POSTCTL_TEST_DEVICE_KEY").expect("ref");
    store
        .link_sync("https://server.test", "ann", "w1", "team", &secret)
        .expect("link");
    let post = "0193a1b2-0000-7000-8000-000000000001";
    let op = |field: Field, value: serde_json::Value| Operation {
        post: post.into(),
        field,
        value,
        at_ms: 1_700_000_000_000,
        device: "the-desk".into(),
    };
    store
        .apply_versions(&[Version {
            id: "v1".into(),
            parent: None,
            device: "the-desk".into(),
            created_ms: 1_700_000_000_000,
            operations: vec![
                op(
                    Field::Created,
                    serde_json::json!({"created_ms": 1_700_000_000_000_i64}),
                ),
                op(Field::Body, serde_json::json!("from the desk")),
            ],
        }])
        .expect("pull");
    let last_seq: i64 = store
        .conn()
        .query_row("SELECT max(seq) FROM oplog", [], |row| row.get(0))
        .expect("seq");
    let pending = store.pending_operations().expect("pending");
    assert!(pending.operations.is_empty(), "{:?}", pending.operations);
    // Nothing of ours to push, and the pulled entries are behind us: the next sync does
    // not read them again.
    assert_eq!(pending.through_seq, last_seq);
    store.mark_synced(pending.through_seq).expect("synced");
    assert_eq!(
        store.sync_link().expect("link").expect("linked").pushed_seq,
        last_seq
    );
    // A change made here afterwards is still found.
    let mine = store.create_post(&post_to(&[], None)).expect("post");
    let pending = store.pending_operations().expect("pending");
    assert!(
        pending.operations.iter().any(|op| op.post == mine),
        "{:?}",
        pending.operations
    );
    assert!(pending.operations.iter().all(|op| op.post != post));
}

/// How often a cached LEFT JOIN was prepared again over five runs, each binding its values
/// anew as the server's request path and the store's loops do.
fn preparations(conn: &Connection) -> i32 {
    let sql = "SELECT p.id, t.id FROM posts p
               LEFT JOIN targets t ON t.post_id = p.id
               WHERE p.id = ?1 AND p.body = ?2";
    for _ in 0..5 {
        let mut stmt = conn.prepare_cached(sql).expect("prepared");
        let mut rows = stmt.query(["a post", "Hello world"]).expect("runs");
        while rows.next().expect("a row").is_some() {}
    }
    conn.prepare_cached(sql)
        .expect("cached")
        .get_status(rusqlite::StatementStatus::RePrepare)
}

#[test]
fn a_statement_is_planned_once_whatever_is_bound_to_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.db");
    let store = Store::open(&path).expect("open");
    assert_eq!(preparations(&store.conn), 0);
    // Without `plan_once` SQLite prepares it again on every run: the premise of the
    // setting, checked so that a SQLite that stops doing so shows here.
    let plain = Connection::open(&path).expect("raw open");
    assert!(preparations(&plain) > 0);
}
