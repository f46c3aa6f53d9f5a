//! `postctl template add|list|show|rm|render`.

use postctl_core::content::template::{Template, TemplateError, builtin, builtins};
use postctl_core::store::{StoredTemplate, TemplateChange};
use serde_json::Value;

use crate::args::{TemplateAddArgs, TemplateCommand, TemplateRenderArgs, TemplateRmArgs};
use crate::content::{find, parse_network, read_file, read_text, variables};
use crate::context::Context;
use crate::editor::edit;
use crate::exit::{CliError, CliResult};
use crate::output::{note, paint, print, print_json, stdout_color, table};
use crate::posts::{template_rows, variant_list};

impl From<TemplateError> for CliError {
    fn from(e: TemplateError) -> Self {
        CliError::usage(e.to_string())
    }
}

pub fn run(ctx: &mut Context, command: TemplateCommand) -> CliResult {
    match command {
        TemplateCommand::Add(args) => add(ctx, args),
        TemplateCommand::List => list(ctx),
        TemplateCommand::Show(args) => show(ctx, &args.name),
        TemplateCommand::Rm(args) => remove(ctx, &args),
        TemplateCommand::Render(args) => render(ctx, &args),
    }
}

fn add(ctx: &mut Context, args: TemplateAddArgs) -> CliResult {
    let body = if let Some(path) = &args.file {
        Some(read_file(path)?)
    } else if let Some(text) = &args.text {
        Some(read_text(text)?)
    } else if args.edit {
        let initial = ctx
            .store()?
            .find_template(&args.name)?
            .map(|t| t.template.body)
            .unwrap_or_default();
        let text = edit(&initial)?;
        if text.trim().is_empty() {
            return Err(CliError::usage("the template is empty; nothing was saved"));
        }
        Some(text)
    } else {
        None
    };
    if body.is_none() && args.variants.is_empty() {
        return Err(CliError::usage(
            "give the template's body: TEXT, --file FILE or -e, and variants with --for NETWORK --file FILE",
        ));
    }
    let variants = args
        .variants
        .iter()
        .map(|(network, path)| Ok((network.clone(), read_file(path)?)))
        .collect::<CliResult<Vec<_>>>()?;
    let change = TemplateChange {
        name: args.name.clone(),
        body,
        variants,
        replace: args.force,
    };
    let (saved, created) = ctx.store()?.save_template(&change)?;
    if ctx.json {
        return print_json(&saved);
    }
    let variants = variant_list(&saved.template);
    note(format!(
        "{} template {}{}",
        if created { "added" } else { "changed" },
        saved.template.name,
        if variants.is_empty() {
            String::new()
        } else {
            format!(" (variants: {variants})")
        }
    ));
    Ok(())
}

/// The stored templates, then the built-in ones that no stored one replaces.
fn all_templates(ctx: &mut Context) -> CliResult<(Vec<StoredTemplate>, Vec<Template>)> {
    let stored = ctx.store()?.templates()?;
    let builtins = builtins()
        .into_iter()
        .filter(|b| !stored.iter().any(|s| s.template.name == b.name))
        .collect();
    Ok((stored, builtins))
}

fn list(ctx: &mut Context) -> CliResult {
    let (stored, builtins) = all_templates(ctx)?;
    if ctx.json {
        let mut rows: Vec<Value> = stored.iter().map(to_json).collect::<CliResult<_>>()?;
        for template in &builtins {
            rows.push(to_json(template)?);
        }
        return print_json(&rows);
    }
    if stored.is_empty() {
        note("no templates of your own yet; add one with `postctl template add NAME --file FILE`");
    }
    let all: Vec<&Template> = stored
        .iter()
        .map(|s| &s.template)
        .chain(builtins.iter())
        .collect();
    let color = stdout_color();
    print(&table(
        &["TEMPLATE", "VARIANTS", "TEXT"],
        &template_rows(&all, color),
        color,
    ))
}

fn to_json(value: &impl serde::Serialize) -> CliResult<Value> {
    serde_json::to_value(value).map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))
}

fn show(ctx: &mut Context, name: &str) -> CliResult {
    let (template, stored) = find(ctx, name)?;
    if ctx.json {
        return match &stored {
            Some(stored) => print_json(stored),
            None => print_json(&template),
        };
    }
    let color = stdout_color();
    let mut out = format!("{} {}", paint("template", "1", color), template.name);
    if template.builtin {
        out += " (built in; `postctl template add ";
        out += &template.name;
        out += " ...` replaces it)";
    }
    out += "\n";
    if let Some(stored) = &stored {
        out += &format!("id:       {}\n", stored.id);
    }
    let variants = variant_list(&template);
    out += &format!(
        "variants: {}\n",
        if variants.is_empty() {
            "none (every network gets the default body)".to_string()
        } else {
            variants
        }
    );
    out += &format!("\n{}\n", paint("default:", "1", color));
    out += template.body.trim_end();
    out += "\n";
    for (network, body) in &template.variants {
        out += &format!("\n{}\n", paint(&format!("{network}:"), "1", color));
        out += body.trim_end();
        out += "\n";
    }
    print(&out)
}

fn remove(ctx: &mut Context, args: &TemplateRmArgs) -> CliResult {
    if builtin(&args.name).is_some() && ctx.store()?.find_template(&args.name)?.is_none() {
        return Err(CliError::usage(format!(
            "{} is a built-in template and cannot be removed; `postctl template add {} ...` replaces it",
            args.name, args.name
        )));
    }
    ctx.store()?
        .remove_template(&args.name, args.network.as_deref())?;
    if ctx.json {
        return print_json(&serde_json::json!({
            "removed": args.name, "variant": args.network,
        }));
    }
    match &args.network {
        Some(network) => note(format!(
            "removed the {network} variant of template {}",
            args.name
        )),
        None => note(format!("removed template {}", args.name)),
    }
    Ok(())
}

fn render(ctx: &mut Context, args: &TemplateRenderArgs) -> CliResult {
    let network = args.network.as_deref().map(parse_network).transpose()?;
    let (template, _) = find(ctx, &args.name)?;
    let vars = variables(&args.vars, args.vars_file.as_deref())?;
    let rendered = template.render(network, &vars)?;
    if ctx.json {
        return print_json(&serde_json::json!({
            "template": rendered.template,
            "network": network.map(|n| n.name()),
            "variant": rendered.variant,
            "text": rendered.text,
        }));
    }
    if let (Some(network), None) = (network, &rendered.variant) {
        note(format!(
            "{} has no {} variant; this is the default body",
            template.name,
            network.name()
        ));
    }
    print(&(rendered.text + "\n"))
}
