//! The arguments of `postctl voice`.

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum VoiceCommand {
    /// Create or change a voice; options not given keep their value
    #[command(after_help = VOICE_SET_HELP)]
    Set(VoiceSetArgs),
    /// List voices
    List,
    /// Show one voice
    Show(VoiceNameArg),
    /// Remove a voice from config.toml
    Rm(VoiceNameArg),
}

const VOICE_SET_HELP: &str = "\
Examples:
  postctl voice set brand --tone \"friendly, plain, no hype\" --audience \"developers who self-host\"
  postctl voice set brand --avoid synergy --avoid \"circle back\" --use ship --use release
  postctl voice set brand --hashtags \"#rust #cli\" --hashtag-policy required --emoji max:2 --language en
  postctl voice set brand --avoid \"\"     # clear a list

Voices are kept in config.toml as [voices.NAME]; the rest of the file, comments included, is
left as it is. A list option (--use, --avoid, --hashtags) replaces the whole list.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashtagPolicyArg {
    /// Every one of the voice's hashtags must be in a post
    Required,
    /// Hashtags are up to the writer
    Optional,
    /// No hashtags at all
    None,
}

#[derive(Debug, Args)]
pub struct VoiceSetArgs {
    /// The voice's name (lowercase letters, digits, - and _)
    pub name: String,
    /// How it sounds: "friendly, plain, no hype"
    #[arg(long)]
    pub tone: Option<String>,
    /// Who it speaks to
    #[arg(long)]
    pub audience: Option<String>,
    /// A word or phrase the voice prefers (repeatable)
    #[arg(long = "use", value_name = "WORD")]
    pub use_words: Vec<String>,
    /// A word or phrase the voice never uses; lint fails on it (repeatable)
    #[arg(long, value_name = "WORD")]
    pub avoid: Vec<String>,
    /// The voice's hashtags: "#a #b"
    #[arg(long, value_name = "TAGS")]
    pub hashtags: Option<String>,
    /// What a post must do with hashtags
    #[arg(long, value_enum, value_name = "POLICY")]
    pub hashtag_policy: Option<HashtagPolicyArg>,
    /// Emoji: allow, none, or max:N
    #[arg(long, value_name = "POLICY")]
    pub emoji: Option<String>,
    /// The language posts are written in (en, en-GB, pt-BR...)
    #[arg(long, value_name = "TAG")]
    pub language: Option<String>,
}

#[derive(Debug, Args)]
pub struct VoiceNameArg {
    /// The voice's name
    pub name: String,
}
