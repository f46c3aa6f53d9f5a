//! The arguments of `postctl accounts`.

use clap::{ArgGroup, Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Add an account; the secret goes to the OS keyring (or a 0600 file), never the database
    #[command(after_help = ACCOUNTS_ADD_HELP)]
    Add(Box<AccountAddArgs>),
    /// List accounts and where each secret lives (never the secret)
    List,
    /// Check accounts' credentials against their networks
    #[command(
        after_help = "Examples:\n  postctl accounts check\n  postctl accounts check masto --json"
    )]
    Check(AccountCheckArgs),
    /// Sign in again to an OAuth account (X, VK, Instagram, Threads, Facebook) whose tokens were refused or end soon; its held posts then go out
    #[command(after_help = ACCOUNTS_REAUTH_HELP)]
    Reauth(AccountReauthArgs),
    /// Remove an account and its stored secret
    #[command(
        after_help = "Examples:\n  postctl accounts rm tg\n  postctl accounts rm tg --cancel-scheduled"
    )]
    Rm(AccountRmArgs),
    /// Send an account and its secret to the linked server workspace, whose publisher then posts for it
    #[command(after_help = ACCOUNTS_PUSH_HELP)]
    Push(AccountPushArgs),
}

const ACCOUNTS_PUSH_HELP: &str = "\
The only way credentials reach a server: sync never carries them. The server checks the
account as `accounts add` does and keeps the secret sealed; nothing prints it. An account
that signed in through the browser goes with its client id and tokens, which the server
renews from then on (on X, this device's copy goes stale after the server's first
renewal). Accounts with OAuth 1.0a keys cannot be pushed: add them on the server with a
token.

Examples:
  postctl login https://postctl.example.com --user alice
  postctl accounts push masto
  postctl --json accounts push news";

const ACCOUNTS_ADD_HELP: &str = "\
What each network needs (the secret comes from --token-stdin or --token-env VAR):
  x          --client-id ID: signs in in the browser (OAuth 2.0 with PKCE); register
             http://127.0.0.1:8750/callback (or --redirect-port's) as the app's callback URI.
             Or --oauth1: the four OAuth 1.0a keys on one line (consumer key, consumer
             secret, access token, access token secret) from --token-stdin or --token-env
  mastodon   --instance URL; an access token
  bluesky    --handle me.bsky.social [--pds URL]; an app password
  telegram   --chat @channel|-100123 [--api-url URL]; the bot token
  discord    a webhook URL; or --channel ID with a bot token
  slack      a webhook URL; or --channel C0123 with a bot token (xoxb-)
  matrix     --homeserver URL --room !id:server|#alias:server; an access token
  vk         --owner-id ID (negative for a community) [--from-group]; --client-id APP_ID
             signs in with VK ID (OAuth 2.1 with PKCE; register the redirect URI as the
             app's Trusted Redirect URL); or a community or standalone token
  instagram  --client-id APP_ID --client-secret-stdin signs in with Instagram Login (a
             60-day token, renewed ahead of expiry; the user id comes from the sign-in);
             or --ig-user-id ID (a professional account) and a long-lived access token.
             Posts need images and a media host: `postctl media host set --help`
  facebook   --client-id APP_ID --client-secret-stdin signs in with Facebook Login and
             keeps the chosen Page's token (--page-id ID when you have several); Facebook
             renews nothing, so run `accounts reauth` within 60 days (postctl holds the
             posts from a week before). Or a user token on stdin: postctl lists your Pages
             (GET /me/accounts) and keeps the chosen Page's own token; or a Page token
             with --page-id ID (--token-env always names the Page token)
  linkedin   --author urn:li:person:ID|urn:li:organization:ID; an access token
  threads    --client-id APP_ID --client-secret-stdin signs in with Threads' OAuth (a
             60-day token, renewed ahead of expiry; the user id comes from the sign-in);
             or --user-id ID and a long-lived Threads access token. Images need a media
             host: `postctl media host set --help`
  reddit     --subreddit NAME; an access token
  nostr      --relay wss://... (repeatable); the secret key (nsec1... or hex)
  devto      an API key
  webhook    --base-url URL (where to POST); a signing key for the HMAC-SHA256 signature

Examples:
  postctl accounts add x --name me-x --client-id Q2xpZW50SWQ
  postctl accounts add x --name me-x --client-id Q2xpZW50SWQ --client-secret-stdin < secret.txt --no-browser
  postctl accounts add x --name me-x --oauth1 --token-stdin < x-keys.txt
  postctl accounts add x --name me-x --oauth1 --token-env X_OAUTH1_KEYS
  postctl accounts add mastodon --name masto --instance https://fosstodon.org --token-stdin < token.txt
  postctl accounts add bluesky --name bsky --handle me.bsky.social --app-password-stdin < pw.txt
  postctl accounts add telegram --name tg --chat @mychannel --token-env TG_BOT_TOKEN
  postctl accounts add discord --name dc --webhook-url-stdin < hook.txt
  postctl accounts add vk --name vk-club --owner-id -123456 --from-group --token-env VK_TOKEN
  postctl accounts add vk --name vk-club --owner-id -123456 --from-group --client-id 51234567
  postctl accounts add instagram --name insta --client-id 990011223344556 --client-secret-stdin < app-secret.txt
  postctl accounts add instagram --name insta --ig-user-id 17841400000000000 --token-stdin < token.txt
  postctl accounts add threads --name threads --client-id 1122334455667788 --client-secret-stdin < app-secret.txt
  postctl accounts add threads --name threads --user-id 26012345678901234 --token-stdin < token.txt
  postctl accounts add facebook --name fb --client-id 5566778899001122 --client-secret-stdin < app-secret.txt --no-browser
  postctl accounts add facebook --name fb --token-stdin < user-token.txt
  postctl accounts add facebook --name fb --page-id 104000000000001 --token-stdin < user-token.txt";

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("secret").required(true).args(["token_stdin", "token_env", "client_id"])))]
pub struct AccountAddArgs {
    /// The network: x, mastodon, bluesky, telegram, discord, slack, matrix, vk, instagram, facebook, linkedin, threads, reddit, nostr, devto, webhook
    pub network: String,
    /// Your name for the account, used with --to (lowercase letters, digits, - and _)
    #[arg(long)]
    pub name: String,
    /// The server's base URL (Mastodon instance, Bluesky PDS, Matrix homeserver, Telegram Bot API server...)
    #[arg(long, visible_aliases = ["instance", "pds", "homeserver", "api-url"], value_name = "URL")]
    pub base_url: Option<String>,
    /// Handle (Bluesky: me.bsky.social or a DID)
    #[arg(long)]
    pub handle: Option<String>,
    /// Telegram chat: @channelname or a numeric id such as -1001234567890
    #[arg(long, allow_hyphen_values = true)]
    pub chat: Option<String>,
    /// Discord or Slack channel, for bot tokens
    #[arg(long)]
    pub channel: Option<String>,
    /// Matrix room: !id:server or #alias:server
    #[arg(long)]
    pub room: Option<String>,
    /// VK wall owner id (negative for a community)
    #[arg(long, allow_hyphen_values = true)]
    pub owner_id: Option<String>,
    /// VK: post as the community rather than as the token's user (community walls only)
    #[arg(long)]
    pub from_group: bool,
    /// Instagram or Threads user id (found by the sign-in with --client-id; needed with a token)
    #[arg(long, visible_alias = "ig-user-id")]
    pub user_id: Option<String>,
    /// Facebook Page id: which of your Pages, when the user token given manages several
    #[arg(long)]
    pub page_id: Option<String>,
    /// LinkedIn author URN
    #[arg(long)]
    pub author: Option<String>,
    /// Subreddit to post to
    #[arg(long)]
    pub subreddit: Option<String>,
    /// Nostr relay URL (repeat for several)
    #[arg(long = "relay", value_name = "URL")]
    pub relays: Vec<String>,
    /// Read the secret (token, app password, webhook URL, key) from stdin
    #[arg(long, visible_aliases = ["app-password-stdin", "webhook-url-stdin", "key-stdin"])]
    pub token_stdin: bool,
    /// Keep only the name of an environment variable that holds the secret
    #[arg(long, visible_aliases = ["app-password-env", "webhook-url-env", "key-env"], value_name = "VAR")]
    pub token_env: Option<String>,
    /// Sign in in the browser (X, VK ID, Instagram Login, Threads, Facebook Login): your app's client ID from the network's developer site
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// X: the secret is the four OAuth 1.0a keys on one line (consumer key, consumer secret, access token, access token secret), from --token-stdin or --token-env
    #[arg(long, conflicts_with = "client_id")]
    pub oauth1: bool,
    #[command(flatten)]
    pub sign_in: SignInArgs,
}

/// How the OAuth sign-in reaches the browser and comes back (`accounts add --client-id`,
/// `accounts reauth`).
#[derive(Debug, Args)]
pub struct SignInArgs {
    /// Read the app's client secret from stdin (confidential clients; Meta's logins need it: Instagram, Threads, Facebook)
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// Print the sign-in address instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,
    /// The port of the redirect URI http://127.0.0.1:PORT/callback, as registered for your app
    #[arg(long, value_name = "PORT", default_value_t = postctl_core::signin::DEFAULT_REDIRECT_PORT)]
    pub redirect_port: u16,
    /// Paste the address the browser ends on instead of listening for it (on another machine, or where the port cannot be opened)
    #[arg(long)]
    pub paste: bool,
}

const ACCOUNTS_REAUTH_HELP: &str = "\
Runs the same browser sign-in as `accounts add --client-id` with the account's client ID,
replaces its stored tokens, and releases the posts held while it needed signing in.

Examples:
  postctl accounts reauth me-x
  postctl accounts reauth me-x --no-browser --redirect-port 9000
  postctl accounts reauth fb --client-secret-stdin < app-secret.txt";

#[derive(Debug, Args)]
pub struct AccountReauthArgs {
    /// The account's name
    pub name: String,
    #[command(flatten)]
    pub sign_in: SignInArgs,
}

#[derive(Debug, Args)]
pub struct AccountCheckArgs {
    /// Only this account [default: all]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct AccountPushArgs {
    /// The account's name (as `postctl accounts list` shows it)
    pub name: String,
}

#[derive(Debug, Args)]
pub struct AccountRmArgs {
    /// The account's name
    pub name: String,
    /// Also cancel the account's scheduled posts (otherwise such an account is not removed)
    #[arg(long)]
    pub cancel_scheduled: bool,
}
