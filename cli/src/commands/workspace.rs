//! `postctl workspace list|use NAME`: the server workspaces this database can sync with.

use serde_json::json;

use crate::args::WorkspaceCommand;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print, print_json, stdout_color, table};
use crate::server::{self, error};

pub fn run(ctx: &mut Context, command: WorkspaceCommand) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    match command {
        WorkspaceCommand::List => {
            let workspaces = runtime
                .block_on(linked.client.workspaces(&linked.token))
                .map_err(error)?;
            if ctx.json {
                let items: Vec<_> = workspaces
                    .iter()
                    .map(|w| {
                        json!({
                            "name": w.name,
                            "id": w.id,
                            "role": w.role,
                            "linked": w.id == linked.link.workspace_id,
                        })
                    })
                    .collect();
                return print_json(&items);
            }
            let rows: Vec<Vec<String>> = workspaces
                .iter()
                .map(|w| {
                    vec![
                        if w.id == linked.link.workspace_id {
                            "*".into()
                        } else {
                            String::new()
                        },
                        w.name.clone(),
                        w.role.clone(),
                    ]
                })
                .collect();
            print(&table(&["", "WORKSPACE", "ROLE"], &rows, stdout_color()))?;
            note(format!(
                "* this database syncs with it ({}); change with `postctl workspace use NAME`",
                linked.link.server
            ));
            Ok(())
        }
        WorkspaceCommand::Use(args) => {
            if args.name == linked.link.workspace {
                note(format!(
                    "This database already syncs with workspace {}.",
                    args.name
                ));
                return Ok(());
            }
            server::refuse_move(&linked.link, &linked.link.server, &args.name)?;
            let session = runtime
                .block_on(linked.client.switch_workspace(&linked.token, &args.name))
                .map_err(error)?;
            let reference = linked.link.secret.clone().ok_or_else(|| {
                crate::exit::CliError::failure("the session's place in the secret store is gone")
            })?;
            ctx.secrets()?.replace(&reference, &session.token)?;
            ctx.store()?.link_sync(
                &linked.link.server,
                &session.user,
                &session.workspace_id,
                &session.workspace,
                &reference,
            )?;
            if ctx.json {
                return print_json(&json!({
                    "server": linked.link.server,
                    "workspace": session.workspace,
                    "role": session.role,
                }));
            }
            note(format!(
                "This database now syncs with workspace {} (your role: {}); the next `postctl sync` pushes its posts there and pulls the workspace's.",
                session.workspace, session.role
            ));
            Ok(())
        }
    }
}
