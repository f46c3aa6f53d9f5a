//! `postctl search`: full-text search over posts and templates.

use std::io::{BufWriter, Write};

use postctl_core::content::template::Template;
use postctl_core::exchange::JsonArray;
use postctl_core::model::Post;
use postctl_core::store::{ListFilter, StoredTemplate};
use serde::Serialize;

use crate::args::SearchArgs;
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, stdout_color, table};
use crate::posts::template_rows;
use crate::posts::{TableStream, note_more, post_row, stdout_error};

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

/// Posts first (a page of them, as `list` shows), then templates. With `--json`, one
/// array: every item has `kind` ("post" or "template") beside its own fields.
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
    let filter = ListFilter::Search(query.clone());
    let limit = args.page.limit();
    let templates = store.search_templates(&query)?;
    let color = stdout_color();
    let mut shown = 0;
    let out = BufWriter::new(std::io::stdout().lock());
    let streamed = if json {
        let mut array = JsonArray::new(out);
        store
            .each_post(&filter, limit, |post| {
                shown += 1;
                array
                    .push(&Found::Post {
                        kind: "post",
                        post: &post,
                    })
                    .map_err(stdout_error)
            })
            .and_then(|()| {
                for template in &templates {
                    array
                        .push(&Found::Template {
                            kind: "template",
                            template,
                        })
                        .map_err(stdout_error)?;
                }
                array.finish().map(drop).map_err(stdout_error)
            })
    } else {
        let mut posts = TableStream::new(&["ID", "STATE", "WHEN", "TO", "TEXT"], out, color);
        store
            .each_post(&filter, limit, |post| {
                shown += 1;
                let short = store.short_id(&post.id)?;
                posts
                    .push(post_row(&post, &short, tz, color))
                    .map_err(stdout_error)
            })
            .and_then(|()| {
                let mut out = posts.finish().map_err(stdout_error)?;
                if !templates.is_empty() {
                    if shown > 0 {
                        out.write_all(b"\n").map_err(stdout_error)?;
                    }
                    let found: Vec<&Template> = templates.iter().map(|t| &t.template).collect();
                    let printed = table(
                        &["TEMPLATE", "VARIANTS", "TEXT"],
                        &template_rows(&found, color),
                        color,
                    );
                    out.write_all(printed.as_bytes()).map_err(stdout_error)?;
                }
                out.flush().map_err(stdout_error)
            })
    };
    match streamed {
        Err(postctl_core::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            return Ok(());
        }
        other => other?,
    }
    if !json && shown == 0 && templates.is_empty() {
        note("no post or template matches");
    }
    note_more(store, &filter, limit, shown)
}
