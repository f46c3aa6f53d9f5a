//! The stamped fields of a post the server writes itself (issue 13): what the API wrote, a
//! feed item or a trigger firing. Each is an [`ApiField`] kept in `post_field_stamps` as a
//! device's synced write is and carried to the devices by one version of the workspace's
//! sync chain in the write's transaction (`stamp_api_fields` in `sqlite.rs` and
//! `postgres.rs`), so a device that has synced pulls it as any device's change.

use postctl_core::model::MediaRef;
use postctl_core::sync::{Field, Operation, ScheduleValue};
use serde_json::Value;

use super::{ApiField, Post, PostState, StorageError};

/// The device the API stamps its writes with.
pub const API_DEVICE: &str = "api";
/// The device a feed's posts are stamped with (`crate::feeds`).
pub const FEED_DEVICE: &str = "feed";
/// The device a trigger's posts are stamped with (`POST /api/v1/triggers/…`).
pub const TRIGGER_DEVICE: &str = "trigger";

/// What a write changed in a post, for [`stamps`].
#[derive(Debug, Default)]
pub struct Written<'a> {
    pub body: bool,
    pub title: bool,
    pub schedule: bool,
    /// The names of the accounts it goes to, when they changed.
    pub targets: Option<Vec<String>>,
    pub media: Option<&'a [MediaRef]>,
    /// Whether the post is deleted, when that was written: `Some(false)` for a new post
    /// (as a device's new post carries it), `Some(true)` for a deletion.
    pub deleted: Option<bool>,
}

/// Who stamps a write: the version's device, and the user who made the change (the
/// version's author).
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    pub device: &'a str,
    pub user: &'a str,
}

/// The stamped fields for what `writer` wrote to `post` at `now_ms`: the fields it changed,
/// each checked as a device's operation is (core's `Operation::edit`), so every replica
/// takes it; `Err` says which value is not one.
pub fn stamps(
    post: &Post,
    written: &Written<'_>,
    now_ms: i64,
    writer: Writer<'_>,
) -> Result<Vec<ApiField>, String> {
    let field = |field: Field, value: Value| -> Result<ApiField, String> {
        let op = Operation {
            post: post.id.clone(),
            field,
            value,
            at_ms: now_ms,
            device: writer.device.to_string(),
        };
        op.edit()?;
        Ok(ApiField {
            field: field.as_str(),
            value: op.value.to_string(),
            at_ms: now_ms,
            device: op.device,
            by: writer.user.to_string(),
        })
    };
    let mut fields = Vec::new();
    if written.body {
        fields.push(field(Field::Body, Value::String(post.body.clone()))?);
    }
    if written.title {
        let title = post.title.clone().map_or(Value::Null, Value::String);
        fields.push(field(Field::Title, title)?);
    }
    if written.schedule {
        let schedule = ScheduleValue {
            kind: match post.state {
                PostState::Scheduled => "at",
                PostState::Draft => "none",
            }
            .to_string(),
            rule: None,
            due_ms: post
                .scheduled_ms
                .filter(|_| post.state == PostState::Scheduled),
            zone: post.zone.clone(),
        };
        let value = serde_json::to_value(schedule).map_err(|e| e.to_string())?;
        fields.push(field(Field::Schedule, value)?);
    }
    if let Some(names) = &written.targets {
        let value = Value::Array(names.iter().cloned().map(Value::String).collect());
        fields.push(field(Field::Targets, value)?);
    }
    if let Some(media) = written.media {
        let value = serde_json::to_value(media).map_err(|e| e.to_string())?;
        fields.push(field(Field::Media, value)?);
    }
    if let Some(deleted) = written.deleted {
        fields.push(field(Field::Deleted, Value::Bool(deleted))?);
    }
    Ok(fields)
}

/// How the server stamps a post it makes by itself (a feed item, a trigger firing): every
/// field, as the API's new post is, by `device` ([`FEED_DEVICE`], [`TRIGGER_DEVICE`]) for
/// `user`, going to the accounts named `targets` (in the targets' order). The storage
/// stamps the post as it is stored, so a queued post carries the time its transaction
/// chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    pub device: &'static str,
    pub user: String,
    pub targets: Vec<String>,
}

impl Made {
    /// The stamped fields of `post` as it is stored (see [`stamps`]).
    pub fn fields(&self, post: &Post) -> Result<Vec<ApiField>, String> {
        let written = Written {
            body: true,
            title: true,
            schedule: true,
            targets: Some(self.targets.clone()),
            media: Some(&[]),
            deleted: Some(false),
        };
        let writer = Writer {
            device: self.device,
            user: &self.user,
        };
        stamps(post, &written, post.created_ms, writer)
    }
}

impl Made {
    /// [`Made::fields`] as the storage takes stamps: of the post as it is stored. A refusal
    /// is a storage error: the maker checks the fields first, so only a time the queue
    /// picked could be refused there.
    pub fn stamps(self) -> super::PostStamps {
        std::sync::Arc::new(move |post: &Post| self.fields(post).map_err(|e| refused(&e)))
    }
}

/// Fields that [`stamps`] refused as the post was stored, as the storage reports them.
pub fn refused(reason: &str) -> StorageError {
    StorageError::Database(format!("the post's fields cannot be stamped: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(state: PostState, scheduled_ms: Option<i64>) -> Post {
        Post {
            id: "p1".into(),
            workspace_id: "w".into(),
            author_id: "alice".into(),
            title: None,
            body: "New: a release".into(),
            state,
            scheduled_ms,
            zone: "Europe/Berlin".into(),
            created_ms: 1_000,
            updated_ms: 1_000,
        }
    }

    #[test]
    fn a_made_post_stamps_every_field_with_its_time() {
        let made = Made {
            device: FEED_DEVICE,
            user: "alice".into(),
            targets: vec!["masto".into(), "bsky".into()],
        };
        let fields = made
            .fields(&post(PostState::Scheduled, Some(90_000)))
            .expect("fields");
        let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
        assert_eq!(
            names,
            ["body", "title", "schedule", "targets", "media", "deleted"]
        );
        assert!(
            fields
                .iter()
                .all(|f| f.device == "feed" && f.by == "alice" && f.at_ms == 1_000)
        );
        let schedule: Value = serde_json::from_str(&fields[2].value).expect("json");
        assert_eq!(schedule["kind"], "at");
        assert_eq!(schedule["due_ms"], 90_000);
        assert_eq!(schedule["zone"], "Europe/Berlin");
        assert_eq!(fields[3].value, r#"["masto","bsky"]"#);
        assert_eq!(fields[4].value, "[]");
        assert_eq!(fields[5].value, "false");
    }

    #[test]
    fn a_value_no_replica_would_take_is_refused() {
        let mut long = post(PostState::Draft, None);
        long.body = "x".repeat(100_001);
        let made = Made {
            device: TRIGGER_DEVICE,
            user: "alice".into(),
            targets: vec![],
        };
        assert!(made.fields(&long).is_err());
    }
}
