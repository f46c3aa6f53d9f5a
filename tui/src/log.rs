//! The dashboard's log: a private file, never the screen (the screen is the dashboard).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Appends timestamped lines to a file. Cloning shares the file. A log that cannot be
/// written is silently off: logging must never take the dashboard down.
#[derive(Debug, Clone)]
pub struct Log {
    file: Arc<Mutex<Option<File>>>,
    path: PathBuf,
}

impl Log {
    pub fn open(path: &Path) -> Log {
        let file = path
            .parent()
            .map_or(Ok(()), |dir| {
                postctl_core::fs::create_private_dir(dir).map_err(|_| ())
            })
            .and_then(|()| postctl_core::fs::touch_private(path).map_err(|_| ()))
            .and_then(|()| OpenOptions::new().append(true).open(path).map_err(|_| ()))
            .ok();
        Log {
            file: Arc::new(Mutex::new(file)),
            path: path.to_path_buf(),
        }
    }

    /// A log that writes nowhere (tests, benchmarks).
    pub fn off() -> Log {
        Log {
            file: Arc::new(Mutex::new(None)),
            path: PathBuf::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn info(&self, message: impl AsRef<str>) {
        self.write("info", message.as_ref());
    }

    pub fn error(&self, message: impl AsRef<str>) {
        self.write("error", message.as_ref());
    }

    fn write(&self, level: &str, message: &str) {
        if let Ok(mut file) = self.file.lock()
            && let Some(file) = file.as_mut()
        {
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
            let _ = writeln!(file, "{now} {level} {message}");
        }
    }
}
