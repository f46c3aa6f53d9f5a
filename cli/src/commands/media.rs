//! `postctl media host set|show`: the bucket Instagram fetches images from, kept in
//! `[media.host]` of config.toml; its secret key in the secret store, only its place in
//! the file.

use std::io::IsTerminal;

use postctl_core::media::host::{self, HostConfig};
use postctl_core::secrets::{SecretRef, env_var_name, read_secret};

use crate::args::{MediaCommand, MediaHostCommand, MediaHostSetArgs};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print, print_json};

pub fn run(ctx: &mut Context, command: MediaCommand) -> CliResult {
    match command {
        MediaCommand::Host(MediaHostCommand::Set(args)) => set(ctx, &args),
        MediaCommand::Host(MediaHostCommand::Show) => show(ctx),
    }
}

fn set(ctx: &mut Context, args: &MediaHostSetArgs) -> CliResult {
    // Checked before the secret is read or stored: bad input changes nothing.
    let mut config = HostConfig::new(
        &args.endpoint,
        &args.bucket,
        &args.region,
        &args.access_key_id,
        String::new(),
    )
    .map_err(CliError::usage)?;
    config.secret = match &args.secret_env {
        Some(var) => env_var_name("--secret-env", "S3_SECRET", var)?.to_string(),
        None => {
            if std::io::stdin().is_terminal() {
                return Err(CliError::usage(
                    "--secret-stdin reads the secret access key from a pipe or file, e.g. `postctl media host set ... --secret-stdin < secret.txt`",
                ));
            }
            let secret = read_secret(std::io::stdin().lock())?;
            let (reference, notice) = ctx.secrets()?.put(host::SECRET_NAME, &secret)?;
            if let Some(notice) = notice {
                note(notice);
            }
            reference.to_string()
        }
    };
    let path = ctx.paths.config_file.clone();
    host::write_config(&path, &config)?;
    if ctx.json {
        return print_json(&config);
    }
    note(format!(
        "media host saved in {}: bucket {} at {}",
        path.display(),
        config.bucket,
        config.endpoint
    ));
    Ok(())
}

fn show(ctx: &mut Context) -> CliResult {
    let Some(config) = ctx.config.media.host.clone() else {
        return Err(CliError::usage(host::not_configured()));
    };
    if ctx.json {
        return print_json(&config);
    }
    let secret = config
        .secret
        .parse::<SecretRef>()
        .map(|r| r.location(&ctx.paths.data_dir))
        .unwrap_or_else(|e| format!("unreadable reference ({e})"));
    print(&format!(
        "endpoint       {}\nbucket         {}\nregion         {}\naccess key id  {}\nsecret key     {secret}\nprefix         {}\n",
        config.endpoint, config.bucket, config.region, config.access_key_id, config.prefix
    ))
}
