//! What a post says, before it is published: templates, release notes, brand voice and lint.
//!
//! - [`template`]: minijinja templates with strict undefined variables, one body per template
//!   plus optional per-network variants, and the variables they are rendered with.
//! - [`changelog`]: a version's section of a CHANGELOG (Keep a Changelog, conventional-changelog,
//!   cargo-release) or a GitHub `release` event, as a [`changelog::Release`].
//! - [`release`]: a release announcement fitted to one network.
//! - [`voice`]: a brand voice (tone, audience, words, hashtags, emoji, language) and its place
//!   in config.toml.
//! - [`lint`]: a draft checked against a voice and against each network's length.
//!
//! Everything here is pure (no database, no network, no clock) except the config file edit in
//! [`voice::write_voice`] and [`voice::remove_voice`].

pub mod changelog;
pub mod lint;
pub mod release;
pub mod template;
pub mod voice;
