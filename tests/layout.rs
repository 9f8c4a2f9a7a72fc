//! Rust and the shaders agree on every shared layout, checked by reflecting the SPIR-V of
//! every engine kernel (no device needed): each push-constant block member for member (name,
//! offset, size, whether it is a buffer address) against its Rust mirror, each binding's
//! number and block against the kernel's Rust binding list, each workgroup size against what
//! the dispatches assume, and the structs shared through buffers (`Params`, `Projected`).
//! The constants (control slots, modes, binding numbers) are generated from Rust into
//! shaders/include (checked by a vksplat-core unit test), so they agree by construction.

use vksplat_core::gpu_layout::*;
use vksplat_core::shaders::{compile_glsl, KERNELS};
use vksplat_vk::spirv::{reflect, BindingKind, Member, Reflection};

/// A Rust field as the reflection reports a member: (name, offset, size, address).
fn rust_fields(fields: &[Field]) -> Vec<(String, u32, u32, bool)> {
    fields
        .iter()
        .map(|f| (f.name.to_string(), f.offset, f.size, f.address))
        .collect()
}

fn glsl_members(members: &[Member]) -> Vec<(String, u32, u32, bool)> {
    members
        .iter()
        .map(|m| (m.name.clone(), m.offset, m.size, m.address))
        .collect()
}

/// `log_scales` → `LogScales`: the block name a binding's GLSL declaration uses.
fn block_name(binding: &str) -> String {
    binding
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn reflected(name: &str) -> Reflection {
    let k = KERNELS.iter().find(|k| k.name == name).expect("kernel");
    reflect(&k.words()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_kernel_matches_its_rust_layout() {
    assert_eq!(KERNELS.len(), 31);
    for k in &KERNELS {
        let r = reflect(&k.words()).unwrap_or_else(|e| panic!("{}: {e}", k.name));
        assert!(r.has_compute_main, "{}", k.name);
        assert_eq!(r.local_size, k.local_size, "{}: workgroup size", k.name);

        // The push block, member for member, and its size.
        assert_eq!(
            glsl_members(&r.push_constants),
            rust_fields(k.push),
            "{}: push constants (name, offset, size, address)",
            k.name
        );
        assert_eq!(r.push_constant_size, k.push_size, "{}: push size", k.name);
        assert_eq!(r.other_address_source, None, "{}", k.name);

        // Bindings: storage buffers of set 0 (float texel buffers where the Rust struct's
        // TEXELS says), each at its Rust position. The compiler drops bindings a kernel does
        // not use (scan_blocks reads no input), never adds any.
        assert!(!r.bindings.is_empty(), "{}", k.name);
        for b in &r.bindings {
            let uints = k.uint_texel_bindings & (1 << b.binding) != 0;
            let texels = uints || k.texel_bindings & (1 << b.binding) != 0;
            let kind = match (texels, uints) {
                (_, true) => BindingKind::UintTexelBuffer,
                (true, _) => BindingKind::FloatTexelBuffer,
                _ => BindingKind::StorageBuffer,
            };
            assert_eq!(
                (b.set, b.kind),
                (0, kind),
                "{} binding {}",
                k.name,
                b.binding
            );
            let rust = k.bindings.get(b.binding as usize).unwrap_or_else(|| {
                panic!("{}: binding {} is beyond the Rust list", k.name, b.binding)
            });
            if texels {
                // A samplerBuffer has no block: the projected splats, three RGBA32F texels each
                // (blend_cpu.comp's texelFetch offsets), a static scene's array, or sort pairs.
                match *rust {
                    "projected" => assert_eq!(std::mem::size_of::<GpuProjected>(), 3 * 16),
                    "sh_r" | "sh_g" | "sh_b" | "means" | "rotations" | "log_scales"
                    | "opacity_logits" => assert_eq!(k.name, "preprocess_sh3_texels"),
                    "keys_in" | "vals_in" => assert!(k.name.ends_with("_cpu_texels"), "{}", k.name),
                    other => panic!("{}: texel binding '{other}'", k.name),
                }
                continue;
            }
            assert_eq!(
                b.block,
                block_name(rust),
                "{}: binding {} is '{rust}' in Rust",
                k.name,
                b.binding
            );
        }
    }
    // Every binding of every kernel is used by at least one of the kernels sharing its list
    // (a Rust buffer the shaders never read would be a stale entry).
    for k in &KERNELS {
        let used = KERNELS
            .iter()
            .filter(|o| o.bindings == k.bindings)
            .flat_map(|o| reflect(&o.words()).unwrap().bindings)
            .map(|b| b.binding)
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(
            used.into_iter().collect::<Vec<_>>(),
            (0..k.bindings.len() as u32).collect::<Vec<_>>(),
            "{}: bindings used",
            k.name
        );
    }
}

#[test]
fn structs_shared_through_buffers_match() {
    // Preprocess's per-frame parameters (binding PARAMS): the Rust mirror adds only padding.
    let r = reflected("preprocess");
    let params = r
        .binding(
            PreprocessBindings::NAMES
                .iter()
                .position(|n| *n == "params")
                .unwrap() as u32,
        )
        .expect("params binding");
    let mut rust = rust_fields(<PreprocessParams as GpuStruct>::FIELDS);
    let pad = rust.pop().expect("pad");
    assert_eq!(pad.0, "pad");
    assert_eq!(glsl_members(&params.members), rust);
    let glsl_size = params.members.last().map(|m| m.offset + m.size).unwrap();
    let rust_size = std::mem::size_of::<PreprocessParams>() as u32;
    assert_eq!(pad.1, glsl_size, "padding starts where the GLSL block ends");
    assert!(rust_size.is_multiple_of(16) && rust_size - glsl_size < 16);

    // `Projected`, reached by address in preprocess (written) and blend (read).
    for kernel in ["preprocess", "blend"] {
        let r = reflected(kernel);
        assert_eq!(
            glsl_members(&r.structs["Projected"]),
            rust_fields(<GpuProjected as GpuStruct>::FIELDS),
            "{kernel}: Projected"
        );
        let array = &r.structs["ProjectedArray"][0];
        assert_eq!(array.ty, "Projected[]");
        assert_eq!(
            array.array_stride as usize,
            std::mem::size_of::<GpuProjected>(),
            "{kernel}: Projected stride"
        );
    }
}

#[test]
fn variant_glsl_declares_the_scene_bindings_in_rust_order() {
    // A stage that touches every scene buffer, so none is compiled away.
    let src = r#"
#version 450
#include "variant.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Rest { float rest[]; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    float v = rest[i];
    means[i] = v; rotations[i] = vec4(v); log_scales[i] = v; opacity_logits[i] = v;
    sh_r[i] = v; sh_g[i] = v; sh_b[i] = v; covariances[i] = v; opacity_scale[i] = v;
}
"#;
    let r = reflect(&compile_glsl(src, "all_scene_buffers.comp").unwrap()).unwrap();
    let names: Vec<(u32, &str)> = r
        .bindings
        .iter()
        .map(|b| (b.binding, b.members[0].name.as_str()))
        .collect();
    let mut want: Vec<(u32, &str)> = SceneBindings::NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| (i as u32, *n))
        .collect();
    want.push((FIRST_PLUGIN_BINDING, "rest"));
    assert_eq!(names, want);
    // The plugin ABI promises the same first plugin binding.
    assert_eq!(
        FIRST_PLUGIN_BINDING,
        vksplat_abi::VKSPLAT_FIRST_PLUGIN_BINDING
    );
}

#[test]
fn a_kernel_that_drifts_from_rust_is_refused() {
    // Swap two push members: the checked constructor's reflection sees the addresses move.
    let k = KERNELS.iter().find(|k| k.name == "emit_keys").unwrap();
    let drifted = r#"
#version 450
#extension GL_EXT_buffer_reference : require
layout(buffer_reference, std430, buffer_reference_align = 4) buffer UintArray { uint v[]; };
layout(local_size_x = 256) in;
layout(push_constant) uniform Params { uint tiles_x; uint num_splats; UintArray tile_keys;
                                       UintArray values; } pc;
void main() { pc.tile_keys.v[pc.tiles_x] = pc.num_splats; pc.values.v[0] = 1u; }
"#;
    let r = reflect(&compile_glsl(drifted, "drifted.comp").unwrap()).unwrap();
    let addresses: Vec<u32> = k
        .push
        .iter()
        .filter(|f| f.address)
        .map(|f| f.offset)
        .collect();
    let iface = vksplat_vk::spirv::Interface {
        texel_bindings: 0,
        uint_texel_bindings: 0,
        bindings: k.bindings.len() as u32,
        push_constant_size: k.push_size,
        address_offsets: &addresses,
    };
    let err = vksplat_vk::spirv::check_interface(&r, &iface).unwrap_err();
    assert!(err.contains("[8, 16]") && err.contains("[0, 8]"), "{err}");
    assert_ne!(glsl_members(&r.push_constants), rust_fields(k.push));
}
