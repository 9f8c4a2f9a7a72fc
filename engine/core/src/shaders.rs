//! The engine's compute pipelines, built once per device from SPIR-V compiled at build time.

use std::sync::Arc;

use vksplat_vk::{ComputePipeline, Context};

use crate::error::CoreError;
use crate::gpu_layout::*;

macro_rules! spirv {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".spv"))
    };
}

fn words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Every pipeline of the frame.
pub struct Kernels {
    pub preprocess: ComputePipeline,
    pub scan_reduce: ComputePipeline,
    pub scan_blocks: ComputePipeline,
    pub scan_downsweep: ComputePipeline,
    pub sort_histogram: ComputePipeline,
    pub sort_scatter: ComputePipeline,
    pub dispatch_args: ComputePipeline,
    pub emit_keys: ComputePipeline,
    pub tile_ranges: ComputePipeline,
    pub blend: ComputePipeline,
}

impl Kernels {
    pub fn new(ctx: &Arc<Context>) -> Result<Self, CoreError> {
        let p = |name: &str, spv: &[u8], bindings: u32, push: usize| {
            ctx.create_compute_pipeline(name, &words(spv), bindings, push as u32)
        };
        let size = std::mem::size_of::<ScanParams>();
        Ok(Kernels {
            preprocess: p(
                "preprocess",
                spirv!("preprocess"),
                10,
                std::mem::size_of::<PreprocessArrays>(),
            )?,
            scan_reduce: p("scan_reduce", spirv!("scan_reduce"), 6, size)?,
            scan_blocks: p("scan_blocks", spirv!("scan_blocks"), 6, size)?,
            scan_downsweep: p("scan_downsweep", spirv!("scan_downsweep"), 6, size)?,
            sort_histogram: p(
                "sort_histogram",
                spirv!("sort_histogram"),
                2,
                std::mem::size_of::<SortParams>(),
            )?,
            sort_scatter: p(
                "sort_scatter",
                spirv!("sort_scatter"),
                2,
                std::mem::size_of::<SortParams>(),
            )?,
            dispatch_args: p("dispatch_args", spirv!("dispatch_args"), 1, 0)?,
            emit_keys: p(
                "emit_keys",
                spirv!("emit_keys"),
                4,
                std::mem::size_of::<EmitParams>(),
            )?,
            tile_ranges: p(
                "tile_ranges",
                spirv!("tile_ranges"),
                2,
                std::mem::size_of::<RangesParams>(),
            )?,
            blend: p(
                "blend",
                spirv!("blend"),
                1,
                std::mem::size_of::<BlendParams>(),
            )?,
        })
    }
}

/// SPIR-V of the test-only layout probe (tests/layout.rs).
pub fn layout_probe_spirv() -> Vec<u32> {
    words(spirv!("layout_probe"))
}

/// The shared GLSL headers of `shaders/include/`, embedded for run-time compilation.
pub const HEADERS: &[(&str, &str)] = &[
    (
        "common.glsl",
        include_str!("../../../shaders/include/common.glsl"),
    ),
    (
        "projected.glsl",
        include_str!("../../../shaders/include/projected.glsl"),
    ),
    (
        "variant.glsl",
        include_str!("../../../shaders/include/variant.glsl"),
    ),
    (
        "workgroup_scan.glsl",
        include_str!("../../../shaders/include/workgroup_scan.glsl"),
    ),
];

/// Compiles a GLSL compute shader at run time (plugin shaders); `#include "variant.glsl"` and
/// the other engine headers resolve to the embedded copies.
pub fn compile_glsl(source: &str, name: &str) -> Result<Vec<u32>, CoreError> {
    vksplat_shaderc::compile_compute_with_headers(source, name, &[], HEADERS, &[])
        .map_err(|e| CoreError::Shader(e.0))
}
