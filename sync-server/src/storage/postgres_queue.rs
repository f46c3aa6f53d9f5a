//! The posting queue on PostgreSQL (`storage::queue`). A queued post picks its slot in
//! the transaction that stores it, after locking its accounts' rows `FOR NO KEY UPDATE`
//! in id order: a second process queueing for one of those accounts waits until the first
//! commits, then (READ COMMITTED: each statement sees what committed before it) reads the
//! slot the first took as held. `NO KEY UPDATE` leaves the `FOR KEY SHARE` locks of
//! inserts that refer to the accounts unblocked.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::postgres::Cached;
use super::postgres::{
    PgStorage, change_post, db_error, insert_post, insert_target, post_targets, record_event,
    stamp_api_fields,
};
use super::queue::{Placed, PostStamps, SLOT_COLUMNS, pick, place, taken_sql};
use super::sql::pg;
use super::{
    Post, PostState, QueueSlots, Queued, Result, StorageError, Target, TargetChange,
    TargetsChanged, change_allows,
};

fn slots_row(r: &Row) -> QueueSlots {
    QueueSlots {
        account_id: r.get(0),
        workspace_id: r.get(1),
        rules: r.get(2),
        tz: r.get(3),
        updated_ms: r.get(4),
    }
}

async fn slots_of(
    c: &impl GenericClient,
    workspace_id: &str,
    account_id: &str,
) -> Result<Option<QueueSlots>> {
    Ok(c.maybe_row(
        &format!(
            "SELECT {SLOT_COLUMNS} FROM queue_slots WHERE workspace_id = $1 AND account_id = $2"
        ),
        &[&workspace_id, &account_id],
    )
    .await
    .map_err(db_error)?
    .map(|r| slots_row(&r)))
}

async fn taken(
    c: &impl GenericClient,
    workspace_id: &str,
    account_ids: &[String],
    from_ms: i64,
    except_post: &str,
) -> Result<Vec<i64>> {
    let sql = pg(&taken_sql());
    let mut all = Vec::new();
    for account in account_ids {
        for row in c
            .rows(&sql, &[&workspace_id, account, &from_ms, &except_post])
            .await
            .map_err(db_error)?
        {
            all.push(row.get::<_, i64>(0));
        }
    }
    all.sort_unstable();
    all.dedup();
    Ok(all)
}

/// Inside a transaction: locks `accounts`, then the next free slot of theirs (the first
/// one's rules) after `now_ms` for `post`, with the queue's zone, or
/// [`StorageError::NoQueueSlot`].
async fn slot_in(
    c: &impl GenericClient,
    post: &Post,
    accounts: &[String],
    now_ms: i64,
) -> Result<(i64, String)> {
    let Some(first) = accounts.first() else {
        return Err(StorageError::NoQueueSlot(
            "a queued post needs an account".into(),
        ));
    };
    let ws = &post.workspace_id;
    let locked = c
        .rows(
            "SELECT id, name FROM accounts WHERE workspace_id = $1 AND id = ANY($2)
             ORDER BY id FOR NO KEY UPDATE",
            &[ws, &accounts],
        )
        .await
        .map_err(db_error)?;
    let name = locked
        .iter()
        .find(|r| r.get::<_, String>(0) == *first)
        .map_or_else(|| first.clone(), |r| r.get(1));
    let slots = slots_of(c, ws, first).await?;
    let held = taken(c, ws, accounts, now_ms, &post.id).await?;
    let due = pick(slots.as_ref(), &name, &held, now_ms)?;
    let zone = slots.as_ref().map_or("UTC", |s| s.tz.as_str());
    Ok((due, zone.to_string()))
}

/// Inside a transaction: locks the accounts of `targets`, then `post` and `targets` at
/// their next free slot with their events, or [`StorageError::NoQueueSlot`].
pub(super) async fn queue_in(
    c: &impl GenericClient,
    post: &Post,
    targets: &[Target],
    queued: &Queued,
) -> Result<Placed> {
    let accounts: Vec<String> = targets.iter().map(|t| t.account_id.clone()).collect();
    let (due, zone) = slot_in(c, post, &accounts, queued.now_ms).await?;
    Ok(place(post, targets, due, &zone, queued))
}

/// The change that schedules a queued post at `due_ms`.
fn schedule_change(awaiting_approval: bool, due_ms: i64) -> TargetChange {
    if awaiting_approval {
        TargetChange::AwaitApproval { due_ms }
    } else {
        TargetChange::Schedule { due_ms }
    }
}

impl PgStorage {
    pub(super) async fn set_queue_slots_now(&self, s: &QueueSlots) -> Result<bool> {
        let n = self
            .client()
            .await?
            .exec(
                &format!(
                    "INSERT INTO queue_slots ({SLOT_COLUMNS})
                     SELECT id, workspace_id, $3, $4, $5 FROM accounts
                     WHERE id = $1 AND workspace_id = $2
                     ON CONFLICT (account_id) DO UPDATE SET
                         rules = excluded.rules, tz = excluded.tz, updated_ms = excluded.updated_ms"
                ),
                &[
                    &s.account_id,
                    &s.workspace_id,
                    &s.rules,
                    &s.tz,
                    &s.updated_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn queue_slots_now(
        &self,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<Option<QueueSlots>> {
        slots_of(&self.client().await?, workspace_id, account_id).await
    }

    pub(super) async fn all_queue_slots_now(&self, workspace_id: &str) -> Result<Vec<QueueSlots>> {
        Ok(self
            .client()
            .await?
            .rows(
                &format!(
                    "SELECT {SLOT_COLUMNS} FROM queue_slots WHERE workspace_id = $1 ORDER BY account_id"
                ),
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?
            .iter()
            .map(slots_row)
            .collect())
    }

    pub(super) async fn clear_queue_slots_now(
        &self,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<bool> {
        let n = self
            .client()
            .await?
            .exec(
                "DELETE FROM queue_slots WHERE workspace_id = $1 AND account_id = $2",
                &[&workspace_id, &account_id],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn taken_slots_now(
        &self,
        workspace_id: &str,
        account_ids: &[String],
        from_ms: i64,
    ) -> Result<Vec<i64>> {
        taken(
            &self.client().await?,
            workspace_id,
            account_ids,
            from_ms,
            "",
        )
        .await
    }

    pub(super) async fn create_queued_post_now(
        &self,
        post: &Post,
        targets: &[Target],
        queued: &Queued,
        stamps: &PostStamps,
    ) -> Result<Post> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let (post, targets, events) = queue_in(&tx, post, targets, queued).await?;
        let fields = stamps(&post)?;
        insert_post(&tx, &post).await?;
        for t in &targets {
            insert_target(&tx, t, false).await?;
        }
        stamp_api_fields(&tx, &post, &fields, true).await?;
        for event in &events {
            record_event(&tx, event).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(post)
    }

    pub(super) async fn schedule_queued_now(
        &self,
        post: &Post,
        awaiting_approval: bool,
        queued: &Queued,
        stamps: &PostStamps,
    ) -> Result<Option<(Post, TargetsChanged)>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let probe = schedule_change(awaiting_approval, queued.now_ms);
        // The post's targets are locked (`FOR UPDATE`) before its accounts.
        let movable: Vec<String> = post_targets(&tx, &post.id)
            .await?
            .into_iter()
            .filter(|(_, _, state)| change_allows(&probe, *state))
            .map(|(_, account, _)| account)
            .collect();
        if movable.is_empty() {
            // Nothing to move: the skipped targets (or no such post), rolled back.
            let skipped = change_post(&tx, post, None, Some(&probe)).await?;
            return Ok(skipped.map(|outcome| (post.clone(), outcome)));
        }
        let (due, zone) = slot_in(&tx, post, &movable, queued.now_ms).await?;
        let mut post = post.clone();
        post.state = PostState::Scheduled;
        post.scheduled_ms = Some(due);
        post.zone = zone;
        let change = schedule_change(awaiting_approval, due);
        let Some(outcome) = change_post(&tx, &post, None, Some(&change)).await? else {
            return Ok(None);
        };
        let fields = stamps(&post)?;
        stamp_api_fields(&tx, &post, &fields, false).await?;
        for event in &(queued.events)(&post) {
            record_event(&tx, event).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Some((post, outcome)))
    }
}
