//! Whether a rendered post fits a network's limit.

use std::borrow::Cow;

use super::count::{Counting, TextLimit, count};
use super::render::{Format, Rendered, render};

/// Why a text does not fit, for `postctl check` and for refusing with --thread never.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fit {
    pub length: usize,
    pub max: usize,
    pub counting: Counting,
    /// `length <= max`, and for [`Counting::Graphemes`] also within
    /// [`Counting::max_bytes`], so `fits` can be false while `length <= max`.
    pub fits: bool,
}

/// How `markdown` measures against `limit` once rendered in `format`.
pub fn fit(markdown: &str, limit: TextLimit, format: Format) -> Fit {
    let rendered = render(markdown, format);
    let length = measure(&rendered, format, limit.counting);
    Fit {
        length,
        max: limit.max,
        counting: limit.counting,
        fits: within(&rendered, format, limit),
    }
}

/// The length of a rendered post the way its network measures it: [`count`] of its
/// text, except that Telegram counts only the text its HTML shows (tags removed,
/// entities decoded: `<b>bold</b>` is 4), and a Matrix event carries both the body and
/// the HTML, so `Utf8Bytes` counts both.
pub fn measure(rendered: &Rendered, format: Format, counting: Counting) -> usize {
    match (format, counting) {
        (Format::MatrixHtml, Counting::Utf8Bytes) => {
            rendered.text.len() + rendered.html.as_ref().map_or(0, String::len)
        }
        _ => count(&visible_text(rendered, format), counting),
    }
}

/// Whether a rendered post fits `limit`, byte cap included.
pub(super) fn within(rendered: &Rendered, format: Format, limit: TextLimit) -> bool {
    let fits_bytes = || match limit.counting.max_bytes() {
        Some(max_bytes) => rendered.text.len() <= max_bytes,
        None => true,
    };
    measure(rendered, format, limit.counting) <= limit.max && fits_bytes()
}

/// What the reader sees of the text the network receives.
fn visible_text(rendered: &Rendered, format: Format) -> Cow<'_, str> {
    match format {
        Format::TelegramHtml => Cow::Owned(telegram_visible_text(&rendered.text)),
        _ => Cow::Borrowed(&rendered.text),
    }
}

/// Telegram HTML with its tags removed and its entities decoded. The renderer escapes
/// every `<` in text, so each `<` left starts a tag.
fn telegram_visible_text(html: &str) -> String {
    let mut visible = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        visible.push_str(&rest[..open]);
        rest = match rest[open..].find('>') {
            Some(close) => &rest[open + close + 1..],
            None => "",
        };
    }
    visible.push_str(rest);
    visible
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests;
