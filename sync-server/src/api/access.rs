//! The authorization layer: every `/api/v1` request but setup and sign-in passes here.
//! It reads the bearer token (an API key, or a session from `POST /api/v1/session`),
//! checks the key's IP allowlist and counts the request against its rate limit, finds the
//! user's role in the workspace, looks the route up in [`policy::ROUTES`] and lets the
//! request through with a [`Caller`] only if the policy allows it. Handlers take the
//! `Caller` and never check access themselves.

use std::net::IpAddr;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::problem::Problem;
use crate::auth::policy::{self, Denied};
use crate::auth::ratelimit::{self, Verdict};
use crate::auth::{keys, sha256_hex};
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
    /// Signed in with a password (`key_id` is then the session's id, and `scopes` all).
    pub session: bool,
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

const HOW_TO_SEND: &str = "send an API key as `Authorization: Bearer sk_live_…` (create one with \
     `postctl-server key create`), or a session token from `POST /api/v1/session`";

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
    let peer = super::extract::Peer::of(request.extensions()).0;
    match caller(&state, secret.as_deref(), &method, &route, peer).await {
        Ok((caller, verdict)) => {
            request.extensions_mut().insert(caller);
            let mut response = next.run(request).await;
            for (name, value) in rate_headers(&verdict) {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Err(problem) => problem.into_response(),
    }
}

/// The `RateLimit` headers (IETF httpapi draft) of a counted request.
fn rate_headers(v: &Verdict) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("ratelimit-limit", v.limit.to_string()),
        ("ratelimit-remaining", v.remaining.to_string()),
        ("ratelimit-reset", v.reset_s.to_string()),
        ("ratelimit-policy", format!("{};w=60", v.limit)),
    ];
    if !v.allowed {
        headers.push(("retry-after", v.retry_after_s.to_string()));
    }
    headers
}

/// Counts a request of `id` against its limit (in the process, or in the database when
/// several processes share it); a 429 problem when it is spent.
async fn count(state: &AppState, id: &str, per_minute: Option<u32>) -> Result<Verdict, Problem> {
    let per_minute = per_minute.unwrap_or(state.guard.default_rate_per_minute);
    let now = super::now_ms();
    let verdict = if state.guard.shared_rate_limits {
        let taken = state.storage.take_rate_token(id, per_minute, now).await?;
        ratelimit::verdict(taken.allowed, taken.full_at_us, per_minute, now)
    } else {
        state.guard.limiter.check(id, per_minute, now)
    };
    if verdict.allowed {
        return Ok(verdict);
    }
    let mut problem = Problem::rate_limited(format!(
        "this key may make {per_minute} requests a minute; retry in {} s",
        verdict.retry_after_s
    ));
    problem.headers = rate_headers(&verdict);
    Err(problem)
}

/// Who a bearer token is: user, workspace, key or session id, mode, scopes, session.
struct Credential {
    user_id: String,
    workspace_id: String,
    id: String,
    mode: KeyMode,
    scopes: Vec<Scope>,
    session: bool,
    /// The user's role in the workspace, read with the credential; `None` when they are
    /// no longer a member.
    role: Option<Role>,
}

async fn session_credential(
    state: &AppState,
    token: &str,
) -> Result<(Credential, Verdict), Problem> {
    let (session, role) = state
        .storage
        .session_and_role(&sha256_hex(token.as_bytes()))
        .await?
        .ok_or_else(|| Problem::unauthorized(format!("the session is not valid: {HOW_TO_SEND}")))?;
    if session.revoked_ms.is_some() {
        return Err(Problem::unauthorized(
            "the session was signed out (or the password changed): sign in again with POST /api/v1/session",
        ));
    }
    if session.expires_ms <= super::now_ms() {
        return Err(Problem::unauthorized(
            "the session has expired: sign in again with POST /api/v1/session",
        ));
    }
    let verdict = count(state, &session.id, None).await?;
    Ok((
        Credential {
            user_id: session.user_id,
            workspace_id: session.workspace_id,
            id: session.id,
            mode: KeyMode::Live,
            scopes: Scope::ALL.to_vec(),
            session: true,
            role,
        },
        verdict,
    ))
}

async fn key_credential(
    state: &AppState,
    secret: &str,
    peer: Option<IpAddr>,
) -> Result<(Credential, Verdict), Problem> {
    let invalid = || Problem::unauthorized(format!("the API key is not valid: {HOW_TO_SEND}"));
    if !keys::well_formed(secret) {
        return Err(invalid());
    }
    let (key, role) = state
        .storage
        .key_and_role(&keys::hash(secret))
        .await?
        .ok_or_else(invalid)?;
    let shown = keys::display(&key.prefix);
    if key.revoked_ms.is_some() {
        return Err(Problem::unauthorized(format!(
            "the API key {shown} was revoked: {HOW_TO_SEND}"
        )));
    }
    if key.expires_ms.is_some_and(|at| at <= super::now_ms()) {
        return Err(Problem::unauthorized(if key.replaced_by.is_some() {
            format!(
                "the API key {shown} was rotated and its grace period is over: use the key \
                 that replaced it"
            )
        } else {
            format!("the API key {shown} has expired: {HOW_TO_SEND}")
        }));
    }
    if !key.allowed_ips.is_empty() {
        let allowed = peer.is_some_and(|ip| {
            key.allowed_ips.iter().any(|net| {
                net.parse::<ipnet::IpNet>().is_ok_and(|net| {
                    net.contains(&ip) || mapped_v4(ip).is_some_and(|v4| net.contains(&v4))
                })
            })
        });
        if !allowed {
            return Err(Problem::address_not_allowed(format!(
                "the API key {shown} may be used from {} only; this request came from {}",
                key.allowed_ips.join(", "),
                peer.map(|ip| ip.to_string())
                    .unwrap_or_else(|| "an unknown address".into())
            )));
        }
    }
    let verdict = count(state, &key.id, key.rate_per_minute).await?;
    Ok((
        Credential {
            user_id: key.user_id,
            workspace_id: key.workspace_id,
            id: key.id,
            mode: key.mode,
            scopes: key.scopes,
            session: false,
            role,
        },
        verdict,
    ))
}

/// An IPv4 address a dual-stack socket reports as `::ffff:a.b.c.d`.
fn mapped_v4(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
        IpAddr::V4(_) => None,
    }
}

async fn caller(
    state: &AppState,
    secret: Option<&str>,
    method: &str,
    route: &str,
    peer: Option<IpAddr>,
) -> Result<(Caller, Verdict), Problem> {
    let secret =
        secret.ok_or_else(|| Problem::unauthorized(format!("no API key: {HOW_TO_SEND}")))?;
    let (key, verdict) = if crate::auth::session_well_formed(secret) {
        session_credential(state, secret).await?
    } else {
        key_credential(state, secret, peer).await?
    };
    let role = key.role.ok_or_else(|| {
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
    if action.server_admin_only() {
        let admin = state
            .storage
            .user_by_id(&key.user_id)
            .await?
            .is_some_and(|u| u.admin && u.deleted_ms.is_none());
        if !admin {
            return Err(Problem::forbidden(
                "only a server administrator may do this (`postctl-server user add --admin`)",
            ));
        }
    }
    let approver = action.approvers_may()
        && role < action.least_role()
        && state
            .storage
            .approval_settings(&key.workspace_id)
            .await?
            .may_approve(&key.user_id, role);
    let acting = policy::acting_role(action, role, approver);
    policy::decide(action, acting, &key.scopes).map_err(|denied| match denied {
        Denied::Scope(scope) => Problem::insufficient_scope(format!(
            "this needs an API key with the scope `{}`; create one with \
             `postctl-server key create --scope {}`",
            scope.as_str(),
            scope.as_str()
        )),
        Denied::Role(least) if action.approvers_may() => Problem::forbidden(format!(
            "this needs the role `{}` or above in the workspace, or to be one of its named \
             approvers (an owner or admin names them with PUT /api/v1/approvals/settings); \
             yours is `{}`",
            least.as_str(),
            role.as_str()
        )),
        Denied::Role(least) => Problem::forbidden(format!(
            "this needs the role `{}` or above in the workspace; yours is `{}`",
            least.as_str(),
            role.as_str()
        )),
    })?;
    Ok((
        Caller {
            user_id: key.user_id,
            workspace_id: key.workspace_id,
            role,
            key_id: key.id,
            key_mode: key.mode,
            scopes: key.scopes,
            session: key.session,
        },
        verdict,
    ))
}
