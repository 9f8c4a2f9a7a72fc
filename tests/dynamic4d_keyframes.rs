//! The `dynamic4d` plugin on keyframe sequences: directories and frame patterns of standard
//! PLYs (written with vksplat-io) and Dynamic3DGaussians `params.npz` files (written here,
//! stored and deflated, by `vksplat_tests::numpy`). Expected frames are built here from the
//! written values: a time between two frames equals a static scene interpolated by hand
//! (lerp, nlerp on one hemisphere), integer times equal the frame files themselves, frames
//! with different splat counts show the nearest frame, the GPU path (also split into many
//! small buffers) equals the CPU path, and bad inputs exit with code 4 naming the plugin and
//! the file.

#[path = "plugin_support.rs"]
mod plugin_support;

#[path = "dynamic4d_support.rs"]
mod dynamic4d_support;

use std::path::{Path, PathBuf};

use dynamic4d_support::*;
use vksplat_io::Splats;
use vksplat_plugin_host::{EvalPath, Scene, VariantScene};
use vksplat_tests::numpy::write_npz;
use vksplat_tests::{compare, Gpu, Rng};

fn unit(q: [f32; 4]) -> [f32; 4] {
    let n = q.iter().map(|v| v * v).sum::<f32>().sqrt();
    q.map(|v| v / n)
}

/// `frames` frames of `n` splats (SH degree 1) that move, turn, grow and fade between frames.
fn sequence(rng: &mut Rng, frames: usize, n: usize) -> Vec<Splats> {
    let first = Splats {
        means: (0..n)
            .map(|_| {
                [
                    rng.range(-0.8, 0.8),
                    rng.range(-0.8, 0.8),
                    rng.range(-0.5, 0.5),
                ]
            })
            .collect(),
        rotations: (0..n)
            .map(|_| unit(std::array::from_fn(|_| rng.range(-1.0, 1.0))))
            .collect(),
        log_scales: (0..n)
            .map(|_| std::array::from_fn(|_| rng.range(-4.0, -2.8)))
            .collect(),
        opacity_logits: (0..n).map(|_| rng.range(-1.0, 3.0)).collect(),
        sh_degree: 1,
        sh: (0..n * 12).map(|_| rng.range(-0.6, 0.6)).collect(),
    };
    let mut out = vec![first];
    for _ in 1..frames {
        let p = out.last().unwrap();
        let mut s = p.clone();
        for m in &mut s.means {
            for v in m.iter_mut() {
                *v += rng.range(-0.15, 0.15);
            }
        }
        for q in &mut s.rotations {
            let turned = unit(std::array::from_fn(|k| q[k] + rng.range(-0.5, 0.5)));
            // Some stored with the other sign: the same rotation, the other hemisphere.
            *q = if rng.range(0.0, 1.0) < 0.3 {
                turned.map(|v| -v)
            } else {
                turned
            };
        }
        for l in &mut s.log_scales {
            for v in l.iter_mut() {
                *v += rng.range(-0.3, 0.3);
            }
        }
        for o in &mut s.opacity_logits {
            *o += rng.range(-1.0, 1.0);
        }
        for c in &mut s.sh {
            *c += rng.range(-0.3, 0.3);
        }
        out.push(s);
    }
    out
}

/// Frames `a` and `b` interpolated by hand with weight `w` of `b`.
fn interpolate(a: &Splats, b: &Splats, w: f32) -> Splats {
    let lerp = |x: f32, y: f32| x + w * (y - x);
    Splats {
        means: a
            .means
            .iter()
            .zip(&b.means)
            .map(|(x, y)| std::array::from_fn(|k| lerp(x[k], y[k])))
            .collect(),
        rotations: a
            .rotations
            .iter()
            .zip(&b.rotations)
            .map(|(x, y)| {
                let d: f32 = (0..4).map(|k| x[k] * y[k]).sum();
                let s = if d < 0.0 { -1.0 } else { 1.0 };
                unit(std::array::from_fn(|k| lerp(x[k], s * y[k])))
            })
            .collect(),
        log_scales: a
            .log_scales
            .iter()
            .zip(&b.log_scales)
            .map(|(x, y)| std::array::from_fn(|k| lerp(x[k], y[k])))
            .collect(),
        opacity_logits: a
            .opacity_logits
            .iter()
            .zip(&b.opacity_logits)
            .map(|(x, y)| lerp(*x, *y))
            .collect(),
        sh_degree: a.sh_degree,
        sh: a.sh.iter().zip(&b.sh).map(|(x, y)| lerp(*x, *y)).collect(),
    }
}

/// Writes frames as `dir/time_00000.ply`, … (numbered from `first`).
fn write_frames(dir: &Path, frames: &[Splats], first: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for (k, s) in frames.iter().enumerate() {
        vksplat_io::write_ply(&dir.join(format!("time_{:05}.ply", first + k)), s).unwrap();
    }
}

fn assert_close(got: &vksplat_core::Frame, want: &vksplat_core::Frame, what: &str) {
    let n = covered(want);
    assert!(n > 1500, "{what}: only {n} pixels covered");
    let (max, mean) = diff(got, want);
    assert!(
        max <= 2.0 / 255.0 && mean <= 1e-4,
        "{what}: max {max}, mean {mean} against the expected static scene"
    );
}

#[test]
fn midpoints_equal_hand_interpolated_scenes_and_frames_equal_their_files() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = scratch("kf-interp");
    let frames = sequence(&mut Rng::new(31), 3, 2500);
    let seq = dir.join("seq");
    write_frames(&seq, &frames, 7);
    let c = cam(160, 120);
    let pattern = seq.join("time_%05d.ply");
    for (source, eval) in [
        (seq.as_path(), EvalPath::Gpu),
        (pattern.as_path(), EvalPath::Cpu),
        (seq.as_path(), EvalPath::Cpu),
    ] {
        let inst = open(source, &[]);
        let mut scene = Scene::open_variant(&gpu.renderer, inst, eval).unwrap();
        assert_eq!(scene.time_range(), Some((0.0, 2.0)));
        for (t, want) in [
            (0.5, interpolate(&frames[0], &frames[1], 0.5)),
            (1.5, interpolate(&frames[1], &frames[2], 0.5)),
            (1.25, interpolate(&frames[1], &frames[2], 0.25)),
            (1.0, frames[1].clone()),
            (2.0, frames[2].clone()),
            (-3.0, frames[0].clone()),
            (9.0, frames[2].clone()),
        ] {
            let got = scene
                .render(&mut gpu.renderer, &c, &settings(), t)
                .unwrap()
                .0;
            let expected = render_static(&mut gpu, &want, &c);
            assert_close(
                &got,
                &expected,
                &format!("{} {eval:?} t={t}", source.display()),
            );
        }
    }
    // The midpoint really is between the frames: it differs from both.
    let mid = render_file(&mut gpu, &seq, EvalPath::Gpu, &[], &c, 0.5);
    for f in &frames[..2] {
        assert!(diff(&mid, &render_static(&mut gpu, f, &c)).1 > 1e-3);
    }
}

#[test]
fn different_counts_show_the_nearest_frame() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = scratch("kf-nearest");
    let mut rng = Rng::new(41);
    let frames: Vec<Splats> = [2000usize, 1200, 1600]
        .iter()
        .map(|&n| sequence(&mut rng, 1, n).remove(0))
        .collect();
    let seq = dir.join("seq");
    write_frames(&seq, &frames, 0);
    let c = cam(128, 96);
    for eval in [EvalPath::Gpu, EvalPath::Cpu] {
        let mut v = VariantScene::new(&gpu.renderer, open(&seq, &[]), eval).unwrap();
        for (t, k) in [(0.0, 0), (0.4, 0), (0.6, 1), (1.4, 1), (1.5, 2), (7.0, 2)] {
            let got = v.render(&mut gpu.renderer, &c, &settings(), t).unwrap().0;
            let want = render_static(&mut gpu, &frames[k], &c);
            assert_close(&got, &want, &format!("{eval:?} t={t} (frame {k})"));
            v.evaluate(&gpu.renderer, t).unwrap();
            let scale = v
                .download_outputs(&gpu.renderer)
                .unwrap()
                .opacity_scale
                .unwrap();
            let live = frames[k].means.len();
            assert_eq!(scale.len(), 2000);
            assert!(scale[..live].iter().all(|&s| s == 1.0), "t={t}");
            assert!(scale[live..].iter().all(|&s| s == 0.0), "t={t}");
        }
    }
}

/// A Dynamic3DGaussians `params.npz` of `frames` (their log-scales and logits from frame 0,
/// colours as plain RGB = 0.5 + C0·DC), with the per-frame arrays' shape `[T, N, ·]`.
fn write_params(path: &Path, frames: &[Splats], deflate: bool) {
    let (t, n) = (frames.len(), frames[0].means.len());
    let flat =
        |f: &dyn Fn(&Splats) -> Vec<f32>| -> Vec<f32> { frames.iter().flat_map(f).collect() };
    let means = flat(&|s| s.means.iter().flatten().copied().collect());
    let rgb = flat(&|s| {
        (0..n)
            .flat_map(|i| (0..3).map(move |c| (0.5 + C0 * f64::from(s.sh[12 * i + c])) as f32))
            .collect()
    });
    let rot = flat(&|s| s.rotations.iter().flatten().map(|v| 2.0 * v).collect());
    let seg = vec![1f32; n * 3];
    let logits = frames[0].opacity_logits.clone();
    let scales: Vec<f32> = frames[0].log_scales.iter().flatten().copied().collect();
    write_npz(
        path,
        &[
            ("means3D", &[t, n, 3], &means),
            ("rgb_colors", &[t, n, 3], &rgb),
            ("seg_colors", &[n, 3], &seg),
            ("unnorm_rotations", &[t, n, 4], &rot),
            ("logit_opacities", &[n, 1], &logits),
            ("log_scales", &[n, 3], &scales),
            ("cam_m", &[t, 1], &vec![0.0; t]),
        ],
        deflate,
    );
}

/// What a `params.npz` of `frames` describes: frame 0's log-scales and logits, SH DC only.
fn as_tracked(s: &Splats, first: &Splats) -> Splats {
    let n = s.means.len();
    Splats {
        means: s.means.clone(),
        rotations: s.rotations.clone(),
        log_scales: first.log_scales.clone(),
        opacity_logits: first.opacity_logits.clone(),
        sh_degree: 0,
        sh: (0..n)
            .flat_map(|i| s.sh[12 * i..12 * i + 3].to_vec())
            .collect(),
    }
}

#[test]
fn npz_tracks_interpolate_and_stored_equals_deflated() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = scratch("kf-npz");
    let frames = sequence(&mut Rng::new(53), 4, 2500);
    let stored = dir.join("params.npz");
    let deflated = dir.join("deflated.npz");
    write_params(&stored, &frames, false);
    write_params(&deflated, &frames, true);
    let c = cam(160, 120);
    let tracked: Vec<Splats> = frames.iter().map(|f| as_tracked(f, &frames[0])).collect();
    for eval in [EvalPath::Gpu, EvalPath::Cpu] {
        let mut a = Scene::open_variant(&gpu.renderer, open(&stored, &[]), eval).unwrap();
        let mut b = Scene::open_variant(&gpu.renderer, open(&deflated, &[]), eval).unwrap();
        assert_eq!(a.time_range(), Some((0.0, 3.0)));
        for (t, want) in [
            (2.5, interpolate(&tracked[2], &tracked[3], 0.5)),
            (0.75, interpolate(&tracked[0], &tracked[1], 0.75)),
            (1.0, tracked[1].clone()),
        ] {
            let got = a.render(&mut gpu.renderer, &c, &settings(), t).unwrap().0;
            let other = b.render(&mut gpu.renderer, &c, &settings(), t).unwrap().0;
            assert_eq!(got.rgba, other.rgba, "{eval:?} t={t}: stored vs deflated");
            let expected = render_static(&mut gpu, &want, &c);
            assert_close(&got, &expected, &format!("npz {eval:?} t={t}"));
        }
    }
}

#[test]
fn gpu_equals_cpu_with_the_keyframes_split_into_small_buffers() {
    let Some(gpu) = Gpu::new() else { return };
    let dir = scratch("kf-split");
    let frames = sequence(&mut Rng::new(67), 3, 700);
    let seq = dir.join("seq");
    write_frames(&seq, &frames, 0);
    let npz = dir.join("params.npz");
    write_params(&npz, &frames, false);
    // 3 frames × 700 splats × 23 floats = 48 300 floats: 13 buffers of 4000.
    for source in [&seq, &npz] {
        let outputs = |params: &[(&str, &str)], eval: EvalPath, t: f64| {
            let mut s = VariantScene::new(&gpu.renderer, open(source, params), eval).unwrap();
            s.evaluate(&gpu.renderer, t).unwrap();
            s.download_outputs(&gpu.renderer).unwrap()
        };
        for t in [0.3, 1.5, 2.0] {
            let cpu = outputs(&[], EvalPath::Cpu, t);
            let one = outputs(&[], EvalPath::Gpu, t);
            let split = outputs(&[("buffer_floats", "4000")], EvalPath::Gpu, t);
            for (what, c, g, s) in [
                ("means", &cpu.means, &one.means, &split.means),
                (
                    "rotations",
                    &cpu.rotations,
                    &one.rotations,
                    &split.rotations,
                ),
                (
                    "log_scales",
                    &cpu.log_scales,
                    &one.log_scales,
                    &split.log_scales,
                ),
                (
                    "opacity_logits",
                    &cpu.opacity_logits,
                    &one.opacity_logits,
                    &split.opacity_logits,
                ),
                ("sh", &cpu.sh, &one.sh, &split.sh),
                (
                    "opacity_scale",
                    &cpu.opacity_scale,
                    &one.opacity_scale,
                    &split.opacity_scale,
                ),
            ] {
                let (Some(c), Some(g), Some(s)) = (c, g, s) else {
                    continue;
                };
                assert_eq!(
                    g,
                    s,
                    "{} t={t} {what}: split buffers differ",
                    source.display()
                );
                let (max, bad) = compare(c, g, 1e-6, 1e-6);
                assert!(
                    bad == 0.0,
                    "{} t={t} {what}: GPU vs CPU max {max}",
                    source.display()
                );
            }
        }
        // More buffers than the GPU path binds: a clear error; the CPU path still works.
        let inst = open(source, &[("buffer_floats", "64")]);
        let e = match VariantScene::new(&gpu.renderer, inst, EvalPath::Gpu) {
            Ok(_) => panic!("{}: hundreds of buffers accepted", source.display()),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains("more than 16 storage buffers") && e.contains("--plugin-eval cpu"),
            "{e}"
        );
        outputs(&[("buffer_floats", "64")], EvalPath::Cpu, 1.0);
    }
}

#[test]
fn bad_sequences_and_npz_files_exit_4_naming_the_plugin_and_the_file() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let dir = scratch("kf-bad");
    let frames = sequence(&mut Rng::new(3), 2, 30);
    let mut cases: Vec<(&str, PathBuf, PathBuf, &str)> = Vec::new();

    let p = dir.join("nan_frame");
    let mut bad = frames.clone();
    bad[1].means[4][1] = f32::NAN;
    write_frames(&p, &bad, 0);
    cases.push((
        "NaN in a frame",
        p.clone(),
        p.join("time_00001.ply"),
        "splat 4",
    ));

    let p = dir.join("degrees");
    let mut bad = frames.clone();
    bad[1].sh_degree = 0;
    bad[1].sh = bad[1].sh.chunks(12).flat_map(|c| c[..3].to_vec()).collect();
    write_frames(&p, &bad, 0);
    let pattern = p.join("time_#####.ply");
    cases.push((
        "SH degrees differ",
        pattern,
        p.join("time_00001.ply"),
        "SH degree 0",
    ));

    let p = dir.join("empty");
    std::fs::create_dir_all(&p).unwrap();
    cases.push(("empty directory", p.clone(), p, "no .ply files"));
    let nothing = dir.join("nothing_%04d.ply");
    cases.push(("no match", nothing.clone(), nothing, "no file matches"));

    let good = dir.join("good.npz");
    write_params(&good, &frames, false);
    let bytes = std::fs::read(&good).unwrap();
    let p = dir.join("cut.npz");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    cases.push(("truncated npz", p.clone(), p, "truncated"));

    let (n, t) = (30, 2);
    let zeros = |k: usize| vec![0.5f32; k];
    let mut rot = vec![0f32; t * n * 4];
    for q in rot.chunks_mut(4) {
        q[0] = 1.0;
    }
    let p = dir.join("missing.npz");
    write_npz(
        &p,
        &[
            ("means3D", &[t, n, 3], &zeros(t * n * 3)),
            ("unnorm_rotations", &[t, n, 4], &rot),
            ("logit_opacities", &[n, 1], &zeros(n)),
            ("log_scales", &[n, 3], &zeros(n * 3)),
        ],
        true,
    );
    cases.push(("missing array", p.clone(), p, "has no array 'rgb_colors'"));

    let p = dir.join("shape.npz");
    write_npz(
        &p,
        &[
            ("means3D", &[t, n, 3], &zeros(t * n * 3)),
            ("rgb_colors", &[t, n - 1, 3], &zeros(t * (n - 1) * 3)),
            ("unnorm_rotations", &[t, n, 4], &rot),
            ("logit_opacities", &[n, 1], &zeros(n)),
            ("log_scales", &[n, 3], &zeros(n * 3)),
        ],
        false,
    );
    let expect = "array 'rgb_colors' has shape (2, 29, 3), expected (2, 30, 3)";
    cases.push(("wrong count", p.clone(), p, expect));

    let p = dir.join("nan.npz");
    let mut means = zeros(t * n * 3);
    means[3 * (n + 5) + 2] = f32::NAN;
    write_npz(
        &p,
        &[
            ("means3D", &[t, n, 3], &means),
            ("rgb_colors", &[t, n, 3], &zeros(t * n * 3)),
            ("unnorm_rotations", &[t, n, 4], &rot),
            ("logit_opacities", &[n, 1], &zeros(n)),
            ("log_scales", &[n, 3], &zeros(n * 3)),
        ],
        false,
    );
    cases.push((
        "NaN in npz",
        p.clone(),
        p,
        "array 'means3D' has NaN at [1, 5, 2]",
    ));

    let p = dir.join("zero_rotation.npz");
    let mut zero = rot.clone();
    zero[4 * (n + 7)] = 0.0;
    write_npz(
        &p,
        &[
            ("means3D", &[t, n, 3], &zeros(t * n * 3)),
            ("rgb_colors", &[t, n, 3], &zeros(t * n * 3)),
            ("unnorm_rotations", &[t, n, 4], &zero),
            ("logit_opacities", &[n, 1], &zeros(n)),
            ("log_scales", &[n, 3], &zeros(n * 3)),
        ],
        false,
    );
    let expect = "unnorm_rotations[1, 7] is not a rotation";
    cases.push(("zero rotation", p.clone(), p, expect));

    assert_bad_sources(&dir, &cases);
}

#[test]
fn vksplat_info_finds_sequences_and_npz_by_content() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let dir = scratch("kf-detect");
    let frames = sequence(&mut Rng::new(8), 3, 40);
    let seq = dir.join("seq");
    write_frames(&seq, &frames, 1);
    let npz = dir.join("tracks.bin");
    write_params(&npz, &frames, true);
    for source in [
        seq.clone(),
        seq.join("time_%05d.ply"),
        seq.join("time_#####.ply"),
        npz,
    ] {
        cli_info_detected(
            &source,
            &["plugin: dynamic4d", "count: 40", "time range: 0 .. 2"],
        );
    }
}
