//! The rules a plugin's compute shader must follow, checked on its reflection before a
//! pipeline is made from it. The SPIR-V reflection itself lives in `vksplat_vk::spirv`
//! (shared with the engine's kernels and their layout test).

pub use vksplat_vk::spirv::{reflect, Binding, BindingKind, Reflection};

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
