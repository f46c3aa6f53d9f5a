//! X's OAuth 2.0 authorization server and API v2.
//!
//! Sign-in: `GET /i/oauth2/authorize` plays the user who approves (or declines) and
//! redirects the browser to the registered redirect URI with `code` and `state`;
//! `POST /2/oauth2/token` trades a code once (checking the redirect URI, the client and the
//! PKCE S256 verifier against the challenge) and refresh tokens, which it rotates: a
//! refresh token works once. Access tokens live [`XConfig::access_lifetime`]. Confidential
//! clients authenticate with HTTP Basic, public ones send `client_id` in the form.
//! Refusals are `400 {"error":"invalid_request","error_description":"Value passed for the
//! token was invalid."}`, as X answers a spent or revoked token (unconfirmed beyond client
//! reports: the fake assumes it).
//!
//! API (bearer token: unknown or expired is `401` problem+json): `GET /2/users/me`;
//! `POST /2/tweets` (text counted twitter-text v3's way in a simplified form: code points in
//! X's narrow ranges weigh 1, others 2, each http(s) URL 23, no emoji sequences; replies
//! to an existing post; up to 4 finalized media; the same text as a live post of the
//! user is `403` "duplicate content"); `DELETE /2/tweets/{id}`; `GET /2/users/{id}/tweets`
//! (recent posts, newest first, with `referenced_tweets`); chunked media upload
//! (`initialize`, `append`, `finalize`, `GET ?command=STATUS` polls while processing) and
//! `POST /2/media/metadata` for alt text, whose body the fake assumes to be
//! `{"id", "metadata": {"alt_text": {"text"}}}` (unconfirmed). A used-up monthly cap is
//! `429` with the `usage-capped` problem type. Every answer carries `x-rate-limit-*`.
//!
//! Metrics: `GET /2/tweets?ids=…` (1 to 100 ids, else `400`) answers each live post in
//! `data`, with `public_metrics` when `tweet.fields` asks for them (counters a test sets
//! with [`FakeX::set_counts`], zero until then), and each unknown or deleted one as a
//! `resource-not-found` entry in `errors` (HTTP 200 either way, `data` left out when
//! empty). `GET /2/users/me?user.fields=public_metrics` gives [`XConfig::followers`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::chaos::ErrorStyle;
use super::oauth1::{self, OAuth1Keys, Refusal};
use super::quota::QuotaState;
use super::server::BoundPort;
use super::wire;
use super::{ReceivedMedia, ReceivedPost, Running, lock};

/// The app registered with the fake, and the user who signs in.
#[derive(Clone, Debug)]
pub struct XConfig {
    pub client_id: String,
    /// `Some` for a confidential client, which must authenticate with HTTP Basic.
    pub client_secret: Option<String>,
    /// Redirect URIs registered for the app; the authorize request must name one exactly.
    pub redirect_uris: Vec<String>,
    /// How long an access token works (X: 2 hours).
    pub access_lifetime: Duration,
    /// Whether the user approves the sign-in; if not, the browser is sent back with
    /// `error=access_denied`.
    pub approve: bool,
    pub user_id: String,
    pub username: String,
    /// The monthly cap is used up: every `POST /2/tweets` is `429` usage-capped.
    pub usage_capped: bool,
    /// The next n `POST /2/tweets` create the post, then answer `503` (the client cannot
    /// know it was posted).
    pub fail_after_create: u32,
    /// The next n `POST /2/tweets` answer `503` without creating anything.
    pub fail_without_create: u32,
    /// How many STATUS polls answer `in_progress` before `succeeded` (0: finalize
    /// answers without `processing_info`).
    pub media_processing_polls: u32,
    /// The user's `followers_count`.
    pub followers: u64,
    /// The OAuth 1.0a keys X knows for the app and the user, if any.
    pub oauth1: Option<OAuth1Keys>,
}

/// A post's `public_metrics` as the fake gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XCounts {
    pub likes: u64,
    pub retweets: u64,
    pub replies: u64,
    pub quotes: u64,
    pub bookmarks: u64,
    pub impressions: u64,
}

impl Default for XConfig {
    fn default() -> XConfig {
        XConfig {
            client_id: FakeX::CLIENT_ID.to_string(),
            client_secret: None,
            redirect_uris: Vec::new(),
            access_lifetime: Duration::from_secs(2 * 60 * 60),
            approve: true,
            user_id: "2244994945".to_string(),
            username: "postctl_dev".to_string(),
            usage_capped: false,
            fail_after_create: 0,
            fail_without_create: 0,
            media_processing_polls: 0,
            followers: 0,
            oauth1: None,
        }
    }
}

/// A code handed out by the authorize endpoint, waiting to be traded.
#[derive(Clone, Debug)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
}

/// What the fake has handed out and seen.
#[derive(Debug, Default)]
struct Server {
    config: XConfig,
    codes: HashMap<String, Grant>,
    access: HashMap<String, SystemTime>,
    refresh: HashMap<String, String>,
    issued: u64,
    /// Token requests: (grant_type, whether it succeeded).
    token_requests: Vec<(String, bool)>,
    posts: Vec<ReceivedPost>,
    media: Vec<Upload>,
    last_id: u64,
    /// Counters set by the test, by post id.
    counts: HashMap<String, XCounts>,
    /// OAuth 1.0a nonces seen: a nonce works once.
    nonces: std::collections::HashSet<String>,
    /// Requests whose OAuth 1.0a signature verified.
    signed_requests: u64,
}

/// A media upload and how far it got.
#[derive(Debug, Clone)]
struct Upload {
    id: String,
    media_type: String,
    total_bytes: usize,
    received: Vec<u8>,
    finalized: bool,
    polls_left: u32,
    alt: Option<String>,
}

/// A fake X; stops when dropped.
pub struct FakeX {
    running: Running,
    shared: Arc<Mutex<Server>>,
}

fake_server!(FakeX);

impl FakeX {
    pub const CLIENT_ID: &'static str = "fake-x-client";

    pub fn start() -> FakeX {
        FakeX::start_with(XConfig::default())
    }

    pub fn start_with(config: XConfig) -> FakeX {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Server {
            config,
            ..Server::default()
        }));
        let router = Router::new()
            .route("/i/oauth2/authorize", get(authorize))
            .route("/2/oauth2/token", post(token))
            .route("/2/users/me", get(users_me))
            .route("/2/users/{id}/tweets", get(user_posts))
            .route("/2/tweets", post(create_post).get(read_posts))
            .route("/2/tweets/{id}", axum::routing::delete(delete_post))
            .route("/2/media/upload", get(media_status))
            .route("/2/media/upload/initialize", post(media_initialize))
            .route("/2/media/upload/{id}/append", post(media_append))
            .route("/2/media/upload/{id}/finalize", post(media_finalize))
            .route("/2/media/metadata", post(media_metadata))
            .fallback(not_found)
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                oauth1_signed,
            ))
            .with_state(shared.clone());
        let running = Running::start("x", port, router, Arc::new(XErrors));
        FakeX { running, shared }
    }

    /// Changes the configuration from now on.
    pub fn configure(&self, change: impl FnOnce(&mut XConfig)) {
        change(&mut lock(&self.shared).config);
    }

    /// Every access token handed out so far stops working now.
    pub fn expire_access_tokens(&self) {
        let now = SystemTime::now();
        for expires in lock(&self.shared).access.values_mut() {
            *expires = now;
        }
    }

    /// The user revoked the app: every refresh token (and access token) stops working.
    pub fn revoke(&self) {
        let mut server = lock(&self.shared);
        server.refresh.clear();
        server.access.clear();
    }

    /// The grant types of the token requests, and whether each was granted, in order.
    pub fn token_requests(&self) -> Vec<(String, bool)> {
        lock(&self.shared).token_requests.clone()
    }

    /// The posts created so far, deleted ones included.
    pub fn posts(&self) -> Vec<ReceivedPost> {
        lock(&self.shared).posts.clone()
    }

    /// The post `id`'s counters from now on.
    pub fn set_counts(&self, id: &str, counts: XCounts) {
        lock(&self.shared).counts.insert(id.to_string(), counts);
    }

    /// The user deleted the post `id` on X, not through postctl.
    pub fn delete_on_network(&self, id: &str) {
        let mut server = lock(&self.shared);
        if let Some(post) = server.posts.iter_mut().find(|p| p.id == id) {
            post.deleted = true;
        }
    }

    /// How many requests came signed with OAuth 1.0a and verified.
    pub fn signed_requests(&self) -> u64 {
        lock(&self.shared).signed_requests
    }

    /// Whether `token` is an access token that works now.
    pub fn access_token_works(&self, token: &str) -> bool {
        lock(&self.shared)
            .access
            .get(token)
            .is_some_and(|expires| *expires > SystemTime::now())
    }
}

/// What a request signed with OAuth 1.0a carries on to the endpoints once its signature
/// verified: the user's access token behind this prefix, which no client can send.
const VERIFIED: &str = "oauth1-verified:";

/// Every request with `Authorization: OAuth …` has its HMAC-SHA1 signature recomputed
/// (over the method, `http://{Host}{path}` and the query) and its nonce checked against
/// those seen; a good one reaches the endpoint as the user, a bad one is `401`.
async fn oauth1_signed(
    State(shared): State<Arc<Mutex<Server>>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(authorization) = authorization else {
        return next.run(request).await;
    };
    if authorization.contains(VERIFIED) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    if !authorization.starts_with("OAuth ") {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let base_uri = format!("http://{host}{}", request.uri().path());
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let verdict = {
        let mut server = lock(&shared);
        let checked = match &server.config.oauth1 {
            None => Err(Refusal::UnknownKeys),
            Some(keys) => oauth1::verify(
                keys,
                &authorization,
                request.method().as_str(),
                &base_uri,
                request.uri().query(),
                now,
            )
            .map(|nonce| (nonce, keys.access_token.clone())),
        };
        match checked {
            Ok((nonce, _)) if !server.nonces.insert(nonce.clone()) => Err(Refusal::ReusedNonce),
            Ok((_, token)) => {
                server.signed_requests += 1;
                let as_user = format!("{VERIFIED}{token}");
                server.access.insert(
                    as_user.clone(),
                    SystemTime::now() + Duration::from_secs(3600),
                );
                Ok(as_user)
            }
            Err(refusal) => Err(refusal),
        }
    };
    match verdict {
        Ok(as_user) => {
            if let Ok(value) = format!("Bearer {as_user}").parse() {
                request.headers_mut().insert(header::AUTHORIZATION, value);
            }
            next.run(request).await
        }
        Err(refusal) => problem(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            &format!("Could not authenticate you ({refusal:?})."),
        ),
    }
}

/// `GET /i/oauth2/authorize`: the user approves; the browser is redirected.
async fn authorize(
    State(shared): State<Arc<Mutex<Server>>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = wire::query_map(query.as_deref());
    let get = |name: &str| params.get(name).cloned().unwrap_or_default();
    let mut server = lock(&shared);
    // Before the redirect URI is known good, errors are shown to the user, never redirected.
    if get("client_id") != server.config.client_id {
        return page(
            StatusCode::BAD_REQUEST,
            "Something went wrong: unknown client_id.",
        );
    }
    let redirect_uri = get("redirect_uri");
    if !server.config.redirect_uris.contains(&redirect_uri) {
        return page(
            StatusCode::BAD_REQUEST,
            "Something went wrong: the redirect_uri is not registered for this app.",
        );
    }
    let state = get("state");
    let refusal = if get("response_type") != "code" {
        Some("unsupported_response_type")
    } else if get("code_challenge").is_empty()
        || get("code_challenge_method") != "S256"
        || state.is_empty()
        || get("scope").is_empty()
    {
        Some("invalid_request")
    } else if !server.config.approve {
        Some("access_denied")
    } else {
        None
    };
    let mut location = url_with(&redirect_uri, &[("state", &state)]);
    match refusal {
        Some(error) => location = url_with(&location, &[("error", error)]),
        None => {
            server.issued += 1;
            let code = format!("x-code-{}", server.issued);
            server.codes.insert(
                code.clone(),
                Grant {
                    client_id: get("client_id"),
                    redirect_uri,
                    challenge: get("code_challenge"),
                    scope: get("scope"),
                },
            );
            location = url_with(&location, &[("code", &code)]);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// `POST /2/oauth2/token`: `authorization_code` and `refresh_token` grants.
async fn token(
    State(shared): State<Arc<Mutex<Server>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params: HashMap<String, String> = wire::form_pairs(&body).into_iter().collect();
    let get = |name: &str| params.get(name).cloned().unwrap_or_default();
    let mut server = lock(&shared);
    let grant_type = get("grant_type");
    let answer = match client_of(&server.config, &headers, &params) {
        Err(answer) => Err(answer),
        Ok(client_id) => match grant_type.as_str() {
            "authorization_code" => trade_code(&mut server, &client_id, &params),
            "refresh_token" => trade_refresh(&mut server, &get("refresh_token")),
            _ => Err(oauth_error(
                "unsupported_grant_type",
                "Unsupported grant type.",
            )),
        },
    };
    server.token_requests.push((grant_type, answer.is_ok()));
    answer.unwrap_or_else(|refusal| refusal)
}

/// The client a token request comes from: HTTP Basic for a confidential client (its
/// secret checked), `client_id` in the form for a public one.
fn client_of(
    config: &XConfig,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<String, Response> {
    let unauthorized = || {
        wire::json(
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized_client", "error_description": "Missing valid authorization header"}),
        )
    };
    match &config.client_secret {
        Some(secret) => {
            let basic = wire::auth_token(headers, "Basic").ok_or_else(unauthorized)?;
            let decoded = base64_decode(&basic).ok_or_else(unauthorized)?;
            let (id, given) = decoded.split_once(':').ok_or_else(unauthorized)?;
            let id = percent_decode(id);
            if id != config.client_id || percent_decode(given) != *secret {
                return Err(unauthorized());
            }
            Ok(id)
        }
        None => {
            let id = params.get("client_id").cloned().unwrap_or_default();
            if id != config.client_id {
                return Err(unauthorized());
            }
            Ok(id)
        }
    }
}

fn trade_code(
    server: &mut Server,
    client_id: &str,
    params: &HashMap<String, String>,
) -> Result<Response, Response> {
    let get = |name: &str| params.get(name).cloned().unwrap_or_default();
    // A code works once, whatever happens next.
    let grant = server
        .codes
        .remove(&get("code"))
        .ok_or_else(invalid_token)?;
    let verifier = get("code_verifier");
    let challenge = wire::base64url(&wire::sha256(verifier.as_bytes()));
    if grant.client_id != client_id
        || grant.redirect_uri != get("redirect_uri")
        || verifier.len() < 43
        || challenge != grant.challenge
    {
        return Err(invalid_token());
    }
    Ok(issue(server, &grant.scope))
}

fn trade_refresh(server: &mut Server, refresh_token: &str) -> Result<Response, Response> {
    // Rotation: the refresh token is spent by this request.
    let scope = server
        .refresh
        .remove(refresh_token)
        .ok_or_else(invalid_token)?;
    Ok(issue(server, &scope))
}

/// New tokens for `scope`: an access token, and a refresh token with `offline.access`.
fn issue(server: &mut Server, scope: &str) -> Response {
    server.issued += 1;
    let n = server.issued;
    let access = format!("x-access-{n}");
    let lifetime = server.config.access_lifetime;
    server
        .access
        .insert(access.clone(), SystemTime::now() + lifetime);
    let mut answer = json!({
        "token_type": "bearer",
        "expires_in": lifetime.as_secs(),
        "access_token": access,
        "scope": scope,
    });
    if scope.split(' ').any(|s| s == "offline.access") {
        let refresh = format!("x-refresh-{n}");
        server.refresh.insert(refresh.clone(), scope.to_string());
        answer["refresh_token"] = json!(refresh);
    }
    wire::json(StatusCode::OK, answer)
}

/// `GET /2/users/me`.
async fn users_me(
    State(shared): State<Arc<Mutex<Server>>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let server = lock(&shared);
    if let Err(refusal) = signed_in(&server, &headers) {
        return refusal;
    }
    let mut data =
        json!({"id": server.config.user_id, "name": "postctl", "username": server.config.username});
    if asks_for(query.as_deref(), "user.fields", "public_metrics") {
        data["public_metrics"] = json!({
            "followers_count": server.config.followers,
            "following_count": 12,
            "tweet_count": server.posts.iter().filter(|p| !p.deleted).count(),
            "listed_count": 0,
        });
    }
    wire::json(StatusCode::OK, json!({ "data": data }))
}

/// Whether the query's comma-separated `field` names `value`.
fn asks_for(query: Option<&str>, field: &str, value: &str) -> bool {
    wire::query_map(query)
        .get(field)
        .is_some_and(|list| list.split(',').any(|v| v.trim() == value))
}

/// `GET /2/tweets?ids=`: the live posts asked for in `data`, the others in `errors`.
async fn read_posts(
    State(shared): State<Arc<Mutex<Server>>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let server = lock(&shared);
    if let Err(refusal) = signed_in(&server, &headers) {
        return refusal;
    }
    let params = wire::query_map(query.as_deref());
    let ids: Vec<&str> = params
        .get("ids")
        .map(|ids| ids.split(',').collect())
        .unwrap_or_default();
    if ids.is_empty() || ids.len() > 100 || ids.iter().any(|id| id.is_empty()) {
        return invalid_request("The `ids` query parameter value is not between 1 and 100.");
    }
    let metrics = asks_for(query.as_deref(), "tweet.fields", "public_metrics");
    let mut data = Vec::new();
    let mut errors = Vec::new();
    for id in ids {
        match server.posts.iter().find(|p| p.id == id && !p.deleted) {
            Some(post) => {
                let mut found =
                    json!({"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]});
                if metrics {
                    let c = server.counts.get(id).copied().unwrap_or_default();
                    found["public_metrics"] = json!({
                        "retweet_count": c.retweets,
                        "reply_count": c.replies,
                        "like_count": c.likes,
                        "quote_count": c.quotes,
                        "bookmark_count": c.bookmarks,
                        "impression_count": c.impressions,
                    });
                }
                data.push(found);
            }
            None => errors.push(json!({
                "value": id,
                "detail": format!("Could not find tweet with ids: [{id}]."),
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": id,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            })),
        }
    }
    let mut body = json!({});
    if !data.is_empty() {
        body["data"] = json!(data);
    }
    if !errors.is_empty() {
        body["errors"] = json!(errors);
    }
    wire::json(StatusCode::OK, body)
}

/// `POST /2/tweets`.
async fn create_post(
    State(shared): State<Arc<Mutex<Server>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut server = lock(&shared);
    let auth = match signed_in(&server, &headers) {
        Ok(token) => token,
        Err(refusal) => return refusal,
    };
    if server.config.usage_capped {
        return problem_typed(
            StatusCode::TOO_MANY_REQUESTS,
            "UsageCapExceeded",
            "Usage cap exceeded: Monthly product cap",
            "https://api.twitter.com/2/problems/usage-capped",
        );
    }
    if server.config.fail_without_create > 0 {
        server.config.fail_without_create -= 1;
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "Service Unavailable",
        );
    }
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return invalid_request("The request body is not valid JSON.");
    };
    let text = request["text"].as_str().unwrap_or_default().to_string();
    let media_ids: Vec<String> = request["media"]["media_ids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if text.is_empty() && media_ids.is_empty() {
        return invalid_request("text or media is required.");
    }
    if weighted_length(&text) > 280 {
        return invalid_request("The text of your Tweet is too long.");
    }
    if media_ids.len() > 4 {
        return invalid_request("Your media IDs are invalid: at most 4 images.");
    }
    let mut media = Vec::new();
    for id in &media_ids {
        match server.media.iter().find(|m| &m.id == id) {
            Some(upload) if upload.finalized && upload.polls_left == 0 => {
                media.push(ReceivedMedia {
                    id: upload.id.clone(),
                    mime: upload.media_type.clone(),
                    size: upload.received.len(),
                    alt: upload.alt.clone(),
                    file_name: None,
                })
            }
            _ => return invalid_request("Your media IDs are invalid."),
        }
    }
    let reply_to = request["reply"]["in_reply_to_tweet_id"]
        .as_str()
        .map(str::to_string);
    if let Some(parent) = &reply_to
        && !server.posts.iter().any(|p| &p.id == parent && !p.deleted)
    {
        return invalid_request("The Tweet you are replying to does not exist or was deleted.");
    }
    if !text.is_empty() && server.posts.iter().any(|p| p.text == text && !p.deleted) {
        return problem(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "You are not allowed to create a Tweet with duplicate content.",
        );
    }
    server.last_id += 1;
    let id = (1_800_000_000_000_000_000u64 + server.last_id).to_string();
    let (user_id, username) = (
        server.config.user_id.clone(),
        server.config.username.clone(),
    );
    server.posts.push(ReceivedPost {
        id: id.clone(),
        channel: user_id,
        text: text.clone(),
        formatted: None,
        reply_to,
        media,
        idempotency_key: None,
        auth: Some(format!("Bearer {auth}")),
        deleted: false,
        url: Some(format!("https://x.com/{username}/status/{id}")),
        raw: request,
    });
    if server.config.fail_after_create > 0 {
        server.config.fail_after_create -= 1;
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "Service Unavailable",
        );
    }
    wire::json(
        StatusCode::CREATED,
        json!({"data": {"id": id, "text": text, "edit_history_post_ids": [id]}}),
    )
}

/// `DELETE /2/tweets/{id}`.
async fn delete_post(
    State(shared): State<Arc<Mutex<Server>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut server = lock(&shared);
    if let Err(refusal) = signed_in(&server, &headers) {
        return refusal;
    }
    match server.posts.iter_mut().find(|p| p.id == id && !p.deleted) {
        Some(post) => {
            post.deleted = true;
            wire::json(StatusCode::OK, json!({"data": {"deleted": true}}))
        }
        None => problem(
            StatusCode::NOT_FOUND,
            "Not Found Error",
            &format!("Could not find tweet with id: [{id}]."),
        ),
    }
}

/// `GET /2/users/{id}/tweets`: the user's live posts, newest first.
async fn user_posts(
    State(shared): State<Arc<Mutex<Server>>>,
    Path(user): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let server = lock(&shared);
    if let Err(refusal) = signed_in(&server, &headers) {
        return refusal;
    }
    if user != server.config.user_id {
        return problem(
            StatusCode::NOT_FOUND,
            "Not Found Error",
            "Could not find user.",
        );
    }
    let params = wire::query_map(query.as_deref());
    let max = params
        .get("max_results")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(5, 100);
    let data: Vec<serde_json::Value> = server
        .posts
        .iter()
        .rev()
        .filter(|p| !p.deleted)
        .take(max)
        .map(|p| {
            let mut post = json!({"id": p.id, "text": p.text, "edit_history_post_ids": [p.id]});
            if let Some(parent) = &p.reply_to {
                post["referenced_tweets"] = json!([{"type": "replied_to", "id": parent}]);
            }
            post
        })
        .collect();
    let count = data.len();
    wire::json(
        StatusCode::OK,
        json!({"data": data, "meta": {"result_count": count}}),
    )
}

/// `POST /2/media/upload/initialize`.
async fn media_initialize(
    State(shared): State<Arc<Mutex<Server>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut server = lock(&shared);
    if let Err(refusal) = signed_in(&server, &headers) {
        return refusal;
    }
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let media_type = request["media_type"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let total_bytes = request["total_bytes"].as_u64().unwrap_or(0) as usize;
    if !media_type.starts_with("image/") || total_bytes == 0 {
        return invalid_request("media_type and total_bytes are required.");
    }
    if total_bytes > 5 * 1024 * 1024 {
        return invalid_request("File size exceeds 5242880 bytes.");
    }
    server.last_id += 1;
    let id = (1_900_000_000_000_000_000u64 + server.last_id).to_string();
    let polls = server.config.media_processing_polls;
    server.media.push(Upload {
        id: id.clone(),
        media_type,
        total_bytes,
        received: Vec::new(),
        finalized: false,
        polls_left: polls,
        alt: None,
    });
    wire::json(
        StatusCode::OK,
        json!({"data": {"id": id, "media_key": format!("3_{id}"), "expires_after_secs": 86400}}),
    )
}

/// `POST /2/media/upload/{id}/append`: multipart `media` and `segment_index`.
async fn media_append(
    State(shared): State<Arc<Mutex<Server>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = signed_in(&lock(&shared), &headers) {
        return refusal;
    }
    let Ok(parts) = wire::multipart(&headers, body).await else {
        return invalid_request("The body is not multipart/form-data.");
    };
    let chunk = parts.iter().find(|p| p.name == "media");
    let index = parts
        .iter()
        .find(|p| p.name == "segment_index")
        .and_then(|p| p.text().parse::<u32>().ok());
    let (Some(chunk), Some(index)) = (chunk, index) else {
        return invalid_request("media and segment_index are required.");
    };
    let mut server = lock(&shared);
    let Some(upload) = server.media.iter_mut().find(|m| m.id == id && !m.finalized) else {
        return invalid_request("Invalid media id.");
    };
    if index > 999 {
        return invalid_request("segment_index must be 0-999.");
    }
    upload.received.extend_from_slice(&chunk.data);
    wire::json(
        StatusCode::OK,
        json!({"data": {"expires_at": 1_900_000_000}}),
    )
}

/// `POST /2/media/upload/{id}/finalize`.
async fn media_finalize(
    State(shared): State<Arc<Mutex<Server>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut server = lock(&shared);
    if let Err(refusal) = signed_in(&server, &headers) {
        return refusal;
    }
    let Some(upload) = server.media.iter_mut().find(|m| m.id == id) else {
        return invalid_request("Invalid media id.");
    };
    if upload.received.len() != upload.total_bytes {
        return invalid_request("File size does not match total_bytes.");
    }
    upload.finalized = true;
    let mut data = json!({"id": id, "media_key": format!("3_{id}"), "size": upload.total_bytes, "expires_after_secs": 86400});
    if upload.polls_left > 0 {
        data["processing_info"] = json!({"state": "pending", "check_after_secs": 1});
    }
    wire::json(StatusCode::OK, json!({ "data": data }))
}

/// `GET /2/media/upload?command=STATUS&media_id=`.
async fn media_status(
    State(shared): State<Arc<Mutex<Server>>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut server = lock(&shared);
    if let Err(refusal) = signed_in(&server, &headers) {
        return refusal;
    }
    let params = wire::query_map(query.as_deref());
    if params.get("command").map(String::as_str) != Some("STATUS") {
        return invalid_request("command must be STATUS.");
    }
    let id = params.get("media_id").cloned().unwrap_or_default();
    let Some(upload) = server.media.iter_mut().find(|m| m.id == id && m.finalized) else {
        return invalid_request("Invalid media id.");
    };
    let info = if upload.polls_left > 0 {
        upload.polls_left -= 1;
        if upload.polls_left == 0 {
            json!({"state": "succeeded", "progress_percent": 100})
        } else {
            json!({"state": "in_progress", "check_after_secs": 1, "progress_percent": 50})
        }
    } else {
        json!({"state": "succeeded", "progress_percent": 100})
    };
    wire::json(
        StatusCode::OK,
        json!({"data": {"id": id, "media_key": format!("3_{id}"), "processing_info": info}}),
    )
}

/// `POST /2/media/metadata`: alt text.
async fn media_metadata(
    State(shared): State<Arc<Mutex<Server>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut server = lock(&shared);
    if let Err(refusal) = signed_in(&server, &headers) {
        return refusal;
    }
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let id = request["id"].as_str().unwrap_or_default();
    let Some(alt) = request["metadata"]["alt_text"]["text"].as_str() else {
        return invalid_request("metadata.alt_text.text is required.");
    };
    if alt.chars().count() > 1000 {
        return invalid_request("Alt text is limited to 1000 characters.");
    }
    let Some(upload) = server.media.iter_mut().find(|m| m.id == id) else {
        return invalid_request("Invalid media id.");
    };
    upload.alt = Some(alt.to_string());
    wire::json(
        StatusCode::OK,
        json!({"data": {"id": id, "associated_metadata": true}}),
    )
}

/// twitter-text v3 weights, simplified (see the module docs).
fn weighted_length(text: &str) -> usize {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let bare = word.trim_end();
            if bare.starts_with("http://") || bare.starts_with("https://") {
                23 + (word.len() - bare.len())
            } else {
                word.chars()
                    .map(|c| match u32::from(c) {
                        0..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
                        _ => 2,
                    })
                    .sum()
            }
        })
        .sum()
}

fn invalid_request(message: &str) -> Response {
    let body = json!({
        "errors": [{"message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    });
    let mut response = wire::json(StatusCode::BAD_REQUEST, body);
    wire::set_headers(
        response.headers_mut(),
        [("content-type", "application/problem+json".to_string())],
    );
    response
}

fn problem_typed(status: StatusCode, title: &str, detail: &str, kind: &str) -> Response {
    let mut response = problem(status, title, detail);
    let body = json!({"title": title, "type": kind, "status": status.as_u16(), "detail": detail});
    *response.body_mut() = axum::body::Body::from(body.to_string());
    response
}

/// Checks the bearer token: known and not expired. Returns it.
fn signed_in(server: &Server, headers: &HeaderMap) -> Result<String, Response> {
    let token = wire::auth_token(headers, "Bearer").unwrap_or_default();
    match server.access.get(&token) {
        Some(expires) if *expires > SystemTime::now() => Ok(token),
        _ => Err(problem(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized",
        )),
    }
}

fn invalid_token() -> Response {
    oauth_error("invalid_request", "Value passed for the token was invalid.")
}

fn oauth_error(error: &str, description: &str) -> Response {
    wire::json(
        StatusCode::BAD_REQUEST,
        json!({"error": error, "error_description": description}),
    )
}

/// X's problem+json error body.
fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = json!({
        "title": title,
        "type": "about:blank",
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = wire::json(status, body);
    wire::set_headers(
        response.headers_mut(),
        [("content-type", "application/problem+json".to_string())],
    );
    response
}

fn page(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<!doctype html><p>{text}</p>"),
    )
        .into_response()
}

async fn not_found() -> Response {
    problem(StatusCode::NOT_FOUND, "Not Found Error", "Not found")
}

/// `base` with `pairs` added to its query.
fn url_with(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = base.to_string();
    for (key, value) in pairs {
        url.push(if url.contains('?') { '&' } else { '?' });
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair(key, value)
            .finish();
        url.push_str(&encoded);
    }
    url
}

fn base64_decode(text: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// RFC 6749 §2.3.1: the client id and secret are form-urlencoded inside Basic.
fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("v={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

struct XErrors;

impl ErrorStyle for XErrors {
    fn server_error(&self, _path: &str, status: StatusCode) -> Response {
        problem(
            status,
            status.canonical_reason().unwrap_or("Server error"),
            "Service unavailable",
        )
    }

    fn rate_limited(&self, path: &str, quota: &QuotaState) -> Response {
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            "Too Many Requests",
        );
        self.quota_headers(path, quota, response.headers_mut());
        response
    }

    fn quota_headers(&self, _path: &str, quota: &QuotaState, headers: &mut HeaderMap) {
        let reset = quota
            .reset_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
        let pairs = [
            ("x-rate-limit-limit", quota.limit.to_string()),
            ("x-rate-limit-remaining", quota.remaining.to_string()),
            ("x-rate-limit-reset", reset.to_string()),
        ];
        wire::add_missing_headers(headers, pairs);
    }
}
