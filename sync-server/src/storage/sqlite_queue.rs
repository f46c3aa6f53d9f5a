//! The posting queue on SQLite (`storage::queue`). A queued post picks its slot inside the
//! IMMEDIATE transaction that stores it: SQLite's write lock keeps any other writer out
//! until it commits, so two posts never take one slot.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::queue::{Placed, SLOT_COLUMNS, pick, place, taken_sql};
use super::sqlite::SqliteStorage;
use super::{Post, QueueSlots, Queued, Result, StorageError, Target};

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
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = c.prepare_cached(&taken_sql())?;
    let mut all = Vec::new();
    for account in account_ids {
        for due in stmt.query_map(params![workspace_id, account, from_ms], |r| r.get(0))? {
            all.push(due?);
        }
    }
    all.sort_unstable();
    all.dedup();
    Ok(all)
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
    let held = taken(c, ws, &accounts, queued.now_ms)?;
    Ok(
        pick(slots.as_ref(), &name, &held, queued.now_ms).map(|due| {
            let zone = slots.as_ref().map_or("UTC", |s| s.tz.as_str());
            place(post, targets, due, zone, queued)
        }),
    )
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
        self.read(move |c| taken(c, &w, &a, from_ms)).await
    }
}
