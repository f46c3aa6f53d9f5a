//! Rendering the user's Markdown for one network.

use std::borrow::Cow;
use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag};

use super::facets::{self, Facet};
use super::urls::{UrlScope, find_urls};

mod escape;
mod flavor;
mod html;
mod writer;

use flavor::Flavor;
use writer::TextWriter;

/// The markup a network receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Format {
    Plain,
    TelegramHtml,
    DiscordMarkdown,
    SlackMrkdwn,
    MatrixHtml,
    Bluesky,
}

/// A post rendered for one network from the user's Markdown.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rendered {
    /// What the network counts and shows: plain text for Plain/Bluesky (links as "text (url)" or just the URL when text == url, emphasis markers removed, headings as their text, list items as "• item"), Telegram HTML (<b>, <i>, <code>, <pre>, <a href>, with &, <, > escaped as &amp; &lt; &gt; — and `"` in attributes as &quot;), Discord Markdown (pass-through, but escape nothing), Slack mrkdwn (*bold*, _italic_, <url|text>, and &, <, > escaped), Matrix: `text` is the plain body.
    ///
    /// Bluesky shows a Markdown link `[text](url)` as just its text, made clickable by a
    /// link facet (as the Bluesky app does), so the URL costs no graphemes.
    pub text: String,
    /// Matrix only: the HTML `formatted_body`.
    pub html: Option<String>,
    /// Bluesky only: facets over `text` in UTF-8 BYTE offsets: links (every http(s) URL, and Markdown links whose visible text may differ from the URL), mentions (@handle.domain), hashtags (#tag, not inside URLs, not pure digits, trailing punctuation excluded).
    pub facets: Vec<Facet>,
}

/// Renders `markdown` as `format` expects it. Never fails: text that is not valid
/// Markdown markup is shown as written.
pub fn render(markdown: &str, format: Format) -> Rendered {
    let flavor = match format {
        // Discord renders Markdown itself; `<url>` would even hide its preview.
        Format::DiscordMarkdown => {
            return Rendered {
                text: markdown.trim().to_owned(),
                html: None,
                facets: Vec::new(),
            };
        }
        Format::MatrixHtml => {
            let source = protect_bare_urls(markdown);
            return Rendered {
                text: TextWriter::new(Flavor::Plain).render(&source).text,
                html: Some(html::render(&source)),
                facets: Vec::new(),
            };
        }
        Format::Plain => Flavor::Plain,
        Format::Bluesky => Flavor::Bluesky,
        Format::TelegramHtml => Flavor::Telegram,
        Format::SlackMrkdwn => Flavor::Slack,
    };
    let source = protect_bare_urls(markdown);
    let written = TextWriter::new(flavor).render(&source);
    let facets = match format {
        Format::Bluesky => facets::detect(&written.text, written.links),
        _ => Vec::new(),
    };
    Rendered {
        text: written.text,
        html: None,
        facets,
    }
}

/// The Markdown extensions postctl reads: `~~strikethrough~~` only. Tables, footnotes
/// and the like have no equivalent on the networks.
pub(super) fn markdown_options() -> Options {
    Options::ENABLE_STRIKETHROUGH
}

/// Wraps every bare http(s) URL in `<…>`, making it a CommonMark autolink, so that
/// Markdown never reads the `*`, `_`, `~` or `\` in a URL as markup
/// ("https://example.com/a*b*c" stays one URL). URLs already in a link, a code span or
/// block, or raw HTML are left as they are.
fn protect_bare_urls(markdown: &str) -> Cow<'_, str> {
    let urls = find_urls(markdown, UrlScope::WithScheme);
    if urls.is_empty() {
        return Cow::Borrowed(markdown);
    }
    let taken = markup_ranges(markdown);
    let mut protected = String::with_capacity(markdown.len() + 2 * urls.len());
    let mut pos = 0;
    for url in urls {
        if taken
            .iter()
            .any(|range| range.start < url.end && url.start < range.end)
        {
            continue;
        }
        protected.push_str(&markdown[pos..url.start]);
        protected.push('<');
        protected.push_str(&markdown[url.clone()]);
        protected.push('>');
        pos = url.end;
    }
    protected.push_str(&markdown[pos..]);
    Cow::Owned(protected)
}

/// Source ranges of the constructs whose text must not be touched: links and images
/// (including autolinks), code spans and blocks, and raw HTML.
pub(super) fn markup_ranges(markdown: &str) -> Vec<Range<usize>> {
    Parser::new_ext(markdown, markdown_options())
        .into_offset_iter()
        .filter(|(event, _)| {
            matches!(
                event,
                Event::Start(
                    Tag::Link { .. } | Tag::Image { .. } | Tag::CodeBlock(_) | Tag::HtmlBlock
                ) | Event::Code(_)
                    | Event::Html(_)
                    | Event::InlineHtml(_)
            )
        })
        .map(|(_, range)| range)
        .collect()
}

#[cfg(test)]
mod tests;
