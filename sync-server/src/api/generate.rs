//! `POST /api/v1/generate`: drafts written by the workspace's model, and `/api/v1/ai`, the
//! model's settings (core's `[ai]`: provider, model, base URL, key, longest answer).
//!
//! The server asks the model with the workspace's key, as `postctl generate` asks with
//! the user's: core's `ai::prompt::drafts` writes the prompt (the brief, the material, the
//! voice, the networks' lengths), core's `ai::Model` streams the answer from Anthropic's
//! Messages API or an OpenAI-compatible server (retrying overload and rate limits), and
//! `prompt::split_variants` reads the variants. The answer is the drafts, each measured
//! against each account's network; nothing is stored (create a post with one of them).
//!
//! The key is sealed under the server key for the workspace's id and write-only: no
//! answer holds it, and the model's errors are scrubbed of it by core.

use axum::Json;
use axum::extract::State;
use postctl_core::ai::prompt::{self, Brief, MAX_VARIANTS};
use postctl_core::ai::{AiConfig, AiError, Model, Provider};
use postctl_core::content::voice::Voice;
use postctl_core::network::Network;
use postctl_core::platforms;
use postctl_core::secrets::Secret;
use postctl_core::text::fit;
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::Body;
use super::posts::{find_accounts, rfc3339};
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::storage::AiSettings;

/// The longest brief or material read, in bytes: a changelog fits, a book does not.
const MAX_INPUT: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetAi {
    /// `anthropic` (the default), or `openai` for any OpenAI-compatible server.
    #[serde(default)]
    provider: Option<String>,
    model: String,
    #[serde(default)]
    base_url: Option<String>,
    /// The provider's API key: absent keeps the stored one, `""` forgets it.
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    max_tokens: Option<u32>,
}

// No derived Debug: the key must never be printed.
impl std::fmt::Debug for SetAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetAi")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// What to write: "announce the v2 release".
    brief: String,
    /// Material to draw from: release notes, a changelog section.
    #[serde(default)]
    source: Option<String>,
    /// The workspace's voice to write in (its name).
    #[serde(default)]
    voice: Option<String>,
    /// The accounts (ids or names) the drafts are for: their networks' lengths.
    #[serde(default)]
    accounts: Vec<String>,
    /// How many variants (1 to 10; default 1).
    #[serde(default)]
    variants: Option<usize>,
}

/// The settings as the API shows them: never the key.
fn view(settings: &AiSettings) -> Value {
    json!({
        "provider": settings.provider,
        "model": settings.model,
        "base_url": settings.base_url,
        "key": settings.api_key.as_ref().map(|_| "set"),
        "max_tokens": settings.max_tokens,
        "updated_at": rfc3339(settings.updated_ms),
    })
}

fn config_of(provider: Provider, settings: &AiSettings) -> AiConfig {
    AiConfig {
        provider,
        model: Some(settings.model.clone()),
        base_url: settings.base_url.clone(),
        max_tokens: u32::try_from(settings.max_tokens).unwrap_or(u32::MAX),
        ..AiConfig::default()
    }
}

fn not_configured() -> Problem {
    Problem::ai_not_configured(
        "this workspace has no model for generate: an admin sets one with PUT /api/v1/ai \
         ({\"provider\": \"anthropic\", \"model\": \"…\", \"key\": \"…\"})",
    )
}

/// `GET /api/v1/ai`: the workspace's model settings.
pub async fn get(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let settings = state
        .storage
        .ai_settings(&caller.workspace_id)
        .await?
        .ok_or_else(not_configured)?;
    Ok(Json(view(&settings)))
}

/// `PUT /api/v1/ai`: sets the workspace's model, checked as `postctl ai set` checks it
/// (a known provider, a model name, an http(s) base URL, a key for Anthropic).
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Body(given): Body<SetAi>,
) -> Result<Json<Value>, Problem> {
    let provider: Provider = given
        .provider
        .as_deref()
        .unwrap_or("anthropic")
        .parse()
        .map_err(|e: AiError| Problem::invalid_field(format!("`provider`: {e}")))?;
    let stored = state.storage.ai_settings(&caller.workspace_id).await?;
    let api_key = match given.key.as_deref().map(str::trim) {
        Some("") => None,
        Some(key) => Some(
            state
                .guard
                .server_key
                .seal(&caller.workspace_id, key.as_bytes())
                .map_err(|e| {
                    tracing::error!("could not seal a model key: {e}");
                    Problem::internal()
                })?,
        ),
        None => stored.and_then(|s| s.api_key),
    };
    let settings = AiSettings {
        workspace_id: caller.workspace_id.clone(),
        provider: provider.as_str().to_string(),
        model: given.model.trim().to_string(),
        base_url: given
            .base_url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty()),
        api_key,
        max_tokens: i64::from(given.max_tokens.unwrap_or(AiConfig::default().max_tokens)),
        updated_ms: now_ms(),
    };
    if settings.max_tokens < 1 {
        return Err(Problem::invalid_field("`max_tokens` must be at least 1"));
    }
    // The same checks the model's construction makes, without the key in memory: a
    // placeholder stands in for a key that is there.
    let placeholder = settings.api_key.as_ref().map(|_| Secret::new("set".into()));
    Model::with_key(&config_of(provider, &settings), placeholder)
        .map_err(|e| Problem::invalid_field(e.to_string()))?;
    state.storage.set_ai_settings(&settings).await?;
    Ok(Json(view(&settings)))
}

/// `POST /api/v1/generate`: asks the workspace's model for drafts.
pub async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<GenerateRequest>,
) -> Result<Json<Value>, Problem> {
    let brief = request.brief.trim();
    if brief.is_empty() {
        return Err(Problem::invalid_field(
            "`brief` is empty: say what to write, e.g. \"announce the v2 release\"",
        ));
    }
    if brief.len() + request.source.as_deref().map_or(0, str::len) > MAX_INPUT {
        return Err(Problem::invalid_field(format!(
            "`brief` and `source` together are over {} KiB; send the part the post is about",
            MAX_INPUT / 1024
        )));
    }
    let variants = request.variants.unwrap_or(1);
    if !(1..=MAX_VARIANTS).contains(&variants) {
        return Err(Problem::invalid_field(format!(
            "`variants` must be between 1 and {MAX_VARIANTS}"
        )));
    }
    let accounts = find_accounts(&state, &caller.workspace_id, &request.accounts).await?;
    let networks: Vec<Network> = accounts
        .iter()
        .filter_map(|a| a.network.parse().ok())
        .collect();
    let voice: Option<(String, Voice)> = match &request.voice {
        None => None,
        Some(name) => {
            let stored = state
                .storage
                .voice(&caller.workspace_id, name)
                .await?
                .ok_or_else(|| {
                    Problem::invalid_field(format!(
                        "`voice`: this workspace has no voice {name:?}; list them with GET \
                         /api/v1/voices"
                    ))
                })?;
            let voice: Voice = serde_json::from_str(&stored.settings).map_err(|e| {
                tracing::error!("voice {name} cannot be read: {e}");
                Problem::internal()
            })?;
            Some((stored.name, voice))
        }
    };
    let settings = state
        .storage
        .ai_settings(&caller.workspace_id)
        .await?
        .ok_or_else(not_configured)?;
    let provider: Provider = settings.provider.parse().map_err(|e| {
        tracing::error!(
            "workspace {} has an unknown provider: {e}",
            caller.workspace_id
        );
        Problem::internal()
    })?;
    let key = match &settings.api_key {
        Some(sealed) => {
            let plain = state
                .guard
                .server_key
                .open(&caller.workspace_id, sealed)
                .map_err(|_| {
                    tracing::error!(
                        "the model key of workspace {} does not open with this server's key",
                        caller.workspace_id
                    );
                    Problem::internal()
                })?;
            Some(Secret::new(String::from_utf8(plain).map_err(|_| {
                tracing::error!(
                    "the model key of workspace {} is not text",
                    caller.workspace_id
                );
                Problem::internal()
            })?))
        }
        None => None,
    };
    let model = Model::with_key(&config_of(provider, &settings), key)
        .map_err(|e| Problem::ai_not_configured(format!("{e}; fix it with PUT /api/v1/ai")))?;
    let prompt = prompt::drafts(&Brief {
        request: brief,
        source: request.source.as_deref(),
        voice: voice.as_ref().map(|(name, v)| (name.as_str(), v)),
        networks: &networks,
        variants,
    });
    // Core streams the answer to a progress callback the future holds across its awaits,
    // so the future is not `Send`: it runs on a blocking thread, on this runtime.
    let runtime = tokio::runtime::Handle::current();
    let (answer, model) = tokio::task::spawn_blocking(move || {
        let answer = runtime.block_on(model.complete(&prompt, &mut |_| {}));
        (answer, model)
    })
    .await
    .map_err(|e| {
        tracing::error!("the model request stopped: {e}");
        Problem::internal()
    })?;
    let answer = answer.map_err(|e| model_problem(&e))?;
    let drafts = prompt::split_variants(&answer);
    if drafts.is_empty() {
        return Err(model_problem(&AiError::Empty));
    }
    let drafts: Vec<Value> = drafts
        .iter()
        .map(|text| {
            let fits: Vec<Value> = accounts
                .iter()
                .filter_map(|account| {
                    let network: Network = account.network.parse().ok()?;
                    let caps = platforms::defaults(network)?;
                    let measured = fit(text, caps.limit, caps.format);
                    Some(json!({
                        "account": account.name,
                        "length": measured.length,
                        "max": measured.max,
                        "fits": measured.fits,
                    }))
                })
                .collect();
            json!({ "text": text, "fits": fits })
        })
        .collect();
    Ok(Json(json!({
        "provider": provider.as_str(),
        "model": model.name,
        "drafts": drafts,
    })))
}

fn model_problem(e: &AiError) -> Problem {
    tracing::warn!("the model could not answer: {e}");
    Problem::model_error(e.to_string())
}
