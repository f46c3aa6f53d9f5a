//! The one HTTP client every adapter uses: timeouts, user agent, proxies and CAs from the
//! environment (reqwest's system proxy and platform verifier), rate-limit bookkeeping, and
//! the classification of transport failures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

use serde_json::Value;

use super::{MediaFile, PublishError};
use crate::model::Account;

/// The longest wait postctl takes from what a network sent. Headers and bodies can say
/// anything (`Retry-After: inf`, a reset in the year 300,000,000,000); a longer wait is
/// taken as this one, and the retry window then decides whether the target fails.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// A wait of `seconds` as a network wrote it (a header, a JSON field): at most
/// [`MAX_WAIT`], never negative; `None` when it is not a number.
pub fn wait_from_seconds(seconds: f64) -> Option<Duration> {
    if seconds.is_nan() {
        return None;
    }
    Some(Duration::from_secs_f64(
        seconds.clamp(0.0, MAX_WAIT.as_secs_f64()),
    ))
}

/// What the last response said about an account's rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub remaining: Option<u64>,
    /// When the window resets, as wall-clock time.
    pub reset: Option<SystemTime>,
}

/// A shared client. Cloning is cheap; clones share connections and rate-limit state.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    rates: Arc<Mutex<HashMap<String, RateState>>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Http(..)")
    }
}

impl Http {
    /// A client whose every request gives up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Http, PublishError> {
        let client = crate::tls::client_builder()
            .user_agent(concat!("postctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .redirect(same_origin_redirects())
            // A Referer would carry the last URL, and its token (Telegram's bot token is
            // in the path), to wherever a redirect points.
            .referer(false)
            .build()
            .map_err(|e| PublishError::permanent(format!("cannot set up HTTP: {e}")))?;
        Ok(Http {
            client,
            rates: Arc::default(),
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request`, records the rate-limit headers of the answer under `account`, and
    /// turns transport failures into classified errors. HTTP error statuses are returned
    /// as responses: each adapter reads its network's error bodies.
    pub async fn send(
        &self,
        account: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, PublishError> {
        let response = request.send().await.map_err(transport_error)?;
        self.learn(account, response.headers());
        Ok(response)
    }

    /// [`Http::send`], then reads the answer's body (bounded, see [`read_answer`]).
    pub(crate) async fn exchange(
        &self,
        account: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, PublishError> {
        read_answer(self.send(account, request).await?).await
    }

    /// Records what `headers` say about `account`'s rate limit.
    pub fn learn(&self, account: &str, headers: &HeaderMap) {
        let state = rate_state(headers, SystemTime::now());
        if (state.remaining.is_some() || state.reset.is_some())
            && let Ok(mut rates) = self.rates.lock()
        {
            rates.insert(account.to_string(), state);
        }
    }

    /// How long to wait before the next request on `account`: until the reset when the
    /// last answer said nothing remains, else zero.
    pub fn wait_before(&self, account: &str, now: SystemTime) -> Duration {
        let Ok(rates) = self.rates.lock() else {
            return Duration::ZERO;
        };
        match rates.get(account) {
            Some(RateState {
                remaining: Some(0),
                reset: Some(reset),
            }) => reset
                .duration_since(now)
                .unwrap_or(Duration::ZERO)
                .min(MAX_WAIT),
            _ => Duration::ZERO,
        }
    }
}

/// Redirects the shared client follows: only to the origin (scheme, host and port) the
/// request was made to, at most five. Requests carry credentials in headers reqwest does
/// not know are secret (`x-api-key`), in paths (Telegram) and in bodies that a 307 or 308
/// would send again (Bluesky's login), so a redirect to another origin is not followed:
/// its 3xx answer goes back to the adapter, which reports it as an error.
pub(crate) fn same_origin_redirects() -> reqwest::redirect::Policy {
    const MAX_REDIRECTS: usize = 5;
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin {
            attempt.stop()
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// How [`transport_error`] messages start: the circuit reads them as the network being
/// unreachable (`publish::circuit::is_outage`).
pub const TRANSPORT_FAILURES: [&str; 3] =
    ["timed out", "could not connect", "the connection failed"];

/// A request that failed before any answer. A connection that was never made cannot have
/// posted anything; a timeout or a connection dropped after sending may have.
pub fn transport_error(e: reqwest::Error) -> PublishError {
    let maybe_sent = !e.is_connect() && !e.is_builder();
    let [timed_out, refused, failed] = TRANSPORT_FAILURES;
    let what = if e.is_timeout() {
        timed_out
    } else if e.is_connect() {
        refused
    } else {
        failed
    };
    PublishError::Retryable {
        message: format!("{what}: {}", redact_url(&e)),
        retry_after: None,
        maybe_sent,
        status: None,
    }
}

/// The error text with the URL cut to its origin: paths and queries can hold a token
/// (Telegram's bot token, a Discord or Slack webhook token).
fn redact_url(e: &reqwest::Error) -> String {
    let text = e.to_string();
    match e.url() {
        Some(url) => {
            let origin = url.origin().ascii_serialization();
            text.replace(url.as_str(), &origin)
        }
        None => text,
    }
}

/// Reads the rate-limit headers of the networks we talk to:
/// `Retry-After` (seconds or an HTTP date), `X-RateLimit-Remaining`/`-Reset` (Mastodon:
/// an ISO 8601 time; Discord: epoch seconds with decimals; X: epoch seconds) and
/// `RateLimit-Remaining`/`-Reset` (Bluesky: epoch seconds), and Meta's usage headers
/// (`X-App-Usage`, `X-Page-Usage`, `X-Business-Use-Case-Usage`: percentages of the
/// allowance used, the remaining one read as what is left of 100).
pub fn rate_state(headers: &HeaderMap, now: SystemTime) -> RateState {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let remaining = [
        "x-ratelimit-remaining",
        "ratelimit-remaining",
        "x-rate-limit-remaining",
    ]
    .iter()
    .find_map(|name| get(name))
    .and_then(|v| v.split('.').next().and_then(|n| n.parse().ok()));
    let reset = ["x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset"]
        .iter()
        .find_map(|name| get(name))
        .and_then(|v| parse_reset(v, now));
    if remaining.is_none()
        && reset.is_none()
        && let Some(used) = super::graph::usage_percent(headers)
    {
        return meta_usage(used, super::graph::regain_access(headers), now);
    }
    RateState { remaining, reset }
}

/// Meta's usage headers as a window: the percentage of the allowance left, and once it is
/// used up, a reset when `X-Business-Use-Case-Usage` says access returns (else
/// [`META_RECOVERY`]: Meta's windows roll over an hour and recover gradually).
fn meta_usage(used: u64, regain: Option<Duration>, now: SystemTime) -> RateState {
    let left = 100u64.saturating_sub(used);
    RateState {
        remaining: Some(left),
        reset: (left == 0).then(|| now + regain.unwrap_or(META_RECOVERY)),
    }
}

/// How long an account whose Meta usage reached 100% waits when Meta gives no time.
const META_RECOVERY: Duration = Duration::from_secs(5 * 60);

/// How long a 429 or 503 asks us to wait, from any of the headers networks use; at most
/// [`MAX_WAIT`].
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = get("retry-after") {
        if let Some(wait) = value.parse::<f64>().ok().and_then(wait_from_seconds) {
            return Some(wait);
        }
        if let Ok(when) = chrono::DateTime::parse_from_rfc2822(value) {
            return Some(until(when.timestamp_millis(), now));
        }
    }
    if let Some(wait) = get("x-ratelimit-reset-after")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(wait_from_seconds)
    {
        return Some(wait);
    }
    // A window's reset only matters once the window is used up: Bluesky sends its reset
    // on every answer, and a 500 must not wait for the end of a five-minute window.
    let state = rate_state(headers, now);
    state
        .reset
        .filter(|_| state.remaining == Some(0))
        .map(|reset| {
            reset
                .duration_since(now)
                .unwrap_or(Duration::ZERO)
                .min(MAX_WAIT)
        })
}

/// A reset given as epoch seconds (possibly fractional), seconds from now (small numbers),
/// or an ISO 8601 time; at most [`MAX_WAIT`] from `now`.
fn parse_reset(value: &str, now: SystemTime) -> Option<SystemTime> {
    let wait = match value.parse::<f64>() {
        Ok(number) => {
            // Epoch seconds are ~1.7e9; anything small is a delay in seconds.
            let delay = if number > 1_000_000_000.0 {
                let now_s = now
                    .duration_since(UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                number - now_s
            } else {
                number
            };
            wait_from_seconds(delay)?
        }
        Err(_) => until(
            chrono::DateTime::parse_from_rfc3339(value)
                .ok()?
                .timestamp_millis(),
            now,
        ),
    };
    now.checked_add(wait)
}

/// From `now` until `epoch_ms`: zero when it has passed, at most [`MAX_WAIT`].
fn until(epoch_ms: i64, now: SystemTime) -> Duration {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let ms = u64::try_from(epoch_ms.saturating_sub(now_ms)).unwrap_or(0);
    Duration::from_millis(ms).min(MAX_WAIT)
}

/// The usual classification of an HTTP error status, for adapters to start from.
pub fn classify(status: u16, message: String, retry_after: Option<Duration>) -> PublishError {
    match status {
        401 => PublishError::Auth {
            message,
            status: Some(status),
        },
        408 | 425 | 429 => PublishError::Retryable {
            message,
            retry_after,
            maybe_sent: false,
            status: Some(status),
        },
        // The request was read; whether it was acted on is unknown.
        500..=599 => PublishError::Retryable {
            message,
            retry_after,
            maybe_sent: true,
            status: Some(status),
        },
        _ => PublishError::Permanent {
            message,
            status: Some(status),
        },
    }
}

// ---- Answers, addresses and media, shared by the adapters. ----

/// The most of an answer body an adapter reads. Every answer we parse is small; a
/// larger one is cut here rather than read into memory whole.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// An HTTP answer with its body read (up to [`MAX_ANSWER_BYTES`]).
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// What a 429 or 503 asks us to wait, from the headers.
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.headers, SystemTime::now())
    }

    /// The start of the body as text, for error messages: `": <text>"`, or nothing when
    /// the body is empty. Control characters are dropped and the length is bounded.
    pub fn excerpt(&self) -> String {
        let text = excerpt(&String::from_utf8_lossy(&self.body));
        if text.is_empty() {
            String::new()
        } else {
            format!(": {text}")
        }
    }
}

/// `text` on one line, at most 300 characters: a network's error text is shown to the
/// user, not dumped whole.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 300;
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// Reads the status, headers and (bounded) body of `response`. A connection that fails
/// while the body arrives may have been acted on, so it is a retryable, maybe-sent error.
pub(crate) async fn read_answer(mut response: reqwest::Response) -> Result<Answer, PublishError> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// `base` with `segments` appended as path segments (each percent-encoded as needed).
/// The error never repeats `base`, which may hold a token (a webhook URL).
pub(crate) fn endpoint(base: &str, segments: &[&str]) -> Result<reqwest::Url, PublishError> {
    let invalid = || {
        PublishError::permanent(
            "the account's address is not a valid http(s) URL; remove the account and add it again (`postctl accounts rm NAME`, then `postctl accounts add ...`)",
        )
    };
    let mut url = reqwest::Url::parse(base).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid());
    }
    if !segments.is_empty() {
        url.path_segments_mut()
            .map_err(|()| invalid())?
            .pop_if_empty()
            .extend(segments);
    }
    Ok(url)
}

/// The account's API address: its own base URL, else its network's usual one; the error
/// when it is not an http(s) URL never repeats it.
pub(crate) fn api_base(account: &Account) -> Result<String, PublishError> {
    let base = account
        .base_url
        .clone()
        .or_else(|| account.network.default_base_url().map(str::to_owned))
        .unwrap_or_default();
    endpoint(&base, &[])?;
    Ok(base)
}

/// The host (and port) of `url`, which is safe to show: tokens live in paths and queries.
pub(crate) fn host_of(url: &reqwest::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => "the configured address".to_owned(),
    }
}

/// A failure before the post itself was sent (an upload, a login) has posted nothing,
/// whatever the request was: a retry cannot post twice.
pub(crate) fn not_posted(mut error: PublishError) -> PublishError {
    if let PublishError::Retryable { maybe_sent, .. } = &mut error {
        *maybe_sent = false;
    }
    error
}

/// Reads a media file for upload (off the async threads).
pub(crate) async fn read_media(media: &MediaFile) -> Result<Vec<u8>, PublishError> {
    let path = media.path.clone();
    let read = tokio::task::spawn_blocking(move || std::fs::read(path)).await;
    match read {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(PublishError::permanent(format!(
            "cannot read the media file {} ({}): {e}; attach it again with --media",
            media.file_name,
            media.path.display()
        ))),
        Err(e) => Err(PublishError::Retryable {
            message: format!("reading {} was interrupted: {e}", media.file_name),
            retry_after: None,
            maybe_sent: false,
            status: None,
        }),
    }
}

/// A media file as a multipart file part: its bytes (see [`read_media`]), name and type.
pub(crate) async fn media_part(
    media: &MediaFile,
) -> Result<reqwest::multipart::Part, PublishError> {
    let bytes = read_media(media).await?;
    reqwest::multipart::Part::bytes(bytes)
        .file_name(media.file_name.clone())
        .mime_str(&media.mime)
        .map_err(|_| {
            PublishError::permanent(format!(
                "{} has the media type {:?}, which is not valid: import the file again",
                media.file_name, media.mime
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    #[test]
    fn retry_after_reads_every_form_networks_use() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<u64>);
        let cases: &[Case<'_>] = &[
            (&[("retry-after", "7")], Some(7_000)),
            (&[("retry-after", "1.5")], Some(1_500)),
            (
                &[("retry-after", "Fri, 15 Jan 2027 08:00:10 GMT")],
                Some(10_000),
            ),
            (&[("x-ratelimit-reset-after", "0.25")], Some(250)),
            (
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1800000003"),
                ],
                Some(3_000),
            ),
            (
                &[
                    ("ratelimit-remaining", "0"),
                    ("ratelimit-reset", "1800000002"),
                ],
                Some(2_000),
            ),
            (
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "2027-01-15T08:00:04Z"),
                ],
                Some(4_000),
            ),
            // A window with requests left says nothing about when to retry an error.
            (
                &[
                    ("ratelimit-remaining", "12"),
                    ("ratelimit-reset", "1800000300"),
                ],
                None,
            ),
            (&[], None),
            (&[("retry-after", "soon")], None),
            // What a header says past all reason is a day at most.
            (&[("retry-after", "inf")], Some(86_400_000)),
            (&[("retry-after", "100000000000000")], Some(86_400_000)),
            (&[("retry-after", "-5")], Some(0)),
            (&[("retry-after", "NaN")], None),
            (
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1e19"),
                ],
                Some(86_400_000),
            ),
            (
                &[("ratelimit-remaining", "0"), ("ratelimit-reset", "inf")],
                Some(86_400_000),
            ),
            (
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "9999-12-31T23:59:59Z"),
                ],
                Some(86_400_000),
            ),
        ];
        for (pairs, expected) in cases {
            let got = retry_after(&headers(pairs), now).map(|d| d.as_millis() as u64);
            assert_eq!(got, *expected, "{pairs:?}");
        }
    }

    #[test]
    fn an_exhausted_window_makes_the_next_request_wait() {
        let http = Http::new(Duration::from_secs(5)).expect("client");
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(http.wait_before("a", now), Duration::ZERO);
        let reset = (1_800_000_000u64 + 30).to_string();
        http.rates.lock().expect("lock").insert(
            "a".into(),
            rate_state(
                &headers(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", &reset),
                ]),
                now,
            ),
        );
        assert_eq!(http.wait_before("a", now), Duration::from_secs(30));
        assert_eq!(http.wait_before("b", now), Duration::ZERO);
    }

    #[test]
    fn metas_usage_headers_pace_an_account_that_used_its_allowance() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        type Headers<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Headers, Option<u64>, Option<u64>)] = &[
            (&[("x-app-usage", r#"{"call_count":40}"#)], Some(60), None),
            (
                &[("x-app-usage", r#"{"call_count":100,"total_time":3}"#)],
                Some(0),
                Some(300),
            ),
            (
                &[(
                    "x-business-use-case-usage",
                    r#"{"99":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":7}]}"#,
                )],
                Some(0),
                Some(420),
            ),
        ];
        for (pairs, remaining, wait) in cases {
            let state = rate_state(&headers(pairs), now);
            assert_eq!(state.remaining, *remaining, "{pairs:?}");
            let waited = state
                .reset
                .map(|r| r.duration_since(now).unwrap_or_default().as_secs());
            assert_eq!(waited, *wait, "{pairs:?}");
        }
    }

    #[test]
    fn statuses_are_classified() {
        let cases = [
            (401, "auth"),
            (403, "permanent"),
            (404, "permanent"),
            (422, "permanent"),
            (429, "retry"),
            (500, "retry-maybe-sent"),
            (503, "retry-maybe-sent"),
        ];
        for (status, expected) in cases {
            let got = match classify(status, String::new(), None) {
                PublishError::Auth { .. } => "auth",
                PublishError::Permanent { .. } | PublishError::NeedsPerson { .. } => "permanent",
                PublishError::Retryable {
                    maybe_sent: true, ..
                } => "retry-maybe-sent",
                PublishError::Retryable { .. } => "retry",
            };
            assert_eq!(got, expected, "{status}");
        }
    }

    /// Headers as a network, a proxy or an attacker might send them: no value makes a
    /// parser panic, and no wait is longer than [`MAX_WAIT`].
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        const NAMES: [&str; 9] = [
            "retry-after",
            "x-ratelimit-reset-after",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            "ratelimit-remaining",
            "ratelimit-reset",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
            "ratelimit-policy",
        ];

        thread_local! {
            /// One client for every case: building one is slow.
            static HTTP: Http = Http::new(Duration::from_secs(1)).expect("client");
        }

        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<f64>().prop_map(|f| f.to_string()),
                any::<f64>().prop_map(|f| format!("{f:e}")),
                any::<i64>().prop_map(|n| n.to_string()),
                any::<u64>().prop_map(|n| n.to_string()),
                prop::sample::select(vec![
                    "inf",
                    "-inf",
                    "infinity",
                    "NaN",
                    "1e19",
                    "1e308",
                    "-1e308",
                    "0",
                    "-0",
                    "100000000000000",
                    "18446744073709551616",
                    "1.5",
                    "0.000001",
                    "",
                ])
                .prop_map(String::from),
                // The years RFC 2822 can write: 0 to 9999.
                (-62_135_596_800i64..253_402_300_799).prop_map(|s| {
                    chrono::DateTime::from_timestamp(s, 0)
                        .map(|t| t.to_rfc2822())
                        .unwrap_or_default()
                }),
                (-8_000_000_000_000i64..8_000_000_000_000).prop_map(|s| {
                    chrono::DateTime::from_timestamp(s, 0)
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default()
                }),
                "[ -~]{0,40}",
            ]
        }

        proptest! {
            #[test]
            fn no_header_panics_or_asks_for_more_than_the_cap(
                pairs in prop::collection::vec((0..NAMES.len(), value()), 0..6),
                now_s in 0u64..20_000_000_000,
            ) {
                let mut map = HeaderMap::new();
                for (name, value) in pairs {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        map.insert(NAMES[name], value);
                    }
                }
                let now = UNIX_EPOCH + Duration::from_secs(now_s);
                if let Some(wait) = retry_after(&map, now) {
                    prop_assert!(wait <= MAX_WAIT, "{wait:?} from {map:?}");
                }
                let state = rate_state(&map, now);
                if let Some(reset) = state.reset {
                    let wait = reset.duration_since(now).unwrap_or_default();
                    prop_assert!(wait <= MAX_WAIT, "{wait:?} from {map:?}");
                }
                HTTP.with(|http| {
                    http.rates.lock().expect("lock").insert("a".into(), state);
                    assert!(http.wait_before("a", now) <= MAX_WAIT);
                });
            }

            #[test]
            fn any_number_of_seconds_is_a_bounded_wait(seconds in any::<f64>()) {
                match wait_from_seconds(seconds) {
                    Some(wait) => prop_assert!(wait <= MAX_WAIT),
                    None => prop_assert!(seconds.is_nan()),
                }
            }
        }
    }
}
