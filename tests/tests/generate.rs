//! End-to-end tests of AI drafting through the `postctl` binary, against the fake Anthropic
//! Messages server and the fake OpenAI-compatible server: streamed variants saved as drafts
//! fitted per network, the shortening round, rewrites, hashtags, the settings and key, and
//! every failure leaving the database as it was.

mod common;

use common::Env;
use postctl_tests::fakes::{FakeAnthropic, FakeOpenAi, Reply};
use serde_json::Value;

const CHANGELOG: &str = "# Changelog

## [2.0.0] - 2026-11-20
### Added
- Faster sync across devices
- Offline mode for the calendar

## [1.9.0] - 2026-10-01
### Fixed
- An ancient bug nobody should mention
";

/// Over Bluesky's 300 characters, within Mastodon's 500.
fn long_variant() -> String {
    format!(
        "postctl 2.0 is here! {} Read more at https://postctl.example/2.0",
        "Faster sync across devices and an offline calendar that keeps working on the train. "
            .repeat(4)
    )
}

/// An environment with `masto` and `bsky`, a voice, and the fake Anthropic as the model.
fn setup(fake: &FakeAnthropic) -> Env {
    let mut env = Env::with_accounts();
    env.set("ANTHROPIC_BASE_URL", &fake.base_url());
    env.set("ANTHROPIC_API_KEY", FakeAnthropic::KEY);
    env.ok(&["ai", "set", "--model", FakeAnthropic::MODEL]);
    env.ok(&[
        "voice",
        "set",
        "brand",
        "--tone",
        "friendly, plain",
        "--avoid",
        "synergy",
        "--hashtags",
        "#RustLang",
    ]);
    env
}

fn drafts(out: &Value) -> Vec<Value> {
    out["drafts"]
        .as_array()
        .unwrap_or_else(|| panic!("no drafts in {out}"))
        .clone()
}

fn accounts(draft: &Value) -> Vec<String> {
    draft["accounts"]
        .as_array()
        .unwrap_or_else(|| panic!("no accounts in {draft}"))
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect()
}

fn generated_posts(env: &Env) -> i64 {
    env.count("SELECT COUNT(*) FROM posts WHERE labels LIKE '%generated%'")
}

#[test]
fn variants_stream_and_become_drafts_fitted_per_network() {
    let fake = FakeAnthropic::start();
    let env = setup(&fake);
    let changelog = env.file("CHANGELOG.md", CHANGELOG);
    let long = long_variant();
    fake.push(Reply::Text(format!(
        "First take: postctl 2.0 syncs faster. #RustLang\n%%%\n{long}\n%%%\nThird: offline calendar, faster sync. #RustLang"
    )));
    let short =
        "postctl 2.0: faster sync and an offline calendar. https://postctl.example/2.0 #RustLang";
    fake.push(Reply::Text(short.to_string()));

    let run = env.ok(&[
        "--json",
        "generate",
        "announce the v2 release",
        "--from",
        &changelog.display().to_string(),
        "--voice",
        "brand",
        "--to",
        "masto,bsky",
        "--variants",
        "3",
    ]);
    let out = run.json();
    let drafts = drafts(&out);
    assert_eq!(drafts.len(), 4, "variant 2 needs two texts: {out}");
    assert_eq!(out["model"], FakeAnthropic::MODEL);

    // Variants 1 and 3 fit both networks: one draft each, for both accounts.
    for (draft, variant) in [(&drafts[0], 1), (&drafts[3], 3)] {
        assert_eq!(draft["variant"], variant);
        assert_eq!(accounts(draft), ["masto", "bsky"]);
        assert_eq!(draft["shortened"], false);
    }
    // Variant 2 fits Mastodon as written; Bluesky gets the model's shorter text.
    assert_eq!(accounts(&drafts[1]), ["masto"]);
    assert_eq!(drafts[1]["text"], long.trim());
    assert_eq!(accounts(&drafts[2]), ["bsky"]);
    assert_eq!(drafts[2]["text"], short);
    assert_eq!(drafts[2]["shortened"], true);

    // Saved as drafts, labelled, with their accounts and no time.
    assert_eq!(generated_posts(&env), 4);
    let id = drafts[2]["id"].as_str().expect("id");
    let shown = env.json(&["draft", "show", id]);
    assert_eq!(shown["body"], short);
    assert_eq!(env.target_states(id), ["draft"]);

    // The text streamed to the terminal, variant by variant, with the shortening round.
    assert!(
        run.stderr.contains("First take: postctl 2.0"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("variant 3"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("%%%"),
        "separators become headings: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("shortening variant 2 for Bluesky"),
        "{}",
        run.stderr
    );

    // What the model was asked: the voice, the strictest length, the chosen release only.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.path, "/v1/messages");
    assert_eq!(first.header("x-api-key"), Some(FakeAnthropic::KEY));
    assert!(first.header("anthropic-version").is_some());
    assert_eq!(first.body["stream"], true);
    assert_eq!(first.body["model"], FakeAnthropic::MODEL);
    let asked = first.prompt_text();
    for needle in [
        "announce the v2 release",
        "friendly, plain",
        "synergy",
        "#RustLang",
        "at most 300 characters",
        "Faster sync across devices",
        "3 different variants",
    ] {
        assert!(asked.contains(needle), "{needle:?} not asked:\n{asked}");
    }
    assert!(
        !asked.contains("ancient bug"),
        "only the 2.0.0 section is sent"
    );
    let second = requests[1].prompt_text();
    assert!(second.contains(long.trim()), "{second}");
    assert!(second.contains("at most 300"), "{second}");
    assert!(!run.all_output().contains(FakeAnthropic::KEY));
}

#[test]
fn a_variant_still_too_long_after_shortening_is_saved_and_reported() {
    let fake = FakeAnthropic::start();
    let env = setup(&fake);
    fake.push(Reply::Text(long_variant()));
    fake.push(Reply::Text(long_variant()));
    let run = env.ok(&["generate", "announce it", "--to", "bsky"]);
    assert!(
        run.stderr.contains("still") && run.stderr.contains("/300 on bsky"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("over the limit"), "{}", run.stdout);
    assert_eq!(generated_posts(&env), 1);
    assert_eq!(fake.requests().len(), 2, "shortened once, not again");
}

#[test]
fn overload_and_rate_limits_are_retried_and_only_the_final_answer_is_kept() {
    let fake = FakeAnthropic::start();
    let env = setup(&fake);
    fake.push(Reply::Overloaded);
    fake.push(Reply::RateLimited {
        retry_after_secs: 0,
    });
    fake.push(Reply::StreamError {
        text: "A half-written draft that the overload cut off".into(),
        deltas: 2,
    });
    fake.push(Reply::Text("The finished draft. #RustLang".into()));
    let out = env.json(&["generate", "announce it", "--to", "masto"]);
    let drafts = drafts(&out);
    assert_eq!(drafts.len(), 1, "{out}");
    assert_eq!(drafts[0]["text"], "The finished draft. #RustLang");
    assert_eq!(fake.requests().len(), 4);
    assert_eq!(generated_posts(&env), 1);
}

/// Runs a command expected to fail with `code` after the model's text may have streamed to
/// stderr: the last line of stderr is the error, stdout is empty, and the database is
/// exactly as it was.
fn fails(env: &Env, args: &[&str], code: i32) -> common::Run {
    let before = env.dump();
    let run = env.run(args);
    assert_eq!(run.code, code, "{args:?}:\n{}\n{}", run.stdout, run.stderr);
    let last = run.stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: "),
        "{args:?} ends without an error:\n{}",
        run.stderr
    );
    assert!(
        run.stdout.trim().is_empty(),
        "{args:?} printed data:\n{}",
        run.stdout
    );
    assert_eq!(
        before,
        env.dump(),
        "{args:?} failed but changed the database"
    );
    run
}

/// [`fails`], with `needle` in the message and no key anywhere in the output: neither the
/// fake's nor the one the environment gives (a wrong key is a secret too).
fn fails_with(env: &Env, args: &[&str], code: i32, needle: &str) {
    let run = fails(env, args, code);
    assert!(
        run.stderr.contains(needle),
        "{args:?}: {needle:?} not in:\n{}",
        run.stderr
    );
    let given = env
        .vars()
        .iter()
        .filter(|(name, _)| name == "ANTHROPIC_API_KEY")
        .map(|(_, key)| key.as_str());
    for key in given.chain([FakeAnthropic::KEY]) {
        assert!(
            !run.all_output().contains(key),
            "{args:?} printed an API key:\n{}",
            run.all_output()
        );
    }
}

#[test]
fn every_failure_says_what_to_do_and_saves_nothing() {
    let fake = FakeAnthropic::start();
    let mut env = setup(&fake);
    let generate = [
        "generate",
        "announce it",
        "--to",
        "masto,bsky",
        "--variants",
        "2",
    ];
    // Few retries, so the exhausted cases are quick.
    std::fs::write(
        env.config_path(),
        format!(
            "[ai]\nmodel = \"{}\"\nmax_retries = 1\n",
            FakeAnthropic::MODEL
        ),
    )
    .expect("config");

    fake.push(Reply::Overloaded);
    fake.push(Reply::Overloaded);
    fails_with(&env, &generate, 1, "overloaded");

    fake.push(Reply::Cut {
        text: "A draft that stops in the middle of a sentence".into(),
        deltas: 2,
    });
    fails_with(&env, &generate, 1, "stopped midway");

    fake.push(Reply::MaxTokens("A draft cut at the token".into()));
    fails_with(&env, &generate, 1, "max_tokens");

    fake.push(Reply::StreamError {
        text: "One variant\n%%%\nAnother".into(),
        deltas: 1,
    });
    fake.push(Reply::StreamError {
        text: "One variant\n%%%\nAnother".into(),
        deltas: 1,
    });
    fails_with(&env, &generate, 1, "overloaded");

    // A variant that needs shortening, and the shortening round fails: nothing is saved,
    // not even the variant that fitted.
    fake.push(Reply::Text(format!(
        "Fits everywhere.\n%%%\n{}",
        long_variant()
    )));
    fake.push(Reply::Cut {
        text: "Shorter but".into(),
        deltas: 1,
    });
    fails_with(&env, &generate, 1, "stopped midway");

    fails_with(
        &env,
        &["generate", "announce it", "--model", "claude-nope"],
        2,
        "no model \"claude-nope\"",
    );

    fake.set_context_tokens(20);
    fails_with(&env, &generate, 2, "too long");
    fake.set_context_tokens(FakeAnthropic::CONTEXT_TOKENS);

    env.set("ANTHROPIC_API_KEY", "sk-ant-wrong");
    fails_with(&env, &generate, 4, "rejected the API key");

    env.unset("ANTHROPIC_API_KEY");
    fails_with(&env, &generate, 4, "ANTHROPIC_API_KEY");

    env.set("ANTHROPIC_API_KEY", FakeAnthropic::KEY);
    // A port nothing listens on: the network is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = closed.local_addr().expect("address");
    drop(closed);
    env.set("ANTHROPIC_BASE_URL", &format!("http://{address}"));
    fails_with(&env, &generate, 1, "could not reach");

    std::fs::write(env.config_path(), "").expect("config");
    env.set("ANTHROPIC_BASE_URL", &fake.base_url());
    fails_with(&env, &generate, 2, "no model is configured");

    fails_with(&env, &["generate", "--to", "masto"], 2, "say what to write");
    assert_eq!(generated_posts(&env), 0);
}

#[test]
fn rewrite_for_one_network_moves_it_to_a_post_of_its_own() {
    let fake = FakeAnthropic::start();
    let env = setup(&fake);
    let original = env
        .ok(&["draft", "new", &long_variant(), "--to", "masto,bsky"])
        .id();
    fake.push(Reply::Text("Short and sweet for Bluesky.".into()));
    let out = env.json(&[
        "generate",
        "--rewrite",
        &original,
        "--for",
        "bsky",
        "be playful",
    ]);
    assert_eq!(out["new_post"], true, "{out}");
    let new_id = out["post_id"].as_str().expect("post_id").to_string();
    assert_ne!(new_id, original);
    assert!(fake.requests()[0].prompt_text().contains("be playful"));

    let moved = env.json(&["draft", "show", &new_id]);
    assert_eq!(moved["body"], "Short and sweet for Bluesky.");
    let accounts_of = |post: &Value| -> Vec<String> {
        post["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .map(|t| t["account"].as_str().expect("account").to_string())
            .collect()
    };
    assert_eq!(accounts_of(&moved), ["bsky"]);
    let kept = env.json(&["draft", "show", &original]);
    assert_eq!(kept["body"], long_variant());
    assert_eq!(accounts_of(&kept), ["masto"]);

    // A post for that network only is rewritten in place.
    fake.push(Reply::Text("Even shorter.".into()));
    let out = env.json(&["generate", "--rewrite", &new_id, "--for", "bluesky"]);
    assert_eq!(out["new_post"], false);
    assert_eq!(out["post_id"], new_id.as_str());
    assert_eq!(
        env.json(&["draft", "show", &new_id])["body"],
        "Even shorter."
    );

    let run = fails(
        &env,
        &["generate", "--rewrite", &new_id, "--for", "myspace"],
        2,
    );
    assert!(
        run.stderr.contains("--for takes a network"),
        "{}",
        run.stderr
    );
}

#[test]
fn hashtags_are_suggested_and_nothing_changes() {
    let fake = FakeAnthropic::start();
    let env = setup(&fake);
    let id = env
        .ok(&["draft", "new", "postctl 2.0 syncs faster", "--to", "masto"])
        .id();
    fake.push(Reply::Text(
        "#RustLang\n#OpenSource\n- #cli\n#rustlang".into(),
    ));
    let before = env.dump();
    let out = env.json(&["generate", "--hashtags", &id, "--count", "3"]);
    assert_eq!(
        out["hashtags"],
        serde_json::json!(["#RustLang", "#OpenSource", "#cli"])
    );
    assert_eq!(before, env.dump(), "suggesting changes nothing");
    assert!(
        fake.requests()[0]
            .prompt_text()
            .contains("postctl 2.0 syncs faster")
    );

    env.ok(&["voice", "set", "brand", "--hashtag-policy", "none"]);
    let run = fails(&env, &["generate", "--hashtags", &id], 2);
    assert!(run.stderr.contains("uses no hashtags"), "{}", run.stderr);
    assert_eq!(fake.requests().len(), 1, "the model is not asked");
}

#[test]
fn a_key_stored_with_ai_set_is_used_and_never_shown() {
    let fake = FakeAnthropic::start();
    let mut env = setup(&fake);
    env.unset("ANTHROPIC_API_KEY");
    let set = env.ok_full(
        &["ai", "set", "--key-stdin"],
        Some(format!("{}\n", FakeAnthropic::KEY).as_bytes()),
        &[],
    );
    let config = std::fs::read_to_string(env.config_path()).expect("config");
    assert!(config.contains("key = \"file:ai/anthropic\""), "{config}");
    assert!(!config.contains(FakeAnthropic::KEY));
    let show = env.ok(&["ai", "show"]);
    assert!(
        show.stdout.contains(FakeAnthropic::MODEL),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("secrets.toml"), "{}", show.stdout);

    fake.push(Reply::Text("Drafted with the stored key.".into()));
    let run = env.ok(&["--json", "generate", "announce it", "--to", "masto"]);
    assert_eq!(
        fake.requests()[0].header("x-api-key"),
        Some(FakeAnthropic::KEY)
    );
    for run in [&set, &show, &run] {
        assert!(
            !run.all_output().contains(FakeAnthropic::KEY),
            "{}",
            run.all_output()
        );
    }
    let db = std::fs::read(env.db_path()).expect("db");
    assert!(!String::from_utf8_lossy(&db).contains(FakeAnthropic::KEY));
}

/// Points postctl at a fake OpenAI-compatible server.
fn openai_env(fake: &FakeOpenAi) -> Env {
    let env = Env::with_accounts();
    env.ok(&[
        "ai",
        "set",
        "--provider",
        "openai",
        "--base-url",
        &fake.base_url(),
        "--model",
        FakeOpenAi::MODEL,
    ]);
    env
}

#[test]
fn an_openai_compatible_server_drafts_too() {
    let fake = FakeOpenAi::start();
    let env = openai_env(&fake);
    fake.push(Reply::Text(
        "A local model's draft.\n%%%\nAnd its second one.".into(),
    ));
    let out = env.json(&[
        "generate",
        "announce it",
        "--to",
        "masto",
        "--variants",
        "2",
    ]);
    let texts: Vec<String> = drafts(&out)
        .iter()
        .map(|d| d["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(texts, ["A local model's draft.", "And its second one."]);
    let request = &fake.requests()[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        None,
        "a local server needs no key"
    );
    assert_eq!(request.body["stream"], true);
    assert_eq!(request.body["messages"][0]["role"], "system");

    fake.push(Reply::Cut {
        text: "half of it".into(),
        deltas: 1,
    });
    let run = fails(&env, &["generate", "announce it", "--to", "masto"], 1);
    assert!(run.stderr.contains("stopped midway"), "{}", run.stderr);
    let run = fails(
        &env,
        &["generate", "announce it", "--model", "llama-nope"],
        2,
    );
    assert!(run.stderr.contains("llama-nope"), "{}", run.stderr);
    fake.set_context_tokens(10);
    let run = fails(&env, &["generate", "announce it"], 2);
    assert!(run.stderr.contains("too long"), "{}", run.stderr);
}

#[test]
fn a_model_that_refuses_max_tokens_is_asked_with_max_completion_tokens() {
    let fake = FakeOpenAi::start();
    fake.refuse_max_tokens();
    let env = openai_env(&fake);
    fake.push(Reply::Text("Drafted by a newer model.".into()));
    let out = env.json(&["generate", "announce it", "--to", "masto"]);
    assert_eq!(drafts(&out)[0]["text"], "Drafted by a newer model.");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "refused once, then asked the right way");
    assert!(requests[0].body.get("max_tokens").is_some());
    assert_eq!(requests[1].body["max_completion_tokens"], 2048);
    assert!(requests[1].body.get("max_tokens").is_none());
}

#[test]
fn an_openai_compatible_server_with_a_key() {
    let fake = FakeOpenAi::with_key("sk-local-secret");
    let mut env = openai_env(&fake);
    let run = fails(&env, &["generate", "announce it"], 4);
    assert!(run.stderr.contains("OPENAI_API_KEY"), "{}", run.stderr);
    env.set("OPENAI_API_KEY", "sk-local-secret");
    fake.push(Reply::Text("Keyed draft.".into()));
    let run = env.ok(&["generate", "announce it", "--to", "masto"]);
    assert_eq!(
        fake.requests()
            .last()
            .and_then(|r| r.header("authorization").map(str::to_string)),
        Some("Bearer sk-local-secret".to_string())
    );
    assert!(!run.all_output().contains("sk-local-secret"));
}
