//! The layout golden of the native 4D Gaussian math: the reference's two transcriptions of
//! Σ₄ (Python `build_rotation_4d`, CUDA `computeCov3D_conditional`) written out again here
//! as plain math, shown to agree with [`covariance_4d`], and hand-checked numbers.

use super::*;

/// xorshift; uniform in [lo, hi).
struct Rng(u64);
impl Rng {
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + (hi - lo) * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
    fn quat(&mut self) -> [f64; 4] {
        let q: [f64; 4] = std::array::from_fn(|_| self.range(-1.0, 1.0));
        let n = q.iter().map(|c| c * c).sum::<f64>().sqrt();
        q.map(|c| c / n)
    }
}

fn transpose(m: &Mat4) -> Mat4 {
    std::array::from_fn(|i| std::array::from_fn(|j| m[j][i]))
}

/// A glm `mat4(v0 … v15)` constructor: glm is column-major, so v0..v3 is column 0.
fn glm_mat4(v: [f64; 16]) -> Mat4 {
    std::array::from_fn(|row| std::array::from_fn(|col| v[4 * col + row]))
}

/// The CUDA form: M_l and M_r as `computeCov3D_conditional` lists them for glm (q_l = (a, b,
/// c, d), q_r = (p, q, r, s)), R = M_r·M_l, M = S·R, Σ = Mᵀ M.
fn cuda_form(ql: [f64; 4], qr: [f64; 4], s: [f64; 4], glm: fn([f64; 16]) -> Mat4) -> Mat4 {
    let [a, b, c, d] = ql;
    let [p, q, r, w] = qr;
    let ml = glm([a, b, -c, d, -b, a, d, c, c, -d, a, b, -d, -c, -b, a]);
    let mr = glm([p, q, -r, -w, -q, p, w, -r, r, -w, p, -q, w, r, q, p]);
    let rot = mul(&mr, &ml);
    let sm: Mat4 =
        std::array::from_fn(|i| std::array::from_fn(|j| if i == j { s[i] } else { 0.0 }));
    let m = mul(&sm, &rot);
    mul(&transpose(&m), &m)
}

/// The Python form: M_l, M_r row by row as `build_rotation_4d` stacks them, A = M_l @ M_r
/// flipped in both axes, L = A·S, Σ = L Lᵀ.
fn python_form(ql: [f64; 4], qr: [f64; 4], s: [f64; 4]) -> Mat4 {
    let [a, b, c, d] = ql;
    let [p, q, r, w] = qr;
    let ml = [[a, -b, -c, -d], [b, a, -d, c], [c, d, a, -b], [d, -c, b, a]];
    let mr = [[p, q, r, w], [-q, p, -w, r], [-r, w, p, -q], [-w, -r, q, p]];
    let prod = mul(&ml, &mr);
    let flipped: Mat4 = std::array::from_fn(|i| std::array::from_fn(|j| prod[3 - i][3 - j]));
    let l: Mat4 = std::array::from_fn(|i| std::array::from_fn(|j| flipped[i][j] * s[j]));
    mul(&l, &transpose(&l))
}

fn max_diff(a: &Mat4, b: &Mat4) -> f64 {
    (0..16)
        .map(|k| (a[k / 4][k % 4] - b[k / 4][k % 4]).abs())
        .fold(0.0, f64::max)
}

#[test]
fn cuda_and_python_layouts_agree_with_the_model() {
    let mut rng = Rng(0x4d_6a55);
    let mut worst_rows_as_columns: f64 = 0.0;
    for _ in 0..200 {
        let (ql, qr) = (rng.quat(), rng.quat());
        let s: [f64; 4] = std::array::from_fn(|_| rng.range(-2.0, 1.0).exp());
        let model = covariance_4d(ql, qr, s);
        assert!(max_diff(&model, &python_form(ql, qr, s)) < 1e-12);
        assert!(max_diff(&model, &cuda_form(ql, qr, s, glm_mat4)) < 1e-12);
        // The CUDA rotation is the transpose of the Python one (Σ = Rᵀ S² R there).
        let r_cuda = {
            let [a, b, c, d] = ql;
            let [p, q, r, w] = qr;
            let ml = glm_mat4([a, b, -c, d, -b, a, d, c, c, -d, a, b, -d, -c, -b, a]);
            let mr = glm_mat4([p, q, -r, -w, -q, p, w, -r, r, -w, p, -q, w, r, q, p]);
            mul(&mr, &ml)
        };
        assert!(max_diff(&rotation_4d(ql, qr), &transpose(&r_cuda)) < 1e-12);
        // Reading glm's lists as rows (the transcription error to guard against) disagrees.
        let rows: fn([f64; 16]) -> Mat4 =
            |v| std::array::from_fn(|row| std::array::from_fn(|col| v[4 * row + col]));
        worst_rows_as_columns =
            worst_rows_as_columns.max(max_diff(&model, &cuda_form(ql, qr, s, rows)));
    }
    assert!(worst_rows_as_columns > 0.1, "{worst_rows_as_columns}");
}

#[test]
fn hand_checked_covariances() {
    let id = [1.0, 0.0, 0.0, 0.0];
    // Identity quaternions: Σ₄ = diag(S²), no motion, Σ₃ = diag(sx², sy², sz²).
    let s = slice(&covariance_4d(id, id, [1.0, 2.0, 3.0, 4.0]));
    assert_eq!(s.var_t, 16.0);
    assert_eq!(s.velocity, [0.0; 3]);
    assert_eq!(s.cov, [1.0, 0.0, 0.0, 4.0, 0.0, 9.0]);

    // A rotation by θ = 60° in the x–t plane: q_l = (cos θ/2, 0, 0, sin θ/2), q_r = (cos θ/2,
    // 0, 0, −sin θ/2). With sx = 1, st = 2: Σxx = cos²θ + 4 sin²θ = 3.25, Σtt = sin²θ +
    // 4 cos²θ = 1.75, Σxt = cos θ sin θ (4 − 1) = 3√3/4; velocity = Σxt/Σtt = 3√3/7,
    // conditional variance sx² st² / Σtt = 4/1.75 = 16/7.
    let h = std::f64::consts::FRAC_PI_6;
    let ql = [h.cos(), 0.0, 0.0, h.sin()];
    let qr = [h.cos(), 0.0, 0.0, -h.sin()];
    let sigma = covariance_4d(ql, qr, [1.0, 0.5, 0.25, 2.0]);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(sigma[0][0], 3.25) && close(sigma[3][3], 1.75));
    assert!(close(sigma[0][3], 3.0 * 3f64.sqrt() / 4.0) && close(sigma[3][0], sigma[0][3]));
    assert!(close(sigma[1][1], 0.25) && close(sigma[2][2], 0.0625));
    assert!(close(sigma[1][3], 0.0) && close(sigma[0][1], 0.0));
    let s = slice(&sigma);
    assert!(
        close(s.velocity[0], 3.0 * 3f64.sqrt() / 7.0),
        "{:?}",
        s.velocity
    );
    assert!(close(s.velocity[1], 0.0) && close(s.velocity[2], 0.0));
    assert!(close(s.cov[0], 16.0 / 7.0) && close(s.cov[3], 0.25) && close(s.cov[5], 0.0625));

    // A spatial rotation u = 90° about z, (w, x, y, z) = (cos 45°, 0, 0, sin 45°), is
    // q_l = q_r = (w, −z, −y, −x): x's scale ends on y and y's on x.
    let c = std::f64::consts::FRAC_1_SQRT_2;
    let q = [c, -c, 0.0, 0.0];
    let s = slice(&covariance_4d(q, q, [1.0, 2.0, 3.0, 4.0]));
    let want = [4.0, 0.0, 0.0, 1.0, 0.0, 9.0];
    assert!(
        s.cov.iter().zip(want).all(|(a, b)| close(*a, b)),
        "{:?}",
        s.cov
    );
    assert!(close(s.var_t, 16.0) && s.velocity.iter().all(|v| close(*v, 0.0)));
}

#[test]
fn rotations_compose_as_quaternion_products() {
    let mut rng = Rng(77);
    let hamilton = |a: [f64; 4], b: [f64; 4]| {
        [
            a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
            a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
            a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
            a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
        ]
    };
    for _ in 0..50 {
        let (q1, r1, q2, r2) = (rng.quat(), rng.quat(), rng.quat(), rng.quat());
        let product = mul(&rotation_4d(q1, r1), &rotation_4d(q2, r2));
        let composed = rotation_4d(hamilton(q1, q2), hamilton(r1, r2));
        assert!(max_diff(&product, &composed) < 1e-12);
    }
}

#[test]
fn frame_evaluation() {
    // mean (1, 2, 3), t0 = 0.5, velocity (2, 0, −1), ½/σ_t² = 2 (σ_t² = 0.25), opacity 0.8.
    let d = [1.0, 2.0, 3.0, 0.5, 2.0, 0.0, -1.0, 2.0, 0.8];
    let (m, f) = evaluate(&d, 1.0, 0.05, 0.0);
    assert_eq!(m, [2.0, 2.0, 2.5]);
    assert!((f - (-0.5f32).exp()).abs() < 1e-7, "{f}");
    // p(t) = e^{-2 dt²} ≤ 0.05 once |dt| ≥ √(ln 20 / 2) = 1.2238…
    assert!(evaluate(&d, 0.5 + 1.22, 0.05, 0.0).1 > 0.0);
    assert_eq!(evaluate(&d, 0.5 + 1.23, 0.05, 0.0).1, 0.0);
    assert_eq!(evaluate(&d, 0.5 - 1.23, 0.05, 0.0).1, 0.0);
    assert!(evaluate(&d, 0.5 - 1.23, 0.0, 0.0).1 > 0.0);
    // cull on α(t) = 0.8·p: at dt = 0.5, α = 0.8 e^{-0.5} = 0.485.
    assert!(evaluate(&d, 1.0, 0.05, 0.48).1 > 0.0);
    assert_eq!(evaluate(&d, 1.0, 0.05, 0.49).1, 0.0);
    // Time bands: dt' = t0 − t = −0.25 of T = 1: cos(−π/2) = 0, cos(−π) = −1.
    let (c1, c2) = band_weights(0.5, 0.75, 1.0);
    assert!(c1.abs() < 1e-6 && (c2 + 1.0).abs() < 1e-6, "{c1} {c2}");
    let (c1, c2) = band_weights(2.0, 2.0, 0.1);
    assert_eq!((c1, c2), (1.0, 1.0));
}
