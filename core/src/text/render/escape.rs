//! Escaping for the HTML-like formats.

use std::borrow::Cow;

/// Escapes `&`, `<` and `>`: what Telegram HTML, Slack mrkdwn and HTML text need.
pub(super) fn escape_text(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Escapes `&`, `<`, `>` and `"`: what an HTML attribute value in double quotes needs.
pub(super) fn escape_attribute(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, quotes: bool) -> Cow<'_, str> {
    let needs = |c: char| matches!(c, '&' | '<' | '>') || (quotes && c == '"');
    if !s.contains(needs) {
        return Cow::Borrowed(s);
    }
    let mut escaped = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' if quotes => escaped.push_str("&quot;"),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}
