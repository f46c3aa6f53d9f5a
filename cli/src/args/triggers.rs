//! `postctl triggers`: events from outside that make posts on the linked server.

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum TriggersCommand {
    /// Make a trigger: a GitHub release webhook, or a generic JSON endpoint
    #[command(after_help = "\
Examples:
  postctl triggers add github --template release --to mastodon,bluesky
  postctl triggers add github --template announce --to mastodon --prereleases
  postctl triggers add generic --template deploy --to team-slack
  postctl triggers add github --template release --to mastodon,bluesky --queue

github: prints the payload URL and the secret (shown once). On GitHub, in the
repository's Settings → Webhooks → Add webhook, paste the URL, choose content type
application/json, paste the secret, and pick \"Let me select individual events\" →
Releases. Each published release becomes a post through the template, due now, once per
release however often GitHub delivers it (drafts never; prereleases with --prereleases).
The template gets `release.name`, `release.tag`, `release.url`, `release.body`,
`repository.name`, `repository.full_name`, `repository.url`, and `name`, `version`,
`summary` and `link` for the built-in `release` template.

generic: POST a JSON object to the URL with an API key that has posts:write; the
object is the template's variables, and a `dedupe_key` field makes one post per key.

With --queue each post is due at the next free slot of the first account's queue on the
server (set with `postctl queue slots set ACCOUNT ...` on this linked database) instead of
now: the first slot after now that none of the trigger's accounts holds already. The
first account needs slots, or the trigger is refused (and a call while it has none is
answered 422, storing nothing).

The template is one of the workspace's on the server (PUT /api/v1/templates/NAME) or the
built-in `release`. Needs an admin or owner.")]
    Add(TriggerAddArgs),
    /// The workspace's triggers, with the URL each listens on
    #[command(after_help = "Examples:\n  postctl triggers list\n  postctl triggers list --json")]
    List,
    /// Remove a trigger: its URL stops answering; the posts it made stay
    #[command(after_help = "Examples:\n  postctl triggers remove 0193a1b2-…")]
    Remove(TriggerIdArgs),
}

/// What starts a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TriggerKindArg {
    /// GitHub's release webhook, verified by X-Hub-Signature-256
    Github,
    /// A JSON POST with an API key
    Generic,
}

#[derive(Debug, Args)]
pub struct TriggerAddArgs {
    /// What starts it
    #[arg(value_enum)]
    pub kind: TriggerKindArg,
    /// The template the event is rendered through (the workspace's, or `release`)
    #[arg(long)]
    pub template: String,
    /// The server accounts the posts go to, comma separated (repeatable)
    #[arg(long, value_delimiter = ',', required = true, value_name = "ACCOUNTS")]
    pub to: Vec<String>,
    /// GitHub: announce prereleases too
    #[arg(long)]
    pub prereleases: bool,
    /// What the trigger is for
    #[arg(long)]
    pub description: Option<String>,
    /// Schedule each post at the next free slot of the first account's queue, not now
    #[arg(long)]
    pub queue: bool,
}

#[derive(Debug, Args)]
pub struct TriggerIdArgs {
    /// The trigger's id, as `postctl triggers list` shows it
    pub id: String,
}
