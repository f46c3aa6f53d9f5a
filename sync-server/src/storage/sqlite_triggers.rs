//! Templates, voices and triggers on SQLite ([`Storage::put_template`](super::Storage::put_template)
//! and its neighbours). Each method is one statement or one IMMEDIATE transaction.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::sqlite::{SqliteStorage, insert_post, insert_target, record_event, stamp_api_fields};
use super::sqlite_queue::queue_in;
use super::{
    Event, Fired, Post, PostStamps, Queued, Result, StoredTemplate, StoredVoice, Target, Trigger,
    TriggerKind,
};

const TEMPLATE_COLUMNS: &str = "workspace_id, name, body, variants, created_ms, updated_ms";
const VOICE_COLUMNS: &str = "workspace_id, name, settings, created_ms, updated_ms";
const TRIGGER_COLUMNS: &str = "id, workspace_id, kind, template, accounts, secret, prereleases, \
     description, created_by, created_ms, queue";

fn template_row(r: &Row) -> rusqlite::Result<StoredTemplate> {
    let variants: String = r.get(3)?;
    Ok(StoredTemplate {
        workspace_id: r.get(0)?,
        name: r.get(1)?,
        body: r.get(2)?,
        variants: serde_json::from_str(&variants).unwrap_or_default(),
        created_ms: r.get(4)?,
        updated_ms: r.get(5)?,
    })
}

fn voice_row(r: &Row) -> rusqlite::Result<StoredVoice> {
    Ok(StoredVoice {
        workspace_id: r.get(0)?,
        name: r.get(1)?,
        settings: r.get(2)?,
        created_ms: r.get(3)?,
        updated_ms: r.get(4)?,
    })
}

fn trigger_row(r: &Row) -> rusqlite::Result<Trigger> {
    let kind: String = r.get(2)?;
    let accounts: String = r.get(4)?;
    Ok(Trigger {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        kind: TriggerKind::parse(&kind).unwrap_or(TriggerKind::Generic),
        template: r.get(3)?,
        accounts: accounts.split_whitespace().map(str::to_string).collect(),
        secret: r.get(5)?,
        prereleases: r.get(6)?,
        description: r.get(7)?,
        created_by: r.get(8)?,
        created_ms: r.get(9)?,
        queue: r.get(10)?,
    })
}

impl SqliteStorage {
    pub(super) async fn put_template_now(&self, t: &StoredTemplate) -> Result<bool> {
        let t = t.clone();
        let variants = serde_json::to_string(&t.variants).unwrap_or_else(|_| "{}".into());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let updated = tx.execute(
                "UPDATE templates SET body = ?3, variants = ?4, updated_ms = ?5
                 WHERE workspace_id = ?1 AND name = ?2",
                params![t.workspace_id, t.name, t.body, variants, t.updated_ms],
            )?;
            if updated == 0 {
                tx.execute(
                    &format!(
                        "INSERT INTO templates ({TEMPLATE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                    ),
                    params![
                        t.workspace_id,
                        t.name,
                        t.body,
                        variants,
                        t.created_ms,
                        t.updated_ms
                    ],
                )?;
            }
            tx.commit()?;
            Ok(updated == 0)
        })
        .await
    }

    pub(super) async fn templates_now(&self, workspace_id: &str) -> Result<Vec<StoredTemplate>> {
        let w = workspace_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE workspace_id = ?1 ORDER BY name"
            ))?;
            stmt.query_map([w], template_row)?.collect()
        })
        .await
    }

    pub(super) async fn template_now(
        &self,
        workspace_id: &str,
        name: &str,
    ) -> Result<Option<StoredTemplate>> {
        let (w, n) = (workspace_id.to_string(), name.to_string());
        self.call(move |c| {
            c.query_row(
                &format!(
                    "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE workspace_id = ?1 AND name = ?2"
                ),
                [w, n],
                template_row,
            )
            .optional()
        })
        .await
    }

    pub(super) async fn delete_template_now(&self, workspace_id: &str, name: &str) -> Result<bool> {
        let (w, n) = (workspace_id.to_string(), name.to_string());
        self.call(move |c| {
            c.execute(
                "DELETE FROM templates WHERE workspace_id = ?1 AND name = ?2",
                [w, n],
            )
        })
        .await
        .map(|n| n == 1)
    }

    pub(super) async fn put_voice_now(&self, v: &StoredVoice) -> Result<bool> {
        let v = v.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let updated = tx.execute(
                "UPDATE voices SET settings = ?3, updated_ms = ?4
                 WHERE workspace_id = ?1 AND name = ?2",
                params![v.workspace_id, v.name, v.settings, v.updated_ms],
            )?;
            if updated == 0 {
                tx.execute(
                    &format!("INSERT INTO voices ({VOICE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
                    params![
                        v.workspace_id,
                        v.name,
                        v.settings,
                        v.created_ms,
                        v.updated_ms
                    ],
                )?;
            }
            tx.commit()?;
            Ok(updated == 0)
        })
        .await
    }

    pub(super) async fn voices_now(&self, workspace_id: &str) -> Result<Vec<StoredVoice>> {
        let w = workspace_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {VOICE_COLUMNS} FROM voices WHERE workspace_id = ?1 ORDER BY name"
            ))?;
            stmt.query_map([w], voice_row)?.collect()
        })
        .await
    }

    pub(super) async fn voice_now(
        &self,
        workspace_id: &str,
        name: &str,
    ) -> Result<Option<StoredVoice>> {
        let (w, n) = (workspace_id.to_string(), name.to_string());
        self.call(move |c| {
            c.query_row(
                &format!(
                    "SELECT {VOICE_COLUMNS} FROM voices WHERE workspace_id = ?1 AND name = ?2"
                ),
                [w, n],
                voice_row,
            )
            .optional()
        })
        .await
    }

    pub(super) async fn delete_voice_now(&self, workspace_id: &str, name: &str) -> Result<bool> {
        let (w, n) = (workspace_id.to_string(), name.to_string());
        self.call(move |c| {
            c.execute(
                "DELETE FROM voices WHERE workspace_id = ?1 AND name = ?2",
                [w, n],
            )
        })
        .await
        .map(|n| n == 1)
    }

    pub(super) async fn create_trigger_now(&self, t: &Trigger) -> Result<()> {
        let t = t.clone();
        self.call(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO triggers ({TRIGGER_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ),
                params![
                    t.id,
                    t.workspace_id,
                    t.kind.as_str(),
                    t.template,
                    t.accounts.join(" "),
                    t.secret,
                    t.prereleases,
                    t.description,
                    t.created_by,
                    t.created_ms,
                    t.queue
                ],
            )
            .map(drop)
        })
        .await
    }

    pub(super) async fn triggers_now(&self, workspace_id: &str) -> Result<Vec<Trigger>> {
        let w = workspace_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TRIGGER_COLUMNS} FROM triggers WHERE workspace_id = ?1 ORDER BY id"
            ))?;
            stmt.query_map([w], trigger_row)?.collect()
        })
        .await
    }

    pub(super) async fn trigger_now(&self, id: &str) -> Result<Option<Trigger>> {
        let id = id.to_string();
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {TRIGGER_COLUMNS} FROM triggers WHERE id = ?1"),
                [id],
                trigger_row,
            )
            .optional()
        })
        .await
    }

    pub(super) async fn delete_trigger_now(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM trigger_firings WHERE trigger_id IN
                 (SELECT id FROM triggers WHERE workspace_id = ?1 AND id = ?2)",
                [&w, &id],
            )?;
            let n = tx.execute(
                "DELETE FROM triggers WHERE workspace_id = ?1 AND id = ?2",
                [&w, &id],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fire_trigger_now(
        &self,
        trigger_id: &str,
        dedupe_key: &str,
        post: &Post,
        targets: &[Target],
        events: &[Event],
        queue: Option<&Queued>,
        stamps: &PostStamps,
    ) -> Result<Fired> {
        let (trigger_id, key) = (trigger_id.to_string(), dedupe_key.to_string());
        let (p, targets, events) = (post.clone(), targets.to_vec(), events.to_vec());
        let (queue, stamps) = (queue.cloned(), stamps.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (p, targets, events) = match &queue {
                None => (p, targets, events),
                Some(queued) => {
                    let before: Option<String> = tx
                        .query_row(
                            "SELECT post_id FROM trigger_firings
                             WHERE trigger_id = ?1 AND dedupe_key = ?2",
                            [&trigger_id, &key],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if let Some(post_id) = before {
                        return Ok(Ok(Fired::Already { post_id }));
                    }
                    match queue_in(&tx, &p, &targets, queued)? {
                        Ok(placed) => placed,
                        Err(e) => return Ok(Err(e)),
                    }
                }
            };
            // The post goes first: the firing's row refers to it.
            insert_post(&tx, &p)?;
            let recorded = tx.execute(
                "INSERT INTO trigger_firings (trigger_id, dedupe_key, post_id, created_ms)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (trigger_id, dedupe_key) DO NOTHING",
                params![trigger_id, key, p.id, p.created_ms],
            )?;
            if recorded == 0 {
                let post_id: String = tx.query_row(
                    "SELECT post_id FROM trigger_firings WHERE trigger_id = ?1 AND dedupe_key = ?2",
                    [&trigger_id, &key],
                    |r| r.get(0),
                )?;
                // Dropping the transaction rolls the post back.
                return Ok(Ok(Fired::Already { post_id }));
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
            Ok(Ok(Fired::Made))
        })
        .await?
    }
}
