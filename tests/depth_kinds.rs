//! Depth output kinds (`RenderSettings::depth`, CLI `--depth-kind`): expected (the default,
//! unchanged), median (the depth of the splat at which T falls to 0.5 or below) and first (the
//! first splat that blends). Both blend kernels give the same bits as each other for every kind
//! in every mode and agree with the CPU reference; the colour never depends on the kind; a
//! hand-built scene gives the exact depths; instances take the kind; the CLI writes the kind's
//! depth into the EXR's Z.

use vksplat_core::shaders::BlendKernel;
use vksplat_core::{reference, DepthKind, Frame, Instance, RenderMode, RenderSettings};
use vksplat_io::{read_exr, write_ply, Camera, Splats};
use vksplat_tests::cli::{assert_exit, stderr, vksplat, TempDir};
use vksplat_tests::{camera, compare, random_scene, Gpu, Rng};

const MODES: [RenderMode; 4] = [
    RenderMode::Classic,
    RenderMode::Antialiased,
    RenderMode::Inria,
    RenderMode::Khr,
];

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Renders `splats` with both blend kernels; asserts they give the same bits and returns the
/// frame.
fn render_both(gpu: &mut Gpu, splats: &Splats, cam: &Camera, s: &RenderSettings) -> Frame {
    let scene = gpu.renderer.upload_scene(splats).expect("upload");
    let mut frames = Vec::new();
    for kernel in [BlendKernel::Gpu, BlendKernel::Cpu] {
        gpu.renderer.set_blend_kernel(kernel).expect("blend kernel");
        frames.push(gpu.renderer.render(&scene, cam, s).expect("render").0);
    }
    let what = format!("{:?} {:?}", s.mode, s.depth);
    assert_eq!(bits(&frames[0].rgba), bits(&frames[1].rgba), "{what}: RGBA");
    assert_eq!(
        bits(&frames[0].depth),
        bits(&frames[1].depth),
        "{what}: depth"
    );
    frames.pop().unwrap()
}

#[test]
fn every_kind_matches_the_reference_in_every_mode() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(1414);
    let splats = random_scene(&mut rng, 1500, 1);
    let cam = camera(93, 70, 80.0, 76.0, 45.0, 36.0);
    for mode in MODES {
        let base = RenderSettings {
            mode,
            background: [0.1, 0.2, 0.3],
            ..Default::default()
        };
        let expected = render_both(&mut gpu, &splats, &cam, &base);
        for kind in DepthKind::ALL {
            let what = format!("{mode:?} {kind:?}");
            let s = RenderSettings {
                depth: kind,
                ..base
            };
            let got = render_both(&mut gpu, &splats, &cam, &s);
            // The kind changes the depth output only.
            assert_eq!(bits(&got.rgba), bits(&expected.rgba), "{what}: RGBA");
            let cpu = reference::render(&splats, &cam, &s);
            assert_eq!(
                bits(&cpu.rgba),
                bits(&reference::render(&splats, &cam, &base).rgba)
            );
            // Median and first pick one splat's depth: where a device's exp() rounds T to the
            // other side of the level, a pixel picks a neighbour (none does on lavapipe).
            let (max, bad) = compare(&got.depth, &cpu.depth, 1e-3, 1e-3);
            assert!(bad <= 1e-3, "{what}: {bad} of depth differ (max {max})");
            let hit = cpu.depth.iter().filter(|&&d| d > 0.0).count();
            assert!(hit > 1000, "{what}: only {hit} pixels have a depth");
            if kind == DepthKind::Expected {
                assert_eq!(
                    bits(&got.depth),
                    bits(&expected.depth),
                    "{what}: the default"
                );
            } else {
                // A different quantity: most covered pixels differ from the expected depth.
                let differ = got
                    .depth
                    .iter()
                    .zip(&expected.depth)
                    .filter(|(a, b)| (*a - *b).abs() > 1e-3)
                    .count();
                assert!(
                    differ * 4 > hit,
                    "{what}: {differ} of {hit} differ from expected"
                );
            }
            // First hit is the nearest depth any splat blends with: never beyond the
            // median where both exist.
            if kind == DepthKind::First {
                let median = reference::render(
                    &splats,
                    &cam,
                    &RenderSettings {
                        depth: DepthKind::Median,
                        ..base
                    },
                );
                for (f, m) in cpu.depth.iter().zip(&median.depth) {
                    assert!(*m == 0.0 || *f <= *m, "{what}: first {f} beyond median {m}");
                    assert!(
                        *m == 0.0 || *f > 0.0,
                        "{what}: a median without a first hit"
                    );
                }
            }
        }
    }
}

const W: u32 = 128;
const H: u32 = 48;
const F: f32 = 60.0;

/// An isotropic splat whose centre projects to pixel centre (px + 0.5, 24.5) at depth `z`,
/// 2.4 px sigma, with opacity `o` (logit ln(o / (1 − o))).
fn splat(s: &mut Splats, px: u32, z: f32, logit: f32) {
    let x = (px as f32 + 0.5 - 64.5) / F * z;
    s.means.push([x, 0.0, z]);
    s.rotations.push([1.0, 0.0, 0.0, 0.0]);
    s.log_scales.push([(2.4 * z / F).ln(); 3]);
    s.opacity_logits.push(logit);
    s.sh.extend([0.4, 0.1, -0.2]);
}

fn logit(o: f32) -> f32 {
    (o / (1.0 - o)).ln()
}

/// Stack A at pixel 24: opacities 0.3, 0.4, 0.9 at depths 2, 3, 5 (T 0.7, 0.42, 0.042: the
/// median is the second splat). B at pixel 64 (exactly the principal point): opacity 0.5
/// (logit 0) at depth 4, which takes T to exactly 0.5 at its centre pixel. C at pixel 104:
/// opacity 0.3 at depth 6, alone (T never reaches 0.5).
fn known_scene() -> Splats {
    let mut s = Splats::default();
    // Out of depth order in the file; the sort puts them front to back.
    splat(&mut s, 24, 5.0, logit(0.9));
    splat(&mut s, 24, 2.0, logit(0.3));
    splat(&mut s, 24, 3.0, logit(0.4));
    splat(&mut s, 64, 4.0, 0.0);
    splat(&mut s, 104, 6.0, logit(0.3));
    s
}

fn known_camera() -> Camera {
    camera(W, H, F, F, 64.5, 24.5)
}

fn at(f: &Frame, x: u32, y: u32) -> f32 {
    f.depth[(y * f.width + x) as usize]
}

#[test]
fn hand_built_scene_gives_the_exact_median_and_first_depth() {
    let splats = known_scene();
    let cam = known_camera();
    let mut gpu = Gpu::new();
    for mode in MODES {
        for kind in DepthKind::ALL {
            let what = format!("{mode:?} {kind:?}");
            let s = RenderSettings {
                mode,
                depth: kind,
                ..Default::default()
            };
            let mut frames = vec![reference::render(&splats, &cam, &s)];
            if let Some(gpu) = gpu.as_mut() {
                frames.push(render_both(gpu, &splats, &cam, &s));
            }
            for f in &frames {
                // Nothing reaches the corner: 0 in every kind.
                assert_eq!(at(f, 0, 0), 0.0, "{what}");
                let (a, c) = (at(f, 24, 24), at(f, 104, 24));
                match kind {
                    DepthKind::Median => {
                        assert_eq!(a, 3.0, "{what}: stack A crosses T = 0.5 at its second");
                        assert_eq!(c, 0.0, "{what}: C alone leaves T above 0.5");
                    }
                    DepthKind::First => {
                        assert_eq!(a, 2.0, "{what}: stack A's nearest splat");
                        assert_eq!(c, 6.0, "{what}: C");
                    }
                    DepthKind::Expected => {
                        // Σ αTz / (1 − T) with α ≈ the opacities (the centre pixel's Gaussian
                        // is ≈ 1; antialiased scales α by ≈ 0.95, which moves it a little).
                        let (t1, t2, t3) = (0.7f32, 0.7 * 0.6, 0.7 * 0.6 * 0.1);
                        let want = (0.3 * 2.0 + t1 * 0.4 * 3.0 + t2 * 0.9 * 5.0) / (1.0 - t3);
                        assert!((a - want).abs() < 0.1, "{what}: {a} vs {want}");
                        assert!((c - 6.0).abs() < 1e-5, "{what}: {c}");
                    }
                }
                // B: opacity exactly 0.5 at its centre pixel takes T to exactly 0.5 there
                // ("accumulated opacity reaches 0.5" includes equality); beside it α < 0.5.
                // Classic and khr only: antialiased scales α below 0.5, and inria moves the
                // centre off the pixel centre.
                if matches!(mode, RenderMode::Classic | RenderMode::Khr) {
                    let (centre, beside) = (at(f, 64, 24), at(f, 65, 24));
                    match kind {
                        DepthKind::Median => assert_eq!((centre, beside), (4.0, 0.0), "{what}"),
                        DepthKind::First => assert_eq!((centre, beside), (4.0, 4.0), "{what}"),
                        DepthKind::Expected => {}
                    }
                }
            }
        }
    }
}

/// Several objects in one frame take the kind too: one identity instance gives the plain
/// frame's median and first-hit depths bit for bit.
#[test]
fn instances_take_the_depth_kind() {
    let Some(mut gpu) = Gpu::new() else { return };
    let (splats, cam) = (known_scene(), known_camera());
    let scene = gpu.renderer.upload_scene(&splats).expect("upload");
    for kind in [DepthKind::Median, DepthKind::First] {
        let s = RenderSettings {
            depth: kind,
            ..Default::default()
        };
        let (plain, _) = gpu.renderer.render(&scene, &cam, &s).unwrap();
        let (inst, _) = gpu
            .renderer
            .render_instances(&[Instance::of(&scene)], &cam, &s)
            .unwrap();
        assert_eq!(bits(&inst.depth), bits(&plain.depth), "{kind:?}");
        assert_eq!(bits(&inst.rgba), bits(&plain.rgba), "{kind:?}");
        let want = if kind == DepthKind::Median { 3.0 } else { 2.0 };
        assert_eq!(at(&inst, 24, 24), want, "{kind:?}");
    }
}

/// `vksplat render --depth-kind`: the EXR's Z holds the chosen kind; expected is the default;
/// an unknown kind and a kind other than expected with motion blur exit 2.
#[test]
fn cli_depth_kind() {
    let dir = TempDir::new("depth_kinds");
    write_ply(&dir.join("known.ply"), &known_scene()).unwrap();
    std::fs::write(
        dir.join("cam.json"),
        format!(
            r#"{{"width": {W}, "height": {H}, "fx": {F}, "fy": {F}, "cx": 64.5, "cy": 24.5,
                "world_to_camera": [[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]}}"#
        ),
    )
    .unwrap();
    let (scene, cams) = (dir.arg("known.ply"), dir.arg("cam.json"));
    let render = |out: &str, extra: &[&str]| {
        let out = dir.arg(out);
        let mut args = vec!["render", &scene, "--camera", &cams, "-o", &out, "-q"];
        args.extend_from_slice(extra);
        vksplat(&args)
    };
    let out = render("bad.exr", &["--depth-kind", "mean"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("unknown depth kind 'mean' (expected expected, median or first)"),
        "{}",
        stderr(&out)
    );
    let out = render(
        "blur.exr",
        &[
            "--depth-kind",
            "median",
            "--motion-samples",
            "2",
            "--shutter",
            "0.5",
        ],
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("--depth-kind median with --motion-samples 2"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("blur.exr").exists());

    if vksplat_tests::gpu().is_none() {
        return;
    }
    let z = |file: &str, extra: &[&str]| {
        let out = render(file, extra);
        assert_exit(&out, 0);
        let img = read_exr(&dir.join(file)).unwrap();
        img.channel("Z").unwrap().to_vec()
    };
    let default = z("default.exr", &[]);
    let expected = z("expected.exr", &["--depth-kind", "expected"]);
    let median = z("median.exr", &["--depth-kind", "median"]);
    let first = z("first.exr", &["--depth-kind", "first"]);
    assert_eq!(bits(&default), bits(&expected));
    let px = |v: &[f32], x: u32| v[(24 * W + x) as usize];
    assert_eq!((px(&median, 24), px(&median, 104)), (3.0, 0.0));
    assert_eq!((px(&first, 24), px(&first, 104)), (2.0, 6.0));
    assert!(px(&expected, 24) > 2.0 && px(&expected, 24) < 5.0);
    // The kind is part of the job's record: --skip-existing renders a file of another kind
    // again, then keeps it.
    let kept = z(
        "expected.exr",
        &["--depth-kind", "median", "--skip-existing"],
    );
    assert_eq!(bits(&kept), bits(&median), "re-rendered with the median");
    let before = std::fs::metadata(dir.join("expected.exr"))
        .unwrap()
        .modified()
        .unwrap();
    let again = render(
        "expected.exr",
        &["--depth-kind", "median", "--skip-existing"],
    );
    assert_exit(&again, 0);
    let after = std::fs::metadata(dir.join("expected.exr"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "the matching file was kept");
    // The CPU reference's depth for the same kind.
    let s = RenderSettings {
        depth: DepthKind::Median,
        ..Default::default()
    };
    let cpu = reference::render(&known_scene(), &known_camera(), &s);
    let (max, bad) = compare(&median, &cpu.depth, 1e-5, 1e-5);
    assert!(bad == 0.0, "median Z vs reference: max {max}");
}
