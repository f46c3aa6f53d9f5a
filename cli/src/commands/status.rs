//! `postctl status`, `postctl retry` and `postctl resolve`.

use chrono_tz::Tz;
use postctl_core::model::TargetState;
use postctl_core::store::TargetStatus;

use std::io::{BufRead, IsTerminal, Write};

use crate::args::{IdArg, ResolveArgs, RetryArgs, UnpublishArgs};
use crate::context::Context;
use crate::exit::CliResult;
use crate::exit::{CliError, ExitCode};
use crate::output::{note, paint, print, print_json, state_color, stdout_color, when};

pub fn status(ctx: &mut Context, args: &IdArg) -> CliResult {
    let tz = ctx.zone(None)?;
    let json = ctx.json;
    let store = ctx.store()?;
    let id = store.resolve_post_id(&args.id)?;
    let targets = store.target_status(&id)?;
    let mut accounts = Vec::new();
    for t in &targets {
        if let Ok(account) = store.account(&t.account) {
            accounts.push(account);
        }
    }
    let down = crate::engine::networks_down(store, &accounts)?;
    // A linked database's posts are published by its server, never by this device.
    let publisher = store.sync_link()?.map(|link| {
        format!(
            "published by the server {} (workspace {}), not by this device; `postctl sync` sends changes there and brings its results here",
            link.server, link.workspace
        )
    });
    let on_server = if publisher.is_some() {
        store.server_targets(&id)?
    } else {
        Vec::new()
    };
    if json {
        let networks: Vec<serde_json::Value> = down
            .iter()
            .map(|(state, names)| crate::engine::network_down_json(state, names))
            .collect();
        return print_json(&serde_json::json!({
            "post_id": id,
            "targets": targets,
            "networks_down": networks,
            "published_by": if publisher.is_some() { "server" } else { "this device" },
            "server_targets": on_server,
        }));
    }
    let mut out = render(&id, &targets, tz);
    if let Some(line) = publisher {
        out += &format!("\n{line}\n");
        if on_server.is_empty() {
            out += "the server has no targets for it yet (not synced, or its accounts are not on the server: see `postctl sync status`)\n";
        }
        for t in &on_server {
            let color = stdout_color();
            let state = if t.state == TargetState::AwaitingApproval.as_str() {
                "awaiting approval (an owner, admin or approver decides: `postctl approvals`)"
            } else {
                t.state.as_str()
            };
            out += &format!(
                "\n{} ({})  {} by the server (as of {})\n",
                paint(&t.account, "1", color),
                t.network,
                state,
                when(Some(t.updated), tz)
            );
            out += &format!("  due:      {}\n", when(t.due, tz));
            if let Some(url) = &t.url {
                out += &format!("  url:      {url}\n");
            }
            out += &format!("  attempts: {}\n", t.attempts);
            if let Some(error) = &t.last_error {
                out += &format!("  error:    {error}\n");
            }
        }
    }
    for (state, _) in &down {
        out += &format!(
            "\nnetwork down: {}\n",
            crate::engine::network_down_line(state, tz)
        );
    }
    print(&out)
}

fn render(id: &str, targets: &[TargetStatus], tz: Tz) -> String {
    let color = stdout_color();
    let mut out = format!("{} {id}\n", paint("post", "1", color));
    if targets.is_empty() {
        out += "no targets (a draft without accounts)\n";
    }
    for t in targets {
        out += &format!(
            "\n{} ({})  {}\n",
            paint(&t.account, "1", color),
            t.network,
            paint(t.state.as_str(), state_color(t.state), color)
        );
        out += &format!("  due:      {}\n", when(t.due, tz));
        if let Some(next) = t.next_attempt {
            out += &format!("  next try: {}\n", when(Some(next), tz));
        }
        if let (TargetState::Publishing, Some(expires)) = (t.state, t.claim_expires) {
            let part = t
                .part_in_flight
                .map(|p| format!(" (part {} was on its way)", p + 1))
                .unwrap_or_default();
            out += &format!(
                "  claimed:  by a publisher until {}{part}; if that publisher stopped (crash, kill), postctl takes the target over then\n",
                when(Some(expires), tz)
            );
        } else if let Some(part) = t.part_in_flight {
            out += &format!(
                "  in doubt: part {} may have reached the network; postctl sends it again only where the network recognises a repeat\n",
                part + 1
            );
        }
        if let Some(until) = t.account_waits_until {
            out += &format!(
                "  waiting:  the network asked {} to wait until {}\n",
                t.account,
                when(Some(until), tz)
            );
        }
        for (i, part) in t.parts.iter().enumerate() {
            let link = part
                .get("url")
                .and_then(|u| u.as_str())
                .or_else(|| part.get("id").and_then(|u| u.as_str()))
                .unwrap_or("");
            out += &format!("  part {}:   {link}\n", i + 1);
        }
        if let Some(error) = &t.last_error {
            out += &format!("  error:    {error}\n");
        }
        for a in &t.attempts {
            out += &format!(
                "  attempt  {}  part {}  {}{}{}\n",
                when(Some(a.started), tz),
                a.part + 1,
                a.outcome,
                a.http_status
                    .map(|s| format!(" (HTTP {s})"))
                    .unwrap_or_default(),
                a.error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        }
    }
    out
}

pub fn retry(ctx: &mut Context, args: &RetryArgs) -> CliResult {
    let json = ctx.json;
    let store = ctx.store()?;
    let id = store.resolve_post_id(&args.id)?;
    let accounts = store.retry_post(&id)?;
    if accounts.is_empty() {
        if json {
            return print_json(&serde_json::json!({"post_id": id, "retried": accounts}));
        }
        note(format!(
            "post {id} has nothing to retry (see `postctl status {id}`)"
        ));
        return Ok(());
    }
    let Some(wait) = args.wait else {
        if json {
            return print_json(&serde_json::json!({"post_id": id, "retried": accounts}));
        }
        note(format!(
            "{} due again now: the daemon or `postctl run-due` publishes it (or `postctl retry {} --wait SECONDS` now)",
            accounts.join(", "),
            args.id
        ));
        return Ok(());
    };
    let tz = ctx.zone(None)?;
    let store = ctx.take_store()?;
    let engine = crate::engine::engine(ctx, store)?;
    let runtime = crate::engine::runtime()?;
    let until = ctx.clock.now() + chrono::Duration::seconds(wait.min(86_400) as i64);
    let posts = [id.clone()];
    let report = crate::engine::publish_and_wait(&engine, &runtime, Some(&posts), until, tz)?;
    runtime.block_on(crate::engine::notify(
        &engine,
        &ctx.config.notify,
        &report,
        tz,
    ));
    if json {
        print_json(
            &serde_json::json!({"post_id": id, "retried": accounts, "targets": report.outcomes}),
        )?;
    } else {
        crate::engine::print_outcomes(&report.outcomes)?;
    }
    crate::engine::exit_for(&report.outcomes, &id)
}

pub fn resolve(ctx: &mut Context, args: &ResolveArgs) -> CliResult {
    let json = ctx.json;
    let store = ctx.store()?;
    let id = store.resolve_post_id(&args.id)?;
    let resolved =
        store.resolve_uncertain(&id, args.account.as_deref(), args.published.as_deref())?;
    if json {
        let accounts: Vec<&str> = resolved.iter().map(|r| r.account.as_str()).collect();
        return print_json(&serde_json::json!({
            "post_id": id,
            "resolved": accounts,
            "published": args.published,
            "targets": resolved,
        }));
    }
    for r in &resolved {
        match (&args.published, r.to_send) {
            (Some(url), 0) => note(format!(
                "{}: part {} recorded as published at {url}",
                r.account,
                r.part + 1
            )),
            (Some(url), rest) => note(format!(
                "{}: part {} recorded as published at {url}; the thread continues with the {rest} part(s) after it, due now: the daemon or `postctl run-due` sends them",
                r.account,
                r.part + 1
            )),
            (None, _) => note(format!(
                "{}: due again now from part {}; the daemon or `postctl run-due` publishes it",
                r.account,
                r.part + 1
            )),
        }
    }
    Ok(())
}

pub fn unpublish(ctx: &mut Context, args: &UnpublishArgs) -> CliResult {
    let store = ctx.store()?;
    let id = store.resolve_post_id(&args.id)?;
    let mut targets = store.published_targets(&id)?;
    if let Some(name) = &args.account {
        targets.retain(|(_, account, _)| &account.name == name);
    }
    if targets.is_empty() {
        return Err(CliError::usage(format!(
            "post {id} has nothing published{}; see `postctl status {id}`",
            args.account
                .as_ref()
                .map(|a| format!(" on {a}"))
                .unwrap_or_default()
        )));
    }
    let names: Vec<String> = targets.iter().map(|(_, a, _)| a.name.clone()).collect();
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::usage(
                "unpublish deletes posts from networks: pass --yes to confirm (stdin is not a terminal, so postctl does not ask)",
            ));
        }
        eprint!("Delete post {id} from {}? [y/N] ", names.join(", "));
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            note("nothing deleted");
            return Ok(());
        }
    }
    let store = ctx.take_store()?;
    let engine = crate::engine::engine(ctx, store)?;
    let results =
        crate::engine::runtime()?.block_on(engine.unpublish(&id, args.account.as_deref()))?;
    if ctx.json {
        let rows: Vec<_> = results
            .iter()
            .map(|(account, result)| match result {
                Ok(parts) => serde_json::json!({"account": account, "deleted_parts": parts}),
                Err(error) => serde_json::json!({"account": account, "error": error}),
            })
            .collect();
        print_json(&rows)?;
    } else {
        for (account, result) in &results {
            match result {
                Ok(parts) => note(format!("{account}: deleted {parts} part(s)")),
                Err(error) => note(format!("{account}: {error}")),
            }
        }
    }
    if results.iter().any(|(_, r)| r.is_err()) {
        return Err(CliError {
            message: format!(
                "not every part could be deleted; see above, and `postctl status {id}`"
            ),
            code: ExitCode::Partial,
        });
    }
    Ok(())
}
