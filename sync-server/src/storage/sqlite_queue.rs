//! The posting queue on SQLite (`storage::queue`). A queued post picks its slot inside the
//! IMMEDIATE transaction that stores it: SQLite's write lock keeps any other writer out
//! until it commits, so two posts never take one slot.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::queue::{Placed, PostStamps, SLOT_COLUMNS, pick, place, taken_sql};
use super::sqlite::{
    SqliteStorage, change_post, insert_post, insert_target, post_targets, record_event,
    stamp_api_fields,
};
use super::{
    Post, PostState, QueueSlots, Queued, Result, StorageError, Target, TargetChange,
    TargetsChanged, change_allows,
};

fn slots_row(r: &Row) -> rusqlite::Result<QueueSlots> {
    Ok(QueueSlots {
        account_id: r.get(0)?,
        workspace_id: r.get(1)?,
        rules: r.get(2)?,
        tz: r.get(3)?,
        updated_ms: r.get(4)?,
    })
}

fn slots_of(
    c: &Connection,
    workspace_id: &str,
    account_id: &str,
) -> rusqlite::Result<Option<QueueSlots>> {
    c.prepare_cached(&format!(
        "SELECT {SLOT_COLUMNS} FROM queue_slots WHERE workspace_id = ?1 AND account_id = ?2"
    ))?
    .query_row([workspace_id, account_id], slots_row)
    .optional()
}

fn taken(
    c: &Connection,
    workspace_id: &str,
    account_ids: &[String],
    from_ms: i64,
    except_post: &str,
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = c.prepare_cached(&taken_sql())?;
    let mut all = Vec::new();
    for account in account_ids {
        let held = stmt.query_map(params![workspace_id, account, from_ms, except_post], |r| {
            r.get(0)
        })?;
        for due in held {
            all.push(due?);
        }
    }
    all.sort_unstable();
    all.dedup();
    Ok(all)
}

/// Inside a write transaction: the next free slot of `accounts` (the first one's rules)
/// after `now_ms` for `post`, with the queue's zone; `Err` when there is none.
fn slot_in(
    c: &Connection,
    post: &Post,
    accounts: &[String],
    now_ms: i64,
) -> rusqlite::Result<Result<(i64, String)>> {
    let Some(first) = accounts.first() else {
        return Ok(Err(StorageError::NoQueueSlot(
            "a queued post needs an account".into(),
        )));
    };
    let ws = &post.workspace_id;
    let name: String = c
        .query_row("SELECT name FROM accounts WHERE id = ?1", [first], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or_else(|| first.clone());
    let slots = slots_of(c, ws, first)?;
    let held = taken(c, ws, accounts, now_ms, &post.id)?;
    Ok(pick(slots.as_ref(), &name, &held, now_ms).map(|due| {
        let zone = slots.as_ref().map_or("UTC", |s| s.tz.as_str());
        (due, zone.to_string())
    }))
}

/// Inside a write transaction: `post` and `targets` at their next free slot, with their
/// events; `Err` (nothing to write) when there is none.
pub(super) fn queue_in(
    c: &Connection,
    post: &Post,
    targets: &[Target],
    queued: &Queued,
) -> rusqlite::Result<Result<Placed>> {
    let accounts: Vec<String> = targets.iter().map(|t| t.account_id.clone()).collect();
    Ok(slot_in(c, post, &accounts, queued.now_ms)?
        .map(|(due, zone)| place(post, targets, due, &zone, queued)))
}

/// The change that schedules a queued post at `due_ms`.
fn schedule_change(awaiting_approval: bool, due_ms: i64) -> TargetChange {
    if awaiting_approval {
        TargetChange::AwaitApproval { due_ms }
    } else {
        TargetChange::Schedule { due_ms }
    }
}

impl SqliteStorage {
    pub(super) async fn set_queue_slots_now(&self, s: &QueueSlots) -> Result<bool> {
        let s = s.clone();
        self.call(move |c| {
            let n = c.execute(
                &format!(
                    "INSERT INTO queue_slots ({SLOT_COLUMNS})
                     SELECT id, workspace_id, ?3, ?4, ?5 FROM accounts
                     WHERE id = ?1 AND workspace_id = ?2
                     ON CONFLICT (account_id) DO UPDATE SET
                         rules = excluded.rules, tz = excluded.tz, updated_ms = excluded.updated_ms"
                ),
                params![s.account_id, s.workspace_id, s.rules, s.tz, s.updated_ms],
            )?;
            Ok(n == 1)
        })
        .await
    }

    pub(super) async fn queue_slots_now(
        &self,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<Option<QueueSlots>> {
        let (w, a) = (workspace_id.to_string(), account_id.to_string());
        self.read(move |c| slots_of(c, &w, &a)).await
    }

    pub(super) async fn all_queue_slots_now(&self, workspace_id: &str) -> Result<Vec<QueueSlots>> {
        let w = workspace_id.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SLOT_COLUMNS} FROM queue_slots WHERE workspace_id = ?1 ORDER BY account_id"
            ))?
            .query_map([w], slots_row)?
            .collect()
        })
        .await
    }

    pub(super) async fn clear_queue_slots_now(
        &self,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<bool> {
        let (w, a) = (workspace_id.to_string(), account_id.to_string());
        self.call(move |c| {
            c.execute(
                "DELETE FROM queue_slots WHERE workspace_id = ?1 AND account_id = ?2",
                [w, a],
            )
            .map(|n| n == 1)
        })
        .await
    }

    pub(super) async fn taken_slots_now(
        &self,
        workspace_id: &str,
        account_ids: &[String],
        from_ms: i64,
    ) -> Result<Vec<i64>> {
        let (w, a) = (workspace_id.to_string(), account_ids.to_vec());
        self.read(move |c| taken(c, &w, &a, from_ms, "")).await
    }

    pub(super) async fn create_queued_post_now(
        &self,
        post: &Post,
        targets: &[Target],
        queued: &Queued,
        stamps: &PostStamps,
    ) -> Result<Post> {
        let (p, targets) = (post.clone(), targets.to_vec());
        let (queued, stamps) = (queued.clone(), stamps.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (p, targets, events) = match queue_in(&tx, &p, &targets, &queued)? {
                Ok(placed) => placed,
                Err(e) => return Ok(Err(e)),
            };
            let fields = match stamps(&p) {
                Ok(fields) => fields,
                Err(e) => return Ok(Err(e)),
            };
            insert_post(&tx, &p)?;
            for t in &targets {
                insert_target(&tx, t, false)?;
            }
            stamp_api_fields(&tx, &p, &fields, true)?;
            for event in &events {
                record_event(&tx, event)?;
            }
            tx.commit()?;
            Ok(Ok(p))
        })
        .await?
    }

    pub(super) async fn schedule_queued_now(
        &self,
        post: &Post,
        awaiting_approval: bool,
        queued: &Queued,
        stamps: &PostStamps,
    ) -> Result<Option<(Post, TargetsChanged)>> {
        let p = post.clone();
        let (queued, stamps) = (queued.clone(), stamps.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let probe = schedule_change(awaiting_approval, queued.now_ms);
            let movable: Vec<String> = post_targets(&tx, &p.id)?
                .into_iter()
                .filter(|(_, _, state)| change_allows(&probe, *state))
                .map(|(_, account, _)| account)
                .collect();
            if movable.is_empty() {
                // Nothing to move: the skipped targets (or no such post), nothing kept.
                let skipped = change_post(&tx, &p, None, Some(&probe))?;
                return Ok(Ok(skipped.map(|outcome| (p, outcome))));
            }
            let (due, zone) = match slot_in(&tx, &p, &movable, queued.now_ms)? {
                Ok(slot) => slot,
                Err(e) => return Ok(Err(e)),
            };
            let mut p = p;
            p.state = PostState::Scheduled;
            p.scheduled_ms = Some(due);
            p.zone = zone;
            let change = schedule_change(awaiting_approval, due);
            let Some(outcome) = change_post(&tx, &p, None, Some(&change))? else {
                return Ok(Ok(None));
            };
            let fields = match stamps(&p) {
                Ok(fields) => fields,
                Err(e) => return Ok(Err(e)),
            };
            stamp_api_fields(&tx, &p, &fields, false)?;
            for event in &(queued.events)(&p) {
                record_event(&tx, event)?;
            }
            tx.commit()?;
            Ok(Ok(Some((p, outcome))))
        })
        .await?
    }
}
