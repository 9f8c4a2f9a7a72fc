//! The `dynamic4d` plugin on Spacetime Gaussians lite PLYs and splaTV `.splatv` files: the
//! files are written here from the format's field list (PLY through vksplat-io's column
//! writer, `.splatv` with this file's own encoder of splaTV's layout), and every expected
//! value is computed here from the published formulas, independently of the plugin's code:
//! a moving blob's image centroid follows its analytic path, a frame equals a static PLY baked
//! at the same time, the GPU and CPU paths agree, small time steps change little, a `.splatv`
//! renders like the PLY it came from, `cull` and `cutoff` hide faint splats, and bad files
//! exit with code 4 naming the plugin and the file; `vksplat info`/`render` find the plugin by
//! content.

#[path = "plugin_support.rs"]
mod plugin_support;

#[path = "dynamic4d_support.rs"]
mod dynamic4d_support;

use std::path::{Path, PathBuf};

use dynamic4d_support::*;
use vksplat_io::half::f32_to_half;
use vksplat_io::Splats;
use vksplat_plugin_host::{EvalPath, Scene, VariantScene};
use vksplat_tests::{cli, compare, Gpu, Rng};

/// One Spacetime Gaussians lite splat as the file stores it.
#[derive(Clone, Copy, Debug)]
struct Stg {
    mean: [f32; 3],
    trbf_center: f32,
    trbf_scale: f32,
    motion: [f32; 9],
    rgb: [f32; 3],
    opacity: f32,
    log_scale: [f32; 3],
    rot: [f32; 4],
    omega: [f32; 4],
}

/// The file's vertex properties, in the order the reference trainer writes them.
fn field_names() -> Vec<String> {
    let mut v: Vec<String> = ["x", "y", "z", "trbf_center", "trbf_scale", "nx", "ny", "nz"]
        .map(String::from)
        .to_vec();
    v.extend((0..9).map(|k| format!("motion_{k}")));
    v.extend((0..3).map(|k| format!("f_dc_{k}")));
    v.push("opacity".into());
    v.extend((0..3).map(|k| format!("scale_{k}")));
    v.extend((0..4).map(|k| format!("rot_{k}")));
    v.extend((0..4).map(|k| format!("omega_{k}")));
    v
}

fn field(s: &Stg, name: &str) -> f32 {
    let idx = |p: &str| name[p.len()..].parse::<usize>().unwrap();
    match name {
        "x" => s.mean[0],
        "y" => s.mean[1],
        "z" => s.mean[2],
        "trbf_center" => s.trbf_center,
        "trbf_scale" => s.trbf_scale,
        "nx" | "ny" | "nz" => 0.0,
        "opacity" => s.opacity,
        n if n.starts_with("motion_") => s.motion[idx("motion_")],
        n if n.starts_with("f_dc_") => s.rgb[idx("f_dc_")],
        n if n.starts_with("scale_") => s.log_scale[idx("scale_")],
        n if n.starts_with("rot_") => s.rot[idx("rot_")],
        n if n.starts_with("omega_") => s.omega[idx("omega_")],
        n => panic!("no field {n}"),
    }
}

/// Writes a Spacetime Gaussians lite PLY, without the properties in `skip`.
fn write_stg(path: &Path, splats: &[Stg], skip: &[&str]) {
    let names: Vec<String> = field_names()
        .into_iter()
        .filter(|n| !skip.contains(&n.as_str()))
        .collect();
    let cols: Vec<Vec<f32>> = names
        .iter()
        .map(|n| splats.iter().map(|s| field(s, n)).collect())
        .collect();
    let columns: Vec<(&str, &[f32])> = names
        .iter()
        .zip(&cols)
        .map(|(n, c)| (n.as_str(), &c[..]))
        .collect();
    vksplat_io::ply::write_columns(path, &columns, &[]).unwrap();
}

/// splaTV's `.splatv` layout, encoded here from its description (16 words per splat: f32
/// position, halves for rotation, e^scale, motion, omega, trbf centre and e^trbf_scale; rgba
/// bytes), padded to whole 1024-splat texture rows as splaTV's converter does.
fn write_splatv(path: &Path, splats: &[Stg]) {
    let rows = (4 * splats.len()).div_ceil(4096).max(1);
    let size = rows * 4096 * 16;
    let json = format!(
        "[{{\"type\":\"splat\",\"size\":{size},\"texwidth\":4096,\"texheight\":{rows},\
         \"cameras\":[]}}]"
    );
    let mut b = Vec::new();
    b.extend_from_slice(&0x674bu32.to_le_bytes());
    b.extend_from_slice(&(json.len() as u32).to_le_bytes());
    b.extend_from_slice(json.as_bytes());
    let h2 = |a: f32, c: f32| u32::from(f32_to_half(a)) | (u32::from(f32_to_half(c)) << 16);
    for s in splats {
        let sig = 1.0 / (1.0 + (-s.opacity).exp());
        let byte = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
        let rgba = [byte(s.rgb[0]), byte(s.rgb[1]), byte(s.rgb[2]), byte(sig)];
        let e = |v: f32| v.exp();
        let m = s.motion;
        let words = [
            s.mean[0].to_bits(),
            s.mean[1].to_bits(),
            s.mean[2].to_bits(),
            h2(s.rot[0], s.rot[1]),
            h2(s.rot[2], s.rot[3]),
            h2(e(s.log_scale[0]), e(s.log_scale[1])),
            h2(e(s.log_scale[2]), 0.0),
            u32::from_le_bytes(rgba),
            h2(m[0], m[1]),
            h2(m[2], m[3]),
            h2(m[4], m[5]),
            h2(m[6], m[7]),
            h2(m[8], 0.0),
            h2(s.omega[0], s.omega[1]),
            h2(s.omega[2], s.omega[3]),
            h2(s.trbf_center, e(s.trbf_scale)),
        ];
        for w in words {
            b.extend_from_slice(&w.to_le_bytes());
        }
    }
    b.resize(8 + json.len() + size, 0);
    std::fs::write(path, b).unwrap();
}

/// Splat `s` at time t by the published formulas (in f64): mean, unit quaternion (w x y z),
/// opacity σ(o)·exp(−(Δ/e^trbf_scale)²).
fn at_time(s: &Stg, t: f64) -> ([f64; 3], [f64; 4], f64) {
    let d = t - f64::from(s.trbf_center);
    let m = s.motion.map(f64::from);
    let mean = std::array::from_fn(|a| {
        f64::from(s.mean[a]) + m[a] * d + m[3 + a] * d * d + m[6 + a] * d * d * d
    });
    let q: [f64; 4] = std::array::from_fn(|k| f64::from(s.rot[k]) + d * f64::from(s.omega[k]));
    let n = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    let sig = 1.0 / (1.0 + (-f64::from(s.opacity)).exp());
    let width = f64::from(s.trbf_scale).exp();
    (mean, q.map(|v| v / n), sig * (-(d / width).powi(2)).exp())
}

/// The static scene of `splats` at time t: every splat baked by [`at_time`] (the invisible
/// ones, opacity below 1e-6, left out), colours folded into SH DC.
fn bake(splats: &[Stg], t: f64) -> Splats {
    let mut out = Splats::default();
    for s in splats {
        let (mean, q, alpha) = at_time(s, t);
        if alpha < 1e-6 {
            continue;
        }
        out.means.push(mean.map(|v| v as f32));
        out.rotations.push(q.map(|v| v as f32));
        out.log_scales.push(s.log_scale);
        out.opacity_logits.push((alpha / (1.0 - alpha)).ln() as f32);
        out.sh
            .extend(s.rgb.map(|c| ((f64::from(c) - 0.5) / C0) as f32));
    }
    out
}

/// `n` random splats in view of [`cam`], moving, rotating and fading over t ∈ [0, 1].
fn random_stg(rng: &mut Rng, n: usize) -> Vec<Stg> {
    (0..n)
        .map(|_| Stg {
            mean: [
                rng.range(-0.8, 0.8),
                rng.range(-0.8, 0.8),
                rng.range(-0.5, 0.5),
            ],
            trbf_center: rng.range(0.0, 1.0),
            trbf_scale: rng.range(-1.2, 0.5),
            motion: std::array::from_fn(|k| rng.range(-0.4, 0.4) / (1 + k / 3) as f32),
            rgb: std::array::from_fn(|_| rng.range(0.0, 1.0)),
            opacity: rng.range(-1.0, 3.0),
            log_scale: std::array::from_fn(|_| rng.range(-4.0, -2.8)),
            rot: std::array::from_fn(|_| rng.range(-1.0, 1.0)),
            omega: std::array::from_fn(|_| rng.range(-1.0, 1.0)),
        })
        .collect()
}

#[test]
fn a_moving_blob_follows_its_analytic_path() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = scratch("path");
    let blob = Stg {
        mean: [-0.3, 0.2, 0.1],
        trbf_center: 0.4,
        // e^3 ≈ 20: the blob stays opaque over [0, 1].
        trbf_scale: 3.0,
        motion: [0.9, -0.2, 0.3, -0.5, 0.6, 0.0, 0.4, -0.3, -0.2],
        rgb: [1.0, 0.8, 0.4],
        opacity: 4.0,
        log_scale: [(0.04f32).ln(); 3],
        rot: [1.0, 0.0, 0.0, 0.0],
        omega: [0.0, 0.5, -0.3, 0.2],
    };
    let path = dir.join("blob.ply");
    write_stg(&path, &[blob], &[]);
    let c = cam(128, 128);
    for eval in [EvalPath::Gpu, EvalPath::Cpu] {
        let inst = open(&path, &[]);
        let mut scene = Scene::open_variant(&gpu.renderer, inst, eval).unwrap();
        let mut travelled = 0.0f64;
        let mut last: Option<[f64; 2]> = None;
        for k in 0..10 {
            let t = k as f64 / 9.0;
            let frame = scene
                .render(&mut gpu.renderer, &c, &settings(), t)
                .unwrap()
                .0;
            let (got, w) = centroid(&frame, 128);
            assert!(w > 5.0, "{eval:?} t={t}: the blob is missing ({w})");
            let want = project(&c, at_time(&blob, t).0);
            let err = (got[0] - want[0]).hypot(got[1] - want[1]);
            assert!(
                err < 0.5,
                "{eval:?} t={t}: centroid {got:?}, analytic {want:?} ({err} px)"
            );
            if let Some(l) = last {
                travelled += (want[0] - l[0]).hypot(want[1] - l[1]);
            }
            last = Some(want);
        }
        assert!(
            travelled > 20.0,
            "the path is too short to test ({travelled} px)"
        );
    }
}

#[test]
fn a_frame_equals_the_static_scene_baked_at_its_time() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = scratch("bake");
    let splats = random_stg(&mut Rng::new(7), 3000);
    let path = dir.join("scene.ply");
    write_stg(&path, &splats, &[]);
    let c = cam(160, 120);
    for eval in [EvalPath::Gpu, EvalPath::Cpu] {
        for t in [0.0, 0.37, 1.0] {
            let got = render_file(&mut gpu, &path, eval, &[], &c, t);
            let want = render_static(&mut gpu, &bake(&splats, t), &c);
            let covered = want.rgba.chunks_exact(4).filter(|p| p[3] > 0.3).count();
            assert!(covered > 2000, "t={t}: only {covered} pixels covered");
            let (max, mean) = diff(&got, &want);
            assert!(
                max <= 2.0 / 255.0 && mean <= 1e-4,
                "{eval:?} t={t}: max {max}, mean {mean} against the baked scene"
            );
        }
    }
}

#[test]
fn gpu_and_cpu_paths_agree_and_time_is_continuous() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = scratch("paths");
    let splats = random_stg(&mut Rng::new(11), 2000);
    let path = dir.join("scene.ply");
    write_stg(&path, &splats, &[]);
    let c = cam(128, 96);
    let mut on_gpu = VariantScene::new(&gpu.renderer, open(&path, &[]), EvalPath::Gpu).unwrap();
    let mut on_cpu = VariantScene::new(&gpu.renderer, open(&path, &[]), EvalPath::Cpu).unwrap();
    for t in [0.0, 0.5, 0.9, 1.7, -0.4] {
        on_gpu.evaluate(&gpu.renderer, t).unwrap();
        on_cpu.evaluate(&gpu.renderer, t).unwrap();
        let g = on_gpu.download_outputs(&gpu.renderer).unwrap();
        let h = on_cpu.download_outputs(&gpu.renderer).unwrap();
        for (what, a, b) in [
            ("means", &g.means, &h.means),
            ("rotations", &g.rotations, &h.rotations),
            ("opacity_scale", &g.opacity_scale, &h.opacity_scale),
        ] {
            let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
            let (max, bad) = compare(a, b, 1e-5, 1e-5);
            assert!(bad == 0.0, "t={t} {what}: GPU vs CPU max {max}");
        }
        let fg = on_gpu
            .render(&mut gpu.renderer, &c, &settings(), t)
            .unwrap()
            .0;
        let fc = on_cpu
            .render(&mut gpu.renderer, &c, &settings(), t)
            .unwrap()
            .0;
        let (max, mean) = diff(&fg, &fc);
        assert!(
            max < 1e-3 && mean < 1e-6,
            "t={t}: GPU vs CPU image max {max} mean {mean}"
        );
    }
    // Continuity: a small step in time moves the image a little, a large one a lot.
    let frame = |s: &mut VariantScene, g: &mut Gpu, t: f64| {
        s.render(&mut g.renderer, &c, &settings(), t).unwrap().0
    };
    let base = frame(&mut on_gpu, &mut gpu, 0.5);
    let near = frame(&mut on_gpu, &mut gpu, 0.5 + 1e-4);
    let far = frame(&mut on_gpu, &mut gpu, 0.8);
    let (small_max, small_mean) = diff(&base, &near);
    let (_, large_mean) = diff(&base, &far);
    assert!(small_max < 0.05, "Δt = 1e-4 changed a pixel by {small_max}");
    assert!(
        large_mean > 50.0 * small_mean && large_mean > 1e-3,
        "Δt = 0.3: mean change {large_mean}, Δt = 1e-4: {small_mean}"
    );
}

#[test]
fn a_splatv_renders_like_the_ply_it_came_from() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = scratch("splatv");
    let mut splats = random_stg(&mut Rng::new(3), 1500);
    // Half precision: keep every value a half exactly except what splaTV stores as e^x, and
    // colours/opacities on the byte grid, so the two files describe the same scene up to the
    // format's own rounding of e^x.
    let h = |v: f32| vksplat_io::half::half_to_f32(f32_to_half(v));
    for s in &mut splats {
        s.trbf_center = h(s.trbf_center);
        s.motion = s.motion.map(h);
        s.rot = s.rot.map(h);
        s.omega = s.omega.map(h);
        s.rgb = s.rgb.map(|c| (c * 255.0).round() / 255.0);
    }
    let ply = dir.join("scene.ply");
    let splatv = dir.join("scene.splatv");
    write_stg(&ply, &splats, &[]);
    write_splatv(&splatv, &splats);
    let c = cam(128, 128);
    for t in [0.1, 0.6] {
        let a = render_file(&mut gpu, &ply, EvalPath::Gpu, &[], &c, t);
        let b = render_file(&mut gpu, &splatv, EvalPath::Gpu, &[], &c, t);
        let covered = a.rgba.chunks_exact(4).filter(|p| p[3] > 0.3).count();
        assert!(covered > 1000, "t={t}: only {covered} pixels covered");
        let (max, mean) = diff(&a, &b);
        // Scales and temporal widths are halves of e^x (relative error ≤ 2^-11), opacity a
        // byte (≤ 0.5/255).
        assert!(
            max < 0.03 && mean < 5e-4,
            "t={t}: .splatv vs PLY max {max}, mean {mean}"
        );
    }
}

#[test]
fn cull_and_cutoff_hide_splats_below_their_thresholds() {
    let Some(gpu) = Gpu::new() else { return };
    let dir = scratch("cull");
    let splats = random_stg(&mut Rng::new(5), 1000);
    let path = dir.join("scene.ply");
    write_stg(&path, &splats, &[]);
    let t = 0.25;
    for eval in [EvalPath::Gpu, EvalPath::Cpu] {
        let outputs = |params: &[(&str, &str)]| {
            let mut s = VariantScene::new(&gpu.renderer, open(&path, params), eval).unwrap();
            s.evaluate(&gpu.renderer, t).unwrap();
            s.download_outputs(&gpu.renderer)
                .unwrap()
                .opacity_scale
                .unwrap()
        };
        let off = outputs(&[]);
        // `cull` thresholds α(t) = σ(opacity)·f, `cutoff` the temporal factor f alone (as
        // splaTV's viewer does at 0.02).
        let culled = outputs(&[("cull", "0.3")]);
        let cut = outputs(&[("cutoff", "0.5")]);
        let (mut n_culled, mut n_cut) = (0, 0);
        for (i, s) in splats.iter().enumerate() {
            let (_, _, alpha) = at_time(s, t);
            let sig = 1.0 / (1.0 + (-f64::from(s.opacity)).exp());
            let factor = alpha / sig;
            assert!(
                (f64::from(off[i]) - factor).abs() < 1e-5,
                "{eval:?} splat {i}: factor {} vs {factor}",
                off[i]
            );
            // Away from the thresholds (rounding decides there), the outputs follow them.
            for (got, value, at, n) in [
                (&culled, alpha, 0.3, &mut n_culled),
                (&cut, factor, 0.5, &mut n_cut),
            ] {
                if value < at - 1e-4 {
                    assert_eq!(got[i], 0.0, "{eval:?} splat {i}: {value} < {at} shown");
                    *n += 1;
                } else if value > at + 1e-4 {
                    assert_eq!(got[i], off[i], "{eval:?} splat {i}: {value} > {at} hidden");
                }
            }
        }
        assert!(n_culled > 100, "only {n_culled} splats below cull");
        assert!(n_cut > 100, "only {n_cut} splats below cutoff");
        assert!(
            (0..splats.len()).any(|i| culled[i] == 0.0 && cut[i] != 0.0),
            "cull and cutoff hid the same splats"
        );
    }
}

#[test]
fn cli_renders_the_same_frame_on_both_paths_and_cull_changes_it() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let dir = scratch("cli");
    let path = dir.join("scene.ply");
    write_stg(&path, &random_stg(&mut Rng::new(9), 800), &[]);
    let mut images = Vec::new();
    for (name, extra) in [
        ("gpu", &["--plugin-eval", "gpu", "--time", "0.3"][..]),
        ("cpu", &["--plugin-eval", "cpu", "--time", "0.3"]),
        ("cull", &["--time", "0.3", "--param", "cull=0.3"]),
    ] {
        let out = dir.join(format!("{name}.exr"));
        let o = cli_render(&path, &out, extra);
        cli::assert_exit(&o, 0);
        let img = vksplat_io::read_exr(&out).unwrap();
        let rgba: Vec<f32> = img.channels.iter().flat_map(|(_, c)| c.clone()).collect();
        images.push(rgba);
    }
    let (max, bad) = compare(&images[0], &images[1], 1e-3, 0.0);
    assert!(bad == 0.0, "--plugin-eval gpu vs cpu: max {max}");
    let (max, _) = compare(&images[0], &images[2], 0.0, 0.0);
    assert!(max > 0.05, "--param cull=0.3 changed nothing ({max})");
}

#[test]
fn bad_files_exit_4_naming_the_plugin_and_the_file() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let dir = scratch("bad");
    let good = random_stg(&mut Rng::new(2), 20);
    let mut cases: Vec<(&str, PathBuf, &str)> = Vec::new();

    let p = dir.join("missing.ply");
    write_stg(&p, &good, &["omega_2", "motion_5"]);
    cases.push(("missing fields", p, "'motion_5', 'omega_2'"));

    let p = dir.join("nan.ply");
    let mut bad = good.clone();
    bad[7].motion[4] = f32::NAN;
    write_stg(&p, &bad, &[]);
    cases.push(("NaN", p, "splat 7: property 'motion_4' is NaN"));

    let p = dir.join("count.ply");
    write_stg(&p, &good, &[]);
    let bytes = std::fs::read(&p).unwrap();
    let text =
        String::from_utf8_lossy(&bytes).replacen("element vertex 20", "element vertex 21", 1);
    let mut lying = text.as_bytes()[..text.find("end_header\n").unwrap() + 11].to_vec();
    let body_at = bytes
        .windows(11)
        .position(|w| w == b"end_header\n")
        .unwrap()
        + 11;
    lying.extend_from_slice(&bytes[body_at..]);
    std::fs::write(&p, lying).unwrap();
    cases.push(("wrong count", p, "truncated"));

    let p = dir.join("static.ply");
    let columns = [("x", &[0f32][..]), ("y", &[0f32]), ("z", &[0f32])];
    vksplat_io::ply::write_columns(&p, &columns, &[]).unwrap();
    cases.push(("no 4D fields", p, "trbf_center"));

    let p = dir.join("cut.splatv");
    write_splatv(&p, &good);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 100]).unwrap();
    cases.push(("truncated .splatv", p, "truncated"));

    let p = dir.join("json.splatv");
    let mut b = bytes.clone();
    b[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&p, b).unwrap();
    cases.push(("huge JSON length", p, "bytes of JSON"));

    let p = dir.join("nan.splatv");
    let mut b = bytes.clone();
    let json_len = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
    let at = 8 + json_len + 3 * 64 + 4 * 9; // splat 3, word 9: motion_2, motion_3
    b[at..at + 2].copy_from_slice(&0x7e00u16.to_le_bytes());
    std::fs::write(&p, b).unwrap();
    cases.push(("NaN in .splatv", p, "splat 3: motion is NaN"));

    let p = dir.join("garbage.bin");
    std::fs::write(&p, b"not a scene at all").unwrap();
    cases.push(("unknown format", p, "not a 4D scene file"));

    assert_bad_files(&dir, &cases);
}

#[test]
fn cli_finds_the_plugin_by_content_and_info_shows_the_time_range() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let dir = scratch("detect");
    let splats = random_stg(&mut Rng::new(4), 300);
    // Names that say nothing: the content decides.
    let ply = dir.join("scene_a.bin");
    let splatv = dir.join("scene_b.bin");
    write_stg(&ply, &splats, &[]);
    write_splatv(&splatv, &splats);
    for path in [&ply, &splatv] {
        cli_info_detected(
            path,
            &["plugin: dynamic4d", "count: 300", "time range: 0 .. 1"],
        );
        let exr = dir.join("detected.exr");
        let mut cmd = cli::command(&[
            "render",
            path.to_str().unwrap(),
            "--plugin-dir",
            detect_dir().to_str().unwrap(),
            "--width",
            "64",
            "--height",
            "48",
            "--time",
            "0.5",
            "-o",
            exr.to_str().unwrap(),
            "--quiet",
        ]);
        let o = cmd.env_remove("VKSPLAT_PLUGIN_PATH").output().unwrap();
        cli::assert_exit(&o, 0);
        let img = vksplat_io::read_exr(&exr).unwrap();
        let a = &img.channels.iter().find(|(n, _)| n == "A").unwrap().1;
        assert!(
            a.iter().filter(|v| **v > 0.3).count() > 100,
            "{}: nothing rendered",
            path.display()
        );
    }
}
