//! RSS and Atom feeds (issue 14): a workspace watches a feed, and each item that appears
//! in it after the first poll becomes a post through a template.
//!
//! This module holds the pure parts: [`parse`] reads RSS 2.0, RSS 1.0 (RDF) and Atom 1.0
//! with `roxmltree` (which refuses DTDs, so no entity expansion), [`keys`] says what names
//! an item (its id and, when no other item of the document shares it, its link: an item
//! whose id changes but whose link stays is the same item), and [`variables`] is what its
//! template sees. `worker.rs` is the loop each `serve` runs: claim due feeds with a lease,
//! fetch each with a conditional GET, post the new items once.

pub mod worker;

use serde_json::{Map, Value, json};

/// The longest `summary` handed to a template, in characters.
const SUMMARY_MAX: usize = 500;

/// A feed as read: its title and link, and its items in the document's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    pub link: Option<String>,
    pub items: Vec<Item>,
}

/// One RSS item or Atom entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    /// RSS `guid`, Atom `id`.
    pub id: Option<String>,
    pub link: Option<String>,
    pub title: String,
    /// The description, summary or content as plain text, shortened.
    pub summary: String,
    /// RSS `pubDate`, Atom `published` or `updated`, as the feed wrote it.
    pub published: Option<String>,
    pub author: Option<String>,
}

/// Reads an RSS 2.0, RSS 1.0 or Atom 1.0 document; an error says what is wrong in words
/// a feed's owner can act on.
pub fn parse(text: &str) -> Result<Document, String> {
    let xml = roxmltree::Document::parse(text).map_err(|e| format!("not well-formed XML: {e}"))?;
    let root = xml.root_element();
    match root.tag_name().name() {
        "rss" => {
            let channel = child(root, "channel").ok_or("an RSS document without a <channel>")?;
            Ok(Document {
                title: child_text(channel, "title"),
                link: non_empty(child_text(channel, "link")),
                items: children(channel, "item").map(rss_item).collect(),
            })
        }
        // RSS 1.0: the items sit beside the channel.
        "RDF" => {
            let channel = child(root, "channel");
            Ok(Document {
                title: channel.map(|c| child_text(c, "title")).unwrap_or_default(),
                link: channel.and_then(|c| non_empty(child_text(c, "link"))),
                items: children(root, "item").map(rss_item).collect(),
            })
        }
        "feed" => Ok(Document {
            title: child_text(root, "title"),
            link: atom_link(root),
            items: children(root, "entry").map(atom_entry).collect(),
        }),
        other => Err(format!(
            "the document is <{other}>, not an RSS (<rss>) or Atom (<feed>) feed"
        )),
    }
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The text inside a node (CDATA and entities decoded), trimmed.
fn text_of(node: roxmltree::Node) -> String {
    node.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect::<String>()
        .trim()
        .to_string()
}

fn child_text(node: roxmltree::Node, name: &str) -> String {
    child(node, name).map(text_of).unwrap_or_default()
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn rss_item(item: roxmltree::Node) -> Item {
    let description = child(item, "description").or_else(|| child(item, "encoded"));
    Item {
        id: non_empty(child_text(item, "guid")),
        link: non_empty(child_text(item, "link")),
        title: plain(&child_text(item, "title"), usize::MAX),
        summary: description
            .map(|d| plain(&text_of(d), SUMMARY_MAX))
            .unwrap_or_default(),
        published: non_empty(child_text(item, "pubDate"))
            .or_else(|| non_empty(child_text(item, "date"))),
        author: non_empty(child_text(item, "author"))
            .or_else(|| non_empty(child_text(item, "creator"))),
    }
}

/// An Atom element's `alternate` link (a `<link>` without `rel` is one).
fn atom_link(node: roxmltree::Node) -> Option<String> {
    children(node, "link")
        .find(|l| l.attribute("rel").is_none_or(|r| r == "alternate"))
        .and_then(|l| l.attribute("href"))
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

fn atom_entry(entry: roxmltree::Node) -> Item {
    let summary = child(entry, "summary").or_else(|| child(entry, "content"));
    Item {
        id: non_empty(child_text(entry, "id")),
        link: atom_link(entry),
        title: plain(&child_text(entry, "title"), usize::MAX),
        summary: summary
            .map(|s| plain(&text_of(s), SUMMARY_MAX))
            .unwrap_or_default(),
        published: non_empty(child_text(entry, "published"))
            .or_else(|| non_empty(child_text(entry, "updated"))),
        author: child(entry, "author").and_then(|a| non_empty(child_text(a, "name"))),
    }
}

/// HTML (as feeds carry it in descriptions) as plain text: tags dropped, the common
/// entities decoded, white space collapsed, at most `max` characters (an ellipsis ends a
/// shortened one).
pub fn plain(html: &str, max: usize) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let words: Vec<&str> = decoded.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() <= max {
        return joined;
    }
    let mut cut: String = joined.chars().take(max.saturating_sub(1)).collect();
    cut = cut.trim_end().to_string();
    cut.push('…');
    cut
}

/// The keys that name each item of `doc`, in the document's order: `id:` its id, and
/// `link:` its link when no other item of the document has that link (feeds whose items
/// all link to the home page would otherwise make every item look seen). An item with
/// neither is named by its title and date. An item is new when none of its keys was seen.
pub fn keys(doc: &Document) -> Vec<Vec<String>> {
    doc.items
        .iter()
        .map(|item| {
            let mut keys = Vec::new();
            if let Some(id) = &item.id {
                keys.push(format!("id:{id}"));
            }
            if let Some(link) = &item.link {
                let shared = doc
                    .items
                    .iter()
                    .filter(|i| i.link.as_deref() == Some(link))
                    .count()
                    > 1;
                if !shared {
                    keys.push(format!("link:{link}"));
                }
            }
            if keys.is_empty() {
                keys.push(format!(
                    "title:{}|{}",
                    item.title,
                    item.published.as_deref().unwrap_or_default()
                ));
            }
            keys
        })
        .collect()
}

/// What a feed item's template sees: `title`, `link`, `summary`, `published`, `author`,
/// `id` (empty strings when the item has none), and `feed` (`title`, `link`, `url`).
pub fn variables(doc: &Document, item: &Item, url: &str) -> Map<String, Value> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut vars = Map::new();
    vars.insert("title".into(), Value::String(item.title.clone()));
    vars.insert("link".into(), Value::String(text(&item.link)));
    vars.insert("summary".into(), Value::String(item.summary.clone()));
    vars.insert("published".into(), Value::String(text(&item.published)));
    vars.insert("author".into(), Value::String(text(&item.author)));
    vars.insert("id".into(), Value::String(text(&item.id)));
    vars.insert(
        "feed".into(),
        json!({ "title": doc.title, "link": text(&doc.link), "url": url }),
    );
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &str = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
  <title>Octo blog</title><link>https://blog.example.test/</link>
  <item><title>Second &amp; last</title><link>https://blog.example.test/2</link>
    <guid isPermaLink="false">post-2</guid>
    <description><![CDATA[<p>Hello <b>world</b>&nbsp;again</p>]]></description>
    <pubDate>Sun, 06 Dec 2026 10:00:00 GMT</pubDate><dc:creator>Mona</dc:creator></item>
  <item><title>First</title><link>https://blog.example.test/1</link></item>
</channel></rss>"#;

    const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Octo releases</title>
  <link rel="self" href="https://example.test/feed.atom"/>
  <link href="https://example.test/"/>
  <entry><id>urn:uuid:1</id><title type="html">v1 &lt;b&gt;out&lt;/b&gt;</title>
    <link rel="alternate" href="https://example.test/v1"/>
    <updated>2026-12-06T10:00:00Z</updated><summary>Fast.</summary>
    <author><name>Mona</name></author></entry>
</feed>"#;

    #[test]
    fn rss_and_atom_are_read() {
        let rss = parse(RSS).expect("RSS");
        assert_eq!(rss.title, "Octo blog");
        assert_eq!(rss.items.len(), 2);
        let item = &rss.items[0];
        assert_eq!(item.title, "Second & last");
        assert_eq!(item.id.as_deref(), Some("post-2"));
        assert_eq!(item.summary, "Hello world again");
        assert_eq!(item.author.as_deref(), Some("Mona"));
        assert_eq!(rss.items[1].id, None);

        let atom = parse(ATOM).expect("Atom");
        assert_eq!(atom.link.as_deref(), Some("https://example.test/"));
        let entry = &atom.items[0];
        assert_eq!(entry.id.as_deref(), Some("urn:uuid:1"));
        assert_eq!(entry.link.as_deref(), Some("https://example.test/v1"));
        assert_eq!(entry.title, "v1 out");
        assert_eq!(entry.published.as_deref(), Some("2026-12-06T10:00:00Z"));
    }

    #[test]
    fn what_is_not_a_feed_is_an_error() {
        assert!(parse("<rss><channel>").expect_err("broken").contains("XML"));
        assert!(
            parse("<html><body/></html>")
                .expect_err("not a feed")
                .contains("<html>")
        );
        assert!(parse("{\"items\": []}").is_err());
        // A DTD's entities are refused, not expanded.
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss>&a;</rss>"#;
        assert!(parse(bomb).is_err());
    }

    #[test]
    fn items_are_named_by_id_and_unshared_link() {
        let doc = parse(RSS).expect("RSS");
        assert_eq!(
            keys(&doc),
            vec![
                vec![
                    "id:post-2".to_string(),
                    "link:https://blog.example.test/2".into()
                ],
                vec!["link:https://blog.example.test/1".to_string()],
            ]
        );
        let home = |id: &str| Item {
            id: Some(id.into()),
            link: Some("https://home.test/".into()),
            ..Item::default()
        };
        let shared = Document {
            items: vec![home("a"), home("b")],
            ..Document::default()
        };
        assert_eq!(
            keys(&shared),
            vec![vec!["id:a".to_string()], vec!["id:b".into()]]
        );
        let bare = Document {
            items: vec![Item {
                title: "T".into(),
                ..Item::default()
            }],
            ..Document::default()
        };
        assert_eq!(keys(&bare), vec![vec!["title:T|".to_string()]]);
    }

    #[test]
    fn summaries_are_plain_and_short() {
        assert_eq!(plain("<p>a &amp; b</p>\n\n<p>c</p>", 100), "a & b c");
        assert_eq!(plain("abcdef", 4), "abc…");
    }
}
