//! The notification records the [`Storage`](super::Storage) keeps: events waiting to be
//! routed, inbox items, channels, preferences, digest schedules and the messages to send.

/// An event as the notifier reads it: recorded with every webhook event (in the same
/// transaction), routed once to the members it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationEvent {
    pub id: String,
    pub workspace_id: String,
    pub event_type: String,
    /// The event's JSON body (`{"type", "timestamp", "data"}`), as webhooks receive it.
    pub payload: String,
    pub created_ms: i64,
}

/// One notification in a user's in-app inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    pub id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub event_type: String,
    pub title: String,
    pub body: String,
    pub created_ms: i64,
    pub read_ms: Option<i64>,
}

/// Which inbox items [`Storage::inbox`](super::Storage::inbox) returns: newest first.
#[derive(Debug, Clone)]
pub struct InboxQuery {
    pub user_id: String,
    pub workspace_id: String,
    pub unread_only: bool,
    /// Items older than this id (the page before's last).
    pub before_id: Option<String>,
    pub limit: u32,
}

/// Where a user's notifications go besides the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// SMTP, to an address; the server's `smtp_*` settings say through which relay.
    Email,
    /// A ntfy topic URL, with an optional access token.
    Ntfy,
    /// A Telegram chat, through a bot's token.
    Telegram,
    /// A Slack account of the workspace (its webhook or bot, and its channel).
    Slack,
    /// A Discord account of the workspace (its webhook, or its bot and channel).
    Discord,
    /// A Matrix account of the workspace (its room).
    Matrix,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 6] = [
        ChannelKind::Email,
        ChannelKind::Ntfy,
        ChannelKind::Telegram,
        ChannelKind::Slack,
        ChannelKind::Discord,
        ChannelKind::Matrix,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Ntfy => "ntfy",
            ChannelKind::Telegram => "telegram",
            ChannelKind::Slack => "slack",
            ChannelKind::Discord => "discord",
            ChannelKind::Matrix => "matrix",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the channel posts through one of its workspace's accounts (its address
    /// is the account's id, and the account's own credentials and destination are used):
    /// it carries only that workspace's notices, and no digest (which covers every
    /// workspace of the user).
    pub fn through_account(self) -> bool {
        matches!(
            self,
            ChannelKind::Slack | ChannelKind::Discord | ChannelKind::Matrix
        )
    }
}

/// A user's notification channel. `secret` (the ntfy token, the Telegram bot token) is
/// sealed (`auth::sealed`, with the channel's id as associated data) and never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    pub user_id: String,
    pub kind: ChannelKind,
    /// The email address, the ntfy topic URL, the Telegram chat id, or the id of the
    /// workspace's account a Slack, Discord or Matrix channel posts through.
    pub address: String,
    pub secret: Option<String>,
    pub created_ms: i64,
}

/// When a user's daily digest goes out: `at_minute` minutes after midnight in `zone`;
/// `next_ms` is the next time, in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSchedule {
    pub user_id: String,
    pub at_minute: u32,
    pub zone: String,
    pub next_ms: i64,
}

/// A user's choices: per event type, the channels it reaches (`inapp`, `email`, `ntfy`,
/// `telegram`); event types without a choice follow the defaults (`notify::defaults`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationSettings {
    pub preferences: Vec<(String, Vec<String>)>,
    pub digest: Option<DigestSchedule>,
}

/// Where a message to a channel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendState {
    Pending,
    Sent,
    Failed,
}

impl SendState {
    pub fn as_str(self) -> &'static str {
        match self {
            SendState::Pending => "pending",
            SendState::Sent => "sent",
            SendState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<SendState> {
        match s {
            "pending" => Some(SendState::Pending),
            "sent" => Some(SendState::Sent),
            "failed" => Some(SendState::Failed),
            _ => None,
        }
    }
}

/// One message to one channel, rendered when it was routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSend {
    pub id: String,
    pub channel_id: String,
    pub user_id: String,
    pub event_type: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub state: SendState,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
}

/// What an event (or a digest) became: inbox items and messages to channels, written in
/// one transaction with the event marked routed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routed {
    pub inbox: Vec<InboxItem>,
    pub sends: Vec<NotificationSend>,
}

/// What follows one attempt at a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendEnd {
    Sent,
    /// Try again at this time; the error is kept.
    RetryAt(i64, String),
    /// Given up, with why.
    GaveUp(String),
}

/// The SQL both storages share (`?N` parameters; `sql::pg` turns them into `$N`).
pub(super) mod sql {
    pub const EVENT_COLUMNS: &str = "id, workspace_id, event_type, payload, created_ms";
    pub const CHANNEL_COLUMNS: &str = "id, user_id, kind, address, secret, created_ms";
    pub const SEND_COLUMNS: &str = "id, channel_id, user_id, event_type, subject, text, html, \
        state, attempts, next_attempt_ms, last_error, created_ms";
    pub const DIGEST_COLUMNS: &str = "user_id, at_minute, zone, next_ms";

    pub const INSERT_EVENT: &str = "INSERT INTO notification_events
        (id, workspace_id, event_type, payload, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)";
    pub const INSERT_INBOX: &str = "INSERT INTO inbox
        (id, user_id, workspace_id, event_type, title, body, created_ms, read_ms)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    pub const INSERT_SEND: &str = "INSERT INTO notification_sends
        (id, channel_id, user_id, event_type, subject, text, html, state, attempts,
         next_attempt_ms, last_error, created_ms)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
    pub const INSERT_CHANNEL: &str = "INSERT INTO notification_channels
        (id, user_id, kind, address, secret, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    /// Marks a claimed event routed: ?1 id, ?2 owner, ?3 now.
    pub const MARK_ROUTED: &str = "UPDATE notification_events
        SET routed_ms = ?3, lease_owner = NULL, lease_until_ms = NULL
        WHERE id = ?1 AND lease_owner = ?2 AND routed_ms IS NULL";
    pub const EVENTS_BETWEEN: &str = "SELECT id, workspace_id, event_type, payload, created_ms
        FROM notification_events
        WHERE workspace_id = ?1 AND created_ms >= ?2 AND created_ms < ?3
        ORDER BY created_ms, id";
    /// ?1 id, ?2 owner, ?3 state, ?4 next attempt (or NULL to keep), ?5 error, ?6 finished.
    pub const FINISH_SEND: &str = "UPDATE notification_sends
        SET state = ?3, attempts = attempts + 1, next_attempt_ms = coalesce(?4, next_attempt_ms),
            last_error = ?5, finished_ms = ?6, lease_owner = NULL, lease_until_ms = NULL
        WHERE id = ?1 AND lease_owner = ?2 AND state = 'pending'";
    pub const INBOX_PAGE: &str = "SELECT id, user_id, workspace_id, event_type, title, body,
        created_ms, read_ms FROM inbox
        WHERE user_id = ?1 AND workspace_id = ?2 AND (CAST(?3 AS BIGINT) = 0 OR read_ms IS NULL)
          AND (CAST(?4 AS TEXT) IS NULL OR id < ?4)
        ORDER BY id DESC LIMIT ?5";
    pub const MARK_READ: &str = "UPDATE inbox SET read_ms = ?4
        WHERE user_id = ?1 AND workspace_id = ?2 AND (CAST(?3 AS TEXT) IS NULL OR id = ?3) AND read_ms IS NULL";
    /// What `purge` deletes of notifications, each with ?1 the cutoff.
    pub const PURGE: [&str; 3] = [
        "DELETE FROM notification_events WHERE routed_ms IS NOT NULL AND created_ms < ?1",
        "DELETE FROM notification_sends WHERE state <> 'pending' AND finished_ms < ?1",
        "DELETE FROM inbox WHERE read_ms IS NOT NULL AND read_ms < ?1",
    ];
    /// ?1 user, ?2 owner, ?3 due (the claimed time), ?4 next.
    pub const MOVE_DIGEST: &str = "UPDATE notification_digests
        SET next_ms = ?4, lease_owner = NULL, lease_until_ms = NULL
        WHERE user_id = ?1 AND lease_owner = ?2 AND next_ms = ?3";
}
