//! UUIDv7 ids, typed by users as any unambiguous prefix (as with git).

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::{Error, Result};

/// Shortest prefix shown in lists, even when a shorter one would be unique.
const MIN_SHORT: usize = 8;

/// A new time-ordered, globally unique id (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// How many leading bits of a post id are the time: the top 24 of the 48-bit Unix time in
/// milliseconds, so the first 6 hex digits change every 2^24 ms (about 4.7 hours).
const POST_ID_TIME_BITS: u32 = 24;

/// A new post id: a UUID (version 8) whose first 6 hex digits are the time in steps of
/// about 4.7 hours and whose other 116 bits are random.
///
/// Users type post ids by their shortest unique prefix (see [`short_ids`]). In a UUIDv7
/// everything after the millisecond comes later in the text, so posts made together (an
/// import makes thousands a second) shared 13 characters, and 28 within one millisecond,
/// where the generator counts. With the random bits right after a coarse time, posts made
/// together differ within a few characters of it, and posts made hours apart by their
/// time. Ids stay roughly time-ordered, which keeps the id index's inserts local.
pub fn new_post_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let step = (millis >> (48 - POST_ID_TIME_BITS)).to_be_bytes();
    let mut bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..3].copy_from_slice(&step[5..]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

impl Store {
    /// Resolves what the user typed to one live post id.
    ///
    /// Accepts a full id or any prefix of it (case-insensitive). Zero matches and several
    /// matches are errors that say what to do.
    pub fn resolve_post_id(&self, typed: &str) -> Result<String> {
        let prefix = typed.trim().to_ascii_lowercase();
        let well_formed = !prefix.is_empty()
            && prefix.len() <= 36
            && prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if !well_formed {
            return Err(Error::NoSuchPost { prefix });
        }
        // Ids are lowercase hex and '-', all sorting below 'g': a range scan on the index.
        let upper = format!("{prefix}g");
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id FROM posts WHERE id >= ?1 AND id < ?2 AND deleted_ms IS NULL
                 ORDER BY id LIMIT 4",
            )
            .map_err(|e| self.error(e))?;
        let found = stmt
            .query_map(params![prefix, upper], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.error(e))?;
        match found.as_slice() {
            [] => Err(Error::NoSuchPost { prefix }),
            [one] => Ok(one.clone()),
            many => {
                let count: i64 = self
                    .conn()
                    .query_row(
                        "SELECT count(*) FROM posts WHERE id >= ?1 AND id < ?2
                         AND deleted_ms IS NULL",
                        params![prefix, upper],
                        |row| row.get(0),
                    )
                    .map_err(|e| self.error(e))?;
                let shown = many.iter().take(3).cloned().collect::<Vec<_>>();
                let mut examples = shown.join(", ");
                // The count says how many match: the list must not look like all of them.
                if count as usize > shown.len() {
                    examples += &format!(" and {} more", count as usize - shown.len());
                }
                Err(Error::AmbiguousId {
                    prefix,
                    count: count as usize,
                    examples,
                })
            }
        }
    }
}

/// The short form of each id: the shortest prefix (at least 8 characters) that no other
/// post id in the database shares.
///
/// Only the ids next to each one in sorted order can share a longer prefix with it, so each
/// costs two lookups on the id index, however many posts there are.
pub fn short_ids(store: &Store, ids: &[&str]) -> Result<HashMap<String, String>> {
    ids.iter()
        .map(|id| Ok((id.to_string(), store.short_id(id)?)))
        .collect()
}

impl Store {
    /// The short form of one post id: see [`short_ids`].
    pub fn short_id(&self, id: &str) -> Result<String> {
        let neighbour = |sql: &str| -> Result<Option<String>> {
            self.conn()
                .prepare_cached(sql)
                .and_then(|mut stmt| stmt.query_row([id], |row| row.get(0)).optional())
                .map_err(|e| self.error(e))
        };
        // Deleted posts count too: a short id stays the same when a neighbour is removed.
        let before = neighbour("SELECT id FROM posts WHERE id < ?1 ORDER BY id DESC LIMIT 1")?;
        let after = neighbour("SELECT id FROM posts WHERE id > ?1 ORDER BY id LIMIT 1")?;
        Ok(short_form(id, before.as_deref(), after.as_deref()))
    }
}

/// The shortest prefix of `id` (at least [`MIN_SHORT`]) that its neighbours in sorted
/// order do not share.
fn short_form(id: &str, before: Option<&str>, after: Option<&str>) -> String {
    let common = |other: Option<&str>| {
        other.map_or(0, |other| {
            id.bytes()
                .zip(other.bytes())
                .take_while(|(a, b)| a == b)
                .count()
        })
    };
    let len = (common(before).max(common(after)) + 1)
        .max(MIN_SHORT)
        .min(id.len());
    id.get(..len).unwrap_or(id).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Posts made in one go (an import) get short ids that stay short: before, a batch
    /// shared the first 13 to 28 characters.
    #[test]
    fn post_ids_made_together_have_short_unique_prefixes() {
        let mut ids: Vec<String> = (0..300).map(|_| new_post_id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 300);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis();
        let step = u64::try_from(now >> 24).expect("a step");
        let mut lengths: Vec<usize> = (0..ids.len())
            .map(|i| {
                let before = i.checked_sub(1).map(|b| ids[b].as_str());
                let after = ids.get(i + 1).map(String::as_str);
                short_form(&ids[i], before, after).len()
            })
            .collect();
        lengths.sort_unstable();
        // After the 6 hex digits of time come random ones, so how long the longest prefix
        // is, is chance: 13 characters (5 random digits shared by two of the 300, a 1 in
        // 23 chance) happens. 17 needs 7 shared random digits (the version digit is fixed):
        // about 1 in 6,000. Most stay short.
        assert!(lengths[lengths.len() / 2] <= 10, "{lengths:?}");
        assert!(lengths[lengths.len() * 9 / 10] <= 11, "{lengths:?}");
        assert!(lengths[lengths.len() - 1] <= 17, "{lengths:?}");
        // The time leads (the step may have changed while they were made).
        for id in &ids {
            let leading = u64::from_str_radix(&id[..6], 16).expect("hex");
            assert!(leading == step || leading + 1 == step, "{id} {step:x}");
        }
        assert!(
            ids.iter()
                .all(|id| uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 8)),
            "{}",
            ids[0]
        );
    }

    #[test]
    fn short_form_is_the_shortest_unique_prefix() {
        let ids: Vec<String> = [
            "0190aaaa-0000-7000-8000-000000000001",
            "0190aaaa-0000-7000-8000-000000000002",
            "0190bbbb-1111-7000-8000-000000000003",
            "0290cccc-2222-7000-8000-000000000004",
        ]
        .map(String::from)
        .to_vec();
        let cases = [
            (0_usize, "0190aaaa-0000-7000-8000-000000000001"),
            (1, "0190aaaa-0000-7000-8000-000000000002"),
            (2, "0190bbbb"),
            (3, "0290cccc"),
        ];
        for (index, expected) in cases {
            let before = index.checked_sub(1).map(|i| ids[i].as_str());
            let after = ids.get(index + 1).map(String::as_str);
            assert_eq!(short_form(&ids[index], before, after), expected);
        }
        let close = ["0190bbbb-1111-7000", "0190bbbb-2222-7000"];
        assert_eq!(short_form(close[0], None, Some(close[1])), "0190bbbb-1");
        assert_eq!(short_form(close[1], Some(close[0]), None), "0190bbbb-2");
        assert_eq!(short_form("0190", None, None), "0190");
    }
}
