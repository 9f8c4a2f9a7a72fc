//! Just enough SPIR-V reflection to check a compute shader's interface before a pipeline is
//! made from it: the `main` GLCompute entry point, its workgroup size, every descriptor
//! binding (set, binding, kind, block members) and the push-constant block (members with
//! offsets, sizes and types), plus whether the module makes buffer addresses from anything
//! other than push-constant members.
//!
//! Used by [`crate::Context::create_checked_pipeline`] (the engine's kernels and plugin
//! shaders), by the plugin host's shader rules and by the kernel-layout test.
//!
//! SPIR-V is a stream of words: a 5-word header, then instructions whose first word is
//! `(word count << 16) | opcode`. Malformed input is an `Err`, never a panic.

use std::collections::{BTreeMap, HashMap};

const MAGIC: u32 = 0x0723_0203;

const OP_NAME: u32 = 5;
const OP_MEMBER_NAME: u32 = 6;
const OP_ENTRY_POINT: u32 = 15;
const OP_EXECUTION_MODE: u32 = 16;
const OP_TYPE_BOOL: u32 = 20;
const OP_TYPE_INT: u32 = 21;
const OP_TYPE_FLOAT: u32 = 22;
const OP_TYPE_VECTOR: u32 = 23;
const OP_TYPE_MATRIX: u32 = 24;
const OP_TYPE_IMAGE: u32 = 25;
const OP_TYPE_SAMPLED_IMAGE: u32 = 27;
const OP_TYPE_ARRAY: u32 = 28;
const OP_TYPE_RUNTIME_ARRAY: u32 = 29;
const OP_TYPE_STRUCT: u32 = 30;
const OP_TYPE_POINTER: u32 = 32;
const OP_CONSTANT: u32 = 43;
const OP_VARIABLE: u32 = 59;
const OP_DECORATE: u32 = 71;
const OP_MEMBER_DECORATE: u32 = 72;
const OP_CONVERT_U_TO_PTR: u32 = 120;
const OP_BITCAST: u32 = 124;
const OP_EXECUTION_MODE_ID: u32 = 331;

const EXEC_MODEL_GLCOMPUTE: u32 = 5;
const MODE_LOCAL_SIZE: u32 = 17;
const MODE_LOCAL_SIZE_ID: u32 = 38;

const DIM_BUFFER: u32 = 5;

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
const SC_PHYSICAL_STORAGE_BUFFER: u32 = 5349;

/// Nesting deeper than this is refused (a type graph cannot legally cycle, but malformed input
/// can).
const MAX_DEPTH: u32 = 16;

/// What kind of descriptor a binding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingKind {
    StorageBuffer,
    UniformBuffer,
    /// A `samplerBuffer`: a uniform texel buffer of 32-bit floats, read with `texelFetch`.
    FloatTexelBuffer,
    /// A `usamplerBuffer`: a uniform texel buffer of 32-bit unsigned integers.
    UintTexelBuffer,
    /// Images, samplers and anything else.
    Other,
}

/// One member of a block (a buffer binding's or the push constants'), as laid out in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's name from the module's debug information ("" when stripped).
    pub name: String,
    /// Byte offset in the block.
    pub offset: u32,
    /// Bytes the member occupies (0 for a runtime array).
    pub size: u32,
    /// GLSL-style type: `uint`, `vec4`, `mat3x4`, `float[]`, `uvec2[4]`, a struct's name, or
    /// `address of NAME` for a `buffer_reference` (a 64-bit device address).
    pub ty: String,
    /// Array stride in bytes for an array member, else 0.
    pub array_stride: u32,
    /// Whether the member holds a buffer device address.
    pub address: bool,
}

/// One descriptor binding the shader declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub set: u32,
    pub binding: u32,
    pub kind: BindingKind,
    /// The block's type name from the debug information ("" when stripped or not a block).
    pub block: String,
    /// The block's members in declaration order (empty for images and samplers).
    pub members: Vec<Member>,
}

/// What the shader declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reflection {
    /// A GLCompute entry point named `main` exists.
    pub has_compute_main: bool,
    /// `local_size_x/y/z` (1,1,1 when not declared).
    pub local_size: [u32; 3],
    /// Sorted by (set, binding).
    pub bindings: Vec<Binding>,
    /// Bytes of the push-constant block (0: none).
    pub push_constant_size: u32,
    /// Members of the push-constant block in declaration order (empty: none).
    pub push_constants: Vec<Member>,
    /// Every named struct laid out in memory (its members carry offsets), by name: the types
    /// inside buffers, including those reached by address.
    pub structs: BTreeMap<String, Vec<Member>>,
    /// Why the module can make a buffer address other than by reading a top-level member of
    /// its push-constant block (an integer converted to a pointer, or an address stored in a
    /// buffer or nested in a struct), if it can.
    pub other_address_source: Option<String>,
}

impl Reflection {
    /// Byte offsets of the push-constant members that hold buffer addresses.
    pub fn push_address_offsets(&self) -> Vec<u32> {
        self.push_constants
            .iter()
            .filter(|m| m.address)
            .map(|m| m.offset)
            .collect()
    }

    /// The binding `binding` of set 0, if declared.
    pub fn binding(&self, binding: u32) -> Option<&Binding> {
        self.bindings
            .iter()
            .find(|b| b.set == 0 && b.binding == binding)
    }
}

#[derive(Clone, Debug)]
enum Type {
    Bool,
    Int {
        bits: u32,
        signed: bool,
    },
    Float {
        bits: u32,
    },
    Vector(u32, u32),
    Matrix(u32, u32),
    /// Element type and the id of the length constant.
    Array(u32, u32),
    RuntimeArray(u32),
    Struct(Vec<u32>),
    /// Storage class and pointee.
    Pointer(u32, u32),
    /// Sampled type, dimensionality and the Sampled operand (1: used with a sampler).
    Image {
        sampled_type: u32,
        dim: u32,
        sampled: u32,
    },
    /// The image type a sampler is combined with.
    SampledImage(u32),
}

/// Everything the declarations section says, indexed for the queries below.
#[derive(Default)]
struct Module {
    types: HashMap<u32, Type>,
    constants: HashMap<u32, u32>,
    decorations: HashMap<(u32, u32), u32>,
    member_offsets: HashMap<(u32, u32), u32>,
    member_matrix_stride: HashMap<(u32, u32), u32>,
    names: HashMap<u32, String>,
    member_names: HashMap<(u32, u32), String>,
}

/// A NUL-terminated UTF-8 literal string packed into words.
fn literal_string(words: &[u32]) -> String {
    let bytes: Vec<u8> = words
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Module {
    fn is_address(&self, id: u32) -> bool {
        matches!(
            self.types.get(&id),
            Some(Type::Pointer(SC_PHYSICAL_STORAGE_BUFFER, _))
        )
    }

    /// Bytes a value of type `id` occupies in a block (0 for runtime arrays and unknown types).
    fn size_of(&self, id: u32, matrix_stride: Option<u32>, depth: u32) -> u32 {
        if depth > MAX_DEPTH {
            return 0;
        }
        match self.types.get(&id) {
            Some(Type::Bool) => 4,
            Some(Type::Int { bits, .. } | Type::Float { bits }) => bits / 8,
            Some(Type::Vector(c, n)) => self.size_of(*c, None, depth + 1).saturating_mul(*n),
            Some(Type::Matrix(col, n)) => matrix_stride
                .unwrap_or_else(|| self.size_of(*col, None, depth + 1))
                .saturating_mul(*n),
            Some(Type::Array(elem, len)) => {
                let n = self.constants.get(len).copied().unwrap_or(0);
                self.stride_of(id, *elem, depth).saturating_mul(n)
            }
            Some(Type::RuntimeArray(_)) => 0,
            Some(Type::Struct(members)) => members
                .iter()
                .enumerate()
                .map(|(m, t)| {
                    let key = (id, m as u32);
                    let offset = self.member_offsets.get(&key).copied().unwrap_or(0);
                    let stride = self.member_matrix_stride.get(&key).copied();
                    offset.saturating_add(self.size_of(*t, stride, depth + 1))
                })
                .max()
                .unwrap_or(0),
            Some(Type::Pointer(SC_PHYSICAL_STORAGE_BUFFER, _)) => 8,
            _ => 0,
        }
    }

    fn stride_of(&self, array: u32, elem: u32, depth: u32) -> u32 {
        self.decorations
            .get(&(array, DEC_ARRAY_STRIDE))
            .copied()
            .unwrap_or_else(|| self.size_of(elem, None, depth + 1))
    }

    /// A GLSL-style name of type `id`.
    fn describe(&self, id: u32, depth: u32) -> String {
        if depth > MAX_DEPTH {
            return "?".into();
        }
        match self.types.get(&id) {
            Some(Type::Bool) => "bool".into(),
            Some(Type::Int { bits: 32, signed }) => if *signed { "int" } else { "uint" }.into(),
            Some(Type::Int { bits, signed }) => {
                format!("{}int{bits}_t", if *signed { "" } else { "u" })
            }
            Some(Type::Float { bits: 32 }) => "float".into(),
            Some(Type::Float { bits: 64 }) => "double".into(),
            Some(Type::Float { bits }) => format!("float{bits}_t"),
            Some(Type::Vector(c, n)) => {
                let prefix = match self.types.get(c) {
                    Some(Type::Float { bits: 32 }) => "",
                    Some(Type::Float { bits: 64 }) => "d",
                    Some(Type::Int {
                        bits: 32,
                        signed: true,
                    }) => "i",
                    Some(Type::Int {
                        bits: 32,
                        signed: false,
                    }) => "u",
                    Some(Type::Bool) => "b",
                    _ => return format!("{}x{n}", self.describe(*c, depth + 1)),
                };
                format!("{prefix}vec{n}")
            }
            Some(Type::Matrix(col, cols)) => {
                let rows = match self.types.get(col) {
                    Some(Type::Vector(_, r)) => *r,
                    _ => 0,
                };
                format!("mat{cols}x{rows}")
            }
            Some(Type::Array(elem, len)) => {
                let n = self.constants.get(len).copied().unwrap_or(0);
                format!("{}[{n}]", self.describe(*elem, depth + 1))
            }
            Some(Type::RuntimeArray(elem)) => format!("{}[]", self.describe(*elem, depth + 1)),
            Some(Type::Struct(_)) => match self.names.get(&id) {
                Some(n) if !n.is_empty() => n.clone(),
                _ => "struct".into(),
            },
            Some(Type::Pointer(_, pointee)) => {
                format!("address of {}", self.describe(*pointee, depth + 1))
            }
            Some(Type::Image { .. }) => "image".into(),
            Some(Type::SampledImage(_)) => "sampler".into(),
            None => "?".into(),
        }
    }

    /// The members of struct `id`, laid out.
    fn members(&self, id: u32) -> Vec<Member> {
        let Some(Type::Struct(members)) = self.types.get(&id) else {
            return Vec::new();
        };
        members
            .iter()
            .enumerate()
            .map(|(m, &t)| {
                let key = (id, m as u32);
                let stride = self.member_matrix_stride.get(&key).copied();
                let array_stride = match self.types.get(&t) {
                    Some(Type::Array(elem, _) | Type::RuntimeArray(elem)) => {
                        self.stride_of(t, *elem, 0)
                    }
                    _ => 0,
                };
                Member {
                    name: self.member_names.get(&key).cloned().unwrap_or_default(),
                    offset: self.member_offsets.get(&key).copied().unwrap_or(0),
                    size: self.size_of(t, stride, 0),
                    ty: self.describe(t, 0),
                    array_stride,
                    address: self.is_address(t),
                }
            })
            .collect()
    }

    /// The kind of a `UniformConstant` variable of type `id`: a `samplerBuffer` or
    /// `usamplerBuffer` (a sampled buffer image of 32-bit floats or unsigned integers), else
    /// `Other`.
    fn texel_buffer_kind(&self, id: u32) -> BindingKind {
        let Some(Type::SampledImage(image)) = self.types.get(&id) else {
            return BindingKind::Other;
        };
        let Some(Type::Image {
            sampled_type,
            dim: DIM_BUFFER,
            sampled: 1,
        }) = self.types.get(image)
        else {
            return BindingKind::Other;
        };
        match self.types.get(sampled_type) {
            Some(Type::Float { bits: 32 }) => BindingKind::FloatTexelBuffer,
            Some(Type::Int {
                bits: 32,
                signed: false,
            }) => BindingKind::UintTexelBuffer,
            _ => BindingKind::Other,
        }
    }

    /// Whether type `id` holds a buffer address anywhere inside it.
    fn contains_address(&self, id: u32, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match self.types.get(&id) {
            Some(Type::Pointer(SC_PHYSICAL_STORAGE_BUFFER, _)) => true,
            Some(Type::Array(e, _) | Type::RuntimeArray(e)) => self.contains_address(*e, depth + 1),
            Some(Type::Struct(ms)) => ms.iter().any(|m| self.contains_address(*m, depth + 1)),
            _ => false,
        }
    }
}

/// The instructions of a module after its 5-word header, each as (opcode, operand words); an
/// `Err` for a stream that is not SPIR-V or whose instructions run past its end. Every walker of
/// SPIR-V in the workspace goes through this one.
pub fn instructions(words: &[u32]) -> Result<Vec<(u32, &[u32])>, String> {
    if words.len() < 5 || words[0] != MAGIC {
        return Err("not SPIR-V (bad magic number)".into());
    }
    let mut out = Vec::new();
    let mut i = 5;
    while i < words.len() {
        let count = (words[i] >> 16) as usize;
        let op = words[i] & 0xffff;
        if count == 0 || i + count > words.len() {
            return Err(format!("malformed instruction at word {i}"));
        }
        out.push((op, &words[i + 1..i + count]));
        i += count;
    }
    Ok(out)
}

/// Reflects SPIR-V words.
pub fn reflect(words: &[u32]) -> Result<Reflection, String> {
    let instructions = instructions(words)?;
    let mut out = Reflection {
        local_size: [1, 1, 1],
        ..Default::default()
    };
    let mut module = Module::default();
    let mut main_id = None;
    let mut modes: Vec<(u32, [u32; 3], bool)> = Vec::new();
    let mut variables: Vec<(u32, u32, u32)> = Vec::new(); // (id, pointer type, storage class)
                                                          // (result type, why) of instructions that may make an address from a non-address value.
    let mut conversions: Vec<(u32, &'static str)> = Vec::new();
    for (op, w) in instructions {
        let at = |k: usize| w.get(k).copied().unwrap_or(0);
        let tail = |k: usize| w.get(k..).unwrap_or(&[]);
        match op {
            OP_NAME => {
                module.names.insert(at(0), literal_string(tail(1)));
            }
            OP_MEMBER_NAME => {
                module
                    .member_names
                    .insert((at(0), at(1)), literal_string(tail(2)));
            }
            OP_ENTRY_POINT
                if at(0) == EXEC_MODEL_GLCOMPUTE && literal_string(tail(2)) == "main" =>
            {
                main_id = Some(at(1));
            }
            OP_EXECUTION_MODE if at(1) == MODE_LOCAL_SIZE => {
                modes.push((at(0), [at(2), at(3), at(4)], false));
            }
            OP_EXECUTION_MODE | OP_EXECUTION_MODE_ID if at(1) == MODE_LOCAL_SIZE_ID => {
                modes.push((at(0), [at(2), at(3), at(4)], true));
            }
            OP_TYPE_BOOL => {
                module.types.insert(at(0), Type::Bool);
            }
            OP_TYPE_INT => {
                let t = Type::Int {
                    bits: at(1),
                    signed: at(2) != 0,
                };
                module.types.insert(at(0), t);
            }
            OP_TYPE_FLOAT => {
                module.types.insert(at(0), Type::Float { bits: at(1) });
            }
            OP_TYPE_VECTOR => {
                module.types.insert(at(0), Type::Vector(at(1), at(2)));
            }
            OP_TYPE_MATRIX => {
                module.types.insert(at(0), Type::Matrix(at(1), at(2)));
            }
            OP_TYPE_IMAGE => {
                let t = Type::Image {
                    sampled_type: at(1),
                    dim: at(2),
                    sampled: at(6),
                };
                module.types.insert(at(0), t);
            }
            OP_TYPE_SAMPLED_IMAGE => {
                module.types.insert(at(0), Type::SampledImage(at(1)));
            }
            OP_TYPE_ARRAY => {
                module.types.insert(at(0), Type::Array(at(1), at(2)));
            }
            OP_TYPE_RUNTIME_ARRAY => {
                module.types.insert(at(0), Type::RuntimeArray(at(1)));
            }
            OP_TYPE_STRUCT => {
                module.types.insert(at(0), Type::Struct(tail(1).to_vec()));
            }
            OP_TYPE_POINTER => {
                module.types.insert(at(0), Type::Pointer(at(1), at(2)));
            }
            OP_CONSTANT => {
                module.constants.insert(at(1), at(2));
            }
            OP_VARIABLE => variables.push((at(1), at(0), at(2))),
            OP_DECORATE => {
                module.decorations.insert((at(0), at(1)), at(2));
            }
            OP_MEMBER_DECORATE if at(2) == DEC_OFFSET => {
                module.member_offsets.insert((at(0), at(1)), at(3));
            }
            OP_MEMBER_DECORATE if at(2) == DEC_MATRIX_STRIDE => {
                module.member_matrix_stride.insert((at(0), at(1)), at(3));
            }
            OP_CONVERT_U_TO_PTR => conversions.push((at(0), "converts an integer to a pointer")),
            OP_BITCAST => conversions.push((at(0), "bitcasts a value to a pointer")),
            _ => {}
        }
    }
    if let Some(main) = main_id {
        out.has_compute_main = true;
        if let Some((_, size, is_id)) = modes.iter().find(|m| m.0 == main) {
            out.local_size = if *is_id {
                size.map(|id| module.constants.get(&id).copied().unwrap_or(1))
            } else {
                *size
            };
        }
    }

    let mut push_block = None;
    for (id, ptr, class) in variables {
        let pointee = match module.types.get(&ptr) {
            Some(Type::Pointer(_, t)) => *t,
            _ => continue,
        };
        if class == SC_PUSH_CONSTANT {
            let size = module.size_of(pointee, None, 0);
            if size >= out.push_constant_size {
                out.push_constant_size = size;
                out.push_constants = module.members(pointee);
                push_block = Some(pointee);
            }
            continue;
        }
        let binding = module.decorations.get(&(id, DEC_BINDING)).copied();
        let set = module.decorations.get(&(id, DEC_DESCRIPTOR_SET)).copied();
        let (Some(binding), set) = (binding, set) else {
            continue;
        };
        // Arrays of blocks: look through to the element type.
        let block = match module.types.get(&pointee) {
            Some(Type::Array(e, _) | Type::RuntimeArray(e)) => *e,
            _ => pointee,
        };
        let kind = match class {
            SC_STORAGE_BUFFER => BindingKind::StorageBuffer,
            SC_UNIFORM if module.decorations.contains_key(&(block, DEC_BUFFER_BLOCK)) => {
                BindingKind::StorageBuffer
            }
            SC_UNIFORM if module.decorations.contains_key(&(block, DEC_BLOCK)) => {
                BindingKind::UniformBuffer
            }
            SC_UNIFORM_CONSTANT => module.texel_buffer_kind(block),
            _ => BindingKind::Other,
        };
        let is_block =
            matches!(module.types.get(&block), Some(Type::Struct(_))) && kind != BindingKind::Other;
        out.bindings.push(Binding {
            set: set.unwrap_or(0),
            binding,
            kind,
            block: if is_block {
                module.names.get(&block).cloned().unwrap_or_default()
            } else {
                String::new()
            },
            members: if is_block {
                module.members(block)
            } else {
                Vec::new()
            },
        });
    }
    out.bindings.sort_by_key(|b| (b.set, b.binding));
    for (id, t) in &module.types {
        let laid_out = match t {
            Type::Struct(ms) => {
                (0..ms.len() as u32).any(|m| module.member_offsets.contains_key(&(*id, m)))
            }
            _ => false,
        };
        if let Some(name) = module.names.get(id).filter(|n| laid_out && !n.is_empty()) {
            out.structs.insert(name.clone(), module.members(*id));
        }
    }

    // Addresses may only come from the push block's own top-level members.
    out.other_address_source = conversions
        .iter()
        .find(|(t, _)| module.is_address(*t))
        .map(|(_, why)| format!("the shader {why}"));
    if out.other_address_source.is_none() {
        let mut structs: Vec<u32> = module
            .types
            .iter()
            .filter_map(|(id, t)| match t {
                Type::Struct(ms) => Some((*id, ms)),
                _ => None,
            })
            .filter(|(id, ms)| {
                let own = Some(*id) == push_block;
                ms.iter().any(|m| {
                    if own {
                        !module.is_address(*m) && module.contains_address(*m, 0)
                    } else {
                        module.contains_address(*m, 0)
                    }
                })
            })
            .map(|(id, _)| id)
            .collect();
        structs.sort_unstable();
        if let Some(id) = structs.first() {
            out.other_address_source = Some(format!(
                "struct '{}' holds a buffer address outside the push constants' top level",
                module.describe(*id, 0)
            ));
        }
    }
    Ok(out)
}

/// What a pipeline's layout promises a shader: storage buffers at bindings `0..bindings` of
/// set 0 (those in `texel_bindings` are `samplerBuffer`s instead: the same buffers read as
/// RGBA32F texels; those in `uint_texel_bindings` `usamplerBuffer`s reading RGBA32UI), `push_constant_size` bytes of push constants, and buffer device addresses
/// at `address_offsets` within them (each filled from a live buffer at every dispatch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interface<'s> {
    pub bindings: u32,
    /// Bit b set: binding b is a float texel buffer ([`BindingKind::FloatTexelBuffer`]).
    pub texel_bindings: u32,
    /// Bit b set: binding b is an unsigned texel buffer ([`BindingKind::UintTexelBuffer`]).
    pub uint_texel_bindings: u32,
    pub push_constant_size: u32,
    pub address_offsets: &'s [u32],
}

/// Checks that a reflected shader fits `iface`: a `main` GLCompute entry point; storage
/// buffers only (texel buffers where `iface.texel_bindings` and `uint_texel_bindings` say), in
/// set 0, below
/// `iface.bindings`; a push block within
/// `iface.push_constant_size` bytes whose address members sit exactly at
/// `iface.address_offsets`; and no other way to make a buffer address.
pub fn check_interface(r: &Reflection, iface: &Interface) -> Result<(), String> {
    if !r.has_compute_main {
        return Err("no GLCompute entry point named 'main'".into());
    }
    for b in &r.bindings {
        let bit = |mask: u32| b.binding < 32 && mask & (1 << b.binding) != 0;
        let want = if bit(iface.texel_bindings) {
            BindingKind::FloatTexelBuffer
        } else if bit(iface.uint_texel_bindings) {
            BindingKind::UintTexelBuffer
        } else {
            BindingKind::StorageBuffer
        };
        if b.set != 0 || b.kind != want || b.binding >= iface.bindings {
            return Err(format!(
                "declares a {:?} at set {} binding {}, but the pipeline has storage buffers at \
                 bindings 0..{} of set 0 only (texel buffers at the bits of {:#b}, unsigned at \
                 {:#b})",
                b.kind,
                b.set,
                b.binding,
                iface.bindings,
                iface.texel_bindings,
                iface.uint_texel_bindings
            ));
        }
    }
    if r.push_constant_size > iface.push_constant_size {
        return Err(format!(
            "declares {} bytes of push constants, but the pipeline passes {}",
            r.push_constant_size, iface.push_constant_size
        ));
    }
    if let Some(why) = &r.other_address_source {
        return Err(format!(
            "{why}; buffer addresses may only be read from the push constants"
        ));
    }
    let mut declared = iface.address_offsets.to_vec();
    declared.sort_unstable();
    if r.push_address_offsets() != declared {
        return Err(format!(
            "reads buffer addresses at push-constant offsets {:?}, but the pipeline fills \
             addresses at {declared:?}",
            r.push_address_offsets()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends one instruction.
    fn op(out: &mut Vec<u32>, code: u32, operands: &[u32]) {
        out.push(((operands.len() as u32 + 1) << 16) | code);
        out.extend_from_slice(operands);
    }

    fn string(s: &str) -> Vec<u32> {
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        while !bytes.len().is_multiple_of(4) {
            bytes.push(0);
        }
        bytes
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    /// A hand-assembled module: `main` with local size 64x1x1; a push block `P { address of
    /// Arr a; uint n; vec4 v; }` and a storage buffer `Arr { float v[]; }` at binding 3.
    fn module(extra: impl Fn(&mut Vec<u32>)) -> Vec<u32> {
        let mut m = vec![MAGIC, 0x0001_0500, 0, 100, 0];
        let mut entry = vec![EXEC_MODEL_GLCOMPUTE, 1];
        entry.extend(string("main"));
        op(&mut m, OP_ENTRY_POINT, &entry);
        op(&mut m, OP_EXECUTION_MODE, &[1, MODE_LOCAL_SIZE, 64, 1, 1]);
        let mut name = vec![20];
        name.extend(string("P"));
        op(&mut m, OP_NAME, &name);
        let mut member = vec![20, 1];
        member.extend(string("n"));
        op(&mut m, OP_MEMBER_NAME, &member);
        op(&mut m, OP_TYPE_FLOAT, &[10, 32]);
        op(&mut m, OP_TYPE_INT, &[11, 32, 0]);
        op(&mut m, OP_TYPE_VECTOR, &[12, 10, 4]);
        op(&mut m, OP_TYPE_RUNTIME_ARRAY, &[13, 10]);
        op(&mut m, OP_DECORATE, &[13, DEC_ARRAY_STRIDE, 4]);
        op(&mut m, OP_TYPE_STRUCT, &[14, 13]); // Arr
        op(&mut m, OP_DECORATE, &[14, DEC_BLOCK]);
        op(&mut m, OP_MEMBER_DECORATE, &[14, 0, DEC_OFFSET, 0]);
        op(
            &mut m,
            OP_TYPE_POINTER,
            &[15, SC_PHYSICAL_STORAGE_BUFFER, 14],
        );
        op(&mut m, OP_TYPE_STRUCT, &[20, 15, 11, 12]); // P
        op(&mut m, OP_MEMBER_DECORATE, &[20, 0, DEC_OFFSET, 0]);
        op(&mut m, OP_MEMBER_DECORATE, &[20, 1, DEC_OFFSET, 8]);
        op(&mut m, OP_MEMBER_DECORATE, &[20, 2, DEC_OFFSET, 16]);
        op(&mut m, OP_TYPE_POINTER, &[21, SC_PUSH_CONSTANT, 20]);
        op(&mut m, OP_VARIABLE, &[21, 22, SC_PUSH_CONSTANT]);
        op(&mut m, OP_TYPE_POINTER, &[23, SC_STORAGE_BUFFER, 14]);
        op(&mut m, OP_VARIABLE, &[23, 24, SC_STORAGE_BUFFER]);
        op(&mut m, OP_DECORATE, &[24, DEC_BINDING, 3]);
        op(&mut m, OP_DECORATE, &[24, DEC_DESCRIPTOR_SET, 0]);
        extra(&mut m);
        m
    }

    #[test]
    fn reflects_push_members_bindings_and_addresses() {
        let r = reflect(&module(|_| {})).unwrap();
        assert!(r.has_compute_main);
        assert_eq!(r.local_size, [64, 1, 1]);
        assert_eq!(r.push_constant_size, 32);
        let pc: Vec<(&str, u32, u32, &str, bool)> = r
            .push_constants
            .iter()
            .map(|m| (m.name.as_str(), m.offset, m.size, m.ty.as_str(), m.address))
            .collect();
        assert_eq!(
            pc,
            [
                ("", 0, 8, "address of struct", true),
                ("n", 8, 4, "uint", false),
                ("", 16, 16, "vec4", false),
            ]
        );
        assert_eq!(r.push_address_offsets(), [0]);
        assert_eq!(r.bindings.len(), 1);
        let b = r.binding(3).unwrap();
        assert_eq!(b.kind, BindingKind::StorageBuffer);
        assert_eq!(b.members[0].ty, "float[]");
        assert_eq!((b.members[0].size, b.members[0].array_stride), (0, 4));
        assert_eq!(r.other_address_source, None);
        assert_eq!(r.structs.keys().collect::<Vec<_>>(), ["P"]);
        assert_eq!(r.structs["P"], r.push_constants);

        let ok = Interface {
            bindings: 4,
            texel_bindings: 0,
            uint_texel_bindings: 0,
            push_constant_size: 32,
            address_offsets: &[0],
        };
        check_interface(&r, &ok).unwrap();
        let e = check_interface(&r, &Interface { bindings: 3, ..ok }).unwrap_err();
        assert!(e.contains("binding 3"), "{e}");
        // A storage buffer where the layout has a texel buffer.
        let texels = Interface {
            texel_bindings: 1 << 3,
            ..ok
        };
        let e = check_interface(&r, &texels).unwrap_err();
        assert!(e.contains("StorageBuffer at set 0 binding 3"), "{e}");
        let e = check_interface(
            &r,
            &Interface {
                push_constant_size: 16,
                ..ok
            },
        )
        .unwrap_err();
        assert!(e.contains("32 bytes"), "{e}");
        let e = check_interface(
            &r,
            &Interface {
                address_offsets: &[],
                ..ok
            },
        )
        .unwrap_err();
        assert!(e.contains("offsets [0]"), "{e}");
    }

    #[test]
    fn addresses_from_elsewhere_are_reported() {
        // An integer converted to an address.
        let r = reflect(&module(|m| op(m, OP_CONVERT_U_TO_PTR, &[15, 30, 31]))).unwrap();
        assert!(r.other_address_source.unwrap().contains("integer"));
        // A converted integer that is not an address is fine.
        let r = reflect(&module(|m| op(m, OP_BITCAST, &[11, 30, 31]))).unwrap();
        assert_eq!(r.other_address_source, None);
        // An address stored inside a buffer's struct.
        let r = reflect(&module(|m| op(m, OP_TYPE_STRUCT, &[40, 11, 15]))).unwrap();
        let why = r.other_address_source.unwrap();
        assert!(why.contains("outside the push constants"), "{why}");
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(reflect(&[1, 2, 3]).is_err());
        let mut m = module(|_| {});
        m.push(0x0005_0000 | OP_TYPE_STRUCT); // claims 4 operands past the end
        assert!(reflect(&m).is_err());
        // Truncated operand lists read as zeros.
        let mut m = vec![MAGIC, 0x0001_0500, 0, 10, 0];
        for code in [
            OP_ENTRY_POINT,
            OP_NAME,
            OP_MEMBER_NAME,
            OP_TYPE_STRUCT,
            OP_DECORATE,
        ] {
            op(&mut m, code, &[]);
        }
        let r = reflect(&m).unwrap();
        assert!(!r.has_compute_main);
        // A self-referencing struct does not recurse forever.
        let mut m = vec![MAGIC, 0x0001_0500, 0, 10, 0];
        op(&mut m, OP_TYPE_STRUCT, &[5, 5]);
        op(&mut m, OP_TYPE_POINTER, &[6, SC_PUSH_CONSTANT, 5]);
        op(&mut m, OP_VARIABLE, &[6, 7, SC_PUSH_CONSTANT]);
        assert!(reflect(&m).is_ok());
    }
}
