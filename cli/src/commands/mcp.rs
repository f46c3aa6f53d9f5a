//! `postctl mcp [--allow-publish] [--print-config]`: the Model Context Protocol server
//! (in `crate::mcp`), or the settings that start it.

use crate::args::McpArgs;
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print_json};

pub fn run(ctx: Context, args: &McpArgs) -> CliResult {
    if args.print_config {
        return print_config(&ctx, args);
    }
    crate::mcp::serve(ctx, args.allow_publish)
}

/// The `mcpServers` entry that starts this binary with this database and config, for
/// Claude Desktop's claude_desktop_config.json and Claude Code's .mcp.json.
fn print_config(ctx: &Context, args: &McpArgs) -> CliResult {
    let command = std::env::current_exe().map_err(|e| {
        CliError::failure(format!(
            "cannot tell where the postctl binary is ({e}); write its full path as \"command\" by hand"
        ))
    })?;
    let mut arguments = vec!["mcp".to_string()];
    if args.allow_publish {
        arguments.push("--allow-publish".into());
    }
    // The client starts postctl without this shell's variables: name the files outright.
    let mut env = serde_json::Map::new();
    env.insert(
        "POSTCTL_CONFIG".into(),
        absolute(&ctx.paths.config_file).into(),
    );
    env.insert("POSTCTL_DB".into(), absolute(&ctx.paths.db_file).into());
    env.insert(
        "POSTCTL_DATA_DIR".into(),
        absolute(&ctx.paths.data_dir).into(),
    );
    if let Ok(store) = std::env::var("POSTCTL_SECRET_STORE") {
        env.insert("POSTCTL_SECRET_STORE".into(), store.into());
    }
    print_json(&serde_json::json!({
        "mcpServers": {
            "postctl": {
                "command": command.display().to_string(),
                "args": arguments,
                "env": env,
            }
        }
    }))?;
    note(
        "add the \"postctl\" entry to \"mcpServers\" in Claude Desktop's claude_desktop_config.json, or in .mcp.json for Claude Code, then restart the client",
    );
    Ok(())
}

/// `path` from the root, so it means the same wherever the client starts postctl.
fn absolute(path: &std::path::Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
