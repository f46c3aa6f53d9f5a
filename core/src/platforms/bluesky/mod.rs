//! Bluesky, or any AT Protocol PDS, with a handle and an app password.
//!
//! The session is created once and kept in the secret store (logins are limited to 30 per
//! 5 minutes and 300 per day): an expired access token is refreshed, and only when the
//! refresh fails is a new session created. Each part is a record whose key we choose
//! ([`tid`]), the same on every retry, so the repository cannot hold the post twice.
//! Links, mentions and tags become facets; a link without images gets a card from the
//! page's Open Graph tags when the page answers quickly.

mod card;
mod session;
mod tid;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::RequestBuilder;
use serde::Serialize;
use serde_json::{Value, json};

use self::session::Session;
use super::http::{Answer, classify, not_posted, read_media};
use super::metrics::counters;
use super::{
    AccountMetrics, Adapter, Capabilities, Http, Idempotency, MediaFile, Metrics, Part, Platform,
    PostMetrics, PostReading, PublishError, Published, ServerLimits, SessionStore, Verified, boxed,
};
use crate::model::Account;
use crate::network::Network;
use crate::secrets::{Secret, SharedRedactor};
use crate::text::{Counting, FacetFeature, Format, Rendered, TextLimit};

const POST: &str = "app.bsky.feed.post";
const MAX_GRAPHEMES: usize = 300;
const MAX_IMAGES: usize = 4;
/// `app.bsky.embed.images` takes images up to 2,000,000 bytes each.
const MAX_IMAGE_BYTES: u64 = 2_000_000;

/// What Bluesky takes.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: MAX_GRAPHEMES,
        counting: Counting::Graphemes,
    },
    format: Format::Bluesky,
    max_media: MAX_IMAGES,
    max_image_bytes: MAX_IMAGE_BYTES,
    threads: true,
    // Record keys we choose: a second request can never make a second post.
    idempotency: Idempotency::Always,
};

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    sign_in: None,
    capabilities: |_| DEFAULTS,
    open: Some(|account, secret, tools| {
        let redactor = tools.redactor;
        boxed(
            Bluesky::new(account, secret, tools.http, tools.sessions)
                .map(|bsky| bsky.scrubbing_with(redactor)),
        )
    }),
};

pub struct Bluesky {
    /// The commands that set the account up again, for credential errors.
    again: String,
    /// The account's name: the key of its rate-limit state in [`Http`], of its session in
    /// the session store, and the name in messages.
    name: String,
    /// The PDS, without a trailing slash.
    pds: String,
    /// The handle or DID the account logs in with.
    identifier: String,
    app_password: Secret,
    http: Http,
    sessions: Arc<dyn SessionStore>,
    /// Scrubs the account's errors; each session's tokens are added as it comes into use.
    redactor: SharedRedactor,
    /// The session in use; replaced (never edited) when renewed, so a request can tell
    /// whether someone else renewed it meanwhile. Never locked across an await.
    session: Mutex<Option<Arc<Session>>>,
    /// Held while logging in or refreshing, so concurrent parts renew the session once.
    renewing: tokio::sync::Mutex<()>,
    cards: card::Fetcher,
}

/// The XRPC error name (`ExpiredToken`, `InvalidRequest`...) and message of an answer.
fn error_and_message(answer: &Answer) -> (String, String) {
    let body = answer.json().unwrap_or_default();
    let text = |key: &str| body[key].as_str().unwrap_or_default().to_string();
    (text("error"), text("message"))
}

/// The access token was not accepted: expired, or revoked, or from another PDS.
fn session_rejected(answer: &Answer) -> bool {
    answer.status == 401 || (answer.status == 400 && error_and_message(answer).0 == "ExpiredToken")
}

/// What a failed request was doing, for messages and for `maybe_sent`.
#[derive(Clone, Copy)]
enum Doing<'a> {
    Publishing,
    Uploading(&'a str),
    Deleting,
    CheckingSession,
    ReadingMetrics,
}

impl Doing<'_> {
    fn describe(&self) -> String {
        match self {
            Doing::Publishing => "publishing the post".into(),
            Doing::Uploading(file) => format!("uploading {file}"),
            Doing::Deleting => "deleting the post".into(),
            Doing::CheckingSession => "checking the session".into(),
            Doing::ReadingMetrics => "reading counters".into(),
        }
    }
}

#[derive(Serialize)]
struct Login<'a> {
    identifier: &'a str,
    password: &'a str,
}

impl Bluesky {
    pub fn new(
        account: &Account,
        secret: Secret,
        http: Http,
        sessions: Arc<dyn SessionStore>,
    ) -> Result<Self, PublishError> {
        let identifier = account
            .handle
            .as_deref()
            .map(|h| h.trim().trim_start_matches('@'))
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                PublishError::permanent(format!(
                    "the Bluesky account {name} has no handle: add it again with its handle: `{again}`",
                    name = account.name,
                    again = crate::network::add_again_with(account, &[("handle", "me.bsky.social")])
                ))
            })?;
        let pds = account
            .base_url
            .as_deref()
            .map(|url| url.trim().trim_end_matches('/'))
            .filter(|url| !url.is_empty())
            .or(Network::Bluesky.default_base_url())
            .unwrap_or_default();
        Ok(Bluesky {
            again: crate::network::add_again_command(account),
            name: account.name.clone(),
            pds: pds.to_string(),
            identifier: identifier.to_string(),
            app_password: secret,
            http,
            sessions,
            redactor: SharedRedactor::default(),
            session: Mutex::new(None),
            renewing: tokio::sync::Mutex::new(()),
            cards: card::Fetcher::from_env(),
        })
    }

    /// Adds each session's tokens to `redactor` (the account's) as the session comes into
    /// use, so an error that echoes them is scrubbed like one that echoes the app password.
    pub fn scrubbing_with(mut self, redactor: SharedRedactor) -> Self {
        self.redactor = redactor;
        self
    }
}

impl Adapter for Bluesky {
    /// Takes the stored session, or logs in when there is none.
    async fn prepare(&mut self) -> Result<Option<ServerLimits>, PublishError> {
        self.session().await.map(|_| None)
    }

    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    async fn verify(&self) -> Result<Verified, PublishError> {
        let (answer, session) = self
            .xrpc(|_| {
                self.http
                    .client()
                    .get(self.xrpc_url("com.atproto.server.getSession"))
            })
            .await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, Doing::CheckingSession));
        }
        let handle = answer.json().unwrap_or_default()["handle"]
            .as_str()
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| session.profile().to_string());
        Ok(Verified {
            identity: format!("@{handle}"),
        })
    }

    /// Creates the part's record under the rkey derived from its idempotency key. When the
    /// PDS refuses because that record exists (a retry of a part that went out), the
    /// existing record is the answer.
    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        let rkey = tid::from_key(&part.idempotency_key);
        let reply = reply_refs(part)?;
        // Log in before fetching anything, so bad credentials fail fast.
        self.session().await?;
        let embed = if part.media.is_empty() {
            self.link_card(&part.rendered).await
        } else {
            Some(self.images(&part.media).await?)
        };
        let mut record = json!({
            "$type": POST,
            "text": part.rendered.text,
            "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let facets = self.facets(&part.rendered).await;
        if !facets.is_empty() {
            record["facets"] = Value::Array(facets);
        }
        if let Some(reply) = reply {
            record["reply"] = reply;
        }
        if let Some(embed) = embed {
            record["embed"] = embed;
        }
        let (answer, session) = self
            .xrpc(|session| {
                self.http
                    .client()
                    .post(self.xrpc_url("com.atproto.repo.createRecord"))
                    .json(&json!({
                        "repo": session.did,
                        "collection": POST,
                        "rkey": rkey,
                        "record": record,
                    }))
            })
            .await?;
        if answer.is_success() {
            let created = answer.json().unwrap_or_default();
            let (Some(uri), Some(cid)) = (created["uri"].as_str(), created["cid"].as_str()) else {
                return Err(PublishError::maybe_sent(
                    format!(
                        "{} accepted the post but its answer had no uri or cid; it will be retried under the same record key, which cannot post it twice",
                        self.pds
                    ),
                    Some(answer.status),
                ));
            };
            return Ok(self.published(uri, cid, &session, &rkey));
        }
        // The PDS has no dedicated error for an rkey that is taken (unconfirmed): it may
        // answer 400 or 500. Whether the record is there says it.
        if matches!(answer.status, 400 | 409 | 500..=599) {
            match self.existing(&session.did, &rkey).await {
                Ok(Some((uri, cid))) => return Ok(self.published(&uri, &cid, &session, &rkey)),
                // Not there: the create's own answer says why.
                Ok(None) => {}
                // Unknown: a retry is safe (the same rkey cannot make a second post), and a
                // permanent failure here could hide a post that went out.
                Err(unknown) => return Err(unknown),
            }
        }
        Err(self.failure(&answer, Doing::Publishing))
    }

    /// Deletes the record named by the at:// URI. An absent record is no error (the PDS
    /// answers success), so deleting twice is fine.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let (repo, collection, rkey) = parse_at_uri(&published.id).ok_or_else(|| {
            PublishError::permanent(format!(
                "{:?} is not an at:// post address, so postctl cannot delete it; delete the post in the Bluesky app",
                published.id
            ))
        })?;
        let (answer, _) = self
            .xrpc(|_| {
                self.http
                    .client()
                    .post(self.xrpc_url("com.atproto.repo.deleteRecord"))
                    .json(&json!({ "repo": repo, "collection": collection, "rkey": rkey }))
            })
            .await?;
        if answer.is_success() {
            Ok(())
        } else {
            Err(self.failure(&answer, Doing::Deleting))
        }
    }
    /// One `app.bsky.feed.getPosts` for the whole batch (through the PDS, which passes it
    /// to the AppView): likes, reposts, replies, quotes, bookmarks. A URI missing from the
    /// answer is deleted when the PDS no longer has its record, and not indexed yet when it
    /// does (one `getRecord` each). No views: Bluesky has none.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        if posts.is_empty() {
            return Ok(Metrics::Read(Vec::new()));
        }
        let query: Vec<(&str, &str)> = posts.iter().map(|p| ("uris", p.id.as_str())).collect();
        let (answer, _) = self
            .xrpc(|_| {
                self.http
                    .client()
                    .get(self.xrpc_url("app.bsky.feed.getPosts"))
                    .query(&query)
            })
            .await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, Doing::ReadingMetrics));
        }
        let found = answer.json().unwrap_or_default();
        let views = found["posts"].as_array().cloned().unwrap_or_default();
        let mut readings = Vec::with_capacity(posts.len());
        for post in posts {
            let view = views
                .iter()
                .find(|view| view["uri"].as_str() == Some(post.id.as_str()));
            readings.push(match view {
                Some(view) => PostReading::Counted(counters(view, POST_COUNTERS)),
                None => self.missing_from_appview(&post.id).await?,
            });
        }
        Ok(Metrics::Read(readings))
    }

    /// `app.bsky.actor.getProfile` of the account's DID: followers, follows, posts.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let (answer, _) = self
            .xrpc(|session| {
                self.http
                    .client()
                    .get(self.xrpc_url("app.bsky.actor.getProfile"))
                    .query(&[("actor", session.did.as_str())])
            })
            .await?;
        if !answer.is_success() {
            return Err(self.failure(&answer, Doing::ReadingMetrics));
        }
        let profile = answer.json().unwrap_or_default();
        Ok(Metrics::Read(counters(&profile, PROFILE_COUNTERS)))
    }
}

/// A postView's counters and postctl's names for them.
const POST_COUNTERS: &[(&str, &str)] = &[
    ("likeCount", "likes"),
    ("repostCount", "reposts"),
    ("replyCount", "replies"),
    ("quoteCount", "quotes"),
    ("bookmarkCount", "bookmarks"),
];

/// A profile's counters and postctl's names for them.
const PROFILE_COUNTERS: &[(&str, &str)] = &[
    ("followersCount", "followers"),
    ("followsCount", "following"),
    ("postsCount", "posts"),
];

impl Bluesky {
    fn published(&self, uri: &str, cid: &str, session: &Session, rkey: &str) -> Published {
        let rkey = uri
            .rsplit('/')
            .next()
            .filter(|r| !r.is_empty())
            .unwrap_or(rkey);
        Published {
            id: uri.to_string(),
            url: Some(format!(
                "https://bsky.app/profile/{}/post/{rkey}",
                session.profile()
            )),
            extra: json!({ "cid": cid }),
        }
    }

    /// The record at `rkey` in the account's posts: `Some` when it is there, `None` when the
    /// PDS says it is not, and a retryable error when the PDS could not say (a failed
    /// connection, a 5xx, a rate limit).
    async fn existing(
        &self,
        did: &str,
        rkey: &str,
    ) -> Result<Option<(String, String)>, PublishError> {
        let could_not_check = |why: String| {
            PublishError::maybe_sent(
                format!(
                    "Bluesky refused the post, and postctl could not check whether an earlier attempt had made it ({why}); it will check again"
                ),
                None,
            )
        };
        let (answer, _) = self
            .xrpc(|_| {
                self.http
                    .client()
                    .get(self.xrpc_url("com.atproto.repo.getRecord"))
                    .query(&[("repo", did), ("collection", POST), ("rkey", rkey)])
            })
            .await
            .map_err(|e| could_not_check(e.to_string()))?;
        if answer.status == 429 || answer.status >= 500 {
            return Err(could_not_check(format!(
                "getRecord answered {}",
                answer.status
            )));
        }
        if !answer.is_success() {
            return Ok(None);
        }
        let record = answer.json().unwrap_or_default();
        Ok(record["uri"]
            .as_str()
            .zip(record["cid"].as_str())
            .map(|(uri, cid)| (uri.to_string(), cid.to_string())))
    }

    /// A post `getPosts` left out: deleted when the PDS (which holds the record) no
    /// longer has it, else not indexed by the AppView yet.
    async fn missing_from_appview(&self, uri: &str) -> Result<PostReading, PublishError> {
        let Some((repo, _, rkey)) = parse_at_uri(uri) else {
            return Ok(PostReading::Deleted);
        };
        let (answer, _) = self
            .xrpc(|_| {
                self.http
                    .client()
                    .get(self.xrpc_url("com.atproto.repo.getRecord"))
                    .query(&[("repo", repo), ("collection", POST), ("rkey", rkey)])
            })
            .await?;
        if answer.is_success() {
            Ok(PostReading::Pending)
        } else if answer.status == 400 || answer.status == 404 {
            // RecordNotFound (400 from the PDS), or a repo that is gone.
            Ok(PostReading::Deleted)
        } else {
            Err(self.failure(&answer, Doing::ReadingMetrics))
        }
    }

    /// Uploads the images and describes them for `app.bsky.embed.images`.
    async fn images(&self, media: &[MediaFile]) -> Result<Value, PublishError> {
        if media.len() > MAX_IMAGES {
            return Err(PublishError::permanent(format!(
                "a Bluesky post takes at most {MAX_IMAGES} images and this part has {}: remove some or spread them over a thread",
                media.len()
            )));
        }
        let mut images = Vec::with_capacity(media.len());
        for file in media {
            if !file.mime.starts_with("image/") {
                return Err(PublishError::permanent(format!(
                    "{} is {}, and postctl posts only images to Bluesky: attach an image instead",
                    file.file_name, file.mime
                )));
            }
            if file.size > MAX_IMAGE_BYTES {
                return Err(PublishError::permanent(format!(
                    "{} is {} bytes, over Bluesky's limit of {MAX_IMAGE_BYTES} bytes per image: use a smaller image",
                    file.file_name, file.size
                )));
            }
            let bytes = read_media(file).await?;
            let blob = self
                .upload_blob(bytes, &file.mime, Doing::Uploading(&file.file_name))
                .await?;
            let mut image = json!({ "image": blob, "alt": file.alt.as_deref().unwrap_or("") });
            if let (Some(width), Some(height)) = (file.width, file.height)
                && width > 0
                && height > 0
            {
                image["aspectRatio"] = json!({ "width": width, "height": height });
            }
            images.push(image);
        }
        Ok(json!({ "$type": "app.bsky.embed.images", "images": images }))
    }

    /// Uploads a blob and returns the blob reference the PDS gives for it.
    async fn upload_blob(
        &self,
        bytes: Vec<u8>,
        mime: &str,
        doing: Doing<'_>,
    ) -> Result<Value, PublishError> {
        let (answer, _) = self
            .xrpc(|_| {
                self.http
                    .client()
                    .post(self.xrpc_url("com.atproto.repo.uploadBlob"))
                    .header(reqwest::header::CONTENT_TYPE, mime)
                    .body(bytes.clone())
            })
            .await
            .map_err(not_posted)?;
        if !answer.is_success() {
            return Err(not_posted(self.failure(&answer, doing)));
        }
        let blob = answer.json().unwrap_or_default()["blob"].clone();
        if !blob.is_object() {
            return Err(PublishError::Retryable {
                message: format!(
                    "{} answered {} without a blob; it will be uploaded again",
                    self.pds,
                    doing.describe()
                ),
                retry_after: None,
                maybe_sent: false,
                status: Some(answer.status),
            });
        }
        Ok(blob)
    }

    /// The rendered facets as `app.bsky.richtext.facet`s. A mention whose handle does not
    /// resolve to a DID stays plain text; a facet whose range is not in the text is dropped.
    async fn facets(&self, rendered: &Rendered) -> Vec<Value> {
        let text = &rendered.text;
        let mut dids: HashMap<String, Option<String>> = HashMap::new();
        let mut facets = Vec::with_capacity(rendered.facets.len());
        for facet in &rendered.facets {
            let (start, end) = (facet.byte_start, facet.byte_end);
            if start >= end || text.get(start..end).is_none() {
                continue;
            }
            let feature = match &facet.feature {
                FacetFeature::Link { uri } => {
                    json!({ "$type": "app.bsky.richtext.facet#link", "uri": uri })
                }
                FacetFeature::Mention { handle } => {
                    let handle = handle.trim_start_matches('@').to_ascii_lowercase();
                    let did = match dids.get(&handle) {
                        Some(did) => did.clone(),
                        None => {
                            let did = self.resolve_handle(&handle).await;
                            dids.insert(handle, did.clone());
                            did
                        }
                    };
                    let Some(did) = did else { continue };
                    json!({ "$type": "app.bsky.richtext.facet#mention", "did": did })
                }
                FacetFeature::Tag { tag } => {
                    let tag = tag.trim_start_matches(['#', '＃']);
                    if tag.is_empty() {
                        continue;
                    }
                    json!({ "$type": "app.bsky.richtext.facet#tag", "tag": tag })
                }
            };
            facets.push(json!({
                "index": { "byteStart": start, "byteEnd": end },
                "features": [feature],
            }));
        }
        facets
    }

    /// The DID of a handle, or `None` when it does not resolve (or the PDS cannot say).
    async fn resolve_handle(&self, handle: &str) -> Option<String> {
        if handle.starts_with("did:") {
            return Some(handle.to_string());
        }
        let request = self
            .http
            .client()
            .get(self.xrpc_url("com.atproto.identity.resolveHandle"))
            .query(&[("handle", handle)]);
        let answer = self.exchange(request).await.ok()?;
        if !answer.is_success() {
            return None;
        }
        answer.json()?["did"]
            .as_str()
            .filter(|did| did.starts_with("did:"))
            .map(str::to_string)
    }

    /// A card for the first link of a post without images, from the page's Open Graph
    /// tags; `None` whenever anything on the way fails.
    async fn link_card(&self, rendered: &Rendered) -> Option<Value> {
        let uri = rendered
            .facets
            .iter()
            .find_map(|facet| match &facet.feature {
                FacetFeature::Link { uri } => Some(uri.as_str()),
                _ => None,
            })?;
        let og = self.cards.page(uri).await?;
        let mut external = json!({
            "uri": uri,
            "title": og.title.unwrap_or_default(),
            "description": og.description.unwrap_or_default(),
        });
        if let Some(image) = og.image {
            let max = MAX_IMAGE_BYTES as usize;
            if let Some(thumb) = self.cards.thumb(&image, max).await {
                let doing = Doing::Uploading("the link card's image");
                if let Ok(blob) = self.upload_blob(thumb.bytes, &thumb.mime, doing).await {
                    external["thumb"] = blob;
                }
            }
        }
        Some(json!({ "$type": "app.bsky.embed.external", "external": external }))
    }

    fn xrpc_url(&self, method: &str) -> String {
        format!("{}/xrpc/{method}", self.pds)
    }

    /// Sends an authenticated request built by `build` (called again after renewing the
    /// session when the PDS did not accept the access token). Returns the answer and the
    /// session it was sent with.
    async fn xrpc(
        &self,
        build: impl Fn(&Session) -> RequestBuilder,
    ) -> Result<(Answer, Arc<Session>), PublishError> {
        let session = self.session().await?;
        let answer = self.exchange(authorized(build(&session), &session)).await?;
        if !session_rejected(&answer) {
            return Ok((answer, session));
        }
        let session = self.renew(&session).await?;
        let answer = self.exchange(authorized(build(&session), &session)).await?;
        if session_rejected(&answer) {
            return Err(self.session_refused(&answer));
        }
        Ok((answer, session))
    }

    async fn exchange(&self, request: RequestBuilder) -> Result<Answer, PublishError> {
        self.http.exchange(&self.name, request).await
    }

    fn current(&self) -> Option<Arc<Session>> {
        self.session.lock().ok().and_then(|s| s.clone())
    }

    /// Makes `session` the one in use.
    fn adopt(&self, session: Session) -> Arc<Session> {
        self.redactor.add(session.access.expose());
        self.redactor.add(session.refresh.expose());
        let session = Arc::new(session);
        if let Ok(mut current) = self.session.lock() {
            *current = Some(Arc::clone(&session));
        }
        session
    }

    /// Makes a new `session` the one in use, and stores it for the next runs.
    fn keep(&self, session: Session) -> Arc<Session> {
        self.sessions.save(&self.name, &session.to_secret());
        self.adopt(session)
    }

    /// The session in use: the one in memory, else the stored one, else a new login.
    async fn session(&self) -> Result<Arc<Session>, PublishError> {
        if let Some(session) = self.current() {
            return Ok(session);
        }
        let _renewing = self.renewing.lock().await;
        if let Some(session) = self.current() {
            return Ok(session);
        }
        let stored = self
            .sessions
            .load(&self.name)
            .and_then(|secret| Session::from_json(secret.expose().as_bytes()))
            .filter(|session| session.belongs_to(&self.identifier));
        if let Some(session) = stored {
            return Ok(self.adopt(session));
        }
        let session = self.create_session().await?;
        Ok(self.keep(session))
    }

    /// A session to use instead of `rejected`: refreshed, or when the refresh token is no
    /// good either, a new login. If another request renewed it meanwhile, that one.
    async fn renew(&self, rejected: &Arc<Session>) -> Result<Arc<Session>, PublishError> {
        let _renewing = self.renewing.lock().await;
        if let Some(current) = self.current()
            && !Arc::ptr_eq(&current, rejected)
        {
            return Ok(current);
        }
        let session = match self.refresh_session(rejected).await {
            Ok(session) => session,
            Err(error @ PublishError::Retryable { .. }) => return Err(error),
            Err(_) => self.create_session().await?,
        };
        Ok(self.keep(session))
    }

    async fn create_session(&self) -> Result<Session, PublishError> {
        let login = Login {
            identifier: &self.identifier,
            password: self.app_password.expose(),
        };
        let request = self
            .http
            .client()
            .post(self.xrpc_url("com.atproto.server.createSession"))
            .json(&login);
        let answer = self.exchange(request).await.map_err(not_posted)?;
        if answer.is_success() {
            return Session::from_json(&answer.body).ok_or_else(|| self.unreadable_session());
        }
        let (error, said) = error_and_message(&answer);
        let said = detail(answer.status, &error, &said);
        let name = &self.name;
        let identifier = &self.identifier;
        let wait = answer.retry_after();
        Err(match answer.status {
            401 => PublishError::Auth {
                message: format!(
                    "{pds} rejected the handle or app password of account {name} ({said}): create an app password in Bluesky (Settings → Privacy and security → App passwords), then run `{again}`",
                    pds = self.pds,
                    again = self.again
                ),
                status: Some(401),
            },
            400 if error == "AccountTakedown" => PublishError::Permanent {
                message: format!(
                    "{} says account {name} ({identifier}) is taken down ({said}): it cannot post; contact Bluesky moderation",
                    self.pds
                ),
                status: Some(400),
            },
            429 => PublishError::Retryable {
                message: format!(
                    "{} refused to log account {name} in again for now ({said}): logins are limited to 30 per 5 minutes and 300 per day; it will be retried when the limit resets",
                    self.pds
                ),
                retry_after: wait,
                maybe_sent: false,
                status: Some(429),
            },
            status => not_posted(classify(
                status,
                format!(
                    "{} could not log account {name} in ({said}); check the --pds address ({}) and the handle {identifier}",
                    self.pds, self.pds
                ),
                wait,
            )),
        })
    }

    async fn refresh_session(&self, stale: &Session) -> Result<Session, PublishError> {
        let request = self
            .http
            .client()
            .post(self.xrpc_url("com.atproto.server.refreshSession"))
            .bearer_auth(stale.refresh.expose());
        let answer = self.exchange(request).await.map_err(not_posted)?;
        if answer.is_success() {
            return Session::from_json(&answer.body).ok_or_else(|| self.unreadable_session());
        }
        let (error, said) = error_and_message(&answer);
        let said = detail(answer.status, &error, &said);
        let wait = answer.retry_after();
        Err(not_posted(classify(
            answer.status,
            format!("{} did not refresh the session ({said})", self.pds),
            wait,
        )))
    }

    fn unreadable_session(&self) -> PublishError {
        PublishError::Retryable {
            message: format!(
                "{} answered the login without a usable session; check the --pds address of account {}",
                self.pds, self.name
            ),
            retry_after: None,
            maybe_sent: false,
            status: None,
        }
    }

    /// A new session whose token was refused too.
    fn session_refused(&self, answer: &Answer) -> PublishError {
        let (error, said) = error_and_message(answer);
        let said = detail(answer.status, &error, &said);
        PublishError::Auth {
            message: format!(
                "{} did not accept a new session of account {name} ({said}): create a new app password, then run `{}`",
                self.pds,
                self.again,
                name = self.name
            ),
            status: Some(answer.status),
        }
    }

    /// An XRPC error answer as a classified error whose message says what to do.
    fn failure(&self, answer: &Answer, doing: Doing<'_>) -> PublishError {
        let (error, said) = error_and_message(answer);
        let status = answer.status;
        let detail = detail(status, &error, &said);
        let what = doing.describe();
        let pds = &self.pds;
        let wait = answer.retry_after();
        let message = match (status, error.as_str()) {
            (401, _) | (400, "ExpiredToken") => return self.session_refused(answer),
            (400, "AccountTakedown") => {
                return PublishError::Permanent {
                    message: format!(
                        "{pds} says account {} is taken down ({detail}) while {what}: it cannot post; contact Bluesky moderation",
                        self.name
                    ),
                    status: Some(status),
                };
            }
            (400, "InvalidSwap") => {
                return PublishError::Retryable {
                    message: format!(
                        "{pds} answered {detail} while {what}: the repository changed meanwhile; it will be retried"
                    ),
                    retry_after: None,
                    maybe_sent: false,
                    status: Some(status),
                };
            }
            (400, _) => format!(
                "{pds} refused {what} ({detail}): change the post (text, images or alt text) and publish it again"
            ),
            (413, _) => format!(
                "{pds} refused the file as too large ({detail}) while {what}: Bluesky takes images up to {MAX_IMAGE_BYTES} bytes"
            ),
            (429, _) => format!(
                "{pds} rate limit reached for account {} ({detail}) while {what}; it will be retried when the limit resets",
                self.name
            ),
            (500..=599, _) if matches!(doing, Doing::Publishing) => format!(
                "{pds} failed ({detail}) while {what}; it will be retried under the same record key, which cannot post it twice"
            ),
            (500..=599, _) => format!("{pds} failed ({detail}) while {what}; it will be retried"),
            _ => format!("{pds} answered {detail} while {what}"),
        };
        classify(status, message, wait)
    }
}

fn authorized(request: RequestBuilder, session: &Session) -> RequestBuilder {
    request.bearer_auth(session.access.expose())
}

/// "401 ExpiredToken: Token has expired", as much as the answer says.
fn detail(status: u16, error: &str, message: &str) -> String {
    let message: String = message.chars().take(300).collect();
    match (error.is_empty(), message.is_empty()) {
        (true, true) => status.to_string(),
        (false, true) => format!("{status} {error}"),
        (true, false) => format!("{status}: {message}"),
        (false, false) => format!("{status} {error}: {message}"),
    }
}

/// `record.reply` for a part that continues a thread: `root` is the thread's first post,
/// `parent` the previous part; each needs the cid stored when it was published.
fn reply_refs(part: &Part) -> Result<Option<Value>, PublishError> {
    let Some(parent) = &part.reply_to else {
        return Ok(None);
    };
    let root = part.root.as_ref().unwrap_or(parent);
    Ok(Some(
        json!({ "root": strong_ref(root)?, "parent": strong_ref(parent)? }),
    ))
}

fn strong_ref(post: &Published) -> Result<Value, PublishError> {
    let cid = post.extra["cid"]
        .as_str()
        .filter(|cid| !cid.is_empty())
        .ok_or_else(|| {
            PublishError::permanent(format!(
                "the earlier post {} was recorded without its cid, which Bluesky needs to reply to it: delete the thread's posts on Bluesky and publish the thread again",
                post.id
            ))
        })?;
    if !post.id.starts_with("at://") {
        return Err(PublishError::permanent(format!(
            "the earlier post {:?} is not an at:// address, so this part cannot reply to it: publish the thread again",
            post.id
        )));
    }
    Ok(json!({ "uri": post.id, "cid": cid }))
}

/// `at://REPO/COLLECTION/RKEY` into its parts.
fn parse_at_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let mut parts = uri.strip_prefix("at://")?.split('/');
    let repo = parts.next().filter(|s| !s.is_empty())?;
    let collection = parts.next().filter(|s| !s.is_empty())?;
    let rkey = parts.next().filter(|s| !s.is_empty())?;
    parts.next().is_none().then_some((repo, collection, rkey))
}
