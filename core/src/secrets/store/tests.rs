use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::*;

/// An in-memory keyring that works, is absent, or is there but fails; it counts calls
/// so tests can check that the file backend never touches it.
/// The entries, and how many calls were made.
type State = (HashMap<String, String>, usize);

#[derive(Clone)]
struct FakeKeyring {
    state: Arc<Mutex<State>>,
    mode: Mode,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Works,
    Absent,
    Broken,
}

impl FakeKeyring {
    fn new(mode: Mode) -> Self {
        FakeKeyring {
            state: Arc::default(),
            mode,
        }
    }

    fn call(&self) -> Result<std::sync::MutexGuard<'_, State>, KeyringFailure> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 += 1;
        match self.mode {
            Mode::Works => Ok(state),
            Mode::Absent => Err(KeyringFailure::Unavailable("no Secret Service".into())),
            Mode::Broken => Err(KeyringFailure::Failed("the keyring is locked".into())),
        }
    }

    fn calls(&self) -> usize {
        self.state.lock().map(|s| s.1).unwrap_or_default()
    }

    fn holds(&self, account: &str) -> Option<String> {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.0.get(account).cloned())
    }
}

impl Keyring for FakeKeyring {
    fn set(&self, account: &str, secret: &Secret) -> Result<(), KeyringFailure> {
        self.call()?
            .0
            .insert(account.to_owned(), secret.expose().to_owned());
        Ok(())
    }

    fn get(&self, account: &str) -> Result<Secret, KeyringFailure> {
        self.call()?
            .0
            .get(account)
            .map(|s| Secret::new(s.clone()))
            .ok_or(KeyringFailure::NoEntry)
    }

    fn delete(&self, account: &str) -> Result<(), KeyringFailure> {
        self.call()?
            .0
            .remove(account)
            .map(drop)
            .ok_or(KeyringFailure::NoEntry)
    }
}

fn store(dir: &Path, backend: Backend, keyring: &FakeKeyring) -> SecretStore {
    SecretStore::with_keyring(dir, backend, Box::new(keyring.clone()))
}

enum Put {
    /// Stored in the keyring, no notice.
    Keyring,
    /// Stored in the file; the notice (if any) contains this.
    File(Option<&'static str>),
    /// Refused with a message containing this.
    Error(&'static str),
}

#[test]
fn put_goes_where_the_backend_and_machine_allow() {
    let cases = [
        (Backend::File, Mode::Works, Put::File(None)),
        (Backend::Keyring, Mode::Works, Put::Keyring),
        (
            Backend::Keyring,
            Mode::Absent,
            Put::Error("no OS keyring is available (no Secret Service)"),
        ),
        (
            Backend::Keyring,
            Mode::Broken,
            Put::Error("the OS keyring failed for account \"work\" (the keyring is locked)"),
        ),
        (Backend::Auto, Mode::Works, Put::Keyring),
        (
            Backend::Auto,
            Mode::Absent,
            Put::File(Some(
                "no OS keyring here (no Secret Service); the secret is in",
            )),
        ),
        (
            Backend::Auto,
            Mode::Broken,
            Put::File(Some("the OS keyring failed (the keyring is locked)")),
        ),
    ];
    for (backend, mode, want) in cases {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let keyring = FakeKeyring::new(mode);
        let store = store(dir.path(), backend, &keyring);
        let label = format!("{backend:?} with a keyring that {mode:?}");
        let got = store.put("work", &Secret::new("tok-123456".into()));
        match (got, want) {
            (Ok((reference, notice)), Put::Keyring) => {
                assert_eq!(
                    reference,
                    SecretRef::Keyring {
                        account: "work".into()
                    },
                    "{label}"
                );
                assert_eq!(notice, None, "{label}");
                assert_eq!(
                    keyring.holds("work").as_deref(),
                    Some("tok-123456"),
                    "{label}"
                );
                assert!(!store.file_path().exists(), "{label}: no file copy");
            }
            (Ok((reference, notice)), Put::File(want_notice)) => {
                assert_eq!(
                    reference,
                    SecretRef::File {
                        account: "work".into()
                    },
                    "{label}"
                );
                match (notice, want_notice) {
                    (None, None) => {}
                    (Some(notice), Some(text)) => {
                        assert!(notice.contains(text), "{label}: {notice}");
                        assert!(
                            notice.contains(&store.file_path().display().to_string()),
                            "{label}: {notice}"
                        );
                        assert!(
                            notice.contains("mode 0600") && !notice.contains("tok-123456"),
                            "{label}: {notice}"
                        );
                    }
                    (got, want) => panic!("{label}: notice {got:?}, wanted {want:?}"),
                }
                assert_eq!(keyring.holds("work"), None, "{label}");
            }
            (Err(e), Put::Error(text)) => {
                assert!(e.to_string().contains(text), "{label}: {e}");
                assert!(!store.file_path().exists(), "{label}: nothing written");
                continue;
            }
            (Ok(got), _) => panic!("{label}: stored as {:?}", got.0),
            (Err(e), _) => panic!("{label}: {e}"),
        }
        // Whatever was stored reads back.
        let (reference, _) = store
            .put("work", &Secret::new("tok-654321".into()))
            .expect("second put");
        let back = store.get(&reference).map(|s| s.expose().to_owned());
        assert_eq!(back.ok().as_deref(), Some("tok-654321"), "{label}");
        if backend == Backend::File {
            assert_eq!(
                keyring.calls(),
                0,
                "{label}: the file backend never touches the keyring"
            );
        }
    }
}

#[test]
fn a_keyring_put_removes_an_older_file_copy() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let keyring = FakeKeyring::new(Mode::Works);
    store(dir.path(), Backend::File, &keyring)
        .put("work", &Secret::new("old".into()))
        .expect("file put");
    let auto = store(dir.path(), Backend::Auto, &keyring);
    let (reference, notice) = auto
        .put("work", &Secret::new("new".into()))
        .expect("keyring put");
    assert_eq!(
        reference,
        SecretRef::Keyring {
            account: "work".into()
        }
    );
    assert_eq!(notice, None);
    let old = auto.get(&SecretRef::File {
        account: "work".into(),
    });
    assert!(matches!(old, Err(SecretError::NotFound { .. })), "{old:?}");
}

#[test]
fn get_and_remove_errors() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let keyring = FakeKeyring::new(Mode::Works);
    let in_keyring = SecretRef::Keyring {
        account: "gone".into(),
    };
    let in_file = SecretRef::File {
        account: "gone".into(),
    };

    let auto = store(dir.path(), Backend::Auto, &keyring);
    let cases = [
        (
            auto.get(&in_keyring).err(),
            "no secret for account \"gone\" in the OS keyring",
        ),
        (
            auto.get(&in_file).err(),
            "no secret for account \"gone\" in",
        ),
    ];
    for (got, want) in cases {
        let message = got.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains(want) && message.contains("postctl accounts add"),
            "{message}"
        );
    }
    // Removing what is not there is fine, wherever it would have been.
    for reference in [&in_keyring, &in_file, &SecretRef::Env { var: "X".into() }] {
        assert!(auto.remove(reference).is_ok(), "{reference}");
    }

    // The file backend refuses to reach into the keyring, even to read.
    let calls = keyring.calls();
    let file_only = store(dir.path(), Backend::File, &keyring);
    for got in [
        file_only.get(&in_keyring).err(),
        file_only.remove(&in_keyring).err(),
    ] {
        let message = got.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("POSTCTL_SECRET_STORE=file keeps postctl away"),
            "{message}"
        );
    }
    assert_eq!(keyring.calls(), calls);

    let absent = store(dir.path(), Backend::Auto, &FakeKeyring::new(Mode::Absent));
    let message = absent
        .get(&in_keyring)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("no OS keyring is available"), "{message}");
}

#[test]
fn remove_deletes_from_keyring_and_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let keyring = FakeKeyring::new(Mode::Works);
    for backend in [Backend::Keyring, Backend::File] {
        let store = store(dir.path(), backend, &keyring);
        let (reference, _) = store.put("work", &Secret::new("tok".into())).expect("put");
        store.remove(&reference).expect("remove");
        assert!(
            store.get(&reference).is_err(),
            "{backend:?}: gone after remove"
        );
        store.remove(&reference).expect("second remove is fine");
    }
}

#[test]
fn put_rejects_unusable_account_keys() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = store(dir.path(), Backend::File, &FakeKeyring::new(Mode::Works));
    for account in ["", "has space", "tab\there"] {
        let got = store.put(account, &Secret::new("tok".into()));
        assert!(
            matches!(got, Err(SecretError::InvalidAccount { .. })),
            "{account:?}"
        );
    }
}

#[test]
fn env_secrets() {
    let cases: [(Option<&str>, Result<&str, &str>); 5] = [
        (Some("tok-abc"), Ok("tok-abc")),
        (Some("  tok-abc\n"), Ok("tok-abc")),
        (Some(""), Err("TG_TOKEN is empty: export TG_TOKEN=<secret>")),
        (Some(" \n"), Err("TG_TOKEN is empty")),
        (None, Err("TG_TOKEN is not set: export TG_TOKEN=<secret>")),
    ];
    for (value, want) in cases {
        let got = env_secret("TG_TOKEN", |name| {
            assert_eq!(name, "TG_TOKEN");
            value.map(OsString::from)
        });
        match (got, want) {
            (Ok(secret), Ok(text)) => assert_eq!(secret.expose(), text),
            (Err(e), Err(text)) => assert!(e.to_string().contains(text), "{e}"),
            (Ok(_), Err(text)) => panic!("{value:?}: accepted, wanted {text:?}"),
            (Err(e), Ok(_)) => panic!("{value:?}: {e}"),
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        let got = env_secret("TG_TOKEN", |_| Some(OsString::from_vec(vec![0xff, 0xfe])));
        assert!(
            matches!(got, Err(SecretError::EnvNotText { .. })),
            "{got:?}"
        );
    }
}

#[test]
fn env_refs_read_the_process_environment() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = store(dir.path(), Backend::Auto, &FakeKeyring::new(Mode::Works));
    let unset = SecretRef::Env {
        var: "POSTCTL_TEST_UNSET_VARIABLE_5F2C9".into(),
    };
    let message = store
        .get(&unset)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("export POSTCTL_TEST_UNSET_VARIABLE_5F2C9="),
        "{message}"
    );
    // PATH comes from outside the test process; reading it proves the real lookup.
    if let Some(path) = std::env::var_os("PATH").and_then(|p| p.into_string().ok()) {
        let got = store.get(&SecretRef::Env { var: "PATH".into() });
        assert_eq!(
            got.ok().map(|s| s.expose().to_owned()),
            Some(path.trim().to_owned())
        );
    }
}

#[test]
fn backends_parse() {
    let cases = [
        (Some("auto"), Some(Backend::Auto)),
        (Some("AUTO"), Some(Backend::Auto)),
        (Some(""), Some(Backend::Auto)),
        (None, Some(Backend::Auto)),
        (Some("keyring"), Some(Backend::Keyring)),
        (Some(" File "), Some(Backend::File)),
        (Some("vault"), None),
        (Some("files"), None),
    ];
    for (value, want) in cases {
        let got = backend_from(value.map(OsString::from));
        assert_eq!(got.as_ref().ok().copied(), want, "{value:?}");
        if let Err(e) = got {
            assert!(e.to_string().contains("use auto, keyring or file"), "{e}");
        }
    }
}

#[test]
fn debug_shows_no_secret_and_store_debug_is_plain() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = store(dir.path(), Backend::File, &FakeKeyring::new(Mode::Works));
    let (reference, _) = store
        .put("work", &Secret::new("tok-SECRET".into()))
        .expect("put");
    let secret = store.get(&reference).expect("get");
    for text in [
        format!("{secret:?}"),
        format!("{store:?}"),
        format!("{reference:?}"),
        reference.to_string(),
    ] {
        assert!(!text.contains("tok-SECRET"), "{text}");
    }
}

#[test]
fn the_public_constructor_with_the_file_backend_round_trips() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SecretStore::new(dir.path(), Backend::File);
    let (reference, notice) = store
        .put("work", &Secret::new("tok-file".into()))
        .expect("put");
    assert_eq!(
        (reference.to_string(), notice),
        ("file:work".to_owned(), None)
    );
    let back = store.get(&reference).map(|s| s.expose().to_owned());
    assert_eq!(back.ok().as_deref(), Some("tok-file"));
    assert_eq!(store.file_path(), dir.path().join("secrets.toml"));
}
