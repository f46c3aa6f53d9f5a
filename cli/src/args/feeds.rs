//! `postctl feeds`: RSS and Atom feeds the linked server watches, making a post per new item.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Watch an RSS or Atom feed: each new item becomes a post through a template
    #[command(after_help = "\
Examples:
  postctl feeds add https://blog.example.com/feed.xml --to mastodon,bluesky --template blog-post
  postctl feeds add https://github.com/OWNER/REPO/releases.atom --to mastodon --template release-feed
  postctl queue slots set mastodon \"mon-fri 09:00,13:00\" --tz Europe/Berlin
  postctl feeds add https://blog.example.com/feed.xml --to mastodon --template blog-post --queue

The server reads the feed now and then every feed_poll_seconds (15 minutes by default),
with a conditional GET (ETag, Last-Modified). The items already in the feed when it is
added are history: each item that appears after that becomes one post through the
template, due now, for the accounts, once (an item is known by its id and its link, so
one that comes back under a new id with the same link is not posted again).

With --queue each new item's post is due at the next free slot of the first account's
queue on the server (`postctl queue slots set ACCOUNT ...` on this linked database sets
them there) instead of now: the first slot after now that no live post of that account,
nor of the other accounts, holds already. The first account needs slots, or the feed is
refused; if they are removed later, new items wait (unposted) until slots are set again.

The template is one of the workspace's on the server (PUT /api/v1/templates/NAME) and
sees `title`, `link`, `summary` (plain text), `published`, `author`, `id` and `feed.title`,
`feed.link`, `feed.url`; for example `New on the blog: {{ title }}\\n\\n{{ link }}`.
A feed that cannot be read shows why in `postctl feeds list`. Needs an admin or owner.")]
    Add(FeedAddArgs),
    /// The workspace's feeds, with each one's last poll and last error
    #[command(after_help = "Examples:\n  postctl feeds list\n  postctl feeds list --json")]
    List,
    /// Stop watching a feed; the posts it made stay
    #[command(after_help = "Examples:\n  postctl feeds remove 0193a1b2-…")]
    Remove(FeedIdArgs),
}

#[derive(Debug, Args)]
pub struct FeedAddArgs {
    /// The feed's URL (http or https)
    pub url: String,
    /// The server accounts the posts go to, comma separated (repeatable)
    #[arg(long, value_delimiter = ',', required = true, value_name = "ACCOUNTS")]
    pub to: Vec<String>,
    /// The template each item is rendered through (the workspace's, on the server)
    #[arg(long)]
    pub template: String,
    /// Schedule each new item at the next free slot of the first account's queue, not now
    #[arg(long)]
    pub queue: bool,
}

#[derive(Debug, Args)]
pub struct FeedIdArgs {
    /// The feed's id, as `postctl feeds list` shows it
    pub id: String,
}
