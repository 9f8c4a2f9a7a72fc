//! The stages of one frame, one function each, recorded into a shared command buffer.
//!
//! [`record_frame`] is the frame top to bottom (ARCHITECTURE.md, "The frame"): reset →
//! variant (optional) → preprocess → depth sort → scan → key emission → tile sort → tile
//! ranges → blend → readback. Counts flow between stages through the control buffer and
//! indirect dispatches, never through the host. Every stage ends with a barrier (so the next
//! one sees its writes; the readback's copies are waited on by the submission) and a
//! timestamp named after it.

use vksplat_io::Camera;
use vksplat_vk::{Buffer, PushConstants, Recorder};

use super::frame::FrameBuffers;
use super::{GpuScene, Instance, VariantStage};
use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::shaders::Kernels;
use crate::sort::{bits_for, record_scan, record_sort, Groups, SortIo};
use crate::types::{tile_grid, RenderMode, RenderSettings};

/// Which ping-pong buffers hold the sorted results of a recorded frame.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Sorted {
    /// Index into `FrameBuffers::ids` of the depth-sorted splat ids.
    #[cfg_attr(not(feature = "test-hooks"), allow(dead_code))]
    pub depth: usize,
    /// Index into `FrameBuffers::tile_keys`/`tile_values` of the tile-sorted pairs.
    #[cfg_attr(not(feature = "test-hooks"), allow(dead_code))]
    pub tiles: usize,
}

/// Where a frame's outputs go: `out` at `offset`, in the layout of
/// [`super::frame::frame_readback_bytes`] (RGBA, depth, control values); without `image`
/// only the control values (GPU-side output copies the image itself, `output.rs`).
#[derive(Clone, Copy)]
pub(super) struct Output<'a> {
    pub buffer: &'a Buffer,
    pub offset: u64,
    pub image: bool,
    /// Whether the frame's occluder buffer holds a host depth (`occluder::record_occluder`
    /// with one); without, the blend may run a kernel that leaves the host depth test out.
    pub occluded: bool,
}

/// Records one frame into `rec`. With `size_only` it stops after the scan and copies only
/// the control values to `out`: the first frame of a new scene or image size measures its
/// intersection count that way instead of guessing. Timestamps are labelled `prefix` +
/// stage. The frame's splats are the `instances`' (`renderer/instances.rs`), whose
/// count `buffers` was made for; a variant stage writes the first instance's scene.
#[allow(clippy::too_many_arguments)]
pub(super) fn record_frame<'a>(
    rec: &mut Recorder<'a>,
    kernels: &'a Kernels,
    buffers: &'a FrameBuffers,
    instances: &[Instance<'a>],
    variant: Option<&'a VariantStage<'a>>,
    camera: &Camera,
    settings: &RenderSettings,
    size_only: bool,
    out: Output<'a>,
    prefix: &str,
) -> Result<Sorted, CoreError> {
    let mut f = FrameRecorder {
        rec,
        k: kernels,
        b: buffers,
        n: buffers.num_splats,
        prefix,
    };
    let [tiles_x, tiles_y] = tile_grid(camera.width, camera.height);
    f.reset()?;
    if let (Some(v), Some(first)) = (variant, instances.first()) {
        f.variant(first.scene, v)?;
    }
    f.preprocess(instances, camera, settings)?;
    let depth = f.depth_sort()?;
    f.scan(depth)?;
    if size_only {
        f.readback_control(out)?;
        return Ok(Sorted { depth, tiles: 0 });
    }
    f.emit_keys(depth, tiles_x)?;
    let tiles = f.tile_sort(bits_for(tiles_x * tiles_y))?;
    f.tile_ranges(tiles)?;
    f.blend(tiles, camera, settings, out.occluded)?;
    f.readback(out, camera.width, camera.height)?;
    Ok(Sorted { depth, tiles })
}

/// The frame being recorded: its command buffer, kernels, working buffers and splat count.
struct FrameRecorder<'r, 'a> {
    rec: &'r mut Recorder<'a>,
    k: &'a Kernels,
    b: &'a FrameBuffers,
    n: u32,
    prefix: &'r str,
}

impl<'a> FrameRecorder<'_, 'a> {
    /// Ends a stage: its writes become visible, and its end time is recorded.
    fn end_stage(&mut self, stage: &str) {
        self.rec.barrier();
        self.rec.timestamp(&format!("{}{stage}", self.prefix));
    }

    /// Host-known counts into the control buffer; tile ranges to (0, 0).
    fn reset(&mut self) -> Result<(), CoreError> {
        let (b, n) = (self.b, self.n);
        let depth_blocks = n.div_ceil(SORT_BLOCK_KEYS);
        let mut control = [0u32; CTL_LEN as usize];
        control[CTL_NUM_SPLATS as usize] = n;
        control[CTL_ISECT_CAPACITY as usize] = b.capacity;
        control[(CTL_DEPTH_SORT + SORT_NUM_KEYS) as usize] = n;
        control[(CTL_DEPTH_SORT + SORT_NUM_BLOCKS) as usize] = depth_blocks;
        control[(CTL_DEPTH_SORT + SORT_HIST_LEN) as usize] = depth_blocks * 256;
        // Earlier frames in the same command buffer may still read these buffers.
        self.rec.barrier();
        self.rec
            .update(&b.control, 0, bytemuck::cast_slice(&control))?;
        self.rec.fill(&b.ranges, None, 0);
        self.rec.barrier();
        Ok(())
    }

    /// A plugin's shader writes this frame's splats into the scene's buffers.
    fn variant(&mut self, scene: &'a GpuScene, v: &'a VariantStage<'a>) -> Result<(), CoreError> {
        let mut bufs: Vec<&Buffer> = scene.buffers().to_vec();
        bufs.extend(v.extra_buffers.iter().copied());
        let push = PushConstants::from_bytes(&v.push_constants)?;
        self.rec.dispatch(v.pipeline, &bufs, &push, v.workgroups)?;
        self.end_stage("variant");
        Ok(())
    }

    /// Per splat: cull, project, colour, tile rectangle and depth key; one dispatch per
    /// instance, each into its range of the frame's arrays.
    fn preprocess(
        &mut self,
        instances: &[Instance<'a>],
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(), CoreError> {
        let b = self.b;
        let clip = settings.clip_range().map_err(CoreError::InvalidRequest)?;
        let mut first = 0u32;
        for (k, inst) in instances.iter().enumerate() {
            let params = preprocess_params(inst, first, camera, settings.mode, clip);
            self.rec
                .update(&b.params[k], 0, bytemuck::bytes_of(&params))?;
            first += inst.scene.num_splats;
        }
        self.rec.barrier();
        for (k, inst) in instances.iter().enumerate() {
            if inst.scene.num_splats == 0 {
                continue;
            }
            if k > 0 {
                // The instances count visible splats into the same control slot.
                self.rec.barrier();
            }
            self.preprocess_instance(inst.scene, &b.params[k])?;
        }
        self.end_stage("preprocess");
        Ok(())
    }

    /// One instance's preprocess dispatch, with its parameters in `params`.
    fn preprocess_instance(
        &mut self,
        scene: &'a GpuScene,
        params: &'a Buffer,
    ) -> Result<(), CoreError> {
        let b = self.b;
        let push = PreprocessBlock {
            means: &scene.means,
            rotations: &scene.rotations,
            log_scales: &scene.log_scales,
            opacity_logits: &scene.opacities,
            opacity_scale: &scene.opacity_scale,
            sh: [&scene.sh[0], &scene.sh[1], &scene.sh[2]],
            covariances: &scene.covariances,
            projected: &b.projected,
        }
        .push()?;
        let bindings = PreprocessBindings {
            rect_lo: &b.rects[0],
            rect_hi: &b.rects[1],
            depth_keys: &b.depth_keys[0],
            splat_ids: &b.ids[0],
            params,
            control: &b.control,
        };
        let half = scene.flags & SPLAT_SH_HALF != 0;
        let inputs = scene.texel_inputs();
        let preprocess = self.k.preprocess_for(
            scene.sh_degree,
            half,
            inputs.as_ref().map_or(&[], |a| &a[..]),
        )?;
        let texels = inputs.map(
            |[sh_r, sh_g, sh_b, means, rotations, log_scales, opacity_logits]| {
                PreprocessTexelBindings {
                    rect_lo: bindings.rect_lo,
                    rect_hi: bindings.rect_hi,
                    depth_keys: bindings.depth_keys,
                    splat_ids: bindings.splat_ids,
                    params: bindings.params,
                    control: bindings.control,
                    sh_r,
                    sh_g,
                    sh_b,
                    means,
                    rotations,
                    log_scales,
                    opacity_logits,
                }
                .list()
            },
        );
        let by_address = bindings.list();
        let buffers: &[&Buffer] = match &texels {
            Some(t) if preprocess.texels => t,
            _ => &by_address,
        };
        self.rec.dispatch(
            preprocess.pipeline,
            buffers,
            &push,
            groups_2d(scene.num_splats.div_ceil(WORKGROUP)),
        )?;
        Ok(())
    }

    /// Sorts the splat ids by depth key (culled splats carry 0xFFFFFFFF and sort last).
    /// Returns which `ids` buffer holds the result.
    fn depth_sort(&mut self) -> Result<usize, CoreError> {
        let b = self.b;
        let depth_blocks = self.n.div_ceil(SORT_BLOCK_KEYS);
        let io = SortIo {
            control: &b.control,
            keys: [&b.depth_keys[0], &b.depth_keys[1]],
            values: [&b.ids[0], &b.ids[1]],
            hist: &b.depth_hist,
            block_sums: &b.block_sums,
        };
        let sorted = record_sort(
            self.rec,
            self.k,
            &io,
            CTL_DEPTH_SORT,
            32,
            Groups::Direct(groups_2d(depth_blocks)),
            Groups::Direct(groups_2d((depth_blocks * 256).div_ceil(SCAN_BLOCK))),
        )?;
        self.rec.timestamp(&format!("{}depth_sort", self.prefix));
        Ok(sorted)
    }

    /// Exclusive scan of the tiles each splat touches, in depth order: every splat's first
    /// slot in the intersection list and the total; then the later stages' sizes and
    /// indirect dispatch arguments from that total (clamped to the capacity).
    fn scan(&mut self, depth: usize) -> Result<(), CoreError> {
        let b = self.b;
        let io = ScanBindings {
            control: &b.control,
            input: &b.offsets,
            output: &b.offsets,
            block_sums: &b.block_sums,
            rect_lo: &b.rects[0],
            rect_hi: &b.rects[1],
            ids: &b.ids[depth],
        };
        let params = ScanParams {
            len_slot: CTL_NUM_SPLATS,
            total_slot: CTL_TOTAL_ISECT,
            gather: 1,
            pad: 0,
        };
        let groups = Groups::Direct(groups_2d(self.n.div_ceil(SCAN_BLOCK)));
        record_scan(self.rec, self.k, &io, params, groups)?;
        let bindings = DispatchArgsBindings {
            control: &b.control,
        };
        self.rec.dispatch(
            &self.k.dispatch_args,
            &bindings.list(),
            &PushConstants::none(),
            [1, 1, 1],
        )?;
        self.end_stage("scan");
        Ok(())
    }

    /// One (tile id, splat index) pair per tile each splat touches, in depth order.
    fn emit_keys(&mut self, depth: usize, tiles_x: u32) -> Result<(), CoreError> {
        let b = self.b;
        let push = EmitBlock {
            tile_keys: &b.tile_keys[0],
            values: &b.tile_values[0],
            tiles_x,
            num_splats: self.n,
        }
        .push()?;
        let bindings = EmitBindings {
            control: &b.control,
            ids: &b.ids[depth],
            offsets: &b.offsets,
            rect_lo: &b.rects[0],
            rect_hi: &b.rects[1],
        };
        self.rec.dispatch(
            &self.k.emit_keys,
            &bindings.list(),
            &push,
            groups_2d(self.n.div_ceil(WORKGROUP)),
        )?;
        self.end_stage("emit_keys");
        Ok(())
    }

    /// Stable sort of the pairs by tile over only the tile-id bits, sized by the GPU's count.
    /// Returns which `tile_keys`/`tile_values` buffers hold the result.
    fn tile_sort(&mut self, bits: u32) -> Result<usize, CoreError> {
        let b = self.b;
        let io = SortIo {
            control: &b.control,
            keys: [&b.tile_keys[0], &b.tile_keys[1]],
            values: [&b.tile_values[0], &b.tile_values[1]],
            hist: &b.tile_hist,
            block_sums: &b.block_sums,
        };
        let sorted = record_sort(
            self.rec,
            self.k,
            &io,
            CTL_TILE_SORT,
            bits,
            Groups::Indirect(&b.control, CTL_ARGS_SORT),
            Groups::Indirect(&b.control, CTL_ARGS_HIST_SCAN),
        )?;
        self.rec.timestamp(&format!("{}tile_sort", self.prefix));
        Ok(sorted)
    }

    /// Start and end of each tile's run in the sorted list.
    fn tile_ranges(&mut self, tiles: usize) -> Result<(), CoreError> {
        let b = self.b;
        let push = RangesBlock {
            tile_keys: &b.tile_keys[tiles],
        }
        .push()?;
        let bindings = RangesBindings {
            control: &b.control,
            ranges: &b.ranges,
        };
        self.rec.dispatch_indirect(
            &self.k.tile_ranges,
            &bindings.list(),
            &push,
            &b.control,
            CTL_ARGS_ISECT as u64 * 4,
        )?;
        self.end_stage("ranges");
        Ok(())
    }

    /// One workgroup per tile composites its splats front to back.
    fn blend(
        &mut self,
        tiles: usize,
        camera: &Camera,
        settings: &RenderSettings,
        occluded: bool,
    ) -> Result<(), CoreError> {
        let b = self.b;
        let [tiles_x, tiles_y] = tile_grid(camera.width, camera.height);
        let bg = settings.background;
        let push = BlendBlock {
            values: &b.tile_values[tiles],
            projected: &b.projected,
            out_rgba: &b.out_rgba,
            out_depth: &b.out_depth,
            occluder: &b.occluder,
            background: [bg[0], bg[1], bg[2], 0.0],
            width: camera.width,
            height: camera.height,
            tiles_x,
            mode: settings.mode.shader_id(),
            depth: settings.depth,
        }
        .push()?;
        let blend = self
            .k
            .blend_for(settings.mode, settings.depth, occluded, &b.projected)?;
        let texels = BlendCpuBindings {
            ranges: &b.ranges,
            projected: &b.projected,
        };
        let by_address = BlendBindings { ranges: &b.ranges };
        let bindings: &[&Buffer] = if blend.texels {
            &texels.list()
        } else {
            &by_address.list()
        };
        self.rec
            .dispatch(blend.pipeline, bindings, &push, [tiles_x, tiles_y, 1])?;
        self.end_stage("blend");
        Ok(())
    }

    /// The image, its depth and the control values to the host-visible `out`.
    fn readback(&mut self, out: Output<'a>, width: u32, height: u32) -> Result<(), CoreError> {
        let b = self.b;
        let pixels = if out.image {
            width as u64 * height as u64
        } else {
            0
        };
        let at = out.offset;
        if out.image {
            self.rec
                .copy_region(&b.out_rgba, 0, out.buffer, at, pixels * 16)?;
            self.rec
                .copy_region(&b.out_depth, 0, out.buffer, at + pixels * 16, pixels * 4)?;
        }
        self.rec.copy_region(
            &b.control,
            0,
            out.buffer,
            at + pixels * 20,
            CTL_LEN as u64 * 4,
        )?;
        self.rec.timestamp(&format!("{}readback", self.prefix));
        Ok(())
    }

    /// Only the control values (a sizing pass) to `out`.
    fn readback_control(&mut self, out: Output<'a>) -> Result<(), CoreError> {
        self.rec.copy_region(
            &self.b.control,
            0,
            out.buffer,
            out.offset,
            CTL_LEN as u64 * 4,
        )?;
        Ok(())
    }
}

/// The preprocess parameters of an instance whose first splat is the frame's `first`, in a
/// view.
fn preprocess_params(
    inst: &Instance,
    first: u32,
    cam: &Camera,
    mode: RenderMode,
    [near, far]: [f32; 2],
) -> PreprocessParams {
    let scene = inst.scene;
    let (m, p) = inst.view(cam);
    let [tx, ty] = tile_grid(cam.width, cam.height);
    let (cx, cy) = match mode {
        RenderMode::Inria => (cam.width as f32 / 2.0, cam.height as f32 / 2.0),
        _ => (cam.cx, cam.cy),
    };
    PreprocessParams {
        view_row0: m[0],
        view_row1: m[1],
        view_row2: m[2],
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
        first_splat: first,
        instance_opacity: inst.opacity,
        near,
        far,
        projection: u32::from(cam.projection == vksplat_io::Projection::Orthographic),
        pad: [0; 2],
    }
}
