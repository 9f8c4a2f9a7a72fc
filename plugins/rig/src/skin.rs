//! The node hierarchy, skins and skinned meshes: global transforms at a time, skinning
//! matrices, and linear blend skinning of vertices.

use glam::{DMat4, DQuat, DVec3, Mat4, Vec3};

use crate::anim::{self, Animation};

/// A node's local transform.
#[derive(Clone, Copy, Debug)]
pub enum Transform {
    /// A fixed matrix (glTF forbids animating such a node).
    Matrix(DMat4),
    Trs {
        translation: DVec3,
        rotation: DQuat,
        scale: DVec3,
    },
}

/// A node of the hierarchy.
#[derive(Clone, Debug)]
pub struct Node {
    pub name: Option<String>,
    pub parent: Option<usize>,
    pub transform: Transform,
    pub mesh: Option<usize>,
    pub skin: Option<usize>,
}

/// A skin: its joint nodes and their inverse bind matrices (invertible, one per joint).
#[derive(Clone, Debug)]
pub struct Skin {
    pub name: Option<String>,
    pub joints: Vec<usize>,
    pub inverse_bind: Vec<DMat4>,
}

/// The hierarchy with its skins and animations.
#[derive(Clone, Debug)]
pub struct Rig {
    pub nodes: Vec<Node>,
    /// Node indices with every parent before its children.
    pub order: Vec<usize>,
    pub skins: Vec<Skin>,
    pub animations: Vec<Animation>,
}

/// Whether a matrix can be inverted reliably (determinant not tiny against its entries' size).
pub(crate) fn invertible(m: &DMat4) -> bool {
    let det = m.determinant();
    let scale = m.to_cols_array().iter().fold(0f64, |a, x| a.max(x.abs()));
    det.is_finite() && scale > 0.0 && det.abs() > 1e-12 * scale.powi(3)
}

impl Rig {
    /// An animation by name, or by index (a decimal number).
    pub fn find_animation(&self, name_or_index: &str) -> Result<usize, String> {
        if let Some(i) = self
            .animations
            .iter()
            .position(|a| a.name.as_deref() == Some(name_or_index))
        {
            return Ok(i);
        }
        if let Ok(i) = name_or_index.trim().parse::<usize>() {
            if i < self.animations.len() {
                return Ok(i);
            }
        }
        let names: Vec<String> = self
            .animations
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{i}: {}", a.name.as_deref().unwrap_or("(unnamed)")))
            .collect();
        Err(format!(
            "no animation '{name_or_index}' (animations: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))
    }

    /// Every node's global transform at time `t` of `animation` (the rest pose without one).
    pub fn globals(&self, animation: Option<usize>, t: f64) -> Vec<DMat4> {
        let mut locals: Vec<(DVec3, DQuat, DVec3)> = self
            .nodes
            .iter()
            .map(|n| match n.transform {
                Transform::Trs {
                    translation,
                    rotation,
                    scale,
                } => (translation, rotation, scale),
                Transform::Matrix(_) => (DVec3::ZERO, DQuat::IDENTITY, DVec3::ONE),
            })
            .collect();
        if let Some(a) = animation.and_then(|a| self.animations.get(a)) {
            anim::apply(a, t, &mut locals);
        }
        let mut globals = vec![DMat4::IDENTITY; self.nodes.len()];
        for &i in &self.order {
            let node = &self.nodes[i];
            let local = match node.transform {
                Transform::Matrix(m) => m,
                Transform::Trs { .. } => {
                    let (t, r, s) = locals[i];
                    DMat4::from_scale_rotation_translation(s, r, t)
                }
            };
            globals[i] = match node.parent {
                Some(p) => globals[p] * local,
                None => local,
            };
        }
        globals
    }

    /// The skinning matrices of `skin` for a mesh on `mesh_node` (None: the mesh is at the
    /// origin), from global transforms: `M_j = inverse(meshGlobal) · jointGlobal_j ·
    /// inverseBind_j`. Errors when the mesh node's transform cannot be inverted or a matrix
    /// is not finite.
    pub fn joint_matrices(
        &self,
        skin: usize,
        mesh_node: Option<usize>,
        globals: &[DMat4],
    ) -> Result<Vec<Mat4>, String> {
        let s = &self.skins[skin];
        let inv_mesh = match mesh_node {
            Some(n) => {
                let g = globals[n];
                if !invertible(&g) {
                    return Err(format!(
                        "the global transform of mesh node {n} is not invertible"
                    ));
                }
                g.inverse()
            }
            None => DMat4::IDENTITY,
        };
        let mut out = Vec::with_capacity(s.joints.len());
        for (j, (&node, ib)) in s.joints.iter().zip(&s.inverse_bind).enumerate() {
            let m = inv_mesh * globals[node] * *ib;
            if !m.is_finite() {
                return Err(format!(
                    "skin {skin} joint {j}: the joint matrix is not finite"
                ));
            }
            out.push(m.as_mat4());
        }
        Ok(out)
    }

    /// The time range of an animation.
    pub fn time_range(&self, animation: usize) -> (f64, f64) {
        self.animations[animation].time_range()
    }
}

/// One skinned triangle primitive on a node: vertices in the mesh's own space (bind pose).
/// Joint indices are below the skin's joint count wherever the weight is positive; weights
/// are non-negative with a positive sum (not necessarily 1).
#[derive(Clone, Debug)]
pub struct SkinnedMesh {
    pub node: usize,
    pub skin: usize,
    pub positions: Vec<[f32; 3]>,
    pub uvs: Option<Vec<[f32; 2]>>,
    pub joints: Vec<[u32; 4]>,
    pub weights: Vec<[f32; 4]>,
    pub triangles: Vec<[u32; 3]>,
    pub material: Option<usize>,
    /// The primitive's morph targets (applied before the skin), if it has any.
    pub morph: Option<crate::Morph>,
}

impl SkinnedMesh {
    /// Linear blend skinning of every vertex: `Σ w_k M_{j_k} · v` with the weights normalised
    /// to sum 1 (glTF requires the sum to be 1; exporters round).
    pub fn skin_vertices(&self, joint_matrices: &[Mat4]) -> Vec<Vec3> {
        let rest: Vec<Vec3> = self.positions.iter().map(|p| Vec3::from(*p)).collect();
        self.skin_points(&rest, joint_matrices)
    }

    /// [`SkinnedMesh::skin_vertices`] of other positions of the same vertices (the morphed
    /// ones: glTF applies morph targets before the skin).
    pub fn skin_points(&self, positions: &[Vec3], joint_matrices: &[Mat4]) -> Vec<Vec3> {
        positions
            .iter()
            .zip(self.joints.iter().zip(&self.weights))
            .map(|(p, (j, w))| {
                let sum: f32 = w.iter().sum();
                let mut out = Vec3::ZERO;
                for k in 0..4 {
                    if w[k] > 0.0 {
                        out += joint_matrices[j[k] as usize].transform_point3(*p) * (w[k] / sum);
                    }
                }
                out
            })
            .collect()
    }

    /// The skin of a point of a triangle on the surface itself: the top-4 joints and weights
    /// of [`SkinnedMesh::surface_skin`], and for each joint j the point
    /// p_j = Σ_k b_k w_kj v_k / Σ_k b_k w_kj (the triangle's vertices as joint j sees them).
    /// Then Σ_j w_j M_j·p_j is the barycentric point of the skinned vertices, so the point
    /// stays on the skinned triangle in every pose — exactly when the three vertices use at
    /// most four joints in all (otherwise the smallest are dropped, as for the weights).
    /// Unused slots hold joint 0, weight 0 and point (0, 0, 0).
    pub fn surface_points(
        &self,
        triangle: usize,
        bary: [f32; 3],
    ) -> ([u32; 4], [f32; 4], [[f32; 3]; 4]) {
        let t = self.triangles[triangle];
        let mut pairs = Vec::with_capacity(12);
        for (k, &v) in t.iter().enumerate() {
            let (j, w) = (self.joints[v as usize], self.weights[v as usize]);
            let sum: f32 = w.iter().sum();
            for m in 0..4 {
                pairs.push((j[m], bary[k] * w[m] / sum));
            }
        }
        let merged = crate::sample::merge_top4(&pairs);
        let total: f32 = merged.iter().map(|m| m.1).sum();
        let mut joints = [0u32; 4];
        let mut weights = [0f32; 4];
        let mut points = [[0f32; 3]; 4];
        for (slot, &(joint, wbar)) in merged.iter().enumerate() {
            let mut p = Vec3::ZERO;
            for (k, &v) in t.iter().enumerate() {
                let (j, w) = (self.joints[v as usize], self.weights[v as usize]);
                let sum: f32 = w.iter().sum();
                for m in 0..4 {
                    if j[m] == joint && w[m] > 0.0 {
                        p += Vec3::from(self.positions[v as usize]) * (bary[k] * w[m] / sum);
                    }
                }
            }
            joints[slot] = joint;
            weights[slot] = wbar / total;
            points[slot] = (p / wbar).to_array();
        }
        (joints, weights, points)
    }

    /// The top-4 joints and weights (normalised) at a point of a triangle: the three vertices'
    /// weights interpolated barycentrically, merged per joint (see [`crate::top4`]).
    pub fn surface_skin(&self, triangle: usize, bary: [f32; 3]) -> ([u32; 4], [f32; 4]) {
        let t = self.triangles[triangle];
        let mut pairs = Vec::with_capacity(12);
        for (k, &v) in t.iter().enumerate() {
            let (j, w) = (self.joints[v as usize], self.weights[v as usize]);
            let sum: f32 = w.iter().sum();
            for m in 0..4 {
                pairs.push((j[m], bary[k] * w[m] / sum));
            }
        }
        crate::top4(&pairs)
    }
}
