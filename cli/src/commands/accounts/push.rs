//! `postctl accounts push NAME`: sends a local account, with its secret, to the linked
//! server workspace, whose publisher then posts for it. The only way credentials travel:
//! sync never carries them.
//!
//! What is sent is what `postctl accounts add` was given: the network, `--base-url`,
//! `--handle`, the network's own flags (the API's `settings`) and the secret (the API's
//! `credentials.token`). The server checks them as `accounts add` does. An account that
//! signed in through the browser (OAuth 2.0: X, Threads, Instagram…) goes with its
//! `client_id` and its token set, which the server then refreshes itself. An account whose
//! stored settings hold more than that (OAuth 1.0a keys) is refused here, saying why,
//! since the server would publish for it differently.

use postctl_core::model::Account;
use postctl_core::network::{AccountFields, validate_account};
use postctl_core::secrets::SecretRef;
use serde_json::{Map, Value, json};

use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print_json};
use crate::server::{self, error};

pub fn push(ctx: &mut Context, name: &str) -> CliResult {
    let linked = server::linked(ctx)?;
    let account = ctx.store()?.account(name)?;
    let reference: SecretRef = account.secret_ref.parse()?;
    let secret = ctx.secrets()?.get(&reference)?;
    let fields = fields_of(&account);
    let settings = as_flags(&account, &fields, secret.expose())?;
    let body = json!({
        "name": account.name,
        "network": account.network.name(),
        "base_url": account.base_url,
        "settings": settings,
        "credentials": { "token": secret.expose() },
    });
    let runtime = crate::engine::runtime()?;
    let made = runtime
        .block_on(linked.client.add_account(&linked.token, &body))
        .map_err(error)?;
    if ctx.json {
        return print_json(&made);
    }
    note(format!(
        "Pushed {} ({}) to workspace {} on {}: the server publishes for it now. Its secret went once, sealed on the server; change it there with another push after `DELETE /api/v1/accounts/{}`.",
        account.name,
        account.network.name(),
        linked.link.workspace,
        linked.link.server,
        made["id"].as_str().unwrap_or("ID"),
    ));
    if settings.get("client_id").is_some() {
        note(format!(
            "The server renews {}'s tokens from now on. A network that replaces the refresh token on each renewal (X does) makes this device's copy stale after the server's first renewal: should you unlink, sign in again with `postctl accounts reauth {}`.",
            account.name, account.name
        ));
    }
    Ok(())
}

/// The flags `accounts add` was given, read back from what it stored.
fn fields_of(account: &Account) -> AccountFields {
    let text = |key: &str| {
        account.settings.get(key).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    AccountFields {
        base_url: account.base_url.clone(),
        handle: account.handle.clone(),
        chat: text("chat"),
        channel: text("channel"),
        room: text("room"),
        owner_id: text("owner_id"),
        from_group: account.settings.get("from_group") == Some(&Value::Bool(true)),
        user_id: text("user_id"),
        page_id: text("page_id"),
        author: text("author"),
        subreddit: text("subreddit"),
        relays: account
            .settings
            .get("relays")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The API's `settings` for the account: its flags, when checking them again gives the
/// settings stored here (else the server would not publish for it as this device does).
fn as_flags(account: &Account, fields: &AccountFields, secret: &str) -> CliResult<Value> {
    let again = validate_account(account.network, fields, Some(secret)).map_err(|e| {
        CliError::usage(format!(
            "account {} cannot be pushed as it is stored: {e}",
            account.name
        ))
    })?;
    // A browser sign-in's client id goes as the API's `settings.client_id`: with the token
    // set as the secret, the server refreshes the tokens as this device would.
    let client_id = account.settings.get("client_id").and_then(Value::as_str);
    let extra: Vec<String> = account
        .settings
        .as_object()
        .map(|stored| {
            stored
                .keys()
                .filter(|k| k.as_str() != "client_id" || client_id.is_none())
                .filter(|k| again.settings.get(k.as_str()) != stored.get(k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if !extra.is_empty() {
        return Err(CliError::usage(format!(
            "account {} keeps settings the server's accounts API does not take ({}): it uses OAuth 1.0a keys, which the server's accounts API does not take. Push accounts that use a token or signed in through the browser, or add this one on the server with a token",
            account.name,
            extra.join(", ")
        )));
    }
    let mut flags = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            flags.insert(key.to_string(), Value::String(value));
        }
    };
    put("handle", fields.handle.clone());
    put("chat", fields.chat.clone());
    put("channel", fields.channel.clone());
    put("room", fields.room.clone());
    put("owner_id", fields.owner_id.clone());
    put("user_id", fields.user_id.clone());
    put("page_id", fields.page_id.clone());
    put("author", fields.author.clone());
    put("subreddit", fields.subreddit.clone());
    if fields.from_group {
        flags.insert("from_group".into(), Value::Bool(true));
    }
    if !fields.relays.is_empty() {
        flags.insert("relays".into(), json!(fields.relays));
    }
    if let Some(client_id) = client_id {
        flags.insert("client_id".into(), Value::String(client_id.to_string()));
    }
    Ok(Value::Object(flags))
}
