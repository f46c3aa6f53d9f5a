//! Where a thread part may end, and how good each place is.

use unicode_segmentation::UnicodeSegmentation;

use super::super::render::markup_ranges;
use super::super::urls::{UrlScope, find_urls};

/// How good a place to end a part is, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Level {
    /// A blank line.
    Paragraph,
    /// After `.`, `!`, `?` or `…` and a space, after `。`, or at a line break.
    Sentence,
    /// A space.
    Word,
    /// A space inside a link's text, a code span or a code block: cutting there breaks
    /// the markup, so only when the markup alone does not fit.
    InsideMarkup,
    /// Between two graphemes: only for a word (or URL) longer than a whole part.
    Grapheme,
}

const LEVELS: [Level; 5] = [
    Level::Paragraph,
    Level::Sentence,
    Level::Word,
    Level::InsideMarkup,
    Level::Grapheme,
];

/// Characters that end a sentence.
const SENTENCE_ENDS: &[char] = &['.', '!', '?', '…', '。', '！', '？'];

/// Characters that may follow a sentence's end before the space: quotes, brackets and
/// Markdown emphasis ("**Done.** Next").
const CLOSERS: &[char] = &[
    '"', '\'', '”', '’', '»', ')', ']', '」', '』', '）', '*', '_', '~', '`',
];

/// The places a part of one source may end, by level.
pub(super) struct Breaks {
    /// For each level, in [`LEVELS`] order, every break of that level or better, and
    /// the end of the source, sorted.
    by_level: Vec<Vec<usize>>,
}

impl Breaks {
    pub(super) fn find(source: &str) -> Self {
        let mut found = whitespace_breaks(source);
        found.extend(unspaced_sentence_ends(source));
        found.extend(
            source
                .grapheme_indices(true)
                .skip(1)
                .map(|(at, _)| (at, Level::Grapheme)),
        );

        let mut markup = markup_ranges(source);
        markup.extend(find_urls(source, UrlScope::WithScheme));
        for (at, level) in &mut found {
            if *level < Level::InsideMarkup
                && markup
                    .iter()
                    .any(|range| range.start < *at && *at < range.end)
            {
                *level = Level::InsideMarkup;
            }
        }

        let by_level = LEVELS
            .iter()
            .map(|&level| {
                let mut ends: Vec<usize> = found
                    .iter()
                    .filter(|&&(_, l)| l <= level)
                    .map(|&(at, _)| at)
                    .collect();
                ends.push(source.len());
                ends.sort_unstable();
                ends.dedup();
                ends
            })
            .collect();
        Breaks { by_level }
    }

    /// The farthest end after `start` at which the part `fits`, taken from the best level
    /// that has one. `None` if not even the first grapheme fits.
    pub(super) fn farthest_fitting(
        &self,
        start: usize,
        mut fits: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        self.by_level.iter().find_map(|ends| {
            let first = ends.partition_point(|&end| end <= start);
            last_fitting(&ends[first..], &mut fits)
        })
    }
}

/// The last of `ends` that fits. A longer part measures longer, so the ends that fit
/// come first: probe 1, 2, 4… ends ahead to bracket the last one, then bisect. Probing
/// this way renders little more than twice the part, not the whole rest of the source.
fn last_fitting(ends: &[usize], fits: &mut impl FnMut(usize) -> bool) -> Option<usize> {
    let &first = ends.first()?;
    if !fits(first) {
        return None;
    }
    let mut good = 0;
    let mut step = 1;
    let mut bad = loop {
        let probe = good + step;
        if probe >= ends.len() {
            break ends.len();
        }
        if !fits(ends[probe]) {
            break probe;
        }
        good = probe;
        step *= 2;
    };
    while bad - good > 1 {
        let middle = good + (bad - good) / 2;
        if fits(ends[middle]) {
            good = middle;
        } else {
            bad = middle;
        }
    }
    Some(ends[good])
}

/// A break at the start of every run of whitespace: a paragraph break for a blank
/// line, a sentence break for a line break or after a sentence's end, else a word break.
fn whitespace_breaks(source: &str) -> Vec<(usize, Level)> {
    let mut found = Vec::new();
    let mut run_start: Option<usize> = None;
    let mut newlines = 0;
    for (at, c) in source
        .char_indices()
        .chain(std::iter::once((source.len(), 'x')))
    {
        if c.is_whitespace() && at < source.len() {
            run_start.get_or_insert(at);
            newlines += usize::from(c == '\n');
            continue;
        }
        if let Some(start) = run_start.take() {
            let before = &source[..start];
            let level = if newlines >= 2 {
                Some(Level::Paragraph)
            } else if ends_with_block_marker(before) {
                // "- item" or "1. item": ending a part on the marker leaves it alone.
                None
            } else if newlines == 1 || ends_sentence(before) {
                Some(Level::Sentence)
            } else {
                Some(Level::Word)
            };
            if let Some(level) = level
                && start > 0
            {
                found.push((start, level));
            }
        }
        newlines = 0;
    }
    found
}

/// Sentence ends not followed by a space: Chinese and Japanese write none ("文です。次").
fn unspaced_sentence_ends(source: &str) -> Vec<(usize, Level)> {
    source
        .char_indices()
        .filter(|&(_, c)| matches!(c, '。' | '！' | '？'))
        .filter_map(|(at, c)| {
            let rest = &source[at + c.len_utf8()..];
            let after = rest.trim_start_matches(CLOSERS);
            let end = source.len() - after.len();
            (!after.is_empty() && !after.starts_with(char::is_whitespace))
                .then_some((end, Level::Sentence))
        })
        .collect()
}

fn ends_sentence(before: &str) -> bool {
    before.trim_end_matches(CLOSERS).ends_with(SENTENCE_ENDS)
}

/// Whether `before` ends in a Markdown block marker that starts its line: a bullet, a
/// list number, a quote or a heading mark.
fn ends_with_block_marker(before: &str) -> bool {
    let line = before.rsplit('\n').next().unwrap_or(before).trim_start();
    let numbered = line.strip_suffix(['.', ')']).is_some_and(|number| {
        (1..=9).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit())
    });
    let heading = (1..=6).contains(&line.len()) && line.bytes().all(|b| b == b'#');
    numbered || heading || matches!(line, "-" | "*" | "+" | ">")
}
