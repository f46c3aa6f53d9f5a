//! Instagram, a professional account's feed (../shared/platforms.md §7), through the
//! Instagram API with Instagram Login (`graph.instagram.com`) and a long-lived access token
//! given at `accounts add`. The token travels as `Authorization: Bearer`, never in a URL.
//!
//! Instagram fetches media from a public URL, so each image first goes to the media host
//! (`[media.host]`, [`crate::media::host`]), which hands out a URL valid for an hour. Then:
//! 1. a container: `POST /{ig-user-id}/media {image_url, caption, alt_text}` → `{id}`; a
//!    carousel is one child container per image (`is_carousel_item=true`, its own
//!    `alt_text`), then a parent `{media_type: CAROUSEL, children: a,b,c, caption}`;
//! 2. `GET /{container-id}?fields=status_code` until `FINISHED`;
//! 3. the container id is noted with the part in flight ([`super::Stage`]), durably;
//! 4. `POST /{ig-user-id}/media_publish {creation_id}` → `{id}`, the media id; its link is
//!    `GET /{media-id}?fields=permalink`; the images leave the media host.
//!
//! No request carries an idempotency key, but the noted container makes a retry safe
//! ([`Idempotency::Checked`]): an attempt that finds a noted container asks its
//! `status_code` first. `PUBLISHED`: the post exists, found in `GET /{ig-user-id}/media`
//! by its caption, and never published again. `FINISHED`: the publish did not take, so
//! it is sent again with the same container. `EXPIRED` or `ERROR`: a new container, as
//! platforms.md says (the old one cannot be published). A crash before the note can leave
//! only an unpublished container, which Instagram drops after a day.
//!
//! Before creating anything, `GET /{ig-user-id}/content_publishing_limit?fields=
//! quota_usage,config` says how many posts the account may still publish in the moving
//! window (50 in 24 h in Meta's reference, other sources say 25 or 100: read, not assumed).
//!
//! Unconfirmed facts (platforms.md §7) and what this adapter assumes: the container status
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

use std::time::Duration;

use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::http::{Answer, api_base, endpoint, excerpt, not_posted};
use super::metrics::counters;
use super::{
    AccountMetrics, Adapter, Capabilities, Counters, Http, Idempotency, MediaFile, Metrics, Part,
    Platform, PostMetrics, PostReading, PublishError, Published, Verified, boxed,
};
use crate::media::host::MediaHost;
use crate::model::Account;
use crate::network::Network;
use crate::secrets::Secret;
use crate::signin::{ClientAuth, Dialect, LongLived, SignIn, Tokens};
use crate::text::{Counting, Format, TextLimit};

/// Caption limit (third-party figure, platforms.md §7).
pub(crate) const CAPTION_LIMIT: usize = 2_200;
/// Images per carousel (third-party figure).
const MAX_MEDIA: usize = 10;
/// "Images must be < 8 MiB" (the official text of error 2207004).
const MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024 - 1;
/// How long a container may stay `IN_PROGRESS` before the attempt gives up (and the next
/// attempt checks the same container again).
const PROCESSING_LIMIT: Duration = Duration::from_secs(60);
/// The wait when a throttling error gives no `estimated_time_to_regain_access`.
const THROTTLE_WAIT: Duration = Duration::from_secs(60);
/// The wait when the publishing quota is used up: the window moves, so look again then.
const QUOTA_WAIT: Duration = Duration::from_secs(60 * 60);

/// The media insights asked for (platforms.md §7) and postctl's names for them.
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

/// What Instagram takes (platforms.md §7): plain-text captions with media, one post per
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

/// Instagram Login (platforms.md §7): the authorization code (no PKCE documented, the
/// client secret in the form) traded for a short-lived token (1 hour), exchanged at once
/// for a long-lived one (60 days) with `ig_exchange_token`, renewed with
/// `ig_refresh_token` when less than [`RENEW_AHEAD`] is left (Meta renews only tokens at
/// least a day old, which a token with a week left always is). Scopes are joined with
/// commas, as Meta's examples do.
const SIGN_IN: SignIn = SignIn {
    authorize_url: "https://www.instagram.com/oauth/authorize",
    token_url: "https://api.instagram.com/oauth/access_token",
    scopes: &[
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_insights",
    ],
    scope_separator: ",",
    pkce: false,
    client_auth: ClientAuth::Form,
    lifetime_unsaid: Some(Duration::from_secs(60 * 24 * 60 * 60)),
    refresh_ahead: RENEW_AHEAD,
    dialect: Dialect::LongLived(LongLived {
        exchange_url: "https://graph.instagram.com/access_token",
        exchange_grant: "ig_exchange_token",
        token_param: "access_token",
        refresh_url: Some("https://graph.instagram.com/refresh_access_token"),
        refresh_grant: "ig_refresh_token",
    }),
    portal: "https://developers.facebook.com/apps",
    redirect_setting: "Instagram, API setup with Instagram login, Business login settings, OAuth redirect URIs",
};

/// A long-lived token with less than this left is renewed.
const RENEW_AHEAD: Duration = Duration::from_secs(7 * 24 * 60 * 60);

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
    name: String,
    base: String,
    token: Secret,
    user_id: String,
    http: Http,
    host: Result<std::sync::Arc<dyn MediaHost>, String>,
    stored: Account,
    /// Insights Instagram rejected for this account: not asked again by this adapter.
    rejected: std::sync::Mutex<Vec<&'static str>>,
}

/// A Graph API error object, before it is classified.
struct GraphError {
    code: i64,
    subcode: Option<i64>,
    message: String,
    transient: bool,
    /// From `X-Business-Use-Case-Usage`: `estimated_time_to_regain_access` (minutes).
    regain: Option<Duration>,
    status: u16,
}

/// What a call is for, which decides what an unclear failure means.
#[derive(Clone, Copy, PartialEq)]
enum Call {
    /// Reads and container steps: nothing is posted by them.
    Prepare,
    /// `media_publish`: a failure without an answer may have posted.
    Publish,
    /// Reading counters: nothing is posted.
    Read,
}

impl Instagram {
    pub fn new(
        account: &Account,
        secret: Secret,
        tools: super::Tools,
    ) -> Result<Self, PublishError> {
        let base = api_base(account)?;
        let user_id = account
            .settings
            .get("user_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                PublishError::permanent(format!(
                    "the Instagram account {:?} has no user id; add it again with --ig-user-id, e.g. {}",
                    account.name,
                    Network::Instagram.example_add_command()
                ))
            })?
            .to_owned();
        // A signed-in account keeps its token set; one added with --token-stdin, a token.
        let token = match Tokens::from_secret(&secret) {
            Some(tokens) => tokens.access,
            None => secret,
        };
        Ok(Instagram {
            name: account.name.clone(),
            base,
            token,
            user_id,
            http: tools.http,
            host: tools.media_host,
            stored: account.clone(),
            rejected: std::sync::Mutex::new(Vec::new()),
        })
    }
}

impl Adapter for Instagram {
    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    async fn verify(&self) -> Result<Verified, PublishError> {
        let me = self
            .get(
                &[self.user_id.as_str()],
                &[("fields", "id,username")],
                Call::Prepare,
            )
            .await?;
        let username = me.get("username").and_then(Value::as_str).unwrap_or("?");
        Ok(Verified {
            identity: format!("@{username} (Instagram user {})", self.user_id),
        })
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        if let Some(why) = refusal(part.media.len(), true) {
            return Err(PublishError::permanent(why));
        }
        check_media(&part.media)?;
        let host = self.host.as_ref().map_err(|why| {
            PublishError::permanent(format!(
                "Instagram fetches images from a public URL, and {why}"
            ))
        })?;
        let caption = part.rendered.text.as_str();
        if let Some(stage) = &part.stage.earlier
            && let Some(container) = stage.get("container").and_then(Value::as_str)
        {
            let objects = objects_in(stage);
            match self.status(container).await?.as_str() {
                "PUBLISHED" => {
                    let published = self.find_published(caption).await?;
                    self.clean_up(host.as_ref(), &objects).await;
                    return Ok(published);
                }
                "FINISHED" | "IN_PROGRESS" => {
                    return self.finish(host.as_ref(), part, container, &objects).await;
                }
                // EXPIRED or ERROR: it can never be published; a new one is made below.
                _ => self.clean_up(host.as_ref(), &objects).await,
            }
        }
        self.check_quota().await?;
        let mut objects = Vec::with_capacity(part.media.len());
        for (i, file) in part.media.iter().enumerate() {
            let key = object_key(&part.idempotency_key, i, &file.file_name);
            host.put(&key, file).await?;
            objects.push(key);
        }
        let container = match self.create(host.as_ref(), part, caption, &objects).await {
            Ok(container) => container,
            Err(e) => {
                self.clean_up(host.as_ref(), &objects).await;
                return Err(not_posted(e));
            }
        };
        self.finish(host.as_ref(), part, &container, &objects).await
    }

    /// The Instagram API has no delete for media (platforms.md §7).
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
            .get(
                &[self.user_id.as_str()],
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
            let url = endpoint(&self.base, &[media_id, "insights"])?;
            let request = self
                .http
                .client()
                .get(url)
                .query(&[("metric", metric.as_str())]);
            let error = match self.answer(request, Call::Read).await? {
                Ok(body) => return Ok(insights_reading(&body)),
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
                        return Err(self.classify(error, Call::Read));
                    }
                    self.rejected
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend(gone);
                }
                _ => return Err(self.classify(error, Call::Read)),
            }
        }
        Ok(PostReading::Pending)
    }
}

/// The counters of an insights answer: each metric's lifetime value (`values[0].value`, or
/// `total_value.value`). No metric at all (Instagram's empty set) is pending, not zeros.
fn insights_reading(body: &Value) -> PostReading {
    let data = body["data"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let found: Counters = data
        .iter()
        .filter_map(|item| {
            let (_, name) = INSIGHTS
                .iter()
                .find(|(metric, _)| item["name"].as_str() == Some(metric))?;
            let value = item["values"][0]["value"]
                .as_u64()
                .or_else(|| item["total_value"]["value"].as_u64())?;
            Some(((*name).to_string(), value))
        })
        .collect();
    if found.is_empty() {
        PostReading::Pending
    } else {
        PostReading::Counted(found)
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

impl Instagram {
    /// The container for `part`: one image's, or a carousel's parent over one child per
    /// image.
    async fn create(
        &self,
        host: &dyn MediaHost,
        part: &Part,
        caption: &str,
        objects: &[String],
    ) -> Result<String, PublishError> {
        let user = self.user_id.as_str();
        if let ([file], [object]) = (part.media.as_slice(), objects) {
            let url = host.url(object);
            let mut form = vec![("image_url", url.as_str()), ("caption", caption)];
            if let Some(alt) = alt_of(file) {
                form.push(("alt_text", alt));
            }
            return self.container(user, &form).await;
        }
        let mut children = Vec::with_capacity(objects.len());
        for (file, object) in part.media.iter().zip(objects) {
            let url = host.url(object);
            let mut form = vec![("image_url", url.as_str()), ("is_carousel_item", "true")];
            if let Some(alt) = alt_of(file) {
                form.push(("alt_text", alt));
            }
            children.push(self.container(user, &form).await?);
        }
        // The parent takes only children Instagram has finished processing.
        for child in &children {
            self.wait_until_finished(child).await?;
        }
        let children = children.join(",");
        self.container(
            user,
            &[
                ("media_type", "CAROUSEL"),
                ("children", children.as_str()),
                ("caption", caption),
            ],
        )
        .await
    }

    async fn container(&self, user: &str, form: &[(&str, &str)]) -> Result<String, PublishError> {
        let answer = self.post(&[user, "media"], form, Call::Prepare).await?;
        id_of(&answer).ok_or_else(|| unexpected("the container", Call::Prepare))
    }

    /// Waits for `container` to be ready, notes it, publishes it, and removes the images
    /// from the host once Instagram holds the post.
    async fn finish(
        &self,
        host: &dyn MediaHost,
        part: &Part,
        container: &str,
        objects: &[String],
    ) -> Result<Published, PublishError> {
        self.wait_until_finished(container).await?;
        part.stage
            .note(&json!({"container": container, "objects": objects}))?;
        let answer = self
            .post(
                &[self.user_id.as_str(), "media_publish"],
                &[("creation_id", container)],
                Call::Publish,
            )
            .await?;
        let media_id = id_of(&answer).ok_or_else(|| unexpected("media_publish", Call::Publish))?;
        let url = self.permalink(&media_id).await;
        self.clean_up(host, objects).await;
        Ok(Published {
            id: media_id,
            url,
            extra: json!({"container": container}),
        })
    }

    async fn status(&self, container: &str) -> Result<String, PublishError> {
        let answer = self
            .get(&[container], &[("fields", "status_code")], Call::Prepare)
            .await?;
        Ok(answer
            .get("status_code")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned())
    }

    async fn wait_until_finished(&self, container: &str) -> Result<(), PublishError> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(250);
        loop {
            match self.status(container).await?.as_str() {
                "FINISHED" => return Ok(()),
                "PUBLISHED" => {
                    return Err(PublishError::maybe_sent(
                        format!("Instagram says container {container} is already published"),
                        None,
                    ));
                }
                "ERROR" => {
                    return Err(PublishError::permanent(format!(
                        "Instagram could not process the images of container {container} (status ERROR): use JPEG images under 8 MB whose URL Instagram can fetch"
                    )));
                }
                "EXPIRED" => {
                    return Err(PublishError::Retryable {
                        message: format!(
                            "Instagram's container {container} expired before it was published; a new one is made on retry"
                        ),
                        retry_after: None,
                        maybe_sent: false,
                        status: None,
                    });
                }
                _ if started.elapsed() >= PROCESSING_LIMIT => {
                    return Err(PublishError::Retryable {
                        message: format!("Instagram is still processing container {container}"),
                        retry_after: Some(Duration::from_secs(30)),
                        maybe_sent: false,
                        status: None,
                    });
                }
                _ => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// The post a published container became: the newest of the account's media with this
    /// caption (the Graph API gives no link from a container to its media).
    async fn find_published(&self, caption: &str) -> Result<Published, PublishError> {
        let answer = self
            .get(
                &[self.user_id.as_str(), "media"],
                &[
                    ("fields", "id,caption,permalink,timestamp"),
                    ("limit", "25"),
                ],
                Call::Prepare,
            )
            .await?;
        let found = answer
            .get("data")
            .and_then(Value::as_array)
            .and_then(|media| {
                media.iter().find(|m| {
                    m.get("caption")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .trim()
                        == caption.trim()
                })
            });
        match found.and_then(|m| Some((m, id_of(m)?))) {
            Some((media, id)) => Ok(Published {
                id,
                url: media
                    .get("permalink")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                extra: Value::Null,
            }),
            None => Err(PublishError::maybe_sent(
                "Instagram says the post was published, but it is not among the account's recent media",
                None,
            )),
        }
    }

    async fn permalink(&self, media_id: &str) -> Option<String> {
        let answer = self
            .get(&[media_id], &[("fields", "permalink")], Call::Prepare)
            .await
            .ok()?;
        answer
            .get("permalink")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Refuses to start a post the account's publishing quota cannot take.
    async fn check_quota(&self) -> Result<(), PublishError> {
        let answer = self
            .get(
                &[self.user_id.as_str(), "content_publishing_limit"],
                &[("fields", "quota_usage,config")],
                Call::Prepare,
            )
            .await?;
        let Some(limit) = answer.get("data").and_then(|d| d.get(0)) else {
            return Ok(());
        };
        let used = limit.get("quota_usage").and_then(Value::as_u64);
        let total = limit
            .get("config")
            .and_then(|c| c.get("quota_total"))
            .and_then(Value::as_u64);
        let hours = limit
            .get("config")
            .and_then(|c| c.get("quota_duration"))
            .and_then(Value::as_u64)
            .map_or(24, |seconds| seconds / 3600);
        match (used, total) {
            (Some(used), Some(total)) if used >= total => Err(PublishError::Retryable {
                message: format!(
                    "Instagram account {} used its publishing quota: {used} of {total} posts in {hours} h; postctl tries again in an hour",
                    self.name
                ),
                retry_after: Some(QUOTA_WAIT),
                maybe_sent: false,
                status: None,
            }),
            _ => Ok(()),
        }
    }

    /// Removes the images from the media host; one that stays is the bucket's to expire.
    async fn clean_up(&self, host: &dyn MediaHost, objects: &[String]) {
        for object in objects {
            let _ = host.delete(object).await;
        }
    }

    async fn get(
        &self,
        path: &[&str],
        query: &[(&str, &str)],
        call: Call,
    ) -> Result<Value, PublishError> {
        let url = endpoint(&self.base, path)?;
        let request = self.http.client().get(url).query(query);
        self.send(request, call).await
    }

    async fn post(
        &self,
        path: &[&str],
        form: &[(&str, &str)],
        call: Call,
    ) -> Result<Value, PublishError> {
        let url = endpoint(&self.base, path)?;
        let request = self.http.client().post(url).form(form);
        self.send(request, call).await
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        call: Call,
    ) -> Result<Value, PublishError> {
        match self.answer(request, call).await? {
            Ok(body) => Ok(body),
            Err(error) => Err(self.classify(error, call)),
        }
    }

    /// The answer's body, or the Graph API error object it carried (left to the caller).
    async fn answer(
        &self,
        request: reqwest::RequestBuilder,
        call: Call,
    ) -> Result<Result<Value, GraphError>, PublishError> {
        let token = Zeroizing::new(format!("Bearer {}", self.token.expose()));
        let request = request.header(reqwest::header::AUTHORIZATION, token.as_str());
        let answer = match self.http.exchange(&self.name, request).await {
            Ok(answer) => answer,
            Err(e) if call == Call::Publish => return Err(e),
            Err(e) => return Err(not_posted(e)),
        };
        if let Some(error) = graph_error(&answer) {
            return Ok(Err(error));
        }
        if !answer.is_success() {
            let error = super::http::classify(
                answer.status,
                format!(
                    "Instagram answered HTTP {}{}",
                    answer.status,
                    answer.excerpt()
                ),
                answer.retry_after(),
            );
            return Err(if call == Call::Publish {
                error
            } else {
                not_posted(error)
            });
        }
        answer
            .json()
            .map(Ok)
            .ok_or_else(|| unexpected("a request", call))
    }

    fn classify(&self, error: GraphError, call: Call) -> PublishError {
        let GraphError {
            code,
            subcode,
            message,
            transient,
            regain,
            status,
        } = error;
        let said = match subcode {
            Some(sub) => format!("Instagram error {code}/{sub}: {message}"),
            None => format!("Instagram error {code}: {message}"),
        };
        let name = &self.name;
        let status = Some(status);
        let retry = |message: String, wait: Option<Duration>| PublishError::Retryable {
            message,
            retry_after: wait,
            // Meta answered with an error: the request was read and refused.
            maybe_sent: false,
            status,
        };
        match (code, subcode) {
            (190, _) => PublishError::Auth {
                message: format!(
                    "Instagram rejected the access token of account {name} ({said}): it expired or was revoked; get a new long-lived token, then `{}`",
                    crate::network::add_again_command(&self.stored)
                ),
                status,
            },
            (4 | 17 | 32 | 613 | 80002, _) => retry(
                format!("Instagram is rate limiting account {name} ({said})"),
                Some(regain.unwrap_or(THROTTLE_WAIT)),
            ),
            (_, Some(2207020 | 2207032 | 2207053)) => retry(
                format!("Instagram dropped the container ({said}); a new one is made on retry"),
                None,
            ),
            (_, Some(2207004)) => PublishError::Permanent {
                message: format!(
                    "Instagram refused an image as too large ({said}): use images under 8 MB"
                ),
                status,
            },
            _ if transient || matches!(subcode, Some(2207001 | 2207003)) => {
                let error = retry(format!("Instagram had a passing problem ({said})"), None);
                if call == Call::Publish {
                    // A server error on media_publish may still have published.
                    if let PublishError::Retryable {
                        message,
                        retry_after,
                        status,
                        ..
                    } = error
                    {
                        return PublishError::Retryable {
                            message,
                            retry_after,
                            maybe_sent: true,
                            status,
                        };
                    }
                }
                error
            }
            _ if call == Call::Read => PublishError::Permanent {
                message: format!("Instagram refused to give the counters ({said})"),
                status,
            },
            _ => PublishError::Permanent {
                message: format!("Instagram refused the post ({said})"),
                status,
            },
        }
    }
}

/// The Graph API error object of an answer, with the usage header's advice.
fn graph_error(answer: &Answer) -> Option<GraphError> {
    let body = answer.json()?;
    let error = body.get("error")?;
    let code = error.get("code").and_then(Value::as_i64)?;
    Some(GraphError {
        code,
        subcode: error.get("error_subcode").and_then(Value::as_i64),
        message: error
            .get("message")
            .and_then(Value::as_str)
            .map(excerpt)
            .unwrap_or_default(),
        transient: error
            .get("is_transient")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        regain: regain_access(&answer.headers),
        status: answer.status,
    })
}

/// `estimated_time_to_regain_access` (minutes) of `X-Business-Use-Case-Usage`, a JSON
/// object keyed by business id whose values are lists of usages; the longest wait wins.
pub(crate) fn regain_access(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let usage: Value = headers
        .get("x-business-use-case-usage")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str(v).ok())?;
    usage
        .as_object()?
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|u| {
            u.get("estimated_time_to_regain_access")
                .and_then(Value::as_u64)
        })
        .max()
        .filter(|&minutes| minutes > 0)
        .map(|minutes| Duration::from_secs(minutes * 60).min(super::http::MAX_WAIT))
}

fn id_of(value: &Value) -> Option<String> {
    match value.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn alt_of(file: &MediaFile) -> Option<&str> {
    file.alt.as_deref().filter(|a| !a.trim().is_empty())
}

fn objects_in(stage: &Value) -> Vec<String> {
    stage
        .get("objects")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The media host's name for one image of a part: unique to the part and the file.
fn object_key(part_key: &str, index: usize, file_name: &str) -> String {
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{part_key}-{index}-{safe}")
}

fn unexpected(what: &str, call: Call) -> PublishError {
    let message = format!("Instagram answered {what} without the id it should return");
    match call {
        Call::Publish => PublishError::maybe_sent(message, None),
        Call::Prepare | Call::Read => not_posted(PublishError::maybe_sent(message, None)),
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
        assert_eq!(insights_reading(&body), PostReading::Counted(expected));
        assert_eq!(insights_reading(&json!({"data": []})), PostReading::Pending);
        assert_eq!(insights_reading(&json!({})), PostReading::Pending);
    }
}
