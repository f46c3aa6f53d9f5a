//! How a Discord or Slack account posts: through an incoming webhook, whose URL is the
//! secret, or as a bot, with a token, a channel from the account's settings and the API
//! address.

use serde_json::Value;

use super::PublishError;
use super::http::{api_base, endpoint};
use crate::model::Account;
use crate::secrets::Secret;

pub(super) enum Mode {
    /// The secret is the webhook URL (it carries the webhook's token).
    Webhook { url: Secret },
    Bot {
        base: String,
        token: Secret,
        channel: String,
    },
}

impl Mode {
    /// The mode the account was added with (`settings.mode`), holding its secret.
    /// `webhook_page` says where the network shows a webhook's URL, for the message when
    /// the secret is not one.
    pub(super) fn from_account(
        account: &Account,
        secret: Secret,
        webhook_page: &str,
    ) -> Result<Mode, PublishError> {
        let network = account.network;
        let broken = || {
            PublishError::permanent(format!(
                "the {} account {:?} is missing its mode or channel; add it again, e.g. {}",
                network.display_name(),
                account.name,
                network.example_add_command()
            ))
        };
        let settings = &account.settings;
        match settings.get("mode").and_then(Value::as_str) {
            Some("bot") => {
                let channel = settings
                    .get("channel")
                    .and_then(Value::as_str)
                    .filter(|c| !c.is_empty())
                    .ok_or_else(broken)?
                    .to_owned();
                Ok(Mode::Bot {
                    base: api_base(account)?,
                    token: secret,
                    channel,
                })
            }
            Some("webhook") => {
                endpoint(secret.expose(), &[]).map_err(|_| {
                    PublishError::auth(format!(
                        "the secret of the {} account {:?} is not a webhook URL; add the account again with the URL from {webhook_page}",
                        network.display_name(),
                        account.name
                    ))
                })?;
                Ok(Mode::Webhook { url: secret })
            }
            _ => Err(broken()),
        }
    }

    pub(super) fn is_bot(&self) -> bool {
        matches!(self, Mode::Bot { .. })
    }

    /// Whether the account was added as a bot (`settings.mode`), known without its secret.
    pub(super) fn names_bot(account: &Account) -> bool {
        account.settings.get("mode").and_then(Value::as_str) == Some("bot")
    }
}
