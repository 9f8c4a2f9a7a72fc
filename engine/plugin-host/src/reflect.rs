//! Just enough SPIR-V reflection to validate a plugin's compute shader before a pipeline is
//! made from it: the `main` GLCompute entry point, its workgroup size, every descriptor
//! binding (set, binding, kind) and the size of the push-constant block.
//!
//! SPIR-V is a stream of words: a 5-word header, then instructions whose first word is
//! `(word count << 16) | opcode`. Only the declarations section is read.

use std::collections::HashMap;

const MAGIC: u32 = 0x0723_0203;

const OP_ENTRY_POINT: u32 = 15;
const OP_EXECUTION_MODE: u32 = 16;
const OP_TYPE_INT: u32 = 21;
const OP_TYPE_FLOAT: u32 = 22;
const OP_TYPE_VECTOR: u32 = 23;
const OP_TYPE_MATRIX: u32 = 24;
const OP_TYPE_ARRAY: u32 = 28;
const OP_TYPE_STRUCT: u32 = 30;
const OP_TYPE_POINTER: u32 = 32;
const OP_CONSTANT: u32 = 43;
const OP_VARIABLE: u32 = 59;
const OP_DECORATE: u32 = 71;
const OP_MEMBER_DECORATE: u32 = 72;

const EXEC_MODEL_GLCOMPUTE: u32 = 5;
const MODE_LOCAL_SIZE: u32 = 17;
const MODE_LOCAL_SIZE_ID: u32 = 38;

const DEC_BLOCK: u32 = 2;
const DEC_BUFFER_BLOCK: u32 = 3;
const DEC_ARRAY_STRIDE: u32 = 6;
const DEC_MATRIX_STRIDE: u32 = 7;
const DEC_BINDING: u32 = 33;
const DEC_DESCRIPTOR_SET: u32 = 34;
const DEC_OFFSET: u32 = 35;

const SC_UNIFORM_CONSTANT: u32 = 0;
const SC_UNIFORM: u32 = 2;
const SC_PUSH_CONSTANT: u32 = 9;
const SC_STORAGE_BUFFER: u32 = 12;

/// What kind of descriptor a binding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingKind {
    StorageBuffer,
    UniformBuffer,
    /// Images, samplers and anything else.
    Other,
}

/// One descriptor binding the shader declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    pub set: u32,
    pub binding: u32,
    pub kind: BindingKind,
}

/// What the shader declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reflection {
    /// A GLCompute entry point named `main` exists.
    pub has_compute_main: bool,
    /// `local_size_x/y/z` (1,1,1 when not declared with literals).
    pub local_size: [u32; 3],
    pub bindings: Vec<Binding>,
    /// Bytes of the push-constant block (0: none).
    pub push_constant_size: u32,
}

#[derive(Clone, Debug)]
enum Type {
    Scalar(u32),
    Vector(u32, u32),
    Matrix(u32, u32),
    Array(u32, u32),
    Struct(Vec<u32>),
    Pointer(u32),
}

/// Reflects SPIR-V words.
pub fn reflect(words: &[u32]) -> Result<Reflection, String> {
    if words.len() < 5 || words[0] != MAGIC {
        return Err("not SPIR-V (bad magic number)".into());
    }
    let mut out = Reflection {
        local_size: [1, 1, 1],
        ..Default::default()
    };
    let mut main_id = None;
    let mut modes: Vec<(u32, [u32; 3], bool)> = Vec::new();
    let mut types: HashMap<u32, Type> = HashMap::new();
    let mut constants: HashMap<u32, u32> = HashMap::new();
    let mut decorations: HashMap<(u32, u32), u32> = HashMap::new();
    let mut member_offsets: HashMap<(u32, u32), u32> = HashMap::new();
    let mut member_matrix_stride: HashMap<(u32, u32), u32> = HashMap::new();
    let mut variables: Vec<(u32, u32, u32)> = Vec::new(); // (id, pointer type, storage class)
    let mut i = 5;
    while i < words.len() {
        let count = (words[i] >> 16) as usize;
        let op = words[i] & 0xffff;
        if count == 0 || i + count > words.len() {
            return Err(format!("malformed instruction at word {i}"));
        }
        let w = &words[i + 1..i + count];
        let at = |k: usize| w.get(k).copied().unwrap_or(0);
        match op {
            OP_ENTRY_POINT if at(0) == EXEC_MODEL_GLCOMPUTE => {
                let name_bytes: Vec<u8> = w[2..]
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .take_while(|&b| b != 0)
                    .collect();
                if name_bytes == b"main" {
                    main_id = Some(at(1));
                }
            }
            OP_EXECUTION_MODE if at(1) == MODE_LOCAL_SIZE => {
                modes.push((at(0), [at(2), at(3), at(4)], false));
            }
            OP_EXECUTION_MODE if at(1) == MODE_LOCAL_SIZE_ID => {
                modes.push((at(0), [at(2), at(3), at(4)], true));
            }
            OP_TYPE_INT | OP_TYPE_FLOAT => {
                types.insert(at(0), Type::Scalar(at(1) / 8));
            }
            OP_TYPE_VECTOR => {
                types.insert(at(0), Type::Vector(at(1), at(2)));
            }
            OP_TYPE_MATRIX => {
                types.insert(at(0), Type::Matrix(at(1), at(2)));
            }
            OP_TYPE_ARRAY => {
                types.insert(at(0), Type::Array(at(1), at(2)));
            }
            OP_TYPE_STRUCT => {
                types.insert(at(0), Type::Struct(w[1..].to_vec()));
            }
            OP_TYPE_POINTER => {
                types.insert(at(0), Type::Pointer(at(2)));
            }
            OP_CONSTANT => {
                constants.insert(at(1), at(2));
            }
            OP_VARIABLE => variables.push((at(1), at(0), at(2))),
            OP_DECORATE => {
                decorations.insert((at(0), at(1)), at(2));
            }
            OP_MEMBER_DECORATE if at(2) == DEC_OFFSET => {
                member_offsets.insert((at(0), at(1)), at(3));
            }
            OP_MEMBER_DECORATE if at(2) == DEC_MATRIX_STRIDE => {
                member_matrix_stride.insert((at(0), at(1)), at(3));
            }
            _ => {}
        }
        i += count;
    }
    if let Some(main) = main_id {
        out.has_compute_main = true;
        if let Some((_, size, is_id)) = modes.iter().find(|m| m.0 == main) {
            out.local_size = if *is_id {
                size.map(|id| constants.get(&id).copied().unwrap_or(1))
            } else {
                *size
            };
        }
    }

    fn size_of(
        id: u32,
        types: &HashMap<u32, Type>,
        constants: &HashMap<u32, u32>,
        decorations: &HashMap<(u32, u32), u32>,
        offsets: &HashMap<(u32, u32), u32>,
        depth: u32,
    ) -> u32 {
        if depth > 16 {
            return 0;
        }
        let rec = |t| size_of(t, types, constants, decorations, offsets, depth + 1);
        match types.get(&id) {
            Some(Type::Scalar(b)) => *b,
            Some(Type::Vector(c, n)) => rec(*c) * n,
            Some(Type::Matrix(col, n)) => rec(*col) * n,
            Some(Type::Array(elem, len)) => {
                let n = constants.get(len).copied().unwrap_or(0);
                let stride = decorations
                    .get(&(id, DEC_ARRAY_STRIDE))
                    .copied()
                    .unwrap_or_else(|| rec(*elem));
                stride * n
            }
            Some(Type::Struct(members)) => members
                .iter()
                .enumerate()
                .map(|(m, t)| offsets.get(&(id, m as u32)).copied().unwrap_or(0) + rec(*t))
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }

    for (id, ptr, class) in variables {
        let pointee = match types.get(&ptr) {
            Some(Type::Pointer(t)) => *t,
            _ => continue,
        };
        if class == SC_PUSH_CONSTANT {
            out.push_constant_size = out.push_constant_size.max(size_of(
                pointee,
                &types,
                &constants,
                &decorations,
                &member_offsets,
                0,
            ));
            continue;
        }
        let binding = decorations.get(&(id, DEC_BINDING)).copied();
        let set = decorations.get(&(id, DEC_DESCRIPTOR_SET)).copied();
        let (Some(binding), set) = (binding, set) else {
            continue;
        };
        // Arrays of blocks: look through to the element type.
        let block = match types.get(&pointee) {
            Some(Type::Array(e, _)) => *e,
            _ => pointee,
        };
        let kind = match class {
            SC_STORAGE_BUFFER => BindingKind::StorageBuffer,
            SC_UNIFORM if decorations.contains_key(&(block, DEC_BUFFER_BLOCK)) => {
                BindingKind::StorageBuffer
            }
            SC_UNIFORM if decorations.contains_key(&(block, DEC_BLOCK)) => {
                BindingKind::UniformBuffer
            }
            SC_UNIFORM_CONSTANT => BindingKind::Other,
            _ => BindingKind::Other,
        };
        out.bindings.push(Binding {
            set: set.unwrap_or(0),
            binding,
            kind,
        });
    }
    let _ = member_matrix_stride;
    out.bindings.sort_by_key(|b| (b.set, b.binding));
    Ok(out)
}

/// Checks a plugin shader against the stage's rules: `main` GLCompute entry point; workgroup
/// of at most `VKSPLAT_MAX_WORKGROUP_INVOCATIONS` with y = z = 1; only storage buffers, all in
/// set 0, at bindings below `binding_count`; a push-constant block of exactly
/// `push_constant_size` bytes (or none when that is 0).
pub fn validate(r: &Reflection, binding_count: u32, push_constant_size: u32) -> Result<(), String> {
    use vksplat_abi::*;
    if !r.has_compute_main {
        return Err("no GLCompute entry point named 'main'".into());
    }
    let [x, y, z] = r.local_size;
    if x == 0 || y != 1 || z != 1 {
        return Err(format!(
            "workgroup size {x}x{y}x{z}: the stage dispatches along x only, so local_size_y and \
             local_size_z must be 1 and local_size_x at least 1"
        ));
    }
    if x > VKSPLAT_MAX_WORKGROUP_INVOCATIONS {
        return Err(format!(
            "workgroup size {x} exceeds {VKSPLAT_MAX_WORKGROUP_INVOCATIONS} invocations"
        ));
    }
    for b in &r.bindings {
        if b.set != 0 {
            return Err(format!(
                "binding {} is in descriptor set {}; everything must be in set 0",
                b.binding, b.set
            ));
        }
        if b.kind != BindingKind::StorageBuffer {
            return Err(format!(
                "binding {} is a {}; plugin stages bind storage buffers only",
                b.binding,
                if b.kind == BindingKind::UniformBuffer {
                    "uniform buffer"
                } else {
                    "image or sampler"
                }
            ));
        }
        if b.binding >= binding_count {
            return Err(format!(
                "declares binding {} but the stage has bindings 0..={} only (engine splat \
                 buffers 0..={}, then {} plugin buffer(s))",
                b.binding,
                binding_count - 1,
                VKSPLAT_FIRST_PLUGIN_BINDING - 1,
                binding_count - VKSPLAT_FIRST_PLUGIN_BINDING
            ));
        }
    }
    if r.push_constant_size != push_constant_size {
        return Err(format!(
            "declares a push-constant block of {} bytes but the plugin says {} bytes",
            r.push_constant_size, push_constant_size
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflects_an_engine_style_shader() {
        let src = r#"
#version 450
#include "variant.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Rest { float rest[]; };
layout(push_constant) uniform P { float shift; uint n; vec2 pad; mat4 m; } p;
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.n) return;
    means[3u * i] = rest[3u * i] + p.shift + p.m[0][0];
}
"#;
        let words = vksplat_core::shaders::compile_glsl(src, "t.comp").unwrap();
        let r = reflect(&words).unwrap();
        assert!(r.has_compute_main);
        assert_eq!(r.local_size, [64, 1, 1]);
        assert_eq!(r.push_constant_size, 80);
        // The compiler drops the engine buffers the shader does not use.
        let bindings: Vec<u32> = r.bindings.iter().map(|b| b.binding).collect();
        assert_eq!(bindings, [0, 9]);
        assert!(r
            .bindings
            .iter()
            .all(|b| b.kind == BindingKind::StorageBuffer));
        validate(&r, 10, 80).unwrap();
        let e = validate(&r, 9, 80).unwrap_err();
        assert!(e.contains("binding 9"), "{e}");
        let e = validate(&r, 10, 16).unwrap_err();
        assert!(e.contains("80 bytes"), "{e}");
        assert!(reflect(&[1, 2, 3]).is_err());
    }
}
