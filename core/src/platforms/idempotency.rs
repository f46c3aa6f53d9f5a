//! What a network promises about a request sent again with the same idempotency token
//! ("Target states" in docs/ARCHITECTURE.md). Each network's folder says which promise its
//! adapter gets in its [`super::Capabilities`]; the engine sends a part whose fate is
//! unknown again only inside that window, and past it the part becomes `uncertain`.

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
    /// No token, but the part is posted in steps and the adapter notes the step before
    /// the request that posts it ([`super::Stage`]); sent again, it checks on the network
    /// whether that request took effect before making it (Instagram's container status),
    /// so a second request never makes a second post.
    Checked,
}

impl Idempotency {
    /// Until when a part first sent at `since` may be sent again without a second post;
    /// `None` when never.
    pub fn safe_until(self, since: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Idempotency::None => None,
            Idempotency::Within(window) => since.checked_add_signed(window),
            Idempotency::Always | Idempotency::Checked => Some(DateTime::<Utc>::MAX_UTC),
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
            Idempotency::Checked => {
                format!("postctl checks on {name} whether a repeated request took effect")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn each_network_keeps_its_promise_for_its_window() {
        let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        let defaults = |network| {
            crate::platforms::defaults(network)
                .expect("a network postctl knows")
                .idempotency
        };
        let cases = [
            (Network::Mastodon, Some(t0 + Duration::minutes(55))),
            // A Discord webhook cannot send a nonce; a bot can (see the Discord folder).
            (Network::Discord, None),
            (Network::Bluesky, Some(DateTime::<Utc>::MAX_UTC)),
            (Network::Matrix, Some(DateTime::<Utc>::MAX_UTC)),
            (Network::Telegram, None),
            // VK's `guid` has no documented window.
            (Network::Vk, None),
            (Network::Slack, None),
            (Network::Webhook, None),
            (Network::X, None),
            // Facebook has no key and no container: a lost answer is looked up once.
            (Network::Facebook, None),
            // Threads' noted container is checked, as Instagram's is.
            (Network::Threads, Some(DateTime::<Utc>::MAX_UTC)),
        ];
        for (network, expected) in cases {
            assert_eq!(defaults(network).safe_until(t0), expected, "{network:?}");
        }
        assert_eq!(
            Idempotency::Within(Duration::minutes(2)).safe_until(t0),
            Some(t0 + Duration::minutes(2))
        );
    }
}
