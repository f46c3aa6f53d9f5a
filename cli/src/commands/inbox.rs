//! `postctl inbox [--unread]` and `postctl inbox read ID|--all`: the notifications the
//! linked server keeps for the signed-in user in this database's workspace.

use postctl_core::sync::client::InboxItem;

use crate::args::{InboxArgs, InboxCommand};
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print, print_json, stdout_color, table};
use crate::server::{self, error};

pub fn run(ctx: &mut Context, args: &InboxArgs) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    match &args.command {
        Some(InboxCommand::Read(read)) => {
            let marked = runtime
                .block_on(linked.client.mark_read(&linked.token, read.id.as_deref()))
                .map_err(error)?;
            if ctx.json {
                return print_json(&serde_json::json!({ "marked": marked }));
            }
            note(match (&read.id, marked) {
                (Some(id), 0) => format!("{id} was read already."),
                (Some(id), _) => format!("Marked {id} read."),
                (None, n) => format!("Marked {n} notification(s) read."),
            });
            Ok(())
        }
        None => {
            let page = runtime
                .block_on(
                    linked
                        .client
                        .inbox(&linked.token, args.unread, None, args.limit),
                )
                .map_err(error)?;
            if ctx.json {
                return print_json(&page.items);
            }
            if page.items.is_empty() {
                note(if args.unread {
                    "No unread notifications."
                } else {
                    "No notifications."
                });
                return Ok(());
            }
            let rows: Vec<Vec<String>> = page.items.iter().map(row).collect();
            print(&table(
                &["", "ID", "WHEN (UTC)", "EVENT", "TITLE"],
                &rows,
                stdout_color(),
            ))?;
            let unread = page.items.iter().filter(|i| !i.read).count();
            let more = if page.next_cursor.is_some() {
                format!(" (the newest {}; see more with --limit)", page.items.len())
            } else {
                String::new()
            };
            note(format!(
                "{unread} unread{more}; * marks them. Mark read with `postctl inbox read ID` or `postctl inbox read --all`."
            ));
            Ok(())
        }
    }
}

fn row(item: &InboxItem) -> Vec<String> {
    let when: String = item.created_at.replace('T', " ").chars().take(16).collect();
    vec![
        if item.read { String::new() } else { "*".into() },
        item.id.clone(),
        when,
        item.event_type.clone(),
        item.title.clone(),
    ]
}
