//! Printing: data to stdout (a table or JSON), messages to stderr, colour only where wanted.

use std::io::{IsTerminal, Write};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use postctl_core::model::{Post, TargetState};
use serde::Serialize;

use crate::exit::{CliError, CliResult};

/// Whether to colour a stream: NO_COLOR wins, then CLICOLOR_FORCE, then "is it a terminal".
fn color_for(is_terminal: bool) -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    set("CLICOLOR_FORCE") || is_terminal
}

pub fn stdout_color() -> bool {
    color_for(std::io::stdout().is_terminal())
}

pub fn stderr_color() -> bool {
    color_for(std::io::stderr().is_terminal())
}

pub fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn error_line(message: &str, color: bool) -> String {
    format!("{} {message}", paint("error:", "1;31", color))
}

/// A one-line message for the user, on stderr.
pub fn note(message: impl AsRef<str>) {
    eprintln!("{}", message.as_ref());
}

/// Writes `text` to stdout; a closed pipe (`postctl list | head`) is not an error.
pub fn print(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::failure(format!("cannot write to stdout: {e}"))),
    }
}

/// Hands `write` the file at `path` (written whole or not at all: a failure leaves the file
/// as it was), or stdout when there is none; a closed pipe is not an error.
pub fn write_out(
    path: Option<&std::path::Path>,
    write: impl FnOnce(&mut dyn Write) -> postctl_core::Result<()>,
) -> CliResult {
    let written = match path {
        Some(path) => postctl_core::fs::write_atomic(path, write),
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut out).and_then(|()| {
                out.flush().map_err(|e| postctl_core::Error::Io {
                    path: "stdout".into(),
                    source: e,
                })
            })
        }
    };
    match written {
        Err(postctl_core::Error::Io { source, .. })
            if path.is_none() && source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Ok(())
        }
        other => Ok(other?),
    }
}

pub fn print_json(value: &impl Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))?;
    print(&(text + "\n"))
}

pub fn state_color(state: TargetState) -> &'static str {
    match state {
        TargetState::Draft => "2",
        TargetState::Scheduled => "36",
        TargetState::AwaitingApproval => "34",
        TargetState::Publishing | TargetState::WaitingRetry => "33",
        TargetState::Published => "32",
        TargetState::Failed | TargetState::Missed => "31",
        TargetState::Uncertain => "35",
        TargetState::Cancelled => "2;9",
    }
}

/// "Tue 2026-12-01 09:00 CET", or "-" for none.
pub fn when(due: Option<DateTime<Utc>>, tz: Tz) -> String {
    due.map(|d| postctl_core::time::format_local(d, tz))
        .unwrap_or_else(|| "-".into())
}

/// The first line of a post's text, cut to `width` characters.
pub fn excerpt(post: &Post, width: usize) -> String {
    let line = post.title.as_deref().unwrap_or_else(|| {
        post.body
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    });
    let mut out: String = line.chars().take(width).collect();
    if line.chars().count() > width {
        out.pop();
        out.push('…');
    }
    out
}

/// A plain table with left-aligned columns; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>], color: bool) -> String {
    let columns = header.len();
    let header: Vec<String> = header.iter().map(|h| paint(h, "1", color)).collect();
    // Each cell's width is measured once: a listing can have tens of thousands of cells.
    let measured: Vec<Vec<usize>> = std::iter::once(&header)
        .chain(rows)
        .map(|row| row.iter().map(|cell| visible_width(cell)).collect())
        .collect();
    let mut widths = vec![0; columns];
    for row in &measured {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(*cell);
        }
    }
    let bytes: usize = rows.iter().flatten().map(String::len).sum();
    let mut out = String::with_capacity(
        bytes + (rows.len() + 1) * (widths.iter().sum::<usize>() + 2 * columns),
    );
    for (cells, cell_widths) in std::iter::once(&header).chain(rows).zip(&measured) {
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < cells.len() {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(cell_widths[i])
                    + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// Width of a cell without its ANSI colour codes.
pub fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}
