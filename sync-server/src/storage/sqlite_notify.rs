//! Notifications on SQLite (the `Storage` methods after `purge`). Reads go through the
//! read-only connections, writes through the writer. Claims run in an
//! IMMEDIATE transaction, which holds the write lock from its first statement, so a claim
//! by another process waits and then sees these leases.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::notifications::sql::*;
use super::sqlite::SqliteStorage;
use super::{
    Channel, ChannelKind, DigestSchedule, Event, InboxItem, InboxQuery, NotificationEvent,
    NotificationSend, NotificationSettings, Result, Routed, SendEnd, SendState,
};

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NotificationEvent> {
    Ok(NotificationEvent {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        event_type: r.get(2)?,
        payload: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

fn inbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InboxItem> {
    Ok(InboxItem {
        id: r.get(0)?,
        user_id: r.get(1)?,
        workspace_id: r.get(2)?,
        event_type: r.get(3)?,
        title: r.get(4)?,
        body: r.get(5)?,
        created_ms: r.get(6)?,
        read_ms: r.get(7)?,
    })
}

fn channel_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Channel> {
    let kind: String = r.get(2)?;
    Ok(Channel {
        id: r.get(0)?,
        user_id: r.get(1)?,
        kind: ChannelKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unknown channel kind {kind:?}").into(),
            )
        })?,
        address: r.get(3)?,
        secret: r.get(4)?,
        created_ms: r.get(5)?,
    })
}

fn send_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NotificationSend> {
    let state: String = r.get(7)?;
    Ok(NotificationSend {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        user_id: r.get(2)?,
        event_type: r.get(3)?,
        subject: r.get(4)?,
        text: r.get(5)?,
        html: r.get(6)?,
        state: SendState::parse(&state).unwrap_or(SendState::Failed),
        attempts: u32::try_from(r.get::<_, i64>(8)?).unwrap_or(u32::MAX),
        next_attempt_ms: r.get(9)?,
        last_error: r.get(10)?,
        created_ms: r.get(11)?,
    })
}

fn digest_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DigestSchedule> {
    Ok(DigestSchedule {
        user_id: r.get(0)?,
        at_minute: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        zone: r.get(2)?,
        next_ms: r.get(3)?,
    })
}

/// Keeps an event for the notifier (inside the transaction recording it for webhooks).
pub(super) fn queue_for_notifier(c: &Connection, event: &Event) -> rusqlite::Result<()> {
    if event.event_type == "ping" {
        return Ok(());
    }
    c.prepare_cached(INSERT_EVENT)?.execute(params![
        uuid::Uuid::now_v7().to_string(),
        event.workspace_id,
        event.event_type,
        event.payload,
        event.created_ms
    ])?;
    Ok(())
}

fn write_routed(c: &Connection, routed: &Routed) -> rusqlite::Result<()> {
    for i in &routed.inbox {
        c.prepare_cached(INSERT_INBOX)?.execute(params![
            i.id,
            i.user_id,
            i.workspace_id,
            i.event_type,
            i.title,
            i.body,
            i.created_ms,
            i.read_ms
        ])?;
    }
    for s in &routed.sends {
        c.prepare_cached(INSERT_SEND)?.execute(params![
            s.id,
            s.channel_id,
            s.user_id,
            s.event_type,
            s.subject,
            s.text,
            s.html,
            s.state.as_str(),
            i64::from(s.attempts),
            s.next_attempt_ms,
            s.last_error,
            s.created_ms
        ])?;
    }
    Ok(())
}

impl SqliteStorage {
    pub(super) async fn claim_notification_events_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<NotificationEvent>> {
        let owner = owner.to_string();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: Vec<NotificationEvent> = {
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM notification_events
                     WHERE routed_ms IS NULL AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)
                     ORDER BY created_ms, id LIMIT ?2"
                ))?;
                stmt.query_map(params![now_ms, limit], event_row)?
                    .collect::<rusqlite::Result<_>>()?
            };
            for e in &found {
                tx.execute(
                    "UPDATE notification_events SET lease_owner = ?2, lease_until_ms = ?3
                     WHERE id = ?1",
                    params![e.id, owner, now_ms + lease_ms],
                )?;
            }
            tx.commit()?;
            Ok(found)
        })
        .await
    }

    pub(super) async fn route_notification_event_now(
        &self,
        event_id: &str,
        owner: &str,
        routed: &Routed,
        now_ms: i64,
    ) -> Result<bool> {
        let (id, owner, routed) = (event_id.to_string(), owner.to_string(), routed.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if tx.execute(MARK_ROUTED, params![id, owner, now_ms])? != 1 {
                return Ok(false);
            }
            write_routed(&tx, &routed)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    pub(super) async fn notification_events_between_now(
        &self,
        workspace_id: &str,
        from_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<NotificationEvent>> {
        let w = workspace_id.to_string();
        self.read(move |c| {
            c.prepare_cached(EVENTS_BETWEEN)?
                .query_map(params![w, from_ms, until_ms], event_row)?
                .collect()
        })
        .await
    }

    pub(super) async fn claim_notification_sends_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(NotificationSend, Channel)>> {
        let owner = owner.to_string();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: Vec<NotificationSend> = {
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT {SEND_COLUMNS} FROM notification_sends
                     WHERE state = 'pending' AND next_attempt_ms <= ?1
                       AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)
                     ORDER BY next_attempt_ms, id LIMIT ?2"
                ))?;
                stmt.query_map(params![now_ms, limit], send_row)?
                    .collect::<rusqlite::Result<_>>()?
            };
            let mut claimed = Vec::new();
            for s in found {
                let channel = tx
                    .query_row(
                        &format!("SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE id = ?1"),
                        [&s.channel_id],
                        channel_row,
                    )
                    .optional()?;
                let Some(channel) = channel else { continue };
                tx.execute(
                    "UPDATE notification_sends SET lease_owner = ?2, lease_until_ms = ?3 WHERE id = ?1",
                    params![s.id, owner, now_ms + lease_ms],
                )?;
                claimed.push((s, channel));
            }
            tx.commit()?;
            Ok(claimed)
        })
        .await
    }

    pub(super) async fn finish_notification_send_now(
        &self,
        id: &str,
        owner: &str,
        end: &SendEnd,
        now_ms: i64,
    ) -> Result<bool> {
        let (id, owner) = (id.to_string(), owner.to_string());
        let (state, next, error, finished) = finish_columns(end, now_ms);
        self.call(move |c| {
            Ok(c.execute(
                FINISH_SEND,
                params![id, owner, state.as_str(), next, error, finished],
            )? == 1)
        })
        .await
    }

    pub(super) async fn notification_send_now(&self, id: &str) -> Result<Option<NotificationSend>> {
        let id = id.to_string();
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {SEND_COLUMNS} FROM notification_sends WHERE id = ?1"),
                [id],
                send_row,
            )
            .optional()
        })
        .await
    }

    pub(super) async fn notification_sends_now(
        &self,
        user_id: &str,
        limit: u32,
    ) -> Result<Vec<NotificationSend>> {
        let user = user_id.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SEND_COLUMNS} FROM notification_sends WHERE user_id = ?1
                 ORDER BY id DESC LIMIT ?2"
            ))?
            .query_map(params![user, limit], send_row)?
            .collect()
        })
        .await
    }

    pub(super) async fn inbox_now(&self, query: &InboxQuery) -> Result<Vec<InboxItem>> {
        let q = query.clone();
        self.read(move |c| {
            c.prepare_cached(INBOX_PAGE)?
                .query_map(
                    params![
                        q.user_id,
                        q.workspace_id,
                        i64::from(q.unread_only),
                        q.before_id,
                        q.limit
                    ],
                    inbox_row,
                )?
                .collect()
        })
        .await
    }

    pub(super) async fn mark_inbox_read_now(
        &self,
        user_id: &str,
        workspace_id: &str,
        id: Option<&str>,
        now_ms: i64,
    ) -> Result<u64> {
        let (u, w, id) = (
            user_id.to_string(),
            workspace_id.to_string(),
            id.map(str::to_string),
        );
        self.call(move |c| Ok(c.execute(MARK_READ, params![u, w, id, now_ms])? as u64))
            .await
    }

    pub(super) async fn inbox_item_exists_now(
        &self,
        user_id: &str,
        workspace_id: &str,
        id: &str,
    ) -> Result<bool> {
        let (u, w, id) = (
            user_id.to_string(),
            workspace_id.to_string(),
            id.to_string(),
        );
        self.read(move |c| {
            c.query_row(
                "SELECT 1 FROM inbox WHERE user_id = ?1 AND workspace_id = ?2 AND id = ?3",
                [u, w, id],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
        })
        .await
    }

    pub(super) async fn create_channel_now(&self, channel: &Channel) -> Result<()> {
        let ch = channel.clone();
        self.call(move |c| {
            c.execute(
                INSERT_CHANNEL,
                params![
                    ch.id,
                    ch.user_id,
                    ch.kind.as_str(),
                    ch.address,
                    ch.secret,
                    ch.created_ms
                ],
            )
            .map(|_| ())
        })
        .await
    }

    pub(super) async fn channels_now(&self, user_id: &str) -> Result<Vec<Channel>> {
        let u = user_id.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE user_id = ?1 ORDER BY id"
            ))?
            .query_map([u], channel_row)?
            .collect()
        })
        .await
    }

    pub(super) async fn delete_channel_now(&self, user_id: &str, id: &str) -> Result<bool> {
        let (u, id) = (user_id.to_string(), id.to_string());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "DELETE FROM notification_channels WHERE user_id = ?1 AND id = ?2",
                [&u, &id],
            )?;
            if n == 1 {
                tx.execute(
                    "DELETE FROM notification_sends WHERE channel_id = ?1 AND state = 'pending'",
                    [&id],
                )?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    pub(super) async fn notification_settings_now(
        &self,
        user_id: &str,
    ) -> Result<NotificationSettings> {
        let u = user_id.to_string();
        self.read(move |c| {
            let preferences = c
                .prepare_cached(
                    "SELECT event_type, channels FROM notification_preferences
                     WHERE user_id = ?1 ORDER BY event_type",
                )?
                .query_map([&u], |r| {
                    let channels: String = r.get(1)?;
                    Ok((
                        r.get::<_, String>(0)?,
                        channels.split_whitespace().map(str::to_string).collect(),
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let digest = c
                .query_row(
                    &format!(
                        "SELECT {DIGEST_COLUMNS} FROM notification_digests WHERE user_id = ?1"
                    ),
                    [&u],
                    digest_row,
                )
                .optional()?;
            Ok(NotificationSettings {
                preferences,
                digest,
            })
        })
        .await
    }

    pub(super) async fn save_notification_settings_now(
        &self,
        user_id: &str,
        settings: &NotificationSettings,
    ) -> Result<()> {
        let (u, s) = (user_id.to_string(), settings.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM notification_preferences WHERE user_id = ?1",
                [&u],
            )?;
            for (event, channels) in &s.preferences {
                tx.execute(
                    "INSERT INTO notification_preferences (user_id, event_type, channels)
                     VALUES (?1, ?2, ?3)",
                    params![u, event, channels.join(" ")],
                )?;
            }
            tx.execute("DELETE FROM notification_digests WHERE user_id = ?1", [&u])?;
            if let Some(d) = &s.digest {
                tx.execute(
                    "INSERT INTO notification_digests (user_id, at_minute, zone, next_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![u, i64::from(d.at_minute), d.zone, d.next_ms],
                )?;
            }
            tx.commit()
        })
        .await
    }

    pub(super) async fn claim_digests_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DigestSchedule>> {
        let owner = owner.to_string();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: Vec<DigestSchedule> = {
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT {DIGEST_COLUMNS} FROM notification_digests
                     WHERE next_ms <= ?1 AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)
                     ORDER BY next_ms, user_id LIMIT ?2"
                ))?;
                stmt.query_map(params![now_ms, limit], digest_row)?
                    .collect::<rusqlite::Result<_>>()?
            };
            for d in &found {
                tx.execute(
                    "UPDATE notification_digests SET lease_owner = ?2, lease_until_ms = ?3
                     WHERE user_id = ?1",
                    params![d.user_id, owner, now_ms + lease_ms],
                )?;
            }
            tx.commit()?;
            Ok(found)
        })
        .await
    }

    pub(super) async fn finish_digest_now(
        &self,
        user_id: &str,
        owner: &str,
        due_ms: i64,
        next_ms: i64,
        routed: &Routed,
    ) -> Result<bool> {
        let (u, owner, routed) = (user_id.to_string(), owner.to_string(), routed.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if tx.execute(MOVE_DIGEST, params![u, owner, due_ms, next_ms])? != 1 {
                return Ok(false);
            }
            write_routed(&tx, &routed)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }
}

/// The columns [`FINISH_SEND`] writes for an end: state, next attempt, error, finished.
pub(super) fn finish_columns(
    end: &SendEnd,
    now_ms: i64,
) -> (SendState, Option<i64>, Option<String>, Option<i64>) {
    match end {
        SendEnd::Sent => (SendState::Sent, None, None, Some(now_ms)),
        SendEnd::RetryAt(at, why) => (SendState::Pending, Some(*at), Some(why.clone()), None),
        SendEnd::GaveUp(why) => (SendState::Failed, None, Some(why.clone()), Some(now_ms)),
    }
}
