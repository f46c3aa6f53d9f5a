//! The daily digest: at a time each user picks in their zone, what was published and what
//! failed in each of their workspaces over the day before, which posts wait for approval,
//! and the top post when an analytics report named one. Pure functions over the events
//! the storage kept; the worker sends the result like any other message.

use std::collections::BTreeMap;

use chrono::{Duration, LocalResult, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::{Message, html_escape};
use crate::storage::NotificationEvent;

/// The span a digest covers.
pub const DAY_MS: i64 = 24 * 3_600_000;
/// How far back an approval asked for and not yet decided still counts as waiting.
pub const APPROVAL_LOOKBACK_MS: i64 = 7 * DAY_MS;

/// Reads `HH:MM` as minutes after midnight.
pub fn parse_time(text: &str) -> Option<u32> {
    let time = NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()?;
    use chrono::Timelike;
    Some(time.hour() * 60 + time.minute())
}

/// Minutes after midnight as `HH:MM`.
pub fn time_text(at_minute: u32) -> String {
    format!("{:02}:{:02}", at_minute / 60, at_minute % 60)
}

/// The first moment after `now_ms` when the clock in `zone` shows `at_minute`. On a day
/// the clock skips that time (a daylight-saving gap) it is the first moment after the gap;
/// on a day it shows it twice, the first.
pub fn next_after(at_minute: u32, zone: Tz, now_ms: i64) -> i64 {
    let now = Utc
        .timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_else(Utc::now)
        .with_timezone(&zone);
    let time = NaiveTime::from_hms_opt(at_minute / 60 % 24, at_minute % 60, 0).unwrap_or_default();
    let mut day = now.date_naive();
    for _ in 0..3 {
        let local = day.and_time(time);
        let at = match zone.from_local_datetime(&local) {
            LocalResult::Single(t) => t,
            LocalResult::Ambiguous(first, _) => first,
            LocalResult::None => {
                // In the gap: the same wall time an hour later exists.
                match zone.from_local_datetime(&(local + Duration::hours(1))) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
                    LocalResult::None => {
                        day = day.succ_opt().unwrap_or(day);
                        continue;
                    }
                }
            }
        };
        if at.timestamp_millis() > now_ms {
            return at.timestamp_millis();
        }
        day = day.succ_opt().unwrap_or(day);
    }
    now_ms + DAY_MS
}

/// One workspace's part of a digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub workspace: String,
    /// The posts published (their titles or first words), in order.
    pub published: Vec<String>,
    /// The posts that failed, missed their time or may not have been published, with why.
    pub failed: Vec<String>,
    /// The posts waiting for approval.
    pub waiting: Vec<String>,
    /// The top post of an analytics report in the day, with its figure.
    pub top_post: Option<String>,
}

impl Section {
    pub fn is_empty(&self) -> bool {
        self.published.is_empty()
            && self.failed.is_empty()
            && self.waiting.is_empty()
            && self.top_post.is_none()
    }
}

fn body(event: &NotificationEvent) -> Value {
    serde_json::from_str(&event.payload).unwrap_or(Value::Null)
}

fn post_label(data: &Value) -> String {
    let post = &data["post"];
    post["title"]
        .as_str()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| post["body"].as_str())
        .map(|t| {
            let words = t.split_whitespace().collect::<Vec<_>>().join(" ");
            if words.chars().count() > 60 {
                format!("{}…", words.chars().take(60).collect::<String>())
            } else {
                words
            }
        })
        .or_else(|| post["id"].as_str().map(str::to_string))
        .or_else(|| data["post_id"].as_str().map(str::to_string))
        .unwrap_or_else(|| "a post".into())
}

fn post_id(data: &Value) -> Option<String> {
    data["post"]["id"]
        .as_str()
        .or_else(|| data["post_id"].as_str())
        .map(str::to_string)
}

/// A workspace's section from its events of the last [`APPROVAL_LOOKBACK_MS`] before
/// `until_ms` (oldest first): published and failed over the last day, approvals asked for
/// and not decided since.
pub fn section(workspace: &str, events: &[NotificationEvent], until_ms: i64) -> Section {
    let day_start = until_ms - DAY_MS;
    let mut out = Section {
        workspace: workspace.to_string(),
        ..Section::default()
    };
    let mut waiting: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for event in events.iter().filter(|e| e.created_ms < until_ms) {
        let body = body(event);
        let data = &body["data"];
        let today = event.created_ms >= day_start;
        match event.event_type.as_str() {
            "post.published" if today => out.published.push(post_label(data)),
            "post.failed" | "post.missed" | "post.uncertain" if today => {
                let why = data["error"]
                    .as_str()
                    .or(data["reason"].as_str())
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default();
                let how = match event.event_type.as_str() {
                    "post.missed" => "missed its time",
                    "post.uncertain" => "uncertain",
                    _ => "failed",
                };
                out.failed.push(format!("{}: {how}{why}", post_label(data)));
            }
            "approval.requested" => {
                if let Some(id) = post_id(data) {
                    waiting.insert(id, (event.created_ms, post_label(data)));
                }
            }
            "approval.decided" => {
                if let Some(id) = post_id(data) {
                    waiting.remove(&id);
                }
            }
            "analytics.report_ready" if today => {
                let top = &data["top_post"];
                if let Some(label) = top["title"]
                    .as_str()
                    .or(top["body"].as_str())
                    .or(top["id"].as_str())
                {
                    let figure = top["engagement"]
                        .as_u64()
                        .map(|n| format!(" ({n} interactions)"))
                        .unwrap_or_default();
                    out.top_post = Some(format!("{label}{figure}"));
                }
            }
            _ => {}
        }
    }
    let mut waiting: Vec<(i64, String)> = waiting.into_values().collect();
    waiting.sort();
    out.waiting = waiting.into_iter().map(|(_, label)| label).collect();
    out
}

/// The digest message for `sections` (empty ones left out); `None` when nothing happened.
pub fn message(user: &str, date: &str, sections: &[Section]) -> Option<Message> {
    let sections: Vec<&Section> = sections.iter().filter(|s| !s.is_empty()).collect();
    if sections.is_empty() {
        return None;
    }
    let title = format!("postctl digest for {user}, {date}");
    let mut text = vec![title.clone()];
    let mut html = format!("<html><body><h1>{}</h1>", html_escape(&title));
    for s in sections {
        text.push(String::new());
        text.push(format!("{}:", s.workspace));
        html.push_str(&format!("<h2>{}</h2>", html_escape(&s.workspace)));
        let lists: [(&str, &[String]); 3] = [
            ("Published", &s.published),
            ("Failed", &s.failed),
            ("Waiting for approval", &s.waiting),
        ];
        for (label, items) in lists {
            text.push(format!("  {label}: {}", items.len()));
            html.push_str(&format!(
                "<h3>{} ({})</h3>",
                html_escape(label),
                items.len()
            ));
            if !items.is_empty() {
                html.push_str("<ul>");
                for item in items {
                    text.push(format!("    - {item}"));
                    html.push_str(&format!("<li>{}</li>", html_escape(item)));
                }
                html.push_str("</ul>");
            }
        }
        if let Some(top) = &s.top_post {
            text.push(format!("  Top post: {top}"));
            html.push_str(&format!("<p>Top post: {}</p>", html_escape(top)));
        }
    }
    html.push_str("</body></html>");
    Some(Message {
        title,
        text: text.join("\n"),
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T0: i64 = 1_780_000_000_000;

    fn event(kind: &str, at: i64, data: Value) -> NotificationEvent {
        NotificationEvent {
            id: format!("{kind}-{at}"),
            workspace_id: "w".into(),
            event_type: kind.into(),
            payload: json!({"type": kind, "data": data}).to_string(),
            created_ms: at,
        }
    }

    #[test]
    fn the_next_digest_is_the_next_local_time() {
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        // 2026-03-28 12:00 UTC (13:00 in Berlin, winter time).
        let now = Utc
            .with_ymd_and_hms(2026, 3, 28, 12, 0, 0)
            .unwrap()
            .timestamp_millis();
        let cases = [
            // Later today: 18:30 local is 17:30 UTC.
            (18 * 60 + 30, Utc.with_ymd_and_hms(2026, 3, 28, 17, 30, 0)),
            // Passed today: tomorrow, after the change to summer time (UTC+2).
            (8 * 60, Utc.with_ymd_and_hms(2026, 3, 29, 6, 0, 0)),
            // 02:30 does not exist on 29 March in Berlin: 03:30 summer time.
            (2 * 60 + 30, Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0)),
        ];
        for (at, expected) in cases {
            assert_eq!(
                next_after(at, berlin, now),
                expected.unwrap().timestamp_millis(),
                "{}",
                time_text(at)
            );
        }
        // Exactly at the time: the next day's.
        let at_time = Utc
            .with_ymd_and_hms(2026, 3, 28, 17, 30, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            next_after(18 * 60 + 30, berlin, at_time),
            at_time + DAY_MS - 3_600_000
        );
        assert_eq!(parse_time("07:05"), Some(425));
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_time("7pm"), None);
    }

    #[test]
    fn a_section_says_what_the_day_brought() {
        let until = T0 + DAY_MS;
        let events = vec![
            // Before the day: not published today, but its approval still waits.
            event(
                "post.published",
                T0 - 1,
                json!({"post": {"id": "old", "title": "Old"}}),
            ),
            event(
                "approval.requested",
                T0 - 5 * 3_600_000,
                json!({"post": {"id": "p3", "title": "Needs a yes"}}),
            ),
            event(
                "post.published",
                T0 + 10,
                json!({"post": {"id": "p1", "title": "Launch"}}),
            ),
            event(
                "post.failed",
                T0 + 20,
                json!({"post": {"id": "p2", "body": "Second post body"}, "error": "HTTP 500"}),
            ),
            event(
                "post.missed",
                T0 + 30,
                json!({"post": {"id": "p4", "title": "Late"}}),
            ),
            event(
                "approval.requested",
                T0 + 40,
                json!({"post": {"id": "p5", "title": "Decided"}}),
            ),
            event(
                "approval.decided",
                T0 + 50,
                json!({"post": {"id": "p5"}, "decision": "approved"}),
            ),
            event(
                "analytics.report_ready",
                T0 + 60,
                json!({"top_post": {"title": "Launch", "engagement": 42}}),
            ),
            // After the digest's time: next digest's.
            event(
                "post.published",
                until + 1,
                json!({"post": {"id": "p6", "title": "Tomorrow"}}),
            ),
        ];
        let s = section("acme", &events, until);
        assert_eq!(s.published, ["Launch"]);
        assert_eq!(
            s.failed,
            [
                "Second post body: failed (HTTP 500)",
                "Late: missed its time"
            ]
        );
        assert_eq!(s.waiting, ["Needs a yes"]);
        assert_eq!(s.top_post.as_deref(), Some("Launch (42 interactions)"));
        let m = message("alice", "2026-05-28", &[s, Section::default()]).expect("a digest");
        assert_eq!(m.title, "postctl digest for alice, 2026-05-28");
        assert!(
            m.text
                .contains("acme:\n  Published: 1\n    - Launch\n  Failed: 2"),
            "{}",
            m.text
        );
        assert!(
            m.text.contains("Top post: Launch (42 interactions)"),
            "{}",
            m.text
        );
        assert!(
            m.html
                .contains("<h3>Waiting for approval (1)</h3><ul><li>Needs a yes</li></ul>"),
            "{}",
            m.html
        );
        assert_eq!(message("alice", "x", &[Section::default()]), None);
    }
}
