//! Circuits: a network that is down for everyone (issue 12, "A network that is down for
//! everyone"). When timeouts and 5xx answers come from one network at one address for
//! several accounts within a short window, its circuit opens: the targets due on it wait,
//! without spending their retries, while one probe at a time tries the next due target;
//! the first answer closes the circuit and publishing resumes in order.
//!
//! The rule is plain data ([`CircuitRule`]) and the decisions are pure functions over a
//! circuit's state ([`after_outage`], [`after_answer`]); the engine's [`Ledger`] keeps the
//! state in the database, so every process publishing from it sees one circuit.
//!
//! [`Ledger`]: super::Ledger

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Account;
use crate::network::Network;
use crate::platforms::PublishError;

/// One network at one address (a Mastodon instance, a PDS, an API host): what a circuit is
/// kept for. An account without an address of its own is on the network's usual one,
/// written as the empty `base_url`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Circuit {
    pub network: Network,
    pub base_url: String,
}

impl Circuit {
    /// The circuit `account` publishes through.
    pub fn of(account: &Account) -> Circuit {
        Circuit {
            network: account.network,
            base_url: account.base_url.clone().unwrap_or_default(),
        }
    }

    /// "Mastodon at https://fosstodon.org", or "Telegram" on its usual address.
    pub fn describe(&self) -> String {
        if self.base_url.is_empty() {
            self.network.display_name().to_string()
        } else {
            format!("{} at {}", self.network.display_name(), self.base_url)
        }
    }
}

/// When a circuit opens and how often it is probed.
///
/// The default: 3 outage failures from at least 2 accounts within 2 minutes open the
/// circuit (one account's trouble is that account's: its own retries handle it); the first
/// probe goes 30 seconds after opening (config `[publish] outage_probe_seconds`), and each
/// failed probe doubles the wait, up to ten times the first (5 minutes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircuitRule {
    /// Outage failures within `window` that open the circuit...
    pub failures: usize,
    /// ...coming from at least this many accounts.
    pub accounts: usize,
    pub window: Duration,
    /// The wait before the first probe...
    pub first_probe: Duration,
    /// ...doubled after every failed probe, up to this.
    pub max_probe: Duration,
}

impl Default for CircuitRule {
    fn default() -> Self {
        CircuitRule {
            failures: 3,
            accounts: 2,
            window: Duration::minutes(2),
            first_probe: Duration::seconds(30),
            max_probe: Duration::minutes(5),
        }
    }
}

/// One failure that says the network may be down: when, and on which account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    pub at: DateTime<Utc>,
    pub account_id: String,
}

/// What the ledger keeps of a circuit with recent trouble. A circuit without a state is
/// closed and has no recent failures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitState {
    pub circuit: Circuit,
    /// The outage failures within the rule's window, oldest first.
    pub failures: Vec<Outage>,
    /// Since when the circuit is open (the network down); `None`: closed.
    pub opened: Option<DateTime<Utc>>,
    /// Probes that failed since it opened.
    pub probes: u32,
    /// While open: when the next probe may go.
    pub next_probe: Option<DateTime<Utc>>,
    /// The last failure's text.
    pub last_error: Option<String>,
}

impl CircuitState {
    /// A closed circuit without failures.
    pub fn closed(circuit: Circuit) -> CircuitState {
        CircuitState {
            circuit,
            failures: Vec::new(),
            opened: None,
            probes: 0,
            next_probe: None,
            last_error: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.opened.is_some()
    }

    /// How many accounts the recent failures came from.
    pub fn accounts(&self) -> usize {
        let mut ids: Vec<&str> = self
            .failures
            .iter()
            .map(|o| o.account_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }
}

/// A circuit opening or closing: what the user is told (config `notify`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CircuitEvent {
    Opened {
        circuit: Circuit,
        since: DateTime<Utc>,
        next_probe: DateTime<Utc>,
        failures: usize,
        accounts: usize,
        error: String,
    },
    Closed {
        circuit: Circuit,
        /// Since when it had been down.
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    },
}

/// Whether `error` says the network itself may be down rather than this post or account
/// being at fault: a timeout, a connection that failed, or a 5xx answer. A 429 is the
/// account's own limit and is not one.
pub fn is_outage(error: &PublishError) -> bool {
    match error {
        PublishError::Retryable {
            status: Some(status),
            ..
        } => (500..=599).contains(status),
        PublishError::Retryable {
            status: None,
            message,
            ..
        } => crate::platforms::http::TRANSPORT_FAILURES
            .iter()
            .any(|what| message.starts_with(what)),
        _ => false,
    }
}

/// The wait before the probe after `failed` failed probes: the rule's first wait, doubled
/// each time, up to its longest.
pub fn probe_delay(failed: u32, rule: &CircuitRule) -> Duration {
    let factor = 1_i32.checked_shl(failed.min(20)).unwrap_or(i32::MAX);
    rule.first_probe
        .checked_mul(factor)
        .unwrap_or(rule.max_probe)
        .min(rule.max_probe)
}

/// The state after an outage failure (`outage`, whose text is `error`) on a circuit in
/// `state`, and the event when this failure opened it. On an open circuit the failure is a
/// failed probe: the next one waits longer.
pub fn after_outage(
    mut state: CircuitState,
    outage: Outage,
    error: &str,
    rule: &CircuitRule,
) -> (CircuitState, Option<CircuitEvent>) {
    let at = outage.at;
    state.failures.retain(|o| o.at > at - rule.window);
    state.failures.push(outage);
    state.last_error = Some(error.to_string());
    if state.opened.is_some() {
        state.probes = state.probes.saturating_add(1);
        state.next_probe = Some(at + probe_delay(state.probes, rule));
        return (state, None);
    }
    if state.failures.len() < rule.failures || state.accounts() < rule.accounts {
        return (state, None);
    }
    let next_probe = at + probe_delay(0, rule);
    state.opened = Some(at);
    state.probes = 0;
    state.next_probe = Some(next_probe);
    let event = CircuitEvent::Opened {
        circuit: state.circuit.clone(),
        since: at,
        next_probe,
        failures: state.failures.len(),
        accounts: state.accounts(),
        error: error.to_string(),
    };
    (state, Some(event))
}

/// The network answered at `at` (a part published, or any answer that is not an outage):
/// the circuit forgets its failures and closes. The event when it was open.
pub fn after_answer(state: &CircuitState, at: DateTime<Utc>) -> Option<CircuitEvent> {
    state.opened.map(|since| CircuitEvent::Closed {
        circuit: state.circuit.clone(),
        since,
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circuit() -> Circuit {
        Circuit {
            network: Network::Mastodon,
            base_url: "https://social.example".into(),
        }
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::seconds(1_800_000_000 + s)
    }

    fn fail(state: CircuitState, s: i64, account: &str) -> (CircuitState, Option<CircuitEvent>) {
        let outage = Outage {
            at: at(s),
            account_id: account.into(),
        };
        after_outage(state, outage, "503", &CircuitRule::default())
    }

    /// (failures as (second, account), opens?)
    #[test]
    fn a_circuit_opens_on_enough_failures_from_enough_accounts_within_the_window() {
        let cases: &[(&[(i64, &str)], bool)] = &[
            (&[(0, "a"), (1, "b")], false),
            (&[(0, "a"), (1, "a"), (2, "a"), (3, "a")], false),
            (&[(0, "a"), (1, "a"), (2, "b")], true),
            (&[(0, "a"), (1, "b"), (2, "c")], true),
            // The first failure is out of the 2-minute window by the third.
            (&[(0, "a"), (100, "b"), (121, "a")], false),
            (&[(0, "a"), (100, "b"), (119, "a")], true),
        ];
        for (failures, opens) in cases {
            let mut state = CircuitState::closed(circuit());
            let mut opened = false;
            for (s, account) in *failures {
                let (next, event) = fail(state, *s, account);
                state = next;
                opened |= matches!(event, Some(CircuitEvent::Opened { .. }));
            }
            assert_eq!(opened, *opens, "{failures:?}");
            assert_eq!(state.is_open(), *opens, "{failures:?}");
        }
    }

    #[test]
    fn failed_probes_wait_longer_each_time_up_to_the_longest() {
        let rule = CircuitRule::default();
        let waits: Vec<i64> = (0..6)
            .map(|n| probe_delay(n, &rule).num_seconds())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 300, 300]);
        let (state, _) = fail(CircuitState::closed(circuit()), 0, "a");
        let (state, _) = fail(state, 1, "b");
        let (state, event) = fail(state, 2, "a");
        assert!(matches!(
            event,
            Some(CircuitEvent::Opened {
                failures: 3,
                accounts: 2,
                ..
            })
        ));
        assert_eq!(state.next_probe, Some(at(32)));
        let (state, event) = fail(state, 32, "b");
        assert_eq!(event, None, "a failed probe is no news");
        assert_eq!(state.opened, Some(at(2)));
        assert_eq!(state.next_probe, Some(at(92)));
        assert_eq!(
            after_answer(&state, at(95)),
            Some(CircuitEvent::Closed {
                circuit: circuit(),
                since: at(2),
                at: at(95)
            })
        );
        assert_eq!(after_answer(&CircuitState::closed(circuit()), at(95)), None);
    }

    #[test]
    fn only_timeouts_failed_connections_and_5xx_are_outages() {
        let retryable = |status: Option<u16>, message: &str| PublishError::Retryable {
            message: message.into(),
            retry_after: None,
            maybe_sent: false,
            status,
        };
        assert!(is_outage(&retryable(Some(503), "Mastodon answered 503")));
        assert!(is_outage(&retryable(Some(500), "oops")));
        assert!(is_outage(&retryable(
            None,
            "timed out: error sending request"
        )));
        assert!(is_outage(&retryable(None, "could not connect: refused")));
        assert!(!is_outage(&retryable(Some(429), "slow down")));
        assert!(!is_outage(&retryable(
            None,
            "postctl could not note the step"
        )));
        assert!(!is_outage(&PublishError::permanent("422 too long")));
    }
}
