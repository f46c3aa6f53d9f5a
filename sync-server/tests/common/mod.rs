//! What the server's tests share: a private PostgreSQL cluster ([`pg`]) and a running
//! `postctl-server` process ([`server`]).
#![allow(dead_code)]

pub mod pg;
pub mod server;
