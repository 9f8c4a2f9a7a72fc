//! Reference-exact depth order (issue 15): on a scene with quantised positions (PlayCanvas's
//! compressed PLY of the biker, where many depths are equal or one ulp apart) the GPU's depth
//! keys equal, bit for bit, camera-space z computed the way gsplat 1.5.3 computes it (float32
//! R·p + t, glm's row sums with nvcc's fused multiply-adds, row 2 of the view matrix V:
//! `fma(V[2][2], z, fma(V[2][0], x, V[2][1]·y)) + V[2][3]`), and the depth order is a stable
//! sort by (depth, splat index); each tile's list keeps that order.

use std::path::PathBuf;

use vksplat_core::reference;
use vksplat_core::{RenderMode, RenderSettings};
use vksplat_io::{orbit, read_scene, scene_box, Camera, OrbitSpec, Projection};
use vksplat_tests::Gpu;

fn biker() -> vksplat_io::Splats {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/formats/playcanvas_biker.compressed.ply");
    read_scene(&path).expect("biker").splats
}

/// Camera-space z as gsplat 1.5.3 computes it, written out here independently of the
/// renderer: row 2 of the float32 view matrix, products fused as nvcc fuses them.
fn gsplat_depth(cam: &Camera, p: [f32; 3]) -> f32 {
    let r = &cam.world_to_camera[2];
    r[2].mul_add(p[2], r[0].mul_add(p[0], r[1] * p[1])) + r[3]
}

/// The same without fused multiply-adds (what a plain left-to-right sum gives).
fn unfused_depth(cam: &Camera, p: [f32; 3]) -> f32 {
    let r = &cam.world_to_camera[2];
    r[0] * p[0] + r[1] * p[1] + r[2] * p[2] + r[3]
}

/// Small views of the biker: three orbit cameras (rotations with no zero entries, so every
/// product counts) and an orthographic view.
fn cameras(splats: &vksplat_io::Splats) -> Vec<Camera> {
    let (w, h) = (96, 64);
    let spec = OrbitSpec {
        frames: 3,
        radius: None,
        height: Some(0.7),
    };
    let mut cams = orbit(splats, &spec, [0.3, -1.0, 0.2], w, h);
    let (_, half) = scene_box(splats).expect("box");
    let mut ortho = cams[0].clone();
    ortho.projection = Projection::Orthographic;
    let f = (w as f64 / (2.2 * half[0].max(half[1]).max(half[2]))) as f32;
    (ortho.fx, ortho.fy) = (f, f);
    cams.push(ortho);
    cams
}

#[test]
fn depth_keys_equal_the_gsplat_computation_and_order_by_depth_then_index() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = biker();
    let scene = gpu.renderer.upload_scene(&splats).expect("upload");
    let n = splats.len();
    for (c, cam) in cameras(&splats).iter().enumerate() {
        // INRIA mode (its own near plane and principal point) on one view.
        let modes: &[RenderMode] = if c == 0 {
            &[RenderMode::Classic, RenderMode::Inria]
        } else {
            &[RenderMode::Classic]
        };
        for &mode in modes {
            let what = format!("camera {c} ({:?}) {mode:?}", cam.projection);
            let settings = RenderSettings {
                mode,
                ..Default::default()
            };
            let (_, _, stages) = gpu
                .renderer
                .render_with_stages(&scene, cam, &settings)
                .expect("render");
            let cpu = reference::project_all(&splats, cam, mode);
            let (mut visible, mut unfused_differs) = (0, 0);
            for (i, (g, r)) in stages.projected.iter().zip(&cpu).enumerate() {
                let Some(g) = g else { continue };
                visible += 1;
                let want = gsplat_depth(cam, splats.means[i]);
                assert_eq!(
                    g.sort_key.to_bits(),
                    want.to_bits(),
                    "{what}: splat {i} key {} vs gsplat's {want}",
                    g.sort_key
                );
                assert_eq!(g.depth.to_bits(), want.to_bits(), "{what}: splat {i} depth");
                if let Some(r) = r {
                    assert_eq!(r.sort_key.to_bits(), want.to_bits(), "{what}: CPU key {i}");
                }
                unfused_differs += usize::from(unfused_depth(cam, splats.means[i]) != want);
            }
            // Not vacuous: most of the scene is in view, and the fused rounding matters.
            assert!(visible * 4 > n, "{what}: only {visible} of {n} visible");
            assert!(
                unfused_differs * 100 > visible,
                "{what}: only {unfused_differs} of {visible} depths depend on the fusing"
            );

            // The depth sort: stable by (key, index), culled splats (key 0xFFFFFFFF) last.
            let key =
                |i: u32| stages.projected[i as usize].map_or(u32::MAX, |p| p.sort_key.to_bits());
            let mut expected: Vec<u32> = (0..n as u32).collect();
            expected.sort_by_key(|&i| (key(i), i));
            assert_eq!(stages.depth_order, expected, "{what}: depth order");
            // Exact ties happen on this scene, so the index rule is exercised.
            let ties = expected
                .windows(2)
                .filter(|w| key(w[0]) == key(w[1]) && key(w[0]) != u32::MAX)
                .count();
            assert!(ties > 10, "{what}: only {ties} tied depths");
            println!(
                "{what}: {visible} visible, {unfused_differs} depths change unfused, {ties} ties"
            );

            // Each tile's list in that order: (tile, key, index).
            let isect = reference::sorted_intersections(&stages.projected, cam.width, cam.height);
            assert_eq!(stages.intersections, isect, "{what}: tile lists");
        }
    }
}
