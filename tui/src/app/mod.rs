//! The dashboard as a state machine: [`State`] in, [`Event`]s applied by the pure
//! [`update`], [`Effect`]s out for the runtime to carry out.

pub mod activity;
pub mod analytics;
pub mod compose;
pub mod data;
pub mod effect;
pub mod geometry;
pub mod input;
pub mod moves;
pub mod state;
mod update;

#[cfg(test)]
pub mod fixtures;

pub use effect::{Effect, Event};
pub use state::{Settings, State};
pub use update::{act, load, update};
