//! Validation of `postctl accounts add`: which flags each network needs, and their shapes.

use serde_json::{Value, json};

use super::{AccountFields, AccountSettings, Network};

mod flags;
mod modes;
mod values;

use flags::{
    FACEBOOK_PAGE, FlagSpec, INSTAGRAM_USER, LINKEDIN_AUTHOR, MATRIX_ROOM, REDDIT_SUBREDDIT,
    TELEGRAM_CHAT, THREADS_USER, VK_OWNER, reject_inapplicable,
};
use modes::{check_secret, two_mode_account};
use values::{
    api_base_url, bluesky_handle, display_handle, is_linkedin_author, is_matrix_room, nostr_relays,
    numeric_id, required_base_url, subreddit, telegram_chat,
};

/// Why an account cannot be added as given. Messages name the flag to fix and never
/// contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error(
        "account name {name:?} is not valid: use 1-32 characters of a-z, 0-9, '-' and '_', starting with a letter or digit, e.g. --name work-mastodon{suggestion}"
    )]
    InvalidName { name: String, suggestion: String },

    #[error("{flag} does not apply to {network} accounts{hint}")]
    NotApplicable {
        flag: &'static str,
        network: Network,
        hint: &'static str,
    },

    #[error("{flag} is required for {network} accounts ({what}), e.g. {example}")]
    Missing {
        flag: &'static str,
        network: Network,
        what: &'static str,
        example: &'static str,
    },

    #[error("{flag} {value:?} is not valid for {network}: {rule}")]
    InvalidValue {
        flag: &'static str,
        network: Network,
        value: String,
        rule: &'static str,
    },

    #[error("{flag} is not usable for {network}: {problem}")]
    InvalidUrl {
        flag: &'static str,
        network: Network,
        problem: String,
    },

    #[error("the {kind} given for this {network} account is not valid (not shown here): {rule}")]
    InvalidSecret {
        network: Network,
        kind: &'static str,
        rule: &'static str,
    },
}

/// Whether `name` is a name postctl gives things the user names (accounts, groups, voices):
/// 1–32 characters of `[a-z0-9_-]`, starting with a letter or digit.
pub fn is_valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

/// Checks an account name (the user's alias for the account); see [`is_valid_name`].
pub fn validate_account_name(name: &str) -> Result<(), AccountError> {
    if is_valid_name(name) {
        return Ok(());
    }
    // Most mistakes are capitals or spaces; offer the fixed name when that is all it takes.
    let fixed: String = name
        .trim()
        .chars()
        .map(|c| {
            if c == ' ' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let suggestion = if fixed != name && validate_account_name(&fixed).is_ok() {
        format!(" (try --name {fixed})")
    } else {
        String::new()
    };
    Err(AccountError::InvalidName {
        name: name.to_owned(),
        suggestion,
    })
}

/// Validates `fields` for `network` and returns what the accounts table stores.
///
/// `secret` is the plaintext secret when the user gave it now (stdin), or `None` when
/// only an env var name was given and the variable is unset; secret-shape checks are
/// skipped then. Checks run in a fixed order (flags that do not apply, an empty secret,
/// required flags, their values, the secret's shape) and the first failure is returned.
pub fn validate_account(
    network: Network,
    fields: &AccountFields,
    secret: Option<&str>,
) -> Result<AccountSettings, AccountError> {
    reject_inapplicable(network, fields)?;
    if secret.is_some_and(|s| s.trim().is_empty()) {
        return Err(bad_secret(network, "it is empty"));
    }
    let handle = match network {
        Network::Bluesky => Some(bluesky_handle(fields)?),
        _ => fields
            .handle
            .as_deref()
            .map(|h| display_handle(network, h))
            .transpose()?,
    };
    let account = |base_url: Option<String>, settings: Value| AccountSettings {
        base_url,
        handle: handle.clone(),
        settings,
    };
    let settings = match network {
        Network::X | Network::Devto | Network::Bluesky => {
            account(api_base_url(network, fields)?, json!({}))
        }
        Network::Mastodon | Network::Webhook => {
            account(Some(required_base_url(network, fields)?), json!({}))
        }
        Network::Telegram => {
            let chat = required(network, fields.chat.as_deref(), TELEGRAM_CHAT)?;
            let chat = telegram_chat(chat).ok_or_else(|| invalid(TELEGRAM_CHAT, network, chat))?;
            account(api_base_url(network, fields)?, json!({ "chat": chat }))
        }
        Network::Discord | Network::Slack => {
            return two_mode_account(network, fields, secret, handle.clone());
        }
        Network::Vk => {
            let owner = required(network, fields.owner_id.as_deref(), VK_OWNER)?;
            let owner = owner
                .parse::<i64>()
                .ok()
                .filter(|&id| {
                    id != 0 && owner.starts_with(|c: char| c == '-' || c.is_ascii_digit())
                })
                .ok_or_else(|| invalid(VK_OWNER, network, owner))?;
            let settings = match (fields.from_group, owner < 0) {
                (false, _) => json!({ "owner_id": owner }),
                (true, true) => json!({ "owner_id": owner, "from_group": true }),
                (true, false) => {
                    return Err(AccountError::NotApplicable {
                        flag: "--from-group",
                        network,
                        hint: " posting on a person's wall: it posts as the community, so it needs a community's --owner-id (negative, e.g. -123456)",
                    });
                }
            };
            account(api_base_url(network, fields)?, settings)
        }
        Network::Instagram | Network::Threads => {
            let spec = if network == Network::Instagram {
                INSTAGRAM_USER
            } else {
                THREADS_USER
            };
            let user = numeric_id(network, fields.user_id.as_deref(), spec)?;
            account(api_base_url(network, fields)?, json!({ "user_id": user }))
        }
        Network::Facebook => {
            let page = numeric_id(network, fields.page_id.as_deref(), FACEBOOK_PAGE)?;
            account(api_base_url(network, fields)?, json!({ "page_id": page }))
        }
        Network::Linkedin => {
            let author = required(network, fields.author.as_deref(), LINKEDIN_AUTHOR)?;
            if !is_linkedin_author(author) {
                return Err(invalid(LINKEDIN_AUTHOR, network, author));
            }
            account(api_base_url(network, fields)?, json!({ "author": author }))
        }
        Network::Matrix => {
            let base = required_base_url(network, fields)?;
            let room = required(network, fields.room.as_deref(), MATRIX_ROOM)?;
            if !is_matrix_room(room) {
                return Err(invalid(MATRIX_ROOM, network, room));
            }
            account(Some(base), json!({ "room": room }))
        }
        Network::Nostr => account(None, json!({ "relays": nostr_relays(fields)? })),
        Network::Reddit => {
            let given = required(network, fields.subreddit.as_deref(), REDDIT_SUBREDDIT)?;
            let name = subreddit(given).ok_or_else(|| invalid(REDDIT_SUBREDDIT, network, given))?;
            account(api_base_url(network, fields)?, json!({ "subreddit": name }))
        }
    };
    if let Some(secret) = secret {
        check_secret(network, secret.trim())?;
    }
    Ok(settings)
}

fn required(network: Network, value: Option<&str>, spec: FlagSpec) -> Result<&str, AccountError> {
    let Some(value) = value else {
        return Err(AccountError::Missing {
            flag: spec.flag,
            network,
            what: spec.what,
            example: network.example_add_command(),
        });
    };
    Ok(value.trim())
}

fn invalid(spec: FlagSpec, network: Network, value: &str) -> AccountError {
    AccountError::InvalidValue {
        flag: spec.flag,
        network,
        value: value.to_owned(),
        rule: spec.rule,
    }
}

fn bad_secret(network: Network, rule: &'static str) -> AccountError {
    AccountError::InvalidSecret {
        network,
        kind: network.secret_kind(),
        rule,
    }
}

#[cfg(test)]
mod tests;
