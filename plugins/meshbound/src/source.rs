//! Inputs: the rest mesh (OBJ or glTF), binding PLYs, splats sampled on a skinned glTF, and
//! vertex sequences (.npy/.npz [T, V, 3]).
//!
//! Invariants of a [`Bound`]: `rest` holds `count` records of [`crate::bind::REST`] floats,
//! every face index is below the mesh's face count, every value is finite.

use std::path::Path;

use glam::{Quat, Vec3};
use vksplat_rig::Model;

use crate::bind::{self, Kind, REST};

/// A triangle mesh in vksplat's frame: vertices (V × 3) and faces (F × 3 indices < V).
#[derive(Clone, Debug, Default)]
pub struct Mesh {
    pub vertices: Vec<f32>,
    pub faces: Vec<u32>,
}

impl Mesh {
    pub fn vertex_count(&self) -> usize {
        self.vertices.len() / 3
    }
    pub fn face_count(&self) -> usize {
        self.faces.len() / 3
    }
}

/// glTF is y up, vksplat y down (the skinned plugin's turn of 180° about x): (x, −y, −z).
pub fn flip(v: Vec3) -> [f32; 3] {
    [v.x, -v.y, -v.z]
}

/// The deformable meshes of a glTF model (skinned, then unskinned with morph targets:
/// [`Model::surface`] order), one after another, at rest (bind pose, morph weights 0),
/// flipped.
pub fn gltf_mesh(model: &Model) -> Mesh {
    let mut mesh = Mesh::default();
    for i in 0..model.surface_count() {
        let m = model.surface(i);
        let base = mesh.vertex_count() as u32;
        for p in m.positions {
            mesh.vertices.extend(flip(Vec3::from(*p)));
        }
        for t in m.triangles {
            mesh.faces.extend(t.map(|i| i + base));
        }
    }
    mesh
}

/// The vertices of a glTF model at time `t` of `animation` (morph targets, then skin or node
/// transform: [`Model::posed_vertices`]), flipped, in [`gltf_mesh`]'s order.
pub fn gltf_vertices(model: &Model, animation: Option<usize>, t: f64) -> Result<Vec<f32>, String> {
    let mut out = Vec::new();
    for m in model.posed_vertices(animation, t)? {
        for v in m {
            out.extend(flip(v));
        }
    }
    Ok(out)
}

/// Reads a Wavefront OBJ's `v` and `f` lines (polygons fanned into triangles; `a/b/c` and
/// negative indices accepted; everything else ignored). Vertices are taken as they are (no
/// change of axes).
pub fn read_obj(path: &Path) -> Result<Mesh, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut mesh = Mesh::default();
    for (n, line) in text.lines().enumerate() {
        let at = |m: &str| format!("{}: line {}: {m}", path.display(), n + 1);
        let mut parts = line.split_whitespace();
        match parts.next() {
            Some("v") => {
                let xyz: Vec<f32> = parts
                    .take(3)
                    .map(|s| s.parse::<f32>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| at("a vertex coordinate is not a number"))?;
                if xyz.len() != 3 || xyz.iter().any(|x| !x.is_finite()) {
                    return Err(at("a vertex needs three finite coordinates"));
                }
                mesh.vertices.extend(xyz);
            }
            Some("f") => {
                let v = mesh.vertex_count() as i64;
                let mut idx = Vec::new();
                for p in parts {
                    let i: i64 = p
                        .split('/')
                        .next()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| at("a face index is not an integer"))?;
                    let i = if i < 0 { v + i } else { i - 1 };
                    if i < 0 || i >= v {
                        return Err(at(
                            "a face refers to a vertex that is not defined before it",
                        ));
                    }
                    idx.push(i as u32);
                }
                if idx.len() < 3 {
                    return Err(at("a face needs at least three vertices"));
                }
                for k in 1..idx.len() - 1 {
                    mesh.faces.extend([idx[0], idx[k], idx[k + 1]]);
                }
            }
            _ => {}
        }
    }
    if mesh.faces.is_empty() {
        return Err(format!("{}: no faces", path.display()));
    }
    Ok(mesh)
}

/// Reads a PLY mesh (`vertex` x y z and `face` index lists, polygons fanned from their
/// first vertex: [`vksplat_io::ply::read_mesh`]). Vertices are taken as they are.
pub fn read_ply_mesh(path: &Path) -> Result<Mesh, String> {
    let m = vksplat_io::ply::read_mesh(path).map_err(|e| e.to_string())?;
    Ok(Mesh {
        vertices: m.vertices,
        faces: m.triangles,
    })
}

/// A rest mesh or sequence frame from an OBJ or a PLY file (told apart by content: a PLY
/// starts with `ply`).
pub fn read_mesh_file(path: &Path) -> Result<Mesh, String> {
    let mut head = [0u8; 4];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if head[..n].starts_with(b"ply") {
        read_ply_mesh(path)
    } else {
        read_obj(path)
    }
}

/// Bound splats: kind, rest records and the static attributes.
pub struct Bound {
    pub kind: Kind,
    pub count: usize,
    pub rest: Vec<f32>,
    pub opacity_logits: Vec<f32>,
    pub sh_degree: u32,
    pub sh: Vec<f32>,
}

impl Bound {
    fn new(kind: Kind, sh_degree: u32) -> Bound {
        Bound {
            kind,
            count: 0,
            rest: Vec::new(),
            opacity_logits: Vec::new(),
            sh_degree,
            sh: Vec::new(),
        }
    }

    fn push_ga(&mut self, face: u32, w: [f32; 3], local: ([f32; 3], [f32; 4], [f32; 3])) {
        let (m, q, s) = local;
        self.rest.push(face as f32);
        self.rest.extend(w);
        self.rest.extend(m);
        self.rest.extend(q);
        self.rest.extend(s);
        self.rest.extend([0.0, 0.0]);
        self.count += 1;
    }
}

/// Samples splats on a glTF's deformable meshes ([`Model::sample_splats`]: on a skinned glTF
/// exactly the skinned plugin's splats — same triangles, samples, seed, shapes and colours —
/// then the morphed meshes) and binds each to its triangle (GaussianAvatars binding anchored
/// at the sample's barycentric point, local mean 0: the centre stays on the deformed
/// surface, as the skinned plugin's does).
pub fn sample_gltf(
    model: &Model,
    mesh: &Mesh,
    per_triangle: usize,
    seed: u64,
    max: usize,
) -> Result<Bound, String> {
    let samples = model.sample_splats(true, per_triangle, seed, max)?;
    let mut face_base = Vec::with_capacity(model.surface_count());
    let mut base = 0usize;
    for i in 0..model.surface_count() {
        face_base.push(base);
        base += model.surface(i).triangles.len();
    }
    let mut out = Bound::new(Kind::GaussianAvatars, 0);
    // The turn to vksplat's frame as a quaternion: 180° about x.
    let turn = Quat::from_xyzw(1.0, 0.0, 0.0, 0.0);
    for s in samples {
        let q = (turn * s.rotation).normalize();
        let face = face_base[s.mesh] + s.triangle as usize;
        let tri = [0, 1, 2].map(|k| {
            let i = 3 * mesh.faces[3 * face + k] as usize;
            [mesh.vertices[i], mesh.vertices[i + 1], mesh.vertices[i + 2]]
        });
        let Some(local) =
            bind::ga_local(tri, s.bary, flip(s.mean), [q.w, q.x, q.y, q.z], s.log_scale)
        else {
            continue;
        };
        out.push_ga(face as u32, s.bary, local);
        out.opacity_logits.push(s.opacity_logit);
        out.sh.extend(s.sh_dc);
    }
    if out.count == 0 {
        return Err("its meshes have no triangle with a non-zero area".into());
    }
    Ok(out)
}

/// The binding kind a PLY declares: a header comment `meshbound KIND` (gaussianavatars,
/// splattingavatar, sugar, games, nearest) or, without one, its fields: `alpha_0` → games,
/// `inplane_0` → sugar, `offset` → splattingavatar, `face_index`/`binding_0` →
/// gaussianavatars, none of these → nearest (bind by nearest face).
fn ply_kind(info: &vksplat_io::ply::PlyVertexInfo, path: &Path) -> Result<&'static str, String> {
    for c in &info.comments {
        let mut w = c.split_whitespace();
        if w.next() == Some("meshbound") {
            return match w.next() {
                Some("gaussianavatars") => Ok("gaussianavatars"),
                Some("splattingavatar") => Ok("splattingavatar"),
                Some("sugar") => Ok("sugar"),
                Some("games") => Ok("games"),
                Some("nearest") => Ok("nearest"),
                other => Err(format!(
                    "{}: header comment 'meshbound {}': expected gaussianavatars, splattingavatar, sugar, games or nearest",
                    path.display(),
                    other.unwrap_or("")
                )),
            };
        }
    }
    Ok(if info.has_all(&["alpha_0"]) {
        "games"
    } else if info.has_all(&["inplane_0"]) {
        "sugar"
    } else if info.has_all(&["offset"]) {
        "splattingavatar"
    } else if info.has_all(&["face_index"]) || info.has_all(&["binding_0"]) {
        "gaussianavatars"
    } else {
        "nearest"
    })
}

/// Reads a binding PLY (the README's "Mesh-bound Gaussians" layouts) against `mesh`.
pub fn read_binding(path: &Path, mesh: &Mesh, max: usize) -> Result<Bound, String> {
    use vksplat_io::scene::InvalidSplats;
    let info = vksplat_io::ply::read_vertex_info(path).map_err(|e| e.to_string())?;
    let kind = ply_kind(&info, path)?;
    let scene = vksplat_io::read_scene_checked(path, InvalidSplats::Reject { hint: None })
        .map_err(|e| e.to_string())?;
    let s = scene.splats();
    let n = s.means.len();
    if n > max {
        return Err(format!("{}: {n} splats, more than {max}", path.display()));
    }
    let face_field = if info.has_all(&["face_index"]) {
        "face_index"
    } else {
        "binding_0"
    };
    let extra: &[&str] = match kind {
        "gaussianavatars" => &[face_field],
        "splattingavatar" => &[face_field, "bary_0", "bary_1", "bary_2", "offset"],
        "sugar" => &[
            face_field,
            "bary_0",
            "bary_1",
            "bary_2",
            "inplane_0",
            "inplane_1",
        ],
        "games" => &[face_field, "alpha_0", "alpha_1", "alpha_2", "rho"],
        _ => &[],
    };
    let cols = vksplat_io::ply::read_columns(path, extra).map_err(|e| e.to_string())?;
    let f_count = mesh.face_count();
    let k = ((s.sh_degree + 1) * (s.sh_degree + 1)) as usize;
    let kind_enum = match kind {
        "splattingavatar" => Kind::SplattingAvatar,
        "sugar" => Kind::Sugar,
        "games" => Kind::Games,
        _ => Kind::GaussianAvatars,
    };
    let mut out = Bound::new(kind_enum, s.sh_degree);
    let nearest = if kind == "nearest" {
        Some(
            bind::nearest_faces(&mesh.vertices, &mesh.faces, &s.means).ok_or_else(|| {
                format!("{}: every face of the mesh is degenerate", path.display())
            })?,
        )
    } else {
        None
    };
    let areas = bind::rest_frames(&mesh.vertices, &mesh.faces);
    for i in 0..n {
        let at = |m: String| format!("{}: splat {i}: {m}", path.display());
        let face = match &nearest {
            Some(f) => f[i] as usize,
            None => {
                let f = cols.column(0)[i];
                if !(f >= 0.0 && f.fract() == 0.0) {
                    return Err(at(format!("{face_field} = {f} is not a face index")));
                }
                if f as usize >= f_count {
                    return Err(at(format!(
                        "{face_field} = {f} is out of range: the mesh has {f_count} faces (a binding made for another mesh?)"
                    )));
                }
                f as usize
            }
        };
        let col = |c: usize| cols.column(c)[i];
        let rec: [f32; REST] = match kind {
            "gaussianavatars" => {
                let [w, x, y, z] = s.rotations[i];
                let m = s.means[i];
                let l = s.log_scales[i];
                bind::rest_record(
                    face,
                    [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
                    [m[0], m[1], m[2]],
                    [w, x, y, z],
                    [l[0], l[1], l[2]],
                    0.0,
                )
            }
            "nearest" => {
                let tri = [0, 1, 2].map(|k| {
                    let v = 3 * mesh.faces[3 * face + k] as usize;
                    [mesh.vertices[v], mesh.vertices[v + 1], mesh.vertices[v + 2]]
                });
                let (m, q, l) = bind::ga_local(
                    tri,
                    [1.0 / 3.0; 3],
                    s.means[i],
                    s.rotations[i],
                    s.log_scales[i],
                )
                .ok_or_else(|| at("its nearest face is degenerate".into()))?;
                bind::rest_record(
                    face,
                    [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
                    [m[0], m[1], m[2]],
                    [q[0], q[1], q[2], q[3]],
                    [l[0], l[1], l[2]],
                    0.0,
                )
            }
            _ => {
                let w = [col(1), col(2), col(3)];
                if w.iter().any(|x| !x.is_finite()) {
                    return Err(at("barycentric weights must be finite".into()));
                }
                let l = s.log_scales[i];
                let [qw, qx, qy, qz] = s.rotations[i];
                let area = areas[face].3;
                match kind {
                    "splattingavatar" => {
                        let d = col(4);
                        if !d.is_finite() {
                            return Err(at("offset is not finite".into()));
                        }
                        bind::rest_record(
                            face,
                            [w[0], w[1], w[2]],
                            [d, 0.0, 0.0],
                            [qw, qx, qy, qz],
                            [l[0], l[1], l[2]],
                            area,
                        )
                    }
                    "sugar" => {
                        let (a, b) = (col(4), col(5));
                        if !(a.is_finite() && b.is_finite() && (a != 0.0 || b != 0.0)) {
                            return Err(at(
                                "inplane_0, inplane_1 must be finite and not both 0".into()
                            ));
                        }
                        if area.is_nan() || area <= 0.0 {
                            return Err(at(format!("face {face} of the rest mesh has zero area")));
                        }
                        bind::rest_record(
                            face,
                            [w[0], w[1], w[2]],
                            [0.0, 0.0, 0.0],
                            [a, b, 0.0, 0.0],
                            [l[0], l[1], l[2]],
                            area,
                        )
                    }
                    _ => {
                        // GaMeS: α = relu(α) normalised, as the method defines it.
                        let w = w.map(|x| x.max(0.0) + 1e-8);
                        let sum = w[0] + w[1] + w[2];
                        let rho = col(4);
                        if !(rho.is_finite() && rho > 0.0) {
                            return Err(at(format!("rho = {rho} must be finite and > 0")));
                        }
                        bind::rest_record(
                            face,
                            [w[0] / sum, w[1] / sum, w[2] / sum],
                            [0.0, 0.0, 0.0],
                            [1.0, 0.0, 0.0, 0.0],
                            [0.0, 0.0, 0.0],
                            rho.ln(),
                        )
                    }
                }
            }
        };
        out.rest.extend(rec);
        out.count += 1;
        out.opacity_logits.push(s.opacity_logits[i]);
        out.sh.extend_from_slice(&s.sh[i * k * 3..(i + 1) * k * 3]);
    }
    Ok(out)
}

/// A numbered OBJ or PLY mesh sequence: `pattern`'s file name holds one run of `#` (e.g.
/// `anim/frame_####.obj`) or `%0Nd` (`vksplat_io::frame_pattern`), replaced by 0, 1, 2, …
/// zero-padded to the width, until a number has no file (at least frame 0 must exist). Every
/// frame must have the rest mesh's vertex count and faces (after fanning polygons).
pub fn read_mesh_sequence(pattern: &str, rest: &Mesh) -> Result<Vec<f32>, String> {
    let frames =
        vksplat_io::frame_pattern::FramePattern::parse(Path::new(pattern)).ok_or_else(|| {
            format!("{pattern}: a mesh sequence needs a run of # (or %0Nd) for the frame number")
        })?;
    let mut out = Vec::new();
    for f in 0.. {
        let path = frames.path_of(f);
        let name = path.display();
        if !path.is_file() {
            if f == 0 {
                return Err(format!(
                    "{name}: no such file (frame 0 of the mesh sequence {pattern})"
                ));
            }
            break;
        }
        let m = read_mesh_file(&path)?;
        if m.vertices.len() != rest.vertices.len() || m.faces != rest.faces {
            return Err(format!(
                "{name}: {} vertices and {} faces, the rest mesh has {} and {} (the same topology is required)",
                m.vertex_count(),
                m.face_count(),
                rest.vertex_count(),
                rest.face_count()
            ));
        }
        out.extend(m.vertices);
    }
    Ok(out)
}

/// A vertex sequence [T, V, 3] from a .npy, or a .npz's `vertices` array (or its only one):
/// finite, V = the rest mesh's vertex count.
pub fn read_sequence(path: &Path, vertex_count: usize) -> Result<Vec<f32>, String> {
    let is_npz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    let array = if is_npz {
        let npz = vksplat_io::numpy::Npz::open(path).map_err(|e| e.to_string())?;
        let names: Vec<String> = npz.names().map(str::to_string).collect();
        let name = if npz.contains("vertices") {
            "vertices".to_string()
        } else if names.len() == 1 {
            names[0].clone()
        } else {
            return Err(format!(
                "{}: no array 'vertices' (arrays: {})",
                path.display(),
                names.join(", ")
            ));
        };
        npz.read(&name).map_err(|e| e.to_string())?
    } else {
        vksplat_io::numpy::read_npy(path).map_err(|e| e.to_string())?
    };
    if !array.has_shape(&[None, Some(vertex_count), Some(3)]) || array.shape[0] == 0 {
        return Err(format!(
            "{}: shape {:?}, expected [T, {vertex_count}, 3] (the rest mesh has {vertex_count} vertices)",
            path.display(),
            array.shape
        ));
    }
    if let Some(k) = array.first_non_finite() {
        return Err(format!(
            "{}: value at {:?} is not finite",
            path.display(),
            array.index_of(k)
        ));
    }
    Ok(array.data)
}
