//! The two blend kernels (blend.comp for GPUs, blend_cpu.comp for CPU devices) give the same
//! image and depth bit for bit, in every render mode, at tile-unaligned sizes and on scenes
//! that saturate pixels (early termination), and both agree with the CPU reference. tools/test.sh
//! runs this at lavapipe's subgroup sizes 8 and 4 (blend_cpu.comp depends on the size).

use vksplat_core::shaders::{BlendKernel, SortKernel};
use vksplat_core::{reference, RenderMode, RenderSettings};
use vksplat_io::{Camera, Splats};
use vksplat_tests::{camera, compare, random_scene, Gpu, Rng};

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Renders with both kernels; asserts they are bit-identical and close to the reference.
/// Returns the fraction of nearly opaque pixels (alpha >= 0.998).
fn check(gpu: &mut Gpu, splats: &Splats, cam: &Camera, settings: &RenderSettings) -> f64 {
    let what = format!(
        "{} splats {}x{} {:?}",
        splats.len(),
        cam.width,
        cam.height,
        settings.mode
    );
    let scene = gpu.renderer.upload_scene(splats).expect("upload");
    let mut frames = Vec::new();
    for kernel in [BlendKernel::Gpu, BlendKernel::Cpu] {
        gpu.renderer.set_blend_kernel(kernel).expect("blend kernel");
        let (frame, stats) = gpu.renderer.render(&scene, cam, settings).expect("render");
        assert!(
            stats.intersections > 0 || splats.is_empty(),
            "{what}: empty"
        );
        frames.push(frame);
    }
    let (a, b) = (&frames[0], &frames[1]);
    let differing = bits(&a.rgba)
        .iter()
        .zip(bits(&b.rgba))
        .filter(|(x, y)| **x != *y)
        .count();
    assert_eq!(
        differing, 0,
        "{what}: RGBA elements differing between kernels"
    );
    assert_eq!(bits(&a.depth), bits(&b.depth), "{what}: depth");

    let reference = reference::render(splats, cam, settings);
    let (max, bad) = compare(&b.rgba, &reference.rgba, 2e-4, 2e-3);
    assert!(
        bad <= 1e-3,
        "{what}: {bad} of RGBA differ from the reference (max {max})"
    );
    let (_, bad_depth) = compare(&b.depth, &reference.depth, 1e-3, 1e-3);
    assert!(
        bad_depth <= 1e-3,
        "{what}: {bad_depth} of depth differ from the reference"
    );

    // A pixel stops before the splat that would take T to 1e-4, so its alpha stays below
    // 1 - 1e-4; two splats at the 0.999 clamp leave T = 1e-3.
    let saturated = b.rgba.chunks_exact(4).filter(|p| p[3] >= 0.998).count();
    saturated as f64 / (cam.width as f64 * cam.height as f64)
}

#[test]
fn kernels_agree_bit_for_bit_in_every_mode() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(1515);
    // (sh degree, splats, width, height): tile-unaligned sizes leave pixels of edge tiles
    // outside the image; 1x1 is one pixel of one tile.
    let cases = [
        (0u32, 200usize, 1u32, 1u32),
        (1, 800, 45, 33),
        (3, 3000, 200, 120),
    ];
    for (deg, n, w, h) in cases {
        let splats = random_scene(&mut rng, n, deg);
        let f = 0.9 * w.max(h) as f32;
        let cam = camera(w, h, f, 0.9 * f, 0.43 * w as f32, 0.57 * h as f32);
        for mode in RenderMode::ALL {
            let settings = RenderSettings {
                mode,
                background: [0.1, 0.2, 0.3],
                ..Default::default()
            };
            check(&mut gpu, &splats, &cam, &settings);
        }
    }
}

#[test]
fn kernels_agree_where_pixels_saturate() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(77);
    // Many large, nearly opaque splats: most pixels reach T <= 1e-4 part way through their
    // lists, so both kernels' early termination decides the result.
    let mut splats = random_scene(&mut rng, 4000, 2);
    for (l, s) in splats.opacity_logits.iter_mut().zip(&mut splats.log_scales) {
        *l = l.abs() + 4.0;
        *s = s.map(|v| v + 1.0);
    }
    let cam = camera(160, 96, 140.0, 140.0, 80.0, 48.0);
    for mode in [RenderMode::Classic, RenderMode::Inria] {
        let settings = RenderSettings {
            mode,
            background: [1.0, 0.5, 0.0],
            ..Default::default()
        };
        let saturated = check(&mut gpu, &splats, &cam, &settings);
        assert!(
            saturated > 0.25,
            "{mode:?}: only {saturated} of pixels saturated"
        );
    }
}

#[test]
fn cpu_kernels_fall_back_to_addresses_beyond_the_texel_limit() {
    let Some(mut gpu) = Gpu::new() else { return };
    gpu.renderer
        .set_blend_kernel(BlendKernel::Cpu)
        .expect("blend kernel");
    gpu.renderer
        .set_sort_kernel(SortKernel::Cpu)
        .expect("sort kernel");
    // SH 3 in f32: preprocess reads four texels per splat and SH plane, the blend three per
    // splat (12,000 and 9,000 here), the sorts a texel per four pairs.
    let n = 3000;
    let splats = random_scene(&mut Rng::new(41), n, 3);
    let scene = gpu.renderer.upload_scene(&splats).expect("upload");
    let cam = camera(200, 120, 170.0, 170.0, 100.0, 60.0);
    let settings = RenderSettings::default();
    let mut frames = Vec::new();
    // The intersection lists hold at least MIN_CAPACITY pairs, more texels than the middle
    // limits: the tile sort's choice is checked at the ends only.
    for (limit, want) in [
        (u64::MAX, (true, true, true)),
        (4 * n as u64 - 1, (false, true, true)),
        (3 * n as u64 - 1, (false, false, true)),
        (1, (false, false, false)),
    ] {
        gpu.renderer.limit_texel_elements(limit);
        let (frame, _) = gpu
            .renderer
            .render(&scene, &cam, &settings)
            .expect("render");
        let mut reads = gpu.renderer.reads_texels(&scene, &settings).unwrap();
        if limit > 1 && limit < u64::MAX {
            reads.2 = true;
        }
        assert_eq!(reads, want, "limit {limit}");
        frames.push(frame);
    }
    for f in &frames[1..] {
        assert_eq!(bits(&frames[0].rgba), bits(&f.rgba), "RGBA");
        assert_eq!(bits(&frames[0].depth), bits(&f.depth), "depth");
    }
    // An empty scene (every buffer is still at least one texel): no tile lists a splat, the
    // blend draws the background.
    gpu.renderer.limit_texel_elements(u64::MAX);
    let empty = gpu
        .renderer
        .upload_scene(&Splats::default())
        .expect("upload");
    let (frame, _) = gpu
        .renderer
        .render(&empty, &cam, &settings)
        .expect("render");
    assert!(frame.rgba.chunks_exact(4).all(|p| p[3] == 0.0));
}

#[test]
fn cpu_devices_get_the_cpu_kernel_unless_overridden() {
    let Some(gpu) = Gpu::new() else { return };
    let info = gpu.ctx.info();
    let picked = BlendKernel::for_device(info).expect("choice");
    match std::env::var(BlendKernel::ENV).as_deref() {
        Ok("gpu") => assert_eq!(picked, BlendKernel::Gpu),
        Ok("cpu") => assert_eq!(picked, BlendKernel::Cpu),
        _ if info.is_software() => assert_eq!(picked, BlendKernel::Cpu, "{}", info.name),
        _ => assert_eq!(picked, BlendKernel::Gpu, "{}", info.name),
    }
}
