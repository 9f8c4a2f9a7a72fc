//! Image outputs: 8-bit PNG and OpenEXR, plus an EXR reader for tests and tools.
//!
//! PNG: 8-bit RGB, alpha dropped (the renderer has already composited over
//! the background), `round(clamp(v, 0, 1) * 255)`, NaN → 0, no gamma curve:
//! the renderer's values are display-encoded (sRGB-like, as the training
//! photos were), so they go to the file unchanged. Optional text chunks
//! ([`write_png_with_text`]): `tEXt` when the text is printable ASCII (or
//! newlines), else `iTXt` (UTF-8).
//!
//! EXR: written by hand (single-part scanline, channels `A B G R Z`), with
//! none/ZIP/ZIPS/PIZ/DWAA compression, HALF or FLOAT colour, linear or raw
//! colour and typed camera metadata: see [`exr`]. [`read_exr`] reads what
//! vksplat writes (and other none/ZIPS/ZIP HALF/FLOAT scanline files) and
//! rejects everything else by name: see [`exr_read`].
//!
//! All writes are atomic (see the crate docs); output failures are
//! [`IoError::Output`] naming the target path.

use std::path::Path;

use crate::IoError;

pub mod exr;
pub mod exr_read;

pub use exr::{
    camera_matrices, srgb_to_linear, write_exr, write_exr_with, ExrColor, ExrCompression,
    ExrOptions, ExrValue, REC709_CHROMATICITIES,
};
pub use exr_read::{read_exr, ExrImage};

/// One channel of a scanline chunk, in the file's (alphabetical) channel order: what the
/// EXR chunk compressors need to know about the raw bytes they are given.
pub(crate) struct ChunkChannel<'a> {
    pub name: &'a str,
    /// 2-byte HALF samples; otherwise 4-byte FLOAT.
    pub half: bool,
}

impl ChunkChannel<'_> {
    /// Bytes per sample.
    pub fn sample_bytes(&self) -> usize {
        if self.half {
            2
        } else {
            4
        }
    }
}

/// Bytes per sample of each channel, after checking that `raw` holds exactly `lines` lines of
/// `width` pixels of `channels`. A mismatch is a bug in the writer (never input-dependent),
/// hence a panic naming the codec.
fn chunk_sample_bytes(
    codec: &str,
    raw: &[u8],
    channels: &[ChunkChannel],
    width: usize,
    lines: usize,
) -> Vec<usize> {
    let sample_bytes: Vec<usize> = channels.iter().map(ChunkChannel::sample_bytes).collect();
    let line_bytes: usize = sample_bytes.iter().map(|b| b * width).sum();
    assert_eq!(
        raw.len(),
        line_bytes * lines,
        "{codec} chunk size does not match {lines} lines of {width} pixels"
    );
    sample_bytes
}

mod exr_dwa;
mod exr_piz;

/// Writes an 8-bit RGB PNG from row-major RGBA floats (alpha ignored).
pub fn write_png(path: &Path, width: u32, height: u32, rgba: &[f32]) -> Result<(), IoError> {
    write_png_with_text(path, width, height, rgba, &[])
}

/// Like [`write_png`], with text chunks `(keyword, text)` before the image data. Keywords
/// must be 1..=79 printable ASCII characters (spaces inside only) and unique.
pub fn write_png_with_text(
    path: &Path,
    width: u32,
    height: u32,
    rgba: &[f32],
    text: &[(&str, &str)],
) -> Result<(), IoError> {
    let pixels = checked_pixels(path, width, height, rgba.len(), 4, "rgba")?;
    for (i, &(key, _)) in text.iter().enumerate() {
        let valid = (1..=79).contains(&key.len())
            && key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
            && !key.starts_with(' ')
            && !key.ends_with(' ')
            && !key.contains("  ");
        if !valid || text[..i].iter().any(|(k, _)| *k == key) {
            return Err(IoError::output(
                path,
                format!(
                    "PNG text keyword '{}' is invalid (1-79 printable ASCII characters, no \
                     leading, trailing or double spaces) or given twice",
                    key.escape_debug()
                ),
            ));
        }
    }
    let mut rgb = crate::memory::with_capacity::<u8>(pixels * 3).map_err(|e| e.at(path))?;
    rgb.extend(
        rgba.chunks_exact(4)
            .take(pixels)
            .flat_map(|p| [to_u8(p[0]), to_u8(p[1]), to_u8(p[2])]),
    );
    crate::atomic::write_atomic(path, |w| {
        let mut encoder = png::Encoder::new(w, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        for &(key, value) in text {
            let latin1 = value
                .bytes()
                .all(|b| b == b'\n' || (b' '..=b'~').contains(&b));
            let added = if latin1 {
                encoder.add_text_chunk(key.into(), value.into())
            } else {
                encoder.add_itxt_chunk(key.into(), value.into())
            };
            added.map_err(png_error)?;
        }
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_image_data(&rgb).map_err(png_error)?;
        writer.finish().map_err(png_error)
    })
}

fn png_error(e: png::EncodingError) -> std::io::Error {
    match e {
        png::EncodingError::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    }
}

/// `round(clamp(v, 0, 1) * 255)`, NaN → 0.
fn to_u8(v: f32) -> u8 {
    if v.is_nan() {
        0
    } else {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }
}

/// Checks the image size and buffer length; returns the pixel count.
pub(crate) fn checked_pixels(
    path: &Path,
    width: u32,
    height: u32,
    len: usize,
    per_pixel: usize,
    what: &str,
) -> Result<usize, IoError> {
    if width == 0 || height == 0 {
        return Err(IoError::output(
            path,
            format!("image size {width}x{height} is empty"),
        ));
    }
    let pixels = (width as usize).checked_mul(height as usize);
    let expected = pixels.and_then(|p| p.checked_mul(per_pixel));
    match (pixels, expected) {
        (Some(p), Some(e)) if e == len => Ok(p),
        _ => Err(IoError::output(
            path,
            format!(
                "{what} buffer has {len} floats, expected {width}x{height}x{per_pixel} = {}",
                expected.map_or("overflow".to_string(), |e| e.to_string())
            ),
        )),
    }
}

#[cfg(test)]
mod tests;
