//! `postctl notifications channels add|list|remove` and `postctl notifications
//! preferences [set EVENT CHANNEL on|off]`: the signed-in user's notification channels and
//! preferences on the linked server, over this database's server session. A channel's
//! token is read from stdin or an environment variable, sent once, and never printed.

use std::io::IsTerminal;

use postctl_core::secrets::{Secret, env_var_name, read_secret};
use serde_json::{Map, Value, json};

use crate::args::{
    ChannelAddArgs, ChannelKindArg, ChannelsCommand, NotificationsCommand, OnOff,
    PreferenceSetArgs, PreferencesCommand,
};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print, print_json, stdout_color, table};
use crate::server::{self, error, names, text};

pub fn run(ctx: &mut Context, command: NotificationsCommand) -> CliResult {
    match command {
        NotificationsCommand::Channels(command) => channels(ctx, command),
        NotificationsCommand::Preferences(args) => match args.command {
            None => show_preferences(ctx),
            Some(PreferencesCommand::Set(set)) => set_preference(ctx, &set),
        },
    }
}

/// The channel's token, from `--token-stdin` or `--token-env`, checked against what the
/// kind takes before anything is sent.
fn channel_token(args: &ChannelAddArgs) -> CliResult<Option<Secret>> {
    let given = if let Some(var) = &args.token_env {
        env_var_name("--token-env", "TG_BOT_TOKEN", var)?;
        let var = var.trim();
        let value = std::env::var(var).map_err(|_| {
            CliError::usage(format!(
                "the environment variable {var} is not set; export it with the token first"
            ))
        })?;
        if value.trim().is_empty() {
            return Err(CliError::usage(format!(
                "the environment variable {var} is empty; put the token in it"
            )));
        }
        Some(Secret::new(value.trim().to_string()))
    } else if args.token_stdin {
        if std::io::stdin().is_terminal() {
            return Err(CliError::usage(
                "--token-stdin reads the token from a pipe or file, e.g. `--token-stdin < token.txt`; or use --token-env VAR",
            ));
        }
        Some(read_secret(std::io::stdin().lock())?)
    } else {
        None
    };
    match (args.kind, &given) {
        (ChannelKindArg::Telegram, None) => Err(CliError::usage(
            "a Telegram channel needs the bot's token (from @BotFather): --token-stdin < bot-token.txt or --token-env VAR",
        )),
        (ChannelKindArg::Telegram | ChannelKindArg::Ntfy, _) => Ok(given),
        (kind, Some(_)) => Err(CliError::usage(format!(
            "a {} channel takes no token; drop --token-stdin/--token-env",
            kind.as_str()
        ))),
        (_, None) => Ok(None),
    }
}

fn channels(ctx: &mut Context, command: ChannelsCommand) -> CliResult {
    // The token is read before the server is asked anything: a refused flag changes nothing.
    let token_given = match &command {
        ChannelsCommand::Add(args) => channel_token(args)?,
        _ => None,
    };
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let (client, session) = (&linked.client, &linked.token);
    match command {
        ChannelsCommand::Add(args) => {
            let mut body = json!({ "kind": args.kind.as_str(), "address": args.address.trim() });
            if let Some(token) = &token_given {
                body["token"] = json!(token.expose());
            }
            let made = runtime
                .block_on(client.add_notification_channel(session, &body))
                .map_err(error)?;
            if ctx.json {
                return print_json(&made);
            }
            print(&format!("{}\n", text(&made, "id")))?;
            note(format!(
                "Added the {} channel {}{}. Choose what reaches it with `postctl notifications preferences set EVENT {} on`.",
                text(&made, "kind"),
                text(&made, "address"),
                if made["token_set"] == true {
                    " (its token is sealed on the server and never shown)"
                } else {
                    ""
                },
                text(&made, "kind"),
            ));
            Ok(())
        }
        ChannelsCommand::List => {
            let list = runtime
                .block_on(client.notification_channels(session))
                .map_err(error)?;
            if ctx.json {
                return print_json(&list);
            }
            if list.is_empty() {
                note(
                    "No channels yet: notifications reach only your inbox. Add one with `postctl notifications channels add email me@example.org`.",
                );
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        text(c, "id"),
                        text(c, "kind"),
                        text(c, "address"),
                        if c["token_set"] == true { "set" } else { "-" }.into(),
                    ]
                })
                .collect();
            print(&table(
                &["ID", "KIND", "ADDRESS", "TOKEN"],
                &rows,
                stdout_color(),
            ))
        }
        ChannelsCommand::Remove(args) => {
            runtime
                .block_on(client.remove_notification_channel(session, &args.id))
                .map_err(error)?;
            if ctx.json {
                return print_json(&json!({ "removed": args.id }));
            }
            note(format!("Removed channel {}.", args.id));
            Ok(())
        }
    }
}

fn show_preferences(ctx: &mut Context) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let prefs = runtime
        .block_on(linked.client.notification_preferences(&linked.token))
        .map_err(error)?;
    if ctx.json {
        return print_json(&prefs);
    }
    let rows: Vec<Vec<String>> = prefs["events"]
        .as_object()
        .map(|events| {
            events
                .iter()
                .map(|(event, choice)| {
                    let channels = names(choice, "channels");
                    vec![
                        event.clone(),
                        if channels.is_empty() {
                            "-".into()
                        } else {
                            channels
                        },
                        if choice["default"] == true {
                            "default"
                        } else {
                            "chosen"
                        }
                        .into(),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    print(&table(&["EVENT", "CHANNELS", ""], &rows, stdout_color()))?;
    match prefs["digest"].as_object() {
        Some(d) => note(format!(
            "Daily digest at {} ({}), next {}.",
            d.get("at").and_then(Value::as_str).unwrap_or("?"),
            d.get("zone").and_then(Value::as_str).unwrap_or("?"),
            d.get("next_at").and_then(Value::as_str).unwrap_or("?"),
        )),
        None => note("No daily digest."),
    }
    Ok(())
}

/// The body that saves `prefs` (as the server shows them) with `event` reaching `channel`
/// or not: the other chosen event types are kept, default ones stay default, and the
/// digest is kept. Refuses an event type or channel the server does not name.
pub fn changed_preferences(
    prefs: &Value,
    event: &str,
    channel: &str,
    on: bool,
) -> Result<Value, String> {
    let events = prefs["events"]
        .as_object()
        .ok_or("the server's answer has no `events`")?;
    let known: Vec<&str> = prefs["channels"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !known.contains(&channel) {
        return Err(format!(
            "{channel:?} is not a channel; use one of {}",
            known.join(", ")
        ));
    }
    if !events.contains_key(event) {
        return Err(format!(
            "{event:?} is not an event type you can be told of; use one of {}",
            events.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut chosen = Map::new();
    for (name, choice) in events {
        let mut list: Vec<String> = choice["channels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if name == event {
            list.retain(|c| c != channel);
            if on {
                list.push(channel.to_string());
            }
        } else if choice["default"] == true {
            continue;
        }
        chosen.insert(name.clone(), json!(list));
    }
    let digest = prefs["digest"]
        .as_object()
        .map(|d| json!({ "at": d.get("at"), "zone": d.get("zone") }));
    Ok(json!({ "events": chosen, "digest": digest }))
}

fn set_preference(ctx: &mut Context, set: &PreferenceSetArgs) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let prefs = runtime
        .block_on(linked.client.notification_preferences(&linked.token))
        .map_err(error)?;
    let on = set.state == OnOff::On;
    let body = changed_preferences(&prefs, set.event.trim(), set.channel.trim(), on)
        .map_err(CliError::usage)?;
    let saved = runtime
        .block_on(
            linked
                .client
                .set_notification_preferences(&linked.token, &body),
        )
        .map_err(error)?;
    if ctx.json {
        return print_json(&saved);
    }
    let now = names(&saved["events"][set.event.trim()], "channels");
    note(format!(
        "{} now reaches: {}.",
        set.event.trim(),
        if now.is_empty() { "nothing" } else { &now }
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs() -> Value {
        json!({
            "events": {
                "post.failed": {"channels": ["inapp", "email"], "default": true},
                "post.published": {"channels": [], "default": true},
                "approval.decided": {"channels": ["inapp"], "default": false},
            },
            "channels": ["inapp", "email", "ntfy"],
            "digest": {"at": "08:30", "zone": "Europe/Berlin", "next_at": "x"},
        })
    }

    #[test]
    fn one_change_keeps_the_other_choices_and_the_digest() {
        let body = changed_preferences(&prefs(), "post.published", "inapp", true).expect("ok");
        assert_eq!(
            body,
            json!({
                "events": {"post.published": ["inapp"], "approval.decided": ["inapp"]},
                "digest": {"at": "08:30", "zone": "Europe/Berlin"},
            })
        );
        let body = changed_preferences(&prefs(), "post.failed", "email", false).expect("ok");
        assert_eq!(body["events"]["post.failed"], json!(["inapp"]));
        assert!(changed_preferences(&prefs(), "post.failed", "pager", true).is_err());
        assert!(changed_preferences(&prefs(), "ping", "inapp", true).is_err());
    }
}
