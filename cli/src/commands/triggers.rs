//! `postctl triggers add|list|remove`: events from outside (GitHub releases, JSON calls)
//! that make posts on the linked server, over this database's server session.

use serde_json::{Value, json};

use crate::args::{TriggerKindArg, TriggersCommand};
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print, print_json, stdout_color, table};
use crate::server::{self, error, names, text};

pub fn run(ctx: &mut Context, command: TriggersCommand) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let (client, token) = (&linked.client, &linked.token);
    // The full URL the outside calls: the server's address and the trigger's path.
    let url = |t: &Value| format!("{}{}", client.base(), text(t, "path"));
    match command {
        TriggersCommand::Add(args) => {
            let kind = match args.kind {
                TriggerKindArg::Github => "github",
                TriggerKindArg::Generic => "generic",
            };
            let body = json!({
                "kind": kind,
                "template": args.template,
                "accounts": args.to,
                "prereleases": args.prereleases,
                "description": args.description,
                "queue": args.queue,
            });
            let mut made = runtime
                .block_on(client.add_trigger(token, body))
                .map_err(error)?;
            made["url"] = Value::String(url(&made));
            if ctx.json {
                return print_json(&made);
            }
            match args.kind {
                TriggerKindArg::Github => {
                    print(&format!(
                        "{}\npayload URL: {}\nsecret: {}\n",
                        text(&made, "id"),
                        text(&made, "url"),
                        text(&made, "secret")
                    ))?;
                    note(
                        "On GitHub: the repository's Settings → Webhooks → Add webhook; paste the payload URL, content type application/json, paste the secret (shown once), and choose \"Let me select individual events\" → Releases.",
                    );
                }
                TriggerKindArg::Generic => {
                    print(&format!(
                        "{}\nURL: {}\n",
                        text(&made, "id"),
                        text(&made, "url")
                    ))?;
                    note(format!(
                        "POST a JSON object of the template's variables there with an API key that has posts:write, e.g.\n  curl -H \"Authorization: Bearer $POSTCTL_KEY\" -H 'Content-Type: application/json' -d '{{\"version\": \"1.2.0\", \"dedupe_key\": \"1.2.0\"}}' {}",
                        text(&made, "url")
                    ));
                }
            }
            Ok(())
        }
        TriggersCommand::List => {
            let mut triggers = runtime.block_on(client.triggers(token)).map_err(error)?;
            for t in &mut triggers {
                t["url"] = Value::String(url(t));
            }
            if ctx.json {
                return print_json(&triggers);
            }
            if triggers.is_empty() {
                note(
                    "No triggers yet; make one with `postctl triggers add github --template release --to ACCOUNTS`.",
                );
                return Ok(());
            }
            let rows: Vec<Vec<String>> = triggers
                .iter()
                .map(|t| {
                    vec![
                        text(t, "id"),
                        text(t, "kind"),
                        text(t, "template"),
                        names(t, "accounts"),
                        text(t, "url"),
                    ]
                })
                .collect();
            print(&table(
                &["ID", "KIND", "TEMPLATE", "TO", "URL"],
                &rows,
                stdout_color(),
            ))
        }
        TriggersCommand::Remove(args) => {
            runtime
                .block_on(client.remove_trigger(token, &args.id))
                .map_err(error)?;
            if ctx.json {
                return print_json(&json!({ "removed": args.id }));
            }
            note(format!(
                "Removed trigger {}; its URL stops answering, and the posts it made stay.",
                args.id
            ));
            Ok(())
        }
    }
}
