//! Failures injected in front of a fake's real behaviour, the same for every network, each
//! answered in that network's own words (see [`ErrorStyle`]).
//!
//! The draws come from a seeded xorshift generator, so one seed and one request order give
//! the same failures on every run. Requests that run concurrently reach the generator in
//! the order the server sees them, which a test does not control; the counts in
//! [`ChaosCounts`] are what tests assert on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::lock;
use super::quota::{Quota, QuotaState};
use super::server::Connection;

/// One kind of injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// The network's 5xx answer (status [`ChaosConfig::server_status`]); nothing is created.
    ServerError,
    /// The network's 429 answer with its rate-limit signal saying "retry after
    /// [`ChaosConfig::retry_after`]"; nothing is created.
    RateLimited,
    /// The connection is closed without an answer; nothing is created.
    Dropped,
    /// The request is carried out (the post exists), then the connection is closed without
    /// an answer: the "sent, outcome unknown" case.
    DroppedAfterCreate,
    /// The request is carried out, then the answer waits [`ChaosConfig::slow`] before it is
    /// sent: past a client's timeout this is the other "sent, outcome unknown" case.
    Slow,
    /// The request is carried out, then the network's 5xx answer is sent instead of the
    /// real one.
    FailAfterCreate,
}

impl Failure {
    /// Every kind, for a test or a benchmark that wants them all mixed.
    pub const ALL: [Failure; 6] = [
        Failure::ServerError,
        Failure::RateLimited,
        Failure::Dropped,
        Failure::DroppedAfterCreate,
        Failure::Slow,
        Failure::FailAfterCreate,
    ];

    /// The name used by the `fake-networks` binary's `--kinds` flag.
    pub fn name(self) -> &'static str {
        match self {
            Failure::ServerError => "5xx",
            Failure::RateLimited => "429",
            Failure::Dropped => "drop",
            Failure::DroppedAfterCreate => "drop-after-create",
            Failure::Slow => "slow",
            Failure::FailAfterCreate => "fail-after-create",
        }
    }

    /// The kind called `name` (see [`Failure::name`]).
    pub fn from_name(name: &str) -> Option<Failure> {
        Failure::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What to inject, and how often.
#[derive(Clone, Debug)]
pub struct ChaosConfig {
    /// The share of requests that fail, 0.0 to 1.0.
    pub fail_rate: f64,
    /// Seed of the generator; the same seed gives the same sequence of draws.
    pub seed: u64,
    /// The kinds to mix, drawn with equal weight; empty means no failures.
    pub kinds: Vec<Failure>,
    /// The wait a 429 asks for; short, so tests stay fast.
    pub retry_after: Duration,
    /// How long a [`Failure::Slow`] answer waits; set it past the client's timeout.
    pub slow: Duration,
    /// The status of [`Failure::ServerError`] and [`Failure::FailAfterCreate`].
    pub server_status: StatusCode,
    /// Only requests that are not GET or HEAD fail (reads always succeed).
    pub writes_only: bool,
}

impl Default for ChaosConfig {
    /// No failures; 1 s retry-after, 3 s slow answers, 503, every method.
    fn default() -> ChaosConfig {
        ChaosConfig {
            fail_rate: 0.0,
            seed: 0x5eed_cafe,
            kinds: Failure::ALL.to_vec(),
            retry_after: Duration::from_secs(1),
            slow: Duration::from_secs(3),
            server_status: StatusCode::SERVICE_UNAVAILABLE,
            writes_only: false,
        }
    }
}

impl ChaosConfig {
    /// `fail_rate` of requests fail with the given kinds, drawn from `seed`.
    pub fn failing(fail_rate: f64, kinds: &[Failure], seed: u64) -> ChaosConfig {
        ChaosConfig {
            fail_rate,
            seed,
            kinds: kinds.to_vec(),
            ..ChaosConfig::default()
        }
    }
}

/// How many failures of each kind were injected, and how many requests were seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChaosCounts {
    pub requests: u64,
    pub server_errors: u64,
    pub rate_limited: u64,
    pub dropped: u64,
    pub dropped_after_create: u64,
    pub slow: u64,
    pub failed_after_create: u64,
}

impl ChaosCounts {
    /// Every injected failure.
    pub fn injected(&self) -> u64 {
        self.server_errors
            + self.rate_limited
            + self.dropped
            + self.dropped_after_create
            + self.slow
            + self.failed_after_create
    }

    /// The failures after which the request had been carried out.
    pub fn after_create(&self) -> u64 {
        self.dropped_after_create + self.slow + self.failed_after_create
    }

    fn count(&mut self, failure: Failure) {
        let slot = match failure {
            Failure::ServerError => &mut self.server_errors,
            Failure::RateLimited => &mut self.rate_limited,
            Failure::Dropped => &mut self.dropped,
            Failure::DroppedAfterCreate => &mut self.dropped_after_create,
            Failure::Slow => &mut self.slow,
            Failure::FailAfterCreate => &mut self.failed_after_create,
        };
        *slot += 1;
    }
}

/// One request as the fake saw it, in arrival order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The status answered; None when the connection was dropped without an answer.
    pub status: Option<u16>,
    /// The failure injected, if any.
    pub injected: Option<Failure>,
}

/// A fake's chaos settings, latency, counters and request log; shared by the handle the
/// test holds and the server's middleware.
pub struct Chaos {
    state: Mutex<ChaosState>,
}

struct ChaosState {
    config: ChaosConfig,
    rng: XorShift,
    latency: Duration,
    counts: ChaosCounts,
    log: Vec<RequestRecord>,
}

impl Chaos {
    pub(crate) fn new() -> Arc<Chaos> {
        let config = ChaosConfig::default();
        Arc::new(Chaos {
            state: Mutex::new(ChaosState {
                rng: XorShift::new(config.seed),
                config,
                latency: Duration::ZERO,
                counts: ChaosCounts::default(),
                log: Vec::new(),
            }),
        })
    }

    /// Replaces the settings and restarts the generator from the new seed.
    pub fn set(&self, config: ChaosConfig) {
        let mut state = lock(&self.state);
        state.rng = XorShift::new(config.seed);
        state.config = config;
    }

    /// Turns failures off (latency stays).
    pub fn off(&self) {
        let mut state = lock(&self.state);
        state.config.fail_rate = 0.0;
    }

    /// The current settings.
    pub fn config(&self) -> ChaosConfig {
        lock(&self.state).config.clone()
    }

    /// A fixed delay before every request is handled, e.g. 20 ms for benchmarks.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }

    /// What has been injected so far.
    pub fn counts(&self) -> ChaosCounts {
        lock(&self.state).counts
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.state).log.clone()
    }

    /// Draws this request's fate; returns the failure (if any), the latency and the
    /// position of the request in the log.
    fn admit(&self, method: &Method, path: String) -> (Option<Failure>, Duration, usize) {
        let mut state = lock(&self.state);
        state.counts.requests += 1;
        let is_read = method == Method::GET || method == Method::HEAD;
        let spared = state.config.writes_only && is_read;
        let eligible = !spared && !state.config.kinds.is_empty() && state.config.fail_rate > 0.0;
        let failure = if eligible {
            let fail_rate = state.config.fail_rate;
            let draw = state.rng.next_f64();
            let pick = state.rng.next_u64();
            if draw < fail_rate {
                let kinds = &state.config.kinds;
                // usize fits any realistic list of kinds; the modulo keeps the pick in range.
                Some(kinds[(pick % kinds.len() as u64) as usize])
            } else {
                None
            }
        } else {
            None
        };
        if let Some(failure) = failure {
            state.counts.count(failure);
        }
        let latency = state.latency;
        state.log.push(RequestRecord {
            method: method.to_string(),
            path,
            status: None,
            injected: failure,
        });
        (failure, latency, state.log.len() - 1)
    }

    fn answered(&self, index: usize, status: Option<u16>) {
        if let Some(record) = lock(&self.state).log.get_mut(index) {
            record.status = status;
        }
    }
}

/// How a network words its failures and its rate limits; each fake implements it from
/// the network's API documentation.
pub(crate) trait ErrorStyle: Send + Sync + 'static {
    /// The network's answer to a server error with `status` (5xx) on `path`.
    fn server_error(&self, path: &str, status: StatusCode) -> Response;

    /// The network's 429 on `path`, carrying its signal to retry after `quota.reset_after`.
    fn rate_limited(&self, path: &str, quota: &QuotaState) -> Response;

    /// The rate-limit headers the network puts on every answer; none by default.
    fn quota_headers(&self, _path: &str, _quota: &QuotaState, _headers: &mut HeaderMap) {}

    /// Whose quota a request counts against: the Authorization header, else the first path
    /// segment (Telegram's `bot<token>`, a webhook's id), else everyone's.
    fn quota_key(&self, request: &Request) -> String {
        if let Some(auth) = request.headers().get(header::AUTHORIZATION) {
            return String::from_utf8_lossy(auth.as_bytes()).into_owned();
        }
        request
            .uri()
            .path()
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

/// Everything between a client and a fake's handlers: chaos, quota and error style.
#[derive(Clone)]
pub(crate) struct FrontDoor {
    pub chaos: Arc<Chaos>,
    pub quota: Arc<Mutex<Quota>>,
    pub style: Arc<dyn ErrorStyle>,
}

/// The middleware that every fake's router runs first (outermost layer): latency, then
/// the chaos draw, then the quota, then the handler.
pub(crate) async fn middleware(
    State(front): State<FrontDoor>,
    request: Request,
    next: Next,
) -> Response {
    let FrontDoor {
        chaos,
        quota,
        style,
    } = front;
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_string(), |p| p.to_string());
    let connection = request
        .extensions()
        .get::<ConnectInfo<Connection>>()
        .map(|info| info.0.clone());
    let (failure, latency, index) = chaos.admit(request.method(), path.clone());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let config = chaos.config();
    let server_error = || style.server_error(&path, config.server_status);
    let (response, delivered) = match failure {
        Some(Failure::ServerError) => (server_error(), true),
        Some(Failure::RateLimited) => {
            let exhausted = lock(&quota).exhausted(config.retry_after);
            (style.rate_limited(&path, &exhausted), true)
        }
        Some(Failure::Dropped) => (server_error(), !drop_connection(connection.as_ref())),
        None | Some(Failure::DroppedAfterCreate | Failure::Slow | Failure::FailAfterCreate) => {
            let key = style.quota_key(&request);
            let counted = lock(&quota).hit(&key);
            let mut response = if counted.exceeded {
                style.rate_limited(&path, &counted)
            } else {
                next.run(request).await
            };
            style.quota_headers(&path, &counted, response.headers_mut());
            match failure {
                Some(Failure::DroppedAfterCreate) => {
                    (server_error(), !drop_connection(connection.as_ref()))
                }
                Some(Failure::Slow) => {
                    tokio::time::sleep(config.slow).await;
                    (response, true)
                }
                Some(Failure::FailAfterCreate) => (server_error(), true),
                _ => (response, true),
            }
        }
    };
    let status = delivered.then(|| response.status().as_u16());
    chaos.answered(index, status);
    response
}

/// Closes the connection without an answer; false when there is no connection to close
/// (never the case behind `BoundPort::serve`), and the caller's 5xx is sent instead, the
/// closest honest failure.
fn drop_connection(connection: Option<&Connection>) -> bool {
    match connection {
        Some(connection) => {
            connection.drop_without_answer();
            true
        }
        None => false,
    }
}

/// xorshift64*: small, fast and good enough to spread failures; no crate needed.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        // Zero is the generator's fixed point; any other constant would do.
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::super::raw_http;
    use super::super::{FakeMastodon, FakeServer, FakeWebhook};
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let mut a = XorShift::new(7);
        let mut b = XorShift::new(7);
        let draws_a: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let draws_b: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        assert_eq!(draws_a, draws_b);
        let mut c = XorShift::new(8);
        assert_ne!(draws_a[0], c.next_u64());
    }

    #[test]
    fn the_fail_rate_is_roughly_kept_and_kinds_are_mixed() {
        let chaos = Chaos::new();
        chaos.set(ChaosConfig::failing(
            0.3,
            &[Failure::ServerError, Failure::RateLimited],
            42,
        ));
        for _ in 0..10_000 {
            let (failure, _, _) = chaos.admit(&Method::POST, "/".into());
            let _ = failure;
        }
        let counts = chaos.counts();
        assert_eq!(counts.requests, 10_000);
        assert!(
            (2_700..3_300).contains(&counts.injected()),
            "{counts:?} is far from 30%"
        );
        assert!(counts.server_errors > 1_000 && counts.rate_limited > 1_000);
        assert_eq!(counts.dropped + counts.slow, 0);
    }

    #[test]
    fn writes_only_spares_reads() {
        let chaos = Chaos::new();
        chaos.set(ChaosConfig {
            writes_only: true,
            ..ChaosConfig::failing(1.0, &[Failure::ServerError], 1)
        });
        assert_eq!(chaos.admit(&Method::GET, "/".into()).0, None);
        assert_eq!(
            chaos.admit(&Method::POST, "/".into()).0,
            Some(Failure::ServerError)
        );
    }

    fn status_body() -> Vec<u8> {
        b"status=hello&visibility=public".to_vec()
    }

    const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
    const AUTH: (&str, &str) = ("Authorization", "Bearer masto-token");
    const KEY: (&str, &str) = ("Idempotency-Key", "chaos-1");

    fn post_status(fake: &FakeMastodon, timeout: Duration) -> std::io::Result<raw_http::Reply> {
        raw_http::request(
            &fake.base_url(),
            "POST",
            "/api/v1/statuses",
            &[AUTH, FORM, KEY],
            &status_body(),
            timeout,
        )
    }

    #[test]
    fn a_dropped_connection_gets_no_answer_and_creates_nothing() {
        let fake = FakeWebhook::start();
        fake.chaos()
            .set(ChaosConfig::failing(1.0, &[Failure::Dropped], 1));
        let result = raw_http::request(
            &fake.base_url(),
            "POST",
            "/x",
            &[],
            b"{}",
            Duration::from_secs(5),
        );
        assert!(
            result.is_err(),
            "expected a connection error, got {result:?}"
        );
        assert!(fake.deliveries().is_empty());
        assert_eq!(fake.chaos().counts().dropped, 1);
        assert_eq!(fake.requests()[0].status, None);
        assert_eq!(fake.requests()[0].injected, Some(Failure::Dropped));
    }

    #[test]
    fn failures_after_create_leave_the_post_created() {
        let fake = FakeMastodon::start();
        fake.chaos()
            .set(ChaosConfig::failing(1.0, &[Failure::FailAfterCreate], 1));
        let failed = post_status(&fake, Duration::from_secs(5)).expect("an answer");
        assert_eq!(failed.status, 503);
        assert_eq!(
            fake.posts().len(),
            1,
            "the status exists although the answer was 503"
        );

        fake.chaos()
            .set(ChaosConfig::failing(1.0, &[Failure::DroppedAfterCreate], 1));
        assert!(post_status(&fake, Duration::from_secs(5)).is_err());
        assert_eq!(
            fake.posts().len(),
            1,
            "the same key replays, it does not create"
        );

        fake.chaos().off();
        let retried = post_status(&fake, Duration::from_secs(5)).expect("an answer");
        assert_eq!(retried.status, 200);
        assert_eq!(retried.json()["id"], fake.posts()[0].id.as_str());
        let counts = fake.chaos().counts();
        assert_eq!(
            (counts.failed_after_create, counts.dropped_after_create),
            (1, 1)
        );
        assert_eq!(counts.after_create(), 2);
        assert_eq!(counts.requests, 3);
    }

    #[test]
    fn a_slow_answer_comes_after_the_post_exists() {
        let fake = FakeMastodon::start();
        fake.chaos().set(ChaosConfig {
            slow: Duration::from_millis(1500),
            ..ChaosConfig::failing(1.0, &[Failure::Slow], 1)
        });
        let started = std::time::Instant::now();
        let result = post_status(&fake, Duration::from_millis(300));
        assert!(
            result.is_err(),
            "the client should time out, got {result:?}"
        );
        assert!(started.elapsed() < Duration::from_millis(1400));
        assert_eq!(fake.posts().len(), 1, "created before the slow answer");
        assert_eq!(fake.chaos().counts().slow, 1);
    }

    #[test]
    fn latency_delays_every_answer() {
        let fake = FakeWebhook::start();
        fake.chaos().set_latency(Duration::from_millis(60));
        let started = std::time::Instant::now();
        let reply = raw_http::call(&fake.base_url(), "POST", "/x", &[], b"{}");
        assert_eq!(reply.status, 200);
        assert!(started.elapsed() >= Duration::from_millis(60));
        assert_eq!(fake.chaos().counts().injected(), 0);
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in Failure::ALL {
            assert_eq!(Failure::from_name(kind.name()), Some(kind));
        }
        assert_eq!(Failure::from_name("nope"), None);
    }
}
