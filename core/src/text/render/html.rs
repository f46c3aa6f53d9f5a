//! Markdown as the HTML subset Matrix clients display (`org.matrix.custom.html`).
//!
//! Raw HTML in the Markdown is escaped, not passed through: a post is text the user
//! wrote, and Matrix clients sanitise `formatted_body` differently.

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use super::escape::{escape_attribute, escape_text};
use super::markdown_options;

/// The `formatted_body` for `markdown`. A post that is one paragraph comes without
/// `<p>`, as Element sends it.
pub(super) fn render(markdown: &str) -> String {
    let mut html = String::new();
    let mut depth = 0usize;
    let mut top_level_blocks = 0usize;
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Start(tag) => {
                if is_block(&tag) {
                    if depth == 0 {
                        top_level_blocks += 1;
                    }
                    depth += 1;
                }
                open(&mut html, tag);
            }
            Event::End(tag) => {
                if is_block_end(tag) {
                    depth = depth.saturating_sub(1);
                }
                close(&mut html, tag);
            }
            Event::Text(text)
            | Event::Html(text)
            | Event::InlineHtml(text)
            | Event::InlineMath(text)
            | Event::DisplayMath(text)
            | Event::FootnoteReference(text) => html.push_str(&escape_text(&text)),
            Event::Code(code) => {
                html.push_str("<code>");
                html.push_str(&escape_text(&code));
                html.push_str("</code>");
            }
            Event::SoftBreak | Event::HardBreak => html.push_str("<br>"),
            Event::Rule => {
                if depth == 0 {
                    top_level_blocks += 1;
                }
                html.push_str("<hr>");
            }
            Event::TaskListMarker(done) => html.push_str(if done { "☑ " } else { "☐ " }),
        }
    }
    if top_level_blocks == 1
        && let Some(inner) = html
            .strip_prefix("<p>")
            .and_then(|rest| rest.strip_suffix("</p>"))
    {
        return inner.to_owned();
    }
    html
}

fn is_block(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Paragraph
            | Tag::Heading { .. }
            | Tag::BlockQuote(_)
            | Tag::CodeBlock(_)
            | Tag::HtmlBlock
            | Tag::List(_)
            | Tag::Item
    )
}

fn is_block_end(tag: TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::HtmlBlock
            | TagEnd::List(_)
            | TagEnd::Item
    )
}

fn open(html: &mut String, tag: Tag<'_>) {
    match tag {
        Tag::Paragraph => html.push_str("<p>"),
        Tag::Heading { level, .. } => {
            html.push('<');
            html.push_str(&level.to_string());
            html.push('>');
        }
        Tag::BlockQuote(_) => html.push_str("<blockquote>"),
        Tag::CodeBlock(CodeBlockKind::Fenced(info)) => match info.split_whitespace().next() {
            Some(language) => {
                html.push_str("<pre><code class=\"language-");
                html.push_str(&escape_attribute(language));
                html.push_str("\">");
            }
            None => html.push_str("<pre><code>"),
        },
        Tag::CodeBlock(CodeBlockKind::Indented) => html.push_str("<pre><code>"),
        Tag::List(Some(1)) => html.push_str("<ol>"),
        Tag::List(Some(start)) => {
            html.push_str("<ol start=\"");
            html.push_str(&start.to_string());
            html.push_str("\">");
        }
        Tag::List(None) => html.push_str("<ul>"),
        Tag::Item => html.push_str("<li>"),
        Tag::Emphasis => html.push_str("<em>"),
        Tag::Strong => html.push_str("<strong>"),
        Tag::Strikethrough => html.push_str("<del>"),
        // An image becomes a link: Matrix shows only mxc:// images inline.
        Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
            html.push_str("<a href=\"");
            html.push_str(&escape_attribute(&dest_url));
            html.push_str("\">");
        }
        // Not enabled in `markdown_options`; HTML blocks are escaped as text.
        Tag::HtmlBlock
        | Tag::FootnoteDefinition(_)
        | Tag::DefinitionList
        | Tag::DefinitionListTitle
        | Tag::DefinitionListDefinition
        | Tag::Table(_)
        | Tag::TableHead
        | Tag::TableRow
        | Tag::TableCell
        | Tag::Superscript
        | Tag::Subscript
        | Tag::MetadataBlock(_) => {}
    }
}

fn close(html: &mut String, tag: TagEnd) {
    match tag {
        TagEnd::Paragraph => html.push_str("</p>"),
        TagEnd::Heading(level) => {
            html.push_str("</");
            html.push_str(&level.to_string());
            html.push('>');
        }
        TagEnd::BlockQuote(_) => html.push_str("</blockquote>"),
        TagEnd::CodeBlock => html.push_str("</code></pre>"),
        TagEnd::List(true) => html.push_str("</ol>"),
        TagEnd::List(false) => html.push_str("</ul>"),
        TagEnd::Item => html.push_str("</li>"),
        TagEnd::Emphasis => html.push_str("</em>"),
        TagEnd::Strong => html.push_str("</strong>"),
        TagEnd::Strikethrough => html.push_str("</del>"),
        TagEnd::Link | TagEnd::Image => html.push_str("</a>"),
        TagEnd::HtmlBlock
        | TagEnd::FootnoteDefinition
        | TagEnd::DefinitionList
        | TagEnd::DefinitionListTitle
        | TagEnd::DefinitionListDefinition
        | TagEnd::Table
        | TagEnd::TableHead
        | TagEnd::TableRow
        | TagEnd::TableCell
        | TagEnd::Superscript
        | TagEnd::Subscript
        | TagEnd::MetadataBlock(_) => {}
    }
}
