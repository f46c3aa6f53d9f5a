//! X (../shared/platforms.md §1). postctl counts for X (`lint`, `check`, `generate`) but
//! does not publish there yet, so its [`Platform`] has no adapter.

use super::{Capabilities, Idempotency, Platform};
use crate::signin::{ClientAuth, SignIn};
use crate::text::{Counting, Format, TextLimit};

/// 280 weighted characters (twitter-text v3: URLs 23, CJK and emoji 2), up to 4 images of
/// 5 MB, replies for threads, and no idempotency key.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: 280,
        counting: Counting::XWeighted,
    },
    format: Format::Plain,
    max_media: 4,
    max_image_bytes: 5 * 1024 * 1024,
    threads: true,
    idempotency: Idempotency::None,
};

/// OAuth 2.0 with PKCE (platforms.md §1): access tokens live 2 hours; `offline.access`
/// brings a refresh token, which may be single-use, so the newest is always kept.
/// Confidential clients authenticate at the token endpoint with HTTP Basic. The
/// media scope's name is unconfirmed: `media.write` is asked for.
const SIGN_IN: SignIn = SignIn {
    authorize_url: "https://x.com/i/oauth2/authorize",
    token_url: "https://api.x.com/2/oauth2/token",
    scopes: &[
        "tweet.read",
        "tweet.write",
        "users.read",
        "media.write",
        "offline.access",
    ],
    client_auth: ClientAuth::Basic,
    lifetime_unsaid: Some(std::time::Duration::from_secs(2 * 60 * 60)),
    portal: "https://developer.x.com/en/portal/dashboard",
};

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    sign_in: Some(&SIGN_IN),
    capabilities: |_| DEFAULTS,
    open: None,
};
