// Arrays reached through buffer device addresses (GL_EXT_buffer_reference) instead of
// descriptor bindings: the ones that can outgrow one storage-buffer binding (128 MiB on
// lavapipe) — SH coefficients, covariances, projected splats and the per-intersection lists.
// Their addresses travel in push constants (8 bytes each, u64 on the Rust side).
#ifndef VKSPLAT_BUFFERS_GLSL
#define VKSPLAT_BUFFERS_GLSL
#extension GL_EXT_buffer_reference : require
#include "projected.glsl"
layout(buffer_reference, std430, buffer_reference_align = 4) buffer FloatArray { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer UintArray { uint v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer Vec4Array { vec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer ProjectedArray {
    Projected v[];
};
#endif
