//! Fixed data for tests: a clock pinned at Friday 2026-11-20 11:00 in Berlin, three
//! accounts, and posts in every state.

use std::collections::HashMap;

use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;
use postctl_core::model::{Account, Post, Schedule, Target, TargetState};
use postctl_core::network::Network;
use postctl_core::platforms::{Capabilities, Idempotency};
use postctl_core::store::{Attempt, Operation, TargetStatus};
use postctl_core::text::{Counting, Format, TextLimit};

use super::effect::{Event, Loaded, Verification, VerifyFailure};
use super::state::{Settings, State};
use super::update;
use crate::keys::KeyMap;

pub const NOW: &str = "2026-11-20T10:00:00Z";
pub const TZ: Tz = chrono_tz::Europe::Berlin;

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("bad time {rfc3339} in a fixture: {e}"))
}

fn account(
    id: &str,
    name: &str,
    network: Network,
    base_url: Option<&str>,
    handle: Option<&str>,
) -> Account {
    Account {
        id: id.into(),
        name: name.into(),
        network,
        base_url: base_url.map(String::from),
        handle: handle.map(String::from),
        settings: serde_json::Value::Null,
        secret_ref: format!("file:{name}"),
        created: at("2026-11-01T10:00:00Z"),
    }
}

pub fn accounts() -> Vec<Account> {
    vec![
        account(
            "acc-bsky",
            "bsky",
            Network::Bluesky,
            None,
            Some("me.bsky.social"),
        ),
        account(
            "acc-masto",
            "masto",
            Network::Mastodon,
            Some("https://fosstodon.org"),
            Some("@me"),
        ),
        account("acc-tg", "tg", Network::Telegram, None, Some("@mychannel")),
    ]
}

fn network_of(name: &str) -> Network {
    match name {
        "bsky" => Network::Bluesky,
        "tg" => Network::Telegram,
        _ => Network::Mastodon,
    }
}

/// A post with one target per `(account, state)`, all due at `due`.
pub fn post(
    id: &str,
    body: &str,
    due: Option<&str>,
    schedule: Schedule,
    targets: &[(&str, TargetState)],
) -> Post {
    let due = due.map(at);
    Post {
        id: id.into(),
        body: body.into(),
        title: None,
        labels: vec![],
        media: vec![],
        schedule,
        due,
        tz: "Europe/Berlin".into(),
        created: at("2026-11-10T09:00:00Z"),
        updated: at("2026-11-10T09:00:00Z"),
        targets: targets
            .iter()
            .enumerate()
            .map(|(i, (account, state))| Target {
                id: format!("{id}-t{i}"),
                account: (*account).into(),
                network: network_of(account),
                state: *state,
                due,
                last_error: match state {
                    TargetState::Failed => Some("HTTP 401: the app password was refused".into()),
                    TargetState::Uncertain => Some("timed out after sending".into()),
                    _ => None,
                },
            })
            .collect(),
    }
}

use TargetState as S;

pub const LAUNCH: &str = "0193a1b2-0000-7000-8000-000000000001";
pub const NOTES: &str = "0193a1c4-0000-7000-8000-000000000002";
pub const SHIPPED: &str = "0193a1d6-0000-7000-8000-000000000003";
pub const BROKEN: &str = "0193a1e8-0000-7000-8000-000000000004";
pub const UNSURE: &str = "0193a1fa-0000-7000-8000-000000000005";
pub const DRAFT: &str = "0193a20c-0000-7000-8000-000000000006";
pub const WEEKLY: &str = "0193a21e-0000-7000-8000-000000000007";
pub const LUNCH: &str = "0193a230-0000-7000-8000-000000000008";
pub const EVENING: &str = "0193a242-0000-7000-8000-000000000009";

/// Posts in the order `Store::posts(&ListFilter::All)` gives them: by due time, drafts last.
pub fn posts() -> Vec<Post> {
    let mut launch = post(
        LAUNCH,
        "Shipped v1.2 🎉 with the new calendar view https://example.com/v1.2",
        Some("2026-11-21T08:00:00Z"),
        Schedule::At,
        &[("masto", S::Scheduled), ("bsky", S::Scheduled)],
    );
    launch.labels = vec!["release".into()];
    let mut shipped = post(
        SHIPPED,
        "Last week's changelog",
        Some("2026-11-18T16:00:00Z"),
        Schedule::At,
        &[("masto", S::Published), ("tg", S::Published)],
    );
    shipped.title = Some("Changelog".into());
    vec![
        shipped,
        post(
            BROKEN,
            "Conference talk slides are up",
            Some("2026-11-19T09:00:00Z"),
            Schedule::At,
            &[("masto", S::Published), ("bsky", S::Failed)],
        ),
        post(
            UNSURE,
            "Meetup tonight at 7",
            Some("2026-11-19T12:00:00Z"),
            Schedule::At,
            &[("tg", S::Uncertain)],
        ),
        launch,
        post(
            LUNCH,
            "Lunch & learn: thread splitting",
            Some("2026-11-21T11:00:00Z"),
            Schedule::At,
            &[("tg", S::Scheduled)],
        ),
        post(
            EVENING,
            "Evening recap",
            Some("2026-11-21T16:30:00Z"),
            Schedule::At,
            &[("bsky", S::Scheduled)],
        ),
        post(
            WEEKLY,
            "Tip of the week",
            Some("2026-11-23T09:00:00Z"),
            Schedule::Every {
                rule: "mon 10:00".into(),
            },
            &[("masto", S::Scheduled)],
        ),
        post(
            NOTES,
            "Release notes, part two",
            Some("2026-11-25T13:30:00Z"),
            Schedule::At,
            &[("masto", S::Scheduled)],
        ),
        post(
            DRAFT,
            "A draft about the roadmap",
            None,
            Schedule::None,
            &[("bsky", S::Draft)],
        ),
    ]
}

pub fn short(posts: &[Post]) -> HashMap<String, String> {
    posts
        .iter()
        .map(|p| (p.id.clone(), p.id[..8].to_string()))
        .collect()
}

pub fn operations() -> Vec<Operation> {
    let op = |seq, entity: &str, id: &str, field: &str, value: &str| Operation {
        seq,
        // A minute apart, the last one a minute before NOW.
        at: at(NOW) - chrono::Duration::minutes(8 - seq),
        entity: entity.into(),
        entity_id: id.into(),
        field: field.into(),
        value: Some(value.into()),
    };
    vec![
        op(
            1,
            "account",
            "acc-masto",
            "created",
            r#"{"name":"masto","network":"mastodon"}"#,
        ),
        op(2, "post", LAUNCH, "created", r#"{"body":"Shipped"}"#),
        op(
            3,
            "post",
            LAUNCH,
            "schedule",
            r#"{"schedule":"at","rule":null,"due_ms":1795248000000,"tz":"Europe/Berlin"}"#,
        ),
        op(
            4,
            "target",
            &format!("{SHIPPED}-t0"),
            "part",
            r#"{"index":0,"published":{"id":"1","url":"https://fosstodon.org/@me/1"}}"#,
        ),
        op(
            5,
            "target",
            &format!("{SHIPPED}-t0"),
            "state",
            r#"{"state":"published","error":null}"#,
        ),
        op(
            6,
            "target",
            &format!("{BROKEN}-t1"),
            "state",
            r#"{"state":"failed","error":"HTTP 401: the app password was refused"}"#,
        ),
        op(
            7,
            "target",
            &format!("{UNSURE}-t0"),
            "state",
            r#"{"state":"uncertain","error":"timed out after sending"}"#,
        ),
    ]
}

pub fn capabilities() -> HashMap<String, Result<Capabilities, String>> {
    let caps = |max, counting, format, threads, idempotency| Capabilities {
        limit: TextLimit { max, counting },
        format,
        max_media: 4,
        max_image_bytes: 1_000_000,
        threads,
        idempotency,
    };
    [
        (
            "masto",
            Ok(caps(
                500,
                Counting::Mastodon,
                Format::Plain,
                true,
                Idempotency::Always,
            )),
        ),
        (
            "bsky",
            Ok(caps(
                300,
                Counting::Graphemes,
                Format::Bluesky,
                true,
                Idempotency::Always,
            )),
        ),
        (
            "tg",
            Err("no secret for tg: add it again with --token-stdin".to_string()),
        ),
    ]
    .into_iter()
    .map(|(name, caps)| (name.to_string(), caps))
    .collect()
}

pub fn target_statuses() -> Vec<TargetStatus> {
    vec![
        TargetStatus {
            target_id: format!("{BROKEN}-t0"),
            account: "masto".into(),
            network: "mastodon".into(),
            state: S::Published,
            due: Some(at("2026-11-19T09:00:00Z")),
            next_attempt: None,
            attempt_count: 1,
            parts: vec![serde_json::json!({"id": "9", "url": "https://fosstodon.org/@me/9"})],
            last_error: None,
            attempts: vec![Attempt {
                part: 0,
                started: at("2026-11-19T09:00:01Z"),
                ended: at("2026-11-19T09:00:02Z"),
                outcome: "published".into(),
                http_status: Some(200),
                error: None,
            }],
            claim_expires: None,
            part_in_flight: None,
            account_waits_until: None,
        },
        TargetStatus {
            target_id: format!("{BROKEN}-t1"),
            account: "bsky".into(),
            network: "bluesky".into(),
            state: S::Failed,
            due: Some(at("2026-11-19T09:00:00Z")),
            next_attempt: None,
            attempt_count: 2,
            parts: vec![],
            last_error: Some("HTTP 401: the app password was refused".into()),
            attempts: vec![
                Attempt {
                    part: 0,
                    started: at("2026-11-19T09:00:01Z"),
                    ended: at("2026-11-19T09:00:03Z"),
                    outcome: "retry".into(),
                    http_status: Some(502),
                    error: Some("HTTP 502 from bsky.social".into()),
                },
                Attempt {
                    part: 0,
                    started: at("2026-11-19T09:00:05Z"),
                    ended: at("2026-11-19T09:00:06Z"),
                    outcome: "auth".into(),
                    http_status: Some(401),
                    error: Some("HTTP 401: the app password was refused".into()),
                },
            ],
            claim_expires: None,
            part_in_flight: None,
            account_waits_until: None,
        },
    ]
}

pub fn loaded() -> Loaded {
    let posts = posts();
    Loaded {
        short: short(&posts),
        posts,
        accounts: accounts(),
        operations: Some(operations()),
        slice: None,
        at: at(NOW),
        signed_out: Default::default(),
    }
}

/// A load as the runtime makes it: the fixture posts, the queue's lists as the first
/// `read` posts of each, `total` upcoming posts in all, read for `window`.
pub fn sliced(window: crate::app::data::Window, read: usize, total: usize) -> Loaded {
    use crate::app::data::{ListIds, Slice, Totals};
    let mut loaded = loaded();
    let all = crate::app::data::Data::new(
        loaded.posts.clone(),
        loaded.accounts.clone(),
        loaded.short.clone(),
        TZ,
    );
    let ids = |list: &[usize]| -> Vec<String> {
        list.iter()
            .take(read)
            .map(|&i| all.posts[i].id.clone())
            .collect()
    };
    loaded.slice = Some(Slice {
        window,
        lists: ListIds {
            upcoming: ids(&all.lists.upcoming),
            drafts: ids(&all.lists.drafts),
            failed: ids(&all.lists.failed),
            uncertain: ids(&all.lists.uncertain),
        },
        totals: Totals {
            upcoming: total,
            drafts: all.lists.drafts.len(),
            failed: all.lists.failed.len(),
            uncertain: all.lists.uncertain.len(),
        },
        per_account: all.per_account.clone(),
    });
    loaded
}

/// The dashboard at `width` x `height` with the fixture data loaded.
pub fn state(width: u16, height: u16) -> State {
    let mut state = State::new(Settings {
        now: at(NOW),
        tz: TZ,
        week_start: Weekday::Mon,
        color: true,
        keys: KeyMap::default(),
        default_to: vec![],
        width,
        height,
    });
    let effects = update(&mut state, Event::Loaded(Box::new(loaded())));
    assert!(effects.is_empty(), "{effects:?}");
    state
}

pub fn health() -> Vec<Verification> {
    vec![
        Verification {
            account: "masto".into(),
            at: at("2026-11-20T09:58:00Z"),
            result: Ok("@me@fosstodon.org".into()),
        },
        Verification {
            account: "bsky".into(),
            at: at("2026-11-20T09:58:00Z"),
            result: Err(VerifyFailure {
                message: "Bluesky refused the app password (HTTP 401)".into(),
                auth: true,
                retry_after_secs: None,
            }),
        },
    ]
}
