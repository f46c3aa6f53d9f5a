//! Notifications on PostgreSQL (the `Storage` methods after `purge`). Claims are one
//! `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, so processes
//! claiming together pass over each other's rows instead of waiting for them.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::notifications::sql::*;
use super::postgres::Cached;
use super::postgres::{PgStorage, db_error};
use super::sql::pg;
use super::sqlite_notify::finish_columns;
use super::{
    Channel, ChannelKind, DigestSchedule, Event, InboxItem, InboxQuery, NotificationEvent,
    NotificationSend, NotificationSettings, Result, Routed, SendEnd, SendState, StorageError,
};

fn event_row(r: &Row) -> NotificationEvent {
    NotificationEvent {
        id: r.get(0),
        workspace_id: r.get(1),
        event_type: r.get(2),
        payload: r.get(3),
        created_ms: r.get(4),
    }
}

fn inbox_row(r: &Row) -> InboxItem {
    InboxItem {
        id: r.get(0),
        user_id: r.get(1),
        workspace_id: r.get(2),
        event_type: r.get(3),
        title: r.get(4),
        body: r.get(5),
        created_ms: r.get(6),
        read_ms: r.get(7),
    }
}

fn channel_row(r: &Row) -> Result<Channel> {
    let kind: String = r.get(2);
    Ok(Channel {
        id: r.get(0),
        user_id: r.get(1),
        kind: ChannelKind::parse(&kind)
            .ok_or_else(|| StorageError::Database(format!("unknown channel kind {kind:?}")))?,
        address: r.get(3),
        secret: r.get(4),
        created_ms: r.get(5),
    })
}

fn send_row(r: &Row) -> NotificationSend {
    let state: String = r.get(7);
    NotificationSend {
        id: r.get(0),
        channel_id: r.get(1),
        user_id: r.get(2),
        event_type: r.get(3),
        subject: r.get(4),
        text: r.get(5),
        html: r.get(6),
        state: SendState::parse(&state).unwrap_or(SendState::Failed),
        attempts: u32::try_from(r.get::<_, i64>(8)).unwrap_or(u32::MAX),
        next_attempt_ms: r.get(9),
        last_error: r.get(10),
        created_ms: r.get(11),
    }
}

fn digest_row(r: &Row) -> DigestSchedule {
    DigestSchedule {
        user_id: r.get(0),
        at_minute: u32::try_from(r.get::<_, i64>(1)).unwrap_or(0),
        zone: r.get(2),
        next_ms: r.get(3),
    }
}

/// Keeps an event for the notifier (inside the transaction recording it for webhooks).
pub(super) async fn queue_for_notifier(c: &impl GenericClient, event: &Event) -> Result<()> {
    if event.event_type == "ping" {
        return Ok(());
    }
    c.exec(
        &pg(INSERT_EVENT),
        &[
            &uuid::Uuid::now_v7().to_string(),
            &event.workspace_id,
            &event.event_type,
            &event.payload,
            &event.created_ms,
        ],
    )
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn write_routed(c: &impl GenericClient, routed: &Routed) -> Result<()> {
    for i in &routed.inbox {
        c.exec(
            &pg(INSERT_INBOX),
            &[
                &i.id,
                &i.user_id,
                &i.workspace_id,
                &i.event_type,
                &i.title,
                &i.body,
                &i.created_ms,
                &i.read_ms,
            ],
        )
        .await
        .map_err(db_error)?;
    }
    for s in &routed.sends {
        c.exec(
            &pg(INSERT_SEND),
            &[
                &s.id,
                &s.channel_id,
                &s.user_id,
                &s.event_type,
                &s.subject,
                &s.text,
                &s.html,
                &s.state.as_str(),
                &i64::from(s.attempts),
                &s.next_attempt_ms,
                &s.last_error,
                &s.created_ms,
            ],
        )
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

impl PgStorage {
    pub(super) async fn claim_notification_events_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<NotificationEvent>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "UPDATE notification_events SET lease_owner = $1, lease_until_ms = $2 + $3
                     WHERE id IN (
                       SELECT id FROM notification_events
                       WHERE routed_ms IS NULL
                         AND (lease_until_ms IS NULL OR lease_until_ms <= $2)
                       ORDER BY created_ms, id LIMIT $4
                       FOR UPDATE SKIP LOCKED)
                     RETURNING {EVENT_COLUMNS}"
                ),
                &[&owner, &now_ms, &lease_ms, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        let mut found: Vec<NotificationEvent> = rows.iter().map(event_row).collect();
        found.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        Ok(found)
    }

    pub(super) async fn route_notification_event_now(
        &self,
        event_id: &str,
        owner: &str,
        routed: &Routed,
        now_ms: i64,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(&pg(MARK_ROUTED), &[&event_id, &owner, &now_ms])
            .await
            .map_err(db_error)?;
        if n != 1 {
            return Ok(false);
        }
        write_routed(&tx, routed).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    pub(super) async fn notification_events_between_now(
        &self,
        workspace_id: &str,
        from_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<NotificationEvent>> {
        let client = self.client().await?;
        let rows = client
            .rows(&pg(EVENTS_BETWEEN), &[&workspace_id, &from_ms, &until_ms])
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(event_row).collect())
    }

    pub(super) async fn claim_notification_sends_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(NotificationSend, Channel)>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let rows = tx
            .rows(
                &format!(
                    "UPDATE notification_sends SET lease_owner = $1, lease_until_ms = $2 + $3
                     WHERE id IN (
                       SELECT s.id FROM notification_sends s
                       JOIN notification_channels c ON c.id = s.channel_id
                       WHERE s.state = 'pending' AND s.next_attempt_ms <= $2
                         AND (s.lease_until_ms IS NULL OR s.lease_until_ms <= $2)
                       ORDER BY s.next_attempt_ms, s.id LIMIT $4
                       FOR UPDATE OF s SKIP LOCKED)
                     RETURNING {SEND_COLUMNS}"
                ),
                &[&owner, &now_ms, &lease_ms, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let send = send_row(row);
            let channel = tx
                .row(
                    &format!("SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1"),
                    &[&send.channel_id],
                )
                .await
                .map_err(db_error)?;
            claimed.push((send, channel_row(&channel)?));
        }
        tx.commit().await.map_err(db_error)?;
        claimed.sort_by(|a, b| (a.0.next_attempt_ms, &a.0.id).cmp(&(b.0.next_attempt_ms, &b.0.id)));
        Ok(claimed)
    }

    pub(super) async fn finish_notification_send_now(
        &self,
        id: &str,
        owner: &str,
        end: &SendEnd,
        now_ms: i64,
    ) -> Result<bool> {
        let (state, next, error, finished) = finish_columns(end, now_ms);
        let client = self.client().await?;
        let n = client
            .exec(
                &pg(FINISH_SEND),
                &[&id, &owner, &state.as_str(), &next, &error, &finished],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn notification_send_now(&self, id: &str) -> Result<Option<NotificationSend>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!("SELECT {SEND_COLUMNS} FROM notification_sends WHERE id = $1"),
                &[&id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(send_row))
    }

    pub(super) async fn notification_sends_now(
        &self,
        user_id: &str,
        limit: u32,
    ) -> Result<Vec<NotificationSend>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {SEND_COLUMNS} FROM notification_sends WHERE user_id = $1
                     ORDER BY id DESC LIMIT $2"
                ),
                &[&user_id, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(send_row).collect())
    }

    pub(super) async fn inbox_now(&self, q: &InboxQuery) -> Result<Vec<InboxItem>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &pg(INBOX_PAGE),
                &[
                    &q.user_id,
                    &q.workspace_id,
                    &i64::from(q.unread_only),
                    &q.before_id,
                    &i64::from(q.limit),
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(inbox_row).collect())
    }

    pub(super) async fn mark_inbox_read_now(
        &self,
        user_id: &str,
        workspace_id: &str,
        id: Option<&str>,
        now_ms: i64,
    ) -> Result<u64> {
        let client = self.client().await?;
        client
            .exec(&pg(MARK_READ), &[&user_id, &workspace_id, &id, &now_ms])
            .await
            .map_err(db_error)
    }

    pub(super) async fn inbox_item_exists_now(
        &self,
        user_id: &str,
        workspace_id: &str,
        id: &str,
    ) -> Result<bool> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                "SELECT 1 FROM inbox WHERE user_id = $1 AND workspace_id = $2 AND id = $3",
                &[&user_id, &workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.is_some())
    }

    pub(super) async fn create_channel_now(&self, ch: &Channel) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(
                &pg(INSERT_CHANNEL),
                &[
                    &ch.id,
                    &ch.user_id,
                    &ch.kind.as_str(),
                    &ch.address,
                    &ch.secret,
                    &ch.created_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    pub(super) async fn channels_now(&self, user_id: &str) -> Result<Vec<Channel>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE user_id = $1 ORDER BY id"
                ),
                &[&user_id],
            )
            .await
            .map_err(db_error)?;
        rows.iter().map(channel_row).collect()
    }

    pub(super) async fn delete_channel_now(&self, user_id: &str, id: &str) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(
                "DELETE FROM notification_channels WHERE user_id = $1 AND id = $2",
                &[&user_id, &id],
            )
            .await
            .map_err(db_error)?;
        if n == 1 {
            tx.exec(
                "DELETE FROM notification_sends WHERE channel_id = $1 AND state = 'pending'",
                &[&id],
            )
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    pub(super) async fn notification_settings_now(
        &self,
        user_id: &str,
    ) -> Result<NotificationSettings> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "SELECT event_type, channels FROM notification_preferences
                 WHERE user_id = $1 ORDER BY event_type",
                &[&user_id],
            )
            .await
            .map_err(db_error)?;
        let preferences = rows
            .iter()
            .map(|r| {
                let channels: String = r.get(1);
                (
                    r.get::<_, String>(0),
                    channels.split_whitespace().map(str::to_string).collect(),
                )
            })
            .collect();
        let digest = client
            .maybe_row(
                &format!("SELECT {DIGEST_COLUMNS} FROM notification_digests WHERE user_id = $1"),
                &[&user_id],
            )
            .await
            .map_err(db_error)?
            .as_ref()
            .map(digest_row);
        Ok(NotificationSettings {
            preferences,
            digest,
        })
    }

    pub(super) async fn save_notification_settings_now(
        &self,
        user_id: &str,
        s: &NotificationSettings,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec(
            "DELETE FROM notification_preferences WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(db_error)?;
        for (event, channels) in &s.preferences {
            tx.exec(
                "INSERT INTO notification_preferences (user_id, event_type, channels)
                 VALUES ($1, $2, $3)",
                &[&user_id, event, &channels.join(" ")],
            )
            .await
            .map_err(db_error)?;
        }
        tx.exec(
            "DELETE FROM notification_digests WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(db_error)?;
        if let Some(d) = &s.digest {
            tx.exec(
                "INSERT INTO notification_digests (user_id, at_minute, zone, next_ms)
                 VALUES ($1, $2, $3, $4)",
                &[&user_id, &i64::from(d.at_minute), &d.zone, &d.next_ms],
            )
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    pub(super) async fn claim_digests_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DigestSchedule>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "UPDATE notification_digests SET lease_owner = $1, lease_until_ms = $2 + $3
                     WHERE user_id IN (
                       SELECT user_id FROM notification_digests
                       WHERE next_ms <= $2 AND (lease_until_ms IS NULL OR lease_until_ms <= $2)
                       ORDER BY next_ms, user_id LIMIT $4
                       FOR UPDATE SKIP LOCKED)
                     RETURNING {DIGEST_COLUMNS}"
                ),
                &[&owner, &now_ms, &lease_ms, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        let mut found: Vec<DigestSchedule> = rows.iter().map(digest_row).collect();
        found.sort_by(|a, b| (a.next_ms, &a.user_id).cmp(&(b.next_ms, &b.user_id)));
        Ok(found)
    }

    pub(super) async fn finish_digest_now(
        &self,
        user_id: &str,
        owner: &str,
        due_ms: i64,
        next_ms: i64,
        routed: &Routed,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(&pg(MOVE_DIGEST), &[&user_id, &owner, &due_ms, &next_ms])
            .await
            .map_err(db_error)?;
        if n != 1 {
            return Ok(false);
        }
        write_routed(&tx, routed).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }
}
