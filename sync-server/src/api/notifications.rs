//! `/api/v1/notifications`: the caller's own channels (email, ntfy, Telegram; tokens are
//! sealed, write-only and never shown; Slack, Discord and Matrix through one of the
//! workspace's accounts of that network, which editors and above may choose) and preferences (which event types reach the inbox
//! and which channels, and the daily digest's time and zone). Each user manages only
//! their own.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::access::Caller;
use super::extract::Body;
use super::keys::time_text;
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::notify::{self, digest};
use crate::storage::{Channel, ChannelKind, DigestSchedule, NotificationSettings, Role};
use crate::webhooks::{EventType, address};

/// Channels one user may have.
const MAX_CHANNELS: usize = 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    /// `email`, `ntfy`, `telegram`, `slack`, `discord` or `matrix`.
    kind: String,
    /// The email address, the ntfy topic URL, the Telegram chat id, or the name or id of
    /// the workspace's Slack, Discord or Matrix account.
    address: String,
    /// The ntfy access token (optional) or the Telegram bot token (required).
    #[serde(default)]
    token: Option<String>,
}

impl std::fmt::Debug for NewChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewChannel")
            .field("kind", &self.kind)
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .finish()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPreferences {
    /// Event type → the channel names it reaches; types left out follow the defaults.
    #[serde(default)]
    events: Map<String, Value>,
    /// The daily digest, or `null` for none.
    #[serde(default)]
    digest: Option<NewDigest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDigest {
    /// `HH:MM`, on the clock of `zone`.
    at: String,
    /// An IANA zone, e.g. `Europe/Berlin`.
    zone: String,
}

/// A channel as the API shows it: never its token.
fn view(c: &Channel) -> Value {
    json!({
        "id": c.id,
        "kind": c.kind.as_str(),
        "address": c.address,
        "token_set": c.secret.is_some(),
        "created_at": time_text(c.created_ms),
    })
}

pub async fn list_channels(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, Problem> {
    let channels = state.storage.channels(&caller.user_id).await?;
    Ok(Json(
        json!({ "items": channels.iter().map(view).collect::<Vec<_>>() }),
    ))
}

/// Checks a Telegram chat id: a number (`-100…` for channels) or `@username`.
fn chat_id(text: &str) -> Result<String, Problem> {
    let text = text.trim();
    let numeric = text.parse::<i64>().is_ok();
    let username = text.strip_prefix('@').is_some_and(|u| {
        (5..=32).contains(&u.len()) && u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if numeric || username {
        Ok(text.to_string())
    } else {
        Err(Problem::invalid_field(format!(
            "`address`: {text:?} is not a Telegram chat id; give the number (e.g. -1001234567890) or @channelname"
        )))
    }
}

/// Checks a Telegram bot token's shape (`123456:ABC-…`) without quoting it.
fn bot_token(token: Option<String>) -> Result<String, Problem> {
    let token = token.map(|t| t.trim().to_string()).unwrap_or_default();
    let shaped = token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.chars().all(|c| c.is_ascii_digit())
            && secret.len() >= 8
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if shaped {
        Ok(token)
    } else {
        Err(Problem::invalid_field(
            "`token`: a Telegram channel needs the bot's token from @BotFather (digits, a colon, then letters, digits, - and _)",
        ))
    }
}

/// The id of the caller's workspace's account a Slack, Discord or Matrix channel posts
/// through, named by its name or id; it must be of that network, and the caller an
/// editor or above (who may publish through it anyway). Its credentials are the
/// account's: the channel takes no token.
async fn account_of(
    state: &AppState,
    caller: &Caller,
    kind: ChannelKind,
    new: &NewChannel,
) -> Result<String, Problem> {
    if caller.role < Role::Editor {
        return Err(Problem::forbidden(format!(
            "a {} channel posts through the workspace's account, which editors, admins and \
             owners may do; ask one of them, or choose email, ntfy or telegram",
            kind.as_str()
        )));
    }
    if new.token.is_some() {
        return Err(Problem::invalid_field(format!(
            "`token`: a {} channel takes none; it posts with the account's own credentials",
            kind.as_str()
        )));
    }
    let wanted = new.address.trim();
    let accounts = state.storage.accounts(&caller.workspace_id).await?;
    let account = accounts
        .iter()
        .find(|a| a.id == wanted || a.name == wanted)
        .ok_or_else(|| {
            Problem::invalid_field(format!(
                "`address`: the workspace has no account {wanted:?}; give the name or id of \
                 one of its {} accounts (GET /api/v1/accounts)",
                kind.as_str()
            ))
        })?;
    if account.network != kind.as_str() {
        return Err(Problem::invalid_field(format!(
            "`address`: {wanted:?} is a {} account, not a {} one",
            account.network,
            kind.as_str()
        )));
    }
    Ok(account.id.clone())
}

pub async fn create_channel(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewChannel>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let kind = ChannelKind::parse(new.kind.trim()).ok_or_else(|| {
        Problem::invalid_field(format!(
            "`kind`: {:?} is not a channel; use email, ntfy, telegram, slack, discord or matrix",
            new.kind
        ))
    })?;
    let (address, token) = match kind {
        ChannelKind::Email => {
            if state.notifier.settings.smtp.is_none() {
                return Err(Problem::invalid_field(
                    "this server has no SMTP relay, so it cannot send email; its operator sets \
                     smtp_host and smtp_from (POSTCTL_SERVER_SMTP_*)",
                ));
            }
            if new.token.is_some() {
                return Err(Problem::invalid_field(
                    "`token`: an email channel takes none",
                ));
            }
            let address = new.address.trim().to_string();
            address.parse::<lettre::Address>().map_err(|e| {
                Problem::invalid_field(format!(
                    "`address`: {address:?} is not an email address ({e})"
                ))
            })?;
            (address, None)
        }
        ChannelKind::Ntfy => {
            let url = address::check_url(&new.address, state.outbox.policy.allow_private)
                .await
                .map_err(|e| Problem::invalid_field(format!("`address`: {e}")))?;
            let token = new
                .token
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty());
            (url.to_string(), token)
        }
        ChannelKind::Telegram => (chat_id(&new.address)?, Some(bot_token(new.token)?)),
        ChannelKind::Slack | ChannelKind::Discord | ChannelKind::Matrix => {
            (account_of(&state, &caller, kind, &new).await?, None)
        }
    };
    if state.storage.channels(&caller.user_id).await?.len() >= MAX_CHANNELS {
        return Err(Problem::conflict(format!(
            "you have {MAX_CHANNELS} channels, the most one user may have; delete one first"
        )));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let secret =
        match token {
            Some(token) => Some(state.guard.server_key.seal(&id, token.as_bytes()).map_err(
                |e| {
                    tracing::error!("could not seal a channel's token: {e}");
                    Problem::internal()
                },
            )?),
            None => None,
        };
    let channel = Channel {
        id,
        user_id: caller.user_id,
        kind,
        address,
        secret,
        created_ms: now_ms(),
    };
    state.storage.create_channel(&channel).await?;
    Ok((StatusCode::CREATED, Json(view(&channel))))
}

pub async fn delete_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if state.storage.delete_channel(&caller.user_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("you have no channel {id}")))
    }
}

fn settings_view(settings: &NotificationSettings) -> Value {
    let mut events = Map::new();
    for kind in notify::event_types() {
        let chosen = settings.preferences.iter().any(|(e, _)| e == kind.as_str());
        events.insert(
            kind.as_str().to_string(),
            json!({
                "channels": notify::channels_for(settings, kind.as_str()),
                "default": !chosen,
            }),
        );
    }
    json!({
        "events": events,
        "channels": notify::channel_names(),
        "digest": settings.digest.as_ref().map(|d| json!({
            "at": digest::time_text(d.at_minute),
            "zone": d.zone,
            "next_at": time_text(d.next_ms),
        })),
    })
}

pub async fn preferences(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, Problem> {
    let settings = state.storage.notification_settings(&caller.user_id).await?;
    Ok(Json(settings_view(&settings)))
}

/// Replaces the caller's preferences: event types left out follow the defaults again,
/// and a body without `digest` turns the digest off.
pub async fn set_preferences(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewPreferences>,
) -> Result<Json<Value>, Problem> {
    let names = notify::channel_names();
    let mut preferences = Vec::new();
    for (event, channels) in &new.events {
        let kind = EventType::parse(event)
            .filter(|k| *k != EventType::Ping)
            .ok_or_else(|| {
                Problem::invalid_field(format!(
                    "`events`: {event:?} is not an event type people are told of; use {}",
                    notify::event_types()
                        .map(EventType::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let list = channels.as_array().ok_or_else(|| {
            Problem::invalid_field(format!(
                "`events.{event}` must be a list of channel names, e.g. [\"inapp\", \"email\"] (or [] for none)"
            ))
        })?;
        let mut chosen: Vec<String> = Vec::new();
        for name in list {
            let name = name.as_str().filter(|n| names.contains(n)).ok_or_else(|| {
                Problem::invalid_field(format!(
                    "`events.{event}`: {name} is not a channel name; use {}",
                    names.join(", ")
                ))
            })?;
            if !chosen.iter().any(|c| c == name) {
                chosen.push(name.to_string());
            }
        }
        preferences.push((kind.as_str().to_string(), chosen));
    }
    let digest = match new.digest {
        None => None,
        Some(d) => {
            let at_minute = digest::parse_time(&d.at).ok_or_else(|| {
                Problem::invalid_field(format!(
                    "`digest.at`: {:?} is not a time; write it as HH:MM, e.g. 08:30",
                    d.at
                ))
            })?;
            let zone: chrono_tz::Tz = d.zone.trim().parse().map_err(|_| {
                Problem::invalid_field(format!(
                    "`digest.zone`: {:?} is not an IANA time zone, e.g. Europe/Berlin",
                    d.zone
                ))
            })?;
            Some(DigestSchedule {
                user_id: caller.user_id.clone(),
                at_minute,
                zone: zone.name().to_string(),
                next_ms: digest::next_after(at_minute, zone, now_ms()),
            })
        }
    };
    let settings = NotificationSettings {
        preferences,
        digest,
    };
    state
        .storage
        .save_notification_settings(&caller.user_id, &settings)
        .await?;
    let saved = state.storage.notification_settings(&caller.user_id).await?;
    Ok(Json(settings_view(&saved)))
}
