//! `postctl mcp`: a Model Context Protocol server over stdio, built on the official Rust SDK
//! (rmcp), so an assistant (Claude Desktop, Claude Code, an editor) can draft, check,
//! schedule and report through postctl on the user's own database.
//!
//! - [`tools`]: one tool per verb, each calling the code the CLI verb runs.
//! - [`resources`]: the calendar of the coming weeks, each account's limits, and the prompts.
//! - [`transport`]: JSON-RPC lines over stdin and stdout, answering what rmcp would drop.
//!
//! Requests are served one at a time against one [`Context`] (the CLI's: config, zone,
//! clock, database), on a blocking thread, so SQLite and the engine run as they do for the
//! CLI. A failing request is a tool error with the CLI's message; a panic in one is caught
//! and reported, and the server goes on. Only protocol messages are written to stdout;
//! notes go to stderr, which MCP clients keep in their log.

mod resources;
mod tools;
mod transport;

use std::sync::{Arc, Mutex, PoisonError};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams, GetPromptResponse,
    Implementation, ListPromptsResult, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool_handler};
use serde::Serialize;

use crate::context::Context;
use crate::exit::{CliError, CliResult};

/// The tools that publish or delete at once; listed only with `--allow-publish`.
const PUBLISHING_TOOLS: [&str; 2] = ["publish_now", "unpublish"];

const INSTRUCTIONS: &str = "\
postctl schedules and publishes social media posts from the user's own database. \
Posts are Markdown, rendered for each network. Typical flow: list_accounts, then \
create_draft (or schedule with `text`), check that the text fits each account, then \
schedule with `at` (\"tue 09:00\", \"2026-12-01 09:00\") and `tz` (an IANA zone such as \
Europe/Berlin). Every changing tool says what it changed in `changed`. Ids may be \
shortened to an unambiguous prefix.";

/// The MCP server: the CLI's context behind a lock, and the tools offered.
#[derive(Clone)]
pub struct Server {
    ctx: Arc<Mutex<Context>>,
    tool_router: ToolRouter<Server>,
}

/// Why a tool call failed: a tool error the assistant reads (the CLI's message), or a
/// protocol error for a request that is wrong as such (an oversized argument).
#[derive(Debug)]
pub enum Failure {
    Tool(String),
    Protocol(ErrorData),
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Failure::Tool(e.message)
    }
}

impl IntoCallToolResult for Failure {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        match self {
            Failure::Tool(message) => {
                Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into())
            }
            Failure::Protocol(error) => Err(error),
        }
    }
}

/// `value` as JSON; the types serialized here are plain data, so this cannot fail in
/// practice, and would give `null` rather than stop the server.
pub(crate) fn json_value(value: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl Server {
    fn new(ctx: Context, allow_publish: bool) -> Server {
        let mut tool_router = Server::tool_router();
        if !allow_publish {
            for name in PUBLISHING_TOOLS {
                tool_router.remove_route(name);
            }
        }
        Server {
            ctx: Arc::new(Mutex::new(ctx)),
            tool_router,
        }
    }

    /// Runs `work` on the context, on a blocking thread, with the clock read again. An
    /// error is the CLI's message; a panic is reported as a failure of this call only.
    async fn with_context<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Context) -> CliResult<T> + Send + 'static,
    ) -> Result<T, Failure> {
        self.run_blocking(work).await
    }

    /// [`Server::with_context`] for work that tells tool errors from protocol errors.
    async fn run_blocking<T: Send + 'static, E: Into<Failure> + Send + 'static>(
        &self,
        work: impl FnOnce(&mut Context) -> Result<T, E> + Send + 'static,
    ) -> Result<T, Failure> {
        let ctx = self.ctx.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let mut ctx = ctx.lock().unwrap_or_else(PoisonError::into_inner);
            ctx.refresh_clock()?;
            work(&mut ctx).map_err(Into::into)
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(_) => Err(Failure::Tool(
                "postctl failed inside this request (a bug; the message is on the server's stderr); nothing else was affected, and the server goes on".into(),
            )),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new("postctl", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let listed = self.with_context(resources::list).await;
        listed
            .map(ListResourcesResult::with_all_items)
            .map_err(failure_as_error)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri;
        let read = self
            .run_blocking(move |ctx| resources::read(ctx, &uri))
            .await;
        read.map(Into::into).map_err(failure_as_error)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(resources::prompts()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let prompt = self
            .run_blocking(move |ctx| resources::prompt(ctx, &request.name, request.arguments))
            .await;
        prompt.map(Into::into).map_err(failure_as_error)
    }
}

/// Outside `tools/call` there is no tool error: a failure is a protocol error whose message
/// is the CLI's (-32602, the request's parameters named something that is not there or
/// cannot be read; -32002 for an unknown resource comes from [`resources::read`]).
fn failure_as_error(failure: Failure) -> ErrorData {
    match failure {
        Failure::Tool(message) => ErrorData::invalid_params(message, None),
        Failure::Protocol(error) => error,
    }
}

/// Serves MCP on stdin and stdout until stdin ends.
pub fn serve(mut ctx: Context, allow_publish: bool) -> CliResult {
    // Open (and migrate) the database now: a problem with it is said before any client
    // waits on it.
    ctx.store()?;
    let server = Server::new(ctx, allow_publish);
    let runtime = crate::engine::runtime()?;
    runtime.block_on(async move {
        let (stdio, writer) = transport::Stdio::open();
        // rmcp ends a session whose first message is not `initialize` (or a request it can
        // serve without one); the client is still there, so a new session reads on.
        loop {
            match server.clone().serve(stdio.clone()).await {
                Ok(running) => {
                    let _ = running.waiting().await;
                    break;
                }
                Err(e) if !stdio.ended() => {
                    eprintln!("postctl mcp: {e}; waiting for `initialize`");
                }
                Err(_) => break,
            }
        }
        drop(stdio);
        let _ = writer.await;
    });
    // Blocking reads of stdin may still be parked; they end with the process.
    runtime.shutdown_background();
    Ok(())
}
