//! Scene upload: the splat arrays resident on the GPU, the inputs of the preprocess stage and
//! what a scene-variant stage writes (shaders/include/variant.glsl).
//!
//! Invariants: every array holds exactly `num_splats` entries (the optional ones a 4-byte
//! placeholder when unused, so bindings stay valid); `flags` says which optional inputs
//! preprocess reads; opacity factors start at 1 and everything else at 0. Preprocess reaches
//! every array by device address, so a scene is limited by the largest allocation, not by one
//! storage binding's range; a variant stage binds them as descriptors, so a scene it writes
//! must have each array within one binding (`Renderer::check_bindable`).

use vksplat_io::half::f32_to_half;
use vksplat_io::memory;
use vksplat_io::Splats;
use vksplat_vk::{Buffer, BufferUsage, MemoryLocation};

use super::Renderer;
use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::types::SplatExtras;

/// A scene resident on the GPU (inputs of the preprocess stage).
///
/// Its buffers are the ones a scene-variant stage writes (shaders/include/variant.glsl):
/// see [`GpuScene::buffers`] for the binding order.
pub struct GpuScene {
    pub(super) num_splats: u32,
    pub(super) sh_degree: u32,
    pub(super) sh_stride: u32,
    /// SPLAT_USE_* bits: which optional inputs preprocess reads.
    pub(super) flags: u32,
    pub(super) means: Buffer,
    pub(super) rotations: Buffer,
    pub(super) log_scales: Buffer,
    pub(super) opacities: Buffer,
    pub(super) sh: [Buffer; 3],
    /// 6 floats per splat when `flags` has SPLAT_USE_COVARIANCE, else a 4-byte placeholder.
    pub(super) covariances: Buffer,
    /// 1 float per splat when `flags` has SPLAT_USE_OPACITY_SCALE, else a placeholder.
    pub(super) opacity_scale: Buffer,
}

impl GpuScene {
    /// The arrays preprocess_sh3_texels reads as texels, in `PreprocessTexelBindings` order
    /// (SH planes, means, rotations, log-scales, opacity logits); none for a scene with
    /// covariances or opacity factors, which that kernel does not read.
    pub(super) fn texel_inputs(&self) -> Option<[&Buffer; 7]> {
        let static_scene = self.flags & (SPLAT_USE_COVARIANCE | SPLAT_USE_OPACITY_SCALE) == 0;
        static_scene.then_some([
            &self.sh[0],
            &self.sh[1],
            &self.sh[2],
            &self.means,
            &self.rotations,
            &self.log_scales,
            &self.opacities,
        ])
    }

    pub fn len(&self) -> u32 {
        self.num_splats
    }

    pub fn is_empty(&self) -> bool {
        self.num_splats == 0
    }

    pub fn sh_degree(&self) -> u32 {
        self.sh_degree
    }

    pub fn uses_covariance(&self) -> bool {
        self.flags & SPLAT_USE_COVARIANCE != 0
    }

    pub fn uses_opacity_scale(&self) -> bool {
        self.flags & SPLAT_USE_OPACITY_SCALE != 0
    }

    /// The scene's buffers in binding order 0..FIRST_PLUGIN_BINDING: means, rotations,
    /// log_scales, opacity_logits, sh_r, sh_g, sh_b, covariances, opacity_scale.
    pub fn buffers(&self) -> [&Buffer; FIRST_PLUGIN_BINDING as usize] {
        SceneBindings {
            means: &self.means,
            rotations: &self.rotations,
            log_scales: &self.log_scales,
            opacity_logits: &self.opacities,
            sh_r: &self.sh[0],
            sh_g: &self.sh[1],
            sh_b: &self.sh[2],
            covariances: &self.covariances,
            opacity_scale: &self.opacity_scale,
        }
        .list()
    }
}

/// Which optional per-splat inputs a scene created with [`Renderer::create_scene`] has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SceneOptions {
    /// Read a world-space 3×3 covariance per splat instead of rotation + scale.
    pub covariance: bool,
    /// Multiply each splat's opacity by a per-splat factor.
    pub opacity_scale: bool,
    /// Store SH coefficients as IEEE half floats (half the SH memory; decoded in the shader
    /// with `unpackHalf2x16`, so no 16-bit storage feature is needed). Not for variant stages.
    pub sh_half: bool,
}

/// New contents for some of a scene's arrays ([`Renderer::write_scene`]); `None` keeps the
/// current contents. Lengths must match the scene's splat count.
#[derive(Clone, Copy, Debug, Default)]
pub struct SceneUpdate<'a> {
    pub means: Option<&'a [[f32; 3]]>,
    pub rotations: Option<&'a [[f32; 4]]>,
    pub log_scales: Option<&'a [[f32; 3]]>,
    pub opacity_logits: Option<&'a [f32]>,
    /// Coefficient-major SH, (deg+1)² × 3 floats per splat, as in `Splats::sh`.
    pub sh: Option<&'a [f32]>,
    pub covariances: Option<&'a [[f32; 6]]>,
    pub opacity_scale: Option<&'a [f32]>,
}

impl Renderer {
    /// Uploads a scene. The splats must pass `Splats::validate` (finite values, consistent
    /// lengths); quaternions need not be normalised.
    pub fn upload_scene(&self, splats: &Splats) -> Result<GpuScene, CoreError> {
        self.upload_scene_ext(splats, &SplatExtras::default())
    }

    /// [`Renderer::upload_scene`] with plugin-provided covariances and opacity factors.
    pub fn upload_scene_ext(
        &self,
        splats: &Splats,
        extras: &SplatExtras,
    ) -> Result<GpuScene, CoreError> {
        self.upload_scene_with(splats, extras, SceneOptions::default())
    }

    /// [`Renderer::upload_scene_ext`] with storage options (e.g. half-precision SH); the
    /// covariance and opacity-factor options follow `extras`.
    pub fn upload_scene_with(
        &self,
        splats: &Splats,
        extras: &SplatExtras,
        options: SceneOptions,
    ) -> Result<GpuScene, CoreError> {
        if extras.covariances.is_none() {
            splats.validate().map_err(CoreError::InvalidScene)?;
        }
        let options = SceneOptions {
            covariance: extras.covariances.is_some(),
            opacity_scale: extras.opacity_scale.is_some(),
            sh_half: options.sh_half,
        };
        let mut scene = self.create_scene(splats.len(), splats.sh_degree, options)?;
        self.write_scene(
            &mut scene,
            &SceneUpdate {
                means: Some(&splats.means),
                rotations: Some(&splats.rotations),
                log_scales: Some(&splats.log_scales),
                opacity_logits: Some(&splats.opacity_logits),
                sh: Some(&splats.sh),
                covariances: extras.covariances.as_deref(),
                opacity_scale: extras.opacity_scale.as_deref(),
            },
        )?;
        Ok(scene)
    }

    /// Allocates a scene of `num_splats` splats with every array zeroed (opacity factors 1),
    /// for a variant stage or [`Renderer::write_scene`] to fill.
    pub fn create_scene(
        &self,
        num_splats: usize,
        sh_degree: u32,
        options: SceneOptions,
    ) -> Result<GpuScene, CoreError> {
        if sh_degree > 3 {
            return Err(CoreError::InvalidScene(format!(
                "SH degree {sh_degree} (at most 3)"
            )));
        }
        let n = u32::try_from(num_splats)
            .ok()
            .filter(|&v| v < u32::MAX / 64)
            .ok_or_else(|| CoreError::TooLarge(format!("{num_splats} splats")))?;
        let n64 = n as u64;
        let k = ((sh_degree + 1) * (sh_degree + 1)) as u64;
        // Every array is reached by address in preprocess, so a scene is limited by the
        // largest allocation, not by one binding's range (a variant stage, which binds them,
        // checks that they fit: `check_bindable`).
        let s = |name: &str, bytes: u64| self.addressed(name, bytes);
        let mut flags = 0;
        if options.covariance {
            flags |= SPLAT_USE_COVARIANCE;
        }
        if options.opacity_scale {
            flags |= SPLAT_USE_OPACITY_SCALE;
        }
        if options.sh_half {
            flags |= SPLAT_SH_HALF;
        }
        // Half SH: two coefficients per 4-byte word over the whole channel array.
        let sh_bytes = if options.sh_half {
            (n64 * k).div_ceil(2) * 4
        } else {
            n64 * k * 4
        };
        // A CPU device's memory is host memory: check the process can get the scene's.
        if self.ctx.info().kind == vksplat_vk::DeviceKind::Cpu {
            let per_splat = 12
                + 16
                + 12
                + 4
                + if options.covariance { 24 } else { 0 }
                + if options.opacity_scale { 4 } else { 0 };
            let bytes = n64 * per_splat + 3 * sh_bytes;
            memory::probe(bytes)
                .map_err(|e| CoreError::host_memory(format!("a scene of {n} splats"), e))?;
        }
        let scene = GpuScene {
            num_splats: n,
            sh_degree,
            sh_stride: k as u32,
            flags,
            means: s("scene.means", n64 * 12)?,
            rotations: s("scene.rotations", n64 * 16)?,
            log_scales: s("scene.log_scales", n64 * 12)?,
            opacities: s("scene.opacity_logits", n64 * 4)?,
            sh: [
                s("scene.sh_r", sh_bytes)?,
                s("scene.sh_g", sh_bytes)?,
                s("scene.sh_b", sh_bytes)?,
            ],
            covariances: s(
                "scene.covariances",
                if options.covariance { n64 * 24 } else { 4 },
            )?,
            opacity_scale: s(
                "scene.opacity_scale",
                if options.opacity_scale { n64 * 4 } else { 4 },
            )?,
        };
        let mut rec = self.ctx.begin()?;
        for b in scene.buffers() {
            rec.fill(b, None, 0);
        }
        // The loop filled opacity_scale too: order the two writes (synchronization
        // validation reports a write-after-write hazard otherwise).
        rec.barrier();
        rec.fill(&scene.opacity_scale, None, 1.0f32.to_bits());
        self.ctx.submit_and_wait(rec)?;
        Ok(scene)
    }

    /// Replaces some of a scene's arrays with host data (the CPU path of scene variants).
    pub fn write_scene(&self, scene: &mut GpuScene, update: &SceneUpdate) -> Result<(), CoreError> {
        let n = scene.num_splats as usize;
        let k = scene.sh_stride as usize;
        let check = |name: &str, len: Option<usize>, per: usize| match len {
            Some(l) if l != n * per => Err(CoreError::InvalidScene(format!(
                "{name}: {l} values for {n} splats (expected {})",
                n * per
            ))),
            _ => Ok(()),
        };
        check("means", update.means.map(|v| v.len()), 1)?;
        check("rotations", update.rotations.map(|v| v.len()), 1)?;
        check("log_scales", update.log_scales.map(|v| v.len()), 1)?;
        check("opacity_logits", update.opacity_logits.map(|v| v.len()), 1)?;
        check("sh", update.sh.map(|v| v.len()), k * 3)?;
        check("covariances", update.covariances.map(|v| v.len()), 1)?;
        check("opacity_scale", update.opacity_scale.map(|v| v.len()), 1)?;
        if update.covariances.is_some() && !scene.uses_covariance() {
            return Err(CoreError::InvalidScene(
                "scene was created without covariances".into(),
            ));
        }
        if update.opacity_scale.is_some() && !scene.uses_opacity_scale() {
            return Err(CoreError::InvalidScene(
                "scene was created without opacity factors".into(),
            ));
        }
        let s = &*scene;
        let plain: [(&Buffer, Option<&[u8]>); 6] = [
            (&s.means, update.means.map(bytemuck::cast_slice)),
            (&s.rotations, update.rotations.map(bytemuck::cast_slice)),
            (&s.log_scales, update.log_scales.map(bytemuck::cast_slice)),
            (
                &s.opacities,
                update.opacity_logits.map(bytemuck::cast_slice),
            ),
            (&s.covariances, update.covariances.map(bytemuck::cast_slice)),
            (
                &s.opacity_scale,
                update.opacity_scale.map(bytemuck::cast_slice),
            ),
        ];
        let mut parts: Vec<(&Buffer, Source)> = plain
            .into_iter()
            .filter_map(|(b, d)| d.map(|d| (b, Source::Bytes(d))))
            .collect();
        // SH goes to the GPU as one array per colour channel, deinterleaved on the way.
        if let Some(sh) = update.sh {
            let half = s.flags & SPLAT_SH_HALF != 0;
            for (channel, b) in s.sh.iter().enumerate() {
                parts.push((b, Source::Channel { sh, channel, half }));
            }
        }
        let total: u64 = parts.iter().map(|(_, p)| p.len()).sum();
        if total == 0 {
            return Ok(());
        }
        // Staging memory is host memory on every device: report a shortage as such. At most
        // STAGING_STEP bytes of it, reused step by step, so a large scene is never held twice
        // on the host.
        let step = total.min(STAGING_STEP);
        let oom = |e| CoreError::host_memory(format!("uploading {n} splats"), e);
        let mut bytes: Vec<u8> = memory::with_capacity(step as usize).map_err(oom)?;
        let mut staging = self.ctx.create_buffer(
            "scene.staging",
            step,
            BufferUsage::Staging,
            MemoryLocation::CpuToGpu,
        )?;
        // (part, offset in it, bytes, offset in the staging buffer) of the current step.
        let mut pieces: Vec<(usize, u64, u64, u64)> = Vec::new();
        let mut used = 0;
        for (k, (_, src)) in parts.iter().enumerate() {
            let mut from = 0;
            while from < src.len() {
                let len = (src.len() - from).min(step - used);
                pieces.push((k, from, len, used));
                (from, used) = (from + len, used + len);
                if used == step {
                    self.upload_step(&mut staging, &mut bytes, &parts, &pieces)?;
                    (pieces, used) = (Vec::new(), 0);
                }
            }
        }
        if !pieces.is_empty() {
            self.upload_step(&mut staging, &mut bytes, &parts, &pieces)?;
        }
        Ok(())
    }

    /// One step of [`Renderer::write_scene`]: `pieces` into `staging` (through `bytes`), then
    /// copied to their buffers; waits, so the staging buffer can be reused.
    fn upload_step(
        &self,
        staging: &mut Buffer,
        bytes: &mut Vec<u8>,
        parts: &[(&Buffer, Source)],
        pieces: &[(usize, u64, u64, u64)],
    ) -> Result<(), CoreError> {
        for &(k, from, len, at) in pieces {
            bytes.clear();
            parts[k].1.fill(from, len, bytes);
            staging.write_at(at, bytes)?;
        }
        let mut rec = self.ctx.begin()?;
        for &(k, from, len, at) in pieces {
            rec.copy_region(staging, at, parts[k].0, from, len)?;
        }
        self.ctx.submit_and_wait(rec)?;
        Ok(())
    }
}

/// Most host staging memory one scene upload uses: larger scenes go up in steps.
const STAGING_STEP: u64 = 64 << 20;

/// What one of a scene's GPU arrays receives from the host.
enum Source<'a> {
    /// The array's bytes as they are.
    Bytes(&'a [u8]),
    /// Colour channel `channel` of coefficient-major SH (`Splats::sh`), as f32 or, with
    /// `half`, as IEEE halves (nearest, ties to even) two per 4-byte word, low half first
    /// (the layout `half_at` in preprocess.comp reads).
    Channel {
        sh: &'a [f32],
        channel: usize,
        half: bool,
    },
}

impl Source<'_> {
    /// Bytes the array receives (a multiple of 4).
    fn len(&self) -> u64 {
        match *self {
            Source::Bytes(d) => d.len() as u64,
            Source::Channel { sh, half, .. } => {
                let values = sh.len() as u64 / 3;
                4 * if half { values.div_ceil(2) } else { values }
            }
        }
    }

    /// Appends bytes `from..from + len` of the array (both multiples of 4) to `out`.
    fn fill(&self, from: u64, len: u64, out: &mut Vec<u8>) {
        let (from, len) = (from as usize, len as usize);
        match *self {
            Source::Bytes(d) => out.extend_from_slice(&d[from..from + len]),
            Source::Channel { sh, channel, half } => {
                let value = |i: usize| sh.get(3 * i + channel).copied();
                for w in from / 4..(from + len) / 4 {
                    let word = if half {
                        let lo = value(2 * w).map_or(0, f32_to_half);
                        let hi = value(2 * w + 1).map_or(0, f32_to_half);
                        lo as u32 | (hi as u32) << 16
                    } else {
                        value(w).unwrap_or(0.0).to_bits()
                    };
                    out.extend_from_slice(&word.to_le_bytes());
                }
            }
        }
    }
}
