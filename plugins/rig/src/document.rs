//! The translation of a glTF document into a checked [`Model`]. The container (GLB chunks,
//! buffers, buffer views, accessors) is vksplat-io's one reader
//! ([`vksplat_io::gltf_container`]), which checks every index and byte range before use;
//! this module checks what the model needs on top (accessor types, indices, finiteness).

use std::collections::HashMap;
use std::path::Path;

use glam::{DMat4, DQuat, DVec3};
use serde::Deserialize;
use serde_json::Value;
use vksplat_io::gltf_container::{self as container, Document};

use crate::anim::{Animation, Channel, Interpolation, Property, Sampler};
use crate::morph::{Morph, MorphedMesh};
use crate::skin::{Node, Rig, Skin, SkinnedMesh, Transform};
use crate::texture::{Image, Material};
use crate::{Model, RigError};

/// Largest file read (JSON, GLB, buffer or image), a bound on memory for hostile input.
const MAX_FILE: u64 = 1 << 30;
/// Most values of an accessor without a buffer view (all zeros, sized by its count alone).
const MAX_ZERO_VALUES: usize = 1 << 26;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Root {
    asset: Option<Value>,
    extensions_required: Vec<String>,
    scene: Option<usize>,
    scenes: Vec<SceneJ>,
    nodes: Vec<NodeJ>,
    meshes: Vec<MeshJ>,
    skins: Vec<SkinJ>,
    animations: Vec<AnimationJ>,
    accessors: Vec<AccessorJ>,
    materials: Vec<MaterialJ>,
    textures: Vec<TextureJ>,
    images: Vec<ImageJ>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SceneJ {
    nodes: Vec<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NodeJ {
    name: Option<String>,
    children: Vec<usize>,
    mesh: Option<usize>,
    skin: Option<usize>,
    matrix: Option<Vec<f64>>,
    translation: Option<[f64; 3]>,
    rotation: Option<[f64; 4]>,
    scale: Option<[f64; 3]>,
    weights: Option<Vec<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MeshJ {
    primitives: Vec<PrimitiveJ>,
    weights: Option<Vec<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PrimitiveJ {
    attributes: HashMap<String, usize>,
    indices: Option<usize>,
    material: Option<usize>,
    mode: Option<u32>,
    targets: Vec<HashMap<String, usize>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SkinJ {
    name: Option<String>,
    inverse_bind_matrices: Option<usize>,
    joints: Vec<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AnimationJ {
    name: Option<String>,
    channels: Vec<ChannelJ>,
    samplers: Vec<SamplerJ>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChannelJ {
    sampler: usize,
    target: TargetJ,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TargetJ {
    node: Option<usize>,
    path: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SamplerJ {
    input: usize,
    output: usize,
    interpolation: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AccessorJ {
    component_type: u32,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MaterialJ {
    pbr_metallic_roughness: Option<PbrJ>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PbrJ {
    base_color_factor: Option<[f32; 4]>,
    base_color_texture: Option<TextureRefJ>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct TextureRefJ {
    index: usize,
    tex_coord: u32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TextureJ {
    source: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ImageJ {
    uri: Option<String>,
    buffer_view: Option<usize>,
    mime_type: Option<String>,
}

/// The parsed file with its buffers loaded.
struct Doc<'a> {
    path: &'a Path,
    root: Root,
    doc: Document,
}

fn read_file(path: &Path) -> Result<Vec<u8>, RigError> {
    use std::io::Read;
    let io = |source| RigError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(RigError::invalid(path, "not a regular file"));
    }
    if meta.len() > MAX_FILE {
        return Err(RigError::invalid(
            path,
            format!(
                "{} bytes: larger than the {MAX_FILE}-byte limit",
                meta.len()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

pub(crate) fn load(path: &Path) -> Result<Model, RigError> {
    let bytes = read_file(path)?;
    let doc = Document::parse_owned(bytes, path).map_err(|m| RigError::invalid(path, m))?;
    let root: Root = serde_json::from_value(doc.json.clone())
        .map_err(|e| RigError::invalid(path, format!("not glTF JSON: {e}")))?;
    // Required extensions change what the data means (compressed geometry, other texture
    // formats): refuse those this reader does not implement rather than misread them.
    // Quantized attributes are read like any accessor; material extensions only change shading.
    if let Some(ext) = root
        .extensions_required
        .iter()
        .find(|e| *e != "KHR_mesh_quantization" && !e.starts_with("KHR_materials_"))
    {
        return Err(RigError::invalid(
            path,
            format!("requires the glTF extension {ext}, which is not supported"),
        ));
    }
    Doc { path, root, doc }.model()
}

impl Doc<'_> {
    fn bad(&self, message: impl Into<String>) -> RigError {
        RigError::invalid(self.path, message)
    }

    /// An accessor's elements as f32 (normalised integers mapped as the glTF spec says), with
    /// the number of components per element. `want` lists the element types accepted.
    fn floats(&self, index: usize, want: &[&str]) -> Result<(Vec<f32>, usize), RigError> {
        let a = self
            .root
            .accessors
            .get(index)
            .ok_or_else(|| self.bad(format!("accessor {index} does not exist")))?;
        if !want.contains(&a.kind.as_str()) {
            return Err(self.bad(format!(
                "accessor {index} has type {}, expected {}",
                a.kind,
                want.join(" or ")
            )));
        }
        if a.kind.starts_with("MAT") && a.component_type != container::FLOAT {
            return Err(self.bad(format!("accessor {index}: matrices must be floats")));
        }
        let info = self.doc.accessor(index).map_err(|m| self.bad(m))?;
        let values = info.count.checked_mul(info.components);
        // Without a buffer view the values are zeros and nothing in the file bounds the count.
        let values = values
            .filter(|&n| info.has_view || n <= MAX_ZERO_VALUES)
            .ok_or_else(|| {
                self.bad(format!(
                    "accessor {index}: {} elements without a bufferView is too many",
                    info.count
                ))
            })?;
        let mut out = Vec::with_capacity(values);
        self.doc
            .for_each_f32(index, |_, v| out.extend_from_slice(v))
            .map_err(|m| self.bad(m))?;
        if let Some(k) = out.iter().position(|x| !x.is_finite()) {
            return Err(self.bad(format!(
                "accessor {index}: element {} is not a finite number",
                k / info.components
            )));
        }
        Ok((out, info.components))
    }

    /// An accessor's elements as unsigned integers (indices, joints): unsigned component
    /// types only, values below 2²⁴ (read through f32, which holds them exactly).
    fn uints(&self, index: usize, want: &[&str]) -> Result<(Vec<u32>, usize), RigError> {
        let ctype = self
            .root
            .accessors
            .get(index)
            .map_or(0, |a| a.component_type);
        if ![
            container::UNSIGNED_BYTE,
            container::UNSIGNED_SHORT,
            container::UNSIGNED_INT,
        ]
        .contains(&ctype)
        {
            return Err(self.bad(format!(
                "accessor {index}: component type {ctype} where unsigned integers are required"
            )));
        }
        let (values, comps) = self.floats(index, want)?;
        if values.iter().any(|&v| v >= (1 << 24) as f32) {
            return Err(self.bad(format!(
                "accessor {index}: an index of 2^24 or more is not supported"
            )));
        }
        Ok((values.into_iter().map(|v| v as u32).collect(), comps))
    }

    fn model(&self) -> Result<Model, RigError> {
        let rig = self.rig()?;
        let materials = self.materials()?;
        let (meshes, morphed) = self.meshes(&rig, materials.len())?;
        Ok(Model {
            path: self.path.to_path_buf(),
            rig,
            meshes,
            morphed,
            materials,
        })
    }

    fn rig(&self) -> Result<Rig, RigError> {
        let r = &self.root;
        let n = r.nodes.len();
        let mut parent = vec![None; n];
        let mut nodes = Vec::with_capacity(n);
        for (i, node) in r.nodes.iter().enumerate() {
            for &c in &node.children {
                if c >= n {
                    return Err(self.bad(format!("node {i}: child {c} does not exist")));
                }
                if parent[c].is_some() || c == i {
                    return Err(self.bad(format!("node {c} has more than one parent")));
                }
                parent[c] = Some(i);
            }
            let transform = match &node.matrix {
                Some(m) => {
                    if m.len() != 16 || m.iter().any(|x| !x.is_finite()) {
                        return Err(self.bad(format!("node {i}: matrix must be 16 finite numbers")));
                    }
                    Transform::Matrix(DMat4::from_cols_slice(m))
                }
                None => {
                    let t = node.translation.unwrap_or([0.0; 3]);
                    let q = node.rotation.unwrap_or([0.0, 0.0, 0.0, 1.0]);
                    let s = node.scale.unwrap_or([1.0; 3]);
                    if t.iter().chain(&q).chain(&s).any(|x| !x.is_finite()) {
                        return Err(self.bad(format!("node {i}: non-finite transform")));
                    }
                    Transform::Trs {
                        translation: DVec3::from(t),
                        rotation: DQuat::from_xyzw(q[0], q[1], q[2], q[3]),
                        scale: DVec3::from(s),
                    }
                }
            };
            if let Some(m) = node.mesh {
                if m >= r.meshes.len() {
                    return Err(self.bad(format!("node {i}: mesh {m} does not exist")));
                }
            }
            if let Some(s) = node.skin {
                if s >= r.skins.len() {
                    return Err(self.bad(format!("node {i}: skin {s} does not exist")));
                }
            }
            nodes.push(Node {
                name: node.name.clone(),
                parent: None,
                transform,
                mesh: node.mesh,
                skin: node.skin,
            });
        }
        for (node, p) in nodes.iter_mut().zip(&parent) {
            node.parent = *p;
        }
        // Parents before children; a node never reached from a root sits on a cycle.
        let mut order = Vec::with_capacity(n);
        let mut stack: Vec<usize> = (0..n).rev().filter(|&i| parent[i].is_none()).collect();
        while let Some(i) = stack.pop() {
            order.push(i);
            stack.extend(r.nodes[i].children.iter().rev());
        }
        if order.len() != n {
            return Err(self.bad("the node hierarchy has a cycle"));
        }
        for (si, s) in r.scenes.iter().enumerate() {
            if let Some(&bad) = s.nodes.iter().find(|&&x| x >= n) {
                return Err(self.bad(format!("scene {si}: node {bad} does not exist")));
            }
        }
        if let Some(s) = r.scene {
            if s >= r.scenes.len() {
                return Err(self.bad(format!("scene {s} does not exist")));
            }
        }

        let mut skins = Vec::with_capacity(r.skins.len());
        for (si, s) in r.skins.iter().enumerate() {
            if s.joints.is_empty() {
                return Err(self.bad(format!("skin {si} has no joints")));
            }
            if let Some(&j) = s.joints.iter().find(|&&j| j >= n) {
                return Err(self.bad(format!("skin {si}: joint node {j} does not exist")));
            }
            let inverse_bind = match s.inverse_bind_matrices {
                None => vec![DMat4::IDENTITY; s.joints.len()],
                Some(a) => {
                    let (m, _) = self.floats(a, &["MAT4"])?;
                    if m.len() != 16 * s.joints.len() {
                        return Err(self.bad(format!(
                            "skin {si}: {} inverse bind matrices for {} joints",
                            m.len() / 16,
                            s.joints.len()
                        )));
                    }
                    let mats: Vec<DMat4> = m
                        .chunks_exact(16)
                        .map(|c| {
                            let d: Vec<f64> = c.iter().map(|&x| x as f64).collect();
                            DMat4::from_cols_slice(&d)
                        })
                        .collect();
                    for (j, mat) in mats.iter().enumerate() {
                        if !crate::skin::invertible(mat) {
                            return Err(self.bad(format!(
                                "skin {si} joint {j}: the inverse bind matrix is not invertible"
                            )));
                        }
                    }
                    mats
                }
            };
            skins.push(Skin {
                name: s.name.clone(),
                joints: s.joints.clone(),
                inverse_bind,
            });
        }

        let mut animations = Vec::with_capacity(r.animations.len());
        for (ai, a) in r.animations.iter().enumerate() {
            let mut samplers = Vec::with_capacity(a.samplers.len());
            for (k, s) in a.samplers.iter().enumerate() {
                let what = format!("animation {ai} sampler {k}");
                let interpolation = match s.interpolation.as_deref().unwrap_or("LINEAR") {
                    "LINEAR" => Interpolation::Linear,
                    "STEP" => Interpolation::Step,
                    "CUBICSPLINE" => Interpolation::CubicSpline,
                    other => return Err(self.bad(format!("{what}: interpolation '{other}'"))),
                };
                let (times, _) = self.floats(s.input, &["SCALAR"])?;
                if times.is_empty() {
                    return Err(self.bad(format!("{what}: no key times")));
                }
                if times.windows(2).any(|w| w[1] < w[0]) {
                    return Err(self.bad(format!("{what}: key times decrease")));
                }
                let (values, comps) = self.floats(s.output, &["SCALAR", "VEC3", "VEC4"])?;
                samplers.push(Sampler {
                    times,
                    values,
                    components: comps,
                    interpolation,
                });
            }
            let mut channels = Vec::new();
            for (k, c) in a.channels.iter().enumerate() {
                let what = format!("animation {ai} channel {k}");
                let property = match c.target.path.as_str() {
                    "translation" => Property::Translation,
                    "rotation" => Property::Rotation,
                    "scale" => Property::Scale,
                    "weights" => Property::Weights,
                    p => return Err(self.bad(format!("{what}: unknown path '{p}'"))),
                };
                let Some(node) = c.target.node else { continue };
                if node >= n {
                    return Err(self.bad(format!("{what}: node {node} does not exist")));
                }
                if property != Property::Weights
                    && matches!(nodes[node].transform, Transform::Matrix(_))
                {
                    return Err(self.bad(format!(
                        "{what}: animates node {node}, which has a matrix (glTF requires TRS)"
                    )));
                }
                let sampler = samplers.get(c.sampler).ok_or_else(|| {
                    self.bad(format!("{what}: sampler {} does not exist", c.sampler))
                })?;
                let per_key = if sampler.interpolation == Interpolation::CubicSpline {
                    3
                } else {
                    1
                };
                if property == Property::Weights {
                    // One float per morph target of the node's mesh, per key (and part).
                    let targets = match r.nodes[node].mesh {
                        Some(m) => self.target_count(m)?,
                        None => 0,
                    };
                    if targets == 0 {
                        return Err(self.bad(format!(
                            "{what}: animates the morph weights of node {node}, which has no mesh with morph targets"
                        )));
                    }
                    if sampler.components != 1
                        || sampler.values.len() != sampler.times.len() * targets * per_key
                    {
                        return Err(self.bad(format!(
                            "{what}: {} output values for {} keys of {targets} morph weights (expected {} SCALAR values)",
                            sampler.values.len(),
                            sampler.times.len(),
                            sampler.times.len() * targets * per_key
                        )));
                    }
                } else {
                    let want = if property == Property::Rotation { 4 } else { 3 };
                    if sampler.components != want
                        || sampler.values.len() != sampler.times.len() * want * per_key
                    {
                        return Err(self.bad(format!(
                            "{what}: {} output values for {} keys of {want} components",
                            sampler.values.len(),
                            sampler.times.len()
                        )));
                    }
                }
                channels.push(Channel {
                    node,
                    property,
                    sampler: c.sampler,
                });
            }
            animations.push(Animation {
                name: a.name.clone(),
                channels,
                samplers,
            });
        }
        Ok(Rig {
            nodes,
            order,
            skins,
            animations,
        })
    }

    fn materials(&self) -> Result<Vec<Material>, RigError> {
        let r = &self.root;
        let mut images: Vec<Option<std::sync::Arc<Image>>> = vec![None; r.images.len()];
        let mut out = Vec::with_capacity(r.materials.len());
        for (mi, m) in r.materials.iter().enumerate() {
            let pbr = m.pbr_metallic_roughness.as_ref();
            let factor = pbr.and_then(|p| p.base_color_factor).unwrap_or([1.0; 4]);
            if factor.iter().any(|x| !x.is_finite()) {
                return Err(self.bad(format!("material {mi}: non-finite baseColorFactor")));
            }
            let mut texture = None;
            if let Some(t) = pbr.and_then(|p| p.base_color_texture.as_ref()) {
                if t.tex_coord != 0 {
                    return Err(self.bad(format!(
                        "material {mi}: base colour texture uses TEXCOORD_{} (only TEXCOORD_0 is read)",
                        t.tex_coord
                    )));
                }
                let tex = r.textures.get(t.index).ok_or_else(|| {
                    self.bad(format!("material {mi}: texture {} does not exist", t.index))
                })?;
                if let Some(src) = tex.source {
                    let slot = images.get_mut(src).ok_or_else(|| {
                        self.bad(format!("texture {}: image {src} does not exist", t.index))
                    })?;
                    if slot.is_none() {
                        *slot = Some(std::sync::Arc::new(self.image(src)?));
                    }
                    texture = slot.clone();
                }
            }
            out.push(Material { factor, texture });
        }
        Ok(out)
    }

    fn image(&self, index: usize) -> Result<Image, RigError> {
        let img = &self.root.images[index];
        let what = format!("image {index}");
        let bytes = match (&img.uri, img.buffer_view) {
            (Some(uri), _) => {
                container::load_uri(self.path, uri).map_err(|m| self.bad(format!("{what}: {m}")))?
            }
            (None, Some(v)) => self.doc.view(v).map_err(|m| self.bad(m))?.0.to_vec(),
            (None, None) => return Err(self.bad(format!("{what} has neither uri nor bufferView"))),
        };
        Image::decode(&bytes).map_err(|e| self.bad(format!("{what}: {e}")))
    }

    /// The number of morph targets of mesh `mesh` (glTF requires every primitive to have the
    /// same number).
    fn target_count(&self, mesh: usize) -> Result<usize, RigError> {
        let prims = &self.root.meshes[mesh].primitives;
        let n = prims.first().map_or(0, |p| p.targets.len());
        if let Some(pi) = prims.iter().position(|p| p.targets.len() != n) {
            return Err(self.bad(format!(
                "mesh {mesh}: primitive {pi} has {} morph targets, primitive 0 has {n} (glTF requires the same number)",
                prims[pi].targets.len()
            )));
        }
        Ok(n)
    }

    /// The morph targets of a primitive with `nv` vertices and their default weights (node
    /// `weights`, else mesh `weights`, else zeros). None without targets.
    fn morph(
        &self,
        node: usize,
        mesh: usize,
        p: &PrimitiveJ,
        nv: usize,
        what: &str,
    ) -> Result<Option<Morph>, RigError> {
        let count = self.target_count(mesh)?;
        if count == 0 {
            return Ok(None);
        }
        let read = |ti: usize, name: &str| -> Result<Option<Vec<[f32; 3]>>, RigError> {
            let Some(&a) = p.targets[ti].get(name) else {
                return Ok(None);
            };
            let (v, _) = self.floats(a, &["VEC3"])?;
            if v.len() != 3 * nv {
                return Err(self.bad(format!(
                    "{what}: morph target {ti} {name} has {} elements, the primitive has {nv} vertices",
                    v.len() / 3
                )));
            }
            Ok(Some(
                v.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
            ))
        };
        let mut positions = Vec::with_capacity(count);
        let mut normals = Vec::with_capacity(count);
        for ti in 0..count {
            positions.push(read(ti, "POSITION")?.unwrap_or_else(|| vec![[0.0; 3]; nv]));
            normals.push(read(ti, "NORMAL")?);
        }
        let (given, whose) = match (
            &self.root.nodes[node].weights,
            &self.root.meshes[mesh].weights,
        ) {
            (Some(w), _) => (Some(w), format!("node {node}")),
            (None, Some(w)) => (Some(w), format!("mesh {mesh}")),
            (None, None) => (None, String::new()),
        };
        let weights = match given {
            None => vec![0.0; count],
            Some(w) => {
                if w.len() != count {
                    return Err(self.bad(format!(
                        "{whose}: weights has {} entries for {count} morph targets",
                        w.len()
                    )));
                }
                if w.iter().any(|x| !x.is_finite()) {
                    return Err(self.bad(format!("{whose}: weights are not all finite")));
                }
                w.iter().map(|&x| x as f32).collect()
            }
        };
        Ok(Some(Morph {
            positions,
            normals,
            weights,
        }))
    }

    /// The triangle primitives of every node with a mesh: skinned ones (the node has a skin)
    /// and morphed ones (no skin, morph targets); other primitives are not deformable.
    fn meshes(
        &self,
        rig: &Rig,
        material_count: usize,
    ) -> Result<(Vec<SkinnedMesh>, Vec<MorphedMesh>), RigError> {
        let r = &self.root;
        let mut out = Vec::new();
        let mut morphed = Vec::new();
        for (ni, node) in r.nodes.iter().enumerate() {
            let Some(mi) = node.mesh else { continue };
            for (pi, p) in r.meshes[mi].primitives.iter().enumerate() {
                let what = format!("mesh {mi} primitive {pi}");
                if p.mode.unwrap_or(4) != 4 {
                    continue; // points and lines have no surface
                }
                let attr = |name: &str| p.attributes.get(name).copied();
                let Some(pos) = attr("POSITION") else {
                    continue;
                };
                let skin = match node.skin {
                    Some(si) => match (attr("JOINTS_0"), attr("WEIGHTS_0")) {
                        (Some(j), Some(w)) => Some((si, j, w)),
                        _ => {
                            return Err(self.bad(format!(
                                "{what}: a skinned primitive without JOINTS_0 and WEIGHTS_0"
                            )))
                        }
                    },
                    None if p.targets.is_empty() => continue,
                    None => None,
                };
                let (pos, _) = self.floats(pos, &["VEC3"])?;
                let positions: Vec<[f32; 3]> =
                    pos.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
                let nv = positions.len();
                let uvs = match attr("TEXCOORD_0") {
                    Some(a) => {
                        let (uv, _) = self.floats(a, &["VEC2"])?;
                        if uv.len() != 2 * nv {
                            return Err(self.bad(format!("{what}: TEXCOORD_0 count differs")));
                        }
                        Some(uv.chunks_exact(2).map(|c| [c[0], c[1]]).collect())
                    }
                    None => None,
                };
                let indices = match p.indices {
                    Some(a) => self.uints(a, &["SCALAR"])?.0,
                    None => (0..nv as u32).collect(),
                };
                if let Some(&bad) = indices.iter().find(|&&i| i as usize >= nv) {
                    return Err(self.bad(format!("{what}: index {bad} >= vertex count {nv}")));
                }
                let triangles: Vec<[u32; 3]> = indices
                    .chunks_exact(3)
                    .map(|c| [c[0], c[1], c[2]])
                    .collect();
                if let Some(m) = p.material {
                    if m >= material_count {
                        return Err(self.bad(format!("{what}: material {m} does not exist")));
                    }
                }
                let morph = self.morph(ni, mi, p, nv, &what)?;
                let Some((si, joints, weights)) = skin else {
                    if let Some(morph) = morph {
                        morphed.push(MorphedMesh {
                            node: ni,
                            positions,
                            uvs,
                            triangles,
                            material: p.material,
                            morph,
                        });
                    }
                    continue;
                };
                let joint_count = rig.skins[si].joints.len();
                let (j, _) = self.uints(joints, &["VEC4"])?;
                let (w, _) = self.floats(weights, &["VEC4"])?;
                if j.len() != 4 * nv || w.len() != 4 * nv {
                    return Err(self.bad(format!(
                        "{what}: JOINTS_0/WEIGHTS_0 count differs from POSITION's ({nv})"
                    )));
                }
                let mut vj = Vec::with_capacity(nv);
                let mut vw = Vec::with_capacity(nv);
                for v in 0..nv {
                    let js = [j[4 * v], j[4 * v + 1], j[4 * v + 2], j[4 * v + 3]];
                    let ws = [w[4 * v], w[4 * v + 1], w[4 * v + 2], w[4 * v + 3]];
                    for k in 0..4 {
                        if ws[k] < 0.0 {
                            return Err(self.bad(format!(
                                "{what}: vertex {v} has a negative weight {}",
                                ws[k]
                            )));
                        }
                        if ws[k] > 0.0 && js[k] as usize >= joint_count {
                            return Err(self.bad(format!(
                                "{what}: vertex {v} uses joint {} but skin {si} has {joint_count} joints",
                                js[k]
                            )));
                        }
                    }
                    if ws.iter().sum::<f32>() <= 0.0 {
                        return Err(self.bad(format!("{what}: vertex {v} has all weights zero")));
                    }
                    vj.push(js);
                    vw.push(ws);
                }
                out.push(SkinnedMesh {
                    node: ni,
                    skin: si,
                    positions,
                    uvs,
                    joints: vj,
                    weights: vw,
                    triangles,
                    material: p.material,
                    morph,
                });
            }
        }
        Ok((out, morphed))
    }
}
