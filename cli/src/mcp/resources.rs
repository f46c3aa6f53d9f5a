//! What `postctl mcp` offers besides tools: resources (the calendar of the coming weeks,
//! each account's limits) and prompts ("announce a release from CHANGELOG.md", "plan next
//! week's posts").

use std::path::PathBuf;

use chrono::{Datelike, Duration};
use postctl_core::content::changelog;
use postctl_core::model::Account;
use postctl_core::platforms::{self, Capabilities};
use rmcp::ErrorData;
use rmcp::model::{
    GetPromptResult, Prompt, PromptArgument, PromptMessage, ReadResourceResult, Resource,
    ResourceContents, Role,
};
use serde_json::{Map, Value, json};

use super::Failure;
use super::tools::calendar_between;
use crate::context::Context;
use crate::exit::{CliError, CliResult};

const CALENDAR_URI: &str = "postctl://calendar";
const LIMITS_PREFIX: &str = "postctl://accounts/";
const LIMITS_SUFFIX: &str = "/limits";

/// The calendar, and one limits resource per account.
pub fn list(ctx: &mut Context) -> CliResult<Vec<Resource>> {
    let mut resources = vec![
        Resource::new(CALENDAR_URI, "calendar")
            .with_title("Calendar of the coming four weeks")
            .with_description(
                "Scheduled posts day by day from today for four weeks, in the user's zone",
            )
            .with_mime_type("application/json"),
    ];
    for account in ctx.store()?.accounts()? {
        resources.push(
            Resource::new(
                limits_uri(&account.name),
                format!("{} limits", account.name),
            )
            .with_title(format!(
                "Limits of {} ({})",
                account.name,
                account.network.display_name()
            ))
            .with_description(
                "Text length and how it is counted, media per post, image size, threads",
            )
            .with_mime_type("application/json"),
        );
    }
    Ok(resources)
}

fn limits_uri(account: &str) -> String {
    format!("{LIMITS_PREFIX}{account}{LIMITS_SUFFIX}")
}

/// Reads the resource at `uri`.
pub fn read(ctx: &mut Context, uri: &str) -> Result<ReadResourceResult, Failure> {
    let value = if uri == CALENDAR_URI {
        serde_json::to_value(calendar_between(ctx, None, None, None)?)
            .map_err(|e| CliError::failure(format!("cannot encode the calendar: {e}")))?
    } else if let Some(name) = uri
        .strip_prefix(LIMITS_PREFIX)
        .and_then(|rest| rest.strip_suffix(LIMITS_SUFFIX))
    {
        let account = ctx
            .store()?
            .account(name)
            .map_err(|e| not_found(uri, &e.to_string()))?;
        limits(ctx, &account)?
    } else {
        return Err(not_found(
            uri,
            "postctl has postctl://calendar and postctl://accounts/NAME/limits (see resources/list)",
        ));
    };
    let text = serde_json::to_string_pretty(&value)
        .map_err(|e| CliError::failure(format!("cannot encode {uri}: {e}")))?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/json"),
    ]))
}

fn not_found(uri: &str, why: &str) -> Failure {
    Failure::Protocol(ErrorData::resource_not_found(
        format!("no resource {uri}: {why}"),
        Some(json!({"uri": uri})),
    ))
}

/// What `account` can take, as `check` counts it (refined by the server's own limits where
/// postctl has read them).
fn limits(ctx: &mut Context, account: &Account) -> CliResult<Value> {
    let caps = crate::content::capabilities(ctx, std::slice::from_ref(account))?
        .pop()
        .unwrap_or_else(|| Err("no limits known".into()));
    let mut value = json!({
        "account": account.name,
        "network": account.network.name(),
        "publishable": platforms::can_publish(account.network),
    });
    match caps {
        Ok(caps) => {
            if let Value::Object(map) = &mut value {
                map.extend(capabilities_json(&caps));
            }
        }
        Err(why) => value["unknown"] = Value::String(why),
    }
    Ok(value)
}

fn capabilities_json(caps: &Capabilities) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("max_length".into(), json!(caps.limit.max));
    map.insert("counted_as".into(), json!(caps.limit.counting));
    map.insert("max_media_per_post".into(), json!(caps.max_media));
    map.insert("max_image_bytes".into(), json!(caps.max_image_bytes));
    map.insert("threads".into(), json!(caps.threads));
    map
}

// ---- prompts ------------------------------------------------------------------------------

const ANNOUNCE: &str = "announce_release";
const PLAN: &str = "plan_week";

pub fn prompts() -> Vec<Prompt> {
    vec![
        Prompt::new(
            ANNOUNCE,
            Some("Announce a release from CHANGELOG.md: draft a post per account, check it fits, schedule it"),
            Some(vec![
                PromptArgument::new("version")
                    .with_description("The release to announce, e.g. 1.2.0 (default: the newest in the changelog)"),
                PromptArgument::new("changelog")
                    .with_description("The changelog's path (default: CHANGELOG.md in the server's directory)"),
                PromptArgument::new("to")
                    .with_description("Accounts or groups, comma separated (default: every account)"),
                PromptArgument::new("at")
                    .with_description("When to publish, e.g. \"tomorrow 09:00\" (default: ask the user)"),
            ]),
        )
        .with_title("Announce a release from CHANGELOG.md"),
        Prompt::new(
            PLAN,
            Some("Plan next week's posts around what is already scheduled"),
            Some(vec![
                PromptArgument::new("topic")
                    .with_description("What the posts are about (default: ask the user)"),
                PromptArgument::new("to")
                    .with_description("Accounts or groups, comma separated (default: every account)"),
                PromptArgument::new("posts")
                    .with_description("How many posts to plan (default: one per weekday)"),
            ]),
        )
        .with_title("Plan next week's posts"),
    ]
}

/// A string argument of a prompt; other JSON types are refused.
fn argument(arguments: &Map<String, Value>, name: &str) -> CliResult<Option<String>> {
    match arguments.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(CliError::usage(format!(
            "the prompt argument `{name}` must be a string; got {other}"
        ))),
    }
}

/// The accounts `to` names (all of them when none), with their limits, as lines.
fn accounts_block(ctx: &mut Context, to: Option<&str>) -> CliResult<(Vec<String>, String)> {
    let accounts = match to {
        Some(to) => {
            let names: Vec<String> = to.split(',').map(|n| n.trim().to_string()).collect();
            ctx.store()?.resolve_destinations(&names)?
        }
        None => ctx.store()?.accounts()?,
    };
    if accounts.is_empty() {
        return Err(CliError::usage(
            "there are no accounts yet; add one with `postctl accounts add` first",
        ));
    }
    let mut lines = String::new();
    for account in &accounts {
        let limits = limits(ctx, account)?;
        lines += &format!(
            "- {} ({}): at most {} characters, {}\n",
            account.name,
            account.network.display_name(),
            limits["max_length"],
            if limits["threads"] == Value::Bool(true) {
                "longer texts become a thread"
            } else {
                "no threads"
            }
        );
    }
    Ok((accounts.into_iter().map(|a| a.name).collect(), lines))
}

/// The prompt `name`, filled in from the database and the arguments.
pub fn prompt(
    ctx: &mut Context,
    name: &str,
    arguments: Option<Map<String, Value>>,
) -> Result<GetPromptResult, Failure> {
    let arguments = arguments.unwrap_or_default();
    let text = match name {
        ANNOUNCE => announce(ctx, &arguments)?,
        PLAN => plan(ctx, &arguments)?,
        other => {
            return Err(Failure::Protocol(ErrorData::invalid_params(
                format!("no prompt {other:?}; postctl has {ANNOUNCE} and {PLAN}"),
                None,
            )));
        }
    };
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(
        Role::User,
        text,
    )]))
}

fn announce(ctx: &mut Context, arguments: &Map<String, Value>) -> CliResult<String> {
    let path = PathBuf::from(argument(arguments, "changelog")?.unwrap_or("CHANGELOG.md".into()));
    let text = crate::content::read_text_file(&path, "the `changelog` argument")?;
    let version = argument(arguments, "version")?;
    let release = changelog::section(&text, version.as_deref())
        .map_err(|e| CliError::from(postctl_core::Error::from(e)))?;
    let (accounts, limits) = accounts_block(ctx, argument(arguments, "to")?.as_deref())?;
    let tz = ctx.zone(None)?;
    let when = match argument(arguments, "at")? {
        Some(at) => format!("Schedule them for {at} ({}) with `schedule`.", tz.name()),
        None => "Ask me when to publish before scheduling them with `schedule`.".to_string(),
    };
    Ok(format!(
        "Announce release {title} of this project on {to}.\n\n\
         Release notes from {path}:\n\n{notes}\n\n{link}\
         The accounts and their limits:\n{limits}\n\
         Write one short announcement per network in Markdown (you may start from \
         `render_template` with the built-in \"release\" template), check each with `check` \
         for its accounts and shorten it until it fits, save it with `create_draft`, and show \
         me the drafts. {when} Times are read in {zone} unless you pass `tz`.",
        title = release.title,
        to = accounts.join(", "),
        path = path.display(),
        notes = release.body_markdown.trim(),
        link = release
            .link
            .map(|l| format!("Link to the release: {l}\n\n"))
            .unwrap_or_default(),
        zone = tz.name(),
    ))
}

fn plan(ctx: &mut Context, arguments: &Map<String, Value>) -> CliResult<String> {
    let tz = ctx.zone(None)?;
    let today = ctx.now.with_timezone(&tz).date_naive();
    let monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let sunday = monday + Duration::days(6);
    let (accounts, limits) = accounts_block(ctx, argument(arguments, "to")?.as_deref())?;
    let from = monday.to_string();
    let to = sunday.to_string();
    let calendar = calendar_between(ctx, Some(&from), Some(&to), None)?;
    let mut scheduled = String::new();
    for day in &calendar.days {
        for post in day["posts"].as_array().into_iter().flatten() {
            scheduled += &format!(
                "- {} {} on {}: {} (id {})\n",
                day["date"].as_str().unwrap_or_default(),
                post["local"].as_str().unwrap_or_default(),
                post["to"]
                    .as_array()
                    .map(|to| to
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default(),
                post["text"].as_str().unwrap_or_default(),
                post["id"].as_str().unwrap_or_default(),
            );
        }
    }
    if scheduled.is_empty() {
        scheduled = "- nothing yet\n".into();
    }
    let topic = match argument(arguments, "topic")? {
        Some(topic) => format!("The posts are about: {topic}."),
        None => "Ask me what the posts should be about.".to_string(),
    };
    let count = match argument(arguments, "posts")? {
        Some(n) => format!("Plan {n} posts."),
        None => "Plan one post per weekday.".to_string(),
    };
    Ok(format!(
        "Plan next week's posts (Monday {from} to Sunday {to}, zone {zone}) for {accounts}. \
         {topic} {count}\n\nAlready scheduled that week:\n{scheduled}\n\
         The accounts and their limits:\n{limits}\n\
         Spread the new posts around what is already scheduled. For each: write it in \
         Markdown, check it with `check`, and propose a day and time. When I agree, create \
         them with `schedule` (`text`, `to`, `at` such as \"{monday_name} 09:00\" or \
         \"{from} 09:00\", `tz` \"{zone}\"), then show me the week with `calendar`.",
        zone = tz.name(),
        accounts = accounts.join(", "),
        monday_name = "mon",
    ))
}
