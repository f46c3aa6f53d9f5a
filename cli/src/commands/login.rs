//! `postctl login URL` and `postctl logout`: a session on a postctl server, kept in the
//! secret store, and the link of this database to a workspace there.

use postctl_core::sync::client::{Client, SignIn};
use serde_json::json;

use crate::args::LoginArgs;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print_json};
use crate::server::{self, Answers, SESSION_SECRET, error};

pub fn login(ctx: &mut Context, args: &LoginArgs) -> CliResult {
    let client = Client::new(&args.url).map_err(error)?;
    let mut answers = Answers::new(args.password_stdin)?;
    let user = match &args.user {
        Some(user) => user.clone(),
        None => answers.user()?,
    };
    let password = answers.password()?;
    let runtime = crate::engine::runtime()?;
    let workspace = args.workspace.as_deref();
    let signed = runtime.block_on(client.sign_in(&user, &password, None, workspace));
    let session = match signed.map_err(error)? {
        SignIn::Session(session) => session,
        SignIn::CodeNeeded => {
            let code = answers.code()?;
            match runtime
                .block_on(client.sign_in(&user, &password, Some(&code), workspace))
                .map_err(error)?
            {
                SignIn::Session(session) => session,
                SignIn::CodeNeeded => {
                    return Err(crate::exit::CliError::failure(
                        "the server asked for a TOTP code again after one was sent",
                    ));
                }
            }
        }
    };
    let secrets = ctx.secrets()?;
    let earlier = ctx.store()?.sync_link()?;
    if let Some(earlier) = &earlier
        && let Err(refused) = server::refuse_move(earlier, client.base(), &session.workspace)
    {
        let _ = runtime.block_on(client.sign_out(&session.token));
        return Err(refused);
    }
    let (reference, notice) = secrets.put(SESSION_SECRET, &session.token)?;
    let linked = ctx.store()?.link_sync(
        client.base(),
        &session.user,
        &session.workspace_id,
        &session.workspace,
        &reference,
    );
    if let Err(e) = linked {
        // Nothing half-done: the new session does not stay behind in the secret store.
        let _ = runtime.block_on(client.sign_out(&session.token));
        let _ = secrets.remove(&reference);
        return Err(e.into());
    }
    if let Some(notice) = notice {
        note(notice);
    }
    let place = reference.location(&ctx.paths.data_dir);
    if ctx.json {
        return print_json(&json!({
            "server": client.base(),
            "user": session.user,
            "workspace": session.workspace,
            "role": session.role,
            "session_in": place,
        }));
    }
    note(format!(
        "Signed in to {} as {}: this database syncs with workspace {} (your role: {}). The session is in the {place}.",
        client.base(),
        session.user,
        session.workspace,
        session.role
    ));
    note("Next: postctl sync");
    Ok(())
}

pub fn logout(ctx: &mut Context) -> CliResult {
    let link = ctx.store()?.sync_link()?;
    let Some(link) = link.filter(|l| l.secret.is_some()) else {
        note("Not signed in to a server; nothing to do.");
        return Ok(());
    };
    let linked = server::linked(ctx);
    let mut ended_on_server = false;
    let mut why = None;
    if let Ok(linked) = &linked {
        let runtime = crate::engine::runtime()?;
        match runtime.block_on(linked.client.sign_out(&linked.token)) {
            Ok(()) => ended_on_server = true,
            Err(e) => why = Some(e.to_string()),
        }
    }
    if let Some(reference) = &link.secret {
        ctx.secrets()?.remove(reference)?;
    }
    ctx.store()?.unlink_session()?;
    if ctx.json {
        return print_json(&json!({
            "server": link.server,
            "signed_out": true,
            "session_ended_on_server": ended_on_server,
        }));
    }
    match why {
        None => note(format!("Signed out of {}.", link.server)),
        Some(why) => note(format!(
            "Signed out here; the server could not be told ({why}), so the session ends there when it expires."
        )),
    }
    Ok(())
}
