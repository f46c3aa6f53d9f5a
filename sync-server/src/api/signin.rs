//! Signing in with a password: `POST /api/v1/session` gives a session token (`pss_…`,
//! shown once, stored as SHA-256) that works like an API key with every scope the
//! user's role allows, until it expires or `DELETE /api/v1/session` ends it.
//!
//! With TOTP on, the password alone answers `totp-required`; the request is sent again
//! with `code` (the authenticator's current code, accepted once) or `recovery_code` (each
//! works once). Failures count per user name and per client address; after
//! `auth::lockout`'s threshold, sign-in is refused with 429 `login-locked` and
//! `Retry-After` until the lock ends. A right password during a lock is refused too.
//!
//! `/api/v1/me/totp`: start TOTP enrolment (an `otpauth://` URI), confirm it with a code
//! (the answer holds the recovery codes, shown once), or turn it off.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::{Body, Peer};
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::auth::{self, totp};
use crate::storage::{Session, User};
use crate::users::{self, ConfirmError};

/// How long a session lasts.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// The routes anyone may call.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/api/v1/session", post(sign_in))
}

/// The routes behind the access layer (each in `auth::policy::ROUTES`).
pub fn authorized_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", axum::routing::delete(sign_out))
        .route("/api/v1/me/totp", post(begin_totp).delete(disable_totp))
        .route("/api/v1/me/totp/confirm", post(confirm_totp))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    name: String,
    password: String,
    /// The authenticator app's current code.
    #[serde(default)]
    code: Option<String>,
    /// A recovery code, instead of `code`.
    #[serde(default)]
    recovery_code: Option<String>,
    /// The workspace to act in [default: the user's only one, or the one named after them].
    #[serde(default)]
    workspace: Option<String>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("name", &self.name)
            .field("workspace", &self.workspace)
            .finish_non_exhaustive()
    }
}

/// A hash to verify against when the name is unknown, so an unknown name takes as long
/// as a wrong password and does not tell which names exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| auth::hash_password("decoy password for unknown names").unwrap_or_default())
}

fn seconds_until(until_ms: i64, now_ms: i64) -> u64 {
    u64::try_from((until_ms - now_ms + 999) / 1000)
        .unwrap_or(1)
        .max(1)
}

/// The later lock of the user name and the address, if either is locked.
async fn lock(
    state: &AppState,
    user_subject: &str,
    address_subject: Option<&str>,
    now: i64,
) -> Result<Option<Problem>, Problem> {
    let guard = &state.guard;
    let user = state.storage.login_failures(user_subject).await?;
    if let Some(until) = user.and_then(|f| guard.user_lockout.locked_until(f, now)) {
        let wait = seconds_until(until, now);
        return Ok(Some(Problem::login_locked(
            format!(
                "too many failed sign-ins for this user: try again in {wait} s (the wait doubles \
                 with each further failure; an administrator can reset it with \
                 `postctl-server user passwd`)"
            ),
            wait,
        )));
    }
    if let Some(subject) = address_subject {
        let address = state.storage.login_failures(subject).await?;
        if let Some(until) = address.and_then(|f| guard.address_lockout.locked_until(f, now)) {
            let wait = seconds_until(until, now);
            return Ok(Some(Problem::login_locked(
                format!("too many failed sign-ins from this address: try again in {wait} s"),
                wait,
            )));
        }
    }
    Ok(None)
}

/// Counts a failure for the name and the address; the problem to answer.
async fn failed(
    state: &AppState,
    user_subject: &str,
    address_subject: Option<&str>,
    now: i64,
    problem: Problem,
) -> Problem {
    let window = state.guard.user_lockout.window_ms;
    for subject in std::iter::once(user_subject).chain(address_subject) {
        if let Err(e) = state
            .storage
            .record_login_failure(subject, now, window)
            .await
        {
            return e.into();
        }
    }
    // The failure that starts a lock says so at once.
    match lock(state, user_subject, address_subject, now).await {
        Ok(Some(locked)) => locked,
        Ok(None) => problem,
        Err(e) => e,
    }
}

async fn sign_in(
    State(state): State<AppState>,
    Peer(peer): Peer,
    Body(request): Body<SignIn>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let now = now_ms();
    let user_subject = format!("user:{}", request.name);
    let address_subject = peer.map(|ip| format!("ip:{ip}"));
    if let Some(locked) = lock(&state, &user_subject, address_subject.as_deref(), now).await? {
        return Err(locked);
    }
    let wrong = || {
        Problem::invalid_credentials(
            "the name or password is wrong; after repeated failures sign-in is locked for a while",
        )
    };
    let user = state.storage.user_by_name(&request.name).await?;
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or_else(|| decoy_hash());
    let password = request.password.clone();
    let stored = stored.to_string();
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&password, &stored))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(user) if matches => user,
        _ => {
            return Err(failed(
                &state,
                &user_subject,
                address_subject.as_deref(),
                now,
                wrong(),
            )
            .await);
        }
    };
    let mut recovery_codes_left = None;
    if user.totp_secret.is_some() {
        match second_factor(&state, &user, &request, now).await? {
            SecondFactor::Passed => {}
            SecondFactor::Recovered => {
                recovery_codes_left = Some(state.storage.recovery_codes_left(&user.id).await?);
            }
            SecondFactor::Missing => return Err(Problem::totp_required()),
            SecondFactor::Wrong(detail) => {
                return Err(failed(
                    &state,
                    &user_subject,
                    address_subject.as_deref(),
                    now,
                    Problem::invalid_credentials(detail),
                )
                .await);
            }
        }
    }
    state.storage.clear_login_failures(&user_subject).await?;
    let workspaces = state.storage.workspaces_of(&user.id).await?;
    let workspace = match &request.workspace {
        Some(name) => workspaces
            .iter()
            .find(|(w, _)| &w.name == name)
            .ok_or_else(|| {
                Problem::invalid_field(format!("`workspace`: you are not a member of {name:?}"))
            })?,
        None => match workspaces.as_slice() {
            [one] => one,
            [] => {
                return Err(Problem::forbidden(
                    "you are not a member of any workspace; ask a workspace admin to add you",
                ));
            }
            many => many
                .iter()
                .find(|(w, _)| w.name == user.name)
                .ok_or_else(|| {
                    Problem::invalid_field(format!(
                        "you are a member of several workspaces; name one as `workspace`: {}",
                        many.iter()
                            .map(|(w, _)| w.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?,
        },
    };
    let (token, hash) = auth::new_session_token().map_err(|e| {
        tracing::error!("could not make a session token: {e}");
        Problem::internal()
    })?;
    let session = Session {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        workspace_id: workspace.0.id.clone(),
        hash,
        created_ms: now,
        expires_ms: now + SESSION_TTL_MS,
        revoked_ms: None,
    };
    state.storage.create_session(&session).await?;
    let mut answer = json!({
            "token": token,
            "session_id": session.id,
            "expires_at": super::keys::time_text(session.expires_ms),
            "user": { "id": user.id, "name": user.name },
            "workspace": { "id": workspace.0.id, "name": workspace.0.name },
            "role": workspace.1,
    });
    if let Some(left) = recovery_codes_left {
        // Running low on recovery codes is worth knowing before they run out.
        answer["recovery_codes_left"] = json!(left);
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

enum SecondFactor {
    Passed,
    /// Passed with a recovery code.
    Recovered,
    Missing,
    Wrong(String),
}

async fn second_factor(
    state: &AppState,
    user: &User,
    request: &SignIn,
    now: i64,
) -> Result<SecondFactor, Problem> {
    if let Some(code) = request.code.as_deref().filter(|c| !c.trim().is_empty()) {
        let sealed = user.totp_secret.as_deref().unwrap_or_default();
        let secret = state.guard.server_key.open(&user.id, sealed).map_err(|e| {
            tracing::error!("{e}");
            Problem::internal()
        })?;
        let step = totp::check(&secret, code, u64::try_from(now / 1000).unwrap_or(0));
        let accepted = match step.and_then(|s| i64::try_from(s).ok()) {
            Some(step) => state.storage.accept_totp_step(&user.id, step).await?,
            None => false,
        };
        return Ok(if accepted {
            SecondFactor::Passed
        } else {
            SecondFactor::Wrong(
                "the code is wrong, or was used already: wait for the next code, or use a \
                 recovery code"
                    .into(),
            )
        });
    }
    if let Some(code) = request
        .recovery_code
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    {
        let used = state
            .storage
            .use_recovery_code(&user.id, &totp::recovery_hash(code), now)
            .await?;
        return Ok(if used {
            SecondFactor::Recovered
        } else {
            SecondFactor::Wrong("the recovery code is wrong, or was used already".into())
        });
    }
    Ok(SecondFactor::Missing)
}

async fn sign_out(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, Problem> {
    if !caller.session {
        return Err(Problem::invalid(
            "this ends a session, and was called with an API key; revoke a key with \
             DELETE /api/v1/keys/{id}",
        ));
    }
    state
        .storage
        .revoke_session(&caller.key_id, now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(state: &AppState, caller: &Caller) -> Result<User, Problem> {
    state
        .storage
        .user_by_id(&caller.user_id)
        .await?
        .ok_or_else(Problem::internal)
}

async fn begin_totp(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let user = me(&state, &caller).await?;
    let enrolment = users::begin_totp(state.storage.as_ref(), &state.guard.server_key, &user)
        .await
        .map_err(|e| {
            tracing::error!("could not start a TOTP enrolment: {e}");
            Problem::internal()
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "otpauth_uri": enrolment.uri,
            "secret": enrolment.secret_base32,
            "next": "add it to an authenticator app, then POST its current code to /api/v1/me/totp/confirm as {\"code\": \"123456\"}",
        })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    code: String,
}

async fn confirm_totp(
    State(state): State<AppState>,
    caller: Caller,
    Body(confirm): Body<Confirm>,
) -> Result<Json<Value>, Problem> {
    let user = me(&state, &caller).await?;
    let codes = users::confirm_totp(
        state.storage.as_ref(),
        &state.guard.server_key,
        &user,
        &confirm.code,
    )
    .await
    .map_err(|e| match e {
        ConfirmError::NothingPending => Problem::conflict(e.to_string()),
        ConfirmError::WrongCode => Problem::invalid_field(e.to_string()),
        ConfirmError::Other(e) => {
            tracing::error!("could not confirm TOTP: {e}");
            Problem::internal()
        }
    })?;
    Ok(Json(json!({
        "totp": "enabled",
        "recovery_codes": codes,
        "note": "each recovery code signs in once instead of a TOTP code; they are shown only now",
    })))
}

async fn disable_totp(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, Problem> {
    state.storage.disable_totp(&caller.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
