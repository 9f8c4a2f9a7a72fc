//! The per-frame working buffers, their sizes, and the one capacity policy of the
//! intersection buffers.
//!
//! Invariants: every buffer is sized by [`FrameSizes`], which is checked against the device's
//! limits and the process's host memory before anything is allocated
//! ([`Renderer::check_frame_sizes`]), so a frame that cannot fit fails with a clear error
//! instead of an allocation failure halfway. Bound buffers fit one storage binding; buffers
//! that can outgrow one (projected splats, intersection lists, images) are reached by device
//! address and fit one allocation.
//!
//! # Intersection capacity
//!
//! How many (tile, splat) pairs a frame has is known only on the GPU, after the scan. The
//! GPU clamps to the capacity (never writes out of bounds) and the host compares afterwards:
//! - the first frame of a new scene or image size runs a sizing pass (up to the scan) and
//!   allocates the measured count plus [`SIZED_HEADROOM`];
//! - a later frame that needed more than the capacity is rendered again with its count plus
//!   [`REGROW_HEADROOM`], so the nearby frames of a sequence fit without another retry;
//! - the capacity never shrinks, starts at and never drops below [`MIN_CAPACITY`], and never
//!   exceeds what the device addresses ([`Renderer::max_capacity`]); a frame that needs more
//!   fails with [`CoreError::TooLarge`].

use vksplat_io::memory;
use vksplat_io::Camera;
use vksplat_vk::Buffer;

use super::Renderer;
use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::types::{tile_grid, Frame, RenderSettings};

/// Smallest intersection capacity (and the first one, before any frame was measured).
pub(super) const MIN_CAPACITY: u32 = 1 << 16;
/// Headroom over a sizing pass's measured count.
const SIZED_HEADROOM: f64 = 1.05;
/// Headroom over the count of a frame that overflowed the capacity.
const REGROW_HEADROOM: f64 = 1.25;

/// Largest image width or height.
pub(super) const MAX_IMAGE_SIDE: u32 = 32768;

/// Why the capacity grows ([module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Grow {
    /// A sizing pass measured the count.
    Sized,
    /// A frame needed more than the capacity.
    Overflowed,
}

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

/// Per-frame working buffers, sized for a splat count, an image size and an intersection
/// capacity.
pub(super) struct FrameBuffers {
    pub num_splats: u32,
    pub width: u32,
    pub height: u32,
    pub capacity: u32,
    pub control: Buffer,
    /// PreprocessParams of the frame, one buffer per instance (written by the command buffer
    /// itself; [`Renderer::ensure_instance_params`] adds more).
    pub params: Vec<Buffer>,
    pub projected: Buffer,
    /// Each splat's tile rectangle, its low corner and its high corner (packed by
    /// `pack_rect`) in two arrays of 4 bytes per splat, so neither outgrows a binding before
    /// the other per-splat arrays do.
    pub rects: [Buffer; 2],
    pub depth_keys: [Buffer; 2],
    pub ids: [Buffer; 2],
    pub offsets: Buffer,
    pub depth_hist: Buffer,
    pub block_sums: Buffer,
    pub tile_keys: [Buffer; 2],
    pub tile_values: [Buffer; 2],
    pub tile_hist: Buffer,
    pub ranges: Buffer,
    pub out_rgba: Buffer,
    pub out_depth: Buffer,
    /// The host's depth for occlusion: a 16-byte header and one raw value per pixel
    /// (`crate::host_depth`; the header alone says "no occluder").
    pub occluder: Buffer,
}

/// The size in bytes of every buffer of [`FrameBuffers`], computed before any is allocated.
pub(super) struct FrameSizes {
    num_splats: u32,
    width: u32,
    height: u32,
    control: u64,
    params: u64,
    projected: u64,
    /// Each of rects[2], depth_keys[2], ids[2] and offsets.
    per_splat_u32: u64,
    depth_hist: u64,
    block_sums: u64,
    /// Each of tile_keys[2] and tile_values[2].
    per_isect_u32: u64,
    tile_hist: u64,
    ranges: u64,
    rgba: u64,
    depth: u64,
    occluder: u64,
    /// One view's outputs in a host-visible readback buffer.
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
        // The radix sort's 256 counters per block.
        let tile_hist = 256 * tile_blocks;
        let scan_blocks = [
            n64.div_ceil(SCAN_BLOCK as u64),
            (256 * depth_blocks).div_ceil(SCAN_BLOCK as u64),
            tile_hist.div_ceil(SCAN_BLOCK as u64),
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
            per_splat_u32: n64 * 4,
            depth_hist: depth_blocks * 256 * 4,
            block_sums: scan_blocks * 4,
            per_isect_u32: cap * 4,
            tile_hist: tile_hist * 4,
            ranges: tx as u64 * ty as u64 * 8,
            rgba: pixels * 16,
            depth: pixels * 4,
            occluder: crate::host_depth::OCC_HEADER_BYTES + pixels * 4,
            readback: frame_readback_bytes(width, height),
        }
    }

    /// Buffers bound as storage descriptors (limited by one binding's range).
    fn bound(&self) -> [(&'static str, u64); 10] {
        [
            ("frame.control", self.control),
            ("frame.params", self.params),
            ("frame.rect_lo", self.per_splat_u32),
            ("frame.rect_hi", self.per_splat_u32),
            ("frame.depth_keys", self.per_splat_u32),
            ("frame.offsets", self.per_splat_u32),
            ("frame.depth_hist", self.depth_hist),
            ("frame.block_sums", self.block_sums),
            ("frame.tile_hist", self.tile_hist),
            ("frame.ranges", self.ranges),
        ]
    }

    /// Buffers reached by device address (limited by the largest allocation).
    fn addressed(&self) -> [(&'static str, u64); 5] {
        [
            ("frame.projected", self.projected),
            ("frame.tile_keys", self.per_isect_u32),
            ("frame.rgba", self.rgba),
            ("frame.depth", self.depth),
            ("frame.occluder", self.occluder),
        ]
    }

    /// All device-local bytes of the frame.
    fn device_total(&self) -> u64 {
        let bound: u64 = self.bound().iter().map(|b| b.1).sum();
        // depth_keys1, ids0 and ids1 are not in `bound`.
        let pairs = 3 * self.per_splat_u32;
        bound
            + pairs
            + self.projected
            + 4 * self.per_isect_u32
            + self.rgba
            + self.depth
            + self.occluder
    }

    /// Host bytes of one view's image once read back (the [`Frame`]'s arrays).
    fn host_copy(&self) -> u64 {
        self.rgba + self.depth
    }
}

impl Renderer {
    /// Largest buffer the shaders can bind on this device.
    pub(super) fn max_binding(&self) -> u64 {
        self.binding_limit
    }

    /// Largest buffer the shaders reach by device address (not bound as a descriptor).
    pub(super) fn max_addressed(&self) -> u64 {
        let info = self.ctx.info();
        info.max_memory_allocation_size
            .min(info.device_local_bytes.max(1 << 30))
    }

    /// Most intersections one frame may have: u32-indexed, 4 bytes per key or value array,
    /// reached by device address.
    pub(super) fn max_capacity(&self) -> u32 {
        (self.max_addressed() / 4).min(1 << 31) as u32
    }

    /// Grows the intersection capacity for a frame that needs `needed` pairs, by the policy
    /// of the [module docs](self); fails when the device cannot hold them.
    pub(super) fn grow_capacity(&mut self, needed: u64, why: Grow) -> Result<(), CoreError> {
        let max = self.max_capacity();
        if needed > max as u64 {
            return Err(CoreError::TooLarge(format!(
                "the frame needs {needed} tile intersections; {} holds at most {max} \
                 (lower the resolution or the splat sizes)",
                self.ctx.info().name
            )));
        }
        let headroom = match why {
            Grow::Sized => SIZED_HEADROOM,
            Grow::Overflowed => REGROW_HEADROOM,
        };
        let wanted =
            ((needed as f64 * headroom) as u64).clamp(MIN_CAPACITY as u64, max as u64) as u32;
        if wanted > self.capacity {
            if why == Grow::Overflowed {
                log::info!(
                    "growing intersection buffers from {} to {wanted}",
                    self.capacity
                );
            }
            self.capacity = wanted;
        }
        Ok(())
    }

    /// Whether the working buffers exist for this splat count and image size (whatever
    /// their capacity): if not, the next frame needs a sizing pass.
    pub(super) fn has_buffers_for(&self, n: u32, width: u32, height: u32) -> bool {
        matches!(&self.buffers,
            Some(b) if b.num_splats == n && b.width == width && b.height == height)
    }

    /// (Re)allocates the working buffers for `n` splats, a `width`×`height` image and the
    /// current capacity, unless they already fit exactly.
    pub(super) fn ensure_buffers(
        &mut self,
        n: u32,
        width: u32,
        height: u32,
    ) -> Result<(), CoreError> {
        if matches!(&self.buffers, Some(b) if b.capacity == self.capacity)
            && self.has_buffers_for(n, width, height)
        {
            return Ok(());
        }
        // Free the old set before allocating the new one (kept while recorded frames may
        // still use it, `output.rs`).
        self.release_buffers();
        let z = self.frame_sizes(n, width, height);
        // Every limit and the host memory are checked before the first buffer is allocated.
        self.check_frame_sizes(&z, 1)?;
        let s = |name: &str, bytes: u64| self.storage(name, bytes);
        self.buffers = Some(FrameBuffers {
            num_splats: n,
            width,
            height,
            capacity: self.capacity,
            control: s("frame.control", z.control)?,
            params: vec![s("frame.params", z.params)?],
            projected: self.addressed("frame.projected", z.projected)?,
            rects: [
                s("frame.rect_lo", z.per_splat_u32)?,
                s("frame.rect_hi", z.per_splat_u32)?,
            ],
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
            occluder: self.addressed("frame.occluder", z.occluder)?,
        });
        Ok(())
    }

    /// At least `count` preprocess parameter buffers in the working buffers (one per
    /// instance of a frame); call after [`Renderer::ensure_buffers`].
    pub(super) fn ensure_instance_params(&mut self, count: usize) -> Result<(), CoreError> {
        let bytes = std::mem::size_of::<PreprocessParams>() as u64;
        let have = self.buffers.as_ref().map_or(0, |b| b.params.len());
        let mut more = Vec::new();
        for k in have..count {
            more.push(self.storage(&format!("frame.params{k}"), bytes)?);
        }
        if let Some(b) = self.buffers.as_mut() {
            b.params.extend(more);
        }
        Ok(())
    }

    /// The sizes of a frame of `n` splats and `width`×`height` pixels at the current capacity.
    pub(super) fn frame_sizes(&self, n: u32, width: u32, height: u32) -> FrameSizes {
        FrameSizes::new(n, width, height, self.capacity)
    }

    /// Checks that every buffer of a frame fits the device's limits (a bound buffer one
    /// binding's range, an addressed one the largest allocation, the readback the largest
    /// allocation) and that the host memory the
    /// frame needs can be had: the readback buffer of `views` views and the host copies of
    /// their images, plus every device buffer on a CPU device (whose memory is host memory).
    /// Nothing is allocated; a frame that cannot fit fails here with a clear error.
    pub(super) fn check_frame_sizes(&self, z: &FrameSizes, views: u64) -> Result<(), CoreError> {
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
        let z = self.frame_sizes(num_splats, width, height);
        self.check_frame_sizes(&z, 1)
    }

    /// What this device holds, by the buffer rules of [`Renderer::create_scene`] and of the
    /// frame (`FrameSizes`, checked by [`Renderer::check_frame_size`]): the device's limits
    /// only. Host memory, which depends on the process, is checked when a scene or frame is
    /// allocated, and the camera rules of `vksplat_io::Camera::validate` apply on top.
    pub fn device_limits(&self) -> DeviceLimits {
        let info = self.ctx.info();
        let (bound, addressed) = (self.max_binding(), self.max_addressed());
        // Per splat: the bound buffers are the frame's 4-byte arrays (rectangle corners, depth
        // keys, ids, offsets; the scene's arrays are addressed), the largest addressed ones the
        // frame's projected splats (48 bytes) and each SH channel (4·K bytes); create_scene
        // refuses u32::MAX / 64 splats or more.
        let max_splats = [0u64, 1, 2, 3].map(|degree| {
            let k = (degree + 1) * (degree + 1);
            (bound / 4)
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

    /// Camera and settings checks shared by every render entry point.
    pub(super) fn check_frame_inputs(
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
        settings.clip_range().map_err(CoreError::InvalidRequest)?;
        Ok(())
    }
}

/// Bytes one frame's outputs take in a readback buffer: RGBA (16 B/pixel), depth (4 B/pixel),
/// then the control buffer.
pub(super) fn frame_readback_bytes(width: u32, height: u32) -> u64 {
    width as u64 * height as u64 * 20 + CTL_LEN as u64 * 4
}

/// Splits one frame's readback bytes into the frame and its control-buffer values; the
/// frame's arrays are allocated fallibly.
pub(super) fn parse_frame(
    bytes: &[u8],
    width: u32,
    height: u32,
) -> Result<(Frame, Vec<u32>), CoreError> {
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
