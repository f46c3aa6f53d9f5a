//! What Meta's Graph APIs (Threads, Facebook Pages; platforms.md §8 and §10) share on the
//! wire, for their fakes: the error object `{"error": {message, type, code,
//! error_subcode, is_transient, fbtrace_id}}`, the usage headers, the failures a test can
//! inject into a step, and fetching media from a public URL as Meta's servers do.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::wire;

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
