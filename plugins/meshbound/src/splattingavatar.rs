//! SplattingAvatar's own output, read directly as a `splattingavatar` binding: the trained
//! `point_cloud.ply` (standard 3DGS fields) and `embedding.json` beside it.
//!
//! `embedding.json` holds `cano_mesh` (the canonical mesh, an OBJ path, relative to the JSON's
//! directory unless absolute), `sample_fidxs` [N] (face per splat), `sample_bary` [N, 3]
//! (barycentric weights on that face), `_xyz` [N, 3] (u, v, d: only d, the offset along the
//! interpolated vertex normal, is used) and `_rotation` [N, 4] (the local rotation, w x y z).
//! From the PLY only `scale_*` (the raw local log-scales), `opacity` and the SH are used: its
//! `x y z` and `rot_*` are a posed snapshot that the binding recomputes every frame.
//!
//! Invariants of the returned [`Bound`]: one record per PLY splat, face indices below the
//! mesh's face count, every field finite, rotations not zero.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::bind::{self, Kind, REST};
use crate::source::{self, Bound, Mesh};

/// The embedding's arrays.
struct Embedding {
    mesh: PathBuf,
    faces: Vec<f64>,
    bary: Vec<f64>,
    xyz: Vec<f64>,
    rotation: Vec<f64>,
}

/// A numeric array of `n` rows of `width` numbers (`width` 1: a flat list), flattened.
fn rows(v: &Value, key: &str, width: usize, file: &Path) -> Result<Vec<f64>, String> {
    let bad = |m: &str| format!("{}: '{key}' {m}", file.display());
    let list = v
        .get(key)
        .ok_or_else(|| bad("is missing"))?
        .as_array()
        .ok_or_else(|| bad("is not an array"))?;
    let mut out = Vec::with_capacity(list.len() * width);
    for (i, row) in list.iter().enumerate() {
        let num = |x: &Value| {
            x.as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(&format!("row {i}: expected finite numbers")))
        };
        if width == 1 {
            out.push(num(row)?);
        } else {
            let r = row
                .as_array()
                .filter(|r| r.len() == width)
                .ok_or_else(|| bad(&format!("row {i}: expected {width} numbers")))?;
            for x in r {
                out.push(num(x)?);
            }
        }
    }
    Ok(out)
}

fn read_embedding(path: &Path) -> Result<Embedding, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value =
        serde_json::from_slice(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    if !v.is_object() {
        return Err(format!(
            "{}: expected a JSON object (SplattingAvatar's embedding.json)",
            path.display()
        ));
    }
    let mesh = v
        .get("cano_mesh")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{}: 'cano_mesh' (the mesh path) is missing", path.display()))?;
    let mesh = path.parent().unwrap_or(Path::new("")).join(mesh);
    Ok(Embedding {
        mesh,
        faces: rows(&v, "sample_fidxs", 1, path)?,
        bary: rows(&v, "sample_bary", 3, path)?,
        xyz: rows(&v, "_xyz", 3, path)?,
        rotation: rows(&v, "_rotation", 4, path)?,
    })
}

/// Reads `ply` with its `embedding` (see the module doc); `mesh` overrides `cano_mesh`.
pub fn read(
    ply: &Path,
    embedding: &Path,
    mesh: Option<&Path>,
    max: usize,
) -> Result<(Mesh, Bound), String> {
    use vksplat_io::scene::InvalidSplats;
    let e = read_embedding(embedding)?;
    let mesh_path = mesh.map_or(e.mesh.clone(), Path::to_path_buf);
    let mesh = source::read_obj(&mesh_path)?;
    if mesh.face_count() == 0 {
        return Err(format!(
            "{}: the mesh has no triangles",
            mesh_path.display()
        ));
    }
    let scene = vksplat_io::read_scene_checked(ply, InvalidSplats::Reject { hint: None })
        .map_err(|e| e.to_string())?;
    let s = scene.splats();
    let n = s.means.len();
    if n > max {
        return Err(format!("{}: {n} splats, more than {max}", ply.display()));
    }
    let counts = [
        ("sample_fidxs", e.faces.len()),
        ("sample_bary", e.bary.len() / 3),
        ("_xyz", e.xyz.len() / 3),
        ("_rotation", e.rotation.len() / 4),
    ];
    for (key, len) in counts {
        if len != n {
            return Err(format!(
                "{}: '{key}' has {len} rows, {} has {n} splats (files of different trainings?)",
                embedding.display(),
                ply.display()
            ));
        }
    }
    let f_count = mesh.face_count();
    let areas = bind::rest_frames(&mesh.vertices, &mesh.faces);
    let k = ((s.sh_degree + 1) * (s.sh_degree + 1)) as usize;
    let mut out = Bound {
        kind: Kind::SplattingAvatar,
        count: n,
        rest: Vec::with_capacity(n * REST),
        opacity_logits: s.opacity_logits.clone(),
        sh_degree: s.sh_degree,
        sh: s.sh[..n * k * 3].to_vec(),
    };
    for i in 0..n {
        let at = |m: String| format!("{}: splat {i}: {m}", embedding.display());
        let f = e.faces[i];
        if !(f >= 0.0 && f.fract() == 0.0) {
            return Err(at(format!("sample_fidxs = {f} is not a face index")));
        }
        if f as usize >= f_count {
            return Err(at(format!(
                "sample_fidxs = {f} is out of range: {} has {f_count} faces",
                mesh_path.display()
            )));
        }
        let q = &e.rotation[4 * i..4 * i + 4];
        let len = q.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !(len > 0.0 && len.is_finite()) {
            return Err(at("_rotation is zero".into()));
        }
        let q: Vec<f64> = q.iter().map(|x| x / len).collect();
        let b = &e.bary[3 * i..3 * i + 3];
        let l = s.log_scales[i];
        out.rest.extend(bind::rest_record(
            f as usize,
            [b[0] as f32, b[1] as f32, b[2] as f32],
            [e.xyz[3 * i + 2] as f32, 0.0, 0.0],
            [q[0] as f32, q[1] as f32, q[2] as f32, q[3] as f32],
            [l[0], l[1], l[2]],
            areas[f as usize].3,
        ));
    }
    Ok((mesh, out))
}
