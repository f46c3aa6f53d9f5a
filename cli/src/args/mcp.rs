use clap::Args;

pub const MCP_HELP: &str = "\
Examples:
  postctl mcp --print-config            # the JSON for Claude Desktop or Claude Code
  postctl mcp                           # what the assistant's client starts
  postctl mcp --allow-publish           # also offer publish_now and unpublish

postctl mcp speaks the Model Context Protocol (JSON-RPC 2.0) on stdin and stdout, so an
assistant can use postctl on this machine's database and keys. It is started by the
assistant's client, not by hand: paste the output of `postctl mcp --print-config` into
Claude Desktop's claude_desktop_config.json, or into .mcp.json for Claude Code.

Tools: list_posts, get_post, create_draft, check, schedule, reschedule, cancel,
post_status, calendar, list_accounts, search, render_template, lint, stats, insights; with
--allow-publish also publish_now and unpublish. Every tool that changes something says
what it changed. Resources: postctl://calendar (the coming four weeks) and
postctl://accounts/NAME/limits. Prompts: announce_release (from CHANGELOG.md) and
plan_week.

Only protocol messages go to stdout; notes go to stderr, which clients keep in their log.
It stops when stdin ends.";

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Also offer the tools that publish now (publish_now) and delete published posts (unpublish)
    #[arg(long)]
    pub allow_publish: bool,
    /// Print the JSON that adds postctl to Claude Desktop's or Claude Code's MCP servers, and exit
    #[arg(long)]
    pub print_config: bool,
}
