//! `postctl-server rotate-key`: seals every sealed value (accounts' credentials, users'
//! TOTP secrets, webhook signing secrets) under a new server key, in one transaction, then makes the new key the
//! one the server reads.
//!
//! The new key comes from `--new-key-file FILE` or standard input (base64 of 32 bytes).
//! Every value is opened with the current key first: if one does not open, nothing is
//! changed. Then all are replaced in one transaction, each only if it still holds what was
//! read (a value changed meanwhile rolls everything back: run it again). Last, with the
//! key file (`DATA/secret.key`), the file is replaced atomically; with
//! `POSTCTL_SERVER_KEY`, the operator sets the variable to the new key for every process.
//!
//! Servers must be stopped first: a running one keeps the old key in memory. On SQLite
//! this is checked with the data dir's lock (as `restore` does); with PostgreSQL, stop
//! every process sharing the database.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};

use crate::auth::sealed::{self, ServerKey};
use crate::config::Settings;
use crate::storage::{SealedKind, Storage};

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    pub credentials: usize,
    pub totp: usize,
    pub webhooks: usize,
    /// Notification channels' tokens (ntfy, Telegram).
    pub channels: usize,
    /// Workspaces' model keys (`generate`).
    pub ai_keys: usize,
}

/// Reads the new key from `file`, or from standard input.
pub fn read_new_key(file: Option<&Path>) -> anyhow::Result<(String, ServerKey)> {
    let (text, from) = match file {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("could not read the new key from {}", path.display()))?,
            path.display().to_string(),
        ),
        None => {
            let mut text = String::new();
            std::io::stdin()
                .take(1024)
                .read_to_string(&mut text)
                .context("could not read the new key from standard input")?;
            (text, "the new key on standard input".to_string())
        }
    };
    let key = sealed::decode_key(&text, &from)?;
    Ok((text.trim().to_string(), key))
}

/// Seals every sealed value in `storage` under `new` instead of `old`, in one transaction.
pub async fn reseal_all(
    storage: &dyn Storage,
    old: &ServerKey,
    new: &ServerKey,
) -> anyhow::Result<Rotated> {
    let values = storage.sealed_values().await?;
    let mut changes = Vec::with_capacity(values.len());
    let mut rotated = Rotated {
        credentials: 0,
        totp: 0,
        webhooks: 0,
        channels: 0,
        ai_keys: 0,
    };
    for value in values {
        let plain = old.open(&value.owner, &value.value).with_context(|| {
            let what = match value.kind {
                SealedKind::AccountCredentials => "the credentials of account",
                SealedKind::TotpSecret | SealedKind::TotpPending => "the TOTP secret of user",
                SealedKind::WebhookSecret | SealedKind::WebhookOldSecret => {
                    "the signing secret of webhook"
                }
                SealedKind::TriggerSecret => "the GitHub secret of trigger",
                SealedKind::ChannelSecret => "the token of notification channel",
                SealedKind::AiKey => "the model key of workspace",
            };
            format!(
                "{what} {} do not open with the current key; nothing was changed (is \
                 {} or {} the key the server runs with?)",
                value.owner,
                sealed::KEY_VAR,
                sealed::KEY_FILE
            )
        })?;
        let resealed = new.seal(&value.owner, &plain)?;
        match value.kind {
            SealedKind::AccountCredentials => rotated.credentials += 1,
            SealedKind::TotpSecret | SealedKind::TotpPending => rotated.totp += 1,
            SealedKind::WebhookSecret
            | SealedKind::WebhookOldSecret
            | SealedKind::TriggerSecret => rotated.webhooks += 1,
            SealedKind::ChannelSecret => rotated.channels += 1,
            SealedKind::AiKey => rotated.ai_keys += 1,
        }
        changes.push((value, resealed));
    }
    if !storage.reseal(&changes).await? {
        bail!(
            "a sealed value changed while the key was rotated (is a server still running?); \
             nothing was changed: stop every server and run rotate-key again"
        );
    }
    Ok(rotated)
}

/// The whole command.
pub async fn rotate(settings: &Settings, new_key_file: Option<&Path>) -> anyhow::Result<()> {
    let (text, new) = read_new_key(new_key_file)?;
    let from_env = std::env::var_os(sealed::KEY_VAR).is_some_and(|v| !v.is_empty());
    let _lock = match settings.database_url {
        None => Some(crate::backup::restore_lock(
            &settings.data_dir,
            "rotate-key",
        )?),
        Some(_) => None,
    };
    let old = ServerKey::load(&settings.data_dir)?;
    let storage = crate::storage::open(settings.database_url.as_deref(), &settings.sqlite_path())
        .await
        .with_context(|| format!("could not open the database ({})", settings.database()))?;
    let rotated = reseal_all(storage.as_ref(), &old, &new).await?;
    eprintln!(
        "resealed the credentials of {} account(s), {} TOTP secret(s), {} webhook and \
         trigger secret(s), {} notification channel token(s) and {} model key(s) under the \
         new key",
        rotated.credentials, rotated.totp, rotated.webhooks, rotated.channels, rotated.ai_keys
    );
    if from_env {
        eprintln!(
            "{} is set: set it to the new key for every postctl-server process before starting them",
            sealed::KEY_VAR
        );
    } else {
        ServerKey::replace_file(&settings.data_dir, &text).with_context(|| {
            format!(
                "the database is sealed under the new key now, but the key file was not \
                 replaced: write the new key into {} yourself (0600)",
                settings.data_dir.join(sealed::KEY_FILE).display()
            )
        })?;
        eprintln!(
            "{} now holds the new key; start the server again",
            settings.data_dir.join(sealed::KEY_FILE).display()
        );
    }
    Ok(())
}
