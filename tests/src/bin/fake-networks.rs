//! Starts every fake network on 127.0.0.1, prints one JSON line per network with its base
//! URL and credentials, and serves until killed (or for `--for-secs`). For benchmarks and
//! manual runs of postctl against the fakes.
//!
//! ```text
//! fake-networks [--latency-ms N] [--fail-rate F] [--kinds 5xx,429,drop,drop-after-create,slow,fail-after-create]
//!               [--seed N] [--slow-ms N] [--retry-after-ms N] [--writes-only] [--for-secs N]
//!               [--report-posts]
//! ```
//!
//! With `--report-posts`, every post a fake stores is then reported on its own line, with
//! when it was stored (within a millisecond), for measuring how late posts arrive:
//! `{"event":"post","network":"mastodon","text":"...","unix_ms":1795699433123}`; and each
//! fake's count of requests so far whenever it changes, for counting a command's round
//! trips: `{"event":"requests","network":"mastodon","requests":3}`.
//!
//! X takes OAuth 1.0a keys (`oauth1_keys`, the four on one line as `accounts add x
//! --oauth1` reads them). Meta's fakes (`instagram`, with the `s3` bucket Instagram
//! fetches images from; `threads`; `facebook`, with a Page token) keep their own request
//! logs and have no chaos: the chaos flags and `--latency-ms` do not apply to them.
//!
//! The fake AI servers (`anthropic`, `openai`) come last; the chaos flags do not apply to
//! them, and they answer every request with their default answer.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use postctl_tests::fakes::{
    ChaosConfig, Failure, FakeAnthropic, FakeBluesky, FakeDiscord, FakeFacebook, FakeInstagram,
    FakeMastodon, FakeMatrix, FakeOpenAi, FakeS3, FakeServer, FakeSlack, FakeTelegram, FakeThreads,
    FakeVk, FakeWebhook, FakeX, OAuth1Keys, ReceivedPost,
};

/// The OAuth 1.0a keys the X fake takes: consumer key and secret, access token and secret.
const X_KEYS: [&str; 4] = ["ck-bench", "cs-bench", "1-at-bench", "ats-bench"];
use serde_json::json;

struct Options {
    latency: Duration,
    chaos: ChaosConfig,
    run_for: Option<Duration>,
    report_posts: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        latency: Duration::ZERO,
        chaos: ChaosConfig::default(),
        run_for: None,
        report_posts: false,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--writes-only" {
            options.chaos.writes_only = true;
            continue;
        }
        if flag == "--report-posts" {
            options.report_posts = true;
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        const TAKES_VALUE: [&str; 7] = [
            "--latency-ms",
            "--slow-ms",
            "--retry-after-ms",
            "--seed",
            "--for-secs",
            "--fail-rate",
            "--kinds",
        ];
        if !TAKES_VALUE.contains(&flag.as_str()) {
            return Err(format!("unknown flag {flag}"));
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag} takes a whole number, not {value:?}"))
        };
        match flag.as_str() {
            "--latency-ms" => options.latency = Duration::from_millis(number()?),
            "--slow-ms" => options.chaos.slow = Duration::from_millis(number()?),
            "--retry-after-ms" => options.chaos.retry_after = Duration::from_millis(number()?),
            "--seed" => options.chaos.seed = number()?,
            "--for-secs" => options.run_for = Some(Duration::from_secs(number()?)),
            "--fail-rate" => {
                let rate: f64 = value.parse().map_err(|_| {
                    format!("--fail-rate takes a number from 0 to 1, not {value:?}")
                })?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!("--fail-rate must be between 0 and 1, not {rate}"));
                }
                options.chaos.fail_rate = rate;
            }
            "--kinds" => {
                options.chaos.kinds = value
                    .split(',')
                    .map(|name| {
                        Failure::from_name(name.trim()).ok_or_else(|| {
                            let known: Vec<&str> = Failure::ALL.iter().map(|f| f.name()).collect();
                            format!("unknown failure kind {name:?}; known: {}", known.join(", "))
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            eprintln!(
                "usage: fake-networks [--latency-ms N] [--fail-rate F] [--kinds K,K] [--seed N] \
                 [--slow-ms N] [--retry-after-ms N] [--writes-only] [--for-secs N] [--report-posts]"
            );
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };

    let mastodon = FakeMastodon::start();
    let bluesky = FakeBluesky::start();
    let telegram = FakeTelegram::start();
    let discord = FakeDiscord::start();
    let slack = FakeSlack::start();
    let matrix = FakeMatrix::start();
    let webhook = FakeWebhook::start();
    let vk = FakeVk::start();
    let x = FakeX::start();
    x.configure(|c| {
        c.oauth1 = Some(OAuth1Keys {
            consumer_key: X_KEYS[0].into(),
            consumer_secret: X_KEYS[1].into(),
            access_token: X_KEYS[2].into(),
            access_token_secret: X_KEYS[3].into(),
        })
    });
    let instagram = FakeInstagram::start();
    // Meta's 50 posts a day would end a benchmark early.
    instagram.set_quota(0, 1_000_000);
    let s3 = FakeS3::start();
    let threads = FakeThreads::start();
    threads.set_quota(0, 1_000_000);
    let facebook = FakeFacebook::start();
    let anthropic = FakeAnthropic::start();
    let openai = FakeOpenAi::start();
    let servers: [&dyn FakeServer; 9] = [
        &mastodon, &bluesky, &telegram, &discord, &slack, &matrix, &webhook, &vk, &x,
    ];
    for server in servers {
        server.chaos().set(options.chaos.clone());
        server.chaos().set_latency(options.latency);
    }

    let lines = [
        json!({"network": "mastodon", "base_url": mastodon.base_url(), "token": FakeMastodon::TOKEN}),
        json!({"network": "bluesky", "base_url": bluesky.base_url(), "handle": FakeBluesky::HANDLE, "did": FakeBluesky::DID, "app_password": FakeBluesky::PASSWORD}),
        json!({"network": "telegram", "base_url": telegram.base_url(), "token": FakeTelegram::TOKEN, "chat_id": FakeTelegram::CHANNEL, "chat": "@postctl_test"}),
        json!({"network": "discord", "base_url": discord.base_url(), "webhook_url": discord.webhook_url(), "bot_token": FakeDiscord::BOT_TOKEN, "channel_id": FakeDiscord::CHANNEL}),
        json!({"network": "slack", "base_url": slack.base_url(), "webhook_url": slack.webhook_url(), "bot_token": FakeSlack::BOT_TOKEN, "channel": FakeSlack::CHANNEL}),
        json!({"network": "matrix", "base_url": matrix.base_url(), "token": FakeMatrix::TOKEN, "room_id": FakeMatrix::ROOM}),
        json!({"network": "webhook", "base_url": webhook.base_url(), "url": webhook.url("/hook")}),
        json!({"network": "vk", "base_url": vk.base_url(), "token": FakeVk::TOKEN, "owner_id": -FakeVk::GROUP_ID}),
        json!({"network": "x", "base_url": x.base_url(), "oauth1_keys": X_KEYS.join(" ")}),
        json!({"network": "instagram", "base_url": instagram.base_url(), "token": FakeInstagram::TOKEN, "user_id": FakeInstagram::USER_ID}),
        json!({"network": "s3", "base_url": s3.base_url(), "bucket": FakeS3::BUCKET, "region": FakeS3::REGION, "access_key_id": FakeS3::ACCESS_KEY, "secret_key": FakeS3::SECRET_KEY}),
        json!({"network": "threads", "base_url": threads.base_url(), "token": FakeThreads::TOKEN, "user_id": FakeThreads::USER_ID}),
        json!({"network": "facebook", "base_url": facebook.base_url(), "page_token": FakeFacebook::PAGE_TOKEN, "page_id": FakeFacebook::PAGE_ID}),
        json!({"network": "anthropic", "base_url": anthropic.base_url(), "key": FakeAnthropic::KEY, "model": FakeAnthropic::MODEL}),
        json!({"network": "openai", "base_url": openai.base_url(), "key": null, "model": FakeOpenAi::MODEL}),
    ];
    for line in lines {
        println!("{line}");
    }

    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        if options.report_posts {
            let sources = vec![
                Source::new("mastodon", &mastodon, || texts(mastodon.posts())),
                Source::new("bluesky", &bluesky, || texts(bluesky.posts())),
                Source::new("telegram", &telegram, || texts(telegram.posts())),
                Source::new("discord", &discord, || texts(discord.posts())),
                Source::new("slack", &slack, || texts(slack.posts())),
                Source::new("matrix", &matrix, || texts(matrix.posts())),
                Source::new("webhook", &webhook, || webhook_texts(&webhook)),
                Source::new("vk", &vk, || texts(vk.posts())),
                Source::new("x", &x, || texts(x.posts())),
                Source::logged(
                    "instagram",
                    || instagram.log().len() as u64,
                    || instagram.media().into_iter().map(|m| m.caption).collect(),
                ),
                Source::logged(
                    "threads",
                    || threads.log().len() as u64,
                    || threads.posts().into_iter().map(|p| p.text).collect(),
                ),
                Source::logged(
                    "facebook",
                    || facebook.log().len() as u64,
                    || facebook.posts().into_iter().map(|p| p.message).collect(),
                ),
            ];
            let stop = &stop;
            let settle = options.latency + Duration::from_millis(200);
            scope.spawn(move || report_posts(sources, settle, stop));
        }
        match options.run_for {
            Some(duration) => std::thread::sleep(duration),
            // Serve until the process is killed; park can wake spuriously, hence the loop.
            None => loop {
                std::thread::park();
            },
        }
        stop.store(true, Ordering::SeqCst);
    });
    ExitCode::SUCCESS
}

/// One fake as the post reporter reads it: its request count and its posts' texts.
struct Source<'a> {
    network: &'static str,
    requests: Box<dyn Fn() -> u64 + Send + 'a>,
    texts: Box<dyn Fn() -> Vec<String> + Send + 'a>,
}

impl<'a> Source<'a> {
    fn new<F>(
        network: &'static str,
        fake: &'a F,
        texts: impl Fn() -> Vec<String> + Send + 'a,
    ) -> Source<'a>
    where
        F: FakeServer + Sync,
    {
        Source {
            network,
            requests: Box::new(move || fake.chaos().counts().requests),
            texts: Box::new(texts),
        }
    }

    /// A fake that counts its requests in a log of its own (Meta's).
    fn logged(
        network: &'static str,
        requests: impl Fn() -> u64 + Send + 'a,
        texts: impl Fn() -> Vec<String> + Send + 'a,
    ) -> Source<'a> {
        Source {
            network,
            requests: Box::new(requests),
            texts: Box::new(texts),
        }
    }
}

fn texts(posts: Vec<ReceivedPost>) -> Vec<String> {
    posts.into_iter().map(|p| p.text).collect()
}

fn webhook_texts(webhook: &FakeWebhook) -> Vec<String> {
    webhook
        .deliveries()
        .into_iter()
        .map(|d| {
            d.json
                .as_ref()
                .and_then(|j| j["post"]["text"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Prints a line for every post stored since the last look, every millisecond until
/// `stop`. A fake is read while it has had a request in the last `settle` (its latency
/// and then some: the request is counted before the post is stored), so idle fakes cost
/// nothing.
fn report_posts(sources: Vec<Source<'_>>, settle: Duration, stop: &AtomicBool) {
    let mut requests = vec![0u64; sources.len()];
    let mut last_request = vec![None::<Instant>; sources.len()];
    let mut reported = vec![0usize; sources.len()];
    let mut out = std::io::stdout();
    while !stop.load(Ordering::SeqCst) {
        for (i, source) in sources.iter().enumerate() {
            let seen = (source.requests)();
            if seen != requests[i] {
                requests[i] = seen;
                last_request[i] = Some(Instant::now());
                let line =
                    json!({"event": "requests", "network": source.network, "requests": seen});
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    return;
                }
            }
            if last_request[i].is_none_or(|at| at.elapsed() > settle) {
                continue;
            }
            let all = (source.texts)();
            let unix_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            for text in all.iter().skip(reported[i]) {
                let line = json!({"event": "post", "network": source.network, "text": text, "unix_ms": unix_ms});
                // A reader that went away ends the reports, not the fakes.
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    return;
                }
            }
            reported[i] = all.len().max(reported[i]);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
