//! One sync of a database with its server: pull the versions after the last one applied
//! here (a page at a time, each applied in one transaction), push the local changes as
//! versions after it, and settle what the server answered (posts it refused because it
//! had started publishing them). When another device pushed meanwhile the server answers
//! that the parent is stale: pull again, apply, push again.
//!
//! `postctl sync`, the daemon and the dashboard run this; so does the property test of
//! the protocol (`sync-server/tests/sync_property.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use std::time::{Duration, Instant};

use super::client::{Client, Pushed, Spent, SyncError};
use super::{Field, Operation};
use crate::error::Result;
use crate::model::MediaRef;
use crate::secrets::Secret;
use crate::store::{HeldPost, Pending, Store};

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
    /// Media files uploaded, and fetched into the media dir.
    pub media_uploaded: usize,
    pub media_fetched: usize,
    /// Files posts here use that the server does not have yet (their device has not
    /// synced them): fetched at a later sync.
    pub media_unavailable: usize,
    /// Posts kept from syncing because a file they use could not be uploaded.
    pub held: usize,
    /// Pages of the workspace's snapshot read to catch up (0: versions were replayed).
    pub snapshot_pages: usize,
    /// Where the sync spent its time.
    pub timings: Timings,
}

/// Where a sync spent its time: `postctl sync --json` reports it, `cargo xtask bench
/// sync` profiles with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// The requests to the server: how many, their round trips, reading their JSON.
    pub client: Spent,
    /// Applying pulled versions and snapshot pages to the database.
    pub apply: Duration,
    /// Reading the local changes to push, and recording what the server took.
    pub push_local: Duration,
    /// The whole sync.
    pub total: Duration,
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

/// Syncs `store` with the server `client` speaks to, with the session `token`; media
/// files are read from and fetched into `media_dir`.
pub async fn sync(
    store: &mut Store,
    client: &Client,
    token: &Secret,
    media_dir: &Path,
) -> Result<Synced> {
    let started = Instant::now();
    let spent = client.spent();
    let mut totals = Synced::default();
    let result = sync_timed(store, client, token, media_dir, &mut totals).await;
    totals.timings.client = client.spent().since(spent);
    totals.timings.total = started.elapsed();
    result.map(|()| totals)
}

async fn sync_timed(
    store: &mut Store,
    client: &Client,
    token: &Secret,
    media_dir: &Path,
    totals: &mut Synced,
) -> Result<()> {
    let mut attempts = 0;
    'sync: loop {
        attempts += 1;
        // New to the workspace, or more than a page of versions behind: catch up from a
        // snapshot of its current state instead of replaying them (`super::snapshot`).
        let mut may_catch_up = attempts == 1;
        loop {
            let link = store.sync_link()?;
            let since = link.as_ref().and_then(|l| l.last_version.clone());
            let targets_since = link.map_or(0, |l| l.targets_seen_ms);
            if may_catch_up && since.is_none() {
                may_catch_up = false;
                if catch_up(store, client, token, totals).await? {
                    continue;
                }
            }
            let page = client.pull(token, since.as_deref(), targets_since).await?;
            if std::mem::take(&mut may_catch_up)
                && page.more
                && catch_up(store, client, token, totals).await?
            {
                continue;
            }
            let applying = Instant::now();
            let applied = store.apply_versions(&page.versions)?;
            totals.timings.apply += applying.elapsed();
            totals.pulled += applied.changed;
            totals.conflicts += applied.conflicts;
            if !page.more {
                if let Some(accounts) = &page.accounts {
                    let names: Vec<(String, String)> = accounts
                        .iter()
                        .map(|a| (a.name.clone(), a.network.clone()))
                        .collect();
                    store.set_server_accounts(&names)?;
                }
                if let Some(until) = page.targets_until {
                    store.save_server_targets(&page.targets, until)?;
                }
                break;
            }
        }
        fetch_media(store, client, token, media_dir, totals).await?;
        let reading = Instant::now();
        let pending = store.pending_operations()?;
        totals.timings.push_local += reading.elapsed();
        let (pending, held) = upload_media(client, token, media_dir, pending, totals).await?;
        totals.held = held.len();
        store.set_held_posts(&held)?;
        if pending.operations.is_empty() {
            store.mark_synced(pending.through_seq)?;
            return Ok(());
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
                Pushed::Added {
                    version,
                    rejected,
                    duplicate,
                } => {
                    // The oplog is marked pushed with the last batch only: a sync cut off
                    // between batches pushes them all again, and the server recognises
                    // the batches it has (by their id) without adding them twice. The
                    // version such a batch made is not the latest any more: the last
                    // version seen stays.
                    let through = if i == last { pending.through_seq } else { 0 };
                    let version = version.filter(|_| !duplicate);
                    let settling = Instant::now();
                    let settled = store.settle_push(version.as_deref(), through, &rejected)?;
                    totals.timings.push_local += settling.elapsed();
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
            return Ok(());
        }
    }
}

/// Catches up from the workspace's snapshot; whether it did (false when the server
/// refused one: the versions are replayed instead).
async fn catch_up(
    store: &mut Store,
    client: &Client,
    token: &Secret,
    totals: &mut Synced,
) -> Result<bool> {
    let Some(caught) = super::snapshot::catch_up(store, client, token).await? else {
        return Ok(false);
    };
    totals.pulled += caught.changed;
    totals.conflicts += caught.conflicts;
    totals.snapshot_pages += caught.pages;
    totals.timings.apply += caught.apply;
    Ok(true)
}

/// Fetches the files posts here use that are not in the media dir (pulled from another
/// device), each checked against its hash. A file the server does not have yet is
/// counted and fetched at a later sync.
async fn fetch_media(
    store: &Store,
    client: &Client,
    token: &Secret,
    media_dir: &Path,
    totals: &mut Synced,
) -> Result<()> {
    for media in store.media_in_use()? {
        let path = crate::media::stored_path(media_dir, &media);
        if path.exists() {
            continue;
        }
        match client.get_media(token, &media.sha256).await? {
            Some(bytes) if crate::media::hex(&Sha256::digest(&bytes)) == media.sha256 => {
                crate::fs::create_private_dir(media_dir)?;
                let temp = path.with_extension("part");
                std::fs::write(&temp, &bytes)
                    .and_then(|()| std::fs::rename(&temp, &path))
                    .map_err(|e| crate::Error::Media {
                        path: path.clone(),
                        reason: format!("could not store the file fetched from the server: {e}"),
                    })?;
                totals.media_fetched += 1;
            }
            _ => totals.media_unavailable += 1,
        }
    }
    Ok(())
}

/// Uploads the files the pending operations use that the server lacks, once each. A post
/// using a file that cannot be uploaded is held back: its operations are not pushed, and
/// the oplog stays pending from its first change, so the next sync tries again.
async fn upload_media(
    client: &Client,
    token: &Secret,
    media_dir: &Path,
    mut pending: Pending,
    totals: &mut Synced,
) -> Result<(Pending, Vec<HeldPost>)> {
    let mut uses: BTreeMap<String, (MediaRef, Vec<String>)> = BTreeMap::new();
    for op in pending
        .operations
        .iter()
        .filter(|op| op.field == Field::Media)
    {
        let Ok(media) = serde_json::from_value::<Vec<MediaRef>>(op.value.clone()) else {
            continue;
        };
        for m in media {
            uses.entry(m.sha256.clone())
                .or_insert_with(|| (m, Vec::new()))
                .1
                .push(op.post.clone());
        }
    }
    if uses.is_empty() {
        return Ok((pending, Vec::new()));
    }
    let hashes: Vec<String> = uses.keys().cloned().collect();
    let missing = client.missing_media(token, &hashes).await?;
    let mut held = Vec::new();
    for sha256 in missing {
        let Some((media, posts)) = uses.get(&sha256) else {
            continue;
        };
        let path = crate::media::stored_path(media_dir, media);
        let refused = match std::fs::read(&path) {
            Err(e) => Some(format!(
                "the file is not readable at {} ({e}); attach it again with `postctl draft edit POST --media FILE`",
                path.display()
            )),
            Ok(bytes) => match client.put_media(token, &sha256, bytes).await {
                Ok(()) => {
                    totals.media_uploaded += 1;
                    None
                }
                Err(e @ SyncError::Refused(_)) | Err(e @ SyncError::Server { .. }) => {
                    Some(e.to_string())
                }
                Err(e) => return Err(e.into()),
            },
        };
        if let Some(reason) = refused {
            for post in posts {
                held.push(HeldPost {
                    post_id: post.clone(),
                    sha256: sha256.clone(),
                    file_name: media.file_name.clone(),
                    reason: reason.clone(),
                });
            }
        }
    }
    if held.is_empty() {
        return Ok((pending, held));
    }
    let kept: BTreeSet<&str> = held.iter().map(|h| h.post_id.as_str()).collect();
    for post in &kept {
        if let Some(first) = pending.first_seq.get(*post) {
            pending.through_seq = pending.through_seq.min(first - 1);
        }
    }
    pending
        .operations
        .retain(|op| !kept.contains(op.post.as_str()));
    pending.posts -= kept.len().min(pending.posts);
    Ok((pending, held))
}
