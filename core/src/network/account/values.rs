//! Checks and normalisation of the non-secret values: base URLs, handles, chats, ids.

use super::flags::{FlagSpec, HANDLE, NOSTR_RELAY, base_url_flag};
use super::{AccountError, invalid, required};
use crate::network::shape::{self, Url};
use crate::network::{AccountFields, Network};

/// `--base-url` checked and normalised, or the network's default when not given.
pub(super) fn api_base_url(
    network: Network,
    fields: &AccountFields,
) -> Result<Option<String>, AccountError> {
    match fields.base_url.as_deref() {
        Some(given) => base_url(network, given).map(Some),
        None => Ok(network.default_base_url().map(str::to_owned)),
    }
}

pub(super) fn required_base_url(
    network: Network,
    fields: &AccountFields,
) -> Result<String, AccountError> {
    let what = match network {
        Network::Mastodon => "the server your account is on",
        Network::Webhook => "the address postctl POSTs each post to",
        _ => "your homeserver's address",
    };
    let given = fields.base_url.as_deref().ok_or(AccountError::Missing {
        flag: base_url_flag(network),
        network,
        what,
        example: network.example_add_command(),
    })?;
    base_url(network, given)
}

/// An absolute http(s) URL; https unless the host is this machine. Normalised without a
/// trailing slash so adapters can append paths.
fn base_url(network: Network, given: &str) -> Result<String, AccountError> {
    let flag = base_url_flag(network);
    let problem = |problem: String| AccountError::InvalidUrl {
        flag,
        network,
        problem,
    };
    let given = given.trim();
    let url = match Url::parse(given) {
        Ok(url) => url,
        Err(shape::UrlProblem::NotAbsolute) if shape::is_host_name(given.trim_end_matches('/')) => {
            return Err(problem(format!(
                "{given:?} has no scheme; did you mean https://{}?",
                given.trim_end_matches('/')
            )));
        }
        Err(p) => return Err(problem(p.describe().to_owned())),
    };
    // A query or fragment could hold a token, so the value is not repeated for those.
    if url.query.is_some() || url.fragment.is_some() {
        return Err(problem(
            "it has a query (?…) or fragment (#…); give only scheme, host and path".to_owned(),
        ));
    }
    match url.scheme.as_str() {
        "https" => {}
        "http" if url.is_local() => {}
        "http" => {
            return Err(problem(format!(
                "{given:?} uses http; use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])"
            )));
        }
        other => {
            return Err(problem(format!(
                "{given:?} uses {other}://; use an https:// address"
            )));
        }
    }
    Ok(url.normalised())
}

pub(super) fn display_handle(network: Network, handle: &str) -> Result<String, AccountError> {
    let handle = handle.trim();
    if handle.is_empty() || handle.chars().count() > 100 || handle.chars().any(char::is_whitespace)
    {
        return Err(AccountError::InvalidValue {
            flag: "--handle",
            network,
            value: handle.to_owned(),
            rule: "use your handle as the network shows it, without spaces (e.g. @me@fosstodon.org), at most 100 characters",
        });
    }
    Ok(handle.to_owned())
}

pub(super) fn bluesky_handle(fields: &AccountFields) -> Result<String, AccountError> {
    let given = required(Network::Bluesky, fields.handle.as_deref(), HANDLE)?;
    let handle = given.strip_prefix('@').unwrap_or(given);
    // Handles are case-insensitive and stored lowercase; DIDs are case-sensitive.
    let handle = if handle.starts_with("did:") {
        handle.to_owned()
    } else {
        handle.to_ascii_lowercase()
    };
    if shape::is_bluesky_identifier(&handle) {
        Ok(handle)
    } else {
        Err(invalid(HANDLE, Network::Bluesky, given))
    }
}

pub(super) fn telegram_chat(chat: &str) -> Option<String> {
    let digits = chat.strip_prefix('-').unwrap_or(chat);
    if shape::is_digits(digits) {
        return chat
            .parse::<i64>()
            .ok()
            .filter(|&id| id != 0)
            .map(|_| chat.to_owned());
    }
    let name = chat.strip_prefix('@').unwrap_or(chat);
    let valid = (5..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| format!("@{name}"))
}

pub(super) fn numeric_id(
    network: Network,
    value: Option<&str>,
    spec: FlagSpec,
) -> Result<String, AccountError> {
    let value = required(network, value, spec)?;
    if shape::is_digits(value) && value.len() <= 30 && !value.trim_start_matches('0').is_empty() {
        Ok(value.to_owned())
    } else {
        Err(AccountError::InvalidValue {
            flag: spec.flag,
            network,
            value: value.to_owned(),
            rule: spec.rule,
        })
    }
}

pub(super) fn is_linkedin_author(author: &str) -> bool {
    if let Some(id) = author.strip_prefix("urn:li:person:") {
        return !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    }
    author
        .strip_prefix("urn:li:organization:")
        .is_some_and(shape::is_digits)
}

/// `#alias:server`, or `!id:server`; room ids from room version 12 on have no server
/// part (`!opaque`), so that form is accepted too.
pub(super) fn is_matrix_room(room: &str) -> bool {
    if room.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let split = |rest: &str| {
        rest.split_once(':')
            .is_some_and(|(local, server)| !local.is_empty() && !server.is_empty())
    };
    match room.split_at_checked(1) {
        Some(("#", rest)) => split(rest),
        Some(("!", rest)) => !rest.is_empty() && (!rest.contains(':') || split(rest)),
        _ => false,
    }
}

pub(super) fn subreddit(given: &str) -> Option<String> {
    let name = given.trim_matches('/');
    let name = name
        .strip_prefix("r/")
        .or_else(|| name.strip_prefix("R/"))
        .unwrap_or(name);
    let valid = (3..=21).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| name.to_owned())
}

pub(super) fn nostr_relays(fields: &AccountFields) -> Result<Vec<String>, AccountError> {
    if fields.relays.is_empty() {
        return Err(AccountError::Missing {
            flag: NOSTR_RELAY.flag,
            network: Network::Nostr,
            what: NOSTR_RELAY.what,
            example: Network::Nostr.example_add_command(),
        });
    }
    let mut relays: Vec<String> = Vec::new();
    for given in &fields.relays {
        let problem = |problem: String| AccountError::InvalidUrl {
            flag: "--relay",
            network: Network::Nostr,
            problem,
        };
        let given = given.trim();
        let url = Url::parse(given).map_err(|p| problem(p.describe().to_owned()))?;
        if !matches!(url.scheme.as_str(), "wss" | "ws") {
            return Err(problem(format!(
                "{given:?} is not a relay address; relays are wss:// (or ws://) URLs, e.g. wss://relay.damus.io"
            )));
        }
        if url.query.is_some() || url.fragment.is_some() {
            return Err(problem(format!(
                "{given:?} has a query or fragment; give the relay's address only"
            )));
        }
        let relay = url.normalised();
        if !relays.contains(&relay) {
            relays.push(relay);
        }
    }
    Ok(relays)
}
