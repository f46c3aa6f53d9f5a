//! How long each network recognises a repeated request as the same one (DESIGN §4; facts
//! from platforms.md). The one place these windows are written: the engine sends a part
//! whose fate is unknown again only inside its network's window, and past it the part
//! becomes `uncertain`.

use chrono::{DateTime, Duration, Utc};

use crate::network::Network;

/// What a network promises about a request sent again with the same idempotency token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// No token: a second request is a second post.
    None,
    /// The token is remembered this long after the first request.
    Within(Duration),
    /// The token names the post itself (a record key, a transaction id): a second
    /// request can never create a second post.
    Always,
}

impl Idempotency {
    /// The network's promise for the requests postctl sends it; `sends_token` is the
    /// adapter's word that it sends the network's token (Discord's webhooks cannot).
    pub fn of(network: Network, sends_token: bool) -> Idempotency {
        if !sends_token {
            return Idempotency::None;
        }
        match network {
            // `Idempotency-Key` is kept for about an hour; leave room for the request's
            // own time on the way.
            Network::Mastodon => Idempotency::Within(Duration::minutes(55)),
            // `nonce` + `enforce_nonce` covers "the last few minutes": take the least.
            Network::Discord => Idempotency::Within(Duration::minutes(2)),
            // Record keys we choose, transaction ids, content-hash event ids.
            Network::Bluesky | Network::Matrix | Network::Nostr => Idempotency::Always,
            Network::X
            | Network::Telegram
            | Network::Vk
            | Network::Instagram
            | Network::Facebook
            | Network::Linkedin
            | Network::Threads
            | Network::Slack
            | Network::Reddit
            | Network::Devto
            | Network::Webhook => Idempotency::None,
        }
    }

    /// Until when a part first sent at `since` may be sent again without a second post;
    /// `None` when never.
    pub fn safe_until(self, since: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Idempotency::None => None,
            Idempotency::Within(window) => since.checked_add_signed(window),
            Idempotency::Always => Some(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// Words for the user: what the network offers.
    pub fn describe(self, network: Network) -> String {
        let name = network.display_name();
        match self {
            Idempotency::None => format!("{name} has no way to retry safely"),
            Idempotency::Within(window) => format!(
                "{name} recognises a repeated request only for {} minutes",
                window.num_minutes()
            ),
            Idempotency::Always => format!("{name} recognises a repeated request"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn each_network_has_its_window() {
        let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        let cases = [
            (Network::Mastodon, true, Some(t0 + Duration::minutes(55))),
            (Network::Discord, true, Some(t0 + Duration::minutes(2))),
            (Network::Discord, false, None),
            (Network::Bluesky, true, Some(DateTime::<Utc>::MAX_UTC)),
            (Network::Matrix, true, Some(DateTime::<Utc>::MAX_UTC)),
            (Network::Telegram, false, None),
            (Network::Telegram, true, None),
            (Network::Webhook, false, None),
        ];
        for (network, sends_token, expected) in cases {
            assert_eq!(
                Idempotency::of(network, sends_token).safe_until(t0),
                expected,
                "{network:?} {sends_token}"
            );
        }
    }
}
