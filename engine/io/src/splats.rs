//! In-memory Gaussian splats, exactly as trainers store them.
//!
//! Values are kept *unactivated*: log-scales, opacity logits and raw SH
//! coefficients, so that `read_ply` → `write_ply` is lossless. Activation
//! (exp, sigmoid) happens on the GPU or in [`Splats::stats`].
//!
//! Invariants of a well-formed [`Splats`] (checked by [`Splats::validate`],
//! not enforced by the type, because readers deliberately keep bad values so
//! that they can be reported):
//! * `means`, `rotations`, `log_scales`, `opacity_logits` all have `len()`
//!   entries and `sh` has `len() * coeffs_per_splat() * 3`;
//! * `sh_degree <= 3`;
//! * every value is finite, every log-scale activates to a finite scale (exp does not
//!   overflow f32: log-scale ≤ [`MAX_LOG_SCALE`]) and every quaternion's length is a normal
//!   f32, so that the renderer (which activates and normalises in f32) sees only finite
//!   numbers. `render`, `info` and `convert` all judge a scene by [`Splats::validate`].

use crate::math::{quat_norm_sq, sigmoid};

/// Gaussian splats exactly as stored by trainers (not activated).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Splats {
    /// Centres in world space.
    pub means: Vec<[f32; 3]>,
    /// Quaternions (w, x, y, z), normalised on load.
    pub rotations: Vec<[f32; 4]>,
    /// Natural log of the per-axis standard deviations (scale = exp(stored)).
    pub log_scales: Vec<[f32; 3]>,
    /// Opacity logits (opacity = sigmoid(stored)).
    pub opacity_logits: Vec<f32>,
    /// 0..=3
    pub sh_degree: u32,
    /// (sh_degree+1)^2 coefficients per splat, each RGB, COEFFICIENT-major:
    /// sh[(i * K + k) * 3 + c] with K = (deg+1)^2, c in 0..3. k = 0 is the DC term.
    pub sh: Vec<f32>,
}

/// The largest log-scale whose scale, exp(log-scale), is a finite f32 (ln(f32::MAX) =
/// 88.72…); a larger one is invalid (the renderer could not use it).
pub const MAX_LOG_SCALE: f32 = 88.722_83;

/// Summary numbers for logging and sanity checks. Stored values that are not finite (NaN,
/// inf in the file) are skipped; activated values are not: a log-scale of 89 is a scale of
/// inf, which shows up as `scale_max`. For an empty scene (or a statistic with no finite
/// inputs) the corresponding fields are 0.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SplatStats {
    /// Number of splats.
    pub count: usize,
    /// Spherical-harmonics degree (0..=3).
    pub sh_degree: u32,
    /// Component-wise minimum of the finite means.
    pub bounds_min: [f32; 3],
    /// Component-wise maximum of the finite means.
    pub bounds_max: [f32; 3],
    /// Smallest activated opacity, sigmoid(logit).
    pub opacity_min: f32,
    /// Mean activated opacity.
    pub opacity_mean: f32,
    /// Largest activated opacity.
    pub opacity_max: f32,
    /// Smallest per-splat largest axis scale, exp(log_scale).
    pub scale_min: f32,
    /// Median per-splat largest axis scale.
    pub scale_median: f32,
    /// Largest per-splat largest axis scale.
    pub scale_max: f32,
}

impl std::fmt::Display for SplatStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} splats, SH degree {}, bounds {:?}..{:?}, opacity min/mean/max {:.4}/{:.4}/{:.4}, \
             scale min/median/max {:.4e}/{:.4e}/{:.4e}",
            self.count,
            self.sh_degree,
            self.bounds_min,
            self.bounds_max,
            self.opacity_min,
            self.opacity_mean,
            self.opacity_max,
            self.scale_min,
            self.scale_median,
            self.scale_max
        )
    }
}

impl Splats {
    /// Number of splats (the length of `means`).
    pub fn len(&self) -> usize {
        self.means.len()
    }

    /// True when there are no splats.
    pub fn is_empty(&self) -> bool {
        self.means.is_empty()
    }

    /// `(sh_degree + 1)^2`, the number of SH coefficients per colour channel.
    pub fn coeffs_per_splat(&self) -> usize {
        let d = self.sh_degree as usize;
        (d + 1).saturating_mul(d + 1)
    }

    /// Checks lengths are consistent and every value is finite; error names the
    /// first bad splat index and field.
    pub fn validate(&self) -> Result<(), String> {
        if self.sh_degree > 3 {
            return Err(format!(
                "sh_degree is {}, at most 3 is supported",
                self.sh_degree
            ));
        }
        let n = self.len();
        let k = self.coeffs_per_splat();
        let lengths = [
            ("rotations", self.rotations.len(), n),
            ("log_scales", self.log_scales.len(), n),
            ("opacity_logits", self.opacity_logits.len(), n),
            ("sh", self.sh.len(), n * k * 3),
        ];
        for (field, got, want) in lengths {
            if got != want {
                return Err(format!(
                    "{field} has {got} entries, expected {want} for {n} splats (SH degree {})",
                    self.sh_degree
                ));
            }
        }
        for i in 0..n {
            self.check_splat(i, k)?;
        }
        Ok(())
    }

    /// Describes the first problem with splat `i`; lengths must already be checked.
    fn check_splat(&self, i: usize, k: usize) -> Result<(), String> {
        fn finite(i: usize, field: &str, values: &[f32]) -> Result<(), String> {
            match values.iter().position(|v| !v.is_finite()) {
                None => Ok(()),
                Some(j) => Err(format!("splat {i}: {field}[{j}] is {}", values[j])),
            }
        }
        finite(i, "mean", &self.means[i])?;
        finite(i, "rotation", &self.rotations[i])?;
        let n2 = quat_norm_sq(&self.rotations[i]);
        if n2 == 0.0 {
            return Err(format!("splat {i}: rotation is a zero-length quaternion"));
        }
        // The renderer normalises in f32: the squared length must be a normal f32.
        if !(f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&n2) {
            return Err(format!(
                "splat {i}: rotation {:?} has a length whose square is not a normal f32 \
                 (it cannot be normalised in single precision)",
                self.rotations[i]
            ));
        }
        finite(i, "log_scale", &self.log_scales[i])?;
        if let Some(j) = self.log_scales[i].iter().position(|&v| v > MAX_LOG_SCALE) {
            let v = self.log_scales[i][j];
            return Err(format!(
                "splat {i}: log_scale[{j}] is {v}: its scale exp({v}) overflows f32 \
                 (log-scales above {MAX_LOG_SCALE} cannot be rendered)"
            ));
        }
        finite(i, "opacity_logit", &self.opacity_logits[i..=i])?;
        let sh = &self.sh[i * k * 3..(i + 1) * k * 3];
        finite(i, "sh", sh)
    }

    /// Keeps only the SH coefficients up to `degree` (no change when `degree` is not lower
    /// than the current degree). Lengths must be consistent.
    pub fn truncate_sh_degree(&mut self, degree: u32) {
        if degree >= self.sh_degree {
            return;
        }
        let old = self.coeffs_per_splat() * 3;
        let new = ((degree as usize + 1) * (degree as usize + 1)) * 3;
        for i in 0..self.len() {
            self.sh.copy_within(i * old..i * old + new, i * new);
        }
        self.sh.truncate(self.len() * new);
        self.sh_degree = degree;
    }

    /// Removes every splat that [`Splats::validate`] would reject (a non-finite value, a
    /// zero-length quaternion, a scale that overflows); returns how many were dropped.
    ///
    /// Also tolerates inconsistent lengths: a splat with any of its fields
    /// missing counts as invalid, so afterwards all arrays agree in length.
    pub fn drop_invalid(&mut self) -> usize {
        let n = self.len();
        let k = self.coeffs_per_splat();
        let stride = k * 3;
        let keep = |s: &Splats, i: usize| -> bool {
            let complete = i < s.rotations.len()
                && i < s.log_scales.len()
                && i < s.opacity_logits.len()
                && (i + 1) * stride <= s.sh.len();
            // One rule for validate and for dropping.
            complete && s.check_splat(i, k).is_ok()
        };
        // Compact in place: `w` is the next slot to fill, always <= i.
        let mut w = 0;
        for i in 0..n {
            if keep(self, i) {
                if w != i {
                    self.means[w] = self.means[i];
                    self.rotations[w] = self.rotations[i];
                    self.log_scales[w] = self.log_scales[i];
                    self.opacity_logits[w] = self.opacity_logits[i];
                    self.sh
                        .copy_within(i * stride..(i + 1) * stride, w * stride);
                }
                w += 1;
            }
        }
        self.means.truncate(w);
        self.rotations.truncate(w);
        self.log_scales.truncate(w);
        self.opacity_logits.truncate(w);
        self.sh.truncate(w * stride);
        n - w
    }

    /// Summary statistics over finite values; an empty scene yields zeros.
    pub fn stats(&self) -> SplatStats {
        let mut st = SplatStats {
            count: self.len(),
            sh_degree: self.sh_degree,
            ..SplatStats::default()
        };

        let mut lo = [f32::INFINITY; 3];
        let mut hi = [f32::NEG_INFINITY; 3];
        let mut any_mean = false;
        for m in self
            .means
            .iter()
            .filter(|m| m.iter().all(|v| v.is_finite()))
        {
            any_mean = true;
            for a in 0..3 {
                lo[a] = lo[a].min(m[a]);
                hi[a] = hi[a].max(m[a]);
            }
        }
        if any_mean {
            st.bounds_min = lo;
            st.bounds_max = hi;
        }

        let (mut omin, mut omax, mut osum, mut on) =
            (f32::INFINITY, f32::NEG_INFINITY, 0.0f64, 0usize);
        for &o in self.opacity_logits.iter().filter(|o| o.is_finite()) {
            let a = sigmoid(o);
            omin = omin.min(a);
            omax = omax.max(a);
            osum += f64::from(a);
            on += 1;
        }
        if on > 0 {
            st.opacity_min = omin;
            st.opacity_max = omax;
            st.opacity_mean = (osum / on as f64) as f32;
        }

        // Scales: the largest axis of each splat, activated. Order statistics are taken on
        // the log-scales (exp is monotonic), without a per-splat copy.
        let largest = self
            .log_scales
            .iter()
            .map(|s| s[0].max(s[1]).max(s[2]))
            .filter(|v| v.is_finite());
        if let Some(median) = median_of(largest) {
            let (lo, hi) = self
                .log_scales
                .iter()
                .map(|s| s[0].max(s[1]).max(s[2]))
                .filter(|v| v.is_finite())
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            st.scale_min = lo.exp();
            st.scale_max = hi.exp();
            st.scale_median = median.exp();
        }
        st
    }
}

/// A u32 that orders like `v` (for finite floats and infinities).
fn ordered_bits(v: f32) -> u32 {
    let b = v.to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | 0x8000_0000
    }
}

fn from_ordered_bits(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & 0x7fff_ffff } else { !k })
}

/// The element of rank `len / 2` (the upper median) of the finite values `values` yields,
/// found by a two-pass radix select over their ordered bits: constant memory, however many
/// values. `None` when there are none. `values` must yield the same sequence each time.
fn median_of<I: Iterator<Item = f32> + Clone>(values: I) -> Option<f32> {
    let mut hist = vec![0u64; 1 << 16];
    let mut n = 0u64;
    for v in values.clone() {
        hist[(ordered_bits(v) >> 16) as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    // Find the high half of the key, then the low half among the values that share it.
    let find = |hist: &[u64], mut rank: u64| -> (u32, u64) {
        for (bucket, &c) in hist.iter().enumerate() {
            if rank < c {
                return (bucket as u32, rank);
            }
            rank -= c;
        }
        // Not reached: the rank is below the total count.
        (hist.len() as u32 - 1, 0)
    };
    let (high, rank) = find(&hist, n / 2);
    hist.iter_mut().for_each(|c| *c = 0);
    for v in values {
        let k = ordered_bits(v);
        if k >> 16 == high {
            hist[(k & 0xffff) as usize] += 1;
        }
    }
    let (low, _) = find(&hist, rank);
    Some(from_ordered_bits(high << 16 | low))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Splats {
        Splats {
            means: vec![[0.0, 1.0, 2.0], [-1.0, 5.0, 0.5], [3.0, -2.0, 1.0]],
            rotations: vec![[1.0, 0.0, 0.0, 0.0]; 3],
            log_scales: vec![[0.0, -1.0, -2.0], [1.0, 0.0, 0.0], [-3.0, -3.0, -0.5]],
            opacity_logits: vec![0.0, 100.0, -100.0],
            sh_degree: 1,
            sh: (0..3 * 4 * 3).map(|v| v as f32).collect(),
        }
    }

    #[test]
    fn counts() {
        let s = three();
        assert_eq!(s.len(), 3);
        assert!(!s.is_empty());
        assert_eq!(s.coeffs_per_splat(), 4);
        assert!(Splats::default().is_empty());
        assert_eq!(
            Splats {
                sh_degree: 3,
                ..Default::default()
            }
            .coeffs_per_splat(),
            16
        );
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn validate_names_first_bad_splat_and_field() {
        let mut s = three();
        s.log_scales[1][2] = f32::NAN;
        s.sh[2 * 12 + 5] = f32::INFINITY;
        let e = s.validate().unwrap_err();
        assert!(e.contains("splat 1") && e.contains("log_scale[2]"), "{e}");

        let mut s = three();
        s.rotations[2] = [0.0; 4];
        let e = s.validate().unwrap_err();
        assert!(e.contains("splat 2") && e.contains("zero-length"), "{e}");

        let mut s = three();
        s.sh.pop();
        let e = s.validate().unwrap_err();
        assert!(e.contains("sh has 35 entries, expected 36"), "{e}");

        let mut s = three();
        s.sh_degree = 4;
        assert!(s.validate().is_err());
    }

    #[test]
    fn truncating_sh_keeps_the_low_bands() {
        let mut s = three();
        s.truncate_sh_degree(0);
        assert_eq!(s.sh_degree, 0);
        assert_eq!(
            s.sh,
            vec![0.0, 1.0, 2.0, 12.0, 13.0, 14.0, 24.0, 25.0, 26.0]
        );
        assert_eq!(s.validate(), Ok(()));
        s.truncate_sh_degree(2);
        assert_eq!(s.sh_degree, 0);
    }

    #[test]
    fn drop_invalid_compacts_all_fields() {
        let mut s = three();
        s.means[0][1] = f32::NAN;
        s.rotations[1] = [0.0; 4];
        assert_eq!(s.drop_invalid(), 2);
        assert_eq!(s.len(), 1);
        assert_eq!(s.means, vec![[3.0, -2.0, 1.0]]);
        assert_eq!(s.opacity_logits, vec![-100.0]);
        assert_eq!(s.sh, (24..36).map(|v| v as f32).collect::<Vec<_>>());
        assert_eq!(s.validate(), Ok(()));

        // Inconsistent lengths: the splat without an opacity is dropped.
        let mut s = three();
        s.opacity_logits.pop();
        assert_eq!(s.drop_invalid(), 1);
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn overflowing_scales_and_unnormalisable_rotations_are_invalid() {
        let mut s = three();
        s.log_scales[2][1] = 89.0;
        let e = s.validate().unwrap_err();
        assert!(
            e.contains("splat 2") && e.contains("log_scale[1] is 89") && e.contains("overflows"),
            "{e}"
        );
        // The boundary: exp(MAX_LOG_SCALE) is finite, the next float up is not accepted.
        s.log_scales[2][1] = MAX_LOG_SCALE;
        assert!(s.log_scales[2][1].exp().is_finite());
        assert_eq!(s.validate(), Ok(()));
        s.log_scales[2][1] = f32::from_bits(MAX_LOG_SCALE.to_bits() + 1);
        assert!(s.validate().is_err());
        // Stats report the overflow instead of skipping it, and dropping agrees with validate.
        s.log_scales[2][1] = 89.0;
        assert_eq!(s.stats().scale_max, f32::INFINITY);
        let mut d = s.clone();
        assert_eq!(d.drop_invalid(), 1);
        assert_eq!(d.validate(), Ok(()));

        let mut s = three();
        s.rotations[0] = [1e-30, 0.0, 0.0, 0.0];
        let e = s.validate().unwrap_err();
        assert!(e.contains("splat 0") && e.contains("normal f32"), "{e}");
        s.rotations[0] = [3e38, 3e38, 0.0, 0.0];
        assert!(s.validate().is_err());
        assert_eq!(s.drop_invalid(), 1);
    }

    #[test]
    fn median_without_a_copy_matches_sorting() {
        let mut rng = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for n in [1usize, 2, 3, 10, 1000, 4097] {
            let v: Vec<f32> = (0..n)
                .map(|_| match next() % 5 {
                    0 => -((next() % 1000) as f32) / 7.0,
                    1 => 0.0,
                    2 => -0.0,
                    _ => (next() % 100_000) as f32 / 13.0 - 2000.0,
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(f32::total_cmp);
            let got = median_of(v.iter().copied()).unwrap();
            assert_eq!(got, sorted[n / 2], "n {n}");
        }
        assert_eq!(median_of(std::iter::empty()), None);
        assert_eq!(
            median_of([f32::NEG_INFINITY, 5.0, 1.0].into_iter()),
            Some(1.0)
        );
    }

    #[test]
    fn stats_over_finite_values() {
        let mut s = three();
        s.means.push([f32::NAN, 1e9, 0.0]);
        s.rotations.push([1.0, 0.0, 0.0, 0.0]);
        s.log_scales.push([f32::INFINITY, 0.0, 0.0]);
        s.opacity_logits.push(f32::NAN);
        s.sh.extend([0.0; 12]);
        let st = s.stats();
        assert_eq!(st.count, 4);
        assert_eq!(st.sh_degree, 1);
        assert_eq!(st.bounds_min, [-1.0, -2.0, 0.5]);
        assert_eq!(st.bounds_max, [3.0, 5.0, 2.0]);
        assert_eq!(st.opacity_min, 0.0 + sigmoid(-100.0));
        assert_eq!(st.opacity_max, 1.0);
        assert!((st.opacity_mean - 0.5).abs() < 1e-6);
        assert_eq!(st.scale_min, (-0.5f32).exp());
        assert_eq!(st.scale_median, 1.0);
        assert_eq!(st.scale_max, 1.0f32.exp());

        let empty = Splats::default().stats();
        assert_eq!(empty.count, 0);
        assert_eq!(empty.bounds_min, [0.0; 3]);
        assert_eq!(empty.scale_median, 0.0);
    }
}
