//! Spacetime Gaussians "lite" (oppo-us-research/SpacetimeGaussians, MIT): polynomial motion,
//! a temporal radial basis opacity and a linearly rotating quaternion per splat.
//!
//! PLY fields (vertex element, any order, any scalar type): `x y z trbf_center trbf_scale
//! motion_0..8 f_dc_0..2 opacity scale_0..2 rot_0..3 omega_0..3` (`nx ny nz` and anything
//! else are ignored). `f_dc_*` is a plain RGB colour, `opacity` a logit, `scale_*` natural
//! logs, `rot_*` a quaternion w, x, y, z. With Δ = t − trbf_center, per frame:
//!
//! ```text
//! μ(t) = μ + m₀₋₂ Δ + m₃₋₅ Δ² + m₆₋₈ Δ³
//! α(t) = σ(opacity) · f,  f = exp(−(Δ · e^(−trbf_scale))²)
//! q(t) = normalize(q + Δ ω)            (identity if q + Δ ω is zero)
//! ```
//!
//! Scales and the colour (SH DC (rgb − 0.5)/C0, degree 0) do not depend on time and are
//! uploaded once. The temporal factor is handed to the engine as the splat's opacity
//! multiplier (`opacity_scale` = f, the logit stays static) rather than folded into the logit:
//! logit(σ(o)·f) is −∞ when f underflows, while f itself is always in [0, 1]. A splat gets
//! f = 0 when α(t) is below the `cull` parameter or f itself is below `cutoff` (splaTV's viewer
//! skips splats whose temporal factor is below 0.02: `cutoff=0.02` reproduces it).
//!
//! Time t is the model's own: SpacetimeGaussians trains each model on one segment of frames
//! with t = (frame − start) / duration in [0, 1); the described time range is [0, 1] (the
//! files record no other).

use std::path::Path;

use vksplat_plugin_sdk::abi::{
    VKSPLAT_OUTPUT_MEANS, VKSPLAT_OUTPUT_OPACITY_SCALE, VKSPLAT_OUTPUT_ROTATIONS,
};
use vksplat_plugin_sdk::{
    Description, Error, FrameInput, GpuStage, Param, Shader, SplatArrays, SplatData,
};

use crate::{FormatModel, CULL, SH_C0};

/// The PLY properties that mark a Spacetime Gaussians lite file.
pub const DETECT: &[&str] = &["trbf_center", "trbf_scale", "motion_0", "omega_0"];

/// Every PLY property the model reads, in [`StgSplat`] order.
pub const FIELDS: [&str; READ] = [
    "x",
    "y",
    "z",
    "trbf_center",
    "trbf_scale",
    "motion_0",
    "motion_1",
    "motion_2",
    "motion_3",
    "motion_4",
    "motion_5",
    "motion_6",
    "motion_7",
    "motion_8",
    "f_dc_0",
    "f_dc_1",
    "f_dc_2",
    "opacity",
    "scale_0",
    "scale_1",
    "scale_2",
    "rot_0",
    "rot_1",
    "rot_2",
    "rot_3",
    "omega_0",
    "omega_1",
    "omega_2",
    "omega_3",
];

/// Floats per splat in the file model.
const READ: usize = 29;

/// One splat as the file stores it (values before activation).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StgSplat {
    pub mean: [f32; 3],
    pub trbf_center: f32,
    /// Natural log of the temporal width.
    pub trbf_scale: f32,
    /// Linear, quadratic and cubic motion coefficients, 3 each.
    pub motion: [f32; 9],
    /// Plain RGB.
    pub rgb: [f32; 3],
    /// Logit.
    pub opacity: f32,
    /// Natural logs.
    pub log_scale: [f32; 3],
    /// w, x, y, z (not necessarily normalised).
    pub rot: [f32; 4],
    /// Angular velocity of the quaternion, w, x, y, z.
    pub omega: [f32; 4],
}

impl StgSplat {
    /// The values in [`FIELDS`] order.
    pub fn values(&self) -> [f32; READ] {
        let mut v = [0f32; READ];
        v[..3].copy_from_slice(&self.mean);
        v[3] = self.trbf_center;
        v[4] = self.trbf_scale;
        v[5..14].copy_from_slice(&self.motion);
        v[14..17].copy_from_slice(&self.rgb);
        v[17] = self.opacity;
        v[18..21].copy_from_slice(&self.log_scale);
        v[21..25].copy_from_slice(&self.rot);
        v[25..29].copy_from_slice(&self.omega);
        v
    }

    fn from_values(v: &[f32; READ]) -> StgSplat {
        let mut s = StgSplat {
            trbf_center: v[3],
            trbf_scale: v[4],
            opacity: v[17],
            ..Default::default()
        };
        s.mean.copy_from_slice(&v[0..3]);
        s.motion.copy_from_slice(&v[5..14]);
        s.rgb.copy_from_slice(&v[14..17]);
        s.log_scale.copy_from_slice(&v[18..21]);
        s.rot.copy_from_slice(&v[21..25]);
        s.omega.copy_from_slice(&v[25..29]);
        s
    }
}

/// Reads a Spacetime Gaussians lite PLY (every value must be finite).
pub fn read_ply(path: &Path) -> Result<Vec<StgSplat>, Error> {
    let columns = vksplat_io::ply::read_columns(path, &FIELDS).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    out.try_reserve_exact(columns.len()).map_err(|_| {
        format!(
            "{}: {} splats do not fit in memory",
            path.display(),
            columns.len()
        )
    })?;
    let cols: Vec<&[f32]> = (0..READ).map(|c| columns.column(c)).collect();
    for i in 0..columns.len() {
        let mut v = [0f32; READ];
        for (c, col) in cols.iter().enumerate() {
            v[c] = col[i];
            if !col[i].is_finite() {
                return Err(format!(
                    "{}: splat {i}: property '{}' is {} (values must be finite)",
                    path.display(),
                    FIELDS[c],
                    col[i]
                ));
            }
        }
        out.push(StgSplat::from_values(&v));
    }
    Ok(out)
}

/// Writes splats as a Spacetime Gaussians lite PLY (binary little-endian floats, normals
/// zero, in the field order the reference trainer writes).
pub fn write_ply(path: &Path, splats: &[StgSplat]) -> Result<(), Error> {
    let n = splats.len();
    let mut cols: Vec<Vec<f32>> = (0..READ).map(|_| Vec::with_capacity(n)).collect();
    for s in splats {
        for (c, v) in cols.iter_mut().zip(s.values()) {
            c.push(v);
        }
    }
    let zeros = vec![0f32; n];
    let col = |name: &str| -> &[f32] {
        match FIELDS.iter().position(|f| *f == name) {
            Some(i) => &cols[i],
            None => &zeros,
        }
    };
    // The reference's order: x y z trbf_center trbf_scale nx ny nz motion_* f_dc_* opacity
    // scale_* rot_* omega_*.
    let order = ["x", "y", "z", "trbf_center", "trbf_scale", "nx", "ny", "nz"]
        .into_iter()
        .chain(FIELDS[5..].iter().copied());
    let columns: Vec<(&str, &[f32])> = order.map(|name| (name, col(name))).collect();
    vksplat_io::ply::write_columns(path, &columns, &[]).map_err(|e| e.to_string())
}

/// `cutoff`: splats whose temporal factor exp(−(Δ/e^trbf_scale)²) is below it are not drawn.
pub const CUTOFF: Param = Param::float(
    c"cutoff",
    c"hide splats whose temporal factor exp(-(dt/e^trbf_scale)^2) is below this (0 = off; splaTV's viewer: 0.02)",
    0.0,
    1.0,
    0.0,
);

/// Floats per splat in the GPU stage's static buffer (`stg.comp`'s `STRIDE`).
const STRIDE: usize = 24;
const SHADER: &str = concat!(include_str!("../shaders/stg.comp"), "\0");

/// The Spacetime Gaussians lite model of one file, ready to evaluate.
pub struct Stg {
    count: usize,
    /// Per splat, [`STRIDE`] floats: mean (3), trbf_center, e^(−trbf_scale), σ(opacity),
    /// motion (9), rot (4), omega (4), padding. The CPU path reads the same values.
    dynamic: Vec<f32>,
    log_scales: Vec<f32>,
    opacity_logits: Vec<f32>,
    sh: Vec<f32>,
}

impl Stg {
    /// Reads a Spacetime Gaussians lite PLY.
    pub fn read_ply(path: &Path) -> Result<Stg, Error> {
        Stg::new(&read_ply(path)?, path)
    }

    /// Reads a splaTV `.splatv`.
    pub fn read_splatv(path: &Path) -> Result<Stg, Error> {
        let file = crate::splatv::read(path)?;
        Stg::new(&file.splats, path)
    }

    /// The model of `splats` (read from `path`, which errors name).
    pub fn new(splats: &[StgSplat], path: &Path) -> Result<Stg, Error> {
        if splats.is_empty() {
            return Err(format!("{}: has no splats", path.display()));
        }
        let n = splats.len();
        let mut dynamic = Vec::new();
        let mut log_scales = Vec::new();
        let mut opacity_logits = Vec::new();
        let mut sh = Vec::new();
        let room = |_| format!("{}: {n} splats do not fit in memory", path.display());
        dynamic.try_reserve_exact(n * STRIDE).map_err(room)?;
        log_scales.try_reserve_exact(n * 3).map_err(room)?;
        opacity_logits.try_reserve_exact(n).map_err(room)?;
        sh.try_reserve_exact(n * 3).map_err(room)?;
        for s in splats {
            dynamic.extend_from_slice(&s.mean);
            dynamic.push(s.trbf_center);
            // e^(−trbf_scale) overflows only for widths below 1e-38; f32::MAX keeps the
            // limit (f = 1 at Δ = 0, 0 elsewhere) without a 0 · ∞.
            dynamic.push((-s.trbf_scale).exp().min(f32::MAX));
            dynamic.push(vksplat_io::math::sigmoid(s.opacity));
            dynamic.extend_from_slice(&s.motion);
            dynamic.extend_from_slice(&s.rot);
            dynamic.extend_from_slice(&s.omega);
            dynamic.push(0.0);
            log_scales.extend_from_slice(&s.log_scale);
            opacity_logits.push(s.opacity);
            sh.extend(s.rgb.map(|c| (c - 0.5) / SH_C0));
        }
        Ok(Stg {
            count: n,
            dynamic,
            log_scales,
            opacity_logits,
            sh,
        })
    }
}

/// One splat at time `t`: its mean, rotation (w, x, y, z) and opacity multiplier, from its
/// [`STRIDE`] floats. `stg.comp` does the same operations in the same order.
pub fn evaluate(d: &[f32], t: f32, cull: f32, cutoff: f32) -> ([f32; 3], [f32; 4], f32) {
    let dt = t - d[3];
    let dt2 = dt * dt;
    let dt3 = dt2 * dt;
    let mean: [f32; 3] =
        std::array::from_fn(|a| d[a] + d[6 + a] * dt + d[9 + a] * dt2 + d[12 + a] * dt3);
    let u = dt * d[4];
    let f = (-(u * u)).exp();
    let scale = if f < cutoff || d[5] * f < cull {
        0.0
    } else {
        f
    };
    let q: [f32; 4] = std::array::from_fn(|k| d[15 + k] + dt * d[19 + k]);
    let n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
    let rot = if n2 > 0.0 {
        let n = n2.sqrt();
        q.map(|c| c / n)
    } else {
        [1.0, 0.0, 0.0, 0.0]
    };
    (mean, rot, scale)
}

impl FormatModel for Stg {
    fn describe(&self) -> Description<'_> {
        Description {
            splat_count: self.count as u64,
            sh_degree: 0,
            covariance: false,
            opacity_scale: true,
            outputs: VKSPLAT_OUTPUT_MEANS | VKSPLAT_OUTPUT_ROTATIONS | VKSPLAT_OUTPUT_OPACITY_SCALE,
            params: vec![CULL, CUTOFF],
            initial: SplatData {
                log_scales: Some(&self.log_scales),
                opacity_logits: Some(&self.opacity_logits),
                sh: Some(&self.sh),
                ..Default::default()
            },
            time_range: Some((0.0, 1.0)),
        }
    }

    fn gpu_stage(&self) -> Result<GpuStage<'_>, Error> {
        let source = std::ffi::CStr::from_bytes_with_nul(SHADER.as_bytes())
            .map_err(|e| format!("shader source: {e}"))?;
        Ok(GpuStage {
            name: c"stg.comp",
            shader: Shader::Glsl(source),
            push_constant_size: 16,
            buffers: vec![(c"stg", crate::bytes_of(&self.dynamic))],
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
                self.count as u32,
                (input.scalar("cutoff") as f32).to_bits(),
            ],
        );
        Ok(())
    }

    fn cpu_frame(&mut self, input: &FrameInput, out: &mut SplatArrays) -> Result<(), Error> {
        let (Some(means), Some(rotations), Some(opacity)) = (
            out.means.as_deref_mut(),
            out.rotations.as_deref_mut(),
            out.opacity_scale.as_deref_mut(),
        ) else {
            return Err("the host did not pass the declared output arrays".into());
        };
        let t = input.time as f32;
        let (cull, cutoff) = (input.scalar("cull") as f32, input.scalar("cutoff") as f32);
        for (i, d) in self.dynamic.chunks_exact(STRIDE).enumerate() {
            let (m, q, f) = evaluate(d, t, cull, cutoff);
            means[3 * i..3 * i + 3].copy_from_slice(&m);
            rotations[4 * i..4 * i + 4].copy_from_slice(&q);
            opacity[i] = f;
        }
        Ok(())
    }
}
