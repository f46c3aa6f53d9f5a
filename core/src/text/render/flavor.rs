//! What each line-oriented format writes for a piece of Markdown markup.

use super::escape::{escape_attribute, escape_text};

/// The formats [`TextWriter`](super::writer::TextWriter) writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    Plain,
    Bluesky,
    Telegram,
    Slack,
}

/// Inline markup with an opening and a closing marker.
#[derive(Debug, Clone, Copy)]
pub(super) enum Span {
    Emphasis,
    Strong,
    Strikethrough,
    Code,
}

impl Span {
    pub(super) const COUNT: usize = 4;

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

impl Flavor {
    /// Whether `&`, `<` and `>` in text must be escaped.
    pub(super) fn escapes(self) -> bool {
        matches!(self, Flavor::Telegram | Flavor::Slack)
    }

    /// Opening and closing markers for a span (headings are `Strong`).
    pub(super) fn markers(self, span: Span) -> (&'static str, &'static str) {
        match (self, span) {
            (Flavor::Plain | Flavor::Bluesky, _) => ("", ""),
            (Flavor::Telegram, Span::Emphasis) => ("<i>", "</i>"),
            (Flavor::Telegram, Span::Strong) => ("<b>", "</b>"),
            (Flavor::Telegram, Span::Strikethrough) => ("<s>", "</s>"),
            (Flavor::Telegram, Span::Code) => ("<code>", "</code>"),
            (Flavor::Slack, Span::Emphasis) => ("_", "_"),
            (Flavor::Slack, Span::Strong) => ("*", "*"),
            (Flavor::Slack, Span::Strikethrough) => ("~", "~"),
            (Flavor::Slack, Span::Code) => ("`", "`"),
        }
    }

    /// The quote marker for a quote's first line and for its other lines. Telegram
    /// cannot nest quotes, so a quote inside a quote is just more quoted text.
    pub(super) fn quote(self, inside_quote: bool) -> (&'static str, &'static str) {
        match self {
            Flavor::Telegram if inside_quote => ("", ""),
            Flavor::Telegram => ("<blockquote>", ""),
            Flavor::Plain | Flavor::Bluesky | Flavor::Slack => ("> ", "> "),
        }
    }

    /// A code block around `body` (already escaped).
    pub(super) fn code_block(self, language: Option<&str>, body: &str) -> String {
        match (self, language) {
            (Flavor::Telegram, Some(language)) => format!(
                "<pre><code class=\"language-{}\">{body}</code></pre>",
                escape_attribute(language)
            ),
            (Flavor::Telegram, None) => format!("<pre>{body}</pre>"),
            (Flavor::Slack, _) => format!("```\n{body}\n```"),
            (Flavor::Plain | Flavor::Bluesky, _) => body.to_owned(),
        }
    }

    /// What a link becomes, given its rendered (and escaped) text: "text (url)" in plain
    /// text, the text alone on Bluesky (a facet makes it a link), `<a href>` on Telegram,
    /// `<url|text>` on Slack. A link without text shows its URL.
    pub(super) fn link(self, text: &str, url: &str) -> String {
        let empty = text.trim().is_empty();
        match self {
            Flavor::Plain if empty => url.to_owned(),
            Flavor::Plain if url.is_empty() || same_target(text, url) => text.to_owned(),
            Flavor::Plain => format!("{text} ({url})"),
            Flavor::Bluesky if empty => url.to_owned(),
            Flavor::Bluesky => text.to_owned(),
            Flavor::Telegram => {
                let text = if empty { escape_text(url) } else { text.into() };
                format!("<a href=\"{}\">{text}</a>", escape_attribute(url))
            }
            Flavor::Slack => {
                // Slack ends the URL at `|` and `>`, and expects `&` escaped inside too.
                let url = escape_text(url).replace('|', "%7C");
                if empty || text == url {
                    format!("<{url}>")
                } else {
                    format!("<{url}|{text}>")
                }
            }
        }
    }
}

/// Whether a link's text already is its target, so "text (url)" would repeat it.
fn same_target(text: &str, url: &str) -> bool {
    text == url || url.strip_prefix("mailto:") == Some(text)
}
