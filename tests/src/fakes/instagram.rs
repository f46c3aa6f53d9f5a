//! The Instagram Graph API's content publishing, as served for the
//! Instagram API with Instagram Login: the access token as `Authorization: Bearer` (or an
//! `access_token` parameter), ids as strings, errors as `{"error": {message, type, code,
//! error_subcode, is_transient, fbtrace_id}}`.
//!
//! - `GET /{ig-user-id}?fields=id,username`
//! - `POST /{ig-user-id}/media {image_url, caption, alt_text, is_carousel_item}` or
//!   `{media_type: CAROUSEL, children, caption}` → `{id}`: the fake downloads `image_url`
//!   itself (as Meta does, from a public URL) and refuses the container when that fails;
//! - `GET /{container-id}?fields=status_code` → IN_PROGRESS (as many times as the test
//!   asks), then FINISHED; PUBLISHED once published; EXPIRED when the test expires it;
//! - `POST /{ig-user-id}/media_publish {creation_id}` → `{id}` of the new media;
//! - `GET /{ig-user-id}/media?fields=…` (newest first), `GET /{media-id}?fields=permalink`;
//! - `GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config`;
//! - `GET /{ig-media-id}/insights?metric=…` → `{data: [{name, period: "lifetime",
//!   values: [{value}], title, description, id}]}` with the counts a test set
//!   ([`FakeInstagram::set_counts`]); none set is the empty set Instagram gives before it
//!   has data; a metric the test retired ([`FakeInstagram::retire_metric`]) answers error
//!   100 naming it; a media deleted on the network answers error 100 subcode 33;
//! - `GET /{ig-user-id}?fields=followers_count,follows_count,media_count`.
//!
//! Where Meta's documentation leaves a fact unconfirmed, the fake assumes: the status values above;
//! `alt_text` accepted on image containers and carousel children; a caption over 2,200
//! code points refused (code 100, subcode 2207008 is not documented: the fake answers
//! code 100 without one); more than 10 children refused; a media fetch that fails answers
//! code 9004 subcode 2207052 (the code Meta's error reference gives for "media download
//! has failed"); an invalid token answers HTTP 400 code 190
//! `OAuthException`; a throttled call answers HTTP 400 with the test's code (4, 17, 32,
//! 613) and an `X-Business-Use-Case-Usage` header; no delete endpoint exists.
//!
//! Instagram Login, as `instagram.com`, `api.instagram.com` and
//! `graph.instagram.com` serve it, on this one address ([`super::meta::MetaLogin`]):
//! `GET /oauth/authorize`, `POST /oauth/access_token` → `{"data": [{access_token, user_id,
//! permissions}]}` (a refusal `{"error_type": "OAuthException", "code": 400,
//! "error_message"}`; both shapes unconfirmed: the fake assumes Meta's
//! current examples), `GET /access_token?grant_type=ig_exchange_token` and `GET
//! /refresh_access_token?grant_type=ig_refresh_token`.
//!
//! The tokens it issues work on the API like [`FakeInstagram::TOKEN`] until they expire;
//! [`MetaSignIn::age_tokens`](super::MetaSignIn::age_tokens) moves the clock of what it issued.

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

/// The caption limit the fake enforces, in code points.
pub const MAX_CAPTION: usize = 2_200;
const MAX_CHILDREN: usize = 10;
const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
const KIND: &str = "IGApiException";

/// A step a test can make fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `POST /{user}/media` (any container).
    Container,
    /// `GET /{container}?fields=status_code`.
    Status,
    /// `POST /{user}/media_publish`.
    Publish,
    /// `GET /{user}/content_publishing_limit`.
    Quota,
}

/// A container as the fake holds it.
#[derive(Clone, Debug)]
pub struct Container {
    pub id: String,
    pub image_url: Option<String>,
    pub caption: Option<String>,
    pub alt_text: Option<String>,
    pub carousel_item: bool,
    pub children: Vec<String>,
    /// The bytes fetched from `image_url`.
    pub image: Option<Vec<u8>>,
    pub status: String,
    /// Status reads left before FINISHED.
    pending_polls: u32,
}

/// A media's insights as the fake gives them (`total_interactions` is their sum of
/// likes, comments, shares and saves).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IgCounts {
    pub views: u64,
    pub reach: u64,
    pub likes: u64,
    pub comments: u64,
    pub shares: u64,
    pub saved: u64,
}

/// The insight metrics the fake knows.
const METRICS: [&str; 7] = [
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
];

/// A published post.
#[derive(Clone, Debug)]
pub struct Media {
    pub id: String,
    pub container: String,
    pub caption: String,
    pub permalink: String,
    /// Carousel: one per child; else one.
    pub images: Vec<(Vec<u8>, Option<String>)>,
    /// Its insights; `None` until the test sets them (Instagram has no data yet).
    pub counts: Option<IgCounts>,
    /// Deleted in the Instagram app.
    pub deleted: bool,
}

struct Api {
    token: String,
    user_id: String,
    username: String,
    containers: Vec<Container>,
    media: Vec<Media>,
    next_id: u64,
    quota_usage: u64,
    quota_total: u64,
    polls_before_finished: u32,
    faults: VecDeque<(Step, Fault)>,
    log: Vec<String>,
    followers: u64,
    follows: u64,
    retired: Vec<String>,
    /// Instagram Login, the authorization server.
    login: MetaLogin,
}

pub struct FakeInstagram {
    server: RunningServer,
    shared: Arc<Mutex<Api>>,
}

impl FakeInstagram {
    pub const TOKEN: &'static str = "IGAAfake-long-lived-token-0123456789";
    pub const USER_ID: &'static str = "17841400000000001";
    /// The Instagram app's id and secret.
    pub const CLIENT_ID: &'static str = "990011223344556";
    pub const CLIENT_SECRET: &'static str = "ig-app-secret-0123456789abcdef";

    pub fn start() -> FakeInstagram {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Api {
            token: Self::TOKEN.into(),
            user_id: Self::USER_ID.into(),
            username: "postctl.test".into(),
            containers: Vec::new(),
            media: Vec::new(),
            next_id: 1,
            quota_usage: 0,
            quota_total: 50,
            polls_before_finished: 0,
            faults: VecDeque::new(),
            log: Vec::new(),
            followers: 0,
            follows: 0,
            retired: Vec::new(),
            login: MetaLogin::new(
                Grants {
                    prefix: "ig",
                    exchange: "ig_exchange_token",
                    token_param: "access_token",
                    refresh: Some("ig_refresh_token"),
                    code_answer: CodeAnswer::Wrapped,
                },
                Self::CLIENT_ID,
                Self::CLIENT_SECRET,
                Self::USER_ID,
            ),
        }));
        let router = Router::new()
            .merge(login_routes(LoginPaths {
                authorize: "/oauth/authorize",
                token: "/oauth/access_token",
                exchange: "/access_token",
                refresh: Some("/refresh_access_token"),
            }))
            .route("/{id}", get(read_node))
            .route("/{id}/{edge}", get(read_edge).post(post_edge))
            .fallback(|| async {
                graph_error(
                    StatusCode::NOT_FOUND,
                    100,
                    None,
                    "Unknown path components",
                    false,
                )
            })
            .with_state(shared.clone());
        FakeInstagram {
            server: port.serve("instagram", router),
            shared,
        }
    }

    pub fn base_url(&self) -> String {
        self.server.base_url().to_string()
    }

    /// The next request of `step` fails with `fault` (faults queue in order).
    pub fn fail_next(&self, step: Step, fault: Fault) {
        lock(&self.shared).faults.push_back((step, fault));
    }

    /// Containers answer IN_PROGRESS this many times before FINISHED.
    pub fn set_processing_polls(&self, polls: u32) {
        lock(&self.shared).polls_before_finished = polls;
    }

    /// Sets the publishing quota: `used` of `total` posts in 24 h.
    pub fn set_quota(&self, used: u64, total: u64) {
        let mut api = lock(&self.shared);
        api.quota_usage = used;
        api.quota_total = total;
    }

    /// The insights of the media `id` from now on.
    pub fn set_counts(&self, id: &str, counts: IgCounts) {
        let mut api = lock(&self.shared);
        for media in api.media.iter_mut().filter(|m| m.id == id) {
            media.counts = Some(counts);
        }
    }

    /// The owner deleted the media `id` in the Instagram app.
    pub fn delete_on_network(&self, id: &str) {
        let mut api = lock(&self.shared);
        for media in api.media.iter_mut().filter(|m| m.id == id) {
            media.deleted = true;
        }
    }

    /// The account's `followers_count` and `follows_count`.
    pub fn set_followers(&self, followers: u64, follows: u64) {
        let mut api = lock(&self.shared);
        api.followers = followers;
        api.follows = follows;
    }

    /// Meta retires the insight `metric`: asking for it answers error 100 from now on.
    pub fn retire_metric(&self, metric: &str) {
        lock(&self.shared).retired.push(metric.to_owned());
    }

    pub fn containers(&self) -> Vec<Container> {
        lock(&self.shared).containers.clone()
    }

    pub fn media(&self) -> Vec<Media> {
        lock(&self.shared).media.clone()
    }

    /// "METHOD path" of every request, in order.
    pub fn log(&self) -> Vec<String> {
        lock(&self.shared).log.clone()
    }
}

fn graph_error(
    status: StatusCode,
    code: i64,
    subcode: Option<i64>,
    message: &str,
    transient: bool,
) -> Response {
    super::meta::graph_error(status, code, subcode, message, transient, KIND)
}

type Shared = Arc<Mutex<Api>>;

impl HasLogin for Api {
    fn login(&mut self) -> &mut MetaLogin {
        &mut self.login
    }
}

meta_sign_in!(FakeInstagram);

impl Api {
    fn authorised(&self, headers: &HeaderMap, params: &Map<String, Value>) -> Result<(), Response> {
        match token(headers, params) {
            Some(t) if t == self.token || self.login.works(&t) => Ok(()),
            Some(_) => Err(graph_error(
                StatusCode::BAD_REQUEST,
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token",
                false,
            )),
            None => Err(graph_error(
                StatusCode::BAD_REQUEST,
                190,
                None,
                "An active access token must be used to query information about the current user.",
                false,
            )),
        }
    }

    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:011}", self.next_id)
    }
}

user_faults!();

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
            let media_count = api.media.iter().filter(|m| !m.deleted).count();
            return wire::json(
                StatusCode::OK,
                json!({
                    "id": api.user_id,
                    "username": api.username,
                    "followers_count": api.followers,
                    "follows_count": api.follows,
                    "media_count": media_count,
                }),
            );
        }
        if let Some(media) = api.media.iter().find(|m| m.id == id && !m.deleted) {
            return wire::json(
                StatusCode::OK,
                json!({"id": media.id, "permalink": media.permalink}),
            );
        }
        if !api.containers.iter().any(|c| c.id == id) {
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                Some(33),
                "Unsupported get request. Object does not exist",
                false,
            );
        }
    }
    with_fault(&shared, Step::Status, |api| {
        let Some(container) = api.containers.iter_mut().find(|c| c.id == id) else {
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                Some(33),
                "Unsupported get request.",
                false,
            );
        };
        poll(&mut container.status, &mut container.pending_polls);
        wire::json(
            StatusCode::OK,
            json!({"id": container.id, "status_code": container.status}),
        )
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
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                Some(33),
                "Unsupported get request. Object does not exist",
                false,
            );
        }
        if edge == "media" {
            let data: Vec<Value> = api
                .media
                .iter()
                .rev()
                .map(|m| json!({"id": m.id, "caption": m.caption, "permalink": m.permalink, "timestamp": "2026-12-06T09:00:00+0000"}))
                .collect();
            return wire::json(StatusCode::OK, json!({ "data": data }));
        }
        if edge != "content_publishing_limit" {
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                None,
                "Unknown path components",
                false,
            );
        }
    }
    with_fault(&shared, Step::Quota, |api| {
        wire::json(
            StatusCode::OK,
            json!({"data": [{
                "quota_usage": api.quota_usage,
                "config": {"quota_total": api.quota_total, "quota_duration": 86400},
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
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                Some(33),
                "Unsupported post request. Object does not exist",
                false,
            );
        }
        wire::param_str(&params, "image_url")
    };
    match edge.as_str() {
        "media" => {
            // Meta downloads the image from its URL when the container is created.
            let image = match image_url.clone() {
                Some(url) => match tokio::task::spawn_blocking(move || fetch(&url)).await {
                    Ok(Ok(bytes)) => Some(bytes),
                    _ => {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            9004,
                            Some(2207052),
                            "Media download has failed. The media URI doesn't meet our requirements.",
                            false,
                        );
                    }
                },
                None => None,
            };
            with_fault(&shared, Step::Container, |api| {
                create_container(api, &params, image_url, image)
            })
            .await
        }
        "media_publish" => with_fault(&shared, Step::Publish, |api| publish(api, &params)).await,
        _ => graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "Unknown path components",
            false,
        ),
    }
}

/// `GET /{media-id}/insights?metric=…`.
fn insights(api: &Api, id: &str, params: &Map<String, Value>) -> Response {
    let Some(media) = api.media.iter().find(|m| m.id == id && !m.deleted) else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            Some(33),
            &format!(
                "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
            ),
            false,
        );
    };
    let asked: Vec<String> = wire::param_str(params, "metric")
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    if asked.is_empty() {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) The parameter metric is required",
            false,
        );
    }
    if let Some(retired) = asked.iter().find(|m| api.retired.contains(m)) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            &format!(
                "(#100) Starting from version v22.0 and above, the {retired} metric is no longer supported for this media."
            ),
            false,
        );
    }
    if let Some(unknown) = asked.iter().find(|m| !METRICS.contains(&m.as_str())) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            &format!(
                "(#100) metric[{}] must be one of the following values: {}",
                asked.iter().position(|m| m == unknown).unwrap_or(0),
                METRICS.join(", ")
            ),
            false,
        );
    }
    let Some(c) = media.counts else {
        return wire::json(StatusCode::OK, json!({ "data": [] }));
    };
    let metrics = asked
        .iter()
        .map(|name| {
            let value = match name.as_str() {
                "views" => c.views,
                "reach" => c.reach,
                "likes" => c.likes,
                "comments" => c.comments,
                "shares" => c.shares,
                "saved" => c.saved,
                _ => c.likes + c.comments + c.shares + c.saved,
            };
            (name.clone(), value)
        })
        .collect();
    insights_answer(id, "media", metrics)
}

fn create_container(
    api: &mut Api,
    params: &Map<String, Value>,
    image_url: Option<String>,
    image: Option<Vec<u8>>,
) -> Response {
    let invalid = |message: &str| graph_error(StatusCode::BAD_REQUEST, 100, None, message, false);
    let caption = wire::param_str(params, "caption");
    if caption
        .as_deref()
        .is_some_and(|c| c.chars().count() > MAX_CAPTION)
    {
        return invalid("The caption is too long");
    }
    if image.as_ref().is_some_and(|i| i.len() >= MAX_IMAGE_BYTES) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            Some(2207004),
            "The image is too large to download. It should be less than 8 MiB.",
            false,
        );
    }
    let carousel_item = wire::param_bool(params, "is_carousel_item").unwrap_or(false);
    let media_type = wire::param_str(params, "media_type");
    let children = children(params);
    if media_type.as_deref() == Some("CAROUSEL") {
        if children.len() < 2 || children.len() > MAX_CHILDREN {
            return invalid("A carousel takes 2 to 10 children");
        }
        let ready = children.iter().all(|child| {
            api.containers
                .iter()
                .any(|c| &c.id == child && c.carousel_item && c.status == "FINISHED")
        });
        if !ready {
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                Some(2207032),
                "Carousel children must be finished carousel item containers",
                false,
            );
        }
    } else if image.is_none() {
        return invalid("The parameter image_url is required");
    }
    let id = api.new_id("179");
    let pending = api.polls_before_finished;
    api.containers.push(Container {
        id: id.clone(),
        image_url,
        caption,
        alt_text: wire::param_str(params, "alt_text"),
        carousel_item,
        children,
        image,
        status: "IN_PROGRESS".into(),
        pending_polls: pending,
    });
    wire::json(StatusCode::OK, json!({ "id": id }))
}

fn publish(api: &mut Api, params: &Map<String, Value>) -> Response {
    let Some(creation) = wire::param_str(params, "creation_id") else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "The parameter creation_id is required",
            false,
        );
    };
    if api.quota_usage >= api.quota_total {
        return graph_error(
            StatusCode::BAD_REQUEST,
            9,
            Some(2207042),
            "You reached maximum number of posts that is allowed to be published by Content Publishing API.",
            false,
        );
    }
    let Some(at) = api
        .containers
        .iter()
        .position(|c| c.id == creation && !c.carousel_item)
    else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            Some(33),
            "Object does not exist",
            false,
        );
    };
    match api.containers[at].status.as_str() {
        "FINISHED" => {}
        "PUBLISHED" => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                Some(2207008),
                "The media has already been published",
                false,
            );
        }
        "EXPIRED" => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                Some(2207020),
                "The container has expired",
                false,
            );
        }
        _ => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                9007,
                Some(2207027),
                "Media is not ready to be published. Please wait a moment.",
                false,
            );
        }
    }
    let container = api.containers[at].clone();
    let images = if container.children.is_empty() {
        vec![(
            container.image.clone().unwrap_or_default(),
            container.alt_text.clone(),
        )]
    } else {
        container
            .children
            .iter()
            .filter_map(|child| api.containers.iter().find(|c| &c.id == child))
            .map(|c| (c.image.clone().unwrap_or_default(), c.alt_text.clone()))
            .collect()
    };
    api.containers[at].status = "PUBLISHED".into();
    api.quota_usage += 1;
    let id = api.new_id("178");
    api.media.push(Media {
        id: id.clone(),
        container: creation,
        caption: container.caption.unwrap_or_default(),
        permalink: format!("https://www.instagram.com/p/Fake{id}/"),
        images,
        counts: None,
        deleted: false,
    });
    wire::json(StatusCode::OK, json!({ "id": id }))
}
