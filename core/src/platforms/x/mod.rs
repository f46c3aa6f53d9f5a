//! X (../shared/platforms.md §1). postctl counts for X (`lint`, `check`, `generate`) but
//! does not publish there yet, so its [`Platform`] has no adapter.

use super::{Capabilities, Idempotency, Platform};
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

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    capabilities: |_| DEFAULTS,
    open: None,
};
