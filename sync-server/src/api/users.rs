//! `/api/v1/users`: deleting a user, for server administrators (`auth::policy` lets only
//! them through). The user's keys and sessions stop working at once; their posts stay,
//! attributed to the deleted user.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::AppState;
use super::problem::Problem;
use crate::users;

pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, Problem> {
    let user = state
        .storage
        .user_by_name(&name)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no user {name:?}")))?;
    users::delete_user(state.storage.as_ref(), &user)
        .await
        .map_err(|e| Problem::conflict(e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}
