//! glTF 2.0 skins for vksplat's avatar plugins (`skinned`, and the mesh-bound plugin).
//!
//! - [`load`] reads a `.gltf` (external buffers beside it, or `data:` URIs) or a `.glb` into a
//!   [`Model`]: the node hierarchy with its skins and animations ([`Rig`]), every skinned
//!   triangle mesh ([`SkinnedMesh`]: positions, UVs, JOINTS_0/WEIGHTS_0, triangles) and the
//!   materials' base colour (factor and decoded texture, [`Material`]).
//! - [`Rig::globals`] evaluates an animation at a time (LINEAR, STEP and CUBICSPLINE samplers on
//!   translation, rotation and scale) down the hierarchy; [`Rig::joint_matrices`] turns the
//!   global transforms into the skinning matrices
//!   `M_j = inverse(meshGlobal) · jointGlobal_j · inverseBind_j`.
//! - [`SkinnedMesh::skin_vertices`] applies linear blend skinning to the mesh's vertices;
//!   [`triangle_frame`] is the orthonormal frame of a triangle; [`sample_surface`] draws seeded,
//!   deterministic points on the triangles and [`SkinnedMesh::surface_skin`] /
//!   [`Model::base_colour`] interpolate the skin and the colour there.
//!
//! - Morph targets ([`Morph`]): POSITION (and NORMAL) deltas per target, default weights from
//!   the node or mesh, `weights` animation channels ([`Rig::morph_weights`]);
//!   [`Model::posed_vertices`] evaluates morph first, then the skin (glTF's order), and also
//!   poses unskinned meshes with morph targets ([`MorphedMesh`], morph then node transform).
//! - [`Model::sample_splats`] is the one surface sampling of the avatar plugins (seed, splat
//!   shapes, opacity and colours), so `skinned` and `meshbound` make the same splats.
//!
//! Invariants a loaded [`Model`] keeps (checked in [`load`], errors name the file): every index
//! (node, mesh, skin, accessor, joint, material, texture, image) is in range; the node graph is
//! a forest (each node has at most one parent, no cycles); every number read is finite; every
//! inverse bind matrix is invertible; every vertex's joint indices are below its skin's joint
//! count; animation key times are finite and increasing. Hierarchy math is done in f64 (glam
//! `DMat4`) and handed out in f32.

mod anim;
mod document;
mod morph;
mod sample;
mod skin;
mod texture;

use std::path::{Path, PathBuf};

pub use anim::{Animation, Channel, Interpolation, Property, Sampler};
pub use morph::{Morph, MorphedMesh};
pub use sample::{
    sample_surface, top4, triangle_frame, SampledSplat, SurfaceSample, INPLANE_SIGMA, NORMAL_SIGMA,
    SAMPLED_OPACITY_LOGIT, SH_C0,
};
pub use skin::{Node, Rig, Skin, SkinnedMesh, Transform};
pub use texture::{Image, Material};

/// Everything that can go wrong reading or evaluating a rig. Messages name the file and the
/// glTF object (`accessor 3`, `skin 0 joint 5`, …).
#[derive(Debug, thiserror::Error)]
pub enum RigError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl RigError {
    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> RigError {
        RigError::Invalid {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// A loaded glTF model: its rig, skinned meshes and materials.
#[derive(Clone, Debug)]
pub struct Model {
    pub path: PathBuf,
    pub rig: Rig,
    /// One entry per (node with a mesh and a skin, triangle primitive): the skinned geometry.
    pub meshes: Vec<SkinnedMesh>,
    /// One entry per (node with a mesh and no skin, triangle primitive with morph targets).
    pub morphed: Vec<MorphedMesh>,
    pub materials: Vec<Material>,
}

/// The geometry shared by skinned and morphed meshes (a view of either).
#[derive(Clone, Copy, Debug)]
pub struct Surface<'a> {
    pub positions: &'a [[f32; 3]],
    pub triangles: &'a [[u32; 3]],
    pub uvs: Option<&'a [[f32; 2]]>,
    pub material: Option<usize>,
}

impl Model {
    /// Number of surfaces: the skinned meshes, then the morphed ones.
    pub fn surface_count(&self) -> usize {
        self.meshes.len() + self.morphed.len()
    }

    /// Surface `i`: `meshes[i]`, or `morphed[i - meshes.len()]`.
    pub fn surface(&self, i: usize) -> Surface<'_> {
        match self.meshes.get(i) {
            Some(m) => Surface {
                positions: &m.positions,
                triangles: &m.triangles,
                uvs: m.uvs.as_deref(),
                material: m.material,
            },
            None => {
                let m = &self.morphed[i - self.meshes.len()];
                Surface {
                    positions: &m.positions,
                    triangles: &m.triangles,
                    uvs: m.uvs.as_deref(),
                    material: m.material,
                }
            }
        }
    }

    /// Every surface's vertices at time `t` of `animation` (the rest pose without one), in
    /// world space, in [`Model::surface`] order: skinned meshes morphed, then skinned with
    /// `jointGlobal · inverseBind` (the mesh node's transform does not apply to a skinned
    /// mesh); morphed meshes morphed, then moved by their node's global transform.
    pub fn posed_vertices(
        &self,
        animation: Option<usize>,
        t: f64,
    ) -> Result<Vec<Vec<glam::Vec3>>, String> {
        let globals = self.rig.globals(animation, t);
        let mut out = Vec::with_capacity(self.surface_count());
        for m in &self.meshes {
            let joints = self.rig.joint_matrices(m.skin, None, &globals)?;
            out.push(match &m.morph {
                Some(morph) => {
                    let w = self.rig.morph_weights(animation, t, m.node, &morph.weights);
                    m.skin_points(&morph.morph_positions(&m.positions, &w), &joints)
                }
                None => m.skin_vertices(&joints),
            });
        }
        for m in &self.morphed {
            let w = self
                .rig
                .morph_weights(animation, t, m.node, &m.morph.weights);
            out.push(m.posed(&w, &globals));
        }
        Ok(out)
    }

    /// The colour at a point of a triangle of surface `mesh` ([`Model::surface`]): the
    /// material's base colour factor times its base colour texture at the interpolated UV, in
    /// sRGB (0..1) — the colour space splat colours live in. White without a material.
    pub fn base_colour(&self, mesh: usize, triangle: usize, bary: [f32; 3]) -> [f32; 3] {
        let m = self.surface(mesh);
        let Some(material) = m.material.and_then(|i| self.materials.get(i)) else {
            return [1.0; 3];
        };
        let uv = m.uvs.map(|uvs| {
            let t = m.triangles[triangle];
            let mut uv = [0f32; 2];
            for (k, &v) in t.iter().enumerate() {
                uv[0] += bary[k] * uvs[v as usize][0];
                uv[1] += bary[k] * uvs[v as usize][1];
            }
            uv
        });
        material.colour(uv)
    }
}

/// Reads a glTF 2.0 file (`.gltf` JSON with external or `data:` buffers, or binary `.glb`,
/// recognised by its magic). See the crate documentation for what is checked.
pub fn load(path: &Path) -> Result<Model, RigError> {
    document::load(path)
}

/// Whether a file starts like a glTF file: the GLB magic, or a JSON object (glTF puts no
/// member first, so `"asset"` may come last; [`load`] checks it).
pub fn looks_like_gltf(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    head.starts_with(b"glTF") || text.trim_ascii_start().starts_with(b"{")
}
