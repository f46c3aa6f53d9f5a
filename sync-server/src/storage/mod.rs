//! Where the server keeps its state: one [`Storage`] trait, two implementations
//! ([`sqlite::SqliteStorage`] for one machine, [`postgres::PgStorage`] for several
//! processes on one database), and one contract test suite that both pass
//! (`sync-server/tests/storage.rs`).
//!
//! Every method is one atomic operation: it either happens whole or not at all, and what
//! it returns is what was stored. Times are UTC unix milliseconds; ids are UUIDv7 text.
//! Both implementations run the numbered, append-only migrations of [`schema`] on open,
//! under a lock (SQLite's write lock, a PostgreSQL advisory lock), so processes starting
//! together migrate once, and both refuse a database newer than the binary.

mod notifications;
pub mod postgres;
mod postgres_feeds;
mod postgres_metrics;
mod postgres_notify;
mod postgres_queue;
mod postgres_sync;
mod postgres_triggers;
pub mod queue;
mod schema;
mod sql;
pub mod sqlite;
mod sqlite_feeds;
mod sqlite_metrics;
mod sqlite_notify;
mod sqlite_queue;
mod sqlite_sync;
mod sqlite_triggers;
mod sync_approval;
mod targets;

pub use notifications::{
    Channel, ChannelKind, DigestSchedule, InboxItem, InboxQuery, NotificationEvent,
    NotificationSend, NotificationSettings, Routed, SendEnd, SendState,
};
pub use postctl_core::model::{Finish, TargetState};
pub use postctl_core::publish::circuit::{
    Circuit, CircuitEvent, CircuitRule, CircuitState, Outage,
};
pub use queue::{PostEvents, QueueSlots, Queued};
pub(crate) use sql::NOT_APPROVED as NOT_APPROVED_ERROR;
pub use sync_approval::SyncApproval;
pub use targets::{Takeover, TargetChange, change_allows, core_account, takeover};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A unique name or key is already taken.
    #[error("{0} already exists")]
    Conflict(String),
    /// The database was migrated by a newer postctl-server.
    #[error(
        "the database is at schema version {found}, newer than this postctl-server knows ({known}): \
         run the newer postctl-server, or restore a backup made by this version"
    )]
    NewerSchema { found: i64, known: i64 },
    /// A queued post (`--queue`) found no slot: its first account has no queue slots, or
    /// none free within core's horizon. The text says what to do.
    #[error("{0}")]
    NoQueueSlot(String),
    /// The database refused or could not be reached; the text never holds a password.
    #[error("database error: {0}")]
    Database(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// A member's role in a workspace, from least to most power (the order is used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Editor, Role::Admin, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What an API key may do, whatever its user's role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "posts:read")]
    PostsRead,
    #[serde(rename = "posts:write")]
    PostsWrite,
    #[serde(rename = "publish")]
    Publish,
    #[serde(rename = "accounts:read")]
    AccountsRead,
    #[serde(rename = "accounts:write")]
    AccountsWrite,
    #[serde(rename = "admin")]
    Admin,
    /// Manage the workspace's outbound webhooks.
    #[serde(rename = "webhooks:write")]
    WebhooksWrite,
    /// Read the counters collected for the workspace's published posts.
    #[serde(rename = "analytics:read")]
    AnalyticsRead,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::PostsRead,
        Scope::PostsWrite,
        Scope::Publish,
        Scope::AccountsRead,
        Scope::AccountsWrite,
        Scope::Admin,
        Scope::WebhooksWrite,
        Scope::AnalyticsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PostsRead => "posts:read",
            Scope::PostsWrite => "posts:write",
            Scope::Publish => "publish",
            Scope::AccountsRead => "accounts:read",
            Scope::AccountsWrite => "accounts:write",
            Scope::Admin => "admin",
            Scope::WebhooksWrite => "webhooks:write",
            Scope::AnalyticsRead => "analytics:read",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Scopes as stored: space-separated names.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Reads stored scopes, skipping names this binary does not know.
    pub fn split(stored: &str) -> Vec<Scope> {
        stored.split_whitespace().filter_map(Scope::parse).collect()
    }
}

/// `sk_live_` keys act on the workspace; `sk_test_` keys are for integrators' tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyMode {
    Live,
    Test,
}

impl KeyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyMode::Live => "live",
            KeyMode::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<KeyMode> {
        match s {
            "live" => Some(KeyMode::Live),
            "test" => Some(KeyMode::Test),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub name: String,
    /// The argon2id PHC string; never the password.
    pub password_hash: String,
    /// A server administrator (may delete users through the API).
    pub admin: bool,
    pub created_ms: i64,
    /// When the user was deleted: their name is then `deleted-…`, their password hash
    /// empty, and they have no keys, sessions, TOTP or memberships left.
    pub deleted_ms: Option<i64>,
    /// The TOTP secret, sealed (`auth::sealed`), once enrolment was confirmed.
    pub totp_secret: Option<String>,
    /// A sealed TOTP secret waiting for its first code.
    pub totp_pending: Option<String>,
    /// The last TOTP time step accepted, so a code is accepted once.
    pub totp_last_step: Option<i64>,
}

impl User {
    /// A user as `user add` makes one: no TOTP, not deleted.
    pub fn new(
        id: String,
        name: String,
        password_hash: String,
        admin: bool,
        created_ms: i64,
    ) -> User {
        User {
            id,
            name,
            password_hash,
            admin,
            created_ms,
            deleted_ms: None,
            totp_secret: None,
            totp_pending: None,
            totp_last_step: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub user_id: String,
    pub user_name: String,
    pub role: Role,
}

/// An API key as stored: the SHA-256 of the key, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub name: Option<String>,
    pub mode: KeyMode,
    /// The first characters of the key (`sk_live_abc1`), to recognise it in lists.
    pub prefix: String,
    /// Lowercase hex SHA-256 of the whole key.
    pub hash: String,
    pub scopes: Vec<Scope>,
    pub expires_ms: Option<i64>,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
    /// Requests a minute the key may make; `None` for the server's default.
    pub rate_per_minute: Option<u32>,
    /// Networks (CIDR) the key may be used from; empty for anywhere.
    pub allowed_ips: Vec<String>,
    /// The key that replaced this one in a rotation; this one then stops at `expires_ms`.
    pub replaced_by: Option<String>,
}

/// A signed-in device: what `POST /api/v1/session` gives for a password (and TOTP code).
/// The database keeps the token's SHA-256, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub hash: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// Failed sign-ins of one subject (`user:NAME` or `ip:ADDR`) in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    pub failures: u32,
    /// When the last one happened.
    pub last_ms: i64,
}

/// A key with the names of its user and workspace, for lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyListing {
    pub key: ApiKey,
    pub user_name: String,
    pub workspace_name: String,
}

/// Whether a post waits for its time or for someone to schedule it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostState {
    Draft,
    Scheduled,
}

impl PostState {
    pub fn as_str(self) -> &'static str {
        match self {
            PostState::Draft => "draft",
            PostState::Scheduled => "scheduled",
        }
    }

    pub fn parse(s: &str) -> Option<PostState> {
        match s {
            "draft" => Some(PostState::Draft),
            "scheduled" => Some(PostState::Scheduled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: String,
    pub workspace_id: String,
    pub author_id: String,
    pub title: Option<String>,
    /// Markdown, as written.
    pub body: String,
    pub state: PostState,
    /// When a scheduled post is due (UTC ms); `None` for drafts.
    pub scheduled_ms: Option<i64>,
    /// The IANA zone the schedule was written in.
    pub zone: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Which posts [`Storage::posts`] returns: newest first, after a cursor.
#[derive(Debug, Clone)]
pub struct PostQuery {
    pub workspace_id: String,
    pub state: Option<PostState>,
    /// Only posts older than this id (the last id of the previous page).
    pub before_id: Option<String>,
    pub limit: u32,
}

/// What [`Storage::idempotency_begin`] found for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key is new and now reserved for this request.
    Started,
    /// The same request was answered before: answer it the same way.
    Replay { status: u16, body: String },
    /// The key was used with another request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// An outbound webhook endpoint of a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    pub description: Option<String>,
    /// The event types it receives (`post.scheduled`, …); `ping` always reaches it.
    pub events: Vec<String>,
    /// The `whsec_` signing secret, sealed (`auth::sealed`, owner: the endpoint's id).
    pub secret: String,
    /// The secret before the last rotation, sealed; deliveries are signed with it too
    /// until `old_secret_until_ms`.
    pub old_secret: Option<String>,
    pub old_secret_until_ms: Option<i64>,
    pub created_by: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// When deliveries to it stopped (by its admins, or after failing too often).
    pub disabled_ms: Option<i64>,
    pub disabled_reason: Option<String>,
    /// Deliveries that ended failed since the last one that succeeded.
    pub failed_in_a_row: u32,
}

/// Something that happened in a workspace, for its webhook endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub workspace_id: String,
    /// `post.scheduled`, …: endpoints subscribed to it get a delivery.
    pub event_type: String,
    /// The JSON body each endpoint receives, exactly as signed.
    pub payload: String,
    pub created_ms: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its first attempt or for a retry.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Given up: retries ran out, or the receiver answered 410 Gone.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        match s {
            "pending" => Some(DeliveryState::Pending),
            "delivered" => Some(DeliveryState::Delivered),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// One event sent (or to be sent) to one endpoint; its id is the `webhook-id` header,
/// the same on every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub workspace_id: String,
    pub event_type: String,
    pub payload: String,
    pub state: DeliveryState,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_ms: i64,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
    /// The delivery this one sends again (`redeliver`).
    pub redelivery_of: Option<String>,
    /// How many attempts were made (also when `attempts` was not read).
    pub attempt_count: u32,
    /// The attempts so far, first first; empty where a method says it does not read them.
    pub attempts: Vec<Attempt>,
}

/// One try at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    pub started_ms: i64,
    pub duration_ms: i64,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// The beginning of the receiver's answer.
    pub answer: Option<String>,
    /// Why there was no answer (timeout, refused connection, refused address).
    pub error: Option<String>,
}

/// What follows an attempt ([`Storage::finish_attempt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    Delivered,
    /// Try again at this time.
    RetryAt(i64),
    /// Give up. The endpoint's failures in a row grow by one; at `disable_after` it is
    /// disabled with `reason`.
    GaveUp {
        disable_after: u32,
        reason: String,
    },
    /// The receiver said the endpoint is gone (410): give up and disable it at once.
    Gone {
        reason: String,
    },
}

/// What [`Storage::finish_attempt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Recorded; `disabled` when this attempt disabled the endpoint.
    Recorded { disabled: bool },
    /// The caller's lease had passed to another process: nothing was recorded.
    LeaseLost,
}

/// A network account of a workspace. Its credentials are sealed (`auth::sealed`, with the
/// account id as associated data) and never leave the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub workspace_id: String,
    /// The workspace's name for it, unique in the workspace.
    pub name: String,
    /// The network's name (`postctl_core::network::Network::name`).
    pub network: String,
    pub base_url: Option<String>,
    pub handle: Option<String>,
    /// Network-specific settings, JSON.
    pub settings: String,
    /// The sealed credentials (JSON before sealing).
    pub credentials: String,
    pub created_ms: i64,
}

/// One post on one account, with what the publisher keeps of it ("Target states" in
/// docs/ARCHITECTURE.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub post_id: String,
    pub account_id: String,
    pub workspace_id: String,
    pub state: TargetState,
    /// When it is due (UTC ms); `None` for a draft.
    pub due_ms: Option<i64>,
    /// When a `waiting_retry` target is tried again.
    pub next_attempt_ms: Option<i64>,
    pub attempt_count: u32,
    /// The publisher holding it while `publishing`, and until when.
    pub lease_owner: Option<String>,
    pub lease_expires_ms: Option<i64>,
    /// The parts the network confirmed, in order: a JSON array of `{"id", "url"}`.
    pub parts: String,
    /// How many parts the publisher planned, once it began.
    pub planned_parts: Option<u32>,
    /// The part on its way (from 0), or whose fate is unknown, and since when.
    pub in_flight: Option<u32>,
    pub in_flight_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Target {
    /// A new target of `post` on `account`: scheduled at the post's time, or a draft.
    pub fn new(post: &Post, account_id: &str, now_ms: i64) -> Target {
        Target {
            id: uuid::Uuid::now_v7().to_string(),
            post_id: post.id.clone(),
            account_id: account_id.to_string(),
            workspace_id: post.workspace_id.clone(),
            state: match post.state {
                PostState::Scheduled => TargetState::Scheduled,
                PostState::Draft => TargetState::Draft,
            },
            due_ms: post.scheduled_ms,
            next_attempt_ms: None,
            attempt_count: 0,
            lease_owner: None,
            lease_expires_ms: None,
            parts: "[]".into(),
            planned_parts: None,
            in_flight: None,
            in_flight_ms: None,
            last_error: None,
            created_ms: now_ms,
            updated_ms: now_ms,
        }
    }
}

impl Target {
    /// A target a synced post's `targets` field makes (see [`PostWrite::Targets`]).
    pub fn synced(
        post_id: &str,
        account_id: &str,
        workspace_id: &str,
        state: TargetState,
        due_ms: Option<i64>,
        now_ms: i64,
    ) -> Target {
        Target {
            id: uuid::Uuid::now_v7().to_string(),
            post_id: post_id.to_string(),
            account_id: account_id.to_string(),
            workspace_id: workspace_id.to_string(),
            state,
            due_ms,
            next_attempt_ms: None,
            attempt_count: 0,
            lease_owner: None,
            lease_expires_ms: None,
            parts: "[]".into(),
            planned_parts: None,
            in_flight: None,
            in_flight_ms: None,
            last_error: None,
            created_ms: now_ms,
            updated_ms: now_ms,
        }
    }
}

/// A target with its account's name and network, for the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetView {
    pub target: Target,
    pub account_name: String,
    pub network: String,
}

/// A post as one read gives it to the API ([`Storage::post_with_targets`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PostRead {
    pub post: Post,
    /// Its targets, by account name.
    pub targets: Vec<TargetView>,
    /// Its `media` field as sync and the API stamp it (a JSON array of core's `MediaRef`);
    /// `None` for a post that never had one.
    pub media: Option<String>,
}

/// The files a stamped `media` field lists ([`PostRead::media`], [`Claimed::media`]): none
/// for a post without one. Devices and the API check the value before they stamp it.
pub fn media_list(field: Option<&str>) -> Vec<postctl_core::model::MediaRef> {
    field
        .and_then(|value| serde_json::from_str(value).ok())
        .unwrap_or_default()
}

/// One try at one part of a target: the append-only attempt log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishAttempt {
    pub target_id: String,
    pub part: u32,
    pub started_ms: i64,
    pub ended_ms: i64,
    /// "published", "retry", "failed", "uncertain", "interrupted", "released".
    pub outcome: String,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// The part may have reached the network without being confirmed: a retry keeps it
    /// noted as in flight. Not stored (read back as `false`).
    pub in_doubt: bool,
}

/// A calendar entry: a target due in the range, with its post's title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    pub target: TargetView,
    pub post_title: Option<String>,
}

/// What [`Storage::update_post`] did to a post's targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetsChanged {
    /// The names of the accounts whose target moved.
    pub changed: Vec<String>,
    /// The accounts whose target was left alone, with its state.
    pub skipped: Vec<(String, TargetState)>,
}

/// What [`Storage::claim_due`] claims, and for whom.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The publisher; it alone may change the claimed targets until the lease ends.
    pub owner: String,
    pub now_ms: i64,
    pub lease_until_ms: i64,
    /// At most this many targets...
    pub limit: u32,
    /// ...and at most this many of one account.
    pub per_account: u32,
    /// Scheduled targets due before this are marked `missed` first instead of claimed
    /// (`None`: nothing is missed).
    pub missed_before_ms: Option<i64>,
    /// Only this post's targets.
    pub only_post: Option<String>,
    /// Leave the targets of these accounts (ids) alone: the publisher is busy with them.
    pub skip_accounts: Vec<String>,
    /// The publish engine decides what becomes of a part in flight when it takes over a
    /// target (its [`Claimed::target`] keeps `in_flight`): the target is claimed with an
    /// `interrupted` attempt logged. `false`: the storage turns it `uncertain` where its
    /// network cannot be asked again safely ([`takeover`]).
    pub engine_decides: bool,
}

impl Claim {
    /// Up to `limit` due targets, `per_account` of one account, for `owner` until
    /// `lease_until_ms`; nothing marked missed, no post or account left out.
    pub fn new(
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
        per_account: u32,
    ) -> Claim {
        Claim {
            owner: owner.to_string(),
            now_ms,
            lease_until_ms,
            limit,
            per_account,
            missed_before_ms: None,
            only_post: None,
            skip_accounts: Vec::new(),
            engine_decides: false,
        }
    }
}

/// A target a publisher now holds, with what it needs to publish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub target: Target,
    pub account: Account,
    pub post: Post,
    /// Taken over from a publisher whose lease ran out.
    pub taken_over: bool,
    /// When it was first claimed since it was last (re)scheduled: its retry window's start.
    pub first_attempt_ms: Option<i64>,
    /// What the adapter noted on the way to the part in flight ([`Storage::note_stage`]).
    pub stage: Option<String>,
    /// The post's `media` field as sync and the API stamp it (a JSON array of core's
    /// `MediaRef`), read in the claim; `None` for a post that never had one.
    pub media: Option<String>,
    /// Claimed as the one probe of an open circuit.
    pub probe: bool,
}

/// A scheduled target [`Storage::claim_due`] found due too long ago, now `missed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedTarget {
    pub target_id: String,
    pub post_id: String,
    pub workspace_id: String,
    pub account_id: String,
    pub due_ms: i64,
}

/// An account waiting out a rate limit with targets waiting behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldAccount {
    pub account_id: String,
    pub until_ms: i64,
    pub reason: String,
    /// When its first waiting target can go (not before `until_ms`).
    pub next_ms: i64,
    pub targets: u32,
}

/// What [`Storage::claim_due`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimOutcome {
    pub claimed: Vec<Claimed>,
    /// Targets whose publisher stopped mid-send on a network that cannot be asked again
    /// safely: they became `uncertain` (ids).
    pub uncertain: Vec<String>,
    /// Scheduled targets due before [`Claim::missed_before_ms`]: they became `missed`.
    pub missed: Vec<MissedTarget>,
}

/// How [`Storage::delete_account`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountDeletion {
    Deleted,
    NotFound,
    /// The account has this many targets still to publish; nothing was deleted.
    Pending(u32),
}

/// Which column a sealed value lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedKind {
    /// `accounts.credentials`, sealed for the account id.
    AccountCredentials,
    /// `users.totp_secret`, sealed for the user id.
    TotpSecret,
    /// `users.totp_pending`, sealed for the user id.
    TotpPending,
    /// `webhooks.secret`, sealed for the endpoint's id.
    WebhookSecret,
    /// `webhooks.old_secret` (the one a rotation keeps for a while), sealed the same way.
    WebhookOldSecret,
    /// `triggers.secret` (GitHub's webhook secret), sealed for the trigger's id.
    TriggerSecret,
    /// `notification_channels.secret` (a ntfy or Telegram bot token), sealed for the
    /// channel's id.
    ChannelSecret,
    /// `workspace_ai.api_key` (the model provider's key for `generate`), sealed for the
    /// workspace's id.
    AiKey,
}

/// A workspace's model for `POST /api/v1/generate`: core's `[ai]` settings, the key sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiSettings {
    pub workspace_id: String,
    /// Core's provider name: `anthropic` or `openai` (any OpenAI-compatible server).
    pub provider: String,
    /// The model's name as the provider knows it.
    pub model: String,
    /// The API's base URL; the provider's own when `None`.
    pub base_url: Option<String>,
    /// The API key sealed for the workspace's id; `None` for a local server that needs none.
    pub api_key: Option<String>,
    /// The longest answer, in tokens.
    pub max_tokens: i64,
    pub updated_ms: i64,
}

/// A sealed value as stored; `owner` is both its row's id and its associated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub kind: SealedKind,
    pub owner: String,
    pub value: String,
}

/// A version of a workspace's sync chain: one device's batch of operations (`payload`,
/// the JSON array of `postctl_core::sync::Operation`), after `parent_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncVersion {
    pub id: String,
    pub workspace_id: String,
    /// The version before it; `None` for the workspace's first.
    pub parent_id: Option<String>,
    pub device: String,
    pub author_id: String,
    pub created_ms: i64,
    pub payload: String,
    /// The id the pushing device gave the batch of operations (older devices give none):
    /// unique in a workspace, so a batch pushed again is recognised.
    pub batch_id: Option<String>,
}

/// A write a version makes to the workspace's `posts`: a field's new value, applied only
/// when its stamp `(at_ms, device)` is greater than the stamp of the value the field holds
/// (last writer wins), so versions give one result whatever order they apply in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldWrite {
    pub post_id: String,
    pub at_ms: i64,
    pub device: String,
    pub change: PostWrite,
    /// The operation's value as JSON, kept with the field's stamp (see
    /// [`Storage::post_fields`]).
    pub value: String,
}

/// A page of a workspace's current state (see [`Storage::snapshot_page`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotPage {
    /// The latest version when the page was read.
    pub latest: Option<String>,
    pub posts: Vec<SnapshotPost>,
    /// A post on the page has a field written before values were kept (migration 11):
    /// the page does not hold it, and the device must replay the versions instead.
    pub partial: bool,
}

/// A post in a snapshot: its id, when it was created, and its stamped fields by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPost {
    pub id: String,
    pub created_ms: i64,
    pub fields: Vec<StampedField>,
}

/// A post field's value as the workspace's sync chain last wrote it, with its stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampedField {
    pub field: String,
    /// The winning operation's value (JSON).
    pub value: String,
    pub at_ms: i64,
    pub device: String,
}

/// A post field the API writes (`media`, and the text, time and accounts of a post that
/// has a stamped field), kept in `post_field_stamps` as a device's synced write is, so a
/// device catching up from the snapshot and the publisher's claim read one representation.
/// Stamped with `at_ms` by `device` (`api`), or 1 ms after the stamp it replaces when that
/// one is newer: a person's edit through the API is the field's latest value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiField {
    /// Core's field name (`postctl_core::sync::Field::as_str`).
    pub field: &'static str,
    /// The value as an operation carries it (JSON).
    pub value: String,
    pub at_ms: i64,
    pub device: String,
}

/// The target states that mean the server has started publishing a post: what a
/// publisher owns from then on, so a synced edit to the post is refused (issue 13's firm
/// rule).
pub const STARTED: &[postctl_core::model::TargetState] = &[
    postctl_core::model::TargetState::Publishing,
    postctl_core::model::TargetState::Published,
    postctl_core::model::TargetState::Uncertain,
];

/// What a [`FieldWrite`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostWrite {
    /// Creates the post (an empty draft, by the version's author) unless it exists; not
    /// stamped: its fields follow as writes of their own.
    Create {
        created_ms: i64,
    },
    Title(Option<String>),
    Body(String),
    /// The labels travel in versions only (the posts table has none): stamped, nothing
    /// else written.
    Labels,
    /// The attached files travel in versions only, as the labels do: stamped, nothing else
    /// written (the files themselves are in the media store).
    Media,
    Schedule {
        state: PostState,
        scheduled_ms: Option<i64>,
        zone: String,
    },
    /// Soft-deletes (`true`, cancelling the targets that may still be) or restores the
    /// post.
    Deleted(bool),
    /// Where the post goes: the names of the workspace's accounts. Each named account
    /// gets a target at the post's time (a cancelled one is scheduled again), a target
    /// whose account is not named is cancelled if it may still be; a name with no account
    /// yet gets its target when an account of that name is added
    /// ([`Storage::create_account`]). A `Schedule` write moves the post's draft and
    /// scheduled targets to its new time.
    Targets(Vec<String>),
}

impl PostWrite {
    /// The field name the write's stamp is kept under.
    pub fn field(&self) -> &'static str {
        match self {
            PostWrite::Create { .. } => "created",
            PostWrite::Title(_) => "title",
            PostWrite::Body(_) => "body",
            PostWrite::Labels => "labels",
            PostWrite::Media => "media",
            PostWrite::Schedule { .. } => "schedule",
            PostWrite::Deleted(_) => "deleted",
            PostWrite::Targets(_) => "targets",
        }
    }
}

/// What [`Storage::add_version`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddVersion {
    /// Added at this position of the chain (1 for the first), its writes applied.
    Added { seq: i64 },
    /// The parent was not the latest version: nothing was stored.
    Stale { latest: Option<String> },
    /// The version creates a post whose id is another workspace's: nothing was stored.
    ForeignPost { post_id: String },
    /// The version writes to posts the server has started publishing (a target in a
    /// [`STARTED`] state): nothing was stored.
    Started { posts: Vec<String> },
    /// The workspace already has a version of this `batch_id` (a push retried after its
    /// answer was lost or its sync was cut off): nothing was stored; `id` and `seq` are
    /// that version's.
    Duplicate { id: String, seq: i64 },
}

/// A workspace's template: a default body and per-network bodies, in core's template
/// language (`postctl_core::content::template`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemplate {
    pub workspace_id: String,
    pub name: String,
    pub body: String,
    /// Network name → body, as JSON (`{"bluesky": "…"}`).
    pub variants: std::collections::BTreeMap<String, String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A workspace's brand voice: core's `Voice` as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVoice {
    pub workspace_id: String,
    pub name: String,
    /// `postctl_core::content::voice::Voice`, serialized.
    pub settings: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// What starts a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerKind {
    /// GitHub's `release` webhook, signed with `X-Hub-Signature-256`.
    Github,
    /// A JSON body posted with an API key.
    Generic,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Github => "github",
            TriggerKind::Generic => "generic",
        }
    }

    pub fn parse(s: &str) -> Option<TriggerKind> {
        match s {
            "github" => Some(TriggerKind::Github),
            "generic" => Some(TriggerKind::Generic),
            _ => None,
        }
    }
}

/// An event from outside that makes a post: rendered through `template` and scheduled
/// for `accounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub id: String,
    pub workspace_id: String,
    pub kind: TriggerKind,
    /// The template's name: the workspace's, or a built-in one (`release`).
    pub template: String,
    /// The account ids the posts go to.
    pub accounts: Vec<String>,
    /// The GitHub webhook secret, sealed (`auth::sealed`, owner: the trigger's id): HMAC
    /// needs it in clear, so it cannot be hashed. `None` for generic triggers.
    pub secret: Option<String>,
    /// Whether GitHub prereleases make posts too.
    pub prereleases: bool,
    /// Whether its posts take the next free queue slot ([`Queued`]) instead of now.
    pub queue: bool,
    pub description: Option<String>,
    pub created_by: String,
    pub created_ms: i64,
}

/// An RSS or Atom feed a workspace watches: each item that appears after the first poll
/// becomes a post through `template` for `accounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    /// The template's name: the workspace's, or a built-in one.
    pub template: String,
    /// The account ids the posts go to.
    pub accounts: Vec<String>,
    /// The validators of the last answer, sent back as `If-None-Match` and
    /// `If-Modified-Since`.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Why the last poll failed (unreachable, an HTTP error, not a feed); `None` after a
    /// good one.
    pub last_error: Option<String>,
    /// When a poll last read the feed (200 or 304); `None` until the first, which records
    /// the items already there without posting them.
    pub polled_ms: Option<i64>,
    pub next_poll_ms: i64,
    /// Whether its posts take the next free queue slot ([`Queued`]) instead of now.
    pub queue: bool,
    pub created_by: String,
    pub created_ms: i64,
}

/// What a poll of a feed learned, recorded by [`Storage::finish_poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polled {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_error: Option<String>,
    /// The poll's time if it read the feed (200 or 304); `None` keeps the last one.
    pub polled_ms: Option<i64>,
    pub next_poll_ms: i64,
}

/// What [`Storage::fire_trigger`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// The post was made.
    Made,
    /// This event made a post before (this one): nothing was written.
    Already { post_id: String },
}

/// Whether a workspace's posts need approval, and who may approve besides its owners and
/// admins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalSettings {
    /// Posts scheduled by members who may not approve wait for approval.
    pub require_approval: bool,
    /// The named approvers that are still members, by name.
    pub approvers: Vec<Member>,
}

impl ApprovalSettings {
    /// Whether a member with `role` may approve: owners, admins and named approvers.
    pub fn may_approve(&self, user_id: &str, role: Role) -> bool {
        role >= Role::Admin || self.approvers.iter().any(|m| m.user_id == user_id)
    }

    /// Whether what this member schedules waits for approval.
    pub fn needs_approval(&self, user_id: &str, role: Role) -> bool {
        self.require_approval && !self.may_approve(user_id, role)
    }
}

/// What was decided about a post awaiting approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approved,
    Rejected,
    /// Its time passed before anyone decided: it was not published.
    Missed,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
            Decision::Missed => "missed",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        [Decision::Approved, Decision::Rejected, Decision::Missed]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// One decision in a post's approval history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalDecision {
    pub id: String,
    pub workspace_id: String,
    pub post_id: String,
    /// Who decided; `None` for [`Decision::Missed`], which the server records.
    pub user_id: Option<String>,
    /// The user's name, when read back (ignored when stored).
    pub user_name: Option<String>,
    pub decision: Decision,
    pub comment: Option<String>,
    pub created_ms: i64,
}

/// A post whose time passed while it awaited approval ([`Storage::miss_unapproved`]), with
/// the people to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unapproved {
    pub post: Post,
    pub author_name: String,
    /// The accounts whose targets became missed, by name.
    pub accounts: Vec<String>,
    /// The named approvers, owners and admins of the workspace, by name.
    pub approvers: Vec<String>,
}

/// The events of a post missed for want of approval, at a time ([`Storage::miss_unapproved`]).
pub type EventsOf = fn(&Unapproved, i64) -> Vec<Event>;

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// The server's state. Each method is atomic; see each for its contract.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Succeeds when the database answers and its schema is this binary's.
    async fn ready(&self) -> Result<()>;

    /// The connections' state now (for `/metrics`); it never waits.
    fn pool_status(&self) -> PoolStatus;

    async fn count_users(&self) -> Result<u64>;
    /// Stores a user; `Conflict` if the name is taken.
    async fn create_user(&self, user: &User) -> Result<()>;
    async fn user_by_name(&self, name: &str) -> Result<Option<User>>;
    async fn user_by_id(&self, id: &str) -> Result<Option<User>>;

    /// Stores a workspace with `owner_id` as its owner; `Conflict` if the name is taken.
    async fn create_workspace(&self, workspace: &Workspace, owner_id: &str) -> Result<()>;
    async fn workspace_by_name(&self, name: &str) -> Result<Option<Workspace>>;
    async fn workspace_by_id(&self, id: &str) -> Result<Option<Workspace>>;
    /// Adds a member or changes their role.
    async fn set_member(&self, workspace_id: &str, user_id: &str, role: Role) -> Result<()>;
    /// Members by name.
    async fn members(&self, workspace_id: &str) -> Result<Vec<Member>>;
    async fn member_role(&self, workspace_id: &str, user_id: &str) -> Result<Option<Role>>;
    /// The workspaces a user is a member of, with their role, by name.
    async fn workspaces_of(&self, user_id: &str) -> Result<Vec<(Workspace, Role)>>;

    /// Replaces any setup token with one whose SHA-256 is `hash`.
    async fn replace_setup_token(&self, hash: &str, now_ms: i64) -> Result<()>;
    /// Deletes the setup token if its hash is `hash`; true when it was there. Only one
    /// of two concurrent callers with the right token gets true.
    async fn take_setup_token(&self, hash: &str) -> Result<bool>;

    /// Stores a key; `Conflict` if its hash or id exists.
    async fn create_key(&self, key: &ApiKey) -> Result<()>;
    /// The key whose hash is `hash`, revoked and expired ones included.
    async fn key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>>;
    /// The key whose hash is `hash` (as [`key_by_hash`](Self::key_by_hash)) with its user's
    /// role in the key's workspace (`None`: no longer a member): the one read that every
    /// request with a key makes.
    async fn key_and_role(&self, hash: &str) -> Result<Option<(ApiKey, Option<Role>)>>;
    /// Every key, or one user's, oldest first.
    async fn keys(&self, user_id: Option<&str>) -> Result<Vec<KeyListing>>;
    /// Marks a key revoked (once: the first time is kept); false if there is no such key.
    async fn revoke_key(&self, id: &str, now_ms: i64) -> Result<bool>;

    async fn create_post(&self, post: &Post) -> Result<()> {
        self.create_post_and_emit(post, &[]).await
    }
    /// Stores a post and, in the same transaction, a delivery of each event to each
    /// enabled endpoint of the workspace subscribed to it (as [`emit_event`](Self::emit_event)).
    async fn create_post_and_emit(&self, post: &Post, events: &[Event]) -> Result<()>;
    /// A post of this workspace that is not deleted.
    async fn post(&self, workspace_id: &str, id: &str) -> Result<Option<Post>>;
    /// A post of this workspace that is not deleted, with its targets by account name and
    /// its media: one read where [`post`](Self::post), [`targets`](Self::targets) and
    /// [`post_fields`](Self::post_fields) are three.
    async fn post_with_targets(&self, workspace_id: &str, id: &str) -> Result<Option<PostRead>>;
    async fn posts(&self, query: &PostQuery) -> Result<Vec<Post>>;
    /// Writes the post's title, body, state, schedule, zone and updated time, if it
    /// exists in its workspace and is not deleted; false otherwise.
    async fn save_post(&self, post: &Post) -> Result<bool> {
        self.save_post_and_emit(post, &[]).await
    }
    /// [`save_post`](Self::save_post), recording the events' deliveries in the same
    /// transaction when the post was saved (none when it was not).
    async fn save_post_and_emit(&self, post: &Post, events: &[Event]) -> Result<bool>;
    /// Soft-deletes a post; false if there was none to delete.
    async fn delete_post(&self, workspace_id: &str, id: &str, now_ms: i64) -> Result<bool>;
    /// [`delete_post`](Self::delete_post) of `post` through the API: when it deletes, its
    /// `fields` (the `deleted` field) are stamped and carried by a version of the sync
    /// chain in the same transaction, as [`update_post_stamped`](Self::update_post_stamped)
    /// does.
    async fn delete_post_stamped(
        &self,
        post: &Post,
        now_ms: i64,
        fields: &[ApiField],
    ) -> Result<bool>;

    /// Reserves `key` in `scope` for a request whose hash is `request_hash`, or says what
    /// happened to the key before. Keys older than [`IDEMPOTENCY_TTL_MS`] are forgotten.
    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now_ms: i64,
    ) -> Result<IdempotencyBegin>;
    /// Records the answer to a reserved key.
    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<()>;
    /// Frees a reserved key whose request failed on the server's side, so it can be retried.
    async fn idempotency_release(&self, scope: &str, key: &str) -> Result<()>;

    /// Deletes a user's personal data at once, in one transaction: their name becomes
    /// `deleted-<id>`, the password hash and TOTP are emptied,
    /// their recovery codes, keys, sessions and memberships are deleted. The row stays,
    /// marked deleted, so what they wrote stays attributed to it. False if there is no
    /// such user, or they were deleted already.
    async fn delete_user(&self, id: &str, now_ms: i64) -> Result<bool>;
    /// Replaces a user's password hash and revokes their sessions; false if no such user.
    async fn set_password(&self, id: &str, hash: &str, now_ms: i64) -> Result<bool>;
    /// Stores a sealed TOTP secret awaiting its first code (replacing any other pending
    /// one; an enabled TOTP stays in force until the new one is confirmed).
    async fn begin_totp(&self, user_id: &str, sealed: &str) -> Result<bool>;
    /// Makes the pending secret the user's TOTP, if it is still `pending`, with `step` as
    /// the last step used, and replaces their recovery codes with `recovery_hashes`.
    async fn confirm_totp(
        &self,
        user_id: &str,
        pending: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<bool>;
    /// Turns TOTP off: the secret, the pending secret and the recovery codes go.
    async fn disable_totp(&self, user_id: &str) -> Result<bool>;
    /// Records `step` as used if it is later than the last one used: true once per step,
    /// so a code cannot be replayed, even by two processes at once.
    async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool>;
    /// Marks the unused recovery code whose hash is `hash` used; true once.
    async fn use_recovery_code(&self, user_id: &str, hash: &str, now_ms: i64) -> Result<bool>;
    /// How many unused recovery codes the user has.
    async fn recovery_codes_left(&self, user_id: &str) -> Result<u32>;
    /// The failures in a row of a subject, if any.
    async fn login_failures(&self, subject: &str) -> Result<Option<LoginFailures>>;
    /// Counts one more failure (starting again at 1 when the last one is older than
    /// `window_ms`) and returns the new count; atomic under concurrent failures.
    async fn record_login_failure(
        &self,
        subject: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<LoginFailures>;
    /// Forgets a subject's failures (after a successful sign-in).
    async fn clear_login_failures(&self, subject: &str) -> Result<()>;

    /// Appends `version` to its workspace's chain if `version.parent_id` is the latest
    /// version there (`None`: the chain is empty), and applies `writes` to the workspace's
    /// posts, all in one transaction (a compare-and-set: of two concurrent callers with one
    /// parent, one gets `Added`, the other `Stale`, with nothing stored). Writes apply last
    /// writer wins per post field; a write to a post of another workspace does nothing, and
    /// creating one (its id taken there) stores nothing and answers `ForeignPost`. A write
    /// other than `Create` to a post of which a target is in a [`STARTED`] state stores
    /// nothing and answers `Started` with every such post (checked in the transaction, so
    /// a publisher that starts meanwhile is seen). A `version.batch_id` the workspace's
    /// chain already has is a retried push: checked first (whatever the parent), it stores
    /// nothing and answers `Duplicate` with that version (also to the second of two
    /// concurrent pushes of one batch).
    async fn add_version(&self, version: &SyncVersion, writes: &[FieldWrite])
    -> Result<AddVersion>;
    /// [`add_version`](Self::add_version) for a version pushed by someone whose posts need
    /// approval: in the same transaction, each post whose text, media, time or accounts a
    /// write of the version changed (winning over the field's stamp) and which is
    /// scheduled afterwards has its waiting targets (scheduled, waiting to retry) await
    /// approval, keeping their time, and, when any did (or its time moved while targets
    /// await), records the deliveries of `approval.events_of` for it.
    async fn add_version_awaiting(
        &self,
        version: &SyncVersion,
        writes: &[FieldWrite],
        approval: &SyncApproval,
    ) -> Result<AddVersion>;
    /// A post's fields as the workspace's sync chain last wrote them, by field name
    /// (fields written before values were kept are left out).
    async fn post_fields(&self, workspace_id: &str, post_id: &str) -> Result<Vec<StampedField>>;
    /// Records that a workspace holds media file `sha256` (`size` bytes); false, changing
    /// nothing, when it held it already.
    async fn add_media(
        &self,
        workspace_id: &str,
        sha256: &str,
        size: i64,
        now_ms: i64,
    ) -> Result<bool>;
    /// Which of `sha256s` the workspace holds.
    async fn known_media(&self, workspace_id: &str, sha256s: &[String]) -> Result<Vec<String>>;
    /// The versions of a workspace after `since` (from the first when `None`), oldest
    /// first, at most `limit`; `None` when `since` is not a version of that workspace.
    async fn versions_after(
        &self,
        workspace_id: &str,
        since: Option<&str>,
        limit: u32,
    ) -> Result<Option<Vec<SyncVersion>>>;
    /// The id of a workspace's latest version, if it has any.
    async fn latest_version(&self, workspace_id: &str) -> Result<Option<String>>;
    /// A page of the workspace's current state, for a device that catches up from it
    /// instead of replaying every version: the latest version (read first), then up to
    /// `limit` posts with an id after `after`, in id order, each with its creation time
    /// and the fields the chain wrote, as [`Storage::post_fields`] reads them. The fields
    /// are at least as new as that version: a device that applies every page and then
    /// pulls the versions after it holds what replaying all of them gives.
    async fn snapshot_page(
        &self,
        workspace_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<SnapshotPage>;
    /// Ends session `old_id` and stores `new` in its place, in one transaction; false,
    /// storing nothing, if the old session does not exist or was ended already.
    async fn move_session(&self, old_id: &str, new: &Session, now_ms: i64) -> Result<bool>;
    /// Stores a session; `Conflict` if its hash exists.
    async fn create_session(&self, session: &Session) -> Result<()>;
    /// The session whose token hash is `hash`, revoked and expired ones included.
    async fn session_by_hash(&self, hash: &str) -> Result<Option<Session>>;
    /// The session whose token hash is `hash` with its user's role in the session's
    /// workspace, as [`key_and_role`](Self::key_and_role).
    async fn session_and_role(&self, hash: &str) -> Result<Option<(Session, Option<Role>)>>;
    /// Revokes a session (once); false if there is no such session.
    async fn revoke_session(&self, id: &str, now_ms: i64) -> Result<bool>;
    /// Rotates a key in one transaction: stores `new`, and makes the old key stop at
    /// `old_until_ms` (or its own expiry, if sooner), pointing at `new`. False, storing
    /// nothing, if the old key does not exist, is revoked, or was rotated already.
    async fn rotate_key(&self, old_id: &str, new: &ApiKey, old_until_ms: i64) -> Result<bool>;

    /// Stores a webhook endpoint; `Conflict` if its id exists.
    async fn create_webhook(&self, webhook: &Webhook) -> Result<()>;
    /// A workspace's endpoints, oldest first.
    async fn webhooks(&self, workspace_id: &str) -> Result<Vec<Webhook>>;
    async fn webhook(&self, workspace_id: &str, id: &str) -> Result<Option<Webhook>>;
    /// Writes an endpoint's URL, description, events, updated time, disabled time and
    /// reason and failures in a row (not its secrets); false if it is not in the workspace.
    async fn save_webhook(&self, webhook: &Webhook) -> Result<bool>;
    /// Makes `sealed_new` the endpoint's secret and its current secret the old one, kept
    /// until `old_until_ms`; false if the endpoint is not in the workspace.
    async fn rotate_webhook_secret(
        &self,
        workspace_id: &str,
        id: &str,
        sealed_new: &str,
        old_until_ms: i64,
        now_ms: i64,
    ) -> Result<bool>;
    /// Deletes an endpoint with its deliveries and their attempts; false if there was none.
    async fn delete_webhook(&self, workspace_id: &str, id: &str) -> Result<bool>;
    /// Records, in one transaction, a pending delivery (due now) of the event to each
    /// enabled endpoint of its workspace subscribed to its type; returns how many.
    async fn emit_event(&self, event: &Event) -> Result<u32>;
    /// Stores a pending delivery as given (a ping or a redelivery); its attempts are not
    /// stored. `Conflict` if its id exists.
    async fn create_delivery(&self, delivery: &Delivery) -> Result<()>;
    /// An endpoint's deliveries, newest first, older than `before_id` when given, with
    /// their attempts.
    async fn deliveries(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        before_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
    /// One delivery of the workspace, with its attempts.
    async fn delivery(&self, workspace_id: &str, id: &str) -> Result<Option<Delivery>>;
    /// Claims up to `limit` pending deliveries that are due at `now_ms`, whose endpoint is
    /// enabled and which no other live lease holds, for `owner` until `now_ms + lease_ms`;
    /// returns them (without attempts) with their endpoints, earliest due first. Of
    /// processes claiming at once, each delivery goes to one (PostgreSQL: `FOR UPDATE
    /// SKIP LOCKED`; SQLite: a conditional update under the write lock). A lease that
    /// passes without [`finish_attempt`](Self::finish_attempt) lets another claim it.
    async fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Delivery, Webhook)>>;
    /// Records an attempt and what follows it, if `owner` still holds the delivery's
    /// lease, in one transaction: the delivery becomes delivered, pending again (due at
    /// the retry time) or failed, and its lease is freed; a success sets the endpoint's
    /// failures in a row to 0, a failure given up adds one and may disable the endpoint.
    async fn finish_attempt(
        &self,
        delivery_id: &str,
        owner: &str,
        attempt: &Attempt,
        end: &AttemptEnd,
        now_ms: i64,
    ) -> Result<Finished>;

    // ---- Accounts.

    /// Stores an account; `Conflict` if its workspace has one of that name. In the same
    /// transaction, the workspace's live posts whose synced `targets` name it get their
    /// target on it (at the post's time), so a post synced before its account was pushed
    /// is published once it is.
    async fn create_account(&self, account: &Account) -> Result<()>;
    /// A workspace's accounts, by name.
    async fn accounts(&self, workspace_id: &str) -> Result<Vec<Account>>;
    /// An account of this workspace, not deleted.
    async fn account(&self, workspace_id: &str, id: &str) -> Result<Option<Account>>;
    /// Deletes an account that has nothing left to publish: its credentials are erased
    /// and its name freed (`deleted-<id>`); its targets stay as history. Refused
    /// (`Pending`) while any of its targets is scheduled, waiting to retry or publishing.
    async fn delete_account(
        &self,
        workspace_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<AccountDeletion>;

    // ---- Sealed values (`postctl-server rotate-key`).

    /// Every sealed value: accounts' credentials, users' TOTP secrets, webhook secrets.
    async fn sealed_values(&self) -> Result<Vec<SealedValue>>;
    /// Replaces sealed values in one transaction, each only if it still holds the old
    /// value: `(old, new)`. False, changing nothing, if any of them changed meanwhile.
    async fn reseal(&self, changes: &[(SealedValue, String)]) -> Result<bool>;

    // ---- The workspace's model (`POST /api/v1/generate`).

    /// The workspace's model settings, if it has any.
    async fn ai_settings(&self, workspace_id: &str) -> Result<Option<AiSettings>>;
    /// Replaces the workspace's model settings (the key as sealed by the caller).
    async fn set_ai_settings(&self, settings: &AiSettings) -> Result<()>;

    // ---- Posts' targets.

    /// Stores a post, its targets and the events' deliveries (as
    /// [`create_post_and_emit`](Self::create_post_and_emit)) in one transaction.
    async fn create_post_with_targets(
        &self,
        post: &Post,
        targets: &[Target],
        events: &[Event],
    ) -> Result<()> {
        self.create_post_stamped(post, targets, events, &[]).await
    }
    /// [`create_post_with_targets`](Self::create_post_with_targets), with the post's
    /// `fields` stamped in `post_field_stamps` in the same transaction, as a synced write
    /// is (each the field's latest value: see [`ApiField`]).
    async fn create_post_stamped(
        &self,
        post: &Post,
        targets: &[Target],
        events: &[Event],
        fields: &[ApiField],
    ) -> Result<()>;
    /// Writes a post (as [`save_post`](Self::save_post)) and, in the same transaction: with
    /// `accounts`, makes its targets those accounts' (new targets for new accounts; those
    /// of accounts left out are cancelled if they may still be, and a cancelled target
    /// stays cancelled, as "Target states" in docs/ARCHITECTURE.md has it); then applies
    /// `change` to every target whose state allows it ([`change_allows`]). `None` if there
    /// is no such post. With `must_move`, a change that moves no target writes nothing and
    /// returns the targets it skipped. The events' deliveries are recorded in the same
    /// transaction, when it commits.
    async fn update_post(
        &self,
        post: &Post,
        accounts: Option<&[Target]>,
        change: Option<&TargetChange>,
        must_move: bool,
        events: &[Event],
    ) -> Result<Option<TargetsChanged>> {
        self.update_post_stamped(post, accounts, change, must_move, events, &[])
            .await
    }
    /// [`update_post`](Self::update_post), with the post's `fields` stamped in
    /// `post_field_stamps` in the same transaction (when it commits).
    async fn update_post_stamped(
        &self,
        post: &Post,
        accounts: Option<&[Target]>,
        change: Option<&TargetChange>,
        must_move: bool,
        events: &[Event],
        fields: &[ApiField],
    ) -> Result<Option<TargetsChanged>>;
    /// A workspace's approval settings (no row: approval not required, no approvers).
    async fn approval_settings(&self, workspace_id: &str) -> Result<ApprovalSettings>;
    /// Replaces a workspace's approval settings: whether approval is required and the
    /// named approvers (user ids; the caller checked they are members), in one transaction.
    async fn set_approval_settings(
        &self,
        workspace_id: &str,
        require_approval: bool,
        approver_ids: &[String],
        now_ms: i64,
    ) -> Result<()>;
    /// [`update_post`](Self::update_post) with `must_move` for an approver's decision:
    /// applies `change` (approve or reject) to the post's targets whose state allows it;
    /// when at least one moved, records `decision` in the post's history and the events'
    /// deliveries in the same transaction; otherwise writes nothing and returns the
    /// targets it skipped. `None` if there is no such post.
    async fn decide_approval(
        &self,
        post: &Post,
        change: &TargetChange,
        decision: &ApprovalDecision,
        events: &[Event],
    ) -> Result<Option<TargetsChanged>>;
    /// A post's approval decisions, oldest first, with the deciders' names.
    async fn approval_history(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<ApprovalDecision>>;
    /// The workspace's posts (not deleted) with a target awaiting approval, newest first,
    /// older than `before_id` when given.
    async fn posts_awaiting_approval(
        &self,
        workspace_id: &str,
        before_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Post>>;
    /// Marks every target still awaiting approval whose due time is at or before `now_ms`
    /// as missed (it is not published), and for each such post records a `missed`
    /// decision and the deliveries of `events_of(post)`, all in one transaction; returns
    /// the posts. Of processes sweeping at once, each post is missed once (PostgreSQL:
    /// `FOR UPDATE SKIP LOCKED`; SQLite: the write lock).
    async fn miss_unapproved(&self, now_ms: i64, events_of: EventsOf) -> Result<Vec<Unapproved>>;
    /// A post's targets, by account name.
    async fn targets(&self, workspace_id: &str, post_id: &str) -> Result<Vec<TargetView>>;
    /// The workspace's targets whose `updated_ms` is after `since_ms`, oldest change first
    /// (then by id), at most `limit`: what a syncing device learns of the publisher's work.
    async fn targets_changed(
        &self,
        workspace_id: &str,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<TargetView>>;
    /// A post's attempt log, oldest first, with each attempt's account name.
    async fn attempts(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<(String, PublishAttempt)>>;
    /// The workspace's targets due in `[from_ms, to_ms)` that are or were meant to go out
    /// (`TargetState::SCHEDULED_ONCE`), by due time.
    async fn calendar(
        &self,
        workspace_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<CalendarEntry>>;

    // ---- What the publish engine needs. Only the owner of an unexpired lease changes a
    // claimed target: every method below has the owner in its WHERE clause.

    /// Claims up to `limit` due targets (at most `per_account` of one account, oldest
    /// first) for `owner` until `lease_until_ms`: waiting ones whose time has come, and
    /// `publishing` ones whose lease ran out (their publisher stopped). Of the latter, one
    /// stopped mid-send is claimed again only where its network recognises the part sent
    /// again ([`takeover`]); elsewhere it becomes `uncertain` with an `interrupted`
    /// attempt. Accounts waiting out a rate limit are left alone. Two claimers never
    /// claim one target: on PostgreSQL `FOR UPDATE SKIP LOCKED` and a conditional UPDATE,
    /// on SQLite a conditional UPDATE in an IMMEDIATE transaction.
    async fn claim_due(&self, claim: &Claim) -> Result<ClaimOutcome>;
    /// Extends a held target's lease; false when the lease was lost.
    async fn renew_lease(&self, target_id: &str, owner: &str, until_ms: i64) -> Result<bool>;
    /// Notes that `part` of `planned` is about to be sent (since `now_ms`, or since it was
    /// first sent if it is the part already in flight) and renews the lease; false when
    /// the lease was lost: the caller must not send.
    async fn begin_part(
        &self,
        target_id: &str,
        owner: &str,
        part: u32,
        planned: u32,
        lease_until_ms: i64,
        now_ms: i64,
    ) -> Result<bool>;
    /// Records a part the network confirmed (as the adapter returned it: `{"id", "url",
    /// "extra"}`) with its attempt, and clears the part in flight; false when the lease
    /// was lost. Durable before it returns (SQLite: a full sync).
    async fn record_part(
        &self,
        target_id: &str,
        owner: &str,
        published: &serde_json::Value,
        attempt: &PublishAttempt,
    ) -> Result<bool>;
    /// Ends this round for a held target, gives up the lease and logs `attempt`:
    /// published, waiting to retry at a time, failed, uncertain, or released. The part in
    /// flight is cleared when the target is published or failed, or retried after the
    /// network answered (`attempt` has an HTTP status); otherwise (uncertain, released, a
    /// retry after no answer) it stays noted, as it may be on the network. A circuit's
    /// probe slot the target held is freed. The events' deliveries are recorded in the same
    /// transaction, when the lease was held. False when the lease was lost.
    async fn finish_target(
        &self,
        target_id: &str,
        owner: &str,
        finish: &Finish,
        attempt: Option<&PublishAttempt>,
        now_ms: i64,
        events: &[Event],
    ) -> Result<bool>;
    /// Gives back every target `owner` holds with no part in flight (shutdown); how many.
    async fn release_claims(&self, owner: &str, now_ms: i64) -> Result<u64>;
    /// Records that the network asked an account to wait until `until_ms`; a recorded
    /// wait that ends later is kept.
    async fn hold_account(&self, account_id: &str, until_ms: i64, reason: &str) -> Result<()>;
    /// Until when an account must wait, if later than `now_ms`, and the network's reason.
    async fn account_wait(&self, account_id: &str, now_ms: i64) -> Result<Option<(i64, String)>>;
    /// The earliest time a target becomes due, a lease runs out or an open circuit may be
    /// probed, if any. Accounts held (needing sign-in, on an open circuit) count only
    /// through their circuit's probe.
    async fn next_due(&self) -> Result<Option<i64>>;
    /// Like [`next_due`](Self::next_due), after `after_ms` and leaving out the accounts
    /// (ids) in `skip_accounts`.
    async fn next_due_after(&self, after_ms: i64, skip_accounts: &[String]) -> Result<Option<i64>>;
    /// Notes durably what the adapter sent on the way to the part in flight (JSON); false
    /// when the lease was lost or no part is in flight.
    async fn note_stage(&self, target_id: &str, owner: &str, stage: &str) -> Result<bool>;
    /// Accounts waiting out a rate limit past `now_ms` with targets waiting to retry.
    async fn held_accounts(&self, now_ms: i64) -> Result<Vec<HeldAccount>>;
    /// A number that changes when targets are added or change (the newest change time).
    async fn data_version(&self) -> Result<i64>;
    /// An account by id, in whatever workspace, deleted ones included.
    async fn account_by_id(&self, id: &str) -> Result<Option<Account>>;
    /// Replaces an account's sealed credentials (refreshed tokens); false if none.
    async fn replace_credentials(&self, account_id: &str, sealed: &str) -> Result<bool>;
    /// What the account's server said about its limits (JSON), and when.
    async fn server_limits(&self, account_id: &str) -> Result<Option<(String, i64)>>;
    /// Keeps what the account's server said about its limits at `read_ms`.
    async fn save_server_limits(&self, account_id: &str, limits: &str, read_ms: i64) -> Result<()>;
    /// The targets of a post with parts on their networks (not publishing, not
    /// cancelled): `(target id, account, parts JSON)`.
    async fn published_targets(&self, post_id: &str) -> Result<Vec<(String, Account, String)>>;
    /// Records that a target's parts were deleted from its network: it is `cancelled`.
    async fn mark_unpublished(&self, target_id: &str, now_ms: i64) -> Result<()>;
    /// Takes the account's token-refresh lock for `holder` until `until_ms`, unless
    /// another holder's lock is good at `now_ms`; of many at once, one gets it.
    async fn take_sign_in_lock(
        &self,
        account_id: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool>;
    /// Gives the lock back, if `holder` still has it.
    async fn release_sign_in_lock(&self, account_id: &str, holder: &str) -> Result<()>;
    /// Holds the account's posts until it signs in again; true when this is news, and
    /// then the events' deliveries are recorded in the same transaction.
    async fn mark_needs_sign_in(
        &self,
        account_id: &str,
        why: &str,
        events: &[Event],
    ) -> Result<bool>;
    /// The account's credentials work again (a check passed): its posts are no longer
    /// held, and its waiting targets count as changed (`data_version`). True when it was
    /// held.
    async fn signed_in_again(&self, account_id: &str, now_ms: i64) -> Result<bool>;
    /// Why each account that needs signing in again does: `(account id, why)`.
    async fn accounts_needing_sign_in(&self) -> Result<Vec<(String, String)>>;
    /// Records an outage failure on `circuit` and decides
    /// (`postctl_core::publish::circuit::after_outage`) in one transaction, so failures
    /// noted by several processes at once all count; the event when this one opened it.
    async fn note_outage(
        &self,
        circuit: &Circuit,
        outage: Outage,
        error: &str,
        rule: &CircuitRule,
    ) -> Result<(CircuitState, Option<CircuitEvent>)>;
    /// The network answered at `at_ms`: the circuit's row goes; the `Closed` event when it
    /// was open (of several processes at once, the one that deleted the row gets it).
    async fn note_answer(&self, circuit: &Circuit, at_ms: i64) -> Result<Option<CircuitEvent>>;
    /// The circuit's state, when it has recent failures or is open.
    async fn circuit(&self, circuit: &Circuit) -> Result<Option<CircuitState>>;
    /// Every open circuit, the longest down first (for `/metrics`).
    async fn open_circuits(&self) -> Result<Vec<CircuitState>>;
    /// How many targets are in each state (for `/metrics`).
    async fn target_counts(&self) -> Result<Vec<(TargetState, u64)>>;
    /// Counts one request of `id` against `per_minute` requests a minute, for every
    /// process of this database together: a token bucket of a minute's worth, kept as the
    /// time it is full again (GCRA). One atomic statement: of concurrent requests from any
    /// number of processes, exactly as many are allowed as the bucket holds. A refused
    /// request takes nothing.
    async fn take_rate_token(&self, id: &str, per_minute: u32, now_ms: i64) -> Result<RateTaken>;
    /// Deletes what has outlived its use or its retention (see [`Purge`]) and says how many
    /// rows went. Idempotent; several processes may run it at once.
    async fn purge(&self, purge: &Purge) -> Result<Purged>;

    // ---- Templates and voices.

    /// Stores a template, replacing the workspace's template of that name (keeping its
    /// `created_ms`); true if it is new.
    async fn put_template(&self, template: &StoredTemplate) -> Result<bool>;
    /// The workspace's templates, by name.
    async fn templates(&self, workspace_id: &str) -> Result<Vec<StoredTemplate>>;
    async fn template(&self, workspace_id: &str, name: &str) -> Result<Option<StoredTemplate>>;
    async fn delete_template(&self, workspace_id: &str, name: &str) -> Result<bool>;
    /// Stores a voice, replacing the workspace's voice of that name (keeping its
    /// `created_ms`); true if it is new.
    async fn put_voice(&self, voice: &StoredVoice) -> Result<bool>;
    /// The workspace's voices, by name.
    async fn voices(&self, workspace_id: &str) -> Result<Vec<StoredVoice>>;
    async fn voice(&self, workspace_id: &str, name: &str) -> Result<Option<StoredVoice>>;
    async fn delete_voice(&self, workspace_id: &str, name: &str) -> Result<bool>;

    // ---- Triggers.

    async fn create_trigger(&self, trigger: &Trigger) -> Result<()>;
    /// The workspace's triggers, oldest first.
    async fn triggers(&self, workspace_id: &str) -> Result<Vec<Trigger>>;
    /// A trigger by id alone, whatever its workspace: GitHub's call carries no key, only
    /// the trigger's id and a signature its secret makes.
    async fn trigger(&self, id: &str) -> Result<Option<Trigger>>;
    /// Deletes a trigger and its record of fired events (their posts stay).
    async fn delete_trigger(&self, workspace_id: &str, id: &str) -> Result<bool>;
    /// Makes the post an outside event asks for, once per `(trigger_id, dedupe_key)`: in
    /// one transaction, records the key, stores the post and its targets and the events'
    /// deliveries. If the key was recorded before (a redelivery, even one racing this call
    /// from another process: the unique key decides), writes nothing and answers the
    /// post the first call made.
    ///
    /// With `queue`, the post and its targets are due at the next free slot
    /// ([`queue`](mod@queue)), picked in the same transaction with the accounts locked,
    /// and its events are `queue.events` of the post at that time; no slot is
    /// [`StorageError::NoQueueSlot`] and nothing is written.
    async fn fire_trigger(
        &self,
        trigger_id: &str,
        dedupe_key: &str,
        post: &Post,
        targets: &[Target],
        events: &[Event],
        queue: Option<&Queued>,
    ) -> Result<Fired>;

    // ---- Feeds (`crate::feeds`).

    async fn create_feed(&self, feed: &Feed) -> Result<()>;
    /// The workspace's feeds, oldest first.
    async fn feeds(&self, workspace_id: &str) -> Result<Vec<Feed>>;
    /// Deletes a feed and its record of seen items (their posts stay).
    async fn delete_feed(&self, workspace_id: &str, id: &str) -> Result<bool>;
    /// Claims up to `limit` feeds due at `now_ms` whose lease is free, for `owner` until
    /// `now_ms + lease_ms`, earliest due first. Of processes claiming at once each feed
    /// goes to one (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional update under
    /// SQLite's write lock).
    async fn claim_feeds(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Feed>>;
    /// Records a poll and frees the lease, only while `owner` holds it; false (nothing
    /// written) otherwise.
    async fn finish_poll(&self, feed_id: &str, owner: &str, polled: &Polled) -> Result<bool>;
    /// Records item keys as seen without posts (the items already in a feed when it is
    /// first read); keys seen before stay as they were.
    async fn see_feed_items(&self, feed_id: &str, keys: &[String], now_ms: i64) -> Result<()>;
    /// Makes the post for a new feed item, once: in one transaction, records each of the
    /// item's `keys` (its id, its link) for the feed, stores the post, its targets and
    /// the events' deliveries. If any key was recorded before (the item was seen, by any
    /// process, or it came back under a new id with its old link), writes nothing and
    /// answers false; a concurrent second insert waits for the first and then finds it.
    /// `queue` as for [`Storage::fire_trigger`].
    async fn post_feed_item(
        &self,
        feed_id: &str,
        keys: &[String],
        post: &Post,
        targets: &[Target],
        events: &[Event],
        queue: Option<&Queued>,
    ) -> Result<bool>;

    // ---- The posting queue (`storage::queue`).

    /// Sets an account's queue slots (replacing them); the account must be the
    /// workspace's (else false, nothing written).
    async fn set_queue_slots(&self, slots: &QueueSlots) -> Result<bool>;
    /// An account's queue slots, if it has some.
    async fn queue_slots(&self, workspace_id: &str, account_id: &str)
    -> Result<Option<QueueSlots>>;
    /// The workspace's accounts' queue slots, by account id.
    async fn all_queue_slots(&self, workspace_id: &str) -> Result<Vec<QueueSlots>>;
    /// Removes an account's queue slots; true if it had some.
    async fn clear_queue_slots(&self, workspace_id: &str, account_id: &str) -> Result<bool>;
    /// The due times at or after `from_ms` that the workspace's live targets on
    /// `account_ids` hold ([`queue::HOLD_SLOT`]), ascending, each once.
    async fn taken_slots(
        &self,
        workspace_id: &str,
        account_ids: &[String],
        from_ms: i64,
    ) -> Result<Vec<i64>>;

    // Notifications (`crate::notify`). Every event recorded for webhooks is also kept in
    // `notification_events` by the same transaction (not `ping`).

    /// Claims up to `limit` events not yet routed whose lease is free, for `owner` until
    /// `now_ms + lease_ms`, oldest first. Concurrent claimers (any process) never get
    /// one event both while the lease lasts (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
    async fn claim_notification_events(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<NotificationEvent>>;
    /// Writes what an event became and marks it routed, in one transaction, only while
    /// `owner` holds its lease and it is not routed yet; `false` (nothing written) otherwise.
    async fn route_notification_event(
        &self,
        event_id: &str,
        owner: &str,
        routed: &Routed,
        now_ms: i64,
    ) -> Result<bool>;
    /// A workspace's events recorded in `[from_ms, until_ms)`, oldest first (the digest's
    /// material).
    async fn notification_events_between(
        &self,
        workspace_id: &str,
        from_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<NotificationEvent>>;
    /// Claims up to `limit` pending messages that are due and whose lease is free (as
    /// [`Storage::claim_notification_events`]), each with its channel. Messages of a
    /// deleted channel are not claimed.
    async fn claim_notification_sends(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(NotificationSend, Channel)>>;
    /// Records an attempt at a message (attempts + 1, the end's state, time and error),
    /// only while `owner` holds its lease; `false` (nothing recorded) otherwise.
    async fn finish_notification_send(
        &self,
        id: &str,
        owner: &str,
        end: &SendEnd,
        now_ms: i64,
    ) -> Result<bool>;
    /// A message by id (what the tests and operators look at).
    async fn notification_send(&self, id: &str) -> Result<Option<NotificationSend>>;
    /// The messages to a user's channels, newest first.
    async fn notification_sends(&self, user_id: &str, limit: u32) -> Result<Vec<NotificationSend>>;
    /// A user's inbox in one workspace, newest first, after the query's cursor.
    async fn inbox(&self, query: &InboxQuery) -> Result<Vec<InboxItem>>;
    /// Marks a user's unread items in a workspace read at `now_ms`: the one with `id`, or
    /// all of them with `None`. Returns how many were unread and are read now; an item
    /// already read keeps its time.
    async fn mark_inbox_read(
        &self,
        user_id: &str,
        workspace_id: &str,
        id: Option<&str>,
        now_ms: i64,
    ) -> Result<u64>;
    /// Whether the user has an inbox item with `id` in the workspace (read or not).
    async fn inbox_item_exists(&self, user_id: &str, workspace_id: &str, id: &str) -> Result<bool>;
    async fn create_channel(&self, channel: &Channel) -> Result<()>;
    /// A user's channels, oldest first.
    async fn channels(&self, user_id: &str) -> Result<Vec<Channel>>;
    /// Deletes a user's channel and its pending messages; `false` when the user has none
    /// with `id`.
    async fn delete_channel(&self, user_id: &str, id: &str) -> Result<bool>;
    /// A user's preferences and digest schedule (empty when never set).
    async fn notification_settings(&self, user_id: &str) -> Result<NotificationSettings>;
    /// Replaces a user's preferences and digest schedule in one transaction.
    async fn save_notification_settings(
        &self,
        user_id: &str,
        settings: &NotificationSettings,
    ) -> Result<()>;
    /// Claims up to `limit` digests due at `now_ms` whose lease is free (as
    /// [`Storage::claim_notification_events`]).
    async fn claim_digests(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DigestSchedule>>;
    /// Writes a digest's inbox item and messages and moves the schedule to `next_ms`, in
    /// one transaction, only while `owner` holds its lease and it is still due at
    /// `due_ms`; `false` (nothing written) otherwise.
    async fn finish_digest(
        &self,
        user_id: &str,
        owner: &str,
        due_ms: i64,
        next_ms: i64,
        routed: &Routed,
    ) -> Result<bool>;

    // ---- Analytics: each published target's counters, read on core's schedule by one
    // process at a time.

    /// Claims up to `limit` published targets whose counters are due at `now_ms` (never
    /// read, or `next_ms` passed) and that no unexpired lease holds, for `owner` until
    /// `lease_until_ms`; accounts needing sign-in are left out. Two claimers never claim
    /// one target: on PostgreSQL `FOR UPDATE SKIP LOCKED` and a conditional upsert, on
    /// SQLite the same upsert in an IMMEDIATE transaction.
    async fn claim_metrics(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<MetricClaim>>;
    /// Ends `owner`'s collection of a claimed target: keeps the reading (if any), notes
    /// when it was read and when it is read next (`None`: never), and frees it. False
    /// (nothing written) when the lease is no longer `owner`'s.
    async fn finish_metrics(&self, owner: &str, done: &MetricDone) -> Result<bool>;
    /// The readings of a post's targets in the workspace, by target then time.
    async fn post_readings(&self, workspace_id: &str, post_id: &str) -> Result<Vec<MetricReading>>;
    /// Claims up to `limit` accounts whose figures are due at `now_ms` (never read, or
    /// `next_ms` passed), free of any unexpired lease, not deleted and not needing
    /// sign-in, for `owner` until `lease_until_ms`, as [`Storage::claim_metrics`] does.
    async fn claim_account_metrics(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<AccountMetricClaim>>;
    /// Ends `owner`'s reading of a claimed account: keeps the figures (if any), when it
    /// is read next (`None`: never), and frees it. False (nothing written) when the lease
    /// is no longer `owner`'s.
    async fn finish_account_metrics(&self, owner: &str, done: &AccountMetricDone) -> Result<bool>;
    /// An account's figures over time, oldest first (empty for an account of another
    /// workspace).
    async fn account_readings(
        &self,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<Vec<AccountReading>>;
}

/// Whether an endpoint receives events of `event_type`: it subscribed to it and is
/// enabled. Both storages decide with this.
pub fn receives(webhook: &Webhook, event_type: &str) -> bool {
    webhook.disabled_ms.is_none() && webhook.events.iter().any(|e| e == event_type)
}

/// A pending delivery of `event` to `webhook`, due at once.
pub fn delivery_for(webhook: &Webhook, event: &Event) -> Delivery {
    Delivery {
        id: uuid::Uuid::now_v7().to_string(),
        webhook_id: webhook.id.clone(),
        workspace_id: event.workspace_id.clone(),
        event_type: event.event_type.clone(),
        payload: event.payload.clone(),
        state: DeliveryState::Pending,
        next_attempt_ms: event.created_ms,
        created_ms: event.created_ms,
        finished_ms: None,
        redelivery_of: None,
        attempt_count: 0,
        attempts: Vec::new(),
    }
}

/// The endpoint's state after a finished attempt: its failures in a row, and whether
/// it is disabled now (with the reason), given how it stood before.
pub fn after_attempt(webhook_failed_in_a_row: u32, end: &AttemptEnd) -> (u32, Option<String>) {
    match end {
        AttemptEnd::Delivered => (0, None),
        AttemptEnd::RetryAt(_) => (webhook_failed_in_a_row, None),
        AttemptEnd::GaveUp {
            disable_after,
            reason,
        } => {
            let failed = webhook_failed_in_a_row.saturating_add(1);
            (failed, (failed >= *disable_after).then(|| reason.clone()))
        }
        AttemptEnd::Gone { reason } => (
            webhook_failed_in_a_row.saturating_add(1),
            Some(reason.clone()),
        ),
    }
}

/// What [`Storage::take_rate_token`] decided, and the bucket's state after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateTaken {
    pub allowed: bool,
    /// When the bucket is full again (UTC microseconds).
    pub full_at_us: i64,
}

/// A minute, the window of every rate limit, in microseconds.
pub const RATE_WINDOW_US: i64 = 60_000_000;

/// A published target whose counters one process reads now ([`Storage::claim_metrics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricClaim {
    pub target_id: String,
    pub account_id: String,
    pub post_id: String,
    /// The published parts (JSON array of core's `Published`); the first is read.
    pub parts: String,
    /// When it was published (ms).
    pub published_ms: i64,
    /// When its counters were last read (ms), if ever.
    pub last_read_ms: Option<i64>,
}

/// What one reading of a claimed target came to ([`Storage::finish_metrics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricDone {
    pub target_id: String,
    /// The counters read (core's `Counters` as JSON), at `read_ms`; `None`: nothing was
    /// read (pending, gone, or the network failed).
    pub reading: Option<(i64, String)>,
    /// When to read it next (ms); `None`: never again.
    pub next_ms: Option<i64>,
}

/// One reading of one target's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricReading {
    pub target_id: String,
    pub read_ms: i64,
    /// Core's `Counters` as JSON.
    pub counters: String,
}

/// An account claimed for reading its figures ([`Storage::claim_account_metrics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMetricClaim {
    pub account_id: String,
    /// When its figures were last read (ms), if ever.
    pub last_read_ms: Option<i64>,
}

/// What one reading of a claimed account came to ([`Storage::finish_account_metrics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMetricDone {
    pub account_id: String,
    /// The figures read (core's `Counters` as JSON) at `read_ms`; `None`: nothing read.
    pub reading: Option<(i64, String)>,
    /// When to read it next (ms); `None`: never again.
    pub next_ms: Option<i64>,
}

/// One reading of an account's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountReading {
    pub read_ms: i64,
    /// Core's `Counters` as JSON.
    pub counters: String,
}

/// What [`Storage::purge`] deletes: rows that ended before these times (UTC ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purge {
    /// Sessions that expired or were signed out before this (`retention_days`).
    pub sessions_ended_before_ms: i64,
    /// Idempotency keys made before this (they are not replayed after a day anyway).
    pub idempotency_before_ms: i64,
    /// Failed sign-ins whose last failure is before this (the lockout forgets them).
    pub login_failures_before_ms: i64,
    /// Rate-limit buckets full again before this: a missing bucket is a full one.
    pub rate_limits_full_before_ms: i64,
    /// Webhook deliveries delivered or failed before this, with their attempts
    /// (`retention_days`); pending ones stay, however old.
    pub deliveries_finished_before_ms: i64,
    /// Publish attempts that ended before this (`retention_days`), of targets that are
    /// done with: those still pending or `uncertain` (the user resolves it from them) keep
    /// all of theirs.
    pub attempts_ended_before_ms: i64,
    /// Notification events routed, messages sent or given up, and inbox items read before
    /// this; unrouted events, pending messages and unread items stay.
    pub notifications_before_ms: i64,
}

/// The target states whose publish attempts [`Storage::purge`] keeps, however old.
pub const ATTEMPTS_KEPT: &[TargetState] = &[
    TargetState::Scheduled,
    TargetState::WaitingRetry,
    TargetState::Publishing,
    TargetState::Uncertain,
];

/// How many rows [`Storage::purge`] deleted, by table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub idempotency_keys: u64,
    pub login_failures: u64,
    pub rate_limits: u64,
    pub webhook_deliveries: u64,
    pub webhook_attempts: u64,
    pub attempts: u64,
    pub notification_events: u64,
    pub notification_sends: u64,
    pub inbox_items: u64,
}

/// The schema version this binary writes (the number of migrations).
pub fn schema_version() -> i64 {
    schema::latest()
}

/// How busy the database connections are, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open now.
    pub size: usize,
    /// Of those, the ones not in use.
    pub idle: usize,
    /// The most the pool opens.
    pub max_size: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// Opens the storage a database URL names: `postgres://` or `postgresql://` for
/// PostgreSQL, otherwise the SQLite file `sqlite_path`. Runs the migrations.
pub async fn open(
    database_url: Option<&str>,
    sqlite_path: &std::path::Path,
) -> Result<std::sync::Arc<dyn Storage>> {
    match database_url {
        Some(url) => Ok(std::sync::Arc::new(postgres::PgStorage::open(url).await?)),
        None => Ok(std::sync::Arc::new(
            sqlite::SqliteStorage::open(sqlite_path).await?,
        )),
    }
}
