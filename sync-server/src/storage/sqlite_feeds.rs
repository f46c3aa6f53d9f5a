//! Feeds on SQLite ([`Storage::create_feed`](super::Storage::create_feed) and its
//! neighbours). Each method is one statement or one IMMEDIATE transaction, so a claim and
//! an item's post are decided under the write lock.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::sqlite::{SqliteStorage, insert_post, insert_target, record_event, stamp_api_fields};
use super::sqlite_queue::queue_in;
use super::{Event, Feed, Polled, Post, PostStamps, Queued, Result, Target};

const FEED_COLUMNS: &str = "id, workspace_id, url, template, accounts, etag, last_modified, \
     last_error, polled_ms, next_poll_ms, created_by, created_ms, queue";

fn feed_row(r: &Row) -> rusqlite::Result<Feed> {
    let accounts: String = r.get(4)?;
    Ok(Feed {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        url: r.get(2)?,
        template: r.get(3)?,
        accounts: accounts.split_whitespace().map(str::to_string).collect(),
        etag: r.get(5)?,
        last_modified: r.get(6)?,
        last_error: r.get(7)?,
        polled_ms: r.get(8)?,
        next_poll_ms: r.get(9)?,
        created_by: r.get(10)?,
        created_ms: r.get(11)?,
        queue: r.get(12)?,
    })
}

impl SqliteStorage {
    pub(super) async fn create_feed_now(&self, f: &Feed) -> Result<()> {
        let f = f.clone();
        self.call(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO feeds ({FEED_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ),
                params![
                    f.id,
                    f.workspace_id,
                    f.url,
                    f.template,
                    f.accounts.join(" "),
                    f.etag,
                    f.last_modified,
                    f.last_error,
                    f.polled_ms,
                    f.next_poll_ms,
                    f.created_by,
                    f.created_ms,
                    f.queue
                ],
            )
            .map(drop)
        })
        .await
    }

    pub(super) async fn feeds_now(&self, workspace_id: &str) -> Result<Vec<Feed>> {
        let w = workspace_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {FEED_COLUMNS} FROM feeds WHERE workspace_id = ?1 ORDER BY id"
            ))?;
            stmt.query_map([w], feed_row)?.collect()
        })
        .await
    }

    pub(super) async fn delete_feed_now(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM feed_items WHERE feed_id IN
                 (SELECT id FROM feeds WHERE workspace_id = ?1 AND id = ?2)",
                [&w, &id],
            )?;
            let n = tx.execute(
                "DELETE FROM feeds WHERE workspace_id = ?1 AND id = ?2",
                [&w, &id],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    pub(super) async fn claim_feeds_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Feed>> {
        let owner = owner.to_string();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let due: Vec<Feed> = {
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT {FEED_COLUMNS} FROM feeds
                     WHERE next_poll_ms <= ?1 AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)
                     ORDER BY next_poll_ms, id LIMIT ?2"
                ))?;
                stmt.query_map(params![now_ms, limit], feed_row)?
                    .collect::<rusqlite::Result<_>>()?
            };
            for feed in &due {
                tx.execute(
                    "UPDATE feeds SET lease_owner = ?2, lease_until_ms = ?3 WHERE id = ?1",
                    params![feed.id, owner, now_ms + lease_ms],
                )?;
            }
            tx.commit()?;
            Ok(due)
        })
        .await
    }

    pub(super) async fn finish_poll_now(
        &self,
        feed_id: &str,
        owner: &str,
        p: &Polled,
    ) -> Result<bool> {
        let (id, owner, p) = (feed_id.to_string(), owner.to_string(), p.clone());
        self.call(move |c| {
            c.execute(
                "UPDATE feeds SET etag = ?3, last_modified = ?4, last_error = ?5,
                     polled_ms = COALESCE(?6, polled_ms), next_poll_ms = ?7,
                     lease_owner = NULL, lease_until_ms = NULL
                 WHERE id = ?1 AND lease_owner = ?2",
                params![
                    id,
                    owner,
                    p.etag,
                    p.last_modified,
                    p.last_error,
                    p.polled_ms,
                    p.next_poll_ms
                ],
            )
        })
        .await
        .map(|n| n == 1)
    }

    pub(super) async fn see_feed_items_now(
        &self,
        feed_id: &str,
        keys: &[String],
        now_ms: i64,
    ) -> Result<()> {
        let (id, keys) = (feed_id.to_string(), keys.to_vec());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for key in &keys {
                tx.execute(
                    "INSERT INTO feed_items (feed_id, item_key, post_id, created_ms)
                     VALUES (?1, ?2, NULL, ?3) ON CONFLICT (feed_id, item_key) DO NOTHING",
                    params![id, key, now_ms],
                )?;
            }
            tx.commit()
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn post_feed_item_now(
        &self,
        feed_id: &str,
        keys: &[String],
        post: &Post,
        targets: &[Target],
        events: &[Event],
        queue: Option<&Queued>,
        stamps: &PostStamps,
    ) -> Result<bool> {
        let (id, keys) = (feed_id.to_string(), keys.to_vec());
        let (p, targets, events) = (post.clone(), targets.to_vec(), events.to_vec());
        let (queue, stamps) = (queue.cloned(), stamps.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (p, targets, events) = match &queue {
                None => (p, targets, events),
                Some(queued) => {
                    for key in &keys {
                        let seen: Option<i64> = tx
                            .query_row(
                                "SELECT 1 FROM feed_items WHERE feed_id = ?1 AND item_key = ?2",
                                [&id, key],
                                |r| r.get(0),
                            )
                            .optional()?;
                        if seen.is_some() {
                            return Ok(Ok(false));
                        }
                    }
                    match queue_in(&tx, &p, &targets, queued)? {
                        Ok(placed) => placed,
                        Err(e) => return Ok(Err(e)),
                    }
                }
            };
            // The post goes first: the items' rows refer to it.
            insert_post(&tx, &p)?;
            for key in &keys {
                let recorded = tx.execute(
                    "INSERT INTO feed_items (feed_id, item_key, post_id, created_ms)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (feed_id, item_key) DO NOTHING",
                    params![id, key, p.id, p.created_ms],
                )?;
                if recorded == 0 {
                    // Seen before: dropping the transaction rolls the post back.
                    return Ok(Ok(false));
                }
            }
            for t in &targets {
                insert_target(&tx, t, false)?;
            }
            // Stamped as it is stored (a queued post at its slot), with its version.
            let fields = match stamps(&p) {
                Ok(fields) => fields,
                Err(e) => return Ok(Err(e)),
            };
            stamp_api_fields(&tx, &p, &fields, true)?;
            for event in &events {
                record_event(&tx, event)?;
            }
            tx.commit()?;
            Ok(Ok(true))
        })
        .await?
    }
}
