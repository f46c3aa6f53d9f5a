//! End to end: `postctl post` of a text to every network's fake, the JSON it prints, the
//! status it leaves, and `post --dry-run` and `check`, which send nothing.

#[macro_use]
mod common;

use common::Env;
use common::networks::{Fake, Net, assert_no_secret, status_target};
use postctl_tests::fakes::{FakeBluesky, FakeDiscord, FakeMatrix, ReceivedPost};
use serde_json::{Value, json};

/// Markdown with bold, italics and the characters every markup escapes.
const TEXT: &str = "**Shipped** v1.2 & more <3 _now_";

/// What the network should hold: the text as stored, and the marked-up text as sent.
fn rendered(net: Net) -> (&'static str, Option<&'static str>) {
    match net {
        Net::Mastodon | Net::Bluesky | Net::Webhook => ("Shipped v1.2 & more <3 now", None),
        Net::Telegram => (
            "Shipped v1.2 & more <3 now",
            Some("<b>Shipped</b> v1.2 &amp; more &lt;3 <i>now</i>"),
        ),
        Net::DiscordWebhook | Net::DiscordBot => ("**Shipped** v1.2 & more <3 _now_", None),
        Net::SlackWebhook | Net::SlackBot => ("*Shipped* v1.2 &amp; more &lt;3 _now_", None),
        Net::Matrix => (
            "Shipped v1.2 & more <3 now",
            Some("<strong>Shipped</strong> v1.2 &amp; more &lt;3 <em>now</em>"),
        ),
    }
}

/// The generic webhook's receiver answers with an id and a link, as a receiver may.
const HOOK_ANSWER: &str = r#"{"id": "delivery-1", "url": "https://hooks.example.org/p/1"}"#;

/// The link postctl should report for `post`, from what the fake holds.
fn expected_url(net: Net, post: &ReceivedPost) -> Option<String> {
    match net {
        Net::Mastodon | Net::Telegram | Net::SlackBot => post.url.clone(),
        Net::Bluesky => {
            let rkey = post.id.rsplit('/').next().expect("an at:// uri");
            Some(format!(
                "https://bsky.app/profile/{}/post/{rkey}",
                FakeBluesky::HANDLE
            ))
        }
        Net::DiscordWebhook | Net::DiscordBot => Some(format!(
            "https://discord.com/channels/1000000000000000001/{}/{}",
            FakeDiscord::CHANNEL,
            post.id
        )),
        Net::Matrix => Some(format!(
            "https://matrix.to/#/{}/{}",
            FakeMatrix::ROOM.replace(':', "%3A"),
            post.id.replace('$', "%24").replace(':', "%3A")
        )),
        Net::Webhook => Some("https://hooks.example.org/p/1".into()),
        Net::SlackWebhook => None,
    }
}

fn text_post(net: Net) {
    let fake = Fake::start(net);
    if net == Net::Webhook {
        fake.webhook().respond_with(200, HOOK_ANSWER);
    }
    let env = Env::with_fakes([&fake]);
    let run = env.run(&["--json", "post", TEXT, "--to", net.account()]);
    assert_eq!(run.code, 0, "{net:?}: {}", run.all_output());

    let posts = fake.posts();
    assert_eq!(posts.len(), 1, "{net:?} should get one post: {posts:#?}");
    let (text, formatted) = rendered(net);
    assert_eq!(posts[0].text, text, "{net:?} text");
    assert_eq!(posts[0].formatted.as_deref(), formatted, "{net:?} markup");
    assert_eq!(posts[0].reply_to, None);

    let out = run.json();
    let post_id = out["post_id"].as_str().expect("post_id").to_string();
    let target = &out["targets"][0];
    assert_eq!(out["targets"].as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(target["account"], net.account());
    assert_eq!(target["network"], net.network());
    assert_eq!(target["state"], "published", "{out}");
    assert_eq!(target["error"], Value::Null);
    let url = expected_url(net, &posts[0]);
    assert_eq!(net.gives_url() || net == Net::Webhook, url.is_some());
    assert_eq!(
        target["urls"],
        json!(url.iter().collect::<Vec<_>>()),
        "{net:?}"
    );

    let status_run = env.ok(&["--json", "status", &post_id]);
    let status = status_target(&env, &post_id, net.account());
    assert_eq!(status["state"], "published");
    assert_eq!(status["attempt_count"], 1);
    let parts = status["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 1, "{status}");
    assert_eq!(parts[0]["url"], json!(url), "{status}");
    assert_eq!(status["attempts"][0]["outcome"], "published");

    assert_no_secret(&env, &[&run, &status_run], &[&fake]);
}

every_network!(text_post);

#[test]
fn the_credentials_reach_the_network_and_the_webhook_body_is_signed() {
    let fakes: Vec<Fake> = Net::ALL.into_iter().map(Fake::start).collect();
    let env = Env::with_fakes(&fakes);
    let to = Net::ALL.map(Net::account).join(",");
    let run = env.run(&["--json", "post", "One post, every network", "--to", &to]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let out = run.json();
    let targets = out["targets"].as_array().expect("targets");
    let states: Vec<&str> = targets
        .iter()
        .map(|t| t["state"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(states, ["published"; 9]);
    let accounts: Vec<&str> = targets
        .iter()
        .map(|t| t["account"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        accounts,
        Net::ALL.map(Net::account),
        "targets are listed in --to order"
    );
    for fake in &fakes {
        let posts = fake.posts();
        assert_eq!(posts.len(), 1, "{:?}", fake.net);
        let auth = posts[0].auth.clone().unwrap_or_default();
        let expected = match fake.net {
            Net::Mastodon | Net::SlackBot | Net::Matrix => format!("Bearer {}", fake.secret()),
            Net::DiscordBot => format!("Bot {}", fake.secret()),
            Net::Bluesky => {
                // The app password logs in once; posts carry the session's access token.
                assert!(auth.starts_with("Bearer ey"), "{auth:?}");
                assert_eq!(fake.bluesky().session_creates(), 1);
                continue;
            }
            Net::Webhook => {
                assert!(
                    fake.webhook().deliveries()[0]
                        .verify(common::networks::HOOK_KEY)
                        .is_ok(),
                    "the webhook body is not signed with the account's key"
                );
                continue;
            }
            _ => String::new(),
        };
        if expected.is_empty() {
            assert!(
                auth.contains(&fake.secret_core()),
                "{:?} saw {auth:?}",
                fake.net
            );
        } else {
            assert_eq!(auth, expected, "{:?}", fake.net);
        }
    }
    let refs: Vec<&Fake> = fakes.iter().collect();
    assert_no_secret(&env, &[&run], &refs);
}

#[test]
fn without_json_each_target_is_a_line_with_its_link() {
    let fake = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&fake]);
    let run = env.ok(&["post", "Plain output", "--to", "masto"]);
    let url = fake.posts()[0].url.clone().expect("a status URL");
    assert_eq!(run.stdout.trim(), format!("published  masto  {url}"));
}

#[test]
fn dry_run_sends_nothing_and_shows_each_networks_parts() {
    let masto = Fake::start(Net::Mastodon);
    let tg = Fake::start(Net::Telegram);
    let dc = Fake::start(Net::DiscordWebhook);
    let env = Env::with_fakes([&masto, &tg, &dc]);
    let long = common::networks::long_text(12); // about 700 characters
    let text = format!("**Release** notes.\n\n{long}");
    let run = env.run(&[
        "--json",
        "post",
        &text,
        "--to",
        "masto,tg,dchook",
        "--dry-run",
    ]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    for fake in [&masto, &tg, &dc] {
        assert!(
            fake.writes().is_empty(),
            "{:?} was sent something: {:?}",
            fake.net,
            fake.requests()
        );
    }
    assert_eq!(
        env.count("SELECT count(*) FROM posts"),
        0,
        "a dry run stores nothing"
    );
    let previews = run.json();
    let by_account = |name: &str| -> Value {
        previews
            .as_array()
            .and_then(|p| p.iter().find(|p| p["account"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no preview for {name}: {previews}"))
    };
    let masto_preview = by_account("masto");
    assert_eq!(masto_preview["max"], 500);
    assert_eq!(masto_preview["fits"], false);
    let parts = masto_preview["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 2, "{masto_preview}");
    assert!(
        parts[0]["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Release notes.")
    );
    for part in parts {
        assert!(part["length"].as_u64().unwrap_or(999) <= 500, "{part}");
    }
    let tg_preview = by_account("tg");
    assert_eq!(
        (tg_preview["max"].clone(), tg_preview["fits"].clone()),
        (json!(4096), json!(true))
    );
    let tg_parts = tg_preview["parts"].as_array().expect("parts");
    assert_eq!(tg_parts.len(), 1);
    assert!(
        tg_parts[0]["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("<b>Release</b> notes."),
        "Telegram's preview is its HTML: {tg_preview}"
    );
    let dc_preview = by_account("dchook");
    assert_eq!(dc_preview["fits"], true);
    assert!(
        dc_preview["parts"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("**Release** notes."),
        "{dc_preview}"
    );

    let human = env.run(&["post", &text, "--to", "masto", "--dry-run"]);
    assert_eq!(human.code, 0, "{}", human.all_output());
    assert!(
        human.stderr.contains("nothing was sent"),
        "{}",
        human.stderr
    );
    assert!(
        human.stdout.contains("masto (mastodon):"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("part 2"), "{}", human.stdout);
    assert!(masto.writes().is_empty());
}

#[test]
fn check_shows_length_and_max_per_network_and_fails_when_one_cannot_take_it() {
    let fakes: Vec<Fake> = [Net::Mastodon, Net::Bluesky, Net::DiscordWebhook]
        .into_iter()
        .map(Fake::start)
        .collect();
    let env = Env::with_fakes(&fakes);
    let short = "Shipped v1.2 🎉";
    let run = env.ok(&["check", short, "--to", "masto,bsky,dchook"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "masto (mastodon): 14/500 fits",
            "bsky (bluesky): 14/300 fits",
            "dchook (discord): 14/2000 fits",
        ],
        "{}",
        run.stdout
    );

    // 2,100 characters: a thread on Mastodon and Bluesky, too long for a Discord webhook.
    let long = common::networks::long_text(36);
    let length = long.chars().count();
    assert!(length > 2000, "{length}");
    let run = env.run(&["check", &long, "--to", "masto,bsky,dchook"]);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stdout
            .contains(&format!("masto (mastodon): {length}/500 ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("dchook (discord): {length}/2000 cannot")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("cannot take a thread"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("dchook cannot take this text"),
        "{}",
        run.stderr
    );

    let json = env
        .run(&["--json", "check", &long, "--to", "masto,dchook"])
        .json();
    assert_eq!(json[0]["length"], length);
    assert_eq!(json[0]["max"], 500);
    assert!(
        json[0]["parts"].as_array().map_or(0, Vec::len) >= 5,
        "{json}"
    );
    assert_eq!(json[1]["fits"], false);
    assert!(json[1]["error"].as_str().is_some(), "{json}");

    let never = env.run(&["check", &long, "--to", "masto", "--thread", "never"]);
    assert_ne!(never.code, 0, "{}", never.all_output());
    assert!(
        never
            .stdout
            .contains(&format!("{length} long where this network takes 500")),
        "{}",
        never.stdout
    );
    for fake in &fakes {
        assert!(
            fake.requests().is_empty(),
            "check must not call {:?}",
            fake.net
        );
    }
}

/// A webhook account added before postctl followed Standard Webhooks holds a plain signing
/// key: its receiver still gets the older `X-Postctl-Signature`, and the standard headers
/// are signed with the key's text (a standard library verifies them given that key in
/// base64).
#[test]
fn a_webhook_account_with_an_older_key_keeps_working() {
    const OLD_KEY: &str = "hook-signing-key-7f3a";
    let hook = postctl_tests::fakes::FakeWebhook::start();
    let env = Env::new();
    let add = env.ok_full(
        &[
            "accounts",
            "add",
            "webhook",
            "--name",
            "hook",
            "--base-url",
            &hook.url("/hooks/postctl"),
            "--token-stdin",
        ],
        Some(format!("{OLD_KEY}\n").as_bytes()),
        &[],
    );
    assert!(add.stderr.contains("whsec_"), "{}", add.stderr);
    env.ok(&["post", "shipped", "--to", "hook"]);
    let delivery = &hook.deliveries()[0];
    assert!(delivery.legacy_signature_valid(OLD_KEY.as_bytes()));
    let as_standard = format!("whsec_{}", base64_of(OLD_KEY.as_bytes()));
    assert_eq!(delivery.verify(&as_standard), Ok(()));
}

/// Standard base64, written out here so the test does not trust the code it checks.
fn base64_of(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
