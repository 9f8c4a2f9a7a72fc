//! OpenEXR DWAA compression for one scanline chunk: lossy DCT for colour,
//! lossless for everything else.
//!
//! Written from the OpenEXR DWA format description. A chunk (version 2) is
//!
//! ```text
//! 11 x u64 sizes (little-endian) | u16 rule bytes + channel rules
//! | zlib(UNKNOWN data) | Huffman(AC) | zlib(predicted DC) | zlib(RLE(A))
//! ```
//!
//! Channel rules (written into the chunk so that a decoder needs no other
//! knowledge) pick a scheme by the channel name's last `.`-component and
//! pixel type: `R`, `G`, `B`, `Y`, `BY`, `RY` (HALF or FLOAT) are LOSSY_DCT,
//! `A` is RLE, anything else (our `Z`) is UNKNOWN (zlib, lossless). FLOAT
//! colour goes through the lossy path too, as in OpenEXR: it is clamped to
//! ±65504, rounded to HALF first and read back as FLOAT.
//!
//! LOSSY_DCT, per 8x8 block (partial blocks padded by mirroring):
//! * values go to a perceptual domain (x^(1/2.2) up to 1, ln(x)/2.2 + 1
//!   above; NaN and ±Inf become 0 — a decoder applies the inverse);
//! * an R, G, B triple with a common prefix is turned into Rec.709 Y'CbCr;
//! * an orthonormal 8x8 DCT-II, each coefficient rounded to HALF;
//! * quantisation: the coefficient is replaced by the HALF with the fewest
//!   set bits within ±tolerance, tolerance = level / 100000 x the JPEG
//!   quantisation table entry divided by the table's smallest entry (the
//!   luma table for Y and single channels, the chroma table for Cb, Cr).
//!   Nothing is divided, so a decoder needs no table;
//! * DC coefficients go to one plane per channel (zlib'd after OpenEXR's
//!   ZIP predictor), AC coefficients in zig-zag order with zero runs coded
//!   as `0xff00 | run` (`0xff00` ends the block), Huffman-coded with the
//!   PIZ coder (deflate when the Huffman code would be too long).
//!
//! The default level 45 is OpenEXR's "visually lossless" setting. A chunk
//! that does not shrink is stored raw, which OpenEXR recognises by its size.
//!
//! Invariant: the output is a function of the input alone (no threads,
//! fixed zlib levels), so equal input gives equal bytes.

use std::io::Write;
use std::sync::OnceLock;

use super::exr::zip_predict;
use super::exr_piz::huf_compress;
use super::ChunkChannel;
use crate::half::{f32_to_half, half_to_f32};

/// Compression schemes a channel rule can name.
const UNKNOWN: u8 = 0;
const LOSSY_DCT: u8 = 1;
const RLE: u8 = 2;

/// OpenEXR pixel types as rules store them.
const PIXEL_UINT: u8 = 0;
const PIXEL_HALF: u8 = 1;
const PIXEL_FLOAT: u8 = 2;

/// AC stream codings.
const AC_STATIC_HUFFMAN: u64 = 0;
const AC_DEFLATE: u64 = 1;

/// Chunk format version: 2 carries the channel rules.
const DWA_VERSION: u64 = 2;

/// zlib levels: the DC plane is small, the lossless planes are what a
/// DWAA file spends its bytes on besides AC.
const ZLIB_LEVEL: u32 = 6;

/// A channel rule: channels whose name suffix and type match get `scheme`;
/// `csc` is the channel's place (R, G, B) in a Y'CbCr triple, or -1.
struct Rule {
    suffix: &'static str,
    scheme: u8,
    pixel_type: u8,
    csc: i8,
}

const fn rule(suffix: &'static str, scheme: u8, pixel_type: u8, csc: i8) -> Rule {
    Rule {
        suffix,
        scheme,
        pixel_type,
        csc,
    }
}

/// OpenEXR's default rules (case-sensitive), in the order they are written.
const RULES: [Rule; 15] = [
    rule("R", LOSSY_DCT, PIXEL_HALF, 0),
    rule("R", LOSSY_DCT, PIXEL_FLOAT, 0),
    rule("G", LOSSY_DCT, PIXEL_HALF, 1),
    rule("G", LOSSY_DCT, PIXEL_FLOAT, 1),
    rule("B", LOSSY_DCT, PIXEL_HALF, 2),
    rule("B", LOSSY_DCT, PIXEL_FLOAT, 2),
    rule("Y", LOSSY_DCT, PIXEL_HALF, -1),
    rule("Y", LOSSY_DCT, PIXEL_FLOAT, -1),
    rule("BY", LOSSY_DCT, PIXEL_HALF, -1),
    rule("BY", LOSSY_DCT, PIXEL_FLOAT, -1),
    rule("RY", LOSSY_DCT, PIXEL_HALF, -1),
    rule("RY", LOSSY_DCT, PIXEL_FLOAT, -1),
    rule("A", RLE, PIXEL_UINT, -1),
    rule("A", RLE, PIXEL_HALF, -1),
    rule("A", RLE, PIXEL_FLOAT, -1),
];

/// JPEG's example quantisation tables (ITU-T T.81 Annex K), natural order.
const JPEG_LUMA: [u8; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const JPEG_CHROMA: [u8; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Zig-zag position of each natural-order (row-major, row = vertical
/// frequency) coefficient: anti-diagonals in turn, alternating direction.
const ZIGZAG: [u8; 64] = zigzag();

const fn zigzag() -> [u8; 64] {
    let mut pos = [0u8; 64];
    let mut k = 0;
    let mut s: usize = 0;
    while s < 15 {
        let lo = s.saturating_sub(7);
        let hi = if s < 7 { s } else { 7 };
        let mut i = 0;
        while i <= hi - lo {
            // Even diagonals run up and to the right, odd ones down-left.
            let row = if s.is_multiple_of(2) { hi - i } else { lo + i };
            pos[row * 8 + (s - row)] = k;
            k += 1;
            i += 1;
        }
        s += 1;
    }
    pos
}

/// Compresses one scanline chunk with DWAA at compression `level`
/// (OpenEXR's `dwaCompressionLevel`, default 45; 0 or less quantises
/// nothing beyond the rounding to HALF).
///
/// `raw` is the chunk as OpenEXR stores it uncompressed: for each of `lines`
/// lines, for each channel in `channels` order, `width` little-endian samples
/// (2 bytes HALF, 4 bytes FLOAT). When DWAA does not make it smaller the
/// result is a copy of `raw`.
pub(crate) fn compress_dwaa(
    raw: &[u8],
    channels: &[ChunkChannel],
    width: usize,
    lines: usize,
    level: f32,
) -> Vec<u8> {
    let sample_bytes = super::chunk_sample_bytes("DWAA", raw, channels, width, lines);
    let line_bytes: usize = sample_bytes.iter().map(|b| b * width).sum();
    // Byte offset of each channel within a line.
    let mut offsets = Vec::with_capacity(channels.len());
    let mut at = 0;
    for &b in &sample_bytes {
        offsets.push(at);
        at += b * width;
    }
    let plane = |c: usize| Plane {
        raw,
        line_bytes,
        offset: offsets[c],
        row_bytes: sample_bytes[c] * width,
        half: channels[c].half,
    };

    let (schemes, triples) = classify(channels);
    let base_error = if level > 0.0 { level / 100_000.0 } else { 0.0 };
    let mut coder = DctCoder::new(width, lines, base_error);

    let mut done = vec![false; channels.len()];
    for t in &triples {
        coder.encode(&[plane(t[0]), plane(t[1]), plane(t[2])]);
        for &c in t {
            done[c] = true;
        }
    }
    let mut rle_raw = Vec::new();
    let mut unknown = Vec::new();
    for (c, &scheme) in schemes.iter().enumerate() {
        if done[c] {
            continue;
        }
        let p = plane(c);
        match scheme {
            LOSSY_DCT => coder.encode(&[p]),
            RLE => {
                // Byte planes: every sample's first byte, then every second…
                for byte in 0..sample_bytes[c] {
                    for y in 0..lines {
                        rle_raw.extend(p.row(y).iter().skip(byte).step_by(sample_bytes[c]));
                    }
                }
            }
            _ => {
                for y in 0..lines {
                    unknown.extend_from_slice(p.row(y));
                }
            }
        }
    }

    let Some(chunk) = assemble(channels, &coder, &unknown, &rle_raw) else {
        return raw.to_vec();
    };
    if chunk.len() >= raw.len() {
        return raw.to_vec();
    }
    chunk
}

/// Writes the sizes, rules and the four compressed streams; `None` only if
/// zlib fails, which writing to memory does not.
fn assemble(
    channels: &[ChunkChannel],
    coder: &DctCoder,
    unknown: &[u8],
    rle_raw: &[u8],
) -> Option<Vec<u8>> {
    let unknown_z = if unknown.is_empty() {
        Vec::new()
    } else {
        zlib(unknown)?
    };
    let (ac_z, ac_coding) = if coder.ac.is_empty() {
        (Vec::new(), AC_STATIC_HUFFMAN)
    } else {
        match huf_compress(&coder.ac) {
            Some(h) => (h, AC_STATIC_HUFFMAN),
            None => (zlib(&le_bytes(&coder.ac))?, AC_DEFLATE),
        }
    };
    let dc_z = if coder.dc.is_empty() {
        Vec::new()
    } else {
        let mut predicted = Vec::new();
        zip_predict(&le_bytes(&coder.dc), &mut predicted);
        zlib(&predicted)?
    };
    let (rle_len, rle_z) = if rle_raw.is_empty() {
        (0, Vec::new())
    } else {
        let r = rle(rle_raw);
        (r.len(), zlib(&r)?)
    };
    let rules = channel_rules(channels);

    let sizes: [u64; 11] = [
        DWA_VERSION,
        unknown.len() as u64,
        unknown_z.len() as u64,
        ac_z.len() as u64,
        dc_z.len() as u64,
        rle_z.len() as u64,
        rle_len as u64,
        rle_raw.len() as u64,
        coder.ac.len() as u64,
        coder.dc.len() as u64,
        ac_coding,
    ];
    let mut out = Vec::with_capacity(
        88 + rules.len() + unknown_z.len() + ac_z.len() + dc_z.len() + rle_z.len(),
    );
    for s in sizes {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out.extend_from_slice(&rules);
    for stream in [&unknown_z, &ac_z, &dc_z, &rle_z] {
        out.extend_from_slice(stream);
    }
    Some(out)
}

/// Scheme of each channel (the last matching rule wins, as in OpenEXR's
/// decoder) and the R, G, B triples that share a name prefix, in the order
/// of their prefixes' first appearance.
fn classify(channels: &[ChunkChannel]) -> (Vec<u8>, Vec<[usize; 3]>) {
    let mut schemes = vec![UNKNOWN; channels.len()];
    let mut groups: Vec<(&str, [Option<usize>; 3])> = Vec::new();
    for (c, ch) in channels.iter().enumerate() {
        let prefix = &ch.name[..ch.name.len() - suffix(ch.name).len()];
        let g = match groups.iter().position(|(p, _)| *p == prefix) {
            Some(g) => g,
            None => {
                groups.push((prefix, [None; 3]));
                groups.len() - 1
            }
        };
        for r in RULES.iter().filter(|r| matches(r, ch)) {
            schemes[c] = r.scheme;
            if r.csc >= 0 {
                groups[g].1[r.csc as usize] = Some(c);
            }
        }
    }
    let triples = groups
        .iter()
        .filter_map(|(_, idx)| Some([idx[0]?, idx[1]?, idx[2]?]))
        .collect();
    (schemes, triples)
}

/// The part of a channel name after its last `.`.
fn suffix(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn matches(r: &Rule, ch: &ChunkChannel) -> bool {
    let pixel_type = if ch.half { PIXEL_HALF } else { PIXEL_FLOAT };
    r.pixel_type == pixel_type && r.suffix == suffix(ch.name)
}

/// The rules that match some channel: u16 total size (itself included),
/// then per rule the NUL-terminated suffix, a byte packing
/// `(csc + 1) << 4 | scheme << 2 | case-insensitive`, and the pixel type.
fn channel_rules(channels: &[ChunkChannel]) -> Vec<u8> {
    let mut out = vec![0u8; 2];
    for r in RULES
        .iter()
        .filter(|r| channels.iter().any(|c| matches(r, c)))
    {
        out.extend_from_slice(r.suffix.as_bytes());
        out.push(0);
        out.push((((r.csc + 1) as u8) << 4) | (r.scheme << 2));
        out.push(r.pixel_type);
    }
    // At most 15 short rules: far below u16::MAX.
    let len = out.len() as u16;
    out[..2].copy_from_slice(&len.to_le_bytes());
    out
}

/// One channel's lines within the raw chunk.
#[derive(Clone, Copy)]
struct Plane<'a> {
    raw: &'a [u8],
    line_bytes: usize,
    offset: usize,
    row_bytes: usize,
    half: bool,
}

impl<'a> Plane<'a> {
    fn row(&self, y: usize) -> &'a [u8] {
        let start = y * self.line_bytes + self.offset;
        &self.raw[start..start + self.row_bytes]
    }

    /// The samples as HALF bit patterns (FLOAT clamped to the HALF range
    /// first, so large values do not become infinities).
    fn halves(&self, lines: usize) -> Vec<u16> {
        let mut out = Vec::with_capacity(self.row_bytes / if self.half { 2 } else { 4 } * lines);
        for y in 0..lines {
            let row = self.row(y);
            if self.half {
                out.extend(
                    row.chunks_exact(2)
                        .map(|s| u16::from_le_bytes([s[0], s[1]])),
                );
            } else {
                out.extend(row.chunks_exact(4).map(|s| {
                    let f = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                    f32_to_half(f.clamp(-65504.0, 65504.0))
                }));
            }
        }
        out
    }
}

/// Accumulates the quantised DCT coefficients of the LOSSY_DCT channels.
struct DctCoder {
    width: usize,
    lines: usize,
    /// Run-length coded AC coefficients, block by block, channel by channel.
    ac: Vec<u16>,
    /// DC coefficients, one plane per channel.
    dc: Vec<u16>,
    luma_tolerance: [f32; 64],
    chroma_tolerance: [f32; 64],
    basis: [[f32; 8]; 8],
}

impl DctCoder {
    fn new(width: usize, lines: usize, base_error: f32) -> Self {
        let tolerance = |table: &[u8; 64]| {
            let min = f32::from(*table.iter().min().unwrap_or(&1));
            table.map(|q| base_error * f32::from(q) / min)
        };
        // Orthonormal DCT-II: row u is c(u)/2 cos((2n+1)u pi/16).
        let mut basis = [[0f32; 8]; 8];
        for (u, row) in basis.iter_mut().enumerate() {
            let c = if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            for (n, b) in row.iter_mut().enumerate() {
                let angle = (2 * n + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0;
                *b = (0.5 * c * angle.cos()) as f32;
            }
        }
        DctCoder {
            width,
            lines,
            ac: Vec::new(),
            dc: Vec::new(),
            luma_tolerance: tolerance(&JPEG_LUMA),
            chroma_tolerance: tolerance(&JPEG_CHROMA),
            basis,
        }
    }

    /// Codes one channel, or an R, G, B triple through Y'CbCr.
    fn encode(&mut self, planes: &[Plane]) {
        let (width, lines) = (self.width, self.lines);
        let perceptual = perceptual_table();
        let values: Vec<Vec<f32>> = planes
            .iter()
            .map(|p| {
                p.halves(lines)
                    .into_iter()
                    .map(|h| perceptual[h as usize])
                    .collect()
            })
            .collect();
        let blocks_x = width.div_ceil(8);
        let blocks_y = lines.div_ceil(8);
        let blocks = blocks_x * blocks_y;
        let dc_start = self.dc.len();
        self.dc.resize(dc_start + planes.len() * blocks, 0);

        let mut block = [[0f32; 64]; 3];
        for by in 0..blocks_y {
            for bx in 0..blocks_x {
                for (k, v) in values.iter().enumerate() {
                    for y in 0..8 {
                        let row = mirror(by * 8 + y, lines) * width;
                        for x in 0..8 {
                            block[k][y * 8 + x] = v[row + mirror(bx * 8 + x, width)];
                        }
                    }
                }
                if planes.len() == 3 {
                    rgb_to_ycbcr(&mut block);
                }
                for (k, b) in block.iter_mut().take(planes.len()).enumerate() {
                    let tolerance = if k == 0 {
                        &self.luma_tolerance
                    } else {
                        &self.chroma_tolerance
                    };
                    let mut zig = [0u16; 64];
                    if b.iter().all(|&v| v == b[0]) {
                        // A flat block (background) has only its DC term, 8 x value.
                        zig[0] = quantize(f32_to_half(8.0 * b[0]), tolerance[0]);
                    } else {
                        dct(b, &self.basis);
                        for i in 0..64 {
                            zig[ZIGZAG[i] as usize] = quantize(f32_to_half(b[i]), tolerance[i]);
                        }
                    }
                    self.dc[dc_start + k * blocks + by * blocks_x + bx] = zig[0];
                    run_length_ac(&zig, &mut self.ac);
                }
            }
        }
    }
}

/// Coordinate `v` folded back into `0..n` (edge sample repeated).
fn mirror(v: usize, n: usize) -> usize {
    if v < n {
        v
    } else {
        (2 * n).saturating_sub(v + 1)
    }
}

/// Rec.709 R'G'B' -> Y'CbCr, without offsets (0 stays 0).
fn rgb_to_ycbcr(block: &mut [[f32; 64]; 3]) {
    let [c0, c1, c2] = block;
    for ((y, cb), cr) in c0.iter_mut().zip(c1.iter_mut()).zip(c2.iter_mut()) {
        let (r, g, b) = (*y, *cb, *cr);
        *y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        *cb = -0.1146 * r - 0.3854 * g + 0.5 * b;
        *cr = 0.5 * r - 0.4542 * g - 0.0458 * b;
    }
}

/// In-place separable 8x8 DCT with `basis` rows (row = vertical frequency).
fn dct(block: &mut [f32; 64], basis: &[[f32; 8]; 8]) {
    let mut tmp = [0f32; 64];
    for y in 0..8 {
        for u in 0..8 {
            tmp[y * 8 + u] = (0..8).map(|x| basis[u][x] * block[y * 8 + x]).sum();
        }
    }
    for v in 0..8 {
        for u in 0..8 {
            block[v * 8 + u] = (0..8).map(|y| basis[v][y] * tmp[y * 8 + u]).sum();
        }
    }
}

/// HALF bits -> the perceptual value DWA transforms: |x|^(1/2.2) up to 1,
/// ln|x|/2.2 + 1 above, sign kept; zero, NaN and ±Inf -> 0. Rounded to HALF
/// like a decoder's values: a flat block's DC (8 x value) is then exact, and
/// the decoder's inverse table maps it back to the very same input.
fn perceptual_table() -> &'static [f32] {
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=u16::MAX)
            .map(|h| {
                if h & 0x7c00 == 0x7c00 {
                    return 0.0;
                }
                let f = half_to_f32(h);
                let a = f.abs();
                let z = if a <= 1.0 {
                    a.powf(1.0 / 2.2)
                } else {
                    a.ln() / 2.2 + 1.0
                };
                half_to_f32(f32_to_half(z.copysign(f)))
            })
            .collect()
    })
}

/// The HALF with the fewest set bits whose value lies within `tolerance`
/// of the HALF `h` (the closest one among equals); `h` itself when the
/// tolerance is 0. Never returns a NaN or infinity, so the AC stream cannot
/// contain a run marker (`0xffxx`) by accident.
fn quantize(h: u16, tolerance: f32) -> u16 {
    let a = h & 0x7fff;
    if a >= 0x7c00 {
        return 0;
    }
    if tolerance.is_nan() || tolerance <= 0.0 {
        return h;
    }
    let v = half_to_f32(a);
    if v < tolerance {
        return 0;
    }
    let (lo_val, hi_val) = (
        f64::from(v) - f64::from(tolerance),
        f64::from(v) + f64::from(tolerance),
    );
    let value = |p: u16| f64::from(half_to_f32(p));
    // The first and last patterns strictly inside the interval; positive
    // HALF patterns are ordered like their values.
    let mut lo = f32_to_half(lo_val as f32).min(a);
    while lo > 0 && value(lo - 1) > lo_val {
        lo -= 1;
    }
    while lo < a && value(lo) <= lo_val {
        lo += 1;
    }
    let mut hi = f32_to_half(hi_val as f32).clamp(a, 0x7bff);
    while hi < 0x7bff && value(hi + 1) < hi_val {
        hi += 1;
    }
    while hi > a && value(hi) >= hi_val {
        hi -= 1;
    }
    (h & 0x8000) | fewest_bits(lo, hi, f64::from(v))
}

/// Among the patterns in `lo..=hi` (0 < lo <= hi), one with the fewest set
/// bits, the closest to `target` among those.
fn fewest_bits(lo: u16, hi: u16, target: f64) -> u16 {
    if lo == hi {
        return lo;
    }
    // Every pattern in the range shares the bits above the highest bit
    // where lo and hi differ; the cheapest add at most one bit to them.
    let p = 15 - (lo ^ hi).leading_zeros();
    let prefix = u32::from(hi) & !((2u32 << p) - 1);
    let lo_low = u32::from(lo) & ((1 << p) - 1);
    if lo_low == 0 {
        return lo; // lo is the prefix itself
    }
    (0..=p)
        .map(|q| prefix | (1 << q))
        .filter(|&c| c >= u32::from(lo))
        .map(|c| c as u16)
        .min_by(|&x, &y| {
            let dx = (f64::from(half_to_f32(x)) - target).abs();
            let dy = (f64::from(half_to_f32(y)) - target).abs();
            dx.total_cmp(&dy)
        })
        .unwrap_or(hi)
}

/// Appends a block's 63 AC coefficients (zig-zag order) with zero runs
/// coded: `0xff00 | n` for n > 1 zeros, `0xff00` for zeros to the end.
fn run_length_ac(zig: &[u16; 64], ac: &mut Vec<u16>) {
    let mut i = 1;
    while i < 64 {
        if zig[i] != 0 {
            ac.push(zig[i]);
            i += 1;
            continue;
        }
        let run = zig[i..].iter().take_while(|&&v| v == 0).count();
        ac.push(match run {
            1 => 0,
            _ if i + run == 64 => 0xff00,
            _ => 0xff00 | run as u16,
        });
        i += run;
    }
}

/// OpenEXR's byte run-length code: a count byte c >= 0 repeats the next
/// byte c + 1 times; c < 0 copies the next -c bytes.
fn rle(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 16);
    let mut i = 0;
    while i < data.len() {
        let run = data[i..]
            .iter()
            .take(128)
            .take_while(|&&b| b == data[i])
            .count();
        if run >= 3 {
            out.push((run - 1) as u8);
            out.push(data[i]);
            i += run;
            continue;
        }
        // A literal stretch up to the next run of three (or 127 bytes).
        let start = i;
        while i < data.len() && i - start < 127 {
            if i + 2 < data.len() && data[i] == data[i + 1] && data[i] == data[i + 2] {
                break;
            }
            i += 1;
        }
        out.push((-((i - start) as i32)) as u8);
        out.extend_from_slice(&data[start..i]);
    }
    out
}

fn le_bytes(words: &[u16]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn zlib(data: &[u8]) -> Option<Vec<u8>> {
    let mut e = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2),
        flate2::Compression::new(ZLIB_LEVEL),
    );
    e.write_all(data).ok()?;
    e.finish().ok()
}

#[cfg(test)]
mod tests {
    //! The pieces in isolation, plus the lossless streams of whole chunks
    //! read back by a test-only parser; `tests/exr_codecs.rs` checks that
    //! OpenEXR decodes whole files within the stated tolerance.

    use super::super::exr_piz::tests::{huf_decompress, Rng};
    use super::*;
    use std::io::Read;

    fn abgrz(half: bool) -> Vec<ChunkChannel<'static>> {
        ["A", "B", "G", "R", "Z"]
            .into_iter()
            .map(|name| ChunkChannel {
                name,
                half: half && name != "Z",
            })
            .collect()
    }

    #[test]
    fn zigzag_is_the_jpeg_order() {
        let mut seen = [false; 64];
        for &z in &ZIGZAG {
            assert!(!std::mem::replace(&mut seen[z as usize], true));
        }
        assert_eq!(ZIGZAG[..8], [0, 1, 5, 6, 14, 15, 27, 28]);
        assert_eq!(ZIGZAG[8..16], [2, 4, 7, 13, 16, 26, 29, 42]);
        assert_eq!(ZIGZAG[56..], [35, 36, 48, 49, 57, 58, 62, 63]);
    }

    #[test]
    fn dct_is_orthonormal() {
        let coder = DctCoder::new(8, 8, 0.0);
        let mut rng = Rng::new(2);
        let orig: [f32; 64] = std::array::from_fn(|_| (rng.next() % 1000) as f32 / 250.0 - 2.0);
        let mut b = orig;
        dct(&mut b, &coder.basis);
        // Energy is preserved; a constant block has only DC = 8 x value.
        let energy = |v: &[f32; 64]| v.iter().map(|x| f64::from(x * x)).sum::<f64>();
        assert!((energy(&b) - energy(&orig)).abs() < 1e-3 * energy(&orig));
        let mut flat = [0.75f32; 64];
        dct(&mut flat, &coder.basis);
        assert!((flat[0] - 6.0).abs() < 1e-5);
        assert!(flat[1..].iter().all(|c| c.abs() < 1e-5));
        // The inverse (transposed basis) restores the block.
        let m = &coder.basis;
        for y in 0..8 {
            for x in 0..8 {
                let v: f32 = (0..64).map(|k| m[k / 8][y] * m[k % 8][x] * b[k]).sum();
                assert!((v - orig[y * 8 + x]).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn quantize_picks_fewest_bits_within_tolerance() {
        let mut rng = Rng::new(4);
        let finite: Vec<u16> = (0..0x7c00).collect();
        for _ in 0..2000 {
            let h = (rng.next() % 0x7c00) as u16 | if rng.next() & 1 == 1 { 0x8000 } else { 0 };
            let tolerance = [0.0, 1e-4, 7.2e-4, 0.01, 0.3][(rng.next() % 5) as usize];
            let q = quantize(h, tolerance);
            let v = f64::from(half_to_f32(h));
            if tolerance == 0.0 {
                assert_eq!(q, h);
                continue;
            }
            let within =
                |p: u16| (f64::from(half_to_f32(p)) - v.abs()).abs() < f64::from(tolerance);
            assert!(
                within(q & 0x7fff),
                "{h:#06x} -> {q:#06x} tolerance {tolerance}"
            );
            assert!(q == 0 || q & 0x8000 == h & 0x8000, "sign kept");
            let best = finite
                .iter()
                .filter(|&&p| within(p))
                .map(|p| p.count_ones())
                .min();
            assert_eq!(
                Some((q & 0x7fff).count_ones()),
                best,
                "{h:#06x} tolerance {tolerance}"
            );
        }
        // Never a run marker or a non-finite value.
        assert_eq!(quantize(0x7c00, 0.1), 0);
        assert_eq!(quantize(0xffff, 0.0), 0);
    }

    #[test]
    fn perceptual_table_is_monotonic_and_clears_non_finite() {
        let t = perceptual_table();
        assert_eq!(t[0x3c00], 1.0); // 1 maps to 1
        let rounded = |v: f32| half_to_f32(f32_to_half(v));
        assert_eq!(t[0x4000], rounded(2f32.ln() / 2.2 + 1.0));
        assert_eq!(t[0x3800], rounded(0.5f32.powf(1.0 / 2.2)));
        assert_eq!(t[0xb800], -t[0x3800]);
        for h in [0x7c00usize, 0xfc00, 0x7e00, 0xffff] {
            assert_eq!(t[h], 0.0);
        }
        assert!(t[1..0x7c00].windows(2).all(|w| w[0] <= w[1]));
        assert!(t.iter().all(|&v| rounded(v) == v));
    }

    /// Inverse of [`run_length_ac`] for one block, as a decoder reads it.
    fn un_run_length(ac: &[u16]) -> ([u16; 64], usize) {
        let mut zig = [0u16; 64];
        let (mut i, mut used) = (1, 0);
        while i < 64 {
            let v = ac[used];
            used += 1;
            if v & 0xff00 == 0xff00 {
                i += if v & 0xff == 0 {
                    64
                } else {
                    usize::from(v & 0xff)
                };
            } else {
                zig[i] = v;
                i += 1;
            }
        }
        (zig, used)
    }

    #[test]
    fn ac_runs_round_trip() {
        let mut rng = Rng::new(6);
        for density in [0u64, 1, 5, 20, 60, 64] {
            let mut zig = [0u16; 64];
            for z in &mut zig[1..] {
                if rng.next() % 64 < density {
                    *z = (rng.next() % 0x7bff) as u16 + 1;
                }
            }
            let mut ac = Vec::new();
            run_length_ac(&zig, &mut ac);
            let (back, used) = un_run_length(&ac);
            assert_eq!(back[1..], zig[1..]);
            assert_eq!(used, ac.len());
        }
        let mut ac = Vec::new();
        run_length_ac(&[0; 64], &mut ac);
        assert_eq!(ac, [0xff00]);
    }

    /// OpenEXR's byte RLE decoder.
    fn un_rle(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            let c = data[i] as i8;
            if c < 0 {
                let n = -(c as i32) as usize;
                out.extend_from_slice(&data[i + 1..i + 1 + n]);
                i += 1 + n;
            } else {
                out.extend(std::iter::repeat_n(data[i + 1], c as usize + 1));
                i += 2;
            }
        }
        out
    }

    #[test]
    fn rle_round_trips() {
        let mut rng = Rng::new(8);
        let cases: Vec<Vec<u8>> = vec![
            vec![7],
            vec![1, 2],
            vec![0; 1000],
            (0..1000).map(|_| rng.next() as u8).collect(),
            (0..3000).map(|i| ((i / 5) % 3) as u8).collect(),
            (0..3000)
                .map(|i| if i % 200 < 2 { 9 } else { (i % 7) as u8 })
                .collect(),
        ];
        for data in cases {
            assert_eq!(un_rle(&rle(&data)), data);
        }
        assert_eq!(rle(&[0; 1000]).len(), 2 * 1000usize.div_ceil(128));
    }

    #[test]
    fn channels_are_classified_by_suffix_and_type() {
        let (schemes, triples) = classify(&abgrz(true));
        assert_eq!(schemes, [RLE, LOSSY_DCT, LOSSY_DCT, LOSSY_DCT, UNKNOWN]);
        assert_eq!(triples, [[3, 2, 1]]);
        let layered = [
            ChunkChannel {
                name: "diffuse.B",
                half: false,
            },
            ChunkChannel {
                name: "diffuse.G",
                half: true,
            },
            ChunkChannel {
                name: "diffuse.R",
                half: true,
            },
            ChunkChannel {
                name: "spec.G",
                half: true,
            },
            ChunkChannel {
                name: "spec.R",
                half: true,
            },
            ChunkChannel {
                name: "spec.Y",
                half: true,
            },
        ];
        let (schemes, triples) = classify(&layered);
        assert_eq!(schemes, [LOSSY_DCT; 6]);
        assert_eq!(triples, [[2, 1, 0]], "spec has no B: no Y'CbCr triple");
        // The rule bytes: size, then R, G, B (HALF) and A (HALF).
        let rules = channel_rules(&abgrz(true));
        assert_eq!(
            rules,
            [18, 0, b'R', 0, 0x14, 1, b'G', 0, 0x24, 1, b'B', 0, 0x34, 1, b'A', 0, 0x08, 1]
        );
    }

    /// The 11 sizes of a chunk and the byte range of each stream.
    fn parse(chunk: &[u8]) -> ([u64; 11], [std::ops::Range<usize>; 4]) {
        let sizes: [u64; 11] = std::array::from_fn(|i| {
            u64::from_le_bytes(chunk[i * 8..i * 8 + 8].try_into().unwrap())
        });
        let rules = u16::from_le_bytes([chunk[88], chunk[89]]) as usize;
        let mut at = 88 + rules;
        let ranges = [sizes[2], sizes[3], sizes[4], sizes[5]].map(|n| {
            at += n as usize;
            at - n as usize..at
        });
        assert_eq!(at, chunk.len(), "streams fill the chunk exactly");
        (sizes, ranges)
    }

    fn inflate(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn alpha_and_depth_are_stored_losslessly() {
        let mut rng = Rng::new(10);
        for half in [true, false] {
            let channels = abgrz(half);
            let (width, lines) = (45, 32);
            let mut raw = Vec::new();
            let mut alpha = Vec::new();
            let mut depth = Vec::new();
            for y in 0..lines {
                for ch in &channels {
                    for x in 0..width {
                        let v = match ch.name {
                            "A" => {
                                if x > 20 {
                                    1.0
                                } else {
                                    (x * y) as f32 / 700.0
                                }
                            }
                            "Z" => f32::from_bits(rng.next() as u32 & 0x7fff_ffff),
                            _ => (x + y) as f32 / 80.0,
                        };
                        let bytes = if ch.half {
                            f32_to_half(v).to_le_bytes().to_vec()
                        } else {
                            v.to_le_bytes().to_vec()
                        };
                        match ch.name {
                            "A" => alpha.push(bytes.clone()),
                            "Z" => depth.extend_from_slice(&bytes),
                            _ => {}
                        }
                        raw.extend(bytes);
                    }
                }
            }
            let chunk = compress_dwaa(&raw, &channels, width, lines, 45.0);
            assert!(chunk.len() < raw.len() / 2);
            let (sizes, [unknown, ac, dc, rle_z]) = parse(&chunk);
            assert_eq!(sizes[0], 2, "version");
            assert_eq!(sizes[10], AC_STATIC_HUFFMAN);
            // Z: planar, zlib'd.
            assert_eq!(sizes[1] as usize, depth.len());
            assert_eq!(inflate(&chunk[unknown]), depth);
            // A: byte planes, RLE, zlib'd.
            let packed = inflate(&chunk[rle_z]);
            assert_eq!(packed.len() as u64, sizes[6]);
            let planes = un_rle(&packed);
            assert_eq!(planes.len() as u64, sizes[7]);
            let n = alpha.len();
            for (i, sample) in alpha.iter().enumerate() {
                for (b, &byte) in sample.iter().enumerate() {
                    assert_eq!(planes[b * n + i], byte);
                }
            }
            // One DC per 8x8 block and colour channel; the AC stream decodes
            // to whole blocks.
            let blocks = width.div_ceil(8) * lines.div_ceil(8);
            assert_eq!(sizes[9] as usize, 3 * blocks);
            let mut dc_bytes = inflate(&chunk[dc]);
            assert_eq!(dc_bytes.len(), 6 * blocks);
            let mut plain = vec![0; dc_bytes.len()];
            super::super::exr::zip_unpredict(&mut dc_bytes, &mut plain);
            let ac_words = huf_decompress(&chunk[ac], sizes[8] as usize).unwrap();
            let mut used = 0;
            for _ in 0..3 * blocks {
                used += un_run_length(&ac_words[used..]).1;
            }
            assert_eq!(used, ac_words.len());
        }
    }

    #[test]
    fn colour_free_chunks_have_no_dct_streams() {
        let channels = [ChunkChannel {
            name: "Z",
            half: false,
        }];
        let raw: Vec<u8> = (0..64 * 32)
            .flat_map(|i| (i as f32 * 0.5).to_le_bytes())
            .collect();
        let chunk = compress_dwaa(&raw, &channels, 64, 32, 45.0);
        let (sizes, _) = parse(&chunk);
        assert_eq!(sizes[3..=9], [0; 7]);
        assert_eq!(
            u16::from_le_bytes([chunk[88], chunk[89]]),
            2,
            "no rules apply"
        );
    }

    #[test]
    fn tiny_or_incompressible_chunks_are_stored_raw() {
        let channels = abgrz(true);
        let raw: Vec<u8> = (0..12).collect();
        assert_eq!(compress_dwaa(&raw, &channels, 1, 1, 45.0), raw);
    }

    #[test]
    fn output_is_deterministic_and_level_controls_size() {
        let channels = abgrz(true);
        let (width, lines) = (64, 32);
        let mut rng = Rng::new(12);
        let raw: Vec<u8> = (0..lines)
            .flat_map(|y| {
                let mut line = Vec::new();
                for c in 0..5 {
                    for x in 0..width {
                        let v = ((x * (c + 1) + y) as f32 * 0.05).sin() * 0.5
                            + 0.5
                            + (rng.next() % 100) as f32 * 1e-4;
                        if c < 4 {
                            line.extend(f32_to_half(v).to_le_bytes());
                        } else {
                            line.extend(v.to_le_bytes());
                        }
                    }
                }
                line
            })
            .collect();
        let a = compress_dwaa(&raw, &channels, width, lines, 45.0);
        assert_eq!(a, compress_dwaa(&raw, &channels, width, lines, 45.0));
        let fine = compress_dwaa(&raw, &channels, width, lines, 5.0);
        let coarse = compress_dwaa(&raw, &channels, width, lines, 200.0);
        assert!(
            coarse.len() < a.len() && a.len() < fine.len(),
            "{} {} {}",
            coarse.len(),
            a.len(),
            fine.len()
        );
    }
}
