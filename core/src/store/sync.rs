//! The local side of sync (issue 13, `crate::sync`): where this database syncs, the
//! operations not yet pushed, applying versions pulled from the server field by field
//! (last writer wins by time and device), and the conflicts that left a value behind.
//!
//! Who last wrote a post's field is read from the oplog: every local change is there with
//! this device's id, and every value applied from the server is recorded there with the
//! stamp (time, device) it was written with. A local change is pending while its oplog
//! entry is after `sync_link.pushed_seq`.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use super::NewPost;
use super::{Store, Tx, from_ms, states, to_ms};
use crate::error::{Error, Result};
use crate::model::{TargetState, ThreadMode};
use crate::secrets::SecretRef;
use crate::sync::client::Rejected;
use crate::sync::{Edit, Field, Operation, Resolution, ScheduleValue, Stamp, Version, resolve};

/// Where this database syncs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLink {
    pub server: String,
    pub user: String,
    pub workspace_id: String,
    pub workspace: String,
    /// Where the session token is; `None` after `postctl logout`.
    pub secret: Option<SecretRef>,
    /// The last server version applied here.
    pub last_version: Option<String>,
    /// The last oplog entry pushed.
    pub pushed_seq: i64,
    pub last_sync: Option<chrono::DateTime<chrono::Utc>>,
    /// The newest change of the server's targets pulled (UTC ms).
    pub targets_seen_ms: i64,
}

/// A value that lost last-writer-wins against a change made on this device before it was
/// pushed (or the local change that lost to a newer one from the server).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Conflict {
    pub post_id: String,
    pub field: String,
    /// Whose value the post has now: `local` (this device's) or `server`.
    pub kept: String,
    /// The value that was not kept (JSON).
    pub lost_value: Value,
    pub lost_device: String,
    pub lost_at: chrono::DateTime<chrono::Utc>,
    pub won_device: String,
    pub won_at: chrono::DateTime<chrono::Utc>,
    /// Why the server refused this device's edit (it had started publishing the post),
    /// when it did.
    pub reason: Option<String>,
    /// The local draft that keeps the refused edit's text, when one was made.
    pub draft: Option<String>,
}

/// A target of a synced post as the server's publisher last reported it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerTargetState {
    pub account: String,
    pub network: String,
    pub state: String,
    pub due: Option<chrono::DateTime<chrono::Utc>>,
    /// The network's URL of the published post.
    pub url: Option<String>,
    pub attempts: u32,
    /// The server's last error for it.
    pub last_error: Option<String>,
    /// When the server last changed it.
    pub updated: chrono::DateTime<chrono::Utc>,
}

/// What settling a push did with the posts the server refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Conflicts recorded (one per field of ours the server refused).
    pub conflicts: usize,
    /// The local drafts made to keep refused edits.
    pub drafts: Vec<String>,
}

/// The local changes to push, as operations, and the last oplog entry they cover.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub operations: Vec<Operation>,
    pub through_seq: i64,
    /// How many posts they touch.
    pub posts: usize,
    /// Each post's first pending oplog entry: a post held back leaves the oplog pending
    /// from there.
    pub first_seq: BTreeMap<String, i64>,
}

/// A post kept from syncing because a file it uses could not be uploaded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HeldPost {
    pub post_id: String,
    pub sha256: String,
    pub file_name: String,
    pub reason: String,
}

/// What applying pulled versions did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Operations that changed a field here.
    pub changed: usize,
    /// Conflicts recorded.
    pub conflicts: usize,
    /// Operations skipped because their value was damaged.
    pub skipped: usize,
}

/// The oplog fields of a post that travel, and the sync fields each stands for.
fn synced_fields(oplog_field: &str) -> &'static [Field] {
    match oplog_field {
        "created" => &[
            Field::Created,
            Field::Body,
            Field::Title,
            Field::Labels,
            Field::Schedule,
            Field::Deleted,
            Field::Media,
            Field::Targets,
        ],
        "body" => &[Field::Body],
        "title" => &[Field::Title],
        "labels" => &[Field::Labels],
        "schedule" => &[Field::Schedule],
        "deleted" => &[Field::Deleted],
        "media" => &[Field::Media],
        "targets" => &[Field::Targets],
        _ => &[],
    }
}

fn link_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SyncLink> {
    let secret: Option<String> = row.get(4)?;
    Ok(SyncLink {
        server: row.get(0)?,
        user: row.get(1)?,
        workspace_id: row.get(2)?,
        workspace: row.get(3)?,
        secret: secret.and_then(|s| s.parse().ok()),
        last_version: row.get(5)?,
        pushed_seq: row.get(6)?,
        last_sync: row.get::<_, Option<i64>>(7)?.map(from_ms),
        targets_seen_ms: row.get(8)?,
    })
}

const LINK_COLUMNS: &str = "server, user_name, workspace_id, workspace, secret_ref, last_version, pushed_seq, last_sync_ms, targets_seen_ms";

impl Store {
    /// This database's device id: the stamp of its operations.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Whether this database is linked to a server (`postctl login`; it stays linked after
    /// `postctl logout`): its posts are published by the server, not by this device.
    pub fn is_linked(&self) -> Result<bool> {
        is_linked(self.conn()).map_err(|e| self.error(e))
    }

    /// Where this database syncs, if it was linked with `postctl login`.
    pub fn sync_link(&self) -> Result<Option<SyncLink>> {
        self.conn()
            .query_row(
                &format!("SELECT {LINK_COLUMNS} FROM sync_link WHERE id = 1"),
                [],
                link_row,
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Links this database to `workspace` on `server` as `user`, with the session token at
    /// `secret`. Linking to another server or workspace than before starts over: every post
    /// here is pushed to it, and all of its versions are pulled.
    pub fn link_sync(
        &mut self,
        server: &str,
        user: &str,
        workspace_id: &str,
        workspace: &str,
        secret: &SecretRef,
    ) -> Result<()> {
        self.write(|tx| {
            let same: bool = tx
                .query_row(
                    "SELECT count(*) FROM sync_link WHERE server = ?1 AND workspace_id = ?2",
                    params![server, workspace_id],
                    |row| row.get::<_, i64>(0),
                )
                .map_err(|e| tx.error(e))?
                > 0;
            if !same {
                tx.execute("DELETE FROM sync_link", [])
                    .map_err(|e| tx.error(e))?;
            }
            tx.execute(
                "INSERT INTO sync_link (id, server, user_name, workspace_id, workspace, secret_ref)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET user_name = ?2, workspace = ?4, secret_ref = ?5",
                params![server, user, workspace_id, workspace, secret.to_string()],
            )
            .map_err(|e| tx.error(e))?;
            tx.record(
                "sync",
                "link",
                "linked",
                &json!({"server": server, "workspace": workspace, "user": user}),
            )
        })
    }

    /// Forgets the session (`postctl logout`); the link stays, so signing in again to the
    /// same workspace carries on where it stopped.
    pub fn unlink_session(&mut self) -> Result<bool> {
        self.write(|tx| {
            let changed = tx
                .execute(
                    "UPDATE sync_link SET secret_ref = NULL WHERE secret_ref IS NOT NULL",
                    [],
                )
                .map_err(|e| tx.error(e))?;
            Ok(changed > 0)
        })
    }

    /// Who last wrote each post field this device changed and did not push yet, as
    /// operations carrying the post's current values.
    ///
    /// The scan covers the oplog up to its last entry when it starts, and `through_seq` is
    /// that entry: what other devices wrote (pulled values) is passed over once, not read
    /// again by every later sync of a device that seldom pushes.
    pub fn pending_operations(&self) -> Result<Pending> {
        let pushed = self.sync_link()?.map_or(0, |l| l.pushed_seq);
        let last_seq: i64 = self
            .conn()
            .query_row("SELECT coalesce(max(seq), 0) FROM oplog", [], |row| {
                row.get(0)
            })
            .map_err(|e| self.error(e))?;
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT entity_id, field, max(at_ms), min(seq) FROM oplog
                 WHERE seq > ?1 AND seq <= ?3 AND device = ?2 AND entity = 'post'
                   AND field IN ('created', 'body', 'title', 'labels', 'schedule', 'deleted', 'media', 'targets')
                 GROUP BY entity_id, field ORDER BY min(seq)",
            )
            .map_err(|e| self.error(e))?;
        let rows: Vec<(String, String, i64, i64)> = stmt
            .query_map(params![pushed, self.device, last_seq], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        let through_seq = pushed.max(last_seq);
        // Per post, in the order first changed: each field's latest local time.
        let mut order: Vec<String> = Vec::new();
        let mut fields: BTreeMap<String, BTreeMap<Field, i64>> = BTreeMap::new();
        let mut first_seq: BTreeMap<String, i64> = BTreeMap::new();
        for (post, oplog_field, at_ms, first) in rows {
            let at = first_seq.entry(post.clone()).or_insert(first);
            *at = (*at).min(first);
            if !fields.contains_key(&post) {
                order.push(post.clone());
            }
            let entry = fields.entry(post).or_default();
            for field in synced_fields(&oplog_field) {
                let at = entry.entry(*field).or_insert(at_ms);
                *at = (*at).max(at_ms);
            }
        }
        // The posts other devices wrote to: only their fields can hold a newer value than
        // ours (one scan, instead of a look at every pending field).
        let touched: std::collections::BTreeSet<String> = if order.is_empty() {
            Default::default()
        } else {
            self.conn()
                .prepare_cached(
                    "SELECT DISTINCT entity_id FROM oplog WHERE entity = 'post' AND device != ?1",
                )
                .and_then(|mut stmt| {
                    stmt.query_map([&self.device], |row| row.get(0))
                        .and_then(|rows| rows.collect())
                })
                .map_err(|e| self.error(e))?
        };
        let mut operations = Vec::new();
        let mut posts = 0;
        for post in order {
            let Some(values) = self.post_values(&post)? else {
                continue;
            };
            posts += 1;
            let elsewhere = touched.contains(&post);
            for (field, at_ms) in &fields[&post] {
                // A field whose local change already lost to a newer one pulled from the
                // server (kept as a conflict) has nothing of ours left to push.
                let latest = if elsewhere {
                    held(self.conn(), &post, *field).map_err(|e| self.error(e))?
                } else {
                    None
                };
                let ours = Stamp {
                    at_ms: *at_ms,
                    device: self.device.clone(),
                };
                if latest.is_some_and(|(newest, _)| newest > ours) {
                    continue;
                }
                let value = match field {
                    Field::Created => json!({ "created_ms": values.created_ms }),
                    other => values.get(*other),
                };
                operations.push(Operation {
                    post: post.clone(),
                    field: *field,
                    value,
                    at_ms: *at_ms,
                    device: self.device.clone(),
                });
            }
        }
        Ok(Pending {
            operations,
            through_seq,
            posts,
            first_seq,
        })
    }

    /// Records that the server took the local changes through `through_seq` as `version`.
    pub fn mark_pushed(&mut self, version: &str, through_seq: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_link SET last_version = ?1, pushed_seq = max(pushed_seq, ?2),
                     last_sync_ms = ?3 WHERE id = 1",
                params![version, through_seq, to_ms(tx.now)],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }

    /// Settles a push the server answered: takes the server's state for each post it
    /// refused because it had started publishing it (the firm rule: what the publisher
    /// owns only flows down), keeps this device's refused edits as a new local draft and
    /// as conflicts, and records the version added (if any) and the local changes
    /// through `through_seq` as pushed, all in one transaction.
    pub fn settle_push(
        &mut self,
        version: Option<&str>,
        through_seq: i64,
        rejected: &[Rejected],
    ) -> Result<Settled> {
        let pushed = self.sync_link()?.map_or(0, |l| l.pushed_seq);
        self.write(|tx| {
            let mut settled = Settled::default();
            for refused in rejected {
                tx.take_server_state(refused, pushed, &mut settled)?;
            }
            tx.execute(
                "UPDATE sync_link SET last_version = coalesce(?1, last_version),
                     pushed_seq = max(pushed_seq, ?2), last_sync_ms = ?3 WHERE id = 1",
                params![version, through_seq, to_ms(tx.now)],
            )
            .map_err(|e| tx.error(e))?;
            Ok(settled)
        })
    }

    /// Records that a sync ended with nothing to push: the local changes through
    /// `through_seq` had all lost to newer ones from the server.
    pub fn mark_synced(&mut self, through_seq: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_link SET last_sync_ms = ?1, pushed_seq = max(pushed_seq, ?2)
                 WHERE id = 1",
                params![to_ms(tx.now), through_seq],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }

    /// Applies pulled versions, in order, in one transaction, and remembers the last as
    /// the last version seen. Each operation from another device is decided by
    /// [`resolve`]: a newer value is written (recorded in the oplog with its own stamp),
    /// an older one is ignored, and either way a value that loses against a change made
    /// here and not yet pushed is kept in `sync_conflicts`.
    pub fn apply_versions(&mut self, versions: &[Version]) -> Result<Applied> {
        let Some(last) = versions.last() else {
            return Ok(Applied::default());
        };
        let pushed = self.sync_link()?.map_or(0, |l| l.pushed_seq);
        self.write(|tx| {
            let mut applied = Applied::default();
            for version in versions {
                for op in &version.operations {
                    if op.device == tx.device {
                        // Our own change coming back (a push whose answer was lost).
                        continue;
                    }
                    match op.edit() {
                        Ok(edit) => tx.apply_operation(op, &edit, pushed, &mut applied)?,
                        Err(_) => applied.skipped += 1,
                    }
                }
            }
            tx.execute(
                "UPDATE sync_link SET last_version = ?1 WHERE id = 1",
                [&last.id],
            )
            .map_err(|e| tx.error(e))?;
            Ok(applied)
        })
    }

    /// How many local changes wait to be pushed (operations), without building them.
    pub fn pending_count(&self) -> Result<usize> {
        Ok(self.pending_operations()?.operations.len())
    }

    /// The conflicts recorded, newest first.
    pub fn sync_conflicts(&self, limit: usize) -> Result<Vec<Conflict>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT post_id, field, kept, lost_value, lost_device, lost_at_ms, won_device, won_at_ms,
                     reason, draft_id
                 FROM sync_conflicts ORDER BY seq DESC LIMIT ?1",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([limit as i64], |row| {
            let lost: Option<String> = row.get(3)?;
            Ok(Conflict {
                post_id: row.get(0)?,
                field: row.get(1)?,
                kept: row.get(2)?,
                lost_value: lost
                    .and_then(|l| serde_json::from_str(&l).ok())
                    .unwrap_or(Value::Null),
                lost_device: row.get(4)?,
                lost_at: from_ms(row.get(5)?),
                won_device: row.get(6)?,
                won_at: from_ms(row.get(7)?),
                reason: row.get(8)?,
                draft: row.get(9)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    /// Replaces the posts kept from syncing for a file that could not be uploaded.
    pub fn set_held_posts(&mut self, held: &[HeldPost]) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM sync_held", [])
                .map_err(|e| tx.error(e))?;
            for h in held {
                tx.execute(
                    "INSERT INTO sync_held (post_id, sha256, file_name, reason, at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (post_id) DO NOTHING",
                    params![h.post_id, h.sha256, h.file_name, h.reason, to_ms(tx.now)],
                )
                .map_err(|e| tx.error(e))?;
            }
            Ok(())
        })
    }

    /// Keeps what the server's publisher did with synced posts (its targets' states, URLs,
    /// attempts: what only flows down) and the newest change pulled, in one transaction.
    pub fn save_server_targets(
        &mut self,
        targets: &[crate::sync::client::PublishedTarget],
        until_ms: i64,
    ) -> Result<()> {
        self.write(|tx| {
            for t in targets {
                tx.execute(
                    "INSERT INTO server_targets (post_id, account, network, state, due_ms, url,
                         attempts, last_error, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (post_id, account) DO UPDATE SET network = excluded.network,
                         state = excluded.state, due_ms = excluded.due_ms, url = excluded.url,
                         attempts = excluded.attempts, last_error = excluded.last_error,
                         updated_ms = excluded.updated_ms
                     WHERE excluded.updated_ms >= server_targets.updated_ms",
                    params![
                        t.post,
                        t.account,
                        t.network,
                        t.state,
                        t.due_ms,
                        t.url,
                        t.attempt_count,
                        t.last_error,
                        t.updated_ms
                    ],
                )
                .map_err(|e| tx.error(e))?;
            }
            tx.execute(
                "UPDATE sync_link SET targets_seen_ms = max(targets_seen_ms, ?1) WHERE id = 1",
                [until_ms],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }

    /// What the server's publisher did with a post, by account name.
    pub fn server_targets(&self, post_id: &str) -> Result<Vec<ServerTargetState>> {
        self.conn()
            .prepare_cached(
                "SELECT account, network, state, due_ms, url, attempts, last_error, updated_ms
                 FROM server_targets WHERE post_id = ?1 ORDER BY account",
            )
            .and_then(|mut stmt| {
                stmt.query_map([post_id], |row| {
                    Ok(ServerTargetState {
                        account: row.get(0)?,
                        network: row.get(1)?,
                        state: row.get(2)?,
                        due: row.get::<_, Option<i64>>(3)?.map(from_ms),
                        url: row.get(4)?,
                        attempts: row.get(5)?,
                        last_error: row.get(6)?,
                        updated: from_ms(row.get(7)?),
                    })
                })
                .and_then(|rows| rows.collect())
            })
            .map_err(|e| self.error(e))
    }

    /// Remembers the workspace's accounts (name, network) as the server listed them.
    pub fn set_server_accounts(&mut self, accounts: &[(String, String)]) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM sync_server_accounts", [])
                .map_err(|e| tx.error(e))?;
            for (name, network) in accounts {
                tx.execute(
                    "INSERT INTO sync_server_accounts (name, network) VALUES (?1, ?2)
                     ON CONFLICT (name) DO NOTHING",
                    params![name, network],
                )
                .map_err(|e| tx.error(e))?;
            }
            Ok(())
        })
    }

    /// The workspace's account names as the server listed them at the last sync.
    pub fn server_account_names(&self) -> Result<Vec<String>> {
        self.conn()
            .prepare_cached("SELECT name FROM sync_server_accounts ORDER BY name")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| row.get(0))
                    .and_then(|rows| rows.collect())
            })
            .map_err(|e| self.error(e))
    }

    /// The accounts live posts here go to (and have not been published to yet) that the
    /// server did not have at the last sync, each with how many posts wait for it: the
    /// server cannot publish those until `postctl accounts push NAME`.
    pub fn accounts_missing_on_server(&self) -> Result<Vec<(String, usize)>> {
        self.conn()
            .prepare_cached(&format!(
                "SELECT name, count(DISTINCT post_id) FROM (
                     SELECT a.name AS name, t.post_id AS post_id FROM targets t
                     JOIN accounts a ON a.id = t.account_id
                     JOIN posts p ON p.id = t.post_id
                     WHERE p.deleted_ms IS NULL AND t.state IN {editable}
                     UNION ALL
                     SELECT j.value, p.id FROM posts p, json_each(p.target_names) j
                     WHERE p.deleted_ms IS NULL AND p.target_names IS NOT NULL
                       AND j.value NOT IN (SELECT name FROM accounts WHERE deleted_ms IS NULL)
                 )
                 WHERE name NOT IN (SELECT name FROM sync_server_accounts)
                 GROUP BY name ORDER BY name",
                editable = *states::EDITABLE
            ))
            .and_then(|mut stmt| {
                stmt.query_map([], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as usize)))
                    .and_then(|rows| rows.collect())
            })
            .map_err(|e| self.error(e))
    }

    /// The posts kept from syncing at the last sync, and why.
    pub fn held_posts(&self) -> Result<Vec<HeldPost>> {
        self.conn()
            .prepare_cached(
                "SELECT post_id, sha256, file_name, reason FROM sync_held ORDER BY post_id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |row| {
                    Ok(HeldPost {
                        post_id: row.get(0)?,
                        sha256: row.get(1)?,
                        file_name: row.get(2)?,
                        reason: row.get(3)?,
                    })
                })
                .and_then(|rows| rows.collect())
            })
            .map_err(|e| self.error(e))
    }

    /// The media files live posts here use, once each: what a sync fetches when the file
    /// is not in the media dir.
    pub fn media_in_use(&self) -> Result<Vec<crate::model::MediaRef>> {
        self.conn()
            .prepare_cached(
                "SELECT DISTINCT m.sha256, m.file_name, m.mime, m.size, m.width, m.height
                 FROM post_media pm JOIN media m ON m.sha256 = pm.sha256
                 JOIN posts p ON p.id = pm.post_id WHERE p.deleted_ms IS NULL",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |row| {
                    Ok(crate::model::MediaRef {
                        sha256: row.get(0)?,
                        file_name: row.get(1)?,
                        mime: row.get(2)?,
                        size: row.get::<_, i64>(3)? as u64,
                        width: row.get(4)?,
                        height: row.get(5)?,
                        alt: None,
                    })
                })
                .and_then(|rows| rows.collect())
            })
            .map_err(|e| self.error(e))
    }

    /// The number of conflicts recorded.
    pub fn sync_conflict_count(&self) -> Result<usize> {
        self.conn()
            .query_row("SELECT count(*) FROM sync_conflicts", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| n as usize)
            .map_err(|e| self.error(e))
    }

    /// Every post here (removed ones too), by id, with the fields that travel between
    /// replicas as they travel (`body`, `title`, `labels`, `schedule`, `deleted`): what
    /// two replicas that have synced agree on.
    pub fn synced_posts(&self) -> Result<BTreeMap<String, Value>> {
        let ids: Vec<String> = self
            .conn()
            .prepare_cached("SELECT id FROM posts ORDER BY id")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| row.get(0))
                    .and_then(|rows| rows.collect())
            })
            .map_err(|e| self.error(e))?;
        let mut posts = BTreeMap::new();
        for id in ids {
            if let Some(values) = self.post_values(&id)? {
                let fields: serde_json::Map<String, Value> = Field::VALUES
                    .iter()
                    .map(|f| (f.as_str().to_string(), values.get(*f)))
                    .collect();
                posts.insert(id, Value::Object(fields));
            }
        }
        Ok(posts)
    }

    fn post_values(&self, id: &str) -> Result<Option<PostValues>> {
        post_values(self.conn(), id).map_err(|e| self.error(e))
    }
}

/// A post's synced fields as they are here.
struct PostValues {
    media: Vec<crate::model::MediaRef>,
    targets: Vec<String>,
    body: String,
    title: Option<String>,
    labels: Vec<String>,
    schedule: ScheduleValue,
    deleted: bool,
    created_ms: i64,
}

impl PostValues {
    fn get(&self, field: Field) -> Value {
        match field {
            Field::Created => json!({ "created_ms": self.created_ms }),
            Field::Body => json!(self.body),
            Field::Title => json!(self.title),
            Field::Labels => json!(self.labels),
            Field::Schedule => json!(self.schedule),
            Field::Deleted => json!(self.deleted),
            Field::Media => json!(self.media),
            Field::Targets => json!(self.targets),
        }
    }
}

fn post_values(conn: &rusqlite::Connection, id: &str) -> rusqlite::Result<Option<PostValues>> {
    let media: Vec<crate::model::MediaRef> = conn
        .prepare_cached(
            "SELECT m.sha256, m.file_name, m.mime, m.size, m.width, m.height, pm.alt
             FROM post_media pm JOIN media m ON m.sha256 = pm.sha256
             WHERE pm.post_id = ?1 ORDER BY pm.position",
        )?
        .query_map([id], |row| {
            Ok(crate::model::MediaRef {
                sha256: row.get(0)?,
                file_name: row.get(1)?,
                mime: row.get(2)?,
                size: row.get::<_, i64>(3)? as u64,
                width: row.get(4)?,
                height: row.get(5)?,
                alt: row.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let targets = target_names(conn, id)?;
    conn.prepare_cached(
        "SELECT body, title, labels, schedule, rule, due_ms, tz, deleted_ms, created_ms
         FROM posts WHERE id = ?1",
    )?
    .query_row([id], |row| {
        let labels: String = row.get(2)?;
        let kind: String = row.get(3)?;
        Ok(PostValues {
            media: media.clone(),
            targets: targets.clone(),
            body: row.get(0)?,
            title: row.get(1)?,
            labels: serde_json::from_str(&labels).unwrap_or_default(),
            schedule: ScheduleValue {
                due_ms: if kind == "none" { None } else { row.get(5)? },
                kind,
                rule: row.get(4)?,
                zone: row.get(6)?,
            },
            deleted: row.get::<_, Option<i64>>(7)?.is_some(),
            created_ms: row.get(8)?,
        })
    })
    .optional()
}

/// Where a post goes, as its `targets` field travels: the value a local change of its
/// accounts or a sync last set, else the accounts' names of its targets that are not
/// cancelled, in order.
fn target_names(conn: &rusqlite::Connection, id: &str) -> rusqlite::Result<Vec<String>> {
    let set: Option<Option<String>> = conn
        .prepare_cached("SELECT target_names FROM posts WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?;
    if let Some(names) = set.flatten().and_then(|n| serde_json::from_str(&n).ok()) {
        return Ok(names);
    }
    targets_here(conn, id)
}

/// The accounts' names of a post's targets here that are not cancelled, in order.
fn targets_here(conn: &rusqlite::Connection, id: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached(&format!(
        "SELECT a.name FROM targets t JOIN accounts a ON a.id = t.account_id
         WHERE t.post_id = ?1 AND t.state != '{CANCELLED}' ORDER BY t.position, t.id",
        CANCELLED = states::CANCELLED
    ))?
    .query_map([id], |row| row.get(0))?
    .collect()
}

/// What the oplog keeps of a value applied from elsewhere: as local edits are logged,
/// that a text changed, not the text.
fn logged(op: &Operation, edit: &Edit) -> Value {
    match edit {
        Edit::Body(body) => json!({"chars": body.chars().count()}),
        Edit::Title(title) => json!(title.as_ref().map(|t| json!({"chars": t.chars().count()}))),
        _ => op.value.clone(),
    }
}

/// The stamp of the latest write of a post's field here (its own entry, or the post's
/// creation), and that entry's place in the oplog.
fn held(
    conn: &rusqlite::Connection,
    post: &str,
    field: Field,
) -> rusqlite::Result<Option<(Stamp, i64)>> {
    conn.prepare_cached(
        "SELECT at_ms, device, seq FROM oplog
         WHERE entity = 'post' AND entity_id = ?1 AND field IN (?2, 'created')
         ORDER BY at_ms DESC, device DESC LIMIT 1",
    )?
    .query_row(params![post, field.as_str()], |row| {
        Ok((
            Stamp {
                at_ms: row.get(0)?,
                device: row.get(1)?,
            },
            row.get(2)?,
        ))
    })
    .optional()
}

fn is_linked(conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM sync_link)", [], |r| r.get(0))
}

impl Tx<'_> {
    /// Whether the database is linked to a server (see [`Store::is_linked`]).
    pub(super) fn is_linked(&self) -> Result<bool> {
        is_linked(self).map_err(|e| self.error(e))
    }

    /// Logs where a post goes now (its `targets` field), after a local change of its
    /// accounts or of whether its targets are cancelled: the change a sync pushes.
    pub(super) fn log_targets(&self, id: &str) -> Result<()> {
        let names = self.names_here(id)?;
        self.set_target_names(id, &names)?;
        self.record("post", id, "targets", &names)
    }

    /// The accounts' names of a post's targets here that are not cancelled, in order.
    pub(super) fn names_here(&self, id: &str) -> Result<Vec<String>> {
        targets_here(self, id).map_err(|e| self.error(e))
    }

    /// Sets a post's `targets` field value (see [`target_names`]).
    pub(super) fn set_target_names(&self, id: &str, names: &[String]) -> Result<()> {
        self.run(
            "UPDATE posts SET target_names = ?2 WHERE id = ?1",
            params![
                id,
                serde_json::to_string(names).unwrap_or_else(|_| "[]".into())
            ],
        )?;
        Ok(())
    }

    /// Makes this device's targets of a post match the `targets` field synced from
    /// elsewhere: a target whose account is not named is cancelled if it may still be, a
    /// named account gets a target (a cancelled one is scheduled again) at the post's
    /// time, and names no account here has are kept as names. What has started
    /// publishing is not touched.
    fn write_targets(&self, post: &str, names: &[String]) -> Result<()> {
        let now = to_ms(self.now);
        let existing = self.targets(post)?;
        for (target_id, _, name, state) in &existing {
            if !names.contains(name) && state.is_editable() {
                self.set_target_state(target_id, TargetState::Cancelled, None)?;
            }
        }
        let (kind, due_ms): (String, Option<i64>) = self
            .prepare_cached("SELECT schedule, due_ms FROM posts WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([post], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(|e| self.error(e))?;
        let due = if kind == "none" {
            None
        } else {
            due_ms.map(from_ms)
        };
        self.set_target_names(post, names)?;
        let mut position = existing.len();
        for name in names {
            if let Some((target_id, _, _, state)) = existing.iter().find(|(_, _, n, _)| n == name) {
                if *state == TargetState::Cancelled {
                    let revived = if due.is_some() {
                        TargetState::Scheduled
                    } else {
                        TargetState::Draft
                    };
                    self.set_target_state(target_id, revived, due)?;
                }
                continue;
            }
            let account: Option<String> = self
                .prepare_cached("SELECT id FROM accounts WHERE name = ?1 AND deleted_ms IS NULL")
                .and_then(|mut stmt| stmt.query_row([name], |r| r.get(0)).optional())
                .map_err(|e| self.error(e))?;
            // No account of that name here: the name stays in `target_names` only.
            if let Some(account_id) = account {
                self.insert_target(post, &account_id, position, due, true)?;
                position += 1;
            }
        }
        self.run(
            "UPDATE posts SET updated_ms = ?2 WHERE id = ?1",
            params![post, now],
        )?;
        Ok(())
    }

    /// Runs one statement through the connection's cache of prepared statements: the
    /// number of rows it changed.
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
        self.prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params))
            .map_err(|e| self.error(e))
    }

    /// Appends an oplog entry with the stamp it was written with on another device.
    fn record_stamped(&self, id: &str, field: &str, value: &Value, stamp: &Stamp) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO oplog (at_ms, device, entity, entity_id, field, value)
             VALUES (?1, ?2, 'post', ?3, ?4, ?5)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                stamp.at_ms,
                stamp.device,
                id,
                field,
                value.to_string()
            ])
        })
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The stamp of the value a post's field holds here, and whether it is a local change
    /// not yet pushed.
    fn held(&self, post: &str, field: Field, pushed: i64) -> Result<Option<(Stamp, bool)>> {
        let latest = held(self, post, field).map_err(|e| self.error(e))?;
        Ok(latest.map(|(stamp, seq)| {
            let pending = stamp.device == self.device && seq > pushed;
            (stamp, pending)
        }))
    }

    pub(super) fn apply_operation(
        &self,
        op: &Operation,
        edit: &Edit,
        pushed: i64,
        applied: &mut Applied,
    ) -> Result<()> {
        // One cached statement each: a snapshot page or a page of versions applies
        // thousands of operations in its one transaction.
        let exists = self
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM posts WHERE id = ?1)")
            .and_then(|mut stmt| stmt.query_row([&op.post], |r| r.get::<_, bool>(0)))
            .map_err(|e| self.error(e))?;
        if let Edit::Created { created_ms } = edit {
            if !exists {
                self.run(
                    "INSERT INTO posts (id, body, title, labels, schedule, tz, created_ms, updated_ms)
                     VALUES (?1, '', NULL, '[]', 'none', 'UTC', ?2, ?3)",
                    params![op.post, created_ms, to_ms(self.now)],
                )?;
                // Not `created`: that entry would stamp every field of the post.
                self.record_stamped(&op.post, "received", &json!({}), &op.stamp())?;
                applied.changed += 1;
            }
            return Ok(());
        }
        if !exists {
            // A field of a post this device never received: its creation comes first in
            // every version that has it, so this is a damaged version. Skip it.
            applied.skipped += 1;
            return Ok(());
        }
        let stamp = op.stamp();
        let held = self.held(&op.post, op.field, pushed)?;
        let resolution = resolve(
            &stamp,
            held.as_ref().map(|(s, _)| s),
            held.as_ref().is_some_and(|(_, p)| *p),
        );
        let held_stamp = held.map(|(s, _)| s);
        match resolution {
            Resolution::Ignore => return Ok(()),
            Resolution::KeepLocal => {
                if let Some(won) = &held_stamp {
                    self.record_conflict(&op.post, op.field, "local", &op.value, &stamp, won)?;
                    applied.conflicts += 1;
                }
                return Ok(());
            }
            Resolution::ApplyOverLocal => {
                if let Some(lost) = &held_stamp {
                    let current = post_values(self, &op.post)
                        .map_err(|e| self.error(e))?
                        .map_or(Value::Null, |v| v.get(op.field));
                    self.record_conflict(&op.post, op.field, "server", &current, lost, &stamp)?;
                    applied.conflicts += 1;
                }
            }
            Resolution::Apply => {}
        }
        self.write_field(&op.post, edit)?;
        self.record_stamped(&op.post, op.field.as_str(), &logged(op, edit), &stamp)?;
        applied.changed += 1;
        Ok(())
    }

    /// Takes the server's state of a post it refused edits to (it had started publishing
    /// it): this device's changes to the post not yet pushed stop being pending (their
    /// oplog entries are renamed `refused:FIELD`), the post gets the server's values with
    /// their stamps, an edit of the text, title or labels becomes a new local draft (no
    /// schedule, no targets) pushed at the next sync, and each refused field is a
    /// conflict naming the reason and the draft.
    fn take_server_state(
        &self,
        refused: &Rejected,
        pushed: i64,
        settled: &mut Settled,
    ) -> Result<()> {
        let post = refused.post.as_str();
        let Some(current) = post_values(self, post).map_err(|e| self.error(e))? else {
            return Ok(());
        };
        let mine: Vec<(String, i64)> = self
            .prepare_cached(
                "SELECT field, max(at_ms) FROM oplog
                 WHERE entity = 'post' AND entity_id = ?1 AND device = ?2 AND seq > ?3
                   AND field IN ('created', 'body', 'title', 'labels', 'schedule', 'deleted', 'media', 'targets')
                 GROUP BY field",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![post, self.device, pushed], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .and_then(|rows| rows.collect())
            })
            .map_err(|e| self.error(e))?;
        let mut edited: BTreeMap<Field, i64> = BTreeMap::new();
        for (oplog_field, at_ms) in &mine {
            for field in synced_fields(oplog_field) {
                if *field != Field::Created {
                    let at = edited.entry(*field).or_insert(*at_ms);
                    *at = (*at).max(*at_ms);
                }
            }
        }
        self.execute(
            "UPDATE oplog SET field = 'refused:' || field
             WHERE entity = 'post' AND entity_id = ?1 AND device = ?2 AND seq > ?3
               AND field IN ('created', 'body', 'title', 'labels', 'schedule', 'deleted', 'media', 'targets')",
            params![post, self.device, pushed],
        )
        .map_err(|e| self.error(e))?;
        let text_edited = edited
            .keys()
            .any(|f| matches!(f, Field::Body | Field::Title | Field::Labels | Field::Media));
        let draft = if text_edited {
            let (tz, thread): (String, String) = self
                .query_row("SELECT tz, thread FROM posts WHERE id = ?1", [post], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(|e| self.error(e))?;
            let draft = NewPost {
                body: current.body.clone(),
                title: current.title.clone(),
                labels: current.labels.clone(),
                media: self.media_of(post)?,
                tz,
                schedule: crate::model::Schedule::None,
                thread: thread.parse().unwrap_or(ThreadMode::Auto),
                targets: Vec::new(),
            };
            let id = self.insert_post(&draft)?.into_iter().next();
            settled.drafts.extend(id.clone());
            id
        } else {
            None
        };
        let mut won: BTreeMap<Field, Stamp> = BTreeMap::new();
        for server in &refused.fields {
            let Some(field) = Field::parse(&server.field).filter(|f| *f != Field::Created) else {
                continue;
            };
            let op = Operation {
                post: post.to_string(),
                field,
                value: server.value.clone(),
                at_ms: server.at_ms,
                device: server.device.clone(),
            };
            let Ok(edit) = op.edit() else { continue };
            self.write_field(post, &edit)?;
            // A value this device wrote and pushed before is in the oplog already, under
            // its own stamp; logging it again would make it look pending.
            if op.device != self.device {
                self.record_stamped(post, field.as_str(), &logged(&op, &edit), &op.stamp())?;
            }
            won.insert(field, op.stamp());
        }
        for (field, at_ms) in edited {
            let lost = Stamp {
                at_ms,
                device: self.device.to_string(),
            };
            let winner = won.get(&field).cloned().unwrap_or(Stamp {
                at_ms: 0,
                device: "server".into(),
            });
            self.record_refusal(
                post,
                field,
                "server",
                &current.get(field),
                &lost,
                &winner,
                Some(&refused.reason),
                draft.as_deref(),
            )?;
            settled.conflicts += 1;
        }
        Ok(())
    }

    fn write_field(&self, post: &str, edit: &Edit) -> Result<()> {
        let now = to_ms(self.now);
        let run = |sql: &str, value: &dyn rusqlite::ToSql| {
            self.run(sql, params![post, value, now]).map(|_| ())
        };
        match edit {
            Edit::Created { .. } => Ok(()),
            Edit::Media(media) => {
                self.set_media(post, media)?;
                self.run(
                    "UPDATE posts SET updated_ms = ?2 WHERE id = ?1",
                    params![post, now],
                )
                .map(|_| ())
            }
            Edit::Targets(names) => self.write_targets(post, names),
            // Text, title, labels and removal are written only when they change: each
            // write of them updates the search index (a new post's title and removal
            // mostly do not change).
            Edit::Body(body) => run(
                "UPDATE posts SET body = ?2, updated_ms = ?3 WHERE id = ?1 AND body IS NOT ?2",
                body,
            ),
            Edit::Title(title) => run(
                "UPDATE posts SET title = ?2, updated_ms = ?3 WHERE id = ?1 AND title IS NOT ?2",
                title,
            ),
            Edit::Labels(labels) => run(
                "UPDATE posts SET labels = ?2, updated_ms = ?3 WHERE id = ?1 AND labels IS NOT ?2",
                &serde_json::to_string(labels).unwrap_or_else(|_| "[]".into()),
            ),
            Edit::Deleted(true) => {
                // Removed elsewhere: what has not started publishing here stops.
                match self.cancel(post) {
                    Ok(_) | Err(Error::NoSuchPost { .. }) => {}
                    Err(e) => return Err(e),
                }
                run(
                    "UPDATE posts SET deleted_ms = coalesce(deleted_ms, ?2), updated_ms = ?3 WHERE id = ?1",
                    &now,
                )
            }
            Edit::Deleted(false) => run(
                "UPDATE posts SET deleted_ms = NULL, updated_ms = ?3
                 WHERE id = ?1 AND ?2 IS NOT NULL AND deleted_ms IS NOT NULL",
                &now,
            ),
            Edit::Schedule(schedule) => {
                let due = if schedule.kind == "none" {
                    None
                } else {
                    schedule.due_ms
                };
                self.run(
                    "UPDATE posts SET schedule = ?2, rule = ?3, due_ms = ?4, tz = ?5, updated_ms = ?6
                     WHERE id = ?1",
                    params![post, schedule.kind, schedule.rule, due, schedule.zone, now],
                )?;
                // This device's own targets of the post follow the new time; what is
                // publishing or done stays as it is.
                self.run(
                    &format!(
                        "UPDATE targets SET state = CASE WHEN ?2 IS NULL THEN '{DRAFT}'
                                 WHEN state = '{DRAFT}' THEN '{SCHEDULED}' ELSE state END,
                             due_ms = ?2, updated_ms = ?3
                         WHERE post_id = ?1 AND state IN {editable}",
                        DRAFT = states::DRAFT,
                        SCHEDULED = states::SCHEDULED,
                        editable = *states::EDITABLE
                    ),
                    params![post, due, now],
                )?;
                Ok(())
            }
        }
    }

    fn record_conflict(
        &self,
        post: &str,
        field: Field,
        kept: &str,
        lost_value: &Value,
        lost: &Stamp,
        won: &Stamp,
    ) -> Result<()> {
        self.record_refusal(post, field, kept, lost_value, lost, won, None, None)
    }

    #[allow(clippy::too_many_arguments)]
    fn record_refusal(
        &self,
        post: &str,
        field: Field,
        kept: &str,
        lost_value: &Value,
        lost: &Stamp,
        won: &Stamp,
        reason: Option<&str>,
        draft: Option<&str>,
    ) -> Result<()> {
        self.run(
            "INSERT INTO sync_conflicts (post_id, field, kept, lost_value, lost_device, lost_at_ms,
                 won_device, won_at_ms, recorded_ms, reason, draft_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                post,
                field.as_str(),
                kept,
                lost_value.to_string(),
                lost.device,
                lost.at_ms,
                won.device,
                won.at_ms,
                to_ms(self.now),
                reason,
                draft
            ],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(post: &str, field: Field, value: Value, at_ms: i64, device: &str) -> Operation {
        Operation {
            post: post.into(),
            field,
            value,
            at_ms,
            device: device.into(),
        }
    }

    fn version(id: &str, operations: Vec<Operation>) -> Version {
        Version {
            id: id.into(),
            parent: None,
            device: "other".into(),
            created_ms: 0,
            operations,
        }
    }

    fn body(store: &Store, post: &str) -> String {
        store
            .conn()
            .query_row("SELECT body FROM posts WHERE id = ?1", [post], |r| r.get(0))
            .expect("the post")
    }

    /// A local edit of a value just pulled from a device whose stamp is not earlier than
    /// this device's clock (the same millisecond and a greater device id, or a clock ahead)
    /// is stamped after it: it wins here, is pushed, and wins on every other replica.
    #[test]
    fn a_local_edit_is_stamped_after_the_value_it_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let secret = SecretRef::File {
            account: "postctl-server:session".into(),
        };
        store
            .link_sync("http://s", "alice", "w1", "alice", &secret)
            .expect("link");
        // "~" sorts after every device id, so at the same millisecond it would win.
        let pulled_at = to_ms(chrono::Utc::now()) + 1_000;
        let pulled = version(
            "v1",
            vec![
                op(
                    "p1",
                    Field::Created,
                    json!({"created_ms": 5}),
                    pulled_at,
                    "~",
                ),
                op(
                    "p1",
                    Field::Body,
                    json!("from the other device"),
                    pulled_at,
                    "~",
                ),
                op("p1", Field::Title, json!("theirs"), pulled_at, "~"),
            ],
        );
        store.apply_versions(&[pulled]).expect("apply");
        let change = super::super::PostChange {
            body: Some("edited here".into()),
            ..Default::default()
        };
        store.update_post("p1", &change, None).expect("edit");
        assert_eq!(body(&store, "p1"), "edited here");
        let pending = store.pending_operations().expect("pending");
        let pushed: Vec<_> = pending
            .operations
            .iter()
            .filter(|o| o.field == Field::Body)
            .collect();
        assert_eq!(pushed.len(), 1, "the local edit is pushed: {pending:?}");
        assert_eq!(pushed[0].value, json!("edited here"));
        let theirs = Stamp {
            at_ms: pulled_at,
            device: "~".into(),
        };
        assert!(
            pushed[0].stamp() > theirs,
            "{:?} after {theirs:?}",
            pushed[0]
        );
        // The other device holds its own value, synced: ours replaces it there.
        assert_eq!(
            resolve(&pushed[0].stamp(), Some(&theirs), false),
            Resolution::Apply
        );
        // A field the edit did not touch is not pushed.
        assert!(pending.operations.iter().all(|o| o.field != Field::Title));
    }

    #[test]
    fn a_version_applies_once_and_older_values_lose() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let secret = SecretRef::File {
            account: "postctl-server:session".into(),
        };
        store
            .link_sync("http://s", "alice", "w1", "alice", &secret)
            .expect("link");
        let first = version(
            "v1",
            vec![
                op("p1", Field::Created, json!({"created_ms": 5}), 100, "other"),
                op("p1", Field::Body, json!("from other"), 100, "other"),
                op("p1", Field::Title, json!("t"), 100, "other"),
            ],
        );
        let applied = store
            .apply_versions(std::slice::from_ref(&first))
            .expect("apply");
        assert_eq!((applied.changed, applied.conflicts), (3, 0));
        assert_eq!(body(&store, "p1"), "from other");
        // The same version again (an answer lost on the way) changes nothing.
        let again = store.apply_versions(&[first]).expect("apply");
        assert_eq!(again, Applied::default());
        assert_eq!(
            store
                .sync_link()
                .expect("link")
                .and_then(|l| l.last_version),
            Some("v1".into())
        );
        // An older value loses, a newer one wins, a damaged one is skipped, and this
        // device's own operations coming back are left alone.
        let own = store.device().to_string();
        let second = version(
            "v2",
            vec![
                op("p1", Field::Body, json!("older"), 50, "zzz"),
                op("p1", Field::Title, json!(7), 300, "other"),
                op("p1", Field::Body, json!("mine, again"), 400, &own),
                op("p1", Field::Body, json!("newer"), 200, "other"),
            ],
        );
        let applied = store.apply_versions(&[second]).expect("apply");
        assert_eq!((applied.changed, applied.skipped), (1, 1));
        assert_eq!(body(&store, "p1"), "newer");
        // Nothing pulled is pending: only this device's changes are pushed.
        assert!(
            store
                .pending_operations()
                .expect("pending")
                .operations
                .is_empty()
        );
    }
}
