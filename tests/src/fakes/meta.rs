//! What Meta's Graph APIs (Instagram, Facebook Pages, Threads) share on the wire, for their
//! fakes: the error object `{"error": {message, type, code, error_subcode, is_transient,
//! fbtrace_id}}`, the usage headers, the failures a test can inject into a step, fetching
//! media from a public URL as Meta's servers do, and Meta's login ([`MetaLogin`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::oauth::{AuthServer, OAuthConfig};
use super::{lock, wire};

/// How a step fails.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// A Graph API error: HTTP status, code, subcode, `is_transient`, and the minutes in
    /// `X-Business-Use-Case-Usage`'s `estimated_time_to_regain_access`, if sent.
    Error {
        http: u16,
        code: i64,
        subcode: Option<i64>,
        transient: bool,
        regain_minutes: Option<u64>,
    },
    /// The step is carried out, then the answer is held back this long (past the client's
    /// timeout: the answer is lost).
    LoseAnswer(Duration),
}

impl Fault {
    /// An expired or revoked token: HTTP 400, code 190 (`OAuthException`).
    pub fn expired_token() -> Fault {
        Fault::Error {
            http: 400,
            code: 190,
            subcode: Some(463),
            transient: false,
            regain_minutes: None,
        }
    }

    /// Throttling: HTTP 400 with `code` (4, 17, 32, 613) and the minutes until access
    /// returns in the usage header.
    pub fn throttled(code: i64, minutes: u64) -> Fault {
        Fault::Error {
            http: 400,
            code,
            subcode: None,
            transient: true,
            regain_minutes: Some(minutes),
        }
    }

    /// A server error Meta marks as transient: HTTP 500, code 2.
    pub fn transient() -> Fault {
        Fault::Error {
            http: 500,
            code: 2,
            subcode: None,
            transient: true,
            regain_minutes: None,
        }
    }

    /// A refusal of the request as invalid: HTTP 400, code 100.
    pub fn invalid() -> Fault {
        Fault::Error {
            http: 400,
            code: 100,
            subcode: None,
            transient: false,
            regain_minutes: None,
        }
    }
}

/// A fake whose steps a test can make fail: its queue of faults, and what it adds to
/// every answer of a step.
pub(crate) trait Faults: Send + 'static {
    type Step: PartialEq + Copy + Send;
    /// The error `type` of the fake's Graph errors, e.g. `IGApiException`.
    const KIND: &'static str;
    fn faults(&mut self) -> &mut VecDeque<(Self::Step, Fault)>;
    /// Whose usage an injected error's header reports, for [`with_fault`].
    fn owner(&self) -> String {
        String::new()
    }
    /// The answer to a step as sent (Facebook adds the Page's usage header).
    fn finish(&self, _owner: &str, answer: Response) -> Response {
        answer
    }
}

/// The [`Faults`] of a fake whose `Api` keys its usage by its `user_id` (Instagram,
/// Threads), with its `faults`, `Step` and `KIND`.
macro_rules! user_faults {
    () => {
        impl $crate::fakes::meta::Faults for Api {
            type Step = Step;
            const KIND: &'static str = KIND;

            fn faults(&mut self) -> &mut std::collections::VecDeque<(Step, Fault)> {
                &mut self.faults
            }

            fn owner(&self) -> String {
                self.user_id.clone()
            }
        }
    };
}
pub(crate) use user_faults;

/// Runs a step with [`with_fault_as`], its errors keyed by the fake's owner.
pub(crate) async fn with_fault<A: Faults>(
    shared: &Arc<Mutex<A>>,
    step: A::Step,
    run: impl FnOnce(&mut A) -> Response,
) -> Response {
    let owner = lock(shared).owner();
    with_fault_as(shared, step, &owner, run).await
}

/// Runs a step, applying the fault queued for it: an error instead (its usage header
/// keyed by `owner`), or the answer lost.
pub(crate) async fn with_fault_as<A: Faults>(
    shared: &Arc<Mutex<A>>,
    step: A::Step,
    owner: &str,
    run: impl FnOnce(&mut A) -> Response,
) -> Response {
    let (answer, hold) = {
        let mut api = lock(shared);
        let faults = api.faults();
        let fault = faults
            .iter()
            .position(|(s, _)| *s == step)
            .and_then(|at| faults.remove(at))
            .map(|(_, f)| f);
        let (answer, hold) = match fault {
            Some(fault @ Fault::Error { .. }) => (
                fault_answer(&fault, owner, A::KIND).unwrap_or_else(|| run(&mut api)),
                None,
            ),
            Some(Fault::LoseAnswer(wait)) => (run(&mut api), Some(wait)),
            None => (run(&mut api), None),
        };
        (api.finish(owner, answer), hold)
    };
    if let Some(wait) = hold {
        tokio::time::sleep(wait).await;
    }
    answer
}

/// A request's parameters: the query's, then the form's or JSON body's.
pub(crate) fn params(
    query: Option<String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Map<String, Value> {
    let mut params = wire::pairs_to_object(wire::form_pairs(query.unwrap_or_default().as_bytes()));
    if let Ok(found) = wire::body_params(headers, body) {
        params.extend(found);
    }
    params
}

/// The token of a request: `Authorization: Bearer`, or an `access_token` parameter.
pub(crate) fn token(headers: &HeaderMap, params: &Map<String, Value>) -> Option<String> {
    wire::auth_token(headers, "Bearer").or_else(|| wire::param_str(params, "access_token"))
}

/// A carousel container's `children` parameter: ids separated by commas.
pub(crate) fn children(params: &Map<String, Value>) -> Vec<String> {
    wire::param_str(params, "children")
        .map(|c| {
            c.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// One read of a container's status: IN_PROGRESS for the polls left, then FINISHED.
pub(crate) fn poll(status: &mut String, pending_polls: &mut u32) {
    if status == "IN_PROGRESS" {
        if *pending_polls == 0 {
            *status = "FINISHED".into();
        } else {
            *pending_polls -= 1;
        }
    }
}

/// An insights answer: `{data: [{name, period: "lifetime", values: [{value}], title,
/// description, id}]}`, a metric of `what` (e.g. "media") each.
pub(crate) fn insights_answer(id: &str, what: &str, metrics: Vec<(String, u64)>) -> Response {
    let data: Vec<Value> = metrics
        .into_iter()
        .map(|(name, value)| {
            json!({
                "name": name, "period": "lifetime", "values": [{"value": value}],
                "title": name, "description": format!("The {what}'s {name}"),
                "id": format!("{id}/insights/{name}/lifetime"),
            })
        })
        .collect();
    wire::json(StatusCode::OK, json!({ "data": data }))
}

/// A Graph API error answer.
pub(crate) fn graph_error(
    status: StatusCode,
    code: i64,
    subcode: Option<i64>,
    message: &str,
    transient: bool,
    kind: &str,
) -> Response {
    let kind = if code == 190 { "OAuthException" } else { kind };
    let mut error = json!({
        "message": message,
        "type": kind,
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "AbCdEfGhIjK",
    });
    if let Some(sub) = subcode {
        error["error_subcode"] = json!(sub);
    }
    wire::json(status, json!({ "error": error }))
}

/// The answer an injected [`Fault::Error`] gives, with its usage header keyed by `owner`.
pub(crate) fn fault_answer(fault: &Fault, owner: &str, kind: &str) -> Option<Response> {
    let Fault::Error {
        http,
        code,
        subcode,
        transient,
        regain_minutes,
    } = fault
    else {
        return None;
    };
    let message = match code {
        4 => "Application request limit reached",
        17 => "User request limit reached",
        32 => "Page request limit reached",
        613 => "Calls to this api have exceeded the rate limit.",
        190 => "Error validating access token: Session has expired.",
        100 => "Invalid parameter",
        _ => "An unexpected error has occurred. Please retry your request later.",
    };
    let mut answer = graph_error(
        StatusCode::from_u16(*http).unwrap_or(StatusCode::BAD_REQUEST),
        *code,
        *subcode,
        message,
        *transient,
        kind,
    );
    if let Some(minutes) = regain_minutes {
        let usage = business_usage(owner, 100, *minutes);
        wire::set_headers(answer.headers_mut(), [("x-business-use-case-usage", usage)]);
    }
    Some(answer)
}

/// An `X-Business-Use-Case-Usage` value: `percent` of calls used by `owner`, access back
/// in `minutes`.
pub(crate) fn business_usage(owner: &str, percent: u64, minutes: u64) -> String {
    json!({ owner: [{
        "type": "pages", "call_count": percent, "total_cputime": 1, "total_time": 1,
        "estimated_time_to_regain_access": minutes,
    }]})
    .to_string()
}

/// A plain HTTP/1.1 GET of `url` (the fake S3's presigned URL), as Meta's fetcher does.
pub(crate) fn fetch(url: &str) -> Result<Vec<u8>, String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").ok_or("only http:// in tests")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(host).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no header end")?;
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    if !head.starts_with("HTTP/1.1 200") {
        return Err(head);
    }
    Ok(answer[split + 4..].to_vec())
}

/// Meta's login (Instagram Login, Threads, Facebook Login;), the
/// authorization server of the three fakes, each on its own paths and with its own grant
/// names:
/// - `GET {authorize}?client_id&redirect_uri&response_type=code&scope&state`: the user
///   approves and the browser goes back with `code` and `state` (no PKCE: Meta does not
///   document it, so the fake neither needs nor checks it);
/// - `POST {token}` (form: `client_id`, `client_secret`, `grant_type=authorization_code`,
///   `redirect_uri`, `code`) → a short-lived token (1 hour), in the network's [`CodeAnswer`];
/// - `GET {exchange}?grant_type={exchange grant}&client_secret&{token param}=short-lived`
///   (Facebook: also `client_id`) → `{access_token, token_type: "bearer", expires_in}`, a
///   long-lived token (60 days);
/// - `GET {refresh}?grant_type={refresh grant}&access_token` (a long-lived token at least
///   24 hours old and unexpired) → a new long-lived token for 60 days; the old one works
///   until it expires. Facebook has none.
///
/// Refusals of the code are the network's [`CodeAnswer`] error; the others are Graph
/// errors, code 100 (a wrong grant or secret) or 190 (a token it cannot use).
#[derive(Debug)]
pub struct MetaLogin {
    pub(crate) auth: AuthServer,
    grants: Grants,
    /// The user id the code's answer names.
    user_id: String,
    /// Whether the code's answer names the user (a test turns it off to make postctl ask
    /// `/me`).
    pub(crate) says_user: bool,
}

/// What differs between Meta's logins on the wire.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grants {
    /// The tokens' prefix: `ig`, `th`, `fb`.
    pub prefix: &'static str,
    pub exchange: &'static str,
    /// The parameter carrying the short-lived token to exchange.
    pub token_param: &'static str,
    pub refresh: Option<&'static str>,
    pub code_answer: CodeAnswer,
}

/// The shape of a code's answer and of its refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeAnswer {
    /// Instagram: `{"data": [{access_token, user_id, permissions}]}`; a refusal
    /// `{"error_type": "OAuthException", "code": 400, "error_message"}`.
    Wrapped,
    /// Threads: `{access_token, user_id}` with a numeric id; Graph error refusals.
    Flat,
    /// Facebook: `{access_token, token_type, expires_in}`; Graph error refusals.
    Bearer,
}

/// How long a short-lived token works (1 hour).
const SHORT_LIVED: Duration = Duration::from_secs(60 * 60);
/// How long a long-lived token works (60 days).
const LONG_LIVED: Duration = Duration::from_secs(60 * 24 * 60 * 60);
/// How old a long-lived token must be to be renewed (24 hours).
const RENEWABLE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

impl MetaLogin {
    pub(crate) fn new(grants: Grants, client_id: &str, secret: &str, user_id: &str) -> Self {
        MetaLogin {
            auth: AuthServer::new(
                grants.prefix,
                OAuthConfig {
                    client_id: client_id.into(),
                    client_secret: Some(secret.into()),
                    redirect_uris: Vec::new(),
                    access_lifetime: SHORT_LIVED,
                    approve: true,
                },
            ),
            grants,
            user_id: user_id.into(),
            says_user: true,
        }
    }

    /// Whether `token` is one this login issued that works now.
    pub(crate) fn works(&self, token: &str) -> bool {
        self.auth.works(token)
    }

    fn code(&mut self, params: &HashMap<String, String>) -> Response {
        let get = |name: &str| params.get(name).cloned().unwrap_or_default();
        let refused = |message: &str| match self.grants.code_answer {
            CodeAnswer::Wrapped => wire::json(
                StatusCode::BAD_REQUEST,
                json!({"error_type": "OAuthException", "code": 400, "error_message": message}),
            ),
            CodeAnswer::Flat | CodeAnswer::Bearer => graph_error(
                StatusCode::BAD_REQUEST,
                100,
                None,
                message,
                false,
                "OAuthException",
            ),
        };
        let answer = if get("client_id") != self.auth.config.client_id
            || Some(get("client_secret")) != self.auth.config.client_secret
        {
            Err(refused("Invalid platform app"))
        } else if get("grant_type") != "authorization_code" {
            Err(refused("Unsupported grant_type"))
        } else {
            match self.auth.take_code(&get("code"), &get("redirect_uri"), "") {
                Some(grant) => {
                    let token = self.auth.issue_access("short", SHORT_LIVED);
                    let user = self.user_id.clone();
                    let mut body = match self.grants.code_answer {
                        CodeAnswer::Wrapped => {
                            json!({"data": [{"access_token": token, "user_id": user, "permissions": grant.scope}]})
                        }
                        CodeAnswer::Flat => json!({
                            "access_token": token,
                            "user_id": user.parse::<u64>().map_or(json!(user), |id| json!(id)),
                        }),
                        CodeAnswer::Bearer => json!({
                            "access_token": token, "token_type": "bearer",
                            "expires_in": SHORT_LIVED.as_secs(),
                        }),
                    };
                    if !self.says_user {
                        if let Some(data) = body["data"][0].as_object_mut() {
                            data.remove("user_id");
                        }
                        if let Some(flat) = body.as_object_mut() {
                            flat.remove("user_id");
                        }
                    }
                    Ok(wire::json(StatusCode::OK, body))
                }
                None => Err(refused(
                    "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
                )),
            }
        };
        self.auth
            .requests
            .push(("authorization_code".into(), answer.is_ok()));
        answer.unwrap_or_else(|refusal| refusal)
    }

    fn exchange(&mut self, params: &HashMap<String, String>) -> Response {
        let get = |name: &str| params.get(name).cloned().unwrap_or_default();
        let grants = self.grants;
        let short = get(grants.token_param);
        let client_ok =
            grants.token_param == "access_token" || get("client_id") == self.auth.config.client_id;
        let answer = if get("grant_type") != grants.exchange
            || Some(get("client_secret")) != self.auth.config.client_secret
            || !client_ok
        {
            Err(self.error(100, "Invalid grant_type, client_id or client_secret"))
        } else if !short.starts_with(&format!("{}-short-", grants.prefix))
            || !self.auth.works(&short)
        {
            Err(self.error(
                190,
                "Invalid OAuth access token - Cannot parse access token",
            ))
        } else {
            Ok(self.long_lived())
        };
        self.auth
            .requests
            .push((grants.exchange.into(), answer.is_ok()));
        answer.unwrap_or_else(|refusal| refusal)
    }

    fn refresh(&mut self, params: &HashMap<String, String>) -> Response {
        let get = |name: &str| params.get(name).cloned().unwrap_or_default();
        let Some(grant) = self.grants.refresh else {
            return self.error(100, "Unsupported request");
        };
        let token = get("access_token");
        let issued = self.auth.access.get(&token).copied();
        let now = std::time::SystemTime::now();
        let answer = match issued {
            _ if get("grant_type") != grant => Err(self.error(100, "Invalid grant_type")),
            Some(issued)
                if token.starts_with(&format!("{}-long-", self.grants.prefix))
                    && issued.until > now
                    && issued.at + RENEWABLE_AFTER <= now =>
            {
                Ok(self.long_lived())
            }
            _ => Err(self.error(
                190,
                "Error validating access token: Session has expired or the token cannot be refreshed yet.",
            )),
        };
        self.auth.requests.push((grant.into(), answer.is_ok()));
        answer.unwrap_or_else(|refusal| refusal)
    }

    /// A new long-lived token: `{access_token, token_type, expires_in}`.
    fn long_lived(&mut self) -> Response {
        let token = self.auth.issue_access("long", LONG_LIVED);
        wire::json(
            StatusCode::OK,
            json!({"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED.as_secs()}),
        )
    }

    fn error(&self, code: i64, message: &str) -> Response {
        graph_error(
            StatusCode::BAD_REQUEST,
            code,
            None,
            message,
            false,
            "OAuthException",
        )
    }
}

/// A fake whose state holds a [`MetaLogin`].
pub(crate) trait HasLogin: Send + 'static {
    fn login(&mut self) -> &mut MetaLogin;
}

/// Where a fake serves its login: the authorize, token, exchange and refresh paths.
pub(crate) struct LoginPaths {
    pub authorize: &'static str,
    pub token: &'static str,
    pub exchange: &'static str,
    pub refresh: Option<&'static str>,
}

/// The login's routes, to merge into the fake's router.
pub(crate) fn login_routes<A: HasLogin>(paths: LoginPaths) -> Router<Arc<Mutex<A>>> {
    let authorize = |State(shared): State<Arc<Mutex<A>>>, RawQuery(query): RawQuery| async move {
        let params = wire::query_map(query.as_deref());
        lock(&shared).login().auth.authorize(&params, false, false)
    };
    let code = |State(shared): State<Arc<Mutex<A>>>, body: Bytes| async move {
        let params: HashMap<String, String> = wire::form_pairs(&body).into_iter().collect();
        lock(&shared).login().code(&params)
    };
    let exchange = |State(shared): State<Arc<Mutex<A>>>, RawQuery(query): RawQuery| async move {
        lock(&shared)
            .login()
            .exchange(&wire::query_map(query.as_deref()))
    };
    let refresh = |State(shared): State<Arc<Mutex<A>>>, RawQuery(query): RawQuery| async move {
        lock(&shared)
            .login()
            .refresh(&wire::query_map(query.as_deref()))
    };
    let mut router = Router::new().route(paths.authorize, get(authorize));
    router = if paths.token == paths.exchange {
        router.route(paths.token, get(exchange).post(code))
    } else {
        router
            .route(paths.token, post(code))
            .route(paths.exchange, get(exchange))
    };
    match paths.refresh {
        Some(path) => router.route(path, get(refresh)),
        None => router,
    }
}

/// What a test controls and reads of a fake's Meta login.
pub trait MetaSignIn {
    #[doc(hidden)]
    fn with_login<R>(&self, use_it: impl FnOnce(&mut MetaLogin) -> R) -> R;

    /// Changes the app and the user's answer from now on.
    fn configure_sign_in(&self, change: impl FnOnce(&mut OAuthConfig)) {
        self.with_login(|login| change(&mut login.auth.config));
    }

    /// The token requests (`authorization_code`, the exchange and refresh grants), and
    /// whether each was granted, in order.
    fn token_requests(&self) -> Vec<(String, bool)> {
        self.with_login(|login| login.auth.requests.clone())
    }

    /// Every token the login issued was issued `by` earlier and expires `by` earlier:
    /// the test's way to let days pass.
    fn age_tokens(&self, by: Duration) {
        self.with_login(|login| login.auth.age(by));
    }

    /// The user removed the app: every token the login issued stops working.
    fn revoke_sign_in(&self) {
        self.with_login(|login| login.auth.revoke());
    }

    /// Whether `token` is a token the login issued that works now.
    fn access_token_works(&self, token: &str) -> bool {
        self.with_login(|login| login.works(token))
    }

    /// Whether the code's answer names the user (if not, postctl asks `/me`).
    fn answer_user_id(&self, says: bool) {
        self.with_login(|login| login.says_user = says);
    }
}

/// Implements [`MetaSignIn`] for a fake whose state (`shared`) is [`HasLogin`].
macro_rules! meta_sign_in {
    ($fake:ty) => {
        impl $crate::fakes::meta::MetaSignIn for $fake {
            fn with_login<R>(
                &self,
                use_it: impl FnOnce(&mut $crate::fakes::meta::MetaLogin) -> R,
            ) -> R {
                use $crate::fakes::meta::HasLogin;
                use_it($crate::fakes::lock(&self.shared).login())
            }
        }
    };
}
pub(crate) use meta_sign_in;
