//! The networks postctl publishes to, and what an account on each one needs.
//!
//! `postctl accounts add NETWORK --name NAME [flags]` collects [`AccountFields`];
//! [`validate_account`] checks them against the network and turns them into the
//! [`AccountSettings`] stored in the accounts table. The secret itself never goes
//! there: it goes to the secret store (`crate::secrets`), and the database keeps only
//! a reference to it.
//!
//! What each network needs (the secret always comes from `--token-stdin` or an env var,
//! never from a flag):
//!
//! | Network   | Required flags                                      | Optional flags                       | Secret                                     |
//! |-----------|-----------------------------------------------------|--------------------------------------|--------------------------------------------|
//! | x         |                                                     | --base-url, --handle                 | access token                               |
//! | mastodon  | --instance                                          | --handle                             | access token                               |
//! | bluesky   | --handle (me.bsky.social or did:plc:…)              | --pds                                | app password                               |
//! | telegram  | --chat (@channel or -1001234567890)                 | --base-url, --handle                 | bot token                                  |
//! | discord   | none (webhook) or --channel ID (bot)                | --base-url (bot), --handle           | webhook URL, or bot token with --channel   |
//! | vk        | --owner-id (negative for a community)               | --from-group, --base-url, --handle   | access token                               |
//! | instagram | --ig-user-id (alias of --user-id)                   | --base-url, --handle                 | access token                               |
//! | facebook  | --page-id (chosen from the user token's Pages)      | --base-url, --handle                 | user token → Page token, or a Page token   |
//! | linkedin  | --author (urn:li:person:… or urn:li:organization:…) | --base-url, --handle                 | access token                               |
//! | threads   | --user-id                                           | --base-url, --handle                 | access token                               |
//! | slack     | none (webhook) or --channel (bot)                   | --base-url (bot), --handle           | webhook URL, or xoxb- token with --channel |
//! | matrix    | --homeserver, --room                                | --handle                             | access token                               |
//! | nostr     | --relay (repeat for more relays)                    | --handle                             | secret key (nsec1… or 64 hex)              |
//! | reddit    | --subreddit                                         | --base-url, --handle                 | access token                               |
//! | devto     |                                                     | --base-url (another Forem), --handle | API key                                    |
//! | webhook   | --base-url (where to POST)                          | --handle                             | signing key (HMAC-SHA256)                  |
//!
//! `--base-url` has the aliases `--instance`, `--pds`, `--homeserver` and `--api-url`;
//! every network with an HTTP API accepts it, so an adapter can be pointed at a local
//! server (plain `http://` is accepted only for `localhost`, `127.0.0.1` and `[::1]`).
//!
//! `settings` in [`AccountSettings`] holds the network-specific fields:
//! telegram `{"chat": "@name" | "-100…"}`, discord and slack `{"mode": "webhook"}` or
//! `{"mode": "bot", "channel": "…"}`, vk `{"owner_id": -123}` (a number, with `"from_group": true` when posts appear as the community's),
//! instagram and threads `{"user_id": "…"}`, facebook `{"page_id": "…"}`,
//! linkedin `{"author": "urn:li:…"}`, matrix `{"room": "…"}`, nostr `{"relays": [...]}`,
//! reddit `{"subreddit": "…"}`, and `{}` for the rest (webhook included: its address is
//! the base URL, its secret the key that signs each request).

mod account;
mod again;
mod shape;

use std::fmt;
use std::str::FromStr;

pub use account::{AccountError, is_valid_name, validate_account, validate_account_name};
pub use again::{add_again_command, add_again_with, shell_word};

/// A network postctl can publish to. Serialized as its lowercase [`Network::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    X,
    Mastodon,
    Bluesky,
    Telegram,
    Discord,
    Vk,
    Instagram,
    Facebook,
    Linkedin,
    Threads,
    Slack,
    Matrix,
    Nostr,
    Reddit,
    Devto,
    /// A generic signed JSON webhook, for anything postctl has no adapter for.
    Webhook,
}

impl Network {
    /// Every network, in the order help texts list them.
    pub const ALL: [Network; 16] = [
        Network::X,
        Network::Mastodon,
        Network::Bluesky,
        Network::Telegram,
        Network::Discord,
        Network::Vk,
        Network::Instagram,
        Network::Facebook,
        Network::Linkedin,
        Network::Threads,
        Network::Slack,
        Network::Matrix,
        Network::Nostr,
        Network::Reddit,
        Network::Devto,
        Network::Webhook,
    ];

    /// The name users type and the database stores.
    pub fn name(self) -> &'static str {
        match self {
            Network::X => "x",
            Network::Mastodon => "mastodon",
            Network::Bluesky => "bluesky",
            Network::Telegram => "telegram",
            Network::Discord => "discord",
            Network::Vk => "vk",
            Network::Instagram => "instagram",
            Network::Facebook => "facebook",
            Network::Linkedin => "linkedin",
            Network::Threads => "threads",
            Network::Slack => "slack",
            Network::Matrix => "matrix",
            Network::Nostr => "nostr",
            Network::Reddit => "reddit",
            Network::Devto => "devto",
            Network::Webhook => "webhook",
        }
    }

    /// The name as the network writes it, for tables and the TUI.
    pub fn display_name(self) -> &'static str {
        match self {
            Network::X => "X",
            Network::Mastodon => "Mastodon",
            Network::Bluesky => "Bluesky",
            Network::Telegram => "Telegram",
            Network::Discord => "Discord",
            Network::Vk => "VK",
            Network::Instagram => "Instagram",
            Network::Facebook => "Facebook",
            Network::Linkedin => "LinkedIn",
            Network::Threads => "Threads",
            Network::Slack => "Slack",
            Network::Matrix => "Matrix",
            Network::Nostr => "Nostr",
            Network::Reddit => "Reddit",
            Network::Devto => "Dev.to",
            Network::Webhook => "Webhook",
        }
    }

    /// The API address used when the account has no `--base-url`. `None` where there is
    /// no single one: Mastodon and Matrix need the user's server, Nostr uses relays, a
    /// webhook is wherever the user's receiver listens.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Network::X => Some("https://api.x.com"),
            Network::Bluesky => Some("https://bsky.social"),
            Network::Telegram => Some("https://api.telegram.org"),
            Network::Discord => Some("https://discord.com/api/v10"),
            Network::Vk => Some("https://api.vk.com"),
            Network::Instagram => Some("https://graph.instagram.com"),
            Network::Facebook => Some("https://graph.facebook.com"),
            Network::Linkedin => Some("https://api.linkedin.com"),
            Network::Threads => Some("https://graph.threads.net/v1.0"),
            Network::Slack => Some("https://slack.com/api"),
            Network::Reddit => Some("https://oauth.reddit.com"),
            Network::Devto => Some("https://dev.to"),
            Network::Mastodon | Network::Matrix | Network::Nostr | Network::Webhook => None,
        }
    }

    /// What the user supplies as the secret, in the words messages use.
    pub fn secret_kind(self) -> &'static str {
        match self {
            Network::Bluesky => "app password",
            Network::Telegram => "bot token",
            Network::Discord | Network::Slack => "webhook URL or bot token",
            Network::Nostr => "secret key (nsec1… or hex)",
            Network::Devto => "API key",
            Network::Facebook => "Page access token",
            Network::Webhook => "signing key (HMAC-SHA256)",
            Network::X
            | Network::Mastodon
            | Network::Vk
            | Network::Instagram
            | Network::Linkedin
            | Network::Threads
            | Network::Matrix
            | Network::Reddit => "access token",
        }
    }

    /// A complete `postctl accounts add` command for this network, for help and errors.
    pub fn example_add_command(self) -> &'static str {
        match self {
            Network::X => "postctl accounts add x --name me-x --client-id YOUR_CLIENT_ID",
            Network::Mastodon => {
                "postctl accounts add mastodon --name fosstodon --instance https://fosstodon.org --token-stdin < token.txt"
            }
            Network::Bluesky => {
                "postctl accounts add bluesky --name bsky --handle me.bsky.social --token-stdin < app-password.txt"
            }
            Network::Telegram => {
                "postctl accounts add telegram --name news --chat @mychannel --token-stdin < bot-token.txt"
            }
            Network::Discord => {
                "postctl accounts add discord --name announce --token-stdin < webhook-url.txt (or --channel 123456789012345678 with a bot token)"
            }
            Network::Vk => {
                "postctl accounts add vk --name vk-group --owner-id -123456 --token-stdin < token.txt"
            }
            Network::Instagram => {
                "postctl accounts add instagram --name insta --ig-user-id 17841400000000000 --token-stdin < token.txt"
            }
            Network::Facebook => {
                "postctl accounts add facebook --name fb-page --token-stdin < user-token.txt (add --page-id 100000000000000 when you manage several Pages)"
            }
            Network::Linkedin => {
                "postctl accounts add linkedin --name li --author urn:li:person:AbC123xyz --token-stdin < token.txt"
            }
            Network::Threads => {
                "postctl accounts add threads --name threads --user-id 1234567890 --token-stdin < token.txt"
            }
            Network::Slack => {
                "postctl accounts add slack --name team --token-stdin < webhook-url.txt (or --channel C0123ABC with an xoxb- token)"
            }
            Network::Matrix => {
                "postctl accounts add matrix --name matrix --homeserver https://matrix.org --room '#announce:matrix.org' --token-stdin < token.txt"
            }
            Network::Nostr => {
                "postctl accounts add nostr --name nostr --relay wss://relay.damus.io --relay wss://nos.lol --token-stdin < nsec.txt"
            }
            Network::Reddit => {
                "postctl accounts add reddit --name reddit --subreddit rust --token-stdin < token.txt"
            }
            Network::Devto => "postctl accounts add devto --name devto --token-stdin < api-key.txt",
            Network::Webhook => {
                "postctl accounts add webhook --name hook --base-url https://example.com/hooks/postctl --token-stdin < signing-key.txt"
            }
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A network name that postctl does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network {given:?}: use one of {}", all_names())]
pub struct UnknownNetwork {
    pub given: String,
}

fn all_names() -> String {
    Network::ALL.map(Network::name).join(", ")
}

impl FromStr for Network {
    type Err = UnknownNetwork;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(network) = Network::ALL.into_iter().find(|n| n.name() == lower) {
            return Ok(network);
        }
        // The names people use in conversation, so `postctl post --to twitter` just works.
        match lower.as_str() {
            "twitter" => Ok(Network::X),
            "dev.to" | "forem" => Ok(Network::Devto),
            "bsky" => Ok(Network::Bluesky),
            "tg" => Ok(Network::Telegram),
            _ => Err(UnknownNetwork {
                given: s.to_owned(),
            }),
        }
    }
}

/// What the user gave on `postctl accounts add NETWORK --name N ...`; all optional,
/// [`validate_account`] decides what each network needs.
#[derive(Debug, Default, Clone)]
pub struct AccountFields {
    /// `--base-url`, alias `--instance` / `--pds` / `--homeserver` / `--api-url`.
    pub base_url: Option<String>,
    /// `--handle`: Bluesky handle or DID (used to log in); a display handle elsewhere.
    pub handle: Option<String>,
    /// `--chat`: Telegram `@channelname` or numeric chat id.
    pub chat: Option<String>,
    /// `--channel`: Discord channel id or Slack channel (`C0123ABC`, `#general`); bot mode.
    pub channel: Option<String>,
    /// `--room`: Matrix room id `!id:server` or alias `#alias:server`.
    pub room: Option<String>,
    /// `--owner-id`: VK wall owner, negative for a community.
    pub owner_id: Option<String>,
    /// `--from-group`: VK posts appear as the community's own (community walls only).
    pub from_group: bool,
    /// `--user-id`: Instagram or Threads user id.
    pub user_id: Option<String>,
    /// `--page-id`: Facebook Page id.
    pub page_id: Option<String>,
    /// `--author`: LinkedIn `urn:li:person:…` or `urn:li:organization:…`.
    pub author: Option<String>,
    /// `--subreddit`: Reddit subreddit, with or without `r/`.
    pub subreddit: Option<String>,
    /// `--relay`, repeatable: Nostr relay URLs.
    pub relays: Vec<String>,
}

/// A validated account, as the accounts table stores it. Holds no secret.
///
/// `base_url` is the effective API address (the network's default filled in), and is
/// `None` only where there is none: Discord and Slack webhook accounts (the webhook URL
/// is the secret) and Nostr (relays are in `settings`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccountSettings {
    pub base_url: Option<String>,
    pub handle: Option<String>,
    pub settings: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_match_serde() {
        for network in Network::ALL {
            assert_eq!(network.name().parse::<Network>(), Ok(network));
            assert_eq!(network.to_string(), network.name());
            let json = serde_json::to_string(&network).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", network.name()));
        }
    }

    #[test]
    fn parsing_accepts_aliases_and_case() {
        let cases = [
            ("X", Ok(Network::X)),
            ("twitter", Ok(Network::X)),
            ("Twitter", Ok(Network::X)),
            ("dev.to", Ok(Network::Devto)),
            ("forem", Ok(Network::Devto)),
            ("DevTo", Ok(Network::Devto)),
            ("bsky", Ok(Network::Bluesky)),
            ("tg", Ok(Network::Telegram)),
            (" Mastodon ", Ok(Network::Mastodon)),
            ("LinkedIn", Ok(Network::Linkedin)),
            ("myspace", Err(())),
            ("", Err(())),
        ];
        for (input, want) in cases {
            let got = input.parse::<Network>().map_err(|_| ());
            assert_eq!(got, want, "parsing {input:?}");
        }
    }

    #[test]
    fn unknown_network_lists_every_name() {
        let err = "myspace".parse::<Network>().err().map(|e| e.to_string());
        let message = err.unwrap_or_default();
        assert!(message.contains("\"myspace\""), "{message}");
        for network in Network::ALL {
            assert!(
                message.contains(network.name()),
                "{message} lacks {network}"
            );
        }
    }

    #[test]
    fn defaults_are_https_and_absent_where_the_user_must_say() {
        for network in Network::ALL {
            match network.default_base_url() {
                Some(url) => assert!(url.starts_with("https://") && !url.ends_with('/')),
                None => assert!(matches!(
                    network,
                    Network::Mastodon | Network::Matrix | Network::Nostr | Network::Webhook
                )),
            }
            assert!(
                network
                    .example_add_command()
                    .starts_with(&format!("postctl accounts add {} ", network.name()))
            );
        }
    }
}
