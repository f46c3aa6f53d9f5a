//! `postctl stats export`: the raw readings or the daily roll-ups, written a row at a time
//! as the store reads them (memory stays flat however long the history).
//!
//! CSV is long: one line per reading and counter (`at, day, account, network, post_id,
//! counter, value`), so a counter a network does not give has no line rather than a zero,
//! and a spreadsheet's pivot table makes any wide view of it. JSON is one array of
//! readings, each with its counters as an object.

use std::io::Write;

use serde_json::json;

use crate::error::{Error, Result};
use crate::store::{ExportKind, ExportRow, Store};

/// The formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Writes the readings of `kind` (of `account_id` when given) to `out`; returns how many
/// readings were written.
pub fn write(
    store: &Store,
    kind: ExportKind,
    account_id: Option<&str>,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<usize> {
    let io = |e: std::io::Error| Error::io("the export", e);
    let mut written = 0;
    match format {
        ExportFormat::Csv => {
            let mut writer = ::csv::Writer::from_writer(out);
            let fail =
                |e: ::csv::Error| Error::Internal(format!("the export could not be written: {e}"));
            writer
                .write_record([
                    "at", "day", "account", "network", "post_id", "counter", "value",
                ])
                .map_err(fail)?;
            store.each_export_row(kind, account_id, |row| {
                written += 1;
                let at = row.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                for (name, value) in &row.counters {
                    writer
                        .write_record([
                            at.as_str(),
                            row.day.as_deref().unwrap_or_default(),
                            &row.account,
                            row.network.name(),
                            row.post_id.as_deref().unwrap_or_default(),
                            name,
                            &value.to_string(),
                        ])
                        .map_err(fail)?;
                }
                Ok(())
            })?;
            writer.flush().map_err(io)?;
        }
        ExportFormat::Json => {
            out.write_all(b"[").map_err(io)?;
            store.each_export_row(kind, account_id, |row| {
                out.write_all(if written == 0 { b"\n" } else { b",\n" })
                    .map_err(io)?;
                written += 1;
                serde_json::to_writer(&mut *out, &row_json(&row)).map_err(|e| io(e.into()))
            })?;
            out.write_all(if written == 0 { b"]\n" } else { b"\n]\n" })
                .map_err(io)?;
            out.flush().map_err(io)?;
        }
    }
    Ok(written)
}

fn row_json(row: &ExportRow) -> serde_json::Value {
    let mut value = json!({
        "at": row.at,
        "account": row.account,
        "network": row.network.name(),
        "counters": row.counters,
    });
    if let Some(day) = &row.day {
        value["day"] = json!(day);
    }
    if let Some(post_id) = &row.post_id {
        value["post_id"] = json!(post_id);
    }
    value
}
