//! Headless Chromium for the tests that look at a page as people see it, kept off the
//! network ("tests/" in docs/ARCHITECTURE.md): every request it would make goes to a proxy
//! on a closed loopback port, and names resolve to nothing but loopback.
//!
//! The browser is found as `$POSTCTL_CHROMIUM`, else `chromium`, `chromium-browser`,
//! `google-chrome` or `google-chrome-stable` on PATH (`.ci/run` installs Debian's
//! `chromium`). When it is missing, [`Chromium::find`] prints a loud SKIP and returns
//! `None`; with `CI=true` it fails instead, so CI cannot pass without running these tests.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a screenshot may take before the browser is stopped and the test fails.
const TIMEOUT: Duration = Duration::from_secs(90);

pub struct Chromium {
    bin: PathBuf,
    /// Its profile and the screenshots: removed when dropped.
    dir: TempDir,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A loopback port nothing listens on: bound, then let go.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Chromium {
    /// The browser, or a loud SKIP for `test` (a failure with `CI=true`).
    pub fn find(test: &str) -> Option<Chromium> {
        let bin = std::env::var_os("POSTCTL_CHROMIUM")
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .or_else(|| {
                [
                    "chromium",
                    "chromium-browser",
                    "google-chrome",
                    "google-chrome-stable",
                ]
                .into_iter()
                .find_map(on_path)
            });
        let Some(bin) = bin else {
            let message = format!(
                "SKIP {test}: Chromium is not available (none of chromium, chromium-browser, google-chrome on PATH, and no POSTCTL_CHROMIUM); install it (Debian: apt-get install chromium) to run the browser tests"
            );
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{message}. With CI=true a skipped browser test is a failure.");
            }
            eprintln!("\n{}\n!!! {message}\n{}\n", "!".repeat(78), "!".repeat(78));
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("postctl-chromium-")
            .tempdir()
            .expect("a temporary directory");
        Some(Chromium { bin, dir })
    }

    /// Opens `page` (a local file) in a `width` × `height` window and returns the path of
    /// its screenshot (a PNG).
    pub fn screenshot(&self, page: &Path, width: u32, height: u32) -> PathBuf {
        let shot = self.dir.path().join(format!("shot-{width}x{height}.png"));
        let profile = self.dir.path().join("profile");
        let proxy = format!("127.0.0.1:{}", closed_port());
        let page = std::fs::canonicalize(page).expect("the page exists");
        let mut child = Command::new(&self.bin)
            .args([
                "--headless",
                // Root (CI, containers) cannot use the sandbox's user namespaces.
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-breakpad",
                "--metrics-recording-only",
                "--mute-audio",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                // Every request goes to a closed port, loopback too, and no name resolves.
                &format!("--proxy-server={proxy}"),
                "--proxy-bypass-list=<-loopback>",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                &format!("--user-data-dir={}", profile.display()),
                &format!("--screenshot={}", shot.display()),
                &format!("--window-size={width},{height}"),
            ])
            .arg(format!("file://{}", page.display()))
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} could not start: {e}", self.bin.display()));
        let started = Instant::now();
        let status = loop {
            match child.try_wait().expect("the browser's status") {
                Some(status) => break status,
                None if started.elapsed() > TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{} took more than {TIMEOUT:?}", self.bin.display());
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        let output = child.wait_with_output().expect("the browser's output");
        assert!(
            status.success() && shot.is_file(),
            "{} failed ({status}): {}",
            self.bin.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        shot
    }
}

/// The bounding box of some pixels, and how many there are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub left: u32,
    pub top: u32,
    pub right: u32,
    pub bottom: u32,
    pub pixels: usize,
}

impl Region {
    pub fn width(&self) -> u32 {
        self.right - self.left + 1
    }

    pub fn height(&self) -> u32 {
        self.bottom - self.top + 1
    }
}

/// A decoded PNG: its size and its pixels as RGB.
pub struct Png {
    pub width: u32,
    pub height: u32,
    rgb: Vec<[u8; 3]>,
}

impl Png {
    /// Reads a PNG file; panics with the reason when it is not a valid one.
    pub fn decode(path: &Path) -> Png {
        let file = std::fs::File::open(path).expect("the screenshot");
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().expect("a valid PNG header");
        let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of a sane size")];
        let info = reader.next_frame(&mut buf).expect("a valid PNG image");
        let channels = info.color_type.samples();
        let rgb = buf[..info.buffer_size()]
            .chunks_exact(channels)
            .map(|p| match channels {
                1 | 2 => [p[0], p[0], p[0]],
                _ => [p[0], p[1], p[2]],
            })
            .collect();
        Png {
            width: info.width,
            height: info.height,
            rgb,
        }
    }

    fn at(&self, x: u32, y: u32) -> [u8; 3] {
        self.rgb[(y * self.width + x) as usize]
    }

    pub fn distinct_colors(&self) -> usize {
        self.rgb.iter().collect::<HashSet<_>>().len()
    }

    /// Where the pixels within `tolerance` (per channel) of `color` are.
    pub fn region_of(&self, color: [u8; 3], tolerance: u8) -> Option<Region> {
        let mut region: Option<Region> = None;
        for y in 0..self.height {
            for x in 0..self.width {
                let p = self.at(x, y);
                if (0..3).all(|i| p[i].abs_diff(color[i]) <= tolerance) {
                    let r = region.get_or_insert(Region {
                        left: x,
                        top: y,
                        right: x,
                        bottom: y,
                        pixels: 0,
                    });
                    r.left = r.left.min(x);
                    r.right = r.right.max(x);
                    r.top = r.top.min(y);
                    r.bottom = r.bottom.max(y);
                    r.pixels += 1;
                }
            }
        }
        region
    }

    /// How many colours the region holds.
    pub fn colors_in(&self, region: &Region) -> usize {
        let mut seen = HashSet::new();
        for y in region.top..=region.bottom {
            for x in region.left..=region.right {
                seen.insert(self.at(x, y));
            }
        }
        seen.len()
    }
}
