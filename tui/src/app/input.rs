//! Text being typed: a one-line field and a multi-line editor. Cursors count characters,
//! never bytes, so no edit can split a UTF-8 sequence.

use ratatui::crossterm::event::{KeyCode, KeyModifiers};

/// What an editing key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edited {
    /// The text changed.
    Changed,
    /// Only the cursor moved.
    Moved,
    /// Not an editing key.
    Ignored,
}

/// A one-line field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    pub text: String,
    /// In characters.
    pub cursor: usize,
}

impl LineInput {
    pub fn new(text: &str) -> LineInput {
        LineInput {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    fn byte(&self, chars: usize) -> usize {
        byte_index(&self.text, chars)
    }

    pub fn key(&mut self, code: KeyCode, mods: KeyModifiers) -> Edited {
        let len = self.text.chars().count();
        match code {
            KeyCode::Char(c) if !mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                let at = self.byte(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
                Edited::Changed
            }
            KeyCode::Char('u') if mods.contains(KeyModifiers::CONTROL) => {
                let at = self.byte(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
                Edited::Changed
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let (from, to) = (self.byte(self.cursor - 1), self.byte(self.cursor));
                self.text.replace_range(from..to, "");
                self.cursor -= 1;
                Edited::Changed
            }
            KeyCode::Delete if self.cursor < len => {
                let (from, to) = (self.byte(self.cursor), self.byte(self.cursor + 1));
                self.text.replace_range(from..to, "");
                Edited::Changed
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                Edited::Moved
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(len);
                Edited::Moved
            }
            KeyCode::Home => {
                self.cursor = 0;
                Edited::Moved
            }
            KeyCode::End => {
                self.cursor = len;
                Edited::Moved
            }
            _ => Edited::Ignored,
        }
    }
}

/// A multi-line editor: lines without their newlines, and a cursor (line, character).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextArea {
    pub lines: Vec<String>,
    pub row: usize,
    pub col: usize,
}

impl Default for TextArea {
    fn default() -> Self {
        TextArea {
            lines: vec![String::new()],
            row: 0,
            col: 0,
        }
    }
}

impl TextArea {
    /// The editor over `text`, the cursor at its end.
    pub fn new(text: &str) -> TextArea {
        let mut lines: Vec<String> = text
            .replace("\r\n", "\n")
            .split('\n')
            .map(String::from)
            .collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        let row = lines.len() - 1;
        let col = lines[row].chars().count();
        TextArea { lines, row, col }
    }

    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    fn line_len(&self, row: usize) -> usize {
        self.lines.get(row).map_or(0, |l| l.chars().count())
    }

    pub fn key(&mut self, code: KeyCode, mods: KeyModifiers) -> Edited {
        let ctrl = mods.contains(KeyModifiers::CONTROL);
        match code {
            KeyCode::Char(c) if !mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                let line = &mut self.lines[self.row];
                let at = byte_index(line, self.col);
                line.insert(at, c);
                self.col += 1;
                Edited::Changed
            }
            KeyCode::Enter => {
                let line = &mut self.lines[self.row];
                let at = byte_index(line, self.col);
                let rest = line.split_off(at);
                self.lines.insert(self.row + 1, rest);
                self.row += 1;
                self.col = 0;
                Edited::Changed
            }
            KeyCode::Backspace => {
                if self.col > 0 {
                    let line = &mut self.lines[self.row];
                    let (from, to) = (byte_index(line, self.col - 1), byte_index(line, self.col));
                    line.replace_range(from..to, "");
                    self.col -= 1;
                    Edited::Changed
                } else if self.row > 0 {
                    let line = self.lines.remove(self.row);
                    self.row -= 1;
                    self.col = self.line_len(self.row);
                    self.lines[self.row].push_str(&line);
                    Edited::Changed
                } else {
                    Edited::Moved
                }
            }
            KeyCode::Delete => {
                if self.col < self.line_len(self.row) {
                    let line = &mut self.lines[self.row];
                    let (from, to) = (byte_index(line, self.col), byte_index(line, self.col + 1));
                    line.replace_range(from..to, "");
                    Edited::Changed
                } else if self.row + 1 < self.lines.len() {
                    let next = self.lines.remove(self.row + 1);
                    self.lines[self.row].push_str(&next);
                    Edited::Changed
                } else {
                    Edited::Moved
                }
            }
            KeyCode::Left if ctrl => {
                self.word_left();
                Edited::Moved
            }
            KeyCode::Right if ctrl => {
                self.word_right();
                Edited::Moved
            }
            KeyCode::Left => {
                if self.col > 0 {
                    self.col -= 1;
                } else if self.row > 0 {
                    self.row -= 1;
                    self.col = self.line_len(self.row);
                }
                Edited::Moved
            }
            KeyCode::Right => {
                if self.col < self.line_len(self.row) {
                    self.col += 1;
                } else if self.row + 1 < self.lines.len() {
                    self.row += 1;
                    self.col = 0;
                }
                Edited::Moved
            }
            KeyCode::Up => {
                self.row = self.row.saturating_sub(1);
                self.col = self.col.min(self.line_len(self.row));
                Edited::Moved
            }
            KeyCode::Down => {
                self.row = (self.row + 1).min(self.lines.len() - 1);
                self.col = self.col.min(self.line_len(self.row));
                Edited::Moved
            }
            KeyCode::Home => {
                self.col = 0;
                Edited::Moved
            }
            KeyCode::End => {
                self.col = self.line_len(self.row);
                Edited::Moved
            }
            _ => Edited::Ignored,
        }
    }

    fn word_left(&mut self) {
        let chars: Vec<char> = self.lines[self.row].chars().collect();
        let mut col = self.col.min(chars.len());
        while col > 0 && chars[col - 1].is_whitespace() {
            col -= 1;
        }
        while col > 0 && !chars[col - 1].is_whitespace() {
            col -= 1;
        }
        self.col = col;
    }

    fn word_right(&mut self) {
        let chars: Vec<char> = self.lines[self.row].chars().collect();
        let mut col = self.col.min(chars.len());
        while col < chars.len() && !chars[col].is_whitespace() {
            col += 1;
        }
        while col < chars.len() && chars[col].is_whitespace() {
            col += 1;
        }
        self.col = col;
    }
}

/// The byte offset of character `chars` in `s` (its length past the end).
fn byte_index(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_keys(area: &mut TextArea, keys: &[KeyCode]) {
        for key in keys {
            area.key(*key, KeyModifiers::NONE);
        }
    }

    #[test]
    fn typing_newlines_and_backspace_across_lines() {
        let mut area = TextArea::default();
        type_keys(
            &mut area,
            &[
                KeyCode::Char('h'),
                KeyCode::Char('é'),
                KeyCode::Enter,
                KeyCode::Char('x'),
            ],
        );
        assert_eq!(area.text(), "hé\nx");
        type_keys(&mut area, &[KeyCode::Left, KeyCode::Backspace]);
        assert_eq!(area.text(), "héx");
        assert_eq!((area.row, area.col), (0, 2));
        type_keys(&mut area, &[KeyCode::Delete, KeyCode::Delete]);
        assert_eq!(area.text(), "hé");
    }

    #[test]
    fn cursor_stays_inside_lines() {
        let mut area = TextArea::new("long line\nab");
        assert_eq!((area.row, area.col), (1, 2));
        type_keys(&mut area, &[KeyCode::Up, KeyCode::End, KeyCode::Down]);
        assert_eq!((area.row, area.col), (1, 2));
        type_keys(&mut area, &[KeyCode::Right, KeyCode::Right]);
        assert_eq!((area.row, area.col), (1, 2));
        area.key(KeyCode::Left, KeyModifiers::CONTROL);
        assert_eq!(area.col, 0);
    }

    #[test]
    fn line_input_edits_by_character() {
        let mut input = LineInput::new("tomorrow 9am");
        input.key(KeyCode::Backspace, KeyModifiers::NONE);
        input.key(KeyCode::Backspace, KeyModifiers::NONE);
        input.key(KeyCode::Char('p'), KeyModifiers::NONE);
        input.key(KeyCode::Char('m'), KeyModifiers::NONE);
        assert_eq!(input.text, "tomorrow 9pm");
        input.key(KeyCode::Home, KeyModifiers::NONE);
        input.key(KeyCode::Delete, KeyModifiers::NONE);
        assert_eq!(input.text, "omorrow 9pm");
        input.key(KeyCode::End, KeyModifiers::NONE);
        input.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
        assert_eq!(input.text, "");
        assert_eq!(
            input.key(KeyCode::Char('s'), KeyModifiers::CONTROL),
            Edited::Ignored
        );
    }
}
