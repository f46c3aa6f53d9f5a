//! The arguments of `postctl template`.

use clap::{ArgMatches, Args, FromArgMatches, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Add a template: its default body, and a variant per network with --for NETWORK --file FILE
    #[command(after_help = TEMPLATE_ADD_HELP)]
    Add(TemplateAddArgs),
    /// List templates (the built-in ones too)
    List,
    /// Show a template's body and variants
    Show(TemplateNameArg),
    /// Remove a template, or with --for only that network's variant
    #[command(
        after_help = "Examples:\n  postctl template rm launch\n  postctl template rm launch --for bluesky   # only the Bluesky variant"
    )]
    Rm(TemplateRmArgs),
    /// Render a template with variables, for one network or the default body
    #[command(after_help = TEMPLATE_RENDER_HELP)]
    Render(TemplateRenderArgs),
}

const TEMPLATE_ADD_HELP: &str = "\
Examples:
  postctl template add launch \"{{ name }} {{ version }} is out: {{ link }}\"
  postctl template add release --file release.md --for bluesky --file release-bsky.md --for x --file release-x.md
  postctl template add release --force --for mastodon --file release-masto.md   # add one variant
  postctl template add weekly -e

The default body is TEXT, --file FILE or -e ($EDITOR). Each --for NETWORK applies to the
--file right after it. Templates are minijinja (Jinja2): {{ var }}, {% if %}, {% for %},
filters such as {{ name | upper }}. Every body is checked when it is added.";

const TEMPLATE_RENDER_HELP: &str = "\
Examples:
  postctl template render launch --var name=postctl --var version=1.2.0 --var link=https://example.com
  postctl template render launch --vars-file vars.json --for bluesky --json
  postctl template render ci --var version=1.2.0      # {{ env.GITHUB_REF_NAME }} reads the environment

Variables, later wins: environment variables as env.NAME (never names that look like secrets:
*TOKEN*, *SECRET*, *PASSWORD*, *KEY...), then --vars-file (a JSON object), then --var NAME=VALUE
(a.b=VALUE sets b inside a). A variable the template uses but nobody gave is an error that
names it (exit 2).";

/// `template add`. The default body is TEXT, `--file` or `-e`; `--for NETWORK --file FILE`
/// pairs (in that order on the command line) add variants. clap gives the flags' positions,
/// so the pairing is done here rather than in the command.
#[derive(Debug, Clone, Default)]
pub struct TemplateAddArgs {
    pub name: String,
    pub text: Option<String>,
    pub edit: bool,
    /// The default body's file: a --file with no --for right before it.
    pub file: Option<PathBuf>,
    /// `(network, file)` for each `--for NETWORK --file FILE`.
    pub variants: Vec<(String, PathBuf)>,
    pub force: bool,
}

#[derive(Debug, Args)]
struct TemplateAddFlags {
    /// The template's name (lowercase letters, digits, -, _ and .)
    name: String,
    /// The default body; - reads stdin
    text: Option<String>,
    /// Write the default body in $EDITOR
    #[arg(short = 'e', long, conflicts_with = "text")]
    edit: bool,
    /// A file with the default body; right after --for NETWORK, that network's variant (repeatable)
    #[arg(long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The network whose variant the next --file holds: x, mastodon, bluesky, telegram, discord, slack, matrix, ... (repeatable)
    #[arg(long = "for", value_name = "NETWORK")]
    networks: Vec<String>,
    /// Change a template that exists: its body if one is given, and the variants given (the others stay)
    #[arg(long)]
    force: bool,
}

impl FromArgMatches for TemplateAddArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let flags = TemplateAddFlags::from_arg_matches(matches)?;
        let positions = |id: &str| -> Vec<usize> {
            matches
                .indices_of(id)
                .map(Iterator::collect)
                .unwrap_or_default()
        };
        let mut events: Vec<(usize, Result<String, PathBuf>)> = positions("networks")
            .into_iter()
            .zip(flags.networks.iter().cloned().map(Ok))
            .chain(
                positions("files")
                    .into_iter()
                    .zip(flags.files.iter().cloned().map(Err)),
            )
            .collect();
        events.sort_by_key(|(index, _)| *index);
        let invalid =
            |message: String| clap::Error::raw(clap::error::ErrorKind::ArgumentConflict, message);
        let mut pending: Option<String> = None;
        let mut file = None;
        let mut variants = Vec::new();
        for (_, event) in events {
            match (event, pending.take()) {
                (Ok(network), Some(previous)) => {
                    return Err(invalid(format!(
                        "--for {previous} needs a --file right after it (the {previous} variant's body), before --for {network}"
                    )));
                }
                (Ok(network), None) => pending = Some(network),
                (Err(path), Some(network)) => variants.push((network, path)),
                (Err(path), None) if file.is_none() => file = Some(path),
                (Err(path), None) => {
                    return Err(invalid(format!(
                        "two --file with no --for before the second ({}): the default body is one file; put --for NETWORK before each variant's --file",
                        path.display()
                    )));
                }
            }
        }
        if let Some(network) = pending {
            return Err(invalid(format!(
                "--for {network} needs a --file after it with the {network} variant's body"
            )));
        }
        if file.is_some() && (flags.text.is_some() || flags.edit) {
            return Err(invalid(
                "give the default body once: as TEXT, with --file FILE, or with -e".into(),
            ));
        }
        Ok(TemplateAddArgs {
            name: flags.name,
            text: flags.text,
            edit: flags.edit,
            file,
            variants,
            force: flags.force,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = TemplateAddArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for TemplateAddArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        TemplateAddFlags::augment_args(cmd)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        TemplateAddFlags::augment_args_for_update(cmd)
    }
}

#[derive(Debug, Args)]
pub struct TemplateNameArg {
    /// The template's name
    pub name: String,
}

#[derive(Debug, Args)]
pub struct TemplateRmArgs {
    /// The template's name
    pub name: String,
    /// Remove only this network's variant
    #[arg(long = "for", value_name = "NETWORK")]
    pub network: Option<String>,
}

#[derive(Debug, Args)]
pub struct TemplateRenderArgs {
    /// The template's name (stored, or built in: release)
    pub name: String,
    /// A variable (repeatable); a.b=VALUE sets b inside a
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A JSON object of variables
    #[arg(long, value_name = "FILE")]
    pub vars_file: Option<PathBuf>,
    /// Render this network's variant (the default body when it has none)
    #[arg(long = "for", value_name = "NETWORK")]
    pub network: Option<String>,
}
