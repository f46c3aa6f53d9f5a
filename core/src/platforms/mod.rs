//! One folder per network behind one interface ("Networks" in docs/ARCHITECTURE.md).
//!
//! A network is its folder (`platforms/<network>/mod.rs`) plus one line in [`platform`].
//! The folder defines the network's [`Platform`]: its limits ([`Capabilities`], known
//! without any secret) and how to build the [`Adapter`] of one account, which checks
//! credentials, publishes one part of a post (a reply to the previous part when threading)
//! and deletes. Errors come back classified ([`PublishError`]) so the engine decides
//! retries in one place. All HTTP goes through [`http::Http`]: timeouts, user agent,
//! rate-limit bookkeeping.

pub mod http;
mod idempotency;

mod bluesky;
#[cfg(test)]
mod credential_tests;
mod discord;
mod facebook;
#[cfg(test)]
mod fuzz_answers;
mod graph;
mod instagram;
mod mastodon;
mod matrix;
pub mod metrics;
mod mode;
mod slack;
mod telegram;
#[cfg(test)]
pub(crate) mod test_server;
mod threads;
mod vk;
pub(crate) mod webhook;
pub mod x;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Account;
use crate::network::Network;
use crate::secrets::{Secret, SharedRedactor};
use crate::signin::SignIn;
use crate::text::{Format, Rendered, TextLimit};

pub use facebook::pages as facebook_pages;
pub use graph::signed_in_user;
pub use http::Http;
pub use idempotency::Idempotency;
pub use metrics::{
    AccountMetrics, Counters, Metrics, PostMetrics, PostReading, PushedReactions, UpdateInbox,
};

/// What a network can take, as the adapter knows it (after [`Adapter::prepare`] for
/// networks whose limits are per server, such as Mastodon instances).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capabilities {
    pub limit: TextLimit,
    pub format: Format,
    /// Media per post (per part of a thread).
    pub max_media: usize,
    /// Largest image the network accepts, in bytes.
    pub max_image_bytes: u64,
    /// Whether parts can reply to each other (a thread).
    pub threads: bool,
    /// What the network promises about a request sent again with the same key, and for
    /// how long: within it an unknown outcome is retried safely.
    pub idempotency: Idempotency,
}

impl Capabilities {
    /// Whether an unknown outcome can ever be retried safely.
    pub fn idempotent(&self) -> bool {
        self.idempotency != Idempotency::None
    }
}

/// A media file to upload with a part.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaFile {
    pub path: PathBuf,
    pub file_name: String,
    pub mime: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt: Option<String>,
}

/// What the network answered for a published part: stored on the target, used to reply to
/// it and to delete it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// The network's id for the post (a status id, an at:// URI, a message id...).
    pub id: String,
    /// A link people can open, where the network has one.
    pub url: Option<String>,
    /// Whatever else replying or deleting needs (Bluesky's cid, Telegram's chat id...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
}

/// One post to make: a whole post, or one part of a thread.
#[derive(Debug, Clone)]
pub struct Part {
    /// 0 for the first part of a thread.
    pub index: usize,
    pub rendered: Rendered,
    pub media: Vec<MediaFile>,
    /// Stable across retries of this part (target id + part index), for networks with
    /// idempotency keys, nonces, transaction ids or client-chosen record keys.
    pub idempotency_key: String,
    /// The previous part, when this one continues a thread.
    pub reply_to: Option<Published>,
    /// The first part of the thread, when this one continues it (Bluesky needs both).
    pub root: Option<Published>,
    /// What an earlier attempt at this part noted before the request that posts it, and
    /// where to note it now (see [`Stage`]).
    pub stage: Stage,
}

/// For adapters that post in steps (Instagram: a container, then `media_publish`): what
/// an earlier attempt at the part noted before the request that posts it, and where this
/// attempt notes it. The engine keeps the note durably with the part in flight, so after
/// a crash or a lost answer the adapter checks what the note names on the network instead
/// of starting over (its [`Idempotency::Checked`]).
#[derive(Clone, Default)]
pub struct Stage {
    /// What the last attempt noted (a container id), if it got that far.
    pub earlier: Option<serde_json::Value>,
    keep: Option<Arc<KeepStage>>,
}

/// Keeps a stage durably; false when it could not.
type KeepStage = dyn Fn(serde_json::Value) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
    + Send
    + Sync;

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stage")
            .field("earlier", &self.earlier)
            .finish_non_exhaustive()
    }
}

impl Stage {
    /// A stage noted by `keep`, which returns false when it could not be kept (the
    /// publisher lost its claim on the target).
    pub fn new<F>(
        earlier: Option<serde_json::Value>,
        keep: impl Fn(serde_json::Value) -> F + Send + Sync + 'static,
    ) -> Stage
    where
        F: std::future::Future<Output = bool> + Send + 'static,
    {
        let keep = move |stage: serde_json::Value| {
            Box::pin(keep(stage))
                as std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
        };
        Stage {
            earlier,
            keep: Some(Arc::new(keep)),
        }
    }

    /// Notes `stage` durably before the request that posts. An error when it cannot be
    /// kept: the adapter must not post, since a retry would not know to check.
    pub async fn note(&self, stage: &serde_json::Value) -> Result<(), PublishError> {
        match &self.keep {
            None => Ok(()),
            Some(keep) if keep(stage.clone()).await => Ok(()),
            Some(_) => Err(PublishError::Retryable {
                message: "postctl could not note the step reached before posting (the database is busy, or another publisher took the post over); nothing was posted".into(),
                retry_after: None,
                maybe_sent: false,
                status: None,
            }),
        }
    }
}

/// Who the credentials belong to, from [`Adapter::verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verified {
    /// The account as the network names it ("@me@fosstodon.org", "bot @postctl_bot").
    pub identity: String,
}

/// A failure, classified for the engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PublishError {
    /// Worth trying again: network trouble, 5xx, 429. `maybe_sent` is true when the
    /// request may have reached the network and been acted on (a timeout or a dropped
    /// connection after sending, a 5xx after the request was read), so a retry on a
    /// network without idempotency could post twice.
    #[error("{message}")]
    Retryable {
        message: String,
        retry_after: Option<Duration>,
        maybe_sent: bool,
        status: Option<u16>,
    },
    /// The credentials are missing, wrong, expired or revoked: the user must act.
    #[error("{message}")]
    Auth {
        message: String,
        status: Option<u16>,
    },
    /// The network refused this post for good (validation, not found, forbidden).
    #[error("{message}")]
    Permanent {
        message: String,
        status: Option<u16>,
    },
    /// The network wants a person to act on its site before it takes more (VK's captcha,
    /// its account validation); the credentials are fine. The message says what to do;
    /// the post fails until `postctl retry`.
    #[error("{message}")]
    NeedsPerson {
        message: String,
        status: Option<u16>,
    },
}

impl PublishError {
    pub fn status(&self) -> Option<u16> {
        match self {
            PublishError::Retryable { status, .. }
            | PublishError::Auth { status, .. }
            | PublishError::Permanent { status, .. }
            | PublishError::NeedsPerson { status, .. } => *status,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        PublishError::Permanent {
            message: message.into(),
            status: None,
        }
    }

    pub fn auth(message: impl Into<String>) -> Self {
        PublishError::Auth {
            message: message.into(),
            status: None,
        }
    }

    /// The same error with `redactor`'s secret scrubbed from its message: a network's
    /// error text can echo the request (a URL with a token, an Authorization header).
    pub fn scrubbed(self, redactor: &SharedRedactor) -> Self {
        match self {
            PublishError::Retryable {
                message,
                retry_after,
                maybe_sent,
                status,
            } => PublishError::Retryable {
                message: redactor.scrub(&message),
                retry_after,
                maybe_sent,
                status,
            },
            PublishError::Auth { message, status } => PublishError::Auth {
                message: redactor.scrub(&message),
                status,
            },
            PublishError::Permanent { message, status } => PublishError::Permanent {
                message: redactor.scrub(&message),
                status,
            },
            PublishError::NeedsPerson { message, status } => PublishError::NeedsPerson {
                message: redactor.scrub(&message),
                status,
            },
        }
    }

    /// An answer that does not say what became of the request (a success without the
    /// post's id, a body that is not JSON): worth trying again, but it may have posted.
    pub fn maybe_sent(message: impl Into<String>, status: Option<u16>) -> Self {
        PublishError::Retryable {
            message: message.into(),
            retry_after: None,
            maybe_sent: true,
            status,
        }
    }
}

/// Where an adapter may keep a session between runs (Bluesky's tokens): the secret store.
pub trait SessionStore: Send + Sync {
    fn load(&self, account: &str) -> Option<Secret>;
    fn save(&self, account: &str, session: &Secret);
}

/// What a network is to postctl: its limits, and how to reach one account on it.
///
/// Each network's folder defines one `PLATFORM` and [`platform`] lists them all. The
/// limits here are the only place they are defined: `check`, `lint`, `generate`, the
/// dashboard and the publisher all read them from it.
pub struct Platform {
    /// The network's limits in its usual setup (a Discord webhook rather than a bot),
    /// known without any account or secret.
    pub defaults: Capabilities,
    /// How users sign in with OAuth 2.0, where the network has it (`postctl accounts add
    /// NETWORK --client-id ID`); `None` where accounts are added with a token or key.
    /// Network-level: the same for every account, and known without one.
    pub sign_in: Option<&'static SignIn>,
    /// One account's limits, known without its secret: [`Platform::defaults`] shaped by
    /// the account's settings (a Discord bot can thread, a webhook cannot).
    pub capabilities: fn(&Account) -> Capabilities,
    /// The adapter for one account; `None` where postctl cannot publish to the network
    /// yet (its limits are still known, for `lint` and `check`).
    open: Option<Open>,
}

/// Builds one account's adapter; every network's is `|account, secret, tools| ...`.
type Open = fn(&Account, Secret, Tools) -> Result<Box<dyn DynAdapter>, PublishError>;

/// What an adapter is built with besides the account and its secret.
#[derive(Clone)]
pub struct Tools {
    pub http: Http,
    /// Where sessions are kept between runs.
    pub sessions: Arc<dyn SessionStore>,
    /// What the server said about its limits within the last day (see [`ServerLimits`]);
    /// an adapter given them does not ask again.
    pub limits: Option<ServerLimits>,
    /// Where networks that fetch media from a URL get it (`[media.host]`), or why there
    /// is none.
    pub media_host: Result<Arc<dyn crate::media::host::MediaHost>, String>,
    /// Scrubs the account's secrets from its errors: the one it was added with, and those
    /// the adapter obtains and adds itself (a session's tokens).
    pub redactor: SharedRedactor,
    /// Where counters a network pushes as updates are kept between runs (Telegram's
    /// reaction counts).
    pub inbox: Arc<dyn UpdateInbox>,
}

impl std::fmt::Debug for Tools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tools")
            .field("limits", &self.limits)
            .finish()
    }
}

/// The registry: each network and its [`Platform`], one line each. There is no wildcard
/// arm, so a new [`Network`] does not compile until it is decided here. `None`: postctl
/// knows neither the network's limits nor how to publish to it yet.
pub fn platform(network: Network) -> Option<&'static Platform> {
    match network {
        Network::Mastodon => Some(&mastodon::PLATFORM),
        Network::Bluesky => Some(&bluesky::PLATFORM),
        Network::Telegram => Some(&telegram::PLATFORM),
        Network::Discord => Some(&discord::PLATFORM),
        Network::Slack => Some(&slack::PLATFORM),
        Network::Matrix => Some(&matrix::PLATFORM),
        Network::Webhook => Some(&webhook::PLATFORM),
        Network::X => Some(&x::PLATFORM),
        Network::Vk => Some(&vk::PLATFORM),
        Network::Instagram => Some(&instagram::PLATFORM),
        Network::Threads => Some(&threads::PLATFORM),
        Network::Facebook => Some(&facebook::PLATFORM),
        Network::Linkedin | Network::Nostr | Network::Reddit | Network::Devto => None,
    }
}

/// Why a post with `media` files cannot go to `network`, known offline: a network that
/// needs media (Instagram) given none, or one that fetches media from a URL (Instagram,
/// Threads) with no media host set up (`host` says whether `[media.host]` is).
pub fn media_refusal(network: Network, media: usize, host: bool) -> Option<String> {
    match network {
        Network::Instagram => instagram::refusal(media, host),
        Network::Threads => threads::refusal(media, host),
        _ => None,
    }
}

/// How users of `network` sign in with OAuth 2.0, where postctl does it for them.
pub fn sign_in(network: Network) -> Option<&'static SignIn> {
    platform(network).and_then(|p| p.sign_in)
}

/// A network's limits in its usual setup, where postctl knows them.
pub fn defaults(network: Network) -> Option<Capabilities> {
    platform(network).map(|p| p.defaults)
}

/// Networks postctl can publish to so far; the others can be added as accounts and are
/// refused by `post` and the engine.
pub fn can_publish(network: Network) -> bool {
    platform(network).is_some_and(|p| p.open.is_some())
}

/// What `account` can take, known without its secret or a request: its network's limits
/// for its settings, refined by what its server last said (`cached`). An error says why
/// postctl cannot publish there.
pub fn capabilities(
    account: &Account,
    cached: Option<&ServerLimits>,
) -> Result<Capabilities, String> {
    match platform(account.network).filter(|p| p.open.is_some()) {
        Some(platform) => Ok((platform.capabilities)(account).refined(cached)),
        None => Err(not_available(account.network).to_string()),
    }
}

/// The adapter for `account`, holding its secret.
pub(crate) fn open(
    account: &Account,
    secret: Secret,
    tools: Tools,
) -> Result<AccountAdapter, PublishError> {
    let Some(open) = platform(account.network).and_then(|p| p.open) else {
        return Err(not_available(account.network));
    };
    let redactor = tools.redactor.clone();
    redactor.add(secret.expose());
    // A signed-in account's secret is its token set: each token is a secret of its own.
    if let Some(tokens) = crate::signin::Tokens::from_secret(&secret) {
        redactor.add(tokens.access.expose());
        for other in [&tokens.refresh, &tokens.client_secret]
            .into_iter()
            .flatten()
        {
            redactor.add(other.expose());
        }
    }
    let adapter = open(account, secret, tools).map_err(|e| e.scrubbed(&redactor))?;
    Ok(AccountAdapter { adapter, redactor })
}

/// One account's adapter as the engine holds it, whichever its network: every error it
/// returns has the account's secret scrubbed, the one place all of them pass.
pub(crate) struct AccountAdapter {
    adapter: Box<dyn DynAdapter>,
    redactor: SharedRedactor,
}

impl AccountAdapter {
    /// [`Adapter::prepare`]: the limits read from the server, for the cache.
    pub(crate) async fn prepare(&mut self) -> Result<Option<ServerLimits>, PublishError> {
        let prepared = self.adapter.prepare().await;
        prepared.map_err(|e| e.scrubbed(&self.redactor))
    }

    pub(crate) fn capabilities(&self) -> Capabilities {
        self.adapter.capabilities()
    }

    pub(crate) async fn verify(&self) -> Result<Verified, PublishError> {
        let verified = self.adapter.verify().await;
        verified.map_err(|e| e.scrubbed(&self.redactor))
    }

    pub(crate) async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        let published = self.adapter.publish(part).await;
        published.map_err(|e| e.scrubbed(&self.redactor))
    }

    pub(crate) async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let deleted = self.adapter.delete(published).await;
        deleted.map_err(|e| e.scrubbed(&self.redactor))
    }

    pub(crate) async fn post_metrics(
        &self,
        posts: &[Published],
    ) -> Result<PostMetrics, PublishError> {
        let read = self.adapter.post_metrics(posts).await;
        read.map_err(|e| e.scrubbed(&self.redactor))
    }

    pub(crate) async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let read = self.adapter.account_metrics().await;
        read.map_err(|e| e.scrubbed(&self.redactor))
    }
}

/// Why nothing can be published to `network` yet, naming the networks postctl publishes to.
pub fn not_publishable(network: Network) -> String {
    let publishable: Vec<&str> = Network::ALL
        .into_iter()
        .filter(|&n| can_publish(n))
        .map(Network::display_name)
        .collect();
    let list = match publishable.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    format!(
        "{} is not publishable yet: postctl keeps the account and its posts, but cannot send them there; postctl publishes to {list}",
        network.display_name()
    )
}

fn not_available(network: Network) -> PublishError {
    PublishError::permanent(not_publishable(network))
}

/// What a server says about its own limits, where they vary per server (a Mastodon
/// instance's). Kept for a day in the database ([`crate::store::Store::server_limits`]), so
/// `check` and `lint` know them without a secret and `post` without a request. A field the
/// server did not give keeps the network's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_characters: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_media: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_image_bytes: Option<u64>,
}

/// How long what a server said about its limits is trusted before it is read again.
pub const SERVER_LIMITS_FOR: chrono::Duration = chrono::Duration::days(1);

impl Capabilities {
    /// These limits with what the server said in place of the defaults.
    pub fn refined(self, server: Option<&ServerLimits>) -> Capabilities {
        let Some(server) = server else {
            return self;
        };
        Capabilities {
            limit: TextLimit {
                max: server.max_characters.unwrap_or(self.limit.max),
                counting: self.limit.counting,
            },
            max_media: server.max_media.unwrap_or(self.max_media),
            max_image_bytes: server.max_image_bytes.unwrap_or(self.max_image_bytes),
            ..self
        }
    }
}

/// What a network implements for one account: publishing one part, deleting one, and
/// checking the credentials. Implementations write plain `async fn`s; the engine holds
/// them as boxed trait objects (see `DynAdapter`).
///
/// Reading metrics is required too, so a network cannot forget it: one that reports
/// nothing says so with [`Metrics::NotProvided`]. Issue 10 adds refreshing an OAuth token
/// beside `prepare`.
pub trait Adapter: Send + Sync + 'static {
    /// Gets ready to publish, once per run: a session where the network has one, and the
    /// server's own limits where they vary per server and [`Tools::limits`] did not give
    /// them. Returns the limits it read from the server, for the cache.
    fn prepare(
        &mut self,
    ) -> impl Future<Output = Result<Option<ServerLimits>, PublishError>> + Send {
        async { Ok(None) }
    }

    /// What this account can take now (after `prepare`).
    fn capabilities(&self) -> Capabilities;

    /// Checks the credentials against the network.
    fn verify(&self) -> impl Future<Output = Result<Verified, PublishError>> + Send;

    /// Publishes one part (uploading its media first).
    fn publish(&self, part: &Part) -> impl Future<Output = Result<Published, PublishError>> + Send;

    /// Deletes a published part; one already gone counts as deleted.
    fn delete(
        &self,
        published: &Published,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;

    /// The counters of published posts (each the first part of a post), at most
    /// [`metrics::BATCH`] of them: one [`PostReading`] per post, in order, in as few
    /// requests as the network allows. A post the network says is gone is
    /// [`PostReading::Deleted`]; a failure of the request itself is an error.
    fn post_metrics(
        &self,
        posts: &[Published],
    ) -> impl Future<Output = Result<PostMetrics, PublishError>> + Send;

    /// The account's counters: followers, members of the channel or room.
    fn account_metrics(&self) -> impl Future<Output = Result<AccountMetrics, PublishError>> + Send;
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Adapter`] as a trait object: `async fn` in traits cannot be called through `dyn`, so
/// this boxes each future. One blanket implementation covers every adapter; the box costs
/// an allocation per request, nothing next to the request.
trait DynAdapter: Send + Sync {
    fn prepare(&mut self) -> BoxFuture<'_, Result<Option<ServerLimits>, PublishError>>;
    fn capabilities(&self) -> Capabilities;
    fn verify(&self) -> BoxFuture<'_, Result<Verified, PublishError>>;
    fn publish<'a>(&'a self, part: &'a Part) -> BoxFuture<'a, Result<Published, PublishError>>;
    fn delete<'a>(&'a self, published: &'a Published) -> BoxFuture<'a, Result<(), PublishError>>;
    fn post_metrics<'a>(
        &'a self,
        posts: &'a [Published],
    ) -> BoxFuture<'a, Result<PostMetrics, PublishError>>;
    fn account_metrics(&self) -> BoxFuture<'_, Result<AccountMetrics, PublishError>>;
}

impl<A: Adapter> DynAdapter for A {
    fn prepare(&mut self) -> BoxFuture<'_, Result<Option<ServerLimits>, PublishError>> {
        Box::pin(Adapter::prepare(self))
    }

    fn capabilities(&self) -> Capabilities {
        Adapter::capabilities(self)
    }

    fn verify(&self) -> BoxFuture<'_, Result<Verified, PublishError>> {
        Box::pin(Adapter::verify(self))
    }

    fn publish<'a>(&'a self, part: &'a Part) -> BoxFuture<'a, Result<Published, PublishError>> {
        Box::pin(Adapter::publish(self, part))
    }

    fn delete<'a>(&'a self, published: &'a Published) -> BoxFuture<'a, Result<(), PublishError>> {
        Box::pin(Adapter::delete(self, published))
    }

    fn post_metrics<'a>(
        &'a self,
        posts: &'a [Published],
    ) -> BoxFuture<'a, Result<PostMetrics, PublishError>> {
        Box::pin(Adapter::post_metrics(self, posts))
    }

    fn account_metrics(&self) -> BoxFuture<'_, Result<AccountMetrics, PublishError>> {
        Box::pin(Adapter::account_metrics(self))
    }
}

/// An adapter's constructor result as the registry holds it.
fn boxed<A: Adapter>(
    adapter: Result<A, PublishError>,
) -> Result<Box<dyn DynAdapter>, PublishError> {
    Ok(Box::new(adapter?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn account(network: Network, settings: serde_json::Value) -> Account {
        Account {
            id: "a1".into(),
            name: "acc".into(),
            network,
            base_url: Some("https://example.org".into()),
            handle: Some("me.example.org".into()),
            settings,
            secret_ref: "env:TOKEN".into(),
            created: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_registry_says_who_publishes_and_who_only_counts() {
        let publishing: Vec<Network> = Network::ALL
            .into_iter()
            .filter(|&n| can_publish(n))
            .collect();
        assert_eq!(
            publishing,
            [
                Network::X,
                Network::Mastodon,
                Network::Bluesky,
                Network::Telegram,
                Network::Discord,
                Network::Vk,
                Network::Instagram,
                Network::Facebook,
                Network::Threads,
                Network::Slack,
                Network::Matrix,
                Network::Webhook,
            ]
        );
        assert_eq!(defaults(Network::X).map(|c| c.limit.max), Some(280));
        assert!(sign_in(Network::X).is_some());
        assert!(sign_in(Network::Mastodon).is_none());
        assert_eq!(defaults(Network::Linkedin), None);
        assert_eq!(defaults(Network::Threads).map(|c| c.limit.max), Some(500));
        for network in Network::ALL {
            let Some(caps) = defaults(network) else {
                continue;
            };
            assert!(caps.limit.max > 0, "{network}");
            assert!(caps.max_media == 0 || caps.max_image_bytes > 0, "{network}");
        }
    }

    #[test]
    fn an_accounts_capabilities_follow_its_settings_without_its_secret() {
        let cases = [
            (Network::Discord, json!({"mode": "webhook"}), false, false),
            (
                Network::Discord,
                json!({"mode": "bot", "channel": "1"}),
                true,
                true,
            ),
            (Network::Slack, json!({"mode": "webhook"}), false, false),
            (
                Network::Slack,
                json!({"mode": "bot", "channel": "C1"}),
                true,
                false,
            ),
            (Network::Mastodon, json!({}), true, true),
            (Network::Telegram, json!({"chat": "@news"}), true, false),
            (Network::Vk, json!({"owner_id": -1}), true, false),
            (Network::Threads, json!({"user_id": "1"}), true, true),
            (Network::Facebook, json!({"page_id": "1"}), false, false),
        ];
        for (network, settings, threads, idempotent) in cases {
            let caps = capabilities(&account(network, settings.clone()), None)
                .unwrap_or_else(|e| panic!("{network} {settings}: {e}"));
            assert_eq!(
                (caps.threads, caps.idempotent()),
                (threads, idempotent),
                "{network} {settings}"
            );
        }
    }

    #[test]
    fn what_a_server_said_replaces_only_what_it_said() {
        let masto = account(Network::Mastodon, json!({}));
        let said = ServerLimits {
            max_characters: Some(5000),
            max_media: None,
            max_image_bytes: Some(1_000_000),
        };
        let caps = capabilities(&masto, Some(&said)).expect("mastodon publishes");
        assert_eq!(
            (caps.limit.max, caps.max_media, caps.max_image_bytes),
            (5000, 4, 1_000_000)
        );
        assert_eq!(caps.limit.counting, crate::text::Counting::Mastodon);
    }

    #[test]
    fn a_network_that_cannot_publish_yet_says_which_can() {
        let error = capabilities(&account(Network::Linkedin, json!({})), None)
            .expect_err("LinkedIn does not publish yet");
        assert!(
            error.starts_with("LinkedIn is not publishable yet"),
            "{error}"
        );
        assert!(
            error.ends_with(
                "publishes to X, Mastodon, Bluesky, Telegram, Discord, VK, Instagram, Facebook, Threads, Slack, Matrix and Webhook"
            ),
            "{error}"
        );
    }
}
