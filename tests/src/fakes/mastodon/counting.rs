//! The length Mastodon's StatusLengthValidator checks: grapheme clusters of
//! `spoiler_text` + `status`, every http(s) URL as `characters_reserved_per_url`, and a
//! mention `@user@domain` as `@user`. The URL and mention scanners are simplified versions
//! of Mastodon's regular expressions: a URL runs from `http(s)://` and a dotted host to the
//! next whitespace, less trailing punctuation.

use unicode_segmentation::UnicodeSegmentation;

/// The length Mastodon checks against `max_characters`.
pub(crate) fn countable_length(text: &str, spoiler_text: &str, per_url: usize) -> usize {
    let combined = format!("{spoiler_text}{}", countable_text(text, per_url));
    combined.graphemes(true).count()
}

/// The text with every URL replaced by `per_url` placeholder characters and every
/// `@user@domain` mention shortened to `@user`.
fn countable_text(text: &str, per_url: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous: Option<char> = None;
    let mut i = 0;
    while let Some(ch) = text[i..].chars().next() {
        let rest = &text[i..];
        let url_may_start = previous.is_none_or(|p| !p.is_alphanumeric() && !"@$#/".contains(p));
        if url_may_start && let Some(len) = url_length(rest) {
            out.extend(std::iter::repeat_n('x', per_url));
            i += len;
            previous = rest[..len].chars().last();
            continue;
        }
        let mention_may_start =
            previous.is_none_or(|p| !(p.is_alphanumeric() || "_=/".contains(p)));
        if ch == '@'
            && mention_may_start
            && let Some((len, local)) = mention_length(rest)
        {
            out.push_str(&rest[..local]);
            i += len;
            previous = rest[..len].chars().last();
            continue;
        }
        out.push(ch);
        i += ch.len_utf8();
        previous = Some(ch);
    }
    out
}

/// Length in bytes of the http(s) URL at the start of `text`: up to the next whitespace,
/// without trailing punctuation (a closing parenthesis stays when the URL opened one).
fn url_length(text: &str) -> Option<usize> {
    let lower: String = text
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        return None;
    };
    let end = text
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(text.len(), |(i, _)| i);
    let mut url = &text[..end];
    while let Some(last) = url.chars().last() {
        let unbalanced_paren = last == ')' && url.matches('(').count() < url.matches(')').count();
        if ".,;:!?'\"]}>".contains(last) || unbalanced_paren {
            url = &url[..url.len() - last.len_utf8()];
        } else {
            break;
        }
    }
    let host: String = url[scheme.min(url.len())..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    let valid_host = (host.contains('.') && !host.starts_with('.') && !host.ends_with('.'))
        || host.eq_ignore_ascii_case("localhost");
    valid_host.then_some(url.len())
}

/// For a mention at the start of `text`: its whole length and the length of `@user`.
fn mention_length(text: &str) -> Option<(usize, usize)> {
    let after_at = &text[1..];
    let user_run = after_at
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
        .map_or(after_at.len(), |(i, _)| i);
    let user = after_at[..user_run].trim_end_matches(['.', '-']);
    if user.is_empty() || user.starts_with(['.', '-']) {
        return None;
    }
    let local = 1 + user.len();
    let rest = &text[local..];
    if let Some(domain_part) = rest.strip_prefix('@') {
        let run = domain_part
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || "_.-".contains(*c)))
            .map_or(domain_part.len(), |(i, _)| i);
        let domain = domain_part[..run].trim_end_matches(['.', '-']);
        if !domain.is_empty() {
            return Some((local + 1 + domain.len(), local));
        }
    }
    Some((local, local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_follows_the_status_length_validator() {
        assert_eq!(countable_length("hello", "", 23), 5);
        assert_eq!(countable_length("👨‍👩‍👧‍👦 👍🏽", "", 23), 3);
        assert_eq!(countable_length("e\u{301}", "", 23), 1);
        assert_eq!(
            countable_length("see https://example.com/a/very/long/path?x=1.", "", 23),
            4 + 23 + 1
        );
        assert_eq!(countable_length("(https://example.com/x)", "", 23), 25);
        assert_eq!(countable_length("hi @alice@mastodon.social!", "", 23), 10);
        assert_eq!(
            countable_length("mail me@example.com", "", 23),
            19,
            "an e-mail address is no mention"
        );
        assert_eq!(
            countable_length("body", "cw", 23),
            6,
            "the content warning counts"
        );
        assert_eq!(
            countable_length("http://nohost", "", 23),
            13,
            "not a URL without a dot"
        );
        assert_eq!(countable_length("日本語", "", 23), 3);
    }
}
