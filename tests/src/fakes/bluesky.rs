//! A Bluesky PDS: app-password sessions (createSession counted and rate
//! limited, refreshSession, expiring access tokens), createRecord with client-chosen TID
//! rkeys and the app.bsky.feed.post lexicon checks, uploadBlob, getRecord, deleteRecord,
//! resolveHandle, and `RateLimit-*` headers on every answer.
//!
//! A createRecord on an rkey that already holds a record answers, by default, what
//! deployed PDSes answer today: 500 `InternalServerError` (the MST's plain error; atproto
//! issue #3718, indigo #873). atproto PR #4728 proposes an explicit 400 error instead;
//! [`DuplicateRkey::InvalidRequest`] gives that shape. Either way nothing is duplicated,
//! and a client learns the truth from getRecord.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use serde_json::{Map, Value, json};
use unicode_segmentation::UnicodeSegmentation;

use super::chaos::ErrorStyle;
use super::growth::{
    LIKES_PER_HOUR, QUOTES_PER_HOUR, REPLIES_PER_HOUR, REPOSTS_PER_HOUR, followers, grown,
};
use super::quota::{Quota, QuotaState, RateLimit};
use super::server::BoundPort;
use super::wire;
use super::{ReceivedMedia, ReceivedPost, Running, lock};

const POST: &str = "app.bsky.feed.post";

/// What createRecord answers when the rkey already holds a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateRkey {
    /// 500 `{"error":"InternalServerError","message":"Internal Server Error"}`: what
    /// deployed PDSes answer.
    InternalServerError,
    /// 400 `{"error":"InvalidRequest","message":"Record already exists at <uri>"}`: the
    /// shape an explicit error would have.
    InvalidRequest,
}

/// The account, its limits and the PDS's behaviour.
#[derive(Clone, Debug)]
pub struct BlueskyConfig {
    pub handle: String,
    pub did: String,
    pub email: String,
    /// The app password createSession accepts.
    pub password: String,
    /// Access tokens expire after this (PDS default 2 h); then 400 `ExpiredToken`.
    pub access_ttl: Duration,
    /// createSession calls allowed per identifier (30 per 5 minutes on Bluesky).
    pub session_limit: RateLimit,
    /// app.bsky.feed.post text limits: graphemes and UTF-8 bytes.
    pub max_graphemes: usize,
    pub max_text_bytes: usize,
    /// embed.images blob limit, bytes.
    pub max_image_bytes: usize,
    /// Any uploadBlob body, bytes (the PDS cap).
    pub max_blob_bytes: usize,
    pub duplicate_rkey: DuplicateRkey,
    /// Other handles resolveHandle knows, handle → DID.
    pub handles: HashMap<String, String>,
    /// Hours (of [`FakeBluesky::set_hour`]) before `getPosts` knows a new post: the AppView
    /// indexes posts after the PDS stores them.
    pub index_delay_hours: u64,
}

impl Default for BlueskyConfig {
    fn default() -> BlueskyConfig {
        BlueskyConfig {
            handle: FakeBluesky::HANDLE.into(),
            did: FakeBluesky::DID.into(),
            email: "me@example.org".into(),
            password: FakeBluesky::PASSWORD.into(),
            access_ttl: Duration::from_secs(2 * 3600),
            session_limit: RateLimit::new(30, Duration::from_secs(300)),
            max_graphemes: 300,
            max_text_bytes: 3000,
            max_image_bytes: 2_000_000,
            max_blob_bytes: 52_428_800,
            duplicate_rkey: DuplicateRkey::InternalServerError,
            handles: HashMap::from([(
                "alice.example.org".to_string(),
                "did:plc:alicealicealicealice2345".to_string(),
            )]),
            index_delay_hours: 0,
        }
    }
}

/// A fake PDS; stops when dropped.
pub struct FakeBluesky {
    running: Running,
    shared: Arc<Mutex<Pds>>,
}

impl FakeBluesky {
    pub const HANDLE: &'static str = "me.bsky.social";
    pub const DID: &'static str = "did:plc:fakepostctlaccount2345aa";
    pub const PASSWORD: &'static str = "bsky-app-password";

    pub fn start() -> FakeBluesky {
        FakeBluesky::start_with(BlueskyConfig::default())
    }

    pub fn start_with(config: BlueskyConfig) -> FakeBluesky {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Pds {
            session_quota: Quota::new(config.session_limit),
            config,
            access_tokens: HashMap::new(),
            refresh_tokens: HashSet::new(),
            session_creates: 0,
            session_refreshes: 0,
            records: Vec::new(),
            blobs: HashMap::new(),
            last_tid: 0,
            token_serial: 0,
            hour: 0,
        }));
        let router = Router::new()
            .route("/xrpc/{method}", any(xrpc))
            .fallback(|| async { xrpc_error(StatusCode::NOT_FOUND, "NotFound", "Not Found") })
            .with_state(shared.clone());
        let running = Running::start("bluesky", port, router, Arc::new(BlueskyErrors));
        FakeBluesky { running, shared }
    }

    /// Moves the PDS's clock to `hour`: posts gain likes, reposts, replies and quotes by
    /// their age in hours, the account followers (see [`super::growth`]).
    pub fn set_hour(&self, hour: u64) {
        lock(&self.shared).hour = hour;
    }

    /// Deletes a record as its author would in the app: gone from the PDS and the AppView.
    pub fn delete_on_network(&self, uri: &str) {
        let mut pds = lock(&self.shared);
        if let Some(record) = pds.records.iter_mut().find(|r| r.uri == uri) {
            record.deleted = true;
        }
    }

    pub fn configure(&self, change: impl FnOnce(&mut BlueskyConfig)) {
        let mut pds = lock(&self.shared);
        change(&mut pds.config);
        let limit = pds.config.session_limit;
        pds.session_quota.set_limit(limit);
    }

    /// Enforces `limit` per access token on every request (Bluesky: 3,000 per 5 minutes
    /// per IP).
    pub fn set_rate_limit(&self, limit: RateLimit) {
        self.running.set_rate_limit(limit);
    }

    /// createSession calls so far, refused ones included: a client must reuse sessions.
    pub fn session_creates(&self) -> u64 {
        lock(&self.shared).session_creates
    }

    /// refreshSession calls so far.
    pub fn session_refreshes(&self) -> u64 {
        lock(&self.shared).session_refreshes
    }

    /// Makes every access token issued so far expired: the next use gets 400
    /// `ExpiredToken`, and the client must refresh.
    pub fn expire_access_tokens(&self) {
        for token in lock(&self.shared).access_tokens.values_mut() {
            token.expired = true;
        }
    }

    /// Revokes every session, as deleting the app password they were made with does:
    /// their access and refresh tokens are refused from now on.
    pub fn revoke_sessions(&self) {
        let mut pds = lock(&self.shared);
        pds.access_tokens.clear();
        pds.refresh_tokens.clear();
    }

    /// Every app.bsky.feed.post record created, in order, deleted ones included.
    pub fn posts(&self) -> Vec<ReceivedPost> {
        let pds = lock(&self.shared);
        pds.records
            .iter()
            .filter(|r| r.collection == POST)
            .map(|r| ReceivedPost {
                id: r.uri.clone(),
                channel: pds.config.did.clone(),
                text: r.value["text"].as_str().unwrap_or_default().to_string(),
                formatted: None,
                reply_to: r.value["reply"]["parent"]["uri"]
                    .as_str()
                    .map(str::to_string),
                media: pds.embedded_images(&r.value),
                idempotency_key: r.client_rkey.then(|| r.rkey.clone()),
                auth: Some(r.auth.clone()),
                deleted: r.deleted,
                url: None,
                raw: r.raw.clone(),
            })
            .collect()
    }

    /// Every blob uploaded.
    pub fn blobs(&self) -> Vec<ReceivedMedia> {
        lock(&self.shared)
            .blobs
            .iter()
            .map(|(cid, blob)| ReceivedMedia {
                id: cid.clone(),
                mime: blob.mime.clone(),
                size: blob.size,
                alt: None,
                file_name: None,
            })
            .collect()
    }
}

fake_server!(FakeBluesky);

struct Pds {
    config: BlueskyConfig,
    access_tokens: HashMap<String, AccessToken>,
    refresh_tokens: HashSet<String>,
    session_quota: Quota,
    session_creates: u64,
    session_refreshes: u64,
    records: Vec<Record>,
    blobs: HashMap<String, Blob>,
    last_tid: u64,
    token_serial: u64,
    /// The clock engagement grows by ([`FakeBluesky::set_hour`]).
    hour: u64,
}

struct AccessToken {
    issued: Instant,
    expired: bool,
}

struct Record {
    collection: String,
    rkey: String,
    uri: String,
    cid: String,
    value: Value,
    client_rkey: bool,
    auth: String,
    deleted: bool,
    raw: Value,
    /// The PDS's hour when it was made.
    born_hour: u64,
}

struct Blob {
    mime: String,
    size: usize,
}

type Answer = Result<Response, Response>;

fn xrpc_error(status: StatusCode, error: &str, message: &str) -> Response {
    wire::json(status, json!({ "error": error, "message": message }))
}

fn invalid(message: &str) -> Response {
    xrpc_error(StatusCode::BAD_REQUEST, "InvalidRequest", message)
}

fn ok(body: Value) -> Answer {
    Ok(wire::json(StatusCode::OK, body))
}

impl Pds {
    /// A fresh TID: microseconds since the epoch and a clock id, strictly increasing,
    /// written in base32-sortable.
    fn next_tid(&mut self) -> String {
        let now = wire::unix_millis() * 1000;
        let candidate = now << 10;
        self.last_tid = candidate.max(self.last_tid + 1);
        tid_string(self.last_tid)
    }

    fn jwt(&mut self, scope: &str, ttl: Duration) -> String {
        self.token_serial += 1;
        let iat = wire::unix_millis() / 1000;
        let header = json!({"typ": "at+jwt", "alg": "ES256K"});
        let payload = json!({
            "scope": scope,
            "sub": self.config.did,
            "aud": "did:web:fake.pds",
            "iat": iat,
            "exp": iat + ttl.as_secs(),
            "jti": format!("fake-{}", self.token_serial),
        });
        let signing_input = format!(
            "{}.{}",
            wire::base64url(header.to_string().as_bytes()),
            wire::base64url(payload.to_string().as_bytes())
        );
        // Not a real signature; clients must treat the token as opaque or decode only.
        let signature = wire::base64url(&wire::sha256(signing_input.as_bytes()));
        format!("{signing_input}.{signature}")
    }

    fn issue_session(&mut self) -> Value {
        let access = self.jwt("com.atproto.appPass", self.config.access_ttl);
        let refresh = self.jwt("com.atproto.refresh", Duration::from_secs(90 * 86_400));
        self.access_tokens.insert(
            access.clone(),
            AccessToken {
                issued: Instant::now(),
                expired: false,
            },
        );
        self.refresh_tokens.insert(refresh.clone());
        json!({
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": self.config.handle,
            "did": self.config.did,
            "email": self.config.email,
            "emailConfirmed": true,
            "active": true,
        })
    }

    /// The Authorization header of a valid access token, or the PDS's auth error.
    fn authenticate(&self, headers: &HeaderMap) -> Result<String, Response> {
        let Some(token) = wire::auth_token(headers, "Bearer") else {
            return Err(xrpc_error(
                StatusCode::UNAUTHORIZED,
                "AuthenticationRequired",
                "Authentication Required",
            ));
        };
        if self.refresh_tokens.contains(&token) {
            return Err(invalid_token("Bad token scope"));
        }
        match self.access_tokens.get(&token) {
            Some(t) if t.expired || t.issued.elapsed() >= self.config.access_ttl => Err(
                xrpc_error(StatusCode::BAD_REQUEST, "ExpiredToken", "Token has expired"),
            ),
            Some(_) => Ok(wire::authorization(headers).unwrap_or_default()),
            None => Err(invalid_token("Token could not be verified")),
        }
    }

    fn is_me(&self, repo: &str) -> bool {
        repo == self.config.did || repo.eq_ignore_ascii_case(&self.config.handle)
    }

    fn live_record(&self, collection: &str, rkey: &str) -> Option<&Record> {
        self.records
            .iter()
            .find(|r| r.collection == collection && r.rkey == rkey && !r.deleted)
    }

    fn embedded_images(&self, record: &Value) -> Vec<ReceivedMedia> {
        let embed = &record["embed"];
        let images = match embed["$type"].as_str() {
            Some("app.bsky.embed.images") => &embed["images"],
            Some("app.bsky.embed.recordWithMedia") => &embed["media"]["images"],
            _ => &Value::Null,
        };
        images
            .as_array()
            .map(|images| {
                images
                    .iter()
                    .map(|image| {
                        let cid = image["image"]["ref"]["$link"].as_str().unwrap_or_default();
                        let blob = self.blobs.get(cid);
                        ReceivedMedia {
                            id: cid.to_string(),
                            mime: blob.map(|b| b.mime.clone()).unwrap_or_default(),
                            size: blob.map_or(0, |b| b.size),
                            alt: image["alt"].as_str().map(str::to_string),
                            file_name: None,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn invalid_token(message: &str) -> Response {
    xrpc_error(StatusCode::UNAUTHORIZED, "InvalidToken", message)
}

/// Writes a TID's 64 bits as 13 base32-sortable characters.
fn tid_string(value: u64) -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    (0..13)
        .rev()
        .map(|i| char::from(ALPHABET[((value >> (i * 5)) & 0x1f) as usize]))
        .collect()
}

/// TID syntax: 13 base32-sortable characters, the first of which keeps the top bit 0.
fn is_tid(rkey: &str) -> bool {
    const ALPHABET: &str = "234567abcdefghijklmnopqrstuvwxyz";
    rkey.len() == 13
        && rkey.chars().all(|c| ALPHABET.contains(c))
        && rkey.starts_with(|c: char| "234567abcdefghij".contains(c))
}

/// General record-key syntax: 1-512 of `A-Za-z0-9.-_:~`, not "." or "..".
fn is_record_key(rkey: &str) -> bool {
    (1..=512).contains(&rkey.len())
        && rkey != "."
        && rkey != ".."
        && rkey
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:~".contains(c))
}

/// A CIDv1 (sha2-256) of `data` with `codec` (0x71 dag-cbor for records, 0x55 raw for
/// blobs), in multibase base32: the shape real CIDs have.
fn cid(codec: u8, data: &[u8]) -> String {
    let mut bytes = vec![0x01, codec, 0x12, 0x20];
    bytes.extend_from_slice(&wire::sha256(data));
    format!("b{}", wire::base32_lower(&bytes))
}

async fn xrpc(
    State(shared): State<Arc<Mutex<Pds>>>,
    method: Method,
    Path(nsid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw_query = query;
    let query = wire::query_map(raw_query.as_deref());
    let expects_post = match nsid.as_str() {
        "com.atproto.server.createSession"
        | "com.atproto.server.refreshSession"
        | "com.atproto.repo.createRecord"
        | "com.atproto.repo.deleteRecord"
        | "com.atproto.repo.uploadBlob" => true,
        "com.atproto.server.getSession"
        | "com.atproto.repo.getRecord"
        | "com.atproto.identity.resolveHandle"
        | "app.bsky.feed.getPosts"
        | "app.bsky.actor.getProfile" => false,
        _ => {
            return xrpc_error(
                StatusCode::NOT_IMPLEMENTED,
                "MethodNotImplemented",
                "Method Not Implemented",
            );
        }
    };
    if expects_post != (method == Method::POST) {
        return invalid(&format!("Incorrect HTTP method ({method})"));
    }
    let mut pds = lock(&shared);
    let answer = match nsid.as_str() {
        "com.atproto.server.createSession" => create_session(&mut pds, &headers, &body),
        "com.atproto.server.refreshSession" => refresh_session(&mut pds, &headers),
        "com.atproto.server.getSession" => get_session(&pds, &headers),
        "com.atproto.repo.createRecord" => create_record(&mut pds, &headers, &body),
        "com.atproto.repo.getRecord" => get_record(&pds, &query),
        "com.atproto.repo.deleteRecord" => delete_record(&mut pds, &headers, &body),
        "com.atproto.repo.uploadBlob" => upload_blob(&mut pds, &headers, &body),
        "app.bsky.feed.getPosts" => get_posts(&pds, &headers, raw_query.as_deref()),
        "app.bsky.actor.getProfile" => get_profile(&pds, &headers, &query),
        _ => resolve_handle(&pds, &query),
    };
    answer.unwrap_or_else(|error| error)
}

/// A JSON input body, as XRPC procedures require.
fn input(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, Response> {
    if wire::media_type(headers) != "application/json" {
        return Err(invalid(
            "Wrong request encoding (Content-Type): application/json required",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(invalid("Request body is not a JSON object")),
    }
}

fn required<'a>(input: &'a Map<String, Value>, key: &str) -> Result<&'a str, Response> {
    input
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(&format!("Input must have the property \"{key}\"")))
}

/// The input of a write to a repo (createRecord, deleteRecord), once its `repo` is known to
/// be the authenticated account's.
fn own_repo_input(
    pds: &Pds,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, Response> {
    let input = input(headers, body)?;
    let repo = required(&input, "repo")?;
    if !pds.is_me(repo) {
        return Err(xrpc_error(
            StatusCode::UNAUTHORIZED,
            "AuthRequired",
            "Input/repo must be the authenticated account",
        ));
    }
    Ok(input)
}

fn create_session(pds: &mut Pds, headers: &HeaderMap, body: &[u8]) -> Answer {
    pds.session_creates += 1;
    let input = input(headers, body)?;
    let identifier = required(&input, "identifier")?.to_string();
    let password = required(&input, "password")?.to_string();
    let quota = pds.session_quota.hit(&identifier.to_ascii_lowercase());
    if quota.exceeded {
        return Err(BlueskyErrors.rate_limited("", &quota));
    }
    let known = pds.is_me(&identifier) || identifier.eq_ignore_ascii_case(&pds.config.email);
    if !known || password != pds.config.password {
        return Err(xrpc_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationRequired",
            "Invalid identifier or password",
        ));
    }
    ok(pds.issue_session())
}

fn refresh_session(pds: &mut Pds, headers: &HeaderMap) -> Answer {
    pds.session_refreshes += 1;
    let token = wire::auth_token(headers, "Bearer").unwrap_or_default();
    if pds.access_tokens.contains_key(&token) {
        return Err(invalid_token("Bad token scope"));
    }
    // The old refresh token stays valid, as within the PDS's grace period after a refresh.
    if !pds.refresh_tokens.contains(&token) {
        return Err(invalid_token("Token could not be verified"));
    }
    ok(pds.issue_session())
}

/// Most URIs `app.bsky.feed.getPosts` takes.
const MAX_URIS: usize = 25;

/// `app.bsky.feed.getPosts?uris=…&uris=…` (the AppView, reached through the PDS): a
/// postView per post that exists, in the order asked; missing and deleted posts are left
/// out. Counters grow with the post's age ([`super::growth`]); no views.
fn get_posts(pds: &Pds, headers: &HeaderMap, query: Option<&str>) -> Answer {
    pds.authenticate(headers)?;
    let uris: Vec<String> = wire::form_pairs(query.unwrap_or_default().as_bytes())
        .into_iter()
        .filter(|(key, _)| key == "uris")
        .map(|(_, uri)| uri)
        .collect();
    if uris.is_empty() {
        return Err(invalid("Error: Params must have the property \"uris\""));
    }
    if uris.len() > MAX_URIS {
        return Err(invalid(&format!(
            "Error: uris must not have more than {MAX_URIS} elements"
        )));
    }
    let posts: Vec<Value> = uris
        .iter()
        .filter_map(|uri| {
            pds.records
                .iter()
                .find(|r| &r.uri == uri && !r.deleted && r.collection == POST)
                .filter(|r| pds.hour >= r.born_hour + pds.config.index_delay_hours)
        })
        .map(|r| {
            let age = pds.hour.saturating_sub(r.born_hour);
            json!({
                "uri": r.uri,
                "cid": r.cid,
                "author": { "did": pds.config.did, "handle": pds.config.handle },
                "record": r.value,
                "likeCount": grown(LIKES_PER_HOUR, age),
                "repostCount": grown(REPOSTS_PER_HOUR, age),
                "replyCount": grown(REPLIES_PER_HOUR, age),
                "quoteCount": grown(QUOTES_PER_HOUR, age),
                "bookmarkCount": 0,
                "indexedAt": r.value["createdAt"],
            })
        })
        .collect();
    ok(json!({ "posts": posts }))
}

/// `app.bsky.actor.getProfile?actor=`: the account's followers grow by the hour.
fn get_profile(pds: &Pds, headers: &HeaderMap, query: &HashMap<String, String>) -> Answer {
    pds.authenticate(headers)?;
    let actor = query.get("actor").map(String::as_str).unwrap_or_default();
    if actor != pds.config.did && actor != pds.config.handle {
        return Err(xrpc_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "Profile not found",
        ));
    }
    let posts = pds
        .records
        .iter()
        .filter(|r| r.collection == POST && !r.deleted)
        .count();
    ok(json!({
        "did": pds.config.did,
        "handle": pds.config.handle,
        "followersCount": followers(pds.hour),
        "followsCount": 7,
        "postsCount": posts,
    }))
}

fn get_session(pds: &Pds, headers: &HeaderMap) -> Answer {
    pds.authenticate(headers)?;
    ok(json!({
        "handle": pds.config.handle,
        "did": pds.config.did,
        "email": pds.config.email,
        "emailConfirmed": true,
        "active": true,
    }))
}

fn create_record(pds: &mut Pds, headers: &HeaderMap, body: &[u8]) -> Answer {
    let auth = pds.authenticate(headers)?;
    let input = own_repo_input(pds, headers, body)?;
    let collection = required(&input, "collection")?.to_string();
    let Some(record) = input.get("record").filter(|r| r.is_object()) else {
        return Err(invalid("Input must have the property \"record\""));
    };
    let client_rkey = input
        .get("rkey")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(rkey) = &client_rkey {
        let valid = if collection == POST {
            is_tid(rkey)
        } else {
            is_record_key(rkey)
        };
        if !valid {
            return Err(invalid(&format!("Invalid record key: {rkey}")));
        }
    }
    if record["$type"].as_str() != Some(collection.as_str()) {
        return Err(invalid(&format!(
            "Invalid $type: expected {collection}, got {}",
            record["$type"].as_str().unwrap_or("undefined")
        )));
    }
    let validate = input.get("validate").and_then(Value::as_bool) != Some(false);
    if validate && collection == POST {
        validate_post(record, &pds.config)
            .map_err(|message| invalid(&format!("Invalid {POST} record: {message}")))?;
    }
    check_blobs(pds, record)?;
    let rkey = match client_rkey.clone() {
        Some(rkey) => rkey,
        None => pds.next_tid(),
    };
    let uri = format!("at://{}/{collection}/{rkey}", pds.config.did);
    if pds.live_record(&collection, &rkey).is_some() {
        return Err(match pds.config.duplicate_rkey {
            DuplicateRkey::InternalServerError => xrpc_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Internal Server Error",
            ),
            DuplicateRkey::InvalidRequest => invalid(&format!("Record already exists at {uri}")),
        });
    }
    let record_cid = cid(0x71, format!("{rkey}{record}").as_bytes());
    let rev = pds.next_tid();
    let commit_cid = cid(0x71, format!("commit{rev}{record_cid}").as_bytes());
    pds.records.push(Record {
        collection,
        rkey,
        uri: uri.clone(),
        cid: record_cid.clone(),
        value: record.clone(),
        client_rkey: client_rkey.is_some(),
        auth,
        deleted: false,
        raw: Value::Object(input.clone()),
        born_hour: pds.hour,
    });
    ok(json!({
        "uri": uri,
        "cid": record_cid,
        "commit": { "cid": commit_cid, "rev": rev },
        "validationStatus": if validate { "valid" } else { "unknown" },
    }))
}

/// The app.bsky.feed.post lexicon checks, with the validator's paths in the messages.
fn validate_post(record: &Value, config: &BlueskyConfig) -> Result<(), String> {
    let text = match &record["text"] {
        Value::String(text) => text,
        Value::Null => return Err("Record must have the property \"text\"".into()),
        _ => return Err("Record/text must be a string".into()),
    };
    if text.graphemes(true).count() > config.max_graphemes {
        return Err(format!(
            "Record/text must not be longer than {} graphemes",
            config.max_graphemes
        ));
    }
    if text.len() > config.max_text_bytes {
        return Err(format!(
            "Record/text must not be longer than {} characters",
            config.max_text_bytes
        ));
    }
    let created_at = record["createdAt"]
        .as_str()
        .ok_or("Record must have the property \"createdAt\"")?;
    if chrono::DateTime::parse_from_rfc3339(created_at).is_err() {
        return Err(
            "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
                .into(),
        );
    }
    if record["langs"].as_array().is_some_and(|l| l.len() > 3) {
        return Err("Record/langs must not have more than 3 elements".into());
    }
    if record["tags"].as_array().is_some_and(|t| t.len() > 8) {
        return Err("Record/tags must not have more than 8 elements".into());
    }
    if let Some(reply) = record.get("reply") {
        for side in ["root", "parent"] {
            let reference = reply
                .get(side)
                .ok_or(format!("Record/reply must have the property \"{side}\""))?;
            if !reference["uri"]
                .as_str()
                .is_some_and(|u| u.starts_with("at://"))
            {
                return Err(format!("Record/reply/{side}/uri must be a valid at-uri"));
            }
            if reference["cid"].as_str().is_none_or(str::is_empty) {
                return Err(format!(
                    "Record/reply/{side} must have the property \"cid\""
                ));
            }
        }
    }
    if let Some(facets) = record.get("facets") {
        let facets = facets.as_array().ok_or("Record/facets must be an array")?;
        for (i, facet) in facets.iter().enumerate() {
            for end in ["byteStart", "byteEnd"] {
                if facet["index"][end].as_u64().is_none() {
                    return Err(format!(
                        "Record/facets/{i}/index must have the property \"{end}\""
                    ));
                }
            }
            let features = facet["features"].as_array().ok_or(format!(
                "Record/facets/{i} must have the property \"features\""
            ))?;
            for (j, feature) in features.iter().enumerate() {
                if feature["$type"].as_str().is_none() {
                    return Err(format!(
                        "Record/facets/{i}/features/{j} must be an object which includes the \"$type\" property"
                    ));
                }
            }
        }
    }
    let embed = &record["embed"];
    if embed["$type"].as_str() == Some("app.bsky.embed.images") {
        let images = embed["images"]
            .as_array()
            .ok_or("Record/embed must have the property \"images\"")?;
        if images.len() > 4 {
            return Err("Record/embed/images must not have more than 4 elements".into());
        }
        for (i, image) in images.iter().enumerate() {
            if image["image"]["$type"].as_str() != Some("blob") {
                return Err(format!(
                    "Record/embed/images/{i}/image should be a blob ref"
                ));
            }
            if !image["alt"].is_string() {
                return Err(format!(
                    "Record/embed/images/{i} must have the property \"alt\""
                ));
            }
        }
    }
    Ok(())
}

/// Every blob a record references must have been uploaded; images must be images within
/// the embed's size limit.
fn check_blobs(pds: &Pds, record: &Value) -> Result<(), Response> {
    fn walk<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
        match value {
            Value::Object(object)
                if object.get("$type").and_then(Value::as_str) == Some("blob") =>
            {
                out.push(value);
            }
            Value::Object(object) => object.values().for_each(|v| walk(v, out)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(record, &mut refs);
    for blob_ref in refs {
        let link = blob_ref["ref"]["$link"].as_str().unwrap_or_default();
        if !pds.blobs.contains_key(link) {
            return Err(xrpc_error(
                StatusCode::BAD_REQUEST,
                "BlobNotFound",
                &format!("Could not find blob: {link}"),
            ));
        }
    }
    for image in pds.embedded_images(record) {
        if !image.mime.starts_with("image/") {
            return Err(xrpc_error(
                StatusCode::BAD_REQUEST,
                "InvalidMimeType",
                &format!(
                    "Wrong type of file. It is {} but it must match image/*.",
                    image.mime
                ),
            ));
        }
        if image.size > pds.config.max_image_bytes {
            return Err(xrpc_error(
                StatusCode::BAD_REQUEST,
                "BlobTooLarge",
                &format!(
                    "This file is too large. It is {} bytes but the maximum size is {} bytes.",
                    image.size, pds.config.max_image_bytes
                ),
            ));
        }
    }
    Ok(())
}

fn get_record(pds: &Pds, query: &HashMap<String, String>) -> Answer {
    let param = |key: &str| {
        query
            .get(key)
            .cloned()
            .ok_or_else(|| invalid(&format!("Error: Params must have the property \"{key}\"")))
    };
    let repo = param("repo")?;
    let collection = param("collection")?;
    let rkey = param("rkey")?;
    if !pds.is_me(&repo) {
        return Err(invalid(&format!("Could not find repo: {repo}")));
    }
    let uri = format!("at://{}/{collection}/{rkey}", pds.config.did);
    match pds.live_record(&collection, &rkey) {
        Some(r) if query.get("cid").is_none_or(|c| c == &r.cid) => {
            ok(json!({ "uri": r.uri, "cid": r.cid, "value": r.value }))
        }
        _ => Err(xrpc_error(
            StatusCode::BAD_REQUEST,
            "RecordNotFound",
            &format!("Could not locate record: {uri}"),
        )),
    }
}

fn delete_record(pds: &mut Pds, headers: &HeaderMap, body: &[u8]) -> Answer {
    pds.authenticate(headers)?;
    let input = own_repo_input(pds, headers, body)?;
    let collection = required(&input, "collection")?.to_string();
    let rkey = required(&input, "rkey")?.to_string();
    let found = pds
        .records
        .iter_mut()
        .find(|r| r.collection == collection && r.rkey == rkey && !r.deleted);
    let Some(record) = found else {
        // Deleting what is not there succeeds and changes nothing.
        return ok(json!({}));
    };
    record.deleted = true;
    let rev = pds.next_tid();
    let commit_cid = cid(0x71, format!("delete{rev}").as_bytes());
    ok(json!({ "commit": { "cid": commit_cid, "rev": rev } }))
}

fn upload_blob(pds: &mut Pds, headers: &HeaderMap, body: &[u8]) -> Answer {
    pds.authenticate(headers)?;
    let mime = wire::media_type(headers);
    if mime.is_empty() {
        return Err(invalid(
            "Request encoding (Content-Type) required but not provided",
        ));
    }
    if body.len() > pds.config.max_blob_bytes {
        return Err(xrpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge",
            "request entity too large",
        ));
    }
    let link = cid(0x55, body);
    pds.blobs.insert(
        link.clone(),
        Blob {
            mime: mime.clone(),
            size: body.len(),
        },
    );
    ok(json!({
        "blob": { "$type": "blob", "ref": { "$link": link }, "mimeType": mime, "size": body.len() }
    }))
}

fn resolve_handle(pds: &Pds, query: &HashMap<String, String>) -> Answer {
    let Some(handle) = query.get("handle") else {
        return Err(invalid("Error: Params must have the property \"handle\""));
    };
    let handle = handle.to_ascii_lowercase();
    let did = if handle == pds.config.handle.to_ascii_lowercase() {
        Some(pds.config.did.clone())
    } else {
        pds.config.handles.get(&handle).cloned()
    };
    match did {
        Some(did) => ok(json!({ "did": did })),
        None => Err(invalid("Unable to resolve handle")),
    }
}

/// XRPC error bodies, and `RateLimit-*` headers with a Unix-seconds reset.
struct BlueskyErrors;

impl ErrorStyle for BlueskyErrors {
    fn server_error(&self, _path: &str, status: StatusCode) -> Response {
        let name = match status.as_u16() {
            502 => "UpstreamFailure",
            503 => "NotEnoughResources",
            504 => "UpstreamTimeout",
            _ => "InternalServerError",
        };
        xrpc_error(
            status,
            name,
            status.canonical_reason().unwrap_or("Server Error"),
        )
    }

    fn rate_limited(&self, path: &str, quota: &QuotaState) -> Response {
        let mut response = xrpc_error(
            StatusCode::TOO_MANY_REQUESTS,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
        );
        self.quota_headers(path, quota, response.headers_mut());
        response
    }

    fn quota_headers(&self, _path: &str, quota: &QuotaState, headers: &mut HeaderMap) {
        let reset = wire::unix_secs_f64(quota.reset_at).ceil() as u64;
        let pairs = [
            ("ratelimit-limit", quota.limit.to_string()),
            ("ratelimit-remaining", quota.remaining.to_string()),
            ("ratelimit-reset", reset.to_string()),
            (
                "ratelimit-policy",
                format!("{};w={}", quota.limit, quota.window.as_secs()),
            ),
        ];
        wire::add_missing_headers(headers, pairs);
    }
}

#[cfg(test)]
mod tests;
