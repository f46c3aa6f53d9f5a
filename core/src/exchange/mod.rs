//! Moving posts in and out of postctl: JSON, CSV and iCalendar export; CSV and JSON import.

mod ics;
mod import;

use std::io::{self, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::model::{Post, Schedule, TargetState};

pub use ics::{IcsExport, IcsSpan, to_ics};
pub use import::{ImportRow, Planned, plan_import, read_rows};

/// One post as exported: the columns `postctl import` reads, plus what happened to it.
#[derive(Debug, Serialize)]
pub struct ExportedPost<'a> {
    pub id: &'a str,
    /// The least advanced state of its targets; `draft` for a post without any.
    pub state: &'static str,
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
            state: post
                .summary_state()
                .map_or(TargetState::Draft.as_str(), |s| s.as_str()),
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
    let mut export = JsonExport::new(Vec::new());
    for post in posts {
        // Writing to memory cannot fail.
        let _ = export.post(post);
    }
    let bytes = export.finish().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Writes `postctl export --format json` one post at a time.
pub struct JsonExport<W: Write> {
    array: JsonArray<W>,
}

impl<W: Write> JsonExport<W> {
    pub fn new(out: W) -> Self {
        JsonExport {
            array: JsonArray::new(out),
        }
    }

    pub fn post(&mut self, post: &Post) -> io::Result<()> {
        self.array.push(&ExportedPost::new(post))
    }

    /// Closes the array; the writer back.
    pub fn finish(self) -> io::Result<W> {
        self.array.finish()
    }
}

/// A JSON array written one element at a time: the same bytes as pretty-printing the whole
/// array (and a newline), without holding it.
pub struct JsonArray<W: Write> {
    out: W,
    written: usize,
}

impl<W: Write> JsonArray<W> {
    pub fn new(out: W) -> Self {
        JsonArray { out, written: 0 }
    }

    pub fn push(&mut self, element: &impl Serialize) -> io::Result<()> {
        // A pretty-printed element, indented one level, is what the array would hold: JSON
        // strings cannot contain a raw newline, so every line break is the printer's.
        let element = serde_json::to_string_pretty(element)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.out
            .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
        for (i, line) in element.lines().enumerate() {
            if i > 0 {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(b"  ")?;
            self.out.write_all(line.as_bytes())?;
        }
        self.written += 1;
        Ok(())
    }

    /// Closes the array and flushes; the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.out
            .write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The CSV columns of an export, as `postctl import` reads them.
const CSV_HEADER: [&str; 11] = [
    "id", "state", "at", "tz", "every", "to", "title", "labels", "text", "media", "alt",
];

/// The posts as CSV with a header row, in the columns `postctl import` reads.
pub fn to_csv(posts: &[Post]) -> String {
    let mut export = CsvExport::new(Vec::new());
    for post in posts {
        let _ = export.post(post);
    }
    let bytes = export.finish().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Writes `postctl export --format csv` one row at a time.
///
/// Media are named by their file in the data dir's media folder (`<sha256>.<ext>`), which
/// `postctl import` finds there again; alt texts are separated by `|`, one per media.
pub struct CsvExport<W: Write> {
    out: csv::Writer<W>,
    header: bool,
}

impl<W: Write> CsvExport<W> {
    pub fn new(out: W) -> Self {
        CsvExport {
            out: csv::Writer::from_writer(out),
            header: false,
        }
    }

    pub fn post(&mut self, post: &Post) -> io::Result<()> {
        self.header()?;
        let row = ExportedPost::new(post);
        let to = row.to.join(" ");
        let labels = row.labels.join(" ");
        let media = row
            .attachments
            .iter()
            .map(|m| {
                crate::media::stored_path(Path::new(""), m)
                    .display()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(" ");
        let alt = if row.attachments.iter().any(|m| m.alt.is_some()) {
            row.attachments
                .iter()
                .map(|m| m.alt.as_deref().unwrap_or("").replace('|', "/"))
                .collect::<Vec<_>>()
                .join("|")
        } else {
            String::new()
        };
        self.out
            .write_record([
                row.id,
                row.state,
                row.at.as_deref().unwrap_or(""),
                row.tz,
                row.every.unwrap_or(""),
                &to,
                row.title.unwrap_or(""),
                &labels,
                row.text,
                &media,
                &alt,
            ])
            .map_err(csv_io)
    }

    /// Flushes the rows (and the header, for an export of no posts); the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.header()?;
        self.out
            .into_inner()
            .map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header {
            self.out.write_record(CSV_HEADER).map_err(csv_io)?;
            self.header = true;
        }
        Ok(())
    }
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MediaRef, Target};
    use crate::network::Network;

    fn post(i: usize) -> Post {
        Post {
            id: format!("0190aaaa-0000-7000-8000-00000000000{i}"),
            body: format!("Post {i}: \"quoted\",\nsecond line\twith a tab"),
            title: (i == 1).then(|| "A title".to_string()),
            labels: vec!["launch".into(), "notes".into()],
            media: vec![MediaRef {
                sha256: "ab".repeat(32),
                file_name: "shot.png".into(),
                mime: "image/png".into(),
                size: 10,
                width: Some(3),
                height: Some(2),
                alt: Some("a red square".into()),
            }],
            schedule: Schedule::Every {
                rule: "mon 09:00".into(),
            },
            due: Some(DateTime::UNIX_EPOCH),
            tz: "Europe/Berlin".into(),
            created: DateTime::UNIX_EPOCH,
            updated: DateTime::UNIX_EPOCH,
            targets: vec![Target {
                id: "t".into(),
                account: "masto".into(),
                network: Network::Mastodon,
                state: TargetState::Scheduled,
                due: None,
                last_error: None,
            }],
        }
    }

    /// The export is written a post at a time, and reads the same as printing the whole
    /// array at once did.
    #[test]
    fn the_streamed_json_is_the_pretty_printed_array() {
        for count in [0, 1, 3] {
            let posts: Vec<Post> = (0..count).map(post).collect();
            let whole: Vec<ExportedPost<'_>> = posts.iter().map(ExportedPost::new).collect();
            let expected = serde_json::to_string_pretty(&whole).expect("json") + "\n";
            assert_eq!(to_json(&posts), expected, "{count} posts");
        }
    }

    #[test]
    fn the_csv_has_the_media_and_alt_columns_import_reads() {
        let mut posts = vec![post(1), post(2)];
        posts[1].media[0].alt = None;
        posts[1].targets.clear();
        let csv = to_csv(&posts);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(header, CSV_HEADER);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        let media = format!("{}.png", "ab".repeat(32));
        assert_eq!(&rows[0][9], media);
        assert_eq!(&rows[0][10], "a red square");
        assert_eq!(&rows[0][1], "scheduled");
        assert_eq!(&rows[1][10], "", "no alt text, no column value");
        assert_eq!(&rows[1][1], "draft", "a post without accounts is a draft");
    }
}
