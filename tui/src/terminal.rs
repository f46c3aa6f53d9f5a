//! The real terminal: raw mode and the alternate screen, restored on exit, on error and
//! on panic; the event loop that blocks on input with a timeout, polls the database for
//! other processes' changes, and redraws only when something changed.

use std::collections::VecDeque;
use std::io::{self, Stdout};
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent,
};
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};

use postctl_core::fs::{MAX_TEXT_BYTES, describe_limit, read_text_up_to};

use crate::app::data::Window;
use crate::app::{self, Effect, Event, State};
use crate::log::Log;
use crate::runtime::Runtime;
use crate::views;

/// How often the database is checked for other processes' changes and the clock read.
const POLL: Duration = Duration::from_millis(250);
/// How often the inbox view asks the worker to read the server's inbox again while it is
/// shown.
const INBOX_REFRESH: Duration = Duration::from_secs(10);

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// The clock: the system's, or one pinned by POSTCTL_NOW.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Pinned(DateTime<Utc>),
}

impl Clock {
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Pinned(at) => at,
        }
    }
}

/// What the editor saved at `path`, read as `post --file` reads a text: up to
/// [`MAX_TEXT_BYTES`], so a file the editor (or a mistake) made huge cannot take the
/// dashboard's memory.
fn read_edited(path: &std::path::Path) -> Result<String, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read what the editor saved: {e}"))?;
    read_text_up_to(file, MAX_TEXT_BYTES)
        .map_err(|e| format!("cannot read what the editor saved: {e}"))?
        .ok_or_else(|| {
            format!(
                "the editor saved more than {}, the most postctl reads as a text; the text is unchanged",
                describe_limit(MAX_TEXT_BYTES)
            )
        })
}

/// Puts the terminal in raw mode on the alternate screen; `restore` undoes it.
pub fn enter(mouse: bool) -> io::Result<Term> {
    enable_raw_mode()?;
    let mut stdout = io::stdout();
    execute!(stdout, EnterAlternateScreen)?;
    if mouse {
        execute!(stdout, EnableMouseCapture)?;
    }
    Terminal::new(CrosstermBackend::new(stdout))
}

/// Gives the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// Restores the terminal before a panic's message is printed, and logs the panic.
pub fn install_panic_hook(log: Log) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        log.error(format!("panic: {info}"));
        previous(info);
    }));
}

/// Restores the terminal when the loop ends by an error too.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// How long redraws took, logged at exit: from the event to the frame on the terminal,
/// and of that the drawing of the view into ratatui's buffer.
#[derive(Debug, Default)]
struct FrameTimes {
    total: Vec<Duration>,
    view: Vec<Duration>,
}

impl FrameTimes {
    fn summary(&mut self) -> String {
        if self.total.is_empty() {
            return "redraws: none".into();
        }
        let stats = |samples: &mut Vec<Duration>| {
            samples.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
            format!(
                "median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
                ms(at(0.5)),
                ms(at(0.95)),
                ms(at(1.0))
            )
        };
        format!(
            "redraws: {}; event to frame {}; drawing the view {}",
            self.total.len(),
            stats(&mut self.total),
            stats(&mut self.view)
        )
    }
}

/// What the loop works with besides the state.
pub struct Session<'a> {
    pub terminal: &'a mut Term,
    pub runtime: &'a mut Runtime,
    pub clock: Clock,
    pub mouse: bool,
    pub log: &'a Log,
}

/// Runs the dashboard until the user quits; `started` is when it began (for the first
/// frame's time).
pub fn run(session: &mut Session<'_>, state: &mut State, started: Instant) -> io::Result<()> {
    // The first frame: read the posts, draw; then the activity backlog.
    let window = Window::around(state.calendar.cursor, state.tz);
    let first = session.runtime.load(None, window, session.clock.now());
    session.process(state, first)?;
    session.terminal.draw(|frame| views::draw(frame, state))?;
    session.log.info(format!(
        "first frame after {:.1} ms (open, read, draw)",
        started.elapsed().as_secs_f64() * 1000.0
    ));
    let backlog = session.runtime.activity(0);
    session.process(state, backlog)?;
    session.terminal.draw(|frame| views::draw(frame, state))?;
    let mut frames = FrameTimes::default();
    let mut last_poll = Instant::now();
    let mut inbox_read = Instant::now();
    loop {
        if state.quit {
            session.log.info(frames.summary());
            return Ok(());
        }
        let mut events = Vec::new();
        let wait = POLL.saturating_sub(last_poll.elapsed());
        if event::poll(wait)? {
            // Take everything queued (key repeat, a paste, a drag) before drawing once.
            loop {
                match event::read()? {
                    TermEvent::Key(key) => events.push(Event::Key(key)),
                    TermEvent::Mouse(m) => events.push(Event::Mouse(m)),
                    TermEvent::Resize(width, height) => {
                        events.push(Event::Resize { width, height })
                    }
                    _ => {}
                }
                if !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        if last_poll.elapsed() >= POLL {
            last_poll = Instant::now();
            let now = session.clock.now();
            if session.runtime.changed_elsewhere() {
                let window = Window::around(state.calendar.cursor, state.tz);
                events.push(
                    session
                        .runtime
                        .load(Some(state.activity.last_seq), window, now),
                );
            }
            if now.minute() != state.now.minute() || (now - state.now).num_minutes().abs() >= 1 {
                events.push(Event::Tick(now));
            }
            if state.view != crate::app::state::View::Inbox {
                inbox_read = Instant::now();
            } else if inbox_read.elapsed() >= INBOX_REFRESH {
                inbox_read = Instant::now();
                events.push(Event::InboxDue);
            }
        }
        events.extend(session.runtime.worker_events());
        if events.is_empty() {
            continue;
        }
        // From here on it is work, not waiting: the events' handling and the frame.
        let handling = Instant::now();
        for event in events {
            session.process(state, event)?;
        }
        if !state.quit {
            let mut view = Duration::ZERO;
            session.terminal.draw(|frame| {
                let drawing = Instant::now();
                views::draw(frame, state);
                view = drawing.elapsed();
            })?;
            let took = handling.elapsed();
            frames.total.push(took);
            frames.view.push(view);
            if took > Duration::from_millis(50) {
                session
                    .log
                    .info(format!("slow frame: {:.1} ms", took.as_secs_f64() * 1000.0));
            }
        }
    }
}

impl Session<'_> {
    /// Applies an event and carries out its effects, feeding their results back in.
    fn process(&mut self, state: &mut State, event: Event) -> io::Result<()> {
        let mut queue = VecDeque::from([event]);
        while let Some(event) = queue.pop_front() {
            for effect in app::update(state, event) {
                match effect {
                    Effect::ExternalEditor(text) => {
                        let result = edit_externally(self.terminal, &text, self.mouse, self.log)?;
                        queue.push_back(Event::EditorClosed(result));
                    }
                    other => queue.extend(self.runtime.execute(other, self.clock.now())),
                }
            }
        }
        Ok(())
    }
}

/// Suspends the dashboard, edits `text` in $VISUAL or $EDITOR (through the shell, so
/// EDITOR="code --wait" works), and comes back.
fn edit_externally(
    terminal: &mut Term,
    text: &str,
    mouse: bool,
    log: &Log,
) -> io::Result<Result<String, String>> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()));
    let Some(editor) = editor else {
        return Ok(Err(
            "no editor: set $EDITOR (e.g. `export EDITOR=nano`) and start postctl tui again".into(),
        ));
    };
    let file = match tempfile::Builder::new()
        .prefix("postctl-post-")
        .suffix(".md")
        .tempfile()
    {
        Ok(file) => file,
        Err(e) => return Ok(Err(format!("cannot create a file for the editor: {e}"))),
    };
    if let Err(e) = std::fs::write(file.path(), text) {
        return Ok(Err(format!("cannot write {}: {e}", file.path().display())));
    }
    restore();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status();
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen)?;
    if mouse {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    terminal.clear()?;
    Ok(match status {
        Ok(status) if status.success() => read_edited(file.path()),
        Ok(status) => Err(format!(
            "the editor {editor:?} exited with {status}; the text is unchanged"
        )),
        Err(e) => {
            log.error(format!("editor {editor:?}: {e}"));
            Err(format!("cannot run the editor {editor:?}: {e}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The editor's file is read as `post --file` reads one: a text past the limit is
    /// refused, not read whole.
    #[test]
    fn what_the_editor_saved_is_read_up_to_the_text_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fits = dir.path().join("fits.md");
        std::fs::write(&fits, "Shipped v1.2").expect("write");
        assert_eq!(read_edited(&fits), Ok("Shipped v1.2".to_string()));
        let huge = dir.path().join("huge.md");
        let size = usize::try_from(MAX_TEXT_BYTES).expect("a size") + 1;
        std::fs::write(&huge, "a".repeat(size)).expect("write");
        // (Only the length is shown on failure: the text is a megabyte.)
        let refused = read_edited(&huge).map(|text| text.len());
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("more than 1 MiB")),
            "{refused:?}"
        );
    }
}
