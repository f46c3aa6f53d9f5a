//! Starts every fake network on 127.0.0.1, prints one JSON line per network with its base
//! URL and credentials, and serves until killed (or for `--for-secs`). For benchmarks and
//! manual runs of postctl against the fakes.
//!
//! ```text
//! fake-networks [--latency-ms N] [--fail-rate F] [--kinds 5xx,429,drop,drop-after-create,slow,fail-after-create]
//!               [--seed N] [--slow-ms N] [--retry-after-ms N] [--writes-only] [--for-secs N]
//! ```

use std::process::ExitCode;
use std::time::Duration;

use postctl_tests::fakes::{
    ChaosConfig, Failure, FakeBluesky, FakeDiscord, FakeMastodon, FakeMatrix, FakeServer,
    FakeSlack, FakeTelegram, FakeWebhook,
};
use serde_json::json;

struct Options {
    latency: Duration,
    chaos: ChaosConfig,
    run_for: Option<Duration>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        latency: Duration::ZERO,
        chaos: ChaosConfig::default(),
        run_for: None,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--writes-only" {
            options.chaos.writes_only = true;
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
                 [--slow-ms N] [--retry-after-ms N] [--writes-only] [--for-secs N]"
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
    let servers: [&dyn FakeServer; 7] = [
        &mastodon, &bluesky, &telegram, &discord, &slack, &matrix, &webhook,
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
    ];
    for line in lines {
        println!("{line}");
    }

    match options.run_for {
        Some(duration) => std::thread::sleep(duration),
        // Serve until the process is killed; park can wake spuriously, hence the loop.
        None => loop {
            std::thread::park();
        },
    }
    ExitCode::SUCCESS
}
