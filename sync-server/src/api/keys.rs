//! `/api/v1/keys`: the calling user's own API keys in the caller's workspace: list (by
//! prefix), create (shown once; never with a scope the calling key lacks), and revoke.

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
}

fn time_text(ms: i64) -> Value {
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
    })
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
        if !caller.scopes.contains(&scope) {
            return Err(Problem::insufficient_scope(format!(
                "a key can only make keys with scopes it has itself, and this one lacks `{name}`"
            )));
        }
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
        },
    )
    .await
    .map_err(|e| {
        tracing::error!("could not create a key: {e}");
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
