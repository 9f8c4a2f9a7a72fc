//! antimatter15 `.splat`: 32 bytes per splat, no header, no magic.
//!
//! Per splat, little-endian: position f32 × 3, *linear* scale f32 × 3 (= exp(log-scale)),
//! colour RGBA u8 × 4 (RGB = (0.5 + SH_C0 · f_dc) · 255, A = sigmoid(opacity) · 255), rotation
//! u8 × 4 in (w, x, y, z) order, each (v · 128 + 128). No SH beyond the DC term. Axes are
//! the INRIA PLY's (RDF): the format was made by converting INRIA PLYs without a frame change.
//!
//! Reading: scale 0 becomes the smallest normal f32's log (−87.3); a negative or non-finite
//! scale becomes NaN so that [`Splats::validate`] names the splat. Writing keeps the splat
//! order (the original converter sorts by size · opacity; viewers sort by depth anyway) and
//! rounds to nearest.

use std::path::Path;

use super::{check_count, logit_from_u8, u8_from_logit, unorm8, SplatsMut, SH_C0};
use crate::memory::{self, AllocError};
use crate::{IoError, Splats};

/// Bytes per splat.
pub(crate) const STRIDE: usize = 32;

/// Parses a whole `.splat` file; `path` names it in errors.
pub(crate) fn parse(b: &[u8], path: &Path) -> Result<Splats, IoError> {
    let input = |m: String| IoError::input(path, m);
    if !b.len().is_multiple_of(STRIDE) {
        return Err(input(format!(
            "file size {} is not a multiple of 32 bytes, so it is not a .splat file \
             (or it is truncated)",
            b.len()
        )));
    }
    let n = check_count((b.len() / STRIDE) as u64).map_err(|m| input(format!("the file {m}")))?;
    let mut s = super::zeroed(n, 0).map_err(|e| e.at(path))?;
    super::par_fill(&mut s, 32 * 1024, |p: SplatsMut<'_>| {
        for j in 0..p.len() {
            let r = &b[(p.first + j) * STRIDE..(p.first + j + 1) * STRIDE];
            let f =
                |a: usize| f32::from_le_bytes([r[a * 4], r[a * 4 + 1], r[a * 4 + 2], r[a * 4 + 3]]);
            p.means[j] = [f(0), f(1), f(2)];
            p.log_scales[j] = [f(3), f(4), f(5)].map(log_scale);
            for c in 0..3 {
                p.sh[j * 3 + c] = ((f64::from(r[24 + c]) / 255.0 - 0.5) / SH_C0) as f32;
            }
            p.opacity_logits[j] = logit_from_u8(r[27]);
            let q = [r[28], r[29], r[30], r[31]].map(|v| (f32::from(v) - 128.0) / 128.0);
            p.rotations[j] = crate::math::normalised_quat(q);
        }
        Ok(())
    })
    .map_err(input)?;
    Ok(s)
}

/// Log of a stored linear scale: 0 becomes the smallest normal f32's log, a negative or
/// non-finite scale NaN (so validation names the splat). Shared by `.ksplat`.
pub(crate) fn log_scale(v: f32) -> f32 {
    if v > 0.0 && v.is_finite() {
        v.ln()
    } else if v == 0.0 {
        f32::MIN_POSITIVE.ln()
    } else {
        f32::NAN
    }
}

/// True when `b` could be a `.splat` file: a whole number of records, and the first few look
/// like splats (finite positions, positive finite scales, a non-zero quaternion). Used only
/// for files whose extension names no format.
pub(crate) fn plausible(b: &[u8]) -> bool {
    if b.is_empty() || !b.len().is_multiple_of(STRIDE) {
        return false;
    }
    b.chunks_exact(STRIDE).take(64).all(|r| {
        let f = |a: usize| f32::from_le_bytes([r[a * 4], r[a * 4 + 1], r[a * 4 + 2], r[a * 4 + 3]]);
        (0..3).all(|a| f(a).is_finite() && f(a).abs() < 1e7)
            && (3..6).all(|a| f(a).is_finite() && f(a) >= 0.0 && f(a) < 1e7)
            && r[28..32].iter().any(|&v| v != 128)
    })
}

/// Encodes `s` (valid) as `.splat`; notes say what the format cannot keep.
pub(crate) fn encode(s: &Splats) -> Result<(Vec<u8>, Vec<String>), AllocError> {
    let mut notes = Vec::new();
    if s.sh_degree > 0 {
        notes.push(format!(
            "dropped SH degree {} coefficients: .splat stores only the base colour",
            s.sh_degree
        ));
    }
    let k = s.coeffs_per_splat();
    let mut out = memory::with_capacity(s.len().saturating_mul(STRIDE))?;
    for i in 0..s.len() {
        for v in s.means[i] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in s.log_scales[i] {
            out.extend_from_slice(&v.exp().to_le_bytes());
        }
        for c in 0..3 {
            out.push(unorm8(0.5 + SH_C0 * f64::from(s.sh[i * k * 3 + c])));
        }
        out.push(u8_from_logit(s.opacity_logits[i]));
        for v in crate::math::normalised_quat(s.rotations[i]) {
            out.push((f64::from(v) * 128.0 + 128.0).round().clamp(0.0, 255.0) as u8);
        }
    }
    Ok((out, notes))
}
