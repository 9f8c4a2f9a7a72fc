//! Scenes larger than one storage binding (issue 15, "Scale"): preprocess reaches the scene's
//! per-splat arrays by device address, so a scene is limited by the largest allocation, not
//! by a binding's range (128 MiB on lavapipe, ~8.4M splats of 16-byte rotations). Proved
//! cheaply with the `test-hooks` function `limit_binding_range`, which lowers the range the
//! renderer assumes: a few thousand splats then exceed it. A variant stage, which binds the
//! scene's arrays as descriptors, refuses such a scene with a clear error.

use vksplat_core::shaders::compile_glsl;
use vksplat_core::{reference, CoreError, RenderMode, RenderSettings, VariantStage};
use vksplat_tests::{camera, compare, random_scene, Gpu, Rng};

/// The lowered binding range: below the scene's means (12 B/splat), log-scales and rotations
/// (16 B/splat) and the SH planes, above every buffer the frame still binds (8 B/splat).
const LIMIT: u64 = 64 << 10;
const SPLATS: usize = 6000;

#[test]
fn scene_arrays_beyond_one_binding_render_by_address() {
    let Some(mut gpu) = Gpu::new() else { return };
    gpu.renderer.limit_binding_range(LIMIT);
    let mut rng = Rng::new(15);
    for sh_degree in [0, 3] {
        let splats = random_scene(&mut rng, SPLATS, sh_degree);
        let scene = gpu.renderer.upload_scene(&splats).expect("upload");
        // Not vacuous: the scene's arrays are larger than the binding range.
        let [means, rotations, log_scales, _, sh_r, ..] = scene.buffers();
        for b in [means, rotations, log_scales] {
            assert!(b.size() > LIMIT, "{} is {} bytes", b.name(), b.size());
        }
        assert_eq!(sh_r.size() > LIMIT, sh_degree == 3);
        let cam = camera(96, 64, 80.0, 80.0, 48.0, 32.0);
        for mode in [RenderMode::Classic, RenderMode::Antialiased] {
            let settings = RenderSettings {
                mode,
                ..Default::default()
            };
            let (frame, _, stages) = gpu
                .renderer
                .render_with_stages(&scene, &cam, &settings)
                .expect("render");
            let cpu = reference::project_all(&splats, &cam, mode);
            let visible = cpu.iter().filter(|p| p.is_some()).count();
            assert!(visible > SPLATS / 2, "{visible} visible");
            // Every splat read right: same culling and the same depth bits (the mean), the
            // same opacity (logit) and conic (rotation and scales).
            for (i, (g, c)) in stages.projected.iter().zip(&cpu).enumerate() {
                match (g, c) {
                    (Some(g), Some(c)) => {
                        assert_eq!(g.depth.to_bits(), c.depth.to_bits(), "splat {i} depth");
                        assert!((g.opacity - c.opacity).abs() <= 1e-5, "splat {i} opacity");
                        for (x, y) in g.conic.iter().zip(&c.conic) {
                            let tol = 1e-3 * (c.conic[0].abs() + c.conic[2].abs()) + 1e-6;
                            assert!((x - y).abs() <= tol, "splat {i} conic {g:?} vs {c:?}");
                        }
                        for (x, y) in g.color.iter().zip(&c.color) {
                            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "splat {i} colour");
                        }
                    }
                    (None, None) => {}
                    _ => panic!("splat {i}: culled on one side only: {g:?} vs {c:?}"),
                }
            }
            let want = reference::render(&splats, &cam, &settings);
            let (max, bad) = compare(&frame.rgba, &want.rgba, 2e-4, 2e-3);
            assert!(
                bad <= 1e-3,
                "SH {sh_degree} {mode:?}: {bad} differ, max {max}"
            );
        }
    }
}

const OPACITY_SHADER: &str = r#"
#version 450
#include "variant.glsl"
layout(local_size_x = 64) in;
layout(push_constant) uniform P { uint n; } p;
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < p.n) opacity_scale[i] = 0.5;
}
"#;

#[test]
fn a_variant_stage_refuses_a_scene_beyond_one_binding() {
    let Some(mut gpu) = Gpu::new() else { return };
    gpu.renderer.limit_binding_range(LIMIT);
    let splats = random_scene(&mut Rng::new(16), SPLATS, 0);
    let spirv = compile_glsl(OPACITY_SHADER, "opacity.comp").expect("compiles");
    let pipeline = gpu
        .ctx
        .create_checked_pipeline(
            "opacity",
            &spirv,
            &vksplat_vk::spirv::Interface {
                texel_bindings: 0,
                uint_texel_bindings: 0,
                bindings: 9,
                push_constant_size: 4,
                address_offsets: &[],
            },
        )
        .expect("pipeline");
    let scene = gpu.renderer.upload_scene(&splats).expect("upload");
    let stage = VariantStage {
        pipeline: &pipeline,
        extra_buffers: vec![],
        push_constants: (SPLATS as u32).to_le_bytes().to_vec(),
        workgroups: [(SPLATS as u32).div_ceil(64), 1, 1],
    };
    let cam = camera(96, 64, 80.0, 80.0, 48.0, 32.0);
    let err = gpu
        .renderer
        .render_variant(&scene, &stage, &cam, &RenderSettings::default())
        .expect_err("a variant stage cannot bind the means");
    assert!(matches!(err, CoreError::TooLarge(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("scene.means") && msg.contains("variant stage"),
        "{msg}"
    );
}

/// A scene whose upload is larger than one staging step (64 MiB: 290k splats of SH degree 3,
/// 68 MB) goes up in several steps, pieces of an array split between them: every splat
/// arrives intact (same projection, colour from all 16 coefficients of each channel).
#[test]
fn an_upload_larger_than_one_staging_step_arrives_intact() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = random_scene(&mut Rng::new(17), 290_000, 3);
    let scene = gpu.renderer.upload_scene(&splats).expect("upload");
    let cam = camera(64, 48, 50.0, 50.0, 32.0, 24.0);
    let settings = RenderSettings::default();
    let (_, _, stages) = gpu
        .renderer
        .render_with_stages(&scene, &cam, &settings)
        .expect("render");
    let cpu = reference::project_all(&splats, &cam, settings.mode);
    let mut checked = 0;
    for (i, (g, c)) in stages.projected.iter().zip(&cpu).enumerate() {
        if let (Some(g), Some(c)) = (g, c) {
            assert_eq!(g.depth.to_bits(), c.depth.to_bits(), "splat {i} depth");
            assert_eq!(g.mean2d, c.mean2d, "splat {i} mean");
            for (x, y) in g.color.iter().zip(&c.color) {
                assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "splat {i} colour");
            }
            checked += 1;
        }
    }
    assert!(checked > 100_000, "only {checked} splats checked");
}
