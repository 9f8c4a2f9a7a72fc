//! glTF 2.0 `KHR_gaussian_splatting` (`.gltf` with a `.bin` or `data:` URI, and `.glb`), read
//! and written, with the `KHR_gaussian_splatting_compression_spz_2` draft (an SPZ payload in a
//! buffer view).
//!
//! From the Khronos specification (ellipse kernel): a mesh primitive of mode POINTS with the
//! extension object (`kernel`, `colorSpace` required; `projection`, `sortingMethod` optional)
//! and the attributes `POSITION`, `KHR_gaussian_splatting:ROTATION` (VEC4, x y z w, unit),
//! `:SCALE` (VEC3, linear), `:OPACITY` (SCALAR, 0..1, after the sigmoid) and
//! `:SH_DEGREE_l_COEF_n` (VEC3 float, n = 0..2l, m = −l..l, complete degrees only; degree 0
//! required). The SH basis and its constants are the 3DGS ones the renderer uses, so
//! coefficients are copied unchanged.
//!
//! Frames: glTF is y-up and right-handed. vksplat turns it into its RDF frame by the 180° turn
//! about x used for SPZ's RUB ([`super::rub_to_rdf`]) and by the skinned-avatar plugin, so the
//! same glTF scene lands in the same place in both. Node transforms (the world matrix of every
//! node that instantiates a splat mesh) are applied in the glTF frame first (means, covariances
//! and SH; see [`transform`]). The SPZ payload of the `spz_2` draft is packed in the SPZ
//! library's LUF frame (the draft says so), which is glTF's frame with x and z negated
//! relative to SPZ's RUB; the reader and writer add that half-turn about y.
//!
//! Reading refuses what it cannot honour (another kernel, a required extension it does not
//! know, partial SH degrees, a non-POINTS mode, a node matrix that is not decomposable) with an
//! error naming the file, and notes what it only adapts (colour space, projection, sorting
//! method other than the defaults; several primitives merged; scales of 0). Counts are
//! bounded by the bytes of the POSITION accessor's buffer view (or, for `spz_2`, by the SPZ
//! reader's own rules) before the splats are allocated.
//!
//! Writing: one node, one mesh, one primitive; float accessors, one tightly packed buffer view
//! each; POSITION with min/max as glTF requires; the antialiasing flag in the primitive's
//! `extras` (`"vksplat:antialiased": true`). Positions, rotations and SH are stored exactly
//! (the frame change only flips signs); scale = exp(log-scale) and opacity = sigmoid(logit) in
//! f32, so they come back within f32 rounding of the logarithm.

pub(crate) mod transform;

use std::collections::HashMap;
use std::path::Path;

use glam::{DMat3, DMat4, DQuat, DVec3};
use serde_json::{json, Map, Value};

use super::{check_count, SplatsMut};
use crate::gltf_container::{self as container, Document, FLOAT};
use crate::{IoError, Splats};

pub(crate) const EXT: &str = "KHR_gaussian_splatting";
pub(crate) const EXT_SPZ: &str = "KHR_gaussian_splatting_compression_spz_2";
const PREFIX: &str = "KHR_gaussian_splatting:";
const AA_EXTRA: &str = "vksplat:antialiased";
/// Nesting depth of the node hierarchy followed (cycles and absurd depths stop here).
const MAX_DEPTH: usize = 256;

/// What a glTF scene held besides the splats.
#[derive(Debug)]
pub(crate) struct GltfInfo {
    pub binary: bool,
    pub spz: bool,
    pub antialiased: bool,
    pub notes: Vec<String>,
}

/// True when `bytes` look like glTF: the GLB magic, or JSON whose first key region mentions
/// the extension (cheap; the parser decides).
pub(crate) fn sniff(bytes: &[u8]) -> bool {
    if bytes.starts_with(container::GLB_MAGIC) {
        return true;
    }
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|s| bytes[s] == b'{') && {
        let head = &bytes[..bytes.len().min(1 << 20)];
        contains(head, b"\"asset\"") && contains(head, EXT.as_bytes())
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Parses a `.gltf` or `.glb` scene; `path` names it in errors and locates external buffers.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<(Splats, GltfInfo), IoError> {
    let binary = bytes.starts_with(container::GLB_MAGIC);
    let doc = Document::parse(bytes, path).map_err(|m| IoError::input(path, m))?;
    parse_document(&doc, binary, path)
}

/// [`parse`] of a whole file it may keep: a GLB's binary chunk is read in place (no copy).
pub(crate) fn parse_owned(bytes: Vec<u8>, path: &Path) -> Result<(Splats, GltfInfo), IoError> {
    let binary = bytes.starts_with(container::GLB_MAGIC);
    let doc = Document::parse_owned(bytes, path).map_err(|m| IoError::input(path, m))?;
    parse_document(&doc, binary, path)
}

fn parse_document(
    doc: &Document,
    binary: bool,
    path: &Path,
) -> Result<(Splats, GltfInfo), IoError> {
    let fail = |m: String| IoError::input(path, m);
    let mut notes = Vec::new();
    let required: Vec<&str> = doc
        .array("extensionsRequired")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if let Some(e) = required
        .iter()
        .find(|e| ![EXT, EXT_SPZ, "KHR_mesh_quantization"].contains(e))
    {
        return Err(fail(format!(
            "requires the glTF extension {e}, which vksplat does not support"
        )));
    }
    // (mesh, world matrix) pairs: every node of the default scene (or every root node) that
    // instantiates a mesh.
    let instances = instances(doc).map_err(fail)?;
    let mut parts: Vec<Splats> = Vec::new();
    let (mut spz, mut antialiased) = (false, false);
    // A mesh instanced by several nodes is read once; each further instance is a copy, and
    // the copies together may not exceed 16 times the splats the file's bytes hold (at least
    // 2^16), so a small file cannot instance a mesh into terabytes.
    let mut uses: HashMap<usize, usize> = HashMap::new();
    for (mesh, _) in &instances {
        *uses.entry(*mesh).or_default() += 1;
    }
    let mut cache: HashMap<(usize, usize), Splats> = HashMap::new();
    let (mut copied, mut read) = (0usize, 0usize);
    for (mesh, world) in &instances {
        let prims = doc
            .array("meshes")
            .get(*mesh)
            .and_then(|m| m.get("primitives"))
            .and_then(Value::as_array)
            .ok_or_else(|| fail(format!("mesh {mesh} does not exist or has no primitives")))?;
        let left = uses.get_mut(mesh).map_or(0, |u| {
            *u -= 1;
            *u
        });
        for (pi, prim) in prims.iter().enumerate() {
            let Some(ext) = prim.get("extensions").and_then(|e| e.get(EXT)) else {
                continue;
            };
            let at = format!("mesh {mesh} primitive {pi}");
            let key = (*mesh, pi);
            if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(key) {
                let s = primitive(doc, prim, ext, path, &at, &mut notes, &mut spz)?;
                read = read.saturating_add(s.len());
                e.insert(s);
            }
            let mut s = if left == 0 {
                cache.remove(&key).unwrap_or_default()
            } else {
                let base = cache.get(&key).map(|b| b.len()).unwrap_or(0);
                copied = copied.saturating_add(base);
                let cap = read.saturating_mul(16).clamp(1 << 16, super::MAX_SPLATS);
                if copied > cap {
                    return Err(fail(format!(
                        "{at} is instanced by so many nodes that the copies would hold more \
                         than {cap} splats (16 times the {read} the file stores)"
                    )));
                }
                cache
                    .get(&key)
                    .map(copy)
                    .transpose()
                    .map_err(|e| e.at(path))?
                    .unwrap_or_default()
            };
            antialiased |= prim
                .get("extras")
                .and_then(|e| e.get(AA_EXTRA))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if *world != DMat4::IDENTITY {
                let m = DMat3::from_mat4(*world);
                let t = world.w_axis.truncate();
                transform::check_affine(&m, t)
                    .map_err(|e| fail(format!("{at}: the node of {e}")))?;
                transform::transform(&mut s, &m, t);
            }
            parts.push(s);
        }
    }
    if parts.is_empty() {
        return Err(fail(format!(
            "no mesh primitive with the {EXT} extension is instantiated by a node of the scene \
             (a glTF file without Gaussian splats?)"
        )));
    }
    if parts.len() > 1 {
        notes.push(format!(
            "merged {} splat primitives into one scene",
            parts.len()
        ));
    }
    let mut s = merge(parts).map_err(|e| e.at(path))?;
    super::rub_to_rdf(&mut s);
    Ok((
        s,
        GltfInfo {
            binary,
            spz,
            antialiased,
            notes,
        },
    ))
}

/// The local matrix of a node: `matrix`, or translation · rotation · scale.
fn local_matrix(node: &Value) -> Result<DMat4, String> {
    let nums = |key: &str, n: usize| -> Result<Option<Vec<f64>>, String> {
        match node.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) if a.len() == n => a
                .iter()
                .map(|v| {
                    v.as_f64()
                        .ok_or_else(|| format!("\"{key}\" holds a non-number"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(format!("\"{key}\" is not an array of {n} numbers")),
        }
    };
    if let Some(m) = nums("matrix", 16)? {
        let mut a = [0.0; 16];
        a.copy_from_slice(&m);
        return Ok(DMat4::from_cols_array(&a));
    }
    let t = nums("translation", 3)?.map_or(DVec3::ZERO, |v| DVec3::new(v[0], v[1], v[2]));
    let r = nums("rotation", 4)?.map_or(DQuat::IDENTITY, |v| {
        DQuat::from_xyzw(v[0], v[1], v[2], v[3]).normalize()
    });
    let s = nums("scale", 3)?.map_or(DVec3::ONE, |v| DVec3::new(v[0], v[1], v[2]));
    Ok(DMat4::from_scale_rotation_translation(s, r, t))
}

/// Every (mesh, world matrix) of the scene's node trees.
fn instances(doc: &Document) -> Result<Vec<(usize, DMat4)>, String> {
    let nodes = doc.array("nodes");
    let roots: Vec<usize> = match doc.json.get("scene").and_then(Value::as_u64) {
        Some(i) => scene_roots(doc, i as usize)?,
        None if !doc.array("scenes").is_empty() => scene_roots(doc, 0)?,
        None => {
            // No scene: every node that is nobody's child is a root.
            let mut child = vec![false; nodes.len()];
            for n in nodes {
                for c in n
                    .get("children")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(c) = c.as_u64().and_then(|c| child.get_mut(c as usize)) {
                        *c = true;
                    }
                }
            }
            (0..nodes.len()).filter(|&i| !child[i]).collect()
        }
    };
    let mut out = Vec::new();
    let mut stack: Vec<(usize, DMat4, usize)> =
        roots.into_iter().map(|r| (r, DMat4::IDENTITY, 0)).collect();
    while let Some((i, parent, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(format!(
                "the node hierarchy is deeper than {MAX_DEPTH} (a cycle through node {i}?)"
            ));
        }
        let node = nodes
            .get(i)
            .ok_or_else(|| format!("node {i} does not exist"))?;
        let world = parent * local_matrix(node).map_err(|m| format!("node {i}: {m}"))?;
        if let Some(mesh) = node.get("mesh") {
            let mesh = mesh
                .as_u64()
                .ok_or_else(|| format!("node {i}: \"mesh\" is not an index"))?;
            out.push((mesh as usize, world));
        }
        for c in node
            .get("children")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let c = c
                .as_u64()
                .ok_or_else(|| format!("node {i}: a child is not an index"))?;
            stack.push((c as usize, world, depth + 1));
        }
        if out.len() + stack.len() > 1 << 20 {
            return Err("more than 2^20 node instances (a cyclic hierarchy?)".into());
        }
    }
    out.reverse();
    Ok(out)
}

fn scene_roots(doc: &Document, i: usize) -> Result<Vec<usize>, String> {
    let scene = doc
        .array("scenes")
        .get(i)
        .ok_or_else(|| format!("scene {i} does not exist"))?;
    let nodes = scene.get("nodes").and_then(Value::as_array);
    nodes
        .into_iter()
        .flatten()
        .map(|n| {
            n.as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| format!("scene {i}: a node is not an index"))
        })
        .collect()
}

/// The accessor index of attribute `name`, if present.
fn attribute(prim: &Value, name: &str) -> Result<Option<usize>, String> {
    match prim.get("attributes").and_then(|a| a.get(name)) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(|v| Some(v as usize))
            .ok_or_else(|| format!("attribute {name} is not an accessor index")),
    }
}

/// Reads one splat primitive (glTF frame, node transform not applied).
fn primitive(
    doc: &Document,
    prim: &Value,
    ext: &Value,
    path: &Path,
    at: &str,
    notes: &mut Vec<String>,
    spz: &mut bool,
) -> Result<Splats, IoError> {
    let fail = |m: String| IoError::input(path, format!("{at}: {m}"));
    let mode = prim.get("mode").and_then(Value::as_u64).unwrap_or(4);
    if mode != 0 {
        return Err(fail(format!(
            "mode {mode}; {EXT} primitives must be POINTS (0)"
        )));
    }
    let text = |key: &str| ext.get(key).and_then(Value::as_str);
    match text("kernel") {
        Some("ellipse") => {}
        Some(k) => {
            return Err(fail(format!(
                "kernel '{k}' is not supported (only 'ellipse')"
            )))
        }
        None => return Err(fail("the extension has no \"kernel\" (required)".into())),
    }
    match text("colorSpace") {
        Some("srgb_rec709_display") => {}
        Some("lin_rec709_display") => notes.push(
            "colour space lin_rec709_display: rendered as vksplat renders every scene (SH \
             colours taken as display-referred sRGB values)"
                .into(),
        ),
        Some(c) => notes.push(format!("unknown colour space '{c}': rendered as sRGB")),
        None => notes.push("no colorSpace (required): taken as srgb_rec709_display".into()),
    }
    if let Some(p) = text("projection").filter(|p| *p != "perspective") {
        notes.push(format!(
            "projection '{p}' is not supported: rendered as perspective"
        ));
    }
    if let Some(m) = text("sortingMethod").filter(|m| *m != "cameraDistance") {
        notes.push(format!("sorting method '{m}' is not supported: ignored"));
    }
    let position = attribute(prim, "POSITION").map_err(fail)?;
    if let Some(c) = ext.get("extensions").and_then(|e| e.get(EXT_SPZ)) {
        *spz = true;
        let view = c
            .get("bufferView")
            .and_then(Value::as_u64)
            .ok_or_else(|| fail(format!("{EXT_SPZ} has no bufferView")))?;
        let (bytes, _) = doc.view(view as usize).map_err(fail)?;
        let (mut s, info) = super::spz::parse(bytes, path)
            .map_err(|e| fail(format!("the {EXT_SPZ} payload: {}", e.message())))?;
        notes.extend(info.notes);
        if let Some(p) = position {
            let count = doc.accessor(p).map_err(fail)?.count;
            if count != s.len() {
                return Err(fail(format!(
                    "the POSITION accessor counts {count} splats, the SPZ payload {}",
                    s.len()
                )));
            }
        }
        // SPZ's reader gave RDF from the payload's RUB; the payload was packed from LUF
        // (glTF with x and z negated relative to RUB). Back to the glTF frame: RDF → RUB
        // (its own inverse), then the half-turn about y.
        super::rub_to_rdf(&mut s);
        half_turn_y(&mut s);
        return Ok(s);
    }
    let position = position.ok_or_else(|| fail("no POSITION attribute".into()))?;
    let pinfo = doc.accessor(position).map_err(fail)?;
    if !pinfo.has_view {
        return Err(fail(
            "the POSITION accessor has no bufferView (and no compression extension)".into(),
        ));
    }
    let n = check_count(pinfo.count as u64).map_err(|m| fail(format!("POSITION {m}")))?;
    // Degrees present, complete and in order.
    let mut degree = 0u32;
    for l in 1..=3u32 {
        let present: Vec<bool> = (0..2 * l + 1)
            .map(|m| attribute(prim, &sh_name(l, m)).map(|a| a.is_some()))
            .collect::<Result<_, _>>()
            .map_err(fail)?;
        let count = present.iter().filter(|&&p| p).count();
        if count == 0 {
            break;
        }
        if count as u32 != 2 * l + 1 {
            return Err(fail(format!(
                "SH degree {l} is partly defined ({count} of {} coefficients)",
                2 * l + 1
            )));
        }
        degree = l;
    }
    if let Some(l) =
        (degree + 2..=4).find(|&l| attribute(prim, &sh_name(l, 0)).ok().flatten().is_some())
    {
        return Err(fail(format!(
            "SH degree {l} is defined without degree {}",
            degree + 1
        )));
    }
    let mut s = super::zeroed(n, degree).map_err(|e| e.at(path))?;
    let stride = s.coeffs_per_splat() * 3;
    let need = |name: &str| -> Result<usize, IoError> {
        attribute(prim, name)
            .map_err(fail)?
            .ok_or_else(|| fail(format!("no {name} attribute (required)")))
    };
    let read = |index: usize,
                name: &str,
                comps: usize,
                float_only: bool,
                f: &mut dyn FnMut(usize, &[f32])|
     -> Result<(), IoError> {
        let info = doc.accessor(index).map_err(fail)?;
        if info.count != n || info.components != comps {
            return Err(fail(format!(
                "{name}: accessor {index} has {} elements of {} components; {n} of {comps} \
                 expected",
                info.count, info.components
            )));
        }
        if float_only && info.component_type != FLOAT {
            return Err(fail(format!(
                "{name}: accessor {index} is {}, the specification requires float",
                container::component_name(info.component_type, info.normalized)
            )));
        }
        doc.for_each_f32(index, |i, v| f(i, v)).map_err(fail)?;
        Ok(())
    };
    let mut bad_scale = None;
    {
        let SplatsMut {
            means,
            rotations,
            log_scales,
            opacity_logits,
            sh,
            ..
        } = SplatsMut::new(&mut s);
        read(position, "POSITION", 3, false, &mut |i, v| {
            means[i] = [v[0], v[1], v[2]];
        })?;
        read(
            need(&format!("{PREFIX}ROTATION"))?,
            "ROTATION",
            4,
            false,
            &mut |i, v| {
                rotations[i] = crate::math::normalised_quat([v[3], v[0], v[1], v[2]]);
            },
        )?;
        read(
            need(&format!("{PREFIX}SCALE"))?,
            "SCALE",
            3,
            false,
            &mut |i, v| {
                for (d, &x) in log_scales[i].iter_mut().zip(v) {
                    *d = if x > 0.0 && x.is_finite() {
                        x.ln()
                    } else if x == 0.0 {
                        f32::MIN_POSITIVE.ln()
                    } else {
                        bad_scale.get_or_insert(i);
                        f32::NAN
                    };
                }
            },
        )?;
        let mut bad_opacity = None;
        read(
            need(&format!("{PREFIX}OPACITY"))?,
            "OPACITY",
            1,
            false,
            &mut |i, v| {
                opacity_logits[i] = logit(v[0]).unwrap_or_else(|| {
                    bad_opacity.get_or_insert((i, v[0]));
                    f32::NAN
                });
            },
        )?;
        if let Some((i, v)) = bad_opacity {
            return Err(fail(format!(
                "OPACITY of splat {i} is {v}; opacities lie in 0..1"
            )));
        }
        for l in 0..=degree {
            for m in 0..2 * l + 1 {
                let k = (l * l + m) as usize;
                let name = sh_name(l, m);
                read(need(&name)?, &name, 3, true, &mut |i, v| {
                    sh[i * stride + k * 3..i * stride + k * 3 + 3].copy_from_slice(&v[..3]);
                })?;
            }
        }
    }
    if let Some(i) = bad_scale {
        return Err(fail(format!(
            "SCALE of splat {i} is negative or not finite; scales are linear and non-negative"
        )));
    }
    Ok(s)
}

fn sh_name(l: u32, m: u32) -> String {
    format!("{PREFIX}SH_DEGREE_{l}_COEF_{m}")
}

/// The logit of an opacity in 0..=1, computed in f64 and kept finite (0 and 1 map to ∓40,
/// whose sigmoid is 0 and 1 within f32 rounding of the renderer's α threshold).
fn logit(p: f32) -> Option<f32> {
    if !(0.0..=1.0).contains(&p) {
        return None;
    }
    let p = f64::from(p);
    Some((p.ln() - (-p).ln_1p()).clamp(-40.0, 40.0) as f32)
}

/// Turns splats half a turn about y in place: x and z negate, quaternions (w, x, y, z) become
/// (w, −x, y, −z), SH coefficients odd in (x, z) change sign (exact).
fn half_turn_y(s: &mut Splats) {
    // Parity in (x, z) of each basis function, from the polynomials of `transform::sh_basis`.
    const SIGN: [f32; 16] = [
        1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0,
    ];
    for m in &mut s.means {
        m[0] = -m[0];
        m[2] = -m[2];
    }
    for q in &mut s.rotations {
        q[1] = -q[1];
        q[3] = -q[3];
    }
    let k = s.coeffs_per_splat();
    if k > 1 {
        for splat in s.sh.chunks_exact_mut(k * 3) {
            for (coeff, sign) in splat.chunks_exact_mut(3).zip(SIGN) {
                if sign < 0.0 {
                    coeff.iter_mut().for_each(|v| *v = -*v);
                }
            }
        }
    }
}

/// A copy of `s`, allocated fallibly.
fn copy(s: &Splats) -> Result<Splats, crate::memory::AllocError> {
    let mut t = super::zeroed(s.len(), s.sh_degree)?;
    t.means.copy_from_slice(&s.means);
    t.rotations.copy_from_slice(&s.rotations);
    t.log_scales.copy_from_slice(&s.log_scales);
    t.opacity_logits.copy_from_slice(&s.opacity_logits);
    t.sh.copy_from_slice(&s.sh);
    Ok(t)
}

/// Concatenates splat sets, raising every part to the highest SH degree (zeros).
fn merge(mut parts: Vec<Splats>) -> Result<Splats, crate::memory::AllocError> {
    if parts.len() == 1 {
        return Ok(parts.pop().unwrap_or_default());
    }
    let n: usize = parts.iter().map(Splats::len).sum();
    let degree = parts.iter().map(|p| p.sh_degree).max().unwrap_or(0);
    let mut out = super::zeroed(n, degree)?;
    let stride = out.coeffs_per_splat() * 3;
    let mut at = 0;
    for p in &parts {
        let len = p.len();
        out.means[at..at + len].copy_from_slice(&p.means);
        out.rotations[at..at + len].copy_from_slice(&p.rotations);
        out.log_scales[at..at + len].copy_from_slice(&p.log_scales);
        out.opacity_logits[at..at + len].copy_from_slice(&p.opacity_logits);
        let ps = p.coeffs_per_splat() * 3;
        for i in 0..len {
            out.sh[(at + i) * stride..(at + i) * stride + ps]
                .copy_from_slice(&p.sh[i * ps..(i + 1) * ps]);
        }
        at += len;
    }
    Ok(out)
}

/// How the glTF writer stores its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GltfBuffer {
    /// One `.glb` file (JSON chunk + binary chunk).
    Glb,
    /// `.gltf` JSON plus the buffer in the sibling file named here.
    External,
    /// `.gltf` JSON with the buffer as a base64 `data:` URI.
    Embedded,
}

/// What [`encode`] produced. [`GltfBuffer::External`]: `main` is the `.gltf`, `bin` the
/// `.bin` file. [`GltfBuffer::Glb`]: the file is `main` (header and JSON chunk), then `bin`,
/// then `container::glb_padding(bin.len())` zeros. [`GltfBuffer::Embedded`]: `main` alone.
pub(crate) struct Encoded {
    pub main: Vec<u8>,
    pub bin: Option<Vec<u8>>,
    pub notes: Vec<String>,
}

/// Options of the glTF writer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GltfWrite<'a> {
    pub buffer: GltfBuffer,
    /// File name of the external buffer (relative URI) for [`GltfBuffer::External`].
    pub bin_name: &'a str,
    pub antialiased: bool,
    /// Store an SPZ payload (`spz_2` draft) written with these options instead of float
    /// accessors (the draft names SPZ v2; the caller picks the version).
    pub spz: Option<super::spz::SpzWrite>,
}

struct Bin {
    data: Vec<u8>,
    views: Vec<Value>,
    accessors: Vec<Value>,
}

impl Bin {
    /// Appends a tightly packed float buffer view + accessor; returns the accessor index.
    fn floats(&mut self, kind: &str, values: impl Iterator<Item = f32>, count: usize) -> usize {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
        let start = self.data.len();
        for v in values {
            self.data.extend_from_slice(&v.to_le_bytes());
        }
        self.views.push(json!({
            "buffer": 0, "byteOffset": start, "byteLength": self.data.len() - start
        }));
        self.accessors.push(json!({
            "bufferView": self.views.len() - 1, "componentType": FLOAT, "count": count,
            "type": kind
        }));
        self.accessors.len() - 1
    }

    /// An accessor without data (the `spz_2` placeholders).
    fn placeholder(&mut self, kind: &str, count: usize) -> usize {
        self.accessors
            .push(json!({"componentType": FLOAT, "count": count, "type": kind}));
        self.accessors.len() - 1
    }
}

/// Encodes `s` (RDF, valid) as glTF; `path` (the output) names it in errors.
pub(crate) fn encode(s: &Splats, o: &GltfWrite<'_>, path: &Path) -> Result<Encoded, IoError> {
    let fail = |m: String| IoError::output(path, m);
    let n = s.len();
    let k = s.coeffs_per_splat();
    let degree = s.sh_degree;
    let mut notes = Vec::new();
    let floats_total = n.saturating_mul(3 + 4 + 3 + 1 + k * 3).saturating_mul(4);
    let mut bin = Bin {
        data: crate::memory::with_capacity(if o.spz.is_some() { 0 } else { floats_total })
            .map_err(|e| e.at(path))?,
        views: Vec::new(),
        accessors: Vec::new(),
    };
    // RDF → glTF: y and z negate (the frame change is its own inverse).
    let gl_mean = |m: &[f32; 3]| [m[0], -m[1], -m[2]];
    let (mut lo, mut hi) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
    for m in &s.means {
        let g = gl_mean(m);
        for a in 0..3 {
            lo[a] = lo[a].min(g[a]);
            hi[a] = hi[a].max(g[a]);
        }
    }
    let mut attrs = Map::new();
    let mut ext = json!({
        "kernel": "ellipse",
        "colorSpace": "srgb_rec709_display",
        "projection": "perspective",
        "sortingMethod": "cameraDistance"
    });
    let mut used = vec![EXT];
    let mut required = Vec::new();
    if let Some(spz_options) = &o.spz {
        // glTF frame, then the half-turn about y to SPZ's LUF packing frame; the SPZ writer
        // turns its RDF input to RUB itself, so hand it RDF of the LUF-packed scene.
        let mut t = copy(s).map_err(|e| e.at(path))?;
        half_turn_y(&mut t);
        let (payload, spz_notes) = super::spz::encode(&t, spz_options, path)?;
        notes.extend(spz_notes);
        bin.data = payload;
        bin.views
            .push(json!({"buffer": 0, "byteLength": bin.data.len()}));
        let p = bin.placeholder("VEC3", n);
        attrs.insert("POSITION".into(), p.into());
        for (name, kind) in [
            ("ROTATION", "VEC4"),
            ("SCALE", "VEC3"),
            ("OPACITY", "SCALAR"),
        ] {
            let a = bin.placeholder(kind, n);
            attrs.insert(format!("{PREFIX}{name}"), a.into());
        }
        for l in 0..=degree {
            for m in 0..2 * l + 1 {
                let a = bin.placeholder("VEC3", n);
                attrs.insert(sh_name(l, m), a.into());
            }
        }
        ext["extensions"] = json!({ EXT_SPZ: { "bufferView": 0 } });
        used.push(EXT_SPZ);
        required.push(EXT_SPZ);
    } else {
        let p = bin.floats("VEC3", s.means.iter().flat_map(gl_mean), n);
        attrs.insert("POSITION".into(), p.into());
        let r = bin.floats(
            "VEC4",
            s.rotations.iter().flat_map(|q| {
                let q = crate::math::normalised_quat(*q);
                [q[1], -q[2], -q[3], q[0]]
            }),
            n,
        );
        attrs.insert(format!("{PREFIX}ROTATION"), r.into());
        let sc = bin.floats("VEC3", s.log_scales.iter().flatten().map(|v| v.exp()), n);
        attrs.insert(format!("{PREFIX}SCALE"), sc.into());
        let op = bin.floats(
            "SCALAR",
            s.opacity_logits.iter().map(|&x| crate::math::sigmoid(x)),
            n,
        );
        attrs.insert(format!("{PREFIX}OPACITY"), op.into());
        for l in 0..=degree {
            for m in 0..2 * l + 1 {
                let kk = (l * l + m) as usize;
                let sign = super::SH_SIGN_FLIP_YZ[kk];
                let values = (0..n).flat_map(|i| {
                    let c = &s.sh[(i * k + kk) * 3..(i * k + kk) * 3 + 3];
                    [c[0] * sign, c[1] * sign, c[2] * sign]
                });
                let a = bin.floats("VEC3", values, n);
                attrs.insert(sh_name(l, m), a.into());
            }
        }
    }
    if n > 0 {
        bin.accessors[attrs["POSITION"].as_u64().unwrap_or(0) as usize]["min"] = json!(lo);
        bin.accessors[attrs["POSITION"].as_u64().unwrap_or(0) as usize]["max"] = json!(hi);
    }
    let mut prim = json!({ "attributes": attrs, "mode": 0, "extensions": { EXT: ext } });
    if o.antialiased {
        prim["extras"] = json!({ AA_EXTRA: true });
    }
    let mut buffer = json!({ "byteLength": bin.data.len() });
    match o.buffer {
        GltfBuffer::Glb => {}
        GltfBuffer::External => buffer["uri"] = json!(o.bin_name),
        GltfBuffer::Embedded => {
            buffer["uri"] = json!(format!(
                "data:application/octet-stream;base64,{}",
                container::encode_base64(&bin.data)
            ))
        }
    }
    let mut root = json!({
        "asset": { "version": "2.0", "generator": concat!("vksplat ", env!("CARGO_PKG_VERSION")) },
        "extensionsUsed": used,
        "scene": 0,
        "scenes": [{ "nodes": [0] }],
        "nodes": [{ "mesh": 0 }],
        "meshes": [{ "primitives": [prim] }],
        "buffers": [buffer],
        "bufferViews": bin.views,
        "accessors": bin.accessors,
    });
    if !required.is_empty() {
        root["extensionsRequired"] = json!(required);
    }
    let text = serde_json::to_vec(&root).map_err(|e| fail(format!("JSON: {e}")))?;
    Ok(match o.buffer {
        GltfBuffer::Glb => Encoded {
            main: container::glb_prefix(&text, bin.data.len()).map_err(fail)?,
            bin: Some(bin.data),
            notes,
        },
        GltfBuffer::External => Encoded {
            main: text,
            bin: Some(bin.data),
            notes,
        },
        GltfBuffer::Embedded => Encoded {
            main: text,
            bin: None,
            notes,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_turn_y_signs_match_the_rotation_fit() {
        let r = DMat3::from_diagonal(DVec3::new(-1.0, 1.0, -1.0));
        let bands = transform::sh_rotation(&r);
        let mut s = crate::formats::zeroed(1, 3).unwrap();
        for (i, v) in s.sh.iter_mut().enumerate() {
            *v = i as f32 + 1.0;
        }
        let before = s.sh.clone();
        half_turn_y(&mut s);
        for l in 1..=3usize {
            let (first, w) = (l * l, 2 * l + 1);
            for i in 0..w {
                let d = bands[l - 1][i * w + i];
                assert!((d.abs() - 1.0).abs() < 1e-12);
                assert_eq!(
                    s.sh[(first + i) * 3],
                    before[(first + i) * 3] * d.signum() as f32
                );
            }
        }
    }

    #[test]
    fn logit_is_finite_and_refuses_out_of_range() {
        assert_eq!(logit(0.5), Some(0.0));
        assert_eq!(logit(0.0), Some(-40.0));
        assert_eq!(logit(1.0), Some(40.0));
        assert!(logit(1.5).is_none() && logit(-0.1).is_none() && logit(f32::NAN).is_none());
    }
}
