//! Asking a language model for drafts: Anthropic's Messages API (the default) or any
//! OpenAI-compatible chat-completions server (OpenAI, Ollama, llama.cpp, vLLM), streamed.
//!
//! - [`AiConfig`] is `[ai]` in config.toml: the provider, the model's name, the base URL,
//!   where the key is, limits. Model names are configuration, never code.
//! - [`Model::resolve`] turns it, the environment (`ANTHROPIC_API_KEY`,
//!   `ANTHROPIC_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_BASE_URL`) and the secret store into a
//!   client; [`Model::complete`] streams one answer, calling back with each piece of text,
//!   and retries overload, rate limits, server errors and failed connections with backoff.
//! - [`prompt`] writes the prompts and reads the answers (variants, hashtags); it is pure.
//!
//! A stream that stops before its end, or an answer cut at the token limit, is an error:
//! callers save nothing until every answer they need is complete.

mod anthropic;
mod error;
mod openai;
pub mod prompt;
mod settings;
mod sse;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use error::AiError;
use error::Failure;
pub use settings::{AiChange, AiConfig, write_settings};

use crate::platforms::http::excerpt;
use crate::secrets::{Redactor, Secret, SecretRef, SecretStore};

/// Which API the model is served by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Anthropic's Messages API (Claude).
    #[default]
    Anthropic,
    /// An OpenAI-compatible chat-completions endpoint.
    Openai,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::Openai => "openai",
        }
    }

    /// The name used in messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Anthropic => anthropic::NAME,
            Provider::Openai => openai::NAME,
        }
    }

    /// The environment variable the provider's own SDKs read the key from.
    pub fn key_env(self) -> &'static str {
        match self {
            Provider::Anthropic => anthropic::KEY_ENV,
            Provider::Openai => openai::KEY_ENV,
        }
    }

    /// The environment variable that overrides the base URL, as the SDKs allow.
    pub fn base_url_env(self) -> &'static str {
        match self {
            Provider::Anthropic => anthropic::BASE_URL_ENV,
            Provider::Openai => openai::BASE_URL_ENV,
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::Anthropic => anthropic::DEFAULT_BASE_URL,
            Provider::Openai => openai::DEFAULT_BASE_URL,
        }
    }

    /// The secret store entry `postctl ai set --key-stdin` writes.
    pub fn secret_name(self) -> String {
        format!("ai/{}", self.as_str())
    }
}

impl std::str::FromStr for Provider {
    type Err = AiError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "anthropic" | "claude" => Ok(Provider::Anthropic),
            "openai" | "openai-compatible" | "ollama" | "llama.cpp" | "vllm" => {
                Ok(Provider::Openai)
            }
            _ => Err(AiError::Config(format!(
                "unknown AI provider {s:?}; use anthropic (Claude), or openai for any OpenAI-compatible server (Ollama, llama.cpp, vLLM)"
            ))),
        }
    }
}

/// One request: a system prompt and the user's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub system: String,
    pub user: String,
}

/// What [`Model::complete`] reports while it works.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress<'a> {
    /// A piece of the answer, as it arrives.
    Text(&'a str),
    /// The attempt failed and is tried again after `wait`; text reported so far is void.
    Retrying {
        attempt: u32,
        wait: Duration,
        reason: String,
    },
}

/// A model ready to be asked.
pub struct Model {
    pub provider: Provider,
    pub name: String,
    pub base_url: String,
    key: Option<Secret>,
    pub max_tokens: u32,
    max_retries: u32,
    http: reqwest::Client,
    /// The server asked for `max_completion_tokens` (OpenAI's newer models).
    completion_tokens: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// Where the settings came from, for `postctl ai show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub provider: Provider,
    pub model: Option<String>,
    pub base_url: String,
    /// "ANTHROPIC_API_KEY", "OS keyring", "none"...
    pub key_from: String,
    pub max_tokens: u32,
}

impl Model {
    /// The model `config` names (or `model_flag`), with its key and base URL. `env` reads
    /// environment variables.
    pub fn resolve(
        config: &AiConfig,
        model_flag: Option<&str>,
        secrets: &SecretStore,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Model, AiError> {
        let provider = config.provider;
        let name = model_flag
            .map(str::to_string)
            .or_else(|| config.model.clone())
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .ok_or(AiError::NoModel {
                provider: provider.display_name(),
            })?;
        let key = match key_source(config, env)? {
            KeySource::Env(var) => env(var).map(Secret::new),
            KeySource::Stored(reference) => {
                Some(
                    secrets
                        .get(&reference)
                        .map_err(|e| AiError::KeyUnreadable {
                            provider: provider.display_name(),
                            detail: e.to_string(),
                        })?,
                )
            }
            KeySource::None => None,
        };
        Model::build(config, name, key, base_url(config, env)?)
    }

    /// The model `config` names, asked with `key` at `config`'s base URL: for a caller that
    /// keeps the key itself (a server keeps each workspace's sealed in its database) and
    /// reads neither the environment nor a secret store.
    pub fn with_key(config: &AiConfig, key: Option<Secret>) -> Result<Model, AiError> {
        let name = config
            .model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .ok_or(AiError::NoModel {
                provider: config.provider.display_name(),
            })?
            .to_string();
        Model::build(config, name, key, base_url(config, &|_| None)?)
    }

    fn build(
        config: &AiConfig,
        name: String,
        key: Option<Secret>,
        base_url: String,
    ) -> Result<Model, AiError> {
        let provider = config.provider;
        // A local OpenAI-compatible server needs no key; Anthropic always does.
        if key.is_none() && provider == Provider::Anthropic {
            return Err(AiError::NoKey {
                provider: provider.display_name(),
                env: provider.key_env(),
            });
        }
        let http = crate::tls::client_builder()
            .user_agent(concat!("postctl/", env!("CARGO_PKG_VERSION")))
            // The key is in `x-api-key` (Anthropic), which reqwest does not know to drop
            // on a redirect to another host: follow none there.
            .redirect(crate::platforms::http::same_origin_redirects())
            .referer(false)
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(u64::from(
                config.timeout_seconds.max(1),
            )))
            .build()
            .map_err(|e| AiError::Config(format!("cannot set up HTTP: {e}")))?;
        Ok(Model {
            provider,
            name,
            base_url,
            key,
            max_tokens: config.max_tokens.max(1),
            max_retries: config.max_retries,
            http,
            completion_tokens: Default::default(),
        })
    }

    /// Streams one answer to `prompt`, reporting each piece of text to `progress`.
    pub async fn complete(
        &self,
        prompt: &Prompt,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<String, AiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.attempt(prompt, progress).await {
                Ok(text) => return Ok(text),
                Err(failure) => failure,
            };
            if !failure.error.retryable() || attempt > self.max_retries {
                return Err(failure.error.after(attempt));
            }
            let backoff = Duration::from_millis(500 << (attempt - 1).min(4));
            let jitter = 0.75 + 0.25 * crate::publish::jitter(&self.name);
            let wait = failure
                .retry_after
                .unwrap_or(backoff.mul_f64(jitter))
                .min(Duration::from_secs(60));
            progress(Progress::Retrying {
                attempt,
                wait,
                reason: failure.error.to_string(),
            });
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        prompt: &Prompt,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<String, Failure> {
        let mut response = self.open(prompt).await?;
        let mut decoder = sse::Decoder::default();
        let mut stream = Stream::new(self.provider);
        let mut text = String::new();
        let mut received = 0usize;
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return Err(self.cut(text.chars().count(), &e.to_string()).into()),
            };
            received += chunk.len();
            if received > MAX_STREAM_BYTES {
                return Err(Failure::from(AiError::Protocol {
                    provider: self.provider.display_name(),
                    detail: format!(
                        "the answer went on past {} MiB, far more than any post; stopped reading",
                        MAX_STREAM_BYTES / (1024 * 1024)
                    ),
                }));
            }
            for frame in decoder.feed(&chunk) {
                match stream.frame(&frame, &self.name)? {
                    Step::Text(piece) => {
                        text.push_str(&piece);
                        progress(Progress::Text(&piece));
                    }
                    Step::End(stop) => return self.finish(text, stop).map_err(Failure::from),
                    Step::Nothing => {}
                }
            }
        }
        match stream.end_without_done() {
            Some(stop) if !decoder.has_partial() => self.finish(text, stop).map_err(Failure::from),
            _ => Err(self
                .cut(
                    text.chars().count(),
                    "the connection closed before the end of the stream",
                )
                .into()),
        }
    }

    /// Sends `prompt` and returns the streaming answer, or what its error status means.
    /// An OpenAI model that refuses `max_tokens` is asked again at once with
    /// `max_completion_tokens`, which later requests then use.
    async fn open(&self, prompt: &Prompt) -> Result<reqwest::Response, Failure> {
        use std::sync::atomic::Ordering;
        loop {
            let completion_tokens = self.completion_tokens.load(Ordering::Relaxed);
            let request = match self.provider {
                Provider::Anthropic => anthropic::request(self, prompt),
                Provider::Openai => openai::request(self, prompt, completion_tokens),
            };
            let response = request.send().await.map_err(|e| self.unreachable(&e))?;
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(response);
            }
            let retry_after = retry_after(response.headers());
            let body = error_body(response).await;
            // The body goes into the error message: a proxy that echoes the key must not
            // put it on the terminal.
            let body = match &self.key {
                Some(key) => Redactor::new(key).scrub(&body),
                None => body,
            };
            if self.provider == Provider::Openai
                && !completion_tokens
                && openai::wants_completion_tokens(status, &body)
            {
                self.completion_tokens.store(true, Ordering::Relaxed);
                continue;
            }
            let error = match self.provider {
                Provider::Anthropic => anthropic::status_error(status, &body, &self.name),
                Provider::Openai => openai::status_error(status, &body, &self.name),
            };
            return Err(Failure { error, retry_after });
        }
    }

    fn finish(&self, text: String, stop: Stop) -> Result<String, AiError> {
        match stop {
            Stop::MaxTokens => Err(AiError::Truncated {
                max_tokens: self.max_tokens,
            }),
            Stop::Refused(reason) => Err(AiError::Refused { reason }),
            Stop::Complete if text.trim().is_empty() => Err(AiError::Empty),
            Stop::Complete => Ok(text),
        }
    }

    fn cut(&self, received: usize, detail: &str) -> AiError {
        AiError::StreamCut {
            provider: self.provider.display_name(),
            received,
            detail: detail.to_string(),
        }
    }

    fn unreachable(&self, e: &reqwest::Error) -> Failure {
        let detail = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            // "error sending request for url (...)": the cause says what happened.
            let mut cause: &dyn std::error::Error = e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            format!("could not connect: {cause}")
        } else {
            e.to_string()
        };
        Failure::from(AiError::Unreachable {
            url: self.base_url.clone(),
            env: self.provider.base_url_env(),
            detail,
        })
    }
}

/// The most of a streamed answer read: the SSE decoder and the text grow with what
/// arrives, and a server (or a proxy) that never ends its stream must not fill memory. A
/// post-sized answer is a few KiB even with every event's JSON around it.
const MAX_STREAM_BYTES: usize = 8 * 1024 * 1024;

/// The most of an error answer read: it only goes into a message.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// The start of an error answer's body (up to [`MAX_ERROR_BYTES`]), as text.
async fn error_body(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// The key: the provider's own variable, else `[ai] key`, else none.
enum KeySource {
    Env(&'static str),
    Stored(SecretRef),
    None,
}

fn key_source(
    config: &AiConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<KeySource, AiError> {
    let var = config.provider.key_env();
    if env(var).is_some_and(|v| !v.trim().is_empty()) {
        return Ok(KeySource::Env(var));
    }
    match config
        .key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        Some(reference) => reference
            .parse::<SecretRef>()
            .map(KeySource::Stored)
            .map_err(|e| AiError::Config(format!("[ai] key in config.toml: {e}"))),
        None => Ok(KeySource::None),
    }
}

/// The base URL: the provider's variable, else `[ai] base_url`, else the provider's own.
fn base_url(config: &AiConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<String, AiError> {
    let provider = config.provider;
    let url = env(provider.base_url_env())
        .filter(|v| !v.trim().is_empty())
        .or_else(|| config.base_url.clone())
        .unwrap_or_else(|| provider.default_base_url().to_string());
    let url = url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.contains(char::is_whitespace)
    {
        return Err(AiError::Config(format!(
            "the AI base URL {url:?} is not an http(s) URL; fix [ai] base_url or {}",
            provider.base_url_env()
        )));
    }
    Ok(url)
}

/// What [`Model::resolve`] would use, without reading the key.
pub fn describe(
    config: &AiConfig,
    env: &dyn Fn(&str) -> Option<String>,
    data_dir: &std::path::Path,
) -> Result<Resolved, AiError> {
    let key_from = match key_source(config, env)? {
        KeySource::Env(var) => format!("env ${var}"),
        KeySource::Stored(reference) => reference.location(data_dir),
        KeySource::None => "none".to_string(),
    };
    Ok(Resolved {
        provider: config.provider,
        model: config.model.clone(),
        base_url: base_url(config, env)?,
        key_from,
        max_tokens: config.max_tokens,
    })
}

/// How long the server asked us to wait: `retry-after-ms`, else `retry-after` in seconds.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return (ms >= 0.0).then(|| Duration::from_millis(ms as u64));
    }
    get("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// What one event of a stream meant.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Text(String),
    End(Stop),
    Nothing,
}

/// How an answer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
    Complete,
    MaxTokens,
    Refused(String),
}

/// The stream reader of a provider.
enum Stream {
    Anthropic(anthropic::Stream),
    Openai(openai::Stream),
}

impl Stream {
    fn new(provider: Provider) -> Stream {
        match provider {
            Provider::Anthropic => Stream::Anthropic(anthropic::Stream::default()),
            Provider::Openai => Stream::Openai(openai::Stream::default()),
        }
    }

    fn frame(&mut self, frame: &sse::Frame, model: &str) -> Result<Step, AiError> {
        match self {
            Stream::Anthropic(s) => s.frame(frame, model),
            Stream::Openai(s) => s.frame(frame, model),
        }
    }

    fn end_without_done(&self) -> Option<Stop> {
        match self {
            // Anthropic's stream ends only with message_stop.
            Stream::Anthropic(_) => None,
            Stream::Openai(s) => s.end_without_done(),
        }
    }
}

#[cfg(test)]
mod tests;
