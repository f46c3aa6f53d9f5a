use super::{Format, render};
use crate::text::facets::{Facet, FacetFeature};

/// (Markdown, what the network receives as `text`), each worked out from the format's rules.
fn assert_texts(format: Format, cases: &[(&str, &str)]) {
    for (markdown, expected) in cases {
        assert_eq!(
            render(markdown, format).text,
            *expected,
            "{format:?} of {markdown:?}"
        );
    }
}

#[test]
fn plain_text() {
    assert_texts(
        Format::Plain,
        &[
            ("**bold** and _it_ and ~~gone~~", "bold and it and gone"),
            (
                "[docs](https://example.com/docs)",
                "docs (https://example.com/docs)",
            ),
            (
                "[https://example.com](https://example.com)",
                "https://example.com",
            ),
            ("<https://example.com>", "https://example.com"),
            ("write to <me@example.com>", "write to me@example.com"),
            ("[](https://example.com)", "https://example.com"),
            (
                "![a chart](https://example.com/c.png)",
                "a chart (https://example.com/c.png)",
            ),
            ("# Shipped v1.2\n\nDetails.", "Shipped v1.2\n\nDetails."),
            ("one\n\n\n\ntwo", "one\n\ntwo"),
            ("line one\nline two", "line one\nline two"),
            ("line one  \nline two", "line one\nline two"),
            ("- one\n- two", "• one\n• two"),
            ("* one\n\n* two", "• one\n• two"),
            ("1. one\n2. two", "1. one\n2. two"),
            ("3. three\n4. four", "3. three\n4. four"),
            ("- one\n  - nested\n- two", "• one\n  • nested\n• two"),
            ("- one\n  more", "• one\n  more"),
            (
                "Intro:\n\n- a\n- b\n\nOutro.",
                "Intro:\n\n• a\n• b\n\nOutro.",
            ),
            ("> quoted\n> more", "> quoted\n> more"),
            ("> one\n>\n> two", "> one\n>\n> two"),
            ("`let x = 1;` is code", "let x = 1; is code"),
            (
                "```rust\nfn main() {}\n\nmain();\n```",
                "fn main() {}\n\nmain();",
            ),
            ("a\n\n---\n\nb", "a\n\n———\n\nb"),
            // Plain text is not escaped, and raw HTML is shown as written.
            ("a < b & c > d", "a < b & c > d"),
            ("<b>hi</b>", "<b>hi</b>"),
            ("\\*not emphasis\\*", "*not emphasis*"),
            // A bare URL is not Markdown: its `*`, `_` and `\` stay.
            (
                "see https://example.com/a*b*c and https://example.com/x_y_",
                "see https://example.com/a*b*c and https://example.com/x_y_",
            ),
            // A backslash ends a URL, so there it is Markdown's escape, as the writer meant.
            (
                "see https://example.com/a\\_b",
                "see https://example.com/a_b",
            ),
            ("**https://example.com/x**", "https://example.com/x"),
            // Hashtags are not headings.
            ("#rust #release", "#rust #release"),
            ("   ", ""),
        ],
    );
}

#[test]
fn telegram_html() {
    assert_texts(
        Format::TelegramHtml,
        &[
            ("**bold**", "<b>bold</b>"),
            ("_it_ and ~~gone~~", "<i>it</i> and <s>gone</s>"),
            ("a < b & c", "a &lt; b &amp; c"),
            ("<b>not a tag</b>", "&lt;b&gt;not a tag&lt;/b&gt;"),
            ("`x<y`", "<code>x&lt;y</code>"),
            (
                "[docs](https://example.com/?a=1&b=\"2\")",
                "<a href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\">docs</a>",
            ),
            (
                "[a & b](https://example.com)",
                "<a href=\"https://example.com\">a &amp; b</a>",
            ),
            (
                "see https://example.com/x",
                "see <a href=\"https://example.com/x\">https://example.com/x</a>",
            ),
            (
                "**https://example.com/x**",
                "<b><a href=\"https://example.com/x\">https://example.com/x</a></b>",
            ),
            (
                "```rust\nif a < b {}\n```",
                "<pre><code class=\"language-rust\">if a &lt; b {}</code></pre>",
            ),
            ("```\nplain\n```", "<pre>plain</pre>"),
            ("# News", "<b>News</b>"),
            // Telegram rejects <b> inside <b>.
            ("# **Big** news", "<b>Big news</b>"),
            ("**bold _and **more**_**", "<b>bold <i>and more</i></b>"),
            ("- **one**\n- two", "• <b>one</b>\n• two"),
            ("> quoted\n> more", "<blockquote>quoted\nmore</blockquote>"),
            (
                "before\n\n> quoted\n\nafter",
                "before\n\n<blockquote>quoted</blockquote>\n\nafter",
            ),
        ],
    );
}

#[test]
fn slack_mrkdwn() {
    assert_texts(
        Format::SlackMrkdwn,
        &[
            (
                "**bold** and _it_ and ~~gone~~",
                "*bold* and _it_ and ~gone~",
            ),
            (
                "[docs](https://example.com/docs)",
                "<https://example.com/docs|docs>",
            ),
            ("<https://example.com>", "<https://example.com>"),
            (
                "see https://example.com/a?b=1&c=2",
                "see <https://example.com/a?b=1&amp;c=2>",
            ),
            (
                "[x](https://example.com/a|b)",
                "<https://example.com/a%7Cb|x>",
            ),
            ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
            ("`a<b`", "`a&lt;b`"),
            ("```\nx < y\n```", "```\nx &lt; y\n```"),
            ("# News\n\n- one", "*News*\n\n• one"),
            ("# **Big** news", "*Big news*"),
            ("> quoted", "> quoted"),
        ],
    );
}

#[test]
fn discord_passes_markdown_through() {
    assert_texts(
        Format::DiscordMarkdown,
        &[
            (
                "**bold** [docs](https://example.com) a < b & c",
                "**bold** [docs](https://example.com) a < b & c",
            ),
            ("  # Title\n\n- item  \n", "# Title\n\n- item"),
        ],
    );
}

#[test]
fn matrix_body_and_html() {
    let cases = [
        ("plain", "plain", "plain"),
        (
            "**bold** [x](https://example.com)",
            "bold x (https://example.com)",
            "<strong>bold</strong> <a href=\"https://example.com\">x</a>",
        ),
        ("a\n\nb", "a\n\nb", "<p>a</p><p>b</p>"),
        ("a\nb", "a\nb", "a<br>b"),
        ("a < b & \"c\"", "a < b & \"c\"", "a &lt; b &amp; \"c\""),
        (
            "# T\n\n- a\n- b",
            "T\n\n• a\n• b",
            "<h1>T</h1><ul><li>a</li><li>b</li></ul>",
        ),
        (
            "3. c\n4. d",
            "3. c\n4. d",
            "<ol start=\"3\"><li>c</li><li>d</li></ol>",
        ),
        (
            "```rust\nlet a = 1;\n```",
            "let a = 1;",
            "<pre><code class=\"language-rust\">let a = 1;\n</code></pre>",
        ),
        (
            "<script>x</script>",
            "<script>x</script>",
            "&lt;script&gt;x&lt;/script&gt;",
        ),
        ("> _q_", "> q", "<blockquote><p><em>q</em></p></blockquote>"),
    ];
    for (markdown, body, html) in cases {
        let rendered = render(markdown, Format::MatrixHtml);
        assert_eq!(rendered.text, body, "body of {markdown:?}");
        assert_eq!(
            rendered.html.as_deref(),
            Some(html),
            "formatted_body of {markdown:?}"
        );
        assert!(rendered.facets.is_empty());
    }
}

#[test]
fn only_matrix_has_html_and_only_bluesky_has_facets() {
    let markdown = "**hi** https://example.com #tag";
    for format in [
        Format::Plain,
        Format::TelegramHtml,
        Format::DiscordMarkdown,
        Format::SlackMrkdwn,
    ] {
        let rendered = render(markdown, format);
        assert_eq!(rendered.html, None, "{format:?}");
        assert!(rendered.facets.is_empty(), "{format:?}");
    }
    assert_eq!(render(markdown, Format::Bluesky).facets.len(), 2);
}

#[test]
fn bluesky_shows_link_text_and_links_it() {
    let link = |byte_start, byte_end, uri: &str| Facet {
        byte_start,
        byte_end,
        feature: FacetFeature::Link {
            uri: uri.to_owned(),
        },
    };
    let cases = [
        (
            "[docs](https://example.com/docs)",
            "docs",
            vec![link(0, 4, "https://example.com/docs")],
        ),
        // "🎉 " is 5 bytes; "read " 5 more.
        (
            "🎉 read [the notes](https://example.com/n)",
            "🎉 read the notes",
            vec![link(10, 19, "https://example.com/n")],
        ),
        (
            "<https://example.com>",
            "https://example.com",
            vec![link(0, 19, "https://example.com")],
        ),
        (
            "[](https://example.com)",
            "https://example.com",
            vec![link(0, 19, "https://example.com")],
        ),
        // A URL in a link's text is not linked a second time.
        (
            "[https://a.example.com](https://b.example.com)",
            "https://a.example.com",
            vec![link(0, 21, "https://b.example.com")],
        ),
        // Formatting inside the link is dropped, the link covers all of its text.
        (
            "[**big** news](https://example.com)",
            "big news",
            vec![link(0, 8, "https://example.com")],
        ),
    ];
    for (markdown, text, expected) in cases {
        let rendered = render(markdown, Format::Bluesky);
        assert_eq!(rendered.text, text, "text of {markdown:?}");
        assert_eq!(rendered.facets, expected, "facets of {markdown:?}");
    }
}
