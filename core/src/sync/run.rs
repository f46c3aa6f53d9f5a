//! One sync of a database with its server: pull the versions after the last one applied
//! here (a page at a time, each applied in one transaction), push the local changes as
//! versions after it, and settle what the server answered (posts it refused because it
//! had started publishing them). When another device pushed meanwhile the server answers
//! that the parent is stale: pull again, apply, push again.
//!
//! `postctl sync`, the daemon and the dashboard run this; so does the property test of
//! the protocol (`sync-server/tests/sync_property.rs`).

use super::Operation;
use super::client::{Client, Pushed, SyncError};
use crate::error::Result;
use crate::secrets::Secret;
use crate::store::Store;

/// How many times a push may find another device's version in its way before giving up.
const ATTEMPTS: usize = 20;
/// A version's size, kept well under the server's 1 MiB body limit.
const VERSION_BYTES: usize = 512 * 1024;
const VERSION_OPERATIONS: usize = 2_000;

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    /// Operations the server took.
    pub pushed: usize,
    /// Pulled operations that changed a field here.
    pub pulled: usize,
    /// Conflicts recorded (values that lost, and edits the server refused).
    pub conflicts: usize,
    /// Posts whose edits the server refused because it had started publishing them.
    pub refused: usize,
    /// Local drafts made to keep refused edits.
    pub drafts: Vec<String>,
    pub versions_pushed: usize,
}

/// Splits operations into versions small enough for the server.
pub fn batches(operations: &[Operation]) -> Vec<&[Operation]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, op) in operations.iter().enumerate() {
        let size = op.value.to_string().len() + op.post.len() + 100;
        if i > start && (bytes + size > VERSION_BYTES || i - start >= VERSION_OPERATIONS) {
            out.push(&operations[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < operations.len() {
        out.push(&operations[start..]);
    }
    out
}

/// Syncs `store` with the server `client` speaks to, with the session `token`.
pub async fn sync(store: &mut Store, client: &Client, token: &Secret) -> Result<Synced> {
    let mut totals = Synced::default();
    let mut attempts = 0;
    'sync: loop {
        attempts += 1;
        loop {
            let since = store.sync_link()?.and_then(|l| l.last_version);
            let page = client.pull(token, since.as_deref()).await?;
            let applied = store.apply_versions(&page.versions)?;
            totals.pulled += applied.changed;
            totals.conflicts += applied.conflicts;
            if !page.more {
                break;
            }
        }
        let pending = store.pending_operations()?;
        if pending.operations.is_empty() {
            store.mark_synced(pending.through_seq)?;
            return Ok(totals);
        }
        let device = store.device().to_string();
        let batches = batches(&pending.operations);
        let last = batches.len() - 1;
        let mut drafts_made = false;
        for (i, batch) in batches.into_iter().enumerate() {
            let parent = store.sync_link()?.and_then(|l| l.last_version);
            match client
                .push(token, parent.as_deref(), &device, batch)
                .await?
            {
                Pushed::Added { version, rejected } => {
                    // The oplog is marked pushed with the last batch only: a sync cut off
                    // between batches pushes them all again, which changes nothing.
                    let through = if i == last { pending.through_seq } else { 0 };
                    let settled = store.settle_push(version.as_deref(), through, &rejected)?;
                    let refused: usize = batch
                        .iter()
                        .filter(|op| rejected.iter().any(|r| r.post == op.post))
                        .count();
                    totals.pushed += batch.len() - refused;
                    totals.refused += rejected.len();
                    totals.conflicts += settled.conflicts;
                    drafts_made |= !settled.drafts.is_empty();
                    totals.drafts.extend(settled.drafts);
                    totals.versions_pushed += usize::from(version.is_some());
                }
                Pushed::Stale { .. } if attempts < ATTEMPTS => continue 'sync,
                Pushed::Stale { .. } => {
                    return Err(SyncError::Busy {
                        server: client.base().to_string(),
                        attempts: ATTEMPTS,
                    }
                    .into());
                }
            }
        }
        // Drafts that keep refused edits are new local posts: push them now.
        if !drafts_made || attempts >= ATTEMPTS {
            return Ok(totals);
        }
    }
}
