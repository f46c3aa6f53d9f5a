//! The arguments of `postctl tui`.

use clap::Args;

pub(super) const TUI_HELP: &str = "\
Examples:
  postctl tui
  postctl                       # with no arguments, on a terminal
  postctl tui --tz America/New_York --no-mouse

Keys (? in the dashboard lists them all): 1-4 calendar, queue, accounts, activity;
arrows move; Enter opens; n writes a post; m picks up a post and moves it to another day
(or drag it with the mouse); + and - move a post by a day; u undoes; q quits.
Change them in config.toml:
  [tui.keys]
  move = \"M\"

Changes made by the CLI and the daemon show up within a second. A database linked to a
server (`postctl login`) syncs in the background, and the top bar says where it stands:
synced (when), pending N, offline since when, N conflicts; other devices' posts show up
on their own. The dashboard logs to tui.log in the data dir.";

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Show and read times in this zone [default: your zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Leave the mouse to the terminal (selecting text) instead of clicking and dragging posts
    #[arg(long)]
    pub no_mouse: bool,
}
