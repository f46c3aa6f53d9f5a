use chrono::{Duration, TimeZone};

use super::*;
use crate::analytics::insights::Measure;

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
        .single()
        .expect("time")
}

fn counters(pairs: &[(&str, u64)]) -> Counters {
    pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

fn post(id: &str, published: DateTime<Utc>, read: Option<&[(&str, u64)]>) -> PostReport {
    let counters = read.map(counters);
    PostReport {
        post_id: id.into(),
        title: format!("Post {id}"),
        url: None,
        published,
        engagement: counters.as_ref().map(engagement),
        counters,
        read: read.map(|_| published + Duration::hours(1)),
        deleted: None,
    }
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("date")
}

#[test]
fn days_run_from_midnight_to_the_midnight_after_the_last_day_in_the_zone() {
    // (first, last, zone, from, to)
    let cases: &[(&str, &str, Tz, &str, &str)] = &[
        (
            "2026-11-01",
            "2026-11-30",
            BERLIN,
            "2026-10-31T23:00:00Z",
            "2026-11-30T23:00:00Z",
        ),
        // One day.
        (
            "2026-11-20",
            "2026-11-20",
            chrono_tz::UTC,
            "2026-11-20T00:00:00Z",
            "2026-11-21T00:00:00Z",
        ),
        // Across the end of summer time: the period is 25 hours longer than 30 days' 24.
        (
            "2026-10-01",
            "2026-10-31",
            BERLIN,
            "2026-09-30T22:00:00Z",
            "2026-10-31T23:00:00Z",
        ),
        // A day whose midnight does not exist (Santiago springs forward at 00:00): it
        // starts at 01:00.
        (
            "2026-09-06",
            "2026-09-06",
            chrono_tz::America::Santiago,
            "2026-09-06T04:00:00Z",
            "2026-09-07T03:00:00Z",
        ),
    ];
    for &(first, last, tz, from, to) in cases {
        let period = days(date(first), date(last), tz).expect("a period");
        assert_eq!(
            period.from.to_rfc3339(),
            from.replace('Z', "+00:00"),
            "{first}"
        );
        assert_eq!(period.to.to_rfc3339(), to.replace('Z', "+00:00"), "{last}");
    }
    let refused = days(date("2026-11-30"), date("2026-11-01"), BERLIN);
    assert!(
        matches!(&refused, Err(Error::Invalid(m)) if m.contains("is after --to")),
        "{refused:?}"
    );
}

#[test]
fn totals_count_only_what_was_read_and_never_make_a_zero_up() {
    let read = post(
        "a",
        at(2, 9),
        Some(&[("likes", 3), ("reposts", 1), ("views", 50)]),
    );
    let other = post("b", at(3, 9), Some(&[("likes", 2), ("reaction:🎉", 4)]));
    let unread = post("c", at(4, 9), None);
    // (posts, counted, engagement, likes)
    type Case = (Vec<PostReport>, usize, Option<u64>, Option<u64>);
    let cases: Vec<Case> = vec![
        (vec![], 0, None, None),
        (vec![unread.clone()], 0, None, None),
        (vec![read.clone(), unread.clone()], 1, Some(4), Some(3)),
        (
            vec![read.clone(), other.clone(), unread.clone()],
            2,
            Some(10),
            Some(5),
        ),
    ];
    for (posts, counted, engagement, likes) in cases {
        let t = totals(&posts);
        assert_eq!(t.posts, posts.len());
        assert_eq!(t.counted, counted);
        assert_eq!(t.engagement, engagement, "{posts:?}");
        assert_eq!(t.counters.get("likes").copied(), likes);
        assert_eq!(
            t.engagement_per_post,
            engagement.map(|e| e as f64 / counted as f64)
        );
    }
    let both = totals(&[read, other]);
    assert_eq!(
        both.counters.get("views"),
        Some(&50),
        "summed, not engagement"
    );
    assert_eq!(both.counters.get("reaction:🎉"), Some(&4));
    assert_eq!(both.counters.get("quotes"), None, "never given: absent");
}

#[test]
fn top_posts_are_the_most_engaged_with_the_earlier_first_among_equals() {
    let posts = vec![
        post("a", at(2, 9), Some(&[("likes", 5)])),
        post("b", at(3, 9), None),
        post("c", at(4, 9), Some(&[("likes", 9)])),
        post("d", at(5, 9), Some(&[("likes", 5)])),
        post("e", at(6, 9), Some(&[("likes", 0)])),
    ];
    let ids = |top: Vec<PostReport>| top.into_iter().map(|p| p.post_id).collect::<Vec<_>>();
    assert_eq!(ids(top_posts(&posts, 3)), ["c", "a", "d"]);
    assert_eq!(
        ids(top_posts(&posts, 10)),
        ["c", "a", "d", "e"],
        "unread left out"
    );
    assert!(top_posts(&posts[1..2], 3).is_empty());
}

#[test]
fn the_audience_changes_from_the_reading_before_the_period_to_its_last() {
    let reading = |day, pairs: &[(&str, u64)]| (at(day, 12), counters(pairs));
    let before = reading(1, &[("followers", 100), ("following", 7)]);
    let within = vec![
        reading(3, &[("followers", 104)]),
        reading(5, &[("followers", 103)]),
        reading(9, &[("followers", 110)]),
    ];
    let a = audience(Some(&before), &within);
    assert_eq!(a.counter, Some("followers"));
    assert_eq!(a.end, Some(110));
    assert_eq!(a.change, Some(10));
    assert_eq!(a.points.len(), 3);
    // No reading before: from the first in the period.
    assert_eq!(audience(None, &within).change, Some(6));
    // One reading: no change to tell.
    assert_eq!(audience(None, &within[..1]).change, None);
    // Only a reading before the period: the end is not known, nor the change.
    let only_before = audience(Some(&before), &[]);
    assert_eq!((only_before.end, only_before.change), (None, None));
    // Members, for a chat: a loss is negative.
    let members = [
        reading(3, &[("members", 40)]),
        reading(4, &[("members", 38)]),
    ];
    let m = audience(None, &members);
    assert_eq!((m.counter, m.change), (Some("members"), Some(-2)));
    // Never read.
    assert_eq!(audience(None, &[]).counter, None);
}

fn report_of(accounts: Vec<AccountReport>) -> Report {
    let period = Period {
        from: at(10, 0),
        to: at(17, 0),
    };
    Report {
        generated: at(17, 9),
        zone: "Europe/Berlin".into(),
        period,
        previous_period: period.previous(),
        networks: networks(&accounts),
        accounts,
    }
}

fn account_report(name: &str, network: Network, posts: Vec<PostReport>) -> AccountReport {
    AccountReport {
        account: name.into(),
        network,
        audience: AudienceReport::default(),
        top_posts: top_posts(&posts, TOP_POSTS),
        totals: totals(&posts),
        previous_totals: Totals::default(),
        best_times: SlotGrid::from_samples(&[], BERLIN, Measure::Engagement),
        posts,
        collection: CollectionReport::default(),
    }
}

fn rendered(report: &Report, format: ReportFormat) -> String {
    let mut out = Vec::new();
    render(report, format, &mut out).expect("rendered");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn a_network_without_post_counters_says_why_in_every_format() {
    let mut tg = account_report("tg", Network::Telegram, vec![post("t", at(11, 9), None)]);
    tg.collection.posts_not_provided = Some("the Bot API has no view counter".into());
    tg.collection.posts_last_read = Some(at(16, 8));
    let mut masto = account_report(
        "masto",
        Network::Mastodon,
        vec![post("m", at(12, 9), Some(&[("likes", 4), ("replies", 1)]))],
    );
    masto.audience = audience(
        None,
        &[
            (at(11, 12), counters(&[("followers", 10)])),
            (at(15, 12), counters(&[("followers", 13)])),
        ],
    );
    let report = report_of(vec![masto, tg]);
    let md = rendered(&report, ReportFormat::Markdown);
    assert!(
        md.contains("| tg | Telegram | 1 | not provided | not provided | - | not read yet | - |"),
        "{md}"
    );
    assert!(
        md.contains("| masto | Mastodon | 1 | 5 | no posts | - | 13 followers | +3 |"),
        "{md}"
    );
    assert!(md.contains("their counters are not provided: the Bot API has no view counter"));
    assert!(
        md.contains("- **Telegram** (tg): never gives views, likes, reposts and replies"),
        "{md}"
    );
    assert!(md.contains("last collected 2026-11-16 09:00"), "{md}");
    assert!(
        md.contains(
            "- **Mastodon** (masto): never gives views (Mastodon counts none); never collected"
        ),
        "{md}"
    );
    let html = rendered(&report, ReportFormat::Html);
    assert!(
        html.contains("not provided: the Bot API has no view counter"),
        "{html}"
    );
    assert!(
        html.contains("<figure data-chart=\"followers\"><svg"),
        "{html}"
    );
    assert!(
        html.contains("<figure data-chart=\"engagement\"><svg"),
        "{html}"
    );
    assert!(
        !html.contains("data-chart=\"best-times\""),
        "an empty grid is not drawn"
    );
    let csv = rendered(&report, ReportFormat::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "account,network,post_id,published,title,url,standing,engagement,likes,replies"
    );
    assert_eq!(
        lines[1],
        "masto,mastodon,m,2026-11-12T10:00:00+01:00,Post m,,read,5,4,1"
    );
    assert_eq!(
        lines[2],
        "tg,telegram,t,2026-11-11T10:00:00+01:00,Post t,,not provided,,,"
    );
    let json: serde_json::Value =
        serde_json::from_str(&rendered(&report, ReportFormat::Json)).expect("JSON");
    assert_eq!(
        json["accounts"][1]["totals"]["engagement"],
        serde_json::Value::Null
    );
    assert_eq!(json["accounts"][0]["network"], "mastodon");
    assert_eq!(
        json["networks"][1]["last_collected"],
        "2026-11-16T08:00:00Z"
    );
}

#[test]
fn an_empty_report_says_what_to_do() {
    let report = report_of(Vec::new());
    assert!(rendered(&report, ReportFormat::Markdown).contains("postctl accounts add"));
    assert!(rendered(&report, ReportFormat::Html).contains("postctl accounts add"));
    assert_eq!(
        rendered(&report, ReportFormat::Csv).lines().count(),
        1,
        "the header alone"
    );
}

#[test]
fn heat_map_shades_run_from_pale_to_dark_and_empty_hours_stay_grey() {
    use charts::{HEAT_EMPTY, HEAT_HIGH, HEAT_LOW, heat_color, heat_share};
    assert_eq!(heat_color(None), HEAT_EMPTY);
    assert_eq!(heat_color(Some(0.0)), HEAT_LOW);
    assert_eq!(heat_color(Some(1.0)), HEAT_HIGH);
    assert_eq!(heat_color(Some(7.0)), HEAT_HIGH, "clamped");
    // (value, lowest, highest, share)
    let cases = [
        (5.0, Some(5.0), Some(5.0), 1.0),
        (2.0, Some(2.0), Some(10.0), 0.15),
        (10.0, Some(2.0), Some(10.0), 1.0),
        (6.0, Some(2.0), Some(10.0), 0.575),
        (3.0, None, None, 1.0),
    ];
    for (value, low, high, share) in cases {
        let got = heat_share(value, low, high);
        assert!(
            (got - share).abs() < 1e-9,
            "{value} {low:?} {high:?}: {got}"
        );
    }
}
