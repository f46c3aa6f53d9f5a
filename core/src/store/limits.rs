//! What servers said about their own limits (a Mastodon instance's), by network and
//! address: a cache, so `check` and `lint` know an account's limits without its secret and
//! `post` without a request. Local to this database; never synced.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::Result;
use crate::model::Account;
use crate::platforms::ServerLimits;

impl Store {
    /// What `account`'s server last said about its limits, and when it was read. `None`
    /// when it never said, or for an account without a server address. A stored value
    /// this binary cannot read counts as never said (the engine reads it again).
    pub fn server_limits(
        &self,
        account: &Account,
    ) -> Result<Option<(ServerLimits, DateTime<Utc>)>> {
        let Some(base_url) = account.base_url.as_deref() else {
            return Ok(None);
        };
        let row: Option<(String, i64)> = self
            .conn()
            .query_row(
                "SELECT limits, read_ms FROM server_limits WHERE network = ?1 AND base_url = ?2",
                params![account.network.name(), base_url],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(row.and_then(|(limits, read_ms)| {
            serde_json::from_str(&limits)
                .ok()
                .map(|limits| (limits, super::from_ms(read_ms)))
        }))
    }

    /// Records what `account`'s server said about its limits at `read_at`, replacing what it
    /// said before (for every account on that server). Does nothing for an account without
    /// a server address.
    pub fn save_server_limits(
        &mut self,
        account: &Account,
        limits: &ServerLimits,
        read_at: DateTime<Utc>,
    ) -> Result<()> {
        let Some(base_url) = account.base_url.as_deref() else {
            return Ok(());
        };
        let limits = serde_json::to_string(limits).unwrap_or_else(|_| "{}".into());
        self.write(|tx| {
            tx.execute(
                "INSERT INTO server_limits (network, base_url, limits, read_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (network, base_url) DO UPDATE SET limits = ?3, read_ms = ?4",
                params![account.network.name(), base_url, limits, super::to_ms(read_at)],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::network::{AccountSettings, Network};

    fn account(store: &mut Store, name: &str, base_url: Option<&str>) -> Account {
        let settings = AccountSettings {
            base_url: base_url.map(str::to_string),
            handle: None,
            settings: serde_json::json!({}),
        };
        store
            .add_account(name, Network::Mastodon, &settings, "env:TOKEN")
            .expect("account")
    }

    #[test]
    fn limits_are_kept_per_server_and_replaced_when_read_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let one = account(&mut store, "one", Some("https://masto.example"));
        let same_server = account(&mut store, "two", Some("https://masto.example"));
        let other = account(&mut store, "three", Some("https://other.example"));
        assert_eq!(store.server_limits(&one).expect("read"), None);

        let first = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
        let said = ServerLimits {
            max_characters: Some(1000),
            max_media: None,
            max_image_bytes: Some(8_000_000),
        };
        store.save_server_limits(&one, &said, first).expect("save");
        assert_eq!(
            store.server_limits(&same_server).expect("read"),
            Some((said, first))
        );
        assert_eq!(store.server_limits(&other).expect("read"), None);

        let later = first + chrono::Duration::days(2);
        let now_said = ServerLimits {
            max_characters: Some(5000),
            ..ServerLimits::default()
        };
        store
            .save_server_limits(&one, &now_said, later)
            .expect("save");
        assert_eq!(
            store.server_limits(&one).expect("read"),
            Some((now_said, later))
        );
    }

    #[test]
    fn an_account_without_a_server_address_has_nothing_cached() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let account = account(&mut store, "nowhere", None);
        let said = ServerLimits {
            max_characters: Some(1000),
            ..ServerLimits::default()
        };
        store
            .save_server_limits(&account, &said, Utc::now())
            .expect("nothing to save");
        assert_eq!(store.server_limits(&account).expect("read"), None);
    }
}
