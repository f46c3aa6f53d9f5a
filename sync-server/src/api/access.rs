//! The authorization layer: every `/api/v1` request but setup passes here. It reads the
//! API key, finds its user's role in the key's workspace, looks the route up in
//! [`policy::ROUTES`] and lets the request through with a [`Caller`] only if the policy
//! allows it. Handlers take the `Caller` and never check access themselves.

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::problem::Problem;
use crate::auth::keys;
use crate::auth::policy::{self, Denied};
use crate::storage::{KeyMode, Role, Scope};

/// Who is calling: the key's user, in the key's workspace, with their role there.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub workspace_id: String,
    pub role: Role,
    pub key_id: String,
    pub key_mode: KeyMode,
    pub scopes: Vec<Scope>,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("a handler asked for the caller on an unauthenticated route");
            Problem::internal()
        })
    }
}

const HOW_TO_SEND: &str = "send an API key as `Authorization: Bearer sk_live_…`; create one with `postctl-server key create`";

pub async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    // Read what the decision needs first: a request is not `Sync`, so no reference to it
    // may be held across an await.
    let secret = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string());
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    match caller(&state, secret.as_deref(), &method, &route).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(problem) => problem.into_response(),
    }
}

async fn caller(
    state: &AppState,
    secret: Option<&str>,
    method: &str,
    route: &str,
) -> Result<Caller, Problem> {
    let secret =
        secret.ok_or_else(|| Problem::unauthorized(format!("no API key: {HOW_TO_SEND}")))?;
    let invalid = || Problem::unauthorized(format!("the API key is not valid: {HOW_TO_SEND}"));
    if !keys::well_formed(secret) {
        return Err(invalid());
    }
    let key = state
        .storage
        .key_by_hash(&keys::hash(secret))
        .await?
        .ok_or_else(invalid)?;
    if key.revoked_ms.is_some() {
        return Err(Problem::unauthorized(format!(
            "the API key {} was revoked: {HOW_TO_SEND}",
            keys::display(&key.prefix)
        )));
    }
    if key.expires_ms.is_some_and(|at| at <= super::now_ms()) {
        return Err(Problem::unauthorized(format!(
            "the API key {} has expired: {HOW_TO_SEND}",
            keys::display(&key.prefix)
        )));
    }
    let role = state
        .storage
        .member_role(&key.workspace_id, &key.user_id)
        .await?
        .ok_or_else(|| {
            Problem::unauthorized(
                "the API key's user is no longer a member of the key's workspace; \
                 ask an admin of the workspace to add them again",
            )
        })?;
    // A route without a rule is refused: access is never granted by omission.
    let action = policy::action(method, route).ok_or_else(|| {
        tracing::error!("no access rule for {method} {route}");
        Problem::forbidden("this route has no access rule")
    })?;
    policy::decide(action, role, &key.scopes).map_err(|denied| match denied {
        Denied::Scope(scope) => Problem::insufficient_scope(format!(
            "this needs an API key with the scope `{}`; create one with \
             `postctl-server key create --scope {}`",
            scope.as_str(),
            scope.as_str()
        )),
        Denied::Role(least) => Problem::forbidden(format!(
            "this needs the role `{}` or above in the workspace; yours is `{}`",
            least.as_str(),
            role.as_str()
        )),
    })?;
    Ok(Caller {
        user_id: key.user_id,
        workspace_id: key.workspace_id,
        role,
        key_id: key.id,
        key_mode: key.mode,
        scopes: key.scopes,
    })
}
