//! `dynamic4d`: deformable 4D Gaussian scenes from the files trained 4D methods write, rendered
//! at any time t on the GPU (a compute stage writing the engine's splat arrays) or the CPU
//! (the same arithmetic in the same order). The format is chosen by the file's content, never
//! by its name:
//!
//! * Spacetime Gaussians "lite" PLY (oppo-us-research/SpacetimeGaussians): [`stg`];
//! * splaTV `.splatv` (antimatter15/splaTV), the same model packed in halves: [`splatv`],
//!   decoded into the [`stg`] model;
//! * native 4D Gaussians of Yang et al. (fudan-zvg/4d-gaussian-splatting), a PLY with
//!   bevy_gaussian_splatting's field names: [`yang`];
//! * keyframe sequences: a directory or frame pattern of per-frame scene files, or
//!   Dynamic3DGaussians' `params.npz`: [`keyframes`].
//!
//! Time is each format's own unit (see the README's "Deformable 4D scenes").
//!
//! # How a format plugs in
//! A format is a module with a model type implementing [`FormatModel`] (describe, the GPU
//! stage, the per-frame push constants/frame buffer, the CPU frame), a variant of [`Model`],
//! and a line in [`open_model`] that recognises its files by content. Every model offers the
//! [`cull`](CULL) parameter; an error names the file it is about.

use std::path::Path;

use vksplat_plugin_sdk::{
    export_plugin, Description, Error, FrameInput, GpuStage, Param, Plugin, SplatArrays,
};

pub mod keyframes;
pub mod splatv;
pub mod stg;
pub mod yang;

/// SH band-0 constant: a plain RGB colour c is the DC coefficient (c − 0.5) / C0.
pub const SH_C0: f32 = 0.282_094_8;

/// `cull`: splats whose time-dependent opacity falls below it are not drawn (0 = off, the
/// engine's own 1/255 rule still applies).
pub const CULL: Param = Param::float(
    c"cull",
    c"hide splats whose opacity at time t is below this (0 = off)",
    0.0,
    1.0,
    0.0,
);

/// What each format's model does; [`Dynamic4d`] dispatches every call to its [`Model`].
pub trait FormatModel {
    /// The instance's description (parameters included: at least [`CULL`]).
    fn describe(&self) -> Description<'_>;
    /// The compute stage.
    fn gpu_stage(&self) -> Result<GpuStage<'_>, Error>;
    /// One frame's push constants and frame buffer.
    fn gpu_frame(
        &mut self,
        input: &FrameInput,
        push: &mut [u8],
        frame: &mut [u8],
    ) -> Result<(), Error>;
    /// One frame on the CPU.
    fn cpu_frame(&mut self, input: &FrameInput, out: &mut SplatArrays) -> Result<(), Error>;
}

/// One variant per model.
pub enum Model {
    /// Spacetime Gaussians lite, from a PLY or a `.splatv`.
    Stg(stg::Stg),
    /// Native 4D Gaussians (Yang et al.), from a PLY.
    Yang(yang::Yang),
    /// Keyframe sequences: a directory or pattern of frame files, or a `params.npz`.
    Keyframes(keyframes::Keyframes),
}

impl Model {
    fn get(&self) -> &dyn FormatModel {
        match self {
            Model::Stg(m) => m,
            Model::Yang(m) => m,
            Model::Keyframes(m) => m,
        }
    }

    fn get_mut(&mut self) -> &mut dyn FormatModel {
        match self {
            Model::Stg(m) => m,
            Model::Yang(m) => m,
            Model::Keyframes(m) => m,
        }
    }
}

/// Recognises `path`'s format by its content and reads it (`options`: the user's open
/// options, which some formats take).
pub fn open_model(path: &Path, options: &[(&str, &str)]) -> Result<Model, Error> {
    if keyframes::is_pattern(path) && !path.exists() {
        return keyframes::Keyframes::read_sequence(path, options).map(Model::Keyframes);
    }
    let meta =
        std::fs::metadata(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if meta.is_dir() {
        return keyframes::Keyframes::read_sequence(path, options).map(Model::Keyframes);
    }
    let head = read_head(path, 8)?;
    if head.starts_with(b"PK\x03\x04") {
        return keyframes::Keyframes::read_npz(path, options).map(Model::Keyframes);
    }
    if head.starts_with(b"ply") {
        let info = vksplat_io::ply::read_vertex_info(path).map_err(|e| e.to_string())?;
        if info.has_all(stg::DETECT) {
            return stg::Stg::read_ply(path).map(Model::Stg);
        }
        if info.has_all(yang::DETECT) {
            return yang::Yang::read_ply(path).map(Model::Yang);
        }
        return Err(format!(
            "{}: a PLY file without the fields of a 4D scene dynamic4d reads (Spacetime \
             Gaussians lite: {}; native 4D Gaussians: {})",
            path.display(),
            stg::DETECT.join(", "),
            yang::DETECT.join(", ")
        ));
    }
    if splatv::is_splatv(&head) {
        return stg::Stg::read_splatv(path).map(Model::Stg);
    }
    Err(format!(
        "{}: not a 4D scene file dynamic4d reads (Spacetime Gaussians lite PLY, splaTV \
         .splatv, native 4D Gaussian PLY, Dynamic3DGaussians params.npz, a directory or \
         pattern of frame files)",
        path.display()
    ))
}

/// The first `n` bytes of a regular file (fewer if it is shorter).
pub(crate) fn read_head(path: &Path, n: usize) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let (file, _) = vksplat_io::open_regular(path).map_err(|e| e.to_string())?;
    let mut head = Vec::with_capacity(n);
    file.take(n as u64)
        .read_to_end(&mut head)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    Ok(head)
}

/// One plugin instance: the model of one file.
pub struct Dynamic4d {
    model: Model,
}

impl Plugin for Dynamic4d {
    const NAME: &'static std::ffi::CStr = c"dynamic4d";
    const VERSION: &'static std::ffi::CStr = c"0.1.0";
    const HAS_GPU: bool = true;
    const HAS_CPU: bool = true;

    fn open(source: Option<&str>, options: &[(&str, &str)]) -> Result<Self, Error> {
        // Options are checked by the host against the description; open options
        // (`buffer_floats`) are read by the format that declares them.
        let Some(source) = source else {
            return Err("needs a scene file (vksplat render FILE --plugin dynamic4d)".into());
        };
        Ok(Dynamic4d {
            model: open_model(Path::new(source), options)?,
        })
    }

    fn describe(&self) -> Description<'_> {
        self.model.get().describe()
    }

    fn gpu_stage(&self) -> Result<GpuStage<'_>, Error> {
        self.model.get().gpu_stage()
    }

    fn gpu_frame(
        &mut self,
        input: &FrameInput,
        push: &mut [u8],
        frame: &mut [u8],
    ) -> Result<(), Error> {
        self.model.get_mut().gpu_frame(input, push, frame)
    }

    fn cpu_frame(&mut self, input: &FrameInput, out: &mut SplatArrays) -> Result<(), Error> {
        self.model.get_mut().cpu_frame(input, out)
    }
}

/// The bytes of `f32`s, as static buffers are uploaded.
pub(crate) fn bytes_of(v: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding or invalid bit patterns as bytes; the length is the slice's
    // size in bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

/// Writes 32-bit words into a push-constant block, in order.
pub(crate) fn put_words(push: &mut [u8], words: &[u32]) {
    for (dst, w) in push.chunks_exact_mut(4).zip(words) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
}

export_plugin!(Dynamic4d);
