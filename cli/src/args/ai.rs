//! The arguments of `postctl ai`.

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum AiCommand {
    /// Choose the provider, model, base URL, token limit and key; options not given keep their value
    #[command(after_help = AI_SET_HELP)]
    Set(AiSetArgs),
    /// Show the settings in force and where the key comes from (never the key)
    Show,
}

const AI_SET_HELP: &str = "\
Examples:
  postctl ai set --model claude-sonnet-4-5
  printf %s \"$KEY\" | postctl ai set --key-stdin
  postctl ai set --provider openai --base-url http://localhost:11434/v1 --model llama3.2
  postctl ai set --base-url \"\"        # back to the provider's own URL

Settings go to [ai] in config.toml, keeping the rest of the file. The key goes to the OS
keyring (else secrets.toml, mode 0600); only where it is is written to config.toml.
ANTHROPIC_API_KEY / OPENAI_API_KEY and ANTHROPIC_BASE_URL / OPENAI_BASE_URL win when set.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    /// Anthropic's Messages API (Claude)
    Anthropic,
    /// Any OpenAI-compatible chat-completions server: OpenAI, Ollama, llama.cpp, vLLM
    Openai,
}

#[derive(Debug, Args)]
pub struct AiSetArgs {
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// The model's name as the provider knows it
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// The API's base URL (OpenAI-compatible servers: up to /v1); \"\" for the provider's own
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The longest answer, in tokens
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub max_tokens: Option<u32>,
    /// Read the API key from standard input and keep it in the OS keyring
    #[arg(long)]
    pub key_stdin: bool,
    /// Read the API key from this environment variable each time instead
    #[arg(long, value_name = "VAR", conflicts_with = "key_stdin")]
    pub key_env: Option<String>,
}
