//! Just enough image handling to make a picture fit a network's size limit: PNG, JPEG and
//! WebP decoded to 8-bit RGB on a white background, scaled down, and encoded as JPEG.
//!
//! The codecs are the small crates the `image` crate itself uses (png, zune-jpeg,
//! image-webp) plus jpeg-encoder, without `image`'s colour management and format zoo, which
//! cost a fresh build about half a minute on two cores.

use std::io::Cursor;

/// Decoding refuses images that would take more memory than this (a 12,000 x 10,000 RGBA).
const MAX_DECODED_BYTES: usize = 512 * 1024 * 1024;

/// An 8-bit RGB picture, row by row, 3 bytes a pixel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// Decodes a PNG, JPEG or WebP image (`mime` says which). Transparent pixels become white,
/// as they look on most pages: JPEG has no transparency.
pub(crate) fn decode(bytes: &[u8], mime: &str) -> Result<Rgb, String> {
    match mime {
        "image/png" => png(bytes),
        "image/jpeg" => jpeg(bytes),
        "image/webp" => webp(bytes),
        other => Err(format!("postctl cannot read {other} images")),
    }
}

fn png(bytes: &[u8]) -> Result<Rgb, String> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: MAX_DECODED_BYTES,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let size = reader
        .output_buffer_size()
        .ok_or("the PNG is too large to read")?;
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).map_err(|e| e.to_string())?;
    buffer.truncate(frame.buffer_size());
    let channels = match frame.color_type {
        png::ColorType::Grayscale => Channels::Gray,
        png::ColorType::GrayscaleAlpha => Channels::GrayAlpha,
        png::ColorType::Rgb => Channels::Rgb,
        png::ColorType::Rgba => Channels::Rgba,
        png::ColorType::Indexed => return Err("the PNG's palette could not be expanded".into()),
    };
    Ok(to_rgb(frame.width, frame.height, &buffer, channels))
}

fn jpeg(bytes: &[u8]) -> Result<Rgb, String> {
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
        zune_core::bytestream::ZCursor::new(bytes),
        options,
    );
    decoder.decode_headers().map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions().ok_or("the JPEG has no size")?;
    if width.saturating_mul(height).saturating_mul(3) > MAX_DECODED_BYTES {
        return Err(format!("the JPEG is too large to read ({width}x{height})"));
    }
    let pixels = decoder.decode().map_err(|e| e.to_string())?;
    let (width, height) = (dimension(width)?, dimension(height)?);
    Ok(to_rgb(width, height, &pixels, Channels::Rgb))
}

fn webp(bytes: &[u8]) -> Result<Rgb, String> {
    let mut decoder =
        image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    decoder.set_memory_limit(MAX_DECODED_BYTES);
    let (width, height) = decoder.dimensions();
    let size = decoder
        .output_buffer_size()
        .ok_or("the WebP image is too large to read")?;
    if size > MAX_DECODED_BYTES {
        return Err(format!(
            "the WebP image is too large to read ({width}x{height})"
        ));
    }
    let mut buffer = vec![0; size];
    decoder.read_image(&mut buffer).map_err(|e| e.to_string())?;
    let channels = if decoder.has_alpha() {
        Channels::Rgba
    } else {
        Channels::Rgb
    };
    Ok(to_rgb(width, height, &buffer, channels))
}

fn dimension(n: usize) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| format!("an image {n} pixels wide is too large"))
}

#[derive(Debug, Clone, Copy)]
enum Channels {
    Gray,
    GrayAlpha,
    Rgb,
    Rgba,
}

/// 8-bit pixels of any of the layouts above, as RGB flattened on white.
fn to_rgb(width: u32, height: u32, data: &[u8], channels: Channels) -> Rgb {
    let on_white =
        |c: u8, a: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    match channels {
        Channels::Rgb => pixels.extend_from_slice(data),
        Channels::Rgba => {
            for p in data.chunks_exact(4) {
                pixels.extend([
                    on_white(p[0], p[3]),
                    on_white(p[1], p[3]),
                    on_white(p[2], p[3]),
                ]);
            }
        }
        Channels::Gray => {
            for &g in data {
                pixels.extend([g, g, g]);
            }
        }
        Channels::GrayAlpha => {
            for p in data.chunks_exact(2) {
                let g = on_white(p[0], p[1]);
                pixels.extend([g, g, g]);
            }
        }
    }
    pixels.resize(width as usize * height as usize * 3, 255);
    Rgb {
        width,
        height,
        pixels,
    }
}

/// Scales `image` down to `width` x `height` (no larger than it is), each new pixel the
/// average of the area of the old picture it covers.
pub(crate) fn shrink(image: &Rgb, width: u32, height: u32) -> Rgb {
    let (width, height) = (width.clamp(1, image.width), height.clamp(1, image.height));
    let columns = weights(image.width, width);
    let rows = weights(image.height, height);
    // Horizontally first, into floats, then vertically.
    let mut wide = vec![0f32; width as usize * image.height as usize * 3];
    for y in 0..image.height as usize {
        let source = &image.pixels[y * image.width as usize * 3..][..image.width as usize * 3];
        for (x, taps) in columns.iter().enumerate() {
            for channel in 0..3 {
                wide[(y * width as usize + x) * 3 + channel] = taps
                    .iter()
                    .map(|&(i, w)| f32::from(source[i * 3 + channel]) * w)
                    .sum();
            }
        }
    }
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for taps in &rows {
        for x in 0..width as usize {
            for channel in 0..3 {
                let value: f32 = taps
                    .iter()
                    .map(|&(j, w)| wide[(j * width as usize + x) * 3 + channel] * w)
                    .sum();
                pixels.push(value.round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    Rgb {
        width,
        height,
        pixels,
    }
}

/// For each of `to` new positions, the old positions it covers and their shares (summing
/// to 1), where `from` old positions map onto `to` new ones.
fn weights(from: u32, to: u32) -> Vec<Vec<(usize, f32)>> {
    let scale = f64::from(from) / f64::from(to);
    (0..to)
        .map(|n| {
            let (start, end) = (f64::from(n) * scale, f64::from(n + 1) * scale);
            let mut taps = Vec::new();
            let mut i = start.floor();
            while i < end {
                let covered = (end.min(i + 1.0) - start.max(i)) / scale;
                if covered > 0.0 {
                    taps.push((i as usize, covered as f32));
                }
                i += 1.0;
            }
            taps
        })
        .collect()
}

/// The picture as a JPEG of quality 85.
pub(crate) fn encode_jpeg(image: &Rgb) -> Result<Vec<u8>, String> {
    let too_large = || {
        format!(
            "a {}x{} image is too large for JPEG",
            image.width, image.height
        )
    };
    let width = u16::try_from(image.width).map_err(|_| too_large())?;
    let height = u16::try_from(image.height).map_err(|_| too_large())?;
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&image.pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| format!("cannot encode JPEG: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(width: u32, height: u32, color: png::ColorType, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("header");
        writer.write_image_data(data).expect("data");
        writer.finish().expect("finish");
        out
    }

    #[test]
    fn transparent_and_grey_pixels_come_out_as_rgb_on_white() {
        // Opaque red, fully transparent, half-transparent black.
        let rgba = png_of(
            3,
            1,
            png::ColorType::Rgba,
            &[255, 0, 0, 255, 9, 9, 9, 0, 0, 0, 0, 128],
        );
        let decoded = decode(&rgba, "image/png").expect("png");
        assert_eq!((decoded.width, decoded.height), (3, 1));
        assert_eq!(
            decoded.pixels,
            vec![255, 0, 0, 255, 255, 255, 127, 127, 127]
        );

        let grey = png_of(2, 1, png::ColorType::Grayscale, &[0, 200]);
        assert_eq!(
            decode(&grey, "image/png").expect("grey").pixels,
            vec![0, 0, 0, 200, 200, 200]
        );
        assert!(decode(b"not a png", "image/png").is_err());
        assert!(decode(b"GIF89a", "image/gif").is_err());
    }

    #[test]
    fn a_jpeg_made_here_reads_back_at_its_size_and_roughly_its_colour() {
        let image = Rgb {
            width: 16,
            height: 8,
            pixels: [40u8, 120, 200].repeat(16 * 8),
        };
        let jpeg = encode_jpeg(&image).expect("encode");
        let back = decode(&jpeg, "image/jpeg").expect("decode");
        assert_eq!((back.width, back.height), (16, 8));
        for (got, want) in back.pixels.iter().zip(&image.pixels) {
            assert!(got.abs_diff(*want) <= 4, "{got} vs {want}");
        }
    }

    #[test]
    fn shrinking_averages_the_area_each_pixel_covers() {
        // Black and white columns, 4 wide, to 2 wide: every pixel is the mean grey.
        let image = Rgb {
            width: 4,
            height: 2,
            pixels: [0u8, 0, 0, 255, 255, 255].repeat(4),
        };
        let half = shrink(&image, 2, 1);
        assert_eq!((half.width, half.height), (2, 1));
        assert_eq!(half.pixels, vec![128; 6]);
        // 5 to 4: shares sum to one, so a flat colour stays that colour.
        let flat = Rgb {
            width: 5,
            height: 5,
            pixels: [10u8, 20, 30].repeat(25),
        };
        assert_eq!(shrink(&flat, 4, 4).pixels, [10u8, 20, 30].repeat(16));
        // Never larger than it was.
        assert_eq!(shrink(&flat, 9, 9).width, 5);
    }
}
