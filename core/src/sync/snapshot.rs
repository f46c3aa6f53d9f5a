//! Catching up from a snapshot (issue 13): a device that is new to a workspace, or more
//! than a page of versions behind, reads the workspace's current state
//! (`GET /api/v1/sync/snapshot`, each post as the operations that wrote its fields'
//! values) instead of replaying every version, then pulls the versions after the one the
//! snapshot stands for. Last writer wins field by field, so the result is what replaying
//! gives; a device cut off part-way starts the snapshot again (`Store::finish_snapshot`
//! records its version only once every page is in).

use super::client::{Client, SyncError};
use crate::error::Result;
use crate::secrets::Secret;
use crate::store::Store;

/// What catching up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaughtUp {
    /// Pages read.
    pub pages: usize,
    /// Operations that changed a field here.
    pub changed: usize,
    pub conflicts: usize,
    /// The time spent applying pages to the database.
    pub apply: std::time::Duration,
}

/// Applies every page of the workspace's snapshot, then records its version as the last
/// seen. A workspace with no version yet changes nothing. `None` when the server refuses
/// a snapshot (one from before snapshots, or a workspace holding values written before
/// the server kept them): the device replays the versions instead.
pub async fn catch_up(
    store: &mut Store,
    client: &Client,
    token: &Secret,
) -> Result<Option<CaughtUp>> {
    let mut caught = CaughtUp::default();
    let mut after: Option<String> = None;
    let mut version: Option<String> = None;
    loop {
        let page = match client.snapshot(token, after.as_deref()).await {
            Ok(page) => page,
            Err(SyncError::Refused(_)) if caught.pages == 0 => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        // The first page's version: every later page is at least as new.
        if caught.pages == 0 {
            version = page.version.clone();
        }
        caught.pages += 1;
        let applying = std::time::Instant::now();
        let applied = store.apply_snapshot_page(&page.operations)?;
        caught.apply += applying.elapsed();
        caught.changed += applied.changed;
        caught.conflicts += applied.conflicts;
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    match version {
        Some(version) => store.finish_snapshot(&version)?,
        // An empty workspace: nothing was caught up.
        None => caught.pages = 0,
    }
    Ok(Some(caught))
}
