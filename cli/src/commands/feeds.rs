//! `postctl feeds add|list|remove`: RSS and Atom feeds the linked server watches, over
//! this database's server session.

use serde_json::json;

use crate::args::FeedsCommand;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print, print_json, stdout_color, table};
use crate::server::{self, error, names, text};

pub fn run(ctx: &mut Context, command: FeedsCommand) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let (client, token) = (&linked.client, &linked.token);
    match command {
        FeedsCommand::Add(args) => {
            let body = json!({
                "url": args.url,
                "template": args.template,
                "accounts": args.to,
                "queue": args.queue,
            });
            let made = runtime
                .block_on(client.add_feed(token, body))
                .map_err(error)?;
            if ctx.json {
                return print_json(&made);
            }
            print(&format!("{}\n", text(&made, "id")))?;
            let when = if args.queue {
                "at the next free slot of the first account's queue"
            } else {
                "now"
            };
            note(format!(
                "Watching {}: the items there now are history; each new one becomes a post to {}, due {when}. \
                 `postctl feeds list` shows the last poll and any error.",
                text(&made, "url"),
                names(&made, "accounts")
            ));
            Ok(())
        }
        FeedsCommand::List => {
            let feeds = runtime.block_on(client.feeds(token)).map_err(error)?;
            if ctx.json {
                return print_json(&feeds);
            }
            if feeds.is_empty() {
                note(
                    "No feeds yet; watch one with `postctl feeds add URL --to ACCOUNTS --template NAME`.",
                );
                return Ok(());
            }
            let rows: Vec<Vec<String>> = feeds
                .iter()
                .map(|f| {
                    vec![
                        text(f, "id"),
                        text(f, "url"),
                        text(f, "template"),
                        names(f, "accounts"),
                        text(f, "last_polled_at"),
                        text(f, "last_error"),
                    ]
                })
                .collect();
            print(&table(
                &["ID", "URL", "TEMPLATE", "TO", "LAST POLLED", "LAST ERROR"],
                &rows,
                stdout_color(),
            ))
        }
        FeedsCommand::Remove(args) => {
            runtime
                .block_on(client.remove_feed(token, &args.id))
                .map_err(error)?;
            if ctx.json {
                return print_json(&json!({ "removed": args.id }));
            }
            note(format!(
                "Stopped watching feed {}; the posts it made stay.",
                args.id
            ));
            Ok(())
        }
    }
}
