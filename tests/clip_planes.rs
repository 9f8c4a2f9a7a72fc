//! Near/far clip planes (`RenderSettings::near`/`far`): splats whose camera depth is outside
//! [near, far] are culled in preprocess, exactly, in every mode, on the GPU and in the CPU
//! reference; invalid planes are refused.

use vksplat_core::reference;
use vksplat_core::{CoreError, RenderMode, RenderSettings};
use vksplat_io::write_ply;
use vksplat_io::Splats;
use vksplat_tests::cli::{assert_exit, camera_json, stderr, vksplat, TempDir};
use vksplat_tests::{camera, compare, Gpu};

const DEPTHS: [f32; 6] = [0.5, 1.5, 3.0, 6.0, 12.0, 24.0];
const MODES: [RenderMode; 4] = [
    RenderMode::Classic,
    RenderMode::Antialiased,
    RenderMode::Inria,
    RenderMode::Khr,
];

/// One splat per depth in `depths`, side by side on screen (2 px sigma each), so that each
/// is visible on its own when not clipped.
fn row(depths: &[(usize, f32)]) -> Splats {
    let mut s = Splats::default();
    for &(k, z) in depths {
        let offset_px = -50.0 + 20.0 * k as f32;
        s.means.push([offset_px / 100.0 * z, 0.0, z]);
        s.rotations.push([1.0, 0.0, 0.0, 0.0]);
        s.log_scales.push([(0.02 * z).ln(); 3]);
        s.opacity_logits.push(2.0);
        s.sh.extend([0.8, -0.3 + 0.1 * k as f32, 0.5]);
    }
    s
}

#[test]
fn clip_planes_cull_exactly_the_splats_outside_the_depth_range() {
    let Some(mut gpu) = Gpu::new() else { return };
    let cam = camera(128, 96, 100.0, 100.0, 64.0, 48.0);
    let all: Vec<(usize, f32)> = DEPTHS.iter().copied().enumerate().collect();
    let splats = row(&all);
    let scene = gpu.renderer.upload_scene(&splats).expect("upload");
    // (near, far) and the depths that stay; a plane at a splat's depth keeps it.
    let cases: [(Option<f32>, Option<f32>, &[f32]); 5] = [
        (None, None, &DEPTHS),
        (Some(2.0), Some(10.0), &[3.0, 6.0]),
        (Some(2.0), None, &[3.0, 6.0, 12.0, 24.0]),
        (None, Some(10.0), &[0.5, 1.5, 3.0, 6.0]),
        (Some(1.5), Some(6.0), &[1.5, 3.0, 6.0]),
    ];
    for mode in MODES {
        for (near, far, kept) in cases {
            let what = format!("{mode:?} near {near:?} far {far:?}");
            let settings = RenderSettings {
                mode,
                background: [0.1, 0.2, 0.3],
                near,
                far,
                ..Default::default()
            };
            let (frame, stats, stages) = gpu
                .renderer
                .render_with_stages(&scene, &cam, &settings)
                .expect("render");
            let visible: Vec<f32> = stages
                .projected
                .iter()
                .zip(DEPTHS)
                .filter(|(p, _)| p.is_some())
                .map(|(_, z)| z)
                .collect();
            assert_eq!(visible, kept, "{what}: splats the GPU kept");
            assert_eq!(stats.visible_splats as usize, kept.len(), "{what}");

            // The CPU reference clips the same, and both equal an unclipped render of only
            // the kept splats.
            let cpu = reference::render(&splats, &cam, &settings);
            let subset = row(&all
                .iter()
                .copied()
                .filter(|(_, z)| kept.contains(z))
                .collect::<Vec<_>>());
            let unclipped = RenderSettings {
                near: None,
                far: None,
                ..settings
            };
            let only_kept = reference::render(&subset, &cam, &unclipped);
            assert_eq!(cpu, only_kept, "{what}: reference clip = kept splats alone");
            let (max, bad) = compare(&frame.rgba, &cpu.rgba, 2e-4, 2e-3);
            assert!(bad == 0.0, "{what}: {bad} of RGBA differ (max {max})");
            let (max, bad) = compare(&frame.depth, &cpu.depth, 1e-3, 1e-3);
            assert!(bad == 0.0, "{what}: {bad} of depth differ (max {max})");
        }
    }
    // The clipped splats were really drawn without the planes: every case differs from the
    // unclipped image.
    let settings = RenderSettings::default();
    let (full, _) = gpu.renderer.render(&scene, &cam, &settings).unwrap();
    let clipped = RenderSettings {
        near: Some(2.0),
        ..settings
    };
    let (part, _) = gpu.renderer.render(&scene, &cam, &clipped).unwrap();
    let (max, _) = compare(&part.rgba, &full.rgba, 0.0, 0.0);
    assert!(max > 0.3, "near clip changed the image by only {max}");
}

#[test]
fn invalid_clip_planes_are_refused() {
    let bad: [(Option<f32>, Option<f32>, &str); 7] = [
        (Some(5.0), Some(5.0), "is not beyond the near clip plane 5"),
        (
            Some(5.0),
            Some(2.0),
            "far clip plane 2 is not beyond the near clip plane 5",
        ),
        (None, Some(0.0), "far clip plane 0 is not beyond"),
        (Some(f32::NAN), None, "near clip plane NaN"),
        (None, Some(f32::NAN), "far clip plane NaN"),
        (Some(-1.0), None, "near clip plane -1"),
        (None, Some(f32::INFINITY), "far clip plane inf"),
    ];
    for (near, far, want) in bad {
        let settings = RenderSettings {
            near,
            far,
            ..Default::default()
        };
        let err = settings.clip_range().unwrap_err();
        assert!(err.contains(want), "{near:?} {far:?}: {err}");
    }
    assert_eq!(
        RenderSettings::default().clip_range(),
        Ok([0.0, f32::INFINITY])
    );

    // The renderer refuses them before rendering.
    let Some(mut gpu) = Gpu::new() else { return };
    let cam = camera(32, 32, 30.0, 30.0, 16.0, 16.0);
    let scene = gpu.renderer.upload_scene(&row(&[(0, 2.0)])).unwrap();
    for (near, far, want) in bad {
        let settings = RenderSettings {
            near,
            far,
            ..Default::default()
        };
        match gpu.renderer.render(&scene, &cam, &settings) {
            Err(CoreError::InvalidRequest(msg)) => assert!(msg.contains(want), "{msg}"),
            other => panic!("{near:?} {far:?}: {:?}", other.map(|r| r.1)),
        }
    }
}

/// `vksplat render --near/--far`: invalid planes exit 2 before anything is loaded; valid ones
/// cull (fewer tile intersections; nothing left beyond the last splat).
#[test]
fn cli_near_far() {
    let dir = TempDir::new("clip_planes");
    let all: Vec<(usize, f32)> = DEPTHS.iter().copied().enumerate().collect();
    write_ply(&dir.join("row.ply"), &row(&all)).unwrap();
    std::fs::write(
        dir.join("cam.json"),
        camera_json("", 128, 96, 100.0, [0.0; 3]),
    )
    .unwrap();
    let (scene, cams, png) = (dir.arg("row.ply"), dir.arg("cam.json"), dir.arg("o.png"));
    let render = |extra: &[&str]| {
        let mut args = vec!["render", &scene, "--camera", &cams, "-o", &png, "--stats"];
        args.extend_from_slice(extra);
        vksplat(&args)
    };
    for (extra, want) in [
        (
            &["--near", "5", "--far", "2"][..],
            "--near/--far: far clip plane 2 is not beyond the near clip plane 5",
        ),
        (
            &["--far", "NaN"],
            "--near/--far: far clip plane NaN is not finite",
        ),
        (
            &["--near=-1"],
            "--near/--far: near clip plane -1 is not a finite depth",
        ),
    ] {
        let out = render(extra);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(want), "{extra:?}: {}", stderr(&out));
    }

    if vksplat_tests::gpu().is_none() {
        return;
    }
    let intersections = |extra: &[&str]| {
        let out = render(extra);
        assert_exit(&out, 0);
        let err = stderr(&out);
        let n: u64 = err
            .lines()
            .find_map(|l| l.strip_prefix("stats: intersections "))
            .unwrap_or_else(|| panic!("{extra:?}: no stats:\n{err}"))
            .trim()
            .parse()
            .unwrap();
        (n, err.contains("no splat is visible"))
    };
    let (all, empty) = intersections(&[]);
    assert!(all > 0 && !empty);
    let (some, empty) = intersections(&["--near", "2", "--far", "10"]);
    assert!(some > 0 && some < all && !empty, "{some} of {all}");
    let (none, empty) = intersections(&["--near", "30"]);
    assert!(none == 0 && empty, "{none}");
}
