//! Rust mirrors of the layouts the shaders declare in `shaders/include/*.glsl` and in their
//! push-constant blocks. `tests/layout.rs` checks them against the GLSL with a probe shader.

use bytemuck::{Pod, Zeroable};

// Control-buffer slots (shaders/include/common.glsl).
pub const CTL_NUM_SPLATS: u32 = 0;
pub const CTL_TOTAL_ISECT: u32 = 1;
pub const CTL_ISECT_CAPACITY: u32 = 2;
pub const CTL_NUM_ISECT: u32 = 3;
pub const CTL_DEPTH_SORT: u32 = 4;
pub const CTL_TILE_SORT: u32 = 8;
pub const CTL_ARGS_SORT: u32 = 12;
pub const CTL_ARGS_HIST_SCAN: u32 = 15;
pub const CTL_ARGS_ISECT: u32 = 18;
pub const CTL_VISIBLE: u32 = 21;
pub const CTL_LEN: u32 = 24;
pub const SORT_NUM_KEYS: u32 = 0;
pub const SORT_NUM_BLOCKS: u32 = 1;
pub const SORT_HIST_LEN: u32 = 2;

pub const WORKGROUP: u32 = 256;
pub const SORT_BLOCK_KEYS: u32 = 4096;
pub const SCAN_BLOCK: u32 = 1024;
pub const MAX_GROUPS_X: u32 = 65535;
/// Radix digits per pass (8 bits).
pub const RADIX_BITS: u32 = 8;

/// `Projected` in projected.glsl (48 bytes, std430).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GpuProjected {
    pub mean_depth_opacity: [f32; 4],
    pub conic: [f32; 4],
    pub color: [f32; 4],
}

/// The per-frame parameter buffer of preprocess.comp (binding 8, std430).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct PreprocessParams {
    pub view_rows: [[f32; 4]; 3],
    pub cam_pos: [f32; 4],
    pub intrinsics: [f32; 4],
    pub width: u32,
    pub height: u32,
    pub num_splats: u32,
    pub sh_degree: u32,
    pub mode: u32,
    pub tiles_x: u32,
    pub tiles_y: u32,
    pub sh_stride: u32,
    pub flags: u32,
    pub pad: [u32; 3],
}

/// `flags` bits of [`PreprocessParams`] (common.glsl).
pub const SPLAT_USE_COVARIANCE: u32 = 1;
pub const SPLAT_USE_OPACITY_SCALE: u32 = 2;
pub const SPLAT_SH_HALF: u32 = 4;

/// Binding of the first plugin buffer in a variant stage (variant.glsl); bindings below it are
/// the scene's buffers in [`crate::GpuScene::buffers`] order.
pub const FIRST_PLUGIN_BINDING: u32 = 9;

/// Push constants of scan.comp.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ScanParams {
    pub len_slot: u32,
    pub total_slot: u32,
    pub gather: u32,
    pub pad: u32,
}

/// Push constants of preprocess.comp: device addresses of the large arrays (buffers.glsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct PreprocessArrays {
    pub sh_r: u64,
    pub sh_g: u64,
    pub sh_b: u64,
    pub covariances: u64,
    pub projected: u64,
}

/// Push constants of radix_sort.comp.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SortParams {
    pub keys_in: u64,
    pub vals_in: u64,
    pub keys_out: u64,
    pub vals_out: u64,
    pub info_slot: u32,
    pub shift: u32,
}

/// Push constants of emit_keys.comp.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct EmitParams {
    pub tile_keys: u64,
    pub values: u64,
    pub tiles_x: u32,
    pub num_splats: u32,
}

/// Push constants of tile_ranges.comp.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct RangesParams {
    pub tile_keys: u64,
}

/// Push constants of blend.comp.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct BlendParams {
    pub values: u64,
    pub projected: u64,
    pub out_rgba: u64,
    pub out_depth: u64,
    pub background: [f32; 4],
    pub width: u32,
    pub height: u32,
    pub tiles_x: u32,
    pub mode: u32,
}

/// Workgroup counts for `n` workgroups, split into 2D when above the x limit (the shaders
/// flatten with `flat_group()` and discard the overhang).
pub fn groups_2d(n: u32) -> [u32; 3] {
    if n == 0 {
        return [0, 0, 0];
    }
    let x = n.min(MAX_GROUPS_X);
    [x, n.div_ceil(x), 1]
}
