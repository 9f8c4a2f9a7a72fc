//! The methods' own files, read through [`vksplat_io::torch`]: a SuGaR refined checkpoint
//! (`refined/…/<iteration>.pt`) and a GaMeS `model_params.pt` (with its `point_cloud.ply`).
//! Each becomes the rest mesh it was trained on and the [`Bound`] records of the SuGaR or
//! GaMeS binding, exactly as the same binding written as a PLY (README "Mesh-bound
//! Gaussians") would be read.
//!
//! SuGaR, `state_dict` entries: `_points` [V, 3] (mesh vertices), `_surface_mesh_faces`
//! [F, 3], `all_densities` [N, 1] (opacity logits), `_scales` [N, 2] (in-plane log-scales),
//! `_quaternions` [N, 2] (in-plane rotation as a complex number), `_sh_coordinates_dc`
//! [N, 1, 3], `_sh_coordinates_rest` [N, R, 3] (R = 0, 3, 8 or 15), `surface_mesh_thickness`
//! (one value, the normal-axis scale). N = F·K with K ∈ {1, 3, 4, 6} splats per face at SuGaR's
//! fixed barycentric points; splat f·K + k sits on face f at point k.
//!
//! GaMeS: `_alpha` [F, K, 3] (raw barycentric weights), `_scale` [F·K, 1] (ρ), `vertices`
//! [V, 3], `faces` [F, 3]; opacity and SH come from `point_cloud.ply` beside it (F·K splats,
//! the same order); the pickled `point_cloud` object is not needed. ρ ≤ 0 makes GaMeS's scales
//! its ε (an invisible splat): such splats get ln ρ = [`bind::HIDDEN_LOG_SCALE`].
//!
//! Invariants: the [`Bound`] invariants of `source` (face indices below F, finite values);
//! every face index below V; every error names the file and the entry.

use std::path::Path;

use vksplat_io::torch::{Checkpoint, Tensor, TensorData};

use crate::bind::{self, Kind, REST};
use crate::source::{Bound, Mesh};

/// SuGaR's barycentric points per face, by splats per face (K = 1, 3, 4, 6), in its order.
fn sugar_points(k: usize) -> Option<&'static [[f32; 3]]> {
    const T: f32 = 1.0 / 3.0;
    const S: f32 = 1.0 / 6.0;
    const F: f32 = 5.0 / 12.0;
    Some(match k {
        1 => &[[T, T, T]],
        3 => &[[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]],
        4 => &[[T, T, T], [2.0 * T, S, S], [S, 2.0 * T, S], [S, S, 2.0 * T]],
        6 => &[
            [2.0 * T, S, S],
            [S, 2.0 * T, S],
            [S, S, 2.0 * T],
            [S, F, F],
            [F, S, F],
            [F, F, S],
        ],
        _ => return None,
    })
}

/// Whether `ck` looks like one of the files this module reads.
pub fn kind_of(ck: &Checkpoint) -> Option<Kind> {
    if ck.get_path("state_dict._surface_mesh_faces").is_some() {
        Some(Kind::Sugar)
    } else if ck.get_path("_alpha").is_some() && ck.get_path("faces").is_some() {
        Some(Kind::Games)
    } else {
        None
    }
}

/// Reads a SuGaR or GaMeS checkpoint: its rest mesh and bound splats (at most `max`).
pub fn read_checkpoint(path: &Path, max: usize) -> Result<(Mesh, Bound), String> {
    let ck = vksplat_io::torch::load(path).map_err(|e| e.to_string())?;
    match kind_of(&ck) {
        Some(Kind::Sugar) => read_sugar(&ck, max),
        Some(_) => read_games(&ck, max),
        None => Err(format!(
            "{}: a PyTorch checkpoint that is neither a SuGaR refined model (state_dict with \
             _surface_mesh_faces) nor a GaMeS model_params.pt (_alpha, faces)",
            path.display()
        )),
    }
}

fn floats(ck: &Checkpoint, name: &str, want: &[Option<usize>]) -> Result<Vec<f32>, String> {
    let t = ck.tensor_shaped(name, want).map_err(|e| e.to_string())?;
    finite(ck, name, &t)?;
    Ok(t.to_f32())
}

fn finite(ck: &Checkpoint, name: &str, t: &Tensor) -> Result<(), String> {
    if let Some(i) = t
        .as_f32()
        .and_then(|v| v.iter().position(|x| !x.is_finite()))
    {
        return Err(format!(
            "{}: tensor '{name}': value {i} is not finite",
            ck.path().display()
        ));
    }
    Ok(())
}

/// Vertices [V, 3] and faces [F, 3] (integers below V) as a mesh.
fn mesh(ck: &Checkpoint, vertices: &str, faces: &str) -> Result<Mesh, String> {
    let v = floats(ck, vertices, &[None, Some(3)])?;
    let f = ck
        .tensor_shaped(faces, &[None, Some(3)])
        .map_err(|e| e.to_string())?;
    let count = v.len() / 3;
    let bad = |i: usize, x: String| {
        format!(
            "{}: tensor '{faces}': face {} refers to vertex {x}, but '{vertices}' has {count}",
            ck.path().display(),
            i / 3
        )
    };
    let faces_u32: Vec<u32> = match &f.data {
        TensorData::I64(ints) => ints
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                u32::try_from(x)
                    .ok()
                    .filter(|&x| (x as usize) < count)
                    .ok_or_else(|| bad(i, x.to_string()))
            })
            .collect::<Result<_, _>>()?,
        TensorData::F32(fl) => fl
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                (x >= 0.0 && x.fract() == 0.0 && (x as usize) < count)
                    .then_some(x as u32)
                    .ok_or_else(|| bad(i, x.to_string()))
            })
            .collect::<Result<_, _>>()?,
    };
    if faces_u32.is_empty() {
        return Err(format!(
            "{}: tensor '{faces}' has no faces",
            ck.path().display()
        ));
    }
    Ok(Mesh {
        vertices: v,
        faces: faces_u32,
    })
}

/// Splats per face: N / F, checked.
fn per_face(ck: &Checkpoint, n: usize, f: usize, what: &str, max: usize) -> Result<usize, String> {
    if n > max {
        return Err(format!(
            "{}: {n} splats, more than {max}",
            ck.path().display()
        ));
    }
    if n == 0 || !n.is_multiple_of(f) {
        return Err(format!(
            "{}: {what} has {n} splats for {f} faces: not a whole number per face",
            ck.path().display()
        ));
    }
    Ok(n / f)
}

fn read_sugar(ck: &Checkpoint, max: usize) -> Result<(Mesh, Bound), String> {
    let p = |name: &str| format!("state_dict.{name}");
    let file = ck.path().display();
    let mesh = mesh(ck, &p("_points"), &p("_surface_mesh_faces"))?;
    let f = mesh.face_count();
    let scales = floats(ck, &p("_scales"), &[None, Some(2)])?;
    let n = scales.len() / 2;
    let k = per_face(ck, n, f, "'state_dict._scales'", max)?;
    let points = sugar_points(k)
        .ok_or_else(|| format!("{file}: {k} splats per face; SuGaR uses 1, 3, 4 or 6"))?;
    let quats = floats(ck, &p("_quaternions"), &[Some(n), Some(2)])?;
    let densities = floats(ck, &p("all_densities"), &[Some(n), Some(1)])?;
    let dc = floats(ck, &p("_sh_coordinates_dc"), &[Some(n), Some(1), Some(3)])?;
    let rest_t = ck
        .tensor_shaped(&p("_sh_coordinates_rest"), &[Some(n), None, Some(3)])
        .map_err(|e| e.to_string())?;
    finite(ck, &p("_sh_coordinates_rest"), &rest_t)?;
    let r = rest_t.shape[1];
    let sh_degree = match r {
        0 => 0,
        3 => 1,
        8 => 2,
        15 => 3,
        _ => {
            return Err(format!(
                "{file}: 'state_dict._sh_coordinates_rest' has {r} coefficients per splat \
                 (0, 3, 8 or 15 for SH degrees 0..3)"
            ))
        }
    };
    let rest_sh = rest_t.to_f32();
    let thickness = floats(ck, &p("surface_mesh_thickness"), &[None])
        .or_else(|_| floats(ck, &p("surface_mesh_thickness"), &[]))?;
    let thickness = match thickness.as_slice() {
        [t] if *t > 0.0 => *t,
        _ => {
            return Err(format!(
                "{file}: 'state_dict.surface_mesh_thickness' must be one value > 0"
            ))
        }
    };
    let areas = bind::rest_frames(&mesh.vertices, &mesh.faces);
    let mut out = Bound {
        kind: Kind::Sugar,
        count: n,
        rest: Vec::with_capacity(n * REST),
        opacity_logits: densities,
        sh_degree,
        sh: Vec::with_capacity(n * (r + 1) * 3),
    };
    for i in 0..n {
        let (face, w) = (i / k, points[i % k]);
        let (a, b) = (quats[2 * i], quats[2 * i + 1]);
        if a == 0.0 && b == 0.0 {
            return Err(format!(
                "{file}: splat {i}: 'state_dict._quaternions' is (0, 0), not a rotation"
            ));
        }
        let area = areas[face].3;
        if area.is_nan() || area <= 0.0 {
            return Err(format!(
                "{file}: splat {i}: face {face} of the mesh has zero area"
            ));
        }
        out.rest.extend(bind::rest_record(
            face,
            [w[0], w[1], w[2]],
            [0.0, 0.0, 0.0],
            [a, b, 0.0, 0.0],
            [thickness.ln(), scales[2 * i], scales[2 * i + 1]],
            area,
        ));
        out.sh.extend_from_slice(&dc[3 * i..3 * i + 3]);
        out.sh
            .extend_from_slice(&rest_sh[3 * r * i..3 * r * (i + 1)]);
    }
    Ok((mesh, out))
}

fn read_games(ck: &Checkpoint, max: usize) -> Result<(Mesh, Bound), String> {
    let file = ck.path().display();
    let mesh = mesh(ck, "vertices", "faces")?;
    let f = mesh.face_count();
    let alpha = ck
        .tensor_shaped("_alpha", &[Some(f), None, Some(3)])
        .map_err(|e| e.to_string())?;
    finite(ck, "_alpha", &alpha)?;
    let n = alpha.numel() / 3;
    per_face(ck, n, f, "'_alpha'", max)?;
    let alpha = alpha.to_f32();
    let rho = ck.tensor("_scale").map_err(|e| e.to_string())?;
    finite(ck, "_scale", &rho)?;
    if rho.numel() != n {
        return Err(format!(
            "{file}: '_scale' has {} values for {n} splats ('_alpha')",
            rho.numel()
        ));
    }
    let rho = rho.to_f32();
    let ply = ck
        .path()
        .parent()
        .unwrap_or(Path::new("."))
        .join("point_cloud.ply");
    if !ply.is_file() {
        return Err(format!(
            "{file}: a GaMeS model_params.pt needs its point_cloud.ply beside it (colours and \
             opacities): {} is missing",
            ply.display()
        ));
    }
    let scene = vksplat_io::read_scene_checked(
        &ply,
        vksplat_io::scene::InvalidSplats::Reject { hint: None },
    )
    .map_err(|e| e.to_string())?;
    let s = scene.splats();
    if s.means.len() != n {
        return Err(format!(
            "{}: {} splats, but {file} binds {n} (F·K of '_alpha')",
            ply.display(),
            s.means.len()
        ));
    }
    let mut out = Bound {
        kind: Kind::Games,
        count: n,
        rest: Vec::with_capacity(n * REST),
        opacity_logits: s.opacity_logits.clone(),
        sh_degree: s.sh_degree,
        sh: s.sh.clone(),
    };
    let k = n / f;
    for i in 0..n {
        // α = relu(α) + 1e-8, normalised, as the PLY layout and the method define it.
        let w = [alpha[3 * i], alpha[3 * i + 1], alpha[3 * i + 2]].map(|x| x.max(0.0) + 1e-8);
        let sum = w[0] + w[1] + w[2];
        let ln_rho = if rho[i] > 0.0 {
            rho[i].ln()
        } else {
            bind::HIDDEN_LOG_SCALE
        };
        out.rest.extend(bind::rest_record(
            i / k,
            [w[0] / sum, w[1] / sum, w[2] / sum],
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0],
            ln_rho,
        ));
    }
    Ok((mesh, out))
}
