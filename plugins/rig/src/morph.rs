//! Morph targets (glTF 2.0 "Morph Targets"): a primitive's vertices at weights w are
//! `base + Σ_i w_i · Δ_i` per attribute (POSITION, NORMAL), evaluated before skinning.
//!
//! Invariants of a loaded [`Morph`]: every target holds one POSITION delta per vertex of its
//! primitive (zeros where the file has none), NORMAL deltas likewise where present; `weights`
//! (the defaults) has one entry per target; every value is finite.

use glam::{DMat4, Vec3};

use crate::anim::Property;
use crate::skin::Rig;

/// The morph targets of one primitive and the weights its node or mesh sets by default.
#[derive(Clone, Debug)]
pub struct Morph {
    /// Per target: one POSITION delta per vertex.
    pub positions: Vec<Vec<[f32; 3]>>,
    /// Per target: one NORMAL delta per vertex, when the target has NORMAL.
    pub normals: Vec<Option<Vec<[f32; 3]>>>,
    /// Weights without animation: the node's `weights`, else the mesh's, else zeros.
    pub weights: Vec<f32>,
}

impl Morph {
    pub fn target_count(&self) -> usize {
        self.positions.len()
    }

    /// `base + Σ_i w_i · Δ_i` over the targets' POSITION deltas.
    pub fn morph_positions(&self, base: &[[f32; 3]], weights: &[f32]) -> Vec<Vec3> {
        blend(
            base,
            weights,
            self.positions.iter().map(|d| Some(d.as_slice())),
        )
    }

    /// `base + Σ_i w_i · Δ_i` over the targets' NORMAL deltas (not renormalised; targets
    /// without NORMAL add nothing).
    pub fn morph_normals(&self, base: &[[f32; 3]], weights: &[f32]) -> Vec<Vec3> {
        blend(base, weights, self.normals.iter().map(|d| d.as_deref()))
    }
}

fn blend<'a>(
    base: &[[f32; 3]],
    weights: &[f32],
    deltas: impl Iterator<Item = Option<&'a [[f32; 3]]>>,
) -> Vec<Vec3> {
    let mut out: Vec<Vec3> = base.iter().map(|p| Vec3::from(*p)).collect();
    for (&w, d) in weights.iter().zip(deltas) {
        let Some(d) = d else { continue };
        if w == 0.0 {
            continue;
        }
        for (o, d) in out.iter_mut().zip(d) {
            *o += Vec3::from(*d) * w;
        }
    }
    out
}

/// A triangle primitive with morph targets on a node without a skin: its vertices move by
/// the morph, then by the node's global transform.
#[derive(Clone, Debug)]
pub struct MorphedMesh {
    pub node: usize,
    pub positions: Vec<[f32; 3]>,
    pub uvs: Option<Vec<[f32; 2]>>,
    pub triangles: Vec<[u32; 3]>,
    pub material: Option<usize>,
    pub morph: Morph,
}

impl MorphedMesh {
    /// The vertices in world space for the given morph weights and node globals.
    pub fn posed(&self, weights: &[f32], globals: &[DMat4]) -> Vec<Vec3> {
        let m = globals[self.node].as_mat4();
        self.morph
            .morph_positions(&self.positions, weights)
            .into_iter()
            .map(|p| m.transform_point3(p))
            .collect()
    }
}

impl Rig {
    /// The morph weights of `node`'s mesh at time `t` of `animation`: `defaults`, replaced by
    /// the animation's `weights` channels on that node (the last one wins, as for any path).
    pub fn morph_weights(
        &self,
        animation: Option<usize>,
        t: f64,
        node: usize,
        defaults: &[f32],
    ) -> Vec<f32> {
        let mut w: Vec<f64> = defaults.iter().map(|&x| x as f64).collect();
        if let Some(a) = animation.and_then(|a| self.animations.get(a)) {
            for c in &a.channels {
                if c.property == Property::Weights && c.node == node {
                    a.samplers[c.sampler].sample_into(t, false, &mut w);
                }
            }
        }
        w.into_iter().map(|x| x as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anim::{Interpolation, Sampler};

    #[test]
    fn morph_adds_weighted_deltas() {
        let m = Morph {
            positions: vec![
                vec![[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]],
                vec![[0.0, 0.0, 4.0]; 2],
            ],
            normals: vec![None, Some(vec![[0.0, 1.0, 0.0]; 2])],
            weights: vec![0.0, 0.0],
        };
        let base = [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]];
        let p = m.morph_positions(&base, &[0.5, 0.25]);
        assert_eq!(p, vec![Vec3::new(1.5, 1.0, 2.0), Vec3::new(0.0, 1.0, 1.0)]);
        // Target 0 has no NORMAL: only target 1's deltas count.
        let n = m.morph_normals(&[[0.0, 0.0, 1.0]; 2], &[0.5, 0.25]);
        assert_eq!(n, vec![Vec3::new(0.0, 0.25, 1.0); 2]);
    }

    #[test]
    fn weights_keys_of_any_width() {
        // 5 targets, two keys: LINEAR halfway is the mean, STEP holds the first key.
        let mut s = Sampler {
            times: vec![0.0, 2.0],
            values: (0..10).map(|x| x as f32).collect(),
            components: 1,
            interpolation: Interpolation::Linear,
        };
        let mut out = [0f64; 5];
        s.sample_into(1.0, false, &mut out);
        assert_eq!(out, [2.5, 3.5, 4.5, 5.5, 6.5]);
        s.interpolation = Interpolation::Step;
        s.sample_into(1.9, false, &mut out);
        assert_eq!(out, [0.0, 1.0, 2.0, 3.0, 4.0]);
        s.sample_into(7.0, false, &mut out);
        assert_eq!(out, [5.0, 6.0, 7.0, 8.0, 9.0]);
    }
}
