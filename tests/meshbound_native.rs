//! The meshbound plugin reads the methods' own files: a SuGaR refined checkpoint and a GaMeS
//! `model_params.pt` (+ `point_cloud.ply`), written the way torch.save writes them by
//! `tests/support/torch_pt.py` (no torch needed). Through the CLI each renders exactly what
//! the same binding written as the README's binding PLY (with the mesh as OBJ) renders, on a
//! deformed frame of a vertex sequence; bad checkpoints exit with code 4 naming the file.

mod plugin_support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plugin_support::{bundled_plugin_dir, root};
use serde_json::{json, Value as Json};
use vksplat_io::{read_exr, Splats};
use vksplat_tests::cli::{assert_exit, stderr, vksplat, TempDir};
use vksplat_tests::numpy::npy_bytes;
use vksplat_tests::Rng;

/// A plugin directory holding the cargo-built `meshbound` library and its manifest.
fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| bundled_plugin_dir("meshbound-native", &["meshbound"]))
}

/// Writes the checkpoint `spec` describes with `tests/support/torch_pt.py`.
fn write_pt(path: &Path, root_value: Json) {
    use std::io::Write;
    let spec = json!({"path": path.to_str().unwrap(), "root": root_value});
    let mut child = std::process::Command::new("python3")
        .arg(root().join("tests/support/torch_pt.py"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (the checkpoint writer needs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "checkpoint writer failed");
}

fn tensor(dtype: &str, values: &[f32], shape: &[usize]) -> Json {
    json!({"__tensor__": {"dtype": dtype, "values": values, "shape": shape}})
}

fn long_tensor(values: &[u32], shape: &[usize]) -> Json {
    json!({"__tensor__": {"dtype": "int64", "values": values, "shape": shape}})
}

/// A 3 × 3 vertex grid (8 faces), slightly curved, its OBJ, and a two-frame sequence whose
/// second frame bends and moves it.
struct Mesh {
    vertices: Vec<f32>,
    faces: Vec<u32>,
    obj: PathBuf,
    seq: PathBuf,
}

fn mesh(dir: &TempDir) -> Mesh {
    let mut vertices = Vec::new();
    for j in 0..3 {
        for i in 0..3 {
            let (x, y) = (i as f32 * 0.5 - 0.5, j as f32 * 0.5 - 0.5);
            vertices.extend([x, y, 0.1 * x * y]);
        }
    }
    let mut faces = Vec::new();
    for j in 0..2u32 {
        for i in 0..2u32 {
            let a = 3 * j + i;
            faces.extend([a, a + 1, a + 4, a, a + 4, a + 3]);
        }
    }
    let mut obj = String::new();
    for v in vertices.chunks(3) {
        obj += &format!("v {} {} {}\n", v[0], v[1], v[2]);
    }
    for f in faces.chunks(3) {
        obj += &format!("f {} {} {}\n", f[0] + 1, f[1] + 1, f[2] + 1);
    }
    let obj_path = dir.join("rest.obj");
    std::fs::write(&obj_path, obj).unwrap();
    let bent: Vec<f32> = vertices
        .chunks(3)
        .flat_map(|v| [v[0] * 1.2, v[1] + 0.1, v[2] + 0.3 * v[0] * v[0]])
        .collect();
    let frames = [vertices.clone(), bent].concat();
    let seq = dir.join("seq.npy");
    std::fs::write(&seq, npy_bytes(&[2, 9, 3], &frames)).unwrap();
    Mesh {
        vertices,
        faces,
        obj: obj_path,
        seq,
    }
}

fn uniform(rng: &mut Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.range(lo, hi)).collect()
}

/// Renders `source` through meshbound (`--plugin meshbound` when `by_flag`, else detected)
/// at t = 0.5 of `m`'s sequence, 64 × 64 EXR; returns the pixels.
fn render(
    dir: &TempDir,
    m: &Mesh,
    source: &Path,
    extra: &[String],
    by_flag: bool,
    tag: &str,
) -> Vec<f32> {
    let out = dir.join(&format!("{tag}.exr"));
    let pd = plugin_dir().to_string_lossy().into_owned();
    let seq = format!("vertex_file={}", m.seq.display());
    let mut args: Vec<String> = [
        "render",
        "--plugin-dir",
        &pd,
        &source.to_string_lossy(),
        "--param",
        &seq,
        "--time",
        "0.5",
        "--width",
        "64",
        "--height",
        "64",
        "-o",
        &out.to_string_lossy(),
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().cloned());
    if by_flag {
        args.extend(["--plugin".to_string(), "meshbound".to_string()]);
    }
    let o = vksplat(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_exit(&o, 0);
    let img = read_exr(&out).unwrap();
    img.channels.into_iter().flat_map(|(_, v)| v).collect()
}

fn assert_same_and_visible(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    let lit = a.iter().filter(|&&x| x > 0.01).count();
    assert!(lit > 50, "{what}: only {lit} lit values: nothing rendered?");
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert_eq!(worst, 0.0, "{what}: images differ by up to {worst}");
}

/// SuGaR's barycentric points for 3 splats per face, in its order.
const SUGAR_K3: [[f32; 3]; 3] = [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]];

#[test]
fn sugar_checkpoint_renders_like_its_binding_ply() {
    let dir = TempDir::new("mb-native-sugar");
    let m = mesh(&dir);
    let f = m.faces.len() / 3;
    let n = 3 * f;
    let mut rng = Rng::new(17);
    let densities = uniform(&mut rng, n, 0.0, 3.0);
    let scales = uniform(&mut rng, 2 * n, -3.2, -2.4);
    let quats: Vec<f32> = (0..n)
        .flat_map(|_| [rng.range(-1.0, 1.0), rng.range(0.1, 1.0)])
        .collect();
    let dc = uniform(&mut rng, 3 * n, -1.0, 1.0);
    let rest = uniform(&mut rng, 45 * n, -0.2, 0.2);
    let thickness = 0.003f32;
    let state = json!({"__ordered__": [
        ["_points", tensor("float32", &m.vertices, &[9, 3])],
        ["all_densities", tensor("float32", &densities, &[n, 1])],
        ["_scales", tensor("float32", &scales, &[n, 2])],
        ["_quaternions", tensor("float32", &quats, &[n, 2])],
        ["_sh_coordinates_dc", tensor("float32", &dc, &[n, 1, 3])],
        ["_sh_coordinates_rest", tensor("float32", &rest, &[n, 15, 3])],
        ["surface_mesh_thickness", tensor("float32", &[thickness], &[1])],
        ["_surface_mesh_faces", long_tensor(&m.faces, &[f, 3])]
    ]});
    let pt = dir.join("15000.pt");
    write_pt(
        &pt,
        json!({"state_dict": state, "epoch": 3, "iteration": 15000, "train_losses": [0.5, 0.25]}),
    );
    // The same binding as the README's SuGaR binding PLY.
    let mut cols: Vec<(String, Vec<f32>)> = Vec::new();
    let mut col = |name: &str, f: &dyn Fn(usize) -> f32| {
        cols.push((name.to_string(), (0..n).map(f).collect()));
    };
    for c in ["x", "y", "z"] {
        col(c, &|_| 0.0);
    }
    for c in 0..3 {
        col(&format!("f_dc_{c}"), &|i| dc[3 * i + c]);
    }
    // PLY f_rest is channel-major: f_rest_{c·15 + k}.
    for c in 0..3 {
        for k in 0..15 {
            col(&format!("f_rest_{}", c * 15 + k), &|i| {
                rest[45 * i + 3 * k + c]
            });
        }
    }
    col("opacity", &|i| densities[i]);
    col("scale_0", &|_| thickness.ln());
    col("scale_1", &|i| scales[2 * i]);
    col("scale_2", &|i| scales[2 * i + 1]);
    col("rot_0", &|_| 1.0);
    for c in ["rot_1", "rot_2", "rot_3"] {
        col(c, &|_| 0.0);
    }
    col("face_index", &|i| (i / 3) as f32);
    for (b, name) in ["bary_0", "bary_1", "bary_2"].into_iter().enumerate() {
        col(name, &|i| SUGAR_K3[i % 3][b]);
    }
    col("inplane_0", &|i| quats[2 * i]);
    col("inplane_1", &|i| quats[2 * i + 1]);
    let ply = dir.join("binding.ply");
    let refs: Vec<(&str, &[f32])> = cols
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    vksplat_io::ply::write_columns(&ply, &refs, &["meshbound sugar"]).unwrap();
    let from_pt = render(&dir, &m, &pt, &[], true, "pt");
    let mesh_param = format!("mesh={}", m.obj.display());
    let from_ply = render(&dir, &m, &ply, &["--param".into(), mesh_param], true, "ply");
    assert_same_and_visible(&from_pt, &from_ply, "SuGaR .pt vs binding PLY");
}

#[test]
fn games_model_params_render_like_their_binding_ply() {
    let dir = TempDir::new("mb-native-games");
    let m = mesh(&dir);
    let f = m.faces.len() / 3;
    let k = 2;
    let n = k * f;
    let mut rng = Rng::new(23);
    let alpha = uniform(&mut rng, 3 * n, -0.2, 1.0);
    let rho = uniform(&mut rng, n, 0.3, 0.8);
    // Colours and opacities: point_cloud.ply beside model_params.pt (degree 1).
    let splats = Splats {
        means: (0..n).map(|i| [i as f32 * 0.01, 0.0, 0.0]).collect(),
        rotations: vec![[1.0, 0.0, 0.0, 0.0]; n],
        log_scales: vec![[-3.0; 3]; n],
        opacity_logits: uniform(&mut rng, n, 0.5, 3.0),
        sh_degree: 1,
        sh: uniform(&mut rng, 12 * n, -0.8, 0.8),
    };
    let sub = dir.join("point_cloud/iteration_30000");
    std::fs::create_dir_all(&sub).unwrap();
    vksplat_io::write_ply(&sub.join("point_cloud.ply"), &splats).unwrap();
    let triangles: Vec<f32> = m
        .faces
        .iter()
        .flat_map(|&v| m.vertices[3 * v as usize..3 * v as usize + 3].to_vec())
        .collect();
    let pt = sub.join("model_params.pt");
    write_pt(
        &pt,
        json!({
            "_alpha": {"__tensor__": {"dtype": "float32", "values": alpha, "shape": [f, k, 3], "param": true}},
            "_scale": {"__tensor__": {"dtype": "float32", "values": rho, "shape": [n, 1], "param": true}},
            "vertices": tensor("float32", &m.vertices, &[9, 3]),
            "faces": long_tensor(&m.faces, &[f, 3]),
            "triangles": tensor("float32", &triangles, &[f, 3, 3]),
            "point_cloud": {"__object__": {
                "module": "games.mesh_splatting.utils.graphics_utils",
                "name": "MeshPointCloud",
                "state": {"vertices": tensor("float32", &m.vertices, &[9, 3]),
                          "faces": long_tensor(&m.faces, &[f, 3])}
            }}
        }),
    );
    // The same binding as the README's GaMeS binding PLY.
    let mut cols: Vec<(String, Vec<f32>)> = Vec::new();
    let mut col = |name: &str, f: &dyn Fn(usize) -> f32| {
        cols.push((name.to_string(), (0..n).map(f).collect()));
    };
    for c in ["x", "y", "z"] {
        col(c, &|_| 0.0);
    }
    for c in 0..3 {
        col(&format!("f_dc_{c}"), &|i| splats.sh[12 * i + c]);
    }
    for c in 0..3 {
        for j in 0..3 {
            col(&format!("f_rest_{}", c * 3 + j), &|i| {
                splats.sh[12 * i + 3 * (j + 1) + c]
            });
        }
    }
    col("opacity", &|i| splats.opacity_logits[i]);
    for c in ["scale_0", "scale_1", "scale_2"] {
        col(c, &|_| 0.0);
    }
    col("rot_0", &|_| 1.0);
    for c in ["rot_1", "rot_2", "rot_3"] {
        col(c, &|_| 0.0);
    }
    col("face_index", &|i| (i / k) as f32);
    for a in 0..3 {
        col(&format!("alpha_{a}"), &|i| alpha[3 * i + a]);
    }
    col("rho", &|i| rho[i]);
    let ply = dir.join("binding.ply");
    let refs: Vec<(&str, &[f32])> = cols
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    vksplat_io::ply::write_columns(&ply, &refs, &["meshbound games"]).unwrap();
    let from_pt = render(&dir, &m, &pt, &[], true, "pt");
    let mesh_param = format!("mesh={}", m.obj.display());
    let from_ply = render(&dir, &m, &ply, &["--param".into(), mesh_param], true, "ply");
    assert_same_and_visible(&from_pt, &from_ply, "GaMeS model_params.pt vs binding PLY");
    // model_params.pt picks the plugin by its manifest (name and zip magic), no --plugin.
    let detected = render(&dir, &m, &pt, &[], false, "detected");
    assert_same_and_visible(&detected, &from_pt, "GaMeS detected vs --plugin meshbound");
}

#[test]
fn bad_checkpoints_exit_4_naming_the_file() {
    let dir = TempDir::new("mb-native-bad");
    let m = mesh(&dir);
    let pd = plugin_dir().to_string_lossy().into_owned();
    let run = |src: &Path| {
        let out = dir.join("x.png");
        vksplat(&[
            "render",
            "--plugin",
            "meshbound",
            "--plugin-dir",
            &pd,
            &src.to_string_lossy(),
            "--width",
            "16",
            "--height",
            "16",
            "-o",
            &out.to_string_lossy(),
        ])
    };
    let f = m.faces.len() / 3;
    let sugar = |faces: &[u32], n: usize| {
        json!({"state_dict": {"__ordered__": [
            ["_points", tensor("float32", &m.vertices, &[9, 3])],
            ["_surface_mesh_faces", long_tensor(faces, &[faces.len() / 3, 3])],
            ["all_densities", tensor("float32", &vec![1.0; n], &[n, 1])],
            ["_scales", tensor("float32", &vec![-3.0; 2 * n], &[n, 2])],
            ["_quaternions", tensor("float32", &vec![1.0; 2 * n], &[n, 2])],
            ["_sh_coordinates_dc", tensor("float32", &vec![0.0; 3 * n], &[n, 1, 3])],
            ["_sh_coordinates_rest", tensor("float32", &[], &[n, 0, 3])],
            ["surface_mesh_thickness", tensor("float32", &[0.001], &[1])]
        ]}})
    };
    // A face index past the vertices; 5 splats on 8 faces; K = 2 (not SuGaR's).
    let mut faces = m.faces.clone();
    faces[4] = 9;
    for (name, spec, want) in [
        (
            "badface.pt",
            sugar(&faces, 3 * f),
            "face 1 refers to vertex 9, but 'state_dict._points' has 9",
        ),
        ("count.pt", sugar(&m.faces, 5), "has 5 splats for 8 faces"),
        (
            "k2.pt",
            sugar(&m.faces, 2 * f),
            "2 splats per face; SuGaR uses 1, 3, 4 or 6",
        ),
        (
            "other.pt",
            json!({"model": {"w": tensor("float32", &[1.0], &[1])}}),
            "neither a SuGaR refined model",
        ),
        (
            "games.pt",
            json!({"_alpha": tensor("float32", &vec![0.3; 3 * f], &[f, 1, 3]),
                   "_scale": tensor("float32", &vec![0.3; f], &[f, 1]),
                   "vertices": tensor("float32", &m.vertices, &[9, 3]),
                   "faces": long_tensor(&m.faces, &[f, 3])}),
            "needs its point_cloud.ply beside it",
        ),
    ] {
        let path = dir.join(name);
        write_pt(&path, spec);
        let o = run(&path);
        assert_exit(&o, 4);
        let e = stderr(&o);
        assert!(
            e.contains("meshbound") && e.contains(name) && e.contains(want),
            "{name}: {e}"
        );
    }
    // A legacy (pre-1.6) checkpoint: the pickle magic number, no zip.
    let legacy = dir.join("legacy.pt");
    std::fs::write(&legacy, b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.").unwrap();
    let o = run(&legacy);
    assert_exit(&o, 4);
    let e = stderr(&o);
    assert!(
        e.contains("legacy.pt") && e.contains("legacy (pre-1.6)"),
        "{e}"
    );
}
