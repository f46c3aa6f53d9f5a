//! Catching up from a server's snapshot (issue 13, `crate::sync::snapshot`): its pages are
//! applied as pulled versions are, field by field, but the version they stand for is
//! recorded only once every page is in, so a device stopped part-way starts the snapshot
//! again instead of missing the pages it did not apply.

use rusqlite::params;

use super::Store;
use super::sync::Applied;
use crate::error::Result;
use crate::sync::Operation;

impl Store {
    /// Applies one page of a snapshot in one transaction, as [`Store::apply_versions`]
    /// applies a version (last writer wins by stamp; this device's own operations are left
    /// alone), without moving the last version seen.
    pub fn apply_snapshot_page(&mut self, operations: &[Operation]) -> Result<Applied> {
        let pushed = self.sync_link()?.map_or(0, |l| l.pushed_seq);
        self.write(|tx| {
            let mut applied = Applied::default();
            for op in operations {
                if op.device == tx.device {
                    continue;
                }
                match op.edit() {
                    Ok(edit) => tx.apply_operation(op, &edit, pushed, &mut applied)?,
                    Err(_) => applied.skipped += 1,
                }
            }
            Ok(applied)
        })
    }

    /// Records that every page of the snapshot at `version` is applied: the next pull
    /// starts after it.
    pub fn finish_snapshot(&mut self, version: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_link SET last_version = ?1 WHERE id = 1",
                params![version],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }
}
