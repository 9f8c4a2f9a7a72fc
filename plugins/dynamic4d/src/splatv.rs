//! splaTV `.splatv` files (antimatter15/splaTV, MIT): the Spacetime Gaussians lite model
//! packed in half floats behind a JSON header, decoded into [`StgSplat`]s.
//!
//! Layout (all little-endian), as splaTV's viewer writes and reads it:
//!
//! * u32 magic `0x674b`, u32 `json_len`;
//! * `json_len` bytes of UTF-8 JSON: an array of chunk descriptions `{"type", "size", …}`;
//!   the chunks' bytes follow in that order. The `"splat"` chunk also has `texwidth`,
//!   `texheight` (texels of a 4×u32 texture) and `cameras` (INRIA `cameras.json` entries);
//!   other chunk types are skipped;
//! * the `"splat"` chunk: 64 bytes = 16 u32 words per splat, `texwidth·texheight·16` bytes in
//!   all, the records past the last splat all zero:
//!
//! | words | content |
//! |---|---|
//! | 0–2 | x, y, z (f32) |
//! | 3, 4 | halves: rot_0, rot_1 · rot_2, rot_3 (w, x, y, z; not normalised) |
//! | 5, 6 | halves: e^scale_0, e^scale_1 · e^scale_2, 0 (scales, not logs) |
//! | 7 | bytes: r, g, b (plain RGB · 255, clamped), σ(opacity) · 255 |
//! | 8–12 | halves: motion_0 … motion_8, 0 |
//! | 13, 14 | halves: omega_0 … omega_3 |
//! | 15 | halves: trbf_center, e^trbf_scale (the temporal width, not its log) |
//!
//! Time is the model's own, as for the PLY: splaTV's viewer sweeps t over [0, 1].
//!
//! Reading is bounded: the JSON is at most [`MAX_JSON`] bytes, the chunk sizes must add up
//! to the file's size exactly, a record count is the splat chunk's size / 64, and every value
//! must be finite (errors name the file and the splat).

use std::io::Read;
use std::path::Path;

use vksplat_io::half::{f32_to_half, half_to_f32};
use vksplat_plugin_sdk::Error;

use crate::stg::StgSplat;

/// The u32 (little-endian) every `.splatv` starts with.
pub const MAGIC: u32 = 0x674b;
/// Largest JSON header accepted (real ones hold a chunk list and a few hundred cameras).
pub const MAX_JSON: u32 = 16 << 20;
/// Bytes per splat record.
pub const RECORD: usize = 64;
/// Texture width (texels of 4 words) splaTV's converter uses: 1024 splats per row.
const TEXWIDTH: usize = 4096;

/// Whether `head` (the first bytes of a file) starts like a `.splatv`.
pub fn is_splatv(head: &[u8]) -> bool {
    head.len() >= 8 && u32::from_le_bytes([head[0], head[1], head[2], head[3]]) == MAGIC
}

/// A `.splatv`'s contents.
#[derive(Debug)]
pub struct SplatvFile {
    /// The splats (trailing all-zero padding records dropped).
    pub splats: Vec<StgSplat>,
    /// The splat chunk's `cameras` (INRIA `cameras.json` entries), if any.
    pub cameras: Option<serde_json::Value>,
}

/// Reads a `.splatv`.
pub fn read(path: &Path) -> Result<SplatvFile, Error> {
    let fail = |m: String| format!("{}: {m}", path.display());
    let (mut file, len) = vksplat_io::open_regular(path).map_err(|e| e.to_string())?;
    let mut head = [0u8; 8];
    file.read_exact(&mut head).map_err(|_| {
        fail(format!(
            "a .splatv needs an 8-byte header; the file has {len} bytes"
        ))
    })?;
    if !is_splatv(&head) {
        return Err(fail("not a .splatv file (wrong magic number)".into()));
    }
    let json_len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if json_len > MAX_JSON || u64::from(json_len) > len - 8 {
        return Err(fail(format!(
            "the header declares {json_len} bytes of JSON, more than the {} the file holds \
             after its header or the {MAX_JSON} accepted",
            len - 8
        )));
    }
    let mut json = vec![0u8; json_len as usize];
    file.read_exact(&mut json)
        .map_err(|e| fail(format!("cannot read the JSON header: {e}")))?;
    let chunks: serde_json::Value = serde_json::from_slice(&json)
        .map_err(|e| fail(format!("the JSON header is not valid JSON: {e}")))?;
    let chunks = chunks
        .as_array()
        .ok_or_else(|| fail("the JSON header is not an array of chunks".into()))?;

    // The chunks' sizes must account for the rest of the file exactly.
    let mut sizes = Vec::with_capacity(chunks.len());
    let mut splat_chunk = None;
    for (k, c) in chunks.iter().enumerate() {
        let size = c
            .get("size")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| {
                fail(format!(
                    "chunk {k} of the JSON header has no integer 'size'"
                ))
            })?;
        sizes.push(size);
        if c.get("type").and_then(serde_json::Value::as_str) == Some("splat") {
            if splat_chunk.is_some() {
                return Err(fail("the JSON header lists two 'splat' chunks".into()));
            }
            splat_chunk = Some(k);
        }
    }
    let body = len - 8 - u64::from(json_len);
    let declared = sizes.iter().try_fold(0u64, |a, &s| a.checked_add(s));
    if declared != Some(body) {
        return Err(fail(match declared {
            Some(d) if d > body => format!(
                "file is truncated: its chunks need {d} bytes after the JSON header, {body} are \
                 present"
            ),
            Some(d) => format!(
                "its chunks need {d} bytes after the JSON header, but {body} follow ({} extra)",
                body - d
            ),
            None => "the chunk sizes in the JSON header overflow".into(),
        }));
    }
    let k = splat_chunk.ok_or_else(|| fail("the JSON header lists no 'splat' chunk".into()))?;
    let chunk = &chunks[k];
    let size = sizes[k];
    if size % RECORD as u64 != 0 {
        return Err(fail(format!(
            "the splat chunk has {size} bytes, not a whole number of {RECORD}-byte records"
        )));
    }
    let tex = |key: &str| chunk.get(key).and_then(serde_json::Value::as_u64);
    if let (Some(w), Some(h)) = (tex("texwidth"), tex("texheight")) {
        if w.checked_mul(h).and_then(|t| t.checked_mul(16)) != Some(size) {
            return Err(fail(format!(
                "the splat chunk has {size} bytes, but texwidth {w} × texheight {h} texels \
                 need {} (16 bytes each)",
                u128::from(w) * u128::from(h) * 16
            )));
        }
    }
    let skip: u64 = sizes[..k].iter().sum();
    std::io::copy(&mut (&mut file).take(skip), &mut std::io::sink())
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let mut data = Vec::new();
    let size = usize::try_from(size).map_err(|_| fail("the splat chunk is too large".into()))?;
    data.try_reserve_exact(size).map_err(|_| {
        fail(format!(
            "its {size}-byte splat chunk does not fit in memory"
        ))
    })?;
    (&mut file)
        .take(size as u64)
        .read_to_end(&mut data)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if data.len() != size {
        return Err(fail("the file changed while it was read".into()));
    }

    // Trailing records that are all zero are the texture's padding.
    let mut n = size / RECORD;
    while n > 0 && data[(n - 1) * RECORD..n * RECORD].iter().all(|&b| b == 0) {
        n -= 1;
    }
    let mut splats = Vec::new();
    splats
        .try_reserve_exact(n)
        .map_err(|_| fail(format!("{n} splats do not fit in memory")))?;
    for (i, r) in data[..n * RECORD].chunks_exact(RECORD).enumerate() {
        splats.push(decode(r).map_err(|m| fail(format!("splat {i}: {m}")))?);
    }
    Ok(SplatvFile {
        splats,
        cameras: chunk.get("cameras").cloned(),
    })
}

/// Decodes one 64-byte record.
fn decode(r: &[u8]) -> Result<StgSplat, String> {
    let word = |w: usize| u32::from_le_bytes([r[4 * w], r[4 * w + 1], r[4 * w + 2], r[4 * w + 3]]);
    // Half `h` (0 = low, 1 = high) of word `w`.
    let half = |w: usize, h: usize| half_to_f32((word(w) >> (16 * h)) as u16);
    let halves = |first: usize, n: usize| -> Vec<f32> {
        (0..n).map(|k| half(first + k / 2, k % 2)).collect()
    };
    let mean = [0, 1, 2].map(|w| f32::from_bits(word(w)));
    let rot = halves(3, 4);
    let scale = halves(5, 3);
    let motion = halves(8, 9);
    let omega = halves(13, 4);
    let (trbf_center, width) = (half(15, 0), half(15, 1));
    let named = [
        ("position", &mean[..]),
        ("rotation", &rot),
        ("scale", &scale),
        ("motion", &motion),
        ("omega", &omega),
        ("trbf_center", &[trbf_center]),
        ("temporal width", &[width]),
    ];
    for (name, values) in named {
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(format!("{name} is {v} (values must be finite)"));
        }
    }
    if let Some(v) = scale.iter().chain([&width]).find(|v| **v < 0.0) {
        return Err(format!(
            "a scale or the temporal width is negative ({v}); they are stored as e^x"
        ));
    }
    let rgba = [28, 29, 30, 31].map(|b| f32::from(r[b]) / 255.0);
    let mut s = StgSplat {
        mean,
        trbf_center,
        // A width that underflowed to 0 in half precision: the smallest half keeps the log
        // finite (the splat then shows only at its centre time).
        trbf_scale: width.max(MIN_HALF).ln(),
        rgb: [rgba[0], rgba[1], rgba[2]],
        opacity: logit(rgba[3]),
        ..Default::default()
    };
    s.motion.copy_from_slice(&motion);
    s.rot.copy_from_slice(&rot);
    s.omega.copy_from_slice(&omega);
    for (l, v) in s.log_scale.iter_mut().zip(&scale) {
        *l = v.max(MIN_HALF).ln();
    }
    Ok(s)
}

/// The smallest positive half, 2⁻²⁴.
const MIN_HALF: f32 = 5.960_464_5e-8;

/// The logit of an opacity stored as a byte `p = b / 255`, with 0 and 1 pulled in by a
/// quarter step so it stays finite.
fn logit(p: f32) -> f32 {
    let p = f64::from(p).clamp(0.25 / 255.0, 254.75 / 255.0);
    (p / (1.0 - p)).ln() as f32
}

/// Writes splats as a `.splatv` (atomically): halves rounded to nearest, colour and opacity
/// bytes rounded to nearest, the texture padded with zero records, `cameras` (if any) in the
/// splat chunk as splaTV's viewer expects.
pub fn write(
    path: &Path,
    splats: &[StgSplat],
    cameras: Option<&serde_json::Value>,
) -> Result<(), Error> {
    let rows = (4 * splats.len()).div_ceil(TEXWIDTH).max(1);
    let size = rows * TEXWIDTH * 16;
    let mut chunk = serde_json::json!({
        "type": "splat",
        "size": size,
        "texwidth": TEXWIDTH,
        "texheight": rows,
    });
    if let Some(c) = cameras {
        chunk["cameras"] = c.clone();
    }
    let json = serde_json::to_vec(&serde_json::Value::Array(vec![chunk]))
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    let mut bytes = Vec::with_capacity(8 + json.len() + size);
    bytes.extend_from_slice(&MAGIC.to_le_bytes());
    bytes.extend_from_slice(&(json.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&json);
    for s in splats {
        bytes.extend_from_slice(&encode(s));
    }
    bytes.resize(8 + json.len() + size, 0);
    vksplat_io::write_bytes_atomic(path, &bytes).map_err(|e| e.to_string())
}

/// One 64-byte record.
fn encode(s: &StgSplat) -> [u8; RECORD] {
    let pair = |a: f32, b: f32| u32::from(f32_to_half(a)) | u32::from(f32_to_half(b)) << 16;
    let byte = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    let e = |v: f32| v.exp();
    let m = &s.motion;
    let rgba = [
        byte(s.rgb[0]),
        byte(s.rgb[1]),
        byte(s.rgb[2]),
        byte(vksplat_io::math::sigmoid(s.opacity)),
    ];
    let words = [
        s.mean[0].to_bits(),
        s.mean[1].to_bits(),
        s.mean[2].to_bits(),
        pair(s.rot[0], s.rot[1]),
        pair(s.rot[2], s.rot[3]),
        pair(e(s.log_scale[0]), e(s.log_scale[1])),
        pair(e(s.log_scale[2]), 0.0),
        u32::from_le_bytes(rgba),
        pair(m[0], m[1]),
        pair(m[2], m[3]),
        pair(m[4], m[5]),
        pair(m[6], m[7]),
        pair(m[8], 0.0),
        pair(s.omega[0], s.omega[1]),
        pair(s.omega[2], s.omega[3]),
        pair(s.trbf_center, e(s.trbf_scale)),
    ];
    let mut out = [0u8; RECORD];
    for (dst, w) in out.chunks_exact_mut(4).zip(words) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splat(seed: f32) -> StgSplat {
        StgSplat {
            mean: [seed, -0.5 * seed, 1.25],
            trbf_center: 0.375,
            trbf_scale: (0.25f32).ln(),
            motion: [0.5, -0.25, 0.125, 0.0625, 0.0, -1.0, 2.0, 0.5, 0.25],
            rgb: [0.2, 0.6, 1.0],
            opacity: 1.5,
            log_scale: [(0.05f32).ln(), (0.02f32).ln(), (0.125f32).ln()],
            rot: [0.75, 0.25, -0.5, 0.125],
            omega: [0.5, 0.25, 0.0, -0.125],
        }
    }

    #[test]
    fn records_round_trip_within_half_precision() {
        let s = splat(0.7);
        let back = decode(&encode(&s)).unwrap();
        assert_eq!(back.mean, s.mean, "positions are f32");
        // Values that are halves exactly come back exactly.
        assert_eq!(back.motion, s.motion);
        assert_eq!(back.rot, s.rot);
        assert_eq!(back.omega, s.omega);
        assert_eq!(back.trbf_center, s.trbf_center);
        assert!((back.trbf_scale - s.trbf_scale).abs() < 1e-3);
        for a in 0..3 {
            assert!((back.log_scale[a] - s.log_scale[a]).abs() < 1e-3, "{a}");
            assert!((back.rgb[a] - s.rgb[a]).abs() <= 0.5 / 255.0 + 1e-6, "{a}");
        }
        let sig = |x: f32| 1.0 / (1.0 + (-x).exp());
        assert!((sig(back.opacity) - sig(s.opacity)).abs() <= 0.5 / 255.0 + 1e-6);
    }

    #[test]
    fn every_truncation_and_many_corruptions_are_errors_not_panics() {
        let dir = std::env::temp_dir().join(format!("dynamic4d-splatv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.splatv");
        let splats: Vec<StgSplat> = (0..5).map(|i| splat(i as f32 * 0.1)).collect();
        write(&good, &splats, Some(&serde_json::json!([{"id": 0}]))).unwrap();
        let read_back = read(&good).unwrap();
        assert_eq!(read_back.splats.len(), 5, "padding records dropped");
        assert_eq!(read_back.cameras, Some(serde_json::json!([{"id": 0}])));
        let bytes = std::fs::read(&good).unwrap();
        let probe = dir.join("probe.splatv");
        // Every prefix of the header and JSON, then a few cuts in the records.
        let cuts = (0..200.min(bytes.len())).chain((200..bytes.len()).step_by(997));
        for cut in cuts {
            std::fs::write(&probe, &bytes[..cut]).unwrap();
            let e = read(&probe).expect_err("a truncated file");
            assert!(e.contains("probe.splatv"), "{cut}: {e}");
        }
        // Flipped bytes in the header, the JSON and the first records.
        let mut state = 0x9e37_79b9u32;
        for _ in 0..400 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let at = state as usize % (8 + 200 + 5 * RECORD).min(bytes.len());
            let mut b = bytes.clone();
            b[at] ^= 1 << (state >> 29);
            std::fs::write(&probe, &b).unwrap();
            if let Err(e) = read(&probe) {
                assert!(e.contains("probe.splatv"), "{at}: {e}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn layout_words_are_where_splatv_puts_them() {
        let r = encode(&splat(1.0));
        let word = |w: usize| u32::from_le_bytes(r[4 * w..4 * w + 4].try_into().unwrap());
        assert_eq!(f32::from_bits(word(0)), 1.0);
        // rot_0 (w) in the low half of word 3.
        assert_eq!(half_to_f32(word(3) as u16), 0.75);
        assert_eq!(half_to_f32((word(3) >> 16) as u16), 0.25);
        // Scales as e^x, not logs.
        assert!((half_to_f32(word(5) as u16) - 0.05).abs() < 1e-4);
        // Colour bytes r, g, b, opacity.
        assert_eq!(r[28..31], [51, 153, 255]);
        // motion_8 alone in word 12, temporal width e^trbf_scale in the high half of 15.
        assert_eq!(half_to_f32(word(12) as u16), 0.25);
        assert_eq!(word(12) >> 16, 0);
        assert_eq!(half_to_f32((word(15) >> 16) as u16), 0.25);
    }
}
