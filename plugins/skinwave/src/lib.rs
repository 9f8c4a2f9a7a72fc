//! `skinwave`: an example vksplat plugin in Rust (see the README's "C API and plugins").
//!
//! A bar of splats along x in [-1, 1] is skinned to two bones with linear blend skinning
//! (per-frame input: an array of two row-major 4×4 matrices, `bones`), and a travelling wave
//! moves it along y (per-frame input: the time, with `amplitude` and `frequency`). Each frame
//! writes means, world-space covariances A·Σ·Aᵀ and an opacity multiplier, on the GPU
//! (`skinwave.comp`) or on the CPU (below, the same arithmetic in the same order).
//!
//! Open options: `count` (splats, default 4000) and `seed`.

use std::f32::consts::TAU;

use glam::{Mat3, Mat4, Vec3};

use vksplat_plugin_sdk::abi::*;
use vksplat_plugin_sdk::{
    export_plugin, Description, Error, FrameInput, GpuStage, Param, Plugin, Shader, SplatArrays,
    SplatData,
};

const SHADER: &str = concat!(include_str!("skinwave.comp"), "\0");

const PARAMS: [Param; 5] = [
    Param::int(c"count", c"number of splats", 1, 1_000_000, 4000).at_open(),
    Param::int(c"seed", c"random seed of the splat layout", 0, 1_000_000, 1).at_open(),
    Param::float(c"amplitude", c"wave amplitude along y", 0.0, 1.0, 0.05),
    Param::float(c"frequency", c"wave frequency in Hz", 0.0, 10.0, 0.5),
    Param::array(
        c"bones",
        c"two bone matrices, row-major 4x4 (default: identity)",
        16,
        2,
        2,
        -1e3,
        1e3,
    ),
];

const IDENTITY: [f32; 16] = [
    1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1.,
];

/// One instance: the rest pose and the data uploaded once.
pub struct SkinWave {
    count: usize,
    /// Per splat: rest mean (3), rest covariance (6), weight of bone 1.
    rest: Vec<f32>,
    opacity_logits: Vec<f32>,
    sh: Vec<f32>,
}

struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
}

fn option(options: &[(&str, &str)], key: &str, default: u64) -> Result<u64, Error> {
    match options.iter().find(|(k, _)| *k == key) {
        None => Ok(default),
        Some((_, v)) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("option '{key}': '{v}' is not a non-negative integer")),
    }
}

impl Plugin for SkinWave {
    const NAME: &'static std::ffi::CStr = c"skinwave";
    const VERSION: &'static std::ffi::CStr = c"0.1.0";
    const HAS_GPU: bool = true;
    const HAS_CPU: bool = true;

    fn open(source: Option<&str>, options: &[(&str, &str)]) -> Result<Self, Error> {
        if let Some(s) = source {
            return Err(format!(
                "takes no source file (got '{s}'); it builds its scene from options"
            ));
        }
        let count = option(options, "count", 4000)?.clamp(1, 1_000_000) as usize;
        let mut rng = Rng(option(options, "seed", 1)?.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut rest = Vec::with_capacity(count * 10);
        let mut opacity_logits = Vec::with_capacity(count);
        let mut sh = Vec::with_capacity(count * 12);
        for i in 0..count {
            let x = -1.0 + 2.0 * (i as f32 + 0.5) / count as f32;
            let m = [x, rng.range(-0.08, 0.08), rng.range(-0.08, 0.08)];
            // Σ = R S² Rᵀ with R a rotation about z by a random angle.
            let (s, c) = rng.range(0.0, TAU).sin_cos();
            let sx = rng.range(0.01, 0.04);
            let sy = rng.range(0.005, 0.02);
            let sz = rng.range(0.005, 0.02);
            let (a, b) = (sx * sx, sy * sy);
            let cov = [
                c * c * a + s * s * b,
                c * s * (a - b),
                0.0,
                s * s * a + c * c * b,
                0.0,
                sz * sz,
            ];
            let t = ((x + 0.3) / 0.6).clamp(0.0, 1.0);
            let w1 = t * t * (3.0 - 2.0 * t);
            rest.extend_from_slice(&m);
            rest.extend_from_slice(&cov);
            rest.push(w1);
            opacity_logits.push(rng.range(0.5, 3.0));
            // SH degree 1: a colour gradient along the bar plus some view dependence.
            sh.extend_from_slice(&[0.8 * x, 0.3, -0.8 * x]);
            for _ in 0..9 {
                sh.push(rng.range(-0.1, 0.1));
            }
        }
        Ok(SkinWave {
            count,
            rest,
            opacity_logits,
            sh,
        })
    }

    fn describe(&self) -> Description<'_> {
        Description {
            splat_count: self.count as u64,
            sh_degree: 1,
            covariance: true,
            opacity_scale: true,
            outputs: VKSPLAT_OUTPUT_MEANS
                | VKSPLAT_OUTPUT_COVARIANCES
                | VKSPLAT_OUTPUT_OPACITY_SCALE,
            params: PARAMS.to_vec(),
            initial: SplatData {
                opacity_logits: Some(&self.opacity_logits),
                sh: Some(&self.sh),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn gpu_stage(&self) -> Result<GpuStage<'_>, Error> {
        let source = std::ffi::CStr::from_bytes_with_nul(SHADER.as_bytes())
            .map_err(|e| format!("shader source: {e}"))?;
        Ok(GpuStage {
            name: c"skinwave.comp",
            shader: Shader::Glsl(source),
            push_constant_size: 16,
            buffers: vec![(c"rest", bytes_of(&self.rest))],
            frame_buffer_size: 128,
            invocations: self.count as u64,
        })
    }

    fn gpu_frame(
        &mut self,
        input: &FrameInput,
        push: &mut [u8],
        frame: &mut [u8],
    ) -> Result<(), Error> {
        let words = [
            (input.time as f32).to_bits(),
            (input.scalar("amplitude") as f32).to_bits(),
            (input.scalar("frequency") as f32).to_bits(),
            self.count as u32,
        ];
        for (dst, w) in push.chunks_exact_mut(4).zip(words) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
        let bones = bones(input);
        for (dst, v) in frame.chunks_exact_mut(4).zip(bones.iter()) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }

    fn cpu_frame(&mut self, input: &FrameInput, out: &mut SplatArrays) -> Result<(), Error> {
        let bones = bones(input);
        let amplitude = input.scalar("amplitude") as f32;
        let phase = TAU * input.scalar("frequency") as f32 * input.time as f32;
        let (Some(means), Some(covs), Some(opacity)) = (
            out.means.as_deref_mut(),
            out.covariances.as_deref_mut(),
            out.opacity_scale.as_deref_mut(),
        ) else {
            return Err("the host did not pass the declared output arrays".into());
        };
        for i in 0..self.count {
            let (mean, cov, scale) =
                skin(&self.rest[10 * i..10 * i + 10], &bones, amplitude, phase);
            means[3 * i..3 * i + 3].copy_from_slice(&mean.to_array());
            covs[6 * i..6 * i + 6].copy_from_slice(&cov);
            opacity[i] = scale;
        }
        Ok(())
    }
}

/// One splat's frame from its rest data (`rest`: mean, covariance xx xy xz yy yz zz, weight
/// of bone 1): its mean, covariance (xx xy xz yy yz zz) and opacity multiplier. Each product
/// and sum is evaluated in the order `skinwave.comp` uses (glam multiplies and adds column by
/// column, left to right, with no fused multiply-add), so both paths round alike.
fn skin(rest: &[f32], bones: &[f32; 32], amplitude: f32, phase: f32) -> (Vec3, [f32; 6], f32) {
    let w1 = rest[9];
    let w0 = 1.0 - w1;
    let mut m = Vec3::new(rest[0], rest[1], rest[2]);
    m.y += amplitude * (phase + 3.0 * m.x).sin();
    // A = w0 B0 + w1 B1; the bones are row-major, glam is column-major.
    let bone = |k: usize| Mat4::from_cols_slice(&bones[16 * k..16 * k + 16]).transpose();
    let a = bone(0) * w0 + bone(1) * w1;
    let mean = a.transform_point3(m);
    // Σ' = L Σ Lᵀ with L the 3×3 part of A.
    let l = Mat3::from_mat4(a);
    let sigma = Mat3::from_cols_array(&[
        rest[3], rest[4], rest[5], rest[4], rest[6], rest[7], rest[5], rest[7], rest[8],
    ]);
    let c = l * sigma * l.transpose();
    let cov = [
        c.x_axis.x, c.y_axis.x, c.z_axis.x, c.y_axis.y, c.z_axis.y, c.z_axis.z,
    ];
    let cos = (phase + m.x).cos();
    (mean, cov, 0.6 + 0.4 * cos * cos)
}

/// The frame's two bones (identity when not set).
fn bones(input: &FrameInput) -> [f32; 32] {
    let mut out = [0f32; 32];
    let given = input.array("bones");
    if given.len() == 32 {
        out.copy_from_slice(given);
    } else {
        out[..16].copy_from_slice(&IDENTITY);
        out[16..].copy_from_slice(&IDENTITY);
    }
    out
}

fn bytes_of(v: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding or invalid bit patterns as bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

export_plugin!(SkinWave);

#[cfg(test)]
mod tests {
    use super::*;

    /// `skinwave.comp`'s loops, index by index: the CPU path must round exactly as they do.
    fn shader_order(r: &[f32], bones: &[f32; 32], amplitude: f32, phase: f32) -> [f32; 10] {
        let mut m = [r[0], r[1], r[2]];
        let w1 = r[9];
        let w0 = 1.0 - w1;
        m[1] += amplitude * (phase + 3.0 * m[0]).sin();
        let a: [f32; 12] = std::array::from_fn(|k| w0 * bones[k] + w1 * bones[16 + k]);
        let mut out = [0f32; 10];
        for row in 0..3 {
            out[row] =
                a[4 * row] * m[0] + a[4 * row + 1] * m[1] + a[4 * row + 2] * m[2] + a[4 * row + 3];
        }
        let s = [r[3], r[4], r[5], r[4], r[6], r[7], r[5], r[7], r[8]];
        let ls: [f32; 9] = std::array::from_fn(|k| {
            let (row, c) = (k / 3, k % 3);
            a[4 * row] * s[c] + a[4 * row + 1] * s[3 + c] + a[4 * row + 2] * s[6 + c]
        });
        let res: [f32; 9] = std::array::from_fn(|k| {
            let (row, c) = (k / 3, k % 3);
            ls[3 * row] * a[4 * c] + ls[3 * row + 1] * a[4 * c + 1] + ls[3 * row + 2] * a[4 * c + 2]
        });
        for (o, k) in out[3..9].iter_mut().zip([0, 1, 2, 4, 5, 8]) {
            *o = res[k];
        }
        let c = (phase + m[0]).cos();
        out[9] = 0.6 + 0.4 * c * c;
        out
    }

    #[test]
    fn cpu_path_rounds_like_the_shader() {
        let wave = SkinWave::open(None, &[("count", "500"), ("seed", "3")]).unwrap();
        let mut rng = Rng(0x5eed);
        for trial in 0..20 {
            let mut bones = [0f32; 32];
            if trial == 0 {
                bones[..16].copy_from_slice(&IDENTITY);
                bones[16..].copy_from_slice(&IDENTITY);
            } else {
                bones.iter_mut().for_each(|b| *b = rng.range(-3.0, 3.0));
            }
            let (amplitude, phase) = (rng.range(0.0, 1.0), rng.range(-10.0, 10.0));
            for r in wave.rest.chunks_exact(10) {
                let (mean, cov, scale) = skin(r, &bones, amplitude, phase);
                let mut got = [0f32; 10];
                got[..3].copy_from_slice(&mean.to_array());
                got[3..9].copy_from_slice(&cov);
                got[9] = scale;
                let want = shader_order(r, &bones, amplitude, phase);
                assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits), "{trial}");
            }
        }
    }
}
