//! Our renderers against gsplat 1.5.3's forward render, on the Brush fixtures
//! (`brush_{tiny,basic}_case.safetensors`: 4 and 16 random Gaussians, SH degree 3).
//! Tolerance, per element of RGB and alpha: |ours − ref| < 1e-5 + 1e-2·|ref| (Brush's own).
//!
//! The fixtures live in `tests/data/fixtures` (licence in SOURCES.md there);
//! `$VKSPLAT_FIXTURE_DIR` overrides the directory.

use std::path::PathBuf;

use vksplat_core::{reference, RenderSettings};
use vksplat_io::{Camera, Splats};
use vksplat_tests::safetensors::SafeTensors;
use vksplat_tests::{camera, Gpu};

const W: u32 = 123;
const H: u32 = 82;
const ABS_TOL: f32 = 1e-5;
const REL_TOL: f32 = 1e-2;

fn fixture_dir() -> Option<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut candidates = Vec::new();
    if let Ok(dir) = std::env::var("VKSPLAT_FIXTURE_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(workspace.join("tests/data/fixtures"));
    candidates
        .into_iter()
        .find(|d| d.join("brush_tiny_case.safetensors").is_file())
}

struct Fixture {
    name: &'static str,
    splats: Splats,
    /// [H, W, 4]: RGB composited over black, then alpha.
    out_img: Vec<f32>,
}

fn load(dir: &std::path::Path, name: &'static str) -> Fixture {
    let st = SafeTensors::read(dir.join(format!("{name}.safetensors"))).expect("read fixture");
    let n = st.get("means").expect("means").shape[0];
    let means = st.get_shaped("means", &[n, 3]).unwrap();
    let quats = st.get_shaped("quats", &[n, 4]).unwrap();
    let scales = st.get_shaped("scales", &[n, 3]).unwrap();
    let opacities = st.get_shaped("opacities", &[n]).unwrap();
    let coeffs = st.get_shaped("coeffs", &[n, 16, 3]).unwrap();
    let out_img = st
        .get_shaped("out_img", &[H as usize, W as usize, 4])
        .unwrap();
    let splats = Splats {
        means: means
            .data
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect(),
        // (w, x, y, z) as stored, not normalised: the renderers normalise.
        rotations: quats
            .data
            .chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect(),
        log_scales: scales
            .data
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect(),
        opacity_logits: opacities.data.clone(),
        sh_degree: 3,
        // [N, 16, 3] is already coefficient-major: sh[(i * 16 + k) * 3 + c].
        sh: coeffs.data.clone(),
    };
    Fixture {
        name,
        splats,
        out_img: out_img.data.clone(),
    }
}

/// The fixtures' camera: at (0.123, 0.456, −8.0) looking down +z, OpenCV axes.
fn fixture_camera() -> Camera {
    let mut cam = camera(W, H, 61.5, 61.5, 61.5, 41.0);
    cam.world_to_camera = [
        [1., 0., 0., -0.123],
        [0., 1., 0., -0.456],
        [0., 0., 1., 8.0],
        [0., 0., 0., 1.],
    ];
    cam
}

/// Compares `ours` with `reference` element by element; prints statistics and the worst
/// offenders, and returns the number of elements outside the tolerance.
fn report(what: &str, ours: &[f32], reference: &[f32]) -> usize {
    assert_eq!(ours.len(), reference.len(), "{what}: image size");
    let mut max = 0f32;
    let mut sum = 0f64;
    let mut bad = Vec::new();
    for (i, (&x, &y)) in ours.iter().zip(reference).enumerate() {
        let d = (x - y).abs();
        if d.is_nan() {
            max = f32::NAN;
        } else {
            max = max.max(d);
            sum += d as f64;
        }
        if d.is_nan() || d >= ABS_TOL + REL_TOL * y.abs() {
            bad.push(i);
        }
    }
    let mean = sum / ours.len() as f64;
    println!(
        "{what}: max abs diff {max:.3e}, mean abs diff {mean:.3e}, {} of {} elements outside tolerance",
        bad.len(),
        ours.len()
    );
    bad.sort_by(|&a, &b| {
        let da = (ours[a] - reference[a]).abs();
        let db = (ours[b] - reference[b]).abs();
        db.total_cmp(&da)
    });
    for &i in bad.iter().take(20) {
        let (px, ch) = (i / 4, i % 4);
        println!(
            "  pixel (x {}, y {}) channel {}: ours {:.6e} ref {:.6e} diff {:.3e}",
            px % W as usize,
            px / W as usize,
            ["r", "g", "b", "a"][ch],
            ours[i],
            reference[i],
            ours[i] - reference[i]
        );
    }
    bad.len()
}

#[test]
fn gsplat_fixtures() {
    let dir = fixture_dir().expect("Brush fixtures not found in tests/data/fixtures");
    let cam = fixture_camera();
    let settings = RenderSettings::default();
    let fixtures = [
        load(&dir, "brush_tiny_case"),
        load(&dir, "brush_basic_case"),
    ];
    let mut failures = Vec::new();

    for f in &fixtures {
        // The reference image itself must not be trivially empty.
        let covered = f.out_img.chunks_exact(4).filter(|p| p[3] > 0.5).count();
        assert!(
            covered > 0,
            "{}: fixture has no pixel with alpha > 0.5",
            f.name
        );

        let cpu = reference::render(&f.splats, &cam, &settings);
        assert_eq!((cpu.width, cpu.height), (W, H));
        let what = format!("{} ({} splats) CPU reference", f.name, f.splats.len());
        let bad = report(&what, &cpu.rgba, &f.out_img);
        let ours_covered = cpu.rgba.chunks_exact(4).filter(|p| p[3] > 0.5).count();
        println!("  {ours_covered} pixels with alpha > 0.5 (fixture: {covered})");
        assert!(ours_covered > 0, "{what}: rendered nothing");
        if bad > 0 {
            failures.push(what);
        }
    }

    if let Some(mut gpu) = Gpu::new() {
        for f in &fixtures {
            let scene = gpu.renderer.upload_scene(&f.splats).expect("upload");
            let (frame, stats) = gpu
                .renderer
                .render(&scene, &cam, &settings)
                .expect("render");
            assert_eq!((frame.width, frame.height), (W, H));
            let what = format!("{} ({} splats) GPU", f.name, f.splats.len());
            let bad = report(&what, &frame.rgba, &f.out_img);
            let ours_covered = frame.rgba.chunks_exact(4).filter(|p| p[3] > 0.5).count();
            println!(
                "  {ours_covered} pixels with alpha > 0.5, {} intersections",
                stats.intersections
            );
            assert!(ours_covered > 0, "{what}: rendered nothing");
            if bad > 0 {
                failures.push(what);
            }
        }
    }

    assert!(
        failures.is_empty(),
        "outside |ours − ref| < {ABS_TOL:e} + {REL_TOL:e}·|ref|: {failures:?}"
    );
}
