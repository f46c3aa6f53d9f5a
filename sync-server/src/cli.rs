//! The `postctl-server` command line: `serve`, `user add|passwd|totp|delete`, `key
//! create|list|rotate|revoke`, `backup`, `restore`, `rotate-key` and `print-unit`.

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
  postctl-server user totp enrol alice
  postctl-server key create --user alice --scope posts:read,posts:write --expires 'in 90d'
  postctl-server key create --user alice --scope posts:read --rate-limit 60 --allow-ip 10.0.0.0/8
  postctl-server key list
  postctl-server key rotate 0193a1b2
  postctl-server key revoke 0193a1b2
  postctl-server user delete bob
  postctl-server backup --to /var/backups/postctl-server-$(date +%F).sqlite3
  postctl-server rotate-key --new-key-file /root/new-server.key
  postctl-server print-unit > /etc/systemd/system/postctl-server.service

Every option can also be set with a POSTCTL_SERVER_* environment variable, and listen,
database_url, log_format, log_level, metrics_token, lockout_seconds and rate_limit in
server.toml (in the data dir, or --config FILE). Accounts' credentials and TOTP secrets
are sealed with POSTCTL_SERVER_KEY, or DIR/secret.key made on first use.";

#[derive(Debug, Parser)]
#[command(
    name = "postctl-server",
    version,
    about = "The always-on postctl server: an HTTP API for posts, accounts, users, workspaces and API keys, on SQLite or PostgreSQL.",
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
        /// Reverse proxies (comma-separated addresses or CIDRs) whose X-Forwarded-For or
        /// Forwarded header names the client; from other peers the headers are ignored
        #[arg(long, value_name = "CIDRS", env = config::ENV_TRUSTED_PROXIES)]
        trusted_proxies: Option<String>,
        /// Export OpenTelemetry traces over OTLP/HTTP (protobuf) to this collector, e.g.
        /// http://localhost:4318 [default: no traces]
        #[arg(long, value_name = "URL", env = config::ENV_OTLP_ENDPOINT)]
        otlp_endpoint: Option<String>,
        /// Origins (comma-separated, or *) browsers may call the API from
        /// [default: none, no CORS headers]
        #[arg(long, value_name = "ORIGINS", env = config::ENV_CORS_ORIGINS)]
        cors_origins: Option<String>,
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
    /// Seal every account's credentials and TOTP secret under a new server key, in one
    /// transaction, and make it the key the server reads. Stop the server(s) first.
    #[command(
        after_help = "Examples:\n  head -c 32 /dev/urandom | base64 > new-server.key && chmod 600 new-server.key\n  systemctl stop postctl-server\n  postctl-server rotate-key --new-key-file new-server.key\n  systemctl start postctl-server\n\n  # or give the new key on standard input:\n  head -c 32 /dev/urandom | base64 | tee new-server.key | postctl-server rotate-key\n\nThe new key is base64 of 32 random bytes. Every sealed value is opened with the current\nkey (POSTCTL_SERVER_KEY, or DIR/secret.key) and sealed again with the new one; if any\ndoes not open, nothing changes. DIR/secret.key is then replaced by the new key; when\nPOSTCTL_SERVER_KEY is set instead, set it to the new key for every process. With\nPostgreSQL, stop every process sharing the database first."
    )]
    RotateKey {
        /// Read the new key from FILE instead of standard input
        #[arg(long, value_name = "FILE")]
        new_key_file: Option<PathBuf>,
    },
    /// Print a systemd unit that runs `postctl-server serve`, with hardening options.
    #[command(
        after_help = "Examples:\n  postctl-server print-unit > /etc/systemd/system/postctl-server.service\n  postctl-server print-unit --user postctl --listen 0.0.0.0:8787 --env-file /etc/postctl-server.env\n  postctl-server print-unit --listen 127.0.0.1:8787 --trusted-proxies 127.0.0.1\n\nThen: systemctl daemon-reload && systemctl enable --now postctl-server"
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
    /// Set a user's password. Their sessions end, and their sign-in lockout is lifted.
    #[command(
        after_help = "Examples:\n  printf '%s' \"$NEW_PASSWORD\" | postctl-server user passwd alice --password-stdin"
    )]
    Passwd {
        /// The user's name
        name: String,
        /// Read the new password from standard input (at least 8 characters)
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Turn a user's TOTP second factor on (enrol, then confirm) or off.
    #[command(
        subcommand,
        after_help = "Examples:\n  postctl-server user totp enrol alice\n  postctl-server user totp confirm alice 492039\n  postctl-server user totp disable alice"
    )]
    Totp(TotpCommand),
    /// Delete a user: their name, password, TOTP, keys, sessions and memberships go at
    /// once; their posts stay in the workspace, attributed to a deleted user.
    #[command(
        after_help = "Examples:\n  postctl-server user delete bob\n  postctl-server user delete bob --json"
    )]
    Delete {
        /// The user's name
        name: String,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TotpCommand {
    /// Start enrolment: prints the otpauth:// URI (and its secret) for an authenticator
    /// app. TOTP is required at sign-in once `confirm` sees a code from the app.
    #[command(
        after_help = "Examples:\n  postctl-server user totp enrol alice\n  postctl-server user totp enrol alice --json"
    )]
    Enrol {
        /// The user's name
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Confirm enrolment with the app's current code; prints the recovery codes, once.
    #[command(after_help = "Examples:\n  postctl-server user totp confirm alice 492039")]
    Confirm {
        /// The user's name
        name: String,
        /// The six-digit code the authenticator app shows now
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Turn TOTP off (for a user who lost their app and their recovery codes).
    #[command(after_help = "Examples:\n  postctl-server user totp disable alice")]
    Disable {
        /// The user's name
        name: String,
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
        /// What the key may do: posts:read, posts:write, publish, accounts:read,
        /// accounts:write, admin, webhooks:write, analytics:read (comma-separated or
        /// repeated)
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
        /// Requests a minute this key may make [default: the server's rate_limit, 600]
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        rate_limit: Option<u32>,
        /// Only accept the key from these addresses or CIDR networks (comma-separated or repeated)
        #[arg(long, value_name = "CIDR", value_delimiter = ',')]
        allow_ip: Vec<String>,
        /// Print the key and its details as JSON
        #[arg(long)]
        json: bool,
    },
    /// Rotate an API key: a new key with the same user, scopes and limits is printed once;
    /// the old key keeps working for the grace period, then stops.
    #[command(
        after_help = "Examples:\n  postctl-server key rotate 0193a1b2\n  postctl-server key rotate sk_live_Ab3x --grace 1h --json"
    )]
    Rotate {
        /// The key's id (or a unique start of it), or its prefix as `key list` shows it
        key: String,
        /// How long the old key keeps working: 30s, 15m, 24h, 7d
        #[arg(long, value_name = "DURATION", default_value = "24h")]
        grace: String,
        /// Print the new key and its details as JSON
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
    let mut given = Given {
        data: cli.global.data.clone(),
        config: cli.global.config.clone(),
        database_url: cli.global.database_url.clone(),
        metrics_token: std::env::var(config::ENV_METRICS_TOKEN).ok(),
        ..Given::default()
    };
    if let Command::Serve {
        listen,
        log_format,
        log_level,
        trusted_proxies,
        otlp_endpoint,
        cors_origins,
    } = &cli.command
    {
        given.listen = listen.clone();
        given.log_format = log_format.clone();
        given.log_level = log_level.clone();
        given.trusted_proxies = trusted_proxies.clone();
        given.otlp_endpoint = otlp_endpoint.clone();
        given.cors_origins = cors_origins.clone();
    }
    if let Command::PrintUnit(options) = &cli.command {
        print!("{}", crate::unit::render(options, &cli.global.data)?);
        return Ok(());
    }
    let settings = config::resolve(&given)?;
    match cli.command {
        Command::Serve { .. } => crate::serve::run(settings).await,
        Command::Backup { to, force } => crate::backup::backup(&settings, &to, force).await,
        Command::Restore { from } => crate::backup::restore(&settings, &from).await,
        Command::PrintUnit(_) => Ok(()),
        Command::RotateKey { new_key_file } => {
            crate::rekey::rotate(&settings, new_key_file.as_deref()).await
        }
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
        UserCommand::Passwd { name, .. } => {
            let password = read_password()?;
            users::check_password(&password)?;
            let storage = open(settings).await?;
            let user = find_user(storage.as_ref(), &name).await?;
            users::set_password(storage.as_ref(), &user, &password).await?;
            eprintln!("Changed the password of {name}; their sessions have ended.");
            Ok(())
        }
        UserCommand::Totp(command) => totp(settings, command).await,
        UserCommand::Delete { name, json } => {
            let storage = open(settings).await?;
            let user = find_user(storage.as_ref(), &name).await?;
            users::delete_user(storage.as_ref(), &user).await?;
            if json {
                println!("{}", json!({ "deleted": name, "id": user.id }));
            } else {
                eprintln!(
                    "Deleted user {name} ({}): their keys and sessions no longer work; their posts stay, attributed to deleted-{}.",
                    user.id, user.id
                );
            }
            Ok(())
        }
    }
}

async fn find_user(storage: &dyn Storage, name: &str) -> anyhow::Result<storage::User> {
    storage
        .user_by_name(name)
        .await?
        .with_context(|| format!("there is no user {name:?}"))
}

async fn totp(settings: &Settings, command: TotpCommand) -> anyhow::Result<()> {
    let server_key = crate::auth::sealed::ServerKey::load(&settings.data_dir)?;
    let storage = open(settings).await?;
    match command {
        TotpCommand::Enrol { name, json } => {
            let user = find_user(storage.as_ref(), &name).await?;
            let enrolment = users::begin_totp(storage.as_ref(), &server_key, &user).await?;
            if json {
                println!(
                    "{}",
                    json!({ "otpauth_uri": enrolment.uri, "secret": enrolment.secret_base32 })
                );
            } else {
                println!("{}", enrolment.uri);
                eprintln!(
                    "Add this to an authenticator app (or type the secret {}), then confirm with
  postctl-server user totp confirm {name} CODE",
                    enrolment.secret_base32
                );
            }
            Ok(())
        }
        TotpCommand::Confirm { name, code, json } => {
            let user = find_user(storage.as_ref(), &name).await?;
            let codes = users::confirm_totp(storage.as_ref(), &server_key, &user, &code).await?;
            if json {
                println!("{}", json!({ "totp": "enabled", "recovery_codes": codes }));
            } else {
                for code in &codes {
                    println!("{code}");
                }
                eprintln!(
                    "TOTP is on for {name}: sign-in now needs a code. Above are {} recovery codes, each good for one sign-in without the app; they are shown only now.",
                    codes.len()
                );
            }
            Ok(())
        }
        TotpCommand::Disable { name } => {
            let user = find_user(storage.as_ref(), &name).await?;
            storage.disable_totp(&user.id).await?;
            eprintln!("TOTP is off for {name}; their recovery codes were deleted.");
            Ok(())
        }
    }
}

/// Reads a duration: a whole number and s, m, h or d (`30s`, `24h`).
fn parse_duration_ms(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_ms = match unit.trim() {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => 0,
    };
    match number.parse::<i64>() {
        Ok(n) if unit_ms > 0 && n <= 366 * 86_400 => Ok(n * unit_ms),
        _ => bail!("{text:?} is not a duration: write a number and s, m, h or d, such as 24h"),
    }
}

/// The one key whose id starts with `wanted`, or whose prefix does.
fn find_key<'a>(listings: &'a [KeyListing], wanted: &str) -> anyhow::Result<&'a KeyListing> {
    let key = wanted.trim_end_matches('…');
    let matches: Vec<_> = listings
        .iter()
        .filter(|l| l.key.id.starts_with(key) || (key.len() >= 10 && l.key.prefix.starts_with(key)))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => bail!("no key matches {wanted:?}; `postctl-server key list` shows them"),
        _ => bail!(
            "{} keys match {wanted:?}; give more of the id (`postctl-server key list`)",
            matches.len()
        ),
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
    } else if key.replaced_by.is_some() {
        "rotated"
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
        "replaced_by": key.replaced_by,
        "rate_per_minute": key.rate_per_minute,
        "allowed_ips": key.allowed_ips,
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
            rate_limit,
            allow_ip,
            json,
        } => {
            let allowed_ips = users::parse_networks(&allow_ip)?;
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
                    rate_per_minute: rate_limit,
                    allowed_ips,
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
        KeyCommand::Rotate { key, grace, json } => {
            let grace_ms = parse_duration_ms(&grace).context("--grace")?;
            let storage = open(settings).await?;
            let listings = storage.keys(None).await?;
            let found = find_key(&listings, &key)?;
            let (new, secret) = users::rotate_key(storage.as_ref(), &found.key, grace_ms).await?;
            let old_until = now.timestamp_millis().saturating_add(grace_ms);
            let old_until = found
                .key
                .expires_ms
                .map_or(old_until, |at| at.min(old_until));
            if json {
                println!(
                    "{}",
                    json!({
                        "id": new.id,
                        "key": secret,
                        "prefix": new.prefix,
                        "replaces": found.key.id,
                        "old_key_expires_at": time_text(old_until),
                    })
                );
            } else {
                println!("{secret}");
                eprintln!(
                    "Rotated key {} ({}): the new key {} ({}) is shown only now; the old one works until {}.",
                    keys::display(&found.key.prefix),
                    found.key.id,
                    keys::display(&new.prefix),
                    new.id,
                    time_text(old_until)
                );
            }
            Ok(())
        }
        KeyCommand::Revoke { key } => {
            let storage = open(settings).await?;
            let listings = storage.keys(None).await?;
            let found = find_key(&listings, &key)?;
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
