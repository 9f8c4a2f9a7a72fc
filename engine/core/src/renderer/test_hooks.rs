//! Readbacks of a frame's intermediate stages, for tests that compare the GPU with the CPU
//! reference stage by stage (feature `test-hooks`, which tests/ enables).

use vksplat_io::Camera;

use super::{one_view, FrameStats, Renderer};
use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::renderer::GpuScene;
use crate::types::{Frame, ProjectedSplat, RenderSettings};

/// Intermediate results of a frame, read back for tests.
#[derive(Clone, Debug, Default)]
pub struct StageOutputs {
    pub projected: Vec<Option<ProjectedSplat>>,
    /// Splat indices after the depth sort (all splats, culled ones last).
    pub depth_order: Vec<u32>,
    /// (tile id, splat index) after the tile sort.
    pub intersections: Vec<(u32, u32)>,
}

impl Renderer {
    /// Renders one frame and also reads back the intermediate stage outputs.
    pub fn render_with_stages(
        &mut self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(Frame, FrameStats, StageOutputs), CoreError> {
        let cameras = std::slice::from_ref(camera);
        let instances = [super::Instance::of(scene)];
        let (views, sorted) = self.render_views(&instances, None, cameras, settings, None)?;
        let (frame, stats) = one_view(views)?;
        // The frame fitted the capacity, so all its intersections are in the lists.
        let b = self.buffers.as_ref().expect("a frame was rendered");
        let n = scene.num_splats as u64;
        let proj: Vec<GpuProjected> =
            bytemuck::pod_collect_to_vec(&self.download(&b.projected, n * 48)?);
        let rect_lo: Vec<u32> = bytemuck::pod_collect_to_vec(&self.download(&b.rects[0], n * 4)?);
        let rect_hi: Vec<u32> = bytemuck::pod_collect_to_vec(&self.download(&b.rects[1], n * 4)?);
        let rect: Vec<[u32; 2]> = rect_lo
            .into_iter()
            .zip(rect_hi)
            .map(|(l, h)| [l, h])
            .collect();
        let depth_order: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.download(&b.ids[sorted.depth], n * 4)?);
        let m = stats.intersections * 4;
        let keys: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.download(&b.tile_keys[sorted.tiles], m)?);
        let vals: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.download(&b.tile_values[sorted.tiles], m)?);
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
                    sort_key: p.color[3],
                    opacity: p.mean_depth_opacity[3],
                    color: [p.color[0], p.color[1], p.color[2]],
                    tile_min: lo,
                    tile_max: hi,
                })
            })
            .collect();
        let stages = StageOutputs {
            projected,
            depth_order,
            intersections: keys.into_iter().zip(vals).collect(),
        };
        Ok((frame, stats, stages))
    }

    /// Treats `bytes` (when below the device's range) as the largest buffer a storage
    /// descriptor binds, for scenes and frames made from now on: a test proves with a small
    /// scene what a device's real limit (128 MiB on lavapipe) would need millions of splats
    /// for. Drops the frame's buffers so the next frame is sized under the new limit.
    pub fn limit_binding_range(&mut self, bytes: u64) {
        self.binding_limit = bytes.min(self.ctx.info().max_storage_buffer_range);
        self.buffers = None;
    }

    /// Treats `texels` (when below the device's limit) as the most RGBA32F texels a texel
    /// binding covers, so a small scene shows what the CPU blend does with a scene beyond a
    /// device's `max_texel_buffer_elements` (blend.comp instead of blend_cpu.comp).
    pub fn limit_texel_elements(&mut self, texels: u64) {
        self.kernels.limit_texels(texels);
    }

    /// Whether the last frame, of `scene` with `settings` and no occluder, read the scene's
    /// arrays in preprocess, the projected splats in the blend and the pairs in the tile sort's
    /// first pass as texels (the CPU kernels' preprocess_sh3_texels, blend_cpu.comp and
    /// sort_*_cpu_texels) or through their addresses.
    pub fn reads_texels(
        &self,
        scene: &GpuScene,
        settings: &RenderSettings,
    ) -> Result<(bool, bool, bool), CoreError> {
        let b = self.buffers.as_ref().expect("a frame was rendered");
        let half = scene.flags & SPLAT_SH_HALF != 0;
        let inputs = scene.texel_inputs();
        let inputs: &[&vksplat_vk::Buffer] = inputs.as_ref().map_or(&[], |a| &a[..]);
        let preprocess = self.kernels.preprocess_for(scene.sh_degree, half, inputs)?;
        let blend = self
            .kernels
            .blend_for(settings.mode, settings.depth, false, &b.projected)?;
        let (_, tile_sort) = self.kernels.radix_for(&b.tile_keys[0], &b.tile_values[0]);
        Ok((preprocess.texels, blend.texels, tile_sort))
    }

    /// Switches the blend kernel, so one process can compare the variants on one device.
    pub fn set_blend_kernel(
        &mut self,
        kernel: crate::shaders::BlendKernel,
    ) -> Result<(), CoreError> {
        self.kernels.set_blend(&self.ctx, kernel)
    }
}
