//! UUIDv7 ids, typed by users as any unambiguous prefix (as with git).

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::{Error, Result};

/// Shortest prefix shown in lists, even when a shorter one would be unique.
const MIN_SHORT: usize = 8;

/// A new time-ordered, globally unique id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
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
