//! `/api/v1/me` and `/api/v1/members`: who the key is, and the workspace's members.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::access::Caller;
use super::extract::Body;
use super::problem::Problem;
use crate::storage::Role;

pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let user = state
        .storage
        .user_by_id(&caller.user_id)
        .await?
        .ok_or_else(Problem::internal)?;
    let workspace = state
        .storage
        .workspace_by_id(&caller.workspace_id)
        .await?
        .ok_or_else(Problem::internal)?;
    Ok(Json(json!({
        "user": { "id": user.id, "name": user.name },
        "workspace": { "id": workspace.id, "name": workspace.name },
        "role": caller.role,
        "key": {
            "id": caller.key_id,
            "mode": caller.key_mode,
            "scopes": caller.scopes,
        },
    })))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let members = state.storage.members(&caller.workspace_id).await?;
    Ok(Json(json!({
        "items": members.iter().map(|m| json!({
            "user_id": m.user_id,
            "name": m.user_name,
            "role": m.role,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: Role,
}

/// Adds an existing user to the workspace or changes their role. Only an owner makes or
/// unmakes owners, and the last owner stays an owner.
pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Body(change): Body<RoleChange>,
) -> Result<Json<Value>, Problem> {
    let user = state
        .storage
        .user_by_name(&name)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no user {name:?}")))?;
    let members = state.storage.members(&caller.workspace_id).await?;
    let current = members
        .iter()
        .find(|m| m.user_id == user.id)
        .map(|m| m.role);
    let touches_owner = change.role == Role::Owner || current == Some(Role::Owner);
    if touches_owner && caller.role != Role::Owner {
        return Err(Problem::forbidden(
            "only an owner of the workspace makes or changes owners",
        ));
    }
    let owners = members.iter().filter(|m| m.role == Role::Owner).count();
    if current == Some(Role::Owner) && change.role != Role::Owner && owners == 1 {
        return Err(Problem::conflict(
            "this is the workspace's last owner; make another member owner first",
        ));
    }
    state
        .storage
        .set_member(&caller.workspace_id, &user.id, change.role)
        .await?;
    Ok(Json(json!({
        "user_id": user.id,
        "name": user.name,
        "role": change.role,
    })))
}
