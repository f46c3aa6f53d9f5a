//! `Idempotency-Key` on POST: a client that retries a request with the same key gets the
//! first answer again instead of a second post. The key is remembered for 24 hours per
//! user and workspace, with a hash of the method, path and body: the same key with
//! another request is refused (422), and a retry that arrives while the first request
//! still runs is told to wait (409). Answers of 5xx are not remembered, so the retry runs.
//!
//! Secrets shown once (a new key, a session token, TOTP secrets, recovery codes) are never
//! stored: the remembered answer has `"(shown once)"` in their place, so a replay tells the
//! client the request succeeded without keeping the secret in the database.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::access::Caller;
use super::problem::{self, Problem};
use crate::auth::sha256_hex;
use crate::storage::IdempotencyBegin;

pub const HEADER: &str = "idempotency-key";
/// What a replayed answer carries, so a client can tell.
pub const REPLAYED: &str = "idempotent-replayed";
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.headers().contains_key(HEADER) {
        return next.run(request).await;
    }
    match run(state, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn run(state: AppState, request: Request, next: Next) -> Result<Response, Response> {
    let key = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .map(str::to_string)
        .ok_or_else(|| {
            Problem::invalid("the Idempotency-Key must be 1 to 255 visible ASCII characters")
                .into_response()
        })?;
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Problem::internal().into_response())?;
    let scope = format!("{}:{}", caller.workspace_id, caller.user_id);
    let (parts, body) = request.into_parts();
    let limit = state.edge.body_limit;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        Problem::too_large(format!("the body is larger than {limit} bytes")).into_response()
    })?;
    let mut fingerprint = format!("{} {}\n", parts.method, parts.uri).into_bytes();
    fingerprint.extend_from_slice(&bytes);
    let hash = sha256_hex(&fingerprint);
    let begun = state
        .storage
        .idempotency_begin(&scope, &key, &hash, super::now_ms())
        .await
        .map_err(|e| Problem::from(e).into_response())?;
    match begun {
        IdempotencyBegin::Mismatch => Err(Problem::idempotency_key_reused().into_response()),
        IdempotencyBegin::InProgress => Err(Problem::idempotency_in_progress().into_response()),
        IdempotencyBegin::Replay { status, body } => Ok(replay(status, body)),
        IdempotencyBegin::Started => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            let status = response.status();
            if status.is_server_error() {
                if let Err(e) = state.storage.idempotency_release(&scope, &key).await {
                    tracing::error!("could not release an idempotency key: {e}");
                }
                return Ok(response);
            }
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|_| Problem::internal().into_response())?;
            let text = redact(&String::from_utf8_lossy(&bytes));
            state
                .storage
                .idempotency_finish(&scope, &key, status.as_u16(), &text)
                .await
                .map_err(|e| Problem::from(e).into_response())?;
            Ok(Response::from_parts(parts, Body::from(bytes)))
        }
    }
}

/// Fields of an answer that hold a secret shown once.
const SECRET_FIELDS: &[&str] = &["key", "token", "secret", "otpauth_uri", "recovery_codes"];
/// What a replay answers in their place.
pub const SHOWN_ONCE: &str = "(shown once)";

/// An answer as it may be stored: secret fields replaced, at any depth.
fn redact(text: &str) -> String {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (name, field) in map.iter_mut() {
                    if SECRET_FIELDS.contains(&name.as_str()) && !field.is_null() {
                        *field = serde_json::Value::String(SHOWN_ONCE.into());
                    } else {
                        walk(field);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut value) => {
            walk(&mut value);
            value.to_string()
        }
        Err(_) => text.to_string(),
    }
}

/// The first answer again. The API answers JSON on success and problem+json on failure,
/// so the status tells which content type it had.
fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let content_type = if status.is_client_error() || status.is_server_error() {
        problem::CONTENT_TYPE
    } else {
        "application/json"
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_shown_once_are_not_remembered() {
        let answer = r#"{"id":"k1","key":"sk_live_abc","scopes":["posts:read"],"nested":{"recovery_codes":["a","b"]},"expires_at":null}"#;
        let stored: serde_json::Value = serde_json::from_str(&redact(answer)).expect("json");
        assert_eq!(stored["id"], "k1");
        assert_eq!(stored["key"], SHOWN_ONCE);
        assert_eq!(stored["nested"]["recovery_codes"], SHOWN_ONCE);
        assert_eq!(stored["scopes"][0], "posts:read");
        assert!(stored["expires_at"].is_null());
        assert_eq!(redact("not json"), "not json");
    }
}
