//! End to end: publishing to X through a signed-in account, against the fake X API:
//! text, threads, images with alt text, delete, each error class, and what happens to
//! posts when the sign-in runs out or is revoked.

mod common;

use std::process::Stdio;

use common::Env;
use common::networks::long_text;
use common::x::{reauth, signed_in_account, stored_tokens};
use postctl_tests::fakes::{FakeServer, FakeX};

fn refreshes(fake: &FakeX) -> Vec<bool> {
    fake.token_requests()
        .into_iter()
        .filter(|(grant, _)| grant == "refresh_token")
        .map(|(_, granted)| granted)
        .collect()
}

fn states(env: &Env, post: &str) -> Vec<String> {
    env.target_states(post)
}

fn post_id(run: &common::Run) -> String {
    run.json()["post_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no post_id in {}", run.stdout))
        .to_string()
}

#[test]
fn a_post_goes_out_with_a_refreshed_token_and_can_be_deleted() {
    let env = Env::new();
    let (fake, _) = signed_in_account(&env);
    let run = env.run(&[
        "--json",
        "post",
        "Hello from postctl https://example.com/a",
        "--to",
        "me-x",
    ]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    // The signed-in token was about to expire: refreshed once, then used.
    assert_eq!(refreshes(&fake), [true]);
    let tokens = stored_tokens(&env, "me-x");
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "Hello from postctl https://example.com/a");
    assert_eq!(
        posts[0].auth.as_deref(),
        Some(
            format!(
                "Bearer {}",
                tokens["access_token"].as_str().unwrap_or_default()
            )
            .as_str()
        )
    );
    assert!(
        run.stdout
            .contains(&format!("https://x.com/i/web/status/{}", posts[0].id)),
        "{}",
        run.stdout
    );
    let id = post_id(&run);
    env.ok(&["unpublish", &id, "--yes"]);
    assert!(fake.posts()[0].deleted);
}

#[test]
fn a_long_text_becomes_a_thread_whose_parts_reply_to_each_other() {
    let env = Env::new();
    let (fake, _) = signed_in_account(&env);
    let text = long_text(12);
    env.file("long.md", &text);
    env.ok(&[
        "post", "--file", "long.md", "--to", "me-x", "--thread", "auto",
    ]);
    let posts = fake.posts();
    assert!(posts.len() >= 3, "{posts:?}");
    assert_eq!(posts[0].reply_to, None);
    for pair in posts.windows(2) {
        assert_eq!(pair[1].reply_to.as_deref(), Some(pair[0].id.as_str()));
    }
    let sent: Vec<&str> = posts
        .iter()
        .flat_map(|p| p.text.split_whitespace())
        .collect();
    assert_eq!(sent, text.split_whitespace().collect::<Vec<_>>());
}

#[test]
fn images_go_through_the_chunked_upload_with_their_alt_text() {
    let env = Env::new();
    let (fake, _) = signed_in_account(&env);
    fake.configure(|c| c.media_processing_polls = 2);
    let image = env.file("chart.png", common::PNG_3X2);
    let image = image.display().to_string();
    env.ok(&[
        "post",
        "Weekly chart",
        "--to",
        "me-x",
        "--media",
        &image,
        "--alt",
        "downloads per week",
    ]);
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].media.len(), 1);
    assert_eq!(posts[0].media[0].alt.as_deref(), Some("downloads per week"));
    assert_eq!(posts[0].media[0].size, common::PNG_3X2.len());
}

#[test]
fn an_answer_lost_after_x_created_the_post_is_found_among_recent_posts() {
    let env = Env::new();
    let (fake, _) = signed_in_account(&env);
    fake.configure(|c| c.fail_after_create = 1);
    let run = env.run(&["post", "Shipped v1.2", "--to", "me-x"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let posts = fake.posts();
    assert_eq!(posts.len(), 1, "not sent twice");
    assert!(run.stdout.contains(&posts[0].id), "{}", run.stdout);
}

#[test]
fn the_duplicate_content_refusal_is_checked_and_an_unfound_post_is_left_uncertain() {
    let env = Env::new();
    let (fake, _) = signed_in_account(&env);
    env.ok(&["post", "Same words", "--to", "me-x"]);
    // X has the text already: the post is found and taken as published.
    let again = env.run(&["post", "Same words", "--to", "me-x"]);
    assert_eq!(again.code, 0, "{}", again.all_output());
    assert_eq!(fake.posts().len(), 1);
    // A 5xx after the request was read, and the post is not among the recent ones:
    // uncertain, and never sent again.
    fake.configure(|c| c.fail_without_create = 1);
    let lost = env.run(&["--json", "post", "Lost words", "--to", "me-x"]);
    assert_eq!(lost.code, 3, "{}", lost.all_output());
    assert_eq!(states(&env, &post_id(&lost)), ["uncertain"]);
    env.run(&["run-due"]);
    let sends = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/2/tweets")
        .count();
    assert_eq!(sends, 3, "the lost one was sent once");
    assert_eq!(fake.posts().len(), 1);
}

#[test]
fn a_used_up_monthly_cap_is_not_retried_until_it_resets() {
    let env = Env::new();
    let (fake, _) = signed_in_account(&env);
    fake.configure(|c| c.usage_capped = true);
    let run = env.run(&["post", "Capped", "--to", "me-x"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(
        run.all_output().contains("monthly post cap"),
        "{}",
        run.all_output()
    );
    assert!(fake.posts().is_empty());
    let writes = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/2/tweets")
        .count();
    assert_eq!(writes, 1, "not retried before the reset");
}

#[test]
fn a_rejected_access_token_asks_for_reauth() {
    let env = Env::new();
    let (fake, _) = signed_in_account(&env);
    env.ok(&["post", "First", "--to", "me-x"]);
    fake.revoke();
    let run = env.run(&["post", "Second", "--to", "me-x"]);
    assert_eq!(run.code, 4, "{}", run.all_output());
    assert!(
        run.all_output().contains("postctl accounts reauth me-x"),
        "{}",
        run.all_output()
    );
}

#[test]
fn a_revoked_refresh_token_holds_the_posts_until_reauth_then_they_go_out() {
    let mut env = Env::new();
    // On the real clock: the held post's time, set by one process, has passed for the
    // next (with POSTCTL_NOW each process starts its clock there again).
    env.unset("POSTCTL_NOW");
    let (fake, port) = signed_in_account(&env);
    fake.revoke();
    let run = env.run(&["--json", "post", "Held", "--to", "me-x"]);
    assert_ne!(run.code, 0, "{}", run.all_output());
    let post = post_id(&run);
    assert_eq!(states(&env, &post), ["waiting_retry"], "held, not failed");
    assert_eq!(refreshes(&fake), [false]);
    // Nothing is claimed while the account is signed out.
    env.run(&["run-due"]);
    assert_eq!(refreshes(&fake), [false]);
    assert_eq!(states(&env, &post), ["waiting_retry"]);
    let listed = env.json(&["accounts", "list"]);
    assert!(listed[0]["needs_sign_in"].is_string(), "{listed}");
    // Signed in again: the held post goes out.
    let (code, said) = reauth(&env, "me-x", port);
    assert_eq!(code, 0, "{said}");
    let due = env.run(&["run-due"]);
    assert_eq!(due.code, 0, "{}", due.all_output());
    assert_eq!(states(&env, &post), ["published"]);
    assert_eq!(fake.posts().len(), 1);
    assert_eq!(fake.posts()[0].text, "Held");
}

/// The daemon's process, killed when the test ends.
struct DaemonGuard(Option<std::process::Child>);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        if let Some(mut daemon) = self.0.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

#[test]
fn the_daemon_refreshes_an_expiring_token_before_it_publishes() {
    let env = Env::new();
    let (fake, _) = signed_in_account(&env);
    let _daemon = DaemonGuard(Some(
        env.command(&["daemon"], &[])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the daemon"),
    ));
    // A second after the daemon's clock starts (at common::NOW).
    let due = common::networks::pinned_time(1);
    env.ok(&[
        "schedule",
        "From the daemon",
        "--to",
        "me-x",
        "--at",
        &due,
        "--allow-past",
    ]);
    let started = std::time::Instant::now();
    while fake.posts().is_empty() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let posts = fake.posts();
    assert_eq!(posts.len(), 1, "the daemon did not publish within 20 s");
    assert_eq!(refreshes(&fake), [true]);
    let access = stored_tokens(&env, "me-x")["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        posts[0].auth.as_deref(),
        Some(format!("Bearer {access}").as_str())
    );
    assert!(fake.access_token_works(&access));
}
