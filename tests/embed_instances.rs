//! Several splat objects in one frame (`Renderer::render_instances`, issue 14 item 4): one
//! global depth order over instances of scenes with a transform and an opacity.
//!
//! - one identity instance is the plain frame bit for bit;
//! - an instance with opacity 0 vanishes (the frame equals the one without it, bit for bit);
//! - two instances whose images do not overlap: every pixel the other object does not touch
//!   equals that object rendered alone, bit for bit;
//! - overlapping, depth-interleaved instances equal the plain render of the concatenated scene
//!   built on the CPU (means, rotations, scales and SH band 1 transformed), within float
//!   tolerance;
//! - bad transforms and opacities are refused naming the instance.

use vksplat_core::{Frame, Instance, RenderSettings, IDENTITY};
use vksplat_io::Splats;
use vksplat_tests::{camera, compare, random_scene, Gpu, Rng};

/// Row-major object → world: uniform `scale`, rotation by `angle` about `axis` (unit), then
/// `t`.
fn transform(axis: [f32; 3], angle: f32, scale: f32, t: [f32; 3]) -> [[f32; 4]; 4] {
    let r = rotation(axis, angle);
    let mut m = IDENTITY;
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = scale * r[i][j];
        }
        m[i][3] = t[i];
    }
    m
}

fn rotation(axis: [f32; 3], angle: f32) -> [[f32; 3]; 3] {
    let (s, c) = angle.sin_cos();
    let [x, y, z] = axis;
    let k = 1.0 - c;
    [
        [c + x * x * k, x * y * k - z * s, x * z * k + y * s],
        [y * x * k + z * s, c + y * y * k, y * z * k - x * s],
        [z * x * k - y * s, z * y * k + x * s, c + z * z * k],
    ]
}

/// The quaternion (w, x, y, z) of a rotation about a unit axis.
fn quat(axis: [f32; 3], angle: f32) -> [f32; 4] {
    let (s, c) = (angle / 2.0).sin_cos();
    [c, axis[0] * s, axis[1] * s, axis[2] * s]
}

fn quat_mul(a: [f32; 4], b: [f32; 4]) -> [f32; 4] {
    let [aw, ax, ay, az] = a;
    let [bw, bx, by, bz] = b;
    [
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ]
}

/// `s` placed by (axis, angle, scale, t) and faded by `opacity`, on the CPU: the splats an
/// instance with that transform must render like. SH up to band 1 (band 1 is linear in the
/// view direction, so rotating it is rotating a vector per channel).
fn placed(s: &Splats, axis: [f32; 3], angle: f32, scale: f32, t: [f32; 3], opacity: f32) -> Splats {
    assert!(s.sh_degree <= 1);
    let r = rotation(axis, angle);
    let q = quat(axis, angle);
    let k = ((s.sh_degree + 1) * (s.sh_degree + 1)) as usize;
    let mut out = s.clone();
    for i in 0..s.len() {
        let m = s.means[i];
        out.means[i] =
            [0, 1, 2].map(|a| scale * (0..3).map(|b| r[a][b] * m[b]).sum::<f32>() + t[a]);
        out.rotations[i] = quat_mul(q, s.rotations[i]);
        out.log_scales[i] = s.log_scales[i].map(|v| v + scale.ln());
        let o = 1.0 / (1.0 + (-s.opacity_logits[i]).exp()) * opacity;
        out.opacity_logits[i] = (o / (1.0 - o)).ln();
        if k == 4 {
            for c in 0..3 {
                let at = |kk: usize| (i * k + kk) * 3 + c;
                // colour = C1 · dot(dir, v) with v = (−k3, −k1, k2) (the SH band-1 basis).
                let v = [-s.sh[at(3)], -s.sh[at(1)], s.sh[at(2)]];
                let w = [0, 1, 2].map(|a| (0..3).map(|b| r[a][b] * v[b]).sum::<f32>());
                out.sh[at(3)] = -w[0];
                out.sh[at(1)] = -w[1];
                out.sh[at(2)] = w[2];
            }
        }
    }
    out
}

fn concat(a: &Splats, b: &Splats) -> Splats {
    let mut s = a.clone();
    s.means.extend(&b.means);
    s.rotations.extend(&b.rotations);
    s.log_scales.extend(&b.log_scales);
    s.opacity_logits.extend(&b.opacity_logits);
    s.sh.extend(&b.sh);
    s
}

fn assert_same(a: &Frame, b: &Frame, what: &str) {
    assert!(
        a.rgba
            .iter()
            .zip(&b.rgba)
            .all(|(x, y)| x.to_bits() == y.to_bits())
            && a.depth
                .iter()
                .zip(&b.depth)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
        "{what}: not bit-identical"
    );
}

fn settings() -> RenderSettings {
    RenderSettings {
        background: [0.1, 0.2, 0.3],
        ..Default::default()
    }
}

#[test]
fn one_identity_instance_is_the_plain_frame() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = random_scene(&mut Rng::new(41), 2500, 3);
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let cam = camera(160, 120, 140.0, 140.0, 79.5, 61.0);
    for mode in vksplat_core::RenderMode::ALL {
        let s = RenderSettings { mode, ..settings() };
        let (plain, _) = gpu.renderer.render(&scene, &cam, &s).unwrap();
        let (inst, stats) = gpu
            .renderer
            .render_instances(&[Instance::of(&scene)], &cam, &s)
            .unwrap();
        assert!(stats.visible_splats > 500, "{mode:?}: {stats:?}");
        assert_same(&plain, &inst, &format!("{mode:?}"));
    }
}

#[test]
fn an_instance_with_opacity_zero_vanishes() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = random_scene(&mut Rng::new(42), 1500, 2);
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let cam = camera(128, 96, 110.0, 110.0, 64.0, 48.0);
    let a = Instance {
        scene: &scene,
        transform: transform([0.0, 1.0, 0.0], 0.3, 1.1, [0.2, 0.0, 0.5]),
        opacity: 1.0,
    };
    let hidden = Instance {
        transform: transform([1.0, 0.0, 0.0], -0.2, 0.9, [-0.3, 0.1, 0.2]),
        opacity: 0.0,
        ..a
    };
    let r = &mut gpu.renderer;
    let (alone, _) = r.render_instances(&[a], &cam, &settings()).unwrap();
    // Before and after: the hidden one shifts the visible one's splat indices.
    let (after, _) = r.render_instances(&[a, hidden], &cam, &settings()).unwrap();
    let (before, _) = r.render_instances(&[hidden, a], &cam, &settings()).unwrap();
    assert_same(&alone, &after, "hidden instance after");
    assert_same(&alone, &before, "hidden instance before");
    // And the same instance at full opacity does show.
    let shown = Instance {
        opacity: 1.0,
        ..hidden
    };
    let (both, _) = r.render_instances(&[a, shown], &cam, &settings()).unwrap();
    let (max, _) = compare(&both.rgba, &alone.rgba, 0.0, 0.0);
    assert!(max > 0.1, "the second instance had no effect ({max})");
}

/// A compact object around the origin (radius about 0.35).
fn blob(rng: &mut Rng, n: usize, sh_degree: u32) -> Splats {
    let mut s = random_scene(rng, n, sh_degree);
    for m in &mut s.means {
        *m = [0.0; 3].map(|_| rng.range(-0.25, 0.25));
    }
    s
}

#[test]
fn separate_objects_are_their_own_renders_where_they_do_not_overlap() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = blob(&mut Rng::new(43), 1200, 2);
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let cam = camera(192, 96, 100.0, 100.0, 96.0, 48.0);
    let left = Instance {
        scene: &scene,
        transform: transform([0.0, 0.0, 1.0], 0.7, 1.0, [-1.1, 0.0, 2.5]),
        opacity: 1.0,
    };
    let right = Instance {
        transform: transform([0.6, 0.8, 0.0], -1.1, 1.3, [1.3, 0.1, 3.5]),
        opacity: 0.8,
        ..left
    };
    let r = &mut gpu.renderer;
    let (l, _) = r.render_instances(&[left], &cam, &settings()).unwrap();
    let (rr, _) = r.render_instances(&[right], &cam, &settings()).unwrap();
    let (both, _) = r
        .render_instances(&[left, right], &cam, &settings())
        .unwrap();
    let (mut shown, mut overlap) = ([0usize; 2], 0usize);
    for p in 0..(cam.width * cam.height) as usize {
        let (la, ra) = (l.rgba[p * 4 + 3], rr.rgba[p * 4 + 3]);
        if la != 0.0 && ra != 0.0 {
            overlap += 1;
            continue;
        }
        // Where one object is absent, the joint frame is the other's own frame.
        let own = if ra == 0.0 { &l } else { &rr };
        for c in 0..4 {
            assert_eq!(
                both.rgba[p * 4 + c].to_bits(),
                own.rgba[p * 4 + c].to_bits(),
                "pixel {p} channel {c}"
            );
        }
        assert_eq!(both.depth[p].to_bits(), own.depth[p].to_bits(), "depth {p}");
        shown[0] += usize::from(la > 0.5);
        shown[1] += usize::from(ra > 0.5);
    }
    assert!(
        shown[0] > 200 && shown[1] > 200,
        "objects too small: {shown:?}"
    );
    // Only the faint tails of a few large splats may meet.
    assert!(overlap < 200, "{overlap} pixels see both objects");
}

#[test]
fn interleaved_instances_equal_the_concatenated_scene() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = random_scene(&mut Rng::new(44), 2000, 1);
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let cam = camera(160, 120, 130.0, 130.0, 80.0, 60.0);
    let ax = [0.0, 0.6, 0.8];
    let bx = [1.0, 0.0, 0.0];
    let a = Instance {
        scene: &scene,
        transform: transform(ax, 0.35, 1.2, [0.3, -0.2, 0.8]),
        opacity: 1.0,
    };
    let b = Instance {
        transform: transform(bx, -0.25, 0.8, [-0.4, 0.15, 1.5]),
        opacity: 0.7,
        ..a
    };
    let joint = concat(
        &placed(&splats, ax, 0.35, 1.2, [0.3, -0.2, 0.8], 1.0),
        &placed(&splats, bx, -0.25, 0.8, [-0.4, 0.15, 1.5], 0.7),
    );
    let joint_scene = gpu.renderer.upload_scene(&joint).unwrap();
    for mode in [
        vksplat_core::RenderMode::Classic,
        vksplat_core::RenderMode::Antialiased,
    ] {
        let s = RenderSettings { mode, ..settings() };
        let (inst, stats) = gpu.renderer.render_instances(&[a, b], &cam, &s).unwrap();
        let (want, want_stats) = gpu.renderer.render(&joint_scene, &cam, &s).unwrap();
        assert!(stats.visible_splats > 1000, "{stats:?}");
        // Opacities near the 1/255 cut may round to the other side on the CPU path.
        let dv = stats.visible_splats.abs_diff(want_stats.visible_splats);
        assert!(dv <= 2, "{mode:?}: {stats:?} vs {want_stats:?}");
        let (max, bad) = compare(&inst.rgba, &want.rgba, 2e-4, 2e-3);
        assert!(
            bad < 2e-3,
            "{mode:?}: {bad} of the values differ, max {max}"
        );
        let (dmax, dbad) = compare(&inst.depth, &want.depth, 1e-4, 1e-3);
        assert!(dbad < 2e-3, "{mode:?} depth: {dbad} differ, max {dmax}");
        // The objects do interleave: each alone differs from the pair.
        let (alone, _) = gpu.renderer.render_instances(&[a], &cam, &s).unwrap();
        let (diff, _) = compare(&inst.rgba, &alone.rgba, 0.0, 0.0);
        assert!(
            diff > 0.1,
            "{mode:?}: the second object changed nothing ({diff})"
        );
    }
}

#[test]
fn bad_instances_are_refused_naming_them() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = random_scene(&mut Rng::new(45), 50, 0);
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let cam = camera(32, 32, 30.0, 30.0, 16.0, 16.0);
    let ok = Instance::of(&scene);
    let mut projective = ok;
    projective.transform[3] = [0.0, 0.0, 0.5, 1.0];
    let mut singular = ok;
    singular.transform[2] = [0.0, 0.0, 0.0, 1.0];
    let mut nan = ok;
    nan.transform[0][3] = f32::NAN;
    let cases = [
        (Instance { opacity: 1.5, ..ok }, "opacity 1.5"),
        (
            Instance {
                opacity: f32::NAN,
                ..ok
            },
            "opacity NaN",
        ),
        (projective, "last row"),
        (singular, "not invertible"),
        (nan, "non-finite"),
    ];
    for (bad, want) in cases {
        let e = gpu
            .renderer
            .render_instances(&[ok, bad], &cam, &settings())
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("instance 1") && msg.contains(want), "{msg}");
    }
    let e = gpu
        .renderer
        .render_instances(&[], &cam, &settings())
        .unwrap_err();
    assert!(e.to_string().contains("at least one instance"), "{e}");
}
