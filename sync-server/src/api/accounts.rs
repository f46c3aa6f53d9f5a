//! `/api/v1/accounts`: the workspace's network accounts. Add (with credentials), list, get,
//! delete.
//!
//! An account is checked as `postctl accounts add` checks it (postctl-core's
//! `validate_account`: the network's required settings, their shape, the credential's
//! shape). Its credentials are sealed under the server key with the account id as
//! associated data before they are stored, and are write-only: no answer ever holds them,
//! only `"credentials": "set"`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use postctl_core::network::{AccountFields, Network, validate_account, validate_account_name};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::access::Caller;
use super::extract::Body;
use super::posts::rfc3339;
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::storage::{Account, AccountDeletion, StorageError};

/// The network-specific settings, as `postctl accounts add` takes them as flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    handle: Option<String>,
    #[serde(default)]
    chat: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    room: Option<String>,
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    from_group: bool,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    page_id: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    subreddit: Option<String>,
    #[serde(default)]
    relays: Vec<String>,
    /// The OAuth client (app) the account's tokens were given to, for networks that sign
    /// in (X, Threads, Instagram…): their refresh needs it. The tokens are then the
    /// credentials' `token`, as `postctl` keeps a signed-in account's.
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    name: String,
    network: String,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    settings: Settings,
    /// `{"token": "..."}`, and any other strings the network needs. Read as any JSON
    /// value and checked here: serde's own error would quote a misplaced secret.
    credentials: Value,
}

// No derived Debug: the credentials must never be printed.
impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("name", &self.name)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

/// An account as the API shows it: never its credentials.
pub fn view(account: &Account) -> Value {
    json!({
        "id": account.id,
        "name": account.name,
        "network": account.network,
        "base_url": account.base_url,
        "handle": account.handle,
        "settings": serde_json::from_str::<Value>(&account.settings).unwrap_or(Value::Null),
        "credentials": "set",
        "created_at": rfc3339(account.created_ms),
    })
}

fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("there is no account {id} in this workspace"))
}

/// The credential string the network's checks read: `token`, required and not empty.
fn token(credentials: &Map<String, Value>) -> Result<&str, Problem> {
    if let Some((key, _)) = credentials.iter().find(|(_, v)| !v.is_string()) {
        return Err(Problem::invalid_field(format!(
            "`credentials.{key}` must be a string"
        )));
    }
    credentials
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            Problem::invalid_field(
                "`credentials.token` is missing or empty: send the account's token (or app \
                 password, webhook URL, bot token: what `postctl accounts add` reads on stdin)",
            )
        })
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewAccount>,
) -> Result<Response, Problem> {
    validate_account_name(&new.name).map_err(|e| Problem::invalid_field(format!("`name`: {e}")))?;
    let network: Network = new
        .network
        .parse()
        .map_err(|e| Problem::invalid_field(format!("`network`: {e}")))?;
    let Value::Object(credentials) = new.credentials else {
        return Err(Problem::invalid_field(
            "`credentials` must be an object: {\"token\": \"…\"}",
        ));
    };
    let token = token(&credentials)?;
    let s = new.settings;
    let client_id = match s.client_id.map(|c| c.trim().to_string()) {
        Some(c) if c.is_empty() => None,
        Some(_) if postctl_core::platforms::sign_in(network).is_none() => {
            return Err(Problem::invalid_field(format!(
                "`settings.client_id`: {} accounts do not sign in with OAuth; leave it out",
                network.display_name()
            )));
        }
        other => other,
    };
    let fields = AccountFields {
        base_url: new.base_url.clone(),
        handle: s.handle,
        chat: s.chat,
        channel: s.channel,
        room: s.room,
        owner_id: s.owner_id,
        from_group: s.from_group,
        user_id: s.user_id,
        page_id: s.page_id,
        author: s.author,
        subreddit: s.subreddit,
        relays: s.relays,
    };
    let mut valid = validate_account(network, &fields, Some(token)).map_err(|e| {
        Problem::invalid_field(format!(
            "{e} (the API's `settings` fields are the command's flags without the dashes, \
             `base_url` is --base-url, and `credentials.token` the secret)"
        ))
    })?;
    if let (Some(client_id), Some(settings)) = (client_id, valid.settings.as_object_mut()) {
        settings.insert("client_id".into(), Value::String(client_id));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let plain = Value::Object(credentials).to_string();
    let credentials = state
        .guard
        .server_key
        .seal(&id, plain.as_bytes())
        .map_err(|e| {
            tracing::error!("could not seal credentials: {e}");
            Problem::internal()
        })?;
    let account = Account {
        id,
        workspace_id: caller.workspace_id,
        name: new.name,
        network: network.name().to_string(),
        base_url: valid.base_url,
        handle: valid.handle,
        settings: valid.settings.to_string(),
        credentials,
        created_ms: now_ms(),
    };
    match state.storage.create_account(&account).await {
        Ok(()) => {}
        Err(StorageError::Conflict(_)) => {
            return Err(Problem::conflict(format!(
                "this workspace has an account named {} already; choose another name, or \
                 delete that one first",
                account.name
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/accounts/{}", account.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(view(&account))).into_response())
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let accounts = state.storage.accounts(&caller.workspace_id).await?;
    Ok(Json(json!({
        "items": accounts.iter().map(view).collect::<Vec<_>>(),
    })))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let account = state
        .storage
        .account(&caller.workspace_id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(view(&account)))
}

/// `GET /api/v1/accounts/{id}/metrics`: the account's figures (followers, members…) the
/// server read, daily: the latest reading and every one, oldest first.
pub async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let account = state
        .storage
        .account(&caller.workspace_id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let readings: Vec<Value> = state
        .storage
        .account_readings(&caller.workspace_id, &account.id)
        .await?
        .iter()
        .map(|r| {
            json!({
                "read_at": rfc3339(r.read_ms),
                // Written by the collector from core's counters; an unreadable row shows
                // as no counters rather than failing the answer.
                "counters": serde_json::from_str::<Value>(&r.counters)
                    .unwrap_or_else(|_| json!({})),
            })
        })
        .collect();
    Ok(Json(json!({
        "account_id": account.id,
        "account": account.name,
        "network": account.network,
        "latest": readings.last().cloned(),
        "readings": readings,
    })))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    match state
        .storage
        .delete_account(&caller.workspace_id, &id, now_ms())
        .await?
    {
        AccountDeletion::Deleted => Ok(StatusCode::NO_CONTENT),
        AccountDeletion::NotFound => Err(not_found(&id)),
        AccountDeletion::Pending(n) => Err(Problem::conflict(format!(
            "account {id} has {n} target(s) still to publish; cancel those posts \
             (POST /api/v1/posts/{{id}}/cancel) or let them finish, then delete it"
        ))),
    }
}

/// `POST /api/v1/accounts/{id}/check`: asks the network whether the account's credentials
/// still work (core's `Engine::verify`, as `postctl accounts check` does; an OAuth token
/// about to expire is refreshed first, under the account's lock). A network that refuses
/// them marks the account as needing sign-in (its posts are held, and
/// `account.needs_reauth` is emitted once); credentials that work again free a held
/// account; a network that cannot be reached says so and changes nothing. Answers `ok`, the identity the network knows the account by, or
/// the error, whether it was the credentials (`auth`), and `needs_reauth`; for a network
/// that fetches images from a URL (Instagram, Threads) on a server without a media
/// bucket, a `warning` that says to configure `[media]`.
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let account = state
        .storage
        .account(&caller.workspace_id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let core = state
        .networks
        .ledger()
        .account(&account.id)
        .await
        .map_err(|e| {
            tracing::error!(account = %account.id, "could not read the account: {e}");
            Problem::internal()
        })?;
    let mut answer = json!({
        "id": account.id,
        "name": account.name,
        "network": account.network,
    });
    match state.networks.verify(&core).await {
        Ok(verified) => {
            answer["ok"] = json!(true);
            answer["identity"] = json!(verified.identity);
            if state.storage.signed_in_again(&account.id, now_ms()).await? {
                tracing::info!(account = %account.id, "signed in again: its posts go out");
            }
        }
        Err(e) => {
            let error = e.to_string();
            answer["ok"] = json!(false);
            answer["error"] = json!(error);
            answer["auth"] = json!(e.is_auth());
            if e.is_auth() {
                let news = state
                    .networks
                    .ledger()
                    .mark_needs_sign_in(&account.id, &error)
                    .await
                    .map_err(|e| {
                        tracing::error!(account = %account.id, "could not hold the account: {e}");
                        Problem::internal()
                    })?;
                if news {
                    state.outbox.wake();
                    tracing::warn!(account = %account.id, "needs signing in again: {error}");
                }
            }
        }
    }
    // Instagram and Threads fetch a post's images from a URL, which only a bucket gives.
    let needs_host = postctl_core::platforms::media_refusal(core.network, 1, true).is_none()
        && postctl_core::platforms::media_refusal(core.network, 1, false).is_some();
    if needs_host && let Err(why) = state.media.host() {
        answer["warning"] = json!(format!(
            "{} fetches images from a public URL, and {why}",
            core.network.display_name()
        ));
    }
    let waiting = state.storage.accounts_needing_sign_in().await?;
    answer["needs_reauth"] = json!(
        waiting
            .iter()
            .find(|(waiting, _)| *waiting == account.id)
            .map(|(_, why)| why.clone())
    );
    Ok(Json(answer))
}
