use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use zeroize::Zeroizing;

use super::file::SecretsFile;
use super::os_keyring::{Keyring, KeyringFailure, OsKeyring};
use super::reference::is_account_key;
use super::{BACKEND_ENV, Secret, SecretError, SecretRef};

/// Where [`SecretStore::put`] keeps new secrets, from `POSTCTL_SECRET_STORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The OS keyring when there is one, else the 0600 file (the default).
    Auto,
    /// The OS keyring only; an error where there is none.
    Keyring,
    /// The 0600 file only; the keyring is never touched.
    File,
}

impl FromStr for Backend {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Backend::Auto),
            "keyring" => Ok(Backend::Keyring),
            "file" => Ok(Backend::File),
            _ => Err(SecretError::InvalidBackend {
                given: s.to_owned(),
            }),
        }
    }
}

fn backend_from(value: Option<OsString>) -> Result<Backend, SecretError> {
    match value {
        None => Ok(Backend::Auto),
        Some(v) => v
            .into_string()
            .map_err(|v| SecretError::InvalidBackend {
                given: v.to_string_lossy().into_owned(),
            })?
            .parse(),
    }
}

/// Reads, stores and removes secrets for accounts. See the module docs for the rules.
pub struct SecretStore {
    file: SecretsFile,
    backend: Backend,
    keyring: Box<dyn Keyring>,
}

impl std::fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretStore")
            .field("file", &self.file.path())
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl SecretStore {
    /// A store whose fallback file is `secrets.toml` in `data_dir`. Nothing is touched
    /// until a secret is read or written.
    pub fn new(data_dir: &Path, backend: Backend) -> Self {
        Self::with_keyring(data_dir, backend, Box::new(OsKeyring))
    }

    pub(crate) fn with_keyring(
        data_dir: &Path,
        backend: Backend,
        keyring: Box<dyn Keyring>,
    ) -> Self {
        SecretStore {
            file: SecretsFile::new(data_dir),
            backend,
            keyring,
        }
    }

    /// The backend chosen by `POSTCTL_SECRET_STORE` (`auto` when unset).
    pub fn backend_from_env() -> Result<Backend, SecretError> {
        backend_from(std::env::var_os(BACKEND_ENV))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The fallback file, for messages.
    pub fn file_path(&self) -> PathBuf {
        self.file.path().to_path_buf()
    }

    /// Stores `secret` for `account` and returns the reference to put in the database,
    /// plus a one-line notice for the user when the secret did not go where they would
    /// expect (no keyring here, so it went to the file).
    pub fn put(
        &self,
        account: &str,
        secret: &Secret,
    ) -> Result<(SecretRef, Option<String>), SecretError> {
        if !is_account_key(account) {
            return Err(SecretError::InvalidAccount {
                account: account.to_owned(),
            });
        }
        let in_file = || {
            self.file.put(account, secret).map(|()| SecretRef::File {
                account: account.to_owned(),
            })
        };
        match self.backend {
            Backend::File => Ok((in_file()?, None)),
            Backend::Keyring => match self.keyring.set(account, secret) {
                Ok(()) => Ok(self.in_keyring(account)),
                Err(failure) => Err(keyring_error(account, failure)),
            },
            Backend::Auto => match self.keyring.set(account, secret) {
                Ok(()) => Ok(self.in_keyring(account)),
                Err(failure) => {
                    let reference = in_file()?;
                    let path = self.file.path().display();
                    let notice = match failure {
                        KeyringFailure::Unavailable(why) => {
                            format!(
                                "no OS keyring here ({why}); the secret is in {path} (mode 0600)"
                            )
                        }
                        KeyringFailure::Failed(why) => {
                            format!(
                                "the OS keyring failed ({why}); the secret is in {path} (mode 0600) instead"
                            )
                        }
                        KeyringFailure::NoEntry => {
                            format!(
                                "the OS keyring did not keep the secret; it is in {path} (mode 0600) instead"
                            )
                        }
                    };
                    Ok((reference, Some(notice)))
                }
            },
        }
    }

    /// After a keyring write, an older copy of the same account's secret in the file is
    /// stale plaintext; remove it, and say so if that fails.
    fn in_keyring(&self, account: &str) -> (SecretRef, Option<String>) {
        let reference = SecretRef::Keyring {
            account: account.to_owned(),
        };
        let cleaned = match self.file.contains(account) {
            Ok(false) => Ok(()),
            Ok(true) => self.file.remove(account),
            Err(e) => Err(e),
        };
        let notice = cleaned.err().map(|e| {
            format!(
                "the secret is in the OS keyring now, but an older copy in {} could not be removed ({e}); remove the {account:?} line by hand",
                self.file.path().display()
            )
        });
        (reference, notice)
    }

    /// Replaces the secret `r` points at, where it is (refreshed tokens, a new sign-in),
    /// so the account's reference stays right. A variable is the user's: refused.
    pub fn replace(&self, r: &SecretRef, secret: &Secret) -> Result<(), SecretError> {
        match r {
            SecretRef::Env { var } => Err(SecretError::EnvReadOnly { var: var.clone() }),
            SecretRef::File { account } => self.file.put(account, secret),
            SecretRef::Keyring { account } => {
                self.keyring_allowed(account)?;
                self.keyring
                    .set(account, secret)
                    .map_err(|failure| keyring_error(account, failure))
            }
        }
    }

    /// Reads the secret `r` points at.
    pub fn get(&self, r: &SecretRef) -> Result<Secret, SecretError> {
        match r {
            SecretRef::Env { var } => env_secret(var, |name| std::env::var_os(name)),
            SecretRef::File { account } => {
                self.file
                    .get(account)?
                    .ok_or_else(|| SecretError::NotFound {
                        account: account.clone(),
                        place: self.file.path().display().to_string(),
                    })
            }
            SecretRef::Keyring { account } => {
                self.keyring_allowed(account)?;
                self.keyring.get(account).map_err(|failure| match failure {
                    KeyringFailure::NoEntry => SecretError::NotFound {
                        account: account.clone(),
                        place: "the OS keyring".to_owned(),
                    },
                    other => keyring_error(account, other),
                })
            }
        }
    }

    /// Removes the secret `r` points at. An env var is the user's to unset, so there is
    /// nothing to do; a missing entry is not an error.
    pub fn remove(&self, r: &SecretRef) -> Result<(), SecretError> {
        match r {
            SecretRef::Env { .. } => Ok(()),
            SecretRef::File { account } => self.file.remove(account),
            SecretRef::Keyring { account } => {
                self.keyring_allowed(account)?;
                match self.keyring.delete(account) {
                    Ok(()) | Err(KeyringFailure::NoEntry) => Ok(()),
                    Err(other) => Err(keyring_error(account, other)),
                }
            }
        }
    }

    fn keyring_allowed(&self, account: &str) -> Result<(), SecretError> {
        if self.backend == Backend::File {
            return Err(SecretError::KeyringDisabled {
                account: account.to_owned(),
            });
        }
        Ok(())
    }
}

fn keyring_error(account: &str, failure: KeyringFailure) -> SecretError {
    match failure {
        KeyringFailure::Unavailable(reason) => SecretError::NoKeyring { reason },
        KeyringFailure::Failed(reason) => SecretError::Keyring {
            account: account.to_owned(),
            reason,
        },
        KeyringFailure::NoEntry => SecretError::Keyring {
            account: account.to_owned(),
            reason: "the keyring did not keep the entry".to_owned(),
        },
    }
}

/// Reads a secret from the variable `var` through `lookup` (the process environment
/// outside tests). Surrounding whitespace is trimmed, as for stdin.
fn env_secret(
    var: &str,
    lookup: impl FnOnce(&str) -> Option<OsString>,
) -> Result<Secret, SecretError> {
    let value = lookup(var).ok_or_else(|| SecretError::EnvUnset {
        var: var.to_owned(),
    })?;
    let value = Zeroizing::new(value.into_string().map_err(|_| SecretError::EnvNotText {
        var: var.to_owned(),
    })?);
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(SecretError::EnvEmpty {
            var: var.to_owned(),
        });
    }
    Ok(Secret::new(trimmed.to_owned()))
}

#[cfg(test)]
mod tests;
