//! `postctl accounts`: adding accounts on several networks, listing them with where their
//! secret lives (never the secret), removing them, and refusing bad input.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{Env, Run};
use serde_json::Value;

/// The NIP-19 example secret key, in bech32 form.
const NSEC: &str = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5";
const HEX_KEY: &str = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa";

/// Distinct secrets, so a leak of any one of them is found wherever it went.
const MASTO_TOKEN: &str = "masto-tok-7Qw9Zp2Lx";
const BSKY_PASSWORD: &str = "abcd-efgh-ijkl-mnop";
const TG_TOKEN: &str = "123456789:AAE-telegram-SeCrEt-value";
const DISCORD_HOOK: &str = "https://discord.com/api/webhooks/123456789012345678/hookSecretPart-XyZ";
const MATRIX_TOKEN: &str = "syt_matrix_SeCrEt_4242";

/// Adds one account on each network the foundation issue names; returns every run.
fn add_all(env: &Env) -> Vec<Run> {
    let stdin = |s: &str| format!("{s}\n").into_bytes();
    vec![
        env.ok_full(
            &[
                "accounts",
                "add",
                "mastodon",
                "--name",
                "masto",
                "--instance",
                "https://fosstodon.org",
                "--token-stdin",
            ],
            Some(&stdin(MASTO_TOKEN)),
            &[],
        ),
        env.ok_full(
            &[
                "accounts",
                "add",
                "bluesky",
                "--name",
                "bsky",
                "--handle",
                "Me.Bsky.Social",
                "--app-password-stdin",
            ],
            Some(&stdin(BSKY_PASSWORD)),
            &[],
        ),
        env.ok_full(
            &[
                "accounts",
                "add",
                "telegram",
                "--name",
                "tg",
                "--chat",
                "@mychannel",
                "--token-env",
                "TG_BOT_TOKEN",
            ],
            None,
            &[("TG_BOT_TOKEN", TG_TOKEN)],
        ),
        env.ok_full(
            &[
                "accounts",
                "add",
                "discord",
                "--name",
                "dc",
                "--webhook-url-stdin",
            ],
            Some(&stdin(DISCORD_HOOK)),
            &[],
        ),
        env.ok_full(
            &[
                "accounts",
                "add",
                "matrix",
                "--name",
                "mx",
                "--homeserver",
                "https://matrix.org",
                "--room",
                "!abcdef:matrix.org",
                "--token-stdin",
            ],
            Some(&stdin(MATRIX_TOKEN)),
            &[],
        ),
        env.ok_full(
            &[
                "accounts",
                "add",
                "nostr",
                "--name",
                "nos",
                "--relay",
                "wss://relay.damus.io",
                "--relay",
                "wss://nos.lol",
                "--key-stdin",
            ],
            Some(&stdin(NSEC)),
            &[],
        ),
        env.ok_full(
            &[
                "accounts",
                "add",
                "nostr",
                "--name",
                "nos-hex",
                "--relay",
                "wss://relay.damus.io",
                "--key-stdin",
            ],
            Some(&stdin(HEX_KEY)),
            &[],
        ),
    ]
}

fn by_name<'a>(accounts: &'a Value, name: &str) -> &'a Value {
    accounts
        .as_array()
        .expect("accounts list --json is an array")
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no account {name} in {accounts:#}"))
}

#[test]
fn accounts_of_every_kind_are_added_and_listed_with_their_settings() {
    let env = Env::new();
    add_all(&env);
    let accounts = env.json(&["accounts", "list"]);
    assert_eq!(accounts.as_array().map(Vec::len), Some(7), "{accounts:#}");

    let masto = by_name(&accounts, "masto");
    assert_eq!(masto["network"], "mastodon");
    assert_eq!(masto["base_url"], "https://fosstodon.org");

    let bsky = by_name(&accounts, "bsky");
    assert_eq!(bsky["network"], "bluesky");
    assert_eq!(
        bsky["handle"], "me.bsky.social",
        "handles are case-insensitive, stored lowercase"
    );

    let tg = by_name(&accounts, "tg");
    assert_eq!(tg["network"], "telegram");
    assert_eq!(tg["settings"]["chat"], "@mychannel");

    assert_eq!(by_name(&accounts, "dc")["network"], "discord");

    let mx = by_name(&accounts, "mx");
    assert_eq!(mx["base_url"], "https://matrix.org");
    assert_eq!(mx["settings"]["room"], "!abcdef:matrix.org");

    let nos = by_name(&accounts, "nos");
    assert_eq!(nos["network"], "nostr");
    assert_eq!(
        nos["settings"]["relays"],
        serde_json::json!(["wss://relay.damus.io", "wss://nos.lol"])
    );

    // The table view names every account and its network.
    let table = env.ok(&["accounts", "list"]).stdout;
    for (name, network) in [
        ("masto", "mastodon"),
        ("bsky", "bluesky"),
        ("tg", "telegram"),
        ("dc", "discord"),
        ("mx", "matrix"),
        ("nos", "nostr"),
    ] {
        let line = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from\n{table}"));
        assert!(line.contains(network), "{line}");
    }
}

#[test]
fn the_list_says_where_each_secret_lives() {
    let env = Env::new();
    add_all(&env);
    let accounts = env.json(&["accounts", "list"]);
    let secrets_file = env.secrets_path().display().to_string();
    for name in ["masto", "bsky", "dc", "mx", "nos"] {
        let secret = by_name(&accounts, name)["secret"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(secret.contains(&secrets_file), "{name}: {secret}");
    }
    let tg = by_name(&accounts, "tg")["secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        tg.contains("TG_BOT_TOKEN"),
        "an env-var secret names its variable: {tg}"
    );

    // The stdin secrets really are in the 0600 file; the env var's value is not.
    let file = std::fs::read_to_string(env.secrets_path()).expect("read secrets.toml");
    for secret in [
        MASTO_TOKEN,
        BSKY_PASSWORD,
        DISCORD_HOOK,
        MATRIX_TOKEN,
        NSEC,
        HEX_KEY,
    ] {
        assert!(file.contains(secret), "secrets.toml lacks a stored secret");
    }
    assert!(
        !file.contains(TG_TOKEN),
        "--token-env must store only the variable's name"
    );
}

#[test]
fn secrets_never_reach_the_database_or_any_output() {
    let mut env = Env::new();
    // The env-var secret is set for every command, not only for `accounts add`.
    env.set("TG_BOT_TOKEN", TG_TOKEN);
    // Holding a connection open keeps the write-ahead log on disk after postctl exits,
    // so what postctl wrote to it can be inspected too.
    let keep_wal = env.db();
    keep_wal
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .expect("read the schema");

    let mut runs = add_all(&env);
    runs.push(env.ok(&["accounts", "list"]));
    runs.push(env.ok(&["accounts", "list", "--json"]));
    runs.push(env.ok_full(
        &[
            "accounts",
            "add",
            "mastodon",
            "--name",
            "m2",
            "--instance",
            "https://x.example",
            "--token-stdin",
            "--json",
        ],
        Some(b"second-json-token-Q7\n"),
        &[],
    ));
    runs.push(env.ok(&["accounts", "rm", "m2", "--json"]));
    runs.push(env.ok(&["export", "--format", "json"]));

    let secrets = [
        MASTO_TOKEN,
        BSKY_PASSWORD,
        TG_TOKEN,
        DISCORD_HOOK,
        MATRIX_TOKEN,
        NSEC,
        HEX_KEY,
        "second-json-token-Q7",
    ];
    // The webhook URL's token part alone is a secret too.
    let secrets_and_parts: Vec<&str> = secrets
        .iter()
        .copied()
        .chain(["hookSecretPart-XyZ"])
        .collect();
    for run in &runs {
        for secret in &secrets_and_parts {
            assert!(
                !run.all_output().contains(secret),
                "postctl {:?} printed a secret",
                run.args
            );
        }
    }
    assert!(
        env.wal_path().exists(),
        "the WAL should still be there while a connection is open"
    );
    let mut stored = std::fs::read(env.db_path()).expect("read the database");
    stored.extend(std::fs::read(env.wal_path()).expect("read the WAL"));
    let contains = |needle: &str| stored.windows(needle.len()).any(|w| w == needle.as_bytes());
    // The scan does see what postctl wrote: the accounts' public settings are there.
    assert!(
        contains("fosstodon.org") && contains("!abcdef:matrix.org"),
        "the scan reads nothing"
    );
    for secret in &secrets_and_parts {
        assert!(
            !contains(secret),
            "the database or its WAL contains a secret"
        );
    }
    drop(keep_wal);
}

#[test]
fn secrets_file_and_database_are_private() {
    let env = Env::new();
    env.add_mastodon("masto", MASTO_TOKEN);
    for path in [env.db_path(), env.secrets_path()] {
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
    }
}

#[test]
fn removing_an_account_removes_its_secret_and_frees_its_name() {
    let env = Env::new();
    env.add_mastodon("masto", MASTO_TOKEN);
    env.add_bluesky("bsky", BSKY_PASSWORD);

    let removed = env.json(&["accounts", "rm", "masto"]);
    assert_eq!(removed["removed"], "masto");
    let names: Vec<Value> = env
        .json(&["accounts", "list"])
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, vec![Value::from("bsky")]);
    let file = std::fs::read_to_string(env.secrets_path()).expect("read secrets.toml");
    assert!(
        !file.contains(MASTO_TOKEN),
        "the removed account's secret is still stored"
    );
    assert!(
        file.contains(BSKY_PASSWORD),
        "another account's secret went too"
    );

    // The name can be used again, and the new account gets the new secret.
    env.add_mastodon("masto", "a-new-token");
    assert_eq!(
        env.json(&["accounts", "list"]).as_array().map(Vec::len),
        Some(2)
    );

    let run = env.fails(&["accounts", "rm", "nobody"], 2);
    assert!(
        run.stderr.contains("nobody") && run.stderr.contains("accounts list"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_account_with_scheduled_posts_is_removed_only_when_asked_to_cancel_them() {
    let env = Env::new();
    env.add_mastodon("masto", MASTO_TOKEN);
    let id = env.schedule("Soon", "masto", "2026-12-01 09:00");

    let run = env.fails(&["accounts", "rm", "masto"], 2);
    assert!(run.stderr.contains("--cancel-scheduled"), "{}", run.stderr);

    env.ok(&["accounts", "rm", "masto", "--cancel-scheduled"]);
    assert_eq!(env.target_states(&id), vec!["cancelled"]);
    assert!(
        env.json(&["list", "--upcoming"])
            .as_array()
            .expect("array")
            .is_empty()
    );
}

/// Bad `accounts add` input: (args, stdin, what the message must name).
#[test]
fn bad_account_input_is_refused_with_the_flag_to_fix() {
    let env = Env::new();
    env.add_mastodon("masto", MASTO_TOKEN);
    let secrets_before = std::fs::read(env.secrets_path()).expect("read secrets.toml");
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &["myspace", "--name", "ms", "--token-stdin"],
            "tok-case-1",
            &["unknown network", "mastodon"],
        ),
        (
            &["telegram", "--name", "tg", "--token-stdin"],
            "123:tok-case-2",
            &["--chat is required"],
        ),
        (
            &[
                "mastodon",
                "--name",
                "m2",
                "--instance",
                "https://fosstodon.org",
                "--chat",
                "@somechannel",
                "--token-stdin",
            ],
            "tok-case-3",
            &["--chat does not apply"],
        ),
        (
            &[
                "mastodon",
                "--name",
                "m2",
                "--instance",
                "fosstodon.org",
                "--token-stdin",
            ],
            "tok-case-4",
            &["--instance", "https://fosstodon.org"],
        ),
        (
            &[
                "mastodon",
                "--name",
                "m2",
                "--instance",
                "http://fosstodon.org",
                "--token-stdin",
            ],
            "tok-case-5",
            &["--instance", "https"],
        ),
        (
            &[
                "mastodon",
                "--name",
                "masto",
                "--instance",
                "https://fosstodon.org",
                "--token-stdin",
            ],
            "tok-case-6",
            &["already exists", "accounts rm masto"],
        ),
        (
            &[
                "mastodon",
                "--name",
                "My Account",
                "--instance",
                "https://fosstodon.org",
                "--token-stdin",
            ],
            "tok-case-7",
            &["--name my-account"],
        ),
        (
            &[
                "matrix",
                "--name",
                "mx",
                "--room",
                "!a:b.org",
                "--token-stdin",
            ],
            "tok-case-8",
            &["--homeserver"],
        ),
        (
            &[
                "matrix",
                "--name",
                "mx",
                "--homeserver",
                "https://matrix.org",
                "--room",
                "general",
                "--token-stdin",
            ],
            "tok-case-9",
            &["--room"],
        ),
        (
            &["bluesky", "--name", "b", "--app-password-stdin"],
            "tok-case-10",
            &["--handle"],
        ),
        (&["nostr", "--name", "n", "--key-stdin"], NSEC, &["--relay"]),
        (
            &[
                "nostr",
                "--name",
                "n",
                "--relay",
                "https://relay.example.org",
                "--key-stdin",
            ],
            NSEC,
            &["--relay", "wss://"],
        ),
        (
            &[
                "nostr",
                "--name",
                "n",
                "--relay",
                "wss://relay.example.org",
                "--key-stdin",
            ],
            "npub1xsecretlookingpublickeyq",
            &["npub"],
        ),
        // The secret is checked, and never repeated in the message.
        (
            &["discord", "--name", "dc", "--webhook-url-stdin"],
            "https://example.com/hook?token=tok-case-14",
            &["webhook URL", "not shown"],
        ),
    ];
    for (args, secret, expected) in cases {
        let mut full = vec!["accounts", "add"];
        full.extend_from_slice(args);
        let stdin = format!("{secret}\n");
        let run = env.fails_full(&full, Some(stdin.as_bytes()), &[], 2);
        for part in *expected {
            assert!(
                run.stderr.contains(part),
                "{args:?}: expected {part:?} in:\n{}",
                run.stderr
            );
        }
        assert!(
            !run.all_output().contains(secret),
            "{args:?} printed the secret"
        );
    }
    assert_eq!(
        std::fs::read(env.secrets_path()).expect("read secrets.toml"),
        secrets_before,
        "a refused account left a secret behind"
    );
}

/// `accounts add telegram --token-env "not a var"`, refused with exit 2 (checked by
/// [`Env::fails`]).
fn add_with_a_bad_token_env_name() -> Run {
    Env::new().fails(
        &[
            "accounts",
            "add",
            "telegram",
            "--name",
            "tg",
            "--chat",
            "@mychannel",
            "--token-env",
            "not a var",
        ],
        2,
    )
}

#[test]
fn token_env_requires_a_variable_name() {
    let run = add_with_a_bad_token_env_name();
    assert!(
        run.stderr
            .contains("--token-env takes the NAME of an environment variable, like TG_BOT_TOKEN"),
        "{}",
        run.stderr
    );
}

/// The usual mistake, `--token-env "$TOKEN"`, hands over the secret itself: the error
/// must not print it (terminals are shared, CI logs are public).
#[test]
fn a_secret_given_as_a_variable_name_is_never_echoed() {
    let env = Env::new();
    let secrets = [
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "AbCdEfGh0123456789ijklMNOP",
    ];
    for secret in secrets {
        let run = env.fails(
            &[
                "accounts",
                "add",
                "telegram",
                "--name",
                "tg",
                "--chat",
                "@mychannel",
                "--token-env",
                secret,
            ],
            2,
        );
        assert!(!run.stderr.contains(secret), "{}", run.stderr);
        assert!(!run.stderr.contains("AAHdqTcv"), "{}", run.stderr);
        assert!(
            run.stderr.contains("NAME of an environment variable"),
            "{}",
            run.stderr
        );
        let ai = env.fails(&["ai", "set", "--key-env", secret], 2);
        assert!(!ai.stderr.contains(secret), "{}", ai.stderr);
        assert!(
            ai.stderr.contains("--key-env takes the NAME"),
            "{}",
            ai.stderr
        );
    }
    let listed = env.ok(&["accounts", "list", "--json"]);
    assert!(!listed.stdout.contains("AbCdEfGh"), "{}", listed.stdout);
}

#[test]
fn a_bad_token_env_name_names_the_flag() {
    let run = add_with_a_bad_token_env_name();
    assert!(run.stderr.contains("--token-env"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("env:not a var"),
        "internal reference syntax: {}",
        run.stderr
    );
}

#[test]
fn token_env_with_the_variable_unset_stores_the_name_and_says_to_export_it() {
    let env = Env::new();
    let run = env.ok(&[
        "accounts",
        "add",
        "telegram",
        "--name",
        "tg",
        "--chat=-1001234567890",
        "--token-env",
        "TG_BOT_TOKEN",
    ]);
    assert!(run.stderr.contains("TG_BOT_TOKEN"), "{}", run.stderr);
    let tg = env.json(&["accounts", "list"]);
    assert_eq!(by_name(&tg, "tg")["settings"]["chat"], "-1001234567890");
    assert!(
        !env.secrets_path().exists(),
        "no secret was given, so none is stored"
    );
}

#[test]
fn a_numeric_telegram_chat_id_is_accepted_as_a_separate_argument() {
    let env = Env::new();
    env.ok(&[
        "accounts",
        "add",
        "telegram",
        "--name",
        "tg",
        "--chat",
        "-1001234567890",
        "--token-env",
        "TG_BOT_TOKEN",
    ]);
    let tg = env.json(&["accounts", "list"]);
    assert_eq!(by_name(&tg, "tg")["settings"]["chat"], "-1001234567890");
}

#[test]
fn secret_input_mistakes_are_usage_errors() {
    let env = Env::new();
    let masto = [
        "accounts",
        "add",
        "mastodon",
        "--name",
        "masto",
        "--instance",
        "https://fosstodon.org",
        "--token-stdin",
    ];
    // Two lines: probably the wrong file.
    let run = env.fails_full(&masto, Some(b"first-line\nsecond-line\n"), &[], 2);
    assert!(run.stderr.contains("one line"), "{}", run.stderr);
    assert!(
        !run.all_output().contains("first-line"),
        "printed the input"
    );
    // Nothing at all on stdin (not a terminal): an error, not a prompt or a hang.
    let run = env.fails_full(&masto, None, &[], 2);
    assert!(run.stderr.contains("--token-stdin <"), "{}", run.stderr);
    // A store name that does not exist.
    let run = env.fails_full(
        &masto,
        Some(b"tok\n"),
        &[("POSTCTL_SECRET_STORE", "vault")],
        2,
    );
    assert!(
        run.stderr.contains("POSTCTL_SECRET_STORE"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_readable_secrets_file_is_refused() {
    let env = Env::new();
    env.add_mastodon("masto", MASTO_TOKEN);
    std::fs::set_permissions(env.secrets_path(), std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    let run = env.fails_full(
        &[
            "accounts",
            "add",
            "mastodon",
            "--name",
            "m2",
            "--instance",
            "https://fosstodon.org",
            "--token-stdin",
        ],
        Some(b"tok-two\n"),
        &[],
        4,
    );
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
}

#[test]
fn a_failed_remove_leaves_the_account_in_place() {
    let env = Env::new();
    env.add_mastodon("masto", MASTO_TOKEN);
    // The secret store cannot be used: the account must stay, and so must its secret.
    std::fs::set_permissions(env.secrets_path(), std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    let before = env.dump();
    let run = env.run(&["accounts", "rm", "masto"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert_eq!(before, env.dump(), "the failed rm changed the database");

    std::fs::set_permissions(env.secrets_path(), std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    let run = env.run_full(
        &["accounts", "rm", "masto"],
        None,
        &[("POSTCTL_SECRET_STORE", "vault")],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(before, env.dump(), "the failed rm changed the database");
}
