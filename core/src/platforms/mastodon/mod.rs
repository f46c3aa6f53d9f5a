//! Mastodon, any instance.
//!
//! A part becomes `POST /api/v1/statuses` with an `Idempotency-Key` header: the instance
//! remembers keys for an hour, so retrying a part whose outcome is unknown cannot post it
//! twice. Media goes first through `POST /api/v2/media`, polled until the instance has
//! processed it. The instance's own limits are read from `/api/v2/instance` when the
//! engine has none from the last day ([`ServerLimits`]).

use std::time::Duration;

use reqwest::RequestBuilder;
use serde_json::{Value, json};

use super::http::{Answer, classify, media_part, not_posted};
use super::metrics::counters;
use super::{
    AccountMetrics, Adapter, Capabilities, Http, Idempotency, MediaFile, Metrics, Part, Platform,
    PostMetrics, PostReading, PublishError, Published, ServerLimits, Verified, boxed,
};
use crate::model::Account;
use crate::secrets::Secret;
use crate::text::{Counting, Format, TextLimit};

#[cfg(test)]
mod tests;

/// Mastodon's defaults, used when the instance does not say: 500
/// characters counted Mastodon's way, 4 images of up to 16 MB.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: 500,
        counting: Counting::Mastodon,
    },
    format: Format::Plain,
    max_media: 4,
    max_image_bytes: 16 * 1024 * 1024,
    threads: true,
    // `Idempotency-Key` is kept for about an hour; leave room for the request's own time.
    idempotency: Idempotency::Within(chrono::TimeDelta::minutes(55)),
};

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    sign_in: None,
    capabilities: |_| DEFAULTS,
    open: Some(|account, secret, tools| {
        boxed(Mastodon::new(account, secret, tools.http).map(|m| m.knowing(tools.limits)))
    }),
};

const DEFAULT_LIMITS: Limits = Limits {
    max_characters: DEFAULTS.limit.max,
    max_media: DEFAULTS.max_media,
    image_size_limit: DEFAULTS.max_image_bytes,
};

/// How long an upload may stay "processing" before the part is retried later.
const MEDIA_WAIT: Duration = Duration::from_secs(60);
const MEDIA_POLL: Duration = Duration::from_secs(1);

pub struct Mastodon {
    /// The commands that set the account up again as it was added, for credential errors.
    again: String,
    /// The account's name: the key of its rate-limit state in [`Http`], and in messages.
    name: String,
    /// The instance's address, without a trailing slash.
    base: String,
    token: Secret,
    http: Http,
    limits: Limits,
    /// Whether `limits` came from the instance (now or within the last day).
    limits_known: bool,
    media_wait: Duration,
    media_poll: Duration,
}

/// What the instance accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Limits {
    max_characters: usize,
    max_media: usize,
    image_size_limit: u64,
}

impl Mastodon {
    pub fn new(account: &Account, secret: Secret, http: Http) -> Result<Self, PublishError> {
        let base = account
            .base_url
            .as_deref()
            .map(|url| url.trim().trim_end_matches('/'))
            .filter(|url| !url.is_empty())
            .ok_or_else(|| {
                PublishError::permanent(format!(
                    "the Mastodon account {name} has no instance address: add it again with its address: `{again}`",
                    name = account.name,
                    again = crate::network::add_again_with(
                        account,
                        &[("base_url", "https://your.instance")]
                    )
                ))
            })?;
        Ok(Mastodon {
            again: crate::network::add_again_command(account),
            name: account.name.clone(),
            base: base.to_string(),
            token: secret,
            http,
            limits: DEFAULT_LIMITS,
            limits_known: false,
            media_wait: MEDIA_WAIT,
            media_poll: MEDIA_POLL,
        })
    }
    /// Takes limits the instance gave within the last day, so `prepare` need not ask.
    fn knowing(mut self, known: Option<ServerLimits>) -> Self {
        if let Some(known) = known {
            self.limits = Limits::from(known);
            self.limits_known = true;
        }
        self
    }
}

impl Adapter for Mastodon {
    /// Reads the instance's limits, unless they were given. An instance without
    /// `/api/v2/instance` (404: older than Mastodon 4.0, or another server software) keeps
    /// Mastodon's defaults, and that is remembered too.
    async fn prepare(&mut self) -> Result<Option<ServerLimits>, PublishError> {
        if self.limits_known {
            return Ok(None);
        }
        let answer = self.send(self.get("/api/v2/instance")).await?;
        let read = if answer.status == 404 {
            ServerLimits::default()
        } else if answer.is_success() {
            limits_from_instance(&answer.json().unwrap_or_default())
        } else {
            return Err(self.failure(&answer, "reading the instance's limits", false));
        };
        self.limits = Limits::from(read);
        self.limits_known = true;
        Ok(Some(read))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            limit: TextLimit {
                max: self.limits.max_characters,
                ..DEFAULTS.limit
            },
            max_media: self.limits.max_media,
            max_image_bytes: self.limits.image_size_limit,
            ..DEFAULTS
        }
    }

    async fn verify(&self) -> Result<Verified, PublishError> {
        let answer = self
            .send(self.get("/api/v1/accounts/verify_credentials"))
            .await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, "checking the access token", false));
        }
        let me = answer.json().ok_or_else(|| {
            PublishError::permanent(format!(
                "{} answered verify_credentials with something that is not a Mastodon account: check the instance address",
                self.base
            ))
        })?;
        let acct = me["acct"].as_str().unwrap_or_default();
        if acct.is_empty() {
            return Err(PublishError::permanent(format!(
                "{} answered verify_credentials without an account name: check the instance address",
                self.base
            )));
        }
        Ok(Verified {
            identity: identity(acct, &self.base),
        })
    }

    /// Uploads the part's media, then posts the status with the part's idempotency key.
    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        if part.media.len() > self.limits.max_media {
            return Err(PublishError::permanent(format!(
                "{} takes at most {} media per post and this part has {}: remove some or split them over a thread",
                self.base,
                self.limits.max_media,
                part.media.len()
            )));
        }
        let mut media_ids = Vec::with_capacity(part.media.len());
        for media in &part.media {
            media_ids.push(self.upload(media).await?);
        }
        let mut status = json!({ "status": part.rendered.text });
        if !media_ids.is_empty() {
            status["media_ids"] = json!(media_ids);
        }
        if let Some(parent) = &part.reply_to {
            status["in_reply_to_id"] = json!(parent.id);
        }
        let request = self
            .http
            .client()
            .post(self.url("/api/v1/statuses"))
            .header("Idempotency-Key", &part.idempotency_key)
            .json(&status);
        let answer = self.send(request).await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, "publishing the post", true));
        }
        let posted = answer.json().ok_or_else(|| {
            PublishError::maybe_sent(
                format!(
                    "{} accepted the post but its answer could not be read; it will be retried with the same idempotency key, which cannot post it twice",
                    self.base
                ),
                None,
            )
        })?;
        let id = match &posted["id"] {
            Value::String(id) => id.clone(),
            // Ids are strings in the API; a server that sends a number still means the same id.
            Value::Number(id) => id.to_string(),
            _ => {
                return Err(PublishError::maybe_sent(
                    format!(
                        "{} answered the post without a status id; it will be retried with the same idempotency key",
                        self.base
                    ),
                    None,
                ));
            }
        };
        Ok(Published {
            id,
            url: posted["url"].as_str().map(str::to_string),
            extra: Value::Null,
        })
    }

    /// Deletes a status. One that is already gone (404) counts as deleted.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let path = format!("/api/v1/statuses/{}", path_segment(&published.id)?);
        let request = self.http.client().delete(self.url(&path));
        let answer = self.send(request).await?;
        if answer.is_success() || answer.status == 404 {
            return Ok(());
        }
        Err(self.failure(&answer, &format!("deleting status {}", published.id), false))
    }

    /// `GET /api/v1/statuses/:id` per post (Mastodon has no batch lookup):
    /// favourites, reblogs, replies, and quotes on servers that count
    /// them. A 404 means the status was deleted. No views: Mastodon has none.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        let mut readings = Vec::with_capacity(posts.len());
        for post in posts {
            let path = format!("/api/v1/statuses/{}", path_segment(&post.id)?);
            let answer = self.send(self.get(&path)).await?;
            // Mastodon's own 404 ("Record not found") means deleted; a 404 page from
            // something in front of the instance is an error like any other.
            if answer.status == 404 && answer.json().is_some_and(|b| b["error"].is_string()) {
                readings.push(PostReading::Deleted);
                continue;
            }
            if !answer.is_success() {
                let doing = format!("reading the counters of status {}", post.id);
                return Err(self.failure(&answer, &doing, false));
            }
            let status = answer.json().unwrap_or_default();
            readings.push(PostReading::Counted(counters(&status, STATUS_COUNTERS)));
        }
        Ok(Metrics::Read(readings))
    }

    /// `verify_credentials`: followers, following and statuses.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let answer = self
            .send(self.get("/api/v1/accounts/verify_credentials"))
            .await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, "reading the account's counters", false));
        }
        let me = answer.json().unwrap_or_default();
        Ok(Metrics::Read(counters(&me, ACCOUNT_COUNTERS)))
    }
}

/// A status's counters and postctl's names for them.
const STATUS_COUNTERS: &[(&str, &str)] = &[
    ("favourites_count", "likes"),
    ("reblogs_count", "reposts"),
    ("replies_count", "replies"),
    ("quotes_count", "quotes"),
];

/// An account's counters and postctl's names for them.
const ACCOUNT_COUNTERS: &[(&str, &str)] = &[
    ("followers_count", "followers"),
    ("following_count", "following"),
    ("statuses_count", "posts"),
];

impl Mastodon {
    /// Uploads one file and waits until the instance has processed it; returns its id.
    async fn upload(&self, media: &MediaFile) -> Result<String, PublishError> {
        let mut form = reqwest::multipart::Form::new().part("file", media_part(media).await?);
        if let Some(alt) = media.alt.as_deref().filter(|alt| !alt.is_empty()) {
            form = form.text("description", alt.to_string());
        }
        let request = self
            .http
            .client()
            .post(self.url("/api/v2/media"))
            .multipart(form);
        let answer = self.send(request).await.map_err(not_posted)?;
        let code = answer.status;
        if code != 200 && code != 202 {
            let what = format!("uploading {}", media.file_name);
            return Err(not_posted(self.failure(&answer, &what, false)));
        }
        let id = match &answer.json().unwrap_or_default()["id"] {
            Value::String(id) => id.clone(),
            Value::Number(id) => id.to_string(),
            _ => {
                return Err(PublishError::Retryable {
                    message: format!(
                        "{} answered the upload of {} without a media id; it will be uploaded again",
                        self.base, media.file_name
                    ),
                    retry_after: None,
                    maybe_sent: false,
                    status: Some(code),
                });
            }
        };
        if code == 202 {
            self.wait_until_processed(&id, media).await?;
        }
        Ok(id)
    }

    /// Polls an upload the instance answered 202 for, until it answers 200 (206 meaning
    /// still processing), for at most `media_wait`.
    async fn wait_until_processed(&self, id: &str, media: &MediaFile) -> Result<(), PublishError> {
        let started = tokio::time::Instant::now();
        let path = format!("/api/v1/media/{}", path_segment(id)?);
        loop {
            tokio::time::sleep(self.media_poll).await;
            let answer = self.send(self.get(&path)).await.map_err(not_posted)?;
            match answer.status {
                200 => return Ok(()),
                206 => {}
                _ => {
                    let what = format!("waiting for {} to be processed", media.file_name);
                    return Err(not_posted(self.failure(&answer, &what, false)));
                }
            }
            if started.elapsed() >= self.media_wait {
                return Err(PublishError::Retryable {
                    message: format!(
                        "{} was still processing {} after {} s; the post will be tried again later",
                        self.base,
                        media.file_name,
                        self.media_wait.as_secs()
                    ),
                    retry_after: None,
                    maybe_sent: false,
                    status: Some(206),
                });
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http.client().get(self.url(path))
    }

    /// Sends with the account's token, and reads the answer.
    async fn send(&self, request: RequestBuilder) -> Result<Answer, PublishError> {
        self.http
            .exchange(&self.name, request.bearer_auth(self.token.expose()))
            .await
    }

    /// Turns an error answer into a classified error whose message says what to do.
    /// `posting` is true for the status itself, where a 5xx may mean it was posted.
    fn failure(&self, answer: &Answer, doing: &str, posting: bool) -> PublishError {
        let status = answer.status;
        let wait = answer.retry_after();
        let said = error_text(&String::from_utf8_lossy(&answer.body));
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        };
        let name = &self.name;
        let base = &self.base;
        let again = &self.again;
        let message = match status {
            401 => {
                return PublishError::Auth {
                    message: format!(
                        "{base} rejected the access token of account {name} (401{said}) while {doing}: create a new token with the write:statuses, write:media and read:accounts scopes, then run `{again}`"
                    ),
                    status: Some(status),
                };
            }
            // Mastodon answers 403 for a token without the needed scope, and for a
            // suspended or unconfirmed account: both need the user.
            403 => {
                return PublishError::Auth {
                    message: format!(
                        "{base} refused {doing} for account {name} (403{said}): check that the account is active and that its token has the write:statuses and write:media scopes; if not, create a new token and add the account again with `{again}`"
                    ),
                    status: Some(status),
                };
            }
            404 => format!(
                "{base} answered 404 Not Found while {doing}{said}: check the instance address of account {name} ({base}), and that the post being replied to still exists"
            ),
            413 => format!(
                "{base} refused the file as too large (413) while {doing}: the instance takes images up to {} bytes; use a smaller file",
                self.limits.image_size_limit
            ),
            422 => format!(
                "{base} refused the post (422{said}) while {doing}: change what it says and publish it again"
            ),
            429 => format!(
                "{base} rate limit reached for account {name} (429) while {doing}; it will be retried when the limit resets"
            ),
            500..=599 if posting => format!(
                "{base} failed ({status}{said}) while {doing}; it will be retried with the same idempotency key, which cannot post it twice"
            ),
            500..=599 => {
                format!("{base} failed ({status}{said}) while {doing}; it will be retried")
            }
            _ => format!("{base} answered {status}{said} while {doing}"),
        };
        classify(status, message, wait)
    }
}

/// The instance's limits from a `/api/v2/instance` answer; what it lacks stays `None`.
fn limits_from_instance(instance: &Value) -> ServerLimits {
    let config = &instance["configuration"];
    let number = |value: &Value| value.as_u64().filter(|&n| n > 0);
    let count = |value: &Value| number(value).and_then(|n| usize::try_from(n).ok());
    ServerLimits {
        max_characters: count(&config["statuses"]["max_characters"]),
        max_media: count(&config["statuses"]["max_media_attachments"]),
        max_image_bytes: number(&config["media_attachments"]["image_size_limit"]),
    }
}

impl From<ServerLimits> for Limits {
    /// Mastodon's defaults, with what the instance said in their place.
    fn from(server: ServerLimits) -> Limits {
        Limits {
            max_characters: server
                .max_characters
                .unwrap_or(DEFAULT_LIMITS.max_characters),
            max_media: server.max_media.unwrap_or(DEFAULT_LIMITS.max_media),
            image_size_limit: server
                .max_image_bytes
                .unwrap_or(DEFAULT_LIMITS.image_size_limit),
        }
    }
}

/// `@acct@host`: local accounts' `acct` is the bare username, remote ones already have a
/// domain.
fn identity(acct: &str, base: &str) -> String {
    let acct = acct.trim_start_matches('@');
    if acct.contains('@') {
        return format!("@{acct}");
    }
    match reqwest::Url::parse(base)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string))
    {
        Some(host) => format!("@{acct}@{host}"),
        None => format!("@{acct}"),
    }
}

/// The `error` field of a Mastodon error body, or the start of a body that is not one.
fn error_text(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<Value>(body)
        && let Some(error) = value["error"].as_str()
    {
        return error.to_string();
    }
    let body = body.trim();
    if body.starts_with('<') {
        // An HTML error page from a proxy says nothing useful.
        return String::new();
    }
    body.chars().take(200).collect()
}

/// An id as a path segment. Mastodon ids are digits (other servers use letters too); an id
/// that could change the path is refused rather than altered.
fn path_segment(id: &str) -> Result<&str, PublishError> {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(id)
    } else {
        Err(PublishError::permanent(format!(
            "{id:?} is not a Mastodon id, so postctl does not put it in a URL; if it is a stored post's id, delete that post on the instance itself"
        )))
    }
}
