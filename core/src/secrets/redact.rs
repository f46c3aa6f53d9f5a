//! Scrubbing a secret out of text that came from outside: a network's error body, a proxy's
//! error page, a transport error that quotes a URL. Such texts are stored with the
//! attempt, printed, and forwarded by `notify`, so whatever of the secret they echo is
//! replaced before they leave the adapter.

use zeroize::Zeroizing;

use super::Secret;

/// What replaces a scrubbed secret.
pub const REDACTED: &str = "***";

/// Pieces of a secret shorter than this are not scrubbed on their own: they are ids
/// (Telegram's bot id, a webhook id) or common words, and the whole secret still is.
const MIN_PIECE: usize = 12;

/// A whole secret shorter than this is not scrubbed: replacing a two-letter test key
/// everywhere would mangle every message, and such a key protects nothing.
const MIN_SECRET: usize = 6;

/// The texts to scrub for one secret: the whole of it, and the parts of it that are
/// secret on their own (the token after a Telegram bot id, the path of a webhook URL),
/// each also percent-encoded as a URL would carry it.
#[derive(Default)]
pub struct Redactor {
    /// Longest first, so a piece never cuts a longer match in two.
    fragments: Vec<Zeroizing<String>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} fragments)", self.fragments.len())
    }
}

impl Redactor {
    /// The redactor for `secret`.
    pub fn new(secret: &Secret) -> Redactor {
        let mut redactor = Redactor::default();
        redactor.add(secret.expose());
        redactor
    }

    /// Also scrubs `secret` (a session's tokens, a second credential).
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET {
            return;
        }
        let mut found = vec![secret.to_owned()];
        found.extend(pieces(secret));
        for text in found {
            let encoded = percent_encode(&text);
            for fragment in [text, encoded] {
                if !self.fragments.iter().any(|f| **f == fragment) {
                    self.fragments.push(Zeroizing::new(fragment));
                }
            }
        }
        self.fragments.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    /// `text` with every fragment of the secret replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for fragment in &self.fragments {
            if text.contains(fragment.as_str()) {
                text = text.replace(fragment.as_str(), REDACTED);
            }
        }
        text
    }
}

/// A [`Redactor`] that an adapter and its [`crate::platforms`] wrapper share: the adapter
/// adds the secrets it obtains as it goes (a Bluesky session's access and refresh
/// tokens), and every error the account returns is scrubbed of all of them.
#[derive(Debug, Clone, Default)]
pub struct SharedRedactor(std::sync::Arc<std::sync::Mutex<Redactor>>);

impl SharedRedactor {
    /// Also scrubs `secret` from now on (see [`Redactor::add`]).
    pub fn add(&self, secret: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).add(secret);
    }

    /// `text` with every secret added so far replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).scrub(text)
    }
}

/// The parts of `secret` that are secret on their own. A URL (a webhook) carries its
/// token in the path or query, never the host, which stays readable in messages; other
/// secrets are split where tokens join an id to a key (`123456:AAE…`).
fn pieces(secret: &str) -> Vec<String> {
    let mut found = Vec::new();
    match reqwest::Url::parse(secret)
        .ok()
        .filter(|url| url.has_host() && url.scheme().starts_with("http"))
    {
        Some(url) => {
            found.push(url.path().to_owned());
            if let Some(query) = url.query() {
                found.push(query.to_owned());
            }
            found.extend(url.path().split('/').map(str::to_owned));
            found.extend(url.query_pairs().map(|(_, value)| value.into_owned()));
        }
        None => found.extend(secret.split([':', ' ']).map(str::to_owned)),
    }
    found.retain(|piece| piece.len() >= MIN_PIECE && piece != secret);
    found
}

/// `text` with every byte outside RFC 3986's unreserved set percent-encoded, as a secret
/// put in a query or form body travels.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_secrets_and_their_parts_are_scrubbed() {
        let cases = [
            // Telegram: the token in the path, or only its secret half.
            (
                "123456789:AAE-telegram-SeCrEt-value",
                "Not Found: /bot123456789:AAE-telegram-SeCrEt-value/sendMessage",
                "Not Found: /bot***/sendMessage",
            ),
            (
                "123456789:AAE-telegram-SeCrEt-value",
                "token AAE-telegram-SeCrEt-value is invalid",
                "token *** is invalid",
            ),
            (
                "123456789:AAE-telegram-SeCrEt-value",
                "chat_id=1&token=123456789%3AAAE-telegram-SeCrEt-value",
                "chat_id=1&token=***",
            ),
            // A webhook URL: the path and its token, the host stays readable.
            (
                "https://discord.com/api/webhooks/123456789012345678/hookSecretPart-XyZ",
                "POST https://discord.com/api/webhooks/123456789012345678/hookSecretPart-XyZ failed",
                "POST *** failed",
            ),
            (
                "https://discord.com/api/webhooks/123456789012345678/hookSecretPart-XyZ",
                "unknown webhook hookSecretPart-XyZ at discord.com",
                "unknown webhook *** at discord.com",
            ),
            (
                "https://hooks.slack.com/services/T000/B000/fakesecretfakesecret",
                "no_service at /services/T000/B000/fakesecretfakesecret on hooks.slack.com",
                "no_service at *** on hooks.slack.com",
            ),
            // A bearer token echoed in a header dump.
            (
                "masto-tok-7Qw9Zp2Lx",
                "Authorization: Bearer masto-tok-7Qw9Zp2Lx",
                "Authorization: Bearer ***",
            ),
            // Nothing to scrub; and a secret too short to scrub safely.
            ("masto-tok-7Qw9Zp2Lx", "rate limited", "rate limited"),
            ("abc", "abc abc", "abc abc"),
        ];
        for (secret, text, want) in cases {
            let redactor = Redactor::new(&Secret::new(secret.into()));
            assert_eq!(redactor.scrub(text), want, "{secret}");
        }
    }

    #[test]
    fn debug_shows_no_fragment() {
        let redactor = Redactor::new(&Secret::new("masto-tok-7Qw9Zp2Lx".into()));
        assert!(!format!("{redactor:?}").contains("masto"));
    }
}
