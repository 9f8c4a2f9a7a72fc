//! The `dynamic4d` plugin on native 4D Gaussian PLYs (Yang et al.; field names of
//! bevy_gaussian_splatting, values as the README's "Deformable 4D scenes" documents). Files
//! are written here with vksplat-io's column writer; every expected value is computed here in
//! f64 from the reference's formulas, with Σ₄ transcribed from its CUDA kernel (the plugin
//! uses the Python form; the plugin's unit tests pin that both agree): a blob on a tilted
//! world line moves at the analytic velocity, a frame equals a static PLY baked at its time
//! (conditional covariance by eigen-decomposition, time-harmonic SH folded), the GPU and CPU
//! paths agree, the temporal cutoff hides what the reference hides, the time range comes from
//! the file, and bad files exit with code 4 naming the plugin and the file.

#[path = "plugin_support.rs"]
mod plugin_support;

#[path = "dynamic4d_support.rs"]
mod dynamic4d_support;

use std::path::{Path, PathBuf};

use dynamic4d_support::*;
use glam::{DMat3, DQuat, DVec3};
use vksplat_io::Splats;
use vksplat_plugin_host::{EvalPath, Scene, VariantScene};
use vksplat_tests::{compare, Gpu, Rng};

/// One splat as the file stores it.
#[derive(Clone, Debug)]
struct Y {
    mean: [f32; 3],
    t: f32,
    /// Activated scales sx, sy, sz, st.
    s: [f32; 4],
    opacity: f32,
    ql: [f32; 4],
    qr: [f32; 4],
    /// `[k·3 + c]`.
    feat: Vec<f32>,
}

fn scalar_fields() -> Vec<&'static str> {
    vec![
        "x", "y", "z", "t", "st", "sx", "sy", "sz", "opacity", "rot_x", "rot_y", "rot_z", "rot_w",
        "rot_r_x", "rot_r_y", "rot_r_z", "rot_r_w",
    ]
}

fn scalar(y: &Y, name: &str) -> f32 {
    match name {
        "x" => y.mean[0],
        "y" => y.mean[1],
        "z" => y.mean[2],
        "t" => y.t,
        "sx" => y.s[0],
        "sy" => y.s[1],
        "sz" => y.s[2],
        "st" => y.s[3],
        "opacity" => y.opacity,
        "rot_x" => y.ql[0],
        "rot_y" => y.ql[1],
        "rot_z" => y.ql[2],
        "rot_w" => y.ql[3],
        "rot_r_x" => y.qr[0],
        "rot_r_y" => y.qr[1],
        "rot_r_z" => y.qr[2],
        "rot_r_w" => y.qr[3],
        n => panic!("no field {n}"),
    }
}

/// Writes a native 4D Gaussian PLY (SH as `feat_{r,g,b}_k`), without the properties in `skip`.
fn write_yang(path: &Path, splats: &[Y], comments: &[&str], skip: &[&str]) {
    let coeffs = splats[0].feat.len() / 3;
    let mut names: Vec<String> = scalar_fields().into_iter().map(String::from).collect();
    for c in ["r", "g", "b"] {
        names.extend((0..coeffs).map(|k| format!("feat_{c}_{k}")));
    }
    names.retain(|n| !skip.contains(&n.as_str()));
    let cols: Vec<Vec<f32>> = names
        .iter()
        .map(|n| {
            splats
                .iter()
                .map(|y| match n.strip_prefix("feat_") {
                    Some(rest) => {
                        let c = "rgb".find(&rest[..1]).unwrap();
                        let k: usize = rest[2..].parse().unwrap();
                        y.feat[3 * k + c]
                    }
                    None => scalar(y, n),
                })
                .collect()
        })
        .collect();
    let columns: Vec<(&str, &[f32])> = names
        .iter()
        .zip(&cols)
        .map(|(n, c)| (n.as_str(), &c[..]))
        .collect();
    vksplat_io::ply::write_columns(path, &columns, comments).unwrap();
}

type M4 = [[f64; 4]; 4];

fn mul4(a: &M4, b: &M4) -> M4 {
    std::array::from_fn(|r| std::array::from_fn(|c| (0..4).map(|k| a[r][k] * b[k][c]).sum()))
}

/// Σ₄ as the reference's CUDA kernel builds it: glm matrices (column-major lists) M_l, M_r of
/// the normalised quaternions, R = M_r·M_l, M = S·R, Σ = MᵀM.
fn sigma4(y: &Y) -> M4 {
    let unit = |q: [f32; 4]| {
        let q = q.map(f64::from);
        let n = q.iter().map(|v| v * v).sum::<f64>().sqrt();
        q.map(|v| v / n)
    };
    let [a, b, c, d] = unit(y.ql);
    let [p, q, r, s] = unit(y.qr);
    let glm =
        |v: [f64; 16]| -> M4 { std::array::from_fn(|i| std::array::from_fn(|j| v[4 * j + i])) };
    let ml = glm([a, b, -c, d, -b, a, d, c, c, -d, a, b, -d, -c, -b, a]);
    let mr = glm([p, q, -r, -s, -q, p, s, -r, r, -s, p, -q, s, r, q, p]);
    let rot = mul4(&mr, &ml);
    let sc = y.s.map(f64::from);
    let m: M4 = std::array::from_fn(|i| std::array::from_fn(|j| sc[i] * rot[i][j]));
    let mt: M4 = std::array::from_fn(|i| std::array::from_fn(|j| m[j][i]));
    mul4(&mt, &m)
}

/// Splat `y` at time t by the reference's formulas: mean, conditional covariance, temporal
/// marginal p(t).
fn at_time(y: &Y, t: f64) -> ([f64; 3], DMat3, f64) {
    let s = sigma4(y);
    let var_t = s[3][3];
    let dt = t - f64::from(y.t);
    let p = (-0.5 * dt * dt / var_t).exp();
    let mean = std::array::from_fn(|a| f64::from(y.mean[a]) + s[a][3] / var_t * dt);
    let cov = DMat3::from_cols_array_2d(&std::array::from_fn(|i| {
        std::array::from_fn(|j| s[i][j] - s[i][3] * s[j][3] / var_t)
    }));
    (mean, cov, p)
}

/// Eigen-decomposition of a symmetric 3×3 matrix by Jacobi rotations: (eigenvectors as the
/// columns of a rotation, eigenvalues).
fn eigen(m: DMat3) -> (DMat3, [f64; 3]) {
    let mut a = m.to_cols_array_2d();
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..50 {
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q].abs() < 1e-300 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            for row in &mut a {
                let (akp, akq) = (row[p], row[q]);
                row[p] = c * akp - s * akq;
                row[q] = s * akp + c * akq;
            }
            let (rp, rq) = (a[p], a[q]);
            a[p] = std::array::from_fn(|k| c * rp[k] - s * rq[k]);
            a[q] = std::array::from_fn(|k| s * rp[k] + c * rq[k]);
            for row in &mut v {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    // v holds the eigenvectors as columns (row-major here): make it a proper rotation.
    let mut r = DMat3::from_cols(
        DVec3::new(v[0][0], v[1][0], v[2][0]),
        DVec3::new(v[0][1], v[1][1], v[2][1]),
        DVec3::new(v[0][2], v[1][2], v[2][2]),
    );
    if r.determinant() < 0.0 {
        r.z_axis = -r.z_axis;
    }
    (r, [a[0][0], a[1][1], a[2][2]])
}

/// The static scene of `splats` at time t (T = `duration`): positions, conditional
/// covariances as rotation + scale, opacity σ⁻¹(opacity·p), SH with the time bands folded;
/// splats the reference hides (p ≤ 0.05) left out.
fn bake(splats: &[Y], t: f64, duration: f64) -> Splats {
    let coeffs = splats[0].feat.len() / 3;
    let k = coeffs.min(16);
    let mut out = Splats {
        sh_degree: (k as f64).sqrt() as u32 - 1,
        ..Default::default()
    };
    for y in splats {
        let (mean, cov, p) = at_time(y, t);
        if p <= 0.05 {
            continue;
        }
        let (r, lambda) = eigen(cov);
        // Check the decomposition before trusting it.
        let back = r * DMat3::from_diagonal(DVec3::from(lambda)) * r.transpose();
        assert!(back.abs_diff_eq(cov, 1e-12 * cov.to_cols_array()[0].abs().max(1e-6)));
        let q = DQuat::from_mat3(&r).normalize();
        out.means.push(mean.map(|v| v as f32));
        out.rotations
            .push([q.w as f32, q.x as f32, q.y as f32, q.z as f32]);
        out.log_scales
            .push(lambda.map(|l| (0.5 * l.max(1e-30).ln()) as f32));
        let alpha = f64::from(y.opacity) * p;
        out.opacity_logits.push((alpha / (1.0 - alpha)).ln() as f32);
        let x = (f64::from(y.t) - t) / duration;
        let w = std::f64::consts::TAU * x;
        for j in 0..k {
            for c in 0..3 {
                let f = |kk: usize| f64::from(y.feat[3 * kk + c]);
                let mut v = f(j);
                if coeffs > 16 {
                    v += w.cos() * f(16 + j);
                }
                if coeffs > 32 {
                    v += (2.0 * w).cos() * f(32 + j);
                }
                out.sh.push(v as f32);
            }
        }
    }
    out
}

/// A unit quaternion near identity (moderate mixing of space and time).
fn near_identity(rng: &mut Rng, spread: f32) -> [f32; 4] {
    let q = [
        1.0,
        rng.range(-spread, spread),
        rng.range(-spread, spread),
        rng.range(-spread, spread),
    ];
    let n = q.iter().map(|v| v * v).sum::<f32>().sqrt();
    q.map(|v| v / n)
}

/// `n` random splats in view of [`cam`] over t ∈ [0, 1] with `coeffs` SH coefficients.
fn random_yang(rng: &mut Rng, n: usize, coeffs: usize) -> Vec<Y> {
    (0..n)
        .map(|_| Y {
            mean: [
                rng.range(-0.8, 0.8),
                rng.range(-0.8, 0.8),
                rng.range(-0.5, 0.5),
            ],
            t: rng.range(0.0, 1.0),
            s: [
                rng.range(-4.0, -2.8).exp(),
                rng.range(-4.0, -2.8).exp(),
                rng.range(-4.0, -2.8).exp(),
                rng.range(-1.5, 0.0).exp(),
            ],
            opacity: rng.range(0.2, 0.99),
            ql: near_identity(rng, 0.4),
            qr: near_identity(rng, 0.4),
            feat: (0..3 * coeffs)
                .map(|i| {
                    if i < 3 {
                        rng.range(-1.2, 1.2)
                    } else {
                        rng.range(-0.3, 0.3)
                    }
                })
                .collect(),
        })
        .collect()
}

fn hamilton(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    ]
}

#[test]
fn a_blob_on_a_tilted_world_line_moves_at_the_analytic_velocity() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = scratch("yang-path");
    // A Gaussian thin in x and long in t, tilted by θ in the x–t plane, then turned in space
    // by u: its slices move along u·x̂ at v = cos θ sin θ (st² − sx²)/(sin²θ sx² + cos²θ st²).
    // In the reference's quaternion pair, the x–t tilt is (cos θ/2, 0, 0, ±sin θ/2) and a
    // spatial turn u = (w, x, y, z) is (w, −z, −y, −x) on both sides; pairs compose by
    // quaternion products.
    let theta = 0.6f64;
    let (sx, st) = (0.03f64, 2.0f64);
    let u = DQuat::from_euler(glam::EulerRot::ZYX, 0.5, 0.3, 0.0);
    let spatial = [u.w, -u.z, -u.y, -u.x];
    let (h, c) = ((theta / 2.0).sin(), (theta / 2.0).cos());
    let ql = hamilton(spatial, [c, 0.0, 0.0, h]);
    let qr = hamilton(spatial, [c, 0.0, 0.0, -h]);
    let (ct, sn) = (theta.cos(), theta.sin());
    let speed = ct * sn * (st * st - sx * sx) / (sn * sn * sx * sx + ct * ct * st * st);
    let dir_world = u * DVec3::X;
    let blob = Y {
        mean: [-0.3, 0.1, 0.1],
        t: 0.4,
        s: [sx as f32, 0.03, 0.03, st as f32],
        opacity: 0.99,
        ql: ql.map(|v| v as f32),
        qr: qr.map(|v| v as f32),
        feat: vec![1.5, 1.2, 0.6],
    };
    let path = dir.join("blob.ply");
    write_yang(&path, std::slice::from_ref(&blob), &["time_range 0 1"], &[]);
    let cm = cam(128, 128);
    for eval in [EvalPath::Gpu, EvalPath::Cpu] {
        let mut scene = Scene::open_variant(&gpu.renderer, open(&path, &[]), eval).unwrap();
        let mut travelled = 0.0f64;
        let mut last: Option<[f64; 2]> = None;
        for k in 0..10 {
            let t = k as f64 / 9.0;
            let frame = scene
                .render(&mut gpu.renderer, &cm, &settings(), t)
                .unwrap()
                .0;
            let (got, w) = centroid(&frame, 128);
            assert!(w > 5.0, "{eval:?} t={t}: the blob is missing ({w})");
            let m = DVec3::from(blob.mean.map(f64::from)) + dir_world * speed * (t - 0.4);
            let want = project(&cm, m.to_array());
            let err = (got[0] - want[0]).hypot(got[1] - want[1]);
            assert!(
                err < 0.5,
                "{eval:?} t={t}: centroid {got:?}, analytic {want:?} ({err} px)"
            );
            // The same path from the Σ₄ transcription (of the f32 quaternions in the file).
            let (m4, _, _) = at_time(&blob, t);
            assert!(m.abs_diff_eq(DVec3::from(m4), 1e-6), "{m:?} vs {m4:?}");
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
    let dir = scratch("yang-bake");
    let splats = random_yang(&mut Rng::new(17), 3000, 48);
    let path = dir.join("scene.ply");
    write_yang(&path, &splats, &["time_range 0 2"], &[]);
    let c = cam(160, 120);
    for eval in [EvalPath::Gpu, EvalPath::Cpu] {
        for t in [0.0, 0.37, 1.0] {
            let got = render_file(&mut gpu, &path, eval, &[], &c, t);
            let want = render_static(&mut gpu, &bake(&splats, t, 2.0), &c);
            let n = covered(&want);
            assert!(n > 2000, "t={t}: only {n} pixels covered");
            let (max, mean) = diff(&got, &want);
            assert!(
                max <= 2.0 / 255.0 && mean <= 1e-4,
                "{eval:?} t={t}: max {max}, mean {mean} against the baked scene"
            );
        }
    }
    // `duration` overrides the file's span: T = 0.5 folds other colours.
    let got = render_file(
        &mut gpu,
        &path,
        EvalPath::Gpu,
        &[("duration", "0.5")],
        &c,
        0.37,
    );
    let want = render_static(&mut gpu, &bake(&splats, 0.37, 0.5), &c);
    let (max, mean) = diff(&got, &want);
    assert!(
        max <= 2.0 / 255.0 && mean <= 1e-4,
        "duration=0.5: max {max}, mean {mean}"
    );
    let other = render_static(&mut gpu, &bake(&splats, 0.37, 2.0), &c);
    assert!(diff(&got, &other).0 > 0.05, "duration changed nothing");
}

#[test]
fn gpu_and_cpu_paths_agree_and_the_cutoff_follows_the_marginal() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = scratch("yang-paths");
    let splats = random_yang(&mut Rng::new(23), 2000, 48);
    let path = dir.join("scene.ply");
    write_yang(&path, &splats, &[], &[]);
    let c = cam(128, 96);
    let mut on_gpu = VariantScene::new(&gpu.renderer, open(&path, &[]), EvalPath::Gpu).unwrap();
    let mut on_cpu = VariantScene::new(&gpu.renderer, open(&path, &[]), EvalPath::Cpu).unwrap();
    let mut hidden = 0;
    for t in [0.0, 0.5, 0.9, 1.7, -0.4] {
        on_gpu.evaluate(&gpu.renderer, t).unwrap();
        on_cpu.evaluate(&gpu.renderer, t).unwrap();
        let g = on_gpu.download_outputs(&gpu.renderer).unwrap();
        let h = on_cpu.download_outputs(&gpu.renderer).unwrap();
        for (what, a, b) in [
            ("means", &g.means, &h.means),
            ("opacity_scale", &g.opacity_scale, &h.opacity_scale),
            ("sh", &g.sh, &h.sh),
        ] {
            let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
            let (max, bad) = compare(a, b, 1e-5, 1e-5);
            assert!(bad == 0.0, "t={t} {what}: GPU vs CPU max {max}");
        }
        // The opacity multiplier is p(t), 0 where the reference hides the splat.
        let scale = g.opacity_scale.as_ref().unwrap();
        for (i, y) in splats.iter().enumerate() {
            let (_, _, p) = at_time(y, t);
            if p < 0.0499 {
                assert_eq!(scale[i], 0.0, "t={t} splat {i}: p {p} not hidden");
                hidden += 1;
            } else if p > 0.0501 {
                assert!(
                    (f64::from(scale[i]) - p).abs() < 1e-5,
                    "t={t} splat {i}: {} vs p {p}",
                    scale[i]
                );
            }
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
    assert!(hidden > 100, "only {hidden} splats below the cutoff");
    // cutoff=0 shows them all; small time steps change the image little.
    let mut all = VariantScene::new(
        &gpu.renderer,
        open(&path, &[("cutoff", "0")]),
        EvalPath::Gpu,
    )
    .unwrap();
    all.evaluate(&gpu.renderer, 1.7).unwrap();
    let scale = all
        .download_outputs(&gpu.renderer)
        .unwrap()
        .opacity_scale
        .unwrap();
    assert!(scale.iter().filter(|&&s| s > 0.0).count() > splats.len() * 9 / 10);
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
fn the_time_range_comes_from_the_file() {
    let Some(gpu) = Gpu::new() else { return };
    let dir = scratch("yang-range");
    let mut splats = random_yang(&mut Rng::new(5), 50, 16);
    splats[3].t = -0.25;
    splats[9].t = 1.5;
    let with = dir.join("with.ply");
    let without = dir.join("without.ply");
    write_yang(&with, &splats, &["time_range -1 2.5"], &[]);
    write_yang(&without, &splats, &[], &[]);
    let range = |p: &Path| {
        Scene::open_variant(&gpu.renderer, open(p, &[]), EvalPath::Cpu)
            .unwrap()
            .time_range()
    };
    assert_eq!(range(&with), Some((-1.0, 2.5)));
    assert_eq!(range(&without), Some((-0.25, 1.5)));
}

#[test]
fn bad_files_exit_4_naming_the_plugin_and_the_file() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let dir = scratch("yang-bad");
    let good = random_yang(&mut Rng::new(2), 20, 16);
    let mut cases: Vec<(&str, PathBuf, &str)> = Vec::new();
    let mut case = |what: &'static str,
                    name: &str,
                    splats: &[Y],
                    comments: &[&str],
                    skip: &[&str],
                    expect: &'static str| {
        let p = dir.join(name);
        write_yang(&p, splats, comments, skip);
        cases.push((what, p, expect));
    };
    case(
        "missing fields",
        "missing.ply",
        &good,
        &[],
        &["sx", "rot_r_z"],
        "'sx', 'rot_r_z'",
    );
    let mut bad = good.clone();
    bad[7].s[1] = f32::NAN;
    case(
        "NaN",
        "nan.ply",
        &bad,
        &[],
        &[],
        "splat 7: property 'sy' is NaN",
    );
    let mut bad = good.clone();
    bad[4].s[0] = -3.2;
    case(
        "log scale",
        "log.ply",
        &bad,
        &[],
        &[],
        "splat 4: property 'sx' is -3.2",
    );
    let mut bad = good.clone();
    bad[2].opacity = 2.5;
    case(
        "logit opacity",
        "logit.ply",
        &bad,
        &[],
        &[],
        "activated opacity",
    );
    let mut bad = good.clone();
    bad[5].qr = [0.0; 4];
    case(
        "zero quaternion",
        "zero.ply",
        &bad,
        &[],
        &[],
        "splat 5: quaternion rot_r_x..rot_r_w is zero",
    );
    case(
        "uneven SH",
        "sh.ply",
        &good,
        &[],
        &["feat_g_15"],
        "feat_r_15",
    );
    case(
        "bad time range",
        "range.ply",
        &good,
        &["time_range 2 1"],
        &[],
        "time_range",
    );
    let p = dir.join("count.ply");
    write_yang(&p, &good, &[], &[]);
    let bytes = std::fs::read(&p).unwrap();
    let body_at = bytes
        .windows(11)
        .position(|w| w == b"end_header\n")
        .unwrap()
        + 11;
    let head = String::from_utf8_lossy(&bytes[..body_at]).replacen(
        "element vertex 20",
        "element vertex 21",
        1,
    );
    let mut lying = head.into_bytes();
    lying.extend_from_slice(&bytes[body_at..]);
    std::fs::write(&p, lying).unwrap();
    cases.push(("wrong count", p, "truncated"));
    assert_bad_files(&dir, &cases);
}

#[test]
fn vksplat_info_finds_the_file_by_content() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let dir = scratch("yang-detect");
    let path = dir.join("scene.bin");
    write_yang(
        &path,
        &random_yang(&mut Rng::new(6), 30, 48),
        &["time_range -1 2.5"],
        &[],
    );
    cli_info_detected(
        &path,
        &["plugin: dynamic4d", "count: 30", "time range: -1 .. 2.5"],
    );
}

/// Whether python3 can import numpy; under `VKSPLAT_REQUIRE_GPU=1` (CI) it must.
fn python_numpy() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    let required = std::env::var("VKSPLAT_REQUIRE_GPU").is_ok_and(|v| v == "1");
    assert!(
        ok || !required,
        "python3 with numpy is needed to test tools/yang4d_to_ply.py (tools/setup.sh installs it)"
    );
    if !ok {
        eprintln!("NOT TESTED: python3 with numpy is not installed");
    }
    ok
}

#[test]
fn the_checkpoint_converter_writes_what_the_plugin_reads() {
    if !python_numpy() {
        return;
    }
    let Some(gpu) = Gpu::new() else { return };
    let dir = scratch("yang-converter");
    let tool = plugin_support::root().join("tools/yang4d_to_ply.py");
    // Raw checkpoint arrays (as capture() holds them) into raw.npz, and the tool's writer on
    // them: a rot_4d model with 48 coefficients and a 3D-rotation model with 16.
    let script = r#"
import importlib.util, sys
import numpy as np
spec = importlib.util.spec_from_file_location("conv", sys.argv[1])
conv = importlib.util.module_from_spec(spec); spec.loader.exec_module(conv)
out = sys.argv[2]
rng = np.random.default_rng(5)
n = 40
raw = dict(xyz=rng.uniform(-0.5, 0.5, (n, 3)), t=rng.uniform(0, 1, (n, 1)),
           scaling=rng.uniform(-4, -2.5, (n, 3)), scaling_t=rng.uniform(-2, 0, (n, 1)),
           rotation=rng.normal(size=(n, 4)), rotation_r=rng.normal(size=(n, 4)),
           opacity=rng.normal(size=(n, 1)), features=rng.normal(size=(n, 48, 3)))
raw = {k: v.astype(np.float32) for k, v in raw.items()}
np.savez(out + "/raw.npz", **raw)
conv.write_ply(out + "/rot4d.ply", time_range=(0, 10), **raw)
raw3 = dict(raw, features=raw["features"][:, :16])
conv.write_ply(out + "/rot3d.ply", time_range=(-1, 1), rot_4d=False, **raw3)
"#;
    let o = std::process::Command::new("python3")
        .args(["-c", script, tool.to_str().unwrap(), dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let npz = vksplat_io::numpy::Npz::open(&dir.join("raw.npz")).unwrap();
    let raw = |name: &str| npz.read(name).unwrap().data;
    let (xyz, t, sc, sct) = (raw("xyz"), raw("t"), raw("scaling"), raw("scaling_t"));
    let (rl, rr, op, feat) = (
        raw("rotation"),
        raw("rotation_r"),
        raw("opacity"),
        raw("features"),
    );
    let n = 40;
    let close = |a: f32, b: f64, what: &str| {
        assert!(
            (f64::from(a) - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        );
    };
    let unit = |q: &[f32]| {
        let q: Vec<f64> = q.iter().map(|&v| f64::from(v)).collect();
        let l = q.iter().map(|v| v * v).sum::<f64>().sqrt();
        q.iter().map(|v| v / l).collect::<Vec<f64>>()
    };
    for (file, rot_4d, coeffs, range) in [
        ("rot4d.ply", true, 48, "0.0 10.0"),
        ("rot3d.ply", false, 16, "-1.0 1.0"),
    ] {
        let path = dir.join(file);
        let mut names: Vec<String> = scalar_fields().into_iter().map(String::from).collect();
        for c in ["r", "g", "b"] {
            names.extend((0..coeffs).map(|k| format!("feat_{c}_{k}")));
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let cols = vksplat_io::ply::read_columns(&path, &refs).unwrap();
        assert_eq!(cols.comments, [format!("time_range {range}")]);
        let col = |name: &str| cols.get(name).unwrap();
        for i in 0..n {
            for (a, name) in ["x", "y", "z"].iter().enumerate() {
                close(col(name)[i], f64::from(xyz[3 * i + a]), name);
            }
            close(col("t")[i], f64::from(t[i]), "t");
            for (a, name) in ["sx", "sy", "sz"].iter().enumerate() {
                close(col(name)[i], f64::from(sc[3 * i + a]).exp(), name);
            }
            let var_t = f64::from(sct[i]).exp();
            close(
                col("st")[i],
                if rot_4d { var_t } else { var_t.sqrt() },
                "st",
            );
            close(
                col("opacity")[i],
                1.0 / (1.0 + (-f64::from(op[i])).exp()),
                "opacity",
            );
            let l = unit(&rl[4 * i..4 * i + 4]);
            let (want_l, want_r) = if rot_4d {
                (l.clone(), unit(&rr[4 * i..4 * i + 4]))
            } else {
                let u = vec![l[0], -l[3], -l[2], -l[1]];
                (u.clone(), u)
            };
            for (k, c) in ["x", "y", "z", "w"].iter().enumerate() {
                close(col(&format!("rot_{c}"))[i], want_l[k], "rot_l");
                close(col(&format!("rot_r_{c}"))[i], want_r[k], "rot_r");
            }
            for k in 0..coeffs {
                for (c, ch) in ["r", "g", "b"].iter().enumerate() {
                    let want = f64::from(feat[(i * 48 + k) * 3 + c]);
                    close(col(&format!("feat_{ch}_{k}"))[i], want, "feat");
                }
            }
        }
        // The plugin opens it; a 3D-rotation model does not move and fades as e^{-dt²/2e^raw}.
        let mut v = VariantScene::new(
            &gpu.renderer,
            open(&path, &[("cutoff", "0")]),
            EvalPath::Cpu,
        )
        .unwrap();
        v.evaluate(&gpu.renderer, 0.3).unwrap();
        if !rot_4d {
            let out = v.download_outputs(&gpu.renderer).unwrap();
            let (means, scale) = (out.means.unwrap(), out.opacity_scale.unwrap());
            for i in 0..n {
                for a in 0..3 {
                    close(means[3 * i + a], f64::from(xyz[3 * i + a]), "mean");
                }
                let dt = 0.3 - f64::from(t[i]);
                let p = (-0.5 * dt * dt / f64::from(sct[i]).exp()).exp();
                assert!(
                    (f64::from(scale[i]) - p).abs() < 1e-5,
                    "{i}: {} vs {p}",
                    scale[i]
                );
            }
        }
    }
}
