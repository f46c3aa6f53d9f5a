//! In-process fake servers for the networks postctl publishes to, written from
//! the networks' public API documentation and never from
//! postctl's own client types, so that they catch the client's mistakes.
//!
//! Each fake starts on 127.0.0.1 port 0 on its own thread, answers like the real network
//! (wire format, status codes, error bodies, rate-limit headers, idempotency), records what
//! it received, and stops when its handle is dropped:
//!
//! ```no_run
//! use postctl_tests::fakes::{FakeMastodon, FakeServer};
//! let masto = FakeMastodon::start();
//! // point an account at masto.base_url(), run postctl, then:
//! let posts = masto.posts();
//! assert_eq!(posts.len(), 1);
//! assert_eq!(posts[0].auth.as_deref(), Some("Bearer masto-token"));
//! ```
//!
//! Every fake shares the failure injection of [`chaos`] (see [`FakeServer::chaos`]) and a
//! request quota that is generous unless a test sets the network's real one.
//!
//! The server's notification channels have receivers of their own: [`FakeSmtp`] (an SMTP
//! server reading back each mail's headers and its text and HTML parts) and [`FakeNtfy`];
//! Telegram notifications reach [`FakeTelegram`].
//!
//! The fake AI servers postctl drafts posts with, [`FakeAnthropic`] and [`FakeOpenAi`], are
//! scripted instead: the test queues what the model does for each request ([`Reply`]: an
//! answer, a cut stream, an overload, a rate limit) and reads back what it was asked
//! ([`AiRequest`]).

// Handlers answer `Result<Response, Response>`: both sides are the answer to send, and
// boxing the error side would only add noise to a test server.
#![allow(clippy::result_large_err)]

/// Implements [`FakeServer`] for a network fake that keeps its [`Running`] parts in a field
/// named `running`. (Defined before the modules that use it.)
macro_rules! fake_server {
    ($fake:ty) => {
        impl $crate::fakes::FakeServer for $fake {
            fn base_url(&self) -> String {
                self.running.base_url()
            }

            fn chaos(&self) -> &$crate::fakes::Chaos {
                self.running.chaos()
            }
        }
    };
}

pub mod anthropic;
pub mod bluesky;
pub mod chaos;
pub mod discord;
pub mod facebook;
pub mod feed;
pub mod growth;
pub mod instagram;
pub mod llm;
pub mod mastodon;
pub mod matrix;
mod meta;
pub mod ntfy;
pub mod oauth;
pub mod oauth1;
pub mod openai;
pub mod quota;
pub mod releases;
pub mod s3;
mod server;
pub mod slack;
pub mod smtp;
pub mod telegram;
pub mod threads;
pub mod vk;
pub mod webhook;
mod wire;
pub mod x;

#[cfg(test)]
mod raw_http;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::middleware;
use serde_json::Value;

pub use anthropic::FakeAnthropic;
pub use bluesky::FakeBluesky;
pub use chaos::{Chaos, ChaosConfig, ChaosCounts, Failure, RequestRecord};
pub use discord::FakeDiscord;
pub use facebook::FakeFacebook;
pub use feed::{FakeFeed, FeedEntry};
pub use instagram::FakeInstagram;
pub use llm::{AiRequest, Reply};
pub use mastodon::FakeMastodon;
pub use matrix::FakeMatrix;
pub use meta::MetaSignIn;
pub use ntfy::{FakeNtfy, NtfyMessage};
pub use oauth::OAuthConfig;
pub use oauth1::OAuth1Keys;
pub use openai::FakeOpenAi;
pub use quota::RateLimit;
pub use releases::FakeReleases;
pub use s3::FakeS3;
pub use slack::FakeSlack;
pub use smtp::{FakeSmtp, ReceivedMail, SmtpReply};
pub use telegram::FakeTelegram;
pub use threads::FakeThreads;
pub use vk::{FakeVk, VkCounts};
pub use webhook::{FakeWebhook, ReceivedWebhook, SignatureError, standard_secret};
pub use x::{FakeX, XConfig, XCounts};

use chaos::{ErrorStyle, FrontDoor};
use quota::Quota;
use server::{BoundPort, RunningServer};

/// What every fake offers besides its network's own methods.
pub trait FakeServer {
    /// The URL to give postctl as the account's base URL, e.g. `http://127.0.0.1:41234`.
    fn base_url(&self) -> String;

    /// The fake's failure injection, latency, counters and request log.
    fn chaos(&self) -> &Chaos;

    /// Every request the fake has seen, in arrival order.
    fn requests(&self) -> Vec<RequestRecord> {
        self.chaos().requests()
    }
}

/// One post (status, record, message, event) as a fake received and stored it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedPost {
    /// The id the fake answered with: Mastodon status id, Bluesky at:// URI, Telegram
    /// message id, Discord snowflake, Slack ts, Matrix event id.
    pub id: String,
    /// Where it went: Telegram chat id, Discord channel id, Slack channel id, Matrix room
    /// id, Bluesky repo DID; the account's username on Mastodon.
    pub channel: String,
    /// The text as the network stores it: after HTML/Markdown parsing on Telegram, the
    /// plain `body` on Matrix.
    pub text: String,
    /// The marked-up text as sent, where there is one: Telegram text with a parse_mode,
    /// Matrix `formatted_body`.
    pub formatted: Option<String>,
    /// The id of the post this one replies to (Bluesky: the parent's at:// URI).
    pub reply_to: Option<String>,
    pub media: Vec<ReceivedMedia>,
    /// The request's idempotency token: Mastodon `Idempotency-Key`, Bluesky rkey chosen by
    /// the client, Discord nonce, Matrix txn id; None where the network has none.
    pub idempotency_key: Option<String>,
    /// The credential seen: the Authorization header value, or the token from the URL
    /// (Telegram bot token, Discord or Slack webhook token).
    pub auth: Option<String>,
    /// Deleted (or redacted) since.
    pub deleted: bool,
    /// The public URL the network answered with, where it gives one.
    pub url: Option<String>,
    /// The request's parameters as the fake read them.
    pub raw: Value,
}

/// One media item attached to a post or uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMedia {
    /// The network's id for it: Mastodon media id, Bluesky blob CID, Telegram file_id,
    /// Discord attachment id, Matrix mxc:// URI.
    pub id: String,
    pub mime: String,
    pub size: usize,
    /// The alt text / description sent with it.
    pub alt: Option<String>,
    pub file_name: Option<String>,
}

/// Locks a fake's state. A handler never panics while holding a lock, but a failed
/// assertion in a test might; the state is still what the fake received, so it is used.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fake's parts that every network has: the running server, its chaos and its quota.
pub(crate) struct Running {
    server: RunningServer,
    chaos: Arc<Chaos>,
    quota: Arc<Mutex<Quota>>,
}

impl Running {
    /// Serves `router` behind the chaos and quota front door, answering failures in
    /// `style`'s words.
    pub(crate) fn start(
        name: &str,
        port: BoundPort,
        router: Router,
        style: Arc<dyn ErrorStyle>,
    ) -> Running {
        let chaos = Chaos::new();
        let quota = Arc::new(Mutex::new(Quota::new(RateLimit::generous())));
        let front = FrontDoor {
            chaos: chaos.clone(),
            quota: quota.clone(),
            style,
        };
        let router = router.layer(middleware::from_fn_with_state(front, chaos::middleware));
        Running {
            server: port.serve(name, router),
            chaos,
            quota,
        }
    }

    pub(crate) fn base_url(&self) -> String {
        self.server.base_url().to_string()
    }

    pub(crate) fn chaos(&self) -> &Chaos {
        &self.chaos
    }

    /// Sets the quota every request counts against.
    pub(crate) fn set_rate_limit(&self, limit: RateLimit) {
        lock(&self.quota).set_limit(limit);
    }
}
