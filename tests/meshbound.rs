//! The `meshbound` plugin (Gaussians bound to a deforming mesh): GPU == CPU for every binding,
//! rigid motions of the mesh move every splat rigidly, flat SuGaR/GaMeS splats stay on their
//! deformed triangles with the face normal as their normal axis, host vertices equal a vertex
//! file, RiggedSimple through skinned vertices agrees with the skinned plugin, and bad input
//! (mismatched topology, NaN vertices, degenerate faces) fails clearly or hides the splats.

#[path = "plugin_support.rs"]
mod plugin_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use glam::{DMat3, DQuat, DVec3, Vec3};
use plugin_support::{bundled_plugin_dir, root};
use vksplat_core::{RenderSettings, SceneUpdate};
use vksplat_plugin_host::{
    EvalPath, HostSplats, Instance, Plugin, Scene, SearchPath, VariantScene,
};
use vksplat_tests::cli::{assert_exit, stderr, vksplat};
use vksplat_tests::numpy::npy_bytes;
use vksplat_tests::{camera, compare, Gpu, Rng};

/// A plugin directory holding the cargo-built `meshbound` and `skinned` libraries.
fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| bundled_plugin_dir("meshbound", &["meshbound", "skinned"]))
}

fn plugin(name: &str) -> Arc<Plugin> {
    let search = SearchPath {
        dirs: vec![plugin_dir().to_path_buf()],
    };
    vksplat_plugin_host::load(&search, name).unwrap()
}

fn try_open(name: &str, source: &Path, params: &[(&str, &str)]) -> Result<Instance, String> {
    let kv: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Instance::open(plugin(name), Some(&source.to_string_lossy()), &kv).map_err(|e| e.to_string())
}

fn open(source: &Path, params: &[(&str, &str)]) -> Instance {
    try_open("meshbound", source, params).unwrap()
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("meshbound-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn v3(a: &[f32], i: usize) -> Vec3 {
    Vec3::new(a[3 * i], a[3 * i + 1], a[3 * i + 2])
}

/// A bumpy n×n grid in the xy plane (z a gentle bump), two triangles per cell.
fn grid(n: usize) -> (Vec<f32>, Vec<u32>) {
    let mut v = Vec::new();
    for j in 0..n {
        for i in 0..n {
            let (x, y) = (i as f32 / (n - 1) as f32, j as f32 / (n - 1) as f32);
            v.extend([x, y, 0.1 * (3.0 * x).sin() * (2.0 * y).cos()]);
        }
    }
    let mut f = Vec::new();
    for j in 0..n - 1 {
        for i in 0..n - 1 {
            let a = (j * n + i) as u32;
            let (b, c, d) = (a + 1, a + n as u32, a + n as u32 + 1);
            f.extend([a, b, d, a, d, c]);
        }
    }
    (v, f)
}

fn write_obj(path: &Path, v: &[f32], f: &[u32]) {
    let mut s = String::from("# test mesh\n");
    for p in v.chunks_exact(3) {
        s += &format!("v {} {} {}\n", p[0], p[1], p[2]);
    }
    for t in f.chunks_exact(3) {
        s += &format!("f {} {} {}\n", t[0] + 1, t[1] + 1, t[2] + 1);
    }
    std::fs::write(path, s).unwrap();
}

/// A non-rigid deformation (bend, shear, stretch).
fn bend(v: &[f32]) -> Vec<f32> {
    v.chunks_exact(3)
        .flat_map(|p| {
            let (x, y, z) = (p[0], p[1], p[2]);
            [
                1.3 * x + 0.2 * y,
                y + 0.3 * (2.0 * x).sin(),
                z + 0.4 * x * y,
            ]
        })
        .collect()
}

const KINDS: [&str; 5] = [
    "gaussianavatars",
    "splattingavatar",
    "sugar",
    "games",
    "nearest",
];

/// A binding PLY of `kind` with `n` random splats on a mesh of `faces` faces (standard fields
/// plus the kind's: see the README's "Mesh-bound Gaussians").
fn write_binding(path: &Path, kind: &str, n: usize, faces: usize, rng: &mut Rng) {
    let mut cols: Vec<(&str, Vec<f32>)> = Vec::new();
    let col = |cols: &mut Vec<(&'static str, Vec<f32>)>,
               name: &'static str,
               f: &mut dyn FnMut() -> f32| {
        cols.push((name, (0..n).map(|_| f()).collect()));
    };
    col(&mut cols, "x", &mut || rng.range(0.0, 1.0));
    col(&mut cols, "y", &mut || rng.range(0.0, 1.0));
    col(&mut cols, "z", &mut || rng.range(-0.05, 0.05));
    for name in ["f_dc_0", "f_dc_1", "f_dc_2"] {
        col(&mut cols, name, &mut || rng.range(-1.0, 1.0));
    }
    col(&mut cols, "opacity", &mut || rng.range(-1.0, 3.0));
    for name in ["scale_0", "scale_1", "scale_2"] {
        col(&mut cols, name, &mut || rng.range(-4.5, -3.0));
    }
    for name in ["rot_0", "rot_1", "rot_2", "rot_3"] {
        col(&mut cols, name, &mut || rng.range(-1.0, 1.0));
    }
    if kind != "nearest" {
        col(&mut cols, "face_index", &mut || {
            (rng.next_u32() as usize % faces) as f32
        });
    }
    match kind {
        "gaussianavatars" => {
            // Local means of the order of the face (k ≈ the face size).
            for c in cols.iter_mut().take(3) {
                c.1.iter_mut().for_each(|x| *x = (*x - 0.5) * 0.8);
            }
        }
        "splattingavatar" | "sugar" => {
            for name in ["bary_0", "bary_1", "bary_2"] {
                col(&mut cols, name, &mut || rng.range(0.05, 1.0));
            }
            let k = cols.len();
            for i in 0..n {
                let s: f32 = (k - 3..k).map(|c| cols[c].1[i]).sum();
                (k - 3..k).for_each(|c| cols[c].1[i] /= s);
            }
            if kind == "splattingavatar" {
                col(&mut cols, "offset", &mut || rng.range(-0.02, 0.02));
            } else {
                // scale_0 is SuGaR's log thickness: thin.
                cols[7].1.iter_mut().for_each(|x| *x -= 6.0);
                col(&mut cols, "inplane_0", &mut || rng.range(-1.0, 1.0));
                col(&mut cols, "inplane_1", &mut || rng.range(0.1, 1.0));
            }
        }
        "games" => {
            for name in ["alpha_0", "alpha_1", "alpha_2"] {
                col(&mut cols, name, &mut || rng.range(0.0, 1.0));
            }
            col(&mut cols, "rho", &mut || rng.range(0.05, 0.3));
        }
        _ => {}
    }
    let refs: Vec<(&str, &[f32])> = cols.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    let comment = format!("meshbound {kind}");
    vksplat_io::ply::write_columns(path, &refs, &[&comment]).unwrap();
}

struct Setup {
    dir: PathBuf,
    rest: Vec<f32>,
    faces: Vec<u32>,
    obj: PathBuf,
    /// [rest, bent] as a vertex file, 1 frame per second.
    seq: PathBuf,
}

fn setup(tag: &str) -> Setup {
    let dir = temp_dir(tag);
    let (rest, faces) = grid(9);
    let obj = dir.join("rest.obj");
    write_obj(&obj, &rest, &faces);
    let seq = dir.join("seq.npy");
    let mut frames = rest.clone();
    frames.extend(bend(&rest));
    std::fs::write(&seq, npy_bytes(&[2, rest.len() / 3, 3], &frames)).unwrap();
    Setup {
        dir,
        rest,
        faces,
        obj,
        seq,
    }
}

fn binding(s: &Setup, kind: &str, n: usize, seed: u64) -> PathBuf {
    let p = s.dir.join(format!("{kind}.ply"));
    write_binding(&p, kind, n, s.faces.len() / 3, &mut Rng::new(seed));
    p
}

fn assert_close(what: &str, a: &Option<Vec<f32>>, b: &Option<Vec<f32>>, abs: f32, rel: f32) {
    let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let (max, bad) = compare(a, b, abs, rel);
    assert!(bad == 0.0, "{what}: differ (max {max}, {bad} of values)");
}

/// Same rotation up to the quaternion's sign.
fn same_rotation(a: &[f32], b: &[f32], tol: f32) -> bool {
    let d: f32 = (0..4).map(|k| a[k] * b[k]).sum();
    (d.abs() - 1.0).abs() < tol
}

/// GPU path == CPU path for every binding kind, on a bent mesh halfway through the vertex file.
#[test]
fn gpu_and_cpu_paths_agree() {
    let Some(gpu) = Gpu::new() else { return };
    let s = setup("gpu");
    let obj = s.obj.to_string_lossy().into_owned();
    let seq = s.seq.to_string_lossy().into_owned();
    for (k, kind) in KINDS.iter().enumerate() {
        for sugar in ["rest", "editable"] {
            if sugar == "editable" && *kind != "sugar" {
                continue;
            }
            let src = binding(&s, kind, 400, 10 + k as u64);
            let params = [
                ("mesh", obj.as_str()),
                ("vertex_file", seq.as_str()),
                ("fps", "1"),
                ("sugar", sugar),
            ];
            let mut g =
                VariantScene::new(&gpu.renderer, open(&src, &params), EvalPath::Gpu).unwrap();
            let mut c =
                VariantScene::new(&gpu.renderer, open(&src, &params), EvalPath::Cpu).unwrap();
            for t in [0.0, 0.6] {
                g.evaluate(&gpu.renderer, t).unwrap();
                c.evaluate(&gpu.renderer, t).unwrap();
                let (go, co) = (
                    g.download_outputs(&gpu.renderer).unwrap(),
                    c.download_outputs(&gpu.renderer).unwrap(),
                );
                let what = format!("{kind}/{sugar} t={t}");
                assert_close(&format!("{what} means"), &go.means, &co.means, 2e-5, 2e-4);
                assert_close(
                    &format!("{what} log_scales"),
                    &go.log_scales,
                    &co.log_scales,
                    2e-4,
                    2e-4,
                );
                let (gr, cr) = (go.rotations.unwrap(), co.rotations.unwrap());
                for i in 0..gr.len() / 4 {
                    assert!(
                        same_rotation(&gr[4 * i..4 * i + 4], &cr[4 * i..4 * i + 4], 1e-4),
                        "{what}: rotation {i}: {:?} vs {:?}",
                        &gr[4 * i..4 * i + 4],
                        &cr[4 * i..4 * i + 4]
                    );
                }
            }
        }
    }
}

fn quat(q: &[f32]) -> DQuat {
    DQuat::from_xyzw(q[1] as f64, q[2] as f64, q[3] as f64, q[0] as f64).normalize()
}

/// A rigid motion of the whole mesh (given by the host, frame by frame) moves every splat of
/// every binding rigidly: means by the motion, rotations composed with it, log-scales
/// unchanged; and host vertices equal to a vertex file's frame give that frame exactly.
#[test]
fn rigid_motions_move_every_splat_rigidly() {
    let s = setup("rigid");
    let obj = s.obj.to_string_lossy().into_owned();
    let seq = s.seq.to_string_lossy().into_owned();
    let turn = DQuat::from_axis_angle(DVec3::new(0.3, -0.5, 0.8).normalize(), 1.1);
    let shift = DVec3::new(0.4, -1.2, 2.5);
    let moved: Vec<f32> = s
        .rest
        .chunks_exact(3)
        .flat_map(|p| {
            let q = turn * DVec3::new(p[0] as f64, p[1] as f64, p[2] as f64) + shift;
            [q.x as f32, q.y as f32, q.z as f32]
        })
        .collect();
    write_obj(&s.dir.join("seq_00.obj"), &s.rest, &s.faces);
    write_obj(&s.dir.join("seq_01.obj"), &bend(&s.rest), &s.faces);
    let objs = s.dir.join("seq_##.obj").to_string_lossy().into_owned();
    for (k, kind) in KINDS.iter().enumerate() {
        let src = binding(&s, kind, 300, 40 + k as u64);
        let at_rest: HostSplats = open(&src, &[("mesh", &obj)]).cpu_frame(0.0).unwrap();
        let mut inst = open(&src, &[("mesh", &obj)]);
        inst.set_param("vertices", &moved).unwrap();
        let out = inst.cpu_frame(0.0).unwrap();
        let (m0, m1) = (at_rest.means.unwrap(), out.means.unwrap());
        let (r0, r1) = (at_rest.rotations.unwrap(), out.rotations.unwrap());
        let (l0, l1) = (at_rest.log_scales.unwrap(), out.log_scales.unwrap());
        for i in 0..m0.len() / 3 {
            let p = v3(&m0, i).as_dvec3();
            let want = turn * p + shift;
            let got = v3(&m1, i).as_dvec3();
            assert!(
                (want - got).length() < 1e-5,
                "{kind}: splat {i}: mean {got} vs {want}"
            );
            let q = turn * quat(&r0[4 * i..4 * i + 4]);
            let g = quat(&r1[4 * i..4 * i + 4]);
            assert!(
                q.dot(g).abs() > 1.0 - 1e-6,
                "{kind}: splat {i}: rotation {g:?} vs {q:?}"
            );
            for a in 0..3 {
                assert!(
                    (l0[3 * i + a] - l1[3 * i + a]).abs() < 1e-4,
                    "{kind}: splat {i}: log-scale"
                );
            }
        }
        // Host vertices == the vertex file's frame, bit for bit.
        let mut from_file = open(&src, &[("mesh", &obj), ("vertex_file", &seq), ("fps", "1")]);
        let mut from_host = open(&src, &[("mesh", &obj)]);
        from_host.set_param("vertices", &bend(&s.rest)).unwrap();
        let (a, b) = (
            from_file.cpu_frame(1.0).unwrap(),
            from_host.cpu_frame(0.0).unwrap(),
        );
        assert!(
            a.means == b.means && a.rotations == b.rotations && a.log_scales == b.log_scales,
            "{kind}: host stream differs from the file"
        );
        // A numbered OBJ sequence of the same frames gives the same splats.
        let mut from_objs = open(
            &src,
            &[("mesh", &obj), ("vertex_file", &objs), ("fps", "1")],
        );
        let c = from_objs.cpu_frame(0.5).unwrap();
        let d = from_file.cpu_frame(0.5).unwrap();
        assert!(
            c.means == d.means && c.rotations == d.rotations,
            "{kind}: OBJ sequence differs from the .npy"
        );
        // ... and the deformation did something.
        assert!(
            a.means != Some(m0.clone()),
            "{kind}: the bent mesh moved nothing"
        );
    }
}

fn triangle(s: &Setup, v: &[f32], f: usize) -> [DVec3; 3] {
    [0, 1, 2].map(|k| v3(v, s.faces[3 * f + k] as usize).as_dvec3())
}

/// SuGaR and GaMeS splats on a bent (non-rigidly deformed) mesh: centres at their barycentric
/// point of the deformed triangle (inside it, on its plane), normal axis (the first, the
/// thin one) along the deformed face normal.
#[test]
fn flat_splats_stay_on_their_deformed_triangles() {
    let s = setup("flat");
    let obj = s.obj.to_string_lossy().into_owned();
    let bent = bend(&s.rest);
    for kind in ["sugar", "games"] {
        let src = binding(&s, kind, 300, 77);
        let cols = vksplat_io::ply::read_columns(&src, &["face_index"]).unwrap();
        let mut inst = open(&src, &[("mesh", &obj)]);
        inst.set_param("vertices", &bent).unwrap();
        let out = inst.cpu_frame(0.0).unwrap();
        let (m, r, l) = (
            out.means.unwrap(),
            out.rotations.unwrap(),
            out.log_scales.unwrap(),
        );
        for i in 0..m.len() / 3 {
            let f = cols.column(0)[i] as usize;
            let [a, b, c] = triangle(&s, &bent, f);
            let n = (b - a).cross(c - a).normalize();
            let p = v3(&m, i).as_dvec3();
            assert!((p - a).dot(n).abs() < 1e-5, "{kind} {i}: off the plane");
            // Inside: the barycentric coordinates are all ≥ 0.
            let area = (b - a).cross(c - a).dot(n);
            let w = [
                (c - b).cross(p - b).dot(n),
                (a - c).cross(p - c).dot(n),
                (b - a).cross(p - a).dot(n),
            ];
            assert!(
                w.iter().all(|x| *x / area > -1e-5),
                "{kind} {i}: outside its triangle"
            );
            let axis = DMat3::from_quat(quat(&r[4 * i..4 * i + 4])).x_axis;
            assert!(
                axis.dot(n).abs() > 1.0 - 1e-5,
                "{kind} {i}: normal axis {axis} vs {n}"
            );
            // The normal axis is the thin one.
            assert!(
                l[3 * i] < l[3 * i + 1] && l[3 * i] < l[3 * i + 2],
                "{kind} {i}: not flat"
            );
        }
    }
}

/// Bad input: a binding made for a bigger mesh, a vertex file of another topology, NaN
/// vertices (from the host and in a file) fail with messages naming the problem; a face
/// that collapses hides its splats (log-scale −30) and leaves the others alone.
#[test]
fn bad_input_fails_clearly() {
    let s = setup("bad");
    let obj = s.obj.to_string_lossy().into_owned();
    let faces = s.faces.len() / 3;
    // Face indices up to 2·F: most bindings hit a face the mesh lacks.
    let src = s.dir.join("big.ply");
    write_binding(&src, "gaussianavatars", 200, 2 * faces, &mut Rng::new(3));
    let e = try_open("meshbound", &src, &[("mesh", &obj)])
        .err()
        .unwrap();
    assert!(
        e.contains("big.ply") && e.contains(&format!("the mesh has {faces} faces")),
        "{e}"
    );
    let src = binding(&s, "games", 1000, 4);
    let e = try_open("meshbound", &src, &[]).err().unwrap();
    assert!(e.contains("mesh="), "{e}");
    // A vertex file with another vertex count.
    let wrong = s.dir.join("wrong.npy");
    std::fs::write(&wrong, npy_bytes(&[1, 5, 3], &[0.5; 15])).unwrap();
    let e = try_open(
        "meshbound",
        &src,
        &[("mesh", &obj), ("vertex_file", &wrong.to_string_lossy())],
    )
    .err()
    .unwrap();
    assert!(
        e.contains("wrong.npy") && e.contains("expected [T, 81, 3]"),
        "{e}"
    );
    // NaN in a vertex file.
    let mut v = s.rest.clone();
    v[7] = f32::NAN;
    let nan = s.dir.join("nan.npy");
    std::fs::write(&nan, npy_bytes(&[1, 81, 3], &v)).unwrap();
    let e = try_open(
        "meshbound",
        &src,
        &[("mesh", &obj), ("vertex_file", &nan.to_string_lossy())],
    )
    .err()
    .unwrap();
    assert!(e.contains("nan.npy") && e.contains("not finite"), "{e}");
    // Host vertices of the wrong count.
    let mut inst = open(&src, &[("mesh", &obj)]);
    inst.set_param("vertices", &s.rest[..30]).unwrap();
    let e = inst.cpu_frame(0.0).unwrap_err().to_string();
    assert!(e.contains("10 vertices given") && e.contains("81"), "{e}");
    // A collapsed face: vertex 0's face(s) collapse onto a line; only their splats hide.
    let mut v = s.rest.clone();
    // Faces 0 (0, 1, 10) and 1 (0, 10, 9): move 10 onto 0, collapsing both.
    let first = [v[0], v[1], v[2]];
    v[30..33].copy_from_slice(&first);
    let cols = vksplat_io::ply::read_columns(&src, &["face_index"]).unwrap();
    inst.set_param("vertices", &v).unwrap();
    let out = inst.cpu_frame(0.0).unwrap();
    let l = out.log_scales.unwrap();
    let mut hidden = 0;
    for i in 0..l.len() / 3 {
        let f = cols.column(0)[i] as usize;
        let t = &s.faces[3 * f..3 * f + 3];
        let collapsed = t.contains(&10) && t.contains(&0);
        let touches = t.contains(&10);
        if collapsed {
            hidden += 1;
            assert_eq!(l[3 * i], -30.0, "splat {i} on collapsed face {f}");
        } else if !touches {
            assert!(
                l[3 * i] > -30.0 && l[3 * i].is_finite(),
                "splat {i} on face {f}"
            );
        }
        assert!(l[3 * i..3 * i + 3].iter().all(|x| x.is_finite()));
    }
    assert!(
        hidden > 0,
        "no splat on the collapsed faces (pick another seed)"
    );
}

/// The CLI renders a binding PLY with its mesh, and a mismatched binding exits with code 4
/// naming the plugin and the file.
#[test]
fn cli_renders_and_refuses_mismatched_bindings() {
    let s = setup("cli");
    let pd = plugin_dir().to_string_lossy().into_owned();
    let src = binding(&s, "sugar", 200, 5);
    let out = s.dir.join("out.png");
    let mesh = format!("mesh={}", s.obj.display());
    let seq = format!("vertex_file={}", s.seq.display());
    let args = |src: &Path| -> Vec<String> {
        [
            "render",
            "--plugin",
            "meshbound",
            "--plugin-dir",
            &pd,
            &src.to_string_lossy(),
            "--param",
            &mesh,
            "--param",
            &seq,
            "--time",
            "0.5",
            "--width",
            "48",
            "--height",
            "48",
            "-o",
            &out.to_string_lossy(),
        ]
        .map(String::from)
        .to_vec()
    };
    let a = args(&src);
    let o = vksplat(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_exit(&o, 0);
    assert!(out.is_file());
    let big = s.dir.join("mismatch.ply");
    write_binding(&big, "sugar", 200, 100 * s.faces.len(), &mut Rng::new(6));
    let a = args(&big);
    let o = vksplat(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_exit(&o, 4);
    let e = stderr(&o);
    assert!(
        e.contains("meshbound") && e.contains("mismatch.ply") && e.contains("faces"),
        "{e}"
    );
}

fn data(name: &str) -> PathBuf {
    root().join("tests/data/gltf").join(name)
}

fn cov_of(q: &[f32], ls: &[f32]) -> [f32; 6] {
    let r = DMat3::from_quat(quat(q));
    let s = DVec3::new(
        (2.0 * ls[0] as f64).exp(),
        (2.0 * ls[1] as f64).exp(),
        (2.0 * ls[2] as f64).exp(),
    );
    let c = r * DMat3::from_diagonal(s) * r.transpose();
    [
        c.x_axis.x, c.y_axis.x, c.z_axis.x, c.y_axis.y, c.z_axis.y, c.z_axis.z,
    ]
    .map(|x| x as f32)
}

/// RiggedSimple sampled the same way by both plugins (same seed ⇒ same splats), driven (a)
/// by the skinned plugin's LBS and (b) by this plugin through the skinned vertices: every
/// centre agrees, and the splats of triangles skinned to one joint alone (the rigid parts)
/// render the same image (max difference ≤ 2/255) at several times.
#[test]
fn rigged_simple_agrees_with_the_skinned_plugin() {
    let Some(mut gpu) = Gpu::new() else { return };
    let src = data("RiggedSimple.gltf");
    let params = [("splats_per_triangle", "6"), ("seed", "9")];
    let mut mb = open(&src, &params);
    let mut sk = try_open("skinned", &src, &params).unwrap();
    let (t0, t1) = mb.desc.time_range.unwrap();
    assert_eq!(Some((t0, t1)), sk.desc.time_range);
    // Which splats are rigid: the plugins' sampling order (triangle by triangle, zero-area
    // triangles skipped), triangles whose vertices all hang on one joint.
    let model = vksplat_rig::load(&src).unwrap();
    let mut rigid = Vec::new();
    for (mi, m) in model.meshes.iter().enumerate() {
        for smp in vksplat_rig::sample_surface(m.triangles.len(), 6, 9 ^ ((mi as u64) << 32)) {
            let t = m.triangles[smp.triangle as usize];
            let p = t.map(|v| Vec3::from(m.positions[v as usize]));
            if vksplat_rig::triangle_frame(p[0], p[1], p[2]).is_none() {
                continue;
            }
            let one = |v: u32| {
                let (j, w) = (m.joints[v as usize], m.weights[v as usize]);
                let sum: f32 = w.iter().sum();
                (0..4).find(|&k| w[k] / sum > 0.9999).map(|k| j[k])
            };
            let j = one(t[0]);
            rigid.push(j.is_some() && j == one(t[1]) && j == one(t[2]));
        }
    }
    let n = rigid.len();
    assert_eq!(mb.desc.splat_count, n);
    let rigid_count = rigid.iter().filter(|r| **r).count();
    assert!(
        rigid_count > n / 4 && rigid_count < n,
        "{rigid_count} of {n} rigid"
    );
    let settings = RenderSettings::default();
    for t in [t0, (t0 + t1) * 0.4, t1 * 0.8] {
        let a = sk.cpu_frame(t).unwrap();
        let b = mb.cpu_frame(t).unwrap();
        assert_close(&format!("t={t} means"), &a.means, &b.means, 1e-4, 1e-4);
        let (am, bm) = (a.means.unwrap(), b.means.unwrap());
        let ac = a.covariances.unwrap();
        let (bq, bl) = (b.rotations.unwrap(), b.log_scales.unwrap());
        let pick = |v: &[f32], w: usize| -> Vec<f32> {
            (0..n)
                .filter(|&i| rigid[i])
                .flat_map(|i| v[w * i..w * (i + 1)].to_vec())
                .collect()
        };
        let b_cov: Vec<f32> = (0..n)
            .flat_map(|i| cov_of(&bq[4 * i..4 * i + 4], &bl[3 * i..3 * i + 3]))
            .collect();
        let (ai, bi) = (&sk.desc.initial, &mb.desc.initial);
        let opac = pick(ai.opacity_logits.as_ref().unwrap(), 1);
        let sh = pick(ai.sh.as_ref().unwrap(), 3);
        assert_eq!(ai.sh, bi.sh, "colours differ");
        assert_eq!(ai.opacity_logits, bi.opacity_logits, "opacities differ");
        let mut images = Vec::new();
        for (means, covs) in [
            (pick(&am, 3), pick(&ac, 6)),
            (pick(&bm, 3), pick(&b_cov, 6)),
        ] {
            let m3: Vec<[f32; 3]> = means.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
            let c6: Vec<[f32; 6]> = covs
                .chunks_exact(6)
                .map(|c| c.try_into().unwrap())
                .collect();
            let update = SceneUpdate {
                means: Some(&m3),
                opacity_logits: Some(&opac),
                sh: Some(&sh),
                covariances: Some(&c6),
                ..Default::default()
            };
            let mut scene = Scene::from_arrays(&gpu.renderer, m3.len(), 0, &update).unwrap();
            let cam = framing(&pick(&am, 3), 96);
            let (f, _) = scene.render(&mut gpu.renderer, &cam, &settings, t).unwrap();
            images.push(f.rgba);
        }
        let (max, _) = compare(&images[0], &images[1], 0.0, 0.0);
        assert!(max <= 2.0 / 255.0, "t={t}: rigid parts differ by {max}");
        let covered = images[0].chunks_exact(4).filter(|p| p[3] > 0.5).count();
        assert!(covered > 100, "t={t}: only {covered} pixels covered");
    }
}

/// A camera looking down +z at the bounding box of `means`, from 3 radii away.
fn framing(means: &[f32], size: u32) -> vksplat_io::Camera {
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

/// A glTF written by hand for the morph tests: accessors of f32 (or u16 indices) packed into
/// one base64 `data:` buffer.
#[derive(Default)]
struct GltfBuilder {
    bin: Vec<u8>,
    views: Vec<serde_json::Value>,
    accessors: Vec<serde_json::Value>,
}

impl GltfBuilder {
    /// An accessor of `kind` (SCALAR, VEC3, VEC4) over f32 values; returns its index.
    fn floats(&mut self, kind: &str, values: &[f32]) -> usize {
        let comps = match kind {
            "VEC3" => 3,
            "VEC4" => 4,
            _ => 1,
        };
        let offset = self.bin.len();
        for v in values {
            self.bin.extend(v.to_le_bytes());
        }
        self.views.push(serde_json::json!({
            "buffer": 0, "byteOffset": offset, "byteLength": 4 * values.len()
        }));
        let mut a = serde_json::json!({
            "bufferView": self.views.len() - 1, "componentType": 5126,
            "count": values.len() / comps, "type": kind
        });
        if kind == "SCALAR" {
            let lo = values.iter().cloned().fold(f32::INFINITY, f32::min);
            let hi = values.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            a["min"] = serde_json::json!([lo]);
            a["max"] = serde_json::json!([hi]);
        }
        self.accessors.push(a);
        self.accessors.len() - 1
    }

    /// Unsigned 8-bit VEC4 (joints) or u16 SCALAR indices, padded to 4 bytes.
    fn ints(&mut self, kind: &str, ctype: u32, values: &[u32]) -> usize {
        let comps = if kind == "VEC4" { 4 } else { 1 };
        let offset = self.bin.len();
        for &v in values {
            match ctype {
                5121 => self.bin.push(v as u8),
                _ => self.bin.extend((v as u16).to_le_bytes()),
            }
        }
        let len = self.bin.len() - offset;
        while !self.bin.len().is_multiple_of(4) {
            self.bin.push(0);
        }
        self.views.push(serde_json::json!({
            "buffer": 0, "byteOffset": offset, "byteLength": len
        }));
        self.accessors.push(serde_json::json!({
            "bufferView": self.views.len() - 1, "componentType": ctype,
            "count": values.len() / comps, "type": kind
        }));
        self.accessors.len() - 1
    }

    fn write(self, path: &Path, mut doc: serde_json::Value) {
        doc["asset"] = serde_json::json!({"version": "2.0"});
        doc["buffers"] = serde_json::json!([{
            "byteLength": self.bin.len(),
            "uri": format!(
                "data:application/octet-stream;base64,{}",
                vksplat_io::gltf_container::encode_base64(&self.bin)
            )
        }]);
        doc["bufferViews"] = serde_json::Value::Array(self.views);
        doc["accessors"] = serde_json::Value::Array(self.accessors);
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    }
}

/// The morph test's mesh: a 3×3 grid in the xy plane, 8 triangles, and two targets.
struct MorphFixture {
    base: Vec<[f64; 3]>,
    deltas: [Vec<[f64; 3]>; 2],
    /// Key times and the weights per key (LINEAR/STEP), and the CUBICSPLINE tangents.
    times: [f32; 3],
    keys: [[f32; 2]; 3],
    in_tan: [[f32; 2]; 3],
    out_tan: [[f32; 2]; 3],
}

fn morph_fixture() -> MorphFixture {
    let mut base = Vec::new();
    let mut d0 = Vec::new();
    let mut d1 = Vec::new();
    for j in 0..3 {
        for i in 0..3 {
            let (x, y) = (i as f64 * 0.5, j as f64 * 0.5);
            base.push([x, y, 0.0]);
            // Target 0 lifts the middle and pushes x; target 1 shears in y and lifts one corner.
            d0.push([0.1 * x, 0.0, if i == 1 && j == 1 { 0.5 } else { 0.1 * x }]);
            d1.push([0.0, 0.25 * x, 0.3 * (x * y)]);
        }
    }
    MorphFixture {
        base,
        deltas: [d0, d1],
        times: [0.0, 1.0, 2.5],
        keys: [[0.0, 0.0], [1.0, 0.0], [0.5, 1.0]],
        in_tan: [[0.0, 0.0], [0.4, -0.3], [1.0, 0.2]],
        out_tan: [[0.8, 0.1], [-0.5, 0.6], [0.0, 0.0]],
    }
}

impl MorphFixture {
    /// Vertex `v` at weights `w` (closed form: base + Σ w_i Δ_i) plus `offset`.
    fn vertex(&self, v: usize, w: [f64; 2], offset: [f64; 3]) -> DVec3 {
        let mut p = DVec3::from(self.base[v]) + DVec3::from(offset);
        for (k, wk) in w.iter().enumerate() {
            p += DVec3::from(self.deltas[k][v]) * *wk;
        }
        p
    }

    /// The weights at `t` by the glTF formulas (clamped outside the keys).
    fn weights(&self, interp: &str, t: f64) -> [f64; 2] {
        let ts = self.times.map(|x| x as f64);
        let k = |i: usize| self.keys[i].map(|x| x as f64);
        if t <= ts[0] {
            return k(0);
        }
        if t >= ts[2] {
            return k(2);
        }
        let i = if t < ts[1] { 0 } else { 1 };
        let dt = ts[i + 1] - ts[i];
        let u = (t - ts[i]) / dt;
        [0, 1].map(|c| {
            let (p0, p1) = (k(i)[c], k(i + 1)[c]);
            match interp {
                "STEP" => p0,
                "LINEAR" => p0 + (p1 - p0) * u,
                _ => {
                    let (b0, a1) = (self.out_tan[i][c] as f64, self.in_tan[i + 1][c] as f64);
                    let (u2, u3) = (u * u, u * u * u);
                    (2.0 * u3 - 3.0 * u2 + 1.0) * p0
                        + (u3 - 2.0 * u2 + u) * dt * b0
                        + (-2.0 * u3 + 3.0 * u2) * p1
                        + (u3 - u2) * dt * a1
                }
            }
        })
    }

    /// Writes the glTF: node 0 an unskinned morphed mesh translated by (1, 0, 0) with node
    /// weights [0.25, 0.5]; node 2 the same mesh skinned to joint node 1 (translation
    /// (0, 2, 0)), mesh weights [0.1, 0.2]. Animation 0: LINEAR weights on node 0, STEP on
    /// node 2; animation 1: CUBICSPLINE on node 0 only. `edit` may break the document.
    fn write(&self, path: &Path, edit: impl FnOnce(&mut serde_json::Value, &mut GltfBuilder)) {
        let mut b = GltfBuilder::default();
        let flat =
            |v: &[[f64; 3]]| -> Vec<f32> { v.iter().flat_map(|p| p.map(|x| x as f32)).collect() };
        let pos = b.floats("VEC3", &flat(&self.base));
        let t0 = b.floats("VEC3", &flat(&self.deltas[0]));
        let t1 = b.floats("VEC3", &flat(&self.deltas[1]));
        let mut idx = Vec::new();
        for j in 0..2u32 {
            for i in 0..2u32 {
                let a = j * 3 + i;
                idx.extend([a, a + 1, a + 4, a, a + 4, a + 3]);
            }
        }
        let indices = b.ints("SCALAR", 5123, &idx);
        let joints = b.ints("VEC4", 5121, &[0; 36]);
        let weights = b.floats("VEC4", &[1.0f32, 0.0, 0.0, 0.0].repeat(9));
        let time = b.floats("SCALAR", &self.times);
        let keys: Vec<f32> = self.keys.iter().flatten().copied().collect();
        let lin = b.floats("SCALAR", &keys);
        let mut cubic = Vec::new();
        for k in 0..3 {
            cubic.extend(self.in_tan[k]);
            cubic.extend(self.keys[k]);
            cubic.extend(self.out_tan[k]);
        }
        let cub = b.floats("SCALAR", &cubic);
        let mut doc = serde_json::json!({
            "scene": 0,
            "scenes": [{"nodes": [0, 1]}],
            "nodes": [
                {"mesh": 0, "translation": [1.0, 0.0, 0.0], "weights": [0.25, 0.5]},
                {"translation": [0.0, 2.0, 0.0], "children": [2]},
                {"mesh": 0, "skin": 0}
            ],
            "skins": [{"joints": [1]}],
            "meshes": [{
                "weights": [0.1, 0.2],
                "primitives": [{
                    "attributes": {"POSITION": pos, "JOINTS_0": joints, "WEIGHTS_0": weights},
                    "indices": indices,
                    "targets": [{"POSITION": t0}, {"POSITION": t1}]
                }]
            }],
            "animations": [
                {"name": "linear_step",
                 "samplers": [
                    {"input": time, "output": lin, "interpolation": "LINEAR"},
                    {"input": time, "output": lin, "interpolation": "STEP"}],
                 "channels": [
                    {"sampler": 0, "target": {"node": 0, "path": "weights"}},
                    {"sampler": 1, "target": {"node": 2, "path": "weights"}}]},
                {"name": "cubic",
                 "samplers": [{"input": time, "output": cub, "interpolation": "CUBICSPLINE"}],
                 "channels": [{"sampler": 0, "target": {"node": 0, "path": "weights"}}]}
            ]
        });
        edit(&mut doc, &mut b);
        b.write(path, doc);
    }
}

/// Checks every posed vertex of the fixture's two surfaces (0: skinned node 2, offset
/// (0, 2, 0); 1: unskinned node 0, offset (1, 0, 0)) against the closed form.
fn check_morph(
    f: &MorphFixture,
    posed: &[Vec<Vec3>],
    weights: [[f64; 2]; 2],
    what: &str,
) -> Vec<Vec<DVec3>> {
    let offsets = [[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]];
    let mut want_all = Vec::new();
    for (s, verts) in posed.iter().enumerate() {
        let want: Vec<DVec3> = (0..9)
            .map(|v| f.vertex(v, weights[s], offsets[s]))
            .collect();
        for (v, (got, want)) in verts.iter().zip(&want).enumerate() {
            assert!(
                (got.as_dvec3() - *want).abs().max_element() < 1e-5,
                "{what}: surface {s} vertex {v}: {got} != {want}"
            );
        }
        want_all.push(want);
    }
    want_all
}

/// glTF morph targets: positions at and between keyframes equal base + Σ w_i Δ_i with the
/// weights of the glTF formulas (LINEAR, STEP, CUBICSPLINE with tangents), node weights over
/// mesh weights as defaults, morph before skin; `meshbound` drives its splats by them.
#[test]
fn gltf_morph_targets_follow_the_closed_form() {
    let dir = temp_dir("morph");
    let f = morph_fixture();
    let path = dir.join("morph.gltf");
    f.write(&path, |_, _| {});
    let model = vksplat_rig::load(&path).unwrap();
    assert_eq!((model.meshes.len(), model.morphed.len()), (1, 1));
    let defaults = [[0.1, 0.2], [0.25, 0.5]];
    check_morph(
        &f,
        &model.posed_vertices(None, 0.7).unwrap(),
        defaults,
        "rest",
    );
    for t in [-1.0, 0.0, 0.3, 1.0, 1.7, 2.5, 3.0] {
        let w = [f.weights("STEP", t), f.weights("LINEAR", t)];
        let posed = model.posed_vertices(Some(0), t).unwrap();
        check_morph(&f, &posed, w, &format!("linear/step t={t}"));
    }
    // STEP holds the key until the next one; LINEAR's midpoint is the mean of the keys.
    assert_eq!(f.weights("STEP", 0.99), [0.0, 0.0]);
    assert_eq!(f.weights("LINEAR", 1.75), [0.75, 0.5]);
    for t in [0.2, 0.5, 1.0, 1.9, 2.4] {
        let w = [defaults[0], f.weights("CUBICSPLINE", t)];
        let posed = model.posed_vertices(Some(1), t).unwrap();
        check_morph(&f, &posed, w, &format!("cubic t={t}"));
    }
    // The cubic spline leaves the straight line between keys (the tangents count).
    let (c, l) = (f.weights("CUBICSPLINE", 0.5), f.weights("LINEAR", 0.5));
    assert!((c[0] - l[0]).abs() > 0.05, "{c:?} {l:?}");

    // meshbound samples the glTF's two surfaces and moves the splats with the morph.
    let samples = model.sample_splats(true, 2, 3, 1 << 20).unwrap();
    for (anim, interp) in [("linear_step", "LINEAR"), ("cubic", "CUBICSPLINE")] {
        let mut mb = open(
            &path,
            &[
                ("splats_per_triangle", "2"),
                ("seed", "3"),
                ("animation", anim),
            ],
        );
        assert_eq!(mb.desc.splat_count, samples.len());
        assert_eq!(mb.desc.time_range, Some((0.0, 2.5)));
        for t in [0.6, 1.0, 2.0] {
            let w = if interp == "LINEAR" {
                [f.weights("STEP", t), f.weights("LINEAR", t)]
            } else {
                [defaults[0], f.weights(interp, t)]
            };
            let posed = model
                .posed_vertices(Some((anim == "cubic") as usize), t)
                .unwrap();
            let want = check_morph(&f, &posed, w, anim);
            let means = mb.cpu_frame(t).unwrap().means.unwrap();
            let mut idx = Vec::new();
            for j in 0..2u32 {
                for i in 0..2u32 {
                    let a = j * 3 + i;
                    idx.extend([a, a + 1, a + 4, a, a + 4, a + 3]);
                }
            }
            for (i, s) in samples.iter().enumerate() {
                let tri = &idx[3 * s.triangle as usize..3 * s.triangle as usize + 3];
                let p: DVec3 = (0..3)
                    .map(|k| want[s.mesh][tri[k] as usize] * s.bary[k] as f64)
                    .sum();
                let got = v3(&means, i).as_dvec3();
                // vksplat's frame is glTF's turned 180° about x.
                let p = DVec3::new(p.x, -p.y, -p.z);
                assert!(
                    (got - p).abs().max_element() < 1e-4,
                    "{anim} t={t} splat {i}: {got} != {p}"
                );
            }
        }
    }
}

/// Broken morph data fails at load, naming the file and the glTF object.
#[test]
fn gltf_morph_errors_are_clear() {
    let dir = temp_dir("morph-bad");
    let f = morph_fixture();
    type Edit = Box<dyn FnOnce(&mut serde_json::Value, &mut GltfBuilder)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "weights_count",
            Box::new(|d, _| d["nodes"][0]["weights"] = serde_json::json!([0.1, 0.2, 0.3])),
            "node 0: weights has 3 entries for 2 morph targets",
        ),
        (
            "mesh_weights",
            Box::new(|d, _| d["meshes"][0]["weights"] = serde_json::json!([1.0])),
            "mesh 0: weights has 1 entries for 2 morph targets",
        ),
        (
            "output_count",
            Box::new(|d, b| {
                d["animations"][0]["samplers"][0]["output"] = b.floats("SCALAR", &[0.0; 5]).into()
            }),
            "5 output values for 3 keys of 2 morph weights",
        ),
        (
            "cubic_count",
            Box::new(|d, b| {
                d["animations"][1]["samplers"][0]["output"] = b.floats("SCALAR", &[0.0; 6]).into()
            }),
            "6 output values for 3 keys of 2 morph weights (expected 18",
        ),
        (
            "target_count",
            Box::new(|d, b| {
                d["meshes"][0]["primitives"][0]["targets"][1]["POSITION"] =
                    b.floats("VEC3", &[0.0; 24]).into()
            }),
            "morph target 1 POSITION has 8 elements, the primitive has 9 vertices",
        ),
        (
            "target_type",
            Box::new(|d, b| {
                d["meshes"][0]["primitives"][0]["targets"][0]["POSITION"] =
                    b.floats("SCALAR", &[0.0; 9]).into()
            }),
            "has type SCALAR, expected VEC3",
        ),
        (
            "no_mesh",
            Box::new(|d, _| d["animations"][1]["channels"][0]["target"]["node"] = 1.into()),
            "node 1, which has no mesh with morph targets",
        ),
    ];
    for (name, edit, want) in cases {
        let path = dir.join(format!("{name}.gltf"));
        f.write(&path, edit);
        let e = vksplat_rig::load(&path).unwrap_err().to_string();
        assert!(
            e.contains(&format!("{name}.gltf")) && e.contains(want),
            "{name}: {e}"
        );
    }
    // Through the plugin: the same message, no instance.
    let e = try_open("meshbound", &dir.join("weights_count.gltf"), &[])
        .err()
        .unwrap();
    assert!(
        e.contains("weights_count.gltf") && e.contains("3 entries"),
        "{e}"
    );
}

/// A PLY mesh: binary little-endian (`list uchar int vertex_indices`), big-endian
/// (`list uchar uint vertex_index`) or ASCII, with quads (a, b, d, c) per grid cell where
/// `quads` — fanned from a they are the grid's triangles (a, b, d), (a, d, c).
fn write_ply_mesh(path: &Path, v: &[f32], f: &[u32], encoding: &str, quads: bool) {
    let polys: Vec<Vec<u32>> = if quads {
        f.chunks_exact(6)
            .map(|t| vec![t[0], t[1], t[2], t[5]])
            .collect()
    } else {
        f.chunks_exact(3).map(|t| t.to_vec()).collect()
    };
    let (format, list) = match encoding {
        "le" => ("binary_little_endian", "list uchar int vertex_indices"),
        "be" => ("binary_big_endian", "list uchar uint vertex_index"),
        _ => ("ascii", "list uchar int vertex_indices"),
    };
    let mut b = format!(
        "ply\nformat {format} 1.0\nelement vertex {}\nproperty float x\nproperty float y\n\
         property float z\nelement face {}\nproperty {list}\nend_header\n",
        v.len() / 3,
        polys.len()
    )
    .into_bytes();
    let word = |b: &mut Vec<u8>, x: [u8; 4]| {
        if encoding == "be" {
            b.extend(x.iter().rev());
        } else {
            b.extend(x);
        }
    };
    if encoding == "ascii" {
        for p in v.chunks_exact(3) {
            b.extend(format!("{} {} {}\n", p[0], p[1], p[2]).bytes());
        }
        for p in &polys {
            let idx: Vec<String> = p.iter().map(|i| i.to_string()).collect();
            b.extend(format!("{} {}\n", p.len(), idx.join(" ")).bytes());
        }
    } else {
        for x in v {
            word(&mut b, x.to_le_bytes());
        }
        for p in &polys {
            b.push(p.len() as u8);
            for i in p {
                word(&mut b, i.to_le_bytes());
            }
        }
    }
    std::fs::write(path, b).unwrap();
}

/// PLY meshes are rest meshes and numbered sequences like OBJs: quads fanned from their first
/// vertex give the OBJ's triangles, so the bindings make the same splats bit for bit; a
/// PLY sequence frame with other faces, or an index past the vertices, is a clear error.
#[test]
fn ply_meshes_and_sequences_equal_obj_ones() {
    let s = setup("plymesh");
    let obj = s.obj.to_string_lossy().into_owned();
    let seq = s.seq.to_string_lossy().into_owned();
    let ply = s.dir.join("rest.ply");
    write_ply_mesh(&ply, &s.rest, &s.faces, "le", true);
    let ply = ply.to_string_lossy().into_owned();
    // A PLY sequence in three encodings: frame 0 ASCII triangles, 1 big-endian quads.
    write_ply_mesh(&s.dir.join("seq_0.ply"), &s.rest, &s.faces, "ascii", false);
    write_ply_mesh(
        &s.dir.join("seq_1.ply"),
        &bend(&s.rest),
        &s.faces,
        "be",
        true,
    );
    let plys = s.dir.join("seq_#.ply").to_string_lossy().into_owned();
    // Two kinds keep the test short: SplattingAvatar reads vertex normals, GaMeS the faces.
    for (k, kind) in ["splattingavatar", "games"].iter().enumerate() {
        let src = binding(&s, kind, 200, 70 + k as u64);
        let bent = bend(&s.rest);
        let mut a = open(&src, &[("mesh", &obj)]);
        let mut b = open(&src, &[("mesh", &ply)]);
        a.set_param("vertices", &bent).unwrap();
        b.set_param("vertices", &bent).unwrap();
        let (a, b) = (a.cpu_frame(0.0).unwrap(), b.cpu_frame(0.0).unwrap());
        assert!(
            a.means == b.means && a.rotations == b.rotations && a.log_scales == b.log_scales,
            "{kind}: PLY rest mesh differs from the OBJ"
        );
        let mut from_npy = open(&src, &[("mesh", &ply), ("vertex_file", &seq), ("fps", "1")]);
        let mut from_plys = open(
            &src,
            &[("mesh", &ply), ("vertex_file", &plys), ("fps", "1")],
        );
        assert_eq!(from_plys.desc.time_range, Some((0.0, 1.0)));
        for t in [0.0, 0.5, 1.0] {
            let (c, d) = (
                from_plys.cpu_frame(t).unwrap(),
                from_npy.cpu_frame(t).unwrap(),
            );
            assert!(
                c.means == d.means && c.rotations == d.rotations,
                "{kind} t={t}: PLY sequence differs from the .npy"
            );
        }
    }
    // A frame with other faces: named, with both counts.
    let src = binding(&s, "games", 50, 5);
    let mut faces = s.faces.clone();
    faces.truncate(faces.len() - 3);
    write_ply_mesh(&s.dir.join("bad_0.ply"), &s.rest, &faces, "le", false);
    let e = try_open(
        "meshbound",
        &src,
        &[
            ("mesh", &ply),
            ("vertex_file", &s.dir.join("bad_#.ply").to_string_lossy()),
        ],
    )
    .err()
    .unwrap();
    assert!(
        e.contains("bad_0.ply") && e.contains("127 faces") && e.contains("128"),
        "{e}"
    );
    // An index past the vertices.
    let mut faces = s.faces.clone();
    faces[5] = 81;
    let broken = s.dir.join("broken.ply");
    write_ply_mesh(&broken, &s.rest, &faces, "ascii", false);
    let e = try_open("meshbound", &src, &[("mesh", &broken.to_string_lossy())])
        .err()
        .unwrap();
    assert!(
        e.contains("broken.ply") && e.contains("refers to vertex 81, the file has 81 vertices"),
        "{e}"
    );
}

/// A C program (tests/c/meshbound_host.c) streams host vertices per frame through the C API
/// (vksplat_scene_set_param "vertices") and renders 3 frames; the CLI renders the same frames
/// from the equivalent .npy (`vertex_file`, fps 1, --time = frame). Both evaluate the plugin
/// on the GPU from the same f32 vertices (the file's frame f at t = f is the frame itself, no
/// interpolation), so the images are bit-identical: asserted exactly.
#[test]
fn c_host_vertex_stream_renders_like_the_vertex_file() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let s = setup("chost");
    let src = binding(&s, "splattingavatar", 400, 11);
    let v = s.rest.len() / 3;
    // Rest, bent, and bent then turned and moved.
    let bent = bend(&s.rest);
    let turn = DQuat::from_axis_angle(DVec3::new(0.2, 1.0, 0.1).normalize(), 0.4);
    let moved: Vec<f32> = bent
        .chunks_exact(3)
        .flat_map(|p| {
            let q = turn * DVec3::new(p[0] as f64, p[1] as f64, p[2] as f64)
                + DVec3::new(-0.1, 0.05, 0.2);
            [q.x as f32, q.y as f32, q.z as f32]
        })
        .collect();
    let frames = [s.rest.clone(), bent, moved].concat();
    let npy = s.dir.join("stream.npy");
    std::fs::write(&npy, npy_bytes(&[3, v, 3], &frames)).unwrap();
    let mut bin = Vec::new();
    bin.extend(3u32.to_le_bytes());
    bin.extend((v as u32).to_le_bytes());
    frames.iter().for_each(|x| bin.extend(x.to_le_bytes()));
    let frames_bin = s.dir.join("frames.bin");
    std::fs::write(&frames_bin, bin).unwrap();

    let (size, focal, t) = (64u32, 50.0, [-0.6f32, -0.5, 2.0]);
    let pd = plugin_dir().to_string_lossy().into_owned();
    let exe = s.dir.join("meshbound_host");
    plugin_support::cc_host(&root().join("tests/c/meshbound_host.c"), &exe);
    let out = std::process::Command::new(&exe)
        .arg(&pd)
        .arg(&src)
        .arg(&s.obj)
        .arg(&frames_bin)
        .arg(&s.dir)
        .args([size.to_string(), focal.to_string()])
        .args(t.map(|x| x.to_string()))
        .env("VKSPLAT_VALIDATION", "1")
        .env_remove("VKSPLAT_PLUGIN_PATH")
        .output()
        .expect("run the C host");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "C host failed:\n{err}");
    assert!(!err.contains("validation error"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("all checks passed"));

    let cam = s.dir.join("cam.json");
    let json = vksplat_tests::cli::camera_json("", size, size, focal, t);
    std::fs::write(&cam, json).unwrap();
    let mesh = format!("mesh={}", s.obj.display());
    let seq = format!("vertex_file={}", npy.display());
    let mut images: Vec<Vec<f32>> = Vec::new();
    for f in 0..3 {
        let exr = s.dir.join(format!("cli_{f}.exr"));
        let time = f.to_string();
        let o = vksplat(&[
            "render",
            "--plugin",
            "meshbound",
            "--plugin-dir",
            &pd,
            "--plugin-eval",
            "gpu",
            &src.to_string_lossy(),
            "--param",
            &mesh,
            "--param",
            &seq,
            "--param",
            "fps=1",
            "--time",
            &time,
            "--camera",
            &cam.to_string_lossy(),
            "--exr-color",
            "raw",
            "-o",
            &exr.to_string_lossy(),
        ]);
        assert_exit(&o, 0);
        let img = vksplat_io::read_exr(&exr).unwrap();
        assert_eq!((img.width, img.height), (size, size));
        let c_rgba: Vec<f32> = std::fs::read(s.dir.join(format!("frame_{f}.f32")))
            .unwrap()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(c_rgba.len(), (size * size * 4) as usize);
        let mut compared = 0;
        for (name, values) in &img.channels {
            // Z (depth) has no counterpart: the C host asks for colour only.
            let Some(k) = ["R", "G", "B", "A"].iter().position(|c| c == name) else {
                continue;
            };
            let worst = values
                .iter()
                .enumerate()
                .map(|(i, x)| (x - c_rgba[4 * i + k]).abs())
                .fold(0.0f32, f32::max);
            assert_eq!(
                worst, 0.0,
                "frame {f} channel {name}: C and CLI differ by {worst}"
            );
            compared += 1;
        }
        assert_eq!(compared, 4, "frame {f}: RGBA channels compared");
        let lit = c_rgba.chunks_exact(4).filter(|p| p[3] > 0.5).count();
        assert!(
            lit > 100,
            "frame {f}: {lit} covered pixels: nothing rendered?"
        );
        images.push(c_rgba);
    }
    assert!(
        images[0] != images[1] && images[1] != images[2],
        "the frames do not move"
    );
}

/// SplattingAvatar's own files (`point_cloud.ply` + `embedding.json` + the `cano_mesh` OBJ)
/// give exactly what the equivalent `splattingavatar` binding PLY gives, whether the
/// embedding is found beside the PLY or named by `embedding=`; the PLY's posed `x y z` and
/// `rot_*` are ignored. Mismatched or broken files fail, naming the file.
#[test]
fn splattingavatar_files_equal_the_binding_ply() {
    let Some(gpu) = Gpu::new() else { return };
    let s = setup("safiles");
    let n = 300;
    let src = binding(&s, "splattingavatar", n, 77);
    let names = [
        "f_dc_0",
        "f_dc_1",
        "f_dc_2",
        "opacity",
        "scale_0",
        "scale_1",
        "scale_2",
        "rot_0",
        "rot_1",
        "rot_2",
        "rot_3",
        "face_index",
        "bary_0",
        "bary_1",
        "bary_2",
        "offset",
    ];
    let c = vksplat_io::ply::read_columns(&src, &names).unwrap();
    let col = |name: &str| c.column(names.iter().position(|x| *x == name).unwrap());
    // The trained files: the PLY holds a posed snapshot (shifted means, another rotation).
    let dir = s.dir.join("sa");
    std::fs::create_dir_all(&dir).unwrap();
    let shifted: Vec<Vec<f32>> = (0..3).map(|k| vec![5.0 + k as f32; n]).collect();
    let mut cols: Vec<(&str, &[f32])> =
        vec![("x", &shifted[0]), ("y", &shifted[1]), ("z", &shifted[2])];
    for name in &names[..7] {
        cols.push((name, col(name)));
    }
    let (one, zero) = (vec![1.0f32; n], vec![0.0f32; n]);
    cols.extend([
        ("rot_0", one.as_slice()),
        ("rot_1", &zero),
        ("rot_2", &zero),
        ("rot_3", &zero),
    ]);
    let ply = dir.join("point_cloud.ply");
    vksplat_io::ply::write_columns(&ply, &cols, &[]).unwrap();
    let row = |i: usize, keys: &[&str]| -> String {
        let v: Vec<String> = keys.iter().map(|k| format!("{}", col(k)[i])).collect();
        format!("[{}]", v.join(","))
    };
    let json = |rows: usize, fidx: &dyn Fn(usize) -> String, rot: &dyn Fn(usize) -> String| {
        let list = |f: &dyn Fn(usize) -> String| (0..rows).map(f).collect::<Vec<_>>().join(",");
        format!(
            "{{\"cano_mesh\": \"../rest.obj\", \"sample_fidxs\": [{}], \"sample_bary\": [{}], \"_xyz\": [{}], \"_rotation\": [{}]}}",
            list(fidx),
            list(&|i| row(i, &["bary_0", "bary_1", "bary_2"])),
            list(&|i| format!("[0.3,0.6,{}]", col("offset")[i])),
            list(rot),
        )
    };
    let fidx = |i: usize| format!("{}", col("face_index")[i] as u32);
    let rot = |i: usize| row(i, &["rot_0", "rot_1", "rot_2", "rot_3"]);
    let emb = dir.join("embedding.json");
    std::fs::write(&emb, json(n, &fidx, &rot)).unwrap();
    let seq = s.seq.to_string_lossy().into_owned();
    let obj = s.obj.to_string_lossy().into_owned();
    let emb_s = emb.to_string_lossy().into_owned();
    let elsewhere = s.dir.join("elsewhere.ply");
    std::fs::copy(&ply, &elsewhere).unwrap();
    let eval = |src: &Path, extra: &[(&str, &str)]| {
        let mut params = vec![("vertex_file", seq.as_str()), ("fps", "1")];
        params.extend_from_slice(extra);
        let mut v = VariantScene::new(&gpu.renderer, open(src, &params), EvalPath::Cpu).unwrap();
        v.evaluate(&gpu.renderer, 0.6).unwrap();
        v.download_outputs(&gpu.renderer).unwrap()
    };
    let want = eval(&src, &[("mesh", obj.as_str())]);
    let unit = |q: &[f32]| -> Vec<f32> {
        let l = q.iter().map(|x| x * x).sum::<f32>().sqrt();
        q.iter().map(|x| x / l).collect()
    };
    for (what, got) in [
        ("beside", eval(&ply, &[])),
        (
            "embedding=",
            eval(&elsewhere, &[("embedding", emb_s.as_str())]),
        ),
    ] {
        assert_close(
            &format!("{what} means"),
            &got.means,
            &want.means,
            1e-6,
            1e-6,
        );
        assert_close(
            &format!("{what} log_scales"),
            &got.log_scales,
            &want.log_scales,
            1e-6,
            1e-6,
        );
        let (g, w) = (got.rotations.unwrap(), want.rotations.clone().unwrap());
        for i in 0..n {
            let (a, b) = (unit(&g[4 * i..4 * i + 4]), unit(&w[4 * i..4 * i + 4]));
            assert!(
                same_rotation(&a, &b, 1e-5),
                "{what}: rotation {i}: {a:?} vs {b:?}"
            );
        }
        // The means follow the binding, not the PLY's posed snapshot.
        assert!(got.means.unwrap()[0] < 2.0);
    }
    // Broken or mismatched embeddings: clear errors naming the file.
    let bad = |text: String, needles: &[&str]| {
        std::fs::write(&emb, text).unwrap();
        let e = try_open("meshbound", &ply, &[]).err().expect("must fail");
        for needle in needles {
            assert!(e.contains(needle), "{e:?} lacks {needle:?}");
        }
    };
    bad(
        json(n - 1, &fidx, &rot),
        &["embedding.json", "point_cloud.ply", "299 rows"],
    );
    bad(
        json(n, &|i| if i == 7 { "10000".into() } else { fidx(i) }, &rot),
        &[
            "embedding.json",
            "splat 7",
            "out of range",
            "rest.obj has 128 faces",
        ],
    );
    bad(
        json(n, &fidx, &|i| {
            if i == 3 {
                "[0,0,0,0]".into()
            } else {
                rot(i)
            }
        }),
        &["embedding.json", "splat 3", "_rotation is zero"],
    );
    bad(
        json(n, &fidx, &rot).replace("../rest.obj", "missing.obj"),
        &["missing.obj"],
    );
    bad("{\"cano_mesh\": ".into(), &["embedding.json", "not JSON"]);
    bad(
        json(n, &fidx, &rot).replace("\"_xyz\"", "\"xyz\""),
        &["embedding.json", "'_xyz' is missing"],
    );
    bad(
        json(n, &fidx, &rot).replace("[0.3,0.6,", "[0.3,"),
        &["embedding.json", "'_xyz' row 0: expected 3 numbers"],
    );
}
