//! Link cards: the Open Graph tags of a linked page, for an `app.bsky.embed.external`.
//!
//! Everything here is best effort: a page that is slow, not HTML, too big or without tags
//! gives no card, and the post goes out without one.

use std::time::Duration;

use reqwest::Url;

use crate::platforms::Http;

/// How long the page (and then its image) may take.
pub(super) const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Open Graph tags are in the head; no need to read a whole long page.
const MAX_PAGE_BYTES: usize = 512 * 1024;
const MAX_TITLE_CHARS: usize = 300;
const MAX_DESCRIPTION_CHARS: usize = 1000;

/// What a page says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct OpenGraph {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Absolute, resolved against the page's address.
    pub image: Option<String>,
}

/// A downloaded image for the card's thumbnail.
#[derive(Debug)]
pub(super) struct Thumb {
    pub bytes: Vec<u8>,
    pub mime: String,
}

/// Fetches `uri` and reads its Open Graph tags; `None` when there is no usable card.
/// `key` is the rate-limit key in [`Http`] (the page is not on the account's server).
pub(super) async fn fetch(
    http: &Http,
    key: &str,
    uri: &str,
    timeout: Duration,
) -> Option<OpenGraph> {
    let accept = Some("text/html,application/xhtml+xml");
    let (response, content_type) = get(http, key, uri, timeout, accept).await?;
    if !content_type.contains("html") {
        return None;
    }
    let page_url = response.url().clone();
    let body = read_capped(response, MAX_PAGE_BYTES, false).await?;
    let og = parse(&String::from_utf8_lossy(&body), &page_url);
    (og.title.is_some() || og.description.is_some()).then_some(og)
}

/// Downloads the card's image when it is an image no larger than `max_bytes`.
pub(super) async fn fetch_thumb(
    http: &Http,
    key: &str,
    uri: &str,
    max_bytes: usize,
    timeout: Duration,
) -> Option<Thumb> {
    let (response, mime) = get(http, key, uri, timeout, None).await?;
    if !mime.starts_with("image/") {
        return None;
    }
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return None;
    }
    let bytes = read_capped(response, max_bytes, true).await?;
    Some(Thumb { bytes, mime })
}

/// A successful answer to a GET of `uri`, which must be an http(s) address, with the
/// answer's media type.
async fn get(
    http: &Http,
    key: &str,
    uri: &str,
    timeout: Duration,
    accept: Option<&str>,
) -> Option<(reqwest::Response, String)> {
    let url = Url::parse(uri)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))?;
    let mut request = http.client().get(url).timeout(timeout);
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let response = http.send(key, request).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let mime = content_type(&response);
    Some((response, mime))
}

/// The media type without parameters, lowercase.
fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Reads at most `max` bytes. With `whole`, a longer body gives `None` (a cut image is
/// useless); without, the start is kept (the head of a page is enough).
async fn read_capped(mut response: reqwest::Response, max: usize, whole: bool) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        body.extend_from_slice(&chunk);
        if body.len() > max {
            if whole {
                return None;
            }
            body.truncate(max);
            break;
        }
    }
    Some(body)
}

/// Reads the `og:title`, `og:description` and `og:image` meta tags of an HTML page.
pub(super) fn parse(html: &str, page: &Url) -> OpenGraph {
    let mut og = OpenGraph::default();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<meta") {
        let start = at + found + "<meta".len();
        let Some(len) = lower[start..].find('>') else {
            break;
        };
        let attributes = attributes(&html[start..start + len]);
        at = start + len;
        let get = |name: &str| {
            attributes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(property) = get("property").or_else(|| get("name")) else {
            continue;
        };
        let Some(content) = get("content").map(|c| decode_entities(c).trim().to_string()) else {
            continue;
        };
        if content.is_empty() {
            continue;
        }
        match property.to_ascii_lowercase().as_str() {
            "og:title" if og.title.is_none() => og.title = Some(cut(&content, MAX_TITLE_CHARS)),
            "og:description" if og.description.is_none() => {
                og.description = Some(cut(&content, MAX_DESCRIPTION_CHARS));
            }
            "og:image" | "og:image:url" | "og:image:secure_url" if og.image.is_none() => {
                og.image = page
                    .join(&content)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .map(String::from);
            }
            _ => {}
        }
    }
    og
}

/// The attributes of one tag (the text between its name and `>`): lowercase names,
/// values with their quotes removed.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = tag;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        let name_len = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        if name_len == 0 {
            return found;
        }
        let name = rest[..name_len].to_ascii_lowercase();
        rest = rest[name_len..].trim_start();
        let Some(after_eq) = rest.strip_prefix('=') else {
            found.push((name, String::new()));
            continue;
        };
        rest = after_eq.trim_start();
        let value = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let inner = &rest[1..];
                let end = inner.find(quote).unwrap_or(inner.len());
                rest = inner.get(end + 1..).unwrap_or_default();
                &inner[..end]
            }
            _ => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let value = &rest[..end];
                rest = &rest[end..];
                value
            }
        };
        found.push((name, value.to_string()));
    }
}

/// Replaces the character references that appear in attribute values.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn cut(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", s[..end].trim_end()),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://example.com/blog/post").expect("url")
    }

    #[test]
    fn open_graph_tags_are_read_in_any_attribute_style() {
        let cases = [
            (
                r#"<head><meta property="og:title" content="Shipped v1.2"><meta property="og:description" content="What&#39;s new &amp; fixed"><meta property="og:image" content="/img/card.png"></head>"#,
                OpenGraph {
                    title: Some("Shipped v1.2".into()),
                    description: Some("What's new & fixed".into()),
                    image: Some("https://example.com/img/card.png".into()),
                },
            ),
            (
                "<META content='Reversed order' PROPERTY='og:title' /><meta name=og:description content=unquoted>",
                OpenGraph {
                    title: Some("Reversed order".into()),
                    description: Some("unquoted".into()),
                    image: None,
                },
            ),
            (
                r#"<meta property="og:title" content=""><meta name="description" content="not og"><title>Plain</title>"#,
                OpenGraph::default(),
            ),
            (
                r#"<meta property="og:image" content="javascript:alert(1)"><meta property="og:title" content="&#x1F389; party">"#,
                OpenGraph {
                    title: Some("🎉 party".into()),
                    description: None,
                    image: None,
                },
            ),
            (
                "<meta property=\"og:title\" content=\"cut off",
                OpenGraph::default(),
            ),
        ];
        for (html, want) in cases {
            assert_eq!(parse(html, &page()), want, "{html}");
        }
    }

    #[test]
    fn entities_decode_and_stray_ampersands_stay() {
        let cases = [
            ("a &amp; b", "a & b"),
            ("&lt;tag&gt;", "<tag>"),
            ("AT&T", "AT&T"),
            ("&#233;t&#xE9;", "été"),
            ("&unknown; &", "&unknown; &"),
        ];
        for (input, want) in cases {
            assert_eq!(decode_entities(input), want, "{input}");
        }
    }

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        assert_eq!(cut("ééééé", 3), "ééé…");
        assert_eq!(cut("short", 10), "short");
    }
}
