//! Keyframe sequences: one static scene per frame, played back at any time t.
//!
//! Sources:
//! * a directory of per-frame scene files (`*.ply`; what 4DGaussians' per-frame export and
//!   brush's sequences write), in the order of the number in their names (the last run of
//!   digits; by name when a file has none);
//! * a frame pattern, `frames/time_%05d.ply`, `frames/f_%d.ply` or `frames/f_####.ply`: the
//!   existing files whose names match it, by frame number (at least the pattern's width of
//!   digits);
//! * Dynamic3DGaussians' `params.npz` (JonathonLuiten/Dynamic3DGaussians, MIT): per frame
//!   `means3D [T,N,3]`, `rgb_colors [T,N,3]` (plain RGB) and `unnorm_rotations [T,N,4]` (w,
//!   x, y, z), shared `logit_opacities [N,1]` and `log_scales [N,3]`; other arrays
//!   (`seg_colors`, `cam_m`, `cam_c`) are ignored.
//!
//! Every frame file is read once with vksplat-io's scene reader (any format it reads;
//! invalid splats are an error naming the file) and kept in one array of per-splat records;
//! no file is read again per frame. The GPU path uploads that array once, split into static
//! buffers of at most `buffer_floats` floats (default 2²⁵ floats = 128 MiB, the smallest
//! storage binding every Vulkan device allows), at most [`MAX_BUFFERS`] of them.
//!
//! Time is the frame index: frame k (k-th in the sequence, from 0) is shown at t = k, and
//! the time range is [0, frames − 1]. When every frame has the same number of splats, splat i
//! is taken to be the same Gaussian in every frame and a fractional t interpolates the two
//! frames around it: positions, log-scales, opacity logits and SH linearly, rotations by
//! normalised linear interpolation on the hemisphere of the first. Otherwise (counts differ)
//! the nearest frame is shown (t = 2.5 shows frame 3), padded with hidden splats up to the
//! largest count. t outside the range shows the first or last frame.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

use vksplat_plugin_sdk::abi::{
    VKSPLAT_OUTPUT_LOG_SCALES, VKSPLAT_OUTPUT_MEANS, VKSPLAT_OUTPUT_OPACITY_LOGITS,
    VKSPLAT_OUTPUT_OPACITY_SCALE, VKSPLAT_OUTPUT_ROTATIONS, VKSPLAT_OUTPUT_SH,
};
use vksplat_plugin_sdk::{
    Description, Error, FrameInput, GpuStage, Param, Shader, SplatArrays, SplatData,
};

use vksplat_io::frame_pattern::FramePattern;

use crate::{FormatModel, CULL, SH_C0};

/// The most static buffers the GPU path splits the keyframes into.
pub const MAX_BUFFERS: usize = 16;

/// Floats per GPU buffer by default: 2²⁵ floats, 128 MiB.
pub const DEFAULT_BUFFER_FLOATS: usize = 1 << 25;

/// `buffer_floats`: the GPU buffers' size (an open option, for devices and tests).
pub const BUFFER_FLOATS: Param = Param::int(
    c"buffer_floats",
    c"floats per GPU storage buffer the keyframes are split into (2^25 = 128 MiB, the binding size every Vulkan device allows)",
    64,
    DEFAULT_BUFFER_FLOATS as i64,
    DEFAULT_BUFFER_FLOATS as i64,
)
.at_open();

/// The arrays of a Dynamic3DGaussians `params.npz` that mark it.
pub const NPZ_ARRAYS: &[&str] = &["means3D", "unnorm_rotations"];

const BUFFER_NAMES: [&CStr; MAX_BUFFERS] = [
    c"keyframes0",
    c"keyframes1",
    c"keyframes2",
    c"keyframes3",
    c"keyframes4",
    c"keyframes5",
    c"keyframes6",
    c"keyframes7",
    c"keyframes8",
    c"keyframes9",
    c"keyframes10",
    c"keyframes11",
    c"keyframes12",
    c"keyframes13",
    c"keyframes14",
    c"keyframes15",
];

const SHADER: &str = include_str!("../shaders/keyframes.comp");

/// Whether `source` names a frame pattern (`%d`, `%0Nd` or a run of `#` in its file name;
/// `vksplat_io::frame_pattern`).
pub fn is_pattern(source: &Path) -> bool {
    FramePattern::parse(source).is_some()
}

fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
        if let Some(name) = e.file_name().to_str() {
            out.push((name.to_string(), e.path()));
        }
    }
    Ok(out)
}

/// The frame files of a directory or pattern, in frame order.
pub fn frame_files(source: &Path) -> Result<Vec<PathBuf>, Error> {
    if let Some(pattern) = FramePattern::parse(source) {
        let frames = pattern.sequence().map_err(|e| e.to_string())?;
        return Ok(frames.into_iter().map(|(_, p)| p).collect());
    }
    // A directory: its .ply files by the last number in their names (name order without numbers).
    let mut numbered: Vec<(Option<u64>, String, PathBuf)> = Vec::new();
    for (name, path) in list_dir(source)? {
        if !name.to_ascii_lowercase().ends_with(".ply") {
            continue;
        }
        let last_digits: String = {
            let end = name.rfind(|c: char| c.is_ascii_digit());
            match end {
                Some(e) => {
                    let start = name[..=e]
                        .rfind(|c: char| !c.is_ascii_digit())
                        .map_or(0, |s| s + 1);
                    name[start..=e].to_string()
                }
                None => String::new(),
            }
        };
        numbered.push((last_digits.parse().ok(), name, path));
    }
    if numbered.is_empty() {
        return Err(format!(
            "{}: no frame files (the directory has no .ply files)",
            source.display()
        ));
    }
    if numbered.iter().all(|(n, _, _)| n.is_some()) {
        numbered.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        if let Some(w) = numbered.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!(
                "{}: files '{}' and '{}' have the same frame number",
                source.display(),
                w[0].1,
                w[1].1
            ));
        }
    } else {
        numbered.sort_by(|a, b| a.1.cmp(&b.1));
    }
    Ok(numbered.into_iter().map(|(_, _, p)| p).collect())
}

/// One frame's place in [`Keyframes::data`].
#[derive(Clone, Copy, Debug)]
struct FrameAt {
    /// First float of its records.
    offset: usize,
    /// Its splats.
    live: usize,
}

/// A keyframe sequence, ready to play.
pub struct Keyframes {
    /// Splats drawn per frame (the largest frame's count).
    count: usize,
    frames: Vec<FrameAt>,
    /// Whether all frames have `count` splats (interpolation) or not (nearest frame).
    interpolate: bool,
    /// Whether log-scales and opacity logits are in the records (per frame) or static.
    shape_per_frame: bool,
    sh_degree: u32,
    /// SH coefficients per channel.
    k: usize,
    /// Floats per record: mean (3), rotation w x y z (4), [log-scale (3), logit (1)], SH
    /// (3k, coefficient-major: `[k·3 + c]`).
    stride: usize,
    /// Every frame's records, frame after frame.
    data: Vec<f32>,
    /// Static log-scales and logits (when not per frame).
    log_scales: Vec<f32>,
    opacity_logits: Vec<f32>,
    buffer_floats: usize,
    /// Floats per GPU buffer: whole records, at most `buffer_floats`.
    chunk: usize,
    shader: CString,
}

fn option_buffer_floats(options: &[(&str, &str)]) -> Result<usize, Error> {
    match options.iter().find(|(k, _)| *k == "buffer_floats") {
        None => Ok(DEFAULT_BUFFER_FLOATS),
        Some((_, v)) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (64..=DEFAULT_BUFFER_FLOATS).contains(n))
            .ok_or_else(|| format!("option 'buffer_floats': '{v}' is not an integer in 64..=2^25")),
    }
}

fn room(source: &Path) -> impl Fn(std::collections::TryReserveError) -> Error + '_ {
    move |_| format!("{}: the keyframes do not fit in memory", source.display())
}

impl Keyframes {
    /// Reads a directory or pattern of per-frame scene files.
    pub fn read_sequence(source: &Path, options: &[(&str, &str)]) -> Result<Keyframes, Error> {
        let files = frame_files(source)?;
        let mut kf = Keyframes::empty(true, option_buffer_floats(options)?);
        for (f, file) in files.iter().enumerate() {
            let scene = vksplat_io::read_scene_checked(
                file,
                vksplat_io::scene::InvalidSplats::Reject { hint: None },
            )
            .map_err(|e| e.to_string())?;
            let s = scene.splats();
            if s.means.is_empty() {
                return Err(format!("{}: frame {f} has no splats", file.display()));
            }
            if f == 0 {
                kf.sh_degree = s.sh_degree;
                kf.k = ((s.sh_degree + 1) * (s.sh_degree + 1)) as usize;
                kf.stride = 11 + 3 * kf.k;
            } else if s.sh_degree != kf.sh_degree {
                return Err(format!(
                    "{}: SH degree {} but frame 0 ({}) has {}",
                    file.display(),
                    s.sh_degree,
                    files[0].display(),
                    kf.sh_degree
                ));
            }
            let n = s.means.len();
            kf.data
                .try_reserve_exact(n * kf.stride)
                .map_err(room(source))?;
            kf.frames.push(FrameAt {
                offset: kf.data.len(),
                live: n,
            });
            for i in 0..n {
                kf.data.extend_from_slice(&s.means[i]);
                kf.data.extend_from_slice(&s.rotations[i]);
                kf.data.extend_from_slice(&s.log_scales[i]);
                kf.data.push(s.opacity_logits[i]);
                kf.data
                    .extend_from_slice(&s.sh[i * kf.k * 3..(i + 1) * kf.k * 3]);
            }
        }
        kf.finish();
        Ok(kf)
    }

    /// Reads a Dynamic3DGaussians `params.npz`.
    pub fn read_npz(path: &Path, options: &[(&str, &str)]) -> Result<Keyframes, Error> {
        let io = |e: vksplat_io::IoError| e.to_string();
        let npz = vksplat_io::numpy::Npz::open(path).map_err(io)?;
        let read =
            |name: &str, want: &[Option<usize>]| -> Result<vksplat_io::numpy::Array, Error> {
                let a = npz.read_shaped(name, want).map_err(io)?;
                if let Some(at) = a.first_non_finite() {
                    return Err(format!(
                        "{}: array '{name}' has {} at {:?} (values must be finite)",
                        path.display(),
                        a.data[at],
                        a.index_of(at)
                    ));
                }
                Ok(a)
            };
        let means = read("means3D", &[None, None, Some(3)])?;
        let (t, n) = (means.shape[0], means.shape[1]);
        let rgb = read("rgb_colors", &[Some(t), Some(n), Some(3)])?;
        let rot = read("unnorm_rotations", &[Some(t), Some(n), Some(4)])?;
        let logits = read("logit_opacities", &[Some(n), Some(1)])?;
        let scales = read("log_scales", &[Some(n), Some(3)])?;
        if t == 0 || n == 0 {
            return Err(format!(
                "{}: means3D has shape ({t}, {n}, 3): no frames or no splats",
                path.display()
            ));
        }
        if let Some(i) = scales.data.iter().position(|&v| !v.exp().is_finite()) {
            return Err(format!(
                "{}: log_scales[{}, {}] = {}: its scale (e^x) overflows f32",
                path.display(),
                i / 3,
                i % 3,
                scales.data[i]
            ));
        }
        let mut kf = Keyframes::empty(false, option_buffer_floats(options)?);
        kf.k = 1;
        kf.stride = 10;
        kf.data
            .try_reserve_exact(t * n * kf.stride)
            .map_err(room(path))?;
        for f in 0..t {
            kf.frames.push(FrameAt {
                offset: kf.data.len(),
                live: n,
            });
            for i in 0..n {
                let j = f * n + i;
                kf.data.extend_from_slice(&means.data[3 * j..3 * j + 3]);
                let q = &rot.data[4 * j..4 * j + 4];
                let len = q.iter().map(|c| c * c).sum::<f32>().sqrt();
                if !(len > 0.0 && len.is_finite()) {
                    return Err(format!(
                        "{}: unnorm_rotations[{f}, {i}] is not a rotation (length {len})",
                        path.display()
                    ));
                }
                kf.data.extend(q.iter().map(|c| c / len));
                kf.data
                    .extend(rgb.data[3 * j..3 * j + 3].iter().map(|c| (c - 0.5) / SH_C0));
            }
        }
        kf.log_scales = scales.data;
        kf.opacity_logits = logits.data;
        kf.finish();
        Ok(kf)
    }

    fn empty(shape_per_frame: bool, buffer_floats: usize) -> Keyframes {
        Keyframes {
            count: 0,
            frames: Vec::new(),
            interpolate: true,
            shape_per_frame,
            sh_degree: 0,
            k: 1,
            stride: 0,
            data: Vec::new(),
            log_scales: Vec::new(),
            opacity_logits: Vec::new(),
            buffer_floats,
            chunk: 0,
            shader: CString::default(),
        }
    }

    /// Counts, the mode and the shader, once the frames are in.
    fn finish(&mut self) {
        self.count = self.frames.iter().map(|f| f.live).max().unwrap_or(0);
        self.interpolate = self.frames.iter().all(|f| f.live == self.count);
        // Whole records per buffer, so that the shader finds a record in one buffer.
        self.chunk = (self.buffer_floats / self.stride).max(1) * self.stride;
        let buffers = self.data.len().div_ceil(self.chunk).max(1);
        let defines = format!(
            "#version 450\n#define KF_BUFFERS {buffers}\n#define KF_CHUNK {}u\n\
             #define KF_STRIDE {}u\n#define KF_K {}u\n#define KF_SHAPE {}\n",
            self.chunk,
            self.stride,
            self.k,
            u32::from(self.shape_per_frame)
        );
        // The source has no NUL (it is this crate's file); an empty shader fails to compile.
        self.shader =
            CString::new(SHADER.replacen("#version 450\n", &defines, 1)).unwrap_or_default();
    }

    /// Frames (keyframes) in the sequence.
    pub fn frames(&self) -> usize {
        self.frames.len()
    }

    /// Whether fractional times interpolate (every frame has the same splat count).
    pub fn interpolates(&self) -> bool {
        self.interpolate
    }

    /// The two frames and the weight of the second at time `t`.
    fn at(&self, t: f64) -> (FrameAt, FrameAt, f32) {
        let last = self.frames.len() - 1;
        let f = if t.is_finite() {
            t.clamp(0.0, last as f64)
        } else {
            0.0
        };
        if self.interpolate {
            let i0 = (f.floor() as usize).min(last);
            let i1 = (i0 + 1).min(last);
            let w = if i1 == i0 {
                0.0
            } else {
                (f - i0 as f64) as f32
            };
            (self.frames[i0], self.frames[i1], w)
        } else {
            let i = (f.round() as usize).min(last);
            (self.frames[i], self.frames[i], 0.0)
        }
    }
}

/// What one splat of a frame becomes: the values of the outputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Blend {
    pub mean: [f32; 3],
    pub rotation: [f32; 4],
    pub log_scale: [f32; 3],
    pub logit: f32,
}

/// `a + w (b − a)`.
fn lerp(a: f32, b: f32, w: f32) -> f32 {
    a + w * (b - a)
}

/// Splat records `a` and `b` blended with weight `w` of `b` (`keyframes.comp` does the same
/// operations in the same order); `sh` receives the 3k SH values.
pub fn blend(a: &[f32], b: &[f32], w: f32, shape: bool, sh: &mut [f32]) -> Blend {
    let mean = std::array::from_fn(|k| lerp(a[k], b[k], w));
    let d = a[3] * b[3] + a[4] * b[4] + a[5] * b[5] + a[6] * b[6];
    let s = if d < 0.0 { -1.0 } else { 1.0 };
    let q: [f32; 4] = std::array::from_fn(|k| lerp(a[3 + k], s * b[3 + k], w));
    let n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
    let rotation = if n2 > 0.0 {
        let n = n2.sqrt();
        q.map(|c| c / n)
    } else {
        [1.0, 0.0, 0.0, 0.0]
    };
    let (log_scale, logit, first_sh) = if shape {
        (
            std::array::from_fn(|k| lerp(a[7 + k], b[7 + k], w)),
            lerp(a[10], b[10], w),
            11,
        )
    } else {
        ([0.0; 3], 0.0, 7)
    };
    for (j, v) in sh.iter_mut().enumerate() {
        *v = lerp(a[first_sh + j], b[first_sh + j], w);
    }
    Blend {
        mean,
        rotation,
        log_scale,
        logit,
    }
}

impl FormatModel for Keyframes {
    fn describe(&self) -> Description<'_> {
        let shape = if self.shape_per_frame {
            VKSPLAT_OUTPUT_LOG_SCALES | VKSPLAT_OUTPUT_OPACITY_LOGITS
        } else {
            0
        };
        Description {
            splat_count: self.count as u64,
            sh_degree: self.sh_degree,
            covariance: false,
            opacity_scale: true,
            outputs: VKSPLAT_OUTPUT_MEANS
                | VKSPLAT_OUTPUT_ROTATIONS
                | VKSPLAT_OUTPUT_SH
                | VKSPLAT_OUTPUT_OPACITY_SCALE
                | shape,
            params: vec![CULL, BUFFER_FLOATS],
            initial: SplatData {
                log_scales: (!self.shape_per_frame).then_some(self.log_scales.as_slice()),
                opacity_logits: (!self.shape_per_frame).then_some(self.opacity_logits.as_slice()),
                ..Default::default()
            },
            time_range: Some((0.0, (self.frames.len() - 1) as f64)),
        }
    }

    fn gpu_stage(&self) -> Result<GpuStage<'_>, Error> {
        let chunks: Vec<&[f32]> = self.data.chunks(self.chunk).collect();
        if chunks.len() > MAX_BUFFERS {
            return Err(format!(
                "the keyframes need {} bytes on the GPU: more than {MAX_BUFFERS} storage buffers \
                 of {} bytes (buffer_floats = {}; 128 MiB is the binding size every Vulkan \
                 device allows); render them on the CPU path (--plugin-eval cpu) or with fewer \
                 frames",
                4 * self.data.len() as u64,
                4 * self.chunk,
                self.buffer_floats
            ));
        }
        Ok(GpuStage {
            name: c"keyframes.comp",
            shader: Shader::Glsl(&self.shader),
            push_constant_size: 32,
            buffers: BUFFER_NAMES
                .iter()
                .zip(chunks)
                .map(|(n, c)| (*n, crate::bytes_of(c)))
                .collect(),
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
        let (a, b, w) = self.at(input.time);
        // The GPU path holds at most MAX_BUFFERS · 2^25 = 2^29 floats, so offsets fit u32.
        crate::put_words(
            push,
            &[
                a.offset as u32,
                b.offset as u32,
                a.live as u32,
                self.count as u32,
                w.to_bits(),
                (input.scalar("cull") as f32).to_bits(),
                0,
                0,
            ],
        );
        Ok(())
    }

    fn cpu_frame(&mut self, input: &FrameInput, out: &mut SplatArrays) -> Result<(), Error> {
        let (Some(means), Some(rotations), Some(sh), Some(opacity)) = (
            out.means.as_deref_mut(),
            out.rotations.as_deref_mut(),
            out.sh.as_deref_mut(),
            out.opacity_scale.as_deref_mut(),
        ) else {
            return Err("the host did not pass the declared output arrays".into());
        };
        let mut shape = (
            out.log_scales.as_deref_mut(),
            out.opacity_logits.as_deref_mut(),
        );
        if self.shape_per_frame && (shape.0.is_none() || shape.1.is_none()) {
            return Err("the host did not pass the declared output arrays".into());
        }
        let (a, b, w) = self.at(input.time);
        let cull = input.scalar("cull") as f32;
        let (s, k3) = (self.stride, 3 * self.k);
        for i in 0..self.count {
            let sh_i = &mut sh[i * k3..(i + 1) * k3];
            let v = if i < a.live {
                let ra = &self.data[a.offset + i * s..a.offset + (i + 1) * s];
                let rb = &self.data[b.offset + i * s..b.offset + (i + 1) * s];
                Some(blend(ra, rb, w, self.shape_per_frame, sh_i))
            } else {
                sh_i.fill(0.0);
                None
            };
            let hidden = Blend {
                mean: [0.0; 3],
                rotation: [1.0, 0.0, 0.0, 0.0],
                log_scale: [-30.0; 3],
                logit: -30.0,
            };
            let blend = v.unwrap_or(hidden);
            means[3 * i..3 * i + 3].copy_from_slice(&blend.mean);
            rotations[4 * i..4 * i + 4].copy_from_slice(&blend.rotation);
            if let (Some(ls), Some(lo)) = (shape.0.as_deref_mut(), shape.1.as_deref_mut()) {
                ls[3 * i..3 * i + 3].copy_from_slice(&blend.log_scale);
                lo[i] = blend.logit;
            }
            // `cull` hides splats whose opacity is below it (only per-frame logits can tell).
            let alpha = if self.shape_per_frame {
                vksplat_io::math::sigmoid(blend.logit)
            } else {
                vksplat_io::math::sigmoid(self.opacity_logits[i])
            };
            opacity[i] = if v.is_none() || alpha < cull {
                0.0
            } else {
                1.0
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
