//! Niantic SPZ, versions 1–4, read; versions 2–4 written.
//!
//! Layout (all little-endian), from the published format description:
//!
//! * **v1–v3**: one gzip stream holding a 16-byte header — `magic` 0x5053474e ("NGSP"),
//!   `version`, `num_points` (u32), `sh_degree`, `fractional_bits`, `flags`, `reserved` (u8) —
//!   then the arrays positions, alphas, colours, scales, rotations, SH, each for all points.
//!   The same payload without the gzip wrapper (an early, non-standard variant) is accepted.
//! * **v4**: a plain 32-byte header — the same first 15 bytes, then `num_streams` (u8),
//!   `toc_offset` (u32), 12 reserved bytes — optional extension records up to `toc_offset`, a
//!   table of `num_streams` × (compressed u64, uncompressed u64) sizes, then one zstd stream
//!   per array (the SH stream only for degree > 0), back to back.
//!
//! Per point: position 3 × 24-bit signed fixed point with `fractional_bits` (v1: 3 × f16);
//! alpha u8 = sigmoid(opacity) · 255; colour u8 = (f_dc · 0.15 + 0.5) · 255; scale u8 =
//! (log-scale + 10) · 16; rotation v1/v2 = x, y, z as u8 (v/127.5 − 1, w ≥ 0 derived),
//! v3/v4 = "smallest three" u32 (top 2 bits: index of the largest |component| in x,y,z,w
//! order, which is made positive and derived; below, for the other three in order with the
//! last in the lowest bits, 9 bits of |v|/√½·511 and a sign bit); SH u8 = v · 128 + 128,
//! coefficient-major with the channel inner, as [`Splats::sh`]. Flags: bit 0 = trained with
//! antialiasing, bit 1 = extension records present (kept as stored, see [`SpzExtra`]).
//!
//! SPZ stores RUB axes; points are converted to and from vksplat's RDF frame
//! ([`super::rub_to_rdf`]). A `SPZ_ADOBE_coordinate_system` record (upstream SPZ's type
//! 0xADBE0003, a u32 `CoordinateSystem` 1..=16) says the data are stored in another frame
//! instead; the reader converts from that one ([`frame_into_rdf`]). Degree-4 SH (allowed by
//! v3+) is kept aside, not rendered.
//!
//! Reading never copies the decompressed payload: each array is decoded from its gzip or zstd
//! stream straight into the splats in 1 MiB blocks (the v4 streams on their own threads), after
//! the declared sizes were checked against what the compressed bytes can honestly hold. A gzip
//! stream needs only deflate's 32 KiB window; a zstd stream keeps its frame's window (at most
//! the stream's size) while it decodes, as any zstd decoder must.
//!
//! Quantization steps of the writer (what a PLY → SPZ → PLY round trip can lose, at most half
//! a step for values in range): position 2^−fractional_bits (12 bits by default: 2.44e-4,
//! fewer when the scene is larger than ±2048 so that it fits 24 bits); log-scale 1/16 (range
//! −10 … 5.94); opacity 1/255; f_dc 1/(255 · 0.15) = 0.0261 (range ±3.33); quaternion
//! components √½/511 = 1.38e-3 in v3/v4, 1/127.5 in v2; SH band 1: 1/16 (5 bits), bands 2–3:
//! 1/8 (4 bits), range [−1, 127/128] (so at most 1/32 and 1/16 off for values in range).

use std::io::Read;
use std::path::Path;

#[cfg(test)]
use super::SH_SIGN_FLIP_YZ;
use super::{check_count, logit_from_u8, u8_from_logit};
use crate::half::half_to_f32;
use crate::memory::{self, AllocError};
use crate::{IoError, Splats};

const MAGIC: u32 = 0x5053_474e;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const COLOR_SCALE: f64 = 0.15;
/// Bytes a v1–v3 extension block may add after the SH array.
const MAX_TRAILING_BYTES: u64 = 16 << 20;
/// Largest expansion either codec can reach: deflate ~1032:1, zstd RLE blocks ~32768:1
/// (4 bytes for a 128 KiB block). A count that needs more is a lie. The deflate bound also
/// caps a whole v4 file (all its streams together): some arrays of a real scene can be runs
/// (zero SH bands), but its positions vary, so a file whose streams are all runs is a bomb.
const GZIP_MAX_RATIO: u64 = 1100;
const ZSTD_MAX_RATIO: u64 = 40_000;

/// How the SPZ bytes were packaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpzContainer {
    /// v1–v3 inside one gzip stream (the standard form).
    Gzip,
    /// v1–v3 payload without gzip (non-standard, seen in old tools' fixtures).
    Raw,
    /// v4: per-array zstd streams.
    Zstd,
}

/// What an SPZ file held besides the splats.
#[derive(Debug)]
pub(crate) struct SpzInfo {
    pub version: u32,
    pub container: SpzContainer,
    pub antialiased: bool,
    /// Things the reader had to adapt (e.g. SH band 4 kept aside).
    pub notes: Vec<String>,
    /// What the splats cannot hold: SH band 4, extension records.
    pub extra: SpzExtra,
}

/// Bytes of SH band 4 per splat: 9 coefficients × 3 channels.
const BAND4: usize = 27;

/// What an SPZ file holds beyond vksplat's splats, kept as stored so that SPZ → SPZ
/// conversion carries it: SH band 4 (RUB frame, the file's quantization) and the extension
/// records (type u32, byte length u32, payload; not interpreted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpzExtra {
    /// 27 bytes per splat (coefficient-major, channel inner), or empty.
    pub sh_band4: Vec<u8>,
    /// The records, back to back, or empty.
    pub extensions: Vec<u8>,
}

/// Zeroed room for SH band 4 when `h` declares degree 4, else empty.
fn alloc_band4(h: &Header, path: &Path) -> Result<Vec<u8>, IoError> {
    if h.sh_degree == 4 {
        memory::zeroed(h.count * BAND4).map_err(|e| e.at(path))
    } else {
        Ok(Vec::new())
    }
}

/// True when `bytes` look like SPZ (gzip magic or the NGSP magic).
pub(crate) fn sniff(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC) || bytes.starts_with(&MAGIC.to_le_bytes())
}

/// SH coefficients per channel beyond the DC term for `degree` (0..=4).
fn sh_dim(degree: u8) -> usize {
    match degree {
        0 => 0,
        1 => 3,
        2 => 8,
        3 => 15,
        _ => 24,
    }
}

/// Fields of the first 15 header bytes, common to every version.
#[derive(Clone, Copy, Debug)]
struct Header {
    version: u32,
    count: usize,
    sh_degree: u8,
    fractional_bits: u8,
    flags: u8,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Parses and checks the common header fields of `b` (at least 16 bytes).
fn parse_header(b: &[u8]) -> Result<Header, String> {
    if u32_at(b, 0) != MAGIC {
        return Err("not an SPZ payload (no NGSP magic after decompression)".into());
    }
    let version = u32_at(b, 4);
    if !(1..=4).contains(&version) {
        return Err(format!(
            "unsupported SPZ version {version} (vksplat reads versions 1 to 4)"
        ));
    }
    let count = check_count(u64::from(u32_at(b, 8))).map_err(|m| format!("the header {m}"))?;
    let sh_degree = b[12];
    if sh_degree > 4 || (sh_degree == 4 && version < 3) {
        return Err(format!(
            "SH degree {sh_degree} is invalid for SPZ version {version} (at most {})",
            if version < 3 { 3 } else { 4 }
        ));
    }
    let fractional_bits = b[13];
    if fractional_bits > 24 {
        return Err(format!(
            "fractional_bits is {fractional_bits}; a 24-bit fixed-point position has at most 24"
        ));
    }
    Ok(Header {
        version,
        count,
        sh_degree,
        fractional_bits,
        flags: b[14],
    })
}

/// Bytes per point of each array: positions, alphas, colours, scales, rotations, SH.
fn array_sizes(h: &Header) -> [usize; 6] {
    [
        if h.version == 1 { 6 } else { 9 },
        1,
        3,
        3,
        if h.version >= 3 { 4 } else { 3 },
        sh_dim(h.sh_degree) * 3,
    ]
}

const ARRAY_NAMES: [&str; 6] = [
    "positions",
    "alphas",
    "colors",
    "scales",
    "rotations",
    "spherical harmonics",
];

/// Parses an SPZ file of any supported version; `path` names it in errors.
///
/// Every array is decoded straight from its (gzip or zstd) stream into the output splats in
/// small blocks, so peak memory is the decoded scene plus a few MiB, whatever the container.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<(Splats, SpzInfo), IoError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        parse_gzip(bytes, path)
    } else if bytes.len() >= 8 && u32_at(bytes, 0) == MAGIC && u32_at(bytes, 4) == 4 {
        parse_v4(bytes, path)
    } else if bytes.len() >= 4 && u32_at(bytes, 0) == MAGIC {
        parse_raw(bytes, path)
    } else {
        Err(IoError::input(
            path,
            "not an SPZ file (neither gzip nor NGSP magic)",
        ))
    }
}

fn gzip_error(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "the gzip stream is truncated".into()
    } else {
        format!("the gzip stream is corrupt: {e}")
    }
}

/// Bytes of the arrays after the header, in u64 (count is capped, so no overflow).
fn payload_len(h: &Header) -> u64 {
    array_sizes(h).iter().map(|&s| (s * h.count) as u64).sum()
}

/// Splats of `h.count` zeros at the degree vksplat keeps (SH band 4 is dropped).
fn alloc(h: &Header, path: &Path) -> Result<Splats, IoError> {
    super::zeroed(h.count, u32::from(h.sh_degree.min(3))).map_err(|e| e.at(path))
}

fn parse_gzip(bytes: &[u8], path: &Path) -> Result<(Splats, SpzInfo), IoError> {
    let input = |m: String| IoError::input(path, m);
    let mut gz = flate2::read::GzDecoder::new(bytes);
    let mut head = [0u8; 16];
    gz.read_exact(&mut head).map_err(|e| {
        input(if e.kind() == std::io::ErrorKind::UnexpectedEof {
            "the gzip stream ends before the 16-byte SPZ header".into()
        } else {
            gzip_error(e)
        })
    })?;
    let h = parse_header(&head).map_err(input)?;
    if h.version == 4 {
        return Err(input(
            "SPZ version 4 must not be gzip-compressed (it uses zstd streams)".into(),
        ));
    }
    let need = 16 + payload_len(&h);
    // A deflate stream cannot expand more than ~1032:1: reject lying counts before reading.
    let can_hold = (bytes.len() as u64).saturating_mul(GZIP_MAX_RATIO);
    if need > can_hold {
        return Err(input(format!(
            "the header declares {} splats ({need} bytes of data) but a {}-byte gzip file can \
             hold at most {can_hold}",
            h.count,
            bytes.len()
        )));
    }
    let mut s = alloc(&h, path)?;
    let mut band4 = alloc_band4(&h, path)?;
    let mut fields = Fields::new(&mut s);
    fields.band4 = &mut band4;
    for array in 0..6 {
        stream_array(&h, array, &mut gz, &mut fields, gzip_error).map_err(input)?;
    }
    // Extensions may follow the arrays; read (and check) the rest of the stream, stopping
    // one byte past what extensions may add.
    let mut extensions = Vec::new();
    let trailing = std::io::copy(&mut (&mut gz).take(MAX_TRAILING_BYTES + 1), &mut extensions)
        .map_err(|e| input(gzip_error(e)))?;
    if trailing > MAX_TRAILING_BYTES {
        return Err(input(format!(
            "the gzip stream decompresses to more than {} bytes, far beyond the {need} that {} \
             splats need (decompression bomb?)",
            need + MAX_TRAILING_BYTES,
            h.count
        )));
    }
    let notes = trailing_notes(&h, trailing).map_err(input)?;
    let extra = SpzExtra {
        sh_band4: band4,
        extensions,
    };
    finish(&h, s, SpzContainer::Gzip, notes, extra)
}

/// A v1–v3 payload without the gzip wrapper (header + arrays).
fn parse_raw(b: &[u8], path: &Path) -> Result<(Splats, SpzInfo), IoError> {
    let input = |m: String| IoError::input(path, m);
    if b.len() < 16 {
        return Err(input(format!(
            "file is truncated: {} bytes, the SPZ header alone has 16",
            b.len()
        )));
    }
    let h = parse_header(b).map_err(input)?;
    if h.version == 4 {
        return Err(input(
            "SPZ version 4 header inside a version 1-3 container".into(),
        ));
    }
    let need = 16 + payload_len(&h);
    let have = b.len() as u64;
    if have < need {
        return Err(input(format!(
            "file is truncated: {} splats need {need} bytes of SPZ data, only {have} present",
            h.count
        )));
    }
    let notes = trailing_notes(&h, have - need).map_err(input)?;
    let mut s = alloc(&h, path)?;
    let mut band4 = alloc_band4(&h, path)?;
    let mut fields = Fields::new(&mut s);
    fields.band4 = &mut band4;
    let mut rest = &b[16..need as usize];
    for array in 0..6 {
        stream_array(&h, array, &mut rest, &mut fields, |e| e.to_string()).map_err(input)?;
    }
    let extra = SpzExtra {
        sh_band4: band4,
        extensions: b[need as usize..].to_vec(),
    };
    finish(&h, s, SpzContainer::Raw, notes, extra)
}

/// Checks the bytes after the SH array of a v1–v3 payload: only allowed when the header
/// announces extensions (which vksplat skips).
fn trailing_notes(h: &Header, extra: u64) -> Result<Vec<String>, String> {
    if extra == 0 {
        return Ok(Vec::new());
    }
    if h.flags & 0x2 == 0 {
        return Err(format!(
            "{extra} bytes follow the SH array of {} splats and the header announces no \
             extensions",
            h.count
        ));
    }
    Ok(vec![format!(
        "kept {extra} bytes of SPZ extensions (not interpreted; SPZ v3/v4 output carries them)"
    )])
}

fn parse_v4(b: &[u8], path: &Path) -> Result<(Splats, SpzInfo), IoError> {
    let input = |m: String| IoError::input(path, m);
    if b.len() < 32 {
        return Err(input(format!(
            "file is truncated: {} bytes, the SPZ v4 header has 32",
            b.len()
        )));
    }
    let h = parse_header(b).map_err(input)?;
    let num_streams = b[15] as usize;
    let toc_offset = u32_at(b, 16) as usize;
    let sizes = array_sizes(&h);
    let want_streams = if h.sh_degree > 0 { 6 } else { 5 };
    if num_streams != want_streams {
        return Err(input(format!(
            "the v4 header declares {num_streams} streams; SH degree {} needs {want_streams}",
            h.sh_degree
        )));
    }
    if toc_offset < 32 || toc_offset as u64 + num_streams as u64 * 16 > b.len() as u64 {
        return Err(input(format!(
            "the v4 table of contents at byte {toc_offset} ({num_streams} entries) does not lie \
             within the {}-byte file after the 32-byte header",
            b.len()
        )));
    }
    let mut notes = Vec::new();
    if toc_offset > 32 {
        notes.push(format!(
            "kept {} bytes of SPZ extensions (not interpreted; SPZ v3/v4 output carries them)",
            toc_offset - 32
        ));
    }
    let mut at = (toc_offset + num_streams * 16) as u64;
    let mut streams: Vec<&[u8]> = Vec::with_capacity(num_streams);
    let (mut total_in, mut total_out) = (0u64, 0u64);
    for i in 0..num_streams {
        let compressed = u64_at(b, toc_offset + i * 16);
        let uncompressed = u64_at(b, toc_offset + i * 16 + 8);
        let need = (sizes[i] * h.count) as u64;
        if uncompressed != need {
            return Err(input(format!(
                "v4 stream {i} ({}) declares {uncompressed} bytes; {} splats need {need}",
                ARRAY_NAMES[i], h.count
            )));
        }
        let end = at.checked_add(compressed).filter(|&e| e <= b.len() as u64);
        let Some(end) = end else {
            return Err(input(format!(
                "file is truncated: v4 stream {i} ({}) needs {compressed} bytes at offset {at}, \
                 the file has {}",
                ARRAY_NAMES[i],
                b.len()
            )));
        };
        if need > compressed.saturating_mul(ZSTD_MAX_RATIO) + 64 {
            return Err(input(format!(
                "v4 stream {i} ({}) cannot hold {need} bytes in {compressed} compressed bytes: \
                 the header's {} splats exceed what the file can hold",
                ARRAY_NAMES[i], h.count
            )));
        }
        streams.push(&b[at as usize..end as usize]);
        total_in += compressed;
        total_out += need;
        at = end;
    }
    // One stream of run-length blocks can honestly expand ~32768:1 (an SH band of zeros),
    // but a whole file cannot: it also stores positions, colours and rotations. Bounding the
    // whole by deflate's limit keeps every SPZ version to the same rule: a file of B bytes
    // holds at most ~1100·B bytes of splat data, so a tiny file cannot demand gigabytes.
    let can_hold = total_in.saturating_mul(GZIP_MAX_RATIO) + (1 << 20);
    if total_out > can_hold {
        return Err(input(format!(
            "the header declares {} splats ({total_out} bytes of SPZ data) but its {total_in} \
             bytes of zstd streams can honestly hold at most {can_hold} (decompression bomb?)",
            h.count
        )));
    }
    if at < b.len() as u64 {
        notes.push(format!(
            "ignored {} bytes after the last stream",
            b.len() as u64 - at
        ));
    }
    let mut s = alloc(&h, path)?;
    // Each stream decodes into its own fields, concurrently (they are independent); the
    // colours and the SH both fill `sh`, so one thread does both.
    let mut band4 = alloc_band4(&h, path)?;
    let Fields {
        means,
        alphas,
        scales,
        rotations,
        sh,
        sh_stride,
        ..
    } = Fields::new(&mut s);
    let jobs: Vec<(Vec<usize>, Fields<'_>)> = vec![
        (vec![0], Fields::only_means(means, sh_stride)),
        (vec![1], Fields::only_alphas(alphas, sh_stride)),
        (vec![3], Fields::only_scales(scales, sh_stride)),
        (vec![4], Fields::only_rotations(rotations, sh_stride)),
        (
            if h.sh_degree > 0 { vec![2, 5] } else { vec![2] },
            Fields::only_sh(sh, sh_stride, &mut band4),
        ),
    ];
    let h = &h;
    let streams = &streams;
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|(arrays, mut fields)| {
                scope.spawn(move || {
                    for i in arrays {
                        unzstd_into(h, i, streams[i], &mut fields)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err("internal error: zstd decoder panicked".into()))
            })
            .collect()
    });
    for r in results {
        r.map_err(input)?;
    }
    let extra = SpzExtra {
        sh_band4: band4,
        extensions: b[32..toc_offset].to_vec(),
    };
    finish(h, s, SpzContainer::Zstd, notes, extra)
}

/// Decodes v4 stream `index` (one or more zstd frames) into `fields`; it must hold exactly
/// the array's size.
fn unzstd_into(h: &Header, index: usize, data: &[u8], fields: &mut Fields) -> Result<(), String> {
    let name = ARRAY_NAMES[index];
    let fail = |m: String| format!("v4 stream {index} ({name}): {m}");
    let need = (array_sizes(h)[index] * h.count) as u64;
    let mut frames = ZstdFrames {
        input: data,
        frame: None,
        // A frame's window never needs to exceed the whole stream; refuse larger ones rather
        // than allocating them.
        max_window: need.next_power_of_two().clamp(1 << 20, 1 << 31),
    };
    let corrupt = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            format!("truncated: decompresses to fewer than the {need} bytes the header declares")
        } else {
            format!("corrupt zstd data: {e}")
        }
    };
    stream_array(h, index, &mut frames, fields, corrupt).map_err(fail)?;
    let mut one = [0u8; 1];
    match frames.read(&mut one) {
        Ok(0) => Ok(()),
        Ok(_) => Err(fail(format!(
            "decompresses to more than the {need} bytes the header declares"
        ))),
        Err(e) => Err(fail(format!("corrupt zstd data: {e}"))),
    }
}

/// The concatenated content of the zstd frames in `input`, as one reader.
struct ZstdFrames<'a> {
    input: &'a [u8],
    frame: Option<ruzstd::decoding::StreamingDecoder<&'a [u8], ruzstd::decoding::FrameDecoder>>,
    max_window: u64,
}

impl Read for ZstdFrames<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                self.input = frame.get_ref();
                self.frame = None;
            }
            if self.input.is_empty() {
                return Ok(0);
            }
            let dec = ruzstd::decoding::StreamingDecoder::new_with_max_window_size(
                self.input,
                self.max_window,
            )
            .map_err(|e| std::io::Error::other(format!("corrupt zstd frame: {e}")))?;
            self.frame = Some(dec);
        }
    }
}

/// Rows decoded per block while streaming an array (bounded scratch memory).
const BLOCK_BYTES: usize = 1 << 20;

/// Reads array `array` (all `h.count` records) from `src` and decodes it into `fields`.
/// `io_error` words a read failure (truncation, corruption) for this container.
fn stream_array(
    h: &Header,
    array: usize,
    src: &mut impl Read,
    fields: &mut Fields,
    io_error: impl Fn(std::io::Error) -> String,
) -> Result<(), String> {
    let size = array_sizes(h)[array];
    if size == 0 || h.count == 0 {
        return Ok(());
    }
    let per_block = (BLOCK_BYTES / size).max(1);
    let mut buf = vec![0u8; per_block.min(h.count) * size];
    let mut done = 0;
    while done < h.count {
        let rows = per_block.min(h.count - done);
        let block = &mut buf[..rows * size];
        src.read_exact(block).map_err(|e| {
            format!(
                "{} (in the {} array, at splat {done})",
                io_error(e),
                ARRAY_NAMES[array]
            )
        })?;
        decode_rows(h, array, block, done, fields);
        done += rows;
    }
    Ok(())
}

/// Mutable views of the fields of the splats being decoded; a view not needed by a thread is
/// empty.
struct Fields<'a> {
    means: &'a mut [[f32; 3]],
    alphas: &'a mut [f32],
    scales: &'a mut [[f32; 3]],
    rotations: &'a mut [[f32; 4]],
    /// Colours (the DC term) and the higher SH bands, coefficient-major.
    sh: &'a mut [f32],
    /// SH values per splat.
    sh_stride: usize,
    /// SH band 4 as stored (27 bytes per splat) for degree-4 files, else empty.
    band4: &'a mut [u8],
}

impl<'a> Fields<'a> {
    fn new(s: &'a mut Splats) -> Self {
        let sh_stride = s.coeffs_per_splat() * 3;
        Fields {
            means: &mut s.means,
            alphas: &mut s.opacity_logits,
            scales: &mut s.log_scales,
            rotations: &mut s.rotations,
            sh: &mut s.sh,
            sh_stride,
            band4: &mut [],
        }
    }

    fn empty(sh_stride: usize) -> Self {
        Fields {
            means: &mut [],
            alphas: &mut [],
            scales: &mut [],
            rotations: &mut [],
            sh: &mut [],
            sh_stride,
            band4: &mut [],
        }
    }

    fn only_means(means: &'a mut [[f32; 3]], sh_stride: usize) -> Self {
        Fields {
            means,
            ..Self::empty(sh_stride)
        }
    }

    fn only_alphas(alphas: &'a mut [f32], sh_stride: usize) -> Self {
        Fields {
            alphas,
            ..Self::empty(sh_stride)
        }
    }

    fn only_scales(scales: &'a mut [[f32; 3]], sh_stride: usize) -> Self {
        Fields {
            scales,
            ..Self::empty(sh_stride)
        }
    }

    fn only_rotations(rotations: &'a mut [[f32; 4]], sh_stride: usize) -> Self {
        Fields {
            rotations,
            ..Self::empty(sh_stride)
        }
    }

    fn only_sh(sh: &'a mut [f32], sh_stride: usize, band4: &'a mut [u8]) -> Self {
        Fields {
            sh,
            band4,
            ..Self::empty(sh_stride)
        }
    }
}

/// Decodes whole records of array `array` (`rows`) into splats `first..` of `f`.
fn decode_rows(h: &Header, array: usize, rows: &[u8], first: usize, f: &mut Fields) {
    let size = array_sizes(h)[array];
    let n = rows.len() / size;
    let stride = f.sh_stride;
    match array {
        0 if h.version == 1 => {
            for (m, r) in f.means[first..first + n]
                .iter_mut()
                .zip(rows.chunks_exact(6))
            {
                let c = |a: usize| half_to_f32(u16::from_le_bytes([r[a * 2], r[a * 2 + 1]]));
                *m = [c(0), c(1), c(2)];
            }
        }
        0 => {
            let pos_scale = 1.0 / f64::from(1u32 << h.fractional_bits);
            for (m, r) in f.means[first..first + n]
                .iter_mut()
                .zip(rows.chunks_exact(9))
            {
                let c = |a: usize| {
                    // Sign-extend the 24-bit value through the top of an i32.
                    let v = i32::from_le_bytes([0, r[a * 3], r[a * 3 + 1], r[a * 3 + 2]]) >> 8;
                    (f64::from(v) * pos_scale) as f32
                };
                *m = [c(0), c(1), c(2)];
            }
        }
        1 => {
            for (o, &a) in f.alphas[first..first + n].iter_mut().zip(rows) {
                *o = logit_from_u8(a);
            }
        }
        2 => {
            let dst = f.sh[first * stride..(first + n) * stride].chunks_exact_mut(stride);
            for (sh, r) in dst.zip(rows.chunks_exact(3)) {
                for c in 0..3 {
                    sh[c] = ((f64::from(r[c]) / 255.0 - 0.5) / COLOR_SCALE) as f32;
                }
            }
        }
        3 => {
            for (l, r) in f.scales[first..first + n]
                .iter_mut()
                .zip(rows.chunks_exact(3))
            {
                *l = [0, 1, 2].map(|c| f32::from(r[c]) / 16.0 - 10.0);
            }
        }
        4 => {
            let dst = f.rotations[first..first + n].iter_mut();
            for (q, r) in dst.zip(rows.chunks_exact(size)) {
                let v = if h.version >= 3 {
                    unpack_smallest_three(u32_at(r, 0))
                } else {
                    let c = |a: usize| f64::from(r[a]) / 127.5 - 1.0;
                    let (x, y, z) = (c(0), c(1), c(2));
                    let w = (1.0 - (x * x + y * y + z * z)).max(0.0).sqrt();
                    [w, x, y, z]
                };
                *q = crate::math::normalised_quat(v.map(|v| v as f32));
            }
        }
        _ => {
            // SH beyond the DC term; band 4 (degree 4 files) is kept aside as stored.
            let kept = stride - 3;
            let dst = f.sh[first * stride..(first + n) * stride].chunks_exact_mut(stride);
            for (sh, r) in dst.zip(rows.chunks_exact(size)) {
                for (d, &b) in sh[3..].iter_mut().zip(&r[..kept]) {
                    *d = (f32::from(b) - 128.0) / 128.0;
                }
            }
            if !f.band4.is_empty() {
                let dst = f.band4[first * BAND4..(first + n) * BAND4].chunks_exact_mut(BAND4);
                for (d, r) in dst.zip(rows.chunks_exact(size)) {
                    d.copy_from_slice(&r[kept..kept + BAND4]);
                }
            }
        }
    }
}

/// Upstream SPZ's names of `SPZ_ADOBE_coordinate_system` values 1..=16 (0: unspecified, RUB).
const FRAMES: [&str; 16] = [
    "LDB", "RDB", "LUB", "RUB", "LDF", "RDF", "LUF", "RUF", "LFD", "RFD", "LFU", "RFU", "LBD",
    "RBD", "LBU", "RBU",
];

/// The value of the first well-formed `SPZ_ADOBE_coordinate_system` record in `ext` (a u32
/// payload), if any.
fn coordinate_system(ext: &[u8]) -> Option<u32> {
    let mut at = 0;
    while let Some(head) = ext.get(at..at + 8) {
        let (kind, len) = (u32_at(head, 0), u32_at(head, 4) as usize);
        let payload = ext.get(at + 8..(at + 8).saturating_add(len))?;
        if kind == EXT_COORDINATE_SYSTEM && len >= 4 {
            return Some(u32_at(payload, 0));
        }
        at += 8 + len;
    }
    None
}

/// The matrix taking coordinates in the frame of `SPZ_ADOBE_coordinate_system` value `v`
/// (1..=16, upstream SPZ's `CoordinateSystem`) to RDF: its columns are the stored axes in RDF.
/// Values 1..=8 order the axes x (L/R), y (D/U), z (B/F); 9..=16 x (L/R), y (F/B), z (D/U).
/// Bits 0, 1, 2 of v − 1 pick R over L, U over D, and F over B (1..=8) or B over F (9..=16).
fn frame_to_rdf(v: u32) -> Option<glam::DMat3> {
    use glam::DVec3;
    if !(1..=16).contains(&v) {
        return None;
    }
    let n = v - 1;
    let pick =
        |bit: u32, first: DVec3, second: DVec3| if n >> bit & 1 == 1 { second } else { first };
    let (right, down, front) = (DVec3::X, DVec3::Y, DVec3::Z);
    let x = pick(0, -right, right);
    let (y, z) = if n < 8 {
        (pick(1, down, -down), pick(2, -front, front))
    } else {
        (pick(2, front, -front), pick(1, down, -down))
    };
    Some(glam::DMat3::from_cols(x, y, z))
}

/// Turns splats stored in the frame `m` maps to RDF (an axis permutation with signs) into RDF:
/// means by `m`, rotations by its proper part (±`m`: Σ' = m Σ mᵀ either way), SH by the band
/// matrices of `f'(d) = f(mᵀd)` (which hold for reflections too).
fn frame_into_rdf(s: &mut Splats, m: &glam::DMat3) {
    use glam::{DQuat, DVec3};
    for p in &mut s.means {
        let q = *m * DVec3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
        *p = [q.x as f32, q.y as f32, q.z as f32];
    }
    let proper = *m * m.determinant().signum();
    let r = DQuat::from_mat3(&proper).normalize();
    for q in &mut s.rotations {
        let v = DQuat::from_xyzw(
            f64::from(q[1]),
            f64::from(q[2]),
            f64::from(q[3]),
            f64::from(q[0]),
        );
        let n = r * v;
        *q = [n.w as f32, n.x as f32, n.y as f32, n.z as f32];
    }
    super::gltf::transform::rotate_sh(s, m);
}

/// Converts the decoded splats to RDF (from RUB, or from the frame an
/// `SPZ_ADOBE_coordinate_system` record names) and describes the file.
fn finish(
    h: &Header,
    mut s: Splats,
    container: SpzContainer,
    mut notes: Vec<String>,
    mut extra: SpzExtra,
) -> Result<(Splats, SpzInfo), IoError> {
    if h.sh_degree == 4 {
        notes.push(
            "SH band 4 kept aside (vksplat renders SH up to degree 3; SPZ v3/v4 output \
             carries it)"
                .into(),
        );
    }
    let frame = coordinate_system(&extra.extensions).filter(|&v| v != 0 && v != 4);
    match frame.and_then(frame_to_rdf) {
        Some(m) => {
            let name = FRAMES[frame.unwrap_or(4) as usize - 1];
            frame_into_rdf(&mut s, &m);
            notes.push(format!(
                "the splats are stored in {name} axes (SPZ_ADOBE_coordinate_system); converted \
                 to RDF"
            ));
            // Band 4 stays as stored, and SPZ output is RUB without the record.
            if !extra.sh_band4.is_empty() {
                extra.sh_band4.clear();
                notes.push(format!(
                    "dropped SH band 4 (stored in {name} axes; vksplat rotates bands 1-3 only)"
                ));
            }
        }
        None => {
            if let Some(v) = frame {
                notes.push(format!(
                    "unknown SPZ_ADOBE_coordinate_system value {v} (1-16 are defined); read as \
                     RUB"
                ));
            }
            super::rub_to_rdf(&mut s);
        }
    }
    let info = SpzInfo {
        version: h.version,
        container,
        antialiased: h.flags & 1 != 0,
        notes,
        extra,
    };
    Ok((s, info))
}

/// Unpacks a v3 "smallest three" quaternion to (w, x, y, z).
fn unpack_smallest_three(mut r: u32) -> [f64; 4] {
    let largest = (r >> 30) as usize;
    let mut xyzw = [0.0f64; 4];
    let mut sum = 0.0;
    for i in (0..4).rev() {
        if i == largest {
            continue;
        }
        let mag = f64::from(r & 0x1ff);
        let neg = (r >> 9) & 1 == 1;
        r >>= 10;
        let v = std::f64::consts::FRAC_1_SQRT_2 * mag / 511.0;
        xyzw[i] = if neg { -v } else { v };
        sum += v * v;
    }
    xyzw[largest] = (1.0 - sum).max(0.0).sqrt();
    [xyzw[3], xyzw[0], xyzw[1], xyzw[2]]
}

/// Packs a unit quaternion (w, x, y, z) as v3 "smallest three".
fn pack_smallest_three(q: [f32; 4]) -> u32 {
    let [w, x, y, z] = q.map(f64::from);
    let mut xyzw = [x, y, z, w];
    let largest = (0..4)
        .max_by(|&a, &b| xyzw[a].abs().total_cmp(&xyzw[b].abs()))
        .unwrap_or(3);
    if xyzw[largest] < 0.0 {
        xyzw = xyzw.map(|v| -v);
    }
    let mut r = 0u32;
    for (i, &v) in xyzw.iter().enumerate() {
        if i == largest {
            continue;
        }
        let mag = (v.abs() / std::f64::consts::FRAC_1_SQRT_2 * 511.0)
            .round()
            .min(511.0) as u32;
        let neg = u32::from(v < 0.0 && mag != 0);
        r = (r << 10) | (neg << 9) | mag;
    }
    r | ((largest as u32) << 30)
}

/// Input bytes per deflate chunk of the parallel gzip writer. Fixed, so the output does not
/// depend on the machine's core count; large enough that restarting the 32 KiB window at each
/// chunk costs well under 0.1% of the size.
const GZIP_CHUNK: usize = 4 << 20;

/// Compresses the concatenation of `pieces` into ONE gzip member (one deflate stream), pigz
/// style: the input is cut into `chunk`-byte pieces deflated on parallel threads, each ending
/// with a sync flush (an empty stored block, so it ends on a byte boundary) except the last,
/// which carries the final-block bit; the CRC-32 is combined from the chunks'. Readers that
/// stop after the first gzip member (zlib's `inflate` with a gzip header, as Niantic's SPZ
/// reader uses) see the whole payload, which concatenated members would not guarantee.
fn gzip_parallel(pieces: &[&[u8]], level: u32, chunk: usize) -> Result<Vec<u8>, String> {
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    // Chunk k covers bytes [k·chunk, (k+1)·chunk) of the concatenation, as sub-slices.
    let count = total.div_ceil(chunk.max(1)).max(1);
    let mut chunks: Vec<Vec<&[u8]>> = vec![Vec::new(); count];
    let (mut k, mut room) = (0, chunk);
    for &p in pieces {
        let mut p = p;
        while !p.is_empty() {
            if room == 0 {
                k += 1;
                room = chunk;
            }
            let take = room.min(p.len());
            chunks[k].push(&p[..take]);
            p = &p[take..];
            room -= take;
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = super::thread_count(count, 1);
    type Done = (usize, Result<(Vec<u8>, flate2::Crc), String>);
    let mut done: Vec<Done> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (chunks, next) = (&chunks, &next);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= count {
                            return mine;
                        }
                        mine.push((i, deflate_chunk(&chunks[i], level, i + 1 == count)));
                    }
                })
            })
            .collect();
        let mut all = Vec::with_capacity(count);
        for h in handles {
            match h.join() {
                Ok(v) => all.extend(v),
                Err(_) => all.push((0, Err("internal error: a deflate thread panicked".into()))),
            }
        }
        all
    });
    done.sort_by_key(|d| d.0);
    let mut parts = Vec::with_capacity(count);
    for (_, r) in done {
        parts.push(r?);
    }
    let body: usize = parts.iter().map(|p| p.0.len()).sum();
    let mut out = memory::with_capacity(body + 18).map_err(|e| e.to_string())?;
    // Header: deflate, no flags, no mtime, no extra flags, OS unknown (255).
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    let mut crc = flate2::Crc::new();
    for (data, c) in &parts {
        out.extend_from_slice(data);
        crc.combine(c);
    }
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes()); // ISIZE is the length mod 2^32
    Ok(out)
}

/// Raw-deflates the concatenation of `pieces` at `level`; ends with a sync flush, or with
/// the final block when `last`. Returns the bytes and the CRC-32 of the input.
fn deflate_chunk(
    pieces: &[&[u8]],
    level: u32,
    last: bool,
) -> Result<(Vec<u8>, flate2::Crc), String> {
    use flate2::{FlushCompress, Status};
    let err = |e: flate2::CompressError| format!("deflate failed: {e}");
    let size: usize = pieces.iter().map(|p| p.len()).sum();
    let mut c = flate2::Compress::new(flate2::Compression::new(level), false);
    let mut crc = flate2::Crc::new();
    let mut out: Vec<u8> = memory::with_capacity(size / 2 + 1024).map_err(|e| e.to_string())?;
    let grow = |out: &mut Vec<u8>| {
        if out.capacity() - out.len() < 16 << 10 {
            memory::reserve(out, (out.len() / 2).max(64 << 10)).map_err(|e| e.to_string())
        } else {
            Ok(())
        }
    };
    for &p in pieces {
        crc.update(p);
        let mut input = p;
        while !input.is_empty() {
            grow(&mut out)?;
            let before = c.total_in();
            c.compress_vec(input, &mut out, FlushCompress::None)
                .map_err(err)?;
            input = &input[(c.total_in() - before) as usize..];
        }
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        grow(&mut out)?;
        let status = c.compress_vec(&[], &mut out, flush).map_err(err)?;
        // Finish is done at StreamEnd; a sync flush when the output was not filled.
        if (last && status == Status::StreamEnd) || (!last && out.len() < out.capacity()) {
            return Ok((out, crc));
        }
    }
}

/// The SH band 4 of `extra` when the output can carry it: version 3 or later, the splats
/// still at degree 3 and as many as when it was read. Otherwise a note says why it is dropped.
fn carried_band4<'a>(
    s: &Splats,
    o: &SpzWrite,
    extra: &'a SpzExtra,
    notes: &mut Vec<String>,
) -> Option<&'a [u8]> {
    let b4 = &extra.sh_band4;
    if b4.is_empty() {
        return None;
    }
    let why = if o.version < 3 {
        "SPZ v2 holds SH up to degree 3"
    } else if s.sh_degree != 3 {
        "the SH were truncated below degree 3"
    } else if b4.len() != s.len() * BAND4 {
        "splats were dropped since it was read"
    } else {
        return Some(b4);
    };
    notes.push(format!("dropped SH band 4 ({why})"));
    None
}

/// Extension type of `SPZ_ADOBE_coordinate_system`: it labels the frame of the stored data,
/// and vksplat always writes RUB, so a carried record would mislabel the output.
const EXT_COORDINATE_SYSTEM: u32 = 0xADBE_0003;

/// The extension records of `extra` to write (version 3 or later), less any that would
/// describe the data wrongly; notes say what was dropped.
fn carried_extensions(o: &SpzWrite, extra: &SpzExtra, notes: &mut Vec<String>) -> Vec<u8> {
    let ext = &extra.extensions;
    if ext.is_empty() {
        return Vec::new();
    }
    if o.version < 3 {
        notes.push(format!(
            "dropped {} bytes of SPZ extensions (SPZ v2 has none)",
            ext.len()
        ));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(ext.len());
    let mut at = 0;
    while at < ext.len() {
        let Some(head) = ext.get(at..at + 8) else {
            notes.push(format!(
                "dropped {} bytes of malformed SPZ extensions",
                ext.len() - at
            ));
            break;
        };
        let kind = u32_at(head, 0);
        let len = u32_at(head, 4) as usize;
        let Some(record) = ext.get(at..(at + 8).saturating_add(len)) else {
            notes.push(format!(
                "dropped {} bytes of malformed SPZ extensions",
                ext.len() - at
            ));
            break;
        };
        if kind == EXT_COORDINATE_SYSTEM {
            notes.push(
                "dropped the SPZ coordinate-system extension record (vksplat writes RUB)".into(),
            );
        } else {
            out.extend_from_slice(record);
        }
        at += record.len();
    }
    out
}

/// Options of the SPZ writer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SpzWrite {
    /// 2, 3 or 4.
    pub version: u32,
    /// `None`: 12, or fewer when the scene is too large for 12.
    pub fractional_bits: Option<u8>,
    pub antialiased: bool,
    /// Bits kept of SH band 1 and of bands 2–3 (1..=8).
    pub sh1_bits: u8,
    pub sh_rest_bits: u8,
    /// Deflate level of v2/v3 (0-9).
    pub gzip_level: u8,
    /// zstd level of v4 (1-22; libzstd's levels, 3 being its default).
    pub zstd_level: i32,
}

/// Encodes `s` (valid: finite, consistent) as an SPZ file; returns the bytes and notes about
/// anything lossy beyond plain quantization. `path` (the output) names it in errors.
pub(crate) fn encode(
    s: &Splats,
    o: &SpzWrite,
    path: &Path,
) -> Result<(Vec<u8>, Vec<String>), IoError> {
    encode_with(s, o, &SpzExtra::default(), path)
}

/// [`encode`], carrying `extra` (SH band 4 and extension records of an SPZ input) where the
/// output can hold it; notes say what was dropped and why.
pub(crate) fn encode_with(
    s: &Splats,
    o: &SpzWrite,
    extra: &SpzExtra,
    path: &Path,
) -> Result<(Vec<u8>, Vec<String>), IoError> {
    let fail = |m: String| IoError::output(path, m);
    let oom = |e: AllocError| e.at(path);
    if !(2..=4).contains(&o.version) {
        return Err(fail(format!(
            "SPZ version {} cannot be written (vksplat writes 2, 3 and 4)",
            o.version
        )));
    }
    if !(1..=8).contains(&o.sh1_bits) || !(1..=8).contains(&o.sh_rest_bits) {
        return Err(fail("SH quantization bits must be 1 to 8".into()));
    }
    let n = s.len();
    if n > u32::MAX as usize {
        return Err(fail(format!("{n} splats do not fit SPZ's 32-bit count")));
    }
    let mut notes = Vec::new();
    let max_abs = s
        .means
        .iter()
        .flatten()
        .fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
    const MAX_FIXED: f64 = 8_388_607.0; // 2^23 - 1
    let fb = match o.fractional_bits {
        Some(fb) if fb > 24 => return Err(fail(format!("fractional bits {fb} > 24"))),
        Some(fb) => fb,
        None => {
            let mut fb = 12u8;
            while fb > 0 && (max_abs * f64::from(1u32 << fb)).round() > MAX_FIXED {
                fb -= 1;
            }
            if fb < 12 {
                notes.push(format!(
                    "positions reach {max_abs:.1}; stored with {fb} fractional bits (step {})",
                    1.0 / f64::from(1u32 << fb)
                ));
            }
            fb
        }
    };
    let pos_scale = f64::from(1u32 << fb);
    let clamped = s
        .means
        .iter()
        .flatten()
        .filter(|&&v| (f64::from(v) * pos_scale).round().abs() > MAX_FIXED)
        .count();
    if clamped > 0 {
        notes.push(format!(
            "{clamped} position coordinates exceed the 24-bit range at {fb} fractional bits and \
             were clamped"
        ));
    }
    let band4 = carried_band4(s, o, extra, &mut notes);
    let extensions = carried_extensions(o, extra, &mut notes);
    let k = s.coeffs_per_splat();
    let dim = k - 1;
    let rot_bytes = if o.version >= 3 { 4 } else { 3 };
    let sh_bytes = dim * 3 + band4.map_or(0, |_| BAND4);
    let mut arrays: [Vec<u8>; 6] = Default::default();
    for (a, per) in arrays.iter_mut().zip([9, 1, 3, 3, rot_bytes, sh_bytes]) {
        memory::reserve(a, n * per).map_err(oom)?;
    }
    // Nearest multiple of the bucket (2^(8 - bits)) in one rounding; 128 is a multiple of
    // every bucket, so the error is at most half a bucket, 1/32 (5 bits) or 1/16 (4 bits).
    let quant_sh = |v: f32, bits: u8| -> u8 {
        let bucket = f64::from(1u32 << (8 - bits));
        let q = (f64::from(v) * 128.0 / bucket).round() * bucket + 128.0;
        q.clamp(0.0, 255.0) as u8
    };
    for i in 0..n {
        // RDF -> RUB: negate y and z (see super::rub_to_rdf).
        let m = s.means[i];
        for (a, v) in [m[0], -m[1], -m[2]].into_iter().enumerate() {
            let _ = a;
            let q = (f64::from(v) * pos_scale)
                .round()
                .clamp(-MAX_FIXED, MAX_FIXED) as i32;
            arrays[0].extend_from_slice(&q.to_le_bytes()[..3]);
        }
        arrays[1].push(u8_from_logit(s.opacity_logits[i]));
        let sh = &s.sh[i * k * 3..(i + 1) * k * 3];
        for &dc in &sh[..3] {
            arrays[2].push(super::unorm8(f64::from(dc) * COLOR_SCALE + 0.5));
        }
        for &l in &s.log_scales[i] {
            arrays[3].push(((f64::from(l) + 10.0) * 16.0).round().clamp(0.0, 255.0) as u8);
        }
        let r = crate::math::normalised_quat(s.rotations[i]);
        let r = [r[0], r[1], -r[2], -r[3]];
        if o.version >= 3 {
            arrays[4].extend_from_slice(&pack_smallest_three(r).to_le_bytes());
        } else {
            let sign = if r[0] < 0.0 { -1.0 } else { 1.0 };
            for &v in &r[1..] {
                let b = ((f64::from(v) * sign + 1.0) * 127.5)
                    .round()
                    .clamp(0.0, 255.0);
                arrays[4].push(b as u8);
            }
        }
        for kk in 1..k {
            let bits = if kk < 4 { o.sh1_bits } else { o.sh_rest_bits };
            let sign = super::SH_SIGN_FLIP_YZ[kk];
            for c in 0..3 {
                arrays[5].push(quant_sh(sign * sh[kk * 3 + c], bits));
            }
        }
        if let Some(b4) = band4 {
            arrays[5].extend_from_slice(&b4[i * BAND4..(i + 1) * BAND4]);
        }
    }
    let mut head = Vec::with_capacity(32);
    head.extend_from_slice(&MAGIC.to_le_bytes());
    head.extend_from_slice(&o.version.to_le_bytes());
    head.extend_from_slice(&(n as u32).to_le_bytes());
    head.push(if band4.is_some() {
        4
    } else {
        s.sh_degree as u8
    });
    head.push(fb);
    head.push(u8::from(o.antialiased) | if extensions.is_empty() { 0 } else { 2 });
    if o.version < 4 {
        head.push(0);
        let mut pieces: Vec<&[u8]> = vec![&head];
        pieces.extend(arrays.iter().map(Vec::as_slice));
        // v3: the extension records follow the arrays inside the gzip stream.
        pieces.push(&extensions);
        let out = gzip_parallel(&pieces, u32::from(o.gzip_level.min(9)), GZIP_CHUNK)
            .map_err(|m| fail(format!("gzip: {m}")))?;
        return Ok((out, notes));
    }
    let streams: Vec<&Vec<u8>> = arrays[..if dim > 0 { 6 } else { 5 }].iter().collect();
    head.push(streams.len() as u8);
    // v4: the extension records lie between the header and the table of contents.
    let toc_offset = 32 + extensions.len() as u32;
    head.extend_from_slice(&toc_offset.to_le_bytes());
    head.extend_from_slice(&[0u8; 12]);
    head.extend_from_slice(&extensions);
    let level = o.zstd_level;
    if !zstd::compression_level_range().contains(&level) {
        return Err(fail(format!(
            "zstd level {level} is out of range (libzstd accepts {:?})",
            zstd::compression_level_range()
        )));
    }
    // One libzstd frame per array, each on its own thread (as the reader decodes them).
    let compressed: Vec<std::io::Result<Vec<u8>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = streams
            .iter()
            .map(|a| scope.spawn(move || zstd::bulk::compress(a.as_slice(), level)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("zstd encoder panicked")))
            })
            .collect()
    });
    let compressed = compressed
        .into_iter()
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| fail(format!("zstd: {e}")))?;
    let mut out = head;
    for (c, a) in compressed.iter().zip(&streams) {
        out.extend_from_slice(&(c.len() as u64).to_le_bytes());
        out.extend_from_slice(&(a.len() as u64).to_le_bytes());
    }
    for c in &compressed {
        out.extend_from_slice(c);
    }
    Ok((out, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_three_round_trips_within_a_step() {
        let mut rng = crate::test_util::Rng::new(7);
        for _ in 0..10_000 {
            let q = crate::math::normalised_quat([
                rng.range(-1.0, 1.0),
                rng.range(-1.0, 1.0),
                rng.range(-1.0, 1.0),
                rng.range(-1.0, 1.0),
            ]);
            let back = unpack_smallest_three(pack_smallest_three(q));
            let dot: f64 = back.iter().zip(q).map(|(a, b)| a * f64::from(b)).sum();
            assert!(dot.abs() > 0.99999, "{q:?} -> {back:?}");
        }
        // The splat-transform fixture's identity.
        assert_eq!(unpack_smallest_three(0xC000_0000), [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(pack_smallest_three([1.0, 0.0, 0.0, 0.0]), 0xC000_0000);
    }

    fn gzip(b: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn parallel_gzip_is_one_member_that_any_reader_takes_whole() {
        let mut rng = crate::test_util::Rng::new(3);
        let a: Vec<u8> = (0..70_000)
            .map(|i| (i % 251) as u8 ^ (rng.range(0.0, 4.0) as u8))
            .collect();
        let b = vec![7u8; 5000];
        let c: Vec<u8> = (0..3).collect();
        for (chunk, level) in [(1000, 6), (4096, 1), (1 << 20, 9), (1, 0)] {
            let out = gzip_parallel(&[&a, &b, &c], level, chunk).unwrap();
            // flate2's GzDecoder stops after the first member: it must see everything, and
            // zlib's raw inflate must reach the end of the stream at the trailer.
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&out[..])
                .read_to_end(&mut back)
                .unwrap();
            let mut want = a.clone();
            want.extend_from_slice(&b);
            want.extend_from_slice(&c);
            assert_eq!(back, want, "chunk {chunk}");
            let mut raw = flate2::Decompress::new(false);
            let mut sink = vec![0u8; want.len() + 16];
            let status = raw
                .decompress(&out[10..], &mut sink, flate2::FlushDecompress::Finish)
                .unwrap();
            assert_eq!(status, flate2::Status::StreamEnd, "chunk {chunk}");
            assert_eq!(
                raw.total_in() as usize,
                out.len() - 18,
                "one member, chunk {chunk}"
            );
        }
        // The output does not depend on how many threads ran: chunks are fixed.
        let one = gzip_parallel(&[&a], 6, 10_000).unwrap();
        assert_eq!(one, gzip_parallel(&[&a[..5], &a[5..]], 6, 10_000).unwrap());
        let empty = gzip_parallel(&[], 6, 100).unwrap();
        let mut back = vec![1u8];
        flate2::read::GzDecoder::new(&empty[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, [1]);
    }

    #[test]
    fn version_1_has_half_float_positions() {
        let mut p = MAGIC.to_le_bytes().to_vec();
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&[0, 0, 1, 0]); // SH 0, antialiased
        for h in [0x3c00u16, 0xc000, 0x3800] {
            p.extend_from_slice(&h.to_le_bytes()); // (1, -2, 0.5) in RUB
        }
        p.extend_from_slice(&[255, 128, 128, 128, 160, 160, 160, 128, 128, 255]);
        let (s, info) = parse(&gzip(&p), Path::new("t.spz")).unwrap();
        assert_eq!((info.version, info.antialiased), (1, true));
        assert_eq!(s.means[0], [1.0, 2.0, -0.5]);
        assert_eq!(s.log_scales[0], [0.0; 3]);
        // v1/v2 rotation bytes (128, 128, 255): x = y ≈ 0, z ≈ 1 in RUB -> -z in RDF.
        assert!(
            (s.rotations[0][3] + 1.0).abs() < 1e-3,
            "{:?}",
            s.rotations[0]
        );
    }

    #[test]
    fn sh_degree_4_keeps_bands_1_to_3() {
        let mut p = MAGIC.to_le_bytes().to_vec();
        p.extend_from_slice(&3u32.to_le_bytes());
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&[4, 12, 0, 0]);
        p.extend_from_slice(&[0; 9 + 1 + 3 + 3]);
        p.extend_from_slice(&0xC000_0000u32.to_le_bytes());
        p.extend((0..72u8).map(|i| 128 + i));
        let (s, info) = parse(&gzip(&p), Path::new("t.spz")).unwrap();
        assert_eq!(s.sh_degree, 3);
        assert!(info.notes[0].contains("band 4"), "{:?}", info.notes);
        // Coefficient k (1..16), channel c holds byte 128 + (k-1)*3 + c, sign-flipped for RDF.
        for (k, sign) in SH_SIGN_FLIP_YZ.iter().enumerate().skip(1) {
            for c in 0..3 {
                let want = ((k - 1) * 3 + c) as f32 / 128.0 * sign;
                assert_eq!(s.sh[k * 3 + c], want, "k {k} c {c}");
            }
        }
        // Degree 4 needs version 3 or later.
        p[4] = 2;
        let e = parse(&gzip(&p), Path::new("t.spz")).unwrap_err();
        assert!(e.to_string().contains("SH degree 4"), "{e}");
    }

    #[test]
    fn v4_extensions_are_skipped() {
        let mut s = super::super::zeroed(2, 1).unwrap();
        s.rotations = vec![[1.0, 0.0, 0.0, 0.0]; 2];
        s.means[1] = [1.0, 2.0, 3.0];
        let o = SpzWrite {
            version: 4,
            fractional_bits: None,
            antialiased: true,
            sh1_bits: 5,
            sh_rest_bits: 4,
            gzip_level: 6,
            zstd_level: 3,
        };
        let (mut b, _) = encode(&s, &o, Path::new("t.spz")).unwrap();
        // Insert an 8-byte extension record before the table of contents.
        b.splice(32..32, [1, 0, 0, 0, 0, 0, 0, 0]);
        b[14] |= 2;
        b[16..20].copy_from_slice(&40u32.to_le_bytes());
        let (back, info) = parse(&b, Path::new("t.spz")).unwrap();
        assert!(info.antialiased);
        assert!(info.notes[0].contains("8 bytes of SPZ extensions"));
        assert_eq!(back.means[1], [1.0, 2.0, 3.0]);
    }

    #[test]
    fn coordinate_system_frames_are_upstreams() {
        use glam::{DMat3, DVec3};
        let diag = |x, y, z| DMat3::from_diagonal(DVec3::new(x, y, z));
        assert_eq!(frame_to_rdf(4), Some(diag(1.0, -1.0, -1.0))); // RUB, as rub_to_rdf
        assert_eq!(frame_to_rdf(6), Some(DMat3::IDENTITY)); // RDF
        assert_eq!(frame_to_rdf(7), Some(diag(-1.0, -1.0, 1.0))); // LUF (glTF)
        assert_eq!(frame_to_rdf(2), Some(diag(1.0, 1.0, -1.0))); // RDB: a reflection
                                                                 // RFU: x right, y forward, z up.
        let rfu = DMat3::from_cols(DVec3::X, DVec3::Z, -DVec3::Y);
        assert_eq!(frame_to_rdf(12), Some(rfu));
        assert_eq!((frame_to_rdf(0), frame_to_rdf(17)), (None, None));
        for v in 1..=16 {
            let m = frame_to_rdf(v).unwrap();
            assert_eq!(m.determinant().abs(), 1.0, "{}", FRAMES[v as usize - 1]);
        }
        let mut ext = vec![1, 0, 0, 0, 2, 0, 0, 0, 9, 9];
        ext.extend_from_slice(&[3, 0, 0xBE, 0xAD, 4, 0, 0, 0, 12, 0, 0, 0]);
        assert_eq!(coordinate_system(&ext), Some(12));
        assert_eq!(coordinate_system(&ext[..10]), None);
        assert_eq!(coordinate_system(&ext[..20]), None);
    }

    /// A v4 file storing `a` (RDF) in the frame of coordinate-system value `v`, with the record.
    fn stored_in_frame(a: &Splats, v: u32) -> Vec<u8> {
        // The writer turns RDF into RUB (diag(1, −1, −1)); hand it the splats that this turns
        // into the frame-v coordinates mᵀ·x.
        let m = frame_to_rdf(v).unwrap();
        let mut c = a.clone();
        let rub = glam::DMat3::from_diagonal(glam::DVec3::new(1.0, -1.0, -1.0));
        frame_into_rdf(&mut c, &(rub * m.transpose()));
        let o = SpzWrite {
            version: 4,
            fractional_bits: None,
            antialiased: false,
            sh1_bits: 8,
            sh_rest_bits: 8,
            gzip_level: 6,
            zstd_level: 3,
        };
        let (mut b, _) = encode(&c, &o, Path::new("t.spz")).unwrap();
        let mut record = EXT_COORDINATE_SYSTEM.to_le_bytes().to_vec();
        record.extend_from_slice(&4u32.to_le_bytes());
        record.extend_from_slice(&v.to_le_bytes());
        b.splice(32..32, record);
        b[14] |= 2;
        b[16..20].copy_from_slice(&44u32.to_le_bytes());
        b
    }

    #[test]
    fn coordinate_system_records_are_applied_on_read() {
        let mut rng = crate::test_util::Rng::new(11);
        let n = 50;
        let mut a = super::super::zeroed(n, 3).unwrap();
        for i in 0..n {
            a.means[i] = [0, 1, 2].map(|_| rng.range(-3.0, 3.0));
            a.rotations[i] =
                crate::math::normalised_quat([0, 1, 2, 3].map(|_| rng.range(-1.0, 1.0)));
            a.log_scales[i] = [0, 1, 2].map(|_| rng.range(-4.0, -1.0));
            a.opacity_logits[i] = rng.range(-2.0, 2.0);
        }
        for v in a.sh.iter_mut() {
            *v = rng.range(-0.4, 0.4);
        }
        // Reference: the same splats through the ordinary RUB path.
        let plain = {
            let mut b = stored_in_frame(&a, 4);
            b.drain(32..44);
            b[14] &= !2;
            b[16..20].copy_from_slice(&32u32.to_le_bytes());
            parse(&b, Path::new("t.spz")).unwrap().0
        };
        // RFU (a quarter turn about x and more), RDB (a reflection), LUF (glTF's axes).
        for v in [12, 2, 7] {
            let (back, info) = parse(&stored_in_frame(&a, v), Path::new("t.spz")).unwrap();
            let name = FRAMES[v as usize - 1];
            assert!(
                info.notes
                    .iter()
                    .any(|m| m.contains(&format!("stored in {name} axes"))),
                "{:?}",
                info.notes
            );
            for i in 0..n {
                for ax in 0..3 {
                    let d = (back.means[i][ax] - a.means[i][ax]).abs();
                    assert!(d < 1e-3, "{name}: mean {i}.{ax} off by {d}");
                }
                // The same covariance (a quaternion may differ by a signed axis permutation
                // of the splat's own axes, which the diagonal scales do not see).
                assert_eq!(back.log_scales[i], plain.log_scales[i]);
                let cov = |q: [f32; 4], ls: [f32; 3]| {
                    let r = glam::DMat3::from_quat(
                        glam::DQuat::from_xyzw(
                            f64::from(q[1]),
                            f64::from(q[2]),
                            f64::from(q[3]),
                            f64::from(q[0]),
                        )
                        .normalize(),
                    );
                    let s2 = glam::DVec3::from_array(ls.map(|v| (2.0 * f64::from(v)).exp()));
                    r * glam::DMat3::from_diagonal(s2) * r.transpose()
                };
                let (cb, ca) = (
                    cov(back.rotations[i], back.log_scales[i]),
                    cov(a.rotations[i], back.log_scales[i]),
                );
                let big = back.log_scales[i].iter().fold(f32::MIN, |m, &v| m.max(v));
                let tol = 0.02 * (2.0 * f64::from(big)).exp();
                let diff = (cb - ca)
                    .to_cols_array()
                    .iter()
                    .fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(
                    diff < tol,
                    "{name}: covariance {i} off by {diff} (tolerance {tol})"
                );
            }
            // SH: the RUB path's quantization plus the rotation's mixing of rounded values.
            let worst = back
                .sh
                .iter()
                .zip(&a.sh)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 0.03, "{name}: SH off by {worst}");
        }
        // An unknown value reads as RUB, with a note.
        let (back, info) = parse(&stored_in_frame(&a, 4), Path::new("t.spz")).unwrap();
        assert_eq!(back.means, plain.means);
        let mut b = stored_in_frame(&a, 4);
        b[40..44].copy_from_slice(&40u32.to_le_bytes());
        let (back2, info2) = parse(&b, Path::new("t.spz")).unwrap();
        assert_eq!(back2.means, plain.means);
        assert!(
            info2.notes.iter().any(|m| m.contains("value 40")),
            "{:?}",
            info2.notes
        );
        assert!(!info.notes.iter().any(|m| m.contains("axes")));
    }

    #[test]
    fn v4_with_an_all_zero_sh_stream_is_not_a_bomb() {
        // SH 3 with zero higher bands (a scene trained at degree 0, saved at 3): the SH stream
        // expands far beyond deflate's ratio, the file as a whole does not.
        let n = 4000;
        let mut rng = crate::test_util::Rng::new(11);
        let mut s = super::super::zeroed(n, 3).unwrap();
        for i in 0..n {
            s.means[i] = [0, 1, 2].map(|_| rng.range(-50.0, 50.0));
            s.rotations[i] =
                crate::math::normalised_quat([0, 1, 2, 3].map(|_| rng.range(-1.0, 1.0)));
            s.log_scales[i] = [0, 1, 2].map(|_| rng.range(-5.0, 0.0));
            s.opacity_logits[i] = rng.range(-3.0, 3.0);
            for c in 0..3 {
                s.sh[i * 48 + c] = rng.range(-1.0, 1.0);
            }
        }
        let o = SpzWrite {
            version: 4,
            fractional_bits: None,
            antialiased: false,
            sh1_bits: 5,
            sh_rest_bits: 4,
            gzip_level: 6,
            zstd_level: 3,
        };
        let (b, _) = encode(&s, &o, Path::new("t.spz")).unwrap();
        let sh_stream = u64_at(&b, 32 + 5 * 16);
        assert!(
            sh_stream * 1100 < (n * 45) as u64,
            "SH stream of {sh_stream} bytes"
        );
        let (back, _) = parse(&b, Path::new("t.spz")).unwrap();
        assert_eq!(back.len(), n);
        assert!(back.sh.chunks(48).all(|c| c[3..].iter().all(|&v| v == 0.0)));
    }
}
