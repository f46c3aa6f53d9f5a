//! The HTTP API: `/api/v1` (JSON, problem+json errors, described at
//! `/api/v1/openapi.json`), `/healthz`, `/readyz` and `/metrics`.
//!
//! Cross-cutting rules are layers, not handler code: [`access::authorize`] decides who may
//! call each route from the one table in `auth::policy`, and [`idempotency::layer`]
//! answers retried POSTs; [`observe::layer`] (outermost) gives each request an id, a log
//! line and its place in the metrics. One file per resource holds its handlers.

pub mod access;
pub mod accounts;
pub mod approvals;
pub mod calendar;
pub mod extract;
pub mod feeds;
pub mod generate;
pub mod idempotency;
pub mod inbox;
pub mod keys;
pub mod media;
pub mod members;
pub mod notifications;
pub mod observe;
pub mod openapi;
pub mod paging;
pub mod post_media;
pub mod posts;
pub mod problem;
pub mod queue;
pub mod setup;
pub mod signin;
pub mod snapshot;
pub mod sync;
pub mod targets;
pub mod templates;
pub mod triggers;
pub mod users;
pub mod voices;
pub mod webhooks;
pub mod workspaces;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};
use serde_json::{Value, json};

use crate::auth::Guard;
use crate::storage::Storage;
use problem::Problem;

#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub metrics: Arc<observe::Metrics>,
    /// Sign-in, lockout and rate-limit state (`auth::Guard`).
    pub guard: Arc<Guard>,
    /// Webhook settings, and the delivery worker to wake after recording deliveries.
    pub outbox: Arc<crate::webhooks::worker::Outbox>,
    /// Notification settings, and the notifier to wake.
    pub notifier: Arc<crate::notify::worker::Notifier>,
    /// Body limit, timeout and CORS.
    pub edge: Arc<Edge>,
    /// Where media files are kept (`DATA/media`; see `media.rs`).
    pub media_dir: Arc<std::path::PathBuf>,
    /// Core's engine on this storage for what the API asks of the networks (unpublish,
    /// account checks); it never claims targets (`publisher::engine`).
    pub networks: Arc<postctl_core::publish::Engine>,
}

/// What every request meets at the edge, from the settings.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The largest body read, in bytes (`body_limit_kb`).
    pub body_limit: usize,
    /// How long a request may take, body included (`request_timeout_seconds`).
    pub request_timeout: std::time::Duration,
    /// The origins browsers may call from (`cors_origins`); empty for no CORS headers.
    pub cors_origins: Vec<String>,
}

impl Edge {
    pub fn from_settings(settings: &crate::config::Settings) -> Edge {
        Edge {
            body_limit: settings.body_limit_bytes,
            request_timeout: settings.request_timeout,
            cors_origins: settings.cors_origins.clone(),
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppState")
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    // Every route here must be in auth::policy::ROUTES, or the access layer refuses it.
    let authorized = Router::new()
        .route("/api/v1/me", get(members::me))
        .route("/api/v1/posts", get(posts::list).post(posts::create))
        .route(
            "/api/v1/posts/{id}",
            get(posts::get).patch(posts::patch).delete(posts::delete),
        )
        .route("/api/v1/posts/{id}/schedule", post(targets::schedule))
        .route("/api/v1/posts/{id}/cancel", post(targets::cancel))
        .route("/api/v1/posts/{id}/retry", post(targets::retry))
        .route("/api/v1/posts/{id}/resolve", post(targets::resolve))
        .route("/api/v1/posts/{id}/attempts", get(targets::attempts))
        .route("/api/v1/posts/{id}/metrics", get(targets::metrics))
        .route("/api/v1/posts/{id}/unpublish", post(targets::unpublish))
        .route("/api/v1/calendar", get(calendar::calendar))
        .route(
            "/api/v1/accounts",
            get(accounts::list).post(accounts::create),
        )
        .route(
            "/api/v1/accounts/{id}",
            get(accounts::get).delete(accounts::delete),
        )
        .route("/api/v1/accounts/{id}/check", post(accounts::check))
        .route("/api/v1/accounts/{id}/metrics", get(accounts::metrics))
        .route(
            "/api/v1/accounts/{id}/queue",
            get(queue::get).put(queue::put).delete(queue::delete),
        )
        .route("/api/v1/queue", get(queue::list))
        .route("/api/v1/ai", get(generate::get).put(generate::put))
        .route("/api/v1/generate", post(generate::generate))
        .route("/api/v1/members", get(members::list))
        .route("/api/v1/members/{name}", put(members::set))
        .route("/api/v1/keys", get(keys::list).post(keys::create))
        .route("/api/v1/workspaces", get(workspaces::list))
        .route("/api/v1/session/workspace", post(workspaces::move_session))
        .route("/api/v1/sync/versions", get(sync::pull).post(sync::push))
        .route("/api/v1/sync/snapshot", get(snapshot::get))
        .route("/api/v1/media", get(media::missing))
        .route(
            "/api/v1/media/{sha256}",
            get(media::get)
                .put(media::put)
                .layer(DefaultBodyLimit::max(media::MEDIA_MAX_BYTES)),
        )
        .route("/api/v1/keys/{id}", delete(keys::revoke))
        .route("/api/v1/keys/{id}/rotate", post(keys::rotate))
        .route("/api/v1/users/{name}", delete(users::delete))
        .route(
            "/api/v1/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::patch)
                .delete(webhooks::delete),
        )
        .route(
            "/api/v1/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route("/api/v1/webhooks/{id}/ping", post(webhooks::ping))
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(webhooks::redeliver),
        )
        .route(
            "/api/v1/deliveries/{delivery}/redeliver",
            post(webhooks::redeliver_delivery),
        )
        .route("/api/v1/templates", get(templates::list))
        .route(
            "/api/v1/templates/{name}",
            get(templates::get)
                .put(templates::put)
                .delete(templates::delete),
        )
        .route(
            "/api/v1/templates/{name}/render",
            post(templates::render_route),
        )
        .route("/api/v1/voices", get(voices::list))
        .route(
            "/api/v1/voices/{name}",
            get(voices::get).put(voices::put).delete(voices::delete),
        )
        .route(
            "/api/v1/triggers",
            get(triggers::list).post(triggers::create),
        )
        .route(
            "/api/v1/triggers/{id}",
            get(triggers::get)
                .post(triggers::fire_generic)
                .delete(triggers::delete),
        )
        .route("/api/v1/feeds", get(feeds::list).post(feeds::create))
        .route("/api/v1/feeds/{id}", delete(feeds::delete))
        .route("/api/v1/approvals", get(approvals::list))
        .route(
            "/api/v1/approvals/settings",
            get(approvals::get_settings).put(approvals::put_settings),
        )
        .route("/api/v1/posts/{id}/approve", post(approvals::approve))
        .route("/api/v1/posts/{id}/reject", post(approvals::reject))
        .route("/api/v1/posts/{id}/approvals", get(approvals::history))
        .route("/api/v1/inbox", get(inbox::list))
        .route("/api/v1/inbox/read-all", post(inbox::read_all))
        .route("/api/v1/inbox/{id}/read", post(inbox::read))
        .route(
            "/api/v1/notifications/channels",
            get(notifications::list_channels).post(notifications::create_channel),
        )
        .route(
            "/api/v1/notifications/channels/{id}",
            delete(notifications::delete_channel),
        )
        .route(
            "/api/v1/notifications/preferences",
            get(notifications::preferences).put(notifications::set_preferences),
        )
        .merge(signin::authorized_routes())
        .route_layer(from_fn_with_state(state.clone(), idempotency::layer))
        .route_layer(from_fn_with_state(state.clone(), access::authorize));
    Router::new()
        .merge(authorized)
        .route("/api/v1/setup", post(setup::complete))
        // GitHub signs its calls with the trigger's secret instead of sending a key.
        .route("/api/v1/triggers/github/{id}", post(triggers::fire_github))
        .merge(signin::public_routes())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(ops_routes())
        .fallback(|| async {
            Problem::not_found("there is no such route; the API is under /api/v1")
        })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed() })
        .layer(DefaultBodyLimit::max(state.edge.body_limit))
        .layer(from_fn_with_state(state.clone(), refuse_oversized))
        .layer(from_fn_with_state(state.clone(), time_limit))
        .layer(cors(&state.edge.cors_origins))
        .layer(from_fn_with_state(state.clone(), observe::layer))
        .with_state(state)
}

/// CORS for the configured origins; with none, a layer that adds nothing, so browsers
/// refuse cross-origin calls. Preflights are answered here, before the access layer.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return CorsLayer::new();
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            HeaderName::from_static(idempotency::HEADER),
            HeaderName::from_static(observe::REQUEST_ID),
        ])
        .expose_headers([
            axum::http::header::LOCATION,
            axum::http::header::RETRY_AFTER,
            HeaderName::from_static(observe::REQUEST_ID),
            HeaderName::from_static(idempotency::REPLAYED),
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// Answers 503 `timeout` when a request (reading its body included) takes longer than
/// the setting. The handler stops at its next await; a statement already handed to the
/// database finishes or rolls back there on its own.
async fn time_limit(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = state.edge.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::timeout(format!(
            "the request took longer than {} s, the server's request_timeout_seconds; \
             send the body at once, or retry later",
            limit.as_secs()
        ))
        .into_response(),
    }
}

/// The routes for operators and tools: the scrape and the API's description.
fn ops_routes() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(observe::metrics))
        .route("/api/v1/openapi.json", get(openapi::document))
}

/// Refuses a body whose declared length is over the limit at once, instead of reading it
/// first (bodies without a length are cut at the limit as they are read).
async fn refuse_oversized(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Media files have their own limit, checked as they are read (`media.rs`).
    let limit = if request.uri().path().starts_with("/api/v1/media/") {
        media::MEDIA_MAX_BYTES
    } else {
        state.edge.body_limit
    };
    match declared {
        Some(length) if length > limit as u64 => Problem::too_large(format!(
            "the body is {length} bytes; the limit is {limit} bytes (body_limit_kb; media \
             files: {})",
            media::MEDIA_MAX_BYTES
        ))
        .into_response(),
        _ => next.run(request).await,
    }
}

/// Alive: the process answers.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: the database answers and its schema is this binary's.
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, Problem> {
    match state.storage.ready().await {
        Ok(()) => Ok(Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!("not ready: {e}");
            Err(Problem::unavailable(
                "the database is not reachable or not migrated",
            ))
        }
    }
}
