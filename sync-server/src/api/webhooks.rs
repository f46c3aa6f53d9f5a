//! `/api/v1/webhooks`: the workspace's outbound webhook endpoints (admins with the
//! `webhooks:write` scope): create (the `whsec_` secret is shown once), list, get, change
//! (URL, events, description, enabled), delete, rotate the secret (the old one keeps
//! signing for a day), ping, and the deliveries with their attempts, any of which can be
//! sent again as a new delivery.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::{Body, Query};
use super::keys::time_text;
use super::paging;
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::storage::{Delivery, DeliveryState, Webhook};
use crate::webhooks::signing::SigningKey;
use crate::webhooks::{self, EventType, address};

/// How long a rotated-out secret keeps signing deliveries.
pub const ROTATION_GRACE_MS: i64 = 24 * 3_600_000;
const DESCRIPTION_MAX: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    url: String,
    events: Vec<String>,
    #[serde(default)]
    description: Option<String>,
}

/// A field that may be absent (unchanged), `null` (cleared) or a value.
fn some<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChanges {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some")]
    description: Option<Option<String>>,
    /// `true` enables a disabled endpoint (and forgets its failures); `false` stops
    /// deliveries to it.
    #[serde(default)]
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    cursor: Option<String>,
}

/// An endpoint as the API shows it: never its secrets.
fn view(w: &Webhook) -> Value {
    let now = now_ms();
    json!({
        "id": w.id,
        "url": w.url,
        "description": w.description,
        "events": w.events,
        "enabled": w.disabled_ms.is_none(),
        "disabled_at": w.disabled_ms.map(time_text),
        "disabled_reason": w.disabled_reason,
        "failed_in_a_row": w.failed_in_a_row,
        "previous_secret_expires_at": w.old_secret_until_ms.filter(|until| *until > now).map(time_text),
        "created_at": time_text(w.created_ms),
        "updated_at": time_text(w.updated_ms),
    })
}

fn delivery_view(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "webhook_id": d.webhook_id,
        "event_type": d.event_type,
        "state": d.state,
        "created_at": time_text(d.created_ms),
        "next_attempt_at": (d.state == DeliveryState::Pending).then(|| time_text(d.next_attempt_ms)),
        "finished_at": d.finished_ms.map(time_text),
        "redelivery_of": d.redelivery_of,
        "payload": serde_json::from_str::<Value>(&d.payload).unwrap_or(Value::Null),
        "attempts": d.attempts.iter().map(|a| json!({
            "number": a.number,
            "started_at": time_text(a.started_ms),
            "duration_ms": a.duration_ms,
            "status": a.status,
            "answer": a.answer,
            "error": a.error,
        })).collect::<Vec<_>>(),
    })
}

/// The event types named, known, without repeats, in the order of [`EventType::ALL`].
fn event_types(names: &[String]) -> Result<Vec<String>, Problem> {
    let mut kinds = Vec::new();
    for name in names {
        let kind = EventType::parse(name.trim()).ok_or_else(|| {
            Problem::invalid_field(format!(
                "`events`: {name:?} is not an event type; use {}",
                EventType::ALL.map(EventType::as_str).join(", ")
            ))
        })?;
        kinds.push(kind);
    }
    if kinds.is_empty() {
        return Err(Problem::invalid_field(
            "`events` is empty; name the event types the endpoint receives, e.g. [\"post.published\", \"post.failed\"]",
        ));
    }
    Ok(EventType::ALL
        .into_iter()
        .filter(|k| kinds.contains(k))
        .map(|k| k.as_str().to_string())
        .collect())
}

fn description(text: Option<String>) -> Result<Option<String>, Problem> {
    match text {
        Some(d) if d.chars().count() > DESCRIPTION_MAX => Err(Problem::invalid_field(format!(
            "`description` is longer than {DESCRIPTION_MAX} characters"
        ))),
        Some(d) if d.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

async fn checked_url(state: &AppState, text: &str) -> Result<String, Problem> {
    address::check_url(text, state.outbox.policy.allow_private)
        .await
        .map(|url| url.to_string())
        .map_err(|e| Problem::invalid_field(format!("`url`: {e}")))
}

fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("there is no webhook {id} in this workspace"))
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<Webhook, Problem> {
    state
        .storage
        .webhook(&caller.workspace_id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn seal(state: &AppState, id: &str, key: &SigningKey) -> Result<String, Problem> {
    state.guard.server_key.seal(id, key.bytes()).map_err(|e| {
        tracing::error!("could not seal a webhook secret: {e}");
        Problem::internal()
    })
}

fn new_key() -> Result<SigningKey, Problem> {
    SigningKey::generate().map_err(|e| {
        tracing::error!("{e}");
        Problem::internal()
    })
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewWebhook>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let events = event_types(&new.events)?;
    let description = description(new.description)?;
    let url = checked_url(&state, &new.url).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let key = new_key()?;
    let now = now_ms();
    let webhook = Webhook {
        secret: seal(&state, &id, &key)?,
        id,
        workspace_id: caller.workspace_id,
        url,
        description,
        events,
        old_secret: None,
        old_secret_until_ms: None,
        created_by: caller.user_id,
        created_ms: now,
        updated_ms: now,
        disabled_ms: None,
        disabled_reason: None,
        failed_in_a_row: 0,
    };
    state.storage.create_webhook(&webhook).await?;
    let mut body = view(&webhook);
    body["secret"] = Value::String(key.reveal());
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let webhooks = state.storage.webhooks(&caller.workspace_id).await?;
    Ok(Json(
        json!({ "items": webhooks.iter().map(view).collect::<Vec<_>>() }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(view(&find(&state, &caller, &id).await?)))
}

pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(changes): Body<WebhookChanges>,
) -> Result<Json<Value>, Problem> {
    let mut webhook = find(&state, &caller, &id).await?;
    if let Some(url) = &changes.url {
        webhook.url = checked_url(&state, url).await?;
    }
    if let Some(events) = &changes.events {
        webhook.events = event_types(events)?;
    }
    if let Some(text) = changes.description {
        webhook.description = description(text)?;
    }
    let now = now_ms();
    match changes.enabled {
        Some(true) => {
            webhook.disabled_ms = None;
            webhook.disabled_reason = None;
            webhook.failed_in_a_row = 0;
        }
        Some(false) if webhook.disabled_ms.is_none() => {
            webhook.disabled_ms = Some(now);
            webhook.disabled_reason = Some("disabled through the API".into());
        }
        _ => {}
    }
    webhook.updated_ms = now.max(webhook.updated_ms);
    if !state.storage.save_webhook(&webhook).await? {
        return Err(not_found(&id));
    }
    if changes.enabled == Some(true) {
        state.outbox.wake();
    }
    Ok(Json(view(&webhook)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if state
        .storage
        .delete_webhook(&caller.workspace_id, &id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}

/// A new secret, shown once; deliveries carry a signature under the old one too for a day.
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    find(&state, &caller, &id).await?;
    let key = new_key()?;
    let now = now_ms();
    let until = now + ROTATION_GRACE_MS;
    if !state
        .storage
        .rotate_webhook_secret(
            &caller.workspace_id,
            &id,
            &seal(&state, &id, &key)?,
            until,
            now,
        )
        .await?
    {
        return Err(not_found(&id));
    }
    let webhook = find(&state, &caller, &id).await?;
    let mut body = view(&webhook);
    body["secret"] = Value::String(key.reveal());
    Ok(Json(body))
}

/// Sends a `ping` event to the endpoint, whatever it subscribed to.
pub async fn ping(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let webhook = find(&state, &caller, &id).await?;
    if webhook.disabled_ms.is_some() {
        return Err(Problem::conflict(
            "the endpoint is disabled; enable it first with `postctl webhooks enable ID` (PATCH {\"enabled\": true})",
        ));
    }
    let event = webhooks::event(
        &caller.workspace_id,
        EventType::Ping,
        json!({ "webhook_id": webhook.id }),
    );
    let delivery = crate::storage::delivery_for(&webhook, &event);
    state.storage.create_delivery(&delivery).await?;
    state.outbox.wake();
    Ok((StatusCode::ACCEPTED, Json(delivery_view(&delivery))))
}

pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Json<Value>, Problem> {
    find(&state, &caller, &id).await?;
    let limit = paging::limit(params.limit)?;
    paging::check_cursor(params.cursor.as_deref())?;
    let found = state
        .storage
        .deliveries(
            &caller.workspace_id,
            &id,
            params.cursor.as_deref(),
            limit + 1,
        )
        .await?;
    Ok(Json(paging::page(
        found,
        limit,
        |d| d.id.as_str(),
        delivery_view,
    )))
}

/// Sends a delivery's event again, as a new delivery (a new `webhook-id`).
pub async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let webhook = find(&state, &caller, &id).await?;
    send_again(&state, &caller, &webhook, &delivery_id).await
}

/// The same as [`redeliver`], found by the delivery's id alone (`postctl webhooks
/// redeliver DELIVERY`).
pub async fn redeliver_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path(delivery_id): Path<String>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let old = state
        .storage
        .delivery(&caller.workspace_id, &delivery_id)
        .await?
        .ok_or_else(|| {
            Problem::not_found(format!(
                "there is no delivery {delivery_id} in this workspace"
            ))
        })?;
    let webhook = find(&state, &caller, &old.webhook_id).await?;
    send_again(&state, &caller, &webhook, &delivery_id).await
}

async fn send_again(
    state: &AppState,
    caller: &Caller,
    webhook: &Webhook,
    delivery_id: &str,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let old = state
        .storage
        .delivery(&caller.workspace_id, delivery_id)
        .await?
        .filter(|d| d.webhook_id == webhook.id)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "there is no delivery {delivery_id} of webhook {} in this workspace",
                webhook.id
            ))
        })?;
    if webhook.disabled_ms.is_some() {
        return Err(Problem::conflict(
            "the endpoint is disabled; enable it first with `postctl webhooks enable ID` (PATCH {\"enabled\": true})",
        ));
    }
    let now = now_ms();
    let delivery = Delivery {
        id: uuid::Uuid::now_v7().to_string(),
        webhook_id: webhook.id.clone(),
        workspace_id: caller.workspace_id.clone(),
        event_type: old.event_type,
        payload: old.payload,
        state: DeliveryState::Pending,
        next_attempt_ms: now,
        created_ms: now,
        finished_ms: None,
        redelivery_of: Some(old.id),
        attempt_count: 0,
        attempts: Vec::new(),
    };
    state.storage.create_delivery(&delivery).await?;
    state.outbox.wake();
    Ok((StatusCode::ACCEPTED, Json(delivery_view(&delivery))))
}
