//! One module per command, each with one `run` entry point.

mod accounts;
mod ai;
mod approvals;
mod calendar;
mod cancel;
mod completions;
mod daemon;
mod draft;
mod export;
mod generate;
mod group;
mod help;
mod import;
mod inbox;
mod init;
mod insights;
mod lint;
mod list;
mod login;
mod mcp;
mod media;
mod notifications;
mod post;
mod queue;
mod report;
mod schedule;
mod search;
mod stats;
mod status;
mod sync;
mod template;

mod feeds;
mod triggers;
mod tui;
mod voice;
mod webhooks;
mod workspace;

use crate::args::{Cli, Command};
use crate::context::Context;
use crate::exit::CliResult;

pub fn run(cli: Cli) -> CliResult {
    // Commands that need no config or database run before either is touched.
    match &cli.command {
        Command::Completions(args) => return completions::run(args),
        Command::Help(args) => return help::run(args),
        _ => {}
    }
    let mut ctx = Context::new(&cli)?;
    match cli.command {
        Command::Init(args) => init::run(&mut ctx, &args),
        Command::Accounts(command) => accounts::run(&mut ctx, command),
        Command::Group(command) => group::run(&mut ctx, command),
        Command::Draft(command) => draft::run(&mut ctx, command),
        Command::Schedule(args) => schedule::run(&mut ctx, args),
        Command::Reschedule(args) => schedule::reschedule(&mut ctx, &args),
        Command::Cancel(args) => cancel::run(&mut ctx, &args),
        Command::Queue(command) => queue::run(&mut ctx, command),
        Command::List(args) => list::run(&mut ctx, &args),
        Command::Calendar(args) => calendar::run(&mut ctx, &args),
        Command::Tui(args) => tui::run(&mut ctx, &args),
        Command::Export(args) => export::run(&mut ctx, &args),
        Command::Import(args) => import::run(&mut ctx, &args),
        Command::Search(args) => search::run(&mut ctx, &args),
        Command::Template(command) => template::run(&mut ctx, command),
        Command::Voice(command) => voice::run(&mut ctx, command),
        Command::Lint(args) => lint::run(&mut ctx, &args),
        Command::Generate(args) => generate::run(&mut ctx, args),
        Command::Ai(command) => ai::run(&mut ctx, command),
        Command::Media(command) => media::run(&mut ctx, command),
        Command::Post(args) => post::run(&mut ctx, args),
        Command::Check(args) => post::check(&mut ctx, &args),
        Command::RunDue(args) => daemon::run_due(&mut ctx, &args),
        Command::Daemon(args) => daemon::daemon(&mut ctx, &args),
        Command::Status(args) => status::status(&mut ctx, &args),
        Command::Retry(args) => status::retry(&mut ctx, &args),
        Command::Resolve(args) => status::resolve(&mut ctx, &args),
        Command::Unpublish(args) => status::unpublish(&mut ctx, &args),
        Command::Stats(args) => stats::run(&mut ctx, &args),
        Command::Insights(args) => insights::run(&mut ctx, &args),
        Command::Report(args) => report::run(&mut ctx, &args),
        Command::Mcp(args) => mcp::run(ctx, &args),
        Command::Login(args) => login::login(&mut ctx, &args),
        Command::Logout => login::logout(&mut ctx),
        Command::Workspace(command) => workspace::run(&mut ctx, command),
        Command::Sync(args) => sync::run(&mut ctx, &args),
        Command::Webhooks(command) => webhooks::run(&mut ctx, command),
        Command::Triggers(command) => triggers::run(&mut ctx, command),
        Command::Feeds(command) => feeds::run(&mut ctx, command),
        Command::Approvals => approvals::list(&mut ctx),
        Command::Approve(args) => approvals::approve(&mut ctx, &args),
        Command::Reject(args) => approvals::reject(&mut ctx, &args),
        Command::Inbox(args) => inbox::run(&mut ctx, &args),
        Command::Notifications(command) => notifications::run(&mut ctx, command),
        Command::Completions(_) | Command::Help(_) => Ok(()),
    }
}
