//! The OS keyring (Keychain, Credential Manager, Secret Service) behind a small trait,
//! so the store's fallback rules can be tested with an in-memory keyring.

use std::ffi::OsString;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use zeroize::Zeroizing;

use super::Secret;

/// The keyring service name every postctl secret is filed under.
const SERVICE: &str = "postctl";

/// A keyring that does not answer (a D-Bus service that never replies, an unlock prompt
/// nobody sees) must not hang a cron job or CI run. The wait covers a person typing
/// their keyring password at a prompt.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How a keyring call failed. The strings describe the failure, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyringFailure {
    /// There is no keyring on this machine (headless Linux, no D-Bus session).
    Unavailable(String),
    /// The keyring works but holds no entry for the account.
    NoEntry,
    /// The keyring is there but the call failed (locked, refused, timed out).
    Failed(String),
}

pub(crate) trait Keyring: Send + Sync {
    fn set(&self, account: &str, secret: &Secret) -> Result<(), KeyringFailure>;
    fn get(&self, account: &str) -> Result<Secret, KeyringFailure>;
    fn delete(&self, account: &str) -> Result<(), KeyringFailure>;
}

/// The platform keyring through the `keyring` crate.
pub(crate) struct OsKeyring;

impl Keyring for OsKeyring {
    fn set(&self, account: &str, secret: &Secret) -> Result<(), KeyringFailure> {
        reachable(|name| std::env::var_os(name))?;
        let account = account.to_owned();
        // The call runs on its own thread (see TIMEOUT), which needs its own copy.
        let secret = Zeroizing::new(secret.expose().to_owned());
        with_timeout(move || {
            entry(&account)?
                .set_password(&secret)
                .map_err(|e| failure(&e))
        })
    }

    fn get(&self, account: &str) -> Result<Secret, KeyringFailure> {
        reachable(|name| std::env::var_os(name))?;
        let account = account.to_owned();
        with_timeout(move || {
            entry(&account)?
                .get_password()
                .map(Secret::new)
                .map_err(|e| failure(&e))
        })
    }

    fn delete(&self, account: &str) -> Result<(), KeyringFailure> {
        reachable(|name| std::env::var_os(name))?;
        let account = account.to_owned();
        with_timeout(move || {
            entry(&account)?
                .delete_credential()
                .map_err(|e| failure(&e))
        })
    }
}

fn entry(account: &str) -> Result<keyring::Entry, KeyringFailure> {
    keyring::Entry::new(SERVICE, account).map_err(|e| match e {
        // The store failed to start; its own error says why (no Secret Service, …).
        keyring::Error::NoDefaultStore => {
            KeyringFailure::Unavailable(match keyring::Entry::store_status() {
                Err(why) => describe(why),
                Ok(()) => "no credential store".to_owned(),
            })
        }
        other => failure(&other),
    })
}

fn failure(e: &keyring::Error) -> KeyringFailure {
    match e {
        keyring::Error::NoEntry => KeyringFailure::NoEntry,
        keyring::Error::NoDefaultStore => KeyringFailure::Unavailable(describe(e)),
        other => KeyringFailure::Failed(describe(other)),
    }
}

/// A description of a keyring error that is safe to show: some variants carry the
/// stored bytes, so those get a fixed text instead of their Debug output.
fn describe(e: &keyring::Error) -> String {
    use keyring::Error as E;
    match e {
        E::PlatformFailure(why) => format!("the platform store failed: {why}"),
        E::NoStorageAccess(why) => format!("the keyring is locked or refused access: {why}"),
        E::NoEntry => "no entry".to_owned(),
        E::BadEncoding(_) => "the stored secret is not UTF-8 text".to_owned(),
        E::BadDataFormat(..) => "the stored secret is not in the expected format".to_owned(),
        E::BadStoreFormat(why) => format!("the keyring is damaged: {why}"),
        E::TooLong(what, limit) => format!("{what} is longer than the keyring allows ({limit})"),
        E::Invalid(what, why) => format!("{what} is invalid: {why}"),
        E::Ambiguous(entries) => format!(
            "{} keyring entries match; remove the duplicates with your keyring manager",
            entries.len()
        ),
        E::NoDefaultStore => "no credential store".to_owned(),
        E::NotSupportedByStore(why) => format!("not supported by this keyring: {why}"),
        _ => "an unknown keyring error".to_owned(),
    }
}

/// On Linux and the BSDs the keyring is the Secret Service on the D-Bus session bus.
/// Without a session bus (SSH, CI, containers) there is nothing to talk to, and trying
/// anyway can stall, so that counts as no keyring without calling the library.
fn reachable(lookup: impl Fn(&str) -> Option<OsString>) -> Result<(), KeyringFailure> {
    if uses_secret_service() && !has_dbus_session(lookup) {
        return Err(KeyringFailure::Unavailable(
            "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service".to_owned(),
        ));
    }
    Ok(())
}

/// Mirrors the platforms where the `keyring` crate picks the Secret Service.
fn uses_secret_service() -> bool {
    cfg!(all(
        unix,
        not(any(
            target_os = "macos",
            target_os = "ios",
            target_os = "android"
        ))
    ))
}

fn has_dbus_session(lookup: impl Fn(&str) -> Option<OsString>) -> bool {
    lookup("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty())
}

/// Runs `op` on a helper thread and gives up after [`TIMEOUT`]. A call that never
/// returns leaves its thread parked until the process exits, which is the price of not
/// hanging the caller.
fn with_timeout<T: Send + 'static>(
    op: impl FnOnce() -> Result<T, KeyringFailure> + Send + 'static,
) -> Result<T, KeyringFailure> {
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("postctl-keyring".to_owned())
        .spawn(move || {
            // The receiver is gone only after a timeout; nobody waits for the answer then.
            let _ = tx.send(op());
        })
        .map_err(|e| KeyringFailure::Failed(format!("cannot start the keyring call: {e}")))?;
    match rx.recv_timeout(TIMEOUT) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(KeyringFailure::Failed(format!(
            "the OS keyring did not answer within {} s",
            TIMEOUT.as_secs()
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(KeyringFailure::Failed(
            "the keyring call stopped unexpectedly".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbus_session_detection() {
        let cases = [
            (Some("unix:path=/run/user/1000/bus"), true),
            (Some(""), false),
            (None, false),
        ];
        for (value, want) in cases {
            let lookup = |name: &str| {
                assert_eq!(name, "DBUS_SESSION_BUS_ADDRESS");
                value.map(OsString::from)
            };
            assert_eq!(has_dbus_session(lookup), want, "{value:?}");
            let reached = reachable(lookup).is_ok();
            assert_eq!(reached, want || !uses_secret_service(), "{value:?}");
        }
    }

    #[test]
    fn timeout_passes_results_through() {
        assert_eq!(with_timeout(|| Ok(7)), Ok(7));
        assert_eq!(
            with_timeout::<()>(|| Err(KeyringFailure::NoEntry)),
            Err(KeyringFailure::NoEntry)
        );
    }

    #[test]
    fn descriptions_never_carry_stored_bytes() {
        let stored = b"hunter2-secret".to_vec();
        let errors = [
            keyring::Error::BadEncoding(stored.clone()),
            keyring::Error::BadDataFormat(stored, "bad".into()),
        ];
        for e in &errors {
            let text = describe(e);
            assert!(!text.contains("hunter2") && !text.contains("104"), "{text}");
        }
        assert_eq!(failure(&keyring::Error::NoEntry), KeyringFailure::NoEntry);
    }
}
