//! Drafts in $EDITOR: Markdown with a small front matter (to, at, media, alt, title, labels).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::Command;

use crate::exit::{CliError, CliResult};

/// A draft as the user edits it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DraftDoc {
    pub to: Vec<String>,
    pub at: Option<String>,
    pub media: Vec<PathBuf>,
    pub alt: Vec<String>,
    pub title: Option<String>,
    pub labels: Vec<String>,
    pub body: String,
}

impl DraftDoc {
    pub fn render(&self) -> String {
        let list = |items: &[String]| items.join(", ");
        let mut alt = self.alt.clone();
        while alt.last().is_some_and(String::is_empty) {
            alt.pop();
        }
        let media: Vec<String> = self.media.iter().map(|m| m.display().to_string()).collect();
        format!(
            "---\n\
             # Everything between the --- lines is optional. Lines starting with # are ignored.\n\
             to: {}\n\
             # at: tomorrow 09:00   (schedules the draft; see `postctl help times`)\n\
             at: {}\n\
             media: {}\n\
             # alt: one per media file, separated by |\n\
             alt: {}\n\
             title: {}\n\
             labels: {}\n\
             ---\n{}",
            list(&self.to),
            self.at.as_deref().unwrap_or(""),
            list(&media),
            alt.join(" | "),
            self.title.as_deref().unwrap_or(""),
            list(&self.labels),
            self.body
        )
    }

    /// Reads a draft back. Without a leading `---` line the whole text is the body.
    pub fn parse(text: &str) -> Result<DraftDoc, String> {
        let mut doc = DraftDoc::default();
        let Some(rest) = text.strip_prefix("---\n") else {
            doc.body = text.trim().to_string();
            return Ok(doc);
        };
        let Some((front, body)) = rest
            .split_once("\n---\n")
            .or_else(|| rest.strip_suffix("\n---").map(|front| (front, "")))
        else {
            return Err("the front matter has no closing --- line".into());
        };
        let split = |value: &str| -> Vec<String> {
            value
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        for (number, line) in front.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                return Err(format!(
                    "front matter line {}: {line:?} is not `key: value`",
                    number + 2
                ));
            };
            let value = value.trim();
            let optional = || Some(value.to_string()).filter(|v| !v.is_empty());
            match key.trim() {
                "to" => doc.to = split(value),
                "at" => doc.at = optional(),
                "media" => doc.media = split(value).into_iter().map(PathBuf::from).collect(),
                "alt" => {
                    // Positional: an empty entry is a media file without alt text.
                    doc.alt = value.split('|').map(|a| a.trim().to_string()).collect();
                    while doc.alt.last().is_some_and(String::is_empty) {
                        doc.alt.pop();
                    }
                }
                "title" => doc.title = optional(),
                "labels" => doc.labels = split(value),
                other => {
                    return Err(format!(
                        "front matter line {}: unknown key {other:?}; the keys are to, at, media, alt, title, labels",
                        number + 2
                    ));
                }
            }
        }
        doc.body = body.trim().to_string();
        Ok(doc)
    }
}

/// Opens `initial` in $VISUAL or $EDITOR and returns what the user saved.
pub fn edit(initial: &str) -> CliResult<String> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()));
    let Some(editor) = editor else {
        if std::io::stdin().is_terminal() {
            return Err(CliError::usage(
                "no editor: set $EDITOR (e.g. `export EDITOR=nano`), or give the text as an argument",
            ));
        }
        return Err(CliError::usage(
            "no editor and stdin is not a terminal: set $EDITOR, or give the text as an argument (- reads stdin)",
        ));
    };
    let file = tempfile::Builder::new()
        .prefix("postctl-draft-")
        .suffix(".md")
        .tempfile()
        .map_err(|e| {
            CliError::failure(format!(
                "cannot create a temporary file for the editor: {e}"
            ))
        })?;
    std::fs::write(file.path(), initial)
        .map_err(|e| CliError::failure(format!("cannot write {}: {e}", file.path().display())))?;
    // Through the shell, so EDITOR="code --wait" works as it does for git.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status()
        .map_err(|e| CliError::failure(format!("cannot run the editor {editor:?}: {e}")))?;
    if !status.success() {
        return Err(CliError::failure(format!(
            "the editor {editor:?} exited with {status}; nothing was saved"
        )));
    }
    let limit = postctl_core::fs::MAX_TEXT_BYTES;
    std::fs::File::open(file.path())
        .and_then(|f| postctl_core::fs::read_text_up_to(f, limit))
        .map_err(|e| CliError::failure(format!("cannot read the edited draft: {e}")))?
        .ok_or_else(|| {
            CliError::usage(format!(
                "the edited draft is larger than {}, the most postctl reads as a text; nothing was saved",
                postctl_core::fs::describe_limit(limit)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_draft_parses_back() {
        let doc = DraftDoc {
            to: vec!["masto".into(), "bsky".into()],
            at: Some("tomorrow 09:00".into()),
            media: vec![PathBuf::from("shot.png")],
            alt: vec!["the new settings page".into()],
            title: Some("Launch".into()),
            labels: vec!["release".into()],
            body: "Hello world\n\nSecond paragraph".into(),
        };
        assert_eq!(DraftDoc::parse(&doc.render()), Ok(doc));
    }

    #[test]
    fn front_matter_cases() {
        type Expected<'a> = Result<(&'a str, &'a [&'a str]), &'a str>;
        let cases: &[(&str, Expected<'_>)] = &[
            ("Just text\n", Ok(("Just text", &[]))),
            ("---\nto: a, b\n---\nHi", Ok(("Hi", &["a", "b"]))),
            ("---\nto: a\n---\n", Ok(("", &["a"]))),
            ("---\nto: a\nHi", Err("no closing ---")),
            ("---\ncolour: red\n---\nHi", Err("unknown key \"colour\"")),
            ("---\nto a\n---\nHi", Err("is not `key: value`")),
        ];
        for (text, expected) in cases {
            match (DraftDoc::parse(text), expected) {
                (Ok(doc), Ok((body, to))) => {
                    assert_eq!(doc.body, *body, "{text}");
                    assert_eq!(doc.to, *to, "{text}");
                }
                (Err(e), Err(part)) => assert!(e.contains(part), "{text}: {e}"),
                (got, _) => panic!("{text}: unexpected {got:?}"),
            }
        }
    }
}
