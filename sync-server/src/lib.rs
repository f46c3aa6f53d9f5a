//! postctl-server: the always-on publisher with an HTTP API. See `docs/ARCHITECTURE.md`.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
mod serve;
pub mod storage;
pub mod users;
