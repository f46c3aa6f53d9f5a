use serde_json::{Value, json};

use super::*;

/// Builds fields from `(flag, value)` pairs, flags named without dashes; `relay` repeats.
fn fields(pairs: &[(&str, &str)]) -> AccountFields {
    let mut f = AccountFields::default();
    for &(key, value) in pairs {
        let value = value.to_owned();
        match key {
            "base-url" => f.base_url = Some(value),
            "handle" => f.handle = Some(value),
            "chat" => f.chat = Some(value),
            "channel" => f.channel = Some(value),
            "room" => f.room = Some(value),
            "owner-id" => f.owner_id = Some(value),
            "user-id" => f.user_id = Some(value),
            "page-id" => f.page_id = Some(value),
            "author" => f.author = Some(value),
            "subreddit" => f.subreddit = Some(value),
            "relay" => f.relays.push(value),
            "from-group" => f.from_group = value == "yes",
            other => panic!("no such field in the test table: {other}"),
        }
    }
    f
}

/// What a case expects: the stored account, or an error whose message contains the text.
enum Want {
    Ok(Option<&'static str>, Option<&'static str>, Value),
    Err(&'static str),
}

struct Case {
    network: Network,
    fields: &'static [(&'static str, &'static str)],
    secret: Option<&'static str>,
    want: Want,
}

fn case(
    network: Network,
    fields: &'static [(&'static str, &'static str)],
    secret: Option<&'static str>,
    want: Want,
) -> Case {
    Case {
        network,
        fields,
        secret,
        want,
    }
}

const NSEC: &str = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5";
const NSEC_HEX: &str = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa";
const TOKEN: Option<&str> = Some("s3cr3t-token-value");

#[rustfmt::skip] // one case per line reads as a table
fn cases() -> Vec<Case> {
    use Network as N;
    use Want::{Err, Ok};
    vec![
        // X: the secret only; --base-url for tests.
        case(N::X, &[], TOKEN, Ok(Some("https://api.x.com"), None, json!({}))),
        case(N::X, &[("base-url", "http://127.0.0.1:8080/")], TOKEN, Ok(Some("http://127.0.0.1:8080"), None, json!({}))),
        case(N::X, &[("handle", "@me")], None, Ok(Some("https://api.x.com"), Some("@me"), json!({}))),
        case(N::X, &[("chat", "@news")], TOKEN, Err("--chat does not apply to x accounts")),
        case(N::X, &[("base-url", "http://api.example.com")], TOKEN, Err("uses http; use https")),
        case(N::X, &[("base-url", "api.x.com")], TOKEN, Err("did you mean https://api.x.com?")),
        case(N::X, &[("base-url", "https://api.x.com/?token=abc")], TOKEN, Err("has a query")),
        case(N::X, &[], Some(" \n"), Err("the access token given for this x account is not valid")),
        case(N::X, &[("handle", "me you")], TOKEN, Err("--handle \"me you\" is not valid for x")),
        // Mastodon: --instance is the server.
        case(N::Mastodon, &[("base-url", "https://Fosstodon.org/"), ("handle", "@me@fosstodon.org")], TOKEN,
            Ok(Some("https://fosstodon.org"), Some("@me@fosstodon.org"), json!({}))),
        case(N::Mastodon, &[], TOKEN, Err("--instance is required for mastodon accounts (the server your account is on), e.g. postctl accounts add mastodon")),
        case(N::Mastodon, &[("base-url", "https://fosstodon.org"), ("chat", "@x")], TOKEN, Err("--chat does not apply to mastodon accounts")),
        case(N::Mastodon, &[("base-url", "ftp://fosstodon.org")], TOKEN, Err("uses ftp://")),
        case(N::Mastodon, &[("base-url", "https://me:pw@fosstodon.org")], TOKEN, Err("user name or password")),
        case(N::Mastodon, &[("base-url", "https://fosstodon.org:70000")], TOKEN, Err("--instance is not usable for mastodon: its port")),
        // Bluesky: --handle logs in; --pds is optional.
        case(N::Bluesky, &[("handle", "@Me.bsky.social")], Some("abcd-efgh-ijkl-mnop"),
            Ok(Some("https://bsky.social"), Some("me.bsky.social"), json!({}))),
        case(N::Bluesky, &[("handle", "did:plc:ewvi7nxzyoun6zhxrhs64oiz"), ("base-url", "https://pds.example.com/")], None,
            Ok(Some("https://pds.example.com"), Some("did:plc:ewvi7nxzyoun6zhxrhs64oiz"), json!({}))),
        case(N::Bluesky, &[], TOKEN, Err("--handle is required for bluesky accounts")),
        case(N::Bluesky, &[("handle", "me")], TOKEN, Err("--handle \"me\" is not valid for bluesky")),
        case(N::Bluesky, &[("handle", "me.bsky.social"), ("relay", "wss://r.example")], TOKEN, Err("--relay does not apply to bluesky accounts")),
        case(N::Bluesky, &[("handle", "me.bsky.social"), ("base-url", "http://pds.example.com")], TOKEN, Err("--pds is not usable for bluesky")),
        // Telegram: --chat.
        case(N::Telegram, &[("chat", "@my_channel")], TOKEN, Ok(Some("https://api.telegram.org"), None, json!({"chat": "@my_channel"}))),
        case(N::Telegram, &[("chat", "mychannel")], TOKEN, Ok(Some("https://api.telegram.org"), None, json!({"chat": "@mychannel"}))),
        case(N::Telegram, &[("chat", "-1001234567890"), ("base-url", "http://localhost:8081")], TOKEN,
            Ok(Some("http://localhost:8081"), None, json!({"chat": "-1001234567890"}))),
        case(N::Telegram, &[], TOKEN, Err("--chat is required for telegram accounts (the chat the bot posts to)")),
        case(N::Telegram, &[("chat", "@abc")], TOKEN, Err("--chat \"@abc\" is not valid for telegram: use @channelname")),
        case(N::Telegram, &[("chat", "@1channel")], TOKEN, Err("--chat \"@1channel\" is not valid")),
        case(N::Telegram, &[("chat", "0")], TOKEN, Err("--chat \"0\" is not valid")),
        case(N::Telegram, &[("channel", "123")], TOKEN, Err("--channel does not apply to telegram accounts; use --chat")),
        // Discord: webhook without --channel, bot with it.
        case(N::Discord, &[], Some("https://discord.com/api/webhooks/123456/abc-DEF"), Ok(None, None, json!({"mode": "webhook"}))),
        case(N::Discord, &[], Some("http://127.0.0.1:9000/api/webhooks/1/tok"), Ok(None, None, json!({"mode": "webhook"}))),
        case(N::Discord, &[], None, Ok(None, None, json!({"mode": "webhook"}))),
        case(N::Discord, &[("channel", "123456789012345678")], Some("MTIz.bot.token"),
            Ok(Some("https://discord.com/api/v10"), None, json!({"mode": "bot", "channel": "123456789012345678"}))),
        case(N::Discord, &[("channel", "42"), ("base-url", "http://localhost:9000/api/v10")], None,
            Ok(Some("http://localhost:9000/api/v10"), None, json!({"mode": "bot", "channel": "42"}))),
        case(N::Discord, &[], Some("MTIz.bot.token"), Err("for a bot token add --channel")),
        case(N::Discord, &[], Some("https://evil.example/api/webhooks/1/secretpart"), Err("webhook URL like https://discord.com/api/webhooks/")),
        case(N::Discord, &[("base-url", "https://discord.com/api/v10")], None, Err("--base-url does not apply to discord accounts in webhook mode")),
        case(N::Discord, &[("channel", "general")], TOKEN, Err("--channel \"general\" is not valid for discord")),
        case(N::Discord, &[("channel", "1")], Some("https://discord.com/api/webhooks/1/secretpart"), Err("not a URL; drop --channel")),
        case(N::Discord, &[("chat", "1")], TOKEN, Err("--chat does not apply to discord accounts; use --channel")),
        // Slack: the same two modes; bot tokens are xoxb-.
        case(N::Slack, &[], Some("https://hooks.slack.com/services/T000/B000/XXXXsecret"), Ok(None, None, json!({"mode": "webhook"}))),
        case(N::Slack, &[("channel", "C0123ABCD")], Some("xoxb-1-2-abcsecret"),
            Ok(Some("https://slack.com/api"), None, json!({"mode": "bot", "channel": "C0123ABCD"}))),
        case(N::Slack, &[("channel", "general")], None, Ok(Some("https://slack.com/api"), None, json!({"mode": "bot", "channel": "#general"}))),
        case(N::Slack, &[], Some("xoxb-1-2-abcsecret"), Err("that is a Slack token; for bot mode add --channel")),
        case(N::Slack, &[], Some("https://hooks.slack.com/services/T000"), Err("incoming-webhook URL like https://hooks.slack.com")),
        case(N::Slack, &[("channel", "C0123ABCD")], Some("xoxp-user-tokensecret"), Err("bot token starting with xoxb-")),
        case(N::Slack, &[("channel", "#Bad Name")], None, Err("--channel \"#Bad Name\" is not valid for slack")),
        case(N::Slack, &[("room", "#general")], None, Err("--room does not apply to slack accounts; use --channel")),
        // VK: --owner-id, negative for a community.
        case(N::Vk, &[("owner-id", "-123456")], TOKEN, Ok(Some("https://api.vk.com"), None, json!({"owner_id": -123456}))),
        case(N::Vk, &[("owner-id", "42")], TOKEN, Ok(Some("https://api.vk.com"), None, json!({"owner_id": 42}))),
        case(N::Vk, &[], TOKEN, Err("--owner-id is required for vk accounts")),
        case(N::Vk, &[("owner-id", "club123")], TOKEN, Err("--owner-id \"club123\" is not valid for vk")),
        case(N::Vk, &[("owner-id", "0")], TOKEN, Err("--owner-id \"0\" is not valid")),
        case(N::Vk, &[("owner-id", "+5")], TOKEN, Err("--owner-id \"+5\" is not valid")),
        case(N::Vk, &[("owner-id", "1"), ("user-id", "1")], TOKEN, Err("--user-id does not apply to vk accounts")),
        case(N::Vk, &[("owner-id", "-123456"), ("from-group", "yes")], TOKEN, Ok(Some("https://api.vk.com"), None, json!({"owner_id": -123456, "from_group": true}))),
        case(N::Vk, &[("owner-id", "42"), ("from-group", "yes")], TOKEN, Err("--from-group does not apply to vk accounts posting on a person's wall")),
        case(N::Telegram, &[("chat", "@news"), ("from-group", "yes")], TOKEN, Err("--from-group does not apply to telegram accounts")),
        // Instagram and Threads: --user-id.
        case(N::Instagram, &[("user-id", "17841400000000000")], TOKEN,
            Ok(Some("https://graph.instagram.com"), None, json!({"user_id": "17841400000000000"}))),
        case(N::Instagram, &[], TOKEN, Err("--user-id is required for instagram accounts")),
        case(N::Instagram, &[("user-id", "me")], TOKEN, Err("--user-id \"me\" is not valid for instagram")),
        case(N::Instagram, &[("page-id", "1")], TOKEN, Err("--page-id does not apply to instagram accounts; use --user-id")),
        case(N::Threads, &[("user-id", "1234567890")], TOKEN, Ok(Some("https://graph.threads.net/v1.0"), None, json!({"user_id": "1234567890"}))),
        case(N::Threads, &[], TOKEN, Err("--user-id is required for threads accounts")),
        case(N::Threads, &[("user-id", "-5")], TOKEN, Err("--user-id \"-5\" is not valid")),
        case(N::Threads, &[("user-id", "000")], TOKEN, Err("--user-id \"000\" is not valid")),
        // Facebook: --page-id.
        case(N::Facebook, &[("page-id", "100000000000000")], TOKEN,
            Ok(Some("https://graph.facebook.com"), None, json!({"page_id": "100000000000000"}))),
        case(N::Facebook, &[], TOKEN, Err("--page-id is required for facebook accounts")),
        case(N::Facebook, &[("page-id", "12a")], TOKEN, Err("--page-id \"12a\" is not valid")),
        case(N::Facebook, &[("user-id", "1")], TOKEN, Err("--user-id does not apply to facebook accounts; use --page-id")),
        // LinkedIn: --author URN.
        case(N::Linkedin, &[("author", "urn:li:person:AbC123_x-Y")], TOKEN,
            Ok(Some("https://api.linkedin.com"), None, json!({"author": "urn:li:person:AbC123_x-Y"}))),
        case(N::Linkedin, &[("author", "urn:li:organization:5515715")], TOKEN,
            Ok(Some("https://api.linkedin.com"), None, json!({"author": "urn:li:organization:5515715"}))),
        case(N::Linkedin, &[], TOKEN, Err("--author is required for linkedin accounts")),
        case(N::Linkedin, &[("author", "urn:li:organization:acme")], TOKEN, Err("--author \"urn:li:organization:acme\" is not valid")),
        case(N::Linkedin, &[("author", "AbC123")], TOKEN, Err("--author \"AbC123\" is not valid")),
        case(N::Linkedin, &[("subreddit", "rust")], TOKEN, Err("--subreddit does not apply to linkedin accounts")),
        // Matrix: --homeserver and --room.
        case(N::Matrix, &[("base-url", "https://matrix.org/"), ("room", "#announce:matrix.org")], TOKEN,
            Ok(Some("https://matrix.org"), None, json!({"room": "#announce:matrix.org"}))),
        case(N::Matrix, &[("base-url", "http://[::1]:8008"), ("room", "!abc:localhost")], TOKEN,
            Ok(Some("http://[::1]:8008"), None, json!({"room": "!abc:localhost"}))),
        case(N::Matrix, &[("base-url", "https://matrix.org"), ("room", "!31hneApxJ_1o")], TOKEN,
            Ok(Some("https://matrix.org"), None, json!({"room": "!31hneApxJ_1o"}))),
        case(N::Matrix, &[("room", "#a:b")], TOKEN, Err("--homeserver is required for matrix accounts")),
        case(N::Matrix, &[("base-url", "https://matrix.org")], TOKEN, Err("--room is required for matrix accounts")),
        case(N::Matrix, &[("base-url", "https://matrix.org"), ("room", "announce")], TOKEN, Err("--room \"announce\" is not valid")),
        case(N::Matrix, &[("base-url", "https://matrix.org"), ("room", "#announce")], TOKEN, Err("--room \"#announce\" is not valid")),
        case(N::Matrix, &[("base-url", "https://matrix.org"), ("chat", "#a:b")], TOKEN, Err("--chat does not apply to matrix accounts; use --room")),
        // Nostr: relays and a secret key.
        case(N::Nostr, &[("relay", "wss://Relay.Damus.io/"), ("relay", "wss://relay.damus.io"), ("relay", "ws://localhost:7777")], Some(NSEC),
            Ok(None, None, json!({"relays": ["wss://relay.damus.io", "ws://localhost:7777"]}))),
        case(N::Nostr, &[("relay", "wss://nos.lol")], Some(NSEC_HEX), Ok(None, None, json!({"relays": ["wss://nos.lol"]}))),
        case(N::Nostr, &[("relay", "wss://nos.lol")], None, Ok(None, None, json!({"relays": ["wss://nos.lol"]}))),
        case(N::Nostr, &[], Some(NSEC), Err("--relay is required for nostr accounts")),
        case(N::Nostr, &[("relay", "https://relay.damus.io")], Some(NSEC), Err("is not a relay address")),
        case(N::Nostr, &[("relay", "relay.damus.io")], Some(NSEC), Err("--relay is not usable for nostr: it is not an absolute URL")),
        case(N::Nostr, &[("relay", "wss://nos.lol"), ("base-url", "https://nos.lol")], Some(NSEC),
            Err("--base-url does not apply to nostr accounts; give relays with --relay")),
        case(N::Nostr, &[("relay", "wss://nos.lol")], Some("npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6"),
            Err("that is a public key")),
        case(N::Nostr, &[("relay", "wss://nos.lol")], Some("nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe6"),
            Err("expected nsec1…")),
        // Reddit: --subreddit, r/ optional.
        case(N::Reddit, &[("subreddit", "r/rust")], TOKEN, Ok(Some("https://oauth.reddit.com"), None, json!({"subreddit": "rust"}))),
        case(N::Reddit, &[("subreddit", "/r/Rust_Lang/")], TOKEN, Ok(Some("https://oauth.reddit.com"), None, json!({"subreddit": "Rust_Lang"}))),
        case(N::Reddit, &[], TOKEN, Err("--subreddit is required for reddit accounts")),
        case(N::Reddit, &[("subreddit", "ab")], TOKEN, Err("--subreddit \"ab\" is not valid")),
        case(N::Reddit, &[("subreddit", "r/has-dash")], TOKEN, Err("--subreddit \"r/has-dash\" is not valid")),
        case(N::Reddit, &[("subreddit", "rust"), ("owner-id", "1")], TOKEN, Err("--owner-id does not apply to reddit accounts")),
        // Dev.to: the API key only; --base-url for another Forem.
        case(N::Devto, &[], TOKEN, Ok(Some("https://dev.to"), None, json!({}))),
        case(N::Devto, &[("base-url", "https://community.example.org/")], TOKEN, Ok(Some("https://community.example.org"), None, json!({}))),
        case(N::Devto, &[("chat", "x")], TOKEN, Err("--chat does not apply to devto accounts")),
        case(N::Devto, &[("base-url", "http://forem.example")], TOKEN, Err("uses http; use https")),
        // Webhook: --base-url is where to POST; the secret is the HMAC signing key.
        case(N::Webhook, &[("base-url", "https://example.com/hooks/postctl/")], TOKEN,
            Ok(Some("https://example.com/hooks/postctl"), None, json!({}))),
        case(N::Webhook, &[("base-url", "http://localhost:9000/hook"), ("handle", "ops")], None,
            Ok(Some("http://localhost:9000/hook"), Some("ops"), json!({}))),
        case(N::Webhook, &[], TOKEN, Err("--base-url is required for webhook accounts (the address postctl POSTs each post to), e.g. postctl accounts add webhook")),
        case(N::Webhook, &[("base-url", "http://hooks.example.com/postctl")], TOKEN, Err("uses http; use https")),
        case(N::Webhook, &[("base-url", "https://example.com/hook?key=abc")], TOKEN, Err("has a query")),
        case(N::Webhook, &[("base-url", "https://example.com/hook"), ("channel", "C0123ABCD")], TOKEN, Err("--channel does not apply to webhook accounts")),
        case(N::Webhook, &[("base-url", "https://example.com/hook")], Some("  "), Err("the signing key (HMAC-SHA256) given for this webhook account is not valid")),
        case(N::Webhook, &[("base-url", "https://example.com/hook")], Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), Ok(Some("https://example.com/hook"), None, json!({}))),
        case(N::Webhook, &[("base-url", "https://example.com/hook")], Some("whsec_not*base64"), Err("must go on in base64")),
    ]
}

#[test]
fn validate_account_table() {
    for (i, c) in cases().into_iter().enumerate() {
        let got = validate_account(c.network, &fields(c.fields), c.secret);
        let label = format!(
            "case {i}: {} {:?} secret={:?}",
            c.network,
            c.fields,
            c.secret.is_some()
        );
        match (got, c.want) {
            (Ok(got), Want::Ok(base_url, handle, settings)) => {
                let want = AccountSettings {
                    base_url: base_url.map(str::to_owned),
                    handle: handle.map(str::to_owned),
                    settings,
                };
                assert_eq!(got, want, "{label}");
            }
            (Err(err), Want::Err(text)) => {
                let message = err.to_string();
                assert!(
                    message.contains(text),
                    "{label}: {message:?} lacks {text:?}"
                );
                if let Some(secret) = c.secret.filter(|s| s.trim().len() >= 8) {
                    assert!(
                        !message.contains(secret),
                        "{label}: message shows the secret"
                    );
                    assert!(
                        !format!("{err:?}").contains(secret),
                        "{label}: Debug shows the secret"
                    );
                }
            }
            (Ok(got), Want::Err(text)) => {
                panic!("{label}: accepted as {got:?}, wanted an error with {text:?}")
            }
            (Err(err), Want::Ok(..)) => panic!("{label}: rejected: {err}"),
        }
    }
}

/// The table must cover every network with at least one accepted and two rejected cases.
#[test]
fn table_covers_every_network() {
    let all = cases();
    for network in Network::ALL {
        let ok = all
            .iter()
            .filter(|c| c.network == network && matches!(c.want, Want::Ok(..)))
            .count();
        let err = all
            .iter()
            .filter(|c| c.network == network && matches!(c.want, Want::Err(_)))
            .count();
        assert!(
            ok >= 1 && err >= 2,
            "{network}: {ok} valid and {err} invalid cases"
        );
    }
}

#[test]
fn account_names() {
    let cases = [
        ("work", Ok(())),
        ("work-mastodon", Ok(())),
        ("0day_news", Ok(())),
        ("a", Ok(())),
        ("abcdefghijklmnopqrstuvwxyz012345", Ok(())),
        ("abcdefghijklmnopqrstuvwxyz0123456", Err("")),
        ("", Err("")),
        ("-work", Err("")),
        ("_work", Err("")),
        ("work.mastodon", Err("")),
        ("Work", Err(" (try --name work)")),
        ("My Page", Err(" (try --name my-page)")),
        ("café", Err("")),
    ];
    for (name, want) in cases {
        let got = validate_account_name(name).map_err(|e| match e {
            AccountError::InvalidName { suggestion, .. } => suggestion,
            other => panic!("{name:?}: unexpected error {other}"),
        });
        assert_eq!(got, want.map_err(str::to_owned), "{name:?}");
    }
    let message = validate_account_name("Bad Name")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("e.g. --name work-mastodon"), "{message}");
}
