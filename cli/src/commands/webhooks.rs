//! `postctl webhooks add|list|remove|deliveries|redeliver|ping`: the linked server
//! workspace's outbound webhook endpoints, over this database's server session.

use serde_json::{Value, json};

use crate::args::WebhooksCommand;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print, print_json, stdout_color, table};
use crate::server::{self, error, names, text};

/// "500 receiver says 500", "timed out", "-".
fn last_answer(delivery: &Value) -> String {
    let Some(last) = delivery["attempts"].as_array().and_then(|a| a.last()) else {
        return "-".into();
    };
    match (&last["status"], last["error"].as_str()) {
        (Value::Number(status), _) => status.to_string(),
        (_, Some(error)) => error.chars().take(60).collect(),
        _ => "-".into(),
    }
}

pub fn run(ctx: &mut Context, command: WebhooksCommand) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let (client, token) = (&linked.client, &linked.token);
    match command {
        WebhooksCommand::Add(args) => {
            let made = runtime
                .block_on(client.add_webhook(
                    token,
                    &args.url,
                    &args.events,
                    args.description.as_deref(),
                ))
                .map_err(error)?;
            if ctx.json {
                return print_json(&made);
            }
            print(&format!(
                "{}\nsecret: {}\n",
                text(&made, "id"),
                text(&made, "secret")
            ))?;
            note(format!(
                "Endpoint {} receives {} from workspace {}. The secret is shown once: give it to the receiver, which checks each delivery's webhook-signature with it (README, \"Integrations\"). Test it with `postctl webhooks ping {}`.",
                text(&made, "url"),
                names(&made, "events"),
                linked.link.workspace,
                text(&made, "id")
            ));
            Ok(())
        }
        WebhooksCommand::List => {
            let hooks = runtime.block_on(client.webhooks(token)).map_err(error)?;
            if ctx.json {
                return print_json(&hooks);
            }
            if hooks.is_empty() {
                note(
                    "No webhooks yet; add one with `postctl webhooks add URL --events post.published`.",
                );
                return Ok(());
            }
            let rows: Vec<Vec<String>> = hooks
                .iter()
                .map(|h| {
                    vec![
                        text(h, "id"),
                        if h["enabled"] == true {
                            "enabled".into()
                        } else {
                            format!("disabled ({})", text(h, "disabled_reason"))
                        },
                        names(h, "events"),
                        text(h, "url"),
                    ]
                })
                .collect();
            print(&table(
                &["ID", "STATE", "EVENTS", "URL"],
                &rows,
                stdout_color(),
            ))
        }
        WebhooksCommand::Remove(args) => {
            runtime
                .block_on(client.remove_webhook(token, &args.id))
                .map_err(error)?;
            if ctx.json {
                return print_json(&json!({ "removed": args.id }));
            }
            note(format!("Removed webhook {} and its deliveries.", args.id));
            Ok(())
        }
        WebhooksCommand::Deliveries(args) => {
            let deliveries = runtime
                .block_on(client.webhook_deliveries(token, &args.id, args.limit))
                .map_err(error)?;
            if ctx.json {
                return print_json(&deliveries);
            }
            if deliveries.is_empty() {
                note(format!(
                    "No deliveries to webhook {} yet; send one with `postctl webhooks ping {}`.",
                    args.id, args.id
                ));
                return Ok(());
            }
            let rows: Vec<Vec<String>> = deliveries
                .iter()
                .map(|d| {
                    vec![
                        text(d, "id"),
                        text(d, "event_type"),
                        text(d, "state"),
                        d["attempts"].as_array().map_or(0, Vec::len).to_string(),
                        last_answer(d),
                        text(d, "created_at"),
                    ]
                })
                .collect();
            print(&table(
                &["ID", "EVENT", "STATE", "ATTEMPTS", "LAST ANSWER", "CREATED"],
                &rows,
                stdout_color(),
            ))
        }
        WebhooksCommand::Redeliver(args) => {
            let delivery = runtime
                .block_on(client.redeliver(token, &args.delivery))
                .map_err(error)?;
            if ctx.json {
                return print_json(&delivery);
            }
            print(&format!("{}\n", text(&delivery, "id")))?;
            note(format!(
                "Sending the {} event of delivery {} again as delivery {}; follow it with `postctl webhooks deliveries {}`.",
                text(&delivery, "event_type"),
                args.delivery,
                text(&delivery, "id"),
                text(&delivery, "webhook_id")
            ));
            Ok(())
        }
        WebhooksCommand::Enable(args) => {
            let hook = runtime
                .block_on(client.set_webhook_enabled(token, &args.id, true))
                .map_err(error)?;
            toggled(
                ctx.json,
                &hook,
                &args.id,
                "is enabled again, its failures forgotten; test it with `postctl webhooks ping ID`",
            )
        }
        WebhooksCommand::Disable(args) => {
            let hook = runtime
                .block_on(client.set_webhook_enabled(token, &args.id, false))
                .map_err(error)?;
            toggled(
                ctx.json,
                &hook,
                &args.id,
                "is disabled: it gets no deliveries until `postctl webhooks enable ID`",
            )
        }
        WebhooksCommand::Ping(args) => {
            let delivery = runtime
                .block_on(client.ping_webhook(token, &args.id))
                .map_err(error)?;
            if ctx.json {
                return print_json(&delivery);
            }
            print(&format!("{}\n", text(&delivery, "id")))?;
            note(format!(
                "Sending a ping to webhook {}; see the answer with `postctl webhooks deliveries {}`.",
                args.id, args.id
            ));
            Ok(())
        }
    }
}

/// What `webhooks enable|disable` says: the endpoint as JSON, or `what` happened to it.
fn toggled(json: bool, hook: &Value, id: &str, what: &str) -> CliResult {
    if json {
        return print_json(hook);
    }
    note(format!("Webhook {id} {}.", what.replace("ID", id)));
    Ok(())
}
