//! The inputs scene-variant plugins use: per-splat 3×3 covariances instead of rotation+scale,
//! per-splat opacity factors, host-side scene updates, and a variant compute stage (compiled
//! at run time) that writes the scene's buffers before preprocess. Each is checked against the
//! CPU reference.

use vksplat_core::shaders::compile_glsl;
use vksplat_core::{reference, RenderSettings, SceneUpdate, SplatExtras, VariantStage};
use vksplat_tests::{camera, compare, random_scene, Gpu, Rng};

fn covariance_of(rng: &mut Rng) -> [f32; 6] {
    // Σ = A Aᵀ for a random A: symmetric positive semi-definite.
    let a: Vec<f32> = (0..9).map(|_| rng.normal() * 0.05).collect();
    let m = |r: usize, c: usize| (0..3).map(|k| a[r * 3 + k] * a[c * 3 + k]).sum::<f32>();
    [m(0, 0), m(0, 1), m(0, 2), m(1, 1), m(1, 2), m(2, 2)]
}

#[test]
fn covariance_and_opacity_scale_match_the_reference() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(5);
    let splats = random_scene(&mut rng, 3000, 2);
    let extras = SplatExtras {
        covariances: Some((0..splats.len()).map(|_| covariance_of(&mut rng)).collect()),
        opacity_scale: Some((0..splats.len()).map(|_| rng.unit()).collect()),
    };
    let cam = camera(200, 150, 180.0, 180.0, 97.0, 80.0);
    for mode in [
        vksplat_core::RenderMode::Classic,
        vksplat_core::RenderMode::Inria,
    ] {
        let settings = RenderSettings {
            mode,
            background: [0.0, 0.1, 0.2],
            ..Default::default()
        };
        let scene = gpu.renderer.upload_scene_ext(&splats, &extras).unwrap();
        let (frame, _) = gpu.renderer.render(&scene, &cam, &settings).unwrap();
        let want = reference::render_ext(&splats, &extras, &cam, &settings);
        let (max, bad) = compare(&frame.rgba, &want.rgba, 2e-4, 2e-3);
        assert!(bad < 1e-3, "{mode:?}: {bad} differ, max {max}");
        // And the factors matter: without them the image is different.
        let plain = reference::render(&splats, &cam, &settings);
        let (max_plain, _) = compare(&frame.rgba, &plain.rgba, 0.0, 0.0);
        assert!(max_plain > 0.05, "extras had no effect ({max_plain})");
    }
}

#[test]
fn write_scene_replaces_arrays_and_checks_lengths() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(9);
    let a = random_scene(&mut rng, 800, 1);
    let mut b = random_scene(&mut rng, 800, 1);
    b.sh = a.sh.clone();
    b.log_scales = a.log_scales.clone();
    let cam = camera(120, 90, 100.0, 100.0, 60.0, 45.0);
    let settings = RenderSettings::default();
    let mut scene = gpu.renderer.upload_scene(&a).unwrap();
    let update = SceneUpdate {
        means: Some(&b.means),
        rotations: Some(&b.rotations),
        opacity_logits: Some(&b.opacity_logits),
        ..Default::default()
    };
    gpu.renderer.write_scene(&mut scene, &update).unwrap();
    let (frame, _) = gpu.renderer.render(&scene, &cam, &settings).unwrap();
    let want = reference::render(&b, &cam, &settings);
    let (max, bad) = compare(&frame.rgba, &want.rgba, 2e-4, 2e-3);
    assert!(bad < 1e-3, "{bad} differ, max {max}");
    let short = SceneUpdate {
        means: Some(&b.means[..10]),
        ..Default::default()
    };
    let err = gpu
        .renderer
        .write_scene(&mut scene, &short)
        .unwrap_err()
        .to_string();
    assert!(err.contains("means") && err.contains("800"), "{err}");
    let cov = vec![[0.0f32; 6]; 800];
    let err = gpu
        .renderer
        .write_scene(
            &mut scene,
            &SceneUpdate {
                covariances: Some(&cov),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("covariances"), "{err}");
}

const SHIFT_SHADER: &str = r#"
#version 450
#include "variant.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Rest { float rest[]; };
layout(push_constant) uniform P { float shift; uint n; } p;
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.n) return;
    means[3u * i] = rest[3u * i] + p.shift * float(i % 3u);
    means[3u * i + 1u] = rest[3u * i + 1u];
    means[3u * i + 2u] = rest[3u * i + 2u];
    opacity_scale[i] = 0.5;
}
"#;

#[test]
fn variant_stage_writes_splats_before_preprocess() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(13);
    let splats = random_scene(&mut rng, 1000, 0);
    let spirv = compile_glsl(SHIFT_SHADER, "shift.comp").expect("compiles");
    let pipeline = gpu
        .ctx
        .create_checked_pipeline(
            "shift",
            &spirv,
            &vksplat_vk::spirv::Interface {
                texel_bindings: 0,
                uint_texel_bindings: 0,
                bindings: 10,
                push_constant_size: 8,
                address_offsets: &[],
            },
        )
        .unwrap();
    let rest = gpu
        .renderer
        .upload("rest", bytemuck::cast_slice(&splats.means))
        .unwrap();
    let extras = SplatExtras {
        covariances: None,
        opacity_scale: Some(vec![1.0; splats.len()]),
    };
    let scene = gpu.renderer.upload_scene_ext(&splats, &extras).unwrap();
    let shift = 0.25f32;
    let mut push = shift.to_le_bytes().to_vec();
    push.extend((splats.len() as u32).to_le_bytes());
    let stage = VariantStage {
        pipeline: &pipeline,
        extra_buffers: vec![&rest],
        push_constants: push,
        workgroups: [(splats.len() as u32).div_ceil(64), 1, 1],
    };
    let cam = camera(160, 120, 140.0, 140.0, 80.0, 60.0);
    let settings = RenderSettings::default();
    let (frame, stats) = gpu
        .renderer
        .render_variant(&scene, &stage, &cam, &settings)
        .unwrap();
    assert!(stats.stage_end_ns.iter().any(|(l, _)| l == "variant"));
    let mut moved = splats.clone();
    for (i, m) in moved.means.iter_mut().enumerate() {
        m[0] += shift * (i % 3) as f32;
    }
    let half = SplatExtras {
        covariances: None,
        opacity_scale: Some(vec![0.5; splats.len()]),
    };
    let want = reference::render_ext(&moved, &half, &cam, &settings);
    let (max, bad) = compare(&frame.rgba, &want.rgba, 2e-4, 2e-3);
    assert!(bad < 1e-3, "{bad} differ, max {max}");
}

#[test]
fn bad_variant_shader_is_a_clear_error() {
    let err = compile_glsl(
        "#version 450\nvoid main() { undefined_thing = 1; }",
        "broken.comp",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("broken.comp") && err.contains("undefined_thing"),
        "{err}"
    );
}
