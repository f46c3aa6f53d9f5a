//! `postctl search`: full-text search over posts and templates.

use postctl_core::content::template::Template;
use postctl_core::model::Post;
use postctl_core::store::{ListFilter, StoredTemplate, short_ids};
use serde::Serialize;

use super::list::posts_table;
use super::template::template_rows;
use crate::args::SearchArgs;
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print, print_json, stdout_color, table};

/// One search hit in JSON: `kind`, then the item's fields in the order `list --json` and
/// `template list --json` give them (a `serde_json::Value` would sort them).
#[derive(Serialize)]
#[serde(untagged)]
enum Found<'a> {
    Post {
        kind: &'static str,
        #[serde(flatten)]
        post: &'a Post,
    },
    Template {
        kind: &'static str,
        #[serde(flatten)]
        template: &'a StoredTemplate,
    },
}

/// Posts first, then templates. With `--json`, one array: every item has `kind` ("post" or
/// "template") beside its own fields.
pub fn run(ctx: &mut Context, args: &SearchArgs) -> CliResult {
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        return Err(CliError::usage(
            "give words to search for, e.g. `postctl search launch`",
        ));
    }
    let tz = ctx.zone(None)?;
    let json = ctx.json;
    let store = ctx.store()?;
    let posts = store.posts(&ListFilter::Search(query.clone()))?;
    let templates = store.search_templates(&query)?;
    if json {
        let items: Vec<Found<'_>> = posts
            .iter()
            .map(|post| Found::Post { kind: "post", post })
            .chain(templates.iter().map(|template| Found::Template {
                kind: "template",
                template,
            }))
            .collect();
        return print_json(&items);
    }
    if posts.is_empty() && templates.is_empty() {
        note("no post or template matches");
        return Ok(());
    }
    let color = stdout_color();
    let mut out = String::new();
    if !posts.is_empty() {
        let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
        let short = short_ids(store, &ids)?;
        out += &posts_table(&posts, &short, tz, color);
    }
    if !templates.is_empty() {
        if !out.is_empty() {
            out += "\n";
        }
        let found: Vec<&Template> = templates.iter().map(|t| &t.template).collect();
        out += &table(
            &["TEMPLATE", "VARIANTS", "TEXT"],
            &template_rows(&found, color),
            color,
        );
    }
    print(&out)
}
