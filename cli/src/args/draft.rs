//! The arguments of `postctl draft`.

use clap::{Args, Subcommand};

use super::{ContentArgs, IdArg};

#[derive(Debug, Subcommand)]
pub enum DraftCommand {
    /// Write a new draft: the text as an argument, from stdin (-), or in $EDITOR (-e)
    #[command(after_help = "\
Examples:
  postctl draft new \"Hello world\" --to masto,bsky
  postctl draft new \"New settings page\" --to masto --media shot.png --alt \"the new settings page\"
  postctl draft new -e
  echo \"From a pipe\" | postctl draft new - --to masto

In $EDITOR the draft is Markdown with a small front matter:
  ---
  to: masto, bsky
  at: tomorrow 09:00      (optional: schedules the draft)
  media: shot.png
  alt: the new settings page
  ---
  Hello world")]
    New(DraftNewArgs),
    /// List drafts
    List,
    /// Show one post in full
    Show(IdArg),
    /// Change a post's text, accounts, media, alt text or time; with no changes given,
    /// opens $EDITOR with all of them
    #[command(
        after_help = "Examples:\n  postctl draft edit 0193a1b2\n  postctl draft edit 0193a1b2 \"New text\" --to masto\n  postctl draft edit 0193a1b2 --media shot.png --alt \"the new settings page\""
    )]
    Edit(DraftEditArgs),
    /// Remove a post (pending targets are cancelled; what was published stays)
    #[command(
        after_help = "Examples:\n  postctl draft rm 0193a1b2\n  postctl draft rm 0193a1b2 --yes   # a scheduled post, without asking"
    )]
    Rm(DraftRmArgs),
}

#[derive(Debug, Args)]
pub struct DraftRmArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    /// Remove a post that is still scheduled without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct DraftNewArgs {
    /// The text; - reads it from stdin (or write it in $EDITOR with -e)
    pub text: Option<String>,
    /// Write the draft in $EDITOR
    #[arg(short = 'e', long, conflicts_with = "text")]
    pub edit: bool,
    #[command(flatten)]
    pub content: ContentArgs,
}

#[derive(Debug, Args)]
pub struct DraftEditArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    /// New text; - reads it from stdin
    pub text: Option<String>,
    #[command(flatten)]
    pub content: ContentArgs,
}
