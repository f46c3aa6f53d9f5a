//! X's OAuth 2.0 authorization server and API v2 (platforms.md §1).
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
//! API: `GET /2/users/me` answers the signed-in user, `401` problem+json for a token that
//! is unknown or expired; every answer carries `x-rate-limit-*`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::chaos::ErrorStyle;
use super::quota::QuotaState;
use super::server::BoundPort;
use super::wire;
use super::{Running, lock};

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
            .fallback(not_found)
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

    /// Whether `token` is an access token that works now.
    pub fn access_token_works(&self, token: &str) -> bool {
        lock(&self.shared)
            .access
            .get(token)
            .is_some_and(|expires| *expires > SystemTime::now())
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
async fn users_me(State(shared): State<Arc<Mutex<Server>>>, headers: HeaderMap) -> Response {
    let server = lock(&shared);
    if let Err(refusal) = signed_in(&server, &headers) {
        return refusal;
    }
    wire::json(
        StatusCode::OK,
        json!({"data": {"id": server.config.user_id, "name": "postctl", "username": server.config.username}}),
    )
}

/// Checks the bearer token: known and not expired.
fn signed_in(server: &Server, headers: &HeaderMap) -> Result<(), Response> {
    let token = wire::auth_token(headers, "Bearer").unwrap_or_default();
    match server.access.get(&token) {
        Some(expires) if *expires > SystemTime::now() => Ok(()),
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
