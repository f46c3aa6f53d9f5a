//! One adapter per network behind one interface (DESIGN §5).
//!
//! An adapter declares what its network can take ([`Capabilities`]), checks credentials,
//! publishes one part of a post (a reply to the previous part when threading) and deletes.
//! Errors come back classified ([`PublishError`]) so the engine decides retries in one place.
//! All HTTP goes through [`http::Http`]: timeouts, user agent, rate-limit bookkeeping.

pub mod http;

mod bluesky;
#[cfg(test)]
mod credential_tests;
mod discord;
mod mastodon;
mod matrix;
mod mode;
mod slack;
mod telegram;
#[cfg(test)]
pub(crate) mod test_server;
pub(crate) mod webhook;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Account;
use crate::network::Network;
use crate::secrets::{Redactor, Secret};
use crate::text::{Format, Rendered, TextLimit};

pub use http::Http;

/// What a network can take, as the adapter knows it (after [`Adapter::prepare`] for
/// networks whose limits are per server, such as Mastodon instances).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Capabilities {
    pub limit: TextLimit,
    pub format: Format,
    /// Media per post (per part of a thread).
    pub max_media: usize,
    /// Largest image the network accepts, in bytes.
    pub max_image_bytes: u64,
    /// Whether parts can reply to each other (a thread).
    pub threads: bool,
    /// Whether a repeated request with the same key cannot create a second post, so an
    /// unknown outcome can be retried safely.
    pub idempotent: bool,
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
}

impl PublishError {
    pub fn status(&self) -> Option<u16> {
        match self {
            PublishError::Retryable { status, .. }
            | PublishError::Auth { status, .. }
            | PublishError::Permanent { status, .. } => *status,
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
    pub fn scrubbed(self, redactor: &Redactor) -> Self {
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

/// A [`SessionStore`] that keeps nothing: for adapters built only to read their
/// capabilities, which never log in.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSessions;

impl SessionStore for NoSessions {
    fn load(&self, _: &str) -> Option<Secret> {
        None
    }

    fn save(&self, _: &str, _: &Secret) {}
}

/// A network adapter for one account.
pub struct Adapter {
    kind: Kind,
    /// Scrubs the account's secret from every error the adapter returns: the one place
    /// all of them pass, whichever network and request made them.
    redactor: Redactor,
}

enum Kind {
    Mastodon(mastodon::Mastodon),
    Bluesky(bluesky::Bluesky),
    Telegram(telegram::Telegram),
    Discord(discord::Discord),
    Slack(slack::Slack),
    Matrix(matrix::Matrix),
    Webhook(webhook::Webhook),
}

impl std::fmt::Debug for Adapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Adapter(..)")
    }
}

/// Networks postctl can publish to so far; the others can be added as accounts and are
/// refused with this message by `post` and the engine.
pub fn can_publish(network: Network) -> bool {
    matches!(
        network,
        Network::Mastodon
            | Network::Bluesky
            | Network::Telegram
            | Network::Discord
            | Network::Slack
            | Network::Matrix
            | Network::Webhook
    )
}

impl Adapter {
    /// The adapter for `account`, holding its secret.
    pub fn new(
        account: &Account,
        secret: Secret,
        http: Http,
        sessions: std::sync::Arc<dyn SessionStore>,
    ) -> Result<Adapter, PublishError> {
        let redactor = Redactor::new(&secret);
        let kind =
            Self::kind(account, secret, http, sessions).map_err(|e| e.scrubbed(&redactor))?;
        Ok(Adapter { kind, redactor })
    }

    fn kind(
        account: &Account,
        secret: Secret,
        http: Http,
        sessions: std::sync::Arc<dyn SessionStore>,
    ) -> Result<Kind, PublishError> {
        let kind = match account.network {
            Network::Mastodon => Kind::Mastodon(mastodon::Mastodon::new(account, secret, http)?),
            Network::Bluesky => {
                Kind::Bluesky(bluesky::Bluesky::new(account, secret, http, sessions)?)
            }
            Network::Telegram => Kind::Telegram(telegram::Telegram::new(account, secret, http)?),
            Network::Discord => Kind::Discord(discord::Discord::new(account, secret, http)?),
            Network::Slack => Kind::Slack(slack::Slack::new(account, secret, http)?),
            Network::Matrix => Kind::Matrix(matrix::Matrix::new(account, secret, http)?),
            Network::Webhook => Kind::Webhook(webhook::Webhook::new(account, secret, http)?),
            other => {
                return Err(PublishError::permanent(format!(
                    "publishing to {} is not available yet; postctl publishes to Mastodon, Bluesky, Telegram, Discord, Slack, Matrix and webhooks",
                    other.display_name()
                )));
            }
        };
        Ok(kind)
    }

    /// Reads what the adapter needs once per run (server limits, a session).
    pub async fn prepare(&mut self) -> Result<(), PublishError> {
        let prepared = match &mut self.kind {
            Kind::Mastodon(a) => a.prepare().await,
            Kind::Bluesky(a) => a.prepare().await,
            Kind::Telegram(_)
            | Kind::Discord(_)
            | Kind::Slack(_)
            | Kind::Matrix(_)
            | Kind::Webhook(_) => Ok(()),
        };
        prepared.map_err(|e| e.scrubbed(&self.redactor))
    }

    pub fn capabilities(&self) -> Capabilities {
        match &self.kind {
            Kind::Mastodon(a) => a.capabilities(),
            Kind::Bluesky(a) => a.capabilities(),
            Kind::Telegram(a) => a.capabilities(),
            Kind::Discord(a) => a.capabilities(),
            Kind::Slack(a) => a.capabilities(),
            Kind::Matrix(a) => a.capabilities(),
            Kind::Webhook(a) => a.capabilities(),
        }
    }

    /// Checks the credentials against the network.
    pub async fn verify(&self) -> Result<Verified, PublishError> {
        let verified = match &self.kind {
            Kind::Mastodon(a) => a.verify().await,
            Kind::Bluesky(a) => a.verify().await,
            Kind::Telegram(a) => a.verify().await,
            Kind::Discord(a) => a.verify().await,
            Kind::Slack(a) => a.verify().await,
            Kind::Matrix(a) => a.verify().await,
            Kind::Webhook(a) => a.verify().await,
        };
        verified.map_err(|e| e.scrubbed(&self.redactor))
    }

    /// Publishes one part (uploading its media first).
    pub async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        let published = match &self.kind {
            Kind::Mastodon(a) => a.publish(part).await,
            Kind::Bluesky(a) => a.publish(part).await,
            Kind::Telegram(a) => a.publish(part).await,
            Kind::Discord(a) => a.publish(part).await,
            Kind::Slack(a) => a.publish(part).await,
            Kind::Matrix(a) => a.publish(part).await,
            Kind::Webhook(a) => a.publish(part).await,
        };
        published.map_err(|e| e.scrubbed(&self.redactor))
    }

    /// Deletes a published part.
    pub async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let deleted = match &self.kind {
            Kind::Mastodon(a) => a.delete(published).await,
            Kind::Bluesky(a) => a.delete(published).await,
            Kind::Telegram(a) => a.delete(published).await,
            Kind::Discord(a) => a.delete(published).await,
            Kind::Slack(a) => a.delete(published).await,
            Kind::Matrix(a) => a.delete(published).await,
            Kind::Webhook(a) => a.delete(published).await,
        };
        deleted.map_err(|e| e.scrubbed(&self.redactor))
    }
}
