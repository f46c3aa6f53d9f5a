//! The browser sign-in for VK ID (OAuth 2.1 with PKCE and a device id, rotating refresh
//! tokens), Instagram Login and Threads (a code for a short-lived token, exchanged for a
//! 60-day one, renewed ahead of its expiry; the user id from the answer or `/me`) and
//! Facebook Login (a 60-day user token that chooses the Page, never renewed: needing
//! sign-in a week before its end), against the fakes' authorization servers, the test
//! playing the browser: `accounts add --client-id`, refreshes by `accounts check`, `post`
//! and the daemon, two processes refreshing at once, a revoked sign-in holding the posts
//! until `accounts reauth`.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::Env;
use common::x::{callback, free_port, sign_in_as_browser, stored_tokens};
use postctl_tests::fakes::{
    FakeFacebook, FakeInstagram, FakeServer, FakeThreads, FakeVk, MetaSignIn,
};

const VK_AUTHORIZE: &str = "/authorize?";
const IG_AUTHORIZE: &str = "/oauth/authorize?";

fn vk_fake(port: u16) -> FakeVk {
    let fake = FakeVk::start();
    fake.configure_sign_in(|c| c.redirect_uris = vec![callback(port)]);
    fake
}

fn vk_args(fake: &FakeVk, port: u16) -> Vec<String> {
    [
        "accounts",
        "add",
        "vk",
        "--name",
        "vk",
        "--owner-id",
        &format!("-{}", FakeVk::GROUP_ID),
        "--from-group",
        "--client-id",
        FakeVk::CLIENT_ID,
        "--base-url",
        &fake.base_url(),
        "--no-browser",
        "--redirect-port",
        &port.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `vk` added through VK ID with an access token about to expire (a minute: postctl
/// refreshes within 15 minutes of expiry); the fake hands out hour-long tokens after.
fn signed_in_vk(env: &Env) -> (FakeVk, u16) {
    let port = free_port();
    let fake = vk_fake(port);
    fake.configure_sign_in(|c| c.access_lifetime = Duration::from_secs(60));
    let (code, said) = sign_in_as_browser(env, &strs(&vk_args(&fake, port)), None, VK_AUTHORIZE);
    assert_eq!(code, 0, "{said}");
    fake.configure_sign_in(|c| c.access_lifetime = Duration::from_secs(60 * 60));
    (fake, port)
}

fn grants(requests: &[(String, bool)], grant: &str) -> Vec<bool> {
    requests
        .iter()
        .filter(|(g, _)| g == grant)
        .map(|(_, granted)| *granted)
        .collect()
}

#[test]
fn vk_id_signs_in_with_pkce_and_the_device_id_and_stores_tokens_only_in_the_secret_store() {
    let env = Env::new();
    let port = free_port();
    let fake = vk_fake(port);
    let (code, said) = sign_in_as_browser(&env, &strs(&vk_args(&fake, port)), None, VK_AUTHORIZE);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("signed in and added VK account vk"), "{said}");
    assert!(said.contains("Trusted Redirect URL"), "{said}");
    // One code traded, its verifier matching the challenge and its device id the one
    // the redirect brought.
    assert_eq!(
        fake.token_requests(),
        [("authorization_code".to_string(), true)]
    );
    let tokens = stored_tokens(&env, "vk");
    assert!(fake.access_token_works(tokens["access_token"].as_str().expect("a token")));
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    assert!(tokens["device_id"].is_string(), "{tokens}");
    // The signed-in token reaches the API.
    env.ok(&["accounts", "check", "vk"]);
    let dump = format!("{:?}", env.dump());
    assert!(
        !dump.contains("vk-access-") && !dump.contains("vk-refresh-") && !dump.contains("vk-code-")
    );
    assert!(
        !said.contains("vk-access-") && !said.contains("vk-code-"),
        "{said}"
    );
}

#[test]
fn a_vk_token_about_to_expire_is_refreshed_and_the_rotated_refresh_token_kept() {
    let env = Env::new();
    let (fake, _) = signed_in_vk(&env);
    let first = stored_tokens(&env, "vk");
    let check = env.run(&["accounts", "check", "vk"]);
    assert_eq!(check.code, 0, "{}", check.all_output());
    assert_eq!(grants(&fake.token_requests(), "refresh_token"), [true]);
    let now = stored_tokens(&env, "vk");
    assert_ne!(now["refresh_token"], first["refresh_token"]);
    assert_eq!(now["device_id"], first["device_id"]);
    assert!(fake.access_token_works(now["access_token"].as_str().expect("a token")));
    // Fresh now: the next command does not refresh again.
    env.ok(&["accounts", "check", "vk"]);
    assert_eq!(grants(&fake.token_requests(), "refresh_token"), [true]);
}

#[test]
fn two_processes_refreshing_vk_at_once_spend_the_rotating_refresh_token_once() {
    let env = Env::new();
    let (fake, _) = signed_in_vk(&env);
    fake.expire_access_tokens();
    fake.chaos().set_latency(Duration::from_millis(300));
    let checks: Vec<_> = (0..2)
        .map(|_| {
            env.command(&["accounts", "check", "vk"], &[])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start postctl")
        })
        .collect();
    for check in checks {
        let out = check.wait_with_output().expect("wait");
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{said}");
    }
    assert_eq!(grants(&fake.token_requests(), "refresh_token"), [true]);
    let accounts = env.json(&["accounts", "list"]);
    assert!(accounts[0].get("needs_sign_in").is_none(), "{accounts}");
}

/// The daemon's process, killed when the test ends.
struct DaemonGuard(std::process::Child);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_daemon_refreshes_vk_during_its_run_and_publishes_with_the_new_token() {
    let env = Env::new();
    let (fake, _) = signed_in_vk(&env);
    let _daemon = DaemonGuard(
        env.command(&["daemon"], &[])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the daemon"),
    );
    let due = common::networks::pinned_time(1);
    env.ok(&[
        "schedule",
        "From the daemon",
        "--to",
        "vk",
        "--at",
        &due,
        "--allow-past",
    ]);
    let started = std::time::Instant::now();
    while fake.posts().is_empty() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let posts = fake.posts();
    assert_eq!(posts.len(), 1, "the daemon did not publish within 20 s");
    assert_eq!(grants(&fake.token_requests(), "refresh_token"), [true]);
    let access = stored_tokens(&env, "vk")["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(posts[0].auth.as_deref(), Some(access.as_str()));
}

#[test]
fn a_revoked_vk_sign_in_holds_the_posts_until_reauth_then_they_go_out() {
    let mut env = Env::new();
    env.unset("POSTCTL_NOW");
    let (fake, port) = signed_in_vk(&env);
    fake.revoke_sign_in();
    let run = env.run(&["--json", "post", "Held for VK", "--to", "vk"]);
    assert_ne!(run.code, 0, "{}", run.all_output());
    let post = run.json()["post_id"]
        .as_str()
        .expect("a post id")
        .to_string();
    assert_eq!(
        env.target_states(&post),
        ["waiting_retry"],
        "held, not failed"
    );
    assert_eq!(grants(&fake.token_requests(), "refresh_token"), [false]);
    let listed = env.json(&["accounts", "list"]);
    let why = listed[0]["needs_sign_in"].as_str().expect("marked");
    assert!(why.contains("VK refused the refresh token"), "{why}");
    env.run(&["run-due"]);
    assert_eq!(grants(&fake.token_requests(), "refresh_token"), [false]);
    // Signed in again: the held post goes out.
    let port = port.to_string();
    let args = [
        "accounts",
        "reauth",
        "vk",
        "--no-browser",
        "--redirect-port",
        &port,
    ];
    let (code, said) = sign_in_as_browser(&env, &args, None, VK_AUTHORIZE);
    assert_eq!(code, 0, "{said}");
    let due = env.run(&["run-due"]);
    assert_eq!(due.code, 0, "{}", due.all_output());
    assert_eq!(env.target_states(&post), ["published"]);
    assert_eq!(fake.posts().len(), 1);
}

#[test]
fn a_vk_community_token_given_directly_still_works() {
    let env = Env::new();
    let fake = FakeVk::start();
    let owner = format!("-{}", FakeVk::GROUP_ID);
    let added = env.run_full(
        &[
            "accounts",
            "add",
            "vk",
            "--name",
            "vk",
            "--owner-id",
            &owner,
            "--from-group",
            "--base-url",
            &fake.base_url(),
            "--token-stdin",
        ],
        Some(format!("{}\n", FakeVk::TOKEN).as_bytes()),
        &[],
    );
    assert_eq!(added.code, 0, "{}", added.all_output());
    env.ok(&["post", "With a community token", "--to", "vk"]);
    assert_eq!(fake.posts().len(), 1);
    assert!(fake.token_requests().is_empty());
}

fn ig_fake(port: u16) -> FakeInstagram {
    let fake = FakeInstagram::start();
    fake.configure_sign_in(|c| c.redirect_uris = vec![callback(port)]);
    fake
}

fn ig_args(fake: &FakeInstagram, port: u16) -> Vec<String> {
    [
        "accounts",
        "add",
        "instagram",
        "--name",
        "insta",
        "--ig-user-id",
        FakeInstagram::USER_ID,
        "--client-id",
        FakeInstagram::CLIENT_ID,
        "--client-secret-stdin",
        "--base-url",
        &fake.base_url(),
        "--no-browser",
        "--redirect-port",
        &port.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn signed_in_instagram(env: &Env) -> (FakeInstagram, u16) {
    let port = free_port();
    let fake = ig_fake(port);
    let secret = format!("{}\n", FakeInstagram::CLIENT_SECRET);
    let (code, said) = sign_in_as_browser(
        env,
        &strs(&ig_args(&fake, port)),
        Some(secret.as_bytes()),
        IG_AUTHORIZE,
    );
    assert_eq!(code, 0, "{said}");
    (fake, port)
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn days_left(tokens: &serde_json::Value) -> i64 {
    let at = tokens["expires_at_ms"].as_i64().expect("an expiry");
    (at - chrono::Utc::now().timestamp_millis()) / DAY.as_millis() as i64
}

#[test]
fn instagram_login_trades_the_code_for_a_long_lived_token() {
    let env = Env::new();
    let (fake, _) = signed_in_instagram(&env);
    let requests = fake.token_requests();
    traded_the_code_then(requests, "ig_exchange_token");
    let tokens = stored_tokens(&env, "insta");
    let access = tokens["access_token"].as_str().expect("a token");
    assert!(access.starts_with("ig-long-"), "{tokens}");
    assert!(fake.access_token_works(access));
    assert!(days_left(&tokens) >= 59, "{tokens}");
    assert_eq!(tokens["client_secret"], FakeInstagram::CLIENT_SECRET);
    env.ok(&["accounts", "check", "insta"]);
    // Sixty days left: nothing to renew.
    assert_eq!(fake.token_requests().len(), 2);
    let dump = format!("{:?}", env.dump());
    assert!(!dump.contains("ig-long-") && !dump.contains(FakeInstagram::CLIENT_SECRET));
}

#[test]
fn instagram_login_without_the_app_secret_says_to_give_it_before_the_browser() {
    let env = Env::new();
    let port = free_port();
    let fake = ig_fake(port);
    let before = env.dump();
    let mut args = ig_args(&fake, port);
    args.retain(|a| a != "--client-secret-stdin");
    let run = env.fails(&strs(&args), 2);
    assert!(
        run.stderr.contains("--client-secret-stdin"),
        "{}",
        run.stderr
    );
    assert!(fake.token_requests().is_empty());
    assert_eq!(format!("{:?}", env.dump()), format!("{before:?}"));
}

#[test]
fn a_long_lived_instagram_token_is_renewed_when_less_than_a_week_is_left() {
    let env = Env::new();
    let (fake, _) = signed_in_instagram(&env);
    renewed_with_six_days_left(&env, &fake, "insta", "ig_refresh_token");
}

#[test]
fn a_refused_renewal_marks_instagram_as_needing_sign_in() {
    let env = Env::new();
    let (fake, _) = signed_in_instagram(&env);
    let first = stored_tokens(&env, "insta");
    fake.age_tokens(54 * DAY);
    let moved = first["expires_at_ms"].as_i64().expect("an expiry") - (54 * DAY).as_millis() as i64;
    set_expiry(&env, moved);
    fake.revoke_sign_in();
    let run = env.run(&["accounts", "check", "insta"]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    assert!(
        run.all_output().contains("postctl accounts reauth insta"),
        "{}",
        run.all_output()
    );
    assert_eq!(grants(&fake.token_requests(), "ig_refresh_token"), [false]);
    let listed = env.json(&["accounts", "list"]);
    assert!(listed[0]["needs_sign_in"].is_string(), "{listed}");
    assert!(!run.all_output().contains(FakeInstagram::CLIENT_SECRET));
}

/// Moves the stored token set's expiry to `at_ms`, as the days the fake let pass would
/// have left it.
fn set_expiry(env: &Env, at_ms: i64) {
    set_expiry_of(env, "insta", at_ms);
}

fn set_expiry_of(env: &Env, account: &str, at_ms: i64) {
    let path = env.secrets_path();
    let file = std::fs::read_to_string(&path).expect("the secrets file");
    let mut table: toml::Table = toml::from_str(&file).expect("TOML");
    let accounts = table
        .get_mut("accounts")
        .and_then(|a| a.as_table_mut())
        .expect("accounts");
    let text = accounts[account].as_str().expect("a secret").to_string();
    let mut tokens: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    tokens["expires_at_ms"] = serde_json::json!(at_ms);
    accounts.insert(account.into(), toml::Value::String(tokens.to_string()));
    std::fs::write(&path, toml::to_string(&table).expect("TOML")).expect("write");
}

/// `accounts add NETWORK --name NAME --client-id ID --client-secret-stdin` against a
/// Meta fake at `base`, as the browser completes it; the exit code, what postctl said, and
/// the redirect port registered with the fake.
fn meta_sign_in(
    env: &Env,
    fake: &impl MetaSignIn,
    (network, name): (&str, &str),
    base: &str,
    client: (&str, &str),
    authorize: &str,
) -> (i32, String, u16) {
    let port = free_port();
    fake.configure_sign_in(|c| c.redirect_uris = vec![callback(port)]);
    let port_text = port.to_string();
    let args = [
        "accounts",
        "add",
        network,
        "--name",
        name,
        "--client-id",
        client.0,
        "--client-secret-stdin",
        "--base-url",
        base,
        "--no-browser",
        "--redirect-port",
        &port_text,
    ];
    let secret = format!("{}\n", client.1);
    let (code, said) = sign_in_as_browser(env, &args, Some(secret.as_bytes()), authorize);
    (code, said, port)
}

const TH_AUTHORIZE: &str = "/v1.0/oauth/authorize?";
const FB_AUTHORIZE: &str = "/v23.0/dialog/oauth?";

fn signed_in_threads(env: &Env, fake: &FakeThreads) {
    let (code, said, _) = meta_sign_in(
        env,
        fake,
        ("threads", "threads"),
        &fake.base_url(),
        (FakeThreads::CLIENT_ID, FakeThreads::CLIENT_SECRET),
        TH_AUTHORIZE,
    );
    assert_eq!(code, 0, "{said}");
}

#[test]
fn threads_signs_in_without_a_user_id_and_posts_with_the_long_lived_token() {
    let env = Env::new();
    let fake = FakeThreads::start();
    signed_in_threads(&env, &fake);
    traded_the_code_then(fake.token_requests(), "th_exchange_token");
    let tokens = stored_tokens(&env, "threads");
    let access = tokens["access_token"].as_str().expect("a token");
    assert!(access.starts_with("th-long-"), "{tokens}");
    assert!(days_left(&tokens) >= 59, "{tokens}");
    // The user id came from the code's answer, with no need to ask `/me`.
    assert!(
        !fake.log().contains(&"GET /me".to_string()),
        "{:?}",
        fake.log()
    );
    let accounts = env.json(&["accounts", "list"]);
    assert_eq!(
        accounts[0]["settings"]["user_id"],
        FakeThreads::USER_ID,
        "{accounts}"
    );
    env.ok(&["post", "Signed in to Threads", "--to", "threads"]);
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "Signed in to Threads");
    let dump = format!("{:?}", env.dump());
    assert!(!dump.contains("th-long-") && !dump.contains(FakeThreads::CLIENT_SECRET));
}

#[test]
fn a_long_lived_threads_token_is_renewed_when_less_than_a_week_is_left() {
    let env = Env::new();
    let fake = FakeThreads::start();
    signed_in_threads(&env, &fake);
    renewed_with_six_days_left(&env, &fake, "threads", "th_refresh_token");
}

#[test]
fn instagram_login_without_a_user_id_asks_me_when_the_answer_does_not_say() {
    let env = Env::new();
    let fake = FakeInstagram::start();
    fake.answer_user_id(false);
    let (code, said, _) = meta_sign_in(
        &env,
        &fake,
        ("instagram", "insta"),
        &fake.base_url(),
        (FakeInstagram::CLIENT_ID, FakeInstagram::CLIENT_SECRET),
        IG_AUTHORIZE,
    );
    assert_eq!(code, 0, "{said}");
    assert!(
        fake.log().contains(&"GET /me".to_string()),
        "{:?}",
        fake.log()
    );
    let accounts = env.json(&["accounts", "list"]);
    assert_eq!(
        accounts[0]["settings"]["user_id"],
        FakeInstagram::USER_ID,
        "{accounts}"
    );
    env.ok(&["accounts", "check", "insta"]);
}

fn signed_in_facebook(env: &Env, fake: &FakeFacebook) -> u16 {
    let (code, said, redirect) = meta_sign_in(
        env,
        fake,
        ("facebook", "fb"),
        &fake.base_url(),
        (FakeFacebook::CLIENT_ID, FakeFacebook::CLIENT_SECRET),
        FB_AUTHORIZE,
    );
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("Valid OAuth Redirect URIs"), "{said}");
    assert!(said.contains("postctl accounts reauth fb"), "{said}");
    redirect
}

#[test]
fn facebook_login_keeps_the_pages_token_until_the_user_tokens_end() {
    let env = Env::new();
    let fake = FakeFacebook::start();
    signed_in_facebook(&env, &fake);
    traded_the_code_then(fake.token_requests(), "fb_exchange_token");
    let tokens = stored_tokens(&env, "fb");
    // The Page's token is kept, with the long-lived user token's end; the user token
    // itself is kept nowhere.
    assert_eq!(tokens["access_token"], FakeFacebook::PAGE_TOKEN, "{tokens}");
    assert!(days_left(&tokens) >= 59, "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    let accounts = env.json(&["accounts", "list"]);
    assert_eq!(
        accounts[0]["settings"]["page_id"],
        FakeFacebook::PAGE_ID,
        "{accounts}"
    );
    env.ok(&["post", "Signed in to Facebook", "--to", "fb"]);
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].page, FakeFacebook::PAGE_ID);
    let dump = format!("{:?}", env.dump());
    assert!(!dump.contains("fb-long-") && !dump.contains(FakeFacebook::PAGE_TOKEN));
    let secrets = std::fs::read_to_string(env.secrets_path()).expect("the secrets file");
    assert!(!secrets.contains("fb-long-") && !secrets.contains("fb-short-"));
}

#[test]
fn facebook_needs_sign_in_a_week_before_its_end_and_reauth_lets_the_held_post_go() {
    let mut env = Env::new();
    env.unset("POSTCTL_NOW");
    let fake = FakeFacebook::start();
    let port = signed_in_facebook(&env, &fake);
    let first = stored_tokens(&env, "fb");
    // 54 days later: six days left, and Facebook renews nothing.
    let moved = first["expires_at_ms"].as_i64().expect("an expiry") - (54 * DAY).as_millis() as i64;
    set_expiry_of(&env, "fb", moved);
    let run = env.run(&["--json", "post", "Held for Facebook", "--to", "fb"]);
    assert_ne!(run.code, 0, "{}", run.all_output());
    let post = run.json()["post_id"]
        .as_str()
        .expect("a post id")
        .to_string();
    assert_eq!(
        env.target_states(&post),
        ["waiting_retry"],
        "held, not failed"
    );
    assert!(fake.posts().is_empty());
    let listed = env.json(&["accounts", "list"]);
    let why = listed[0]["needs_sign_in"].as_str().expect("marked");
    assert!(why.contains("Facebook does not renew a sign-in"), "{why}");
    assert!(why.contains("postctl accounts reauth fb"), "{why}");
    let check = env.run(&["accounts", "check", "fb"]);
    assert_eq!(check.code, 4, "{}", check.all_output());
    // Signed in again: a new 60 days, the same Page, and the held post goes out.
    let port = port.to_string();
    let args = [
        "accounts",
        "reauth",
        "fb",
        "--no-browser",
        "--redirect-port",
        &port,
    ];
    let (code, said) = sign_in_as_browser(&env, &args, None, FB_AUTHORIZE);
    assert_eq!(code, 0, "{said}");
    assert!(days_left(&stored_tokens(&env, "fb")) >= 59);
    let due = env.run(&["run-due"]);
    assert_eq!(due.code, 0, "{}", due.all_output());
    assert_eq!(env.target_states(&post), ["published"]);
    assert_eq!(fake.posts().len(), 1);
}

/// The token requests of a Meta sign-in: the code, then its exchange for a long-lived
/// token, both granted.
fn traded_the_code_then(requests: Vec<(String, bool)>, exchange: &str) {
    assert_eq!(
        requests,
        [
            ("authorization_code".to_string(), true),
            (exchange.to_string(), true)
        ]
    );
}

/// 54 days after `account` signed in (six days left), `accounts check` renews its token
/// with `grant` for another 60 days.
fn renewed_with_six_days_left(env: &Env, fake: &impl MetaSignIn, account: &str, grant: &str) {
    let first = stored_tokens(env, account);
    fake.age_tokens(54 * DAY);
    let moved = first["expires_at_ms"].as_i64().expect("an expiry") - (54 * DAY).as_millis() as i64;
    set_expiry_of(env, account, moved);
    env.ok(&["accounts", "check", account]);
    assert_eq!(grants(&fake.token_requests(), grant), [true]);
    let now = stored_tokens(env, account);
    assert_ne!(now["access_token"], first["access_token"]);
    assert!(days_left(&now) >= 59, "{now}");
    assert!(fake.access_token_works(now["access_token"].as_str().expect("a token")));
}
