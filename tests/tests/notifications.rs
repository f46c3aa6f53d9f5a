//! `postctl notifications` against a real `postctl-server`: channels added (a ntfy token
//! read from stdin or the environment, never printed or kept locally), listed and removed,
//! and preferences changed one at a time; then a real event reaches the tests crate's
//! `FakeNtfy` with the token, through the preference the command set.

mod common;

use std::time::{Duration, Instant};

use common::Env;
use common::server::{PASSWORD, Server, token};
use postctl_tests::fakes::FakeNtfy;
use serde_json::json;

const NTFY_TOKEN: &str = "tk_cli_ntfy_token_93e1";

#[test]
fn channels_and_preferences_are_managed_from_the_terminal() {
    let ntfy = FakeNtfy::protected(NTFY_TOKEN);
    let server = Server::start_with(&[("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS", "true")]);
    server.add_user("alice", &[]);
    let env = Env::new();
    env.ok_full(
        &["login", &server.base, "--user", "alice", "--password-stdin"],
        Some(PASSWORD),
        &[],
    );
    let empty = env.ok(&["notifications", "channels", "list"]);
    assert!(empty.stderr.contains("No channels yet"), "{}", empty.stderr);

    let topic = ntfy.topic_url("alerts");
    let added = env.ok_full(
        &[
            "notifications",
            "channels",
            "add",
            "ntfy",
            &topic,
            "--token-stdin",
        ],
        Some(format!("{NTFY_TOKEN}\n").as_bytes()),
        &[],
    );
    let id = added.stdout.trim().to_string();
    assert!(!id.is_empty(), "{}", added.all_output());
    assert!(
        added.stderr.contains("sealed on the server"),
        "{}",
        added.stderr
    );
    // The same through the environment, as JSON.
    let second = env
        .ok_full(
            &[
                "--json",
                "notifications",
                "channels",
                "add",
                "ntfy",
                &ntfy.topic_url("other"),
                "--token-env",
                "NTFY_TOKEN_FOR_TEST",
            ],
            None,
            &[("NTFY_TOKEN_FOR_TEST", NTFY_TOKEN)],
        )
        .json();
    assert_eq!(second["token_set"], true, "{second}");

    let listed = env.json(&["notifications", "channels", "list"]);
    let listed = listed.as_array().expect("a list").clone();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|c| c["kind"] == "ntfy" && c["token_set"] == true)
    );
    let table = env.ok(&["notifications", "channels", "list"]);
    assert!(
        table.stdout.contains(&id) && table.stdout.contains(&topic),
        "{}",
        table.stdout
    );

    // Bad input: a clear error, exit 2, nothing added on the server.
    let no_token = env.fails(&["notifications", "channels", "add", "telegram", "4242"], 2);
    assert!(
        no_token.stderr.contains("bot's token"),
        "{}",
        no_token.stderr
    );
    let token_for_email = env.fails_full(
        &[
            "notifications",
            "channels",
            "add",
            "email",
            "a@example.org",
            "--token-stdin",
        ],
        Some(b"x\n"),
        &[],
        2,
    );
    assert!(
        token_for_email.stderr.contains("takes no token"),
        "{}",
        token_for_email.stderr
    );
    let unset = env.fails(
        &[
            "notifications",
            "channels",
            "add",
            "ntfy",
            &topic,
            "--token-env",
            "NOT_SET_ANYWHERE",
        ],
        2,
    );
    assert!(
        unset.stderr.contains("NOT_SET_ANYWHERE"),
        "{}",
        unset.stderr
    );
    let no_smtp = env.run_full(
        &["notifications", "channels", "add", "email", "a@example.org"],
        None,
        &[],
    );
    assert_ne!(no_smtp.code, 0);
    assert!(no_smtp.stderr.contains("SMTP"), "{}", no_smtp.stderr);
    assert_eq!(
        env.json(&["notifications", "channels", "list"])
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Preferences: scheduled posts reach ntfy; one change keeps the others.
    let defaults = env.json(&["notifications", "preferences"]);
    assert_eq!(
        defaults["events"]["post.scheduled"]["default"], true,
        "{defaults}"
    );
    let set = env.ok(&[
        "notifications",
        "preferences",
        "set",
        "post.scheduled",
        "ntfy",
        "on",
    ]);
    assert!(
        set.stderr.contains("post.scheduled now reaches: ntfy"),
        "{}",
        set.stderr
    );
    env.ok(&[
        "notifications",
        "preferences",
        "set",
        "post.published",
        "inapp",
        "on",
    ]);
    let prefs = env.json(&["notifications", "preferences"]);
    assert_eq!(
        prefs["events"]["post.scheduled"],
        json!({"channels": ["ntfy"], "default": false})
    );
    assert_eq!(
        prefs["events"]["post.published"],
        json!({"channels": ["inapp"], "default": false})
    );
    assert_eq!(prefs["events"]["post.failed"]["default"], true, "{prefs}");
    let shown = env.ok(&["notifications", "preferences"]);
    assert!(
        shown.stdout.contains("post.scheduled") && shown.stdout.contains("chosen"),
        "{}",
        shown.stdout
    );
    let bad_event = env.fails(
        &[
            "notifications",
            "preferences",
            "set",
            "post.exploded",
            "ntfy",
            "on",
        ],
        2,
    );
    assert!(
        bad_event.stderr.contains("not an event type"),
        "{}",
        bad_event.stderr
    );
    let bad_channel = env.fails(
        &[
            "notifications",
            "preferences",
            "set",
            "post.failed",
            "pager",
            "on",
        ],
        2,
    );
    assert!(
        bad_channel.stderr.contains("not a channel"),
        "{}",
        bad_channel.stderr
    );

    // Remove the second channel; a real event reaches the first with its token.
    let second_id = second["id"].as_str().expect("an id");
    env.ok(&["notifications", "channels", "remove", second_id]);
    let session = token(&env);
    let (status, post) = server.send(
        "POST",
        "/api/v1/posts",
        &session,
        &json!({"body": "To ntfy", "title": "Ntfy", "at": "2031-01-01T09:00:00Z"}).to_string(),
    );
    assert_eq!(status, 201, "{post}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ntfy.messages().is_empty() {
        assert!(Instant::now() < deadline, "no ntfy message came");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let messages = ntfy.messages();
    assert_eq!(messages.len(), 1, "only the channel left: {messages:?}");
    assert_eq!(messages[0].topic, "alerts");
    assert_eq!(
        messages[0].authorization.as_deref(),
        Some(format!("Bearer {NTFY_TOKEN}").as_str())
    );

    // The token is nowhere locally: not in the database, not in any output.
    let db = std::fs::read(env.db_path()).expect("the database");
    assert!(!String::from_utf8_lossy(&db).contains(NTFY_TOKEN));
    assert!(!added.all_output().contains(NTFY_TOKEN));
    assert!(!table.all_output().contains(NTFY_TOKEN));
}
