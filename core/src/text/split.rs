//! Cutting a post that does not fit into the parts of a thread.
//!
//! Each part is filled as far as it fits, cut at the best kind of boundary available:
//! a paragraph break, then a sentence end (or a line break), then a space, then inside
//! a link's text or a code span, and only for a single overlong word at a grapheme.
//! Each candidate part is rendered and measured as the network will measure it, so
//! markup, shortened URLs and Telegram's invisible tags are all accounted for.

use super::count::TextLimit;
use super::fit::within;
use super::render::{Format, render};

mod breaks;

use breaks::Breaks;

/// Numbering widths tried before giving up on numbering (up to 999,999 parts).
const MAX_NUMBER_DIGITS: usize = 6;

/// How much a network can take as what it counts: the length of `render(part, format).text` measured with `limit.counting`.
/// Splits the Markdown `source` into parts that each fit `limit` once rendered in `format`: at paragraph breaks first, then sentence ends, then word boundaries, then (only for a single overlong word) grapheme boundaries; never inside a URL unless the URL alone does not fit. With `numbered`, each part gets a " 1/3" suffix (counted in the limit; the width of the numbering is accounted for, e.g. when there are 10+ parts). A source that fits returns one part with no numbering. Parts are trimmed; none is empty. The parts are Markdown (each is rendered again by the caller).
///
/// A blank `source` gives no parts. If not even one grapheme (plus its numbering) fits,
/// numbering is dropped, and if one grapheme alone does not fit the whole text comes
/// back as one part, for [`fit`](super::fit()) to report.
pub fn split(source: &str, limit: TextLimit, format: Format, numbered: bool) -> Vec<String> {
    let source = source.replace("\r\n", "\n");
    let whole = source.trim();
    if whole.is_empty() {
        return Vec::new();
    }
    let fits = |part: &str| within(&render(part, format), format, limit);
    if fits(whole) {
        return vec![whole.to_owned()];
    }
    let breaks = Breaks::find(&source);
    if numbered {
        for digits in 1..=MAX_NUMBER_DIGITS {
            // Reserve room for the widest number of this width: " 9/9", then " 99/99"…
            let widest = "9".repeat(digits);
            let placeholder = format!("{widest}/{widest}");
            let Some(parts) = pack(&source, &breaks, |part| {
                fits(&with_number(part, &placeholder))
            }) else {
                break;
            };
            if parts.len().to_string().len() <= digits {
                let total = parts.len();
                return parts
                    .iter()
                    .enumerate()
                    .map(|(index, part)| with_number(part, &format!("{}/{total}", index + 1)))
                    .collect();
            }
        }
    }
    pack(&source, &breaks, fits).unwrap_or_else(|| vec![whole.to_owned()])
}

/// Fills parts greedily from the start of `source`; `None` if some part cannot hold
/// even one grapheme.
fn pack(source: &str, breaks: &Breaks, fits: impl Fn(&str) -> bool) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut start = skip_whitespace(source, 0);
    while start < source.len() {
        let end = breaks.farthest_fitting(start, |end| fits(source[start..end].trim()))?;
        parts.push(source[start..end].trim().to_owned());
        start = skip_whitespace(source, end);
    }
    Some(parts)
}

fn skip_whitespace(source: &str, from: usize) -> usize {
    let rest = &source[from..];
    from + (rest.len() - rest.trim_start().len())
}

/// `part` with its number. After a closing code fence the number goes on its own
/// paragraph: on the fence's line it would stop the fence from closing.
fn with_number(part: &str, number: &str) -> String {
    let last_line = part.rsplit('\n').next().unwrap_or(part).trim_start();
    if last_line.starts_with("```") || last_line.starts_with("~~~") {
        format!("{part}\n\n{number}")
    } else {
        format!("{part} {number}")
    }
}

#[cfg(test)]
mod tests;
