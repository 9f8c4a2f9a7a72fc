//! The glTF container: JSON (or GLB chunks), buffers, buffer views and accessors, and the
//! translation of the JSON objects into a checked [`Model`]. Every index and byte range is
//! checked before it is used; the file's own sizes bound every allocation.

use std::collections::HashMap;
use std::path::{Component, Path};

use glam::{DMat4, DQuat, DVec3};
use serde::Deserialize;
use serde_json::Value;

use crate::anim::{Animation, Channel, Interpolation, Property, Sampler};
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
    buffer_views: Vec<ViewJ>,
    buffers: Vec<BufferJ>,
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
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MeshJ {
    primitives: Vec<PrimitiveJ>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PrimitiveJ {
    attributes: HashMap<String, usize>,
    indices: Option<usize>,
    material: Option<usize>,
    mode: Option<u32>,
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
    buffer_view: Option<usize>,
    byte_offset: u64,
    component_type: u32,
    normalized: bool,
    count: u64,
    #[serde(rename = "type")]
    kind: String,
    sparse: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ViewJ {
    buffer: usize,
    byte_offset: u64,
    byte_length: u64,
    byte_stride: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct BufferJ {
    uri: Option<String>,
    byte_length: u64,
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
    buffers: Vec<Vec<u8>>,
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
    let (json, bin) = if bytes.starts_with(b"glTF") {
        split_glb(path, &bytes)?
    } else {
        (&bytes[..], None)
    };
    let root: Root = serde_json::from_slice(json)
        .map_err(|e| RigError::invalid(path, format!("not glTF JSON: {e}")))?;
    if root.asset.is_none() {
        return Err(RigError::invalid(
            path,
            "not a glTF 2.0 file (no \"asset\" object)",
        ));
    }
    let version = root.asset.as_ref().and_then(|a| a.get("version"));
    if let Some(v) = version.and_then(Value::as_str) {
        if !v.starts_with("2.") {
            return Err(RigError::invalid(
                path,
                format!("glTF version {v}: only 2.x is read"),
            ));
        }
    }
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
    let buffers = load_buffers(path, &root, bin)?;
    let doc = Doc {
        path,
        root,
        buffers,
    };
    doc.model()
}

/// The JSON and BIN chunks of a GLB file.
fn split_glb<'a>(path: &Path, b: &'a [u8]) -> Result<(&'a [u8], Option<&'a [u8]>), RigError> {
    let u32_at = |o: usize| -> Option<u32> {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let bad = |m: &str| RigError::invalid(path, format!("GLB: {m}"));
    if u32_at(4) != Some(2) {
        return Err(bad("container version is not 2"));
    }
    let total = u32_at(8).ok_or_else(|| bad("truncated header"))? as usize;
    if total > b.len() {
        return Err(bad("header length exceeds the file"));
    }
    let b = &b[..total];
    let mut at = 12;
    let mut json = None;
    let mut bin = None;
    while at + 8 <= b.len() {
        let len = u32_at(at).unwrap_or(0) as usize;
        let kind = u32_at(at + 4).unwrap_or(0);
        let start = at + 8;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= b.len())
            .ok_or_else(|| bad("chunk runs past the end of the file"))?;
        match kind {
            0x4E4F_534A if json.is_none() => json = Some(&b[start..end]),
            0x004E_4942 if bin.is_none() => bin = Some(&b[start..end]),
            _ => {}
        }
        at = end;
    }
    Ok((json.ok_or_else(|| bad("no JSON chunk"))?, bin))
}

fn load_buffers(path: &Path, root: &Root, bin: Option<&[u8]>) -> Result<Vec<Vec<u8>>, RigError> {
    let mut out = Vec::with_capacity(root.buffers.len());
    for (i, b) in root.buffers.iter().enumerate() {
        let bytes = match &b.uri {
            None if i == 0 && bin.is_some() => bin.unwrap_or_default().to_vec(),
            None => {
                return Err(RigError::invalid(
                    path,
                    format!("buffer {i} has no uri and there is no GLB binary chunk"),
                ))
            }
            Some(uri) => load_uri(path, uri, &format!("buffer {i}"))?,
        };
        if (bytes.len() as u64) < b.byte_length {
            return Err(RigError::invalid(
                path,
                format!(
                    "buffer {i}: {} bytes, but byteLength says {}",
                    bytes.len(),
                    b.byte_length
                ),
            ));
        }
        out.push(bytes);
    }
    Ok(out)
}

/// A `data:` URI's bytes, or a file relative to the glTF file (no absolute path, no `..`).
fn load_uri(path: &Path, uri: &str, what: &str) -> Result<Vec<u8>, RigError> {
    if let Some(rest) = uri.strip_prefix("data:") {
        let (_, payload) = rest
            .split_once(";base64,")
            .ok_or_else(|| RigError::invalid(path, format!("{what}: data URI is not base64")))?;
        return base64(payload)
            .ok_or_else(|| RigError::invalid(path, format!("{what}: bad base64 in data URI")));
    }
    let relative = percent_decode(uri)
        .ok_or_else(|| RigError::invalid(path, format!("{what}: bad URI '{uri}'")))?;
    let rel = Path::new(&relative);
    if uri.contains("://")
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(RigError::invalid(
            path,
            format!("{what}: URI '{uri}' must be a relative path inside the model's directory"),
        ));
    }
    read_file(&path.parent().unwrap_or(Path::new(".")).join(rel))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b'\n' | b'\r' | b' ' => continue,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn components(kind: &str) -> Option<usize> {
    Some(match kind {
        "SCALAR" => 1,
        "VEC2" => 2,
        "VEC3" => 3,
        "VEC4" => 4,
        "MAT2" => 4,
        "MAT3" => 9,
        "MAT4" => 16,
        _ => return None,
    })
}

impl Doc<'_> {
    fn bad(&self, message: impl Into<String>) -> RigError {
        RigError::invalid(self.path, message)
    }

    /// The raw bytes of a buffer view.
    fn view(&self, index: usize) -> Result<(&[u8], Option<u64>), RigError> {
        let v = self
            .root
            .buffer_views
            .get(index)
            .ok_or_else(|| self.bad(format!("bufferView {index} does not exist")))?;
        let buf = self.buffers.get(v.buffer).ok_or_else(|| {
            self.bad(format!(
                "bufferView {index}: buffer {} does not exist",
                v.buffer
            ))
        })?;
        let end = v
            .byte_offset
            .checked_add(v.byte_length)
            .filter(|&e| e <= buf.len() as u64)
            .ok_or_else(|| self.bad(format!("bufferView {index} runs past its buffer")))?;
        Ok((&buf[v.byte_offset as usize..end as usize], v.byte_stride))
    }

    /// An accessor's elements as f32 (normalised integers mapped as the glTF spec says), with
    /// the number of components per element. `want` lists the element types accepted.
    fn floats(&self, index: usize, want: &[&str]) -> Result<(Vec<f32>, usize), RigError> {
        let (raw, comps, ctype, normalized) = self.elements(index, want)?;
        let out: Vec<f32> = raw
            .iter()
            .map(|&v| match (ctype, normalized) {
                (5126, _) => f32::from_bits(v as u32),
                (5120, true) => (v as i8 as f32 / 127.0).max(-1.0),
                (5121, true) => v as u8 as f32 / 255.0,
                (5122, true) => (v as i16 as f32 / 32767.0).max(-1.0),
                (5123, true) => v as u16 as f32 / 65535.0,
                (5125, true) => v as u32 as f32 / u32::MAX as f32,
                (5120, false) => v as i8 as f32,
                (5122, false) => v as i16 as f32,
                _ => v as f32,
            })
            .collect();
        if let Some(k) = out.iter().position(|x| !x.is_finite()) {
            return Err(self.bad(format!(
                "accessor {index}: element {} is not a finite number",
                k / comps
            )));
        }
        Ok((out, comps))
    }

    /// An accessor's elements as unsigned integers (indices, joints).
    fn uints(&self, index: usize, want: &[&str]) -> Result<(Vec<u32>, usize), RigError> {
        let (raw, comps, ctype, _) = self.elements(index, want)?;
        if !matches!(ctype, 5121 | 5123 | 5125) {
            return Err(self.bad(format!(
                "accessor {index}: component type {ctype} where unsigned integers are required"
            )));
        }
        Ok((raw.into_iter().map(|v| v as u32).collect(), comps))
    }

    /// Raw component bit patterns (zero-extended) of an accessor.
    fn elements(
        &self,
        index: usize,
        want: &[&str],
    ) -> Result<(Vec<u64>, usize, u32, bool), RigError> {
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
        if a.sparse.is_some() {
            return Err(self.bad(format!(
                "accessor {index}: sparse accessors are not supported"
            )));
        }
        let comps = components(&a.kind).unwrap_or(1);
        let size = match a.component_type {
            5120 | 5121 => 1,
            5122 | 5123 => 2,
            5125 | 5126 => 4,
            t => return Err(self.bad(format!("accessor {index}: unknown component type {t}"))),
        };
        if a.kind.starts_with("MAT") && a.component_type != 5126 {
            return Err(self.bad(format!("accessor {index}: matrices must be floats")));
        }
        let count = a.count as usize;
        let elem = comps * size;
        let Some(view) = a.buffer_view else {
            // No buffer view: all zeros (glTF 2.0, accessors). Nothing in the file bounds the
            // count then, so a limit does.
            let values = count
                .checked_mul(comps)
                .filter(|&n| n <= MAX_ZERO_VALUES)
                .ok_or_else(|| {
                    self.bad(format!(
                        "accessor {index}: {} elements without a bufferView is too many",
                        a.count
                    ))
                })?;
            return Ok((vec![0; values], comps, a.component_type, a.normalized));
        };
        let (bytes, stride) = self.view(view)?;
        let stride = stride.map_or(elem as u64, |s| s.max(elem as u64));
        let needed = if count == 0 {
            0
        } else {
            a.byte_offset
                .checked_add(stride.saturating_mul(a.count - 1))
                .and_then(|x| x.checked_add(elem as u64))
                .unwrap_or(u64::MAX)
        };
        if needed > bytes.len() as u64 {
            return Err(self.bad(format!(
                "accessor {index}: {} elements need {needed} bytes, its bufferView has {}",
                a.count,
                bytes.len()
            )));
        }
        let mut out = Vec::with_capacity(count * comps);
        for e in 0..count {
            let base = a.byte_offset as usize + e * stride as usize;
            for c in 0..comps {
                let o = base + c * size;
                let v = match size {
                    1 => bytes[o] as u64,
                    2 => u16::from_le_bytes([bytes[o], bytes[o + 1]]) as u64,
                    _ => u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]])
                        as u64,
                };
                out.push(v);
            }
        }
        Ok((out, comps, a.component_type, a.normalized))
    }

    fn model(&self) -> Result<Model, RigError> {
        let rig = self.rig()?;
        let materials = self.materials()?;
        let meshes = self.meshes(&rig, materials.len())?;
        Ok(Model {
            path: self.path.to_path_buf(),
            rig,
            meshes,
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
                    // Morph target weights do not move the skeleton.
                    "weights" => continue,
                    p => return Err(self.bad(format!("{what}: unknown path '{p}'"))),
                };
                let Some(node) = c.target.node else { continue };
                if node >= n {
                    return Err(self.bad(format!("{what}: node {node} does not exist")));
                }
                if matches!(nodes[node].transform, Transform::Matrix(_)) {
                    return Err(self.bad(format!(
                        "{what}: animates node {node}, which has a matrix (glTF requires TRS)"
                    )));
                }
                let sampler = samplers.get(c.sampler).ok_or_else(|| {
                    self.bad(format!("{what}: sampler {} does not exist", c.sampler))
                })?;
                let want = if property == Property::Rotation { 4 } else { 3 };
                let per_key = if sampler.interpolation == Interpolation::CubicSpline {
                    3
                } else {
                    1
                };
                if sampler.components != want
                    || sampler.values.len() != sampler.times.len() * want * per_key
                {
                    return Err(self.bad(format!(
                        "{what}: {} output values for {} keys of {want} components",
                        sampler.values.len(),
                        sampler.times.len()
                    )));
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
            (Some(uri), _) => load_uri(self.path, uri, &what)?,
            (None, Some(v)) => self.view(v)?.0.to_vec(),
            (None, None) => return Err(self.bad(format!("{what} has neither uri nor bufferView"))),
        };
        Image::decode(&bytes).map_err(|e| self.bad(format!("{what}: {e}")))
    }

    fn meshes(&self, rig: &Rig, material_count: usize) -> Result<Vec<SkinnedMesh>, RigError> {
        let r = &self.root;
        let mut out = Vec::new();
        for (ni, node) in r.nodes.iter().enumerate() {
            let (Some(mi), Some(si)) = (node.mesh, node.skin) else {
                continue;
            };
            let joint_count = rig.skins[si].joints.len();
            for (pi, p) in r.meshes[mi].primitives.iter().enumerate() {
                let what = format!("mesh {mi} primitive {pi}");
                if p.mode.unwrap_or(4) != 4 {
                    continue; // points and lines have no surface
                }
                let attr = |name: &str| p.attributes.get(name).copied();
                let (Some(pos), Some(joints), Some(weights)) =
                    (attr("POSITION"), attr("JOINTS_0"), attr("WEIGHTS_0"))
                else {
                    if attr("POSITION").is_some() {
                        return Err(self.bad(format!(
                            "{what}: a skinned primitive without JOINTS_0 and WEIGHTS_0"
                        )));
                    }
                    continue;
                };
                let (pos, _) = self.floats(pos, &["VEC3"])?;
                let positions: Vec<[f32; 3]> =
                    pos.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
                let nv = positions.len();
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
                out.push(SkinnedMesh {
                    node: ni,
                    skin: si,
                    positions,
                    uvs,
                    joints: vj,
                    weights: vw,
                    triangles,
                    material: p.material,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(base64("SGVsbG8=").unwrap(), b"Hello");
        assert_eq!(base64("AAECAw==").unwrap(), [0, 1, 2, 3]);
        assert!(base64("a*b").is_none());
    }

    #[test]
    fn percent_decodes() {
        assert_eq!(percent_decode("a%20b.bin").unwrap(), "a b.bin");
        assert!(percent_decode("a%2").is_none());
    }
}
