//! Moving posts in and out of postctl: JSON, CSV and iCalendar export; CSV and JSON import.

mod ics;
mod import;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::model::{Post, Schedule};

pub use ics::to_ics;
pub use import::{ImportRow, plan_import, read_rows};

/// One post as exported: the columns `postctl import` reads, plus what happened to it.
#[derive(Debug, Serialize)]
pub struct ExportedPost<'a> {
    pub id: &'a str,
    pub state: Option<&'static str>,
    /// RFC 3339 in the post's zone; empty for drafts.
    pub at: Option<String>,
    pub tz: &'a str,
    pub every: Option<&'a str>,
    pub to: Vec<&'a str>,
    pub title: Option<&'a str>,
    pub labels: &'a [String],
    pub text: &'a str,
    pub attachments: &'a [crate::model::MediaRef],
    pub targets: &'a [crate::model::Target],
}

impl<'a> ExportedPost<'a> {
    pub fn new(post: &'a Post) -> Self {
        let tz: Tz = post.tz.parse().unwrap_or(Tz::UTC);
        ExportedPost {
            id: &post.id,
            state: post.summary_state().map(|s| s.as_str()),
            at: post.due.map(|due| local_rfc3339(due, tz)),
            tz: &post.tz,
            every: match &post.schedule {
                Schedule::Every { rule } => Some(rule),
                _ => None,
            },
            to: post.targets.iter().map(|t| t.account.as_str()).collect(),
            title: post.title.as_deref(),
            labels: &post.labels,
            text: &post.body,
            attachments: &post.media,
            targets: &post.targets,
        }
    }
}

fn local_rfc3339(when: DateTime<Utc>, tz: Tz) -> String {
    when.with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The posts as a JSON array (pretty-printed).
pub fn to_json(posts: &[Post]) -> String {
    let rows: Vec<ExportedPost<'_>> = posts.iter().map(ExportedPost::new).collect();
    serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into()) + "\n"
}

/// The posts as CSV with a header row, in the columns `postctl import` reads.
pub fn to_csv(posts: &[Post]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "id", "state", "at", "tz", "every", "to", "title", "labels", "text",
    ];
    let mut write = |record: &[&str]| out.write_record(record).is_ok();
    write(&header);
    for post in posts {
        let row = ExportedPost::new(post);
        let to = row.to.join(" ");
        let labels = row.labels.join(" ");
        write(&[
            row.id,
            row.state.unwrap_or(""),
            row.at.as_deref().unwrap_or(""),
            row.tz,
            row.every.unwrap_or(""),
            &to,
            row.title.unwrap_or(""),
            &labels,
            row.text,
        ]);
    }
    let bytes = out.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}
