//! The [`Ledger`] contract as runnable cases, for every implementation: core's `Store`
//! runs them below (`store_ledger_keeps_the_contract`), and a server's storage runs the
//! same cases with its own [`Fixture`] through [`run_all`].
//!
//! A case panics (with what was broken) when an implementation breaks the contract, as a
//! test does.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};

use super::Ledger;
use super::circuit::{Circuit, CircuitEvent, CircuitRule, Outage};
use crate::model::{Finish, TargetState};
use crate::network::Network;
use crate::store::{AttemptRecord, Claim, Claimed};

/// A fresh, empty storage under test, and the few writes the cases need to set it up
/// (which the ledger itself does not offer: making accounts and posts is the front ends'
/// job).
#[async_trait]
pub trait Fixture: Send + Sync {
    /// The ledger under test.
    fn ledger(&self) -> Arc<dyn Ledger>;
    /// A second ledger on the same storage, as another process would open it.
    fn another(&self) -> Arc<dyn Ledger>;
    /// Adds an account; returns its id.
    async fn add_account(&self, name: &str, network: Network, base_url: Option<&str>) -> String;
    /// Adds a post scheduled at `due` to the account (by id); returns its target's id.
    async fn add_target(&self, account_id: &str, due: DateTime<Utc>) -> String;
    /// The target's state and attempt count.
    async fn target(&self, target_id: &str) -> (TargetState, u32);
}

/// Runs every case, each on a fresh fixture from `fresh`.
pub async fn run_all<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Box<dyn Fixture>>,
{
    claims_are_exclusive(fresh().await.as_ref()).await;
    a_lease_guards_its_target_until_it_runs_out(fresh().await.as_ref()).await;
    retries_wait_and_release_gives_back(fresh().await.as_ref()).await;
    account_waits_keep_the_longest(fresh().await.as_ref()).await;
    an_open_circuit_holds_its_targets_and_hands_out_one_probe(fresh().await.as_ref()).await;
    late_targets_are_missed_and_signed_out_accounts_held(fresh().await.as_ref()).await;
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

fn claim<'a>(owner: &'a str, now: DateTime<Utc>) -> Claim<'a> {
    Claim {
        owner,
        now,
        lease_until: now + Duration::minutes(2),
        late_limit: Duration::hours(6),
        limit: 100,
        per_account: 100,
        only_post: None,
        skip_accounts: &[],
    }
}

async fn claimed(ledger: &dyn Ledger, owner: &str, now: DateTime<Utc>) -> Vec<Claimed> {
    ledger
        .claim_due(&claim(owner, now))
        .await
        .expect("claim_due")
        .0
}

fn ids(targets: &[Claimed]) -> Vec<String> {
    targets.iter().map(|t| t.target_id.clone()).collect()
}

fn attempt(part: usize, at: DateTime<Utc>, outcome: &'static str) -> AttemptRecord {
    AttemptRecord {
        part,
        started: at,
        ended: at,
        outcome,
        http_status: None,
        error: None,
        in_doubt: false,
    }
}

/// Two publishers claiming at once each get a share, and no target twice; what is not due
/// yet is not claimed.
pub async fn claims_are_exclusive(f: &dyn Fixture) {
    let account = f
        .add_account("a", Network::Mastodon, Some("https://one.example"))
        .await;
    let mut due = Vec::new();
    for i in 0..20 {
        due.push(
            f.add_target(&account, t0() - Duration::seconds(60 - i))
                .await,
        );
    }
    let later = f.add_target(&account, t0() + Duration::hours(1)).await;
    let (first, second) = (f.ledger(), f.another());
    let (a, b) = tokio::join!(
        claimed(first.as_ref(), "owner-a", t0()),
        claimed(second.as_ref(), "owner-b", t0())
    );
    let mut all = ids(&a);
    all.extend(ids(&b));
    all.sort();
    let mut expected = due.clone();
    expected.sort();
    assert_eq!(all, expected, "each due target claimed exactly once");
    assert!(!all.contains(&later), "a target not due yet was claimed");
    assert_eq!(f.target(&due[0]).await.0, TargetState::Publishing);
}

/// Only the lease's owner changes a claimed target; once the lease runs out another
/// publisher takes it over, and the part that was on its way comes back in doubt.
pub async fn a_lease_guards_its_target_until_it_runs_out(f: &dyn Fixture) {
    let account = f
        .add_account("a", Network::Mastodon, Some("https://one.example"))
        .await;
    let target = f.add_target(&account, t0() - Duration::seconds(5)).await;
    let ledger = f.ledger();
    let held = claimed(ledger.as_ref(), "owner-a", t0()).await;
    assert_eq!(ids(&held), [target.as_str()]);
    let until = t0() + Duration::minutes(2);
    assert!(
        !ledger
            .begin_part(&target, "owner-b", 0, 2, until)
            .await
            .expect("begin")
    );
    assert!(
        ledger
            .begin_part(&target, "owner-a", 0, 2, until)
            .await
            .expect("begin")
    );
    ledger
        .record_part(
            &target,
            "owner-a",
            &serde_json::json!({"id": "1"}),
            &attempt(0, t0(), "published"),
        )
        .await
        .expect("record part 1");
    assert!(
        ledger
            .begin_part(&target, "owner-a", 1, 2, until)
            .await
            .expect("begin 2")
    );
    assert!(
        ledger
            .finish_target(&target, "owner-b", &Finish::Published, None)
            .await
            .is_err(),
        "a publisher without the lease finished the target"
    );
    assert!(
        claimed(f.another().as_ref(), "owner-b", t0() + Duration::minutes(1))
            .await
            .is_empty(),
        "a second claimer took a target under an unexpired lease"
    );
    let taken = claimed(
        f.another().as_ref(),
        "owner-b",
        until + Duration::seconds(1),
    )
    .await;
    assert_eq!(
        ids(&taken),
        [target.as_str()],
        "an expired lease is taken over"
    );
    assert_eq!(taken[0].interrupted_part, Some(1));
    assert_eq!(
        taken[0].parts.as_ref().map(Vec::len),
        Ok(1),
        "the recorded part is kept"
    );
    assert!(
        !ledger
            .renew_lease(&target, "owner-a", until)
            .await
            .expect("renew"),
        "the old owner renewed a lease it lost"
    );
}

/// A retry waits until its time without counting an attempt when told so; a released
/// target goes back as it was.
pub async fn retries_wait_and_release_gives_back(f: &dyn Fixture) {
    let account = f
        .add_account("a", Network::Mastodon, Some("https://one.example"))
        .await;
    let first = f.add_target(&account, t0() - Duration::seconds(5)).await;
    let second = f.add_target(&account, t0() - Duration::seconds(4)).await;
    let ledger = f.ledger();
    assert_eq!(claimed(ledger.as_ref(), "owner", t0()).await.len(), 2);
    let at = t0() + Duration::seconds(30);
    let wait = Finish::Retry {
        at,
        error: "busy".into(),
        count_attempt: false,
    };
    ledger
        .finish_target(&first, "owner", &wait, None)
        .await
        .expect("finish");
    assert_eq!(f.target(&first).await, (TargetState::WaitingRetry, 0));
    assert_eq!(ledger.release_all("owner").await.expect("release"), 1);
    assert_eq!(f.target(&second).await, (TargetState::Scheduled, 0));
    let again = claimed(ledger.as_ref(), "owner", t0() + Duration::seconds(1)).await;
    assert_eq!(
        ids(&again),
        [second.as_str()],
        "a waiting retry was claimed early"
    );
    assert_eq!(
        ledger
            .next_due_after(t0() + Duration::seconds(1), &[])
            .await
            .expect("next"),
        Some(at)
    );
}

/// A wait the network asked for is kept until it ends; a shorter one does not replace it.
pub async fn account_waits_keep_the_longest(f: &dyn Fixture) {
    let account = f
        .add_account("a", Network::Mastodon, Some("https://one.example"))
        .await;
    let ledger = f.ledger();
    let long = t0() + Duration::minutes(5);
    ledger
        .hold_account(&account, long, "slow down")
        .await
        .expect("hold");
    ledger
        .hold_account(&account, t0() + Duration::minutes(1), "less")
        .await
        .expect("hold");
    assert_eq!(
        ledger.account_wait(&account, t0()).await.expect("wait"),
        Some((long, "slow down".to_string()))
    );
    assert_eq!(
        ledger.account_wait(&account, long).await.expect("wait"),
        None
    );
}

/// Outages from two accounts open the circuit: its targets are not claimed (by anyone)
/// until the probe time, then exactly one, the earliest due, goes as the probe; a failed
/// probe frees the slot for the next one; an answer closes the circuit (one closer is told)
/// and the rest is claimed in order. Another network is not held.
pub async fn an_open_circuit_holds_its_targets_and_hands_out_one_probe(f: &dyn Fixture) {
    let url = "https://down.example";
    let a = f.add_account("a", Network::Mastodon, Some(url)).await;
    let b = f.add_account("b", Network::Mastodon, Some(url)).await;
    let elsewhere = f
        .add_account("c", Network::Mastodon, Some("https://up.example"))
        .await;
    let first = f.add_target(&a, t0() - Duration::seconds(30)).await;
    let second = f.add_target(&b, t0() - Duration::seconds(20)).await;
    let third = f.add_target(&a, t0() - Duration::seconds(10)).await;
    let other = f.add_target(&elsewhere, t0() - Duration::seconds(10)).await;
    let circuit = Circuit {
        network: Network::Mastodon,
        base_url: url.into(),
    };
    let rule = CircuitRule::default();
    let ledger = f.ledger();
    let mut opened = Vec::new();
    for (i, account) in [&a, &b, &a].into_iter().enumerate() {
        let outage = Outage {
            at: t0() - Duration::seconds(3 - i as i64),
            account_id: account.clone(),
        };
        let (_, event) = ledger
            .note_outage(&circuit, outage, "503", &rule)
            .await
            .expect("note");
        opened.extend(event);
    }
    assert!(
        matches!(
            opened.as_slice(),
            [CircuitEvent::Opened {
                failures: 3,
                accounts: 2,
                ..
            }]
        ),
        "{opened:?}"
    );
    let state = ledger
        .circuit(&circuit)
        .await
        .expect("circuit")
        .expect("a state");
    let probe_at = state.next_probe.expect("a probe time");
    assert!(state.is_open() && probe_at > t0());

    let now = claimed(ledger.as_ref(), "owner-a", t0()).await;
    assert_eq!(
        ids(&now),
        [other.as_str()],
        "only the other network's target goes"
    );
    assert_eq!(ledger.next_due().await.expect("next"), Some(probe_at));
    let second_process = f.another();
    let (p, q) = tokio::join!(
        claimed(ledger.as_ref(), "owner-a", probe_at),
        claimed(second_process.as_ref(), "owner-b", probe_at)
    );
    let holder = if p.is_empty() { "owner-b" } else { "owner-a" };
    let probes: Vec<Claimed> = p.into_iter().chain(q).collect();
    assert_eq!(
        ids(&probes),
        [first.as_str()],
        "one probe, the earliest due"
    );
    assert!(probes[0].probe, "the probe is marked");
    assert!(
        claimed(ledger.as_ref(), "owner-c", probe_at)
            .await
            .is_empty(),
        "a second probe was handed out while the first runs"
    );
    // The probe fails: its slot frees, and the next one waits longer.
    let wait = Finish::Retry {
        at: probe_at + Duration::minutes(1),
        error: "still down".into(),
        count_attempt: false,
    };
    ledger
        .finish_target(&first, holder, &wait, None)
        .await
        .expect("the probe's holder finishes it");
    let outage = Outage {
        at: probe_at,
        account_id: a.clone(),
    };
    let (state, event) = ledger
        .note_outage(&circuit, outage, "503", &rule)
        .await
        .expect("note");
    assert_eq!(event, None);
    let next_probe = state.next_probe.expect("next probe");
    assert!(
        next_probe > probe_at,
        "a failed probe is followed by a later one"
    );
    assert!(
        claimed(ledger.as_ref(), "owner-a", probe_at + Duration::seconds(1))
            .await
            .is_empty()
    );
    assert_eq!(
        f.target(&first).await,
        (TargetState::WaitingRetry, 0),
        "no retry spent"
    );

    let (one, two) = tokio::join!(
        ledger.note_answer(&circuit, next_probe),
        second_process.note_answer(&circuit, next_probe)
    );
    let closed: Vec<CircuitEvent> = [one, two]
        .into_iter()
        .filter_map(|r| r.expect("note_answer"))
        .collect();
    assert!(
        matches!(closed.as_slice(), [CircuitEvent::Closed { .. }]),
        "one closer is told: {closed:?}"
    );
    assert_eq!(ledger.circuit(&circuit).await.expect("circuit"), None);
    let rest = claimed(ledger.as_ref(), "owner-a", next_probe).await;
    let mut rest_ids = ids(&rest);
    rest_ids.sort();
    let mut expected = vec![first, second, third];
    expected.sort();
    assert_eq!(rest_ids, expected, "everything held is due again");
}

/// A target due longer ago than the late limit is marked missed, not claimed; an account
/// that needs signing in again keeps its targets (neither claimed nor missed) and its
/// token-refresh lock goes to one holder at a time.
pub async fn late_targets_are_missed_and_signed_out_accounts_held(f: &dyn Fixture) {
    let account = f
        .add_account("a", Network::Mastodon, Some("https://one.example"))
        .await;
    let signed_out = f
        .add_account("b", Network::Mastodon, Some("https://one.example"))
        .await;
    let late = f.add_target(&account, t0() - Duration::hours(7)).await;
    let due = f.add_target(&account, t0() - Duration::seconds(5)).await;
    let held_late = f.add_target(&signed_out, t0() - Duration::hours(7)).await;
    let held_due = f.add_target(&signed_out, t0() - Duration::seconds(5)).await;
    let ledger = f.ledger();
    assert!(
        ledger
            .mark_needs_sign_in(&signed_out, "the token was refused")
            .await
            .expect("mark")
    );
    assert!(
        !ledger
            .mark_needs_sign_in(&signed_out, "again")
            .await
            .expect("mark"),
        "marking twice is not news"
    );
    assert_eq!(
        ledger
            .accounts_needing_sign_in()
            .await
            .expect("held")
            .get(&signed_out)
            .map(String::as_str),
        Some("the token was refused")
    );
    let (claimed, missed) = ledger
        .claim_due(&claim("owner", t0()))
        .await
        .expect("claim_due");
    assert_eq!(ids(&claimed), [due.as_str()], "only the due target goes");
    let missed: Vec<&str> = missed.iter().map(|m| m.target_id.as_str()).collect();
    assert_eq!(missed, [late.as_str()], "only the late target is missed");
    assert_eq!(f.target(&late).await.0, TargetState::Missed);
    assert_eq!(f.target(&held_late).await.0, TargetState::Scheduled);
    assert_eq!(f.target(&held_due).await.0, TargetState::Scheduled);

    let other = f.another();
    let until = t0() + Duration::seconds(90);
    let (one, two) = tokio::join!(
        ledger.take_sign_in_lock(&account, "holder-a", t0(), until),
        other.take_sign_in_lock(&account, "holder-b", t0(), until)
    );
    let (one, two) = (one.expect("lock"), two.expect("lock"));
    assert!(one ^ two, "exactly one holder gets the lock ({one}, {two})");
    let (holder, loser) = if one {
        ("holder-a", "holder-b")
    } else {
        ("holder-b", "holder-a")
    };
    ledger
        .release_sign_in_lock(&account, loser)
        .await
        .expect("release");
    assert!(
        !other
            .take_sign_in_lock(&account, loser, t0() + Duration::seconds(1), until)
            .await
            .expect("lock"),
        "a release by another holder freed the lock"
    );
    ledger
        .release_sign_in_lock(&account, holder)
        .await
        .expect("release");
    assert!(
        other
            .take_sign_in_lock(&account, loser, t0() + Duration::seconds(1), until)
            .await
            .expect("lock"),
        "a released lock is free"
    );
    assert!(
        ledger
            .take_sign_in_lock(
                &account,
                holder,
                until + Duration::seconds(1),
                until + Duration::minutes(2)
            )
            .await
            .expect("lock"),
        "a lock that ran out is free"
    );
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::model::Schedule;
    use crate::network::AccountSettings;
    use crate::publish::StoreLedger;
    use crate::store::{NewPost, NewTarget, Store};

    struct StoreFixture {
        _dir: tempfile::TempDir,
        path: std::path::PathBuf,
        ledger: StoreLedger,
        setup: Mutex<Store>,
    }

    impl StoreFixture {
        fn new() -> StoreFixture {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("ledger.db");
            let setup = Store::open(&path).expect("open");
            let ledger = StoreLedger::new(Store::open(&path).expect("open"));
            StoreFixture {
                _dir: dir,
                path,
                ledger,
                setup: Mutex::new(setup),
            }
        }
    }

    #[async_trait]
    impl Fixture for StoreFixture {
        fn ledger(&self) -> Arc<dyn Ledger> {
            Arc::new(self.ledger.clone())
        }

        fn another(&self) -> Arc<dyn Ledger> {
            Arc::new(StoreLedger::new(Store::open(&self.path).expect("open")))
        }

        async fn add_account(
            &self,
            name: &str,
            network: Network,
            base_url: Option<&str>,
        ) -> String {
            let settings = AccountSettings {
                base_url: base_url.map(str::to_owned),
                handle: None,
                settings: serde_json::json!({}),
            };
            let mut store = self.setup.lock().expect("lock");
            store
                .add_account(name, network, &settings, "env:CONTRACT_TOKEN")
                .expect("account")
                .id
        }

        async fn add_target(&self, account_id: &str, due: DateTime<Utc>) -> String {
            let mut store = self.setup.lock().expect("lock");
            let post = store
                .create_post(&NewPost {
                    body: "Contract".into(),
                    title: None,
                    labels: vec![],
                    media: vec![],
                    tz: "UTC".into(),
                    schedule: Schedule::At,
                    thread: Default::default(),
                    targets: vec![NewTarget {
                        account_id: account_id.into(),
                        due: Some(due),
                    }],
                })
                .expect("post");
            store.target_status(&post).expect("status")[0]
                .target_id
                .clone()
        }

        async fn target(&self, target_id: &str) -> (TargetState, u32) {
            let store = self.setup.lock().expect("lock");
            let (state, count): (String, u32) = store
                .conn()
                .query_row(
                    "SELECT state, attempt_count FROM targets WHERE id = ?1",
                    [target_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .expect("target");
            (state.parse().expect("a known state"), count)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn store_ledger_keeps_the_contract() {
        run_all(|| async { Box::new(StoreFixture::new()) as Box<dyn Fixture> }).await;
    }
}
