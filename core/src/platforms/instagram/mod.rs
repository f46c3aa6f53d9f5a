//! Instagram, a professional account's feed, through the
//! Instagram API with Instagram Login (`graph.instagram.com`) and a long-lived access token:
//! signed in with `--client-id` ([`SIGN_IN`], renewed ahead of its end, the user id taken
//! from the sign-in) or given at `accounts add` with `--ig-user-id`. The token travels as
//! `Authorization: Bearer`, never in a URL.
//!
//! Posting is the container → publish flow Instagram shares with Threads
//! ([`super::graph::containers`]): each image goes to the media host (`[media.host]`),
//! then a container `POST /{ig-user-id}/media {image_url, caption, alt_text}` → `{id}` (a
//! carousel is one child container per image, `is_carousel_item=true` with its own
//! `alt_text`, then a parent `{media_type: CAROUSEL, children: a,b,c, caption}`),
//! `GET /{container-id}?fields=status_code` until `FINISHED`, the container noted with the
//! part in flight, then `POST /{ig-user-id}/media_publish {creation_id}` → `{id}`. No
//! request carries an idempotency key, but the noted container makes a retry safe
//! ([`Idempotency::Checked`]); a container found `PUBLISHED` is looked up in
//! `GET /{ig-user-id}/media` by its caption and never published again. Errors are the
//! Graph API's, classified in [`super::graph`].
//!
//! Before creating anything, `GET /{ig-user-id}/content_publishing_limit?fields=
//! quota_usage,config` says how many posts the account may still publish in the moving
//! window (50 in 24 h in Meta's reference, other sources say 25 or 100: read, not assumed).
//!
//! Unconfirmed facts and what this adapter assumes: the container status
//! values (EXPIRED, ERROR, FINISHED, IN_PROGRESS, PUBLISHED), `alt_text` on image
//! containers including carousel children, the caption limit (2,200 characters, counted
//! here in code points), ten images per carousel, the `permalink` field, error code 190
//! meaning a token to renew, and throttling codes 4, 17, 32, 613 and 80002. Instagram
//! offers no way to delete a post through the API: `unpublish` says so.
//!
//! Metrics: `GET /{ig-media-id}/insights?metric=…` per post ([`INSIGHTS`] says which and
//! postctl's names for them). Instagram's counters lag up to 48 hours, which the hourly
//! reading of young posts follows. An empty `data` (no insights yet) and error 10 ("not
//! enough viewers") are [`PostReading::Pending`], never zeros; error 100 with subcode 33
//! (the media is gone) is [`PostReading::Deleted`]; a metric Instagram rejects (error 100
//! naming it: Meta retires metrics every few months) is not asked again by this adapter,
//! and the collection says once that the counter is no longer given. The account:
//! `GET /{ig-user-id}?fields=followers_count,follows_count,media_count`.

use super::graph::containers::{self, Containers, alt_of, newest_with_text, quota_used_up};
use super::graph::{Call, Graph, GraphUser, insights_reading};
use super::metrics::counters;
use super::{
    AccountMetrics, Adapter, Capabilities, Idempotency, MediaFile, Metrics, Part, Platform,
    PostMetrics, PostReading, PublishError, Published, Verified, boxed,
};
use crate::model::Account;
use crate::secrets::Secret;
use crate::signin::{LongLived, SignIn};
use crate::text::{Counting, Format, TextLimit};

/// Caption limit (third-party figure).
pub(crate) const CAPTION_LIMIT: usize = 2_200;
/// Images per carousel (third-party figure).
const MAX_MEDIA: usize = 10;
/// "Images must be < 8 MiB" (the official text of error 2207004).
const MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024 - 1;
/// The media insights asked for and postctl's names for them.
/// Engagement ([`crate::analytics::engagement`]) counts `likes`, `replies` and `shares`;
/// `bookmarks` (saves), `views`, `reach` (accounts that saw the post) and `interactions`
/// (Instagram's own total of likes, comments, saves and shares, which would count them
/// twice) are not engagement. `impressions`, `plays` and `video_views` are retired by Meta
/// and not asked.
pub(crate) const INSIGHTS: &[(&str, &str)] = &[
    ("views", "views"),
    ("reach", "reach"),
    ("likes", "likes"),
    ("comments", "replies"),
    ("shares", "shares"),
    ("saved", "bookmarks"),
    ("total_interactions", "interactions"),
];

/// The account's fields and postctl's names for them.
const ACCOUNT_FIELDS: &[(&str, &str)] = &[
    ("followers_count", "followers"),
    ("follows_count", "following"),
    ("media_count", "posts"),
];

/// What Instagram takes: plain-text captions with media, one post per
/// part (no threads), no idempotency key but a container to check.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: CAPTION_LIMIT,
        counting: Counting::CodePoints,
    },
    format: Format::Plain,
    max_media: MAX_MEDIA,
    max_image_bytes: MAX_IMAGE_BYTES,
    threads: false,
    idempotency: Idempotency::Checked,
};

/// Instagram Login: the authorization code (no PKCE documented, the
/// client secret in the form) traded for a short-lived token (1 hour), exchanged at once
/// for a long-lived one (60 days) with `ig_exchange_token`, renewed with
/// `ig_refresh_token` when less than [`RENEW_AHEAD`] is left (Meta renews only tokens at
/// least a day old, which a token with a week left always is). Scopes are joined with
/// commas, as Meta's examples do. The code's answer names the Instagram user id the
/// account posts as.
const SIGN_IN: SignIn = SignIn::meta(
    "https://www.instagram.com/oauth/authorize",
    "https://api.instagram.com/oauth/access_token",
    &[
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_insights",
    ],
    LongLived {
        exchange_url: "https://graph.instagram.com/access_token",
        exchange_grant: "ig_exchange_token",
        token_param: "access_token",
        refresh_url: Some("https://graph.instagram.com/refresh_access_token"),
        refresh_grant: "ig_refresh_token",
    },
    "Instagram, API setup with Instagram login, Business login settings, OAuth redirect URIs",
);

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    capabilities: |_| DEFAULTS,
    sign_in: Some(&SIGN_IN),
    open: Some(|account, secret, tools| boxed(Instagram::new(account, secret, tools))),
};

/// Why a post cannot go to Instagram as it is, known offline: it has no image, or there is
/// no media host to give Instagram the images from.
pub(crate) fn refusal(media: usize, host: bool) -> Option<String> {
    if media == 0 {
        return Some(
            "Instagram posts need at least one image (a text-only post is impossible there): add --media FILE"
                .into(),
        );
    }
    (!host).then(|| {
        format!(
            "Instagram fetches images from a public URL, and {}",
            crate::media::host::not_configured()
        )
    })
}

pub struct Instagram {
    user: GraphUser,
    /// Insights Instagram rejected for this account: not asked again by this adapter.
    rejected: std::sync::Mutex<Vec<&'static str>>,
}

impl Instagram {
    pub fn new(
        account: &Account,
        secret: Secret,
        tools: super::Tools,
    ) -> Result<Self, PublishError> {
        Ok(Instagram {
            user: GraphUser::open(account, secret, tools, "long-lived token")?,
            rejected: std::sync::Mutex::new(Vec::new()),
        })
    }
}

impl Adapter for Instagram {
    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    async fn verify(&self) -> Result<Verified, PublishError> {
        self.user.verify().await
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        if let Some(why) = refusal(part.media.len(), true) {
            return Err(PublishError::permanent(why));
        }
        check_media(&part.media)?;
        let host = self.user.host.as_ref().map_err(|why| {
            PublishError::permanent(format!(
                "Instagram fetches images from a public URL, and {why}"
            ))
        })?;
        containers::publish(self, part, Some(host.as_ref())).await
    }

    /// The Instagram API has no delete for media.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let where_ = published
            .url
            .as_deref()
            .map_or_else(|| format!("media {}", published.id), str::to_owned);
        Err(PublishError::permanent(format!(
            "Instagram's API offers no way to delete a post: delete {where_} in the Instagram app (… → Delete), then `postctl unpublish` stops trying"
        )))
    }

    /// One `GET /{media-id}/insights` per post (Instagram reads one media at a time).
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        let mut readings = Vec::with_capacity(posts.len());
        for post in posts {
            readings.push(self.insights(&post.id).await?);
        }
        Ok(Metrics::Read(readings))
    }

    /// `GET /{ig-user-id}?fields=followers_count,follows_count,media_count`.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let fields = ACCOUNT_FIELDS
            .iter()
            .map(|(field, _)| *field)
            .collect::<Vec<_>>()
            .join(",");
        let me = self
            .user
            .graph
            .get(
                &[self.user.user_id.as_str()],
                &[("fields", fields.as_str())],
                Call::Read,
            )
            .await?;
        Ok(Metrics::Read(counters(&me, ACCOUNT_FIELDS)))
    }
}

impl Instagram {
    /// The insights of one media, asking again without any metric Instagram rejects.
    async fn insights(&self, media_id: &str) -> Result<PostReading, PublishError> {
        // Each round drops at least one metric, so this ends.
        for _ in 0..=INSIGHTS.len() {
            let asked: Vec<&'static str> = {
                let rejected = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
                INSIGHTS
                    .iter()
                    .map(|(metric, _)| *metric)
                    .filter(|metric| !rejected.contains(metric))
                    .collect()
            };
            if asked.is_empty() {
                return Ok(PostReading::Pending);
            }
            let metric = asked.join(",");
            let url = super::http::endpoint(&self.user.graph.base, &[media_id, "insights"])?;
            let request = self
                .user
                .graph
                .http
                .client()
                .get(url)
                .query(&[("metric", metric.as_str())]);
            let error = match self.user.graph.answer(request, Call::Read).await? {
                Ok(body) => return Ok(insights_reading(&body, INSIGHTS)),
                Err(error) => error,
            };
            match (error.code, error.subcode) {
                // "Not enough viewers" for the media to show insights: not yet.
                (10, _) => return Ok(PostReading::Pending),
                (100, Some(33)) => return Ok(PostReading::Deleted),
                (100, _) if error.status == 404 => return Ok(PostReading::Deleted),
                (100, _) => {
                    let gone = rejected_metrics(&error.message, &asked);
                    if gone.is_empty() {
                        return Err(self.user.graph.classify(error, Call::Read));
                    }
                    self.rejected
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend(gone);
                }
                _ => return Err(self.user.graph.classify(error, Call::Read)),
            }
        }
        Ok(PostReading::Pending)
    }
}

/// The metrics of `asked` an error 100 rejects: those missing from a "must be one of the
/// following values: …" list, else those its message names ("the impressions metric is no
/// longer supported").
fn rejected_metrics(message: &str, asked: &[&'static str]) -> Vec<&'static str> {
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if let Some((_, allowed)) = message.split_once("must be one of the following values") {
        let allowed = words(allowed);
        return asked
            .iter()
            .filter(|m| !allowed.iter().any(|a| a == *m))
            .copied()
            .collect();
    }
    let named = words(message);
    asked
        .iter()
        .filter(|m| named.iter().any(|w| w == *m))
        .copied()
        .collect()
}

impl Containers for Instagram {
    const PUBLISH_EDGE: &'static str = "media_publish";
    const STATUS_FIELDS: &'static str = "status_code";

    fn graph(&self) -> &Graph {
        &self.user.graph
    }

    fn user_id(&self) -> &str {
        &self.user.user_id
    }

    /// `GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config`.
    async fn check_quota(&self, _part: &Part) -> Result<(), PublishError> {
        let answer = self
            .user
            .graph
            .get(
                &[self.user.user_id.as_str(), "content_publishing_limit"],
                &[("fields", "quota_usage,config")],
                Call::Prepare,
            )
            .await?;
        quota_used_up(&self.user.graph, &answer, "quota_usage", "config", "posts")
    }

    /// One image's container, or a carousel's parent over one child per image.
    async fn create(&self, part: &Part, urls: &[String]) -> Result<String, PublishError> {
        let caption = part.rendered.text.as_str();
        if let ([file], [url]) = (part.media.as_slice(), urls) {
            let mut form = vec![("image_url", url.as_str()), ("caption", caption)];
            if let Some(alt) = alt_of(file) {
                form.push(("alt_text", alt));
            }
            return containers::container(self, "media", &form).await;
        }
        let mut children = Vec::with_capacity(urls.len());
        for (file, url) in part.media.iter().zip(urls) {
            let mut form = vec![("image_url", url.as_str()), ("is_carousel_item", "true")];
            if let Some(alt) = alt_of(file) {
                form.push(("alt_text", alt));
            }
            children.push(containers::container(self, "media", &form).await?);
        }
        // The parent takes only children Instagram has finished processing.
        for child in &children {
            containers::wait_until_finished(self, child).await?;
        }
        let children = children.join(",");
        containers::container(
            self,
            "media",
            &[
                ("media_type", "CAROUSEL"),
                ("children", children.as_str()),
                ("caption", caption),
            ],
        )
        .await
    }

    /// The newest of the account's media with this caption (the Graph API gives no link
    /// from a container to its media).
    async fn find_published(&self, part: &Part) -> Result<Published, PublishError> {
        let answer = self
            .user
            .graph
            .get(
                &[self.user.user_id.as_str(), "media"],
                &[
                    ("fields", "id,caption,permalink,timestamp"),
                    ("limit", "25"),
                ],
                Call::Prepare,
            )
            .await?;
        newest_with_text(&answer, "caption", &part.rendered.text).ok_or_else(|| {
            PublishError::maybe_sent(
                "Instagram says the post was published, but it is not among the account's recent media",
                None,
            )
        })
    }
}

/// Refuses, before anything is uploaded, what Instagram cannot take through postctl.
fn check_media(media: &[MediaFile]) -> Result<(), PublishError> {
    if media.len() > MAX_MEDIA {
        return Err(PublishError::permanent(format!(
            "Instagram takes at most {MAX_MEDIA} images per carousel; this post has {}",
            media.len()
        )));
    }
    if let Some(file) = media.iter().find(|m| !m.mime.starts_with("image/")) {
        return Err(PublishError::permanent(format!(
            "postctl posts images to Instagram, and {} is {}: attach JPEG images",
            file.file_name, file.mime
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::Counters;
    use serde_json::json;

    #[test]
    fn an_error_100_names_the_metrics_it_rejects() {
        let asked = ["views", "reach", "likes", "saved"];
        let cases: &[(&str, &[&str])] = &[
            (
                "(#100) Starting from version v22.0 and above, the views metric is no longer supported",
                &["views"],
            ),
            (
                "(#100) metric[0] must be one of the following values: reach, likes, saved",
                &["views"],
            ),
            ("(#100) The parameter metric is required", &[]),
            ("Not enough viewers for the media to show insights", &[]),
        ];
        for (message, expected) in cases {
            assert_eq!(rejected_metrics(message, &asked), *expected, "{message}");
        }
    }

    #[test]
    fn insights_become_counters_and_an_empty_set_is_pending() {
        let body = json!({"data": [
            {"name": "likes", "period": "lifetime", "values": [{"value": 4}]},
            {"name": "comments", "total_value": {"value": 2}},
            {"name": "impressions", "values": [{"value": 99}]},
        ]});
        let expected: Counters = [("likes".to_string(), 4), ("replies".to_string(), 2)]
            .into_iter()
            .collect();
        assert_eq!(
            insights_reading(&body, INSIGHTS),
            PostReading::Counted(expected)
        );
        assert_eq!(
            insights_reading(&json!({"data": []}), INSIGHTS),
            PostReading::Pending
        );
        assert_eq!(insights_reading(&json!({}), INSIGHTS), PostReading::Pending);
    }
}
