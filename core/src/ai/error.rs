//! What can go wrong asking a model, each with what the user should do about it.

use std::time::Duration;

use crate::error::ErrorKind;

/// A failed model request. Nothing is saved when one happens: drafts are written only after
/// every answer is complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AiError {
    #[error(
        "no API key for {provider}: set {env}, or store one in the keyring with `postctl ai set --key-stdin`"
    )]
    NoKey {
        provider: &'static str,
        env: &'static str,
    },
    #[error("the {provider} API key could not be read: {detail}")]
    KeyUnreadable {
        provider: &'static str,
        detail: String,
    },
    #[error(
        "no model is configured for {provider}: run `postctl ai set --model NAME` (or add `model = \"NAME\"` under [ai] in config.toml), or pass --model NAME"
    )]
    NoModel { provider: &'static str },
    #[error(
        "{provider} rejected the API key ({status} {message}); store a valid one with `postctl ai set --key-stdin`, or set {env}"
    )]
    KeyRejected {
        provider: &'static str,
        env: &'static str,
        status: u16,
        message: String,
    },
    #[error(
        "{provider} has no model {model:?} ({message}); set another with `postctl ai set --model NAME` or --model"
    )]
    ModelNotFound {
        provider: &'static str,
        model: String,
        message: String,
    },
    #[error(
        "the request is too long for {model} ({message}); give a shorter --from file (or one version of it with --version), or a shorter brief"
    )]
    ContextTooLong { model: String, message: String },
    #[error(
        "{provider} is overloaded ({message}); tried {attempts} times, nothing was saved; try again in a minute"
    )]
    Overloaded {
        provider: &'static str,
        message: String,
        attempts: u32,
    },
    #[error(
        "{provider} is rate limiting this key ({message}); tried {attempts} times, nothing was saved; try again later"
    )]
    RateLimited {
        provider: &'static str,
        message: String,
        attempts: u32,
    },
    #[error(
        "could not reach {url} ({detail}); check the network connection, or the base URL ([ai] base_url, or {env}); nothing was saved"
    )]
    Unreachable {
        url: String,
        env: &'static str,
        detail: String,
    },
    #[error(
        "the answer from {provider} stopped midway, after {received} characters ({detail}); nothing was saved; run the command again"
    )]
    StreamCut {
        provider: &'static str,
        received: usize,
        detail: String,
    },
    #[error(
        "the model stopped at its token limit (max_tokens = {max_tokens}) before it finished; nothing was saved; raise it with `postctl ai set --max-tokens N`, or ask for fewer --variants"
    )]
    Truncated { max_tokens: u32 },
    #[error("the model declined to answer ({reason}); nothing was saved; reword the brief")]
    Refused { reason: String },
    #[error("the model answered with no text; nothing was saved; run the command again")]
    Empty,
    #[error("{provider} answered {status} {kind}: {message}")]
    Api {
        provider: &'static str,
        status: u16,
        kind: String,
        message: String,
    },
    #[error("{provider} sent an answer postctl cannot read ({detail}); nothing was saved")]
    Protocol {
        provider: &'static str,
        detail: String,
    },
    #[error("{0}")]
    Config(String),
}

impl AiError {
    /// Whether trying again later may succeed (the SDKs' rule: overload, rate limits, server
    /// errors and connections that failed).
    pub fn retryable(&self) -> bool {
        match self {
            AiError::Overloaded { .. }
            | AiError::RateLimited { .. }
            | AiError::Unreachable { .. } => true,
            AiError::Api { status, .. } => *status >= 500 || *status == 408 || *status == 409,
            _ => false,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            AiError::NoKey { .. } | AiError::KeyUnreadable { .. } | AiError::KeyRejected { .. } => {
                ErrorKind::Auth
            }
            AiError::NoModel { .. }
            | AiError::ModelNotFound { .. }
            | AiError::ContextTooLong { .. }
            | AiError::Config(_) => ErrorKind::Usage,
            AiError::Api { status, .. } if (400..500).contains(status) => ErrorKind::Usage,
            _ => ErrorKind::Failure,
        }
    }

    /// The same error after `attempts` tries, for the final message.
    pub(super) fn after(mut self, tries: u32) -> AiError {
        if let AiError::Overloaded { attempts, .. } | AiError::RateLimited { attempts, .. } =
            &mut self
        {
            *attempts = tries;
        }
        self
    }
}

/// A retryable failure and how long the server asked us to wait, if it said.
#[derive(Debug)]
pub(super) struct Failure {
    pub error: AiError,
    pub retry_after: Option<Duration>,
}

impl From<AiError> for Failure {
    fn from(error: AiError) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}
