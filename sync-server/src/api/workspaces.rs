//! `/api/v1/workspaces`: the workspaces the caller is a member of (what `postctl workspace
//! list` shows), and `/api/v1/session/workspace`: moving a signed-in device to another of
//! them (`postctl workspace use NAME`). A session acts in one workspace; moving ends it
//! and answers a new session token for the other workspace, as a sign-in does.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::Body;
use super::problem::Problem;
use super::signin::SESSION_TTL_MS;
use super::{AppState, now_ms};
use crate::auth;
use crate::storage::Session;

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let workspaces = state.storage.workspaces_of(&caller.user_id).await?;
    Ok(Json(json!({
        "workspaces": workspaces.iter().map(|(w, role)| json!({
            "id": w.id,
            "name": w.name,
            "role": role,
            "current": w.id == caller.workspace_id,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Move {
    workspace: String,
}

pub async fn move_session(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<Move>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    if !caller.session {
        return Err(Problem::invalid(
            "this moves a signed-in session, and was called with an API key; an API key acts \
             in the workspace it was made for (`postctl-server key create --workspace NAME`)",
        ));
    }
    let workspaces = state.storage.workspaces_of(&caller.user_id).await?;
    let (workspace, role) = workspaces
        .iter()
        .find(|(w, _)| w.name == request.workspace)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "you are not a member of a workspace named {:?}; yours: {}",
                request.workspace,
                workspaces
                    .iter()
                    .map(|(w, _)| w.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let user = state
        .storage
        .user_by_id(&caller.user_id)
        .await?
        .ok_or_else(Problem::internal)?;
    let (token, hash) = auth::new_session_token().map_err(|e| {
        tracing::error!("could not make a session token: {e}");
        Problem::internal()
    })?;
    let now = now_ms();
    let session = Session {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: caller.user_id.clone(),
        workspace_id: workspace.id.clone(),
        hash,
        created_ms: now,
        expires_ms: now + SESSION_TTL_MS,
        revoked_ms: None,
    };
    if !state
        .storage
        .move_session(&caller.key_id, &session, now)
        .await?
    {
        return Err(Problem::unauthorized(
            "the session ended meanwhile: sign in again with POST /api/v1/session",
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": token,
            "session_id": session.id,
            "expires_at": super::keys::time_text(session.expires_ms),
            "user": { "id": user.id, "name": user.name },
            "workspace": { "id": workspace.id, "name": workspace.name },
            "role": role,
        })),
    ))
}
