//! Making users, their workspaces and their keys: what `postctl-server user add`, `key
//! create` and the API's first-run setup share.

use anyhow::{Context, bail};

use crate::auth::sealed::ServerKey;
use crate::auth::{self, keys, totp};
use crate::storage::{ApiKey, KeyMode, Role, Scope, Storage, StorageError, User, Workspace};

/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 8;

/// Refuses names that would be awkward in URLs and commands.
pub fn check_name(what: &str, name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        bail!("{what} name {name:?} is not valid: use 1 to 64 letters, digits, '.', '_' or '-'");
    }
    Ok(())
}

pub fn check_password(password: &str) -> anyhow::Result<()> {
    if password.chars().count() < PASSWORD_MIN {
        bail!("the password is shorter than {PASSWORD_MIN} characters; choose a longer one");
    }
    Ok(())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Where a new user goes: a new workspace of their own (named after them, with them as
/// owner), or an existing workspace with a role.
#[derive(Debug, Clone)]
pub enum Membership {
    OwnWorkspace,
    Join { workspace: String, role: Role },
}

/// Creates a user with an argon2id password hash, and their membership.
pub async fn add_user(
    storage: &dyn Storage,
    name: &str,
    password: &str,
    admin: bool,
    membership: &Membership,
) -> anyhow::Result<(User, Workspace)> {
    check_name("the user", name)?;
    check_password(password)?;
    let joined = match membership {
        Membership::OwnWorkspace => None,
        Membership::Join { workspace, .. } => Some(
            storage
                .workspace_by_name(workspace)
                .await?
                .with_context(|| {
                    format!("there is no workspace {workspace:?}; leave out --workspace to give the user their own")
                })?,
        ),
    };
    let user = User::new(
        uuid::Uuid::now_v7().to_string(),
        name.to_string(),
        auth::hash_password(password)?,
        admin,
        now_ms(),
    );
    storage.create_user(&user).await.map_err(|e| match e {
        StorageError::Conflict(_) => anyhow::anyhow!("a user named {name:?} already exists"),
        other => other.into(),
    })?;
    let workspace = match (joined, membership) {
        (Some(workspace), Membership::Join { role, .. }) => {
            storage.set_member(&workspace.id, &user.id, *role).await?;
            workspace
        }
        _ => {
            let workspace = Workspace {
                id: uuid::Uuid::now_v7().to_string(),
                name: name.to_string(),
                created_ms: now_ms(),
            };
            storage
                .create_workspace(&workspace, &user.id)
                .await
                .map_err(|e| match e {
                    StorageError::Conflict(_) => anyhow::anyhow!(
                        "a workspace named {name:?} already exists; pass --workspace {name} to join it"
                    ),
                    other => other.into(),
                })?;
            workspace
        }
    };
    Ok((user, workspace))
}

/// What [`create_key`] needs.
#[derive(Debug, Clone)]
pub struct KeyRequest {
    pub user_id: String,
    pub workspace_id: String,
    pub name: Option<String>,
    pub mode: KeyMode,
    pub scopes: Vec<Scope>,
    pub expires_ms: Option<i64>,
    /// Requests a minute; `None` for the server's default.
    pub rate_per_minute: Option<u32>,
    /// CIDR networks the key may be used from (checked by [`parse_networks`]).
    pub allowed_ips: Vec<String>,
}

/// Creates a key and returns it with its secret, which is shown once and never stored.
pub async fn create_key(
    storage: &dyn Storage,
    request: KeyRequest,
) -> anyhow::Result<(ApiKey, String)> {
    if request.scopes.is_empty() {
        bail!(
            "a key needs at least one scope: {}",
            Scope::ALL.map(Scope::as_str).join(", ")
        );
    }
    let new = keys::generate(request.mode)?;
    let key = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: request.user_id,
        workspace_id: request.workspace_id,
        name: request.name,
        mode: request.mode,
        prefix: new.prefix,
        hash: new.hash,
        scopes: request.scopes,
        expires_ms: request.expires_ms,
        created_ms: now_ms(),
        revoked_ms: None,
        rate_per_minute: request.rate_per_minute,
        allowed_ips: request.allowed_ips,
        replaced_by: None,
    };
    storage.create_key(&key).await?;
    Ok((key, new.secret))
}

/// Reads an IP allowlist: CIDR networks (`203.0.113.0/24`, `2001:db8::/32`) or single
/// addresses, returned in their normal form.
pub fn parse_networks(items: &[String]) -> anyhow::Result<Vec<String>> {
    items
        .iter()
        .map(|item| {
            let item = item.trim();
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc().to_string())
                .map_err(|_| {
                    anyhow::anyhow!(
                        "{item:?} is not an IP network: write an address or CIDR such as 203.0.113.0/24"
                    )
                })
        })
        .collect()
}

/// How long a rotated key keeps working by default.
pub const ROTATION_GRACE_MS: i64 = 24 * 60 * 60 * 1000;

/// Rotates a key: a new key with the same user, workspace, scopes, expiry, rate limit and
/// allowlist, shown once; the old one keeps working for `grace_ms`, then stops.
pub async fn rotate_key(
    storage: &dyn Storage,
    old: &ApiKey,
    grace_ms: i64,
) -> anyhow::Result<(ApiKey, String)> {
    if old.revoked_ms.is_some() {
        bail!(
            "the key {} is revoked; create a new one instead",
            keys::display(&old.prefix)
        );
    }
    if old.replaced_by.is_some() {
        bail!(
            "the key {} was rotated already; rotate its successor instead",
            keys::display(&old.prefix)
        );
    }
    let now = now_ms();
    if old.expires_ms.is_some_and(|at| at <= now) {
        bail!(
            "the key {} has expired; create a new one instead",
            keys::display(&old.prefix)
        );
    }
    let new = keys::generate(old.mode)?;
    let key = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        prefix: new.prefix,
        hash: new.hash,
        created_ms: now,
        revoked_ms: None,
        replaced_by: None,
        ..old.clone()
    };
    if !storage
        .rotate_key(&old.id, &key, now.saturating_add(grace_ms))
        .await?
    {
        bail!(
            "the key {} was revoked or rotated meanwhile; `postctl-server key list` shows it",
            keys::display(&old.prefix)
        );
    }
    Ok((key, new.secret))
}

/// Replaces a user's password (ending their sessions) and forgets their failed sign-ins.
pub async fn set_password(
    storage: &dyn Storage,
    user: &User,
    password: &str,
) -> anyhow::Result<()> {
    check_password(password)?;
    let hash = auth::hash_password(password)?;
    if !storage.set_password(&user.id, &hash, now_ms()).await? {
        bail!("there is no user {:?} any more", user.name);
    }
    storage
        .clear_login_failures(&format!("user:{}", user.name))
        .await?;
    Ok(())
}

/// A started TOTP enrolment: what an authenticator app needs.
#[derive(Debug)]
pub struct Enrolment {
    pub uri: String,
    pub secret_base32: String,
}

/// Starts TOTP enrolment: a new secret, sealed and stored as pending. TOTP is required at
/// sign-in only once [`confirm_totp`] sees a code from it.
pub async fn begin_totp(
    storage: &dyn Storage,
    server_key: &ServerKey,
    user: &User,
) -> anyhow::Result<Enrolment> {
    let secret = totp::new_secret()?;
    let sealed = server_key.seal(&user.id, &secret)?;
    if !storage.begin_totp(&user.id, &sealed).await? {
        bail!("there is no user {:?} any more", user.name);
    }
    Ok(Enrolment {
        uri: totp::uri(&secret, &user.name)?,
        secret_base32: totp::secret_base32(&secret)?,
    })
}

/// Why a TOTP confirmation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("there is no TOTP enrolment to confirm; start one first")]
    NothingPending,
    #[error(
        "the code does not match; check the authenticator app's clock and enter the current code"
    )]
    WrongCode,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Confirms a pending enrolment with a current `code`: TOTP is then required at sign-in.
/// Returns the new recovery codes (the only time they are shown).
pub async fn confirm_totp(
    storage: &dyn Storage,
    server_key: &ServerKey,
    user: &User,
    code: &str,
) -> Result<Vec<String>, ConfirmError> {
    let pending = user
        .totp_pending
        .as_deref()
        .ok_or(ConfirmError::NothingPending)?;
    let secret = server_key.open(&user.id, pending)?;
    let now_s = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let step = totp::check(&secret, code, now_s).ok_or(ConfirmError::WrongCode)?;
    let codes = totp::new_recovery_codes()?;
    let hashes: Vec<String> = codes.iter().map(|(_, hash)| hash.clone()).collect();
    let step = i64::try_from(step).map_err(|_| ConfirmError::WrongCode)?;
    if !storage
        .confirm_totp(&user.id, pending, step, &hashes)
        .await
        .map_err(anyhow::Error::from)?
    {
        return Err(ConfirmError::NothingPending);
    }
    Ok(codes.into_iter().map(|(code, _)| code).collect())
}

/// Deletes a user (see [`Storage::delete_user`]). Refused while they are the only owner
/// of a workspace that has other members: someone must be able to manage it.
pub async fn delete_user(storage: &dyn Storage, user: &User) -> anyhow::Result<()> {
    for (workspace, role) in storage.workspaces_of(&user.id).await? {
        if role != Role::Owner {
            continue;
        }
        let members = storage.members(&workspace.id).await?;
        let owners = members.iter().filter(|m| m.role == Role::Owner).count();
        if owners == 1 && members.len() > 1 {
            bail!(
                "{} is the only owner of workspace {}; make another member owner first                  (PUT /api/v1/members/NAME with {{\"role\": \"owner\"}})",
                user.name,
                workspace.name
            );
        }
    }
    if !storage.delete_user(&user.id, now_ms()).await? {
        bail!("the user {:?} was deleted already", user.name);
    }
    Ok(())
}
