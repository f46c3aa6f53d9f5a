use super::{UrlScope, find_urls};

/// The URLs found in `text`, as strings.
fn urls(text: &str, scope: UrlScope) -> Vec<&str> {
    find_urls(text, scope)
        .into_iter()
        .map(|range| &text[range])
        .collect()
}

#[test]
fn urls_with_a_scheme() {
    let cases: &[(&str, &[&str])] = &[
        ("https://example.com", &["https://example.com"]),
        ("see https://example.com.", &["https://example.com"]),
        ("see https://example.com/a/b.", &["https://example.com/a/b"]),
        ("HTTP://EXAMPLE.COM/x", &["HTTP://EXAMPLE.COM/x"]),
        ("(https://example.com/a)", &["https://example.com/a"]),
        (
            "(https://en.wikipedia.org/wiki/Rust_(programming_language))",
            &["https://en.wikipedia.org/wiki/Rust_(programming_language)"],
        ),
        (
            "https://example.com/search?q=rust&page=2!",
            &["https://example.com/search?q=rust&page=2"],
        ),
        (
            "https://example.com:8443/x, then",
            &["https://example.com:8443/x"],
        ),
        ("https://example.com/a日本", &["https://example.com/a"]),
        (
            "a https://one.org b https://two.net/",
            &["https://one.org", "https://two.net/"],
        ),
        // No top-level domain: neither twitter-text nor Mastodon links these.
        ("http://localhost:8080/x", &[]),
        ("http://127.0.0.1/x", &[]),
        ("https://", &[]),
        // A word character or @ before the scheme.
        ("xhttps://example.com", &[]),
        ("@https://example.com", &[]),
        // Without a scheme, only for X.
        ("example.com", &[]),
    ];
    for (text, expected) in cases {
        assert_eq!(urls(text, UrlScope::WithScheme), *expected, "in {text:?}");
    }
}

#[test]
fn bare_domains_for_x() {
    let cases: &[(&str, &[&str])] = &[
        ("example.com", &["example.com"]),
        ("go to example.com.", &["example.com"]),
        ("example.com/path?x=1", &["example.com/path?x=1"]),
        // A country-code domain needs a subdomain or a path.
        ("example.de", &[]),
        ("www.example.de", &["www.example.de"]),
        ("example.de/x", &["example.de/x"]),
        // Not domains.
        ("e.g. this", &[]),
        ("Node.js and README.md", &[]),
        ("version 3.14", &[]),
        ("mail bob@example.com", &[]),
        ("file.txt", &[]),
        // A scheme URL is found once, not again as a bare domain.
        ("https://www.example.com/x", &["https://www.example.com/x"]),
    ];
    for (text, expected) in cases {
        assert_eq!(
            urls(text, UrlScope::AlsoBareDomains),
            *expected,
            "in {text:?}"
        );
    }
}
