//! Host depth occlusion (`vksplat_core::host_depth`): a splat does not blend at a pixel where
//! its camera depth is beyond the host's depth there. GPU == CPU reference with a tilted host
//! depth in every mode and convention; a constant host depth == the far clip plane, bit for
//! bit, in both blend kernels; cleared, infinite and NaN host depth == no host depth, bit for
//! bit; every convention gives the same image for the same geometric depth; host depth images
//! (D32, D16, D24) and buffers on the GPU-output path equal host memory; bad inputs refused.

use vksplat_core::host_depth::{unorm16, unorm24};
use vksplat_core::reference;
use vksplat_core::shaders::BlendKernel;
use vksplat_core::{
    DepthConvention, DepthRange, GpuTarget, Instance, Occluder, OccluderSource, RenderMode,
    RenderSettings,
};
use vksplat_io::{Camera, Splats};
use vksplat_tests::{camera, compare, random_scene, Gpu, Rng};
use vksplat_vk::raw;

const W: u32 = 64;
const H: u32 = 48;

fn cam() -> Camera {
    camera(W, H, 60.0, 60.0, 32.0, 24.0)
}

fn settings(mode: RenderMode) -> RenderSettings {
    RenderSettings {
        mode,
        background: [0.1, 0.2, 0.3],
        ..Default::default()
    }
}

/// Splats in front of the camera, depths 1..9.
fn scene(seed: u64) -> Splats {
    let mut s = random_scene(&mut Rng::new(seed), 1500, 1);
    for m in &mut s.means {
        let z = 1.0 + (m[2].abs() * 1.3) % 8.0;
        let k = z / m[2].abs().max(0.5);
        *m = [m[0] * k, m[1] * k, z];
    }
    s
}

/// Splats whose centres lie exactly on the layers z = 2, 4, 6, 8.
fn layered_scene() -> Splats {
    let mut s = scene(7);
    for (i, m) in s.means.iter_mut().enumerate() {
        let z = 2.0 * (1 + i % 4) as f32;
        let k = z / m[2];
        *m = [m[0] * k, m[1] * k, z];
    }
    s
}

/// A tilted plane of geometric (camera) depth: 3 at the left edge to 7 at the right; at pixel
/// centres it is (2i + 1)/16 away from 3, never within 1/32 of an even layer.
fn tilted(i: u32, j: u32) -> f64 {
    3.0 + 4.0 * (f64::from(i) + 0.5) / f64::from(W) + 0.0 * f64::from(j)
}

/// A steeper plane tilted in both directions (for the reference comparison).
fn tilted2(i: u32, j: u32) -> f64 {
    1.5 + 6.0 * (f64::from(i) + 0.5) / f64::from(W) + 2.0 * (f64::from(j) + 0.5) / f64::from(H)
}

fn conv(range: DepthRange, near: f32, far: f32, reversed: bool, ortho: bool) -> DepthConvention {
    DepthConvention {
        range,
        near,
        far,
        reversed,
        orthographic: ortho,
    }
}

/// Every convention a host may use (near 0.5, far 50 or infinite).
fn conventions() -> Vec<(&'static str, DepthConvention)> {
    use DepthRange::*;
    let inf = f32::INFINITY;
    vec![
        ("linear", DepthConvention::LINEAR),
        ("vulkan", conv(ZeroToOne, 0.5, 50.0, false, false)),
        ("vulkan reversed", conv(ZeroToOne, 0.5, 50.0, true, false)),
        ("vulkan infinite", conv(ZeroToOne, 0.5, inf, false, false)),
        (
            "vulkan reversed infinite",
            conv(ZeroToOne, 0.5, inf, true, false),
        ),
        ("gl ndc", conv(MinusOneToOne, 0.5, 50.0, false, false)),
        (
            "gl ndc reversed",
            conv(MinusOneToOne, 0.5, 50.0, true, false),
        ),
        (
            "gl ndc infinite",
            conv(MinusOneToOne, 0.5, inf, false, false),
        ),
        ("ortho", conv(ZeroToOne, 0.5, 50.0, false, true)),
        ("ortho reversed", conv(ZeroToOne, 0.5, 50.0, true, true)),
        ("gl ndc ortho", conv(MinusOneToOne, 0.5, 50.0, false, true)),
    ]
}

/// The raw value a host's depth buffer holds at camera depth z (f64, rounded once).
fn encode(c: &DepthConvention, z: f64) -> f32 {
    if c.range == DepthRange::Linear {
        return z as f32;
    }
    let (n, f) = (f64::from(c.near), f64::from(c.far));
    let w = if c.orthographic {
        (z - n) / (f - n)
    } else if f.is_infinite() {
        1.0 - n / z
    } else {
        (f / (f - n)) * (1.0 - n / z)
    };
    let w = if c.reversed { 1.0 - w } else { w };
    (match c.range {
        DepthRange::MinusOneToOne => 2.0 * w - 1.0,
        _ => w,
    }) as f32
}

fn raw_depth(c: &DepthConvention, plane: fn(u32, u32) -> f64) -> Vec<f32> {
    (0..H)
        .flat_map(|j| (0..W).map(move |i| (i, j)))
        .map(|(i, j)| encode(c, plane(i, j)))
        .collect()
}

fn values(v: &[f32], convention: DepthConvention) -> Occluder<'_> {
    Occluder {
        source: OccluderSource::Values(v),
        convention,
    }
}

#[test]
fn tilted_host_depth_matches_the_reference_in_every_mode_and_convention() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = scene(3);
    let scene = gpu.renderer.upload_scene(&splats).expect("upload");
    let cam = cam();
    for mode in RenderMode::ALL {
        let s = settings(mode);
        let (plain, _) = gpu.renderer.render(&scene, &cam, &s).unwrap();
        for (name, c) in conventions() {
            let what = format!("{mode:?} {name}");
            let raw = raw_depth(&c, tilted2);
            let (frame, _) = gpu
                .renderer
                .render_occluded(&[Instance::of(&scene)], &cam, &s, &values(&raw, c))
                .expect(&what);
            let params = c.params().unwrap();
            let cpu = reference::render_occluded(
                &splats,
                &Default::default(),
                &cam,
                &s,
                Some((&raw, &params)),
            );
            let (max, bad) = compare(&frame.rgba, &cpu.rgba, 2e-4, 2e-3);
            assert!(bad == 0.0, "{what}: {bad} of RGBA differ (max {max})");
            let (max, bad) = compare(&frame.depth, &cpu.depth, 1e-3, 1e-3);
            assert!(bad == 0.0, "{what}: {bad} of depth differ (max {max})");
            // The host depth really hides splats: a visible part of the image changes.
            let changed = frame
                .rgba
                .chunks(4)
                .zip(plain.rgba.chunks(4))
                .filter(|(a, b)| (a[0] - b[0]).abs() > 0.05)
                .count();
            assert!(changed > 100, "{what}: only {changed} pixels changed");
        }
    }
}

#[test]
fn constant_host_depth_is_the_far_clip_plane_bit_for_bit_in_both_kernels() {
    let Some(mut gpu) = Gpu::new() else { return };
    let scene = gpu.renderer.upload_scene(&scene(5)).expect("upload");
    let cam = cam();
    let pixels = (W * H) as usize;
    let (_, unclipped) = gpu
        .renderer
        .render(&scene, &cam, &settings(RenderMode::Classic))
        .unwrap();
    for kernel in [BlendKernel::Gpu, BlendKernel::Cpu] {
        gpu.renderer.set_blend_kernel(kernel).unwrap();
        for mode in RenderMode::ALL {
            for z in [2.5f32, 4.0, 6.75] {
                let what = format!("{kernel:?} {mode:?} z {z}");
                let clipped = RenderSettings {
                    far: Some(z),
                    ..settings(mode)
                };
                let (want, clip_stats) = gpu.renderer.render(&scene, &cam, &clipped).unwrap();
                let host = vec![z; pixels];
                let (got, stats) = gpu
                    .renderer
                    .render_occluded(
                        &[Instance::of(&scene)],
                        &cam,
                        &settings(mode),
                        &values(&host, DepthConvention::LINEAR),
                    )
                    .unwrap();
                assert!(got.rgba == want.rgba, "{what}: RGBA differs from --far");
                assert!(got.depth == want.depth, "{what}: depth differs from --far");
                // Occlusion is per pixel: the far splats are still projected (not culled).
                assert!(
                    stats.visible_splats > clip_stats.visible_splats,
                    "{what}: {} visible with the host depth, {} with --far",
                    stats.visible_splats,
                    clip_stats.visible_splats
                );
                if mode == RenderMode::Classic {
                    assert_eq!(stats.visible_splats, unclipped.visible_splats, "{what}");
                }
            }
        }
    }
}

#[test]
fn cleared_infinite_and_nan_host_depth_occlude_nothing_bit_for_bit() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = scene(9);
    let scene = gpu.renderer.upload_scene(&splats).expect("upload");
    let cam = cam();
    let pixels = (W * H) as usize;
    for kernel in [BlendKernel::Gpu, BlendKernel::Cpu] {
        gpu.renderer.set_blend_kernel(kernel).unwrap();
        let s = settings(RenderMode::Classic);
        let (want, _) = gpu.renderer.render(&scene, &cam, &s).unwrap();
        let mut cases: Vec<(String, DepthConvention, f32)> = vec![
            ("linear +inf".into(), DepthConvention::LINEAR, f32::INFINITY),
            ("linear NaN".into(), DepthConvention::LINEAR, f32::NAN),
        ];
        for (name, c) in conventions().into_iter().skip(1) {
            // The cleared value: the far plane's depth.
            let clear = match (c.range, c.reversed) {
                (_, false) => 1.0,
                (DepthRange::ZeroToOne, true) => 0.0,
                _ => -1.0,
            };
            cases.push((format!("{name} cleared"), c, clear));
            cases.push((format!("{name} NaN"), c, f32::NAN));
        }
        for (what, c, v) in cases {
            let host = vec![v; pixels];
            let (got, _) = gpu
                .renderer
                .render_occluded(&[Instance::of(&scene)], &cam, &s, &values(&host, c))
                .unwrap();
            assert!(got.rgba == want.rgba, "{kernel:?} {what}: RGBA differs");
            assert!(got.depth == want.depth, "{kernel:?} {what}: depth differs");
        }
        // And the CPU reference says the same of NaN.
        let nan = vec![f32::NAN; pixels];
        let p = DepthConvention::LINEAR.params().unwrap();
        let occluded =
            reference::render_occluded(&splats, &Default::default(), &cam, &s, Some((&nan, &p)));
        assert_eq!(occluded, reference::render(&splats, &cam, &s));
    }
}

#[test]
fn every_convention_gives_the_same_image_for_the_same_geometric_depth() {
    let Some(mut gpu) = Gpu::new() else { return };
    let scene = gpu.renderer.upload_scene(&layered_scene()).expect("upload");
    let cam = cam();
    for mode in [RenderMode::Classic, RenderMode::Inria] {
        let s = settings(mode);
        let linear = raw_depth(&DepthConvention::LINEAR, tilted);
        let (want, _) = gpu
            .renderer
            .render_occluded(
                &[Instance::of(&scene)],
                &cam,
                &s,
                &values(&linear, DepthConvention::LINEAR),
            )
            .unwrap();
        let (plain, _) = gpu.renderer.render(&scene, &cam, &s).unwrap();
        assert!(
            want.rgba != plain.rgba,
            "{mode:?}: the plane occludes nothing"
        );
        for (name, c) in conventions() {
            let raw = raw_depth(&c, tilted);
            let (got, _) = gpu
                .renderer
                .render_occluded(&[Instance::of(&scene)], &cam, &s, &values(&raw, c))
                .unwrap();
            assert!(
                got.rgba == want.rgba,
                "{mode:?} {name}: RGBA differs from linear"
            );
            assert!(got.depth == want.depth, "{mode:?} {name}: depth differs");
        }
    }
}

/// Uploads `bytes` into a fresh device image of `format` (left in TRANSFER_SRC_OPTIMAL).
fn image_with(gpu: &Gpu, format: raw::Format, bytes: &[u8]) -> vksplat_vk::OwnedImage {
    let img = gpu.ctx.create_image("host.depth", format, W, H).unwrap();
    let src = gpu.renderer.upload("host.depth.src", bytes).unwrap();
    let mut rec = gpu.ctx.begin().unwrap();
    rec.barrier();
    rec.copy_to_image(
        &src,
        0,
        &img.target(
            raw::ImageLayout::UNDEFINED,
            raw::ImageLayout::TRANSFER_SRC_OPTIMAL,
        ),
    )
    .unwrap();
    gpu.ctx.submit_and_wait(rec).unwrap();
    img
}

#[test]
fn host_depth_images_and_buffers_on_the_gpu_output_path_equal_host_memory() {
    let Some(mut gpu) = Gpu::new() else { return };
    let scene = gpu.renderer.upload_scene(&scene(11)).expect("upload");
    let cam = cam();
    let s = settings(RenderMode::Classic);
    let c = conv(DepthRange::ZeroToOne, 0.5, 50.0, false, false);
    let raw = raw_depth(&c, tilted2);
    // (format, texels, the f32 values the host's texels stand for)
    let d16: Vec<u16> = raw.iter().map(|v| (v * 65535.0).round() as u16).collect();
    let d24: Vec<u32> = raw
        .iter()
        .map(|v| (v * 16_777_215.0).round() as u32 | 0xAB00_0000)
        .collect();
    let cases: Vec<(raw::Format, Vec<u8>, Vec<f32>)> = vec![
        (
            raw::Format::D32_SFLOAT,
            bytemuck::cast_slice(&raw).to_vec(),
            raw.clone(),
        ),
        (
            raw::Format::R32_SFLOAT,
            bytemuck::cast_slice(&raw).to_vec(),
            raw.clone(),
        ),
        (
            raw::Format::D16_UNORM,
            bytemuck::cast_slice(&d16).to_vec(),
            d16.iter().map(|&u| unorm16(u)).collect(),
        ),
        (
            raw::Format::X8_D24_UNORM_PACK32,
            bytemuck::cast_slice(&d24).to_vec(),
            d24.iter().map(|&u| unorm24(u)).collect(),
        ),
    ];
    for (format, bytes, as_f32) in cases {
        let what = format!("{format:?}");
        let (want, _) = gpu
            .renderer
            .render_occluded(&[Instance::of(&scene)], &cam, &s, &values(&as_f32, c))
            .unwrap();
        let img = image_with(&gpu, format, &bytes);
        let layout = raw::ImageLayout::TRANSFER_SRC_OPTIMAL;
        let target = img.target(layout, raw::ImageLayout::GENERAL);
        let gpu_target = GpuTarget {
            host_readback: true,
            occluder: Some(Occluder {
                source: OccluderSource::Image(&target),
                convention: c,
            }),
            ..Default::default()
        };
        let ticket = gpu
            .renderer
            .submit_frame(&[Instance::of(&scene)], &cam, &s, &gpu_target)
            .expect(&what);
        let outcome = gpu.renderer.wait_frame(ticket.frame).unwrap().unwrap();
        let got = outcome.frame.expect("host readback");
        assert!(
            got.rgba == want.rgba,
            "{what}: RGBA differs from host memory"
        );
        assert!(got.depth == want.depth, "{what}: depth differs");
    }
}

#[test]
fn bad_host_depths_are_refused_naming_the_problem() {
    let Some(mut gpu) = Gpu::new() else { return };
    let scene = gpu.renderer.upload_scene(&scene(13)).expect("upload");
    let cam = cam();
    let s = settings(RenderMode::Classic);
    let full = vec![5.0f32; (W * H) as usize];
    let short = vec![5.0f32; (W * H) as usize - 1];
    use DepthRange::*;
    let mut cases: Vec<(&[f32], DepthConvention, &str)> = vec![(
        &short,
        DepthConvention::LINEAR,
        "has 3071 values, but the 64x48 image has 3072",
    )];
    // Bad planes, on an array of the right size.
    for (c, want) in [
        (conv(ZeroToOne, -1.0, 10.0, false, false), "near plane -1"),
        (
            conv(ZeroToOne, f32::NAN, 10.0, false, false),
            "near plane NaN",
        ),
        (conv(ZeroToOne, 0.0, 10.0, false, false), "near plane 0"),
        (conv(ZeroToOne, 1.0, f32::NAN, true, false), "far plane NaN"),
        (
            conv(MinusOneToOne, 2.0, 1.0, false, false),
            "far plane 1 is not beyond",
        ),
        (
            conv(ZeroToOne, 1.0, f32::INFINITY, false, true),
            "orthographic",
        ),
    ] {
        cases.push((&full, c, want));
    }
    for (v, c, want) in cases {
        let e = gpu
            .renderer
            .render_occluded(&[Instance::of(&scene)], &cam, &s, &values(v, c))
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{c:?}: {e}");
    }
    // An image of a colour format, or of the wrong size.
    let img = image_with(&gpu, raw::Format::R32_SFLOAT, bytemuck::cast_slice(&full));
    let rgba = gpu
        .ctx
        .create_image("host.rgba", raw::Format::R32G32B32A32_SFLOAT, W, H)
        .unwrap();
    let layout = raw::ImageLayout::TRANSFER_SRC_OPTIMAL;
    let small_cam = camera(W / 2, H, 60.0, 60.0, 16.0, 24.0);
    let bad_images = [
        (
            rgba.target(layout, layout),
            &cam,
            "format R32G32B32A32_SFLOAT is not supported",
        ),
        (
            img.target(layout, layout),
            &small_cam,
            "is 64x48 but the camera is 32x48",
        ),
        (
            img.target(raw::ImageLayout::UNDEFINED, layout),
            &cam,
            "current layout UNDEFINED",
        ),
    ];
    for (target, camera, want) in bad_images {
        let t = GpuTarget {
            host_readback: true,
            occluder: Some(Occluder {
                source: OccluderSource::Image(&target),
                convention: DepthConvention::LINEAR,
            }),
            ..Default::default()
        };
        let e = gpu
            .renderer
            .submit_frame(&[Instance::of(&scene)], camera, &s, &t)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    // A frame needs an instance.
    let e = gpu
        .renderer
        .render_occluded(&[], &cam, &s, &values(&full, DepthConvention::LINEAR))
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least one instance"), "{e}");
}

/// Cost of a host depth (run with `--ignored --nocapture`): a 20k-splat scene at 640×480, the
/// median of 5 frames without a host depth, with one that occludes nothing (+inf: the upload
/// and the per-pixel test only) and with a tilted one that hides part of the scene.
#[test]
#[ignore]
fn occlusion_overhead() {
    let Some(mut gpu) = Gpu::new() else { return };
    let (w, h) = (640u32, 480u32);
    let cam = camera(w, h, 500.0, 500.0, 320.0, 240.0);
    let mut splats = random_scene(&mut Rng::new(21), 20_000, 1);
    for m in &mut splats.means {
        m[2] = 1.0 + m[2].abs();
    }
    let scene = gpu.renderer.upload_scene(&splats).expect("upload");
    let s = settings(RenderMode::Classic);
    let inf = vec![f32::INFINITY; (w * h) as usize];
    let tilt: Vec<f32> = (0..h)
        .flat_map(|j| (0..w).map(move |i| 2.0 + 6.0 * i as f32 / w as f32 + j as f32 / h as f32))
        .collect();
    // Interleaved rounds, so that a machine busy with other work slows all three alike.
    let mut times = [vec![], vec![], vec![]];
    for round in 0..6 {
        for (k, occ) in [None, Some(&inf), Some(&tilt)].into_iter().enumerate() {
            let t = std::time::Instant::now();
            match occ {
                None => drop(gpu.renderer.render(&scene, &cam, &s).unwrap()),
                Some(v) => drop(
                    gpu.renderer
                        .render_occluded(
                            &[Instance::of(&scene)],
                            &cam,
                            &s,
                            &values(v, DepthConvention::LINEAR),
                        )
                        .unwrap(),
                ),
            }
            if round > 0 {
                times[k].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let [plain, nothing, tilted] = times.map(|mut ms| {
        ms.sort_by(f64::total_cmp);
        ms[2]
    });
    println!(
        "{:?} blend kernel, {w}x{h}, 20k splats: no host depth {plain:.1} ms, +inf host depth \
         {nothing:.1} ms, tilted host depth {tilted:.1} ms (medians of 5 frames)",
        gpu.renderer.blend_kernel()
    );
}
