use crate::args::GroupCommand;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print, print_json, stdout_color, table};

pub fn run(ctx: &mut Context, command: GroupCommand) -> CliResult {
    let json = ctx.json;
    let store = ctx.store()?;
    match command {
        GroupCommand::Set(args) => {
            let group = store.set_group(&args.name, &args.accounts)?;
            if json {
                return print_json(
                    &serde_json::json!({"name": group.name, "accounts": group.members}),
                );
            }
            note(format!(
                "group {}: {}",
                group.name,
                group.members.join(", ")
            ));
            Ok(())
        }
        GroupCommand::List => {
            let groups = store.groups()?;
            if json {
                let rows: Vec<_> = groups
                    .iter()
                    .map(|g| serde_json::json!({"name": g.name, "accounts": g.members}))
                    .collect();
                return print_json(&rows);
            }
            if groups.is_empty() {
                note("no groups yet; make one with `postctl group set NAME ACCOUNT...`");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = groups
                .iter()
                .map(|g| vec![g.name.clone(), g.members.join(", ")])
                .collect();
            print(&table(&["GROUP", "ACCOUNTS"], &rows, stdout_color()))
        }
        GroupCommand::Rm(args) => {
            store.remove_group(&args.name)?;
            if json {
                return print_json(&serde_json::json!({"removed": args.name}));
            }
            note(format!("removed group {}", args.name));
            Ok(())
        }
    }
}
