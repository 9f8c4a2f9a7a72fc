//! Triangle frames, seeded surface sampling, the avatar plugins' sampled splats and the merge
//! of skin weights to four joints.

use glam::{Mat3, Quat, Vec3};

use crate::Model;

/// The SH DC basis constant: colour = SH·C0 + 0.5.
pub const SH_C0: f32 = 0.282_094_8;

/// Opacity of sampled splats (logit of 0.9): surfaces are nearly opaque; the small
/// translucency hides the seams between neighbouring splats.
pub const SAMPLED_OPACITY_LOGIT: f32 = 2.197_224_6;

/// In-plane standard deviation of a sampled splat, as a fraction of √(area / K) (the side of
/// the square each of K samples stands for): neighbouring splats overlap without blurring
/// the texture much.
pub const INPLANE_SIGMA: f64 = 0.5;
/// Standard deviation along the surface normal, as a fraction of the in-plane one (flat
/// splats, thin but not degenerate).
pub const NORMAL_SIGMA: f64 = 0.05;

/// A splat sampled on a model's rest surface, in the glTF frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampledSplat {
    /// The surface ([`Model::surface`]) and its triangle.
    pub mesh: usize,
    pub triangle: u32,
    pub bary: [f32; 3],
    /// The barycentric point of the rest triangle.
    pub mean: Vec3,
    /// The triangle's frame ([`triangle_frame`]) as a unit quaternion.
    pub rotation: Quat,
    pub log_scale: [f32; 3],
    pub opacity_logit: f32,
    /// SH DC coefficients of the base colour there ([`Model::base_colour`]).
    pub sh_dc: [f32; 3],
}

impl Model {
    /// `per_triangle` splats on every non-degenerate triangle of the skinned meshes (and, with
    /// `with_morphed`, then of the morphed ones): [`sample_surface`] with seed
    /// `seed ^ (surface << 32)`, centre at the sample, a flat splat in the triangle's frame with
    /// in-plane σ = [`INPLANE_SIGMA`]·√(area/K) and normal σ = [`NORMAL_SIGMA`] of that,
    /// opacity [`SAMPLED_OPACITY_LOGIT`], colour the base colour there (SH degree 0).
    /// Order: surface by surface, triangle by triangle, zero-area triangles skipped. Errors
    /// (for the caller to prefix with the file): no surface, more than `max` splats, no
    /// triangle with area.
    pub fn sample_splats(
        &self,
        with_morphed: bool,
        per_triangle: usize,
        seed: u64,
        max: usize,
    ) -> Result<Vec<SampledSplat>, String> {
        let count = if with_morphed {
            self.surface_count()
        } else {
            self.meshes.len()
        };
        if count == 0 {
            return Err(if with_morphed {
                "has no skinned or morphed triangle mesh (a node with a mesh and a skin or morph targets)"
            } else {
                "has no skinned triangle mesh (a node with both a mesh and a skin)"
            }
            .into());
        }
        let total: usize = (0..count).map(|i| self.surface(i).triangles.len()).sum();
        if total.saturating_mul(per_triangle) > max {
            return Err(format!(
                "{total} triangles × splats_per_triangle {per_triangle} is more than {max} splats"
            ));
        }
        let mut out = Vec::with_capacity(total * per_triangle);
        for mi in 0..count {
            let m = self.surface(mi);
            for s in sample_surface(m.triangles.len(), per_triangle, seed ^ ((mi as u64) << 32)) {
                let t = m.triangles[s.triangle as usize];
                let p = t.map(|v| Vec3::from(m.positions[v as usize]));
                let Some(frame) = triangle_frame(p[0], p[1], p[2]) else {
                    continue; // zero area: no surface to cover
                };
                let area = 0.5 * (p[1] - p[0]).cross(p[2] - p[0]).length() as f64;
                let sigma = INPLANE_SIGMA * (area / per_triangle as f64).sqrt();
                let b = s.bary;
                let c = self.base_colour(mi, s.triangle as usize, b);
                out.push(SampledSplat {
                    mesh: mi,
                    triangle: s.triangle,
                    bary: b,
                    mean: p[0] * b[0] + p[1] * b[1] + p[2] * b[2],
                    rotation: Quat::from_mat3(&frame).normalize(),
                    log_scale: [
                        sigma.ln() as f32,
                        sigma.ln() as f32,
                        (sigma * NORMAL_SIGMA).ln() as f32,
                    ],
                    opacity_logit: SAMPLED_OPACITY_LOGIT,
                    sh_dc: c.map(|v| (v - 0.5) / SH_C0),
                });
            }
        }
        if out.is_empty() {
            return Err("its meshes have no triangle with a non-zero area".into());
        }
        Ok(out)
    }
}

/// A point on a mesh: a triangle and barycentric coordinates (non-negative, summing to 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurfaceSample {
    pub triangle: u32,
    pub bary: [f32; 3],
}

/// SplitMix64: each triangle gets its own stream from (seed, triangle), so the samples of a
/// triangle do not depend on the triangles before it.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 24 bits.
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `per_triangle` points on each of `triangle_count` triangles, uniform over each triangle's
/// area (u, v uniform in the unit square, folded into the triangle), deterministic in `seed`.
/// Output order: triangle by triangle, sample by sample.
pub fn sample_surface(triangle_count: usize, per_triangle: usize, seed: u64) -> Vec<SurfaceSample> {
    let mut out = Vec::with_capacity(triangle_count * per_triangle);
    for t in 0..triangle_count {
        let mut rng = SplitMix(seed ^ (t as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        for _ in 0..per_triangle {
            let (mut u, mut v) = (rng.unit(), rng.unit());
            if u + v > 1.0 {
                (u, v) = (1.0 - u, 1.0 - v);
            }
            out.push(SurfaceSample {
                triangle: t as u32,
                bary: [1.0 - u - v, u, v],
            });
        }
    }
    out
}

/// The orthonormal frame of triangle (a, b, c), as matrix columns: x along the edge a→b, z the
/// unit normal ((b − a) × (c − a), counter-clockwise front), y = z × x. None for a degenerate
/// triangle (zero area).
pub fn triangle_frame(a: Vec3, b: Vec3, c: Vec3) -> Option<Mat3> {
    let e1 = b - a;
    let n = e1.cross(c - a);
    let (len_e, len_n) = (e1.length(), n.length());
    if len_e <= 0.0 || len_n <= f32::EPSILON * len_e * len_e || !len_n.is_finite() {
        return None;
    }
    let x = e1 / len_e;
    let z = n / len_n;
    Some(Mat3::from_cols(x, z.cross(x), z))
}

/// Merges (joint, weight) pairs by joint, keeps the four largest weights (ties: the lower
/// joint first), and normalises them to sum 1. Unused slots get joint 0 and weight 0, so every
/// returned joint index is one that was given or 0. Weights ≤ 0 are dropped.
pub fn top4(pairs: &[(u32, f32)]) -> ([u32; 4], [f32; 4]) {
    let merged = merge_top4(pairs);
    let sum: f32 = merged.iter().map(|m| m.1).sum();
    let mut joints = [0u32; 4];
    let mut weights = [0f32; 4];
    for (k, (j, w)) in merged.into_iter().enumerate() {
        joints[k] = j;
        weights[k] = if sum > 0.0 { w / sum } else { 0.0 };
    }
    (joints, weights)
}

/// The merge and choice of [`top4`] without the normalisation: at most four (joint, summed
/// weight) pairs, largest weight first (ties: the lower joint first).
pub(crate) fn merge_top4(pairs: &[(u32, f32)]) -> Vec<(u32, f32)> {
    let mut merged: Vec<(u32, f32)> = Vec::with_capacity(pairs.len());
    for &(j, w) in pairs {
        if w <= 0.0 {
            continue;
        }
        match merged.iter_mut().find(|(mj, _)| *mj == j) {
            Some(m) => m.1 += w,
            None => merged.push((j, w)),
        }
    }
    merged.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    merged.truncate(4);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_deterministic_and_inside() {
        let a = sample_surface(10, 7, 42);
        let b = sample_surface(10, 7, 42);
        let c = sample_surface(10, 7, 43);
        assert_eq!(a, b);
        assert_ne!(a, c);
        for s in &a {
            assert!(s.bary.iter().all(|&x| (0.0..=1.0).contains(&x)));
            assert!((s.bary.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        // The first triangle's samples do not depend on how many triangles follow.
        assert_eq!(sample_surface(1, 7, 42)[..], a[..7]);
    }

    #[test]
    fn uniform_over_area() {
        // The mean barycentric coordinate of uniform samples is (1/3, 1/3, 1/3).
        let s = sample_surface(1, 20000, 5);
        for k in 0..3 {
            let mean: f32 = s.iter().map(|x| x.bary[k]).sum::<f32>() / s.len() as f32;
            assert!((mean - 1.0 / 3.0).abs() < 0.01, "{k}: {mean}");
        }
    }

    #[test]
    fn frame_is_orthonormal_and_right_handed() {
        let f = triangle_frame(
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(2.0, 0.0, 0.0),
            Vec3::new(0.0, 3.0, 0.0),
        )
        .unwrap();
        assert_eq!(f.x_axis, Vec3::X);
        assert_eq!(f.y_axis, Vec3::Y);
        assert_eq!(f.z_axis, Vec3::Z);
        assert!(triangle_frame(Vec3::ZERO, Vec3::X, Vec3::X * 2.0).is_none());
    }

    #[test]
    fn top4_merges_and_normalises() {
        let (j, w) = top4(&[
            (3, 0.1),
            (1, 0.3),
            (3, 0.25),
            (7, 0.05),
            (2, 0.1),
            (9, 0.01),
            (5, 0.0),
        ]);
        assert_eq!(j, [3, 1, 2, 7]);
        let sum = 0.35 + 0.3 + 0.1 + 0.05;
        for (got, want) in w.iter().zip([0.35 / sum, 0.3 / sum, 0.1 / sum, 0.05 / sum]) {
            assert!((got - want).abs() < 1e-6);
        }
        // Ties keep the lower joint first.
        assert_eq!(top4(&[(5, 0.5), (2, 0.5)]).0, [2, 5, 0, 0]);
        let (j, w) = top4(&[(4, 1.0)]);
        assert_eq!((j, w), ([4, 0, 0, 0], [1.0, 0.0, 0.0, 0.0]));
    }
}
