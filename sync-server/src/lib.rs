//! postctl-server: the always-on publisher with an HTTP API. See `docs/ARCHITECTURE.md`.

pub mod analytics;
pub mod api;
pub mod approvals;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod feeds;
mod logging;
pub mod media_store;
pub mod notify;
pub mod publisher;
pub mod rekey;
mod retention;
mod serve;
pub mod storage;
pub mod traces;
pub mod unit;
pub mod users;
pub mod webhooks;
