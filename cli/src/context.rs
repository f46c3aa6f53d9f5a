//! What every command needs: resolved paths, the config, the zone, the clock, and the store
//! (opened only by the commands that use it, so `--version` and `completions` stay instant).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use postctl_core::Clock;
use postctl_core::config::{Config, Paths, system_timezone};
use postctl_core::secrets::SecretStore;
use postctl_core::store::Store;
use postctl_core::time::{Disambiguation, ParseContext, parse_zone};

use crate::args::{Cli, WhenArgs};
use crate::exit::{CliError, CliResult};

pub struct Context {
    pub paths: Paths,
    pub config: Config,
    pub json: bool,
    /// The clock every part of the command reads: the system's, or one that starts at
    /// POSTCTL_NOW (RFC 3339) and runs on from there, for reproducible runs. The store and
    /// the publish engine read it too, so they agree with `now` on what is due.
    pub clock: Clock,
    /// The clock's time when the command started (or last refreshed its clock): what typed
    /// times are read against.
    pub now: DateTime<Utc>,
    store: Option<Store>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The system's clock, or one starting at POSTCTL_NOW (RFC 3339).
fn clock() -> CliResult<Clock> {
    match env("POSTCTL_NOW").filter(|v| !v.is_empty()) {
        Some(text) => Ok(Clock::starting_at(
            DateTime::parse_from_rfc3339(&text)
                .map_err(|e| {
                    CliError::usage(format!(
                        "POSTCTL_NOW={text:?} is not an RFC 3339 time ({e}); unset it or write e.g. 2026-12-01T09:00:00Z"
                    ))
                })?
                .with_timezone(&Utc),
        )),
        None => Ok(Clock::system()),
    }
}

impl Context {
    pub fn new(cli: &Cli) -> CliResult<Context> {
        let paths = Paths::resolve(cli.config.as_deref(), cli.db.as_deref(), env)?;
        let config = Config::load(&paths.config_file, env)?;
        let clock = clock()?;
        Ok(Context {
            paths,
            config,
            json: cli.json,
            clock,
            now: clock.now(),
            store: None,
        })
    }

    /// Reads the clock again: a long-running command (`postctl mcp`) does this before each
    /// request, so "tomorrow 9am" means tomorrow from when it was asked.
    pub fn refresh_clock(&mut self) -> CliResult {
        self.now = self.clock.now();
        Ok(())
    }

    /// The database, opened (and migrated) on first use.
    pub fn store(&mut self) -> CliResult<&mut Store> {
        if self.store.is_none() {
            self.store = Some(self.open_store()?);
        }
        match self.store.as_mut() {
            Some(store) => Ok(store),
            None => Err(CliError::failure("the database could not be opened")),
        }
    }

    /// The database as an owned handle, for the publish engine (which shares it between
    /// tasks). Later calls to `store()` open it again.
    pub fn take_store(&mut self) -> CliResult<Store> {
        match self.store.take() {
            Some(store) => Ok(store),
            None => self.open_store(),
        }
    }

    /// A new handle on the database, reading the command's clock (for an engine that runs
    /// beside the context's own handle).
    pub fn open_store(&self) -> CliResult<Store> {
        let mut store = Store::open(&self.paths.db_file)?;
        store.set_clock(self.clock);
        Ok(store)
    }

    /// The zone to read and show times in: the flag, else config `timezone`, else the system's.
    pub fn zone(&self, flag: Option<&str>) -> CliResult<Tz> {
        let name = match flag.or(self.config.timezone.as_deref()) {
            Some(name) => name.to_string(),
            None => system_timezone(env),
        };
        Ok(parse_zone(&name)?)
    }

    pub fn parse_context(&self, when: &WhenArgs) -> CliResult<ParseContext> {
        Ok(ParseContext {
            now: self.now,
            tz: self.zone(when.tz.as_deref())?,
            disambiguation: if when.earlier {
                Disambiguation::Earlier
            } else if when.later {
                Disambiguation::Later
            } else {
                Disambiguation::Reject
            },
        })
    }

    pub fn secrets(&self) -> CliResult<SecretStore> {
        Ok(SecretStore::new(
            &self.paths.data_dir,
            SecretStore::backend_from_env()?,
        ))
    }
}
