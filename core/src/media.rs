//! Media files: recognised by their bytes, stored content-addressed under the data dir.

pub mod host;
mod raster;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::MediaRef;

/// The largest file postctl takes: X's video limit, the largest of any network.
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// A kind of file postctl can attach, recognised from its first bytes rather than its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub mime: &'static str,
    pub extension: &'static str,
}

/// Recognises the supported image and video formats from their magic numbers.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    let kind = |mime: &str| KINDS.iter().find(|kind| kind.mime == mime).copied();
    match bytes {
        [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => kind("image/png"),
        [0xff, 0xd8, 0xff, ..] => kind("image/jpeg"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => kind("image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => kind("image/webp"),
        [0x1a, 0x45, 0xdf, 0xa3, ..] => kind("video/webm"),
        [_, _, _, _, b'f', b't', b'y', b'p', brand @ ..] if brand.starts_with(b"qt") => {
            kind("video/quicktime")
        }
        [_, _, _, _, b'f', b't', b'y', b'p', brand @ ..]
            if brand.starts_with(b"avif") || brand.starts_with(b"heic") =>
        {
            None
        }
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => kind("video/mp4"),
        _ => None,
    }
}

/// Where `import` stored a file: `<media dir>/<sha256>.<extension of its type>`.
pub fn stored_path(media_dir: &Path, media: &MediaRef) -> std::path::PathBuf {
    let extension = KINDS
        .iter()
        .find(|kind| kind.mime == media.mime)
        .map(|kind| kind.extension)
        .unwrap_or("bin");
    media_dir.join(format!("{}.{extension}", media.sha256))
}

/// The name a file with these bytes is stored under: `<sha256>.<extension of its kind>`
/// (`bin` for a kind [`sniff`] does not know), where [`stored_path`] finds it again.
pub fn stored_name(sha256: &str, bytes: &[u8]) -> String {
    let extension = sniff(bytes).map_or("bin", |kind| kind.extension);
    format!("{sha256}.{extension}")
}

/// The stored file of hash `sha256` in `media_dir`, whatever its kind.
pub fn find_stored(media_dir: &Path, sha256: &str) -> Option<std::path::PathBuf> {
    KINDS
        .iter()
        .map(|kind| kind.extension)
        .chain(["bin"])
        .map(|extension| media_dir.join(format!("{sha256}.{extension}")))
        .find(|path| path.is_file())
}

/// Every kind `sniff` recognises.
const KINDS: [Kind; 7] = [
    Kind {
        mime: "image/png",
        extension: "png",
    },
    Kind {
        mime: "image/jpeg",
        extension: "jpg",
    },
    Kind {
        mime: "image/gif",
        extension: "gif",
    },
    Kind {
        mime: "image/webp",
        extension: "webp",
    },
    Kind {
        mime: "video/webm",
        extension: "webm",
    },
    Kind {
        mime: "video/quicktime",
        extension: "mov",
    },
    Kind {
        mime: "video/mp4",
        extension: "mp4",
    },
];

/// Copies `path` into `media_dir` under its SHA-256 (0600) and describes it.
///
/// Refuses a missing or unreadable file, an empty one, one over 512 MB, and any format
/// that is not PNG, JPEG, GIF, WebP, MP4, MOV or WebM.
pub fn import(path: &Path, alt: Option<String>, media_dir: &Path) -> Result<MediaRef> {
    let fail = |reason: String| Error::Media {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        fail(match e.kind() {
            std::io::ErrorKind::NotFound => "no such file; check the path given to --media".into(),
            _ => format!("cannot read it ({e})"),
        })
    })?;
    if !meta.is_file() {
        return Err(fail(
            "not a regular file; --media takes an image or video file".into(),
        ));
    }
    if meta.len() == 0 {
        return Err(fail("the file is empty".into()));
    }
    if meta.len() > MAX_BYTES {
        return Err(fail(format!(
            "{} MB is over the 512 MB that any network accepts",
            meta.len() / 1_000_000
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read it ({e})")))?;
    let kind = sniff(&bytes).ok_or_else(|| {
        fail("unsupported file type; attach PNG, JPEG, GIF or WebP images, or MP4, MOV or WebM videos".into())
    })?;
    let (width, height) = match imagesize::blob_size(&bytes) {
        Ok(size) if kind.mime.starts_with("image/") => (
            u32::try_from(size.width).ok(),
            u32::try_from(size.height).ok(),
        ),
        Err(_) if kind.mime.starts_with("image/") => {
            return Err(fail(format!(
                "it starts like a {} but cannot be read as one; is it damaged?",
                kind.mime
            )));
        }
        _ => (None, None),
    };
    let sha256 = hex(&Sha256::digest(&bytes));
    crate::fs::create_private_dir(media_dir)?;
    let stored = media_dir.join(format!("{sha256}.{}", kind.extension));
    if !stored.exists() {
        crate::fs::write_private(&stored, &bytes)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("{sha256}.{}", kind.extension));
    Ok(MediaRef {
        sha256,
        file_name,
        mime: kind.mime.into(),
        size: meta.len(),
        width,
        height,
        alt: alt.filter(|a| !a.trim().is_empty()),
    })
}

/// Describes a file already stored under its hash (`path`, found with [`find_stored`]) as
/// [`import`] describes a file it stores: its type from its first bytes, its size, an
/// image's dimensions; named `<sha256>.<extension>`. Refuses a kind postctl cannot attach
/// and an image that cannot be read as one.
pub fn describe_stored(
    path: &Path,
    sha256: &str,
    alt: Option<String>,
) -> std::result::Result<MediaRef, String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot read it ({e})"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read it ({e})"))?
        .len();
    let mut head = Vec::with_capacity(64);
    file.by_ref()
        .take(64)
        .read_to_end(&mut head)
        .map_err(|e| format!("cannot read it ({e})"))?;
    let kind = sniff(&head).ok_or_else(|| {
        "it is not a type postctl can attach: PNG, JPEG, GIF or WebP images, or MP4, MOV or WebM videos"
            .to_string()
    })?;
    let (width, height) = if kind.mime.starts_with("image/") {
        let dims = imagesize::size(path).map_err(|_| {
            format!(
                "it starts like a {} but cannot be read as one; is it damaged?",
                kind.mime
            )
        })?;
        (
            u32::try_from(dims.width).ok(),
            u32::try_from(dims.height).ok(),
        )
    } else {
        (None, None)
    };
    Ok(MediaRef {
        sha256: sha256.to_string(),
        file_name: format!("{sha256}.{}", kind.extension),
        mime: kind.mime.into(),
        size,
        width,
        height,
        alt: alt.filter(|a| !a.trim().is_empty()),
    })
}

/// Makes an image fit a network's size limit: recompressed as JPEG, then scaled down step
/// by step, and stored beside the original. Returns the new file and a sentence telling the
/// user what was done. Animated GIFs and videos are not changed (an error says so).
pub fn fit_image(
    media: &MediaRef,
    max_bytes: u64,
    media_dir: &Path,
) -> std::result::Result<(MediaRef, String), String> {
    if !matches!(
        media.mime.as_str(),
        "image/png" | "image/jpeg" | "image/webp"
    ) {
        return Err(format!(
            "{} is {:.1} MB, over the {:.1} MB this network takes, and postctl only shrinks PNG, JPEG and WebP images: attach a smaller file",
            media.file_name,
            media.size as f64 / 1e6,
            max_bytes as f64 / 1e6
        ));
    }
    let path = stored_path(media_dir, media);
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut rgb = raster::decode(&bytes, &media.mime)
        .map_err(|e| format!("cannot read {} as an image: {e}", media.file_name))?;
    let mut encoded = raster::encode_jpeg(&rgb)?;
    // Each step keeps 80% of the width and height (64% of the pixels).
    for _ in 0..12 {
        if encoded.len() as u64 <= max_bytes {
            break;
        }
        let (w, h) = (rgb.width * 4 / 5, rgb.height * 4 / 5);
        if w < 16 || h < 16 {
            break;
        }
        rgb = raster::shrink(&rgb, w, h);
        encoded = raster::encode_jpeg(&rgb)?;
    }
    if encoded.len() as u64 > max_bytes {
        return Err(format!(
            "{} cannot be made smaller than {:.1} MB for this network: attach a smaller image",
            media.file_name,
            max_bytes as f64 / 1e6
        ));
    }
    let sha256 = hex(&Sha256::digest(&encoded));
    let stem = Path::new(&media.file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into());
    let fitted = MediaRef {
        sha256,
        file_name: format!("{stem}.jpg"),
        mime: "image/jpeg".into(),
        size: encoded.len() as u64,
        width: Some(rgb.width),
        height: Some(rgb.height),
        alt: media.alt.clone(),
    };
    let stored = stored_path(media_dir, &fitted);
    if !stored.exists() {
        crate::fs::write_private(&stored, &encoded).map_err(|e| e.to_string())?;
    }
    let note = format!(
        "{} was {:.1} MB, over the {:.1} MB this network takes: sent as a {}x{} JPEG of {:.1} MB",
        media.file_name,
        media.size as f64 / 1e6,
        max_bytes as f64 / 1e6,
        fitted.width.unwrap_or(0),
        fitted.height.unwrap_or(0),
        fitted.size as f64 / 1e6
    );
    Ok((fitted, note))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1x1 PNG.
    pub(crate) const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00,
        0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    #[test]
    fn big_images_are_shrunk_to_fit_and_keep_their_alt() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Noise compresses badly, so the PNG is large.
        let mut seed = 0x2545_f491_u32;
        let noise: Vec<u8> = (0..1200 * 900)
            .flat_map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let [a, b, c, _] = seed.to_le_bytes();
                [a, b, c]
            })
            .collect();
        let png = dir.path().join("noise.png");
        let mut encoded = Vec::new();
        let mut encoder = png::Encoder::new(&mut encoded, 1200, 900);
        encoder.set_color(png::ColorType::Rgb);
        let mut writer = encoder.write_header().expect("png header");
        writer.write_image_data(&noise).expect("png data");
        writer.finish().expect("png");
        std::fs::write(&png, encoded).expect("save png");
        let media_dir = dir.path().join("media");
        let original = import(&png, Some("static".into()), &media_dir).expect("import");
        assert!(original.size > 2_000_000, "{}", original.size);
        let (fitted, note) = fit_image(&original, 1_000_000, &media_dir).expect("fits");
        assert!(fitted.size <= 1_000_000, "{}", fitted.size);
        assert_eq!(fitted.mime, "image/jpeg");
        assert_eq!(fitted.alt.as_deref(), Some("static"));
        assert!(fitted.width < Some(1200) || fitted.size < original.size);
        let stored = std::fs::read(stored_path(&media_dir, &fitted)).expect("stored");
        assert_eq!(sniff(&stored).map(|k| k.mime), Some("image/jpeg"));
        assert!(
            note.contains("noise.png") && note.contains("JPEG"),
            "{note}"
        );

        let gif = MediaRef {
            mime: "image/gif".into(),
            ..original.clone()
        };
        let err = fit_image(&gif, 1_000, &media_dir).expect_err("gif");
        assert!(err.contains("only shrinks PNG, JPEG and WebP"), "{err}");
    }

    #[test]
    fn sniff_recognises_formats_by_bytes() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (PNG, Some("image/png")),
            (&[0xff, 0xd8, 0xff, 0xe0, 0, 0], Some("image/jpeg")),
            (b"GIF89a....", Some("image/gif")),
            (b"RIFF\0\0\0\0WEBPVP8 ", Some("image/webp")),
            (b"\0\0\0\x18ftypmp42....", Some("video/mp4")),
            (b"\0\0\0\x14ftypqt  ....", Some("video/quicktime")),
            (&[0x1a, 0x45, 0xdf, 0xa3, 1], Some("video/webm")),
            (b"%PDF-1.7", None),
            (b"hello", None),
            (b"", None),
        ];
        for (bytes, mime) in cases {
            assert_eq!(sniff(bytes).map(|k| k.mime), *mime, "{bytes:?}");
        }
    }

    #[test]
    fn import_stores_by_content_and_refuses_bad_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let png = dir.path().join("shot.png");
        std::fs::write(&png, PNG).expect("write");
        let media = dir.path().join("media");
        let stored = import(&png, Some("the settings page".into()), &media).expect("import");
        assert_eq!((stored.width, stored.height), (Some(1), Some(1)));
        assert_eq!(stored.mime, "image/png");
        assert_eq!(stored.alt.as_deref(), Some("the settings page"));
        let copy = media.join(format!("{}.png", stored.sha256));
        assert_eq!(std::fs::read(&copy).expect("stored copy"), PNG);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let text = dir.path().join("notes.png");
        std::fs::write(&text, "not an image").expect("write");
        let cases = [
            (dir.path().join("missing.png"), "no such file"),
            (text, "unsupported file type"),
            (dir.path().to_path_buf(), "not a regular file"),
        ];
        for (path, expected) in cases {
            let err = import(&path, None, &media).expect_err("refused");
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn a_stored_file_is_described_by_its_bytes_not_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sha = "ab".repeat(32);
        // Stored as `bin` by a server that did not recognise it: the bytes decide.
        let png = dir.path().join(format!("{sha}.bin"));
        std::fs::write(&png, PNG).expect("write");
        let described = describe_stored(&png, &sha, Some("a dot".into())).expect("described");
        assert_eq!(described.mime, "image/png");
        assert_eq!(described.file_name, format!("{sha}.png"));
        assert_eq!(described.size, PNG.len() as u64);
        assert_eq!((described.width, described.height), (Some(1), Some(1)));
        assert_eq!(described.alt.as_deref(), Some("a dot"));

        let text = dir.path().join("notes.bin");
        std::fs::write(&text, "not an image at all").expect("write");
        let err = describe_stored(&text, &sha, None).expect_err("refused");
        assert!(err.contains("not a type postctl can attach"), "{err}");
        let broken = dir.path().join("broken.png");
        std::fs::write(&broken, &PNG[..12]).expect("write");
        let err = describe_stored(&broken, &sha, None).expect_err("refused");
        assert!(err.contains("cannot be read as one"), "{err}");
    }
}
