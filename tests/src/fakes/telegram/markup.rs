//! Telegram's parse modes, as the Bot API server (tdlib) applies them: the text that
//! remains after markup is removed is what the 4096 / 1024 limits count, in code points.
//!
//! HTML follows tdlib's `parse_html` closely (its error messages included): a bare `&` or
//! an unknown entity such as `&nbsp;` stays literal text, as in tdlib, while a `<` that does
//! not open a supported tag is an error. MarkdownV2 and legacy Markdown are simplified
//! versions of tdlib's parsers that keep their rules on reserved characters and unclosed
//! entities.

/// The `parse_mode` values the Bot API accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParseMode {
    Plain,
    Html,
    MarkdownV2,
    Markdown,
}

impl ParseMode {
    /// The mode named `value` (case-insensitive); Err for an unknown name.
    pub(crate) fn from_param(value: Option<&str>) -> Result<ParseMode, ()> {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => Ok(ParseMode::Plain),
            Some("html") => Ok(ParseMode::Html),
            Some("markdownv2") => Ok(ParseMode::MarkdownV2),
            Some("markdown") => Ok(ParseMode::Markdown),
            Some(_) => Err(()),
        }
    }
}

/// The plain text of `text` in `mode`; Err holds what follows "can't parse entities: ".
pub(crate) fn plain_text(mode: ParseMode, text: &str) -> Result<String, String> {
    match mode {
        ParseMode::Plain => Ok(text.to_string()),
        ParseMode::Html => parse_html(text),
        ParseMode::MarkdownV2 => parse_markdown_v2(text),
        ParseMode::Markdown => parse_markdown(text),
    }
}

const HTML_TAGS: [&str; 16] = [
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

/// tdlib counts NUL as space: its strings are NUL-terminated, and so is `at` here.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x0b | 0x0c)
}

fn parse_html(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let lossy = |from: usize, to: usize| String::from_utf8_lossy(&bytes[from..to]).into_owned();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'&'
            && let Some((code, next)) = decode_entity(bytes, i)
        {
            let ch = char::from_u32(code).ok_or_else(|| {
                "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units".to_string()
            })?;
            let mut buffer = [0; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
            i = next;
            continue;
        }
        if c != b'<' {
            out.push(c);
            i += 1;
            continue;
        }
        let begin = i;
        i += 1;
        if at(i) != b'/' {
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            if i >= bytes.len() {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            let tag = lossy(begin + 1, i).to_lowercase();
            if !HTML_TAGS.contains(&tag.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{tag}\" at byte offset {begin}"
                ));
            }
            let mut attributes: Vec<(String, String)> = Vec::new();
            while at(i) != b'>' {
                while i < bytes.len() && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == b'>' {
                    break;
                }
                if i >= bytes.len() {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                let name_begin = i;
                while !is_space(at(i)) && at(i) != b'=' && at(i) != b'>' {
                    i += 1;
                }
                let name = lossy(name_begin, i);
                if name.is_empty() {
                    return Err(format!(
                        "Empty attribute name in the tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                while i < bytes.len() && is_space(at(i)) {
                    i += 1;
                }
                if at(i) != b'=' {
                    // Newer tdlib accepts valueless attributes (`<blockquote expandable>`).
                    attributes.push((name, String::new()));
                    continue;
                }
                i += 1;
                while i < bytes.len() && is_space(at(i)) {
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err(format!(
                        "Unclosed start tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                let mut value = Vec::new();
                if at(i) != b'\'' && at(i) != b'"' {
                    let token_begin = i;
                    while at(i).is_ascii_alphanumeric() || at(i) == b'.' || at(i) == b'-' {
                        i += 1;
                    }
                    value.extend_from_slice(bytes[token_begin..i].to_ascii_lowercase().as_slice());
                    if !is_space(at(i)) && at(i) != b'>' {
                        return Err(format!(
                            "Unexpected end of name token at byte offset {token_begin}"
                        ));
                    }
                } else {
                    let quote = at(i);
                    i += 1;
                    while i < bytes.len() && at(i) != quote {
                        if at(i) == b'&'
                            && let Some((code, next)) = decode_entity(bytes, i)
                        {
                            let ch = char::from_u32(code).unwrap_or('\u{fffd}');
                            let mut buffer = [0; 4];
                            value.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
                            i = next;
                            continue;
                        }
                        value.push(at(i));
                        i += 1;
                    }
                    if at(i) == quote {
                        i += 1;
                    }
                }
                if i >= bytes.len() {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                attributes.push((name, String::from_utf8_lossy(&value).into_owned()));
            }
            i += 1;
            if tag == "span"
                && !attributes
                    .iter()
                    .any(|(n, v)| n == "class" && v == "tg-spoiler")
            {
                return Err(format!(
                    "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                ));
            }
            open.push(tag);
        } else {
            let Some(expected) = open.last().cloned() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            let end_name = lossy(begin + 2, i);
            while i < bytes.len() && is_space(at(i)) {
                i += 1;
            }
            if at(i) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            if !end_name.is_empty() && end_name != expected {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{expected}>\", found \"</{end_name}>\""
                ));
            }
            open.pop();
            i += 1;
        }
    }
    if let Some(tag) = open.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag {tag}"
        ));
    }
    // Only whole UTF-8 sequences were copied, so this never replaces anything.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// tdlib's `decode_html_entity`: `&lt;` `&gt;` `&amp;` `&quot;` and numeric references,
/// the `;` optional. Returns the code point and the position after the entity.
fn decode_entity(bytes: &[u8], pos: usize) -> Option<(u32, usize)> {
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut end = pos + 1;
    let code: u32;
    if at(pos + 1) == b'#' {
        end += 1;
        let mut value: u64 = 0;
        if at(pos + 2) == b'x' {
            end += 1;
            while at(end).is_ascii_hexdigit() {
                value = (value * 16 + u64::from((at(end) as char).to_digit(16)?))
                    .min(u64::from(u32::MAX));
                end += 1;
            }
        } else {
            while at(end).is_ascii_digit() {
                value = (value * 10 + u64::from(at(end) - b'0')).min(u64::from(u32::MAX));
                end += 1;
            }
        }
        if value == 0 || value >= 0x10ffff || end - pos >= 10 {
            return None;
        }
        code = u32::try_from(value).ok()?;
    } else {
        while at(end).is_ascii_alphabetic() {
            end += 1;
        }
        code = match &bytes[pos + 1..end] {
            b"lt" => u32::from('<'),
            b"gt" => u32::from('>'),
            b"amp" => u32::from('&'),
            b"quot" => u32::from('"'),
            _ => return None,
        };
    }
    let next = if at(end) == b';' { end + 1 } else { end };
    Some((code, next))
}

/// The entities MarkdownV2 opens and closes, named as tdlib names them in its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entity {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    TextUrl,
    CustomEmoji,
}

fn parse_markdown_v2(text: &str) -> Result<String, String> {
    const RESERVED: &str = "_*[]()~`>#+-=|{}.!";
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let char_at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let mut out = String::with_capacity(text.len());
    let mut open: Vec<(Entity, usize)> = Vec::new();
    let mut i = 0;
    while let Some(&(offset, c)) = chars.get(i) {
        if c == '\\' && char_at(i + 1).is_some_and(|n| (1..=126).contains(&(n as u32))) {
            out.push(char_at(i + 1).unwrap_or_default());
            i += 2;
            continue;
        }
        if !RESERVED.contains(c) {
            out.push(c);
            i += 1;
            continue;
        }
        let next = char_at(i + 1);
        let at_line_start = offset == 0 || text[..offset].ends_with('\n');
        let toggle = match c {
            '_' if next == Some('_') => Some((Entity::Underline, 2)),
            '_' => Some((Entity::Italic, 1)),
            '*' => Some((Entity::Bold, 1)),
            '~' => Some((Entity::Strikethrough, 1)),
            '|' if next == Some('|') => Some((Entity::Spoiler, 2)),
            _ => None,
        };
        if let Some((entity, width)) = toggle {
            if open.last().map(|(e, _)| *e) == Some(entity) {
                open.pop();
            } else {
                open.push((entity, offset));
            }
            i += width;
            continue;
        }
        match c {
            '[' => {
                open.push((Entity::TextUrl, offset));
                i += 1;
            }
            '!' if next == Some('[') => {
                open.push((Entity::CustomEmoji, offset));
                i += 2;
            }
            ']' if matches!(
                open.last(),
                Some((Entity::TextUrl | Entity::CustomEmoji, _))
            ) =>
            {
                open.pop();
                i += 1;
                if char_at(i) == Some('(') {
                    // The URL is not text; `\` escapes `)` and `\` inside it.
                    i += 1;
                    loop {
                        match char_at(i) {
                            None => {
                                return Err(format!(
                                    "Can't find end of a URL at byte offset {}",
                                    offset + 1
                                ));
                            }
                            Some(')') => break,
                            Some('\\') => i += 2,
                            Some(_) => i += 1,
                        }
                    }
                    i += 1;
                }
            }
            '`' => {
                let pre = next == Some('`') && char_at(i + 2) == Some('`');
                let fence = if pre { 3 } else { 1 };
                let mut j = i + fence;
                if pre {
                    // The language name up to the first line break is not text.
                    while let Some(ch) = char_at(j) {
                        if ch == '\n' || ch == '`' {
                            break;
                        }
                        j += 1;
                    }
                    if char_at(j) == Some('\n') {
                        j += 1;
                    }
                }
                let closed = loop {
                    match char_at(j) {
                        None => break false,
                        Some('\\') if char_at(j + 1).is_some() => {
                            out.push(char_at(j + 1).unwrap_or_default());
                            j += 2;
                        }
                        Some('`')
                            if !pre
                                || (char_at(j + 1) == Some('`') && char_at(j + 2) == Some('`')) =>
                        {
                            break true;
                        }
                        Some(ch) => {
                            out.push(ch);
                            j += 1;
                        }
                    }
                };
                if !closed {
                    let name = if pre { "Pre" } else { "Code" };
                    return Err(format!(
                        "Can't find end of {name} entity at byte offset {offset}"
                    ));
                }
                i = j + fence;
            }
            '>' if at_line_start => i += 1,
            _ => {
                return Err(format!(
                    "Character '{c}' is reserved and must be escaped with the preceding '\\'"
                ));
            }
        }
    }
    if let Some((entity, offset)) = open.last() {
        return Err(format!(
            "Can't find end of {entity:?} entity at byte offset {offset}"
        ));
    }
    Ok(out)
}

fn parse_markdown(text: &str) -> Result<String, String> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let char_at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(&(offset, c)) = chars.get(i) {
        if c == '\\' && char_at(i + 1).is_some_and(|n| "_*`[".contains(n)) {
            out.push(char_at(i + 1).unwrap_or_default());
            i += 2;
            continue;
        }
        if !"_*`[".contains(c) {
            out.push(c);
            i += 1;
            continue;
        }
        let unclosed = || format!("Can't find end of the entity starting at byte offset {offset}");
        let pre = c == '`' && char_at(i + 1) == Some('`') && char_at(i + 2) == Some('`');
        let (opener, closer) = match c {
            '[' => (1, ']'),
            _ if pre => (3, '`'),
            _ => (1, c),
        };
        let mut j = i + opener;
        let mut inner = String::new();
        loop {
            match char_at(j) {
                None => return Err(unclosed()),
                Some(ch)
                    if ch == closer
                        && (!pre
                            || (char_at(j + 1) == Some('`') && char_at(j + 2) == Some('`'))) =>
                {
                    break;
                }
                Some(ch) => {
                    inner.push(ch);
                    j += 1;
                }
            }
        }
        if pre && let Some((first_line, rest)) = inner.split_once('\n') {
            // ```lang\ncode```: the language is not text.
            if !first_line.contains(' ') {
                inner = rest.to_string();
            }
        }
        out.push_str(&inner);
        i = j + opener;
        if c == '[' && char_at(i) == Some('(') {
            while let Some(ch) = char_at(i) {
                i += 1;
                if ch == ')' {
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(text: &str) -> Result<String, String> {
        plain_text(ParseMode::Html, text)
    }

    #[test]
    fn html_is_parsed_like_tdlib() {
        assert_eq!(
            html("<b>bold</b> &amp; <a href=\"https://x.org/?a=1&amp;b=2\">link</a>"),
            Ok("bold & link".into())
        );
        assert_eq!(
            html("1 &lt; 2 &gt; 0 &quot;q&quot; &#128512; &#x1F600;"),
            Ok("1 < 2 > 0 \"q\" 😀 😀".into())
        );
        assert_eq!(
            html("AT&T &nbsp; &amp"),
            Ok("AT&T &nbsp; &".into()),
            "a bare & stays text"
        );
        assert_eq!(
            html("<span class=\"tg-spoiler\">x</span><tg-spoiler>y</tg-spoiler>"),
            Ok("xy".into())
        );
        assert_eq!(
            html(
                "<blockquote expandable>q</blockquote><pre><code class=\"language-rust\">fn</code></pre>"
            ),
            Ok("qfn".into())
        );
        assert_eq!(
            html("a < b"),
            Err("Unsupported start tag \"\" at byte offset 2".into())
        );
        assert_eq!(
            html("<p>x</p>"),
            Err("Unsupported start tag \"p\" at byte offset 0".into())
        );
        assert_eq!(
            html("<b>x</i>"),
            Err("Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\"".into())
        );
        assert_eq!(
            html("<b>x"),
            Err("Can't find end tag corresponding to start tag b".into())
        );
        assert_eq!(
            html("x</b>"),
            Err("Unexpected end tag at byte offset 1".into())
        );
        assert_eq!(
            html("<b"),
            Err("Unclosed start tag at byte offset 0".into())
        );
        assert_eq!(
            html("<span>x</span>"),
            Err("Tag \"span\" must have class \"tg-spoiler\" at byte offset 0".into())
        );
        assert_eq!(html("<b>x</b >"), Ok("x".into()));
    }

    #[test]
    fn markdown_v2_demands_escapes() {
        let md = |t: &str| plain_text(ParseMode::MarkdownV2, t);
        assert_eq!(
            md("*bold* _it_ __u__ ~s~ ||sp|| [link](https://x.org/a\\)b) `co\\`de`"),
            Ok("bold it u s sp link co`de".into())
        );
        assert_eq!(md("v1\\.2 \\- done\\!"), Ok("v1.2 - done!".into()));
        assert_eq!(
            md("v1.2"),
            Err("Character '.' is reserved and must be escaped with the preceding '\\'".into())
        );
        assert_eq!(
            md("*open"),
            Err("Can't find end of Bold entity at byte offset 0".into())
        );
        assert_eq!(
            md("```rust\nfn main() {}\n```"),
            Ok("fn main() {}\n".into())
        );
        assert_eq!(md(">quoted"), Ok("quoted".into()));
    }

    #[test]
    fn legacy_markdown_strips_markers() {
        let md = |t: &str| plain_text(ParseMode::Markdown, t);
        assert_eq!(
            md("*b* _i_ `c` [t](https://x.org) v1.2!"),
            Ok("b i c t v1.2!".into())
        );
        assert_eq!(
            md("a_b"),
            Err("Can't find end of the entity starting at byte offset 1".into())
        );
        assert_eq!(md("a\\_b"), Ok("a_b".into()));
    }

    #[test]
    fn parse_mode_names_are_case_insensitive() {
        assert_eq!(ParseMode::from_param(Some("HTML")), Ok(ParseMode::Html));
        assert_eq!(
            ParseMode::from_param(Some("MarkdownV2")),
            Ok(ParseMode::MarkdownV2)
        );
        assert_eq!(ParseMode::from_param(None), Ok(ParseMode::Plain));
        assert!(ParseMode::from_param(Some("bbcode")).is_err());
    }
}
