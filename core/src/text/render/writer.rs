//! Markdown as line-oriented text: plain text (X, Mastodon, Matrix's body), Bluesky,
//! Telegram HTML and Slack mrkdwn.
//!
//! These formats have no block markup worth the name (Telegram's HTML has no lists or
//! paragraphs), so blocks become lines: a blank line between paragraphs, "• " or "1. "
//! before list items with their continuation lines indented, "> " before quoted lines.
//! Inline markup becomes each format's own, or nothing for plain text.

use std::borrow::Cow;
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use super::escape::escape_text;
use super::flavor::{Flavor, Span};
use super::markdown_options;

/// What [`TextWriter::render`] produces.
pub(super) struct Written {
    pub text: String,
    /// Bluesky: the byte range in `text` of each Markdown link's visible text, and its URL.
    pub links: Vec<(Range<usize>, String)>,
}

/// A block that prefixes its lines: a quote ("> ") or a list item (its marker on the
/// first line, as many spaces on the others).
struct Container {
    item: bool,
    first: String,
    rest: String,
    started: bool,
}

/// What separates the next block from the last one.
#[derive(Debug, Clone, Copy)]
enum Break {
    Line,
    Blank,
}

/// A code or HTML block, collected whole before it is written.
struct RawBlock {
    language: Option<String>,
    code: bool,
    text: String,
}

pub(super) struct TextWriter {
    flavor: Flavor,
    out: String,
    containers: Vec<Container>,
    /// The next number of each open list; `None` for bullet lists.
    lists: Vec<Option<u64>>,
    pending: Option<Break>,
    at_line_start: bool,
    /// Open links: where their visible text starts in `out`, and their URL.
    open_links: Vec<(usize, String)>,
    links: Vec<(Range<usize>, String)>,
    raw: Option<RawBlock>,
    /// How deep inside each kind of [`Span`] the writer is. Only the outermost one gets
    /// markers: "# **Big** news" is `<b>Big news</b>`, as Telegram rejects `<b>` in `<b>`
    /// and a `*` inside `*…*` ends Slack's bold.
    span_depth: [usize; Span::COUNT],
}

impl TextWriter {
    pub(super) fn new(flavor: Flavor) -> Self {
        TextWriter {
            flavor,
            out: String::new(),
            containers: Vec::new(),
            lists: Vec::new(),
            pending: None,
            at_line_start: true,
            open_links: Vec::new(),
            links: Vec::new(),
            raw: None,
            span_depth: [0; Span::COUNT],
        }
    }

    pub(super) fn render(mut self, markdown: &str) -> Written {
        for event in Parser::new_ext(markdown, markdown_options()) {
            self.event(event);
        }
        let end = self.out.trim_end().len();
        self.out.truncate(end);
        let links = self
            .links
            .into_iter()
            .map(|(range, url)| (range.start.min(end)..range.end.min(end), url))
            .filter(|(range, _)| !range.is_empty())
            .collect();
        Written {
            text: self.out,
            links,
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text)
            | Event::Html(text)
            | Event::InlineHtml(text)
            | Event::InlineMath(text)
            | Event::DisplayMath(text)
            | Event::FootnoteReference(text) => match &mut self.raw {
                Some(raw) => raw.text.push_str(&text),
                None => {
                    let text = self.escape(&text).into_owned();
                    self.write_lines(&text);
                }
            },
            Event::Code(code) => {
                let code = self.escape(&code).into_owned();
                self.span(Span::Code, true);
                self.write(&code);
                self.span(Span::Code, false);
            }
            Event::SoftBreak | Event::HardBreak => self.newline(),
            Event::Rule => {
                self.start_block();
                self.write("———");
                self.end_block();
            }
            Event::TaskListMarker(done) => self.write(if done { "☑ " } else { "☐ " }),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.start_block(),
            Tag::Heading { .. } => {
                self.start_block();
                self.span(Span::Strong, true);
            }
            Tag::BlockQuote(_) => {
                self.start_block();
                let (first, rest) = self.flavor.quote(self.in_quote());
                self.containers.push(Container {
                    item: false,
                    first: first.to_owned(),
                    rest: rest.to_owned(),
                    started: false,
                });
            }
            Tag::CodeBlock(kind) => {
                self.start_block();
                let language = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().map(str::to_owned)
                    }
                    CodeBlockKind::Indented => None,
                };
                self.raw = Some(RawBlock {
                    language,
                    code: true,
                    text: String::new(),
                });
            }
            Tag::HtmlBlock => {
                self.start_block();
                self.raw = Some(RawBlock {
                    language: None,
                    code: false,
                    text: String::new(),
                });
            }
            Tag::List(start) => {
                self.start_block();
                self.lists.push(start);
            }
            Tag::Item => {
                self.start_block();
                let marker = match self.lists.last_mut() {
                    Some(Some(number)) => {
                        let marker = format!("{number}. ");
                        *number += 1;
                        marker
                    }
                    _ => "• ".to_owned(),
                };
                let rest = " ".repeat(marker.chars().count());
                self.containers.push(Container {
                    item: true,
                    first: marker,
                    rest,
                    started: false,
                });
            }
            Tag::Emphasis => self.span(Span::Emphasis, true),
            Tag::Strong => self.span(Span::Strong, true),
            Tag::Strikethrough => self.span(Span::Strikethrough, true),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.open_link(dest_url.into_string())
            }
            // Not enabled in `markdown_options`.
            Tag::FootnoteDefinition(_)
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

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.end_block(),
            TagEnd::Heading(_) => {
                self.span(Span::Strong, false);
                self.end_block();
            }
            TagEnd::BlockQuote(_) => {
                if let Some(quote) = self.containers.pop()
                    && quote.started
                    && quote.first == "<blockquote>"
                {
                    self.out.push_str("</blockquote>");
                }
                self.end_block();
            }
            TagEnd::CodeBlock | TagEnd::HtmlBlock => {
                if let Some(raw) = self.raw.take() {
                    self.write_raw_block(raw);
                }
                self.end_block();
            }
            TagEnd::List(_) => {
                self.lists.pop();
                self.end_block();
            }
            TagEnd::Item => {
                // An empty item still shows its marker.
                if self.containers.last().is_some_and(|item| !item.started) {
                    self.write("");
                }
                self.containers.pop();
                self.pending = Some(Break::Line);
            }
            TagEnd::Emphasis => self.span(Span::Emphasis, false),
            TagEnd::Strong => self.span(Span::Strong, false),
            TagEnd::Strikethrough => self.span(Span::Strikethrough, false),
            TagEnd::Link | TagEnd::Image => self.close_link(),
            TagEnd::FootnoteDefinition
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

    fn escape<'s>(&self, text: &'s str) -> Cow<'s, str> {
        if self.flavor.escapes() {
            escape_text(text)
        } else {
            Cow::Borrowed(text)
        }
    }

    fn in_quote(&self) -> bool {
        self.containers.iter().any(|container| !container.item)
    }

    fn span(&mut self, span: Span, open: bool) {
        let (opening, closing) = self.flavor.markers(span);
        let depth = &mut self.span_depth[span.index()];
        let marker = if open {
            *depth += 1;
            (*depth == 1).then_some(opening)
        } else {
            *depth = depth.saturating_sub(1);
            (*depth == 0).then_some(closing)
        };
        self.write(marker.unwrap_or(""));
    }

    /// Separates a new block from what came before: the pending break, or a line break
    /// when a block starts mid-line (a nested list right after an item's text).
    fn start_block(&mut self) {
        match self.pending.take() {
            Some(pending) => self.write_break(pending),
            None if !self.at_line_start => self.write_break(Break::Line),
            None => {}
        }
    }

    /// Blocks inside a list item follow each other line by line; elsewhere a blank line
    /// separates them.
    fn end_block(&mut self) {
        let in_item = self
            .containers
            .last()
            .is_some_and(|container| container.item);
        self.pending = Some(if in_item { Break::Line } else { Break::Blank });
    }

    fn write_break(&mut self, kind: Break) {
        if self.out.is_empty() {
            return;
        }
        self.out.push('\n');
        if let Break::Blank = kind {
            let prefix: String = self
                .containers
                .iter()
                .filter(|container| container.started)
                .map(|container| container.rest.as_str())
                .collect();
            self.out.push_str(prefix.trim_end());
            self.out.push('\n');
        }
        self.at_line_start = true;
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.at_line_start = true;
    }

    /// Writes inline content, first flushing a pending block break and, at the start of
    /// a line, the prefixes of the enclosing quotes and list items.
    fn write(&mut self, text: &str) {
        if let Some(pending) = self.pending.take() {
            self.write_break(pending);
        }
        if self.at_line_start {
            for container in &mut self.containers {
                if container.started {
                    self.out.push_str(&container.rest);
                } else {
                    self.out.push_str(&container.first);
                    container.started = true;
                }
            }
            self.at_line_start = false;
        }
        self.out.push_str(text);
    }

    fn write_lines(&mut self, text: &str) {
        for (index, line) in text.split('\n').enumerate() {
            if index > 0 {
                self.newline();
            }
            if !line.is_empty() {
                self.write(line);
            }
        }
    }

    fn write_raw_block(&mut self, raw: RawBlock) {
        // Markdown ends a block's text with a newline the block does not show.
        let body = raw.text.strip_suffix('\n').unwrap_or(&raw.text);
        let body = self.escape(body).into_owned();
        let block = if raw.code {
            self.flavor.code_block(raw.language.as_deref(), &body)
        } else {
            body
        };
        self.write_lines(&block);
    }

    fn open_link(&mut self, url: String) {
        // Flush breaks and prefixes first, so the link's text starts where it is recorded.
        self.write("");
        self.open_links.push((self.out.len(), url));
    }

    /// Replaces the link's text, written since `open_link`, with what the format makes
    /// of the link; on Bluesky, records where it is for its facet.
    fn close_link(&mut self) {
        let Some((start, url)) = self.open_links.pop() else {
            return;
        };
        let link = self.flavor.link(&self.out[start..], &url);
        self.out.truncate(start);
        self.out.push_str(&link);
        if self.flavor == Flavor::Bluesky && !url.is_empty() {
            self.links.push((start..self.out.len(), url));
        }
    }
}
