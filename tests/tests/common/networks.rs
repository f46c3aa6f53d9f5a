//! Accounts on the fake networks: one kind per adapter (Discord and Slack twice, webhook and
//! bot), each added with `postctl accounts add` and the fake's address, and one view of
//! what every fake received, for the publishing tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use postctl_tests::fakes::{
    Chaos, ChaosConfig, Failure, FakeBluesky, FakeDiscord, FakeMastodon, FakeMatrix, FakeServer,
    FakeSlack, FakeTelegram, FakeWebhook, ReceivedMedia, ReceivedPost, RequestRecord,
};
use serde_json::Value;

use super::{Env, Run};

/// The seed of every chaos setting in these tests.
pub const SEED: u64 = 0x00c0_ffee;

/// The generic webhook's signing secret, a Standard Webhooks `whsec_<base64>` secret; the
/// fake receiver refuses deliveries not signed with it.
pub const HOOK_KEY: &str = "whsec_cG9zdGN0bC10ZXN0LXdlYmhvb2stc2lnbmluZy1rZXk=";

/// One kind of account postctl publishes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    Mastodon,
    Bluesky,
    Telegram,
    DiscordWebhook,
    DiscordBot,
    SlackWebhook,
    SlackBot,
    Matrix,
    Webhook,
}

impl Net {
    pub const ALL: [Net; 9] = [
        Net::Mastodon,
        Net::Bluesky,
        Net::Telegram,
        Net::DiscordWebhook,
        Net::DiscordBot,
        Net::SlackWebhook,
        Net::SlackBot,
        Net::Matrix,
        Net::Webhook,
    ];

    /// The account's name in the tests.
    pub fn account(self) -> &'static str {
        match self {
            Net::Mastodon => "masto",
            Net::Bluesky => "bsky",
            Net::Telegram => "tg",
            Net::DiscordWebhook => "dchook",
            Net::DiscordBot => "dcbot",
            Net::SlackWebhook => "slhook",
            Net::SlackBot => "slbot",
            Net::Matrix => "mx",
            Net::Webhook => "hook",
        }
    }

    /// The network's name as postctl prints it.
    pub fn network(self) -> &'static str {
        match self {
            Net::Mastodon => "mastodon",
            Net::Bluesky => "bluesky",
            Net::Telegram => "telegram",
            Net::DiscordWebhook | Net::DiscordBot => "discord",
            Net::SlackWebhook | Net::SlackBot => "slack",
            Net::Matrix => "matrix",
            Net::Webhook => "webhook",
        }
    }

    /// The text limit postctl splits at, counted the network's way.
    pub fn limit(self) -> usize {
        match self {
            Net::Mastodon => 500,
            Net::Bluesky => 300,
            Net::Telegram => 4096,
            Net::DiscordWebhook | Net::DiscordBot => 2000,
            Net::SlackWebhook | Net::SlackBot => 4000,
            Net::Matrix => 60_000,
            Net::Webhook => 100_000,
        }
    }

    /// Whether parts can reply to each other.
    pub fn threads(self) -> bool {
        !matches!(self, Net::DiscordWebhook | Net::SlackWebhook)
    }

    /// Whether a request whose outcome is unknown can be sent again safely.
    pub fn idempotent(self) -> bool {
        matches!(
            self,
            Net::Mastodon | Net::Bluesky | Net::DiscordBot | Net::Matrix
        )
    }

    /// Whether the network answers with a link to the post (the generic webhook only when
    /// its receiver answers with one).
    pub fn gives_url(self) -> bool {
        !matches!(self, Net::SlackWebhook | Net::Webhook)
    }

    /// Whether `accounts check` can ask the network about the credentials.
    pub fn verifiable(self) -> bool {
        !matches!(self, Net::SlackWebhook | Net::Webhook)
    }
}

enum Server {
    Mastodon(FakeMastodon),
    Bluesky(FakeBluesky),
    Telegram(FakeTelegram),
    Discord(FakeDiscord),
    Slack(FakeSlack),
    Matrix(FakeMatrix),
    Webhook(FakeWebhook),
}

/// A fake network started for one test, with what postctl needs to reach it.
pub struct Fake {
    pub net: Net,
    server: Server,
}

impl Fake {
    pub fn start(net: Net) -> Fake {
        let server = match net {
            Net::Mastodon => Server::Mastodon(FakeMastodon::start()),
            Net::Bluesky => Server::Bluesky(FakeBluesky::start()),
            Net::Telegram => Server::Telegram(FakeTelegram::start()),
            Net::DiscordWebhook | Net::DiscordBot => Server::Discord(FakeDiscord::start()),
            Net::SlackWebhook | Net::SlackBot => Server::Slack(FakeSlack::start()),
            Net::Matrix => Server::Matrix(FakeMatrix::start()),
            Net::Webhook => Server::Webhook(FakeWebhook::verifying(HOOK_KEY)),
        };
        Fake { net, server }
    }

    fn server(&self) -> &dyn FakeServer {
        match &self.server {
            Server::Mastodon(f) => f,
            Server::Bluesky(f) => f,
            Server::Telegram(f) => f,
            Server::Discord(f) => f,
            Server::Slack(f) => f,
            Server::Matrix(f) => f,
            Server::Webhook(f) => f,
        }
    }

    pub fn base_url(&self) -> String {
        self.server().base_url()
    }

    pub fn chaos(&self) -> &Chaos {
        self.server().chaos()
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.server().requests()
    }

    /// The requests that could have created something (not GET or HEAD).
    pub fn writes(&self) -> Vec<RequestRecord> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET" && r.method != "HEAD")
            .collect()
    }

    pub fn webhook(&self) -> &FakeWebhook {
        match &self.server {
            Server::Webhook(f) => f,
            _ => panic!("{:?} is not the generic webhook", self.net),
        }
    }

    pub fn bluesky(&self) -> &FakeBluesky {
        match &self.server {
            Server::Bluesky(f) => f,
            _ => panic!("{:?} is not Bluesky", self.net),
        }
    }

    pub fn telegram(&self) -> &FakeTelegram {
        match &self.server {
            Server::Telegram(f) => f,
            _ => panic!("{:?} is not Telegram", self.net),
        }
    }

    pub fn mastodon(&self) -> &FakeMastodon {
        match &self.server {
            Server::Mastodon(f) => f,
            _ => panic!("{:?} is not Mastodon", self.net),
        }
    }

    /// The credential the fake accepts, as the user would give it to postctl.
    pub fn secret(&self) -> String {
        match (&self.server, self.net) {
            (Server::Mastodon(_), _) => FakeMastodon::TOKEN.into(),
            (Server::Bluesky(_), _) => FakeBluesky::PASSWORD.into(),
            (Server::Telegram(_), _) => FakeTelegram::TOKEN.into(),
            (Server::Discord(f), Net::DiscordWebhook) => f.webhook_url(),
            (Server::Discord(_), _) => FakeDiscord::BOT_TOKEN.into(),
            (Server::Slack(f), Net::SlackWebhook) => f.webhook_url(),
            (Server::Slack(_), _) => FakeSlack::BOT_TOKEN.into(),
            (Server::Matrix(_), _) => FakeMatrix::TOKEN.into(),
            (Server::Webhook(_), _) => HOOK_KEY.into(),
        }
    }

    /// The part of the secret that must never be shown: the token inside a webhook URL.
    pub fn secret_core(&self) -> String {
        match self.net {
            Net::DiscordWebhook => FakeDiscord::WEBHOOK_TOKEN.into(),
            Net::SlackWebhook => "fakesecretfakesecret".into(),
            _ => self.secret(),
        }
    }

    /// `postctl accounts add` for this fake, the secret read from stdin.
    pub fn add_args(&self, name: &str) -> Vec<String> {
        let base = self.base_url();
        let mut args: Vec<String> = vec![
            "accounts".into(),
            "add".into(),
            self.net.network().into(),
            "--name".into(),
            name.into(),
        ];
        let more: Vec<String> = match self.net {
            Net::Mastodon => vec!["--instance".into(), base],
            Net::Bluesky => vec![
                "--pds".into(),
                base,
                "--handle".into(),
                FakeBluesky::HANDLE.into(),
            ],
            Net::Telegram => vec![
                "--api-url".into(),
                base,
                "--chat".into(),
                "@postctl_test".into(),
            ],
            Net::DiscordWebhook | Net::SlackWebhook => vec![],
            Net::DiscordBot => vec![
                "--base-url".into(),
                format!("{base}/api/v10"),
                "--channel".into(),
                FakeDiscord::CHANNEL.into(),
            ],
            Net::SlackBot => vec![
                "--base-url".into(),
                format!("{base}/api"),
                "--channel".into(),
                FakeSlack::CHANNEL.into(),
            ],
            Net::Matrix => vec![
                "--homeserver".into(),
                base,
                "--room".into(),
                FakeMatrix::ROOM.into(),
            ],
            Net::Webhook => vec!["--base-url".into(), format!("{base}/hooks/postctl")],
        };
        args.extend(more);
        args.push("--token-stdin".into());
        args
    }

    /// Adds this fake's account to `env` as `self.net.account()`, with the good secret.
    pub fn add_to(&self, env: &Env) {
        self.add_named(env, self.net.account(), &self.secret());
    }

    pub fn add_named(&self, env: &Env, name: &str, secret: &str) {
        let args = self.add_args(name);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        env.ok_full(&args, Some(format!("{secret}\n").as_bytes()), &[]);
    }

    /// Makes the fake refuse the credential it accepted so far (a revoked token, a deleted
    /// webhook token, a changed app password, a receiver that no longer trusts the key).
    pub fn revoke(&self) {
        match (&self.server, self.net) {
            (Server::Mastodon(f), _) => f.revoke_token(FakeMastodon::TOKEN),
            (Server::Bluesky(f), _) => {
                f.configure(|c| c.password = "changed-app-password".into());
                f.revoke_sessions();
            }
            (Server::Telegram(f), _) => f.configure(|c| c.token = "999:REVOKED".into()),
            (Server::Discord(f), Net::DiscordWebhook) => {
                f.configure(|c| c.webhooks[0].token = "regenerated-token".into())
            }
            (Server::Discord(f), _) => f.configure(|c| c.bot_token = "reset-bot-token".into()),
            (Server::Slack(f), Net::SlackWebhook) => f.configure(|c| c.webhooks.clear()),
            (Server::Slack(f), _) => f.configure(|c| c.bot_token = "xoxb-rotated".into()),
            (Server::Matrix(f), _) => f.configure(|c| c.tokens.clear()),
            (Server::Webhook(f), _) => f.respond_with(401, "signature not accepted"),
        }
    }

    /// Every post the network holds, oldest first; for the generic webhook, every part
    /// delivered (known by its idempotency key, since the receiver gives no id).
    pub fn posts(&self) -> Vec<ReceivedPost> {
        match &self.server {
            Server::Mastodon(f) => f.posts(),
            Server::Bluesky(f) => f.posts(),
            Server::Telegram(f) => f.posts(),
            Server::Discord(f) => f.posts(),
            Server::Slack(f) => f.posts(),
            Server::Matrix(f) => f.posts(),
            Server::Webhook(f) => f
                .deliveries()
                .into_iter()
                // A delivery whose signature the receiver refused was not taken.
                .filter(|d| !matches!(d.verified, Some(Err(_))))
                .filter_map(|d| {
                    let json = d.json.clone()?;
                    let post = &json["post"];
                    let key = json["idempotency_key"].as_str().unwrap_or_default();
                    let media = post["media"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|m| ReceivedMedia {
                            id: String::new(),
                            mime: m["mime"].as_str().unwrap_or_default().into(),
                            size: m["size"].as_u64().unwrap_or_default() as usize,
                            alt: m["alt"].as_str().map(str::to_string),
                            file_name: m["file_name"].as_str().map(str::to_string),
                        })
                        .collect();
                    Some(ReceivedPost {
                        id: key.to_string(),
                        channel: d.path.clone(),
                        text: post["text"].as_str().unwrap_or_default().into(),
                        formatted: post["html"].as_str().map(str::to_string),
                        reply_to: json["reply_to"].as_str().map(str::to_string),
                        media,
                        idempotency_key: d.header("x-postctl-idempotency-key").map(str::to_string),
                        auth: d.header("webhook-signature").map(str::to_string),
                        deleted: false,
                        url: None,
                        raw: json,
                    })
                })
                .collect(),
        }
    }

    /// Posts that are not deleted.
    pub fn live_posts(&self) -> Vec<ReceivedPost> {
        self.posts().into_iter().filter(|p| !p.deleted).collect()
    }

    /// Waits up to `timeout` until the fake holds `n` posts.
    pub fn wait_for_posts(&self, n: usize, timeout: Duration) -> Vec<ReceivedPost> {
        let started = Instant::now();
        loop {
            let posts = self.posts();
            if posts.len() >= n || started.elapsed() > timeout {
                return posts;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Env {
    /// A new environment (as [`Env::new`]) holding each fake's account, added with
    /// [`Fake::add_to`]: named `net.account()`, with the secret the fake accepts.
    pub fn with_fakes<'a>(fakes: impl IntoIterator<Item = &'a Fake>) -> Env {
        let env = Env::new();
        for fake in fakes {
            fake.add_to(&env);
        }
        env
    }
}

/// Runs `run` while every write to `fake` fails with `kind` until `times` failures were
/// injected, after which failures are off: "this request fails, its retry goes through".
/// Reads never fail. The draws are seeded; with a rate of 1.0 they decide nothing anyway.
pub fn failing_first<T>(fake: &Fake, kind: Failure, times: u64, run: impl FnOnce() -> T) -> T {
    failing_first_with(fake, ChaosConfig::failing(1.0, &[kind], SEED), times, run)
}

/// [`failing_first`] with the rest of the chaos settings (a 429's retry-after, a slow
/// answer's delay) from `config`.
pub fn failing_first_with<T>(
    fake: &Fake,
    config: ChaosConfig,
    times: u64,
    run: impl FnOnce() -> T,
) -> T {
    let chaos = fake.chaos();
    chaos.set(ChaosConfig {
        writes_only: true,
        ..config
    });
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if chaos.counts().injected() >= times {
                    chaos.off();
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let result = run();
        done.store(true, Ordering::SeqCst);
        result
    })
}

/// Makes every write to `fake` fail with `kind`, for good.
pub fn fail_writes(fake: &Fake, kind: Failure) {
    fake.chaos().set(ChaosConfig {
        writes_only: true,
        ..ChaosConfig::failing(1.0, &[kind], SEED)
    });
}

/// Asserts that no secret of `fakes` is in `run`'s output or in the database (and its WAL).
pub fn assert_no_secret(env: &Env, runs: &[&Run], fakes: &[&Fake]) {
    let mut stored = Vec::new();
    for path in [env.db_path(), env.wal_path()] {
        if let Ok(bytes) = std::fs::read(&path) {
            stored.extend(bytes);
        }
    }
    let stored = String::from_utf8_lossy(&stored);
    for fake in fakes {
        let secret = fake.secret_core();
        for run in runs {
            assert!(
                !run.all_output().contains(&secret),
                "the {:?} secret is in the output of {:?}:\n{}",
                fake.net,
                run.args,
                run.all_output()
            );
        }
        assert!(
            !stored.contains(&secret),
            "the {:?} secret is in the database",
            fake.net
        );
    }
}

/// Writes the config file: the zone, then `top` (top-level keys), then `[publish]` keys.
pub fn write_config(env: &Env, top: &str, publish: &str) {
    std::fs::write(
        env.config_path(),
        format!(
            "timezone = \"{}\"\n{top}\n[publish]\n{publish}\n",
            super::TZ
        ),
    )
    .expect("write config.toml");
}

/// The target of `account` in `postctl status ID --json`.
pub fn status_target(env: &Env, post_id: &str, account: &str) -> Value {
    let status = env.json(&["status", post_id]);
    status["targets"]
        .as_array()
        .and_then(|targets| targets.iter().find(|t| t["account"] == account))
        .cloned()
        .unwrap_or_else(|| panic!("no target on {account} in {status}"))
}

/// A text of paragraphs, `n` sentences long, with numbered sentences so that parts can be
/// told apart: "Sentence 1 of the release notes says something useful. ...".
pub fn long_text(sentences: usize) -> String {
    let mut text = String::new();
    for i in 1..=sentences {
        text += &format!("Sentence {i} of the release notes says something useful.");
        text += if i % 5 == 0 { "\n\n" } else { " " };
    }
    text.trim().to_string()
}

/// The time `offset_s` seconds from [`super::NOW`] (where every command's clock starts in
/// an [`Env`]), RFC 3339.
pub fn pinned_time(offset_s: i64) -> String {
    (chrono::DateTime::parse_from_rfc3339(super::NOW).expect("NOW is RFC 3339")
        + chrono::Duration::seconds(offset_s))
    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A real clock time `offset_s` seconds from now, RFC 3339, for tests that run on the real
/// clock (POSTCTL_NOW unset).
#[allow(dead_code)]
pub fn real_time(offset_s: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(offset_s))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One `#[test]` per network for a check written once: `per_network!(check: mastodon =>
/// Net::Mastodon, ...)` makes `check::mastodon` call `check(Net::Mastodon)`.
#[allow(unused_macros)]
macro_rules! per_network {
    ($check:ident: $($name:ident => $net:expr),+ $(,)?) => {
        mod $check {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $name() {
                    super::$check($net);
                }
            )+
        }
    };
}

/// [`per_network!`] for all of [`Net::ALL`]: `every_network!(check)` makes `check::mastodon`,
/// `check::bluesky`, ... `check::webhook`, each calling `check` with its network.
#[allow(unused_macros)]
macro_rules! every_network {
    ($check:ident) => {
        per_network!($check:
            mastodon => Net::Mastodon,
            bluesky => Net::Bluesky,
            telegram => Net::Telegram,
            discord_webhook => Net::DiscordWebhook,
            discord_bot => Net::DiscordBot,
            slack_webhook => Net::SlackWebhook,
            slack_bot => Net::SlackBot,
            matrix => Net::Matrix,
            webhook => Net::Webhook,
        );
    };
}

/// Adds the Instagram account `insta` on `fake`, with its long-lived token.
#[allow(dead_code)]
pub fn add_instagram(env: &Env, fake: &postctl_tests::fakes::FakeInstagram) {
    use postctl_tests::fakes::FakeInstagram;
    let base = fake.base_url();
    let added = env.run_full(
        &[
            "accounts",
            "add",
            "instagram",
            "--name",
            "insta",
            "--base-url",
            &base,
            "--ig-user-id",
            FakeInstagram::USER_ID,
            "--token-stdin",
        ],
        Some(format!("{}\n", FakeInstagram::TOKEN).as_bytes()),
        &[],
    );
    assert_eq!(added.code, 0, "{}", added.all_output());
}

/// Points `[media.host]` at the fake S3 bucket, with `secret` as its secret key.
#[allow(dead_code)]
pub fn set_host(env: &Env, s3: &postctl_tests::fakes::FakeS3, secret: &str) {
    use postctl_tests::fakes::FakeS3;
    let endpoint = s3.base_url();
    let set = env.run_full(
        &[
            "media",
            "host",
            "set",
            "--endpoint",
            &endpoint,
            "--bucket",
            FakeS3::BUCKET,
            "--region",
            FakeS3::REGION,
            "--access-key-id",
            FakeS3::ACCESS_KEY,
            "--secret-stdin",
        ],
        Some(secret.as_bytes()),
        &[],
    );
    assert_eq!(set.code, 0, "{}", set.all_output());
}

/// Adds the Threads account `threads` on `fake`, with its long-lived token.
#[allow(dead_code)]
pub fn add_threads(env: &Env, fake: &postctl_tests::fakes::FakeThreads) {
    use postctl_tests::fakes::FakeThreads;
    let base = fake.base_url();
    let added = env.run_full(
        &[
            "accounts",
            "add",
            "threads",
            "--name",
            "threads",
            "--base-url",
            &base,
            "--user-id",
            FakeThreads::USER_ID,
            "--token-stdin",
        ],
        Some(format!("{}\n", FakeThreads::TOKEN).as_bytes()),
        &[],
    );
    assert_eq!(added.code, 0, "{}", added.all_output());
}

/// Adds the Facebook Page account `fb` on `fake`: the user token lists the Pages, and the
/// one Page's token is kept.
#[allow(dead_code)]
pub fn add_facebook(env: &Env, fake: &postctl_tests::fakes::FakeFacebook) -> super::Run {
    use postctl_tests::fakes::FakeFacebook;
    let base = fake.base_url();
    let added = env.run_full(
        &[
            "accounts",
            "add",
            "facebook",
            "--name",
            "fb",
            "--base-url",
            &base,
            "--token-stdin",
        ],
        Some(format!("{}\n", FakeFacebook::USER_TOKEN).as_bytes()),
        &[],
    );
    assert_eq!(added.code, 0, "{}", added.all_output());
    added
}

/// `stats collect --json` an hour after the latest post was published (when the schedule
/// reads young posts), and its entry for `account`.
#[allow(dead_code)]
pub fn collect_an_hour_later(env: &Env, account: &str) -> Value {
    let rows = env.json(&["stats", "--since", "1d"]);
    let latest = rows["posts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["published"].as_str())
        .filter_map(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
        .max()
        .expect("a published post");
    let now = (latest + chrono::Duration::hours(1)).to_rfc3339();
    let run = env.run_full(
        &["--json", "stats", "collect"],
        None,
        &[("POSTCTL_NOW", &now)],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    run.json()
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["account"] == account)
        .cloned()
        .unwrap_or_else(|| panic!("no entry for {account}: {}", run.stdout))
}

/// The counters `stats --json` shows for `post` on `account`.
#[allow(dead_code)]
pub fn stats_counters(env: &Env, post: &str, account: &str) -> Value {
    let rows = env.json(&["stats"]);
    rows["posts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["post_id"] == post && r["account"] == account)
        .map(|r| r["counters"].clone())
        .unwrap_or_else(|| panic!("no row for {post} on {account}: {rows}"))
}
