//! IEEE 754 binary16 ("half") conversions: the one implementation every part of vksplat uses
//! (OpenEXR HALF pixels, SPZ v1 positions, half-precision SH on the GPU, test fixtures).
//!
//! Invariants: [`f32_to_half`] rounds to nearest, ties to even (as OpenEXR's `half`, numpy's
//! `float16` and GLSL's `packHalf2x16` on conforming devices do), overflows to ±infinity,
//! keeps NaN a NaN (quiet, with the top payload bits) and keeps the sign of zero;
//! [`half_to_f32`] is exact, so `f32_to_half(half_to_f32(h)) == h` for every non-NaN `h`.

/// The nearest half to `f` (ties to even), as its bit pattern.
pub fn f32_to_half(f: f32) -> u16 {
    let x = f.to_bits();
    let sign = ((x >> 16) & 0x8000) as u16;
    let exp = ((x >> 23) & 0xff) as i32;
    let man = x & 0x7f_ffff;
    if exp == 0xff {
        // Infinity, or NaN with a quiet bit set so that the payload cannot round to infinity.
        let nan = if man != 0 {
            0x200 | (man >> 13) as u16
        } else {
            0
        };
        return sign | 0x7c00 | nan;
    }
    // The exponent rebased to half's bias of 15.
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        // A half subnormal (or zero): the value in units of 2^-24, rounded. Below half a unit
        // (shift > 24) everything rounds to zero; f32 subnormals are far below that.
        let shift = (14 - e) as u32;
        if shift > 24 {
            return sign;
        }
        let m = man | 0x80_0000;
        let mut k = m >> shift;
        let rem = m & ((1 << shift) - 1);
        let halfway = 1 << (shift - 1);
        if rem > halfway || (rem == halfway && k & 1 == 1) {
            // May carry into the smallest normal (0x400), which is the right encoding.
            k += 1;
        }
        return sign | k as u16;
    }
    let mut h = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    if rem > 0x1000 || (rem == 0x1000 && h & 1 == 1) {
        // A carry out of the mantissa steps the exponent, up to infinity: both correct.
        h += 1;
    }
    sign | h as u16
}

/// The exact f32 value of half `h`.
pub fn half_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match exp {
        0 if man == 0 => sign,
        0 => {
            // Subnormal: normalise the mantissa into f32's implicit-bit form.
            let lead = man.leading_zeros() - 21; // shifts until bit 10 is set
            let man = (man << lead) & 0x3ff;
            let exp = 127 - 15 + 1 - lead;
            sign | (exp << 23) | (man << 13)
        }
        0x1f => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_half_round_trips() {
        for h in 0..=u16::MAX {
            let f = half_to_f32(h);
            if f.is_nan() {
                assert!(h & 0x7c00 == 0x7c00 && h & 0x3ff != 0, "{h:#06x}");
                assert!(half_to_f32(f32_to_half(f)).is_nan(), "{h:#06x}");
            } else {
                assert_eq!(f32_to_half(f), h, "{h:#06x} -> {f:e}");
            }
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(half_to_f32(0x3c00), 1.0);
        assert_eq!(half_to_f32(0xc000), -2.0);
        assert_eq!(half_to_f32(0x7bff), 65504.0);
        assert_eq!(half_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(half_to_f32(0x0400), 2f32.powi(-14));
        assert_eq!(half_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f32_to_half(65504.0), 0x7bff);
        // Halfway between 65504 and the next (65536 would be the next step): rounds to inf.
        assert_eq!(f32_to_half(65520.0), 0x7c00);
        assert_eq!(f32_to_half(65519.0), 0x7bff);
        assert_eq!(f32_to_half(1e10), 0x7c00);
        assert_eq!(f32_to_half(-1e10), 0xfc00);
        assert_eq!(f32_to_half(f32::INFINITY), 0x7c00);
        assert_eq!(f32_to_half(-0.0), 0x8000);
        assert_eq!(f32_to_half(f32::MIN_POSITIVE / 2.0), 0);
        assert_eq!(f32_to_half(f32::NAN) & 0x7e00, 0x7e00);
        // Ties to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
        assert_eq!(f32_to_half(1.0 + 2f32.powi(-11)), 0x3c00);
        assert_eq!(f32_to_half(1.0 + 3.0 * 2f32.powi(-11)), 0x3c02);
        assert_eq!(f32_to_half(1.0 + 2f32.powi(-11) + 2f32.powi(-20)), 0x3c01);
        // Subnormals: half a unit (2^-25) rounds to even (0), just above it to 1 unit.
        assert_eq!(f32_to_half(2f32.powi(-25)), 0);
        assert_eq!(f32_to_half(2f32.powi(-25) * 1.001), 1);
        assert_eq!(f32_to_half(3.0 * 2f32.powi(-25)), 2);
        // The largest subnormal rounds up into the smallest normal.
        assert_eq!(f32_to_half(2f32.powi(-14) - 2f32.powi(-26)), 0x0400);
        assert_eq!(f32_to_half(0.1), 0x2e66);
        assert_eq!(f32_to_half(5.960_464_5e-8), 0x0001);
        assert_eq!(f32_to_half(-5.960_464_5e-8), 0x8001);
        assert!(half_to_f32(0x7e00).is_nan());
        assert_eq!(half_to_f32(0xfc00), f32::NEG_INFINITY);
    }

    /// `half_to_f32` against the binary16 definition, (−1)^s · 2^(e−15) · (1 + m/1024)
    /// (subnormals 2^−14 · m/1024), evaluated independently in f64 for all 65536 patterns.
    #[test]
    fn every_half_decodes_to_its_definition() {
        for h in 0..=u16::MAX {
            let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
            let e = i32::from((h >> 10) & 0x1f);
            let m = f64::from(h & 0x3ff);
            let f = half_to_f32(h);
            match e {
                31 if m == 0.0 => assert_eq!(f64::from(f), sign * f64::INFINITY, "{h:#06x}"),
                31 => assert!(f.is_nan(), "{h:#06x}"),
                0 => assert_eq!(f64::from(f), sign * 2f64.powi(-14) * m / 1024.0, "{h:#06x}"),
                _ => assert_eq!(
                    f64::from(f),
                    sign * 2f64.powi(e - 15) * (1.0 + m / 1024.0),
                    "{h:#06x}"
                ),
            }
            assert_eq!(f.is_sign_negative(), h & 0x8000 != 0, "{h:#06x}");
        }
    }

    /// Every tie between two neighbouring finite halves (their midpoint is exact in f32)
    /// rounds to the even one, and one f32 step either side of it rounds to the nearer one:
    /// round-to-nearest-even checked at every boundary, both signs.
    #[test]
    fn every_midpoint_rounds_to_even() {
        for sign in [0u16, 0x8000] {
            for lo in 0..0x7bffu16 {
                let (a, b) = (half_to_f32(sign | lo), half_to_f32(sign | (lo + 1)));
                let mid = ((f64::from(a) + f64::from(b)) / 2.0) as f32;
                assert_eq!(f64::from(mid), (f64::from(a) + f64::from(b)) / 2.0);
                let even = if lo & 1 == 0 { lo } else { lo + 1 };
                assert_eq!(f32_to_half(mid), sign | even, "tie {lo:#06x}");
                // Towards a (down in magnitude) and towards b, one f32 ulp.
                let toward_a = f32::from_bits(mid.to_bits() - 1);
                let toward_b = f32::from_bits(mid.to_bits() + 1);
                assert_eq!(f32_to_half(toward_a), sign | lo, "below {lo:#06x}");
                assert_eq!(f32_to_half(toward_b), sign | (lo + 1), "above {lo:#06x}");
            }
        }
    }

    /// Against a brute-force nearest search over all finite halves (f64 distances).
    #[test]
    fn rounding_matches_nearest_search() {
        let finite: Vec<(u16, f64)> = (0..0x7c00u16)
            .map(|h| (h, f64::from(half_to_f32(h))))
            .collect();
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Magnitudes from 2^-30 to 2^16 with random mantissas.
            let f = f32::from_bits(((97 + (x % 50) as u32) << 23) | (x >> 40) as u32 & 0x7f_ffff);
            let v = f64::from(f);
            let i = finite.partition_point(|&(_, hv)| hv < v);
            let below = finite[i.saturating_sub(1)];
            let want = match finite.get(i) {
                None => {
                    // Above the largest finite half: infinity past the rounding midpoint.
                    if v >= 65520.0 {
                        0x7c00
                    } else {
                        0x7bff
                    }
                }
                Some(&above) => {
                    let (db, da) = (v - below.1, above.1 - v);
                    if da < db || (da == db && above.0 & 1 == 0) {
                        above.0
                    } else {
                        below.0
                    }
                }
            };
            assert_eq!(f32_to_half(f), want, "{f:e}");
        }
    }
}
