//! PlayCanvas SOG ("Spatially Ordered Gaussians", version 2): a `meta.json` naming lossless
//! WebP images, either as files beside it or bundled into one zip (`.sog`). Specification:
//! the PlayCanvas developer site, "The SOG Format".
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

/// Decodes the scene described by meta.json `meta_bytes`, loading images with `load`.
/// Returns the splats and the antialias flag.
fn decode(
    meta_bytes: &[u8],
    mut load: impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<(Splats, bool), String> {
    let meta: Meta = serde_json::from_slice(meta_bytes)
        .map_err(|e| format!("meta.json is not SOG metadata: {e}"))?;
    match meta.version {
        Some(2) => {}
        None | Some(1) => {
            return Err(
                "meta.json is SOG version 1 (no \"version\": 2); only version 2 is read".into(),
            )
        }
        Some(v) => {
            return Err(format!(
                "meta.json declares SOG version {v}; version 2 is read"
            ))
        }
    }
    let n = check_count(meta.count).map_err(|m| format!("meta.json {m}"))?;
    for (k, (lo, hi)) in meta.means.mins.iter().zip(&meta.means.maxs).enumerate() {
        if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
            return Err(format!(
                "meta.json: means range {k} [{lo}, {hi}] is not a finite interval"
            ));
        }
    }
    let scale_book = codebook(&meta.scales.codebook, "scales")?;
    let dc_book = codebook(&meta.sh0.codebook, "sh0")?;
    let (degree, coeffs, palette) = match &meta.sh_n {
        None => (0, 0, 0),
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
            (sh.bands, coeffs, sh.count as usize)
        }
    };
    // Per-splat images are about square; allow any layout whose trailing pixels are fewer
    // than a full row of a 16383-wide image beyond the count, plus slack for tiny scenes.
    let max_pixels = n.saturating_add(n / 2).saturating_add(1 << 16);
    let mut image = |files: &[String], k: usize, what: &str| -> Result<Image, String> {
        let name = one_file(files, k, what)?;
        let img = webp(&load(name)?, name, max_pixels)?;
        if img.width * img.height < n {
            return Err(format!(
                "'{name}' is {}x{}: fewer pixels than the {n} splats of meta.json's count",
                img.width, img.height
            ));
        }
        Ok(img)
    };
    let means_l = image(&meta.means.files, 0, "means")?;
    let means_u = image(&meta.means.files, 1, "means")?;
    let quats = image(&meta.quats.files, 0, "quats")?;
    let scales = image(&meta.scales.files, 0, "scales")?;
    let sh0 = image(&meta.sh0.files, 0, "sh0")?;
    let mut s = zeroed(n, degree).map_err(|e| e.to_string())?;
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
                meta.quats.files[0], p[3]
            ));
        }
        let small = [0, 1, 2].map(|c| (f32::from(p[c]) / 255.0 - 0.5) * std::f32::consts::SQRT_2);
        let rest = 1.0 - small.iter().map(|c| c * c).sum::<f32>();
        let mut q = [0.0f32; 4];
        let mut it = small.iter();
        for (k, slot) in q.iter_mut().enumerate() {
            *slot = if k == largest {
                rest.max(0.0).sqrt()
            } else {
                *it.next().expect("three small components")
            };
        }
        s.rotations[i] = q;
        let sc = scales.px(i);
        s.log_scales[i] = [0, 1, 2].map(|c| scale_book[sc[c] as usize]);
        let c = sh0.px(i);
        let k = s.coeffs_per_splat() * 3;
        for ch in 0..3 {
            s.sh[i * k + ch] = dc_book[c[ch] as usize];
        }
        s.opacity_logits[i] = logit_from_u8(c[3]);
    }
    if let Some(sh) = &meta.sh_n {
        let book = codebook(&sh.codebook, "shN")?;
        let labels = image(&sh.files, 1, "shN")?;
        let name = one_file(&sh.files, 0, "shN")?;
        let rows = palette.div_ceil(64);
        let cents = webp(&load(name)?, name, 64 * coeffs * rows)?;
        if cents.width != 64 * coeffs || cents.height < rows {
            return Err(format!(
                "'{name}' is {}x{}; {palette} palette entries of {coeffs} coefficients need \
                 {}x{rows}",
                cents.width,
                cents.height,
                64 * coeffs
            ));
        }
        let k = s.coeffs_per_splat() * 3;
        for i in 0..n {
            let l = labels.px(i);
            let entry = usize::from(l[0]) | usize::from(l[1]) << 8;
            if entry >= palette {
                return Err(format!(
                    "'{}': splat {i} has palette index {entry}, not below shN.count {palette}",
                    sh.files[1]
                ));
            }
            let row = entry / 64 * cents.width + entry % 64 * coeffs;
            for c in 0..coeffs {
                let px = cents.px(row + c);
                for ch in 0..3 {
                    s.sh[i * k + (c + 1) * 3 + ch] = book[px[ch] as usize];
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

/// Encodes valid `s` as a bundled SOG (a zip of stored entries: WebP is compressed already).
/// Codebooks are uniform over each quantity's range (no clustering). Higher SH need one palette
/// entry per splat, so a scene with SH beyond degree 0 holds at most 65 536 splats; larger
/// ones are refused (the message says to drop the SH).
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
    if degree > 0 && n > MAX_PALETTE {
        return Err(format!(
            "SOG output with SH degree {degree} is limited to {MAX_PALETTE} splats by this \
             writer (one palette entry per splat; no clustering), the scene has {n}: convert \
             with --sh-degree 0"
        ));
    }
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
    let ac =
        Uniform::over((0..n).flat_map(|i| s.sh[i * k + 3..i * k + 3 + coeffs * 3].iter().copied()));
    for i in 0..n {
        let px = |im: &mut Vec<u8>, v: [u8; 4]| im[i * 4..i * 4 + 4].copy_from_slice(&v);
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
        let rows = n.div_ceil(64).max(1);
        let cw = 64 * coeffs;
        let mut cents = crate::memory::zeroed::<u8>(cw * rows * 4).map_err(oom)?;
        let mut labels = blank()?;
        for i in 0..n {
            labels[i * 4..i * 4 + 4].copy_from_slice(&[i as u8, (i >> 8) as u8, 0, 255]);
            let row = i / 64 * cw + i % 64 * coeffs;
            for c in 0..coeffs {
                let v = &s.sh[i * k + (c + 1) * 3..i * k + (c + 2) * 3];
                let p = (row + c) * 4;
                cents[p..p + 4].copy_from_slice(&[
                    ac.index(v[0]),
                    ac.index(v[1]),
                    ac.index(v[2]),
                    255,
                ]);
            }
        }
        files.push((NAMES[5], webp_encode(&cents, cw, rows)?));
        files.push((NAMES[6], webp_encode(&labels, width, height)?));
        Some(ShN {
            count: n.max(1) as u64,
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
