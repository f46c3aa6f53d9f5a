//! Analytics (issue 11): collecting what networks say about published posts and accounts,
//! on a schedule that follows how engagement decays, and the answers `postctl stats`
//! gives from the history kept in the store.
//!
//! The decisions are pure functions tested with tables of cases: [`schedule`] (which posts
//! are read when), [`follow_names`] (a counter a network stopped giving), [`engagement`]
//! and [`sparkline`]; [`insights`] turns the history into answers (best times, top posts,
//! growth, outliers, the trend). The collection itself ([`crate::publish::Engine::collect_metrics`])
//! reads through the accounts' adapters, paced like publishing.

mod collect;
pub mod insights;
pub mod report;
pub mod schedule;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::network::Network;
use crate::platforms::{Counters, PostReading};

pub use collect::Collect;

/// What one collection did for one account.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Collected {
    pub account: String,
    pub network: String,
    /// Posts whose counters were due and asked for.
    pub posts_asked: usize,
    /// Posts whose counters came back.
    pub posts_counted: usize,
    /// Posts the network says are gone: marked deleted, not asked again.
    pub posts_deleted: usize,
    /// Posts not yet due (read again later by the schedule).
    pub posts_not_due: usize,
    /// Posts the network has no counters for yet (asked again on the next run).
    pub posts_pending: usize,
    /// Why the network gives no post counters for this account, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posts_not_provided: Option<String>,
    /// The account's figures, when they were due and read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_figures: Option<Counters>,
    /// Why the network gives no account figures, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_not_provided: Option<String>,
    /// Counters the network stopped giving, said once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What stopped the collection of this account (the rest waits for the next run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Collected {
    pub(crate) fn new(account: &str, network: Network) -> Collected {
        Collected {
            account: account.to_string(),
            network: network.name().to_string(),
            ..Collected::default()
        }
    }
}

/// The post counters an account is known to give, after one collection's readings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    /// Counters the network gives (reactions left out: those come and go with people).
    pub seen: Vec<String>,
    /// Counters it stopped giving.
    pub dropped: Vec<String>,
    /// Counters it stopped giving in these readings: each is warned about once.
    pub newly_dropped: Vec<String>,
}

/// Follows which counters a network gives an account: a counter given before and absent
/// from every post of a collection was dropped by the network (Meta renames metrics every
/// few months); it is said once, and said again only if it comes back and goes again.
/// Readings without any counted post change nothing.
pub fn follow_names(seen: &[String], dropped: &[String], readings: &[PostReading]) -> Names {
    let present: BTreeSet<&str> = readings
        .iter()
        .filter_map(|r| match r {
            PostReading::Counted(counters) => Some(counters.keys()),
            PostReading::Deleted | PostReading::Pending => None,
        })
        .flatten()
        .map(String::as_str)
        .filter(|name| !name.starts_with("reaction:"))
        .collect();
    let any_counted = readings
        .iter()
        .any(|r| matches!(r, PostReading::Counted(_)));
    if !any_counted {
        return Names {
            seen: seen.to_vec(),
            dropped: dropped.to_vec(),
            newly_dropped: Vec::new(),
        };
    }
    let newly_dropped: Vec<String> = seen
        .iter()
        .filter(|name| !present.contains(name.as_str()) && !dropped.contains(name))
        .cloned()
        .collect();
    let dropped_now: BTreeSet<String> = dropped
        .iter()
        .chain(&newly_dropped)
        .filter(|name| !present.contains(name.as_str()))
        .cloned()
        .collect();
    let seen_now: BTreeSet<String> = seen
        .iter()
        .map(String::as_str)
        .chain(present.iter().copied())
        .filter(|name| !dropped_now.contains(*name))
        .map(str::to_string)
        .collect();
    Names {
        seen: seen_now.into_iter().collect(),
        dropped: dropped_now.into_iter().collect(),
        newly_dropped,
    }
}

/// A post's engagement: every interaction counted (likes, reposts, replies, quotes,
/// shares, reactions); bookmarks, views, reach and a network's own total of interactions
/// left out.
pub fn engagement(counters: &Counters) -> u64 {
    counters
        .iter()
        .filter(|(name, _)| {
            matches!(
                name.as_str(),
                "likes" | "reposts" | "replies" | "quotes" | "shares"
            ) || name.starts_with("reaction:")
        })
        .map(|(_, n)| *n)
        .sum()
}

/// A curve as block characters, lowest to highest, one per value, at most `width` (evenly
/// spaced values are kept when there are more). Empty for no values; a flat line for
/// values that are all equal.
pub fn sparkline(values: &[u64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let kept: Vec<u64> = if values.len() <= width {
        values.to_vec()
    } else {
        (0..width)
            .map(|i| values[i * (values.len() - 1) / (width - 1).max(1)])
            .collect()
    };
    let low = kept.iter().copied().min().unwrap_or(0);
    let high = kept.iter().copied().max().unwrap_or(0);
    kept.iter()
        .map(|&v| {
            if high == low {
                BARS[0]
            } else {
                let step = (v - low) * (BARS.len() as u64 - 1) / (high - low);
                BARS[step as usize]
            }
        })
        .collect()
}

/// What a network never gives about a post, to say beside its counters (as each
/// network documents its metrics); `None` for a network postctl reads nothing from.
/// Exhaustive: a new network is decided here.
pub fn never_given(network: Network) -> Option<&'static str> {
    match network {
        Network::Mastodon => Some("views (Mastodon counts none)"),
        Network::Bluesky => Some("views (Bluesky counts none)"),
        Network::Telegram => Some(
            "views, likes, reposts and replies (the Bot API has no view counter); reactions are counted from updates to a bot that is a channel admin, from the first collection on",
        ),
        Network::Discord => Some("views (Discord counts none); reactions need a bot account"),
        Network::Slack => Some("views (Slack counts none); reactions need a bot token"),
        Network::Matrix => Some("views (Matrix counts none)"),
        Network::Webhook => Some("anything (a webhook only receives)"),
        Network::X => Some("reactions (X has likes only)"),
        Network::Vk => Some("quotes and bookmarks (VK counts neither)"),
        Network::Instagram => Some("reposts, quotes and reactions (Instagram counts none)"),
        Network::Threads => Some("bookmarks and reactions (Threads counts neither)"),
        Network::Facebook => {
            Some("views and quotes (a Page's post fields give reactions, comments and shares)")
        }
        Network::Linkedin | Network::Nostr | Network::Reddit | Network::Devto => None,
    }
}

/// Whether postctl reads reactions by emoji from the network (a post without any shows 0
/// there, and "not given" elsewhere). Exhaustive: a new network is decided here.
pub fn counts_reactions(network: Network) -> bool {
    match network {
        Network::Discord | Network::Slack | Network::Matrix | Network::Telegram => true,
        Network::Mastodon
        | Network::Bluesky
        | Network::Webhook
        | Network::X
        | Network::Vk
        | Network::Instagram
        | Network::Facebook
        | Network::Linkedin
        | Network::Threads
        | Network::Nostr
        | Network::Reddit
        | Network::Devto => false,
    }
}

/// A span such as "7d", "48h", "2w" or "90m", for `--since`.
pub fn parse_span(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    if number <= 0 {
        return None;
    }
    match unit {
        'm' => Some(Duration::minutes(number)),
        'h' => Some(Duration::hours(number)),
        'd' => Some(Duration::days(number)),
        'w' => Some(Duration::weeks(number)),
        _ => None,
    }
}

/// `now` less `span`, for "published within the last `span`".
pub fn since(now: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    now.checked_sub_signed(span).unwrap_or(DateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(names: &[(&str, u64)]) -> PostReading {
        PostReading::Counted(names.iter().map(|(n, c)| (n.to_string(), *c)).collect())
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_counter_the_network_stops_giving_is_said_once() {
        // (seen, dropped, readings, seen after, dropped after, newly dropped)
        type Case<'a> = (
            &'a [&'a str],
            &'a [&'a str],
            Vec<PostReading>,
            &'a [&'a str],
            &'a [&'a str],
            &'a [&'a str],
        );
        let cases: Vec<Case> = vec![
            (
                &[],
                &[],
                vec![counted(&[("likes", 1)])],
                &["likes"],
                &[],
                &[],
            ),
            (
                &["likes", "quotes"],
                &[],
                vec![counted(&[("likes", 1)]), counted(&[("likes", 2)])],
                &["likes"],
                &["quotes"],
                &["quotes"],
            ),
            // Already said: not again.
            (
                &["likes"],
                &["quotes"],
                vec![counted(&[("likes", 1)])],
                &["likes"],
                &["quotes"],
                &[],
            ),
            // Back again: followed again.
            (
                &["likes"],
                &["quotes"],
                vec![counted(&[("likes", 1), ("quotes", 0)])],
                &["likes", "quotes"],
                &[],
                &[],
            ),
            // Only deleted posts: nothing is known about the counters.
            (
                &["likes"],
                &[],
                vec![PostReading::Deleted],
                &["likes"],
                &[],
                &[],
            ),
            // One post of the batch still gives it: not dropped.
            (
                &["likes", "quotes"],
                &[],
                vec![counted(&[("likes", 1)]), counted(&[("quotes", 1)])],
                &["likes", "quotes"],
                &[],
                &[],
            ),
            // Reactions come and go with people, not with the network.
            (
                &["likes"],
                &[],
                vec![counted(&[("likes", 1), ("reaction:👍", 2)])],
                &["likes"],
                &[],
                &[],
            ),
        ];
        for (seen, dropped, readings, seen_after, dropped_after, newly) in cases {
            let got = follow_names(&names(seen), &names(dropped), &readings);
            assert_eq!(
                got,
                Names {
                    seen: names(seen_after),
                    dropped: names(dropped_after),
                    newly_dropped: names(newly),
                },
                "{seen:?} {dropped:?} {readings:?}"
            );
        }
    }

    #[test]
    fn engagement_counts_interactions_only() {
        let counters: Counters = [
            ("likes", 3),
            ("reposts", 2),
            ("replies", 1),
            ("quotes", 1),
            ("bookmarks", 9),
            ("reaction:🎉", 4),
            ("shares", 2),
            ("views", 100),
            ("reach", 80),
            ("interactions", 13),
        ]
        .into_iter()
        .map(|(n, c)| (n.to_string(), c))
        .collect();
        assert_eq!(engagement(&counters), 13);
        assert_eq!(engagement(&Counters::new()), 0);
    }

    #[test]
    fn sparklines_scale_between_the_lowest_and_highest_value() {
        let cases: &[(&[u64], usize, &str)] = &[
            (&[], 10, ""),
            (&[5], 10, "▁"),
            (&[3, 3, 3], 10, "▁▁▁"),
            (&[0, 7], 10, "▁█"),
            (&[0, 1, 2, 3, 4, 5, 6, 7], 10, "▁▂▃▄▅▆▇█"),
            (
                &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
                3,
                "▁▄█",
            ),
        ];
        for &(values, width, expected) in cases {
            assert_eq!(sparkline(values, width), expected, "{values:?} {width}");
        }
    }

    #[test]
    fn spans_read_minutes_hours_days_and_weeks() {
        let cases: &[(&str, Option<Duration>)] = &[
            ("7d", Some(Duration::days(7))),
            ("48h", Some(Duration::hours(48))),
            ("2w", Some(Duration::weeks(2))),
            ("90m", Some(Duration::minutes(90))),
            ("0d", None),
            ("-1d", None),
            ("7", None),
            ("d", None),
            ("7y", None),
            ("", None),
            ("7é", None),
        ];
        for &(text, expected) in cases {
            assert_eq!(parse_span(text), expected, "{text:?}");
        }
    }
}
