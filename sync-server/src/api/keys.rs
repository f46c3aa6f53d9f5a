//! `/api/v1/keys`: the calling user's own API keys in the caller's workspace: list (by
//! prefix), create (shown once; never with a scope the calling key lacks), rotate (the
//! old key keeps working for a grace period), and revoke.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat, Utc};
use postctl_core::time::{self, Disambiguation, ParseContext};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::Body;
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::storage::{ApiKey, KeyMode, Scope};
use crate::users::{self, KeyRequest};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    scopes: Vec<String>,
    /// When the key stops working, read as the CLI reads `--expires` (UTC).
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    name: Option<String>,
    /// An `sk_test_` key.
    #[serde(default)]
    test: bool,
    /// Requests a minute [default: the server's `rate_limit`].
    #[serde(default)]
    rate_per_minute: Option<u32>,
    /// Addresses or CIDR networks the key may be used from [default: anywhere].
    #[serde(default)]
    allowed_ips: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Seconds the old key keeps working [default: 86400, a day].
    #[serde(default)]
    grace_seconds: Option<u32>,
}

pub(crate) fn time_text(ms: i64) -> Value {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| Value::String(t.to_rfc3339_opts(SecondsFormat::Secs, true)))
        .unwrap_or(Value::Null)
}

fn view(key: &ApiKey) -> Value {
    json!({
        "id": key.id,
        "prefix": key.prefix,
        "name": key.name,
        "mode": key.mode,
        "scopes": key.scopes,
        "created_at": time_text(key.created_ms),
        "expires_at": key.expires_ms.map(time_text),
        "revoked_at": key.revoked_ms.map(time_text),
        "rate_per_minute": key.rate_per_minute,
        "allowed_ips": key.allowed_ips,
        "replaced_by": key.replaced_by,
    })
}

/// Refuses a scope the calling key lacks: a key never makes a key that may do more.
fn within_caller(caller: &Caller, scopes: &[Scope]) -> Result<(), Problem> {
    match scopes.iter().find(|s| !caller.scopes.contains(s)) {
        Some(missing) => Err(Problem::insufficient_scope(format!(
            "a key can only make keys with scopes it has itself, and this one lacks `{}`",
            missing.as_str()
        ))),
        None => Ok(()),
    }
}

/// The caller's keys in the caller's workspace.
async fn own_keys(state: &AppState, caller: &Caller) -> Result<Vec<ApiKey>, Problem> {
    Ok(state
        .storage
        .keys(Some(&caller.user_id))
        .await?
        .into_iter()
        .map(|listing| listing.key)
        .filter(|key| key.workspace_id == caller.workspace_id)
        .collect())
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let keys = own_keys(&state, &caller).await?;
    Ok(Json(
        json!({ "items": keys.iter().map(view).collect::<Vec<_>>() }),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewKey>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let mut scopes = Vec::new();
    for name in &new.scopes {
        let scope = Scope::parse(name).ok_or_else(|| {
            Problem::invalid_field(format!(
                "`scopes`: {name:?} is not a scope; use {}",
                Scope::ALL.map(Scope::as_str).join(", ")
            ))
        })?;
        within_caller(&caller, &[scope])?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(Problem::invalid_field(
            "`scopes` is empty; name at least one scope",
        ));
    }
    let now = Utc::now();
    let expires_ms = match new.expires.as_deref() {
        None => None,
        Some(text) => {
            let cx = ParseContext {
                now,
                tz: chrono_tz::Tz::UTC,
                disambiguation: Disambiguation::Reject,
            };
            let when = time::parse_when(text, &cx)
                .map_err(|e| Problem::invalid_field(format!("`expires`: {e}")))?;
            if when <= now {
                return Err(Problem::invalid_field(
                    "`expires` is not in the future; give a later time such as \"in 90d\"",
                ));
            }
            Some(when.timestamp_millis())
        }
    };
    let (key, secret) = users::create_key(
        state.storage.as_ref(),
        KeyRequest {
            user_id: caller.user_id,
            workspace_id: caller.workspace_id,
            name: new.name,
            mode: if new.test {
                KeyMode::Test
            } else {
                KeyMode::Live
            },
            scopes,
            expires_ms,
            rate_per_minute: match new.rate_per_minute {
                Some(0) => {
                    return Err(Problem::invalid_field(
                        "`rate_per_minute` must be at least 1",
                    ));
                }
                other => other,
            },
            allowed_ips: users::parse_networks(&new.allowed_ips)
                .map_err(|e| Problem::invalid_field(format!("`allowed_ips`: {e}")))?,
        },
    )
    .await
    .map_err(|e| {
        eprintln!("postctl-server: could not create a key: {e}");
        Problem::internal()
    })?;
    let mut body = view(&key);
    body["key"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let owned = own_keys(&state, &caller).await?;
    if !owned.iter().any(|key| key.id == id) {
        return Err(Problem::not_found(format!(
            "you have no key {id} in this workspace"
        )));
    }
    state.storage.revoke_key(&id, now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotates one of the caller's keys: the answer holds the new key (shown once); the old
/// one keeps working until `old_key_expires_at`.
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), Problem> {
    // The body is optional: none rotates with the default grace period.
    let rotation: Rotation = if body.iter().all(u8::is_ascii_whitespace) {
        Rotation::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Problem::invalid_field(e.to_string()))?
    };
    let owned = own_keys(&state, &caller).await?;
    let old = owned
        .into_iter()
        .find(|key| key.id == id)
        .ok_or_else(|| Problem::not_found(format!("you have no key {id} in this workspace")))?;
    within_caller(&caller, &old.scopes)?;
    let grace_ms = rotation
        .grace_seconds
        .map(|s| i64::from(s) * 1000)
        .unwrap_or(users::ROTATION_GRACE_MS);
    let (key, secret) = users::rotate_key(state.storage.as_ref(), &old, grace_ms)
        .await
        .map_err(|e| Problem::conflict(e.to_string()))?;
    let old_until = now_ms().saturating_add(grace_ms);
    let old_until = old.expires_ms.map_or(old_until, |at| at.min(old_until));
    let mut body = view(&key);
    body["key"] = Value::String(secret);
    body["old_key_expires_at"] = time_text(old_until);
    Ok((StatusCode::CREATED, Json(body)))
}
