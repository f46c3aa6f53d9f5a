use super::*;

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

fn get(file: &SecretsFile, account: &str) -> Option<String> {
    file.get(account)
        .expect("the secrets file reads")
        .map(|s| s.expose().to_owned())
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("the directory lists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn round_trip_keeps_every_account_and_odd_characters() {
    let dir = temp_dir();
    let file = SecretsFile::new(dir.path());
    let cases = [
        ("work", "plain-token"),
        ("quote", "has \"quotes\" and \\backslashes\\"),
        ("unicode", "pässwörd ✓ 密码"),
        ("control", "tab\there bell\u{7} nul\u{0} del\u{7f} c1\u{85}"),
        ("webhook", "https://hooks.slack.com/services/T1/B2/x?y=z#w"),
        ("odd\"key", "value"),
        ("[accounts]", "= not a table"),
    ];
    for (account, secret) in cases {
        file.put(account, &Secret::new(secret.to_owned()))
            .expect("put succeeds");
    }
    // Every earlier put survives every later one.
    for (account, secret) in cases {
        assert_eq!(get(&file, account).as_deref(), Some(secret), "{account}");
    }
    assert_eq!(get(&file, "absent"), None);
    // Nothing but the file is left behind: no temp file, no lock.
    assert_eq!(dir_listing(dir.path()), vec![FILE_NAME.to_owned()]);
}

#[test]
fn put_replaces_an_account_secret() {
    let dir = temp_dir();
    let file = SecretsFile::new(dir.path());
    for secret in ["first", "second"] {
        file.put("work", &Secret::new(secret.to_owned()))
            .expect("put succeeds");
    }
    assert_eq!(get(&file, "work").as_deref(), Some("second"));
}

#[test]
fn remove_is_idempotent_and_deletes_the_empty_file() {
    let dir = temp_dir();
    let file = SecretsFile::new(dir.path());
    // Nothing there yet: removing is fine.
    file.remove("a").expect("remove without a file");
    for account in ["a", "b"] {
        file.put(account, &Secret::new(format!("secret-{account}")))
            .expect("put succeeds");
    }
    let steps = [("a", true), ("a", true), ("missing", true), ("b", false)];
    for (account, file_remains) in steps {
        file.remove(account).expect("remove succeeds");
        assert_eq!(get(&file, account), None, "{account}");
        assert_eq!(
            file.path().exists(),
            file_remains,
            "after removing {account}"
        );
    }
    assert_eq!(dir_listing(dir.path()), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn file_is_0600_and_created_directories_0700() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let data_dir = dir.path().join("share").join("postctl");
    let file = SecretsFile::new(&data_dir);
    file.put("work", &Secret::new("token".to_owned()))
        .expect("put succeeds");
    let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    let cases = [
        (file.path().to_path_buf(), 0o600),
        (data_dir.clone(), 0o700),
        (dir.path().join("share"), 0o700),
    ];
    for (path, want) in cases {
        assert_eq!(mode(&path), want, "{}", path.display());
    }
    // A second write replaces the file and keeps it private.
    file.put("other", &Secret::new("token".to_owned()))
        .expect("put succeeds");
    assert_eq!(mode(file.path()), 0o600);
}

#[cfg(unix)]
#[test]
fn a_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let file = SecretsFile::new(dir.path());
    file.put("work", &Secret::new("token".to_owned()))
        .expect("put succeeds");
    for (mode, refused) in [
        (0o644, true),
        (0o640, true),
        (0o604, true),
        (0o600, false),
        (0o400, false),
    ] {
        fs::set_permissions(file.path(), fs::Permissions::from_mode(mode)).expect("chmod");
        let got = file.get("work");
        match got {
            Err(SecretError::Exposed { mode: m, .. }) => {
                assert!(refused, "{mode:o} refused");
                assert_eq!(m, mode);
                let message = got.err().map(|e| e.to_string()).unwrap_or_default();
                assert!(message.contains("chmod 600"), "{message}");
            }
            Ok(secret) => {
                assert!(!refused, "{mode:o} accepted");
                assert_eq!(
                    secret.map(|s| s.expose().to_owned()).as_deref(),
                    Some("token")
                );
            }
            Err(other) => panic!("{mode:o}: {other}"),
        }
    }
}

#[test]
fn malformed_file_error_shows_the_line_but_not_the_secret() {
    let dir = temp_dir();
    let file = SecretsFile::new(dir.path());
    let text = "[accounts]\nwork = \"fine\"\nbroken = \"hunter2-secret\n";
    write_private_file(file.path(), text.as_bytes()).expect("write the file");
    let message = file
        .get("work")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("is not a valid secrets file"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn a_held_lock_makes_writers_wait_then_give_up() {
    let dir = temp_dir();
    let path = dir.path().join(FILE_NAME);
    let held = lock(dir.path(), &path, Duration::ZERO).expect("first lock");
    let second = lock(dir.path(), &path, Duration::ZERO);
    let message = second.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("another postctl is writing"), "{message}");
    drop(held);
    assert!(
        lock(dir.path(), &path, Duration::ZERO).is_ok(),
        "released on drop"
    );
}

#[test]
fn a_stale_lock_is_cleared() {
    let dir = temp_dir();
    let lock_path = dir.path().join(format!("{FILE_NAME}.lock"));
    let stale = File::create(&lock_path).expect("create the lock");
    let old = SystemTime::now() - LOCK_STALE - Duration::from_secs(5);
    stale.set_modified(old).expect("age the lock");
    let file = SecretsFile::new(dir.path());
    file.put("work", &Secret::new("token".to_owned()))
        .expect("put clears the stale lock");
    assert_eq!(get(&file, "work").as_deref(), Some("token"));
    assert!(!lock_path.exists());
}

#[test]
fn concurrent_writers_lose_no_account() {
    let dir = temp_dir();
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let data_dir = dir.path().to_path_buf();
            thread::spawn(move || {
                SecretsFile::new(&data_dir)
                    .put(&format!("acct{i}"), &Secret::new(format!("secret{i}")))
            })
        })
        .collect();
    for writer in writers {
        writer
            .join()
            .expect("the writer thread finishes")
            .expect("put succeeds");
    }
    let file = SecretsFile::new(dir.path());
    for i in 0..8 {
        assert_eq!(get(&file, &format!("acct{i}")), Some(format!("secret{i}")));
    }
}
