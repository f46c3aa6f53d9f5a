//! `postctl` in a real terminal: a pseudo-terminal driven by writing keys to it and read
//! through a VT100 screen parser, as a terminal shows it (the dashboard tests, and any test
//! that checks what a user sees there).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize};

use super::{Env, postctl_bin};

/// `postctl` in a pseudo-terminal of its own, and the screen it draws.
pub struct Terminal {
    screen: Arc<Mutex<vt100::Parser>>,
    keyboard: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Terminal {
    /// Starts `postctl` with no arguments (on a terminal it opens the dashboard), with the
    /// environment's own variables, as every `Env::run` gets them.
    pub fn start(env: &Env, width: u16, height: u16) -> Terminal {
        Terminal::start_with(env, width, height, &[])
    }

    /// [`Terminal::start`] with more variables (`POSTCTL_NOW` to pin another moment).
    pub fn start_with(env: &Env, width: u16, height: u16, more: &[(&str, &str)]) -> Terminal {
        let pair = portable_pty::native_pty_system()
            .openpty(PtySize {
                rows: height,
                cols: width,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(postctl_bin());
        command.cwd(env.root());
        command.env_clear();
        command.env("TERM", "xterm-256color");
        command.env("PATH", std::env::var("PATH").unwrap_or_default());
        for (key, value) in env.vars() {
            command.env(key, value);
        }
        for (key, value) in more {
            command.env(key, value);
        }
        let child = pair.slave.spawn_command(command).expect("postctl starts");
        drop(pair.slave);

        let size = |n: u16| std::num::NonZeroU16::new(n).expect("a terminal has rows and columns");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(size(height), size(width), 0)));
        let keyboard = Arc::new(Mutex::new(pair.master.take_writer().expect("a writer")));
        let mut output = pair.master.try_clone_reader().expect("a reader");
        let reader = {
            let screen = Arc::clone(&screen);
            let keyboard = Arc::clone(&keyboard);
            // The master end must outlive the child, or the child sees a hang-up.
            let master = pair.master;
            std::thread::spawn(move || {
                let _master = master;
                let mut buffer = [0u8; 8192];
                loop {
                    let read = match output.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(read) => read,
                    };
                    let bytes = &buffer[..read];
                    let mut parser = screen.lock().expect("screen lock");
                    parser.process(bytes);
                    // Answer a cursor position query, as a terminal does.
                    if bytes.windows(4).any(|w| w == b"\x1b[6n") {
                        let (row, col) = parser.screen().cursor_position();
                        let answer = format!("\x1b[{};{}R", row + 1, col + 1);
                        let _ = keyboard
                            .lock()
                            .expect("keyboard lock")
                            .write_all(answer.as_bytes());
                    }
                }
            })
        };
        Terminal {
            screen,
            keyboard,
            child,
            reader: Some(reader),
        }
    }

    pub fn screen(&self) -> String {
        self.screen.lock().expect("screen lock").screen().contents()
    }

    pub fn send(&self, bytes: &[u8]) {
        let mut keyboard = self.keyboard.lock().expect("keyboard lock");
        keyboard.write_all(bytes).expect("the terminal takes keys");
        keyboard.flush().expect("the terminal takes keys");
    }

    /// Named keys ("Enter", "Tab", "Right", "C-s") or single characters, one write each,
    /// with a pause so the program never reads Esc and the next key as one Alt chord.
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            let bytes: &[u8] = match *key {
                "Enter" => b"\r",
                "Tab" => b"\t",
                "Space" => b" ",
                "Right" => b"\x1b[C",
                "Left" => b"\x1b[D",
                "Up" => b"\x1b[A",
                "Down" => b"\x1b[B",
                "Escape" => b"\x1b",
                "C-s" => b"\x13",
                "C-c" => b"\x03",
                single if single.chars().count() == 1 => single.as_bytes(),
                other => panic!("the test does not know the key {other:?}"),
            };
            self.send(bytes);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Text, typed literally.
    pub fn text(&self, text: &str) {
        self.send(text.as_bytes());
        std::thread::sleep(Duration::from_millis(60));
    }

    /// Waits until the screen shows every one of `needles`; panics with the screen if not.
    pub fn wait_for(&self, needles: &[&str], within: Duration) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            if started.elapsed() > within {
                panic!("waited {within:?} for {needles:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for postctl to exit and for its last output to reach the screen; its exit code.
    pub fn wait_for_exit(&mut self, within: Duration) -> u32 {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return status.exit_code();
            }
            assert!(
                started.elapsed() < within,
                "postctl did not quit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the program has the alternate screen (a full-screen program's own).
    pub fn alternate_screen(&self) -> bool {
        self.screen
            .lock()
            .expect("screen lock")
            .screen()
            .alternate_screen()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
