//! End to end: a post with an image and its alt text, on every network's fake.

#[macro_use]
mod common;

use common::networks::{Fake, Net, status_target};
use common::{Env, PNG_3X2};

const ALT: &str = "A bar chart: downloads doubled since May";
const CAPTION: &str = "Weekly downloads";

fn image_with_alt(net: Net) {
    let fake = Fake::start(net);
    let env = Env::with_fakes([&fake]);
    env.file("chart.png", PNG_3X2);
    let run = env.run(&[
        "--json",
        "post",
        CAPTION,
        "--media",
        "chart.png",
        "--alt",
        ALT,
        "--to",
        net.account(),
    ]);
    let out = run.json();
    let target = &out["targets"][0];

    if net == Net::SlackBot || net == Net::SlackWebhook {
        // postctl cannot upload to Slack yet, and must not post the text without the image.
        assert_eq!(run.code, 3, "{net:?}: {}", run.all_output());
        assert_eq!(target["state"], "failed");
        let error = target["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("media") && error.contains("Slack"),
            "{error}"
        );
        assert!(fake.posts().is_empty(), "{net:?} posted without the image");
        return;
    }
    assert_eq!(run.code, 0, "{net:?}: {}", run.all_output());
    assert_eq!(target["state"], "published");

    let posts = fake.posts();
    let with_media: Vec<_> = posts.iter().filter(|p| !p.media.is_empty()).collect();
    assert_eq!(with_media.len(), 1, "{net:?}: {posts:#?}");
    let media = &with_media[0].media;
    assert_eq!(media.len(), 1, "{net:?}");
    assert_eq!(media[0].mime, "image/png", "{net:?}");
    assert_eq!(media[0].size, PNG_3X2.len(), "{net:?}");
    match net {
        // Telegram photos have no alt text; the text is the photo's caption.
        Net::Telegram => {
            assert_eq!(posts.len(), 1);
            assert_eq!(posts[0].text, CAPTION);
        }
        // Matrix: an m.image event (its body is the description), then the text.
        Net::Matrix => {
            assert_eq!(media[0].alt.as_deref(), Some(ALT));
            assert_eq!(posts.len(), 2, "{posts:#?}");
            assert_eq!(posts[1].text, CAPTION);
        }
        _ => {
            assert_eq!(
                media[0].alt.as_deref(),
                Some(ALT),
                "{net:?} lost the alt text"
            );
            assert_eq!(posts.len(), 1);
            assert_eq!(posts[0].text, CAPTION);
        }
    }
    let post_id = out["post_id"].as_str().expect("post_id");
    let status = status_target(&env, post_id, net.account());
    assert_eq!(status["state"], "published");
}

every_network!(image_with_alt);

#[test]
fn mastodon_waits_for_the_instance_to_process_the_image() {
    let fake = Fake::start(Net::Mastodon);
    fake.mastodon().configure(|c| c.media_processing_polls = 1);
    let env = Env::with_fakes([&fake]);
    env.file("chart.png", PNG_3X2);
    let run = env.run(&[
        "post",
        CAPTION,
        "--media",
        "chart.png",
        "--alt",
        ALT,
        "--to",
        "masto",
    ]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].media[0].alt.as_deref(), Some(ALT));
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.starts_with("/api/v1/media/")),
        "postctl attached the media without waiting for it"
    );
}

#[test]
fn a_slack_target_with_media_is_told_what_to_do() {
    let fake = Fake::start(Net::SlackBot);
    let env = Env::with_fakes([&fake]);
    env.file("chart.png", PNG_3X2);
    let run = env.run(&["post", CAPTION, "--media", "chart.png", "--to", "slbot"]);
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(run.stdout.contains("--media"), "{}", run.stdout);
}
