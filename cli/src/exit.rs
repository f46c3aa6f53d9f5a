//! Exit codes (`postctl help exit-codes`), and the error type every command returns.

use postctl_core::ErrorKind;

/// postctl's exit codes; `postctl help exit-codes` prints this table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    Error = 1,
    Usage = 2,
    Partial = 3,
    Auth = 4,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

pub const EXIT_CODES_HELP: &str = "\
Exit codes of postctl:
  0  success
  1  error: the database, a file or the system failed (the message says which and what to do);
     for `postctl lint`, the draft has an error-level finding (warnings alone exit 0)
  2  usage: a command, flag or value was wrong: unknown account or group, unparseable time,
     invalid zone, a bad import row, a missing media file...
     Also a text that cannot go out as asked: too long for a network where no thread is
     allowed (--thread never, or a network without threads), or an account on a network
     postctl cannot publish to yet. `check`, `check --json`, `post --dry-run` and
     `post --release --dry-run` exit 2 for it; `post` refuses it before sending or storing
     anything.
  3  not published: one or more targets were not published (failed, uncertain, missed, or
     still waiting to retry), whether or not the others were; `post`, `retry` and
     `run-due` say which, and `postctl status ID` shows why
  4  authentication needed: a secret is missing (e.g. an unset --token-env variable) or was rejected

A command that fails leaves the database as it was.";

/// A failure of a command, with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: ExitCode,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: ExitCode::Usage,
        }
    }

    pub fn failure(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: ExitCode::Error,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        self.code
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<postctl_core::Error> for CliError {
    fn from(e: postctl_core::Error) -> Self {
        let code = match e.kind() {
            ErrorKind::Usage => ExitCode::Usage,
            ErrorKind::Auth => ExitCode::Auth,
            ErrorKind::Failure => ExitCode::Error,
        };
        CliError {
            message: e.to_string(),
            code,
        }
    }
}

impl From<postctl_core::signin::SignInError> for CliError {
    fn from(e: postctl_core::signin::SignInError) -> Self {
        use postctl_core::signin::SignInError as E;
        let code = match &e {
            E::BadEndpoint { .. }
            | E::Denied { .. }
            | E::NotARedirect(_)
            | E::StateMismatch
            | E::SecretNeeded { .. } => ExitCode::Usage,
            E::Refused { .. } => ExitCode::Auth,
            E::Listen { .. } | E::Timeout(_) | E::Unreachable { .. } | E::Unreadable { .. } => {
                ExitCode::Error
            }
        };
        CliError {
            message: e.to_string(),
            code,
        }
    }
}

macro_rules! from_core_error {
    ($($t:ty),*) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                CliError::from(postctl_core::Error::from(e))
            }
        }
    )*};
}
from_core_error!(
    postctl_core::time::TimeError,
    postctl_core::network::AccountError,
    postctl_core::secrets::SecretError,
    postctl_core::ai::AiError
);

pub type CliResult<T = ()> = Result<T, CliError>;
