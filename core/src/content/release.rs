//! A release announcement fitted to one network: the whole rendered template when it fits,
//! else a headline, the summary and the link, shortened until they fit.

use super::changelog::Release;
use super::template::{Template, TemplateError, Variables};
use crate::error::Error;
use crate::model::Account;
use crate::network::Network;
use crate::platforms::Capabilities;
use crate::text::{fit, split};

/// The text to post about `release` on a network with `caps`.
///
/// `template_output` (the release template rendered for this network) when it fits, counted
/// the network's way with [`crate::text::fit()`]. Otherwise the first of these that fits:
///
/// 1. the headline (the output's first paragraph, or the release title when that paragraph is
///    part of the notes), the summary and the link;
/// 2. the same with fewer summary items (the last ones go first);
/// 3. the first item cut at a word, with "…";
/// 4. the headline and the link; the link alone;
/// 5. the first part of the output as the network would split it into a thread.
///
/// The link, when there is one, is always the last paragraph, so readers can find the rest.
pub fn fit_for(release: &Release, template_output: &str, caps: &Capabilities) -> String {
    let fits = |text: &str| fit(text, caps.limit, caps.format).fits;
    let output = template_output.trim();
    if fits(output) {
        return output.to_string();
    }
    let headline = headline(release, output);
    let link = release.link.as_deref().unwrap_or("");
    let items: Vec<&str> = release
        .summary
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    for keep in (1..=items.len()).rev() {
        let candidate = compose(&headline, &items[..keep].join("\n"), link);
        if fits(&candidate) {
            return candidate;
        }
    }
    if let Some(first) = items.first() {
        let words: Vec<&str> = first.split_whitespace().collect();
        let cut = |n: usize| compose(&headline, &format!("{}…", words[..n].join(" ")), link);
        // The longest prefix of words that fits: fitting is monotonic in the word count.
        let (mut fitting, mut too_long) = (0, words.len());
        while too_long - fitting > 1 {
            let middle = (fitting + too_long) / 2;
            if fits(&cut(middle)) {
                fitting = middle;
            } else {
                too_long = middle;
            }
        }
        // One word is not worth an ellipsis; a marker and a word ("- Fix…") is two.
        if fitting >= 2 {
            return cut(fitting);
        }
    }
    for candidate in [compose(&headline, "", link), link.to_string()] {
        if !candidate.is_empty() && fits(&candidate) {
            return candidate;
        }
    }
    split(output, caps.limit, caps.format, false)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// The announcement for one network: `template` (a stored one, or the built-in `release`)
/// rendered for `network` with the release's variables under `user`'s, then
/// [`fit_for`] the network. For a thread instead of a summary, render the template
/// without fitting and let the publisher split it.
pub fn announcement(
    release: &Release,
    template: &Template,
    network: Network,
    caps: &Capabilities,
    user: Variables,
) -> Result<String, TemplateError> {
    let rendered = template.render(Some(network), &release.variables(user))?;
    Ok(fit_for(release, &rendered.text, caps))
}

/// One text for a set of accounts: a release announcement fitted per network gives one
/// batch per distinct text.
#[derive(Debug, Clone)]
pub struct Batch {
    pub body: String,
    pub accounts: Vec<Account>,
}

/// The release announcement for each of `accounts`, grouped by identical text, in the order
/// the accounts were given. `caps` are the accounts' capabilities, in the same order. With
/// `thread`, each account gets the whole notes for the publisher to split; otherwise the
/// [`announcement`] fitted to each account.
pub fn batches(
    release: &Release,
    template: &Template,
    user: &Variables,
    accounts: Vec<Account>,
    caps: Vec<Result<Capabilities, String>>,
    thread: bool,
) -> Result<Vec<Batch>, Error> {
    let mut batches: Vec<Batch> = Vec::new();
    for (account, caps) in accounts.into_iter().zip(caps) {
        let body = if thread {
            template
                .render(Some(account.network), &release.variables(user.clone()))
                .map(|r| r.text)?
        } else {
            let caps = caps.map_err(Error::Invalid)?;
            announcement(release, template, account.network, &caps, user.clone())?
        };
        match batches.iter_mut().find(|b| b.body == body) {
            Some(batch) => batch.accounts.push(account),
            None => batches.push(Batch {
                body,
                accounts: vec![account],
            }),
        }
    }
    Ok(batches)
}

/// The project's name from `$GITHUB_REPOSITORY` ("owner/name"), for `{{ name }}` in CI.
pub fn project_from_env(lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    lookup("GITHUB_REPOSITORY")
        .and_then(|repo| repo.rsplit('/').next().map(str::to_string))
        .filter(|name| !name.is_empty())
}

/// The output's first paragraph, unless it belongs to the notes (a list item, or the notes'
/// own first paragraph); then the release's title.
fn headline(release: &Release, output: &str) -> String {
    let first = output.split("\n\n").next().unwrap_or("").trim();
    let is_list = first.starts_with(['-', '*', '+']) || first.starts_with("1.");
    let in_notes = !release.body_markdown.is_empty()
        && (release.body_markdown.trim_start().starts_with(first)
            || release.summary.starts_with(first));
    if first.is_empty() || is_list || in_notes {
        release.title.clone()
    } else {
        first.to_string()
    }
}

fn compose(headline: &str, summary: &str, link: &str) -> String {
    [headline, summary, link]
        .into_iter()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests;
