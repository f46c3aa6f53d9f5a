//! Sync with a postctl server ("sync-server/" in docs/ARCHITECTURE.md, issue 13), on
//! TaskChampion's model: each device records its changes as operations; `postctl sync`
//! pushes the ones not yet synced as one version whose parent is the last version the
//! device saw, and the server accepts it only if that parent is still the latest of the
//! workspace (a compare-and-set). Otherwise the device pulls the newer versions, applies
//! them, and pushes again.
//!
//! Operations name one field of one post and carry its whole new value, stamped with when
//! and on which device it was written. Every replica (the server and each device) keeps, per
//! post and field, the value with the greatest stamp `(time, device)`: last writer wins,
//! field by field, whatever order the operations arrive in, so all replicas converge.
//! Where a post goes travels as its `targets` field (the accounts' names, unique in a
//! workspace); what the publisher owns (the targets' states, published parts, attempts)
//! is not an operation at all: it never travels up.
//!
//! This module is plain data and pure decisions ([`resolve`], [`Operation::edit`]); the
//! local side is in `store::sync`, the HTTP client in [`client`], and the server applies
//! versions in its own storage.

pub mod background;
pub mod client;
pub mod run;
pub mod snapshot;

use serde::{Deserialize, Serialize};

/// A post field that travels between replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The post exists (value: `{"created_ms": …}`); its fields follow as their own operations.
    Created,
    /// The Markdown text (a string).
    Body,
    /// The title (a string, or null for none).
    Title,
    /// The labels (an array of strings).
    Labels,
    /// When: a [`ScheduleValue`].
    Schedule,
    /// Removed (`true`) or live (`false`).
    Deleted,
    /// The attached files, in order: an array of media references (hash, name, type,
    /// size, dimensions, alt text). The files travel by hash (`/api/v1/media`).
    Media,
    /// Where it goes: the names of the workspace's accounts, in order (an array of
    /// strings). Each replica makes or cancels its own targets to match, never touching
    /// one that has started publishing; a name with no account there yet is kept.
    Targets,
}

impl Field {
    /// The fields whose values a post carries, in the order a new post sends them.
    pub const VALUES: [Field; 7] = [
        Field::Body,
        Field::Title,
        Field::Labels,
        Field::Schedule,
        Field::Deleted,
        Field::Media,
        Field::Targets,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Created => "created",
            Field::Body => "body",
            Field::Title => "title",
            Field::Labels => "labels",
            Field::Schedule => "schedule",
            Field::Deleted => "deleted",
            Field::Media => "media",
            Field::Targets => "targets",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        [Field::Created]
            .into_iter()
            .chain(Field::VALUES)
            .find(|f| f.as_str() == s)
    }
}

/// Who wrote a value, and when: the order of last-writer-wins. Later time wins; at the
/// same millisecond, the greater device id, so every replica picks the same one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    pub at_ms: i64,
    pub device: String,
}

/// A post's schedule as it travels: kind `none` (a draft), `at`, `every` (with its weekly
/// rule) or `queue`; the due time (UTC ms) and the IANA zone it was written in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleValue {
    pub kind: String,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub due_ms: Option<i64>,
    pub zone: String,
}

/// One change: `field` of post `post` is now `value`, written at `at_ms` on `device`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub post: String,
    pub field: Field,
    pub value: serde_json::Value,
    pub at_ms: i64,
    pub device: String,
}

/// An operation's value, checked and typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Created { created_ms: i64 },
    Body(String),
    Title(Option<String>),
    Labels(Vec<String>),
    Schedule(ScheduleValue),
    Deleted(bool),
    Media(Vec<crate::model::MediaRef>),
    Targets(Vec<String>),
}

/// The longest post id, field text or label an operation may carry, so a bad client cannot
/// fill a database with one operation.
const MAX_ID: usize = 64;
const MAX_TEXT: usize = 100_000;
/// The most files one post may carry in an operation.
const MAX_MEDIA: usize = 32;
/// The most accounts one post may go to, and the longest account name.
const MAX_TARGETS: usize = 100;
const MAX_ACCOUNT_NAME: usize = 100;

/// Whether `s` is a SHA-256 as media files are addressed: 64 lowercase hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Operation {
    pub fn stamp(&self) -> Stamp {
        Stamp {
            at_ms: self.at_ms,
            device: self.device.clone(),
        }
    }

    /// The value as its field's type, or what is wrong with it (for a 422 on the server,
    /// and to skip a damaged operation on a device).
    pub fn edit(&self) -> Result<Edit, String> {
        let what = |expected: &str| {
            format!(
                "operation on post {:?}: `{}` must be {expected}",
                self.post,
                self.field.as_str()
            )
        };
        if self.post.is_empty()
            || self.post.len() > MAX_ID
            || !self
                .post
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "operation post id {:?} is not a post id (letters, digits and '-', at most {MAX_ID})",
                self.post
            ));
        }
        if self.device.is_empty() || self.device.len() > MAX_ID {
            return Err(format!(
                "operation on post {:?}: `device` must be a device id of 1 to {MAX_ID} characters",
                self.post
            ));
        }
        let text_ok = |s: &str| s.len() <= MAX_TEXT;
        use serde_json::Value;
        match (self.field, &self.value) {
            (Field::Created, v) => v
                .get("created_ms")
                .and_then(Value::as_i64)
                .map(|created_ms| Edit::Created { created_ms })
                .ok_or_else(|| what("an object with `created_ms` (milliseconds)")),
            (Field::Body, Value::String(s)) if text_ok(s) => Ok(Edit::Body(s.clone())),
            (Field::Body, _) => Err(what("a string of at most 100000 bytes")),
            (Field::Title, Value::Null) => Ok(Edit::Title(None)),
            (Field::Title, Value::String(s)) if text_ok(s) => Ok(Edit::Title(Some(s.clone()))),
            (Field::Title, _) => Err(what("a string or null")),
            (Field::Labels, Value::Array(items)) => items
                .iter()
                .map(|l| {
                    l.as_str()
                        .filter(|l| text_ok(l))
                        .map(str::to_string)
                        .ok_or_else(|| what("an array of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Edit::Labels),
            (Field::Labels, _) => Err(what("an array of strings")),
            (Field::Schedule, v) => {
                let schedule: ScheduleValue = serde_json::from_value(v.clone())
                    .map_err(|_| what("an object with `kind`, `rule`, `due_ms` and `zone`"))?;
                let known = matches!(schedule.kind.as_str(), "none" | "at" | "every" | "queue");
                if !known || (schedule.kind == "every" && schedule.rule.is_none()) {
                    return Err(what(
                        "a schedule of kind none, at, every (with a rule) or queue",
                    ));
                }
                if schedule.kind != "none" && schedule.due_ms.is_none() {
                    return Err(what("a schedule with `due_ms` unless its kind is none"));
                }
                if schedule.zone.parse::<chrono_tz::Tz>().is_err() {
                    return Err(what("a schedule whose `zone` is an IANA zone"));
                }
                Ok(Edit::Schedule(schedule))
            }
            (Field::Deleted, Value::Bool(b)) => Ok(Edit::Deleted(*b)),
            (Field::Deleted, _) => Err(what("true or false")),
            (Field::Media, v) => {
                let media: Vec<crate::model::MediaRef> = serde_json::from_value(v.clone())
                    .map_err(|_| what("an array of media references"))?;
                let sane = media.len() <= MAX_MEDIA
                    && media.iter().all(|m| {
                        is_sha256(&m.sha256)
                            && m.file_name.len() <= 255
                            && m.mime.len() <= 100
                            && m.alt.as_ref().is_none_or(|a| text_ok(a))
                    });
                if !sane {
                    return Err(what(
                        "at most 32 media references, each with a SHA-256 of 64 lowercase hex digits",
                    ));
                }
                Ok(Edit::Media(media))
            }
            (Field::Targets, Value::Array(items)) if items.len() <= MAX_TARGETS => {
                let mut names: Vec<String> = Vec::with_capacity(items.len());
                for item in items {
                    let name = item
                        .as_str()
                        .filter(|n| !n.is_empty() && n.len() <= MAX_ACCOUNT_NAME)
                        .ok_or_else(|| what("an array of account names"))?;
                    if names.iter().any(|n| n == name) {
                        return Err(what("an array of distinct account names"));
                    }
                    names.push(name.to_string());
                }
                Ok(Edit::Targets(names))
            }
            (Field::Targets, _) => Err(what(
                "an array of at most 100 account names of 1 to 100 bytes",
            )),
        }
    }
}

/// A version as the server keeps it: one device's batch of operations, after `parent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub id: String,
    /// The version before it; `None` for the workspace's first.
    pub parent: Option<String>,
    pub device: String,
    /// When the server accepted it (UTC ms).
    pub created_ms: i64,
    pub operations: Vec<Operation>,
}

/// What a device does with an operation pulled from the server, given the stamp of the
/// value it holds for that field (`held`, `None` when it has none) and whether that value
/// is a local change not yet pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The incoming value is newer: write it.
    Apply,
    /// The incoming value is newer and replaces a local change not yet pushed: write it,
    /// and keep the local value as a conflict record.
    ApplyOverLocal,
    /// The local change not yet pushed is newer: keep it (it is pushed next), and record
    /// the incoming value as a conflict.
    KeepLocal,
    /// The value held is as new or newer and already synced (or this device's own
    /// operation coming back): nothing to do.
    Ignore,
}

/// Last writer wins by (time, device), field by field; see [`Resolution`].
pub fn resolve(incoming: &Stamp, held: Option<&Stamp>, held_is_pending: bool) -> Resolution {
    match held {
        None => Resolution::Apply,
        Some(held) if incoming > held => {
            if held_is_pending {
                Resolution::ApplyOverLocal
            } else {
                Resolution::Apply
            }
        }
        Some(held) if incoming < held && held_is_pending => Resolution::KeepLocal,
        Some(_) => Resolution::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stamp(at_ms: i64, device: &str) -> Stamp {
        Stamp {
            at_ms,
            device: device.into(),
        }
    }

    #[test]
    fn last_writer_wins_by_time_then_device() {
        let cases = [
            // (incoming, held, held pending, expected)
            (stamp(10, "a"), None, false, Resolution::Apply),
            (
                stamp(10, "a"),
                Some(stamp(5, "b")),
                false,
                Resolution::Apply,
            ),
            (
                stamp(10, "a"),
                Some(stamp(5, "b")),
                true,
                Resolution::ApplyOverLocal,
            ),
            (
                stamp(5, "a"),
                Some(stamp(10, "b")),
                true,
                Resolution::KeepLocal,
            ),
            (
                stamp(5, "a"),
                Some(stamp(10, "b")),
                false,
                Resolution::Ignore,
            ),
            // The same millisecond: the greater device id wins, on every replica.
            (
                stamp(10, "b"),
                Some(stamp(10, "a")),
                true,
                Resolution::ApplyOverLocal,
            ),
            (
                stamp(10, "a"),
                Some(stamp(10, "b")),
                true,
                Resolution::KeepLocal,
            ),
            // Our own operation coming back from the server changes nothing.
            (
                stamp(10, "a"),
                Some(stamp(10, "a")),
                false,
                Resolution::Ignore,
            ),
            (
                stamp(10, "a"),
                Some(stamp(10, "a")),
                true,
                Resolution::Ignore,
            ),
        ];
        for (incoming, held, pending, expected) in cases {
            assert_eq!(
                resolve(&incoming, held.as_ref(), pending),
                expected,
                "{incoming:?} over {held:?} (pending {pending})"
            );
        }
    }

    #[test]
    fn operations_are_checked_before_use() {
        let op = |field: Field, value: serde_json::Value| Operation {
            post: "0193a1b2-aaaa".into(),
            field,
            value,
            at_ms: 1,
            device: "d1".into(),
        };
        let good = [
            (op(Field::Body, json!("hi")), Edit::Body("hi".into())),
            (op(Field::Title, json!(null)), Edit::Title(None)),
            (
                op(Field::Labels, json!(["a"])),
                Edit::Labels(vec!["a".into()]),
            ),
            (op(Field::Deleted, json!(true)), Edit::Deleted(true)),
            (
                op(Field::Targets, json!(["masto", "bsky"])),
                Edit::Targets(vec!["masto".into(), "bsky".into()]),
            ),
            (
                op(Field::Created, json!({"created_ms": 7})),
                Edit::Created { created_ms: 7 },
            ),
            (
                op(
                    Field::Schedule,
                    json!({"kind": "at", "due_ms": 5, "zone": "Europe/Berlin"}),
                ),
                Edit::Schedule(ScheduleValue {
                    kind: "at".into(),
                    rule: None,
                    due_ms: Some(5),
                    zone: "Europe/Berlin".into(),
                }),
            ),
        ];
        for (op, edit) in good {
            assert_eq!(op.edit(), Ok(edit));
        }
        let bad = [
            op(Field::Body, json!(3)),
            op(Field::Title, json!([1])),
            op(Field::Labels, json!([1])),
            op(Field::Deleted, json!("yes")),
            op(Field::Targets, json!("masto")),
            op(Field::Targets, json!(["masto", "masto"])),
            op(Field::Targets, json!([""])),
            op(Field::Created, json!({})),
            op(Field::Schedule, json!({"kind": "at", "zone": "UTC"})),
            op(
                Field::Schedule,
                json!({"kind": "soon", "due_ms": 1, "zone": "UTC"}),
            ),
            op(
                Field::Schedule,
                json!({"kind": "at", "due_ms": 1, "zone": "Mars/Olympus"}),
            ),
            Operation {
                post: "a b".into(),
                ..op(Field::Body, json!("x"))
            },
        ];
        for op in bad {
            assert!(op.edit().is_err(), "{op:?} was accepted");
        }
    }
}
