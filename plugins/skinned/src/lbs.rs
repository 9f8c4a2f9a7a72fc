//! Linear blend skinning of one splat, in exactly the order `skinned.comp` evaluates it (the
//! CPU path must round as the GPU path does; glam is not used here because its products are
//! ordered column by column).
//!
//! `bones` holds J row-major 4×4 skinning matrices (16 floats each). A splat's blend matrix is
//! A = Σ_k w_k M_{j_k} over its four (joint, weight) pairs, summed left to right; only the top
//! three rows are used (the last row of an affine matrix is 0 0 0 1).
//!
//! The centre is μ' = Σ_k w_k M_{j_k}·[p_k; 1] with one rest point p_k per slot: the splat's
//! mean in every slot for a PLY source (then μ' = A·[μ; 1]), the triangle as joint j_k sees
//! it for a sampled one (then μ' stays on the skinned surface).
//!
//! - exact mode: Σ' = A₃ Σ A₃ᵀ (a covariance; no approximation);
//! - polar mode: A₃ = U·P (polar decomposition by 10 Newton steps U ← ½(U + U⁻ᵀ) from U = A₃);
//!   rotation q' = q(U) ⊗ q, log-scales + ln(det A₃)/3. Exact when A₃ is a rotation times a
//!   uniform scale; otherwise it drops the stretch and shear of P (the HUGS-style
//!   approximation). A₃ with det ≤ 1e-30 (degenerate or mirrored) gives the splat log-scales
//!   of −30, invisibly small, in both paths.

/// Newton steps of the polar decomposition (quadratic convergence: 10 steps reach f32
/// precision for singular values within a factor of ~100 of each other).
pub const POLAR_STEPS: usize = 10;

/// The top three rows of A = Σ w_k M_{j_k}.
pub fn blend(bones: &[f32], joints: [u32; 4], weights: [f32; 4]) -> [f32; 12] {
    let b = |k: usize, e: usize| bones[16 * joints[k] as usize + e];
    std::array::from_fn(|e| {
        weights[0] * b(0, e) + weights[1] * b(1, e) + weights[2] * b(2, e) + weights[3] * b(3, e)
    })
}

/// Σ_k w_k · (M_{j_k}·[p_k; 1]), `points` = p_0..p_3 (12 floats).
pub fn skinned_mean(
    bones: &[f32],
    joints: [u32; 4],
    weights: [f32; 4],
    points: &[f32],
) -> [f32; 3] {
    let t = |k: usize, r: usize| {
        let b = 16 * joints[k] as usize + 4 * r;
        let p = &points[3 * k..3 * k + 3];
        bones[b] * p[0] + bones[b + 1] * p[1] + bones[b + 2] * p[2] + bones[b + 3]
    };
    std::array::from_fn(|r| {
        weights[0] * t(0, r) + weights[1] * t(1, r) + weights[2] * t(2, r) + weights[3] * t(3, r)
    })
}

/// A₃ Σ A₃ᵀ for Σ given as (xx, xy, xz, yy, yz, zz).
pub fn transform_cov(a: &[f32; 12], c: &[f32]) -> [f32; 6] {
    let s = [c[0], c[1], c[2], c[1], c[3], c[4], c[2], c[4], c[5]];
    let ls: [f32; 9] = std::array::from_fn(|k| {
        let (r, col) = (k / 3, k % 3);
        a[4 * r] * s[col] + a[4 * r + 1] * s[3 + col] + a[4 * r + 2] * s[6 + col]
    });
    let res: [f32; 9] = std::array::from_fn(|k| {
        let (r, col) = (k / 3, k % 3);
        ls[3 * r] * a[4 * col] + ls[3 * r + 1] * a[4 * col + 1] + ls[3 * r + 2] * a[4 * col + 2]
    });
    [res[0], res[1], res[2], res[4], res[5], res[8]]
}

/// Cofactor matrix (row-major 3×3) and determinant.
fn cofactor(u: &[f32; 9]) -> ([f32; 9], f32) {
    let c = [
        u[4] * u[8] - u[5] * u[7],
        u[5] * u[6] - u[3] * u[8],
        u[3] * u[7] - u[4] * u[6],
        u[2] * u[7] - u[1] * u[8],
        u[0] * u[8] - u[2] * u[6],
        u[1] * u[6] - u[0] * u[7],
        u[1] * u[5] - u[2] * u[4],
        u[2] * u[3] - u[0] * u[5],
        u[0] * u[4] - u[1] * u[3],
    ];
    let det = u[0] * c[0] + u[1] * c[1] + u[2] * c[2];
    (c, det)
}

/// The rotation factor U of A₃ = U·P (row-major), and det A₃; None when det A₃ ≤ 1e-30.
pub fn polar(a: &[f32; 12]) -> Option<([f32; 9], f32)> {
    let mut u = [a[0], a[1], a[2], a[4], a[5], a[6], a[8], a[9], a[10]];
    let (_, det_a) = cofactor(&u);
    if det_a.is_nan() || det_a <= 1e-30 {
        return None;
    }
    for _ in 0..POLAR_STEPS {
        let (c, det) = cofactor(&u);
        let inv = 1.0 / det;
        for k in 0..9 {
            u[k] = 0.5 * (u[k] + c[k] * inv);
        }
    }
    Some((u, det_a))
}

/// The unit quaternion (w, x, y, z) of a rotation matrix (row-major), Shepperd's method.
pub fn quat_of(u: &[f32; 9]) -> [f32; 4] {
    let (m00, m01, m02, m10, m11, m12, m20, m21, m22) =
        (u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8]);
    let tr = m00 + m11 + m22;
    if tr > 0.0 {
        let s = (tr + 1.0).sqrt() * 2.0;
        [0.25 * s, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s]
    } else if m00 > m11 && m00 > m22 {
        let s = (1.0 + m00 - m11 - m22).sqrt() * 2.0;
        [(m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s]
    } else if m11 > m22 {
        let s = (1.0 + m11 - m00 - m22).sqrt() * 2.0;
        [(m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s]
    } else {
        let s = (1.0 + m22 - m00 - m11).sqrt() * 2.0;
        [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s]
    }
}

/// Hamilton product a ⊗ b of (w, x, y, z) quaternions.
pub fn quat_mul(a: [f32; 4], b: [f32; 4]) -> [f32; 4] {
    [
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    ]
}

/// Polar mode for one splat: rotation and log-scales from the rest ones.
pub fn polar_splat(a: &[f32; 12], rot: [f32; 4], log_scale: [f32; 3]) -> ([f32; 4], [f32; 3]) {
    match polar(a) {
        Some((u, det)) => {
            let q = quat_mul(quat_of(&u), rot);
            let d = det.ln() / 3.0;
            (q, [log_scale[0] + d, log_scale[1] + d, log_scale[2] + d])
        }
        None => (rot, [-30.0; 3]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::{Mat3, Quat, Vec3};

    fn rigid(q: Quat, s: f32, t: Vec3) -> [f32; 12] {
        let m = Mat3::from_quat(q) * s;
        [
            m.x_axis.x, m.y_axis.x, m.z_axis.x, t.x, m.x_axis.y, m.y_axis.y, m.z_axis.y, t.y,
            m.x_axis.z, m.y_axis.z, m.z_axis.z, t.z,
        ]
    }

    #[test]
    fn polar_recovers_rotation_and_uniform_scale() {
        for (i, (axis, angle, s)) in [
            (Vec3::X, 0.3, 1.0),
            (Vec3::new(1.0, 2.0, -0.5), 2.5, 1.7),
            (Vec3::Z, 3.1, 0.4),
            (Vec3::new(-1.0, 0.2, 0.1), -1.2, 1.0),
        ]
        .into_iter()
        .enumerate()
        {
            let q = Quat::from_axis_angle(axis.normalize(), angle);
            let a = rigid(q, s, Vec3::ZERO);
            let (u, det) = polar(&a).unwrap();
            assert!((det - s * s * s).abs() < 1e-4 * s * s * s, "{i}");
            let got = quat_of(&u);
            let dot = got[0] * q.w + got[1] * q.x + got[2] * q.y + got[3] * q.z;
            assert!((dot.abs() - 1.0).abs() < 1e-5, "{i}: {got:?} vs {q:?}");
        }
    }

    #[test]
    fn degenerate_blend_is_hidden() {
        let a = [0f32; 12];
        assert_eq!(
            polar_splat(&a, [1.0, 0.0, 0.0, 0.0], [0.0; 3]).1,
            [-30.0; 3]
        );
    }
}
