//! What `login`, `logout`, `workspace` and `sync` share: the client of the linked server,
//! the session token from the secret store (never the database), and asking for a
//! password or a code.

use std::io::{IsTerminal, Read, Write};

use postctl_core::secrets::{Secret, SecretRef};
use postctl_core::store::SyncLink;
use postctl_core::sync::client::{Client, SyncError};

use crate::context::Context;
use crate::exit::{CliError, CliResult, ExitCode};

/// The secret store's entry for this database's server session.
pub const SESSION_SECRET: &str = "postctl-server:session";

/// A field of a server answer as a table cell: text as is, `-` for null or missing,
/// anything else as JSON.
pub fn text(value: &serde_json::Value, key: &str) -> String {
    match &value[key] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A list-of-strings field of a server answer (`accounts`, `events`), comma-joined.
pub fn names(value: &serde_json::Value, key: &str) -> String {
    value[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// A server error as the CLI reports it (exit 4 for credentials, 2 for a refusal, 1 else).
pub fn error(e: SyncError) -> CliError {
    postctl_core::Error::from(e).into()
}

/// The linked server, its client and the session token.
pub struct Linked {
    pub link: SyncLink,
    pub client: Client,
    pub token: Secret,
}

/// The link of this database, or a message saying how to make one.
pub fn link(ctx: &mut Context) -> CliResult<SyncLink> {
    ctx.store()?.sync_link()?.ok_or_else(|| {
        CliError::usage(
            "this database is not linked to a server: sign in with `postctl login URL` first",
        )
    })
}

/// Refuses to move a database that has synced with one workspace to another: its posts
/// are that workspace's (a post id lives in one workspace on the server).
pub fn refuse_move(link: &SyncLink, server: &str, workspace: &str) -> CliResult {
    if link.last_version.is_none() || (link.server == server && link.workspace == workspace) {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "this database has synced with workspace {} on {} and holds its posts; a database syncs with one workspace. To work in {workspace}, give it a database of its own: postctl --db {workspace}.db login {server} --user {} --workspace {workspace}",
        link.workspace, link.server, link.user
    )))
}

/// The linked server with a session to call it with.
pub fn linked(ctx: &mut Context) -> CliResult<Linked> {
    let link = link(ctx)?;
    let reference: SecretRef = link.secret.clone().ok_or_else(|| CliError {
        message: format!(
            "signed out of {}: sign in again with `postctl login {} --user {}`",
            link.server, link.server, link.user
        ),
        code: ExitCode::Auth,
    })?;
    let token = ctx.secrets()?.get(&reference)?;
    let client = Client::new(&link.server).map_err(error)?;
    Ok(Linked {
        link,
        client,
        token,
    })
}

/// What the user typed for sign-in: from standard input (`--password-stdin`: the password,
/// then the code on the next line) or from prompts on the terminal.
pub enum Answers {
    Piped(std::vec::IntoIter<String>),
    Terminal,
}

impl Answers {
    pub fn new(password_stdin: bool) -> CliResult<Answers> {
        if password_stdin {
            if std::io::stdin().is_terminal() {
                return Err(CliError::usage(
                    "--password-stdin reads the password from a pipe, e.g. `printf '%s\\n' \"$PASSWORD\" | postctl login URL --user NAME --password-stdin`",
                ));
            }
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::failure(format!("cannot read standard input: {e}")))?;
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            return Ok(Answers::Piped(lines.into_iter()));
        }
        if !std::io::stdin().is_terminal() {
            return Err(CliError::usage(
                "there is no terminal to ask for the password on: pipe it in with --password-stdin",
            ));
        }
        Ok(Answers::Terminal)
    }

    pub fn password(&mut self) -> CliResult<Secret> {
        let password = match self {
            Answers::Piped(lines) => lines.next().unwrap_or_default(),
            Answers::Terminal => hidden("Password: ")?,
        };
        if password.is_empty() {
            return Err(CliError::usage(
                "the password is empty: give it on the first line of standard input, or type it at the prompt",
            ));
        }
        Ok(Secret::new(password))
    }

    pub fn code(&mut self) -> CliResult<String> {
        let code = match self {
            Answers::Piped(lines) => lines.next().unwrap_or_default(),
            Answers::Terminal => {
                eprint!("Code from your authenticator app (or a recovery code): ");
                let _ = std::io::stderr().flush();
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| CliError::failure(format!("cannot read the code: {e}")))?;
                line
            }
        };
        let code = code.trim().to_string();
        if code.is_empty() {
            return Err(CliError {
                message: "this user signs in with a TOTP code and none was given: put the code on the line after the password (--password-stdin), or type it when asked".into(),
                code: ExitCode::Auth,
            });
        }
        Ok(code)
    }

    /// A user name typed at the prompt, when --user was not given.
    pub fn user(&mut self) -> CliResult<String> {
        match self {
            Answers::Piped(_) => Err(CliError::usage(
                "give your user name on the server with --user NAME",
            )),
            Answers::Terminal => {
                eprint!("User: ");
                let _ = std::io::stderr().flush();
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| CliError::failure(format!("cannot read the user name: {e}")))?;
                let name = line.trim().to_string();
                if name.is_empty() {
                    return Err(CliError::usage(
                        "give your user name on the server with --user NAME",
                    ));
                }
                Ok(name)
            }
        }
    }
}

/// Reads a line from the terminal without showing it.
fn hidden(prompt: &str) -> CliResult<String> {
    use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    use ratatui::crossterm::terminal;
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let failed = |e: std::io::Error| CliError::failure(format!("cannot read the password: {e}"));
    terminal::enable_raw_mode().map_err(failed)?;
    let mut text = String::new();
    let read = loop {
        match event::read() {
            Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => match key.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(CliError::usage("sign-in cancelled"));
                }
                KeyCode::Char(c) => text.push(c),
                KeyCode::Backspace => {
                    text.pop();
                }
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(failed(e)),
        }
    };
    let _ = terminal::disable_raw_mode();
    eprintln!();
    read.map(|()| text)
}
