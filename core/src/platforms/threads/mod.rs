//! Threads, through the Threads API (`graph.threads.net`,
//! version `v1.0`, which the account's base URL includes) and an access token given at
//! `accounts add`: signed in with `--client-id` (Meta's OAuth: [`SIGN_IN`], a 60-day
//! token renewed ahead of its end) or given with `--token-stdin` or `--token-env`. The
//! token travels as `Authorization: Bearer`, never in a URL.
//!
//! Posting is the container → publish flow Threads shares with Instagram
//! ([`super::graph::containers`]): a container `POST /{threads-user-id}/threads
//! {media_type: TEXT | IMAGE | CAROUSEL, text, image_url, alt_text, is_carousel_item,
//! children, reply_to_id}` → `{id}`, its status read until `FINISHED` (this is the wait
//! Meta recommends before publishing), the container noted with the part in flight, then
//! `POST /{threads-user-id}/threads_publish {creation_id}` → `{id}`. Images go to the
//! media host first, as Threads fetches them from a public URL; a text-only post needs no
//! host. A thread is one post per part, each container's `reply_to_id` the part before.
//!
//! No request carries an idempotency key, but the noted container makes a retry safe
//! ([`Idempotency::Checked`]): a container found `PUBLISHED` is looked up among the
//! profile's recent threads (`GET /{id}/threads`, or `/replies` for a reply) by its text
//! and never published again.
//!
//! The text limit is 500 characters, "emojis counted as the number of UTF-8 bytes"
//! ([`Counting::EmojiBytes`]). Before creating anything, `GET /{id}/threads_publishing_limit
//! ?fields=quota_usage,config,reply_quota_usage,reply_config` says whether the account may
//! still post (250 posts and 1,000 replies in 24 h, read rather than assumed).
//!
//! Unconfirmed facts and what this adapter assumes: the container's
//! status field (`status`, with Instagram's values FINISHED, IN_PROGRESS, EXPIRED, ERROR,
//! PUBLISHED; `status_code` is read too), `alt_text` on image containers, ten images per
//! carousel of at most 8 MB each, the `permalink` field, the Graph error object with
//! `is_transient`, code 190 for a token to renew and the throttling codes and usage
//! headers of the rest of the Graph API.
//!
//! Delete: `DELETE /{threads-media-id}` → `{success: true, deleted_id}` (100 a day).
//! Metrics: `GET /{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes`
//! per post (an empty `data` is [`PostReading::Pending`]); the account's followers from
//! `GET /{threads-user-id}/threads_insights?metric=followers_count`.

use super::graph::containers::{
    self, Containers, alt_of, newest_with_text, permalink, quota_used_up,
};
use super::graph::{Call, Graph, GraphUser, insights_counters, insights_reading};
use super::{
    AccountMetrics, Adapter, Capabilities, Idempotency, MediaFile, Metrics, Part, Platform,
    PostMetrics, PostReading, PublishError, Published, Verified, boxed,
};
use crate::model::Account;
use crate::secrets::Secret;
use crate::signin::{LongLived, SignIn};
use crate::text::{Counting, Format, TextLimit};

/// "500 characters", emojis counted as their UTF-8 bytes.
pub(crate) const TEXT_LIMIT: usize = 500;
/// Images per carousel (third-party figure).
const MAX_MEDIA: usize = 10;
/// Images of at most 8 MB (third-party figure).
const MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024;

/// The post insights asked for and postctl's names for them. `shares` is "in
/// development" at Meta and not asked.
const INSIGHTS: &[(&str, &str)] = &[
    ("views", "views"),
    ("likes", "likes"),
    ("replies", "replies"),
    ("reposts", "reposts"),
    ("quotes", "quotes"),
];

/// What Threads takes: plain text, threads by `reply_to_id`, no
/// idempotency key but a container to check.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: TEXT_LIMIT,
        counting: Counting::EmojiBytes,
    },
    format: Format::Plain,
    max_media: MAX_MEDIA,
    max_image_bytes: MAX_IMAGE_BYTES,
    threads: true,
    idempotency: Idempotency::Checked,
};

/// Threads sign-in: the authorization code (the client secret in the
/// form, no PKCE documented) traded for a short-lived token at `graph.threads.net`,
/// exchanged at once for a long-lived one (60 days) with `th_exchange_token`, renewed with
/// `th_refresh_token` when less than a week is left (as Instagram's: these grant names
/// and lifetimes are unconfirmed and mirror Instagram's). The code's answer names the
/// Threads user id the account posts as. Scopes are joined with commas.
const SIGN_IN: SignIn = SignIn::meta(
    "https://threads.net/oauth/authorize",
    "https://graph.threads.net/oauth/access_token",
    &[
        "threads_basic",
        "threads_content_publish",
        "threads_read_replies",
        "threads_manage_insights",
        "threads_delete",
    ],
    LongLived {
        exchange_url: "https://graph.threads.net/access_token",
        exchange_grant: "th_exchange_token",
        token_param: "access_token",
        refresh_url: Some("https://graph.threads.net/refresh_access_token"),
        refresh_grant: "th_refresh_token",
    },
    "Use cases, Access the Threads API, Settings, Redirect Callback URLs",
);

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    capabilities: |_| DEFAULTS,
    sign_in: Some(&SIGN_IN),
    open: Some(|account, secret, tools| boxed(Threads::new(account, secret, tools))),
};

/// Why a post cannot go to Threads as it is, known offline: images and no media host to
/// give Threads them from. A text-only post needs none.
pub(crate) fn refusal(media: usize, host: bool) -> Option<String> {
    (media > 0 && !host).then(|| {
        format!(
            "Threads fetches images from a public URL, and {}",
            crate::media::host::not_configured()
        )
    })
}

pub struct Threads {
    user: GraphUser,
}

impl Threads {
    pub fn new(
        account: &Account,
        secret: Secret,
        tools: super::Tools,
    ) -> Result<Self, PublishError> {
        Ok(Threads {
            user: GraphUser::open(account, secret, tools, "long-lived Threads token")?,
        })
    }
}

impl Adapter for Threads {
    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    async fn verify(&self) -> Result<Verified, PublishError> {
        self.user.verify().await
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        check_media(&part.media)?;
        let host = if part.media.is_empty() {
            None
        } else {
            Some(self.user.host.as_ref().map_err(|why| {
                PublishError::permanent(format!(
                    "Threads fetches images from a public URL, and {why}"
                ))
            })?)
        };
        containers::publish(self, part, host.map(|h| h.as_ref())).await
    }

    /// `DELETE /{threads-media-id}`; a post already gone counts as deleted.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        match self.user.graph.delete(&[published.id.as_str()]).await? {
            Ok(_) => Ok(()),
            Err(error) if is_gone(error.code, error.subcode, error.status) => Ok(()),
            Err(error) => Err(self.user.graph.classify(error, Call::Prepare)),
        }
    }

    /// One `GET /{threads-media-id}/insights` per post.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        let metric = INSIGHTS
            .iter()
            .map(|(metric, _)| *metric)
            .collect::<Vec<_>>()
            .join(",");
        let mut readings = Vec::with_capacity(posts.len());
        for post in posts {
            let url =
                super::http::endpoint(&self.user.graph.base, &[post.id.as_str(), "insights"])?;
            let request = self
                .user
                .graph
                .http
                .client()
                .get(url)
                .query(&[("metric", metric.as_str())]);
            readings.push(match self.user.graph.answer(request, Call::Read).await? {
                Ok(body) => insights_reading(&body, INSIGHTS),
                Err(error) if is_gone(error.code, error.subcode, error.status) => {
                    PostReading::Deleted
                }
                Err(error) => return Err(self.user.graph.classify(error, Call::Read)),
            });
        }
        Ok(Metrics::Read(readings))
    }

    /// `GET /{threads-user-id}/threads_insights?metric=followers_count`.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let answer = self
            .user
            .graph
            .get(
                &[self.user.user_id.as_str(), "threads_insights"],
                &[("metric", "followers_count")],
                Call::Read,
            )
            .await?;
        Ok(Metrics::Read(insights_counters(
            &answer,
            &[("followers_count", "followers")],
        )))
    }
}

impl Containers for Threads {
    const PUBLISH_EDGE: &'static str = "threads_publish";
    const STATUS_FIELDS: &'static str = "status,error_message";

    fn graph(&self) -> &Graph {
        &self.user.graph
    }

    fn user_id(&self) -> &str {
        &self.user.user_id
    }

    /// `GET /{id}/threads_publishing_limit`: the posts quota, or the replies one for a
    /// part that replies.
    async fn check_quota(&self, part: &Part) -> Result<(), PublishError> {
        let answer = self
            .user
            .graph
            .get(
                &[self.user.user_id.as_str(), "threads_publishing_limit"],
                &[(
                    "fields",
                    "quota_usage,config,reply_quota_usage,reply_config",
                )],
                Call::Prepare,
            )
            .await?;
        if part.reply_to.is_some() {
            quota_used_up(
                &self.user.graph,
                &answer,
                "reply_quota_usage",
                "reply_config",
                "replies",
            )
        } else {
            quota_used_up(&self.user.graph, &answer, "quota_usage", "config", "posts")
        }
    }

    /// A text or image container, or a carousel's parent over one child per image; a part
    /// that continues a thread replies to the one before.
    async fn create(&self, part: &Part, urls: &[String]) -> Result<String, PublishError> {
        let text = part.rendered.text.as_str();
        let reply_to = part.reply_to.as_ref().map(|p| p.id.as_str());
        let mut form: Vec<(&str, &str)> = Vec::new();
        match (part.media.as_slice(), urls) {
            ([], _) => form.extend([("media_type", "TEXT"), ("text", text)]),
            ([file], [url]) => {
                form.extend([
                    ("media_type", "IMAGE"),
                    ("image_url", url.as_str()),
                    ("text", text),
                ]);
                if let Some(alt) = alt_of(file) {
                    form.push(("alt_text", alt));
                }
            }
            _ => {
                let mut children = Vec::with_capacity(urls.len());
                for (file, url) in part.media.iter().zip(urls) {
                    let mut child = vec![
                        ("media_type", "IMAGE"),
                        ("image_url", url.as_str()),
                        ("is_carousel_item", "true"),
                    ];
                    if let Some(alt) = alt_of(file) {
                        child.push(("alt_text", alt));
                    }
                    children.push(containers::container(self, "threads", &child).await?);
                }
                for child in &children {
                    containers::wait_until_finished(self, child).await?;
                }
                let children = children.join(",");
                let mut parent = vec![
                    ("media_type", "CAROUSEL"),
                    ("children", children.as_str()),
                    ("text", text),
                ];
                if let Some(reply_to) = reply_to {
                    parent.push(("reply_to_id", reply_to));
                }
                return containers::container(self, "threads", &parent).await;
            }
        }
        if let Some(reply_to) = reply_to {
            form.push(("reply_to_id", reply_to));
        }
        containers::container(self, "threads", &form).await
    }

    /// The newest of the profile's threads (or replies, for a part that replies) with
    /// this text.
    async fn find_published(&self, part: &Part) -> Result<Published, PublishError> {
        let edge = if part.reply_to.is_some() {
            "replies"
        } else {
            "threads"
        };
        let answer = self
            .user
            .graph
            .get(
                &[self.user.user_id.as_str(), edge],
                &[("fields", "id,text,permalink,timestamp"), ("limit", "25")],
                Call::Prepare,
            )
            .await?;
        let Some(mut found) = newest_with_text(&answer, "text", &part.rendered.text) else {
            return Err(PublishError::maybe_sent(
                "Threads says the post was published, but it is not among the profile's recent threads",
                None,
            ));
        };
        if found.url.is_none() {
            found.url = permalink(&self.user.graph, &found.id).await;
        }
        Ok(found)
    }
}

/// Whether an error says the post is not there (any more): code 100 with subcode 33, or
/// a 404.
fn is_gone(code: i64, subcode: Option<i64>, status: u16) -> bool {
    code == 100 && (subcode == Some(33) || status == 404)
}

/// Refuses, before anything is uploaded, what Threads cannot take through postctl.
fn check_media(media: &[MediaFile]) -> Result<(), PublishError> {
    if media.len() > MAX_MEDIA {
        return Err(PublishError::permanent(format!(
            "Threads takes at most {MAX_MEDIA} images per carousel; this post has {}",
            media.len()
        )));
    }
    if let Some(file) = media.iter().find(|m| !m.mime.starts_with("image/")) {
        return Err(PublishError::permanent(format!(
            "postctl posts images to Threads, and {} is {}: attach JPEG or PNG images",
            file.file_name, file.mime
        )));
    }
    Ok(())
}
