//! Affine transforms of whole splat sets: what a glTF node's world matrix does to the splats
//! of the mesh it instantiates (KHR_gaussian_splatting, "Ellipse Kernel").
//!
//! * means: `M·μ + t`;
//! * covariances: `Σ' = M Σ Mᵀ`. When `M` is a rotation times a uniform positive scale the
//!   quaternion is composed and the log-scale shifted (no rounding beyond f64 → f32); any
//!   other invertible `M` with a positive determinant is handled by the symmetric
//!   eigen-decomposition of `Σ'` (Jacobi, f64), which gives the new rotation and scales;
//! * SH: every band is rotated by the rotation part of `M` (the polar factor; for a TRS node
//!   exactly its rotation). A band's rotation matrix is found by fitting: the rotated function
//!   `f'(d) = f(Rᵀd)` lies in the same band, so evaluating the basis at a fixed set of
//!   directions and at their rotations and solving the least-squares system gives the matrix
//!   exactly up to rounding (the basis is the renderer's, constants and signs included).
//!
//! A matrix with a non-positive determinant or non-finite entries is refused: the
//! specification leaves its rendering undefined.

use glam::{DMat3, DQuat, DVec3};

use crate::Splats;

/// The renderer's real SH basis (degree 0..=3, 16 functions, 3DGS order and constants) at the
/// unit direction `d`.
pub(crate) fn sh_basis(d: [f64; 3]) -> [f64; 16] {
    const C0: f64 = 0.282_094_791_773_878_14;
    const C1: f64 = 0.488_602_511_902_919_9;
    const C2: [f64; 5] = [
        1.092_548_430_592_079_2,
        -1.092_548_430_592_079_2,
        0.315_391_565_252_520_05,
        -1.092_548_430_592_079_2,
        0.546_274_215_296_039_6,
    ];
    const C3: [f64; 7] = [
        -0.590_043_589_926_643_5,
        2.890_611_442_640_554,
        -0.457_045_799_464_465_8,
        0.373_176_332_590_115_4,
        -0.457_045_799_464_465_8,
        1.445_305_721_320_277,
        -0.590_043_589_926_643_5,
    ];
    let [x, y, z] = d;
    let (xx, yy, zz) = (x * x, y * y, z * z);
    [
        C0,
        -C1 * y,
        C1 * z,
        -C1 * x,
        C2[0] * x * y,
        C2[1] * y * z,
        C2[2] * (2.0 * zz - xx - yy),
        C2[3] * x * z,
        C2[4] * (xx - yy),
        C3[0] * y * (3.0 * xx - yy),
        C3[1] * x * y * z,
        C3[2] * y * (4.0 * zz - xx - yy),
        C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy),
        C3[4] * x * (4.0 * zz - xx - yy),
        C3[5] * z * (xx - yy),
        C3[6] * x * (xx - 3.0 * yy),
    ]
}

/// Sample directions for the fit: a Fibonacci sphere of 32 points (well spread, so every
/// band's least-squares system is well conditioned).
fn sample_directions() -> Vec<[f64; 3]> {
    let n = 32;
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..n)
        .map(|i| {
            let y = 1.0 - 2.0 * (i as f64 + 0.5) / n as f64;
            let r = (1.0 - y * y).sqrt();
            let t = golden * i as f64;
            [r * t.cos(), y, r * t.sin()]
        })
        .collect()
}

/// Rotation matrices of SH bands 1..=3 for the rotation `r`: `bands[l-1]` is
/// (2l+1)×(2l+1), row-major, mapping coefficients `c` to `c'` with
/// `Σ c'_m Y_m(d) = Σ c_m Y_m(rᵀ d)` (the function carried along by `r`).
pub(crate) fn sh_rotation(r: &DMat3) -> [Vec<f64>; 3] {
    let dirs = sample_directions();
    let rt = r.transpose();
    let mut out: [Vec<f64>; 3] = Default::default();
    for l in 1..=3usize {
        let first = l * l;
        let w = 2 * l + 1;
        // Normal equations: (AᵀA) D = AᵀB with A[i][m] = Y_m(d_i), B[i][m] = Y_m(rᵀ d_i).
        let mut ata = vec![0.0; w * w];
        let mut atb = vec![0.0; w * w];
        for d in &dirs {
            let a = sh_basis(*d);
            let rd = rt * DVec3::from_array(*d);
            let b = sh_basis(rd.to_array());
            for i in 0..w {
                for j in 0..w {
                    ata[i * w + j] += a[first + i] * a[first + j];
                    atb[i * w + j] += a[first + i] * b[first + j];
                }
            }
        }
        out[l - 1] = solve(ata, atb, w);
    }
    out
}

/// Solves `A X = B` for square `A` (n×n, well conditioned) by Gauss-Jordan elimination with
/// partial pivoting; `B` is n×n too.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> Vec<f64> {
    for col in 0..n {
        let p = (col..n)
            .max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))
            .unwrap_or(col);
        for k in 0..n {
            a.swap(col * n + k, p * n + k);
            b.swap(col * n + k, p * n + k);
        }
        let piv = a[col * n + col];
        for k in 0..n {
            a[col * n + k] /= piv;
            b[col * n + k] /= piv;
        }
        for row in 0..n {
            if row == col {
                continue;
            }
            let f = a[row * n + col];
            if f != 0.0 {
                for k in 0..n {
                    a[row * n + k] -= f * a[col * n + k];
                    b[row * n + k] -= f * b[col * n + k];
                }
            }
        }
    }
    b
}

/// Rotates the SH of every splat by the band matrices of [`sh_rotation`].
pub(crate) fn rotate_sh(s: &mut Splats, r: &DMat3) {
    let k = s.coeffs_per_splat();
    if k <= 1 {
        return;
    }
    let bands = sh_rotation(r);
    let degree = s.sh_degree as usize;
    for splat in s.sh.chunks_exact_mut(k * 3) {
        for l in 1..=degree {
            let (first, w) = (l * l, 2 * l + 1);
            let d = &bands[l - 1];
            for c in 0..3 {
                let mut v = [0.0f64; 7];
                for (m, vm) in v.iter_mut().take(w).enumerate() {
                    *vm = f64::from(splat[(first + m) * 3 + c]);
                }
                for i in 0..w {
                    let sum: f64 = (0..w).map(|j| d[i * w + j] * v[j]).sum();
                    splat[(first + i) * 3 + c] = sum as f32;
                }
            }
        }
    }
}

/// The rotation factor of the polar decomposition of `m` (det > 0): Newton's iteration
/// `R ← (R + R⁻ᵀ)/2`, quadratically convergent.
fn polar_rotation(m: &DMat3) -> DMat3 {
    let mut r = *m;
    for _ in 0..60 {
        let next = (r + r.inverse().transpose()) * 0.5;
        let diff = (next - r)
            .to_cols_array()
            .iter()
            .fold(0.0f64, |a, v| a.max(v.abs()));
        r = next;
        if diff < 1e-15 {
            break;
        }
    }
    r
}

/// Eigen-decomposition of a symmetric 3×3 matrix by cyclic Jacobi rotations: (eigenvalues,
/// eigenvectors as the columns of a rotation matrix).
fn symmetric_eigen(m: &DMat3) -> ([f64; 3], DMat3) {
    let mut a = m.to_cols_array_2d(); // a[col][row]; symmetric, so a[i][j] = a[j][i]
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..50 {
        let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
        let scale = a[0][0].abs() + a[1][1].abs() + a[2][2].abs();
        if off <= 1e-300 || off <= scale * 1e-17 {
            break;
        }
        for (p, q) in [(0usize, 1usize), (0, 2), (1, 2)] {
            if a[p][q] == 0.0 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            for col in &mut a {
                let (akp, akq) = (col[p], col[q]);
                col[p] = c * akp - s * akq;
                col[q] = s * akp + c * akq;
            }
            let (rp, rq) = (a[p], a[q]);
            a[p] = [0, 1, 2].map(|k| c * rp[k] - s * rq[k]);
            a[q] = [0, 1, 2].map(|k| s * rp[k] + c * rq[k]);
            for row in &mut v {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    // v[row][col]: column j is the eigenvector of a[j][j].
    let mut cols = DMat3::from_cols(
        DVec3::new(v[0][0], v[1][0], v[2][0]),
        DVec3::new(v[0][1], v[1][1], v[2][1]),
        DVec3::new(v[0][2], v[1][2], v[2][2]),
    );
    if cols.determinant() < 0.0 {
        cols.z_axis = -cols.z_axis;
    }
    ([a[0][0], a[1][1], a[2][2]], cols)
}

/// Checks an affine transform: finite, invertible, positive determinant.
pub(crate) fn check_affine(m: &DMat3, t: DVec3) -> Result<(), String> {
    let finite = m.to_cols_array().iter().all(|v| v.is_finite()) && t.is_finite();
    if !finite {
        return Err("its transform has non-finite entries".into());
    }
    let det = m.determinant();
    let scale = m.to_cols_array().iter().fold(0.0f64, |a, v| a.max(v.abs()));
    // Also refuses NaN (no comparison holds).
    if det.partial_cmp(&(1e-12 * scale * scale * scale)) != Some(std::cmp::Ordering::Greater) {
        return Err(format!(
            "its transform is not a rotation, positive scale and translation (determinant \
             {det:.3e}); the specification leaves such splats undefined"
        ));
    }
    Ok(())
}

/// Applies `x ↦ m·x + t` to every splat: means, covariances (rotations and scales) and SH.
/// `m` must pass [`check_affine`].
pub(crate) fn transform(s: &mut Splats, m: &DMat3, t: DVec3) {
    for mean in &mut s.means {
        let p = *m * DVec3::new(f64::from(mean[0]), f64::from(mean[1]), f64::from(mean[2])) + t;
        *mean = [p.x as f32, p.y as f32, p.z as f32];
    }
    let mtm = m.transpose() * *m;
    let s2 = (mtm.x_axis.x + mtm.y_axis.y + mtm.z_axis.z) / 3.0;
    let similar = mtm
        .to_cols_array()
        .iter()
        .zip(DMat3::IDENTITY.to_cols_array())
        .all(|(a, b)| (a - b * s2).abs() <= 1e-12 * s2);
    let rot = if similar {
        *m * (1.0 / s2.sqrt())
    } else {
        polar_rotation(m)
    };
    if similar {
        let qr = DQuat::from_mat3(&rot).normalize();
        let ln_s = 0.5 * s2.ln();
        for (q, ls) in s.rotations.iter_mut().zip(&mut s.log_scales) {
            let qs = DQuat::from_xyzw(
                f64::from(q[1]),
                f64::from(q[2]),
                f64::from(q[3]),
                f64::from(q[0]),
            )
            .normalize();
            let n = (qr * qs).normalize();
            *q = crate::math::normalised_quat([n.w as f32, n.x as f32, n.y as f32, n.z as f32]);
            for v in ls.iter_mut() {
                *v = (f64::from(*v) + ln_s) as f32;
            }
        }
    } else {
        for (q, ls) in s.rotations.iter_mut().zip(&mut s.log_scales) {
            let qs = DQuat::from_xyzw(
                f64::from(q[1]),
                f64::from(q[2]),
                f64::from(q[3]),
                f64::from(q[0]),
            )
            .normalize();
            let sc = DVec3::new(
                f64::from(ls[0]).exp(),
                f64::from(ls[1]).exp(),
                f64::from(ls[2]).exp(),
            );
            let a = *m * DMat3::from_quat(qs) * DMat3::from_diagonal(sc);
            let (lambda, v) = symmetric_eigen(&(a * a.transpose()));
            let n = DQuat::from_mat3(&v).normalize();
            *q = crate::math::normalised_quat([n.w as f32, n.x as f32, n.y as f32, n.z as f32]);
            for (dst, l) in ls.iter_mut().zip(lambda) {
                // A flat splat stays flat: the smallest positive f64 keeps the log finite.
                *dst = (0.5 * l.max(f64::MIN_POSITIVE).ln()) as f32;
            }
        }
    }
    rotate_sh(s, &rot);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Rng;

    fn random_rotation(rng: &mut Rng) -> DMat3 {
        let q = DQuat::from_xyzw(
            f64::from(rng.range(-1.0, 1.0)),
            f64::from(rng.range(-1.0, 1.0)),
            f64::from(rng.range(-1.0, 1.0)),
            f64::from(rng.range(-1.0, 1.0)),
        )
        .normalize();
        DMat3::from_quat(q)
    }

    fn unit(rng: &mut Rng) -> [f64; 3] {
        let v = DVec3::new(
            f64::from(rng.range(-1.0, 1.0)),
            f64::from(rng.range(-1.0, 1.0)),
            f64::from(rng.range(-1.0, 1.0)),
        )
        .normalize();
        v.to_array()
    }

    #[test]
    fn sh_rotation_matches_evaluation_at_rotated_directions() {
        let mut rng = Rng::new(3);
        for _ in 0..50 {
            let r = random_rotation(&mut rng);
            let bands = sh_rotation(&r);
            let c: Vec<f64> = (0..16).map(|_| f64::from(rng.range(-1.0, 1.0))).collect();
            let mut c2 = c.clone();
            for l in 1..=3usize {
                let (first, w) = (l * l, 2 * l + 1);
                let d = &bands[l - 1];
                for i in 0..w {
                    c2[first + i] = (0..w).map(|j| d[i * w + j] * c[first + j]).sum();
                }
                // Orthogonal: D Dᵀ = I (the basis is orthonormal up to one constant).
                for i in 0..w {
                    for j in 0..w {
                        let dot: f64 = (0..w).map(|k| d[i * w + k] * d[j * w + k]).sum();
                        let want = if i == j { 1.0 } else { 0.0 };
                        assert!((dot - want).abs() < 1e-12, "band {l}: {dot}");
                    }
                }
            }
            for _ in 0..20 {
                let d = unit(&mut rng);
                let rd = (r.transpose() * DVec3::from_array(d)).to_array();
                let f_new: f64 = sh_basis(d).iter().zip(&c2).map(|(y, c)| y * c).sum();
                let f_old: f64 = sh_basis(rd).iter().zip(&c).map(|(y, c)| y * c).sum();
                assert!((f_new - f_old).abs() < 1e-12, "{f_new} vs {f_old}");
            }
        }
    }

    #[test]
    fn half_turn_about_x_is_the_sign_table() {
        let r = DMat3::from_diagonal(DVec3::new(1.0, -1.0, -1.0));
        let bands = sh_rotation(&r);
        for l in 1..=3usize {
            let (first, w) = (l * l, 2 * l + 1);
            for i in 0..w {
                for j in 0..w {
                    let want = if i == j {
                        f64::from(crate::formats::SH_SIGN_FLIP_YZ[first + i])
                    } else {
                        0.0
                    };
                    assert!((bands[l - 1][i * w + j] - want).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn covariances_transform_as_m_sigma_mt() {
        let mut rng = Rng::new(9);
        let cov = |q: [f32; 4], ls: [f32; 3]| {
            let r = DMat3::from_quat(
                DQuat::from_xyzw(
                    f64::from(q[1]),
                    f64::from(q[2]),
                    f64::from(q[3]),
                    f64::from(q[0]),
                )
                .normalize(),
            );
            let s = DMat3::from_diagonal(DVec3::new(
                f64::from(ls[0]).exp(),
                f64::from(ls[1]).exp(),
                f64::from(ls[2]).exp(),
            ));
            r * s * s * r.transpose()
        };
        for case in 0..3 {
            let r = random_rotation(&mut rng);
            let m = match case {
                0 => r,
                1 => r * 2.5,
                _ => r * DMat3::from_diagonal(DVec3::new(0.5, 2.0, 1.25)),
            };
            let mut s = crate::formats::zeroed(20, 0).unwrap();
            for i in 0..20 {
                s.means[i] = [0; 3].map(|_| rng.range(-2.0, 2.0));
                s.rotations[i] = crate::math::normalised_quat([0; 4].map(|_| rng.range(-1.0, 1.0)));
                s.log_scales[i] = [0; 3].map(|_| rng.range(-3.0, 0.0));
            }
            let before = s.clone();
            let t = DVec3::new(1.0, -2.0, 0.5);
            check_affine(&m, t).unwrap();
            transform(&mut s, &m, t);
            for i in 0..20 {
                let want = m * cov(before.rotations[i], before.log_scales[i]) * m.transpose();
                let got = cov(s.rotations[i], s.log_scales[i]);
                let err = (want - got)
                    .to_cols_array()
                    .iter()
                    .fold(0.0f64, |a, v| a.max(v.abs()));
                let size = want
                    .to_cols_array()
                    .iter()
                    .fold(0.0f64, |a, v| a.max(v.abs()));
                assert!(err <= 1e-5 * size, "case {case} splat {i}: {err} of {size}");
                let p = before.means[i].map(f64::from);
                let want_mean = m * DVec3::from_array(p) + t;
                for k in 0..3 {
                    assert!((f64::from(s.means[i][k]) - want_mean[k]).abs() < 1e-5);
                }
            }
        }
        assert!(check_affine(
            &DMat3::from_diagonal(DVec3::new(1.0, 1.0, -1.0)),
            DVec3::ZERO
        )
        .is_err());
        assert!(check_affine(&DMat3::ZERO, DVec3::ZERO).is_err());
    }
}
