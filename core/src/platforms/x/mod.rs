//! X, API v2.
//!
//! Signing in is OAuth 2.0 with PKCE ([`SIGN_IN`]); the account's secret is the token set
//! the sign-in stored (refreshed by the engine before it expires, see
//! `publish/tokens.rs`), or an access token given by hand. A part is `POST /2/tweets`
//! (`reply.in_reply_to_tweet_id` for a thread), after its images went through the chunked
//! upload (`initialize`, `append`, `finalize`, STATUS polls while X processes them) and
//! their alt text through `POST /2/media/metadata`.
//!
//! X has no idempotency key. After an answer that leaves the outcome open (a timeout or a
//! dropped connection after sending, a 5xx) and after the duplicate-content 403 (X refusing
//! a text it already has), the adapter looks for the part among the user's recent posts
//! (`GET /2/users/{id}/tweets`): found, it is the published part; not found, the error
//! says it may have been sent and the engine makes the target `uncertain`. A used-up
//! monthly cap (`usage-capped`) waits for the cap's reset and says so; a window's 429
//! waits for `x-rate-limit-reset`, which, like every answer's `x-rate-limit-*`, feeds the
//! account's pacing through [`Http`].
//!
//! Metrics: `GET /2/tweets?ids=…&tweet.fields=public_metrics` for up to [`IDS_PER_READ`]
//! posts at once (likes, reposts, replies, quotes, bookmarks, and impressions as `views`);
//! a post missing from `data` with a `resource-not-found` entry in `errors` was deleted.
//! The account: `GET /2/users/me?user.fields=public_metrics` (followers; following and
//! posts where X gives them, their names unconfirmed).

use std::time::Duration;

use reqwest::RequestBuilder;
use serde_json::{Value, json};

use super::http::{Answer, api_base, classify, not_posted, read_media};
use super::metrics::counters;
use super::{
    AccountMetrics, Adapter, Capabilities, Http, Idempotency, MediaFile, Metrics, Part, Platform,
    PostMetrics, PostReading, PublishError, Published, Verified, boxed,
};
use crate::model::Account;
use crate::secrets::Secret;
use crate::signin::{ClientAuth, Dialect, SignIn, Tokens};
use crate::text::{Counting, Format, TextLimit};

pub mod oauth1;
#[cfg(test)]
mod tests;

/// 280 weighted characters (twitter-text v3: URLs 23, CJK and emoji 2), up to 4 images of
/// 5 MB, replies for threads, and no idempotency key.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: 280,
        counting: Counting::XWeighted,
    },
    format: Format::Plain,
    max_media: 4,
    max_image_bytes: 5 * 1024 * 1024,
    threads: true,
    idempotency: Idempotency::None,
};

/// OAuth 2.0 with PKCE: access tokens live 2 hours; `offline.access`
/// brings a refresh token, which may be single-use, so the newest is always kept.
/// Confidential clients authenticate at the token endpoint with HTTP Basic. The
/// media scope's name is unconfirmed: `media.write` is asked for.
const SIGN_IN: SignIn = SignIn {
    authorize_url: "https://x.com/i/oauth2/authorize",
    token_url: "https://api.x.com/2/oauth2/token",
    scopes: &[
        "tweet.read",
        "tweet.write",
        "users.read",
        "media.write",
        "offline.access",
    ],
    scope_separator: " ",
    pkce: true,
    client_auth: ClientAuth::Basic,
    lifetime_unsaid: Some(Duration::from_secs(2 * 60 * 60)),
    refresh_ahead: Duration::from_secs(15 * 60),
    dialect: Dialect::Standard,
    portal: "https://developer.x.com/en/portal/dashboard",
    redirect_setting: "User authentication settings, Callback URI",
};

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    sign_in: Some(&SIGN_IN),
    capabilities: |_| DEFAULTS,
    open: Some(|account, secret, tools| boxed(X::new(account, secret, tools.http))),
};

/// Upload chunks: X takes up to 1,000 segments; 1 MiB keeps a 5 MB image to a few.
const CHUNK: usize = 1024 * 1024;

/// How long X may keep processing an upload before the part is tried again later.
const MEDIA_WAIT: Duration = Duration::from_secs(60);

/// How many of the user's latest posts are searched for a part whose fate is unknown.
const RECENT: u32 = 20;

/// How many ids one `GET /2/tweets` takes (its `ids` parameter holds 1 to 100).
const IDS_PER_READ: usize = 100;

/// A post's `public_metrics` and postctl's names for them.
const POST_COUNTERS: &[(&str, &str)] = &[
    ("like_count", "likes"),
    ("retweet_count", "reposts"),
    ("reply_count", "replies"),
    ("quote_count", "quotes"),
    ("bookmark_count", "bookmarks"),
    ("impression_count", "views"),
];

/// A user's `public_metrics` and postctl's names for them (only `followers_count` is
/// confirmed; the others are read when present).
const USER_COUNTERS: &[(&str, &str)] = &[
    ("followers_count", "followers"),
    ("following_count", "following"),
    ("tweet_count", "posts"),
];

pub struct X {
    /// The account's name: the key of its rate-limit state in [`Http`], and in messages.
    name: String,
    base: String,
    auth: Auth,
    http: Http,
}

/// How the account's requests prove who sends them.
enum Auth {
    /// OAuth 2.0: a bearer token (signed in, or given by hand).
    Bearer(Secret),
    /// OAuth 1.0a: each request signed with the four keys.
    OAuth1(oauth1::Keys),
}

impl X {
    pub fn new(account: &Account, secret: Secret, http: Http) -> Result<Self, PublishError> {
        let base = api_base(account)?.trim_end_matches('/').to_string();
        let auth = if account.settings["auth"] == "oauth1" {
            Auth::OAuth1(oauth1::Keys::parse(&secret).ok_or_else(|| {
                PublishError::auth(format!(
                    "the OAuth 1.0a keys of {} are not four values ({}): add the account again with `postctl accounts add x --oauth1`",
                    account.name,
                    oauth1::ORDER
                ))
            })?)
        } else {
            // A signed-in account keeps its token set; one added with --token-stdin, a token.
            Auth::Bearer(match Tokens::from_secret(&secret) {
                Some(tokens) => tokens.access,
                None => secret,
            })
        };
        Ok(X {
            name: account.name.clone(),
            base,
            auth,
            http,
        })
    }
}

impl Adapter for X {
    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    async fn verify(&self) -> Result<Verified, PublishError> {
        let (_, username) = self.me().await?;
        Ok(Verified {
            identity: format!("@{username}"),
        })
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        if part.media.len() > DEFAULTS.max_media {
            return Err(PublishError::permanent(format!(
                "X takes at most 4 images per post and this part has {}: remove some or spread them over a thread",
                part.media.len()
            )));
        }
        let mut media_ids = Vec::with_capacity(part.media.len());
        for media in &part.media {
            media_ids.push(self.upload(media).await.map_err(not_posted)?);
        }
        let mut body = json!({ "text": part.rendered.text });
        if !media_ids.is_empty() {
            body["media"] = json!({ "media_ids": media_ids });
        }
        if let Some(parent) = &part.reply_to {
            body["reply"] = json!({ "in_reply_to_tweet_id": parent.id });
        }
        let request = self.http.client().post(self.url("/2/tweets")).json(&body);
        let answer = match self.send(request).await {
            Ok(answer) => answer,
            Err(
                error @ PublishError::Retryable {
                    maybe_sent: true, ..
                },
            ) => return self.find_or(part, error).await,
            Err(error) => return Err(error),
        };
        if answer.status == 201 || answer.status == 200 {
            return match answer
                .json()
                .and_then(|a| a["data"]["id"].as_str().map(str::to_string))
            {
                Some(id) => Ok(published(id)),
                None => {
                    let error = PublishError::maybe_sent(
                        "X accepted the post but its answer had no post id",
                        Some(answer.status),
                    );
                    self.find_or(part, error).await
                }
            };
        }
        let error = self.failure(&answer, "publishing the post");
        if is_duplicate(&answer)
            || matches!(
                error,
                PublishError::Retryable {
                    maybe_sent: true,
                    ..
                }
            )
        {
            return self.find_or(part, error).await;
        }
        Err(error)
    }

    /// Deletes a post; one already gone (404) counts as deleted.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let id = post_id(&published.id)?;
        let request = self
            .http
            .client()
            .delete(self.url(&format!("/2/tweets/{id}")));
        let answer = self.send(request).await?;
        if answer.is_success() || answer.status == 404 {
            return Ok(());
        }
        Err(self.failure(&answer, &format!("deleting post {id}")))
    }

    /// One `GET /2/tweets` per [`IDS_PER_READ`] posts. A post X answers with is counted; one
    /// it reports as not found was deleted; one it says nothing about is asked again on
    /// the next run.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        let mut readings = Vec::with_capacity(posts.len());
        for batch in posts.chunks(IDS_PER_READ) {
            let ids = batch
                .iter()
                .map(|p| post_id(&p.id))
                .collect::<Result<Vec<_>, _>>()?;
            let request = self.http.client().get(self.url("/2/tweets")).query(&[
                ("ids", ids.join(",").as_str()),
                ("tweet.fields", "public_metrics"),
            ]);
            let answer = self.send(request).await?;
            if !answer.is_success() {
                return Err(self.failure(&answer, "reading the posts' counters"));
            }
            let found = answer.json().unwrap_or_default();
            for id in ids {
                readings.push(reading(&found, id));
            }
        }
        Ok(Metrics::Read(readings))
    }

    /// `GET /2/users/me` with the user's `public_metrics`.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let request = self
            .http
            .client()
            .get(self.url("/2/users/me"))
            .query(&[("user.fields", "public_metrics")]);
        let answer = self.send(request).await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, "reading the account's counters"));
        }
        let me = answer.json().unwrap_or_default();
        Ok(Metrics::Read(counters(
            &me["data"]["public_metrics"],
            USER_COUNTERS,
        )))
    }
}

/// What a `GET /2/tweets` answer says about the post `id`: its counters from `data`, deleted
/// when `errors` reports it not found, else pending (X said nothing about it).
fn reading(found: &Value, id: &str) -> PostReading {
    let data = found["data"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if let Some(post) = data.iter().find(|p| p["id"].as_str() == Some(id)) {
        return PostReading::Counted(counters(&post["public_metrics"], POST_COUNTERS));
    }
    let errors = found["errors"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let not_found = errors.iter().any(|e| {
        (e["resource_id"].as_str() == Some(id) || e["value"].as_str() == Some(id))
            && e["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("/resource-not-found"))
    });
    if not_found {
        PostReading::Deleted
    } else {
        PostReading::Pending
    }
}

impl X {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, request: RequestBuilder) -> Result<Answer, PublishError> {
        let request = match &self.auth {
            Auth::Bearer(token) => request.bearer_auth(token.expose()),
            Auth::OAuth1(keys) => {
                let (client, built) = request.build_split();
                let mut built = built.map_err(|e| {
                    PublishError::permanent(format!("the request could not be built: {e}"))
                })?;
                keys.sign(&mut built)?;
                RequestBuilder::from_parts(client, built)
            }
        };
        self.http.exchange(&self.name, request).await
    }

    /// The signed-in user: id and username.
    async fn me(&self) -> Result<(String, String), PublishError> {
        let answer = self
            .send(self.http.client().get(self.url("/2/users/me")))
            .await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, "reading the signed-in user"));
        }
        let me = answer.json().unwrap_or_default();
        match (me["data"]["id"].as_str(), me["data"]["username"].as_str()) {
            (Some(id), Some(username)) => Ok((id.to_string(), username.to_string())),
            _ => Err(PublishError::permanent(
                "X answered /2/users/me without the user's id: check the account's --base-url",
            )),
        }
    }

    /// The part among the user's recent posts, else `error` saying it may have been sent.
    async fn find_or(&self, part: &Part, error: PublishError) -> Result<Published, PublishError> {
        match self.find(part).await {
            Ok(Some(found)) => Ok(found),
            Ok(None) => Err(maybe_sent(
                error,
                "and it is not among the account's recent posts",
            )),
            Err(lookup) => Err(maybe_sent(
                error,
                &format!("and the account's recent posts could not be read ({lookup})"),
            )),
        }
    }

    /// Looks for a post with the part's text (links compared as links: X shortens them)
    /// replying to the part's parent, among the user's latest posts.
    async fn find(&self, part: &Part) -> Result<Option<Published>, PublishError> {
        let (user, _) = self.me().await?;
        let request = self
            .http
            .client()
            .get(self.url(&format!("/2/users/{}/tweets", post_id(&user)?)))
            .query(&[
                ("max_results", RECENT.to_string()),
                ("tweet.fields", "referenced_tweets".to_string()),
            ]);
        let answer = self.send(request).await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, "reading the account's recent posts"));
        }
        let recent = answer.json().unwrap_or_default();
        let wanted = comparable(&part.rendered.text);
        let parent = part.reply_to.as_ref().map(|p| p.id.as_str());
        let found = recent["data"].as_array().and_then(|posts| {
            posts.iter().find(|post| {
                let replies_to = post["referenced_tweets"].as_array().and_then(|refs| {
                    refs.iter()
                        .find(|r| r["type"] == "replied_to")
                        .and_then(|r| r["id"].as_str())
                });
                comparable(post["text"].as_str().unwrap_or_default()) == wanted
                    && replies_to == parent
            })
        });
        Ok(found
            .and_then(|post| post["id"].as_str())
            .map(|id| published(id.to_string())))
    }

    /// Uploads one image in chunks, waits for X to process it, sets its alt text; returns
    /// its media id.
    async fn upload(&self, media: &MediaFile) -> Result<String, PublishError> {
        let bytes = read_media(media).await?;
        let what = format!("uploading {}", media.file_name);
        let init = self
            .http
            .client()
            .post(self.url("/2/media/upload/initialize"))
            .json(&json!({
                "media_type": media.mime,
                "total_bytes": bytes.len(),
                "media_category": "tweet_image",
            }));
        let answer = self.send(init).await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, &what));
        }
        let id = answer
            .json()
            .and_then(|a| a["data"]["id"].as_str().map(str::to_string))
            .ok_or_else(|| {
                PublishError::permanent(format!(
                    "X answered the upload of {} without a media id",
                    media.file_name
                ))
            })?;
        let id = post_id(&id)?.to_string();
        for (index, chunk) in bytes.chunks(CHUNK).enumerate() {
            let form = reqwest::multipart::Form::new()
                .text("segment_index", index.to_string())
                .part(
                    "media",
                    reqwest::multipart::Part::bytes(chunk.to_vec())
                        .file_name(media.file_name.clone()),
                );
            let append = self
                .http
                .client()
                .post(self.url(&format!("/2/media/upload/{id}/append")))
                .multipart(form);
            let answer = self.send(append).await?;
            if !answer.is_success() {
                return Err(self.failure(&answer, &what));
            }
        }
        let finalize = self
            .http
            .client()
            .post(self.url(&format!("/2/media/upload/{id}/finalize")));
        let answer = self.send(finalize).await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, &what));
        }
        let mut info = answer.json().unwrap_or_default()["data"]["processing_info"].clone();
        let started = tokio::time::Instant::now();
        while let Some(state) = info["state"].as_str() {
            match state {
                "succeeded" => break,
                "failed" => {
                    return Err(PublishError::permanent(format!(
                        "X could not process {} ({}): use another file",
                        media.file_name,
                        info["error"]["message"]
                            .as_str()
                            .unwrap_or("no reason given")
                    )));
                }
                _ => {}
            }
            if started.elapsed() >= MEDIA_WAIT {
                return Err(PublishError::Retryable {
                    message: format!(
                        "X was still processing {} after {} s; the post will be tried again later",
                        media.file_name,
                        MEDIA_WAIT.as_secs()
                    ),
                    retry_after: None,
                    maybe_sent: false,
                    status: None,
                });
            }
            let wait = info["check_after_secs"].as_u64().unwrap_or(1).clamp(1, 30);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let status = self
                .http
                .client()
                .get(self.url("/2/media/upload"))
                .query(&[("command", "STATUS"), ("media_id", id.as_str())]);
            let answer = self.send(status).await?;
            if !answer.is_success() {
                return Err(self.failure(&answer, &what));
            }
            info = answer.json().unwrap_or_default()["data"]["processing_info"].clone();
        }
        if let Some(alt) = media.alt.as_deref().filter(|alt| !alt.is_empty()) {
            let metadata = self
                .http
                .client()
                .post(self.url("/2/media/metadata"))
                .json(&json!({"id": id, "metadata": {"alt_text": {"text": alt}}}));
            let answer = self.send(metadata).await?;
            if !answer.is_success() {
                return Err(self.failure(
                    &answer,
                    &format!("setting the alt text of {}", media.file_name),
                ));
            }
        }
        Ok(id)
    }

    /// An error answer, classified, with a message that says what to do.
    fn failure(&self, answer: &Answer, doing: &str) -> PublishError {
        let status = answer.status;
        let body = answer.json().unwrap_or_default();
        let detail = body["detail"]
            .as_str()
            .or_else(|| body["errors"][0]["message"].as_str())
            .or_else(|| body["title"].as_str())
            .unwrap_or_default();
        let said = if detail.is_empty() {
            String::new()
        } else {
            format!(": {}", detail.chars().take(300).collect::<String>())
        };
        let name = &self.name;
        let kind = body["type"].as_str().unwrap_or_default();
        let message = match status {
            401 => {
                let what_to_do = match self.auth {
                    Auth::Bearer(_) => {
                        format!("sign in again with `postctl accounts reauth {name}`")
                    }
                    Auth::OAuth1(_) => format!(
                        "check the four keys on your app's Keys and tokens page (regenerate them if they were revoked), then `postctl accounts rm {name}` and add it again with --oauth1"
                    ),
                };
                return PublishError::Auth {
                    message: format!(
                        "X rejected the credentials of {name} (401{said}) while {doing}: {what_to_do}"
                    ),
                    status: Some(status),
                };
            }
            429 if kind.ends_with("/usage-capped") => {
                let wait = cap_reset(&answer.headers).or_else(|| answer.retry_after());
                return PublishError::Retryable {
                    message: format!(
                        "X's monthly post cap of the app behind {name} is used up (429 usage-capped) while {doing}: nothing is sent until the cap resets{}",
                        wait.map(|w| format!(" in {} min", w.as_secs() / 60))
                            .unwrap_or_default()
                    ),
                    retry_after: Some(wait.unwrap_or(super::http::MAX_WAIT)),
                    maybe_sent: false,
                    status: Some(status),
                };
            }
            429 => format!(
                "X rate limit reached for {name} (429) while {doing}; it will be retried when the window resets"
            ),
            403 => format!(
                "X refused {doing} for {name} (403{said}): check that the app has Read and Write permissions and the account may post"
            ),
            400 => format!("X refused {doing} (400{said}): change the post and publish it again"),
            404 => format!("X answered 404 while {doing}{said}: the post replied to may be gone"),
            500..=599 => format!("X failed ({status}{said}) while {doing}"),
            _ => format!("X answered {status}{said} while {doing}"),
        };
        classify(status, message, answer.retry_after())
    }
}

/// The reset of the cap that is used up (`x-user-limit-24hour-*` or `x-app-limit-24hour-*`
/// with nothing remaining, else `x-rate-limit-reset`), as a wait from now.
fn cap_reset(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    ["x-user-limit-24hour", "x-app-limit-24hour", "x-rate-limit"]
        .iter()
        .find_map(|prefix| {
            let remaining = get(&format!("{prefix}-remaining"));
            let reset = get(&format!("{prefix}-reset"))?;
            (remaining.is_none_or(|r| r == 0)).then_some(reset)
        })
        .map(|reset| Duration::from_secs(reset.saturating_sub(now)).min(super::http::MAX_WAIT))
}

/// X's answer to a text it already has from this user (seen in client reports, (3p)).
fn is_duplicate(answer: &Answer) -> bool {
    answer.status == 403
        && String::from_utf8_lossy(&answer.body)
            .to_ascii_lowercase()
            .contains("duplicate content")
}

/// `error` marked as possibly sent, with why postctl cannot tell.
fn maybe_sent(error: PublishError, why: &str) -> PublishError {
    PublishError::Retryable {
        message: format!("{error}, {why}"),
        retry_after: None,
        maybe_sent: true,
        status: error.status(),
    }
}

fn published(id: String) -> Published {
    Published {
        url: Some(format!("https://x.com/i/web/status/{id}")),
        id,
        extra: Value::Null,
    }
}

/// A text as X shows it, for comparing: links (which X shortens to t.co) as one token.
fn comparable(text: &str) -> String {
    let nfc: String = unicode_normalization::UnicodeNormalization::nfc(text).collect();
    nfc.split_whitespace()
        .map(|word| {
            if word.starts_with("http://") || word.starts_with("https://") {
                "<link>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An X id (digits) as a path segment; anything else is refused rather than altered.
fn post_id(id: &str) -> Result<&str, PublishError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(PublishError::permanent(format!(
            "{id:?} is not an X id, so postctl does not put it in a URL"
        )))
    }
}
