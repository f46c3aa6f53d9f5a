//! `secrets.toml`: the fallback store, one `[accounts]` table of name = secret.
//!
//! The file is only ever replaced whole: a temp file created 0600 in the same directory,
//! written, synced, then renamed over the old one, so a crash leaves the old file or the
//! new one, never half of either. A lock file keeps two postctl processes (the daemon
//! saving a refreshed token, the user adding an account) from losing each other's update.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, SystemTime};

use zeroize::Zeroizing;

use super::{Secret, SecretError};

pub(super) const FILE_NAME: &str = "secrets.toml";

/// How long to wait for another process's lock, and when a lock is old enough to be
/// left over from a crash (a write takes milliseconds).
const LOCK_WAIT: Duration = Duration::from_secs(5);
const LOCK_STALE: Duration = Duration::from_secs(30);

/// The entries of the file; every secret is zeroed when this is dropped.
type Entries = BTreeMap<String, Zeroizing<String>>;

#[derive(serde::Deserialize)]
struct Contents {
    #[serde(default)]
    accounts: BTreeMap<String, String>,
}

pub(super) struct SecretsFile {
    dir: PathBuf,
    path: PathBuf,
}

impl SecretsFile {
    pub fn new(data_dir: &Path) -> Self {
        SecretsFile {
            dir: data_dir.to_path_buf(),
            path: data_dir.join(FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, account: &str) -> Result<Option<Secret>, SecretError> {
        let mut entries = self.read()?;
        Ok(entries
            .remove(account)
            .map(|mut s| Secret::new(std::mem::take(&mut *s))))
    }

    pub fn contains(&self, account: &str) -> Result<bool, SecretError> {
        Ok(self.read()?.contains_key(account))
    }

    pub fn put(&self, account: &str, secret: &Secret) -> Result<(), SecretError> {
        create_private_dir(&self.dir)?;
        let _lock = self.lock()?;
        let mut entries = self.read()?;
        entries.insert(
            account.to_owned(),
            Zeroizing::new(secret.expose().to_owned()),
        );
        self.write(&entries)
    }

    /// Removes the account's entry; a missing file or entry is not an error. The file
    /// is deleted when its last entry goes.
    pub fn remove(&self, account: &str) -> Result<(), SecretError> {
        if !self.path.exists() {
            return Ok(());
        }
        let _lock = self.lock()?;
        let mut entries = self.read()?;
        if entries.remove(account).is_none() {
            return Ok(());
        }
        if entries.is_empty() {
            return match fs::remove_file(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(self.error("delete", e)),
                _ => Ok(()),
            };
        }
        self.write(&entries)
    }

    fn read(&self) -> Result<Entries, SecretError> {
        let text = match fs::read(&self.path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Entries::new()),
            Err(e) => return Err(self.error("read", e)),
        };
        check_private(&self.path)?;
        let malformed = |problem: String| SecretError::Malformed {
            path: self.path.clone(),
            problem,
        };
        let text =
            std::str::from_utf8(&text).map_err(|_| malformed("it is not UTF-8 text".into()))?;
        // The parser's message quotes the offending line, which may hold a secret, so
        // only the line number is passed on.
        let contents: Contents = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|span| {
                let before = &text.as_bytes()[..span.start.min(text.len())];
                1 + before.iter().filter(|&&b| b == b'\n').count()
            });
            malformed(match line {
                Some(line) => format!("a TOML error at line {line}; entries look like `name = \"secret\"` under [accounts]"),
                None => "it is not valid TOML; entries look like `name = \"secret\"` under [accounts]".into(),
            })
        })?;
        Ok(contents
            .accounts
            .into_iter()
            .map(|(account, secret)| (account, Zeroizing::new(secret)))
            .collect())
    }

    fn write(&self, entries: &Entries) -> Result<(), SecretError> {
        let text = render(entries);
        let tmp = self
            .dir
            .join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
        let written =
            write_private_file(&tmp, text.as_bytes()).and_then(|()| fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            // Best effort: the temp file holds secrets, do not leave it behind.
            let _ = fs::remove_file(&tmp);
            return Err(self.error("write", e));
        }
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    fn lock(&self) -> Result<LockFile, SecretError> {
        lock(&self.dir, &self.path, LOCK_WAIT)
    }

    fn error(&self, action: &'static str, source: io::Error) -> SecretError {
        SecretError::File {
            action,
            path: self.path.clone(),
            source,
        }
    }
}

/// Takes the lock next to `path` by creating the lock file exclusively, waiting up to
/// `wait` for another holder, and clearing a lock left by a crashed process.
fn lock(dir: &Path, path: &Path, wait: Duration) -> Result<LockFile, SecretError> {
    let lock = dir.join(format!("{FILE_NAME}.lock"));
    let deadline = SystemTime::now() + wait;
    loop {
        match OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(_) => return Ok(LockFile(lock)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if is_stale(&lock) {
                    let _ = fs::remove_file(&lock);
                    continue;
                }
                if SystemTime::now() >= deadline {
                    return Err(SecretError::Busy {
                        path: path.to_path_buf(),
                        lock,
                    });
                }
                thread::sleep(Duration::from_millis(50));
            }
            Err(source) => {
                return Err(SecretError::File {
                    action: "create a lock file next to",
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
}

/// Held while the file is being rewritten; deleting the lock file releases it.
struct LockFile(PathBuf);

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn is_stale(lock: &Path) -> bool {
    fs::metadata(lock)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age > LOCK_STALE)
}

/// The file's text, built by hand into one zeroed buffer sized up front, so no
/// reallocation leaves a copy of a secret behind.
fn render(entries: &Entries) -> Zeroizing<String> {
    const HEADER: &str = "# postctl secrets: one line per account. Keep this file private (mode 0600).\n\
                          # Written by postctl; comments you add here are not kept.\n\n[accounts]\n";
    // Escaping turns one character into at most six (\uXXXX).
    let capacity = HEADER.len()
        + entries
            .iter()
            .map(|(k, v)| 6 * (k.len() + v.len()) + 8)
            .sum::<usize>();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    out.push_str(HEADER);
    for (account, secret) in entries {
        push_toml_string(&mut out, account);
        out.push_str(" = ");
        push_toml_string(&mut out, secret);
        out.push('\n');
    }
    out
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
fn push_toml_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                use std::fmt::Write as _;
                // Writing to a String cannot fail; control characters fit in four digits.
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // A temp file left by a crashed run with the same pid would block create_new.
    let _ = fs::remove_file(path);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates the data directory (and missing parents) as 0700; an existing one is left
/// as the user set it up.
fn create_private_dir(dir: &Path) -> Result<(), SecretError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| SecretError::File {
        action: "create the directory for",
        path: dir.join(FILE_NAME),
        source,
    })
}

/// Refuses a secrets file that others can read, as ssh does with keys: better to stop
/// and say `chmod 600` than to keep using a leaked file silently.
fn check_private(path: &Path) -> Result<(), SecretError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|source| SecretError::File {
                action: "inspect",
                path: path.to_path_buf(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(SecretError::Exposed {
                path: path.to_path_buf(),
                mode: mode & 0o777,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests;
