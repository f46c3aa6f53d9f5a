//! How a post becomes the parts one network receives: pure, tested with tables.

use crate::model::ThreadMode;
use crate::platforms::Capabilities;
use crate::text::{fit, split};

/// The Markdown of each part, or why the post cannot go to this network as it is.
pub fn parts(body: &str, caps: &Capabilities, thread: ThreadMode) -> Result<Vec<String>, String> {
    let measured = fit(body, caps.limit, caps.format);
    if measured.fits {
        return Ok(vec![body.to_string()]);
    }
    let too_long = match measured.counting.max_bytes() {
        Some(bytes) if measured.length <= measured.max => format!(
            "the text is over the {bytes}-byte limit this network has besides its {} characters",
            measured.max
        ),
        _ => format!(
            "the text is {} long where this network takes {}",
            measured.length, measured.max
        ),
    };
    match thread {
        _ if !caps.threads => Err(format!(
            "{too_long}, and it cannot take a thread; shorten it (see `postctl check`)"
        )),
        ThreadMode::Never => Err(format!(
            "{too_long}; shorten it, or allow a thread with --thread auto"
        )),
        mode => Ok(split(
            body,
            caps.limit,
            caps.format,
            mode == ThreadMode::Numbered,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{Counting, Format, TextLimit};

    fn caps(max: usize, threads: bool) -> Capabilities {
        Capabilities {
            limit: TextLimit {
                max,
                counting: Counting::CodePoints,
            },
            format: Format::Plain,
            max_media: 4,
            max_image_bytes: 1_000_000,
            threads,
            idempotency: crate::platforms::Idempotency::Always,
        }
    }

    #[test]
    fn text_becomes_parts_or_a_reason() {
        let long = "First sentence here. Second sentence here. Third one.";
        type Case<'a> = (&'a str, usize, bool, ThreadMode, Result<usize, &'a str>);
        let cases: &[Case<'_>] = &[
            ("Short", 100, true, ThreadMode::Auto, Ok(1)),
            (long, 25, true, ThreadMode::Auto, Ok(3)),
            (long, 25, true, ThreadMode::Never, Err("--thread auto")),
            (
                long,
                25,
                false,
                ThreadMode::Auto,
                Err("cannot take a thread"),
            ),
        ];
        for (body, max, threads, mode, expected) in cases {
            let got = parts(body, &caps(*max, *threads), *mode);
            match (got, expected) {
                (Ok(parts), Ok(n)) => {
                    assert_eq!(parts.len(), *n, "{parts:?}");
                    assert!(parts.iter().all(|p| p.chars().count() <= *max), "{parts:?}");
                }
                (Err(reason), Err(part)) => assert!(reason.contains(part), "{reason}"),
                (got, _) => panic!("{body} {max}: unexpected {got:?}"),
            }
        }
    }
}
