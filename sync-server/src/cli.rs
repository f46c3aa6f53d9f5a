//! The `postctl-server` command line: `serve`, `user add`, `key create|list|revoke`,
//! `backup`, `restore` and `print-unit`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::auth::keys;
use crate::config::{self, Given, Settings};
use crate::storage::{self, KeyListing, KeyMode, Role, Scope, Storage};
use crate::users::{self, KeyRequest, Membership};

const EXAMPLES: &str = "\
Examples:
  postctl-server serve
  postctl-server serve --listen 0.0.0.0:8787 --database-url postgres://postctl@db/postctl
  printf '%s' \"$PASSWORD\" | postctl-server user add alice --password-stdin --admin
  postctl-server key create --user alice --scope posts:read,posts:write --expires 'in 90d'
  postctl-server key list
  postctl-server key revoke 0193a1b2
  postctl-server backup --to /var/backups/postctl-server-$(date +%F).sqlite3
  postctl-server print-unit > /etc/systemd/system/postctl-server.service

Every option can also be set with a POSTCTL_SERVER_* environment variable, and listen,
database_url, log_format, log_level and metrics_token in server.toml (in the data dir, or
--config FILE).";

#[derive(Debug, Parser)]
#[command(
    name = "postctl-server",
    version,
    about = "The always-on postctl server: an HTTP API for posts, users, workspaces and API keys, on SQLite or PostgreSQL.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// The data directory: the embedded SQLite database and server.toml
    /// [default: $XDG_DATA_HOME/postctl-server]
    #[arg(long, value_name = "DIR", env = config::ENV_DATA, global = true)]
    data: Option<PathBuf>,
    /// Store everything in PostgreSQL instead of SQLite:
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE
    #[arg(
        long,
        value_name = "URL",
        env = config::ENV_DATABASE_URL,
        hide_env_values = true,
        global = true
    )]
    database_url: Option<String>,
    /// Read settings from this TOML file instead of DIR/server.toml
    #[arg(
        long,
        value_name = "FILE",
        env = config::ENV_CONFIG,
        global = true
    )]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server. With no users yet, it prints a one-time setup token.
    #[command(
        after_help = "Examples:\n  postctl-server serve\n  postctl-server serve --listen 127.0.0.1:9000 --data /var/lib/postctl-server\n  postctl-server serve --log-format json --log-level warn\n\nGET /metrics answers in the Prometheus text format; set POSTCTL_SERVER_METRICS_TOKEN\n(or metrics_token in server.toml) to ask for `Authorization: Bearer TOKEN` there."
    )]
    Serve {
        /// The address and port to listen on [default: 127.0.0.1:8787]
        #[arg(long, value_name = "ADDR:PORT", env = config::ENV_LISTEN)]
        listen: Option<String>,
        /// How to write the log on stderr: text lines, or one JSON object per line
        /// [default: text]
        #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"], env = config::ENV_LOG_FORMAT)]
        log_format: Option<String>,
        /// The least important events to log; each request is logged at info
        /// [default: info]
        #[arg(long, value_name = "LEVEL", value_parser = config::LOG_LEVELS, env = config::ENV_LOG_LEVEL)]
        log_level: Option<String>,
    },
    /// Copy the embedded SQLite database to FILE, consistently, while the server runs.
    #[command(
        after_help = "Examples:\n  postctl-server backup --to /var/backups/postctl-server-$(date +%F).sqlite3\n  postctl-server backup --data /var/lib/postctl-server --to backup.sqlite3\n\nThe copy is made with SQLite's online backup: the server keeps answering and writing.\nWith PostgreSQL (--database-url), use pg_dump instead (see the README, \"Run a server\")."
    )]
    Backup {
        /// Where to write the copy (a new file; it is made readable by its owner only)
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
    },
    /// Replace the embedded SQLite database with a copy made by `backup`. Stop the server first.
    #[command(
        after_help = "Examples:\n  systemctl stop postctl-server\n  postctl-server restore --from /var/backups/postctl-server-2026-12-01.sqlite3\n  systemctl start postctl-server\n\nThe database being replaced is kept beside it as server.sqlite3.before-restore-TIME.\nWith PostgreSQL, use pg_restore or point-in-time recovery instead (see the README)."
    )]
    Restore {
        /// The copy to bring back
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Print a systemd unit that runs `postctl-server serve`, with hardening options.
    #[command(
        after_help = "Examples:\n  postctl-server print-unit > /etc/systemd/system/postctl-server.service\n  postctl-server print-unit --user postctl --listen 0.0.0.0:8787 --env-file /etc/postctl-server.env\n\nThen: systemctl daemon-reload && systemctl enable --now postctl-server"
    )]
    PrintUnit(crate::unit::UnitOptions),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user, with a workspace of their own or in an existing workspace.
    #[command(
        after_help = "Examples:\n  printf '%s' \"$PASSWORD\" | postctl-server user add alice --password-stdin --admin\n  printf '%s' \"$PASSWORD\" | postctl-server user add bob --password-stdin --workspace alice --role editor"
    )]
    Add {
        /// The user's name: letters, digits, '.', '_' and '-'
        name: String,
        /// Read the password from standard input (at least 8 characters; one trailing newline is dropped)
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Make the user a server administrator
        #[arg(long)]
        admin: bool,
        /// Join this existing workspace instead of getting one named after the user
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
        /// The role in --workspace
        #[arg(long, value_parser = ["viewer", "editor", "admin", "owner"], default_value = "editor", requires = "workspace")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create an API key. The key is printed once, on stdout, and only its hash is stored.
    #[command(
        after_help = "Examples:\n  postctl-server key create --user alice --scope posts:read,posts:write\n  postctl-server key create --user bob --workspace alice --scope posts:read --expires 'in 30d' --test"
    )]
    Create {
        /// The key's user
        #[arg(long, value_name = "NAME")]
        user: String,
        /// The workspace the key acts in [default: the one named after the user]
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
        /// What the key may do: posts:read, posts:write, admin (comma-separated or repeated)
        #[arg(long, value_name = "SCOPE", value_delimiter = ',', required = true)]
        scope: Vec<String>,
        /// When the key stops working: "in 90d", "2027-01-01 00:00" (UTC), RFC 3339
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
        /// Make an sk_test_ key instead of an sk_live_ key
        #[arg(long)]
        test: bool,
        /// A label to recognise the key by
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
        /// Print the key and its details as JSON
        #[arg(long)]
        json: bool,
    },
    /// List API keys by their prefix (never the keys themselves).
    #[command(
        after_help = "Examples:\n  postctl-server key list\n  postctl-server key list --user alice --json"
    )]
    List {
        /// Only this user's keys
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key: it stops working at once.
    #[command(
        after_help = "Examples:\n  postctl-server key revoke 0193a1b2\n  postctl-server key revoke sk_live_Ab3x"
    )]
    Revoke {
        /// The key's id (or a unique start of it), or its prefix as `key list` shows it
        key: String,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("postctl-server: error: could not start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("postctl-server: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (listen, log_format, log_level) = match &cli.command {
        Command::Serve {
            listen,
            log_format,
            log_level,
        } => (listen.clone(), log_format.clone(), log_level.clone()),
        _ => (None, None, None),
    };
    if let Command::PrintUnit(options) = &cli.command {
        print!("{}", crate::unit::render(options, &cli.global.data)?);
        return Ok(());
    }
    let settings = config::resolve(&Given {
        data: cli.global.data,
        config: cli.global.config,
        database_url: cli.global.database_url,
        listen,
        log_format,
        log_level,
        metrics_token: std::env::var(config::ENV_METRICS_TOKEN).ok(),
    })?;
    match cli.command {
        Command::Serve { .. } => crate::serve::run(settings).await,
        Command::Backup { to, force } => crate::backup::backup(&settings, &to, force).await,
        Command::Restore { from } => crate::backup::restore(&settings, &from).await,
        Command::PrintUnit(_) => Ok(()),
        Command::User(command) => user(&settings, command).await,
        Command::Key(command) => key(&settings, command).await,
    }
}

async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn Storage>> {
    storage::open(settings.database_url.as_deref(), &settings.sqlite_path())
        .await
        .with_context(|| format!("could not open the database ({})", settings.database()))
}

fn read_password() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut password)
        .context("could not read the password from standard input")?;
    let password = password
        .strip_suffix("\r\n")
        .or_else(|| password.strip_suffix('\n'))
        .unwrap_or(&password)
        .to_string();
    Ok(password)
}

async fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            password_stdin: _,
            admin,
            workspace,
            role,
        } => {
            let password = read_password()?;
            users::check_name("the user", &name)?;
            users::check_password(&password)?;
            let membership = match workspace {
                Some(workspace) => Membership::Join {
                    workspace,
                    role: Role::parse(&role).unwrap_or(Role::Editor),
                },
                None => Membership::OwnWorkspace,
            };
            let storage = open(settings).await?;
            let (user, workspace) =
                users::add_user(storage.as_ref(), &name, &password, admin, &membership).await?;
            let role = match membership {
                Membership::Join { role, .. } => role,
                Membership::OwnWorkspace => Role::Owner,
            };
            eprintln!(
                "Added user {} ({}) as {} of workspace {}{}.\nNext: postctl-server key create --user {} --workspace {} --scope posts:read,posts:write",
                user.name,
                user.id,
                role.as_str(),
                workspace.name,
                if user.admin {
                    ", server administrator"
                } else {
                    ""
                },
                user.name,
                workspace.name
            );
            Ok(())
        }
    }
}

fn time_text(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn status(key: &storage::ApiKey, now_ms: i64) -> &'static str {
    if key.revoked_ms.is_some() {
        "revoked"
    } else if key.expires_ms.is_some_and(|at| at <= now_ms) {
        "expired"
    } else {
        "active"
    }
}

fn listing_json(listing: &KeyListing, now_ms: i64) -> serde_json::Value {
    let key = &listing.key;
    json!({
        "id": key.id,
        "prefix": key.prefix,
        "name": key.name,
        "mode": key.mode,
        "user": listing.user_name,
        "workspace": listing.workspace_name,
        "scopes": key.scopes,
        "created_at": time_text(key.created_ms),
        "expires_at": key.expires_ms.map(time_text),
        "revoked_at": key.revoked_ms.map(time_text),
        "status": status(key, now_ms),
    })
}

async fn key(settings: &Settings, command: KeyCommand) -> anyhow::Result<()> {
    let now = Utc::now();
    match command {
        KeyCommand::Create {
            user,
            workspace,
            scope,
            expires,
            test,
            name,
            json,
        } => {
            let scopes = scope
                .iter()
                .map(|s| {
                    Scope::parse(s.trim()).with_context(|| {
                        format!(
                            "{s:?} is not a scope; use {}",
                            Scope::ALL.map(Scope::as_str).join(", ")
                        )
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let expires_ms = expires
                .as_deref()
                .map(|text| expiry(text, now))
                .transpose()?;
            let storage = open(settings).await?;
            let owner = storage.user_by_name(&user).await?.with_context(|| {
                format!("there is no user {user:?}; add one with `postctl-server user add`")
            })?;
            let workspace_name = workspace.unwrap_or_else(|| user.clone());
            let workspace = storage
                .workspace_by_name(&workspace_name)
                .await?
                .with_context(|| {
                    format!("there is no workspace {workspace_name:?}; name one with --workspace")
                })?;
            if storage
                .member_role(&workspace.id, &owner.id)
                .await?
                .is_none()
            {
                bail!(
                    "{user} is not a member of workspace {}; a key acts for its user in one of their workspaces",
                    workspace.name
                );
            }
            let (key, secret) = users::create_key(
                storage.as_ref(),
                KeyRequest {
                    user_id: owner.id,
                    workspace_id: workspace.id,
                    name,
                    mode: if test { KeyMode::Test } else { KeyMode::Live },
                    scopes,
                    expires_ms,
                },
            )
            .await?;
            if json {
                println!(
                    "{}",
                    json!({
                        "id": key.id,
                        "key": secret,
                        "prefix": key.prefix,
                        "mode": key.mode,
                        "user": owner.name,
                        "workspace": workspace.name,
                        "scopes": key.scopes,
                        "expires_at": key.expires_ms.map(time_text),
                    })
                );
            } else {
                println!("{secret}");
                eprintln!(
                    "Created key {} ({}) for {} in workspace {}, scopes {}{}.\nIt is shown only now: store it in a secret store.",
                    keys::display(&key.prefix),
                    key.id,
                    owner.name,
                    workspace.name,
                    Scope::join(&key.scopes),
                    key.expires_ms
                        .map(|ms| format!(", expires {}", time_text(ms)))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        KeyCommand::List { user, json } => {
            let storage = open(settings).await?;
            let user_id = match &user {
                Some(name) => Some(
                    storage
                        .user_by_name(name)
                        .await?
                        .with_context(|| format!("there is no user {name:?}"))?
                        .id,
                ),
                None => None,
            };
            let listings = storage.keys(user_id.as_deref()).await?;
            let now_ms = now.timestamp_millis();
            if json {
                let all: Vec<_> = listings.iter().map(|l| listing_json(l, now_ms)).collect();
                println!("{}", serde_json::Value::Array(all));
                return Ok(());
            }
            if listings.is_empty() {
                eprintln!(
                    "No keys. Create one with `postctl-server key create --user NAME --scope posts:read`."
                );
                return Ok(());
            }
            println!(
                "{:<36}  {:<14}  {:<12}  {:<12}  {:<7}  {:<20}  SCOPES",
                "ID", "KEY", "USER", "WORKSPACE", "STATUS", "EXPIRES"
            );
            for l in &listings {
                println!(
                    "{:<36}  {:<14}  {:<12}  {:<12}  {:<7}  {:<20}  {}",
                    l.key.id,
                    keys::display(&l.key.prefix),
                    l.user_name,
                    l.workspace_name,
                    status(&l.key, now_ms),
                    l.key
                        .expires_ms
                        .map(time_text)
                        .unwrap_or_else(|| "never".into()),
                    Scope::join(&l.key.scopes)
                );
            }
            Ok(())
        }
        KeyCommand::Revoke { key } => {
            let storage = open(settings).await?;
            let listings = storage.keys(None).await?;
            let wanted = key.trim_end_matches('…');
            let matches: Vec<_> = listings
                .iter()
                .filter(|l| {
                    l.key.id.starts_with(wanted)
                        || (wanted.len() >= 10 && l.key.prefix.starts_with(wanted))
                })
                .collect();
            let found = match matches.as_slice() {
                [one] => *one,
                [] => bail!("no key matches {key:?}; `postctl-server key list` shows them"),
                _ => bail!(
                    "{} keys match {key:?}; give more of the id (`postctl-server key list`)",
                    matches.len()
                ),
            };
            storage
                .revoke_key(&found.key.id, now.timestamp_millis())
                .await?;
            eprintln!(
                "Revoked key {} ({}) of {} in workspace {}.",
                keys::display(&found.key.prefix),
                found.key.id,
                found.user_name,
                found.workspace_name
            );
            Ok(())
        }
    }
}

/// Reads `--expires` with core's time module, in UTC, refusing times in the past.
fn expiry(text: &str, now: DateTime<Utc>) -> anyhow::Result<i64> {
    use postctl_core::time::{self, Disambiguation, ParseContext};
    let tz = chrono_tz::Tz::UTC;
    let cx = ParseContext {
        now,
        tz,
        disambiguation: Disambiguation::Reject,
    };
    let when = time::parse_when(text, &cx).map_err(|e| anyhow::anyhow!("--expires: {e}"))?;
    if when <= now {
        bail!(
            "--expires {text:?} is {}, which is not in the future; give a later time such as \"in 90d\"",
            time::format_moment(when, tz)
        );
    }
    Ok(when.timestamp_millis())
}
