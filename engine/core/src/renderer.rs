//! The frame, top to bottom.
//!
//! [`Renderer::render`] records every stage of DESIGN.md §3 into one command buffer and
//! submits it once; counts flow between stages through the control buffer and indirect
//! dispatches, never through the host. The only readback is the finished image, its depth and
//! the control buffer. If the frame needed more intersections than the buffers hold (the GPU
//! clamps, never writes out of bounds), the host grows the buffers and renders the frame again,
//! so no splat is ever dropped silently.

use std::sync::Arc;

use vksplat_io::{Camera, Splats};
use vksplat_vk::{Buffer, BufferUsage, Context, MemoryLocation};

use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::shaders::Kernels;
use crate::sort::{bits_for, record_scan, record_sort, Groups, ScanIo, SortIo};
use crate::types::{tile_grid, Frame, ProjectedSplat, RenderMode, RenderSettings};

/// A scene resident on the GPU (inputs of the preprocess stage).
pub struct GpuScene {
    num_splats: u32,
    sh_degree: u32,
    sh_stride: u32,
    means: Buffer,
    rotations: Buffer,
    log_scales: Buffer,
    opacities: Buffer,
    sh: [Buffer; 3],
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
}

/// Measurements of one rendered frame.
#[derive(Clone, Debug, Default)]
pub struct FrameStats {
    /// (tile, splat) pairs the frame sorted and blended.
    pub intersections: u64,
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

/// Owns the device's pipelines and the per-frame buffers.
pub struct Renderer {
    ctx: Arc<Context>,
    kernels: Kernels,
    buffers: Option<FrameBuffers>,
    /// Intersection capacity for the next frame; grows when a frame needs more.
    capacity: u32,
}

const MAX_IMAGE_SIDE: u32 = 32768;

impl Renderer {
    pub fn new(ctx: Arc<Context>) -> Result<Self, CoreError> {
        let kernels = Kernels::new(&ctx)?;
        Ok(Renderer {
            ctx,
            kernels,
            buffers: None,
            capacity: 1 << 16,
        })
    }

    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// Largest buffer the shaders can bind on this device.
    fn max_binding(&self) -> u64 {
        self.ctx.info().max_storage_buffer_range
    }

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
        splats.validate().map_err(CoreError::InvalidScene)?;
        let n = splats.len();
        let n32 = u32::try_from(n)
            .ok()
            .filter(|&v| v < u32::MAX / 64)
            .ok_or_else(|| CoreError::TooLarge(format!("{n} splats")))?;
        let k = splats.coeffs_per_splat();
        let mut channels = [Vec::new(), Vec::new(), Vec::new()];
        for (c, ch) in channels.iter_mut().enumerate() {
            ch.reserve(n * k);
            ch.extend(splats.sh.chunks_exact(3).map(|rgb| rgb[c]));
        }
        let opac = &splats.opacity_logits;
        let arrays: [(&str, &[u8]); 7] = [
            ("scene.means", bytemuck::cast_slice(&splats.means)),
            ("scene.rotations", bytemuck::cast_slice(&splats.rotations)),
            ("scene.log_scales", bytemuck::cast_slice(&splats.log_scales)),
            ("scene.opacities", bytemuck::cast_slice(opac)),
            ("scene.sh_r", bytemuck::cast_slice(&channels[0])),
            ("scene.sh_g", bytemuck::cast_slice(&channels[1])),
            ("scene.sh_b", bytemuck::cast_slice(&channels[2])),
        ];
        let mut gpu = Vec::new();
        for (name, data) in arrays {
            gpu.push(self.upload(name, data)?);
        }
        let mut it = gpu.into_iter();
        let mut next = || it.next().expect("seven buffers");
        Ok(GpuScene {
            num_splats: n32,
            sh_degree: splats.sh_degree,
            sh_stride: k as u32,
            means: next(),
            rotations: next(),
            log_scales: next(),
            opacities: next(),
            sh: [next(), next(), next()],
        })
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
        Ok(staging.read(len as usize)?.to_vec())
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
        let cap = self.capacity as u64;
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
        let s = |name: &str, bytes: u64| self.storage(name, bytes);
        let readback_bytes = pixels * 20 + CTL_LEN as u64 * 4;
        self.buffers = Some(FrameBuffers {
            num_splats: n,
            width,
            height,
            capacity: self.capacity,
            control: s("frame.control", CTL_LEN as u64 * 4)?,
            projected: s("frame.projected", n64 * 48)?,
            rects: s("frame.rects", n64 * 8)?,
            depth_keys: [
                s("frame.depth_keys0", n64 * 4)?,
                s("frame.depth_keys1", n64 * 4)?,
            ],
            ids: [s("frame.ids0", n64 * 4)?, s("frame.ids1", n64 * 4)?],
            offsets: s("frame.offsets", n64 * 4)?,
            depth_hist: s("frame.depth_hist", depth_blocks * 256 * 4)?,
            block_sums: s("frame.block_sums", scan_blocks * 4)?,
            tile_keys: [
                s("frame.tile_keys0", cap * 4)?,
                s("frame.tile_keys1", cap * 4)?,
            ],
            tile_values: [
                s("frame.tile_values0", cap * 4)?,
                s("frame.tile_values1", cap * 4)?,
            ],
            tile_hist: s("frame.tile_hist", tile_blocks * 256 * 4)?,
            ranges: s("frame.ranges", tx as u64 * ty as u64 * 8)?,
            out_rgba: s("frame.rgba", pixels * 16)?,
            out_depth: s("frame.depth", pixels * 4)?,
            readback: self.ctx.create_buffer(
                "frame.readback",
                readback_bytes,
                BufferUsage::Staging,
                MemoryLocation::GpuToCpu,
            )?,
        });
        Ok(())
    }

    /// Renders one frame.
    pub fn render(
        &mut self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(Frame, FrameStats), CoreError> {
        let (frame, stats, _) = self.render_inner(scene, camera, settings, false)?;
        Ok((frame, stats))
    }

    /// Renders one frame and also reads back the intermediate stage outputs (for tests).
    pub fn render_with_stages(
        &mut self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(Frame, FrameStats, StageOutputs), CoreError> {
        let (frame, stats, stages) = self.render_inner(scene, camera, settings, true)?;
        Ok((frame, stats, stages.unwrap_or_default()))
    }

    fn render_inner(
        &mut self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
        want_stages: bool,
    ) -> Result<(Frame, FrameStats, Option<StageOutputs>), CoreError> {
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
        // Intersections are u32-indexed and one binding holds 4 bytes each.
        let max_capacity = (self.max_binding() / 4).min(u32::MAX as u64 - 1) as u32;
        let mut attempts = 0;
        let new_buffers = !matches!(&self.buffers,
            Some(b) if b.num_splats == scene.num_splats && b.width == camera.width && b.height == camera.height);
        if new_buffers {
            // Size the intersection buffers from this frame's real count: a short submission
            // of preprocess, depth sort and scan, then one tile list that fits.
            self.ensure_buffers(scene.num_splats, camera.width, camera.height)?;
            let (_, total) = self.record_and_run(scene, camera, settings, true, false)?;
            attempts += 1;
            let wanted = ((total as f64 * 1.05) as u64).clamp(1 << 16, max_capacity as u64) as u32;
            if wanted > self.capacity {
                self.capacity = wanted;
            }
        }
        loop {
            attempts += 1;
            self.ensure_buffers(scene.num_splats, camera.width, camera.height)?;
            let (done, total) = self.record_and_run(scene, camera, settings, false, want_stages)?;
            let capacity = self.capacity;
            if total <= capacity as u64 {
                let (frame, mut stats, stages) = done.expect("a full frame returns its image");
                stats.attempts = attempts;
                return Ok((frame, stats, stages));
            }
            if total > max_capacity as u64 {
                return Err(CoreError::TooLarge(format!(
                    "the frame needs {total} tile intersections; {} holds at most {max_capacity} \
                     in one buffer (lower the resolution or the splat sizes)",
                    self.ctx.info().name
                )));
            }
            // Grow with headroom so nearby frames of a sequence fit without another retry.
            self.capacity = ((total as f64 * 1.25) as u64).min(max_capacity as u64) as u32;
            log::info!(
                "growing intersection buffers from {capacity} to {}",
                self.capacity
            );
        }
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
        }
    }

    /// Records and runs one frame. With `size_only`, stops after the scan and returns only the
    /// number of intersections the frame needs (the first frame of a new scene or image size
    /// uses this to size the intersection buffers instead of guessing).
    fn record_and_run(
        &self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
        size_only: bool,
        want_stages: bool,
    ) -> Result<(Option<FullFrame>, u64), CoreError> {
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

        let mut rec = self.ctx.begin()?;
        rec.timestamp("start");
        rec.update(&b.control, 0, bytemuck::cast_slice(&control))?;
        rec.fill(&b.ranges, None, 0);
        rec.barrier();

        // 2. preprocess
        let pp = self.preprocess_params(scene, camera, settings.mode);
        rec.dispatch(
            &k.preprocess,
            &[
                &scene.means,
                &scene.rotations,
                &scene.log_scales,
                &scene.opacities,
                &scene.sh[0],
                &scene.sh[1],
                &scene.sh[2],
                &b.projected,
                &b.rects,
                &b.depth_keys[0],
                &b.ids[0],
            ],
            bytemuck::bytes_of(&pp),
            groups_2d(n.div_ceil(WORKGROUP)),
        )?;
        rec.barrier();
        rec.timestamp("preprocess");

        // Depth sort of the splats (culled ones carry key 0xFFFFFFFF and sort last).
        let depth_io = SortIo {
            control: &b.control,
            keys: [&b.depth_keys[0], &b.depth_keys[1]],
            values: [&b.ids[0], &b.ids[1]],
            hist: &b.depth_hist,
            block_sums: &b.block_sums,
        };
        let sorted = record_sort(
            &mut rec,
            k,
            &depth_io,
            CTL_DEPTH_SORT,
            32,
            Groups::Direct(groups_2d(depth_blocks)),
            Groups::Direct(groups_2d((depth_blocks * 256).div_ceil(SCAN_BLOCK))),
        )?;
        let ids = &b.ids[sorted];
        rec.timestamp("depth_sort");

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
            &mut rec,
            k,
            &scan_io,
            sp,
            Groups::Direct(groups_2d(n.div_ceil(SCAN_BLOCK))),
        )?;
        rec.dispatch(&k.dispatch_args, &[&b.control], &[], [1, 1, 1])?;
        rec.barrier();
        rec.timestamp("scan");
        if size_only {
            rec.copy_region(&b.control, 0, &b.readback, 0, CTL_LEN as u64 * 4)?;
            self.ctx.submit_and_wait(rec)?;
            let ctl: Vec<u32> =
                bytemuck::pod_collect_to_vec(b.readback.read(CTL_LEN as usize * 4)?);
            return Ok((None, ctl[CTL_TOTAL_ISECT as usize] as u64));
        }

        // 4. key emission
        let ep = EmitParams {
            tiles_x,
            num_splats: n,
        };
        rec.dispatch(
            &k.emit_keys,
            &[
                &b.control,
                ids,
                &b.offsets,
                &b.rects,
                &b.tile_keys[0],
                &b.tile_values[0],
            ],
            bytemuck::bytes_of(&ep),
            groups_2d(n.div_ceil(WORKGROUP)),
        )?;
        rec.barrier();
        rec.timestamp("emit_keys");

        // 5. stable sort by tile over only the tile-id bits.
        let tile_io = SortIo {
            control: &b.control,
            keys: [&b.tile_keys[0], &b.tile_keys[1]],
            values: [&b.tile_values[0], &b.tile_values[1]],
            hist: &b.tile_hist,
            block_sums: &b.block_sums,
        };
        let ts = record_sort(
            &mut rec,
            k,
            &tile_io,
            CTL_TILE_SORT,
            bits_for(tiles_x * tiles_y),
            Groups::Indirect(&b.control, CTL_ARGS_SORT),
            Groups::Indirect(&b.control, CTL_ARGS_HIST_SCAN),
        )?;
        rec.timestamp("tile_sort");

        // 6. tile ranges
        rec.dispatch_indirect(
            &k.tile_ranges,
            &[&b.control, &b.tile_keys[ts], &b.ranges],
            &[],
            &b.control,
            CTL_ARGS_ISECT as u64 * 4,
        )?;
        rec.barrier();
        rec.timestamp("ranges");

        // 7. blend
        let bg = settings.background;
        let bp = BlendParams {
            background: [bg[0], bg[1], bg[2], 0.0],
            width: w,
            height: h,
            tiles_x,
            mode: settings.mode.shader_id(),
        };
        rec.dispatch(
            &k.blend,
            &[
                &b.tile_values[ts],
                &b.ranges,
                &b.projected,
                &b.out_rgba,
                &b.out_depth,
            ],
            bytemuck::bytes_of(&bp),
            [tiles_x, tiles_y, 1],
        )?;
        rec.barrier();
        rec.timestamp("blend");

        // 8. outputs to the host
        let pixels = w as u64 * h as u64;
        rec.copy(&b.out_rgba, &b.readback, pixels * 16)?;
        rec.copy_region(&b.out_depth, 0, &b.readback, pixels * 16, pixels * 4)?;
        rec.copy_region(&b.control, 0, &b.readback, pixels * 20, CTL_LEN as u64 * 4)?;
        rec.timestamp("readback");
        let stage_end_ns = self.ctx.submit_and_wait(rec)?;

        let bytes = b
            .readback
            .read((pixels * 20 + CTL_LEN as u64 * 4) as usize)?;
        let rgba: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes[..pixels as usize * 16]);
        let depth: Vec<f32> =
            bytemuck::pod_collect_to_vec(&bytes[pixels as usize * 16..pixels as usize * 20]);
        let ctl: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes[pixels as usize * 20..]);
        let total = ctl[CTL_TOTAL_ISECT as usize] as u64;
        let num_isect = ctl[CTL_NUM_ISECT as usize];

        let stages = if want_stages && total <= b.capacity as u64 {
            Some(self.read_stages(n, num_isect, &b.projected, &b.rects, ids, ts)?)
        } else {
            None
        };
        let stats = FrameStats {
            intersections: total,
            attempts: 1,
            stage_end_ns,
            device_bytes: self.ctx.allocated_bytes(),
        };
        let frame = Frame {
            width: w,
            height: h,
            rgba,
            depth,
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

    /// Sorts (key, value) pairs on the GPU by the low `bits` bits of the keys, stably. Returns
    /// the sorted pairs and the GPU time of the sort in nanoseconds.
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
        let n = u32::try_from(keys.len()).map_err(|_| CoreError::TooLarge("sort size".into()))?;
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
