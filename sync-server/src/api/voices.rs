//! `/api/v1/voices`: the workspace's brand voices, core's `Voice` (tone, audience, words
//! to use and avoid, hashtags and their policy, emoji, language) checked by core's rules,
//! as `postctl voice set` checks them. Editors write them, viewers read them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use postctl_core::content::voice::{self, Voice, VoiceChange};
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::Body;
use super::keys::time_text;
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::storage::StoredVoice;

fn view(v: &StoredVoice) -> Value {
    let settings: Value = serde_json::from_str(&v.settings).unwrap_or(Value::Null);
    json!({
        "name": v.name,
        "voice": settings,
        "created_at": time_text(v.created_ms),
        "updated_at": time_text(v.updated_ms),
    })
}

fn not_found(name: &str) -> Problem {
    Problem::not_found(format!(
        "there is no voice {name:?} in this workspace; list them with GET /api/v1/voices"
    ))
}

/// `given` checked as `postctl voice set` checks a voice.
fn checked(given: Voice) -> Result<Voice, Problem> {
    let change = VoiceChange {
        tone: given.tone,
        audience: given.audience,
        use_words: Some(given.use_words),
        avoid: Some(given.avoid),
        hashtags: Some(given.hashtags.join(" ")),
        hashtag_policy: Some(given.hashtag_policy),
        emoji: Some(given.emoji),
        language: given.language,
    };
    Voice::default()
        .changed(change)
        .map_err(|e| Problem::invalid_field(e.to_string()))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let voices = state.storage.voices(&caller.workspace_id).await?;
    Ok(Json(
        json!({ "items": voices.iter().map(view).collect::<Vec<_>>() }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    state
        .storage
        .voice(&caller.workspace_id, &name)
        .await?
        .map(|v| Json(view(&v)))
        .ok_or_else(|| not_found(&name))
}

/// Stores the voice `name` (201 when new, 200 when it replaced one).
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Body(given): Body<Voice>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    voice::validate_name(&name).map_err(|e| Problem::invalid_field(e.to_string()))?;
    let voice = checked(given)?;
    let now = now_ms();
    let stored = StoredVoice {
        workspace_id: caller.workspace_id,
        name,
        settings: serde_json::to_string(&voice).map_err(|e| {
            tracing::error!("a voice did not serialize: {e}");
            Problem::internal()
        })?,
        created_ms: now,
        updated_ms: now,
    };
    let created = state.storage.put_voice(&stored).await?;
    let stored = state
        .storage
        .voice(&stored.workspace_id, &stored.name)
        .await?
        .ok_or_else(|| not_found(&stored.name))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(&stored))))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, Problem> {
    if state
        .storage
        .delete_voice(&caller.workspace_id, &name)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}
