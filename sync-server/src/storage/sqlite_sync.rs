//! The sync chain on SQLite ([`Storage::add_version`](super::Storage::add_version) and
//! its neighbours). Each method is one IMMEDIATE transaction on the one connection, so
//! the compare-and-set of `add_version` holds against other processes too.

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use postctl_core::model::TargetState;

use super::sqlite::{
    POST_COLUMNS, SESSION_COLUMNS, SqliteStorage, insert_target, post_row, record_event,
};
use super::sync_approval::{self as approval, SyncApproval};
use super::{
    AddVersion, FieldWrite, PostWrite, Result, STARTED, Session, SnapshotPage, SnapshotPost,
    StampedField, SyncVersion, Target,
};

const VERSION_COLUMNS: &str =
    "id, workspace_id, parent_id, device, author_id, created_ms, payload, batch_id";

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SyncVersion> {
    Ok(SyncVersion {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        parent_id: r.get(2)?,
        device: r.get(3)?,
        author_id: r.get(4)?,
        created_ms: r.get(5)?,
        payload: r.get(6)?,
        batch_id: r.get(7)?,
    })
}

/// The version of a workspace that pushed batch `batch_id`, if any.
fn batch(
    c: &rusqlite::Connection,
    workspace_id: &str,
    batch_id: Option<&str>,
) -> rusqlite::Result<Option<(String, i64)>> {
    let Some(batch_id) = batch_id else {
        return Ok(None);
    };
    c.prepare_cached("SELECT id, seq FROM sync_versions WHERE workspace_id = ?1 AND batch_id = ?2")?
        .query_row(params![workspace_id, batch_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
}

fn latest(c: &rusqlite::Connection, workspace_id: &str) -> rusqlite::Result<Option<(String, i64)>> {
    c.query_row(
        "SELECT id, seq FROM sync_versions WHERE workspace_id = ?1 ORDER BY seq DESC LIMIT 1",
        [workspace_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// The posts among those `writes` change (other than by creating them) that the server
/// has started publishing.
pub(super) fn started_posts(
    tx: &Transaction<'_>,
    workspace_id: &str,
    writes: &[FieldWrite],
) -> rusqlite::Result<Vec<String>> {
    let mut posts: Vec<&str> = writes
        .iter()
        .filter(|w| !matches!(w.change, PostWrite::Create { .. }))
        .map(|w| w.post_id.as_str())
        .collect();
    posts.sort_unstable();
    posts.dedup();
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT 1 FROM targets WHERE workspace_id = ?1 AND post_id = ?2 AND state IN {} LIMIT 1",
        postctl_core::model::TargetState::sql(STARTED)
    ))?;
    let mut started = Vec::new();
    for post in posts {
        if stmt.exists(params![workspace_id, post])? {
            started.push(post.to_string());
        }
    }
    Ok(started)
}

/// Runs one statement through the connection's cache of prepared statements (a version
/// applies thousands of writes in its one transaction): the rows it changed.
fn run(tx: &Transaction<'_>, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

/// Applies one write if its stamp is newer than the field's; `Err(id)` when it creates a
/// post whose id another workspace has.
fn apply(
    tx: &Transaction<'_>,
    version: &SyncVersion,
    write: &FieldWrite,
) -> rusqlite::Result<Result<(), String>> {
    let ws = &version.workspace_id;
    if let PostWrite::Create { created_ms } = &write.change {
        let inserted = run(
            tx,
            "INSERT INTO posts (id, workspace_id, author_id, title, body, state, scheduled_ms,
                 zone, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, NULL, '', 'draft', NULL, 'UTC', ?4, ?5)
             ON CONFLICT (id) DO NOTHING",
            params![
                write.post_id,
                ws,
                version.author_id,
                created_ms,
                version.created_ms
            ],
        )?;
        if inserted == 0 {
            let owner: String = tx
                .prepare_cached("SELECT workspace_id FROM posts WHERE id = ?1")?
                .query_row([&write.post_id], |r| r.get(0))?;
            if &owner != ws {
                return Ok(Err(write.post_id.clone()));
            }
        }
        return Ok(Ok(()));
    }
    let newer = run(
        tx,
        "INSERT INTO post_field_stamps (workspace_id, post_id, field, at_ms, device, value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (workspace_id, post_id, field) DO UPDATE
             SET at_ms = excluded.at_ms, device = excluded.device, value = excluded.value
             WHERE (excluded.at_ms, excluded.device)
                 > (post_field_stamps.at_ms, post_field_stamps.device)",
        params![
            ws,
            write.post_id,
            write.change.field(),
            write.at_ms,
            write.device,
            write.value
        ],
    )? == 1;
    if !newer {
        return Ok(Ok(()));
    }
    let now = version.created_ms;
    let id = &write.post_id;
    match &write.change {
        PostWrite::Create { .. } | PostWrite::Labels | PostWrite::Media => 0,
        PostWrite::Targets(names) => {
            write_targets(tx, ws, id, names, now)?;
            0
        }
        PostWrite::Title(title) => run(
            tx,
            "UPDATE posts SET title = ?3, updated_ms = ?4 WHERE id = ?1 AND workspace_id = ?2",
            params![id, ws, title, now],
        )?,
        PostWrite::Body(body) => run(
            tx,
            "UPDATE posts SET body = ?3, updated_ms = ?4 WHERE id = ?1 AND workspace_id = ?2",
            params![id, ws, body, now],
        )?,
        PostWrite::Schedule {
            state,
            scheduled_ms,
            zone,
        } => {
            run(
                tx,
                "UPDATE posts SET state = ?3, scheduled_ms = ?4, zone = ?5, updated_ms = ?6
                 WHERE id = ?1 AND workspace_id = ?2",
                params![id, ws, state.as_str(), scheduled_ms, zone, now],
            )?;
            let due = scheduled_ms.filter(|_| *state == super::PostState::Scheduled);
            run(
                tx,
                super::sql::SCHEDULE_SYNCED_TARGETS,
                params![id, due, now],
            )?
        }
        PostWrite::Deleted(true) => {
            run(
                tx,
                "UPDATE posts SET deleted_ms = coalesce(deleted_ms, ?3), updated_ms = ?3
                 WHERE id = ?1 AND workspace_id = ?2",
                params![id, ws, now],
            )?;
            run(tx, &super::sql::cancel_synced_targets(), params![id, now])?
        }
        PostWrite::Deleted(false) => run(
            tx,
            "UPDATE posts SET deleted_ms = NULL, updated_ms = ?3 WHERE id = ?1 AND workspace_id = ?2",
            params![id, ws, now],
        )?,
    };
    Ok(Ok(()))
}

/// A post's time as a target made for it now takes it: scheduled at the post's time, or
/// a draft.
fn post_time(tx: &Transaction<'_>, post: &str) -> rusqlite::Result<(TargetState, Option<i64>)> {
    let (state, scheduled_ms): (String, Option<i64>) = tx
        .prepare_cached("SELECT state, scheduled_ms FROM posts WHERE id = ?1")?
        .query_row([post], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(super::sql::synced_target_time(&state, scheduled_ms))
}

/// Makes a synced post's targets those of the accounts `names` (see
/// [`PostWrite::Targets`]): never touching one that has started publishing.
fn write_targets(
    tx: &Transaction<'_>,
    ws: &str,
    post: &str,
    names: &[String],
    now: i64,
) -> rusqlite::Result<()> {
    let existing: Vec<(String, String, String)> = tx
        .prepare_cached(
            "SELECT t.id, a.name, t.state FROM targets t JOIN accounts a ON a.id = t.account_id
             WHERE t.post_id = ?1",
        )?
        .query_map([post], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let (state, due) = post_time(tx, post)?;
    for (target, name, stored) in &existing {
        let stored = stored.parse().unwrap_or(TargetState::Failed);
        if !names.contains(name)
            && (stored.is_editable() || stored == TargetState::AwaitingApproval)
        {
            run(tx, super::sql::CANCEL_TARGET, params![target, now])?;
        } else if names.contains(name) && stored == TargetState::Cancelled {
            run(
                tx,
                super::sql::REVIVE_TARGET,
                params![target, state.as_str(), due, now],
            )?;
        }
    }
    for name in names {
        if existing.iter().any(|(_, n, _)| n == name) {
            continue;
        }
        let account: Option<String> = tx
            .prepare_cached(
                "SELECT id FROM accounts WHERE workspace_id = ?1 AND name = ?2
                 AND deleted_ms IS NULL",
            )?
            .query_row(params![ws, name], |r| r.get(0))
            .optional()?;
        if let Some(account) = account {
            let target = Target::synced(post, &account, ws, state, due, now);
            insert_target(tx, &target, true)?;
        }
    }
    Ok(())
}

/// Which of `writes` win over their field's stamp (read before any is applied).
fn winning(tx: &Transaction<'_>, ws: &str, writes: &[FieldWrite]) -> rusqlite::Result<Vec<bool>> {
    let mut stmt = tx.prepare_cached(approval::STAMP_WINS)?;
    writes
        .iter()
        .map(|w| {
            stmt.query_row(
                params![ws, w.post_id, w.change.field(), w.at_ms, w.device],
                |r| r.get(0),
            )
        })
        .collect()
}

/// The approval decision on a version's posts (see `Storage::add_version_awaiting`), in
/// its transaction, after its writes.
fn await_approval(
    tx: &Transaction<'_>,
    touched: &[approval::Touched],
    ask: &SyncApproval,
    now: i64,
) -> rusqlite::Result<()> {
    for t in touched {
        let scheduled: Option<bool> = tx
            .query_row(approval::POST_LIVE_SCHEDULED, [&t.post_id], |r| r.get(0))
            .optional()?;
        if scheduled != Some(true) {
            continue;
        }
        let moved = tx.execute(&approval::await_waiting(), params![t.post_id, now])?;
        let awaiting: i64 = tx.query_row(approval::COUNT_AWAITING, [&t.post_id], |r| r.get(0))?;
        if !approval::asks(t, moved as u64, awaiting) {
            continue;
        }
        let post = tx.query_row(
            &format!("SELECT {POST_COLUMNS} FROM posts WHERE id = ?1"),
            [&t.post_id],
            post_row,
        )?;
        for event in (ask.events_of)(&post, &ask.author, &ask.approvers) {
            record_event(tx, &event)?;
        }
    }
    Ok(())
}

/// Gives the workspace's live posts whose synced `targets` name `account` their target on
/// it (in the transaction that adds the account).
pub(super) fn adopt_account(
    tx: &Transaction<'_>,
    ws: &str,
    account_id: &str,
    name: &str,
    now: i64,
) -> rusqlite::Result<()> {
    let wanted: Vec<(String, String, String, Option<i64>)> = tx
        .prepare_cached(super::sql::POSTS_NAMING_ACCOUNT)?
        .query_map(params![ws, super::sql::like_json_string(name)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (post, value, post_state, scheduled_ms) in wanted {
        let names: Vec<String> = serde_json::from_str(&value).unwrap_or_default();
        if !names.iter().any(|n| n == name) {
            continue;
        }
        let (state, due) = super::sql::synced_target_time(&post_state, scheduled_ms);
        let needs: bool = tx.query_row(approval::AUTHOR_NEEDS_APPROVAL, [&post], |r| r.get(0))?;
        let state = approval::adopted_state(state, needs);
        insert_target(
            tx,
            &Target::synced(&post, account_id, ws, state, due, now),
            true,
        )?;
    }
    Ok(())
}

impl SqliteStorage {
    pub(super) async fn add_version_now(
        &self,
        version: &SyncVersion,
        writes: &[FieldWrite],
        approval: Option<&SyncApproval>,
    ) -> Result<AddVersion> {
        let (version, writes) = (version.clone(), writes.to_vec());
        let approval = approval.cloned();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some((id, seq)) = batch(&tx, &version.workspace_id, version.batch_id.as_deref())?
            {
                return Ok(AddVersion::Duplicate { id, seq });
            }
            let last = latest(&tx, &version.workspace_id)?;
            if last.as_ref().map(|(id, _)| id) != version.parent_id.as_ref() {
                return Ok(AddVersion::Stale {
                    latest: last.map(|(id, _)| id),
                });
            }
            let started = started_posts(&tx, &version.workspace_id, &writes)?;
            if !started.is_empty() {
                return Ok(AddVersion::Started { posts: started });
            }
            let seq = last.map_or(1, |(_, seq)| seq + 1);
            tx.execute(
                &format!(
                    "INSERT INTO sync_versions ({VERSION_COLUMNS}, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    version.id,
                    version.workspace_id,
                    version.parent_id,
                    version.device,
                    version.author_id,
                    version.created_ms,
                    version.payload,
                    version.batch_id,
                    seq
                ],
            )?;
            let touched = match &approval {
                Some(_) => {
                    approval::touched(&writes, &winning(&tx, &version.workspace_id, &writes)?)
                }
                None => Vec::new(),
            };
            for write in &writes {
                if let Err(post_id) = apply(&tx, &version, write)? {
                    // Dropping the transaction rolls it back: nothing is stored.
                    return Ok(AddVersion::ForeignPost { post_id });
                }
            }
            if let Some(ask) = &approval {
                await_approval(&tx, &touched, ask, version.created_ms)?;
            }
            tx.commit()?;
            Ok(AddVersion::Added { seq })
        })
        .await
    }

    pub(super) async fn versions_after_now(
        &self,
        workspace_id: &str,
        since: Option<&str>,
        limit: u32,
    ) -> Result<Option<Vec<SyncVersion>>> {
        let (ws, since) = (workspace_id.to_string(), since.map(str::to_string));
        self.call(move |c| {
            let tx = c.transaction()?;
            let after = match &since {
                None => 0,
                Some(id) => {
                    let seq: Option<i64> = tx
                        .query_row(
                            "SELECT seq FROM sync_versions WHERE id = ?1 AND workspace_id = ?2",
                            params![id, ws],
                            |r| r.get(0),
                        )
                        .optional()?;
                    match seq {
                        Some(seq) => seq,
                        None => return Ok(None),
                    }
                }
            };
            let mut stmt = tx.prepare(&format!(
                "SELECT {VERSION_COLUMNS} FROM sync_versions
                 WHERE workspace_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ))?;
            let versions = stmt
                .query_map(params![ws, after, i64::from(limit)], version_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some(versions))
        })
        .await
    }

    pub(super) async fn post_fields_now(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<StampedField>> {
        let (ws, post) = (workspace_id.to_string(), post_id.to_string());
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT field, value, at_ms, device FROM post_field_stamps
                 WHERE workspace_id = ?1 AND post_id = ?2 AND value IS NOT NULL ORDER BY field",
            )?;
            let fields = stmt
                .query_map(params![ws, post], |r| {
                    Ok(StampedField {
                        field: r.get(0)?,
                        value: r.get(1)?,
                        at_ms: r.get(2)?,
                        device: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(fields)
        })
        .await
    }

    pub(super) async fn add_media_now(
        &self,
        workspace_id: &str,
        sha256: &str,
        size: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let (ws, sha) = (workspace_id.to_string(), sha256.to_string());
        self.call(move |c| {
            let n = c.execute(
                "INSERT INTO media (workspace_id, sha256, size, created_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (workspace_id, sha256) DO NOTHING",
                params![ws, sha, size, now_ms],
            )?;
            Ok(n == 1)
        })
        .await
    }

    pub(super) async fn known_media_now(
        &self,
        workspace_id: &str,
        sha256s: &[String],
    ) -> Result<Vec<String>> {
        let (ws, asked) = (workspace_id.to_string(), sha256s.to_vec());
        self.call(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT 1 FROM media WHERE workspace_id = ?1 AND sha256 = ?2")?;
            let mut known = Vec::new();
            for sha in asked {
                if stmt.exists(params![ws, sha])? {
                    known.push(sha);
                }
            }
            Ok(known)
        })
        .await
    }

    pub(super) async fn latest_version_now(&self, workspace_id: &str) -> Result<Option<String>> {
        let ws = workspace_id.to_string();
        self.call(move |c| Ok(latest(c, &ws)?.map(|(id, _)| id)))
            .await
    }

    pub(super) async fn move_session_now(
        &self,
        old_id: &str,
        new: &Session,
        now_ms: i64,
    ) -> Result<bool> {
        let (old, s) = (old_id.to_string(), new.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE sessions SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
                params![old, now_ms],
            )?;
            if n == 1 {
                tx.execute(
                    &format!(
                        "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                    ),
                    params![
                        s.id,
                        s.user_id,
                        s.workspace_id,
                        s.hash,
                        s.created_ms,
                        s.expires_ms,
                        s.revoked_ms
                    ],
                )?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    pub(super) async fn snapshot_page_now(
        &self,
        workspace_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<SnapshotPage> {
        let (ws, after) = (
            workspace_id.to_string(),
            after.unwrap_or_default().to_string(),
        );
        self.read(move |c| {
            // The latest version first: the fields read after it are at least as new.
            let latest = latest(c, &ws)?.map(|(id, _)| id);
            let mut stmt = c.prepare_cached(
                "SELECT p.id, p.created_ms FROM posts p
                 WHERE p.workspace_id = ?1 AND p.id > ?2
                   AND EXISTS (SELECT 1 FROM post_field_stamps s
                               WHERE s.workspace_id = p.workspace_id AND s.post_id = p.id)
                 ORDER BY p.id LIMIT ?3",
            )?;
            let mut posts: Vec<SnapshotPost> = stmt
                .query_map(params![ws, after, i64::from(limit)], |r| {
                    Ok(SnapshotPost {
                        id: r.get(0)?,
                        created_ms: r.get(1)?,
                        fields: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let Some(last) = posts.last().map(|p| p.id.clone()) else {
                return Ok(SnapshotPage {
                    latest,
                    posts,
                    partial: false,
                });
            };
            let mut stmt = c.prepare_cached(
                "SELECT post_id, field, value, at_ms, device FROM post_field_stamps
                 WHERE workspace_id = ?1 AND post_id > ?2 AND post_id <= ?3
                 ORDER BY post_id, field",
            )?;
            let mut rows = stmt.query(params![ws, after, last])?;
            let mut at = 0;
            let mut partial = false;
            while let Some(r) = rows.next()? {
                let post: String = r.get(0)?;
                let Some(value) = r.get::<_, Option<String>>(2)? else {
                    partial = true;
                    continue;
                };
                while at < posts.len() && posts[at].id < post {
                    at += 1;
                }
                if let Some(p) = posts.get_mut(at).filter(|p| p.id == post) {
                    p.fields.push(StampedField {
                        field: r.get(1)?,
                        value,
                        at_ms: r.get(3)?,
                        device: r.get(4)?,
                    });
                }
            }
            Ok(SnapshotPage {
                latest,
                posts,
                partial,
            })
        })
        .await
    }
}
