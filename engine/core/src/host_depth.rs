//! A host's depth buffer that occludes splats per pixel, so that a host composites splats with
//! its own rasterised geometry (README, "Embedding in a game engine").
//!
//! Invariants:
//! - Raw host depth becomes linear camera depth (camera z, the scene's units) in one function
//!   per side, with the same f32 operations in the same order: `host_linear_depth` in
//!   `shaders/include/host_depth.glsl` (included by both blend kernels) and
//!   [`OccluderParams::linear`] (the CPU reference). Conventions reduce to three formulas with
//!   two constants computed here once, in f64 and rounded to f32: linear (z = d), perspective
//!   (z = b / (d − a)) and orthographic (z = a + b·d).
//! - A splat does not blend at a pixel when its centre's camera depth is beyond the pixel's
//!   linear host depth (`depth > host`), the far clip plane's rule (a splat is culled when
//!   `depth > far`), so a constant host depth z renders exactly like `far = z`. The centre's
//!   depth decides for the whole splat, as in gsplat-style renderers: a splat has one depth
//!   (the sort key) and no per-pixel surface depth.
//! - NaN and +inf occlude nothing. A raw value at or beyond the convention's far plane (1 for
//!   standard depth, the near end for reversed Z; a cleared depth buffer) is +inf, so cleared
//!   pixels occlude nothing even where the conversion would round to a finite far plane.

/// How a host depth value encodes distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthRange {
    /// Camera depth itself (positive along the view axis, the scene's units).
    Linear,
    /// Depth 0..1 between the near and far planes: Vulkan, Direct3D, and an OpenGL depth
    /// buffer or depth texture (window depth under the default `glDepthRange(0, 1)`).
    ZeroToOne,
    /// OpenGL NDC depth −1..1 (what a vertex shader's z/w gives, before the depth range).
    MinusOneToOne,
}

/// A host depth convention: the range, the planes of the host's projection, and its kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthConvention {
    pub range: DepthRange,
    /// The host projection's near plane (camera depth > 0; ≥ 0 when orthographic). Unused
    /// for [`DepthRange::Linear`].
    pub near: f32,
    /// The far plane (beyond `near`; +inf for an infinite-far perspective). Unused for
    /// [`DepthRange::Linear`].
    pub far: f32,
    /// Reversed Z: the near plane has the larger depth value.
    pub reversed: bool,
    /// An orthographic projection (depth is affine in camera depth).
    pub orthographic: bool,
}

impl DepthConvention {
    /// Linear camera depth.
    pub const LINEAR: DepthConvention = DepthConvention {
        range: DepthRange::Linear,
        near: 0.0,
        far: f32::INFINITY,
        reversed: false,
        orthographic: false,
    };

    /// The conversion constants, or why the convention is invalid (naming the value).
    pub fn params(&self) -> Result<OccluderParams, String> {
        if self.range == DepthRange::Linear {
            return Ok(OccluderParams {
                kind: OCC_LINEAR,
                reversed: false,
                a: 0.0,
                b: 1.0,
                far_raw: f32::INFINITY,
            });
        }
        let (n, f) = (f64::from(self.near), f64::from(self.far));
        let what = if self.orthographic {
            "an orthographic"
        } else {
            "a perspective"
        };
        let near_ok = if self.orthographic { n >= 0.0 } else { n > 0.0 };
        if !(n.is_finite() && near_ok) {
            return Err(format!(
                "host depth near plane {} is not a finite depth {} 0 (for {what} projection)",
                self.near,
                if self.orthographic { ">=" } else { ">" }
            ));
        }
        if f.is_nan() || f <= n || (self.orthographic && f.is_infinite()) {
            return Err(format!(
                "host depth far plane {} is not beyond the near plane {}{}",
                self.far,
                self.near,
                if self.orthographic {
                    " (an orthographic projection has a finite far plane)"
                } else {
                    ""
                }
            ));
        }
        // Window depth w in 0..1 at camera depth z (standard Z; reversed is 1 − w):
        // perspective w = f/(f−n) − f·n/((f−n)·z), orthographic w = (z − n)/(f − n).
        let (kind, mut a, mut b) = match (self.orthographic, self.reversed, f.is_infinite()) {
            (false, false, false) => (OCC_PERSPECTIVE, f / (f - n), -f * n / (f - n)),
            (false, false, true) => (OCC_PERSPECTIVE, 1.0, -n),
            (false, true, false) => (OCC_PERSPECTIVE, -n / (f - n), f * n / (f - n)),
            (false, true, true) => (OCC_PERSPECTIVE, 0.0, n),
            (true, false, _) => (OCC_ORTHOGRAPHIC, n, f - n),
            (true, true, _) => (OCC_ORTHOGRAPHIC, f, -(f - n)),
        };
        let mut far_raw = if self.reversed { 0.0 } else { 1.0 };
        if self.range == DepthRange::MinusOneToOne {
            // NDC d = 2w − 1, so w = (d + 1)/2.
            (a, b) = if kind == OCC_PERSPECTIVE {
                (2.0 * a - 1.0, 2.0 * b)
            } else {
                (a + b / 2.0, b / 2.0)
            };
            far_raw = 2.0 * far_raw - 1.0;
        }
        Ok(OccluderParams {
            kind,
            reversed: self.reversed,
            a: a as f32,
            b: b as f32,
            far_raw: far_raw as f32,
        })
    }
}

/// How raw depth values are stored (host arrays and buffers are f32; depth images copy as
/// their format's texels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawDepthFormat {
    /// One f32 per pixel (D32_SFLOAT, R32_SFLOAT, the depth of D32_SFLOAT_S8_UINT).
    F32,
    /// One 16-bit unsigned normalised value per pixel, two per 32-bit word (D16_UNORM).
    Unorm16,
    /// 24-bit unsigned normalised values in the low bits of 32-bit words (X8_D24_UNORM_PACK32,
    /// the depth of D24_UNORM_S8_UINT).
    Unorm24,
}

impl RawDepthFormat {
    /// Bytes per pixel as copied from an image.
    pub fn texel_bytes(self) -> u64 {
        match self {
            RawDepthFormat::Unorm16 => 2,
            _ => 4,
        }
    }
}

// The occluder header's flags, shared with shaders/include/host_depth.glsl (a unit test checks
// the defines there): the kind in bits 0-1, reversed in bit 2, the raw format in bits 4-5.
/// No occluder: every pixel's host depth is +inf.
pub const OCC_NONE: u32 = 0;
pub const OCC_LINEAR: u32 = 1;
pub const OCC_PERSPECTIVE: u32 = 2;
pub const OCC_ORTHOGRAPHIC: u32 = 3;
pub const OCC_REVERSED: u32 = 4;
pub const OCC_FORMAT_SHIFT: u32 = 4;
pub const OCC_F32: u32 = 0;
pub const OCC_UNORM16: u32 = 1;
pub const OCC_UNORM24: u32 = 2;
/// Bytes of the header before the raw values in the occluder buffer.
pub const OCC_HEADER_BYTES: u64 = 16;

/// The conversion of a [`DepthConvention`]: see the module docs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OccluderParams {
    kind: u32,
    reversed: bool,
    a: f32,
    b: f32,
    far_raw: f32,
}

impl OccluderParams {
    /// The occluder buffer's header for values stored as `format`.
    pub fn header(&self, format: RawDepthFormat) -> [u32; 4] {
        let format = match format {
            RawDepthFormat::F32 => OCC_F32,
            RawDepthFormat::Unorm16 => OCC_UNORM16,
            RawDepthFormat::Unorm24 => OCC_UNORM24,
        };
        let flags =
            self.kind | if self.reversed { OCC_REVERSED } else { 0 } | format << OCC_FORMAT_SHIFT;
        [
            flags,
            self.a.to_bits(),
            self.b.to_bits(),
            self.far_raw.to_bits(),
        ]
    }

    /// Linear camera depth of raw value `d` (host_depth.glsl's `host_linear_depth`).
    pub fn linear(&self, d: f32) -> f32 {
        if self.kind == OCC_LINEAR {
            return d;
        }
        let at_far = if self.reversed {
            d <= self.far_raw
        } else {
            d >= self.far_raw
        };
        if at_far {
            return f32::INFINITY;
        }
        if self.kind == OCC_PERSPECTIVE {
            self.b / (d - self.a)
        } else {
            self.a + self.b * d
        }
    }
}

/// A raw 16-bit unorm depth as f32 (host_depth.glsl's decoding).
pub fn unorm16(v: u16) -> f32 {
    f32::from(v) / 65535.0
}

/// A raw 24-bit unorm depth (low 24 bits of `v`) as f32 (host_depth.glsl's decoding).
pub fn unorm24(v: u32) -> f32 {
    (v & 0xFF_FFFF) as f32 / 16_777_215.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(
        range: DepthRange,
        near: f32,
        far: f32,
        reversed: bool,
        ortho: bool,
    ) -> DepthConvention {
        DepthConvention {
            range,
            near,
            far,
            reversed,
            orthographic: ortho,
        }
    }

    /// The raw value a host writes at camera depth z, in f64.
    fn raw(c: &DepthConvention, z: f64) -> f64 {
        let (n, f) = (f64::from(c.near), f64::from(c.far));
        let w = if c.orthographic {
            (z - n) / (f - n)
        } else if f.is_infinite() {
            1.0 - n / z
        } else {
            f / (f - n) - f * n / ((f - n) * z)
        };
        let w = if c.reversed { 1.0 - w } else { w };
        match c.range {
            DepthRange::MinusOneToOne => 2.0 * w - 1.0,
            _ => w,
        }
    }

    #[test]
    fn every_convention_recovers_camera_depth_and_clears_to_infinity() {
        for range in [DepthRange::ZeroToOne, DepthRange::MinusOneToOne] {
            for reversed in [false, true] {
                for (far, ortho) in [(100.0, false), (f32::INFINITY, false), (100.0, true)] {
                    let c = conv(range, 0.5, far, reversed, ortho);
                    let p = c.params().unwrap();
                    for z in [0.7, 2.0, 5.0, 20.0] {
                        let got = p.linear(raw(&c, z) as f32);
                        assert!(
                            (f64::from(got) - z).abs() < 1e-4 * z,
                            "{c:?} z {z}: got {got}"
                        );
                    }
                    let clear = match (range, reversed) {
                        (_, false) => 1.0,
                        (DepthRange::ZeroToOne, true) => 0.0,
                        _ => -1.0,
                    };
                    assert_eq!(p.linear(clear), f32::INFINITY, "{c:?}");
                    assert!(p.linear(f32::NAN).is_nan());
                }
            }
        }
        let lin = DepthConvention::LINEAR.params().unwrap();
        assert_eq!(lin.linear(3.25), 3.25);
        assert_eq!(lin.linear(f32::INFINITY), f32::INFINITY);
    }

    #[test]
    fn bad_planes_are_refused_naming_them() {
        let bad = [
            (
                conv(DepthRange::ZeroToOne, 0.0, 10.0, false, false),
                "near plane 0",
            ),
            (
                conv(DepthRange::ZeroToOne, -1.0, 10.0, false, true),
                "near plane -1",
            ),
            (
                conv(DepthRange::ZeroToOne, f32::NAN, 10.0, false, false),
                "near plane NaN",
            ),
            (
                conv(DepthRange::ZeroToOne, 1.0, f32::NAN, false, false),
                "far plane NaN",
            ),
            (
                conv(DepthRange::ZeroToOne, 1.0, 1.0, false, false),
                "far plane 1",
            ),
            (
                conv(DepthRange::MinusOneToOne, 1.0, -5.0, true, false),
                "far plane -5",
            ),
            (
                conv(DepthRange::ZeroToOne, 1.0, f32::INFINITY, false, true),
                "orthographic",
            ),
        ];
        for (c, want) in bad {
            let e = c.params().unwrap_err();
            assert!(e.contains(want), "{c:?}: {e}");
        }
    }

    #[test]
    fn unorm_decoding_spans_zero_to_one() {
        assert_eq!(unorm16(0), 0.0);
        assert_eq!(unorm16(65535), 1.0);
        assert_eq!(unorm24(0xFF_FFFF), 1.0);
        assert_eq!(unorm24(0xAB00_0000), 0.0); // the X8 bits are ignored
    }

    #[test]
    fn glsl_defines_agree() {
        let glsl = include_str!("../../../shaders/include/host_depth.glsl");
        for (name, v) in [
            ("OCC_NONE", OCC_NONE),
            ("OCC_LINEAR", OCC_LINEAR),
            ("OCC_PERSPECTIVE", OCC_PERSPECTIVE),
            ("OCC_ORTHOGRAPHIC", OCC_ORTHOGRAPHIC),
            ("OCC_REVERSED", OCC_REVERSED),
            ("OCC_FORMAT_SHIFT", OCC_FORMAT_SHIFT),
            ("OCC_F32", OCC_F32),
            ("OCC_UNORM16", OCC_UNORM16),
            ("OCC_UNORM24", OCC_UNORM24),
        ] {
            let line = format!("#define {name} {v}u\n");
            assert!(
                glsl.contains(&line),
                "host_depth.glsl lacks `{}`",
                line.trim()
            );
        }
    }
}
