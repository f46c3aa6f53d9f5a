//! Accounts given entirely through the environment, for CI (no init, no database):
//!
//! ```text
//! POSTCTL_ACCOUNT_MASTO=mastodon:https://fosstodon.org   network, then the base URL if any
//! POSTCTL_ACCOUNT_MASTO_TOKEN=...                         the secret
//! POSTCTL_ACCOUNT_TG=telegram
//! POSTCTL_ACCOUNT_TG_CHAT=@mychannel                      other fields: _HANDLE, _CHANNEL, _ROOM, _BASE_URL
//! POSTCTL_ACCOUNT_VK=vk
//! POSTCTL_ACCOUNT_VK_OWNER_ID=-123456                     VK's wall; _FROM_GROUP=1 posts as the community
//! POSTCTL_ACCOUNT_THREADS=threads
//! POSTCTL_ACCOUNT_THREADS_USER_ID=26012345678901234       Instagram's and Threads' user id
//! POSTCTL_ACCOUNT_FB=facebook
//! POSTCTL_ACCOUNT_FB_PAGE_ID=104000000000001              the Page (its _TOKEN is the Page token)
//! ```

use postctl_core::model::Account;
use postctl_core::network::{AccountFields, AccountSettings, Network, validate_account};
use postctl_core::secrets::SecretRef;

use crate::context::Context;
use crate::exit::{CliError, CliResult};

const PREFIX: &str = "POSTCTL_ACCOUNT_";

/// The suffixes of the variables that hold an account's fields rather than define one.
const FIELDS: [&str; 10] = [
    "TOKEN",
    "BASE_URL",
    "HANDLE",
    "CHAT",
    "CHANNEL",
    "ROOM",
    "OWNER_ID",
    "FROM_GROUP",
    "USER_ID",
    "PAGE_ID",
];

/// An account described by environment variables.
#[derive(Debug, Clone)]
pub struct EnvAccount {
    /// The name used with --to: the variable's suffix in lowercase.
    pub name: String,
    pub network: Network,
    pub settings: AccountSettings,
    /// The variable holding the secret.
    pub token_var: String,
}

impl EnvAccount {
    /// The account as the commands that only read accounts (`check`, `lint`) use it,
    /// without storing it anywhere.
    pub fn account(&self) -> CliResult<Account> {
        Ok(Account {
            id: format!("env:{}", self.name),
            name: self.name.clone(),
            network: self.network,
            base_url: self.settings.base_url.clone(),
            handle: self.settings.handle.clone(),
            settings: self.settings.settings.clone(),
            secret_ref: SecretRef::env(&self.token_var)?.to_string(),
            created: chrono::DateTime::UNIX_EPOCH,
        })
    }
}

/// The accounts defined in the process's environment.
pub fn from_process() -> CliResult<Vec<EnvAccount>> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    env_accounts(&vars)
}

/// The accounts and groups `names` stand for, for commands that only read accounts
/// (`check`, `lint`): the database's first, then the environment's. With no database yet
/// and every name defined in the environment, no database is created.
pub fn resolve_for_reading(ctx: &mut Context, names: &[String]) -> CliResult<Vec<Account>> {
    let from_env = from_process()?;
    let mut resolved: Vec<Account> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let env = from_env.iter().find(|a| a.name == name);
        let known = match env {
            Some(_) if !ctx.paths.db_file.exists() => None,
            _ => match ctx.store()?.resolve_destinations(&[name.to_string()]) {
                Ok(accounts) => Some(accounts),
                Err(e) if env.is_none() => return Err(e.into()),
                Err(_) => None,
            },
        };
        let accounts = match (known, env) {
            (Some(accounts), _) => accounts,
            (None, Some(env)) => vec![env.account()?],
            (None, None) => Vec::new(),
        };
        for account in accounts {
            if !resolved.iter().any(|a| a.id == account.id) {
                resolved.push(account);
            }
        }
    }
    Ok(resolved)
}

/// Whether `account` was defined by the environment (its secret is in a
/// `POSTCTL_ACCOUNT_<NAME>_TOKEN` variable): CI mode, which keeps nothing on disk.
pub fn is_env_account(account: &postctl_core::model::Account) -> bool {
    account
        .secret_ref
        .strip_prefix("env:")
        .is_some_and(|var| var.starts_with(PREFIX) && var.ends_with("_TOKEN"))
}

/// Every account defined in `vars`; an invalid definition is an error naming the variable.
pub fn env_accounts(vars: &[(String, String)]) -> CliResult<Vec<EnvAccount>> {
    let lookup = |key: &str| {
        vars.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let defined = |key: &str| vars.iter().any(|(k, _)| k == key);
    let mut accounts = Vec::new();
    for (key, value) in vars {
        let Some(suffix) = key.strip_prefix(PREFIX) else {
            continue;
        };
        if let Some(definition) = field_of(key) {
            if defined(definition) {
                continue;
            }
            // Never echo the value: a field variable may hold the secret.
            return Err(CliError::usage(format!(
                "{key} is set but {definition} is not; define the account with {definition}=NETWORK[:URL], e.g. {definition}=mastodon:https://fosstodon.org"
            )));
        }
        let (network, base_url) = match value.split_once(':') {
            Some((network, rest)) => (network, Some(rest.to_string())),
            None => (value.as_str(), None),
        };
        let network = network.trim().parse::<Network>().map_err(|_| {
            let names: Vec<&str> = Network::ALL.iter().map(|n| n.name()).collect();
            // A network name is not a secret, but a value pasted into the wrong variable may
            // be: show it only when it looks like a misspelt name.
            let typed = network.trim();
            let shown = if !typed.is_empty()
                && typed.len() <= 20
                && typed.chars().all(|c| c.is_ascii_alphabetic())
            {
                format!(" {typed:?} is not a network postctl knows;")
            } else {
                " does not start with a network postctl knows;".to_string()
            };
            CliError::usage(format!(
                "{key}:{shown} write {key}=NETWORK[:URL] with one of: {}",
                names.join(", ")
            ))
        })?;
        let field = |name: &str| lookup(&format!("{key}_{name}"));
        let fields = AccountFields {
            base_url: base_url
                .filter(|u| !u.is_empty())
                .or_else(|| field("BASE_URL")),
            handle: field("HANDLE"),
            chat: field("CHAT"),
            channel: field("CHANNEL"),
            room: field("ROOM"),
            owner_id: field("OWNER_ID"),
            from_group: field("FROM_GROUP")
                .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes")),
            user_id: field("USER_ID"),
            page_id: field("PAGE_ID"),
            ..AccountFields::default()
        };
        let token_var = format!("{key}_TOKEN");
        let token = lookup(&token_var);
        let settings = validate_account(network, &fields, token.as_deref())
            .map_err(|e| CliError::usage(format!("{key}: {e}")))?;
        accounts.push(EnvAccount {
            name: suffix.to_ascii_lowercase(),
            network,
            settings,
            token_var,
        });
    }
    Ok(accounts)
}

/// The definition variable a field variable belongs to (`…_TG_CHAT` → `…_TG`), if `key`
/// ends in a field's name.
fn field_of(key: &str) -> Option<&str> {
    FIELDS.iter().find_map(|field| {
        key.strip_suffix(field)
            .and_then(|rest| rest.strip_suffix('_'))
            .filter(|definition| definition.len() > PREFIX.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn accounts_are_read_from_definitions_and_their_fields() {
        let accounts = env_accounts(&vars(&[
            ("POSTCTL_ACCOUNT_MASTO", "mastodon:https://fosstodon.org"),
            ("POSTCTL_ACCOUNT_MASTO_TOKEN", "secret-token"),
            ("POSTCTL_ACCOUNT_TG", "telegram"),
            ("POSTCTL_ACCOUNT_TG_CHAT", "@mychannel"),
            ("POSTCTL_ACCOUNT_TG_TOKEN", "123:abc"),
            ("HOME", "/root"),
        ]))
        .expect("accounts");
        let names: Vec<_> = accounts
            .iter()
            .map(|a| (a.name.as_str(), a.network))
            .collect();
        assert_eq!(
            names,
            [("masto", Network::Mastodon), ("tg", Network::Telegram)]
        );
        assert_eq!(
            accounts[0].settings.base_url.as_deref(),
            Some("https://fosstodon.org")
        );
        assert_eq!(accounts[0].token_var, "POSTCTL_ACCOUNT_MASTO_TOKEN");
        assert_eq!(accounts[1].settings.settings["chat"], "@mychannel");
    }

    #[test]
    fn a_threads_user_and_a_facebook_page_come_from_their_own_variables() {
        let accounts = env_accounts(&vars(&[
            ("POSTCTL_ACCOUNT_THREADS", "threads"),
            ("POSTCTL_ACCOUNT_THREADS_USER_ID", "26012345678901234"),
            ("POSTCTL_ACCOUNT_FB", "facebook"),
            ("POSTCTL_ACCOUNT_FB_PAGE_ID", "104000000000001"),
        ]))
        .expect("accounts");
        let settings: Vec<_> = accounts
            .iter()
            .map(|a| a.settings.settings.clone())
            .collect();
        assert!(
            settings.contains(&serde_json::json!({"user_id": "26012345678901234"})),
            "{settings:?}"
        );
        assert!(
            settings.contains(&serde_json::json!({"page_id": "104000000000001"})),
            "{settings:?}"
        );
    }

    #[test]
    fn a_vk_wall_and_posting_as_the_community_come_from_their_own_variables() {
        let accounts = env_accounts(&vars(&[
            ("POSTCTL_ACCOUNT_VK", "vk"),
            ("POSTCTL_ACCOUNT_VK_OWNER_ID", "-123456"),
            ("POSTCTL_ACCOUNT_VK_FROM_GROUP", "1"),
            ("POSTCTL_ACCOUNT_VK_TOKEN", "vk1.a.token"),
        ]))
        .expect("accounts");
        assert_eq!(accounts.len(), 1);
        assert_eq!(
            accounts[0].settings.settings,
            serde_json::json!({"owner_id": -123456, "from_group": true})
        );
    }

    #[test]
    fn an_incomplete_definition_names_its_variable() {
        let err = env_accounts(&vars(&[("POSTCTL_ACCOUNT_TG", "telegram")])).expect_err("no chat");
        assert!(err.to_string().starts_with("POSTCTL_ACCOUNT_TG:"), "{err}");
        assert!(err.to_string().contains("--chat"), "{err}");
    }

    #[test]
    fn a_misspelt_network_is_an_error_naming_the_variable() {
        let err = env_accounts(&vars(&[
            ("POSTCTL_ACCOUNT_TG", "telegarm"),
            ("POSTCTL_ACCOUNT_TG_CHAT", "@mychannel"),
        ]))
        .expect_err("misspelt network");
        let message = err.to_string();
        assert!(message.starts_with("POSTCTL_ACCOUNT_TG:"), "{message}");
        assert!(message.contains("\"telegarm\""), "{message}");
        assert!(message.contains("telegram"), "{message}");
    }

    #[test]
    fn a_field_without_its_definition_is_an_error_that_does_not_echo_the_value() {
        let err = env_accounts(&vars(&[("POSTCTL_ACCOUNT_TG_TOKEN", "123:very-secret")]))
            .expect_err("a token without an account");
        let message = err.to_string();
        assert!(message.contains("POSTCTL_ACCOUNT_TG="), "{message}");
        assert!(!message.contains("very-secret"), "{message}");
    }

    #[test]
    fn a_value_that_is_no_name_is_not_echoed() {
        let err = env_accounts(&vars(&[("POSTCTL_ACCOUNT_X", "ghp_0123456789secret")]))
            .expect_err("not a network");
        assert!(!err.to_string().contains("ghp_"), "{err}");
    }
}
