//! The rules a plugin's compute shader must follow, checked before a pipeline is made from it.
//!
//! [`check_stage`] runs, in order: the SPIRV-Tools validator (the module is well formed and
//! valid for Vulkan 1.2, block layouts included); the SPIR-V reflection of
//! `vksplat_vk::spirv` (shared with the engine's kernels and their layout test); [`accesses`],
//! which traces every load, store, atomic, copy and call back through access chains to the
//! binding it touches (a pointer passed to a function counts as read and written); and
//! [`validate`], the stage's rules. Every rule names the binding it is about, so a plugin
//! author sees which declaration to fix.

use std::collections::HashMap;

use vksplat_abi::*;

pub use vksplat_vk::spirv::{reflect, Binding, BindingKind, Reflection};

const OP_FUNCTION_CALL: u32 = 57;
const OP_VARIABLE: u32 = 59;
const OP_LOAD: u32 = 61;
const OP_STORE: u32 = 62;
const OP_COPY_MEMORY: u32 = 63;
const OP_COPY_MEMORY_SIZED: u32 = 64;
const OP_ACCESS_CHAIN: u32 = 65;
const OP_IN_BOUNDS_ACCESS_CHAIN: u32 = 66;
const OP_PTR_ACCESS_CHAIN: u32 = 67;
const OP_IN_BOUNDS_PTR_ACCESS_CHAIN: u32 = 70;
const OP_DECORATE: u32 = 71;
const OP_COPY_OBJECT: u32 = 83;
const OP_ATOMIC_LOAD: u32 = 227;
const OP_ATOMIC_STORE: u32 = 228;
/// OpAtomicExchange ..= OpAtomicXor: read and write the pointer in their third operand.
const OP_ATOMIC_RMW: std::ops::RangeInclusive<u32> = 229..=242;
const OP_ATOMIC_FLAG_TEST_AND_SET: u32 = 318;
const OP_ATOMIC_FLAG_CLEAR: u32 = 319;
const OP_ATOMIC_FMIN_EXT: u32 = 5614;
const OP_ATOMIC_FMAX_EXT: u32 = 5615;
const OP_ATOMIC_FADD_EXT: u32 = 6035;
const DEC_BINDING: u32 = 33;
const DEC_DESCRIPTOR_SET: u32 = 34;

/// How the shader's code uses one binding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Loads, atomics, copies from it, calls with a pointer into it.
    pub reads: bool,
    /// Stores, atomics, copies to it, calls with a pointer into it.
    pub writes: bool,
}

/// How the code uses each `(set, binding)`: every memory access is traced back through access
/// chains and copies to the variable it addresses. Fails only on a stream that is not SPIR-V
/// or whose instructions run past its end.
pub fn accesses(words: &[u32]) -> Result<HashMap<(u32, u32), Access>, String> {
    let instructions = vksplat_vk::spirv::instructions(words)?;
    let mut variables: HashMap<u32, Access> = HashMap::new();
    let mut decorations: HashMap<(u32, u32), u32> = HashMap::new();
    // Pointer id → the variable it was derived from.
    let mut root: HashMap<u32, u32> = HashMap::new();
    for (op, w) in instructions {
        let at = |k: usize| w.get(k).copied().unwrap_or(0);
        let root_of = |variables: &HashMap<u32, Access>, root: &HashMap<u32, u32>, p: u32| {
            if variables.contains_key(&p) {
                Some(p)
            } else {
                root.get(&p).copied()
            }
        };
        let mut touched: Vec<(u32, bool, bool)> = Vec::new();
        match op {
            OP_VARIABLE => {
                variables.insert(at(1), Access::default());
            }
            OP_DECORATE => {
                decorations.insert((at(0), at(1)), at(2));
            }
            OP_ACCESS_CHAIN
            | OP_IN_BOUNDS_ACCESS_CHAIN
            | OP_PTR_ACCESS_CHAIN
            | OP_IN_BOUNDS_PTR_ACCESS_CHAIN
            | OP_COPY_OBJECT => {
                if let Some(v) = root_of(&variables, &root, at(2)) {
                    root.insert(at(1), v);
                }
            }
            OP_LOAD | OP_ATOMIC_LOAD => touched.push((at(2), true, false)),
            OP_STORE | OP_ATOMIC_STORE | OP_ATOMIC_FLAG_CLEAR => touched.push((at(0), false, true)),
            OP_COPY_MEMORY | OP_COPY_MEMORY_SIZED => {
                touched.push((at(0), false, true));
                touched.push((at(1), true, false));
            }
            OP_ATOMIC_FLAG_TEST_AND_SET
            | OP_ATOMIC_FMIN_EXT
            | OP_ATOMIC_FMAX_EXT
            | OP_ATOMIC_FADD_EXT => touched.push((at(2), true, true)),
            op if OP_ATOMIC_RMW.contains(&op) => touched.push((at(2), true, true)),
            OP_FUNCTION_CALL => {
                for &arg in w.get(3..).unwrap_or(&[]) {
                    touched.push((arg, true, true));
                }
            }
            _ => {}
        }
        for (pointer, read, write) in touched {
            if let Some(v) = root_of(&variables, &root, pointer) {
                let a = variables.get_mut(&v).expect("roots are variables");
                a.reads |= read;
                a.writes |= write;
            }
        }
    }
    let mut out: HashMap<(u32, u32), Access> = HashMap::new();
    for (id, a) in variables {
        let Some(&binding) = decorations.get(&(id, DEC_BINDING)) else {
            continue;
        };
        let set = decorations
            .get(&(id, DEC_DESCRIPTOR_SET))
            .copied()
            .unwrap_or(0);
        let e = out.entry((set, binding)).or_default();
        e.reads |= a.reads;
        e.writes |= a.writes;
    }
    Ok(out)
}

/// One of the engine's splat buffers as a variant stage sees them: the declarations of
/// `shaders/include/variant.glsl`. A shader that declares one of these bindings must declare it
/// exactly like that (a runtime array of `element` with this stride as the block's only
/// member); the stage may write it only when the plugin declared `output` in its description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineBinding {
    /// The array's name in variant.glsl (`vksplat_core::gpu_layout::SceneBindings::NAMES`).
    pub name: &'static str,
    /// The block's type name in variant.glsl.
    pub block: &'static str,
    /// The element type, GLSL spelling.
    pub element: &'static str,
    /// Bytes between elements (std430).
    pub stride: u32,
    /// The `VKSPLAT_OUTPUT_*` bit that lets a stage write it.
    pub output: u32,
}

/// A `float` array of the scene.
const fn floats(name: &'static str, block: &'static str, output: u32) -> EngineBinding {
    EngineBinding {
        name,
        block,
        element: "float",
        stride: 4,
        output,
    }
}

/// The engine's bindings: entry `i` is binding `i` of set 0, for `i` below
/// `VKSPLAT_FIRST_PLUGIN_BINDING`. Tests check it against the scene's binding names in
/// `vksplat_core::gpu_layout` and against variant.glsl compiled and reflected.
pub const ENGINE_BINDINGS: [EngineBinding; VKSPLAT_FIRST_PLUGIN_BINDING as usize] = [
    floats("means", "VkspMeans", VKSPLAT_OUTPUT_MEANS),
    EngineBinding {
        name: "rotations",
        block: "VkspRotations",
        element: "vec4",
        stride: 16,
        output: VKSPLAT_OUTPUT_ROTATIONS,
    },
    floats("log_scales", "VkspLogScales", VKSPLAT_OUTPUT_LOG_SCALES),
    floats(
        "opacity_logits",
        "VkspOpacities",
        VKSPLAT_OUTPUT_OPACITY_LOGITS,
    ),
    floats("sh_r", "VkspShR", VKSPLAT_OUTPUT_SH),
    floats("sh_g", "VkspShG", VKSPLAT_OUTPUT_SH),
    floats("sh_b", "VkspShB", VKSPLAT_OUTPUT_SH),
    floats("covariances", "VkspCovariances", VKSPLAT_OUTPUT_COVARIANCES),
    floats(
        "opacity_scale",
        "VkspOpacityScale",
        VKSPLAT_OUTPUT_OPACITY_SCALE,
    ),
];

/// The `VKSPLAT_OUTPUT_*` name of an output bit, for messages.
pub fn output_name(bit: u32) -> &'static str {
    match bit {
        VKSPLAT_OUTPUT_MEANS => "VKSPLAT_OUTPUT_MEANS",
        VKSPLAT_OUTPUT_ROTATIONS => "VKSPLAT_OUTPUT_ROTATIONS",
        VKSPLAT_OUTPUT_LOG_SCALES => "VKSPLAT_OUTPUT_LOG_SCALES",
        VKSPLAT_OUTPUT_OPACITY_LOGITS => "VKSPLAT_OUTPUT_OPACITY_LOGITS",
        VKSPLAT_OUTPUT_SH => "VKSPLAT_OUTPUT_SH",
        VKSPLAT_OUTPUT_COVARIANCES => "VKSPLAT_OUTPUT_COVARIANCES",
        VKSPLAT_OUTPUT_OPACITY_SCALE => "VKSPLAT_OUTPUT_OPACITY_SCALE",
        _ => "an unknown output",
    }
}

/// What the engine binds for a plugin stage, to check a shader against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageSpec {
    /// Bytes of the plugin's static buffers, bound from `VKSPLAT_FIRST_PLUGIN_BINDING` on.
    pub static_buffers: Vec<u64>,
    /// Bytes of the frame buffer, bound after the static buffers (0: none).
    pub frame_buffer_size: u64,
    /// Bytes of push constants the plugin writes every frame (0: none).
    pub push_constant_size: u32,
    /// The `VKSPLAT_OUTPUT_*` bits the plugin declared: the engine buffers the stage may write.
    pub outputs: u32,
}

impl StageSpec {
    /// The spec of a plugin's `VksplatGpuStage`, with the outputs of its description.
    ///
    /// # Safety
    /// `stage.buffers` must point at `stage.buffer_count` descriptors (or be null when the
    /// count is 0), as the ABI requires until the next call on the instance.
    pub unsafe fn of(stage: &VksplatGpuStage, outputs: u32) -> StageSpec {
        let static_buffers = if stage.buffer_count == 0 || stage.buffers.is_null() {
            Vec::new()
        } else {
            // SAFETY: the caller's contract.
            unsafe { std::slice::from_raw_parts(stage.buffers, stage.buffer_count as usize) }
                .iter()
                .map(|b| b.size)
                .collect()
        };
        StageSpec {
            static_buffers,
            frame_buffer_size: stage.frame_buffer_size as u64,
            push_constant_size: stage.push_constant_size,
            outputs,
        }
    }

    /// Bindings the stage has: the engine's, the static buffers, the frame buffer.
    pub fn binding_count(&self) -> u32 {
        VKSPLAT_FIRST_PLUGIN_BINDING
            + self.static_buffers.len() as u32
            + u32::from(self.frame_buffer_size > 0)
    }

    /// The plugin buffer at `binding` (at least `VKSPLAT_FIRST_PLUGIN_BINDING`, below
    /// [`Self::binding_count`]): its name for messages and its size.
    fn plugin_buffer(&self, binding: u32) -> (String, u64) {
        let index = (binding - VKSPLAT_FIRST_PLUGIN_BINDING) as usize;
        match self.static_buffers.get(index) {
            Some(&size) => (format!("static buffer {index}"), size),
            None => ("frame buffer".to_string(), self.frame_buffer_size),
        }
    }
}

/// Validates `words` with SPIRV-Tools, reflects them and checks them against the stage's
/// rules ([`validate`]).
pub fn check_stage(words: &[u32], spec: &StageSpec) -> Result<Reflection, String> {
    vksplat_shaderc::validate_spirv(words).map_err(|e| e.0)?;
    let r = reflect(words)?;
    validate(&r, &accesses(words)?, spec)?;
    Ok(r)
}

/// "binding 9 (Rest)" or "binding 9".
fn label(b: &Binding) -> String {
    if b.block.is_empty() {
        format!("binding {}", b.binding)
    } else {
        format!("binding {} ({})", b.binding, b.block)
    }
}

/// Bytes a block needs without its runtime array: the smallest buffer it fits.
fn block_size(b: &Binding) -> u64 {
    b.members
        .iter()
        .map(|m| m.offset as u64 + m.size as u64)
        .max()
        .unwrap_or(0)
}

/// Checks a plugin shader against the stage's rules:
/// - a `main` GLCompute entry point; a workgroup of at most
///   `VKSPLAT_MAX_WORKGROUP_INVOCATIONS` with y = z = 1;
/// - only storage buffers, all in set 0, at bindings below the stage's binding count, each
///   declared by one variable only (two blocks on one binding alias each other);
/// - an engine binding (0..VKSPLAT_FIRST_PLUGIN_BINDING) declared exactly as variant.glsl does
///   it ([`ENGINE_BINDINGS`]: the element type and stride of its runtime array), written only
///   when the plugin declared its output, and never read when written (its contents are the
///   previous frame's output, so reading them would make a frame depend on the frames before);
/// - the plugin's own buffers read only (they are the stage's inputs), each no smaller than its
///   block;
/// - a push-constant block of exactly the plugin's size (or none when that is 0).
pub fn validate(
    r: &Reflection,
    accesses: &HashMap<(u32, u32), Access>,
    spec: &StageSpec,
) -> Result<(), String> {
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
    // Aliases first: a second block on a binding explains the other rules' failures there.
    for (n, b) in r.bindings.iter().enumerate() {
        if let Some(other) = r.bindings[..n]
            .iter()
            .find(|o| (o.set, o.binding) == (b.set, b.binding))
        {
            return Err(format!(
                "binding {} is declared twice ({} and {}): the two blocks alias one buffer; \
                 the plugin's own buffers start at VKSPLAT_FIRST_PLUGIN_BINDING ({})",
                b.binding,
                block_name(other),
                block_name(b),
                VKSPLAT_FIRST_PLUGIN_BINDING
            ));
        }
    }
    let binding_count = spec.binding_count();
    for b in &r.bindings {
        let label = label(b);
        if b.set != 0 {
            return Err(format!(
                "{label} is in descriptor set {}; everything must be in set 0",
                b.set
            ));
        }
        if b.kind != BindingKind::StorageBuffer {
            return Err(format!(
                "{label} is a {}; plugin stages bind storage buffers only",
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
        let access = accesses
            .get(&(b.set, b.binding))
            .copied()
            .unwrap_or_default();
        if let Some(e) = ENGINE_BINDINGS.get(b.binding as usize) {
            check_engine_binding(b, access, e, spec.outputs)?;
        } else {
            let (what, size) = spec.plugin_buffer(b.binding);
            if access.writes {
                return Err(format!(
                    "{label} is written, but it is the plugin's {what}, an input of the stage: \
                     a stage writes only the engine's splat buffers of its declared outputs \
                     (declare it readonly)"
                ));
            }
            let need = block_size(b);
            if need > size {
                return Err(format!(
                    "{label} declares a {need}-byte block but the plugin's {what} has {size} bytes"
                ));
            }
        }
    }
    if r.push_constant_size != spec.push_constant_size {
        return Err(format!(
            "declares a push-constant block of {} bytes but the plugin says {} bytes",
            r.push_constant_size, spec.push_constant_size
        ));
    }
    Ok(())
}

fn block_name(b: &Binding) -> String {
    if b.block.is_empty() {
        "an unnamed block".to_string()
    } else {
        b.block.clone()
    }
}

/// An engine binding must be declared as variant.glsl declares it, written only when the
/// plugin declared the output, and not read when written.
fn check_engine_binding(
    b: &Binding,
    access: Access,
    e: &EngineBinding,
    outputs: u32,
) -> Result<(), String> {
    let label = label(b);
    let engine = format!(
        "the engine's binding {} is `{} {}[]` (stride {}, the block's only member; \
         #include \"variant.glsl\" instead of redeclaring it)",
        b.binding, e.element, e.name, e.stride
    );
    let runtime = format!("{}[]", e.element);
    let declared = match b.members.as_slice() {
        [m] if m.offset == 0 && m.ty == runtime && m.array_stride == e.stride => None,
        [m] => Some(format!(
            "`{}` at offset {} (stride {})",
            m.ty, m.offset, m.array_stride
        )),
        members => Some(format!("a block of {} members", members.len())),
    };
    if let Some(declared) = declared {
        return Err(format!("{label} is declared as {declared}, but {engine}"));
    }
    if access.writes && outputs & e.output == 0 {
        return Err(format!(
            "{label}, the engine's `{}`, is written, but the plugin's description does not \
             declare {}; declare the output or do not write the buffer",
            e.name,
            output_name(e.output)
        ));
    }
    if access.writes && access.reads {
        return Err(format!(
            "{label}, the engine's `{}`, is read and written: it holds the previous frame's \
             output, so the frame would depend on the frames rendered before it (a farm \
             renders frames in any order); compute every frame from the plugin's own buffers \
             and the frame input",
            e.name
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(src: &str) -> Vec<u32> {
        vksplat_core::shaders::compile_glsl(src, "t.comp").unwrap()
    }

    fn spec(static_buffers: &[u64], push: u32, outputs: u32) -> StageSpec {
        StageSpec {
            static_buffers: static_buffers.to_vec(),
            frame_buffer_size: 0,
            push_constant_size: push,
            outputs,
        }
    }

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
        let words = compile(src);
        let r = reflect(&words).unwrap();
        assert!(r.has_compute_main);
        assert_eq!(r.local_size, [64, 1, 1]);
        assert_eq!(r.push_constant_size, 80);
        // The compiler drops the engine buffers the shader does not use.
        let bindings: Vec<u32> = r.bindings.iter().map(|b| b.binding).collect();
        assert_eq!(bindings, [0, 9]);
        let a = accesses(&words).unwrap();
        assert_eq!(
            (a[&(0, 0)], a[&(0, 9)]),
            (
                Access {
                    reads: false,
                    writes: true
                },
                Access {
                    reads: true,
                    writes: false
                }
            )
        );
        assert_eq!(r.bindings[1].block, "Rest");
        assert_eq!(block_size(&r.bindings[1]), 0, "a runtime array only");
        let check = |spec: &StageSpec| validate(&r, &a, spec);
        check(&spec(&[12], 80, VKSPLAT_OUTPUT_MEANS)).unwrap();
        let e = check(&spec(&[], 80, VKSPLAT_OUTPUT_MEANS)).unwrap_err();
        assert!(e.contains("binding 9"), "{e}");
        let e = check(&spec(&[12], 16, VKSPLAT_OUTPUT_MEANS)).unwrap_err();
        assert!(e.contains("80 bytes"), "{e}");
        // Writing means without declaring the output.
        let e = check(&spec(&[12], 80, VKSPLAT_OUTPUT_ROTATIONS)).unwrap_err();
        assert!(
            e.contains("binding 0 (VkspMeans)") && e.contains("VKSPLAT_OUTPUT_MEANS"),
            "{e}"
        );
        assert!(accesses(&[1, 2, 3]).is_err());
    }

    #[test]
    fn engine_bindings_match_variant_glsl() {
        // A shader that touches every engine buffer keeps every declaration.
        let src = r#"
#version 450
#include "variant.glsl"
layout(local_size_x = 1) in;
void main() {
    means[0] = 1.0; rotations[0] = vec4(1.0); log_scales[0] = 1.0; opacity_logits[0] = 1.0;
    sh_r[0] = 1.0; sh_g[0] = 1.0; sh_b[0] = 1.0; covariances[0] = 1.0; opacity_scale[0] = 1.0;
}
"#;
        let words = compile(src);
        let r = reflect(&words).unwrap();
        let a = accesses(&words).unwrap();
        assert_eq!(r.bindings.len(), ENGINE_BINDINGS.len());
        let names: Vec<&str> = ENGINE_BINDINGS.iter().map(|e| e.name).collect();
        assert_eq!(names, vksplat_core::gpu_layout::SceneBindings::NAMES);
        for (i, (b, e)) in r.bindings.iter().zip(ENGINE_BINDINGS).enumerate() {
            assert_eq!(b.binding, i as u32);
            assert_eq!(b.block, e.block);
            assert_eq!(b.members.len(), 1, "{e:?}");
            let m = &b.members[0];
            assert_eq!(m.name, e.name);
            assert_eq!(m.offset, 0);
            assert_eq!(m.ty, format!("{}[]", e.element));
            assert_eq!(m.array_stride, e.stride);
            assert_eq!(
                a[&(0, b.binding)],
                Access {
                    reads: false,
                    writes: true
                }
            );
        }
        validate(&r, &a, &spec(&[], 0, VKSPLAT_OUTPUT_ALL)).unwrap();
        // FIRST_PLUGIN_BINDING in the GLSL is the ABI's.
        let src = "#version 450\n#include \"variant.glsl\"\nlayout(local_size_x = 1) in;\n\
                   layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) buffer X { float x[]; };\n\
                   void main() { x[0] = 1.0; }\n";
        let r = reflect(&compile(src)).unwrap();
        assert_eq!(r.bindings[0].binding, VKSPLAT_FIRST_PLUGIN_BINDING);
    }

    /// `(shader body declarations, main body, spec, expected text)` cases that must fail.
    #[test]
    fn rejects_what_breaks_the_stage_rules() {
        let cases: &[(&str, &str, StageSpec, &str)] = &[
            // A rest pose declared at binding 0 aliases means: reading it reads last frame's
            // means (positions accumulate frame after frame).
            (
                "layout(std430, binding = 0) readonly buffer Rest { vec4 rest[]; };",
                "means[3u * i] = rest[i].x + 0.1;",
                spec(&[], 0, VKSPLAT_OUTPUT_MEANS),
                "binding 0 is declared twice (VkspMeans and Rest)",
            ),
            // The same mistake without variant.glsl's declaration: the wrong element type.
            (
                "layout(std430, binding = 0) buffer Pos { vec3 pos[]; };",
                "pos[i] += vec3(0.1);",
                spec(&[], 0, VKSPLAT_OUTPUT_MEANS),
                "binding 0 (Pos) is declared as `vec3[]` at offset 0 (stride 16), but the \
                 engine's binding 0 is `float means[]` (stride 4",
            ),
            // Right type, read-modify-write: accumulates.
            (
                "",
                "means[3u * i] += 0.1;",
                spec(&[], 0, VKSPLAT_OUTPUT_MEANS),
                "binding 0 (VkspMeans), the engine's `means`, is read and written",
            ),
            // Writing a buffer the plugin did not declare as an output.
            (
                "",
                "covariances[6u * i] = 1.0;",
                spec(&[], 0, VKSPLAT_OUTPUT_MEANS),
                "does not declare VKSPLAT_OUTPUT_COVARIANCES",
            ),
            // Rotations redeclared with floats: stride 4 instead of 16.
            (
                "layout(std430, binding = 1) buffer R { float rot[]; };",
                "rot[4u * i] = 1.0;",
                spec(&[], 0, VKSPLAT_OUTPUT_ROTATIONS),
                "engine's binding 1 is `vec4 rotations[]` (stride 16",
            ),
            // A header member before the array shifts every element.
            (
                "layout(std430, binding = 2) buffer L { vec4 header; float ls[]; };",
                "ls[i] = header.x;",
                spec(&[], 0, VKSPLAT_OUTPUT_LOG_SCALES),
                "binding 2 (L) is declared as a block of 2 members",
            ),
            // The plugin's own buffers are inputs.
            (
                "layout(std430, binding = 9) buffer Rest { float rest[]; };",
                "rest[i] += 1.0; means[3u * i] = rest[i];",
                spec(&[256], 0, VKSPLAT_OUTPUT_MEANS),
                "binding 9 (Rest) is written, but it is the plugin's static buffer 0",
            ),
            // A fixed-size block larger than the buffer behind it.
            (
                "layout(std430, binding = 9) readonly buffer Bones { mat4 bones[4]; };",
                "means[3u * i] = bones[3][0][0];",
                spec(&[128], 0, VKSPLAT_OUTPUT_MEANS),
                "binding 9 (Bones) declares a 256-byte block but the plugin's static buffer 0 \
                 has 128 bytes",
            ),
            // The frame buffer comes after the static buffers.
            (
                "layout(std430, binding = 10) readonly buffer Bones { mat4 bones[4]; };",
                "means[3u * i] = bones[3][0][0];",
                StageSpec {
                    frame_buffer_size: 128,
                    ..spec(&[64], 0, VKSPLAT_OUTPUT_MEANS)
                },
                "binding 10 (Bones) declares a 256-byte block but the plugin's frame buffer \
                 has 128 bytes",
            ),
        ];
        for (decls, body, spec, want) in cases {
            let src = format!(
                "#version 450\n#include \"variant.glsl\"\nlayout(local_size_x = 64) in;\n{decls}\n\
                 void main() {{ uint i = gl_GlobalInvocationID.x; {body} }}\n"
            );
            let words = compile(&src);
            let err = check_stage(&words, spec).expect_err(want);
            assert!(err.contains(want), "expected '{want}' in: {err}");
        }
        // The same shaders' correct forms pass.
        let ok = [
            (
                "layout(std430, binding = 9) readonly buffer Rest { vec4 rest[]; };",
                "means[3u * i] = rest[i].x + 0.1;",
                spec(&[1024], 0, VKSPLAT_OUTPUT_MEANS),
            ),
            (
                "layout(std430, binding = 9) readonly buffer Bones { mat4 bones[2]; };",
                "means[3u * i] = bones[1][0][0]; opacity_scale[i] = opacity_logits[i];",
                spec(
                    &[128],
                    0,
                    VKSPLAT_OUTPUT_MEANS | VKSPLAT_OUTPUT_OPACITY_SCALE,
                ),
            ),
        ];
        for (decls, body, spec) in ok {
            let src = format!(
                "#version 450\n#include \"variant.glsl\"\nlayout(local_size_x = 64) in;\n{decls}\n\
                 void main() {{ uint i = gl_GlobalInvocationID.x; {body} }}\n"
            );
            check_stage(&compile(&src), &spec).unwrap();
        }
    }

    #[test]
    fn invalid_spirv_is_refused_by_the_validator() {
        let src = "#version 450\n#include \"variant.glsl\"\nlayout(local_size_x = 64) in;\n\
                   void main() { means[gl_GlobalInvocationID.x] = 1.0; }\n";
        let mut words = compile(src);
        // Give means' runtime array an ArrayStride of 2 (OpDecorate %id ArrayStride 4 → 2): a
        // float array with that stride breaks the block layout rules. Reflection alone would
        // take the module; the validator refuses it.
        let mut i = 5;
        while i < words.len() {
            let (count, op) = ((words[i] >> 16) as usize, words[i] & 0xffff);
            if op == OP_DECORATE && count == 4 && words[i + 2] == 6 && words[i + 3] == 4 {
                words[i + 3] = 2;
            }
            i += count;
        }
        assert!(reflect(&words).is_ok());
        let err = check_stage(&words, &spec(&[], 0, VKSPLAT_OUTPUT_MEANS)).unwrap_err();
        assert!(err.starts_with("invalid SPIR-V"), "{err}");
    }
}
