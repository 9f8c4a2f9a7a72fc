//! Orthographic cameras (`vksplat_io::Projection::Orthographic`): the GPU against the CPU
//! reference in every mode, a splat's projected size independent of its depth (unlike
//! perspective), and the camera file's `"projection"` key.

use std::path::Path;

use vksplat_core::reference;
use vksplat_core::{RenderMode, RenderSettings};
use vksplat_io::{parse_cameras, Camera, Projection, Splats};
use vksplat_tests::{camera, close, compare, projection_mismatches, random_scene, Gpu, Rng};

const MODES: [RenderMode; 4] = [
    RenderMode::Classic,
    RenderMode::Antialiased,
    RenderMode::Inria,
    RenderMode::Khr,
];

/// 20 pixels per world unit, looking down +z from z = -1, principal point off-centre.
fn ortho() -> Camera {
    let mut c = camera(128, 96, 20.0, 20.0, 60.0, 50.0);
    c.world_to_camera[2][3] = 1.0;
    c.projection = Projection::Orthographic;
    c
}

#[test]
fn orthographic_gpu_matches_the_reference_in_every_mode() {
    let Some(mut gpu) = Gpu::new() else { return };
    let cam = ortho();
    for (seed, sh) in [(1u64, 0u32), (2, 1), (3, 3)] {
        let mut s = random_scene(&mut Rng::new(seed), 1500, sh);
        // Spread the splats over the orthographic view (±3 by ±2.4 world units) and make them
        // large enough to cover pixels at 20 px per unit.
        for (m, l) in s.means.iter_mut().zip(&mut s.log_scales) {
            m[0] = (m[0] / m[2].abs().max(0.1)).clamp(-1.0, 1.0) * 3.2;
            m[1] = (m[1] / m[2].abs().max(0.1)).clamp(-1.0, 1.0) * 2.4;
            *l = l.map(|v| v + 1.5);
        }
        let scene = gpu.renderer.upload_scene(&s).expect("upload");
        for mode in MODES {
            let what = format!("sh{sh} {mode:?}");
            let settings = RenderSettings {
                mode,
                background: [0.1, 0.2, 0.3],
                ..Default::default()
            };
            let (frame, stats, stages) = gpu
                .renderer
                .render_with_stages(&scene, &cam, &settings)
                .expect("render");
            let cpu = reference::project_all(&s, &cam, mode);
            let mismatch = projection_mismatches(&what, &stages.projected, &cpu);
            assert!(
                mismatch * 1000 <= s.len(),
                "{what}: {mismatch} culling/rect mismatches"
            );
            let visible = cpu.iter().filter(|p| p.is_some()).count();
            assert!(visible > 500, "{what}: only {visible} visible");
            assert_eq!(
                stats.visible_splats as usize,
                stages.projected.iter().flatten().count()
            );
            let want = reference::render(&s, &cam, &settings);
            let (max, bad) = compare(&frame.rgba, &want.rgba, 2e-4, 2e-3);
            assert!(bad <= 1e-3, "{what}: {bad} of RGBA differ (max {max})");
        }
    }
}

/// One splat at (0.5, 0.25, z) with its SH tilted by the view direction (degree 1).
fn one_splat(z: f32) -> Splats {
    Splats {
        means: vec![[0.5, 0.25, z]],
        rotations: vec![[0.9, 0.1, 0.3, 0.2]],
        log_scales: vec![[0.2f32.ln(), 0.1f32.ln(), 0.15f32.ln()]],
        opacity_logits: vec![3.0],
        sh_degree: 1,
        // Channel-major: c0, then three degree-1 coefficients per channel.
        sh: vec![
            0.5, 0.4, -0.3, 0.6, 0.2, -0.5, 0.3, 0.1, 0.4, 0.7, -0.2, 0.5,
        ],
    }
}

#[test]
fn orthographic_size_and_colour_do_not_change_with_depth() {
    let Some(mut gpu) = Gpu::new() else { return };
    let ortho = ortho();
    let persp = camera(128, 96, 100.0, 100.0, 60.0, 50.0);
    let settings = RenderSettings::default();
    let project = |gpu: &mut Gpu, cam: &Camera, z: f32| {
        let scene = gpu.renderer.upload_scene(&one_splat(z)).unwrap();
        let (_, _, stages) = gpu
            .renderer
            .render_with_stages(&scene, cam, &settings)
            .unwrap();
        let g = stages.projected[0].expect("visible");
        let c = reference::project_all(&one_splat(z), cam, settings.mode)[0].expect("visible");
        (g, c)
    };
    let (near, near_cpu) = project(&mut gpu, &ortho, 2.0);
    let (far, far_cpu) = project(&mut gpu, &ortho, 8.0);
    // Orthographic: the same pixel position, footprint and colour at depth 3 and 9 (z + 1).
    assert_eq!(near.mean2d, far.mean2d);
    assert_eq!(near.mean2d, [60.0 + 20.0 * 0.5, 50.0 + 20.0 * 0.25]);
    for (a, b) in near.conic.iter().zip(&far.conic) {
        assert!(close(*a, *b, 1e-5), "{near:?} vs {far:?}");
    }
    for (a, b) in near.color.iter().zip(&far.color) {
        assert!(close(*a, *b, 1e-6), "{near:?} vs {far:?}");
    }
    assert_eq!((near.depth, far.depth), (3.0, 9.0));
    for (g, c) in [(near, near_cpu), (far, far_cpu)] {
        assert_eq!(g.mean2d, c.mean2d);
        for (a, b) in g.conic.iter().zip(&c.conic) {
            assert!(close(*a, *b, 1e-5), "{g:?} vs {c:?}");
        }
    }
    // Perspective: 4 times farther, the footprint shrinks (the conic grows), the mean moves.
    let (pn, _) = project(&mut gpu, &persp, 2.0);
    let (pf, _) = project(&mut gpu, &persp, 8.0);
    assert!(pf.conic[0] > 4.0 * pn.conic[0], "{pn:?} vs {pf:?}");
    assert_ne!(pn.mean2d, pf.mean2d);
}

#[test]
fn camera_files_name_the_projection() {
    let cam = |extra: &str| {
        format!(
            r#"{{"width": 64, "height": 48, "fx": 10, "fy": 10, "cx": 32, "cy": 24, {extra}
                "world_to_camera": [[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]}}"#
        )
    };
    let path = Path::new("shots/ortho.json");
    let c = parse_cameras(&cam(r#""projection": "orthographic","#), path).unwrap();
    assert_eq!(c[0].projection, Projection::Orthographic);
    let c = parse_cameras(&cam(r#""projection": "perspective","#), path).unwrap();
    assert_eq!(c[0].projection, Projection::Perspective);
    assert_eq!(
        parse_cameras(&cam(""), path).unwrap()[0].projection,
        Projection::Perspective
    );
    for (extra, want) in [
        (
            r#""projection": "fisheye","#,
            "camera 0: projection 'fisheye' unknown",
        ),
        (r#""projection": 1,"#, "field 'projection' must be a string"),
    ] {
        let e = parse_cameras(&cam(extra), path).unwrap_err().to_string();
        assert!(e.contains("shots/ortho.json") && e.contains(want), "{e}");
    }
}

/// `vksplat render --camera` reads the projection from the camera file; a bad one is exit 3
/// naming the file.
#[test]
fn cli_reads_the_projection_from_camera_files() {
    use vksplat_tests::cli::{assert_exit, stderr, vksplat, TempDir};
    let dir = TempDir::new("orthographic");
    vksplat_io::write_ply(&dir.join("one.ply"), &one_splat(2.0)).unwrap();
    let cam = |projection: &str| {
        format!(
            r#"{{"width": 64, "height": 48, "fx": 20, "fy": 20, "cx": 32, "cy": 24,
                "projection": "{projection}",
                "world_to_camera": [[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]}}"#
        )
    };
    std::fs::write(dir.join("bad.json"), cam("fisheye")).unwrap();
    std::fs::write(dir.join("ortho.json"), cam("orthographic")).unwrap();
    let (scene, png) = (dir.arg("one.ply"), dir.arg("o.png"));
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &dir.arg("bad.json"),
        "-o",
        &png,
    ]);
    assert_exit(&out, 3);
    let err = stderr(&out);
    assert!(
        err.contains("bad.json") && err.contains("projection 'fisheye' unknown"),
        "{err}"
    );
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &dir.arg("ortho.json"),
        "-o",
        &png,
    ]);
    assert_exit(&out, 0);
    assert!(
        !stderr(&out).contains("no splat is visible"),
        "{}",
        stderr(&out)
    );
}
