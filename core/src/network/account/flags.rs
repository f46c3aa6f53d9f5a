//! The flags of `postctl accounts add`: which network each applies to, what it is for,
//! and the rule its value follows.

use super::AccountError;
use crate::network::{AccountFields, Network};

/// A flag that a network requires or checks: its name, what it is, and the rule for
/// its value (shown when the value is wrong).
#[derive(Clone, Copy)]
pub(super) struct FlagSpec {
    pub(super) flag: &'static str,
    pub(super) what: &'static str,
    pub(super) rule: &'static str,
}

pub(super) const TELEGRAM_CHAT: FlagSpec = FlagSpec {
    flag: "--chat",
    what: "the chat the bot posts to",
    rule: "use @channelname (5-32 letters, digits or '_', starting with a letter) or a numeric chat id like -1001234567890",
};
pub(super) const VK_OWNER: FlagSpec = FlagSpec {
    flag: "--owner-id",
    what: "whose wall to post on",
    rule: "use the numeric id of the wall owner, negative for a community (e.g. -123456)",
};
pub(super) const INSTAGRAM_USER: FlagSpec = FlagSpec {
    flag: "--user-id",
    what: "the Instagram professional account's user id",
    rule: "use the numeric Instagram user id (e.g. 17841400000000000)",
};
pub(super) const THREADS_USER: FlagSpec = FlagSpec {
    flag: "--user-id",
    what: "the Threads user id",
    rule: "use the numeric Threads user id (e.g. 1234567890)",
};
pub(super) const FACEBOOK_PAGE: FlagSpec = FlagSpec {
    flag: "--page-id",
    what: "the Page to post on",
    rule: "use the numeric Page id (e.g. 100000000000000)",
};
pub(super) const LINKEDIN_AUTHOR: FlagSpec = FlagSpec {
    flag: "--author",
    what: "who the posts are by",
    rule: "use urn:li:person:<id> for a member or urn:li:organization:<number> for a company page",
};
pub(super) const MATRIX_ROOM: FlagSpec = FlagSpec {
    flag: "--room",
    what: "the room to post in",
    rule: "use a room id like !abc123:matrix.org or an alias like #announce:matrix.org",
};
pub(super) const REDDIT_SUBREDDIT: FlagSpec = FlagSpec {
    flag: "--subreddit",
    what: "where to submit",
    rule: "use the subreddit's name (3-21 letters, digits or '_'), with or without r/",
};
pub(super) const DISCORD_CHANNEL: FlagSpec = FlagSpec {
    flag: "--channel",
    what: "the channel the bot posts to",
    rule: "use the numeric channel id (Developer Mode, right-click the channel, Copy Channel ID)",
};
pub(super) const SLACK_CHANNEL: FlagSpec = FlagSpec {
    flag: "--channel",
    what: "the channel the bot posts to",
    rule: "use a channel id like C0123ABC or a name like #general",
};
pub(super) const NOSTR_RELAY: FlagSpec = FlagSpec {
    flag: "--relay",
    what: "at least one relay to publish to; repeat --relay for more",
    rule: "",
};
pub(super) const HANDLE: FlagSpec = FlagSpec {
    flag: "--handle",
    what: "your handle, e.g. me.bsky.social, or your DID",
    rule: "use a handle like me.bsky.social or a DID like did:plc:… or did:web:…",
};

/// The flags [`AccountFields`] carries, for the "does not apply" check.
#[derive(Clone, Copy)]
enum Field {
    BaseUrl,
    Chat,
    Channel,
    Room,
    OwnerId,
    UserId,
    PageId,
    Author,
    Subreddit,
    Relay,
    FromGroup,
}

impl Field {
    const ALL: [Field; 11] = [
        Field::BaseUrl,
        Field::Chat,
        Field::Channel,
        Field::Room,
        Field::OwnerId,
        Field::UserId,
        Field::PageId,
        Field::Author,
        Field::Subreddit,
        Field::Relay,
        Field::FromGroup,
    ];

    fn flag(self, network: Network) -> &'static str {
        match self {
            Field::BaseUrl => base_url_flag(network),
            Field::Chat => "--chat",
            Field::Channel => "--channel",
            Field::Room => "--room",
            Field::OwnerId => "--owner-id",
            Field::UserId => "--user-id",
            Field::PageId => "--page-id",
            Field::Author => "--author",
            Field::Subreddit => "--subreddit",
            Field::Relay => "--relay",
            Field::FromGroup => "--from-group",
        }
    }

    fn is_given(self, fields: &AccountFields) -> bool {
        match self {
            Field::BaseUrl => fields.base_url.is_some(),
            Field::Chat => fields.chat.is_some(),
            Field::Channel => fields.channel.is_some(),
            Field::Room => fields.room.is_some(),
            Field::OwnerId => fields.owner_id.is_some(),
            Field::UserId => fields.user_id.is_some(),
            Field::PageId => fields.page_id.is_some(),
            Field::Author => fields.author.is_some(),
            Field::Subreddit => fields.subreddit.is_some(),
            Field::Relay => !fields.relays.is_empty(),
            Field::FromGroup => fields.from_group,
        }
    }

    /// Whether the flag means something for the network. `--handle` applies everywhere
    /// (a display handle), so it is not in this list.
    fn applies_to(self, network: Network) -> bool {
        use Network as N;
        match self {
            Field::BaseUrl => network != N::Nostr,
            Field::Chat => network == N::Telegram,
            Field::Channel => matches!(network, N::Discord | N::Slack),
            Field::Room => network == N::Matrix,
            Field::OwnerId => network == N::Vk,
            Field::UserId => matches!(network, N::Instagram | N::Threads),
            Field::PageId => network == N::Facebook,
            Field::Author => network == N::Linkedin,
            Field::Subreddit => network == N::Reddit,
            Field::Relay => network == N::Nostr,
            Field::FromGroup => network == N::Vk,
        }
    }

    /// Points at the flag the user probably meant, for the usual mix-ups.
    fn hint(self, network: Network) -> &'static str {
        use Network as N;
        match (self, network) {
            (Field::Chat | Field::Room, N::Discord | N::Slack) => "; use --channel",
            (Field::Channel | Field::Room, N::Telegram) => "; use --chat",
            (Field::Channel | Field::Chat, N::Matrix) => "; use --room",
            (Field::BaseUrl, N::Nostr) => "; give relays with --relay",
            (Field::UserId, N::Facebook) => "; use --page-id",
            (Field::PageId, N::Instagram | N::Threads) => "; use --user-id",
            _ => "",
        }
    }
}

/// The spelling of `--base-url` that reads naturally for the network.
pub(super) fn base_url_flag(network: Network) -> &'static str {
    match network {
        Network::Mastodon => "--instance",
        Network::Bluesky => "--pds",
        Network::Matrix => "--homeserver",
        _ => "--base-url",
    }
}

pub(super) fn reject_inapplicable(
    network: Network,
    fields: &AccountFields,
) -> Result<(), AccountError> {
    match Field::ALL
        .into_iter()
        .find(|f| f.is_given(fields) && !f.applies_to(network))
    {
        Some(field) => Err(AccountError::NotApplicable {
            flag: field.flag(network),
            network,
            hint: field.hint(network),
        }),
        None => Ok(()),
    }
}
