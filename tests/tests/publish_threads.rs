//! End to end: text longer than a network takes becomes a thread whose parts reply to each
//! other on the network's fake (`--thread auto`, `numbered`), or is refused (`never`, and
//! networks without threads).

#[macro_use]
mod common;

use common::networks::{Fake, Net, long_text, status_target};
use common::{Env, Run};
use postctl_tests::fakes::ReceivedPost;

/// A text of about two and a half times the network's limit, in whole sentences.
fn too_long_for(net: Net) -> String {
    // Each sentence is about 58 characters (ASCII, so bytes too).
    let text = long_text(net.limit() * 5 / 2 / 58);
    assert!(text.chars().count() > 2 * net.limit(), "{net:?}");
    text
}

/// A text too long for one network, posted to that network's fake.
struct LongPost {
    fake: Fake,
    env: Env,
    text: String,
    run: Run,
}

/// Starts `net`'s fake, adds its account, and posts [`too_long_for`] `net` from a file:
/// `postctl [--json] post --file long.md --to ACCOUNT [--thread MODE]`.
fn post_too_long(net: Net, json: bool, thread: Option<&str>) -> LongPost {
    let fake = Fake::start(net);
    let env = Env::with_fakes([&fake]);
    let text = too_long_for(net);
    env.file("long.md", &text);
    let mut args = Vec::new();
    if json {
        args.push("--json");
    }
    args.extend(["post", "--file", "long.md", "--to", net.account()]);
    if let Some(mode) = thread {
        args.extend(["--thread", mode]);
    }
    let run = env.run(&args);
    LongPost {
        fake,
        env,
        text,
        run,
    }
}

/// Whitespace-insensitive form, to compare the parts with the text they came from.
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// Asserts that every part after the first replies to the one before it (Slack: into the
/// thread of the first, Slack's threads being one level deep).
fn assert_chained(net: Net, posts: &[ReceivedPost]) {
    assert_eq!(
        posts[0].reply_to, None,
        "{net:?}: the first part is no reply"
    );
    for i in 1..posts.len() {
        let parent = if net == Net::SlackBot {
            &posts[0]
        } else {
            &posts[i - 1]
        };
        assert_eq!(
            posts[i].reply_to.as_deref(),
            Some(parent.id.as_str()),
            "{net:?}: part {} replies to the wrong post",
            i + 1
        );
    }
}

fn thread(net: Net) {
    let LongPost {
        fake,
        env,
        text,
        run,
    } = post_too_long(net, true, None);
    let posts = fake.posts();
    if !net.threads() {
        // Refused before anything is sent or stored (`help exit-codes`: 2).
        assert_eq!(run.code, 2, "{net:?}: {}", run.all_output());
        assert!(posts.is_empty(), "{net:?} got {} posts", posts.len());
        assert_eq!(env.count("SELECT count(*) FROM posts"), 0, "{net:?}");
        let error = run.stderr.as_str();
        assert!(
            error.contains(&format!(
                "the text is {} long where this network takes {}",
                text.chars().count(),
                net.limit()
            )) && error.contains("cannot take a thread"),
            "{error}"
        );
        return;
    }
    assert_eq!(run.code, 0, "{net:?}: {}", run.all_output());
    assert!(posts.len() >= 3, "{net:?}: {} parts", posts.len());
    for (i, post) in posts.iter().enumerate() {
        assert!(
            post.text.chars().count() <= net.limit(),
            "{net:?}: part {} is {} long",
            i + 1,
            post.text.chars().count()
        );
    }
    let joined: Vec<&str> = posts.iter().flat_map(|p| words(&p.text)).collect();
    assert_eq!(
        joined,
        words(&text),
        "{net:?}: the parts are not the text in order"
    );
    assert_chained(net, &posts);

    let out = run.json();
    let post_id = out["post_id"].as_str().expect("post_id").to_string();
    if net.gives_url() {
        let urls = out["targets"][0]["urls"].as_array().map_or(0, Vec::len);
        assert_eq!(urls, posts.len(), "{net:?}: one link per part: {out}");
    }
    let status = status_target(&env, &post_id, net.account());
    assert_eq!(status["state"], "published");
    let parts = status["parts"].as_array().expect("parts");
    let ids: Vec<&str> = parts
        .iter()
        .map(|p| p["id"].as_str().unwrap_or(""))
        .collect();
    let fake_ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids, fake_ids,
        "{net:?}: each part is recorded as the network knows it"
    );
}

every_network!(thread);

fn numbered(net: Net) {
    let LongPost {
        fake, text, run, ..
    } = post_too_long(net, true, Some("numbered"));
    assert_eq!(run.code, 0, "{net:?}: {}", run.all_output());
    let posts = fake.posts();
    let n = posts.len();
    assert!(n >= 3, "{net:?}: {n} parts");
    for (i, post) in posts.iter().enumerate() {
        let counter = format!("{}/{n}", i + 1);
        assert!(
            post.text.trim_end().ends_with(&counter),
            "{net:?}: part {} should end with {counter}: …{}",
            i + 1,
            post.text
                .chars()
                .rev()
                .take(40)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        );
        assert!(
            post.text.chars().count() <= net.limit(),
            "{net:?}: numbering made part {} too long",
            i + 1
        );
    }
    let without_counters: Vec<&str> = posts
        .iter()
        .flat_map(|p| {
            let mut w = words(&p.text);
            w.pop();
            w
        })
        .collect();
    assert_eq!(without_counters, words(&text), "{net:?}");
    assert_chained(net, &posts);
}

per_network!(numbered:
    mastodon => Net::Mastodon,
    bluesky => Net::Bluesky,
    telegram => Net::Telegram,
    discord_bot => Net::DiscordBot,
    slack_bot => Net::SlackBot,
    matrix => Net::Matrix,
    webhook => Net::Webhook,
);

fn never(net: Net) {
    let LongPost {
        fake,
        env,
        text,
        run,
    } = post_too_long(net, false, Some("never"));
    // Refused up front: nothing sent, nothing stored (`help exit-codes`: 2).
    assert_eq!(run.code, 2, "{net:?}: {}", run.all_output());
    assert!(fake.posts().is_empty(), "{net:?} got a post");
    assert_eq!(env.count("SELECT count(*) FROM posts"), 0, "{net:?}");
    let said = format!(" long where this network takes {}", net.limit());
    let length: usize = run
        .stderr
        .split_once("the text is ")
        .and_then(|(_, rest)| rest.split_once(&said))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("{net:?} should say how long the text is:\n{}", run.stderr));
    if net == Net::Matrix {
        // The event carries the text twice, as the body and as HTML.
        assert!(length > 2 * text.len(), "{length}");
    } else {
        assert_eq!(length, text.chars().count(), "{net:?}");
    }
    assert!(
        run.stderr
            .contains(&format!("  {}: the text is", net.account())),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

per_network!(never:
    mastodon => Net::Mastodon,
    bluesky => Net::Bluesky,
    telegram => Net::Telegram,
    discord_bot => Net::DiscordBot,
    slack_bot => Net::SlackBot,
    matrix => Net::Matrix,
    webhook => Net::Webhook,
);

/// Advice in an error must work: for a network that cannot take a thread at all, "allow a
/// thread with --thread auto" only leads to the next refusal.
fn never_without_threads(net: Net) {
    let LongPost { fake, run, .. } = post_too_long(net, false, Some("never"));
    assert_eq!(run.code, 2, "{net:?}: {}", run.all_output());
    assert!(fake.posts().is_empty());
    assert!(
        run.stderr.contains("cannot take a thread") && !run.stderr.contains("--thread auto"),
        "{net:?} cannot take a thread, yet the error suggests one:\n{}",
        run.stderr
    );
}

per_network!(never_without_threads:
    discord_webhook => Net::DiscordWebhook,
    slack_webhook => Net::SlackWebhook,
);

#[test]
fn a_thread_goes_to_several_networks_split_each_its_own_way() {
    let fakes: Vec<Fake> = [Net::Mastodon, Net::Bluesky, Net::Telegram]
        .into_iter()
        .map(Fake::start)
        .collect();
    let env = Env::with_fakes(&fakes);
    // Three paragraphs of 219 characters: two fit in Mastodon's 500, one in Bluesky's
    // 300, all three in Telegram's 4096.
    let paragraph = long_text(4);
    assert_eq!(paragraph.chars().count(), 219);
    let text = [paragraph.as_str(); 3].join("\n\n");
    let run = env.run(&["--json", "post", &text, "--to", "masto,bsky,tg"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let counts: Vec<usize> = fakes.iter().map(|f| f.posts().len()).collect();
    assert_eq!(
        counts,
        [2, 3, 1],
        "Mastodon takes 500, Bluesky 300, Telegram 4096"
    );
    assert_eq!(fakes[1].posts()[2].text, paragraph);
}
