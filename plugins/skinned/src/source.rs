//! The canonical (bind-pose) splats and their skin, from either source:
//!
//! 1. a rigged glTF/GLB: splats sampled on the skinned triangles ([`from_gltf`]);
//! 2. a splat PLY with per-splat skin fields plus a glTF skeleton ([`from_ply`]).
//!
//! Invariants of a [`Canonical`]: every array holds `count` splats; every value is finite;
//! each splat's centre is skinned from one point per joint slot (`points`; the splat's mean
//! in every slot for a PLY source, [`vksplat_rig::SkinnedMesh::surface_points`] for a sampled
//! one);
//! every joint index is below the rig's joint table length ([`Drivers::joint_count`]) — also
//! in slots whose weight is 0, which hold joint 0 — and each splat's weights are ≥ 0 and sum
//! to 1 (within f32 rounding).

use std::path::Path;

use glam::{DMat3, DQuat, DVec3};
use vksplat_rig::{top4, Model, Rig};

/// Where the joint table's matrices come from: for each block of joints, the skin and the
/// node of the mesh it deforms. The plugin passes None as the node: its matrices are world
/// space, `jointGlobal_j · inverseBind_j` (glTF's jointMatrix with the mesh node's transform
/// applied after it, which cancels `inverse(meshGlobal)`), so splats land where a glTF viewer
/// draws the mesh.
#[derive(Clone, Debug)]
pub struct Drivers {
    pub blocks: Vec<(usize, Option<usize>)>,
    pub joint_count: usize,
}

impl Drivers {
    /// The skinning matrices at time `t` of `animation` (rest pose without one), as
    /// `joint_count` row-major 4×4 matrices.
    pub fn bones(&self, rig: &Rig, animation: Option<usize>, t: f64) -> Result<Vec<f32>, String> {
        let globals = rig.globals(animation, t);
        let mut out = Vec::with_capacity(self.joint_count * 16);
        for &(skin, node) in &self.blocks {
            for m in rig.joint_matrices(skin, node, &globals)? {
                out.extend_from_slice(&m.transpose().to_cols_array());
            }
        }
        Ok(out)
    }
}

/// Bind-pose splats with their skin.
pub struct Canonical {
    pub count: usize,
    pub means: Vec<f32>,
    /// Per splat and joint slot: the rest point that slot's joint moves (see the module doc).
    pub points: Vec<[[f32; 3]; 4]>,
    /// Quaternions (w, x, y, z).
    pub rotations: Vec<f32>,
    pub log_scales: Vec<f32>,
    /// xx, xy, xz, yy, yz, zz from rotation and scale.
    pub covariances: Vec<f32>,
    pub opacity_logits: Vec<f32>,
    pub sh_degree: u32,
    /// Interleaved: sh[(i·K + k)·3 + c].
    pub sh: Vec<f32>,
    pub joints: Vec<[u32; 4]>,
    pub weights: Vec<[f32; 4]>,
    /// Splats whose weights did not sum to 1 and were normalised.
    pub renormalised: usize,
}

impl Canonical {
    fn with_capacity(n: usize, sh_degree: u32) -> Canonical {
        let k = ((sh_degree + 1) * (sh_degree + 1)) as usize;
        Canonical {
            count: 0,
            means: Vec::with_capacity(3 * n),
            points: Vec::with_capacity(n),
            rotations: Vec::with_capacity(4 * n),
            log_scales: Vec::with_capacity(3 * n),
            covariances: Vec::with_capacity(6 * n),
            opacity_logits: Vec::with_capacity(n),
            sh_degree,
            sh: Vec::with_capacity(3 * k * n),
            joints: Vec::with_capacity(n),
            weights: Vec::with_capacity(n),
            renormalised: 0,
        }
    }

    /// Appends one splat; the covariance is R·diag(s²)·Rᵀ computed in f64.
    fn push(
        &mut self,
        mean: [f32; 3],
        rot: [f32; 4],
        log_scale: [f32; 3],
        joints: [u32; 4],
        weights: [f32; 4],
    ) {
        self.means.extend_from_slice(&mean);
        self.rotations.extend_from_slice(&rot);
        self.log_scales.extend_from_slice(&log_scale);
        let q = DQuat::from_xyzw(rot[1] as f64, rot[2] as f64, rot[3] as f64, rot[0] as f64)
            .normalize();
        let r = DMat3::from_quat(q);
        let s = DVec3::new(
            (2.0 * log_scale[0] as f64).exp(),
            (2.0 * log_scale[1] as f64).exp(),
            (2.0 * log_scale[2] as f64).exp(),
        );
        let c = r * DMat3::from_diagonal(s) * r.transpose();
        self.covariances.extend_from_slice(&[
            c.x_axis.x as f32,
            c.y_axis.x as f32,
            c.z_axis.x as f32,
            c.y_axis.y as f32,
            c.z_axis.y as f32,
            c.z_axis.z as f32,
        ]);
        self.points.push([mean; 4]);
        self.joints.push(joints);
        self.weights.push(weights);
        self.count += 1;
    }
}

/// The joint table of a glTF model's skinned meshes: one block per mesh (its skin's joints),
/// in mesh order, world space.
pub fn gltf_drivers(model: &Model) -> Drivers {
    let mut blocks = Vec::new();
    let mut joint_count = 0;
    for m in &model.meshes {
        blocks.push((m.skin, None));
        joint_count += model.rig.skins[m.skin].joints.len();
    }
    Drivers {
        blocks,
        joint_count,
    }
}

/// Samples `per_triangle` splats on every non-degenerate triangle of every skinned mesh
/// ([`vksplat_rig::Model::sample_splats`], the sampling `meshbound` shares): centre, shape
/// and colour from the sample; skin = the vertices' weights interpolated barycentrically and
/// merged to the top 4, with one rest point per joint so that the centre stays on the
/// skinned triangle in every pose ([`vksplat_rig::SkinnedMesh::surface_points`]).
pub fn from_gltf(
    model: &Model,
    per_triangle: usize,
    seed: u64,
    max_splats: usize,
) -> Result<Canonical, String> {
    let samples = model.sample_splats(false, per_triangle, seed, max_splats)?;
    let drivers = gltf_drivers(model);
    // Each mesh's joints start after the joints of the meshes before it.
    let mut joint_base = Vec::with_capacity(model.meshes.len());
    let mut base = 0u32;
    for m in &model.meshes {
        joint_base.push(base);
        base += model.rig.skins[m.skin].joints.len() as u32;
    }
    debug_assert_eq!(base as usize, drivers.joint_count);
    let mut out = Canonical::with_capacity(samples.len(), 0);
    for s in samples {
        let mesh = &model.meshes[s.mesh];
        let q = s.rotation;
        let (mut joints, weights, points) = mesh.surface_points(s.triangle as usize, s.bary);
        for j in joints.iter_mut() {
            *j += joint_base[s.mesh];
        }
        out.push(
            s.mean.to_array(),
            [q.w, q.x, q.y, q.z],
            s.log_scale,
            joints,
            weights,
        );
        *out.points.last_mut().expect("pushed") = points;
        out.opacity_logits.push(s.opacity_logit);
        out.sh.extend(s.sh_dc);
    }
    Ok(out)
}

/// The skin property names of a splat PLY.
pub const SKIN_FIELDS: [&str; 8] = [
    "joint_0", "joint_1", "joint_2", "joint_3", "weight_0", "weight_1", "weight_2", "weight_3",
];

/// The joint table of a skeleton file for PLY splats: skin 0's joints, world space.
pub fn skeleton_drivers(model: &Model) -> Result<Drivers, String> {
    let skin = model.rig.skins.first().ok_or("has no skin")?;
    Ok(Drivers {
        blocks: vec![(0, None)],
        joint_count: skin.joints.len(),
    })
}

/// A splat PLY with skin fields (see the README's "Skinned avatars"): the standard fields
/// through vksplat-io's scene reader (validated), `joint_0..3` (joint indices into the
/// skeleton's skin 0, stored as any number type holding an integer) and `weight_0..3`
/// (≥ 0; normalised to sum 1 when they do not, counted in `renormalised`).
pub fn from_ply(path: &Path, joint_count: usize, max_splats: usize) -> Result<Canonical, String> {
    use vksplat_io::scene::InvalidSplats;
    let scene = vksplat_io::read_scene_checked(path, InvalidSplats::Reject { hint: None })
        .map_err(|e| e.to_string())?;
    let splats = scene.splats();
    let n = splats.means.len();
    if n > max_splats {
        return Err(format!(
            "{}: {n} splats, more than {max_splats}",
            path.display()
        ));
    }
    let cols = vksplat_io::ply::read_columns(path, &SKIN_FIELDS).map_err(|e| e.to_string())?;
    if cols.len() != n {
        return Err(format!(
            "{}: skin fields for {} splats, {n} splats",
            path.display(),
            cols.len()
        ));
    }
    let k = ((splats.sh_degree + 1) * (splats.sh_degree + 1)) as usize;
    let mut out = Canonical::with_capacity(n, splats.sh_degree);
    for i in 0..n {
        let mut pairs = [(0u32, 0f32); 4];
        for (s, pair) in pairs.iter_mut().enumerate() {
            let j = cols.column(s)[i];
            let w = cols.column(4 + s)[i];
            let at = |m: String| format!("{}: splat {i}: {m}", path.display());
            if !w.is_finite() || w < 0.0 {
                return Err(at(format!(
                    "weight_{s} = {w} (weights must be finite and ≥ 0)"
                )));
            }
            if !j.is_finite() || j < 0.0 || j.fract() != 0.0 {
                return Err(at(format!("joint_{s} = {j} is not a joint index")));
            }
            if w > 0.0 && j as usize >= joint_count {
                return Err(at(format!(
                    "joint_{s} = {j} is out of range: the skeleton has {joint_count} joints"
                )));
            }
            *pair = (j as u32, w);
        }
        let sum: f32 = pairs.iter().map(|p| p.1).sum();
        if sum.is_nan() || sum <= 0.0 {
            return Err(format!("{}: splat {i}: all weights are 0", path.display()));
        }
        if (sum - 1.0).abs() > 1e-3 {
            out.renormalised += 1;
        }
        let (joints, weights) = top4(&pairs);
        let r = splats.rotations[i];
        out.push(splats.means[i], r, splats.log_scales[i], joints, weights);
        out.opacity_logits.push(splats.opacity_logits[i]);
        out.sh
            .extend_from_slice(&splats.sh[i * k * 3..(i + 1) * k * 3]);
    }
    Ok(out)
}
