//! OpenEXR reading, for tests and tools: the files vksplat writes and others like them.
//!
//! Accepted: single-part scanline files (version 2; the long-names flag is allowed), any data
//! window, HALF and FLOAT channels without subsampling, compression none, ZIPS or ZIP, any
//! line order. Everything else (tiles, deep or multi-part files, UINT channels, other
//! compression methods such as PIZ or DWAA) is rejected by name.
//!
//! Invariant: no allocation is sized by the header alone. The pixel buffers are bounded by
//! what the file can hold (uncompressed: its size; ZIP: zlib's largest ratio, 1032:1) and
//! reserved fallibly; each chunk is inflated into a buffer of exactly its expected size, so
//! a zlib bomb stops there.

use std::path::Path;

use super::exr::{zip_unpredict, ExrCompression, ExrValue, EXR_MAGIC, PIXEL_FLOAT, PIXEL_HALF};
use crate::half::half_to_f32;
use crate::IoError;

const FLAG_TILED: u32 = 0x200;
const FLAG_LONG_NAMES: u32 = 0x400;
const FLAG_DEEP: u32 = 0x800;
const FLAG_MULTIPART: u32 = 0x1000;
/// The largest expansion zlib can achieve (deflate's limit is about 1032:1).
const ZLIB_MAX_RATIO: u128 = 1032;

/// A decoded EXR image; every channel is converted to f32.
#[derive(Clone, Debug, PartialEq)]
pub struct ExrImage {
    /// Data-window width.
    pub width: u32,
    /// Data-window height.
    pub height: u32,
    /// Channels in file (alphabetical) order, each `width * height` floats,
    /// row-major.
    pub channels: Vec<(String, Vec<f32>)>,
    /// The header's `string` attributes, in file order.
    pub attributes: Vec<(String, String)>,
    /// The other header attributes (all but `channels`), in file order.
    pub typed_attributes: Vec<(String, ExrValue)>,
    /// How the pixels were compressed.
    pub compression: ExrCompression,
    /// The channels stored as HALF (the others are FLOAT).
    pub half_channels: Vec<String>,
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

    /// The value of non-string attribute `name`, if present.
    pub fn value(&self, name: &str) -> Option<&ExrValue> {
        self.typed_attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// Reads a scanline EXR (see the module docs for what is accepted).
pub fn read_exr(path: &Path) -> Result<ExrImage, IoError> {
    let bytes =
        std::fs::read(path).map_err(|e| IoError::input(path, format!("cannot read: {e}")))?;
    parse_exr(&bytes).map_err(|e| match e {
        ReadError::Invalid(m) => IoError::input(path, m),
        ReadError::Memory(bytes) => IoError::out_of_memory(path, bytes),
    })
}

enum ReadError {
    Invalid(String),
    Memory(u64),
}

impl From<String> for ReadError {
    fn from(m: String) -> Self {
        ReadError::Invalid(m)
    }
}

impl From<&str> for ReadError {
    fn from(m: &str) -> Self {
        ReadError::Invalid(m.to_string())
    }
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
    half: bool,
}

impl Channel {
    fn sample_bytes(&self) -> usize {
        if self.half {
            2
        } else {
            4
        }
    }
}

fn compression_name(code: u8) -> String {
    let known = [
        "none", "RLE", "ZIPS", "ZIP", "PIZ", "PXR24", "B44", "B44A", "DWAA", "DWAB", "HTJ2K256",
        "HTJ2K32",
    ];
    known
        .get(code as usize)
        .map_or(format!("unknown ({code})"), |n| format!("{n} ({code})"))
}

fn parse_exr(bytes: &[u8]) -> Result<ExrImage, ReadError> {
    let mut cur = Cursor { bytes, pos: 0 };
    if bytes.len() < 4 || cur.u32("magic number")? != EXR_MAGIC {
        return Err("not an OpenEXR file (bad magic number)".into());
    }
    let version = cur.u32("version")?;
    if version & 0xff != 2 {
        return Err(format!("unsupported OpenEXR version {}", version & 0xff).into());
    }
    let flags = version & !0xff;
    if flags & (FLAG_TILED | FLAG_DEEP | FLAG_MULTIPART) != 0 {
        return Err(format!(
            "unsupported EXR layout (flags {flags:#x}): only single-part scanline files are read"
        )
        .into());
    }
    if flags & !FLAG_LONG_NAMES != 0 {
        return Err(format!("unknown EXR version flags {flags:#x}").into());
    }

    let mut channels: Option<Vec<Channel>> = None;
    let mut compression = None;
    let mut data_window = None;
    let mut attributes = Vec::new();
    let mut typed_attributes = Vec::new();
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
            ("channels", "chlist") => {
                channels = Some(parse_chlist(value)?);
                continue;
            }
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
                continue;
            }
            _ => {}
        }
        typed_attributes.push((name, ExrValue::decode(&ty, value)));
    }
    let channels = channels.ok_or("EXR header has no 'channels' attribute")?;
    let code = compression.ok_or("EXR header has no 'compression' attribute")?;
    let compression = match ExrCompression::from_code(code) {
        Some(c @ (ExrCompression::None | ExrCompression::Zip | ExrCompression::Zips)) => c,
        _ => {
            return Err(format!(
                "EXR compression {} is not read by vksplat (it reads none, ZIPS and ZIP)",
                compression_name(code)
            )
            .into())
        }
    };
    let [x0, y0, x1, y1] = data_window.ok_or("EXR header has no valid 'dataWindow' attribute")?;
    let width = i64::from(x1) - i64::from(x0) + 1;
    let height = i64::from(y1) - i64::from(y0) + 1;
    if width < 1 || height < 1 {
        return Err(format!("EXR data window {x0},{y0}..{x1},{y1} is empty").into());
    }
    let (w, h) = (width as usize, height as usize);
    let line_bytes: u128 = channels
        .iter()
        .map(|c| w as u128 * c.sample_bytes() as u128)
        .sum();
    let lines_per_chunk = compression.lines_per_chunk();
    let chunks = h.div_ceil(lines_per_chunk);
    // Every chunk needs an 8-byte offset and 8 bytes of chunk header plus its data, which
    // compression shrinks by at most zlib's ratio: a data window larger than the file can
    // hold is rejected before any allocation.
    let ratio = if compression == ExrCompression::None {
        1
    } else {
        ZLIB_MAX_RATIO
    };
    let file = bytes.len() as u128;
    if chunks as u128 * 16 > file || h as u128 * line_bytes > file * ratio {
        return Err(format!(
            "EXR data window {width}x{height} with {} channels needs more data than the file's \
             {} bytes",
            channels.len(),
            bytes.len()
        )
        .into());
    }
    let line_bytes = line_bytes as usize;

    let offsets: Vec<u64> = (0..chunks)
        .map(|_| cur.u64("offset table"))
        .collect::<Result<_, _>>()?;
    let pixels = w * h;
    let mut data: Vec<Vec<f32>> = Vec::new();
    for _ in &channels {
        data.push(crate::memory::zeroed::<f32>(pixels).map_err(|e| ReadError::Memory(e.bytes))?);
    }
    let mut seen = vec![false; chunks];
    let mut raw = Vec::new();
    let mut scratch = Vec::new();
    for (i, &offset) in offsets.iter().enumerate() {
        let mut c = Cursor {
            bytes,
            pos: usize::try_from(offset).unwrap_or(usize::MAX),
        };
        let what = format!("chunk {i}");
        let y = c.i32(&what)?;
        let size = c.i32(&what)?;
        let row = i64::from(y) - i64::from(y0);
        if !(0..height).contains(&row) || !(row as usize).is_multiple_of(lines_per_chunk) {
            return Err(format!(
                "EXR {what} starts at y = {y}, not a chunk start inside the data window"
            )
            .into());
        }
        let row = row as usize;
        if std::mem::replace(&mut seen[row / lines_per_chunk], true) {
            return Err(format!("EXR chunk at y = {y} appears twice").into());
        }
        let lines = lines_per_chunk.min(h - row);
        let raw_len = lines * line_bytes;
        let size =
            usize::try_from(size).map_err(|_| format!("EXR {what} has a negative size {size}"))?;
        let payload = c.take(size, &what)?;
        let chunk: &[u8] = if size == raw_len {
            // Uncompressed, or compressed data that did not shrink (stored raw).
            payload
        } else if compression == ExrCompression::None {
            return Err(format!(
                "EXR {what} has {size} bytes, expected {raw_len} for uncompressed data"
            )
            .into());
        } else {
            inflate(payload, raw_len, &mut scratch)
                .map_err(|m| format!("EXR {what} (y = {y}): {m}"))?;
            raw.resize(raw_len, 0);
            zip_unpredict(&mut scratch, &mut raw);
            &raw
        };
        let mut at = 0;
        for line in row..row + lines {
            for (ch, dst) in channels.iter().zip(data.iter_mut()) {
                let n = w * ch.sample_bytes();
                let src = &chunk[at..at + n];
                at += n;
                let dst = &mut dst[line * w..(line + 1) * w];
                if ch.half {
                    for (d, s) in dst.iter_mut().zip(src.chunks_exact(2)) {
                        *d = half_to_f32(u16::from_le_bytes([s[0], s[1]]));
                    }
                } else {
                    for (d, s) in dst.iter_mut().zip(src.chunks_exact(4)) {
                        *d = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                    }
                }
            }
        }
    }
    Ok(ExrImage {
        width: w as u32,
        height: h as u32,
        half_channels: channels
            .iter()
            .filter(|c| c.half)
            .map(|c| c.name.clone())
            .collect(),
        channels: channels.into_iter().map(|c| c.name).zip(data).collect(),
        attributes,
        typed_attributes,
        compression,
    })
}

/// Inflates a zlib stream that must decode to exactly `len` bytes (never writing more).
fn inflate(payload: &[u8], len: usize, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    out.resize(len, 0);
    let mut z = flate2::Decompress::new(true);
    let status = z
        .decompress(payload, out, flate2::FlushDecompress::Finish)
        .map_err(|e| format!("corrupt zlib data ({e})"))?;
    let produced = z.total_out();
    match status {
        flate2::Status::StreamEnd if produced == len as u64 => Ok(()),
        flate2::Status::StreamEnd => {
            Err(format!("decompresses to {produced} bytes, expected {len}"))
        }
        _ if produced == len as u64 => Err(format!("decompresses to more than {len} bytes")),
        _ => Err("truncated zlib data".into()),
    }
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
        let half = match pixel_type {
            PIXEL_HALF => true,
            PIXEL_FLOAT => false,
            0 => {
                return Err(format!(
                    "EXR channel '{name}' has pixel type UINT (0); only HALF and FLOAT are read"
                ))
            }
            _ => {
                return Err(format!(
                    "EXR channel '{name}' has unknown pixel type {pixel_type}"
                ))
            }
        };
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
        out.push(Channel { name, half });
    }
}
