//! The Threads API under `/v1.0`: the access token as `Authorization:
//! Bearer` (or an `access_token` parameter), ids as strings, the Graph error object.
//!
//! - `GET /{threads-user-id}?fields=id,username`
//! - `POST /{threads-user-id}/threads {media_type: TEXT | IMAGE | CAROUSEL, text,
//!   image_url, alt_text, is_carousel_item, children, reply_to_id}` → `{id}`: the fake
//!   downloads `image_url` itself (as Meta does, from a public URL);
//! - `GET /{container-id}?fields=status` → IN_PROGRESS (as many times as the test asks),
//!   then FINISHED; PUBLISHED once published; EXPIRED when the test expires it;
//! - `POST /{threads-user-id}/threads_publish {creation_id}` → `{id}` of the new post;
//! - `GET /{threads-user-id}/threads` and `/replies` (newest first), `GET /{id}?fields=
//!   permalink`;
//! - `GET /{threads-user-id}/threads_publishing_limit?fields=quota_usage,config,
//!   reply_quota_usage,reply_config` (250 posts and 1,000 replies in 24 h);
//! - `DELETE /{threads-media-id}` → `{success: true, deleted_id}`, 100 a day;
//! - `GET /{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes` and
//!   `GET /{threads-user-id}/threads_insights?metric=followers_count`.
//!
//! Text over 500 characters is refused, an emoji counting its UTF-8 bytes (the fake
//! takes any code point of four bytes, or in the Dingbats and Miscellaneous Symbols blocks,
//! and the joiners and selectors that make emoji sequences, as emoji).
//!
//! Where Meta's documentation leaves a fact unconfirmed, the fake assumes: the container's
//! status field is `status` with Instagram's values; `alt_text` is accepted on image
//! containers; a carousel takes 2 to 10 children; the permalink is
//! `https://www.threads.net/@user/post/…`; an invalid token answers HTTP 400 code 190;
//! throttling answers HTTP 400 with the test's code and an `X-Business-Use-Case-Usage`
//! header; a reply to a post that does not exist answers code 100.
//!
//! Threads sign-in ([`super::meta::MetaLogin`]), on the same address
//! under `/v1.0` as the account's base URL names it: `GET /oauth/authorize` (threads.net's),
//! `POST /oauth/access_token` → `{access_token, user_id}` (the id a number, as Meta's
//! examples show), `GET /access_token?grant_type=th_exchange_token` and `GET
//! /refresh_access_token?grant_type=th_refresh_token` (grant names and lifetimes
//! unconfirmed: the fake assumes Instagram's). The tokens it issues work on the API like
//! [`FakeThreads::TOKEN`]; `GET /me` answers as the user's node does.

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
    CodeAnswer, Grants, HasLogin, LoginPaths, MetaLogin, children, fetch, insights_answer,
    login_routes, meta_sign_in, params, poll, token, user_faults, with_fault,
};
use super::server::{BoundPort, RunningServer};
use super::{lock, wire};

/// The text limit, emoji counted as their UTF-8 bytes.
pub const MAX_TEXT: usize = 500;
const MAX_CHILDREN: usize = 10;
const KIND: &str = "THApiException";

/// A step a test can make fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `POST /{user}/threads` (any container).
    Container,
    /// `GET /{container}?fields=status`.
    Status,
    /// `POST /{user}/threads_publish`.
    Publish,
    /// `GET /{user}/threads_publishing_limit`.
    Quota,
    /// `DELETE /{post}`.
    Delete,
}

/// A container as the fake holds it.
#[derive(Clone, Debug)]
pub struct Container {
    pub id: String,
    pub media_type: String,
    pub text: Option<String>,
    pub alt_text: Option<String>,
    pub carousel_item: bool,
    pub children: Vec<String>,
    pub reply_to: Option<String>,
    pub image: Option<Vec<u8>>,
    pub status: String,
    pending_polls: u32,
}

/// A post's insights as the fake gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadsCounts {
    pub views: u64,
    pub likes: u64,
    pub replies: u64,
    pub reposts: u64,
    pub quotes: u64,
}

/// A published post.
#[derive(Clone, Debug)]
pub struct Post {
    pub id: String,
    pub container: String,
    pub media_type: String,
    pub text: String,
    pub permalink: String,
    pub reply_to: Option<String>,
    /// The images with their alt text (a carousel: one per child).
    pub images: Vec<(Vec<u8>, Option<String>)>,
    pub counts: Option<ThreadsCounts>,
    pub deleted: bool,
}

struct Api {
    token: String,
    user_id: String,
    username: String,
    containers: Vec<Container>,
    posts: Vec<Post>,
    next_id: u64,
    quota_usage: u64,
    quota_total: u64,
    reply_quota_usage: u64,
    deletes_today: u32,
    polls_before_finished: u32,
    faults: VecDeque<(Step, Fault)>,
    log: Vec<String>,
    followers: u64,
    /// Threads sign-in, the authorization server.
    login: MetaLogin,
}

pub struct FakeThreads {
    server: RunningServer,
    shared: Arc<Mutex<Api>>,
}

impl FakeThreads {
    pub const TOKEN: &'static str = "THAAfake-long-lived-threads-token-0123456789";
    pub const USER_ID: &'static str = "26012345678901234";
    /// The Threads app's id and secret.
    pub const CLIENT_ID: &'static str = "1122334455667788";
    pub const CLIENT_SECRET: &'static str = "th-app-secret-0123456789abcdef";

    pub fn start() -> FakeThreads {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Api {
            token: Self::TOKEN.into(),
            user_id: Self::USER_ID.into(),
            username: "postctl.test".into(),
            containers: Vec::new(),
            posts: Vec::new(),
            next_id: 1,
            quota_usage: 0,
            quota_total: 250,
            reply_quota_usage: 0,
            deletes_today: 0,
            polls_before_finished: 0,
            faults: VecDeque::new(),
            log: Vec::new(),
            followers: 0,
            login: MetaLogin::new(
                Grants {
                    prefix: "th",
                    exchange: "th_exchange_token",
                    token_param: "access_token",
                    refresh: Some("th_refresh_token"),
                    code_answer: CodeAnswer::Flat,
                },
                Self::CLIENT_ID,
                Self::CLIENT_SECRET,
                Self::USER_ID,
            ),
        }));
        let router = Router::new()
            .merge(login_routes(LoginPaths {
                authorize: "/v1.0/oauth/authorize",
                token: "/v1.0/oauth/access_token",
                exchange: "/v1.0/access_token",
                refresh: Some("/v1.0/refresh_access_token"),
            }))
            .route("/v1.0/{id}", get(read_node).delete(delete_node))
            .route("/v1.0/{id}/{edge}", get(read_edge).post(post_edge))
            .fallback(|| async {
                error(StatusCode::NOT_FOUND, 100, None, "Unknown path components")
            })
            .with_state(shared.clone());
        FakeThreads {
            server: port.serve("threads", router),
            shared,
        }
    }

    /// The API's address with its version, as an account's base URL.
    pub fn base_url(&self) -> String {
        format!("{}/v1.0", self.server.base_url().trim_end_matches('/'))
    }

    /// The next request of `step` fails with `fault` (faults queue in order).
    pub fn fail_next(&self, step: Step, fault: Fault) {
        lock(&self.shared).faults.push_back((step, fault));
    }

    /// Containers answer IN_PROGRESS this many times before FINISHED.
    pub fn set_processing_polls(&self, polls: u32) {
        lock(&self.shared).polls_before_finished = polls;
    }

    /// Sets the posts quota: `used` of `total` posts in 24 h.
    pub fn set_quota(&self, used: u64, total: u64) {
        let mut api = lock(&self.shared);
        api.quota_usage = used;
        api.quota_total = total;
    }

    /// The insights of the post `id` from now on.
    pub fn set_counts(&self, id: &str, counts: ThreadsCounts) {
        let mut api = lock(&self.shared);
        for post in api.posts.iter_mut().filter(|p| p.id == id) {
            post.counts = Some(counts);
        }
    }

    pub fn set_followers(&self, followers: u64) {
        lock(&self.shared).followers = followers;
    }

    pub fn containers(&self) -> Vec<Container> {
        lock(&self.shared).containers.clone()
    }

    /// Every post published, deleted ones included (see [`Post::deleted`]).
    pub fn posts(&self) -> Vec<Post> {
        lock(&self.shared).posts.clone()
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
        "Unsupported get request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation",
    )
}

type Shared = Arc<Mutex<Api>>;

impl HasLogin for Api {
    fn login(&mut self) -> &mut MetaLogin {
        &mut self.login
    }
}

meta_sign_in!(FakeThreads);

impl Api {
    fn authorised(&self, headers: &HeaderMap, params: &Map<String, Value>) -> Result<(), Response> {
        match token(headers, params) {
            Some(t) if t == self.token || self.login.works(&t) => Ok(()),
            _ => Err(error(
                StatusCode::BAD_REQUEST,
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token",
            )),
        }
    }

    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:012}", self.next_id)
    }
}

user_faults!();

/// Threads' length: characters, an emoji counting its UTF-8 bytes.
fn threads_length(text: &str) -> usize {
    text.chars()
        .map(|c| {
            let emoji = c.len_utf8() == 4
                || ('\u{2600}'..='\u{27BF}').contains(&c)
                || matches!(c, '\u{200D}' | '\u{FE0F}' | '\u{20E3}');
            if emoji { c.len_utf8() } else { 1 }
        })
        .sum()
}

async fn read_node(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = params(query, &headers, &Bytes::new());
    {
        let mut api = lock(&shared);
        api.log.push(format!("GET /{id}"));
        if let Err(refused) = api.authorised(&headers, &params) {
            return refused;
        }
        if id == api.user_id || id == "me" {
            return wire::json(
                StatusCode::OK,
                json!({"id": api.user_id, "username": api.username}),
            );
        }
        if let Some(post) = api.posts.iter().find(|p| p.id == id && !p.deleted) {
            return wire::json(
                StatusCode::OK,
                json!({"id": post.id, "permalink": post.permalink, "text": post.text}),
            );
        }
        if !api.containers.iter().any(|c| c.id == id) {
            return not_found();
        }
    }
    with_fault(&shared, Step::Status, |api| {
        let Some(container) = api.containers.iter_mut().find(|c| c.id == id) else {
            return not_found();
        };
        poll(&mut container.status, &mut container.pending_polls);
        wire::json(
            StatusCode::OK,
            json!({"id": container.id, "status": container.status}),
        )
    })
    .await
}

async fn delete_node(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = params(query, &headers, &Bytes::new());
    {
        let mut api = lock(&shared);
        api.log.push(format!("DELETE /{id}"));
        if let Err(refused) = api.authorised(&headers, &params) {
            return refused;
        }
    }
    with_fault(&shared, Step::Delete, |api| {
        if api.deletes_today >= 100 {
            return error(
                StatusCode::BAD_REQUEST,
                4,
                None,
                "Application request limit reached: 100 deletes a day",
            );
        }
        let Some(post) = api.posts.iter_mut().find(|p| p.id == id && !p.deleted) else {
            return not_found();
        };
        post.deleted = true;
        api.deletes_today += 1;
        wire::json(StatusCode::OK, json!({"success": true, "deleted_id": id}))
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
    {
        let mut api = lock(&shared);
        api.log.push(format!("GET /{id}/{edge}"));
        if let Err(refused) = api.authorised(&headers, &params) {
            return refused;
        }
        if edge == "insights" && id != api.user_id {
            return insights(&api, &id, &params);
        }
        if id != api.user_id {
            return not_found();
        }
        match edge.as_str() {
            "threads" | "replies" => {
                let replies = edge == "replies";
                let data: Vec<Value> = api
                    .posts
                    .iter()
                    .rev()
                    .filter(|p| !p.deleted && p.reply_to.is_some() == replies)
                    .map(|p| json!({"id": p.id, "text": p.text, "permalink": p.permalink, "timestamp": "2026-12-06T09:00:00+0000"}))
                    .collect();
                return wire::json(StatusCode::OK, json!({ "data": data }));
            }
            "threads_insights" => {
                return wire::json(
                    StatusCode::OK,
                    json!({"data": [{
                        "name": "followers_count", "period": "day", "title": "followers_count",
                        "description": "The number of followers", "total_value": {"value": api.followers},
                        "id": format!("{}/insights/followers_count/day", api.user_id),
                    }]}),
                );
            }
            "threads_publishing_limit" => {}
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "Unknown path components",
                );
            }
        }
    }
    with_fault(&shared, Step::Quota, |api| {
        wire::json(
            StatusCode::OK,
            json!({"data": [{
                "quota_usage": api.quota_usage,
                "config": {"quota_total": api.quota_total, "quota_duration": 86400},
                "reply_quota_usage": api.reply_quota_usage,
                "reply_config": {"quota_total": 1000, "quota_duration": 86400},
            }]}),
        )
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
    let params = params(query, &headers, &body);
    let image_url = {
        let mut api = lock(&shared);
        api.log.push(format!("POST /{id}/{edge}"));
        if let Err(refused) = api.authorised(&headers, &params) {
            return refused;
        }
        if id != api.user_id {
            return not_found();
        }
        wire::param_str(&params, "image_url")
    };
    match edge.as_str() {
        "threads" => {
            // Meta downloads the image from its URL when the container is created.
            let image = match image_url {
                Some(url) => match tokio::task::spawn_blocking(move || fetch(&url)).await {
                    Ok(Ok(bytes)) => Some(bytes),
                    _ => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            100,
                            Some(2207052),
                            "Media download has failed. The media URI doesn't meet our requirements.",
                        );
                    }
                },
                None => None,
            };
            with_fault(&shared, Step::Container, |api| {
                create_container(api, &params, image)
            })
            .await
        }
        "threads_publish" => with_fault(&shared, Step::Publish, |api| publish(api, &params)).await,
        _ => error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "Unknown path components",
        ),
    }
}

/// `GET /{post-id}/insights?metric=…`.
fn insights(api: &Api, id: &str, params: &Map<String, Value>) -> Response {
    let Some(post) = api.posts.iter().find(|p| p.id == id && !p.deleted) else {
        return not_found();
    };
    let asked: Vec<String> = wire::param_str(params, "metric")
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    let known = ["views", "likes", "replies", "reposts", "quotes", "shares"];
    if asked.is_empty() || asked.iter().any(|m| !known.contains(&m.as_str())) {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            &format!(
                "(#100) metric must be one of the following values: {}",
                known.join(", ")
            ),
        );
    }
    let Some(c) = post.counts else {
        return wire::json(StatusCode::OK, json!({ "data": [] }));
    };
    let metrics = asked
        .iter()
        .map(|name| {
            let value = match name.as_str() {
                "views" => c.views,
                "likes" => c.likes,
                "replies" => c.replies,
                "reposts" => c.reposts,
                "quotes" => c.quotes,
                _ => 0,
            };
            (name.clone(), value)
        })
        .collect();
    insights_answer(id, "post", metrics)
}

fn create_container(
    api: &mut Api,
    params: &Map<String, Value>,
    image: Option<Vec<u8>>,
) -> Response {
    let invalid = |message: &str| error(StatusCode::BAD_REQUEST, 100, None, message);
    let text = wire::param_str(params, "text");
    if text
        .as_deref()
        .is_some_and(|t| threads_length(t) > MAX_TEXT)
    {
        return invalid("(#100) The text is too long: 500 characters at most");
    }
    let media_type = wire::param_str(params, "media_type").unwrap_or_default();
    let carousel_item = wire::param_bool(params, "is_carousel_item").unwrap_or(false);
    let children = children(params);
    let reply_to = wire::param_str(params, "reply_to_id");
    if let Some(parent) = &reply_to
        && !api.posts.iter().any(|p| &p.id == parent && !p.deleted)
    {
        return invalid("(#100) The reply_to_id is not a post you can reply to");
    }
    match media_type.as_str() {
        "TEXT" if text.as_deref().is_none_or(|t| t.trim().is_empty()) => {
            return invalid("(#100) The parameter text is required for TEXT posts");
        }
        "TEXT" => {}
        "IMAGE" if image.is_none() => {
            return invalid("(#100) The parameter image_url is required for IMAGE posts");
        }
        "IMAGE" => {}
        "CAROUSEL" => {
            if children.len() < 2 || children.len() > MAX_CHILDREN {
                return invalid("(#100) A carousel takes 2 to 10 children");
            }
            let ready = children.iter().all(|child| {
                api.containers
                    .iter()
                    .any(|c| &c.id == child && c.carousel_item && c.status == "FINISHED")
            });
            if !ready {
                return invalid("(#100) Carousel children must be finished carousel items");
            }
        }
        _ => return invalid("(#100) media_type must be one of TEXT, IMAGE, VIDEO, CAROUSEL"),
    }
    let id = api.new_id("1790");
    let pending = api.polls_before_finished;
    api.containers.push(Container {
        id: id.clone(),
        media_type,
        text,
        alt_text: wire::param_str(params, "alt_text"),
        carousel_item,
        children,
        reply_to,
        image,
        status: "IN_PROGRESS".into(),
        pending_polls: pending,
    });
    wire::json(StatusCode::OK, json!({ "id": id }))
}

fn publish(api: &mut Api, params: &Map<String, Value>) -> Response {
    let Some(creation) = wire::param_str(params, "creation_id") else {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "The parameter creation_id is required",
        );
    };
    let Some(at) = api
        .containers
        .iter()
        .position(|c| c.id == creation && !c.carousel_item)
    else {
        return not_found();
    };
    let reply = api.containers[at].reply_to.is_some();
    if !reply && api.quota_usage >= api.quota_total {
        return error(
            StatusCode::BAD_REQUEST,
            9,
            Some(2207042),
            "You reached the maximum number of posts that can be published in 24 hours.",
        );
    }
    match api.containers[at].status.as_str() {
        "FINISHED" => {}
        "PUBLISHED" => {
            return error(
                StatusCode::BAD_REQUEST,
                100,
                Some(2207008),
                "The media has already been published",
            );
        }
        "EXPIRED" => {
            return error(
                StatusCode::BAD_REQUEST,
                100,
                Some(2207020),
                "The container has expired",
            );
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                9007,
                Some(2207027),
                "Media is not ready to be published. Please wait a moment.",
            );
        }
    }
    let container = api.containers[at].clone();
    let images = if container.children.is_empty() {
        container
            .image
            .clone()
            .map(|i| vec![(i, container.alt_text.clone())])
            .unwrap_or_default()
    } else {
        container
            .children
            .iter()
            .filter_map(|child| api.containers.iter().find(|c| &c.id == child))
            .map(|c| (c.image.clone().unwrap_or_default(), c.alt_text.clone()))
            .collect()
    };
    api.containers[at].status = "PUBLISHED".into();
    if reply {
        api.reply_quota_usage += 1;
    } else {
        api.quota_usage += 1;
    }
    let id = api.new_id("1801");
    let permalink = format!("https://www.threads.net/@{}/post/Fake{id}", api.username);
    api.posts.push(Post {
        id: id.clone(),
        container: creation,
        media_type: container.media_type,
        text: container.text.unwrap_or_default(),
        permalink,
        reply_to: container.reply_to,
        images,
        counts: None,
        deleted: false,
    });
    wire::json(StatusCode::OK, json!({ "id": id }))
}
