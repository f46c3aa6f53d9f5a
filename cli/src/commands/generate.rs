//! `postctl generate`: drafts written by a language model, streamed to the terminal, then
//! fitted per network and saved; `--rewrite ID --for NETWORK` and `--hashtags ID`.
//!
//! Every model answer is complete before anything is written, and all drafts of one run
//! are written in one transaction: a failure midway saves nothing.

use std::io::Write;

use postctl_core::ai::prompt::{self, Brief, SEPARATOR};
use postctl_core::ai::{AiError, Model, Progress, Prompt};
use postctl_core::content::changelog::{self, ChangelogError, Release};
use postctl_core::content::voice::{HashtagPolicy, Voice};
use postctl_core::model::{Account, Post, Schedule, TargetState};
use postctl_core::network::Network;
use postctl_core::platforms;
use postctl_core::publish::preview;
use postctl_core::store::{NewPost, NewTarget, PostChange, Store};
use postctl_core::text::{Format, TextLimit, fit};
use serde::Serialize;

use crate::args::GenerateArgs;
use crate::content::choose_voice;
use crate::content::read_file;
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, paint, print, print_json, stderr_color, stdout_color, table};

/// The label every generated draft carries, so `postctl list` and search can find them.
const LABEL: &str = "generated";

pub fn run(ctx: &mut Context, args: GenerateArgs) -> CliResult {
    if let Some(id) = &args.hashtags {
        return hashtags(ctx, id, &args);
    }
    if let Some(id) = &args.rewrite {
        return rewrite(ctx, id, &args);
    }
    drafts(ctx, &args)
}

/// The model and the voice every mode needs.
struct Writer {
    model: Model,
    voice: Option<(String, Voice)>,
    runtime: tokio::runtime::Runtime,
}

impl Writer {
    fn new(ctx: &Context, args: &GenerateArgs) -> CliResult<Writer> {
        let voice = choose_voice(ctx, args.voice.as_deref())?;
        let model = Model::resolve(
            &ctx.config.ai,
            args.model.as_deref(),
            &ctx.secrets()?,
            &|name| std::env::var(name).ok(),
        )?;
        Ok(Writer {
            model,
            voice,
            runtime: crate::engine::runtime()?,
        })
    }

    fn voice(&self) -> Option<(&str, &Voice)> {
        self.voice
            .as_ref()
            .map(|(name, voice)| (name.as_str(), voice))
    }

    /// Asks `prompt`, showing the answer as it streams under `heading`.
    fn ask(&self, heading: &str, prompt: &Prompt, variants: bool) -> Result<String, AiError> {
        let mut live = Live::new(heading, variants);
        let answer = self.runtime.block_on(
            self.model
                .complete(prompt, &mut |progress| live.progress(progress)),
        );
        live.end();
        answer
    }

    /// Asks for one post: the answer, cleaned as a variant is.
    fn ask_one(&self, heading: &str, prompt: &Prompt) -> Result<String, AiError> {
        let answer = self.ask(heading, prompt, false)?;
        prompt::split_variants(&answer)
            .into_iter()
            .next()
            .ok_or(AiError::Empty)
    }

    /// `text` for `network` within `limit`: as it is when it fits, else shortened once by
    /// the model. Returns the text and whether it fits now.
    fn fitted(
        &self,
        text: &str,
        limits: &[(Network, Limit)],
        what: &str,
    ) -> Result<Fitted, AiError> {
        let over: Vec<(Network, usize, usize)> = limits
            .iter()
            .filter_map(|(network, limit)| {
                let measured = fit(text, limit.limit, limit.format);
                (!measured.fits).then_some((*network, measured.length, measured.max))
            })
            .collect();
        let Some(&(network, length, max)) = over.iter().min_by_key(|(_, _, max)| *max) else {
            return Ok(Fitted {
                text: text.to_string(),
                shortened: false,
            });
        };
        let prompt = prompt::shorten(text, self.voice(), network, length, max);
        let heading = format!(
            "shortening {what} for {} ({length}/{max})",
            network.display_name()
        );
        Ok(Fitted {
            text: self.ask_one(&heading, &prompt)?,
            shortened: true,
        })
    }
}

struct Fitted {
    text: String,
    shortened: bool,
}

/// How a network counts and renders, for fitting.
#[derive(Debug, Clone, Copy)]
struct Limit {
    limit: TextLimit,
    format: Format,
}

/// Each account with its own limit when postctl knows it offline (a Mastodon instance's,
/// once read), else its network's default; `None` for networks without a known limit.
fn limits_of(store: &Store, accounts: Vec<Account>) -> Vec<(Account, Option<Limit>)> {
    let capabilities = preview::capabilities(Some(store), &accounts);
    accounts
        .into_iter()
        .zip(capabilities)
        .map(|(account, caps)| {
            let limit = caps
                .ok()
                .map(|caps| Limit {
                    limit: caps.limit,
                    format: caps.format,
                })
                .or_else(|| default_limit(account.network));
            (account, limit)
        })
        .collect()
}

/// The network's published default limit, where postctl knows one.
fn default_limit(network: Network) -> Option<Limit> {
    platforms::defaults(network).map(|caps| Limit {
        limit: caps.limit,
        format: caps.format,
    })
}

/// One saved (or, for JSON, to be reported) draft.
#[derive(Debug, Serialize)]
struct Draft {
    id: String,
    /// Which variant it is, from 1.
    variant: usize,
    accounts: Vec<String>,
    text: String,
    /// The model shortened it to fit.
    shortened: bool,
    /// Accounts whose network it still does not fit, with its length there.
    over_limit: Vec<Overrun>,
}

#[derive(Debug, Clone, Serialize)]
struct Overrun {
    account: String,
    length: usize,
    max: usize,
}

#[derive(Debug, Serialize)]
struct Generated<'a> {
    model: &'a str,
    drafts: &'a [Draft],
}

fn drafts(ctx: &mut Context, args: &GenerateArgs) -> CliResult {
    let source = args
        .from
        .as_deref()
        .map(|path| read_source(path, args.release_version.as_deref()))
        .transpose()?;
    let request = match (args.brief.as_deref().map(str::trim), &source) {
        (Some(brief), _) if !brief.is_empty() => brief.to_string(),
        (_, Some(_)) => "Announce this release.".to_string(),
        _ => {
            return Err(CliError::usage(
                "say what to write, e.g. postctl generate \"announce the v2 release\" --to masto; or give --from CHANGELOG.md",
            ));
        }
    };
    let names = if args.to.is_empty() {
        ctx.config.default_to.clone()
    } else {
        args.to.clone()
    };
    let accounts = ctx.store()?.resolve_destinations(&names)?;
    let limits = limits_of(ctx.store()?, accounts);
    let networks: Vec<Network> = limits.iter().map(|(a, _)| a.network).collect();
    let writer = Writer::new(ctx, args)?;
    let wanted = usize::from(args.variants);
    let brief = Brief {
        request: &request,
        source: source.as_deref(),
        voice: writer.voice(),
        networks: &networks,
        variants: wanted,
    };
    let answer = writer.ask(
        &model_heading(&writer.model),
        &prompt::drafts(&brief),
        wanted > 1,
    )?;
    let variants = prompt::split_variants(&answer);
    if variants.is_empty() {
        return Err(AiError::Empty.into());
    }
    if variants.len() != wanted {
        note(format!(
            "asked for {wanted} variants, the model wrote {}; keeping what it wrote",
            variants.len()
        ));
    }
    let mut drafts = Vec::new();
    for (index, variant) in variants.iter().enumerate() {
        drafts.extend(fit_variant(&writer, index + 1, variant, &limits)?);
    }
    let tz = ctx.zone(None)?;
    let posts: Vec<NewPost> = drafts
        .iter()
        .map(|draft| NewPost {
            body: draft.text.clone(),
            title: None,
            labels: vec![LABEL.to_string()],
            media: vec![],
            tz: tz.name().to_string(),
            schedule: Schedule::None,
            thread: Default::default(),
            targets: limits
                .iter()
                .filter(|(a, _)| draft.accounts.contains(&a.name))
                .map(|(a, _)| NewTarget {
                    account_id: a.id.clone(),
                    due: None,
                })
                .collect(),
        })
        .collect();
    let ids = ctx.store()?.create_posts(&posts)?;
    for (draft, id) in drafts.iter_mut().zip(ids) {
        draft.id = id;
    }
    report(ctx, &writer.model, &drafts)
}

/// One variant as drafts: one per distinct text its accounts need.
fn fit_variant(
    writer: &Writer,
    variant: usize,
    text: &str,
    accounts: &[(Account, Option<Limit>)],
) -> CliResult<Vec<Draft>> {
    let limits: Vec<(Network, Limit)> = accounts
        .iter()
        .filter_map(|(a, limit)| limit.map(|l| (a.network, l)))
        .collect();
    let fitted = writer.fitted(text, &limits, &format!("variant {variant}"))?;
    let mut drafts: Vec<Draft> = Vec::new();
    for (account, limit) in accounts {
        let fits_original = limit.is_none_or(|l| fit(text, l.limit, l.format).fits);
        let (chosen, shortened) = if fits_original {
            (text.to_string(), false)
        } else {
            (fitted.text.clone(), fitted.shortened)
        };
        let overrun = limit.and_then(|l| {
            let measured = fit(&chosen, l.limit, l.format);
            (!measured.fits).then(|| Overrun {
                account: account.name.clone(),
                length: measured.length,
                max: measured.max,
            })
        });
        match drafts.iter_mut().find(|d| d.text == chosen) {
            Some(draft) => {
                draft.accounts.push(account.name.clone());
                draft.over_limit.extend(overrun);
            }
            None => drafts.push(Draft {
                id: String::new(),
                variant,
                accounts: vec![account.name.clone()],
                text: chosen,
                shortened,
                over_limit: overrun.into_iter().collect(),
            }),
        }
    }
    if accounts.is_empty() {
        drafts.push(Draft {
            id: String::new(),
            variant,
            accounts: vec![],
            text: text.to_string(),
            shortened: false,
            over_limit: vec![],
        });
    }
    Ok(drafts)
}

fn report(ctx: &Context, model: &Model, drafts: &[Draft]) -> CliResult {
    for draft in drafts {
        for over in &draft.over_limit {
            note(format!(
                "variant {} is still {}/{} on {} after shortening; it is saved as draft {}: shorten it with `postctl draft edit {}` before scheduling",
                draft.variant,
                over.length,
                over.max,
                over.account,
                short(&draft.id),
                short(&draft.id)
            ));
        }
    }
    if drafts.iter().all(|d| d.accounts.is_empty()) && !ctx.json {
        note(
            "no --to (and no default_to): the drafts have no accounts and were not fitted to any network",
        );
    }
    if ctx.json {
        return print_json(&Generated {
            model: &model.name,
            drafts,
        });
    }
    note(match drafts.len() {
        1 => "saved 1 draft:".to_string(),
        n => format!("saved {n} drafts:"),
    });
    let rows: Vec<Vec<String>> = drafts
        .iter()
        .map(|d| {
            let mut status = Vec::new();
            if d.shortened {
                status.push("shortened");
            }
            if !d.over_limit.is_empty() {
                status.push("over the limit");
            }
            vec![
                short(&d.id).to_string(),
                d.variant.to_string(),
                if d.accounts.is_empty() {
                    "-".to_string()
                } else {
                    d.accounts.join(", ")
                },
                status.join(", "),
            ]
        })
        .collect();
    print(&table(
        &["DRAFT", "VARIANT", "ACCOUNTS", ""],
        &rows,
        stdout_color(),
    ))
}

/// The short form of an id people type (the store resolves prefixes).
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn model_heading(model: &Model) -> String {
    format!("{} ({})", model.name, model.provider.as_str())
}

/// The material of `--from`: a GitHub release event, a changelog's version section, or
/// (a file with no release headings, and no --version) the text as it is.
fn read_source(path: &std::path::Path, version: Option<&str>) -> CliResult<String> {
    let text = read_file(path)?;
    let release = if text.trim_start().starts_with('{') {
        changelog::from_github_event(&text)
    } else {
        changelog::section(&text, version)
    };
    match release {
        Ok(release) => Ok(release_material(&release)),
        Err(ChangelogError::NoReleases) if version.is_none() => Ok(text),
        Err(e) => Err(CliError::from(postctl_core::Error::from(e))),
    }
}

fn release_material(release: &Release) -> String {
    let mut out = format!("Release {}", release.version);
    if let Some(project) = &release.project {
        out = format!("{project}: {out}");
    }
    if let Some(date) = &release.date {
        out += &format!(" ({date})");
    }
    if release.title != release.version {
        out += &format!("\n{}", release.title);
    }
    out += &format!("\n\n{}", release.body_markdown.trim());
    if let Some(link) = &release.link {
        out += &format!("\n\nRelease notes: {link}");
    }
    out
}

#[derive(Debug, Serialize)]
struct Rewritten<'a> {
    model: &'a str,
    /// The post that has the new text: the same post, or a new one.
    post_id: &'a str,
    /// Whether the text went to a new post (the original keeps its other networks).
    new_post: bool,
    text: &'a str,
    shortened: bool,
    over_limit: &'a [Overrun],
}

fn rewrite(ctx: &mut Context, id: &str, args: &GenerateArgs) -> CliResult {
    let spec = args.for_network.as_deref().unwrap_or_default().trim();
    let store = ctx.store()?;
    let id = store.resolve_post_id(id)?;
    let post = store.post(&id)?;
    let (network, accounts) = rewrite_accounts(ctx, &post, spec)?;
    let writer = Writer::new(ctx, args)?;
    let prompt = prompt::rewrite(&post.body, writer.voice(), network, args.brief.as_deref());
    let heading = format!(
        "{} for {}",
        model_heading(&writer.model),
        network.display_name()
    );
    let text = writer.ask_one(&heading, &prompt)?;
    // Who the text must fit: each account with a known limit, else (no account of that
    // network on the post) the network's default limit under the network's name.
    let mut checks: Vec<(String, Network, Limit)> = limits_of(ctx.store()?, accounts.clone())
        .into_iter()
        .filter_map(|(a, l)| l.map(|l| (a.name, a.network, l)))
        .collect();
    if checks.is_empty()
        && let Some(limit) = default_limit(network)
    {
        checks.push((network.to_string(), network, limit));
    }
    let network_limits: Vec<(Network, Limit)> = checks.iter().map(|(_, n, l)| (*n, *l)).collect();
    let fitted = writer.fitted(&text, &network_limits, "the rewrite")?;
    let over_limit: Vec<Overrun> = checks
        .iter()
        .filter_map(|(who, _, l)| {
            let measured = fit(&fitted.text, l.limit, l.format);
            (!measured.fits).then(|| Overrun {
                account: who.clone(),
                length: measured.length,
                max: measured.max,
            })
        })
        .collect();
    let account_ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let pending: Vec<&str> = post
        .targets
        .iter()
        .filter(|t| t.state != TargetState::Cancelled)
        .map(|t| t.account.as_str())
        .collect();
    let in_place = !accounts.is_empty()
        && pending.len() == accounts.len()
        && accounts.iter().all(|a| pending.contains(&a.name.as_str()));
    let store = ctx.store()?;
    let post_id = if in_place {
        if let Some(target) = post.targets.iter().find(|t| {
            !matches!(
                t.state,
                TargetState::Draft | TargetState::Scheduled | TargetState::Cancelled
            )
        }) {
            return Err(CliError::usage(format!(
                "the post's target {} is {}, so its text can no longer change; write a new post with `postctl draft new`",
                target.account, target.state
            )));
        }
        store.update_post(
            &id,
            &PostChange {
                body: Some(fitted.text.clone()),
                ..PostChange::default()
            },
            None,
        )?;
        id.clone()
    } else {
        store.split_post(&id, &account_ids, &fitted.text)?
    };
    for over in &over_limit {
        note(format!(
            "the rewrite is still {}/{} on {} after shortening; shorten it with `postctl draft edit {}` before scheduling",
            over.length,
            over.max,
            over.account,
            short(&post_id)
        ));
    }
    if ctx.json {
        return print_json(&Rewritten {
            model: &writer.model.name,
            post_id: &post_id,
            new_post: !in_place,
            text: &fitted.text,
            shortened: fitted.shortened,
            over_limit: &over_limit,
        });
    }
    if in_place {
        note(format!(
            "rewrote post {} for {}:",
            short(&post_id),
            network.display_name()
        ));
    } else if accounts.is_empty() {
        note(format!(
            "saved the {} version as a new draft with no accounts (add them with `postctl draft edit {} --to ACCOUNTS`):",
            network.display_name(),
            short(&post_id)
        ));
    } else {
        note(format!(
            "moved {} to a new post with the rewritten text; the original keeps its other accounts:",
            accounts
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    print(&format!("{post_id}\n"))
}

/// The network and the accounts `--for` names: a network picks the post's accounts on it;
/// an account or group names accounts of one network.
fn rewrite_accounts(
    ctx: &mut Context,
    post: &Post,
    spec: &str,
) -> CliResult<(Network, Vec<Account>)> {
    let store = ctx.store()?;
    if let Ok(network) = spec.parse::<Network>()
        && store.account(spec).is_err()
    {
        let accounts = post
            .targets
            .iter()
            .filter(|t| t.network == network && t.state != TargetState::Cancelled)
            .map(|t| store.account(&t.account))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((network, accounts));
    }
    let accounts = store.resolve_destinations(&[spec.to_string()]).map_err(|_| {
        CliError::usage(format!(
            "--for takes a network (bluesky, mastodon, x, ...), an account or a group; {spec:?} is none of these"
        ))
    })?;
    let mut networks: Vec<Network> = accounts.iter().map(|a| a.network).collect();
    networks.dedup();
    match networks.as_slice() {
        [network] => Ok((*network, accounts)),
        _ => Err(CliError::usage(format!(
            "--for {spec} names accounts on several networks; a rewrite is for one network, name it (e.g. --for bluesky)"
        ))),
    }
}

#[derive(Debug, Serialize)]
struct Hashtags<'a> {
    post_id: &'a str,
    hashtags: &'a [String],
}

fn hashtags(ctx: &mut Context, id: &str, args: &GenerateArgs) -> CliResult {
    let store = ctx.store()?;
    let id = store.resolve_post_id(id)?;
    let post = store.post(&id)?;
    let networks: Vec<Network> = post.targets.iter().map(|t| t.network).collect();
    let writer = Writer::new(ctx, args)?;
    if let Some((name, voice)) = writer.voice()
        && voice.hashtag_policy == HashtagPolicy::None
    {
        return Err(CliError::usage(format!(
            "the {name} voice uses no hashtags (hashtag_policy = none); pick another with --voice, or change it with `postctl voice set {name} --hashtag-policy optional`"
        )));
    }
    let count = usize::from(args.count);
    let prompt = prompt::hashtags(&post.body, writer.voice(), &networks, count);
    let answer = writer.ask(&model_heading(&writer.model), &prompt, false)?;
    let tags = prompt::parse_hashtags(&answer, count);
    if tags.is_empty() {
        return Err(CliError::failure(
            "the model suggested no hashtags postctl could read; run the command again",
        ));
    }
    if ctx.json {
        return print_json(&Hashtags {
            post_id: &id,
            hashtags: &tags,
        });
    }
    print(&(tags.join("\n") + "\n"))
}

/// The model's answer on stderr as it arrives, a heading above it, and a rule in place of
/// each variant separator.
struct Live {
    err: std::io::Stderr,
    color: bool,
    variants: bool,
    variant: usize,
    /// The start of the current line, held back while it may be a separator.
    held: String,
    /// Part of the current line has been written.
    in_line: bool,
    heading: String,
}

impl Live {
    fn new(heading: &str, variants: bool) -> Live {
        let mut live = Live {
            err: std::io::stderr(),
            color: stderr_color(),
            variants,
            variant: 0,
            held: String::new(),
            in_line: false,
            heading: heading.to_string(),
        };
        live.begin();
        live
    }

    fn begin(&mut self) {
        let line = paint(&format!("── {} ──", self.heading), "2", self.color);
        let _ = writeln!(self.err, "{line}");
        self.variant = 0;
        self.next_variant();
    }

    fn next_variant(&mut self) {
        if self.variants {
            self.variant += 1;
            let line = paint(&format!("·· variant {} ··", self.variant), "2", self.color);
            let _ = writeln!(self.err, "{line}");
        }
    }

    fn progress(&mut self, progress: Progress<'_>) {
        match progress {
            Progress::Text(piece) => self.text(piece),
            Progress::Retrying { wait, reason, .. } => {
                self.end();
                let line = paint(
                    &format!("({reason}; trying again in {:.1} s)", wait.as_secs_f64()),
                    "33",
                    self.color,
                );
                let _ = writeln!(self.err, "{line}");
                // The answer starts over under the same heading: it is not repeated.
                self.variant = 0;
                self.next_variant();
            }
        }
        let _ = self.err.flush();
    }

    fn text(&mut self, piece: &str) {
        for c in piece.chars() {
            if c == '\n' {
                if !self.in_line && self.held.trim() == SEPARATOR {
                    self.next_variant();
                } else {
                    let _ = writeln!(self.err, "{}", self.held);
                }
                self.held.clear();
                self.in_line = false;
                continue;
            }
            self.held.push(c);
            if self.in_line || !SEPARATOR.starts_with(self.held.trim()) {
                let _ = write!(self.err, "{}", self.held);
                self.held.clear();
                self.in_line = true;
            }
        }
    }

    /// Ends the answer: what is held is written, and the line closed.
    fn end(&mut self) {
        if !self.held.is_empty() || self.in_line {
            let _ = writeln!(self.err, "{}", self.held);
        }
        self.held.clear();
        self.in_line = false;
        let _ = self.err.flush();
    }
}
