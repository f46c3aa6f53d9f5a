//! Private files: postctl's data dir, database and secrets are readable by their owner only.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// The most postctl reads of a text the user hands it (a post, a changelog, a template, a
/// brief), from a file or standard input: far more than any post, and a bound on what
/// `--file /dev/zero` or a mistyped path to a disk image can take.
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024;

/// The limit in words, for messages: "1 MiB".
pub fn describe_limit(bytes: u64) -> String {
    format!("{} MiB", bytes / (1024 * 1024))
}

/// Reads `reader` as UTF-8 text, or `Ok(None)` when it holds more than `limit` bytes (only
/// `limit + 1` bytes are read to find out). Text that is not UTF-8 is an `InvalidData`
/// error, as with `read_to_string`.
pub fn read_text_up_to(reader: impl Read, limit: u64) -> std::io::Result<Option<String>> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(None);
    }
    String::from_utf8(bytes).map(Some).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Creates `dir` and its missing parents with mode 0700.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir, e))
}

/// Creates `path` empty with mode 0600 if it does not exist yet.
pub fn touch_private(path: &Path) -> Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes `bytes` to `path` atomically (a 0600 temp file in the same directory, then rename),
/// so a crash never leaves half a file.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Writes a file a user asked for (a report, an export) by streaming `write` into a temp
/// file beside `path` and renaming it over `path` once all went well: a reader sees the
/// old file or the whole new one, and a failure leaves `path` as it was and no temp file.
/// The file is made 0644 less the umask, like any file the user makes.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(|e| Error::io(path, e))
        .and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            write(&mut out)?;
            let file = out
                .into_inner()
                .map_err(|e| Error::io(path, e.into_error()))?;
            file.sync_all().map_err(|e| Error::io(path, e))?;
            fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
        });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn an_atomic_write_that_fails_halfway_leaves_the_old_file_and_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("report.md");
        fs::write(&path, "the old report").expect("write");
        let failed = write_atomic(&path, |out| {
            out.write_all(b"half of a new rep")
                .map_err(|e| Error::io("x", e))?;
            Err(Error::Internal("the rendering failed".into()))
        });
        assert!(matches!(failed, Err(Error::Internal(_))), "{failed:?}");
        assert_eq!(fs::read_to_string(&path).expect("kept"), "the old report");
        assert!(leftovers(dir.path()).is_empty());

        write_atomic(&path, |out| {
            out.write_all(b"the new report")
                .map_err(|e| Error::io("x", e))
        })
        .expect("written");
        assert_eq!(fs::read_to_string(&path).expect("new"), "the new report");
        assert!(leftovers(dir.path()).is_empty());

        let missing = dir.path().join("no-such-dir").join("report.md");
        let refused = write_atomic(&missing, |_| Ok(()));
        assert!(
            matches!(&refused, Err(Error::Io { path, .. }) if path == &missing),
            "{refused:?}"
        );
    }
}
