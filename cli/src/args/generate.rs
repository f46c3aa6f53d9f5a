//! The arguments of `postctl generate`.

use clap::{ArgGroup, Args};
use std::path::PathBuf;

pub(super) const GENERATE_HELP: &str = "\
Examples:
  postctl generate \"announce the v2 release\" --from CHANGELOG.md --voice brand --to release --variants 3
  postctl generate \"a teaser for Friday's livestream\" --to masto,bsky
  postctl generate --rewrite 0193a1b2 --for bsky
  postctl generate --rewrite 0193a1b2 --for linkedin \"more formal\"
  postctl generate --hashtags 0193a1b2

The model's text streams to the terminal. Each variant is then saved as a draft (labelled
\"generated\"), fitted per network: a variant over a network's limit goes back to the model once
to be shortened; if it is still too long, the draft is saved and the overrun reported. Where
the networks need different texts, a variant becomes one draft per distinct text. Nothing is
saved when the model fails: no key, an unknown model, overload (retried with backoff), a
request too long, the network down, or a stream cut midway.

--rewrite replaces the draft's text when it goes only to that network; otherwise that
network's accounts move to a new draft with the rewritten text, keeping the schedule.
--hashtags prints suggestions and changes nothing.

The model is set with `postctl ai set` (or [ai] in config.toml); the key comes from
ANTHROPIC_API_KEY (OPENAI_API_KEY for openai) or the OS keyring, and ANTHROPIC_BASE_URL
(OPENAI_BASE_URL) overrides the base URL.";

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("mode").args(["rewrite", "hashtags"])))]
pub struct GenerateArgs {
    /// What to write ("announce the v2 release"); with --rewrite, an extra instruction
    pub brief: Option<String>,
    /// Material to draw on: a changelog (the section of --version, else the latest release), a GitHub release event (JSON), or any text file
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rewrite", "hashtags"])]
    pub from: Option<PathBuf>,
    /// The release to take from the --from changelog [default: the latest]
    #[arg(long = "version", value_name = "VERSION", requires = "from")]
    pub release_version: Option<String>,
    /// The brand voice to write in [default: the only voice, when config.toml has exactly one]
    #[arg(long, value_name = "NAME")]
    pub voice: Option<String>,
    /// Accounts or groups the drafts are for, comma separated [default: default_to]
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNTS", conflicts_with_all = ["rewrite", "hashtags"])]
    pub to: Vec<String>,
    /// How many variants to write, 1 to 10
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub variants: u8,
    /// Rewrite this post (id or unambiguous prefix) for the network given with --for
    #[arg(long, value_name = "ID", requires = "for_network")]
    pub rewrite: Option<String>,
    /// The network to rewrite for (bluesky, bsky, mastodon, x...), or an account or group
    #[arg(long = "for", value_name = "NETWORK", requires = "rewrite")]
    pub for_network: Option<String>,
    /// Suggest hashtags for this post (id or unambiguous prefix); changes nothing
    #[arg(long, value_name = "ID")]
    pub hashtags: Option<String>,
    /// How many hashtags to suggest
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=30), requires = "hashtags")]
    pub count: u8,
    /// The model to ask instead of the configured one
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
}
