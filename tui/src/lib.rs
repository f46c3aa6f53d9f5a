//! The postctl dashboard (`postctl tui`): a calendar, the queue, compose, post detail,
//! accounts and activity over the same database as the CLI and the daemon.
//!
//! Built as a state machine ("tui/" in docs/ARCHITECTURE.md): [`app::update`] turns events
//! into a new state and a list of effects; the runtime carries the effects out at the edge
//! (the store, $EDITOR, credential checks); the views draw from the state alone.

pub mod app;
pub mod keys;
pub mod log;
pub mod runtime;
pub mod terminal;
pub mod views;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;
use postctl_core::publish::Policy;
use postctl_core::store::Store;

use app::{Settings, State};
use keys::KeyMap;
use runtime::Runtime;
use runtime::worker::EngineParts;
use terminal::Clock;

/// What the CLI hands the dashboard.
#[derive(Debug, Clone)]
pub struct Options {
    pub db_file: PathBuf,
    /// Secrets, media and the log file live here.
    pub data_dir: PathBuf,
    /// The zone times are read and shown in.
    pub tz: Tz,
    pub week_start: Weekday,
    /// POSTCTL_NOW: a fixed clock for reproducible runs and tests (what the views show).
    pub pinned_now: Option<DateTime<Utc>>,
    /// The clock the store's writes and the engine read: the command's (it starts at
    /// POSTCTL_NOW when set).
    pub store_clock: postctl_core::Clock,
    /// `[tui.keys]` from config.toml.
    pub keys: BTreeMap<String, String>,
    /// Account names a new post is addressed to (config `default_to`, resolved).
    pub default_to: Vec<String>,
    /// Colours (false with NO_COLOR).
    pub color: bool,
    /// Capture the mouse (click, drag to reschedule, scroll).
    pub mouse: bool,
    /// The publish engine's settings, for credential checks.
    pub policy: Policy,
}

impl Options {
    /// Where the dashboard logs: `tui.log` in the data dir.
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("tui.log")
    }
}

/// Why the dashboard could not run.
#[derive(Debug)]
pub enum Error {
    Store(postctl_core::Error),
    Terminal(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Store(e) => write!(f, "{e}"),
            Error::Terminal(e) => write!(
                f,
                "the terminal failed ({e}); postctl tui needs an interactive terminal (the CLI commands work without one)"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Runs the dashboard until the user quits. The terminal is restored on return, on error
/// and on panic.
pub fn run(options: Options) -> Result<(), Error> {
    let started = std::time::Instant::now();
    let log = log::Log::open(&options.log_file());
    log.info(format!("starting on {}", options.db_file.display()));
    let mut store = Store::open(&options.db_file).map_err(Error::Store)?;
    store.set_clock(options.store_clock);
    let (keys, warnings) = KeyMap::new(&options.keys);
    let clock = options.pinned_now.map_or(Clock::System, Clock::Pinned);
    let parts = EngineParts {
        db_file: options.db_file.clone(),
        data_dir: options.data_dir.clone(),
        policy: options.policy,
        clock: options.store_clock,
    };
    let mut runtime = Runtime::new(store, parts, log.clone());
    runtime.start_sync();
    terminal::install_panic_hook(log.clone());
    // Before entering: a terminal left half set up is restored too.
    let _guard = terminal::Guard;
    let mut term = terminal::enter(options.mouse).map_err(Error::Terminal)?;
    let size = term.size().map_err(Error::Terminal)?;
    let mut state = State::new(Settings {
        now: clock.now(),
        tz: options.tz,
        week_start: options.week_start,
        color: options.color,
        keys,
        default_to: options.default_to,
        width: size.width,
        height: size.height,
    });
    if let Some(warning) = warnings.first() {
        state.error(warning.clone());
    }
    for warning in &warnings {
        log.error(warning);
    }
    let mut session = terminal::Session {
        terminal: &mut term,
        runtime: &mut runtime,
        clock,
        mouse: options.mouse,
        log: &log,
    };
    let result = terminal::run(&mut session, &mut state, started);
    log.info("quit");
    result.map_err(Error::Terminal)
}
