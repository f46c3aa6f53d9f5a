//! Compose and edit: the fields being written, and what they mean, derived after every
//! change (the parsed time, each target's length counted its network's way, the thread
//! the previewed network would receive).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use postctl_core::model::{Account, MediaRef, Post, Schedule, ThreadMode};
use postctl_core::network::Network;
use postctl_core::platforms::Capabilities;
use postctl_core::publish::preview;
use postctl_core::text::fit;
use postctl_core::time::{Disambiguation, ParseContext, parse_when};

use super::input::{LineInput, TextArea};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Body,
    To,
    When,
    Labels,
    Media,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Body,
        Field::To,
        Field::When,
        Field::Labels,
        Field::Media,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Field::Body => "Text",
            Field::To => "To",
            Field::When => "When",
            Field::Labels => "Labels",
            Field::Media => "Media",
        }
    }
}

/// One account the post may go to.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub name: String,
    pub network: Network,
    pub checked: bool,
}

/// How the text measures on one checked account.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// The networks' limits are still being read.
    Pending,
    /// postctl cannot say (no secret, a network it cannot publish to yet).
    Unavailable(String),
    Measured {
        length: usize,
        max: usize,
        fits: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Counter {
    pub account: String,
    pub network: Network,
    pub measure: Measure,
}

/// What the previewed account would receive: each part's text and length, or why the
/// post cannot go there as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub account: String,
    pub parts: Result<Vec<(String, usize)>, String>,
}

#[derive(Debug, Clone)]
pub struct Compose {
    /// The post being edited; `None` for a new one.
    pub post_id: Option<String>,
    /// The post as it was when opened, for undo.
    pub original: Option<Post>,
    pub body: TextArea,
    pub to: Vec<Choice>,
    pub to_cursor: usize,
    pub when: LineInput,
    pub labels: LineInput,
    pub media: Vec<MediaRef>,
    pub media_cursor: usize,
    pub focus: Field,
    /// Which checked account the preview shows.
    pub preview_index: usize,
    pub dirty: bool,
    /// Esc was pressed once with unsaved changes.
    pub discard_armed: bool,
    // Derived by `refresh`:
    pub parsed_when: Option<Result<DateTime<Utc>, String>>,
    pub counters: Vec<Counter>,
    pub preview: Option<Preview>,
}

impl Compose {
    /// A new post to `default_to` (names of accounts or groups already resolved to accounts).
    pub fn new_post(accounts: &[Account], default_to: &[String]) -> Compose {
        Compose {
            post_id: None,
            original: None,
            body: TextArea::default(),
            to: choices(accounts, |a| default_to.contains(&a.name)),
            to_cursor: 0,
            when: LineInput::default(),
            labels: LineInput::default(),
            media: Vec::new(),
            media_cursor: 0,
            focus: Field::Body,
            preview_index: 0,
            dirty: false,
            discard_armed: false,
            parsed_when: None,
            counters: Vec::new(),
            preview: None,
        }
    }

    /// `post`, open for editing; its time shown in `tz` in a form `parse_when` reads back.
    pub fn edit(post: &Post, accounts: &[Account], tz: Tz) -> Compose {
        let when = match (&post.schedule, post.due) {
            (Schedule::None, _) | (_, None) => String::new(),
            (_, Some(due)) => due.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        };
        Compose {
            post_id: Some(post.id.clone()),
            original: Some(post.clone()),
            body: TextArea::new(&post.body),
            to: choices(accounts, |a| {
                post.targets.iter().any(|t| t.account == a.name)
            }),
            when: LineInput::new(&when),
            labels: LineInput::new(&post.labels.join(", ")),
            media: post.media.clone(),
            ..Compose::new_post(&[], &[])
        }
    }

    pub fn checked(&self) -> impl Iterator<Item = &Choice> {
        self.to.iter().filter(|c| c.checked)
    }

    pub fn label_list(&self) -> Vec<String> {
        self.labels
            .text
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(|l| l.trim().trim_start_matches('#'))
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    /// Recomputes what the fields mean: the time, the counters and the preview.
    pub fn refresh(
        &mut self,
        capabilities: &HashMap<String, Result<Capabilities, String>>,
        now: DateTime<Utc>,
        tz: Tz,
    ) {
        let when = self.when.text.trim();
        self.parsed_when = (!when.is_empty()).then(|| {
            let cx = ParseContext {
                now,
                tz,
                disambiguation: Disambiguation::Reject,
            };
            parse_when(when, &cx).map_err(|e| e.to_string())
        });
        let body = self.body.text();
        self.counters = self
            .checked()
            .map(|choice| Counter {
                account: choice.name.clone(),
                network: choice.network,
                measure: match capabilities.get(&choice.name) {
                    None => Measure::Pending,
                    Some(Err(e)) => Measure::Unavailable(e.clone()),
                    Some(Ok(caps)) => {
                        let measured = fit(&body, caps.limit, caps.format);
                        Measure::Measured {
                            length: measured.length,
                            max: measured.max,
                            fits: measured.fits,
                        }
                    }
                },
            })
            .collect();
        let count = self.counters.len();
        if count == 0 {
            self.preview = None;
            return;
        }
        self.preview_index %= count;
        let account = self.counters[self.preview_index].account.clone();
        self.preview = match capabilities.get(&account) {
            Some(Ok(caps)) => Some(Preview {
                parts: preview_parts(&body, caps),
                account,
            }),
            Some(Err(e)) => Some(Preview {
                account,
                parts: Err(e.clone()),
            }),
            None => None,
        };
    }
}

fn choices(accounts: &[Account], checked: impl Fn(&Account) -> bool) -> Vec<Choice> {
    accounts
        .iter()
        .map(|a| Choice {
            name: a.name.clone(),
            network: a.network,
            checked: checked(a),
        })
        .collect()
}

/// The parts `body` becomes on a network, rendered as it receives them.
fn preview_parts(body: &str, caps: &Capabilities) -> Result<Vec<(String, usize)>, String> {
    if body.trim().is_empty() {
        return Ok(Vec::new());
    }
    Ok(preview::parts(body, caps, ThreadMode::Auto)?
        .into_iter()
        .map(|part| (part.text, part.length))
        .collect())
}
