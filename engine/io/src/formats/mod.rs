//! Scene formats besides the INRIA PLY ([`crate::ply`]), and what they share.
//!
//! * [`compressed_ply`]: PlayCanvas/SuperSplat "compressed PLY" (read and write).
//! * [`spz`]: Niantic SPZ versions 1–3 (gzip) and 4 (`NGSP` header + zstd streams).
//! * [`splat`]: antimatter15 `.splat`, 32 bytes per splat.
//! * [`ksplat`]: mkkellogg GaussianSplats3D `.ksplat`, compression levels 0–2 (read only).
//! * [`gltf`]: glTF 2.0 `KHR_gaussian_splatting` (`.gltf`, `.glb`, the SPZ compression draft).
//! * [`sog`]: PlayCanvas SOG version 2 (`meta.json` + WebP images, or bundled `.sog`).
//!
//! Shared rules, on top of the crate-wide ones (no panic, no allocation sized by an unchecked
//! count):
//! * every reader returns [`Splats`] in vksplat's frame, the INRIA PLY / OpenCV **RDF** axes
//!   (x right, y down, z forward). Only SPZ stores another frame (RUB); its reader and writer
//!   convert with [`rub_to_rdf`], which is its own inverse;
//! * a declared count is checked against what the file can hold *before* anything is sized
//!   by it, and is capped at [`MAX_SPLATS`]; for compressed data "can hold" means what the
//!   codec can honestly expand to (SPZ: ~1100× the compressed size for a whole file);
//! * the decoded arrays come from [`zeroed`], which fails with the scene's byte count
//!   instead of aborting when the process cannot get the memory (exit 7 in the CLI);
//! * 8-bit opacities decode with [`logit_from_u8`], so every 8-bit format decodes the same
//!   byte to the same logit and re-encodes it to the same byte.

pub(crate) mod compressed_ply;
pub(crate) mod gltf;
pub(crate) mod ksplat;
pub(crate) mod sog;
pub(crate) mod splat;
pub(crate) mod spz;

use crate::memory::{self, AllocError};
use crate::Splats;

/// The most splats any reader accepts (2^27 = 134 217 728): far above real scenes (tens of
/// millions) and low enough that a lying header cannot ask for terabytes.
pub const MAX_SPLATS: usize = 1 << 27;

/// Zeroth-order SH basis constant: colour = 0.5 + SH_C0 · f_dc.
pub(crate) const SH_C0: f64 = 0.282_094_791_773_878_14;

/// SH coefficients per colour channel for `degree` (1, 4, 9, 16).
pub(crate) fn coeffs_for_degree(degree: u32) -> usize {
    let d = degree as usize + 1;
    d * d
}

/// Checks a declared splat count against [`MAX_SPLATS`].
pub(crate) fn check_count(count: u64) -> Result<usize, String> {
    if count > MAX_SPLATS as u64 {
        return Err(format!(
            "declares {count} splats, more than the {MAX_SPLATS} vksplat accepts"
        ));
    }
    Ok(count as usize)
}

/// Logit of an 8-bit opacity `b / 255`. The two ends are pulled in by a quarter step
/// (0 → 0.25/255, 255 → 254.75/255) so the logit is finite and [`u8_from_logit`] gives the
/// same byte back.
pub(crate) fn logit_from_u8(b: u8) -> f32 {
    let p = (f64::from(b) / 255.0).clamp(0.25 / 255.0, 254.75 / 255.0);
    (p / (1.0 - p)).ln() as f32
}

/// The 8-bit opacity of a logit: round(sigmoid(x) · 255), with the renderer's
/// [`sigmoid`](crate::math::sigmoid). NaN gives 0.
pub(crate) fn u8_from_logit(x: f32) -> u8 {
    unorm8(f64::from(crate::math::sigmoid(x)))
}

/// round(v · 255) clamped to 0..=255; NaN gives 0.
pub(crate) fn unorm8(v: f64) -> u8 {
    let q = (v * 255.0).round();
    if q >= 255.0 {
        255
    } else if q > 0.0 {
        q as u8
    } else {
        0
    }
}

/// Sign of SH coefficient `k` (0..16, 3DGS order) when the y and z axes are negated: the
/// basis functions odd in (y, z) change sign. Derived from the real SH polynomials:
/// degree 1 (y, z, x); degree 2 (xy, yz, 3z²−1, xz, x²−y²); degree 3 (y(3x²−y²), xyz,
/// y(5z²−1), z(5z²−3), x(5z²−1), z(x²−y²), x(x²−3y²)).
pub(crate) const SH_SIGN_FLIP_YZ: [f32; 16] = [
    1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0,
];

/// Converts splats between the RDF frame (vksplat, INRIA PLY) and the RUB frame (SPZ) in
/// place: y and z of every mean are negated, quaternions (w, x, y, z) become (w, x, −y, −z)
/// (conjugation by the 180° turn about x) and the SH coefficients odd in (y, z) change sign.
/// The change is its own inverse.
pub(crate) fn rub_to_rdf(s: &mut Splats) {
    for m in &mut s.means {
        m[1] = -m[1];
        m[2] = -m[2];
    }
    for q in &mut s.rotations {
        q[2] = -q[2];
        q[3] = -q[3];
    }
    let k = s.coeffs_per_splat();
    if k > 1 {
        for splat in s.sh.chunks_exact_mut(k * 3) {
            for (coeff, sign) in splat.chunks_exact_mut(3).zip(SH_SIGN_FLIP_YZ) {
                if sign < 0.0 {
                    for v in coeff {
                        *v = -*v;
                    }
                }
            }
        }
    }
}

/// Splats of `n` zeros (SH degree `sh_degree`), to be filled by a decoder that writes every
/// field of every splat; the caller has bounded `n` by what the file can hold. All-zero arrays
/// come from the allocator's zeroed pages, so nothing is written twice. Fails, without
/// aborting, when this process cannot get the memory; the error counts every array.
pub(crate) fn zeroed(n: usize, sh_degree: u32) -> Result<Splats, AllocError> {
    let sh_len = n.saturating_mul(coeffs_for_degree(sh_degree) * 3);
    let total = splat_bytes(n, sh_degree);
    let too_big = AllocError { bytes: total };
    // One reservation of the whole scene first, so the error reports what the scene needs.
    memory::probe(total).map_err(|_| too_big)?;
    Ok(Splats {
        means: memory::zeroed(n).map_err(|_| too_big)?,
        rotations: memory::zeroed(n).map_err(|_| too_big)?,
        log_scales: memory::zeroed(n).map_err(|_| too_big)?,
        opacity_logits: memory::zeroed(n).map_err(|_| too_big)?,
        sh_degree,
        sh: memory::zeroed(sh_len).map_err(|_| too_big)?,
    })
}

/// Host bytes of `n` decoded splats of SH degree `sh_degree` (saturating).
pub(crate) fn splat_bytes(n: usize, sh_degree: u32) -> u64 {
    let per = 4 * (3 + 4 + 3 + 1 + coeffs_for_degree(sh_degree) as u64 * 3);
    (n as u64).saturating_mul(per)
}

/// Mutable views of a contiguous range of splats, for filling in parallel.
pub(crate) struct SplatsMut<'a> {
    /// Index of the first splat of this view in the whole scene.
    pub first: usize,
    pub means: &'a mut [[f32; 3]],
    pub rotations: &'a mut [[f32; 4]],
    pub log_scales: &'a mut [[f32; 3]],
    pub opacity_logits: &'a mut [f32],
    /// `len() * sh_stride` values.
    pub sh: &'a mut [f32],
    /// SH values per splat: (degree + 1)² · 3.
    pub sh_stride: usize,
}

impl<'a> SplatsMut<'a> {
    fn new(s: &'a mut Splats) -> Self {
        let sh_stride = s.coeffs_per_splat() * 3;
        SplatsMut {
            first: 0,
            means: &mut s.means,
            rotations: &mut s.rotations,
            log_scales: &mut s.log_scales,
            opacity_logits: &mut s.opacity_logits,
            sh: &mut s.sh,
            sh_stride,
        }
    }

    pub fn len(&self) -> usize {
        self.means.len()
    }

    /// Splits after `mid` splats (`mid <= len()`).
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (m0, m1) = self.means.split_at_mut(mid);
        let (r0, r1) = self.rotations.split_at_mut(mid);
        let (l0, l1) = self.log_scales.split_at_mut(mid);
        let (o0, o1) = self.opacity_logits.split_at_mut(mid);
        let (s0, s1) = self.sh.split_at_mut(mid * self.sh_stride);
        (
            SplatsMut {
                first: self.first,
                means: m0,
                rotations: r0,
                log_scales: l0,
                opacity_logits: o0,
                sh: s0,
                sh_stride: self.sh_stride,
            },
            SplatsMut {
                first: self.first + mid,
                means: m1,
                rotations: r1,
                log_scales: l1,
                opacity_logits: o1,
                sh: s1,
                sh_stride: self.sh_stride,
            },
        )
    }
}

/// Number of worker threads for `n` items when each thread should get at least `min_per`.
pub(crate) fn thread_count(n: usize, min_per: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    cores.min(n / min_per.max(1)).max(1)
}

/// Fills `s` (already sized, all arrays consistent) by calling `fill` on disjoint ranges of
/// splats from several threads (one range when `s` is small). `fill` may fail; the first error
/// in splat order is returned.
pub(crate) fn par_fill<F>(s: &mut Splats, min_per_thread: usize, fill: F) -> Result<(), String>
where
    F: Fn(SplatsMut<'_>) -> Result<(), String> + Sync,
{
    let n = s.len();
    let threads = thread_count(n, min_per_thread);
    let view = SplatsMut::new(s);
    if threads == 1 {
        return fill(view);
    }
    let per = n.div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let mut rest = view;
    while rest.len() > per {
        let (a, b) = rest.split_at(per);
        parts.push(a);
        rest = b;
    }
    parts.push(rest);
    let fill = &fill;
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || fill(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("internal error: a decoder thread panicked".into()))
            })
            .collect()
    });
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opacity_bytes_round_trip() {
        for b in 0..=255u8 {
            let x = logit_from_u8(b);
            assert!(x.is_finite());
            assert_eq!(u8_from_logit(x), b, "byte {b}");
        }
        assert_eq!(u8_from_logit(f32::NAN), 0);
        assert_eq!(u8_from_logit(f32::INFINITY), 255);
        assert_eq!(u8_from_logit(f32::NEG_INFINITY), 0);
    }

    #[test]
    fn sh_signs_match_the_basis_under_y_z_negation() {
        // Evaluate the 3DGS real SH basis (without constants) at d and at (x, -y, -z).
        fn basis(d: [f64; 3]) -> [f64; 16] {
            let [x, y, z] = d;
            let (xx, yy, zz) = (x * x, y * y, z * z);
            [
                1.0,
                -y,
                z,
                -x,
                x * y,
                y * z,
                2.0 * zz - xx - yy,
                x * z,
                xx - yy,
                y * (3.0 * xx - yy),
                x * y * z,
                y * (4.0 * zz - xx - yy),
                z * (2.0 * zz - 3.0 * xx - 3.0 * yy),
                x * (4.0 * zz - xx - yy),
                z * (xx - yy),
                x * (xx - 3.0 * yy),
            ]
        }
        let d = [0.3, -0.5, 0.8];
        let a = basis(d);
        let b = basis([d[0], -d[1], -d[2]]);
        for k in 0..16 {
            assert!(
                (a[k] * f64::from(SH_SIGN_FLIP_YZ[k]) - b[k]).abs() < 1e-12,
                "k = {k}"
            );
        }
    }

    #[test]
    fn frame_change_is_an_involution_and_keeps_rotations_consistent() {
        let mut s = zeroed(1, 1).unwrap();
        s.means[0] = [1.0, 2.0, 3.0];
        s.rotations[0] = crate::math::normalised_quat([0.9, 0.1, 0.3, -0.2]);
        s.sh = (0..12).map(|v| v as f32).collect();
        let orig = s.clone();
        rub_to_rdf(&mut s);
        assert_eq!(s.means[0], [1.0, -2.0, -3.0]);
        assert_eq!(s.sh[3..6], [-3.0, -4.0, -5.0]);
        assert_eq!(s.sh[9..12], [9.0, 10.0, 11.0]);
        // R' = S R S with S = diag(1, -1, -1).
        let rot = |q: [f32; 4]| {
            let [w, x, y, z] = q.map(f64::from);
            [
                [
                    1.0 - 2.0 * (y * y + z * z),
                    2.0 * (x * y - w * z),
                    2.0 * (x * z + w * y),
                ],
                [
                    2.0 * (x * y + w * z),
                    1.0 - 2.0 * (x * x + z * z),
                    2.0 * (y * z - w * x),
                ],
                [
                    2.0 * (x * z - w * y),
                    2.0 * (y * z + w * x),
                    1.0 - 2.0 * (x * x + y * y),
                ],
            ]
        };
        let (r, r2) = (rot(orig.rotations[0]), rot(s.rotations[0]));
        let sgn = [1.0, -1.0, -1.0];
        for i in 0..3 {
            for j in 0..3 {
                assert!((r2[i][j] - sgn[i] * r[i][j] * sgn[j]).abs() < 1e-6);
            }
        }
        rub_to_rdf(&mut s);
        assert_eq!(s, orig);
    }

    #[test]
    fn par_fill_covers_every_splat_once() {
        let mut s = zeroed(10_001, 1).unwrap();
        par_fill(&mut s, 100, |part| {
            for i in 0..part.len() {
                part.opacity_logits[i] += (part.first + i) as f32;
                part.sh[i * part.sh_stride] += 1.0;
            }
            Ok(())
        })
        .unwrap();
        for (i, &o) in s.opacity_logits.iter().enumerate() {
            assert_eq!(o, i as f32);
            assert_eq!(s.sh[i * 12], 1.0);
        }
        let e = par_fill(&mut s, 100, |part| {
            if part.first > 0 {
                Err(format!("at {}", part.first))
            } else {
                Ok(())
            }
        });
        if thread_count(10_001, 100) > 1 {
            assert!(e.is_err());
        }
    }
}
