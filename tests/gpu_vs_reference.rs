//! The GPU pipeline against the CPU reference renderer, stage by stage: projection outputs,
//! depth order, sorted intersections and the final image, on random scenes (SH 0-3, splats
//! behind and near the camera, off-centre principal points, non-square, 1x1 and 4097x17).

use vksplat_core::reference;
use vksplat_core::shaders::SortKernel;
use vksplat_core::{RenderMode, RenderSettings};
use vksplat_io::{Camera, Splats};
use vksplat_tests::{camera, compare, projection_mismatches, random_scene, Gpu, Rng};

/// Runs one frame on both renderers and checks every stage. Returns the max image difference.
fn check_frame(gpu: &mut Gpu, splats: &Splats, cam: &Camera, settings: &RenderSettings) -> f32 {
    let what = format!(
        "{} splats sh{} {}x{} {:?}",
        splats.len(),
        splats.sh_degree,
        cam.width,
        cam.height,
        settings.mode
    );
    let scene = gpu.renderer.upload_scene(splats).expect("upload");
    let (frame, stats, stages) = gpu
        .renderer
        .render_with_stages(&scene, cam, settings)
        .expect("render");

    // Projection: same culling decisions (allowing a rare disagreement at a threshold) and
    // the same values.
    let cpu = reference::project_all(splats, cam, settings.mode);
    let culled_mismatch = projection_mismatches(&what, &stages.projected, &cpu);
    assert!(
        culled_mismatch * 1000 <= splats.len().max(1),
        "{what}: {culled_mismatch} culling/rect mismatches"
    );

    let visible = stages.projected.iter().filter(|p| p.is_some()).count();
    assert_eq!(
        stats.visible_splats as usize, visible,
        "{what}: visible splat count"
    );

    // Depth order: a stable sort of the GPU's own sort keys (culled last).
    let key = |i: u32| {
        stages.projected[i as usize]
            .map(|p| p.sort_key.to_bits())
            .unwrap_or(u32::MAX)
    };
    let mut expected: Vec<u32> = (0..splats.len() as u32).collect();
    expected.sort_by_key(|&i| key(i));
    assert_eq!(stages.depth_order, expected, "{what}: depth order");

    // Intersections: what the reference builds from the GPU's own projections.
    let isect = reference::sorted_intersections(&stages.projected, cam.width, cam.height);
    assert_eq!(
        stats.intersections as usize,
        isect.len(),
        "{what}: intersection count"
    );
    assert_eq!(stages.intersections, isect, "{what}: sorted intersections");

    // Image.
    let reference = reference::render(splats, cam, settings);
    let (max_rgba, bad_rgba) = compare(&frame.rgba, &reference.rgba, 2e-4, 2e-3);
    let (_, bad_depth) = compare(&frame.depth, &reference.depth, 1e-3, 1e-3);
    assert!(
        bad_rgba <= 1e-3,
        "{what}: {bad_rgba} of RGBA elements differ (max {max_rgba})"
    );
    assert!(
        bad_depth <= 1e-3,
        "{what}: {bad_depth} of depth elements differ"
    );
    max_rgba
}

#[test]
fn random_scenes_all_sh_degrees_and_sizes() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(42);
    let cases = [
        (0u32, 1usize, 64u32, 48u32),
        (1, 100, 123, 82),
        (2, 1000, 200, 120),
        (3, 3000, 320, 240),
        (3, 20000, 256, 256),
    ];
    for (deg, n, w, h) in cases {
        let splats = random_scene(&mut rng, n, deg);
        // Off-centre principal point, non-square pixels.
        let cam = camera(
            w,
            h,
            0.9 * w as f32,
            0.8 * w as f32,
            0.43 * w as f32,
            0.57 * h as f32,
        );
        // Khr (camera-distance sort, 3σ cut) on all but the largest case (suite time).
        for mode in RenderMode::ALL
            .into_iter()
            .filter(|&m| m != RenderMode::Khr || n <= 3000)
        {
            let settings = RenderSettings {
                mode,
                background: [0.1, 0.2, 0.3],
                ..Default::default()
            };
            let max = check_frame(&mut gpu, &splats, &cam, &settings);
            assert!(max < 0.05, "max diff {max}");
        }
    }
}

#[test]
fn degenerate_image_sizes() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(7);
    let splats = random_scene(&mut rng, 500, 1);
    for (w, h) in [(1u32, 1u32), (4097, 17), (17, 4097), (16, 16), (15, 33)] {
        let f = 0.7 * w.max(h) as f32;
        let cam = camera(w, h, f, f, w as f32 / 2.0, h as f32 / 2.0);
        check_frame(&mut gpu, &splats, &cam, &RenderSettings::default());
    }
}

#[test]
fn zero_splats_render_the_background() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = Splats {
        sh_degree: 0,
        ..Default::default()
    };
    let cam = camera(40, 30, 30.0, 30.0, 20.0, 15.0);
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let settings = RenderSettings {
        background: [0.25, 0.5, 1.0],
        ..Default::default()
    };
    let (frame, stats) = gpu.renderer.render(&scene, &cam, &settings).unwrap();
    assert_eq!(stats.intersections, 0);
    for px in frame.rgba.chunks_exact(4) {
        assert_eq!(px, [0.25, 0.5, 1.0, 0.0]);
    }
    assert!(frame.depth.iter().all(|&d| d == 0.0));
}

#[test]
fn intersection_buffers_grow_instead_of_dropping_splats() {
    // Both kernel sets: each clamps its key emission to the capacity its own way.
    for kernel in [SortKernel::Cpu, SortKernel::Gpu] {
        let Some(mut gpu) = Gpu::new() else { return };
        gpu.renderer.set_sort_kernel(kernel).unwrap();
        buffers_grow(gpu);
    }
}

fn buffers_grow(mut gpu: Gpu) {
    let mut rng = Rng::new(3);
    let mut splats = random_scene(&mut rng, 2000, 0);
    for m in &mut splats.means {
        m[2] = m[2].abs() + 2.0;
    }
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let settings = RenderSettings::default();
    // The first frame sizes the buffers for its own (small) count.
    let wide = camera(512, 512, 200.0, 200.0, 256.0, 256.0);
    let (_, first) = gpu.renderer.render(&scene, &wide, &settings).unwrap();
    assert_eq!(first.attempts, 2, "sizing pass + frame");
    // Zooming in at the same image size makes every splat cover many more tiles: the frame
    // overflows, the GPU clamps, and the host grows the buffers and renders again.
    let zoomed = camera(512, 512, 2400.0, 2400.0, 256.0, 256.0);
    let (frame, stats) = gpu.renderer.render(&scene, &zoomed, &settings).unwrap();
    assert!(
        stats.intersections > 4 * first.intersections,
        "{} vs {}",
        stats.intersections,
        first.intersections
    );
    assert_eq!(
        stats.attempts, 2,
        "one overflowing frame + one regrown frame"
    );
    let reference = reference::render(&splats, &zoomed, &settings);
    let (max, bad) = compare(&frame.rgba, &reference.rgba, 2e-4, 2e-3);
    assert!(bad < 1e-3, "{bad} differ, max {max}");
    let (_, again) = gpu.renderer.render(&scene, &zoomed, &settings).unwrap();
    assert_eq!(again.attempts, 1, "the grown buffers are kept");
}

#[test]
fn frames_are_bit_identical() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(11);
    let splats = random_scene(&mut rng, 5000, 3);
    let cam = camera(300, 200, 250.0, 250.0, 150.0, 100.0);
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let a = gpu
        .renderer
        .render(&scene, &cam, &RenderSettings::default())
        .unwrap()
        .0;
    let b = gpu
        .renderer
        .render(&scene, &cam, &RenderSettings::default())
        .unwrap()
        .0;
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.rgba), bits(&b.rgba));
    assert_eq!(bits(&a.depth), bits(&b.depth));
}

#[test]
fn half_precision_sh_stays_close_to_f32() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(17);
    let splats = random_scene(&mut rng, 4000, 3);
    let cam = camera(256, 192, 220.0, 220.0, 128.0, 96.0);
    let settings = RenderSettings::default();
    let full = gpu.renderer.upload_scene(&splats).unwrap();
    let half = gpu
        .renderer
        .upload_scene_with(
            &splats,
            &Default::default(),
            vksplat_core::SceneOptions {
                sh_half: true,
                ..Default::default()
            },
        )
        .unwrap();
    let (a, _) = gpu.renderer.render(&full, &cam, &settings).unwrap();
    let (b, _) = gpu.renderer.render(&half, &cam, &settings).unwrap();
    let (max, bad) = compare(&b.rgba, &a.rgba, 2e-3, 0.0);
    let mean = a
        .rgba
        .iter()
        .zip(&b.rgba)
        .map(|(x, y)| (x - y).abs() as f64)
        .sum::<f64>()
        / a.rgba.len() as f64;
    eprintln!("half SH vs f32: max {max:.2e}, mean {mean:.2e}");
    assert!(
        bad < 1e-3 && max < 1e-2,
        "half SH differs too much: max {max}, {bad} over 2e-3"
    );
    assert!(max > 0.0, "half SH had no effect at all (was it used?)");
}

#[test]
fn batched_views_match_single_frames_bit_for_bit() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(21);
    let splats = random_scene(&mut rng, 3000, 2);
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let settings = RenderSettings::default();
    let mut cams = vec![
        camera(160, 120, 150.0, 150.0, 80.0, 60.0),
        camera(64, 200, 90.0, 90.0, 30.0, 100.0),
        camera(300, 40, 250.0, 250.0, 150.0, 20.0),
    ];
    cams[1].world_to_camera[0][3] = 0.3; // a different viewpoint
    let batch = gpu.renderer.render_batch(&scene, &cams, &settings).unwrap();
    assert_eq!(batch.len(), 3);
    for (cam, (frame, stats)) in cams.iter().zip(&batch) {
        let (single, single_stats) = gpu.renderer.render(&scene, cam, &settings).unwrap();
        assert_eq!((frame.width, frame.height), (cam.width, cam.height));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&frame.rgba),
            bits(&single.rgba),
            "{}x{}",
            cam.width,
            cam.height
        );
        assert_eq!(bits(&frame.depth), bits(&single.depth));
        assert_eq!(stats.intersections, single_stats.intersections);
        assert!(stats.stage_ms().iter().any(|(s, _)| s == "blend"));
    }
}
