//! `GET /api/v1/calendar?from=&to=`: the workspace's targets due in a range that are or
//! were meant to go out (scheduled, waiting to retry, publishing, published, failed,
//! uncertain), by due time.

use axum::Json;
use axum::extract::State;
use chrono::DateTime;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::access::Caller;
use super::extract::Query;
use super::posts::rfc3339;
use super::problem::Problem;

/// The longest range one request may ask for.
const MAX_DAYS: i64 = 400;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// The start, RFC 3339 (included).
    from: String,
    /// The end, RFC 3339 (excluded).
    to: String,
}

fn instant(name: &str, text: &str) -> Result<i64, Problem> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            Problem::invalid(format!(
                "`{name}` must be an RFC 3339 time, like 2026-12-01T00:00:00Z, not {text:?}"
            ))
        })
}

pub async fn calendar(
    State(state): State<AppState>,
    caller: Caller,
    Query(range): Query<Range>,
) -> Result<Json<Value>, Problem> {
    let (from, to) = (instant("from", &range.from)?, instant("to", &range.to)?);
    if to <= from {
        return Err(Problem::invalid("`to` must be later than `from`"));
    }
    if to - from > MAX_DAYS * 24 * 60 * 60 * 1000 {
        return Err(Problem::invalid(format!(
            "the range is longer than {MAX_DAYS} days; ask for it in parts"
        )));
    }
    let entries = state
        .storage
        .calendar(&caller.workspace_id, from, to)
        .await?;
    Ok(Json(json!({
        "items": entries
            .iter()
            .map(|e| json!({
                "post_id": e.target.target.post_id,
                "post_title": e.post_title,
                "target_id": e.target.target.id,
                "account": e.target.account_name,
                "network": e.target.network,
                "state": e.target.target.state.as_str(),
                "due_at": e.target.target.due_ms.map(rfc3339),
            }))
            .collect::<Vec<_>>(),
    })))
}
