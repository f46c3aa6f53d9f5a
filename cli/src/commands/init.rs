use postctl_core::config::{default_config_text, system_timezone};
use postctl_core::time::parse_zone;

use crate::args::InitArgs;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print_json};

pub fn run(ctx: &mut Context, args: &InitArgs) -> CliResult {
    let tz = match &args.tz {
        Some(name) => parse_zone(name)?.name().to_string(),
        None => system_timezone(|name| std::env::var(name).ok()),
    };
    let config = ctx.paths.config_file.clone();
    let exists = config.exists();
    if exists && !args.force {
        note(format!(
            "{} already exists; left as it is (use --force to rewrite it)",
            config.display()
        ));
    } else {
        if let Some(dir) = config.parent() {
            postctl_core::fs::create_private_dir(dir)?;
        }
        postctl_core::fs::write_private(&config, default_config_text(&tz).as_bytes())?;
        ctx.config.timezone = Some(tz.clone());
    }
    let db = ctx.store()?.path().to_path_buf();
    if ctx.json {
        return print_json(&serde_json::json!({
            "config": config, "database": db, "timezone": ctx.config.timezone,
            "config_written": !exists || args.force,
        }));
    }
    if !exists || args.force {
        note(format!("wrote {} (timezone {tz})", config.display()));
    }
    note(format!("database ready at {}", db.display()));
    note(
        "next: add an account, e.g. `postctl accounts add mastodon --name masto --instance https://fosstodon.org --token-stdin < token.txt`",
    );
    Ok(())
}
