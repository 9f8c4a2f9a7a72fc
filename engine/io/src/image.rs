//! Image outputs: 8-bit PNG and float32 OpenEXR, plus an EXR reader.
//!
//! PNG: 8-bit RGB, alpha dropped (the renderer has already composited over
//! the background), `round(clamp(v, 0, 1) * 255)`, NaN → 0, no gamma curve.
//!
//! EXR: written by hand (the format subset is small and fixed) as OpenEXR 2.0
//! single-part scanline, uncompressed, channels `A B G R Z` (alphabetical, as
//! the format requires), all FLOAT. Layout, all little-endian:
//!
//! ```text
//! magic 20000630 | version 2, flags 0 | attributes… | 0
//! offset table: one u64 absolute offset per scanline
//! per scanline: i32 y | i32 byte count | A row | B row | G row | R row | Z row
//! ```
//!
//! [`read_exr`] accepts exactly that subset (any FLOAT channels, any data
//! window, no compression) and rejects everything else by name.
//!
//! All writes are atomic (see the crate docs); output failures are
//! [`IoError::Output`] naming the target path.

use std::io::Write;
use std::path::Path;

use crate::IoError;

/// Writes an 8-bit RGB PNG from row-major RGBA floats (alpha ignored).
pub fn write_png(path: &Path, width: u32, height: u32, rgba: &[f32]) -> Result<(), IoError> {
    let pixels = checked_pixels(path, width, height, rgba.len(), 4, "rgba")?;
    let rgb: Vec<u8> = rgba
        .chunks_exact(4)
        .take(pixels)
        .flat_map(|p| [to_u8(p[0]), to_u8(p[1]), to_u8(p[2])])
        .collect();
    crate::atomic::write_atomic(path, |w| {
        let mut encoder = png::Encoder::new(w, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
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
fn checked_pixels(
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

// ---------------------------------------------------------------------------
// EXR writing

const EXR_MAGIC: u32 = 20000630;
/// Version 2 with no flag bits: single-part scanline, short names.
const EXR_VERSION: u32 = 2;
const FLAG_TILED: u32 = 0x200;
const FLAG_LONG_NAMES: u32 = 0x400;
const FLAG_DEEP: u32 = 0x800;
const FLAG_MULTIPART: u32 = 0x1000;
const PIXEL_FLOAT: i32 = 2;
/// With the long-names flag unset, attribute names are limited to 31 bytes.
const MAX_NAME: usize = 31;
/// Attributes `write_exr` always writes itself.
const STANDARD_ATTRIBUTES: [&str; 8] = [
    "channels",
    "compression",
    "dataWindow",
    "displayWindow",
    "lineOrder",
    "pixelAspectRatio",
    "screenWindowCenter",
    "screenWindowWidth",
];

fn put_attr(out: &mut Vec<u8>, name: &str, ty: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.extend_from_slice(ty.as_bytes());
    out.push(0);
    // Sizes are bounded: the only unbounded value is a user string, whose
    // length write_exr checks against i32::MAX.
    out.extend_from_slice(&(value.len() as i32).to_le_bytes());
    out.extend_from_slice(value);
}

fn box2i(w: u32, h: u32) -> Vec<u8> {
    [0i32, 0, w as i32 - 1, h as i32 - 1]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

/// Writes RGBA + depth as an uncompressed float32 OpenEXR file.
///
/// `rgba` is row-major, 4 floats per pixel; `depth` 1 float per pixel (the
/// `Z` channel). `attributes` become extra `string` header attributes; names
/// must be 1..=31 bytes without NUL and must not shadow a standard attribute.
pub fn write_exr(
    path: &Path,
    width: u32,
    height: u32,
    rgba: &[f32],
    depth: &[f32],
    attributes: &[(&str, &str)],
) -> Result<(), IoError> {
    checked_pixels(path, width, height, rgba.len(), 4, "rgba")?;
    checked_pixels(path, width, height, depth.len(), 1, "depth")?;
    // Coordinates are i32 in EXR; a line's byte count is i32 too.
    let w = width as usize;
    let line_bytes = w * 5 * 4;
    if width > i32::MAX as u32 || height > i32::MAX as u32 || line_bytes > i32::MAX as usize {
        return Err(IoError::output(
            path,
            format!("image size {width}x{height} is too large for EXR"),
        ));
    }

    let mut header = Vec::new();
    header.extend_from_slice(&EXR_MAGIC.to_le_bytes());
    header.extend_from_slice(&EXR_VERSION.to_le_bytes());

    let mut chlist = Vec::new();
    for name in ["A", "B", "G", "R", "Z"] {
        chlist.extend_from_slice(name.as_bytes());
        chlist.push(0);
        chlist.extend_from_slice(&PIXEL_FLOAT.to_le_bytes());
        chlist.extend_from_slice(&[0, 0, 0, 0]); // pLinear + 3 reserved bytes
        chlist.extend_from_slice(&1i32.to_le_bytes()); // xSampling
        chlist.extend_from_slice(&1i32.to_le_bytes()); // ySampling
    }
    chlist.push(0);
    put_attr(&mut header, "channels", "chlist", &chlist);
    put_attr(&mut header, "compression", "compression", &[0]);
    put_attr(&mut header, "dataWindow", "box2i", &box2i(width, height));
    put_attr(&mut header, "displayWindow", "box2i", &box2i(width, height));
    put_attr(&mut header, "lineOrder", "lineOrder", &[0]);
    put_attr(
        &mut header,
        "pixelAspectRatio",
        "float",
        &1f32.to_le_bytes(),
    );
    put_attr(&mut header, "screenWindowCenter", "v2f", &[0u8; 8]);
    put_attr(
        &mut header,
        "screenWindowWidth",
        "float",
        &1f32.to_le_bytes(),
    );
    for (i, &(name, value)) in attributes.iter().enumerate() {
        let problem = if name.is_empty() || name.len() > MAX_NAME {
            Some(format!("must be 1..={MAX_NAME} bytes long"))
        } else if name.contains('\0') {
            Some("contains a NUL byte".to_string())
        } else if STANDARD_ATTRIBUTES.contains(&name) {
            Some("is a standard attribute written by vksplat".to_string())
        } else if attributes[..i].iter().any(|(n, _)| *n == name) {
            Some("is given twice".to_string())
        } else if value.len() > i32::MAX as usize {
            Some("has a value that is too long".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(IoError::output(
                path,
                format!("EXR attribute name '{}' {problem}", name.escape_debug()),
            ));
        }
        put_attr(&mut header, name, "string", value.as_bytes());
    }
    header.push(0);

    let h = height as usize;
    let first_line = (header.len() + h * 8) as u64;
    let chunk = (8 + line_bytes) as u64;

    crate::atomic::write_atomic(path, |out| {
        out.write_all(&header)?;
        for y in 0..h as u64 {
            out.write_all(&(first_line + y * chunk).to_le_bytes())?;
        }
        let mut line: Vec<u8> = Vec::with_capacity(8 + line_bytes);
        for y in 0..h {
            line.clear();
            line.extend_from_slice(&(y as i32).to_le_bytes());
            line.extend_from_slice(&(line_bytes as i32).to_le_bytes());
            let row = &rgba[y * w * 4..(y + 1) * w * 4];
            // Alphabetical channel order: A, B, G, R, then Z.
            for c in [3usize, 2, 1, 0] {
                line.extend(row.chunks_exact(4).flat_map(|p| p[c].to_le_bytes()));
            }
            line.extend(
                depth[y * w..(y + 1) * w]
                    .iter()
                    .flat_map(|v| v.to_le_bytes()),
            );
            out.write_all(&line)?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// EXR reading

/// A decoded float EXR image.
#[derive(Clone, Debug, PartialEq)]
pub struct ExrImage {
    /// Data-window width.
    pub width: u32,
    /// Data-window height.
    pub height: u32,
    /// Channels in file (alphabetical) order, each `width * height` floats,
    /// row-major.
    pub channels: Vec<(String, Vec<f32>)>,
    /// The header's `string` attributes, in file order (others are omitted).
    pub attributes: Vec<(String, String)>,
}

impl ExrImage {
    /// The pixels of channel `name`, if present.
    pub fn channel(&self, name: &str) -> Option<&[f32]> {
        self.channels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The value of string attribute `name`, if present.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads an uncompressed float32 scanline EXR (the kind [`write_exr`] writes).
pub fn read_exr(path: &Path) -> Result<ExrImage, IoError> {
    let bytes =
        std::fs::read(path).map_err(|e| IoError::input(path, format!("cannot read: {e}")))?;
    parse_exr(&bytes).map_err(|m| IoError::input(path, m))
}

/// Bounds-checked little-endian reader; errors say what was being read.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(format!(
                "EXR file is truncated: reading {what} at byte {} needs {n} bytes, file has {}",
                self.pos,
                self.bytes.len()
            )),
        }
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_le_bytes(a))
    }

    fn i32(&mut self, what: &str) -> Result<i32, String> {
        Ok(self.u32(what)? as i32)
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_le_bytes(a))
    }

    /// A NUL-terminated string of at most 255 bytes.
    fn cstr(&mut self, what: &str) -> Result<String, String> {
        let rest = &self.bytes[self.pos.min(self.bytes.len())..];
        let len = rest
            .iter()
            .take(256)
            .position(|&b| b == 0)
            .ok_or_else(|| format!("EXR {what} at byte {} is not NUL-terminated", self.pos))?;
        let s = std::str::from_utf8(&rest[..len])
            .map_err(|_| format!("EXR {what} at byte {} is not UTF-8", self.pos))?
            .to_string();
        self.pos += len + 1;
        Ok(s)
    }
}

struct Channel {
    name: String,
}

fn parse_exr(bytes: &[u8]) -> Result<ExrImage, String> {
    let mut cur = Cursor { bytes, pos: 0 };
    if bytes.len() < 4 || cur.u32("magic number")? != EXR_MAGIC {
        return Err("not an OpenEXR file (bad magic number)".into());
    }
    let version = cur.u32("version")?;
    if version & 0xff != 2 {
        return Err(format!("unsupported OpenEXR version {}", version & 0xff));
    }
    let flags = version & !0xff;
    if flags & (FLAG_TILED | FLAG_DEEP | FLAG_MULTIPART) != 0 {
        return Err(format!(
            "unsupported EXR layout (flags {flags:#x}): only single-part scanline files are read"
        ));
    }
    if flags & !FLAG_LONG_NAMES != 0 {
        return Err(format!("unknown EXR version flags {flags:#x}"));
    }

    let mut channels: Option<Vec<Channel>> = None;
    let mut compression = None;
    let mut data_window = None;
    let mut attributes = Vec::new();
    loop {
        let name = cur.cstr("attribute name")?;
        if name.is_empty() {
            break;
        }
        let ty = cur.cstr("attribute type")?;
        let size = cur.i32("attribute size")?;
        let size = usize::try_from(size)
            .map_err(|_| format!("EXR attribute '{name}' has negative size {size}"))?;
        let value = cur.take(size, &format!("attribute '{name}'"))?;
        match (name.as_str(), ty.as_str()) {
            ("channels", "chlist") => channels = Some(parse_chlist(value)?),
            ("compression", "compression") => compression = value.first().copied(),
            ("dataWindow", "box2i") if size == 16 => {
                let v: Vec<i32> = value
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                data_window = Some([v[0], v[1], v[2], v[3]]);
            }
            ("lineOrder", "lineOrder") if value.first().is_some_and(|&o| o > 1) => {
                return Err("unsupported EXR line order (random)".into());
            }
            (_, "string") => {
                let v = String::from_utf8(value.to_vec())
                    .map_err(|_| format!("EXR attribute '{name}' is not UTF-8"))?;
                attributes.push((name, v));
            }
            _ => {} // other attributes carry nothing we need
        }
    }
    let channels = channels.ok_or("EXR header has no 'channels' attribute")?;
    match compression {
        Some(0) => {}
        Some(c) => return Err(format!("EXR compression {c} is unsupported (only none, 0)")),
        None => return Err("EXR header has no 'compression' attribute".into()),
    }
    let [x0, y0, x1, y1] = data_window.ok_or("EXR header has no valid 'dataWindow' attribute")?;
    let width = i64::from(x1) - i64::from(x0) + 1;
    let height = i64::from(y1) - i64::from(y0) + 1;
    if width < 1 || height < 1 {
        return Err(format!("EXR data window {x0},{y0}..{x1},{y1} is empty"));
    }
    let (w, h) = (width as usize, height as usize);
    let line_bytes = (w as u128) * channels.len() as u128 * 4;
    // Every scanline needs an 8-byte offset and 8 bytes of chunk header plus
    // its data, so a data window larger than the file is rejected before
    // any allocation.
    if (h as u128) * (16 + line_bytes) > bytes.len() as u128 {
        return Err(format!(
            "EXR data window {width}x{height} with {} channels needs more data than the file's \
             {} bytes",
            channels.len(),
            bytes.len()
        ));
    }
    let line_bytes = line_bytes as usize;

    let offsets: Vec<u64> = (0..h)
        .map(|_| cur.u64("offset table"))
        .collect::<Result<_, _>>()?;
    let mut data: Vec<Vec<f32>> = vec![vec![0.0; w * h]; channels.len()];
    let mut seen = vec![false; h];
    for (i, &offset) in offsets.iter().enumerate() {
        let mut c = Cursor {
            bytes,
            pos: usize::try_from(offset).unwrap_or(usize::MAX),
        };
        let what = format!("scanline chunk {i}");
        let y = c.i32(&what)?;
        let size = c.i32(&what)?;
        let row = i64::from(y) - i64::from(y0);
        if !(0..height).contains(&row) {
            return Err(format!("EXR {what} has y = {y}, outside the data window"));
        }
        if usize::try_from(size).ok() != Some(line_bytes) {
            return Err(format!(
                "EXR {what} has {size} bytes, expected {line_bytes} for uncompressed float data"
            ));
        }
        let row = row as usize;
        if std::mem::replace(&mut seen[row], true) {
            return Err(format!("EXR scanline y = {y} appears twice"));
        }
        let payload = c.take(line_bytes, &what)?;
        for (ch, dst) in payload.chunks_exact(w * 4).zip(data.iter_mut()) {
            for (d, s) in dst[row * w..(row + 1) * w]
                .iter_mut()
                .zip(ch.chunks_exact(4))
            {
                *d = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
            }
        }
    }
    Ok(ExrImage {
        width: w as u32,
        height: h as u32,
        channels: channels.into_iter().map(|c| c.name).zip(data).collect(),
        attributes,
    })
}

fn parse_chlist(value: &[u8]) -> Result<Vec<Channel>, String> {
    let mut cur = Cursor {
        bytes: value,
        pos: 0,
    };
    let mut out: Vec<Channel> = Vec::new();
    loop {
        let name = cur.cstr("channel name")?;
        if name.is_empty() {
            return Ok(out);
        }
        let pixel_type = cur.i32("channel pixel type")?;
        cur.take(4, "channel flags")?;
        let xs = cur.i32("channel x sampling")?;
        let ys = cur.i32("channel y sampling")?;
        if pixel_type != PIXEL_FLOAT {
            let ty = match pixel_type {
                0 => "UINT",
                1 => "HALF",
                _ => "unknown",
            };
            return Err(format!(
                "EXR channel '{name}' has pixel type {ty} ({pixel_type}); only FLOAT is read"
            ));
        }
        if (xs, ys) != (1, 1) {
            return Err(format!(
                "EXR channel '{name}' is subsampled ({xs}x{ys}); unsupported"
            ));
        }
        if out.last().is_some_and(|c| c.name >= name) {
            return Err(format!(
                "EXR channel list is not sorted or repeats '{name}'"
            ));
        }
        out.push(Channel { name });
    }
}

#[cfg(test)]
mod tests;
