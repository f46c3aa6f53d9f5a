//! The report as CSV: one row per post published in the period on each account, with its
//! counters at the end of the period, one column per counter any of them has (empty where
//! a post has none of it: never a fake zero). Totals and audiences are in the other
//! formats.

use std::io::Write;

use chrono_tz::Tz;

use super::{Report, counter_order};
use crate::error::{Error, Result};

pub(super) fn render(report: &Report, tz: Tz, out: &mut dyn Write) -> Result<()> {
    let names = counter_order(
        report
            .accounts
            .iter()
            .flat_map(|a| &a.posts)
            .filter_map(|p| p.counters.as_ref())
            .flat_map(|c| c.keys()),
    );
    let mut writer = ::csv::Writer::from_writer(out);
    let fail = |e: ::csv::Error| Error::Internal(format!("the report could not be written: {e}"));
    let mut header = vec![
        "account",
        "network",
        "post_id",
        "published",
        "title",
        "url",
        "standing",
        "engagement",
    ];
    header.extend(names.iter().copied());
    writer.write_record(&header).map_err(fail)?;
    for a in &report.accounts {
        for p in &a.posts {
            let standing = match (&p.counters, p.deleted, &a.collection.posts_not_provided) {
                (_, Some(_), _) => "deleted",
                (Some(_), None, _) => "read",
                (None, None, Some(_)) => "not provided",
                (None, None, None) => "not read yet",
            };
            let mut record = vec![
                a.account.clone(),
                a.network.name().to_string(),
                p.post_id.clone(),
                p.published
                    .with_timezone(&tz)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                p.title.clone(),
                p.url.clone().unwrap_or_default(),
                standing.to_string(),
                p.engagement.map(|n| n.to_string()).unwrap_or_default(),
            ];
            for name in &names {
                record.push(
                    p.counters
                        .as_ref()
                        .and_then(|c| c.get(*name))
                        .map(u64::to_string)
                        .unwrap_or_default(),
                );
            }
            writer.write_record(&record).map_err(fail)?;
        }
    }
    writer.flush().map_err(|e| Error::io("the report", e))
}
