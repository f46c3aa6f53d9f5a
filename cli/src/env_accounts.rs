//! Accounts given entirely through the environment, for CI (no init, no database):
//!
//! ```text
//! POSTCTL_ACCOUNT_MASTO=mastodon:https://fosstodon.org   network, then the base URL if any
//! POSTCTL_ACCOUNT_MASTO_TOKEN=...                         the secret
//! POSTCTL_ACCOUNT_TG=telegram
//! POSTCTL_ACCOUNT_TG_CHAT=@mychannel                      other fields: _HANDLE, _CHANNEL, _ROOM, _BASE_URL
//! ```

use postctl_core::network::{AccountFields, AccountSettings, Network, validate_account};

use crate::exit::{CliError, CliResult};

const PREFIX: &str = "POSTCTL_ACCOUNT_";

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
    let mut accounts = Vec::new();
    for (key, value) in vars {
        let Some(suffix) = key.strip_prefix(PREFIX) else {
            continue;
        };
        let (network, base_url) = match value.split_once(':') {
            Some((network, rest)) => (network, Some(rest.to_string())),
            None => (value.as_str(), None),
        };
        // Field variables (…_TOKEN, …_CHAT) hold other values: only definitions parse.
        let Ok(network) = network.trim().parse::<Network>() else {
            continue;
        };
        let field = |name: &str| lookup(&format!("{key}_{name}"));
        let fields = AccountFields {
            base_url: base_url
                .filter(|u| !u.is_empty())
                .or_else(|| field("BASE_URL")),
            handle: field("HANDLE"),
            chat: field("CHAT"),
            channel: field("CHANNEL"),
            room: field("ROOM"),
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
    fn an_incomplete_definition_names_its_variable() {
        let err = env_accounts(&vars(&[("POSTCTL_ACCOUNT_TG", "telegram")])).expect_err("no chat");
        assert!(err.to_string().starts_with("POSTCTL_ACCOUNT_TG:"), "{err}");
        assert!(err.to_string().contains("--chat"), "{err}");
    }
}
