//! Watching the server run: the layer that gives each request an id, a log span and a
//! line in the log, and times it into the metrics; and `GET /metrics`, the Prometheus
//! scrape (OpenMetrics text, through the `prometheus-client` crate).
//!
//! Metric labels are bounded: the route is the router's template (`/api/v1/posts/{id}`,
//! or `unmatched`), never the raw path, so ids and typos cannot grow the series.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use super::AppState;
use super::extract::Peer;
use super::problem::Problem;
use crate::auth::forwarded;
use crate::storage::PoolStatus;

/// The response header (and accepted request header) that carries the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// OpenMetrics text, which Prometheus reads.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency buckets, in seconds: from half a millisecond to ten seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// Due-to-sent lag buckets, in seconds: from 50 ms to an hour.
const LAG_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PublishLabels {
    network: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefreshLabels {
    network: String,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReadingLabels {
    subject: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CircuitLabels {
    network: String,
    base_url: String,
}

/// The server's metrics and the registry they are encoded from.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    db_connections: Gauge,
    db_idle: Gauge,
    db_max: Gauge,
    db_waiting: Gauge,
    publish_attempts: Family<PublishLabels, Counter>,
    publish_lag: Histogram,
    refresh_failures: Family<RefreshLabels, Counter>,
    readings: Family<ReadingLabels, Counter>,
    queue_depth: Family<StateLabels, Gauge>,
    circuits_open: Family<CircuitLabels, Gauge>,
    waiting_accounts: Gauge,
    waiting_targets: Gauge,
    /// The SHA-256 of the bearer token `/metrics` asks for, if one is set.
    token_hash: Option<[u8; 32]>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("token", &self.token_hash.map(|_| "(set)"))
            .finish_non_exhaustive()
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl Metrics {
    /// New metrics; `token` protects `/metrics` when given.
    pub fn new(token: Option<&str>) -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("postctl_server");
        let requests = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer's headers, by method, route and status",
            requests.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "Requests being answered now",
            in_flight.clone(),
        );
        let db_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections open",
            db_connections.clone(),
        );
        let db_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Database connections open and not in use",
            db_idle.clone(),
        );
        let db_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most database connections the pool opens",
            db_max.clone(),
        );
        let db_waiting = Gauge::default();
        registry.register(
            "db_pool_waiting",
            "Requests waiting for a database connection",
            db_waiting.clone(),
        );
        let publish_attempts = Family::<PublishLabels, Counter>::default();
        registry.register(
            "publish_outcomes",
            "Targets this process finished publishing, by network and outcome (published, retry, failed, uncertain, released)",
            publish_attempts.clone(),
        );
        let publish_lag = Histogram::new(LAG_BUCKETS);
        registry.register(
            "publish_lag_seconds",
            "Time from a target's due time to its publication, for targets this process published",
            publish_lag.clone(),
        );
        let refresh_failures = Family::<RefreshLabels, Counter>::default();
        registry.register(
            "token_refresh_failures",
            "OAuth token refreshes this process tried that failed, by network and reason (refused: the network refused the refresh token and the account needs signing in again; unreachable: tried again later; not_stored: new tokens that could not be stored)",
            refresh_failures.clone(),
        );
        let readings = Family::<ReadingLabels, Counter>::default();
        registry.register(
            "analytics_readings",
            "Counters this process collected, by subject (post: a published target's counters; account: its figures) and outcome (counted: a reading kept; not_read: pending on the network, gone, not provided, or failed and asked again later)",
            readings.clone(),
        );
        let queue_depth = Family::<StateLabels, Gauge>::default();
        registry.register(
            "targets",
            "Targets in the database, by state",
            queue_depth.clone(),
        );
        let circuits_open = Family::<CircuitLabels, Gauge>::default();
        registry.register(
            "circuit_open",
            "Networks taken as down for everyone (1 while the circuit is open), by network and address",
            circuits_open.clone(),
        );
        let waiting_accounts = Gauge::default();
        registry.register(
            "rate_limit_waiting_accounts",
            "Accounts a network asked to wait (a 429's or 503's Retry-After, a quota's reset) that have targets waiting for it now",
            waiting_accounts.clone(),
        );
        let waiting_targets = Gauge::default();
        registry.register(
            "rate_limit_waiting_targets",
            "Targets waiting for their account's network to accept requests again",
            waiting_targets.clone(),
        );
        Arc::new(Metrics {
            registry,
            waiting_accounts,
            waiting_targets,
            publish_attempts,
            publish_lag,
            refresh_failures,
            readings,
            queue_depth,
            circuits_open,
            requests,
            in_flight,
            db_connections,
            db_idle,
            db_max,
            db_waiting,
            token_hash: token.map(digest),
        })
    }

    fn observe(&self, method: &'static str, route: String, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a target the publisher finished, and for a published one the time since it
    /// was due.
    pub fn record_publish(&self, network: &str, outcome: &'static str, lag_seconds: Option<f64>) {
        self.publish_attempts
            .get_or_create(&PublishLabels {
                network: network.to_string(),
                outcome,
            })
            .inc();
        if let Some(lag) = lag_seconds {
            self.publish_lag.observe(lag.max(0.0));
        }
    }

    /// Counts a failed refresh of an account's OAuth tokens.
    pub fn record_refresh_failure(&self, network: &str, reason: &'static str) {
        self.refresh_failures
            .get_or_create(&RefreshLabels {
                network: network.to_string(),
                reason,
            })
            .inc();
    }

    /// Counts what one collection of counters did: the targets and accounts read and
    /// kept, and those not read this time.
    pub fn record_readings(&self, tally: &crate::analytics::Tally) {
        let accounts_not_read = tally.accounts_claimed - tally.accounts_counted;
        for (subject, outcome, n) in [
            ("post", "counted", tally.counted),
            ("post", "not_read", tally.not_read),
            ("account", "counted", tally.accounts_counted),
            ("account", "not_read", accounts_not_read),
        ] {
            if n > 0 {
                self.readings
                    .get_or_create(&ReadingLabels { subject, outcome })
                    .inc_by(n as u64);
            }
        }
    }

    /// Reads the queue's depth by state, the open circuits and the rate-limit waits from
    /// the database.
    async fn set_queue(&self, storage: &dyn crate::storage::Storage) {
        match storage.target_counts().await {
            Ok(counts) => {
                for state in crate::storage::TargetState::ALL {
                    let n = counts
                        .iter()
                        .find(|(s, _)| *s == state)
                        .map_or(0, |(_, n)| *n);
                    self.queue_depth
                        .get_or_create(&StateLabels {
                            state: state.as_str(),
                        })
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                }
            }
            Err(e) => tracing::warn!("could not count targets for /metrics: {e}"),
        }
        match storage.open_circuits().await {
            Ok(open) => {
                self.circuits_open.clear();
                for state in open {
                    self.circuits_open
                        .get_or_create(&CircuitLabels {
                            network: state.circuit.network.name().to_string(),
                            base_url: state.circuit.base_url.clone(),
                        })
                        .set(1);
                }
            }
            Err(e) => tracing::warn!("could not read circuits for /metrics: {e}"),
        }
        match storage.held_accounts(super::now_ms()).await {
            Ok(held) => {
                let targets: u64 = held.iter().map(|h| u64::from(h.targets)).sum();
                self.waiting_accounts
                    .set(i64::try_from(held.len()).unwrap_or(i64::MAX));
                self.waiting_targets
                    .set(i64::try_from(targets).unwrap_or(i64::MAX));
            }
            Err(e) => tracing::warn!("could not read rate-limit waits for /metrics: {e}"),
        }
    }

    fn set_pool(&self, pool: PoolStatus) {
        let gauge = |g: &Gauge, v: usize| {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        gauge(&self.db_connections, pool.size);
        gauge(&self.db_idle, pool.idle);
        gauge(&self.db_max, pool.max_size);
        gauge(&self.db_waiting, pool.waiting);
    }

    /// Whether `headers` carry the token (always, when none is set). Compares digests,
    /// so the time taken says nothing about the token.
    fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = self.token_hash else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(|t| digest(t.trim()))
            .unwrap_or([0; 32]);
        given
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The caller's request id when it is a sane one (1 to 64 of `A-Z a-z 0-9 . _ -`), so a
/// proxy's id follows the request through; otherwise a new UUIDv7.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string())
}

/// Counts a request in flight until dropped (also when the client goes away mid-answer).
struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The outermost layer: request id, span, access log line, metrics.
pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(request.headers());
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = peer.map(|peer| {
        forwarded::client_address(peer, &state.guard.trusted_proxies, request.headers())
    });
    request.extensions_mut().insert(Peer(client));
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let client_text = client.map(|ip| ip.to_string()).unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        id = %id,
        method,
        route = %route,
        client = %client_text,
        otel.name = tracing::field::Empty,
        otel.kind = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    if crate::traces::enabled() {
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        span.record("otel.name", format!("{method} {route}"));
        span.record("otel.kind", "server");
        let _ = span.set_parent(crate::traces::remote_parent(request.headers()));
    }
    state.metrics.in_flight.inc();
    let guard = InFlight(state.metrics.in_flight.clone());
    let mut response = next.run(request).instrument(span.clone()).await;
    drop(guard);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if crate::traces::enabled() {
        span.record("http.response.status_code", status);
    }
    state.metrics.observe(method, route, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        );
    });
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.metrics.allows(&headers) {
        return Problem::unauthorized(
            "/metrics needs `Authorization: Bearer TOKEN` with the server's metrics token \
             (POSTCTL_SERVER_METRICS_TOKEN)",
        )
        .into_response();
    }
    state.metrics.set_pool(state.storage.pool_status());
    state.metrics.set_queue(state.storage.as_ref()).await;
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &state.metrics.registry) {
        tracing::error!("could not encode the metrics: {e}");
        return Problem::internal().into_response();
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_when_sane_and_made_otherwise() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("lb-1234.abc_D"));
        assert_eq!(request_id(&headers), "lb-1234.abc_D");
        headers.insert(REQUEST_ID, HeaderValue::from_static("has space"));
        let made = request_id(&headers);
        assert_eq!(made.len(), 32, "{made}");
        assert!(made.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(request_id(&HeaderMap::new()).len(), 32);
    }

    #[test]
    fn the_metrics_token_is_required_when_set() {
        let open = Metrics::new(None);
        assert!(open.allows(&HeaderMap::new()));
        let closed = Metrics::new(Some("0123456789abcdef0123"));
        assert!(!closed.allows(&HeaderMap::new()));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer 0123456789abcdef012"),
        );
        assert!(!closed.allows(&headers));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer 0123456789abcdef0123"),
        );
        assert!(closed.allows(&headers));
    }
}
