//! Where account secrets live: the OS keyring, an environment variable, or a 0600 file
//! in the data directory; never the database.
//!
//! The database stores a [`SecretRef`] (`keyring:<account>`, `env:<VAR>` or
//! `file:<account>`), and [`SecretStore`] turns it back into a [`Secret`] when a network
//! call needs it. `POSTCTL_SECRET_STORE` (`auto`, `keyring`, `file`) picks where new
//! secrets go: `auto` tries the OS keyring and falls back to `secrets.toml` (mode 0600)
//! when there is none, as on headless machines and in CI.
//!
//! A [`Secret`] cannot be cloned, serialized or printed, and its memory is zeroed when it
//! is dropped. Copies made by libraries we hand it to (the keyring, the TOML parser, the
//! HTTP client) are beyond our reach; we keep our own copies few and zeroed.

mod file;
mod input;
mod os_keyring;
mod redact;
mod reference;
mod secret;
mod sessions;
mod store;

use std::io;
use std::path::PathBuf;

pub use input::read_secret;
pub use redact::{REDACTED, Redactor, SharedRedactor};
pub use reference::{SecretRef, default_env_var, env_var_name};
pub use secret::Secret;
pub use sessions::{MemorySessions, StoredSessions, session_key};
pub use store::{Backend, SecretStore};

/// The env var that picks the [`Backend`] for new secrets.
pub const BACKEND_ENV: &str = "POSTCTL_SECRET_STORE";

/// Why a secret could not be read, stored or removed. No message contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no secret on standard input: pipe it in, e.g. `postctl accounts add ... --token-stdin < token.txt`"
    )]
    EmptyInput,
    #[error(
        "standard input has more than one line: pipe only the secret, e.g. `--token-stdin < token.txt` with the token on one line"
    )]
    MultiLineInput,
    #[error(
        "standard input is longer than {max} bytes, too long for a secret: pipe only the secret, e.g. `--token-stdin < token.txt`"
    )]
    InputTooLong { max: usize },
    #[error(
        "the secret on standard input is not UTF-8 text: save it as plain text and pipe it with `--token-stdin < token.txt`"
    )]
    InputNotText,
    #[error("cannot read the secret from standard input: {0}")]
    ReadInput(#[source] io::Error),

    #[error(
        "{BACKEND_ENV}={given:?} is not a secret store: use auto, keyring or file (or unset it for auto)"
    )]
    InvalidBackend { given: String },
    /// The text is not repeated: a raw secret pasted where a reference belongs (`[ai] key`)
    /// must not end up on screen or in a log.
    #[error(
        "not a secret reference ({problem}; the value is not shown, in case it is the secret itself): expected keyring:<account>, env:<VAR> or file:<account>"
    )]
    InvalidRef { problem: &'static str },
    /// What was given is not repeated: it is often the secret itself (`--token-env "$TOKEN"`).
    #[error(
        "{flag} takes the NAME of an environment variable, like {example} (capital letters, digits and '_', not starting with a digit), not the secret itself; the value given is not shown, in case it is the secret: export {example}=<secret>, then pass {flag} {example}"
    )]
    NotAVarName {
        flag: &'static str,
        example: &'static str,
    },
    #[error(
        "{account:?} cannot name a stored secret: use the account's name (letters, digits, '-', '_')"
    )]
    InvalidAccount { account: String },

    #[error(
        "the environment variable {var} is not set: export {var}=<secret> (this account's secret) before running postctl"
    )]
    EnvUnset { var: String },
    #[error(
        "the environment variable {var} is empty: export {var}=<secret> with this account's secret"
    )]
    EnvEmpty { var: String },
    #[error(
        "the environment variable {var} is not valid UTF-8: set it to the secret as plain text"
    )]
    EnvNotText { var: String },

    #[error(
        "the account's secret is the environment variable {var}, which postctl cannot update with new tokens: add the account with `postctl accounts add ... --client-id ID` so its tokens are kept in the secret store"
    )]
    EnvReadOnly { var: String },

    #[error(
        "no OS keyring is available ({reason}): unset {BACKEND_ENV} to fall back to a 0600 file, set {BACKEND_ENV}=file, or keep the secret in an env var (--token-env)"
    )]
    NoKeyring { reason: String },
    #[error(
        "the secret for account {account:?} is in the OS keyring, but {BACKEND_ENV}=file keeps postctl away from it: unset {BACKEND_ENV}, or add the account again to move the secret to the file"
    )]
    KeyringDisabled { account: String },
    #[error(
        "the OS keyring failed for account {account:?} ({reason}): unlock the keyring and retry, or set {BACKEND_ENV}=file"
    )]
    Keyring { account: String, reason: String },
    #[error(
        "no secret for account {account:?} in {place}: add the account again with `postctl accounts add ... --token-stdin`"
    )]
    NotFound { account: String, place: String },

    #[error(
        "cannot {action} {path}: {source}; check the data directory's permissions (POSTCTL_DATA_DIR picks another)"
    )]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is not a valid secrets file ({problem}): fix it, or move it aside and add the accounts again"
    )]
    Malformed { path: PathBuf, problem: String },
    #[error("{path} can be read by other users (mode {mode:o}): run `chmod 600 {path}`")]
    Exposed { path: PathBuf, mode: u32 },
    #[error(
        "another postctl is writing {path} (lock file {lock}): wait and retry, or delete {lock} if no postctl is running"
    )]
    Busy { path: PathBuf, lock: PathBuf },
}

impl SecretError {
    /// True when the user's input or environment is wrong (exit code 2, usage), as opposed
    /// to credentials missing (exit 4) or the machine failing (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            SecretError::EmptyInput
                | SecretError::MultiLineInput
                | SecretError::InputTooLong { .. }
                | SecretError::InputNotText
                | SecretError::InvalidBackend { .. }
                | SecretError::InvalidRef { .. }
                | SecretError::NotAVarName { .. }
                | SecretError::InvalidAccount { .. }
        )
    }
}
