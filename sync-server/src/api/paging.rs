//! Cursor pagination, one way for every list of the API: `limit` (1 to 200, 50 when left
//! out), `cursor` (the `next_cursor` of the page before: the id of its last item), and an
//! answer `{"items": [...], "next_cursor": id | null}`. A handler asks its storage for
//! `limit + 1` items after the cursor; the one more says whether another page follows.

use serde_json::{Value, json};

use super::problem::Problem;

const DEFAULT: u32 = 50;
const MAX: u32 = 200;

/// The page size asked for, checked.
pub fn limit(given: Option<u32>) -> Result<u32, Problem> {
    let limit = given.unwrap_or(DEFAULT);
    if !(1..=MAX).contains(&limit) {
        return Err(Problem::invalid(format!("`limit` must be 1 to {MAX}")));
    }
    Ok(limit)
}

/// Refuses a cursor this server cannot have given (ids are UUIDs).
pub fn check_cursor(cursor: Option<&str>) -> Result<(), Problem> {
    match cursor {
        Some(c) if uuid::Uuid::parse_str(c).is_err() => Err(Problem::invalid(
            "`cursor` is not one this server gave; pass `next_cursor` from the previous page",
        )),
        _ => Ok(()),
    }
}

/// The answer for `found` (up to `limit + 1` items): the first `limit` shown with `view`,
/// and the cursor to the next page when there is one.
pub fn page<T>(
    mut found: Vec<T>,
    limit: u32,
    id: impl Fn(&T) -> &str,
    view: impl Fn(&T) -> Value,
) -> Value {
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let next_cursor = if more { found.last().map(&id) } else { None };
    json!({
        "items": found.iter().map(view).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })
}
