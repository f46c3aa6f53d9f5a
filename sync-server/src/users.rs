//! Making users, their workspaces and their keys: what `postctl-server user add`, `key
//! create` and the API's first-run setup share.

use anyhow::{Context, bail};

use crate::auth::{self, keys};
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
    let user = User {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.to_string(),
        password_hash: auth::hash_password(password)?,
        admin,
        created_ms: now_ms(),
    };
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
    };
    storage.create_key(&key).await?;
    Ok((key, new.secret))
}
