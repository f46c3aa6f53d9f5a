//! `/api/v1/triggers`: events from outside that make posts.
//!
//! - A GitHub trigger is the URL of a repository's webhook (`POST
//!   /api/v1/triggers/github/{id}`, content type `application/json`, the secret shown
//!   once when the trigger is made). GitHub's call carries no API key: it is verified by
//!   `X-Hub-Signature-256`, the HMAC-SHA256 of the raw body under the trigger's secret
//!   (compared in constant time); a missing or wrong signature is 401. A `release` event
//!   whose action is `published` becomes a post through the trigger's template, due now
//!   (with `queue`, at the next free slot of its first account's queue: `api::queue`),
//!   for the trigger's accounts (drafts never, prereleases only when the trigger says so);
//!   `ping` is answered 200 and every other event is acknowledged and ignored.
//! - A generic trigger (`POST /api/v1/triggers/{id}`, an API key with `posts:write`) renders
//!   its JSON body through the template. `Idempotency-Key` works as on every POST, and a
//!   `dedupe_key` field makes a post once per key, forever.
//!
//! Either way an event makes one post at most: the storage records `(trigger, key)` with
//! the post in one transaction (the release's id for GitHub, so redeliveries answer the
//! first post). Admins and owners make, list and delete triggers.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use ring::hmac;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::access::Caller;
use super::extract::Body;
use super::keys::time_text;
use super::posts::{check_text, view_with_targets};
use super::problem::Problem;
use super::{AppState, now_ms, templates};
use crate::approvals::made_post;
use crate::storage::stamps::TRIGGER_DEVICE;
use crate::storage::{Fired, Made, Post, PostState, Queued, Target, Trigger, TriggerKind};

const DESCRIPTION_MAX: usize = 500;
/// Random base62 characters of a GitHub trigger's secret.
const SECRET_LEN: usize = 40;
const DEDUPE_KEY_MAX: usize = 255;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTrigger {
    kind: String,
    template: String,
    /// The accounts (ids or names) the posts go to.
    accounts: Vec<String>,
    /// GitHub: whether prereleases make posts too.
    #[serde(default)]
    prereleases: bool,
    #[serde(default)]
    description: Option<String>,
    /// Whether each post takes the next free slot of the first account's queue instead of
    /// going out now.
    #[serde(default)]
    queue: bool,
}

/// A trigger as the API shows it: never its secret.
fn view(t: &Trigger, account_names: &[(String, String)]) -> Value {
    let url = match t.kind {
        TriggerKind::Github => format!("/api/v1/triggers/github/{}", t.id),
        TriggerKind::Generic => format!("/api/v1/triggers/{}", t.id),
    };
    let accounts: Vec<&str> = t
        .accounts
        .iter()
        .map(|id| {
            account_names
                .iter()
                .find(|(aid, _)| aid == id)
                .map_or(id.as_str(), |(_, name)| name.as_str())
        })
        .collect();
    json!({
        "id": t.id,
        "kind": t.kind.as_str(),
        "template": t.template,
        "accounts": accounts,
        "prereleases": t.prereleases,
        "queue": t.queue,
        "description": t.description,
        "path": url,
        "created_at": time_text(t.created_ms),
    })
}

async fn account_names(
    state: &AppState,
    workspace_id: &str,
) -> Result<Vec<(String, String)>, Problem> {
    Ok(state
        .storage
        .accounts(workspace_id)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("there is no trigger {id} in this workspace"))
}

/// The caller's workspace's trigger `id`.
async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<Trigger, Problem> {
    state
        .storage
        .trigger(id)
        .await?
        .filter(|t| t.workspace_id == caller.workspace_id)
        .ok_or_else(|| not_found(id))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewTrigger>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let kind = TriggerKind::parse(new.kind.trim()).ok_or_else(|| {
        Problem::invalid_field(format!(
            "`kind`: {:?} is not a trigger kind; use github or generic",
            new.kind
        ))
    })?;
    if templates::find(&state, &caller.workspace_id, &new.template)
        .await?
        .is_none()
    {
        return Err(Problem::invalid_field(format!(
            "`template`: this workspace has no template {:?}; add it with PUT \
             /api/v1/templates/{{name}}, or use the built-in `release`",
            new.template
        )));
    }
    if new.accounts.is_empty() {
        return Err(Problem::invalid_field(
            "`accounts` is empty; name the accounts the posts go to",
        ));
    }
    let accounts = super::posts::find_accounts(&state, &caller.workspace_id, &new.accounts).await?;
    if new.queue {
        super::queue::require_slots(&state, &caller.workspace_id, &accounts[0]).await?;
    }
    let description = match new.description {
        Some(d) if d.chars().count() > DESCRIPTION_MAX => {
            return Err(Problem::invalid_field(format!(
                "`description` is longer than {DESCRIPTION_MAX} characters"
            )));
        }
        Some(d) if d.trim().is_empty() => None,
        other => other,
    };
    let id = uuid::Uuid::now_v7().to_string();
    let secret = match kind {
        TriggerKind::Github => Some(crate::auth::random_base62(SECRET_LEN).map_err(|e| {
            tracing::error!("{e}");
            Problem::internal()
        })?),
        TriggerKind::Generic => None,
    };
    let sealed = secret
        .as_deref()
        .map(|s| state.guard.server_key.seal(&id, s.as_bytes()))
        .transpose()
        .map_err(|e| {
            tracing::error!("could not seal a trigger secret: {e}");
            Problem::internal()
        })?;
    let trigger = Trigger {
        id,
        workspace_id: caller.workspace_id.clone(),
        kind,
        template: new.template,
        accounts: accounts.iter().map(|a| a.id.clone()).collect(),
        secret: sealed,
        prereleases: new.prereleases,
        queue: new.queue,
        description,
        created_by: caller.user_id,
        created_ms: now_ms(),
    };
    state.storage.create_trigger(&trigger).await?;
    let names: Vec<(String, String)> = accounts.into_iter().map(|a| (a.id, a.name)).collect();
    let mut body = view(&trigger, &names);
    if let Some(secret) = secret {
        body["secret"] = Value::String(secret);
    }
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let triggers = state.storage.triggers(&caller.workspace_id).await?;
    let names = account_names(&state, &caller.workspace_id).await?;
    Ok(Json(json!({
        "items": triggers.iter().map(|t| view(t, &names)).collect::<Vec<_>>()
    })))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let trigger = find(&state, &caller, &id).await?;
    let names = account_names(&state, &caller.workspace_id).await?;
    Ok(Json(view(&trigger, &names)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if state
        .storage
        .delete_trigger(&caller.workspace_id, &id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}

/// The generic trigger: the JSON body (an object) is the template's variables.
pub async fn fire_generic(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(vars): Body<Map<String, Value>>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let trigger = find(&state, &caller, &id).await?;
    if trigger.kind != TriggerKind::Generic {
        return Err(Problem::conflict(format!(
            "trigger {id} is a {} trigger; GitHub calls /api/v1/triggers/github/{id}",
            trigger.kind.as_str()
        )));
    }
    let dedupe_key = match vars.get("dedupe_key") {
        None | Some(Value::Null) => uuid::Uuid::now_v7().to_string(),
        Some(Value::String(key)) if !key.is_empty() && key.len() <= DEDUPE_KEY_MAX => {
            format!("key:{key}")
        }
        Some(_) => {
            return Err(Problem::invalid_field(format!(
                "`dedupe_key` must be a string of 1 to {DEDUPE_KEY_MAX} bytes"
            )));
        }
    };
    fire(&state, &trigger, vars, &dedupe_key, Some(&caller.user_id)).await
}

/// What a GitHub webhook call asks for, decided from its event and payload.
#[derive(Debug, PartialEq)]
pub enum GithubCall {
    /// `ping`: GitHub checks the URL when the webhook is made.
    Ping,
    /// A published release to announce, with its id and the template's variables.
    Announce {
        release_id: String,
        vars: Map<String, Value>,
    },
    /// Anything else, and why it makes no post.
    Ignore(String),
}

/// Decides what a verified GitHub call asks for (pure: the event header and the payload).
pub fn github_call(event: &str, payload: &Value, prereleases: bool) -> Result<GithubCall, String> {
    match event {
        "ping" => return Ok(GithubCall::Ping),
        "release" => {}
        other => {
            return Ok(GithubCall::Ignore(format!(
                "the {other:?} event makes no post"
            )));
        }
    }
    let action = payload["action"].as_str().unwrap_or_default();
    if action != "published" {
        return Ok(GithubCall::Ignore(format!(
            "a release {action:?} makes no post; only \"published\" does"
        )));
    }
    let release = &payload["release"];
    let release_id = match &release["id"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) if !s.is_empty() => s.clone(),
        _ => return Err("the payload's `release.id` is missing".into()),
    };
    if release["draft"].as_bool() == Some(true) {
        return Ok(GithubCall::Ignore("a draft release makes no post".into()));
    }
    if release["prerelease"].as_bool() == Some(true) && !prereleases {
        return Ok(GithubCall::Ignore(
            "a prerelease makes no post unless the trigger was made with prereleases".into(),
        ));
    }
    let tag = release["tag_name"]
        .as_str()
        .ok_or("the payload's `release.tag_name` is missing")?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let name = text(&release["name"]);
    let repository = &payload["repository"];
    let mut vars = Map::new();
    vars.insert(
        "release".into(),
        json!({
            "id": release_id,
            "name": if name.is_empty() { tag.to_string() } else { name.clone() },
            "tag": tag,
            "url": text(&release["html_url"]),
            "body": text(&release["body"]),
            "prerelease": release["prerelease"].as_bool().unwrap_or(false),
            "published_at": text(&release["published_at"]),
        }),
    );
    vars.insert(
        "repository".into(),
        json!({
            "name": text(&repository["name"]),
            "full_name": text(&repository["full_name"]),
            "url": text(&repository["html_url"]),
        }),
    );
    // The variables of the built-in `release` template: "NAME VERSION is out", the
    // release's title when it says more than the tag, the link.
    vars.insert("name".into(), Value::String(text(&repository["name"])));
    vars.insert("version".into(), Value::String(tag.to_string()));
    let summary = if name.is_empty() || name == tag {
        String::new()
    } else {
        name
    };
    vars.insert("summary".into(), Value::String(summary));
    vars.insert("link".into(), Value::String(text(&release["html_url"])));
    Ok(GithubCall::Announce { release_id, vars })
}

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`, compared
/// in constant time.
pub fn github_signature_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(tag) = header.trim().strip_prefix("sha256=").and_then(decode_hex) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body, &tag).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// GitHub's webhook: verified by its signature, not by a key.
pub async fn fire_github(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let trigger = state
        .storage
        .trigger(&id)
        .await?
        .filter(|t| t.kind == TriggerKind::Github)
        .ok_or_else(|| Problem::not_found(format!("there is no GitHub trigger {id}")))?;
    let sealed = trigger.secret.as_deref().ok_or_else(|| {
        tracing::error!(trigger = %trigger.id, "a GitHub trigger without a secret");
        Problem::internal()
    })?;
    let secret = state
        .guard
        .server_key
        .open(&trigger.id, sealed)
        .map_err(|e| {
            tracing::error!(trigger = %trigger.id, "could not open a trigger secret: {e}");
            Problem::internal()
        })?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Problem::bad_signature(
                "the X-Hub-Signature-256 header is missing: set the webhook's secret on \
                 GitHub to the one shown when the trigger was made",
            )
        })?;
    if !github_signature_valid(&secret, &body, signature) {
        return Err(Problem::bad_signature(
            "X-Hub-Signature-256 does not match the body under this trigger's secret: set \
             the webhook's secret on GitHub to the one shown when the trigger was made",
        ));
    }
    let event = headers
        .get("x-github-event")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let payload: Value = serde_json::from_slice(&body).map_err(|e| {
        Problem::invalid(format!(
            "the body is not JSON ({e}); set the webhook's content type to application/json"
        ))
    })?;
    match github_call(event, &payload, trigger.prereleases).map_err(Problem::invalid_field)? {
        GithubCall::Ping => Ok((StatusCode::OK, Json(json!({ "ok": true })))),
        GithubCall::Ignore(reason) => Ok((
            StatusCode::OK,
            Json(json!({ "ignored": true, "reason": reason })),
        )),
        GithubCall::Announce { release_id, vars } => {
            fire(
                &state,
                &trigger,
                vars,
                &format!("github-release:{release_id}"),
                None,
            )
            .await
        }
    }
}

/// Renders the trigger's template with `vars` and makes the post, due now, for the
/// trigger's accounts, once per `dedupe_key`.
async fn fire(
    state: &AppState,
    trigger: &Trigger,
    vars: Map<String, Value>,
    dedupe_key: &str,
    fired_by: Option<&str>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let ws = &trigger.workspace_id;
    let template = templates::find(state, ws, &trigger.template)
        .await?
        .ok_or_else(|| {
            Problem::conflict(format!(
                "the trigger's template {:?} is gone; add it again with PUT /api/v1/templates/{}",
                trigger.template, trigger.template
            ))
        })?;
    let text = templates::render(&template, vars)?;
    check_text(&text, None)?;
    // In the trigger's order: a queued post takes the first account's queue.
    let existing = state.storage.accounts(ws).await?;
    let (accounts, names): (Vec<String>, Vec<String>) = trigger
        .accounts
        .iter()
        .filter_map(|id| existing.iter().find(|a| &a.id == id))
        .map(|a| (a.id.clone(), a.name.clone()))
        .unzip();
    if accounts.is_empty() {
        return Err(Problem::conflict(
            "none of the trigger's accounts is left; make the trigger again with accounts \
             this workspace has",
        ));
    }
    let now = Utc::now().timestamp_millis();
    let post = Post {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.clone(),
        author_id: trigger.created_by.clone(),
        title: None,
        body: text,
        state: PostState::Scheduled,
        scheduled_ms: Some(now),
        zone: "UTC".into(),
        created_ms: now,
        updated_ms: now,
    };
    // Stamped and carried to the devices as a version, by whoever fired it (a generic
    // trigger's caller; GitHub's call has none: the trigger's owner).
    let made = Made {
        device: TRIGGER_DEVICE,
        user: fired_by.unwrap_or(&trigger.created_by).to_string(),
        targets: names,
    };
    made.fields(&post).map_err(Problem::invalid_field)?;
    let stamps = made.stamps();
    let targets: Vec<Target> = accounts
        .iter()
        .map(|a| Target::new(&post, a, now))
        .collect();
    // The trigger's owner is the author; whoever fires a generic trigger is a maker too,
    // so an editor's key does not skip approval through an admin's trigger.
    let makers: Vec<&str> = std::iter::once(trigger.created_by.as_str())
        .chain(fired_by)
        .collect();
    let (targets, events_of) = made_post(state.storage.as_ref(), &post, targets, &makers).await?;
    let queued = trigger.queue.then(|| Queued {
        now_ms: now,
        events: events_of.clone(),
    });
    match state
        .storage
        .fire_trigger(
            &trigger.id,
            dedupe_key,
            &post,
            &targets,
            &events_of(&post),
            queued.as_ref(),
            &stamps,
        )
        .await?
    {
        Fired::Made => {
            state.outbox.wake();
            // A queued post's time was decided as it was stored.
            let post = state.storage.post(ws, &post.id).await?.unwrap_or(post);
            let targets = state.storage.targets(ws, &post.id).await?;
            let mut body = view_with_targets(&post, &targets);
            body["duplicate"] = Value::Bool(false);
            Ok((StatusCode::CREATED, Json(body)))
        }
        Fired::Already { post_id } => Ok((
            StatusCode::OK,
            Json(json!({ "duplicate": true, "id": post_id })),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(action: &str, draft: bool, prerelease: bool) -> Value {
        json!({
            "action": action,
            "release": {
                "id": 1001, "tag_name": "v1.2.0", "name": "Fast sync", "draft": draft,
                "prerelease": prerelease, "body": "Notes",
                "html_url": "https://github.com/octo/hello/releases/tag/v1.2.0",
            },
            "repository": { "name": "hello", "full_name": "octo/hello",
                            "html_url": "https://github.com/octo/hello" },
        })
    }

    #[test]
    fn only_published_releases_are_announced() {
        let announce = |event: &str, payload: Value, pre: bool| {
            matches!(
                github_call(event, &payload, pre),
                Ok(GithubCall::Announce { .. })
            )
        };
        assert!(announce(
            "release",
            release("published", false, false),
            false
        ));
        assert!(!announce(
            "release",
            release("created", false, false),
            false
        ));
        assert!(!announce(
            "release",
            release("published", true, false),
            false
        ));
        assert!(!announce(
            "release",
            release("published", false, true),
            false
        ));
        assert!(announce("release", release("published", false, true), true));
        assert!(!announce("push", release("published", false, false), false));
        assert_eq!(
            github_call("ping", &json!({"zen": "x"}), false),
            Ok(GithubCall::Ping)
        );
        let Ok(GithubCall::Announce { release_id, vars }) =
            github_call("release", &release("published", false, false), false)
        else {
            panic!("announced");
        };
        assert_eq!(release_id, "1001");
        assert_eq!(vars["version"], "v1.2.0");
        assert_eq!(vars["summary"], "Fast sync");
        assert_eq!(vars["release"]["tag"], "v1.2.0");
    }

    #[test]
    fn signatures_are_checked_against_the_body() {
        // GitHub's documented example: secret "It's a Secret to Everybody", body
        // "Hello, World!".
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(github_signature_valid(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            header
        ));
        assert!(!github_signature_valid(
            b"It's a Secret to Everybody",
            b"Hello, World?",
            header
        ));
        assert!(!github_signature_valid(b"other", b"Hello, World!", header));
        assert!(!github_signature_valid(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            "sha1=757107"
        ));
        assert!(!github_signature_valid(b"s", b"b", "sha256=zz"));
    }
}
