//! The sync chain on PostgreSQL ([`Storage::add_version`](super::Storage::add_version)
//! and its neighbours). The compare-and-set is the unique position of each version in its
//! workspace's chain: of two transactions adding after one parent, the second waits on
//! the first's row and then fails on the unique index, and is answered `Stale`.

use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;

use postctl_core::model::TargetState;

use super::postgres::Cached;
use super::postgres::{POST_COLUMNS, PgStorage, SESSION_COLUMNS, db_error, post_row, record_event};
use super::sql::{TARGET_INSERT, pg};
use super::sync_approval::{self as approval, SyncApproval};
use super::{
    AddVersion, FieldWrite, PostWrite, Result, STARTED, Session, SnapshotPage, SnapshotPost,
    StampedField, SyncVersion, Target,
};

const VERSION_COLUMNS: &str =
    "id, workspace_id, parent_id, device, author_id, created_ms, payload, batch_id";

fn version_row(r: &tokio_postgres::Row) -> SyncVersion {
    SyncVersion {
        id: r.get(0),
        workspace_id: r.get(1),
        parent_id: r.get(2),
        device: r.get(3),
        author_id: r.get(4),
        created_ms: r.get(5),
        payload: r.get(6),
        batch_id: r.get(7),
    }
}

/// The version of a workspace that pushed batch `batch_id`, if any.
async fn batch(
    c: &impl GenericClient,
    workspace_id: &str,
    batch_id: Option<&str>,
) -> Result<Option<(String, i64)>, tokio_postgres::Error> {
    let Some(batch_id) = batch_id else {
        return Ok(None);
    };
    Ok(c.maybe_row(
        "SELECT id, seq FROM sync_versions WHERE workspace_id = $1 AND batch_id = $2",
        &[&workspace_id, &batch_id],
    )
    .await?
    .map(|r| (r.get(0), r.get(1))))
}

async fn latest(c: &impl GenericClient, workspace_id: &str) -> Result<Option<(String, i64)>> {
    let row = c
        .maybe_row(
            "SELECT id, seq FROM sync_versions WHERE workspace_id = $1 ORDER BY seq DESC LIMIT 1",
            &[&workspace_id],
        )
        .await
        .map_err(db_error)?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Why a version was not stored (besides a stale parent).
enum Refused {
    /// Recording the approval's events failed.
    Failed(super::StorageError),
    /// The workspace has a version of its batch already: that version's id and seq.
    Duplicate(String, i64),
    /// It creates a post whose id is another workspace's.
    Foreign(String),
    /// It writes to posts the server has started publishing.
    Started(Vec<String>),
}

/// The posts among those `writes` change (other than by creating them) that the server
/// has started publishing. In the version's transaction, after the chain's position is
/// taken, so a publisher that claims meanwhile is seen by the one or the other.
async fn started_posts(
    tx: &impl GenericClient,
    workspace_id: &str,
    writes: &[FieldWrite],
) -> Result<Vec<String>, tokio_postgres::Error> {
    let mut posts: Vec<&str> = writes
        .iter()
        .filter(|w| !matches!(w.change, PostWrite::Create { .. }))
        .map(|w| w.post_id.as_str())
        .collect();
    posts.sort_unstable();
    posts.dedup();
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    let rows = tx
        .rows(
            &format!(
                "SELECT DISTINCT post_id FROM targets
                 WHERE workspace_id = $1 AND post_id = ANY($2) AND state IN {}
                 ORDER BY post_id",
                postctl_core::model::TargetState::sql(STARTED)
            ),
            &[&workspace_id, &posts],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Applies one write if its stamp is newer than the field's; `Err(id)` when it creates a
/// post whose id another workspace has.
async fn apply(
    tx: &impl GenericClient,
    version: &SyncVersion,
    write: &FieldWrite,
) -> Result<Result<(), String>, tokio_postgres::Error> {
    let ws = &version.workspace_id;
    if let PostWrite::Create { created_ms } = &write.change {
        let inserted = tx
            .exec(
                "INSERT INTO posts (id, workspace_id, author_id, title, body, state, scheduled_ms,
                 zone, created_ms, updated_ms)
             VALUES ($1, $2, $3, NULL, '', 'draft', NULL, 'UTC', $4, $5)
             ON CONFLICT (id) DO NOTHING",
                &[
                    &write.post_id,
                    ws,
                    &version.author_id,
                    created_ms,
                    &version.created_ms,
                ],
            )
            .await?;
        if inserted == 0 {
            let owner: String = tx
                .row(
                    "SELECT workspace_id FROM posts WHERE id = $1",
                    &[&write.post_id],
                )
                .await?
                .get(0);
            if &owner != ws {
                return Ok(Err(write.post_id.clone()));
            }
        }
        return Ok(Ok(()));
    }
    let newer = tx
        .exec(
            "INSERT INTO post_field_stamps (workspace_id, post_id, field, at_ms, device, value)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (workspace_id, post_id, field) DO UPDATE
                 SET at_ms = excluded.at_ms, device = excluded.device, value = excluded.value
                 WHERE (excluded.at_ms, excluded.device)
                     > (post_field_stamps.at_ms, post_field_stamps.device)",
            &[
                ws,
                &write.post_id,
                &write.change.field(),
                &write.at_ms,
                &write.device,
                &write.value,
            ],
        )
        .await?
        == 1;
    if !newer {
        return Ok(Ok(()));
    }
    let now = version.created_ms;
    let id = &write.post_id;
    match &write.change {
        PostWrite::Create { .. } | PostWrite::Labels | PostWrite::Media => 0,
        PostWrite::Targets(names) => {
            write_targets(tx, ws, id, names, now).await?;
            0
        }
        PostWrite::Title(title) => {
            tx.exec(
                "UPDATE posts SET title = $3, updated_ms = $4 WHERE id = $1 AND workspace_id = $2",
                &[id, ws, title, &now],
            )
            .await?
        }
        PostWrite::Body(body) => {
            tx.exec(
                "UPDATE posts SET body = $3, updated_ms = $4 WHERE id = $1 AND workspace_id = $2",
                &[id, ws, body, &now],
            )
            .await?
        }
        PostWrite::Schedule {
            state,
            scheduled_ms,
            zone,
        } => {
            tx.exec(
                "UPDATE posts SET state = $3, scheduled_ms = $4, zone = $5, updated_ms = $6
                 WHERE id = $1 AND workspace_id = $2",
                &[id, ws, &state.as_str(), scheduled_ms, zone, &now],
            )
            .await?;
            let due = scheduled_ms.filter(|_| *state == super::PostState::Scheduled);
            tx.exec(&pg(super::sql::SCHEDULE_SYNCED_TARGETS), &[id, &due, &now])
                .await?
        }
        PostWrite::Deleted(true) => {
            tx.exec(
                "UPDATE posts SET deleted_ms = coalesce(deleted_ms, $3), updated_ms = $3
                 WHERE id = $1 AND workspace_id = $2",
                &[id, ws, &now],
            )
            .await?;
            tx.exec(&pg(&super::sql::cancel_synced_targets()), &[id, &now])
                .await?
        }
        PostWrite::Deleted(false) => {
            tx.exec(
                "UPDATE posts SET deleted_ms = NULL, updated_ms = $3 WHERE id = $1 AND workspace_id = $2",
                &[id, ws, &now],
            )
            .await?
        }
    };
    Ok(Ok(()))
}

/// Inserts a target made by a synced post unless the post has one on that account.
async fn insert_synced_target(
    tx: &impl GenericClient,
    t: &Target,
) -> Result<(), tokio_postgres::Error> {
    let placeholders = (1..=17)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    tx.exec(
        &format!(
            "INSERT INTO targets ({TARGET_INSERT}) VALUES ({placeholders})
             ON CONFLICT (post_id, account_id) DO NOTHING"
        ),
        &[
            &t.id,
            &t.post_id,
            &t.account_id,
            &t.workspace_id,
            &t.state.as_str(),
            &t.due_ms,
            &t.next_attempt_ms,
            &i64::from(t.attempt_count),
            &t.lease_owner,
            &t.lease_expires_ms,
            &t.parts,
            &t.planned_parts.map(i64::from),
            &t.in_flight.map(i64::from),
            &t.in_flight_ms,
            &t.last_error,
            &t.created_ms,
            &t.updated_ms,
        ],
    )
    .await
    .map(drop)
}

/// Makes a synced post's targets those of the accounts `names` (see
/// [`PostWrite::Targets`]): never touching one that has started publishing.
async fn write_targets(
    tx: &impl GenericClient,
    ws: &str,
    post: &str,
    names: &[String],
    now: i64,
) -> Result<(), tokio_postgres::Error> {
    let existing: Vec<(String, String, String)> = tx
        .rows(
            "SELECT t.id, a.name, t.state FROM targets t JOIN accounts a ON a.id = t.account_id
             WHERE t.post_id = $1 FOR UPDATE OF t",
            &[&post],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let row = tx
        .row(
            "SELECT state, scheduled_ms FROM posts WHERE id = $1",
            &[&post],
        )
        .await?;
    let (state, due) = super::sql::synced_target_time(&row.get::<_, String>(0), row.get(1));
    for (target, name, stored) in &existing {
        let stored = stored.parse().unwrap_or(TargetState::Failed);
        if !names.contains(name)
            && (stored.is_editable() || stored == TargetState::AwaitingApproval)
        {
            tx.exec(&pg(super::sql::CANCEL_TARGET), &[target, &now])
                .await?;
        } else if names.contains(name) && stored == TargetState::Cancelled {
            tx.exec(
                &pg(super::sql::REVIVE_TARGET),
                &[target, &state.as_str(), &due, &now],
            )
            .await?;
        }
    }
    for name in names {
        if existing.iter().any(|(_, n, _)| n == name) {
            continue;
        }
        let account = tx
            .maybe_row(
                "SELECT id FROM accounts WHERE workspace_id = $1 AND name = $2
                 AND deleted_ms IS NULL",
                &[&ws, name],
            )
            .await?;
        if let Some(account) = account {
            let account: String = account.get(0);
            insert_synced_target(tx, &Target::synced(post, &account, ws, state, due, now)).await?;
        }
    }
    Ok(())
}

/// Which of `writes` win over their field's stamp (read before any is applied).
async fn winning(
    tx: &impl GenericClient,
    ws: &str,
    writes: &[FieldWrite],
) -> Result<Vec<bool>, tokio_postgres::Error> {
    let sql = pg(approval::STAMP_WINS);
    let mut newer = Vec::with_capacity(writes.len());
    for w in writes {
        let row = tx
            .row(
                &sql,
                &[&ws, &w.post_id, &w.change.field(), &w.at_ms, &w.device],
            )
            .await?;
        newer.push(row.get(0));
    }
    Ok(newer)
}

/// The approval decision on a version's posts (see `Storage::add_version_awaiting`), in
/// its transaction, after its writes.
async fn await_approval(
    tx: &impl GenericClient,
    touched: &[approval::Touched],
    ask: &SyncApproval,
    now: i64,
) -> Result<()> {
    for t in touched {
        let scheduled: Option<bool> = tx
            .maybe_row(&pg(approval::POST_LIVE_SCHEDULED), &[&t.post_id])
            .await
            .map_err(db_error)?
            .map(|r| r.get(0));
        if scheduled != Some(true) {
            continue;
        }
        let moved = tx
            .exec(&pg(&approval::await_waiting()), &[&t.post_id, &now])
            .await
            .map_err(db_error)?;
        let awaiting: i64 = tx
            .row(&pg(approval::COUNT_AWAITING), &[&t.post_id])
            .await
            .map_err(db_error)?
            .get(0);
        if !approval::asks(t, moved, awaiting) {
            continue;
        }
        let row = tx
            .row(
                &format!("SELECT {POST_COLUMNS} FROM posts WHERE id = $1"),
                &[&t.post_id],
            )
            .await
            .map_err(db_error)?;
        let post = post_row(&row);
        for event in (ask.events_of)(&post, &ask.author, &ask.approvers) {
            record_event(tx, &event).await?;
        }
    }
    Ok(())
}

/// Gives the workspace's live posts whose synced `targets` name `account` their target on
/// it (in the transaction that adds the account).
pub(super) async fn adopt_account(
    tx: &impl GenericClient,
    ws: &str,
    account_id: &str,
    name: &str,
    now: i64,
) -> Result<(), tokio_postgres::Error> {
    let rows = tx
        .rows(
            &pg(super::sql::POSTS_NAMING_ACCOUNT),
            &[&ws, &super::sql::like_json_string(name)],
        )
        .await?;
    for r in rows {
        let (post, value): (String, String) = (r.get(0), r.get(1));
        let names: Vec<String> = serde_json::from_str(&value).unwrap_or_default();
        if !names.iter().any(|n| n == name) {
            continue;
        }
        let (state, due) = super::sql::synced_target_time(&r.get::<_, String>(2), r.get(3));
        let needs: bool = tx
            .row(&pg(approval::AUTHOR_NEEDS_APPROVAL), &[&post])
            .await?
            .get(0);
        let state = approval::adopted_state(state, needs);
        insert_synced_target(tx, &Target::synced(&post, account_id, ws, state, due, now)).await?;
    }
    Ok(())
}

impl PgStorage {
    pub(super) async fn add_version_now(
        &self,
        version: &SyncVersion,
        writes: &[FieldWrite],
        approval: Option<&SyncApproval>,
    ) -> Result<AddVersion> {
        let mut client = self.client().await?;
        let attempt: Result<Result<Option<i64>, Refused>, tokio_postgres::Error> = async {
            let tx = client.transaction().await?;
            if let Some((id, seq)) =
                batch(&tx, &version.workspace_id, version.batch_id.as_deref()).await?
            {
                return Ok(Err(Refused::Duplicate(id, seq)));
            }
            let last = tx
                .maybe_row(
                    "SELECT id, seq FROM sync_versions WHERE workspace_id = $1
                     ORDER BY seq DESC LIMIT 1",
                    &[&version.workspace_id],
                )
                .await?
                .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)));
            if last.as_ref().map(|(id, _)| id) != version.parent_id.as_ref() {
                return Ok(Ok(None));
            }
            let seq = last.map_or(1, |(_, seq)| seq + 1);
            tx.exec(
                &format!(
                    "INSERT INTO sync_versions ({VERSION_COLUMNS}, seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                ),
                &[
                    &version.id,
                    &version.workspace_id,
                    &version.parent_id,
                    &version.device,
                    &version.author_id,
                    &version.created_ms,
                    &version.payload,
                    &version.batch_id,
                    &seq,
                ],
            )
            .await?;
            let started = started_posts(&tx, &version.workspace_id, writes).await?;
            if !started.is_empty() {
                return Ok(Err(Refused::Started(started)));
            }
            let touched = match approval {
                Some(_) => {
                    approval::touched(writes, &winning(&tx, &version.workspace_id, writes).await?)
                }
                None => Vec::new(),
            };
            for write in writes {
                if let Err(post_id) = apply(&tx, version, write).await? {
                    // Dropping the transaction rolls it back: nothing is stored.
                    return Ok(Err(Refused::Foreign(post_id)));
                }
            }
            if let Some(ask) = approval
                && let Err(e) = await_approval(&tx, &touched, ask, version.created_ms).await
            {
                return Ok(Err(Refused::Failed(e)));
            }
            tx.commit().await?;
            Ok(Ok(Some(seq)))
        }
        .await;
        match attempt {
            Ok(Err(Refused::Failed(e))) => Err(e),
            Ok(Err(Refused::Duplicate(id, seq))) => Ok(AddVersion::Duplicate { id, seq }),
            Ok(Err(Refused::Foreign(post_id))) => Ok(AddVersion::ForeignPost { post_id }),
            Ok(Err(Refused::Started(posts))) => Ok(AddVersion::Started { posts }),
            Ok(Ok(Some(seq))) => Ok(AddVersion::Added { seq }),
            Ok(Ok(None)) => Ok(AddVersion::Stale {
                latest: latest(&client, &version.workspace_id)
                    .await?
                    .map(|(id, _)| id),
            }),
            // A concurrent push of the same batch was added first.
            Err(e)
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION)
                    && e.as_db_error()
                        .and_then(|d| d.constraint())
                        .is_some_and(|c| c == "sync_versions_batch") =>
            {
                match batch(&client, &version.workspace_id, version.batch_id.as_deref())
                    .await
                    .map_err(db_error)?
                {
                    Some((id, seq)) => Ok(AddVersion::Duplicate { id, seq }),
                    None => Err(db_error(e)),
                }
            }
            // Another version took this position first.
            Err(e)
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION)
                    && e.as_db_error()
                        .and_then(|d| d.constraint())
                        .is_some_and(|c| c.contains("seq")) =>
            {
                Ok(AddVersion::Stale {
                    latest: latest(&client, &version.workspace_id)
                        .await?
                        .map(|(id, _)| id),
                })
            }
            Err(e) => Err(db_error(e)),
        }
    }

    pub(super) async fn versions_after_now(
        &self,
        workspace_id: &str,
        since: Option<&str>,
        limit: u32,
    ) -> Result<Option<Vec<SyncVersion>>> {
        let client = self.client().await?;
        let after: i64 = match since {
            None => 0,
            Some(id) => {
                let row = client
                    .maybe_row(
                        "SELECT seq FROM sync_versions WHERE id = $1 AND workspace_id = $2",
                        &[&id, &workspace_id],
                    )
                    .await
                    .map_err(db_error)?;
                match row {
                    Some(row) => row.get(0),
                    None => return Ok(None),
                }
            }
        };
        let rows = client
            .rows(
                &format!(
                    "SELECT {VERSION_COLUMNS} FROM sync_versions
                     WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
                ),
                &[&workspace_id, &after, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        Ok(Some(rows.iter().map(version_row).collect()))
    }

    pub(super) async fn post_fields_now(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<StampedField>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "SELECT field, value, at_ms, device FROM post_field_stamps
                 WHERE workspace_id = $1 AND post_id = $2 AND value IS NOT NULL ORDER BY field",
                &[&workspace_id, &post_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| StampedField {
                field: r.get(0),
                value: r.get(1),
                at_ms: r.get(2),
                device: r.get(3),
            })
            .collect())
    }

    pub(super) async fn add_media_now(
        &self,
        workspace_id: &str,
        sha256: &str,
        size: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                "INSERT INTO media (workspace_id, sha256, size, created_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (workspace_id, sha256) DO NOTHING",
                &[&workspace_id, &sha256, &size, &now_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn known_media_now(
        &self,
        workspace_id: &str,
        sha256s: &[String],
    ) -> Result<Vec<String>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "SELECT sha256 FROM media WHERE workspace_id = $1 AND sha256 = ANY($2)",
                &[&workspace_id, &sha256s],
            )
            .await
            .map_err(db_error)?;
        let known: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        Ok(sha256s
            .iter()
            .filter(|s| known.contains(s))
            .cloned()
            .collect())
    }

    pub(super) async fn latest_version_now(&self, workspace_id: &str) -> Result<Option<String>> {
        let client = self.client().await?;
        Ok(latest(&client, workspace_id).await?.map(|(id, _)| id))
    }

    pub(super) async fn move_session_now(
        &self,
        old_id: &str,
        new: &Session,
        now_ms: i64,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(
                "UPDATE sessions SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
                &[&old_id, &now_ms],
            )
            .await
            .map_err(db_error)?;
        if n == 1 {
            tx.exec(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ),
                &[
                    &new.id,
                    &new.user_id,
                    &new.workspace_id,
                    &new.hash,
                    &new.created_ms,
                    &new.expires_ms,
                    &new.revoked_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn snapshot_page_now(
        &self,
        workspace_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<SnapshotPage> {
        let client = self.client().await?;
        let after = after.unwrap_or_default();
        // Post ids compare byte by byte (`COLLATE "C"`), as the pages' `after` does here.
        // The latest version first: the fields read after it are at least as new.
        let latest = latest(&client, workspace_id).await?.map(|(id, _)| id);
        let rows = client
            .rows(
                "SELECT p.id, p.created_ms FROM posts p
                 WHERE p.workspace_id = $1 AND p.id > $2 COLLATE \"C\"
                   AND EXISTS (SELECT 1 FROM post_field_stamps s
                               WHERE s.workspace_id = p.workspace_id AND s.post_id = p.id)
                 ORDER BY p.id COLLATE \"C\" LIMIT $3",
                &[&workspace_id, &after, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        let mut posts: Vec<SnapshotPost> = rows
            .iter()
            .map(|r| SnapshotPost {
                id: r.get(0),
                created_ms: r.get(1),
                fields: Vec::new(),
            })
            .collect();
        let Some(last) = posts.last().map(|p| p.id.clone()) else {
            return Ok(SnapshotPage {
                latest,
                posts,
                partial: false,
            });
        };
        let rows = client
            .rows(
                "SELECT post_id, field, value, at_ms, device FROM post_field_stamps
                 WHERE workspace_id = $1 AND post_id > $2 COLLATE \"C\"
                   AND post_id <= $3 COLLATE \"C\"
                 ORDER BY post_id COLLATE \"C\", field",
                &[&workspace_id, &after, &last],
            )
            .await
            .map_err(db_error)?;
        let mut at = 0;
        let mut partial = false;
        for r in &rows {
            let post: String = r.get(0);
            let Some(value) = r.get::<_, Option<String>>(2) else {
                partial = true;
                continue;
            };
            while at < posts.len() && posts[at].id < post {
                at += 1;
            }
            if let Some(p) = posts.get_mut(at).filter(|p| p.id == post) {
                p.fields.push(StampedField {
                    field: r.get(1),
                    value,
                    at_ms: r.get(3),
                    device: r.get(4),
                });
            }
        }
        Ok(SnapshotPage {
            latest,
            posts,
            partial,
        })
    }
}
