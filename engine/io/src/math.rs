//! The scalar rules of splat parameters, written once for every reader, writer, statistic and
//! the CPU reference renderer.
//!
//! * [`sigmoid`] activates an opacity logit exactly as the renderer does: `1 / (1 + e^−x)` in
//!   f32, the operation order of `shaders/preprocess.comp` and of the CPU reference, so a
//!   value computed on the host is bit for bit the one the reference renders with.
//! * [`normalised_quat`] is the loaders' quaternion rule: computed in f64, zero-length and
//!   non-finite quaternions come back unchanged (so [`crate::Splats::validate`] names them
//!   instead of seeing the NaN of 0/0), and a quaternion that is already unit within f32
//!   rounding comes back bit for bit, which makes the rule idempotent and every
//!   read → write → read lossless.
//!
//! The renderers normalise again in f32 (their own explicit order, see the reference), so
//! the loaders' rule changes stored values only, never what a unit quaternion renders as.
//! Half floats live in [`crate::half`].

/// Opacity from its logit, `1 / (1 + e^−x)` in f32. Saturates to exactly 0 below about
/// −88.7 (e^−x overflows to infinity) and to 1 above about 17; NaN stays NaN.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Squared length of a quaternion, summed in f64 so tiny-but-valid quaternions do not
/// underflow to 0 and huge ones do not overflow.
pub fn quat_norm_sq(q: &[f32; 4]) -> f64 {
    q.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

/// How far from 1 a squared length may be for a quaternion to count as unit already. A unit
/// quaternion rounded to f32 is within about 2.4e-7 (four components, each off by at most
/// half an ulp); 1e-6 leaves a margin and still moves no quaternion visibly.
const UNIT_TOLERANCE: f64 = 1e-6;

/// `q / |q|` computed in f64 and rounded to f32 (quaternions are (w, x, y, z)). Zero-length
/// or non-finite input is returned unchanged, and so is input whose squared length is within
/// 1e-6 of 1 (see the module docs): `normalised_quat(normalised_quat(q)) ==
/// normalised_quat(q)` bit for bit.
pub fn normalised_quat(q: [f32; 4]) -> [f32; 4] {
    let n2 = quat_norm_sq(&q);
    if n2 == 0.0 || !n2.is_finite() || (n2 - 1.0).abs() < UNIT_TOLERANCE {
        return q;
    }
    let inv = 1.0 / n2.sqrt();
    q.map(|v| (f64::from(v) * inv) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Rng;

    #[test]
    fn sigmoid_values_limits_and_symmetry() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid(-0.0), 0.5);
        assert_eq!(sigmoid(f32::INFINITY), 1.0);
        assert_eq!(sigmoid(f32::NEG_INFINITY), 0.0);
        // e^100 overflows f32: exactly 0, never NaN.
        assert_eq!(sigmoid(-100.0), 0.0);
        assert_eq!(sigmoid(100.0), 1.0);
        assert!(sigmoid(f32::NAN).is_nan());
        // The renderer's f32 formula, bit for bit (the CPU reference and the shader use it).
        for x in [-7.0f32, -2.0, -0.3, 0.7, 2.0, 5.5] {
            assert_eq!(sigmoid(x).to_bits(), (1.0 / (1.0 + (-x).exp())).to_bits());
        }
        // Close to the exact value and monotonic over the range logits use.
        let mut prev = 0.0f32;
        for i in -40_000..=40_000 {
            let x = i as f32 * 1e-3;
            let s = sigmoid(x);
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            assert!(
                (f64::from(s) - exact).abs() <= 4.0 * f64::from(f32::EPSILON) * exact,
                "{x}"
            );
            assert!(s >= prev, "{x}");
            assert!(
                (f64::from(s) + f64::from(sigmoid(-x)) - 1.0).abs() < 2e-7,
                "{x}"
            );
            prev = s;
        }
    }

    #[test]
    fn degenerate_quaternions_come_back_unchanged() {
        for q in [
            [0.0; 4],
            [-0.0, 0.0, -0.0, 0.0],
            [f32::NAN, 0.0, 0.0, 1.0],
            [f32::INFINITY, 0.0, 0.0, 0.0],
            [1.0, f32::NEG_INFINITY, 0.0, 0.0],
        ] {
            let r = normalised_quat(q);
            assert_eq!(r.map(f32::to_bits), q.map(f32::to_bits), "{q:?}");
        }
        // Squares that overflow f32 do not overflow f64: normalised.
        assert_eq!(
            normalised_quat([f32::MAX, 0.0, 0.0, 0.0]),
            [1.0, 0.0, 0.0, 0.0]
        );
        // A denormal quaternion is tiny but valid: its square does not underflow in f64.
        let tiny = f32::from_bits(1);
        assert_eq!(normalised_quat([0.0, tiny, 0.0, 0.0]), [0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn quaternions_become_unit_and_stay_put() {
        assert_eq!(normalised_quat([2.0, 0.0, 0.0, 0.0]), [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(
            normalised_quat([0.0, 0.0, -3.0, 4.0]),
            [0.0, 0.0, -0.6, 0.8]
        );
        let mut rng = Rng::new(7);
        for _ in 0..100_000 {
            let scale = 10f32.powf(rng.range(-20.0, 20.0));
            let q = [0; 4].map(|_| rng.range(-1.0, 1.0) * scale);
            if q.iter().all(|&v| v == 0.0) {
                continue;
            }
            let n = normalised_quat(q);
            assert!((quat_norm_sq(&n) - 1.0).abs() < UNIT_TOLERANCE, "{q:?}");
            // Direction kept: n is q scaled by a positive factor (within f32 rounding, or
            // within the unit tolerance for input that was unit already).
            let n2 = quat_norm_sq(&q);
            let tol = if (n2 - 1.0).abs() < UNIT_TOLERANCE {
                6e-7
            } else {
                6e-8
            };
            for (a, b) in q.iter().zip(n) {
                let want = f64::from(*a) / n2.sqrt();
                assert!((f64::from(b) - want).abs() <= tol, "{q:?}");
            }
            // Idempotent, so a file written from loaded splats loads bit for bit the same.
            let again = normalised_quat(n);
            assert_eq!(again.map(f32::to_bits), n.map(f32::to_bits), "{q:?}");
        }
    }
}
