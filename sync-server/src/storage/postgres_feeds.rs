//! Feeds on PostgreSQL. A claim is one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
//! LOCKED) RETURNING`, so processes polling together pass over each other's feeds; an
//! item's keys are unique per feed, so of two processes posting one item the second waits
//! on the first's rows, then inserts nothing and rolls its post back.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::postgres::Cached;
use super::postgres::{
    PgStorage, db_error, insert_post, insert_target, record_event, stamp_api_fields,
};
use super::postgres_queue::queue_in;
use super::{Event, Feed, Polled, Post, PostStamps, Queued, Result, Target};

const FEED_COLUMNS: &str = "id, workspace_id, url, template, accounts, etag, last_modified, \
     last_error, polled_ms, next_poll_ms, created_by, created_ms, queue";

fn feed_row(r: &Row) -> Feed {
    let accounts: String = r.get(4);
    Feed {
        id: r.get(0),
        workspace_id: r.get(1),
        url: r.get(2),
        template: r.get(3),
        accounts: accounts.split_whitespace().map(str::to_string).collect(),
        etag: r.get(5),
        last_modified: r.get(6),
        last_error: r.get(7),
        polled_ms: r.get(8),
        next_poll_ms: r.get(9),
        created_by: r.get(10),
        created_ms: r.get(11),
        queue: r.get(12),
    }
}

impl PgStorage {
    pub(super) async fn create_feed_now(&self, f: &Feed) -> Result<()> {
        self.client()
            .await?
            .exec(
                &format!(
                    "INSERT INTO feeds ({FEED_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                ),
                &[
                    &f.id,
                    &f.workspace_id,
                    &f.url,
                    &f.template,
                    &f.accounts.join(" "),
                    &f.etag,
                    &f.last_modified,
                    &f.last_error,
                    &f.polled_ms,
                    &f.next_poll_ms,
                    &f.created_by,
                    &f.created_ms,
                    &f.queue,
                ],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    pub(super) async fn feeds_now(&self, workspace_id: &str) -> Result<Vec<Feed>> {
        let rows = self
            .client()
            .await?
            .rows(
                &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE workspace_id = $1 ORDER BY id"),
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(feed_row).collect())
    }

    pub(super) async fn delete_feed_now(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec(
            "DELETE FROM feed_items WHERE feed_id IN
             (SELECT id FROM feeds WHERE workspace_id = $1 AND id = $2)",
            &[&workspace_id, &id],
        )
        .await
        .map_err(db_error)?;
        let n = tx
            .exec(
                "DELETE FROM feeds WHERE workspace_id = $1 AND id = $2",
                &[&workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn claim_feeds_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Feed>> {
        let rows = self
            .client()
            .await?
            .rows(
                &format!(
                    "UPDATE feeds SET lease_owner = $1, lease_until_ms = $2 + $3
                     WHERE id IN (
                       SELECT id FROM feeds
                       WHERE next_poll_ms <= $2
                         AND (lease_until_ms IS NULL OR lease_until_ms <= $2)
                       ORDER BY next_poll_ms, id LIMIT $4
                       FOR UPDATE SKIP LOCKED)
                     RETURNING {FEED_COLUMNS}"
                ),
                &[&owner, &now_ms, &lease_ms, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        let mut found: Vec<Feed> = rows.iter().map(feed_row).collect();
        found.sort_by(|a, b| (a.next_poll_ms, &a.id).cmp(&(b.next_poll_ms, &b.id)));
        Ok(found)
    }

    pub(super) async fn finish_poll_now(
        &self,
        feed_id: &str,
        owner: &str,
        p: &Polled,
    ) -> Result<bool> {
        let n = self
            .client()
            .await?
            .exec(
                "UPDATE feeds SET etag = $3, last_modified = $4, last_error = $5,
                     polled_ms = COALESCE($6, polled_ms), next_poll_ms = $7,
                     lease_owner = NULL, lease_until_ms = NULL
                 WHERE id = $1 AND lease_owner = $2",
                &[
                    &feed_id,
                    &owner,
                    &p.etag,
                    &p.last_modified,
                    &p.last_error,
                    &p.polled_ms,
                    &p.next_poll_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn see_feed_items_now(
        &self,
        feed_id: &str,
        keys: &[String],
        now_ms: i64,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        for key in keys {
            tx.exec(
                "INSERT INTO feed_items (feed_id, item_key, post_id, created_ms)
                 VALUES ($1, $2, NULL, $3) ON CONFLICT (feed_id, item_key) DO NOTHING",
                &[&feed_id, key, &now_ms],
            )
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
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
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let placed;
        let (post, targets, events) = match queue {
            None => (post, targets, events),
            Some(queued) => {
                let seen = tx
                    .maybe_row(
                        "SELECT 1 FROM feed_items WHERE feed_id = $1 AND item_key = ANY($2)",
                        &[&feed_id, &keys],
                    )
                    .await
                    .map_err(db_error)?;
                if seen.is_some() {
                    return Ok(false);
                }
                placed = queue_in(&tx, post, targets, queued).await?;
                (&placed.0, placed.1.as_slice(), placed.2.as_slice())
            }
        };
        // The post goes first: the items' rows refer to it.
        insert_post(&tx, post).await?;
        for key in keys {
            let recorded = tx
                .exec(
                    "INSERT INTO feed_items (feed_id, item_key, post_id, created_ms)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (feed_id, item_key) DO NOTHING",
                    &[&feed_id, key, &post.id, &post.created_ms],
                )
                .await
                .map_err(db_error)?;
            if recorded == 0 {
                // Seen before: dropping the transaction rolls the post back.
                return Ok(false);
            }
        }
        for t in targets {
            insert_target(&tx, t, false).await?;
        }
        // Stamped as it is stored (a queued post at its slot), with its version.
        let fields = stamps(post)?;
        stamp_api_fields(&tx, post, &fields, true).await?;
        for event in events {
            record_event(&tx, event).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }
}
