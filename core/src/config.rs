//! Where postctl keeps things, and the user's settings.
//!
//! Layers, later wins: built-in defaults, then `config.toml`, then `POSTCTL_*` environment
//! variables, then command-line flags (applied by the front end).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::content::voice::Voice;
use crate::error::{Error, Result};

/// The files postctl uses, resolved from flags, `POSTCTL_*` and XDG variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub db_file: PathBuf,
}

impl Paths {
    /// Resolves the paths. `lookup` reads an environment variable (injected for tests).
    ///
    /// - config: `--config`, else `$POSTCTL_CONFIG`, else `$XDG_CONFIG_HOME/postctl/config.toml`,
    ///   else `~/.config/postctl/config.toml`;
    /// - data dir: `$POSTCTL_DATA_DIR`, else `$XDG_DATA_HOME/postctl`, else `~/.local/share/postctl`;
    /// - database: `--db`, else `$POSTCTL_DB`, else `<data dir>/postctl.db`.
    pub fn resolve(
        config_flag: Option<&Path>,
        db_flag: Option<&Path>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Paths> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = || {
            var("HOME").ok_or_else(|| {
                Error::Invalid(
                    "HOME is not set, so postctl cannot find its config and data; set HOME, or POSTCTL_CONFIG and POSTCTL_DATA_DIR".into(),
                )
            })
        };
        let config_file = match config_flag
            .map(Path::to_path_buf)
            .or_else(|| var("POSTCTL_CONFIG"))
        {
            Some(path) => path,
            None => match var("XDG_CONFIG_HOME") {
                Some(dir) => dir.join("postctl/config.toml"),
                None => home()?.join(".config/postctl/config.toml"),
            },
        };
        let data_dir = match var("POSTCTL_DATA_DIR") {
            Some(dir) => dir,
            None => match var("XDG_DATA_HOME") {
                Some(dir) => dir.join("postctl"),
                None => home()?.join(".local/share/postctl"),
            },
        };
        let db_file = db_flag
            .map(Path::to_path_buf)
            .or_else(|| var("POSTCTL_DB"))
            .unwrap_or_else(|| data_dir.join("postctl.db"));
        Ok(Paths {
            config_file,
            data_dir,
            db_file,
        })
    }

    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }
}

/// The settings in `config.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The zone times are read and shown in; the system's zone when unset.
    pub timezone: Option<String>,
    /// Days shown first in calendars: "mon" or "sun".
    pub week_starts_on: Option<String>,
    /// Accounts or groups used when a command is given no `--to`.
    pub default_to: Vec<String>,
    /// Accounts that receive a message when posts fail, become uncertain or are missed.
    pub notify: Vec<String>,
    /// How the publish engine retries and how late it still publishes.
    pub publish: PublishConfig,
    /// Brand voices, `[voices.NAME]`, by name (`postctl voice set` writes them).
    pub voices: BTreeMap<String, Voice>,
    /// The dashboard (`postctl tui`).
    pub tui: TuiConfig,
    /// The language model `postctl generate` asks (`postctl ai set` writes it).
    pub ai: crate::ai::AiConfig,
    /// What `postctl stats collect` keeps.
    pub analytics: AnalyticsConfig,
    /// `[media.host]`: where networks that fetch media from a URL (Instagram) get it.
    pub media: crate::media::host::MediaConfig,
}

/// `[analytics]` in config.toml.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// Each collection's raw counters are kept this many days; the daily roll-ups forever.
    pub keep_snapshots_days: u32,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            keep_snapshots_days: 90,
        }
    }
}

/// `[tui]` in config.toml.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TuiConfig {
    /// `[tui.keys]`: action name = "key, key", replacing that action's default keys
    /// (the dashboard's help, `?`, lists the actions and the keys in force).
    pub keys: BTreeMap<String, String>,
}

/// `[publish]` in config.toml.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PublishConfig {
    /// Retry a failing target for at most this many minutes after its first attempt.
    pub retry_window_minutes: u32,
    /// The longest wait between two attempts (they start at one second and double),
    /// unless the network asks for a longer one.
    pub max_retry_delay_seconds: u32,
    /// A post due longer ago than this (postctl was not running) is marked missed.
    pub late_limit_minutes: u32,
    /// One request's time limit.
    pub request_timeout_seconds: u32,
    /// How long a publisher's claim on a target holds without news; after that another
    /// publisher may take the target over (the holder crashed or was killed).
    pub lease_seconds: u32,
    /// When a network is down for everyone (its circuit open), how long until the first
    /// probe; each failed probe doubles it, up to ten times this.
    pub outage_probe_seconds: u32,
}

impl Default for PublishConfig {
    fn default() -> Self {
        let policy = crate::publish::Policy::default();
        PublishConfig {
            retry_window_minutes: policy.retry_window.num_minutes() as u32,
            max_retry_delay_seconds: policy.max_retry_delay.num_seconds() as u32,
            late_limit_minutes: policy.late_limit.num_minutes() as u32,
            request_timeout_seconds: policy.request_timeout.as_secs() as u32,
            lease_seconds: policy.lease.num_seconds() as u32,
            outage_probe_seconds: policy.circuit.first_probe.num_seconds() as u32,
        }
    }
}

impl Config {
    /// The engine's policy from `[publish]`.
    pub fn policy(&self) -> crate::publish::Policy {
        let request_timeout = self.publish.request_timeout_seconds.max(1);
        crate::publish::Policy {
            retry_window: chrono::Duration::minutes(i64::from(self.publish.retry_window_minutes)),
            max_retry_delay: chrono::Duration::seconds(i64::from(
                self.publish.max_retry_delay_seconds.max(1),
            )),
            late_limit: chrono::Duration::minutes(i64::from(self.publish.late_limit_minutes)),
            request_timeout: std::time::Duration::from_secs(u64::from(request_timeout)),
            // A lease shorter than a request would let another publisher take a target
            // over while its request is still on the way.
            lease: chrono::Duration::seconds(i64::from(
                self.publish.lease_seconds.max(request_timeout + 1),
            )),
            circuit: {
                let probe = i64::from(self.publish.outage_probe_seconds.max(1));
                crate::publish::circuit::CircuitRule {
                    first_probe: chrono::Duration::seconds(probe),
                    max_probe: chrono::Duration::seconds(probe * 10),
                    ..crate::publish::circuit::CircuitRule::default()
                }
            },
            ..crate::publish::Policy::default()
        }
    }
}

/// The config file's text, up to [`crate::fs::MAX_TEXT_BYTES`]: a longer one (a wrong
/// `POSTCTL_CONFIG`, `/dev/zero`) is an `InvalidData` error naming the limit.
fn read_config_text(path: &Path) -> std::io::Result<String> {
    let limit = crate::fs::MAX_TEXT_BYTES;
    crate::fs::read_text_up_to(std::fs::File::open(path)?, limit)?.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {}, the most postctl reads as a config file; check POSTCTL_CONFIG or --config",
                crate::fs::describe_limit(limit)
            ),
        )
    })
}

impl Config {
    /// Reads `path`; a missing file is the defaults. Then applies `POSTCTL_TZ`.
    pub fn load(path: &Path, lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let mut config = match read_config_text(path) {
            Ok(text) => toml::from_str::<Config>(&text).map_err(|e| Error::Config {
                path: path.to_path_buf(),
                detail: e.to_string().trim().replace('\n', " "),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(e) => return Err(Error::io(path, e)),
        };
        if let Some(tz) = lookup("POSTCTL_TZ").filter(|v| !v.is_empty()) {
            config.timezone = Some(tz);
        }
        Ok(config)
    }
}

/// Changes the config file at `path` (created if missing) with `change`, keeping the rest
/// of it, comments included. The result must read back as a valid [`Config`] before it
/// replaces the file, which is written atomically; `check` may look at what was read.
pub fn edit_file(
    path: &Path,
    change: impl FnOnce(&str) -> Result<String>,
    check: impl FnOnce(&Config) -> Result<()>,
) -> Result<()> {
    let text = match read_config_text(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(path, e)),
    };
    let updated = change(&text)?;
    let parsed: Config = toml::from_str(&updated).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        detail: e.to_string().trim().replace('\n', " "),
    })?;
    check(&parsed)?;
    if updated == text {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::fs::create_private_dir(dir)?;
    }
    crate::fs::write_private(path, updated.as_bytes())
}

/// The commented config file `postctl init` writes.
pub fn default_config_text(timezone: &str) -> String {
    format!(
        r#"# postctl configuration. Only `timezone` has an environment variable (POSTCTL_TZ) and
# a flag (--tz), which win over this file; the other settings live here alone.

# The zone "tomorrow 09:00" is read in and times are shown in (IANA name).
timezone = "{timezone}"

# The first day of the week in `postctl calendar`: "mon" or "sun".
# week_starts_on = "mon"

# Accounts or groups to publish to when a command is given no --to.
# default_to = ["release"]

# Accounts told when a post fails, becomes uncertain or is missed (a Telegram chat,
# a Matrix room, a webhook...), besides `postctl status` and `postctl list --failed`.
# notify = ["alerts"]

[publish]
# Retry a failing post for at most this long after its first attempt.
# retry_window_minutes = 30
# Waits between retries start at one second and double, up to this (unless the
# network asks for longer).
# max_retry_delay_seconds = 300
# A post that was due longer ago than this (postctl was not running) is marked
# missed and reported, instead of being published late.
# late_limit_minutes = 360
# The time limit of one request to a network.
# request_timeout_seconds = 30
# How long a publisher's claim on a post holds without news. When postctl is killed
# while publishing, another run takes the post over after this long.
# lease_seconds = 120
# When a network times out or fails (5xx) for several accounts, its posts wait without
# spending retries, and one post tries it again after this long (then twice as long
# after each failure, up to ten times this).
# outage_probe_seconds = 30

[analytics]
# `postctl stats collect` keeps each reading of a post's counters this many days (the
# hourly curve of its first days); the daily roll-ups are kept forever.
# keep_snapshots_days = 90

# Brand voices for `postctl lint`: `postctl voice set NAME ...` writes them here,
# keeping the rest of this file as it is.
# [voices.brand]
# tone = "friendly, plain"
# avoid = ["synergy", "revolutionary"]
# hashtags = ['#rust']
# hashtag_policy = "optional"   # required | optional | none
# emoji = "max:2"               # allow | none | max:N

# The language model `postctl generate` asks; `postctl ai set` writes this table.
# The key is never here: ANTHROPIC_API_KEY / OPENAI_API_KEY, or the OS keyring.
# [ai]
# provider = "anthropic"        # anthropic (Claude) | openai (any OpenAI-compatible server)
# model = "claude-sonnet-4-5"   # the name the provider gives the model
# base_url = "http://localhost:11434/v1"   # for openai: Ollama, llama.cpp, vLLM...
# max_tokens = 2048

# The dashboard's keys (`postctl tui`; press ? there for every action's name).
# [tui.keys]
# move = "M"
# quit = "q, ctrl-q"
"#
    )
}

/// The system's zone: `$TZ`, else the target of /etc/localtime, else UTC.
pub fn system_timezone(lookup: impl Fn(&str) -> Option<String>) -> String {
    if let Some(tz) = lookup("TZ")
        .map(|tz| tz.trim_start_matches(':').to_string())
        .filter(|tz| crate::time::parse_zone(tz).is_ok())
    {
        return tz;
    }
    std::fs::read_link("/etc/localtime")
        .ok()
        .and_then(|target| {
            let target = target.to_string_lossy().into_owned();
            target
                .split_once("zoneinfo/")
                .map(|(_, zone)| zone.to_string())
        })
        .filter(|zone| crate::time::parse_zone(zone).is_ok())
        .unwrap_or_else(|| "UTC".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn paths_follow_flags_then_postctl_then_xdg_then_home() {
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            Option<&'a str>,
            &'a str,
            &'a str,
            &'a str,
        );
        let cases: &[Case<'_>] = &[
            (
                &[("HOME", "/h")],
                None,
                "/h/.config/postctl/config.toml",
                "/h/.local/share/postctl",
                "/h/.local/share/postctl/postctl.db",
            ),
            (
                &[
                    ("HOME", "/h"),
                    ("XDG_CONFIG_HOME", "/x/c"),
                    ("XDG_DATA_HOME", "/x/d"),
                ],
                None,
                "/x/c/postctl/config.toml",
                "/x/d/postctl",
                "/x/d/postctl/postctl.db",
            ),
            (
                &[
                    ("HOME", "/h"),
                    ("POSTCTL_CONFIG", "/p/c.toml"),
                    ("POSTCTL_DATA_DIR", "/p/d"),
                    ("POSTCTL_DB", "/p/x.db"),
                ],
                None,
                "/p/c.toml",
                "/p/d",
                "/p/x.db",
            ),
            (
                &[
                    ("POSTCTL_CONFIG", "/p/c.toml"),
                    ("POSTCTL_DATA_DIR", "/p/d"),
                ],
                Some("/flag.db"),
                "/p/c.toml",
                "/p/d",
                "/flag.db",
            ),
        ];
        for (vars, db_flag, config, data, db) in cases {
            let paths = Paths::resolve(None, db_flag.map(Path::new), env(vars)).expect("paths");
            assert_eq!(paths.config_file, PathBuf::from(config), "{vars:?}");
            assert_eq!(paths.data_dir, PathBuf::from(data), "{vars:?}");
            assert_eq!(paths.db_file, PathBuf::from(db), "{vars:?}");
        }
        assert!(Paths::resolve(None, None, env(&[])).is_err());
    }

    #[test]
    fn config_file_is_read_and_env_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, default_config_text("Europe/Berlin")).expect("write");
        let config = Config::load(&path, env(&[])).expect("load");
        assert_eq!(config.timezone.as_deref(), Some("Europe/Berlin"));
        let config = Config::load(&path, env(&[("POSTCTL_TZ", "Asia/Tokyo")])).expect("load");
        assert_eq!(config.timezone.as_deref(), Some("Asia/Tokyo"));
        std::fs::write(&path, "timezon = 3").expect("write");
        let err = Config::load(&path, env(&[])).expect_err("unknown key");
        assert!(err.to_string().contains("timezon"), "{err}");
        let missing = Config::load(&dir.path().join("none.toml"), env(&[])).expect("defaults");
        assert_eq!(missing, Config::default());
    }

    #[test]
    fn tui_keys_are_read_and_unknown_tui_settings_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[tui.keys]\nmove = \"M\"\nquit = \"q, ctrl-q\"\n").expect("write");
        let config = Config::load(&path, env(&[])).expect("load");
        assert_eq!(config.tui.keys.get("move").map(String::as_str), Some("M"));
        assert_eq!(config.tui.keys.len(), 2);
        std::fs::write(&path, "[tui]\ncolours = 3\n").expect("write");
        let err = Config::load(&path, env(&[])).expect_err("unknown key");
        assert!(err.to_string().contains("colours"), "{err}");
    }

    #[test]
    fn the_default_file_names_only_the_variables_that_exist() {
        let text = default_config_text("UTC");
        let named: Vec<&str> = text
            .match_indices("POSTCTL_")
            .map(|(at, _)| {
                let rest = &text[at..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .collect();
        assert_eq!(named, ["POSTCTL_TZ"], "{text}");
        assert!(!text.contains("Every setting"), "{text}");
    }
}
