//! glTF 2.0 `KHR_gaussian_splatting`: round trips through `.glb`, `.gltf` + `.bin` and
//! `.gltf` with a `data:` URI; an independent reader (Python's json + struct) checks the
//! accessors vksplat writes; the hand-written file after the specification's example renders
//! the colours and positions its numbers say; the same scene as PLY and as glTF renders the
//! same; node transforms equal transforming the splats (covariances, SH at rotated
//! directions); the `spz_2` compression draft round-trips and packs in the LUF frame; bad
//! files fail with input errors; `vksplat info` and `convert` handle both containers.

use std::path::{Path, PathBuf};
use std::process::Command;

use glam::{DMat3, DQuat, DVec3};
use serde_json::Value;
use vksplat_core::reference;
use vksplat_core::{RenderMode, RenderSettings};
use vksplat_io::{read_scene, write_scene, Axes, Format, OutputFormat, Splats, WriteOptions};
use vksplat_tests::cli::{assert_exit, stderr, stdout, vksplat, TempDir};
use vksplat_tests::{camera, random_scene, Rng};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/gltf")
        .join(name)
}

/// A random scene with unit quaternions (so the writer's normalisation changes nothing).
fn scene(seed: u64, n: usize, degree: u32) -> Splats {
    let mut s = random_scene(&mut Rng::new(seed), n, degree);
    for q in &mut s.rotations {
        *q = vksplat_io::math::normalised_quat(*q);
    }
    s
}

fn settings() -> RenderSettings {
    RenderSettings {
        mode: RenderMode::Classic,
        background: [0.0; 3],
        ..Default::default()
    }
}

/// Mean and max absolute difference of two images.
fn image_diff(a: &[f32], b: &[f32]) -> (f64, f32) {
    assert_eq!(a.len(), b.len());
    let mut sum = 0.0;
    let mut max = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        sum += f64::from((x - y).abs());
        max = max.max((x - y).abs());
    }
    (sum / a.len() as f64, max)
}

/// The glTF frame of an RDF scene value (the 180° turn about x).
fn gl(v: [f32; 3]) -> [f32; 3] {
    [v[0], -v[1], -v[2]]
}

#[test]
fn round_trips_through_every_container() {
    let original = scene(1, 2000, 3);
    let dir = TempDir::new("gltf-round");
    for (name, format, embed) in [
        ("s.glb", OutputFormat::Glb, false),
        ("s.gltf", OutputFormat::Gltf, false),
        ("e.gltf", OutputFormat::Gltf, true),
    ] {
        let path = dir.join(name);
        let opts = WriteOptions {
            gltf_embed: embed,
            antialiased: true,
            ..Default::default()
        };
        write_scene(&path, &original, format, &opts).unwrap();
        assert_eq!(dir.join("s.bin").exists(), name != "s.glb", "{name}");
        let back = read_scene(&path).unwrap();
        assert_eq!(
            back.format,
            Format::Gltf {
                binary: format == OutputFormat::Glb,
                spz: false
            }
        );
        assert_eq!(back.frame, Axes::Rub);
        assert!(back.antialiased, "{name}: the antialiasing flag survives");
        let s = &back.splats;
        assert_eq!((s.len(), s.sh_degree), (2000, 3));
        // Positions, rotations and SH are stored exactly (the frame change only flips signs).
        assert_eq!(s.means, original.means, "{name}");
        assert_eq!(s.rotations, original.rotations, "{name}");
        assert_eq!(s.sh, original.sh, "{name}");
        // Scale = exp(log-scale) and opacity = sigmoid(logit) in f32: back within the
        // rounding of the logarithm.
        for (a, b) in s
            .log_scales
            .iter()
            .flatten()
            .zip(original.log_scales.iter().flatten())
        {
            assert!(
                (a - b).abs() <= 2e-6 * b.abs().max(1.0),
                "{name}: {a} vs {b}"
            );
        }
        for (a, b) in s.opacity_logits.iter().zip(&original.opacity_logits) {
            let (pa, pb) = (vksplat_io::math::sigmoid(*a), vksplat_io::math::sigmoid(*b));
            assert!((pa - pb).abs() <= 1.2e-7, "{name}: opacity {pa} vs {pb}");
        }
        // Writing what was read gives the same accessors for every float that is stored
        // unchanged, and scales/opacities within one f32 step.
        let again = dir.join(&format!("again-{name}"));
        write_scene(&again, s, format, &opts).unwrap();
        let twice = read_scene(&again).unwrap().splats;
        assert_eq!(twice.means, s.means);
        assert_eq!(twice.rotations, s.rotations);
        assert_eq!(twice.sh, s.sh);
    }
    // An SH 0 scene writes only the DC coefficients.
    let flat = scene(2, 10, 0);
    let path = dir.join("flat.glb");
    write_scene(&path, &flat, OutputFormat::Glb, &WriteOptions::default()).unwrap();
    let back = read_scene(&path).unwrap();
    assert_eq!(
        (back.splats.sh_degree, back.splats.sh.clone()),
        (0, flat.sh)
    );
    assert!(!back.antialiased);
}

/// Python (json + struct only): reads every accessor of a `.gltf` (external buffer) or `.glb`
/// and prints the primitive's attributes as lists of floats, with the extension object.
const PY_READER: &str = r#"
import json, struct, sys, os
path = sys.argv[1]
raw = open(path, 'rb').read()
if raw[:4] == b'glTF':
    magic, version, length = struct.unpack_from('<4sII', raw, 0)
    assert version == 2 and length == len(raw), (version, length, len(raw))
    jlen, jtype = struct.unpack_from('<II', raw, 12)
    assert jtype == 0x4E4F534A
    doc = json.loads(raw[20:20 + jlen])
    off = 20 + jlen
    blen, btype = struct.unpack_from('<II', raw, off)
    assert btype == 0x004E4942
    buffers = [raw[off + 8:off + 8 + blen]]
else:
    doc = json.loads(raw)
    buffers = [open(os.path.join(os.path.dirname(path), b['uri']), 'rb').read() for b in doc['buffers']]
assert doc['asset']['version'] == '2.0'
assert 'KHR_gaussian_splatting' in doc['extensionsUsed']
node = doc['nodes'][doc['scenes'][doc['scene']]['nodes'][0]]
prim = doc['meshes'][node['mesh']]['primitives'][0]
assert prim['mode'] == 0
out = {'extension': prim['extensions']['KHR_gaussian_splatting'], 'attributes': {}}
sizes = {'SCALAR': 1, 'VEC3': 3, 'VEC4': 4}
for name, index in prim['attributes'].items():
    a = doc['accessors'][index]
    assert a['componentType'] == 5126, a
    v = doc['bufferViews'][a['bufferView']]
    n = a['count'] * sizes[a['type']]
    assert a.get('byteOffset', 0) + 4 * n <= v['byteLength']
    start = v.get('byteOffset', 0) + a.get('byteOffset', 0)
    vals = list(struct.unpack_from('<%df' % n, buffers[v['buffer']], start))
    if name == 'POSITION':
        for c in range(3):
            assert min(vals[c::3]) == a['min'][c] and max(vals[c::3]) == a['max'][c]
    out['attributes'][name] = vals
print(json.dumps(out))
"#;

fn python_read(path: &Path) -> Value {
    let out = Command::new("python3")
        .args(["-c", PY_READER])
        .arg(path)
        .output()
        .expect("python3 runs (CI has it)");
    assert!(
        out.status.success(),
        "python3 reader failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn an_independent_reader_sees_the_specified_accessors() {
    let s = scene(3, 50, 2);
    let dir = TempDir::new("gltf-python");
    for (name, format) in [("p.gltf", OutputFormat::Gltf), ("p.glb", OutputFormat::Glb)] {
        let path = dir.join(name);
        write_scene(&path, &s, format, &WriteOptions::default()).unwrap();
        let doc = python_read(&path);
        let ext = &doc["extension"];
        assert_eq!(ext["kernel"], "ellipse");
        assert_eq!(ext["colorSpace"], "srgb_rec709_display");
        let attr = |n: &str| -> Vec<f32> {
            doc["attributes"][n]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: no attribute {n}"))
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect()
        };
        let k = s.coeffs_per_splat();
        let pos = attr("POSITION");
        let rot = attr("KHR_gaussian_splatting:ROTATION");
        let scale = attr("KHR_gaussian_splatting:SCALE");
        let opacity = attr("KHR_gaussian_splatting:OPACITY");
        assert_eq!(
            doc["attributes"].as_object().unwrap().len(),
            4 + 9,
            "SH degree 2"
        );
        let sh_sign = [1.0f32, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0];
        for i in 0..s.len() {
            // glTF frame (y up, z back): y and z of vectors negate; rotation (x, y, z, w).
            assert_eq!(pos[i * 3..i * 3 + 3], gl(s.means[i]));
            let [w, x, y, z] = s.rotations[i];
            assert_eq!(rot[i * 4..i * 4 + 4], [x, -y, -z, w]);
            for a in 0..3 {
                assert_eq!(scale[i * 3 + a], s.log_scales[i][a].exp());
            }
            assert_eq!(opacity[i], vksplat_io::math::sigmoid(s.opacity_logits[i]));
            assert!((0.0..=1.0).contains(&opacity[i]));
            for l in 0..=2usize {
                for m in 0..=2 * l {
                    let kk = l * l + m;
                    let v = attr(&format!("KHR_gaussian_splatting:SH_DEGREE_{l}_COEF_{m}"));
                    for c in 0..3 {
                        assert_eq!(v[i * 3 + c], sh_sign[kk] * s.sh[(i * k + kk) * 3 + c]);
                    }
                }
            }
        }
    }
}

#[test]
fn the_specification_example_renders_as_its_numbers_say() {
    let file = read_scene(&data("khr_minimal.gltf")).unwrap();
    assert_eq!(
        file.format,
        Format::Gltf {
            binary: false,
            spz: false
        }
    );
    let s = &file.splats;
    assert_eq!((s.len(), s.sh_degree), (2, 1));
    // Node translation (0, 0, −1) applied, then the turn about x into RDF.
    assert_eq!(s.means[0], [0.0, 0.0, 4.0]);
    assert_eq!(s.means[1], [1.5, -1.5, 6.0]);
    assert!((s.log_scales[0][0] - 0.5f32.ln()).abs() < 1e-7);
    // A 64×64 camera at the origin looking down +z (glTF: −z), principal point on a pixel
    // centre so that splat 0 is evaluated at its mean.
    let cam = camera(64, 64, 64.0, 64.0, 32.5, 32.5);
    let img = reference::render(s, &cam, &settings());
    let px = |x: usize, y: usize| -> [f32; 3] {
        let o = (y * 64 + x) * 4;
        [img.rgba[o], img.rgba[o + 1], img.rgba[o + 2]]
    };
    // Splat 0: α = opacity · G = 0.99 at its centre; colour (0.8 − 0.1, 0.2, 0.2) from the
    // degree-1 z term seen along −z.
    let c = px(32, 32);
    for (got, want) in c.iter().zip([0.7f32, 0.2, 0.2]) {
        assert!((got - 0.99 * want).abs() < 1e-4, "centre {c:?}");
    }
    // Splat 1 lies up and to the right (glTF y up = image rows above the centre): blue at
    // (32.5 + 16, 32.5 − 16) under a faint edge of splat 0.
    let b = px(48, 16);
    assert!(b[2] > 0.75 && b[0] < 0.25 && b[1] < 0.25, "up-right {b:?}");
    let mirrored = px(48, 48);
    assert!(mirrored[2] < 0.05, "nothing down-right: {mirrored:?}");
}

#[test]
fn normalized_integer_accessors_read_as_the_specification_says() {
    // The example with ROTATION as normalized signed shorts and OPACITY as normalized
    // unsigned bytes in a second buffer.
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(data("khr_minimal.gltf")).unwrap()).unwrap();
    let mut bytes = Vec::new();
    for q in [[0i16, 0, 0, 32767], [0, -32767, 0, 0]] {
        for v in q {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    bytes.extend_from_slice(&[252, 51, 0, 0]);
    let uri = format!(
        "data:application/octet-stream;base64,{}",
        vksplat_io::gltf_container::encode_base64(&bytes)
    );
    doc["buffers"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"byteLength": 20, "uri": uri}));
    let views = doc["bufferViews"].as_array_mut().unwrap();
    views.push(serde_json::json!({"buffer": 1, "byteOffset": 0, "byteLength": 16}));
    views.push(serde_json::json!({"buffer": 1, "byteOffset": 16, "byteLength": 2}));
    let accessors = doc["accessors"].as_array_mut().unwrap();
    accessors.push(serde_json::json!({"bufferView": 9, "componentType": 5122,
        "normalized": true, "count": 2, "type": "VEC4"}));
    accessors.push(serde_json::json!({"bufferView": 10, "componentType": 5121,
        "normalized": true, "count": 2, "type": "SCALAR"}));
    let attrs = &mut doc["meshes"][0]["primitives"][0]["attributes"];
    attrs["KHR_gaussian_splatting:ROTATION"] = 9.into();
    attrs["KHR_gaussian_splatting:OPACITY"] = 10.into();
    let dir = TempDir::new("gltf-normalized");
    let path = dir.join("n.gltf");
    std::fs::write(&path, doc.to_string()).unwrap();
    let s = read_scene(&path).unwrap().splats;
    assert_eq!(s.rotations[0], [1.0, 0.0, 0.0, 0.0]);
    // (x, y, z, w) = (0, −1, 0, 0) in glTF: (w, x, y, z) = (0, 0, 1, 0) after the turn.
    assert_eq!(s.rotations[1], [0.0, 0.0, 1.0, 0.0]);
    for (logit, byte) in s.opacity_logits.iter().zip([252.0f32, 51.0]) {
        let p = vksplat_io::math::sigmoid(*logit);
        assert!((p - byte / 255.0).abs() < 1e-6, "{p} vs {}", byte / 255.0);
    }
}

#[test]
fn the_same_scene_as_ply_and_as_gltf_renders_the_same() {
    let s = scene(4, 3000, 3);
    let dir = TempDir::new("gltf-frame");
    let ply = dir.join("s.ply");
    let glb = dir.join("s.glb");
    write_scene(&ply, &s, OutputFormat::Ply, &WriteOptions::default()).unwrap();
    write_scene(&glb, &s, OutputFormat::Glb, &WriteOptions::default()).unwrap();
    let cam = camera(96, 72, 80.0, 80.0, 48.0, 36.0);
    let a = reference::render(&read_scene(&ply).unwrap().splats, &cam, &settings()).rgba;
    let b = reference::render(&read_scene(&glb).unwrap().splats, &cam, &settings()).rgba;
    let (mean, max) = image_diff(&a, &b);
    assert!(
        mean < 1e-6 && max < 1e-4,
        "PLY vs glTF: mean {mean:e}, max {max:e}"
    );
    // Control: without the SH sign changes of the frame turn the images differ.
    let mut wrong = read_scene(&glb).unwrap().splats;
    let flips = [
        1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0,
    ];
    for (j, v) in wrong.sh.iter_mut().enumerate() {
        *v *= flips[(j / 3) % 16];
    }
    let w = reference::render(&wrong, &cam, &settings()).rgba;
    let (wrong_mean, _) = image_diff(&w, &a);
    assert!(
        wrong_mean > 100.0 * mean.max(1e-7),
        "control {wrong_mean:e}"
    );
}

/// The 3DGS SH basis from the specification's appendix (constants and Condon–Shortley signs),
/// written independently of the library.
fn sh_eval(c: &[f32], d: DVec3) -> f64 {
    let (x, y, z) = (d.x, d.y, d.z);
    let (xx, yy, zz) = (x * x, y * y, z * z);
    let basis = [
        0.282_094_791_773_878_1,
        -0.488_602_511_902_919_9 * y,
        0.488_602_511_902_919_9 * z,
        -0.488_602_511_902_919_9 * x,
        1.092_548_430_592_079 * x * y,
        -1.092_548_430_592_079 * y * z,
        0.315_391_565_252_52 * (2.0 * zz - xx - yy),
        -1.092_548_430_592_079 * x * z,
        0.546_274_215_296_039_5 * (xx - yy),
        -0.590_043_589_926_643_5 * y * (3.0 * xx - yy),
        2.890_611_442_640_554 * x * y * z,
        -0.457_045_799_464_465_7 * y * (4.0 * zz - xx - yy),
        0.373_176_332_590_115_4 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy),
        -0.457_045_799_464_465_7 * x * (4.0 * zz - xx - yy),
        1.445_305_721_320_277 * z * (xx - yy),
        -0.590_043_589_926_643_5 * x * (xx - 3.0 * yy),
    ];
    basis.iter().zip(c).map(|(b, v)| b * f64::from(*v)).sum()
}

fn covariance(q: [f32; 4], ls: [f32; 3]) -> DMat3 {
    let r = DMat3::from_quat(
        DQuat::from_xyzw(
            f64::from(q[1]),
            f64::from(q[2]),
            f64::from(q[3]),
            f64::from(q[0]),
        )
        .normalize(),
    );
    let s = DMat3::from_diagonal(DVec3::new(
        f64::from(ls[0]).exp(),
        f64::from(ls[1]).exp(),
        f64::from(ls[2]).exp(),
    ));
    r * s * s * r.transpose()
}

#[test]
fn node_transforms_move_turn_and_scale_the_splats_and_their_sh() {
    let s = scene(5, 200, 3);
    let dir = TempDir::new("gltf-node");
    let path = dir.join("n.gltf");
    let opts = WriteOptions {
        gltf_embed: true,
        ..Default::default()
    };
    write_scene(&path, &s, OutputFormat::Gltf, &opts).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let axis = DVec3::new(0.3, -0.8, 0.5).normalize();
    let q = DQuat::from_axis_angle(axis, 1.1);
    let t = DVec3::new(0.5, -1.0, 2.0);
    // F: the frame turn (glTF ↔ RDF), its own inverse.
    let f = DMat3::from_diagonal(DVec3::new(1.0, -1.0, -1.0));
    for (case, scale) in [
        ("uniform", DVec3::splat(1.5)),
        ("anisotropic", DVec3::new(0.5, 2.0, 1.25)),
    ] {
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        doc["nodes"][0]["translation"] = serde_json::json!(t.to_array());
        doc["nodes"][0]["rotation"] = serde_json::json!([q.x, q.y, q.z, q.w]);
        doc["nodes"][0]["scale"] = serde_json::json!(scale.to_array());
        let moved = dir.join(&format!("{case}.gltf"));
        std::fs::write(&moved, doc.to_string()).unwrap();
        let got = read_scene(&moved).unwrap().splats;
        // The node matrix in vksplat's frame: F (R S) F, translation F t.
        let m = f * DMat3::from_quat(q) * DMat3::from_diagonal(scale) * f;
        let rot = f * DMat3::from_quat(q) * f;
        let tr = f * t;
        let mut rng = Rng::new(6);
        for i in 0..s.len() {
            let p = DVec3::new(
                f64::from(s.means[i][0]),
                f64::from(s.means[i][1]),
                f64::from(s.means[i][2]),
            );
            let want = m * p + tr;
            for a in 0..3 {
                assert!(
                    (f64::from(got.means[i][a]) - want[a]).abs() < 1e-5,
                    "{case} mean {i}"
                );
            }
            let want = m * covariance(s.rotations[i], s.log_scales[i]) * m.transpose();
            let have = covariance(got.rotations[i], got.log_scales[i]);
            let size = want
                .to_cols_array()
                .iter()
                .fold(0.0f64, |a, v| a.max(v.abs()));
            let err = (want - have)
                .to_cols_array()
                .iter()
                .fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(
                err <= 2e-5 * size,
                "{case} covariance {i}: {err:e} of {size:e}"
            );
            // The colour seen along d after the turn is the colour seen along Rᵀd before.
            for _ in 0..4 {
                let d = DVec3::new(
                    f64::from(rng.normal()),
                    f64::from(rng.normal()),
                    f64::from(rng.normal()),
                )
                .normalize();
                for c in 0..3 {
                    let coeffs = |x: &Splats| -> Vec<f32> {
                        (0..16).map(|kk| x.sh[(i * 16 + kk) * 3 + c]).collect()
                    };
                    let after = sh_eval(&coeffs(&got), d);
                    let before = sh_eval(&coeffs(&s), rot.transpose() * d);
                    assert!(
                        (after - before).abs() < 2e-5,
                        "{case} SH {i}: {after} vs {before}"
                    );
                }
            }
        }
    }
    // A mirroring node (negative scale) is refused: the specification leaves it undefined.
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["nodes"][0]["scale"] = serde_json::json!([1.0, 1.0, -1.0]);
    let bad = dir.join("mirror.gltf");
    std::fs::write(&bad, doc.to_string()).unwrap();
    let e = read_scene(&bad).unwrap_err().to_string();
    assert!(
        e.contains("mirror.gltf") && e.contains("determinant"),
        "{e}"
    );
}

#[test]
fn node_hierarchies_compose_parent_then_child() {
    // The example's mesh under a child node given as a column-major `matrix` (translation
    // (0, 0, −1)), whose parent turns 90° about y and then moves by (1, 0, 0).
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(data("khr_minimal.gltf")).unwrap()).unwrap();
    let h = std::f64::consts::FRAC_1_SQRT_2;
    doc["nodes"] = serde_json::json!([
        {"children": [1], "translation": [1.0, 0.0, 0.0], "rotation": [0.0, h, 0.0, h]},
        {"mesh": 0, "matrix": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -1, 1]}
    ]);
    let dir = TempDir::new("gltf-hierarchy");
    let path = dir.join("h.gltf");
    std::fs::write(&path, doc.to_string()).unwrap();
    let s = read_scene(&path).unwrap().splats;
    // Splat 0: (0, 0, −3) → child (0, 0, −4) → turned (−4, 0, 0) → moved (−3, 0, 0); glTF → RDF
    // keeps x. Splat 1: (1.5, 1.5, −5) → (1.5, 1.5, −6) → (−6, 1.5, −1.5) → (−5, 1.5, −1.5),
    // RDF (−5, −1.5, 1.5).
    for (got, want) in [
        (s.means[0], [-3.0f32, 0.0, 0.0]),
        (s.means[1], [-5.0, -1.5, 1.5]),
    ] {
        for a in 0..3 {
            assert!((got[a] - want[a]).abs() < 1e-5, "{got:?} vs {want:?}");
        }
    }
    // The splats' own rotation (identity) picks up the node's turn, in RDF: F R_y(90°) F.
    let want = DQuat::from_mat3(
        &(DMat3::from_diagonal(DVec3::new(1.0, -1.0, -1.0))
            * DMat3::from_rotation_y(std::f64::consts::FRAC_PI_2)
            * DMat3::from_diagonal(DVec3::new(1.0, -1.0, -1.0))),
    );
    let q = s.rotations[0];
    let dot = (f64::from(q[0]) * want.w
        + f64::from(q[1]) * want.x
        + f64::from(q[2]) * want.y
        + f64::from(q[3]) * want.z)
        .abs();
    assert!(dot > 1.0 - 1e-6, "{q:?} vs {want:?}");
}

/// The bytes of buffer view `index` of a GLB written by vksplat (one buffer: the BIN chunk).
fn glb_view(glb: &[u8], index: usize) -> Vec<u8> {
    let (json, bin) = vksplat_io::gltf_container::split_glb(glb).unwrap();
    let doc: Value = serde_json::from_slice(json).unwrap();
    let v = &doc["bufferViews"][index];
    let off = v["byteOffset"].as_u64().unwrap_or(0) as usize;
    let len = v["byteLength"].as_u64().unwrap() as usize;
    bin.unwrap()[off..off + len].to_vec()
}

#[test]
fn the_spz_compression_draft_round_trips_in_the_luf_frame() {
    let mut s = scene(7, 1500, 3);
    for v in s.sh.iter_mut() {
        *v = v.clamp(-0.95, 0.95);
    }
    let dir = TempDir::new("gltf-spz");
    let path = dir.join("c.glb");
    let opts = WriteOptions {
        gltf_spz: true,
        ..Default::default()
    };
    write_scene(&path, &s, OutputFormat::Glb, &opts).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (json, _) = vksplat_io::gltf_container::split_glb(&bytes).unwrap();
    let doc: Value = serde_json::from_slice(json).unwrap();
    let ext = "KHR_gaussian_splatting_compression_spz_2";
    assert_eq!(doc["extensionsRequired"][0], ext);
    let prim = &doc["meshes"][0]["primitives"][0];
    let view = prim["extensions"]["KHR_gaussian_splatting"]["extensions"][ext]["bufferView"]
        .as_u64()
        .unwrap() as usize;
    let back = read_scene(&path).unwrap();
    assert_eq!(
        back.format,
        Format::Gltf {
            binary: true,
            spz: true
        }
    );
    let b = &back.splats;
    assert_eq!((b.len(), b.sh_degree), (1500, 3));
    for i in 0..s.len() {
        for a in 0..3 {
            // 12 fractional bits: half a step, 1.2e-4.
            assert!((b.means[i][a] - s.means[i][a]).abs() <= 1.3e-4, "mean {i}");
        }
    }
    // The payload alone is an SPZ v2 file packed from LUF (glTF with x and z negated): read
    // as a plain SPZ (RUB → RDF) it is the scene turned half a turn about y... composed with
    // the glTF turn: x and z negated relative to vksplat's frame.
    let payload = glb_view(&bytes, view);
    let spz = dir.join("payload.spz");
    std::fs::write(&spz, &payload).unwrap();
    let plain = read_scene(&spz).unwrap();
    assert!(matches!(plain.format, Format::Spz { version: 2, .. }));
    for i in 0..s.len() {
        let m = plain.splats.means[i];
        assert_eq!([-m[0], m[1], -m[2]], b.means[i], "payload mean {i}");
    }
    // It renders like the uncompressed scene within SPZ's quantization.
    let cam = camera(96, 72, 80.0, 80.0, 48.0, 36.0);
    let a = reference::render(&s, &cam, &settings()).rgba;
    let c = reference::render(b, &cam, &settings()).rgba;
    let (mean, _) = image_diff(&a, &c);
    // For scale: the same scene through a plain SPZ v2 file, and the spz_2 scene against it
    // (the same quantization, mirrored: equal up to rounding ties).
    let v2 = dir.join("v2.spz");
    let v2_opts = WriteOptions {
        spz_version: 2,
        ..Default::default()
    };
    write_scene(&v2, &s, OutputFormat::Spz, &v2_opts).unwrap();
    let d = reference::render(&read_scene(&v2).unwrap().splats, &cam, &settings()).rgba;
    let (plain, _) = image_diff(&a, &d);
    let (between, between_max) = image_diff(&c, &d);
    eprintln!(
        "render vs original: spz_2 mean {mean:.3e}, plain SPZ v2 mean {plain:.3e}; spz_2 vs \
         plain v2: mean {between:.3e}, max {between_max:.3e}"
    );
    assert!(mean < 1.2 * plain, "spz_2 {mean:e} vs plain v2 {plain:e}");
    assert!(between < 0.1 * plain, "spz_2 vs plain v2: {between:e}");
}

#[test]
fn broken_files_are_input_errors_naming_the_file() {
    let dir = TempDir::new("gltf-bad");
    let s = scene(8, 20, 1);
    let good = dir.join("g.gltf");
    write_scene(&good, &s, OutputFormat::Gltf, &WriteOptions::default()).unwrap();
    let text = std::fs::read_to_string(&good).unwrap();
    let edit = |name: &str, f: &dyn Fn(&mut Value)| -> String {
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        f(&mut doc);
        let p = dir.join(name);
        std::fs::write(&p, doc.to_string()).unwrap();
        let e = read_scene(&p).unwrap_err();
        assert!(matches!(e, vksplat_io::IoError::Input { .. }), "{e:?}");
        let m = e.to_string();
        assert!(m.contains(name), "{m}");
        m
    };
    let prim = |d: &mut Value| d["meshes"][0]["primitives"][0].clone();
    let m = edit("mode.gltf", &|d| {
        d["meshes"][0]["primitives"][0]["mode"] = 4.into()
    });
    assert!(m.contains("POINTS"), "{m}");
    let m = edit("kernel.gltf", &|d| {
        d["meshes"][0]["primitives"][0]["extensions"]["KHR_gaussian_splatting"]["kernel"] =
            "customShape".into()
    });
    assert!(m.contains("customShape"), "{m}");
    let m = edit("partial.gltf", &|d| {
        let mut p = prim(d);
        p["attributes"]
            .as_object_mut()
            .unwrap()
            .remove("KHR_gaussian_splatting:SH_DEGREE_1_COEF_2");
        d["meshes"][0]["primitives"][0] = p;
    });
    assert!(m.contains("partly defined"), "{m}");
    let m = edit("count.gltf", &|d| {
        d["accessors"][0]["count"] = 1_000_000.into()
    });
    assert!(m.contains("do not fit"), "{m}");
    let m = edit("required.gltf", &|d| {
        d["extensionsRequired"] = serde_json::json!(["EXT_meshopt_compression"])
    });
    assert!(m.contains("EXT_meshopt_compression"), "{m}");
    let m = edit("escape.gltf", &|d| {
        d["buffers"][0]["uri"] = "../../etc/passwd".into()
    });
    assert!(m.contains("relative path"), "{m}");
    // A mesh instanced by ten thousand nodes (200 000 splats from 20) is refused before
    // the copies are made.
    let m = edit("instances.gltf", &|d| {
        let nodes: Vec<Value> = (0..10_000)
            .map(|_| serde_json::json!({"mesh": 0}))
            .collect();
        d["nodes"] = Value::Array(nodes);
        d["scenes"][0]["nodes"] = (0..10_000).collect::<Vec<u32>>().into();
    });
    assert!(m.contains("instanced"), "{m}");
    // Opacity outside 0..1.
    let doc: Value = serde_json::from_str(&text).unwrap();
    let acc = doc["meshes"][0]["primitives"][0]["attributes"]["KHR_gaussian_splatting:OPACITY"]
        .as_u64()
        .unwrap() as usize;
    let view = doc["accessors"][acc]["bufferView"].as_u64().unwrap() as usize;
    let off = doc["bufferViews"][view]["byteOffset"].as_u64().unwrap() as usize;
    let mut bin = std::fs::read(dir.join("g.bin")).unwrap();
    bin[off..off + 4].copy_from_slice(&1.5f32.to_le_bytes());
    std::fs::write(dir.join("g.bin"), &bin).unwrap();
    let e = read_scene(&good).unwrap_err().to_string();
    assert!(e.contains("OPACITY of splat 0 is 1.5"), "{e}");
    // The missing .bin, and a truncated GLB.
    std::fs::remove_file(dir.join("g.bin")).unwrap();
    let e = read_scene(&good).unwrap_err().to_string();
    assert!(e.contains("g.bin") && e.contains("buffer 0"), "{e}");
    let glb = dir.join("t.glb");
    write_scene(&glb, &s, OutputFormat::Glb, &WriteOptions::default()).unwrap();
    let b = std::fs::read(&glb).unwrap();
    std::fs::write(&glb, &b[..b.len() / 2]).unwrap();
    let e = read_scene(&glb).unwrap_err().to_string();
    assert!(e.contains("t.glb") && e.contains("GLB"), "{e}");
}

#[test]
fn cli_info_and_convert_handle_gltf_and_glb() {
    let dir = TempDir::new("gltf-cli");
    let s = scene(9, 300, 2);
    let ply = dir.join("s.ply");
    write_scene(&ply, &s, OutputFormat::Ply, &WriteOptions::default()).unwrap();
    let out = vksplat(&["convert", &dir.arg("s.ply"), &dir.arg("out.gltf")]);
    assert_exit(&out, 0);
    assert!(dir.join("out.bin").exists(), "{}", stderr(&out));
    let out = vksplat(&["convert", &dir.arg("out.gltf"), &dir.arg("out.glb")]);
    assert_exit(&out, 0);
    let out = vksplat(&[
        "convert",
        &dir.arg("out.glb"),
        &dir.arg("spz.glb"),
        "--gltf-spz",
    ]);
    assert_exit(&out, 0);
    let out = vksplat(&[
        "convert",
        &dir.arg("out.glb"),
        &dir.arg("one.gltf"),
        "--gltf-embed",
    ]);
    assert_exit(&out, 0);
    assert!(!dir.join("one.bin").exists());
    let out = vksplat(&["convert", &dir.arg("one.gltf"), &dir.arg("back.ply")]);
    assert_exit(&out, 0);
    let back = read_scene(&dir.join("back.ply")).unwrap().splats;
    assert_eq!(back.means, s.means);
    assert_eq!(back.sh, s.sh);

    for (name, short, count) in [
        ("out.gltf", "gltf", 300),
        ("out.glb", "glb", 300),
        ("spz.glb", "glb", 300),
    ] {
        let out = vksplat(&["info", &dir.arg(name)]);
        assert_exit(&out, 0);
        let text = stdout(&out);
        assert!(text.contains("KHR_gaussian_splatting"), "{text}");
        assert!(text.contains(&format!("{count} splats")), "{text}");
        let out = vksplat(&["info", "--json", &dir.arg(name)]);
        assert_exit(&out, 0);
        let j: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(j["format"], short);
        assert_eq!(j["count"], count);
        assert_eq!(j["sh_degree"], 2);
        assert_eq!(j["frame"], "RUB");
    }
    let out = vksplat(&["info", "--json", &dir.arg("spz.glb")]);
    let j: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(j["format_name"].as_str().unwrap().contains("SPZ"), "{j}");
    // A broken file: exit 3 naming it.
    std::fs::write(dir.join("bad.glb"), b"glTF\x02\0\0\0\xff\0\0\0").unwrap();
    let out = vksplat(&["info", &dir.arg("bad.glb")]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("bad.glb"), "{}", stderr(&out));
}

/// `--mode khr` (KHR_gaussian_splatting's rules: camera-distance sort, 3σ cut-off) on a glTF
/// scene: the GPU renders what the CPU reference renders, and the sort differs from
/// `classic` where camera z and camera distance disagree.
#[test]
fn khr_mode_sorts_by_camera_distance_on_gpu_and_cpu() {
    let Some(mut gpu) = vksplat_tests::Gpu::new() else {
        return;
    };
    // Red A on the axis at z 5 (distance 5); blue B off the axis at z 4.8 (distance 5.03):
    // B is nearer in z, A nearer to the camera.
    let dc = 0.5 / 0.282_094_8;
    let s = Splats {
        means: vec![[0.0, 0.0, 5.0], [1.5, 0.0, 4.8]],
        rotations: vec![[1.0, 0.0, 0.0, 0.0]; 2],
        log_scales: vec![[0.6f32.ln(); 3]; 2],
        opacity_logits: vec![3.0; 2],
        sh_degree: 0,
        sh: vec![dc, -dc, -dc, -dc, -dc, dc],
    };
    let dir = TempDir::new("gltf-khr-mode");
    let glb = dir.0.join("two.glb");
    write_scene(&glb, &s, OutputFormat::Glb, &WriteOptions::default()).unwrap();
    let s = read_scene(&glb).unwrap().splats;
    let cam = camera(64, 64, 64.0, 64.0, 32.0, 32.0);
    let scene = gpu.renderer.upload_scene(&s).unwrap();
    let mut at = Vec::new();
    for mode in [RenderMode::Classic, RenderMode::Khr] {
        let settings = RenderSettings { mode, ..settings() };
        let (frame, _) = gpu.renderer.render(&scene, &cam, &settings).unwrap();
        let cpu = reference::render(&s, &cam, &settings);
        let (mean, max) = image_diff(&frame.rgba, &cpu.rgba);
        assert!(
            max < 2e-3 && mean < 1e-5,
            "{mode:?}: GPU vs CPU {mean} / {max}"
        );
        // Between the two centres (A at x 32, B at x 50.75), row 32.
        let o = (32 * 64 + 42) * 4;
        at.push([frame.rgba[o], frame.rgba[o + 2]]);
    }
    let ([r_classic, b_classic], [r_khr, b_khr]) = (at[0], at[1]);
    assert!(b_classic > r_classic, "classic: B (nearer in z) in front");
    assert!(r_khr > b_khr, "khr: A (nearer to the camera) in front");
}
