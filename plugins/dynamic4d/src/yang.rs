//! Native 4D Gaussians of Yang et al., "Real-time Photorealistic Dynamic Scene Representation
//! and Rendering with 4D Gaussian Splatting" (ICLR 2024; fudan-zvg/4d-gaussian-splatting,
//! MIT): each splat is a Gaussian in (x, y, z, t); a frame at time t is its slice.
//!
//! # The PLY
//! The field names of mosure/bevy_gaussian_splatting's 4D PLY reader (`tools/yang4d_to_ply.py`
//! writes them from the reference's checkpoint). Vertex element, any order, any scalar type:
//!
//! | fields | value |
//! |---|---|
//! | `x y z` | mean μ |
//! | `t` | temporal mean t₀ |
//! | `sx sy sz`, `st` | the four scales, **activated** (e^{raw}, > 0) |
//! | `opacity` | **activated** (σ(raw), in [0, 1]) |
//! | `rot_x rot_y rot_z rot_w` | left quaternion q_l in the reference's component order: the scalar part first (in `rot_x`; the names are bevy's) |
//! | `rot_r_x … rot_r_w` | right quaternion q_r, likewise |
//! | `feat_r_k feat_g_k feat_b_k` | SH coefficient k of each channel; k = 16·b + j for time band b and SH index j; 1, 4, 9 or 16 coefficients (no time bands), 32 or 48 (degree 3 with 1 or 2 time bands) |
//!
//! An optional header line `comment time_range A B` gives the scene's time span (the
//! reference's `time_duration` config); without it the range is [min t₀, max t₀].
//!
//! # Per frame
//! With R the 4D rotation of (q_l, q_r) (see [`rotation_4d`]) and S = diag(sx, sy, sz, st),
//! Σ₄ = R S² Rᵀ. At time t, dt = t − t₀:
//!
//! ```text
//! σ_t² = Σ₄[3][3];  p(t) = exp(−½ dt² / σ_t²)        (hidden when p ≤ cutoff, 0.05 as the reference)
//! μ(t) = μ + Σ₄[0:3,3] / σ_t² · dt
//! Σ₃   = Σ₄[0:3,0:3] − Σ₄[0:3,3] Σ₄[0:3,3]ᵀ / σ_t²   (does not depend on t)
//! α(t) = opacity · p(t)
//! SH'_j = SH_j + cos(2π dt'/T) SH_{16+j} + cos(4π dt'/T) SH_{32+j},  dt' = t₀ − t
//! ```
//!
//! T is the `duration` parameter, else the span of the file's `time_range`, else max t₀ − min
//! t₀. Σ₃ and the velocity Σ₄[0:3,3]/σ_t² are computed once, in f64, when the file is read; the
//! covariances are uploaded once, and each frame writes the means, the opacity multiplier
//! p(t) (the opacity itself is the static logit) and, with time bands, the SH.
//!
//! Differences from the reference renderer: its CUDA kernel evaluates the SH view direction
//! from the un-shifted mean, vksplat from μ(t); its optional time prefilter (`prefilter_var`)
//! is not applied.

use std::ffi::{CStr, CString};
use std::path::Path;

use vksplat_plugin_sdk::abi::{
    VKSPLAT_OUTPUT_MEANS, VKSPLAT_OUTPUT_OPACITY_SCALE, VKSPLAT_OUTPUT_SH,
};
use vksplat_plugin_sdk::{
    Description, Error, FrameInput, GpuStage, Param, Shader, SplatArrays, SplatData,
};

use crate::{FormatModel, CULL};

/// The PLY properties that mark a native 4D Gaussian file.
pub const DETECT: &[&str] = &["t", "st", "rot_r_x"];

/// The scalar PLY properties the model reads (the SH `feat_*` follow).
pub const FIELDS: [&str; 17] = [
    "x", "y", "z", "t", "st", "sx", "sy", "sz", "opacity", "rot_x", "rot_y", "rot_z", "rot_w",
    "rot_r_x", "rot_r_y", "rot_r_z", "rot_r_w",
];

/// SH coefficients per channel per time band (degree 3).
const K3: usize = 16;

/// `cutoff`: the reference hides a splat whose temporal marginal p(t) is at most 0.05.
pub const CUTOFF: Param = Param::float(
    c"cutoff",
    c"hide splats whose temporal marginal p(t) is at most this (the reference: 0.05)",
    0.0,
    1.0,
    0.05,
);

/// `duration`: T of the time harmonics (0: from the file).
pub const DURATION: Param = Param::float(
    c"duration",
    c"period T of the time-harmonic colour (0: the file's time_range span, else max t - min t)",
    0.0,
    1e9,
    0.0,
);

// ---------------------------------------------------------------------------------------
// The math, in f64.

/// A 4×4 matrix, `m[row][col]`.
pub type Mat4 = [[f64; 4]; 4];

fn mul(a: &Mat4, b: &Mat4) -> Mat4 {
    std::array::from_fn(|r| std::array::from_fn(|c| (0..4).map(|k| a[r][k] * b[k][c]).sum()))
}

/// The 4D rotation of unit quaternions q_l = (a, b, c, d) and q_r = (p, q, r, s), as the
/// reference's Python `build_rotation_4d` builds it: the left-isoclinic matrix M_l(q_l) times
/// the right-isoclinic M_r(q_r), with rows and columns then reversed. (Its CUDA kernel builds
/// the transpose of this, see the golden test.) A rotation u = (w, x, y, z) of space alone
/// is q_l = q_r = (w, −z, −y, −x); products compose: R(q₁,r₁)·R(q₂,r₂) = R(q₁q₂, r₁r₂).
pub fn rotation_4d(ql: [f64; 4], qr: [f64; 4]) -> Mat4 {
    let [a, b, c, d] = ql;
    let [p, q, r, s] = qr;
    let ml = [[a, -b, -c, -d], [b, a, -d, c], [c, d, a, -b], [d, -c, b, a]];
    let mr = [[p, q, r, s], [-q, p, -s, r], [-r, s, p, -q], [-s, -r, q, p]];
    let m = mul(&ml, &mr);
    std::array::from_fn(|i| std::array::from_fn(|j| m[3 - i][3 - j]))
}

/// Σ₄ = R S² Rᵀ for unit quaternions and the four (activated) scales.
pub fn covariance_4d(ql: [f64; 4], qr: [f64; 4], scales: [f64; 4]) -> Mat4 {
    let r = rotation_4d(ql, qr);
    std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            (0..4)
                .map(|k| r[i][k] * scales[k] * scales[k] * r[j][k])
                .sum()
        })
    })
}

/// A 4D Gaussian sliced at a time: what does not change with t.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slice {
    /// σ_t² = Σ₄[3][3].
    pub var_t: f64,
    /// dμ/dt = Σ₄[0:3,3] / σ_t².
    pub velocity: [f64; 3],
    /// Σ₃ (xx, xy, xz, yy, yz, zz).
    pub cov: [f64; 6],
}

/// The conditional (sliced) Gaussian of Σ₄.
pub fn slice(s: &Mat4) -> Slice {
    let v = s[3][3];
    let c = [s[0][3], s[1][3], s[2][3]];
    let cond = |i: usize, j: usize| s[i][j] - c[i] * c[j] / v;
    Slice {
        var_t: v,
        velocity: c.map(|x| x / v),
        cov: [
            cond(0, 0),
            cond(0, 1),
            cond(0, 2),
            cond(1, 1),
            cond(1, 2),
            cond(2, 2),
        ],
    }
}

/// `q / |q|` in f64, or None for a zero (or non-finite) quaternion.
fn normalized(q: [f32; 4]) -> Option<[f64; 4]> {
    let q = q.map(f64::from);
    let n = q.iter().map(|c| c * c).sum::<f64>().sqrt();
    (n > 0.0 && n.is_finite()).then(|| q.map(|c| c / n))
}

// ---------------------------------------------------------------------------------------
// Per frame, f32: the CPU path and `yang.comp` do these operations in this order.

/// Floats per splat in the static buffer (`yang.comp`'s `STRIDE`): mean (3), t₀, velocity
/// (3), ½/σ_t², opacity.
pub const STRIDE: usize = 9;

/// One splat at time `t` from its [`STRIDE`] floats: its mean and opacity multiplier (0 when
/// hidden).
pub fn evaluate(d: &[f32], t: f32, cutoff: f32, cull: f32) -> ([f32; 3], f32) {
    let dt = t - d[3];
    let p = (-(d[7] * (dt * dt))).exp();
    let scale = if p <= cutoff || d[8] * p < cull {
        0.0
    } else {
        p
    };
    let mean = std::array::from_fn(|a| d[a] + d[4 + a] * dt);
    (mean, scale)
}

/// The time-band weights (cos 2π dt'/T, cos 4π dt'/T) of a splat at t₀ at time `t`, with
/// `inv_duration` = 1/T.
pub fn band_weights(t0: f32, t: f32, inv_duration: f32) -> (f32, f32) {
    let dt = t - t0;
    let x = -dt * inv_duration;
    let tau = std::f32::consts::TAU;
    ((tau * x).cos(), (2.0 * tau * x).cos())
}

// ---------------------------------------------------------------------------------------
// Files.

/// One splat as the PLY stores it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct YangSplat {
    pub mean: [f32; 3],
    pub t: f32,
    /// `st`, activated.
    pub scale_t: f32,
    /// `sx sy sz`, activated.
    pub scale: [f32; 3],
    /// Activated, in [0, 1].
    pub opacity: f32,
    /// q_l, scalar part first (`rot_x` … `rot_w`).
    pub rot_l: [f32; 4],
    /// q_r, scalar part first (`rot_r_x` … `rot_r_w`).
    pub rot_r: [f32; 4],
    /// `coeffs × 3` SH values, `[k·3 + channel]`.
    pub features: Vec<f32>,
}

/// A native 4D Gaussian scene, as [`write_ply`] writes it.
#[derive(Clone, Debug, Default)]
pub struct YangScene {
    pub splats: Vec<YangSplat>,
    /// SH coefficients per channel: 1, 4, 9, 16, 32 or 48.
    pub coeffs: usize,
    /// Written as `comment time_range A B`.
    pub time_range: Option<(f32, f32)>,
}

fn feat_name(channel: usize, k: usize) -> String {
    format!("feat_{}_{k}", ["r", "g", "b"][channel])
}

/// Writes a scene in this module's PLY convention (binary little-endian floats).
pub fn write_ply(path: &Path, scene: &YangScene) -> Result<(), Error> {
    let n = scene.splats.len();
    let mut cols: Vec<Vec<f32>> = vec![Vec::with_capacity(n); FIELDS.len() + 3 * scene.coeffs];
    for s in &scene.splats {
        if s.features.len() != 3 * scene.coeffs {
            return Err(format!(
                "{}: a splat has {} SH values, not 3 × {}",
                path.display(),
                s.features.len(),
                scene.coeffs
            ));
        }
        let scalars = [
            s.mean[0], s.mean[1], s.mean[2], s.t, s.scale_t, s.scale[0], s.scale[1], s.scale[2],
            s.opacity, s.rot_l[0], s.rot_l[1], s.rot_l[2], s.rot_l[3], s.rot_r[0], s.rot_r[1],
            s.rot_r[2], s.rot_r[3],
        ];
        for (c, v) in cols.iter_mut().zip(scalars) {
            c.push(v);
        }
        for channel in 0..3 {
            for k in 0..scene.coeffs {
                cols[FIELDS.len() + channel * scene.coeffs + k].push(s.features[3 * k + channel]);
            }
        }
    }
    let names: Vec<String> = FIELDS
        .iter()
        .map(|s| s.to_string())
        .chain((0..3).flat_map(|c| (0..scene.coeffs).map(move |k| feat_name(c, k))))
        .collect();
    let columns: Vec<(&str, &[f32])> = names
        .iter()
        .zip(&cols)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let comment = scene.time_range.map(|(a, b)| format!("time_range {a} {b}"));
    let comments: Vec<&str> = comment.iter().map(String::as_str).collect();
    vksplat_io::ply::write_columns(path, &columns, &comments).map_err(|e| e.to_string())
}

/// How many SH coefficients per channel the `feat_*` properties hold.
fn feature_count(path: &Path, properties: &[String]) -> Result<usize, Error> {
    let has = |name: &str| properties.iter().any(|p| p == name);
    let mut k = 0;
    while (0..3).all(|c| has(&feat_name(c, k))) {
        k += 1;
    }
    let stray = properties.iter().find(|p| {
        p.strip_prefix("feat_")
            .and_then(|rest| rest.get(2..))
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|i| i >= k)
    });
    if let Some(p) = stray {
        return Err(format!(
            "{}: property '{p}' without all of feat_r/g/b_0..{k} before it (each channel needs \
             the same coefficients)",
            path.display()
        ));
    }
    if ![1, 4, 9, 16, 32, 48].contains(&k) {
        return Err(format!(
            "{}: {k} SH coefficients per channel (feat_r_0..); a native 4D Gaussian PLY has 1, \
             4, 9 or 16 (SH degree 0-3) or 32 or 48 (degree 3 with 1 or 2 time bands)",
            path.display()
        ));
    }
    Ok(k)
}

/// The `comment time_range A B` of a header, if any.
fn time_range_comment(path: &Path, comments: &[String]) -> Result<Option<(f64, f64)>, Error> {
    for c in comments {
        let Some(rest) = c.strip_prefix("time_range") else {
            continue;
        };
        let v: Vec<f64> = rest
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| {
                format!(
                    "{}: header comment 'time_range{rest}' is not two numbers",
                    path.display()
                )
            })?;
        return match v[..] {
            [a, b] if a.is_finite() && b.is_finite() && a <= b => Ok(Some((a, b))),
            _ => Err(format!(
                "{}: header comment 'time_range{rest}' must be two finite numbers A <= B",
                path.display()
            )),
        };
    }
    Ok(None)
}

const BAND_NAMES: [&CStr; 9] = [
    c"sh_band0_r",
    c"sh_band0_g",
    c"sh_band0_b",
    c"sh_band1_r",
    c"sh_band1_g",
    c"sh_band1_b",
    c"sh_band2_r",
    c"sh_band2_g",
    c"sh_band2_b",
];

const SHADER: &str = include_str!("../shaders/yang.comp");

/// The native 4D Gaussian model of one file, ready to evaluate.
pub struct Yang {
    count: usize,
    sh_degree: u32,
    /// Time bands of the SH (1: the colour does not change with time).
    bands: usize,
    /// Per splat, [`STRIDE`] floats (see there).
    dynamic: Vec<f32>,
    covariances: Vec<f32>,
    opacity_logits: Vec<f32>,
    /// With one band: the static SH, `[(i·K + k)·3 + c]`. Otherwise empty.
    sh: Vec<f32>,
    /// With time bands: `3 · bands` planes (band-major, then r, g, b) of `count × 16`.
    planes: Vec<Vec<f32>>,
    time_range: (f64, f64),
    shader: CString,
}

fn room(path: &Path, n: usize) -> impl Fn(std::collections::TryReserveError) -> Error + '_ {
    move |_| format!("{}: {n} splats do not fit in memory", path.display())
}

impl Yang {
    /// Reads a native 4D Gaussian PLY.
    pub fn read_ply(path: &Path) -> Result<Yang, Error> {
        let info = vksplat_io::ply::read_vertex_info(path).map_err(|e| e.to_string())?;
        let coeffs = feature_count(path, &info.properties)?;
        let names: Vec<String> = FIELDS
            .iter()
            .map(|s| s.to_string())
            .chain((0..coeffs).flat_map(|k| (0..3).map(move |c| feat_name(c, k))))
            .collect();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let columns = vksplat_io::ply::read_columns(path, &name_refs).map_err(|e| e.to_string())?;
        let n = columns.len();
        if n == 0 {
            return Err(format!("{}: has no splats", path.display()));
        }
        let cols: Vec<&[f32]> = (0..names.len()).map(|c| columns.column(c)).collect();
        for (c, col) in cols.iter().enumerate() {
            if let Some(i) = col.iter().position(|v| !v.is_finite()) {
                return Err(format!(
                    "{}: splat {i}: property '{}' is {} (values must be finite)",
                    path.display(),
                    names[c],
                    col[i]
                ));
            }
        }
        let (k_spatial, bands) = if coeffs > K3 {
            (K3, coeffs / K3)
        } else {
            (coeffs, 1)
        };
        let mut model = Yang {
            count: n,
            sh_degree: (k_spatial as f64).sqrt() as u32 - 1,
            bands,
            dynamic: Vec::new(),
            covariances: Vec::new(),
            opacity_logits: Vec::new(),
            sh: Vec::new(),
            planes: Vec::new(),
            time_range: (0.0, 0.0),
            shader: CString::new(SHADER.replacen(
                "#version 450\n",
                &format!("#version 450\n#define YANG_BANDS {bands}\n"),
                1,
            ))
            .map_err(|e| format!("shader source: {e}"))?,
        };
        model
            .dynamic
            .try_reserve_exact(n * STRIDE)
            .map_err(room(path, n))?;
        model
            .covariances
            .try_reserve_exact(n * 6)
            .map_err(room(path, n))?;
        model
            .opacity_logits
            .try_reserve_exact(n)
            .map_err(room(path, n))?;
        let (mut t_min, mut t_max) = (f64::INFINITY, f64::NEG_INFINITY);
        // Row i across all columns.
        #[allow(clippy::needless_range_loop)]
        for i in 0..n {
            let v = |c: usize| cols[c][i];
            let bad = |field: &str, value: f32, rule: &str| {
                format!(
                    "{}: splat {i}: property '{field}' is {value}; {rule}",
                    path.display()
                )
            };
            for (c, field) in [(4, "st"), (5, "sx"), (6, "sy"), (7, "sz")] {
                if v(c) <= 0.0 {
                    return Err(bad(
                        field,
                        v(c),
                        "this format stores activated scales (e^scale, > 0), see the README",
                    ));
                }
            }
            if !(0.0..=1.0).contains(&v(8)) {
                return Err(bad(
                    "opacity",
                    v(8),
                    "this format stores the activated opacity (sigmoid, in [0, 1]), see the README",
                ));
            }
            let quat = |c: usize, name: &str| {
                normalized([v(c), v(c + 1), v(c + 2), v(c + 3)]).ok_or_else(|| {
                    format!("{}: splat {i}: quaternion {name} is zero", path.display())
                })
            };
            let ql = quat(9, "rot_x..rot_w")?;
            let qr = quat(13, "rot_r_x..rot_r_w")?;
            let scales = [v(5), v(6), v(7), v(4)].map(f64::from);
            let s = slice(&covariance_4d(ql, qr, scales));
            let finite = s.cov.iter().chain(&s.velocity).all(|x| x.is_finite());
            if s.var_t.is_nan() || s.var_t <= 0.0 || !finite {
                return Err(format!(
                    "{}: splat {i}: its 4D covariance has no finite time slice (scales too \
                     small or too large)",
                    path.display()
                ));
            }
            let t0 = v(3);
            t_min = t_min.min(t0 as f64);
            t_max = t_max.max(t0 as f64);
            model.dynamic.extend_from_slice(&[v(0), v(1), v(2), t0]);
            model.dynamic.extend(s.velocity.map(|x| x as f32));
            // ½/σ_t² overflows only for σ_t below 1e-19: f32::MAX keeps p = 1 at dt = 0.
            model.dynamic.push(((0.5 / s.var_t) as f32).min(f32::MAX));
            model.dynamic.push(v(8));
            model.covariances.extend(s.cov.map(|x| x as f32));
            // The static logit of the opacity (σ(±30) is 1 or below 1e-13 in f32).
            let o = f64::from(v(8));
            model
                .opacity_logits
                .push((o / (1.0 - o)).ln().clamp(-30.0, 30.0) as f32);
        }
        let feat = |k: usize, c: usize| cols[FIELDS.len() + 3 * k + c];
        if bands == 1 {
            model
                .sh
                .try_reserve_exact(n * coeffs * 3)
                .map_err(room(path, n))?;
            for i in 0..n {
                for k in 0..coeffs {
                    for c in 0..3 {
                        model.sh.push(feat(k, c)[i]);
                    }
                }
            }
        } else {
            for b in 0..bands {
                for c in 0..3 {
                    let mut plane = Vec::new();
                    plane.try_reserve_exact(n * K3).map_err(room(path, n))?;
                    for i in 0..n {
                        plane.extend((0..K3).map(|j| feat(K3 * b + j, c)[i]));
                    }
                    model.planes.push(plane);
                }
            }
        }
        model.time_range = time_range_comment(path, &columns.comments)?.unwrap_or((t_min, t_max));
        Ok(model)
    }

    /// 1/T for a frame.
    fn inv_duration(&self, input: &FrameInput) -> f32 {
        let given = input.scalar("duration");
        let span = self.time_range.1 - self.time_range.0;
        let t = if given > 0.0 {
            given
        } else if span > 0.0 {
            span
        } else {
            1.0
        };
        (1.0 / t) as f32
    }

    /// The splats' count.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no splats (never, for a model that was read).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl FormatModel for Yang {
    fn describe(&self) -> Description<'_> {
        let sh_out = if self.bands > 1 { VKSPLAT_OUTPUT_SH } else { 0 };
        Description {
            splat_count: self.count as u64,
            sh_degree: self.sh_degree,
            covariance: true,
            opacity_scale: true,
            outputs: VKSPLAT_OUTPUT_MEANS | VKSPLAT_OUTPUT_OPACITY_SCALE | sh_out,
            params: vec![CULL, CUTOFF, DURATION],
            initial: SplatData {
                covariances: Some(&self.covariances),
                opacity_logits: Some(&self.opacity_logits),
                sh: (self.bands == 1).then_some(self.sh.as_slice()),
                ..Default::default()
            },
            time_range: Some(self.time_range),
        }
    }

    fn gpu_stage(&self) -> Result<GpuStage<'_>, Error> {
        let mut buffers = vec![(c"yang", crate::bytes_of(&self.dynamic))];
        for (name, plane) in BAND_NAMES.iter().zip(&self.planes) {
            buffers.push((*name, crate::bytes_of(plane)));
        }
        Ok(GpuStage {
            name: c"yang.comp",
            shader: Shader::Glsl(&self.shader),
            push_constant_size: 32,
            buffers,
            frame_buffer_size: 0,
            invocations: self.count as u64,
        })
    }

    fn gpu_frame(
        &mut self,
        input: &FrameInput,
        push: &mut [u8],
        _frame: &mut [u8],
    ) -> Result<(), Error> {
        crate::put_words(
            push,
            &[
                (input.time as f32).to_bits(),
                (input.scalar("cull") as f32).to_bits(),
                (input.scalar("cutoff") as f32).to_bits(),
                self.inv_duration(input).to_bits(),
                self.count as u32,
                0,
                0,
                0,
            ],
        );
        Ok(())
    }

    fn cpu_frame(&mut self, input: &FrameInput, out: &mut SplatArrays) -> Result<(), Error> {
        let (Some(means), Some(opacity)) =
            (out.means.as_deref_mut(), out.opacity_scale.as_deref_mut())
        else {
            return Err("the host did not pass the declared output arrays".into());
        };
        let t = input.time as f32;
        let (cutoff, cull) = (input.scalar("cutoff") as f32, input.scalar("cull") as f32);
        for (i, d) in self.dynamic.chunks_exact(STRIDE).enumerate() {
            let (m, f) = evaluate(d, t, cutoff, cull);
            means[3 * i..3 * i + 3].copy_from_slice(&m);
            opacity[i] = f;
        }
        if self.bands > 1 {
            let Some(sh) = out.sh.as_deref_mut() else {
                return Err("the host did not pass the declared SH array".into());
            };
            let inv = self.inv_duration(input);
            for (i, d) in self.dynamic.chunks_exact(STRIDE).enumerate() {
                let (c1, c2) = band_weights(d[3], t, inv);
                for c in 0..3 {
                    for j in 0..K3 {
                        let s = K3 * i + j;
                        let mut v = self.planes[c][s] + c1 * self.planes[3 + c][s];
                        if self.bands > 2 {
                            v += c2 * self.planes[6 + c][s];
                        }
                        sh[s * 3 + c] = v;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
