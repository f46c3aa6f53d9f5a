//! The commands that set an account up again (a new token, a moved chat), written from
//! what the account stores so that pasting them keeps its server and settings.

use crate::model::Account;
use crate::network::Network;
use crate::secrets::SecretRef;

/// `postctl accounts rm NAME && postctl accounts add NETWORK --name NAME ...`, with every
/// stored setting (server address, handle, chat, room...) and the secret read the way it
/// is now (`--token-env VAR`, else `--token-stdin < FILE`), quoted for a POSIX shell.
pub fn add_again_command(account: &Account) -> String {
    add_again_with(account, &[])
}

/// Like [`add_again_command`], with `replaced` settings (e.g. a Telegram chat that moved)
/// given instead of the stored ones; `base_url` and `handle` replace the account's
/// server address and handle (a placeholder where the account has none).
pub fn add_again_with(account: &Account, replaced: &[(&str, &str)]) -> String {
    format!(
        "postctl accounts rm {name} && {add}",
        name = shell_word(&account.name),
        add = add_command(account, replaced)
    )
}

fn add_command(account: &Account, replaced: &[(&str, &str)]) -> String {
    let network = account.network;
    let mut words: Vec<String> = vec![
        "postctl".into(),
        "accounts".into(),
        "add".into(),
        network.name().into(),
        "--name".into(),
        shell_word(&account.name),
    ];
    let mut flag = |flag: &str, value: &str| {
        words.push(flag.to_string());
        words.push(shell_word(value));
    };
    let replacement = |key: &str| {
        replaced
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| *value)
    };
    if let Some(base) = replacement("base_url")
        .or(account.base_url.as_deref())
        .filter(|b| Some(*b) != network.default_base_url())
    {
        flag(base_url_flag(network), base);
    }
    if let Some(handle) = replacement("handle").or(account.handle.as_deref()) {
        flag("--handle", handle);
    }
    let setting = |key: &str| -> Option<String> {
        if let Some((_, value)) = replaced.iter().find(|(k, _)| *k == key) {
            return Some(value.to_string());
        }
        match account.settings.get(key)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    };
    for (key, name) in [
        ("chat", "--chat"),
        ("channel", "--channel"),
        ("room", "--room"),
        ("owner_id", "--owner-id"),
        ("user_id", "--user-id"),
        ("page_id", "--page-id"),
        ("author", "--author"),
        ("subreddit", "--subreddit"),
    ] {
        if let Some(value) = setting(key) {
            flag(name, &value);
        }
    }
    if let Some(relays) = account.settings.get("relays").and_then(|r| r.as_array()) {
        for relay in relays.iter().filter_map(|r| r.as_str()) {
            flag("--relay", relay);
        }
    }
    if account.settings.get("from_group") == Some(&serde_json::Value::Bool(true)) {
        words.push("--from-group".into());
    }
    match account.secret_ref.parse::<SecretRef>() {
        Ok(SecretRef::Env { var }) => {
            words.push("--token-env".into());
            words.push(shell_word(&var));
        }
        _ => {
            words.push("--token-stdin".into());
            words.push("<".into());
            words.push(secret_file(account).into());
        }
    }
    words.join(" ")
}

/// The spelling of `--base-url` that reads naturally for the network.
fn base_url_flag(network: Network) -> &'static str {
    match network {
        Network::Mastodon => "--instance",
        Network::Bluesky => "--pds",
        Network::Matrix => "--homeserver",
        _ => "--base-url",
    }
}

/// The file name the hint reads the new secret from, named for what it holds.
fn secret_file(account: &Account) -> &'static str {
    let bot = account.settings.get("mode").and_then(|m| m.as_str()) == Some("bot");
    match account.network {
        Network::Bluesky => "app-password.txt",
        Network::Telegram => "bot-token.txt",
        Network::Discord | Network::Slack if bot => "bot-token.txt",
        Network::Discord | Network::Slack => "webhook-url.txt",
        Network::Webhook => "signing-key.txt",
        Network::Nostr => "nsec.txt",
        Network::Devto => "api-key.txt",
        _ => "token.txt",
    }
}

/// `word` as one word of a POSIX shell command: as it is when it is plain, else in single
/// quotes (which also keep bash's `!` history expansion and `#` comments away).
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(network: Network, base: Option<&str>, settings: serde_json::Value) -> Account {
        Account {
            id: "a1".into(),
            name: "acct".into(),
            network,
            base_url: base.map(String::from),
            handle: None,
            settings,
            secret_ref: "file:acct".into(),
            created: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn commands_keep_the_server_and_settings_and_quote_what_a_shell_would_mangle() {
        use serde_json::json;
        let mut bsky = account(Network::Bluesky, Some("https://pds.example.org"), json!({}));
        bsky.handle = Some("me.example.org".into());
        let cases = [
            (
                bsky,
                "postctl accounts rm acct && postctl accounts add bluesky --name acct --pds https://pds.example.org --handle me.example.org --token-stdin < app-password.txt",
            ),
            (
                account(
                    Network::Matrix,
                    Some("https://matrix.example.org"),
                    json!({"room": "!abc123:example.org"}),
                ),
                "postctl accounts rm acct && postctl accounts add matrix --name acct --homeserver https://matrix.example.org --room '!abc123:example.org' --token-stdin < token.txt",
            ),
            (
                account(
                    Network::Telegram,
                    Some("https://api.telegram.org"),
                    json!({"chat": "@news"}),
                ),
                "postctl accounts rm acct && postctl accounts add telegram --name acct --chat @news --token-stdin < bot-token.txt",
            ),
            (
                account(
                    Network::Slack,
                    Some("https://slack.com/api"),
                    json!({"mode": "bot", "channel": "#general"}),
                ),
                "postctl accounts rm acct && postctl accounts add slack --name acct --channel '#general' --token-stdin < bot-token.txt",
            ),
            (
                account(
                    Network::Vk,
                    Some("https://api.vk.com"),
                    json!({"owner_id": -123456, "from_group": true}),
                ),
                "postctl accounts rm acct && postctl accounts add vk --name acct --owner-id -123456 --from-group --token-stdin < token.txt",
            ),
            (
                account(Network::Mastodon, Some("http://127.0.0.1:8080"), json!({})),
                "postctl accounts rm acct && postctl accounts add mastodon --name acct --instance http://127.0.0.1:8080 --token-stdin < token.txt",
            ),
        ];
        for (account, expected) in cases {
            assert_eq!(add_again_command(&account), expected);
        }
    }

    /// A hint for an account that lacks its server or handle fills a placeholder in, and
    /// keeps the secret where it was.
    #[test]
    fn a_missing_server_or_handle_is_a_placeholder_in_the_command() {
        let mut masto = account(Network::Mastodon, None, serde_json::json!({}));
        masto.secret_ref = "env:MASTO_TOKEN".into();
        assert_eq!(
            add_again_with(&masto, &[("base_url", "https://your.instance")]),
            "postctl accounts rm acct && postctl accounts add mastodon --name acct --instance https://your.instance --token-env MASTO_TOKEN"
        );
        let bsky = account(Network::Bluesky, None, serde_json::json!({}));
        assert_eq!(
            add_again_with(&bsky, &[("handle", "me.bsky.social")]),
            "postctl accounts rm acct && postctl accounts add bluesky --name acct --handle me.bsky.social --token-stdin < app-password.txt"
        );
    }

    #[test]
    fn a_secret_from_the_environment_stays_there_and_replacements_win() {
        let mut tg = account(
            Network::Telegram,
            None,
            serde_json::json!({"chat": "-100123"}),
        );
        tg.secret_ref = "env:TG_TOKEN".into();
        assert_eq!(
            add_again_with(&tg, &[("chat", "-100999")]),
            "postctl accounts rm acct && postctl accounts add telegram --name acct --chat -100999 --token-env TG_TOKEN"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        let cases = [
            ("masto", "masto"),
            ("!room:server", "'!room:server'"),
            ("it's", r"'it'\''s'"),
            ("", "''"),
            ("a b", "'a b'"),
        ];
        for (word, expected) in cases {
            assert_eq!(shell_word(word), expected, "{word:?}");
        }
    }
}
