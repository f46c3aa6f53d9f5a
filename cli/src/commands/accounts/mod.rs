use std::io::IsTerminal;

use postctl_core::network::{AccountFields, Network, validate_account, validate_account_name};
use postctl_core::secrets::{Secret, SecretRef, env_var_name, read_secret};

use crate::args::{AccountAddArgs, AccountReauthArgs, AccountRmArgs, AccountsCommand};
use crate::content::account_json;
use crate::context::Context;
use crate::exit::ExitCode;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print, print_json, stdout_color, table};

mod push;

pub fn run(ctx: &mut Context, command: AccountsCommand) -> CliResult {
    match command {
        AccountsCommand::Add(args) => add(ctx, &args),
        AccountsCommand::List => list(ctx),
        AccountsCommand::Check(args) => check(ctx, args.name.as_deref()),
        AccountsCommand::Reauth(args) => reauth(ctx, &args),
        AccountsCommand::Rm(args) => remove(ctx, &args),
        AccountsCommand::Push(args) => push::push(ctx, &args.name),
    }
}

fn add(ctx: &mut Context, args: &AccountAddArgs) -> CliResult {
    let network: Network = args
        .network
        .parse()
        .map_err(|e: postctl_core::network::UnknownNetwork| CliError::usage(e.to_string()))?;
    validate_account_name(&args.name)?;
    let mut fields = AccountFields {
        base_url: args.base_url.clone(),
        handle: args.handle.clone(),
        chat: args.chat.clone(),
        channel: args.channel.clone(),
        room: args.room.clone(),
        owner_id: args.owner_id.clone(),
        from_group: args.from_group,
        user_id: args.user_id.clone(),
        page_id: args.page_id.clone(),
        author: args.author.clone(),
        subreddit: args.subreddit.clone(),
        relays: args.relays.clone(),
    };
    if let Some(client_id) = &args.client_id {
        return add_signed_in(ctx, args, network, &fields, client_id);
    }
    let sign_in = &args.sign_in;
    if sign_in.client_secret_stdin || sign_in.no_browser || sign_in.paste {
        return Err(CliError::usage(
            "--client-secret-stdin, --no-browser and --paste go with --client-id (signing in in the browser); with --token-stdin or --token-env there is no sign-in",
        ));
    }
    // The secret: from stdin now, or only the name of a variable read at publish time.
    let (secret, env_var): (Option<Secret>, Option<&str>) = match &args.token_env {
        Some(var) => {
            // Checks the name now, so the reference parses back from the database later.
            env_var_name("--token-env", "TG_BOT_TOKEN", var)?;
            let var = var.trim();
            (std::env::var(var).ok().map(Secret::new), Some(var))
        }
        None => {
            if std::io::stdin().is_terminal() {
                return Err(CliError::usage(format!(
                    "--token-stdin reads the {} from a pipe or file, e.g. `--token-stdin < token.txt`; or keep it in an environment variable with --token-env VAR",
                    network.secret_kind()
                )));
            }
            (Some(read_secret(std::io::stdin().lock())?), None)
        }
    };
    if args.oauth1 && network != Network::X {
        return Err(CliError::usage(format!(
            "--oauth1 is for X only; add the {} account without it",
            network.display_name()
        )));
    }
    // Facebook: a user token given now chooses the Page, whose own token is kept.
    let secret = match secret {
        Some(given) if network == Network::Facebook && env_var.is_none() => {
            // The flags are checked (the address above all) before the token goes anywhere.
            let mut chosen = fields.clone();
            chosen.page_id.get_or_insert_with(|| "1".into());
            let checked = validate_account(network, &chosen, None)?;
            Some(crate::facebook::page_token(
                &mut fields,
                checked.base_url.as_deref(),
                given,
            )?)
        }
        other => other,
    };
    if args.oauth1
        && let Some(secret) = &secret
        && postctl_core::platforms::x::oauth1::Keys::parse(secret).is_none()
    {
        return Err(CliError::usage(format!(
            "--oauth1 takes four keys on one line, separated by spaces: {}; copy them from your app's Keys and tokens page on https://developer.x.com",
            postctl_core::platforms::x::oauth1::ORDER
        )));
    }
    let mut settings = validate_account(network, &fields, secret.as_ref().map(|s| s.expose()))?;
    if args.oauth1 {
        settings.settings["auth"] = serde_json::Value::String("oauth1".into());
    }
    let store = ctx.store()?;
    // Refuse a taken name before anything is written to the keyring or the secrets file.
    if store.account(&args.name).is_ok() {
        return Err(postctl_core::Error::DuplicateAccount(args.name.clone()).into());
    }
    let secrets = ctx.secrets()?;
    let had_secrets_file = secrets.file_path().exists();
    let (secret_ref, notice) = match (env_var, &secret) {
        (Some(var), _) => (
            SecretRef::Env {
                var: var.to_string(),
            },
            None,
        ),
        (None, Some(secret)) => secrets.put(&args.name, secret)?,
        (None, None) => {
            return Err(CliError::usage(
                "no secret given; use --token-stdin or --token-env VAR",
            ));
        }
    };
    let store = ctx.store()?;
    let account = match store.add_account(&args.name, network, &settings, &secret_ref.to_string()) {
        Ok(account) => account,
        Err(e) => {
            // Nothing half-done: the secret goes again if the account did not make it.
            if env_var.is_none() {
                let _ = secrets.remove(&secret_ref);
            }
            return Err(e.into());
        }
    };
    // A session left by an earlier account of this name belongs to other credentials.
    if let Err(e) = secrets.remove_session(&args.name) {
        note(format!(
            "a session saved for an earlier account {} could not be removed ({e}); postctl uses it only for the same handle",
            args.name
        ));
    }
    // "No OS keyring here, the secret is in the file" was said when the file was made;
    // saying it on every later `accounts add` teaches nothing.
    let told_before = had_secrets_file && matches!(secret_ref, SecretRef::File { .. });
    if let Some(notice) = notice.filter(|_| !told_before) {
        note(notice);
    }
    if !postctl_core::platforms::can_publish(network) {
        note(format!(
            "warning: {}",
            postctl_core::platforms::not_publishable(network)
        ));
    }
    if network == Network::Webhook
        && secret
            .as_ref()
            .is_some_and(|s| !s.expose().trim().starts_with("whsec_"))
    {
        note(
            "this signing key is not a Standard Webhooks secret (whsec_<base64>): postctl signs with its text as the key and also sends the older X-Postctl-Signature header; for receivers using the Standard Webhooks libraries, make one with `echo \"whsec_$(head -c 32 /dev/urandom | base64)\"` and add the account again with it",
        );
    }
    if let (Some(var), None) = (env_var, &secret) {
        note(format!(
            "${var} is not set in this shell; postctl reads it when it publishes, so export it there"
        ));
    }
    if ctx.json {
        return print_json(&account_json(ctx, &account));
    }
    note(format!(
        "added {} account {} (secret: {})",
        network.display_name(),
        account.name,
        secret_ref.location(&ctx.paths.data_dir)
    ));
    Ok(())
}

/// `accounts add NETWORK --client-id ID`: signs in in the browser and keeps the tokens in
/// the secret store (never a variable: refreshing must write them back).
fn add_signed_in(
    ctx: &mut Context,
    args: &AccountAddArgs,
    network: Network,
    fields: &AccountFields,
    client_id: &str,
) -> CliResult {
    // The flags and the address are checked before the browser opens; the ids the
    // sign-in finds (Instagram's and Threads' user, Facebook's Page) stand in until then.
    let mut before = fields.clone();
    match network {
        Network::Instagram | Network::Threads => {
            before.user_id.get_or_insert_with(|| "1".into());
        }
        Network::Facebook => {
            before.page_id.get_or_insert_with(|| "1".into());
        }
        _ => {}
    }
    let checked = validate_account(network, &before, None)?;
    if postctl_core::platforms::sign_in(network).is_none() {
        return Err(CliError::usage(format!(
            "--client-id signs in in the browser, which postctl does not do for {} yet: add the account with a token instead, e.g. `{}`",
            network.display_name(),
            network.example_add_command()
        )));
    }
    if ctx.store()?.account(&args.name).is_ok() {
        return Err(postctl_core::Error::DuplicateAccount(args.name.clone()).into());
    }
    let client_secret = crate::signin::client_secret(&args.sign_in)?;
    let tokens = crate::signin::sign_in(
        network,
        checked.base_url.as_deref(),
        client_id,
        client_secret,
        &args.sign_in,
    )?;
    let mut fields = fields.clone();
    let tokens =
        crate::signin::identify(network, checked.base_url.as_deref(), &mut fields, tokens)?;
    let mut settings = validate_account(network, &fields, None)?;
    settings.settings["client_id"] = serde_json::Value::String(client_id.trim().to_string());
    let secrets = ctx.secrets()?;
    let had_secrets_file = secrets.file_path().exists();
    let (secret_ref, notice) = secrets.put(&args.name, &tokens.to_secret())?;
    let store = ctx.store()?;
    let account = match store.add_account(&args.name, network, &settings, &secret_ref.to_string()) {
        Ok(account) => account,
        Err(e) => {
            let _ = secrets.remove(&secret_ref);
            return Err(e.into());
        }
    };
    let _ = secrets.remove_session(&args.name);
    let told_before = had_secrets_file && matches!(secret_ref, SecretRef::File { .. });
    if let Some(notice) = notice.filter(|_| !told_before) {
        note(notice);
    }
    let long_lived = postctl_core::platforms::sign_in(network).and_then(|how| match &how.dialect {
        postctl_core::signin::Dialect::LongLived(long) => Some(long),
        _ => None,
    });
    if let (Some(long), Some(ends)) = (long_lived, tokens.expires_at)
        && long.refresh_url.is_none()
    {
        note(format!(
            "{} does not renew a sign-in: run `postctl accounts reauth {}` before {} (a week before, postctl holds the account's posts until you do)",
            network.display_name(),
            account.name,
            ends.format("%Y-%m-%d")
        ));
    } else if tokens.refresh.is_none() && long_lived.is_none() {
        note(format!(
            "{} gave no refresh token, so this sign-in lasts until the access token expires; then run `postctl accounts reauth {}`",
            network.display_name(),
            account.name
        ));
    }
    if !postctl_core::platforms::can_publish(network) {
        note(format!(
            "warning: {}",
            postctl_core::platforms::not_publishable(network)
        ));
    }
    if ctx.json {
        return print_json(&account_json(ctx, &account));
    }
    note(format!(
        "signed in and added {} account {} (tokens: {})",
        network.display_name(),
        account.name,
        secret_ref.location(&ctx.paths.data_dir)
    ));
    Ok(())
}

/// `accounts reauth NAME`: the browser sign-in again, with the account's client ID; the
/// new tokens replace the old ones where they are kept.
fn reauth(ctx: &mut Context, args: &AccountReauthArgs) -> CliResult {
    let account = ctx.store()?.account(&args.name)?;
    let Some(client_id) = account.settings["client_id"].as_str().map(str::to_string) else {
        return Err(CliError::usage(format!(
            "{} was not added with a browser sign-in (--client-id), so there is nothing to sign in again: give it a new token with `postctl accounts rm {}` and `{}`",
            args.name,
            args.name,
            account.network.example_add_command()
        )));
    };
    let secrets = ctx.secrets()?;
    let secret_ref: SecretRef = account.secret_ref.parse()?;
    // A confidential client's secret: the one given now, else the one kept with the tokens.
    let client_secret = match crate::signin::client_secret(&args.sign_in)? {
        Some(secret) => Some(secret),
        None => secrets
            .get(&secret_ref)
            .ok()
            .and_then(|stored| postctl_core::signin::Tokens::from_secret(&stored))
            .and_then(|tokens| tokens.client_secret),
    };
    let tokens = crate::signin::sign_in(
        account.network,
        account.base_url.as_deref(),
        &client_id,
        client_secret,
        &args.sign_in,
    )?;
    // The account's own user and Page: Facebook's Page token is taken for the same Page.
    let setting = |key: &str| account.settings[key].as_str().map(str::to_string);
    let mut fields = AccountFields {
        user_id: setting("user_id"),
        page_id: setting("page_id"),
        ..AccountFields::default()
    };
    let tokens = crate::signin::identify(
        account.network,
        account.base_url.as_deref(),
        &mut fields,
        tokens,
    )?;
    secrets.replace(&secret_ref, &tokens.to_secret())?;
    let released = ctx.store()?.signed_in_again(&account.id)?;
    if ctx.json {
        return print_json(
            &serde_json::json!({"name": account.name, "signed_in": true, "released_targets": released}),
        );
    }
    note(format!("signed in again to {}", account.name));
    if released > 0 {
        note(format!(
            "{released} held target(s) go out with the next `postctl run-due` or the running daemon"
        ));
    }
    Ok(())
}

fn list(ctx: &mut Context) -> CliResult {
    let accounts = ctx.store()?.accounts()?;
    let signed_out = ctx.store()?.accounts_needing_sign_in()?;
    if ctx.json {
        let rows: Vec<_> = accounts
            .iter()
            .map(|a| {
                let mut row = account_json(ctx, a);
                if let Some(why) = signed_out.get(&a.id) {
                    row["needs_sign_in"] = serde_json::Value::String(why.clone());
                }
                row
            })
            .collect();
        return print_json(&rows);
    }
    if accounts.is_empty() {
        note(
            "no accounts yet; add one with `postctl accounts add NETWORK --name NAME ...` (see `postctl accounts add --help`)",
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            let location = account_json(ctx, a)["secret"]
                .as_str()
                .unwrap_or("")
                .to_string();
            vec![a.name.clone(), a.network.to_string(), where_to(a), location]
        })
        .collect();
    print(&table(
        &["NAME", "NETWORK", "WHERE", "SECRET"],
        &rows,
        stdout_color(),
    ))?;
    for account in &accounts {
        if let Some(why) = signed_out.get(&account.id) {
            note(format!(
                "{} needs signing in again, and its posts are held: {why}",
                account.name
            ));
        }
    }
    Ok(())
}

/// Where an account publishes, for the WHERE column: its handle, chat, channel or room;
/// for a Discord or Slack webhook (whose address is its secret) the word "webhook"; else
/// its server.
fn where_to(account: &postctl_core::model::Account) -> String {
    let setting = account.settings.as_object().and_then(|o| {
        o.iter().find(|(k, _)| *k != "mode").map(|(_, v)| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        })
    });
    let webhook = account.settings.get("mode").and_then(|m| m.as_str()) == Some("webhook");
    account
        .handle
        .clone()
        .or(setting)
        .or_else(|| webhook.then(|| "webhook (its address is the secret)".to_string()))
        .or_else(|| account.base_url.clone())
        .unwrap_or_else(|| "-".into())
}

fn remove(ctx: &mut Context, args: &AccountRmArgs) -> CliResult {
    let secrets = ctx.secrets()?;
    let store = ctx.store()?;
    let account = store.account(&args.name)?;
    store.check_account_removable(&args.name, args.cancel_scheduled)?;
    // The session goes first (logging in again is all it costs), then the secret, so a
    // secret store that refuses leaves the account as it was; if the database then
    // fails, the secret is put back.
    secrets.remove_session(&args.name)?;
    let secret_ref = account.secret_ref.parse::<SecretRef>().ok();
    let kept = match &secret_ref {
        Some(r @ (SecretRef::Keyring { .. } | SecretRef::File { .. })) => {
            let secret = secrets.get(r).ok();
            secrets.remove(r)?;
            secret
        }
        _ => None,
    };
    let cancelled = match store.remove_account(&args.name, args.cancel_scheduled) {
        Ok(cancelled) => cancelled,
        Err(e) => {
            if let Some(secret) = &kept {
                let _ = secrets.put(&args.name, secret);
            }
            return Err(e.into());
        }
    };
    if ctx.json {
        return print_json(
            &serde_json::json!({"removed": args.name, "cancelled_targets": cancelled}),
        );
    }
    note(format!("removed account {}", args.name));
    if cancelled > 0 {
        note(format!("cancelled {cancelled} scheduled target(s)"));
    }
    Ok(())
}

fn check(ctx: &mut Context, name: Option<&str>) -> CliResult {
    let store = ctx.store()?;
    let accounts = match name {
        Some(name) => vec![store.account(name)?],
        None => store.accounts()?,
    };
    if accounts.is_empty() {
        note("no accounts to check; add one with `postctl accounts add`");
        return Ok(());
    }
    let down = crate::engine::networks_down(store, &accounts)?;
    let down_of = |account: &postctl_core::model::Account| {
        let circuit = postctl_core::publish::circuit::Circuit::of(account);
        down.iter()
            .find(|(state, _)| state.circuit == circuit)
            .map(|(state, _)| state)
    };
    let tz = ctx.zone(None)?;
    let store = ctx.take_store()?;
    let engine = crate::engine::engine(ctx, store)?;
    let results = crate::engine::runtime()?.block_on(async {
        let mut results = Vec::new();
        for account in &accounts {
            results.push((account, engine.verify(account).await));
        }
        results
    });
    let rows: Vec<serde_json::Value> = results
        .iter()
        .map(|(account, result)| {
            let mut row = match result {
                Ok(verified) => serde_json::json!({"name": account.name, "network": account.network, "ok": true, "identity": verified.identity}),
                Err(e) => serde_json::json!({"name": account.name, "network": account.network, "ok": false, "error": e.to_string(), "auth": e.is_auth()}),
            };
            if let Some(state) = down_of(account) {
                row["network_down"] =
                    crate::engine::network_down_json(state, std::slice::from_ref(&account.name));
            }
            row
        })
        .collect();
    if ctx.json {
        print_json(&rows)?;
    } else {
        let table_rows: Vec<Vec<String>> = results
            .iter()
            .map(|(account, result)| {
                let (state, detail) = match result {
                    Ok(v) => ("ok".to_string(), v.identity.clone()),
                    Err(e) => ("failed".to_string(), e.to_string()),
                };
                vec![
                    account.name.clone(),
                    account.network.to_string(),
                    state,
                    detail,
                ]
            })
            .collect();
        print(&table(
            &["NAME", "NETWORK", "CHECK", "DETAIL"],
            &table_rows,
            stdout_color(),
        ))?;
        for (state, names) in &down {
            note(format!(
                "network down ({}): {}",
                names.join(", "),
                crate::engine::network_down_line(state, tz)
            ));
        }
    }
    let failed: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    let (rejected, unreachable): (Vec<_>, Vec<_>) = failed
        .iter()
        .partition(|(_, r)| r.as_ref().is_err_and(|e| e.is_auth()));
    let names = |failed: &[&&(&postctl_core::model::Account, _)]| {
        failed
            .iter()
            .map(|(a, _)| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut reasons = Vec::new();
    if !rejected.is_empty() {
        reasons.push(format!(
            "the credentials of {} were missing or rejected: add them again with new credentials (the error says how)",
            names(&rejected)
        ));
    }
    if !unreachable.is_empty() {
        // A connection error or a server error says nothing about the credentials.
        reasons.push(format!(
            "{} could not be checked: the server could not be reached or answered with an error, which says nothing about the credentials; check the address and the connection, then run `postctl accounts check` again",
            names(&unreachable)
        ));
    }
    Err(CliError {
        message: format!(
            "{} account(s) failed the check; {}",
            failed.len(),
            reasons.join("; ")
        ),
        code: if rejected.is_empty() {
            ExitCode::Error
        } else {
            ExitCode::Auth
        },
    })
}
