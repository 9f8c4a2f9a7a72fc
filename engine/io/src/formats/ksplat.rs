//! mkkellogg GaussianSplats3D `.ksplat` (its `SplatBuffer`), read only.
//!
//! Layout (little-endian), from GaussianSplats3D's `SplatBuffer` and PlayCanvas
//! splat-transform's reader:
//!
//! * **main header**, 4096 bytes: version major (u8, 0) and minor (u8, ≥ 1) at 0, then u32
//!   `max_sections` at 4, `sections` at 8, `max_splats` at 12, `splats` at 16; u16
//!   `compression_level` (0, 1, 2) at 20; scene centre f32 × 3 at 24; the 8-bit SH range
//!   `sh_min`, `sh_max` (f32) at 36 and 40 (0 means the default ±1.5);
//! * **section headers**, 1024 bytes each, `max_sections` of them: u32 `splats` at 0,
//!   `max_splats` at 4, `bucket_size` at 8, `bucket_count` at 12, f32 `block_size` at 16, u16
//!   `bucket_storage` (bytes per bucket, 12) at 20, u32 `quant_range` at 24 (0 = the level's
//!   default: 1 for level 0, 32767 for 1 and 2), `full_buckets` at 32, `partial_buckets` at
//!   36, u16 `sh_degree` at 40;
//! * **section data**, back to back after all section headers: `partial_buckets` u32 lengths
//!   of the partly filled buckets, `bucket_count` bucket centres (f32 × 3), then `max_splats`
//!   records (only the first `splats` used).
//!
//! A record: centre, scale (linear), rotation (w, x, y, z), colour RGBA u8, then the SH
//! beyond the DC term. Level 0 stores every float as f32; levels 1 and 2 as f16, except the
//! centre: u16 `q` per axis, `(q − quant_range) · block_size / 2 / quant_range` plus the
//! splat's bucket centre (splats `i < full_buckets · bucket_size` lie in bucket
//! `i / bucket_size`, the rest in the partial buckets in order). Level 2 stores the SH as u8,
//! `sh_min + q/255 · (sh_max − sh_min)`. SH are per band, channel-major within a band: band 1
//! is r₀r₁r₂ g₀g₁g₂ b₀b₁b₂ (9 values), band 2 five per channel (15), band 3 seven (21).
//! GaussianSplats3D writes degrees up to 2; degree 3 is read in the same pattern, as
//! splat-transform reads it.
//!
//! Colour RGB = (0.5 + SH_C0 · f_dc) · 255 and A = sigmoid(opacity) · 255, as `.splat`.
//! Axes are the INRIA PLY's (RDF): the format is made from INRIA PLYs without a frame
//! change. Level 0 keeps every value of the record bit for bit (scales become their logs).
//!
//! Every size is computed in u64 from the headers and checked against the file before
//! anything is allocated; the splat count is capped at [`super::MAX_SPLATS`] and must equal
//! the sections' total.

use std::path::Path;

use super::{check_count, logit_from_u8, SH_C0};
use crate::half::half_to_f32;
use crate::{IoError, Splats};

/// Bytes of the main header.
pub(crate) const MAIN_HEADER: usize = 4096;
/// Bytes of one section header.
pub(crate) const SECTION_HEADER: usize = 1024;
/// Section headers beyond this are refused (GaussianSplats3D writes one per LOD/scene, few).
const MAX_SECTIONS: u64 = 1 << 16;
/// SH values (all channels) beyond the DC term per degree.
const SH_VALUES: [usize; 4] = [0, 9, 24, 45];

/// What the `.ksplat` header says besides the splats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KsplatInfo {
    /// Minor version (major is 0).
    pub version_minor: u8,
    /// Compression level 0 (f32), 1 (f16) or 2 (f16, 8-bit SH).
    pub compression: u8,
    /// Sections holding splats.
    pub sections: usize,
    /// Bytes of the main and section headers.
    pub header_bytes: u64,
}

/// Bytes of each part of a record at a compression level: centre, scale, rotation, colour,
/// one SH value.
fn record_parts(level: u8) -> [usize; 5] {
    match level {
        0 => [12, 12, 16, 4, 4],
        1 => [6, 6, 8, 4, 2],
        _ => [6, 6, 8, 4, 1],
    }
}

fn bytes_per_splat(level: u8, degree: usize) -> usize {
    let [c, s, r, col, sh] = record_parts(level);
    c + s + r + col + SH_VALUES[degree] * sh
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_bits(u32_at(b, at))
}

/// One section, checked against the file.
struct Section {
    splats: usize,
    degree: usize,
    quant_range: f64,
    block_size: f64,
    bucket_size: usize,
    full_buckets: usize,
    /// Byte ranges in the file.
    partial_lengths: usize,
    partial_count: usize,
    centres: usize,
    bucket_count: usize,
    data: usize,
}

/// The main header's fields.
struct Main {
    minor: u8,
    level: u8,
    splats: usize,
    max_sections: usize,
    sh_range: (f64, f64),
}

fn parse_main(b: &[u8]) -> Result<Main, String> {
    if b.len() < MAIN_HEADER {
        return Err(format!(
            "file is truncated: {} bytes, the .ksplat main header alone has {MAIN_HEADER}",
            b.len()
        ));
    }
    let (major, minor) = (b[0], b[1]);
    if major != 0 || minor < 1 {
        return Err(format!(
            "unsupported .ksplat version {major}.{minor} (vksplat reads 0.1 and later 0.x)"
        ));
    }
    let level = u16_at(b, 20);
    if level > 2 {
        return Err(format!(
            "unknown .ksplat compression level {level} (0, 1 and 2 exist)"
        ));
    }
    let max_sections = u64::from(u32_at(b, 4));
    if max_sections > MAX_SECTIONS {
        return Err(format!(
            "the header declares {max_sections} sections, more than the {MAX_SECTIONS} vksplat \
             accepts"
        ));
    }
    let headers_end = MAIN_HEADER as u64 + max_sections * SECTION_HEADER as u64;
    if headers_end > b.len() as u64 {
        return Err(format!(
            "file is truncated: {max_sections} section headers end at byte {headers_end}, the \
             file has {}",
            b.len()
        ));
    }
    let splats = check_count(u64::from(u32_at(b, 16))).map_err(|m| format!("the header {m}"))?;
    // Zero (or NaN, which upstream's `||` treats the same) means the default range.
    let or_default = |v: f32, d: f64| {
        if v == 0.0 || v.is_nan() {
            d
        } else {
            f64::from(v)
        }
    };
    let sh_range = (
        or_default(f32_at(b, 36), -1.5),
        or_default(f32_at(b, 40), 1.5),
    );
    if !sh_range.0.is_finite() || !sh_range.1.is_finite() {
        return Err(format!(
            "the 8-bit SH range [{}, {}] is not finite",
            sh_range.0, sh_range.1
        ));
    }
    Ok(Main {
        minor,
        level: level as u8,
        splats,
        max_sections: max_sections as usize,
        sh_range,
    })
}

/// Reads and checks every section header and where its data lies.
fn parse_sections(b: &[u8], m: &Main) -> Result<Vec<Section>, String> {
    let len = b.len() as u64;
    let mut base = (MAIN_HEADER + m.max_sections * SECTION_HEADER) as u64;
    let mut sections = Vec::new();
    let mut total = 0u64;
    for i in 0..m.max_sections {
        let h = &b[MAIN_HEADER + i * SECTION_HEADER..MAIN_HEADER + (i + 1) * SECTION_HEADER];
        let bad = |msg: String| format!("section {i}: {msg}");
        let splats = u64::from(u32_at(h, 0));
        let max_splats = u64::from(u32_at(h, 4));
        let bucket_size = u64::from(u32_at(h, 8));
        let bucket_count = u64::from(u32_at(h, 12));
        let block_size = f64::from(f32_at(h, 16));
        let bucket_storage = u64::from(u16_at(h, 20));
        let quant_range = match u32_at(h, 24) {
            0 if m.level == 0 => 1,
            0 => 32767,
            q => q,
        };
        let full_buckets = u64::from(u32_at(h, 32));
        let partial = u64::from(u32_at(h, 36));
        let degree = u16_at(h, 40);
        if degree > 3 {
            return Err(bad(format!(
                "SH degree {degree} (a .ksplat section holds degree 0 to 3)"
            )));
        }
        let degree = degree as usize;
        if splats > max_splats {
            return Err(bad(format!(
                "holds {splats} splats but has room for {max_splats}"
            )));
        }
        // Everything below is at most ~2^32 · 2^16, far from overflowing u64.
        let partial_lengths = base;
        let centres = base + partial * 4;
        let data = centres + bucket_storage * bucket_count;
        let end = data + bytes_per_splat(m.level, degree) as u64 * max_splats;
        if end > len {
            return Err(bad(format!(
                "its buckets and {max_splats} records end at byte {end}, the file has {len} \
                 (truncated?)"
            )));
        }
        if m.level > 0 && splats > 0 {
            if bucket_storage != 12 {
                return Err(bad(format!(
                    "bucket centres of {bucket_storage} bytes (a centre is 3 f32, 12 bytes)"
                )));
            }
            if !block_size.is_finite() || block_size <= 0.0 {
                return Err(bad(format!(
                    "bucket block size {block_size} is not positive"
                )));
            }
            if full_buckets + partial > bucket_count {
                return Err(bad(format!(
                    "{full_buckets} full and {partial} partial buckets, but {bucket_count} \
                     bucket centres"
                )));
            }
            let partial_sum: u64 = (0..partial as usize)
                .map(|k| u64::from(u32_at(b, (partial_lengths as usize) + 4 * k)))
                .sum();
            if full_buckets * bucket_size + partial_sum < splats {
                return Err(bad(format!(
                    "its buckets ({full_buckets} × {bucket_size} + {partial_sum} splats) do not \
                     cover its {splats} splats"
                )));
            }
        }
        total += splats;
        sections.push(Section {
            splats: splats as usize,
            degree,
            quant_range: f64::from(quant_range),
            block_size,
            bucket_size: bucket_size as usize,
            full_buckets: full_buckets as usize,
            partial_lengths: partial_lengths as usize,
            partial_count: partial as usize,
            centres: centres as usize,
            bucket_count: bucket_count as usize,
            data: data as usize,
        });
        base = end;
    }
    if total != m.splats as u64 {
        return Err(format!(
            "the header declares {} splats but its sections hold {total}",
            m.splats
        ));
    }
    Ok(sections)
}

/// True when `b` has a plausible `.ksplat` header whose sections fit the file (used for files
/// whose name does not say `.ksplat`; the format has no magic number).
pub(crate) fn plausible(b: &[u8]) -> bool {
    b.len() >= MAIN_HEADER
        && b[2] == 0
        && b[3] == 0
        && parse_main(b).is_ok_and(|m| m.max_sections > 0 && parse_sections(b, &m).is_ok())
}

/// Parses a whole `.ksplat` file; `path` names it in errors.
pub(crate) fn parse(b: &[u8], path: &Path) -> Result<(Splats, KsplatInfo), IoError> {
    let input = |m: String| IoError::input(path, m);
    let m = parse_main(b).map_err(input)?;
    let sections = parse_sections(b, &m).map_err(input)?;
    let degree = sections
        .iter()
        .filter(|s| s.splats > 0)
        .map(|s| s.degree)
        .max()
        .unwrap_or(0);
    let mut out = super::zeroed(m.splats, degree as u32).map_err(|e| e.at(path))?;
    let stride = out.coeffs_per_splat() * 3;
    let mut first = 0;
    for (i, sec) in sections.iter().enumerate() {
        decode_section(b, &m, sec, &mut out, first, stride)
            .map_err(|e| input(format!("section {i}: {e}")))?;
        first += sec.splats;
    }
    let info = KsplatInfo {
        version_minor: m.minor,
        compression: m.level,
        sections: sections.iter().filter(|s| s.splats > 0).count(),
        header_bytes: (MAIN_HEADER + m.max_sections * SECTION_HEADER) as u64,
    };
    Ok((out, info))
}

/// (coefficient 1..16, channel) of SH value `i` of a record.
fn sh_slot(i: usize) -> (usize, usize) {
    match i {
        0..9 => (1 + i % 3, i / 3),
        9..24 => (4 + (i - 9) % 5, (i - 9) / 5),
        _ => (9 + (i - 24) % 7, (i - 24) / 7),
    }
}

fn decode_section(
    b: &[u8],
    m: &Main,
    sec: &Section,
    out: &mut Splats,
    first: usize,
    stride: usize,
) -> Result<(), String> {
    let level = m.level;
    let [c_len, s_len, r_len, _, sh_len] = record_parts(level);
    let bps = bytes_per_splat(level, sec.degree);
    let pos_scale = sec.block_size / 2.0 / sec.quant_range;
    let float = |at: usize| -> f32 {
        if level == 0 {
            f32_at(b, at)
        } else {
            half_to_f32(u16_at(b, at))
        }
    };
    let (sh_min, sh_max) = m.sh_range;
    // The bucket of the current splat among the partial buckets: (index, first splat, end).
    let mut partial = (sec.full_buckets, sec.full_buckets * sec.bucket_size, 0usize);
    partial.2 = partial.1 + partial_len(b, sec, 0);
    for j in 0..sec.splats {
        let r = sec.data + j * bps;
        let o = first + j;
        out.means[o] = if level == 0 {
            [f32_at(b, r), f32_at(b, r + 4), f32_at(b, r + 8)]
        } else {
            let bucket = if j < sec.full_buckets * sec.bucket_size {
                j / sec.bucket_size
            } else {
                while j >= partial.2 {
                    partial.0 += 1;
                    partial.1 = partial.2;
                    partial.2 += partial_len(b, sec, partial.0 - sec.full_buckets);
                }
                partial.0
            };
            if bucket >= sec.bucket_count {
                return Err(format!(
                    "splat {j} lies in bucket {bucket} of {}",
                    sec.bucket_count
                ));
            }
            let centre = sec.centres + bucket * 12;
            let axis = |a: usize| {
                let q = f64::from(u16_at(b, r + 2 * a));
                ((q - sec.quant_range) * pos_scale + f64::from(f32_at(b, centre + 4 * a))) as f32
            };
            [axis(0), axis(1), axis(2)]
        };
        let step = c_len / 3;
        let s = r + c_len;
        out.log_scales[o] = [0, 1, 2].map(|a| super::splat::log_scale(float(s + a * step)));
        let q = s + s_len;
        out.rotations[o] = [0, 1, 2, 3].map(|a| float(q + a * step));
        let col = q + r_len;
        let sh = &mut out.sh[o * stride..(o + 1) * stride];
        for c in 0..3 {
            sh[c] = ((f64::from(b[col + c]) / 255.0 - 0.5) / SH_C0) as f32;
        }
        out.opacity_logits[o] = logit_from_u8(b[col + 3]);
        let h = col + 4;
        for i in 0..SH_VALUES[sec.degree] {
            let at = h + i * sh_len;
            let v = match level {
                0 => f32_at(b, at),
                1 => half_to_f32(u16_at(b, at)),
                _ => (sh_min + f64::from(b[at]) / 255.0 * (sh_max - sh_min)) as f32,
            };
            let (k, c) = sh_slot(i);
            sh[k * 3 + c] = v;
        }
    }
    Ok(())
}

/// Length of partial bucket `k` of `sec` (0 past the last one, so a splat beyond every
/// bucket ends the search with an error instead of a loop).
fn partial_len(b: &[u8], sec: &Section, k: usize) -> usize {
    if k < sec.partial_count {
        u32_at(b, sec.partial_lengths + 4 * k) as usize
    } else {
        usize::MAX / 4
    }
}
