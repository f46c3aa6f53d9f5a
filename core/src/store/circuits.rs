//! Circuits (migration 14): which networks at which addresses failed for several accounts
//! lately, and which are taken as down, with the probe that tests them. The decisions are
//! `publish::circuit`'s pure functions; this keeps their state, one transaction per change,
//! so every process on the database shares one circuit. Local facts about the networks:
//! never in the oplog.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Store, from_ms, to_ms};
use crate::error::{Error, Result};
use crate::network::Network;
use crate::publish::circuit::{
    Circuit, CircuitEvent, CircuitRule, CircuitState, Outage, after_answer, after_outage,
};

const COLUMNS: &str = "network, base_url, failures, opened_ms, probes, next_probe_ms, last_error";

/// A circuits row as read.
type Raw = (
    String,
    String,
    String,
    Option<i64>,
    i64,
    Option<i64>,
    Option<String>,
);

fn read_state(row: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn to_state(raw: Raw) -> Option<CircuitState> {
    let (network, base_url, failures, opened, probes, next_probe, last_error) = raw;
    // A network this binary does not know (a newer postctl's) has no circuit here.
    let network: Network = network.parse().ok()?;
    Some(CircuitState {
        circuit: Circuit { network, base_url },
        failures: serde_json::from_str(&failures).unwrap_or_default(),
        opened: opened.map(from_ms),
        probes: u32::try_from(probes).unwrap_or(u32::MAX),
        next_probe: next_probe.map(from_ms),
        last_error,
    })
}

impl Store {
    /// Records an outage failure on `circuit` and decides (`circuit::after_outage`) in one
    /// IMMEDIATE transaction: failures noted by several processes at once all count, and
    /// only the one that opens the circuit gets the event.
    pub fn note_outage(
        &mut self,
        circuit: &Circuit,
        outage: Outage,
        error: &str,
        rule: &CircuitRule,
    ) -> Result<(CircuitState, Option<CircuitEvent>)> {
        self.write(|tx| {
            let current = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM circuits WHERE network = ?1 AND base_url = ?2"),
                    params![circuit.network.name(), circuit.base_url],
                    read_state,
                )
                .optional()
                .map_err(|e| tx.error(e))?
                .and_then(to_state)
                .unwrap_or_else(|| CircuitState::closed(circuit.clone()));
            let (state, event) = after_outage(current, outage, error, rule);
            let failures = serde_json::to_string(&state.failures)
                .map_err(|e| Error::Internal(e.to_string()))?;
            tx.execute(
                "INSERT INTO circuits (network, base_url, failures, opened_ms, probes,
                    next_probe_ms, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (network, base_url) DO UPDATE SET failures = ?3, opened_ms = ?4,
                    probes = ?5, next_probe_ms = ?6, last_error = ?7",
                params![
                    circuit.network.name(),
                    circuit.base_url,
                    failures,
                    state.opened.map(to_ms),
                    i64::from(state.probes),
                    state.next_probe.map(to_ms),
                    state.last_error
                ],
            )
            .map_err(|e| tx.error(e))?;
            Ok((state, event))
        })
    }

    /// The network at `circuit` answered at `at`: its row goes (failures forgotten, an open
    /// circuit closed). The event when it was open; of several processes closing it at
    /// once, the one that deleted the row gets it. Without a row it only reads.
    pub fn note_answer(
        &mut self,
        circuit: &Circuit,
        at: DateTime<Utc>,
    ) -> Result<Option<CircuitEvent>> {
        if self.circuit(circuit)?.is_none() {
            return Ok(None);
        }
        self.write(|tx| {
            let removed = tx
                .query_row(
                    &format!(
                        "DELETE FROM circuits WHERE network = ?1 AND base_url = ?2 RETURNING {COLUMNS}"
                    ),
                    params![circuit.network.name(), circuit.base_url],
                    read_state,
                )
                .optional()
                .map_err(|e| tx.error(e))?
                .and_then(to_state);
            Ok(removed.and_then(|state| after_answer(&state, at)))
        })
    }

    /// `circuit`'s state, when it has recent failures or is open.
    pub fn circuit(&self, circuit: &Circuit) -> Result<Option<CircuitState>> {
        self.conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM circuits WHERE network = ?1 AND base_url = ?2"
            ))
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![circuit.network.name(), circuit.base_url],
                    read_state,
                )
                .optional()
            })
            .map(|raw| raw.and_then(to_state))
            .map_err(|e| self.error(e))
    }

    /// Every open circuit (a network taken as down), the longest down first.
    pub fn open_circuits(&self) -> Result<Vec<CircuitState>> {
        self.conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM circuits WHERE opened_ms IS NOT NULL
                 ORDER BY opened_ms, network, base_url"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([], read_state)?
                    .collect::<rusqlite::Result<Vec<Raw>>>()
            })
            .map(|rows| rows.into_iter().filter_map(to_state).collect())
            .map_err(|e| self.error(e))
    }
}
