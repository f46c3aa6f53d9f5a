//! `/api/v1/templates`: the workspace's templates, in core's template language (the one
//! `postctl template` uses: minijinja, strict about variables that are not given). Editors
//! write them, viewers read them and render them with variables. A template that does not
//! compile is refused when it is stored, and a render that fails answers `template-error`
//! with the template's line. The built-in `release` template is listed too; a stored
//! template of the same name wins over it.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use postctl_core::content::template::{self, Template, Variables};
use postctl_core::network::Network;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::access::Caller;
use super::extract::Body;
use super::keys::time_text;
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::storage::StoredTemplate;

/// Longest template body, in bytes.
const BODY_MAX: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    body: String,
    /// Bodies for particular networks (`{"bluesky": "…"}`).
    #[serde(default)]
    variants: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// The variables, a JSON object.
    #[serde(default)]
    vars: Map<String, Value>,
    /// The network whose variant to render (else the default body).
    #[serde(default)]
    network: Option<String>,
}

fn view(t: &StoredTemplate) -> Value {
    json!({
        "name": t.name,
        "body": t.body,
        "variants": t.variants,
        "builtin": false,
        "created_at": time_text(t.created_ms),
        "updated_at": time_text(t.updated_ms),
    })
}

fn builtin_view(t: &Template) -> Value {
    json!({
        "name": t.name,
        "body": t.body,
        "variants": t.variants,
        "builtin": true,
    })
}

fn not_found(name: &str) -> Problem {
    Problem::not_found(format!(
        "there is no template {name:?} in this workspace; list them with GET /api/v1/templates"
    ))
}

/// The template `name` of a workspace, or the built-in one of that name, checked.
pub(crate) async fn find(
    state: &AppState,
    workspace_id: &str,
    name: &str,
) -> Result<Option<Template>, Problem> {
    match state.storage.template(workspace_id, name).await? {
        Some(t) => Template::new(&t.name, &t.body, t.variants)
            .map(Some)
            .map_err(|e| Problem::template(&e)),
        None => Ok(template::builtin(name)),
    }
}

/// Renders `template`'s default body with `vars`; a failure is a `template-error` problem.
pub(crate) fn render(template: &Template, vars: Map<String, Value>) -> Result<String, Problem> {
    let mut variables = Variables::default();
    variables
        .merge_json("the variables", Value::Object(vars))
        .map_err(|e| Problem::template(&e))?;
    template
        .render(None, &variables)
        .map(|r| r.text)
        .map_err(|e| Problem::template(&e))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let stored = state.storage.templates(&caller.workspace_id).await?;
    let mut items: Vec<Value> = stored.iter().map(view).collect();
    for builtin in template::builtins() {
        if !stored.iter().any(|t| t.name == builtin.name) {
            items.push(builtin_view(&builtin));
        }
    }
    Ok(Json(json!({ "items": items })))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    match state.storage.template(&caller.workspace_id, &name).await? {
        Some(t) => Ok(Json(view(&t))),
        None => template::builtin(&name)
            .map(|t| Json(builtin_view(&t)))
            .ok_or_else(|| not_found(&name)),
    }
}

/// Stores the template `name` (201 when new, 200 when it replaced one).
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Body(new): Body<TemplateBody>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    if new.body.len() > BODY_MAX {
        return Err(Problem::invalid_field(format!(
            "`body` is {} bytes; the limit is {BODY_MAX}",
            new.body.len()
        )));
    }
    if new.body.trim().is_empty() {
        return Err(Problem::invalid_field(
            "`body` is empty; write the template, e.g. \"{{ name }} {{ version }} is out\"",
        ));
    }
    let checked = Template::new(&name, &new.body, new.variants).map_err(|e| match e {
        template::TemplateError::BadName { .. } | template::TemplateError::BadNetwork { .. } => {
            Problem::invalid_field(e.to_string())
        }
        other => Problem::template(&other),
    })?;
    let now = now_ms();
    let stored = StoredTemplate {
        workspace_id: caller.workspace_id,
        name: checked.name,
        body: checked.body,
        variants: checked.variants,
        created_ms: now,
        updated_ms: now,
    };
    let created = state.storage.put_template(&stored).await?;
    let stored = state
        .storage
        .template(&stored.workspace_id, &stored.name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(&stored))))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, Problem> {
    if state
        .storage
        .delete_template(&caller.workspace_id, &name)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}

/// Renders a template with the variables given, for one network's variant or the default.
pub async fn render_route(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Body(request): Body<RenderRequest>,
) -> Result<Json<Value>, Problem> {
    let template = find(&state, &caller.workspace_id, &name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    let network = request
        .network
        .as_deref()
        .map(|n| {
            n.parse::<Network>()
                .map_err(|_| Problem::invalid_field(format!("`network`: {n:?} is not a network")))
        })
        .transpose()?;
    let mut variables = Variables::default();
    variables
        .merge_json("the variables", Value::Object(request.vars))
        .map_err(|e| Problem::template(&e))?;
    let rendered = template
        .render(network, &variables)
        .map_err(|e| Problem::template(&e))?;
    Ok(Json(json!({
        "template": rendered.template,
        "variant": rendered.variant,
        "text": rendered.text,
    })))
}
