//! What networks say about published posts and about accounts (issue 11): counters by
//! name, read by each network's [`super::Adapter::post_metrics`] and
//! [`super::Adapter::account_metrics`].
//!
//! Counter names are postctl's, the same across networks, so a table can compare them:
//! `likes` (favourites, likes, upvotes), `reposts` (boosts, reblogs, reposts), `replies`,
//! `quotes`, `bookmarks` (bookmarks, saves), `views` (impressions, views), `shares` (sent
//! on, Instagram), `reach` (accounts that saw it), `interactions` (a network's own total,
//! not engagement), `reaction:<emoji>` (one per emoji or reaction name) for posts;
//! `followers`, `following`, `posts` and `members` for accounts. A counter a network does
//! not give is absent, never zero.

use std::collections::BTreeMap;

use serde_json::Value;

/// Counters by name (see the module documentation for the names).
pub type Counters = BTreeMap<String, u64>;

/// What the network said about one post.
#[derive(Debug, Clone, PartialEq)]
pub enum PostReading {
    /// The post's counters now.
    Counted(Counters),
    /// The network says the post is gone (deleted there): it is not asked again.
    Deleted,
    /// The post exists but the network has no counters for it yet (Bluesky's AppView has
    /// not indexed a post made seconds ago): nothing is recorded, it is asked again.
    Pending,
}

/// What a network can report, or why it reports nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Metrics<T> {
    Read(T),
    /// The network (or this kind of account on it) gives nothing here; the text says why,
    /// and is shown to the user as it is.
    NotProvided(&'static str),
}

/// One reading per post asked about, in the order asked.
pub type PostMetrics = Metrics<Vec<PostReading>>;
/// The account's counters (followers, members...).
pub type AccountMetrics = Metrics<Counters>;

/// How many posts one [`super::Adapter::post_metrics`] call is given at most: Bluesky's
/// `getPosts` takes 25 URIs; networks that ask one post at a time loop
/// over the batch.
pub const BATCH: usize = 25;

/// A non-negative integer counter from a JSON field, if the field holds one.
pub(crate) fn count(value: &Value) -> Option<u64> {
    value.as_u64()
}

/// Counters read from `object`'s fields: `(field, name)` pairs, a field absent (or not a
/// number) left out.
pub(crate) fn counters(object: &Value, fields: &[(&str, &str)]) -> Counters {
    fields
        .iter()
        .filter_map(|(field, name)| count(&object[*field]).map(|n| ((*name).to_string(), n)))
        .collect()
}

/// The name of a reaction's counter: `reaction:<emoji or name>`.
pub(crate) fn reaction(key: &str) -> String {
    format!("reaction:{key}")
}

/// The reaction counts of one message as an update pushed them (Telegram's
/// `message_reaction_count`): the message's whole set at `date`, not a change.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedReactions {
    /// The chat, as the network numbers it (`-100…` for a Telegram channel).
    pub chat: String,
    pub message_id: i64,
    /// When the network counted them; an older set never replaces a newer one.
    pub date: chrono::DateTime<chrono::Utc>,
    /// `reaction:<emoji>` counters.
    pub counters: Counters,
}

/// Where an adapter keeps what a network pushes as updates rather than answers when asked
/// (Telegram's reaction counts): how far each update source (a bot) has been read, and the
/// latest counts. The engine gives the store's; errors are the store's, said as text.
pub trait UpdateInbox: Send + Sync {
    /// The next update to read from `source` (updates before it were kept), and since when
    /// it has been read; `None` before the first read.
    fn position(
        &self,
        source: &str,
    ) -> Result<Option<(i64, chrono::DateTime<chrono::Utc>)>, String>;
    /// Keeps `reactions` and moves `source` on to `next_offset`, in one transaction: an
    /// update is only confirmed to the network (by asking from `next_offset`) once kept.
    fn keep(
        &self,
        source: &str,
        next_offset: i64,
        reactions: &[PushedReactions],
    ) -> Result<(), String>;
    /// The latest reaction counts kept for each `(chat, message_id)`, in order; `None` for
    /// a message no update has named.
    fn reactions(&self, messages: &[(String, i64)]) -> Result<Vec<Option<Counters>>, String>;
}
