//! PlayCanvas SOG ("Spatially Ordered Gaussians", versions 1 and 2): a `meta.json` naming
//! lossless WebP images, either as files beside it or bundled into one zip (`.sog`).
//! Specification: the PlayCanvas developer site, "The SOG Format" (version 2); version 1 is
//! the earlier layout PlayCanvas's engine and splat-transform still read.
//!
//! * Positions: per axis a 16-bit value split over `means_l` (low byte) and `means_u` (high
//!   byte), linear between `means.mins` and `means.maxs` in the log domain
//!   n = sign(x)·ln(|x| + 1).
//! * Rotations: "smallest three": RGB hold the three smaller components c as
//!   round((c·√2/2 + 0.5)·255), A = 252 + the index of the largest, which is non-negative and
//!   rebuilt from the unit norm. Component order is the PLY's (w, x, y, z).
//! * Scales: RGB index a 256-entry codebook of log scales; colours: RGB index a codebook of
//!   DC coefficients, A is the opacity (A/255 after the sigmoid).
//! * Higher SH: a palette (`shN_centroids`, 64 entries per row, one RGB pixel per
//!   coefficient, values through a third codebook) and a 16-bit palette index per splat
//!   (`shN_labels`, R low byte, G high byte).
//! * Version 1 (no `"version"`, no `count`: the count is `means.shape[0]`) has no codebooks:
//!   each byte b is min + (max − min)·b/255 with per-channel `mins`/`maxs` for scales (log) and
//!   `sh0` (DC, and in A the opacity logit), one scalar `mins`/`maxs` for the SH palette; its
//!   palette size and band count follow from the centroid image (64 entries per row, width
//!   64·coefficients). Positions and quaternions are as in version 2.
//!
//! Frame: SOG holds the splats in the frame of the PLY they came from (PlayCanvas's
//! splat-transform converts between PLY and SOG without changing coordinates), so the data
//! is read and written as vksplat's RDF frame, like the compressed PLY.
//!
//! Invariants: the declared count is capped ([`check_count`]) and every per-splat image must
//! hold it (W·H ≥ count) but not vastly more (no image is decoded beyond what the count
//! allows); WebP decoding runs under a memory limit; zip entries are CRC-checked and capped;
//! every error names the file (for a directory layout, the image file).

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{check_count, logit_from_u8, u8_from_logit, zeroed};
use crate::memory::AllocError;
use crate::{IoError, Splats};

/// Palette size limit of the format (16-bit labels).
const MAX_PALETTE: usize = 1 << 16;
/// Entries in every codebook.
const CODEBOOK: usize = 256;
/// Largest meta.json accepted.
const MAX_META: u64 = 16 << 20;

#[derive(Deserialize, Serialize)]
struct Meta {
    #[serde(default)]
    version: Option<u32>,
    count: u64,
    #[serde(default)]
    antialias: bool,
    means: Means,
    scales: Coded,
    quats: Files,
    sh0: Coded,
    #[serde(default, rename = "shN", skip_serializing_if = "Option::is_none")]
    sh_n: Option<ShN>,
}

/// Version 1's meta.json (read only).
#[derive(Deserialize)]
struct MetaV1 {
    means: MeansV1,
    scales: Ranged,
    quats: Files,
    sh0: Ranged,
    #[serde(default, rename = "shN")]
    sh_n: Option<ShNV1>,
}

#[derive(Deserialize)]
struct MeansV1 {
    shape: Vec<u64>,
    mins: [f32; 3],
    maxs: [f32; 3],
    files: Vec<String>,
}

/// Per-channel linear ranges: byte b is min + (max − min)·b/255.
#[derive(Deserialize)]
struct Ranged {
    mins: Vec<f32>,
    maxs: Vec<f32>,
    files: Vec<String>,
}

#[derive(Deserialize)]
struct ShNV1 {
    mins: f32,
    maxs: f32,
    files: Vec<String>,
}

#[derive(Deserialize, Serialize)]
struct Means {
    mins: [f32; 3],
    maxs: [f32; 3],
    files: Vec<String>,
}

#[derive(Deserialize, Serialize)]
struct Coded {
    codebook: Vec<f32>,
    files: Vec<String>,
}

#[derive(Deserialize, Serialize)]
struct Files {
    files: Vec<String>,
}

#[derive(Deserialize, Serialize)]
struct ShN {
    count: u64,
    bands: u32,
    codebook: Vec<f32>,
    files: Vec<String>,
}

/// What the reader found besides the splats.
pub(crate) struct SogInfo {
    pub antialiased: bool,
    /// One zip file (`.sog`) rather than `meta.json` beside its images.
    pub bundled: bool,
}

/// A zip archive whose directory names a `meta.json`: a bundled SOG.
pub(crate) fn sniff_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
        && crate::numpy::read_directory(&mut Cursor::new(bytes), bytes.len() as u64)
            .is_ok_and(|d| d.iter().any(|e| e.name == "meta.json"))
}

/// A JSON object that looks like SOG metadata (names `means`, `quats` and `sh0` within its
/// first MiB: codebooks put hundreds of numbers between the keys).
pub(crate) fn sniff_meta(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1 << 20)];
    bytes.first() == Some(&b'{')
        && [&b"\"means\""[..], b"\"quats\"", b"\"sh0\""]
            .iter()
            .all(|k| head.windows(k.len()).any(|w| w == *k))
}

/// Reads a bundled SOG held in `bytes` (`path` labels errors).
pub(crate) fn parse_bundle(bytes: &[u8], path: &Path) -> Result<(Splats, SogInfo), IoError> {
    let fail = |m: String| IoError::input(path, m);
    let dir = crate::numpy::read_directory(&mut Cursor::new(bytes), bytes.len() as u64)
        .map_err(|m| fail(m.replace("npz (zip)", "SOG (zip)")))?;
    let entries: HashMap<&str, &crate::numpy::Entry> =
        dir.iter().map(|e| (e.name.as_str(), e)).collect();
    let load = |name: &str, cap: u64| -> Result<Vec<u8>, String> {
        let entry = entries
            .get(name)
            .ok_or_else(|| format!("the archive has no '{name}'"))?;
        crate::numpy::entry_bytes(bytes, entry, cap).map_err(|m| format!("'{name}': {m}"))
    };
    let meta = load("meta.json", MAX_META).map_err(fail)?;
    // A zip entry cannot expand past what deflate allows (1032:1); images are capped by that.
    let cap = (bytes.len() as u64).saturating_mul(1032);
    let s = decode(&meta, |name| load(name, cap)).map_err(fail)?;
    Ok((
        s.0,
        SogInfo {
            antialiased: s.1,
            bundled: true,
        },
    ))
}

/// Reads `meta.json` (held in `bytes`, read from `path`) and the images it names beside it.
pub(crate) fn parse_meta(bytes: &[u8], path: &Path) -> Result<(Splats, SogInfo), IoError> {
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    // An image that cannot be read is reported as that file's error (its path, its kind).
    let mut file_error: Option<IoError> = None;
    let result = decode(bytes, |name| {
        // Images lie beside meta.json: a name is a file name, never a path.
        if name.is_empty() || name.contains(['/', '\\']) || name == ".." {
            return Err(format!(
                "meta.json names '{name}', which is not a file name"
            ));
        }
        let file = dir.join(name);
        let (f, len) = crate::input::open(&file).map_err(|e| {
            let m = e.to_string();
            file_error = Some(e);
            m
        })?;
        crate::input::read_rest(&file, f, len, Vec::new()).map_err(|e| {
            let m = e.to_string();
            file_error = Some(e);
            m
        })
    });
    match result {
        Ok((s, antialiased)) => Ok((
            s,
            SogInfo {
                antialiased,
                bundled: false,
            },
        )),
        Err(m) => Err(file_error.unwrap_or_else(|| IoError::input(path, m))),
    }
}

/// An image decoded to RGBA.
struct Image {
    width: usize,
    height: usize,
    rgba: Vec<u8>,
}

impl Image {
    fn px(&self, i: usize) -> &[u8] {
        &self.rgba[i * 4..i * 4 + 4]
    }
}

/// Decodes a lossless (or any) WebP to RGBA, refusing images of more than `max_pixels`.
fn webp(bytes: &[u8], name: &str, max_pixels: usize) -> Result<Image, String> {
    let fail = |e: image_webp::DecodingError| format!("'{name}' is not a readable WebP image: {e}");
    let mut dec = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(fail)?;
    let (w, h) = dec.dimensions();
    let (width, height) = (w as usize, h as usize);
    if width * height > max_pixels {
        return Err(format!(
            "'{name}' is {width}x{height}, more pixels than the {max_pixels} the scene needs"
        ));
    }
    dec.set_memory_limit(max_pixels.saturating_mul(8).max(1 << 20));
    let channels = if dec.has_alpha() { 4 } else { 3 };
    let mut buf =
        crate::memory::zeroed::<u8>(width * height * channels).map_err(|e| e.to_string())?;
    dec.read_image(&mut buf).map_err(fail)?;
    let rgba = if channels == 4 {
        buf
    } else {
        let mut out = crate::memory::zeroed::<u8>(width * height * 4).map_err(|e| e.to_string())?;
        for (o, i) in out.chunks_exact_mut(4).zip(buf.chunks_exact(3)) {
            o[..3].copy_from_slice(i);
            o[3] = 255;
        }
        out
    };
    Ok(Image {
        width,
        height,
        rgba,
    })
}

fn codebook(values: &[f32], what: &str) -> Result<[f32; CODEBOOK], String> {
    let book: [f32; CODEBOOK] = values.try_into().map_err(|_| {
        format!(
            "meta.json: the {what} codebook has {} entries, not {CODEBOOK}",
            values.len()
        )
    })?;
    if let Some(k) = book.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "meta.json: {what} codebook entry {k} is not finite"
        ));
    }
    Ok(book)
}

fn one_file<'a>(files: &'a [String], k: usize, what: &str) -> Result<&'a str, String> {
    files
        .get(k)
        .map(String::as_str)
        .ok_or_else(|| format!("meta.json: {what}.files has no entry {k}"))
}

/// What the metadata of either version comes down to: for every quantized channel, the value
/// of each of its 256 byte values.
struct Layout {
    count: u64,
    antialias: bool,
    means: Means,
    quats: Vec<String>,
    /// Log scales per axis.
    scales: [[f32; CODEBOOK]; 3],
    scale_files: Vec<String>,
    /// DC coefficients per channel, then the opacity logit (A).
    sh0: [[f32; CODEBOOK]; 4],
    sh0_files: Vec<String>,
    sh_n: Option<ShLayout>,
}

struct ShLayout {
    /// (coefficients per splat, palette entries) as declared (version 2); version 1 leaves
    /// them to the centroid image.
    declared: Option<(usize, usize)>,
    table: [f32; CODEBOOK],
    files: Vec<String>,
}

/// min + (max − min)·b/255 for every byte b (version 1's dequantization).
fn lerp_table(lo: f32, hi: f32, what: &str) -> Result<[f32; CODEBOOK], String> {
    let t: Vec<f32> = (0..CODEBOOK)
        .map(|b| lo + (hi - lo) * (b as f32 / 255.0))
        .collect();
    codebook(&t, what)
}

/// Per-channel tables of a version 1 range with `n` channels.
fn lerp_tables<const N: usize>(r: &Ranged, what: &str) -> Result<[[f32; CODEBOOK]; N], String> {
    if r.mins.len() != N || r.maxs.len() != N {
        return Err(format!(
            "meta.json: {what}.mins and .maxs have {} and {} entries, not {N}",
            r.mins.len(),
            r.maxs.len()
        ));
    }
    let mut out = [[0.0; CODEBOOK]; N];
    for (k, t) in out.iter_mut().enumerate() {
        *t = lerp_table(r.mins[k], r.maxs[k], &format!("{what} range {k}"))?;
    }
    Ok(out)
}

/// Parses meta.json of version 1 (no `"version"`) or 2.
fn layout(meta_bytes: &[u8]) -> Result<Layout, String> {
    let not_meta = |e: serde_json::Error| format!("meta.json is not SOG metadata: {e}");
    let value: serde_json::Value = serde_json::from_slice(meta_bytes).map_err(not_meta)?;
    let version = match value.get("version") {
        None => 1,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("meta.json: \"version\" is {v}, not a version number"))?,
    };
    match version {
        1 => {
            let m: MetaV1 = serde_json::from_value(value).map_err(not_meta)?;
            let count = *m
                .means
                .shape
                .first()
                .ok_or("meta.json: means.shape is empty")?;
            let sh_n = match m.sh_n {
                None => None,
                Some(sh) => Some(ShLayout {
                    declared: None,
                    table: lerp_table(sh.mins, sh.maxs, "shN range")?,
                    files: sh.files,
                }),
            };
            Ok(Layout {
                count,
                antialias: false,
                means: Means {
                    mins: m.means.mins,
                    maxs: m.means.maxs,
                    files: m.means.files,
                },
                quats: m.quats.files,
                scales: lerp_tables::<3>(&m.scales, "scales")?,
                scale_files: m.scales.files,
                sh0: lerp_tables::<4>(&m.sh0, "sh0")?,
                sh0_files: m.sh0.files,
                sh_n,
            })
        }
        2 => {
            let m: Meta = serde_json::from_value(value).map_err(not_meta)?;
            let scale_book = codebook(&m.scales.codebook, "scales")?;
            let dc_book = codebook(&m.sh0.codebook, "sh0")?;
            let opacity: [f32; CODEBOOK] = std::array::from_fn(|b| logit_from_u8(b as u8));
            let sh_n = match m.sh_n {
                None => None,
                Some(sh) => {
                    let coeffs = match sh.bands {
                        1 => 3,
                        2 => 8,
                        3 => 15,
                        b => return Err(format!("meta.json: shN.bands is {b}, not 1, 2 or 3")),
                    };
                    if sh.count == 0 || sh.count > MAX_PALETTE as u64 {
                        return Err(format!(
                            "meta.json: shN.count is {}, not 1..={MAX_PALETTE}",
                            sh.count
                        ));
                    }
                    Some(ShLayout {
                        declared: Some((coeffs, sh.count as usize)),
                        table: codebook(&sh.codebook, "shN")?,
                        files: sh.files,
                    })
                }
            };
            Ok(Layout {
                count: m.count,
                antialias: m.antialias,
                means: m.means,
                quats: m.quats.files,
                scales: [scale_book; 3],
                scale_files: m.scales.files,
                sh0: [dc_book, dc_book, dc_book, opacity],
                sh0_files: m.sh0.files,
                sh_n,
            })
        }
        v => Err(format!(
            "meta.json declares SOG version {v}; versions 1 and 2 are read"
        )),
    }
}

/// Decodes the scene described by meta.json `meta_bytes`, loading images with `load`.
/// Returns the splats and the antialias flag.
fn decode(
    meta_bytes: &[u8],
    mut load: impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<(Splats, bool), String> {
    let meta = layout(meta_bytes)?;
    let n = check_count(meta.count).map_err(|m| format!("meta.json {m}"))?;
    for (k, (lo, hi)) in meta.means.mins.iter().zip(&meta.means.maxs).enumerate() {
        if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
            return Err(format!(
                "meta.json: means range {k} [{lo}, {hi}] is not a finite interval"
            ));
        }
    }
    // Per-splat images are about square; allow any layout whose trailing pixels are fewer
    // than a full row of a 16383-wide image beyond the count, plus slack for tiny scenes.
    let max_pixels = n.saturating_add(n / 2).saturating_add(1 << 16);
    // `max`: None for a per-splat image (at most max_pixels, at least the count).
    let mut image =
        |files: &[String], k: usize, what: &str, max: Option<usize>| -> Result<Image, String> {
            let name = one_file(files, k, what)?;
            let img = webp(&load(name)?, name, max.unwrap_or(max_pixels))?;
            if max.is_none() && img.width * img.height < n {
                return Err(format!(
                    "'{name}' is {}x{}: fewer pixels than the {n} splats of meta.json's count",
                    img.width, img.height
                ));
            }
            Ok(img)
        };
    let means_l = image(&meta.means.files, 0, "means", None)?;
    let means_u = image(&meta.means.files, 1, "means", None)?;
    let quats = image(&meta.quats, 0, "quats", None)?;
    let scales = image(&meta.scale_files, 0, "scales", None)?;
    let sh0 = image(&meta.sh0_files, 0, "sh0", None)?;
    // The SH palette before the splats are allocated: version 1 gives its size (and so the
    // SH degree) only through the centroid image.
    let palette = match &meta.sh_n {
        None => None,
        Some(sh) => {
            let labels = image(&sh.files, 1, "shN", None)?;
            let name = one_file(&sh.files, 0, "shN")?;
            let max = match sh.declared {
                Some((coeffs, count)) => 64 * coeffs * count.div_ceil(64),
                None => 64 * 15 * (MAX_PALETTE / 64),
            };
            let cents = image(&sh.files, 0, "shN", Some(max))?;
            let (coeffs, count) = match sh.declared {
                Some(d) => d,
                None => {
                    let coeffs = match cents.width {
                        192 => 3,
                        512 => 8,
                        960 => 15,
                        w => {
                            return Err(format!(
                                "'{name}' is {w} pixels wide; a version 1 SH palette is 192, \
                                 512 or 960 wide (64 entries of SH bands 1, 2 or 3 per row)"
                            ))
                        }
                    };
                    (coeffs, 64 * cents.height)
                }
            };
            let rows = count.div_ceil(64);
            if cents.width != 64 * coeffs || cents.height < rows {
                return Err(format!(
                    "'{name}' is {}x{}; {count} palette entries of {coeffs} coefficients need \
                     {}x{rows}",
                    cents.width,
                    cents.height,
                    64 * coeffs
                ));
            }
            Some((sh, labels, cents, coeffs, count))
        }
    };
    let degree = match palette.as_ref().map_or(0, |p| p.3) {
        0 => 0,
        3 => 1,
        8 => 2,
        _ => 3,
    };
    let mut s = zeroed(n, degree).map_err(|e| e.to_string())?;
    let k = s.coeffs_per_splat() * 3;
    for i in 0..n {
        let (l, u) = (means_l.px(i), means_u.px(i));
        for a in 0..3 {
            let q = f32::from(u16::from(u[a]) << 8 | u16::from(l[a])) / 65535.0;
            let (lo, hi) = (meta.means.mins[a], meta.means.maxs[a]);
            let v = lo + (hi - lo) * q;
            s.means[i][a] = v.signum() * (v.abs().exp() - 1.0);
        }
        let p = quats.px(i);
        let largest = p[3].wrapping_sub(252) as usize;
        if largest > 3 {
            return Err(format!(
                "'{}': splat {i} has quaternion mode byte {} (must be 252..=255)",
                meta.quats[0], p[3]
            ));
        }
        let small = [0, 1, 2].map(|c| (f32::from(p[c]) / 255.0 - 0.5) * std::f32::consts::SQRT_2);
        let rest = 1.0 - small.iter().map(|c| c * c).sum::<f32>();
        let mut q = [0.0f32; 4];
        let mut it = small.iter();
        for (c, slot) in q.iter_mut().enumerate() {
            *slot = if c == largest {
                rest.max(0.0).sqrt()
            } else {
                *it.next().expect("three small components")
            };
        }
        s.rotations[i] = q;
        let sc = scales.px(i);
        s.log_scales[i] = [0, 1, 2].map(|c| meta.scales[c][sc[c] as usize]);
        let c = sh0.px(i);
        for (ch, (table, &b)) in meta.sh0.iter().zip(c).take(3).enumerate() {
            s.sh[i * k + ch] = table[b as usize];
        }
        s.opacity_logits[i] = meta.sh0[3][c[3] as usize];
    }
    if let Some((sh, labels, cents, coeffs, count)) = &palette {
        for i in 0..n {
            let l = labels.px(i);
            let entry = usize::from(l[0]) | usize::from(l[1]) << 8;
            if entry >= *count {
                return Err(format!(
                    "'{}': splat {i} has palette index {entry}, not below the palette's \
                     {count} entries",
                    sh.files[1]
                ));
            }
            let row = entry / 64 * cents.width + entry % 64 * coeffs;
            for c in 0..*coeffs {
                let px = cents.px(row + c);
                let o = i * k + (c + 1) * 3;
                for (v, &b) in s.sh[o..o + 3].iter_mut().zip(px) {
                    *v = sh.table[b as usize];
                }
            }
        }
    }
    Ok((s, meta.antialias))
}

/// Image names written by [`encode`] (the specification's defaults).
const NAMES: [&str; 7] = [
    "means_l.webp",
    "means_u.webp",
    "quats.webp",
    "scales.webp",
    "sh0.webp",
    "shN_centroids.webp",
    "shN_labels.webp",
];

/// A codebook of 256 values evenly spread over the range of `values` (all finite: the
/// scene was validated) and the index of each value's nearest entry.
struct Uniform {
    lo: f32,
    step: f32,
}

impl Uniform {
    fn over(values: impl Iterator<Item = f32>) -> Uniform {
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for v in values {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            (lo, hi) = (0.0, 0.0);
        }
        Uniform {
            lo,
            step: (hi - lo) / (CODEBOOK - 1) as f32,
        }
    }
    fn book(&self) -> Vec<f32> {
        (0..CODEBOOK)
            .map(|k| self.lo + self.step * k as f32)
            .collect()
    }
    fn index(&self, v: f32) -> u8 {
        if self.step > 0.0 {
            ((v - self.lo) / self.step).round().clamp(0.0, 255.0) as u8
        } else {
            0
        }
    }
}

fn log_domain(x: f32) -> f32 {
    x.signum() * (x.abs() + 1.0).ln()
}

/// Splat indices in Morton (Z-curve) order of their positions, 16 bits per axis over the
/// scene's box, ties by index: neighbouring pixels then hold neighbouring splats, whose
/// values are alike, which is what makes the WebP images small.
fn morton_order(means: &[[f32; 3]]) -> Vec<u32> {
    let (mut lo, mut hi) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
    for m in means {
        for a in 0..3 {
            lo[a] = lo[a].min(m[a]);
            hi[a] = hi[a].max(m[a]);
        }
    }
    // Spreads the low 21 bits of v to every third bit of a u64.
    fn spread(v: u64) -> u64 {
        let mut x = v & 0x1F_FFFF;
        x = (x | x << 32) & 0x001F_0000_0000_FFFF;
        x = (x | x << 16) & 0x001F_0000_FF00_00FF;
        x = (x | x << 8) & 0x100F_00F0_0F00_F00F;
        x = (x | x << 4) & 0x10C3_0C30_C30C_30C3;
        (x | x << 2) & 0x1249_2492_4924_9249
    }
    let code = |m: &[f32; 3]| {
        (0..3).fold(0u64, |c, a| {
            let span = hi[a] - lo[a];
            let q = if span > 0.0 {
                ((m[a] - lo[a]) / span * 65535.0).clamp(0.0, 65535.0) as u64
            } else {
                0
            };
            c | spread(q) << a
        })
    };
    let mut keyed: Vec<(u64, u32)> = means
        .iter()
        .enumerate()
        .map(|(i, m)| (code(m), i as u32))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Size of the SH palette for `n` splats: every splat its own entry up to 1024 splats, then
/// 1024·2^⌊log2(n/1024)⌋ entries (about one entry per one to two splats), at most the 65,536
/// that 16-bit labels address.
fn palette_size(n: usize) -> usize {
    if n <= 1024 {
        return n;
    }
    let doublings = (n / 1024).ilog2();
    (1024usize << doublings.min(6)).min(MAX_PALETTE)
}

/// Squared distance, in eight lanes so that the compiler vectorises it.
fn dist2(p: &[f32], q: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (mut pc, mut qc) = (p.chunks_exact(8), q.chunks_exact(8));
    for (a, b) in (&mut pc).zip(&mut qc) {
        for l in 0..8 {
            lanes[l] += (a[l] - b[l]) * (a[l] - b[l]);
        }
    }
    let tail: f32 = pc
        .remainder()
        .iter()
        .zip(qc.remainder())
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// Nearest of the `centroids` (rows of `dim`) to `p`; the first of equals.
fn nearest(p: &[f32], centroids: &[f32], dim: usize) -> u32 {
    let mut best = (f32::INFINITY, 0u32);
    for (c, row) in centroids.chunks_exact(dim).enumerate() {
        let d = dist2(p, row);
        if d < best.0 {
            best = (d, c as u32);
        }
    }
    best.1
}

/// k-means++ seeds: `k` rows of `data`, each next one drawn with probability proportional to
/// its squared distance from the seeds so far (a fixed xorshift sequence: deterministic).
fn seeds(data: &[f32], dim: usize, k: usize) -> Vec<f32> {
    let row = |r: usize| &data[r * dim..(r + 1) * dim];
    let dist = dist2;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut cents = row(0).to_vec();
    let mut d2: Vec<f32> = data.chunks_exact(dim).map(|p| dist(p, row(0))).collect();
    for c in 1..k {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let total: f64 = d2.iter().map(|&d| f64::from(d)).sum();
        // All rows already coincide with seeds: any row will do.
        let mut pick = c % d2.len();
        if total > 0.0 {
            let mut t = (state >> 11) as f64 / (1u64 << 53) as f64 * total;
            for (r, &d) in d2.iter().enumerate() {
                t -= f64::from(d);
                if t < 0.0 && d > 0.0 {
                    pick = r;
                    break;
                }
            }
        }
        cents.extend_from_slice(row(pick));
        for (p, d) in data.chunks_exact(dim).zip(d2.iter_mut()) {
            *d = d.min(dist(p, row(pick)));
        }
    }
    cents
}

/// Each row's nearest centroid, on every core.
fn assign(data: &[f32], dim: usize, cents: &[f32], labels: &mut [u32]) {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let chunk = labels.len().div_ceil(threads).max(256);
    std::thread::scope(|s| {
        for (rows, out) in data.chunks(chunk * dim).zip(labels.chunks_mut(chunk)) {
            s.spawn(move || {
                for (p, l) in rows.chunks_exact(dim).zip(out) {
                    *l = nearest(p, cents, dim);
                }
            });
        }
    });
}

/// Lloyd's k-means of the rows of `data` (`dim` wide) into `k` ≤ rows clusters from
/// [`seeds`]. Above max(16k, 4096) rows the clusters are found on an evenly strided sample of
/// that many rows and every row is then given its nearest centroid (the cost of large scenes
/// is then one pass over all rows). Returns the centroids (k rows) and each row's label.
/// Deterministic; an empty cluster keeps its centroid.
fn lloyd(data: &[f32], dim: usize, k: usize, rounds: usize) -> (Vec<f32>, Vec<u32>) {
    let n = data.len() / dim;
    let cap = (16 * k).max(4096);
    if n <= cap {
        return lloyd_all(data, dim, k, rounds);
    }
    let sample: Vec<f32> = (0..cap)
        .flat_map(|j| {
            let r = j * n / cap;
            data[r * dim..(r + 1) * dim].iter().copied()
        })
        .collect();
    let (cents, _) = lloyd_all(&sample, dim, k, rounds);
    let mut labels = vec![0u32; n];
    assign(data, dim, &cents, &mut labels);
    (cents, labels)
}

/// [`lloyd`] on every row.
fn lloyd_all(data: &[f32], dim: usize, k: usize, rounds: usize) -> (Vec<f32>, Vec<u32>) {
    let n = data.len() / dim;
    let mut cents = seeds(data, dim, k);
    let mut labels = vec![0u32; n];
    for round in 0..=rounds {
        assign(data, dim, &cents, &mut labels);
        if round == rounds {
            break;
        }
        let mut sum = vec![0.0f64; k * dim];
        let mut count = vec![0u32; k];
        for (p, &l) in data.chunks_exact(dim).zip(&labels) {
            let l = l as usize;
            count[l] += 1;
            for (s, v) in sum[l * dim..(l + 1) * dim].iter_mut().zip(p) {
                *s += f64::from(*v);
            }
        }
        for c in 0..k {
            if count[c] > 0 {
                for a in 0..dim {
                    cents[c * dim + a] = (sum[c * dim + a] / f64::from(count[c])) as f32;
                }
            }
        }
    }
    (cents, labels)
}

/// An SH palette of at most `k` entries for the rows of `data` (`dim` wide): the rows
/// themselves when they are no more than `k`; k-means for up to 1024 entries; above that
/// k-means in two levels (⌈√k⌉ clusters, then each split into a share of `k` proportional to
/// its size) so that the cost is about n·2√k distance evaluations per round rather than n·k.
fn palette(data: &[f32], dim: usize, k: usize) -> (Vec<f32>, Vec<u32>) {
    let n = data.len() / dim;
    if n <= k {
        return (data.to_vec(), (0..n as u32).collect());
    }
    if k <= 1024 {
        return lloyd(data, dim, k, 10);
    }
    let top_k = (k as f64).sqrt().ceil() as usize;
    let (_, top) = lloyd(data, dim, top_k, 8);
    let mut groups: Vec<Vec<u32>> = vec![Vec::new(); top_k];
    for (i, &l) in top.iter().enumerate() {
        groups[l as usize].push(i as u32);
    }
    let mut cents = Vec::with_capacity(k * dim);
    let mut labels = vec![0u32; n];
    for g in groups.iter().filter(|g| !g.is_empty()) {
        // Floors of shares of k − top_k, at least 1 each: at most k entries in all.
        let share = (((k - top_k) as u64 * g.len() as u64) / n as u64).max(1) as usize;
        let sub: Vec<f32> = g
            .iter()
            .flat_map(|&i| {
                data[i as usize * dim..(i as usize + 1) * dim]
                    .iter()
                    .copied()
            })
            .collect();
        let (c, l) = lloyd(&sub, dim, share.min(g.len()), 8);
        let base = (cents.len() / dim) as u32;
        cents.extend_from_slice(&c);
        for (&i, &l) in g.iter().zip(&l) {
            labels[i as usize] = base + l;
        }
    }
    (cents, labels)
}

/// Encodes valid `s` as a bundled SOG (a zip of stored entries: WebP is compressed already).
/// Splats are stored in Morton order of their positions (the file's order is not the
/// scene's); codebooks are uniform over each quantity's range; higher SH go through a palette
/// of [`palette_size`] entries found by k-means ([`palette`]; exact up to 1024 splats).
pub(crate) fn encode(s: &Splats, antialiased: bool) -> Result<(Vec<u8>, Vec<String>), String> {
    let n = s.len();
    let oom = |e: AllocError| e.to_string();
    let mut notes = Vec::new();
    let degree = s.sh_degree.min(3);
    if s.sh_degree > 3 {
        notes.push(format!(
            "dropped SH above degree 3 (SOG holds 0..=3; the scene has {})",
            s.sh_degree
        ));
    }
    let order = morton_order(&s.means);
    let width = ((n as f64).sqrt().ceil() as usize).max(1);
    let height = n.div_ceil(width).max(1);
    let blank = || crate::memory::zeroed::<u8>(width * height * 4).map_err(oom);
    let mut img = [blank()?, blank()?, blank()?, blank()?, blank()?];
    let mut mins = [f32::INFINITY; 3];
    let mut maxs = [f32::NEG_INFINITY; 3];
    for m in &s.means {
        for a in 0..3 {
            let v = log_domain(m[a]);
            mins[a] = mins[a].min(v);
            maxs[a] = maxs[a].max(v);
        }
    }
    if n == 0 {
        (mins, maxs) = ([0.0; 3], [0.0; 3]);
    }
    let scales = Uniform::over(s.log_scales.iter().flatten().copied());
    let k = s.coeffs_per_splat() * 3;
    let dc = Uniform::over((0..n).flat_map(|i| s.sh[i * k..i * k + 3].iter().copied()));
    let coeffs = [0, 3, 8, 15][degree as usize];
    for (slot, &i) in order.iter().enumerate() {
        let i = i as usize;
        let px = |im: &mut Vec<u8>, v: [u8; 4]| im[slot * 4..slot * 4 + 4].copy_from_slice(&v);
        let mut q16 = [0u16; 3];
        for a in 0..3 {
            let span = maxs[a] - mins[a];
            q16[a] = if span > 0.0 {
                ((log_domain(s.means[i][a]) - mins[a]) / span * 65535.0)
                    .round()
                    .clamp(0.0, 65535.0) as u16
            } else {
                0
            };
        }
        px(&mut img[0], [q16[0] as u8, q16[1] as u8, q16[2] as u8, 255]);
        px(
            &mut img[1],
            [
                (q16[0] >> 8) as u8,
                (q16[1] >> 8) as u8,
                (q16[2] >> 8) as u8,
                255,
            ],
        );
        let r = s.rotations[i];
        let norm = r.iter().map(|c| c * c).sum::<f32>().sqrt();
        let mut largest = 0;
        for c in 1..4 {
            if r[c].abs() > r[largest].abs() {
                largest = c;
            }
        }
        let sign = if r[largest] < 0.0 { -1.0 } else { 1.0 } / norm;
        let mut qb = [0u8, 0, 0, 252 + largest as u8];
        let mut slot = 0;
        for (c, &v) in r.iter().enumerate() {
            if c != largest {
                let u = (v * sign / std::f32::consts::SQRT_2 + 0.5) * 255.0;
                qb[slot] = u.round().clamp(0.0, 255.0) as u8;
                slot += 1;
            }
        }
        px(&mut img[2], qb);
        let ls = s.log_scales[i];
        px(
            &mut img[3],
            [
                scales.index(ls[0]),
                scales.index(ls[1]),
                scales.index(ls[2]),
                255,
            ],
        );
        let c = &s.sh[i * k..i * k + 3];
        px(
            &mut img[4],
            [
                dc.index(c[0]),
                dc.index(c[1]),
                dc.index(c[2]),
                u8_from_logit(s.opacity_logits[i]),
            ],
        );
    }
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    for (name, im) in NAMES.iter().zip(&img) {
        files.push((name, webp_encode(im, width, height)?));
    }
    let sh_n = if degree > 0 {
        // The higher coefficients of each splat in file order, (coefficient, channel) major.
        let dim = coeffs * 3;
        let rows_in: Vec<f32> = order
            .iter()
            .flat_map(|&i| {
                let o = i as usize * k + 3;
                s.sh[o..o + dim].iter().copied()
            })
            .collect();
        let (palette, labels_of) = palette(&rows_in, dim, palette_size(n));
        let entries = (palette.len() / dim).max(1);
        let ac = Uniform::over(palette.iter().copied());
        let rows = entries.div_ceil(64);
        let cw = 64 * coeffs;
        let mut cents = crate::memory::zeroed::<u8>(cw * rows * 4).map_err(oom)?;
        for (e, entry) in palette.chunks_exact(dim).enumerate() {
            let row = e / 64 * cw + e % 64 * coeffs;
            for (c, v) in entry.chunks_exact(3).enumerate() {
                let p = (row + c) * 4;
                cents[p..p + 4].copy_from_slice(&[
                    ac.index(v[0]),
                    ac.index(v[1]),
                    ac.index(v[2]),
                    255,
                ]);
            }
        }
        let mut labels = blank()?;
        for (slot, &l) in labels_of.iter().enumerate() {
            labels[slot * 4..slot * 4 + 4].copy_from_slice(&[l as u8, (l >> 8) as u8, 0, 255]);
        }
        files.push((NAMES[5], webp_encode(&cents, cw, rows)?));
        files.push((NAMES[6], webp_encode(&labels, width, height)?));
        Some(ShN {
            count: entries as u64,
            bands: degree,
            codebook: ac.book(),
            files: vec![NAMES[5].into(), NAMES[6].into()],
        })
    } else {
        None
    };
    let names = |k: std::ops::Range<usize>| NAMES[k].iter().map(|s| s.to_string()).collect();
    let meta = Meta {
        version: Some(2),
        count: n as u64,
        antialias: antialiased,
        means: Means {
            mins,
            maxs,
            files: names(0..2),
        },
        scales: Coded {
            codebook: scales.book(),
            files: names(3..4),
        },
        quats: Files { files: names(2..3) },
        sh0: Coded {
            codebook: dc.book(),
            files: names(4..5),
        },
        sh_n,
    };
    let json = serde_json::to_vec(&meta).map_err(|e| e.to_string())?;
    files.insert(0, ("meta.json", json));
    Ok((zip_stored(&files)?, notes))
}

fn webp_encode(rgba: &[u8], width: usize, height: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(
            rgba,
            width as u32,
            height as u32,
            image_webp::ColorType::Rgba8,
        )
        .map_err(|e| format!("WebP encoding failed: {e}"))?;
    Ok(out)
}

/// A zip archive of stored (uncompressed) entries; sizes must fit zip's 32-bit fields.
fn zip_stored(files: &[(&str, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let total: usize = files
        .iter()
        .map(|(n, d)| 76 + 2 * n.len() + d.len())
        .sum::<usize>()
        + 22;
    if total > u32::MAX as usize {
        return Err(format!(
            "the SOG archive would be {total} bytes, over zip's 4 GiB without zip64"
        ));
    }
    let mut out = Vec::with_capacity(total);
    let mut central = Vec::new();
    for (name, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let offset = out.len() as u32;
        // version, flags, method 0, time, date, crc, sizes, name length, extra length
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
            v.extend_from_slice(&crc.sum().to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&[0, 0]);
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 0]);
        common(&mut central);
        // comment length, disk, internal and external attributes, local header offset
        central.extend_from_slice(&[0; 10]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let count = (files.len() as u16).to_le_bytes();
    out.extend_from_slice(&count);
    out.extend_from_slice(&count);
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morton_order_visits_octants_in_turn() {
        // The 8 corners of a cube, listed in reverse: Morton order is x fastest, then y, z.
        let corners: Vec<[f32; 3]> = (0..8)
            .rev()
            .map(|c| [0, 1, 2].map(|a| (c >> a & 1) as f32))
            .collect();
        assert_eq!(morton_order(&corners), [7, 6, 5, 4, 3, 2, 1, 0]);
        // A 4x4x4 grid: each 2x2x2 block comes out whole before the next one starts.
        let grid: Vec<[f32; 3]> = (0..64)
            .map(|i| [(i % 4) as f32, (i / 4 % 4) as f32, (i / 16) as f32])
            .collect();
        let order = morton_order(&grid);
        for block in order.chunks(8) {
            let b = |i: u32| grid[i as usize].map(|v| (v / 2.0).floor() as i32);
            assert!(block.iter().all(|&i| b(i) == b(block[0])), "{block:?}");
        }
        assert!(morton_order(&[]).is_empty());
        assert_eq!(morton_order(&[[1.0; 3], [1.0; 3]]), [0, 1]);
    }

    #[test]
    fn palette_sizes() {
        assert_eq!(palette_size(0), 0);
        assert_eq!(palette_size(1024), 1024);
        assert_eq!(palette_size(1025), 1024);
        assert_eq!(palette_size(4096), 4096);
        assert_eq!(palette_size(100_000), 65_536);
        assert_eq!(palette_size(50_000_000), MAX_PALETTE);
    }

    #[test]
    fn palette_finds_separated_clusters() {
        // 2,000 rows of 3 values around 40 centres 1 apart (noise ±0.01), 40 entries wanted
        // in two levels (⌈√40⌉ = 7 top clusters).
        let centre = |c: usize| [c as f32, (c % 3) as f32, (c % 5) as f32 * 2.0];
        let mut seed = 1u32;
        let mut noise = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 * 0.02 - 0.01
        };
        let data: Vec<f32> = (0..2000)
            .flat_map(|i| centre(i * 13 % 40))
            .map(|v| v + noise())
            .collect();
        let (cents, labels) = palette(&data, 3, 40);
        assert!(cents.len() / 3 <= 40);
        assert_eq!(labels.len(), 2000);
        let mut worst = 0.0f32;
        for (i, &l) in labels.iter().enumerate() {
            let c = &cents[l as usize * 3..l as usize * 3 + 3];
            for (v, w) in c.iter().zip(centre(i * 13 % 40)) {
                worst = worst.max((v - w).abs());
            }
        }
        // Every row's entry is its own centre's mean (noise averages out to < 0.01).
        assert!(worst < 0.011, "{worst}");
        // Fewer rows than entries: the rows themselves.
        let (c, l) = palette(&data[..30], 3, 40);
        assert_eq!(
            (c.as_slice(), l),
            (&data[..30], (0..10).collect::<Vec<u32>>())
        );
    }
}
