//! Discord and Slack accounts, which post through a webhook or a bot, and the shape
//! checks of secrets.

use serde_json::json;

use super::flags::{DISCORD_CHANNEL, SLACK_CHANNEL};
use super::values::api_base_url;
use super::{AccountError, bad_secret, invalid};
use crate::network::shape::{self, Url};
use crate::network::{AccountFields, AccountSettings, Network};

/// Discord and Slack: with `--channel` a bot posts (secret: bot token); without it the
/// secret is an incoming-webhook URL, which carries its own address.
pub(super) fn two_mode_account(
    network: Network,
    fields: &AccountFields,
    secret: Option<&str>,
    handle: Option<String>,
) -> Result<AccountSettings, AccountError> {
    let secret = secret.map(str::trim);
    let Some(channel) = fields.channel.as_deref().map(str::trim) else {
        if fields.base_url.is_some() {
            return Err(AccountError::NotApplicable {
                flag: "--base-url",
                network,
                hint: " in webhook mode: the webhook URL already says where to post (add --channel for bot mode)",
            });
        }
        if let Some(secret) = secret {
            check_webhook(network, secret)?;
        }
        return Ok(AccountSettings {
            base_url: None,
            handle,
            settings: json!({ "mode": "webhook" }),
        });
    };
    let channel = if network == Network::Discord {
        let valid = shape::is_digits(channel) && channel.parse::<u64>().is_ok_and(|id| id != 0);
        valid
            .then(|| channel.to_owned())
            .ok_or_else(|| invalid(DISCORD_CHANNEL, network, channel))?
    } else {
        slack_channel(channel).ok_or_else(|| invalid(SLACK_CHANNEL, network, channel))?
    };
    if let Some(secret) = secret {
        check_bot_token(network, secret)?;
    }
    Ok(AccountSettings {
        base_url: api_base_url(network, fields)?,
        handle,
        settings: json!({ "mode": "bot", "channel": channel }),
    })
}

/// `C0123ABC`-style ids (C public, G private, D direct) as given; names get their `#`.
fn slack_channel(channel: &str) -> Option<String> {
    let is_id = channel.len() >= 9
        && channel.starts_with(['C', 'G', 'D'])
        && channel
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if is_id {
        return Some(channel.to_owned());
    }
    let name = channel.strip_prefix('#').unwrap_or(channel);
    let valid = (1..=80).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
    valid.then(|| format!("#{name}"))
}

fn check_webhook(network: Network, secret: &str) -> Result<(), AccountError> {
    let url = Url::parse(secret);
    let ok = match network {
        Network::Discord => url.as_ref().is_ok_and(shape::is_discord_webhook),
        _ => url.as_ref().is_ok_and(shape::is_slack_webhook),
    };
    if ok {
        return Ok(());
    }
    let looks_like_url = url.is_ok();
    let rule = match (network, looks_like_url) {
        (Network::Discord, true) => {
            "without --channel the secret must be a webhook URL like https://discord.com/api/webhooks/<id>/<token> (Server Settings > Integrations > Webhooks)"
        }
        (Network::Discord, false) => {
            "without --channel the secret must be a webhook URL; for a bot token add --channel <channel id>"
        }
        (_, true) => {
            "without --channel the secret must be an incoming-webhook URL like https://hooks.slack.com/services/T…/B…/…"
        }
        (_, false) if secret.starts_with("xox") => {
            "that is a Slack token; for bot mode add --channel <channel id or #name>, or give an incoming-webhook URL"
        }
        (_, false) => {
            "without --channel the secret must be an incoming-webhook URL like https://hooks.slack.com/services/T…/B…/…"
        }
    };
    Err(AccountError::InvalidSecret {
        network,
        kind: "webhook URL",
        rule,
    })
}

fn check_bot_token(network: Network, secret: &str) -> Result<(), AccountError> {
    let rule = if Url::parse(secret).is_ok() {
        "with --channel the secret must be a bot token, not a URL; drop --channel to post through a webhook"
    } else if network == Network::Slack && !secret.starts_with("xoxb-") {
        "with --channel the secret must be a bot token starting with xoxb- (OAuth & Permissions > Bot User OAuth Token)"
    } else {
        return Ok(());
    };
    Err(AccountError::InvalidSecret {
        network,
        kind: "bot token",
        rule,
    })
}

/// Shape checks for networks whose secrets have one; the rest are checked by the
/// network when the account is verified.
pub(super) fn check_secret(network: Network, secret: &str) -> Result<(), AccountError> {
    match network {
        Network::Nostr if secret.starts_with("npub1") => Err(bad_secret(
            network,
            "that is a public key (npub1…); give the secret key (nsec1…) instead",
        )),
        Network::Nostr if !shape::is_nostr_secret_key(secret) => Err(bad_secret(
            network,
            "expected nsec1… (63 characters, bech32 with a valid checksum) or 64 hex characters",
        )),
        Network::Webhook => crate::platforms::webhook::SigningKey::parse(secret)
            .map(|_| ())
            .map_err(|rule| bad_secret(network, rule)),
        _ => Ok(()),
    }
}
