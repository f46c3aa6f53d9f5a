use std::collections::BTreeSet;

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use postctl_core::analytics::insights::slot_rules;
use postctl_core::model::Schedule;
use postctl_core::queue::{HORIZON_WEEKS, free_slots, next_free_slot};
use postctl_core::store::{NewTarget, Store};
use postctl_core::time::{WeeklyRule, parse_weekly_rules, parse_zone};

use crate::args::{QueueAddArgs, QueueCommand, SlotsCommand, SlotsSetArgs, SlotsSuggestArgs};
use crate::content::{destinations, new_post, read_text};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print, print_json, stdout_color, table, when};
use crate::posts;
use crate::server;

pub fn run(ctx: &mut Context, command: QueueCommand) -> CliResult {
    match command {
        QueueCommand::Slots(SlotsCommand::Set(args)) => set_slots(ctx, &args),
        QueueCommand::Slots(SlotsCommand::Clear(args)) => clear_slots(ctx, &args.account),
        QueueCommand::Slots(SlotsCommand::List) => list_slots(ctx),
        QueueCommand::Slots(SlotsCommand::Suggest(args)) => suggest(ctx, &args),
        QueueCommand::Add(args) => add(ctx, args),
    }
}

/// On a linked database: the server session and the workspace's account names there.
/// The slots of those accounts live on the server (its feeds and triggers with --queue
/// read them), and are kept here too for `postctl queue add`.
struct OnServer {
    linked: server::Linked,
    runtime: tokio::runtime::Runtime,
    accounts: Vec<String>,
}

fn on_server(ctx: &mut Context) -> CliResult<Option<OnServer>> {
    if !ctx.paths.db_file.exists() || !ctx.store()?.is_linked()? {
        return Ok(None);
    }
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let accounts = runtime
        .block_on(linked.client.accounts(&linked.token))
        .map_err(server::error)?
        .into_iter()
        .map(|a| a.name)
        .collect();
    Ok(Some(OnServer {
        linked,
        runtime,
        accounts,
    }))
}

fn is_local(ctx: &mut Context, account: &str) -> CliResult<bool> {
    Ok(ctx.store()?.accounts()?.iter().any(|a| a.name == account))
}

fn set_slots(ctx: &mut Context, args: &SlotsSetArgs) -> CliResult {
    // Read here first, so a rule or zone is refused with the same words either way.
    let rules = parse_weekly_rules(&args.rules)?;
    let tz = ctx.zone(args.tz.as_deref())?;
    let canonical = rules
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let server = on_server(ctx)?.filter(|s| s.accounts.contains(&args.account));
    let remote = match &server {
        Some(s) => Some(
            s.runtime
                .block_on(s.linked.client.set_queue_slots(
                    &s.linked.token,
                    &args.account,
                    &canonical,
                    tz.name(),
                ))
                .map_err(server::error)?,
        ),
        None => None,
    };
    let local = if remote.is_none() || is_local(ctx, &args.account)? {
        Some(
            ctx.store()?
                .set_slots(&args.account, &canonical, tz.name())?,
        )
    } else {
        None
    };
    if ctx.json {
        return print_json(&serde_json::json!({
            "account": args.account, "rules": canonical, "tz": tz.name(),
            "server": remote, "local": local.is_some(),
        }));
    }
    let place = match (&server, &local) {
        (Some(s), Some(_)) => format!(" on the server {} and here", s.linked.link.server),
        (Some(s), None) => format!(" on the server {}", s.linked.link.server),
        _ => String::new(),
    };
    note(format!(
        "{}: slots {canonical} ({}){place}",
        args.account,
        tz.name()
    ));
    if let Some(next) = remote
        .as_ref()
        .and_then(|r| r["next_free"].as_array())
        .and_then(|n| n.first())
        .and_then(|n| n.as_str())
    {
        note(format!(
            "the server's next free slot: {next}; its feeds and triggers with --queue post there"
        ));
    }
    Ok(())
}

fn clear_slots(ctx: &mut Context, account: &str) -> CliResult {
    let server = on_server(ctx)?.filter(|s| s.accounts.iter().any(|a| a == account));
    let remote = match &server {
        Some(s) => Some(
            s.runtime
                .block_on(s.linked.client.clear_queue_slots(&s.linked.token, account))
                .map_err(server::error)?,
        ),
        None => None,
    };
    let local = if remote.is_none() || is_local(ctx, account)? {
        Some(ctx.store()?.clear_slots(account)?)
    } else {
        None
    };
    let had = remote.unwrap_or(false) || local.unwrap_or(false);
    if ctx.json {
        return print_json(&serde_json::json!({
            "account": account, "cleared": had, "server": remote, "local": local,
        }));
    }
    note(if had {
        format!("{account}: slots removed")
    } else {
        format!("{account} had no slots")
    });
    Ok(())
}

/// An account's rules and zone, or an error that says how to set them.
fn account_slots(store: &Store, account: &str) -> CliResult<(Vec<WeeklyRule>, Tz)> {
    let slots = store.slots(account)?.ok_or_else(|| {
        CliError::usage(format!(
            "account {account} has no queue slots; set them with `postctl queue slots set {account} \"mon-fri 09:00,13:00\"`"
        ))
    })?;
    Ok((parse_weekly_rules(&slots.rules)?, parse_zone(&slots.tz)?))
}

fn list_slots(ctx: &mut Context) -> CliResult {
    let server = on_server(ctx)?;
    let now = ctx.now;
    let tz = ctx.zone(None)?;
    let json = ctx.json;
    let mut rows = Vec::new();
    let mut json_rows = Vec::new();
    let mut shown: Vec<String> = Vec::new();
    if let Some(s) = &server {
        // The server's slots, with the times its posts (feeds' and triggers' too) hold.
        let remote = s
            .runtime
            .block_on(s.linked.client.queue_slots(&s.linked.token))
            .map_err(server::error)?;
        for item in remote {
            let account = server::text(&item, "account");
            let next: Vec<chrono::DateTime<chrono::Utc>> = item["next_free"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str()?.parse().ok())
                .collect();
            rules_row(
                &mut rows,
                &account,
                &server::text(&item, "rules"),
                &server::text(&item, "tz"),
                &next,
                tz,
            );
            json_rows.push(serde_json::json!({
                "account": account, "rules": item["rules"], "tz": item["tz"],
                "next_free": next, "where": "server",
            }));
            shown.push(account);
        }
    }
    let store = ctx.store()?;
    for slots in store.all_slots()? {
        if shown.contains(&slots.account) {
            continue;
        }
        let (rules, slot_tz) = account_slots(store, &slots.account)?;
        let account = store.account(&slots.account)?;
        let taken = store.taken_times(&account.id, now)?;
        let next: Vec<_> = free_slots(&rules, slot_tz, now, &taken)
            .into_iter()
            .take(3)
            .collect();
        rules_row(
            &mut rows,
            &slots.account,
            &slots.rules,
            &slots.tz,
            &next,
            tz,
        );
        json_rows.push(serde_json::json!({
            "account": slots.account, "rules": slots.rules, "tz": slots.tz, "next_free": next,
            "where": "local",
        }));
    }
    if json {
        return print_json(&json_rows);
    }
    if rows.is_empty() {
        note(
            "no queue slots; set some with `postctl queue slots set ACCOUNT \"mon-fri 09:00,13:00\"`",
        );
        return Ok(());
    }
    print(&table(
        &["ACCOUNT", "SLOTS", "ZONE", "NEXT FREE"],
        &rows,
        stdout_color(),
    ))
}

fn rules_row(
    rows: &mut Vec<Vec<String>>,
    account: &str,
    rules: &str,
    zone: &str,
    next: &[chrono::DateTime<chrono::Utc>],
    tz: Tz,
) {
    let next = next
        .first()
        .map(|n| when(Some(*n), tz))
        .unwrap_or_else(|| format!("none in {HORIZON_WEEKS} weeks"));
    rows.push(vec![account.into(), rules.into(), zone.into(), next]);
}

fn add(ctx: &mut Context, args: QueueAddArgs) -> CliResult {
    let body = read_text(&args.text)?;
    if body.trim().is_empty() {
        return Err(CliError::usage("the text is empty; give the post's text"));
    }
    let accounts = destinations(ctx, &args.content)?;
    if accounts.is_empty() {
        return Err(CliError::usage("say which account's queue: --to ACCOUNT"));
    }
    // On a linked database whose first account is the server's, the server's queue
    // decides. A server that cannot be asked leaves this database's queue to the accounts
    // the server did not have at the last sync; for its own, the error stands.
    match on_server(ctx) {
        Ok(Some(server)) if server.accounts.contains(&accounts[0].name) => {
            return add_on_server(ctx, server, body, args, &accounts);
        }
        Ok(_) => {}
        Err(e) => {
            if ctx
                .store()?
                .server_account_names()?
                .contains(&accounts[0].name)
            {
                return Err(e);
            }
        }
    }
    let now = ctx.now;
    let mut targets = Vec::new();
    let mut zone = None;
    let store = ctx.store()?;
    for account in &accounts {
        let (rules, tz) = account_slots(store, &account.name)?;
        let taken = store.taken_times(&account.id, now)?;
        let due = next_free_slot(&rules, tz, now, &taken).ok_or_else(|| {
            CliError::usage(format!(
                "{} has no free slot in the next {HORIZON_WEEKS} weeks; add slots with `postctl queue slots set {}`",
                account.name, account.name
            ))
        })?;
        zone.get_or_insert(tz);
        targets.push(NewTarget {
            account_id: account.id.clone(),
            due: Some(due),
        });
    }
    let tz = zone.map(|z| z.name()).unwrap_or("UTC");
    let post = new_post(ctx, body, args.content, tz, Schedule::Queue, targets)?;
    let id = ctx.store()?.create_post(&post)?;
    crate::posts::warn_not_publishable(&accounts);
    posts::report_scheduled(ctx, &id, None)
}

/// `queue add` on a linked database whose first account is a server account: the post is
/// stored here as a draft and pushed by a sync (as `postctl post` sends a post there), then
/// the server schedules it at the next free slot of its queue for that account, decided as
/// it writes the post, so its feeds, triggers and other devices never get the same slot
/// (`POST /api/v1/posts/{id}/schedule` with `"queue": true`); a second sync brings the time
/// back here. One time for all the accounts: the first account's slot none of them holds.
fn add_on_server(
    ctx: &mut Context,
    server: OnServer,
    body: String,
    args: QueueAddArgs,
    accounts: &[postctl_core::model::Account],
) -> CliResult {
    let OnServer {
        linked,
        runtime,
        accounts: on_server,
    } = server;
    let address = linked.link.server.clone();
    let missing: Vec<&str> = accounts
        .iter()
        .map(|a| a.name.as_str())
        .filter(|name| !on_server.iter().any(|s| s == name))
        .collect();
    if !missing.is_empty() {
        return Err(CliError::usage(format!(
            "{} not on the server {address}, which publishes this workspace's posts: send the credentials with `postctl accounts push NAME`; nothing was stored",
            missing.join(", ") + if missing.len() == 1 { " is" } else { " are" }
        )));
    }
    // Refused before anything is stored when the first account has no slots there.
    let first = &accounts[0].name;
    let slots = runtime
        .block_on(linked.client.queue_slots(&linked.token))
        .map_err(server::error)?;
    if !slots.iter().any(|s| server::text(s, "account") == *first) {
        return Err(CliError::usage(format!(
            "account {first} has no queue slots on the server {address}; set them with `postctl queue slots set {first} \"mon-fri 09:00,13:00\"`; nothing was stored"
        )));
    }
    let targets = accounts
        .iter()
        .map(|a| NewTarget {
            account_id: a.id.clone(),
            due: None,
        })
        .collect();
    let post = new_post(ctx, body, args.content, "UTC", Schedule::None, targets)?;
    let id = ctx.store()?.create_post(&post)?;
    let media_dir = ctx.paths.media_dir();
    let kept = |why: String| CliError {
        message: format!(
            "{why}; post {id} is kept here as a draft: schedule it with `postctl schedule {id} --at WHEN`, or remove it with `postctl draft rm {id}`"
        ),
        code: crate::exit::ExitCode::Partial,
    };
    let sync = |store: &mut postctl_core::store::Store| {
        runtime.block_on(postctl_core::sync::run::sync(
            store,
            &linked.client,
            &linked.token,
            &media_dir,
        ))
    };
    if let Err(e) = sync(ctx.store()?) {
        return Err(kept(format!(
            "the post could not be sent to {address}: {e}"
        )));
    }
    if let Some(held) = ctx.store()?.held_posts()?.iter().find(|h| h.post_id == id) {
        return Err(kept(format!(
            "the file {} could not be uploaded to {address} ({})",
            held.file_name, held.reason
        )));
    }
    if let Err(e) = runtime.block_on(linked.client.schedule_queued(&linked.token, &id)) {
        let e = server::error(e);
        return Err(kept(format!("the server did not queue it: {}", e.message)));
    }
    // The server's time comes back with its sync version; if this pull fails, the next
    // sync brings it.
    if let Err(e) = sync(ctx.store()?) {
        note(format!(
            "queued on the server {address}; its time reaches this database at the next sync ({e})"
        ));
    }
    crate::posts::warn_not_publishable(accounts);
    posts::report_scheduled(ctx, &id, None)
}

/// Each (weekday, time) a week of `rules` posts at, Monday first.
fn weekly_times(rules: &[WeeklyRule]) -> BTreeSet<(u32, NaiveTime)> {
    rules
        .iter()
        .flat_map(|rule| {
            rule.days().into_iter().flat_map(move |day| {
                rule.times()
                    .iter()
                    .map(move |time| (day.num_days_from_monday(), *time))
            })
        })
        .collect()
}

/// "Tue 09:00".
fn weekly_time_label((day, time): &(u32, NaiveTime)) -> String {
    let day = Weekday::try_from(*day as u8).unwrap_or(Weekday::Mon);
    format!("{day} {}", time.format("%H:%M"))
}

fn suggest(ctx: &mut Context, args: &SlotsSuggestArgs) -> CliResult {
    let report = crate::analytics::insights(ctx, Some(&args.account), None, 1)?;
    let Some(account) = report.accounts.first() else {
        return Err(CliError::failure(format!(
            "no insights for {}; run `postctl insights --account {}`",
            args.account, args.account
        )));
    };
    let name = account.insights.account.clone();
    let times = &account.insights.best_times;
    let chosen = times.suggestions(args.count as usize);
    let zone = account.zone.clone();
    // A server account of a linked workspace has its slots on the server: they are the
    // ones replaced (and compared), as `slots set` does.
    let server = if args.apply {
        on_server(ctx)?.filter(|s| s.accounts.contains(&name))
    } else {
        None
    };
    let before = match &server {
        Some(s) => s
            .runtime
            .block_on(s.linked.client.queue_slots(&s.linked.token))
            .map_err(server::error)?
            .iter()
            .find(|item| server::text(item, "account") == name)
            .map(|item| postctl_core::store::Slots {
                account: name.clone(),
                rules: server::text(item, "rules"),
                tz: server::text(item, "tz"),
            }),
        None => ctx.store()?.slots(&name)?,
    };
    let suggested: Vec<serde_json::Value> = chosen
        .iter()
        .map(|slot| {
            serde_json::json!({
                "slot": slot.label(), "weekday": slot.weekday.to_string().to_lowercase(),
                "hour": slot.hour, "value": slot.value, "posts": slot.posts, "lift": slot.lift,
                "certainty": slot.certainty, "says": slot.certainty.says(),
            })
        })
        .collect();
    let measure = account.insights.measure.clone();
    let statement = times.statement();
    if chosen.is_empty() {
        let why =
            format!("{name}: {statement}; no slot to suggest, so the queue slots are unchanged");
        if ctx.json {
            return print_json(&serde_json::json!({
                "account": name, "zone": zone, "measure": measure, "statement": statement,
                "suggested": suggested, "rules": null, "applied": false, "changed": null,
            }));
        }
        note(why);
        return Ok(());
    }
    let rules = parse_weekly_rules(&slot_rules(&chosen))?;
    let canonical = rules
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let mut changed = None;
    let mut remote = None;
    let mut local = false;
    if args.apply {
        let old_times = match &before {
            Some(slots) if slots.tz == zone => weekly_times(&parse_weekly_rules(&slots.rules)?),
            _ => BTreeSet::new(),
        };
        let new_times = weekly_times(&rules);
        let same = before
            .as_ref()
            .is_some_and(|slots| slots.tz == zone && old_times == new_times);
        changed = Some(if same {
            format!("{name}: the slots are already {canonical} ({zone}); nothing changed")
        } else {
            if let Some(s) = &server {
                remote = Some(
                    s.runtime
                        .block_on(s.linked.client.set_queue_slots(
                            &s.linked.token,
                            &name,
                            &canonical,
                            &zone,
                        ))
                        .map_err(server::error)?,
                );
            }
            if server.is_none() || is_local(ctx, &name)? {
                ctx.store()?.set_slots(&name, &canonical, &zone)?;
                local = true;
            }
            let place = match &server {
                Some(s) if local => format!(" on the server {} and here", s.linked.link.server),
                Some(s) => format!(" on the server {}", s.linked.link.server),
                None => String::new(),
            };
            let added: Vec<String> = new_times
                .difference(&old_times)
                .map(weekly_time_label)
                .collect();
            let removed: Vec<String> = old_times
                .difference(&new_times)
                .map(weekly_time_label)
                .collect();
            let was = match &before {
                Some(slots) => format!("\"{}\" ({})", slots.rules, slots.tz),
                None => "none".into(),
            };
            let mut said = format!("{name}: slots were {was}, now \"{canonical}\" ({zone}){place}");
            if !added.is_empty() {
                said += &format!("; added {}", added.join(", "));
            }
            if !removed.is_empty() {
                said += &format!("; removed {}", removed.join(", "));
            }
            said + "; posts already in the queue keep their times"
        });
    }
    if ctx.json {
        return print_json(&serde_json::json!({
            "account": name, "zone": zone, "measure": measure, "statement": statement,
            "suggested": suggested, "rules": canonical, "applied": args.apply,
            "before": before, "changed": changed, "server": remote, "local": local,
        }));
    }
    let rows: Vec<Vec<String>> = chosen
        .iter()
        .map(|slot| {
            vec![
                slot.label(),
                format!("{:.2}", slot.value),
                slot.posts.to_string(),
                slot.lift
                    .map(|l| format!("{l:.1}x"))
                    .unwrap_or_else(|| "-".into()),
                slot.certainty.says().to_string(),
            ]
        })
        .collect();
    print(&table(
        &["SLOT", "VALUE", "POSTS", "VS OTHERS", "HOW SURE"],
        &rows,
        stdout_color(),
    ))?;
    note(format!(
        "{name}: {statement}; values are {measure}, times in {zone}"
    ));
    match changed {
        Some(changed) => note(changed),
        None => note(format!(
            "as queue slots: \"{canonical}\" ({zone}); set them with `postctl queue slots suggest {name} --apply`"
        )),
    }
    Ok(())
}
