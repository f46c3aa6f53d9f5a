//! The arguments of `postctl notifications`: your channels and preferences on the linked
//! server.

use clap::{Args, Subcommand, ValueEnum};

pub const NOTIFICATIONS_HELP: &str = "\
Examples:
  postctl notifications channels add email me@example.org
  postctl notifications channels add ntfy https://ntfy.sh/my-alerts --token-stdin < ntfy-token.txt
  postctl notifications channels add telegram 123456789 --token-env TG_BOT_TOKEN
  postctl notifications channels add slack team-slack
  postctl notifications channels list --json
  postctl notifications preferences
  postctl notifications preferences set post.published inapp on
  postctl notifications preferences set post.failed email off

Notifications are the linked server's (`postctl login`): they are yours alone, across the
workspaces you belong to. Without a choice, failures, missed and uncertain posts, accounts
that need signing in again, approvals waiting for you and disabled webhook endpoints reach
your inbox (`postctl inbox`) and every channel.";

#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// Where your notifications go besides the inbox: add, list, remove
    #[command(subcommand)]
    Channels(ChannelsCommand),
    /// Which event types reach which channels; `set` changes one
    #[command(
        after_help = "Examples:\n  postctl notifications preferences\n  postctl notifications preferences --json\n  postctl notifications preferences set post.published inapp on\n  postctl notifications preferences set approval.requested telegram off\n\nEvent types: post.scheduled, post.published, post.failed, post.uncertain, post.missed,\napproval.requested, approval.decided, account.needs_reauth, analytics.report_ready,\nwebhook.disabled. Channels: inapp (the inbox), email, ntfy, telegram, slack, discord,\nmatrix; a channel kind reaches every channel of yours of that kind.",
        args_conflicts_with_subcommands = true
    )]
    Preferences(PreferencesArgs),
}

#[derive(Debug, Subcommand)]
pub enum ChannelsCommand {
    /// Add a channel: email, ntfy, telegram, or a Slack, Discord or Matrix account of the workspace
    #[command(after_help = "\
Examples:
  postctl notifications channels add email me@example.org
  postctl notifications channels add ntfy https://ntfy.sh/my-alerts
  postctl notifications channels add ntfy https://ntfy.example.org/alerts --token-stdin < token.txt
  postctl notifications channels add telegram 123456789 --token-stdin < bot-token.txt
  postctl notifications channels add telegram @mychannel --token-env TG_BOT_TOKEN
  postctl notifications channels add slack team-slack
  postctl notifications channels add matrix ops-room

ADDRESS is the email address, the ntfy topic URL, the Telegram chat id, or the name of
the workspace's Slack, Discord or Matrix account (editors and above), which posts the
notices with its own credentials to its own channel or room. A ntfy access token or a
Telegram bot token is read from stdin or an environment variable, sent once, sealed on
the server and never shown. Email needs the server's SMTP relay.")]
    Add(ChannelAddArgs),
    /// Your channels (never their tokens)
    #[command(
        after_help = "Examples:\n  postctl notifications channels list\n  postctl notifications channels list --json"
    )]
    List,
    /// Remove a channel
    #[command(after_help = "Examples:\n  postctl notifications channels remove 0193a1b2-…")]
    Remove(ChannelIdArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChannelKindArg {
    Email,
    Ntfy,
    Telegram,
    Slack,
    Discord,
    Matrix,
}

impl ChannelKindArg {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKindArg::Email => "email",
            ChannelKindArg::Ntfy => "ntfy",
            ChannelKindArg::Telegram => "telegram",
            ChannelKindArg::Slack => "slack",
            ChannelKindArg::Discord => "discord",
            ChannelKindArg::Matrix => "matrix",
        }
    }
}

#[derive(Debug, Args)]
pub struct ChannelAddArgs {
    /// The kind of channel
    #[arg(value_enum)]
    pub kind: ChannelKindArg,
    /// The email address, ntfy topic URL, Telegram chat id, or the workspace's account name
    #[arg(allow_hyphen_values = true)]
    pub address: String,
    /// Read the channel's token (ntfy access token, Telegram bot token) from stdin
    #[arg(long, conflicts_with = "token_env")]
    pub token_stdin: bool,
    /// Read the channel's token from this environment variable (it is sent once, not kept here)
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChannelIdArgs {
    /// The channel's id, as `postctl notifications channels list` shows it
    pub id: String,
}

#[derive(Debug, Args)]
pub struct PreferencesArgs {
    #[command(subcommand)]
    pub command: Option<PreferencesCommand>,
}

#[derive(Debug, Subcommand)]
pub enum PreferencesCommand {
    /// Turn one channel on or off for one event type (the others keep their choice)
    #[command(
        after_help = "Examples:\n  postctl notifications preferences set post.published inapp on\n  postctl notifications preferences set post.failed email off\n  postctl notifications preferences set webhook.disabled slack on"
    )]
    Set(PreferenceSetArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Args)]
pub struct PreferenceSetArgs {
    /// The event type, e.g. post.failed
    pub event: String,
    /// The channel: inapp, email, ntfy, telegram, slack, discord or matrix
    pub channel: String,
    /// Whether that event type reaches that channel
    #[arg(value_enum)]
    pub state: OnOff,
}
