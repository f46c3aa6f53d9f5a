//! The one error type of postctl-core. Every message says what went wrong and what to do next;
//! [`Error::kind`] tells a front end which exit code it maps to.

use std::path::PathBuf;

use crate::network::AccountError;
use crate::secrets::SecretError;
use crate::time::TimeError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an error is, for exit codes (`postctl help exit-codes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something the user typed or supplied is wrong: fix the command or the input file.
    Usage,
    /// Credentials are missing or rejected.
    Auth,
    /// Anything else: the database, the file system.
    Failure,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Time(#[from] TimeError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Ai(#[from] crate::ai::AiError),
    #[error(transparent)]
    Sync(#[from] crate::sync::client::SyncError),

    #[error("no {what} named {name:?}; {hint}")]
    NotFound {
        what: &'static str,
        name: String,
        hint: String,
    },
    #[error("no post has an id starting with {prefix:?}; see `postctl list` for ids")]
    NoSuchPost { prefix: String },
    #[error("the id prefix {prefix:?} matches {count} posts ({examples}); type more of the id")]
    AmbiguousId {
        prefix: String,
        count: usize,
        examples: String,
    },
    #[error(
        "an account named {0:?} already exists; pick another --name, or remove it first with `postctl accounts rm {0}`"
    )]
    DuplicateAccount(String),
    #[error(
        "{0:?} is already an account name; groups and accounts share one namespace so `--to` is never ambiguous, pick another group name"
    )]
    GroupNameTaken(String),
    /// The user asked for something that cannot be done as asked (exit 2).
    #[error("{0}")]
    Invalid(String),
    /// postctl itself failed (a task that crashed, a client that could not be built, a
    /// race lost to another publisher): not the user's input, so exit 1.
    #[error("{0}")]
    Internal(String),

    #[error("media file {path}: {reason}")]
    Media { path: PathBuf, reason: String },

    #[error("import failed at {location}, {field:?}: {reason}; nothing was imported")]
    Import {
        location: String,
        field: String,
        reason: String,
    },

    #[error(
        "{path} is not a postctl database or is damaged ({detail}); move it aside and run `postctl init` to start a new one, or restore it from a backup"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the database {path} is locked by another process and stayed locked for {seconds} s; wait for the other postctl (daemon, import) to finish and try again"
    )]
    Locked { path: PathBuf, seconds: u64 },
    #[error(
        "the database {path} was written by a newer postctl (schema version {found}, this binary knows up to {known}); upgrade postctl, or point --db at another database"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database error on {path}: {source}")]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "config file {path}: {detail}; fix the file or move it aside (`postctl init` writes a fresh commented one)"
    )]
    Config { path: PathBuf, detail: String },
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Time(_)
            | Error::Account(_)
            | Error::NotFound { .. }
            | Error::NoSuchPost { .. }
            | Error::AmbiguousId { .. }
            | Error::DuplicateAccount(_)
            | Error::GroupNameTaken(_)
            | Error::Invalid(_)
            | Error::Media { .. }
            | Error::Import { .. } => ErrorKind::Usage,
            Error::Secret(e) if e.is_usage() => ErrorKind::Usage,
            Error::Secret(
                SecretError::File { .. } | SecretError::Malformed { .. } | SecretError::Busy { .. },
            ) => ErrorKind::Failure,
            Error::Secret(_) => ErrorKind::Auth,
            Error::Ai(e) => e.kind(),
            Error::Sync(e) if e.is_auth() => ErrorKind::Auth,
            Error::Sync(e) if e.is_usage() => ErrorKind::Usage,
            _ => ErrorKind::Failure,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Finish;
    use crate::network::{AccountSettings, Network};
    use crate::store::{NewPost, NewTarget, Store};

    #[test]
    fn postctl_failing_is_not_a_usage_error() {
        let cases = [
            (Error::Invalid("cancel it first".into()), ErrorKind::Usage),
            (
                Error::Internal("a publishing task failed".into()),
                ErrorKind::Failure,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error}");
        }
    }

    /// Losing a target to another publisher is a race inside postctl, not something the
    /// user typed: exit 1, not 2.
    #[test]
    fn a_target_taken_over_by_another_publisher_is_a_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let settings = AccountSettings {
            base_url: Some("https://masto.example".into()),
            handle: None,
            settings: serde_json::json!({}),
        };
        let account = store
            .add_account("masto", Network::Mastodon, &settings, "env:TOKEN")
            .expect("account");
        let id = store
            .create_post(&NewPost {
                body: "Hello".into(),
                title: None,
                labels: vec![],
                media: vec![],
                tz: "UTC".into(),
                schedule: crate::model::Schedule::At,
                thread: Default::default(),
                targets: vec![NewTarget {
                    account_id: account.id,
                    due: Some(chrono::Utc::now()),
                }],
            })
            .expect("post");
        let target = store.post(&id).expect("post").targets[0].id.clone();
        let error = store
            .finish_target(&target, "another-publisher", &Finish::Published, None)
            .expect_err("the target is not held by this owner");
        assert_eq!(error.kind(), ErrorKind::Failure, "{error}");
    }
}
