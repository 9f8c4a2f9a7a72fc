//! The frame on the GPU.
//!
//! A [`Renderer`] owns the device's kernels and the per-frame working buffers. Every render
//! entry point ([`Renderer::render`], [`Renderer::render_batch`],
//! [`Renderer::render_variant`]) goes through one loop, `render_views`: it records every
//! view's stages (`stages::record_frame`) into one command buffer, submits it once and reads
//! back only the finished images, their depth and the control values. If a frame needed more
//! intersections than the buffers hold (the GPU clamps, never writes out of bounds), the
//! capacity grows by the one policy of `frame` and the views are rendered again, so no splat
//! is ever dropped silently.
//!
//! Frames can also be submitted without waiting and copied on the GPU into a host's image or
//! buffer (`output`: [`Renderer::submit_frame`], frames in flight).
//!
//! Modules: `scene` (scene upload), `frame` (working buffers, limits, capacity policy),
//! `output` (GPU-side output, frames in flight),
//! `stages` (one function per stage), `sort_pairs` (the GPU sort on its own, for
//! `vksplat bench`), and, with the `test-hooks` feature, `test_hooks` (intermediate stage
//! readbacks for tests).

mod frame;
mod instances;
mod occluder;
mod output;
mod scene;
mod sort_pairs;
mod stages;
#[cfg(feature = "test-hooks")]
mod test_hooks;

use std::sync::Arc;

use vksplat_io::memory;
use vksplat_io::Camera;
use vksplat_vk::{Buffer, BufferUsage, ComputePipeline, Context, MemoryLocation, PushConstants};

use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::shaders::Kernels;
use crate::types::{Frame, RenderSettings};

pub use frame::DeviceLimits;
use frame::{frame_readback_bytes, parse_frame, FrameBuffers, Grow, MIN_CAPACITY};
pub use instances::{Instance, IDENTITY};
pub use occluder::{Occluder, OccluderSource};
pub use output::{
    FrameOutcome, FrameState, FrameTicket, GpuTarget, TargetSurface, FRAMES_IN_FLIGHT,
};
pub use scene::{GpuScene, SceneOptions, SceneUpdate};
use stages::{Output, Sorted};
#[cfg(feature = "test-hooks")]
pub use test_hooks::StageOutputs;

/// A compute stage that runs before preprocess and writes the scene's buffers (a
/// scene-variant plugin's shader). Bindings 0..FIRST_PLUGIN_BINDING are the scene's buffers
/// ([`GpuScene::buffers`]), then `extra_buffers` in order. Its push constants are plain data
/// (the pipeline must read no buffer address from them).
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

/// Owns the device's pipelines and the per-frame buffers.
pub struct Renderer {
    ctx: Arc<Context>,
    kernels: Kernels,
    buffers: Option<FrameBuffers>,
    /// Intersection capacity for the next frame; grows when a frame needs more.
    capacity: u32,
    /// Host-visible buffer the views are read back into, kept between frames and grown when
    /// a batch needs more (allocating and faulting in a fresh one per frame costs more than
    /// the copy).
    readback: Option<Buffer>,
    /// Frames submitted without waiting (`output`).
    in_flight: output::InFlight,
    /// Largest buffer bound as a storage descriptor: the device's range, lowered only by the
    /// `test-hooks` function `limit_binding_range` (so tests prove cheaply that nothing
    /// addressed depends on it).
    binding_limit: u64,
}

impl Renderer {
    pub fn new(ctx: Arc<Context>) -> Result<Self, CoreError> {
        let kernels = Kernels::new(&ctx)?;
        let binding_limit = ctx.info().max_storage_buffer_range;
        Ok(Renderer {
            ctx,
            kernels,
            buffers: None,
            capacity: MIN_CAPACITY,
            readback: None,
            in_flight: Default::default(),
            binding_limit,
        })
    }

    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// The blend kernel this renderer runs (chosen per device, `VKSPLAT_BLEND_KERNEL`).
    pub fn blend_kernel(&self) -> crate::shaders::BlendKernel {
        self.kernels.blend_kernel
    }

    /// Renders one frame.
    pub fn render(
        &mut self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(Frame, FrameStats), CoreError> {
        self.render_one(&[Instance::of(scene)], None, camera, settings, None)
    }

    /// Renders several objects (scenes with a transform and an opacity) in one frame with
    /// one global depth order (`instances.rs`). At least one instance; every instance is
    /// checked ([`Instance::validate`]).
    pub fn render_instances(
        &mut self,
        instances: &[Instance],
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(Frame, FrameStats), CoreError> {
        instances::check_instances(instances)?;
        self.render_one(instances, None, camera, settings, None)
    }

    /// Renders `instances` (a single scene is `[Instance::of(scene)]`) in one frame whose
    /// splats are occluded per pixel by a host's depth (`crate::host_depth`: a splat does not
    /// blend at a pixel where its camera depth is beyond the host's). The occluder is checked
    /// against the camera's size and its convention before anything is recorded.
    pub fn render_occluded(
        &mut self,
        instances: &[Instance],
        camera: &Camera,
        settings: &RenderSettings,
        occluder: &Occluder,
    ) -> Result<(Frame, FrameStats), CoreError> {
        instances::check_instances(instances)?;
        self.render_one(instances, None, camera, settings, Some(occluder))
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
        Ok(self
            .render_views(&[Instance::of(scene)], None, cameras, settings, None)?
            .0)
    }

    /// Renders one frame whose splats are first written by a variant stage (a plugin shader).
    pub fn render_variant(
        &mut self,
        scene: &GpuScene,
        variant: &VariantStage,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(Frame, FrameStats), CoreError> {
        self.render_variant_occluded(scene, variant, camera, settings, None)
    }

    /// [`Renderer::render_variant`] with an optional host depth that occludes the splats the
    /// stage writes, as in [`Renderer::render_occluded`] (checked the same way).
    pub fn render_variant_occluded(
        &mut self,
        scene: &GpuScene,
        variant: &VariantStage,
        camera: &Camera,
        settings: &RenderSettings,
        occluder: Option<&Occluder>,
    ) -> Result<(Frame, FrameStats), CoreError> {
        self.check_bindable(scene)?;
        let instances = [Instance::of(scene)];
        self.render_one(&instances, Some(variant), camera, settings, occluder)
    }

    /// Runs only a variant stage (no rendering), e.g. to read back what a plugin shader wrote
    /// and compare it with the plugin's CPU path.
    pub fn run_variant(&self, scene: &GpuScene, variant: &VariantStage) -> Result<(), CoreError> {
        self.check_bindable(scene)?;
        let mut rec = self.ctx.begin()?;
        let mut bufs: Vec<&Buffer> = scene.buffers().to_vec();
        bufs.extend(variant.extra_buffers.iter().copied());
        let push = PushConstants::from_bytes(&variant.push_constants)?;
        rec.dispatch(variant.pipeline, &bufs, &push, variant.workgroups)?;
        rec.barrier();
        self.ctx.submit_and_wait(rec)?;
        Ok(())
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

    /// [`Renderer::render_views`] of one camera: its frame.
    fn render_one(
        &mut self,
        instances: &[Instance],
        variant: Option<&VariantStage>,
        camera: &Camera,
        settings: &RenderSettings,
        occluder: Option<&Occluder>,
    ) -> Result<(Frame, FrameStats), CoreError> {
        let cameras = std::slice::from_ref(camera);
        let (views, _) = self.render_views(instances, variant, cameras, settings, occluder)?;
        one_view(views)
    }

    /// The one render loop: checks the inputs and the frame's sizes, then renders `cameras`
    /// in one submission, with a sizing pass first when the scene or image size is new and
    /// again after growing the capacity when a view overflowed it. Returns the frames and
    /// which ping-pong buffers hold the last view's sorted results.
    fn render_views(
        &mut self,
        instances: &[Instance],
        variant: Option<&VariantStage>,
        cameras: &[Camera],
        settings: &RenderSettings,
        occluder: Option<&Occluder>,
    ) -> Result<(Vec<(Frame, FrameStats)>, Sorted), CoreError> {
        for cam in cameras {
            self.check_frame_inputs(cam, settings)?;
        }
        let occluder = match (occluder, cameras) {
            (None, _) => None,
            (Some(o), [cam]) => Some((o, self.check_occluder(o, cam.width, cam.height)?)),
            (Some(_), _) => {
                return Err(CoreError::InvalidRequest(
                    "a host depth belongs to one view; render the views one at a time".into(),
                ))
            }
        };
        let (Some(w), Some(h)) = (
            cameras.iter().map(|c| c.width).max(),
            cameras.iter().map(|c| c.height).max(),
        ) else {
            return Ok((Vec::new(), Sorted::default()));
        };
        // Each view's outputs at its own offset of one readback buffer.
        let mut offsets = Vec::with_capacity(cameras.len());
        let mut total_bytes = 0u64;
        for c in cameras {
            offsets.push(total_bytes);
            total_bytes += frame_readback_bytes(c.width, c.height);
        }
        // The views' readback and image copies, checked as a whole before allocating.
        let z = self.frame_sizes(instances::total_splats(instances)?, w, h);
        self.check_frame_sizes(&z, cameras.len() as u64)?;
        if self
            .readback
            .as_ref()
            .is_none_or(|b| b.size() < total_bytes)
        {
            self.readback = None;
            self.readback = Some(self.ctx.create_buffer(
                "frame.readback",
                total_bytes,
                BufferUsage::Staging,
                MemoryLocation::GpuToCpu,
            )?);
        }
        let out = self.readback.take().expect("just ensured");
        let result = self.render_views_into(
            instances, variant, cameras, settings, occluder, &out, &offsets,
        );
        self.readback = Some(out);
        result
    }

    /// [`Renderer::render_views`] into `out`, view i at `offsets[i]`, with a checked occluder
    /// (and its header) for a single view.
    #[allow(clippy::too_many_arguments)]
    fn render_views_into(
        &mut self,
        instances: &[Instance],
        variant: Option<&VariantStage>,
        cameras: &[Camera],
        settings: &RenderSettings,
        occluder: Option<(&Occluder, [u32; 4])>,
        out: &Buffer,
        offsets: &[u64],
    ) -> Result<(Vec<(Frame, FrameStats)>, Sorted), CoreError> {
        let n = instances::total_splats(instances)?;
        let w = cameras.iter().map(|c| c.width).max().unwrap_or(0);
        let h = cameras.iter().map(|c| c.height).max().unwrap_or(0);
        let end = offsets.last().copied().unwrap_or(0)
            + cameras
                .last()
                .map_or(0, |c| frame_readback_bytes(c.width, c.height));
        let mut size_only = !self.has_buffers_for(n, w, h);
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.ensure_buffers(n, w, h)?;
            self.ensure_instance_params(instances.len())?;
            let buffers = self
                .buffers
                .as_ref()
                .expect("ensure_buffers allocated them");
            let mut rec = self.ctx.begin()?;
            rec.timestamp("start");
            let mut sorted = Sorted::default();
            for (i, cam) in cameras.iter().enumerate() {
                let out = Output {
                    buffer: out,
                    offset: offsets[i],
                    image: true,
                    occluded: occluder.is_some(),
                };
                if !size_only {
                    let pixels = cam.width as u64 * cam.height as u64;
                    occluder::record_occluder(&mut rec, &buffers.occluder, occluder, pixels)?;
                }
                sorted = stages::record_frame(
                    &mut rec,
                    &self.kernels,
                    buffers,
                    instances,
                    variant,
                    cam,
                    settings,
                    size_only,
                    out,
                    &format!("view{i}/"),
                )?;
            }
            let times = self.ctx.submit_and_wait(rec)?;
            let bytes = out.read(end as usize)?;
            // A view's control values follow its image, or stand alone after a sizing pass.
            let control_at = |i: usize| {
                let c = &cameras[i];
                let image = if size_only {
                    0
                } else {
                    c.width as u64 * c.height as u64 * 20
                };
                let at = (offsets[i] + image) as usize;
                bytemuck::pod_collect_to_vec::<u8, u32>(&bytes[at..at + CTL_LEN as usize * 4])
            };
            let needed = (0..cameras.len())
                .map(|i| control_at(i)[CTL_TOTAL_ISECT as usize] as u64)
                .max()
                .unwrap_or(0);
            if size_only {
                self.grow_capacity(needed, Grow::Sized)?;
                size_only = false;
                continue;
            }
            if needed > self.capacity as u64 {
                self.grow_capacity(needed, Grow::Overflowed)?;
                continue;
            }
            let device_bytes = self.ctx.allocated_bytes();
            let mut results = Vec::with_capacity(cameras.len());
            let mut previous_end = times.first().map(|t| t.1).unwrap_or(0.0);
            for (i, cam) in cameras.iter().enumerate() {
                let (frame, ctl) =
                    parse_frame(&bytes[offsets[i] as usize..], cam.width, cam.height)?;
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
            return Ok((results, sorted));
        }
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
}

/// The frame of a one-camera render.
fn one_view(mut views: Vec<(Frame, FrameStats)>) -> Result<(Frame, FrameStats), CoreError> {
    views.pop().ok_or_else(|| {
        CoreError::Vulkan(vksplat_vk::VkError::Invalid(
            "a one-camera render returned no frame".into(),
        ))
    })
}
