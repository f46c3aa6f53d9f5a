//! VK, a user's or a community's wall (API version 5.199).
//!
//! Signing in is VK ID ([`SIGN_IN`]: OAuth 2.1 with PKCE, tokens refreshed by the engine);
//! a community or standalone token can be given instead. Every call is
//! `POST {base}/method/<name>` with a form holding `access_token` and
//! `v=5.199` (the token travels in the body, never in a URL). Answers are HTTP 200 either
//! way: `{"response": …}` on success, `{"error": {"error_code", "error_msg", …}}` on
//! failure, classified by [`classify`].
//!
//! A part becomes:
//! - the first part: `wall.post {owner_id, from_group, message, attachments, guid}` →
//!   `post_id`, on the account's wall (`owner_id`, negative for a community; `from_group`
//!   posts as the community rather than as the token's user);
//! - every further part of a text too long for one post: a comment on the first one,
//!   `wall.createComment {owner_id, post_id, from_group, message, guid}` → `comment_id`
//!   (VK walls have no reply threads).
//!
//! Photos go through the upload server first: `photos.getWallUploadServer` → `upload_url`,
//! a multipart POST of the file (field `photo`) there → `{server, photo, hash}`, then
//! `photos.saveWallPhoto` → `[{id, owner_id}]`, attached as `photo{owner_id}_{id}`. The
//! first http(s) link of the text is attached too (VK takes one link per post and shows it
//! as a snippet).
//!
//! Each part carries a `guid` made from its idempotency key (target and part), the same on
//! every attempt. VK documents `guid` on `wall.createComment` as preventing repeated
//! comments; on `wall.post` it exists but is undocumented, and no source gives a window
//! for either. So [`Idempotency::None`]: a part whose fate is unknown becomes `uncertain`
//! rather than being sent again automatically, and when the user answers `postctl resolve
//! ID --not-published`, the resend carries the same `guid` for VK to recognise.
//!
//! Metrics: `wall.getById {posts: "<owner>_<id>,…"}` for up to [`POSTS_PER_READ`] posts at
//! once gives each post's `likes`, `reposts`, `comments` (as `replies`) and `views`
//! objects' `count`; a post missing from the answer was deleted. The account: a community's
//! `groups.getById {fields: members_count}` (members, the field unconfirmed), a person's
//! `users.get {fields: followers_count}` (followers). The answer of `wall.getById` is read
//! as `{"items": […]}` or a bare list (the shape in 5.199 is unconfirmed).
//!
//! Unconfirmed facts and what this adapter assumes:
//! the text limit (16,384 characters, the figure commonly cited, counted in code points),
//! the photo size limit (50 MB, likewise), the post URL `https://vk.com/wall{owner}_{id}`,
//! and the comment URL `…?reply={comment_id}`.

use reqwest::multipart::Form;
use serde_json::Value;
use zeroize::Zeroizing;

use super::http::{Answer, api_base, classify, endpoint, host_of, media_part, not_posted};
use super::metrics::count;
use super::{
    AccountMetrics, Adapter, Capabilities, Counters, Http, Idempotency, MediaFile, Metrics, Part,
    Platform, PostMetrics, PostReading, PublishError, Published, Verified, boxed,
};
use crate::model::Account;
use crate::network::Network;
use crate::secrets::Secret;
use crate::signin::{ClientAuth, Dialect, SignIn, Tokens};
use crate::text::{Counting, Format, TextLimit, UrlScope, find_urls};

#[cfg(test)]
mod tests;

/// The API version every call names.
pub(crate) const API_VERSION: &str = "5.199";

/// The commonly cited message limit; unconfirmed.
const TEXT_LIMIT: usize = 16_384;
/// Photos and videos per post.
const MAX_MEDIA: usize = 10;
/// Unconfirmed; the commonly cited photo limit.
const MAX_PHOTO_BYTES: u64 = 50 * 1024 * 1024;

/// How many posts one `wall.getById` names (VK's documented maximum is 100).
const POSTS_PER_READ: usize = 100;

/// A wall post's counter objects (each `{"count": n}`) and postctl's names for them.
const POST_COUNTERS: &[(&str, &str)] = &[
    ("likes", "likes"),
    ("reposts", "reposts"),
    ("comments", "replies"),
    ("views", "views"),
];

/// How long VK's "too many requests per second" (error 6) asks to wait.
const PER_SECOND_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// Flood control (error 9): back off for a long time; a second refusal after this wait
/// falls past the default 30-minute retry window, and the post fails.
const FLOOD_WAIT: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// The method's daily quota (error 29): "retry tomorrow".
const QUOTA_WAIT: std::time::Duration = super::http::MAX_WAIT;

/// What VK takes: plain text with links made clickable by VK, photos
/// through the upload server, follow-ups as comments, and a `guid` whose window no source
/// gives.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: TEXT_LIMIT,
        counting: Counting::CodePoints,
    },
    format: Format::Plain,
    max_media: MAX_MEDIA,
    max_image_bytes: MAX_PHOTO_BYTES,
    threads: true,
    idempotency: Idempotency::None,
};

/// VK ID: OAuth 2.1, the authorization code with PKCE (S256, mandatory)
/// for a public client; the redirect brings a `device_id` that goes with the code
/// exchange and with every refresh. Access tokens live an hour; refresh tokens rotate.
/// The token endpoint's address (`/oauth2/auth`) is unconfirmed: it is the one VK ID's
/// documentation and SDKs use. Scopes are VK's access rights, space-separated.
const SIGN_IN: SignIn = SignIn {
    authorize_url: "https://id.vk.com/authorize",
    token_url: "https://id.vk.com/oauth2/auth",
    scopes: &["wall", "photos", "groups"],
    scope_separator: " ",
    pkce: true,
    client_auth: ClientAuth::Form,
    lifetime_unsaid: Some(std::time::Duration::from_secs(60 * 60)),
    refresh_ahead: std::time::Duration::from_secs(15 * 60),
    dialect: Dialect::VkId,
    portal: "https://id.vk.com/about/business/go",
    redirect_setting: "the app's settings, Trusted Redirect URL",
};

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    sign_in: Some(&SIGN_IN),
    capabilities: |_| DEFAULTS,
    open: Some(|account, secret, tools| boxed(Vk::new(account, secret, tools.http))),
};

pub struct Vk {
    /// The account's name: the key of its rate-limit state in [`Http`], and in messages.
    name: String,
    base: String,
    token: Secret,
    /// The wall: a user id, or minus a community's id.
    owner_id: i64,
    /// Posts and comments appear as the community's own.
    from_group: bool,
    http: Http,
    /// The account as stored, for hints that set it up again.
    stored: Account,
}

/// What a VK call failed with, before it is classified.
struct VkError {
    code: i64,
    message: String,
}

impl Vk {
    pub fn new(account: &Account, secret: Secret, http: Http) -> Result<Self, PublishError> {
        let base = api_base(account)?;
        let owner_id = account
            .settings
            .get("owner_id")
            .and_then(Value::as_i64)
            .filter(|&id| id != 0)
            .ok_or_else(|| {
                PublishError::permanent(format!(
                    "the VK account {:?} has no wall to post on; add it again with --owner-id, e.g. {}",
                    account.name,
                    Network::Vk.example_add_command()
                ))
            })?;
        let from_group = account
            .settings
            .get("from_group")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // A signed-in account keeps its token set; a community or standalone token given
        // with --token-stdin is used as it is.
        let token = match Tokens::from_secret(&secret) {
            Some(tokens) => tokens.access,
            None => secret,
        };
        Ok(Vk {
            name: account.name.clone(),
            base,
            token,
            owner_id,
            from_group: from_group && owner_id < 0,
            http,
            stored: account.clone(),
        })
    }
}

impl Adapter for Vk {
    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    /// The wall's owner as VK names it: `groups.getById` for a community, `users.get` for
    /// a person. Either fails with error 5 when the token is not valid.
    async fn verify(&self) -> Result<Verified, PublishError> {
        if self.owner_id < 0 {
            let group_id = (-self.owner_id).to_string();
            let answer = self
                .call("groups.getById", &[("group_id", group_id.as_str())], false)
                .await?;
            // 5.199 answers {"groups": [...]}; older versions a bare array.
            let group = answer
                .get("groups")
                .and_then(|g| g.get(0))
                .or_else(|| answer.get(0))
                .ok_or_else(|| unexpected("groups.getById"))?;
            let name = group.get("name").and_then(Value::as_str).unwrap_or("?");
            let screen = group
                .get("screen_name")
                .and_then(Value::as_str)
                .map_or_else(|| format!("club{group_id}"), str::to_owned);
            Ok(Verified {
                identity: format!("community {name} (vk.com/{screen})"),
            })
        } else {
            let user_id = self.owner_id.to_string();
            let answer = self
                .call("users.get", &[("user_ids", user_id.as_str())], false)
                .await?;
            let user = answer.get(0).ok_or_else(|| unexpected("users.get"))?;
            let first = user.get("first_name").and_then(Value::as_str).unwrap_or("");
            let last = user.get("last_name").and_then(Value::as_str).unwrap_or("");
            Ok(Verified {
                identity: format!("{first} {last} (vk.com/id{user_id})")
                    .trim()
                    .to_owned(),
            })
        }
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        check_media(&part.media)?;
        let mut attachments = Vec::with_capacity(part.media.len() + 1);
        for file in &part.media {
            attachments.push(self.upload_photo(file).await.map_err(not_posted)?);
        }
        let text = part.rendered.text.as_str();
        // The post shows the link as a snippet; in a comment VK links it in the text.
        if let (None, Some(link)) = (&part.root, first_link(text)) {
            attachments.push(link.to_owned());
        }
        let attachments = attachments.join(",");
        let owner = self.owner_id.to_string();
        let guid = guid(&part.idempotency_key);
        let mut params: Vec<(&str, &str)> = vec![
            ("owner_id", owner.as_str()),
            ("message", text),
            ("guid", guid.as_str()),
        ];
        if self.from_group {
            params.push(("from_group", "1"));
        }
        if !attachments.is_empty() {
            params.push(("attachments", attachments.as_str()));
        }
        match &part.root {
            None => {
                let answer = self.call("wall.post", &params, true).await?;
                let post_id = id_in(&answer, "post_id").ok_or_else(|| unexpected("wall.post"))?;
                Ok(Published {
                    id: post_id.to_string(),
                    url: Some(post_url(self.owner_id, post_id)),
                    extra: serde_json::json!({ "owner_id": self.owner_id }),
                })
            }
            Some(root) => {
                let post_id = numeric_id(&root.id)?.to_string();
                params.push(("post_id", post_id.as_str()));
                let answer = self.call("wall.createComment", &params, true).await?;
                let comment_id =
                    id_in(&answer, "comment_id").ok_or_else(|| unexpected("wall.createComment"))?;
                Ok(Published {
                    id: comment_id.to_string(),
                    url: Some(format!(
                        "{}?reply={comment_id}",
                        post_url(self.owner_id, numeric_id(&root.id)?)
                    )),
                    extra: serde_json::json!({
                        "owner_id": self.owner_id,
                        "comment_on": post_id,
                    }),
                })
            }
        }
    }

    /// `wall.delete` for a post, `wall.deleteComment` for a comment. One already gone
    /// (error 100, "invalid parameter", which VK answers for an id that names nothing)
    /// counts as deleted.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let owner = published
            .extra
            .get("owner_id")
            .and_then(Value::as_i64)
            .or_else(|| wall_of(&published.id))
            .unwrap_or(self.owner_id)
            .to_string();
        let id = numeric_id(&published.id)?.to_string();
        let is_comment = published.extra.get("comment_on").is_some();
        let (method, key) = if is_comment {
            ("wall.deleteComment", "comment_id")
        } else {
            ("wall.delete", "post_id")
        };
        match self
            .call_raw(method, &[("owner_id", owner.as_str()), (key, id.as_str())])
            .await?
        {
            Ok(_) => Ok(()),
            Err(error) if error.code == 100 => Ok(()),
            Err(error) => Err(self.classify(method, error, false)),
        }
    }

    /// One `wall.getById` per [`POSTS_PER_READ`] posts; a post VK leaves out is deleted.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        let mut readings = Vec::with_capacity(posts.len());
        for batch in posts.chunks(POSTS_PER_READ) {
            let keys = batch
                .iter()
                .map(|p| self.wall_post(p))
                .collect::<Result<Vec<_>, _>>()?;
            let named: Vec<String> = keys.iter().map(|(o, id)| format!("{o}_{id}")).collect();
            let answer = self
                .call(
                    "wall.getById",
                    &[("posts", named.join(",").as_str())],
                    false,
                )
                .await?;
            let items = answer
                .get("items")
                .unwrap_or(&answer)
                .as_array()
                .ok_or_else(|| unreadable("wall.getById"))?;
            for (owner, id) in keys {
                let item = items.iter().find(|item| {
                    id_in(item, "owner_id") == Some(owner) && id_in(item, "id") == Some(id)
                });
                readings.push(match item {
                    Some(item) => PostReading::Counted(post_counters(item)),
                    None => PostReading::Deleted,
                });
            }
        }
        Ok(Metrics::Read(readings))
    }

    /// A community's members (`groups.getById`), a person's followers (`users.get`).
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let (found, field, name) = if self.owner_id < 0 {
            let group_id = (-self.owner_id).to_string();
            let answer = self
                .call(
                    "groups.getById",
                    &[("group_id", group_id.as_str()), ("fields", "members_count")],
                    false,
                )
                .await?;
            let group = answer
                .get("groups")
                .and_then(|g| g.get(0))
                .or_else(|| answer.get(0))
                .cloned();
            (group, "members_count", "members")
        } else {
            let user_id = self.owner_id.to_string();
            let answer = self
                .call(
                    "users.get",
                    &[
                        ("user_ids", user_id.as_str()),
                        ("fields", "followers_count"),
                    ],
                    false,
                )
                .await?;
            (answer.get(0).cloned(), "followers_count", "followers")
        };
        let method = if self.owner_id < 0 {
            "groups.getById"
        } else {
            "users.get"
        };
        let found = found.ok_or_else(|| unreadable(method))?;
        let counters: Counters = count(&found[field])
            .map(|n| (name.to_string(), n))
            .into_iter()
            .collect();
        Ok(Metrics::Read(counters))
    }
}

/// A wall post's counters: each counter object's `count`, absent ones left out.
fn post_counters(item: &Value) -> Counters {
    POST_COUNTERS
        .iter()
        .filter_map(|(field, name)| count(&item[*field]["count"]).map(|n| (name.to_string(), n)))
        .collect()
}

impl Vk {
    /// The wall and id of a published post: the wall it was posted on (kept beside it, or
    /// named in a `wall{owner}_{id}` id), else the account's.
    fn wall_post(&self, published: &Published) -> Result<(i64, i64), PublishError> {
        let owner = published
            .extra
            .get("owner_id")
            .and_then(Value::as_i64)
            .or_else(|| wall_of(&published.id))
            .unwrap_or(self.owner_id);
        Ok((owner, numeric_id(&published.id)?))
    }

    /// One photo through the upload server; returns its attachment, `photo{owner}_{id}`.
    async fn upload_photo(&self, file: &MediaFile) -> Result<String, PublishError> {
        // For a community wall the photo goes to the community's album, else to the user's.
        let target = if self.owner_id < 0 {
            ("group_id", (-self.owner_id).to_string())
        } else {
            ("user_id", self.owner_id.to_string())
        };
        let server_params: Vec<(&str, &str)> = if self.owner_id < 0 {
            vec![(target.0, target.1.as_str())]
        } else {
            Vec::new()
        };
        let server = self
            .call("photos.getWallUploadServer", &server_params, false)
            .await?;
        let upload_url = server
            .get("upload_url")
            .and_then(Value::as_str)
            .ok_or_else(|| unexpected("photos.getWallUploadServer"))?;
        let url = reqwest::Url::parse(upload_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| unexpected("photos.getWallUploadServer"))?;
        let form = Form::new().part("photo", media_part(file).await?);
        let request = self.http.client().post(url.clone()).multipart(form);
        let answer = self.http.exchange(&self.name, request).await?;
        let uploaded = match answer.json() {
            Some(uploaded) if answer.is_success() => uploaded,
            _ => {
                return Err(classify(
                    answer.status,
                    format!(
                        "VK's upload server {} refused {} (HTTP {}{})",
                        host_of(&url),
                        file.file_name,
                        answer.status,
                        answer.excerpt()
                    ),
                    answer.retry_after(),
                ));
            }
        };
        if let Some(error) = uploaded.get("error").and_then(Value::as_str) {
            return Err(PublishError::permanent(format!(
                "VK's upload server refused {} ({}): use a JPEG, PNG or GIF image",
                file.file_name,
                super::http::excerpt(error)
            )));
        }
        let field = |key: &str| match uploaded.get(key) {
            Some(Value::String(s)) if !s.is_empty() && s != "[]" => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let (Some(server), Some(photo), Some(hash)) =
            (field("server"), field("photo"), field("hash"))
        else {
            return Err(PublishError::permanent(format!(
                "VK's upload server kept nothing of {} (no photo in its answer): use a JPEG, PNG or GIF image",
                file.file_name
            )));
        };
        let mut save: Vec<(&str, &str)> = vec![
            (target.0, target.1.as_str()),
            ("server", server.as_str()),
            ("photo", photo.as_str()),
            ("hash", hash.as_str()),
        ];
        if let Some(alt) = file.alt.as_deref().filter(|a| !a.is_empty()) {
            save.push(("caption", alt));
        }
        let saved = self.call("photos.saveWallPhoto", &save, false).await?;
        let saved = saved
            .get(0)
            .ok_or_else(|| unexpected("photos.saveWallPhoto"))?;
        match (id_in(saved, "owner_id"), id_in(saved, "id")) {
            (Some(owner), Some(id)) => Ok(format!("photo{owner}_{id}")),
            _ => Err(unexpected("photos.saveWallPhoto")),
        }
    }

    /// Calls `method` and returns its `response`, or the classified error. `posting` is
    /// true for the calls that create a post or a comment, where an unclear failure may
    /// have created it.
    async fn call(
        &self,
        method: &str,
        params: &[(&str, &str)],
        posting: bool,
    ) -> Result<Value, PublishError> {
        match self.call_raw(method, params).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(self.classify(method, error, posting)),
            Err(e) if posting => Err(e),
            Err(e) => Err(not_posted(e)),
        }
    }

    /// Calls `method`: the transport's error outside, VK's own error inside.
    async fn call_raw(
        &self,
        method: &str,
        params: &[(&str, &str)],
    ) -> Result<Result<Value, VkError>, PublishError> {
        let url = endpoint(&self.base, &["method", method])?;
        let token = Zeroizing::new(self.token.expose().to_owned());
        let mut form: Vec<(&str, &str)> = params.to_vec();
        form.push(("access_token", token.as_str()));
        form.push(("v", API_VERSION));
        let request = self.http.client().post(url).form(&form);
        let answer = self.http.exchange(&self.name, request).await?;
        read_answer(method, &answer)
    }

    fn classify(&self, method: &str, error: VkError, posting: bool) -> PublishError {
        let VkError { code, message } = error;
        let said = format!("VK error {code}: {message}");
        let name = &self.name;
        let add_again = crate::network::add_again_command(&self.stored);
        let retry = |message: String, wait: Option<std::time::Duration>, maybe_sent: bool| {
            PublishError::Retryable {
                message,
                retry_after: wait,
                maybe_sent,
                status: None,
            }
        };
        let permanent = |message: String| PublishError::Permanent {
            message,
            status: None,
        };
        match code {
            6 => retry(
                format!("VK: too many requests per second for account {name} ({said})"),
                Some(PER_SECOND_WAIT),
                false,
            ),
            9 => retry(
                format!(
                    "VK flood control for account {name} ({said}): too many similar posts in a short time, so postctl waits 15 minutes"
                ),
                Some(FLOOD_WAIT),
                false,
            ),
            29 => retry(
                format!(
                    "VK: account {name} reached the daily quota of {method} ({said}); it resets within a day"
                ),
                Some(QUOTA_WAIT),
                false,
            ),
            1 | 10 => retry(
                format!("VK had an internal error in {method} ({said})"),
                None,
                posting,
            ),
            5 => PublishError::Auth {
                message: format!(
                    "VK rejected the access token of account {name} ({said}): it expired or was revoked; create a new token with the wall, photos and offline rights (see `postctl accounts add --help`), then `{add_again}`"
                ),
                status: None,
            },
            14 => PublishError::NeedsPerson {
                message: format!(
                    "VK wants a captcha solved before it takes more posts from account {name} ({said}): open vk.com in a browser as that account, publish something by hand and solve the captcha, then run `postctl retry` for this post"
                ),
                status: None,
            },
            17 => PublishError::NeedsPerson {
                message: format!(
                    "VK wants the owner of account {name} to confirm it is them (validation required, {said}): sign in at vk.com in a browser and complete the check VK shows (usually a phone confirmation), then run `postctl retry` for this post"
                ),
                status: None,
            },
            15 => permanent(format!(
                "VK denied account {name} access to the wall {} ({said}): the token needs the wall right and its owner must be allowed to post there",
                self.owner_id
            )),
            203 => permanent(format!(
                "VK denied account {name} access to the community {} ({said}): the token's user must be an admin or editor of the community",
                -self.owner_id
            )),
            214 => permanent(format!(
                "VK does not let account {name} add posts to the wall {} ({said}): the wall may be closed, or the post was refused",
                self.owner_id
            )),
            219 | 224 => permanent(format!(
                "VK refused the post as advertising ({said}): too many ad posts were added recently"
            )),
            220 => permanent(format!("VK refused the post: too many recipients ({said})")),
            222 => permanent(format!(
                "VK refused the post because the community forbids links ({said}): remove the links and publish it again"
            )),
            100 => permanent(format!(
                "VK refused {method} as invalid ({said}): check the account's --owner-id ({}) and the post's text and media",
                self.owner_id
            )),
            _ => permanent(format!("VK refused {method} ({said})")),
        }
    }
}

/// The `response` of an answer, VK's `error`, or a transport-level error for an answer
/// that is neither (an HTTP error, a body that is not VK's).
fn read_answer(method: &str, answer: &Answer) -> Result<Result<Value, VkError>, PublishError> {
    let body = answer.json();
    if let Some(error) = body.as_ref().and_then(|b| b.get("error"))
        && let Some(code) = error.get("error_code").and_then(Value::as_i64)
    {
        let message = error
            .get("error_msg")
            .and_then(Value::as_str)
            .map(super::http::excerpt)
            .unwrap_or_default();
        return Ok(Err(VkError { code, message }));
    }
    if !answer.is_success() {
        return Err(classify(
            answer.status,
            format!(
                "VK answered HTTP {} to {method}{}",
                answer.status,
                answer.excerpt()
            ),
            answer.retry_after(),
        ));
    }
    match body.and_then(|mut b| b.get_mut("response").map(Value::take)) {
        Some(response) => Ok(Ok(response)),
        None => Err(unexpected(method)),
    }
}

/// `guid` for a part: its idempotency key, the same on every attempt.
fn guid(key: &str) -> String {
    format!("postctl-{key}")
}

/// The first http(s) link of the text: VK attaches one link per post.
fn first_link(text: &str) -> Option<&str> {
    find_urls(text, UrlScope::WithScheme)
        .first()
        .map(|range| &text[range.clone()])
}

fn post_url(owner_id: i64, post_id: i64) -> String {
    format!("https://vk.com/wall{owner_id}_{post_id}")
}

fn id_in(value: &Value, key: &str) -> Option<i64> {
    match value.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A stored post or comment id: a number, or `wall{owner}_{id}` (the last segment of a
/// post's link, as `postctl resolve --published URL` records it).
fn numeric_id(id: &str) -> Result<i64, PublishError> {
    let number = id
        .strip_prefix("wall")
        .and_then(|wall| wall.rsplit_once('_'))
        .map_or(id, |(_, number)| number);
    number.parse().map_err(|_| {
        PublishError::permanent(format!(
            "{id:?} is not a VK post or comment id; the part it refers to was not published to VK"
        ))
    })
}

/// The wall named in a `wall{owner}_{id}` id, if it names one.
fn wall_of(id: &str) -> Option<i64> {
    let (owner, _) = id.strip_prefix("wall")?.rsplit_once('_')?;
    owner.parse().ok()
}

/// An answer without the id it should carry: the post may exist.
fn unexpected(method: &str) -> PublishError {
    PublishError::maybe_sent(
        format!(
            "VK answered {method} without what it should return; check the wall before retrying"
        ),
        None,
    )
}

/// An answer to a read without what it should hold.
fn unreadable(method: &str) -> PublishError {
    PublishError::permanent(format!(
        "VK answered {method} without what it should return; check the account's --base-url"
    ))
}

/// Refuses, before anything is uploaded, what this adapter cannot send: VK takes up to
/// ten media, and postctl uploads photos only (videos need `video.save`, not built).
fn check_media(media: &[MediaFile]) -> Result<(), PublishError> {
    if media.len() > MAX_MEDIA {
        return Err(PublishError::permanent(format!(
            "VK takes at most {MAX_MEDIA} photos per post; this part has {}",
            media.len()
        )));
    }
    if let Some(file) = media.iter().find(|m| !m.mime.starts_with("image/")) {
        return Err(PublishError::permanent(format!(
            "postctl posts photos to VK, and {} is {}: post it another way or attach an image",
            file.file_name, file.mime
        )));
    }
    Ok(())
}
