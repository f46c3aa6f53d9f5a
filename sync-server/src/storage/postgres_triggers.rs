//! Templates, voices and triggers on PostgreSQL. A trigger fires once per event: the
//! firing's row has a unique key, so of two processes handling one redelivered event the
//! second waits on the first's row and then inserts nothing, and rolls its post back.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::postgres::Cached;
use super::postgres::{
    PgStorage, db_error, insert_post, insert_target, record_event, stamp_api_fields,
};
use super::postgres_queue::queue_in;
use super::{
    Event, Fired, Post, PostStamps, Queued, Result, StoredTemplate, StoredVoice, Target, Trigger,
    TriggerKind,
};

const TEMPLATE_COLUMNS: &str = "workspace_id, name, body, variants, created_ms, updated_ms";
const VOICE_COLUMNS: &str = "workspace_id, name, settings, created_ms, updated_ms";
const TRIGGER_COLUMNS: &str = "id, workspace_id, kind, template, accounts, secret, prereleases, \
     description, created_by, created_ms, queue";

fn template_row(r: &Row) -> StoredTemplate {
    let variants: String = r.get(3);
    StoredTemplate {
        workspace_id: r.get(0),
        name: r.get(1),
        body: r.get(2),
        variants: serde_json::from_str(&variants).unwrap_or_default(),
        created_ms: r.get(4),
        updated_ms: r.get(5),
    }
}

fn voice_row(r: &Row) -> StoredVoice {
    StoredVoice {
        workspace_id: r.get(0),
        name: r.get(1),
        settings: r.get(2),
        created_ms: r.get(3),
        updated_ms: r.get(4),
    }
}

fn trigger_row(r: &Row) -> Trigger {
    let kind: String = r.get(2);
    let accounts: String = r.get(4);
    Trigger {
        id: r.get(0),
        workspace_id: r.get(1),
        kind: TriggerKind::parse(&kind).unwrap_or(TriggerKind::Generic),
        template: r.get(3),
        accounts: accounts.split_whitespace().map(str::to_string).collect(),
        secret: r.get(5),
        prereleases: r.get(6),
        description: r.get(7),
        created_by: r.get(8),
        created_ms: r.get(9),
        queue: r.get(10),
    }
}

impl PgStorage {
    pub(super) async fn put_template_now(&self, t: &StoredTemplate) -> Result<bool> {
        let variants = serde_json::to_string(&t.variants).unwrap_or_else(|_| "{}".into());
        let row = self
            .client()
            .await?
            .row(
                &format!(
                    "INSERT INTO templates ({TEMPLATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (workspace_id, name) DO UPDATE
                     SET body = excluded.body, variants = excluded.variants,
                         updated_ms = excluded.updated_ms
                     RETURNING (xmax = 0)"
                ),
                &[
                    &t.workspace_id,
                    &t.name,
                    &t.body,
                    &variants,
                    &t.created_ms,
                    &t.updated_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(row.get(0))
    }

    pub(super) async fn templates_now(&self, workspace_id: &str) -> Result<Vec<StoredTemplate>> {
        let rows = self
            .client()
            .await?
            .rows(
                &format!(
                    "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE workspace_id = $1 ORDER BY name"
                ),
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(template_row).collect())
    }

    pub(super) async fn template_now(
        &self,
        workspace_id: &str,
        name: &str,
    ) -> Result<Option<StoredTemplate>> {
        let row = self
            .client()
            .await?
            .maybe_row(
                &format!(
                    "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE workspace_id = $1 AND name = $2"
                ),
                &[&workspace_id, &name],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(template_row))
    }

    pub(super) async fn delete_template_now(&self, workspace_id: &str, name: &str) -> Result<bool> {
        let n = self
            .client()
            .await?
            .exec(
                "DELETE FROM templates WHERE workspace_id = $1 AND name = $2",
                &[&workspace_id, &name],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn put_voice_now(&self, v: &StoredVoice) -> Result<bool> {
        let row = self
            .client()
            .await?
            .row(
                &format!(
                    "INSERT INTO voices ({VOICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (workspace_id, name) DO UPDATE
                     SET settings = excluded.settings, updated_ms = excluded.updated_ms
                     RETURNING (xmax = 0)"
                ),
                &[
                    &v.workspace_id,
                    &v.name,
                    &v.settings,
                    &v.created_ms,
                    &v.updated_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(row.get(0))
    }

    pub(super) async fn voices_now(&self, workspace_id: &str) -> Result<Vec<StoredVoice>> {
        let rows = self
            .client()
            .await?
            .rows(
                &format!(
                    "SELECT {VOICE_COLUMNS} FROM voices WHERE workspace_id = $1 ORDER BY name"
                ),
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(voice_row).collect())
    }

    pub(super) async fn voice_now(
        &self,
        workspace_id: &str,
        name: &str,
    ) -> Result<Option<StoredVoice>> {
        let row = self
            .client()
            .await?
            .maybe_row(
                &format!(
                    "SELECT {VOICE_COLUMNS} FROM voices WHERE workspace_id = $1 AND name = $2"
                ),
                &[&workspace_id, &name],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(voice_row))
    }

    pub(super) async fn delete_voice_now(&self, workspace_id: &str, name: &str) -> Result<bool> {
        let n = self
            .client()
            .await?
            .exec(
                "DELETE FROM voices WHERE workspace_id = $1 AND name = $2",
                &[&workspace_id, &name],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn create_trigger_now(&self, t: &Trigger) -> Result<()> {
        self.client()
            .await?
            .exec(
                &format!(
                    "INSERT INTO triggers ({TRIGGER_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ),
                &[
                    &t.id,
                    &t.workspace_id,
                    &t.kind.as_str(),
                    &t.template,
                    &t.accounts.join(" "),
                    &t.secret,
                    &t.prereleases,
                    &t.description,
                    &t.created_by,
                    &t.created_ms,
                    &t.queue,
                ],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    pub(super) async fn triggers_now(&self, workspace_id: &str) -> Result<Vec<Trigger>> {
        let rows = self
            .client()
            .await?
            .rows(
                &format!(
                    "SELECT {TRIGGER_COLUMNS} FROM triggers WHERE workspace_id = $1 ORDER BY id"
                ),
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(trigger_row).collect())
    }

    pub(super) async fn trigger_now(&self, id: &str) -> Result<Option<Trigger>> {
        let row = self
            .client()
            .await?
            .maybe_row(
                &format!("SELECT {TRIGGER_COLUMNS} FROM triggers WHERE id = $1"),
                &[&id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(trigger_row))
    }

    pub(super) async fn delete_trigger_now(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec(
            "DELETE FROM trigger_firings WHERE trigger_id IN
             (SELECT id FROM triggers WHERE workspace_id = $1 AND id = $2)",
            &[&workspace_id, &id],
        )
        .await
        .map_err(db_error)?;
        let n = tx
            .exec(
                "DELETE FROM triggers WHERE workspace_id = $1 AND id = $2",
                &[&workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
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
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let placed;
        let (post, targets, events) = match queue {
            None => (post, targets, events),
            Some(queued) => {
                let before = tx
                    .maybe_row(
                        "SELECT post_id FROM trigger_firings WHERE trigger_id = $1 AND dedupe_key = $2",
                        &[&trigger_id, &dedupe_key],
                    )
                    .await
                    .map_err(db_error)?;
                if let Some(row) = before {
                    return Ok(Fired::Already {
                        post_id: row.get(0),
                    });
                }
                placed = queue_in(&tx, post, targets, queued).await?;
                (&placed.0, placed.1.as_slice(), placed.2.as_slice())
            }
        };
        // The post goes first: the firing's row refers to it.
        insert_post(&tx, post).await?;
        let recorded = tx
            .exec(
                "INSERT INTO trigger_firings (trigger_id, dedupe_key, post_id, created_ms)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (trigger_id, dedupe_key) DO NOTHING",
                &[&trigger_id, &dedupe_key, &post.id, &post.created_ms],
            )
            .await
            .map_err(db_error)?;
        if recorded == 0 {
            let post_id: String = tx
                .row(
                    "SELECT post_id FROM trigger_firings WHERE trigger_id = $1 AND dedupe_key = $2",
                    &[&trigger_id, &dedupe_key],
                )
                .await
                .map_err(db_error)?
                .get(0);
            // Dropping the transaction rolls the post back.
            return Ok(Fired::Already { post_id });
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
        Ok(Fired::Made)
    }
}
