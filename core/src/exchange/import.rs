//! Bulk import from CSV or JSON: every row is checked before anything is written, and the
//! posts are created in one transaction, so a file with one bad row imports nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{MediaRef, Post, Schedule, TargetState};
use crate::store::{ImportWrite, NewPost, NewTarget, PostChange, Presence, ScheduleChange, Store};
use crate::time::{ParseContext, WeeklyRule, ensure_not_past, parse_when, parse_zone};

/// The columns (CSV) or keys (JSON) an import row may have. `id` and `state` come from
/// `postctl export`: a post keeps its id, so importing an export again finds its posts
/// (updated or skipped, never duplicated); `state` is ignored.
const COLUMNS: [&str; 11] = [
    "text", "to", "at", "tz", "every", "title", "labels", "media", "alt", "id", "state",
];

/// One row of an import file, as text, with where it came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportRow {
    /// "posts.csv line 4" or "posts.json item 3", for error messages.
    pub location: String,
    /// The post's id where it was exported.
    pub id: Option<String>,
    pub text: String,
    pub to: Vec<String>,
    pub at: Option<String>,
    pub tz: Option<String>,
    pub every: Option<String>,
    pub title: Option<String>,
    pub labels: Vec<String>,
    pub media: Vec<String>,
    pub alt: Vec<String>,
    /// Media already in postctl's data dir, from `postctl export --format json`.
    pub attachments: Vec<Attachment>,
}

/// An exported attachment: found again by its content hash in the data dir's media folder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attachment {
    pub sha256: String,
    pub file_name: String,
    pub alt: Option<String>,
}

/// The largest import file read: an export of 100,000 posts with long texts is well
/// under it; anything larger is more likely a wrong path (a disk image, `/dev/zero`).
const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;

/// Reads `path` as CSV (with a header row) or as a JSON array of objects; JSON when the
/// name ends in `.json` or the content starts with `[`.
pub fn read_rows(path: &Path) -> Result<Vec<ImportRow>> {
    let text = std::fs::File::open(path)
        .and_then(|file| crate::fs::read_text_up_to(file, MAX_IMPORT_BYTES))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Invalid(format!(
                "no import file at {}; check the path (postctl imports .csv and .json files)",
                path.display()
            )),
            _ => Error::io(path, e),
        })?
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{} is larger than {}, the most postctl imports at once; split it into smaller files",
                path.display(),
                crate::fs::describe_limit(MAX_IMPORT_BYTES)
            ))
        })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_json =
        name.to_ascii_lowercase().ends_with(".json") || text.trim_start().starts_with('[');
    if is_json {
        json_rows(&name, &text)
    } else {
        csv_rows(&name, &text)
    }
}

fn fail(location: &str, field: &str, reason: impl Into<String>) -> Error {
    Error::Import {
        location: location.into(),
        field: field.into(),
        reason: reason.into(),
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

fn non_empty(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// What is wrong with a CSV row, in the user's words rather than the csv crate's.
fn csv_problem(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "the row has {len} field{} where the header has {expected_len}; put a field that contains a comma in double quotes (\"Hello, world\"), and give every row the header's columns",
            if *len == 1 { "" } else { "s" }
        ),
        csv::ErrorKind::Utf8 { .. } => "the row is not UTF-8 text; save the file as UTF-8".into(),
        _ => error.to_string(),
    }
}

fn csv_rows(name: &str, text: &str) -> Result<Vec<ImportRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| fail(&format!("{name} line 1"), "header", e.to_string()))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if let Some(unknown) = header.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(fail(
            &format!("{name} line 1"),
            unknown,
            format!(
                "unknown column; the columns are {}",
                COLUMNS[..9].join(", ")
            ),
        ));
    }
    if !header.iter().any(|h| h == "text") {
        return Err(fail(
            &format!("{name} line 1"),
            "text",
            "the header has no text column; the first line must name the columns, e.g. text,to,at",
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            fail(&format!("{name} line {line}"), "row", csv_problem(&e))
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut row = ImportRow {
            location: format!("{name} line {line}"),
            ..ImportRow::default()
        };
        for (column, value) in header.iter().zip(record.iter()) {
            match column.as_str() {
                "text" => row.text = value.to_string(),
                "to" => row.to = words(value),
                "at" => row.at = non_empty(value),
                "tz" => row.tz = non_empty(value),
                "every" => row.every = non_empty(value),
                "title" => row.title = non_empty(value),
                "labels" => row.labels = words(value),
                "media" => row.media = words(value),
                "alt" => row.alt = value.split('|').map(|a| a.trim().to_string()).collect(),
                "id" => row.id = non_empty(value),
                _ => {}
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

fn json_rows(name: &str, text: &str) -> Result<Vec<ImportRow>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        fail(
            &format!("{name} line {} column {}", e.line(), e.column()),
            "json",
            format!("not valid JSON ({e})"),
        )
    })?;
    let Value::Array(items) = value else {
        return Err(fail(
            name,
            "json",
            "expected an array of posts: [{\"text\": \"...\", \"to\": \"masto\", \"at\": \"2026-12-01 09:00\"}]",
        ));
    };
    let mut rows = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let location = format!("{name} item {}", index + 1);
        let Value::Object(fields) = item else {
            return Err(fail(
                &location,
                "item",
                "expected an object with text, to, at...",
            ));
        };
        let mut row = ImportRow {
            location: location.clone(),
            ..ImportRow::default()
        };
        for (key, value) in fields {
            let string = || -> Result<Option<String>> {
                match value {
                    Value::Null => Ok(None),
                    Value::String(s) => Ok(non_empty(s)),
                    _ => Err(fail(&location, key, "expected a string")),
                }
            };
            let list = |split: fn(&str) -> Vec<String>| -> Result<Vec<String>> {
                match value {
                    Value::Null => Ok(vec![]),
                    Value::String(s) => Ok(split(s)),
                    Value::Array(items) => items
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(String::from)
                                .ok_or_else(|| fail(&location, key, "expected a list of strings"))
                        })
                        .collect(),
                    _ => Err(fail(
                        &location,
                        key,
                        "expected a string or a list of strings",
                    )),
                }
            };
            match key.as_str() {
                "text" | "body" => row.text = string()?.unwrap_or_default(),
                "to" => row.to = list(words)?,
                "at" => row.at = string()?,
                "tz" => row.tz = string()?,
                "every" => row.every = string()?,
                "title" => row.title = string()?,
                "labels" => row.labels = list(words)?,
                "media" => row.media = list(words)?,
                "alt" => row.alt = list(|s| vec![s.to_string()])?,
                "attachments" => row.attachments = attachments(&location, value)?,
                "id" => row.id = string()?,
                // What `postctl export --format json` adds beside the columns.
                "state" | "targets" => {}
                other => {
                    return Err(fail(
                        &location,
                        other,
                        format!("unknown key; the keys are {}", COLUMNS[..9].join(", ")),
                    ));
                }
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

fn attachments(location: &str, value: &Value) -> Result<Vec<Attachment>> {
    let bad = || {
        fail(
            location,
            "attachments",
            "expected a list of {\"sha256\", \"file_name\", \"alt\"} objects as `postctl export --format json` writes",
        )
    };
    let Value::Array(items) = value else {
        return match value {
            Value::Null => Ok(vec![]),
            _ => Err(bad()),
        };
    };
    items
        .iter()
        .map(|item| {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(String::from);
            Ok(Attachment {
                sha256: text("sha256")
                    .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
                    .ok_or_else(bad)?,
                file_name: text("file_name").unwrap_or_default(),
                alt: text("alt"),
            })
        })
        .collect()
}

/// What an import does with one row.
#[derive(Debug, Clone)]
pub enum Planned {
    /// A new post, under the row's id when it has one.
    Create { id: Option<String>, post: NewPost },
    /// The post with the row's id is here, with other content or another time: it is
    /// changed to match the row.
    Update {
        id: String,
        change: PostChange,
        schedule: Option<ScheduleChange>,
    },
    /// The post with the row's id is here and stays as it is, for `reason`.
    Skip { id: String, reason: String },
}

impl Planned {
    /// The write this row needs, if any.
    pub fn write(&self) -> Option<ImportWrite<'_>> {
        match self {
            Planned::Create { id, post } => Some(ImportWrite::Create {
                id: id.as_deref(),
                post,
            }),
            Planned::Update {
                id,
                change,
                schedule,
            } => Some(ImportWrite::Update {
                id,
                change,
                schedule: schedule.as_ref(),
            }),
            Planned::Skip { .. } => None,
        }
    }
}

/// Checks every row and decides what to do with it: rows without an id, or with one this
/// database has never seen, become new posts; a row whose post is here updates it, or
/// skips it when nothing differs or it can no longer change. The first bad row stops the
/// plan with an error naming the row and the column. Media paths are relative to
/// `base_dir` and are copied into `media_dir`.
pub fn plan_import(
    store: &Store,
    rows: &[ImportRow],
    cx: &ParseContext,
    allow_past: bool,
    base_dir: &Path,
    media_dir: &Path,
) -> Result<Vec<Planned>> {
    let names: HashMap<String, String> = store
        .accounts()?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let mut plan = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(id) = row.id.as_deref() else {
            let post = plan_row(store, row, cx, allow_past, base_dir, media_dir, None)?;
            plan.push(Planned::Create { id: None, post });
            continue;
        };
        if !is_post_id(id) {
            return Err(fail(
                &row.location,
                "id",
                format!("{id:?} is not a postctl post id; leave the column empty for a new post"),
            ));
        }
        if let Some(first) = seen.insert(id, &row.location) {
            return Err(fail(
                &row.location,
                "id",
                format!("post {id} is already in {first}; each post may appear once"),
            ));
        }
        match store.post_presence(id)? {
            Presence::Absent => {
                let post = plan_row(store, row, cx, allow_past, base_dir, media_dir, None)?;
                plan.push(Planned::Create {
                    id: Some(id.to_string()),
                    post,
                });
            }
            Presence::Removed => plan.push(Planned::Skip {
                id: id.to_string(),
                reason: "it was removed here".into(),
            }),
            Presence::Live => {
                let existing = store.post(id)?;
                let post = plan_row(
                    store,
                    row,
                    cx,
                    allow_past,
                    base_dir,
                    media_dir,
                    existing.due,
                )?;
                plan.push(decide(&existing, post, &names));
            }
        }
    }
    Ok(plan)
}

/// A full post id as postctl writes them: a lowercase hyphenated UUID.
fn is_post_id(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|uuid| uuid.hyphenated().to_string() == id)
}

/// What to do with a row whose post is already here: nothing when it says what the post
/// says; else update it, unless it can no longer change. `names` maps account ids to names.
fn decide(existing: &Post, planned: NewPost, names: &HashMap<String, String>) -> Planned {
    let id = existing.id.clone();
    let mut change = PostChange::default();
    if existing.body != planned.body {
        change.body = Some(planned.body.clone());
    }
    if existing.title != planned.title {
        change.title = Some(planned.title.clone());
    }
    if existing.labels != planned.labels {
        change.labels = Some(planned.labels.clone());
    }
    let media = |list: &[MediaRef]| {
        list.iter()
            .map(|m| (m.sha256.clone(), m.alt.clone()))
            .collect::<Vec<_>>()
    };
    if media(&existing.media) != media(&planned.media) {
        change.media = Some(planned.media.clone());
    }
    let mut now_to: Vec<&str> = existing
        .targets
        .iter()
        .map(|t| t.account.as_str())
        .collect();
    let mut then_to: Vec<&str> = planned
        .targets
        .iter()
        .map(|t| names.get(&t.account_id).map_or("", String::as_str))
        .collect();
    now_to.sort_unstable();
    then_to.sort_unstable();
    if now_to != then_to {
        change.accounts = Some(
            planned
                .targets
                .iter()
                .map(|t| t.account_id.clone())
                .collect(),
        );
    }
    let due = planned.targets.iter().find_map(|t| t.due);
    let schedule = due
        .filter(|due| existing.due != Some(*due) || existing.schedule != planned.schedule)
        .map(|due| ScheduleChange {
            schedule: planned.schedule.clone(),
            due,
            tz: planned.tz.clone(),
            per_account: HashMap::new(),
        });
    let changed = change.body.is_some()
        || change.title.is_some()
        || change.labels.is_some()
        || change.media.is_some()
        || change.accounts.is_some()
        || schedule.is_some();
    if !changed {
        return Planned::Skip {
            id,
            reason: "unchanged".into(),
        };
    }
    if existing.summary_state() == Some(TargetState::Cancelled) {
        return Planned::Skip {
            id,
            reason: "it was cancelled here; schedule it again with `postctl schedule`".into(),
        };
    }
    if let Some(target) = existing
        .targets
        .iter()
        .find(|t| !t.state.is_editable() && t.state != TargetState::Cancelled)
    {
        return Planned::Skip {
            id,
            reason: format!(
                "its target {} is {}, so it can no longer change",
                target.account, target.state
            ),
        };
    }
    Planned::Update {
        id,
        change,
        schedule,
    }
}

/// `stored_due` is the time of the post the row's id names, if it is here: a row keeping
/// that time may be in the past (the post went out), others may not.
fn plan_row(
    store: &Store,
    row: &ImportRow,
    cx: &ParseContext,
    allow_past: bool,
    base_dir: &Path,
    media_dir: &Path,
    stored_due: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<NewPost> {
    let at = |field: &str, e: Error| fail(&row.location, field, e.to_string());
    if row.text.trim().is_empty() && row.media.is_empty() && row.attachments.is_empty() {
        return Err(fail(
            &row.location,
            "text",
            "empty; every post needs text or media",
        ));
    }
    let tz: Tz = match &row.tz {
        Some(name) => parse_zone(name).map_err(|e| at("tz", e.into()))?,
        None => cx.tz,
    };
    let cx = ParseContext { tz, ..*cx };
    let accounts = store
        .resolve_destinations(&row.to)
        .map_err(|e| at("to", e))?;
    let mut due = match &row.at {
        Some(text) => {
            let when = parse_when(text, &cx).map_err(|e| at("at", e.into()))?;
            if !allow_past && stored_due != Some(when) {
                ensure_not_past(when, cx.now, tz).map_err(|e| at("at", e.into()))?;
            }
            Some(when)
        }
        None => None,
    };
    let schedule = match &row.every {
        Some(text) => {
            let rule: WeeklyRule = text
                .parse()
                .map_err(|e: crate::time::TimeError| at("every", e.into()))?;
            if due.is_none() {
                due = rule.next_after(cx.now, tz);
            }
            Schedule::Every {
                rule: rule.to_string(),
            }
        }
        None if due.is_some() => Schedule::At,
        None => Schedule::None,
    };
    if due.is_some() && accounts.is_empty() {
        return Err(fail(
            &row.location,
            "to",
            "empty; a scheduled post needs accounts or groups to publish to",
        ));
    }
    let mut media = Vec::with_capacity(row.media.len());
    for (index, file) in row.media.iter().enumerate() {
        let alt = row.alt.get(index).cloned().filter(|a| !a.is_empty());
        let stored = crate::media::import(&media_path(file, base_dir, media_dir), alt, media_dir)
            .map_err(|e| at("media", e))?;
        media.push(stored);
    }
    for attachment in &row.attachments {
        media.push(
            stored_attachment(attachment, media_dir)
                .map_err(|reason| fail(&row.location, "attachments", reason))?,
        );
    }
    Ok(NewPost {
        body: row.text.clone(),
        title: row.title.clone(),
        labels: row.labels.clone(),
        media,
        tz: tz.name().to_string(),
        schedule,
        thread: Default::default(),
        targets: accounts
            .into_iter()
            .map(|account| NewTarget {
                account_id: account.id,
                due,
            })
            .collect(),
    })
}

/// Where a media file of a row is: relative to the import file, or, for a name as
/// `postctl export --format csv` writes them (`<sha256>.<ext>`) that is not there, in the
/// data dir's media folder.
fn media_path(file: &str, base_dir: &Path, media_dir: &Path) -> PathBuf {
    let beside = base_dir.join(file);
    let stored_name = file.split_once('.').is_some_and(|(hash, ext)| {
        hash.len() == 64
            && hash.chars().all(|c| c.is_ascii_hexdigit())
            && !ext.contains(['/', '\\'])
    });
    if stored_name && !beside.exists() && media_dir.join(file).exists() {
        media_dir.join(file)
    } else {
        beside
    }
}

/// The stored file of an exported attachment, checked against its hash.
fn stored_attachment(
    attachment: &Attachment,
    media_dir: &Path,
) -> Result<crate::model::MediaRef, String> {
    let missing = || {
        format!(
            "the media file {} ({}) is not in {}; give the file in a media column instead",
            attachment.file_name,
            attachment.sha256,
            media_dir.display()
        )
    };
    let entries = std::fs::read_dir(media_dir).map_err(|_| missing())?;
    let path = entries
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.file_stem().and_then(|s| s.to_str()) == Some(attachment.sha256.as_str()))
        .ok_or_else(missing)?;
    let mut media = crate::media::import(&path, attachment.alt.clone(), media_dir)
        .map_err(|e| e.to_string())?;
    if media.sha256 != attachment.sha256 {
        return Err(format!(
            "{} no longer matches its hash {}",
            path.display(),
            attachment.sha256
        ));
    }
    if !attachment.file_name.is_empty() {
        media.file_name = attachment.file_name.clone();
    }
    Ok(media)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_name_their_lines_and_split_lists() {
        let rows = csv_rows(
            "posts.csv",
            "text,to,at,labels\n\"Hello, world\",masto bsky,2026-12-01 09:00,launch\nSecond,release,,\n",
        )
        .expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].location, "posts.csv line 2");
        assert_eq!(rows[0].text, "Hello, world");
        assert_eq!(rows[0].to, vec!["masto", "bsky"]);
        assert_eq!(rows[0].at.as_deref(), Some("2026-12-01 09:00"));
        assert_eq!(rows[1].at, None);
        assert_eq!(rows[1].location, "posts.csv line 3");
    }

    #[test]
    fn a_ragged_row_is_explained_in_plain_words() {
        let message = csv_rows("posts.csv", "text,to\nHello, world,masto\n")
            .expect_err("three fields under two columns")
            .to_string();
        assert!(message.contains("posts.csv line 2"), "{message}");
        assert!(
            message.contains("the row has 3 fields where the header has 2"),
            "{message}"
        );
        assert!(message.contains("double quotes"), "{message}");
        assert!(!message.contains("found record with"), "{message}");
    }

    #[test]
    fn bad_files_are_refused_with_their_place() {
        let cases = [
            (
                "posts.csv",
                "txt,to\nhello,masto\n",
                "posts.csv line 1, \"txt\"",
            ),
            ("posts.csv", "to,at\nmasto,\n", "\"text\""),
            (
                "posts.csv",
                "text,to\nhello,masto,extra\n",
                "posts.csv line 2",
            ),
            (
                "posts.json",
                "[{\"text\": 3}]",
                "posts.json item 1, \"text\"",
            ),
            (
                "posts.json",
                "[{\"text\": \"a\", \"colour\": \"red\"}]",
                "\"colour\"",
            ),
            ("posts.json", "{\"text\": \"a\"}", "array"),
            ("posts.json", "[{\"text\": \"a\",}]", "line 1"),
        ];
        for (name, text, expected) in cases {
            let result = if name.ends_with(".json") {
                json_rows(name, text)
            } else {
                csv_rows(name, text)
            };
            let err = result.expect_err(text).to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(err.contains("nothing was imported"), "{err}");
        }
    }
}
