//! NumPy arrays: `.npy` files and `.npz` archives (zip files of `.npy` entries), as written by
//! `numpy.save`, `numpy.savez` and `numpy.savez_compressed`. Used for keyframe tracks
//! (Dynamic3DGaussians' `params.npz`) and pose files.
//!
//! What is read: format versions 1–3; C order; the dtypes `f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8
//! b1` in either byte order, every value converted to `f32` (f64 values outside f32's range
//! become ±inf and integers above 2²⁴ round: callers that need finite values check them, see
//! [`Array::first_non_finite`]). Archives: stored and deflated entries, zip64 records (numpy
//! writes zip64 local headers), the central directory is authoritative.
//!
//! Invariants:
//! * nothing is allocated from an unchecked size: the central directory must lie inside the
//!   file, an entry's compressed bytes must lie inside the file, and an array's size from its
//!   header must equal the entry's declared size (or the `.npy` file's length) before its
//!   values are allocated (fallibly, [`crate::memory`]);
//! * entries are decoded in a stream straight into the `f32` array (no copy of the raw entry),
//!   their CRC-32 checked; a stream that ends early or runs past its declared size is an error;
//! * every error is an [`IoError::Input`] naming the file and, for archives, the entry.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::IoError;

/// The longest `.npy` header accepted (numpy's own limit for reading is 10 000 bytes unless
/// told otherwise; version 2 headers may be longer, but never this long for a plain array).
const MAX_HEADER: usize = 1 << 20;
/// More dimensions than numpy allows (64) is a malformed header.
const MAX_DIMS: usize = 64;

/// One array, values converted to `f32`, C order (the last index varies fastest).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The dimensions, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
    /// The stored dtype as numpy wrote it (e.g. `<f4`), for messages.
    pub dtype: String,
}

impl Array {
    /// The flat index of the first NaN or infinite value.
    pub fn first_non_finite(&self) -> Option<usize> {
        self.data.iter().position(|v| !v.is_finite())
    }

    /// The multi-index of flat index `flat` (for messages: "means3D[2, 17, 0]").
    pub fn index_of(&self, mut flat: usize) -> Vec<usize> {
        let mut index = vec![0; self.shape.len()];
        for (slot, &dim) in index.iter_mut().zip(&self.shape).rev() {
            if dim > 0 {
                *slot = flat % dim;
                flat /= dim;
            }
        }
        index
    }

    /// Whether the shape matches `want` (`None` = any size in that dimension).
    pub fn has_shape(&self, want: &[Option<usize>]) -> bool {
        self.shape.len() == want.len()
            && self
                .shape
                .iter()
                .zip(want)
                .all(|(&d, w)| w.is_none_or(|w| w == d))
    }
}

/// `(2, 3)` / `(*, 3)` as numpy prints shapes.
pub fn shape_text(dims: impl IntoIterator<Item = Option<usize>>) -> String {
    let parts: Vec<String> = dims
        .into_iter()
        .map(|d| d.map_or("*".to_string(), |d| d.to_string()))
        .collect();
    match parts.len() {
        1 => format!("({},)", parts[0]),
        _ => format!("({})", parts.join(", ")),
    }
}

/// Reads a `.npy` file.
pub fn read_npy(path: &Path) -> Result<Array, IoError> {
    let (file, len) = crate::input::open(path)?;
    let mut reader = std::io::BufReader::new(file);
    let fail = |m: String| IoError::input(path, m);
    let header = read_header(&mut reader).map_err(fail)?;
    if header.total_len() != len {
        return Err(fail(format!(
            "the header describes {} bytes ({} {}, header {} bytes) but the file has {len}",
            header.total_len(),
            shape_text(header.shape.iter().map(|&d| Some(d))),
            header.dtype.descr,
            header.header_len
        )));
    }
    read_values(&mut reader, &header).map_err(|e| e.into_io(path, fail))
}

/// An open `.npz` archive: its entries, read one at a time with [`Npz::read`].
pub struct Npz {
    path: PathBuf,
    file: File,
    len: u64,
    entries: Vec<Entry>,
}

/// One central-directory record of a zip archive.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) name: String,
    method: u16,
    flags: u16,
    crc: u32,
    compressed: u64,
    uncompressed: u64,
    local_offset: u64,
}

impl Entry {
    /// The entry's uncompressed size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.uncompressed
    }

    /// Whether the entry is stored uncompressed (its bytes can be read in place).
    pub(crate) fn is_stored(&self) -> bool {
        self.method == 0
    }
}

impl Npz {
    /// Opens an archive and reads its central directory (no array is read yet).
    pub fn open(path: &Path) -> Result<Npz, IoError> {
        let (file, len) = crate::input::open(path)?;
        let entries = read_directory(&mut &file, len).map_err(|m| IoError::input(path, m))?;
        Ok(Npz {
            path: path.to_path_buf(),
            file,
            len,
            entries,
        })
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The arrays' names (entry names without `.npy`), in archive order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .map(|e| e.name.strip_suffix(".npy").unwrap_or(&e.name))
    }

    /// Whether the archive has an array `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    fn find(&self, name: &str) -> Option<&Entry> {
        let with_suffix = format!("{name}.npy");
        self.entries
            .iter()
            .find(|e| e.name == with_suffix)
            .or_else(|| self.entries.iter().find(|e| e.name == name))
    }

    /// Reads array `name` (errors name the file and the entry).
    pub fn read(&self, name: &str) -> Result<Array, IoError> {
        let path = &self.path;
        let Some(entry) = self.find(name) else {
            let mut names: Vec<&str> = self.names().collect();
            names.sort_unstable();
            return Err(IoError::input(
                path,
                format!(
                    "has no array '{name}' (it has: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        };
        let fail = |m: String| IoError::input(path, format!("array '{name}': {m}"));
        let start = self.data_start(entry).map_err(fail)?;
        let mut file = &self.file;
        file.seek(SeekFrom::Start(start))
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        let raw = std::io::BufReader::new(file.take(entry.compressed));
        match entry.method {
            0 => self.decode(entry, raw, name),
            8 => self.decode(entry, flate2::bufread::DeflateDecoder::new(raw), name),
            m => Err(fail(format!(
                "compression method {m} (only stored and deflated entries are read)"
            ))),
        }
    }

    /// Reads array `name` and checks its shape against `want` (`None` = any size).
    pub fn read_shaped(&self, name: &str, want: &[Option<usize>]) -> Result<Array, IoError> {
        let array = self.read(name)?;
        if !array.has_shape(want) {
            return Err(IoError::input(
                &self.path,
                format!(
                    "array '{name}' has shape {}, expected {}",
                    shape_text(array.shape.iter().map(|&d| Some(d))),
                    shape_text(want.iter().copied())
                ),
            ));
        }
        Ok(array)
    }

    /// Where `entry`'s compressed bytes start (after its local header), checked to lie with
    /// all of them inside the file.
    fn data_start(&self, entry: &Entry) -> Result<u64, String> {
        entry_start(&mut &self.file, self.len, entry)
    }

    fn decode(&self, entry: &Entry, stream: impl Read, name: &str) -> Result<Array, IoError> {
        let path = &self.path;
        let fail = |m: String| IoError::input(path, format!("array '{name}': {m}"));
        let mut reader = flate2::CrcReader::new(stream);
        let header = read_header(&mut reader).map_err(fail)?;
        if header.total_len() != entry.uncompressed {
            return Err(fail(format!(
                "the header describes {} bytes ({} {}) but the entry declares {}",
                header.total_len(),
                shape_text(header.shape.iter().map(|&d| Some(d))),
                header.dtype.descr,
                entry.uncompressed
            )));
        }
        let array = read_values(&mut reader, &header).map_err(|e| e.into_io(path, fail))?;
        let mut extra = [0u8; 1];
        match reader.read(&mut extra) {
            Ok(0) => {}
            Ok(_) => return Err(fail("holds more data than its declared size".into())),
            Err(e) => return Err(fail(format!("damaged compressed data: {e}"))),
        }
        if reader.crc().sum() != entry.crc {
            return Err(fail(format!(
                "CRC-32 mismatch (stored {:08x}, computed {:08x}): the data is damaged",
                entry.crc,
                reader.crc().sum()
            )));
        }
        Ok(array)
    }
}

/// Where `entry`'s compressed bytes start (after its local header) in the `len`-byte archive
/// `file`, checked to lie with all of them inside it.
pub(crate) fn entry_start<R: Read + Seek + ?Sized>(
    file: &mut R,
    len: u64,
    entry: &Entry,
) -> Result<u64, String> {
    if entry.flags & 1 != 0 {
        return Err("is encrypted".into());
    }
    if entry.method == 0 && entry.compressed != entry.uncompressed {
        return Err(format!(
            "stored entry with {} compressed but {} uncompressed bytes",
            entry.compressed, entry.uncompressed
        ));
    }
    let mut local = [0u8; 30];
    file.seek(SeekFrom::Start(entry.local_offset))
        .and_then(|_| file.read_exact(&mut local))
        .map_err(|_| {
            format!(
                "local header at byte {} lies outside the file",
                entry.local_offset
            )
        })?;
    if u32_at(&local, 0) != 0x0403_4b50 {
        return Err(format!(
            "no local header at byte {} (truncated or damaged archive)",
            entry.local_offset
        ));
    }
    let start = entry.local_offset + 30 + u16_at(&local, 26) as u64 + u16_at(&local, 28) as u64;
    match start.checked_add(entry.compressed) {
        Some(end) if end <= len => Ok(start),
        _ => Err(format!(
            "its {} bytes at byte {start} run past the end of the file ({} bytes): truncated",
            entry.compressed, len
        )),
    }
}

/// The bytes of `entry` of the zip archive held in `archive` (stored or deflated), CRC-32
/// checked; an entry declaring more than `cap` bytes is refused before anything is allocated.
pub(crate) fn entry_bytes(archive: &[u8], entry: &Entry, cap: u64) -> Result<Vec<u8>, String> {
    read_entry(
        &mut std::io::Cursor::new(archive),
        archive.len() as u64,
        entry,
        cap,
    )
}

/// [`entry_bytes`] of the `len`-byte archive `file` (a [`File`] or bytes in memory).
pub(crate) fn read_entry<R: Read + Seek + ?Sized>(
    file: &mut R,
    len: u64,
    entry: &Entry,
    cap: u64,
) -> Result<Vec<u8>, String> {
    if entry.uncompressed > cap {
        return Err(format!(
            "declares {} bytes, more than the {cap} it may hold",
            entry.uncompressed
        ));
    }
    let start = entry_start(file, len, entry)?;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| format!("cannot read: {e}"))?;
    let raw = std::io::Read::take(file, entry.compressed);
    let mut out =
        crate::memory::zeroed::<u8>(entry.uncompressed as usize).map_err(|e| e.to_string())?;
    let stream: Box<dyn Read + '_> = match entry.method {
        0 => Box::new(raw),
        8 => Box::new(flate2::read::DeflateDecoder::new(raw)),
        m => {
            return Err(format!(
                "compression method {m} (only stored and deflated entries are read)"
            ))
        }
    };
    let mut reader = flate2::CrcReader::new(stream);
    reader
        .read_exact(&mut out)
        .map_err(|e| format!("damaged or truncated data: {e}"))?;
    let mut extra = [0u8; 1];
    match reader.read(&mut extra) {
        Ok(0) => {}
        Ok(_) => return Err("holds more data than its declared size".into()),
        Err(e) => return Err(format!("damaged compressed data: {e}")),
    }
    if reader.crc().sum() != entry.crc {
        return Err(format!(
            "CRC-32 mismatch (stored {:08x}, computed {:08x}): the data is damaged",
            entry.crc,
            reader.crc().sum()
        ));
    }
    Ok(out)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads `len` bytes at `offset` (the caller checked they lie inside the file).
fn read_at<R: Read + Seek + ?Sized>(
    file: &mut R,
    offset: u64,
    len: usize,
) -> Result<Vec<u8>, String> {
    let mut buf = crate::memory::zeroed::<u8>(len).map_err(|e| e.to_string())?;
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut buf))
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(buf)
}

/// The entries of the central directory (end record, zip64 end record when present) of the
/// `len`-byte archive `file` (a [`File`] or bytes in memory: the SOG reader uses it too).
pub(crate) fn read_directory<R: Read + Seek + ?Sized>(
    file: &mut R,
    len: u64,
) -> Result<Vec<Entry>, String> {
    const EOCD: usize = 22;
    if len < EOCD as u64 {
        return Err(format!(
            "is not an npz (zip) archive: {len} bytes, shorter than a zip end record"
        ));
    }
    // The end record sits in the last 22 + 65 535 (comment) bytes.
    let tail_len = len.min(EOCD as u64 + 0xffff) as usize;
    let tail_start = len - tail_len as u64;
    let tail = read_at(file, tail_start, tail_len)?;
    let Some(at) = (0..=tail_len - EOCD)
        .rev()
        .find(|&i| u32_at(&tail, i) == 0x0605_4b50)
    else {
        return Err(
            "is not an npz (zip) archive: no end-of-central-directory record \
                    (truncated, or not a zip file)"
                .into(),
        );
    };
    let eocd = &tail[at..];
    let mut count = u16_at(eocd, 10) as u64;
    let mut cd_size = u32_at(eocd, 12) as u64;
    let mut cd_offset = u32_at(eocd, 16) as u64;
    let eocd_pos = tail_start + at as u64;
    if count == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff {
        // zip64: a locator 20 bytes before the end record points to the zip64 end record.
        if eocd_pos < 20 {
            return Err("zip64 archive without its zip64 end-record locator".into());
        }
        let locator = read_at(file, eocd_pos - 20, 20)?;
        if u32_at(&locator, 0) != 0x0706_4b50 {
            return Err("zip64 archive without its zip64 end-record locator".into());
        }
        let record_pos = u64_at(&locator, 8);
        if record_pos.checked_add(56).is_none_or(|end| end > eocd_pos) {
            return Err("the zip64 end record lies outside the file".into());
        }
        let record = read_at(file, record_pos, 56)?;
        if u32_at(&record, 0) != 0x0606_4b50 {
            return Err("no zip64 end record where its locator points".into());
        }
        count = u64_at(&record, 32);
        cd_size = u64_at(&record, 40);
        cd_offset = u64_at(&record, 48);
    }
    if cd_offset
        .checked_add(cd_size)
        .is_none_or(|end| end > eocd_pos)
    {
        return Err(format!(
            "the central directory ({cd_size} bytes at byte {cd_offset}) lies outside the \
             file: truncated or damaged archive"
        ));
    }
    // Each record takes at least 46 bytes, so the count is bounded by the directory's size.
    if count > cd_size / 46 {
        return Err(format!(
            "the central directory claims {count} entries in {cd_size} bytes"
        ));
    }
    let cd = read_at(file, cd_offset, cd_size as usize)?;
    let mut entries = Vec::new();
    let mut p = 0usize;
    for k in 0..count {
        let bad = || format!("central directory record {k} is damaged");
        if p + 46 > cd.len() || u32_at(&cd, p) != 0x0201_4b50 {
            return Err(bad());
        }
        let r = &cd[p..];
        let name_len = u16_at(r, 28) as usize;
        let extra_len = u16_at(r, 30) as usize;
        let comment_len = u16_at(r, 32) as usize;
        let end = 46 + name_len + extra_len + comment_len;
        if p + end > cd.len() {
            return Err(bad());
        }
        let name = String::from_utf8_lossy(&r[46..46 + name_len]).into_owned();
        let mut entry = Entry {
            name,
            flags: u16_at(r, 8),
            method: u16_at(r, 10),
            crc: u32_at(r, 16),
            compressed: u32_at(r, 20) as u64,
            uncompressed: u32_at(r, 24) as u64,
            local_offset: u32_at(r, 42) as u64,
        };
        zip64_sizes(&mut entry, &r[46 + name_len..46 + name_len + extra_len])
            .map_err(|m| format!("central directory record {k} ('{}'): {m}", entry.name))?;
        entries.push(entry);
        p += end;
    }
    Ok(entries)
}

/// Replaces the 0xffffffff placeholders of `entry` with the values of its zip64 extra field
/// (id 1: uncompressed size, compressed size, local header offset, in that order, each
/// present only when its placeholder is).
fn zip64_sizes(entry: &mut Entry, mut extra: &[u8]) -> Result<(), String> {
    let wanted = [
        entry.uncompressed == 0xffff_ffff,
        entry.compressed == 0xffff_ffff,
        entry.local_offset == 0xffff_ffff,
    ];
    if !wanted.contains(&true) {
        return Ok(());
    }
    while extra.len() >= 4 {
        let (id, size) = (u16_at(extra, 0), u16_at(extra, 2) as usize);
        let Some(body) = extra.get(4..4 + size) else {
            break;
        };
        if id == 1 {
            let mut fields = body.chunks_exact(8).map(|c| u64_at(c, 0));
            for (want, slot) in wanted.into_iter().zip([
                &mut entry.uncompressed,
                &mut entry.compressed,
                &mut entry.local_offset,
            ]) {
                if want {
                    *slot = fields
                        .next()
                        .ok_or("zip64 extra field is shorter than its placeholders need")?;
                }
            }
            return Ok(());
        }
        extra = &extra[4 + size..];
    }
    Err("sizes are zip64 placeholders but there is no zip64 extra field".into())
}

/// A dtype the reader converts.
#[derive(Clone, Debug)]
struct Dtype {
    descr: String,
    big_endian: bool,
    kind: u8,
    size: usize,
}

impl Dtype {
    fn parse(descr: &str) -> Result<Dtype, String> {
        let b = descr.as_bytes();
        let unsupported = || {
            format!(
                "dtype '{descr}' is not supported (floats f2/f4/f8, integers i1..i8/u1..u8 \
                 and b1 are)"
            )
        };
        if b.len() < 3 {
            return Err(unsupported());
        }
        let big_endian = match b[0] {
            b'<' | b'|' | b'=' => false,
            b'>' => true,
            _ => return Err(unsupported()),
        };
        let size: usize = descr[2..].parse().map_err(|_| unsupported())?;
        let ok = match b[1] {
            b'f' => matches!(size, 2 | 4 | 8),
            b'i' | b'u' => matches!(size, 1 | 2 | 4 | 8),
            b'b' => size == 1,
            _ => false,
        };
        if !ok {
            return Err(unsupported());
        }
        Ok(Dtype {
            descr: descr.to_string(),
            big_endian,
            kind: b[1],
            size,
        })
    }

    /// One stored value as f32.
    fn convert(&self, raw: &[u8]) -> f32 {
        let mut bytes = [0u8; 8];
        bytes[..self.size].copy_from_slice(raw);
        if self.big_endian {
            bytes[..self.size].reverse();
        }
        match (self.kind, self.size) {
            (b'f', 2) => crate::half::half_to_f32(u16::from_le_bytes([bytes[0], bytes[1]])),
            (b'f', 4) => f32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")),
            (b'f', _) => f64::from_le_bytes(bytes) as f32,
            (b'u' | b'b', _) => u64::from_le_bytes(bytes) as f32,
            (_, n) => {
                // Sign-extend an n-byte integer.
                let shift = 64 - 8 * n as u32;
                ((u64::from_le_bytes(bytes) << shift) as i64 >> shift) as f32
            }
        }
    }
}

/// A parsed `.npy` header.
struct Header {
    dtype: Dtype,
    shape: Vec<usize>,
    count: usize,
    /// Magic, version, length field and header text.
    header_len: u64,
}

impl Header {
    fn data_len(&self) -> u64 {
        self.count as u64 * self.dtype.size as u64
    }

    fn total_len(&self) -> u64 {
        self.header_len + self.data_len()
    }
}

fn read_header(r: &mut impl Read) -> Result<Header, String> {
    let mut pre = [0u8; 8];
    read_full(r, &mut pre).map_err(|e| format!("not an .npy array: {e}"))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err("not an .npy array (no \\x93NUMPY magic)".into());
    }
    let (len, field) = match pre[6] {
        1 => {
            let mut l = [0u8; 2];
            read_full(r, &mut l).map_err(|e| format!("truncated .npy header: {e}"))?;
            (u16::from_le_bytes(l) as usize, 2)
        }
        2 | 3 => {
            let mut l = [0u8; 4];
            read_full(r, &mut l).map_err(|e| format!("truncated .npy header: {e}"))?;
            (u32::from_le_bytes(l) as usize, 4)
        }
        v => {
            return Err(format!(
                ".npy format version {v} is not supported (1-3 are)"
            ))
        }
    };
    if len > MAX_HEADER {
        return Err(format!(
            ".npy header of {len} bytes is longer than {MAX_HEADER}"
        ));
    }
    let mut text = vec![0u8; len];
    read_full(r, &mut text).map_err(|e| format!("truncated .npy header: {e}"))?;
    let text = std::str::from_utf8(&text)
        .map_err(|_| ".npy header is not text".to_string())?
        .trim_end_matches(['\n', ' ', '\0']);
    let dict = Literal::parse(text).map_err(|m| format!(".npy header '{text}': {m}"))?;
    let Literal::Dict(items) = dict else {
        return Err(format!(".npy header '{text}' is not a dictionary"));
    };
    let get = |key: &str| {
        items
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .ok_or_else(|| format!(".npy header '{text}' has no '{key}'"))
    };
    let Literal::Str(descr) = get("descr")? else {
        return Err(format!(
            ".npy header '{text}': structured dtypes are not supported (a plain number \
             array is)"
        ));
    };
    let dtype = Dtype::parse(descr)?;
    match get("fortran_order")? {
        Literal::Bool(false) => {}
        Literal::Bool(true) => {
            return Err("Fortran-order array (save it in C order: np.ascontiguousarray)".into())
        }
        _ => {
            return Err(format!(
                ".npy header '{text}': fortran_order is not a boolean"
            ))
        }
    }
    let Literal::Tuple(dims) = get("shape")? else {
        return Err(format!(".npy header '{text}': shape is not a tuple"));
    };
    if dims.len() > MAX_DIMS {
        return Err(format!("{} dimensions (at most {MAX_DIMS})", dims.len()));
    }
    let mut shape = Vec::with_capacity(dims.len());
    let mut count: usize = 1;
    for d in dims {
        let Literal::Int(d) = d else {
            return Err(format!(".npy header '{text}': shape holds a non-integer"));
        };
        let d = usize::try_from(*d).map_err(|_| format!("negative dimension {d}"))?;
        count = count
            .checked_mul(d)
            .filter(|&c| (c as u64).checked_mul(dtype.size as u64).is_some())
            .ok_or_else(|| format!("shape {dims:?} overflows"))?;
        shape.push(d);
    }
    Ok(Header {
        dtype,
        shape,
        count,
        header_len: (6 + 2 + field + len) as u64,
    })
}

/// Why reading values failed: out of memory (its own error kind) or a message.
enum ValueError {
    Memory(crate::memory::AllocError),
    Message(String),
}

impl ValueError {
    fn into_io(self, path: &Path, fail: impl Fn(String) -> IoError) -> IoError {
        match self {
            ValueError::Memory(e) => e.at(path),
            ValueError::Message(m) => fail(m),
        }
    }
}

/// Reads the header's values (the caller checked their size against the file or entry).
fn read_values(r: &mut impl Read, header: &Header) -> Result<Array, ValueError> {
    let mut data = crate::memory::with_capacity::<f32>(header.count).map_err(ValueError::Memory)?;
    let size = header.dtype.size;
    let mut chunk = vec![0u8; 1 << 16];
    let total = header.data_len();
    let mut done = 0u64;
    while done < total {
        let n = (total - done).min(chunk.len() as u64) as usize;
        let got = read_full(r, &mut chunk[..n]).map_err(|e| {
            ValueError::Message(format!(
                "truncated or damaged: {e} after {} of {total} data bytes",
                done
            ))
        })?;
        debug_assert_eq!(got, n);
        data.extend(
            chunk[..n]
                .chunks_exact(size)
                .map(|v| header.dtype.convert(v)),
        );
        done += n as u64;
    }
    Ok(Array {
        shape: header.shape.clone(),
        data,
        dtype: header.dtype.descr.clone(),
    })
}

/// `read_exact` with a message that says the data ended early.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..]) {
            Ok(0) => return Err(format!("the data ends {} bytes early", buf.len() - done)),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read: {e}")),
        }
    }
    Ok(done)
}

/// The Python literals of an `.npy` header: a dict of strings, booleans and int tuples.
#[derive(Debug)]
enum Literal {
    Dict(Vec<(String, Literal)>),
    Str(String),
    Bool(bool),
    Int(i64),
    Tuple(Vec<Literal>),
}

impl Literal {
    fn parse(text: &str) -> Result<Literal, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            at: 0,
        };
        let v = p.value(0)?;
        p.space();
        if p.at != p.s.len() {
            return Err(format!("unexpected text at column {}", p.at + 1));
        }
        Ok(v)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.s.get(self.at).is_some_and(|c| c.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.s.get(self.at).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!(
                "expected '{}' at column {}",
                c as char,
                self.at + 1
            ))
        }
    }

    /// Items up to `close`, separated by commas (a trailing comma allowed).
    fn items<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut out = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.at += 1;
                return Ok(out);
            }
            out.push(item(self)?);
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(c) if c == close => {}
                _ => return Err(format!("expected ',' at column {}", self.at + 1)),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Literal, String> {
        if depth > 4 {
            return Err("nested too deeply".into());
        }
        match self.peek() {
            Some(b'{') => {
                self.at += 1;
                let items = self.items(b'}', |p| {
                    let Literal::Str(k) = p.value(depth + 1)? else {
                        return Err("a dictionary key is not a string".to_string());
                    };
                    p.expect(b':')?;
                    Ok((k, p.value(depth + 1)?))
                })?;
                Ok(Literal::Dict(items))
            }
            Some(open @ (b'(' | b'[')) => {
                self.at += 1;
                let close = if open == b'(' { b')' } else { b']' };
                Ok(Literal::Tuple(self.items(close, |p| p.value(depth + 1))?))
            }
            Some(q @ (b'\'' | b'"')) => {
                self.at += 1;
                let start = self.at;
                while self.s.get(self.at).is_some_and(|&c| c != q) {
                    if self.s[self.at] == b'\\' {
                        return Err("escapes in strings are not supported".into());
                    }
                    self.at += 1;
                }
                if self.at >= self.s.len() {
                    return Err("unterminated string".into());
                }
                let s = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
                self.at += 1;
                Ok(Literal::Str(s))
            }
            Some(c) if c.is_ascii_digit() || c == b'-' => {
                let start = self.at;
                self.at += 1;
                while self.s.get(self.at).is_some_and(|c| c.is_ascii_digit()) {
                    self.at += 1;
                }
                // numpy 1.x wrote Python 2 longs in some versions ("3L").
                let digits = std::str::from_utf8(&self.s[start..self.at]).expect("ASCII");
                if self.s.get(self.at) == Some(&b'L') {
                    self.at += 1;
                }
                digits
                    .parse()
                    .map(Literal::Int)
                    .map_err(|_| format!("bad integer '{digits}'"))
            }
            _ => {
                for (word, v) in [("True", true), ("False", false)] {
                    if self.s[self.at..].starts_with(word.as_bytes()) {
                        self.at += word.len();
                        return Ok(Literal::Bool(v));
                    }
                }
                Err(format!("unexpected text at column {}", self.at + 1))
            }
        }
    }
}

#[cfg(test)]
mod tests;
