//! The tools `postctl mcp` offers: each takes a JSON object described by its input schema,
//! runs the same code as the CLI verb of the same name, and answers with structured JSON
//! (the shape the verb's `--json` prints, where it has one). A tool that changes something
//! says what it changed in `changed`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{Duration, NaiveDate};
use postctl_core::model::ThreadMode;
use postctl_core::store::{ListFilter, NewTarget, Store};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Failure, Server, json_value};
use crate::analytics;
use crate::args::{ContentArgs, StatsSort, WhenArgs};
use crate::checks::{self, Draft};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::scheduling::{self, Scheduled, Subject};

/// How many posts `list_posts` and `search` return unless told `limit`.
const PAGE: usize = crate::args::PAGE;
/// The most posts one call returns.
const MOST_POSTS: u32 = 500;

// ---- inputs -------------------------------------------------------------------------------

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// Every post: scheduled ones first, soonest first, then drafts.
    All,
    /// Posts still to publish.
    Upcoming,
    /// Posts with no time.
    Drafts,
    /// Posts with a failed, missed or uncertain target.
    Failed,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPostsInput {
    /// Which posts (as `postctl list --upcoming|--drafts|--failed`); default all.
    #[serde(default)]
    pub filter: Option<Filter>,
    /// At most this many posts (1 to 500, default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostIdInput {
    /// The post's id, or an unambiguous prefix of it (at least 4 characters).
    pub id: String,
}

/// What a post is made of, as the CLI's content flags.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentInput {
    /// Account or group names (see list_accounts); none: the configured `default_to`.
    #[serde(default)]
    pub to: Vec<String>,
    /// Paths of images or videos on this machine, attached in this order.
    #[serde(default)]
    pub media: Vec<PathBuf>,
    /// Alt text for each media file, in the same order.
    #[serde(default)]
    pub alt: Vec<String>,
    /// A title, for the user's own lists.
    #[serde(default)]
    pub title: Option<String>,
    /// Labels, for the user's own lists.
    #[serde(default)]
    pub labels: Vec<String>,
}

impl ContentInput {
    fn args(self) -> ContentArgs {
        ContentArgs {
            to: self.to,
            media: self.media,
            alt: self.alt,
            title: self.title,
            labels: self.labels,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDraftInput {
    /// The post, in Markdown; rendered for each network when published.
    pub text: String,
    #[serde(flatten)]
    pub content: ContentInput,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Thread {
    /// Split a text that is too long into a thread where the network has threads.
    #[default]
    Auto,
    /// Never split: a text that is too long cannot be published.
    Never,
    /// Split, numbering the parts "1/3".
    Numbered,
}

impl From<Thread> for ThreadMode {
    fn from(thread: Thread) -> ThreadMode {
        match thread {
            Thread::Auto => ThreadMode::Auto,
            Thread::Never => ThreadMode::Never,
            Thread::Numbered => ThreadMode::Numbered,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInput {
    /// The post, in Markdown.
    pub text: String,
    /// Account or group names to check for; none: the configured `default_to`.
    #[serde(default)]
    pub to: Vec<String>,
    /// How a text that is too long is treated (default auto).
    #[serde(default)]
    pub thread: Thread,
}

/// When, in the language of `postctl schedule --at` (see `postctl help times`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhenInput {
    /// When to publish: "tue 09:00", "tomorrow 9am", "2026-12-01 09:00", "in 2h", or RFC 3339.
    #[serde(default)]
    pub at: Option<String>,
    /// Instead of `at`, every week on a rule: "mon,wed 09:00", "mon-fri 09:00,17:30", "daily 08:00".
    #[serde(default)]
    pub every: Option<String>,
    /// The IANA zone `at` is read in, e.g. "Europe/Berlin" (default: the user's zone).
    #[serde(default)]
    pub tz: Option<String>,
    /// In a daylight-saving overlap, take the first of the two times.
    #[serde(default)]
    pub earlier: bool,
    /// In a daylight-saving overlap, take the second of the two times.
    #[serde(default)]
    pub later: bool,
    /// Accept a time in the past.
    #[serde(default)]
    pub allow_past: bool,
}

impl WhenInput {
    fn args(self) -> CliResult<WhenArgs> {
        if self.at.is_some() && self.every.is_some() {
            return Err(CliError::usage(
                "give either `at` (one time) or `every` (a weekly rule), not both",
            ));
        }
        if self.earlier && self.later {
            return Err(CliError::usage(
                "give either `earlier` or `later`, not both",
            ));
        }
        Ok(WhenArgs {
            at: self.at,
            every: self.every,
            tz: self.tz,
            earlier: self.earlier,
            later: self.later,
            allow_past: self.allow_past,
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// A post to schedule (a draft, or a post to move); or give `text` for a new post.
    #[serde(default)]
    pub id: Option<String>,
    /// The text of a new post, in Markdown; or give `id`.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(flatten)]
    pub when: WhenInput,
    #[serde(flatten)]
    pub content: ContentInput,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleInput {
    /// The scheduled post's id, or an unambiguous prefix.
    pub id: String,
    #[serde(flatten)]
    pub when: WhenInput,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// The posts to cancel: all of them, or, if one is unknown or has nothing to cancel, none.
    #[schemars(length(min = 1))]
    pub ids: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    /// First day, YYYY-MM-DD (default: today).
    #[serde(default)]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD, at most a year after `from` (default: 4 weeks from `from`).
    #[serde(default)]
    pub to: Option<String>,
    /// The IANA zone days and times are shown in (default: the user's zone).
    #[serde(default)]
    pub tz: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchInput {
    /// Words to look for in posts and templates.
    pub query: String,
    /// At most this many posts (1 to 500, default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderTemplateInput {
    /// The template's name (a stored one, or a built-in such as "release").
    pub name: String,
    /// Use this network's variant where the template has one ("mastodon", "bluesky", ...).
    #[serde(default)]
    pub network: Option<String>,
    /// The template's variables.
    #[serde(default)]
    pub vars: serde_json::Map<String, Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintInput {
    /// A stored post to lint; or give `text`.
    #[serde(default)]
    pub id: Option<String>,
    /// A text to lint, in Markdown; or give `id`.
    #[serde(default)]
    pub text: Option<String>,
    /// The brand voice to check against (default: the only one configured).
    #[serde(default)]
    pub voice: Option<String>,
    /// Accounts or groups whose length limits to check (default: the post's, else `default_to`).
    #[serde(default)]
    pub to: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishNowInput {
    /// The post, in Markdown.
    pub text: String,
    /// How a text that is too long is treated (default auto).
    #[serde(default)]
    pub thread: Thread,
    #[serde(flatten)]
    pub content: ContentInput,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnpublishInput {
    /// The published post's id, or an unambiguous prefix.
    pub id: String,
    /// Delete it from this account only (default: from every account it was published on).
    #[serde(default)]
    pub account: Option<String>,
}

/// How the recent posts of `stats` are ordered.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatsOrder {
    /// Likes, reposts, replies, quotes and reactions together, most first.
    #[default]
    Engagement,
    /// Newest first.
    Recent,
    /// Most likes first.
    Likes,
    /// Most reposts first.
    Reposts,
    /// Most replies first.
    Replies,
}

impl From<StatsOrder> for StatsSort {
    fn from(order: StatsOrder) -> StatsSort {
        match order {
            StatsOrder::Engagement => StatsSort::Engagement,
            StatsOrder::Recent => StatsSort::Recent,
            StatsOrder::Likes => StatsSort::Likes,
            StatsOrder::Reposts => StatsSort::Reposts,
            StatsOrder::Replies => StatsSort::Replies,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsInput {
    /// A published post's id (or an unambiguous prefix): its counters on each network and
    /// their curve over time. Without it: the recent posts, filtered by the fields below.
    #[serde(default)]
    pub id: Option<String>,
    /// Only posts published to this account (see list_accounts).
    #[serde(default)]
    pub account: Option<String>,
    /// Only posts published within this span before now: "90m", "48h", "7d", "2w" (default 30d).
    #[serde(default)]
    pub since: Option<String>,
    /// The order of the posts (default engagement).
    #[serde(default)]
    pub sort: Option<StatsOrder>,
    /// At most this many posts (1 to 500, default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InsightsInput {
    /// Only this account (default: every account).
    #[serde(default)]
    pub account: Option<String>,
    /// The period: this span before now, compared with the span before it: "7d", "2w",
    /// "90d", at most a year (default 30d). Best times always read the last year.
    #[serde(default)]
    pub since: Option<String>,
    /// How many top posts per account (1 to 100, default 5).
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub top: Option<u32>,
}

// ---- outputs ------------------------------------------------------------------------------

#[derive(Debug, Serialize, JsonSchema)]
pub struct Posts {
    /// The posts, each as `postctl list --json` shows it.
    pub posts: Vec<Value>,
    /// How many more posts match than were returned.
    pub more: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OnePost {
    /// The post as `postctl draft show --json` shows it: text, schedule, zone, media and
    /// each target (account, network, state, due time).
    pub post: Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Created {
    /// What was changed, in words.
    pub changed: String,
    pub post_id: String,
    pub post: Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Checked {
    /// Whether the text can go to every account as asked (as a thread where it must).
    pub ok: bool,
    /// Why not, when it cannot: the message `postctl check` ends with.
    pub problem: Option<String>,
    /// Per account: length counted the network's way, the limit, whether it fits, and the
    /// parts it would be published as.
    pub accounts: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScheduledPost {
    /// What was changed, in words.
    pub changed: String,
    pub post_id: String,
    /// The accounts whose targets got the time.
    pub scheduled_on: Vec<String>,
    /// Targets left as they were, with the state that kept them.
    pub skipped: Vec<Value>,
    /// Accounts that had been cancelled and will publish again.
    pub revived: Vec<String>,
    /// Warnings: accounts on networks postctl cannot publish to yet.
    pub warnings: Vec<String>,
    pub post: Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Cancelled {
    /// What was changed, in words.
    pub changed: String,
    /// Per post, as `postctl cancel --json`: the accounts cancelled and those left alone.
    pub posts: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Status {
    pub post_id: String,
    /// Per target, as `postctl status --json`: state, due time, links of published parts,
    /// the last error and every attempt.
    pub targets: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CalendarOutput {
    pub from: String,
    pub to: String,
    pub tz: String,
    /// Days with posts, as `postctl calendar --json`: each with its posts' id, time, state,
    /// accounts and first words.
    pub days: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Accounts {
    /// Each account as `postctl accounts list --json`: name, network, server, handle and
    /// where its secret is kept (never the secret).
    pub accounts: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Found {
    /// Matching posts, as `list_posts` returns them.
    pub posts: Vec<Value>,
    /// Matching templates.
    pub templates: Vec<Value>,
    /// How many more posts match than were returned.
    pub more: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RenderedOutput {
    pub template: String,
    pub network: Option<String>,
    /// The network whose variant was used; none when the default body was.
    pub variant: Option<String>,
    pub text: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Linted {
    /// No error-level finding (warnings may remain).
    pub passed: bool,
    /// What to do when it did not pass: the message `postctl lint` ends with.
    pub problem: Option<String>,
    /// Findings (level, line, column, message) and lengths per account, as `postctl lint --json`.
    pub report: Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Published {
    /// What was changed, in words.
    pub changed: String,
    pub post_id: String,
    /// Per target: account, state, links of the published parts, or the error.
    pub targets: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Unpublished {
    /// What was changed, in words.
    pub changed: String,
    /// Per account: the parts deleted, or why they could not be.
    pub accounts: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatsOutput {
    /// With `id`: the post's full id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    /// With `id`: per account, as `postctl stats ID --json`: counters, engagement, when
    /// read and read next, what the network never gives, and the curve (each reading's
    /// time, engagement and counters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<Value>>,
    /// Without `id`: the recent posts, as `postctl stats --json`: each post's account,
    /// counters, engagement, standing ("read", "not read yet", "deleted", "not provided").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posts: Option<Vec<Value>>,
    /// Without `id`: each account's followers or members, when read, and its daily curve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<Value>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InsightsOutput {
    /// The time the answer is for.
    pub now: String,
    /// The period (`from` included, `to` excluded) and the one before it, of equal length.
    pub period: Value,
    pub previous: Value,
    /// Per account, as `postctl insights --json`: best_times (slots best first with value,
    /// posts, lift over the other posts, certainty and what it says; the weekday-by-hour
    /// grid; or `not_enough` and a `statement`), top_posts, growth of followers or
    /// members, outliers (far above or below the median), trend against the previous
    /// period, and collection (when last read, what the network does not provide).
    pub accounts: Vec<Value>,
}

// ---- the tools ----------------------------------------------------------------------------

/// A text argument larger than the CLI reads is refused, as the CLI refuses such a file.
/// Like every argument that does not fit its schema, it is a tool error (the current MCP
/// revision's rule for input validation, so the model can correct itself).
fn limit_text(field: &str, text: &str) -> Result<(), Failure> {
    let max = postctl_core::fs::MAX_TEXT_BYTES;
    if text.len() as u64 > max {
        return Err(Failure::Tool(format!(
            "`{field}` holds {} bytes, more than the {} postctl takes as a text; send a shorter one",
            text.len(),
            postctl_core::fs::describe_limit(max)
        )));
    }
    Ok(())
}

fn listing(
    store: &Store,
    filter: &ListFilter,
    limit: Option<u32>,
) -> CliResult<(Vec<Value>, usize)> {
    let limit = limit.unwrap_or(PAGE as u32).clamp(1, MOST_POSTS) as usize;
    let mut posts = Vec::new();
    store.each_post(filter, Some(limit), |post| {
        posts.push(json_value(&post));
        Ok(())
    })?;
    let more = if posts.len() == limit {
        store.count_posts(filter)?.saturating_sub(limit)
    } else {
        0
    };
    Ok((posts, more))
}

fn post_json(ctx: &mut Context, id: &str) -> CliResult<Value> {
    Ok(json_value(&ctx.store()?.post(id)?))
}

/// "masto, bsky", or "no account".
fn names(accounts: &[String]) -> String {
    if accounts.is_empty() {
        "no account".into()
    } else {
        accounts.join(", ")
    }
}

/// "Tue 2026-11-24 09:00 CET" for a post's due time, in the user's zone.
fn due_text(ctx: &mut Context, id: &str) -> CliResult<String> {
    let tz = ctx.zone(None)?;
    let post = ctx.store()?.post(id)?;
    Ok(crate::output::when(post.due, tz))
}

fn scheduled_output(
    ctx: &mut Context,
    scheduled: Scheduled,
    verb: &str,
) -> CliResult<ScheduledPost> {
    let when = due_text(ctx, &scheduled.post_id)?;
    let rule = match ctx.store()?.post(&scheduled.post_id)?.schedule {
        postctl_core::model::Schedule::Every { rule } => format!(", then every {rule}"),
        _ => String::new(),
    };
    let mut changed = format!(
        "{verb} post {} for {when}{rule} on {}",
        scheduled.post_id,
        names(&scheduled.changed)
    );
    if !scheduled.skipped.is_empty() {
        let kept: Vec<String> = scheduled
            .skipped
            .iter()
            .map(|s| format!("{} ({})", s.account, s.state))
            .collect();
        changed += &format!("; left {} as they were", kept.join(", "));
    }
    if !scheduled.revived.is_empty() {
        changed += &format!(
            "; {} had been cancelled and will publish again",
            scheduled.revived.join(", ")
        );
    }
    Ok(ScheduledPost {
        changed,
        post: post_json(ctx, &scheduled.post_id)?,
        skipped: scheduled.skipped.iter().map(json_value).collect(),
        scheduled_on: scheduled.changed,
        revived: scheduled.revived,
        warnings: scheduled.not_publishable,
        post_id: scheduled.post_id,
    })
}

fn parse_date(field: &str, text: &str) -> CliResult<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        CliError::usage(format!(
            "`{field}` takes a date like 2026-12-07; got {text:?}"
        ))
    })
}

/// The calendar from `from` (default today) to `to` (default four weeks on).
pub(super) fn calendar_between(
    ctx: &mut Context,
    from: Option<&str>,
    to: Option<&str>,
    tz: Option<&str>,
) -> CliResult<CalendarOutput> {
    let tz = ctx.zone(tz)?;
    let first = match from {
        Some(text) => parse_date("from", text)?,
        None => ctx.now.with_timezone(&tz).date_naive(),
    };
    let last = match to {
        Some(text) => parse_date("to", text)?,
        None => first + Duration::days(27),
    };
    if last > first + Duration::days(366) {
        return Err(CliError::usage(
            "the range is longer than a year; ask for a shorter one",
        ));
    }
    let calendar = crate::posts::calendar(ctx, first, last, tz)?;
    Ok(CalendarOutput {
        from: calendar.from.to_string(),
        to: calendar.to.to_string(),
        tz: calendar.tz.clone(),
        days: calendar.days.iter().map(json_value).collect(),
    })
}

#[tool_router(router = tool_router, vis = "pub(super)")]
impl Server {
    /// List posts, scheduled ones first (soonest first), then drafts. Same as `postctl list`.
    #[tool(annotations(read_only_hint = true))]
    async fn list_posts(
        &self,
        Parameters(input): Parameters<ListPostsInput>,
    ) -> Result<Json<Posts>, Failure> {
        self.with_context(move |ctx| {
            let filter = match input.filter.unwrap_or(Filter::All) {
                Filter::All => ListFilter::All,
                Filter::Upcoming => ListFilter::Upcoming,
                Filter::Drafts => ListFilter::Drafts,
                Filter::Failed => ListFilter::Failed,
            };
            let (posts, more) = listing(ctx.store()?, &filter, input.limit)?;
            Ok(Json(Posts { posts, more }))
        })
        .await
    }

    /// One post in full: text, schedule, media and each account's target with its state.
    #[tool(annotations(read_only_hint = true))]
    async fn get_post(
        &self,
        Parameters(input): Parameters<PostIdInput>,
    ) -> Result<Json<OnePost>, Failure> {
        self.with_context(move |ctx| {
            let id = ctx.store()?.resolve_post_id(&input.id)?;
            Ok(Json(OnePost {
                post: post_json(ctx, &id)?,
            }))
        })
        .await
    }

    /// Save a new draft (not scheduled) for accounts or groups, with optional media and alt
    /// text. Same as `postctl draft new`. Schedule it afterwards with `schedule` and its id.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    async fn create_draft(
        &self,
        Parameters(input): Parameters<CreateDraftInput>,
    ) -> Result<Json<Created>, Failure> {
        limit_text("text", &input.text)?;
        self.with_context(move |ctx| {
            let content = input.content.args();
            let (id, _) = scheduling::save_draft(ctx, input.text, content, None)?;
            let post = ctx.store()?.post(&id)?;
            let to: Vec<String> = post.targets.iter().map(|t| t.account.clone()).collect();
            Ok(Json(Created {
                changed: format!(
                    "created draft {id} for {} (not scheduled){}",
                    names(&to),
                    match post.media.len() {
                        0 => String::new(),
                        n => format!(", with {n} media file(s)"),
                    }
                ),
                post_id: id,
                post: json_value(&post),
            }))
        })
        .await
    }

    /// How long a text is on each account's network, counted the network's way, whether it
    /// fits, and the parts it would be split into. Same as `postctl check`. Changes nothing.
    #[tool(annotations(read_only_hint = true))]
    async fn check(
        &self,
        Parameters(input): Parameters<CheckInput>,
    ) -> Result<Json<Checked>, Failure> {
        limit_text("text", &input.text)?;
        self.with_context(move |ctx| {
            if input.text.trim().is_empty() {
                return Err(CliError::usage("the text is empty; nothing to check"));
            }
            let to = if input.to.is_empty() {
                ctx.config.default_to.clone()
            } else {
                input.to
            };
            if to.is_empty() {
                return Err(CliError::usage(
                    "say which accounts to check for: `to` (see list_accounts)",
                ));
            }
            let previews = checks::previews(ctx, input.text.trim(), &to, input.thread.into())?;
            let problem = checks::refuse_if_any_cannot(&previews, true)
                .err()
                .map(|e| e.message.replace("nothing was sent or stored; ", ""));
            Ok(Json(Checked {
                ok: problem.is_none(),
                problem,
                accounts: previews.iter().map(json_value).collect(),
            }))
        })
        .await
    }

    /// Give a draft (or any post) a time, or create a scheduled post from `text`, once (`at`)
    /// or on a weekly rule (`every`). Times read as `postctl schedule --at`: "tue 09:00",
    /// "tomorrow 9am", "2026-12-01 09:00", in `tz` (default the user's zone).
    #[tool(annotations(read_only_hint = false, destructive_hint = false))]
    async fn schedule(
        &self,
        Parameters(input): Parameters<ScheduleInput>,
    ) -> Result<Json<ScheduledPost>, Failure> {
        if let Some(text) = &input.text {
            limit_text("text", text)?;
        }
        self.with_context(move |ctx| {
            let subject = match (input.id, input.text) {
                (Some(id), None) => Subject::Post(ctx.store()?.resolve_post_id(&id)?),
                (None, Some(text)) => Subject::Text(text),
                _ => {
                    return Err(CliError::usage(
                        "give either `id` (a post to schedule) or `text` (a new post), not both",
                    ));
                }
            };
            let when = input.when.args()?;
            let scheduled = scheduling::schedule(ctx, subject, input.content.args(), &when)?;
            scheduled_output(ctx, scheduled, "scheduled").map(Json)
        })
        .await
    }

    /// Give a scheduled post a new time (`at`) or rule (`every`). Same as `postctl reschedule`.
    #[tool(annotations(read_only_hint = false, destructive_hint = false))]
    async fn reschedule(
        &self,
        Parameters(input): Parameters<RescheduleInput>,
    ) -> Result<Json<ScheduledPost>, Failure> {
        self.with_context(move |ctx| {
            let when = input.when.args()?;
            let scheduled = scheduling::reschedule_post(ctx, &input.id, &when)?;
            scheduled_output(ctx, scheduled, "rescheduled").map(Json)
        })
        .await
    }

    /// Cancel posts: their targets not yet publishing are cancelled. Same as `postctl cancel`.
    #[tool(annotations(read_only_hint = false, destructive_hint = true))]
    async fn cancel(
        &self,
        Parameters(input): Parameters<CancelInput>,
    ) -> Result<Json<Cancelled>, Failure> {
        self.with_context(move |ctx| {
            if input.ids.is_empty() {
                return Err(CliError::usage("give the ids of the posts to cancel"));
            }
            let cancelled = scheduling::cancel_posts(ctx, &input.ids)?;
            let changed: Vec<String> = cancelled
                .iter()
                .map(|(id, outcome)| {
                    let mut line = format!("cancelled post {id} on {}", names(&outcome.changed));
                    for (account, state) in &outcome.skipped {
                        line += &format!("; left {account} as it is ({state})");
                    }
                    line
                })
                .collect();
            Ok(Json(Cancelled {
                changed: changed.join("\n"),
                posts: cancelled
                    .iter()
                    .map(|(id, outcome)| scheduling::cancelled_json(id, outcome))
                    .collect(),
            }))
        })
        .await
    }

    /// Each target of a post: state, due time, links, last error and the log of attempts.
    /// Same as `postctl status`.
    #[tool(annotations(read_only_hint = true))]
    async fn post_status(
        &self,
        Parameters(input): Parameters<PostIdInput>,
    ) -> Result<Json<Status>, Failure> {
        self.with_context(move |ctx| {
            let store = ctx.store()?;
            let id = store.resolve_post_id(&input.id)?;
            let targets = store.target_status(&id)?;
            Ok(Json(Status {
                targets: targets.iter().map(json_value).collect(),
                post_id: id,
            }))
        })
        .await
    }

    /// Scheduled posts day by day between two dates (default: the coming four weeks),
    /// recurring posts at each occurrence. Same data as `postctl calendar --json`.
    #[tool(annotations(read_only_hint = true))]
    async fn calendar(
        &self,
        Parameters(input): Parameters<CalendarInput>,
    ) -> Result<Json<CalendarOutput>, Failure> {
        self.with_context(move |ctx| {
            calendar_between(
                ctx,
                input.from.as_deref(),
                input.to.as_deref(),
                input.tz.as_deref(),
            )
            .map(Json)
        })
        .await
    }

    /// The accounts posts can go to: name, network, server and handle. Never their secrets.
    #[tool(annotations(read_only_hint = true))]
    async fn list_accounts(
        &self,
        Parameters(_): Parameters<NoInput>,
    ) -> Result<Json<Accounts>, Failure> {
        self.with_context(move |ctx| {
            let accounts = ctx.store()?.accounts()?;
            Ok(Json(Accounts {
                accounts: accounts
                    .iter()
                    .map(|a| crate::content::account_json(ctx, a))
                    .collect(),
            }))
        })
        .await
    }

    /// Full-text search over posts and templates. Same as `postctl search`.
    #[tool(annotations(read_only_hint = true))]
    async fn search(
        &self,
        Parameters(input): Parameters<SearchInput>,
    ) -> Result<Json<Found>, Failure> {
        limit_text("query", &input.query)?;
        self.with_context(move |ctx| {
            if input.query.trim().is_empty() {
                return Err(CliError::usage("give words to search for"));
            }
            let store = ctx.store()?;
            let filter = ListFilter::Search(input.query.clone());
            let (posts, more) = listing(store, &filter, input.limit)?;
            let templates = store.search_templates(&input.query)?;
            Ok(Json(Found {
                posts,
                templates: templates.iter().map(json_value).collect(),
                more,
            }))
        })
        .await
    }

    /// Render a template (stored, or built in such as "release") with variables, for a
    /// network's variant where it has one. Same as `postctl template render`, except that
    /// environment variables are not read.
    #[tool(annotations(read_only_hint = true))]
    async fn render_template(
        &self,
        Parameters(input): Parameters<RenderTemplateInput>,
    ) -> Result<Json<RenderedOutput>, Failure> {
        self.with_context(move |ctx| {
            let network = input
                .network
                .as_deref()
                .map(crate::content::parse_network)
                .transpose()?;
            let (found, _) = crate::content::find(ctx, &input.name)?;
            // Only the variables given: the server's environment may hold secrets.
            let vars = postctl_core::content::template::Variables::layered(
                &[],
                Some(("`vars`", Value::Object(input.vars))),
                std::iter::empty(),
            )?;
            let rendered = found.render(network, &vars)?;
            Ok(Json(RenderedOutput {
                template: rendered.template,
                network: network.map(|n| n.name().to_string()),
                variant: rendered.variant,
                text: rendered.text,
            }))
        })
        .await
    }

    /// Check a draft against the brand voice (words, hashtags, emoji, tone) and each
    /// account's length limit. Same as `postctl lint`. Changes nothing.
    #[tool(annotations(read_only_hint = true))]
    async fn lint(
        &self,
        Parameters(input): Parameters<LintInput>,
    ) -> Result<Json<Linted>, Failure> {
        if let Some(text) = &input.text {
            limit_text("text", text)?;
        }
        self.with_context(move |ctx| {
            let draft = match (input.id, input.text) {
                (Some(id), None) => Draft::Post(id),
                (None, Some(text)) => Draft::Text(text),
                _ => {
                    return Err(CliError::usage(
                        "give either `id` (a stored post) or `text`, not both",
                    ));
                }
            };
            let (report, _) = checks::lint_draft(ctx, draft, input.voice.as_deref(), &input.to)?;
            Ok(Json(Linted {
                passed: report.passed(),
                problem: checks::failure(&report),
                report: json_value(&report),
            }))
        })
        .await
    }

    /// Counters the networks reported (likes, reposts, replies, quotes, reactions, views
    /// where given), read by `postctl stats collect`: one post's per network with their
    /// curve over time, or the recent posts most engaged first with each account's
    /// followers. Same as `postctl stats --json`. Reads the database only.
    #[tool(annotations(read_only_hint = true))]
    async fn stats(
        &self,
        Parameters(input): Parameters<StatsInput>,
    ) -> Result<Json<StatsOutput>, Failure> {
        self.with_context(move |ctx| {
            if let Some(id) = &input.id {
                if input.account.is_some()
                    || input.since.is_some()
                    || input.sort.is_some()
                    || input.limit.is_some()
                {
                    return Err(CliError::usage(
                        "give either `id` (one post) or `account`, `since`, `sort` and `limit` (recent posts), not both",
                    ));
                }
                let stats = analytics::post_stats(ctx.store()?, id)?.json();
                return Ok(Json(StatsOutput {
                    post_id: stats["post_id"].as_str().map(str::to_string),
                    targets: stats["targets"].as_array().cloned(),
                    posts: None,
                    accounts: None,
                }));
            }
            let span = analytics::span("`since`", input.since.as_deref())?;
            let limit = input.limit.unwrap_or(PAGE as u32).clamp(1, MOST_POSTS) as usize;
            let now = ctx.now;
            let recent = analytics::RecentStats::read(
                ctx.store()?,
                now,
                input.account.as_deref(),
                span,
                input.sort.unwrap_or_default().into(),
                limit,
            )?;
            Ok(Json(StatsOutput {
                post_id: None,
                targets: None,
                posts: Some(recent.rows.iter().map(|t| analytics::target_json(t, None)).collect()),
                accounts: Some(recent.accounts),
            }))
        })
        .await
    }

    /// What each account's own history says: the best weekday-and-hour slots to post (with
    /// how sure, or "not enough data yet"), top posts, growth of followers, posts far above
    /// or below the median, and the trend against the previous period. Same as
    /// `postctl insights --json`. Reads the database only.
    #[tool(annotations(read_only_hint = true))]
    async fn insights(
        &self,
        Parameters(input): Parameters<InsightsInput>,
    ) -> Result<Json<InsightsOutput>, Failure> {
        self.with_context(move |ctx| {
            let span = analytics::span("`since`", input.since.as_deref())?;
            let top = input.top.unwrap_or(5).clamp(1, 100) as usize;
            let report = analytics::insights(ctx, input.account.as_deref(), span, top)?;
            let mut json = report.json();
            Ok(Json(InsightsOutput {
                now: json["now"].as_str().unwrap_or_default().to_string(),
                period: json["period"].take(),
                previous: json["previous"].take(),
                accounts: json["accounts"].as_array().cloned().unwrap_or_default(),
            }))
        })
        .await
    }

    /// Publish a text now to accounts or groups, and report each target's link or error.
    /// Same as `postctl post`. Offered only when the user started `postctl mcp --allow-publish`.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        open_world_hint = true
    ))]
    async fn publish_now(
        &self,
        Parameters(input): Parameters<PublishNowInput>,
    ) -> Result<Json<Published>, Failure> {
        limit_text("text", &input.text)?;
        self.with_context(move |ctx| publish_now(ctx, input).map(Json))
            .await
    }

    /// Delete a published post from its networks (every part of a thread). Same as
    /// `postctl unpublish --yes`. Offered only with `postctl mcp --allow-publish`.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        open_world_hint = true
    ))]
    async fn unpublish(
        &self,
        Parameters(input): Parameters<UnpublishInput>,
    ) -> Result<Json<Unpublished>, Failure> {
        self.with_context(move |ctx| unpublish(ctx, input).map(Json))
            .await
    }
}

fn publish_now(ctx: &mut Context, input: PublishNowInput) -> CliResult<Published> {
    // This device never publishes a linked database's posts: its server does.
    if ctx.store()?.is_linked()? {
        return Err(CliError::usage(
            "this database is linked to a server, which publishes its posts: use `schedule` \
             (the post goes out at its time once it syncs), or `postctl post` in a terminal, \
             which sends the post to the server and waits for the result; nothing was stored",
        ));
    }
    let text = input.text.trim().to_string();
    if text.is_empty() {
        return Err(CliError::usage("the text is empty; nothing to publish"));
    }
    let thread: ThreadMode = input.thread.into();
    let content = input.content.args();
    let accounts = crate::content::destinations(ctx, &content)?;
    if accounts.is_empty() {
        return Err(CliError::usage(
            "say where to publish: `to` (see list_accounts)",
        ));
    }
    let names: Vec<String> = accounts.iter().map(|a| a.name.clone()).collect();
    let previews = checks::previews(ctx, &text, &names, thread)?;
    checks::refuse_if_any_cannot(&previews, true)?;
    let tz = ctx.zone(None)?;
    let now = ctx.clock.now();
    let targets = accounts
        .iter()
        .map(|a| NewTarget {
            account_id: a.id.clone(),
            due: Some(now),
        })
        .collect();
    let mut post = crate::content::new_post(
        ctx,
        text,
        content,
        tz.name(),
        postctl_core::model::Schedule::At,
        targets,
    )?;
    post.thread = thread;
    let id = ctx.store()?.create_post(&post)?;
    let store = ctx.open_store()?;
    let engine = crate::engine::engine(ctx, store)?;
    let report = std::thread::scope(|scope| {
        // The engine runs on a runtime of its own, away from the server's.
        scope
            .spawn(|| -> CliResult<_> {
                let runtime = crate::engine::runtime()?;
                let posts = [id.clone()];
                crate::engine::publish_and_wait(&engine, &runtime, Some(&posts), now, tz)
            })
            .join()
            .map_err(|_| CliError::failure("publishing stopped unexpectedly; see `postctl status`"))
    })??;
    let mut by_state: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for outcome in &report.outcomes {
        by_state
            .entry(outcome.state.to_string())
            .or_default()
            .push(outcome.account.clone());
    }
    let states: Vec<String> = by_state
        .iter()
        .map(|(state, accounts)| format!("{state} on {}", accounts.join(", ")))
        .collect();
    Ok(Published {
        changed: format!(
            "created post {id} and published it now: {}",
            states.join("; ")
        ),
        targets: report.outcomes.iter().map(json_value).collect(),
        post_id: id,
    })
}

fn unpublish(ctx: &mut Context, input: UnpublishInput) -> CliResult<Unpublished> {
    let store = ctx.store()?;
    let id = store.resolve_post_id(&input.id)?;
    let mut targets = store.published_targets(&id)?;
    if let Some(name) = &input.account {
        targets.retain(|(_, account, _)| &account.name == name);
    }
    if targets.is_empty() {
        return Err(CliError::usage(format!(
            "post {id} has nothing published{}; see post_status",
            input
                .account
                .as_ref()
                .map(|a| format!(" on {a}"))
                .unwrap_or_default()
        )));
    }
    let store = ctx.open_store()?;
    let engine = crate::engine::engine(ctx, store)?;
    let results = std::thread::scope(|scope| {
        scope
            .spawn(|| -> CliResult<_> {
                let runtime = crate::engine::runtime()?;
                Ok(runtime.block_on(engine.unpublish(&id, input.account.as_deref()))?)
            })
            .join()
            .map_err(|_| {
                CliError::failure("unpublishing stopped unexpectedly; see `postctl status`")
            })
    })??;
    let lines: Vec<String> = results
        .iter()
        .map(|(account, result)| match result {
            Ok(parts) => format!("deleted {parts} part(s) of post {id} from {account}"),
            Err(error) => format!("{account}: not deleted: {error}"),
        })
        .collect();
    Ok(Unpublished {
        changed: lines.join("\n"),
        accounts: results
            .iter()
            .map(|(account, result)| match result {
                Ok(parts) => serde_json::json!({"account": account, "deleted_parts": parts}),
                Err(error) => serde_json::json!({"account": account, "error": error}),
            })
            .collect(),
    })
}
