//! Settings, in layers: defaults, then `server.toml`, then `POSTCTL_SERVER_*` environment
//! variables, then flags (clap reads the last two; this module adds the file and defaults).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// The environment variables the server reads: this list is the one place their names are
/// kept (the flags name them, `print-unit`, the Dockerfile and docker-compose.yml use them,
/// and a test checks all of these against `--help` and the compose file).
pub const ENV_DATA: &str = "POSTCTL_SERVER_DATA";
pub const ENV_DATABASE_URL: &str = "POSTCTL_SERVER_DATABASE_URL";
pub const ENV_CONFIG: &str = "POSTCTL_SERVER_CONFIG";
pub const ENV_LISTEN: &str = "POSTCTL_SERVER_LISTEN";
pub const ENV_LOG_FORMAT: &str = "POSTCTL_SERVER_LOG_FORMAT";
pub const ENV_LOG_LEVEL: &str = "POSTCTL_SERVER_LOG_LEVEL";
/// When set, `/metrics` answers only `Authorization: Bearer <this token>`. Read from the
/// environment or server.toml only, never a flag (flags show in `ps`).
pub const ENV_METRICS_TOKEN: &str = "POSTCTL_SERVER_METRICS_TOKEN";
pub const ENV_LOCKOUT_SECONDS: &str = "POSTCTL_SERVER_LOCKOUT_SECONDS";
pub const ENV_RATE_LIMIT: &str = "POSTCTL_SERVER_RATE_LIMIT";
/// Networks (CIDR, comma-separated) of the reverse proxies whose `X-Forwarded-For` and
/// `Forwarded` headers name the client.
pub const ENV_TRUSTED_PROXIES: &str = "POSTCTL_SERVER_TRUSTED_PROXIES";
/// Where to send OpenTelemetry traces (OTLP over HTTP), e.g. `http://collector:4318`.
pub const ENV_OTLP_ENDPOINT: &str = "POSTCTL_SERVER_OTLP_ENDPOINT";
/// The origins (comma-separated) browsers may call the API from; none by default.
pub const ENV_CORS_ORIGINS: &str = "POSTCTL_SERVER_CORS_ORIGINS";
pub const ENV_RETENTION_DAYS: &str = "POSTCTL_SERVER_RETENTION_DAYS";
pub const ENV_BODY_LIMIT_KB: &str = "POSTCTL_SERVER_BODY_LIMIT_KB";
pub const ENV_REQUEST_TIMEOUT_SECONDS: &str = "POSTCTL_SERVER_REQUEST_TIMEOUT_SECONDS";
/// The key TOTP and webhook secrets are sealed with (`auth::sealed`).
pub const ENV_KEY: &str = crate::auth::sealed::KEY_VAR;
/// `true` lets webhook URLs reach loopback, private and link-local addresses.
pub const ENV_ALLOW_PRIVATE_WEBHOOKS: &str = "POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS";
pub const ENV_WEBHOOK_TIMEOUT_SECONDS: &str = "POSTCTL_SERVER_WEBHOOK_TIMEOUT_SECONDS";
pub const ENV_WEBHOOK_FIRST_RETRY_SECONDS: &str = "POSTCTL_SERVER_WEBHOOK_FIRST_RETRY_SECONDS";
pub const ENV_WEBHOOK_RETRY_HOURS: &str = "POSTCTL_SERVER_WEBHOOK_RETRY_HOURS";
pub const ENV_WEBHOOK_DISABLE_AFTER: &str = "POSTCTL_SERVER_WEBHOOK_DISABLE_AFTER";
/// `false` keeps this process from publishing (an API-only node).
pub const ENV_PUBLISH: &str = "POSTCTL_SERVER_PUBLISH";
/// How long the publisher's claim on a target holds without news (renewed before each
/// part); a killed process's targets are taken over after it.
pub const ENV_PUBLISH_LEASE_SECONDS: &str = "POSTCTL_SERVER_PUBLISH_LEASE_SECONDS";
/// The default of [`ENV_PUBLISH_LEASE_SECONDS`].
pub const DEFAULT_PUBLISH_LEASE_SECONDS: u64 = 120;
/// The SMTP relay email notifications go through (`notify::Smtp`).
pub const ENV_SMTP_HOST: &str = "POSTCTL_SERVER_SMTP_HOST";
pub const ENV_SMTP_PORT: &str = "POSTCTL_SERVER_SMTP_PORT";
pub const ENV_SMTP_USER: &str = "POSTCTL_SERVER_SMTP_USER";
/// The relay's password: from the environment or server.toml only.
pub const ENV_SMTP_PASSWORD: &str = "POSTCTL_SERVER_SMTP_PASSWORD";
pub const ENV_SMTP_FROM: &str = "POSTCTL_SERVER_SMTP_FROM";
/// `false` sends without STARTTLS (a relay on the same machine); on by default.
pub const ENV_SMTP_STARTTLS: &str = "POSTCTL_SERVER_SMTP_STARTTLS";
/// The Telegram Bot API's base URL for notifications (`https://api.telegram.org`).
pub const ENV_TELEGRAM_API_URL: &str = "POSTCTL_SERVER_TELEGRAM_API_URL";
pub const ENV_NOTIFY_FIRST_RETRY_SECONDS: &str = "POSTCTL_SERVER_NOTIFY_FIRST_RETRY_SECONDS";
/// Seconds between two polls of one RSS or Atom feed.
pub const ENV_FEED_POLL_SECONDS: &str = "POSTCTL_SERVER_FEED_POLL_SECONDS";
/// The default of [`ENV_FEED_POLL_SECONDS`]: a quarter of an hour.
pub const DEFAULT_FEED_POLL_SECONDS: u64 = 900;
/// The S3-compatible bucket media files are kept in (`[media]` in server.toml): its
/// endpoint, name, region, access key id, object name prefix, and secret access key (from
/// the environment or a file only, never server.toml or a flag).
pub const ENV_MEDIA_ENDPOINT: &str = "POSTCTL_SERVER_MEDIA_ENDPOINT";
pub const ENV_MEDIA_BUCKET: &str = "POSTCTL_SERVER_MEDIA_BUCKET";
pub const ENV_MEDIA_REGION: &str = "POSTCTL_SERVER_MEDIA_REGION";
pub const ENV_MEDIA_ACCESS_KEY_ID: &str = "POSTCTL_SERVER_MEDIA_ACCESS_KEY_ID";
pub const ENV_MEDIA_SECRET_KEY: &str = "POSTCTL_SERVER_MEDIA_SECRET_KEY";
pub const ENV_MEDIA_SECRET_KEY_FILE: &str = "POSTCTL_SERVER_MEDIA_SECRET_KEY_FILE";
pub const ENV_MEDIA_PREFIX: &str = "POSTCTL_SERVER_MEDIA_PREFIX";
/// The default of [`ENV_MEDIA_PREFIX`].
pub const DEFAULT_MEDIA_PREFIX: &str = "postctl-server/";
pub const ENV: &[&str] = &[
    ENV_DATA,
    ENV_DATABASE_URL,
    ENV_CONFIG,
    ENV_LISTEN,
    ENV_LOG_FORMAT,
    ENV_LOG_LEVEL,
    ENV_METRICS_TOKEN,
    ENV_LOCKOUT_SECONDS,
    ENV_RATE_LIMIT,
    ENV_TRUSTED_PROXIES,
    ENV_OTLP_ENDPOINT,
    ENV_CORS_ORIGINS,
    ENV_RETENTION_DAYS,
    ENV_BODY_LIMIT_KB,
    ENV_REQUEST_TIMEOUT_SECONDS,
    ENV_KEY,
    ENV_ALLOW_PRIVATE_WEBHOOKS,
    ENV_WEBHOOK_TIMEOUT_SECONDS,
    ENV_WEBHOOK_FIRST_RETRY_SECONDS,
    ENV_WEBHOOK_RETRY_HOURS,
    ENV_WEBHOOK_DISABLE_AFTER,
    ENV_PUBLISH,
    ENV_PUBLISH_LEASE_SECONDS,
    ENV_SMTP_HOST,
    ENV_SMTP_PORT,
    ENV_SMTP_USER,
    ENV_SMTP_PASSWORD,
    ENV_SMTP_FROM,
    ENV_SMTP_STARTTLS,
    ENV_TELEGRAM_API_URL,
    ENV_NOTIFY_FIRST_RETRY_SECONDS,
    ENV_FEED_POLL_SECONDS,
    ENV_MEDIA_ENDPOINT,
    ENV_MEDIA_BUCKET,
    ENV_MEDIA_REGION,
    ENV_MEDIA_ACCESS_KEY_ID,
    ENV_MEDIA_SECRET_KEY,
    ENV_MEDIA_SECRET_KEY_FILE,
    ENV_MEDIA_PREFIX,
];
/// Those of [`ENV`] that no flag sets: secrets (flags show in `ps`) and rarely changed limits.
pub const ENV_ONLY: &[&str] = &[
    ENV_METRICS_TOKEN,
    ENV_LOCKOUT_SECONDS,
    ENV_RATE_LIMIT,
    ENV_RETENTION_DAYS,
    ENV_BODY_LIMIT_KB,
    ENV_REQUEST_TIMEOUT_SECONDS,
    ENV_KEY,
    ENV_ALLOW_PRIVATE_WEBHOOKS,
    ENV_WEBHOOK_TIMEOUT_SECONDS,
    ENV_WEBHOOK_FIRST_RETRY_SECONDS,
    ENV_WEBHOOK_RETRY_HOURS,
    ENV_WEBHOOK_DISABLE_AFTER,
    ENV_PUBLISH,
    ENV_PUBLISH_LEASE_SECONDS,
    ENV_SMTP_HOST,
    ENV_SMTP_PORT,
    ENV_SMTP_USER,
    ENV_SMTP_PASSWORD,
    ENV_SMTP_FROM,
    ENV_SMTP_STARTTLS,
    ENV_TELEGRAM_API_URL,
    ENV_NOTIFY_FIRST_RETRY_SECONDS,
    ENV_FEED_POLL_SECONDS,
    ENV_MEDIA_ENDPOINT,
    ENV_MEDIA_BUCKET,
    ENV_MEDIA_REGION,
    ENV_MEDIA_ACCESS_KEY_ID,
    ENV_MEDIA_SECRET_KEY,
    ENV_MEDIA_SECRET_KEY_FILE,
    ENV_MEDIA_PREFIX,
];

/// How the server writes its log on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per line (for journald, Loki, Elasticsearch...).
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> anyhow::Result<LogFormat> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => bail!("the log format {other:?} is not one of text, json"),
        }
    }
}

pub const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];
/// The SQLite database's file name in the data dir.
pub const DATABASE_FILE: &str = "server.sqlite3";

/// What flags and environment variables gave (clap fills these).
#[derive(Debug, Clone, Default)]
pub struct Given {
    pub data: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub metrics_token: Option<String>,
    /// `--trusted-proxies`: comma-separated CIDRs.
    pub trusted_proxies: Option<String>,
    pub otlp_endpoint: Option<String>,
    /// `--cors-origins`: comma-separated origins.
    pub cors_origins: Option<String>,
}

/// `server.toml`: the settings a file may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    database_url: Option<String>,
    log_format: Option<String>,
    log_level: Option<String>,
    metrics_token: Option<String>,
    lockout_seconds: Option<u64>,
    rate_limit: Option<u32>,
    trusted_proxies: Option<Vec<String>>,
    otlp_endpoint: Option<String>,
    cors_origins: Option<Vec<String>>,
    retention_days: Option<u32>,
    body_limit_kb: Option<u32>,
    request_timeout_seconds: Option<u64>,
    allow_private_webhooks: Option<bool>,
    webhook_timeout_seconds: Option<u64>,
    webhook_first_retry_seconds: Option<u64>,
    webhook_retry_hours: Option<f64>,
    webhook_disable_after: Option<u32>,
    publish: Option<bool>,
    publish_lease_seconds: Option<u64>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_user: Option<String>,
    smtp_password: Option<String>,
    smtp_from: Option<String>,
    smtp_starttls: Option<bool>,
    telegram_api_url: Option<String>,
    notify_first_retry_seconds: Option<u64>,
    feed_poll_seconds: Option<u64>,
    media: Option<MediaFile>,
}

/// `[media]` in server.toml: the bucket, without its secret key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MediaFile {
    endpoint: Option<String>,
    bucket: Option<String>,
    region: Option<String>,
    access_key_id: Option<String>,
    /// A file holding the secret access key (a Docker or systemd credential).
    secret_key_file: Option<PathBuf>,
    /// Read only to be refused without being quoted (an unknown field's error would show
    /// its line).
    secret_key: Option<toml::Value>,
    prefix: Option<String>,
}

/// The S3-compatible bucket media files are kept in (`[media]`).
pub struct MediaBucket {
    /// `http(s)://host[:port]`, path-style URLs (`{endpoint}/{bucket}/{key}`).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_key: postctl_core::secrets::Secret,
    /// Object names start with this (default [`DEFAULT_MEDIA_PREFIX`]).
    pub prefix: String,
}

impl Clone for MediaBucket {
    fn clone(&self) -> Self {
        MediaBucket {
            endpoint: self.endpoint.clone(),
            bucket: self.bucket.clone(),
            region: self.region.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_key: postctl_core::secrets::Secret::new(self.secret_key.expose().to_string()),
            prefix: self.prefix.clone(),
        }
    }
}

impl std::fmt::Debug for MediaBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaBucket")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_key", &"(set)")
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// The first lockout after repeated failed sign-ins, in seconds (it doubles after that).
pub const DEFAULT_LOCKOUT_SECONDS: u64 = 30;
/// Requests a minute for keys without a limit of their own, and for sessions.
pub const DEFAULT_RATE_LIMIT: u32 = 600;
/// Days ended sessions, finished webhook deliveries (with their attempts) and finished
/// targets' publish attempts are kept.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// The largest request body, in KiB.
pub const DEFAULT_BODY_LIMIT_KB: u32 = 1024;
/// How long a request may take before it is answered 503.
pub const DEFAULT_REQUEST_TIMEOUT_SECONDS: u64 = 30;

/// The settings in force.
#[derive(Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// A `postgres://` URL; `None` for the embedded SQLite database.
    pub database_url: Option<String>,
    pub log_format: LogFormat,
    /// One of [`LOG_LEVELS`].
    pub log_level: String,
    /// The bearer token `/metrics` asks for; `None` leaves it open.
    pub metrics_token: Option<String>,
    /// `lockout_seconds` (`POSTCTL_SERVER_LOCKOUT_SECONDS`).
    pub lockout_seconds: u64,
    /// `rate_limit` (`POSTCTL_SERVER_RATE_LIMIT`): requests a minute per key by default.
    pub rate_limit: u32,
    /// `trusted_proxies`: the peers whose forwarding headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `otlp_endpoint`: the OTLP/HTTP collector traces go to; `None` exports none.
    pub otlp_endpoint: Option<String>,
    /// `cors_origins`: the origins browsers may call from; empty answers no CORS at all.
    pub cors_origins: Vec<String>,
    /// `retention_days`: how long ended sessions, finished webhook deliveries and the
    /// publish attempts of finished targets are kept before the daily cleanup.
    pub retention_days: u32,
    /// `body_limit_kb`, in bytes.
    pub body_limit_bytes: usize,
    /// `request_timeout_seconds`.
    pub request_timeout: std::time::Duration,
    /// How webhooks are sent and retried (`allow_private_webhooks`, `webhook_*`).
    pub webhooks: crate::webhooks::Policy,
    /// `publish`: whether this process runs the publisher (false for API-only nodes).
    pub publish: bool,
    /// `publish_lease_seconds`: how long a claim on a target holds without news.
    pub publish_lease: std::time::Duration,
    /// How notifications are sent (`smtp_*`, `telegram_api_url`, `notify_*`).
    pub notify: crate::notify::Settings,
    /// `feed_poll_seconds`: between two polls of one feed.
    pub feed_poll: std::time::Duration,
    /// `[media]`: the bucket media files are kept in; `None` keeps them in `DATA/media`.
    pub media: Option<MediaBucket>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("database", &self.database())
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "(set)"),
            )
            .field("lockout_seconds", &self.lockout_seconds)
            .field("rate_limit", &self.rate_limit)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("otlp_endpoint", &self.otlp_endpoint)
            .field("cors_origins", &self.cors_origins)
            .field("retention_days", &self.retention_days)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("request_timeout", &self.request_timeout)
            .field("webhooks", &self.webhooks)
            .field("notify", &self.notify)
            .field("feed_poll", &self.feed_poll)
            .field("media", &self.media)
            .finish()
    }
}

impl Settings {
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// Where the data lives, for messages: never the URL's password.
    pub fn database(&self) -> String {
        match &self.database_url {
            Some(url) => format!("PostgreSQL at {}", redact(url)),
            None => format!("SQLite at {}", self.sqlite_path().display()),
        }
    }
}

/// `postgres://user:secret@host/db` as `postgres://user@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(a database URL)".into();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    let db = path.split('?').next().unwrap_or_default();
    format!("{scheme}://{host}/{db}")
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("postctl-server"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/postctl-server")),
        None => bail!(
            "neither HOME nor XDG_DATA_HOME is set: pass --data DIR or set POSTCTL_SERVER_DATA"
        ),
    }
}

fn read_file(path: &Path, required: bool) -> anyhow::Result<File> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a valid server.toml: {}",
                path.display(),
                toml_error(&text, &e)
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(File::default()),
        Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
    }
}

/// What is wrong in server.toml, by line and key, without the file's text: a line of it
/// may hold a secret (`smtp_password`, `metrics_token`), and the parser's own report
/// shows the line and quotes the value it could not use.
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let mut message = String::new();
    let mut quoted = false;
    for c in error.message().trim().chars() {
        if c == '"' {
            if !quoted {
                message.push_str("\"…\"");
            }
            quoted = !quoted;
        } else if !quoted {
            message.push(c);
        }
    }
    let Some(span) = error.span() else {
        return message;
    };
    let start = span.start.min(text.len());
    let line = text.as_bytes()[..start]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1;
    let key = text
        .lines()
        .nth(line - 1)
        .and_then(|l| l.split_once('='))
        .map(|(key, _)| key.trim())
        .filter(|key| !key.is_empty());
    match key {
        Some(key) => format!("line {line} (`{key}`): {message}"),
        None => format!("line {line}: {message}"),
    }
}

/// Resolves the settings. `server.toml` is read from `--config`, or from the data dir
/// when it is there.
pub fn resolve(given: &Given) -> anyhow::Result<Settings> {
    let data_dir = match &given.data {
        Some(dir) => dir.clone(),
        None => default_data_dir()?,
    };
    let file = match &given.config {
        Some(path) => read_file(path, true)?,
        None => read_file(&data_dir.join("server.toml"), false)?,
    };
    let webhooks = webhook_policy(&file)?;
    let publish = match flag_from_env(ENV_PUBLISH)? {
        Some(on) => on,
        None => file.publish.unwrap_or(true),
    };
    let publish_lease_seconds: u64 = number_from_env(ENV_PUBLISH_LEASE_SECONDS)?
        .or(file.publish_lease_seconds)
        .unwrap_or(DEFAULT_PUBLISH_LEASE_SECONDS);
    if !(1..=3600).contains(&publish_lease_seconds) {
        bail!(
            "publish_lease_seconds must be 1 to 3600 (the default is {DEFAULT_PUBLISH_LEASE_SECONDS})"
        );
    }
    let notify = notify_settings(&file)?;
    let media = media_bucket(file.media.as_ref())?;
    let feed_poll_seconds: u64 = number_from_env(ENV_FEED_POLL_SECONDS)?
        .or(file.feed_poll_seconds)
        .unwrap_or(DEFAULT_FEED_POLL_SECONDS);
    if !(1..=86_400).contains(&feed_poll_seconds) {
        bail!("feed_poll_seconds must be 1 to 86400 (the default is {DEFAULT_FEED_POLL_SECONDS})");
    }
    let listen_text = given
        .listen
        .clone()
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let listen = listen_text.parse().with_context(|| {
        format!(
            "the listen address {listen_text:?} is not an IP address and port, e.g. 127.0.0.1:8787"
        )
    })?;
    let database_url = given.database_url.clone().or(file.database_url);
    if let Some(url) = &database_url
        && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        bail!(
            "the database URL {} is not a PostgreSQL URL: write postgres://USER:PASSWORD@HOST:PORT/DATABASE, \
             or leave it out for the embedded SQLite database",
            redact(url)
        );
    }
    let log_format = match given.log_format.clone().or(file.log_format) {
        Some(text) => LogFormat::parse(&text)?,
        None => LogFormat::Text,
    };
    let log_level = given
        .log_level
        .clone()
        .or(file.log_level)
        .unwrap_or_else(|| "info".into());
    if !LOG_LEVELS.contains(&log_level.as_str()) {
        bail!(
            "the log level {log_level:?} is not one of {}",
            LOG_LEVELS.join(", ")
        );
    }
    let metrics_token = given
        .metrics_token
        .clone()
        .or(file.metrics_token)
        .filter(|t| !t.is_empty());
    if let Some(token) = &metrics_token
        && token.len() < 16
    {
        bail!(
            "the metrics token ({ENV_METRICS_TOKEN} or metrics_token in server.toml) is shorter \
             than 16 characters; make a long random one, e.g. with `openssl rand -hex 24`"
        );
    }
    let lockout_seconds = number_from_env(ENV_LOCKOUT_SECONDS)?
        .or(file.lockout_seconds)
        .unwrap_or(DEFAULT_LOCKOUT_SECONDS);
    let rate_limit = number_from_env(ENV_RATE_LIMIT)?
        .or(file.rate_limit)
        .unwrap_or(DEFAULT_RATE_LIMIT);
    if lockout_seconds == 0 || rate_limit == 0 {
        bail!("lockout_seconds and rate_limit must be at least 1");
    }
    let trusted_proxies = match &given.trusted_proxies {
        Some(text) => list(text),
        None => file.trusted_proxies.unwrap_or_default(),
    }
    .iter()
    .map(|text| cidr(text))
    .collect::<anyhow::Result<Vec<_>>>()?;
    if trusted_proxies.iter().any(|net| net.prefix_len() == 0) {
        bail!(
            "a trusted proxy network covers every address, so any client could name itself \
             in X-Forwarded-For; list your proxies' own addresses or networks instead"
        );
    }
    let otlp_endpoint = given
        .otlp_endpoint
        .clone()
        .or(file.otlp_endpoint)
        .filter(|u| !u.trim().is_empty());
    if let Some(url) = &otlp_endpoint
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        bail!(
            "the OTLP endpoint {url:?} is not an http:// or https:// URL: give the collector's \
             OTLP/HTTP address, e.g. http://localhost:4318"
        );
    }
    let cors_origins = match &given.cors_origins {
        Some(text) => list(text),
        None => file.cors_origins.unwrap_or_default(),
    };
    for origin in &cors_origins {
        if origin != "*"
            && !((origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/')
                && axum::http::HeaderValue::from_str(origin).is_ok())
        {
            bail!(
                "the CORS origin {origin:?} is not an origin: write scheme://host[:port] without \
                 a path, e.g. https://app.example.com, or * for any"
            );
        }
    }
    let retention_days = number_from_env(ENV_RETENTION_DAYS)?
        .or(file.retention_days)
        .unwrap_or(DEFAULT_RETENTION_DAYS);
    let body_limit_kb = number_from_env(ENV_BODY_LIMIT_KB)?
        .or(file.body_limit_kb)
        .unwrap_or(DEFAULT_BODY_LIMIT_KB);
    let request_timeout_seconds = number_from_env(ENV_REQUEST_TIMEOUT_SECONDS)?
        .or(file.request_timeout_seconds)
        .unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECONDS);
    if retention_days == 0 || body_limit_kb == 0 || request_timeout_seconds == 0 {
        bail!("retention_days, body_limit_kb and request_timeout_seconds must be at least 1");
    }
    Ok(Settings {
        data_dir,
        listen,
        database_url: database_url.filter(|u| !u.is_empty()),
        log_format,
        log_level,
        metrics_token,
        lockout_seconds,
        rate_limit,
        trusted_proxies,
        otlp_endpoint,
        cors_origins,
        retention_days,
        body_limit_bytes: usize::try_from(body_limit_kb)
            .unwrap_or(usize::MAX)
            .saturating_mul(1024),
        request_timeout: std::time::Duration::from_secs(request_timeout_seconds),
        webhooks,
        publish,
        publish_lease: std::time::Duration::from_secs(publish_lease_seconds),
        notify,
        feed_poll: std::time::Duration::from_secs(feed_poll_seconds),
        media,
    })
}

/// `[media]`: environment, then server.toml. No bucket when neither names an endpoint or
/// a bucket; else every part must be there, the secret key from
/// [`ENV_MEDIA_SECRET_KEY`] or a file ([`ENV_MEDIA_SECRET_KEY_FILE`], `secret_key_file`).
fn media_bucket(file: Option<&MediaFile>) -> anyhow::Result<Option<MediaBucket>> {
    let empty = MediaFile::default();
    let file = file.unwrap_or(&empty);
    if file.secret_key.is_some() {
        bail!(
            "the media bucket's secret access key does not go in server.toml: remove \
             secret_key from [media], and set {ENV_MEDIA_SECRET_KEY} or point secret_key_file \
             at a file holding it"
        );
    }
    let endpoint = text_from_env(ENV_MEDIA_ENDPOINT).or(file.endpoint.clone());
    let bucket = text_from_env(ENV_MEDIA_BUCKET).or(file.bucket.clone());
    if endpoint.is_none() && bucket.is_none() {
        return Ok(None);
    }
    let needed = |value: Option<String>, key: &str, var: &str| {
        value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            anyhow::anyhow!(
                "[media] in server.toml names a bucket but not its {key}: set {key} there \
                 (or {var})"
            )
        })
    };
    let endpoint = needed(endpoint, "endpoint", ENV_MEDIA_ENDPOINT)?;
    let bucket = needed(bucket, "bucket", ENV_MEDIA_BUCKET)?;
    let region = needed(
        text_from_env(ENV_MEDIA_REGION).or(file.region.clone()),
        "region",
        ENV_MEDIA_REGION,
    )?;
    let access_key_id = needed(
        text_from_env(ENV_MEDIA_ACCESS_KEY_ID).or(file.access_key_id.clone()),
        "access_key_id",
        ENV_MEDIA_ACCESS_KEY_ID,
    )?;
    let url = reqwest::Url::parse(endpoint.trim()).ok();
    if !url
        .as_ref()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
    {
        bail!(
            "the media endpoint {endpoint:?} is not an http(s) URL: write the bucket service's \
             address, e.g. https://s3.eu-central-1.amazonaws.com, \
             https://ACCOUNT.r2.cloudflarestorage.com or http://minio:9000"
        );
    }
    let key_file = std::env::var_os(ENV_MEDIA_SECRET_KEY_FILE)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or(file.secret_key_file.clone());
    let secret = match std::env::var(ENV_MEDIA_SECRET_KEY)
        .ok()
        .filter(|k| !k.trim().is_empty())
    {
        Some(key) => key.trim().to_string(),
        None => match &key_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "could not read the media bucket's secret key file {}: {e}",
                        path.display()
                    )
                })?
                .trim()
                .to_string(),
            None => bail!(
                "[media] names bucket {bucket:?} but not its secret access key: set \
                 {ENV_MEDIA_SECRET_KEY}, or point {ENV_MEDIA_SECRET_KEY_FILE} (secret_key_file \
                 in [media]) at a file holding it"
            ),
        },
    };
    if secret.is_empty() {
        bail!(
            "the media bucket's secret access key is empty: put the key in \
             {ENV_MEDIA_SECRET_KEY} or the file {ENV_MEDIA_SECRET_KEY_FILE} names"
        );
    }
    let prefix = text_from_env(ENV_MEDIA_PREFIX)
        .or(file.prefix.clone())
        .unwrap_or_else(|| DEFAULT_MEDIA_PREFIX.to_string());
    if prefix.starts_with('/') || prefix.chars().any(char::is_control) {
        bail!("the media prefix {prefix:?} must not start with / (e.g. {DEFAULT_MEDIA_PREFIX})");
    }
    Ok(Some(MediaBucket {
        endpoint: endpoint.trim().trim_end_matches('/').to_string(),
        bucket: bucket.trim().to_string(),
        region: region.trim().to_string(),
        access_key_id: access_key_id.trim().to_string(),
        secret_key: postctl_core::secrets::Secret::new(secret),
        prefix,
    }))
}

fn text_from_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The notification settings: environment, then server.toml, then defaults.
fn notify_settings(file: &File) -> anyhow::Result<crate::notify::Settings> {
    let defaults = crate::notify::Settings::default();
    let host = text_from_env(ENV_SMTP_HOST).or(file.smtp_host.clone());
    let starttls = match std::env::var(ENV_SMTP_STARTTLS) {
        Ok(text) if !text.trim().is_empty() => match text.trim() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            other => bail!("{ENV_SMTP_STARTTLS}={other:?} is not true or false"),
        },
        _ => file.smtp_starttls.unwrap_or(true),
    };
    let smtp = match host {
        None => None,
        Some(host) => {
            let from = text_from_env(ENV_SMTP_FROM)
                .or(file.smtp_from.clone())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "smtp_host is set but smtp_from is not: set {ENV_SMTP_FROM} (or smtp_from in \
                         server.toml) to the address notifications come from"
                    )
                })?;
            let port: u16 = number_from_env(ENV_SMTP_PORT)?
                .or(file.smtp_port)
                .unwrap_or(587);
            Some(crate::notify::Smtp {
                host,
                port,
                user: text_from_env(ENV_SMTP_USER).or(file.smtp_user.clone()),
                password: std::env::var(ENV_SMTP_PASSWORD)
                    .ok()
                    .filter(|p| !p.is_empty())
                    .or(file.smtp_password.clone()),
                from,
                starttls,
            })
        }
    };
    let telegram_api = text_from_env(ENV_TELEGRAM_API_URL)
        .or(file.telegram_api_url.clone())
        .unwrap_or(defaults.telegram_api.clone());
    if reqwest::Url::parse(&telegram_api).is_err() {
        bail!("telegram_api_url {telegram_api:?} is not a URL");
    }
    let first_retry_s: u64 = number_from_env(ENV_NOTIFY_FIRST_RETRY_SECONDS)?
        .or(file.notify_first_retry_seconds)
        .unwrap_or(defaults.first_retry_ms / 1000);
    if first_retry_s == 0 {
        bail!("notify_first_retry_seconds must be at least 1");
    }
    Ok(crate::notify::Settings {
        smtp,
        telegram_api,
        first_retry_ms: first_retry_s * 1000,
        ..defaults
    })
}

/// A true/false environment variable, when set and not empty.
fn flag_from_env(var: &str) -> anyhow::Result<Option<bool>> {
    match std::env::var(var) {
        Ok(text) if !text.trim().is_empty() => match text.trim() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            other => bail!("{var}={other:?} is not true or false"),
        },
        _ => Ok(None),
    }
}

/// The webhook settings: environment, then server.toml, then defaults.
fn webhook_policy(file: &File) -> anyhow::Result<crate::webhooks::Policy> {
    let defaults = crate::webhooks::Policy::default();
    let allow_private = match std::env::var(ENV_ALLOW_PRIVATE_WEBHOOKS) {
        Ok(text) if !text.trim().is_empty() => match text.trim() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            other => bail!("{ENV_ALLOW_PRIVATE_WEBHOOKS}={other:?} is not true or false"),
        },
        _ => file.allow_private_webhooks.unwrap_or(false),
    };
    let timeout_s: u64 = number_from_env(ENV_WEBHOOK_TIMEOUT_SECONDS)?
        .or(file.webhook_timeout_seconds)
        .unwrap_or(defaults.timeout_ms / 1000);
    let first_retry_s: u64 = number_from_env(ENV_WEBHOOK_FIRST_RETRY_SECONDS)?
        .or(file.webhook_first_retry_seconds)
        .unwrap_or(defaults.first_retry_ms / 1000);
    let retry_hours: f64 = number_from_env(ENV_WEBHOOK_RETRY_HOURS)?
        .or(file.webhook_retry_hours)
        .unwrap_or(defaults.retry_window_ms as f64 / 3_600_000.0);
    let disable_after: u32 = number_from_env(ENV_WEBHOOK_DISABLE_AFTER)?
        .or(file.webhook_disable_after)
        .unwrap_or(defaults.disable_after);
    if !(1..=300).contains(&timeout_s) {
        bail!("webhook_timeout_seconds must be 1 to 300");
    }
    if first_retry_s == 0 || disable_after == 0 {
        bail!("webhook_first_retry_seconds and webhook_disable_after must be at least 1");
    }
    if !(retry_hours.is_finite() && retry_hours > 0.0 && retry_hours <= 24.0 * 30.0) {
        bail!("webhook_retry_hours must be more than 0 and at most 720 (the default is 24)");
    }
    Ok(crate::webhooks::Policy {
        allow_private,
        timeout_ms: timeout_s * 1000,
        first_retry_ms: first_retry_s * 1000,
        retry_window_ms: (retry_hours * 3_600_000.0) as u64,
        disable_after,
    })
}

/// `trusted_proxies` as a flag or variable gives it: comma-separated networks.
pub fn trusted_proxies(text: &str) -> anyhow::Result<Vec<ipnet::IpNet>> {
    list(text).iter().map(|t| cidr(t)).collect()
}

/// The items of a comma-separated list, trimmed, without empty ones.
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A network, or one address as a network of one.
fn cidr(text: &str) -> anyhow::Result<ipnet::IpNet> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            anyhow::anyhow!(
                "the trusted proxy {text:?} is not an address or a network: write e.g. \
                 10.0.0.0/8, 192.168.1.10 or fd00::/8"
            )
        })
}

/// A whole number from an environment variable, if it is set.
fn number_from_env<T: std::str::FromStr>(var: &str) -> anyhow::Result<Option<T>> {
    match std::env::var(var) {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{var}={text:?} is not a whole number")),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db.local:5432/postctl?sslmode=disable"),
            "postgres://app@db.local:5432/postctl"
        );
        assert_eq!(redact("postgres://localhost/x"), "postgres://localhost/x");
        assert_eq!(redact("postgresql://u:pw@h/d"), "postgresql://u@h/d");
    }

    #[test]
    fn a_bad_server_toml_is_reported_by_line_and_key_without_its_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (text, line, key) in [
            // A misspelt key: the parser's own report shows the whole line.
            (
                "listen = \"127.0.0.1:9000\"\nsmtp_pasword = \"hunter2-secret\"\n",
                2,
                "smtp_pasword",
            ),
            // A value of the wrong type: the parser's message quotes it.
            (
                "smtp_password = \"ok\"\nsmtp_port = \"hunter2-secret\"\n",
                2,
                "smtp_port",
            ),
            (
                "metrics_token = \"hunter2-secret\"\nrate_limit = \"hunter2-secret\"\n",
                2,
                "rate_limit",
            ),
        ] {
            let path = dir.path().join("server.toml");
            std::fs::write(&path, text).expect("write");
            let error = format!(
                "{:#}",
                resolve(&Given {
                    config: Some(path),
                    data: Some(dir.path().into()),
                    ..Given::default()
                })
                .expect_err("refused")
            );
            assert!(!error.contains("hunter2"), "{error}");
            assert!(error.contains(&format!("line {line} (`{key}`)")), "{error}");
        }
    }

    #[test]
    fn flags_and_env_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("server.toml"),
            "listen = \"127.0.0.1:9000\"\ndatabase_url = \"postgres://a@b/c\"\n",
        )
        .expect("write");
        let from_file = resolve(&Given {
            data: Some(dir.path().into()),
            ..Given::default()
        })
        .expect("settings");
        assert_eq!(from_file.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(from_file.database_url.as_deref(), Some("postgres://a@b/c"));
        let flagged = resolve(&Given {
            data: Some(dir.path().into()),
            listen: Some("127.0.0.1:9001".into()),
            ..Given::default()
        })
        .expect("settings");
        assert_eq!(flagged.listen.to_string(), "127.0.0.1:9001");
        let empty = tempfile::tempdir().expect("tempdir");
        let defaults = resolve(&Given {
            data: Some(empty.path().into()),
            ..Given::default()
        })
        .expect("settings");
        assert_eq!(defaults.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(defaults.database_url, None);
    }

    #[test]
    fn lists_are_read_from_the_file_or_the_flag_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("server.toml"),
            "trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n\
             cors_origins = [\"https://app.example.com\"]\n\
             otlp_endpoint = \"http://collector:4318\"\n",
        )
        .expect("write");
        let given = Given {
            data: Some(dir.path().into()),
            ..Given::default()
        };
        let settings = resolve(&given).expect("settings");
        let nets: Vec<String> = settings
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.1/32"]);
        assert_eq!(settings.cors_origins, ["https://app.example.com"]);
        assert_eq!(
            settings.otlp_endpoint.as_deref(),
            Some("http://collector:4318")
        );
        let flagged = resolve(&Given {
            trusted_proxies: Some(" fd00::/8 ,, 127.0.0.1".into()),
            cors_origins: Some("*".into()),
            ..given.clone()
        })
        .expect("settings");
        assert_eq!(flagged.trusted_proxies.len(), 2);
        assert_eq!(flagged.cors_origins, ["*"]);
        for (bad, says) in [
            (
                Given {
                    trusted_proxies: Some("10.0.0.0/33".into()),
                    ..given.clone()
                },
                "10.0.0.0/33",
            ),
            (
                Given {
                    trusted_proxies: Some("0.0.0.0/0".into()),
                    ..given.clone()
                },
                "every address",
            ),
            (
                Given {
                    cors_origins: Some("https://a.example/path/".into()),
                    ..given.clone()
                },
                "scheme://host",
            ),
            (
                Given {
                    otlp_endpoint: Some("collector:4318".into()),
                    ..given.clone()
                },
                "http://",
            ),
        ] {
            let err = resolve(&bad).expect_err("refused");
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    #[test]
    fn webhook_settings_come_from_the_file_with_defaults_and_limits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let given = Given {
            data: Some(dir.path().into()),
            ..Given::default()
        };
        let defaults = resolve(&given).expect("settings").webhooks;
        assert_eq!(defaults, crate::webhooks::Policy::default());
        assert!(!defaults.allow_private);
        assert_eq!(defaults.retry_window_ms, 24 * 3_600_000);
        std::fs::write(
            dir.path().join("server.toml"),
            "allow_private_webhooks = true\nwebhook_retry_hours = 0.5\n\
             webhook_first_retry_seconds = 2\nwebhook_timeout_seconds = 5\n\
             webhook_disable_after = 3\n",
        )
        .expect("write");
        let set = resolve(&given).expect("settings").webhooks;
        assert_eq!(
            set,
            crate::webhooks::Policy {
                allow_private: true,
                timeout_ms: 5_000,
                first_retry_ms: 2_000,
                retry_window_ms: 1_800_000,
                disable_after: 3,
            }
        );
        for bad in [
            "webhook_retry_hours = 0\n",
            "webhook_timeout_seconds = 0\n",
            "webhook_disable_after = 0\n",
        ] {
            std::fs::write(dir.path().join("server.toml"), bad).expect("write");
            let err = resolve(&given).expect_err(bad);
            assert!(err.to_string().contains("webhook_"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_media_bucket_comes_from_its_section_with_the_secret_key_from_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let given = Given {
            data: Some(dir.path().into()),
            ..Given::default()
        };
        assert!(resolve(&given).expect("settings").media.is_none());
        let key_file = dir.path().join("s3-secret");
        std::fs::write(&key_file, "hunter2-s3-secret\n").expect("write");
        let section = format!(
            "[media]\nendpoint = \"http://minio:9000/\"\nbucket = \"pics\"\n\
             region = \"us-east-1\"\naccess_key_id = \"AKID\"\nsecret_key_file = {:?}\n",
            key_file.display().to_string()
        );
        std::fs::write(dir.path().join("server.toml"), &section).expect("write");
        let settings = resolve(&given).expect("settings");
        let media = settings.media.as_ref().expect("a bucket");
        assert_eq!(media.endpoint, "http://minio:9000");
        assert_eq!(media.bucket, "pics");
        assert_eq!(media.prefix, DEFAULT_MEDIA_PREFIX);
        assert_eq!(media.secret_key.expose(), "hunter2-s3-secret");
        let shown = format!("{settings:?}");
        assert!(
            shown.contains("pics") && !shown.contains("hunter2"),
            "{shown}"
        );

        for (bad, says) in [
            (section.replace("region = \"us-east-1\"\n", ""), "region"),
            (
                section.replace("http://minio:9000/", "minio:9000"),
                "not an http(s) URL",
            ),
            (
                section.replace(
                    &format!("secret_key_file = {:?}\n", key_file.display().to_string()),
                    "",
                ),
                "POSTCTL_SERVER_MEDIA_SECRET_KEY",
            ),
            (
                section.replace("s3-secret", "no-such-file"),
                "could not read the media bucket's secret key file",
            ),
            (
                format!("{section}secret_key = \"hunter2-in-toml\"\n"),
                "does not go in server.toml",
            ),
        ] {
            std::fs::write(dir.path().join("server.toml"), &bad).expect("write");
            let err = format!("{:#}", resolve(&given).expect_err(&bad));
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn unknown_settings_and_non_postgres_urls_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("server.toml"), "lisen = \"x\"\n").expect("write");
        let given = Given {
            data: Some(dir.path().into()),
            ..Given::default()
        };
        assert!(format!("{:#}", resolve(&given).expect_err("typo")).contains("lisen"));
        let err = resolve(&Given {
            data: Some(dir.path().into()),
            config: Some(dir.path().join("missing.toml")),
            ..Given::default()
        })
        .expect_err("missing file");
        assert!(err.to_string().contains("missing.toml"));
        std::fs::write(dir.path().join("server.toml"), "").expect("write");
        let err = resolve(&Given {
            data: Some(dir.path().into()),
            database_url: Some("mysql://u:hunter22@h/d".into()),
            ..Given::default()
        })
        .expect_err("mysql");
        assert!(!err.to_string().contains("hunter22"), "{err}");
    }
}
