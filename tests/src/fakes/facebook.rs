//! The Facebook Graph API for Pages under `/v23.0`: tokens as
//! `Authorization: Bearer` (or an `access_token` parameter), the Graph error object, and
//! an `X-Business-Use-Case-Usage` header on every answer to a Page token (the usage the
//! test sets, keyed by the Page id).
//!
//! - `GET /me/accounts?fields=id,name,access_token,tasks` with the user token → the
//!   user's Pages, each with its Page token; with a Page token, error 100 (a Page has no
//!   `accounts` edge);
//! - `GET /{page-id}?fields=id,name,followers_count`;
//! - `POST /{page-id}/feed {message, link, attached_media[i]: {"media_fbid": id}}` →
//!   `{id: "{page-id}_{post-id}"}`;
//! - `POST /{page-id}/photos` (multipart `source`, `message`, `published`, optional
//!   `alt_text_custom`) → `{id, post_id}` when published, `{id}` when not;
//! - `GET /{page-id}/feed?fields=id,message,permalink_url,created_time` (newest first);
//! - `GET /{post-id}?fields=permalink_url` or `reactions.summary(total_count).limit(0),
//!   comments.summary(total_count).limit(0),shares` (`shares` left out when there are none);
//! - `DELETE /{post-id}` → `{success: true}`.
//!
//! Posting needs the Page token: the user token answers error 200 (permissions).
//!
//! Facebook Login ([`super::meta::MetaLogin`]), under `/v23.0`:
//! `GET /dialog/oauth` (www.facebook.com's), `POST /oauth/access_token` with the code →
//! `{access_token, token_type, expires_in}` (a short-lived user token; the fake
//! assumes Meta's Login docs for the code exchange), and `GET /oauth/access_token
//! ?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token` → a long-lived
//! user token (60 days). No renewal. The user tokens it issues list the Pages like
//! [`FakeFacebook::USER_TOKEN`].
//!
//! Where Meta's documentation leaves a fact unconfirmed, the fake assumes: no text limit it
//! enforces short of 63,206 characters; the multi-photo `attached_media` flow;
//! `alt_text_custom`; the delete answer `{success: true}`; `permalink_url`; the post fields
//! above; the Page's `followers_count`; an invalid token answers HTTP 400 code 190;
//! throttling answers HTTP 400 with the test's code and the usage header.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

pub use super::meta::Fault;
use super::meta::{
    CodeAnswer, Faults, Grants, HasLogin, LoginPaths, MetaLogin, business_usage, login_routes,
    meta_sign_in, params, token, with_fault_as,
};
use super::server::{BoundPort, RunningServer};
use super::{lock, wire};

const MAX_MESSAGE: usize = 63_206;
const KIND: &str = "OAuthException";

/// A step a test can make fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `POST /{page}/feed`.
    Feed,
    /// `POST /{page}/photos`.
    Photo,
    /// `GET /{page}/feed` (the lookup after a lost answer).
    ReadFeed,
    /// `DELETE /{post}`.
    Delete,
}

/// A Page the fake user manages.
#[derive(Clone, Debug)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub token: String,
    pub tasks: Vec<String>,
}

/// A photo uploaded to a Page.
#[derive(Clone, Debug)]
pub struct Photo {
    pub id: String,
    pub bytes: Vec<u8>,
    pub alt: Option<String>,
    pub published: bool,
}

/// A post on a Page.
#[derive(Clone, Debug)]
pub struct FbPost {
    pub id: String,
    pub page: String,
    pub message: String,
    pub link: Option<String>,
    /// The ids of its photos.
    pub photos: Vec<String>,
    pub deleted: bool,
    /// Reactions, comments, shares, when the test set them.
    pub counts: Option<(u64, u64, u64)>,
}

struct Api {
    user_token: String,
    pages: Vec<Page>,
    posts: Vec<FbPost>,
    photos: Vec<Photo>,
    next_id: u64,
    faults: VecDeque<(Step, Fault)>,
    log: Vec<String>,
    /// The usage the answers report: percent of calls, minutes until access returns.
    usage: (u64, u64),
    followers: u64,
    /// Facebook Login, the authorization server.
    login: MetaLogin,
}

pub struct FakeFacebook {
    server: RunningServer,
    shared: Arc<Mutex<Api>>,
}

impl FakeFacebook {
    /// The user token `accounts add` is given.
    pub const USER_TOKEN: &'static str = "EAAfake-user-token-0123456789";
    pub const PAGE_ID: &'static str = "104000000000001";
    pub const PAGE_TOKEN: &'static str = "EAAfake-page-token-abcdefghij";
    /// The Facebook app's id and secret, and the user's id.
    pub const CLIENT_ID: &'static str = "5566778899001122";
    pub const CLIENT_SECRET: &'static str = "fb-app-secret-0123456789abcdef";
    pub const USER_ID: &'static str = "100000000000042";

    pub fn start() -> FakeFacebook {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Api {
            user_token: Self::USER_TOKEN.into(),
            pages: vec![Page {
                id: Self::PAGE_ID.into(),
                name: "postctl test page".into(),
                token: Self::PAGE_TOKEN.into(),
                tasks: vec!["ANALYZE".into(), "CREATE_CONTENT".into(), "MODERATE".into()],
            }],
            posts: Vec::new(),
            photos: Vec::new(),
            next_id: 1,
            faults: VecDeque::new(),
            log: Vec::new(),
            usage: (1, 0),
            followers: 0,
            login: MetaLogin::new(
                Grants {
                    prefix: "fb",
                    exchange: "fb_exchange_token",
                    token_param: "fb_exchange_token",
                    refresh: None,
                    code_answer: CodeAnswer::Bearer,
                },
                Self::CLIENT_ID,
                Self::CLIENT_SECRET,
                Self::USER_ID,
            ),
        }));
        let router = Router::new()
            .merge(login_routes(LoginPaths {
                authorize: "/v23.0/dialog/oauth",
                token: "/v23.0/oauth/access_token",
                exchange: "/v23.0/oauth/access_token",
                refresh: None,
            }))
            .route("/v23.0/{id}", get(read_node).delete(delete_node))
            .route("/v23.0/{id}/{edge}", get(read_edge).post(post_edge))
            .fallback(|| async {
                error(StatusCode::NOT_FOUND, 100, None, "Unknown path components")
            })
            .with_state(shared.clone());
        FakeFacebook {
            server: port.serve("facebook", router),
            shared,
        }
    }

    /// The API's address with its version, as an account's base URL.
    pub fn base_url(&self) -> String {
        format!("{}/v23.0", self.server.base_url().trim_end_matches('/'))
    }

    /// Another Page the user manages.
    pub fn add_page(&self, id: &str, name: &str, token: &str, tasks: &[&str]) {
        lock(&self.shared).pages.push(Page {
            id: id.into(),
            name: name.into(),
            token: token.into(),
            tasks: tasks.iter().map(|t| (*t).to_owned()).collect(),
        });
    }

    /// The next request of `step` fails with `fault` (faults queue in order).
    pub fn fail_next(&self, step: Step, fault: Fault) {
        lock(&self.shared).faults.push_back((step, fault));
    }

    /// What every answer's `X-Business-Use-Case-Usage` reports from now on.
    pub fn set_usage(&self, percent: u64, regain_minutes: u64) {
        lock(&self.shared).usage = (percent, regain_minutes);
    }

    /// Reactions, comments and shares of the post `id` from now on.
    pub fn set_counts(&self, id: &str, reactions: u64, comments: u64, shares: u64) {
        let mut api = lock(&self.shared);
        for post in api.posts.iter_mut().filter(|p| p.id == id) {
            post.counts = Some((reactions, comments, shares));
        }
    }

    pub fn set_followers(&self, followers: u64) {
        lock(&self.shared).followers = followers;
    }

    /// Every post, deleted ones included.
    pub fn posts(&self) -> Vec<FbPost> {
        lock(&self.shared).posts.clone()
    }

    pub fn photos(&self) -> Vec<Photo> {
        lock(&self.shared).photos.clone()
    }

    /// "METHOD /path" of every request, in order (without the version).
    pub fn log(&self) -> Vec<String> {
        lock(&self.shared).log.clone()
    }
}

fn error(status: StatusCode, code: i64, subcode: Option<i64>, message: &str) -> Response {
    super::meta::graph_error(status, code, subcode, message, false, KIND)
}

fn not_found() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        100,
        Some(33),
        "Unsupported request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation",
    )
}

type Shared = Arc<Mutex<Api>>;

impl HasLogin for Api {
    fn login(&mut self) -> &mut MetaLogin {
        &mut self.login
    }
}

meta_sign_in!(FakeFacebook);

/// Who a token is.
enum Caller {
    User,
    Page(String),
}

impl Api {
    fn caller(&self, headers: &HeaderMap, params: &Map<String, Value>) -> Result<Caller, Response> {
        match token(headers, params) {
            Some(t) if t == self.user_token || self.login.works(&t) => Ok(Caller::User),
            Some(t) => self
                .pages
                .iter()
                .find(|p| p.token == t)
                .map(|p| Caller::Page(p.id.clone()))
                .ok_or_else(|| {
                    error(
                        StatusCode::BAD_REQUEST,
                        190,
                        None,
                        "Invalid OAuth access token - Cannot parse access token",
                    )
                }),
            None => Err(error(
                StatusCode::BAD_REQUEST,
                190,
                None,
                "An active access token must be used to query information about the current user.",
            )),
        }
    }

    /// The Page a Page token acts for, or the permissions error a user token gets.
    fn page_of(&self, caller: &Caller, page: &str) -> Result<(), Response> {
        match caller {
            Caller::Page(id) if id == page => Ok(()),
            Caller::Page(_) => Err(not_found()),
            Caller::User => Err(error(
                StatusCode::FORBIDDEN,
                200,
                None,
                "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission, and a Page access token",
            )),
        }
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}", 122_000_000_000 + self.next_id)
    }
}

impl Faults for Api {
    type Step = Step;
    const KIND: &'static str = KIND;

    fn faults(&mut self) -> &mut VecDeque<(Step, Fault)> {
        &mut self.faults
    }

    /// Every answer to a Page's step carries the Page's usage header.
    fn finish(&self, page: &str, mut answer: Response) -> Response {
        if !answer.headers().contains_key("x-business-use-case-usage") {
            let (percent, minutes) = self.usage;
            wire::set_headers(
                answer.headers_mut(),
                [(
                    "x-business-use-case-usage",
                    business_usage(page, percent, minutes),
                )],
            );
        }
        answer
    }
}

async fn read_node(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = params(query, &headers, &Bytes::new());
    let mut api = lock(&shared);
    api.log.push(format!("GET /{id}"));
    let caller = match api.caller(&headers, &params) {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let page = match &caller {
        Caller::Page(page) => Some(page.clone()),
        Caller::User => None,
    };
    let answer = if let Some(found) = api.pages.iter().find(|p| p.id == id) {
        wire::json(
            StatusCode::OK,
            json!({"id": found.id, "name": found.name, "followers_count": api.followers}),
        )
    } else if let Some(post) = api.posts.iter().find(|p| p.id == id && !p.deleted) {
        let fields = wire::param_str(&params, "fields").unwrap_or_default();
        let mut body = json!({
            "id": post.id,
            "permalink_url": format!("https://www.facebook.com/{}/posts/{}", post.page, post.id.split('_').nth(1).unwrap_or("")),
        });
        let (reactions, comments, shares) = post.counts.unwrap_or((0, 0, 0));
        if fields.contains("reactions") {
            body["reactions"] = json!({"data": [], "summary": {"total_count": reactions, "viewer_reaction": "NONE"}});
        }
        if fields.contains("comments") {
            body["comments"] = json!({"data": [], "summary": {"order": "ranked", "total_count": comments, "can_comment": true}});
        }
        if fields.contains("shares") && shares > 0 {
            body["shares"] = json!({"count": shares});
        }
        wire::json(StatusCode::OK, body)
    } else {
        not_found()
    };
    match page {
        Some(page) => api.finish(&page, answer),
        None => answer,
    }
}

async fn delete_node(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = params(query, &headers, &Bytes::new());
    let page = {
        let mut api = lock(&shared);
        api.log.push(format!("DELETE /{id}"));
        match api.caller(&headers, &params) {
            Ok(Caller::Page(page)) => page,
            Ok(Caller::User) => return not_found(),
            Err(refused) => return refused,
        }
    };
    with_fault_as(&shared, Step::Delete, &page.clone(), |api| {
        let Some(post) = api
            .posts
            .iter_mut()
            .find(|p| p.id == id && !p.deleted && p.page == page)
        else {
            return not_found();
        };
        post.deleted = true;
        wire::json(StatusCode::OK, json!({"success": true}))
    })
    .await
}

async fn read_edge(
    State(shared): State<Shared>,
    Path((id, edge)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = params(query, &headers, &Bytes::new());
    let caller = {
        let mut api = lock(&shared);
        api.log.push(format!("GET /{id}/{edge}"));
        match api.caller(&headers, &params) {
            Ok(caller) => caller,
            Err(refused) => return refused,
        }
    };
    if id == "me" && edge == "accounts" {
        let api = lock(&shared);
        return match caller {
            Caller::User => {
                let data: Vec<Value> = api
                    .pages
                    .iter()
                    .map(|p| json!({"id": p.id, "name": p.name, "access_token": p.token, "category": "Software", "tasks": p.tasks}))
                    .collect();
                wire::json(
                    StatusCode::OK,
                    json!({"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}}),
                )
            }
            Caller::Page(_) => error(
                StatusCode::BAD_REQUEST,
                100,
                None,
                "(#100) Tried accessing nonexisting field (accounts) on node type (Page)",
            ),
        };
    }
    if edge != "feed" {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "Unknown path components",
        );
    }
    if let Err(refused) = lock(&shared).page_of(&caller, &id) {
        return refused;
    }
    with_fault_as(&shared, Step::ReadFeed, &id.clone(), |api| {
        let data: Vec<Value> = api
            .posts
            .iter()
            .rev()
            .filter(|p| !p.deleted && p.page == id)
            .map(|p| json!({
                "id": p.id, "message": p.message, "created_time": "2026-12-06T09:00:00+0000",
                "permalink_url": format!("https://www.facebook.com/{}/posts/{}", p.page, p.id.split('_').nth(1).unwrap_or("")),
            }))
            .collect();
        wire::json(StatusCode::OK, json!({ "data": data }))
    })
    .await
}

async fn post_edge(
    State(shared): State<Shared>,
    Path((id, edge)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let multipart = wire::media_type(&headers) == "multipart/form-data";
    let empty = Bytes::new();
    let mut params = params(query, &headers, if multipart { &empty } else { &body });
    let mut source = None;
    if multipart {
        match wire::multipart(&headers, body).await {
            Ok(parts) => {
                for part in parts {
                    if part.name == "source" {
                        source = Some(part.data.to_vec());
                    } else {
                        params.insert(part.name.clone(), Value::String(part.text()));
                    }
                }
            }
            Err(e) => return error(StatusCode::BAD_REQUEST, 100, None, e.message()),
        }
    }
    {
        let mut api = lock(&shared);
        api.log.push(format!("POST /{id}/{edge}"));
        let caller = match api.caller(&headers, &params) {
            Ok(caller) => caller,
            Err(refused) => return refused,
        };
        if let Err(refused) = api.page_of(&caller, &id) {
            return refused;
        }
    }
    match edge.as_str() {
        "feed" => {
            with_fault_as(&shared, Step::Feed, &id.clone(), |api| {
                feed(api, &id, &params)
            })
            .await
        }
        "photos" => {
            with_fault_as(&shared, Step::Photo, &id.clone(), |api| {
                photo(api, &id, &params, source)
            })
            .await
        }
        _ => error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "Unknown path components",
        ),
    }
}

fn feed(api: &mut Api, page: &str, params: &Map<String, Value>) -> Response {
    let message = wire::param_str(params, "message").unwrap_or_default();
    if message.chars().count() > MAX_MESSAGE {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) The message is too long",
        );
    }
    let mut attached = Vec::new();
    for i in 0.. {
        let Some(item) = wire::param_str(params, &format!("attached_media[{i}]")) else {
            break;
        };
        let fbid = serde_json::from_str::<Value>(&item)
            .ok()
            .and_then(|v| v["media_fbid"].as_str().map(str::to_owned));
        match fbid {
            Some(fbid) if api.photos.iter().any(|p| p.id == fbid && !p.published) => {
                attached.push(fbid);
            }
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "(#100) attached_media must name unpublished photos of this Page",
                );
            }
        }
    }
    let link = wire::param_str(params, "link");
    if message.trim().is_empty() && link.is_none() && attached.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) Missing message or attachment",
        );
    }
    for photo in api.photos.iter_mut().filter(|p| attached.contains(&p.id)) {
        photo.published = true;
    }
    let id = format!("{page}_{}", api.new_id());
    api.posts.push(FbPost {
        id: id.clone(),
        page: page.to_owned(),
        message,
        link,
        photos: attached,
        deleted: false,
        counts: None,
    });
    wire::json(StatusCode::OK, json!({ "id": id }))
}

fn photo(
    api: &mut Api,
    page: &str,
    params: &Map<String, Value>,
    source: Option<Vec<u8>>,
) -> Response {
    let Some(bytes) = source.filter(|b| wire::sniff_media_type(b).is_some()) else {
        return error(
            StatusCode::BAD_REQUEST,
            324,
            Some(2069019),
            "(#324) Requires upload file",
        );
    };
    let published = wire::param_bool(params, "published").unwrap_or(true);
    let id = api.new_id();
    api.photos.push(Photo {
        id: id.clone(),
        bytes,
        alt: wire::param_str(params, "alt_text_custom"),
        published,
    });
    if !published {
        return wire::json(StatusCode::OK, json!({ "id": id }));
    }
    let post_id = format!("{page}_{}", api.new_id());
    api.posts.push(FbPost {
        id: post_id.clone(),
        page: page.to_owned(),
        message: wire::param_str(params, "message").unwrap_or_default(),
        link: None,
        photos: vec![id.clone()],
        deleted: false,
        counts: None,
    });
    wire::json(StatusCode::OK, json!({ "id": id, "post_id": post_id }))
}
