//! Rust and GLSL agree on the shared layouts: a probe shader writes a distinct value into every
//! field of `Projected` and every control-buffer constant; the Rust mirrors must read them back
//! at the same offsets.

use vksplat_core::gpu_layout::*;
use vksplat_core::shaders::layout_probe_spirv;
use vksplat_tests::Gpu;
use vksplat_vk::{BufferUsage, MemoryLocation};

#[test]
fn glsl_and_rust_layouts_match() {
    let Some(gpu) = Gpu::new() else { return };
    let ctx = &gpu.ctx;
    let probe = ctx
        .create_compute_pipeline("layout_probe", &layout_probe_spirv(), 2, 0)
        .unwrap();
    let proj = ctx
        .create_buffer(
            "probe.projected",
            2 * 48,
            BufferUsage::Storage,
            MemoryLocation::GpuOnly,
        )
        .unwrap();
    let control = ctx
        .create_buffer(
            "probe.control",
            64,
            BufferUsage::Storage,
            MemoryLocation::GpuOnly,
        )
        .unwrap();
    let mut rec = ctx.begin().unwrap();
    rec.dispatch(&probe, &[&proj, &control], &[], [1, 1, 1])
        .unwrap();
    rec.barrier();
    drop(ctx.submit_and_wait(rec).unwrap());

    assert_eq!(std::mem::size_of::<GpuProjected>(), 48);
    let p: Vec<GpuProjected> =
        bytemuck::pod_collect_to_vec(&gpu.renderer.download(&proj, 96).unwrap());
    let expected = GpuProjected {
        mean_depth_opacity: [1.0, 2.0, 3.0, 4.0],
        conic: [5.0, 6.0, 7.0, 8.0],
        color: [9.0, 10.0, 11.0, 12.0],
    };
    assert_eq!(
        p,
        vec![expected, expected],
        "array stride and field offsets of Projected"
    );

    let c: Vec<u32> = bytemuck::pod_collect_to_vec(&gpu.renderer.download(&control, 64).unwrap());
    let rust = [
        CTL_NUM_SPLATS,
        CTL_TOTAL_ISECT,
        CTL_ISECT_CAPACITY,
        CTL_NUM_ISECT,
        CTL_DEPTH_SORT,
        CTL_TILE_SORT,
        CTL_ARGS_SORT,
        CTL_ARGS_HIST_SCAN,
        CTL_ARGS_ISECT,
        CTL_LEN,
        SORT_BLOCK_KEYS,
        SCAN_BLOCK,
        vksplat_core::TILE_SIZE,
        SORT_NUM_KEYS,
        SORT_NUM_BLOCKS,
        SORT_HIST_LEN,
    ];
    assert_eq!(
        c,
        rust.to_vec(),
        "control-buffer constants in common.glsl vs gpu_layout.rs"
    );
}
