//! The frame, top to bottom.
//!
//! [`Renderer::render`] records every stage of DESIGN.md §3 into one command buffer and
//! submits it once; counts flow between stages through the control buffer and indirect
//! dispatches, never through the host. The only readback is the finished image, its depth and
//! the control buffer. If the frame needed more intersections than the buffers hold (the GPU
//! clamps, never writes out of bounds), the host grows the buffers and renders the frame again,
//! so no splat is ever dropped silently.

use std::sync::Arc;

use vksplat_io::memory;
use vksplat_io::{Camera, Splats};
use vksplat_vk::{Buffer, BufferUsage, ComputePipeline, Context, MemoryLocation, Recorder};

use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::shaders::Kernels;
use crate::sort::{bits_for, record_scan, record_sort, Groups, ScanIo, SortIo};
use crate::types::{tile_grid, Frame, ProjectedSplat, RenderMode, RenderSettings, SplatExtras};

/// A scene resident on the GPU (inputs of the preprocess stage).
///
/// Its buffers are the ones a scene-variant stage writes (shaders/include/variant.glsl):
/// see [`GpuScene::buffers`] for the binding order.
pub struct GpuScene {
    num_splats: u32,
    sh_degree: u32,
    sh_stride: u32,
    /// SPLAT_USE_* bits: which optional inputs preprocess reads.
    flags: u32,
    means: Buffer,
    rotations: Buffer,
    log_scales: Buffer,
    opacities: Buffer,
    sh: [Buffer; 3],
    /// 6 floats per splat when `flags` has SPLAT_USE_COVARIANCE, else a 4-byte placeholder.
    covariances: Buffer,
    /// 1 float per splat when `flags` has SPLAT_USE_OPACITY_SCALE, else a placeholder.
    opacity_scale: Buffer,
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
        [
            &self.means,
            &self.rotations,
            &self.log_scales,
            &self.opacities,
            &self.sh[0],
            &self.sh[1],
            &self.sh[2],
            &self.covariances,
            &self.opacity_scale,
        ]
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

/// A compute stage that runs before preprocess and writes the scene's buffers (a
/// scene-variant plugin's shader). Bindings 0..FIRST_PLUGIN_BINDING are the scene's buffers
/// ([`GpuScene::buffers`]), then `extra_buffers` in order.
pub struct VariantStage<'a> {
    pub pipeline: &'a ComputePipeline,
    pub extra_buffers: Vec<&'a Buffer>,
    pub push_constants: Vec<u8>,
    pub workgroups: [u32; 3],
}

/// Measurements of one rendered frame.
#[derive(Clone, Debug, Default)]
pub struct FrameStats {
    /// (tile, splat) pairs the frame sorted and blended.
    pub intersections: u64,
    /// Splats that survived culling and touch at least one tile.
    pub visible_splats: u64,
    /// Submissions the frame took: 1 normally; +1 for the sizing pass on the first frame of a
    /// new scene or image size; +1 for each regrow when a later frame needed more room.
    pub attempts: u32,
    /// GPU time at the end of each stage, in ns since the frame's first timestamp.
    pub stage_end_ns: Vec<(String, f64)>,
    /// Device memory held by the renderer's buffers and the scene, in bytes.
    pub device_bytes: u64,
}

impl FrameStats {
    /// Duration of each stage in milliseconds.
    pub fn stage_ms(&self) -> Vec<(String, f64)> {
        self.stage_end_ns
            .windows(2)
            .map(|w| (w[1].0.clone(), (w[1].1 - w[0].1) / 1e6))
            .collect()
    }
}

/// Intermediate results of a frame, read back for tests.
#[derive(Clone, Debug, Default)]
pub struct StageOutputs {
    pub projected: Vec<Option<ProjectedSplat>>,
    /// Splat indices after the depth sort (all splats, culled ones last).
    pub depth_order: Vec<u32>,
    /// (tile id, splat index) after the tile sort.
    pub intersections: Vec<(u32, u32)>,
}

/// Per-frame working buffers, sized for a splat count, an image size and an intersection
/// capacity.
struct FrameBuffers {
    num_splats: u32,
    width: u32,
    height: u32,
    capacity: u32,
    control: Buffer,
    /// PreprocessParams of the frame (written by the command buffer itself).
    params: Buffer,
    projected: Buffer,
    rects: Buffer,
    depth_keys: [Buffer; 2],
    ids: [Buffer; 2],
    offsets: Buffer,
    depth_hist: Buffer,
    block_sums: Buffer,
    tile_keys: [Buffer; 2],
    tile_values: [Buffer; 2],
    tile_hist: Buffer,
    ranges: Buffer,
    out_rgba: Buffer,
    out_depth: Buffer,
    readback: Buffer,
}

/// A finished frame with its statistics and, when asked for, its intermediate stages.
type FullFrame = (Frame, FrameStats, Option<StageOutputs>);

/// The size in bytes of every buffer of [`FrameBuffers`], computed before any is allocated.
struct FrameSizes {
    num_splats: u32,
    width: u32,
    height: u32,
    control: u64,
    params: u64,
    projected: u64,
    rects: u64,
    /// Each of depth_keys[2], ids[2] and offsets.
    per_splat_u32: u64,
    depth_hist: u64,
    block_sums: u64,
    /// Each of tile_keys[2] and tile_values[2].
    per_isect_u32: u64,
    tile_hist: u64,
    ranges: u64,
    rgba: u64,
    depth: u64,
    readback: u64,
}

impl FrameSizes {
    fn new(n: u32, width: u32, height: u32, capacity: u32) -> Self {
        let cap = capacity as u64;
        let n64 = n as u64;
        let pixels = width as u64 * height as u64;
        let [tx, ty] = tile_grid(width, height);
        let depth_blocks = n64.div_ceil(SORT_BLOCK_KEYS as u64);
        let tile_blocks = cap.div_ceil(SORT_BLOCK_KEYS as u64);
        let scan_blocks = [
            n64.div_ceil(SCAN_BLOCK as u64),
            (256 * depth_blocks).div_ceil(SCAN_BLOCK as u64),
            (256 * tile_blocks).div_ceil(SCAN_BLOCK as u64),
        ]
        .into_iter()
        .max()
        .unwrap_or(1);
        FrameSizes {
            num_splats: n,
            width,
            height,
            control: CTL_LEN as u64 * 4,
            params: std::mem::size_of::<PreprocessParams>() as u64,
            projected: n64 * 48,
            rects: n64 * 8,
            per_splat_u32: n64 * 4,
            depth_hist: depth_blocks * 256 * 4,
            block_sums: scan_blocks * 4,
            per_isect_u32: cap * 4,
            tile_hist: tile_blocks * 256 * 4,
            ranges: tx as u64 * ty as u64 * 8,
            rgba: pixels * 16,
            depth: pixels * 4,
            readback: frame_readback_bytes(width, height),
        }
    }

    /// Buffers bound as storage descriptors (limited by one binding's range).
    fn bound(&self) -> [(&'static str, u64); 9] {
        [
            ("frame.control", self.control),
            ("frame.params", self.params),
            ("frame.rects", self.rects),
            ("frame.depth_keys", self.per_splat_u32),
            ("frame.offsets", self.per_splat_u32),
            ("frame.depth_hist", self.depth_hist),
            ("frame.block_sums", self.block_sums),
            ("frame.tile_hist", self.tile_hist),
            ("frame.ranges", self.ranges),
        ]
    }

    /// Buffers reached by device address (limited by the largest allocation).
    fn addressed(&self) -> [(&'static str, u64); 4] {
        [
            ("frame.projected", self.projected),
            ("frame.tile_keys", self.per_isect_u32),
            ("frame.rgba", self.rgba),
            ("frame.depth", self.depth),
        ]
    }

    /// All device-local bytes of the frame.
    fn device_total(&self) -> u64 {
        let bound: u64 = self.bound().iter().map(|b| b.1).sum();
        // depth_keys1, ids0 and ids1 are not in `bound`.
        let pairs = 3 * self.per_splat_u32;
        bound + pairs + self.projected + 4 * self.per_isect_u32 + self.rgba + self.depth
    }

    /// Host bytes of one view's image once read back (the [`Frame`]'s arrays).
    fn host_copy(&self) -> u64 {
        self.rgba + self.depth
    }
}

/// Owns the device's pipelines and the per-frame buffers.
pub struct Renderer {
    ctx: Arc<Context>,
    kernels: Kernels,
    buffers: Option<FrameBuffers>,
    /// Intersection capacity for the next frame; grows when a frame needs more.
    capacity: u32,
    /// Host-visible buffer the views of a batch are read back into, kept between batches
    /// (allocating and faulting in a fresh one per batch costs more than the copy).
    batch_readback: Option<Buffer>,
}

const MAX_IMAGE_SIDE: u32 = 32768;

/// The largest scenes and images a device holds ([`Renderer::device_limits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceLimits {
    /// Largest image width or height.
    pub max_image_side: u32,
    /// Largest width × height.
    pub max_image_pixels: u64,
    /// Largest splat count of a scene with rotations and scales and f32 SH, by SH degree
    /// (index 0..=3).
    pub max_splats: [u64; 4],
}

impl Renderer {
    pub fn new(ctx: Arc<Context>) -> Result<Self, CoreError> {
        let kernels = Kernels::new(&ctx)?;
        Ok(Renderer {
            ctx,
            kernels,
            buffers: None,
            capacity: 1 << 16,
            batch_readback: None,
        })
    }

    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// Largest buffer the shaders can bind on this device.
    fn max_binding(&self) -> u64 {
        self.ctx.info().max_storage_buffer_range
    }

    /// Largest buffer the shaders reach by device address (not bound as a descriptor).
    fn max_addressed(&self) -> u64 {
        let info = self.ctx.info();
        info.max_memory_allocation_size
            .min(info.device_local_bytes.max(1 << 30))
    }

    /// A device-local buffer that shaders reach by device address only, so it may exceed one
    /// binding's range.
    fn addressed(&self, name: &str, bytes: u64) -> Result<Buffer, CoreError> {
        if bytes > self.max_addressed() {
            return Err(CoreError::TooLarge(format!(
                "buffer '{name}' needs {bytes} bytes but {} allocates at most {} bytes at once",
                self.ctx.info().name,
                self.max_addressed()
            )));
        }
        Ok(self
            .ctx
            .create_buffer(name, bytes, BufferUsage::Storage, MemoryLocation::GpuOnly)?)
    }

    /// A device-local buffer that is bound as a storage-buffer descriptor.
    fn storage(&self, name: &str, bytes: u64) -> Result<Buffer, CoreError> {
        if bytes > self.max_binding() {
            return Err(CoreError::TooLarge(format!(
                "buffer '{name}' needs {bytes} bytes but {} binds at most {} bytes per buffer",
                self.ctx.info().name,
                self.max_binding()
            )));
        }
        Ok(self
            .ctx
            .create_buffer(name, bytes, BufferUsage::Storage, MemoryLocation::GpuOnly)?)
    }

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

    /// Creates a device-local buffer holding `data` (through a staging copy).
    pub fn upload(&self, name: &str, data: &[u8]) -> Result<Buffer, CoreError> {
        let dst = self.storage(name, data.len() as u64)?;
        if data.is_empty() {
            return Ok(dst);
        }
        let mut staging = self.ctx.create_buffer(
            &format!("{name}.staging"),
            data.len() as u64,
            BufferUsage::Staging,
            MemoryLocation::CpuToGpu,
        )?;
        staging.write(data)?;
        let mut rec = self.ctx.begin()?;
        rec.copy(&staging, &dst, data.len() as u64)?;
        self.ctx.submit_and_wait(rec)?;
        Ok(dst)
    }

    /// Copies the first `len` bytes of a device buffer to the host.
    pub fn download(&self, src: &Buffer, len: u64) -> Result<Vec<u8>, CoreError> {
        let staging = self.ctx.create_buffer(
            &format!("{}.readback", src.name()),
            len,
            BufferUsage::Staging,
            MemoryLocation::GpuToCpu,
        )?;
        let mut rec = self.ctx.begin()?;
        rec.copy(src, &staging, len)?;
        self.ctx.submit_and_wait(rec)?;
        let bytes = staging.read(len as usize)?;
        memory::copy_of(bytes)
            .map_err(|e| CoreError::host_memory(format!("reading back '{}'", src.name()), e))
    }

    fn ensure_buffers(&mut self, n: u32, width: u32, height: u32) -> Result<(), CoreError> {
        if let Some(b) = &self.buffers {
            if b.num_splats == n
                && b.width == width
                && b.height == height
                && b.capacity == self.capacity
            {
                return Ok(());
            }
        }
        self.buffers = None; // free the old set before allocating the new one
        let z = FrameSizes::new(n, width, height, self.capacity);
        // Every limit and the host memory are checked before the first buffer is allocated.
        self.check_frame_sizes(&z, 1)?;
        let s = |name: &str, bytes: u64| self.storage(name, bytes);
        self.buffers = Some(FrameBuffers {
            num_splats: n,
            width,
            height,
            capacity: self.capacity,
            control: s("frame.control", z.control)?,
            params: s("frame.params", z.params)?,
            projected: self.addressed("frame.projected", z.projected)?,
            rects: s("frame.rects", z.rects)?,
            depth_keys: [
                s("frame.depth_keys0", z.per_splat_u32)?,
                s("frame.depth_keys1", z.per_splat_u32)?,
            ],
            ids: [
                s("frame.ids0", z.per_splat_u32)?,
                s("frame.ids1", z.per_splat_u32)?,
            ],
            offsets: s("frame.offsets", z.per_splat_u32)?,
            depth_hist: s("frame.depth_hist", z.depth_hist)?,
            block_sums: s("frame.block_sums", z.block_sums)?,
            tile_keys: [
                self.addressed("frame.tile_keys0", z.per_isect_u32)?,
                self.addressed("frame.tile_keys1", z.per_isect_u32)?,
            ],
            tile_values: [
                self.addressed("frame.tile_values0", z.per_isect_u32)?,
                self.addressed("frame.tile_values1", z.per_isect_u32)?,
            ],
            tile_hist: s("frame.tile_hist", z.tile_hist)?,
            ranges: s("frame.ranges", z.ranges)?,
            out_rgba: self.addressed("frame.rgba", z.rgba)?,
            out_depth: self.addressed("frame.depth", z.depth)?,
            readback: self.ctx.create_buffer(
                "frame.readback",
                z.readback,
                BufferUsage::Staging,
                MemoryLocation::GpuToCpu,
            )?,
        });
        Ok(())
    }

    /// Checks that every buffer of a frame fits the device's limits (a bound buffer one
    /// binding's range, an addressed one the largest allocation, the readback the largest
    /// allocation) and that the host memory the
    /// frame needs can be had: the readback buffer of `views` views and the host copies of
    /// their images, plus every device buffer on a CPU device (whose memory is host memory).
    /// Nothing is allocated; a frame that cannot fit fails here with a clear error.
    fn check_frame_sizes(&self, z: &FrameSizes, views: u64) -> Result<(), CoreError> {
        let info = self.ctx.info();
        let (w, h) = (z.width, z.height);
        let frame = format!("a {w}x{h} frame of {} splats", z.num_splats);
        let too_large = |what: &str, bytes: u64, limit: u64, rule: &str| {
            CoreError::TooLarge(format!(
                "{frame} needs {what} of {bytes} bytes, but {} {rule} {limit} bytes",
                info.name
            ))
        };
        for (name, bytes) in z.bound() {
            if bytes > self.max_binding() {
                return Err(too_large(
                    &format!("buffer '{name}'"),
                    bytes,
                    self.max_binding(),
                    "binds at most",
                ));
            }
        }
        for (name, bytes) in z.addressed() {
            if bytes > self.max_addressed() {
                return Err(too_large(
                    &format!("buffer '{name}'"),
                    bytes,
                    self.max_addressed(),
                    "allocates at most",
                ));
            }
        }
        let readback = z.readback.saturating_mul(views);
        if readback > info.max_memory_allocation_size {
            return Err(too_large(
                "a host-visible readback buffer",
                readback,
                info.max_memory_allocation_size,
                "allocates at most",
            ));
        }
        // The heap size is not checked: drivers do not enforce it (lavapipe reports 2 GiB and
        // allocates host memory beyond it), so it would refuse frames that render.
        let device = z.device_total();
        let mut host = readback.saturating_add(z.host_copy().saturating_mul(views));
        if info.kind == vksplat_vk::DeviceKind::Cpu {
            host = host.saturating_add(device);
        }
        memory::probe(host).map_err(|e| CoreError::host_memory(frame, e))
    }

    /// Checks, without allocating anything, that a `width`×`height` frame of `num_splats`
    /// splats fits this device and this process (see the frame buffers' rules): the same check
    /// every render runs before it allocates a new frame size. Hosts call it before loading a
    /// large scene so that an impossible image size fails at once.
    pub fn check_frame_size(
        &self,
        num_splats: u32,
        width: u32,
        height: u32,
    ) -> Result<(), CoreError> {
        let z = FrameSizes::new(num_splats, width, height, self.capacity);
        self.check_frame_sizes(&z, 1)
    }

    /// What this device holds, by the buffer rules of [`Renderer::create_scene`] and of the
    /// frame ([`FrameSizes`], checked by [`Renderer::check_frame_size`]): the device's limits
    /// only. Host memory, which depends on the process, is checked when a scene or frame is
    /// allocated, and the camera rules of `vksplat_io::Camera::validate` apply on top.
    pub fn device_limits(&self) -> DeviceLimits {
        let info = self.ctx.info();
        let (bound, addressed) = (self.max_binding(), self.max_addressed());
        // Per splat: the largest bound buffer is the scene's rotations (16 bytes; the frame's
        // rects take 8), the largest addressed ones the frame's projected splats (48 bytes)
        // and each SH channel (4·K bytes); create_scene refuses u32::MAX / 64 splats or more.
        let max_splats = [0u64, 1, 2, 3].map(|degree| {
            let k = (degree + 1) * (degree + 1);
            (bound / 16)
                .min(addressed / 48)
                .min(addressed / (4 * k))
                .min(u64::from(u32::MAX / 64 - 1))
        });
        // Per pixel: the RGBA (16 bytes) and depth images are addressed, the readback holds
        // both plus the control values. The tile ranges (8 bytes per 16×16 tile, at most
        // 32 MiB at the largest side) stay below the 128 MiB every device binds.
        let readback = info
            .max_memory_allocation_size
            .saturating_sub(frame_readback_bytes(0, 0));
        let max_image_pixels = (addressed / 16).min(readback / 20);
        DeviceLimits {
            max_image_side: MAX_IMAGE_SIDE.min(u32::try_from(max_image_pixels).unwrap_or(u32::MAX)),
            max_image_pixels,
            max_splats,
        }
    }

    /// Renders one frame.
    pub fn render(
        &mut self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(Frame, FrameStats), CoreError> {
        let (frame, stats, _) = self.render_inner(scene, None, camera, settings, false)?;
        Ok((frame, stats))
    }

    /// A variant stage binds the scene's buffers as descriptors, so each must fit one binding.
    fn check_bindable(&self, scene: &GpuScene) -> Result<(), CoreError> {
        if scene.flags & SPLAT_SH_HALF != 0 {
            return Err(CoreError::InvalidScene(
                "variant stages write f32 SH; this scene stores half-precision SH".into(),
            ));
        }
        for b in scene.buffers() {
            if b.size() > self.max_binding() {
                return Err(CoreError::TooLarge(format!(
                    "scene buffer '{}' ({} bytes) is larger than one storage binding on {} ({} \
                     bytes), which a variant stage needs",
                    b.name(),
                    b.size(),
                    self.ctx.info().name,
                    self.max_binding()
                )));
            }
        }
        Ok(())
    }

    /// Renders several views of one scene in a single submission (farms: `--all-cameras`).
    /// The views share the working buffers, sized for the largest image, and run one after
    /// another on the GPU; each view's outputs land in its own part of one readback buffer.
    /// Returns one frame per camera, in order; each view's `stage_end_ns` starts at the end
    /// of the view before it.
    pub fn render_batch(
        &mut self,
        scene: &GpuScene,
        cameras: &[Camera],
        settings: &RenderSettings,
    ) -> Result<Vec<(Frame, FrameStats)>, CoreError> {
        for cam in cameras {
            self.check_frame_inputs(cam, settings)?;
        }
        let (Some(w), Some(h)) = (
            cameras.iter().map(|c| c.width).max(),
            cameras.iter().map(|c| c.height).max(),
        ) else {
            return Ok(Vec::new());
        };
        let new_buffers = !matches!(&self.buffers,
            Some(b) if b.num_splats == scene.num_splats && b.width == w && b.height == h);
        let offsets: Vec<u64> = cameras
            .iter()
            .scan(0u64, |acc, c| {
                let o = *acc;
                *acc += frame_readback_bytes(c.width, c.height);
                Some(o)
            })
            .collect();
        let total_bytes: u64 = cameras
            .iter()
            .map(|c| frame_readback_bytes(c.width, c.height))
            .sum();
        // The batch's readback and image copies, checked as a whole before allocating.
        let z = FrameSizes::new(scene.num_splats, w, h, self.capacity);
        self.check_frame_sizes(&z, cameras.len() as u64)?;
        if self
            .batch_readback
            .as_ref()
            .is_none_or(|b| b.size() < total_bytes)
        {
            self.batch_readback = None;
            self.batch_readback = Some(self.ctx.create_buffer(
                "batch.readback",
                total_bytes,
                BufferUsage::Staging,
                MemoryLocation::GpuToCpu,
            )?);
        }
        let out = self.batch_readback.take().expect("just ensured");
        let result = self.render_batch_into(
            scene,
            cameras,
            settings,
            &out,
            &offsets,
            total_bytes,
            (w, h),
            new_buffers,
        );
        self.batch_readback = Some(out);
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn render_batch_into(
        &mut self,
        scene: &GpuScene,
        cameras: &[Camera],
        settings: &RenderSettings,
        out: &Buffer,
        offsets: &[u64],
        total_bytes: u64,
        (w, h): (u32, u32),
        new_buffers: bool,
    ) -> Result<Vec<(Frame, FrameStats)>, CoreError> {
        let max_capacity = self.max_capacity();
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.ensure_buffers(scene.num_splats, w, h)?;
            let size_only = new_buffers && attempts == 1;
            let mut rec = self.ctx.begin()?;
            rec.timestamp("start");
            for (i, cam) in cameras.iter().enumerate() {
                self.record_frame(
                    &mut rec,
                    scene,
                    None,
                    cam,
                    settings,
                    size_only,
                    out,
                    offsets[i],
                    &format!("view{i}/"),
                )?;
            }
            let times = self.ctx.submit_and_wait(rec)?;
            let bytes = out.read(total_bytes as usize)?;
            let ctl_of = |i: usize| -> Vec<u32> {
                let c = &cameras[i];
                let at = if size_only {
                    offsets[i] as usize
                } else {
                    (offsets[i] + c.width as u64 * c.height as u64 * 20) as usize
                };
                bytemuck::pod_collect_to_vec(&bytes[at..at + CTL_LEN as usize * 4])
            };
            let needed = (0..cameras.len())
                .map(|i| ctl_of(i)[CTL_TOTAL_ISECT as usize] as u64)
                .max();
            let needed = needed.unwrap_or(0);
            if needed > max_capacity as u64 {
                return Err(self.too_many_intersections(needed, max_capacity));
            }
            if size_only || needed > self.capacity as u64 {
                let headroom = if size_only { 1.05 } else { 1.25 };
                let grown = ((needed as f64 * headroom) as u64).clamp(1 << 16, max_capacity as u64);
                self.capacity = self.capacity.max(grown as u32);
                continue;
            }
            let device_bytes = self.ctx.allocated_bytes();
            let mut results = Vec::with_capacity(cameras.len());
            let mut previous_end = times.first().map(|t| t.1).unwrap_or(0.0);
            for (i, cam) in cameras.iter().enumerate() {
                let at = offsets[i] as usize;
                let (frame, ctl) = parse_frame(&bytes[at..], cam.width, cam.height)?;
                let prefix = format!("view{i}/");
                let mut stage_end_ns = vec![("start".to_string(), previous_end)];
                stage_end_ns.extend(times.iter().filter_map(|(l, t)| {
                    l.strip_prefix(&prefix).map(|stage| (stage.to_string(), *t))
                }));
                previous_end = stage_end_ns.last().map(|s| s.1).unwrap_or(previous_end);
                let stats = FrameStats {
                    intersections: ctl[CTL_TOTAL_ISECT as usize] as u64,
                    visible_splats: ctl[CTL_VISIBLE as usize] as u64,
                    attempts,
                    stage_end_ns,
                    device_bytes,
                };
                results.push((frame, stats));
            }
            return Ok(results);
        }
    }

    /// Renders one frame whose splats are first written by a variant stage (a plugin shader).
    pub fn render_variant(
        &mut self,
        scene: &GpuScene,
        variant: &VariantStage,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(Frame, FrameStats), CoreError> {
        self.check_bindable(scene)?;
        let (frame, stats, _) = self.render_inner(scene, Some(variant), camera, settings, false)?;
        Ok((frame, stats))
    }

    /// Runs only a variant stage (no rendering), e.g. to read back what a plugin shader wrote
    /// and compare it with the plugin's CPU path.
    pub fn run_variant(&self, scene: &GpuScene, variant: &VariantStage) -> Result<(), CoreError> {
        self.check_bindable(scene)?;
        let mut rec = self.ctx.begin()?;
        let mut bufs: Vec<&Buffer> = scene.buffers().to_vec();
        bufs.extend(variant.extra_buffers.iter().copied());
        rec.dispatch(
            variant.pipeline,
            &bufs,
            &variant.push_constants,
            variant.workgroups,
        )?;
        rec.barrier();
        self.ctx.submit_and_wait(rec)?;
        Ok(())
    }

    /// Renders one frame and also reads back the intermediate stage outputs (for tests).
    pub fn render_with_stages(
        &mut self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(Frame, FrameStats, StageOutputs), CoreError> {
        let (frame, stats, stages) = self.render_inner(scene, None, camera, settings, true)?;
        Ok((frame, stats, stages.unwrap_or_default()))
    }

    fn render_inner(
        &mut self,
        scene: &GpuScene,
        variant: Option<&VariantStage>,
        camera: &Camera,
        settings: &RenderSettings,
        want_stages: bool,
    ) -> Result<(Frame, FrameStats, Option<StageOutputs>), CoreError> {
        self.check_frame_inputs(camera, settings)?;
        let max_capacity = self.max_capacity();
        let mut attempts = 0;
        let new_buffers = !matches!(&self.buffers,
            Some(b) if b.num_splats == scene.num_splats && b.width == camera.width && b.height == camera.height);
        if new_buffers {
            // Size the intersection buffers from this frame's real count: a short submission
            // of preprocess, depth sort and scan, then one tile list that fits.
            self.ensure_buffers(scene.num_splats, camera.width, camera.height)?;
            let (_, total) = self.record_and_run(scene, variant, camera, settings, true, false)?;
            attempts += 1;
            let wanted = ((total as f64 * 1.05) as u64).clamp(1 << 16, max_capacity as u64) as u32;
            if wanted > self.capacity {
                self.capacity = wanted;
            }
        }
        loop {
            attempts += 1;
            self.ensure_buffers(scene.num_splats, camera.width, camera.height)?;
            let (done, total) =
                self.record_and_run(scene, variant, camera, settings, false, want_stages)?;
            let capacity = self.capacity;
            if total <= capacity as u64 {
                let (frame, mut stats, stages) = done.expect("a full frame returns its image");
                stats.attempts = attempts;
                return Ok((frame, stats, stages));
            }
            if total > max_capacity as u64 {
                return Err(self.too_many_intersections(total, max_capacity));
            }
            // Grow with headroom so nearby frames of a sequence fit without another retry.
            self.capacity = ((total as f64 * 1.25) as u64).min(max_capacity as u64) as u32;
            log::info!(
                "growing intersection buffers from {capacity} to {}",
                self.capacity
            );
        }
    }

    /// Camera and settings checks shared by every render entry point.
    fn check_frame_inputs(
        &self,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(), CoreError> {
        camera.validate().map_err(CoreError::InvalidCamera)?;
        if camera.width > MAX_IMAGE_SIDE || camera.height > MAX_IMAGE_SIDE {
            return Err(CoreError::InvalidCamera(format!(
                "image {}x{} is larger than {MAX_IMAGE_SIDE} pixels on a side",
                camera.width, camera.height
            )));
        }
        if settings.background.iter().any(|v| !v.is_finite()) {
            return Err(CoreError::InvalidCamera(
                "background colour is not finite".into(),
            ));
        }
        Ok(())
    }

    /// Most intersections one frame may have: u32-indexed, 4 bytes per key or value array,
    /// reached by device address.
    fn max_capacity(&self) -> u32 {
        (self.max_addressed() / 4).min(1 << 31) as u32
    }

    fn too_many_intersections(&self, total: u64, max_capacity: u32) -> CoreError {
        CoreError::TooLarge(format!(
            "the frame needs {total} tile intersections; {} holds at most {max_capacity} \
             (lower the resolution or the splat sizes)",
            self.ctx.info().name
        ))
    }

    fn preprocess_params(
        &self,
        scene: &GpuScene,
        cam: &Camera,
        mode: RenderMode,
    ) -> PreprocessParams {
        let m = cam.world_to_camera;
        let [tx, ty] = tile_grid(cam.width, cam.height);
        let (cx, cy) = match mode {
            RenderMode::Inria => (cam.width as f32 / 2.0, cam.height as f32 / 2.0),
            _ => (cam.cx, cam.cy),
        };
        let p = cam.position();
        PreprocessParams {
            view_rows: [m[0], m[1], m[2]],
            cam_pos: [p[0], p[1], p[2], 1.0],
            intrinsics: [cam.fx, cam.fy, cx, cy],
            width: cam.width,
            height: cam.height,
            num_splats: scene.num_splats,
            sh_degree: scene.sh_degree,
            mode: mode.shader_id(),
            tiles_x: tx,
            tiles_y: ty,
            sh_stride: scene.sh_stride,
            flags: scene.flags,
            pad: [0; 3],
        }
    }

    /// Records one frame (every stage of DESIGN.md §3) into `rec`, ending with copies of its
    /// outputs into `out` at `out_offset` ([`frame_readback_bytes`] layout). With `size_only`
    /// it stops after the scan and copies only the control buffer: the first frame of a new
    /// scene or image size uses that to size the intersection buffers instead of guessing.
    /// Timestamps are labelled `prefix` + stage. Returns which ping-pong buffers hold the
    /// depth-sorted ids and the tile-sorted pairs.
    #[allow(clippy::too_many_arguments)]
    fn record_frame<'a>(
        &'a self,
        rec: &mut Recorder<'a>,
        scene: &'a GpuScene,
        variant: Option<&'a VariantStage<'a>>,
        camera: &Camera,
        settings: &RenderSettings,
        size_only: bool,
        out: &'a Buffer,
        out_offset: u64,
        prefix: &str,
    ) -> Result<(usize, usize), CoreError> {
        let b = self.buffers.as_ref().expect("ensure_buffers ran");
        let k = &self.kernels;
        let n = scene.num_splats;
        let (w, h) = (camera.width, camera.height);
        let [tiles_x, tiles_y] = tile_grid(w, h);
        let depth_blocks = n.div_ceil(SORT_BLOCK_KEYS);

        let mut control = [0u32; CTL_LEN as usize];
        control[CTL_NUM_SPLATS as usize] = n;
        control[CTL_ISECT_CAPACITY as usize] = b.capacity;
        control[(CTL_DEPTH_SORT + SORT_NUM_KEYS) as usize] = n;
        control[(CTL_DEPTH_SORT + SORT_NUM_BLOCKS) as usize] = depth_blocks;
        control[(CTL_DEPTH_SORT + SORT_HIST_LEN) as usize] = depth_blocks * 256;

        // Earlier frames in the same command buffer may still read these buffers.
        rec.barrier();
        rec.update(&b.control, 0, bytemuck::cast_slice(&control))?;
        rec.fill(&b.ranges, None, 0);
        rec.barrier();

        // 1. variant stage: a plugin's shader writes this frame's splats.
        if let Some(v) = variant {
            let mut bufs: Vec<&Buffer> = scene.buffers().to_vec();
            bufs.extend(v.extra_buffers.iter().copied());
            rec.dispatch(v.pipeline, &bufs, &v.push_constants, v.workgroups)?;
            rec.barrier();
            rec.timestamp(&format!("{prefix}variant"));
        }

        // 2. preprocess
        let pp = self.preprocess_params(scene, camera, settings.mode);
        rec.update(&b.params, 0, bytemuck::bytes_of(&pp))?;
        rec.barrier();
        let arrays = PreprocessArrays {
            sh_r: scene.sh[0].device_address(),
            sh_g: scene.sh[1].device_address(),
            sh_b: scene.sh[2].device_address(),
            covariances: scene.covariances.device_address(),
            projected: b.projected.device_address(),
        };
        rec.dispatch(
            &k.preprocess,
            &[
                &scene.means,
                &scene.rotations,
                &scene.log_scales,
                &scene.opacities,
                &scene.opacity_scale,
                &b.rects,
                &b.depth_keys[0],
                &b.ids[0],
                &b.params,
                &b.control,
            ],
            bytemuck::bytes_of(&arrays),
            groups_2d(n.div_ceil(WORKGROUP)),
        )?;
        rec.barrier();
        rec.timestamp(&format!("{prefix}preprocess"));

        // Depth sort of the splats (culled ones carry key 0xFFFFFFFF and sort last).
        let depth_io = SortIo {
            control: &b.control,
            keys: [&b.depth_keys[0], &b.depth_keys[1]],
            values: [&b.ids[0], &b.ids[1]],
            hist: &b.depth_hist,
            block_sums: &b.block_sums,
        };
        let sorted = record_sort(
            rec,
            k,
            &depth_io,
            CTL_DEPTH_SORT,
            32,
            Groups::Direct(groups_2d(depth_blocks)),
            Groups::Direct(groups_2d((depth_blocks * 256).div_ceil(SCAN_BLOCK))),
        )?;
        let ids = &b.ids[sorted];
        rec.timestamp(&format!("{prefix}depth_sort"));

        // 3. scan of the tiles touched, in depth order → offsets and the total.
        let scan_io = ScanIo {
            control: &b.control,
            input: &b.offsets,
            output: &b.offsets,
            block_sums: &b.block_sums,
            rects: &b.rects,
            ids,
        };
        let sp = ScanParams {
            len_slot: CTL_NUM_SPLATS,
            total_slot: CTL_TOTAL_ISECT,
            gather: 1,
            pad: 0,
        };
        record_scan(
            rec,
            k,
            &scan_io,
            sp,
            Groups::Direct(groups_2d(n.div_ceil(SCAN_BLOCK))),
        )?;
        rec.dispatch(&k.dispatch_args, &[&b.control], &[], [1, 1, 1])?;
        rec.barrier();
        rec.timestamp(&format!("{prefix}scan"));
        if size_only {
            rec.copy_region(&b.control, 0, out, out_offset, CTL_LEN as u64 * 4)?;
            return Ok((sorted, 0));
        }

        // 4. key emission
        let ep = EmitParams {
            tile_keys: b.tile_keys[0].device_address(),
            values: b.tile_values[0].device_address(),
            tiles_x,
            num_splats: n,
        };
        rec.dispatch(
            &k.emit_keys,
            &[&b.control, ids, &b.offsets, &b.rects],
            bytemuck::bytes_of(&ep),
            groups_2d(n.div_ceil(WORKGROUP)),
        )?;
        rec.barrier();
        rec.timestamp(&format!("{prefix}emit_keys"));

        // 5. stable sort by tile over only the tile-id bits.
        let tile_io = SortIo {
            control: &b.control,
            keys: [&b.tile_keys[0], &b.tile_keys[1]],
            values: [&b.tile_values[0], &b.tile_values[1]],
            hist: &b.tile_hist,
            block_sums: &b.block_sums,
        };
        let ts = record_sort(
            rec,
            k,
            &tile_io,
            CTL_TILE_SORT,
            bits_for(tiles_x * tiles_y),
            Groups::Indirect(&b.control, CTL_ARGS_SORT),
            Groups::Indirect(&b.control, CTL_ARGS_HIST_SCAN),
        )?;
        rec.timestamp(&format!("{prefix}tile_sort"));

        // 6. tile ranges
        let rp = RangesParams {
            tile_keys: b.tile_keys[ts].device_address(),
        };
        rec.dispatch_indirect(
            &k.tile_ranges,
            &[&b.control, &b.ranges],
            bytemuck::bytes_of(&rp),
            &b.control,
            CTL_ARGS_ISECT as u64 * 4,
        )?;
        rec.barrier();
        rec.timestamp(&format!("{prefix}ranges"));

        // 7. blend
        let bg = settings.background;
        let bp = BlendParams {
            values: b.tile_values[ts].device_address(),
            projected: b.projected.device_address(),
            out_rgba: b.out_rgba.device_address(),
            out_depth: b.out_depth.device_address(),
            background: [bg[0], bg[1], bg[2], 0.0],
            width: w,
            height: h,
            tiles_x,
            mode: settings.mode.shader_id(),
        };
        rec.dispatch(
            &k.blend,
            &[&b.ranges],
            bytemuck::bytes_of(&bp),
            [tiles_x, tiles_y, 1],
        )?;
        rec.barrier();
        rec.timestamp(&format!("{prefix}blend"));

        // 8. outputs to the host
        let pixels = w as u64 * h as u64;
        rec.copy_region(&b.out_rgba, 0, out, out_offset, pixels * 16)?;
        rec.copy_region(&b.out_depth, 0, out, out_offset + pixels * 16, pixels * 4)?;
        rec.copy_region(
            &b.control,
            0,
            out,
            out_offset + pixels * 20,
            CTL_LEN as u64 * 4,
        )?;
        rec.timestamp(&format!("{prefix}readback"));
        Ok((sorted, ts))
    }

    /// Records and runs one frame; see [`Renderer::record_frame`]. Returns the frame (unless
    /// `size_only`) and the number of intersections it needed.
    #[allow(clippy::too_many_arguments)]
    fn record_and_run(
        &self,
        scene: &GpuScene,
        variant: Option<&VariantStage>,
        camera: &Camera,
        settings: &RenderSettings,
        size_only: bool,
        want_stages: bool,
    ) -> Result<(Option<FullFrame>, u64), CoreError> {
        let b = self.buffers.as_ref().expect("ensure_buffers ran");
        let mut rec = self.ctx.begin()?;
        rec.timestamp("start");
        let (sorted, ts) = self.record_frame(
            &mut rec,
            scene,
            variant,
            camera,
            settings,
            size_only,
            &b.readback,
            0,
            "",
        )?;
        let stage_end_ns = self.ctx.submit_and_wait(rec)?;
        if size_only {
            let ctl: Vec<u32> =
                bytemuck::pod_collect_to_vec(b.readback.read(CTL_LEN as usize * 4)?);
            return Ok((None, ctl[CTL_TOTAL_ISECT as usize] as u64));
        }
        let (w, h) = (camera.width, camera.height);
        let bytes = b.readback.read(frame_readback_bytes(w, h) as usize)?;
        let (frame, ctl) = parse_frame(bytes, w, h)?;
        let total = ctl[CTL_TOTAL_ISECT as usize] as u64;
        let stages = if want_stages && total <= b.capacity as u64 {
            let n = scene.num_splats;
            let num_isect = ctl[CTL_NUM_ISECT as usize];
            Some(self.read_stages(n, num_isect, &b.projected, &b.rects, &b.ids[sorted], ts)?)
        } else {
            None
        };
        let stats = FrameStats {
            intersections: total,
            visible_splats: ctl[CTL_VISIBLE as usize] as u64,
            attempts: 1,
            stage_end_ns,
            device_bytes: self.ctx.allocated_bytes(),
        };
        Ok((Some((frame, stats, stages)), total))
    }

    fn read_stages(
        &self,
        n: u32,
        num_isect: u32,
        projected: &Buffer,
        rects: &Buffer,
        ids: &Buffer,
        tile_buf: usize,
    ) -> Result<StageOutputs, CoreError> {
        let b = self.buffers.as_ref().expect("buffers exist");
        let n64 = n as u64;
        let proj: Vec<GpuProjected> =
            bytemuck::pod_collect_to_vec(&self.download(projected, n64 * 48)?);
        let rect: Vec<[u32; 2]> = bytemuck::pod_collect_to_vec(&self.download(rects, n64 * 8)?);
        let depth_order: Vec<u32> = bytemuck::pod_collect_to_vec(&self.download(ids, n64 * 4)?);
        let m = num_isect as u64 * 4;
        let keys: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.download(&b.tile_keys[tile_buf], m)?);
        let vals: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.download(&b.tile_values[tile_buf], m)?);
        let projected = proj
            .iter()
            .zip(&rect)
            .map(|(p, r)| {
                let lo = [r[0] & 0xFFFF, r[0] >> 16];
                let hi = [r[1] & 0xFFFF, r[1] >> 16];
                (hi[0] > lo[0] && hi[1] > lo[1]).then(|| ProjectedSplat {
                    mean2d: [p.mean_depth_opacity[0], p.mean_depth_opacity[1]],
                    conic: [p.conic[0], p.conic[1], p.conic[2]],
                    depth: p.mean_depth_opacity[2],
                    opacity: p.mean_depth_opacity[3],
                    color: [p.color[0], p.color[1], p.color[2]],
                    tile_min: lo,
                    tile_max: hi,
                })
            })
            .collect();
        Ok(StageOutputs {
            projected,
            depth_order,
            intersections: keys.into_iter().zip(vals).collect(),
        })
    }

    /// The most pairs [`Renderer::sort_pairs`] sorts at once on this device: every array of
    /// the sort is bound as one storage buffer, so the keys (4 bytes each) and the histogram
    /// (256 counters per block of keys) must each fit one binding.
    pub fn max_sort_pairs(&self) -> u32 {
        let binding = self.max_binding();
        let by_keys = binding / 4;
        let by_hist = binding / (256 * 4) * SORT_BLOCK_KEYS as u64;
        by_keys.min(by_hist).min(u32::MAX as u64) as u32
    }

    /// Sorts (key, value) pairs on the GPU by the low `bits` bits of the keys, stably. Returns
    /// the sorted pairs and the GPU time of the sort in nanoseconds. At most
    /// [`Renderer::max_sort_pairs`] pairs (checked before anything is allocated).
    pub fn sort_pairs(
        &self,
        keys: &[u32],
        values: &[u32],
        bits: u32,
    ) -> Result<(Vec<u32>, Vec<u32>, f64), CoreError> {
        if keys.len() != values.len() || bits > 32 {
            return Err(CoreError::InvalidScene(
                "sort_pairs: mismatched input".into(),
            ));
        }
        let max = self.max_sort_pairs();
        let n = u32::try_from(keys.len())
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| {
                CoreError::TooLarge(format!(
                    "sorting {} pairs: {} sorts at most {max} pairs at once",
                    keys.len(),
                    self.ctx.info().name
                ))
            })?;
        let blocks = n.div_ceil(SORT_BLOCK_KEYS);
        let mut control = [0u32; CTL_LEN as usize];
        control[(CTL_DEPTH_SORT + SORT_NUM_KEYS) as usize] = n;
        control[(CTL_DEPTH_SORT + SORT_NUM_BLOCKS) as usize] = blocks;
        control[(CTL_DEPTH_SORT + SORT_HIST_LEN) as usize] = blocks * 256;
        let ctl = self.upload("sort.control", bytemuck::cast_slice(&control))?;
        let k0 = self.upload("sort.keys0", bytemuck::cast_slice(keys))?;
        let v0 = self.upload("sort.values0", bytemuck::cast_slice(values))?;
        let k1 = self.storage("sort.keys1", n as u64 * 4)?;
        let v1 = self.storage("sort.values1", n as u64 * 4)?;
        let hist = self.storage("sort.hist", blocks as u64 * 256 * 4)?;
        let sums = self.storage(
            "sort.block_sums",
            (blocks as u64 * 256).div_ceil(SCAN_BLOCK as u64) * 4,
        )?;
        let io = SortIo {
            control: &ctl,
            keys: [&k0, &k1],
            values: [&v0, &v1],
            hist: &hist,
            block_sums: &sums,
        };
        let mut rec = self.ctx.begin()?;
        rec.timestamp("start");
        let out = record_sort(
            &mut rec,
            &self.kernels,
            &io,
            CTL_DEPTH_SORT,
            bits,
            Groups::Direct(groups_2d(blocks)),
            Groups::Direct(groups_2d((blocks * 256).div_ceil(SCAN_BLOCK))),
        )?;
        rec.timestamp("sort");
        let times = self.ctx.submit_and_wait(rec)?;
        let ns = times.last().map(|t| t.1).unwrap_or(0.0);
        let (kb, vb) = if out == 0 { (&k0, &v0) } else { (&k1, &v1) };
        let sorted_keys = bytemuck::pod_collect_to_vec(&self.download(kb, n as u64 * 4)?);
        let sorted_vals = bytemuck::pod_collect_to_vec(&self.download(vb, n as u64 * 4)?);
        Ok((sorted_keys, sorted_vals, ns))
    }
}

/// Bytes one frame's outputs take in a readback buffer: RGBA (16 B/pixel), depth (4 B/pixel),
/// then the control buffer.
fn frame_readback_bytes(width: u32, height: u32) -> u64 {
    width as u64 * height as u64 * 20 + CTL_LEN as u64 * 4
}

/// Splits one frame's readback bytes into the frame and its control-buffer values; the
/// frame's arrays are allocated fallibly.
fn parse_frame(bytes: &[u8], width: u32, height: u32) -> Result<(Frame, Vec<u32>), CoreError> {
    let p = width as usize * height as usize;
    let oom = |e| CoreError::host_memory(format!("a {width}x{height} frame's image"), e);
    let rgba = pod_vec(&bytes[..p * 16]).map_err(oom)?;
    let depth = pod_vec(&bytes[p * 16..p * 20]).map_err(oom)?;
    let ctl = bytemuck::pod_collect_to_vec(&bytes[p * 20..p * 20 + CTL_LEN as usize * 4]);
    Ok((
        Frame {
            width,
            height,
            rgba,
            depth,
        },
        ctl,
    ))
}

/// The values of type `T` in `bytes` (any alignment), in a fallibly allocated vector.
fn pod_vec<T: bytemuck::Pod>(bytes: &[u8]) -> Result<Vec<T>, memory::AllocError> {
    let n = bytes.len() / std::mem::size_of::<T>();
    let mut v: Vec<T> = memory::filled(n, T::zeroed())?;
    bytemuck::cast_slice_mut::<T, u8>(&mut v)
        .copy_from_slice(&bytes[..n * std::mem::size_of::<T>()]);
    Ok(v)
}

/// f32 → IEEE 754 binary16 bits, rounding to nearest even; overflow goes to ±inf, tiny values
/// to (signed) subnormals or zero.
pub fn f32_to_f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x007f_ffff;
    if exp == 0xff {
        // inf or NaN (keep NaN quiet and non-zero)
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        // Subnormal: shift the implicit-1 mantissa, round to nearest even.
        let m = man | 0x0080_0000;
        let shift = (14 - e) as u32;
        let half = m >> shift;
        let rem = m & ((1 << shift) - 1);
        let mid = 1 << (shift - 1);
        let round = (rem > mid || (rem == mid && half & 1 == 1)) as u32;
        return sign | (half + round) as u16;
    }
    let half = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    let round = (rem > 0x1000 || (rem == 0x1000 && half & 1 == 1)) as u32;
    // A carry out of the mantissa correctly bumps the exponent (up to inf).
    sign | (half + round) as u16
}

/// Packs the `len` values as consecutive IEEE halves, two per f32-sized word (low half
/// first), the layout `half_at` in preprocess.comp reads.
fn pack_halves(
    mut values: impl Iterator<Item = f32>,
    len: usize,
) -> Result<Vec<f32>, memory::AllocError> {
    let mut out = memory::with_capacity(len.div_ceil(2))?;
    while let Some(lo) = values.next() {
        let hi = values.next().map_or(0, f32_to_f16_bits);
        out.push(f32::from_bits(
            f32_to_f16_bits(lo) as u32 | (hi as u32) << 16,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::f32_to_f16_bits;

    #[test]
    fn half_conversion() {
        assert_eq!(f32_to_f16_bits(0.0), 0);
        assert_eq!(f32_to_f16_bits(-0.0), 0x8000);
        assert_eq!(f32_to_f16_bits(1.0), 0x3c00);
        assert_eq!(f32_to_f16_bits(-2.0), 0xc000);
        assert_eq!(f32_to_f16_bits(65504.0), 0x7bff);
        assert_eq!(f32_to_f16_bits(65520.0), 0x7c00); // rounds up to inf
        assert_eq!(f32_to_f16_bits(1e9), 0x7c00);
        assert_eq!(f32_to_f16_bits(5.960_464_5e-8), 0x0001); // smallest subnormal
        assert_eq!(f32_to_f16_bits(1.0 + 1.0 / 2048.0), 0x3c00); // tie to even
        assert_eq!(f32_to_f16_bits(1.0 + 3.0 / 2048.0), 0x3c02);
        assert_eq!(f32_to_f16_bits(0.1), 0x2e66);
        assert_eq!(f32_to_f16_bits(f32::NAN) & 0x7c00, 0x7c00);
    }
}
