//! What a post would become on each account, known without secrets or requests: for
//! `check`, `post --dry-run`, `generate` and the dashboard's compose view, so they all count
//! and split the way the publisher will.

use serde::Serialize;

use super::plan;
use crate::model::{Account, ThreadMode};
use crate::platforms::{self, Capabilities};
use crate::store::Store;
use crate::text::{fit, render};

/// What each of `accounts` can take, in order, known without a secret or a request: its
/// network's limits for its settings, refined by what its server said when postctl last
/// asked (however long ago; `store` holds that, and without one the defaults are used).
/// An error says why postctl cannot publish there.
pub fn capabilities(
    store: Option<&Store>,
    accounts: &[Account],
) -> Vec<Result<Capabilities, String>> {
    accounts
        .iter()
        .map(|account| {
            // A cache that cannot be read leaves the network's defaults.
            let cached = store.and_then(|s| s.server_limits(account).ok().flatten());
            platforms::capabilities(account, cached.as_ref().map(|(limits, _)| limits))
        })
        .collect()
}

/// What one account would receive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    pub account: String,
    pub network: String,
    /// False for a network postctl cannot publish to yet.
    pub publishable: bool,
    /// The whole text's length, counted the network's way.
    pub length: usize,
    pub max: usize,
    pub fits: bool,
    pub parts: Vec<PreviewPart>,
    /// Why the text cannot go to this account as asked.
    pub error: Option<String>,
}

/// One part, rendered as the network receives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewPart {
    pub text: String,
    pub html: Option<String>,
    /// Counted the network's way, from the part's Markdown.
    pub length: usize,
}

/// How `body` goes out on `account`, whose capabilities are `caps`.
pub fn preview(
    account: &Account,
    caps: Result<Capabilities, String>,
    body: &str,
    thread: ThreadMode,
) -> Preview {
    let mut preview = Preview {
        account: account.name.clone(),
        network: account.network.to_string(),
        publishable: platforms::can_publish(account.network),
        length: 0,
        max: 0,
        fits: false,
        parts: vec![],
        error: None,
    };
    let caps = match caps {
        Ok(caps) => caps,
        Err(e) => {
            preview.error = Some(e);
            return preview;
        }
    };
    let whole = fit(body, caps.limit, caps.format);
    preview.length = whole.length;
    preview.max = whole.max;
    preview.fits = whole.fits;
    match parts(body, &caps, thread) {
        Ok(parts) => preview.parts = parts,
        Err(e) => preview.error = Some(e),
    }
    preview
}

/// The parts `body` becomes on a network with `caps`, or why it cannot go there.
pub fn parts(
    body: &str,
    caps: &Capabilities,
    thread: ThreadMode,
) -> Result<Vec<PreviewPart>, String> {
    Ok(plan::parts(body, caps, thread)?
        .iter()
        .map(|part| {
            let rendered = render(part, caps.format);
            PreviewPart {
                length: fit(part, caps.limit, caps.format).length,
                text: rendered.text,
                html: rendered.html,
            }
        })
        .collect())
}
