//! The glTF rig crate (`vksplat-rig`) on the Khronos sample skins: joint matrices of SimpleSkin
//! against matrices derived by hand from the file's keyframes, skinned vertices, the STEP and
//! CUBICSPLINE samplers, GLB and `data:` URI containers, CesiumMan's rig and texture, and
//! broken files failing with messages that name the problem.

use std::path::{Path, PathBuf};

use glam::{Mat4, Vec3};
use vksplat_rig::{load, sample_surface, Model, RigError};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/gltf")
        .join(name)
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("skinned-rig-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Row-major 3×4 (the last row is 0 0 0 1) to glam.
fn rows(r: [[f32; 4]; 3]) -> Mat4 {
    Mat4::from_cols_array(&[
        r[0][0], r[1][0], r[2][0], 0.0, r[0][1], r[1][1], r[2][1], 0.0, r[0][2], r[1][2], r[2][2],
        0.0, r[0][3], r[1][3], r[2][3], 1.0,
    ])
}

fn assert_mat(got: &Mat4, want: &Mat4, what: &str) {
    let (g, w) = (got.to_cols_array(), want.to_cols_array());
    for k in 0..16 {
        assert!(
            (g[k] - w[k]).abs() < 1e-5,
            "{what}: element {k}: got {got:?}, want {want:?}"
        );
    }
}

fn joints_at(model: &Model, t: f64) -> Vec<Mat4> {
    let mesh = &model.meshes[0];
    let globals = model.rig.globals(Some(0), t);
    model
        .rig
        .joint_matrices(mesh.skin, Some(mesh.node), &globals)
        .unwrap()
}

/// SimpleSkin (glTF tutorial, CC0): node 0 holds the mesh (identity), node 1 is joint 0
/// (identity, parent of node 2), node 2 is joint 1 (translation (0, 1, 0), rotation animated
/// about z). Inverse bind matrices (SimpleSkin_inverseBindMatrices.bin): joint 0 identity,
/// joint 1 translate(0, −1, 0). Rotation keys (SimpleSkin_animation.bin), every 0.5 s from 0
/// to 5.5 s, quaternions (x, y, z, w): (0,0,0,1), (0,0,0.383,0.924), (0,0,0.707,0.707),
/// (0,0,0.707,0.707), (0,0,0.383,0.924), (0,0,0,1), (0,0,0,1), (0,0,−0.383,0.924),
/// (0,0,−0.707,0.707), (0,0,−0.707,0.707), (0,0,−0.383,0.924), (0,0,0,1). LINEAR.
///
/// So M0 = I always, and M1 = T(0,1,0)·Rz(θ)·T(0,−1,0) = [[c, −s, 0, s], [s, c, 0, 1 − c],
/// [0, 0, 1, 0]] for the rotation angle θ at t:
/// - t = 1.0 (key 2 exactly): θ = 2·atan2(0.707, 0.707) = 90°: [[0,−1,0,1],[1,0,0,1],[0,0,1,0]].
/// - t = 0.25 (halfway from key 0, θ = 0, to key 1, θ = 2·atan2(0.383, 0.924) = 45.028°):
///   slerp halves the angle, θ = atan2(0.383, 0.924) = 22.5141°, c = 0.923785, s = 0.382911.
/// - t = 3.75 (halfway from key 7, θ = −45.028°, to key 8, θ = −90°): θ = −67.5141°,
///   c = 0.382456, s = −0.923974.
/// - t = −1 and t = 10: clamped to the first and last keys, θ = 0: M1 = I.
#[test]
fn simpleskin_joint_matrices_by_hand() {
    let model = load(&data("SimpleSkin.gltf")).unwrap();
    assert_eq!(model.rig.skins.len(), 1);
    assert_eq!(model.rig.skins[0].joints, [1, 2]);
    assert_eq!(model.rig.animations.len(), 1);
    assert_eq!(model.rig.time_range(0), (0.0, 5.5));
    let m1 = |c: f32, s: f32| rows([[c, -s, 0.0, s], [s, c, 0.0, 1.0 - c], [0.0, 0.0, 1.0, 0.0]]);
    let cases = [
        (1.0, m1(0.0, 1.0)),
        (0.25, m1(0.923_785_2, 0.382_910_98)),
        (3.75, m1(0.382_455_86, -0.923_973_8)),
        (-1.0, Mat4::IDENTITY),
        (10.0, Mat4::IDENTITY),
        (2.75, Mat4::IDENTITY), // key 5 (2.5 s) and key 6 (3.0 s) are both identity
    ];
    for (t, want) in cases {
        let j = joints_at(&model, t);
        assert_eq!(j.len(), 2);
        assert_mat(&j[0], &Mat4::IDENTITY, &format!("t={t} joint 0"));
        assert_mat(&j[1], &want, &format!("t={t} joint 1"));
    }
}

/// Skinned vertices of SimpleSkin at t = 1 (M1 as above, θ = 90°): vertex 9 (0.5, 2, 0) is all
/// on joint 1: M1·v = (−2 + 1, 0.5 + 1, 0) = (−1, 1.5, 0). Vertex 4 (−0.5, 1, 0) has weights
/// 0.5/0.5: ½·(−0.5, 1, 0) + ½·(−1 + 1, −0.5 + 1, 0) = (−0.25, 0.75, 0). Vertex 0 is all on
/// joint 0 and stays.
#[test]
fn simpleskin_skinned_vertices() {
    let model = load(&data("SimpleSkin.gltf")).unwrap();
    let mesh = &model.meshes[0];
    assert_eq!(mesh.positions.len(), 10);
    assert_eq!(mesh.triangles.len(), 8);
    let v = mesh.skin_vertices(&joints_at(&model, 1.0));
    for (i, want) in [
        (9, Vec3::new(-1.0, 1.5, 0.0)),
        (4, Vec3::new(-0.25, 0.75, 0.0)),
        (0, Vec3::new(-0.5, 0.0, 0.0)),
    ] {
        assert!(
            (v[i] - want).length() < 1e-5,
            "vertex {i}: {} vs {want}",
            v[i]
        );
    }
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                s.push(A[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A one-node rig with one sampler, in a `.gltf` with a `data:` buffer.
fn one_channel(dir: &Path, path: &str, interp: &str, times: &[f32], values: &[f32]) -> PathBuf {
    let mut bin = f32_bytes(times);
    let off = bin.len();
    bin.extend(f32_bytes(values));
    let comps = if path == "rotation" { 4 } else { 3 };
    let ty = if comps == 4 { "VEC4" } else { "VEC3" };
    let json = serde_json::json!({
        "asset": {"version": "2.0"},
        "nodes": [{"translation": [0.0, 0.0, 0.0]}],
        "buffers": [{"byteLength": bin.len(),
                     "uri": format!("data:application/octet-stream;base64,{}", b64(&bin))}],
        "bufferViews": [{"buffer": 0, "byteLength": off},
                        {"buffer": 0, "byteOffset": off, "byteLength": bin.len() - off}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": times.len(), "type": "SCALAR"},
            {"bufferView": 1, "componentType": 5126, "count": values.len() / comps, "type": ty}],
        "animations": [{"channels": [{"sampler": 0, "target": {"node": 0, "path": path}}],
                        "samplers": [{"input": 0, "output": 1, "interpolation": interp}]}]
    });
    let p = dir.join(format!("{path}-{interp}.gltf"));
    std::fs::write(&p, json.to_string()).unwrap();
    p
}

fn translation_at(model: &Model, t: f64) -> Vec3 {
    model.rig.globals(Some(0), t)[0].w_axis.truncate().as_vec3()
}

/// STEP holds each key until the next; CUBICSPLINE is the Hermite spline with tangents scaled
/// by the key interval (glTF 2.0, Appendix C).
#[test]
fn step_and_cubicspline_samplers() {
    let dir = temp_dir("samplers");
    // STEP keys at 0, 1, 2 s: x = 0, 1, 3.
    let step = load(&one_channel(
        &dir,
        "translation",
        "STEP",
        &[0.0, 1.0, 2.0],
        &[0., 0., 0., 1., 0., 0., 3., 0., 0.],
    ))
    .unwrap();
    assert_eq!(step.rig.time_range(0), (0.0, 2.0));
    for (t, x) in [
        (0.5, 0.0),
        (1.0, 1.0),
        (1.99, 1.0),
        (2.0, 3.0),
        (5.0, 3.0),
        (-1.0, 0.0),
    ] {
        assert_eq!(
            translation_at(&step, t),
            Vec3::new(x, 0.0, 0.0),
            "STEP t={t}"
        );
    }
    // CUBICSPLINE, keys at 0 and 2 s, each (in-tangent, value, out-tangent): key 0 value 0,
    // out-tangent (1, 0, 0); key 1 value (1, 0, 0), in-tangent (0, 0, 0). At t = 1: u = 0.5,
    // interval 2: h00 = 0.5, h10 = 0.125, h01 = 0.5, h11 = −0.125, so
    // x = 0.5·0 + 0.125·2·1 + 0.5·1 − 0.125·2·0 = 0.75. At t = 0.5: u = 0.25, h10 = 0.140625,
    // h01 = 0.15625: x = 0.140625·2 + 0.15625 = 0.4375.
    let cubic = load(&one_channel(
        &dir,
        "translation",
        "CUBICSPLINE",
        &[0.0, 2.0],
        &[
            0., 0., 0., 0., 0., 0., 1., 0., 0., 0., 0., 0., 1., 0., 0., 5., 5., 5.,
        ],
    ))
    .unwrap();
    for (t, x) in [
        (1.0, 0.75),
        (0.5, 0.4375),
        (0.0, 0.0),
        (2.0, 1.0),
        (3.0, 1.0),
    ] {
        let got = translation_at(&cubic, t);
        assert!(
            (got - Vec3::new(x, 0.0, 0.0)).length() < 1e-6,
            "CUBIC t={t}: {got}"
        );
    }
    // LINEAR rotation keys that are not unit length: the angle is the normalised keys'.
    // Keys (0,0,0,2) and (0,0,1,1)·3 (90° about z); halfway: 45°.
    let rot = load(&one_channel(
        &dir,
        "rotation",
        "LINEAR",
        &[0.0, 1.0],
        &[0., 0., 0., 2., 0., 0., 3., 3.],
    ))
    .unwrap();
    let m = rot.rig.globals(Some(0), 0.5)[0];
    let x = m.x_axis.truncate();
    let h = std::f64::consts::FRAC_1_SQRT_2;
    assert!((x - glam::DVec3::new(h, h, 0.0)).length() < 1e-9, "{x}");
}

/// A GLB with SimpleSkin's four buffers merged into its binary chunk loads to the same rig.
#[test]
fn glb_container_matches_gltf() {
    let dir = temp_dir("glb");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data("SimpleSkin.gltf")).unwrap()).unwrap();
    let mut bin = Vec::new();
    let mut starts = Vec::new();
    for b in json["buffers"].as_array().unwrap() {
        starts.push(bin.len());
        bin.extend(std::fs::read(data(b["uri"].as_str().unwrap())).unwrap());
        while !bin.len().is_multiple_of(4) {
            bin.push(0);
        }
    }
    for v in json["bufferViews"].as_array_mut().unwrap() {
        let b = v["buffer"].as_u64().unwrap() as usize;
        let off = v.get("byteOffset").and_then(|o| o.as_u64()).unwrap_or(0);
        v["byteOffset"] = (off + starts[b] as u64).into();
        v["buffer"] = 0.into();
    }
    json["buffers"] = serde_json::json!([{"byteLength": bin.len()}]);
    let mut text = json.to_string().into_bytes();
    while !text.len().is_multiple_of(4) {
        text.push(b' ');
    }
    let mut glb = Vec::new();
    glb.extend(b"glTF");
    glb.extend(2u32.to_le_bytes());
    glb.extend(((12 + 8 + text.len() + 8 + bin.len()) as u32).to_le_bytes());
    glb.extend((text.len() as u32).to_le_bytes());
    glb.extend(0x4E4F_534Au32.to_le_bytes());
    glb.extend(&text);
    glb.extend((bin.len() as u32).to_le_bytes());
    glb.extend(0x004E_4942u32.to_le_bytes());
    glb.extend(&bin);
    let path = dir.join("SimpleSkin.glb");
    std::fs::write(&path, &glb).unwrap();
    let a = load(&data("SimpleSkin.gltf")).unwrap();
    let b = load(&path).unwrap();
    assert_eq!(a.meshes[0].positions, b.meshes[0].positions);
    assert_eq!(a.meshes[0].weights, b.meshes[0].weights);
    for t in [0.3, 1.7, 4.2] {
        assert_eq!(joints_at(&a, t), joints_at(&b, t), "t={t}");
    }
    // A truncated GLB is refused with a message.
    std::fs::write(&path, &glb[..glb.len() - 100]).unwrap();
    let e = load(&path).unwrap_err().to_string();
    assert!(e.contains("SimpleSkin.glb") && e.contains("GLB"), "{e}");
}

/// CesiumMan: 19 joints, one walk animation, textured (JPEG) — the texture is decoded and its
/// colours reach the surface.
#[test]
fn cesium_man_rig_and_texture() {
    let model = load(&data("CesiumMan.gltf")).unwrap();
    assert_eq!(model.rig.skins[0].joints.len(), 19);
    assert_eq!(model.meshes.len(), 1);
    let mesh = &model.meshes[0];
    assert_eq!(mesh.positions.len(), 3273);
    assert_eq!(mesh.triangles.len(), 4672);
    let (t0, t1) = model.rig.time_range(0);
    assert!(t0 >= 0.0 && t1 > 1.0 && t1 < 3.0, "{t0}..{t1}");
    let tex = model.materials[0].texture.as_ref().expect("texture");
    assert_eq!((tex.width, tex.height), (1024, 1024));
    // Colours vary over the surface (not the flat factor).
    let s = sample_surface(mesh.triangles.len(), 1, 7);
    let colours: Vec<[f32; 3]> = s
        .iter()
        .map(|x| model.base_colour(0, x.triangle as usize, x.bary))
        .collect();
    let mean = |c: usize| colours.iter().map(|x| x[c]).sum::<f32>() / colours.len() as f32;
    let var = colours
        .iter()
        .map(|x| (x[0] - mean(0)).powi(2))
        .sum::<f32>()
        / colours.len() as f32;
    assert!(var > 1e-3, "texture colours vary: var {var}");
    assert!(colours.iter().flatten().all(|c| (0.0..=1.0).contains(c)));
    // Skinning moves the mesh during the walk.
    let a = mesh.skin_vertices(&joints_at(&model, t0));
    let b = mesh.skin_vertices(&joints_at(&model, (t0 + t1) / 2.0));
    let moved = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| (**x - **y).length() > 1e-3)
        .count();
    assert!(moved > 1000, "{moved} vertices moved");
}

fn edit_json(tag: &str, f: impl FnOnce(&mut serde_json::Value)) -> Result<Model, RigError> {
    let dir = temp_dir(tag);
    for name in [
        "SimpleSkin_geometry.bin",
        "SimpleSkin_skinningData.bin",
        "SimpleSkin_inverseBindMatrices.bin",
        "SimpleSkin_animation.bin",
    ] {
        std::fs::copy(data(name), dir.join(name)).unwrap();
    }
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data("SimpleSkin.gltf")).unwrap()).unwrap();
    f(&mut json);
    let p = dir.join("SimpleSkin.gltf");
    std::fs::write(&p, json.to_string()).unwrap();
    load(&p)
}

fn bin_edit(tag: &str, file: &str, offset: usize, bytes: &[u8]) -> Result<Model, RigError> {
    let dir = temp_dir(tag);
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
        std::fs::write(dir.join(name), b).unwrap();
    }
    load(&dir.join("SimpleSkin.gltf"))
}

fn err(r: Result<Model, RigError>) -> String {
    r.map(|_| ()).unwrap_err().to_string()
}

#[test]
fn broken_files_are_refused_with_reasons() {
    // Joint index out of range: vertex 2's second joint (weight 0.25) set to 7.
    let e = err(bin_edit(
        "joint",
        "SimpleSkin_skinningData.bin",
        2 * 16 + 2,
        &7u16.to_le_bytes(),
    ));
    assert!(
        e.contains("vertex 2 uses joint 7") && e.contains("2 joints"),
        "{e}"
    );
    // A NaN position.
    let e = err(bin_edit(
        "nan",
        "SimpleSkin_geometry.bin",
        48 + 4,
        &f32::NAN.to_le_bytes(),
    ));
    assert!(
        e.contains("not a finite number") && e.contains("SimpleSkin.gltf"),
        "{e}"
    );
    // A non-invertible inverse bind matrix (joint 1's scale x set to 0 in its first column).
    let e = err(bin_edit(
        "ibm",
        "SimpleSkin_inverseBindMatrices.bin",
        64,
        &0f32.to_le_bytes(),
    ));
    assert!(e.contains("joint 1") && e.contains("not invertible"), "{e}");
    // A missing buffer file.
    let e = err(edit_json("missing", |j| {
        j["buffers"][0]["uri"] = "nothere.bin".into()
    }));
    assert!(e.contains("nothere.bin"), "{e}");
    // A buffer outside the model's directory.
    let e = err(edit_json("escape", |j| {
        j["buffers"][0]["uri"] = "../SimpleSkin_geometry.bin".into()
    }));
    assert!(e.contains("relative path inside"), "{e}");
    // An accessor running past its buffer view.
    let e = err(edit_json("range", |j| {
        j["accessors"][1]["count"] = 11.into()
    }));
    assert!(e.contains("accessor 1"), "{e}");
    // An accessor without a buffer view (zeros) that claims 2^40 elements.
    let e = err(edit_json(
        "zeros",
        |j| {
            j["accessors"][1] =
                serde_json::json!({"componentType": 5126, "count": 1u64 << 40, "type": "VEC3"})
        },
    ));
    assert!(e.contains("accessor 1") && e.contains("too many"), "{e}");
    // A cycle in the hierarchy.
    let e = err(edit_json("cycle", |j| {
        j["nodes"][2]["children"] = serde_json::json!([1])
    }));
    assert!(
        e.contains("cycle") || e.contains("more than one parent"),
        "{e}"
    );
    // A required extension this reader does not implement (compressed geometry).
    let e = err(edit_json("draco", |j| {
        j["extensionsRequired"] = serde_json::json!(["KHR_draco_mesh_compression"])
    }));
    assert!(e.contains("KHR_draco_mesh_compression"), "{e}");
    // Not glTF at all.
    let dir = temp_dir("text");
    std::fs::write(dir.join("x.gltf"), "{\"hello\": 1}").unwrap();
    let e = err(load(&dir.join("x.gltf")));
    assert!(e.contains("no \"asset\""), "{e}");
}
