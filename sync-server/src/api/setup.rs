//! `POST /api/v1/setup`: the first user, with the one-time token the server printed when
//! it started with no users. The answer holds the user's first API key, shown once.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::extract::Body;
use super::problem::Problem;
use crate::auth::sha256_hex;
use crate::storage::{KeyMode, Scope};
use crate::users::{self, KeyRequest, Membership};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    token: String,
    name: String,
    password: String,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

pub async fn complete(
    State(state): State<AppState>,
    Body(setup): Body<Setup>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    users::check_name("the user", &setup.name)
        .map_err(|e| Problem::invalid_field(e.to_string()))?;
    users::check_password(&setup.password).map_err(|e| Problem::invalid_field(e.to_string()))?;
    if !state
        .storage
        .take_setup_token(&sha256_hex(setup.token.as_bytes()))
        .await?
    {
        return Err(Problem::unauthorized(
            "the setup token is not valid, or was used already; restart the server with no \
             users for a new one, or add users with `postctl-server user add`",
        ));
    }
    let storage = state.storage.as_ref();
    let (user, workspace) = users::add_user(
        storage,
        &setup.name,
        &setup.password,
        true,
        &Membership::OwnWorkspace,
    )
    .await
    .map_err(|e| Problem::conflict(e.to_string()))?;
    let (key, secret) = users::create_key(
        storage,
        KeyRequest {
            user_id: user.id.clone(),
            workspace_id: workspace.id.clone(),
            name: Some("setup".into()),
            mode: KeyMode::Live,
            scopes: Scope::ALL.to_vec(),
            expires_ms: None,
            rate_per_minute: None,
            allowed_ips: Vec::new(),
        },
    )
    .await
    .map_err(|e| {
        eprintln!("postctl-server: setup could not create a key: {e}");
        Problem::internal()
    })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "user": { "id": user.id, "name": user.name, "admin": true },
            "workspace": { "id": workspace.id, "name": workspace.name },
            "api_key": { "id": key.id, "key": secret, "scopes": key.scopes },
        })),
    ))
}
