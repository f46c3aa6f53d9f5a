//! VK (API 5.199): `POST /method/<name>` with `access_token` and `v` in
//! the query or a form; answers are HTTP 200 `{"response": …}` or HTTP 200
//! `{"error": {"error_code", "error_msg", "request_params"}}`. Methods: users.get,
//! groups.getById, wall.post, wall.createComment, wall.delete, wall.deleteComment,
//! photos.getWallUploadServer, the upload server itself (multipart field `photo` →
//! `{server, photo, hash}`), photos.saveWallPhoto and wall.getById.
//!
//! Metrics: `wall.getById {posts: "<owner>_<id>,…"}` (at most 100, else error 100) answers
//! `{"items": […]}` (the 5.199 shape is unconfirmed; this fake assumes `items`) with each
//! live post asked for, its `likes`, `reposts`, `comments` and `views` objects holding the
//! counts a test sets with [`FakeVk::set_counts`]; a deleted or unknown post is left out.
//! `users.get` and `groups.getById` give `followers_count` and `members_count` when
//! `fields` asks for them.
//!
//! `wall.post` and `wall.createComment` take a `guid`: a second request with a `guid` this
//! wall already holds (on a post or comment that is not deleted) creates nothing and
//! answers the first one's id. VK documents this only for comments ("unique
//! identifier to avoid repeated comments"); for `wall.post` the behaviour is unconfirmed
//! and this fake assumes the same, with no time limit.
//!
//! Choices where VK's documentation is silent or unconfirmed: a message over 16,384
//! characters (code points) is refused with error 100; an unknown or deleted post or
//! comment given to wall.delete, wall.deleteComment or wall.createComment gets error 100;
//! a request without `v` gets error 8; a `saveWallPhoto` whose hash names no upload gets
//! error 121 ("Invalid hash"); more than one link, or more than 10 photos, in `attachments`
//! gets error 100. A chaos server error is error 10 and a chaos rate limit error 6, both
//! with HTTP 200, as VK sends them.
//!
//! VK ID sign-in (OAuth 2.1, PKCE S256 mandatory, a `device_id`, access
//! tokens living an hour): `GET /authorize` plays the user approving and redirects with
//! `code`, `state`, `device_id` and `type=code_v2`; `POST /oauth2/auth` (the address is
//! unconfirmed; this fake assumes it) trades a code (`grant_type=authorization_code`,
//! `code`, `code_verifier` checked against the challenge, `redirect_uri`, `client_id`,
//! `device_id`, `state`) or a refresh token (`grant_type=refresh_token`, `refresh_token`,
//! `client_id`, `device_id`, `state`) for `{refresh_token, access_token, id_token,
//! token_type: "Bearer", expires_in, user_id, state, scope}`. Refresh tokens work once
//! (rotation; unconfirmed lifetime, the fake assumes no expiry); a refusal is HTTP 400
//! `{"error": "invalid_grant", "error_description"}` (the status is unconfirmed). The
//! access tokens it issues work on the API like [`VkConfig::token`] until they expire.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{any, get, post};
use serde_json::{Map, Value, json};

use super::chaos::ErrorStyle;
use super::oauth::{AuthServer, OAuthConfig};
use super::quota::{QuotaState, RateLimit};
use super::server::BoundPort;
use super::wire;
use super::{ReceivedMedia, ReceivedPost, Running, lock};

/// The longest message the fake takes, in code points (unconfirmed; commonly cited).
pub const MAX_MESSAGE: usize = 16_384;
/// Photos and videos per post.
const MAX_MEDIA: usize = 10;

/// A community the fake knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VkGroup {
    /// Positive; its wall is `owner_id = -id`.
    pub id: i64,
    pub name: String,
    pub screen_name: String,
    /// The token's user manages it (may post as the community).
    pub admin: bool,
    /// Its `members_count`.
    pub members: u64,
}

/// A post's counters as the fake gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VkCounts {
    pub likes: u64,
    pub reposts: u64,
    pub comments: u64,
    pub views: u64,
}

#[derive(Clone, Debug)]
pub struct VkConfig {
    /// The one valid access token (a user token).
    pub token: String,
    pub user_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub groups: Vec<VkGroup>,
    /// The user's `followers_count`.
    pub followers: u64,
}

impl Default for VkConfig {
    fn default() -> VkConfig {
        VkConfig {
            token: FakeVk::TOKEN.into(),
            user_id: FakeVk::USER_ID,
            first_name: "Anna".into(),
            last_name: "Tester".into(),
            groups: vec![VkGroup {
                id: FakeVk::GROUP_ID,
                name: "postctl test community".into(),
                screen_name: "postctl_test".into(),
                admin: true,
                members: 0,
            }],
            followers: 0,
        }
    }
}

/// A fake VK API; stops when dropped.
pub struct FakeVk {
    running: Running,
    shared: Arc<Mutex<Api>>,
}

/// A post or a comment on a wall, as the fake holds it.
#[derive(Clone, Debug)]
struct Entry {
    owner_id: i64,
    id: i64,
    /// The post a comment is on; None for a post.
    post_id: Option<i64>,
    text: String,
    attachments: Vec<String>,
    guid: Option<String>,
    deleted: bool,
    token: String,
    raw: Value,
    counts: VkCounts,
}

/// A file the upload server received, before saveWallPhoto.
struct Upload {
    server: i64,
    photo: String,
    hash: String,
    owner_id: i64,
    media: ReceivedMedia,
}

/// A saved wall photo.
struct Photo {
    owner_id: i64,
    id: i64,
    media: ReceivedMedia,
}

/// An error the next call of a method answers with.
struct Injected {
    method: String,
    code: i64,
    message: String,
}

struct Api {
    config: VkConfig,
    base_url: String,
    entries: Vec<Entry>,
    uploads: Vec<Upload>,
    photos: Vec<Photo>,
    injected: VecDeque<Injected>,
    next_id: i64,
    /// Every method called, in order, with its parameters (the token removed).
    calls: Vec<(String, Map<String, Value>)>,
    /// VK ID, the authorization server.
    auth: AuthServer,
}

impl FakeVk {
    pub const TOKEN: &'static str = "vk1.a.fake-user-token_0123456789";
    /// The VK ID app's id.
    pub const CLIENT_ID: &'static str = "51234567";
    pub const USER_ID: i64 = 4242;
    pub const GROUP_ID: i64 = 123_456;

    pub fn start() -> FakeVk {
        FakeVk::start_with(VkConfig::default())
    }

    pub fn start_with(config: VkConfig) -> FakeVk {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Api {
            config,
            base_url: port.base_url(),
            entries: Vec::new(),
            uploads: Vec::new(),
            photos: Vec::new(),
            injected: VecDeque::new(),
            next_id: 100,
            calls: Vec::new(),
            auth: AuthServer::new(
                "vk",
                OAuthConfig {
                    client_id: FakeVk::CLIENT_ID.into(),
                    client_secret: None,
                    redirect_uris: Vec::new(),
                    access_lifetime: Duration::from_secs(60 * 60),
                    approve: true,
                },
            ),
        }));
        let router = Router::new()
            .route("/authorize", get(vk_id_authorize))
            .route("/oauth2/auth", post(vk_id_token))
            .route("/method/{method}", any(call_method))
            .route("/upload/wall", post(upload))
            .fallback(|| async { wire::json(StatusCode::NOT_FOUND, json!({"error": "not found"})) })
            .with_state(shared.clone());
        let running = Running::start("vk", port, router, Arc::new(VkErrors));
        FakeVk { running, shared }
    }

    pub fn configure(&self, change: impl FnOnce(&mut VkConfig)) {
        change(&mut lock(&self.shared).config);
    }

    /// Changes the VK ID app and the user's answer from now on.
    pub fn configure_sign_in(&self, change: impl FnOnce(&mut OAuthConfig)) {
        change(&mut lock(&self.shared).auth.config);
    }

    /// The grant types of the VK ID token requests, and whether each was granted.
    pub fn token_requests(&self) -> Vec<(String, bool)> {
        lock(&self.shared).auth.requests.clone()
    }

    /// Every access token VK ID handed out stops working now.
    pub fn expire_access_tokens(&self) {
        lock(&self.shared).auth.expire();
    }

    /// The user revoked the app: every token VK ID handed out stops working.
    pub fn revoke_sign_in(&self) {
        lock(&self.shared).auth.revoke();
    }

    /// Whether `token` is an access token VK ID handed out that works now.
    pub fn access_token_works(&self, token: &str) -> bool {
        lock(&self.shared).auth.works(token)
    }

    /// Enforces `limit` on all calls; going over it answers error 6.
    pub fn set_rate_limit(&self, limit: RateLimit) {
        self.running.set_rate_limit(limit);
    }

    /// The next call of `method` (e.g. "wall.post") answers VK error `code` instead of
    /// running; errors queue in the order given. Captcha (14) answers carry `captcha_sid`
    /// and `captcha_img`, validation (17) a `redirect_uri`, as VK's do.
    pub fn fail_next(&self, method: &str, code: i64) {
        lock(&self.shared).injected.push_back(Injected {
            method: method.into(),
            code,
            message: error_message(code).into(),
        });
    }

    /// Every post and comment, in the order they were created. A comment's `reply_to` is
    /// the id of the post it is on, and its `raw["kind"]` is "comment".
    pub fn posts(&self) -> Vec<ReceivedPost> {
        let api = lock(&self.shared);
        api.entries
            .iter()
            .map(|e| ReceivedPost {
                id: e.id.to_string(),
                channel: e.owner_id.to_string(),
                text: e.text.clone(),
                formatted: None,
                reply_to: e.post_id.map(|id| id.to_string()),
                media: e
                    .attachments
                    .iter()
                    .filter_map(|a| api.photo(a).map(|p| p.media.clone()))
                    .collect(),
                idempotency_key: e.guid.clone(),
                auth: Some(e.token.clone()),
                deleted: e.deleted,
                url: Some(match e.post_id {
                    None => format!("https://vk.com/wall{}_{}", e.owner_id, e.id),
                    Some(post) => {
                        format!("https://vk.com/wall{}_{post}?reply={}", e.owner_id, e.id)
                    }
                }),
                raw: e.raw.clone(),
            })
            .collect()
    }

    /// The counters of the post `id` (on whichever wall) from now on.
    pub fn set_counts(&self, id: &str, counts: VkCounts) {
        let mut api = lock(&self.shared);
        for entry in api.entries.iter_mut().filter(|e| e.id.to_string() == id) {
            entry.counts = counts;
        }
    }

    /// The owner deleted the post `id` on vk.com, not through postctl; its comments go
    /// with it.
    pub fn delete_on_network(&self, id: &str) {
        let mut api = lock(&self.shared);
        for entry in api
            .entries
            .iter_mut()
            .filter(|e| e.id.to_string() == id || e.post_id.is_some_and(|p| p.to_string() == id))
        {
            entry.deleted = true;
        }
    }

    /// The methods called so far, in order (upload-server requests are not methods).
    pub fn methods(&self) -> Vec<String> {
        lock(&self.shared)
            .calls
            .iter()
            .map(|(m, _)| m.clone())
            .collect()
    }

    /// The parameters of every call of `method`, without the token.
    pub fn calls_of(&self, method: &str) -> Vec<Map<String, Value>> {
        lock(&self.shared)
            .calls
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, p)| p.clone())
            .collect()
    }
}

fake_server!(FakeVk);

fn error_message(code: i64) -> &'static str {
    match code {
        1 => "Unknown error occurred",
        5 => "User authorization failed: invalid access_token (4).",
        6 => "Too many requests per second",
        8 => "Invalid request: v (version) is required",
        9 => "Flood control",
        10 => "Internal server error",
        14 => "Captcha needed",
        15 => "Access denied",
        17 => "Validation required: please open redirect_uri in browser",
        29 => "Rate limit reached",
        100 => "One of the parameters specified was missing or invalid",
        121 => "Invalid hash",
        203 => "Access to group denied",
        214 => "Access to adding post denied",
        219 => "Advertisement post was recently added",
        220 => "Too many recipients",
        222 => "Hyperlinks are forbidden",
        224 => "Too many ads posts",
        _ => "Unknown error occurred",
    }
}

/// VK's error answer: HTTP 200 with the error object, echoing the request's parameters
/// (without the token).
fn vk_error(code: i64, message: &str, params: &Map<String, Value>) -> Response {
    let request_params: Vec<Value> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "access_token")
        .map(|(k, v)| json!({"key": k, "value": wire::param_str(params, k).unwrap_or_else(|| v.to_string())}))
        .collect();
    let mut error = json!({
        "error_code": code,
        "error_msg": message,
        "request_params": request_params,
    });
    match code {
        14 => {
            error["captcha_sid"] = json!("548217342184");
            error["captcha_img"] = json!("https://api.vk.com/captcha.php?sid=548217342184&s=1");
        }
        17 => {
            error["redirect_uri"] =
                json!("https://m.vk.com/login?act=security_check&api_hash=0f1e2d");
        }
        _ => {}
    }
    wire::json(StatusCode::OK, json!({ "error": error }))
}

fn answer(response: Value) -> Response {
    wire::json(StatusCode::OK, json!({ "response": response }))
}

/// `GET /authorize`: VK ID's sign-in page, the user approving.
async fn vk_id_authorize(
    State(shared): State<Arc<Mutex<Api>>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = wire::query_map(query.as_deref());
    lock(&shared).auth.authorize(&params, true, true)
}

/// `POST /oauth2/auth`: the code and refresh grants of VK ID.
async fn vk_id_token(State(shared): State<Arc<Mutex<Api>>>, body: Bytes) -> Response {
    let params: HashMap<String, String> = wire::form_pairs(&body).into_iter().collect();
    let get = |name: &str| params.get(name).cloned().unwrap_or_default();
    let mut api = lock(&shared);
    let grant_type = get("grant_type");
    let refused = |description: &str| {
        wire::json(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_grant", "error_description": description}),
        )
    };
    let answer = if get("client_id") != api.auth.config.client_id {
        Err(wire::json(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "Unknown client_id"}),
        ))
    } else if get("state").is_empty() || get("device_id").is_empty() {
        Err(wire::json(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "state and device_id are required"}),
        ))
    } else {
        match grant_type.as_str() {
            "authorization_code" => {
                match api
                    .auth
                    .take_code(&get("code"), &get("redirect_uri"), &get("code_verifier"))
                {
                    Some(grant)
                        if grant.device_id.as_deref() == Some(get("device_id").as_str()) =>
                    {
                        Ok(vk_id_tokens(
                            &mut api,
                            &grant.scope,
                            grant.device_id,
                            &get("state"),
                        ))
                    }
                    _ => Err(refused("Code is invalid or expired")),
                }
            }
            "refresh_token" => match api.auth.refresh.remove(&get("refresh_token")) {
                // Rotation: the refresh token is spent by this request.
                Some((scope, device)) if device.as_deref() == Some(get("device_id").as_str()) => {
                    Ok(vk_id_tokens(&mut api, &scope, device, &get("state")))
                }
                _ => Err(refused("Refresh token is invalid or expired")),
            },
            _ => Err(wire::json(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}),
            )),
        }
    };
    api.auth.requests.push((grant_type, answer.is_ok()));
    answer.unwrap_or_else(|refusal| refusal)
}

fn vk_id_tokens(api: &mut Api, scope: &str, device_id: Option<String>, state: &str) -> Response {
    let lifetime = api.auth.config.access_lifetime;
    let access = api.auth.issue_access("access", lifetime);
    let refresh = api.auth.issue_refresh(scope, device_id);
    wire::json(
        StatusCode::OK,
        json!({
            "refresh_token": refresh,
            "access_token": access,
            "id_token": "vk-id-token",
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
            "user_id": api.config.user_id,
            "state": state,
            "scope": scope,
        }),
    )
}

/// Parameters from the query and a form or JSON body.
async fn call_method(
    State(shared): State<Arc<Mutex<Api>>>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = wire::pairs_to_object(wire::form_pairs(query.unwrap_or_default().as_bytes()));
    match wire::body_params(&headers, &body) {
        Ok(found) => params.extend(found),
        Err(e) => return vk_error(8, &format!("Invalid request: {}", e.message()), &params),
    }
    let mut api = lock(&shared);
    let token = wire::param_str(&params, "access_token").unwrap_or_default();
    let mut recorded = params.clone();
    recorded.remove("access_token");
    api.calls.push((method.clone(), recorded));
    if token.is_empty() {
        return vk_error(
            5,
            "User authorization failed: no access_token passed.",
            &params,
        );
    }
    if token != api.config.token && !api.auth.works(&token) {
        return vk_error(5, error_message(5), &params);
    }
    if wire::param_str(&params, "v").is_none_or(|v| v.is_empty()) {
        return vk_error(8, error_message(8), &params);
    }
    if let Some(at) = api.injected.iter().position(|i| i.method == method)
        && let Some(injected) = api.injected.remove(at)
    {
        return vk_error(injected.code, &injected.message, &params);
    }
    let result = match method.as_str() {
        "users.get" => Ok(api.users_get(&params)),
        "groups.getById" => api.groups_get(&params),
        "wall.post" => api.wall_post(&params, &token),
        "wall.createComment" => api.create_comment(&params, &token),
        "wall.delete" => api.delete(&params, false),
        "wall.deleteComment" => api.delete(&params, true),
        "photos.getWallUploadServer" => api.upload_server(&params),
        "photos.saveWallPhoto" => api.save_photo(&params),
        "wall.getById" => api.get_by_id(&params),
        _ => Err((3, "Unknown method passed")),
    };
    match result {
        Ok(response) => answer(response),
        Err((code, message)) => vk_error(code, message, &params),
    }
}

type Answer = Result<Value, (i64, &'static str)>;

const INVALID: (i64, &str) = (
    100,
    "One of the parameters specified was missing or invalid",
);

/// Whether the comma-separated `fields` parameter names `field`.
fn asks_for(params: &Map<String, Value>, field: &str) -> bool {
    wire::param_str(params, "fields")
        .is_some_and(|fields| fields.split(',').any(|f| f.trim() == field))
}

fn int(params: &Map<String, Value>, key: &str) -> Option<i64> {
    wire::param_str(params, key).and_then(|v| v.trim().parse().ok())
}

impl Api {
    fn group(&self, id: i64) -> Option<&VkGroup> {
        self.config.groups.iter().find(|g| g.id == id)
    }

    fn photo(&self, attachment: &str) -> Option<&Photo> {
        let rest = attachment.strip_prefix("photo")?;
        let (owner, id) = rest.split_once('_')?;
        let (owner, id): (i64, i64) = (owner.parse().ok()?, id.parse().ok()?);
        self.photos
            .iter()
            .find(|p| p.owner_id == owner && p.id == id)
    }

    fn users_get(&self, params: &Map<String, Value>) -> Value {
        let c = &self.config;
        let ids = wire::param_str(params, "user_ids").unwrap_or_default();
        let asked: Vec<&str> = ids.split(',').filter(|s| !s.trim().is_empty()).collect();
        let mut me = json!({
            "id": c.user_id, "first_name": c.first_name, "last_name": c.last_name,
            "can_access_closed": true, "is_closed": false,
        });
        if asks_for(params, "followers_count") {
            me["followers_count"] = json!(c.followers);
        }
        if asked.is_empty() || asked.iter().any(|id| id.trim() == c.user_id.to_string()) {
            json!([me])
        } else {
            json!([])
        }
    }

    fn groups_get(&self, params: &Map<String, Value>) -> Answer {
        let id = int(params, "group_id")
            .or_else(|| int(params, "group_ids"))
            .ok_or(INVALID)?;
        let group = self.group(id).ok_or(INVALID)?;
        let mut found = json!({
            "id": group.id, "name": group.name, "screen_name": group.screen_name,
            "is_closed": 0, "type": "page",
        });
        if asks_for(params, "members_count") {
            found["members_count"] = json!(group.members);
        }
        Ok(json!({ "groups": [found], "profiles": [] }))
    }

    /// `wall.getById`: the live posts named `<owner>_<id>`, the others left out.
    fn get_by_id(&self, params: &Map<String, Value>) -> Answer {
        let named = wire::param_str(params, "posts").unwrap_or_default();
        let keys: Vec<(i64, i64)> = named
            .split(',')
            .map(|key| {
                let (owner, id) = key.trim().split_once('_')?;
                Some((owner.parse().ok()?, id.parse().ok()?))
            })
            .collect::<Option<_>>()
            .ok_or(INVALID)?;
        if keys.is_empty() || keys.len() > 100 {
            return Err(INVALID);
        }
        let items: Vec<Value> = keys
            .iter()
            .filter_map(|&(owner, id)| {
                self.entries.iter().find(|e| {
                    e.owner_id == owner && e.id == id && e.post_id.is_none() && !e.deleted
                })
            })
            .map(|e| {
                let c = e.counts;
                json!({
                    "id": e.id, "owner_id": e.owner_id, "from_id": e.owner_id,
                    "date": wire::unix_millis() / 1000, "post_type": "post", "text": e.text,
                    "comments": {"count": c.comments, "can_post": 1},
                    "likes": {"count": c.likes, "user_likes": 0, "can_like": 1},
                    "reposts": {"count": c.reposts, "user_reposted": 0},
                    "views": {"count": c.views},
                })
            })
            .collect();
        Ok(json!({ "items": items }))
    }

    /// Whose wall `owner_id` is: the token's user, or a community the fake knows.
    fn wall(&self, params: &Map<String, Value>) -> Result<i64, (i64, &'static str)> {
        let owner = int(params, "owner_id").unwrap_or(self.config.user_id);
        if owner == self.config.user_id {
            return Ok(owner);
        }
        match self.group(-owner) {
            Some(_) if owner < 0 => Ok(owner),
            _ => Err((15, "Access denied")),
        }
    }

    /// The message and attachments of a post or comment, checked as VK checks them.
    fn content(
        &self,
        params: &Map<String, Value>,
    ) -> Result<(String, Vec<String>), (i64, &'static str)> {
        let text = wire::param_str(params, "message").unwrap_or_default();
        let attachments: Vec<String> = wire::param_str(params, "attachments")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        if text.trim().is_empty() && attachments.is_empty() {
            return Err((
                100,
                "One of the parameters specified was missing or invalid: message is empty",
            ));
        }
        if text.chars().count() > MAX_MESSAGE {
            return Err((
                100,
                "One of the parameters specified was missing or invalid: message is too long",
            ));
        }
        let links = attachments
            .iter()
            .filter(|a| a.starts_with("http://") || a.starts_with("https://"))
            .count();
        if links > 1 {
            return Err((
                100,
                "One of the parameters specified was missing or invalid: only one link can be attached",
            ));
        }
        let media: Vec<&String> = attachments
            .iter()
            .filter(|a| !a.starts_with("http://") && !a.starts_with("https://"))
            .collect();
        if media.len() > MAX_MEDIA {
            return Err((
                100,
                "One of the parameters specified was missing or invalid: too many attachments",
            ));
        }
        if media.iter().any(|a| self.photo(a).is_none()) {
            return Err((
                100,
                "One of the parameters specified was missing or invalid: attachments",
            ));
        }
        Ok((text, attachments))
    }

    /// The post or comment this wall already holds under `guid`, if any.
    fn by_guid(&self, owner: i64, guid: &Option<String>, comment: bool) -> Option<&Entry> {
        let guid = guid.as_ref()?;
        self.entries.iter().find(|e| {
            e.owner_id == owner
                && e.guid.as_ref() == Some(guid)
                && !e.deleted
                && e.post_id.is_some() == comment
        })
    }

    fn posts_as_community(
        &self,
        params: &Map<String, Value>,
        owner: i64,
    ) -> Result<bool, (i64, &'static str)> {
        let wanted = wire::param_bool(params, "from_group").unwrap_or(false) && owner < 0;
        if wanted && !self.group(-owner).is_some_and(|g| g.admin) {
            return Err((
                15,
                "Access denied: only community admins can post on behalf of the community",
            ));
        }
        Ok(wanted)
    }

    fn wall_post(&mut self, params: &Map<String, Value>, token: &str) -> Answer {
        let owner = self.wall(params)?;
        let from_group = self.posts_as_community(params, owner)?;
        let guid = wire::param_str(params, "guid").filter(|g| !g.is_empty());
        if let Some(existing) = self.by_guid(owner, &guid, false) {
            return Ok(json!({ "post_id": existing.id }));
        }
        let (text, attachments) = self.content(params)?;
        let id = self.next_id();
        self.entries.push(Entry {
            owner_id: owner,
            id,
            post_id: None,
            text,
            attachments,
            guid,
            deleted: false,
            token: token.into(),
            counts: VkCounts::default(),
            raw: json!({"kind": "post", "params": without_token(params), "from_group": from_group}),
        });
        Ok(json!({ "post_id": id }))
    }

    fn create_comment(&mut self, params: &Map<String, Value>, token: &str) -> Answer {
        let owner = self.wall(params)?;
        let from_group = self.posts_as_community(params, owner)?;
        let post_id = int(params, "post_id").ok_or(INVALID)?;
        let on_post = self
            .entries
            .iter()
            .any(|e| e.owner_id == owner && e.id == post_id && e.post_id.is_none() && !e.deleted);
        if !on_post {
            return Err((
                100,
                "One of the parameters specified was missing or invalid: post not found",
            ));
        }
        let guid = wire::param_str(params, "guid").filter(|g| !g.is_empty());
        if let Some(existing) = self.by_guid(owner, &guid, true) {
            return Ok(json!({ "comment_id": existing.id, "parents_stack": [] }));
        }
        let (text, attachments) = self.content(params)?;
        let id = self.next_id();
        self.entries.push(Entry {
            owner_id: owner,
            id,
            post_id: Some(post_id),
            text,
            attachments,
            guid,
            deleted: false,
            token: token.into(),
            counts: VkCounts::default(),
            raw: json!({"kind": "comment", "params": without_token(params), "from_group": from_group}),
        });
        Ok(json!({ "comment_id": id, "parents_stack": [] }))
    }

    fn delete(&mut self, params: &Map<String, Value>, comment: bool) -> Answer {
        let owner = self.wall(params)?;
        let key = if comment { "comment_id" } else { "post_id" };
        let id = int(params, key).ok_or(INVALID)?;
        let entry = self.entries.iter_mut().find(|e| {
            e.owner_id == owner && e.id == id && e.post_id.is_some() == comment && !e.deleted
        });
        match entry {
            Some(entry) => {
                entry.deleted = true;
                if !comment {
                    // A deleted post takes its comments with it.
                    for e in self
                        .entries
                        .iter_mut()
                        .filter(|e| e.owner_id == owner && e.post_id == Some(id))
                    {
                        e.deleted = true;
                    }
                }
                Ok(json!(1))
            }
            None => Err(INVALID),
        }
    }

    fn upload_server(&self, params: &Map<String, Value>) -> Answer {
        let owner = match int(params, "group_id") {
            Some(group) if self.group(group).is_some() => -group,
            Some(_) => return Err((203, "Access to group denied")),
            None => self.config.user_id,
        };
        Ok(json!({
            "upload_url": format!("{}/upload/wall?owner={owner}&act=do_add", self.base_url),
            "album_id": -14,
            "user_id": self.config.user_id,
        }))
    }

    fn save_photo(&mut self, params: &Map<String, Value>) -> Answer {
        let owner = match (int(params, "group_id"), int(params, "user_id")) {
            (Some(group), _) => -group,
            (None, Some(user)) => user,
            (None, None) => self.config.user_id,
        };
        let hash = wire::param_str(params, "hash").unwrap_or_default();
        let server = int(params, "server");
        let photo = wire::param_str(params, "photo").unwrap_or_default();
        let Some(at) = self.uploads.iter().position(|u| {
            u.hash == hash && Some(u.server) == server && u.photo == photo && u.owner_id == owner
        }) else {
            return Err((121, "Invalid hash"));
        };
        let mut upload = self.uploads.remove(at);
        let id = self.next_id();
        upload.media.id = format!("photo{owner}_{id}");
        upload.media.alt = wire::param_str(params, "caption").filter(|c| !c.is_empty());
        let caption = upload.media.alt.clone().unwrap_or_default();
        self.photos.push(Photo {
            owner_id: owner,
            id,
            media: upload.media,
        });
        Ok(json!([{
            "id": id, "album_id": -14, "owner_id": owner, "date": wire::unix_millis() / 1000,
            "text": caption, "sizes": [],
        }]))
    }

    fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }
}

fn without_token(params: &Map<String, Value>) -> Value {
    let mut params = params.clone();
    params.remove("access_token");
    Value::Object(params)
}

/// The upload server: a multipart POST with the file in the field `photo`.
async fn upload(
    State(shared): State<Arc<Mutex<Api>>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = wire::query_map(query.as_deref());
    let owner: i64 = query.get("owner").and_then(|o| o.parse().ok()).unwrap_or(0);
    let parts = match wire::multipart(&headers, body).await {
        Ok(parts) => parts,
        Err(e) => {
            return wire::json(
                StatusCode::OK,
                json!({"error": format!("ERR_UPLOAD_BAD_REQUEST: {}", e.message())}),
            );
        }
    };
    let mut api = lock(&shared);
    let server = 861_234;
    let hash = format!("{:032x}", api.next_id() * 7919);
    let Some(file) = parts
        .iter()
        .find(|p| p.name == "photo" && p.file_name.is_some())
    else {
        // VK answers an upload without the `photo` field with an empty list.
        return wire::json(
            StatusCode::OK,
            json!({"server": server, "photo": "[]", "hash": hash}),
        );
    };
    let Some(mime) = wire::sniff_media_type(&file.data).filter(|m| m.starts_with("image/")) else {
        return wire::json(
            StatusCode::OK,
            json!({"error": "ERR_UPLOAD_FILE_INVALID: not an image"}),
        );
    };
    let photo = json!([{"photo": format!("{hash}:w"), "sizes": [], "kid": hash}]).to_string();
    api.uploads.push(Upload {
        server,
        photo: photo.clone(),
        hash: hash.clone(),
        owner_id: owner,
        media: ReceivedMedia {
            id: String::new(),
            mime: mime.into(),
            size: file.data.len(),
            alt: None,
            file_name: file.file_name.clone(),
        },
    });
    wire::json(
        StatusCode::OK,
        json!({"server": server, "photo": photo, "hash": hash}),
    )
}

struct VkErrors;

impl ErrorStyle for VkErrors {
    fn server_error(&self, _path: &str, _status: StatusCode) -> Response {
        vk_error(10, error_message(10), &Map::new())
    }

    fn rate_limited(&self, _path: &str, _quota: &QuotaState) -> Response {
        vk_error(6, error_message(6), &Map::new())
    }
}

#[cfg(test)]
mod tests;
