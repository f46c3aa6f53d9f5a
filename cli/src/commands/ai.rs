//! `postctl ai set|show`: the language model `postctl generate` asks, kept in `[ai]` of
//! config.toml; the key in the secret store, only its place in the file.

use std::io::IsTerminal;

use postctl_core::ai::{self, AiChange, Provider};
use postctl_core::secrets::{env_var_name, read_secret};

use crate::args::{AiCommand, AiSetArgs, ProviderArg};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print, print_json};

pub fn run(ctx: &mut Context, command: AiCommand) -> CliResult {
    match command {
        AiCommand::Set(args) => set(ctx, args),
        AiCommand::Show => show(ctx),
    }
}

fn set(ctx: &mut Context, args: AiSetArgs) -> CliResult {
    let provider = args.provider.map(|p| match p {
        ProviderArg::Anthropic => Provider::Anthropic,
        ProviderArg::Openai => Provider::Openai,
    });
    let key = match (&args.key_env, args.key_stdin) {
        (Some(var), _) => Some(env_var_name("--key-env", "CLAUDE_KEY", var)?.to_string()),
        (None, true) => Some(store_key(ctx, provider.unwrap_or(ctx.config.ai.provider))?),
        (None, false) => None,
    };
    let change = AiChange {
        provider,
        model: args.model,
        base_url: args.base_url,
        key,
        max_tokens: args.max_tokens,
    };
    if change == AiChange::default() {
        return Err(CliError::usage(
            "nothing to set: give at least one of --provider, --model, --base-url, --max-tokens, --key-stdin, --key-env",
        ));
    }
    if let Some(url) = change.base_url.as_deref().filter(|u| !u.trim().is_empty())
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(CliError::usage(format!(
            "--base-url takes an http(s) URL, e.g. http://localhost:11434/v1; got {url:?}"
        )));
    }
    let path = ctx.paths.config_file.clone();
    ai::write_settings(&path, &change)?;
    if ctx.json {
        let config = postctl_core::config::Config::load(&path, |_| None)?;
        return print_json(&config.ai);
    }
    note(format!("AI settings saved in {}", path.display()));
    Ok(())
}

/// Reads the key from stdin into the secret store; returns the reference to keep.
fn store_key(ctx: &Context, provider: Provider) -> CliResult<String> {
    if std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!(
            "--key-stdin reads the key from a pipe or file, e.g. `postctl ai set --key-stdin < key.txt`; or set {}",
            provider.key_env()
        )));
    }
    let secret = read_secret(std::io::stdin().lock())?;
    let (reference, notice) = ctx.secrets()?.put(&provider.secret_name(), &secret)?;
    if let Some(notice) = notice {
        note(notice);
    }
    Ok(reference.to_string())
}

fn show(ctx: &mut Context) -> CliResult {
    let resolved = ai::describe(
        &ctx.config.ai,
        &|name| std::env::var(name).ok(),
        &ctx.paths.data_dir,
    )?;
    if ctx.json {
        return print_json(&resolved);
    }
    let model = resolved
        .model
        .clone()
        .unwrap_or_else(|| "(none: set one with `postctl ai set --model NAME`)".into());
    print(&format!(
        "provider    {}\nmodel       {model}\nbase URL    {}\nkey         {}\nmax tokens  {}\n",
        resolved.provider.as_str(),
        resolved.base_url,
        resolved.key_from,
        resolved.max_tokens
    ))
}
