//! `postctl accounts add x --client-id` and `accounts reauth`: the OAuth 2.0 sign-in with
//! PKCE against the fake X authorization server, the test playing the browser (it opens
//! the authorize address, and follows the redirect to postctl's loopback listener, or
//! pastes it).

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use common::Env;
use common::x::{
    Signing, add_args, browse, callback, fake_x, free_port, reauth, signed_in_account,
    stored_tokens, strs,
};
use postctl_tests::fakes::{FakeServer, FakeX};

#[test]
fn signing_in_through_the_loopback_listener_stores_tokens_and_only_in_the_secret_store() {
    let env = Env::new();
    let port = free_port();
    let fake = fake_x(port, None);
    let args = add_args(&fake, &port.to_string());
    let mut signing = Signing::start(&env, &strs(&args), Stdio::null());
    signing.line_with(&format!("registered as {}", callback(port)));
    let url = signing.authorize_url();
    assert!(url.starts_with(&fake.base_url()), "{url}");
    // The browser: the network approves and redirects to postctl's listener.
    let (status, location) = browse(&url);
    assert_eq!(status, 302, "{url}");
    let location = location.expect("a redirect");
    assert!(location.starts_with(&callback(port)), "{location}");
    let (status, _) = browse(&location);
    assert_eq!(status, 200);
    let (code, said) = signing.finish();
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("signed in and added X account me-x"),
        "{said}"
    );
    // One code traded, with the verifier the fake checked against the challenge.
    assert_eq!(
        fake.token_requests(),
        [("authorization_code".to_string(), true)]
    );
    let tokens = stored_tokens(&env, "me-x");
    let access = tokens["access_token"].as_str().expect("an access token");
    assert!(fake.access_token_works(access));
    assert!(tokens["refresh_token"].as_str().is_some(), "{tokens}");
    // The account keeps its client id; the database holds no token.
    let accounts = env.json(&["accounts", "list"]);
    assert_eq!(accounts[0]["settings"]["client_id"], FakeX::CLIENT_ID);
    let dump = format!("{:?}", env.dump());
    assert!(
        !dump.contains("x-access-") && !dump.contains("x-refresh-") && !dump.contains("x-code-")
    );
    assert!(
        !said.contains("x-access-") && !said.contains("x-code-"),
        "{said}"
    );
}

#[test]
fn a_confidential_client_signs_in_with_its_secret_and_keeps_it_for_refreshing() {
    let env = Env::new();
    let port = free_port();
    let fake = fake_x(port, Some("s3cret"));
    let args = add_args(&fake, &port.to_string());
    let mut all = strs(&args);
    all.push("--client-secret-stdin");
    let mut signing = Signing::start(&env, &all, Stdio::piped());
    if let Some(mut stdin) = signing.child.stdin.take() {
        stdin
            .write_all(b"s3cret\n")
            .expect("write the client secret");
    }
    let url = signing.authorize_url();
    let (_, location) = browse(&url);
    browse(&location.expect("a redirect"));
    let (code, said) = signing.finish();
    assert_eq!(code, 0, "{said}");
    assert_eq!(
        fake.token_requests(),
        [("authorization_code".to_string(), true)]
    );
    assert_eq!(stored_tokens(&env, "me-x")["client_secret"], "s3cret");
    assert!(!said.contains("s3cret"), "{said}");
}

#[test]
fn pasting_the_address_the_browser_ended_on_signs_in_too() {
    let env = Env::new();
    let port = free_port();
    let fake = fake_x(port, None);
    let mut args = add_args(&fake, &port.to_string());
    args.push("--paste".into());
    let mut signing = Signing::start(&env, &strs(&args), Stdio::piped());
    let url = signing.authorize_url();
    let (_, location) = browse(&url);
    let location = location.expect("a redirect");
    let mut stdin = signing.child.stdin.take().expect("stdin");
    writeln!(stdin, "{location}").expect("paste");
    drop(stdin);
    let (code, said) = signing.finish();
    assert_eq!(code, 0, "{said}");
    assert!(stored_tokens(&env, "me-x")["access_token"].is_string());
}

#[test]
fn an_answer_to_another_sign_in_or_a_refusal_stores_nothing() {
    let env = Env::new();
    let port = free_port();
    let fake = fake_x(port, None);
    let before = env.dump();
    // A forged answer: the right shape, another state.
    let mut args = add_args(&fake, &port.to_string());
    args.push("--paste".into());
    let mut signing = Signing::start(&env, &strs(&args), Stdio::piped());
    let url = signing.authorize_url();
    let (_, location) = browse(&url);
    let forged = location
        .expect("a redirect")
        .replace("state=", "state=forged");
    let mut stdin = signing.child.stdin.take().expect("stdin");
    writeln!(stdin, "{forged}").expect("paste");
    drop(stdin);
    let (code, said) = signing.finish();
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("state differs"), "{said}");
    // The user declines.
    fake.configure(|c| c.approve = false);
    let mut signing = Signing::start(&env, &strs(&args), Stdio::piped());
    let url = signing.authorize_url();
    let (_, location) = browse(&url);
    let mut stdin = signing.child.stdin.take().expect("stdin");
    writeln!(stdin, "{}", location.expect("a redirect")).expect("paste");
    drop(stdin);
    let (code, said) = signing.finish();
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("not approved (access_denied"), "{said}");
    assert!(fake.token_requests().is_empty(), "no code was traded");
    assert_eq!(format!("{:?}", env.dump()), format!("{before:?}"));
    assert!(!env.secrets_path().exists());
}

#[test]
fn reauth_replaces_the_tokens_of_a_signed_in_account() {
    let env = Env::new();
    let port = free_port();
    let fake = fake_x(port, None);
    let args = add_args(&fake, &port.to_string());
    let mut signing = Signing::start(&env, &strs(&args), Stdio::null());
    let url = signing.authorize_url();
    browse(&browse(&url).1.expect("a redirect"));
    assert_eq!(signing.finish().0, 0);
    let first = stored_tokens(&env, "me-x")["access_token"].clone();
    fake.revoke();
    let (code, said) = reauth(&env, "me-x", port);
    assert_eq!(code, 0, "{said}");
    let second = stored_tokens(&env, "me-x")["access_token"].clone();
    assert_ne!(first, second);
    assert!(fake.access_token_works(second.as_str().expect("a token")));
}

fn refreshes(fake: &FakeX) -> Vec<bool> {
    fake.token_requests()
        .into_iter()
        .filter(|(grant, _)| grant == "refresh_token")
        .map(|(_, granted)| granted)
        .collect()
}

#[test]
fn two_processes_needing_a_refresh_at_once_spend_the_rotating_refresh_token_once() {
    let env = Env::new();
    let (fake, _) = signed_in_account(&env);
    let first = stored_tokens(&env, "me-x");
    fake.expire_access_tokens();
    // A slow token endpoint widens the window in which both would refresh.
    fake.chaos().set_latency(Duration::from_millis(300));
    let checks: Vec<_> = (0..2)
        .map(|_| {
            env.command(&["accounts", "check", "me-x"], &[])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start postctl")
        })
        .collect();
    let said: Vec<String> = checks
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("wait");
            String::from_utf8_lossy(&out.stderr).into_owned()
        })
        .collect();
    // One refresh, granted; the other process used its result.
    assert_eq!(refreshes(&fake), [true], "{said:?}");
    let now = stored_tokens(&env, "me-x");
    assert_ne!(now["refresh_token"], first["refresh_token"]);
    assert!(fake.access_token_works(now["access_token"].as_str().expect("a token")));
    let accounts = env.json(&["accounts", "list"]);
    assert!(accounts[0].get("needs_sign_in").is_none(), "{accounts}");
    for said in &said {
        assert!(!said.contains("needs signing in"), "{said}");
        assert!(
            !said.contains("x-refresh-") && !said.contains("x-access-"),
            "{said}"
        );
    }
}

#[test]
fn a_revoked_refresh_token_marks_the_account_until_reauth() {
    let env = Env::new();
    let (fake, port) = signed_in_account(&env);
    fake.expire_access_tokens();
    fake.revoke();
    let run = env.run(&["accounts", "check", "me-x"]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    assert!(
        run.all_output().contains("postctl accounts reauth me-x"),
        "{}",
        run.all_output()
    );
    assert_eq!(refreshes(&fake), [false]);
    let accounts = env.json(&["accounts", "list"]);
    let why = accounts[0]["needs_sign_in"].as_str().expect("marked");
    assert!(why.contains("X refused the refresh token"), "{why}");
    let listed = env.ok(&["accounts", "list"]);
    assert!(
        listed.stderr.contains("me-x needs signing in again"),
        "{}",
        listed.stderr
    );
    // Marked: no more refresh attempts until the user signs in again.
    env.run(&["accounts", "check", "me-x"]);
    assert_eq!(refreshes(&fake), [false]);
    let (code, said) = reauth(&env, "me-x", port);
    assert_eq!(code, 0, "{said}");
    let accounts = env.json(&["accounts", "list"]);
    assert!(accounts[0].get("needs_sign_in").is_none(), "{accounts}");
}

#[test]
fn a_redirect_port_that_cannot_be_opened_falls_back_to_pasting() {
    let env = Env::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("its address").port();
    let fake = fake_x(port, None);
    let args = add_args(&fake, &port.to_string());
    let mut signing = Signing::start(&env, &strs(&args), Stdio::piped());
    signing.line_with("paste the address instead");
    let url = signing.authorize_url();
    let (_, location) = browse(&url);
    let mut stdin = signing.child.stdin.take().expect("stdin");
    writeln!(stdin, "{}", location.expect("a redirect")).expect("paste");
    drop(stdin);
    let (code, said) = signing.finish();
    assert_eq!(code, 0, "{said}");
    assert!(stored_tokens(&env, "me-x")["access_token"].is_string());
    drop(taken);
}
