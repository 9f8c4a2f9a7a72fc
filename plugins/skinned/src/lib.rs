//! `skinned`: avatar splats driven by a glTF skeleton (the README's "Skinned avatars").
//!
//! Sources, by content:
//! 1. a rigged glTF 2.0 / GLB file: splats are sampled on its skinned triangles
//!    (`splats_per_triangle`, `seed`; see [`source::from_gltf`]);
//! 2. a splat PLY with per-splat `joint_0..3` / `weight_0..3` plus `skeleton=FILE.gltf`
//!    for the joints and animations ([`source::from_ply`]).
//!
//! Poses, per frame, first that applies: the `bones` parameter (the host's skinning matrices,
//! one row-major 4×4 per joint of the joint table); a pose file (`pose=FILE.npy|.npz`, an
//! array [T, J, 4, 4] of the same matrices, frame ⌊t·pose_fps⌋ clamped); the glTF animation
//! (`animation=NAME|INDEX`, default the first) at the frame's time; else the rest pose.
//!
//! Every frame writes the means (Σ_k w_k M_{j_k}·[p_k; 1]: p_k = the mean for PLY splats, so
//! A·[μ; 1]; the triangle as joint j_k sees it for sampled ones, so they stay on the skinned
//! surface) and either world covariances A₃ΣA₃ᵀ (`rotation=exact`, the
//! default) or rotations and log-scales (`rotation=polar`), on the GPU (`skinned.comp`) or
//! the CPU ([`lbs`], the same arithmetic in the same order). Opacity and colour (SH) are
//! uploaded once; SH directions are not rotated with the bones.
//!
//! The joint table is the skin's joints in the file's order (several skinned meshes:
//! their skins one after another, in mesh order); `vksplat plugins info skinned` and the README
//! say so. Every splat's joint indices are below its length (checked at open).

pub mod lbs;
pub mod source;

use std::ffi::CString;
use std::path::Path;

use vksplat_plugin_sdk::abi::*;
use vksplat_plugin_sdk::{
    export_plugin, Description, Error, FrameInput, GpuStage, Param, Plugin, Shader, SplatArrays,
    SplatData,
};
use vksplat_plugin_sdk::{int_option, option};
use vksplat_rig::Rig;

use source::{Canonical, Drivers};

const SHADER: &str = include_str!("skinned.comp");

/// Most joints in the joint table (the `bones` parameter's element limit; glTF skins of
/// humanoids have 20–100, SMPL-X 55).
pub const MAX_JOINTS: usize = 1024;
/// Most splats an instance makes or reads (about 2.5 GB of host arrays; more than one
/// storage binding of most devices holds at 72 bytes of rest data per splat).
pub const MAX_SPLATS: usize = 16_000_000;
/// Bound of every host-supplied matrix entry.
const BONE_LIMIT: f64 = 1e6;

const PARAMS: [Param; 9] = [
    Param::int(
        c"splats_per_triangle",
        c"glTF source: splats sampled on each triangle",
        1,
        10_000,
        8,
    )
    .at_open(),
    Param::int(c"seed", c"glTF source: random seed of the sampling", 0, 2_147_483_647, 1).at_open(),
    Param::text(
        c"skeleton",
        c"PLY source: the glTF/GLB file with the skeleton (skin 0) and its animations",
    ),
    Param::text(
        c"animation",
        c"the glTF animation played at the frame's time, by name or index (default: the first)",
    ),
    Param::text(
        c"rotation",
        c"exact (default): world covariances A3 S A3^T; polar: rotation and scale from the polar decomposition of A3 (approximate)",
    ),
    Param::text(
        c"pose",
        c"a .npy/.npz file of skinning matrices [T, J, 4, 4] (row-major), frame floor(t * pose_fps)",
    ),
    Param::float(
        c"pose_fps",
        c"frames per second of the pose file",
        1e-3,
        1e4,
        30.0,
    )
    .at_open(),
    Param::array(
        c"bones",
        c"this frame's skinning matrices, one row-major 4x4 per joint of the joint table (overrides animation and pose)",
        16,
        1,
        MAX_JOINTS as u32,
        -BONE_LIMIT,
        BONE_LIMIT,
    ),
    Param::int(c"rest_pose", c"1: ignore animations and pose files (bind pose)", 0, 1, 0).at_open(),
];

/// How the skinned shape is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Exact,
    Polar,
}

/// One instance.
pub struct Skinned {
    mode: Mode,
    splats: Canonical,
    rig: Rig,
    drivers: Drivers,
    animation: Option<usize>,
    time_range: Option<(f64, f64)>,
    /// Pose file: frames of `joint_count` row-major matrices, and its frame rate.
    pose: Option<(Vec<f32>, f64)>,
    /// Per splat rest data for the shader (see `skinned.comp`).
    rest: Vec<f32>,
    /// Per splat joints (as floats) and weights.
    skin: Vec<f32>,
    shader: CString,
}

/// Reads a pose file: an array [T, J, 4, 4] (`.npy`, or the `.npz` entry `bones`, or its only
/// entry), finite, J = the joint table's length.
fn read_pose(path: &Path, joint_count: usize) -> Result<Vec<f32>, Error> {
    let is_npz = std::fs::File::open(path)
        .and_then(|mut f| {
            let mut magic = [0u8; 4];
            std::io::Read::read(&mut f, &mut magic).map(|n| n == 4 && magic == *b"PK\x03\x04")
        })
        .map_err(|e| format!("pose file {}: {e}", path.display()))?;
    let array = if is_npz {
        let npz = vksplat_io::numpy::Npz::open(path).map_err(|e| e.to_string())?;
        let names: Vec<String> = npz.names().map(str::to_string).collect();
        let name = if npz.contains("bones") {
            "bones".to_string()
        } else if names.len() == 1 {
            names[0].clone()
        } else {
            return Err(format!(
                "pose file {}: no array 'bones' (arrays: {})",
                path.display(),
                names.join(", ")
            ));
        };
        npz.read(&name).map_err(|e| e.to_string())?
    } else {
        vksplat_io::numpy::read_npy(path).map_err(|e| e.to_string())?
    };
    if !array.has_shape(&[None, Some(joint_count), Some(4), Some(4)]) || array.shape[0] == 0 {
        return Err(format!(
            "pose file {}: shape {:?}, expected [T, {joint_count}, 4, 4] (T ≥ 1 frames of one matrix per joint)",
            path.display(),
            array.shape
        ));
    }
    if let Some(k) = array.first_non_finite() {
        return Err(format!(
            "pose file {}: value at {:?} is not finite",
            path.display(),
            array.index_of(k)
        ));
    }
    Ok(array.data)
}

impl Plugin for Skinned {
    const NAME: &'static std::ffi::CStr = c"skinned";
    const VERSION: &'static std::ffi::CStr = c"0.1.0";
    const HAS_GPU: bool = true;
    const HAS_CPU: bool = true;

    fn open(source: Option<&str>, options: &[(&str, &str)]) -> Result<Self, Error> {
        let source = source.ok_or(
            "needs a source file: a rigged glTF/GLB, or a splat PLY with skin fields and --param skeleton=FILE.gltf",
        )?;
        let path = Path::new(source);
        let mode = match option(options, "rotation").map(str::trim) {
            None | Some("exact") => Mode::Exact,
            Some("polar") => Mode::Polar,
            Some(v) => return Err(format!("'rotation={v}': expected exact or polar")),
        };
        let mut head = [0u8; 512];
        let n = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|e| format!("{source}: {e}"))?;
        let head = &head[..n];
        let is_ply = head.starts_with(b"ply");
        let (model, splats, drivers) = if is_ply {
            let skeleton = option(options, "skeleton").ok_or_else(|| {
                format!("{source}: a splat PLY needs --param skeleton=FILE.gltf (the joints its joint_0..3 refer to)")
            })?;
            let model = vksplat_rig::load(Path::new(skeleton)).map_err(|e| e.to_string())?;
            let drivers =
                source::skeleton_drivers(&model).map_err(|m| format!("{skeleton}: {m}"))?;
            let splats = source::from_ply(path, drivers.joint_count, MAX_SPLATS)?;
            if splats.renormalised > 0 {
                vksplat_plugin_sdk::log(
                    vksplat_plugin_sdk::LogLevel::Warning,
                    &format!(
                        "{source}: the skin weights of {} splat(s) did not sum to 1 and were \
                         normalised",
                        splats.renormalised
                    ),
                );
            }
            (model, splats, drivers)
        } else if vksplat_rig::looks_like_gltf(head) {
            if option(options, "skeleton").is_some() {
                return Err(format!(
                    "{source}: skeleton= is for splat PLY sources; a glTF source is its own skeleton"
                ));
            }
            let model = vksplat_rig::load(path).map_err(|e| e.to_string())?;
            let k = int_option(options, "splats_per_triangle", 8, 10_000)?.max(1) as usize;
            let seed = int_option(options, "seed", 1, u32::MAX as u64)?;
            let splats = source::from_gltf(&model, k, seed, MAX_SPLATS)
                .map_err(|m| format!("{source}: {m}"))?;
            let drivers = source::gltf_drivers(&model);
            (model, splats, drivers)
        } else {
            return Err(format!(
                "{source}: neither a glTF/GLB file nor a PLY file with skin fields"
            ));
        };
        if drivers.joint_count > MAX_JOINTS {
            return Err(format!(
                "{source}: {} joints, more than the {MAX_JOINTS} this plugin takes",
                drivers.joint_count
            ));
        }
        let rest_pose = int_option(options, "rest_pose", 0, 1)? == 1;
        let animation = match (option(options, "animation"), rest_pose) {
            (_, true) => None,
            (Some(name), false) => Some(
                model
                    .rig
                    .find_animation(name.trim())
                    .map_err(|m| format!("{}: {m}", model.path.display()))?,
            ),
            (None, false) => (!model.rig.animations.is_empty()).then_some(0),
        };
        let time_range = animation.map(|a| model.rig.time_range(a));
        let pose = match (option(options, "pose"), rest_pose) {
            (Some(p), false) => {
                let fps = match option(options, "pose_fps") {
                    None => 30.0,
                    Some(v) => v
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && *x > 0.0)
                        .ok_or_else(|| format!("'pose_fps={v}': expected a positive number"))?,
                };
                Some((read_pose(Path::new(p), drivers.joint_count)?, fps))
            }
            _ => None,
        };
        // Evaluate the pose once now: a pose whose matrices are not finite or not invertible
        // fails here, at open, rather than on the first frame.
        let start = time_range.map_or(0.0, |r| r.0);
        let bones = drivers
            .bones(&model.rig, animation, start)
            .map_err(|m| format!("{}: {m}", model.path.display()))?;
        check_bones(&bones).map_err(|m| format!("{}: at t={start}: {m}", model.path.display()))?;
        if let Some((frames, _)) = &pose {
            for (f, frame) in frames.chunks_exact(16 * drivers.joint_count).enumerate() {
                check_bones(frame).map_err(|m| format!("pose file: frame {f}: {m}"))?;
            }
        }

        let n = splats.count;
        let mut rest = Vec::with_capacity(
            n * if mode == Mode::Polar {
                REST_POLAR
            } else {
                REST_EXACT
            },
        );
        let mut skin = Vec::with_capacity(n * 8);
        for i in 0..n {
            rest.extend(splats.points[i].iter().flatten());
            match mode {
                Mode::Exact => rest.extend_from_slice(&splats.covariances[6 * i..6 * i + 6]),
                Mode::Polar => {
                    rest.extend_from_slice(&splats.rotations[4 * i..4 * i + 4]);
                    rest.extend_from_slice(&splats.log_scales[3 * i..3 * i + 3]);
                }
            }
            skin.extend(splats.joints[i].map(|j| j as f32));
            skin.extend_from_slice(&splats.weights[i]);
        }
        let shader = CString::new(format!(
            "#version 450\n#define POLAR {}\n{SHADER}",
            (mode == Mode::Polar) as u32
        ))
        .map_err(|e| format!("shader source: {e}"))?;
        Ok(Skinned {
            mode,
            splats,
            rig: model.rig,
            drivers,
            animation,
            time_range,
            pose,
            rest,
            skin,
            shader,
        })
    }

    fn describe(&self) -> Description<'_> {
        let s = &self.splats;
        let (outputs, initial) = match self.mode {
            Mode::Exact => (
                VKSPLAT_OUTPUT_MEANS | VKSPLAT_OUTPUT_COVARIANCES,
                SplatData {
                    opacity_logits: Some(&s.opacity_logits),
                    sh: Some(&s.sh),
                    ..Default::default()
                },
            ),
            Mode::Polar => (
                VKSPLAT_OUTPUT_MEANS | VKSPLAT_OUTPUT_ROTATIONS | VKSPLAT_OUTPUT_LOG_SCALES,
                SplatData {
                    opacity_logits: Some(&s.opacity_logits),
                    sh: Some(&s.sh),
                    ..Default::default()
                },
            ),
        };
        Description {
            splat_count: s.count as u64,
            sh_degree: s.sh_degree,
            covariance: self.mode == Mode::Exact,
            opacity_scale: false,
            outputs,
            params: PARAMS.to_vec(),
            initial,
            time_range: self.time_range,
        }
    }

    fn gpu_stage(&self) -> Result<GpuStage<'_>, Error> {
        Ok(GpuStage {
            name: c"skinned.comp",
            shader: Shader::Glsl(&self.shader),
            push_constant_size: 8,
            buffers: vec![
                (c"rest", bytes_of(&self.rest)),
                (c"skin", bytes_of(&self.skin)),
            ],
            frame_buffer_size: (self.drivers.joint_count * 64) as u32,
            invocations: self.splats.count as u64,
        })
    }

    fn gpu_frame(
        &mut self,
        input: &FrameInput,
        push: &mut [u8],
        frame: &mut [u8],
    ) -> Result<(), Error> {
        let bones = self.bones(input)?;
        let words = [self.splats.count as u32, self.drivers.joint_count as u32];
        for (dst, w) in push.chunks_exact_mut(4).zip(words) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
        for (dst, v) in frame.chunks_exact_mut(4).zip(&bones) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }

    fn cpu_frame(&mut self, input: &FrameInput, out: &mut SplatArrays) -> Result<(), Error> {
        let bones = self.bones(input)?;
        let n = self.splats.count;
        let missing = || "the host did not pass the declared output arrays".to_string();
        let means = out.means.as_deref_mut().ok_or_else(missing)?;
        match self.mode {
            Mode::Exact => {
                let covs = out.covariances.as_deref_mut().ok_or_else(missing)?;
                for i in 0..n {
                    let (mean, cov) = skin_exact(
                        &self.rest[REST_EXACT * i..REST_EXACT * (i + 1)],
                        &self.skin[8 * i..8 * i + 8],
                        &bones,
                    );
                    means[3 * i..3 * i + 3].copy_from_slice(&mean);
                    covs[6 * i..6 * i + 6].copy_from_slice(&cov);
                }
            }
            Mode::Polar => {
                let rots = out.rotations.as_deref_mut().ok_or_else(missing)?;
                let scales = out.log_scales.as_deref_mut().ok_or_else(missing)?;
                for i in 0..n {
                    let (mean, rot, ls) = skin_polar(
                        &self.rest[REST_POLAR * i..REST_POLAR * (i + 1)],
                        &self.skin[8 * i..8 * i + 8],
                        &bones,
                    );
                    means[3 * i..3 * i + 3].copy_from_slice(&mean);
                    rots[4 * i..4 * i + 4].copy_from_slice(&rot);
                    scales[3 * i..3 * i + 3].copy_from_slice(&ls);
                }
            }
        }
        Ok(())
    }
}

impl Skinned {
    /// This frame's skinning matrices (joint_count row-major 4×4), turned into vksplat's frame
    /// ([`to_vksplat_frame`]).
    fn bones(&self, input: &FrameInput) -> Result<Vec<f32>, Error> {
        let mut bones = self.gltf_bones(input)?;
        to_vksplat_frame(&mut bones);
        Ok(bones)
    }

    /// This frame's skinning matrices in glTF's world (y up).
    fn gltf_bones(&self, input: &FrameInput) -> Result<Vec<f32>, Error> {
        let j = self.drivers.joint_count;
        let given = input.array("bones");
        if !given.is_empty() {
            if given.len() != 16 * j {
                return Err(format!(
                    "bones: {} matrices given, the joint table has {j}",
                    given.len() / 16
                ));
            }
            check_bones(given).map_err(|m| format!("bones: {m}"))?;
            return Ok(given.to_vec());
        }
        if let Some((frames, fps)) = &self.pose {
            let count = frames.len() / (16 * j);
            let f = (input.time * fps + 1e-6)
                .floor()
                .clamp(0.0, (count - 1) as f64) as usize;
            return Ok(frames[16 * j * f..16 * j * (f + 1)].to_vec());
        }
        self.drivers.bones(&self.rig, self.animation, input.time)
    }

    /// The skinning mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Splats whose skin weights were normalised at open (they did not sum to 1).
    pub fn renormalised(&self) -> usize {
        self.splats.renormalised
    }
}

/// glTF's world is y up with +z towards the viewer; vksplat's (the INRIA/OpenCV frame) is y
/// down with +z forward. The plugin turns the world 180° about x after skinning, diag(1, −1,
/// −1)·M for every matrix (rows y and z negated, exact in floating point), so that a glTF
/// model stands upright in front of vksplat's automatic camera. Every pose source (animation,
/// `bones`, pose file) is in glTF's convention.
pub fn to_vksplat_frame(bones: &mut [f32]) {
    for m in bones.chunks_exact_mut(16) {
        for v in &mut m[4..12] {
            *v = -*v;
        }
    }
}

/// Checks skinning matrices (row-major 4×4 each): finite, affine (last row 0 0 0 1 within
/// 1e-4) and invertible (|det A₃| > 1e-12 × the largest entry cubed).
pub fn check_bones(bones: &[f32]) -> Result<(), String> {
    for (j, m) in bones.chunks_exact(16).enumerate() {
        if let Some(k) = m.iter().position(|x| !x.is_finite()) {
            return Err(format!("matrix {j}: entry {k} is not finite"));
        }
        let last = [m[12], m[13], m[14], m[15] - 1.0];
        if last.iter().any(|x| x.abs() > 1e-4) {
            return Err(format!(
                "matrix {j}: the last row is {:?}, not 0 0 0 1 (skinning matrices are affine)",
                [m[12], m[13], m[14], m[15]]
            ));
        }
        let a = glam::DMat3::from_cols_array(&[
            m[0] as f64,
            m[4] as f64,
            m[8] as f64,
            m[1] as f64,
            m[5] as f64,
            m[9] as f64,
            m[2] as f64,
            m[6] as f64,
            m[10] as f64,
        ]);
        let scale = a.to_cols_array().iter().fold(0f64, |s, x| s.max(x.abs()));
        let det = a.determinant().abs();
        if det.is_nan() || det <= 1e-12 * scale.powi(3) || scale == 0.0 {
            return Err(format!(
                "matrix {j} is not invertible (its 3x3 part is singular)"
            ));
        }
    }
    Ok(())
}

/// Floats of rest data per splat in exact mode: 4 slot points (12), covariance (6).
pub const REST_EXACT: usize = 18;
/// Floats of rest data per splat in polar mode: 4 slot points (12), rotation (4), log-scales (3).
pub const REST_POLAR: usize = 19;

/// Exact mode for one splat (`rest`: see [`REST_EXACT`]; `skin`: joints, weights).
pub fn skin_exact(rest: &[f32], skin: &[f32], bones: &[f32]) -> ([f32; 3], [f32; 6]) {
    let (joints, weights) = (joints_of(skin), [skin[4], skin[5], skin[6], skin[7]]);
    let a = lbs::blend(bones, joints, weights);
    (
        lbs::skinned_mean(bones, joints, weights, &rest[..12]),
        lbs::transform_cov(&a, &rest[12..18]),
    )
}

/// Polar mode for one splat (`rest`: see [`REST_POLAR`]).
pub fn skin_polar(rest: &[f32], skin: &[f32], bones: &[f32]) -> ([f32; 3], [f32; 4], [f32; 3]) {
    let (joints, weights) = (joints_of(skin), [skin[4], skin[5], skin[6], skin[7]]);
    let a = lbs::blend(bones, joints, weights);
    let mean = lbs::skinned_mean(bones, joints, weights, &rest[..12]);
    let (rot, ls) = lbs::polar_splat(
        &a,
        [rest[12], rest[13], rest[14], rest[15]],
        [rest[16], rest[17], rest[18]],
    );
    (mean, rot, ls)
}

fn joints_of(skin: &[f32]) -> [u32; 4] {
    [
        skin[0] as u32,
        skin[1] as u32,
        skin[2] as u32,
        skin[3] as u32,
    ]
}

fn bytes_of(v: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding or invalid bit patterns as bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

export_plugin!(Skinned);
