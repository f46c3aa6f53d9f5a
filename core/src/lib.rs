//! postctl-core: everything in postctl that is not a front end.
//!
//! The model and its rules, the local SQLite store, time parsing and recurrence,
//! the secret store, the network descriptions and configuration. The CLI (and later
//! the TUI and the sync server) are front ends over these types.

pub mod ai;
pub mod analytics;
pub mod clock;
pub mod config;
pub mod content;
pub mod error;
pub mod exchange;
pub mod fs;
pub mod media;
pub mod model;
pub mod network;
pub mod platforms;
pub mod publish;
pub mod queue;
pub mod secrets;
pub mod signin;
pub mod store;
pub mod sync;
pub mod text;
pub mod time;
pub mod tls;

pub use clock::Clock;
pub use error::{Error, ErrorKind, Result};
