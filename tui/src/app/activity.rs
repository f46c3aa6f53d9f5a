//! The oplog in words, for the activity view.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use postctl_core::model::Post;
use postctl_core::store::Operation;
use serde_json::Value;

use super::data::Data;
use super::state::{ActivityKind, ActivityLine};

/// One oplog entry as a line a person reads, classified for its colour; `None` for the
/// entries that only repeat another (a new post's targets, each target of a schedule).
pub fn describe(op: &Operation, data: &Data, tz: Tz) -> Option<ActivityLine> {
    let value: Value = op
        .value
        .as_deref()
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or(Value::Null);
    let text_of = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let post_name = |id: &str| match data.post(id) {
        Some(post) => format!("{} {}", data.short_id(&post.id), quote(post)),
        None => format!("post {}", id.get(..8).unwrap_or(id)),
    };
    let (kind, text) = match (op.entity.as_str(), op.field.as_str()) {
        ("post", "created") => (
            ActivityKind::Edited,
            format!("new {}", post_name(&op.entity_id)),
        ),
        ("post", "schedule") => {
            let when = value
                .get("due_ms")
                .and_then(Value::as_i64)
                .and_then(DateTime::<Utc>::from_timestamp_millis)
                .map(|t| postctl_core::time::format_local(t, tz))
                .unwrap_or_else(|| "?".into());
            let how = match text_of("rule") {
                Some(rule) => format!("every {rule}, next {when}"),
                None => format!("for {when}"),
            };
            (
                ActivityKind::Edited,
                format!("scheduled {} {how}", post_name(&op.entity_id)),
            )
        }
        ("post", "deleted") => (
            ActivityKind::Edited,
            format!("removed {}", post_name(&op.entity_id)),
        ),
        ("post", "retry") => (
            ActivityKind::Edited,
            format!("retrying {}", post_name(&op.entity_id)),
        ),
        ("post", "resolve") => {
            let outcome = match text_of("published") {
                Some(url) => format!("published at {url}"),
                None => "not published: due again".into(),
            };
            (
                ActivityKind::Edited,
                format!("resolved {}: {outcome}", post_name(&op.entity_id)),
            )
        }
        ("post", field) => (
            ActivityKind::Edited,
            format!("edited the {field} of {}", post_name(&op.entity_id)),
        ),
        ("target", field) => {
            let (post, account) = match data.target(&op.entity_id) {
                Some((post, account)) => (
                    format!("{} {}", data.short_id(&post.id), quote(post)),
                    account.to_string(),
                ),
                None => (
                    format!("target {}", op.entity_id.get(..8).unwrap_or(&op.entity_id)),
                    String::new(),
                ),
            };
            let on = if account.is_empty() {
                String::new()
            } else {
                format!(" on {account}")
            };
            match field {
                "created" => return None,
                "state" if text_of("state").as_deref() == Some("scheduled") => return None,
                "state" => {
                    let state = text_of("state").unwrap_or_else(|| "?".into());
                    let error = text_of("error")
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default();
                    let kind = match state.as_str() {
                        "published" => ActivityKind::Published,
                        "failed" | "uncertain" | "missed" | "waiting_retry" => ActivityKind::Failed,
                        _ => ActivityKind::Other,
                    };
                    let state = if state == "release" {
                        "released".to_string()
                    } else {
                        state.replace('_', " ")
                    };
                    (kind, format!("{state}{on}: {post}{error}"))
                }
                "part" => {
                    let index = value.get("index").and_then(Value::as_u64).unwrap_or(0) + 1;
                    let url = value
                        .get("published")
                        .and_then(|p| p.get("url"))
                        .and_then(Value::as_str)
                        .map(|u| format!(" {u}"))
                        .unwrap_or_default();
                    (
                        ActivityKind::Published,
                        format!("sent part {index}{on}: {post}{url}"),
                    )
                }
                "deleted" => (
                    ActivityKind::Edited,
                    format!("removed a target{on}: {post}"),
                ),
                other => (ActivityKind::Other, format!("{other}{on}: {post}")),
            }
        }
        ("account", "created") => (
            ActivityKind::Other,
            format!(
                "added account {} ({})",
                text_of("name").unwrap_or_default(),
                text_of("network").unwrap_or_default()
            ),
        ),
        ("account", "deleted") => (ActivityKind::Other, "removed an account".to_string()),
        ("group", "deleted") => (
            ActivityKind::Other,
            format!("removed group {}", op.entity_id),
        ),
        ("group", _) => (ActivityKind::Other, format!("set group {}", op.entity_id)),
        ("slots", _) => (ActivityKind::Other, "changed queue slots".to_string()),
        (entity, field) => (
            ActivityKind::Other,
            format!("{entity} {} {field}", op.entity_id),
        ),
    };
    Some(ActivityLine {
        seq: op.seq,
        at: op.at,
        kind,
        text,
    })
}

/// The start of a post's text, on one line.
pub fn quote(post: &Post) -> String {
    format!(
        "\"{}\"",
        excerpt(post.title.as_deref().unwrap_or(&post.body), 40)
    )
}

/// The first `width` characters of `text` on one line, with "…" when cut.
pub fn excerpt(text: &str, width: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        flat
    } else {
        let mut cut: String = flat.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}
