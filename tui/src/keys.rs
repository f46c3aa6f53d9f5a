//! Key bindings as data: one table maps keys to actions per context. The same table
//! answers key presses, writes the help overlay and the hint line, and takes the user's
//! overrides from `[tui.keys]` in config.toml (`action = "key, key"`).

use std::collections::BTreeMap;
use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies. Text-entry contexts (compose, prompt, filter) see only their
/// own bindings, so typed letters are text there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Everywhere, even while typing.
    Always,
    /// Every screen that is not taking text.
    Global,
    Calendar,
    Queue,
    Detail,
    Accounts,
    Activity,
    Analytics,
    Approvals,
    Inbox,
    Help,
    Compose,
    /// A one-line question at the bottom (a time, a URL) or the queue filter.
    Prompt,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Always => "Anywhere",
            Context::Global => "Everywhere but text fields",
            Context::Calendar => "Calendar",
            Context::Queue => "Queue",
            Context::Detail => "Post detail",
            Context::Accounts => "Accounts",
            Context::Activity => "Activity",
            Context::Analytics => "Analytics",
            Context::Approvals => "Approvals (the linked server's)",
            Context::Inbox => "Inbox (the linked server's notifications)",
            Context::Help => "Help",
            Context::Compose => "Compose",
            Context::Prompt => "Prompts and the filter",
        }
    }
}

/// Everything a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ForceQuit,
    Quit,
    Help,
    ShowCalendar,
    ShowQueue,
    ShowAccounts,
    ShowActivity,
    ShowAnalytics,
    ShowApprovals,
    ShowInbox,
    MarkRead,
    MarkAllRead,
    NewPost,
    Undo,
    Reload,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Open,
    Back,
    ToggleWeek,
    Today,
    PrevMonth,
    NextMonth,
    NextPost,
    PrevPost,
    MovePost,
    Later,
    Earlier,
    Edit,
    NextTab,
    PrevTab,
    Filter,
    Select,
    SelectAll,
    Cancel,
    Retry,
    Schedule,
    ResolvePublished,
    ResolveNotPublished,
    Verify,
    VerifyAll,
    SaveDraft,
    SchedulePost,
    ExternalEditor,
    NextField,
    PrevField,
    NextPreview,
    AttachMedia,
    Confirm,
    Dismiss,
    Approve,
    Reject,
}

/// One row of the table: an action, its config name, where it applies, its default keys,
/// and what the help says. `hint` puts it on the bottom line of its contexts.
struct Binding {
    action: Action,
    name: &'static str,
    contexts: &'static [Context],
    keys: &'static [&'static str],
    help: &'static str,
    hint: Option<&'static str>,
}

use Context as C;

const LISTS: &[Context] = &[
    C::Calendar,
    C::Queue,
    C::Detail,
    C::Accounts,
    C::Activity,
    C::Analytics,
    C::Approvals,
    C::Inbox,
    C::Help,
];
const POSTS: &[Context] = &[C::Calendar, C::Queue, C::Detail];

#[rustfmt::skip]
const BINDINGS: &[Binding] = &[
    Binding { action: Action::ForceQuit, name: "force_quit", contexts: &[C::Always], keys: &["ctrl-c"], help: "quit, even while typing", hint: None },
    Binding { action: Action::Help, name: "help", contexts: &[C::Global], keys: &["?", "f1"], help: "show or hide this help", hint: Some("help") },
    Binding { action: Action::Quit, name: "quit", contexts: &[C::Global], keys: &["q"], help: "quit", hint: Some("quit") },
    Binding { action: Action::ShowCalendar, name: "calendar", contexts: &[C::Global], keys: &["1"], help: "calendar", hint: None },
    Binding { action: Action::ShowQueue, name: "queue", contexts: &[C::Global], keys: &["2"], help: "queue: upcoming, drafts, failed, uncertain", hint: None },
    Binding { action: Action::ShowAccounts, name: "accounts", contexts: &[C::Global], keys: &["3"], help: "accounts and their health", hint: None },
    Binding { action: Action::ShowActivity, name: "activity", contexts: &[C::Global], keys: &["4"], help: "activity: the live log of changes", hint: None },
    Binding { action: Action::ShowAnalytics, name: "analytics", contexts: &[C::Global], keys: &["5"], help: "analytics: followers, engagement, best times, top posts", hint: None },
    Binding { action: Action::ShowApprovals, name: "approvals", contexts: &[C::Global], keys: &["6"], help: "approvals: the posts waiting for approval on the linked server", hint: None },
    Binding { action: Action::ShowInbox, name: "inbox", contexts: &[C::Global], keys: &["7"], help: "inbox: your notifications from the linked server, unread first", hint: None },
    Binding { action: Action::NewPost, name: "new", contexts: &[C::Global], keys: &["n"], help: "write a new post", hint: Some("new") },
    Binding { action: Action::Undo, name: "undo", contexts: &[C::Global], keys: &["u"], help: "undo the last move, cancel, edit or new post", hint: None },
    Binding { action: Action::Reload, name: "reload", contexts: &[C::Global], keys: &["ctrl-l"], help: "reload from the database and redraw", hint: None },
    Binding { action: Action::Up, name: "up", contexts: LISTS, keys: &["up", "k"], help: "up: previous week, row or line", hint: None },
    Binding { action: Action::Down, name: "down", contexts: LISTS, keys: &["down", "j"], help: "down: next week, row or line", hint: None },
    Binding { action: Action::Left, name: "left", contexts: &[C::Calendar, C::Queue, C::Analytics], keys: &["left", "h"], help: "previous day (calendar), previous tab (queue), previous account (analytics)", hint: None },
    Binding { action: Action::Right, name: "right", contexts: &[C::Calendar, C::Queue, C::Analytics], keys: &["right", "l"], help: "next day (calendar), next tab (queue), next account (analytics)", hint: None },
    Binding { action: Action::PageUp, name: "page_up", contexts: &[C::Queue, C::Accounts, C::Activity, C::Help], keys: &["pageup"], help: "a page up", hint: None },
    Binding { action: Action::PageDown, name: "page_down", contexts: &[C::Queue, C::Accounts, C::Activity, C::Help], keys: &["pagedown"], help: "a page down", hint: None },
    Binding { action: Action::Open, name: "open", contexts: &[C::Calendar, C::Queue, C::Analytics], keys: &["enter"], help: "open the day, or the selected post (its counters curve too)", hint: Some("open") },
    Binding { action: Action::Back, name: "back", contexts: &[C::Calendar, C::Detail, C::Help, C::Queue, C::Analytics], keys: &["esc", "backspace"], help: "back: close the day, the post or the help", hint: None },
    Binding { action: Action::ToggleWeek, name: "week", contexts: &[C::Calendar], keys: &["w"], help: "switch between month and week", hint: Some("month/week") },
    Binding { action: Action::Today, name: "today", contexts: &[C::Calendar], keys: &["t"], help: "go to today", hint: None },
    Binding { action: Action::PrevMonth, name: "prev_month", contexts: &[C::Calendar], keys: &["[", "pageup"], help: "previous month (week in week view)", hint: None },
    Binding { action: Action::NextMonth, name: "next_month", contexts: &[C::Calendar], keys: &["]", "pagedown"], help: "next month (week in week view)", hint: None },
    Binding { action: Action::NextPost, name: "next_post", contexts: &[C::Calendar], keys: &["tab"], help: "select the next post of the day", hint: Some("post") },
    Binding { action: Action::PrevPost, name: "prev_post", contexts: &[C::Calendar], keys: &["backtab"], help: "select the previous post of the day", hint: None },
    Binding { action: Action::MovePost, name: "move", contexts: &[C::Calendar], keys: &["m"], help: "pick up the selected post; move with the arrows, Enter drops it, Esc puts it back", hint: Some("move") },
    Binding { action: Action::Later, name: "later", contexts: POSTS, keys: &["+", ">"], help: "move the selected post(s) a day later", hint: None },
    Binding { action: Action::Earlier, name: "earlier", contexts: POSTS, keys: &["-", "<"], help: "move the selected post(s) a day earlier", hint: None },
    Binding { action: Action::Edit, name: "edit", contexts: POSTS, keys: &["e"], help: "edit the selected post", hint: Some("edit") },
    Binding { action: Action::NextTab, name: "next_tab", contexts: &[C::Queue], keys: &["tab"], help: "next list: upcoming, drafts, failed, uncertain", hint: Some("list") },
    Binding { action: Action::PrevTab, name: "prev_tab", contexts: &[C::Queue], keys: &["backtab"], help: "previous list", hint: None },
    Binding { action: Action::Filter, name: "filter", contexts: &[C::Queue], keys: &["/"], help: "filter: text (fuzzy), @account, #label", hint: Some("filter") },
    Binding { action: Action::Select, name: "select", contexts: &[C::Queue], keys: &["space"], help: "select or unselect the post (act on several)", hint: Some("select") },
    Binding { action: Action::SelectAll, name: "select_all", contexts: &[C::Queue], keys: &["a"], help: "select every post shown, or none", hint: None },
    Binding { action: Action::Cancel, name: "cancel", contexts: POSTS, keys: &["c"], help: "cancel the selected post(s): targets not yet publishing", hint: Some("cancel") },
    Binding { action: Action::Retry, name: "retry", contexts: &[C::Queue, C::Detail], keys: &["r"], help: "retry failed, missed and waiting targets now", hint: Some("retry") },
    Binding { action: Action::Approve, name: "approve", contexts: &[C::Approvals], keys: &["a"], help: "approve the selected post: it goes out at its time", hint: Some("approve") },
    Binding { action: Action::Reject, name: "reject", contexts: &[C::Approvals], keys: &["x"], help: "reject the selected post, with a comment for its author", hint: Some("reject") },
    Binding { action: Action::MarkRead, name: "mark_read", contexts: &[C::Inbox], keys: &["enter", "m"], help: "mark the selected notification read", hint: Some("read") },
    Binding { action: Action::MarkAllRead, name: "mark_all_read", contexts: &[C::Inbox], keys: &["M"], help: "mark every notification read", hint: Some("all read") },
    Binding { action: Action::Schedule, name: "schedule", contexts: &[C::Queue, C::Detail], keys: &["s"], help: "schedule the selected post(s): asks when", hint: Some("schedule") },
    Binding { action: Action::ResolvePublished, name: "resolve_published", contexts: &[C::Detail], keys: &["p"], help: "uncertain target: it was published (asks for the URL)", hint: Some("published") },
    Binding { action: Action::ResolveNotPublished, name: "resolve_not_published", contexts: &[C::Detail], keys: &["N"], help: "uncertain target: it was not published (publish again)", hint: Some("not published") },
    Binding { action: Action::Verify, name: "verify", contexts: &[C::Accounts], keys: &["v"], help: "check the selected account's credentials now", hint: Some("verify") },
    Binding { action: Action::VerifyAll, name: "verify_all", contexts: &[C::Accounts], keys: &["V"], help: "check every account's credentials now", hint: Some("verify all") },
    Binding { action: Action::SaveDraft, name: "save_draft", contexts: &[C::Compose], keys: &["ctrl-s"], help: "save as a draft (or save the changes)", hint: Some("save") },
    Binding { action: Action::SchedulePost, name: "schedule_post", contexts: &[C::Compose], keys: &["ctrl-t"], help: "save and schedule at the time in When", hint: Some("schedule") },
    Binding { action: Action::ExternalEditor, name: "external_editor", contexts: &[C::Compose], keys: &["ctrl-e"], help: "edit the text in $VISUAL or $EDITOR", hint: Some("$EDITOR") },
    Binding { action: Action::NextField, name: "next_field", contexts: &[C::Compose], keys: &["tab"], help: "next field: text, to, when, labels, media", hint: Some("field") },
    Binding { action: Action::PrevField, name: "prev_field", contexts: &[C::Compose], keys: &["backtab"], help: "previous field", hint: None },
    Binding { action: Action::NextPreview, name: "next_preview", contexts: &[C::Compose], keys: &["ctrl-n"], help: "preview the next target's network", hint: Some("preview") },
    Binding { action: Action::AttachMedia, name: "attach_media", contexts: &[C::Compose], keys: &["ctrl-a"], help: "attach a media file (asks for its path)", hint: None },
    Binding { action: Action::Confirm, name: "confirm", contexts: &[C::Prompt], keys: &["enter"], help: "accept", hint: Some("accept") },
    Binding { action: Action::Dismiss, name: "dismiss", contexts: &[C::Prompt, C::Compose], keys: &["esc"], help: "close without saving (Esc twice when there are changes)", hint: Some("close") },
];

/// A key as the table knows it: a code and its modifiers, shift folded into the
/// character for printable keys (crossterm reports `A` as shift+`A`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        match code {
            KeyCode::Char(c) => Key {
                code: KeyCode::Char(c),
                mods: mods - KeyModifiers::SHIFT,
            },
            KeyCode::BackTab => Key {
                code,
                mods: mods - KeyModifiers::SHIFT,
            },
            _ => Key { code, mods },
        }
    }

    pub fn from_event(event: &KeyEvent) -> Key {
        Key::new(event.code, event.modifiers)
    }

    /// Reads "q", "ctrl-s", "shift-left", "enter", "space", "f1", "?".
    pub fn parse(text: &str) -> Result<Key, String> {
        let text = text.trim();
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (prefix, modifier) = if lower.starts_with("ctrl-") {
                ("ctrl-", KeyModifiers::CONTROL)
            } else if lower.starts_with("alt-") {
                ("alt-", KeyModifiers::ALT)
            } else if lower.starts_with("shift-") {
                ("shift-", KeyModifiers::SHIFT)
            } else {
                break;
            };
            // "-" alone is a key, not a separator.
            if rest.len() == prefix.len() {
                break;
            }
            mods |= modifier;
            rest = &rest[prefix.len()..];
        }
        let named = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => Some(KeyCode::Enter),
            "esc" | "escape" => Some(KeyCode::Esc),
            "tab" => Some(KeyCode::Tab),
            "backtab" => Some(KeyCode::BackTab),
            "backspace" => Some(KeyCode::Backspace),
            "delete" | "del" => Some(KeyCode::Delete),
            "insert" => Some(KeyCode::Insert),
            "up" => Some(KeyCode::Up),
            "down" => Some(KeyCode::Down),
            "left" => Some(KeyCode::Left),
            "right" => Some(KeyCode::Right),
            "home" => Some(KeyCode::Home),
            "end" => Some(KeyCode::End),
            "pageup" | "pgup" => Some(KeyCode::PageUp),
            "pagedown" | "pgdn" => Some(KeyCode::PageDown),
            "space" => Some(KeyCode::Char(' ')),
            other => other
                .strip_prefix('f')
                .and_then(|n| n.parse::<u8>().ok())
                .filter(|n| (1..=12).contains(n))
                .map(KeyCode::F),
        };
        let code = match named {
            Some(code) => code,
            None => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => {
                        return Err(format!(
                            "{text:?} is not a key; write e.g. \"q\", \"ctrl-s\", \"shift-left\", \"enter\", \"space\" or \"f1\""
                        ));
                    }
                }
            }
        };
        if code == KeyCode::Tab && mods.contains(KeyModifiers::SHIFT) {
            return Ok(Key::new(KeyCode::BackTab, mods - KeyModifiers::SHIFT));
        }
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The bindings in force: the defaults with the user's overrides applied.
#[derive(Debug, Clone)]
pub struct KeyMap {
    /// In table order, which is also the order of the help.
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    action: Action,
    name: &'static str,
    contexts: &'static [Context],
    keys: Vec<Key>,
    help: &'static str,
    hint: Option<&'static str>,
}

/// One line of the help overlay.
#[derive(Debug, Clone, PartialEq)]
pub struct HelpRow {
    pub keys: String,
    pub name: &'static str,
    pub help: &'static str,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::new(&BTreeMap::new()).0
    }
}

impl KeyMap {
    /// The defaults, with `overrides` (action name to "key, key") replacing an action's
    /// keys. Returns what could not be applied, for the status line; never fails.
    pub fn new(overrides: &BTreeMap<String, String>) -> (KeyMap, Vec<String>) {
        let mut warnings = Vec::new();
        let mut entries: Vec<Entry> = BINDINGS
            .iter()
            .map(|b| Entry {
                action: b.action,
                name: b.name,
                contexts: b.contexts,
                keys: b.keys.iter().filter_map(|k| Key::parse(k).ok()).collect(),
                help: b.help,
                hint: b.hint,
            })
            .collect();
        for (name, keys) in overrides {
            let Some(entry) = entries.iter_mut().find(|e| e.name == name) else {
                warnings.push(format!(
                    "[tui.keys] {name:?} is not an action; see the help (?) for their names"
                ));
                continue;
            };
            let parsed: Result<Vec<Key>, String> = keys
                .split(',')
                .filter(|k| !k.trim().is_empty())
                .map(|k| {
                    // "," itself is written "comma".
                    if k.trim().eq_ignore_ascii_case("comma") {
                        Ok(Key::new(KeyCode::Char(','), KeyModifiers::NONE))
                    } else {
                        Key::parse(k)
                    }
                })
                .collect();
            match parsed {
                Ok(parsed) if !parsed.is_empty() => entry.keys = parsed,
                Ok(_) => warnings.push(format!("[tui.keys] {name} has no keys; kept the default")),
                Err(e) => warnings.push(format!("[tui.keys] {name}: {e}")),
            }
        }
        // A key bound twice in one context answers to the first; say so.
        for (i, entry) in entries.iter().enumerate() {
            for key in &entry.keys {
                if let Some(earlier) = entries[..i].iter().find(|e| {
                    e.keys.contains(key) && e.contexts.iter().any(|c| entry.contexts.contains(c))
                }) {
                    warnings.push(format!(
                        "[tui.keys] {key} is bound to both {} and {}; {} wins",
                        earlier.name, entry.name, earlier.name
                    ));
                }
            }
        }
        (KeyMap { entries }, warnings)
    }

    /// The action `key` does in the first of `contexts` that binds it.
    pub fn action(&self, contexts: &[Context], key: Key) -> Option<Action> {
        contexts.iter().find_map(|context| {
            self.entries
                .iter()
                .find(|e| e.contexts.contains(context) && e.keys.contains(&key))
                .map(|e| e.action)
        })
    }

    /// The first key of `action`, for messages ("press u to undo").
    pub fn key_of(&self, action: Action) -> String {
        self.entries
            .iter()
            .find(|e| e.action == action)
            .and_then(|e| e.keys.first())
            .map(Key::to_string)
            .unwrap_or_else(|| "(unbound)".into())
    }

    /// The help rows of one context, in table order.
    pub fn help(&self, context: Context) -> Vec<HelpRow> {
        self.entries
            .iter()
            .filter(|e| e.contexts.contains(&context))
            .map(|e| HelpRow {
                keys: e
                    .keys
                    .iter()
                    .map(Key::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                name: e.name,
                help: e.help,
            })
            .collect()
    }

    /// "key label" pairs for the bottom line of `contexts`.
    pub fn hints(&self, contexts: &[Context]) -> Vec<(String, &'static str)> {
        // The most general first, so "? help" is never cut off a narrow screen.
        contexts
            .iter()
            .rev()
            .flat_map(|context| {
                self.entries
                    .iter()
                    .filter(move |e| e.contexts.contains(context))
                    .filter_map(|e| Some((e.keys.first()?.to_string(), e.hint?)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        Key::parse(text).expect("a key")
    }

    #[test]
    fn keys_parse_and_print() {
        let cases = [
            ("q", "q"),
            ("Q", "Q"),
            ("ctrl-s", "Ctrl-s"),
            ("Ctrl-Shift-Left", "Ctrl-Shift-←"),
            ("enter", "Enter"),
            ("space", "Space"),
            ("shift-tab", "Shift-Tab"),
            ("-", "-"),
            ("ctrl--", "Ctrl--"),
            ("f1", "F1"),
        ];
        for (text, shown) in cases {
            assert_eq!(key(text).to_string(), shown, "{text}");
        }
        assert!(Key::parse("hello").is_err());
        assert!(Key::parse("f13").is_err());
    }

    #[test]
    fn shifted_letters_match_what_terminals_send() {
        let sent = Key::new(KeyCode::Char('N'), KeyModifiers::SHIFT);
        assert_eq!(sent, key("N"));
        let map = KeyMap::default();
        assert_eq!(
            map.action(&[Context::Detail], sent),
            Some(Action::ResolveNotPublished)
        );
    }

    #[test]
    fn contexts_are_searched_in_order() {
        let map = KeyMap::default();
        let tab = key("tab");
        assert_eq!(
            map.action(&[Context::Calendar, Context::Global], tab),
            Some(Action::NextPost)
        );
        assert_eq!(
            map.action(&[Context::Queue, Context::Global], tab),
            Some(Action::NextTab)
        );
        // Typing "q" in compose is text, not quit.
        assert_eq!(
            map.action(&[Context::Always, Context::Compose], key("q")),
            None
        );
        assert_eq!(
            map.action(&[Context::Always, Context::Compose], key("ctrl-c")),
            Some(Action::ForceQuit)
        );
    }

    #[test]
    fn overrides_replace_defaults_and_bad_ones_are_reported() {
        let overrides: BTreeMap<String, String> = [
            ("move", "M, ctrl-m"),
            ("quit", "x"),
            ("nonsense", "z"),
            ("undo", "ctrl-nothing"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let (map, warnings) = KeyMap::new(&overrides);
        assert_eq!(
            map.action(&[Context::Calendar], key("M")),
            Some(Action::MovePost)
        );
        assert_eq!(map.action(&[Context::Calendar], key("m")), None);
        assert_eq!(map.action(&[Context::Global], key("x")), Some(Action::Quit));
        assert_eq!(map.action(&[Context::Global], key("q")), None);
        assert_eq!(map.action(&[Context::Global], key("u")), Some(Action::Undo));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("nonsense")));
        assert!(warnings.iter().any(|w| w.contains("undo")));
        // The help shows the keys in force.
        let help = map.help(Context::Calendar);
        let row = help.iter().find(|r| r.name == "move").expect("move row");
        assert_eq!(row.keys, "M Ctrl-m");
    }

    #[test]
    fn a_conflicting_override_is_reported() {
        let overrides: BTreeMap<String, String> = [("undo".to_string(), "q".to_string())]
            .into_iter()
            .collect();
        let (_, warnings) = KeyMap::new(&overrides);
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("quit") && w.contains("undo")),
            "{warnings:?}"
        );
    }

    #[test]
    fn the_defaults_have_no_conflicts_and_every_action_a_key() {
        let (map, warnings) = KeyMap::new(&BTreeMap::new());
        assert!(warnings.is_empty(), "{warnings:?}");
        for binding in BINDINGS {
            assert!(
                map.key_of(binding.action) != "(unbound)",
                "{}",
                binding.name
            );
            assert_eq!(
                binding.keys.len(),
                map.entries
                    .iter()
                    .find(|e| e.name == binding.name)
                    .map_or(0, |e| e.keys.len()),
                "{} has a key that does not parse",
                binding.name
            );
        }
    }
}
