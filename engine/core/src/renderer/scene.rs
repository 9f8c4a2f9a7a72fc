//! Scene upload: the splat arrays resident on the GPU, the inputs of the preprocess stage and
//! what a scene-variant stage writes (shaders/include/variant.glsl).
//!
//! Invariants: every array holds exactly `num_splats` entries (the optional ones a 4-byte
//! placeholder when unused, so bindings stay valid); `flags` says which optional inputs
//! preprocess reads; opacity factors start at 1 and everything else at 0.

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
        let s = |name: &str, bytes: u64| self.storage(name, bytes);
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
            let per_splat = 12 + 16 + 12 + 4 + if options.covariance { 24 } else { 0 };
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
                self.addressed("scene.sh_r", sh_bytes)?,
                self.addressed("scene.sh_g", sh_bytes)?,
                self.addressed("scene.sh_b", sh_bytes)?,
            ],
            covariances: self.addressed(
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
        // SH goes to the GPU as one array per colour channel (host copies, fallible).
        let half = scene.flags & SPLAT_SH_HALF != 0;
        let channels: Option<[Vec<f32>; 3]> = match update.sh {
            None => None,
            Some(sh) => {
                let oom = |e| CoreError::host_memory(format!("the SH of {n} splats"), e);
                let channel = |c: usize| -> Result<Vec<f32>, CoreError> {
                    let ch = sh.chunks_exact(3).map(|rgb| rgb[c]);
                    if half {
                        pack_halves(ch, sh.len() / 3).map_err(oom)
                    } else {
                        let mut v = memory::with_capacity(sh.len() / 3).map_err(oom)?;
                        v.extend(ch);
                        Ok(v)
                    }
                };
                Some([channel(0)?, channel(1)?, channel(2)?])
            }
        };
        let mut parts: Vec<(&Buffer, &[u8])> = Vec::new();
        let s = &*scene;
        let pairs: [(&Buffer, Option<&[u8]>); 9] = [
            (&s.means, update.means.map(bytemuck::cast_slice)),
            (&s.rotations, update.rotations.map(bytemuck::cast_slice)),
            (&s.log_scales, update.log_scales.map(bytemuck::cast_slice)),
            (
                &s.opacities,
                update.opacity_logits.map(bytemuck::cast_slice),
            ),
            (
                &s.sh[0],
                channels.as_ref().map(|c| bytemuck::cast_slice(&c[0])),
            ),
            (
                &s.sh[1],
                channels.as_ref().map(|c| bytemuck::cast_slice(&c[1])),
            ),
            (
                &s.sh[2],
                channels.as_ref().map(|c| bytemuck::cast_slice(&c[2])),
            ),
            (&s.covariances, update.covariances.map(bytemuck::cast_slice)),
            (
                &s.opacity_scale,
                update.opacity_scale.map(bytemuck::cast_slice),
            ),
        ];
        for (b, d) in pairs {
            if let Some(d) = d {
                parts.push((b, d));
            }
        }
        let total: u64 = parts.iter().map(|(_, d)| d.len() as u64).sum();
        if total == 0 {
            return Ok(());
        }
        // Staging memory is host memory on every device: report a shortage as such.
        memory::probe(total)
            .map_err(|e| CoreError::host_memory(format!("uploading {n} splats"), e))?;
        let mut staging = self.ctx.create_buffer(
            "scene.staging",
            total,
            BufferUsage::Staging,
            MemoryLocation::CpuToGpu,
        )?;
        // Straight into the mapped staging memory: no host-side concatenation.
        let mut at = 0;
        for (_, d) in &parts {
            staging.write_at(at, d)?;
            at += d.len() as u64;
        }
        let mut rec = self.ctx.begin()?;
        let mut offset = 0;
        for (b, d) in &parts {
            rec.copy_region(&staging, offset, b, 0, d.len() as u64)?;
            offset += d.len() as u64;
        }
        self.ctx.submit_and_wait(rec)?;
        Ok(())
    }
}

/// Packs the `len` values as consecutive IEEE halves (nearest, ties to even), two per
/// f32-sized word (low half first), the layout `half_at` in preprocess.comp reads.
fn pack_halves(
    mut values: impl Iterator<Item = f32>,
    len: usize,
) -> Result<Vec<f32>, memory::AllocError> {
    let mut out = memory::with_capacity(len.div_ceil(2))?;
    while let Some(lo) = values.next() {
        let hi = values.next().map_or(0, f32_to_half);
        out.push(f32::from_bits(f32_to_half(lo) as u32 | (hi as u32) << 16));
    }
    Ok(out)
}
