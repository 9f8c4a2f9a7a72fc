//! The `skinned` plugin (avatar splats on glTF skins): rigid segments stay rigid, sampled
//! centres follow the skinned surface, exact and polar modes, GPU and CPU paths, host bones
//! against the animation's, and broken skins failing with exit code 4.

#[path = "plugin_support.rs"]
mod plugin_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use glam::{DMat3, DQuat, DVec3, Mat4, Vec3};
use plugin_support::{bundled_plugin_dir, root};
use vksplat_core::RenderSettings;
use vksplat_io::Camera;
use vksplat_plugin_host::{EvalPath, HostSplats, Instance, Plugin, SearchPath, VariantScene};
use vksplat_tests::cli::{assert_exit, stderr, vksplat};
use vksplat_tests::numpy::{npy_bytes, write_npz};
use vksplat_tests::{camera, compare, Gpu, Rng};

/// A plugin directory holding the cargo-built `skinned` library and its manifest.
fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| bundled_plugin_dir("skinned", &["skinned"]))
}

fn plugin() -> Arc<Plugin> {
    let search = SearchPath {
        dirs: vec![plugin_dir().to_path_buf()],
    };
    vksplat_plugin_host::load(&search, "skinned").unwrap()
}

fn data(name: &str) -> String {
    root()
        .join("tests/data/gltf")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn open(source: &str, params: &[(&str, &str)]) -> Instance {
    let kv: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Instance::open(plugin(), Some(source), &kv).unwrap()
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("skinned-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn v3(a: &[f32], i: usize) -> Vec3 {
    Vec3::new(a[3 * i], a[3 * i + 1], a[3 * i + 2])
}

/// A camera looking down +z at the bounding box of `means`, from 3 radii away.
fn framing(means: &[f32], size: u32) -> Camera {
    let n = means.len() / 3;
    let (mut lo, mut hi) = (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN));
    for i in 0..n {
        lo = lo.min(v3(means, i));
        hi = hi.max(v3(means, i));
    }
    let c = (lo + hi) / 2.0;
    let r = (hi - lo).length() / 2.0;
    let f = size as f32 * 1.2;
    let mut cam = camera(size, size, f, f, size as f32 / 2.0, size as f32 / 2.0);
    cam.world_to_camera[0][3] = -c.x;
    cam.world_to_camera[1][3] = -c.y;
    cam.world_to_camera[2][3] = -c.z + 3.0 * r;
    cam
}

/// A test file's glTF model, read with vksplat-rig: the tests take triangles and skins from
/// it (the plugin samples K splats per triangle in triangle order, skipping zero-area ones).
fn rig(name: &str) -> vksplat_rig::Model {
    vksplat_rig::load(Path::new(&data(name))).unwrap()
}

/// The joint table the plugin uses for a glTF source: world-space jointGlobal·inverseBind per
/// joint, row-major.
fn world_bones(model: &vksplat_rig::Model, t: f64) -> Vec<f32> {
    let g = model.rig.globals(Some(0), t);
    let mut out = Vec::new();
    for m in &model.meshes {
        for j in model.rig.joint_matrices(m.skin, None, &g).unwrap() {
            out.extend(j.transpose().to_cols_array());
        }
    }
    out
}

/// RiggedSimple's splats whose skin is all on one joint move rigidly: their pairwise
/// distances stay what they are at rest, at every time, and their covariances keep their
/// eigenvalues (trace and determinant).
#[test]
fn rigid_segments_move_rigidly() {
    let model = rig("RiggedSimple.gltf");
    let mesh = &model.meshes[0];
    let k = 2;
    // The plugin samples triangle by triangle, k per triangle (no zero-area triangles here):
    // splat s lies on triangle s / k. A triangle whose three vertices are all on one joint
    // gives splats all on that joint.
    let mut rigid: Vec<(usize, u32)> = Vec::new();
    for (t, tri) in mesh.triangles.iter().enumerate() {
        let single = tri.iter().map(|&v| {
            let w = mesh.weights[v as usize];
            let j = mesh.joints[v as usize];
            (w[0] == 1.0).then_some(j[0])
        });
        let js: Vec<Option<u32>> = single.collect();
        if let Some(j) = js[0] {
            if js.iter().all(|x| *x == Some(j)) {
                rigid.extend((0..k).map(|s| (t * k + s, j)));
            }
        }
    }
    let mut inst = open(&data("RiggedSimple.gltf"), &[("splats_per_triangle", "2")]);
    assert_eq!(inst.desc.splat_count, mesh.triangles.len() * k);
    let (t0, t1) = inst.desc.time_range.expect("time range");
    assert!(t1 > t0);
    let rest = inst.cpu_frame(t0).unwrap();
    for joint in [0u32, 1] {
        let ids: Vec<usize> = rigid.iter().filter(|r| r.1 == joint).map(|r| r.0).collect();
        assert!(ids.len() > 20, "joint {joint}: {} rigid splats", ids.len());
        for step in 1..=6 {
            let t = t0 + (t1 - t0) * step as f64 / 6.0;
            let now = inst.cpu_frame(t).unwrap();
            let (a, b) = (rest.means.as_ref().unwrap(), now.means.as_ref().unwrap());
            let mut worst = 0f32;
            for (x, &i) in ids.iter().enumerate() {
                for &j in &ids[x + 1..] {
                    let d0 = (v3(a, i) - v3(a, j)).length();
                    let d1 = (v3(b, i) - v3(b, j)).length();
                    worst = worst.max((d0 - d1).abs());
                }
                let (c0, c1) = (
                    rest.covariances.as_ref().unwrap(),
                    now.covariances.as_ref().unwrap(),
                );
                let tr = |c: &[f32]| c[6 * i] + c[6 * i + 3] + c[6 * i + 5];
                assert!((tr(c0) - tr(c1)).abs() <= 1e-4 * tr(c0), "splat {i} trace");
                let det = |c: &[f32]| {
                    let c: Vec<f64> = c[6 * i..6 * i + 6].iter().map(|&x| x as f64).collect();
                    DMat3::from_cols_array(&[c[0], c[1], c[2], c[1], c[3], c[4], c[2], c[4], c[5]])
                        .determinant()
                };
                assert!(
                    (det(c0) - det(c1)).abs() <= 1e-3 * det(c0).abs(),
                    "splat {i} determinant"
                );
            }
            assert!(
                worst < 1e-4,
                "joint {joint} t={t}: distances change by {worst}"
            );
        }
    }
    // The animation does move joint 1's splats.
    let now = inst.cpu_frame(t0 + (t1 - t0) / 2.0).unwrap();
    let moved = rigid
        .iter()
        .filter(|r| r.1 == 1)
        .map(|r| {
            (v3(rest.means.as_ref().unwrap(), r.0) - v3(now.means.as_ref().unwrap(), r.0)).length()
        })
        .fold(0f32, f32::max);
    assert!(moved > 0.1, "joint 1 moved {moved}");
}

/// Distance from p to triangle (a, b, c).
fn point_triangle(p: Vec3, a: Vec3, b: Vec3, c: Vec3) -> f32 {
    let n = (b - a).cross(c - a).normalize();
    let q = p - n * (p - a).dot(n);
    let inside = [(a, b), (b, c), (c, a)]
        .iter()
        .all(|(u, v)| (*v - *u).cross(q - *u).dot(n) >= -1e-7);
    if inside {
        return (p - q).length();
    }
    let seg = |u: Vec3, v: Vec3| {
        let t = ((p - u).dot(v - u) / (v - u).length_squared()).clamp(0.0, 1.0);
        (p - (u + (v - u) * t)).length()
    };
    seg(a, b).min(seg(b, c)).min(seg(c, a))
}

/// Sampled centres stay on the skinned surface: at every time, a splat lies on its skinned
/// triangle within 1e-4 of the model's size wherever the triangle's vertices use at most four
/// joints in all (each joint slot moves its own rest point, see
/// `vksplat_rig::SkinnedMesh::surface_points`). On CesiumMan's triangles with 5–7 joints
/// (6 % of them) the smallest weights are dropped: bounded at 1 % of the size, and reported.
#[test]
fn sampled_centres_follow_the_skinned_surface() {
    for (file, k) in [
        ("SimpleSkin.gltf", 6),
        ("RiggedSimple.gltf", 2),
        ("CesiumMan.gltf", 1),
    ] {
        let model = rig(file);
        let mut inst = open(&data(file), &[("splats_per_triangle", &k.to_string())]);
        let (t0, t1) = inst.desc.time_range.unwrap();
        // Splat → (mesh, triangle, joints the triangle uses); zero-area triangles get none.
        let mut owner = Vec::new();
        for (mi, m) in model.meshes.iter().enumerate() {
            for (t, tri) in m.triangles.iter().enumerate() {
                let p = tri.map(|v| Vec3::from(m.positions[v as usize]));
                if vksplat_rig::triangle_frame(p[0], p[1], p[2]).is_some() {
                    let mut joints: Vec<u32> = tri
                        .iter()
                        .flat_map(|&v| {
                            let (j, w) = (m.joints[v as usize], m.weights[v as usize]);
                            (0..4).filter(move |&s| w[s] > 0.0).map(move |s| j[s])
                        })
                        .collect();
                    joints.sort();
                    joints.dedup();
                    owner.extend(std::iter::repeat_n((mi, t, joints.len()), k));
                }
            }
        }
        assert_eq!(owner.len(), inst.desc.splat_count, "{file}");
        let mut size = 0f32;
        let (mut worst_exact, mut worst_many) = (0f32, 0f32);
        for step in 0..=4 {
            let t = t0 + (t1 - t0) * step as f64 / 4.0;
            let out = inst.cpu_frame(t).unwrap();
            let means = out.means.unwrap();
            let g = model.rig.globals(Some(0), t);
            let skinned: Vec<Vec<Vec3>> = model
                .meshes
                .iter()
                .map(|m| {
                    let j = model.rig.joint_matrices(m.skin, None, &g).unwrap();
                    // glTF's y-up world in vksplat's frame: 180° about x.
                    m.skin_vertices(&j)
                        .into_iter()
                        .map(|v| Vec3::new(v.x, -v.y, -v.z))
                        .collect()
                })
                .collect();
            let (mut lo, mut hi) = (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN));
            for v in skinned.iter().flatten() {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
            size = size.max((hi - lo).length());
            for (s, &(mi, t, joints)) in owner.iter().enumerate() {
                let tri = model.meshes[mi].triangles[t];
                let p = tri.map(|v| skinned[mi][v as usize]);
                let d = point_triangle(v3(&means, s), p[0], p[1], p[2]);
                if joints <= 4 {
                    worst_exact = worst_exact.max(d);
                } else {
                    worst_many = worst_many.max(d);
                }
            }
        }
        eprintln!(
            "{file}: size {size}, distance to the skinned triangle: ≤ 4 joints {worst_exact}, \
             more {worst_many}"
        );
        assert!(
            worst_exact <= 1e-4 * size,
            "{file}: {worst_exact} (size {size})"
        );
        assert!(
            worst_many <= 0.01 * size,
            "{file}: {worst_many} (size {size})"
        );
    }
}

fn join(v: &[f32]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Bones that share one rotation and uniform scale (translations differ): every blend
/// A = Σ w M is then that rotation times that scale, where the polar mode is exact.
fn similar_bones(joints: usize, rng: &mut Rng) -> Vec<f32> {
    let axis = DVec3::new(
        rng.normal() as f64,
        rng.normal() as f64,
        rng.normal() as f64,
    )
    .normalize();
    let r = DMat3::from_quat(DQuat::from_axis_angle(axis, rng.range(-3.0, 3.0) as f64)) * 1.3;
    let mut out = Vec::new();
    for _ in 0..joints {
        let t = [
            rng.range(-0.5, 0.5),
            rng.range(-0.5, 0.5),
            rng.range(-0.5, 0.5),
        ];
        for (row, tr) in t.iter().enumerate() {
            let c = r.row(row);
            out.extend([c.x as f32, c.y as f32, c.z as f32, *tr]);
        }
        out.extend([0.0, 0.0, 0.0, 1.0]);
    }
    out
}

/// Covariance (xx xy xz yy yz zz) of a rotation (w x y z, any length) and log-scales.
fn cov_of(q: &[f32], ls: &[f32]) -> [f64; 6] {
    let q = DQuat::from_xyzw(q[1] as f64, q[2] as f64, q[3] as f64, q[0] as f64).normalize();
    let r = DMat3::from_quat(q);
    let s = DMat3::from_diagonal(DVec3::new(
        (2.0 * ls[0] as f64).exp(),
        (2.0 * ls[1] as f64).exp(),
        (2.0 * ls[2] as f64).exp(),
    ));
    let c = r * s * r.transpose();
    [
        c.x_axis.x, c.y_axis.x, c.z_axis.x, c.y_axis.y, c.z_axis.y, c.z_axis.z,
    ]
}

/// Polar mode equals exact mode where A₃ is a rotation times a uniform scale; where it is
/// not, the two differ (polar drops the stretch).
#[test]
fn polar_equals_exact_for_rigid_blends() {
    let mut rng = Rng::new(11);
    let src = data("RiggedSimple.gltf");
    let bones = similar_bones(2, &mut rng);
    let b = join(&bones);
    let mut exact = open(&src, &[("splats_per_triangle", "1"), ("bones", &b)]);
    let mut polar = open(
        &src,
        &[
            ("splats_per_triangle", "1"),
            ("rotation", "polar"),
            ("bones", &b),
        ],
    );
    assert!(exact.desc.covariance && !polar.desc.covariance);
    let e = exact.cpu_frame(0.0).unwrap();
    let p = polar.cpu_frame(0.0).unwrap();
    assert_eq!(e.means, p.means);
    let (covs, rots, ls) = (
        e.covariances.unwrap(),
        p.rotations.unwrap(),
        p.log_scales.unwrap(),
    );
    for i in 0..exact.desc.splat_count {
        let want = &covs[6 * i..6 * i + 6];
        let got = cov_of(&rots[4 * i..4 * i + 4], &ls[3 * i..3 * i + 3]);
        let scale = want[0].abs().max(want[3].abs()).max(want[5].abs()) as f64;
        for k in 0..6 {
            assert!(
                (got[k] - want[k] as f64).abs() <= 1e-4 * scale,
                "splat {i}: {got:?} vs {want:?}"
            );
        }
    }
    // A stretch (non-uniform scale on joint 1) is where the modes part.
    let mut stretched = bones.clone();
    for v in &mut stretched[16..20] {
        *v *= 2.0;
    }
    let b = join(&stretched);
    let mut exact = open(&src, &[("splats_per_triangle", "1"), ("bones", &b)]);
    let mut polar = open(
        &src,
        &[
            ("splats_per_triangle", "1"),
            ("rotation", "polar"),
            ("bones", &b),
        ],
    );
    let (e, p) = (exact.cpu_frame(0.0).unwrap(), polar.cpu_frame(0.0).unwrap());
    let (covs, rots, ls) = (
        e.covariances.unwrap(),
        p.rotations.unwrap(),
        p.log_scales.unwrap(),
    );
    let differ = (0..exact.desc.splat_count)
        .filter(|&i| {
            let got = cov_of(&rots[4 * i..4 * i + 4], &ls[3 * i..3 * i + 3]);
            (got[0] - covs[6 * i] as f64).abs() > 1e-2 * covs[6 * i].abs() as f64
        })
        .count();
    assert!(differ > 10, "{differ} splats differ under a stretch");
}

fn assert_close(what: &str, gpu: &Option<Vec<f32>>, cpu: &Option<Vec<f32>>) {
    let (g, c) = (gpu.as_ref().unwrap(), cpu.as_ref().unwrap());
    let (max, bad) = compare(g, c, 2e-5, 2e-4);
    assert!(
        bad == 0.0,
        "{what}: GPU and CPU paths differ (max {max}, {bad} of values)"
    );
}

/// GPU path == CPU path (arrays and images) in both modes over the walk cycle, and the
/// images change with time.
#[test]
fn gpu_and_cpu_paths_agree() {
    let Some(mut gpu) = Gpu::new() else { return };
    for mode in ["exact", "polar"] {
        let src = data("CesiumMan.gltf");
        let params = [("splats_per_triangle", "1"), ("rotation", mode)];
        let mut on_gpu =
            VariantScene::new(&gpu.renderer, open(&src, &params), EvalPath::Gpu).unwrap();
        let mut on_cpu =
            VariantScene::new(&gpu.renderer, open(&src, &params), EvalPath::Cpu).unwrap();
        let (t0, t1) = on_gpu.instance().desc.time_range.unwrap();
        let rest: HostSplats = open(&src, &params).cpu_frame(t0).unwrap();
        let cam = framing(rest.means.as_ref().unwrap(), 96);
        let settings = RenderSettings::default();
        let mut images = Vec::new();
        for t in [t0, (t0 + t1) / 3.0, t1] {
            on_gpu.evaluate(&gpu.renderer, t).unwrap();
            on_cpu.evaluate(&gpu.renderer, t).unwrap();
            let g = on_gpu.download_outputs(&gpu.renderer).unwrap();
            let c = on_cpu.download_outputs(&gpu.renderer).unwrap();
            assert_close(&format!("{mode} t={t} means"), &g.means, &c.means);
            if mode == "exact" {
                assert_close(
                    &format!("{mode} t={t} covariances"),
                    &g.covariances,
                    &c.covariances,
                );
            } else {
                assert_close(
                    &format!("{mode} t={t} rotations"),
                    &g.rotations,
                    &c.rotations,
                );
                assert_close(
                    &format!("{mode} t={t} log_scales"),
                    &g.log_scales,
                    &c.log_scales,
                );
            }
            let (fg, _) = on_gpu
                .render(&mut gpu.renderer, &cam, &settings, t)
                .unwrap();
            let (fc, _) = on_cpu
                .render(&mut gpu.renderer, &cam, &settings, t)
                .unwrap();
            let (max, bad) = compare(&fg.rgba, &fc.rgba, 1e-3, 1e-2);
            assert!(
                bad < 1e-3,
                "{mode} t={t}: GPU vs CPU images: {bad} differ, max {max}"
            );
            let covered = fc.rgba.chunks_exact(4).filter(|p| p[3] > 0.5).count();
            assert!(covered > 300, "{mode} t={t}: only {covered} pixels covered");
            images.push(fc.rgba);
        }
        let (max, _) = compare(&images[0], &images[1], 0.0, 0.0);
        assert!(
            max > 0.05,
            "{mode}: the walk did not change the image ({max})"
        );
    }
}

/// Bones given by the host (the C API's set_param, the CLI's --param bones=…) equal to the
/// animation's at t render the same image, bit for bit, on both paths.
#[test]
fn host_bones_equal_the_animation() {
    let Some(mut gpu) = Gpu::new() else { return };
    let src = data("CesiumMan.gltf");
    let model = rig("CesiumMan.gltf");
    let params = [("splats_per_triangle", "1")];
    let t = 0.7;
    for path in [EvalPath::Gpu, EvalPath::Cpu] {
        let mut animated = VariantScene::new(&gpu.renderer, open(&src, &params), path).unwrap();
        let mut driven = VariantScene::new(&gpu.renderer, open(&src, &params), path).unwrap();
        let bones = world_bones(&model, t);
        assert_eq!(bones.len(), 19 * 16);
        driven.instance_mut().set_param("bones", &bones).unwrap();
        let rest = open(&src, &params).cpu_frame(0.0).unwrap();
        let cam = framing(rest.means.as_ref().unwrap(), 80);
        let settings = RenderSettings::default();
        let (a, _) = animated
            .render(&mut gpu.renderer, &cam, &settings, t)
            .unwrap();
        // The driven scene ignores time: render it at another.
        let (b, _) = driven
            .render(&mut gpu.renderer, &cam, &settings, 0.0)
            .unwrap();
        assert!(a.rgba == b.rgba, "{path:?}: host bones render differently");
        let (c, _) = animated
            .render(&mut gpu.renderer, &cam, &settings, 0.0)
            .unwrap();
        assert!(a.rgba != c.rgba, "{path:?}: time had no effect");
    }
    // A wrong number of matrices is refused with the counts.
    let mut inst = open(&src, &params);
    inst.set_param("bones", &Mat4::IDENTITY.to_cols_array().repeat(3))
        .unwrap();
    let e = inst.cpu_frame(0.0).unwrap_err().to_string();
    assert!(
        e.contains("skinned") && e.contains("3 matrices") && e.contains("19"),
        "{e}"
    );
    // A singular one too.
    let mut b = Mat4::IDENTITY.to_cols_array().repeat(19);
    b[16 * 4..16 * 4 + 12].fill(0.0);
    inst.set_param("bones", &b).unwrap();
    let e = inst.cpu_frame(0.0).unwrap_err().to_string();
    assert!(e.contains("matrix 4 is not invertible"), "{e}");
}

/// The CLI renders a glTF source through the plugin; broken skins exit with code 4 and name
/// the problem.
#[test]
fn cli_renders_and_refuses_broken_skins() {
    let dir = temp_dir("cli");
    let pd = plugin_dir().to_string_lossy().into_owned();
    let out = dir.join("man.png");
    let o = vksplat(&[
        "render",
        "--plugin",
        "skinned",
        "--plugin-dir",
        &pd,
        &data("CesiumMan.gltf"),
        "--param",
        "splats_per_triangle=1",
        "--time",
        "0.5",
        "--width",
        "64",
        "--height",
        "64",
        "-o",
        &out.to_string_lossy(),
    ]);
    assert_exit(&o, 0);
    assert!(out.is_file());
    // A rigged glTF is found by content (the manifest's gltf_arrays: skins), without --plugin;
    // a glTF splat scene without skins stays a static KHR_gaussian_splatting scene.
    let o = vksplat(&["info", &data("CesiumMan.gltf"), "--plugin-dir", &pd]);
    assert_exit(&o, 0);
    let info = vksplat_tests::cli::stdout(&o);
    assert!(info.contains("plugin: skinned"), "{info}");
    let o = vksplat(&["info", &data("khr_minimal.gltf"), "--plugin-dir", &pd]);
    assert_exit(&o, 0);
    let info = vksplat_tests::cli::stdout(&o);
    assert!(!info.contains("plugin:"), "{info}");

    // SimpleSkin with a joint index out of range (vertex 2's second joint, weight 0.25).
    let copy = |tag: &str, file: &str, offset: usize, bytes: &[u8]| -> String {
        let d = dir.join(tag);
        std::fs::create_dir_all(&d).unwrap();
        for name in [
            "SimpleSkin.gltf",
            "SimpleSkin_geometry.bin",
            "SimpleSkin_skinningData.bin",
            "SimpleSkin_inverseBindMatrices.bin",
            "SimpleSkin_animation.bin",
        ] {
            let mut b = std::fs::read(data(name)).unwrap();
            if name == file {
                b[offset..offset + bytes.len()].copy_from_slice(bytes);
            }
            std::fs::write(d.join(name), b).unwrap();
        }
        d.join("SimpleSkin.gltf").to_string_lossy().into_owned()
    };
    for (tag, file, offset, bytes, want) in [
        (
            "joint",
            "SimpleSkin_skinningData.bin",
            34,
            9u16.to_le_bytes().to_vec(),
            "uses joint 9",
        ),
        (
            "ibm",
            "SimpleSkin_inverseBindMatrices.bin",
            64 + 20,
            0f32.to_le_bytes().to_vec(),
            "not invertible",
        ),
        (
            "nan",
            "SimpleSkin_skinningData.bin",
            160 + 16,
            f32::NAN.to_le_bytes().to_vec(),
            "not a finite number",
        ),
    ] {
        let src = copy(tag, file, offset, &bytes);
        let o = vksplat(&[
            "render",
            "--plugin",
            "skinned",
            "--plugin-dir",
            &pd,
            &src,
            "-o",
            &dir.join(format!("{tag}.png")).to_string_lossy(),
        ]);
        assert_exit(&o, 4);
        let e = stderr(&o);
        assert!(
            e.contains("skinned") && e.contains("SimpleSkin.gltf") && e.contains(want),
            "{tag}: {e}"
        );
    }
    // Not a skin at all, and an unknown animation.
    let o = vksplat(&[
        "render",
        "--plugin",
        "skinned",
        "--plugin-dir",
        &pd,
        &data("SimpleSkin.LICENSE.md"),
        "-o",
        &dir.join("x.png").to_string_lossy(),
    ]);
    assert_exit(&o, 4);
    assert!(stderr(&o).contains("neither a glTF"), "{}", stderr(&o));
    let o = vksplat(&[
        "render",
        "--plugin",
        "skinned",
        "--plugin-dir",
        &pd,
        &data("SimpleSkin.gltf"),
        "--param",
        "animation=Dance",
        "-o",
        &dir.join("x.png").to_string_lossy(),
    ]);
    assert_exit(&o, 4);
    assert!(
        stderr(&o).contains("no animation 'Dance'"),
        "{}",
        stderr(&o)
    );
}

/// Column names of the splat PLYs written here: the standard fields and the skin fields.
const PLY_FIELDS: [&str; 18] = [
    "x", "y", "z", "rot_0", "rot_1", "rot_2", "rot_3", "scale_0", "scale_1", "scale_2", "joint_0",
    "joint_1", "joint_2", "joint_3", "weight_0", "weight_1", "weight_2", "weight_3",
];

/// `n` random splats for SimpleSkin's 2-joint skeleton, one row of [`PLY_FIELDS`] each: 1–4
/// skin slots in use (joint indices may repeat), weights summing to `weight_sum`.
fn skin_rows(n: usize, rng: &mut Rng, weight_sum: f32) -> Vec<[f32; 18]> {
    (0..n)
        .map(|_| {
            let used = 1 + (rng.next_u32() % 4) as usize;
            let mut w = [0f32; 4];
            for x in &mut w[..used] {
                *x = rng.unit() + 0.05;
            }
            let sum: f32 = w.iter().sum();
            let mut r = [0f32; 18];
            r[0] = rng.range(-0.5, 0.5);
            r[1] = rng.range(0.0, 2.0);
            r[2] = rng.range(-0.1, 0.1);
            r[3..7].fill_with(|| rng.normal());
            r[7..10].fill_with(|| rng.range(-4.0, -2.5));
            for k in 0..4 {
                r[10 + k] = (rng.next_u32() % 2) as f32;
                r[14 + k] = w[k] / sum * weight_sum;
            }
            r
        })
        .collect()
}

/// Writes rows of [`PLY_FIELDS`] as a splat PLY (opacity logit 3, a colour per splat).
fn write_skin_ply(path: &Path, rows: &[[f32; 18]]) {
    let n = rows.len();
    let cols: Vec<Vec<f32>> = (0..18)
        .map(|k| rows.iter().map(|r| r[k]).collect())
        .collect();
    let opacity = vec![3f32; n];
    let dc: Vec<Vec<f32>> = (0..3)
        .map(|c| (0..n).map(|i| 0.5 * ((i + c) % 3) as f32 - 0.4).collect())
        .collect();
    let mut columns: Vec<(&str, &[f32])> = PLY_FIELDS
        .iter()
        .zip(&cols)
        .map(|(n, c)| (*n, c.as_slice()))
        .collect();
    columns.extend([
        ("opacity", opacity.as_slice()),
        ("f_dc_0", &dc[0]),
        ("f_dc_1", &dc[1]),
        ("f_dc_2", &dc[2]),
    ]);
    vksplat_io::ply::write_columns(path, &columns, &[]).unwrap();
}

/// Σ' = A₃ΣA₃ᵀ and μ' = A·[μ; 1] of a PLY source, for random joints, weights and host bones,
/// on both paths, against the same formulas evaluated here in f64 from the file's fields.
#[test]
fn ply_source_covariances_match_an_independent_computation() {
    let Some(gpu) = Gpu::new() else { return };
    let dir = temp_dir("ply");
    let mut rng = Rng::new(23);
    let rows = skin_rows(2000, &mut rng, 1.0);
    let ply = dir.join("avatar.ply");
    write_skin_ply(&ply, &rows);
    let skeleton = data("SimpleSkin.gltf");
    let mut bones = Vec::new();
    for _ in 0..2 {
        for _ in 0..12 {
            bones.push(rng.range(-1.5, 1.5));
        }
        bones.extend([0.0, 0.0, 0.0, 1.0]);
    }
    let b = join(&bones);
    let params = [("skeleton", skeleton.as_str()), ("bones", b.as_str())];
    let src = ply.to_string_lossy().into_owned();
    let inst = open(&src, &params);
    assert_eq!(inst.desc.splat_count, rows.len());
    assert!(inst.desc.covariance);
    // The plugin's world is glTF's (y up); it writes vksplat's frame: diag(1, −1, −1)·M.
    let flip = glam::DMat4::from_diagonal(glam::DVec4::new(1.0, -1.0, -1.0, 1.0));
    let bone = |j: usize| {
        let m = &bones[16 * j..16 * j + 16];
        flip * glam::DMat4::from_cols_array(&std::array::from_fn(|k| m[(k % 4) * 4 + k / 4] as f64))
    };
    for path in [EvalPath::Gpu, EvalPath::Cpu] {
        let mut scene = VariantScene::new(&gpu.renderer, open(&src, &params), path).unwrap();
        scene.evaluate(&gpu.renderer, 0.0).unwrap();
        let out = scene.download_outputs(&gpu.renderer).unwrap();
        let (means, covs) = (out.means.unwrap(), out.covariances.unwrap());
        for (i, r) in rows.iter().enumerate() {
            let mut a = glam::DMat4::ZERO;
            for k in 0..4 {
                a += bone(r[10 + k] as usize) * r[14 + k] as f64;
            }
            let mu = a.transform_point3(DVec3::new(r[0] as f64, r[1] as f64, r[2] as f64));
            let q = [r[3], r[4], r[5], r[6]];
            let sigma = cov_of(&q, &r[7..10]);
            let s = DMat3::from_cols_array(&[
                sigma[0], sigma[1], sigma[2], sigma[1], sigma[3], sigma[4], sigma[2], sigma[4],
                sigma[5],
            ]);
            let a3 = DMat3::from_mat4(a);
            let c = a3 * s * a3.transpose();
            let want = [
                c.x_axis.x, c.y_axis.x, c.z_axis.x, c.y_axis.y, c.z_axis.y, c.z_axis.z,
            ];
            let scale = want[0].abs().max(want[3].abs()).max(want[5].abs());
            for k in 0..6 {
                let got = covs[6 * i + k] as f64;
                assert!(
                    (got - want[k]).abs() <= 1e-4 * scale + 1e-12,
                    "{path:?} splat {i} cov {k}: {got} vs {}",
                    want[k]
                );
            }
            for (k, w) in mu.to_array().iter().enumerate() {
                let got = means[3 * i + k] as f64;
                assert!(
                    (got - w).abs() <= 1e-5 * (1.0 + w.abs()),
                    "{path:?} splat {i} mean"
                );
            }
        }
    }
}

/// Weights that do not sum to 1 are normalised: a file whose weights sum to 2.5 renders like
/// the normalised file. Broken skin fields and skeletons exit with code 4, naming the file.
#[test]
fn ply_skin_fields_are_normalised_or_refused() {
    let dir = temp_dir("plybad");
    let mut rng = Rng::new(5);
    let rows = skin_rows(400, &mut rng, 1.0);
    let heavy: Vec<[f32; 18]> = rows
        .iter()
        .map(|r| {
            let mut x = *r;
            for w in &mut x[14..18] {
                *w *= 2.5;
            }
            x
        })
        .collect();
    let (a, b) = (dir.join("a.ply"), dir.join("b.ply"));
    write_skin_ply(&a, &rows);
    write_skin_ply(&b, &heavy);
    let skeleton = data("SimpleSkin.gltf");
    let params = [("skeleton", skeleton.as_str())];
    let fa = open(&a.to_string_lossy(), &params).cpu_frame(1.3).unwrap();
    let fb = open(&b.to_string_lossy(), &params).cpu_frame(1.3).unwrap();
    let (ma, mb) = (fa.means.unwrap(), fb.means.unwrap());
    let (max, bad) = compare(&ma, &mb, 1e-6, 1e-5);
    assert!(bad == 0.0, "normalised weights differ: {max}");

    let pd = plugin_dir().to_string_lossy().into_owned();
    let sk = format!("skeleton={skeleton}");
    let render = |file: &Path, params: &[&str]| {
        let mut args = vec![
            "render".to_string(),
            "--plugin".into(),
            "skinned".into(),
            "--plugin-dir".into(),
            pd.clone(),
            file.to_string_lossy().into_owned(),
            "-o".into(),
            dir.join("out.png").to_string_lossy().into_owned(),
            "--width".into(),
            "32".into(),
            "--height".into(),
            "32".into(),
        ];
        for p in params {
            args.extend(["--param".to_string(), p.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        vksplat(&args)
    };
    // The normalisation is said once, as a warning naming the file (the plugin's log).
    let o = render(&b, &[&sk]);
    assert_exit(&o, 0);
    let err = vksplat_tests::cli::stderr(&o);
    assert!(
        err.contains("skin weights of 400 splat(s) did not sum to 1 and were normalised")
            && err.contains("b.ply"),
        "{err}"
    );
    let o = render(&a, &[&sk]);
    assert_exit(&o, 0);
    assert!(!vksplat_tests::cli::stderr(&o).contains("normalised"));
    // Found by content (the manifest's PLY skin fields), without --plugin.
    let o = vksplat(&[
        "info",
        &b.to_string_lossy(),
        "--plugin-dir",
        &pd,
        "--param",
        &sk,
    ]);
    assert_exit(&o, 0);
    let out = vksplat_tests::cli::stdout(&o);
    assert!(
        out.contains("plugin: skinned") && out.contains("count: 400") && out.contains("0 .. 5.5"),
        "{out}"
    );
    let broken = |tag: &str, edit: &dyn Fn(&mut [f32; 18])| {
        let mut r = rows.clone();
        edit(&mut r[7]);
        let p = dir.join(format!("{tag}.ply"));
        write_skin_ply(&p, &r);
        p
    };
    for (tag, edit, want) in [
        (
            "range",
            &(|r: &mut [f32; 18]| {
                r[11] = 2.0;
                r[15] = 0.5;
            }) as &dyn Fn(&mut [f32; 18]),
            "joint_1 = 2 is out of range: the skeleton has 2 joints",
        ),
        (
            "nan",
            &|r: &mut [f32; 18]| r[14] = f32::NAN,
            "weight_0 = NaN",
        ),
        (
            "negative",
            &|r: &mut [f32; 18]| r[15] = -0.5,
            "weight_1 = -0.5",
        ),
        (
            "zero",
            &|r: &mut [f32; 18]| r[14..18].fill(0.0),
            "all weights are 0",
        ),
        (
            "fraction",
            &|r: &mut [f32; 18]| r[12] = 0.5,
            "joint_2 = 0.5 is not a joint index",
        ),
    ] {
        let o = render(&broken(tag, edit), &[&sk]);
        assert_exit(&o, 4);
        let e = stderr(&o);
        assert!(
            e.contains(&format!("{tag}.ply")) && e.contains("splat 7") && e.contains(want),
            "{tag}: {e}"
        );
    }
    // No skeleton: say how to give one.
    let o = render(&a, &[]);
    assert_exit(&o, 4);
    assert!(stderr(&o).contains("skeleton=FILE.gltf"), "{}", stderr(&o));
}

/// A pose file [T, J, 4, 4] of the animation's own matrices at 0, 0.5 and 1 s, played at 2
/// frames per second, poses the avatar exactly as the animation does at those times (and
/// holds its last frame after the end), as `.npy` and as the `bones` array of a deflated
/// `.npz`; a file of the wrong shape is refused.
#[test]
fn pose_files_drive_the_skeleton() {
    let dir = temp_dir("pose");
    let src = data("CesiumMan.gltf");
    let model = rig("CesiumMan.gltf");
    let times = [0.0, 0.5, 1.0];
    let frames: Vec<f32> = times.iter().flat_map(|&t| world_bones(&model, t)).collect();
    let npy = dir.join("walk.npy");
    std::fs::write(&npy, npy_bytes(&[3, 19, 4, 4], &frames)).unwrap();
    let npz = dir.join("walk.npz");
    write_npz(
        &npz,
        &[("bones", &[3, 19, 4, 4], &frames), ("fps", &[1], &[2.0])],
        true,
    );
    let params = [("splats_per_triangle", "1")];
    let mut animated = open(&src, &params);
    for file in [&npy, &npz] {
        let f = file.to_string_lossy().into_owned();
        let mut posed = open(
            &src,
            &[
                ("splats_per_triangle", "1"),
                ("pose", &f),
                ("pose_fps", "2"),
            ],
        );
        for (t, same_as) in [(0.0, 0.0), (0.5, 0.5), (0.75, 0.5), (1.0, 1.0), (7.0, 1.0)] {
            let a = animated.cpu_frame(same_as).unwrap();
            let p = posed.cpu_frame(t).unwrap();
            assert!(
                a.means == p.means && a.covariances == p.covariances,
                "{f} t={t}"
            );
        }
        let a = animated.cpu_frame(0.25).unwrap();
        let p = posed.cpu_frame(0.25).unwrap();
        assert!(a.means != p.means, "{f}: frame 0 holds until 0.5 s");
    }
    std::fs::write(&npy, npy_bytes(&[3, 18, 4, 4], &frames[..3 * 18 * 16])).unwrap();
    let kv = vec![
        ("splats_per_triangle".to_string(), "1".to_string()),
        ("pose".to_string(), npy.to_string_lossy().into_owned()),
    ];
    let e = Instance::open(plugin(), Some(&src), &kv)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("walk.npy") && e.contains("[T, 19, 4, 4]"), "{e}");
}
